/*
 * Unit tests of the decoders: crafted packets checked field by field, every outcome counter
 * reached, and every packet and each of its prefixes decoded right before a PROT_NONE page so
 * that an over-read faults even without ASan (as picohttpparser's tests do).
 *
 * RC_DECODE_WRITE_CORPUS=dir writes the valid cases as seeds for tests/fuzz/fuzz-decode.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringcap/decode.h"

/* ---- packet builder ---- */

struct pb {
	uint8_t b[2048];
	uint32_t n;
};

static void put8(struct pb *p, uint8_t v)
{
	assert_true(p->n < sizeof(p->b));
	p->b[p->n++] = v;
}

static void put16(struct pb *p, uint16_t v)
{
	put8(p, (uint8_t)(v >> 8));
	put8(p, (uint8_t)v);
}

static void put32(struct pb *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p, (uint16_t)v);
}

static void putn(struct pb *p, const void *src, uint32_t n)
{
	assert_true(p->n + n <= sizeof(p->b));
	memcpy(p->b + p->n, src, n);
	p->n += n;
}

static void putz(struct pb *p, uint32_t n)
{
	while (n--)
		put8(p, 0);
}

static void set16(struct pb *p, uint32_t off, uint16_t v)
{
	p->b[off] = (uint8_t)(v >> 8);
	p->b[off + 1] = (uint8_t)v;
}

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x01}, mac_b[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t v4_src[4] = {10, 0, 0, 1}, v4_dst[4] = {192, 168, 1, 2};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 2};

static void eth(struct pb *p, uint16_t type)
{
	putn(p, mac_b, 6);
	putn(p, mac_a, 6);
	put16(p, type);
}

/* The rest of a VLAN tag whose TPID the previous type field gave. */
static void tag(struct pb *p, uint16_t tci, uint16_t next)
{
	put16(p, tci);
	put16(p, next);
}

static void sll(struct pb *p, uint16_t proto)
{
	put16(p, 0); /* to us */
	put16(p, 1); /* ARPHRD_ETHER */
	put16(p, 6);
	putn(p, mac_a, 6);
	putz(p, 2);
	put16(p, proto);
}

static void sll2(struct pb *p, uint16_t proto)
{
	put16(p, proto);
	put16(p, 0);
	put32(p, 3); /* ifindex */
	put16(p, 1);
	put8(p, 0);
	put8(p, 6);
	putn(p, mac_a, 6);
	putz(p, 2);
}

