/* The flow table: symmetric keys, originators, Zeek conn_state/history, timeouts, memcap, JSON. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringcap/flow.h"

#define SEC 1000000000ull
#define T0  (1695936918ull * SEC + 482490000ull)

/* Every record a table emitted, in order. */
struct sink {
	struct rc_flow_record rec[2048];
	int n;
};

static void collect(void *arg, const struct rc_flow_record *rec)
{
	struct sink *s = arg;
	assert_true(s->n < (int)(sizeof(s->rec) / sizeof(s->rec[0])));
	s->rec[s->n++] = *rec;
}

/* One table with its counters and sink, fresh per test. */
struct fx {
	struct rc_flow_table *t;
	struct rc_ctrs ctrs;
	struct sink sink;
	struct rc_flow_config cfg;
};

static struct fx *fx_new(uint64_t memcap)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	rc_flow_config_default(&f->cfg);
	if (memcap)
		f->cfg.memcap = memcap;
	assert_int_equal(rc_flow_table_new(&f->t, &f->cfg, &f->ctrs, collect, &f->sink), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	rc_flow_table_free(f->t);
	free(f);
}

static uint64_t ctr(struct fx *f, enum rc_ctr id)
{
	return rc_ctr_get(&f->ctrs, id);
}

/* Two ends of a conversation: A is the client (port 40000), B the server (port 80). */
struct conv {
	uint8_t l3;
	uint8_t proto;
	uint8_t a[16], b[16];
	uint16_t ap, bp;
	uint16_t vlan[RC_MAX_VLAN];
	uint8_t vlan_count;
};

static struct conv conv4(uint8_t proto)
{
	struct conv c = {.l3 = RC_L3_IPV4, .proto = proto, .ap = 40000, .bp = 80};
	assert_int_equal(inet_pton(AF_INET, "10.0.0.1", c.a), 1);
	assert_int_equal(inet_pton(AF_INET, "10.0.0.2", c.b), 1);
	return c;
}

static struct conv conv6(uint8_t proto)
{
	struct conv c = {.l3 = RC_L3_IPV6, .proto = proto, .ap = 40000, .bp = 443};
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::2", c.a), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", c.b), 1);
	return c;
}

enum { A2B, B2A };

/* What the decoder would have produced for one packet of c; 14 bytes of Ethernet on the wire. */
static void decoded(const struct conv *c, int dir, uint8_t flags, uint32_t seq, uint32_t ack,
		    uint32_t len, struct rc_decoded *d)
{
	uint32_t iph = c->l3 == RC_L3_IPV6 ? 40 : 20;
	uint32_t l4h = c->proto == 6 ? 20 : 8;

	memset(d, 0, sizeof(*d));
	d->l3 = c->l3;
	d->ip_proto = c->proto;
	memcpy(d->src, dir == A2B ? c->a : c->b, 16);
	memcpy(d->dst, dir == A2B ? c->b : c->a, 16);
	d->vlan_count = c->vlan_count;
	memcpy(d->vlan, c->vlan, sizeof(d->vlan));
	d->ip_len = iph + l4h + len;
	d->l4_ok = true;
	d->sport = dir == A2B ? c->ap : c->bp;
	d->dport = dir == A2B ? c->bp : c->ap;
	d->tcp_flags = flags;
	d->seq = seq;
	d->ack = ack;
	d->window = 1000;
	d->payload_len = len;
	d->payload_caplen = len;
}

static void feed(struct fx *f, uint64_t ts, const struct rc_decoded *d)
{
	struct rc_packet p = {.ts_ns = ts,
			      .wirelen = d->ip_len + 14,
			      .caplen = d->ip_len + 14,
			      .linktype = RC_LINK_EN10MB,
			      .ts_digits = 6};
	rc_flow_table_process(f->t, &p, d);
	assert_true(rc_flow_table_memory(f->t) <= f->cfg.memcap);
}

static void pkt(struct fx *f, const struct conv *c, uint64_t ts, int dir, uint8_t flags,
		uint32_t seq, uint32_t ack, uint32_t len)
{
	struct rc_decoded d;
	decoded(c, dir, flags, seq, ack, len, &d);
	feed(f, ts, &d);
}

enum { SYN = RC_TCP_SYN, ACK = RC_TCP_ACK, FIN = RC_TCP_FIN, RST = RC_TCP_RST, PSH = RC_TCP_PSH };

/* SYN, SYN-ACK, ACK, 10 bytes A->B, ACK, 20 bytes B->A, FIN A, FIN B, last ACK: 10 ms apart. */
static uint64_t full_conversation(struct fx *f, const struct conv *c, uint64_t t)
{
	pkt(f, c, t + 0, A2B, SYN, 100, 0, 0);
	pkt(f, c, t + 10000000, B2A, SYN | ACK, 500, 101, 0);
	pkt(f, c, t + 20000000, A2B, ACK, 101, 501, 0);
	pkt(f, c, t + 30000000, A2B, PSH | ACK, 101, 501, 10);
	pkt(f, c, t + 40000000, B2A, ACK, 501, 111, 0);
	pkt(f, c, t + 50000000, B2A, PSH | ACK, 501, 111, 20);
	pkt(f, c, t + 60000000, A2B, FIN | ACK, 111, 521, 0);
	pkt(f, c, t + 70000000, B2A, FIN | ACK, 521, 112, 0);
	pkt(f, c, t + 80000000, A2B, ACK, 112, 522, 0);
	return t + 80000000;
}

