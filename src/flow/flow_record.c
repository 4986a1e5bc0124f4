/* Flow records: built from an ended flow, named like Zeek's conn.log, written as one JSON line. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ringcap/assert.h"
#include "flow_int.h"

static const char *const end_names[] = {
	[RC_FLOW_END_CLOSED] = "closed",   [RC_FLOW_END_IDLE] = "idle",
	[RC_FLOW_END_EVICTED] = "evicted", [RC_FLOW_END_EOF] = "eof",
	[RC_FLOW_END_REUSED] = "reused",
};

/*
 * The name of an end reason, as the JSON end_reason field writes it. Any thread; constant time.
 * An end reason outside the enum is a caller bug and stops the process.
 */
const char *rc_flow_end_name(enum rc_flow_end end)
{
	RC_ASSERT((unsigned)end < RC_ARRAY_SIZE(end_names));
	return end_names[end];
}

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#define UID_DIGITS 17 /* 62^17 > 2^96: 96 bits of hash, as Zeek's uids carry */
_Static_assert(1 + UID_DIGITS < sizeof(((struct rc_flow_record *)0)->uid), "uid fits");

/*
 * A Zeek-like uid: 'C' and 17 base62 digits of XXH3-128 over the canonical key, the originator's
 * side, the first packet's time and the table's creation number. Deterministic for a given input
 * (and number of decoder threads), so offline runs are reproducible.
 */
static void make_uid(char *uid, const struct rc_flow *f)
{
	uint8_t in[sizeof(f->key) + 1 + 2 * sizeof(uint64_t)];
	unsigned __int128 v;
	XXH128_hash_t h;
	int i;

	memcpy(in, &f->key, sizeof(f->key));
	in[sizeof(f->key)] = f->orig_side;
	memcpy(in + sizeof(f->key) + 1, &f->first_ns, sizeof(uint64_t));
	memcpy(in + sizeof(f->key) + 1 + sizeof(uint64_t), &f->seq, sizeof(uint64_t));
	h = XXH3_128bits(in, sizeof(in));
	v = ((unsigned __int128)(h.high64 & 0xffffffffu) << 64) | h.low64;

	uid[0] = 'C';
	for (i = UID_DIGITS; i >= 1; i--) {
		uid[i] = base62[(unsigned)(v % 62)];
		v /= 62;
	}
	uid[UID_DIGITS + 1] = '\0';
}

/* Zeek's UDP conn_state (ICMP and other protocols are always OTH there). */
static const char *udp_conn_state(const struct rc_flow *f)
{
	bool o = f->dir[RC_FLOW_ORIG].pkts > 0, r = f->dir[RC_FLOW_RESP].pkts > 0;

	if (o)
		return r ? "SF" : "S0";
	return r ? "SHR" : "OTH";
}

/*
 * Fill rec from the flow f that ended for `end`. Owner thread of f's table; constant time.
 */
void rc_flow_record_fill(struct rc_flow_record *rec, const struct rc_flow *f, enum rc_flow_end end)
{
	const uint8_t *oh = f->orig_side ? f->key.hi : f->key.lo;
	const uint8_t *rh = f->orig_side ? f->key.lo : f->key.hi;
	const char *state;

	memset(rec, 0, sizeof(*rec));
	rec->ts_ns = f->first_ns;
	rec->last_ns = f->last_ns;
	rec->ts_digits = f->ts_digits;
	make_uid(rec->uid, f);
	rec->l3 = f->key.l3;
	rec->proto = f->key.proto;
	memcpy(rec->orig_h, oh, sizeof(rec->orig_h));
	memcpy(rec->resp_h, rh, sizeof(rec->resp_h));
	rec->orig_p = f->orig_side ? f->key.hi_p : f->key.lo_p;
	rec->resp_p = f->orig_side ? f->key.lo_p : f->key.hi_p;
	memcpy(rec->vlan, f->key.vlan, sizeof(rec->vlan));
	rec->vlan_count = f->key.vlan_count;
	rec->orig = f->dir[RC_FLOW_ORIG];
	rec->resp = f->dir[RC_FLOW_RESP];

	if (f->key.proto == 6)
		state = rc_flow_tcp_conn_state(&f->tcp, &f->hist, rec->orig.bytes, rec->resp.bytes);
	else if (f->key.proto == 17)
		state = udp_conn_state(f);
	else
		state = "OTH";
	RC_ASSERT(strlen(state) < sizeof(rec->conn_state));
	strcpy(rec->conn_state, state);
	_Static_assert(sizeof(f->hist.s) <= sizeof(rec->history), "history fits the record");
	memcpy(rec->history, f->hist.s, sizeof(f->hist.s));
	rec->end_reason = end;
}

