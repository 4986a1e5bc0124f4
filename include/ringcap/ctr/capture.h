/* Counters of live capture: rings, queues, decoders — part of the table in ringcap/counters.h. */
#define RC_CTRS_CAPTURE(X)                                                                         \
	X(PCAP_RECEIVED, "pcap.received", RC_COUNTER, "packets",                                   \
	  "Packets the kernel accepted for the rings (passed the filter), drops included: "        \
	  "libpcap's ps_recv, the first number of pypcap's stats()")                               \
	X(PCAP_DROPPED, "pcap.dropped", RC_COUNTER, "packets",                                     \
	  "Packets the kernel dropped because a ring was full (tp_drops): ps_drop")                \
	X(CAPTURE_FREEZE_Q, "capture.freeze_q_cnt", RC_COUNTER, "events",                          \
	  "Times a ring was frozen by the kernel because no block was free (tp_freeze_q_cnt)")     \
	X(CAPTURE_PACKETS, "capture.packets", RC_COUNTER, "packets",                               \
	  "Frames walked in ring blocks by the capture threads")                                   \
	X(CAPTURE_BYTES, "capture.bytes", RC_COUNTER, "bytes", "Captured bytes of those frames")   \
	X(CAPTURE_BLOCKS, "capture.blocks", RC_COUNTER, "blocks",                                  \
	  "Ring blocks walked and handed back to the kernel")                                      \
	X(CAPTURE_SEQ_GAPS, "capture.seq_gaps", RC_COUNTER, "blocks",                              \
	  "Ring blocks whose sequence number skipped ahead (blocks never seen)")                   \
	X(CAPTURE_SOCKET_ERRORS, "capture.socket_errors", RC_COUNTER, "errors",                    \
	  "Errors a ring socket reported (e.g. the interface went down)")                          \
	X(CAPTURE_VLAN_RESTORED, "capture.vlan_restored", RC_COUNTER, "packets",                   \
	  "Frames whose VLAN tag the kernel had stripped and ringcap put back")                    \
	X(CAPTURE_COPIED, "capture.copied", RC_COUNTER, "packets",                                 \
	  "Frames copied into a decoder's queue instead of read in place, because the capture "    \
	  "thread already held half of its ring's blocks (or --copy-frames)")                      \
	X(QUEUE_ENQUEUED, "queue.enqueued", RC_COUNTER, "packets",                                 \
	  "Packets handed to a decoder's queue (in place or copied)")                              \
	X(QUEUE_FULL, "queue.full", RC_COUNTER, "packets",                                         \
	  "Packets lost because the chosen decoder's queue was full (without --overflow; with it " \
	  "they are spilled, or counted in overflow.lost)")                                        \
	X(DECODER_BYTES, "decoder.bytes", RC_COUNTER, "bytes",                                     \
	  "Captured bytes of the packets the decoders processed")                                  \
	X(DECODER_IDLE_WAITS, "decoder.idle_waits", RC_COUNTER, "waits",                           \
	  "Times a decoder found all its queues empty and backed off")
