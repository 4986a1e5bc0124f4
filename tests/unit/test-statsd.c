/*
 * Unit tests of the stats socket: the request parser, one client's protocol without a socket, and
 * real servers on sockets in a temporary folder, answering with fake engine callbacks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringcap/assert.h"
#include "ringcap/statsd.h"

#include "../../src/stats/statsd_internal.h"
#include "../fuzz/json-valid.h"

#define DEADLINE_MS 20000 /* for anything that should take milliseconds */

/* ---- the test folder ---- */

static char dir[64]; /* /tmp/test-statsd-XXXXXX */
static char sock_path[128];

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char p[PATH_MAX];
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the fake engine ---- */

static atomic_size_t detail_pad; /* bytes of padding in the stats detail */
static atomic_uint flows_asked;
static atomic_llong ifdropped = -1;
static struct rc_ctrs live; /* bumped by a "capture" thread in the stress test */
static char filter_now[256];
static int filter_set; /* server thread only (start and join order it with the test) */

static uint64_t fake_value(int i)
{
	return (uint64_t)i * 1000003u + 7;
}

static void fake_totals(void *arg, struct rc_ctrs *out)
{
	(void)arg;
	for (int i = 0; i < RC_CTR__COUNT; i++)
		out->v[i] = fake_value(i);
	rc_ctrs_sum(out, &live);
}

static void fake_detail(void *arg, FILE *f)
{
	static const char xs[4096] = {[0 ... 4095] = 'x'};
	(void)arg;
	fputs(",\"rings\":[{\"id\":0,\"packets\":5}]", f);
	size_t pad = atomic_load(&detail_pad);
	if (pad) {
		fputs(",\"pad\":\"", f);
		for (size_t n; pad; pad -= n) {
			n = pad < sizeof(xs) ? pad : sizeof(xs);
			fwrite(xs, 1, n, f);
		}
		fputc('"', f);
	}
}

static void fake_pcap_stats(void *arg, uint64_t *received, uint64_t *dropped, int64_t *ifd)
{
	(void)arg;
	*received = 123456;
	*dropped = 78;
	*ifd = atomic_load(&ifdropped);
}

static void fake_flows(void *arg, unsigned n, FILE *f)
{
	(void)arg;
	atomic_store(&flows_asked, n);
	fputc('[', f);
	for (unsigned i = 0; i < n && i < 3; i++)
		fprintf(f, "%s{\"rank\":%u,\"bytes\":%u}", i ? "," : "", i, 1000 - i);
	fputc(']', f);
}

static int fake_set_filter(void *arg, const char *expr, char *err, size_t errlen)
{
	(void)arg;
	if (strcmp(expr, "udp") == 0 || strcmp(expr, "tcp") == 0) {
		snprintf(filter_now, sizeof(filter_now), "%s", expr);
		filter_set = 1;
		return 0;
	}
	/* Quotes, a backslash and a control byte: the reply must escape them. */
	snprintf(err, errlen, "syntax error in \"%s\"\\\x01", expr);
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

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test-statsd-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/run/ringcap.sock", dir);
	atomic_store(&detail_pad, 0);
	atomic_store(&flows_asked, 0);
	atomic_store(&ifdropped, -1);
	memset(&live, 0, sizeof(live));
	filter_set = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_tree(dir);
	return 0;
}

static struct rc_statsd *start(const char *path, uint32_t idle_ms, const struct rc_statsd_ops *ops)
{
	struct rc_statsd_config cfg = {.path = path, .idle_timeout_ms = idle_ms};
	struct rc_statsd *s = NULL;
	char err[256];
	int rc = rc_statsd_start(&s, &cfg, ops, err, sizeof(err));
	if (rc != 0)
		fail_msg("rc_statsd_start: %d: %s", rc, err);
	assert_non_null(s);
	return s;
}

static struct rc_statsd_info info(struct rc_statsd *s)
{
	struct rc_statsd_info i;
	rc_statsd_get_info(s, &i);
	return i;
}

/* Wait until the server's client count is n. */
static void wait_clients(struct rc_statsd *s, uint64_t n)
{
	uint64_t end = now_ms() + DEADLINE_MS;
	while (info(s).clients != n) {
		if (now_ms() > end)
			fail_msg("clients: %" PRIu64 ", expected %" PRIu64, info(s).clients, n);
		poll(NULL, 0, 1);
	}
}

/* ---- a client ---- */

struct cl {
	int fd;
	char *buf; /* received, not yet taken as a line */
	size_t len, cap;
};

static struct sockaddr_un sun_of(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	RC_ASSERT(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	return sa;
}

static int cl_open(struct cl *c, const char *path)
{
	struct sockaddr_un sa = sun_of(path);
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(c->fd);
		c->fd = -1;
		return -e;
	}
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	c->cap = 65536;
	c->buf = malloc(c->cap);
	return c->buf ? 0 : -ENOMEM;
}

