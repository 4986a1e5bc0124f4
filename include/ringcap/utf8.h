/* UTF-8 validation shared by every JSON writer (HTTP records, the stats socket). */
#ifndef RINGCAP_UTF8_H
#define RINGCAP_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length of the valid UTF-8 sequence starting at p (n >= 1 bytes available), or 0 (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF, no sequence cut by the end).
 */
static inline size_t rc_utf8_len(const uint8_t *p, size_t n)
{
	uint8_t b = p[0], lo = 0x80, hi = 0xbf;
	size_t len = b >= 0xc2 && b <= 0xdf   ? 2
		     : b >= 0xe0 && b <= 0xef ? 3
		     : b >= 0xf0 && b <= 0xf4 ? 4
					      : 0;
	if (len == 0 || n < len)
		return 0;
	if (b == 0xe0)
		lo = 0xa0; /* no overlong 3-byte forms */
	else if (b == 0xed)
		hi = 0x9f; /* no surrogates */
	else if (b == 0xf0)
		lo = 0x90; /* no overlong 4-byte forms */
	else if (b == 0xf4)
		hi = 0x8f; /* nothing past U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

#endif
