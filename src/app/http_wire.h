/*
 * The HTTP/1.x message parser behind src/app/http.c, reduced to what http.c needs, so that
 * libhttp-parser (http_wire.c) could be swapped for llhttp by rewriting one file. Internal to
 * src/app. One struct hw per direction of a connection; push parsing, callbacks during the call.
 */
#ifndef RINGCAP_APP_HTTP_WIRE_H
#define RINGCAP_APP_HTTP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hw_kind { HW_REQUEST, HW_RESPONSE };

/* What hw_feed and hw_skip found. */
enum hw_result {
	HW_OK,	    /* every byte parsed */
	HW_ERROR,   /* not HTTP/1.x from here: give the direction up */
	HW_UPGRADE, /* a message asked for (request) or made (response) a protocol switch */
};

/* What the consumer says about the body of a message whose head it has just seen. */
enum hw_body {
	HW_BODY,    /* as its headers say */
	HW_NO_BODY, /* none whatever the headers say (response to HEAD, 1xx, 204, 304) */
	HW_SWITCH,  /* none, and the bytes after it are another protocol (101, CONNECT 2xx) */
};

/* The start line of a message, at the end of its headers. */
struct hw_head {
	unsigned method;	  /* requests: for hw_method_name */
	bool is_head, is_connect; /* requests */
	unsigned status;	  /* responses */
	unsigned major, minor;
};

/* Callbacks; pieces of a field may come in several calls (one per segment it spans). */
struct hw_ops {
	void (*begin)(void *ctx);
	/* requests: pieces of the target; method is known from the first piece on */
	void (*url)(void *ctx, unsigned method, const char *p, size_t n);
	void (*status)(void *ctx, const char *p, size_t n);
	void (*field)(void *ctx, const char *p, size_t n);
	void (*value)(void *ctx, const char *p, size_t n);
	enum hw_body (*head)(void *ctx, const struct hw_head *h);
	/* n body bytes (de-chunked); p is NULL for bytes skipped over a gap (hw_skip). */
	void (*body)(void *ctx, const char *p, size_t n);
	void (*done)(void *ctx);
};

struct hw {
	uint64_t parser[4]; /* the library's parser state (http_wire.c checks the size) */
	const struct hw_ops *ops;
	void *ctx;
	uint64_t body_left; /* body bytes known to follow without framing; UINT64_MAX: until EOF */
	bool skipping;	    /* inside hw_skip: only body bytes and the message end may happen */
	bool skip_bad;	    /* hw_skip's bytes were not all body */
	bool switched;	    /* the last message completed asked for a protocol switch */
};

void hw_init(struct hw *w, enum hw_kind kind, const struct hw_ops *ops, void *ctx);

/* Forget the message state: start again at a message boundary (after HW_UPGRADE). */
void hw_reset(struct hw *w);

/*
 * Parse len bytes. HW_OK: all parsed. HW_UPGRADE: *used bytes parsed, up to the end of a message
 * that asked for a switch; the rest (if any) was not looked at. HW_ERROR: give up.
 */
enum hw_result hw_feed(struct hw *w, const uint8_t *p, size_t len, size_t *used);

/*
 * n bytes are missing. Allowed only when n <= hw_skippable(w): they are then body bytes (the
 * body callback gets p NULL) and parsing goes on after them. HW_OK or HW_ERROR.
 */
enum hw_result hw_skip(struct hw *w, uint64_t n);

/* Bytes that hw_skip could step over now: 0 outside the data of a body of known extent. */
static inline uint64_t hw_skippable(const struct hw *w)
{
	return w->body_left;
}

/* The stream ended. HW_OK when it ended between messages (or ended a body lasting to the close). */
enum hw_result hw_eof(struct hw *w);

/* "GET", "POST" ... for hw_head.method. */
const char *hw_method_name(unsigned method);

#endif
