/*
 * The pipeline around the parsers: a source (here the file reader) filters packets and dispatches
 * them to decoder workers; each worker decodes and tracks flows; ended flows go to the record sink.
 */
#ifndef RINGCAP_ENGINE_H
#define RINGCAP_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ringcap/counters.h"
#include "ringcap/filter.h"
#include "ringcap/flow.h"
#include "ringcap/http.h"
#include "ringcap/pcapio.h"
#include "ringcap/reasm.h"
#include "ringcap/ring.h"

/* Where ended flows go: JSON lines to a stream (or nowhere), counted by conn_state. */
struct rc_record_sink {
	FILE *out; /* NULL: records are counted, not written */
	struct rc_ctrs *ctrs;
	uint64_t by_state[16]; /* index: rc_record_state_index() */
	uint64_t by_end[8];    /* index: enum rc_flow_end */
	int write_errno;       /* first write error, 0 when none */
};

/* Name of state slot i of by_state ("" past the last one). */
const char *rc_record_state_name(int i);

/* The rc_flow_emit_fn for a sink (arg is the struct rc_record_sink). */
void rc_record_sink_emit(void *arg, const struct rc_flow_record *rec);

/*
 * --streams DIR: every reassembled direction in its own file, "<start>-<uid>-<orig_h>.<orig_p>-
 * <resp_h>.<resp_p>.orig" (or ".resp"), holes left out and listed in a ".gaps" side file. At most
 * max_open files are open at once (the least recently written is closed and later reopened for
 * append). Errors are counted (streams.errors), never fatal. One per worker; owner thread.
 */
struct rc_streams;
struct rc_stream_conn;
int rc_streams_new(struct rc_streams **out, const char *dir, unsigned max_open,
		   struct rc_ctrs *ctrs);
void rc_streams_free(struct rc_streams *s); /* after every connection is closed */
/* A connection's files (created on first data); NULL (counted) when out of memory. */
struct rc_stream_conn *rc_streams_open(struct rc_streams *s, const struct rc_flow_record *meta);
void rc_streams_data(struct rc_stream_conn *c, int dir, const uint8_t *p, uint32_t len);
void rc_streams_gap(struct rc_stream_conn *c, int dir, uint64_t off, uint64_t len);
void rc_streams_close(struct rc_stream_conn *c); /* NULL is allowed */

/* What a worker does with TCP payload: reassemble it, and where the streams go. */
struct rc_app_config {
	bool reassemble; /* also implied by streams_dir and http_out */
	struct rc_reasm_config reasm;
	const char *streams_dir;    /* NULL: no stream files */
	FILE *http_out;		    /* HTTP requests as JSON lines; NULL: no HTTP parsing */
	const uint16_t *http_ports; /* responder ports to parse HTTP on; none: every port */
	size_t http_nports;
	const char *http_bodies_dir; /* NULL, or where request bodies go */
};

/* A decoder worker: owns its counters, its flow table and its reassembler. One thread drives it. */
struct rc_worker {
	struct rc_ctrs ctrs;
	struct rc_flow_table *flows;
	struct rc_reasm *reasm;	    /* NULL: no reassembly */
	struct rc_streams *streams; /* NULL: no stream files */
	struct rc_http *http;	    /* NULL: no HTTP parsing */
};

/* Set up a worker whose flows go to emit(arg, ...). Returns 0 or a negative errno. */
int rc_worker_init(struct rc_worker *w, const struct rc_flow_config *cfg, rc_flow_emit_fn emit,
		   void *arg);

/*
 * Reassemble the worker's TCP flows (after rc_worker_init, before the first packet), writing
 * streams if app->streams_dir. 0 or a negative errno (-EINVAL: a reassembly setting it cannot
 * honour).
 */
int rc_worker_enable_app(struct rc_worker *w, const struct rc_app_config *app);

/* Decode one packet and account it to its flow. Every packet bumps exactly one decode outcome. */
void rc_worker_process(struct rc_worker *w, const struct rc_packet *pkt);

/*
 * The same for n (<= RC_WORKER_BATCH) packets in order, with the same results as n calls of
 * rc_worker_process, faster: the flow table's memory is fetched for all of them at once. Every
 * packet's data must stay valid until the call returns.
 */
#define RC_WORKER_BATCH 16
void rc_worker_process_batch(struct rc_worker *w, const struct rc_packet *pkts, int n);

/* End of input: emit every live flow. */
void rc_worker_finish(struct rc_worker *w);

void rc_worker_destroy(struct rc_worker *w);

/* How an offline run ended, worst first wins: also ringcap's exit code. */
enum rc_exit {
	RC_EXIT_OK = 0,
	RC_EXIT_OPEN = 1,    /* an input could not be opened or is not a capture ringcap reads */
	RC_EXIT_USAGE = 2,   /* bad command line or bad filter */
	RC_EXIT_DAMAGED = 3, /* an input is damaged: stopped at an offset, packets before it kept */
	RC_EXIT_OUTPUT = 4,  /* an output could not be written */
};