/* IPv4 header with `optlen` (a multiple of 4) option bytes; ip4_end fills length and checksum. */
static uint32_t ip4_begin(struct pb *p, uint8_t proto, const uint8_t *opts, uint32_t optlen,
			  uint16_t frag)
{
	uint32_t at = p->n;

	assert_int_equal(optlen % 4, 0);
	put8(p, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(p, 0);
	put16(p, 0);
	put16(p, 0x1234);
	put16(p, frag);
	put8(p, 64);
	put8(p, proto);
	put16(p, 0);
	putn(p, v4_src, 4);
	putn(p, v4_dst, 4);
	if (optlen)
		putn(p, opts, optlen);
	return at;
}

static void ip4_end(struct pb *p, uint32_t at)
{
	uint32_t hlen = (p->b[at] & 0x0f) * 4u, sum = 0;

	set16(p, at + 2, (uint16_t)(p->n - at));
	for (uint32_t i = 0; i < hlen; i += 2)
		sum += (uint32_t)(p->b[at + i] << 8 | p->b[at + i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	set16(p, at + 10, (uint16_t)~sum);
}

static uint32_t ip6_begin(struct pb *p, uint8_t nh)
{
	uint32_t at = p->n;

	put32(p, 0x60012345);
	put16(p, 0);
	put8(p, nh);
	put8(p, 57);
	putn(p, v6_src, 16);
	putn(p, v6_dst, 16);
	return at;
}

static void ip6_end(struct pb *p, uint32_t at)
{
	set16(p, at + 4, (uint16_t)(p->n - at - 40));
}

/* Hop-by-hop or destination options header of (units + 1) * 8 bytes, filled with PadN. */
static void ext_opts(struct pb *p, uint8_t nh, uint8_t units)
{
	uint32_t rest = (units + 1u) * 8 - 2;

	put8(p, nh);
	put8(p, units);
	put8(p, 1);
	put8(p, (uint8_t)(rest - 2));
	putz(p, rest - 2);
}

static void ext_routing(struct pb *p, uint8_t nh)
{
	put8(p, nh);
	put8(p, 0);
	put8(p, 253); /* experimental routing type */
	put8(p, 0);
	putz(p, 4);
}

static void ext_frag(struct pb *p, uint8_t nh, uint16_t off_bytes, bool more, uint32_t id)
{
	put8(p, nh);
	put8(p, 0);
	put16(p, (uint16_t)(off_bytes | more));
	put32(p, id);
}

static void ext_ah(struct pb *p, uint8_t nh)
{
	put8(p, nh);
	put8(p, 4); /* (4 + 2) * 4 = 24 bytes */
	put16(p, 0);
	put32(p, 0x1000); /* SPI */
	put32(p, 1);
	putz(p, 12);
}

static uint32_t tcp_begin(struct pb *p, uint8_t flags, const uint8_t *opts, uint32_t optlen)
{
	uint32_t at = p->n;

	assert_int_equal(optlen % 4, 0);
	put16(p, 40000);
	put16(p, 80);
	put32(p, 0x11223344);
	put32(p, 0x55667788);
	put8(p, (uint8_t)((5 + optlen / 4) << 4));
	put8(p, flags);
	put16(p, 29200);
	put16(p, 0);
	put16(p, 0);
	if (optlen)
		putn(p, opts, optlen);
	return at;
}

static uint32_t udp_begin(struct pb *p)
{
	uint32_t at = p->n;

	put16(p, 5353);
	put16(p, 53);
	put16(p, 0);
	put16(p, 0);
	return at;
}

static void udp_end(struct pb *p, uint32_t at)
{
	set16(p, at + 4, (uint16_t)(p->n - at));
}

static void icmp_echo(struct pb *p, uint8_t type)
{
	put8(p, type);
	put8(p, 0);
	put16(p, 0);
	put16(p, 0x4242);
	put16(p, 7);
}

static void payload(struct pb *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		put8(p, (uint8_t)('a' + i % 26));
}

/* ---- composite packets ---- */

/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7, an unknown option, EOL. */
static const uint8_t syn_opts[28] = {
	2,    4,    0x05, 0xb4, 4, 2, 8,   10, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02,
	0x03, 0x04, 1,	  3,	3, 7, 253, 4,  0xab, 0xcd, 0,	 0,    0,    0,
};

/* NOP, NOP, SACK with four blocks, an unknown option of 4 bytes: 40 bytes. */
static const uint8_t sack_opts[40] = {
	1, 1, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0,   0, 0, 4,
	0, 0, 0, 5,  0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8, 254, 4, 0, 0,
};

static void eth_ip4_tcp(struct pb *p, const uint8_t *opts, uint32_t optlen, uint32_t n)
{
	uint32_t ip;

	eth(p, 0x0800);
	ip = ip4_begin(p, 6, NULL, 0, 0);
	tcp_begin(p, 0x18, opts, optlen);
	payload(p, n);
	ip4_end(p, ip);
}

static void eth_ip4_udp(struct pb *p, uint32_t n)
{
	uint32_t ip, u;

	eth(p, 0x0800);
	ip = ip4_begin(p, 17, NULL, 0, 0);
	u = udp_begin(p);
	payload(p, n);
	udp_end(p, u);
	ip4_end(p, ip);
}

static void ip4_udp(struct pb *p, uint32_t n)
{
	uint32_t ip = ip4_begin(p, 17, NULL, 0, 0), u = udp_begin(p);

	payload(p, n);
	udp_end(p, u);
	ip4_end(p, ip);
}

static void ip6_tcp(struct pb *p, uint32_t n)
{
	uint32_t ip = ip6_begin(p, 6);

	tcp_begin(p, 0x10, NULL, 0);
	payload(p, n);
	ip6_end(p, ip);
}

static void b_tcp_syn(struct pb *p)
{
	eth_ip4_tcp(p, syn_opts, sizeof(syn_opts), 0);
}

static void b_tcp_sack(struct pb *p)
{
	eth_ip4_tcp(p, sack_opts, sizeof(sack_opts), 5);
}

static void b_tcp_data(struct pb *p)
{
	eth_ip4_tcp(p, NULL, 0, 100);
}

static void b_udp(struct pb *p)
{
	eth_ip4_udp(p, 12);
}

static void b_qinq(struct pb *p)
{
	eth(p, 0x88a8);
	tag(p, 0x2000 | 100, 0x8100);
	tag(p, 200, 0x0800);
	ip4_udp(p, 4);
}

static void b_qinq_9100(struct pb *p)
{
	eth(p, 0x9100);
	tag(p, 4094, 0x8100);
	tag(p, 1, 0x86dd);
	ip6_tcp(p, 3);
}

static void b_one_tag(struct pb *p)
{
	eth(p, 0x8100);
	tag(p, 42, 0x0800);
	ip4_udp(p, 4);
}

static void b_three_tags(struct pb *p)
{
	eth(p, 0x88a8);
	tag(p, 1, 0x8100);
	tag(p, 2, 0x8100);
	tag(p, 3, 0x0800);
	ip4_udp(p, 4);
}

static void b_sll_v4(struct pb *p)
{
	sll(p, 0x0800);
	ip4_udp(p, 4);
}

static void b_sll_vlan(struct pb *p)
{
	sll(p, 0x8100);
	tag(p, 7, 0x86dd);
	ip6_tcp(p, 2);
}

static void b_sll2_v6(struct pb *p)
{
	sll2(p, 0x86dd);
	ip6_tcp(p, 10);
}

static void b_sll_arp(struct pb *p)
{
	sll(p, 0x0806);
	putz(p, 28);
}

static void b_raw_v4(struct pb *p)
{
	ip4_udp(p, 6);
}

static void b_raw_v6(struct pb *p)
{
	ip6_tcp(p, 6);
}

static void b_null_le(struct pb *p)
{
	put32(p, 0x02000000); /* AF_INET written little-endian */
	ip4_udp(p, 3);
}

static void b_null_be(struct pb *p)
{
	put32(p, 30); /* AF_INET6 on Darwin, big-endian */
	ip6_tcp(p, 3);
}

static void b_null_other(struct pb *p)
{
	put32(p, 0x07000000);
	putz(p, 20);
}

static void b_ip4_options(struct pb *p)
{
	/* NOP, record route (11 bytes: type, len, pointer, two slots), EOL, then padding that
	 * would not parse as options. */
	static const uint8_t opts[16] = {1, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x44, 0xff, 0xff};
	uint32_t ip, u;

	eth(p, 0x0800);
	ip = ip4_begin(p, 17, opts, sizeof(opts), 0);
	u = udp_begin(p);
	payload(p, 9);
	udp_end(p, u);
	ip4_end(p, ip);
}

static void b_ip4_first_frag(struct pb *p)
{
	uint32_t ip, u;

	eth(p, 0x0800);
	ip = ip4_begin(p, 17, NULL, 0, 0x2000);
	u = udp_begin(p);
	payload(p, 24);
	set16(p, u + 4, 3000); /* the whole datagram's length */
	ip4_end(p, ip);
}

static void b_ip4_later_frag(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x0800);
	ip = ip4_begin(p, 17, NULL, 0, 185); /* offset 1480, last */
	payload(p, 40);
	ip4_end(p, ip);
}

static void b_ip6_chain(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x86dd);
	ip = ip6_begin(p, 0);
	ext_opts(p, 43, 0);
	ext_routing(p, 60);
	ext_opts(p, 51, 1);
	ext_ah(p, 44);
	ext_frag(p, 6, 0, true, 0xdeadbeef);
	tcp_begin(p, 0x02, NULL, 0);
	payload(p, 7);
	ip6_end(p, ip);
}

static void b_ip6_later_frag(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x86dd);
	ip = ip6_begin(p, 44);
	ext_frag(p, 17, 1232, false, 0x01020304);
	payload(p, 30);
	ip6_end(p, ip);
}

static void b_ip6_atomic_frag(struct pb *p)
{
	uint32_t ip, u;

	eth(p, 0x86dd);
	ip = ip6_begin(p, 44);
	ext_frag(p, 17, 0, false, 9);
	u = udp_begin(p);
	payload(p, 5);
	udp_end(p, u);
	ip6_end(p, ip);
}

static void b_ip6_no_next(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x86dd);
	ip = ip6_begin(p, 60);
	ext_opts(p, 59, 0);
	ip6_end(p, ip);
}

static void b_icmp(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x0800);
	ip = ip4_begin(p, 1, NULL, 0, 0);
	icmp_echo(p, 8);
	payload(p, 56);
	ip4_end(p, ip);
}

static void b_icmp6(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x86dd);
	ip = ip6_begin(p, 58);
	icmp_echo(p, 128);
	payload(p, 16);
	ip6_end(p, ip);
}

static void b_gre(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x0800);
	ip = ip4_begin(p, 47, NULL, 0, 0);
	payload(p, 8);
	ip4_end(p, ip);
}

