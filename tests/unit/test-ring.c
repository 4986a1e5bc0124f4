/* The TPACKET_V3 ring against real frames on a veth pair inside a private network namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/if_packet.h>

#include <cmocka.h>

#include "ringcap/ring.h"

#define TX_IF	 "rcA" /* frames are sent here ... */
#define RX_IF	 "rcB" /* ... and captured on its peer */
#define DOWN_IF	 "rcC" /* a veth left down (peer rcD) */
#define N_FRAMES 1000
#define MAX_RECS 4096

extern char **environ;

static int tx_fd = -1;
static int tx_ifindex;

/* ---- frames ---------------------------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Ethernet [802.1Q] IPv4 UDP 198.18.0.1:sport -> 198.18.0.2:dport, payload "RCAP", seq, and a
 * pattern whose length depends on seq. vlan_tci < 0: untagged. Returns the frame length.
 */
static size_t build(uint8_t *f, uint32_t seq, uint16_t sport, uint16_t dport, int vlan_tci)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	size_t plen = 8 + seq % 57, o = 12;
	memcpy(f, macs, 12);
	if (vlan_tci >= 0) {
		put16(f + o, 0x8100);
		put16(f + o + 2, (uint16_t)vlan_tci);
		o += 4;
	}
	put16(f + o, 0x0800);
	o += 2;
	uint8_t *ip = f + o;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + plen));
	put16(ip + 4, (uint16_t)seq);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (uint8_t[]){198, 18, 0, 1, 198, 18, 0, 2}, 8);
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += get16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, (uint16_t)~sum);
	uint8_t *udp = ip + 20;
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(8 + plen));
	put16(udp + 6, 0);
	uint8_t *pl = udp + 8;
	memcpy(pl, "RCAP", 4);
	pl[4] = (uint8_t)(seq >> 24);
	pl[5] = (uint8_t)(seq >> 16);
	pl[6] = (uint8_t)(seq >> 8);
	pl[7] = (uint8_t)seq;
	for (size_t i = 8; i < plen; i++)
		pl[i] = (uint8_t)(seq * 7 + i);
	return (size_t)(pl + plen - f);
}

/* Safe from any thread (no cmocka assert): true when the frame went out whole. */
static bool send_raw(uint32_t seq, uint16_t sport, uint16_t dport, int vlan_tci)
{
	uint8_t f[256];
	size_t len = build(f, seq, sport, dport, vlan_tci);
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_ifindex = tx_ifindex, .sll_halen = 6};
	memcpy(sll.sll_addr, f, 6);
	return sendto(tx_fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)len;
}

static void send_frame(uint32_t seq, uint16_t sport, uint16_t dport, int vlan_tci)
{
	assert_true(send_raw(seq, sport, dport, vlan_tci));
}

/* What a captured frame says about itself, checked against the frame we would have built. */
struct rec {
	uint32_t seq;
	uint16_t sport, dport;
	struct rc_vlan_tag vlan;
	bool ours, tagged, content_ok, lengths_ok;
	uint8_t ring, source;
	uint32_t linktype;
	uint64_t ts_ns;
};

static struct rec inspect(const struct rc_packet *p, const struct rc_vlan_tag *v)
{
	struct rec r = {
		.vlan = *v, .source = p->source, .linktype = p->linktype, .ts_ns = p->ts_ns};
	const uint8_t *d = p->data;
	size_t o = 12;
	if (p->caplen < 14)
		return r;
	if (get16(d + o) == 0x8100) {
		r.tagged = true;
		o += 4;
	}
	if (p->caplen < o + 2 + 20 + 8 + 8 || get16(d + o) != 0x0800 || d[o + 2 + 9] != 17)
		return r;
	const uint8_t *udp = d + o + 2 + 20;
	if (memcmp(udp + 8, "RCAP", 4))
		return r;
	r.ours = true;
	r.sport = get16(udp);
	r.dport = get16(udp + 2);
	r.seq = (uint32_t)udp[12] << 24 | (uint32_t)udp[13] << 16 | (uint32_t)udp[14] << 8 |
		udp[15];
	uint8_t want[256];
	int tci = r.tagged ? get16(d + 14) : -1;
	size_t len = build(want, r.seq, r.sport, r.dport, tci);
	r.lengths_ok = p->caplen == len && p->wirelen == len;
	r.content_ok = r.lengths_ok && !memcmp(want, d, len);
	return r;
}

