/*
 * ringcap-stat: the client of a running ringcap's stats socket (protocol: ringcap/statsd.h). It
 * shows the counters once or as a line of rates per interval, pypcap's pc.stats() triple, the top
 * flows, the Prometheus text, and swaps the filter.
 *
 * Replies are untrusted input: each is read with a bound (64 MiB per line) and a deadline, then
 * checked by a small JSON reader that walks (buffer, length) with a nesting bound and never reads
 * past either; only then are members looked up in it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ringcap/counters.h"
#include "toolkit.h"

#define PROG "ringcap-stat"

#define die_usage(...) tk_die_usage(PROG, __VA_ARGS__)
#define die(...)       tk_die(PROG, __VA_ARGS__)

#define DEFAULT_PATH	"/run/ringcap/ringcap.sock" /* RC_STATSD_DEFAULT_PATH */
#define MAX_REQUEST	4096			    /* RC_STATSD_MAX_REQUEST, newline included */
#define MAX_REPLY	(64u << 20)		    /* bytes of one reply line, newline excluded */
#define MAX_DEPTH	64			    /* JSON nesting we accept */
#define MAX_FLOWS	1000			    /* the server's bound on flows N */
#define HEADER_EVERY	20			    /* -w: lines between headers */
#define DEFAULT_TIMEOUT 5.0

enum mode { MODE_STATS, MODE_WATCH, MODE_PCAP, MODE_FLOWS, MODE_PROM, MODE_FILTER, MODE_RAW };

static const char *const mode_opt[] = {
	[MODE_STATS] = "",    [MODE_WATCH] = "-w",	    [MODE_PCAP] = "-p",
	[MODE_FLOWS] = "-f",  [MODE_PROM] = "--prometheus", [MODE_FILTER] = "--filter",
	[MODE_RAW] = "--raw",
};

struct opts {
	const char *path;
	double timeout;	 /* seconds, per connect and per reply */
	double interval; /* -w */
	uint64_t count;	 /* -c: samples, 0 = until stopped */
	bool json;
	enum mode mode;
	unsigned flows;	 /* -f N, 0 = the server's default */
	const char *arg; /* --filter EXPR, --raw REQUEST */
};

/* Signals stop -w only where it waits (ppoll with wait_mask), never halfway through a line. */
static volatile sig_atomic_t stop_flag;
static sigset_t wait_mask;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* ---- messages ------------------------------------------------------------------------------ */

static const char help[] =
	"Usage: " PROG " [-s PATH] [-t SEC] [-j] [VIEW]\n"
	"VIEW, at most one (none: the counters, once):\n"
	"  -w SEC [-c N] | -p | -f [N] | --prometheus | --filter EXPR | --raw REQUEST\n"
	"\n"
	"Read the counters of a running ringcap from its stats socket, without slowing the\n"
	"capture down: once, as a line of rates every few seconds, as pypcap's pc.stats(), as\n"
	"the top flows or as Prometheus text; it also swaps the capture filter.\n"
	"\n"
	"Options:\n"
	"  -s, --socket PATH   ringcap's stats socket (default " DEFAULT_PATH ";\n"
	"                      the one ringcap was given with --stats-socket PATH)\n"
	"  -t, --timeout SEC   give up when connecting, or waiting for a reply, takes longer\n"
	"                      than SEC seconds (decimals allowed; default 5)\n"
	"  -j, --json          print the replies as JSON, one line each: the reply as ringcap\n"
	"                      sent it, or with -w each stats reply with the rates added\n"
	"  -w, --watch SEC     every SEC seconds (decimals allowed, e.g. 0.1; at least 0.01)\n"
	"                      print one line of rates over the last interval; stops on\n"
	"                      SIGINT or SIGTERM (exit status 0), after -c samples, or when\n"
	"                      ringcap goes away (exit status 1)\n"
	"  -c, --count N       with -w: stop after N lines (samples)\n"
	"  -p, --pcap-stats    print pc.stats() of pypcap as one line of three numbers,\n"
	"                      \"received dropped ifdropped\", ifdropped -1 when the interface\n"
	"                      keeps no such counter\n"
	"  -f, --flows [N]     the N (1 to 1000, default ringcap's: 10) live flows with the\n"
	"                      most bytes, one line each as key=value pairs\n"
	"      --prometheus    every counter in the Prometheus text format 0.0.4, e.g. for\n"
	"                      node_exporter's textfile collector\n"
	"      --filter EXPR   compile EXPR (pcap-filter(7)) and swap it in on every ring\n"
	"                      without a restart, then print the filter in force; when the\n"
	"                      expression is refused, libpcap's message goes to standard error,\n"
	"                      the old filter stays, and the exit status is 1. An empty EXPR\n"
	"                      ('') only prints the filter in force\n"
	"      --raw REQUEST   send one request line and print the reply line as is\n"
	"  -h, --help          this text\n"
	"\n"
	"The counters, once: the main counters first, always (pcap.received, pcap.dropped and\n"
	"pcap.ifdropped as libpcap counts them, capture.packets and capture.bytes the capture\n"
	"threads walked, decode.packets, queue.full, overflow.spilled, overflow.lost,\n"
	"disk.packets, flow.active), then every other counter that is not zero, grouped by the\n"
	"first part of its dotted name; each with its value and, for counters (not gauges), its\n"
	"average per second since ringcap started. The per-ring, per-queue and per-decoder\n"
	"detail of the reply is shown by -j only.\n"
	"\n"
	"The rates (-w), over each interval, measured on this side's monotonic clock:\n"
	"  pps       capture.packets per second\n"
	"  Mbit/s    capture.bytes, in 10^6 bits per second\n"
	"  drops/s   packets lost per second: pcap.dropped (the kernel's ring was full) +\n"
	"            queue.full (a decoder's queue was) + overflow.lost (so was the --overflow\n"
	"            writer's)\n"
	"  loss%     those lost packets, in percent of pcap.received (0 when none arrived)\n"
	"  flows     flow.active, the flows in the table at the end of the interval\n"
	"  http/s    http.requests per second\n"
	"  spill/s   overflow.spilled per second (packets written to --overflow files)\n"
	"A counter the reply lacks shows as '-' (null with -j); one that went down (ringcap was\n"
	"restarted) counts from zero. The header is repeated every 20 lines. The first line\n"
	"comes SEC seconds after the start. With -j, each line is the stats reply with\n"
	"\"interval_s\" and "
	"\"rates\":{\"pps\",\"mbit_s\",\"drops_s\",\"loss_pct\",\"flows_active\",\n"
	"\"http_requests_s\",\"spilled_s\"} added.\n"
	"\n"
	"Protocol (a unix stream socket; see ringcap's README): one request per line, one reply\n"
	"per request, each one JSON object on one line, {\"ok\":true,...} or\n"
	"{\"ok\":false,\"error\":\"...\"}, in the order of the requests. Requests:\n"
	"  stats         {\"ok\":true,\"uptime_s\":S,\"counters\":{\"NAME\":N,...},...detail}\n"
	"  pcap-stats    {\"ok\":true,\"received\":N,\"dropped\":N,\"ifdropped\":N|null}\n"
	"  flows [N]     {\"ok\":true,\"flows\":[...]}\n"
	"  prometheus    {\"ok\":true,\"format\":\"prometheus-0.0.4\",\"text\":\"...\"}\n"
	"  filter [EXPR] {\"ok\":true,\"filter\":\"EXPR\"|null}\n"
	"  help          {\"ok\":true,\"requests\":{...}}\n"
	"A request is at most 4096 bytes with its newline. ringcap closes a connection idle for\n"
	"a minute; -w reconnects once when that happens.\n"
	"\n"
	"Exit status: 0 done (or -w stopped by a signal); 1 cannot connect (ringcap is not\n"
	"running, or the path or permissions are wrong), no reply in time, a malformed reply,\n"
	"a request that failed ({\"ok\":false}: the error goes to standard error), or ringcap "
	"went\n"
	"away during -w; 2 a bad command line.\n"
	"\n"
	"Examples:\n"
	"  " PROG " -w 1                      rates once a second, until Ctrl-C\n"
	"  " PROG " -j -w 10 -c 6 > rates.json  a minute of samples for a script\n"
	"  " PROG " --filter 'tcp port 80'    capture only HTTP from now on\n"
	"  " PROG " --raw help                the requests ringcap knows\n";

