/*
 * A strict JSON (RFC 8259) validity check for one line of output, shared by the HTTP unit test
 * and fuzz target: one value, nothing after it but the caller's newline; strings are valid UTF-8
 * with no raw control bytes and only the escapes JSON defines.
 */
#ifndef RINGCAP_TESTS_JSON_VALID_H
#define RINGCAP_TESTS_JSON_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jv {
	const uint8_t *p, *end;
	int depth;
};

static bool jv_value(struct jv *v);

static void jv_ws(struct jv *v)
{
	while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
		v->p++;
}

static bool jv_lit(struct jv *v, const char *lit)
{
	for (; *lit; lit++, v->p++)
		if (v->p >= v->end || *v->p != (uint8_t)*lit)
			return false;
	return true;
}

static bool jv_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A UTF-8 sequence of two to four bytes at v->p (RFC 3629). */
static bool jv_utf8(struct jv *v)
{
	uint8_t b = *v->p, lo = 0x80, hi = 0xbf;
	int len = b >= 0xc2 && b <= 0xdf   ? 2
		  : b >= 0xe0 && b <= 0xef ? 3
		  : b >= 0xf0 && b <= 0xf4 ? 4
					   : 0;
	if (!len || v->end - v->p < len)
		return false;
	if (b == 0xe0)
		lo = 0xa0;
	if (b == 0xed)
		hi = 0x9f;
	if (b == 0xf0)
		lo = 0x90;
	if (b == 0xf4)
		hi = 0x8f;
	if (v->p[1] < lo || v->p[1] > hi)
		return false;
	for (int i = 2; i < len; i++)
		if (v->p[i] < 0x80 || v->p[i] > 0xbf)
			return false;
	v->p += len;
	return true;
}

static bool jv_string(struct jv *v)
{
	if (v->p >= v->end || *v->p != '"')
		return false;
	v->p++;
	while (v->p < v->end) {
		uint8_t c = *v->p;
		if (c == '"') {
			v->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			v->p++;
			if (v->p >= v->end)
				return false;
			c = *v->p++;
			if (c == 'u') {
				for (int i = 0; i < 4; i++)
					if (v->p >= v->end || !jv_hex(*v->p++))
						return false;
			} else if (!(c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' ||
				     c == 'n' || c == 'r' || c == 't')) {
				return false;
			}
			continue;
		}
		if (c < 0x80) {
			v->p++;
			continue;
		}
		if (!jv_utf8(v))
			return false;
	}
	return false;
}

static bool jv_digits(struct jv *v)
{
	const uint8_t *start = v->p;
	while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
		v->p++;
	return v->p > start;
}

static bool jv_number(struct jv *v)
{
	if (v->p < v->end && *v->p == '-')
		v->p++;
	if (v->p < v->end && *v->p == '0')
		v->p++;
	else if (!jv_digits(v))
		return false;
	if (v->p < v->end && *v->p == '.') {
		v->p++;
		if (!jv_digits(v))
			return false;
	}
	if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
		v->p++;
		if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
			v->p++;
		if (!jv_digits(v))
			return false;
	}
	return true;
}

/* An object (close '}') or an array (close ']'), after its opening byte. */
static bool jv_container(struct jv *v, bool object)
{
	jv_ws(v);
	if (v->p < v->end && *v->p == (object ? '}' : ']')) {
		v->p++;
		return true;
	}
	for (;;) {
		jv_ws(v);
		if (object) {
			if (!jv_string(v))
				return false;
			jv_ws(v);
			if (v->p >= v->end || *v->p++ != ':')
				return false;
		}
		if (!jv_value(v))
			return false;
		jv_ws(v);
		if (v->p >= v->end)
			return false;
		uint8_t c = *v->p++;
		if (c == (object ? '}' : ']'))
			return true;
		if (c != ',')
			return false;
	}
}

static bool jv_value(struct jv *v)
{
	bool ok;
	jv_ws(v);
	if (v->p >= v->end || ++v->depth > 64)
		return false;
	switch (*v->p) {
	case '{':
	case '[':
		v->p++;
		ok = jv_container(v, v->p[-1] == '{');
		break;
	case '"':
		ok = jv_string(v);
		break;
	case 't':
		ok = jv_lit(v, "true");
		break;
	case 'f':
		ok = jv_lit(v, "false");
		break;
	case 'n':
		ok = jv_lit(v, "null");
		break;
	default:
		ok = jv_number(v);
	}
	v->depth--;
	return ok;
}

/* n bytes hold exactly one JSON value (whitespace around it allowed). */
static inline bool json_valid(const char *p, size_t n)
{
	struct jv v = {(const uint8_t *)p, (const uint8_t *)p + n, 0};
	if (!jv_value(&v))
		return false;
	jv_ws(&v);
	return v.p == v.end;
}

#endif
