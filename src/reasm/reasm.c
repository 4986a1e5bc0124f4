/* TCP reassembly of both directions of a stream: in-order delivery, held out-of-order data, gaps.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ringcap/assert.h"
#include "ringcap/decode.h"
#include "ringcap/reasm.h"

#define REASM_MAGIC 0x5245534du /* "RESM" */

struct rc_reasm_seg {
	struct rc_reasm_seg *next;
	uint64_t off;
	uint32_t len;
	uint8_t data[];
};

struct rc_reasm {
	uint32_t magic;
	struct rc_reasm_config cfg;
	struct rc_reasm_ops ops;
	struct rc_ctrs *ctrs;
	uint64_t memory, peak;
	uint64_t now_ns; /* time of the segment being processed */
	/* Directions that hold out-of-order data, in the order they started holding it. */
	struct rc_dlist lru;
	/* Directions that retain delivered data, in the order they started retaining it. */
	struct rc_dlist ret;
};

/* What insert_held found about the bytes it was given. */
struct overlap {
	uint64_t new_bytes, old_bytes;
	bool differs;
};

void rc_reasm_config_default(struct rc_reasm_config *cfg)
{
	*cfg = (struct rc_reasm_config){
		.dir_max = 1u << 20,
		.retain_max = 16u << 10,
		.memcap = 256ull << 20,
		.overlap = RC_REASM_FIRST,
		.midstream = true,
	};
}

int rc_reasm_new(struct rc_reasm **out, const struct rc_reasm_config *cfg,
		 const struct rc_reasm_ops *ops, struct rc_ctrs *ctrs)
{
	RC_ASSERT(out && cfg && ops && ops->data && ops->gap && ops->end && ctrs);
	*out = NULL;
	if (cfg->dir_max == 0 || cfg->memcap < cfg->dir_max ||
	    (cfg->overlap != RC_REASM_FIRST && cfg->overlap != RC_REASM_LAST))
		return -EINVAL;
	struct rc_reasm *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->magic = REASM_MAGIC;
	r->cfg = *cfg;
	r->ops = *ops;
	r->ctrs = ctrs;
	*out = r;
	return 0;
}

void rc_reasm_free(struct rc_reasm *r)
{
	if (!r)
		return;
	RC_ASSERT(r->magic == REASM_MAGIC);
	RC_ASSERT(!r->lru.head && !r->ret.head); /* every stream ended first */
	r->magic = 0;
	free(r);
}

uint64_t rc_reasm_memory(const struct rc_reasm *r)
{
	return r->memory;
}

void rc_reasm_stream_init(struct rc_reasm_stream *s, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->dir[1].index = 1;
	s->ctx = ctx;
}

/* ---- memory ------------------------------------------------------------------------------ */

static void account(struct rc_reasm *r, int64_t delta)
{
	RC_ASSERT(delta >= 0 || r->memory >= (uint64_t)-delta);
	r->memory = (uint64_t)((int64_t)r->memory + delta);
	rc_ctr_set(r->ctrs, RC_CTR_REASM_MEMORY, r->memory);
	if (r->memory > r->peak) {
		r->peak = r->memory;
		rc_ctr_set(r->ctrs, RC_CTR_REASM_MEMORY_PEAK, r->peak);
	}
}

static struct rc_reasm_seg *seg_new(struct rc_reasm *r, uint64_t off, const uint8_t *p,
				    uint32_t len)
{
	struct rc_reasm_seg *g = malloc(sizeof(*g) + len);
	if (!g)
		return NULL;
	g->next = NULL;
	g->off = off;
	g->len = len;
	memcpy(g->data, p, len);
	account(r, (int64_t)(sizeof(*g) + len));
	return g;
}

static void seg_free(struct rc_reasm *r, struct rc_reasm_seg *g)
{
	account(r, -(int64_t)(sizeof(*g) + g->len));
	free(g);
}

/* Free the oldest retained piece of d. */
static void retained_pop(struct rc_reasm *r, struct rc_reasm_dir *d)
{
	struct rc_reasm_seg *g = d->retained;
	RC_ASSERT(g);
	d->retained = g->next;
	d->retained_bytes -= g->len;
	seg_free(r, g);
	if (!d->retained) {
		d->retained_tail = NULL;
		rc_dlist_remove(&r->ret, &d->ret);
	}
}

/* ---- delivery ---------------------------------------------------------------------------- */

static struct rc_reasm_stream *stream_of(struct rc_reasm_dir *d)
{
	return (struct rc_reasm_stream *)((char *)(d - d->index) -
					  offsetof(struct rc_reasm_stream, dir));
}