static void addr_is(const uint8_t *a, uint8_t l3, const char *want)
{
	char txt[INET6_ADDRSTRLEN];
	assert_non_null(inet_ntop(l3 == RC_L3_IPV6 ? AF_INET6 : AF_INET, a, txt, sizeof(txt)));
	assert_string_equal(txt, want);
}

static void test_tcp_sf_counts_and_history(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv4(6);
	full_conversation(f, &c, T0);

	assert_int_equal(rc_flow_table_active(f->t), 1);
	assert_int_equal(ctr(f, RC_CTR_FLOW_CREATED), 1);
	assert_int_equal(ctr(f, RC_CTR_FLOW_PACKETS), 9);
	rc_flow_table_flush(f->t);
	assert_int_equal(f->sink.n, 1);

	const struct rc_flow_record *r = &f->sink.rec[0];
	assert_string_equal(r->conn_state, "SF");
	assert_string_equal(r->history, "ShADadFf");
	assert_int_equal(r->end_reason, RC_FLOW_END_CLOSED); /* already closed at EOF */
	addr_is(r->orig_h, r->l3, "10.0.0.1");
	addr_is(r->resp_h, r->l3, "10.0.0.2");
	assert_int_equal(r->orig_p, 40000);
	assert_int_equal(r->resp_p, 80);
	assert_int_equal(r->proto, 6);
	assert_int_equal(r->ts_ns, T0);
	assert_int_equal(r->last_ns, T0 + 80000000);
	assert_int_equal(r->ts_digits, 6);
	assert_int_equal(r->orig.pkts, 5);
	assert_int_equal(r->orig.bytes, 10);
	assert_int_equal(r->orig.ip_bytes, 5 * 40 + 10);
	assert_int_equal(r->orig.wire_bytes, 5 * 54 + 10);
	assert_int_equal(r->orig.tcp_flags, SYN | ACK | PSH | FIN);
	assert_int_equal(r->resp.pkts, 4);
	assert_int_equal(r->resp.bytes, 20);
	assert_int_equal(r->resp.ip_bytes, 4 * 40 + 20);
	assert_int_equal(r->resp.wire_bytes, 4 * 54 + 20);
	assert_int_equal(r->resp.tcp_flags, SYN | ACK | PSH | FIN);
	assert_int_equal(r->vlan_count, 0);
	assert_int_equal(rc_flow_table_active(f->t), 0);
	assert_int_equal(ctr(f, RC_CTR_FLOW_ENDED_CLOSED), 1);
	assert_int_equal(ctr(f, RC_CTR_FLOW_ACTIVE), 0);
	fx_free(f);
}

static void test_closed_retires_promptly(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv4(6);
	uint64_t last = full_conversation(f, &c, T0);

	rc_flow_table_expire(f->t, last + 4 * SEC);
	assert_int_equal(f->sink.n, 0);
	rc_flow_table_expire(f->t, last + 5 * SEC + 1);
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.rec[0].end_reason, RC_FLOW_END_CLOSED);
	assert_int_equal(ctr(f, RC_CTR_FLOW_ENDED_CLOSED), 1);
	assert_int_equal(rc_flow_table_active(f->t), 0);
	fx_free(f);
}

static void test_udp_symmetry(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv4(17);
	c.bp = 53;
	pkt(f, &c, T0, A2B, 0, 0, 0, 30);
	pkt(f, &c, T0 + 1000, B2A, 0, 0, 0, 100);
	pkt(f, &c, T0 + 2000, A2B, 0, 0, 0, 30);
	assert_int_equal(rc_flow_table_active(f->t), 1);
	rc_flow_table_flush(f->t);
	assert_int_equal(f->sink.n, 1);
	const struct rc_flow_record *r = &f->sink.rec[0];
	assert_string_equal(r->conn_state, "SF");
	assert_string_equal(r->history, "Dd");
	assert_int_equal(r->orig.pkts, 2);
	assert_int_equal(r->orig.bytes, 60);
	assert_int_equal(r->resp.pkts, 1);
	assert_int_equal(r->resp.bytes, 100);
	assert_int_equal(r->resp_p, 53);
	assert_int_equal(r->end_reason, RC_FLOW_END_EOF);
	assert_int_equal(ctr(f, RC_CTR_FLOW_ENDED_EOF), 1);
	fx_free(f);
}

static void test_udp_one_way_is_s0(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv4(17);
	pkt(f, &c, T0, A2B, 0, 0, 0, 30);
	pkt(f, &c, T0 + 1, A2B, 0, 0, 0, 30);
	rc_flow_table_flush(f->t);
	assert_string_equal(f->sink.rec[0].conn_state, "S0");
	assert_string_equal(f->sink.rec[0].history, "D");
	fx_free(f);
}

