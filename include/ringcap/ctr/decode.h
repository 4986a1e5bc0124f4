/*
 * Counters of the decoders — part of the table in ringcap/counters.h.
 *
 * rc_decode() returns exactly one outcome per packet, one of the rows below (DECODE_PACKETS aside).
 * The outcomes are split in three lists so that the classification lives here, once:
 *   RC_CTRS_DECODE_OK     decoded; the packet goes on to the flow table
 *   RC_CTRS_DECODE_OTHER  not ours or cut by the snap length; counted, not an error
 *   RC_CTRS_DECODE_ERR    malformed, named after the reason; rc_decode_is_error() is generated
 *                         from this list alone
 */
#define RC_CTRS_DECODE_OK(X)                                                                 \
	X(DECODE_TCP, "decode.tcp", RC_COUNTER, "packets", "TCP segments decoded")           \
	X(DECODE_UDP, "decode.udp", RC_COUNTER, "packets", "UDP datagrams decoded")          \
	X(DECODE_ICMP, "decode.icmp", RC_COUNTER, "packets", "ICMP (IPv4) messages decoded") \
	X(DECODE_ICMPV6, "decode.icmpv6", RC_COUNTER, "packets", "ICMPv6 messages decoded")  \
	X(DECODE_IP_OTHER_PROTO, "decode.ip.other_proto", RC_COUNTER, "packets",             \
	  "Valid IP packets carrying another protocol (or IPv6 no-next-header)")             \
	X(DECODE_IPV4_FRAGMENT, "decode.ipv4.fragment", RC_COUNTER, "packets",               \
	  "Non-first IPv4 fragments (no transport header to read)")                          \
	X(DECODE_IPV6_FRAGMENT, "decode.ipv6.fragment", RC_COUNTER, "packets",               \
	  "Non-first IPv6 fragments (no transport header to read)")

#define RC_CTRS_DECODE_OTHER(X)                                                       \
	X(DECODE_ETH_NON_IP, "decode.eth.non_ip", RC_COUNTER, "packets",              \
	  "Frames of a network protocol other than IP, e.g. ARP (any link type)")     \
	X(DECODE_ETH_LLC, "decode.eth.llc", RC_COUNTER, "packets",                    \
	  "IEEE 802.3 frames with a length field instead of an ethertype (LLC/SNAP)") \
	X(DECODE_LINK_UNSUPPORTED, "decode.link.unsupported", RC_COUNTER, "packets",  \
	  "Packets of a link type the decoders do not handle")                        \
	X(DECODE_SNAP_TRUNCATED, "decode.snap_truncated", RC_COUNTER, "packets",      \
	  "Packets whose headers the snap length cut off (present on the wire, not captured)")