/* ---- capture --------------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Walk whatever blocks are ready; append to recs. */
static size_t drain(struct rc_ring *r, uint8_t ring, struct rec *recs, size_t n, size_t cap)
{
	struct rc_ring_block b;
	struct rc_packet p;
	struct rc_vlan_tag v;
	while (rc_ring_block(r, &b) == 1) {
		while (rc_ring_block_next(&b, &p, &v)) {
			assert_true(n < cap);
			recs[n] = inspect(&p, &v);
			recs[n++].ring = ring;
		}
		rc_ring_block_done(r, &b);
	}
	return n;
}

/*
 * Collect from the rings until `expect` packets arrived (at most 5 s), then keep listening for
 * 200 ms more: whatever shows up then is a packet too many.
 */
static size_t collect(struct rc_ring **rings, int nr, size_t expect, struct rec *recs)
{
	size_t n = 0;
	uint64_t start = now_ns(), quiet_until = 0;
	for (;;) {
		uint64_t t = now_ns();
		if (!quiet_until && (n >= expect || t - start > 5000000000u))
			quiet_until = t + 200000000u;
		if (quiet_until && t > quiet_until)
			break;
		for (int i = 0; i < nr; i++) {
			int w = rc_ring_wait(rings[i], 5);
			assert_true(w >= 0);
			n = drain(rings[i], (uint8_t)i, recs, n, MAX_RECS);
		}
	}
	return n;
}

static struct rc_ring_config base_config(void)
{
	struct rc_ring_config c = {
		.ifname = RX_IF,
		.ring_bytes = 1 << 20,
		.block_bytes = 64 << 10,
		.block_timeout_ms = 10,
		.fanout = RC_FANOUT_NONE,
	};
	return c;
}

static struct rc_ring *open_ok(const struct rc_ring_config *c)
{
	struct rc_ring *r = NULL;
	char err[512] = "";
	int rc = rc_ring_open(&r, c, err, sizeof(err));
	if (rc)
		fail_msg("rc_ring_open: %d %s", rc, err);
	return r;
}

/* A filter compiled by libpcap for Ethernet; the caller frees it with pcap_freecode. */
static struct bpf_program compile(const char *expr)
{
	struct bpf_program prog;
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	assert_non_null(p);
	assert_int_equal(pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN), 0);
	pcap_close(p);
	return prog;
}

/*
 * Run ip(8) with the words of fmt as arguments; with out, its stdout lands there (truncated,
 * NUL-terminated). 0 when it exited 0. Waits only for the child it started.
 */
