/*
 * libFuzzer target of the decoders. The first byte is a selector: its low 3 bits pick the link
 * type (the list below, the last an unknown one), its top bit says the frame was cut by the snap
 * length (the wire length is then 64 bytes more than captured). The rest is the frame. Every
 * payload byte is read so an over-read shows; the invariants of rc_decode are checked.
 *
 * The seeds in corpus/decode/ come from tests/unit/test-decode.c (RC_DECODE_WRITE_CORPUS=dir),
 * whose write_corpus() uses this same selector.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringcap/assert.h"
#include "ringcap/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t links[8] = {
	RC_LINK_EN10MB,	    RC_LINK_LINUX_SLL,
	RC_LINK_LINUX_SLL2, RC_LINK_RAW,
	RC_LINK_IPV4,	    RC_LINK_IPV6,
	RC_LINK_NULL,	    147, /* LINKTYPE_USER0: unsupported */
};

static int is_outcome(enum rc_ctr c)
{
	switch (c) {
#define OUTCOME_CASE(id, name, kind, unit, help) case RC_CTR_##id:
		RC_CTRS_DECODE_OK(OUTCOME_CASE)
		RC_CTRS_DECODE_OTHER(OUTCOME_CASE)
		RC_CTRS_DECODE_ERR(OUTCOME_CASE)
#undef OUTCOME_CASE
		return 1;
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rc_decoded d;
	struct rc_packet pkt;
	enum rc_ctr r;
	uint8_t *frame;
	volatile uint32_t sum = 0;
	size_t n;

	if (size < 1 || size - 1 > UINT32_MAX - 64)
		return 0;
	n = size - 1;
	/* An exact-size copy, so the byte after the frame is outside any allocation. */
	frame = malloc(n ? n : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 1, n);
	pkt = (struct rc_packet){
		.data = frame,
		.caplen = (uint32_t)n,
		.wirelen = (uint32_t)n + ((data[0] & 0x80) ? 64 : 0),
		.linktype = links[data[0] & 7],
	};

	r = rc_decode(&pkt, &d);
	RC_ASSERT(is_outcome(r));
	RC_ASSERT(d.vlan_count <= RC_MAX_VLAN);
	RC_ASSERT(d.tcp_opt.sack_count <= RC_MAX_SACK);
	RC_ASSERT(!d.l4_ok || d.l3 != RC_L3_NONE);
	RC_ASSERT(d.payload_caplen <= d.payload_len);
	if (d.payload) {
		RC_ASSERT(d.payload >= frame && d.payload + d.payload_caplen <= frame + n);
		for (uint32_t i = 0; i < d.payload_caplen; i++)
			sum += d.payload[i];
	} else {
		RC_ASSERT(d.payload_caplen == 0);
	}
	/* A success outcome always has a network layer. */
	if (r == RC_CTR_DECODE_TCP || r == RC_CTR_DECODE_UDP || r == RC_CTR_DECODE_ICMP ||
	    r == RC_CTR_DECODE_ICMPV6)
		RC_ASSERT(d.l4_ok);
	if (r == RC_CTR_DECODE_IP_OTHER_PROTO || r == RC_CTR_DECODE_IPV4_FRAGMENT ||
	    r == RC_CTR_DECODE_IPV6_FRAGMENT)
		RC_ASSERT(d.l3 != RC_L3_NONE && !d.l4_ok);
	/* Without snap truncation, nothing can be cut by the snap length. */
	if (!(data[0] & 0x80))
		RC_ASSERT(r != RC_CTR_DECODE_SNAP_TRUNCATED);
	(void)sum;
	free(frame);
	return 0;
}
