/*
 * Live capture threads and decoder threads. A capture thread walks its ring block by block, puts
 * back any VLAN tag the kernel stripped (in place, in the head room PACKET_RESERVE left), and
 * hands every frame to the decoder its flow hashes to, as a reference into the ring: the block
 * stays held until every decoder that got a frame of it has released those records, then goes
 * back to the kernel. So that decoder speed never freezes the ring, a capture thread holds at most
 * half of the ring's blocks; past that, frames are copied into the queue and the block goes back
 * at once (counted in capture.copied). A frame whose decoder's queue is full is copied to the
 * overflow writer (--overflow: overflow.spilled, or overflow.lost when that queue is full too),
 * else lost (queue.full). With -w every frame is also copied to the disk writer's queue. Neither
 * writer ever makes a capture thread wait. Decoders drain their queues, decode, track flows, and
 * sleep when every queue is empty.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <pthread.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-bp.h>

#include "ringcap/assert.h"
#include "ringcap/dispatch.h"
#include "ringcap/engine.h"
#include "ringcap/pcapw.h"
#include "ringcap/spsc.h"

#define STATS_PERIOD_NS 250000000u

/* How a record carries its frame; REC_LAST marks a queue's last reference into a ring block. */
enum { REC_COPY = 1, REC_REF = 2, REC_LAST = 4 };

/*
 * The record a capture thread puts in a queue: this header, then the frame (REC_COPY) or a
 * pointer to the frame in a held ring block (REC_REF).
 */
struct queued_packet {
	uint64_t ts_ns;
	uint32_t caplen;
	uint32_t wirelen;
	uint32_t linktype;
	uint8_t source;
	uint8_t ts_digits;
	uint16_t kind;
};
_Static_assert(sizeof(struct queued_packet) == 24, "queued packet header is 24 bytes");

struct capture {
	struct rc_live *live;
	int index; /* ring index: its producer index at the writers */
	int cpu;
	struct rc_ring *ring;
	struct rc_spsc **queues; /* one per decoder */
	uint32_t hold_max;	 /* blocks decoders may hold before frames are copied instead */
	struct rc_ctrs ctrs;
	/* Per-queue counts (queue d goes to decoder d); single writer, relaxed stores. */
	uint64_t q_enqueued[RC_MAX_DECODERS];
	uint64_t q_full[RC_MAX_DECODERS];
	pthread_t thread;
	bool started;
};

/*
 * A decoder's view of its busiest live flows, for the stats socket: published once a second by
 * the decoder with an atomic pointer swap and read by the stats thread inside an RCU read-side
 * critical section (liburcu, bulletproof flavour); the replaced view is freed after a grace
 * period by call_rcu, so the reader never locks against the decoder and the decoder never waits
 * for the reader.
 */
struct flow_top {
	struct rcu_head rcu;
	size_t n;
	struct rc_flow_record rec[];
};

struct decoder {
	/*
	 * Sleeping without missing a wake-up (an eventcount): the decoder announces `sleeping`,
	 * looks at its queues once more, and waits on `wake_seq` only if they are still empty; a
	 * capture thread that published to it reads `sleeping` after a full fence and, if set,
	 * bumps `wake_seq` and wakes it. Either the decoder sees the new records or the producer
	 * sees the flag: the two seq_cst fences forbid both missing. A capture thread pays one load
	 * per published block, and a system call only when its decoder really sleeps.
	 */
	_Alignas(64) atomic_int sleeping;
	atomic_uint wake_seq;
	_Alignas(64) struct rc_live *live;
	int index;
	struct rc_worker worker;
	struct rc_record_sink sink;
	struct flow_top *top; /* RCU-published; NULL until the first view */
	uint64_t next_top_ns;
	pthread_t thread;
	bool started, worker_ready;
};

