/* TCP reassembly: segment sequences built by hand, delivered bytes and gaps checked exactly. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringcap/counters.h"
#include "ringcap/decode.h"
#include "ringcap/reasm.h"

#define MAX_STREAM (1u << 20)
#define MAX_EVENTS 256

/* What the consumer saw of one direction. */
struct seen {
	uint8_t bytes[MAX_STREAM]; /* delivered bytes, gaps left out (as tshark's sha256) */
	uint32_t n;
	uint64_t next_off; /* offsets must follow each other, data and gaps alike */
	uint64_t gap_off[MAX_EVENTS], gap_len[MAX_EVENTS];
	int ngaps, ends;
};

static struct seen seen[2];
static struct rc_ctrs ctrs;
static bool count_only; /* count delivered bytes without keeping them (the long streams) */

static void on_data(void *ctx, int dir, const uint8_t *p, uint32_t len, uint64_t off,
		    uint64_t ts_ns)
{
	(void)ts_ns;
	assert_ptr_equal(ctx, seen);
	struct seen *s = &seen[dir];
	assert_int_equal(s->ends, 0);
	assert_true(len > 0);
	assert_int_equal(off, s->next_off);
	if (!count_only) {
		assert_true(s->n + len <= MAX_STREAM);
		memcpy(s->bytes + s->n, p, len);
	}
	s->n += len;
	s->next_off = off + len;
}

static void on_gap(void *ctx, int dir, uint64_t off, uint64_t len)
{
	assert_ptr_equal(ctx, seen);
	struct seen *s = &seen[dir];
	assert_int_equal(off, s->next_off);
	assert_true(len > 0);
	assert_true(s->ngaps < MAX_EVENTS);
	s->gap_off[s->ngaps] = off;
	s->gap_len[s->ngaps++] = len;
	s->next_off = off + len;
}

static void on_end(void *ctx, int dir)
{
	assert_ptr_equal(ctx, seen);
	seen[dir].ends++;
}

static const struct rc_reasm_ops ops = {on_data, on_gap, on_end};

/* The bytes of a test stream: a pattern no two nearby offsets share. */
static uint8_t pattern[MAX_STREAM];

static struct rc_reasm *setup_cfg(const struct rc_reasm_config *cfg, struct rc_reasm_stream *s)
{
	memset(seen, 0, sizeof(seen));
	memset(&ctrs, 0, sizeof(ctrs));
	for (uint32_t i = 0; i < MAX_STREAM; i++)
		pattern[i] = (uint8_t)(i * 131 + (i >> 8) * 7 + 1);
	struct rc_reasm *r = NULL;
	assert_int_equal(rc_reasm_new(&r, cfg, &ops, &ctrs), 0);
	rc_reasm_stream_init(s, seen);
	return r;
}

static struct rc_reasm *setup(struct rc_reasm_stream *s)
{
	struct rc_reasm_config cfg;
	rc_reasm_config_default(&cfg);
	return setup_cfg(&cfg, s);
}

static void finish(struct rc_reasm *r, struct rc_reasm_stream *s)
{
	rc_reasm_stream_end(r, s);
	assert_int_equal(rc_reasm_memory(r), 0);
	rc_reasm_free(r);
}

/* Segment of direction dir: payload = data (len bytes) at sequence number seq. */
static void feed(struct rc_reasm *r, struct rc_reasm_stream *s, int dir, uint32_t seq,
		 uint8_t flags, const uint8_t *data, uint32_t len)
{
	struct rc_reasm_segment g = {
		.seq = seq, .flags = flags, .payload = data, .len = len, .wire_len = len};
	rc_reasm_segment(r, s, dir, &g);
}

/* Bytes [a, b) of the pattern, sent at isn + 1 + a (after a SYN at isn). */
static void feed_range(struct rc_reasm *r, struct rc_reasm_stream *s, int dir, uint32_t isn,
		       uint32_t a, uint32_t b)
{
	feed(r, s, dir, isn + 1 + a, RC_TCP_ACK, pattern + a, b - a);
}

static void expect_stream(int dir, uint32_t n)
{
	assert_int_equal(seen[dir].n, n);
	assert_memory_equal(seen[dir].bytes, pattern, n);
}

