/* The flow record sink: JSON lines out, and a tally by conn_state and end reason for the summary.
 */
#include <errno.h>
#include <string.h>

#include "ringcap/assert.h"
#include "ringcap/engine.h"

/* Zeek's conn_state values, in the order the summary lists them; "" collects anything else. */
static const char *const states[] = {"SF",     "S0",	"S1", "REJ", "S2",  "S3", "RSTO", "RSTR",
				     "RSTOS0", "RSTRH", "SH", "SHR", "OTH", "",	  NULL};

_Static_assert(sizeof(states) / sizeof(states[0]) <= 16 + 1, "by_state has 16 slots");

const char *rc_record_state_name(int i)
{
	if (i < 0 || i >= (int)RC_ARRAY_SIZE(states) - 1)
		return "";
	return states[i];
}

static int state_index(const char *state)
{
	int i;
	for (i = 0; states[i][0] != '\0'; i++)
		if (strcmp(states[i], state) == 0)
			return i;
	return i; /* the "" slot: other or none */
}

void rc_record_sink_emit(void *arg, const struct rc_flow_record *rec)
{
	struct rc_record_sink *sink = arg;

	sink->by_state[state_index(rec->conn_state)]++;
	RC_ASSERT((unsigned)rec->end_reason < RC_ARRAY_SIZE(sink->by_end));
	sink->by_end[rec->end_reason]++;
	if (!sink->out)
		return;

	char line[1024];
	size_t n = rc_flow_record_json(rec, line, sizeof(line));
	RC_ASSERT(n < sizeof(line));
	if (fwrite(line, 1, n, sink->out) == n) {
		rc_ctr_inc(sink->ctrs, RC_CTR_RECORDS_FLOWS);
	} else {
		rc_ctr_inc(sink->ctrs, RC_CTR_RECORDS_WRITE_ERRORS);
		if (!sink->write_errno)
			sink->write_errno = errno ? errno : EIO;
	}
}