/* Keep a copy of delivered bytes until the peer acknowledges them (at most retain_max). */
static void retain(struct rc_reasm *r, struct rc_reasm_dir *d, const uint8_t *p, uint32_t len,
		   uint64_t off)
{
	uint32_t max = r->cfg.retain_max;
	if (max == 0)
		return;
	if (len > max) {
		p += len - max;
		off += len - max;
		len = max;
	}
	struct rc_reasm_seg *g = seg_new(r, off, p, len);
	if (!g)
		return; /* only the comparison of later overlaps is lost */
	if (d->retained_tail) {
		d->retained_tail->next = g;
	} else {
		d->retained = g;
		rc_dlist_append(&r->ret, &d->ret);
	}
	d->retained_tail = g;
	d->retained_bytes += len;
	/* Whole segments go, oldest first, while the rest still covers retain_max. */
	while (d->retained && d->retained_bytes - d->retained->len >= max)
		retained_pop(r, d);
}

static void deliver(struct rc_reasm *r, struct rc_reasm_dir *d, int dir, const uint8_t *p,
		    uint32_t len)
{
	RC_ASSERT(len > 0);
	uint64_t off = d->next;
	d->next += len;
	d->delivered += len;
	rc_ctr_add(r->ctrs, RC_CTR_REASM_BYTES, len);
	retain(r, d, p, len, off);
	r->ops.data(stream_of(d)->ctx, dir, p, len, off, r->now_ns);
}

/* Deliver the held segments that are now in order. */
static void flush_contiguous(struct rc_reasm *r, struct rc_reasm_dir *d, int dir)
{
	bool had = d->held != NULL;
	while (d->held && d->held->off == d->next) {
		struct rc_reasm_seg *g = d->held;
		d->held = g->next;
		d->held_bytes -= g->len;
		deliver(r, d, dir, g->data, g->len);
		seg_free(r, g);
	}
	RC_ASSERT(!d->held || d->held->off > d->next);
	if (had && !d->held)
		rc_dlist_remove(&r->lru, &d->lru);
}

/* Give up the hole before the first held segment, then deliver what follows it. */
static void give_up_hole(struct rc_reasm *r, struct rc_reasm_dir *d, int dir, enum rc_ctr why)
{
	RC_ASSERT(d->held && d->held->off > d->next);
	uint64_t len = d->held->off - d->next;
	rc_ctr_inc(r->ctrs, RC_CTR_REASM_GAPS);
	rc_ctr_add(r->ctrs, RC_CTR_REASM_MISSED_BYTES, len);
	if (why != RC_CTR_REASM_GAPS)
		rc_ctr_inc(r->ctrs, why);
	d->missed += len;
	uint64_t off = d->next;
	d->next = d->held->off;
	r->ops.gap(stream_of(d)->ctx, dir, off, len);
	flush_contiguous(r, d, dir);
}

/*
 * Holes that data has waited behind for longer than the timeout (packet time): given up, the
 * direction that started waiting first going first. A direction that still holds data after
 * its hole waits anew from now, at the end of the list.
 */
static void expire_holes(struct rc_reasm *r)
{
	uint64_t t = r->cfg.timeout_ns;
	struct rc_reasm_dir *d;
	while (t && (d = rc_dlist_first(&r->lru, struct rc_reasm_dir, lru)) &&
	       r->now_ns > d->held_since && r->now_ns - d->held_since > t) {
		give_up_hole(r, d, d->index, RC_CTR_REASM_GAPS_TIMEOUT);
		if (d->held) {
			d->held_since = r->now_ns;
			rc_dlist_remove(&r->lru, &d->lru);
			rc_dlist_append(&r->lru, &d->lru);
		}
	}
}

/*
 * Memory over the cap: retained bytes go first, oldest direction first (only the comparison of
 * later overlaps is lost); then the directions holding data longest give up their first hole.
 */
static void enforce_memcap(struct rc_reasm *r)
{
	while (r->memory > r->cfg.memcap) {
		struct rc_reasm_dir *d = rc_dlist_first(&r->ret, struct rc_reasm_dir, ret);
		if (d) {
			rc_ctr_add(r->ctrs, RC_CTR_REASM_RETAINED_DROPPED, d->retained_bytes);
			while (d->retained)
				retained_pop(r, d);
			continue;
		}
		d = rc_dlist_first(&r->lru, struct rc_reasm_dir, lru);
		if (!d)
			break;
		give_up_hole(r, d, d->index, RC_CTR_REASM_GAPS_MEMCAP);
	}
}

/* ---- holding out-of-order data ----------------------------------------------------------- */

/* Compare p (covering [off, off+len)) with the retained delivered bytes it overlaps. */
static bool differs_from_retained(const struct rc_reasm_dir *d, uint64_t off, const uint8_t *p,
				  uint32_t len)
{
	for (const struct rc_reasm_seg *g = d->retained; g; g = g->next) {
		uint64_t a = off > g->off ? off : g->off;
		uint64_t b = off + len < g->off + g->len ? off + len : g->off + g->len;
		if (a < b && memcmp(p + (a - off), g->data + (a - g->off), (size_t)(b - a)))
			return true;
	}
	return false;
}

