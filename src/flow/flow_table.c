/*
 * The flow table of one decoder thread: symmetric keys hashed with XXH3, a chained hash sized up
 * front from the memcap, one LRU list per timeout class for O(1) expiry and eviction, and a small
 * fragment map so later IP fragments join the flow of their first fragment.
 *
 * Why chaining: a flow's address must stay put (LRU links, and later reassembly state and RCU
 * readers hold pointers to it), flows are deleted all the time (expiry, eviction, reuse), and the
 * bucket count is fixed from the memcap so the load factor never passes 1. Chaining gives stable
 * entries and O(1) deletion without tombstones or backward shifts; open addressing would have to
 * move or tombstone entries under that churn for little gain at a load factor this low.
 *
 * Originator: the sender of a flow's first packet, except when that packet is a TCP SYN-ACK: then
 * its receiver (Zeek flips such connections too, and writes '^' into the history). Nothing else
 * flips a flow later; a SYN seen afterwards from the responder is simply the responder's SYN.
 *
 * Fragments: a first fragment (offset 0, transport header present) leaves its ports in a small
 * direct-mapped map keyed by (addresses, protocol, IP id); later fragments take them from there
 * and count in their flow (flow.fragments_joined). A later fragment whose first was not seen, was
 * overwritten in the map or is over 30 s old has no ports: it is counted in
 * flow.no_ports_fragment and given to no flow. Protocols without ports (GRE, ESP ...) need no map:
 * their flows are keyed by addresses and protocol alone.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ringcap/assert.h"
#include "ringcap/flow.h"
#include "flow_int.h"

#define MIN_MEMCAP	(64u * 1024)
#define MIN_FLOWS	16
#define FRAG_SLOTS_MIN	16
#define FRAG_SLOTS_MAX	4096
#define FRAG_TIMEOUT_NS (30ull * 1000000000ull) /* Linux's ipfrag_time */
#define TCLASS_NONE	0xff			/* not on any LRU list yet */
#define NS_PER_SEC	1000000000ull

/* The ports of one fragmented datagram, learnt from its first fragment. */
struct frag_slot {
	uint8_t src[16], dst[16];
	uint64_t ts_ns;
	uint32_t id;
	uint16_t sport, dport;
	uint8_t l3, proto, used;
};

struct lru {
	struct rc_flow *head, *tail; /* head: least recently active */
};

struct rc_flow_table {
	struct rc_flow_config cfg;
	struct rc_flow_stream_hooks streams; /* .reasm NULL: no reassembly */
	struct rc_ctrs *ctrs;
	rc_flow_emit_fn emit;
	void *arg;
	struct rc_flow **buckets;
	size_t bucket_mask;
	struct frag_slot *frags;
	size_t frag_mask;
	struct lru lru[RC_FLOW_TO__COUNT];
	size_t active, max_flows;
	size_t fixed_mem; /* the table, its buckets and the fragment map */
	uint64_t now_ns;  /* latest packet time seen */
	uint64_t seq;	  /* flows created so far: part of each uid */
};

static const enum rc_ctr end_ctr[] = {
	[RC_FLOW_END_CLOSED] = RC_CTR_FLOW_ENDED_CLOSED,
	[RC_FLOW_END_IDLE] = RC_CTR_FLOW_ENDED_IDLE,
	[RC_FLOW_END_EVICTED] = RC_CTR_FLOW_ENDED_EVICTED,
	[RC_FLOW_END_EOF] = RC_CTR_FLOW_ENDED_EOF,
	[RC_FLOW_END_REUSED] = RC_CTR_FLOW_ENDED_REUSED,
};

/*
 * Sane defaults for a capture host: 128 MiB of flow state; Zeek-like timeouts (a TCP attempt
 * 30 s, an established connection 5 min like tcp_inactivity_timeout, a closed one 5 s after its
 * last packet, UDP/ICMP/other 60 s). Any thread.
 */
void rc_flow_config_default(struct rc_flow_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memcap = 128ull << 20;
	cfg->timeout_ns[RC_FLOW_TO_TCP_ATTEMPT] = 30 * NS_PER_SEC;
	cfg->timeout_ns[RC_FLOW_TO_TCP_ESTABLISHED] = 300 * NS_PER_SEC;
	cfg->timeout_ns[RC_FLOW_TO_TCP_CLOSED] = 5 * NS_PER_SEC;
	cfg->timeout_ns[RC_FLOW_TO_UDP] = 60 * NS_PER_SEC;
	cfg->timeout_ns[RC_FLOW_TO_ICMP] = 60 * NS_PER_SEC;
	cfg->timeout_ns[RC_FLOW_TO_OTHER] = 60 * NS_PER_SEC;
}