static void b_icmp_over_v6(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x86dd);
	ip = ip6_begin(p, 1); /* protocol 1 is not ICMPv6: another protocol */
	icmp_echo(p, 8);
	ip6_end(p, ip);
}

static void b_icmp6_over_v4(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x0800);
	ip = ip4_begin(p, 58, NULL, 0, 0);
	icmp_echo(p, 128);
	ip4_end(p, ip);
}

static void b_udp_len_trims(struct pb *p)
{
	eth_ip4_udp(p, 10);
	set16(p, 14 + 20 + 4, 8 + 4); /* 6 bytes after the datagram, inside the IP payload */
}

static void b_tcp_odd_known_options(struct pb *p)
{
	/* MSS of length 3, SACK of 14, timestamps of 6, window scale of 2: skipped by length,
	 * as Linux does. */
	static const uint8_t opts[28] = {2, 3, 0x05, 5, 14, 0, 0, 0, 1, 0, 0, 0, 2, 0,
					 0, 0, 3,    8, 6,  1, 2, 3, 4, 3, 2, 0, 0, 0};

	eth_ip4_tcp(p, opts, sizeof(opts), 1);
}

static void b_sll_vlan_llc(struct pb *p)
{
	sll(p, 0x8100);
	tag(p, 7, 40); /* inside a restored tag the frame's own type field: an 802.3 length */
	putz(p, 40);
}

static void b_sll_linux_proto(struct pb *p)
{
	sll(p, 0x0004); /* ETH_P_802_2: a Linux protocol number, not an 802.3 length */
	putz(p, 30);
}

static void b_arp(struct pb *p)
{
	eth(p, 0x0806);
	put16(p, 1);
	put16(p, 0x0800);
	put8(p, 6);
	put8(p, 4);
	put16(p, 1);
	putn(p, mac_a, 6);
	putn(p, v4_src, 4);
	putz(p, 6);
	putn(p, v4_dst, 4);
	putz(p, 18); /* padding to 60 */
}

static void b_llc(struct pb *p)
{
	eth(p, 46);
	put8(p, 0x42);
	put8(p, 0x42);
	put8(p, 0x03);
	putz(p, 43);
}

static void b_padded(struct pb *p)
{
	eth_ip4_udp(p, 4); /* 46 bytes */
	putz(p, 60 - p->n);
}

static void b_padded_tcp(struct pb *p)
{
	eth_ip4_tcp(p, NULL, 0, 0); /* 54 bytes, then padding and an FCS-like trailer */
	putz(p, 10);
}

/* ---- malformed packets: a valid one, then one field broken ---- */

static void m_eth_short(struct pb *p)
{
	putn(p, mac_a, 6);
	putn(p, mac_b, 4);
}

static void m_vlan_short(struct pb *p)
{
	eth(p, 0x8100);
	put16(p, 5);
}

static void m_sll_short(struct pb *p)
{
	sll(p, 0x0800);
	p->n = 15;
}

static void m_sll2_short(struct pb *p)
{
	sll2(p, 0x0800);
	p->n = 12;
}

static void m_null_short(struct pb *p)
{
	put16(p, 2);
}

static void m_raw_short(struct pb *p)
{
	(void)p;
}

static void m_raw_bad_version(struct pb *p)
{
	ip4_udp(p, 4);
	p->b[0] = 0x55;
}

static void m_ip4_short(struct pb *p)
{
	eth(p, 0x0800);
	put8(p, 0x45);
	putz(p, 9);
}

static void m_ip4_short_ihl(struct pb *p)
{
	eth(p, 0x0800);
	ip4_begin(p, 17, NULL, 0, 0);
	p->b[14] = 0x4f; /* 60-byte header, 20 present */
	set16(p, 16, 20);
}

static void m_ip4_bad_version(struct pb *p)
{
	eth_ip4_udp(p, 4);
	p->b[14] = 0x65;
}

static void m_ip4_bad_ihl(struct pb *p)
{
	eth_ip4_udp(p, 4);
	p->b[14] = 0x44;
}

static void m_ip4_bad_total_length(struct pb *p)
{
	eth_ip4_udp(p, 4);
	set16(p, 16, 19);
}

static void m_ip4_truncated(struct pb *p)
{
	eth_ip4_udp(p, 4);
	set16(p, 16, 200);
}

static void m_ip4_opt_zero_len(struct pb *p)
{
	static const uint8_t opts[4] = {1, 0x44, 0, 0}; /* timestamp option of length 0 */

	eth(p, 0x0800);
	ip4_end(p, ip4_begin(p, 17, opts, sizeof(opts), 0));
}

static void m_ip4_opt_len_one(struct pb *p)
{
	static const uint8_t opts[4] = {0x44, 1, 0, 0};

	eth(p, 0x0800);
	ip4_end(p, ip4_begin(p, 17, opts, sizeof(opts), 0));
}

static void m_ip4_opt_overrun(struct pb *p)
{
	static const uint8_t opts[8] = {1, 1, 7, 7, 4, 0, 0, 0}; /* record route of 7 in 6 */

	eth(p, 0x0800);
	ip4_end(p, ip4_begin(p, 17, opts, sizeof(opts), 0));
}

static void m_ip4_opt_no_len(struct pb *p)
{
	static const uint8_t opts[4] = {1, 1, 1, 7}; /* record route with no length byte */

	eth(p, 0x0800);
	ip4_end(p, ip4_begin(p, 17, opts, sizeof(opts), 0));
}

static void m_ip6_short(struct pb *p)
{
	eth(p, 0x86dd);
	ip6_begin(p, 6);
	p->n -= 8;
}

static void m_ip6_bad_version(struct pb *p)
{
	eth(p, 0x86dd);
	ip6_tcp(p, 4);
	p->b[14] = 0x40;
}

static void m_ip6_truncated(struct pb *p)
{
	eth(p, 0x86dd);
	ip6_tcp(p, 4);
	set16(p, 18, 100);
}

static void m_ip6_ext_overrun(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x86dd);
	ip = ip6_begin(p, 60);
	ext_opts(p, 6, 0);
	ip6_end(p, ip);
	p->b[14 + 40 + 1] = 3; /* 32 bytes claimed, 8 there */
}

static void m_ip6_hbh_not_first(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x86dd);
	ip = ip6_begin(p, 60);
	ext_opts(p, 0, 0);
	ext_opts(p, 59, 0);
	ip6_end(p, ip);
}

static void m_ip6_bad_tlv(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x86dd);
	ip = ip6_begin(p, 0);
	ext_opts(p, 59, 0);
	ip6_end(p, ip);
	p->b[14 + 40 + 3] = 5; /* PadN of 5 in a 6-byte option area */
}

