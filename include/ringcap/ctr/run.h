/* Counters of the run as a whole (filtering, timing) — part of the table in ringcap/counters.h. */
#define RC_CTRS_RUN(X)                                                                             \
	X(FILTER_ACCEPTED, "filter.accepted", RC_COUNTER, "packets",                               \
	  "Packets that passed the BPF filter (all packets when no filter is set)")                \
	X(FILTER_REJECTED, "filter.rejected", RC_COUNTER, "packets",                               \
	  "Packets that the BPF filter rejected")
