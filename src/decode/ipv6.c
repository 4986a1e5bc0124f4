/* IPv6: the fixed header, then the extension header chain walked to the upper layer, bounded. */
#include <stdbool.h>
#include <string.h>

#include "decode-int.h"

#define IPV6_HLEN	40
#define MAX_EXT_HEADERS 8

#define NH_HOPOPTS  0
#define NH_ROUTING  43
#define NH_FRAGMENT 44
#define NH_AH	    51
#define NH_DSTOPTS  60

#define FRAG_HLEN    8
#define FRAG_OFFMASK 0xfff8 /* the offset field, already in bytes */
#define FRAG_MORE    0x0001
#define OPT_PAD1     0

/* The TLV options of a hop-by-hop or destination options header h[2, hlen), captured whole. */
static bool tlv_ok(const uint8_t *h, uint32_t hlen)
{
	uint32_t i = 2;

	while (i < hlen) {
		if (h[i] == OPT_PAD1) {
			i++;
			continue;
		}
		if (hlen - i < 2 || (uint32_t)h[i + 1] + 2 > hlen - i)
			return false;
		i += (uint32_t)h[i + 1] + 2;
	}
	return true;
}

static void note_fragment(const uint8_t *f, struct rc_decoded *out)
{
	uint16_t field = rc_be16(f + 2);

	out->frag_id = rc_be32(f + 4);
	/* An atomic fragment (offset 0, no more) is a whole packet (RFC 6946). */
	if (field & (FRAG_OFFMASK | FRAG_MORE)) {
		out->is_fragment = true;
		out->frag_offset = field & FRAG_OFFMASK;
		out->is_first_fragment = out->frag_offset == 0;
	}
}

/*
 * Walk the extension headers from *cur (next header *nh) to the upper layer. Returns
 * RC_DECODE_NEXT with *nh the upper-layer protocol, RC_CTR_DECODE_IPV6_FRAGMENT at the fragment
 * header of a later fragment, or the reason. A header running past the payload length is bad;
 * one cut off by the snap length is not.
 */
static enum rc_ctr walk_ext(struct rc_span *cur, uint8_t *nh, struct rc_decoded *out)
{
	for (unsigned int n = 0;; n++) {
		enum rc_ctr r;
		uint32_t hlen;
		uint8_t type = *nh;

		if (type != NH_HOPOPTS && type != NH_ROUTING && type != NH_FRAGMENT &&
		    type != NH_AH && type != NH_DSTOPTS)
			return RC_DECODE_NEXT;
		if (n == MAX_EXT_HEADERS)
			return RC_CTR_DECODE_IPV6_TOO_MANY_EXT_HEADERS;
		if (type == NH_HOPOPTS && n != 0) /* only right after the fixed header (RFC 8200) */
			return RC_CTR_DECODE_IPV6_BAD_EXT_HEADER;
		r = rc_span_need(cur, 2, RC_CTR_DECODE_IPV6_BAD_EXT_HEADER);
		if (r != RC_DECODE_NEXT)
			return r;
		if (type == NH_FRAGMENT)
			hlen = FRAG_HLEN;
		else if (type == NH_AH)
			hlen = ((uint32_t)cur->p[1] + 2) * 4;
		else
			hlen = ((uint32_t)cur->p[1] + 1) * 8;
		r = rc_span_need(cur, hlen, RC_CTR_DECODE_IPV6_BAD_EXT_HEADER);
		if (r != RC_DECODE_NEXT)
			return r;
		if ((type == NH_HOPOPTS || type == NH_DSTOPTS) && !tlv_ok(cur->p, hlen))
			return RC_CTR_DECODE_IPV6_BAD_EXT_HEADER;
		if (type == NH_FRAGMENT)
			note_fragment(cur->p, out);
		*nh = cur->p[0];
		*cur = rc_span_skip(cur, hlen);
		if (type == NH_FRAGMENT && out->frag_offset != 0)
			return RC_CTR_DECODE_IPV6_FRAGMENT;
	}
}

/*
 * Decode the IPv6 header at s and its extension headers (hop-by-hop, routing, fragment, AH,
 * destination options; at most 8). Returns RC_DECODE_NEXT with `next` spanning the upper-layer
 * header and out->ip_proto its protocol (59, no next header, included), RC_CTR_DECODE_IPV6_FRAGMENT
 * for a later fragment, or the malformed reason. Either success sets out's network fields and the
 * payload to what follows the last header walked.
 *
 * A payload length of 0 is a jumbogram or a Linux BIG TCP packet: take the frame's length then.
 */
enum rc_ctr rc_decode_ipv6(const struct rc_span *s, struct rc_decoded *out, struct rc_span *next)
{
	enum rc_ctr r = rc_span_need(s, 1, RC_CTR_DECODE_IPV6_SHORT_HEADER);
	struct rc_span whole;
	uint32_t ip_len;
	const uint8_t *h = s->p;
	uint8_t nh;

	if (r != RC_DECODE_NEXT)
		return r;
	if (h[0] >> 4 != 6)
		return RC_CTR_DECODE_IPV6_BAD_VERSION;
	r = rc_span_need(s, IPV6_HLEN, RC_CTR_DECODE_IPV6_SHORT_HEADER);
	if (r != RC_DECODE_NEXT)
		return r;
	ip_len = rc_be16(h + 4);
	ip_len = ip_len ? ip_len + IPV6_HLEN : s->len;
	if (ip_len > s->len)
		return RC_CTR_DECODE_IPV6_TRUNCATED;
	whole = rc_span_trim(s, ip_len);
	*next = rc_span_skip(&whole, IPV6_HLEN);
	nh = h[6];
	r = walk_ext(next, &nh, out);
	if (r != RC_DECODE_NEXT && r != RC_CTR_DECODE_IPV6_FRAGMENT)
		return r;

	out->l3 = RC_L3_IPV6;
	out->ip_proto = nh;
	out->ttl = h[7];
	memcpy(out->src, h + 8, 16);
	memcpy(out->dst, h + 24, 16);
	out->ip_len = ip_len;
	rc_decoded_set_payload(out, next);
	return r;
}
