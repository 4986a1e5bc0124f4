/*
 * libFuzzer target of the stats socket's request handling: the input is what a client sends,
 * fed to one connection's protocol (src/stats/session.c, the server's own code less the socket)
 * with fake engine callbacks; and each request line to the parser on its own.
 *
 * Byte 0 is the config: bits 0-2 pick the size of the pieces the stream arrives in (1, 2, 3, 7,
 * 64, 4096, 16384 bytes, or all at once); bit 3: the client reads nothing until the end; bit 4:
 * the stats detail is 2 KiB and the bound on unread replies 32 KiB (else RC_STATSD_MAX_PENDING,
 * which only slow inputs reach); bit 5: the engine offers only totals (every other request is
 * "not available"). The rest is the client's stream. Checked: every reply is one line of valid
 * JSON starting {"ok":true or {"ok":false,"error":; unread replies never pass the bound; nothing
 * is answered once the connection is closing; and the number of replies is what an independent
 * model of the framing rules expects (one per non-blank line; at a NUL byte or an over-long line,
 * one error and the end).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringcap/assert.h"
#include "ringcap/statsd.h"

#include "../../src/stats/statsd_internal.h"
#include "json-valid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t detail_pad;
static char filter_now[RC_STATSD_MAX_REQUEST];
static size_t filter_len;
static int filter_set;

static void fake_totals(void *arg, struct rc_ctrs *out)
{
	(void)arg;
	for (int i = 0; i < RC_CTR__COUNT; i++)
		out->v[i] = (uint64_t)i * 0x9e3779b97f4a7c15ull;
}

static void fake_detail(void *arg, FILE *f)
{
	(void)arg;
	fputs(",\"rings\":[{\"id\":0}]", f);
	if (detail_pad) {
		static const char xs[1024] = {[0 ... 1023] = 'x'};
		fputs(",\"pad\":\"", f);
		for (size_t i = 0; i < detail_pad; i += sizeof(xs))
			fwrite(xs, 1, sizeof(xs), f);
		fputc('"', f);
	}
}

static void fake_pcap_stats(void *arg, uint64_t *received, uint64_t *dropped, int64_t *ifd)
{
	(void)arg;
	*received = UINT64_MAX;
	*dropped = 0;
	*ifd = filter_set ? -1 : INT64_MAX;
}

static void fake_flows(void *arg, unsigned n, FILE *f)
{
	(void)arg;
	RC_ASSERT(n >= 1 && n <= RC_STATSD_MAX_FLOWS);
	fputc('[', f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s{\"r\":%u}", i ? "," : "", i);
	fputc(']', f);
}

/* Accepts an expression of even length; the refusal quotes the raw bytes back. */
static int fake_set_filter(void *arg, const char *expr, char *err, size_t errlen)
{
	(void)arg;
	size_t n = strlen(expr);
	RC_ASSERT(n > 0 && n < RC_STATSD_MAX_REQUEST);
	RC_ASSERT(expr[0] != ' ' && expr[0] != '\t' && expr[n - 1] != ' ' && expr[n - 1] != '\t');
	if (n % 2 == 0) {
		memcpy(filter_now, expr, n + 1);
		filter_len = n;
		filter_set = 1;
		return 0;
	}
	snprintf(err, errlen, "syntax error in '%s'", expr);
	return -1;
}

static const char *fake_get_filter(void *arg)
{
	(void)arg;
	return filter_set ? filter_now : NULL;
}

static const struct rc_statsd_ops full_ops = {
	.totals = fake_totals,
	.detail = fake_detail,
	.pcap_stats = fake_pcap_stats,
	.flows = fake_flows,
	.set_filter = fake_set_filter,
	.get_filter = fake_get_filter,
};

static const struct rc_statsd_ops bare_ops = {.totals = fake_totals};

static void check_line(const char *p, size_t n)
{
	static const char ok[] = "{\"ok\":true", bad[] = "{\"ok\":false,\"error\":\"";
	RC_ASSERT(json_valid(p, n));
	RC_ASSERT(memchr(p, '\n', n) == NULL);
	RC_ASSERT((n > sizeof(ok) - 1 && memcmp(p, ok, sizeof(ok) - 1) == 0) ||
		  (n > sizeof(bad) - 1 && memcmp(p, bad, sizeof(bad) - 1) == 0));
}

/* Check and take every pending reply; return how many lines. */
static uint64_t drain(struct rc_statsd_sess *s)
{
	uint64_t lines = 0;
	if (rc_statsd_sess_pending(s) == 0)
		return 0; /* out may be NULL */
	const char *p = s->out + s->out_off, *end = s->out + s->out_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		RC_ASSERT(nl); /* replies are whole lines */
		check_line(p, (size_t)(nl - p));
		lines++;
		p = nl + 1;
	}
	rc_statsd_sess_sent(s, rc_statsd_sess_pending(s));
	return lines;
}