static void cl_close(struct cl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

static void connect_or_fail(struct cl *c, const char *path)
{
	int rc = cl_open(c, path);
	if (rc < 0)
		fail_msg("connect %s: %s", path, strerror(-rc));
}

/* Send all n bytes before the deadline: 0, -errno, or -ETIMEDOUT. */
static int cl_send(struct cl *c, const void *p, size_t n)
{
	uint64_t end = now_ms() + DEADLINE_MS;
	const char *b = p;
	while (n) {
		ssize_t k = send(c->fd, b, n, MSG_NOSIGNAL);
		if (k > 0) {
			b += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		uint64_t t = now_ms();
		if (t >= end)
			return -ETIMEDOUT;
		struct pollfd pf = {.fd = c->fd, .events = POLLOUT};
		poll(&pf, 1, (int)(end - t));
	}
	return 0;
}

static void cl_send_str(struct cl *c, const char *s)
{
	int rc = cl_send(c, s, strlen(s));
	if (rc < 0)
		fail_msg("send: %s", strerror(-rc));
}

/* Read once (waiting until ms_left): bytes read, 0 at EOF, -errno (-ETIMEDOUT). */
static ssize_t cl_fill(struct cl *c, uint64_t end)
{
	for (;;) {
		if (c->cap - c->len < 65536) {
			c->cap *= 2;
			c->buf = realloc(c->buf, c->cap);
			assert_non_null(c->buf);
		}
		ssize_t k = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (k >= 0) {
			c->len += (size_t)k;
			return k;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		uint64_t t = now_ms();
		if (t >= end)
			return -ETIMEDOUT;
		struct pollfd pf = {.fd = c->fd, .events = POLLIN};
		poll(&pf, 1, (int)(end - t));
	}
}

/* The next reply line (malloc'd, without its newline), NULL at EOF, error or deadline. */
static char *cl_line(struct cl *c)
{
	uint64_t end = now_ms() + DEADLINE_MS;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			char *line = malloc(n + 1);
			assert_non_null(line);
			memcpy(line, c->buf, n);
			line[n] = '\0';
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return line;
		}
		if (cl_fill(c, end) <= 0)
			return NULL;
	}
}

/* A reply line that must be valid JSON. */
static char *reply_line(struct cl *c)
{
	char *line = cl_line(c);
	if (!line)
		fail_msg("no reply line");
	if (!json_valid(line, strlen(line)))
		fail_msg("not valid JSON: %.300s", line);
	return line;
}

static char *request(struct cl *c, const char *req)
{
	char buf[RC_STATSD_MAX_REQUEST + 2];
	snprintf(buf, sizeof(buf), "%s\n", req);
	cl_send_str(c, buf);
	return reply_line(c);
}

/* Does the peer close (EOF or reset) before the deadline? What came before is dropped. */
static bool cl_sees_close(struct cl *c, uint64_t deadline_ms)
{
	uint64_t end = now_ms() + deadline_ms;
	for (;;) {
		c->len = 0;
		ssize_t k = cl_fill(c, end);
		if (k == 0 || k == -ECONNRESET)
			return true;
		if (k < 0)
			return false;
	}
}

static void assert_has(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("'%.400s' lacks '%s'", hay ? hay : "(null)", needle);
}

static void assert_reply(struct cl *c, const char *req, const char *needle)
{
	char *r = request(c, req);
	assert_has(r, needle);
	free(r);
}

/* Every counter of the table with its fake value (plus extra for one id, or -1). */
static void check_counters(const char *r, int bumped, uint64_t extra)
{
	for (int i = 0; i < RC_CTR__COUNT; i++) {
		char key[160];
		uint64_t v = fake_value(i) + (i == bumped ? extra : 0);
		snprintf(key, sizeof(key), "\"%s\":%" PRIu64, rc_ctr_descs[i].name, v);
		const char *p = strstr(r, key);
		if (!p || (p[strlen(key)] != ',' && p[strlen(key)] != '}'))
			fail_msg("stats reply lacks %s", key);
	}
}

/* ---- the parser ---- */

struct parse_case {
	const char *line;
	enum rc_statsd_req kind;
	unsigned count;
	const char *arg; /* NULL: none */
	const char *err; /* substring, for BAD */
};

static const struct parse_case parse_cases[] = {
	{"stats", RC_STATSD_REQ_STATS},
	{"  stats\t ", RC_STATSD_REQ_STATS},
	{"pcap-stats", RC_STATSD_REQ_PCAP_STATS},
	{"prometheus", RC_STATSD_REQ_PROMETHEUS},
	{"help", RC_STATSD_REQ_HELP},
	{"flows", RC_STATSD_REQ_FLOWS, 10},
	{"flows ", RC_STATSD_REQ_FLOWS, 10},
	{"flows 1", RC_STATSD_REQ_FLOWS, 1},
	{"flows\t \t1000", RC_STATSD_REQ_FLOWS, 1000},
	{"flows 0007 ", RC_STATSD_REQ_FLOWS, 7},
	{"flows 0", RC_STATSD_REQ_BAD, 0, NULL, "flows takes a count from 1 to 1000"},
	{"flows 1001", RC_STATSD_REQ_BAD, 0, NULL, "flows takes a count"},
	{"flows -1", RC_STATSD_REQ_BAD, 0, NULL, "flows takes a count"},
	{"flows +5", RC_STATSD_REQ_BAD, 0, NULL, "flows takes a count"},
	{"flows 5 6", RC_STATSD_REQ_BAD, 0, NULL, "flows takes a count"},
	{"flows abc", RC_STATSD_REQ_BAD, 0, NULL, "flows takes a count"},
	{"flows 99999999999999999999999", RC_STATSD_REQ_BAD, 0, NULL, "flows takes a count"},
	{"filter", RC_STATSD_REQ_FILTER},
	{"filter \t ", RC_STATSD_REQ_FILTER},
	{"filter udp", RC_STATSD_REQ_FILTER, 0, "udp"},
	{"filter\tudp", RC_STATSD_REQ_FILTER, 0, "udp"},
	{"filter   tcp port 80 \t", RC_STATSD_REQ_FILTER, 0, "tcp port 80"},
	{"filter not  (udp\tor icmp)", RC_STATSD_REQ_FILTER, 0, "not  (udp\tor icmp)"},
	{"Stats", RC_STATSD_REQ_BAD, 0, NULL, "unknown request 'Stats': try help"},
	{"STATS", RC_STATSD_REQ_BAD, 0, NULL, "unknown request 'STATS': try help"},
	{"statsx", RC_STATSD_REQ_BAD, 0, NULL, "unknown request 'statsx': try help"},
	{"filters udp", RC_STATSD_REQ_BAD, 0, NULL, "unknown request 'filters udp': try help"},
	{"flowsx", RC_STATSD_REQ_BAD, 0, NULL, "unknown request 'flowsx'"},
	{"", RC_STATSD_REQ_BAD, 0, NULL, "unknown request '': try help"},
	{"stats now", RC_STATSD_REQ_BAD, 0, NULL, "stats takes no argument"},
	{"stats \tnow", RC_STATSD_REQ_BAD, 0, NULL, "stats takes no argument"},
	{"pcap-stats 1", RC_STATSD_REQ_BAD, 0, NULL, "pcap-stats takes no argument"},
	{"prometheus x", RC_STATSD_REQ_BAD, 0, NULL, "prometheus takes no argument"},
	{"help me", RC_STATSD_REQ_BAD, 0, NULL, "help takes no argument"},
	/* Echo bounds: 48 bytes, a UTF-8 character never cut, a NUL ends it. */
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	 RC_STATSD_REQ_BAD, 0, NULL,
	 "unknown request 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': try help"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9zzz", RC_STATSD_REQ_BAD, 0, NULL,
	 "unknown request 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': try help"},
};

