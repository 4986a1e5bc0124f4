/* --streams files: names, contents, gap side files, and the bound on open files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringcap/counters.h"
#include "ringcap/engine.h"

static char dir[] = "/tmp/ringcap-test-streams.XXXXXX";

static struct rc_flow_record meta(int n)
{
	struct rc_flow_record r;
	memset(&r, 0, sizeof(r));
	r.ts_ns = 1700000000ull * 1000000000u + (uint64_t)n;
	snprintf(r.uid, sizeof(r.uid), "Ctest%d", n);
	r.l3 = RC_L3_IPV4;
	r.proto = 6;
	uint8_t a[4] = {198, 18, 0, (uint8_t)n}, b[4] = {198, 19, 0, 1};
	memcpy(r.orig_h, a, 4);
	memcpy(r.resp_h, b, 4);
	r.orig_p = (uint16_t)(40000 + n);
	r.resp_p = 80;
	return r;
}

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static char buf[1 << 16];
	*len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

static void test_files_and_reopen(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	struct rc_ctrs ctrs;
	memset(&ctrs, 0, sizeof(ctrs));
	struct rc_streams *s = NULL;
	assert_int_equal(rc_streams_new(&s, dir, 2, &ctrs), 0); /* at most 2 files open */
	struct rc_flow_record m[3];
	struct rc_stream_conn *c[3];
	for (int i = 0; i < 3; i++) {
		m[i] = meta(i + 1);
		c[i] = rc_streams_open(s, &m[i]);
		assert_non_null(c[i]);
	}
	/* Interleaved writes over 6 directions with room for 2 open files: closes and reopens. */
	for (int round = 0; round < 4; round++)
		for (int i = 0; i < 3; i++)
			for (int d = 0; d < 2; d++) {
				char chunk[32];
				int n = snprintf(chunk, sizeof(chunk), "[%d%c%d]", i, d ? 'r' : 'o',
						 round);
				rc_streams_data(c[i], d, (const uint8_t *)chunk, (uint32_t)n);
			}
	rc_streams_gap(c[1], 0, 20, 100);
	rc_streams_gap(c[1], 0, 500, 7);
	for (int i = 0; i < 3; i++)
		rc_streams_close(c[i]);
	rc_streams_free(s);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_STREAMS_ERRORS), 0);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_STREAMS_FILES), 6);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_STREAMS_BYTES), 4 * 6 * 5);

	size_t len;
	const char *got = slurp("1700000000-Ctest2-198.18.0.2.40002-198.19.0.1.80.orig", &len);
	assert_non_null(got);
	assert_string_equal(got, "[1o0][1o1][1o2][1o3]");
	got = slurp("1700000000-Ctest3-198.18.0.3.40003-198.19.0.1.80.resp", &len);
	assert_non_null(got);
	assert_string_equal(got, "[2r0][2r1][2r2][2r3]");
	got = slurp("1700000000-Ctest2-198.18.0.2.40002-198.19.0.1.80.orig.gaps", &len);
	assert_non_null(got);
	assert_non_null(strstr(got, "\n20 100\n500 7\n"));
	assert_null(slurp("1700000000-Ctest1-198.18.0.1.40001-198.19.0.1.80.orig.gaps", &len));

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A folder that cannot be written: counted errors, nothing else. */
static void test_unwritable(void **state)
{
	(void)state;
	struct rc_ctrs ctrs;
	memset(&ctrs, 0, sizeof(ctrs));
	struct rc_streams *s = NULL;
	assert_int_equal(rc_streams_new(&s, "/nonexistent/ringcap", 4, &ctrs), 0);
	struct rc_flow_record m = meta(1);
	struct rc_stream_conn *c = rc_streams_open(s, &m);
	assert_non_null(c);
	rc_streams_data(c, 0, (const uint8_t *)"abc", 3);
	rc_streams_data(c, 0, (const uint8_t *)"def", 3); /* no second attempt */
	rc_streams_gap(c, 1, 0, 5);
	rc_streams_close(c);
	rc_streams_free(s);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_STREAMS_ERRORS), 2);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_STREAMS_BYTES), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_and_reopen),
		cmocka_unit_test(test_unwritable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
