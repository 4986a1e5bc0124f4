/* BPF filters: compiled by libpcap per link type, applied to packets, errors that say what. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ringcap/filter.h"

/* Ethernet + IPv4 + UDP 198.18.0.1:1000 -> 198.18.0.2:53, no payload. */
static const uint8_t eth_udp[] = {
	0x02, 0,    0,	  0,	0, 2, 0x02, 0, 0,  0,  0, 1, 0x08, 0x00, /* Ethernet */
	0x45, 0,    0,	  28,	0, 1, 0,    0, 64, 17, 0, 0, 198,  18,
	0,    1,    198,  18,	0, 2,	       /* IPv4 */
	0x03, 0xe8, 0x00, 0x35, 0, 8, 0,    0, /* UDP */
};

static struct rc_packet packet(const uint8_t *data, uint32_t len, uint32_t linktype)
{
	struct rc_packet p = {.data = data, .caplen = len, .wirelen = len, .linktype = linktype};
	return p;
}

static void test_match_and_reject(void **state)
{
	(void)state;
	struct rc_filter *f;
	char err[512];
	assert_int_equal(rc_filter_new(&f, "udp port 53", 0), 0);
	assert_int_equal(rc_filter_prepare(f, 1, err, sizeof(err)), 0);
	struct rc_packet p = packet(eth_udp, sizeof(eth_udp), 1);
	assert_true(rc_filter_match(f, &p));
	rc_filter_free(f);

	assert_int_equal(rc_filter_new(&f, "tcp or port 54", 0), 0);
	assert_false(rc_filter_match(f, &p)); /* compiled on the spot */
	assert_null(rc_filter_last_error(f));
	rc_filter_free(f);
}

static void test_raw_link_type(void **state)
{
	(void)state;
	struct rc_filter *f;
	assert_int_equal(rc_filter_new(&f, "host 198.18.0.2", 0), 0);
	/* The same IPv4 packet without its Ethernet header, as LINKTYPE_RAW (101). */
	struct rc_packet raw = packet(eth_udp + 14, sizeof(eth_udp) - 14, 101);
	struct rc_packet eth = packet(eth_udp, sizeof(eth_udp), 1);
	assert_true(rc_filter_match(f, &raw));
	assert_true(rc_filter_match(f, &eth));
	assert_true(rc_filter_match(f, &raw));
	rc_filter_free(f);
}

static void test_bad_expression_message(void **state)
{
	(void)state;
	struct rc_filter *f;
	char err[512];
	assert_int_equal(rc_filter_new(&f, "tcp port eighty", 0), 0);
	assert_int_equal(rc_filter_prepare(f, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tcp port eighty"));
	assert_non_null(strstr(err, "EN10MB"));
	assert_non_null(strstr(err, "eighty")); /* libpcap's own complaint names the word */
	struct rc_packet p = packet(eth_udp, sizeof(eth_udp), 1);
	assert_false(rc_filter_match(f, &p));
	assert_non_null(rc_filter_last_error(f));
	rc_filter_free(f);
}

static void test_expression_invalid_for_one_link_type(void **state)
{
	(void)state;
	struct rc_filter *f;
	char err[512];
	assert_int_equal(rc_filter_new(&f, "ether host 02:00:00:00:00:01", 0), 0);
	assert_int_equal(rc_filter_prepare(f, 1, err, sizeof(err)), 0);
	assert_int_equal(rc_filter_prepare(f, 101, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "RAW"));
	struct rc_packet eth = packet(eth_udp, sizeof(eth_udp), 1);
	struct rc_packet raw = packet(eth_udp + 14, sizeof(eth_udp) - 14, 101);
	assert_true(rc_filter_match(f, &eth));
	assert_false(rc_filter_match(f, &raw));
	assert_string_equal(rc_filter_expr(f), "ether host 02:00:00:00:00:01");
	rc_filter_free(f);
}

static void test_snaplen_bounds_the_program(void **state)
{
	(void)state;
	struct rc_filter *f;
	/* A truncated packet: the filter looks at bytes past caplen and must reject, not read. */
	assert_int_equal(rc_filter_new(&f, "udp port 53", 0), 0);
	struct rc_packet p = packet(eth_udp, 30, 1);
	p.wirelen = sizeof(eth_udp);
	assert_false(rc_filter_match(f, &p));
	rc_filter_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_and_reject),
		cmocka_unit_test(test_raw_link_type),
		cmocka_unit_test(test_bad_expression_message),
		cmocka_unit_test(test_expression_invalid_for_one_link_type),
		cmocka_unit_test(test_snaplen_bounds_the_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
