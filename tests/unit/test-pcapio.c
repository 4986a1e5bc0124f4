/* Unit tests of the capture file reader: every format variant and corruption is built here. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringcap/assert.h"
#include "ringcap/pcapio.h"
#include "../../src/pcapio/reader_internal.h"

/* ---- building captures ---- */

struct bld {
	uint8_t *p;
	size_t len, cap;
	int big;
};

static void put(struct bld *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void set32(struct bld *b, size_t at, uint32_t v)
{
	uint8_t x[4];
	for (int i = 0; i < 4; i++)
		x[i] = (uint8_t)(b->big ? v >> (24 - 8 * i) : v >> (8 * i));
	memcpy(b->p + at, x, 4);
}

static void put32(struct bld *b, uint32_t v)
{
	put(b, "\0\0\0\0", 4);
	set32(b, b->len - 4, v);
}

static void put16(struct bld *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(b->big ? v >> 8 : v), (uint8_t)(b->big ? v : v >> 8)};
	put(b, x, 2);
}

static void put64(struct bld *b, uint64_t v)
{
	put32(b, (uint32_t)(b->big ? v >> 32 : v));
	put32(b, (uint32_t)(b->big ? v : v >> 32));
}

/* Packet bytes are seed, seed+1, ... so that every delivered byte can be checked. */
static void put_data(struct bld *b, uint32_t n, uint8_t seed)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)(seed + i);
		put(b, &c, 1);
	}
}

static void check_data(const struct rc_packet *pkt, uint8_t seed)
{
	for (uint32_t i = 0; i < pkt->caplen; i++)
		if (pkt->data[i] != (uint8_t)(seed + i))
			fail_msg("byte %u of a %u-byte packet is 0x%02x, not 0x%02x", i,
				 pkt->caplen, pkt->data[i], (uint8_t)(seed + i));
}

static void bfree(struct bld *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void pcap_hdr(struct bld *b, int nsec, uint32_t snaplen, uint32_t network)
{
	put32(b, nsec ? 0xa1b23c4d : 0xa1b2c3d4);
	put16(b, 2);
	put16(b, 4);
	put32(b, 0);
	put32(b, 0);
	put32(b, snaplen);
	put32(b, network);
}

static void pcap_rec(struct bld *b, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t wirelen,
		     uint8_t seed)
{
	put32(b, sec);
	put32(b, frac);
	put32(b, caplen);
	put32(b, wirelen);
	put_data(b, caplen, seed);
}

/* pcapng: open a block (type, length placeholder), close it (pad, patch, trailer). */
static size_t ng_begin(struct bld *b, uint32_t type)
{
	size_t at = b->len;
	put32(b, type);
	put32(b, 0);
	return at;
}

static void ng_end(struct bld *b, size_t at)
{
	while (b->len % 4)
		put(b, "", 1);
	uint32_t total = (uint32_t)(b->len - at + 4);
	set32(b, at + 4, total);
	put32(b, total);
}

static void ng_shb_v(struct bld *b, uint16_t major, uint16_t minor)
{
	size_t at = ng_begin(b, 0x0a0d0d0a);
	put32(b, 0x1a2b3c4d);
	put16(b, major);
	put16(b, minor);
	put64(b, UINT64_MAX);
	ng_end(b, at);
}

static void ng_shb(struct bld *b)
{
	ng_shb_v(b, 1, 0);
}

static void opt(struct bld *b, uint16_t code, const void *v, uint16_t len)
{
	put16(b, code);
	put16(b, len);
	put(b, v, len);
	while (b->len % 4)
		put(b, "", 1);
}

/* tsresol < 0: no option. */
static void ng_idb_off(struct bld *b, uint16_t linktype, uint32_t snaplen, int tsresol,
		       int64_t tsoffset)
{
	size_t at = ng_begin(b, 1);
	put16(b, linktype);
	put16(b, 0);
	put32(b, snaplen);
	opt(b, 2, "eth0", 4); /* if_name, to be stepped over */
	if (tsresol >= 0) {
		uint8_t v = (uint8_t)tsresol;
		opt(b, 9, &v, 1);
	}
	if (tsoffset) {
		struct bld t = {.big = b->big};
		put64(&t, (uint64_t)tsoffset);
		opt(b, 14, t.p, 8);
		bfree(&t);
	}
	opt(b, 0, NULL, 0);
	ng_end(b, at);
}

static void ng_idb(struct bld *b, uint16_t linktype, uint32_t snaplen, int tsresol)
{
	ng_idb_off(b, linktype, snaplen, tsresol, 0);
}

static void ng_epb(struct bld *b, uint32_t ifid, uint64_t units, uint32_t caplen, uint32_t wirelen,
		   uint8_t seed)
{
	size_t at = ng_begin(b, 6);
	put32(b, ifid);
	put32(b, (uint32_t)(units >> 32));
	put32(b, (uint32_t)units);
	put32(b, caplen);
	put32(b, wirelen);
	put_data(b, caplen, seed);
	ng_end(b, at);
}

static void ng_spb(struct bld *b, uint32_t wirelen, uint32_t room, uint8_t seed)
{
	size_t at = ng_begin(b, 3);
	put32(b, wirelen);
	put_data(b, room, seed);
	ng_end(b, at);
}

static void ng_other(struct bld *b, uint32_t type, uint32_t n)
{
	size_t at = ng_begin(b, type);
	put_data(b, n, 0);
	ng_end(b, at);
}

/* ---- reading ---- */

static struct rc_ctrs ctrs;

static struct rc_reader *open_mem_ok(const struct bld *b, const struct rc_reader_options *opt)
{
	struct rc_reader *r = NULL;
	char err[512] = "";
	int rc = rc_reader_open_mem(&r, b->p, b->len, "mem.pcap", opt, &ctrs, err, sizeof(err));
	if (rc != 0)
		fail_msg("open failed (%d): %s", rc, err);
	return r;
}

/* Open expecting failure `code`; the message must name the file and contain `needle`. */
static void open_mem_fails(const struct bld *b, int code, const char *needle)
{
	struct rc_reader *r = NULL;
	char err[512] = "";
	int rc = rc_reader_open_mem(&r, b->p, b->len, "bad.pcap", NULL, &ctrs, err, sizeof(err));
	assert_null(r);
	if (rc != code || strncmp(err, "bad.pcap: ", 10) != 0 || !strstr(err, needle))
		fail_msg("open gave %d \"%s\"; wanted %d with \"%s\"", rc, err, code, needle);
}

/* Read to the end expecting `n` packets then failure `code` whose message contains `needle`. */
static void next_fails(struct rc_reader *r, unsigned n, int code, const char *needle)
{
	struct rc_packet pkt;
	unsigned got = 0;
	int rc;
	while ((rc = rc_reader_next(r, &pkt)) == 1)
		got++;
	assert_int_equal(got, n);
	if (rc != code || !strstr(rc_reader_error(r), needle))
		fail_msg("next gave %d \"%s\"; wanted %d with \"%s\"", rc, rc_reader_error(r), code,
			 needle);
	assert_int_equal(rc_reader_next(r, &pkt), code); /* sticky */
}

static void reset_ctrs(void)
{
	memset(&ctrs, 0, sizeof(ctrs));
}

static char *write_tmp(const void *data, size_t len)
{
	char *path = strdup("/tmp/test-pcapio-XXXXXX");
	if (!path)
		abort();
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void rm_tmp(char *path)
{
	unlink(path);
	free(path);
}

/* A copy of data that ends right before a PROT_NONE page, so a one-byte over-read faults. */
struct guarded {
	uint8_t *map;
	size_t maplen;
	uint8_t *data;
};

static struct guarded guard(const void *data, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct guarded g;
	g.maplen = (len + pg - 1) / pg * pg + pg;
	g.map = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g.map != MAP_FAILED);
	assert_int_equal(mprotect(g.map + g.maplen - pg, pg, PROT_NONE), 0);
	g.data = g.map + g.maplen - pg - len;
	if (len)
		memcpy(g.data, data, len);
	return g;
}

static void unguard(struct guarded *g)
{
	munmap(g->map, g->maplen);
}

/* ---- classic pcap ---- */

static const uint32_t linktypes[] = {RC_LINK_EN10MB, RC_LINK_LINUX_SLL, RC_LINK_LINUX_SLL2,
				     RC_LINK_RAW,    RC_LINK_IPV4,	RC_LINK_IPV6,
				     RC_LINK_NULL,   147 /* USER0 */,	0xfffe};
static const uint32_t snaplens[] = {65535, 64, 262144, 1048576, 0x7fffffff};

/* Three records: caplen 60..62 (<= every snaplen above), wirelen caplen + 10. */
static void build_pcap(struct bld *b, int big, int nsec, uint32_t snaplen, uint32_t network)
{
	b->big = big;
	pcap_hdr(b, nsec, snaplen, network);
	for (uint32_t i = 0; i < 3; i++)
		pcap_rec(b, 1700000000 + i, nsec ? 123456789 * i : 123456 * i, 60 + i, 70 + i,
			 (uint8_t)(i * 40));
}

static void check_pcap(struct rc_reader *r, int nsec, uint32_t snaplen, uint32_t linktype)
{
	struct rc_packet pkt;
	assert_string_equal(rc_reader_format(r), "pcap");
	assert_int_equal(rc_reader_linktype(r), linktype);
	assert_int_equal(rc_reader_snaplen(r), snaplen);
	uint64_t off = 24;
	assert_int_equal(rc_reader_offset(r), off);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(rc_reader_next(r, &pkt), 1);
		uint64_t frac = nsec ? 123456789ull * i : 123456000ull * i;
		assert_int_equal(pkt.ts_ns, (1700000000ull + i) * 1000000000ull + frac);
		assert_int_equal(pkt.ts_digits, nsec ? 9 : 6);
		assert_int_equal(pkt.caplen, 60 + i);
		assert_int_equal(pkt.wirelen, 70 + i);
		assert_int_equal(pkt.linktype, linktype);
		assert_int_equal(pkt.source, 0);
		check_data(&pkt, (uint8_t)(i * 40));
		off += 16 + 60 + i;
		assert_int_equal(rc_reader_offset(r), off);
	}
	assert_int_equal(rc_reader_next(r, &pkt), 0);
	assert_int_equal(rc_reader_next(r, &pkt), 0);
}