static uint64_t ctr(enum rc_ctr c)
{
	return rc_ctr_get(&ctrs, c);
}

/* Split [0, total) into segments of `size` and feed them in the order of perm[]. */
static void feed_order(struct rc_reasm *r, struct rc_reasm_stream *s, uint32_t isn, uint32_t total,
		       uint32_t size, const uint32_t *perm, uint32_t nseg)
{
	for (uint32_t i = 0; i < nseg; i++) {
		uint32_t a = perm[i] * size, b = a + size > total ? total : a + size;
		feed_range(r, s, 0, isn, a, b);
	}
}

static void test_in_order(void **state)
{
	(void)state;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup(&s);
	feed(r, &s, 0, 1000, RC_TCP_SYN, NULL, 0);
	feed(r, &s, 1, 5000, RC_TCP_SYN | RC_TCP_ACK, NULL, 0);
	for (uint32_t a = 0; a < 10000; a += 1000)
		feed_range(r, &s, 0, 1000, a, a + 1000);
	feed_range(r, &s, 1, 5000, 0, 777);
	expect_stream(0, 10000);
	expect_stream(1, 777);
	assert_int_equal(ctr(RC_CTR_REASM_IN_ORDER), 11);
	assert_int_equal(ctr(RC_CTR_REASM_BYTES), 10777);
	assert_int_equal(ctr(RC_CTR_REASM_MIDSTREAM), 0);
	finish(r, &s);
	assert_int_equal(seen[0].ends, 1);
	assert_int_equal(seen[1].ends, 1);
	assert_int_equal(seen[0].ngaps + seen[1].ngaps, 0);
}

