/* The counter table: unique, well-formed, documented names; lookup; summing; the docs page. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringcap/counters.h"

static void test_names_unique_and_well_formed(void **state)
{
	(void)state;
	for (int i = 0; i < RC_CTR__COUNT; i++) {
		const struct rc_ctr_desc *d = &rc_ctr_descs[i];
		assert_non_null(d->name);
		assert_non_null(d->help);
		assert_non_null(d->unit);
		assert_true(strlen(d->help) > 10);
		assert_non_null(strchr(d->name, '.'));
		for (const char *p = d->name; *p; p++)
			assert_true(islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
				    *p == '.' || *p == '_');
		assert_true(d->name[0] != '.' && d->name[strlen(d->name) - 1] != '.');
		for (int j = i + 1; j < RC_CTR__COUNT; j++)
			if (strcmp(d->name, rc_ctr_descs[j].name) == 0)
				fail_msg("counter name %s is declared twice", d->name);
	}
}

static void test_find_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < RC_CTR__COUNT; i++)
		assert_int_equal(rc_ctr_find(rc_ctr_descs[i].name), i);
	assert_int_equal(rc_ctr_find("no.such.counter"), -1);
	assert_int_equal(rc_ctr_find("read.packets"), RC_CTR_READ_PACKETS);
}

static void test_sum(void **state)
{
	(void)state;
	static struct rc_ctrs a, b, total;
	rc_ctr_inc(&a, RC_CTR_READ_PACKETS);
	rc_ctr_add(&a, RC_CTR_READ_BYTES, 100);
	rc_ctr_add(&b, RC_CTR_READ_PACKETS, 2);
	rc_ctr_set(&b, RC_CTR_DECODE_PACKETS, 7);
	rc_ctrs_sum(&total, &a);
	rc_ctrs_sum(&total, &b);
	assert_int_equal(rc_ctr_get(&total, RC_CTR_READ_PACKETS), 3);
	assert_int_equal(rc_ctr_get(&total, RC_CTR_READ_BYTES), 100);
	assert_int_equal(rc_ctr_get(&total, RC_CTR_DECODE_PACKETS), 7);
	_Static_assert(_Alignof(struct rc_ctrs) == 64, "counter blocks own their cache lines");
}

static void test_doc_lists_every_counter(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	rc_ctrs_write_doc(f);
	fclose(f);
	for (int i = 0; i < RC_CTR__COUNT; i++) {
		char cell[128];
		snprintf(cell, sizeof(cell), "| `%s` |", rc_ctr_descs[i].name);
		if (!strstr(buf, cell))
			fail_msg("docs miss %s", rc_ctr_descs[i].name);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_unique_and_well_formed),
		cmocka_unit_test(test_find_round_trip),
		cmocka_unit_test(test_sum),
		cmocka_unit_test(test_doc_lists_every_counter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
