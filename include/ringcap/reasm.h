/*
 * TCP reassembly: each direction of a TCP connection rebuilt as the byte stream its sender wrote,
 * delivered in order to a consumer (HTTP, stream files), with holes reported, never filled.
 *
 * One reassembler per decoder thread (struct rc_reasm: configuration, memory account, counters);
 * one struct rc_reasm_stream per TCP flow, two directions in it, indexed by role (0: the
 * originator's bytes, 1: the responder's). The flow table feeds every TCP segment of the flow
 * with rc_reasm_segment and ends the stream with rc_reasm_stream_end.
 *
 * Stream offsets are 64-bit: offset 0 is the first byte after the SYN (or the first byte seen,
 * when the flow was picked up mid-stream), and sequence numbers map onto offsets relative to the
 * next byte expected, so a stream may wrap the 32-bit sequence space any number of times.
 *
 * Policies, all counted (ringcap/ctr/reasm.h):
 * - in order: delivered at once; out of order: held (copied) until the hole before it fills;
 * - exact retransmissions are dropped; a segment overlapping bytes already seen keeps the bytes
 *   seen first (RC_REASM_FIRST, the default, as tshark and most stacks) or, for bytes not yet
 *   delivered, the later ones (RC_REASM_LAST); overlaps whose bytes differ are counted, compared
 *   against held data and against the delivered bytes still retained (kept until the peer
 *   acknowledges them, at most retain_max a direction);
 * - a hole is given up (a gap event with its exact length, bytes counted as missed) when the
 *   stream ends, when the peer acknowledged data past it (it was sent and received, so the
 *   capture lost it), when data has waited behind it for timeout_ns of packet time (if set),
 *   when a direction holds more than dir_max bytes out of order, or when the
 *   reassembler's memory reaches memcap: retained bytes go first (only comparisons are lost),
 *   then the direction that has held data longest gives up its hole;
 * - SYN sets the base; a direction without one starts at its first byte (midstream, counted) or
 *   is ignored (midstream off, counted); data after FIN is counted, not delivered; a RST does
 *   not discard data sent before it (a hole before it is still filled when the data comes), but
 *   bytes at or past its sequence number are data after the end, as after a FIN; keep-alives
 *   (one old byte or none) are not data.
 *
 * Threads: everything here belongs to the one decoder thread that owns the reassembler.
 */
#ifndef RINGCAP_REASM_H
#define RINGCAP_REASM_H

#include <stdbool.h>
#include <stdint.h>

#include "ringcap/counters.h"
#include "ringcap/dlist.h"

enum rc_reasm_overlap {
	RC_REASM_FIRST, /* bytes seen first win */
	RC_REASM_LAST,	/* later bytes replace held ones (delivered bytes cannot change) */
};

struct rc_reasm_config {
	uint32_t dir_max;    /* bytes one direction may hold out of order (default 1 MiB) */
	uint32_t retain_max; /* delivered bytes kept per direction to compare overlaps (16 KiB) */
	uint64_t memcap;     /* held + retained bytes of one reassembler (default 256 MiB) */
	enum rc_reasm_overlap overlap;
	bool midstream; /* pick up directions without a SYN (default true) */
	uint64_t
		timeout_ns; /* give up a hole once data has waited behind it this long (0: never) */
};

void rc_reasm_config_default(struct rc_reasm_config *cfg);

/* What the consumer of a stream is told, from inside rc_reasm_segment / rc_reasm_stream_end. */
struct rc_reasm_ops {
	/*
	 * len > 0 bytes of direction dir, at stream offset off, in order, no overlap; ts_ns is the
	 * time of the packet whose arrival made them deliverable. p is valid during the call only.
	 */
	void (*data)(void *ctx, int dir, const uint8_t *p, uint32_t len, uint64_t off,
		     uint64_t ts_ns);
	/* len bytes of direction dir at offset off will never come. */
	void (*gap)(void *ctx, int dir, uint64_t off, uint64_t len);
	/* Direction dir has ended (after its last data or gap); called once per direction. */
	void (*end)(void *ctx, int dir);
};

/* A held piece of one direction (opaque outside reasm.c). */
struct rc_reasm_seg;

struct rc_reasm_dir {
	struct rc_reasm_seg *held;     /* out of order: sorted by offset, never overlapping */
	struct rc_reasm_seg *retained; /* delivered, not yet acknowledged: sorted, contiguous */
	struct rc_reasm_seg *retained_tail;
	struct rc_dlink lru; /* on the reassembler's list of directions holding data */
	struct rc_dlink ret; /* on its list of directions retaining data */
	uint64_t next;	     /* offset of the next byte to deliver */
	uint64_t fin_off;    /* offset of the FIN (valid when fin) */
	uint64_t missed;     /* bytes given up as gaps */
	uint64_t held_since; /* packet time its oldest waiting data arrived */
	uint64_t delivered;  /* bytes delivered */
	uint32_t base;	     /* sequence number of offset 0 */
	uint32_t held_bytes, retained_bytes;
	uint8_t index; /* 0 or 1: which of its stream's directions */
	bool started, syn, fin, rst, ended, ignored;
};

struct rc_reasm_stream {
	struct rc_reasm_dir dir[2];
	void *ctx; /* handed to every callback */
};

/* One TCP segment as the decoder saw it, from the sender whose role is the `dir` argument. */
struct rc_reasm_segment {
	uint32_t seq, ack;
	uint8_t flags; /* RC_TCP_* */
	const uint8_t *payload;
	uint32_t len;	   /* payload bytes present (a payload cut by the snap length is a gap) */
	uint32_t wire_len; /* payload bytes the headers say were sent */
	uint64_t ts_ns;	   /* the packet's time */
};

struct rc_reasm;

/*
 * A reassembler for one decoder thread: ops are called for every stream, counters go to ctrs
 * (the thread's block). 0, -EINVAL for a config it cannot honour, or -ENOMEM.
 */
int rc_reasm_new(struct rc_reasm **out, const struct rc_reasm_config *cfg,
		 const struct rc_reasm_ops *ops, struct rc_ctrs *ctrs);

void rc_reasm_free(struct rc_reasm *r);

/* Start a stream (zeroed) whose callbacks get ctx. */
void rc_reasm_stream_init(struct rc_reasm_stream *s, void *ctx);

/*
 * Feed one segment of direction dir (0 or 1). Delivers what became in order, holds what is
 * ahead, gives up holes per the policies above. O(held segments it overlaps) plus the copy of
 * any held bytes. Never fails: allocation failures are counted and become gaps.
 */
void rc_reasm_segment(struct rc_reasm *r, struct rc_reasm_stream *s, int dir,
		      const struct rc_reasm_segment *seg);

/*
 * The flow has ended: deliver what is held, a gap for every hole, then end both directions, and
 * free the stream's memory. The stream may be reused after rc_reasm_stream_init.
 */
void rc_reasm_stream_end(struct rc_reasm *r, struct rc_reasm_stream *s);

/* Bytes held and retained by all streams of this reassembler now. */
uint64_t rc_reasm_memory(const struct rc_reasm *r);

#endif