static void test_pcap_variants(void **state)
{
	(void)state;
	for (int big = 0; big < 2; big++)
		for (int nsec = 0; nsec < 2; nsec++)
			for (size_t l = 0; l < RC_ARRAY_SIZE(linktypes); l++)
				for (size_t s = 0; s < RC_ARRAY_SIZE(snaplens); s++) {
					/* Upper bits (FCS length, reserved) must be ignored. */
					uint32_t net = linktypes[l] | (s % 2 ? 0x14000000u : 0);
					struct bld b = {0};
					build_pcap(&b, big, nsec, snaplens[s], net);
					reset_ctrs();
					struct rc_reader *r = open_mem_ok(&b, NULL);
					check_pcap(r, nsec, snaplens[s], linktypes[l]);
					rc_reader_close(r);
					assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_PACKETS), 3);
					assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_BYTES),
							 60 + 61 + 62);
					assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_FILES), 1);
					assert_int_equal(
						rc_ctr_get(&ctrs, RC_CTR_READ_CAPLEN_GT_SNAPLEN),
						0);
					assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_ODD_VERSION),
							 0);
					bfree(&b);
				}
}

/* The same files through the mapped path (a path) and the chunked path (a descriptor). */
static void test_pcap_file_and_stream(void **state)
{
	(void)state;
	for (int big = 0; big < 2; big++)
		for (int nsec = 0; nsec < 2; nsec++) {
			struct bld b = {0};
			build_pcap(&b, big, nsec, 65535, RC_LINK_LINUX_SLL2);
			char *path = write_tmp(b.p, b.len);
			struct rc_reader *r;
			char err[512];
			assert_int_equal(rc_reader_open(&r, path, NULL, &ctrs, err, sizeof(err)),
					 0);
			assert_int_equal(r->input, RC_IN_STREAM);
			check_pcap(r, nsec, 65535, RC_LINK_LINUX_SLL2);
			rc_reader_close(r);
			for (size_t chunk = 1; chunk <= 128; chunk = chunk * 3 + 1) {
				int fd = open(path, O_RDONLY);
				assert_true(fd >= 0);
				assert_int_equal(rc_reader_open_fd(&r, fd, 1, path, chunk, NULL,
								   &ctrs, err, sizeof(err)),
						 0);
				check_pcap(r, nsec, 65535, RC_LINK_LINUX_SLL2);
				rc_reader_close(r);
			}
			rm_tmp(path);
			bfree(&b);
		}
}