/*
 * Merge [off, off+len) into the held list: bytes in holes become new segments; bytes over held
 * ones are compared and, with RC_REASM_LAST, replace them. Keeps the list sorted and disjoint.
 */
static struct overlap insert_held(struct rc_reasm *r, struct rc_reasm_dir *d, uint64_t off,
				  const uint8_t *p, uint32_t len)
{
	struct overlap ov = {0};
	bool had = d->held != NULL;
	uint64_t cur = off, end = off + len;
	struct rc_reasm_seg **pp = &d->held;
	while (cur < end) {
		while (*pp && (*pp)->off + (*pp)->len <= cur)
			pp = &(*pp)->next;
		struct rc_reasm_seg *e = *pp;
		if (!e || e->off > cur) {
			uint64_t stop = e && e->off < end ? e->off : end;
			uint32_t n = (uint32_t)(stop - cur);
			struct rc_reasm_seg *g = seg_new(r, cur, p + (cur - off), n);
			if (!g) {
				/* Those bytes stay a hole: a gap when it is given up. */
				rc_ctr_inc(r->ctrs, RC_CTR_REASM_ALLOC_FAILED);
				cur = stop;
				continue;
			}
			g->next = e;
			*pp = g;
			pp = &g->next;
			d->held_bytes += n;
			ov.new_bytes += n;
			cur = stop;
			continue;
		}
		uint64_t stop = end < e->off + e->len ? end : e->off + e->len;
		const uint8_t *mine = p + (cur - off);
		uint8_t *theirs = e->data + (cur - e->off);
		size_t n = (size_t)(stop - cur);
		if (memcmp(mine, theirs, n)) {
			ov.differs = true;
			if (r->cfg.overlap == RC_REASM_LAST)
				memcpy(theirs, mine, n);
		}
		ov.old_bytes += n;
		cur = stop;
		pp = &e->next;
	}
	if (!had && d->held) {
		d->held_since = r->now_ns;
		rc_dlist_append(&r->lru, &d->lru);
	}
	return ov;
}

/* ---- segments ---------------------------------------------------------------------------- */

/* The stream offset of sequence number seq, taken as the one nearest the next expected byte. */
static int64_t offset_of(const struct rc_reasm_dir *d, uint32_t seq)
{
	uint32_t next_seq = d->base + (uint32_t)d->next;
	return (int64_t)d->next + (int32_t)(seq - next_seq);
}

/* The peer acknowledged `ack` of direction d: trim retained bytes, give up acknowledged holes. */
static void acked(struct rc_reasm *r, struct rc_reasm_dir *d, int dir, uint32_t ack)
{
	if (!d->started || d->ended)
		return;
	int64_t a = offset_of(d, ack);
	while (d->retained && (int64_t)(d->retained->off + d->retained->len) <= a)
		retained_pop(r, d);
	/* Received by the peer, so sent: a hole it covers was lost by the capture. */
	while (d->held && a > (int64_t)d->next && a >= (int64_t)d->held->off)
		give_up_hole(r, d, dir, RC_CTR_REASM_GAPS_ACKED);
}

