/* A decoder worker: decode every packet, count its outcome, account it to its flow. */
#include <string.h>

#include "ringcap/decode.h"
#include "ringcap/engine.h"

int rc_worker_init(struct rc_worker *w, const struct rc_flow_config *cfg, rc_flow_emit_fn emit,
		   void *arg)
{
	memset(w, 0, sizeof(*w));
	return rc_flow_table_new(&w->flows, cfg, &w->ctrs, emit, arg);
}

void rc_worker_process(struct rc_worker *w, const struct rc_packet *pkt)
{
	struct rc_decoded d;
	enum rc_ctr outcome = rc_decode(pkt, &d);

	rc_ctr_inc(&w->ctrs, RC_CTR_DECODE_PACKETS);
	rc_ctr_inc(&w->ctrs, outcome);
	if (d.l3 != RC_L3_NONE)
		rc_flow_table_process(w->flows, pkt, &d);
}

void rc_worker_finish(struct rc_worker *w)
{
	rc_flow_table_flush(w->flows);
}

void rc_worker_destroy(struct rc_worker *w)
{
	rc_flow_table_free(w->flows);
	w->flows = NULL;
}
