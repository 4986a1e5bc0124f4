/*
 * Zeek-like TCP tracking for one flow: the per-endpoint state machine of Zeek's TCP session
 * adapter, its connection history letters, and its conn_state summary, all without reassembly.
 *
 * Followed from Zeek (so a conn.log and our records agree):
 *  - each end moves through INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET
 *    by the same rules (UpdateInactiveState, UpdateSYN_SentState, ...);
 *  - history: S/H (SYN, SYN-ACK), A (pure ACK), D (payload), F, R, I (FIN+RST), Q (other flag
 *    mixes), T (retransmitted payload), W (zero window); uppercase from the originator. A letter
 *    class is recorded once per end, except that S/H, F and R are recorded again when they come
 *    with a new (relative) sequence number, and T and W are recorded at the 1st, 10th, 100th...
 *    occurrence, exactly as Zeek does;
 *  - conn_state: Zeek's conn_state() function, with payload byte counts standing in for Zeek's
 *    sequence-space sizes.
 * Left out: the SYN/SYN-ACK reversal flip inside the state machine (the table flips once, when a
 * flow's first packet is a SYN-ACK), checksums (C), content gaps (G, needs reassembly).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ringcap/assert.h"
#include "flow_int.h"

#define TOO_LARGE_SEQ_DELTA 1048576 /* as Zeek: a SYN/RST this far off does not move last_seq */

void rc_flow_hist_add(struct rc_flow_hist *h, int role, char code)
{
	RC_ASSERT((code >= 'A' && code <= 'Z') || code == '^');
	if (h->len >= RC_FLOW_HIST_MAX)
		return;
	if (role == RC_FLOW_RESP && code != '^')
		code = (char)(code - 'A' + 'a');
	h->s[h->len++] = code;
	h->s[h->len] = '\0';
}

bool rc_flow_hist_check(struct rc_flow_hist *h, int role, uint32_t cls, char code)
{
	uint32_t bit = role == RC_FLOW_RESP ? cls << 16 : cls;

	if (h->seen & bit)
		return true;
	h->seen |= bit;
	rc_flow_hist_add(h, role, code);
	return false;
}