static void m_ip6_too_many(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x86dd);
	ip = ip6_begin(p, 60);
	for (int i = 0; i < 8; i++)
		ext_opts(p, 60, 0);
	ext_opts(p, 59, 0);
	ip6_end(p, ip);
}

static void m_tcp_short(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x0800);
	ip = ip4_begin(p, 6, NULL, 0, 0);
	payload(p, 19);
	ip4_end(p, ip);
}

static void m_tcp_doff_low(struct pb *p)
{
	eth_ip4_tcp(p, NULL, 0, 8);
	p->b[14 + 20 + 12] = 0x40;
}

static void m_tcp_doff_high(struct pb *p)
{
	eth_ip4_tcp(p, NULL, 0, 8);
	p->b[14 + 20 + 12] = 0xf0; /* 60-byte header in a 28-byte segment */
}

static void m_tcp_opt_zero_len(struct pb *p)
{
	static const uint8_t opts[8] = {2, 4, 0x05, 0xb4, 253, 0, 0, 0};

	eth_ip4_tcp(p, opts, sizeof(opts), 3);
}

static void m_tcp_opt_overrun(struct pb *p)
{
	static const uint8_t opts[8] = {2, 4, 0x05, 0xb4, 1, 8, 10, 0}; /* timestamp of 10 in 3 */

	eth_ip4_tcp(p, opts, sizeof(opts), 3);
}

static void m_tcp_opt_overrun_end(struct pb *p)
{
	static const uint8_t opts[8] = {1, 1, 1, 1, 1, 1, 2, 4}; /* MSS of 4 in 2, at the end */

	eth_ip4_tcp(p, opts, sizeof(opts), 0);
}

static void m_udp_short(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x0800);
	ip = ip4_begin(p, 17, NULL, 0, 0);
	payload(p, 7);
	ip4_end(p, ip);
}

static void m_udp_len_low(struct pb *p)
{
	eth_ip4_udp(p, 4);
	set16(p, 14 + 20 + 4, 7);
}

static void m_udp_len_high(struct pb *p)
{
	eth_ip4_udp(p, 4);
	set16(p, 14 + 20 + 4, 13);
}

static void m_icmp_short(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x0800);
	ip = ip4_begin(p, 1, NULL, 0, 0);
	put8(p, 8);
	putz(p, 3);
	ip4_end(p, ip);
}

static void m_icmp6_short(struct pb *p)
{
	uint32_t ip;

	eth(p, 0x86dd);
	ip = ip6_begin(p, 58);
	putz(p, 7);
	ip6_end(p, ip);
}

/* ---- the case table ---- */

#define LINK_UNKNOWN 147 /* LINKTYPE_USER0 */
#define C(id)	     RC_CTR_DECODE_##id

struct tcase {
	const char *name;
	uint32_t link;
	void (*build)(struct pb *);
	enum rc_ctr want;
	uint32_t snap; /* bytes at the end on the wire but not captured */
};