static void test_vlan_distinct_flows(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c10 = conv4(17), c20 = conv4(17);
	c10.vlan_count = c20.vlan_count = 1;
	c10.vlan[0] = 10;
	c20.vlan[0] = 20;
	pkt(f, &c10, T0, A2B, 0, 0, 0, 1);
	pkt(f, &c20, T0 + 1, A2B, 0, 0, 0, 1);
	pkt(f, &c10, T0 + 2, B2A, 0, 0, 0, 1);
	pkt(f, &c20, T0 + 3, B2A, 0, 0, 0, 1);
	assert_int_equal(rc_flow_table_active(f->t), 2);
	rc_flow_table_flush(f->t);
	assert_int_equal(f->sink.n, 2);
	for (int i = 0; i < 2; i++) {
		const struct rc_flow_record *r = &f->sink.rec[i];
		assert_int_equal(r->vlan_count, 1);
		assert_int_equal(r->vlan[0], i == 0 ? 10 : 20);
		assert_int_equal(r->orig.pkts, 1);
		assert_int_equal(r->resp.pkts, 1);
	}
	fx_free(f);
}

static void test_ipv6_handshake_s1(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv6(6);
	pkt(f, &c, T0, A2B, SYN, 7, 0, 0);
	pkt(f, &c, T0 + 1000, B2A, SYN | ACK, 9, 8, 0);
	pkt(f, &c, T0 + 2000, A2B, ACK, 8, 10, 0);
	assert_int_equal(rc_flow_table_active(f->t), 1);
	rc_flow_table_flush(f->t);
	const struct rc_flow_record *r = &f->sink.rec[0];
	assert_int_equal(r->l3, RC_L3_IPV6);
	addr_is(r->orig_h, r->l3, "2001:db8::2"); /* the client, though it sorts after the server */
	addr_is(r->resp_h, r->l3, "2001:db8::1");
	assert_int_equal(r->orig_p, 40000);
	assert_int_equal(r->resp_p, 443);
	assert_string_equal(r->conn_state, "S1");
	assert_string_equal(r->history, "ShA");
	assert_int_equal(r->orig.ip_bytes, 2 * 60);
	assert_int_equal(r->end_reason, RC_FLOW_END_EOF);
	fx_free(f);
}

static void test_originator_first_sender(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv4(6);
	/* Midstream: the server speaks first, so it is the originator (as in Zeek, without flips).
	 */
	pkt(f, &c, T0, B2A, PSH | ACK, 1000, 2000, 50);
	pkt(f, &c, T0 + 1, A2B, ACK, 2000, 1050, 0);
	rc_flow_table_flush(f->t);
	const struct rc_flow_record *r = &f->sink.rec[0];
	addr_is(r->orig_h, r->l3, "10.0.0.2");
	assert_int_equal(r->orig_p, 80);
	assert_int_equal(r->resp_p, 40000);
	assert_string_equal(r->conn_state, "OTH");
	assert_string_equal(r->history, "Da");
	assert_int_equal(r->orig.bytes, 50);
	fx_free(f);
}

static void test_originator_flipped_on_syn_ack(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv4(6);
	pkt(f, &c, T0, B2A, SYN | ACK, 500, 101, 0);
	pkt(f, &c, T0 + 1, A2B, ACK, 101, 501, 0);
	rc_flow_table_flush(f->t);
	const struct rc_flow_record *r = &f->sink.rec[0];
	addr_is(r->orig_h, r->l3, "10.0.0.1"); /* the receiver of the SYN-ACK */
	assert_int_equal(r->orig_p, 40000);
	assert_string_equal(r->history, "^hA");
	assert_string_equal(r->conn_state, "S1");
	assert_int_equal(r->orig.pkts, 1);
	assert_int_equal(r->resp.pkts, 1);
	assert_int_equal(r->resp.tcp_flags, SYN | ACK);
	fx_free(f);
}

/* Run packets on a fresh table, flush, and check the one record's conn_state and history. */
struct step {
	int dir;
	uint8_t flags;
	uint32_t seq, ack, len;
};

static void check_case(const struct step *s, int n, const char *state, const char *history)
{
	struct fx *f = fx_new(0);
	struct conv c = conv4(6);
	for (int i = 0; i < n; i++)
		pkt(f, &c, T0 + (uint64_t)i * 1000, s[i].dir, s[i].flags, s[i].seq, s[i].ack,
		    s[i].len);
	rc_flow_table_flush(f->t);
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.rec[0].conn_state, state);
	assert_string_equal(f->sink.rec[0].history, history);
	fx_free(f);
}

#define CASE(steps, state, history) \
	check_case(steps, (int)(sizeof(steps) / sizeof(steps[0])), state, history)