static void test_pcap_bad_timestamp(void **state)
{
	(void)state;
	struct bld b = {0};
	pcap_hdr(&b, 0, 65535, 1);
	pcap_rec(&b, 100, 1500000, 1, 1, 0);	/* 1.5 s of usec */
	pcap_rec(&b, 100, UINT32_MAX, 1, 1, 0); /* 4294.967295 s */
	reset_ctrs();
	struct rc_reader *r = open_mem_ok(&b, NULL);
	struct rc_packet pkt;
	assert_int_equal(rc_reader_next(r, &pkt), 1);
	assert_int_equal(pkt.ts_ns, 101500000000ull);
	assert_int_equal(rc_reader_next(r, &pkt), 1);
	assert_int_equal(pkt.ts_ns, (100ull + 4294) * 1000000000ull + 967295000ull);
	assert_int_equal(rc_reader_next(r, &pkt), 0);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_BAD_TIMESTAMP), 2);
	rc_reader_close(r);
	bfree(&b);

	b.big = 1;
	pcap_hdr(&b, 1, 65535, 1);
	pcap_rec(&b, 7, 2500000000u, 1, 1, 0);
	pcap_rec(&b, 7, 999999999u, 1, 1, 0);
	reset_ctrs();
	r = open_mem_ok(&b, NULL);
	assert_int_equal(rc_reader_next(r, &pkt), 1);
	assert_int_equal(pkt.ts_ns, 9500000000ull);
	assert_int_equal(rc_reader_next(r, &pkt), 1);
	assert_int_equal(pkt.ts_ns, 7999999999ull);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_BAD_TIMESTAMP), 1);
	rc_reader_close(r);
	bfree(&b);
}

static void test_pcap_caplen_anomalies(void **state)
{
	(void)state;
	struct bld b = {0};
	pcap_hdr(&b, 0, 32, 1);
	pcap_rec(&b, 1, 0, 32, 100, 1);
	pcap_rec(&b, 1, 0, 40, 100, 2); /* over snaplen */
	pcap_rec(&b, 1, 0, 20, 10, 3);	/* over wirelen */
	reset_ctrs();
	struct rc_reader *r = open_mem_ok(&b, NULL);
	struct rc_packet pkt;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rc_reader_next(r, &pkt), 1);
		check_data(&pkt, (uint8_t)(i + 1));
	}
	assert_int_equal(rc_reader_next(r, &pkt), 0);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_CAPLEN_GT_SNAPLEN), 1);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_CAPLEN_GT_WIRELEN), 1);
	rc_reader_close(r);

	struct rc_reader_options strict = {.strict_snaplen = 1};
	r = open_mem_ok(&b, &strict);
	next_fails(r, 1, -ERANGE, "record at offset 72: caplen 40 exceeds snaplen 32");
	assert_int_equal(rc_reader_offset(r), 72);
	rc_reader_close(r);
	bfree(&b);
}

static void test_pcap_odd_version(void **state)
{
	(void)state;
	/* Versions 1.4 and 2.5 are laid out as 2.4: read, and counted. */
	struct bld b = {0};
	pcap_hdr(&b, 0, 65535, 1);
	pcap_rec(&b, 1, 0, 10, 10, 0);
	b.p[4] = 1;
	reset_ctrs();
	struct rc_reader *r = open_mem_ok(&b, NULL);
	next_fails(r, 1, 0, "");
	rc_reader_close(r);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_ODD_VERSION), 1);
	bfree(&b);
}

static void test_pcap_caplen_limit(void **state)
{
	(void)state;
	/* Exactly RC_MAX_CAPLEN is fine, one more stops, also through a small-chunk stream. */
	struct bld b = {0};
	pcap_hdr(&b, 0, 65535, 1);
	pcap_rec(&b, 1, 0, RC_MAX_CAPLEN, RC_MAX_CAPLEN, 9);
	pcap_rec(&b, 1, 0, RC_MAX_CAPLEN + 1, RC_MAX_CAPLEN + 1, 9);
	struct rc_reader *r = open_mem_ok(&b, NULL);
	char want[128];
	snprintf(want, sizeof(want), "record at offset %u: caplen %u exceeds the %u-byte limit",
		 24 + 16 + RC_MAX_CAPLEN, RC_MAX_CAPLEN + 1, RC_MAX_CAPLEN);
	next_fails(r, 1, -EFBIG, want);
	rc_reader_close(r);
	bfree(&b);

	/* A huge caplen on a pipe-like stream: refused before any buffer grows. */
	pcap_hdr(&b, 0, 65535, 1);
	pcap_rec(&b, 1, 0, 0, 0, 0);
	put32(&b, 1);
	put32(&b, 0);
	put32(&b, 0xffffffff);
	put32(&b, 0xffffffff);
	char *path = write_tmp(b.p, b.len);
	int fd = open(path, O_RDONLY);
	char err[512];
	assert_int_equal(rc_reader_open_fd(&r, fd, 1, path, 64, NULL, &ctrs, err, sizeof(err)), 0);
	next_fails(r, 1, -EFBIG, "record at offset 40: caplen 4294967295 exceeds");
	assert_int_equal(r->bufcap, 64);
	rc_reader_close(r);
	rm_tmp(path);
	bfree(&b);
}

static void test_pcap_truncated(void **state)
{
	(void)state;
	struct bld b = {0};
	pcap_hdr(&b, 0, 65535, 1);
	pcap_rec(&b, 1, 0, 100, 100, 0);
	pcap_rec(&b, 2, 0, 50, 50, 0);
	pcap_rec(&b, 3, 0, 80, 80, 0);
	size_t full = b.len;
	/* Last record cut by 5 bytes: the two before are delivered, the error names offset 206. */
	b.len = full - 5;
	struct rc_reader *r = open_mem_ok(&b, NULL);
	next_fails(r, 2, -EBADMSG,
		   "mem.pcap: truncated record at offset 206: caplen 80 but only 75 bytes follow");
	assert_int_equal(rc_reader_offset(r), 206);
	rc_reader_close(r);
	/* Cut inside the last record header. */
	b.len = 206 + 7;
	r = open_mem_ok(&b, NULL);
	next_fails(r, 2, -EBADMSG, "truncated record header at offset 206 (7 of 16 bytes)");
	rc_reader_close(r);
	/* The same through a stream with chunks that straddle every record. */
	b.len = full - 5;
	char *path = write_tmp(b.p, b.len);
	char err[512];
	assert_int_equal(rc_reader_open_fd(&r, open(path, O_RDONLY), 1, path, 7, NULL, &ctrs, err,
					   sizeof(err)),
			 0);
	next_fails(r, 2, -EBADMSG, "truncated record at offset 206: caplen 80 but only 75");
	rc_reader_close(r);
	rm_tmp(path);
	/* Truncated file header. */
	b.len = 10;
	open_mem_fails(&b, -EBADMSG, "truncated pcap file header (10 of 24 bytes)");
	bfree(&b);
}

