/* HTTP/1.x over reassembled TCP: content detection, request/response pairing, JSON records. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringcap/assert.h"
#include "ringcap/http.h"

#include "http_wire.h"
#include "json_out.h"

#define HTTP_MAGIC 0x48545450u /* "HTTP" */
#define CONN_MAGIC 0x48434f4eu /* "HCON" */

#define DETECT_MAX   16	  /* bytes of a method token at most ("UNSUBSCRIBE" has 11) */
#define HDR_NAME_MAX 10	  /* header names we look for: "host", "user-agent" */
#define FREE_MAX     256  /* records kept for reuse by a context */
#define BUF_KEEP     2048 /* a recycled record keeps a field buffer at most this big */
#define FIELDS_MAX   (RC_HTTP_URI_MAX + 2 * RC_HTTP_VALUE_MAX)

/* Worst case of a JSON line: every string byte escaped as \u00XX, plus names and numbers. */
#define JSON_LINE_MAX \
	(6 * (FIELDS_MAX + RC_HTTP_STATUS_MAX + RC_HTTP_UID_MAX + 2 * RC_HTTP_ADDR_MAX) + 1024)

enum rec_flag {
	F_GAP = 1 << 0,
	F_PARSE_ERROR = 1 << 1,
	F_NO_REQUEST = 1 << 2,
	F_NO_RESPONSE = 1 << 3,
	F_INCOMPLETE = 1 << 4,
	F_TRUNCATED = 1 << 5,
	F_UPGRADE = 1 << 6,
};

static const char *const flag_names[] = {
	"gap", "parse_error", "no_request", "no_response", "incomplete", "truncated", "upgrade",
};
_Static_assert(sizeof(flag_names) / sizeof(flag_names[0]) == 7, "a name for every flag");

/* A field: bytes [off, off + len) of its record's buffer. */
struct str {
	uint32_t off, len;
	bool set;
};

/* One request and its response: a line of output. */
struct rec {
	struct rec *next;
	uint64_t ts_ns, resp_ts_ns;
	uint64_t req_body, resp_body;
	uint32_t depth, hdr_count;
	uint16_t method, status, info, flags;
	uint16_t vmaj, vmin;
	bool has_req; /* a request began (else: a response without request) */
	bool has_method;
	bool has_version; /* vmaj.vmin known (request head, or response head) */
	bool req_head;	  /* the request's headers are complete */
	bool req_done;	  /* nothing more will be learnt of the request */
	bool resp_final;  /* a final response's head was seen */
	bool resp_done;	  /* nothing more will be learnt of the response */
	bool is_head, is_connect;
	struct str uri, host, ua;
	uint16_t smsg_len;
	char smsg[RC_HTTP_STATUS_MAX];
	/* Kept across reuse. */
	char *buf; /* the fields, one after the other: each one grows only while it is the last */
	uint32_t blen, bcap;
};

enum { H_START, H_FIELD, H_VALUE };    /* where the header callbacks are */
enum { T_NONE, T_HOST, T_UA };	       /* the field a header value goes to */
enum { C_DETECT, C_HTTP, C_OFF };      /* a connection's state */
enum { FD_NONE = -1, FD_FAILED = -2 }; /* side.body_fd besides a descriptor */

/* One direction of a connection. */
struct side {
	struct hw w;
	struct rc_http_conn *c;
	struct rec *cur;     /* the record of the message being parsed; NULL between messages */
	uint64_t msg_ts;     /* responses: start of the message being parsed */
	uint16_t stop_flags; /* once stopped: why, stamped on the records it would have completed */
	bool stopped;
	bool interim;		 /* responses: the message being parsed is a 1xx */
	uint8_t hstate;		 /* requests: H_* */
	uint8_t target;		 /* requests: T_* of the header value being parsed */
	uint8_t name_len;	 /* requests: bytes of the header name (HDR_NAME_MAX + 1: longer) */
	char name[HDR_NAME_MAX]; /* requests: the header name, lower case */
	bool body_sparse;	 /* requests: the body file has a hole at its end */
	int body_fd;		 /* requests: the --http-bodies file of cur, or FD_* */
};

