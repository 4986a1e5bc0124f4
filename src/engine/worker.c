/* A decoder worker: decode every packet, count its outcome, account it to its flow. */
#include <arpa/inet.h>
#include <stdlib.h>
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
	rc_flow_table_free(w->flows); /* ends any stream still open */
	w->flows = NULL;
	rc_reasm_free(w->reasm);
	w->reasm = NULL;
	rc_streams_free(w->streams);
	w->streams = NULL;
	rc_http_free(w->http);
	w->http = NULL;
}

/* ---- the consumers of reassembled streams ------------------------------------------------ */

/* Everything one reassembled connection feeds (ctx of its stream). */
struct app_conn {
	struct rc_worker *w;
	struct rc_stream_conn *files;
	struct rc_http_conn *http;
};

static void app_data(void *ctx, int dir, const uint8_t *p, uint32_t len, uint64_t off,
		     uint64_t ts_ns)
{
	(void)off;
	struct app_conn *c = ctx;
	if (!c)
		return;
	if (c->files)
		rc_streams_data(c->files, dir, p, len);
	if (c->http)
		rc_http_data(c->http, dir, p, len, ts_ns);
}

static void app_gap(void *ctx, int dir, uint64_t off, uint64_t len)
{
	struct app_conn *c = ctx;
	if (!c)
		return;
	if (c->files)
		rc_streams_gap(c->files, dir, off, len);
	if (c->http)
		rc_http_gap(c->http, dir, len);
}

static void app_end(void *ctx, int dir)
{
	struct app_conn *c = ctx;
	if (c && c->http)
		rc_http_eof(c->http, dir);
}

static void *app_open(void *arg, const struct rc_flow_record *meta)
{
	struct rc_worker *w = arg;
	if (!w->streams && !w->http)
		return NULL;
	struct app_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->w = w;
	if (w->streams)
		c->files = rc_streams_open(w->streams, meta);
	if (w->http) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
		int af = meta->l3 == RC_L3_IPV6 ? AF_INET6 : AF_INET;
		RC_ASSERT(inet_ntop(af, meta->orig_h, a, sizeof(a)));
		RC_ASSERT(inet_ntop(af, meta->resp_h, b, sizeof(b)));
		struct rc_http_meta m = {
			.uid = meta->uid,
			.orig_h = a,
			.resp_h = b,
			.orig_p = meta->orig_p,
			.resp_p = meta->resp_p,
			.ts_digits = meta->ts_digits,
		};
		c->http = rc_http_conn_new(w->http, &m);
	}
	return c;
}

static void app_close(void *arg, void *ctx)
{
	(void)arg;
	struct app_conn *c = ctx;
	if (!c)
		return;
	rc_streams_close(c->files);
	if (c->http)
		rc_http_end(c->http);
	free(c);
}

int rc_worker_enable_app(struct rc_worker *w, const struct rc_app_config *app)
{
	static const struct rc_reasm_ops ops = {app_data, app_gap, app_end};
	RC_ASSERT(w && w->flows && !w->reasm && app);
	if (!app->reassemble && !app->streams_dir && !app->http_out)
		return 0;
	int rc = rc_reasm_new(&w->reasm, &app->reasm, &ops, &w->ctrs);
	if (rc < 0)
		return rc;
	if (app->streams_dir) {
		rc = rc_streams_new(&w->streams, app->streams_dir, 256, &w->ctrs);
		if (rc < 0)
			return rc;
	}
	if (app->http_out) {
		struct rc_http_config hc;
		rc_http_config_default(&hc);
		hc.out = app->http_out;
		hc.ports = app->http_ports;
		hc.nports = app->http_nports;
		hc.bodies_dir = app->http_bodies_dir;
		hc.ctrs = &w->ctrs;
		rc = rc_http_new(&w->http, &hc);
		if (rc < 0)
			return rc;
	}
	struct rc_flow_stream_hooks hooks = {
		.reasm = w->reasm, .open = app_open, .close = app_close, .arg = w};
	rc_flow_table_set_streams(w->flows, &hooks);
	return 0;
}