struct rc_offline {
	const char *const *files;
	int nfiles;
	struct rc_reader_options reader;
	struct rc_filter *filter; /* NULL: every packet passes */
	uint32_t snaplen;	  /* 0: keep what the file has */
	volatile sig_atomic_t *stop;
	void (*progress)(void *arg, const struct rc_ctrs *src); /* called about once a second */
	void *progress_arg;
	const char *formats[4]; /* formats seen ("pcap", "pcapng") for the summary */
};

/*
 * Read every file in order, filter, and hand each accepted packet to the worker. Messages for
 * inputs that fail go to stderr prefixed "ringcap: ". Returns the worst rc_exit met; reading goes
 * on with the next file after a file that fails. src counts reading and filtering.
 */
enum rc_exit rc_offline_run(struct rc_offline *o, struct rc_worker *w, struct rc_ctrs *src);

/* Live capture: rings → capture threads → SPSC queues → decoder threads → record sinks. */
#define RC_MAX_RINGS	64
#define RC_MAX_DECODERS 64

struct rc_live_config {
	int nrings, ndecoders;
	int cpus[RC_MAX_RINGS];	    /* capture thread i is pinned to cpus[i] */
	struct rc_ring_config ring; /* template: ifname, geometry, fanout, promisc, snaplen */
	struct rc_filter *filter;   /* NULL: every frame */
	size_t queue_bytes;	    /* per (ring, decoder) queue */
	bool copy_frames;	    /* copy every frame into the queues; never hold ring blocks */
	uint32_t decoder_delay_us;  /* tests only: decoders pause this long after each batch */
	struct rc_flow_config flow;
	struct rc_app_config app; /* TCP reassembly and stream files, per decoder */
	FILE *flows_out;	  /* NULL: flow records counted, not written */
	/* Writers, owned by the caller (opened before rc_live_start, closed after rc_live_stop),
	 * producer index = ring index. */
	struct rc_pcapw *disk;	   /* -w: every captured packet; NULL: none */
	struct rc_pcapw *overflow; /* --overflow: packets whose decoder's queue is full (else
				      lost, queue.full) */
	bool flow_views;	   /* decoders publish their busiest flows (rc_live_flows) */
};

/* Flows each decoder's view holds at most (see rc_live_flows). */
#define RC_LIVE_TOP_FLOWS 1000

struct rc_pcapw;
struct rc_live;

/*
 * Open every ring (filter attached before bind, one fanout group), create the queues, start the
 * decoder and capture threads. On failure nothing is left running and err says what and why.
 * Returns 0 or a negative errno.
 */
int rc_live_start(struct rc_live **out, const struct rc_live_config *cfg, char *err, size_t errlen);

/* Geometry of ring 0 as set up, for the start-up log line. */
const char *rc_live_describe(const struct rc_live *l);

/* Sum every thread's counters into *total (any time, from the main thread; lock-free). */
void rc_live_totals(const struct rc_live *l, struct rc_ctrs *total);

/*
 * Stop: keep new frames out of the rings, walk what they still hold, let the decoders empty
 * their queues and flush their flows, join every thread. Counters are final afterwards.
 */
void rc_live_stop(struct rc_live *l);

/* Interface drops since start (rx_missed_errors + rx_fifo_errors), or -1 when unavailable. */
int64_t rc_live_ifdropped(const struct rc_live *l);

/* errno of the last socket error a ring reported (ENETDOWN ...), 0 when none. Any thread. */
int rc_live_last_error(const struct rc_live *l);

/* Per-ring and per-decoder detail (after rc_live_stop, or approximate before). */
int rc_live_nrings(const struct rc_live *l);
int rc_live_ndecoders(const struct rc_live *l);
const struct rc_ctrs *rc_live_ring_ctrs(const struct rc_live *l, int i);
const struct rc_ctrs *rc_live_decoder_ctrs(const struct rc_live *l, int i);
const struct rc_record_sink *rc_live_decoder_sink(const struct rc_live *l, int i);

/* The queue from ring `ring` to decoder `decoder`: packets enqueued and lost to a full queue,
 * bytes in use now and its capacity. Any thread, lock-free. */
void rc_live_queue_stats(const struct rc_live *l, int ring, int decoder, uint64_t *enqueued,
			 uint64_t *full, size_t *used, size_t *capacity);

/*
 * The n live flows with the most wire bytes, as a JSON array of flow records, from the views the
 * decoders publish once a second (cfg.flow_views; at most RC_LIVE_TOP_FLOWS each). Read under
 * RCU: never waits on a decoder. Any thread, while the engine runs.
 */
void rc_live_flows(const struct rc_live *l, unsigned n, FILE *f);

/*
 * Swap the BPF filter on every ring (NULL: none) without a restart: frames already in a ring
 * stay; every frame the kernel takes after this returns passed the new filter. 0, or a negative
 * errno with err filled (a filter that does not compile changes nothing). Any one thread at a
 * time, while the engine runs (not during rc_live_stop).
 */
int rc_live_set_filter(struct rc_live *l, struct rc_filter *filter, char *err, size_t errlen);

/* Free everything (after rc_live_stop); NULL is allowed. */
void rc_live_free(struct rc_live *l);

#endif