static const struct tcase cases[] = {
	{"tcp-syn-options", RC_LINK_EN10MB, b_tcp_syn, C(TCP)},
	{"tcp-sack", RC_LINK_EN10MB, b_tcp_sack, C(TCP)},
	{"tcp-data", RC_LINK_EN10MB, b_tcp_data, C(TCP)},
	{"tcp-snap-payload", RC_LINK_EN10MB, b_tcp_data, C(TCP), 60},
	{"tcp-snap-header", RC_LINK_EN10MB, b_tcp_syn, C(SNAP_TRUNCATED), 20},
	{"udp", RC_LINK_EN10MB, b_udp, C(UDP)},
	{"vlan", RC_LINK_EN10MB, b_one_tag, C(UDP)},
	{"qinq-88a8", RC_LINK_EN10MB, b_qinq, C(UDP)},
	{"qinq-9100-v6", RC_LINK_EN10MB, b_qinq_9100, C(TCP)},
	{"sll-v4", RC_LINK_LINUX_SLL, b_sll_v4, C(UDP)},
	{"sll-vlan-v6", RC_LINK_LINUX_SLL, b_sll_vlan, C(TCP)},
	{"sll2-v6", RC_LINK_LINUX_SLL2, b_sll2_v6, C(TCP)},
	{"sll-arp", RC_LINK_LINUX_SLL, b_sll_arp, C(ETH_NON_IP)},
	{"raw-v4", RC_LINK_RAW, b_raw_v4, C(UDP)},
	{"raw-v6", RC_LINK_RAW, b_raw_v6, C(TCP)},
	{"ipv4-link", RC_LINK_IPV4, b_raw_v4, C(UDP)},
	{"ipv6-link", RC_LINK_IPV6, b_raw_v6, C(TCP)},
	{"null-le", RC_LINK_NULL, b_null_le, C(UDP)},
	{"null-be-v6", RC_LINK_NULL, b_null_be, C(TCP)},
	{"null-other", RC_LINK_NULL, b_null_other, C(ETH_NON_IP)},
	{"ipv4-options", RC_LINK_EN10MB, b_ip4_options, C(UDP)},
	{"ipv4-first-frag", RC_LINK_EN10MB, b_ip4_first_frag, C(UDP)},
	{"ipv4-later-frag", RC_LINK_EN10MB, b_ip4_later_frag, C(IPV4_FRAGMENT)},
	{"ipv6-chain", RC_LINK_EN10MB, b_ip6_chain, C(TCP)},
	{"ipv6-later-frag", RC_LINK_EN10MB, b_ip6_later_frag, C(IPV6_FRAGMENT)},
	{"ipv6-atomic-frag", RC_LINK_EN10MB, b_ip6_atomic_frag, C(UDP)},
	{"ipv6-no-next", RC_LINK_EN10MB, b_ip6_no_next, C(IP_OTHER_PROTO)},
	{"icmp-echo", RC_LINK_EN10MB, b_icmp, C(ICMP)},
	{"icmpv6-echo", RC_LINK_EN10MB, b_icmp6, C(ICMPV6)},
	{"gre", RC_LINK_EN10MB, b_gre, C(IP_OTHER_PROTO)},
	{"icmp-over-v6", RC_LINK_EN10MB, b_icmp_over_v6, C(IP_OTHER_PROTO)},
	{"icmpv6-over-v4", RC_LINK_EN10MB, b_icmp6_over_v4, C(IP_OTHER_PROTO)},
	{"udp-len-trims", RC_LINK_EN10MB, b_udp_len_trims, C(UDP)},
	{"tcp-odd-known-options", RC_LINK_EN10MB, b_tcp_odd_known_options, C(TCP)},
	{"sll-vlan-llc", RC_LINK_LINUX_SLL, b_sll_vlan_llc, C(ETH_LLC)},
	{"sll-linux-proto", RC_LINK_LINUX_SLL, b_sll_linux_proto, C(ETH_NON_IP)},
	{"arp", RC_LINK_EN10MB, b_arp, C(ETH_NON_IP)},
	{"llc", RC_LINK_EN10MB, b_llc, C(ETH_LLC)},
	{"padded-udp", RC_LINK_EN10MB, b_padded, C(UDP)},
	{"padded-tcp", RC_LINK_EN10MB, b_padded_tcp, C(TCP)},
	{"unknown-link", LINK_UNKNOWN, b_udp, C(LINK_UNSUPPORTED)},

	{"eth-short", RC_LINK_EN10MB, m_eth_short, C(ETH_SHORT)},
	{"vlan-short", RC_LINK_EN10MB, m_vlan_short, C(VLAN_SHORT)},
	{"vlan-three-tags", RC_LINK_EN10MB, b_three_tags, C(VLAN_TOO_MANY_TAGS)},
	{"sll-short", RC_LINK_LINUX_SLL, m_sll_short, C(SLL_SHORT)},
	{"sll2-short", RC_LINK_LINUX_SLL2, m_sll2_short, C(SLL2_SHORT)},
	{"null-short", RC_LINK_NULL, m_null_short, C(NULL_SHORT)},
	{"raw-short", RC_LINK_RAW, m_raw_short, C(RAW_SHORT)},
	{"raw-bad-version", RC_LINK_RAW, m_raw_bad_version, C(RAW_BAD_VERSION)},
	{"ipv4-short", RC_LINK_EN10MB, m_ip4_short, C(IPV4_SHORT_HEADER)},
	{"ipv4-short-ihl", RC_LINK_EN10MB, m_ip4_short_ihl, C(IPV4_SHORT_HEADER)},
	{"ipv4-bad-version", RC_LINK_EN10MB, m_ip4_bad_version, C(IPV4_BAD_VERSION)},
	{"ipv4-link-v6", RC_LINK_IPV4, b_raw_v6, C(IPV4_BAD_VERSION)},
	{"ipv4-bad-ihl", RC_LINK_EN10MB, m_ip4_bad_ihl, C(IPV4_BAD_IHL)},
	{"ipv4-bad-total-length", RC_LINK_EN10MB, m_ip4_bad_total_length, C(IPV4_BAD_TOTAL_LENGTH)},
	{"ipv4-truncated", RC_LINK_EN10MB, m_ip4_truncated, C(IPV4_TRUNCATED)},
	{"ipv4-opt-zero-len", RC_LINK_EN10MB, m_ip4_opt_zero_len, C(IPV4_BAD_OPTIONS)},
	{"ipv4-opt-len-one", RC_LINK_EN10MB, m_ip4_opt_len_one, C(IPV4_BAD_OPTIONS)},
	{"ipv4-opt-overrun", RC_LINK_EN10MB, m_ip4_opt_overrun, C(IPV4_BAD_OPTIONS)},
	{"ipv4-opt-no-len", RC_LINK_EN10MB, m_ip4_opt_no_len, C(IPV4_BAD_OPTIONS)},
	{"ipv6-short", RC_LINK_EN10MB, m_ip6_short, C(IPV6_SHORT_HEADER)},
	{"ipv6-bad-version", RC_LINK_EN10MB, m_ip6_bad_version, C(IPV6_BAD_VERSION)},
	{"ipv6-link-v4", RC_LINK_IPV6, b_raw_v4, C(IPV6_BAD_VERSION)},
	{"ipv6-truncated", RC_LINK_EN10MB, m_ip6_truncated, C(IPV6_TRUNCATED)},
	{"ipv6-ext-overrun", RC_LINK_EN10MB, m_ip6_ext_overrun, C(IPV6_BAD_EXT_HEADER)},
	{"ipv6-hbh-not-first", RC_LINK_EN10MB, m_ip6_hbh_not_first, C(IPV6_BAD_EXT_HEADER)},
	{"ipv6-bad-tlv", RC_LINK_EN10MB, m_ip6_bad_tlv, C(IPV6_BAD_EXT_HEADER)},
	{"ipv6-too-many-ext", RC_LINK_EN10MB, m_ip6_too_many, C(IPV6_TOO_MANY_EXT_HEADERS)},
	{"tcp-short", RC_LINK_EN10MB, m_tcp_short, C(TCP_SHORT_HEADER)},
	{"tcp-doff-low", RC_LINK_EN10MB, m_tcp_doff_low, C(TCP_BAD_DATA_OFFSET)},
	{"tcp-doff-high", RC_LINK_EN10MB, m_tcp_doff_high, C(TCP_BAD_DATA_OFFSET)},
	{"tcp-opt-zero-len", RC_LINK_EN10MB, m_tcp_opt_zero_len, C(TCP_BAD_OPTIONS)},
	{"tcp-opt-overrun", RC_LINK_EN10MB, m_tcp_opt_overrun, C(TCP_BAD_OPTIONS)},
	{"tcp-opt-overrun-end", RC_LINK_EN10MB, m_tcp_opt_overrun_end, C(TCP_BAD_OPTIONS)},
	{"udp-short", RC_LINK_EN10MB, m_udp_short, C(UDP_SHORT_HEADER)},
	{"udp-len-low", RC_LINK_EN10MB, m_udp_len_low, C(UDP_BAD_LENGTH)},
	{"udp-len-high", RC_LINK_EN10MB, m_udp_len_high, C(UDP_BAD_LENGTH)},
	{"icmp-short", RC_LINK_EN10MB, m_icmp_short, C(ICMP_SHORT_HEADER)},
	{"icmpv6-short", RC_LINK_EN10MB, m_icmp6_short, C(ICMPV6_SHORT_HEADER)},
};

/* ---- the over-read trap ---- */

static uint8_t *trap;	 /* two pages, the second PROT_NONE */
static size_t trap_page; /* page size */