struct rc_http_conn {
	uint32_t magic;
	uint8_t state;	   /* C_* */
	uint8_t det_n;	   /* method bytes held while detecting */
	bool tunnel;	   /* a CONNECT was answered 2xx: the tunnel follows */
	bool server_first; /* detecting: the server sent a response before any request */
	bool swapped;	   /* the flow's originator is the server: directions exchanged */
	uint8_t ts_digits;
	struct rc_http *h;
	struct side side[2];
	struct rec *head, *tail; /* records not written yet, in request order */
	struct rec *await;	 /* the first of them awaiting its final response; NULL: none */
	uint32_t queued;
	uint32_t depth; /* records made so far */
	uint64_t now;	/* time of the bytes being parsed */
	uint64_t det_ts;
	uint16_t orig_p, resp_p;
	char det[DETECT_MAX];
	char uid[RC_HTTP_UID_MAX + 1];
	char orig_h[RC_HTTP_ADDR_MAX + 1], resp_h[RC_HTTP_ADDR_MAX + 1];
};

struct rc_http {
	uint32_t magic;
	uint32_t nfree;
	struct rc_http_config cfg; /* ports not kept: see port_bits */
	struct rc_ctrs *ctrs;
	struct rec *free; /* records for reuse */
	char *line;	  /* JSON_LINE_MAX bytes */
	char *bodies_dir; /* copy, or NULL */
	uint64_t port_bits[65536 / 64];
	bool any_port;
};

static void flush(struct rc_http_conn *c);
static void stop(struct rc_http_conn *c, int dir, uint16_t flags);

/* ---- context ----------------------------------------------------------------------------- */

void rc_http_config_default(struct rc_http_config *cfg)
{
	*cfg = (struct rc_http_config){.max_pending = 64};
}

int rc_http_new(struct rc_http **out, const struct rc_http_config *cfg)
{
	RC_ASSERT(out && cfg);
	*out = NULL;
	if (!cfg->ctrs || cfg->max_pending < 2 || (cfg->nports && !cfg->ports) ||
	    (cfg->bodies_dir && (!cfg->bodies_dir[0] || strlen(cfg->bodies_dir) > PATH_MAX - 64)))
		return -EINVAL;
	for (size_t i = 0; i < cfg->nports; i++)
		if (cfg->ports[i] == 0)
			return -EINVAL;
	struct rc_http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->line = malloc(JSON_LINE_MAX);
	h->bodies_dir = cfg->bodies_dir ? strdup(cfg->bodies_dir) : NULL;
	if (!h->line || (cfg->bodies_dir && !h->bodies_dir)) {
		free(h->line);
		free(h->bodies_dir);
		free(h);
		return -ENOMEM;
	}
	h->magic = HTTP_MAGIC;
	h->cfg = *cfg;
	h->cfg.ports = NULL;
	h->ctrs = cfg->ctrs;
	h->any_port = cfg->nports == 0;
	for (size_t i = 0; i < cfg->nports; i++)
		h->port_bits[cfg->ports[i] / 64] |= 1ull << (cfg->ports[i] % 64);
	*out = h;
	return 0;
}

void rc_http_free(struct rc_http *h)
{
	if (!h)
		return;
	RC_ASSERT(h->magic == HTTP_MAGIC);
	while (h->free) {
		struct rec *r = h->free;
		h->free = r->next;
		free(r->buf);
		free(r);
	}
	free(h->line);
	free(h->bodies_dir);
	h->magic = 0;
	free(h);
}

/* ---- records ----------------------------------------------------------------------------- */

static struct rec *rec_get(struct rc_http *h)
{
	struct rec *r = h->free;
	if (r) {
		h->free = r->next;
		h->nfree--;
		char *buf = r->buf;
		uint32_t bcap = r->bcap;
		memset(r, 0, sizeof(*r));
		r->buf = buf;
		r->bcap = bcap;
		return r;
	}
	return calloc(1, sizeof(*r));
}

static void rec_put(struct rc_http *h, struct rec *r)
{
	if (h->nfree >= FREE_MAX) {
		free(r->buf);
		free(r);
		return;
	}
	if (r->bcap > BUF_KEEP) {
		free(r->buf);
		r->buf = NULL;
		r->bcap = 0;
	}
	r->next = h->free;
	h->free = r;
	h->nfree++;
}

static void str_start(struct rec *r, struct str *s)
{
	s->set = true;
	s->off = r->blen;
	s->len = 0;
}

/* Add n bytes to field s, the last one started in r, keeping it within max bytes. */
static void str_add(struct rc_http *h, struct rec *r, struct str *s, const char *p, size_t n,
		    uint32_t max)
{
	RC_ASSERT(s->set && s->off + s->len == r->blen);
	if (n > max - s->len) {
		n = max - s->len;
		r->flags |= F_TRUNCATED;
	}
	if (n == 0)
		return;
	if (r->blen + n > r->bcap) {
		uint32_t cap = r->bcap ? r->bcap : 256;
		while (cap < r->blen + n)
			cap *= 2;
		if (cap > FIELDS_MAX)
			cap = FIELDS_MAX;
		RC_ASSERT(r->blen + n <= cap);
		char *nb = realloc(r->buf, cap);
		if (!nb) {
			rc_ctr_inc(h->ctrs, RC_CTR_HTTP_ALLOC_FAILED);
			r->flags |= F_TRUNCATED;
			return;
		}
		r->buf = nb;
		r->bcap = cap;
	}
	memcpy(r->buf + r->blen, p, n);
	r->blen += (uint32_t)n;
	s->len += (uint32_t)n;
}