/* Count the packets of a prefix of a capture, reading from a guarded copy. */
static int read_prefix(const uint8_t *data, size_t len, unsigned *n)
{
	struct guarded g = guard(data, len);
	struct rc_reader *r;
	char err[512];
	*n = 0;
	int rc = rc_reader_open_mem(&r, g.data, len, "prefix", NULL, &ctrs, err, sizeof(err));
	if (rc == 0) {
		struct rc_packet pkt;
		uint64_t sum = 0;
		while ((rc = rc_reader_next(r, &pkt)) == 1) {
			(*n)++;
			for (uint32_t i = 0; i < pkt.caplen; i++)
				sum += pkt.data[i];
		}
		(void)sum;
		rc_reader_close(r);
	}
	unguard(&g);
	return rc;
}

/* Every prefix: packets = records wholly inside it, clean end only at a record boundary. */
static void sweep(const struct bld *b, const size_t *ends, size_t nends, size_t hdr_end,
		  const int *is_pkt)
{
	for (size_t len = 0; len <= b->len; len++) {
		unsigned n, want = 0;
		int boundary = len == hdr_end;
		for (size_t i = 0; i < nends; i++) {
			if (ends[i] <= len && is_pkt[i])
				want++;
			if (ends[i] == len)
				boundary = 1;
		}
		int rc = read_prefix(b->p, len, &n);
		if (len < hdr_end) {
			assert_true(rc < 0);
			continue;
		}
		if (n != want || (boundary ? rc != 0 : rc >= 0))
			fail_msg("prefix %zu: %u packets rc %d, wanted %u packets, %s", len, n, rc,
				 want, boundary ? "clean end" : "an error");
	}
}

static void test_truncation_sweep(void **state)
{
	(void)state;
	size_t ends[16];
	int is_pkt[16];
	size_t n = 0;
	struct bld b = {.big = 1};
	pcap_hdr(&b, 1, 65535, 1);
	for (uint32_t i = 0; i < 4; i++) {
		pcap_rec(&b, i, i, i * 7, i * 7, 0);
		ends[n] = b.len;
		is_pkt[n++] = 1;
	}
	sweep(&b, ends, n, 24, is_pkt);
	bfree(&b);

	/* Open takes the section header and the interfaces after it. */
	n = 0;
	ng_shb(&b);
	size_t hdr_end = b.len;
	ng_idb(&b, 1, 0, 9);
	ends[n] = b.len;
	is_pkt[n++] = 0;
	ng_epb(&b, 0, 1, 13, 13, 0);
	ends[n] = b.len;
	is_pkt[n++] = 1;
	ng_other(&b, 5, 10);
	ends[n] = b.len;
	is_pkt[n++] = 0;
	ng_spb(&b, 9, 9, 0);
	ends[n] = b.len;
	is_pkt[n++] = 1;
	ng_idb(&b, 101, 0, -1);
	ends[n] = b.len;
	is_pkt[n++] = 0;
	ng_epb(&b, 1, 1, 0, 0, 0);
	ends[n] = b.len;
	is_pkt[n++] = 1;
	sweep(&b, ends, n, hdr_end, is_pkt);
	bfree(&b);
}

/* ---- pcapng ---- */

static void test_pcapng_basic(void **state)
{
	(void)state;
	for (int big = 0; big < 2; big++) {
		struct bld b = {.big = big};
		ng_shb(&b);
		ng_idb(&b, RC_LINK_EN10MB, 65535, -1);
		ng_epb(&b, 0, 1700000000123456ull, 60, 60, 1);
		ng_epb(&b, 0, 1700000001000001ull, 61, 1514, 2);
		reset_ctrs();
		struct rc_reader *r = open_mem_ok(&b, NULL);
		assert_string_equal(rc_reader_format(r), "pcapng");
		assert_int_equal(rc_reader_linktype(r), RC_LINK_EN10MB);
		assert_int_equal(rc_reader_snaplen(r), 65535);
		struct rc_packet pkt;
		assert_int_equal(rc_reader_next(r, &pkt), 1);
		assert_int_equal(pkt.ts_ns, 1700000000123456000ull);
		assert_int_equal(pkt.ts_digits, 6);
		assert_int_equal(pkt.caplen, 60);
		assert_int_equal(pkt.wirelen, 60);
		assert_int_equal(pkt.linktype, RC_LINK_EN10MB);
		assert_int_equal(pkt.source, 0);
		check_data(&pkt, 1);
		assert_int_equal(rc_reader_next(r, &pkt), 1);
		assert_int_equal(pkt.ts_ns, 1700000001000001000ull);
		assert_int_equal(pkt.caplen, 61);
		assert_int_equal(pkt.wirelen, 1514);
		check_data(&pkt, 2);
		assert_int_equal(rc_reader_next(r, &pkt), 0);
		assert_int_equal(rc_reader_offset(r), b.len);
		assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_PACKETS), 2);
		assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_PCAPNG_SECTIONS), 1);
		assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_PCAPNG_INTERFACES), 1);
		rc_reader_close(r);
		bfree(&b);
	}
}

static uint64_t one_ts(int tsresol, int64_t tsoffset, uint64_t units, uint8_t *digits)
{
	struct bld b = {0};
	ng_shb(&b);
	ng_idb_off(&b, 1, 0, tsresol, tsoffset);
	ng_epb(&b, 0, units, 4, 4, 0);
	struct rc_reader *r = open_mem_ok(&b, NULL);
	struct rc_packet pkt;
	assert_int_equal(rc_reader_next(r, &pkt), 1);
	*digits = pkt.ts_digits;
	rc_reader_close(r);
	bfree(&b);
	return pkt.ts_ns;
}

static void test_pcapng_tsresol(void **state)
{
	(void)state;
	uint8_t d;
	assert_int_equal(one_ts(9, 0, 1700000000123456789ull, &d), 1700000000123456789ull);
	assert_int_equal(d, 9);
	/* 2^-10: 5.5 s is 5 * 1024 + 512 units. */
	assert_int_equal(one_ts(0x80 | 10, 0, 5 * 1024 + 512, &d), 5500000000ull);
	assert_int_equal(d, 4);
	/* 2^-10 with a fraction that is not a whole number of ns: 1/1024 s = 976562.5 ns. */
	assert_int_equal(one_ts(0x80 | 10, 0, 1, &d), 976562);
	assert_int_equal(one_ts(3, 0, 1234, &d), 1234000000ull);
	assert_int_equal(d, 3);
	assert_int_equal(one_ts(0, 0, 17, &d), 17000000000ull);
	assert_int_equal(d, 0);
	/* Picoseconds: finer than ns, truncated; no overflow for a large count. */
	assert_int_equal(one_ts(12, 0, 1700000000123456789ull, &d), 1700000000123456ull);
	assert_int_equal(d, 9);
	assert_int_equal(one_ts(0x80 | 32, 0, 3ull << 32, &d), 3000000000ull);
	assert_int_equal(d, 9);
	/* if_tsoffset (seconds) is added. */
	assert_int_equal(one_ts(6, 100, 1500000, &d), 101500000000ull);
	/* Out of range: clamped and counted. */
	reset_ctrs();
	assert_int_equal(one_ts(0, 0, 1ull << 62, &d), UINT64_MAX);
	assert_int_equal(one_ts(6, -100, 0, &d), 0);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_BAD_TIMESTAMP), 2);
	/* A resolution beyond what 64 bits count refuses. */
	struct bld b = {0};
	ng_shb(&b);
	ng_idb(&b, 1, 0, 20);
	open_mem_fails(&b, -ENOTSUP, "if_tsresol 10^-20");
	bfree(&b);
}

