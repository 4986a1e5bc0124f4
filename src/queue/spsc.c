/* The SPSC byte ring that carries packet records from a capture thread to a decoder thread. */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringcap/assert.h"
#include "ringcap/spsc.h"

#define SPSC_MAGIC     0x53505343u /* "SPSC" */
#define LINE	       64
#define MIN_BYTES      4096
#define HDR_BYTES      8
#define WRAP_LEN       UINT32_MAX /* header length of a wrap marker */
#define MAX_RECORD_CAP 0xfffffff0u

/*
 * Every record starts with this header; the payload follows, 8-byte aligned. `check` holds the
 * low 32 bits of the record's own position: the consumer compares it with where it stands, an
 * always-on check (one compare on a line it reads anyway) that catches a desynchronised side.
 */
struct rec_hdr {
	uint32_t len; /* payload bytes, or WRAP_LEN: nothing more until the ring's end */
	uint32_t check;
};
_Static_assert(sizeof(struct rec_hdr) == HDR_BYTES, "record header is 8 bytes");

struct rc_spsc {
	/* Written by rc_spsc_new only; both sides read this line, neither writes it. */
	alignas(LINE) uint32_t magic;
	uint32_t max_record;
	uint64_t mask; /* capacity - 1 */
	unsigned char *buf;

	/* The producer's line: the index it publishes, then state only it touches. */
	alignas(LINE) _Atomic uint64_t tail; /* end of the published records */
	uint64_t ptail;			     /* end of the committed records (>= tail) */
	uint64_t head_cache;		     /* head as last read; <= the real head */
	uint32_t resv_len;		     /* payload length of the pending reservation */
	bool reserved;

	/* The consumer's line: the index it publishes, then state only it touches. */
	alignas(LINE) _Atomic uint64_t head; /* start of the unreleased records */
	uint64_t chead;			     /* start of the oldest unconsumed record (>= head) */
	uint64_t tail_cache;		     /* tail as last read; <= the real tail */
	uint32_t peek_bytes;		     /* ring bytes of the peeked record; 0: none */
};
_Static_assert(offsetof(struct rc_spsc, tail) % LINE == 0, "producer index owns its line");
_Static_assert(offsetof(struct rc_spsc, head) % LINE == 0, "consumer index owns its line");
_Static_assert(offsetof(struct rc_spsc, head) - offsetof(struct rc_spsc, tail) >= LINE,
	       "producer and consumer state on separate lines");
_Static_assert(sizeof(struct rc_spsc) % LINE == 0, "nothing else shares the last line");

static uint64_t rec_bytes(uint32_t len)
{
	return HDR_BYTES + (((uint64_t)len + 7) & ~(uint64_t)7);
}

static struct rec_hdr *hdr_at(const struct rc_spsc *q, uint64_t pos)
{
	return (struct rec_hdr *)(q->buf + (pos & q->mask));
}

static void check_queue(const struct rc_spsc *q)
{
	RC_ASSERT(q != NULL && q->magic == SPSC_MAGIC);
}

int rc_spsc_new(struct rc_spsc **out, size_t bytes)
{
	struct rc_spsc *q;
	void *buf;
	size_t cap = MIN_BYTES;

	RC_ASSERT(out != NULL);
	*out = NULL;
	while (cap < bytes) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap <<= 1;
	}
	q = aligned_alloc(LINE, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	if (posix_memalign(&buf, 4096, cap) != 0) {
		free(q);
		return -ENOMEM;
	}
	/* Touch every page now: the first lap must not fault on the packet path. */
	memset(buf, 0, cap);
	memset(q, 0, sizeof(*q));
	q->magic = SPSC_MAGIC;
	q->mask = cap - 1;
	q->buf = buf;
	q->max_record = cap / 2 - HDR_BYTES > MAX_RECORD_CAP ? MAX_RECORD_CAP
							     : (uint32_t)(cap / 2 - HDR_BYTES);
	atomic_init(&q->tail, 0);
	atomic_init(&q->head, 0);
	*out = q;
	return 0;
}

void rc_spsc_free(struct rc_spsc *q)
{
	if (q == NULL)
		return;
	check_queue(q);
	q->magic = 0;
	free(q->buf);
	free(q);
}

size_t rc_spsc_max_record(const struct rc_spsc *q)
{
	check_queue(q);
	return q->max_record;
}

size_t rc_spsc_record_bytes(uint32_t len)
{
	return rec_bytes(len);
}

