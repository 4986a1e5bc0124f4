/* Counters of the capture file reader — part of the table in ringcap/counters.h. */
#define RC_CTRS_READ(X)                                                                            \
	X(READ_PACKETS, "read.packets", RC_COUNTER, "packets", "Packet records read from files")  \
	X(READ_BYTES, "read.bytes", RC_COUNTER, "bytes", "Captured bytes of the records read")