struct rc_live {
	struct rc_live_config cfg;
	struct capture *captures;
	struct decoder *decoders;
	struct rc_spsc **queues; /* [ring * ndecoders + decoder] */
	atomic_bool stop_capture;
	atomic_bool captures_done;
	int last_error;	      /* errno of the last socket error a capture thread met */
	int64_t ifdrop_start; /* -1: the interface has no such counters */
	int64_t ifdrop_end;
	bool stopped;
};

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* rx_missed_errors + rx_fifo_errors of the interface, or -1 when it has neither. */
static int64_t read_ifdrops(const char *ifname)
{
	static const char *const names[] = {"rx_missed_errors", "rx_fifo_errors"};
	int64_t sum = 0;
	for (size_t i = 0; i < RC_ARRAY_SIZE(names); i++) {
		char path[256];
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, names[i]);
		FILE *f = fopen(path, "r");
		if (!f)
			return -1;
		long long v = 0;
		int ok = fscanf(f, "%lld", &v);
		fclose(f);
		if (ok != 1)
			return -1;
		sum += v;
	}
	return sum;
}

/*
 * Hand one frame to the queue of its decoder: as a reference into the block being walked (`ref`)
 * or as a copy; *decoder says which. Returns the record, or NULL when that queue is full.
 */
static struct queued_packet *enqueue(struct capture *c, const struct rc_packet *pkt, bool ref,
				     uint64_t *dirty, int *decoder)
{
	int nd = c->live->cfg.ndecoders;
	uint32_t h = rc_dispatch_hash(pkt, 0);
	int d = (int)(((uint64_t)h * (uint64_t)nd) >> 32);
	*decoder = d;
	uint32_t len = sizeof(struct queued_packet) + (ref ? sizeof(pkt->data) : pkt->caplen);
	struct queued_packet *q = rc_spsc_reserve(c->queues[d], len);
	if (!q) {
		rc_ctr_bump(&c->q_full[d], 1);
		return NULL;
	}
	q->ts_ns = pkt->ts_ns;
	q->caplen = pkt->caplen;
	q->wirelen = pkt->wirelen;
	q->linktype = pkt->linktype;
	q->source = pkt->source;
	q->ts_digits = pkt->ts_digits;
	q->kind = ref ? REC_REF : REC_COPY;
	if (ref)
		memcpy(q + 1, &pkt->data, sizeof(pkt->data));
	else
		memcpy(q + 1, pkt->data, pkt->caplen);
	rc_spsc_commit(c->queues[d]);
	rc_ctr_bump(&c->q_enqueued[d], 1);
	*dirty |= 1ull << d;
	return q;
}

static void futex_wake_all(atomic_uint *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* Wake decoder d if it sleeps (after its queue was published). */
static void wake_decoder(struct rc_live *l, int d)
{
	struct decoder *dec = &l->decoders[d];
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&dec->sleeping, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&dec->wake_seq, 1, memory_order_relaxed);
		futex_wake_all(&dec->wake_seq);
	}
}

/*
 * Walk a block the capture thread has just taken. Frames go to the decoders as references while
 * at most hold_max blocks are held, each decoder queue that got some holding one reference to the
 * block, dropped by that decoder after its last one (marked REC_LAST); else as copies. Either way
 * the capture thread drops its own reference at the end, so the block goes back to the kernel as
 * soon as the last decoder is done with it, without waiting for this thread to run.
 */
