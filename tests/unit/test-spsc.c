/* The SPSC queue: edge cases, exact accounting, wrap markers, and a two-thread stress run. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ringcap/spsc.h"

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Pattern bytes that records copy from, at an offset derived from their sequence number. */
static unsigned char *make_pattern(size_t len)
{
	unsigned char *p = malloc(len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)mix64(i * 7919);
	return p;
}

static struct rc_spsc *new_queue(size_t bytes)
{
	struct rc_spsc *q = NULL;

	assert_int_equal(rc_spsc_new(&q, bytes), 0);
	assert_non_null(q);
	return q;
}

/* Push one record whose bytes are (seq + i) and publish it. */
static void push_filled(struct rc_spsc *q, uint32_t len, unsigned char seq)
{
	unsigned char *p = rc_spsc_reserve(q, len);

	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 8, 0);
	for (uint32_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seq + i);
	rc_spsc_commit(q);
}

static void pop_check(struct rc_spsc *q, uint32_t want_len, unsigned char seq)
{
	uint32_t len = 0;
	const unsigned char *p = rc_spsc_peek(q, &len);

	assert_non_null(p);
	assert_int_equal(len, want_len);
	assert_int_equal((uintptr_t)p % 8, 0);
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != (unsigned char)(seq + i))
			fail_msg("record of %u bytes differs at byte %u", len, i);
	rc_spsc_consume(q);
}

/* Drain everything published; returns the record count. */
static unsigned drain(struct rc_spsc *q)
{
	unsigned n = 0;
	uint32_t len;

	while (rc_spsc_peek(q, &len) != NULL) {
		rc_spsc_consume(q);
		n++;
	}
	rc_spsc_release(q);
	return n;
}

static void test_sizes(void **state)
{
	struct rc_spsc *q;

	(void)state;
	q = new_queue(0);
	assert_int_equal(rc_spsc_capacity(q), 4096);
	assert_int_equal(rc_spsc_max_record(q), 2048 - 8);
	rc_spsc_free(q);
	q = new_queue(4097);
	assert_int_equal(rc_spsc_capacity(q), 8192);
	assert_int_equal(rc_spsc_max_record(q), 4096 - 8);
	rc_spsc_free(q);
	q = new_queue(1 << 20);
	assert_int_equal(rc_spsc_capacity(q), 1 << 20);
	rc_spsc_free(q);
	rc_spsc_free(NULL);
	assert_int_equal(rc_spsc_new(&q, SIZE_MAX), -ENOMEM);
	assert_null(q);

	assert_int_equal(rc_spsc_record_bytes(0), 8);
	assert_int_equal(rc_spsc_record_bytes(1), 16);
	assert_int_equal(rc_spsc_record_bytes(8), 16);
	assert_int_equal(rc_spsc_record_bytes(9), 24);
	assert_int_equal(rc_spsc_record_bytes(1500), 1512);
}

static void test_empty(void **state)
{
	struct rc_spsc *q = new_queue(4096);
	uint32_t len = 77;

	(void)state;
	assert_null(rc_spsc_peek(q, &len));
	assert_int_equal(len, 77);
	assert_int_equal(rc_spsc_used(q), 0);
	rc_spsc_publish(q);
	rc_spsc_release(q);
	assert_null(rc_spsc_peek(q, &len));
	/* Drained to empty again, and again, across several laps. */
	for (int i = 0; i < 1000; i++) {
		push_filled(q, (uint32_t)(i % 300), (unsigned char)i);
		rc_spsc_publish(q);
		pop_check(q, (uint32_t)(i % 300), (unsigned char)i);
		rc_spsc_release(q);
		assert_null(rc_spsc_peek(q, &len));
		assert_int_equal(rc_spsc_used(q), 0);
	}
	rc_spsc_free(q);
}