static size_t pow2_at_least(uint64_t n)
{
	size_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static void set_gauges(struct rc_flow_table *t)
{
	rc_ctr_set(t->ctrs, RC_CTR_FLOW_ACTIVE, t->active);
	rc_ctr_set(t->ctrs, RC_CTR_FLOW_MEMORY, rc_flow_table_memory(t));
}

/*
 * Create a table sized from cfg->memcap: the bucket array (a power of two at least the number of
 * flows that fit, so chains average at most one entry) and the fragment map are allocated here
 * and counted against the memcap; entries are allocated per flow, up to the rest of it. Every
 * ended flow goes to emit(arg, rec) from inside the call that ended it; emit must not call back
 * into the table. ctrs is the owning thread's counter block. Returns 0, -EINVAL when the memcap
 * is under 64 KiB, or -ENOMEM.
 */
int rc_flow_table_new(struct rc_flow_table **out, const struct rc_flow_config *cfg,
		      struct rc_ctrs *ctrs, rc_flow_emit_fn emit, void *arg)
{
	struct rc_flow_table *t;
	size_t nbuckets, nfrags;
	uint64_t est, fixed;

	RC_ASSERT(out && cfg && ctrs && emit);
	*out = NULL;
	if (cfg->memcap < MIN_MEMCAP)
		return -EINVAL;

	est = cfg->memcap / (sizeof(struct rc_flow) + sizeof(struct rc_flow *));
	nbuckets = pow2_at_least(est);
	nfrags = pow2_at_least(cfg->memcap / 256 / sizeof(struct frag_slot) + 1) / 2;
	if (nfrags < FRAG_SLOTS_MIN)
		nfrags = FRAG_SLOTS_MIN;
	if (nfrags > FRAG_SLOTS_MAX)
		nfrags = FRAG_SLOTS_MAX;
	fixed = sizeof(*t) + nbuckets * sizeof(struct rc_flow *) +
		nfrags * sizeof(struct frag_slot);
	if (fixed + MIN_FLOWS * sizeof(struct rc_flow) > cfg->memcap)
		return -EINVAL;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->buckets = calloc(nbuckets, sizeof(*t->buckets));
	t->frags = calloc(nfrags, sizeof(*t->frags));
	if (!t->buckets || !t->frags) {
		free(t->buckets);
		free(t->frags);
		free(t);
		return -ENOMEM;
	}
	t->cfg = *cfg;
	t->ctrs = ctrs;
	t->emit = emit;
	t->arg = arg;
	t->bucket_mask = nbuckets - 1;
	t->frag_mask = nfrags - 1;
	t->fixed_mem = fixed;
	t->max_flows = (cfg->memcap - fixed) / sizeof(struct rc_flow);
	RC_ASSERT(t->max_flows >= MIN_FLOWS && t->max_flows <= nbuckets);
	set_gauges(t);
	*out = t;
	return 0;
}

static void lru_remove(struct rc_flow_table *t, struct rc_flow *f)
{
	struct lru *l;

	if (f->tclass == TCLASS_NONE)
		return;
	l = &t->lru[f->tclass];
	if (f->prev)
		f->prev->next = f->next;
	else
		l->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		l->tail = f->prev;
	f->prev = f->next = NULL;
	f->tclass = TCLASS_NONE;
}

static void lru_append(struct rc_flow_table *t, struct rc_flow *f, int tclass)
{
	struct lru *l = &t->lru[tclass];

	RC_ASSERT(f->tclass == TCLASS_NONE);
	f->tclass = (uint8_t)tclass;
	f->next = NULL;
	f->prev = l->tail;
	if (l->tail)
		l->tail->next = f;
	else
		l->head = f;
	l->tail = f;
}

/* The least recently active flow of all: the oldest of the list heads. O(classes). */
static struct rc_flow *oldest(const struct rc_flow_table *t)
{
	struct rc_flow *best = NULL;
	int c;

	for (c = 0; c < RC_FLOW_TO__COUNT; c++) {
		struct rc_flow *f = t->lru[c].head;

		if (f && (!best || f->last_ns < best->last_ns))
			best = f;
	}
	return best;
}

/* End f's stream (the consumer sees its last bytes and gaps), count what it missed, free it. */
static void end_stream(struct rc_flow_table *t, struct rc_flow *f, struct rc_flow_record *rec)
{
	struct rc_reasm_stream *s = f->stream;
	rc_reasm_stream_end(t->streams.reasm, s);
	if (rec) {
		rec->reassembled = true;
		rec->missed_bytes = s->dir[0].missed + s->dir[1].missed;
	}
	if (t->streams.close)
		t->streams.close(t->streams.arg, s->ctx);
	free(s);
	f->stream = NULL;
}

/* Feed a TCP segment (d, sent by `role`) to f's stream, opening it at the flow's first. */
static void feed_stream(struct rc_flow_table *t, struct rc_flow *f, int role,
			const struct rc_packet *pkt, const struct rc_decoded *d)
{
	if (!f->stream) {
		struct rc_flow_record meta;
		struct rc_reasm_stream *s = malloc(sizeof(*s));
		if (!s) {
			rc_ctr_inc(t->ctrs, RC_CTR_REASM_ALLOC_FAILED);
			return;
		}
		rc_flow_record_fill(&meta, f, RC_FLOW_END_EOF);
		void *ctx = t->streams.open ? t->streams.open(t->streams.arg, &meta) : NULL;
		rc_reasm_stream_init(s, ctx);
		f->stream = s;
	}
	struct rc_reasm_segment seg = {
		.seq = d->seq,
		.ack = d->ack,
		.flags = d->tcp_flags,
		.payload = d->payload,
		.len = d->payload_caplen,
		.wire_len = d->payload_len,
		.ts_ns = pkt->ts_ns,
	};
	rc_reasm_segment(t->streams.reasm, f->stream, role, &seg);
}

void rc_flow_table_set_streams(struct rc_flow_table *t, const struct rc_flow_stream_hooks *h)
{
	RC_ASSERT(t && h && h->reasm && t->active == 0);
	t->streams = *h;
}

/* Unlink f from its bucket and its list, emit its record and free it. */
static void end_flow(struct rc_flow_table *t, struct rc_flow *f, enum rc_flow_end end)
{
	struct rc_flow **pp = &t->buckets[f->hash & t->bucket_mask];
	struct rc_flow_record rec;

	while (*pp != f) {
		RC_ASSERT(*pp);
		pp = &(*pp)->hnext;
	}
	*pp = f->hnext;
	lru_remove(t, f);
	RC_ASSERT(t->active > 0);
	t->active--;
	rc_ctr_inc(t->ctrs, end_ctr[end]);
	set_gauges(t);

	rc_flow_record_fill(&rec, f, end);
	if (f->stream)
		end_stream(t, f, &rec);
	free(f);
	t->emit(t->arg, &rec);
}

/* Retire flows idle past their class's timeout at `now`: pops from the list heads only. */
static void expire(struct rc_flow_table *t, uint64_t now)
{
	int c;

	for (c = 0; c < RC_FLOW_TO__COUNT; c++) {
		struct rc_flow *f;

		while ((f = t->lru[c].head) && now > f->last_ns &&
		       now - f->last_ns > t->cfg.timeout_ns[c])
			end_flow(t, f,
				 c == RC_FLOW_TO_TCP_CLOSED ? RC_FLOW_END_CLOSED
							    : RC_FLOW_END_IDLE);
	}
}

/*
 * The ICMP "port" of the other end: a request's reply type (and back), so echo request and reply
 * meet in one flow; the code for messages without a counterpart. Zeek's ICMP4/6_counterpart.
 */
static uint16_t icmp_counterpart(uint8_t l3, uint16_t type, uint16_t code)
{
	static const uint8_t v4[][2] = {{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}};
	static const uint8_t v6[][2] = {{128, 129}, {133, 134}, {135, 136},
					{130, 131}, {139, 140}, {144, 145}};
	const uint8_t(*pairs)[2] = l3 == RC_L3_IPV6 ? v6 : v4;
	size_t i, n = l3 == RC_L3_IPV6 ? RC_ARRAY_SIZE(v6) : RC_ARRAY_SIZE(v4);

	for (i = 0; i < n; i++) {
		if (type == pairs[i][0])
			return pairs[i][1];
		if (type == pairs[i][1])
			return pairs[i][0];
	}
	return code;
}

static bool is_icmp(uint8_t l3, uint8_t proto)
{
	return (l3 == RC_L3_IPV4 && proto == 1) || (l3 == RC_L3_IPV6 && proto == 58);
}

/* Protocols whose decoded packets carry ports (or ICMP type/code). */
static bool has_ports(uint8_t l3, uint8_t proto)
{
	return proto == 6 || proto == 17 || is_icmp(l3, proto);
}

static struct frag_slot *frag_find(struct rc_flow_table *t, const struct rc_decoded *d)
{
	uint8_t in[16 + 16 + 4 + 2];

	memcpy(in, d->src, 16);
	memcpy(in + 16, d->dst, 16);
	memcpy(in + 32, &d->frag_id, 4);
	in[36] = d->l3;
	in[37] = d->ip_proto;
	return &t->frags[XXH3_64bits(in, sizeof(in)) & t->frag_mask];
}

static bool frag_match(const struct frag_slot *s, const struct rc_decoded *d)
{
	return s->used && s->id == d->frag_id && s->l3 == d->l3 && s->proto == d->ip_proto &&
	       memcmp(s->src, d->src, 16) == 0 && memcmp(s->dst, d->dst, 16) == 0;
}

/* Remember the ports of a first fragment; a newer datagram takes the slot over. */
static void frag_remember(struct rc_flow_table *t, const struct rc_decoded *d, uint16_t sp,
			  uint16_t dp)
{
	struct frag_slot *s = frag_find(t, d);

	memcpy(s->src, d->src, 16);
	memcpy(s->dst, d->dst, 16);
	s->id = d->frag_id;
	s->l3 = d->l3;
	s->proto = d->ip_proto;
	s->sport = sp;
	s->dport = dp;
	s->ts_ns = t->now_ns;
	s->used = 1;
}

/* memcmp order of two 16-byte addresses, as two big-endian word compares. */
static int addr_cmp(const uint8_t *a, const uint8_t *b)
{
	uint64_t x[2], y[2];
	int i;

	memcpy(x, a, 16);
	memcpy(y, b, 16);
	for (i = 0; i < 2; i++) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		uint64_t u = __builtin_bswap64(x[i]), v = __builtin_bswap64(y[i]);
#else
		uint64_t u = x[i], v = y[i];
#endif

		if (u != v)
			return u < v ? -1 : 1;
	}
	return 0;
}

