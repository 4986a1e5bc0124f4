/* A decoder worker: decode every packet, count its outcome, account it to its flow. */
#include <string.h>

#include "ringcap/assert.h"
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

void rc_worker_process_batch(struct rc_worker *w, const struct rc_packet *pkts, int n)
{
	struct rc_decoded d[RC_WORKER_BATCH];
	enum rc_ctr outcome[RC_WORKER_BATCH];

	RC_ASSERT(n >= 0 && n <= RC_WORKER_BATCH);
	/* Decode all, with each flow's bucket requested from memory as soon as its key is known;
	 * by the time the flows are updated, those loads are in flight or done. */
	for (int i = 0; i < n; i++) {
		outcome[i] = rc_decode(&pkts[i], &d[i]);
		rc_flow_table_prefetch(w->flows, &d[i]);
	}
	for (int i = 0; i < n; i++) {
		rc_ctr_inc(&w->ctrs, RC_CTR_DECODE_PACKETS);
		rc_ctr_inc(&w->ctrs, outcome[i]);
		if (d[i].l3 != RC_L3_NONE)
			rc_flow_table_process(w->flows, &pkts[i], &d[i]);
	}
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