static void test_exact_capacity(void **state)
{
	struct rc_spsc *q = new_queue(4096);
	uint32_t len;

	(void)state;
	/* 56-byte payloads take 64 ring bytes: exactly 64 of them fill 4 KiB. */
	assert_int_equal(rc_spsc_record_bytes(56), 64);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 64; i++)
			push_filled(q, 56, (unsigned char)i);
		assert_null(rc_spsc_reserve(q, 56));
		assert_null(rc_spsc_reserve(q, 0));
		assert_int_equal(rc_spsc_push(q, "x", 1), -ENOBUFS);
		assert_int_equal(rc_spsc_used(q), 0);
		rc_spsc_publish(q);
		assert_int_equal(rc_spsc_used(q), 4096);
		/* Consumed is not released: the producer still sees a full ring. */
		pop_check(q, 56, 0);
		assert_null(rc_spsc_reserve(q, 0));
		rc_spsc_release(q);
		assert_int_equal(rc_spsc_used(q), 4096 - 64);
		/* Exactly one 64-byte hole: 56 fits, 57 does not. */
		assert_null(rc_spsc_reserve(q, 57));
		push_filled(q, 56, 200);
		assert_null(rc_spsc_reserve(q, 0));
		rc_spsc_publish(q);
		for (int i = 1; i < 64; i++)
			pop_check(q, 56, (unsigned char)i);
		pop_check(q, 56, 200);
		assert_null(rc_spsc_peek(q, &len));
		rc_spsc_release(q);
		assert_int_equal(rc_spsc_used(q), 0);
	}
	/* Zero-length records cost just their header. */
	for (int i = 0; i < 512; i++)
		assert_int_equal(rc_spsc_push(q, NULL, 0), 0);
	assert_int_equal(rc_spsc_push(q, NULL, 0), -ENOBUFS);
	rc_spsc_publish(q);
	assert_int_equal(drain(q), 512);
	rc_spsc_free(q);
}

static void test_publish_visibility(void **state)
{
	struct rc_spsc *q = new_queue(4096);
	uint32_t len;

	(void)state;
	push_filled(q, 10, 1);
	assert_null(rc_spsc_peek(q, &len));
	assert_int_equal(rc_spsc_used(q), 0);
	/* A reservation is not a record, even after publish. */
	assert_non_null(rc_spsc_reserve(q, 20));
	rc_spsc_publish(q);
	assert_int_equal(rc_spsc_used(q), 24);
	pop_check(q, 10, 1);
	assert_null(rc_spsc_peek(q, &len));
	rc_spsc_commit(q);
	assert_null(rc_spsc_peek(q, &len));
	rc_spsc_publish(q);
	assert_non_null(rc_spsc_peek(q, &len));
	assert_int_equal(len, 20);
	/* Peek is idempotent until consume. */
	assert_non_null(rc_spsc_peek(q, &len));
	rc_spsc_consume(q);
	assert_null(rc_spsc_peek(q, &len));
	rc_spsc_release(q);
	assert_int_equal(rc_spsc_used(q), 0);

	/* A second reserve abandons the first. */
	assert_non_null(rc_spsc_reserve(q, 100));
	push_filled(q, 3, 9);
	rc_spsc_publish(q);
	pop_check(q, 3, 9);
	assert_null(rc_spsc_peek(q, &len));
	rc_spsc_release(q);
	rc_spsc_free(q);
}