/* A new record at the end of the queue; NULL when out of memory (counted). */
static struct rec *rec_new(struct rc_http_conn *c)
{
	struct rec *r = rec_get(c->h);
	if (!r) {
		rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_ALLOC_FAILED);
		return NULL;
	}
	r->depth = ++c->depth;
	r->ts_ns = c->now;
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->queued++;
	return r;
}

/* ---- request bodies to files ------------------------------------------------------------- */

/* A uid that names a file in the folder and nothing else. */
static bool uid_is_file_name(const char *uid)
{
	if (!uid[0] || uid[0] == '.')
		return false;
	for (const char *p = uid; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20)
			return false;
	return true;
}

static void body_fail(struct rc_http_conn *c, struct side *s)
{
	rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_BODIES_ERRORS);
	if (s->body_fd >= 0)
		close(s->body_fd);
	s->body_fd = FD_FAILED;
}

/* n body bytes of the request in s->cur (p NULL: skipped over a gap, left as a hole). */
static void body_write(struct rc_http_conn *c, struct side *s, const char *p, size_t n)
{
	if (s->body_fd == FD_FAILED)
		return;
	if (s->body_fd == FD_NONE) {
		char path[PATH_MAX];
		if (!uid_is_file_name(c->uid) ||
		    snprintf(path, sizeof(path), "%s/%s-%u", c->h->bodies_dir, c->uid,
			     s->cur->depth) >= (int)sizeof(path)) {
			body_fail(c, s);
			return;
		}
		s->body_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		s->body_sparse = false;
		if (s->body_fd < 0) {
			body_fail(c, s);
			return;
		}
	}
	if (!p) {
		if (lseek(s->body_fd, (off_t)n, SEEK_CUR) < 0)
			body_fail(c, s);
		s->body_sparse = true;
		return;
	}
	s->body_sparse = false;
	while (n > 0) {
		ssize_t k = write(s->body_fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			body_fail(c, s);
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

static void body_close(struct rc_http_conn *c, struct side *s)
{
	if (s->body_fd >= 0) {
		off_t end = lseek(s->body_fd, 0, SEEK_CUR);
		bool ok = !s->body_sparse || (end >= 0 && ftruncate(s->body_fd, end) == 0);
		if (close(s->body_fd) < 0)
			ok = false;
		rc_ctr_inc(c->h->ctrs, ok ? RC_CTR_HTTP_BODIES_WRITTEN : RC_CTR_HTTP_BODIES_ERRORS);
	}
	s->body_fd = FD_NONE;
	s->body_sparse = false;
}

static void hdr_ignore(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
}

/* ---- requests (direction 0) -------------------------------------------------------------- */

static void req_begin(void *ctx)
{
	struct side *s = ctx;
	struct rc_http_conn *c = s->c;
	struct side *resp = &c->side[1];

	rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_REQUESTS);
	if (!resp->stopped && c->queued >= c->h->cfg.max_pending) {
		/* Responses are not coming (one-sided capture) or lag too far: give them up. */
		rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_PENDING_OVERFLOW);
		stop(c, 1, 0);
	}
	struct rec *r = rec_new(c);
	s->cur = r;
	s->hstate = H_START;
	if (!r)
		return;
	r->has_req = true;
	if (resp->stopped) {
		r->resp_done = true;
		r->flags |= resp->stop_flags | F_NO_RESPONSE;
	} else if (!c->await) {
		c->await = r;
	}
}

static void req_url(void *ctx, unsigned method, const char *p, size_t n)
{
	struct side *s = ctx;
	struct rec *r = s->cur;
	if (!r)
		return;
	r->method = (uint16_t)method;
	r->has_method = true;
	if (!r->uri.set)
		str_start(r, &r->uri);
	str_add(s->c->h, r, &r->uri, p, n, RC_HTTP_URI_MAX);
}

static void req_field(void *ctx, const char *p, size_t n)
{
	struct side *s = ctx;
	if (!s->cur)
		return;
	if (s->hstate != H_FIELD) {
		s->hstate = H_FIELD;
		s->name_len = 0;
		s->cur->hdr_count++;
	}
	for (size_t i = 0; i < n && s->name_len <= HDR_NAME_MAX; i++) {
		if (s->name_len < HDR_NAME_MAX) {
			char ch = p[i];
			s->name[s->name_len] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
		}
		s->name_len++;
	}
}

static bool name_is(const struct side *s, const char *lower)
{
	size_t n = strlen(lower);
	return s->name_len == n && memcmp(s->name, lower, n) == 0;
}

static void req_value(void *ctx, const char *p, size_t n)
{
	struct side *s = ctx;
	struct rec *r = s->cur;
	if (!r)
		return;
	if (s->hstate != H_VALUE) {
		s->hstate = H_VALUE;
		s->target = T_NONE;
		if (!r->host.set && name_is(s, "host")) {
			s->target = T_HOST;
			str_start(r, &r->host);
		} else if (!r->ua.set && name_is(s, "user-agent")) {
			s->target = T_UA;
			str_start(r, &r->ua);
		}
	}
	if (s->target == T_HOST)
		str_add(s->c->h, r, &r->host, p, n, RC_HTTP_VALUE_MAX);
	else if (s->target == T_UA)
		str_add(s->c->h, r, &r->ua, p, n, RC_HTTP_VALUE_MAX);
}

static enum hw_body req_head(void *ctx, const struct hw_head *hd)
{
	struct side *s = ctx;
	struct rec *r = s->cur;
	s->hstate = H_START; /* trailers of a chunked body count as headers again */
	if (!r)
		return HW_BODY;
	r->method = (uint16_t)hd->method;
	r->has_method = true;
	r->is_head = hd->is_head;
	r->is_connect = hd->is_connect;
	r->vmaj = (uint16_t)hd->major;
	r->vmin = (uint16_t)hd->minor;
	r->has_version = true;
	r->req_head = true;
	return HW_BODY;
}

static void req_body(void *ctx, const char *p, size_t n)
{
	struct side *s = ctx;
	struct rc_http_conn *c = s->c;
	rc_ctr_add(c->h->ctrs, RC_CTR_HTTP_REQUEST_BODY_BYTES, n);
	if (!s->cur)
		return;
	s->cur->req_body += n;
	if (c->h->bodies_dir)
		body_write(c, s, p, n);
}

static void req_done(void *ctx)
{
	struct side *s = ctx;
	struct rc_http_conn *c = s->c;
	body_close(c, s);
	if (s->cur) {
		s->cur->req_done = true;
		s->cur = NULL;
		flush(c);
	}
}

static const struct hw_ops req_ops = {
	.begin = req_begin,
	.url = req_url,
	.status = hdr_ignore,
	.field = req_field,
	.value = req_value,
	.head = req_head,
	.body = req_body,
	.done = req_done,
};

/* ---- responses (direction 1) ------------------------------------------------------------- */

static void resp_begin(void *ctx)
{
	struct side *s = ctx;
	struct rc_http_conn *c = s->c;
	struct rec *r = c->await;

	s->msg_ts = c->now;
	s->interim = false;
	if (!r) {
		/* No request to answer: a record of its own. */
		r = rec_new(c);
		if (r) {
			r->req_done = true;
			r->flags |= F_NO_REQUEST | c->side[0].stop_flags;
			c->await = r;
		}
	}
	s->cur = r;
	if (r)
		r->smsg_len = 0;
}

static void resp_status(void *ctx, const char *p, size_t n)
{
	struct side *s = ctx;
	struct rec *r = s->cur;
	if (!r)
		return;
	if (n > sizeof(r->smsg) - r->smsg_len) {
		n = sizeof(r->smsg) - r->smsg_len;
		r->flags |= F_TRUNCATED;
	}
	memcpy(r->smsg + r->smsg_len, p, n);
	r->smsg_len += (uint16_t)n;
}

static enum hw_body resp_head(void *ctx, const struct hw_head *hd)
{
	struct side *s = ctx;
	struct rec *r = s->cur;
	if (hd->status / 100 == 1 && hd->status != 101) {
		s->interim = true;
		if (r)
			r->info = (uint16_t)hd->status;
		return HW_NO_BODY;
	}
	if (!r)
		return hd->status == 101 ? HW_SWITCH : HW_BODY;
	r->status = (uint16_t)hd->status;
	r->resp_final = true;
	r->resp_ts_ns = s->msg_ts;
	if (!r->has_req) { /* else the version is the request's, known or not */
		r->vmaj = (uint16_t)hd->major;
		r->vmin = (uint16_t)hd->minor;
		r->has_version = true;
	}
	if (hd->status == 101 || (r->is_connect && hd->status / 100 == 2)) {
		r->flags |= F_UPGRADE;
		s->c->tunnel = r->is_connect;
		return HW_SWITCH;
	}
	if (r->is_head || hd->status == 204 || hd->status == 304)
		return HW_NO_BODY;
	return HW_BODY;
}

static void resp_body(void *ctx, const char *p, size_t n)
{
	struct side *s = ctx;
	(void)p;
	rc_ctr_add(s->c->h->ctrs, RC_CTR_HTTP_RESPONSE_BODY_BYTES, n);
	if (s->cur)
		s->cur->resp_body += n;
}

static void resp_done(void *ctx)
{
	struct side *s = ctx;
	struct rc_http_conn *c = s->c;
	struct rec *r = s->cur;

	s->cur = NULL;
	if (s->interim) {
		s->interim = false;
		rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_INTERIM);
		return;
	}
	rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_RESPONSES);
	if (!r)
		return;
	RC_ASSERT(r == c->await);
	r->resp_done = true;
	c->await = r->next;
	flush(c);
}

