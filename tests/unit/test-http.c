/*
 * HTTP/1.x: connections scripted as events (data of a direction, gaps, ends), fed whole, in
 * pieces of 1, 2, 3, 5, 7 and 64 bytes and split at every point of every event; the JSON lines
 * must be exactly the expected ones every time, and valid JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringcap/counters.h"
#include "ringcap/http.h"

#include "../fuzz/json-valid.h"

enum { EV_DATA, EV_GAP, EV_EOF };

struct ev {
	int kind, dir;
	const char *p;
	size_t len;
	uint64_t ms; /* time of the data, ms after T0 */
};

#define D(dir, ms, lit)                                      \
	{                                                    \
		EV_DATA, (dir), (lit), sizeof(lit) - 1, (ms) \
	}
#define GAP(dir, n)                         \
	{                                   \
		EV_GAP, (dir), NULL, (n), 0 \
	}
#define END(dir)                          \
	{                                 \
		EV_EOF, (dir), NULL, 0, 0 \
	}
#define T0	      (1700000000ull * 1000000000ull)
#define SPLIT_ALL_MAX 600 /* events longer than this are not split at every point */

static struct rc_ctrs ctrs;

static const struct rc_http_meta meta0 = {
	.uid = "CdXgY3m1yJv5bHq2a9",
	.orig_h = "10.0.0.1",
	.resp_h = "10.0.0.2",
	.orig_p = 40000,
	.resp_p = 80,
	.ts_digits = 6,
};

/* How a run cuts the data events: in pieces of `chunk` bytes (0: whole), or event si at sp. */
struct cut {
	size_t chunk, si, sp;
};

static void feed_piece(struct rc_http_conn *c, int dir, const char *p, size_t n, uint64_t ms)
{
	/* An exact-size copy, so that reading past the piece faults under ASan. */
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, p, n);
	rc_http_data(c, dir, copy, n, T0 + ms * 1000000u);
	free(copy);
}

/* Run the events through a fresh context; returns the output (malloc'd). Counters in ctrs. */
static char *run_cfg(const struct ev *evs, size_t n, const struct cut *cut,
		     const struct rc_http_config *base, const struct rc_http_meta *meta)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	assert_non_null(f);
	struct rc_http_config cfg;
	if (base)
		cfg = *base;
	else
		rc_http_config_default(&cfg);
	cfg.out = f;
	cfg.ctrs = &ctrs;
	memset(&ctrs, 0, sizeof(ctrs));
	struct rc_http *h = NULL;
	assert_int_equal(rc_http_new(&h, &cfg), 0);
	struct rc_http_conn *c = rc_http_conn_new(h, meta ? meta : &meta0);
	assert_non_null(c);
	for (size_t i = 0; i < n; i++) {
		const struct ev *e = &evs[i];
		if (e->kind == EV_GAP) {
			rc_http_gap(c, e->dir, e->len);
		} else if (e->kind == EV_EOF) {
			rc_http_eof(c, e->dir);
		} else if (cut->chunk) {
			for (size_t o = 0; o < e->len; o += cut->chunk) {
				size_t k = e->len - o < cut->chunk ? e->len - o : cut->chunk;
				feed_piece(c, e->dir, e->p + o, k, e->ms);
			}
		} else if (i == cut->si && cut->sp > 0 && cut->sp < e->len) {
			feed_piece(c, e->dir, e->p, cut->sp, e->ms);
			feed_piece(c, e->dir, e->p + cut->sp, e->len - cut->sp, e->ms);
		} else {
			feed_piece(c, e->dir, e->p, e->len, e->ms);
		}
	}
	rc_http_end(c);
	rc_http_free(h);
	fclose(f);
	return buf;
}

static void assert_lines_valid(const char *out)
{
	const char *p = out;
	while (*p) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		if (!json_valid(p, (size_t)(nl - p)))
			fail_msg("not valid JSON: %.*s", (int)(nl - p), p);
		p = nl + 1;
	}
}

static void expect_output(const char *got, const char *want, const char *how, size_t a, size_t b)
{
	if (strcmp(got, want) != 0)
		fail_msg("%s (%zu, %zu):\n got: %s\nwant: %s", how, a, b, got, want);
}

/*
 * Every way of cutting the events gives `want`. The last run feeds the events whole, so the
 * counters in ctrs are those of one run.
 */
