/*
 * JSON text into a caller's buffer, for the app-layer records (internal to src/app). The caller
 * sizes the buffer for its worst case: jout_str writes at most 6 bytes per input byte plus 2, a
 * number at most 20 digits, jout_secs at most 30 bytes. Nothing here allocates or fails.
 *
 * Strings: bytes that form valid UTF-8 (RFC 3629) go out as they are; '"' and '\' are escaped;
 * control bytes (below 0x20, and 0x7f) and every byte that is not part of a valid UTF-8
 * sequence are written as \u00XX of the byte (read as Latin-1). The result is always valid JSON.
 */
#ifndef RINGCAP_APP_JSON_OUT_H
#define RINGCAP_APP_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jout {
	char *p;    /* the buffer */
	size_t pos; /* bytes written so far */
};

static inline void jout_raw(struct jout *o, const char *s, size_t n)
{
	memcpy(o->p + o->pos, s, n);
	o->pos += n;
}

#define JOUT_LIT(o, lit) jout_raw((o), (lit), sizeof(lit) - 1)

static inline void jout_u64(struct jout *o, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		o->p[o->pos++] = tmp[--n];
}

/* Seconds with `digits` decimals (at most 9), cut (not rounded) from nanoseconds. */
void jout_secs(struct jout *o, uint64_t ns, unsigned digits);

/* A JSON string (quotes included) of the n bytes at s, escaped as above. */
void jout_str(struct jout *o, const char *s, size_t n);

#endif