static void data(struct rc_reasm *r, struct rc_reasm_dir *d, int dir, int64_t soff,
		 const uint8_t *p, uint32_t len)
{
	/* Bytes before the stream's first byte (before the SYN) are not part of it. */
	if (soff < 0) {
		if ((int64_t)len <= -soff) {
			rc_ctr_inc(r->ctrs, RC_CTR_REASM_RETRANS);
			return;
		}
		p += -soff;
		len -= (uint32_t)-soff;
		soff = 0;
	}
	uint64_t off = (uint64_t)soff, end = off + len;
	if (d->fin && end > d->fin_off) {
		if (off >= d->fin_off) {
			rc_ctr_inc(r->ctrs, RC_CTR_REASM_AFTER_FIN);
			return;
		}
		len = (uint32_t)(d->fin_off - off);
		end = d->fin_off;
	}
	if (end <= d->next) {
		if (len <= 1 && end == d->next) {
			rc_ctr_inc(r->ctrs, RC_CTR_REASM_KEEPALIVES);
			return;
		}
		rc_ctr_inc(r->ctrs, RC_CTR_REASM_RETRANS);
		if (differs_from_retained(d, off, p, len))
			rc_ctr_inc(r->ctrs, RC_CTR_REASM_OVERLAP_DIFF);
		return;
	}
	bool overlapped = false, differs = false;
	if (off < d->next) {
		uint32_t old = (uint32_t)(d->next - off);
		differs = differs_from_retained(d, off, p, old);
		p += old;
		len -= old;
		off = d->next;
		overlapped = true;
	}
	if (off == d->next) {
		/* The common case, nothing held: straight from the packet, no copy. */
		uint64_t h0 = d->held ? d->held->off : UINT64_MAX;
		uint32_t direct = end <= h0 ? len : (uint32_t)(h0 - off);
		if (direct)
			deliver(r, d, dir, p, direct);
		if (direct < len) {
			struct overlap ov =
				insert_held(r, d, off + direct, p + direct, len - direct);
			differs |= ov.differs;
			overlapped |= ov.old_bytes > 0;
		}
		flush_contiguous(r, d, dir);
		rc_ctr_inc(r->ctrs, overlapped ? RC_CTR_REASM_OVERLAP : RC_CTR_REASM_IN_ORDER);
	} else {
		struct overlap ov = insert_held(r, d, off, p, len);
		differs |= ov.differs;
		if (ov.new_bytes == 0 && !overlapped)
			rc_ctr_inc(r->ctrs, RC_CTR_REASM_RETRANS);
		else if (ov.old_bytes || overlapped)
			rc_ctr_inc(r->ctrs, RC_CTR_REASM_OVERLAP);
		else
			rc_ctr_inc(r->ctrs, RC_CTR_REASM_OUT_OF_ORDER);
		while (d->held && d->held_bytes > r->cfg.dir_max)
			give_up_hole(r, d, dir, RC_CTR_REASM_GAPS_DIR_LIMIT);
	}
	if (differs)
		rc_ctr_inc(r->ctrs, RC_CTR_REASM_OVERLAP_DIFF);
}

void rc_reasm_segment(struct rc_reasm *r, struct rc_reasm_stream *s, int dir,
		      const struct rc_reasm_segment *seg)
{
	RC_ASSERT(r && r->magic == REASM_MAGIC && s && (dir == 0 || dir == 1) && seg);
	RC_ASSERT(seg->len <= seg->wire_len || seg->wire_len == 0);
	struct rc_reasm_dir *d = &s->dir[dir];

	r->now_ns = seg->ts_ns;
	if (seg->flags & RC_TCP_ACK)
		acked(r, &s->dir[!dir], !dir, seg->ack);
	if (d->ended)
		return;

	uint32_t seq = seg->seq;
	if (seg->flags & RC_TCP_SYN) {
		seq++; /* the SYN takes one sequence number; data (TFO) follows it */
		if (!d->started) {
			d->base = seq;
			d->started = d->syn = true;
		}
	}
	if (!d->started) {
		if (seg->len == 0 && !(seg->flags & RC_TCP_FIN))
			return; /* a bare ACK or RST says nothing about this direction's bytes */
		if (!r->cfg.midstream) {
			d->ignored = true;
			if (seg->len)
				rc_ctr_inc(r->ctrs, RC_CTR_REASM_IGNORED);
			return;
		}
		d->base = seq;
		d->started = true;
		rc_ctr_inc(r->ctrs, RC_CTR_REASM_MIDSTREAM);
	}
	int64_t off = offset_of(d, seq);
	if (seg->len)
		data(r, d, dir, off, seg->payload, seg->len);
	if ((seg->flags & RC_TCP_FIN) && !d->fin) {
		uint32_t sent = seg->wire_len > seg->len ? seg->wire_len : seg->len;
		int64_t fin = off + sent;
		if (fin >= (int64_t)d->next) {
			d->fin = true;
			d->fin_off = (uint64_t)fin;
		}
	}
	if ((seg->flags & RC_TCP_RST) && !d->rst) {
		/*
		 * Data sent before it may still arrive and is delivered; nothing can follow it, so
		 * bytes at or past its sequence number are treated as data after a FIN.
		 */
		d->rst = true;
		if (off >= (int64_t)d->next && (!d->fin || (uint64_t)off < d->fin_off)) {
			d->fin = true;
			d->fin_off = (uint64_t)off;
		}
	}
	expire_holes(r);
	enforce_memcap(r);
}

void rc_reasm_stream_end(struct rc_reasm *r, struct rc_reasm_stream *s)
{
	RC_ASSERT(r && r->magic == REASM_MAGIC && s);
	for (int dir = 0; dir < 2; dir++) {
		struct rc_reasm_dir *d = &s->dir[dir];
		while (d->held) {
			if (d->held->off > d->next)
				give_up_hole(r, d, dir, RC_CTR_REASM_GAPS);
			else
				flush_contiguous(r, d, dir);
		}
		while (d->retained)
			retained_pop(r, d);
		if (!d->ended) {
			d->ended = true;
			if (d->started)
				r->ops.end(s->ctx, dir);
		}
	}
}