/* p[0..n) for a message: bytes a terminal should not get as \xNN, cut after 80 bytes. */
static const char *excerpt(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)p[i];

		if (i == 80) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* ---- JSON: a checking reader over (buffer, length) ---------------------------------------- */

/* A JSON value inside a reply line, not copied. */
struct jspan {
	const char *p;
	size_t n;
};

static size_t skip_ws(const char *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A string starting at p[*i] == '"': true with *i past its closing quote, false if malformed. */
static bool skip_string(const char *p, size_t n, size_t *i)
{
	size_t j = *i + 1;

	while (j < n) {
		unsigned char c = (unsigned char)p[j];

		if (c == '"') {
			*i = j + 1;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\') {
			j++;
			continue;
		}
		if (++j >= n)
			return false;
		switch (p[j]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			j++;
			break;
		case 'u':
			if (n - j < 5)
				return false;
			for (int k = 1; k <= 4; k++)
				if (hexval(p[j + k]) < 0)
					return false;
			j += 5;
			break;
		default:
			return false;
		}
	}
	return false;
}

static bool skip_digits(const char *p, size_t n, size_t *i)
{
	size_t j = *i;

	while (j < n && p[j] >= '0' && p[j] <= '9')
		j++;
	if (j == *i)
		return false;
	*i = j;
	return true;
}

/* A number by JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool skip_number(const char *p, size_t n, size_t *i)
{
	size_t j = *i;

	if (j < n && p[j] == '-')
		j++;
	if (j < n && p[j] == '0')
		j++;
	else if (!skip_digits(p, n, &j))
		return false;
	if (j < n && p[j] == '.') {
		j++;
		if (!skip_digits(p, n, &j))
			return false;
	}
	if (j < n && (p[j] == 'e' || p[j] == 'E')) {
		j++;
		if (j < n && (p[j] == '+' || p[j] == '-'))
			j++;
		if (!skip_digits(p, n, &j))
			return false;
	}
	*i = j;
	return true;
}

static bool skip_literal(const char *p, size_t n, size_t *i, const char *lit)
{
	size_t len = strlen(lit);

	if (n - *i < len || memcmp(p + *i, lit, len) != 0)
		return false;
	*i += len;
	return true;
}

/*
 * One value starting at or after p[*i] (leading white space skipped): true with *i just past it,
 * false if it is malformed, cut short or nested deeper than MAX_DEPTH. Recursion is bounded by
 * that depth.
 */
static bool skip_value(const char *p, size_t n, size_t *i, int depth)
{
	size_t j = skip_ws(p, n, *i);
	char close;

	if (j >= n)
		return false;
	switch (p[j]) {
	case '"':
		if (!skip_string(p, n, &j))
			return false;
		break;
	case 't':
		if (!skip_literal(p, n, &j, "true"))
			return false;
		break;
	case 'f':
		if (!skip_literal(p, n, &j, "false"))
			return false;
		break;
	case 'n':
		if (!skip_literal(p, n, &j, "null"))
			return false;
		break;
	case '{':
	case '[':
		if (depth >= MAX_DEPTH)
			return false;
		close = p[j] == '{' ? '}' : ']';
		j = skip_ws(p, n, j + 1);
		if (j < n && p[j] == close) {
			j++;
			break;
		}
		for (;;) {
			if (close == '}') {
				j = skip_ws(p, n, j);
				if (j >= n || p[j] != '"' || !skip_string(p, n, &j))
					return false;
				j = skip_ws(p, n, j);
				if (j >= n || p[j] != ':')
					return false;
				j++;
			}
			if (!skip_value(p, n, &j, depth + 1))
				return false;
			j = skip_ws(p, n, j);
			if (j >= n)
				return false;
			if (p[j] == close) {
				j++;
				break;
			}
			if (p[j] != ',')
				return false;
			j++;
		}
		break;
	default:
		if (p[j] != '-' && (p[j] < '0' || p[j] > '9'))
			return false;
		if (!skip_number(p, n, &j))
			return false;
	}
	*i = j;
	return true;
}

/* Members of an object (or elements of an array) in order: a cursor over a checked span. */
struct jiter {
	struct jspan v;
	size_t i;
	bool object;
};

static void jiter_begin(struct jiter *it, struct jspan v)
{
	it->v = v;
	it->i = 1;
	it->object = v.n && v.p[0] == '{';
}

/* The next member: 1 with *key (raw, quotes included; unset for arrays) and *val, 0 at the end,
 * -1 if the span is malformed (never for one skip_value accepted). */
static int jiter_next(struct jiter *it, struct jspan *key, struct jspan *val)
{
	const char *p = it->v.p;
	size_t n = it->v.n, j = skip_ws(p, n, it->i), start;

	if (j < n && p[j] == ',')
		j = skip_ws(p, n, j + 1);
	if (j >= n)
		return -1;
	if (p[j] == '}' || p[j] == ']')
		return 0;
	if (it->object) {
		start = j;
		if (p[j] != '"' || !skip_string(p, n, &j))
			return -1;
		if (key)
			*key = (struct jspan){p + start, j - start};
		j = skip_ws(p, n, j);
		if (j >= n || p[j] != ':')
			return -1;
		j = skip_ws(p, n, j + 1);
	}
	start = j;
	if (!skip_value(p, n, &j, 0))
		return -1;
	*val = (struct jspan){p + start, j - start};
	it->i = j;
	return 1;
}

static void put_utf8(char *out, size_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		out[(*o)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*o)++] = (char)(0xc0 | cp >> 6);
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xe0 | cp >> 12);
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*o)++] = (char)(0xf0 | cp >> 18);
		out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	}
}