static void url_ignore(void *ctx, unsigned method, const char *p, size_t n)
{
	(void)method;
	hdr_ignore(ctx, p, n);
}

static const struct hw_ops resp_ops = {
	.begin = resp_begin,
	.url = url_ignore,
	.status = resp_status,
	.field = hdr_ignore,
	.value = hdr_ignore,
	.head = resp_head,
	.body = resp_body,
	.done = resp_done,
};

/* ---- JSON lines -------------------------------------------------------------------------- */

static void put_field(struct jout *o, const struct rec *r, const struct str *f)
{
	if (f->set)
		jout_str(o, r->buf + f->off, f->len);
	else
		JOUT_LIT(o, "null");
}

static void put_u64_if(struct jout *o, bool known, uint64_t v)
{
	if (known)
		jout_u64(o, v);
	else
		JOUT_LIT(o, "null");
}

static size_t format_rec(const struct rc_http_conn *c, const struct rec *r, char *line)
{
	struct jout o = {line, 0};
	unsigned digits = c->ts_digits;

	JOUT_LIT(&o, "{\"ts\":");
	jout_secs(&o, r->ts_ns, digits);
	JOUT_LIT(&o, ",\"uid\":");
	jout_str(&o, c->uid, strlen(c->uid));
	JOUT_LIT(&o, ",\"orig_h\":");
	jout_str(&o, c->orig_h, strlen(c->orig_h));
	JOUT_LIT(&o, ",\"orig_p\":");
	jout_u64(&o, c->orig_p);
	JOUT_LIT(&o, ",\"resp_h\":");
	jout_str(&o, c->resp_h, strlen(c->resp_h));
	JOUT_LIT(&o, ",\"resp_p\":");
	jout_u64(&o, c->resp_p);
	JOUT_LIT(&o, ",\"trans_depth\":");
	jout_u64(&o, r->depth);
	JOUT_LIT(&o, ",\"method\":");
	if (r->has_method) {
		const char *m = hw_method_name(r->method);
		jout_str(&o, m, strlen(m));
	} else {
		JOUT_LIT(&o, "null");
	}
	JOUT_LIT(&o, ",\"host\":");
	put_field(&o, r, &r->host);
	JOUT_LIT(&o, ",\"uri\":");
	put_field(&o, r, &r->uri);
	JOUT_LIT(&o, ",\"version\":");
	if (r->has_version) {
		o.p[o.pos++] = '"';
		jout_u64(&o, r->vmaj);
		o.p[o.pos++] = '.';
		jout_u64(&o, r->vmin);
		o.p[o.pos++] = '"';
	} else {
		JOUT_LIT(&o, "null");
	}
	JOUT_LIT(&o, ",\"user_agent\":");
	put_field(&o, r, &r->ua);
	JOUT_LIT(&o, ",\"request_header_count\":");
	put_u64_if(&o, r->has_req, r->hdr_count);
	JOUT_LIT(&o, ",\"request_body_len\":");
	put_u64_if(&o, r->has_req, r->req_body);
	JOUT_LIT(&o, ",\"status_code\":");
	put_u64_if(&o, r->resp_final, r->status);
	JOUT_LIT(&o, ",\"status_msg\":");
	if (r->resp_final)
		jout_str(&o, r->smsg, r->smsg_len);
	else
		JOUT_LIT(&o, "null");
	JOUT_LIT(&o, ",\"info_code\":");
	put_u64_if(&o, r->info != 0, r->info);
	JOUT_LIT(&o, ",\"response_body_len\":");
	put_u64_if(&o, r->resp_final, r->resp_body);
	JOUT_LIT(&o, ",\"response_ts\":");
	if (r->resp_final)
		jout_secs(&o, r->resp_ts_ns, digits);
	else
		JOUT_LIT(&o, "null");
	JOUT_LIT(&o, ",\"flags\":[");
	bool first = true;
	for (size_t i = 0; i < RC_ARRAY_SIZE(flag_names); i++) {
		if (!(r->flags & (1u << i)))
			continue;
		if (!first)
			o.p[o.pos++] = ',';
		first = false;
		o.p[o.pos++] = '"';
		jout_raw(&o, flag_names[i], strlen(flag_names[i]));
		o.p[o.pos++] = '"';
	}
	JOUT_LIT(&o, "]}\n");
	RC_ASSERT(o.pos <= JSON_LINE_MAX);
	return o.pos;
}

