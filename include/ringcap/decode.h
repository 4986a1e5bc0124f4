/*
 * Pure packet decoders: (buffer, length) in, a description of the headers out. No allocation, no
 * I/O, never a read past the captured length. A malformed packet is not an error: the decoder
 * returns the counter that names the reason, and the caller counts it.
 */
#ifndef RINGCAP_DECODE_H
#define RINGCAP_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "ringcap/counters.h"
#include "ringcap/packet.h"

#define RC_MAX_VLAN 2
#define RC_MAX_SACK 4

enum rc_l3 { RC_L3_NONE = 0, RC_L3_IPV4 = 4, RC_L3_IPV6 = 6 };

/* TCP flag bits as on the wire. */
enum {
	RC_TCP_FIN = 0x01,
	RC_TCP_SYN = 0x02,
	RC_TCP_RST = 0x04,
	RC_TCP_PSH = 0x08,
	RC_TCP_ACK = 0x10,
	RC_TCP_URG = 0x20,
	RC_TCP_ECE = 0x40,
	RC_TCP_CWR = 0x80,
};

struct rc_tcp_options {
	uint16_t mss;	/* 0 when absent */
	uint8_t wscale; /* valid when has_wscale */
	bool has_wscale;
	bool sack_permitted;
	bool has_timestamps;
	uint8_t sack_count;
	uint32_t tsval, tsecr;
	struct {
		uint32_t left, right;
	} sack[RC_MAX_SACK];
};

struct rc_decoded {
	/* link */
	uint16_t vlan[RC_MAX_VLAN]; /* VLAN ids, outermost first */
	uint16_t vlan_tpid[RC_MAX_VLAN];
	uint8_t vlan_count;
	uint16_t ethertype; /* of the network layer, after any tags; raw IP/loopback: implied */

	/* network */
	uint8_t l3;	  /* enum rc_l3 */
	uint8_t ip_proto; /* IPv6: the upper-layer protocol after the extension headers */
	uint8_t ttl;
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes, the rest zero */
	uint32_t ip_len;	  /* IP total length from the header (bytes on the wire) */
	bool is_fragment;	  /* IPv4 MF/offset or an IPv6 fragment header */
	bool is_first_fragment;
	uint32_t frag_id;
	uint16_t frag_offset; /* in bytes */

	/* transport: valid when l4_ok */
	bool l4_ok;
	uint16_t sport, dport; /* ICMP: type and code */
	uint8_t tcp_flags;
	uint32_t seq, ack;
	uint16_t window;
	struct rc_tcp_options tcp_opt;

	/* payload of the transport layer (or of IP when l4_ok is false) */
	const uint8_t *payload;
	uint32_t payload_caplen; /* bytes present */
	uint32_t payload_len;	 /* bytes the headers say there are */
};

/*
 * Decode one packet. Returns the counter that describes the outcome, exactly one per packet:
 * a success counter such as RC_CTR_DECODE_TCP, a "not ours" counter such as
 * RC_CTR_DECODE_ETH_NON_IP, or the reason a header was malformed, such as
 * RC_CTR_DECODE_IPV4_BAD_IHL. `out` is filled as far as decoding got; out->l3 != RC_L3_NONE
 * means the addresses are valid and out->l4_ok that the ports/TCP fields are. Pure; any thread.
 *
 * Headers the snap length cut off (caplen < wirelen) are not malformed: the outcome is then
 * RC_CTR_DECODE_SNAP_TRUNCATED, and a payload cut short leaves payload_caplen < payload_len.
 * One error outcome still carries a usable segment: RC_CTR_DECODE_TCP_BAD_OPTIONS comes with
 * l4_ok true and the options before the bad one parsed; follow l4_ok, not the outcome, to decide
 * whether the flow table gets the packet. Payloads end at the IP total length (no padding).
 */
enum rc_ctr rc_decode(const struct rc_packet *pkt, struct rc_decoded *out);

/*
 * True when `outcome` (a value rc_decode returned) counts as a malformed packet: exactly the rows
 * of RC_CTRS_DECODE_ERR in ringcap/ctr/decode.h. Any thread.
 */
bool rc_decode_is_error(enum rc_ctr outcome);

/* True when rc_decode understands packets of this LINKTYPE_ value. */
bool rc_decode_link_supported(uint32_t linktype);

#endif