/* Parse with the line's last byte right before an unreadable page: an over-read faults. */
static void parse_guarded(const char *line, size_t len, struct rc_statsd_parsed *out,
			  const char **base)
{
	static char *pages;
	long pg = sysconf(_SC_PAGESIZE);
	if (!pages) {
		pages = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(pages != MAP_FAILED);
		assert_int_equal(mprotect(pages + pg, (size_t)pg, PROT_NONE), 0);
	}
	assert_true(len <= (size_t)pg);
	char *p = pages + pg - len;
	memcpy(p, line, len);
	*base = p;
	rc_statsd_parse(p, len, out);
}

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < RC_ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *pc = &parse_cases[i];
		struct rc_statsd_parsed p;
		const char *base;
		size_t len = strlen(pc->line);
		parse_guarded(pc->line, len, &p, &base);
		if (p.kind != pc->kind)
			fail_msg("'%s': kind %d, expected %d (%s)", pc->line, p.kind, pc->kind,
				 p.err);
		if (pc->kind == RC_STATSD_REQ_FLOWS)
			assert_int_equal(p.count, pc->count);
		if (pc->arg) {
			assert_non_null(p.arg);
			assert_true(p.arg >= base && p.arg + p.arg_len <= base + len);
			if (p.arg_len != strlen(pc->arg) || memcmp(p.arg, pc->arg, p.arg_len))
				fail_msg("'%s': arg '%.*s'", pc->line, (int)p.arg_len, p.arg);
		} else {
			assert_null(p.arg);
		}
		if (pc->err)
			assert_has(p.err, pc->err);
		else
			assert_string_equal(p.err, "");
	}
	/* A NUL ends the echo; a line of nothing but NULs and blanks is still unknown. */
	struct rc_statsd_parsed p;
	const char *base;
	parse_guarded("ab\0cd", 5, &p, &base);
	assert_int_equal(p.kind, RC_STATSD_REQ_BAD);
	assert_string_equal(p.err, "unknown request 'ab...': try help");
	parse_guarded("stats\0", 6, &p, &base);
	assert_int_equal(p.kind, RC_STATSD_REQ_BAD);
	/* Every prefix of every case, and a long line: no over-read, always a kind. */
	for (size_t i = 0; i < RC_ARRAY_SIZE(parse_cases); i++)
		for (size_t n = 0; n <= strlen(parse_cases[i].line); n++) {
			parse_guarded(parse_cases[i].line, n, &p, &base);
			assert_true(p.kind <= RC_STATSD_REQ_BAD);
			assert_true(memchr(p.err, '\0', sizeof(p.err)) != NULL);
		}
	char big[RC_STATSD_MAX_REQUEST];
	memset(big, '\xff', sizeof(big));
	parse_guarded(big, sizeof(big), &p, &base);
	assert_int_equal(p.kind, RC_STATSD_REQ_BAD);
}

/* ---- one client's protocol, no socket ---- */

/* The pending replies as lines; each must be valid JSON. Returns how many. */
static unsigned sess_lines(struct rc_statsd_sess *s, char lines[][256], unsigned max)
{
	unsigned n = 0;
	if (rc_statsd_sess_pending(s) == 0)
		return 0; /* out may be NULL */
	const char *p = s->out + s->out_off, *end = s->out + s->out_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		if (!json_valid(p, (size_t)(nl - p)))
			fail_msg("not valid JSON: %.*s", (int)(nl - p), p);
		if (n < max)
			snprintf(lines[n], 256, "%.*s", (int)(nl - p), p);
		n++;
		p = nl + 1;
	}
	return n;
}

