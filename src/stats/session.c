/* One stats-socket client's protocol, no socket: split request lines, write the JSON replies. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringcap/assert.h"
#include "ringcap/utf8.h"
#include "ringcap/report.h"
#include "statsd_internal.h"

/* An emptied reply buffer larger than this is freed rather than kept for the next replies. */
#define KEEP_OUT_MAX (64u << 10)

uint64_t rc_statsd_now_ns(void)
{
	struct timespec ts;
	RC_ASSERT(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void rc_statsd_sess_init(struct rc_statsd_sess *s, const struct rc_statsd_ops *ops,
			 uint64_t start_ns)
{
	memset(s, 0, offsetof(struct rc_statsd_sess, in));
	s->ops = ops;
	s->start_ns = start_ns;
	s->state = RC_SESS_OPEN;
	s->max_pending = RC_STATSD_MAX_PENDING;
}

void rc_statsd_sess_fini(struct rc_statsd_sess *s)
{
	free(s->out);
	s->out = NULL;
	s->out_off = s->out_len = s->out_cap = 0;
}

/* ---- JSON ---- */

void rc_statsd_json_str(FILE *f, const char *str, size_t n)
{
	const uint8_t *p = (const uint8_t *)str;
	size_t i = 0;

	fputc('"', f);
	while (i < n) {
		size_t run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' &&
		       p[run] != '\\')
			run++;
		fwrite(p + i, 1, run - i, f);
		i = run;
		if (i == n)
			break;
		uint8_t b = p[i];
		size_t u = b >= 0x80 ? rc_utf8_len(p + i, n - i) : 0;
		if (u) {
			fwrite(p + i, 1, u, f);
			i += u;
		} else if (b == '"' || b == '\\') {
			fprintf(f, "\\%c", b);
			i++;
		} else if (b == '\n') {
			fputs("\\n", f);
			i++;
		} else if (b == '\t') {
			fputs("\\t", f);
			i++;
		} else {
			/* Other control bytes, and bytes outside valid UTF-8 read as Latin-1. */
			fprintf(f, "\\u%04x", b);
			i++;
		}
	}
	fputc('"', f);
}

void rc_statsd_prom_name(char *buf, size_t size, int i)
{
	RC_ASSERT(i >= 0 && i < RC_CTR__COUNT && size > 0);
	const struct rc_ctr_desc *d = &rc_ctr_descs[i];
	int n = snprintf(buf, size, "ringcap_%s%s", d->name, d->kind == RC_COUNTER ? "_total" : "");
	RC_ASSERT(n > 0 && (size_t)n < size);
	for (char *c = buf; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			*c = '_';
}

/* ---- replies: each writes one line to f and returns whether it said "ok":true ---- */

static bool fail(FILE *f, const char *msg)
{
	fputs("{\"ok\":false,\"error\":", f);
	rc_statsd_json_str(f, msg, strlen(msg));
	fputs("}\n", f);
	return false;
}

static void totals(const struct rc_statsd_ops *ops, struct rc_ctrs *t)
{
	memset(t, 0, sizeof(*t));
	ops->totals(ops->arg, t);
}

static bool reply_stats(struct rc_statsd_sess *s, FILE *f)
{
	struct rc_ctrs t;
	totals(s->ops, &t);
	uint64_t up = (rc_statsd_now_ns() - s->start_ns) / 1000000u; /* ms */
	fprintf(f, "{\"ok\":true,\"uptime_s\":%" PRIu64 ".%03u,\"counters\":{", up / 1000,
		(unsigned)(up % 1000));
	rc_report_json_counters(f, &t);
	fputc('}', f);
	if (s->ops->detail)
		s->ops->detail(s->ops->arg, f);
	fputs("}\n", f);
	return true;
}

static bool reply_pcap_stats(struct rc_statsd_sess *s, FILE *f)
{
	uint64_t recv = 0, drop = 0;
	int64_t ifdrop = -1;
	if (!s->ops->pcap_stats)
		return fail(f, "pcap-stats not available");
	s->ops->pcap_stats(s->ops->arg, &recv, &drop, &ifdrop);
	fprintf(f, "{\"ok\":true,\"received\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"ifdropped\":",
		recv, drop);
	if (ifdrop < 0)
		fputs("null", f);
	else
		fprintf(f, "%" PRId64, ifdrop);
	fputs("}\n", f);
	return true;
}

static bool reply_flows(struct rc_statsd_sess *s, FILE *f, unsigned n)
{
	if (!s->ops->flows)
		return fail(f, "flows not available");
	fputs("{\"ok\":true,\"flows\":", f);
	s->ops->flows(s->ops->arg, n, f);
	fputs("}\n", f);
	return true;
}

/* A # HELP text: backslash and newline escaped (text format 0.0.4). */
static void prom_help(FILE *f, const char *h)
{
	for (; *h; h++) {
		if (*h == '\\')
			fputs("\\\\", f);
		else if (*h == '\n')
			fputs("\\n", f);
		else
			fputc(*h, f);
	}
}

static bool reply_prometheus(struct rc_statsd_sess *s, FILE *f)
{
	struct rc_ctrs t;
	char *text = NULL, name[160];
	size_t len = 0;
	FILE *tf = open_memstream(&text, &len);
	if (!tf)
		return fail(f, "out of memory");
	totals(s->ops, &t);
	for (int i = 0; i < RC_CTR__COUNT; i++) {
		rc_statsd_prom_name(name, sizeof(name), i);
		fprintf(tf, "# HELP %s ", name);
		prom_help(tf, rc_ctr_descs[i].help);
		fprintf(tf, "\n# TYPE %s %s\n%s %" PRIu64 "\n", name,
			rc_ctr_descs[i].kind == RC_COUNTER ? "counter" : "gauge", name, t.v[i]);
	}
	if (fclose(tf) != 0 || !text) {
		free(text);
		return fail(f, "out of memory");
	}
	fputs("{\"ok\":true,\"format\":\"prometheus-0.0.4\",\"text\":", f);
	rc_statsd_json_str(f, text, len);
	fputs("}\n", f);
	free(text);
	return true;
}

static bool reply_filter(struct rc_statsd_sess *s, FILE *f, const char *arg, size_t len)
{
	const struct rc_statsd_ops *ops = s->ops;
	if (!arg) {
		if (!ops->get_filter)
			return fail(f, "filter not available");
		const char *cur = ops->get_filter(ops->arg);
		fputs("{\"ok\":true,\"filter\":", f);
		if (cur)
			rc_statsd_json_str(f, cur, strlen(cur));
		else
			fputs("null", f);
		fputs("}\n", f);
		return true;
	}
	if (!ops->set_filter)
		return fail(f, "filter changes not available");
	char expr[RC_STATSD_MAX_REQUEST], err[512] = "";
	RC_ASSERT(len < sizeof(expr));
	memcpy(expr, arg, len);
	expr[len] = '\0';
	if (ops->set_filter(ops->arg, expr, err, sizeof(err)) != 0) {
		err[sizeof(err) - 1] = '\0';
		return fail(f, err[0] ? err : "filter refused");
	}
	fputs("{\"ok\":true,\"filter\":", f);
	rc_statsd_json_str(f, expr, len);
	fputs("}\n", f);
	return true;
}

static bool reply_help(FILE *f)
{
	fprintf(f,
		"{\"ok\":true,\"requests\":{"
		"\"stats\":\"every counter by its dotted name, the uptime, per ring, queue and "
		"decoder detail\","
		"\"pcap-stats\":\"received, dropped and ifdropped, as pypcap's stats()\","
		"\"flows\":\"flows [N]: the N (default %u, at most %u) live flows with the most "
		"bytes\","
		"\"prometheus\":\"every counter in the Prometheus text format 0.0.4\","
		"\"filter\":\"filter: the filter in force; filter EXPR: compile EXPR and swap "
		"it in on every ring\","
		"\"help\":\"this list\"}}\n",
		RC_STATSD_DEFAULT_FLOWS, RC_STATSD_MAX_FLOWS);
	return true;
}

static bool write_reply(struct rc_statsd_sess *s, FILE *f, const struct rc_statsd_parsed *p)
{
	switch (p->kind) {
	case RC_STATSD_REQ_STATS:
		return reply_stats(s, f);
	case RC_STATSD_REQ_PCAP_STATS:
		return reply_pcap_stats(s, f);
	case RC_STATSD_REQ_FLOWS:
		return reply_flows(s, f, p->count);
	case RC_STATSD_REQ_PROMETHEUS:
		return reply_prometheus(s, f);
	case RC_STATSD_REQ_FILTER:
		return reply_filter(s, f, p->arg, p->arg_len);
	case RC_STATSD_REQ_HELP:
		return reply_help(f);
	case RC_STATSD_REQ_BAD:
		return fail(f, p->err);
	}
	RC_WRONG("request kind");
	return false;
}

/* ---- the reply buffer ---- */

/* Queue a reply (taking buf); past max_pending the client is dropped. */
static void push(struct rc_statsd_sess *s, char *buf, size_t n)
{
	size_t pending = rc_statsd_sess_pending(s);
	if (pending + n > s->max_pending) {
		free(buf);
		s->overflow = true;
		s->state = RC_SESS_DROP;
		return;
	}
	if (pending == 0) {
		/* The common case, one reply at a time: the reply becomes the buffer. */
		free(s->out);
		s->out = buf;
		s->out_off = 0;
		s->out_len = s->out_cap = n;
		return;
	}
	if (s->out_cap - s->out_len < n && s->out_off > 0) {
		memmove(s->out, s->out + s->out_off, pending);
		s->out_off = 0;
		s->out_len = pending;
	}
	if (s->out_cap - s->out_len < n) {
		size_t cap = s->out_cap * 2 > s->out_len + n ? s->out_cap * 2 : s->out_len + n;
		char *nb = realloc(s->out, cap);
		if (!nb) {
			free(buf);
			s->state = RC_SESS_DROP;
			return;
		}
		s->out = nb;
		s->out_cap = cap;
	}
	memcpy(s->out + s->out_len, buf, n);
	s->out_len += n;
	free(buf);
}

void rc_statsd_sess_sent(struct rc_statsd_sess *s, size_t n)
{
	RC_ASSERT(n <= rc_statsd_sess_pending(s));
	s->out_off += n;
	if (s->out_off == s->out_len) {
		s->out_off = s->out_len = 0;
		if (s->out_cap > KEEP_OUT_MAX) {
			free(s->out);
			s->out = NULL;
			s->out_cap = 0;
		}
	}
}

/* Answer one request line (no newline, no '\r' before it). */
static void answer(struct rc_statsd_sess *s, const char *line, size_t len)
{
	struct rc_statsd_parsed p;
	char *buf = NULL;
	size_t n = 0;

	rc_statsd_parse(line, len, &p);
	FILE *f = open_memstream(&buf, &n);
	if (!f) {
		s->state = RC_SESS_DROP;
		return;
	}
	bool ok = write_reply(s, f, &p);
	if (fclose(f) != 0 || !buf || n == 0 || buf[n - 1] != '\n') {
		free(buf);
		s->state = RC_SESS_DROP;
		return;
	}
	/* One line whatever a callback wrote: a raw newline can only sit between JSON tokens,
	 * where a space means the same. */
	for (char *nl = buf; (nl = memchr(nl, '\n', n - 1 - (size_t)(nl - buf))) != NULL;)
		*nl = ' ';
	s->replies++;
	if (!ok)
		s->errors++;
	push(s, buf, n);
}

/* An error reply, then no more requests. */
static void refuse(struct rc_statsd_sess *s, const char *msg)
{
	struct rc_statsd_parsed p = {.kind = RC_STATSD_REQ_BAD};
	snprintf(p.err, sizeof(p.err), "%s", msg);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f) {
		s->state = RC_SESS_DROP;
		return;
	}
	fail(f, p.err);
	if (fclose(f) != 0 || !buf) {
		free(buf);
		s->state = RC_SESS_DROP;
		return;
	}
	s->replies++;
	s->errors++;
	s->protocol_error = true;
	push(s, buf, n);
	if (s->state == RC_SESS_OPEN)
		s->state = RC_SESS_CLOSING;
}

static void line(struct rc_statsd_sess *s, const char *p, size_t len)
{
	if (len > 0 && p[len - 1] == '\r')
		len--;
	size_t i = 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == len)
		return; /* blank: no reply */
	answer(s, p, len);
}