/* The parser on its own, with what it promises. */
static void parse_one(const char *line, size_t len)
{
	struct rc_statsd_parsed p;
	char *copy = malloc(len ? len : 1); /* exact size: an over-read faults under ASan */
	RC_ASSERT(copy);
	memcpy(copy, line, len);
	rc_statsd_parse(copy, len, &p);
	RC_ASSERT(p.kind <= RC_STATSD_REQ_BAD);
	RC_ASSERT(memchr(p.err, '\0', sizeof(p.err)) != NULL);
	RC_ASSERT((p.kind == RC_STATSD_REQ_BAD) == (p.err[0] != '\0'));
	if (p.kind == RC_STATSD_REQ_FLOWS)
		RC_ASSERT(p.count >= 1 && p.count <= RC_STATSD_MAX_FLOWS);
	if (p.arg) {
		RC_ASSERT(p.kind == RC_STATSD_REQ_FILTER);
		RC_ASSERT(p.arg >= copy && p.arg_len > 0 && p.arg + p.arg_len <= copy + len);
	}
	free(copy);
}

/*
 * How many replies the framing rules give this stream, counted byte by byte; *cut: it ends at a
 * NUL byte or an over-long line.
 */
static uint64_t model(const uint8_t *d, size_t n, bool *cut)
{
	uint64_t replies = 0;
	size_t start = 0;
	*cut = false;
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '\0' || (d[i] != '\n' && i - start + 1 > RC_STATSD_MAX_REQUEST - 1)) {
			*cut = true;
			return replies + 1; /* the error, then the end */
		}
		if (d[i] != '\n')
			continue;
		size_t e = i;
		if (e > start && d[e - 1] == '\r')
			e--;
		for (size_t j = start; j < e; j++)
			if (d[j] != ' ' && d[j] != '\t') {
				replies++;
				break;
			}
		start = i + 1;
	}
	size_t e = n; /* a last line without its newline, answered at the end */
	if (e > start && d[e - 1] == '\r')
		e--;
	for (size_t j = start; j < e; j++)
		if (d[j] != ' ' && d[j] != '\t')
			return replies + 1;
	return replies;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t pieces[] = {1, 2, 3, 7, 64, 4096, 16384, SIZE_MAX};
	static struct rc_statsd_sess s;

	if (size < 1)
		return 0;
	uint8_t cfg = data[0];
	const char *in = (const char *)data + 1;
	size_t n = size - 1, piece = pieces[cfg & 7];
	bool reads = !(cfg & 8);
	detail_pad = (cfg & 16) ? 2u << 10 : 0;
	filter_set = 0;

	/* Each line alone through the parser, '\r' and all. */
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(in + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (in + i)) : n - i;
		parse_one(in + i, len);
		i += len + 1;
	}

	rc_statsd_sess_init(&s, (cfg & 32) ? &bare_ops : &full_ops, rc_statsd_now_ns());
	if (cfg & 16)
		s.max_pending = 32u << 10;
	uint64_t lines = 0;
	for (size_t i = 0; i < n;) {
		size_t k = n - i < piece ? n - i : piece;
		enum rc_sess_state before = s.state;
		size_t pending = rc_statsd_sess_pending(&s);
		enum rc_sess_state st = rc_statsd_sess_input(&s, in + i, k);
		RC_ASSERT(st == s.state);
		if (before != RC_SESS_OPEN) /* nothing more once closing */
			RC_ASSERT(st == before && rc_statsd_sess_pending(&s) == pending);
		RC_ASSERT(rc_statsd_sess_pending(&s) <= s.max_pending);
		RC_ASSERT(s.in_len < RC_STATSD_MAX_REQUEST);
		if (st == RC_SESS_DROP)
			break;
		if (reads)
			lines += drain(&s);
		i += k;
	}
	if (s.state != RC_SESS_DROP) {
		enum rc_sess_state st = rc_statsd_sess_eof(&s);
		RC_ASSERT(st != RC_SESS_OPEN);
		if (st != RC_SESS_DROP) {
			lines += drain(&s);
			bool cut;
			RC_ASSERT(lines == s.replies);
			RC_ASSERT(s.replies == model((const uint8_t *)in, n, &cut));
			RC_ASSERT(s.protocol_error == cut);
		}
	} else {
		RC_ASSERT(s.overflow);
	}
	rc_statsd_sess_fini(&s);
	return 0;
}