/* A bounded writer: remembers whether anything did not fit. */
struct out {
	char *buf;
	size_t len, pos;
	bool over;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	RC_ASSERT(n >= 0);
	if ((size_t)n >= o->len - o->pos)
		o->over = true;
	else
		o->pos += (size_t)n;
}

/* Strings go out unescaped: they must come from alphabets that never need escaping in JSON. */
static const char *safe(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		RC_ASSERT(*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\');
	return s;
}

/* Seconds with `digits` decimals (at most 9), cut (not rounded) from nanoseconds. */
static void put_secs(struct out *o, uint64_t ns, unsigned digits)
{
	uint64_t frac = ns % 1000000000u, div = 1;
	unsigned i;

	if (digits > 9)
		digits = 9;
	if (digits == 0) {
		put(o, "%" PRIu64, ns / 1000000000u);
		return;
	}
	for (i = digits; i < 9; i++)
		div *= 10;
	put(o, "%" PRIu64 ".%0*" PRIu64, ns / 1000000000u, (int)digits, frac / div);
}

static void put_addr(struct out *o, const char *name, uint8_t l3, const uint8_t *a)
{
	char txt[INET6_ADDRSTRLEN];

	RC_ASSERT(inet_ntop(l3 == RC_L3_IPV6 ? AF_INET6 : AF_INET, a, txt, sizeof(txt)));
	put(o, ",\"%s\":\"%s\"", name, safe(txt));
}

static void put_dir(struct out *o, const char *side, const struct rc_flow_dir *d)
{
	put(o, ",\"%s_pkts\":%" PRIu64 ",\"%s_bytes\":%" PRIu64 ",\"%s_ip_bytes\":%" PRIu64, side,
	    d->pkts, side, d->bytes, side, d->ip_bytes);
}

/*
 * Write rec as one JSON object and a newline into buf (len bytes; 1024 is always enough).
 * Returns the bytes written without the terminating NUL, or 0 (and buf holds "") when len is too
 * small. No allocation; any thread.
 */
size_t rc_flow_record_json(const struct rc_flow_record *rec, char *buf, size_t len)
{
	struct out o = {.buf = buf, .len = len};
	uint64_t dur = rec->last_ns > rec->ts_ns ? rec->last_ns - rec->ts_ns : 0;
	const char *proto;
	char num[4];
	unsigned i;

	RC_ASSERT(rec->l3 == RC_L3_IPV4 || rec->l3 == RC_L3_IPV6);
	RC_ASSERT(rec->vlan_count <= RC_MAX_VLAN);
	RC_ASSERT(memchr(rec->uid, '\0', sizeof(rec->uid)));
	RC_ASSERT(memchr(rec->conn_state, '\0', sizeof(rec->conn_state)));
	RC_ASSERT(memchr(rec->history, '\0', sizeof(rec->history)));
	if (len == 0)
		return 0;

	switch (rec->proto) {
	case 6:
		proto = "tcp";
		break;
	case 17:
		proto = "udp";
		break;
	case 1:
	case 58:
		proto = "icmp"; /* ICMPv6 too, as Zeek */
		break;
	default:
		snprintf(num, sizeof(num), "%u", rec->proto);
		proto = num;
	}

	put(&o, "{\"ts\":");
	put_secs(&o, rec->ts_ns, rec->ts_digits);
	put(&o, ",\"uid\":\"%s\",\"proto\":\"%s\"", safe(rec->uid), proto);
	put_addr(&o, "orig_h", rec->l3, rec->orig_h);
	put(&o, ",\"orig_p\":%u", rec->orig_p);
	put_addr(&o, "resp_h", rec->l3, rec->resp_h);
	put(&o, ",\"resp_p\":%u,\"duration\":", rec->resp_p);
	put_secs(&o, dur, rec->ts_digits);
	put_dir(&o, "orig", &rec->orig);
	put_dir(&o, "resp", &rec->resp);
	put(&o, ",\"conn_state\":\"%s\",\"history\":\"%s\"", safe(rec->conn_state),
	    safe(rec->history));
	if (rec->vlan_count) {
		put(&o, ",\"vlan\":[");
		for (i = 0; i < rec->vlan_count; i++)
			put(&o, "%s%u", i ? "," : "", rec->vlan[i]);
		put(&o, "]");
	}
	if (rec->reassembled)
		put(&o, ",\"missed_bytes\":%" PRIu64, rec->missed_bytes);
	put(&o, ",\"end_reason\":\"%s\"", rc_flow_end_name(rec->end_reason));
	put(&o, ",\"orig_wire_bytes\":%" PRIu64 ",\"resp_wire_bytes\":%" PRIu64 "}\n",
	    rec->orig.wire_bytes, rec->resp.wire_bytes);

	if (o.over) {
		buf[0] = '\0';
		return 0;
	}
	return o.pos;
}
