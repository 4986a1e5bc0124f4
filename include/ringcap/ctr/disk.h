/* Counters of the pcap writers (-w and --overflow) — part of the table in ringcap/counters.h. */
#define RC_CTRS_DISK(X)                                                                           \
	X(DISK_PACKETS, "disk.packets", RC_COUNTER, "packets", "Packets written to the -w files") \
	X(DISK_BYTES, "disk.bytes", RC_COUNTER, "bytes", "Captured bytes of those packets")       \
	X(DISK_FILES, "disk.files", RC_COUNTER, "files", "-w files opened")                       \
	X(DISK_FULL_QUEUE, "disk.full_queue", RC_COUNTER, "packets",                              \
	  "Packets not written to -w because the writer's queue was full (the disk was slower "   \
	  "than the capture); they were still decoded")                                           \
	X(DISK_LOST, "disk.lost", RC_COUNTER, "packets",                                          \
	  "Packets the -w writer took but could not write (disk full, I/O error)")                \
	X(DISK_ERRORS, "disk.errors", RC_COUNTER, "errors", "-w write, open or rename failures")  \
	X(OVERFLOW_SPILLED, "overflow.spilled", RC_COUNTER, "packets",                            \
	  "Packets whose decoder's queue was full, written to the --overflow files instead")      \
	X(OVERFLOW_BYTES, "overflow.bytes", RC_COUNTER, "bytes",                                  \
	  "Captured bytes of the spilled packets")                                                \
	X(OVERFLOW_FILES, "overflow.files", RC_COUNTER, "files", "--overflow files opened")       \
	X(OVERFLOW_LOST, "overflow.lost", RC_COUNTER, "packets",                                  \
	  "Packets whose decoder's queue was full that could not be spilled either (the "         \
	  "overflow writer's queue was full, or the write failed)")                               \
	X(OVERFLOW_ERRORS, "overflow.errors", RC_COUNTER, "errors",                               \
	  "--overflow write, open or rename failures")