static void check_cfg(const struct ev *evs, size_t n, const char *want,
		      const struct rc_http_config *cfg, const struct rc_http_meta *meta)
{
	static const size_t chunks[] = {1, 2, 3, 5, 7, 64};
	char *out;

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct cut cut = {.chunk = chunks[i]};
		out = run_cfg(evs, n, &cut, cfg, meta);
		expect_output(out, want, "pieces of", chunks[i], 0);
		free(out);
	}
	for (size_t i = 0; i < n; i++) {
		if (evs[i].kind != EV_DATA || evs[i].len > SPLIT_ALL_MAX)
			continue;
		for (size_t sp = 1; sp < evs[i].len; sp++) {
			struct cut cut = {.si = i, .sp = sp};
			out = run_cfg(evs, n, &cut, cfg, meta);
			expect_output(out, want, "event split at", i, sp);
			free(out);
		}
	}
	struct cut whole = {0};
	out = run_cfg(evs, n, &whole, cfg, meta);
	expect_output(out, want, "whole", 0, 0);
	assert_lines_valid(out);
	free(out);
}

static void check(const struct ev *evs, size_t n, const char *want)
{
	check_cfg(evs, n, want, NULL, NULL);
}

#define CHECK(evs, want) check((evs), sizeof(evs) / sizeof((evs)[0]), (want))

/* ---- expected lines ---------------------------------------------------------------------- */

#define NUL -1 /* a number written as null */

/* One expected record; strings are JSON text already (escaped), NULL for null. */
struct want {
	long depth, ts_ms;
	const char *method, *host, *uri, *version, *ua;
	long hdrs, req_body, status;
	const char *msg;
	long info, resp_body, resp_ts_ms;
	const char *flags; /* inside the brackets */
};

static char wanted[1 << 16];

static void cat(const char *fmt, ...)
{
	size_t len = strlen(wanted);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(wanted + len, sizeof(wanted) - len, fmt, ap);
	va_end(ap);
}

static void cat_str(const char *name, const char *v)
{
	if (v)
		cat(",\"%s\":\"%s\"", name, v);
	else
		cat(",\"%s\":null", name);
}

static void cat_num(const char *name, long v)
{
	if (v == NUL)
		cat(",\"%s\":null", name);
	else
		cat(",\"%s\":%ld", name, v);
}

static void cat_ts(const char *name, long ms)
{
	if (ms == NUL)
		cat(",\"%s\":null", name);
	else
		cat(",\"%s\":1700000000.%03ld000", name, ms);
}

/* The lines of records w[0..n) on the connection of meta0. */
static const char *lines(const struct want *w, size_t n)
{
	wanted[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		cat("{\"ts\":1700000000.%03ld000", w[i].ts_ms);
		cat(",\"uid\":\"CdXgY3m1yJv5bHq2a9\",\"orig_h\":\"10.0.0.1\",\"orig_p\":40000,"
		    "\"resp_h\":\"10.0.0.2\",\"resp_p\":80");
		cat_num("trans_depth", w[i].depth);
		cat_str("method", w[i].method);
		cat_str("host", w[i].host);
		cat_str("uri", w[i].uri);
		cat_str("version", w[i].version);
		cat_str("user_agent", w[i].ua);
		cat_num("request_header_count", w[i].hdrs);
		cat_num("request_body_len", w[i].req_body);
		cat_num("status_code", w[i].status);
		cat_str("status_msg", w[i].msg);
		cat_num("info_code", w[i].info);
		cat_num("response_body_len", w[i].resp_body);
		cat_ts("response_ts", w[i].resp_ts_ms);
		cat(",\"flags\":[%s]}\n", w[i].flags ? w[i].flags : "");
	}
	return wanted;
}

#define LINES(w) lines((w), sizeof(w) / sizeof((w)[0]))

static uint64_t ctr(enum rc_ctr id)
{
	return rc_ctr_get(&ctrs, id);
}

/* ---- the tests --------------------------------------------------------------------------- */

static void test_simple_get(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1,
		  "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\n"
		  "Accept: */*\r\n\r\n"),
		D(1, 2,
		  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
	};
	static const struct want w[] = {
		{1, 1, "GET", "example.com", "/index.html", "1.1", "curl/8.0", 3, 0, 200, "OK", NUL,
		 5, 2, ""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_CONNS), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_REQUESTS), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_RESPONSES), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_RECORDS), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_RESPONSE_BODY_BYTES), 5);
	assert_int_equal(ctr(RC_CTR_HTTP_PARSE_ERRORS), 0);
	assert_int_equal(ctr(RC_CTR_HTTP_NO_RESPONSE), 0);
}