static void test_conn_states(void **state)
{
	(void)state;
	const struct step s0[] = {{A2B, SYN, 100, 0, 0}};
	CASE(s0, "S0", "S");
	const struct step rej[] = {{A2B, SYN, 100, 0, 0}, {B2A, RST | ACK, 0, 101, 0}};
	CASE(rej, "REJ", "Sr");
	const struct step rsto[] = {{A2B, SYN, 100, 0, 0},
				    {B2A, SYN | ACK, 500, 101, 0},
				    {A2B, ACK, 101, 501, 0},
				    {A2B, PSH | ACK, 101, 501, 5},
				    {A2B, RST | ACK, 106, 501, 0}};
	CASE(rsto, "RSTO", "ShADR");
	const struct step rstr[] = {{A2B, SYN, 100, 0, 0},
				    {B2A, SYN | ACK, 500, 101, 0},
				    {A2B, ACK, 101, 501, 0},
				    {A2B, PSH | ACK, 101, 501, 5},
				    {B2A, RST, 501, 0, 0}};
	CASE(rstr, "RSTR", "ShADr");
	const struct step rstos0[] = {{A2B, SYN, 100, 0, 0}, {A2B, RST, 101, 0, 0}};
	CASE(rstos0, "RSTOS0", "SR");
	const struct step rstrh[] = {{B2A, SYN | ACK, 500, 101, 0}, {B2A, RST, 501, 0, 0}};
	CASE(rstrh, "RSTRH", "^hr");
	const struct step oth[] = {{A2B, PSH | ACK, 100, 500, 10}, {B2A, ACK, 500, 110, 0}};
	CASE(oth, "OTH", "Da");
	const struct step sh_one[] = {{A2B, SYN | FIN, 100, 0, 0}};
	CASE(sh_one, "SH", "Q");
	const struct step sh[] = {{A2B, SYN, 100, 0, 0}, {A2B, FIN, 101, 0, 0}};
	CASE(sh, "SH", "SF");
	const struct step shr[] = {{B2A, SYN | ACK, 500, 101, 0}, {B2A, FIN | ACK, 501, 101, 0}};
	CASE(shr, "SHR", "^hf");
	const struct step s2[] = {{A2B, SYN, 100, 0, 0},
				  {B2A, SYN | ACK, 500, 101, 0},
				  {A2B, ACK, 101, 501, 0},
				  {A2B, FIN | ACK, 101, 501, 0}};
	CASE(s2, "S2", "ShAF");
	const struct step s3[] = {{A2B, SYN, 100, 0, 0},
				  {B2A, SYN | ACK, 500, 101, 0},
				  {A2B, ACK, 101, 501, 0},
				  {B2A, FIN | ACK, 501, 101, 0}};
	CASE(s3, "S3", "ShAf");
	/* Retransmitted payload (T) and a zero window from the responder (w). */
	const struct step tw[] = {{A2B, SYN, 100, 0, 0},
				  {B2A, SYN | ACK, 500, 101, 0},
				  {A2B, ACK, 101, 501, 0},
				  {A2B, PSH | ACK, 101, 501, 10},
				  {A2B, PSH | ACK, 101, 501, 10}};
	CASE(tw, "S1", "ShADT");
}

static void test_zero_window(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv4(6);
	struct rc_decoded d;
	pkt(f, &c, T0, A2B, SYN, 100, 0, 0);
	pkt(f, &c, T0 + 1, B2A, SYN | ACK, 500, 101, 0);
	pkt(f, &c, T0 + 2, A2B, PSH | ACK, 101, 501, 10);
	decoded(&c, B2A, ACK, 501, 111, 0, &d);
	d.window = 0;
	feed(f, T0 + 3, &d);
	feed(f, T0 + 4, &d); /* a second zero window: W is scaled (1st, 10th, ...) as in Zeek */
	rc_flow_table_flush(f->t);
	assert_string_equal(f->sink.rec[0].history, "ShDaw");
	fx_free(f);
}

static void test_port_reuse(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv4(6);
	uint64_t last = full_conversation(f, &c, T0);

	pkt(f, &c, last + SEC, A2B, SYN, 9000, 0, 0); /* new ISN on the same tuple */
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.rec[0].end_reason, RC_FLOW_END_REUSED);
	assert_string_equal(f->sink.rec[0].conn_state, "SF");
	assert_int_equal(ctr(f, RC_CTR_FLOW_ENDED_REUSED), 1);
	assert_int_equal(ctr(f, RC_CTR_FLOW_CREATED), 2);
	assert_int_equal(rc_flow_table_active(f->t), 1);

	rc_flow_table_flush(f->t);
	assert_int_equal(f->sink.n, 2);
	const struct rc_flow_record *r = &f->sink.rec[1];
	assert_string_equal(r->conn_state, "S0");
	assert_string_equal(r->history, "S");
	assert_int_equal(r->ts_ns, last + SEC);
	assert_int_equal(r->orig.pkts, 1);
	assert_string_not_equal(r->uid, f->sink.rec[0].uid);
	fx_free(f);
}

static void test_syn_retransmit_after_rst_is_not_reuse(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv4(6);
	pkt(f, &c, T0, A2B, SYN, 100, 0, 0);
	pkt(f, &c, T0 + 1, B2A, RST | ACK, 0, 101, 0);
	pkt(f, &c, T0 + 2, A2B, SYN, 100, 0, 0); /* the same SYN again */
	assert_int_equal(ctr(f, RC_CTR_FLOW_CREATED), 1);
	pkt(f, &c, T0 + 3, B2A, SYN, 700, 0, 0); /* a new SYN, from the other side */
	assert_int_equal(ctr(f, RC_CTR_FLOW_CREATED), 2);
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.rec[0].conn_state, "REJ");
	rc_flow_table_flush(f->t);
	addr_is(f->sink.rec[1].orig_h, RC_L3_IPV4, "10.0.0.2"); /* the new SYN's sender */
	fx_free(f);
}

static void test_udp_idle_timeout_on_packet(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv u = conv4(17), other = conv4(17);
	other.ap = 1234;
	pkt(f, &u, T0, A2B, 0, 0, 0, 10);
	pkt(f, &other, T0 + 60 * SEC, A2B, 0, 0, 0, 10); /* exactly the timeout: not yet */
	assert_int_equal(f->sink.n, 0);
	pkt(f, &other, T0 + 60 * SEC + 1, A2B, 0, 0, 0, 10);
	assert_int_equal(f->sink.n, 1);
	assert_int_equal(f->sink.rec[0].end_reason, RC_FLOW_END_IDLE);
	assert_int_equal(f->sink.rec[0].orig_p, 40000);
	assert_int_equal(ctr(f, RC_CTR_FLOW_ENDED_IDLE), 1);
	assert_int_equal(rc_flow_table_active(f->t), 1);
	fx_free(f);
}