static uint32_t hex4(const char *p)
{
	return (uint32_t)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 |
			  hexval(p[3]));
}

/*
 * Decode a checked string span (quotes included) into out, which must hold s.n bytes: no escape
 * decodes to more bytes than it takes. A lone surrogate becomes U+FFFD. Returns the length (the
 * text may hold NUL bytes), or -1 when s is not a string.
 */
static ptrdiff_t jstr_decode(struct jspan s, char *out)
{
	size_t o = 0, i = 1, end;

	if (s.n < 2 || s.p[0] != '"' || s.p[s.n - 1] != '"')
		return -1;
	end = s.n - 1;
	while (i < end) {
		uint32_t cp;

		if (s.p[i] != '\\') {
			out[o++] = s.p[i++];
			continue;
		}
		if (i + 1 >= end)
			return -1;
		switch (s.p[i + 1]) {
		case 'b':
			out[o++] = '\b';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'u':
			if (end - i < 6)
				return -1;
			for (int k = 2; k < 6; k++)
				if (hexval(s.p[i + k]) < 0)
					return -1;
			cp = hex4(s.p + i + 2);
			i += 6;
			if (cp >= 0xd800 && cp < 0xdc00 && end - i >= 6 && s.p[i] == '\\' &&
			    s.p[i + 1] == 'u' && hexval(s.p[i + 2]) >= 0 &&
			    hexval(s.p[i + 3]) >= 0 && hexval(s.p[i + 4]) >= 0 &&
			    hexval(s.p[i + 5]) >= 0) {
				uint32_t lo = hex4(s.p + i + 2);

				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
			}
			if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;
			put_utf8(out, &o, cp);
			continue;
		default: /* '"', '\\', '/' */
			out[o++] = s.p[i + 1];
		}
		i += 2;
	}
	return (ptrdiff_t)o;
}

/* A string member decoded into a NUL-terminated malloc'ed copy, NUL bytes shown as '?'. */
static char *jstr_dup(struct jspan s)
{
	char *out = malloc(s.n + 1);
	ptrdiff_t len;

	if (!out)
		die("out of memory");
	len = jstr_decode(s, out);
	if (len < 0) {
		free(out);
		return NULL;
	}
	for (ptrdiff_t k = 0; k < len; k++)
		if (out[k] == '\0')
			out[k] = '?';
	out[len] = '\0';
	return out;
}

/* Whether a raw key span decodes to name exactly. */
static bool jkey_is(struct jspan key, const char *name)
{
	char buf[256];
	ptrdiff_t len;

	if (key.n > sizeof(buf))
		return false;
	len = jstr_decode(key, buf);
	return len >= 0 && (size_t)len == strlen(name) && memcmp(buf, name, (size_t)len) == 0;
}

/* The first member `name` of object obj: true with *val. */
static bool jget(struct jspan obj, const char *name, struct jspan *val)
{
	struct jiter it;
	struct jspan k, v;

	if (!obj.n || obj.p[0] != '{')
		return false;
	jiter_begin(&it, obj);
	while (jiter_next(&it, &k, &v) == 1)
		if (jkey_is(k, name)) {
			*val = v;
			return true;
		}
	return false;
}

