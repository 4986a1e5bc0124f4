/* IPv4: header and options checked, fragments flagged, the payload bounded by the total length. */
#include <stdbool.h>
#include <string.h>

#include "decode-int.h"

#define IPV4_HLEN  20
#define IP_MF	   0x2000
#define IP_OFFMASK 0x1fff

/* The options lie in h[20, hlen), captured whole. True when each one's length fits in there. */
static bool options_ok(const uint8_t *h, uint32_t hlen)
{
	uint32_t at = IPV4_HLEN, start, len;
	int rc;

	while ((rc = rc_kl_option_next(h, hlen, &at, &start, &len)) > 0)
		;
	return rc == 0;
}

/*
 * Decode the IPv4 header at s. Returns RC_DECODE_NEXT with `next` spanning the transport header
 * (the packet is whole or a first fragment), RC_CTR_DECODE_IPV4_FRAGMENT for a later fragment, or
 * the malformed reason. Either success sets out's network fields and the payload to IP's.
 *
 * The payload ends at the total length, so Ethernet padding and trailers are not payload. A total
 * length of 0 is what Linux writes in TSO/BIG TCP packets over 64 KiB: like tcpdump, take the
 * frame's length then. The checksum is not verified (offloaded packets carry none).
 */
enum rc_ctr rc_decode_ipv4(const struct rc_span *s, struct rc_decoded *out, struct rc_span *next)
{
	enum rc_ctr r = rc_span_need(s, 1, RC_CTR_DECODE_IPV4_SHORT_HEADER);
	struct rc_span whole;
	uint32_t hlen, tot;
	uint16_t frag;
	const uint8_t *h = s->p;

	if (r != RC_DECODE_NEXT)
		return r;
	if (h[0] >> 4 != 4)
		return RC_CTR_DECODE_IPV4_BAD_VERSION;
	r = rc_span_need(s, IPV4_HLEN, RC_CTR_DECODE_IPV4_SHORT_HEADER);
	if (r != RC_DECODE_NEXT)
		return r;
	hlen = (uint32_t)(h[0] & 0x0f) * 4;
	if (hlen < IPV4_HLEN)
		return RC_CTR_DECODE_IPV4_BAD_IHL;
	r = rc_span_need(s, hlen, RC_CTR_DECODE_IPV4_SHORT_HEADER);
	if (r != RC_DECODE_NEXT)
		return r;
	tot = rc_be16(h + 2);
	if (tot == 0)
		tot = s->len;
	if (tot < hlen)
		return RC_CTR_DECODE_IPV4_BAD_TOTAL_LENGTH;
	if (tot > s->len)
		return RC_CTR_DECODE_IPV4_TRUNCATED;
	if (!options_ok(h, hlen))
		return RC_CTR_DECODE_IPV4_BAD_OPTIONS;

	out->l3 = RC_L3_IPV4;
	out->ttl = h[8];
	out->ip_proto = h[9];
	memcpy(out->src, h + 12, 4);
	memcpy(out->dst, h + 16, 4);
	out->ip_len = tot;
	frag = rc_be16(h + 6);
	out->frag_id = rc_be16(h + 4);
	out->frag_offset = (uint16_t)((frag & IP_OFFMASK) * 8);
	out->is_fragment = (frag & IP_MF) || out->frag_offset != 0;
	out->is_first_fragment = out->is_fragment && out->frag_offset == 0;

	whole = rc_span_trim(s, tot);
	*next = rc_span_skip(&whole, hlen);
	rc_decoded_set_payload(out, next);
	return out->frag_offset != 0 ? RC_CTR_DECODE_IPV4_FRAGMENT : RC_DECODE_NEXT;
}
