/* The HTTP/1.x message parser seam (http_wire.h) on libhttp-parser 2.9. */
#include <limits.h>
#include <string.h>

#include <http_parser.h>

#include "ringcap/assert.h"

#include "http_wire.h"

_Static_assert(sizeof(http_parser) <= sizeof(((struct hw *)0)->parser), "parser state fits");
_Static_assert(_Alignof(http_parser) <= _Alignof(uint64_t), "parser state is aligned");

static http_parser *parser_of(struct hw *w)
{
	return (http_parser *)w->parser;
}

/*
 * Bytes skipped over a gap are fed to the parser as zeros: in the data of a body it only counts
 * them (one body callback per call), and the callbacks check that nothing but body came of them.
 */
static const char zeros[64 << 10];

static struct hw *wire_of(http_parser *p)
{
	return (struct hw *)((char *)p - offsetof(struct hw, parser));
}

/* A callback other than body data during a skip: the zeros were not all body. Abort. */
static int skip_violated(struct hw *w)
{
	if (!w->skipping)
		return 0;
	w->skip_bad = true;
	return 1;
}

static int on_begin(http_parser *p)
{
	struct hw *w = wire_of(p);
	if (skip_violated(w))
		return 1;
	w->switched = false;
	w->body_left = 0;
	w->ops->begin(w->ctx);
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct hw *w = wire_of(p);
	if (skip_violated(w))
		return 1;
	w->ops->url(w->ctx, p->method, at, n);
	return 0;
}

static int on_status(http_parser *p, const char *at, size_t n)
{
	struct hw *w = wire_of(p);
	if (skip_violated(w))
		return 1;
	w->ops->status(w->ctx, at, n);
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
	struct hw *w = wire_of(p);
	if (skip_violated(w))
		return 1;
	w->ops->field(w->ctx, at, n);
	return 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
	struct hw *w = wire_of(p);
	if (skip_violated(w))
		return 1;
	w->ops->value(w->ctx, at, n);
	return 0;
}

/* Body bytes that follow the head without framing: as http_parser decides in s_headers_done. */
static uint64_t body_after_head(const http_parser *p)
{
	if (p->flags & F_CHUNKED)
		return 0; /* known chunk by chunk */
	if (p->type == HTTP_REQUEST) {
		if (p->uses_transfer_encoding || p->method == HTTP_CONNECT)
			return 0;
		return p->content_length == ULLONG_MAX ? 0 : p->content_length;
	}
	if (p->status_code / 100 == 1 || p->status_code == 204 || p->status_code == 304)
		return 0;
	if (p->uses_transfer_encoding || p->content_length == ULLONG_MAX)
		return UINT64_MAX; /* until the close */
	return p->content_length;
}

static int on_head(http_parser *p)
{
	struct hw *w = wire_of(p);
	if (skip_violated(w))
		return 1;
	struct hw_head h = {
		.method = p->method,
		.is_head = p->type == HTTP_REQUEST && p->method == HTTP_HEAD,
		.is_connect = p->type == HTTP_REQUEST && p->method == HTTP_CONNECT,
		.status = p->type == HTTP_RESPONSE ? p->status_code : 0,
		.major = p->http_major,
		.minor = p->http_minor,
	};
	switch (w->ops->head(w->ctx, &h)) {
	case HW_BODY:
		w->body_left = body_after_head(p);
		return 0;
	case HW_NO_BODY:
		w->body_left = 0;
		return 1; /* http_parser: skip the body */
	case HW_SWITCH:
		w->body_left = 0;
		return 2; /* http_parser: skip the body, then upgrade */
	}
	RC_WRONG("hw_body value");
	return -1;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct hw *w = wire_of(p);
	if (w->body_left != UINT64_MAX)
		w->body_left = n > w->body_left ? 0 : w->body_left - n;
	w->ops->body(w->ctx, w->skipping ? NULL : at, n);
	return 0;
}

static int on_done(http_parser *p)
{
	struct hw *w = wire_of(p);
	w->body_left = 0;
	w->switched = p->upgrade;
	w->ops->done(w->ctx);
	return 0;
}

static int on_chunk_header(http_parser *p)
{
	struct hw *w = wire_of(p);
	if (skip_violated(w))
		return 1;
	w->body_left = p->content_length; /* this chunk's size (0: the last chunk) */
	return 0;
}

static int on_chunk_complete(http_parser *p)
{
	struct hw *w = wire_of(p);
	if (skip_violated(w))
		return 1;
	w->body_left = 0;
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_begin,
	.on_url = on_url,
	.on_status = on_status,
	.on_header_field = on_field,
	.on_header_value = on_value,
	.on_headers_complete = on_head,
	.on_body = on_body,
	.on_message_complete = on_done,
	.on_chunk_header = on_chunk_header,
	.on_chunk_complete = on_chunk_complete,
};

void hw_init(struct hw *w, enum hw_kind kind, const struct hw_ops *ops, void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->ops = ops;
	w->ctx = ctx;
	http_parser_init(parser_of(w), kind == HW_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE);
}

void hw_reset(struct hw *w)
{
	http_parser_init(parser_of(w), (enum http_parser_type)parser_of(w)->type);
	w->body_left = 0;
	w->switched = false;
}

enum hw_result hw_feed(struct hw *w, const uint8_t *p, size_t len, size_t *used)
{
	size_t n = http_parser_execute(parser_of(w), &settings, (const char *)p, len);
	*used = n;
	if (HTTP_PARSER_ERRNO(parser_of(w)) != HPE_OK)
		return HW_ERROR;
	if (w->switched)
		return HW_UPGRADE;
	return n == len ? HW_OK : HW_ERROR;
}

enum hw_result hw_skip(struct hw *w, uint64_t n)
{
	RC_ASSERT(n > 0 && n <= w->body_left);
	w->skipping = true;
	w->skip_bad = false;
	while (n > 0) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		size_t used = http_parser_execute(parser_of(w), &settings, zeros, k);
		if (HTTP_PARSER_ERRNO(parser_of(w)) != HPE_OK || w->skip_bad || used != k) {
			w->skipping = false;
			return HW_ERROR;
		}
		n -= k;
	}
	w->skipping = false;
	return w->switched ? HW_UPGRADE : HW_OK;
}

enum hw_result hw_eof(struct hw *w)
{
	http_parser_execute(parser_of(w), &settings, NULL, 0);
	return HTTP_PARSER_ERRNO(parser_of(w)) == HPE_OK ? HW_OK : HW_ERROR;
}

const char *hw_method_name(unsigned method)
{
	return http_method_str((enum http_method)method);
}