/* A record is complete: count it, write it. */
static void emit(struct rc_http_conn *c, struct rec *r)
{
	struct rc_http *h = c->h;

	rc_ctr_inc(h->ctrs, RC_CTR_HTTP_RECORDS);
	if (r->flags & F_GAP)
		rc_ctr_inc(h->ctrs, RC_CTR_HTTP_REQUESTS_WITH_GAPS);
	if (r->flags & F_NO_RESPONSE)
		rc_ctr_inc(h->ctrs, RC_CTR_HTTP_NO_RESPONSE);
	if (r->flags & F_NO_REQUEST)
		rc_ctr_inc(h->ctrs, RC_CTR_HTTP_NO_REQUEST);
	if (r->flags & F_TRUNCATED)
		rc_ctr_inc(h->ctrs, RC_CTR_HTTP_TRUNCATED);
	if (!h->cfg.out)
		return;
	size_t n = format_rec(c, r, h->line);
	if (fwrite(h->line, 1, n, h->cfg.out) != n)
		rc_ctr_inc(h->ctrs, RC_CTR_HTTP_OUTPUT_ERRORS);
}

/* Write the records at the head of the queue that nothing more can change. */
static void flush(struct rc_http_conn *c)
{
	struct rec *r;
	while ((r = c->head) && r->req_done && r->resp_done) {
		RC_ASSERT(r != c->await && r != c->side[0].cur && r != c->side[1].cur);
		c->head = r->next;
		if (!c->head)
			c->tail = NULL;
		c->queued--;
		emit(c, r);
		rec_put(c->h, r);
	}
}

