/*
 * A lock-free single-producer/single-consumer queue of variable-length records in a byte ring.
 * One capture thread produces, one decoder thread consumes; neither ever waits on the other.
 *
 * Progress: wait-free for both sides (every call finishes in a bounded number of steps; none
 * locks, allocates or makes a system call after rc_spsc_new).
 * Memory ordering: the producer writes a record, then publishes its tail index with a release
 * store; the consumer reads the tail with an acquire load before reading records, and hands space
 * back by publishing its head index with a release store, which the producer reads with an
 * acquire load before reusing the space. Each side keeps a cached copy of the other side's index
 * and re-reads the shared one only when the cache says "full" / "empty", so in steady state the
 * two threads touch each other's cache line once per batch, not once per record.
 *
 * Records are 8-byte aligned and never split across the end of the ring (a wrap marker sends the
 * consumer back to the start). Indices are 64-bit byte counts that only grow, so full and empty
 * are never ambiguous and there is no ABA.
 *
 * Threads: "producer" functions may be called by one thread at a time, "consumer" functions by
 * one (other) thread at a time; handing a side to another thread needs a happens-before edge
 * (e.g. pthread_join or a mutex) between the two owners. "Any thread" functions may be called
 * from anywhere at any time.
 *
 * Batching rule: a side that is about to wait (spin, sleep, poll) must first publish / release
 * what it has, or both sides may wait for each other forever.
 */
#ifndef RINGCAP_SPSC_H
#define RINGCAP_SPSC_H

#include <stddef.h>
#include <stdint.h>

struct rc_spsc;

/*
 * Create a queue of `bytes` (rounded up to a power of two, at least 4 KiB). The ring is touched
 * once here so the packet path takes no page faults. 0 or -ENOMEM.
 * Any thread, before either side starts; O(bytes).
 */
int rc_spsc_new(struct rc_spsc **out, size_t bytes);

/* Free; NULL is allowed. Neither side may be using the queue. */
void rc_spsc_free(struct rc_spsc *q);

/*
 * Largest record rc_spsc_reserve can ever grant: capacity / 2 minus the 8-byte header (capped
 * below 4 GiB), which guarantees that such a record fits once the consumer has drained the
 * queue, wherever the indices stand. Any thread; O(1).
 */
size_t rc_spsc_max_record(const struct rc_spsc *q);

/*
 * Ring bytes one record of `len` payload bytes takes: the 8-byte header plus the payload rounded
 * up to 8. A wrap may waste up to rc_spsc_max_record() more. Pure; any thread.
 */
size_t rc_spsc_record_bytes(uint32_t len);

/*
 * Producer: room for a record of `len` bytes (8-byte aligned), or NULL when the queue has no room
 * now or `len` exceeds rc_spsc_max_record. The record is invisible to the consumer until
 * rc_spsc_commit and then rc_spsc_publish. A second reserve before commit abandons the first.
 * Cost: private state only, unless the cached head says "full": then one acquire load of the
 * consumer's index. May write a wrap marker (still unpublished) at the end of the ring.
 */
void *rc_spsc_reserve(struct rc_spsc *q, uint32_t len);

/* Producer: the record last reserved is complete (len as reserved). Private state only. */
void rc_spsc_commit(struct rc_spsc *q);

/*
 * Producer: make every committed record visible to the consumer (one release store, skipped
 * when nothing was committed since the last publish).
 */
void rc_spsc_publish(struct rc_spsc *q);

/*
 * Producer: reserve, copy `len` bytes from `data` (NULL when `len` is 0), commit (not publish).
 * 0, -ENOBUFS when the queue has no room now, or -EMSGSIZE when `len` exceeds
 * rc_spsc_max_record.
 */
int rc_spsc_push(struct rc_spsc *q, const void *data, uint32_t len);

/*
 * Consumer: the oldest published record and its length, or NULL when there is none. Calling it
 * again before rc_spsc_consume returns the same record. The bytes stay valid and unchanged until
 * rc_spsc_release after its rc_spsc_consume. Cost: private state only, unless the cached tail
 * says "empty": then one acquire load of the producer's index.
 */
const void *rc_spsc_peek(struct rc_spsc *q, uint32_t *len);

/* Consumer: done with the record rc_spsc_peek returned (its space is not handed back yet). */
void rc_spsc_consume(struct rc_spsc *q);

/*
 * Consumer: hand the space of every consumed record back to the producer (one release store,
 * skipped when nothing was consumed since the last release).
 */
void rc_spsc_release(struct rc_spsc *q);

/*
 * Any thread: bytes published and not yet released, wrap padding included; approximate (two
 * relaxed loads), clamped to [0, capacity]. A gauge, not a synchronisation point.
 */
size_t rc_spsc_used(const struct rc_spsc *q);

/* Any thread: capacity in bytes. */
size_t rc_spsc_capacity(const struct rc_spsc *q);

#endif