static void test_expire_per_state(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv syn = conv4(6), est = conv4(6), icmp = conv4(1);
	est.ap = 40001;
	icmp.ap = 8; /* echo request */
	icmp.bp = 0;
	pkt(f, &syn, T0, A2B, SYN, 1, 0, 0);
	pkt(f, &est, T0, A2B, SYN, 1, 0, 0);
	pkt(f, &est, T0, B2A, SYN | ACK, 1, 2, 0);
	pkt(f, &est, T0, A2B, ACK, 2, 2, 0);
	pkt(f, &icmp, T0, A2B, 0, 0, 0, 56);

	rc_flow_table_expire(f->t, T0 + 30 * SEC + 1); /* the attempt only */
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.rec[0].conn_state, "S0");
	assert_int_equal(f->sink.rec[0].end_reason, RC_FLOW_END_IDLE);
	rc_flow_table_expire(f->t, T0 + 60 * SEC + 1); /* then ICMP */
	assert_int_equal(f->sink.n, 2);
	assert_int_equal(f->sink.rec[1].proto, 1);
	rc_flow_table_expire(f->t, T0 + 300 * SEC);
	assert_int_equal(f->sink.n, 2);
	rc_flow_table_expire(f->t, T0 + 300 * SEC + 1); /* established: Zeek's 5 minutes */
	assert_int_equal(f->sink.n, 3);
	assert_string_equal(f->sink.rec[2].conn_state, "S1");
	assert_int_equal(ctr(f, RC_CTR_FLOW_ENDED_IDLE), 3);
	fx_free(f);
}

static void test_icmp_request_reply_one_flow(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv req = conv4(1), rep = conv4(1);
	req.ap = 8; /* the decoder puts the type in sport and the code in dport */
	req.bp = 0;
	rep.ap = 8; /* unused: B2A takes bp/ap */
	rep.bp = 0;
	pkt(f, &req, T0, A2B, 0, 0, 0, 56);
	struct rc_decoded d;
	decoded(&rep, B2A, 0, 0, 0, 56, &d);
	d.sport = 0; /* echo reply, code 0 */
	d.dport = 0;
	feed(f, T0 + 1, &d);
	assert_int_equal(rc_flow_table_active(f->t), 1);

	struct conv v6 = conv6(58);
	v6.ap = 128;
	v6.bp = 0;
	pkt(f, &v6, T0 + 2, A2B, 0, 0, 0, 16);
	decoded(&v6, B2A, 0, 0, 0, 16, &d);
	d.sport = 129;
	d.dport = 0;
	feed(f, T0 + 3, &d);
	assert_int_equal(rc_flow_table_active(f->t), 2);

	rc_flow_table_flush(f->t);
	for (int i = 0; i < 2; i++) {
		const struct rc_flow_record *r = &f->sink.rec[i];
		assert_int_equal(r->orig.pkts, 1);
		assert_int_equal(r->resp.pkts, 1);
		assert_string_equal(r->conn_state, "OTH");
		assert_string_equal(r->history, "");
	}
	assert_int_equal(f->sink.rec[0].orig_p, 8);
	assert_int_equal(f->sink.rec[0].resp_p, 0);
	assert_int_equal(f->sink.rec[1].orig_p, 128);
	assert_int_equal(f->sink.rec[1].resp_p, 129);
	fx_free(f);
}

static void test_fragments(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv4(17);
	struct rc_decoded d;

	decoded(&c, A2B, 0, 0, 0, 1472, &d); /* first fragment: UDP header, ports */
	d.is_fragment = d.is_first_fragment = true;
	d.frag_id = 77;
	d.ip_len = 1500;
	feed(f, T0, &d);

	decoded(&c, A2B, 0, 0, 0, 528, &d); /* the rest: no ports */
	d.l4_ok = false;
	d.sport = d.dport = 0;
	d.is_fragment = true;
	d.frag_id = 77;
	d.frag_offset = 1480;
	d.ip_len = 548;
	feed(f, T0 + 1, &d);
	assert_int_equal(ctr(f, RC_CTR_FLOW_FRAGMENTS_JOINED), 1);

	d.frag_id = 78; /* its first fragment never came */
	feed(f, T0 + 2, &d);
	assert_int_equal(ctr(f, RC_CTR_FLOW_NO_PORTS_FRAGMENT), 1);

	decoded(&c, A2B, 0, 0, 0, 0, &d); /* a UDP header that did not decode */
	d.l4_ok = false;
	feed(f, T0 + 3, &d);
	assert_int_equal(ctr(f, RC_CTR_FLOW_NO_PORTS_L4), 1);

	struct conv gre = conv4(47); /* no ports: one flow per address pair */
	decoded(&gre, A2B, 0, 0, 0, 100, &d);
	d.l4_ok = false;
	d.sport = d.dport = 0;
	feed(f, T0 + 4, &d);

	assert_int_equal(ctr(f, RC_CTR_FLOW_PACKETS), 3);
	assert_int_equal(ctr(f, RC_CTR_FLOW_PACKETS) + ctr(f, RC_CTR_FLOW_NO_PORTS_FRAGMENT) +
				 ctr(f, RC_CTR_FLOW_NO_PORTS_L4) + ctr(f, RC_CTR_FLOW_ALLOC_FAILED),
			 5);
	rc_flow_table_flush(f->t);
	assert_int_equal(f->sink.n, 2);
	const struct rc_flow_record *r = &f->sink.rec[0];
	assert_int_equal(r->proto, 17);
	assert_int_equal(r->orig.pkts, 2);
	assert_int_equal(r->orig.bytes, 1472 + 528);
	assert_int_equal(r->orig.ip_bytes, 1500 + 548);
	assert_string_equal(r->history, "D");
	assert_int_equal(f->sink.rec[1].proto, 47);
	assert_string_equal(f->sink.rec[1].conn_state, "OTH");
	fx_free(f);
}