enum rc_sess_state rc_statsd_sess_input(struct rc_statsd_sess *s, const char *buf, size_t n)
{
	size_t i = 0;
	while (i < n && s->state == RC_SESS_OPEN) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t seg = nl ? (size_t)(nl - (buf + i)) : n - i;
		if (memchr(buf + i, '\0', seg)) {
			refuse(s, "request contains a NUL byte");
			break;
		}
		/* A line may take RC_STATSD_MAX_REQUEST bytes with its newline. */
		if (s->in_len + seg > RC_STATSD_MAX_REQUEST - 1) {
			char msg[64];
			snprintf(msg, sizeof(msg), "request longer than %u bytes",
				 RC_STATSD_MAX_REQUEST);
			refuse(s, msg);
			break;
		}
		if (!nl) {
			memcpy(s->in + s->in_len, buf + i, seg);
			s->in_len += seg;
			break;
		}
		if (s->in_len == 0) {
			line(s, buf + i, seg);
		} else {
			memcpy(s->in + s->in_len, buf + i, seg);
			size_t len = s->in_len + seg;
			s->in_len = 0;
			line(s, s->in, len);
		}
		i += seg + 1;
	}
	return s->state;
}

enum rc_sess_state rc_statsd_sess_eof(struct rc_statsd_sess *s)
{
	if (s->state != RC_SESS_OPEN)
		return s->state;
	if (s->in_len > 0) {
		size_t len = s->in_len;
		s->in_len = 0;
		line(s, s->in, len);
	}
	if (s->state == RC_SESS_OPEN)
		s->state = RC_SESS_CLOSING;
	return s->state;
}