static void test_keep_alive(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"),
		D(1, 2, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
		D(0, 3, "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"),
		D(1, 4, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno"),
		D(0, 5, "GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
		D(1, 6, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"),
		END(0),
		END(1),
	};
	static const struct want w[] = {
		{1, 1, "GET", "a", "/1", "1.1", NULL, 1, 0, 200, "OK", NUL, 1, 2, ""},
		{2, 3, "GET", "a", "/2", "1.1", NULL, 1, 0, 404, "Not Found", NUL, 2, 4, ""},
		{3, 5, "GET", "a", "/3", "1.1", NULL, 2, 0, 200, "OK", NUL, 3, 6, ""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_RECORDS), 3);
}

static void test_pipelining(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "GET /a HTTP/1.1\r\nHost: p\r\n\r\n"),
		D(0, 2, "GET /b HTTP/1.1\r\nHost: p\r\n\r\nGET /c HTTP/1.1\r\nHost: p\r\n\r\n"),
		D(1, 4, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\naa"),
		D(1, 5,
		  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nbb\r\n0\r\n\r\n"
		  "HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nccc"),
	};
	static const struct want w[] = {
		{1, 1, "GET", "p", "/a", "1.1", NULL, 1, 0, 200, "OK", NUL, 2, 4, ""},
		{2, 2, "GET", "p", "/b", "1.1", NULL, 1, 0, 200, "OK", NUL, 2, 5, ""},
		{3, 2, "GET", "p", "/c", "1.1", NULL, 1, 0, 500, "Oops", NUL, 3, 5, ""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_RESPONSES), 3);
}

static void test_post_content_length(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1,
		  "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n"
		  "Content-Type: application/x-www-form-urlencoded\r\n\r\nhello=world"),
		D(1, 2, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
		D(0, 3, "GET /after HTTP/1.1\r\n\r\n"),
		D(1, 4, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	static const struct want w[] = {
		{1, 1, "POST", "h", "/submit", "1.1", NULL, 3, 11, 201, "Created", NUL, 0, 2, ""},
		{2, 3, "GET", NULL, "/after", "1.1", NULL, 0, 0, 200, "OK", NUL, 0, 4, ""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_REQUEST_BODY_BYTES), 11);
}

static void test_chunked(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1,
		  "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"),
		D(1, 2,
		  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
		  "10\r\n0123456789abcdef\r\n0\r\n\r\n"),
		D(0, 3, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(1, 4, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz"),
	};
	static const struct want w[] = {
		{1, 1, "POST", "h", "/up", "1.1", NULL, 3, 11, 200, "OK", NUL, 19, 2, ""},
		{2, 3, "GET", "h", "/next", "1.1", NULL, 1, 0, 200, "OK", NUL, 1, 4, ""},
	};
	CHECK(evs, LINES(w));
}

static void test_expect_continue(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1,
		  "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: "
		  "100-continue\r\n\r\n"),
		D(1, 2, "HTTP/1.1 100 Continue\r\n\r\n"),
		D(0, 3, "data"),
		D(1, 4, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
		D(0, 5, "GET /g HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(1, 6, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	static const struct want w[] = {
		{1, 1, "PUT", "h", "/f", "1.1", NULL, 3, 4, 200, "OK", 100, 2, 4, ""},
		{2, 5, "GET", "h", "/g", "1.1", NULL, 1, 0, 200, "OK", NUL, 0, 6, ""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_INTERIM), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_RESPONSES), 2);
}

static void test_head(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(1, 2, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
		D(0, 3, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(1, 4, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
	};
	static const struct want w[] = {
		{1, 1, "HEAD", "h", "/big", "1.1", NULL, 1, 0, 200, "OK", NUL, 0, 2, ""},
		{2, 3, "GET", "h", "/next", "1.1", NULL, 1, 0, 200, "OK", NUL, 2, 4, ""},
	};
	CHECK(evs, LINES(w));
}

static void test_no_body_statuses(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "DELETE /a HTTP/1.1\r\n\r\n"),
		D(1, 2, "HTTP/1.1 204 No Content\r\n\r\n"),
		D(0, 3, "GET /b HTTP/1.1\r\nIf-None-Match: \"x\"\r\n\r\n"),
		D(1, 4, "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"x\"\r\n\r\n"),
		D(0, 5, "GET /c HTTP/1.1\r\n\r\n"),
		D(1, 6, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
	};
	static const struct want w[] = {
		{1, 1, "DELETE", NULL, "/a", "1.1", NULL, 0, 0, 204, "No Content", NUL, 0, 2, ""},
		{2, 3, "GET", NULL, "/b", "1.1", NULL, 1, 0, 304, "Not Modified", NUL, 0, 4, ""},
		{3, 5, "GET", NULL, "/c", "1.1", NULL, 0, 0, 200, "OK", NUL, 1, 6, ""},
	};
	CHECK(evs, LINES(w));
}

static void test_gap_in_known_body(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nab"),
		GAP(0, 5),
		D(0, 2, "cde"),
		D(1, 3, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nxy"),
		GAP(1, 4),
		/* a gap inside a chunk */
		D(0, 4, "GET /chunked HTTP/1.1\r\n\r\n"),
		D(1, 5, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n01"),
		GAP(1, 5),
		D(1, 6, "234\r\n0\r\n\r\n"),
		/* a gap that ends the body */
		D(0, 7, "GET /tail HTTP/1.1\r\n\r\n"),
		D(1, 8, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"),
		GAP(1, 2),
		D(0, 9, "GET /clean HTTP/1.1\r\n\r\n"),
		D(1, 10, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	static const struct want w[] = {
		{1, 1, "POST", "h", "/p", "1.1", NULL, 2, 10, 200, "OK", NUL, 6, 3, "\"gap\""},
		{2, 4, "GET", NULL, "/chunked", "1.1", NULL, 0, 0, 200, "OK", NUL, 10, 5,
		 "\"gap\""},
		{3, 7, "GET", NULL, "/tail", "1.1", NULL, 0, 0, 200, "OK", NUL, 4, 8, "\"gap\""},
		{4, 9, "GET", NULL, "/clean", "1.1", NULL, 0, 0, 200, "OK", NUL, 0, 10, ""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_GAPS_SKIPPED), 4);
	assert_int_equal(ctr(RC_CTR_HTTP_GAPS_STOPPED), 0);
	assert_int_equal(ctr(RC_CTR_HTTP_REQUESTS_WITH_GAPS), 3);
}

static void test_gap_in_headers(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "GET /a HTTP/1.1\r\nHost: h\r\nUser-"),
		GAP(0, 20),
		D(0, 2, "GET /b HTTP/1.1\r\n\r\n"), /* not parsed: the request side stopped */
		D(1, 3, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"),
		D(1, 4, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
	};
	static const struct want w[] = {
		{1, 1, "GET", "h", "/a", NULL, NULL, 2, 0, 200, "OK", NUL, 1, 3, "\"gap\""},
		{2, 4, NULL, NULL, NULL, "1.1", NULL, NUL, NUL, 404, "Not Found", NUL, 0, 4,
		 "\"gap\",\"no_request\""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_GAPS_STOPPED), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_NO_REQUEST), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_REQUESTS_WITH_GAPS), 2);
}

/* A gap longer than what is left of the body: the next message's start is lost with it. */
static void test_gap_past_body(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"),
		GAP(0, 10),
		D(0, 2, "T /q HTTP/1.1\r\n\r\n"),
		D(1, 3, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
		D(1, 4, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	static const struct want w[] = {
		/* The gap runs past the body: the body still ends at its Content-Length. */
		{1, 1, "POST", NULL, "/p", "1.1", NULL, 1, 5, 200, "OK", NUL, 0, 3, "\"gap\""},
		{2, 4, NULL, NULL, NULL, "1.1", NULL, NUL, NUL, 200, "OK", NUL, 0, 4,
		 "\"gap\",\"no_request\""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_GAPS_STOPPED), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_GAPS_SKIPPED), 0);
}

static void test_gap_in_response_headers(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
		D(1, 2, "HTTP/1.1 200 OK\r\nContent-"),
		GAP(1, 30),
		D(1, 3, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
		D(0, 4, "GET /c HTTP/1.1\r\n\r\n"),
	};
	static const struct want w[] = {
		{1, 1, "GET", NULL, "/a", "1.1", NULL, 0, 0, NUL, NULL, NUL, NUL, NUL,
		 "\"gap\",\"no_response\""},
		{2, 1, "GET", NULL, "/b", "1.1", NULL, 0, 0, NUL, NULL, NUL, NUL, NUL,
		 "\"gap\",\"no_response\""},
		{3, 4, "GET", NULL, "/c", "1.1", NULL, 0, 0, NUL, NULL, NUL, NUL, NUL,
		 "\"gap\",\"no_response\""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_NO_RESPONSE), 3);
}

static void expect_not_http(const struct ev *evs, size_t n)
{
	check(evs, n, "");
	assert_int_equal(ctr(RC_CTR_HTTP_STREAMS_NOT_HTTP), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_REQUESTS), 0);
	assert_int_equal(ctr(RC_CTR_HTTP_PARSE_ERRORS), 0);
}

static void test_not_http(void **state)
{
	(void)state;
	static const struct ev tls[] = {
		D(0, 1, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
		D(1, 2, "\x16\x03\x03\x00\x5d"),
	};
	static const struct ev lower[] = {D(0, 1, "get / HTTP/1.1\r\n\r\n")};
	static const struct ev server_first[] = {
		D(1, 1, "220 smtp.example.com ESMTP\r\n"),
		D(0, 2, "EHLO x\r\n"),
	};
	static const struct ev no_space[] = {D(0, 1, "GET/ HTTP/1.1\r\n\r\n")};
	static const struct ev long_token[] = {D(0, 1, "ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n")};
	static const struct ev short_token[] = {D(0, 1, "GE / HTTP/1.1\r\n\r\n")};
	expect_not_http(tls, 2);
	expect_not_http(lower, 1);
	expect_not_http(server_first, 2);
	expect_not_http(no_space, 1);
	expect_not_http(long_token, 1);
	expect_not_http(short_token, 1);
}

static void test_bad_method(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "GETT / HTTP/1.1\r\n\r\n"),
		D(1, 2, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
	};
	static const struct want w[] = {
		{1, 1, NULL, NULL, NULL, NULL, NULL, 0, 0, 400, "Bad Request", NUL, 0, 2,
		 "\"parse_error\""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_PARSE_ERRORS), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_STREAMS_NOT_HTTP), 0);
}

static void test_no_response(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(0, 2, "POST /y HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"),
	};
	static const struct want w[] = {
		{1, 1, "GET", "h", "/x", "1.1", NULL, 1, 0, NUL, NULL, NUL, NUL, NUL,
		 "\"no_response\""},
		{2, 2, "POST", NULL, "/y", "1.1", NULL, 1, 3, NUL, NULL, NUL, NUL, NUL,
		 "\"no_response\",\"incomplete\""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_NO_RESPONSE), 2);
}

static void test_early_response(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "POST /big HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"),
		D(1, 2,
		  "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: "
		  "close\r\n\r\n"),
		END(1),
		D(0, 3, "def"),
		END(0),
	};
	static const struct want w[] = {
		{1, 1, "POST", NULL, "/big", "1.1", NULL, 1, 6, 413, "Payload Too Large", NUL, 0, 2,
		 "\"incomplete\""},
	};
	CHECK(evs, LINES(w));
}

static void test_escaping(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1,
		  "GET /caf\xc3\xa9/\xff\xfe\"q\\ HTTP/1.1\r\nHost: h\xc3\r\n"
		  "User-Agent: Moz\tilla \xe2\x82\xac \xed\xa0\x80 \xf0\x9f\x98\x80 "
		  "\xc0\xaf\r\n\r\n"),
		D(1, 2, "HTTP/1.1 200 O\x01K\x1f\x7f\xc3(\"\r\nContent-Length: 0\r\n\r\n"),
	};
	static const struct want w[] = {
		{1, 1, "GET", "h\\u00c3", "/caf\xc3\xa9/\\u00ff\\u00fe\\\"q\\\\", "1.1",
		 "Moz\\u0009illa \xe2\x82\xac \\u00ed\\u00a0\\u0080 \xf0\x9f\x98\x80 "
		 "\\u00c0\\u00af",
		 2, 0, 200, "O\\u0001K\\u001f\\u007f\\u00c3(\\\"", NUL, 0, 2, ""},
	};
	CHECK(evs, LINES(w));
}