/* ---- the connection ---------------------------------------------------------------------- */

/*
 * Stop parsing direction dir: its message in flight gets `flags` (or "incomplete" when it just
 * ended), and so does every record this direction would still have completed.
 */
static void stop(struct rc_http_conn *c, int dir, uint16_t flags)
{
	struct side *s = &c->side[dir];
	struct rec *cur = s->cur;

	if (s->stopped)
		return;
	s->stopped = true;
	s->stop_flags = flags;
	s->cur = NULL;
	if (dir == 0) {
		body_close(c, s);
		if (cur) {
			cur->flags |= flags ? flags : F_INCOMPLETE;
			cur->req_done = true;
		}
	} else {
		for (struct rec *r = c->await; r; r = r->next) {
			if (r == cur && !s->interim)
				r->flags |= flags ? flags : F_INCOMPLETE;
			else
				r->flags |= flags;
			if (!r->resp_final)
				r->flags |= F_NO_RESPONSE;
			r->resp_done = true;
		}
		c->await = NULL;
	}
	if (c->side[0].stopped && c->side[1].stopped)
		c->state = C_OFF;
	flush(c);
}

/*
 * The bytes after a 101 are another protocol: stop both directions. After a CONNECT's 2xx they
 * are the tunnel's: detect again, so HTTP carried in the tunnel (a proxy's plain-HTTP CONNECT)
 * is parsed as well, as tshark and Suricata do; anything else in it (TLS) is left alone.
 */
static void switched(struct rc_http_conn *c)
{
	rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_UPGRADES);
	stop(c, 1, 0);
	stop(c, 0, 0);
	if (!c->tunnel)
		return;
	c->tunnel = false;
	for (int i = 0; i < 2; i++) {
		struct side *sd = &c->side[i];
		sd->stopped = false;
		sd->stop_flags = 0;
		sd->cur = NULL;
		sd->interim = false;
		sd->hstate = 0;
		hw_reset(&sd->w);
	}
	c->det_n = 0;
	c->server_first = true; /* in a tunnel, wait for the client whatever the proxy sends */
	c->state = C_DETECT;
}