static void test_session(void **state)
{
	struct rc_statsd_sess *s = malloc(sizeof(*s));
	char lines[8][256];
	(void)state;
	assert_non_null(s);

	/* Pipelined requests, answered in order; blank lines and CRLF. */
	rc_statsd_sess_init(s, &full_ops, rc_statsd_now_ns());
	const char *in = "pcap-stats\r\n\n \t\r\n\r\nhelp\nflows 2\nbogus\r\n";
	assert_int_equal(rc_statsd_sess_input(s, in, strlen(in)), RC_SESS_OPEN);
	assert_int_equal(sess_lines(s, lines, 8), 4);
	assert_has(lines[0], "\"received\":123456");
	assert_has(lines[1], "\"requests\":{");
	assert_has(lines[2], "\"flows\":[{\"rank\":0");
	assert_has(lines[3], "unknown request 'bogus': try help");
	assert_int_equal(s->replies, 4);
	assert_int_equal(s->errors, 1);
	/* Partly sent, then more: what is left stays first. */
	size_t first = (size_t)(strchr(s->out + s->out_off, '\n') - (s->out + s->out_off)) + 1;
	rc_statsd_sess_sent(s, first + 1);
	assert_int_equal(rc_statsd_sess_input(s, "help\n", 5), RC_SESS_OPEN);
	assert_memory_equal(s->out + s->out_off, "\"ok\":true,\"requests\"", 20);
	rc_statsd_sess_sent(s, rc_statsd_sess_pending(s));
	assert_int_equal(rc_statsd_sess_pending(s), 0);

	/* Byte by byte: nothing until the newline. */
	const char *req = "pcap-stats\r\n";
	for (size_t i = 0; req[i]; i++) {
		assert_int_equal(rc_statsd_sess_pending(s), 0);
		assert_int_equal(rc_statsd_sess_input(s, req + i, 1), RC_SESS_OPEN);
	}
	assert_int_equal(sess_lines(s, lines, 8), 1);
	assert_has(lines[0], "\"dropped\":78,\"ifdropped\":null");
	rc_statsd_sess_sent(s, rc_statsd_sess_pending(s));

	/* The longest line allowed, piecewise; one byte more is refused and the rest ignored. */
	char *big = malloc(RC_STATSD_MAX_REQUEST + 1);
	assert_non_null(big);
	memset(big, 'z', RC_STATSD_MAX_REQUEST);
	big[RC_STATSD_MAX_REQUEST - 1] = '\n';
	assert_int_equal(rc_statsd_sess_input(s, big, 1000), RC_SESS_OPEN);
	assert_int_equal(rc_statsd_sess_input(s, big + 1000, RC_STATSD_MAX_REQUEST - 1000),
			 RC_SESS_OPEN);
	assert_int_equal(sess_lines(s, lines, 8), 1);
	assert_has(lines[0], "unknown request 'zzz");
	rc_statsd_sess_sent(s, rc_statsd_sess_pending(s));
	big[RC_STATSD_MAX_REQUEST - 1] = 'z';
	big[RC_STATSD_MAX_REQUEST] = '\n';
	assert_int_equal(rc_statsd_sess_input(s, "help\n", 5), RC_SESS_OPEN);
	assert_int_equal(rc_statsd_sess_input(s, big, RC_STATSD_MAX_REQUEST + 1), RC_SESS_CLOSING);
	assert_int_equal(sess_lines(s, lines, 8), 2);
	assert_has(lines[1], "{\"ok\":false,\"error\":\"request longer than 4096 bytes\"}");
	assert_true(s->protocol_error);
	size_t pending = rc_statsd_sess_pending(s);
	assert_int_equal(rc_statsd_sess_input(s, "help\n", 5), RC_SESS_CLOSING);
	assert_int_equal(rc_statsd_sess_pending(s), pending);
	rc_statsd_sess_fini(s);

	/* A NUL: the requests before it are answered, then the error. */
	rc_statsd_sess_init(s, &full_ops, rc_statsd_now_ns());
	assert_int_equal(rc_statsd_sess_input(s, "help\nst\0ats\nhelp\n", 17), RC_SESS_CLOSING);
	assert_int_equal(sess_lines(s, lines, 8), 2);
	assert_has(lines[1], "request contains a NUL byte");
	rc_statsd_sess_fini(s);

	/* End of input answers a last unterminated line. */
	rc_statsd_sess_init(s, &full_ops, rc_statsd_now_ns());
	assert_int_equal(rc_statsd_sess_input(s, "he", 2), RC_SESS_OPEN);
	assert_int_equal(rc_statsd_sess_input(s, "lp", 2), RC_SESS_OPEN);
	assert_int_equal(rc_statsd_sess_eof(s), RC_SESS_CLOSING);
	assert_int_equal(sess_lines(s, lines, 8), 1);
	rc_statsd_sess_fini(s);

	/* Unread replies past the bound drop the client; the pending bytes never pass it. */
	atomic_store(&detail_pad, 1u << 20);
	rc_statsd_sess_init(s, &full_ops, rc_statsd_now_ns());
	unsigned n = 0;
	while (rc_statsd_sess_input(s, "stats\n", 6) == RC_SESS_OPEN) {
		assert_true(rc_statsd_sess_pending(s) <= RC_STATSD_MAX_PENDING);
		assert_true(++n < 10);
	}
	assert_int_equal(s->state, RC_SESS_DROP);
	assert_true(s->overflow);
	assert_int_equal(n, 3);
	rc_statsd_sess_fini(s);
	free(big);
	free(s);
}

/* ---- the replies over a socket ---- */