static void test_pcapng_spb_opb_unknown(void **state)
{
	(void)state;
	for (int big = 0; big < 2; big++) {
		struct bld b = {.big = big};
		ng_shb(&b);
		ng_idb(&b, RC_LINK_RAW, 50, -1);
		ng_spb(&b, 40, 40, 1);	     /* caplen 40: all there */
		ng_other(&b, 2, 40);	     /* obsolete Packet Block */
		ng_spb(&b, 100, 60, 2);	     /* caplen 50: snaplen */
		ng_other(&b, 5, 12);	     /* Interface Statistics */
		ng_spb(&b, 100, 20, 3);	     /* caplen 20: the block's room */
		ng_other(&b, 0x4000abcd, 0); /* unknown */
		ng_spb(&b, 3, 4, 4);	     /* caplen 3: wire length, padding after */
		reset_ctrs();
		struct rc_reader *r = open_mem_ok(&b, NULL);
		struct rc_packet pkt;
		static const uint32_t caplens[] = {40, 50, 20, 3};
		static const uint32_t wirelens[] = {40, 100, 100, 3};
		for (int i = 0; i < 4; i++) {
			assert_int_equal(rc_reader_next(r, &pkt), 1);
			assert_int_equal(pkt.caplen, caplens[i]);
			assert_int_equal(pkt.wirelen, wirelens[i]);
			assert_int_equal(pkt.linktype, RC_LINK_RAW);
			assert_int_equal(pkt.ts_digits, 0);
			check_data(&pkt, (uint8_t)(i + 1));
		}
		assert_int_equal(rc_reader_next(r, &pkt), 0);
		assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_PCAPNG_OPB_SKIPPED), 1);
		assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_PCAPNG_BLOCKS_SKIPPED), 2);
		assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_CAPLEN_GT_SNAPLEN), 0);
		rc_reader_close(r);
		bfree(&b);
	}
}

static void test_pcapng_two_interfaces(void **state)
{
	(void)state;
	struct bld b = {0};
	ng_shb(&b);
	ng_idb(&b, RC_LINK_EN10MB, 100, 9);
	ng_idb(&b, RC_LINK_IPV6, 0, -1);
	ng_epb(&b, 1, 5000000, 10, 10, 1);
	ng_epb(&b, 0, 5000000, 10, 10, 2);
	ng_epb(&b, 1, 6000000, 200, 300, 3);
	reset_ctrs();
	struct rc_reader *r = open_mem_ok(&b, NULL);
	assert_int_equal(rc_reader_linktype(r), RC_LINK_EN10MB);
	assert_int_equal(rc_reader_snaplen(r), 100);
	struct rc_packet pkt;
	static const struct {
		uint8_t src;
		uint32_t lt;
		uint64_t ts;
		uint8_t digits;
	} want[] = {{1, RC_LINK_IPV6, 5000000000ull, 6},
		    {0, RC_LINK_EN10MB, 5000000ull, 9},
		    {1, RC_LINK_IPV6, 6000000000ull, 6}};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rc_reader_next(r, &pkt), 1);
		assert_int_equal(pkt.source, want[i].src);
		assert_int_equal(pkt.linktype, want[i].lt);
		assert_int_equal(pkt.ts_ns, want[i].ts);
		assert_int_equal(pkt.ts_digits, want[i].digits);
		check_data(&pkt, (uint8_t)(i + 1));
	}
	assert_int_equal(rc_reader_next(r, &pkt), 0);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_PCAPNG_INTERFACES), 2);
	rc_reader_close(r);
	bfree(&b);
}

static void test_pcapng_two_sections(void **state)
{
	(void)state;
	struct bld b = {.big = 0};
	ng_shb(&b);
	ng_idb(&b, RC_LINK_EN10MB, 0, -1);
	ng_idb(&b, RC_LINK_RAW, 0, -1);
	ng_epb(&b, 1, 1, 8, 8, 1);
	b.big = 1;
	ng_shb_v(&b, 1, 2); /* 1.2 is read as 1.0 */
	ng_idb(&b, RC_LINK_LINUX_SLL2, 0, 9);
	ng_epb(&b, 0, 2, 9, 9, 2);
	size_t bad = b.len;
	ng_epb(&b, 1, 3, 9, 9, 3); /* interface 1 was the first section's */
	reset_ctrs();
	struct rc_reader *r = open_mem_ok(&b, NULL);
	struct rc_packet pkt;
	assert_int_equal(rc_reader_next(r, &pkt), 1);
	assert_int_equal(pkt.source, 1);
	assert_int_equal(pkt.linktype, RC_LINK_RAW);
	assert_int_equal(pkt.ts_ns, 1000);
	check_data(&pkt, 1);
	assert_int_equal(rc_reader_next(r, &pkt), 1);
	assert_int_equal(pkt.source, 0);
	assert_int_equal(pkt.linktype, RC_LINK_LINUX_SLL2);
	assert_int_equal(pkt.ts_ns, 2);
	check_data(&pkt, 2);
	char want[128];
	snprintf(want, sizeof(want),
		 "enhanced packet block at offset %zu names interface 1, but the section has 1",
		 bad);
	next_fails(r, 0, -EBADMSG, want);
	assert_int_equal(rc_reader_offset(r), bad);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_PCAPNG_SECTIONS), 2);
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_PCAPNG_INTERFACES), 3);
	/* The first interface of the file stays the reader's link type. */
	assert_int_equal(rc_reader_linktype(r), RC_LINK_EN10MB);
	rc_reader_close(r);
	bfree(&b);
}

static void test_pcapng_many_interfaces(void **state)
{
	(void)state;
	struct bld b = {0};
	ng_shb(&b);
	for (int i = 0; i < 257; i++)
		ng_idb(&b, (uint16_t)(1000 + i), 0, -1);
	ng_epb(&b, 255, 0, 1, 1, 0);
	size_t bad = b.len;
	ng_epb(&b, 256, 0, 1, 1, 0);
	struct rc_reader *r = open_mem_ok(&b, NULL);
	struct rc_packet pkt;
	assert_int_equal(rc_reader_next(r, &pkt), 1);
	assert_int_equal(pkt.source, 255);
	assert_int_equal(pkt.linktype, 1255);
	char want[128];
	snprintf(want, sizeof(want), "at offset %zu names interface 256; ringcap reads at most 256",
		 bad);
	next_fails(r, 0, -ENOTSUP, want);
	rc_reader_close(r);
	bfree(&b);
}