static void test_reversed_and_permuted(void **state)
{
	(void)state;
	enum { N = 64 };
	uint32_t perm[N];
	for (int round = 0; round < 20; round++) {
		struct rc_reasm_stream s;
		struct rc_reasm *r = setup(&s);
		for (uint32_t i = 0; i < N; i++)
			perm[i] = round == 0 ? N - 1 - i : i;
		srand((unsigned)round);
		for (uint32_t i = N - 1; round && i > 0; i--) {
			uint32_t j = (uint32_t)rand() % (i + 1), t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		feed(r, &s, 0, 77, RC_TCP_SYN, NULL, 0);
		feed_order(r, &s, 77, N * 500 - 123, 500, perm, N);
		expect_stream(0, N * 500 - 123);
		assert_int_equal(seen[0].ngaps, 0);
		assert_int_equal(ctr(RC_CTR_REASM_IN_ORDER) + ctr(RC_CTR_REASM_OUT_OF_ORDER), N);
		assert_null(s.dir[0].held);
		finish(r, &s);
	}
}

static void test_duplicates(void **state)
{
	(void)state;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup(&s);
	feed(r, &s, 0, 0, RC_TCP_SYN, NULL, 0);
	feed_range(r, &s, 0, 0, 0, 100);
	feed_range(r, &s, 0, 0, 0, 100);   /* delivered already */
	feed_range(r, &s, 0, 0, 200, 300); /* held */
	feed_range(r, &s, 0, 0, 200, 300); /* held already */
	feed_range(r, &s, 0, 0, 100, 200); /* fills the hole */
	feed_range(r, &s, 0, 0, 150, 250); /* all old */
	expect_stream(0, 300);
	assert_int_equal(ctr(RC_CTR_REASM_RETRANS), 3);
	assert_int_equal(ctr(RC_CTR_REASM_OVERLAP_DIFF), 0);
	finish(r, &s);
}

/* An overlapping segment with different bytes: the first bytes win, or the last for held ones. */
static void overlap_case(enum rc_reasm_overlap policy)
{
	struct rc_reasm_config cfg;
	rc_reasm_config_default(&cfg);
	cfg.overlap = policy;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup_cfg(&cfg, &s);
	uint8_t evil[200];
	feed(r, &s, 0, 0, RC_TCP_SYN, NULL, 0);
	feed_range(r, &s, 0, 0, 0, 100);
	/* [50, 150): the first half overlaps delivered bytes with different ones. */
	memcpy(evil, pattern + 50, 100);
	memset(evil, 'X', 50);
	feed(r, &s, 0, 1 + 50, RC_TCP_ACK, evil, 100);
	assert_int_equal(ctr(RC_CTR_REASM_OVERLAP), 1);
	assert_int_equal(ctr(RC_CTR_REASM_OVERLAP_DIFF), 1);
	/* Held [300, 400), then [250, 450) with different bytes over it. */
	feed_range(r, &s, 0, 0, 300, 400);
	memcpy(evil, pattern + 250, 200);
	memset(evil + 50, 'Y', 100);
	feed(r, &s, 0, 1 + 250, RC_TCP_ACK, evil, 200);
	assert_int_equal(ctr(RC_CTR_REASM_OVERLAP_DIFF), 2);
	feed_range(r, &s, 0, 0, 150, 250);
	assert_int_equal(seen[0].n, 450);
	assert_memory_equal(seen[0].bytes, pattern, 300);
	if (policy == RC_REASM_FIRST)
		assert_memory_equal(seen[0].bytes + 300, pattern + 300, 150);
	else /* 'Y' over the held bytes, then the rest as sent */
		assert_memory_equal(seen[0].bytes + 300, evil + 50, 150);
	finish(r, &s);
}

static void test_overlap_first(void **state)
{
	(void)state;
	overlap_case(RC_REASM_FIRST);
}

static void test_overlap_last(void **state)
{
	(void)state;
	overlap_case(RC_REASM_LAST);
}

/* Same bytes again over a boundary: an overlap, but not a different one. */
static void test_overlap_same(void **state)
{
	(void)state;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup(&s);
	feed(r, &s, 0, 10, RC_TCP_SYN, NULL, 0);
	feed_range(r, &s, 0, 10, 0, 100);
	feed_range(r, &s, 0, 10, 60, 160);
	feed_range(r, &s, 0, 10, 300, 400);
	feed_range(r, &s, 0, 10, 280, 420);
	feed_range(r, &s, 0, 10, 150, 300);
	expect_stream(0, 420);
	assert_int_equal(ctr(RC_CTR_REASM_OVERLAP), 3);
	assert_int_equal(ctr(RC_CTR_REASM_OVERLAP_DIFF), 0);
	finish(r, &s);
}

static void test_wraparound(void **state)
{
	(void)state;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup(&s);
	uint32_t isn = 0xffffffffu - 2500;
	feed(r, &s, 0, isn, RC_TCP_SYN, NULL, 0);
	uint32_t perm[] = {0, 1, 3, 2, 4, 6, 5, 7, 8, 9};
	feed_order(r, &s, isn, 10000, 1000, perm, 10);
	expect_stream(0, 10000);
	/* A long stream wraps the sequence space more than once: 64-bit offsets. */
	finish(r, &s);

	r = setup(&s);
	feed(r, &s, 0, 5, RC_TCP_SYN, NULL, 0);
	static uint8_t chunk[60000];
	uint64_t sent = 0;
	uint32_t seq = 6;
	count_only = true;
	for (int i = 0; i < 80000; i++) { /* 4.8 GB of stream: more than 2^32 bytes */
		chunk[0] = (uint8_t)i;
		feed(r, &s, 0, seq, RC_TCP_ACK, chunk, sizeof(chunk));
		seq += sizeof(chunk);
		sent += sizeof(chunk);
	}
	count_only = false;
	assert_int_equal(s.dir[0].delivered, sent);
	assert_int_equal(seen[0].n, (uint32_t)sent);
	assert_true(sent > (1ull << 32));
	assert_int_equal(ctr(RC_CTR_REASM_IN_ORDER), 80000);
	finish(r, &s);
}

static void test_midstream(void **state)
{
	(void)state;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup(&s);
	/* No SYN: the stream starts at the first byte seen, here byte 100 of the pattern. */
	feed(r, &s, 0, 123456 + 200, RC_TCP_ACK, pattern + 200, 100);
	feed(r, &s, 0, 123456 + 100, RC_TCP_ACK, pattern + 100, 100); /* before the start */
	feed(r, &s, 0, 123456 + 300, RC_TCP_ACK, pattern + 300, 100);
	assert_int_equal(seen[0].n, 200);
	assert_memory_equal(seen[0].bytes, pattern + 200, 200);
	assert_int_equal(ctr(RC_CTR_REASM_MIDSTREAM), 1);
	finish(r, &s);

	struct rc_reasm_config cfg;
	rc_reasm_config_default(&cfg);
	cfg.midstream = false;
	r = setup_cfg(&cfg, &s);
	feed(r, &s, 0, 1000, RC_TCP_ACK, pattern, 100);
	feed(r, &s, 0, 1100, RC_TCP_ACK, pattern + 100, 100);
	assert_int_equal(seen[0].n, 0);
	assert_int_equal(ctr(RC_CTR_REASM_IGNORED), 2);
	finish(r, &s);
	assert_int_equal(seen[0].ends, 0); /* never started */
}

static void test_fin_then_data(void **state)
{
	(void)state;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup(&s);
	feed(r, &s, 0, 0, RC_TCP_SYN, NULL, 0);
	feed(r, &s, 0, 1, RC_TCP_ACK | RC_TCP_FIN, pattern, 100);
	feed(r, &s, 0, 101, RC_TCP_ACK, pattern + 100, 50); /* after the FIN */
	feed(r, &s, 0, 51, RC_TCP_ACK, pattern + 50, 100);  /* straddles it */
	expect_stream(0, 100);
	assert_int_equal(ctr(RC_CTR_REASM_AFTER_FIN), 1);
	assert_int_equal(ctr(RC_CTR_REASM_RETRANS), 1);
	finish(r, &s);
}

/* Data sent before a RST that arrives after it is still delivered; no gap is invented. */
static void test_rst(void **state)
{
	(void)state;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup(&s);
	feed(r, &s, 0, 0, RC_TCP_SYN, NULL, 0);
	feed_range(r, &s, 0, 0, 0, 100);
	feed_range(r, &s, 0, 0, 200, 300);
	feed(r, &s, 0, 301, RC_TCP_RST, NULL, 0);
	feed_range(r, &s, 0, 0, 100, 200);
	expect_stream(0, 300);
	assert_int_equal(seen[0].ngaps, 0);
	assert_true(s.dir[0].rst);
	feed_range(r, &s, 0, 0, 300, 400); /* past the RST: nothing can follow it */
	expect_stream(0, 300);
	assert_int_equal(ctr(RC_CTR_REASM_AFTER_FIN), 1);
	finish(r, &s);
}

static void test_lost_segment(void **state)
{
	(void)state;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup(&s);
	feed(r, &s, 0, 0, RC_TCP_SYN, NULL, 0);
	feed_range(r, &s, 0, 0, 0, 1000);
	feed_range(r, &s, 0, 0, 1460, 3000); /* 460 bytes never come */
	feed_range(r, &s, 0, 0, 3000, 3100);
	assert_int_equal(seen[0].n, 1000);
	finish(r, &s);
	assert_int_equal(seen[0].ngaps, 1);
	assert_int_equal(seen[0].gap_off[0], 1000);
	assert_int_equal(seen[0].gap_len[0], 460);
	assert_int_equal(seen[0].n, 1000 + 1640);
	assert_memory_equal(seen[0].bytes, pattern, 1000);
	assert_memory_equal(seen[0].bytes + 1000, pattern + 1460, 1640);
	assert_int_equal(s.dir[0].missed, 460);
	assert_int_equal(ctr(RC_CTR_REASM_MISSED_BYTES), 460);
	assert_int_equal(ctr(RC_CTR_REASM_GAPS), 1);
}

/* The peer acknowledged past a hole: it was lost by the capture, give it up at once. */
static void test_acked_gap(void **state)
{
	(void)state;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup(&s);
	feed(r, &s, 0, 0, RC_TCP_SYN, NULL, 0);
	feed(r, &s, 1, 900, RC_TCP_SYN | RC_TCP_ACK, NULL, 0);
	feed_range(r, &s, 0, 0, 0, 100);
	feed_range(r, &s, 0, 0, 200, 300);
	feed(r, &s, 1, 901, RC_TCP_ACK, NULL, 0);
	struct rc_reasm_segment ack = {.seq = 901, .ack = 1 + 300, .flags = RC_TCP_ACK};
	rc_reasm_segment(r, &s, 1, &ack);
	assert_int_equal(seen[0].ngaps, 1);
	assert_int_equal(seen[0].gap_len[0], 100);
	assert_int_equal(seen[0].n, 200);
	assert_int_equal(ctr(RC_CTR_REASM_GAPS_ACKED), 1);
	feed_range(r, &s, 0, 0, 100, 200); /* late: already given up */
	assert_int_equal(seen[0].n, 200);
	finish(r, &s);
}

static void test_keepalive(void **state)
{
	(void)state;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup(&s);
	feed(r, &s, 0, 0, RC_TCP_SYN, NULL, 0);
	feed_range(r, &s, 0, 0, 0, 100);
	uint8_t junk = 0xee;
	feed(r, &s, 0, 100, RC_TCP_ACK, &junk, 1); /* seq = next - 1, one byte */
	expect_stream(0, 100);
	assert_int_equal(ctr(RC_CTR_REASM_KEEPALIVES), 1);
	finish(r, &s);
}

/* A direction that holds more than dir_max out of order gives its oldest hole up. */
static void test_dir_limit(void **state)
{
	(void)state;
	struct rc_reasm_config cfg;
	rc_reasm_config_default(&cfg);
	cfg.dir_max = 1000;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup_cfg(&cfg, &s);
	feed(r, &s, 0, 0, RC_TCP_SYN, NULL, 0);
	feed_range(r, &s, 0, 0, 0, 100);
	feed_range(r, &s, 0, 0, 200, 800);
	assert_int_equal(seen[0].n, 100);
	feed_range(r, &s, 0, 0, 900, 1500); /* 1200 held: over the bound */
	assert_int_equal(seen[0].ngaps, 1);
	assert_int_equal(seen[0].gap_len[0], 100);
	assert_int_equal(seen[0].n, 700); /* [200, 800) delivered; [900, 1500) still held */
	assert_int_equal(ctr(RC_CTR_REASM_GAPS_DIR_LIMIT), 1);
	finish(r, &s);
	assert_int_equal(seen[0].ngaps, 2);
	assert_int_equal(seen[0].n, 1300);
}

/* The memory cap: the direction that has held data longest gives up its hole first. */
static void test_memcap(void **state)
{
	(void)state;
	struct rc_reasm_config cfg;
	rc_reasm_config_default(&cfg);
	cfg.memcap = 4000;
	cfg.dir_max = 4000;
	cfg.retain_max = 0;
	struct rc_reasm_stream s, t;
	struct rc_reasm *r = setup_cfg(&cfg, &s);
	rc_reasm_stream_init(&t, seen);
	feed(r, &s, 0, 0, RC_TCP_SYN, NULL, 0);
	feed(r, &t, 1, 0, RC_TCP_SYN, NULL, 0);
	feed_range(r, &s, 0, 0, 1000, 2500); /* s holds first */
	assert_true(rc_reasm_memory(r) > 1500);
	feed_range(r, &t, 1, 0, 1000, 3800); /* over the cap: s gives up */
	assert_int_equal(seen[0].ngaps, 1);
	assert_int_equal(seen[0].gap_len[0], 1000);
	assert_int_equal(seen[0].n, 1500);
	assert_int_equal(seen[1].n, 0);
	assert_true(rc_reasm_memory(r) <= 4000);
	assert_int_equal(ctr(RC_CTR_REASM_GAPS_MEMCAP), 1);
	rc_reasm_stream_end(r, &s);
	finish(r, &t);
}

/* A hole that data waits behind for longer than the timeout (packet time) is given up. */
static void test_timeout(void **state)
{
	(void)state;
	struct rc_reasm_config cfg;
	rc_reasm_config_default(&cfg);
	cfg.timeout_ns = 5000000000ull;
	struct rc_reasm_stream s, t;
	struct rc_reasm *r = setup_cfg(&cfg, &s);
	rc_reasm_stream_init(&t, seen);
	struct rc_reasm_segment g = {.seq = 0, .flags = RC_TCP_SYN, .ts_ns = 1000000000ull};
	rc_reasm_segment(r, &s, 0, &g);
	g = (struct rc_reasm_segment){.seq = 1 + 100,
				      .flags = RC_TCP_ACK,
				      .payload = pattern + 100,
				      .len = 50,
				      .wire_len = 50,
				      .ts_ns = 2000000000ull};
	rc_reasm_segment(r, &s, 0, &g); /* waits behind [0, 100) from t = 2 s */
	g = (struct rc_reasm_segment){.seq = 7, .flags = RC_TCP_SYN, .ts_ns = 6000000000ull};
	rc_reasm_segment(r, &t, 1, &g); /* another stream at 6 s: not yet */
	assert_int_equal(seen[0].ngaps, 0);
	g.ts_ns = 7000000001ull;
	g.flags = RC_TCP_ACK;
	g.seq = 8;
	rc_reasm_segment(r, &t, 1, &g); /* past 2 s + 5 s: the hole is given up */
	assert_int_equal(seen[0].ngaps, 1);
	assert_int_equal(seen[0].gap_len[0], 100);
	assert_int_equal(seen[0].n, 50);
	assert_int_equal(ctr(RC_CTR_REASM_GAPS_TIMEOUT), 1);
	rc_reasm_stream_end(r, &t);
	finish(r, &s);
}

/* Over the cap, retained bytes (kept only to compare overlaps) go before any hole is given up. */
static void test_memcap_retained_first(void **state)
{
	(void)state;
	struct rc_reasm_config cfg;
	rc_reasm_config_default(&cfg);
	cfg.memcap = 4000;
	cfg.dir_max = 4000;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup_cfg(&cfg, &s);
	feed(r, &s, 0, 0, RC_TCP_SYN, NULL, 0);
	feed_range(r, &s, 0, 0, 0, 3000); /* delivered, retained */
	assert_true(rc_reasm_memory(r) >= 3000);
	feed_range(r, &s, 0, 0, 3500, 5500); /* held: over the cap */
	assert_int_equal(seen[0].ngaps, 0);  /* the hole stays */
	assert_true(rc_reasm_memory(r) <= 4000);
	assert_int_equal(ctr(RC_CTR_REASM_RETAINED_DROPPED), 3000);
	assert_int_equal(ctr(RC_CTR_REASM_GAPS_MEMCAP), 0);
	feed_range(r, &s, 0, 0, 3000, 3500);
	expect_stream(0, 5500);
	finish(r, &s);
}

/* A payload cut by the snap length: the missing tail is a hole, then a gap. */
static void test_truncated_payload(void **state)
{
	(void)state;
	struct rc_reasm_stream s;
	struct rc_reasm *r = setup(&s);
	feed(r, &s, 0, 0, RC_TCP_SYN, NULL, 0);
	struct rc_reasm_segment g = {
		.seq = 1, .flags = RC_TCP_ACK, .payload = pattern, .len = 60, .wire_len = 1000};
	rc_reasm_segment(r, &s, 0, &g);
	feed_range(r, &s, 0, 0, 1000, 1100);
	finish(r, &s);
	assert_int_equal(seen[0].ngaps, 1);
	assert_int_equal(seen[0].gap_off[0], 60);
	assert_int_equal(seen[0].gap_len[0], 940);
	assert_int_equal(seen[0].n, 160);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct rc_reasm_config cfg;
	rc_reasm_config_default(&cfg);
	cfg.dir_max = 0;
	struct rc_reasm *r = (struct rc_reasm *)&cfg;
	assert_int_equal(rc_reasm_new(&r, &cfg, &ops, &ctrs), -EINVAL);
	assert_null(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),      cmocka_unit_test(test_reversed_and_permuted),
		cmocka_unit_test(test_duplicates),    cmocka_unit_test(test_overlap_first),
		cmocka_unit_test(test_overlap_last),  cmocka_unit_test(test_overlap_same),
		cmocka_unit_test(test_wraparound),    cmocka_unit_test(test_midstream),
		cmocka_unit_test(test_fin_then_data), cmocka_unit_test(test_rst),
		cmocka_unit_test(test_lost_segment),  cmocka_unit_test(test_acked_gap),
		cmocka_unit_test(test_keepalive),     cmocka_unit_test(test_dir_limit),
		cmocka_unit_test(test_memcap),	      cmocka_unit_test(test_memcap_retained_first),
		cmocka_unit_test(test_timeout),	      cmocka_unit_test(test_truncated_payload),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