/* A JSON string's content decoded (ASCII escapes only, as the prometheus text needs). */
static char *json_unescape(const char *p)
{
	size_t n = strlen(p);
	char *out = malloc(n + 1), *o = out;
	assert_non_null(out);
	for (; *p && *p != '"'; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			*o++ = (char)strtol((char[]){p[1], p[2], p[3], p[4], 0}, NULL, 16);
			p += 4;
			break;
		default:
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static void check_prometheus(const char *r)
{
	assert_has(r, "{\"ok\":true,\"format\":\"prometheus-0.0.4\",\"text\":\"");
	char *text = json_unescape(strstr(r, "\"text\":\"") + 8);
	for (int i = 0; i < RC_CTR__COUNT; i++) {
		const struct rc_ctr_desc *d = &rc_ctr_descs[i];
		char name[160], want[1024];
		/* The metric name, written out here independently of the server. */
		snprintf(name, sizeof(name), "ringcap_%s%s", d->name,
			 d->kind == RC_COUNTER ? "_total" : "");
		for (char *c = name; *c; c++)
			if (*c == '.' || *c == '-')
				*c = '_';
		for (const char *c = name; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				    (*c >= '0' && *c <= '9') || *c == '_');
		snprintf(want, sizeof(want), "# HELP %s ", name);
		assert_has(text, want);
		snprintf(want, sizeof(want), "\n# TYPE %s %s\n%s %" PRIu64 "\n", name,
			 d->kind == RC_COUNTER ? "counter" : "gauge", name, fake_value(i));
		assert_has(text, want);
	}
	/* One sample line per counter, and no raw newline within a HELP line. */
	unsigned samples = 0;
	for (char *l = text; *l; l = strchr(l, '\n') + 1) {
		assert_non_null(strchr(l, '\n'));
		if (strncmp(l, "ringcap_", 8) == 0)
			samples++;
		else
			assert_true(strncmp(l, "# HELP ringcap_", 15) == 0 ||
				    strncmp(l, "# TYPE ringcap_", 15) == 0);
	}
	assert_int_equal(samples, RC_CTR__COUNT);
	free(text);
}

static void test_requests(void **state)
{
	struct cl c;
	(void)state;
	struct rc_statsd *s = start(sock_path, 0, &full_ops);
	connect_or_fail(&c, sock_path);

	char *r = request(&c, "stats");
	assert_has(r, "{\"ok\":true,\"uptime_s\":");
	assert_has(r, ",\"counters\":{\"");
	assert_has(r, "},\"rings\":[{\"id\":0,\"packets\":5}]}");
	check_counters(r, -1, 0);
	free(r);

	assert_reply(&c, "pcap-stats",
		     "{\"ok\":true,\"received\":123456,\"dropped\":78,\"ifdropped\":null}");
	atomic_store(&ifdropped, 9);
	assert_reply(&c, "pcap-stats",
		     "{\"ok\":true,\"received\":123456,\"dropped\":78,\"ifdropped\":9}");

	r = request(&c, "flows");
	assert_string_equal(r, "{\"ok\":true,\"flows\":[{\"rank\":0,\"bytes\":1000},{\"rank\":1,"
			       "\"bytes\":999},{\"rank\":2,\"bytes\":998}]}");
	free(r);
	assert_int_equal(atomic_load(&flows_asked), 10);
	assert_reply(&c, "flows 1", "{\"ok\":true,\"flows\":[{\"rank\":0,\"bytes\":1000}]}");
	assert_int_equal(atomic_load(&flows_asked), 1);
	assert_reply(&c, "flows 1000", "{\"ok\":true,\"flows\":[");
	assert_int_equal(atomic_load(&flows_asked), 1000);
	assert_reply(
		&c, "flows 0",
		"{\"ok\":false,\"error\":\"flows takes a count from 1 to 1000 (default 10)\"}");

	r = request(&c, "prometheus");
	check_prometheus(r);
	free(r);

	assert_reply(&c, "filter", "{\"ok\":true,\"filter\":null}");
	assert_reply(&c, "filter   udp  ", "{\"ok\":true,\"filter\":\"udp\"}");
	assert_reply(&c, "filter", "{\"ok\":true,\"filter\":\"udp\"}");
	r = request(&c, "filter port \"x\\");
	assert_string_equal(r,
			    "{\"ok\":false,\"error\":\"syntax error in \\\"port \\\"x\\\\\\\"\\\\"
			    "\\u0001\"}");
	free(r);
	assert_reply(&c, "filter", "{\"ok\":true,\"filter\":\"udp\"}");
	assert_reply(&c, "filter tcp", "{\"ok\":true,\"filter\":\"tcp\"}");

	r = request(&c, "help");
	for (const char *k = "stats\0pcap-stats\0flows\0prometheus\0filter\0help\0"; *k;
	     k += strlen(k) + 1) {
		char key[32];
		snprintf(key, sizeof(key), "\"%s\":\"", k);
		assert_has(r, key);
	}
	free(r);

	assert_reply(&c, "STATS", "{\"ok\":false,\"error\":\"unknown request 'STATS': try help\"}");
	assert_reply(&c, "stats x", "{\"ok\":false,\"error\":\"stats takes no argument\"}");
	/* Bytes that are not UTF-8, and control bytes, come back escaped. */
	assert_reply(&c, "\xff\x01\xc3\xa9\"",
		     "{\"ok\":false,\"error\":\"unknown request '\\u00ff\\u0001\xc3\xa9\\\"': "
		     "try help\"}");

	struct rc_statsd_info i = info(s);
	assert_int_equal(i.accepted, 1);
	assert_int_equal(i.clients, 1);
	assert_int_equal(i.requests, 18);
	assert_int_equal(i.errors, 5);
	cl_close(&c);
	rc_statsd_stop(s);
	assert_int_equal(access(sock_path, F_OK), -1);
}

static void test_not_available(void **state)
{
	struct cl c;
	(void)state;
	struct rc_statsd *s = start(sock_path, 0, &bare_ops);
	connect_or_fail(&c, sock_path);
	char *r = request(&c, "stats");
	check_counters(r, -1, 0);
	assert_true(r[strlen(r) - 1] == '}' && r[strlen(r) - 2] == '}'); /* no detail */
	free(r);
	assert_reply(&c, "pcap-stats", "{\"ok\":false,\"error\":\"pcap-stats not available\"}");
	assert_reply(&c, "flows 3", "{\"ok\":false,\"error\":\"flows not available\"}");
	assert_reply(&c, "filter", "{\"ok\":false,\"error\":\"filter not available\"}");
	assert_reply(&c, "filter udp", "{\"ok\":false,\"error\":\"filter changes not available\"}");
	r = request(&c, "prometheus");
	check_prometheus(r);
	free(r);
	cl_close(&c);
	rc_statsd_stop(s);
}

static void test_pipelined_split_crlf(void **state)
{
	struct cl c;
	(void)state;
	struct rc_statsd *s = start(sock_path, 0, &full_ops);
	connect_or_fail(&c, sock_path);

	/* Several requests in one write, with blank lines, CRLF and a tab: replies in order. */
	cl_send_str(&c, "pcap-stats\nhelp\r\n\n\r\n \t \nflows\t2\r\nnope\nstats\n");
	char *r[5];
	for (int i = 0; i < 5; i++)
		r[i] = reply_line(&c);
	assert_has(r[0], "\"received\":123456");
	assert_has(r[1], "\"requests\":{");
	assert_has(r[2], "\"flows\":[{\"rank\":0,\"bytes\":1000},{\"rank\":1");
	assert_has(r[3], "unknown request 'nope'");
	assert_has(r[4], "\"uptime_s\":");
	for (int i = 0; i < 5; i++)
		free(r[i]);

	/* One byte per write. */
	const char *req = "pcap-stats\r\nhelp\n";
	for (size_t i = 0; req[i]; i++) {
		int rc = cl_send(&c, req + i, 1);
		assert_int_equal(rc, 0);
	}
	char *a = reply_line(&c), *b = reply_line(&c);
	assert_has(a, "\"received\":123456");
	assert_has(b, "\"requests\":{");
	free(a);
	free(b);

	/* Nothing but blank lines: no reply, so the next line is help's. */
	cl_send_str(&c, "\n\r\n\t\n");
	assert_reply(&c, "help", "\"requests\":{");
	assert_int_equal(c.len, 0);
	assert_int_equal(info(s).requests, 8);
	cl_close(&c);
	rc_statsd_stop(s);
}

static void test_long_line_and_nul(void **state)
{
	struct cl c, other;
	(void)state;
	struct rc_statsd *s = start(sock_path, 0, &full_ops);
	connect_or_fail(&other, sock_path);
	assert_reply(&other, "help", "\"ok\":true");

	/* The longest line allowed gets an answer and the connection stays. */
	char *line = malloc(1 << 20);
	assert_non_null(line);
	memset(line, 'q', 1 << 20);
	connect_or_fail(&c, sock_path);
	line[RC_STATSD_MAX_REQUEST - 1] = '\n';
	assert_int_equal(cl_send(&c, line, RC_STATSD_MAX_REQUEST), 0);
	char *r = reply_line(&c);
	assert_has(r, "unknown request 'qqqq");
	free(r);
	assert_reply(&c, "help", "\"ok\":true");

	/* 1 MiB without a newline: an error, then the server closes (our send may fail). */
	line[RC_STATSD_MAX_REQUEST - 1] = 'q';
	int rc = cl_send(&c, line, 1 << 20);
	assert_true(rc == 0 || rc == -EPIPE || rc == -ECONNRESET);
	r = reply_line(&c);
	assert_string_equal(r, "{\"ok\":false,\"error\":\"request longer than 4096 bytes\"}");
	free(r);
	assert_true(cl_sees_close(&c, DEADLINE_MS));
	cl_close(&c);
	assert_reply(&other, "pcap-stats", "\"received\":123456");

	/* Binary bytes without a NUL: answered, escaped, valid JSON. */
	connect_or_fail(&c, sock_path);
	char bin[256];
	size_t n = 0;
	for (int b = 1; b < 256; b++)
		if (b != '\n')
			bin[n++] = (char)b;
	bin[n++] = '\n';
	assert_int_equal(cl_send(&c, bin, n), 0);
	r = reply_line(&c);
	assert_has(r, "unknown request '\\u0001\\u0002");
	free(r);

	/* Pseudo-random lines: one valid reply per line that is not blank. */
	uint32_t x = 12345;
	size_t len = 0, expect = 0, start_of_line = 0;
	while (len < 60000) {
		x = x * 1103515245u + 12345u;
		char b = (char)(x >> 16);
		if (b == '\0')
			b = 'N';
		if (len - start_of_line >= 300)
			b = '\n';
		line[len++] = b;
		if (b == '\n') {
			size_t e = len - 1;
			if (e > start_of_line && line[e - 1] == '\r')
				e--;
			for (size_t i = start_of_line; i < e; i++)
				if (line[i] != ' ' && line[i] != '\t') {
					expect++;
					break;
				}
			start_of_line = len;
		}
	}
	len = start_of_line;
	assert_int_equal(cl_send(&c, line, len), 0);
	for (size_t i = 0; i < expect; i++)
		free(reply_line(&c));
	assert_reply(&c, "help", "\"requests\"");

	/* A NUL byte: the error, then close. */
	assert_int_equal(cl_send(&c, "help\nsta\0ts\nhelp\n", 17), 0);
	free(reply_line(&c));
	r = reply_line(&c);
	assert_string_equal(r, "{\"ok\":false,\"error\":\"request contains a NUL byte\"}");
	free(r);
	assert_true(cl_sees_close(&c, DEADLINE_MS));
	cl_close(&c);

	assert_reply(&other, "help", "\"ok\":true");
	assert_int_equal(info(s).protocol_closed, 2);
	free(line);
	cl_close(&other);
	rc_statsd_stop(s);
}

/* ---- many clients ---- */

struct worker {
	pthread_t t;
	int clients, rounds;
	char error[256];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct cl *cs = calloc((size_t)w->clients, sizeof(*cs));
	uint64_t *last = calloc((size_t)w->clients, sizeof(*last));
	char key[128];
	snprintf(key, sizeof(key), "\"%s\":", rc_ctr_descs[RC_CTR_CAPTURE_PACKETS].name);
	for (int i = 0; i < w->clients; i++)
		if (cl_open(&cs[i], sock_path) < 0) {
			snprintf(w->error, sizeof(w->error), "connect: %s", strerror(errno));
			goto out;
		}
	for (int r = 0; r < w->rounds; r++) {
		for (int i = 0; i < w->clients; i++)
			if (cl_send(&cs[i], "stats\n", 6) < 0) {
				snprintf(w->error, sizeof(w->error), "send failed");
				goto out;
			}
		for (int i = 0; i < w->clients; i++) {
			char *line = cl_line(&cs[i]);
			const char *p = line ? strstr(line, key) : NULL;
			if (!p || !json_valid(line, strlen(line))) {
				snprintf(w->error, sizeof(w->error), "bad reply: %.100s",
					 line ? line : "(none)");
				free(line);
				goto out;
			}
			/* The live counter only grows. */
			uint64_t v = strtoull(p + strlen(key), NULL, 10);
			if (v < last[i] || v < fake_value(RC_CTR_CAPTURE_PACKETS))
				snprintf(w->error, sizeof(w->error), "counter went back");
			last[i] = v;
			free(line);
		}
	}
out:
	for (int i = 0; i < w->clients; i++)
		cl_close(&cs[i]);
	free(cs);
	free(last);
	return NULL;
}

static atomic_int stop_bumping;

static void *bumper_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_bumping)) {
		rc_ctr_inc(&live, RC_CTR_CAPTURE_PACKETS);
		if ((rc_ctr_get(&live, RC_CTR_CAPTURE_PACKETS) & 1023) == 0)
			sched_yield();
	}
	return NULL;
}