/* A whole number in [0, 2^64): no sign, fraction or exponent. */
static bool jspan_u64(struct jspan v, uint64_t *out)
{
	uint64_t x = 0;

	if (!v.n || v.n > 20)
		return false;
	for (size_t i = 0; i < v.n; i++) {
		unsigned d;

		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		d = (unsigned)(v.p[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*out = x;
	return true;
}

/* Any JSON number, as a double. */
static bool jspan_double(struct jspan v, double *out)
{
	char buf[64], *end;
	size_t i = 0;

	if (!v.n || v.n >= sizeof(buf) || !skip_number(v.p, v.n, &i) || i != v.n)
		return false;
	memcpy(buf, v.p, v.n);
	buf[v.n] = '\0';
	*out = strtod(buf, &end);
	return *end == '\0';
}

static bool jspan_is(struct jspan v, const char *lit)
{
	return v.n == strlen(lit) && memcmp(v.p, lit, v.n) == 0;
}

/* ---- the connection ------------------------------------------------------------------------ */

struct conn {
	const char *path;
	double timeout;
	int fd;			      /* -1: not connected */
	unsigned replies;	      /* replies read on this connection */
	char *buf;		      /* bytes read: [start, len) not yet returned */
	size_t cap, start, len, scan; /* scan: [start, scan) holds no newline */
};

enum { IO_OK = 0, IO_CLOSED = -1, IO_STOPPED = -2 };

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Wait for events on fd (or just for time, fd < 0) until the deadline, letting SIGINT and
 * SIGTERM in only here. Returns 1 when fd is ready, 0 at the deadline, IO_STOPPED on a signal.
 */
static int wait_until(int fd, short events, double deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		double left = deadline - now_mono();
		struct timespec ts;
		int r;

		if (stop_flag)
			return IO_STOPPED;
		if (left <= 0)
			return 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		r = ppoll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, &ts, &wait_mask);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
	}
}

/* Connect: 0, or a positive errno (ETIMEDOUT when the listen queue stayed full). */
static int conn_open(struct conn *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	double deadline = now_mono() + c->timeout;
	int fd;

	memcpy(sa.sun_path, c->path, strlen(c->path) + 1); /* length checked with the options */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* A non-blocking unix connect fails with EAGAIN while the listen queue is full: retry. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		int w;

		if (err == EINTR)
			continue;
		if (err != EAGAIN) {
			close(fd);
			return err;
		}
		w = wait_until(-1, 0, fmin(deadline, now_mono() + 0.01));
		if (w == IO_STOPPED) {
			close(fd);
			return EINTR;
		}
		if (now_mono() >= deadline) {
			close(fd);
			return ETIMEDOUT;
		}
	}
	c->fd = fd;
	c->replies = 0;
	c->start = c->len = c->scan = 0;
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static void __attribute__((noreturn)) die_connect(const struct conn *c, int err, bool went_away)
{
	const char *hint;

	if (err == ENOENT || err == ECONNREFUSED)
		hint = went_away ? ""
				 : " (is ringcap running? if it was started with --stats-socket "
				   "PATH, give -s PATH)";
	else if (err == EACCES || err == EPERM)
		hint = " (the socket is for ringcap's user and group: run as one of them)";
	else if (err == ETIMEDOUT)
		hint = " (ringcap is not accepting connections)";
	else if (err == ENOTSOCK || err == ENOTDIR)
		hint = " (not a socket: the wrong -s PATH?)";
	else
		hint = "";
	if (err == ETIMEDOUT)
		die("%scannot connect to %s: timed out after %g s%s",
		    went_away ? "ringcap went away: " : "", c->path, c->timeout, hint);
	die("%scannot connect to %s: %s%s", went_away ? "ringcap went away: " : "", c->path,
	    strerror(err), hint);
}

/* Send a whole request line: IO_OK, IO_CLOSED when the peer is gone, IO_STOPPED. */
static int conn_send(struct conn *c, const char *req, size_t len, const char *what)
{
	double deadline = now_mono() + c->timeout;
	size_t off = 0;

	while (off < len) {
		ssize_t w = send(c->fd, req + off, len - off, MSG_NOSIGNAL);

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			return IO_CLOSED;
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			die("sending '%s' to %s: %s", what, c->path, strerror(errno));
		int r = wait_until(c->fd, POLLOUT, deadline);
		if (r == IO_STOPPED)
			return r;
		if (r == 0)
			die("ringcap at %s took no request for %g s (-t): sending '%s'", c->path,
			    c->timeout, what);
	}
	return IO_OK;
}

/*
 * The next reply line (newline and a '\r' before it removed) into *line, valid until the next
 * call: IO_OK, IO_CLOSED when the connection ended before any byte of it, IO_STOPPED. Dies on a
 * timeout, a line cut short, or one longer than MAX_REPLY.
 */
static int conn_read_line(struct conn *c, const char *what, const char **line, size_t *len)
{
	double deadline = now_mono() + c->timeout;

	for (;;) {
		char *nl =
			c->scan < c->len ? memchr(c->buf + c->scan, '\n', c->len - c->scan) : NULL;

		if (nl) {
			*line = c->buf + c->start;
			*len = (size_t)(nl - *line);
			if (*len && nl[-1] == '\r')
				(*len)--;
			c->start = c->scan = (size_t)(nl - c->buf) + 1;
			c->replies++;
			return IO_OK;
		}
		c->scan = c->len;
		if (c->len - c->start > MAX_REPLY)
			die("the reply to '%s' from %s is longer than %u MiB", what, c->path,
			    MAX_REPLY >> 20);
		if (c->start) {
			memmove(c->buf, c->buf + c->start, c->len - c->start);
			c->len -= c->start;
			c->scan -= c->start;
			c->start = 0;
		}
		if (c->len == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *b;

			if (cap > MAX_REPLY + 2)
				cap = MAX_REPLY + 2;
			b = realloc(c->buf, cap);
			if (!b)
				die("out of memory");
			c->buf = b;
			c->cap = cap;
		}

		ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (r > 0) {
			c->len += (size_t)r;
			continue;
		}
		if (r == 0 || errno == ECONNRESET) {
			if (c->len == c->start)
				return IO_CLOSED;
			die("ringcap at %s closed the connection in the middle of the reply to "
			    "'%s' "
			    "(%zu bytes, no newline)",
			    c->path, what, c->len - c->start);
		}
		if (errno != EAGAIN && errno != EINTR)
			die("reading the reply to '%s' from %s: %s", what, c->path,
			    strerror(errno));
		int w = wait_until(c->fd, POLLIN, deadline);
		if (w == IO_STOPPED)
			return w;
		if (w == 0)
			die("no reply to '%s' from ringcap at %s within %g s (-t)", what, c->path,
			    c->timeout);
	}
}

/* A reply, checked: one JSON object with "ok":true (or false, where the caller allows it). */
struct reply {
	const char *line; /* into the connection's buffer */
	size_t len;
	struct jspan root;
	bool ok;
};

/*
 * Die unless the line is one JSON object (white space around it allowed) with "ok":true; with
 * may_fail, "ok":false only sets r->ok to false.
 */
static void check_reply(const struct conn *c, const char *what, struct reply *r, bool may_fail)
{
	char ex[400];
	struct jspan ok, err;
	size_t i = 0, start;

	start = skip_ws(r->line, r->len, 0);
	if (start >= r->len || r->line[start] != '{' || !skip_value(r->line, r->len, &i, 0) ||
	    skip_ws(r->line, r->len, i) != r->len)
		die("malformed reply to '%s' from %s (not one JSON object): %s", what, c->path,
		    excerpt(r->line, r->len, ex, sizeof(ex)));
	r->root = (struct jspan){r->line + start, i - start};
	if (!jget(r->root, "ok", &ok) || !(jspan_is(ok, "true") || jspan_is(ok, "false")))
		die("malformed reply to '%s' from %s (no \"ok\":true or false): %s", what, c->path,
		    excerpt(r->line, r->len, ex, sizeof(ex)));
	r->ok = jspan_is(ok, "true");
	if (r->ok || may_fail)
		return;
	if (jget(r->root, "error", &err) && err.n && err.p[0] == '"') {
		char *msg = jstr_dup(err);

		for (char *q = msg; q && *q; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				*q = '?';
		fprintf(stderr, PROG ": '%s' failed: %s\n", what, msg ? msg : "?");
		free(msg);
		exit(1);
	}
	die("'%s' failed (no error message): %s", what, excerpt(r->line, r->len, ex, sizeof(ex)));
}

/*
 * Send a request (a line without its newline) and return its checked reply in *r: IO_OK or
 * IO_STOPPED. A kept connection that ringcap closed meanwhile (idle) is opened again, once; that
 * failing means ringcap went away. `what` names the request in messages.
 */
static int request(struct conn *c, const char *req, const char *what, struct reply *r,
		   bool may_fail)
{
	size_t n = strlen(req);
	char *line = malloc(n + 1);
	int res;

	if (!line)
		die("out of memory");
	memcpy(line, req, n);
	line[n] = '\n';
	for (int attempt = 0;; attempt++) {
		bool kept = c->fd >= 0 && c->replies > 0;

		if (c->fd < 0) {
			int err = conn_open(c);

			if (err == EINTR) {
				res = IO_STOPPED;
				break;
			}
			if (err)
				die_connect(c, err, attempt > 0);
		}
		res = conn_send(c, line, n + 1, what);
		if (res == IO_OK)
			res = conn_read_line(c, what, &r->line, &r->len);
		if (res != IO_CLOSED)
			break;
		conn_close(c);
		if (!kept || attempt > 0)
			die("ringcap at %s closed the connection without replying to '%s'", c->path,
			    what);
	}
	free(line);
	if (res == IO_OK)
		check_reply(c, what, r, may_fail);
	return res;
}

/* ---- the views ----------------------------------------------------------------------------- */

static void print_raw(const struct reply *r)
{
	fwrite(r->line, 1, r->len, stdout);
	fputc('\n', stdout);
}

/* The kind of a counter by the table this tool was built with; unknown names count as counters. */
static bool is_gauge(const char *name)
{
#define RC_STAT_GAUGE(id, nm, kind, unit, help)        \
	if (kind == RC_GAUGE && strcmp(name, nm) == 0) \
		return true;
	RC_COUNTER_TABLE(RC_STAT_GAUGE)
#undef RC_STAT_GAUGE
	return false;
}

static const char *const main_counters[] = {
	"pcap.received", "pcap.dropped",   "pcap.ifdropped", "capture.packets",
	"capture.bytes", "decode.packets", "queue.full",     "overflow.spilled",
	"overflow.lost", "disk.packets",   "flow.active",
};
#define N_MAIN (sizeof(main_counters) / sizeof(main_counters[0]))

struct ctr {
	char *name;
	struct jspan raw; /* the value as sent */
	bool num;	  /* raw is a whole number: v */
	uint64_t v;
	bool shown;
};

static void print_counter(const char *name, const struct jspan *raw, double uptime)
{
	char ex[400];
	uint64_t v;

	if (!raw) {
		printf("%-36s %20s\n", name, "-");
		return;
	}
	if (!jspan_u64(*raw, &v)) {
		printf("%-36s %20s\n", name, excerpt(raw->p, raw->n, ex, sizeof(ex)));
		return;
	}
	if (uptime > 0 && !is_gauge(name))
		printf("%-36s %20" PRIu64 " %16.2f\n", name, v, (double)v / uptime);
	else
		printf("%-36s %20" PRIu64 "\n", name, v);
}

/* The part of a dotted name before its first dot. */
static size_t prefix_len(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot ? (size_t)(dot - name) : strlen(name);
}

static void show_stats(struct conn *c, const struct opts *o)
{
	struct reply r, pr;
	struct jspan counters, v, k, ifd;
	struct jiter it;
	struct ctr *ctrs = NULL;
	size_t nctrs = 0, cap = 0;
	double uptime = 0;
	char *stats_line;
	int res;

	request(c, "stats", "stats", &r, false);
	if (o->json) {
		print_raw(&r);
		return;
	}
	if (!jget(r.root, "counters", &counters) || counters.p[0] != '{')
		die("malformed reply to 'stats' from %s: no \"counters\" object", c->path);
	if (jget(r.root, "uptime_s", &v))
		jspan_double(v, &uptime);
	/* the next reply overwrites the connection's buffer: keep this one */
	stats_line = malloc(r.len + 1);
	if (!stats_line)
		die("out of memory");
	memcpy(stats_line, r.line, r.len);
	counters.p = stats_line + (counters.p - r.line);

	jiter_begin(&it, counters);
	while ((res = jiter_next(&it, &k, &v)) == 1) {
		char *name = jstr_dup(k);

		if (!name)
			continue;
		if (nctrs == cap) {
			cap = cap ? cap * 2 : 256;
			ctrs = realloc(ctrs, cap * sizeof(*ctrs));
			if (!ctrs)
				die("out of memory");
		}
		ctrs[nctrs] = (struct ctr){.name = name, .raw = v};
		ctrs[nctrs].num = jspan_u64(v, &ctrs[nctrs].v);
		nctrs++;
	}

	/* ifdropped is no counter of the table: pc.stats() has it, when the engine offers it */
	request(c, "pcap-stats", "pcap-stats", &pr, true);
	bool have_ifd = pr.ok && jget(pr.root, "ifdropped", &ifd);

	printf("ringcap at %s, up %.1f s", c->path, uptime);
	if (uptime >= 60 && uptime < 1e12) {
		uint64_t t = (uint64_t)uptime;

		printf(" (");
		if (t >= 86400)
			printf("%" PRIu64 "d ", t / 86400);
		if (t >= 3600)
			printf("%" PRIu64 "h ", t / 3600 % 24);
		printf("%02" PRIu64 "m %02" PRIu64 "s)", t / 60 % 60, t % 60);
	}
	printf("\n\n");
	printf("%-36s %20s %16s\n", "counter", "value", "per second");
	for (size_t m = 0; m < N_MAIN; m++) {
		const struct jspan *raw = NULL;

		if (!strcmp(main_counters[m], "pcap.ifdropped")) {
			raw = have_ifd && !jspan_is(ifd, "null") ? &ifd : NULL;
		} else {
			for (size_t i = 0; i < nctrs; i++)
				if (!ctrs[i].shown && !strcmp(ctrs[i].name, main_counters[m])) {
					ctrs[i].shown = true;
					raw = &ctrs[i].raw;
					break;
				}
		}
		print_counter(main_counters[m], raw, uptime);
	}
	/* the rest that is not zero, each group (first dotted part) together, in reply order */
	for (size_t i = 0; i < nctrs; i++) {
		size_t pl;

		if (ctrs[i].shown || (ctrs[i].num && ctrs[i].v == 0))
			continue;
		pl = prefix_len(ctrs[i].name);
		fputc('\n', stdout);
		for (size_t j = i; j < nctrs; j++) {
			if (ctrs[j].shown || (ctrs[j].num && ctrs[j].v == 0) ||
			    prefix_len(ctrs[j].name) != pl ||
			    memcmp(ctrs[j].name, ctrs[i].name, pl) != 0)
				continue;
			ctrs[j].shown = true;
			print_counter(ctrs[j].name, &ctrs[j].raw, uptime);
		}
	}
	for (size_t i = 0; i < nctrs; i++)
		free(ctrs[i].name);
	free(ctrs);
	free(stats_line);
}

static void show_pcap_stats(struct conn *c, const struct opts *o)
{
	struct reply r;
	struct jspan v[3];
	static const char *const names[] = {"received", "dropped", "ifdropped"};
	uint64_t n[2];

	request(c, "pcap-stats", "pcap-stats", &r, false);
	if (o->json) {
		print_raw(&r);
		return;
	}
	for (int i = 0; i < 3; i++)
		if (!jget(r.root, names[i], &v[i]))
			die("malformed reply to 'pcap-stats' from %s: no \"%s\"", c->path,
			    names[i]);
	for (int i = 0; i < 2; i++)
		if (!jspan_u64(v[i], &n[i]))
			die("malformed reply to 'pcap-stats' from %s: \"%s\" is not a count",
			    c->path, names[i]);
	if (jspan_is(v[2], "null")) {
		printf("%" PRIu64 " %" PRIu64 " -1\n", n[0], n[1]);
		return;
	}
	/* a number, possibly negative (ringcap's "none" as -1 would be fine too) */
	uint64_t ifd;
	bool neg = v[2].n > 1 && v[2].p[0] == '-';
	struct jspan mag = {v[2].p + neg, v[2].n - neg};
	if (!jspan_u64(mag, &ifd) || (neg && ifd > (uint64_t)INT64_MAX + 1))
		die("malformed reply to 'pcap-stats' from %s: \"ifdropped\" is not a count or null",
		    c->path);
	printf("%" PRIu64 " %" PRIu64 " %s%" PRIu64 "\n", n[0], n[1], neg ? "-" : "", ifd);
}

/* A flow member's value: strings bare when that is unambiguous, anything else as JSON. */
static void print_flow_value(struct jspan v)
{
	if (v.n >= 2 && v.p[0] == '"') {
		char *s = jstr_dup(v);
		bool bare = s && *s;

		for (const char *q = s; bare && *q; q++)
			if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '"' || *q == '=')
				bare = false;
		if (bare) {
			fputs(s, stdout);
			free(s);
			return;
		}
		free(s);
	}
	fwrite(v.p, 1, v.n, stdout);
}

static void show_flows(struct conn *c, const struct opts *o)
{
	char req[32];
	struct reply r;
	struct jspan flows, f, k, v;
	struct jiter it, fit;
	unsigned rank = 0;

	if (o->flows)
		snprintf(req, sizeof(req), "flows %u", o->flows);
	else
		snprintf(req, sizeof(req), "flows");
	request(c, req, req, &r, false);
	if (o->json) {
		print_raw(&r);
		return;
	}
	if (!jget(r.root, "flows", &flows) || flows.p[0] != '[')
		die("malformed reply to '%s' from %s: no \"flows\" array", req, c->path);
	jiter_begin(&it, flows);
	while (jiter_next(&it, NULL, &f) == 1) {
		printf("%4u ", ++rank);
		if (f.p[0] != '{') {
			fwrite(f.p, 1, f.n, stdout);
			fputc('\n', stdout);
			continue;
		}
		jiter_begin(&fit, f);
		bool first = true;
		while (jiter_next(&fit, &k, &v) == 1) {
			char *key = jstr_dup(k);

			printf("%s%s=", first ? "" : " ", key ? key : "?");
			free(key);
			print_flow_value(v);
			first = false;
		}
		fputc('\n', stdout);
	}
	if (!rank)
		printf("no live flows\n");
}

static void show_prometheus(struct conn *c, const struct opts *o)
{
	struct reply r;
	struct jspan text;
	char *buf;
	ptrdiff_t len;

	request(c, "prometheus", "prometheus", &r, false);
	if (o->json) {
		print_raw(&r);
		return;
	}
	if (!jget(r.root, "text", &text) || text.p[0] != '"')
		die("malformed reply to 'prometheus' from %s: no \"text\" string", c->path);
	buf = malloc(text.n);
	if (!buf)
		die("out of memory");
	len = jstr_decode(text, buf);
	if (len < 0)
		die("malformed reply to 'prometheus' from %s", c->path);
	fwrite(buf, 1, (size_t)len, stdout);
	if (len && buf[len - 1] != '\n')
		fputc('\n', stdout);
	free(buf);
}

static void show_filter(struct conn *c, const struct opts *o)
{
	struct reply r;
	struct jspan f;
	char *req, *expr;
	size_t n = strlen(o->arg);

	req = malloc(n + 8);
	if (!req)
		die("out of memory");
	if (n)
		snprintf(req, n + 8, "filter %s", o->arg);
	else
		snprintf(req, n + 8, "filter");
	request(c, req, req, &r, false);
	free(req);
	if (o->json) {
		print_raw(&r);
		return;
	}
	if (!jget(r.root, "filter", &f))
		die("malformed reply to 'filter' from %s: no \"filter\"", c->path);
	if (jspan_is(f, "null")) {
		printf("no filter\n");
		return;
	}
	expr = f.p[0] == '"' ? jstr_dup(f) : NULL;
	if (!expr)
		die("malformed reply to 'filter' from %s: \"filter\" is not a string", c->path);
	printf("filter: %s\n", expr);
	free(expr);
}

static void show_raw(struct conn *c, const struct opts *o)
{
	size_t n = strlen(o->arg);
	char *req = malloc(n + 1);
	struct reply r = {0};
	int res;

	if (!req)
		die("out of memory");
	memcpy(req, o->arg, n);
	req[n] = '\n';
	if ((res = conn_open(c)) != 0)
		die_connect(c, res, false);
	res = conn_send(c, req, n + 1, o->arg);
	free(req);
	if (res == IO_OK)
		res = conn_read_line(c, o->arg, &r.line, &r.len);
	if (res != IO_OK) /* no signal handler here: IO_CLOSED */
		die("ringcap at %s closed the connection without replying to '%s'", c->path,
		    o->arg);
	/* as is, even when malformed or refused: then the message and exit status 1 follow */
	print_raw(&r);
	fflush(stdout);
	check_reply(c, o->arg, &r, false);
}

/* ---- -w: rates ------------------------------------------------------------------------------ */

enum {
	W_RECEIVED,
	W_DROPPED,
	W_PACKETS,
	W_BYTES,
	W_QFULL,
	W_OLOST,
	W_SPILLED,
	W_HTTP,
	W_FLOWS,
	W__N
};

static const char *const watched[W__N] = {
	[W_RECEIVED] = "pcap.received",	  [W_DROPPED] = "pcap.dropped",
	[W_PACKETS] = "capture.packets",  [W_BYTES] = "capture.bytes",
	[W_QFULL] = "queue.full",	  [W_OLOST] = "overflow.lost",
	[W_SPILLED] = "overflow.spilled", [W_HTTP] = "http.requests",
	[W_FLOWS] = "flow.active",
};

struct sample {
	double t;
	bool has[W__N];
	uint64_t v[W__N];
};

static void take_values(const struct conn *c, const struct reply *r, struct sample *s)
{
	struct jspan counters, k, v;
	struct jiter it;

	memset(s->has, 0, sizeof(s->has));
	if (!jget(r->root, "counters", &counters) || counters.p[0] != '{')
		die("malformed reply to 'stats' from %s: no \"counters\" object", c->path);
	jiter_begin(&it, counters);
	while (jiter_next(&it, &k, &v) == 1)
		for (int w = 0; w < W__N; w++)
			if (!s->has[w] && jkey_is(k, watched[w]))
				s->has[w] = jspan_u64(v, &s->v[w]);
}

/* A counter's growth over the interval; one that went down (a restart) counts from zero. */
static bool delta(const struct sample *a, const struct sample *b, int w, double *out)
{
	if (!a->has[w] || !b->has[w])
		return false;
	*out = (double)(b->v[w] >= a->v[w] ? b->v[w] - a->v[w] : b->v[w]);
	return true;
}

struct rates {
	double dt, pps, mbit, drops, loss, http, spilled;
	bool has_pps, has_mbit, has_drops, has_loss, has_http, has_spilled, has_flows;
	uint64_t flows;
};

static void compute(const struct sample *a, const struct sample *b, struct rates *x)
{
	double d, recv, lost = 0;
	bool any = false;

	*x = (struct rates){.dt = b->t - a->t};
	if (x->dt <= 0)
		x->dt = 1e-9;
	x->has_pps = delta(a, b, W_PACKETS, &d), x->pps = x->has_pps ? d / x->dt : 0;
	x->has_mbit = delta(a, b, W_BYTES, &d), x->mbit = x->has_mbit ? d * 8 / 1e6 / x->dt : 0;
	x->has_http = delta(a, b, W_HTTP, &d), x->http = x->has_http ? d / x->dt : 0;
	x->has_spilled = delta(a, b, W_SPILLED, &d), x->spilled = x->has_spilled ? d / x->dt : 0;
	static const int lost_ctrs[] = {W_DROPPED, W_QFULL, W_OLOST};

	for (size_t i = 0; i < sizeof(lost_ctrs) / sizeof(lost_ctrs[0]); i++) {
		if (delta(a, b, lost_ctrs[i], &d)) {
			lost += d;
			any = true;
		}
	}
	x->has_drops = any;
	x->drops = lost / x->dt;
	x->has_loss = any && delta(a, b, W_RECEIVED, &recv);
	if (x->has_loss)
		x->loss = recv > 0 ? 100.0 * lost / recv : 0;
	x->has_flows = b->has[W_FLOWS];
	x->flows = b->v[W_FLOWS];
}

static const char *fmt(char *buf, size_t cap, bool has, const char *f, double v)
{
	if (!has)
		return "-";
	snprintf(buf, cap, f, v);
	return buf;
}

static void print_rates_text(const struct rates *x, unsigned line)
{
	char b[7][32], tbuf[16];
	time_t now = time(NULL);
	struct tm tm;

	if (line % HEADER_EVERY == 0)
		printf("%8s %10s %9s %9s %7s %9s %9s %9s\n", "time", "pps", "Mbit/s", "drops/s",
		       "loss%", "flows", "http/s", "spill/s");
	localtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	printf("%8s %10s %9s %9s %7s %9s %9s %9s\n", tbuf,
	       fmt(b[0], 32, x->has_pps, "%.0f", x->pps),
	       fmt(b[1], 32, x->has_mbit, "%.2f", x->mbit),
	       fmt(b[2], 32, x->has_drops, "%.0f", x->drops),
	       fmt(b[3], 32, x->has_loss, "%.2f", x->loss),
	       fmt(b[4], 32, x->has_flows, "%.0f", (double)x->flows),
	       fmt(b[5], 32, x->has_http, "%.0f", x->http),
	       fmt(b[6], 32, x->has_spilled, "%.0f", x->spilled));
}

static void json_num(const char *name, bool has, const char *f, double v, bool last)
{
	printf("\"%s\":", name);
	if (has && isfinite(v))
		printf(f, v);
	else
		fputs("null", stdout);
	fputs(last ? "" : ",", stdout);
}

/* The stats reply with "interval_s" and "rates" added before its closing brace. */
static void print_rates_json(const struct reply *r, const struct rates *x)
{
	size_t end = (size_t)(r->root.p - r->line) + r->root.n - 1; /* the closing '}' */

	fwrite(r->line, 1, end, stdout);
	printf(",\"interval_s\":%.6f,\"rates\":{", x->dt);
	json_num("pps", x->has_pps, "%.3f", x->pps, false);
	json_num("mbit_s", x->has_mbit, "%.6f", x->mbit, false);
	json_num("drops_s", x->has_drops, "%.3f", x->drops, false);
	json_num("loss_pct", x->has_loss, "%.4f", x->loss, false);
	if (x->has_flows)
		printf("\"flows_active\":%" PRIu64 ",", x->flows);
	else
		fputs("\"flows_active\":null,", stdout);
	json_num("http_requests_s", x->has_http, "%.3f", x->http, false);
	json_num("spilled_s", x->has_spilled, "%.3f", x->spilled, true);
	fputs("}}\n", stdout);
}

static void watch(struct conn *c, const struct opts *o)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct sample prev, cur;
	struct reply r;
	double next;
	sigset_t block;

	/* SIGINT and SIGTERM only arrive inside ppoll (wait_until), so a line is never cut */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);

	prev.t = now_mono();
	if (request(c, "stats", "stats", &r, false) != IO_OK)
		return;
	take_values(c, &r, &prev);
	next = prev.t + o->interval;
	for (uint64_t line = 0; !o->count || line < o->count; line++) {
		struct rates x;

		if (wait_until(-1, 0, next) == IO_STOPPED)
			return;
		cur.t = now_mono();
		if (request(c, "stats", "stats", &r, false) != IO_OK)
			return;
		take_values(c, &r, &cur);
		compute(&prev, &cur, &x);
		if (o->json)
			print_rates_json(&r, &x);
		else
			print_rates_text(&x, (unsigned)(line % HEADER_EVERY));
		if (fflush(stdout))
			die("writing standard output: %s", strerror(errno));
		prev = cur;
		/* on the grid t0 + k*SEC; intervals missed (a slow reply) are skipped */
		next += o->interval;
		while (next <= now_mono())
			next += o->interval;
	}
}