static void test_pcapng_damaged(void **state)
{
	(void)state;
	struct bld b = {0};
	char want[160];

	/* Block length not a multiple of 4, then under 12: error at the block's offset. */
	ng_shb(&b);
	ng_idb(&b, 1, 0, -1);
	size_t at = b.len;
	ng_epb(&b, 0, 0, 4, 4, 0);
	ng_epb(&b, 0, 0, 4, 4, 0);
	size_t good = b.len;
	set32(&b, at + 4, 38);
	struct rc_reader *r = open_mem_ok(&b, NULL);
	snprintf(want, sizeof(want), "block at offset %zu (type 0x00000006): bad length 38", at);
	next_fails(r, 0, -EBADMSG, want);
	rc_reader_close(r);
	set32(&b, at + 4, 8);
	r = open_mem_ok(&b, NULL);
	next_fails(r, 0, -EBADMSG, "bad length 8 (must be a multiple of 4, at least 12)");
	rc_reader_close(r);
	set32(&b, at + 4, 36);

	/* Trailing length differs from the leading one. */
	set32(&b, good - 4, 40);
	r = open_mem_ok(&b, NULL);
	snprintf(want, sizeof(want),
		 "block at offset %zu (type 0x00000006): trailing length 40 differs from leading "
		 "length 36",
		 at + 36);
	next_fails(r, 1, -EBADMSG, want);
	rc_reader_close(r);
	set32(&b, good - 4, 36);

	/* Truncated last block. */
	b.len = good - 1;
	r = open_mem_ok(&b, NULL);
	snprintf(want, sizeof(want),
		 "truncated block at offset %zu (type 0x00000006): length 36 but only 35", at + 36);
	next_fails(r, 1, -EBADMSG, want);
	rc_reader_close(r);
	b.len = good + 5;
	memset(b.p + good, 0, 5);
	r = open_mem_ok(&b, NULL);
	snprintf(want, sizeof(want), "truncated block header at offset %zu (5 of 8 bytes)", good);
	next_fails(r, 2, -EBADMSG, want);
	rc_reader_close(r);
	b.len = good;

	/* caplen overrunning its block; caplen over the limit. */
	set32(&b, at + 20, 9);
	r = open_mem_ok(&b, NULL);
	snprintf(want, sizeof(want),
		 "enhanced packet block at offset %zu: caplen 9 overruns the block (36 bytes)", at);
	next_fails(r, 0, -EBADMSG, want);
	rc_reader_close(r);
	set32(&b, at + 20, RC_MAX_CAPLEN + 1);
	r = open_mem_ok(&b, NULL);
	next_fails(r, 0, -EFBIG, "caplen 262145 exceeds the 262144-byte limit");
	rc_reader_close(r);
	set32(&b, at + 20, 4);

	/* strict snaplen on pcapng. */
	bfree(&b);
	ng_shb(&b);
	ng_idb(&b, 1, 3, -1);
	at = b.len;
	ng_epb(&b, 0, 0, 4, 4, 0);
	struct rc_reader_options strict = {.strict_snaplen = 1};
	r = open_mem_ok(&b, &strict);
	snprintf(want, sizeof(want),
		 "enhanced packet block at offset %zu: caplen 4 exceeds snaplen 3", at);
	next_fails(r, 0, -ERANGE, want);
	rc_reader_close(r);
	reset_ctrs();
	r = open_mem_ok(&b, NULL);
	next_fails(r, 1, 0, "");
	assert_int_equal(rc_ctr_get(&ctrs, RC_CTR_READ_CAPLEN_GT_SNAPLEN), 1);
	rc_reader_close(r);
	bfree(&b);

	/* EPB before any interface; SPB with none. */
	ng_shb(&b);
	at = b.len;
	ng_epb(&b, 0, 0, 4, 4, 0);
	r = open_mem_ok(&b, NULL);
	assert_int_equal(rc_reader_linktype(r), -1);
	snprintf(want, sizeof(want),
		 "enhanced packet block at offset %zu names interface 0, but the section has 0",
		 at);
	next_fails(r, 0, -EBADMSG, want);
	rc_reader_close(r);
	bfree(&b);
	ng_shb(&b);
	ng_spb(&b, 4, 4, 0);
	r = open_mem_ok(&b, NULL);
	next_fails(r, 0, -EBADMSG, "simple packet block at offset 28 names interface 0");
	rc_reader_close(r);
	bfree(&b);

	/* An option overrunning its block, in the SHB and in an IDB. */
	ng_shb(&b);
	b.len -= 4;
	opt(&b, 1, "comment!", 8);
	ng_end(&b, 0);
	set32(&b, 26, 0x3030); /* the comment's length */
	open_mem_fails(&b, -EBADMSG, "option 1 of length 12336 overruns the block");
	bfree(&b);
	ng_shb(&b);
	at = b.len;
	ng_idb(&b, 1, 0, -1);
	set32(&b, at + 18, 0x200); /* if_name length: b->big is 0, so the low half */
	open_mem_fails(&b, -EBADMSG, "option 2 of length 512 overruns");
	bfree(&b);

	/* if_tsresol must be one byte. */
	ng_shb(&b);
	at = b.len;
	size_t blk = ng_begin(&b, 1);
	put32(&b, 1);
	put32(&b, 0);
	opt(&b, 9, "\x06\x06", 2);
	ng_end(&b, blk);
	open_mem_fails(&b, -EBADMSG, "if_tsresol of length 2, not 1");
	bfree(&b);
}

static void test_pcapng_header_errors(void **state)
{
	(void)state;
	struct bld b = {0};
	ng_shb_v(&b, 0, 1);
	open_mem_fails(&b, -ENOTSUP, "section header at offset 0: unsupported pcapng version 0.1");
	bfree(&b);
	b.big = 1;
	ng_shb_v(&b, 1, 1);
	open_mem_fails(&b, -ENOTSUP, "unsupported pcapng version 1.1");
	bfree(&b);
	ng_shb(&b);
	set32(&b, 8, 0x12345678); /* little-endian: the file holds 78 56 34 12 */
	open_mem_fails(&b, -EBADMSG, "bad byte-order magic 0x78563412");
	bfree(&b);
	ng_shb(&b);
	b.len = 20;
	open_mem_fails(&b, -EBADMSG, "truncated block at offset 0 (type 0x0a0d0d0a): length 28");
	b.len = 10;
	open_mem_fails(&b, -EBADMSG, "truncated section header at offset 0 (10 bytes)");
	bfree(&b);
	/* A second section with a bad version stops where it starts. */
	ng_shb(&b);
	ng_idb(&b, 1, 0, -1);
	ng_epb(&b, 0, 0, 1, 1, 0);
	size_t at = b.len;
	b.big = 1;
	ng_shb_v(&b, 2, 0);
	struct rc_reader *r = open_mem_ok(&b, NULL);
	char want[128];
	snprintf(want, sizeof(want), "section header at offset %zu: unsupported pcapng version 2.0",
		 at);
	next_fails(r, 1, -ENOTSUP, want);
	rc_reader_close(r);
	bfree(&b);
}