static void test_many_clients(void **state)
{
	struct worker w[4];
	const char *env = getenv("RINGCAP_STATSD_ROUNDS");
	int rounds = env ? atoi(env) : 10;
	pthread_t bumper;
	(void)state;

	struct rc_statsd *s = start(sock_path, 0, &full_ops);
	atomic_store(&stop_bumping, 0);
	assert_int_equal(pthread_create(&bumper, NULL, bumper_main, NULL), 0);
	for (int i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].clients = 25;
		w[i].rounds = rounds;
		assert_int_equal(pthread_create(&w[i].t, NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(w[i].t, NULL), 0);
		struct rc_statsd_info in = info(s); /* read while the server works */
		assert_true(in.clients <= 100);
	}
	atomic_store(&stop_bumping, 1);
	assert_int_equal(pthread_join(bumper, NULL), 0);
	for (int i = 0; i < 4; i++)
		if (w[i].error[0])
			fail_msg("client thread %d: %s", i, w[i].error);
	struct rc_statsd_info in = info(s);
	assert_int_equal(in.accepted, 100);
	assert_int_equal(in.requests, (uint64_t)100 * (uint64_t)rounds);
	assert_int_equal(in.errors, 0);
	wait_clients(s, 0);
	rc_statsd_stop(s);
}

