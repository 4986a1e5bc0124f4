/*
 * libFuzzer target of the HTTP/1.x parser (src/app/http.c): the input is a script of events fed
 * to one connection after another; nothing may crash and every line written must be valid JSON.
 *
 * Byte 0 is the config: low nibble % 10 = ts digits, bit 4: two pending requests at most (else
 * the default), bit 5: parse only responder port 80, bit 6: the connection's port is 80 (else
 * 8080). Then events, each an opcode byte c, kind c >> 5, n = (c & 31) + 1 (c & 31 == 31: n is
 * the next two bytes, big-endian, + 1):
 *   0, 1: n bytes of data (the next n input bytes) of direction kind;
 *   2, 3: a gap of n * 16 bytes (n * 1 when c & 31 < 31) in direction kind - 2;
 *   4, 5: the end of direction kind - 4;
 *   6: all the remaining input as data of direction c & 1;
 *   7: the connection ends, a new one starts.
 * The seeds in corpus/http/ are scripts in this format: the unit test's cases (keep-alive,
 * pipelining, chunked, 100-continue, HEAD, gaps, upgrades, escaping) split in varied pieces.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringcap/assert.h"
#include "ringcap/http.h"

#include "json-valid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rc_ctrs ctrs;

static const struct rc_http_meta meta80 = {.uid = "CfUzZ\"\\\x01\xff",
					   .orig_h = "192.0.2.1",
					   .resp_h = "2001:db8::1",
					   .orig_p = 51000,
					   .resp_p = 80};

static struct rc_http_conn *conn_new(struct rc_http *h, uint8_t cfg)
{
	struct rc_http_meta m = meta80;
	m.ts_digits = (uint8_t)((cfg & 15) % 10);
	m.resp_p = (cfg & 0x40) ? 80 : 8080;
	return rc_http_conn_new(h, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t port80[] = {80};
	char *out = NULL;
	size_t outlen = 0;
	uint64_t ts = 1700000000ull * 1000000000ull;

	if (size < 1)
		return 0;
	uint8_t cfgb = data[0];
	FILE *f = open_memstream(&out, &outlen);
	RC_ASSERT(f);
	memset(&ctrs, 0, sizeof(ctrs));
	struct rc_http_config cfg;
	rc_http_config_default(&cfg);
	cfg.out = f;
	cfg.ctrs = &ctrs;
	if (cfgb & 0x10)
		cfg.max_pending = 2;
	if (cfgb & 0x20) {
		cfg.ports = port80;
		cfg.nports = 1;
	}
	struct rc_http *h = NULL;
	RC_ASSERT(rc_http_new(&h, &cfg) == 0);
	struct rc_http_conn *c = conn_new(h, cfgb);

	size_t i = 1;
	while (i < size) {
		uint8_t op = data[i++];
		unsigned kind = op >> 5;
		size_t n = (size_t)(op & 31) + 1;
		if ((op & 31) == 31 && kind <= 3) {
			if (size - i < 2)
				break;
			n = ((size_t)data[i] << 8 | data[i + 1]) + 1;
			i += 2;
			if (kind >= 2)
				n *= 16;
		}
		if (kind == 6) {
			n = size - i;
			kind = op & 1;
		}
		ts += 1000;
		switch (kind) {
		case 0:
		case 1: {
			if (n > size - i)
				n = size - i;
			/* An exact-size copy: an over-read by one byte faults under ASan. */
			uint8_t *piece = malloc(n ? n : 1);
			RC_ASSERT(piece);
			memcpy(piece, data + i, n);
			if (c)
				rc_http_data(c, (int)kind, piece, n, ts);
			free(piece);
			i += n;
			break;
		}
		case 2:
		case 3:
			if (c)
				rc_http_gap(c, (int)kind - 2, n);
			break;
		case 4:
		case 5:
			if (c)
				rc_http_eof(c, (int)kind - 4);
			break;
		case 7:
			if (c)
				rc_http_end(c);
			c = conn_new(h, cfgb);
			break;
		}
	}
	if (c)
		rc_http_end(c);
	rc_http_free(h);
	RC_ASSERT(fclose(f) == 0);

	/* Every record is one line, and every line is valid JSON. */
	uint64_t lines = 0;
	const char *p = out, *end = out + outlen;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		RC_ASSERT(nl);
		if (!json_valid(p, (size_t)(nl - p))) {
			fprintf(stderr, "invalid JSON line: %.*s\n", (int)(nl - p), p);
			abort();
		}
		lines++;
		p = nl + 1;
	}
	RC_ASSERT(lines == rc_ctr_get(&ctrs, RC_CTR_HTTP_RECORDS));
	RC_ASSERT(rc_ctr_get(&ctrs, RC_CTR_HTTP_OUTPUT_ERRORS) == 0);
	free(out);
	return 0;
}
