/* Counters of the decoders — part of the table in ringcap/counters.h. */
#define RC_CTRS_DECODE(X)                                                                          \
	X(DECODE_PACKETS, "decode.packets", RC_COUNTER, "packets", "Packets given to the decoders")