static void test_slow_reader_dropped(void **state)
{
	struct cl slow, fast;
	(void)state;
	atomic_store(&detail_pad, 256u << 10);
	struct rc_statsd *s = start(sock_path, 0, &full_ops);
	connect_or_fail(&slow, sock_path);
	connect_or_fail(&fast, sock_path);

	/* The slow client asks and never reads; the fast one is served all along. */
	uint64_t end = now_ms() + DEADLINE_MS;
	unsigned sent = 0;
	while (info(s).dropped_slow == 0) {
		if (now_ms() > end)
			fail_msg("slow client never dropped (%u requests)", sent);
		int rc = cl_send(&slow, "stats\n", 6);
		if (rc == -EPIPE || rc == -ECONNRESET)
			continue; /* dropped: the counter shows it next */
		assert_int_equal(rc, 0);
		sent++;
		char *r = request(&fast, "stats");
		assert_has(r, "\"pad\":\"xxxx");
		free(r);
	}
	/* Each reply is 256 KiB and more: the bound, 4 MiB, holds about 16 of them. */
	assert_true(sent >= 12);
	assert_true(cl_sees_close(&slow, DEADLINE_MS));
	cl_close(&slow);
	assert_reply(&fast, "help", "\"ok\":true");
	assert_int_equal(info(s).dropped_slow, 1);
	wait_clients(s, 1);
	cl_close(&fast);
	rc_statsd_stop(s);
}

static void test_disconnect_mid_reply(void **state)
{
	struct cl c, other;
	(void)state;
	atomic_store(&detail_pad, 1536u << 10); /* two replies fit the bound */
	struct rc_statsd *s = start(sock_path, 0, &full_ops);
	connect_or_fail(&other, sock_path);
	for (int i = 0; i < 5; i++) {
		connect_or_fail(&c, sock_path);
		cl_send_str(&c, "stats\nstats\n");
		/* Some of the reply, then gone (SIGPIPE would kill this test). */
		assert_true(cl_fill(&c, now_ms() + DEADLINE_MS) > 0);
		cl_close(&c);
	}
	wait_clients(s, 1);
	char *r = request(&other, "stats");
	check_counters(r, -1, 0);
	free(r);
	assert_int_equal(info(s).dropped_slow, 0);
	cl_close(&other);
	rc_statsd_stop(s);
}

static void test_too_many_clients(void **state)
{
	static struct cl cs[RC_STATSD_MAX_CLIENTS];
	struct cl extra;
	struct rlimit rl;
	(void)state;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < RC_STATSD_MAX_CLIENTS * 2 + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < RC_STATSD_MAX_CLIENTS * 2 + 64)
			skip();
	}
	struct rc_statsd *s = start(sock_path, 0, &full_ops);
	for (int i = 0; i < RC_STATSD_MAX_CLIENTS; i++)
		connect_or_fail(&cs[i], sock_path);
	wait_clients(s, RC_STATSD_MAX_CLIENTS);

	connect_or_fail(&extra, sock_path);
	char *r = reply_line(&extra);
	assert_string_equal(r, "{\"ok\":false,\"error\":\"too many clients\"}");
	free(r);
	assert_true(cl_sees_close(&extra, DEADLINE_MS));
	cl_close(&extra);
	assert_int_equal(info(s).refused, 1);

	/* Everyone connected is served; once one leaves, a newcomer is too. */
	assert_reply(&cs[0], "help", "\"ok\":true");
	assert_reply(&cs[RC_STATSD_MAX_CLIENTS - 1], "help", "\"ok\":true");
	cl_close(&cs[7]);
	wait_clients(s, RC_STATSD_MAX_CLIENTS - 1);
	connect_or_fail(&extra, sock_path);
	assert_reply(&extra, "pcap-stats", "\"received\":123456");
	cl_close(&extra);
	for (int i = 0; i < RC_STATSD_MAX_CLIENTS; i++)
		cl_close(&cs[i]);
	rc_statsd_stop(s);
}