/* Write the symmetric key of d with ports sp, dp; returns the side d was sent from (0: key.lo). */
static int fill_key(const struct rc_decoded *d, uint16_t sp, uint16_t dp, struct rc_flow_key *k)
{
	uint8_t nvlan = d->vlan_count < RC_MAX_VLAN ? d->vlan_count : RC_MAX_VLAN;
	uint16_t v0 = nvlan > 0 ? d->vlan[0] : 0, v1 = nvlan > 1 ? d->vlan[1] : 0;
	const uint8_t *lo = d->src, *hi = d->dst;
	uint16_t lo_p = sp, hi_p = dp;
	int c = addr_cmp(d->src, d->dst), side = 0;
	if (!(c < 0 || (c == 0 && sp <= dp))) {
		lo = d->dst;
		hi = d->src;
		lo_p = dp;
		hi_p = sp;
		side = 1;
	}
	memcpy(k->lo, lo, 16);
	memcpy(k->hi, hi, 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The last 16 bytes as two whole-word stores: key_eq and the hash read them as words, and
	 * a word assembled from narrower stores stalls store-to-load forwarding. */
	uint64_t w4 = lo_p | (uint64_t)hi_p << 16 | (uint64_t)v0 << 32 | (uint64_t)v1 << 48;
	uint64_t w5 = nvlan | (uint64_t)d->l3 << 8 | (uint64_t)d->ip_proto << 16;
	_Static_assert(offsetof(struct rc_flow_key, lo_p) == 32 &&
			       offsetof(struct rc_flow_key, vlan) == 36 &&
			       offsetof(struct rc_flow_key, vlan_count) == 40 &&
			       offsetof(struct rc_flow_key, proto) == 42 && RC_MAX_VLAN == 2,
		       "word layout of rc_flow_key");
	memcpy((uint8_t *)k + 32, &w4, 8);
	memcpy((uint8_t *)k + 40, &w5, 8);
#else
	memset((uint8_t *)k + 32, 0, 16);
	k->lo_p = lo_p;
	k->hi_p = hi_p;
	k->vlan[0] = v0;
	k->vlan[1] = v1;
	k->vlan_count = nvlan;
	k->l3 = d->l3;
	k->proto = d->ip_proto;
#endif
	return side;
}

/*
 * Build the symmetric key of packet d and say from which side it was sent (0: key.lo). Returns
 * false, having counted why, when the packet has no ports to be accounted by.
 */
static bool build_key(struct rc_flow_table *t, const struct rc_decoded *d, struct rc_flow_key *k,
		      int *side, bool *joined)
{
	uint16_t sp = 0, dp = 0;
	bool later_frag = d->is_fragment && d->frag_offset != 0;

	*joined = false;
	if (d->l4_ok && !later_frag) {
		sp = d->sport;
		dp = d->dport;
		if (is_icmp(d->l3, d->ip_proto))
			dp = icmp_counterpart(d->l3, d->sport, d->dport);
		if (d->is_fragment)
			frag_remember(t, d, sp, dp);
	} else if (has_ports(d->l3, d->ip_proto)) {
		struct frag_slot *s;

		if (!later_frag) {
			rc_ctr_inc(t->ctrs, RC_CTR_FLOW_NO_PORTS_L4);
			return false;
		}
		s = frag_find(t, d);
		if (!frag_match(s, d) || t->now_ns - s->ts_ns > FRAG_TIMEOUT_NS) {
			rc_ctr_inc(t->ctrs, RC_CTR_FLOW_NO_PORTS_FRAGMENT);
			return false;
		}
		sp = s->sport;
		dp = s->dport;
		*joined = true;
	}

	*side = fill_key(d, sp, dp, k);
	return true;
}

/* Key equality in six word compares read in place; libc's memcmp would be a call per lookup. */
static bool key_eq(const struct rc_flow_key *a, const struct rc_flow_key *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
	uint64_t diff = 0;

	for (size_t i = 0; i < sizeof(*a); i += 8) {
		uint64_t x, y;

		memcpy(&x, p + i, 8);
		memcpy(&y, q + i, 8);
		diff |= x ^ y;
	}
	return diff == 0;
}

static struct rc_flow *lookup(const struct rc_flow_table *t, const struct rc_flow_key *k,
			      uint64_t h)
{
	struct rc_flow *f;

	for (f = t->buckets[h & t->bucket_mask]; f; f = f->hnext)
		if (f->hash == h && key_eq(&f->key, k))
			return f;
	return NULL;
}

/* A new flow for packet d sent from `side`, evicting the least recently active one if full. */
static struct rc_flow *create(struct rc_flow_table *t, const struct rc_flow_key *k, uint64_t h,
			      const struct rc_packet *pkt, const struct rc_decoded *d, int side,
			      bool tcp_hdr)
{
	struct rc_flow **b;
	struct rc_flow *f = calloc(1, sizeof(*f));

	if (!f) {
		rc_ctr_inc(t->ctrs, RC_CTR_FLOW_ALLOC_FAILED);
		return NULL;
	}
	if (t->active >= t->max_flows) {
		struct rc_flow *victim = oldest(t);

		RC_ASSERT(victim);
		rc_ctr_inc(t->ctrs, RC_CTR_FLOW_MEMCAP_EVICTIONS);
		end_flow(t, victim, RC_FLOW_END_EVICTED);
	}

	f->key = *k;
	f->hash = h;
	f->tclass = TCLASS_NONE;
	f->orig_side = (uint8_t)side;
	if (tcp_hdr && (d->tcp_flags & (RC_TCP_SYN | RC_TCP_ACK)) == (RC_TCP_SYN | RC_TCP_ACK)) {
		f->orig_side = (uint8_t)!side; /* a SYN-ACK answers its receiver */
		rc_flow_hist_add(&f->hist, RC_FLOW_ORIG, '^');
	}
	f->first_ns = f->last_ns = pkt->ts_ns;
	f->ts_digits = pkt->ts_digits;
	f->seq = t->seq++;

	b = &t->buckets[h & t->bucket_mask];
	f->hnext = *b;
	*b = f;
	t->active++;
	RC_ASSERT(t->active <= t->max_flows);
	rc_ctr_inc(t->ctrs, RC_CTR_FLOW_CREATED);
	set_gauges(t);
	return f;
}

static int tclass_of(const struct rc_flow *f)
{
	switch (f->key.proto) {
	case 6:
		if (rc_flow_tcp_closed(&f->tcp))
			return RC_FLOW_TO_TCP_CLOSED;
		return rc_flow_tcp_attempt(&f->tcp) ? RC_FLOW_TO_TCP_ATTEMPT
						    : RC_FLOW_TO_TCP_ESTABLISHED;
	case 17:
		return RC_FLOW_TO_UDP;
	default:
		return is_icmp(f->key.l3, f->key.proto) ? RC_FLOW_TO_ICMP : RC_FLOW_TO_OTHER;
	}
}

void rc_flow_table_prefetch(const struct rc_flow_table *t, const struct rc_decoded *d)
{
	struct rc_flow_key k;

	/* Only the common case (ports in this packet); fragments resolve theirs in process. */
	if (d->l3 == RC_L3_NONE || !d->l4_ok || d->is_fragment)
		return;
	uint16_t dp = d->dport;
	if (is_icmp(d->l3, d->ip_proto))
		dp = icmp_counterpart(d->l3, d->sport, d->dport);
	fill_key(d, d->sport, dp, &k);
	uint64_t h = XXH3_64bits(&k, sizeof(k));
	__builtin_prefetch(&t->buckets[h & t->bucket_mask]);
}

/*
 * Account one decoded packet (d->l3 is IPv4 or IPv6) to its flow, creating the flow if needed,
 * after retiring the flows whose idle timeout passed by this packet's time. A new SYN on a closed
 * TCP flow ends it (REUSED) and starts another. A packet that cannot be given a flow is counted
 * (flow.no_ports_*, flow.alloc_failed), never dropped silently. Owner thread only; O(1) amortised
 * (expiry pops list heads; eviction compares the heads of the few timeout classes).
 */
void rc_flow_table_process(struct rc_flow_table *t, const struct rc_packet *pkt,
			   const struct rc_decoded *d)
{
	struct rc_flow_key k;
	struct rc_flow *f;
	struct rc_flow_dir *dir;
	bool joined, tcp_hdr;
	uint64_t h;
	int side, role, tclass;

	RC_ASSERT(d->l3 == RC_L3_IPV4 || d->l3 == RC_L3_IPV6);
	if (pkt->ts_ns > t->now_ns)
		t->now_ns = pkt->ts_ns;
	expire(t, t->now_ns);

	if (!build_key(t, d, &k, &side, &joined))
		return;
	/* The TCP header is there: a whole segment or a first fragment. */
	tcp_hdr = d->ip_proto == 6 && d->l4_ok && !joined;
	h = XXH3_64bits(&k, sizeof(k));
	f = lookup(t, &k, h);
	if (f && tcp_hdr && rc_flow_tcp_is_reuse(&f->tcp, side ^ f->orig_side, d)) {
		end_flow(t, f, RC_FLOW_END_REUSED);
		f = NULL;
	}
	if (!f) {
		f = create(t, &k, h, pkt, d, side, tcp_hdr);
		if (!f)
			return;
	}

	role = side ^ f->orig_side;
	dir = &f->dir[role];
	dir->pkts++;
	dir->bytes += d->payload_len;
	dir->ip_bytes += d->ip_len;
	dir->wire_bytes += pkt->wirelen;
	if (pkt->ts_ns > f->last_ns)
		f->last_ns = pkt->ts_ns;
	if (tcp_hdr) {
		dir->tcp_flags |= d->tcp_flags;
		rc_flow_tcp_update(&f->tcp, &f->hist, role, d);
		if (t->streams.reasm)
			feed_stream(t, f, role, pkt, d);
	} else if (d->ip_proto == 17 && d->l4_ok && !joined) {
		rc_flow_hist_check(&f->hist, role, RC_HIST_DATA, 'D');
	}

	/* Most recently active goes last in its (possibly new) class; bursts are already there. */
	tclass = tclass_of(f);
	if (f->tclass != tclass || t->lru[tclass].tail != f) {
		lru_remove(t, f);
		lru_append(t, f, tclass);
	}

	rc_ctr_inc(t->ctrs, RC_CTR_FLOW_PACKETS);
	if (joined)
		rc_ctr_inc(t->ctrs, RC_CTR_FLOW_FRAGMENTS_JOINED);
}

/*
 * Retire every flow idle for longer than its class's timeout at now_ns (or at the latest packet
 * time, if that is later). For a live source with no packets, so idle flows still end. Owner
 * thread only; cost proportional to the flows retired.
 */
void rc_flow_table_expire(struct rc_flow_table *t, uint64_t now_ns)
{
	if (now_ns > t->now_ns)
		t->now_ns = now_ns;
	expire(t, t->now_ns);
}

/*
 * End of input: emit every flow, least recently active first, and empty the table (fragment map
 * included). A TCP flow already closed ends as CLOSED, every other one as EOF. Owner thread only;
 * O(flows).
 */
void rc_flow_table_flush(struct rc_flow_table *t)
{
	struct rc_flow *f;

	while ((f = oldest(t)))
		end_flow(t, f,
			 f->tclass == RC_FLOW_TO_TCP_CLOSED ? RC_FLOW_END_CLOSED : RC_FLOW_END_EOF);
	memset(t->frags, 0, (t->frag_mask + 1) * sizeof(*t->frags));
}

static uint64_t flow_wire_bytes(const struct rc_flow *f)
{
	return f->dir[0].wire_bytes + f->dir[1].wire_bytes;
}

/* Restore the min-heap (fewest bytes at the root) below index i. */
static void top_sift_down(const struct rc_flow **h, size_t n, size_t i)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;
		if (l < n && flow_wire_bytes(h[l]) < flow_wire_bytes(h[m]))
			m = l;
		if (r < n && flow_wire_bytes(h[r]) < flow_wire_bytes(h[m]))
			m = r;
		if (m == i)
			return;
		const struct rc_flow *x = h[i];
		h[i] = h[m];
		h[m] = x;
		i = m;
	}
}