static void test_truncation(void **state)
{
	(void)state;
	static char req[16384], uri[RC_HTTP_URI_MAX + 1], ua[RC_HTTP_VALUE_MAX + 1];
	char big_uri[9001], big_ua[2001];
	memset(big_uri, 'u', 9000);
	big_uri[0] = '/';
	big_uri[9000] = '\0';
	memset(big_ua, 'a', 2000);
	big_ua[2000] = '\0';
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nUser-Agent: %s\r\n\r\n", big_uri, big_ua);
	memcpy(uri, big_uri, RC_HTTP_URI_MAX);
	memcpy(ua, big_ua, RC_HTTP_VALUE_MAX);
	struct ev evs[] = {
		{EV_DATA, 0, req, strlen(req), 1},
		D(1, 2, "HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\n\r\n"),
	};
	struct want w[] = {
		{1, 1, "GET", NULL, uri, "1.1", ua, 1, 0, 414, "URI Too Long", NUL, 0, 2,
		 "\"truncated\""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_TRUNCATED), 1);
}

static void test_upgrade(void **state)
{
	(void)state;
	static const struct ev ws[] = {
		D(0, 1,
		  "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: "
		  "Upgrade\r\n\r\n"),
		D(1, 2,
		  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
		  "Upgrade\r\n"
		  "\r\n\x81\x05hello"),
		D(0, 3,
		  "\x81\x85"
		  "abcdefghi"),
		D(1, 4, "\x81\x02hi"),
	};
	static const struct want w_ws[] = {
		{1, 1, "GET", "h", "/chat", "1.1", NULL, 3, 0, 101, "Switching Protocols", NUL, 0,
		 2, "\"upgrade\""},
	};
	CHECK(ws, LINES(w_ws));
	assert_int_equal(ctr(RC_CTR_HTTP_UPGRADES), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_PARSE_ERRORS), 0);

	static const struct ev connect[] = {
		D(0, 1, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
		D(1, 2, "HTTP/1.1 200 Connection established\r\n\r\n"),
		D(0, 3, "\x16\x03\x01\x02\x00"),
		D(1, 4, "\x16\x03\x03\x00\x5d"),
	};
	static const struct want w_connect[] = {
		{1, 1, "CONNECT", "example.com:443", "example.com:443", "1.1", NULL, 1, 0, 200,
		 "Connection established", NUL, 0, 2, "\"upgrade\""},
	};
	CHECK(connect, LINES(w_connect));
	assert_int_equal(ctr(RC_CTR_HTTP_UPGRADES), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_PARSE_ERRORS), 0);

	/* An upgrade the server declines: HTTP/1.1 goes on. */
	static const struct ev declined[] = {
		D(0, 1,
		  "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade, "
		  "HTTP2-Settings\r\n"
		  "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"),
		D(1, 2, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
		D(0, 3, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(1, 4, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	static const struct want w_declined[] = {
		{1, 1, "GET", "h", "/", "1.1", NULL, 4, 0, 200, "OK", NUL, 2, 2, ""},
		{2, 3, "GET", "h", "/2", "1.1", NULL, 1, 0, 200, "OK", NUL, 0, 4, ""},
	};
	CHECK(declined, LINES(w_declined));
	assert_int_equal(ctr(RC_CTR_HTTP_UPGRADES), 0);

	/* A 200 that advertises an upgrade (as Apache does) switches nothing. */
	static const struct ev advertised[] = {
		D(0, 1, "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
		D(1, 2,
		  "HTTP/1.1 200 OK\r\nUpgrade: h2,h2c\r\nConnection: Upgrade, Keep-Alive\r\n"
		  "Content-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	static const struct want w_advertised[] = {
		{1, 1, "GET", "h", "/", "1.1", NULL, 1, 0, 200, "OK", NUL, 2, 2, ""},
		{2, 1, "GET", "h", "/2", "1.1", NULL, 1, 0, 200, "OK", NUL, 0, 2, ""},
	};
	CHECK(advertised, LINES(w_advertised));
	assert_int_equal(ctr(RC_CTR_HTTP_UPGRADES), 0);
}

static void test_body_until_close(void **state)
{
	(void)state;
	static const struct ev evs[] = {
		D(0, 1, "GET /old HTTP/1.0\r\n\r\n"),
		D(1, 2, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>"),
		GAP(1, 100),
		D(1, 3, "</html>"),
		END(1),
	};
	static const struct want w[] = {
		{1, 1, "GET", NULL, "/old", "1.0", NULL, 0, 0, 200, "OK", NUL, 113, 2, "\"gap\""},
	};
	CHECK(evs, LINES(w));
	assert_int_equal(ctr(RC_CTR_HTTP_GAPS_SKIPPED), 1);
}

static void test_one_sided(void **state)
{
	(void)state;
	static const char req[] = "GET /i HTTP/1.1\r\nHost: h\r\n\r\n";
	struct ev evs[100];
	for (int i = 0; i < 100; i++)
		evs[i] = (struct ev){EV_DATA, 0, req, sizeof(req) - 1, (uint64_t)i};
	struct cut whole = {0};
	char *out = run_cfg(evs, 100, &whole, NULL, NULL);
	assert_lines_valid(out);
	int n = 0;
	for (char *p = out; (p = strstr(p, "\"flags\":[\"no_response\"]}\n")); p++)
		n++;
	assert_int_equal(n, 100);
	assert_non_null(strstr(out, "\"trans_depth\":100,"));
	free(out);
	assert_int_equal(ctr(RC_CTR_HTTP_RECORDS), 100);
	assert_int_equal(ctr(RC_CTR_HTTP_PENDING_OVERFLOW), 1);
}

static void test_ports(void **state)
{
	(void)state;
	static const uint16_t ports[] = {8080, 3128};
	struct rc_http_config cfg;
	rc_http_config_default(&cfg);
	cfg.ports = ports;
	cfg.nports = 2;
	cfg.ctrs = &ctrs;
	memset(&ctrs, 0, sizeof(ctrs));
	struct rc_http *h = NULL;
	assert_int_equal(rc_http_new(&h, &cfg), 0);
	struct rc_http_meta m = meta0;
	assert_null(rc_http_conn_new(h, &m));
	assert_int_equal(ctr(RC_CTR_HTTP_CONNS_FILTERED), 1);
	m.resp_p = 3128;
	struct rc_http_conn *c = rc_http_conn_new(h, &m);
	assert_non_null(c);
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";
	rc_http_data(c, 0, (const uint8_t *)req, sizeof(req) - 1, T0);
	rc_http_end(c);
	rc_http_free(h);
	assert_int_equal(ctr(RC_CTR_HTTP_CONNS), 1);
	assert_int_equal(ctr(RC_CTR_HTTP_RECORDS), 1);

	cfg.ctrs = NULL;
	assert_int_equal(rc_http_new(&h, &cfg), -EINVAL);
}

static void test_no_output(void **state)
{
	(void)state;
	struct rc_http_config cfg;
	rc_http_config_default(&cfg);
	cfg.ctrs = &ctrs;
	memset(&ctrs, 0, sizeof(ctrs));
	struct rc_http *h = NULL;
	assert_int_equal(rc_http_new(&h, &cfg), 0);
	struct rc_http_conn *c = rc_http_conn_new(h, &meta0);
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	rc_http_data(c, 0, (const uint8_t *)req, sizeof(req) - 1, T0);
	rc_http_data(c, 1, (const uint8_t *)resp, sizeof(resp) - 1, T0);
	rc_http_end(c);
	rc_http_free(h);
	assert_int_equal(ctr(RC_CTR_HTTP_RECORDS), 1);
}

/* Two connections of one context, fed in turns: each pairs its own; records are recycled. */
static void test_interleaved_connections(void **state)
{
	(void)state;
	static const char req_a[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char req_b[] = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char resp_a[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA";
	static const char resp_b[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	struct rc_http_config cfg;
	rc_http_config_default(&cfg);
	cfg.out = f;
	cfg.ctrs = &ctrs;
	memset(&ctrs, 0, sizeof(ctrs));
	struct rc_http *h = NULL;
	assert_int_equal(rc_http_new(&h, &cfg), 0);
	for (int round = 0; round < 3; round++) {
		struct rc_http_conn *a = rc_http_conn_new(h, &meta0);
		struct rc_http_conn *b = rc_http_conn_new(h, &meta0);
		rc_http_data(a, 0, (const uint8_t *)req_a, 10, T0 + 1000000);
		rc_http_data(b, 0, (const uint8_t *)req_b, sizeof(req_b) - 1, T0 + 2000000);
		rc_http_data(a, 0, (const uint8_t *)req_a + 10, sizeof(req_a) - 11, T0 + 3000000);
		rc_http_data(b, 1, (const uint8_t *)resp_b, sizeof(resp_b) - 1, T0 + 4000000);
		rc_http_data(a, 1, (const uint8_t *)resp_a, sizeof(resp_a) - 1, T0 + 5000000);
		rc_http_end(b);
		rc_http_end(a);
	}
	rc_http_free(h);
	fclose(f);
	static const struct want w[] = {
		{1, 2, "GET", "h", "/b", "1.1", NULL, 1, 0, 404, "Not Found", NUL, 0, 4, ""},
		{1, 1, "GET", "h", "/a", "1.1", NULL, 1, 0, 200, "OK", NUL, 1, 5, ""},
	};
	const char *one = LINES(w);
	size_t n = strlen(one);
	assert_int_equal(blen, 3 * n);
	for (int round = 0; round < 3; round++)
		assert_memory_equal(buf + round * n, one, n);
	free(buf);
}

static void expect_file(const char *path, const char *want, size_t n)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t k = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(k, n);
	assert_memory_equal(buf, want, n);
}

static void test_bodies(void **state)
{
	(void)state;
	char dir[] = "/tmp/ringcap-http-XXXXXX", path[512];
	assert_non_null(mkdtemp(dir));
	struct rc_http_config cfg;
	rc_http_config_default(&cfg);
	cfg.bodies_dir = dir;
	static const struct ev evs[] = {
		D(0, 1, "POST /a HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world"),
		D(0, 2, "POST /b HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"),
		GAP(0, 5),
		D(0, 3, "cde"),
		D(0, 4, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n4\r\nz"),
		GAP(0, 3),
		D(0, 5, "\r\n0\r\n\r\nGET /d HTTP/1.1\r\n\r\n"),
	};
	struct cut whole = {0};
	char *out = run_cfg(evs, sizeof(evs) / sizeof(evs[0]), &whole, &cfg, NULL);
	assert_lines_valid(out);
	free(out);
	assert_int_equal(ctr(RC_CTR_HTTP_BODIES_WRITTEN), 3);
	assert_int_equal(ctr(RC_CTR_HTTP_BODIES_ERRORS), 0);
	const char *names[] = {"1", "2", "3", "4"};
	snprintf(path, sizeof(path), "%s/%s-%s", dir, meta0.uid, names[0]);
	expect_file(path, "hello world", 11);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s-%s", dir, meta0.uid, names[1]);
	expect_file(path, "ab\0\0\0\0\0cde", 10);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s-%s", dir, meta0.uid, names[2]);
	expect_file(path, "xyz\0\0\0", 6);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s-%s", dir, meta0.uid, names[3]);
	assert_int_equal(access(path, F_OK), -1); /* no body, no file */
	assert_int_equal(rmdir(dir), 0);
}

#define JV(lit) json_valid((lit), sizeof(lit) - 1)

static void test_json_validator(void **state)
{
	(void)state;
	/* The checker itself must reject what the writer must never produce. */
	assert_true(JV("{\"a\":[1,-2.5e3,\"x\\u00ff\",null,true]}"));
	assert_false(JV("{\"a\":\"\x01\"}"));
	assert_false(JV("{\"a\":\"\xff\"}"));
	assert_false(JV("{\"a\":\"\xed\xa0\x80\"}"));
	assert_false(JV("{\"a\":\"\\x\"}"));
	assert_false(JV("{\"a\":1}x"));
	assert_false(JV("{\"a\":01}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_validator),
		cmocka_unit_test(test_simple_get),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_post_content_length),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_no_body_statuses),
		cmocka_unit_test(test_gap_in_known_body),
		cmocka_unit_test(test_gap_in_headers),
		cmocka_unit_test(test_gap_past_body),
		cmocka_unit_test(test_gap_in_response_headers),
		cmocka_unit_test(test_not_http),
		cmocka_unit_test(test_bad_method),
		cmocka_unit_test(test_no_response),
		cmocka_unit_test(test_early_response),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_upgrade),
		cmocka_unit_test(test_body_until_close),
		cmocka_unit_test(test_one_sided),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_no_output),
		cmocka_unit_test(test_interleaved_connections),
		cmocka_unit_test(test_bodies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