/* ---- options -------------------------------------------------------------------------------- */

enum {
	OPT_PROM = 256,
	OPT_FILTER,
	OPT_RAW,
};

static const struct option longopts[] = {
	{"socket", required_argument, NULL, 's'},
	{"timeout", required_argument, NULL, 't'},
	{"json", no_argument, NULL, 'j'},
	{"watch", required_argument, NULL, 'w'},
	{"count", required_argument, NULL, 'c'},
	{"pcap-stats", no_argument, NULL, 'p'},
	{"flows", optional_argument, NULL, 'f'},
	{"prometheus", no_argument, NULL, OPT_PROM},
	{"filter", required_argument, NULL, OPT_FILTER},
	{"raw", required_argument, NULL, OPT_RAW},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static double parse_seconds(const char *name, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min) || !(v <= max))
		die_usage("bad %s '%s': give seconds from %g to %g (decimals allowed)", name, s,
			  min, max);
	return v;
}

static void set_mode(struct opts *o, enum mode m)
{
	if (o->mode != MODE_STATS && o->mode != m)
		die_usage("%s and %s do not go together: give one view", mode_opt[o->mode],
			  mode_opt[m]);
	o->mode = m;
}

/* A request line we send for the user: one line, within ringcap's bound. */
static void check_request(const char *opt, const char *s, size_t extra)
{
	if (strpbrk(s, "\n\r"))
		die_usage("%s: the request may not hold a line break", opt);
	if (strlen(s) + extra + 1 > MAX_REQUEST)
		die_usage("%s: the request is longer than ringcap's %u bytes", opt, MAX_REQUEST);
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	bool have_count = false;
	int c;

	*o = (struct opts){.path = DEFAULT_PATH, .timeout = DEFAULT_TIMEOUT, .mode = MODE_STATS};
	while ((c = getopt_long(argc, argv, "s:t:jw:c:pf::h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->path = optarg;
			break;
		case 't':
			o->timeout = parse_seconds("-t", optarg, 0.001, 3600);
			break;
		case 'j':
			o->json = true;
			break;
		case 'w':
			o->interval = parse_seconds("-w", optarg, 0.01, 86400);
			set_mode(o, MODE_WATCH);
			break;
		case 'c':
			o->count = tk_parse_u64(PROG, "-c", optarg, 1, 1000000000);
			have_count = true;
			break;
		case 'p':
			set_mode(o, MODE_PCAP);
			break;
		case 'f':
			/* -f N and --flows N as well as -fN and --flows=N: N is optional */
			if (!optarg && optind < argc && argv[optind][0] >= '0' &&
			    argv[optind][0] <= '9')
				optarg = argv[optind++];
			if (optarg)
				o->flows = (unsigned)tk_parse_u64(PROG, "-f", optarg, 1, MAX_FLOWS);
			set_mode(o, MODE_FLOWS);
			break;
		case OPT_PROM:
			set_mode(o, MODE_PROM);
			break;
		case OPT_FILTER:
			check_request("--filter", optarg, strlen("filter "));
			o->arg = optarg;
			set_mode(o, MODE_FILTER);
			break;
		case OPT_RAW:
			check_request("--raw", optarg, 0);
			if (!*optarg)
				die_usage("--raw: give a request, e.g. --raw help");
			o->arg = optarg;
			set_mode(o, MODE_RAW);
			break;
		case 'h':
			fputs(help, stdout);
			exit(0);
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			exit(2);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (have_count && o->mode != MODE_WATCH)
		die_usage("-c goes with -w");
	if (!*o->path)
		die_usage("-s: empty path");
	if (strlen(o->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		die_usage("-s: '%s' is longer than a unix socket path may be (%zu bytes)", o->path,
			  sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct conn c = {.fd = -1};

	parse_opts(&o, argc, argv);
	sigprocmask(SIG_SETMASK, NULL, &wait_mask);
	c.path = o.path;
	c.timeout = o.timeout;
	switch (o.mode) {
	case MODE_STATS:
		show_stats(&c, &o);
		break;
	case MODE_WATCH:
		watch(&c, &o);
		break;
	case MODE_PCAP:
		show_pcap_stats(&c, &o);
		break;
	case MODE_FLOWS:
		show_flows(&c, &o);
		break;
	case MODE_PROM:
		show_prometheus(&c, &o);
		break;
	case MODE_FILTER:
		show_filter(&c, &o);
		break;
	case MODE_RAW:
		show_raw(&c, &o);
		break;
	}
	conn_close(&c);
	free(c.buf);
	if (fflush(stdout) || ferror(stdout))
		die("writing standard output: %s", strerror(errno));
	return 0;
}
