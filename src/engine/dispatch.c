/* The symmetric dispatch hash: a cheap look at the link and IP headers, no full decode. */
#include <string.h>
#include <xxhash.h>

#include "ringcap/dispatch.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Combine two endpoint hashes so that swapping them gives the same result. */
static uint32_t symmetric(uint64_t a, uint64_t b, uint32_t vlan)
{
	uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
	uint64_t key[3] = {lo, hi, vlan};
	return (uint32_t)XXH3_64bits(key, sizeof(key));
}

uint32_t rc_dispatch_hash(const struct rc_packet *pkt, uint16_t outer_vlan)
{
	const uint8_t *p = pkt->data;
	uint32_t len = pkt->caplen, off;
	uint32_t vlan = outer_vlan & 0x0fff;
	uint16_t type;

	switch (pkt->linktype) {
	case RC_LINK_EN10MB:
		if (len < 14)
			return 0;
		type = be16(p + 12);
		off = 14;
		while ((type == 0x8100 || type == 0x88a8 || type == 0x9100) && off + 4 <= len) {
			vlan = vlan << 12 | (be16(p + off) & 0x0fff);
			type = be16(p + off + 2);
			off += 4;
		}
		break;
	case RC_LINK_RAW:
	case RC_LINK_IPV4:
	case RC_LINK_IPV6:
		if (len < 1)
			return 0;
		type = (p[0] >> 4) == 4 ? 0x0800 : 0x86dd;
		off = 0;
		break;
	default:
		return 0;
	}
	if (type == 0x0800 && off + 20 <= len) {
		uint32_t a, b;
		memcpy(&a, p + off + 12, 4);
		memcpy(&b, p + off + 16, 4);
		return symmetric(a, b, vlan);
	}
	if (type == 0x86dd && off + 40 <= len) {
		uint64_t a = XXH3_64bits(p + off + 8, 16), b = XXH3_64bits(p + off + 24, 16);
		return symmetric(a, b, vlan);
	}
	return 0;
}
