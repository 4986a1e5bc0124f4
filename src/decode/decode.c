/* The decoder chain: link, network, transport; one outcome counter per packet. */
#include <stdbool.h>
#include <string.h>

#include "decode-int.h"

/*
 * Decode one packet (see ringcap/decode.h). Costs one pass over the headers, no allocation; pure,
 * so any thread may call it. Reads nothing past pkt->caplen.
 */
enum rc_ctr rc_decode(const struct rc_packet *pkt, struct rc_decoded *out)
{
	struct rc_span net, seg;
	enum rc_ctr r;

	RC_ASSERT(pkt != NULL && out != NULL);
	RC_ASSERT(pkt->data != NULL || pkt->caplen == 0);
	/* A copy of a zero struct compiles to vector moves; a memset of this size to `rep stos`,
	 * whose start-up costs as much as the decode of a small packet. */
	static const struct rc_decoded zero;
	memcpy(out, &zero, sizeof(*out));

	r = rc_decode_link(pkt, out, &net);
	if (r != RC_DECODE_NEXT)
		return r;
	if (out->ethertype == RC_ETH_P_IPV4)
		r = rc_decode_ipv4(&net, out, &seg);
	else
		r = rc_decode_ipv6(&net, out, &seg);
	if (r != RC_DECODE_NEXT)
		return r;

	switch (out->ip_proto) {
	case RC_IPPROTO_TCP:
		return rc_decode_tcp(&seg, out);
	case RC_IPPROTO_UDP:
		return rc_decode_udp(&seg, out);
	case RC_IPPROTO_ICMP:
		if (out->l3 == RC_L3_IPV4)
			return rc_decode_icmp(&seg, out, RC_CTR_DECODE_ICMP,
					      RC_CTR_DECODE_ICMP_SHORT_HEADER);
		break;
	case RC_IPPROTO_ICMPV6:
		if (out->l3 == RC_L3_IPV6)
			return rc_decode_icmp(&seg, out, RC_CTR_DECODE_ICMPV6,
					      RC_CTR_DECODE_ICMPV6_SHORT_HEADER);
		break;
	default:
		break;
	}
	return RC_CTR_DECODE_IP_OTHER_PROTO;
}

/* Generated from RC_CTRS_DECODE_ERR, so the classification is declared once, in the table. */
bool rc_decode_is_error(enum rc_ctr outcome)
{
	switch (outcome) {
#define RC_DECODE_ERR_CASE(id, name, kind, unit, help) case RC_CTR_##id:
		RC_CTRS_DECODE_ERR(RC_DECODE_ERR_CASE)
#undef RC_DECODE_ERR_CASE
		return true;
	default:
		return false;
	}
}