#define RC_CTRS_DECODE_ERR(X)                                                                    \
	X(DECODE_ETH_SHORT, "decode.eth.short", RC_COUNTER, "packets",                           \
	  "Ethernet frames shorter than the 14-byte header")                                     \
	X(DECODE_VLAN_SHORT, "decode.vlan.short", RC_COUNTER, "packets",                         \
	  "Frames ending inside an 802.1Q/802.1ad tag")                                          \
	X(DECODE_VLAN_TOO_MANY_TAGS, "decode.vlan.too_many_tags", RC_COUNTER, "packets",         \
	  "Frames with more VLAN tags than RC_MAX_VLAN (2)")                                     \
	X(DECODE_SLL_SHORT, "decode.sll.short", RC_COUNTER, "packets",                           \
	  "Linux cooked (SLL) packets shorter than the 16-byte header")                          \
	X(DECODE_SLL2_SHORT, "decode.sll2.short", RC_COUNTER, "packets",                         \
	  "Linux cooked v2 (SLL2) packets shorter than the 20-byte header")                      \
	X(DECODE_NULL_SHORT, "decode.null.short", RC_COUNTER, "packets",                         \
	  "BSD loopback packets shorter than the 4-byte family header")                          \
	X(DECODE_RAW_SHORT, "decode.raw.short", RC_COUNTER, "packets",                           \
	  "Raw-IP packets with no bytes")                                                        \
	X(DECODE_RAW_BAD_VERSION, "decode.raw.bad_version", RC_COUNTER, "packets",               \
	  "Raw-IP packets whose version nibble is neither 4 nor 6")                              \
	X(DECODE_IPV4_SHORT_HEADER, "decode.ipv4.short_header", RC_COUNTER, "packets",           \
	  "IPv4 packets ending inside the header (20 bytes or IHL*4)")                           \
	X(DECODE_IPV4_BAD_VERSION, "decode.ipv4.bad_version", RC_COUNTER, "packets",             \
	  "IPv4-labelled packets whose version is not 4")                                        \
	X(DECODE_IPV4_BAD_IHL, "decode.ipv4.bad_ihl", RC_COUNTER, "packets",                     \
	  "IPv4 header length (IHL) below 5")                                                    \
	X(DECODE_IPV4_BAD_TOTAL_LENGTH, "decode.ipv4.bad_total_length", RC_COUNTER, "packets",   \
	  "IPv4 total length shorter than the header")                                           \
	X(DECODE_IPV4_TRUNCATED, "decode.ipv4.truncated", RC_COUNTER, "packets",                 \
	  "IPv4 total length longer than the frame on the wire")                                 \
	X(DECODE_IPV4_BAD_OPTIONS, "decode.ipv4.bad_options", RC_COUNTER, "packets",             \
	  "IPv4 options whose length is below 2 or runs past the header")                        \
	X(DECODE_IPV6_SHORT_HEADER, "decode.ipv6.short_header", RC_COUNTER, "packets",           \
	  "IPv6 packets shorter than the 40-byte header")                                        \
	X(DECODE_IPV6_BAD_VERSION, "decode.ipv6.bad_version", RC_COUNTER, "packets",             \
	  "IPv6-labelled packets whose version is not 6")                                        \
	X(DECODE_IPV6_TRUNCATED, "decode.ipv6.truncated", RC_COUNTER, "packets",                 \
	  "IPv6 payload length longer than the frame on the wire")                               \
	X(DECODE_IPV6_BAD_EXT_HEADER, "decode.ipv6.bad_ext_header", RC_COUNTER, "packets",       \
	  "IPv6 extension headers running past the payload, misplaced or with bad options")      \
	X(DECODE_IPV6_TOO_MANY_EXT_HEADERS, "decode.ipv6.too_many_ext_headers", RC_COUNTER,      \
	  "packets", "IPv6 packets with more than 8 extension headers")                          \
	X(DECODE_TCP_SHORT_HEADER, "decode.tcp.short_header", RC_COUNTER, "packets",             \
	  "TCP segments shorter than the 20-byte header")                                        \
	X(DECODE_TCP_BAD_DATA_OFFSET, "decode.tcp.bad_data_offset", RC_COUNTER, "packets",       \
	  "TCP data offset below 5 or past the end of the segment")                              \
	X(DECODE_TCP_BAD_OPTIONS, "decode.tcp.bad_options", RC_COUNTER, "packets",               \
	  "TCP options whose length is below 2 or runs past the header (segment still decoded)") \
	X(DECODE_UDP_SHORT_HEADER, "decode.udp.short_header", RC_COUNTER, "packets",             \
	  "UDP datagrams shorter than the 8-byte header")                                        \
	X(DECODE_UDP_BAD_LENGTH, "decode.udp.bad_length", RC_COUNTER, "packets",                 \
	  "UDP length below 8 or longer than the IP payload")                                    \
	X(DECODE_ICMP_SHORT_HEADER, "decode.icmp.short_header", RC_COUNTER, "packets",           \
	  "ICMP messages shorter than the 8-byte header")                                        \
	X(DECODE_ICMPV6_SHORT_HEADER, "decode.icmpv6.short_header", RC_COUNTER, "packets",       \
	  "ICMPv6 messages shorter than the 8-byte header")

#define RC_CTRS_DECODE(X)                                          \
	X(DECODE_PACKETS, "decode.packets", RC_COUNTER, "packets", \
	  "Packets given to the decoders")                         \
	RC_CTRS_DECODE_OK(X)                                       \
	RC_CTRS_DECODE_OTHER(X)                                    \
	RC_CTRS_DECODE_ERR(X)
