/*
 * HTTP/1.x over reassembled TCP: requests of the originator paired, in order, with the
 * responses of the responder; one JSON line per request, fields named as Zeek's http.log.
 *
 * One struct rc_http per decoder thread (configuration, output, counters, recycled records);
 * one struct rc_http_conn per TCP connection, fed from the reassembler's callbacks
 * (ringcap/reasm.h): rc_http_data for .data, rc_http_gap for .gap, rc_http_eof for .end, and
 * rc_http_end when the flow ends. Bytes are parsed where they lie, segment by segment: nothing is
 * copied but the fields written out, each bounded.
 *
 * What is HTTP: any port (or only the responder ports of the config), decided by content: the
 * first client bytes must be an upper-case method token (3 to 16 of A-Z and '-') and a space.
 * Anything else, or server bytes before any client byte, is not HTTP (http.streams_not_http) and
 * the connection is left alone from then on. A parse error stops its direction only
 * (http.parse_errors): requests after it are not seen, responses after it are not paired.
 *
 * Messages: keep-alive and pipelining (responses pair with requests by order), Content-Length
 * and chunked bodies, bodies until the close, 1xx interim responses (100 Continue after
 * Expect: 100-continue does not consume its request; the last code is info_code), no body for
 * responses to HEAD and for 1xx, 204 and 304. A 101, or a 2xx to CONNECT, switches protocol:
 * the connection is no longer parsed (http.upgrades, flag "upgrade").
 *
 * Gaps: a gap inside a body whose extent is known (Content-Length, a chunk, or a body that lasts
 * until the close) is skipped over, its bytes counted in the body length, and parsing goes on
 * (http.gaps.skipped); any other gap stops its direction (http.gaps.stopped). Either way the
 * record in flight, and every later record that direction would have completed, gets "gap".
 *
 * A record is written when both its request and its response are complete, or, when one
 * direction has stopped or ended, with whatever is known. Records go out in request order.
 *
 * Output: one JSON object per line, every field always present, null where unknown:
 *   ts (request start, seconds with meta.ts_digits decimals), uid, orig_h, orig_p, resp_h,
 *   resp_p, trans_depth (1-based), method, host, uri, version ("1.1"), user_agent,
 *   request_header_count, request_body_len, status_code, status_msg, info_code,
 *   response_body_len, response_ts (start of the final response), flags (array of strings:
 *   "gap", "parse_error", "no_request", "no_response", "incomplete" (the connection ended inside
 *   a message), "truncated", "upgrade").
 * Strings are written byte for byte where they are valid UTF-8; '"' and '\' are escaped, and
 * control bytes (below 0x20, and 0x7f) and every byte that is not part of a valid UTF-8 sequence
 * are written as \u00XX of the byte (the byte read as Latin-1). So every line is valid JSON
 * whatever the traffic holds. Field bounds: RC_HTTP_URI_MAX, RC_HTTP_VALUE_MAX (host,
 * user_agent), RC_HTTP_STATUS_MAX; a longer value is cut at the bound (flag "truncated").
 *
 * Threads: a struct rc_http and its connections belong to one thread. Cost: O(bytes) in the
 * parser for headers, O(1) per segment for bodies; no allocation per byte or per segment (a
 * record's field buffer grows by doubling up to its bound, records are recycled).
 */
#ifndef RINGCAP_HTTP_H
#define RINGCAP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ringcap/counters.h"

#define RC_HTTP_URI_MAX	   8192
#define RC_HTTP_VALUE_MAX  1024
#define RC_HTTP_STATUS_MAX 256
#define RC_HTTP_UID_MAX	   31 /* longer uids are cut */
#define RC_HTTP_ADDR_MAX   45 /* INET6_ADDRSTRLEN - 1 */

struct rc_http_config {
	FILE *out;	       /* JSON lines; NULL: records are only counted */
	const uint16_t *ports; /* responder ports to parse (copied); none: every port */
	size_t nports;
	const char *bodies_dir; /* NULL, or where request bodies go as <uid>-<trans_depth> */
	uint32_t max_pending;	/* requests awaiting a response per connection (default 64) */
	struct rc_ctrs *ctrs;	/* the owning thread's counters */
};

/* Defaults: no output, every port, no bodies, 64 pending requests, no counters (set them). */
void rc_http_config_default(struct rc_http_config *cfg);

struct rc_http;

/*
 * A parser context for one thread. Returns 0, -EINVAL (no counters, max_pending below 2, a port
 * 0, a bodies_dir that is empty) or -ENOMEM. The output stream and the bodies folder must outlive
 * it; the folder must exist.
 */
int rc_http_new(struct rc_http **out, const struct rc_http_config *cfg);

/* Free the context. Every connection must have ended first. NULL is allowed. */
void rc_http_free(struct rc_http *h);

/* The connection, as the caller knows it. Strings are copied (cut at their bound). */
struct rc_http_meta {
	const char *uid;    /* the flow's uid */
	const char *orig_h; /* addresses as text */
	const char *resp_h;
	uint16_t orig_p, resp_p;
	uint8_t ts_digits; /* decimals of ts and response_ts, 0 to 9 (more are cut to 9) */
};

struct rc_http_conn;

/*
 * Start parsing a connection. Returns NULL when it is not to be parsed: its responder port is
 * not in the list (http.conns_filtered), or memory ran out (http.alloc_failed); the caller then
 * simply feeds nothing. O(1); one allocation.
 */
struct rc_http_conn *rc_http_conn_new(struct rc_http *h, const struct rc_http_meta *meta);

/*
 * len bytes of direction dir (0: the originator's, the client; 1: the responder's), in stream
 * order, the packet that delivered them at ts_ns. p is read during the call only. Completed
 * records may be written from inside the call. Never fails: what cannot be parsed is counted.
 */
void rc_http_data(struct rc_http_conn *c, int dir, const uint8_t *p, size_t len, uint64_t ts_ns);

/* len bytes of direction dir will never come (a reassembly gap, see above). */
void rc_http_gap(struct rc_http_conn *c, int dir, uint64_t len);

/*
 * Direction dir has ended (FIN, or the end of the flow): a body that lasts until the close
 * completes, a message cut short gets "incomplete". Further data of dir is ignored. Optional:
 * rc_http_end does it for directions not yet ended.
 */
void rc_http_eof(struct rc_http_conn *c, int dir);

/* The connection has ended: end both directions, write every pending record, free c. */
void rc_http_end(struct rc_http_conn *c);

#endif
