/*
 * The stats socket: a unix stream socket served by one thread with non-blocking I/O (epoll), so
 * operators and the benchmark harness can poll a running capture without slowing it down.
 *
 * Protocol (also in the README): one request per line ('\n'; a trailing '\r' is ignored), at most
 * RC_STATSD_MAX_REQUEST bytes with its newline; one reply per request, always one JSON object on
 * one line ending in '\n', {"ok":true,...} or {"ok":false,"error":"..."}; replies come in the
 * order of the requests, and several requests may be sent before reading (pipelining). A blank
 * line (nothing but spaces and tabs) gets no reply. Words are separated by spaces or tabs; the
 * keywords are case-sensitive. A last line without its newline is answered when the client shuts
 * its side. Strings in replies are escaped whatever their bytes: control bytes and bytes that are
 * not valid UTF-8 as \u00XX (the byte read as Latin-1). Requests:
 *   stats          {"ok":true,"uptime_s":S,"counters":{"<name>":N,...},<detail>}: every counter
 *                  of the table (ringcap/counters.h) by its dotted name, then what the engine's
 *                  detail callback adds (per ring, per queue, per decoder); S is seconds
 *                  with three decimals (12.345)
 *   pcap-stats     {"ok":true,"received":N,"dropped":N,"ifdropped":N|null}: pypcap's pc.stats()
 *   flows [N]      {"ok":true,"flows":[...]}: the N (default 10, at most 1000) live flows with the
 *                  most bytes, as the engine's flows callback writes them; a bad N gets
 *                  {"ok":false,"error":"flows takes a count from 1 to 1000 (default 10)"}
 *   prometheus     {"ok":true,"format":"prometheus-0.0.4","text":"..."}: every counter in the
 *                  text exposition format 0.0.4 (ringcap_<name, any byte outside [a-zA-Z0-9_]
 *                  as '_'>, counters suffixed _total, with # HELP and # TYPE lines), as one
 *                  JSON string
 *   filter         {"ok":true,"filter":"EXPR"|null}: the filter in force
 *   filter EXPR    compile EXPR and swap it in on every ring without a restart:
 *                  {"ok":true,"filter":"EXPR"}, or {"ok":false,"error":"<libpcap's message>"}
 *                  with the old filter still in force
 *   help           {"ok":true,"requests":{"stats":"...",...}}
 * Anything else: {"ok":false,"error":"unknown request '...': try help"} (at most 48 bytes of the
 * line echoed); an argument to stats, pcap-stats, prometheus or help: {"ok":false,"error":"stats
 * takes no argument"}. A request line longer than the bound gets {"ok":false,"error":"request
 * longer than 4096 bytes"} and the connection is closed; so does one that holds a NUL byte
 * ("request contains a NUL byte"). A client whose unread replies pass
 * RC_STATSD_MAX_PENDING bytes (it does not read) is disconnected; at most RC_STATSD_MAX_CLIENTS
 * are served at once (one more is told so and closed); a client idle for idle_timeout_ms (no
 * byte read from it or sent to it) is closed without a reply. None of this affects other clients
 * or the capture.
 *
 * Threads: rc_statsd_start and rc_statsd_stop from the control thread; the callbacks run on the
 * server thread (so never two at once), concurrently with the capture and decoder threads, and
 * must not block on them.
 */
#ifndef RINGCAP_STATSD_H
#define RINGCAP_STATSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ringcap/counters.h"

#define RC_STATSD_MAX_REQUEST	4096
#define RC_STATSD_MAX_PENDING	(4u << 20)
#define RC_STATSD_MAX_CLIENTS	256
#define RC_STATSD_DEFAULT_PATH	"/run/ringcap/ringcap.sock"
#define RC_STATSD_DEFAULT_FLOWS 10
#define RC_STATSD_MAX_FLOWS	1000

/* What the engine provides; every callback but totals may be NULL (the request then answers
 * {"ok":false,"error":"... not available"}). */
struct rc_statsd_ops {
	void *arg;
	/* Sum every counter now (lock-free reads). */
	void (*totals)(void *arg, struct rc_ctrs *out);
	/* Write more members of the stats reply, each starting with ',' (e.g. ,"rings":[...]). */
	void (*detail)(void *arg, FILE *f);
	/* pc.stats(): ifdropped < 0 when the interface keeps no such counter. */
	void (*pcap_stats)(void *arg, uint64_t *received, uint64_t *dropped, int64_t *ifdropped);
	/* Write a JSON array of at most n flows, most bytes first. */
	void (*flows)(void *arg, unsigned n, FILE *f);
	/* Swap the filter: 0, or -1 with err filled (the old filter stays). */
	int (*set_filter)(void *arg, const char *expr, char *err, size_t errlen);
	/* The filter in force, NULL when none. */
	const char *(*get_filter)(void *arg);
};

struct rc_statsd_config {
	const char *path;	  /* socket path; its folder is created 0750 if missing */
	uint32_t idle_timeout_ms; /* 0: 60000 */
};

struct rc_statsd;

/*
 * Create the folder (0750) if missing, bind the socket (0660) and start the server thread. A
 * socket left by a dead process is replaced; one a live process answers on is refused
 * (-EADDRINUSE, with a message naming the path). 0 or -errno with err filled.
 */
int rc_statsd_start(struct rc_statsd **out, const struct rc_statsd_config *cfg,
		    const struct rc_statsd_ops *ops, char *err, size_t errlen);

/* Stop serving, close every client, remove the socket file, join and free. NULL is allowed. */
void rc_statsd_stop(struct rc_statsd *s);

/* What the server did so far: for tests and debugging. Each member is read on its own. */
struct rc_statsd_info {
	uint64_t accepted;	  /* connections served */
	uint64_t refused;	  /* turned away: RC_STATSD_MAX_CLIENTS were connected */
	uint64_t requests;	  /* replies written (errors included) */
	uint64_t errors;	  /* of which {"ok":false,...} */
	uint64_t dropped_slow;	  /* disconnected: unread replies past RC_STATSD_MAX_PENDING */
	uint64_t idle_closed;	  /* closed after idle_timeout_ms without traffic */
	uint64_t protocol_closed; /* closed after an over-long line or a NUL byte */
	uint64_t clients;	  /* connected now */
};

/* Any thread, while s runs; lock-free (relaxed loads). */
void rc_statsd_get_info(const struct rc_statsd *s, struct rc_statsd_info *out);

/*
 * The request parser, exposed for the tests and the fuzzer: parse one request line (without its
 * newline) into a kind and its argument. Pure; never reads past len.
 */
enum rc_statsd_req {
	RC_STATSD_REQ_STATS,
	RC_STATSD_REQ_PCAP_STATS,
	RC_STATSD_REQ_FLOWS,
	RC_STATSD_REQ_PROMETHEUS,
	RC_STATSD_REQ_FILTER,
	RC_STATSD_REQ_HELP,
	RC_STATSD_REQ_BAD, /* err says why */
};

struct rc_statsd_parsed {
	enum rc_statsd_req kind;
	unsigned count;	 /* flows: N */
	const char *arg; /* filter: the expression (points into the line), NULL when none */
	size_t arg_len;
	char err[160]; /* RC_STATSD_REQ_BAD: the message */
};

void rc_statsd_parse(const char *line, size_t len, struct rc_statsd_parsed *out);

#endif