/* ---- files, directories, pipes ---- */

static void open_path_fails(const char *path, int code, const char *needle)
{
	struct rc_reader *r = NULL;
	char err[512] = "";
	int rc = rc_reader_open(&r, path, NULL, &ctrs, err, sizeof(err));
	assert_null(r);
	if (rc != code || strncmp(err, path, strlen(path)) != 0 || !strstr(err, needle))
		fail_msg("open %s gave %d \"%s\"; wanted %d with \"%s\"", path, rc, err, code,
			 needle);
}

static void test_open_errors(void **state)
{
	(void)state;
	open_path_fails("/tmp/test-pcapio-surely-missing.pcap", -ENOENT, ": no such file");
	open_path_fails("/tmp", -EISDIR, "/tmp: is a directory");

	char *empty = write_tmp("", 0);
	open_path_fails(empty, -ENODATA, ": empty file");
	char sub[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/x.pcap", empty);
	open_path_fails(sub, -ENOTDIR, "not a directory");

	/*
	 * Unreadable: tests run as root, whom mode 000 does not stop, so the open happens in a
	 * child that drops to an unprivileged user first. Skipped where that is impossible.
	 */
	chmod(empty, 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(77);
		if (access(empty, R_OK) == 0)
			_exit(77);
		struct rc_reader *r = NULL;
		char err[512] = "";
		int rc = rc_reader_open(&r, empty, NULL, &ctrs, err, sizeof(err));
		_exit(rc == -EACCES && strstr(err, ": permission denied") ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_true(WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 77);
	rm_tmp(empty);

	char *text = write_tmp("hello, world\n", 13);
	open_path_fails(text, -EINVAL, ": not a pcap or pcapng file (starts with 0x68656c6c)");
	rm_tmp(text);
	char *tiny = write_tmp("\xd4\xc3", 2);
	open_path_fails(tiny, -EINVAL, ": too short to be a capture file (2 bytes)");
	rm_tmp(tiny);

	struct bld b = {0};
	open_mem_fails(&b, -ENODATA, "empty file");
	put(&b,
	    "\x7f"
	    "ELF\x02\x01\x01",
	    7);
	open_mem_fails(&b, -EINVAL, "not a pcap or pcapng file (starts with 0x7f454c46)");
	bfree(&b);
}

/* Start a child that writes data into a pipe; returns the read end. */
static int pipe_from(const void *data, size_t len, pid_t *pid)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		close(p[0]);
		const uint8_t *d = data;
		while (len) {
			/* Odd write sizes, so the reader's reads end mid-record. */
			size_t n = len < 4099 ? len : 4099;
			ssize_t w = write(p[1], d, n);
			if (w <= 0)
				_exit(1);
			d += w;
			len -= (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static void reap(pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Records of sizes 0..3000 and one of RC_MAX_CAPLEN, so chunks of any size split some. */
static void build_big(struct bld *b, size_t bytes, uint32_t *n)
{
	b->big = 0;
	pcap_hdr(b, 1, RC_MAX_CAPLEN, RC_LINK_EN10MB);
	*n = 0;
	while (b->len < bytes) {
		uint32_t cap = *n == 7 ? RC_MAX_CAPLEN : (*n * 7919u) % 3001u;
		pcap_rec(b, *n, *n, cap, cap, (uint8_t)*n);
		(*n)++;
	}
}

static void read_big(struct rc_reader *r, uint32_t n)
{
	struct rc_packet pkt;
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(rc_reader_next(r, &pkt), 1);
		assert_int_equal(pkt.caplen, i == 7 ? RC_MAX_CAPLEN : (i * 7919u) % 3001u);
		assert_int_equal(pkt.ts_ns, i * 1000000000ull + i);
		check_data(&pkt, (uint8_t)i);
	}
	assert_int_equal(rc_reader_next(r, &pkt), 0);
}

static void test_stream_pipe(void **state)
{
	(void)state;
	struct bld b = {0};
	uint32_t n;
	build_big(&b, 600000, &n);
	char err[512];
	struct rc_reader *r;
	static const size_t chunks[] = {1, 61, 4096, 100000};
	for (size_t c = 0; c < RC_ARRAY_SIZE(chunks); c++) {
		pid_t pid;
		int fd = pipe_from(b.p, b.len, &pid);
		assert_int_equal(rc_reader_open_fd(&r, fd, 1, "pipe", chunks[c], NULL, &ctrs, err,
						   sizeof(err)),
				 0);
		read_big(r, n);
		assert_int_equal(rc_reader_offset(r), b.len);
		rc_reader_close(r);
		reap(pid);
	}
	/* Truncated through a pipe: the same offset and message as from memory. */
	b.len--;
	r = open_mem_ok(&b, NULL);
	struct rc_packet pkt;
	while (rc_reader_next(r, &pkt) == 1)
		;
	uint64_t off = rc_reader_offset(r);
	char want[512];
	snprintf(want, sizeof(want), "pipe%s", strchr(rc_reader_error(r), ':'));
	rc_reader_close(r);
	pid_t pid;
	int fd = pipe_from(b.p, b.len, &pid);
	assert_int_equal(rc_reader_open_fd(&r, fd, 1, "pipe", 4096, NULL, &ctrs, err, sizeof(err)),
			 0);
	next_fails(r, n - 1, -EBADMSG, want);
	assert_int_equal(rc_reader_offset(r), off);
	rc_reader_close(r);
	reap(pid);
	/* pcapng through a pipe, blocks split by the chunks. */
	bfree(&b);
	ng_shb(&b);
	ng_idb(&b, 1, 0, -1);
	for (uint32_t i = 0; i < 50; i++) {
		ng_epb(&b, 0, i, i * 13, i * 13, (uint8_t)i);
		ng_other(&b, 5, i);
	}
	b.big = 1;
	ng_shb(&b);
	ng_idb(&b, 101, 0, -1);
	ng_epb(&b, 0, 50, 50 * 13, 50 * 13, 50);
	fd = pipe_from(b.p, b.len, &pid);
	assert_int_equal(rc_reader_open_fd(&r, fd, 1, "pipe", 37, NULL, &ctrs, err, sizeof(err)),
			 0);
	for (uint32_t i = 0; i <= 50; i++) {
		assert_int_equal(rc_reader_next(r, &pkt), 1);
		assert_int_equal(pkt.caplen, i * 13);
		assert_int_equal(pkt.linktype, i == 50 ? 101 : 1);
		check_data(&pkt, (uint8_t)i);
	}
	assert_int_equal(rc_reader_next(r, &pkt), 0);
	rc_reader_close(r);
	reap(pid);
	bfree(&b);
}

/* "-" reads standard input; a pipe there uses the default 1 MiB chunks, records straddle them. */
static void test_stdin(void **state)
{
	(void)state;
	struct bld b = {0};
	uint32_t n;
	build_big(&b, 3u << 20, &n);
	int saved = dup(0);
	assert_true(saved >= 0);
	pid_t pid;
	int fd = pipe_from(b.p, b.len, &pid);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	struct rc_reader *r;
	char err[512];
	assert_int_equal(rc_reader_open(&r, "-", NULL, &ctrs, err, sizeof(err)), 0);
	assert_int_equal(r->input, RC_IN_STREAM);
	read_big(r, n);
	rc_reader_close(r);
	reap(pid);
	/* A regular file on standard input is read like any file. */
	char *path = write_tmp(b.p, b.len);
	fd = open(path, O_RDONLY);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	assert_int_equal(rc_reader_open(&r, "-", NULL, &ctrs, err, sizeof(err)), 0);
	assert_int_equal(r->input, RC_IN_STREAM);
	read_big(r, n);
	rc_reader_close(r);
	/* An empty pipe. */
	fd = pipe_from("", 0, &pid);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	assert_int_equal(rc_reader_open(&r, "-", NULL, &ctrs, err, sizeof(err)), -ENODATA);
	assert_string_equal(err, "standard input: empty file");
	reap(pid);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	rm_tmp(path);
	bfree(&b);
}

/* ---- the shared corpus ---- */

/* Split a TSV line in place; returns the number of fields. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	line[strcspn(line, "\r\n")] = 0;
	while (n < max) {
		f[n++] = line;
		char *t = strchr(line, '\t');
		if (!t)
			break;
		*t = 0;
		line = t + 1;
	}
	return n;
}

static int col(char **hdr, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(hdr[i], name) == 0)
			return i;
	fail_msg("INDEX.tsv has no column %s", name);
	return -1;
}

/* Read a whole file; returns the final code (0 clean end) and the packet count. */
static int read_file(const char *path, unsigned long *n, char *err, size_t errlen)
{
	struct rc_reader *r;
	*n = 0;
	int rc = rc_reader_open(&r, path, NULL, &ctrs, err, errlen);
	if (rc < 0)
		return rc;
	struct rc_packet pkt;
	uint64_t sum = 0;
	while ((rc = rc_reader_next(r, &pkt)) == 1) {
		(*n)++;
		for (uint32_t i = 0; i < pkt.caplen; i++)
			sum += pkt.data[i];
	}
	(void)sum;
	snprintf(err, errlen, "%s", rc_reader_error(r));
	rc_reader_close(r);
	return rc;
}

/* Check every file an INDEX.tsv lists; returns how many. */
static int check_index(const char *dir, int pcapng)
{
	char path[PATH_MAX], line[8192], err[512];
	snprintf(path, sizeof(path), "%s/INDEX.tsv", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	char hline[8192];
	char *hdr[32], *v[32];
	assert_non_null(fgets(hline, sizeof(hline), f));
	int nh = split(hline, hdr, 32);
	int cfile = col(hdr, nh, "file"), cerr = col(hdr, nh, "tshark_error");
	int ccount = col(hdr, nh, pcapng ? "packets" : "records");
	int ctail = pcapng ? -1 : col(hdr, nh, "tail");
	int files = 0;
	while (fgets(line, sizeof(line), f)) {
		int nv = split(line, v, 32);
		assert_true(nv == nh);
		snprintf(path, sizeof(path), "%s/%s", dir, v[cfile]);
		unsigned long n;
		int rc = read_file(path, &n, err, sizeof(err));
		unsigned long want = strtoul(v[ccount], NULL, 10);
		if (pcapng && v[cerr][0]) {
			/* Refused by Wireshark: we must refuse too, saying why. */
			if (rc >= 0 || !err[0])
				fail_msg("%s: read %lu packets, but Wireshark refuses it (%s)",
					 v[cfile], n, v[cerr]);
			print_message("  %s refused: %s\n", v[cfile], err);
		} else if (!pcapng && strcmp(v[ctail], "none") != 0) {
			if (rc >= 0 || n != want)
				fail_msg("%s: %lu records rc %d, wanted %lu then an error",
					 v[cfile], n, rc, want);
		} else if (rc != 0 || n != want) {
			fail_msg("%s: %lu packets rc %d (%s), wanted %lu", v[cfile], n, rc, err,
				 want);
		}
		files++;
	}
	fclose(f);
	return files;
}

static void test_corpus(void **state)
{
	(void)state;
	const char *corpus = getenv("RINGCAP_CORPUS");
	char dir[PATH_MAX];
	struct stat st;
	if (!corpus || stat(corpus, &st) < 0) {
		print_message("RINGCAP_CORPUS unset or missing: corpus test skipped\n");
		skip();
	}
	snprintf(dir, sizeof(dir), "%s/pcapng", corpus);
	int n = check_index(dir, 1);
	snprintf(dir, sizeof(dir), "%s/malformed", corpus);
	int m = check_index(dir, 0);
	print_message("  corpus: %d pcapng and %d classic files as INDEX.tsv says\n", n, m);
	assert_true(n > 0 && m > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcap_variants),
		cmocka_unit_test(test_pcap_file_and_stream),
		cmocka_unit_test(test_pcap_bad_timestamp),
		cmocka_unit_test(test_pcap_caplen_anomalies),
		cmocka_unit_test(test_pcap_odd_version),
		cmocka_unit_test(test_pcap_caplen_limit),
		cmocka_unit_test(test_pcap_truncated),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_pcapng_basic),
		cmocka_unit_test(test_pcapng_tsresol),
		cmocka_unit_test(test_pcapng_spb_opb_unknown),
		cmocka_unit_test(test_pcapng_two_interfaces),
		cmocka_unit_test(test_pcapng_two_sections),
		cmocka_unit_test(test_pcapng_many_interfaces),
		cmocka_unit_test(test_pcapng_damaged),
		cmocka_unit_test(test_pcapng_header_errors),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_stream_pipe),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
