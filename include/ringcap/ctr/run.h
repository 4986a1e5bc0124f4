/* Counters of the sources and sinks of a run — part of the table in ringcap/counters.h. */
#define RC_CTRS_RUN(X)                                                                        \
	X(LINK_EN10MB, "link.en10mb", RC_COUNTER, "packets", "Packets with link type EN10MB") \
	X(LINK_NULL, "link.null", RC_COUNTER, "packets",                                      \
	  "Packets with link type NULL (BSD loopback)")                                       \
	X(LINK_LINUX_SLL, "link.linux_sll", RC_COUNTER, "packets",                            \
	  "Packets with link type LINUX_SLL")                                                 \
	X(LINK_LINUX_SLL2, "link.linux_sll2", RC_COUNTER, "packets",                          \
	  "Packets with link type LINUX_SLL2")                                                \
	X(LINK_RAW, "link.raw", RC_COUNTER, "packets", "Packets with link type RAW")          \
	X(LINK_IPV4, "link.ipv4", RC_COUNTER, "packets", "Packets with link type IPV4")       \
	X(LINK_IPV6, "link.ipv6", RC_COUNTER, "packets", "Packets with link type IPV6")       \
	X(LINK_OTHER, "link.other", RC_COUNTER, "packets",                                    \
	  "Packets with a link type ringcap does not decode")                                 \
	X(SNAPLEN_TRUNCATED, "source.snaplen_truncated", RC_COUNTER, "packets",               \
	  "Packets cut to --snaplen before filtering and decoding")                           \
	X(FILTER_ACCEPTED, "filter.accepted", RC_COUNTER, "packets",                          \
	  "Packets that passed the BPF filter (every packet when no filter is set)")          \
	X(FILTER_REJECTED, "filter.rejected", RC_COUNTER, "packets",                          \
	  "Packets that the BPF filter rejected")                                             \
	X(RECORDS_FLOWS, "records.flows", RC_COUNTER, "records", "Flow records written")      \
	X(RECORDS_WRITE_ERRORS, "records.write_errors", RC_COUNTER, "records",                \
	  "Flow records that could not be written (disk full, closed pipe ...)")              \
	X(QUEUE_DEPTH, "queue.depth", RC_GAUGE, "bytes",                                      \
	  "Bytes waiting in the ring-to-decoder queues now (live)")                           \
	X(MEM_ALLOCATED, "mem.allocated", RC_GAUGE, "bytes",                                  \
	  "Bytes the process has allocated (jemalloc stats.allocated; 0 without jemalloc)")   \
	X(MEM_RESIDENT, "mem.resident", RC_GAUGE, "bytes",                                    \
	  "Bytes of physical memory the allocator holds (jemalloc stats.resident; 0 without " \
	  "jemalloc)")
