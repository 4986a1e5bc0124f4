/* Link layers: Ethernet II with 802.1Q/802.1ad tags, Linux cooked v1/v2, raw IP, BSD loopback. */
#include <stdbool.h>

#include "decode-int.h"

#define ETH_HLEN      14
#define VLAN_HLEN     4
#define SLL_HLEN      16
#define SLL_PROTO_OFF 14
#define SLL2_HLEN     20
#define NULL_HLEN     4

#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ   0x9100
#define ETH_P_MIN    0x0600 /* below: an 802.3 length field, not an ethertype */

/* BSD loopback families that mean IPv6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin. */
#define AF_INET_ANY	 2
#define AF_INET6_LINUX	 10
#define AF_INET6_BSD	 24
#define AF_INET6_FREEBSD 28
#define AF_INET6_DARWIN	 30

static bool is_vlan_tpid(uint16_t type)
{
	return type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ;
}

/*
 * Walk the VLAN tags that start at s (the ethertype field just read is `type`) and classify the
 * network layer. `frame` says `type` came from an Ethernet frame, where a value below 0x0600 is an
 * 802.3 length; cooked headers use such values for Linux protocol numbers instead. Tags restored
 * by libpcap into cooked captures are walked the same way.
 */
static enum rc_ctr walk_ethertype(struct rc_span *s, uint16_t type, bool frame,
				  struct rc_decoded *out)
{
	while (is_vlan_tpid(type)) {
		enum rc_ctr r;

		if (out->vlan_count == RC_MAX_VLAN)
			return RC_CTR_DECODE_VLAN_TOO_MANY_TAGS;
		r = rc_span_need(s, VLAN_HLEN, RC_CTR_DECODE_VLAN_SHORT);
		if (r != RC_DECODE_NEXT)
			return r;
		out->vlan[out->vlan_count] = rc_be16(s->p) & 0x0fff;
		out->vlan_tpid[out->vlan_count] = type;
		out->vlan_count++;
		type = rc_be16(s->p + 2);
		*s = rc_span_skip(s, VLAN_HLEN);
		frame = true;
	}
	out->ethertype = type;
	if (type == RC_ETH_P_IPV4 || type == RC_ETH_P_IPV6)
		return RC_DECODE_NEXT;
	if (frame && type < ETH_P_MIN)
		return RC_CTR_DECODE_ETH_LLC;
	return RC_CTR_DECODE_ETH_NON_IP;
}

static enum rc_ctr link_ether(struct rc_span *s, struct rc_decoded *out)
{
	enum rc_ctr r = rc_span_need(s, ETH_HLEN, RC_CTR_DECODE_ETH_SHORT);
	uint16_t type;

	if (r != RC_DECODE_NEXT)
		return r;
	type = rc_be16(s->p + 12);
	*s = rc_span_skip(s, ETH_HLEN);
	return walk_ethertype(s, type, true, out);
}

static enum rc_ctr link_cooked(struct rc_span *s, uint32_t hlen, uint32_t proto_off,
			       enum rc_ctr short_reason, struct rc_decoded *out)
{
	enum rc_ctr r = rc_span_need(s, hlen, short_reason);
	uint16_t type;

	if (r != RC_DECODE_NEXT)
		return r;
	type = rc_be16(s->p + proto_off);
	*s = rc_span_skip(s, hlen);
	return walk_ethertype(s, type, false, out);
}

/* The family is in the byte order of the host that wrote the file: accept either. */
static enum rc_ctr link_null(struct rc_span *s, struct rc_decoded *out)
{
	enum rc_ctr r = rc_span_need(s, NULL_HLEN, RC_CTR_DECODE_NULL_SHORT);
	uint32_t family;

	if (r != RC_DECODE_NEXT)
		return r;
	family = (uint32_t)s->p[0] | (uint32_t)s->p[1] << 8 | (uint32_t)s->p[2] << 16 |
		 (uint32_t)s->p[3] << 24;
	if (family > 0xffff)
		family = rc_be32(s->p);
	*s = rc_span_skip(s, NULL_HLEN);
	switch (family) {
	case AF_INET_ANY:
		out->ethertype = RC_ETH_P_IPV4;
		return RC_DECODE_NEXT;
	case AF_INET6_LINUX:
	case AF_INET6_BSD:
	case AF_INET6_FREEBSD:
	case AF_INET6_DARWIN:
		out->ethertype = RC_ETH_P_IPV6;
		return RC_DECODE_NEXT;
	default:
		return RC_CTR_DECODE_ETH_NON_IP;
	}
}

/* Raw IP: the version nibble alone says which. */
static enum rc_ctr link_raw(const struct rc_span *s, struct rc_decoded *out)
{
	enum rc_ctr r = rc_span_need(s, 1, RC_CTR_DECODE_RAW_SHORT);

	if (r != RC_DECODE_NEXT)
		return r;
	switch (s->p[0] >> 4) {
	case 4:
		out->ethertype = RC_ETH_P_IPV4;
		return RC_DECODE_NEXT;
	case 6:
		out->ethertype = RC_ETH_P_IPV6;
		return RC_DECODE_NEXT;
	default:
		return RC_CTR_DECODE_RAW_BAD_VERSION;
	}
}

/*
 * Strip the link layer of pkt. Returns RC_DECODE_NEXT with out->ethertype set to IPv4 or IPv6 and
 * `next` spanning the network layer, or the outcome. A wire length below the captured length
 * (a broken source) is taken as the captured length.
 */
enum rc_ctr rc_decode_link(const struct rc_packet *pkt, struct rc_decoded *out,
			   struct rc_span *next)
{
	*next = (struct rc_span){
		.p = pkt->data,
		.cap = pkt->caplen,
		.len = pkt->wirelen > pkt->caplen ? pkt->wirelen : pkt->caplen,
	};
	switch (pkt->linktype) {
	case RC_LINK_EN10MB:
		return link_ether(next, out);
	case RC_LINK_LINUX_SLL:
		return link_cooked(next, SLL_HLEN, SLL_PROTO_OFF, RC_CTR_DECODE_SLL_SHORT, out);
	case RC_LINK_LINUX_SLL2:
		return link_cooked(next, SLL2_HLEN, 0, RC_CTR_DECODE_SLL2_SHORT, out);
	case RC_LINK_NULL:
		return link_null(next, out);
	case RC_LINK_RAW:
		return link_raw(next, out);
	case RC_LINK_IPV4:
		out->ethertype = RC_ETH_P_IPV4;
		return RC_DECODE_NEXT;
	case RC_LINK_IPV6:
		out->ethertype = RC_ETH_P_IPV6;
		return RC_DECODE_NEXT;
	default:
		return RC_CTR_DECODE_LINK_UNSUPPORTED;
	}
}

bool rc_decode_link_supported(uint32_t linktype)
{
	switch (linktype) {
	case RC_LINK_EN10MB:
	case RC_LINK_LINUX_SLL:
	case RC_LINK_LINUX_SLL2:
	case RC_LINK_NULL:
	case RC_LINK_RAW:
	case RC_LINK_IPV4:
	case RC_LINK_IPV6:
		return true;
	default:
		return false;
	}
}
