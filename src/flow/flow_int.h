/* Private to src/flow/: one flow entry, the history string and the TCP endpoint state. */
#ifndef RINGCAP_FLOW_INT_H
#define RINGCAP_FLOW_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringcap/decode.h"
#include "ringcap/flow.h"
#include "ringcap/reasm.h"

/* Roles within a flow: the originator and the responder. */
enum { RC_FLOW_ORIG = 0, RC_FLOW_RESP = 1 };

/*
 * The symmetric key: the two (address, port) ends in canonical order (lo <= hi by address, then
 * port), so both directions of a conversation build the same bytes. No padding: it is hashed and
 * compared as bytes, and every byte is written (unused VLAN slots are zero).
 */
struct rc_flow_key {
	uint8_t lo[16], hi[16];
	uint16_t lo_p, hi_p;
	uint16_t vlan[RC_MAX_VLAN];
	uint8_t vlan_count;
	uint8_t l3;
	uint8_t proto;
	uint8_t zero[5]; /* always 0: the key is compared and hashed as six 64-bit words */
};
_Static_assert(sizeof(struct rc_flow_key) == 48, "rc_flow_key must have no padding");

/*
 * Zeek's connection history: letters in order of first occurrence, uppercase for the originator.
 * `seen` has one bit per (letter class, role), as Zeek's hist_seen.
 */
#define RC_FLOW_HIST_MAX 31
struct rc_flow_hist {
	uint32_t seen;
	uint8_t len;
	char s[RC_FLOW_HIST_MAX + 1];
};

/* Letter classes (Zeek's HIST_*); the responder's bit is the class shifted by 16. */
enum {
	RC_HIST_SYN = 0x1, /* S or H */
	RC_HIST_FIN = 0x2,
	RC_HIST_RST = 0x4,
	RC_HIST_FIN_RST = 0x8, /* I */
	RC_HIST_MULTI = 0x10,  /* Q */
	RC_HIST_DATA = 0x20,
	RC_HIST_ACK = 0x40,
};

/* Append a letter (uppercase; lowercased for the responder). Silently stops when full. */
void rc_flow_hist_add(struct rc_flow_hist *h, int role, char code);

/* Add the letter unless its class was seen for this role. Returns true when it had been seen. */
bool rc_flow_hist_check(struct rc_flow_hist *h, int role, uint32_t cls, char code);

/* Zeek's TCP endpoint states (TCP_ENDPOINT_*). */
enum rc_tcp_end_state {
	RC_TCP_INACTIVE,
	RC_TCP_SYN_SENT,
	RC_TCP_SYN_ACK_SENT,
	RC_TCP_PARTIAL,
	RC_TCP_ESTABLISHED,
	RC_TCP_CLOSED,
	RC_TCP_RESET,
};

struct rc_flow_tcp_end {
	uint32_t start_seq; /* initial sequence (of the SYN, or one before the first byte seen) */
	uint32_t last_seq;  /* one past the highest sequence sent */
	uint32_t hist_syn, hist_fin, hist_rst; /* sequence of the last S/H, F, R letter */
	uint32_t rxmit, rxmit_next;	       /* retransmissions; the count that adds the next T */
	uint32_t win0, win0_next;	       /* zero windows; the count that adds the next W */
	uint8_t state, prev_state;	       /* enum rc_tcp_end_state */
	bool syn_seen;			       /* a SYN was sent from this end (seq in start_seq) */
};

struct rc_flow_tcp {
	struct rc_flow_tcp_end end[2]; /* RC_FLOW_ORIG, RC_FLOW_RESP */
};

/*
 * Advance the TCP state of a flow by one segment sent by `role` (d->l4_ok, proto TCP): Zeek's
 * endpoint state machine and history letters. Constant time.
 */
void rc_flow_tcp_update(struct rc_flow_tcp *tcp, struct rc_flow_hist *h, int role,
			const struct rc_decoded *d);

/* True once both ends sent a FIN or either sent an RST: the connection is over. */
bool rc_flow_tcp_closed(const struct rc_flow_tcp *tcp);

/* True while the responder has sent nothing and the originator sent a SYN (a connection attempt).
 */
bool rc_flow_tcp_attempt(const struct rc_flow_tcp *tcp);

/*
 * True when segment d (sent by `role`) opens a new connection on the tuple of this closed one: a
 * SYN without ACK that is not a retransmission of that end's earlier SYN.
 */
bool rc_flow_tcp_is_reuse(const struct rc_flow_tcp *tcp, int role, const struct rc_decoded *d);

/* Zeek's conn_state for TCP ("S0", "SF", "REJ", ...); bytes are the payload bytes per role. */
const char *rc_flow_tcp_conn_state(const struct rc_flow_tcp *tcp, const struct rc_flow_hist *h,
				   uint64_t orig_bytes, uint64_t resp_bytes);

/* One flow: the hash chain, the LRU list of its timeout class, key, counts and state. */
struct rc_flow {
	struct rc_flow *hnext;	     /* next in the hash bucket */
	struct rc_flow *prev, *next; /* neighbours in its timeout class's LRU list */
	uint64_t hash;		     /* XXH3 of key */
	struct rc_flow_key key;
	uint8_t orig_side; /* 0: key.lo is the originator, 1: key.hi is */
	uint8_t tclass;	   /* enum rc_flow_timeout: the LRU list it is on */
	uint8_t ts_digits;
	uint64_t first_ns, last_ns;
	uint64_t seq;		   /* per-table creation number, for the uid */
	struct rc_flow_dir dir[2]; /* RC_FLOW_ORIG, RC_FLOW_RESP */
	struct rc_flow_hist hist;
	struct rc_flow_tcp tcp;
	struct rc_reasm_stream *stream; /* NULL: not reassembled (yet) */
};

/* Fill rec from flow f, ended for `end`. */
void rc_flow_record_fill(struct rc_flow_record *rec, const struct rc_flow *f, enum rc_flow_end end);

#endif