static void walk_block(struct capture *c, struct rc_ring_block *b)
{
	struct rc_packet pkt;
	struct rc_vlan_tag vlan;
	struct queued_packet *last[RC_MAX_DECODERS];
	uint64_t dirty = 0, n = 0, bytes = 0, full = 0, restored = 0;
	uint64_t disk_full = 0, qfail = 0, spill_lost = 0;
	bool ref = rc_ring_blocks_held(c->ring) <= c->hold_max;
	struct rc_pcapw *disk = c->live->cfg.disk, *overflow = c->live->cfg.overflow;

	while (rc_ring_block_next(b, &pkt, &vlan)) {
		n++;
		if (vlan.tpid && rc_ring_restore_vlan(&pkt, &vlan))
			restored++;
		bytes += pkt.caplen;
		if (disk && !rc_pcapw_put(disk, c->index, &pkt))
			disk_full++;
		int d;
		struct queued_packet *q = enqueue(c, &pkt, ref, &dirty, &d);
		if (q) {
			last[d] = q;
			continue;
		}
		qfail++;
		if (!overflow)
			full++;
		else if (!rc_pcapw_put(overflow, c->index, &pkt))
			spill_lost++;
	}
	if (disk)
		rc_pcapw_flush(disk, c->index);
	if (overflow)
		rc_pcapw_flush(overflow, c->index);
	if (ref && dirty) {
		/* Records are committed but unpublished: the decoders cannot see them yet. */
		for (uint64_t m = dirty; m; m &= m - 1)
			last[__builtin_ctzll(m)]->kind |= REC_LAST;
		rc_ring_block_hold(c->ring, b, (uint32_t)__builtin_popcountll(dirty));
	}
	for (int d = 0; dirty; d++, dirty >>= 1)
		if (dirty & 1) {
			rc_spsc_publish(c->queues[d]);
			wake_decoder(c->live, d);
		}
	rc_ring_block_done(c->ring, b);
	rc_ctr_add(&c->ctrs, RC_CTR_CAPTURE_PACKETS, n);
	rc_ctr_add(&c->ctrs, RC_CTR_CAPTURE_BYTES, bytes);
	rc_ctr_add(&c->ctrs, RC_CTR_CAPTURE_VLAN_RESTORED, restored);
	if (!ref)
		rc_ctr_add(&c->ctrs, RC_CTR_CAPTURE_COPIED, n - qfail);
	rc_ctr_add(&c->ctrs, RC_CTR_QUEUE_ENQUEUED, n - qfail);
	rc_ctr_add(&c->ctrs, RC_CTR_QUEUE_FULL, full);
	rc_ctr_add(&c->ctrs, RC_CTR_OVERFLOW_LOST, spill_lost);
	rc_ctr_add(&c->ctrs, RC_CTR_DISK_FULL_QUEUE, disk_full);
	rc_ctr_inc(&c->ctrs, RC_CTR_CAPTURE_BLOCKS);
}

/* Fold the kernel's statistics into this thread's counters (owner only). */
static void refresh_stats(struct capture *c)
{
	struct rc_ring_stats st;
	if (rc_ring_stats(c->ring, &st) < 0)
		return;
	rc_ctr_set(&c->ctrs, RC_CTR_PCAP_RECEIVED, st.packets);
	rc_ctr_set(&c->ctrs, RC_CTR_PCAP_DROPPED, st.drops);
	rc_ctr_set(&c->ctrs, RC_CTR_CAPTURE_FREEZE_Q, st.freeze_q_cnt);
	rc_ctr_set(&c->ctrs, RC_CTR_CAPTURE_SEQ_GAPS, st.seq_gaps);
}

/* Walk every block the kernel has ready. Returns how many. */
static int walk_ready(struct capture *c)
{
	struct rc_ring_block b;
	int n = 0;
	while (rc_ring_block(c->ring, &b) == 1) {
		walk_block(c, &b);
		n++;
	}
	return n;
}

/*
 * Wait for the kernel to fill a block, up to timeout_ms. While decoders hold blocks poll() is of
 * no use: it reports readable as long as the block before the kernel's is not the kernel's. So
 * nap for 1 ms instead and look again: at 10 Gbit/s a ring fills about one 1 MiB block per ms,
 * a small part of its slack, and a shorter nap costs more in context switches than it saves
 * (measured: 100 us naps lost 1-9 % at 1 Mpps of 1500 B frames with softirq on the capture CPU,
 * 1 ms naps nothing). Returns rc_ring_wait's result, or 0 after a nap.
 */
static int wait_for_blocks(struct capture *c, int timeout_ms)
{
	if (rc_ring_blocks_held(c->ring) == 0)
		return rc_ring_wait(c->ring, timeout_ms);
	struct timespec nap = {0, 1000 * 1000};
	nanosleep(&nap, NULL);
	return 0;
}

