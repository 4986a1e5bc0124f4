/*
 * Counters of TCP reassembly — part of the table in ringcap/counters.h. Every segment with
 * payload given to rc_reasm_segment lands in exactly one of reasm.in_order, reasm.out_of_order,
 * reasm.retrans, reasm.overlap, reasm.after_fin, reasm.ignored and reasm.keepalives.
 */
#define RC_CTRS_REASM(X)                                                                        \
	X(REASM_IN_ORDER, "reasm.in_order", RC_COUNTER, "segments",                             \
	  "Segments with payload that arrived in order (delivered at once)")                    \
	X(REASM_OUT_OF_ORDER, "reasm.out_of_order", RC_COUNTER, "segments",                     \
	  "Segments with payload queued because bytes before them were missing")                \
	X(REASM_RETRANS, "reasm.retrans", RC_COUNTER, "segments",                               \
	  "Segments whose every byte had been seen before (retransmissions), dropped")          \
	X(REASM_OVERLAP, "reasm.overlap", RC_COUNTER, "segments",                               \
	  "Segments that partly overlapped bytes seen before and brought new ones")             \
	X(REASM_OVERLAP_DIFF, "reasm.overlap_diff", RC_COUNTER, "segments",                     \
	  "Segments whose overlapping bytes differed from the bytes seen before them")          \
	X(REASM_AFTER_FIN, "reasm.after_fin", RC_COUNTER, "segments",                           \
	  "Segments with payload past their direction's FIN: counted, not delivered")           \
	X(REASM_IGNORED, "reasm.ignored", RC_COUNTER, "segments",                               \
	  "Segments of a direction picked up without a SYN while midstream pickup is off")      \
	X(REASM_KEEPALIVES, "reasm.keepalives", RC_COUNTER, "segments",                         \
	  "Keep-alives (at most one byte, just before the next expected): not data")            \
	X(REASM_BYTES, "reasm.bytes", RC_COUNTER, "bytes", "Stream bytes delivered in order")   \
	X(REASM_GAPS, "reasm.gaps", RC_COUNTER, "gaps", "Holes given up (gap events)")          \
	X(REASM_MISSED_BYTES, "reasm.missed_bytes", RC_COUNTER, "bytes",                        \
	  "Bytes of the holes given up: never delivered, never invented")                       \
	X(REASM_GAPS_ACKED, "reasm.gaps.acked", RC_COUNTER, "gaps",                             \
	  "Holes given up because the peer acknowledged data past them")                        \
	X(REASM_GAPS_TIMEOUT, "reasm.gaps.timeout", RC_COUNTER, "gaps",                         \
	  "Holes given up because data waited behind them longer than --reasm-timeout")         \
	X(REASM_GAPS_DIR_LIMIT, "reasm.gaps.dir_limit", RC_COUNTER, "gaps",                     \
	  "Holes given up because a direction held more than its bound out of order")           \
	X(REASM_GAPS_MEMCAP, "reasm.gaps.memcap", RC_COUNTER, "gaps",                           \
	  "Holes given up because the reassembler reached its memory cap")                      \
	X(REASM_MIDSTREAM, "reasm.midstream", RC_COUNTER, "directions",                         \
	  "Directions picked up without a SYN, from their first byte seen")                     \
	X(REASM_ALLOC_FAILED, "reasm.alloc_failed", RC_COUNTER, "segments",                     \
	  "Segments that could not be held for want of memory (their bytes become a gap)")      \
	X(REASM_MEMORY, "reasm.memory", RC_GAUGE, "bytes",                                      \
	  "Bytes held out of order and retained for comparison, all streams")                   \
	X(REASM_RETAINED_DROPPED, "reasm.retained_dropped", RC_COUNTER, "bytes",                \
	  "Retained bytes freed early to stay under the memory cap (overlap checks lost)")      \
	X(REASM_MEMORY_PEAK, "reasm.memory_peak", RC_GAUGE, "bytes",                            \
	  "The most bytes held and retained at once (per decoder; summed over decoders)")       \
	X(STREAMS_FILES, "streams.files", RC_COUNTER, "files",                                  \
	  "Stream files written by --streams (one per direction with data)")                    \
	X(STREAMS_BYTES, "streams.bytes", RC_COUNTER, "bytes", "Bytes written to stream files") \
	X(STREAMS_ERRORS, "streams.errors", RC_COUNTER, "errors",                               \
	  "Stream files that could not be opened or written (disk full, permissions...)")