static void test_every_size(void **state)
{
	(void)state;
	for (size_t bytes = 4096; bytes <= 16384; bytes *= 4) {
		struct rc_spsc *q = new_queue(bytes);
		uint32_t max = (uint32_t)rc_spsc_max_record(q);

		/* One at a time: every length, at a drifting offset. */
		for (uint32_t len = 0; len <= max; len++) {
			push_filled(q, len, (unsigned char)len);
			rc_spsc_publish(q);
			pop_check(q, len, (unsigned char)len);
			rc_spsc_release(q);
		}
		/* As many in flight as fit, for every length, drained in order. */
		for (uint32_t len = 1; len <= max; len += (len < 64 ? 1 : 37)) {
			unsigned n = 0;

			while (rc_spsc_reserve(q, len) != NULL) {
				rc_spsc_commit(q);
				n++;
			}
			assert_true(n >= 1);
			assert_true((size_t)n * rc_spsc_record_bytes(len) <= bytes);
			rc_spsc_publish(q);
			assert_int_equal(drain(q), n);
			for (unsigned i = 0; i < n; i++)
				push_filled(q, len, (unsigned char)i);
			rc_spsc_publish(q);
			for (unsigned i = 0; i < n; i++)
				pop_check(q, len, (unsigned char)i);
			rc_spsc_release(q);
			assert_int_equal(rc_spsc_used(q), 0);
		}
		rc_spsc_free(q);
	}
}

static void test_wrap_marker(void **state)
{
	struct rc_spsc *q = new_queue(4096);
	unsigned char *base, *p;
	uint32_t len;

	(void)state;
	base = rc_spsc_reserve(q, 0);
	assert_non_null(base);
	/* Stand 16 bytes before the end: 4080 bytes of filler in two records of 2040 bytes. */
	push_filled(q, 2032, 1);
	push_filled(q, 2032, 2);
	rc_spsc_publish(q);
	assert_int_equal(rc_spsc_used(q), 4080);
	pop_check(q, 2032, 1);
	rc_spsc_release(q);
	/* 16 bytes left at the end, 2040 free at the start: a 100-byte record wraps. */
	assert_null(rc_spsc_reserve(q, 2040 - 8 + 1));
	p = rc_spsc_reserve(q, 100);
	assert_ptr_equal(p, base);
	memset(p, 0x5a, 100);
	rc_spsc_commit(q);
	rc_spsc_publish(q);
	/* The marker's padding counts as used until released. */
	assert_int_equal(rc_spsc_used(q), 2040 + 16 + 112);
	pop_check(q, 2032, 2);
	p = (unsigned char *)rc_spsc_peek(q, &len);
	assert_ptr_equal(p, base);
	assert_int_equal(len, 100);
	assert_int_equal(p[99], 0x5a);
	rc_spsc_consume(q);
	assert_null(rc_spsc_peek(q, &len));
	rc_spsc_release(q);
	assert_int_equal(rc_spsc_used(q), 0);

	/* A record that ends exactly at the end of the ring needs no marker. */
	push_filled(q, 1944, 3); /* 112..2064 */
	push_filled(q, 2024, 4); /* 2064..4096 */
	rc_spsc_publish(q);
	assert_int_equal(rc_spsc_used(q), 4096 - 112);
	pop_check(q, 1944, 3);
	pop_check(q, 2024, 4);
	rc_spsc_release(q);
	p = rc_spsc_reserve(q, 8);
	assert_ptr_equal(p, base);
	rc_spsc_commit(q);
	rc_spsc_publish(q);
	assert_int_equal(rc_spsc_used(q), 16);
	assert_int_equal(drain(q), 1);

	/* A wrap that does not fit writes nothing: the consumer sees no marker record. */
	push_filled(q, 2024, 5); /* 16..2048 */
	push_filled(q, 1992, 6); /* 2048..4048: 48 bytes left at the end, 16 at the start */
	rc_spsc_publish(q);
	pop_check(q, 2024, 5);
	assert_null(rc_spsc_reserve(q, 2040)); /* not released yet */
	assert_null(rc_spsc_reserve(q, 41));
	p = rc_spsc_reserve(q, 40); /* fits the 48 at the end */
	assert_non_null(p);
	assert_ptr_equal(p, base + 4048);
	rc_spsc_commit(q);
	rc_spsc_publish(q);
	pop_check(q, 1992, 6);
	assert_non_null(rc_spsc_peek(q, &len));
	assert_int_equal(len, 40);
	rc_spsc_consume(q);
	assert_null(rc_spsc_peek(q, &len));
	rc_spsc_release(q);
	rc_spsc_free(q);
}