static void test_memcap_evicts_oldest(void **state)
{
	(void)state;
	const uint64_t memcap = 64 * 1024;
	struct fx *f = fx_new(memcap);
	struct conv c = conv4(17);
	const int n = 1000;

	for (int i = 0; i < n; i++) {
		c.ap = (uint16_t)(1000 + i);
		pkt(f, &c, T0 + (uint64_t)i * 1000, A2B, 0, 0, 0, 10);
		if (i == 5) { /* flow 0 active again: now flow 1 is the oldest */
			c.ap = 1000;
			pkt(f, &c, T0 + (uint64_t)i * 1000 + 1, B2A, 0, 0, 0, 10);
		}
	}
	size_t active = rc_flow_table_active(f->t);
	assert_true(active > 16 && active < (size_t)n);
	assert_true(rc_flow_table_memory(f->t) <= memcap);
	assert_int_equal(ctr(f, RC_CTR_FLOW_MEMORY), rc_flow_table_memory(f->t));
	assert_int_equal(ctr(f, RC_CTR_FLOW_ACTIVE), active);
	assert_int_equal(f->sink.n, n - (int)active);
	assert_int_equal(ctr(f, RC_CTR_FLOW_MEMCAP_EVICTIONS), n - active);
	assert_int_equal(ctr(f, RC_CTR_FLOW_ENDED_EVICTED), n - active);
	assert_int_equal(ctr(f, RC_CTR_FLOW_CREATED), n);

	/* Least recently active first: 1, 2, 3, 4, 5, 0, 6, 7 ... */
	int want[8] = {1, 2, 3, 4, 5, 0, 6, 7};
	for (int i = 0; i < 8 && i < f->sink.n; i++) {
		assert_int_equal(f->sink.rec[i].end_reason, RC_FLOW_END_EVICTED);
		assert_int_equal(f->sink.rec[i].orig_p, 1000 + want[i]);
	}
	rc_flow_table_flush(f->t);
	assert_int_equal(f->sink.n, n);
	assert_int_equal(ctr(f, RC_CTR_FLOW_ENDED_EOF), active);
	fx_free(f);
}

static void test_memcap_minimum(void **state)
{
	(void)state;
	struct rc_flow_table *t = (void *)1;
	struct rc_flow_config cfg;
	struct rc_ctrs ctrs = {{0}};
	struct sink *s = calloc(1, sizeof(*s));
	rc_flow_config_default(&cfg);
	cfg.memcap = 64 * 1024 - 1;
	assert_int_equal(rc_flow_table_new(&t, &cfg, &ctrs, collect, s), -EINVAL);
	assert_null(t);
	cfg.memcap = 64 * 1024;
	assert_int_equal(rc_flow_table_new(&t, &cfg, &ctrs, collect, s), 0);
	assert_true(rc_flow_table_memory(t) <= cfg.memcap);
	assert_int_equal(rc_flow_table_active(t), 0);
	rc_flow_table_free(t);
	rc_flow_table_free(NULL);
	free(s);
}

static void test_defaults(void **state)
{
	(void)state;
	struct rc_flow_config cfg;
	rc_flow_config_default(&cfg);
	assert_int_equal(cfg.memcap, 128ull << 20);
	assert_int_equal(cfg.timeout_ns[RC_FLOW_TO_TCP_ATTEMPT], 30 * SEC);
	assert_int_equal(cfg.timeout_ns[RC_FLOW_TO_TCP_ESTABLISHED], 300 * SEC);
	assert_int_equal(cfg.timeout_ns[RC_FLOW_TO_TCP_CLOSED], 5 * SEC);
	assert_int_equal(cfg.timeout_ns[RC_FLOW_TO_UDP], 60 * SEC);
	assert_int_equal(cfg.timeout_ns[RC_FLOW_TO_ICMP], 60 * SEC);
	assert_int_equal(cfg.timeout_ns[RC_FLOW_TO_OTHER], 60 * SEC);
}

static void test_flush_empties(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct conv c = conv4(17);
	size_t empty = rc_flow_table_memory(f->t);
	for (int i = 0; i < 10; i++) {
		c.ap = (uint16_t)(2000 + i);
		pkt(f, &c, T0 + (uint64_t)i, A2B, 0, 0, 0, 1);
	}
	assert_true(rc_flow_table_memory(f->t) > empty);
	rc_flow_table_flush(f->t);
	assert_int_equal(f->sink.n, 10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(f->sink.rec[i].end_reason, RC_FLOW_END_EOF);
		assert_int_equal(f->sink.rec[i].orig_p, 2000 + i); /* least recently active first */
	}
	assert_int_equal(rc_flow_table_active(f->t), 0);
	assert_int_equal(rc_flow_table_memory(f->t), empty);
	assert_int_equal(ctr(f, RC_CTR_FLOW_ENDED_EOF), 10);
	rc_flow_table_flush(f->t); /* twice is harmless */
	assert_int_equal(f->sink.n, 10);
	fx_free(f);
}

