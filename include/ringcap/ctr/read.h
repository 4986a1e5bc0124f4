/* Counters of the capture file reader — part of the table in ringcap/counters.h. */
#define RC_CTRS_READ(X)                                                                          \
	X(READ_FILES, "read.files", RC_COUNTER, "files", "Capture files opened for reading")     \
	X(READ_PACKETS, "read.packets", RC_COUNTER, "packets", "Packet records read from files") \
	X(READ_BYTES, "read.bytes", RC_COUNTER, "bytes", "Captured bytes of the records read")   \
	X(READ_CAPLEN_GT_SNAPLEN, "read.caplen_gt_snaplen", RC_COUNTER, "packets",               \
	  "Records kept whose captured length exceeds the file's or interface's snaplen")        \
	X(READ_CAPLEN_GT_WIRELEN, "read.caplen_gt_wirelen", RC_COUNTER, "packets",               \
	  "Records kept whose captured length exceeds their length on the wire")                 \
	X(READ_BAD_TIMESTAMP, "read.bad_timestamp", RC_COUNTER, "packets",                       \
	  "Records whose sub-second field was out of range (carried into the seconds) or whose " \
	  "pcapng time fell outside 1970..2554 (clamped)")                                       \
	X(READ_ODD_VERSION, "read.pcap.odd_version", RC_COUNTER, "files",                        \
	  "Classic pcap files whose header version is not 2.4 (read with the 2.4 layout)")       \
	X(READ_PCAPNG_SECTIONS, "read.pcapng.sections", RC_COUNTER, "sections",                  \
	  "pcapng sections (Section Header Blocks) read")                                        \
	X(READ_PCAPNG_INTERFACES, "read.pcapng.interfaces", RC_COUNTER, "interfaces",            \
	  "pcapng Interface Description Blocks read")                                            \
	X(READ_PCAPNG_BLOCKS_SKIPPED, "read.pcapng.blocks_skipped", RC_COUNTER, "blocks",        \
	  "pcapng blocks skipped because the reader has no use for their type (statistics, "     \
	  "name resolution, custom, unknown)")                                                   \
	X(READ_PCAPNG_OPB_SKIPPED, "read.pcapng.opb_skipped", RC_COUNTER, "blocks",              \
	  "Obsolete pcapng Packet Blocks (type 2) skipped")