/* After hw_feed or hw_skip said HW_UPGRADE. */
static void upgraded(struct rc_http_conn *c, int dir)
{
	if (dir == 0)
		hw_reset(&c->side[0].w); /* asked for: the response decides */
	else
		switched(c);
}

static void data_in(struct rc_http_conn *c, int dir, const uint8_t *p, size_t len, uint64_t ts_ns);

static void feed(struct rc_http_conn *c, int dir, const uint8_t *p, size_t len)
{
	struct side *s = &c->side[dir];

	while (len > 0 && !s->stopped) {
		size_t used;
		enum hw_result r = hw_feed(&s->w, p, len, &used);
		if (r == HW_OK)
			return;
		if (r == HW_ERROR) {
			rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_PARSE_ERRORS);
			stop(c, dir, F_PARSE_ERROR);
			return;
		}
		RC_ASSERT(used <= len);
		p += used;
		len -= used;
		upgraded(c, dir);
		if (c->state == C_DETECT) {
			/* A CONNECT tunnel begins: its first bytes go through detection. */
			if (len)
				data_in(c, dir, p, len, c->now);
			return;
		}
	}
}

static void not_http(struct rc_http_conn *c)
{
	RC_ASSERT(!c->head);
	rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_STREAMS_NOT_HTTP);
	c->state = C_OFF;
}

/*
 * The flow's originator sent a response first ("HTTP/"): a capture that starts inside a
 * connection with the server's packet. Exchange the roles; the response is not used.
 */
static void swap_roles(struct rc_http_conn *c)
{
	char h[RC_HTTP_ADDR_MAX + 1];
	memcpy(h, c->orig_h, sizeof(h));
	memcpy(c->orig_h, c->resp_h, sizeof(h));
	memcpy(c->resp_h, h, sizeof(h));
	uint16_t port = c->orig_p;
	c->orig_p = c->resp_p;
	c->resp_p = port;
	c->swapped = true;
	c->server_first = true;
	c->det_n = 0;
	rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_ROLES_SWAPPED);
}

/* Whether the held bytes and p begin with "HTTP/" (a response where a request was expected). */
static bool starts_response(const struct rc_http_conn *c, const uint8_t *p, size_t len)
{
	char b[5];
	size_t n = c->det_n < 5 ? c->det_n : 5;
	memcpy(b, c->det, n);
	size_t m = len < 5 - n ? len : 5 - n;
	memcpy(b + n, p, m);
	return n + m == 5 && !memcmp(b, "HTTP/", 5);
}

/*
 * The first client bytes: 1 when they are a method token and a space, -1 when they cannot be,
 * 0 when undecided (the bytes are then held in c->det).
 */
static int detect(struct rc_http_conn *c, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b = p[i];
		if (b == ' ')
			return c->det_n + i >= 3 ? 1 : -1;
		if (!((b >= 'A' && b <= 'Z') || b == '-') || c->det_n + i >= DETECT_MAX)
			return -1;
	}
	if (c->det_n == 0)
		c->det_ts = c->now;
	memcpy(c->det + c->det_n, p, len);
	c->det_n += (uint8_t)len;
	return 0;
}

struct rc_http_conn *rc_http_conn_new(struct rc_http *h, const struct rc_http_meta *meta)
{
	RC_ASSERT(h && h->magic == HTTP_MAGIC && meta);
	if (!h->any_port && !(h->port_bits[meta->resp_p / 64] & (1ull << (meta->resp_p % 64)))) {
		rc_ctr_inc(h->ctrs, RC_CTR_HTTP_CONNS_FILTERED);
		return NULL;
	}
	struct rc_http_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		rc_ctr_inc(h->ctrs, RC_CTR_HTTP_ALLOC_FAILED);
		return NULL;
	}
	c->magic = CONN_MAGIC;
	c->h = h;
	c->state = C_DETECT;
	c->ts_digits = meta->ts_digits > 9 ? 9 : meta->ts_digits;
	c->orig_p = meta->orig_p;
	c->resp_p = meta->resp_p;
	snprintf(c->uid, sizeof(c->uid), "%s", meta->uid ? meta->uid : "");
	snprintf(c->orig_h, sizeof(c->orig_h), "%s", meta->orig_h ? meta->orig_h : "");
	snprintf(c->resp_h, sizeof(c->resp_h), "%s", meta->resp_h ? meta->resp_h : "");
	for (int i = 0; i < 2; i++) {
		c->side[i].c = c;
		c->side[i].body_fd = FD_NONE;
		hw_init(&c->side[i].w, i ? HW_RESPONSE : HW_REQUEST, i ? &resp_ops : &req_ops,
			&c->side[i]);
	}
	rc_ctr_inc(h->ctrs, RC_CTR_HTTP_CONNS);
	return c;
}

