/* The dispatch hash: both directions, fragments and stripped VLAN tags land on one decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringcap/dispatch.h"

/* Ethernet (+ optional 802.1Q tag) + IPv4 + UDP between a:ap and b:bp, in a heap buffer of the
 * exact size so ASan catches any over-read. */
static uint8_t *ipv4_frame(const uint8_t a[4], const uint8_t b[4], uint16_t ap, uint16_t bp,
			   int vlan, uint16_t frag_off, uint32_t *len)
{
	uint8_t f[64] = {0};
	size_t off = 12;
	if (vlan >= 0) {
		f[off++] = 0x81;
		f[off++] = 0x00;
		f[off++] = (uint8_t)(vlan >> 8);
		f[off++] = (uint8_t)vlan;
	}
	f[off++] = 0x08;
	f[off++] = 0x00;
	uint8_t *ip = f + off;
	ip[0] = 0x45;
	ip[3] = 28;
	ip[6] = (uint8_t)(frag_off >> 8);
	ip[7] = (uint8_t)frag_off;
	ip[9] = 17;
	memcpy(ip + 12, a, 4);
	memcpy(ip + 16, b, 4);
	ip[20] = (uint8_t)(ap >> 8);
	ip[21] = (uint8_t)ap;
	ip[22] = (uint8_t)(bp >> 8);
	ip[23] = (uint8_t)bp;
	*len = (uint32_t)(off + 28);
	uint8_t *out = malloc(*len);
	memcpy(out, f, *len);
	return out;
}

static uint32_t hash_v4(const uint8_t a[4], const uint8_t b[4], uint16_t ap, uint16_t bp, int vlan,
			uint16_t frag_off, uint16_t outer_vlan)
{
	uint32_t len;
	uint8_t *frame = ipv4_frame(a, b, ap, bp, vlan, frag_off, &len);
	struct rc_packet p = {.data = frame, .caplen = len, .wirelen = len, .linktype = 1};
	uint32_t h = rc_dispatch_hash(&p, outer_vlan);
	free(frame);
	return h;
}

static const uint8_t A[4] = {198, 18, 0, 1}, B[4] = {198, 18, 0, 2}, C[4] = {198, 19, 7, 9};

static void test_both_directions(void **state)
{
	(void)state;
	uint32_t ab = hash_v4(A, B, 1000, 80, -1, 0, 0);
	uint32_t ba = hash_v4(B, A, 80, 1000, -1, 0, 0);
	uint32_t ac = hash_v4(A, C, 1000, 80, -1, 0, 0);
	assert_int_equal(ab, ba);
	assert_int_not_equal(ab, 0);
	assert_int_not_equal(ab, ac); /* fixed inputs: a collision here would be a broken hash */
}

static void test_fragments_follow_their_flow(void **state)
{
	(void)state;
	uint32_t first = hash_v4(A, B, 1000, 80, -1, 0x2000, 0);
	/* A later fragment: offset 185*8, no transport header (its bytes are payload). */
	uint32_t later = hash_v4(A, B, 0x4141, 0x4242, -1, 185, 0);
	assert_int_equal(first, later);
}

static void test_vlan_inline_or_stripped(void **state)
{
	(void)state;
	uint32_t inline_tag = hash_v4(A, B, 1, 2, 100, 0, 0);
	uint32_t stripped = hash_v4(A, B, 1, 2, -1, 0, 100);
	uint32_t reverse = hash_v4(B, A, 2, 1, -1, 0, 100);
	uint32_t other_vlan = hash_v4(A, B, 1, 2, 200, 0, 0);
	assert_int_equal(inline_tag, stripped);
	assert_int_equal(stripped, reverse);
	assert_int_not_equal(inline_tag, other_vlan);
}

static void test_ipv6_and_non_ip(void **state)
{
	(void)state;
	uint8_t f[14 + 40] = {0};
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1},
		b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	memcpy(f + 22, a, 16);
	memcpy(f + 38, b, 16);
	struct rc_packet p = {.data = f, .caplen = sizeof(f), .wirelen = sizeof(f), .linktype = 1};
	uint32_t ab = rc_dispatch_hash(&p, 0);
	memcpy(f + 22, b, 16);
	memcpy(f + 38, a, 16);
	assert_int_equal(rc_dispatch_hash(&p, 0), ab);
	assert_int_not_equal(ab, 0);

	f[12] = 0x08;
	f[13] = 0x06; /* ARP */
	assert_int_equal(rc_dispatch_hash(&p, 0), 0);
}

static void test_truncated_frames(void **state)
{
	(void)state;
	uint32_t len;
	uint8_t *full = ipv4_frame(A, B, 1, 2, 100, 0, &len);
	for (uint32_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, full, n);
		struct rc_packet p = {.data = cut, .caplen = n, .wirelen = len, .linktype = 1};
		uint32_t h = rc_dispatch_hash(&p, 0);
		if (n < 14 + 4 + 20)
			assert_int_equal(h, 0); /* addresses not all there: decoder 0 */
		free(cut);
	}
	free(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions),
		cmocka_unit_test(test_fragments_follow_their_flow),
		cmocka_unit_test(test_vlan_inline_or_stripped),
		cmocka_unit_test(test_ipv6_and_non_ip),
		cmocka_unit_test(test_truncated_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