static void *capture_main(void *arg)
{
	struct capture *c = arg;
	struct rc_live *l = c->live;
	/* The kernel's counts are folded in 4 times a second: pcap-stats on the stats socket
	 * is at most 250 ms old (reading them resets them, so only this thread may). */
	uint64_t next_stats = now_ns(CLOCK_MONOTONIC) + STATS_PERIOD_NS;

	while (!atomic_load_explicit(&l->stop_capture, memory_order_acquire)) {
		if (walk_ready(c) == 0) {
			int rc = wait_for_blocks(c, 100);
			if (rc < 0) {
				/* e.g. ENETDOWN: the socket stays bound and resumes when the
				 * interface comes back; the main thread reports it. */
				__atomic_store_n(&l->last_error, -rc, __ATOMIC_RELAXED);
				rc_ctr_inc(&c->ctrs, RC_CTR_CAPTURE_SOCKET_ERRORS);
			}
		}
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (now >= next_stats) {
			refresh_stats(c);
			next_stats = now + STATS_PERIOD_NS;
		}
	}

	/*
	 * Drain: a filter that accepts nothing keeps new frames out; the kernel retires the block
	 * it is filling after the block timeout, so walking until no block has come for twice that
	 * long sees every frame the kernel counted.
	 */
	static const struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	rc_ring_set_filter(c->ring, drop_all, 1);
	uint64_t quiet_ns = 2ull * l->cfg.ring.block_timeout_ms * 1000000u + 100000000u;
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + quiet_ns;
	for (;;) {
		if (walk_ready(c) > 0)
			deadline = now_ns(CLOCK_MONOTONIC) + quiet_ns;
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (now >= deadline)
			break;
		wait_for_blocks(c, (int)((deadline - now) / 1000000u) + 1);
	}
	refresh_stats(c);
	return NULL;
}

/* The packet a queue record describes; its data stays valid until the record is released. */
static void record_packet(const struct queued_packet *q, struct rc_packet *pkt)
{
	const uint8_t *data = (const uint8_t *)(q + 1);
	if (q->kind & REC_REF)
		memcpy(&data, q + 1, sizeof(data));
	else
		RC_ASSERT(q->kind == REC_COPY);
	*pkt = (struct rc_packet){
		.data = data,
		.ts_ns = q->ts_ns,
		.caplen = q->caplen,
		.wirelen = q->wirelen,
		.linktype = q->linktype,
		.ts_digits = q->ts_digits,
		.source = q->source,
	};
}

/* Decode and account a batch from ring r's queue, then drop the block references it ended. */
static void process_batch(struct decoder *d, int r, const struct rc_packet *batch, int n,
			  uint32_t last)
{
	rc_worker_process_batch(&d->worker, batch, n);
	if (d->live->cfg.decoder_delay_us) {
		uint32_t us = d->live->cfg.decoder_delay_us;
		struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
		nanosleep(&ts, NULL);
	}
	struct rc_ring *ring = d->live->captures[r].ring;
	for (; last; last &= last - 1) {
		const struct rc_packet *p = &batch[__builtin_ctz(last)];
		rc_ring_block_put(ring, rc_ring_block_of(ring, p->data));
	}
}

/*
 * One pass over this decoder's queues, at most `budget` records from each, decoded in batches.
 * Records are consumed as they are gathered and released only after their batch is processed,
 * so the frames they hold or point to stay put meanwhile. Returns records.
 */
