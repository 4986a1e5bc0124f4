/*
 * Counters of the flow table — part of the table in ringcap/counters.h. Every packet given to
 * rc_flow_table_process lands in exactly one of flow.packets, flow.no_ports_fragment,
 * flow.no_ports_l4 and flow.alloc_failed.
 */
#define RC_CTRS_FLOW(X)                                                                        \
	X(FLOW_CREATED, "flow.created", RC_COUNTER, "flows", "Flows created")                  \
	X(FLOW_ENDED_CLOSED, "flow.ended.closed", RC_COUNTER, "flows",                         \
	  "Flows ended after FIN both ways or an RST (and the closed timeout)")                \
	X(FLOW_ENDED_IDLE, "flow.ended.idle", RC_COUNTER, "flows",                             \
	  "Flows ended by the idle timeout of their state")                                    \
	X(FLOW_ENDED_EVICTED, "flow.ended.evicted", RC_COUNTER, "flows",                       \
	  "Flows ended early to make room under the memcap")                                   \
	X(FLOW_ENDED_EOF, "flow.ended.eof", RC_COUNTER, "flows",                               \
	  "Flows still live at the end of input")                                              \
	X(FLOW_ENDED_REUSED, "flow.ended.reused", RC_COUNTER, "flows",                         \
	  "Closed TCP flows ended by a new SYN on the same tuple (port reuse)")                \
	X(FLOW_MEMCAP_EVICTIONS, "flow.memcap_evictions", RC_COUNTER, "flows",                 \
	  "Times the memcap was reached and the least recently active flow was evicted")       \
	X(FLOW_ALLOC_FAILED, "flow.alloc_failed", RC_COUNTER, "packets",                       \
	  "Packets not accounted to any flow because a new flow could not be allocated")       \
	X(FLOW_PACKETS, "flow.packets", RC_COUNTER, "packets", "Packets accounted to a flow")  \
	X(FLOW_FRAGMENTS_JOINED, "flow.fragments_joined", RC_COUNTER, "packets",               \
	  "Later IP fragments given the ports of their first fragment (also in flow.packets)") \
	X(FLOW_NO_PORTS_FRAGMENT, "flow.no_ports_fragment", RC_COUNTER, "packets",             \
	  "Later IP fragments whose first fragment was not seen: no ports, not accounted")     \
	X(FLOW_NO_PORTS_L4, "flow.no_ports_l4", RC_COUNTER, "packets",                         \
	  "TCP/UDP/ICMP packets without a decoded transport header (malformed, or cut by the " \
	  "snap length): no ports, not accounted")                                             \
	X(FLOW_ACTIVE, "flow.active", RC_GAUGE, "flows", "Flows in the table now")             \
	X(FLOW_MEMORY, "flow.memory", RC_GAUGE, "bytes",                                       \
	  "Bytes of flow state in use (entries, hash buckets, fragment map), held under the "  \
	  "memcap")
