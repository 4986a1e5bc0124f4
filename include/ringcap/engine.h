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
#include "ringcap/pcapio.h"

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

/* A decoder worker: owns its counters and its flow table. One thread drives it. */
struct rc_worker {
	struct rc_ctrs ctrs;
	struct rc_flow_table *flows;
};

/* Set up a worker whose flows go to emit(arg, ...). Returns 0 or a negative errno. */
int rc_worker_init(struct rc_worker *w, const struct rc_flow_config *cfg, rc_flow_emit_fn emit,
		   void *arg);

/* Decode one packet and account it to its flow. Every packet bumps exactly one decode outcome. */
void rc_worker_process(struct rc_worker *w, const struct rc_packet *pkt);

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

#endif