static void test_max_record(void **state)
{
	struct rc_spsc *q = new_queue(4096);
	uint32_t max = (uint32_t)rc_spsc_max_record(q);
	unsigned char *pattern = make_pattern(max);

	(void)state;
	assert_null(rc_spsc_reserve(q, max + 1));
	assert_null(rc_spsc_reserve(q, UINT32_MAX));
	assert_int_equal(rc_spsc_push(q, pattern, max + 1), -EMSGSIZE);
	/* From every 8-byte offset of an empty ring, the largest record fits. */
	for (uint32_t off = 0; off < 4096; off += 8) {
		uint32_t len;
		const void *p;

		assert_int_equal(rc_spsc_used(q), 0);
		assert_int_equal(rc_spsc_push(q, pattern, max), 0);
		rc_spsc_publish(q);
		p = rc_spsc_peek(q, &len);
		assert_non_null(p);
		assert_int_equal(len, max);
		assert_memory_equal(p, pattern, max);
		rc_spsc_consume(q);
		rc_spsc_release(q);
		/* Move on by 8 bytes: one empty record. */
		assert_int_equal(rc_spsc_push(q, NULL, 0), 0);
		rc_spsc_publish(q);
		assert_int_equal(drain(q), 1);
	}
	free(pattern);
	rc_spsc_free(q);
}

/*
 * Two threads. Record `seq` has a length and bytes derived from seq alone: the consumer
 * recomputes both, so order, length and content of every record are checked.
 */
/* TSan builds run the full count in their own suite (tests/tsan); the unit run stays short. */
#ifdef __SANITIZE_THREAD__
#define DEFAULT_ITEMS 300000
#else
#define DEFAULT_ITEMS 2000000
#endif

struct stress {
	struct rc_spsc *q;
	uint64_t items;
	uint32_t max_len;
	const unsigned char *pattern; /* max_len + 256 bytes */
	atomic_int stop;	      /* set by the consumer on a mismatch */
	atomic_int done;
	uint64_t producer_stalls, consumer_stalls;
	char error[160];
};

static uint32_t stress_len(const struct stress *s, uint64_t seq)
{
	uint64_t h = mix64(seq);
	uint32_t r = (uint32_t)(h >> 32);

	/* Mostly small (packet headers), some frames, rarely anything up to the largest. */
	if ((h & 4095) == 0)
		return 1 + r % s->max_len;
	if ((h & 63) == 1)
		return 1 + r % 2048;
	return 1 + r % 128;
}

static const unsigned char *stress_bytes(const struct stress *s, uint64_t seq)
{
	return s->pattern + (mix64(seq ^ 0xabcdef) & 255);
}

static void *stress_producer(void *arg)
{
	struct stress *s = arg;
	uint64_t rnd = 12345, batch = 0;

	for (uint64_t seq = 0; seq < s->items; seq++) {
		uint32_t len = stress_len(s, seq);
		unsigned char *p;

		while ((p = rc_spsc_reserve(s->q, len)) == NULL) {
			/* About to wait: publish first, or the consumer may wait for us. */
			rc_spsc_publish(s->q);
			s->producer_stalls++;
			if (atomic_load_explicit(&s->stop, memory_order_relaxed))
				return NULL;
			sched_yield();
		}
		memcpy(p, stress_bytes(s, seq), len);
		if (len >= 8)
			memcpy(p, &seq, 8);
		rc_spsc_commit(s->q);
		if (batch == 0) {
			rnd = mix64(rnd);
			batch = 1 + rnd % 64;
		}
		if (--batch == 0)
			rc_spsc_publish(s->q);
	}
	rc_spsc_publish(s->q);
	return NULL;
}

