/* UDP and ICMP/ICMPv6: fixed headers, and UDP's length checked against the IP payload. */
#include <stdbool.h>

#include "decode-int.h"

#define UDP_HLEN  8
#define ICMP_HLEN 8 /* type, code, checksum and the 4-byte rest of header every message has */

/*
 * Decode the UDP datagram at s (s->len: the IP payload length). Returns RC_CTR_DECODE_UDP, or the
 * reason. A UDP length shorter than the IP payload trims the payload (as Linux does); a longer one
 * is malformed, except in a first fragment, whose payload is then what this fragment holds. A UDP
 * length of 0 over an IPv6 payload above 64 KiB is a jumbogram (RFC 2675).
 */
enum rc_ctr rc_decode_udp(const struct rc_span *s, struct rc_decoded *out)
{
	enum rc_ctr r = rc_span_need(s, UDP_HLEN, RC_CTR_DECODE_UDP_SHORT_HEADER);
	struct rc_span dgram, payload;
	uint32_t ulen;

	if (r != RC_DECODE_NEXT)
		return r;
	ulen = rc_be16(s->p + 4);
	if (ulen == 0 && out->l3 == RC_L3_IPV6 && s->len > 0xffff)
		ulen = s->len;
	if (ulen < UDP_HLEN)
		return RC_CTR_DECODE_UDP_BAD_LENGTH;
	if (ulen > s->len) {
		if (!out->is_fragment)
			return RC_CTR_DECODE_UDP_BAD_LENGTH;
		ulen = s->len;
	}

	out->sport = rc_be16(s->p);
	out->dport = rc_be16(s->p + 2);
	out->l4_ok = true;
	dgram = rc_span_trim(s, ulen);
	payload = rc_span_skip(&dgram, UDP_HLEN);
	rc_decoded_set_payload(out, &payload);
	return RC_CTR_DECODE_UDP;
}

/*
 * Decode the ICMP or ICMPv6 message at s: the type goes in out->sport and the code in out->dport,
 * as Zeek does. Returns `ok`, or `short_reason` when the 8-byte header is not there.
 */
enum rc_ctr rc_decode_icmp(const struct rc_span *s, struct rc_decoded *out, enum rc_ctr ok,
			   enum rc_ctr short_reason)
{
	enum rc_ctr r = rc_span_need(s, ICMP_HLEN, short_reason);
	struct rc_span payload;

	if (r != RC_DECODE_NEXT)
		return r;
	out->sport = s->p[0];
	out->dport = s->p[1];
	out->l4_ok = true;
	payload = rc_span_skip(s, ICMP_HLEN);
	rc_decoded_set_payload(out, &payload);
	return ok;
}