static int trap_setup(void **state)
{
	(void)state;
	trap_page = (size_t)sysconf(_SC_PAGESIZE);
	trap = mmap(NULL, 2 * trap_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	if (trap == MAP_FAILED)
		return -1;
	return mprotect(trap + trap_page, trap_page, PROT_NONE);
}

static int trap_teardown(void **state)
{
	(void)state;
	return munmap(trap, 2 * trap_page);
}

static const char *ctr_name(enum rc_ctr c)
{
	return c < RC_CTR__COUNT ? rc_ctr_descs[c].name : "(not a counter)";
}

static bool is_outcome(enum rc_ctr c)
{
	switch (c) {
#define OUTCOME_CASE(id, name, kind, unit, help) case RC_CTR_##id:
		RC_CTRS_DECODE_OK(OUTCOME_CASE)
		RC_CTRS_DECODE_OTHER(OUTCOME_CASE)
		RC_CTRS_DECODE_ERR(OUTCOME_CASE)
#undef OUTCOME_CASE
		return true;
	default:
		return false;
	}
}

/* Decode `caplen` bytes placed so that the byte after them is unmapped; check what must hold. */
static enum rc_ctr decode_trapped(const uint8_t *bytes, uint32_t caplen, uint32_t wirelen,
				  uint32_t link, struct rc_decoded *d)
{
	uint8_t *at = trap + trap_page - caplen;
	struct rc_packet pkt = {.data = at, .caplen = caplen, .wirelen = wirelen, .linktype = link};
	enum rc_ctr r;

	assert_true(caplen <= trap_page);
	memcpy(at, bytes, caplen);
	r = rc_decode(&pkt, d);
	assert_true(is_outcome(r));
	if (d->payload != NULL) {
		assert_true(d->payload >= at);
		assert_true(d->payload + d->payload_caplen <= at + caplen);
		assert_true(d->payload_caplen <= d->payload_len);
	} else {
		assert_int_equal(d->payload_caplen, 0);
	}
	if (d->l4_ok)
		assert_int_not_equal(d->l3, RC_L3_NONE);
	assert_true(d->vlan_count <= RC_MAX_VLAN);
	assert_true(d->tcp_opt.sack_count <= RC_MAX_SACK);
	return r;
}

static uint32_t build(const struct tcase *c, struct pb *p)
{
	memset(p, 0, sizeof(*p));
	c->build(p);
	return p->n - c->snap;
}

static enum rc_ctr decode_case(const struct tcase *c, struct rc_decoded *d)
{
	struct pb p;
	uint32_t caplen = build(c, &p);

	return decode_trapped(p.b, caplen, p.n, c->link, d);
}

static const struct tcase *find_case(const char *name)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(cases[i].name, name) == 0)
			return &cases[i];
	fail_msg("no case %s", name);
	return NULL;
}

static void expect_case(const char *name, enum rc_ctr want, struct rc_decoded *d)
{
	enum rc_ctr got = decode_case(find_case(name), d);

	if (got != want)
		fail_msg("%s: got %s, want %s", name, ctr_name(got), ctr_name(want));
}

/* ---- tests ---- */

/* Every case gives its outcome, and every prefix of it decodes inside the trap. A prefix cut by
 * the snap length (the wire still has the rest) of a valid packet is never an error. */
static void test_all_cases_and_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		bool valid = !rc_decode_is_error(c->want);
		struct rc_decoded d;
		struct pb p;
		enum rc_ctr got;

		build(c, &p);
		got = decode_case(c, &d);
		if (got != c->want)
			fail_msg("%s: got %s, want %s", c->name, ctr_name(got), ctr_name(c->want));
		for (uint32_t k = 0; k <= p.n; k++) {
			got = decode_trapped(p.b, k, p.n, c->link, &d);
			if (valid && rc_decode_is_error(got))
				fail_msg("%s cut by snap at %u: %s", c->name, k, ctr_name(got));
			decode_trapped(p.b, k, k, c->link, &d);
		}
	}
}

/* Every outcome counter is reached by some case, so each malformed reason has its test. */
static void test_every_outcome_has_a_case(void **state)
{
	static const enum rc_ctr outcomes[] = {
#define OUTCOME_ID(id, name, kind, unit, help) RC_CTR_##id,
		RC_CTRS_DECODE_OK(OUTCOME_ID) RC_CTRS_DECODE_OTHER(OUTCOME_ID)
			RC_CTRS_DECODE_ERR(OUTCOME_ID)
#undef OUTCOME_ID
	};

	(void)state;
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		bool found = false;

		for (size_t j = 0; j < sizeof(cases) / sizeof(cases[0]); j++)
			found |= cases[j].want == outcomes[i];
		if (!found)
			fail_msg("no case for %s", ctr_name(outcomes[i]));
		assert_true(strncmp(ctr_name(outcomes[i]), "decode.", 7) == 0);
	}
}

static void test_is_error(void **state)
{
	(void)state;
#define EXPECT_OK(id, name, kind, unit, help)  assert_false(rc_decode_is_error(RC_CTR_##id));
#define EXPECT_ERR(id, name, kind, unit, help) assert_true(rc_decode_is_error(RC_CTR_##id));
	RC_CTRS_DECODE_OK(EXPECT_OK)
	RC_CTRS_DECODE_OTHER(EXPECT_OK)
	RC_CTRS_DECODE_ERR(EXPECT_ERR)
#undef EXPECT_OK
#undef EXPECT_ERR
	assert_false(rc_decode_is_error(RC_CTR_DECODE_PACKETS));
	assert_true(rc_decode_is_error(C(IPV4_BAD_IHL)));
	assert_true(rc_decode_is_error(C(TCP_BAD_OPTIONS)));
	assert_true(rc_decode_is_error(C(VLAN_TOO_MANY_TAGS)));
	assert_false(rc_decode_is_error(C(SNAP_TRUNCATED)));
	assert_false(rc_decode_is_error(C(IPV4_FRAGMENT)));
	assert_false(rc_decode_is_error(C(ETH_NON_IP)));
	assert_false(rc_decode_is_error(C(LINK_UNSUPPORTED)));
}

static void test_eth_ipv4_tcp_syn_options(void **state)
{
	struct rc_decoded d;
	uint8_t zero[12] = {0};

	(void)state;
	expect_case("tcp-syn-options", C(TCP), &d);
	assert_int_equal(d.vlan_count, 0);
	assert_int_equal(d.ethertype, 0x0800);
	assert_int_equal(d.l3, RC_L3_IPV4);
	assert_int_equal(d.ip_proto, 6);
	assert_int_equal(d.ttl, 64);
	assert_memory_equal(d.src, v4_src, 4);
	assert_memory_equal(d.dst, v4_dst, 4);
	assert_memory_equal(d.src + 4, zero, 12);
	assert_memory_equal(d.dst + 4, zero, 12);
	assert_int_equal(d.ip_len, 20 + 20 + 28);
	assert_false(d.is_fragment);
	assert_false(d.is_first_fragment);
	assert_true(d.l4_ok);
	assert_int_equal(d.sport, 40000);
	assert_int_equal(d.dport, 80);
	assert_int_equal(d.seq, 0x11223344);
	assert_int_equal(d.ack, 0x55667788);
	assert_int_equal(d.tcp_flags, RC_TCP_PSH | RC_TCP_ACK);
	assert_int_equal(d.window, 29200);
	assert_int_equal(d.tcp_opt.mss, 1460);
	assert_true(d.tcp_opt.has_wscale);
	assert_int_equal(d.tcp_opt.wscale, 7);
	assert_true(d.tcp_opt.sack_permitted);
	assert_true(d.tcp_opt.has_timestamps);
	assert_int_equal(d.tcp_opt.tsval, 0xdeadbeef);
	assert_int_equal(d.tcp_opt.tsecr, 0x01020304);
	assert_int_equal(d.tcp_opt.sack_count, 0);
	assert_int_equal(d.payload_len, 0);
	assert_int_equal(d.payload_caplen, 0);
	assert_ptr_equal(d.payload, trap + trap_page); /* right after the header, the frame's end */
}

