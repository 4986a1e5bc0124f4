/* Unit tests of the pcap writer: files read back with our reader, rotation, errors, the counts. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringcap/assert.h"
#include "ringcap/pcapio.h"
#include "ringcap/pcapw.h"

#define TS_BASE	      1700000000123456789ull /* ns; odd digits so precision loss shows */
#define MAX_PRODUCERS 4
#define DEADLINE_S    20

/* ---- the test folder ---- */

static char dir[64]; /* /tmp/test-pcapw-XXXXXX */

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test-pcapw-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	return 0;
}

/* Remove a folder and everything in it. */
static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char p[PATH_MAX * 2];
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

static int teardown(void **state)
{
	(void)state;
	rm_tree(dir);
	return 0;
}

static const char *in_dir(const char *name)
{
	static char p[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* Names in the test folder, sorted; returns how many (at most max). */
static int list_dir(char names[][256], int max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		assert_true(n < max);
		snprintf(names[n++], 256, "%s", e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, 256, (int (*)(const void *, const void *))strcmp);
	return n;
}

/* ---- packets with checkable content ---- */

/* Packet seq of producer p: 8 bytes of (p, seq), then bytes derived from both. */
static uint32_t caplen_of(uint32_t seq)
{
	return 40 + (seq * 37) % 1400;
}

static void make_packet(struct rc_packet *pkt, uint8_t *buf, int p, uint32_t seq, uint32_t caplen)
{
	uint32_t id[2] = {(uint32_t)p, seq};

	RC_ASSERT(caplen >= 8);
	memcpy(buf, id, 8);
	for (uint32_t i = 8; i < caplen; i++)
		buf[i] = (uint8_t)(seq * 7 + (uint32_t)p * 13 + i);
	memset(pkt, 0, sizeof(*pkt));
	pkt->data = buf;
	pkt->caplen = caplen;
	pkt->wirelen = caplen + 4;
	pkt->ts_ns = TS_BASE + (uint64_t)seq * 1000003u + (uint64_t)p;
	pkt->linktype = RC_LINK_EN10MB;
}

/* What was read back from a set of files. */
struct readback {
	uint64_t packets, bytes;
	uint32_t next[MAX_PRODUCERS]; /* per producer: the seq expected next, with in_order */
	uint64_t count[MAX_PRODUCERS];
	bool micro;
	bool contiguous; /* every producer's seqs have no gaps (no failed put, nothing lost) */
};

/*
 * Check one packet read back against what make_packet made (its original caplen is wirelen - 4),
 * and the order of its producer's packets.
 */
static void check_packet(struct readback *rb, const struct rc_packet *pkt, uint32_t snaplen)
{
	uint32_t id[2], orig;
	uint8_t want[2048];
	struct rc_packet w;
	uint64_t ts;

	assert_true(pkt->caplen >= 8);
	memcpy(id, pkt->data, 8);
	assert_true(id[0] < MAX_PRODUCERS);
	orig = pkt->wirelen - 4;
	assert_true(orig <= sizeof(want));
	make_packet(&w, want, (int)id[0], id[1], orig);
	assert_int_equal(pkt->caplen, orig < snaplen ? orig : snaplen);
	assert_memory_equal(pkt->data, want, pkt->caplen);
	ts = rb->micro ? w.ts_ns / 1000 * 1000 : w.ts_ns;
	if (pkt->ts_ns != ts)
		fail_msg("packet %u/%u: ts %llu, want %llu", id[0], id[1],
			 (unsigned long long)pkt->ts_ns, (unsigned long long)ts);
	assert_int_equal(pkt->ts_digits, rb->micro ? 6 : 9);
	/* One producer's packets come in the order put. */
	if (rb->contiguous)
		assert_int_equal(id[1], rb->next[id[0]]);
	else
		assert_true(id[1] >= rb->next[id[0]]);
	rb->next[id[0]] = id[1] + 1;
	rb->count[id[0]]++;
	rb->packets++;
	rb->bytes += pkt->caplen;
}

/* Read one file to its clean end, checking every packet; returns its packet count. */
static uint64_t read_file(struct readback *rb, const char *path, uint32_t linktype,
			  uint32_t snaplen)
{
	static struct rc_ctrs ctrs;
	struct rc_reader *r = NULL;
	struct rc_packet pkt;
	char err[512] = "";
	uint64_t n = 0;
	int rc;

	rc = rc_reader_open(&r, path, NULL, &ctrs, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(rc_reader_format(r), "pcap");
	assert_int_equal(rc_reader_linktype(r), (int)linktype);
	assert_int_equal(rc_reader_snaplen(r), snaplen);
	while ((rc = rc_reader_next(r, &pkt)) == 1) {
		check_packet(rb, &pkt, snaplen);
		n++;
	}
	if (rc != 0)
		fail_msg("%s: %s", path, rc_reader_error(r));
	rc_reader_close(r);
	return n;
}

static off_t file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

/* ---- driving a writer ---- */

static struct rc_pcapw_config base_config(const char *name)
{
	struct rc_pcapw_config c = {
		.path = in_dir(name),
		.what = "-w",
		.linktype = RC_LINK_EN10MB,
		.snaplen = 65535,
		.nproducers = 1,
		.queue_bytes = 1 << 20,
	};
	return c;
}

static struct rc_pcapw *open_ok(const struct rc_pcapw_config *cfg)
{
	struct rc_pcapw *w = NULL;
	char err[512] = "";
	int rc = rc_pcapw_open(&w, cfg, err, sizeof(err));

	if (rc != 0)
		fail_msg("rc_pcapw_open: %d %s", rc, err);
	assert_non_null(w);
	return w;
}

/*
 * Put seq [from, to) of producer p with `caplen` (0: caplen_of), publishing every 16. A full queue
 * is waited out (bounded): these tests want every packet taken.
 */
static void put_range(struct rc_pcapw *w, int p, uint32_t from, uint32_t to, uint32_t caplen)
{
	uint8_t buf[2048];
	struct rc_packet pkt;

	for (uint32_t s = from; s < to; s++) {
		time_t end = time(NULL) + DEADLINE_S;

		make_packet(&pkt, buf, p, s, caplen != 0 ? caplen : caplen_of(s));
		while (!rc_pcapw_put(w, p, &pkt)) {
			rc_pcapw_flush(w, p);
			if (time(NULL) > end)
				fail_msg("queue %d still full after %d s", p, DEADLINE_S);
			nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
		}
		if (s % 16 == 15)
			rc_pcapw_flush(w, p);
	}
	rc_pcapw_flush(w, p);
}

/* Wait (bounded) until packets + lost reach `settled`: the writer took and flushed them. */
static void wait_settled(struct rc_pcapw *w, uint64_t settled, struct rc_pcapw_stats *st)
{
	time_t end = time(NULL) + DEADLINE_S;

	for (;;) {
		rc_pcapw_stats(w, st);
		if (st->packets + st->lost >= settled)
			break;
		if (time(NULL) > end)
			fail_msg("writer settled %llu of %llu packets",
				 (unsigned long long)(st->packets + st->lost),
				 (unsigned long long)settled);
		nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
	}
	assert_int_equal(st->packets + st->lost, settled);
}

/* ---- tests ---- */

static void write_and_read(bool micro, uint32_t linktype, uint32_t snaplen)
{
	struct rc_pcapw_config c = base_config("one.pcap");
	struct rc_pcapw_stats st;
	struct readback rb = {.micro = micro, .contiguous = true};
	const uint32_t n = 3000;
	uint64_t bytes = 0;

	c.micro = micro;
	c.linktype = linktype;
	c.snaplen = snaplen;
	struct rc_pcapw *w = open_ok(&c);
	/* The first file exists from the start, under its .part name. */
	assert_true(exists(in_dir("one.pcap.part")));
	assert_false(exists(in_dir("one.pcap")));
	put_range(w, 0, 0, n, 0);
	rc_pcapw_close(w, &st);
	for (uint32_t s = 0; s < n; s++)
		bytes += caplen_of(s) < snaplen ? caplen_of(s) : snaplen;
	assert_int_equal(st.packets, n);
	assert_int_equal(st.bytes, bytes);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.last_errno, 0);
	assert_false(exists(in_dir("one.pcap.part")));
	assert_int_equal(read_file(&rb, in_dir("one.pcap"), linktype, snaplen), n);
	assert_int_equal(rb.count[0], n);
	assert_int_equal(rb.bytes, bytes);
	unlink(in_dir("one.pcap"));
}

static void test_one_producer(void **state)
{
	(void)state;
	write_and_read(false, RC_LINK_EN10MB, 65535);
}

/* --micro; LINKTYPE_RAW, whose libpcap DLT differs; a snaplen that cuts packets. */
static void test_micro_raw_snaplen(void **state)
{
	(void)state;
	write_and_read(true, RC_LINK_RAW, 65535);
	write_and_read(false, RC_LINK_IPV4, 100);
}

struct producer {
	struct rc_pcapw *w;
	int p;
	uint32_t items;
	uint64_t taken, refused;
	uint8_t *taken_map; /* [seq]: put returned true */
};

static void *producer_main(void *arg)
{
	struct producer *pr = arg;
	uint8_t buf[2048];
	struct rc_packet pkt;

	for (uint32_t s = 0; s < pr->items; s++) {
		make_packet(&pkt, buf, pr->p, s, caplen_of(s));
		if (rc_pcapw_put(pr->w, pr->p, &pkt)) {
			pr->taken++;
			pr->taken_map[s] = 1;
		} else {
			/* A real producer moves on; this one also gives the writer a moment. */
			pr->refused++;
			rc_pcapw_flush(pr->w, pr->p);
			nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
		}
		if (s % 32 == 31)
			rc_pcapw_flush(pr->w, pr->p);
	}
	rc_pcapw_flush(pr->w, pr->p);
	return NULL;
}

/*
 * Two producer threads against small queues (some puts refused), a third thread reading the
 * counts meanwhile: each producer's packets come back in order, exactly those taken, and
 * taken == packets + lost. RINGCAP_PCAPW_ITEMS makes it longer (the TSan suite).
 */
static void test_two_producers(void **state)
{
	const char *env = getenv("RINGCAP_PCAPW_ITEMS");
	uint32_t items = env != NULL ? (uint32_t)strtoul(env, NULL, 10) : 20000;
	struct rc_pcapw_config c = base_config("two.pcap");
	struct producer pr[2];
	pthread_t th[2];
	struct rc_pcapw_stats st, prev = {0};
	struct readback rb = {.contiguous = false};
	uint64_t taken = 0, refused = 0;

	(void)state;
	c.nproducers = 2;
	c.queue_bytes = 256 * 1024;
	struct rc_pcapw *w = open_ok(&c);
	for (int i = 0; i < 2; i++) {
		pr[i] = (struct producer){.w = w, .p = i, .items = items};
		pr[i].taken_map = calloc(items, 1);
		assert_non_null(pr[i].taken_map);
		assert_int_equal(pthread_create(&th[i], NULL, producer_main, &pr[i]), 0);
	}
	/* Counts only grow, read from a third thread while the writer runs. */
	for (int i = 0; i < 50; i++) {
		rc_pcapw_stats(w, &st);
		assert_true(st.packets >= prev.packets && st.lost >= prev.lost);
		prev = st;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		taken += pr[i].taken;
		refused += pr[i].refused;
	}
	rc_pcapw_close(w, &st);
	assert_int_equal(taken + refused, 2 * (uint64_t)items);
	assert_int_equal(st.packets + st.lost, taken);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(read_file(&rb, in_dir("two.pcap"), RC_LINK_EN10MB, 65535), taken);
	for (int i = 0; i < 2; i++) {
		/* In order (checked while reading) and exactly the set taken: same count, last. */
		assert_int_equal(rb.count[i], pr[i].taken);
		uint32_t last = 0;
		for (uint32_t s = 0; s < items; s++)
			if (pr[i].taken_map[s])
				last = s + 1;
		assert_int_equal(rb.next[i], last);
		free(pr[i].taken_map);
	}
	print_message("pcapw two producers: %llu taken, %llu refused (full queue)\n",
		      (unsigned long long)taken, (unsigned long long)refused);
	unlink(in_dir("two.pcap"));
}

/* -C: sizes, names, every file valid, no .part left, nothing lost. */
static void test_rotate_size(void **state)
{
	struct rc_pcapw_config c = base_config("size.pcap");
	struct rc_pcapw_stats st;
	struct readback rb = {.contiguous = true};
	const uint32_t n = 100, caplen = 100, per_file = 8;
	char names[64][256];

	(void)state;
	/* 24 + 8 * 116 = 952 fits in 1000; a ninth packet (1068) would pass it. */
	c.max_bytes = 1000;
	struct rc_pcapw *w = open_ok(&c);
	put_range(w, 0, 0, n, caplen);
	rc_pcapw_close(w, &st);
	const uint32_t files = (n + per_file - 1) / per_file;
	assert_int_equal(st.files, files);
	assert_int_equal(st.packets, n);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(list_dir(names, 64), (int)files);
	for (uint32_t i = 0; i < files; i++) {
		char want[64];
		uint32_t in_file = i + 1 < files ? per_file : n - per_file * (files - 1);

		snprintf(want, sizeof(want), "size-%06u.pcap", i);
		assert_string_equal(names[i], want);
		assert_int_equal(file_size(in_dir(want)), 24 + in_file * (16 + caplen));
		assert_int_equal(read_file(&rb, in_dir(want), RC_LINK_EN10MB, 65535), in_file);
	}
	assert_int_equal(rb.packets, n);

	/* A packet larger than max_bytes still gets a file, of its own; no '.pcap': '-' + seq. */
	rm_tree(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	c = base_config("big");
	c.max_bytes = 100;
	w = open_ok(&c);
	put_range(w, 0, 0, 3, 500);
	rc_pcapw_close(w, &st);
	assert_int_equal(st.files, 3);
	assert_int_equal(st.packets, 3);
	assert_int_equal(list_dir(names, 64), 3);
	for (int i = 0; i < 3; i++) {
		char want[64];

		snprintf(want, sizeof(want), "big-%06d", i);
		assert_string_equal(names[i], want);
		assert_int_equal(file_size(in_dir(want)), 24 + 16 + 500);
	}
}

/* -W with -C: only the newest max_files files remain, with their sequence numbers. */
static void test_ring(void **state)
{
	struct rc_pcapw_config c = base_config("ring.pcap");
	struct rc_pcapw_stats st;
	struct readback rb = {.contiguous = false};
	char names[64][256];

	(void)state;
	c.max_bytes = 1000; /* 8 packets of 100 bytes a file: 13 files for 100 */
	c.max_files = 3;
	struct rc_pcapw *w = open_ok(&c);
	put_range(w, 0, 0, 100, 100);
	rc_pcapw_close(w, &st);
	assert_int_equal(st.files, 13);
	assert_int_equal(st.packets, 100); /* written, then removed with their files */
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(list_dir(names, 64), 3);
	assert_string_equal(names[0], "ring-000010.pcap");
	assert_string_equal(names[1], "ring-000011.pcap");
	assert_string_equal(names[2], "ring-000012.pcap");
	assert_int_equal(read_file(&rb, in_dir(names[0]), RC_LINK_EN10MB, 65535), 8);
	assert_int_equal(read_file(&rb, in_dir(names[1]), RC_LINK_EN10MB, 65535), 8);
	assert_int_equal(read_file(&rb, in_dir(names[2]), RC_LINK_EN10MB, 65535), 4);
	/* The newest: packets 80 .. 99. */
	assert_int_equal(rb.next[0], 100);
	assert_int_equal(rb.count[0], 20);
}

/* -G without traffic: new header-only files appear by themselves, each complete and valid. */
static void test_rotate_time_idle(void **state)
{
	struct rc_pcapw_config c = base_config("idle.pcap");
	struct rc_pcapw_stats st;
	struct readback rb = {.contiguous = true};
	time_t end = time(NULL) + DEADLINE_S;

	(void)state;
	c.rotate_secs = 1;
	struct rc_pcapw *w = open_ok(&c);
	/* Three complete files (renamed), the fourth being written. */
	while (!exists(in_dir("idle-000002.pcap"))) {
		if (time(NULL) > end)
			fail_msg("no third -G file after %d s", DEADLINE_S);
		nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
	}
	rc_pcapw_stats(w, &st);
	assert_true(st.files >= 3);
	assert_true(exists(in_dir("idle-000000.pcap")));
	assert_true(exists(in_dir("idle-000001.pcap")));
	rc_pcapw_close(w, &st);
	assert_int_equal(st.packets, 0);
	assert_int_equal(st.errors, 0);
	for (uint64_t i = 0; i < st.files; i++) {
		char name[64];

		snprintf(name, sizeof(name), "idle-%06u.pcap", (unsigned)i);
		assert_int_equal(file_size(in_dir(name)), 24);
		assert_int_equal(read_file(&rb, in_dir(name), RC_LINK_EN10MB, 65535), 0);
		snprintf(name, sizeof(name), "idle-%06u.pcap.part", (unsigned)i);
		assert_false(exists(in_dir(name)));
	}
}

/* strftime names, alone and with a sequence number. */
static void test_strftime_names(void **state)
{
	struct rc_pcapw_config c = base_config("cap-%Y%m%d.pcap");
	struct rc_pcapw_stats st;
	char before[64], after[64], names[8][256];
	time_t t;
	struct tm tm;

	(void)state;
	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(before, sizeof(before), "cap-%Y%m%d", &tm);
	struct rc_pcapw *w = open_ok(&c);
	put_range(w, 0, 0, 10, 0);
	rc_pcapw_close(w, &st);
	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(after, sizeof(after), "cap-%Y%m%d", &tm);
	assert_int_equal(st.packets, 10);
	assert_int_equal(list_dir(names, 8), 1);
	/* Around midnight the name may carry either date. */
	if (strcmp(names[0], strcat(before, ".pcap")) != 0)
		assert_string_equal(names[0], strcat(after, ".pcap"));
	unlink(in_dir(names[0]));

	c = base_config("t%%-%Y");
	c.max_bytes = 1 << 20;
	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(before, sizeof(before), "t%%-%Y-000000", &tm);
	w = open_ok(&c);
	rc_pcapw_close(w, &st);
	assert_int_equal(list_dir(names, 8), 1);
	assert_string_equal(names[0], before);
	unlink(in_dir(names[0]));
}

/* rc_pcapw_open must fail with `code` and exactly the message `msg`, leaving *out NULL. */
static void open_fails(const struct rc_pcapw_config *c, int code, const char *msg)
{
	struct rc_pcapw *w = (struct rc_pcapw *)1;
	char err[512] = "";
	int rc = rc_pcapw_open(&w, c, err, sizeof(err));

	assert_null(w);
	if (rc != code || strcmp(err, msg) != 0)
		fail_msg("open gave %d \"%s\"; wanted %d \"%s\"", rc, err, code, msg);
}

static void test_open_errors(void **state)
{
	struct rc_pcapw_config c;
	char want[PATH_MAX * 2];
	char names[8][256];

	(void)state;
	c = base_config("missing/x.pcap");
	snprintf(want, sizeof(want),
		 "-w: cannot create '%s/missing/x.pcap.part': No such file or directory", dir);
	open_fails(&c, -ENOENT, want);

	c.what = "--overflow";
	c.max_bytes = 1000;
	snprintf(want, sizeof(want),
		 "--overflow: cannot create '%s/missing/x-000000.pcap.part': No such file or "
		 "directory",
		 dir);
	open_fails(&c, -ENOENT, want);

	/* The path is a folder (as it is, or by a final '/'). */
	c = base_config("");
	c.path = dir;
	snprintf(want, sizeof(want), "-w: '%s' is a directory", dir);
	open_fails(&c, -EISDIR, want);
	c = base_config("sub/");
	snprintf(want, sizeof(want), "-w: '%s/sub/' is a directory", dir);
	open_fails(&c, -EISDIR, want);

	/* A parent that is a file. */
	FILE *f = fopen(in_dir("plain"), "w");
	assert_non_null(f);
	fclose(f);
	c = base_config("plain/x.pcap");
	snprintf(want, sizeof(want), "-w: cannot create '%s/plain/x.pcap.part': Not a directory",
		 dir);
	open_fails(&c, -ENOTDIR, want);
	unlink(in_dir("plain"));

	/* Bad configurations. */
	c = base_config("x.pcap");
	c.path = "";
	open_fails(&c, -EINVAL, "-w: no file name");
	c.path = NULL;
	open_fails(&c, -EINVAL, "-w: no file name");
	c = base_config("x.pcap");
	c.nproducers = 0;
	open_fails(&c, -EINVAL, "-w: 0 producers (1 to 1024)");
	c = base_config("x.pcap");
	c.snaplen = RC_MAX_CAPLEN + 1;
	open_fails(&c, -EINVAL, "-w: snapshot length 262145 is over 262144");
	c = base_config("x.pcap");
	c.linktype = 65000;
	snprintf(want, sizeof(want), "-w: cannot write link type 65000 to '%s/x.pcap.part': ", dir);
	{
		struct rc_pcapw *w = NULL;
		char err[512] = "";

		assert_int_equal(rc_pcapw_open(&w, &c, err, sizeof(err)), -EINVAL);
		assert_null(w);
		assert_memory_equal(err, want, strlen(want));
	}
	/* Failed opens leave nothing behind. */
	assert_int_equal(list_dir(names, 8), 0);

	/*
	 * An unwritable folder: root ignores modes, so the open happens in a child that drops to
	 * an unprivileged user first; skipped where that is impossible.
	 */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(mkdir(in_dir("ro"), 0555), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(77);
		if (access(in_dir("ro"), W_OK) == 0)
			_exit(77);
		struct rc_pcapw *w = NULL;
		char err[512] = "";
		c = base_config("ro/x.pcap");
		snprintf(want, sizeof(want), "-w: cannot create '%s/ro/x.pcap.part': %s", dir,
			 strerror(EACCES));
		int rc = rc_pcapw_open(&w, &c, err, sizeof(err));
		_exit(rc == -EACCES && strcmp(err, want) == 0 ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		print_message("pcapw: unwritable-folder check skipped (cannot drop privileges)\n");
	else
		assert_int_equal(WEXITSTATUS(status), 0);
	rmdir(in_dir("ro"));
	chmod(dir, 0700);
}

/* A full queue refuses; so does a packet over the largest record; what was taken is written. */
static void test_full_queue(void **state)
{
	struct rc_pcapw_config c = base_config("full.pcap");
	struct rc_pcapw_stats st;
	struct readback rb = {.contiguous = true};
	uint8_t buf[4096];
	struct rc_packet pkt;
	uint32_t taken = 0;

	(void)state;
	c.queue_bytes = 4096; /* the smallest: records up to 2040 bytes */
	struct rc_pcapw *w = open_ok(&c);
	/* Unpublished records are invisible to the writer: the queue fills and stays full. */
	for (uint32_t s = 0; s < 1000; s++) {
		make_packet(&pkt, buf, 0, s, caplen_of(s) > 200 ? 200 : caplen_of(s));
		if (!rc_pcapw_put(w, 0, &pkt))
			break;
		taken++;
	}
	assert_true(taken > 0 && taken < 1000);
	make_packet(&pkt, buf, 0, taken, 40);
	assert_false(rc_pcapw_put(w, 0, &pkt));
	rc_pcapw_flush(w, 0);
	/* Once drained, a small packet fits again but an oversized one never does. */
	wait_settled(w, taken, &st);
	make_packet(&pkt, buf, 0, taken, 40);
	assert_true(rc_pcapw_put(w, 0, &pkt));
	make_packet(&pkt, buf, 0, taken + 1, 3000);
	assert_false(rc_pcapw_put(w, 0, &pkt));
	rc_pcapw_flush(w, 0);
	rc_pcapw_close(w, &st);
	assert_int_equal(st.packets, taken + 1);
	assert_int_equal(st.lost, 0);
	assert_int_equal(read_file(&rb, in_dir("full.pcap"), RC_LINK_EN10MB, 65535), taken + 1);
	assert_int_equal(rb.next[0], taken + 1);
	unlink(in_dir("full.pcap"));
}

/*
 * Write errors (the disk-full path) without root: a small RLIMIT_FSIZE with SIGXFSZ ignored makes
 * writes past it fail with EFBIG. The packets of the failed flush are lost, the file is cut back
 * to its last good flush and stays valid, and writing goes on once writes succeed again.
 */
static void test_write_errors(void **state)
{
	struct rc_pcapw_config c = base_config("efbig.pcap");
	struct rc_pcapw_stats st;
	struct readback rb = {.contiguous = false};
	struct rlimit old, small;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_sa;
	const uint32_t caplen = 100, limit = 10000;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	if (old.rlim_max != RLIM_INFINITY && old.rlim_max < 1000000) {
		skip();
		return;
	}
	assert_int_equal(sigaction(SIGXFSZ, &ign, &old_sa), 0);
	struct rc_pcapw *w = open_ok(&c);
	put_range(w, 0, 0, 50, caplen);
	wait_settled(w, 50, &st);
	assert_int_equal(st.packets, 50);

	small = old;
	small.rlim_cur = limit;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	/* 150 records would pass the limit; at most (10000 - 24) / 116 = 86 fit in all. */
	put_range(w, 0, 50, 150, caplen);
	wait_settled(w, 150, &st);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_true(st.packets >= 50 && st.packets <= 86);
	assert_true(st.lost >= 150 - 86);
	assert_true(st.errors >= 1);
	assert_int_equal(st.last_errno, EFBIG);
	uint64_t good = st.packets;
	assert_int_equal(file_size(in_dir("efbig.pcap.part")), 24 + good * (16 + caplen));

	/* Space again: later packets are written into the same, still valid, file. */
	put_range(w, 0, 150, 160, caplen);
	rc_pcapw_close(w, &st);
	assert_int_equal(sigaction(SIGXFSZ, &old_sa, NULL), 0);
	assert_int_equal(st.packets, good + 10);
	assert_int_equal(st.packets + st.lost, 160);
	assert_int_equal(st.files, 1);
	assert_int_equal(read_file(&rb, in_dir("efbig.pcap"), RC_LINK_EN10MB, 65535), good + 10);
	assert_int_equal(rb.next[0], 160);
	print_message("pcapw write errors: %llu written, %llu lost, %llu errors\n",
		      (unsigned long long)st.packets, (unsigned long long)st.lost,
		      (unsigned long long)st.errors);
	unlink(in_dir("efbig.pcap"));
}

/*
 * A new file that cannot be opened at run time (its folder moved away): errors counted, packets
 * lost, the writer retries and goes on once the folder is back.
 */
static void test_open_fails_at_run_time(void **state)
{
	struct rc_pcapw_config c;
	struct rc_pcapw_stats st;
	struct readback rb = {.contiguous = false};
	char sub[128], moved[128], path[256];
	uint32_t seq = 0;
	time_t end;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/d", dir);
	snprintf(moved, sizeof(moved), "%s/d.moved", dir);
	snprintf(path, sizeof(path), "%s/r.pcap", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	c = base_config("");
	c.path = path;
	c.max_bytes = 24 + 5 * 116; /* five 100-byte packets a file */
	struct rc_pcapw *w = open_ok(&c);
	put_range(w, 0, seq, seq + 5, 100);
	seq += 5;
	wait_settled(w, seq, &st);
	assert_int_equal(st.packets, 5);

	assert_int_equal(rename(sub, moved), 0);
	/* The sixth packet rotates: the rename of file 0 and the open of file 1 both fail. */
	put_range(w, 0, seq, seq + 4, 100);
	seq += 4;
	wait_settled(w, seq, &st);
	assert_int_equal(st.packets, 5);
	assert_int_equal(st.lost, 4);
	assert_true(st.errors >= 2);
	assert_int_equal(st.last_errno, ENOENT);
	assert_int_equal(st.files, 1);

	assert_int_equal(rename(moved, sub), 0);
	/* Retried at a packet, at most once a second: feed until one is written again. */
	end = time(NULL) + DEADLINE_S;
	while (st.packets == 5) {
		if (time(NULL) > end)
			fail_msg("no file reopened after %d s", DEADLINE_S);
		put_range(w, 0, seq, seq + 1, 100);
		seq++;
		wait_settled(w, seq, &st);
		nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
	}
	put_range(w, 0, seq, seq + 3, 100);
	seq += 3;
	rc_pcapw_close(w, &st);
	assert_int_equal(st.packets + st.lost, seq);
	assert_int_equal(st.files, 2);
	/* File 0 kept its .part name (its rename failed) but is complete and valid. */
	snprintf(path, sizeof(path), "%s/r-000000.pcap.part", sub);
	assert_int_equal(read_file(&rb, path, RC_LINK_EN10MB, 65535), 5);
	snprintf(path, sizeof(path), "%s/r-000001.pcap", sub);
	assert_int_equal(read_file(&rb, path, RC_LINK_EN10MB, 65535), st.packets - 5);
	assert_int_equal(rb.packets, st.packets);
	assert_int_equal(rb.next[0], seq);
	print_message("pcapw reopen: %llu written, %llu lost, %llu errors\n",
		      (unsigned long long)st.packets, (unsigned long long)st.lost,
		      (unsigned long long)st.errors);
}

/* An optional argument selects tests by name pattern (the TSan suite runs the producers). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_producer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_micro_raw_snaplen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_producers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_time_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strftime_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fails_at_run_time, setup, teardown),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