static void *stress_consumer(void *arg)
{
	struct stress *s = arg;
	uint64_t rnd = 54321, batch = 0, seq = 0;

	while (seq < s->items) {
		uint32_t len;
		const unsigned char *p = rc_spsc_peek(s->q, &len);
		uint64_t got;

		if (p == NULL) {
			/* About to wait: release first, or the producer may wait for us. */
			rc_spsc_release(s->q);
			s->consumer_stalls++;
			sched_yield();
			continue;
		}
		if (len != stress_len(s, seq)) {
			snprintf(s->error, sizeof(s->error), "record %llu: length %u, want %u",
				 (unsigned long long)seq, len, stress_len(s, seq));
			break;
		}
		if (len >= 8) {
			memcpy(&got, p, 8);
			if (got != seq) {
				snprintf(s->error, sizeof(s->error), "record %llu: seq %llu",
					 (unsigned long long)seq, (unsigned long long)got);
				break;
			}
		}
		if (memcmp(p + (len >= 8 ? 8 : 0), stress_bytes(s, seq) + (len >= 8 ? 8 : 0),
			   len - (len >= 8 ? 8 : 0)) != 0) {
			snprintf(s->error, sizeof(s->error), "record %llu: content differs",
				 (unsigned long long)seq);
			break;
		}
		rc_spsc_consume(s->q);
		seq++;
		if (batch == 0) {
			rnd = mix64(rnd);
			batch = 1 + rnd % 64;
		}
		if (--batch == 0)
			rc_spsc_release(s->q);
	}
	rc_spsc_release(s->q);
	if (s->error[0] != '\0')
		atomic_store_explicit(&s->stop, 1, memory_order_relaxed);
	atomic_store_explicit(&s->done, 1, memory_order_release);
	return NULL;
}

static void test_stress(void **state)
{
	struct stress s = {0};
	const char *env = getenv("RINGCAP_SPSC_ITEMS");
	pthread_t prod, cons;
	size_t gauge_max = 0;
	uint64_t polls = 0;
	uint32_t len;

	(void)state;
	s.items = env != NULL ? strtoull(env, NULL, 10) : DEFAULT_ITEMS;
	/* Small enough to be full and empty often, wrap every few hundred records. */
	s.q = new_queue(64 * 1024);
	s.max_len = (uint32_t)rc_spsc_max_record(s.q);
	s.pattern = make_pattern(s.max_len + 256);
	assert_int_equal(pthread_create(&cons, NULL, stress_consumer, &s), 0);
	assert_int_equal(pthread_create(&prod, NULL, stress_producer, &s), 0);
	/* A third thread reads the gauge meanwhile. */
	while (!atomic_load_explicit(&s.done, memory_order_acquire)) {
		size_t used = rc_spsc_used(s.q);

		assert_true(used <= rc_spsc_capacity(s.q));
		if (used > gauge_max)
			gauge_max = used;
		polls++;
		/* Sleep rather than yield: on two cores a spinning third thread slows both sides.
		 */
		nanosleep(&(struct timespec){.tv_nsec = 20000}, NULL);
	}
	assert_int_equal(pthread_join(prod, NULL), 0);
	assert_int_equal(pthread_join(cons, NULL), 0);
	if (s.error[0] != '\0')
		fail_msg("%s", s.error);
	assert_null(rc_spsc_peek(s.q, &len));
	assert_int_equal(rc_spsc_used(s.q), 0);
	print_message("spsc stress: %llu records, producer stalls %llu, consumer stalls %llu, "
		      "gauge max %zu in %llu polls\n",
		      (unsigned long long)s.items, (unsigned long long)s.producer_stalls,
		      (unsigned long long)s.consumer_stalls, gauge_max, (unsigned long long)polls);
	free((void *)s.pattern);
	rc_spsc_free(s.q);
}

/* An optional argument selects tests by name pattern (the TSan suite runs only the stress). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),	       cmocka_unit_test(test_empty),
		cmocka_unit_test(test_exact_capacity), cmocka_unit_test(test_publish_visibility),
		cmocka_unit_test(test_every_size),     cmocka_unit_test(test_wrap_marker),
		cmocka_unit_test(test_max_record),     cmocka_unit_test(test_stress),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