static void test_tcp_sack_blocks(void **state)
{
	struct rc_decoded d;

	(void)state;
	expect_case("tcp-sack", C(TCP), &d);
	assert_int_equal(d.tcp_opt.sack_count, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(d.tcp_opt.sack[i].left, 2 * i + 1);
		assert_int_equal(d.tcp_opt.sack[i].right, 2 * i + 2);
	}
	assert_int_equal(d.tcp_opt.mss, 0);
	assert_false(d.tcp_opt.has_timestamps);
	assert_int_equal(d.payload_len, 5);
	assert_int_equal(d.payload_caplen, 5);
	assert_memory_equal(d.payload, "abcde", 5);
}

static void test_tcp_bad_options_still_decodes(void **state)
{
	struct rc_decoded d;

	(void)state;
	expect_case("tcp-opt-overrun", C(TCP_BAD_OPTIONS), &d);
	assert_true(d.l4_ok);
	assert_int_equal(d.tcp_opt.mss, 1460); /* the option before the bad one */
	assert_false(d.tcp_opt.has_timestamps);
	assert_int_equal(d.payload_len, 3);
	assert_memory_equal(d.payload, "abc", 3);
}

static void test_odd_but_valid(void **state)
{
	struct rc_decoded d;

	(void)state;
	expect_case("tcp-odd-known-options", C(TCP), &d);
	assert_int_equal(d.tcp_opt.mss, 0);
	assert_int_equal(d.tcp_opt.sack_count, 0);
	assert_false(d.tcp_opt.has_timestamps);
	assert_false(d.tcp_opt.has_wscale);
	assert_int_equal(d.payload_len, 1);
	expect_case("udp-len-trims", C(UDP), &d);
	assert_int_equal(d.payload_len, 4);
	assert_int_equal(d.payload_caplen, 4);
	expect_case("icmpv6-over-v4", C(IP_OTHER_PROTO), &d);
	assert_false(d.l4_ok);
	expect_case("sll-linux-proto", C(ETH_NON_IP), &d);
	assert_int_equal(d.ethertype, 4);
}

static void test_vlan_tags(void **state)
{
	struct rc_decoded d;

	(void)state;
	expect_case("vlan", C(UDP), &d);
	assert_int_equal(d.vlan_count, 1);
	assert_int_equal(d.vlan[0], 42);
	assert_int_equal(d.vlan_tpid[0], 0x8100);

	expect_case("qinq-88a8", C(UDP), &d);
	assert_int_equal(d.vlan_count, 2);
	assert_int_equal(d.vlan[0], 100); /* the priority bits are not part of the id */
	assert_int_equal(d.vlan_tpid[0], 0x88a8);
	assert_int_equal(d.vlan[1], 200);
	assert_int_equal(d.vlan_tpid[1], 0x8100);
	assert_int_equal(d.ethertype, 0x0800);
	assert_int_equal(d.payload_len, 4);

	expect_case("qinq-9100-v6", C(TCP), &d);
	assert_int_equal(d.vlan_count, 2);
	assert_int_equal(d.vlan[0], 4094);
	assert_int_equal(d.vlan_tpid[0], 0x9100);
	assert_int_equal(d.vlan[1], 1);
	assert_int_equal(d.vlan_tpid[1], 0x8100);
	assert_int_equal(d.ethertype, 0x86dd);
	assert_int_equal(d.l3, RC_L3_IPV6);

	expect_case("vlan-three-tags", C(VLAN_TOO_MANY_TAGS), &d);
	assert_int_equal(d.vlan_count, 2);
	assert_int_equal(d.l3, RC_L3_NONE);
}

static void test_cooked_raw_null(void **state)
{
	struct rc_decoded d;

	(void)state;
	expect_case("sll-v4", C(UDP), &d);
	assert_memory_equal(d.src, v4_src, 4);
	assert_int_equal(d.sport, 5353);
	assert_int_equal(d.dport, 53);
	assert_int_equal(d.payload_len, 4);

	expect_case("sll-vlan-v6", C(TCP), &d);
	assert_int_equal(d.vlan_count, 1);
	assert_int_equal(d.vlan[0], 7);

	expect_case("sll2-v6", C(TCP), &d);
	assert_int_equal(d.l3, RC_L3_IPV6);
	assert_memory_equal(d.src, v6_src, 16);
	assert_memory_equal(d.dst, v6_dst, 16);
	assert_int_equal(d.ttl, 57);
	assert_int_equal(d.ip_len, 40 + 20 + 10);
	assert_int_equal(d.payload_len, 10);

	expect_case("raw-v4", C(UDP), &d);
	assert_int_equal(d.ethertype, 0x0800);
	assert_int_equal(d.payload_len, 6);
	expect_case("raw-v6", C(TCP), &d);
	assert_int_equal(d.ethertype, 0x86dd);
	assert_int_equal(d.sport, 40000);
	assert_int_equal(d.payload_len, 6);
	expect_case("ipv4-link", C(UDP), &d);
	expect_case("ipv6-link", C(TCP), &d);
	expect_case("null-le", C(UDP), &d);
	expect_case("null-be-v6", C(TCP), &d);
}

static void test_ipv4_options_and_fragments(void **state)
{
	struct rc_decoded d;

	(void)state;
	expect_case("ipv4-options", C(UDP), &d);
	assert_int_equal(d.ip_len, 36 + 8 + 9);
	assert_int_equal(d.payload_len, 9);
	assert_memory_equal(d.payload, "abcdefghi", 9);

	expect_case("ipv4-first-frag", C(UDP), &d);
	assert_true(d.is_fragment);
	assert_true(d.is_first_fragment);
	assert_int_equal(d.frag_offset, 0);
	assert_int_equal(d.frag_id, 0x1234);
	assert_true(d.l4_ok);
	assert_int_equal(d.dport, 53);
	assert_int_equal(d.payload_len, 24); /* what this fragment holds */
	assert_int_equal(d.payload_caplen, 24);

	expect_case("ipv4-later-frag", C(IPV4_FRAGMENT), &d);
	assert_int_equal(d.l3, RC_L3_IPV4);
	assert_true(d.is_fragment);
	assert_false(d.is_first_fragment);
	assert_int_equal(d.frag_offset, 1480);
	assert_int_equal(d.ip_proto, 17);
	assert_false(d.l4_ok);
	assert_int_equal(d.sport, 0);
	assert_int_equal(d.payload_len, 40);
	assert_memory_equal(d.payload, "abcd", 4);
}