static int run_ip_out(char *out, size_t outlen, const char *fmt, ...)
{
	static const char *const paths[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};
	const char *ip = NULL;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && !ip; i++)
		if (access(paths[i], X_OK) == 0)
			ip = paths[i];
	if (!ip)
		return -1;
	char line[256], *argv[16];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	int argc = 0;
	argv[argc++] = (char *)ip;
	for (char *save, *t = strtok_r(line, " ", &save); t && argc < 15;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;

	int fds[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (out) {
		if (pipe2(fds, O_CLOEXEC))
			return -1;
		posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	}
	pid_t pid;
	int rc = posix_spawn(&pid, ip, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (out) {
		close(fds[1]);
		size_t got = 0;
		ssize_t k;
		while (!rc && got + 1 < outlen &&
		       (k = read(fds[0], out + got, outlen - 1 - got)) > 0)
			got += (size_t)k;
		out[got] = 0;
		close(fds[0]); /* a child with more to say gets EPIPE and ends */
	}
	if (rc)
		return -1;
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

#define run_ip(...) run_ip_out(NULL, 0, __VA_ARGS__)

/* The device's promiscuity count (SIOCGIFFLAGS shows only the user-set flag, not this). */
static int promiscuity(const char *ifname)
{
	char out[2048];
	assert_int_equal(run_ip_out(out, sizeof(out), "-d link show dev %s", ifname), 0);
	const char *p = strstr(out, "promiscuity ");
	assert_non_null(p);
	return atoi(p + strlen("promiscuity "));
}

/* ---- tests ----------------------------------------------------------------------------- */

static struct rec recs[MAX_RECS];

static void test_capture_all(void **state)
{
	(void)state;
	struct rc_ring_config c = base_config();
	c.promisc = true;
	c.index = 3;
	struct rc_ring *r = open_ok(&c);
	assert_string_equal(rc_ring_describe(r), "1 MiB in 16 blocks of 64 KiB, timeout 10 ms");
	assert_int_equal(rc_ring_linktype(r), RC_LINK_EN10MB);
	assert_int_equal(promiscuity(RX_IF), 1);

	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	uint64_t t0 = (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec;
	for (uint32_t i = 0; i < N_FRAMES; i++)
		send_frame(i, 1000, 53, -1);
	size_t n = collect(&r, 1, N_FRAMES, recs);
	assert_int_equal(n, N_FRAMES);

	static uint8_t seen[N_FRAMES];
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < n; i++) {
		assert_true(recs[i].ours);
		assert_true(recs[i].content_ok);
		assert_int_equal(recs[i].source, 3);
		assert_int_equal(recs[i].linktype, RC_LINK_EN10MB);
		assert_true(recs[i].ts_ns + 1000000000u > t0 && recs[i].ts_ns < t0 + 60000000000u);
		assert_true(recs[i].seq < N_FRAMES);
		assert_int_equal(seen[recs[i].seq]++, 0);
		if (i)
			assert_true(recs[i].seq == recs[i - 1].seq + 1); /* one flow keeps order */
	}
	struct rc_ring_stats st;
	assert_int_equal(rc_ring_stats(r, &st), 0);
	assert_int_equal(st.packets, N_FRAMES);
	assert_int_equal(st.drops, 0);
	assert_int_equal(st.seq_gaps, 0);
	assert_true(st.blocks >= 2); /* ~160 KiB of frames over 64 KiB blocks */
	/* The kernel resets its counters on read; ours accumulate. */
	assert_int_equal(rc_ring_stats(r, &st), 0);
	assert_int_equal(st.packets, N_FRAMES);
	rc_ring_close(r);
	assert_int_equal(promiscuity(RX_IF), 0);
}

static void test_snaplen(void **state)
{
	(void)state;
	struct rc_ring_config c = base_config();
	c.snaplen = 40;
	struct rc_ring *r = open_ok(&c);
	for (uint32_t i = 0; i < 10; i++)
		send_frame(i, 1000, 53, -1);
	size_t n = 0;
	struct rc_ring_block b;
	struct rc_packet p;
	struct rc_vlan_tag v;
	for (uint64_t start = now_ns(); n < 10 && now_ns() - start < 5000000000u;) {
		rc_ring_wait(r, 10);
		while (rc_ring_block(r, &b) == 1) {
			while (rc_ring_block_next(&b, &p, &v)) {
				uint8_t want[256];
				size_t len = build(want, (uint32_t)n, 1000, 53, -1);
				assert_int_equal(p.caplen, 40);
				assert_int_equal(p.wirelen, len);
				assert_memory_equal(p.data, want, 40);
				n++;
			}
			rc_ring_block_done(r, &b);
		}
	}
	assert_int_equal(n, 10);
	rc_ring_close(r);
}

struct noise {
	unsigned limit;	 /* frames to send at most (the thread also stops after 4 s) */
	uint16_t dport;	 /* of every frame; seq counts from 0 */
	bool stop, done; /* set by the test / by the thread (atomics) */
	unsigned sent;
};

/* Frames sent flat out while rings are being opened; bounded in count and time. */
static void *noise_thread(void *arg)
{
	struct noise *nz = arg;
	uint64_t start = now_ns();
	for (unsigned i = 0; i < nz->limit && now_ns() - start < 4000000000u; i++) {
		if (__atomic_load_n(&nz->stop, __ATOMIC_ACQUIRE))
			break;
		send_raw(i, 1000, nz->dport, -1); /* a frame lost to a full backlog is fine */
		__atomic_store_n(&nz->sent, i + 1, __ATOMIC_RELEASE);
		if (i % 256 == 255)
			sched_yield();
	}
	__atomic_store_n(&nz->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void noise_start(struct noise *nz, pthread_t *th, unsigned limit, uint16_t dport)
{
	*nz = (struct noise){.limit = limit, .dport = dport};
	assert_int_equal(pthread_create(th, NULL, noise_thread, nz), 0);
	/* The noise is flowing before the first socket exists. */
	while (__atomic_load_n(&nz->sent, __ATOMIC_ACQUIRE) < 200 &&
	       !__atomic_load_n(&nz->done, __ATOMIC_ACQUIRE))
		usleep(100);
}

static void noise_stop(struct noise *nz, pthread_t th)
{
	__atomic_store_n(&nz->stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_true(nz->sent > 200);
	usleep(20000); /* what is still in the receive backlog gets delivered */
}

static void check_only_port(size_t n, uint16_t port, size_t expect)
{
	assert_int_equal(n, expect);
	for (size_t i = 0; i < n; i++) {
		assert_true(recs[i].ours);
		assert_true(recs[i].content_ok);
		assert_int_equal(recs[i].dport, port);
	}
}

/* Send 2 * half frames, dports 9 and 10 alternating; seq starts at `base`. */
static void send_mix(uint32_t base, uint32_t half)
{
	for (uint32_t i = 0; i < 2 * half; i++)
		send_frame(base + i, 2000, i % 2 ? 10 : 9, -1);
}

/*
 * Frames that fail the filter flow flat out while the ring is opened, 30 times over: none may
 * reach the ring, not even in the moment between bind and the filter (a narrow window, so the
 * test repeats it). Then a mix: exactly the matching frames arrive.
 */
static void filter_before_bind(enum rc_fanout_mode mode, uint16_t id)
{
	struct bpf_program prog = compile("udp port 9");
	struct rc_ring_config c = base_config();
	c.filter_insns = prog.bf_insns;
	c.filter_len = (uint16_t)prog.bf_len;
	c.fanout = mode;
	c.fanout_id = id;

	struct noise nz;
	pthread_t th;
	noise_start(&nz, &th, 400000, 10);
	struct rc_ring *r = NULL;
	for (int round = 0; round < 30; round++) {
		rc_ring_close(r);
		r = open_ok(&c);
		usleep(15000); /* past the block timeout: a block with anything in it is retired */
		assert_int_equal(drain(r, 0, recs, 0, MAX_RECS), 0);
	}
	noise_stop(&nz, th);
	assert_int_equal(drain(r, 0, recs, 0, MAX_RECS), 0);

	send_mix(1000000, 150);
	check_only_port(collect(&r, 1, 150, recs), 9, 150);
	struct rc_ring_stats st;
	assert_int_equal(rc_ring_stats(r, &st), 0);
	assert_int_equal(st.packets, 150); /* the rejected ones were never counted either */
	assert_int_equal(st.drops, 0);
	rc_ring_close(r);
	pcap_freecode(&prog);
}

static void test_filter_before_bind(void **state)
{
	(void)state;
	filter_before_bind(RC_FANOUT_NONE, 0);
}

static void test_filter_before_bind_fanout(void **state)
{
	(void)state;
	filter_before_bind(RC_FANOUT_HASH, (uint16_t)(rc_ring_fanout_id_unique() + 3));
}

static void test_set_filter_swap(void **state)
{
	(void)state;
	struct bpf_program p9 = compile("udp port 9"), p10 = compile("udp port 10");
	struct rc_ring_config c = base_config();
	c.filter_insns = p9.bf_insns;
	c.filter_len = (uint16_t)p9.bf_len;
	struct rc_ring *r = open_ok(&c);

	send_mix(0, 100);
	check_only_port(collect(&r, 1, 100, recs), 9, 100);
	assert_int_equal(rc_ring_set_filter(r, p10.bf_insns, (uint16_t)p10.bf_len), 0);
	send_mix(1000, 100);
	check_only_port(collect(&r, 1, 100, recs), 10, 100);
	assert_int_equal(rc_ring_set_filter(r, NULL, 0), 0);
	send_mix(2000, 100);
	size_t n = collect(&r, 1, 200, recs);
	assert_int_equal(n, 200);
	for (size_t i = 0; i < n; i++)
		assert_true(recs[i].ours && recs[i].content_ok);
	assert_int_equal(rc_ring_set_filter(r, NULL, 0), 0); /* detaching twice is fine */
	rc_ring_close(r);
	pcap_freecode(&p9);
	pcap_freecode(&p10);
}

/* Two rings in one group receive every frame exactly once between them; returns per-ring counts. */
static void fanout_pair(enum rc_fanout_mode mode, uint16_t id, size_t counts[2])
{
	struct rc_ring_config c = base_config();
	c.fanout = mode;
	c.fanout_id = id;
	struct rc_ring *rings[2];
	c.index = 0;
	rings[0] = open_ok(&c);
	c.index = 1;
	rings[1] = open_ok(&c);

	for (uint32_t i = 0; i < N_FRAMES; i++)
		send_frame(i, (uint16_t)(1024 + i % 64), 53, -1); /* 64 flows */
	size_t n = collect(rings, 2, N_FRAMES, recs);
	assert_int_equal(n, N_FRAMES);

	static uint8_t seen[N_FRAMES];
	memset(seen, 0, sizeof(seen));
	counts[0] = counts[1] = 0;
	for (size_t i = 0; i < n; i++) {
		assert_true(recs[i].ours && recs[i].content_ok);
		assert_true(recs[i].seq < N_FRAMES);
		assert_int_equal(seen[recs[i].seq]++, 0);
		assert_int_equal(recs[i].source, recs[i].ring);
		counts[recs[i].ring]++;
	}
	uint64_t packets = 0;
	for (int i = 0; i < 2; i++) {
		struct rc_ring_stats st;
		assert_int_equal(rc_ring_stats(rings[i], &st), 0);
		assert_int_equal(st.packets, counts[i]);
		assert_int_equal(st.drops, 0);
		assert_int_equal(st.seq_gaps, 0);
		packets += st.packets;
		rc_ring_close(rings[i]);
	}
	assert_int_equal(packets, N_FRAMES);
}

static void test_fanout_hash(void **state)
{
	(void)state;
	size_t counts[2];
	fanout_pair(RC_FANOUT_HASH, rc_ring_fanout_id_unique(), counts);
	/* A hash split of 64 flows leaves no ring empty unless the hash is broken. */
	assert_true(counts[0] > 0 && counts[1] > 0);
}

static void test_fanout_lb(void **state)
{
	(void)state;
	size_t counts[2];
	fanout_pair(RC_FANOUT_LB, (uint16_t)(rc_ring_fanout_id_unique() + 1), counts);
	assert_true(counts[0] > 0 && counts[1] > 0);
}

/* Walk every ready block, counting each frame's seq; foreign frames are counted apart. */
static void drain_count(struct rc_ring *r, uint8_t *seen, unsigned limit, unsigned *foreign)
{
	struct rc_ring_block b;
	struct rc_packet p;
	struct rc_vlan_tag v;
	while (rc_ring_block(r, &b) == 1) {
		while (rc_ring_block_next(&b, &p, &v)) {
			struct rec x = inspect(&p, &v);
			if (x.ours && x.content_ok && x.seq < limit && seen[x.seq] < 255)
				seen[x.seq]++;
			else
				(*foreign)++;
		}
		rc_ring_block_done(r, &b);
	}
}

/*
 * Rings join a group while frames flow, 40 times over. Between bind and the join a ring is a tap
 * of its own; had it no gate it would take copies of frames the group also delivers (a window of
 * microseconds, hence the repetitions). No frame may arrive twice.
 */
static void test_fanout_join_no_duplicates(void **state)
{
	(void)state;
	enum { LIMIT = 1000000 };
	static uint8_t seen[LIMIT];
	memset(seen, 0, sizeof(seen));
	struct rc_ring_config c = base_config();
	c.ring_bytes = 8 << 20;
	c.fanout = RC_FANOUT_HASH;
	c.fanout_id = (uint16_t)(rc_ring_fanout_id_unique() + 5);
	struct rc_ring *stay = open_ok(&c);

	struct noise nz;
	pthread_t th;
	unsigned foreign = 0;
	noise_start(&nz, &th, LIMIT, 53);
	for (int round = 0; round < 40 && !__atomic_load_n(&nz.done, __ATOMIC_ACQUIRE); round++) {
		c.index = 1;
		struct rc_ring *join = open_ok(&c);
		usleep(15000); /* the block holding the first frames retires */
		drain_count(join, seen, LIMIT, &foreign);
		drain_count(stay, seen, LIMIT, &foreign);
		struct rc_ring_stats st;
		assert_int_equal(rc_ring_stats(join, &st), 0);
		assert_int_equal(st.drops, 0);
		rc_ring_close(join); /* frames it still held are lost, never doubled */
	}
	noise_stop(&nz, th);
	usleep(15000);
	drain_count(stay, seen, LIMIT, &foreign);
	unsigned got = 0, dups = 0;
	for (unsigned i = 0; i < LIMIT; i++) {
		got += seen[i] > 0;
		dups += seen[i] > 1;
	}
	struct rc_ring_stats st;
	assert_int_equal(rc_ring_stats(stay, &st), 0);
	assert_int_equal(st.drops, 0);
	rc_ring_close(stay);
	assert_int_equal(foreign, 0);
	assert_int_equal(dups, 0);
	assert_true(got > 200);
}

static void test_vlan(void **state)
{
	(void)state;
	struct rc_ring_config c = base_config();
	struct rc_ring *r = open_ok(&c);
	const int tci = 3 << 13 | 42;
	for (uint32_t i = 0; i < 10; i++)
		send_frame(i, 1000, 53, tci);
	size_t n = collect(&r, 1, 10, recs);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		assert_true(recs[i].ours && recs[i].content_ok);
		if (recs[i].tagged) {
			assert_int_equal(recs[i].vlan.tci, 0);
		} else {
			/* Stripped by the kernel into the ring's header. */
			assert_int_equal(recs[i].vlan.tci, tci);
			assert_int_equal(recs[i].vlan.tpid, 0x8100);
		}
	}
	rc_ring_close(r);
}

/* Wait (1 s at most) for the next block and take it. */
static void take_block(struct rc_ring *r, struct rc_ring_block *b)
{
	uint64_t end = now_ns() + 1000000000u;
	while (rc_ring_block(r, b) != 1) {
		assert_true(now_ns() < end);
		assert_true(rc_ring_wait(r, 20) >= 0);
	}
}

/*
 * A block with references left stays ours: the kernel stalls on it (and counts drops) rather
 * than overwrite it, the walk does not take it again a lap later, and the last put hands it
 * back, after which frames flow into it again.
 */
static void test_hold_and_put(void **state)
{
	(void)state;
	struct rc_ring_config c = base_config();
	c.ring_bytes = 4 * (64 << 10);
	struct rc_ring *r = open_ok(&c);
	assert_int_equal(rc_ring_block_count(r), 4);
	assert_int_equal(rc_ring_blocks_held(r), 0);

	for (uint32_t i = 0; i < 50; i++)
		send_frame(i, 1000, 53, -1);
	struct rc_ring_block held;
	take_block(r, &held); /* retired by the block timeout: the 50 frames */
	assert_int_equal(rc_ring_blocks_held(r), 1);
	uint32_t index = held.index;
	struct rc_packet p;
	struct rc_vlan_tag v;
	assert_true(rc_ring_block_next(&held, &p, &v));
	const uint8_t *first = p.data;
	uint8_t saved[64];
	memcpy(saved, first, sizeof(saved));
	struct rec r0 = inspect(&p, &v);
	assert_true(r0.ours && r0.content_ok && r0.seq == 0);
	rc_ring_block_hold(r, &held, 2); /* two readers elsewhere */
	rc_ring_block_done(r, &held);	 /* the owner's own reference */
	assert_int_equal(rc_ring_blocks_held(r), 1);

	/* Far more than the other three blocks hold. */
	for (uint32_t i = 0; i < 4000; i++)
		send_frame(1000 + i, 1000, 53, -1);
	size_t n = collect(&r, 1, 4000, recs);
	assert_true(n > 0 && n < 4000);
	for (size_t i = 0; i < n; i++)
		assert_true(recs[i].ours && recs[i].content_ok && recs[i].seq >= 1000);
	assert_int_equal(rc_ring_blocks_held(r), 1);
	assert_memory_equal(first, saved, sizeof(saved)); /* not overwritten */
	struct rc_ring_stats st;
	assert_int_equal(rc_ring_stats(r, &st), 0);
	assert_int_equal(st.packets - st.drops, 50 + n);
	assert_true(st.drops > 0);

	rc_ring_block_put(r, index);
	assert_int_equal(rc_ring_blocks_held(r), 1); /* one reader left */
	rc_ring_block_put(r, index);
	assert_int_equal(rc_ring_blocks_held(r), 0);
	for (uint32_t i = 0; i < 10; i++)
		send_frame(9000 + i, 1000, 53, -1);
	n = collect(&r, 1, 10, recs);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++)
		assert_true(recs[i].ours && recs[i].content_ok && recs[i].seq == 9000 + i);
	rc_ring_close(r);
}

/* A stripped tag goes back into the frame in place: the frame is then the one that was sent. */
static void test_vlan_restore_in_place(void **state)
{
	(void)state;
	struct rc_ring_config c = base_config();
	struct rc_ring *r = open_ok(&c);
	const int tci = 5 << 13 | 1234;
	for (uint32_t i = 0; i < 10; i++)
		send_frame(i, 1000, 53, tci);
	size_t n = 0;
	uint64_t end = now_ns() + 2000000000u;
	while (n < 10 && now_ns() < end) {
		struct rc_ring_block b;
		if (rc_ring_block(r, &b) != 1) {
			assert_true(rc_ring_wait(r, 20) >= 0);
			continue;
		}
		struct rc_packet p;
		struct rc_vlan_tag v;
		while (rc_ring_block_next(&b, &p, &v)) {
			struct rc_packet before = p;
			assert_int_equal(v.tpid, 0x8100);
			assert_true(rc_ring_restore_vlan(&p, &v));
			assert_ptr_equal(p.data, before.data - 4);
			assert_int_equal(p.caplen, before.caplen + 4);
			assert_int_equal(p.wirelen, before.wirelen + 4);
			struct rc_vlan_tag none = {0, 0};
			struct rec x = inspect(&p, &none);
			assert_true(x.ours && x.tagged && x.content_ok);
			assert_int_equal(get16(p.data + 14), tci);
			assert_false(rc_ring_restore_vlan(&p, &none)); /* nothing to restore */
			n++;
		}
		rc_ring_block_done(r, &b);
	}
	assert_int_equal(n, 10);
	rc_ring_close(r);
}

static int open_err(const struct rc_ring_config *c, char *err, size_t len)
{
	struct rc_ring *r = (struct rc_ring *)&r;
	err[0] = 0;
	int rc = rc_ring_open(&r, c, err, len);
	if (rc)
		assert_null(r);
	return rc;
}

static void test_errors(void **state)
{
	(void)state;
	char err[512];
	struct rc_ring_config c = base_config();

	c.ifname = "rcNope";
	assert_int_equal(open_err(&c, err, sizeof(err)), -ENODEV);
	assert_string_equal(err, "no such interface: rcNope");

	c = base_config();
	c.ifname = DOWN_IF;
	assert_int_equal(open_err(&c, err, sizeof(err)), -ENETDOWN);
	assert_string_equal(err, "interface rcC is down");

	c = base_config();
	c.ring_bytes = 1ull << 40;
	c.block_bytes = 1 << 20;
	assert_int_equal(open_err(&c, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "1 TiB"));
	assert_non_null(strstr(err, "1048576 blocks of 1 MiB"));
	assert_non_null(strstr(err, "--ring-size"));

	c = base_config();
	c.block_bytes = 12288;
	assert_int_equal(open_err(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "12288"));
	assert_non_null(strstr(err, "power of two"));

	c = base_config();
	c.ring_bytes = (1 << 20) + 4096;
	assert_int_equal(open_err(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--ring-size"));

	/* Nothing was left behind by the failures: a good ring still opens. */
	c = base_config();
	rc_ring_close(open_ok(&c));
	rc_ring_close(NULL);
}

static void test_fanout_conflict(void **state)
{
	(void)state;
	char err[512], want[200];
	uint16_t id = (uint16_t)(rc_ring_fanout_id_unique() + 2);
	struct rc_ring_config c = base_config();
	c.fanout = RC_FANOUT_HASH;
	c.fanout_id = id;
	struct rc_ring *a = open_ok(&c);
	assert_non_null(strstr(rc_ring_describe(a), "fanout hash id"));
	c.fanout = RC_FANOUT_CPU;
	int rc = open_err(&c, err, sizeof(err));
	assert_true(rc == -EINVAL || rc == -EALREADY);
	snprintf(want, sizeof(want),
		 "fanout group id %u is already in use on this host with other settings; give "
		 "another with --fanout-id",
		 id);
	assert_string_equal(err, want);
	/* Same settings join the group. */
	c.fanout = RC_FANOUT_HASH;
	rc_ring_close(open_ok(&c));
	rc_ring_close(a);
}

/* What a child reports: rc_ring_open's result, and its message or the ring's description. */
struct child_report {
	int rc; /* CHILD_SKIP: the child could not set itself up */
	char text[500];
};

#define CHILD_SKIP 1000

/* Run fn in a forked child (its own privileges to drop) and return what it reported. */
static struct child_report in_child(void (*fn)(struct child_report *))
{
	struct child_report rep = {.rc = CHILD_SKIP};
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		fn(&rep);
		ssize_t w = write(fds[1], &rep, sizeof(rep));
		_exit(w == (ssize_t)sizeof(rep) ? 0 : 1);
	}
	close(fds[1]);
	size_t got = 0;
	ssize_t k;
	while (got < sizeof(rep) && (k = read(fds[0], (char *)&rep + got, sizeof(rep) - got)) > 0)
		got += (size_t)k;
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(got, sizeof(rep));
	rep.text[sizeof(rep.text) - 1] = 0;
	return rep;
}

static void open_in_child(struct child_report *rep)
{
	struct rc_ring_config c = base_config();
	struct rc_ring *r = NULL;
	rep->rc = rc_ring_open(&r, &c, rep->text, sizeof(rep->text));
	if (!rep->rc)
		snprintf(rep->text, sizeof(rep->text), "%s", rc_ring_describe(r));
	rc_ring_close(r);
}

static void as_nobody(struct child_report *rep)
{
	if (setgroups(0, NULL) == 0 && setgid(65534) == 0 && setuid(65534) == 0)
		open_in_child(rep);
}

static void test_not_root(void **state)
{
	(void)state;
	struct child_report rep = in_child(as_nobody);
	if (rep.rc == CHILD_SKIP)
		skip();
	assert_int_equal(rep.rc, -EPERM);
	assert_string_equal(rep.text, "ringcap needs root or CAP_NET_RAW to capture (socket: "
				      "Operation not permitted)");
}

/* Root without CAP_IPC_LOCK and a 64 KiB memlock limit: MAP_LOCKED fails, the ring still opens. */
static void without_ipc_lock(struct child_report *rep)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	struct rlimit rl = {64 << 10, 64 << 10};
	if (syscall(SYS_capget, &h, d))
		return;
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	d[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
	if (syscall(SYS_capset, &h, d) || setrlimit(RLIMIT_MEMLOCK, &rl))
		return;
	open_in_child(rep);
}

static void test_not_locked(void **state)
{
	(void)state;
	struct child_report rep = in_child(without_ipc_lock);
	if (rep.rc == CHILD_SKIP)
		skip();
	assert_int_equal(rep.rc, 0);
	assert_string_equal(rep.text, "1 MiB in 16 blocks of 64 KiB, timeout 10 ms, not locked");
}

/* ---- namespace ------------------------------------------------------------------------- */

static void write_sysctl(const char *path, const char *value)
{
	FILE *f = fopen(path, "we");
	if (f) {
		fputs(value, f);
		fclose(f);
	}
}

/*
 * A private network namespace that dies with this process: check it holds only lo, keep IPv6
 * quiet (no router solicitations to count), then the veth pairs.
 */
static int setup_namespace(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test-ring: not root, skipped\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "test-ring: unshare(CLONE_NEWNET): %s, skipped\n", strerror(errno));
		return 77;
	}
	struct if_nameindex *ifs = if_nameindex();
	if (!ifs)
		return 1;
	for (struct if_nameindex *i = ifs; i->if_index; i++)
		if (strcmp(i->if_name, "lo")) {
			fprintf(stderr, "test-ring: new namespace has %s: not private\n",
				i->if_name);
			if_freenameindex(ifs);
			return 1;
		}
	if_freenameindex(ifs);
	write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (run_ip("link add " TX_IF " type veth peer name " RX_IF) ||
	    run_ip("link add " DOWN_IF " type veth peer name rcD")) {
		fprintf(stderr,
			"test-ring: cannot create veth pairs (no ip or no veth), skipped\n");
		return 77;
	}
	if (run_ip("link set " TX_IF " up") || run_ip("link set " RX_IF " up"))
		return 1;

	tx_ifindex = (int)if_nametoindex(TX_IF);
	tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
		       0); /* protocol 0: sends, never receives */
	if (!tx_ifindex || tx_fd < 0)
		return 1;
	/* Bounded wait for the carrier on both ends. */
	for (int i = 0; i < 200; i++) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		strcpy(ifr.ifr_name, RX_IF);
		if (ioctl(tx_fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_RUNNING))
			return 0;
		usleep(10000);
	}
	fprintf(stderr, "test-ring: %s never came up\n", RX_IF);
	return 1;
}

int main(void)
{
	int rc = setup_namespace();
	if (rc)
		return rc;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_all),
		cmocka_unit_test(test_snaplen),
		cmocka_unit_test(test_filter_before_bind),
		cmocka_unit_test(test_filter_before_bind_fanout),
		cmocka_unit_test(test_set_filter_swap),
		cmocka_unit_test(test_fanout_hash),
		cmocka_unit_test(test_fanout_lb),
		cmocka_unit_test(test_fanout_join_no_duplicates),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_vlan_restore_in_place),
		cmocka_unit_test(test_hold_and_put),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_fanout_conflict),
		cmocka_unit_test(test_not_root),
		cmocka_unit_test(test_not_locked),
	};
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	close(tx_fd);
	return rc;
}