static void test_uid_deterministic(void **state)
{
	(void)state;
	struct fx *a = fx_new(0), *b = fx_new(0);
	struct conv c = conv4(6), u = conv4(17);
	full_conversation(a, &c, T0);
	pkt(a, &u, T0 + 5, A2B, 0, 0, 0, 1);
	full_conversation(b, &c, T0);
	pkt(b, &u, T0 + 5, A2B, 0, 0, 0, 1);
	rc_flow_table_flush(a->t);
	rc_flow_table_flush(b->t);
	assert_int_equal(a->sink.n, 2);
	assert_int_equal(b->sink.n, 2);
	for (int i = 0; i < 2; i++) {
		const char *uid = a->sink.rec[i].uid;
		assert_string_equal(uid, b->sink.rec[i].uid);
		assert_int_equal(strlen(uid), 18);
		assert_int_equal(uid[0], 'C');
		for (const char *p = uid + 1; *p; p++)
			assert_true((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
				    (*p >= 'a' && *p <= 'z'));
	}
	assert_string_not_equal(a->sink.rec[0].uid, a->sink.rec[1].uid);
	fx_free(a);
	fx_free(b);
}

static struct rc_flow_record known_record(void)
{
	struct rc_flow_record r;
	memset(&r, 0, sizeof(r));
	r.ts_ns = 1695936918482490123ull;
	r.last_ns = r.ts_ns + 1234567890ull;
	r.ts_digits = 6;
	strcpy(r.uid, "CHhAvVGS1DHFjwGM9a");
	r.l3 = RC_L3_IPV4;
	r.proto = 6;
	inet_pton(AF_INET, "192.168.1.10", r.orig_h);
	inet_pton(AF_INET, "93.184.216.34", r.resp_h);
	r.orig_p = 51234;
	r.resp_p = 443;
	r.orig = (struct rc_flow_dir){.pkts = 5, .bytes = 10, .ip_bytes = 210, .wire_bytes = 280};
	r.resp = (struct rc_flow_dir){.pkts = 4, .bytes = 20, .ip_bytes = 180, .wire_bytes = 236};
	strcpy(r.conn_state, "SF");
	strcpy(r.history, "ShADadFf");
	r.end_reason = RC_FLOW_END_CLOSED;
	return r;
}

static void test_json_exact(void **state)
{
	(void)state;
	struct rc_flow_record r = known_record();
	char buf[1024];
	size_t n = rc_flow_record_json(&r, buf, sizeof(buf));
	const char *want =
		"{\"ts\":1695936918.482490,\"uid\":\"CHhAvVGS1DHFjwGM9a\",\"proto\":\"tcp\","
		"\"orig_h\":\"192.168.1.10\",\"orig_p\":51234,\"resp_h\":\"93.184.216.34\","
		"\"resp_p\":443,\"duration\":1.234567,\"orig_pkts\":5,\"orig_bytes\":10,"
		"\"orig_ip_bytes\":210,\"resp_pkts\":4,\"resp_bytes\":20,\"resp_ip_bytes\":180,"
		"\"conn_state\":\"SF\",\"history\":\"ShADadFf\",\"end_reason\":\"closed\","
		"\"orig_wire_bytes\":280,\"resp_wire_bytes\":236}\n";
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));

	/* IPv6, another protocol, VLANs, nanoseconds, no duration. */
	r.l3 = RC_L3_IPV6;
	r.proto = 47;
	inet_pton(AF_INET6, "2001:db8::1", r.orig_h);
	inet_pton(AF_INET6, "fe80::1:2", r.resp_h);
	r.orig_p = r.resp_p = 0;
	r.ts_digits = 9;
	r.last_ns = r.ts_ns;
	r.vlan_count = 2;
	r.vlan[0] = 100;
	r.vlan[1] = 7;
	strcpy(r.conn_state, "OTH");
	r.history[0] = '\0';
	r.end_reason = RC_FLOW_END_EOF;
	n = rc_flow_record_json(&r, buf, sizeof(buf));
	want = "{\"ts\":1695936918.482490123,\"uid\":\"CHhAvVGS1DHFjwGM9a\",\"proto\":\"47\","
	       "\"orig_h\":\"2001:db8::1\",\"orig_p\":0,\"resp_h\":\"fe80::1:2\",\"resp_p\":0,"
	       "\"duration\":0.000000000,\"orig_pkts\":5,\"orig_bytes\":10,\"orig_ip_bytes\":210,"
	       "\"resp_pkts\":4,\"resp_bytes\":20,\"resp_ip_bytes\":180,\"conn_state\":\"OTH\","
	       "\"history\":\"\",\"vlan\":[100,7],\"end_reason\":\"eof\",\"orig_wire_bytes\":280,"
	       "\"resp_wire_bytes\":236}\n";
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));

	r.proto = 58;
	rc_flow_record_json(&r, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"proto\":\"icmp\""));
	r.proto = 17;
	rc_flow_record_json(&r, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"proto\":\"udp\""));

	/* Too small a buffer: nothing half-written. */
	assert_int_equal(rc_flow_record_json(&r, buf, 40), 0);
	assert_string_equal(buf, "");
}