static void test_ipv6_ext_chain(void **state)
{
	struct rc_decoded d;

	(void)state;
	expect_case("ipv6-chain", C(TCP), &d);
	assert_int_equal(d.l3, RC_L3_IPV6);
	assert_int_equal(d.ip_proto, 6);
	assert_int_equal(d.ip_len, 40 + 8 + 8 + 16 + 24 + 8 + 20 + 7);
	assert_true(d.is_fragment);
	assert_true(d.is_first_fragment);
	assert_int_equal(d.frag_id, 0xdeadbeef);
	assert_int_equal(d.frag_offset, 0);
	assert_true(d.l4_ok);
	assert_int_equal(d.tcp_flags, RC_TCP_SYN);
	assert_int_equal(d.payload_len, 7);
	assert_memory_equal(d.payload, "abcdefg", 7);

	expect_case("ipv6-later-frag", C(IPV6_FRAGMENT), &d);
	assert_true(d.is_fragment);
	assert_false(d.is_first_fragment);
	assert_int_equal(d.frag_offset, 1232);
	assert_int_equal(d.frag_id, 0x01020304);
	assert_int_equal(d.ip_proto, 17);
	assert_false(d.l4_ok);
	assert_int_equal(d.payload_len, 30);

	expect_case("ipv6-atomic-frag", C(UDP), &d);
	assert_false(d.is_fragment);
	assert_int_equal(d.frag_id, 9);

	expect_case("ipv6-no-next", C(IP_OTHER_PROTO), &d);
	assert_int_equal(d.ip_proto, 59);
	assert_int_equal(d.payload_len, 0);
}

static void test_icmp(void **state)
{
	struct rc_decoded d;

	(void)state;
	expect_case("icmp-echo", C(ICMP), &d);
	assert_int_equal(d.sport, 8); /* type */
	assert_int_equal(d.dport, 0); /* code */
	assert_true(d.l4_ok);
	assert_int_equal(d.payload_len, 56);

	expect_case("icmpv6-echo", C(ICMPV6), &d);
	assert_int_equal(d.sport, 128);
	assert_int_equal(d.dport, 0);
	assert_int_equal(d.payload_len, 16);
}

static void test_not_ours(void **state)
{
	struct rc_decoded d;

	(void)state;
	expect_case("arp", C(ETH_NON_IP), &d);
	assert_int_equal(d.ethertype, 0x0806);
	assert_int_equal(d.l3, RC_L3_NONE);
	assert_null(d.payload);
	expect_case("llc", C(ETH_LLC), &d);
	expect_case("unknown-link", C(LINK_UNSUPPORTED), &d);
	expect_case("gre", C(IP_OTHER_PROTO), &d);
	assert_int_equal(d.ip_proto, 47);
	assert_false(d.l4_ok);
	assert_int_equal(d.payload_len, 8);
}

static void test_padding_is_not_payload(void **state)
{
	struct rc_decoded d;

	(void)state;
	expect_case("padded-udp", C(UDP), &d);
	assert_int_equal(d.ip_len, 32);
	assert_int_equal(d.payload_len, 4);
	assert_int_equal(d.payload_caplen, 4);
	expect_case("padded-tcp", C(TCP), &d);
	assert_int_equal(d.payload_len, 0);
	assert_int_equal(d.payload_caplen, 0);
}

static void test_snap_truncation(void **state)
{
	struct rc_decoded d;

	(void)state;
	expect_case("tcp-snap-payload", C(TCP), &d);
	assert_false(rc_decode_is_error(C(TCP)));
	assert_int_equal(d.ip_len, 140);
	assert_int_equal(d.payload_len, 100);
	assert_int_equal(d.payload_caplen, 40);
	expect_case("tcp-snap-header", C(SNAP_TRUNCATED), &d);
}

/* A zero IPv4 total length (Linux TSO/BIG TCP) means "as long as the frame". */
static void test_ipv4_total_length_zero(void **state)
{
	struct rc_decoded d;
	struct pb p = {.n = 0};

	(void)state;
	eth_ip4_tcp(&p, NULL, 0, 30);
	set16(&p, 16, 0);
	assert_int_equal(decode_trapped(p.b, p.n, p.n, RC_LINK_EN10MB, &d), C(TCP));
	assert_int_equal(d.ip_len, 70);
	assert_int_equal(d.payload_len, 30);
}

static void write_corpus(const char *dir)
{
	/* The selector byte of fuzz-decode.c: its low 3 bits index this list. */
	static const uint32_t links[8] = {
		RC_LINK_EN10MB, RC_LINK_LINUX_SLL, RC_LINK_LINUX_SLL2, RC_LINK_RAW,
		RC_LINK_IPV4,	RC_LINK_IPV6,	   RC_LINK_NULL,       LINK_UNKNOWN,
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		char path[4096];
		struct pb p;
		uint8_t sel = 0;
		FILE *f;

		if (rc_decode_is_error(c->want) || c->want == C(LINK_UNSUPPORTED))
			continue;
		while (links[sel] != c->link)
			sel++;
		build(c, &p);
		snprintf(path, sizeof(path), "%s/%s", dir, c->name);
		f = fopen(path, "wb");
		if (!f) {
			perror(path);
			exit(1);
		}
		fputc(sel | (c->snap ? 0x80 : 0), f);
		fwrite(p.b, 1, p.n - c->snap, f);
		fclose(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_cases_and_prefixes),
		cmocka_unit_test(test_every_outcome_has_a_case),
		cmocka_unit_test(test_is_error),
		cmocka_unit_test(test_eth_ipv4_tcp_syn_options),
		cmocka_unit_test(test_tcp_sack_blocks),
		cmocka_unit_test(test_tcp_bad_options_still_decodes),
		cmocka_unit_test(test_odd_but_valid),
		cmocka_unit_test(test_vlan_tags),
		cmocka_unit_test(test_cooked_raw_null),
		cmocka_unit_test(test_ipv4_options_and_fragments),
		cmocka_unit_test(test_ipv6_ext_chain),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_padding_is_not_payload),
		cmocka_unit_test(test_snap_truncation),
		cmocka_unit_test(test_ipv4_total_length_zero),
	};
	const char *corpus = getenv("RC_DECODE_WRITE_CORPUS");

	if (corpus) {
		write_corpus(corpus);
		return 0;
	}
	return cmocka_run_group_tests(tests, trap_setup, trap_teardown);
}
