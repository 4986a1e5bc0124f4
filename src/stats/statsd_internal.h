/*
 * One stats-socket client's protocol without its socket (session.c): request bytes in, reply
 * lines out. server.c keeps one per connection and does the I/O; the fuzzer and the unit test
 * drive it directly.
 */
#ifndef RINGCAP_STATSD_INTERNAL_H
#define RINGCAP_STATSD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringcap/statsd.h"

enum rc_sess_state {
	RC_SESS_OPEN,	 /* reading requests */
	RC_SESS_CLOSING, /* no more requests: send what is pending, then close */
	RC_SESS_DROP,	 /* close now, pending replies and all */
};

struct rc_statsd_sess {
	const struct rc_statsd_ops *ops;
	uint64_t start_ns; /* CLOCK_MONOTONIC when the server started: uptime_s */
	enum rc_sess_state state;
	bool overflow;	     /* RC_SESS_DROP because replies passed max_pending */
	bool protocol_error; /* RC_SESS_CLOSING after an over-long line or a NUL byte */
	uint64_t replies;    /* reply lines written */
	uint64_t errors;     /* of which {"ok":false,...} */
	size_t max_pending;  /* RC_STATSD_MAX_PENDING (the fuzzer lowers it to reach it fast) */
	char *out;	     /* replies not sent yet: out[out_off, out_len) */
	size_t out_off, out_len, out_cap;
	size_t in_len; /* a request line not complete yet, in in[] */
	char in[RC_STATSD_MAX_REQUEST];
};

void rc_statsd_sess_init(struct rc_statsd_sess *s, const struct rc_statsd_ops *ops,
			 uint64_t start_ns);

/* Free the pending replies. */
void rc_statsd_sess_fini(struct rc_statsd_sess *s);

/*
 * n bytes the client sent: every complete line is answered in order, the rest is kept. Returns the
 * state: bytes given after the session left RC_SESS_OPEN are ignored. Allocation failure drops
 * the session.
 */
enum rc_sess_state rc_statsd_sess_input(struct rc_statsd_sess *s, const char *buf, size_t n);

/* The client shut its side: a last line without its newline is answered, then CLOSING. */
enum rc_sess_state rc_statsd_sess_eof(struct rc_statsd_sess *s);

static inline size_t rc_statsd_sess_pending(const struct rc_statsd_sess *s)
{
	return s->out_len - s->out_off;
}

/* The first n pending bytes were sent. */
void rc_statsd_sess_sent(struct rc_statsd_sess *s, size_t n);

/* Write s as a JSON string (quotes included): see the escaping rules in statsd.h. */
void rc_statsd_json_str(FILE *f, const char *s, size_t n);

/* The Prometheus name of counter i: ringcap_<name, [^a-zA-Z0-9_] as '_'>[_total]. */
void rc_statsd_prom_name(char *buf, size_t size, int i);

/* Monotonic now, in ns. */
uint64_t rc_statsd_now_ns(void);

#endif
