/*
 * libFuzzer target of TCP reassembly: the input is a sequence of segments of one connection.
 *
 * Byte 0 picks the configuration (overlap policy, midstream, small per-direction and memory
 * bounds so the limits are reached); bytes 1-8 are the two initial sequence numbers. Then each
 * segment is 6 bytes: flags (bit 7: direction; low 5 bits: FIN SYN RST PSH ACK), a 16-bit
 * sequence offset from that direction's ISN, a 16-bit acknowledgement offset from the peer's,
 * a length (0-255); its payload is the next `length` input bytes (fewer at the end). Checked
 * throughout: offsets of data and gap events follow each other without overlap, every delivered
 * byte is readable, no event after a direction's end, each direction ends at most once, memory
 * stays within the cap plus what is retained, and every byte is returned when the stream ends.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringcap/assert.h"
#include "ringcap/decode.h"
#include "ringcap/reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the consumer has seen of each direction. */
static struct dir_model {
	uint64_t next_off;
	int ended;
} model[2];

static void on_data(void *ctx, int dir, const uint8_t *p, uint32_t len, uint64_t off,
		    uint64_t ts_ns)
{
	(void)ctx;
	(void)ts_ns;
	RC_ASSERT(dir == 0 || dir == 1);
	RC_ASSERT(!model[dir].ended);
	RC_ASSERT(len > 0);
	RC_ASSERT(off == model[dir].next_off);
	volatile uint8_t sink = 0;
	for (uint32_t i = 0; i < len; i++)
		sink ^= p[i]; /* every byte readable */
	(void)sink;
	model[dir].next_off = off + len;
}

static void on_gap(void *ctx, int dir, uint64_t off, uint64_t len)
{
	(void)ctx;
	RC_ASSERT(!model[dir].ended);
	RC_ASSERT(len > 0 && off == model[dir].next_off);
	model[dir].next_off = off + len;
}

static void on_end(void *ctx, int dir)
{
	(void)ctx;
	RC_ASSERT(!model[dir].ended);
	model[dir].ended = 1;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rc_reasm_ops ops = {on_data, on_gap, on_end};
	static const uint8_t flag_map[5] = {RC_TCP_FIN, RC_TCP_SYN, RC_TCP_RST, RC_TCP_PSH,
					    RC_TCP_ACK};
	if (size < 9)
		return 0;
	struct rc_reasm_config cfg;
	rc_reasm_config_default(&cfg);
	cfg.overlap = (data[0] & 1) ? RC_REASM_LAST : RC_REASM_FIRST;
	cfg.midstream = !(data[0] & 2);
	if (data[0] & 4) {
		cfg.dir_max = 2000;
		cfg.memcap = 3000;
	}
	cfg.retain_max = (data[0] & 8) ? 0 : 512;
	cfg.timeout_ns = (data[0] & 16) ? 5 : 0; /* segments are 1 ns apart */
	uint32_t isn[2] = {be32(data + 1), be32(data + 5)};
	memset(model, 0, sizeof(model));

	struct rc_ctrs ctrs;
	memset(&ctrs, 0, sizeof(ctrs));
	struct rc_reasm *r = NULL;
	RC_ASSERT(rc_reasm_new(&r, &cfg, &ops, &ctrs) == 0);
	struct rc_reasm_stream s;
	rc_reasm_stream_init(&s, NULL);

	size_t pos = 9;
	uint64_t t = 0;
	while (pos + 6 <= size) {
		const uint8_t *h = data + pos;
		int dir = h[0] >> 7;
		uint8_t flags = 0;
		for (int i = 0; i < 5; i++)
			if (h[0] & (1u << i))
				flags |= flag_map[i];
		uint32_t len = h[5];
		pos += 6;
		if (len > size - pos)
			len = (uint32_t)(size - pos);
		struct rc_reasm_segment seg = {
			.seq = isn[dir] + be16(h + 1),
			.ack = isn[!dir] + be16(h + 3),
			.flags = flags,
			.payload = data + pos,
			.len = len,
			.wire_len = len + ((h[0] & 0x60) == 0x60 ? 10 : 0), /* sometimes cut */
			.ts_ns = ++t,
		};
		pos += len;
		rc_reasm_segment(r, &s, dir, &seg);
		RC_ASSERT(rc_reasm_memory(r) <= cfg.memcap + 2 * (cfg.retain_max + 1024));
	}
	rc_reasm_stream_end(r, &s);
	RC_ASSERT(rc_reasm_memory(r) == 0);
	rc_reasm_free(r);
	return 0;
}
