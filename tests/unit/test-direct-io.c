/*
 * Unit tests of the O_DIRECT stream under the pcap writer: after every flush the file holds
 * exactly what was handed over, in direct and in buffered mode; cutting back and going on; a
 * size limit surfaces as EFBIG, not as direct I/O's EINVAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/pcapio/direct_io.h"

#define DATA_BYTES (3u << 20)

static char dir[64];	    /* /tmp/test-direct-io-XXXXXX */
static unsigned char *data; /* what the tests write: DATA_BYTES of a fixed pseudo-random stream */
static unsigned char *back; /* what is read back */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test-direct-io-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	data = malloc(DATA_BYTES);
	back = malloc(DATA_BYTES);
	if (data == NULL || back == NULL)
		return -1;
	for (size_t i = 0; i < DATA_BYTES; i++)
		data[i] = (unsigned char)next_random();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rmdir(dir);
	free(data);
	free(back);
	return 0;
}

static const char *in_dir(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* The file's bytes (through a descriptor of its own) equal data[0, len). */
static void assert_file_is(const char *path, const unsigned char *want, size_t len)
{
	struct stat sb;
	int fd = open(path, O_RDONLY);
	ssize_t k;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_size, len);
	k = pread(fd, back, len, 0);
	close(fd);
	assert_int_equal(k, len);
	assert_memory_equal(back, want, len);
}

/*
 * Chunks of 1 to 30000 bytes through a 64 KiB stdio buffer into a stream that takes at most
 * 8 KiB at a time (so stdio's flushes are split), flushed at random points: after each flush
 * the file is exactly what was written so far.
 */
static void stream_matches(bool direct)
{
	const char *path = in_dir(direct ? "direct" : "buffered");
	static char iobuf[64 << 10];
	struct rc_dio *d;
	size_t off = 0;
	FILE *f;

	assert_int_equal(rc_dio_new(&d, 8192), 0);
	f = rc_dio_fopen(d, path, direct);
	assert_non_null(f);
	assert_int_equal(setvbuf(f, iobuf, _IOFBF, sizeof(iobuf)), 0);
	print_message("%s: O_DIRECT %s\n", path, rc_dio_is_direct(d) ? "in use" : "not taken");
	if (!direct)
		assert_false(rc_dio_is_direct(d));
	while (off < DATA_BYTES) {
		size_t n = 1 + next_random() % 30000;

		if (n > DATA_BYTES - off)
			n = DATA_BYTES - off;
		assert_int_equal(fwrite(data + off, 1, n, f), n);
		off += n;
		if (next_random() % 4 == 0) {
			assert_int_equal(fflush(f), 0);
			assert_file_is(path, data, off);
		}
	}
	assert_int_equal(fclose(f), 0);
	assert_file_is(path, data, DATA_BYTES);
	rc_dio_free(d);
	unlink(path);
}

static void test_direct_stream(void **state)
{
	(void)state;
	stream_matches(true);
}

static void test_buffered_stream(void **state)
{
	(void)state;
	stream_matches(false);
}

/* Cut back to an unaligned size inside an earlier block, seek there, go on writing. */
static void test_cut_back(void **state)
{
	const char *path = in_dir("cut");
	struct rc_dio *d;
	const size_t first = 1000000, keep = 3 * 4096 + 777, more = 500000;
	FILE *f;

	(void)state;
	assert_int_equal(rc_dio_new(&d, 1 << 20), 0);
	f = rc_dio_fopen(d, path, true);
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, first, f), first);
	assert_int_equal(fflush(f), 0);
	assert_int_equal(rc_dio_truncate(d, keep), 0);
	assert_int_equal(fseeko(f, (off_t)keep, SEEK_SET), 0);
	assert_int_equal(ftello(f), keep);
	/* What comes next is data's continuation from `keep` on, so the file reads as one run. */
	assert_int_equal(fwrite(data + keep, 1, more, f), more);
	assert_int_equal(fflush(f), 0);
	assert_file_is(path, data, keep + more);
	assert_int_equal(fclose(f), 0);
	assert_file_is(path, data, keep + more);
	rc_dio_free(d);
	unlink(path);
}

/* Whether RLIMIT_FSIZE can be lowered and raised back here (else the tests below skip). */
static bool can_limit_size(void)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	return rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= 1000000;
}

/* fflush(f) with files limited to `limit` bytes (SIGXFSZ ignored): 0, or the errno it failed with.
 */
static int flush_under_limit(FILE *f, rlim_t limit)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_sa;
	struct rlimit old, small;
	int e = 0;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(sigaction(SIGXFSZ, &ign, &old_sa), 0);
	small = old;
	small.rlim_cur = limit;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	errno = 0;
	if (fflush(f) != 0)
		e = errno != 0 ? errno : -1;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(sigaction(SIGXFSZ, &old_sa, NULL), 0);
	return e;
}

/* A direct stream onto path with a 64 KiB stdio buffer. */
static FILE *open_direct(struct rc_dio **d, const char *path)
{
	static char iobuf[64 << 10];
	FILE *f;

	assert_int_equal(rc_dio_new(d, 1 << 20), 0);
	f = rc_dio_fopen(*d, path, true);
	assert_non_null(f);
	assert_int_equal(setvbuf(f, iobuf, _IOFBF, sizeof(iobuf)), 0);
	return f;
}

/*
 * A file size limit that ends mid-block: the write that crosses it fails with EFBIG (direct
 * I/O would say EINVAL for the cut-down write; the stream retries buffered), and the bytes
 * up to the limit are in the file.
 */
static void test_size_limit(void **state)
{
	const char *path = in_dir("limit");
	const size_t limit = 10000;
	struct rc_dio *d;
	struct stat sb;
	FILE *f;

	(void)state;
	if (!can_limit_size()) {
		skip();
		return;
	}
	f = open_direct(&d, path);
	assert_int_equal(fwrite(data, 1, 3 * limit, f), 3 * limit);
	assert_int_equal(flush_under_limit(f, limit), EFBIG);
	assert_int_equal(stat(path, &sb), 0);
	assert_true((size_t)sb.st_size <= limit);
	clearerr(f);
	fclose(f);
	rc_dio_free(d);
	unlink(path);
}

/*
 * A write that fails after its whole blocks went out (the partial block's buffered write hits a
 * size limit): cut back to the last good flush and go on; the partial block before it must come
 * back from the file, not from what the failed write left in the buffer.
 */
static void test_fail_in_partial_block(void **state)
{
	const char *path = in_dir("partial");
	struct rc_dio *d;
	FILE *f;

	(void)state;
	if (!can_limit_size()) {
		skip();
		return;
	}
	f = open_direct(&d, path);
	assert_int_equal(fwrite(data, 1, 5000, f), 5000);
	assert_int_equal(fflush(f), 0);
	assert_int_equal(fwrite(data + 5000, 1, 5000, f), 5000);
	/* Block 4096-8191 fits under the limit; the partial one after it does not. */
	assert_int_not_equal(flush_under_limit(f, 8192 + 100), 0);
	clearerr(f);
	assert_int_equal(rc_dio_truncate(d, 5000), 0);
	assert_int_equal(fseeko(f, 5000, SEEK_SET), 0);
	assert_int_equal(fwrite(data + 5000, 1, 20000, f), 20000);
	assert_int_equal(fflush(f), 0);
	assert_file_is(path, data, 25000);
	assert_int_equal(fclose(f), 0);
	rc_dio_free(d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direct_stream),
		cmocka_unit_test(test_buffered_stream),
		cmocka_unit_test(test_cut_back),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_fail_in_partial_block),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
