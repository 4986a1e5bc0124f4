/* Private to src/decode: the byte span every layer step takes and the steps of the chain. */
#ifndef RINGCAP_DECODE_INT_H
#define RINGCAP_DECODE_INT_H

#include <stdint.h>

#include "ringcap/assert.h"
#include "ringcap/decode.h"

/* What a step returns when the packet goes on to the next layer (never a real counter). */
#define RC_DECODE_NEXT RC_CTR__COUNT

#define RC_ETH_P_IPV4 0x0800
#define RC_ETH_P_IPV6 0x86dd

enum {
	RC_IPPROTO_ICMP = 1,
	RC_IPPROTO_TCP = 6,
	RC_IPPROTO_UDP = 17,
	RC_IPPROTO_ICMPV6 = 58,
};

/*
 * Bytes at p: `cap` of them were captured, `len` of them exist (on the wire, or as far as the
 * enclosing header says). cap <= len always; bytes past cap must never be read.
 */
struct rc_span {
	const uint8_t *p;
	uint32_t cap;
	uint32_t len;
};

/*
 * Whether the first n bytes of s may be read. Returns RC_DECODE_NEXT when they were captured,
 * RC_CTR_DECODE_SNAP_TRUNCATED when they exist but the snap length cut them, else `short_reason`.
 */
static inline enum rc_ctr rc_span_need(const struct rc_span *s, uint32_t n,
				       enum rc_ctr short_reason)
{
	RC_ASSERT(s->cap <= s->len);
	if (n <= s->cap)
		return RC_DECODE_NEXT;
	return n <= s->len ? RC_CTR_DECODE_SNAP_TRUNCATED : short_reason;
}

/* The span after the first n bytes of s; the caller has checked n <= s->cap. */
static inline struct rc_span rc_span_skip(const struct rc_span *s, uint32_t n)
{
	RC_ASSERT(n <= s->cap);
	return (struct rc_span){.p = s->p + n, .cap = s->cap - n, .len = s->len - n};
}

/* The first n bytes of s (n <= s->len): a header's own length bounds what follows it. */
static inline struct rc_span rc_span_trim(const struct rc_span *s, uint32_t n)
{
	RC_ASSERT(n <= s->len);
	return (struct rc_span){.p = s->p, .cap = s->cap < n ? s->cap : n, .len = n};
}

/* Record s as the packet's payload (IP's, until a transport step replaces it). */
static inline void rc_decoded_set_payload(struct rc_decoded *out, const struct rc_span *s)
{
	out->payload = s->p;
	out->payload_caplen = s->cap;
	out->payload_len = s->len;
}

/* Big-endian loads, byte-wise: no alignment assumed. */
/*
 * Walk kind-length options, as IPv4 and TCP both lay them out (kind 0 ends the list, kind 1 is a
 * one-byte pad, every other kind carries its length, counting the kind and length bytes), in
 * h[*at, hlen), all captured. Returns 1 with the next option at h + *start (its kind *kind and
 * length *len) and *at moved past it, 0 at the end of the list, -1 at an option whose length is
 * below 2 or runs past hlen.
 */
static inline int rc_kl_option_next(const uint8_t *h, uint32_t hlen, uint32_t *at, uint32_t *start,
				    uint32_t *len)
{
	while (*at < hlen) {
		uint32_t i = *at;
		if (h[i] == 0)
			return 0;
		if (h[i] == 1) {
			(*at)++;
			continue;
		}
		if (hlen - i < 2 || h[i + 1] < 2 || h[i + 1] > hlen - i)
			return -1;
		*start = i;
		*len = h[i + 1];
		*at = i + *len;
		return 1;
	}
	return 0;
}

static inline uint16_t rc_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rc_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The steps of the chain. Each fills its part of `out` and returns RC_DECODE_NEXT when the packet
 * goes on (with the next layer's span in `next`) or the outcome counter where decoding stops.
 * The transport steps always return an outcome.
 */
enum rc_ctr rc_decode_link(const struct rc_packet *pkt, struct rc_decoded *out,
			   struct rc_span *next);
enum rc_ctr rc_decode_ipv4(const struct rc_span *s, struct rc_decoded *out, struct rc_span *next);
enum rc_ctr rc_decode_ipv6(const struct rc_span *s, struct rc_decoded *out, struct rc_span *next);
enum rc_ctr rc_decode_tcp(const struct rc_span *s, struct rc_decoded *out);
enum rc_ctr rc_decode_udp(const struct rc_span *s, struct rc_decoded *out);
enum rc_ctr rc_decode_icmp(const struct rc_span *s, struct rc_decoded *out, enum rc_ctr ok,
			   enum rc_ctr short_reason);

#endif
