/*
 * The SPSC queue against a pthread mutex+condvar queue: the same records, the same two pinned
 * threads, the same copy in and copy out, every record's sequence number checked.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringcap/assert.h"
#include "ringcap/spsc.h"

#define BATCH	       32 /* records per publish / release, about a TPACKET block's worth */
#define MAX_REC	       2048
#define SPINS_TO_YIELD 64

struct opts {
	int cpu[2]; /* -1: pick */
	uint64_t records[2];
	size_t queue_bytes;
	int repeat;
	bool smoke;
};

static const uint32_t sizes[2] = {64, 1500};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Spin a little, then give the CPU away: the two threads may share one CPU. */
static void backoff(unsigned *spins)
{
	if (++*spins < SPINS_TO_YIELD) {
		cpu_relax();
	} else {
		*spins = 0;
		sched_yield();
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The peer: a bounded FIFO of fixed slots under one mutex, one lock round trip per record. */
struct mq {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	unsigned char *slots;
	size_t nslots, slot_bytes, head, count;
	bool consumer_waits, producer_waits;
};

static void mq_init(struct mq *m, size_t queue_bytes, uint32_t size)
{
	memset(m, 0, sizeof(*m));
	RC_ASSERT(pthread_mutex_init(&m->lock, NULL) == 0);
	RC_ASSERT(pthread_cond_init(&m->not_empty, NULL) == 0);
	RC_ASSERT(pthread_cond_init(&m->not_full, NULL) == 0);
	m->slot_bytes = rc_spsc_record_bytes(size);
	m->nslots = queue_bytes / m->slot_bytes;
	m->slots = malloc(m->nslots * m->slot_bytes);
	RC_ASSERT(m->slots != NULL);
	memset(m->slots, 0, m->nslots * m->slot_bytes);
}

static void mq_destroy(struct mq *m)
{
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->not_empty);
	pthread_cond_destroy(&m->not_full);
	free(m->slots);
}

static void mq_push(struct mq *m, const void *p, uint32_t len)
{
	pthread_mutex_lock(&m->lock);
	while (m->count == m->nslots) {
		m->producer_waits = true;
		pthread_cond_wait(&m->not_full, &m->lock);
	}
	m->producer_waits = false;
	memcpy(m->slots + ((m->head + m->count) % m->nslots) * m->slot_bytes, p, len);
	m->count++;
	if (m->consumer_waits)
		pthread_cond_signal(&m->not_empty);
	pthread_mutex_unlock(&m->lock);
}

static void mq_pop(struct mq *m, void *p, uint32_t len)
{
	pthread_mutex_lock(&m->lock);
	while (m->count == 0) {
		m->consumer_waits = true;
		pthread_cond_wait(&m->not_empty, &m->lock);
	}
	m->consumer_waits = false;
	memcpy(p, m->slots + m->head * m->slot_bytes, len);
	m->head = (m->head + 1) % m->nslots;
	m->count--;
	if (m->producer_waits)
		pthread_cond_signal(&m->not_full);
	pthread_mutex_unlock(&m->lock);
}

struct run {
	bool spsc; /* else the mutex queue */
	struct rc_spsc *q;
	struct mq m;
	uint32_t size;
	uint64_t records;
	int cpu[2];
	atomic_int ready;
	uint64_t bad; /* records whose sequence number was wrong */
	double t0, t1;
};

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Both threads start together; the producer's clock starts when both are ready. */
static void start_line(struct run *r)
{
	unsigned spins = 0;

	atomic_fetch_add_explicit(&r->ready, 1, memory_order_acq_rel);
	while (atomic_load_explicit(&r->ready, memory_order_acquire) < 2)
		backoff(&spins);
}

static void *producer(void *arg)
{
	struct run *r = arg;
	unsigned char rec[MAX_REC];
	unsigned spins = 0;
	void *p;

	pin(r->cpu[0]);
	for (uint32_t i = 0; i < r->size; i++)
		rec[i] = (unsigned char)(i * 31);
	start_line(r);
	r->t0 = now_s();
	for (uint64_t seq = 0; seq < r->records; seq++) {
		memcpy(rec, &seq, sizeof(seq));
		if (!r->spsc) {
			mq_push(&r->m, rec, r->size);
			continue;
		}
		while ((p = rc_spsc_reserve(r->q, r->size)) == NULL) {
			rc_spsc_publish(r->q);
			backoff(&spins);
		}
		memcpy(p, rec, r->size);
		rc_spsc_commit(r->q);
		if (seq % BATCH == BATCH - 1)
			rc_spsc_publish(r->q);
	}
	if (r->spsc)
		rc_spsc_publish(r->q);
	return NULL;
}

static void *consumer(void *arg)
{
	struct run *r = arg;
	unsigned char rec[MAX_REC];
	unsigned spins = 0;
	uint64_t got;

	pin(r->cpu[1]);
	start_line(r);
	for (uint64_t seq = 0; seq < r->records; seq++) {
		if (r->spsc) {
			const void *p;
			uint32_t len;

			while ((p = rc_spsc_peek(r->q, &len)) == NULL) {
				rc_spsc_release(r->q);
				backoff(&spins);
			}
			RC_ASSERT(len == r->size);
			memcpy(rec, p, len);
			rc_spsc_consume(r->q);
			if (seq % BATCH == BATCH - 1)
				rc_spsc_release(r->q);
		} else {
			mq_pop(&r->m, rec, r->size);
		}
		memcpy(&got, rec, sizeof(got));
		if (got != seq)
			r->bad++;
	}
	if (r->spsc)
		rc_spsc_release(r->q);
	r->t1 = now_s();
	return NULL;
}

/* One transfer; returns its seconds, or a negative value when a record came out wrong. */
static double transfer(bool spsc, uint32_t size, uint64_t records, const struct opts *o,
		       const int cpu[2])
{
	struct run *r = calloc(1, sizeof(*r));
	pthread_t tp, tc;
	double t;

	RC_ASSERT(r != NULL);
	r->spsc = spsc;
	r->size = size;
	r->records = records;
	r->cpu[0] = cpu[0];
	r->cpu[1] = cpu[1];
	if (spsc)
		RC_ASSERT(rc_spsc_new(&r->q, o->queue_bytes) == 0);
	else
		mq_init(&r->m, o->queue_bytes, size);
	RC_ASSERT(pthread_create(&tc, NULL, consumer, r) == 0);
	RC_ASSERT(pthread_create(&tp, NULL, producer, r) == 0);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	t = r->bad != 0 ? -1.0 : r->t1 - r->t0;
	if (r->bad != 0)
		fprintf(stderr, "bench-queue: %s, %u B: %llu records out of order\n",
			spsc ? "spsc" : "mutex", size, (unsigned long long)r->bad);
	if (spsc) {
		RC_ASSERT(rc_spsc_used(r->q) == 0);
		rc_spsc_free(r->q);
	} else {
		mq_destroy(&r->m);
	}
	free(r);
	return t;
}

/* CPU 0 and 1 when both are ours, else the first two we may use, else no pinning. */
static void pick_cpus(int cpu[2])
{
	cpu_set_t set;
	int n = 0;

	cpu[0] = cpu[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set) != 0 || CPU_COUNT(&set) < 2)
		return;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpu[n++] = c;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-queue [--smoke] [--records N] [--queue-bytes N] [--repeat N]\n"
		"                   [--cpus PRODUCER,CONSUMER]\n"
		"  Transfers N records of 64 B and of 1500 B (default 5000000 and 1000000)\n"
		"  between two pinned threads, through the SPSC queue and through a\n"
		"  mutex+condvar queue; prints the best of --repeat runs (default 3).\n"
		"  Threads run on CPU 0 and 1 when both are available (else the first two).\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"smoke", no_argument, NULL, 's'},
		{"records", required_argument, NULL, 'n'},
		{"queue-bytes", required_argument, NULL, 'q'},
		{"repeat", required_argument, NULL, 'r'},
		{"cpus", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.cpu = {-1, -1},
			 .records = {5000000, 1000000},
			 .queue_bytes = 2u << 20,
			 .repeat = 3};
	int cpu[2], c, failed = 0;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.smoke = true;
			o.records[0] = o.records[1] = 20000;
			o.repeat = 1;
			break;
		case 'n':
			o.records[0] = o.records[1] = strtoull(optarg, NULL, 10);
			break;
		case 'q':
			o.queue_bytes = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			o.repeat = atoi(optarg);
			break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &o.cpu[0], &o.cpu[1]) != 2) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.repeat < 1 || o.records[0] == 0) {
		usage(stderr);
		return 2;
	}
	if (o.cpu[0] >= 0) {
		cpu[0] = o.cpu[0];
		cpu[1] = o.cpu[1];
	} else {
		pick_cpus(cpu);
	}
	if (cpu[0] >= 0)
		printf("bench-queue: producer on CPU %d, consumer on CPU %d", cpu[0], cpu[1]);
	else
		printf("bench-queue: fewer than two CPUs, threads not pinned");
	printf(", queue %zu KiB, publish/release every %d records, best of %d\n",
	       o.queue_bytes >> 10, BATCH, o.repeat);
	printf("%6s  %-11s %10s %9s %9s %8s\n", "bytes", "queue", "records", "seconds", "Mrec/s",
	       "GB/s");
	for (int s = 0; s < 2; s++) {
		double best[2] = {0, 0};

		for (int peer = 0; peer < 2; peer++) {
			for (int i = 0; i < o.repeat; i++) {
				double t = transfer(peer == 0, sizes[s], o.records[s], &o, cpu);

				if (t < 0)
					failed = 1;
				else if (best[peer] == 0 || t < best[peer])
					best[peer] = t;
			}
			if (best[peer] <= 0)
				continue;
			printf("%6u  %-11s %10llu %9.3f %9.2f %8.2f\n", sizes[s],
			       peer == 0 ? "spsc" : "mutex+cond", (unsigned long long)o.records[s],
			       best[peer], (double)o.records[s] / best[peer] / 1e6,
			       (double)o.records[s] * sizes[s] / best[peer] / 1e9);
		}
		if (best[0] > 0 && best[1] > 0)
			printf("%6u  ratio spsc / mutex+cond: %.1fx\n", sizes[s],
			       best[1] / best[0]);
	}
	return failed;
}