static void test_json_worst_case_fits(void **state)
{
	(void)state;
	struct rc_flow_record r = known_record();
	char buf[1024];
	r.l3 = RC_L3_IPV6;
	memset(r.orig_h, 0xff, 16);
	memset(r.resp_h, 0xfe, 16);
	r.proto = 255;
	r.ts_ns = 0;
	r.last_ns = UINT64_MAX;
	r.ts_digits = 9;
	r.orig_p = r.resp_p = 65535;
	r.orig = r.resp = (struct rc_flow_dir){UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, 0};
	strcpy(r.conn_state, "RSTOS0");
	memset(r.history, 'Q', sizeof(r.history) - 1);
	r.history[sizeof(r.history) - 1] = '\0';
	r.vlan_count = 2;
	r.vlan[0] = r.vlan[1] = 4095;
	r.end_reason = RC_FLOW_END_EVICTED;
	size_t n = rc_flow_record_json(&r, buf, sizeof(buf));
	assert_true(n > 0 && n < 768); /* well inside the 1024 the contract promises */
	assert_int_equal(buf[n - 1], '\n');
}

/* rc_flow_table_top: the n flows with the most wire bytes, most first, whatever their state. */
static void test_top_flows(void **state)
{
	(void)state;
	struct fx *f = fx_new(0);
	struct rc_flow_record top[8];
	uint64_t want[50];

	assert_int_equal(rc_flow_table_top(f->t, top, 8), 0);
	/* 50 UDP flows; flow i gets a packet count from a scrambled order, sizes differ too */
	for (int i = 0; i < 50; i++) {
		struct conv c = conv4(17);
		c.ap = (uint16_t)(1000 + i);
		int npkts = 1 + (i * 37) % 50;
		want[i] = 0;
		for (int k = 0; k < npkts; k++) {
			pkt(f, &c, 1000000000ull + (uint64_t)(i * 100 + k), A2B, 0, 0, 0,
			    (uint32_t)(10 + i));
			want[i] += 20 + 8 + 10 + (uint64_t)i + 14;
		}
	}
	size_t n = rc_flow_table_top(f->t, top, 8);
	assert_int_equal(n, 8);
	for (size_t k = 0; k < n; k++) {
		uint64_t bytes = top[k].orig.wire_bytes + top[k].resp.wire_bytes;
		assert_int_equal(bytes, want[top[k].orig_p - 1000]);
		if (k)
			assert_true(bytes <=
				    top[k - 1].orig.wire_bytes + top[k - 1].resp.wire_bytes);
		/* nothing left out weighs more than the last one kept */
		for (int i = 0; i < 50; i++) {
			bool kept = false;
			for (size_t j = 0; j < n; j++)
				kept |= top[j].orig_p == 1000 + i;
			if (!kept)
				assert_true(want[i] <= top[n - 1].orig.wire_bytes);
		}
	}
	/* fewer flows than asked: all of them, sorted */
	struct rc_flow_record all[64];
	assert_int_equal(rc_flow_table_top(f->t, all, 64), 50);
	for (int k = 1; k < 50; k++)
		assert_true(all[k].orig.wire_bytes <= all[k - 1].orig.wire_bytes);
	assert_int_equal(rc_flow_table_active(f->t), 50); /* read only */
	fx_free(f);
}

static void test_end_names(void **state)
{
	(void)state;
	assert_string_equal(rc_flow_end_name(RC_FLOW_END_CLOSED), "closed");
	assert_string_equal(rc_flow_end_name(RC_FLOW_END_IDLE), "idle");
	assert_string_equal(rc_flow_end_name(RC_FLOW_END_EVICTED), "evicted");
	assert_string_equal(rc_flow_end_name(RC_FLOW_END_EOF), "eof");
	assert_string_equal(rc_flow_end_name(RC_FLOW_END_REUSED), "reused");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_sf_counts_and_history),
		cmocka_unit_test(test_top_flows),
		cmocka_unit_test(test_closed_retires_promptly),
		cmocka_unit_test(test_udp_symmetry),
		cmocka_unit_test(test_udp_one_way_is_s0),
		cmocka_unit_test(test_vlan_distinct_flows),
		cmocka_unit_test(test_ipv6_handshake_s1),
		cmocka_unit_test(test_originator_first_sender),
		cmocka_unit_test(test_originator_flipped_on_syn_ack),
		cmocka_unit_test(test_conn_states),
		cmocka_unit_test(test_zero_window),
		cmocka_unit_test(test_port_reuse),
		cmocka_unit_test(test_syn_retransmit_after_rst_is_not_reuse),
		cmocka_unit_test(test_udp_idle_timeout_on_packet),
		cmocka_unit_test(test_expire_per_state),
		cmocka_unit_test(test_icmp_request_reply_one_flow),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_memcap_evicts_oldest),
		cmocka_unit_test(test_memcap_minimum),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_flush_empties),
		cmocka_unit_test(test_uid_deterministic),
		cmocka_unit_test(test_json_exact),
		cmocka_unit_test(test_json_worst_case_fits),
		cmocka_unit_test(test_end_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