size_t rc_flow_table_top(const struct rc_flow_table *t, struct rc_flow_record *out, size_t n)
{
	const struct rc_flow **h = n ? malloc(n * sizeof(*h)) : NULL;
	size_t k = 0;

	if (!h)
		return 0;
	for (int c = 0; c < RC_FLOW_TO__COUNT; c++)
		for (const struct rc_flow *f = t->lru[c].head; f; f = f->next) {
			if (k < n) {
				h[k++] = f;
				if (k == n)
					for (size_t i = n / 2; i-- > 0;)
						top_sift_down(h, n, i);
			} else if (flow_wire_bytes(f) > flow_wire_bytes(h[0])) {
				h[0] = f;
				top_sift_down(h, n, 0);
			}
		}
	if (k < n)
		for (size_t i = k / 2; i-- > 0;)
			top_sift_down(h, k, i);
	/* pop the smallest to the end: out[] ends up most bytes first */
	for (size_t m = k; m > 0; m--) {
		rc_flow_record_fill(&out[m - 1], h[0], RC_FLOW_END_EOF);
		h[0] = h[m - 1];
		top_sift_down(h, m - 1, 0);
	}
	free(h);
	return k;
}

/* Live flows. Owner thread (other threads read the flow.active gauge). */
size_t rc_flow_table_active(const struct rc_flow_table *t)
{
	return t->active;
}

/* Bytes of flow state in use, never above the memcap. Owner thread (others: flow.memory). */
size_t rc_flow_table_memory(const struct rc_flow_table *t)
{
	return t->fixed_mem + t->active * sizeof(struct rc_flow);
}

/* Free the table and every flow in it without emitting anything; NULL is allowed. */
void rc_flow_table_free(struct rc_flow_table *t)
{
	int c;

	if (!t)
		return;
	for (c = 0; c < RC_FLOW_TO__COUNT; c++) {
		struct rc_flow *f = t->lru[c].head;

		while (f) {
			struct rc_flow *next = f->next;

			if (f->stream)
				end_stream(t, f, NULL);
			free(f);
			f = next;
		}
	}
	free(t->buckets);
	free(t->frags);
	free(t);
}