static int32_t seq_delta(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* Zeek's ScaledHistoryEntry with base 10: the letter at the 1st, 10th, 100th ... occurrence. */
static void scaled_entry(struct rc_flow_hist *h, int role, char code, uint32_t *cnt, uint32_t *next)
{
	uint32_t thresh = *next ? *next : 1;

	if (++*cnt == thresh) {
		rc_flow_hist_add(h, role, code);
		thresh = thresh <= UINT32_MAX / 10 ? thresh * 10 : UINT32_MAX;
	}
	*next = thresh;
}

static void set_state(struct rc_flow_tcp_end *ep, enum rc_tcp_end_state s)
{
	ep->prev_state = ep->state;
	ep->state = (uint8_t)s;
}

/* Zeek's init_endpoint: where an end's sequence space starts. */
static void init_endpoint(struct rc_flow_tcp_end *ep, bool syn, uint32_t seq, uint32_t seg_end)
{
	switch (ep->state) {
	case RC_TCP_INACTIVE:
		if (syn) {
			ep->start_seq = seq;
			ep->last_seq = seg_end;
		} else {
			/* Partial: number as if a SYN came just before, first packet not a dup. */
			ep->start_seq = seq - 1;
			ep->last_seq = seq;
		}
		break;
	case RC_TCP_SYN_SENT:
	case RC_TCP_SYN_ACK_SENT:
		if (syn && seq != ep->start_seq) {
			ep->start_seq = seq;
			ep->last_seq = seg_end;
		}
		break;
	case RC_TCP_ESTABLISHED:
	case RC_TCP_PARTIAL:
		if (syn) {
			ep->start_seq = seq;
			ep->last_seq = seg_end;
		}
		break;
	default:
		break;
	}
}

/* Zeek's update_history. rel is the sequence relative to the end's start. */
static void update_history(struct rc_flow_hist *h, struct rc_flow_tcp_end *ep, int role, uint8_t fl,
			   uint32_t rel, uint32_t len)
{
	int bits = !!(fl & RC_TCP_SYN) + !!(fl & RC_TCP_FIN) + !!(fl & RC_TCP_RST);

	if (bits > 1) {
		if ((fl & RC_TCP_FIN) && (fl & RC_TCP_RST))
			rc_flow_hist_check(h, role, RC_HIST_FIN_RST, 'I');
		else
			rc_flow_hist_check(h, role, RC_HIST_MULTI, 'Q');
	} else if (bits == 1) {
		if (fl & RC_TCP_SYN) {
			char code = (fl & RC_TCP_ACK) ? 'H' : 'S';

			if (rc_flow_hist_check(h, role, RC_HIST_SYN, code) && rel != ep->hist_syn)
				rc_flow_hist_add(h, role, code);
			ep->hist_syn = rel;
		}
		if (fl & RC_TCP_FIN) {
			/* A FIN's sequence is that after any data it carries. */
			if (rc_flow_hist_check(h, role, RC_HIST_FIN, 'F') &&
			    rel + len != ep->hist_fin)
				rc_flow_hist_add(h, role, 'F');
			ep->hist_fin = rel + len;
		}
		if (fl & RC_TCP_RST) {
			if (rc_flow_hist_check(h, role, RC_HIST_RST, 'R') && rel != ep->hist_rst)
				rc_flow_hist_add(h, role, 'R');
			ep->hist_rst = rel;
		}
	} else if (len) {
		rc_flow_hist_check(h, role, RC_HIST_DATA, 'D');
	} else if (fl & RC_TCP_ACK) {
		rc_flow_hist_check(h, role, RC_HIST_ACK, 'A');
	}
}

/* Zeek's update_last_seq: advance the end's high-water mark, or note a retransmission. */
static void update_last_seq(struct rc_flow_hist *h, struct rc_flow_tcp_end *ep, int role,
			    uint8_t fl, uint32_t seg_end, uint32_t len)
{
	int32_t delta = seq_delta(seg_end, ep->last_seq);

	if ((fl & (RC_TCP_SYN | RC_TCP_RST)) &&
	    (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA))
		return;
	if ((fl & RC_TCP_FIN) && ep->last_seq == ep->start_seq + 1)
		ep->last_seq = seg_end; /* only SYN and FIN seen: a > 2 GB connection */
	else if (ep->state == RC_TCP_RESET)
		return; /* no sequence number after a RST is trusted */
	else if (delta > 0)
		ep->last_seq = seg_end;
	else if (len > 0)
		scaled_entry(h, role, 'T', &ep->rxmit, &ep->rxmit_next);
}

static void update_inactive(struct rc_flow_tcp *tcp, struct rc_flow_tcp_end *ep,
			    struct rc_flow_tcp_end *peer, bool is_orig, uint8_t fl, uint32_t len)
{
	if (fl & RC_TCP_SYN) {
		if (is_orig) {
			set_state(ep, (fl & RC_TCP_ACK) ? RC_TCP_SYN_ACK_SENT : RC_TCP_SYN_SENT);
		} else {
			if (peer->state == RC_TCP_SYN_SENT)
				set_state(peer, RC_TCP_ESTABLISHED);
			set_state(ep, RC_TCP_ESTABLISHED);
		}
	}
	if (fl & RC_TCP_FIN)
		set_state(ep, RC_TCP_CLOSED);
	if (fl & RC_TCP_RST)
		set_state(ep, RC_TCP_RESET);

	if (ep->state != RC_TCP_INACTIVE)
		return;
	/* No control flag moved it. */
	if (!is_orig && len == 0 && tcp->end[RC_FLOW_ORIG].state == RC_TCP_SYN_SENT)
		; /* an ACK of the SYN ahead of the SYN-ACK: not a partial connection */
	else if ((fl & RC_TCP_ACK) && peer->state == RC_TCP_ESTABLISHED)
		set_state(ep, RC_TCP_ESTABLISHED); /* missed the SYN, saw SYN-ACK then ACK */
	else
		set_state(ep, RC_TCP_PARTIAL);
}

static void update_syn_sent(struct rc_flow_tcp_end *ep, uint8_t fl)
{
	if (fl & RC_TCP_FIN)
		set_state(ep, RC_TCP_CLOSED);
	if (fl & RC_TCP_RST)
		set_state(ep, RC_TCP_RESET);
}

static void update_established(struct rc_flow_tcp_end *ep, struct rc_flow_tcp_end *peer, uint8_t fl)
{
	if ((fl & RC_TCP_SYN) && ep->state == RC_TCP_PARTIAL && peer->state == RC_TCP_INACTIVE &&
	    !(fl & RC_TCP_ACK))
		set_state(ep, RC_TCP_SYN_SENT);
	if ((fl & RC_TCP_FIN) && !(fl & RC_TCP_RST)) {
		set_state(ep, RC_TCP_CLOSED);
		/* The peer's FIN then RST was a normal close after all. */
		if (peer->state == RC_TCP_RESET && peer->prev_state == RC_TCP_CLOSED)
			set_state(peer, RC_TCP_CLOSED);
	}
	if (fl & RC_TCP_RST)
		set_state(ep, RC_TCP_RESET);
}

static void update_closed(struct rc_flow_tcp_end *ep, struct rc_flow_tcp_end *peer, uint8_t fl)
{
	/* After a FIN exchange, a RST does not change how the connection ended. */
	if ((fl & RC_TCP_RST) && peer->state != RC_TCP_CLOSED)
		set_state(ep, RC_TCP_RESET);
}

void rc_flow_tcp_update(struct rc_flow_tcp *tcp, struct rc_flow_hist *h, int role,
			const struct rc_decoded *d)
{
	struct rc_flow_tcp_end *ep = &tcp->end[role];
	struct rc_flow_tcp_end *peer = &tcp->end[!role];
	uint8_t fl = d->tcp_flags;
	bool syn = fl & RC_TCP_SYN;
	uint32_t len = d->payload_len;
	uint32_t seg_end = d->seq + len + (syn ? 1 : 0) + ((fl & RC_TCP_FIN) ? 1 : 0);

	RC_ASSERT(role == RC_FLOW_ORIG || role == RC_FLOW_RESP);
	RC_ASSERT(d->l4_ok && d->ip_proto == 6);

	init_endpoint(ep, syn, d->seq, seg_end);
	if (syn)
		ep->syn_seen = true;
	update_history(h, ep, role, fl, d->seq - ep->start_seq, len);

	/* Zeek's update_window: zero windows matter unless with/after a RST or after the peer's
	 * FIN. */
	if (d->window == 0 && !(fl & RC_TCP_RST) && peer->state != RC_TCP_CLOSED &&
	    ep->state != RC_TCP_RESET)
		scaled_entry(h, role, 'W', &ep->win0, &ep->win0_next);

	update_last_seq(h, ep, role, fl, seg_end, len);

	switch (ep->state) {
	case RC_TCP_INACTIVE:
		update_inactive(tcp, ep, peer, role == RC_FLOW_ORIG, fl, len);
		break;
	case RC_TCP_SYN_SENT:
	case RC_TCP_SYN_ACK_SENT:
		update_syn_sent(ep, fl);
		break;
	case RC_TCP_PARTIAL:
	case RC_TCP_ESTABLISHED:
		update_established(ep, peer, fl);
		break;
	case RC_TCP_CLOSED:
		update_closed(ep, peer, fl);
		break;
	case RC_TCP_RESET:
		break;
	default:
		RC_WRONG("bad TCP endpoint state");
	}
}

bool rc_flow_tcp_closed(const struct rc_flow_tcp *tcp)
{
	uint8_t os = tcp->end[RC_FLOW_ORIG].state, rs = tcp->end[RC_FLOW_RESP].state;

	return os == RC_TCP_RESET || rs == RC_TCP_RESET ||
	       (os == RC_TCP_CLOSED && rs == RC_TCP_CLOSED);
}

bool rc_flow_tcp_attempt(const struct rc_flow_tcp *tcp)
{
	return tcp->end[RC_FLOW_ORIG].syn_seen && tcp->end[RC_FLOW_RESP].state == RC_TCP_INACTIVE;
}

bool rc_flow_tcp_is_reuse(const struct rc_flow_tcp *tcp, int role, const struct rc_decoded *d)
{
	const struct rc_flow_tcp_end *ep = &tcp->end[role];

	if (!d->l4_ok || (d->tcp_flags & (RC_TCP_SYN | RC_TCP_ACK)) != RC_TCP_SYN)
		return false;
	if (!rc_flow_tcp_closed(tcp))
		return false;
	/* The same SYN again is a retransmission, not a new connection. */
	return !ep->syn_seen || d->seq != ep->start_seq;
}

/* Zeek's /^\^?S[^HAFGIQ]*R.*$/: a SYN, then a RST before any sign of the responder. */
static bool syn_then_rst(const char *s)
{
	if (*s == '^')
		s++;
	if (*s++ != 'S')
		return false;
	for (; *s && !strchr("HAFGIQ", *s); s++)
		if (*s == 'R')
			return true;
	return false;
}

const char *rc_flow_tcp_conn_state(const struct rc_flow_tcp *tcp, const struct rc_flow_hist *h,
				   uint64_t orig_bytes, uint64_t resp_bytes)
{
	uint8_t os = tcp->end[RC_FLOW_ORIG].state, rs = tcp->end[RC_FLOW_RESP].state;
	bool o_inactive = os == RC_TCP_INACTIVE || os == RC_TCP_PARTIAL;
	bool r_inactive = rs == RC_TCP_INACTIVE || rs == RC_TCP_PARTIAL;

	if (rs == RC_TCP_RESET) {
		if (os == RC_TCP_SYN_SENT || os == RC_TCP_SYN_ACK_SENT ||
		    (os == RC_TCP_RESET && orig_bytes == 0 && resp_bytes == 0))
			return "REJ";
		return o_inactive ? "RSTRH" : "RSTR";
	}
	if (os == RC_TCP_RESET) {
		if (r_inactive)
			return syn_then_rst(h->s) ? "RSTOS0" : "OTH";
		return "RSTO";
	}
	if (rs == RC_TCP_CLOSED && os == RC_TCP_CLOSED)
		return "SF";
	if (os == RC_TCP_CLOSED)
		return r_inactive ? "SH" : "S2";
	if (rs == RC_TCP_CLOSED)
		return o_inactive ? "SHR" : "S3";
	if (os == RC_TCP_SYN_SENT && rs == RC_TCP_INACTIVE)
		return "S0";
	if (os == RC_TCP_ESTABLISHED && rs == RC_TCP_ESTABLISHED)
		return "S1";
	return "OTH";
}