static uint64_t drain_once(struct decoder *d, int budget)
{
	struct rc_live *l = d->live;
	struct rc_packet batch[RC_WORKER_BATCH];
	uint64_t total = 0;
	for (int r = 0; r < l->cfg.nrings; r++) {
		struct rc_spsc *q = l->queues[r * l->cfg.ndecoders + d->index];
		const void *rec;
		uint32_t len;
		int n = 0, k = 0;
		uint64_t bytes = 0;
		uint32_t last =
			0; /* bit i: batch[i] is this queue's last reference into its block */
		while (n < budget && (rec = rc_spsc_peek(q, &len)) != NULL) {
			RC_ASSERT(len >= sizeof(struct queued_packet));
			const struct queued_packet *qp = rec;
			record_packet(qp, &batch[k]);
			if (qp->kind & REC_LAST)
				last |= 1u << k;
			bytes += batch[k].caplen;
			rc_spsc_consume(q);
			n++;
			if (++k == RC_WORKER_BATCH) {
				process_batch(d, r, batch, k, last);
				k = 0;
				last = 0;
			}
		}
		if (k)
			process_batch(d, r, batch, k, last);
		if (n) {
			rc_ctr_add(&d->worker.ctrs, RC_CTR_DECODER_BYTES, bytes);
			rc_spsc_release(q);
		}
		total += (uint64_t)n;
	}
	return total;
}

/*
 * Sleep until a capture thread publishes to us, or at most `ms` milliseconds. Returns early when
 * records arrived between the last look and the announcement.
 */
