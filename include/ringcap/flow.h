/*
 * The flow table of one decoder thread: a symmetric key so both directions of a conversation meet
 * in one entry, per-direction counts, Zeek-like TCP conn_state and history, idle timeouts per
 * state, and a memory cap with oldest-idle-first eviction. Single-threaded: only its owner calls
 * these functions. Time is packet time, so offline runs are deterministic.
 */
#ifndef RINGCAP_FLOW_H
#define RINGCAP_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "ringcap/counters.h"
#include "ringcap/decode.h"
#include "ringcap/packet.h"

enum rc_flow_timeout {
	RC_FLOW_TO_TCP_ATTEMPT, /* SYN seen, no answer yet (S0, SH ...) */
	RC_FLOW_TO_TCP_ESTABLISHED,
	RC_FLOW_TO_TCP_CLOSED, /* FIN both ways or RST: retire promptly */
	RC_FLOW_TO_UDP,
	RC_FLOW_TO_ICMP,
	RC_FLOW_TO_OTHER,
	RC_FLOW_TO__COUNT
};

struct rc_flow_config {
	uint64_t memcap;			/* bytes of flow state at most */
	uint64_t timeout_ns[RC_FLOW_TO__COUNT]; /* idle time before a flow is retired */
};

/* Why a flow record was written. */
enum rc_flow_end {
	RC_FLOW_END_CLOSED,  /* FIN both ways or RST, then the closed timeout (or EOF) */
	RC_FLOW_END_IDLE,    /* idle timeout of its state */
	RC_FLOW_END_EVICTED, /* memcap reached: oldest idle flow made room */
	RC_FLOW_END_EOF,     /* end of input (or of the capture): still live */
	RC_FLOW_END_REUSED,  /* a new SYN on the tuple of a closed flow started a new one */
};

/* A finished (or flushed) flow, as written to the flow records. */
struct rc_flow_record {
	uint64_t ts_ns;	  /* first packet */
	uint64_t last_ns; /* last packet (duration = last_ns - ts_ns) */
	uint8_t ts_digits;
	char uid[24];
	uint8_t l3;    /* enum rc_l3 */
	uint8_t proto; /* IP protocol number */
	uint8_t orig_h[16], resp_h[16];
	uint16_t orig_p, resp_p; /* ICMP: type and code, as Zeek */
	uint16_t vlan[RC_MAX_VLAN];
	uint8_t vlan_count;
	struct rc_flow_dir {
		uint64_t pkts;
		uint64_t bytes;	     /* transport payload bytes */
		uint64_t ip_bytes;   /* IP total length, summed */
		uint64_t wire_bytes; /* frame length on the wire, summed */
		uint8_t tcp_flags;   /* OR of the flags seen */
	} orig, resp;
	char conn_state[8];
	char history[32];
	enum rc_flow_end end_reason;
	bool reassembled;      /* a TCP flow whose streams were reassembled */
	uint64_t missed_bytes; /* then: bytes given up as gaps, both directions (Zeek's) */
};

typedef void (*rc_flow_emit_fn)(void *arg, const struct rc_flow_record *rec);

/* Sane defaults for a capture host: 128 MiB memcap, Zeek-like timeouts. */
void rc_flow_config_default(struct rc_flow_config *cfg);

struct rc_flow_table;

/*
 * Create a table. Every ended flow is handed to `emit(arg, rec)` (from inside the call that ended
 * it). Returns 0, or -ENOMEM; -EINVAL when the memcap cannot hold even a small table.
 */
int rc_flow_table_new(struct rc_flow_table **out, const struct rc_flow_config *cfg,
		      struct rc_ctrs *ctrs, rc_flow_emit_fn emit, void *arg);

struct rc_reasm;

/*
 * TCP reassembly for the flows of a table: every TCP segment of a flow goes to `reasm` (in
 * the role of its sender), on a stream opened at the flow's first TCP segment with
 * ctx = open(arg, meta) (meta: the flow as a record so far: uid, addresses, ports, start; NULL
 * ctx: the flow is not reassembled). When the flow ends its stream ends first (the consumer
 * sees the last data, gaps and ends), its missed bytes go into the flow record, then
 * close(arg, ctx).
 */
struct rc_flow_stream_hooks {
	struct rc_reasm *reasm;
	void *(*open)(void *arg, const struct rc_flow_record *meta);
	void (*close)(void *arg, void *ctx);
	void *arg;
};

/* Reassemble the TCP flows of t from now on (before its first packet). Owner thread. */
void rc_flow_table_set_streams(struct rc_flow_table *t, const struct rc_flow_stream_hooks *h);

/*
 * A hint, no effect on results: start loading the hash bucket packet d will look up, so that a
 * decoder working on a batch overlaps that cache miss with the packets before it. Pure otherwise;
 * owner thread.
 */
void rc_flow_table_prefetch(const struct rc_flow_table *t, const struct rc_decoded *d);

/*
 * Account one decoded packet (d->l3 != RC_L3_NONE) to its flow, creating the flow if needed, and
 * retire flows whose idle timeout passed by this packet's time. O(1) amortised. A packet that
 * gets no flow is counted (flow.no_ports_fragment, flow.no_ports_l4, flow.alloc_failed).
 */
void rc_flow_table_process(struct rc_flow_table *t, const struct rc_packet *pkt,
			   const struct rc_decoded *d);

/* Retire every flow idle for longer than its timeout at time now_ns. */
void rc_flow_table_expire(struct rc_flow_table *t, uint64_t now_ns);

/*
 * Emit every live flow and empty the table: end reason EOF, except CLOSED for a TCP flow already
 * closed (FIN both ways or an RST) whose closed timeout had not run out yet.
 */
void rc_flow_table_flush(struct rc_flow_table *t);

/*
 * The (at most) n live flows with the most wire bytes (both directions), most first, as records
 * (end_reason EOF: still live) into out. Returns how many. O(flows * log n); owner thread.
 */
size_t rc_flow_table_top(const struct rc_flow_table *t, struct rc_flow_record *out, size_t n);

/* Live flows and bytes of flow state in use. */
size_t rc_flow_table_active(const struct rc_flow_table *t);
size_t rc_flow_table_memory(const struct rc_flow_table *t);

/* Free the table without emitting anything; NULL is allowed. */
void rc_flow_table_free(struct rc_flow_table *t);

/* "closed", "idle", "evicted", "eof", "reused". */
const char *rc_flow_end_name(enum rc_flow_end end);

/*
 * Write `rec` as one JSON object and a newline into buf (len bytes, 1024 is always enough).
 * Returns the bytes written, without the terminating NUL.
 */
size_t rc_flow_record_json(const struct rc_flow_record *rec, char *buf, size_t len);

#endif