/* Data of the client (dir 0) or the server (dir 1), roles already mapped. */
static void data_in(struct rc_http_conn *c, int dir, const uint8_t *p, size_t len, uint64_t ts_ns)
{
	if (c->state == C_OFF || len == 0)
		return;
	c->now = ts_ns;
	if (c->state == C_DETECT) {
		if (dir == 1) {
			/*
			 * The server spoke first. A capture that starts inside an HTTP connection
			 * may show a response first: wait for the client's next request then. Any
			 * other server-first protocol (SMTP, FTP, ...) is not HTTP.
			 */
			static const char resp[] = "HTTP/";
			size_t n = len < 5 ? len : 5;
			if (!c->server_first && c->det_n == 0 && !memcmp(p, resp, n)) {
				c->server_first = true;
				return;
			}
			if (c->server_first && c->det_n == 0)
				return; /* the rest of that response, or a proxy's bytes in a tunnel
					 */
			not_http(c);
			return;
		}
		int d = detect(c, p, len);
		if (d == 0)
			return;
		if (d < 0) {
			if (!c->swapped && !c->server_first && starts_response(c, p, len)) {
				swap_roles(c);
				return;
			}
			not_http(c);
			return;
		}
		c->state = C_HTTP;
		if (c->det_n) {
			c->now = c->det_ts;
			feed(c, 0, (const uint8_t *)c->det, c->det_n);
			c->now = ts_ns;
		}
	}
	feed(c, dir, p, len);
}

void rc_http_data(struct rc_http_conn *c, int dir, const uint8_t *p, size_t len, uint64_t ts_ns)
{
	RC_ASSERT(c && c->magic == CONN_MAGIC && (dir == 0 || dir == 1));
	data_in(c, dir ^ c->swapped, p, len, ts_ns);
}

void rc_http_gap(struct rc_http_conn *c, int dir, uint64_t len)
{
	RC_ASSERT(c && c->magic == CONN_MAGIC && (dir == 0 || dir == 1));
	dir ^= c->swapped;
	if (c->state == C_OFF || len == 0)
		return;
	if (c->state == C_DETECT) {
		/* The start is lost: there is no telling what this is. */
		rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_GAPS_STOPPED);
		c->state = C_OFF;
		return;
	}
	struct side *s = &c->side[dir];
	if (s->stopped)
		return;
	uint64_t skippable = hw_skippable(&s->w);
	if (len > skippable) {
		/*
		 * The gap runs past the body of known extent it starts in: that body still ends
		 * (its length known, the record flagged), then the direction stops.
		 */
		if (skippable) {
			if (s->cur)
				s->cur->flags |= F_GAP;
			if (hw_skip(&s->w, skippable) == HW_UPGRADE) {
				upgraded(c, dir);
				return;
			}
		}
		rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_GAPS_STOPPED);
		stop(c, dir, F_GAP);
		return;
	}
	if (s->cur)
		s->cur->flags |= F_GAP; /* before: the skip may complete the record */
	enum hw_result r = hw_skip(&s->w, len);
	if (r == HW_ERROR) {
		rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_GAPS_STOPPED);
		stop(c, dir, F_GAP);
		return;
	}
	rc_ctr_inc(c->h->ctrs, RC_CTR_HTTP_GAPS_SKIPPED);
	if (r == HW_UPGRADE)
		upgraded(c, dir);
}

void rc_http_eof(struct rc_http_conn *c, int dir)
{
	RC_ASSERT(c && c->magic == CONN_MAGIC && (dir == 0 || dir == 1));
	dir ^= c->swapped;
	if (c->state == C_DETECT) {
		c->state = C_OFF; /* too little to tell: neither HTTP nor counted as not */
		return;
	}
	if (c->state == C_OFF || c->side[dir].stopped)
		return;
	hw_eof(&c->side[dir].w); /* a body until the close ends; a cut message stays in flight */
	stop(c, dir, 0);
}

void rc_http_end(struct rc_http_conn *c)
{
	RC_ASSERT(c && c->magic == CONN_MAGIC);
	rc_http_eof(c, 0);
	rc_http_eof(c, 1);
	RC_ASSERT(!c->head && c->queued == 0);
	RC_ASSERT(c->side[0].body_fd == FD_NONE);
	c->magic = 0;
	free(c);
}