/* ---- the socket path ---- */

static int start_err(const char *path, char *err, size_t errlen)
{
	struct rc_statsd_config cfg = {.path = path};
	struct rc_statsd *s = (struct rc_statsd *)&cfg; /* must be reset to NULL */
	int rc = rc_statsd_start(&s, &cfg, &full_ops, err, errlen);
	assert_true(rc < 0);
	assert_null(s);
	return rc;
}

static void test_paths(void **state)
{
	char err[512], p[512];
	struct stat st;
	struct cl c;
	(void)state;

	/* The folder is made 0750 and the socket 0660, whatever the umask. */
	mode_t old = umask(0077);
	struct rc_statsd *s = start(sock_path, 0, &full_ops);
	umask(old);
	snprintf(p, sizeof(p), "%s/run", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(lstat(sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	/* A second server on a live socket is refused and leaves it alone. */
	assert_int_equal(start_err(sock_path, err, sizeof(err)), -EADDRINUSE);
	snprintf(p, sizeof(p),
		 "another process serves stats on %s (stop it, or give --stats-socket", sock_path);
	assert_has(err, p);
	connect_or_fail(&c, sock_path);
	assert_reply(&c, "help", "\"ok\":true");
	cl_close(&c);
	rc_statsd_stop(s);
	assert_int_equal(access(sock_path, F_OK), -1);

	/* A stale socket (its process gone) is replaced. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = sun_of(sock_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(lstat(sock_path, &st), 0);
	s = start(sock_path, 0, &full_ops);
	connect_or_fail(&c, sock_path);
	assert_reply(&c, "help", "\"ok\":true");
	cl_close(&c);
	rc_statsd_stop(s);

	/* A regular file is refused and kept. */
	FILE *f = fopen(sock_path, "w");
	assert_non_null(f);
	fputs("keep", f);
	fclose(f);
	assert_int_equal(start_err(sock_path, err, sizeof(err)), -EEXIST);
	assert_has(err, "not a socket");
	assert_has(err, sock_path);
	assert_int_equal(stat(sock_path, &st), 0);
	assert_int_equal(st.st_size, 4);

	/* Only the last folder is made. */
	snprintf(p, sizeof(p), "%s/no/such/ringcap.sock", dir);
	assert_int_equal(start_err(p, err, sizeof(err)), -ENOENT);
	assert_has(err, "does not exist");
	snprintf(p, sizeof(p), "%s/run/ringcap.sock/x.sock", dir); /* under a regular file */
	assert_int_equal(start_err(p, err, sizeof(err)), -ENOTDIR);

	/* Longer than sun_path. */
	memset(p, 'a', 200);
	p[0] = '/';
	p[200] = '\0';
	assert_int_equal(start_err(p, err, sizeof(err)), -ENAMETOOLONG);
	assert_has(err, "too long");

	/* No totals callback. */
	struct rc_statsd_config cfg = {.path = sock_path};
	assert_int_equal(rc_statsd_start(&s, &cfg, &(struct rc_statsd_ops){0}, err, sizeof(err)),
			 -EINVAL);
	rc_statsd_stop(NULL);
}

static void test_idle_timeout(void **state)
{
	struct cl idle, busy;
	(void)state;
	struct rc_statsd *s = start(sock_path, 200, &full_ops);
	connect_or_fail(&idle, sock_path);
	connect_or_fail(&busy, sock_path);
	assert_reply(&idle, "help", "\"ok\":true");
	uint64_t t0 = now_ms();

	/* The busy client asks every 50 ms and is kept; the idle one is closed. */
	bool closed = false;
	while (now_ms() - t0 < 700) {
		assert_reply(&busy, "pcap-stats", "\"ok\":true");
		struct pollfd pf = {.fd = idle.fd, .events = POLLIN};
		if (poll(&pf, 1, 50) == 1 && !closed) {
			uint64_t waited = now_ms() - t0;
			assert_true(cl_sees_close(&idle, 0));
			assert_true(waited >= 150);
			closed = true;
		}
	}
	if (!closed)
		assert_true(cl_sees_close(&idle, DEADLINE_MS));
	assert_reply(&busy, "help", "\"ok\":true");
	assert_int_equal(info(s).idle_closed, 1);
	wait_clients(s, 1);
	cl_close(&idle);

	/* Left alone, the busy one goes too. */
	assert_true(cl_sees_close(&busy, DEADLINE_MS));
	assert_int_equal(info(s).idle_closed, 2);
	cl_close(&busy);
	rc_statsd_stop(s);
}

static void test_stop_with_clients(void **state)
{
	struct cl a, b;
	(void)state;
	atomic_store(&detail_pad, 1u << 20);
	struct rc_statsd *s = start(sock_path, 0, &full_ops);
	connect_or_fail(&a, sock_path);
	connect_or_fail(&b, sock_path);
	cl_send_str(&a, "stats\nstats\n"); /* replies pending, never read */
	assert_reply(&b, "help", "\"ok\":true");
	cl_send_str(&b, "hel"); /* a partial line */
	rc_statsd_stop(s);
	assert_true(cl_sees_close(&a, DEADLINE_MS));
	assert_true(cl_sees_close(&b, DEADLINE_MS));
	assert_int_equal(access(sock_path, F_OK), -1);
	cl_close(&a);
	cl_close(&b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_available, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_split_crlf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_and_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_mid_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_with_clients, setup, teardown),
	};

	/* An optional argument selects tests by name pattern (the TSan suite runs the stress). */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