size_t rc_spsc_capacity(const struct rc_spsc *q)
{
	check_queue(q);
	return q->mask + 1;
}

void *rc_spsc_reserve(struct rc_spsc *q, uint32_t len)
{
	uint64_t cap, pos, need, to_end, skip;

	check_queue(q);
	if (len > q->max_record)
		return NULL;
	cap = q->mask + 1;
	pos = q->ptail;
	need = rec_bytes(len);
	to_end = cap - (pos & q->mask);
	/* A record never straddles the end: pad the rest of the lap with a wrap marker. */
	skip = need > to_end ? to_end : 0;
	if (pos + skip + need - q->head_cache > cap) {
		/* Pairs with the release store in rc_spsc_release: the consumer is done with it. */
		q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
		RC_ASSERT(q->head_cache <= pos);
		if (pos + skip + need - q->head_cache > cap)
			return NULL;
	}
	if (skip != 0) {
		struct rec_hdr *m = hdr_at(q, pos);

		m->len = WRAP_LEN;
		m->check = (uint32_t)pos;
		pos += skip;
		q->ptail = pos;
	}
	q->resv_len = len;
	q->reserved = true;
	return q->buf + (pos & q->mask) + HDR_BYTES;
}

void rc_spsc_commit(struct rc_spsc *q)
{
	struct rec_hdr *h;

	check_queue(q);
	RC_ASSERT(q->reserved);
	h = hdr_at(q, q->ptail);
	h->len = q->resv_len;
	h->check = (uint32_t)q->ptail;
	q->ptail += rec_bytes(q->resv_len);
	q->reserved = false;
}

void rc_spsc_publish(struct rc_spsc *q)
{
	check_queue(q);
	/* Relaxed: only this thread stores tail. Skipping a no-op store keeps the line shared. */
	if (atomic_load_explicit(&q->tail, memory_order_relaxed) == q->ptail)
		return;
	/* Orders the record bytes and headers before the index; pairs with the acquire in peek. */
	atomic_store_explicit(&q->tail, q->ptail, memory_order_release);
}

int rc_spsc_push(struct rc_spsc *q, const void *data, uint32_t len)
{
	void *p;

	check_queue(q);
	if (len > q->max_record)
		return -EMSGSIZE;
	p = rc_spsc_reserve(q, len);
	if (p == NULL)
		return -ENOBUFS;
	if (len != 0)
		memcpy(p, data, len);
	rc_spsc_commit(q);
	return 0;
}

const void *rc_spsc_peek(struct rc_spsc *q, uint32_t *len)
{
	check_queue(q);
	/* At most two rounds: a wrap marker is never followed by another one. */
	for (int round = 0; round < 2; round++) {
		uint64_t pos = q->chead;
		const struct rec_hdr *h;

		if (pos == q->tail_cache) {
			/* Pairs with the release store in rc_spsc_publish: the records are written.
			 */
			q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
			if (pos == q->tail_cache)
				return NULL;
		}
		h = hdr_at(q, pos);
		RC_ASSERT(h->check == (uint32_t)pos);
		if (h->len == WRAP_LEN) {
			q->chead = (pos | q->mask) + 1;
			continue;
		}
		RC_ASSERT(h->len <= q->max_record);
		RC_ASSERT(pos + rec_bytes(h->len) <= q->tail_cache);
		q->peek_bytes = (uint32_t)rec_bytes(h->len);
		*len = h->len;
		return h + 1;
	}
	RC_WRONG("two wrap markers in a row");
	return NULL;
}

void rc_spsc_consume(struct rc_spsc *q)
{
	check_queue(q);
	RC_ASSERT(q->peek_bytes != 0);
	q->chead += q->peek_bytes;
	q->peek_bytes = 0;
}

void rc_spsc_release(struct rc_spsc *q)
{
	check_queue(q);
	/* Relaxed: only this thread stores head. */
	if (atomic_load_explicit(&q->head, memory_order_relaxed) == q->chead)
		return;
	/* Orders this side's reads of the records before the producer may overwrite them. */
	atomic_store_explicit(&q->head, q->chead, memory_order_release);
}

size_t rc_spsc_used(const struct rc_spsc *q)
{
	uint64_t head, tail;

	check_queue(q);
	/* A gauge: the two loads are not a snapshot, hence the clamp. */
	head = atomic_load_explicit(&q->head, memory_order_relaxed);
	tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	if (tail <= head)
		return 0;
	return tail - head > q->mask + 1 ? q->mask + 1 : tail - head;
}
