/* Counters of the flow table — part of the table in ringcap/counters.h. */
#define RC_CTRS_FLOW(X)                                                                            \
	X(FLOW_CREATED, "flow.created", RC_COUNTER, "flows", "Flows created")
