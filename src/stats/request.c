/* The stats socket's request parser: one line in, a request kind and its argument out. Pure. */
#include <stdio.h>
#include <string.h>

#include "ringcap/statsd.h"

/* Bytes of an unknown request echoed back in its error message. */
#define ECHO_MAX 48

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int word_is(const char *w, size_t n, const char *kw)
{
	return n == strlen(kw) && memcmp(w, kw, n) == 0;
}

static void bad(struct rc_statsd_parsed *out, const char *msg)
{
	out->kind = RC_STATSD_REQ_BAD;
	snprintf(out->err, sizeof(out->err), "%s", msg);
}

/*
 * "unknown request '<line>': try help". At most ECHO_MAX bytes of the line are echoed, never cut
 * inside a UTF-8 sequence and never past a NUL (err stays a C string); the JSON writer escapes
 * whatever else they hold.
 */
static void unknown(struct rc_statsd_parsed *out, const char *line, size_t len)
{
	const char *nul = memchr(line, '\0', len);
	size_t n = nul ? (size_t)(nul - line) : len;
	int cut = n < len;
	if (n > ECHO_MAX) {
		n = ECHO_MAX;
		/* Back off over continuation bytes so a multi-byte character is kept whole or not
		 * at all (a lead byte alone would be escaped, but reads worse). */
		for (int i = 0; i < 3 && n > 0 && ((unsigned char)line[n] & 0xc0) == 0x80; i++)
			n--;
		cut = 1;
	}
	out->kind = RC_STATSD_REQ_BAD;
	snprintf(out->err, sizeof(out->err), "unknown request '%.*s%s': try help", (int)n, line,
		 cut ? "..." : "");
}

/* flows' count: decimal digits only, 1 to RC_STATSD_MAX_FLOWS. */
static int parse_count(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > RC_STATSD_MAX_FLOWS)
			return -1;
	}
	if (v < 1)
		return -1;
	*out = v;
	return 0;
}

void rc_statsd_parse(const char *line, size_t len, struct rc_statsd_parsed *out)
{
	memset(out, 0, sizeof(*out));

	/* The line without blanks around it; then its first word and the rest. */
	size_t b = 0, e = len;
	while (b < e && is_blank(line[b]))
		b++;
	while (e > b && is_blank(line[e - 1]))
		e--;
	const char *w = line + b;
	size_t wn = 0;
	while (b + wn < e && !is_blank(w[wn]))
		wn++;
	const char *rest = w + wn;
	size_t rn = e - b - wn;
	while (rn > 0 && is_blank(*rest)) {
		rest++;
		rn--;
	}

	if (word_is(w, wn, "stats"))
		out->kind = RC_STATSD_REQ_STATS;
	else if (word_is(w, wn, "pcap-stats"))
		out->kind = RC_STATSD_REQ_PCAP_STATS;
	else if (word_is(w, wn, "prometheus"))
		out->kind = RC_STATSD_REQ_PROMETHEUS;
	else if (word_is(w, wn, "help"))
		out->kind = RC_STATSD_REQ_HELP;
	else if (word_is(w, wn, "flows")) {
		out->kind = RC_STATSD_REQ_FLOWS;
		out->count = RC_STATSD_DEFAULT_FLOWS;
		if (rn > 0 && parse_count(rest, rn, &out->count) < 0) {
			out->count = 0;
			snprintf(out->err, sizeof(out->err),
				 "flows takes a count from 1 to %u (default %u)",
				 RC_STATSD_MAX_FLOWS, RC_STATSD_DEFAULT_FLOWS);
			out->kind = RC_STATSD_REQ_BAD;
		}
		return;
	} else if (word_is(w, wn, "filter")) {
		out->kind = RC_STATSD_REQ_FILTER;
		if (rn > 0) {
			out->arg = rest;
			out->arg_len = rn;
		}
		return;
	} else {
		unknown(out, line + b, e - b);
		return;
	}
	if (rn > 0) {
		char msg[64];
		snprintf(msg, sizeof(msg), "%.*s takes no argument", (int)wn, w);
		bad(out, msg);
	}
}