static void decoder_sleep(struct decoder *d, int ms)
{
	unsigned seq = atomic_load_explicit(&d->wake_seq, memory_order_relaxed);
	atomic_store_explicit(&d->sleeping, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (drain_once(d, 256) == 0 &&
	    !atomic_load_explicit(&d->live->captures_done, memory_order_acquire)) {
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
		syscall(SYS_futex, &d->wake_seq, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
		rc_ctr_inc(&d->worker.ctrs, RC_CTR_DECODER_IDLE_WAITS);
	}
	atomic_store_explicit(&d->sleeping, 0, memory_order_relaxed);
}

/*
 * RCU already orders every reader's last look and the decoder's writes before free_top runs, but
 * through liburcu's own (uninstrumented) code, which ThreadSanitizer cannot see. So readers (after
 * their critical section) and decoders (before handing a view to call_rcu) also bump this counter
 * with release semantics, and free_top reads it with acquire: a cheap, real happens-before edge
 * the checker understands, instead of a suppression.
 */
static uint64_t rcu_handoff;

static void free_top(struct rcu_head *head)
{
	(void)__atomic_load_n(&rcu_handoff, __ATOMIC_ACQUIRE);
	free(caa_container_of(head, struct flow_top, rcu));
}

/* Publish a new view of this decoder's busiest flows, at most once a second (decoder only). */
static void maybe_publish_top(struct decoder *d)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	if (!d->live->cfg.flow_views || now < d->next_top_ns)
		return;
	d->next_top_ns = now + 1000000000u;
	size_t want = rc_flow_table_active(d->worker.flows);
	want = want < RC_LIVE_TOP_FLOWS ? want : RC_LIVE_TOP_FLOWS;
	struct flow_top *t = malloc(sizeof(*t) + want * sizeof(t->rec[0]));
	if (!t)
		return;
	t->n = rc_flow_table_top(d->worker.flows, t->rec, want);
	struct flow_top *old = __atomic_exchange_n(&d->top, t, __ATOMIC_ACQ_REL);
	if (old) {
		__atomic_fetch_add(&rcu_handoff, 1, __ATOMIC_RELEASE);
		urcu_bp_call_rcu(&old->rcu, free_top);
	}
}

static void *decoder_main(void *arg)
{
	struct decoder *d = arg;
	struct rc_live *l = d->live;
	uint64_t next_expire = now_ns(CLOCK_MONOTONIC) + 1000000000u;
	int idle = 0;

	for (;;) {
		if (drain_once(d, 256)) {
			idle = 0;
			maybe_publish_top(d);
			continue;
		}
		if (atomic_load_explicit(&l->captures_done, memory_order_acquire)) {
			/* Every producer has exited: one more pass sees all they published. */
			if (drain_once(d, 1 << 30) == 0)
				break;
			continue;
		}
		/* Nothing queued: look a few more times, then sleep until woken (at most 100 ms,
		 * so idle flows are still retired about once a second). */
		if (++idle < 16) {
			sched_yield();
			continue;
		}
		decoder_sleep(d, 100);
		maybe_publish_top(d);
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (now >= next_expire) {
			rc_flow_table_expire(d->worker.flows, now_ns(CLOCK_REALTIME));
			next_expire = now + 1000000000u;
		}
	}
	rc_worker_finish(&d->worker);
	return NULL;
}

static int pin(pthread_t t, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(t, sizeof(set), &set);
}

static void stop_threads(struct rc_live *l)
{
	atomic_store_explicit(&l->stop_capture, true, memory_order_release);
	for (int i = 0; i < l->cfg.nrings; i++)
		if (l->captures[i].started)
			pthread_join(l->captures[i].thread, NULL);
	atomic_store_explicit(&l->captures_done, true, memory_order_release);
	for (int i = 0; i < l->cfg.ndecoders; i++) {
		atomic_fetch_add_explicit(&l->decoders[i].wake_seq, 1, memory_order_relaxed);
		futex_wake_all(&l->decoders[i].wake_seq);
	}
	for (int i = 0; i < l->cfg.ndecoders; i++)
		if (l->decoders[i].started)
			pthread_join(l->decoders[i].thread, NULL);
}

int rc_live_start(struct rc_live **out, const struct rc_live_config *cfg, char *err, size_t errlen)
{
	RC_ASSERT(cfg->nrings > 0 && cfg->nrings <= RC_MAX_RINGS);
	RC_ASSERT(cfg->ndecoders > 0 && cfg->ndecoders <= RC_MAX_DECODERS);
	int rc = -ENOMEM;
	struct rc_live *l = calloc(1, sizeof(*l));
	if (!l)
		goto oom;
	l->cfg = *cfg;
	l->captures = calloc((size_t)cfg->nrings, sizeof(*l->captures));
	/* Decoders are cache-line aligned (their wake-up words are shared with producers). */
	if (posix_memalign((void **)&l->decoders, 64,
			   (size_t)cfg->ndecoders * sizeof(*l->decoders)))
		l->decoders = NULL;
	else
		memset(l->decoders, 0, (size_t)cfg->ndecoders * sizeof(*l->decoders));
	l->queues = calloc((size_t)(cfg->nrings * cfg->ndecoders), sizeof(*l->queues));
	if (!l->captures || !l->decoders || !l->queues)
		goto oom;
	for (int i = 0; i < cfg->nrings * cfg->ndecoders; i++)
		if (rc_spsc_new(&l->queues[i], cfg->queue_bytes) < 0)
			goto oom;

	const void *insns = NULL;
	uint16_t ninsns = 0;
	if (cfg->filter) {
		rc = rc_filter_program(cfg->filter, RC_LINK_EN10MB, &insns, &ninsns, err, errlen);
		if (rc < 0)
			goto fail;
	}
	for (int i = 0; i < cfg->nrings; i++) {
		struct capture *c = &l->captures[i];
		struct rc_ring_config rcfg = cfg->ring;
		rcfg.filter_insns = insns;
		rcfg.filter_len = ninsns;
		rcfg.index = (uint8_t)i;
		c->live = l;
		c->index = i;
		c->cpu = cfg->cpus[i];
		c->queues = &l->queues[i * cfg->ndecoders];
		rc = rc_ring_open(&c->ring, &rcfg, err, errlen);
		if (rc < 0)
			goto fail;
		/* Held blocks counted with the one being walked; a quarter stays the kernel's. */
		uint32_t nblocks = rc_ring_block_count(c->ring);
		c->hold_max = cfg->copy_frames ? 0 : nblocks - nblocks / 4;
	}
	for (int i = 0; i < cfg->ndecoders; i++) {
		struct decoder *d = &l->decoders[i];
		d->live = l;
		d->index = i;
		d->sink.out = cfg->flows_out;
		d->sink.ctrs = &d->worker.ctrs;
		rc = rc_worker_init(&d->worker, &cfg->flow, rc_record_sink_emit, &d->sink);
		if (rc < 0) {
			snprintf(err, errlen,
				 "cannot set up a flow table (--flow-memcap %" PRIu64 "): %s",
				 cfg->flow.memcap, strerror(-rc));
			goto fail;
		}
		d->worker_ready = true;
		rc = rc_worker_enable_app(&d->worker, &cfg->app);
		if (rc < 0) {
			snprintf(err, errlen, "cannot set up TCP reassembly: %s", strerror(-rc));
			goto fail;
		}
	}
	l->ifdrop_start = read_ifdrops(cfg->ring.ifname);
	for (int i = 0; i < cfg->ndecoders; i++) {
		rc = -pthread_create(&l->decoders[i].thread, NULL, decoder_main, &l->decoders[i]);
		if (rc < 0) {
			snprintf(err, errlen, "cannot start a decoder thread: %s", strerror(-rc));
			goto fail;
		}
		l->decoders[i].started = true;
	}
	for (int i = 0; i < cfg->nrings; i++) {
		struct capture *c = &l->captures[i];
		rc = -pthread_create(&c->thread, NULL, capture_main, c);
		if (rc < 0) {
			snprintf(err, errlen, "cannot start a capture thread: %s", strerror(-rc));
			goto fail;
		}
		c->started = true;
		if (pin(c->thread, c->cpu) != 0)
			fprintf(stderr,
				"ringcap: warning: cannot pin capture thread %d to CPU %d\n", i,
				c->cpu);
	}
	*out = l;
	return 0;
oom:
	snprintf(err, errlen, "out of memory for %d queues of %zu bytes",
		 cfg->nrings * cfg->ndecoders, cfg->queue_bytes);
fail:
	if (l && l->captures && l->decoders) {
		stop_threads(l);
		l->stopped = true;
	}
	rc_live_free(l);
	return rc < 0 ? rc : -ENOMEM;
}

const char *rc_live_describe(const struct rc_live *l)
{
	return rc_ring_describe(l->captures[0].ring);
}

void rc_live_totals(const struct rc_live *l, struct rc_ctrs *total)
{
	for (int i = 0; i < l->cfg.nrings; i++)
		rc_ctrs_sum(total, &l->captures[i].ctrs);
	for (int i = 0; i < l->cfg.ndecoders; i++)
		rc_ctrs_sum(total, &l->decoders[i].worker.ctrs);
}

void rc_live_stop(struct rc_live *l)
{
	if (l->stopped)
		return;
	stop_threads(l);
	l->stopped = true;
	l->ifdrop_end = read_ifdrops(l->cfg.ring.ifname);
}

int64_t rc_live_ifdropped(const struct rc_live *l)
{
	int64_t end = l->stopped ? l->ifdrop_end : read_ifdrops(l->cfg.ring.ifname);
	if (l->ifdrop_start < 0 || end < 0)
		return -1;
	return end >= l->ifdrop_start ? end - l->ifdrop_start : 0;
}

int rc_live_last_error(const struct rc_live *l)
{
	return __atomic_load_n(&l->last_error, __ATOMIC_RELAXED);
}

int rc_live_nrings(const struct rc_live *l)
{
	return l->cfg.nrings;
}

int rc_live_ndecoders(const struct rc_live *l)
{
	return l->cfg.ndecoders;
}

const struct rc_ctrs *rc_live_ring_ctrs(const struct rc_live *l, int i)
{
	return &l->captures[i].ctrs;
}

const struct rc_ctrs *rc_live_decoder_ctrs(const struct rc_live *l, int i)
{
	return &l->decoders[i].worker.ctrs;
}

void rc_live_queue_stats(const struct rc_live *l, int ring, int decoder, uint64_t *enqueued,
			 uint64_t *full, size_t *used, size_t *capacity)
{
	const struct capture *c = &l->captures[ring];
	*enqueued = __atomic_load_n(&c->q_enqueued[decoder], __ATOMIC_RELAXED);
	*full = __atomic_load_n(&c->q_full[decoder], __ATOMIC_RELAXED);
	*used = rc_spsc_used(c->queues[decoder]);
	*capacity = rc_spsc_capacity(c->queues[decoder]);
}

const struct rc_record_sink *rc_live_decoder_sink(const struct rc_live *l, int i)
{
	return &l->decoders[i].sink;
}

static uint64_t record_bytes(const struct rc_flow_record *r)
{
	return r->orig.wire_bytes + r->resp.wire_bytes;
}

static int by_bytes_desc(const void *a, const void *b)
{
	uint64_t x = record_bytes(a), y = record_bytes(b);
	return x < y ? 1 : x > y ? -1 : 0;
}

void rc_live_flows(const struct rc_live *l, unsigned n, FILE *f)
{
	int nd = l->cfg.ndecoders;
	size_t cap = (size_t)n * (size_t)nd, k = 0;
	struct rc_flow_record *all = cap ? malloc(cap * sizeof(*all)) : NULL;
	if (!all) {
		fputs("[]", f);
		return;
	}
	urcu_bp_read_lock();
	for (int i = 0; i < nd; i++) {
		const struct flow_top *t = __atomic_load_n(&l->decoders[i].top, __ATOMIC_ACQUIRE);
		size_t m = t ? (t->n < n ? t->n : n) : 0;
		if (m)
			memcpy(&all[k], t->rec, m * sizeof(*all));
		k += m;
	}
	urcu_bp_read_unlock();
	__atomic_fetch_add(&rcu_handoff, 1, __ATOMIC_RELEASE); /* see free_top */
	qsort(all, k, sizeof(*all), by_bytes_desc);
	fputc('[', f);
	char buf[2048];
	for (size_t i = 0; i < k && i < n; i++) {
		size_t len = rc_flow_record_json(&all[i], buf, sizeof(buf));
		if (len && buf[len - 1] == '\n')
			len--; /* a record is a line; here it is an array element */
		fprintf(f, "%s%.*s", i ? "," : "", (int)len, buf);
	}
	fputc(']', f);
	free(all);
}

int rc_live_set_filter(struct rc_live *l, struct rc_filter *filter, char *err, size_t errlen)
{
	const void *insns = NULL;
	uint16_t ninsns = 0;
	if (filter) {
		int rc = rc_filter_program(filter, RC_LINK_EN10MB, &insns, &ninsns, err, errlen);
		if (rc < 0)
			return rc;
	}
	for (int i = 0; i < l->cfg.nrings; i++) {
		int rc = rc_ring_set_filter(l->captures[i].ring, insns, ninsns);
		if (rc < 0) {
			snprintf(err, errlen, "cannot attach the filter to ring %d: %s", i,
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void rc_live_free(struct rc_live *l)
{
	if (!l)
		return;
	RC_ASSERT(l->stopped || !l->captures || !l->decoders);
	if (l->decoders) {
		/* No reader is left (the stats thread stopped first): free the views, and wait for
		 * the replaced ones handed to call_rcu. */
		for (int i = 0; i < l->cfg.ndecoders; i++)
			free(l->decoders[i].top);
		urcu_bp_barrier();
	}
	if (l->captures)
		for (int i = 0; i < l->cfg.nrings; i++)
			/* Decoders are joined: nothing reads the held blocks any more. */
			rc_ring_close(l->captures[i].ring);
	if (l->decoders)
		for (int i = 0; i < l->cfg.ndecoders; i++)
			if (l->decoders[i].worker_ready)
				rc_worker_destroy(&l->decoders[i].worker);
	if (l->queues)
		for (int i = 0; i < l->cfg.nrings * l->cfg.ndecoders; i++)
			rc_spsc_free(l->queues[i]);
	free(l->queues);
	free(l->captures);
	free(l->decoders);
	free(l);
}
