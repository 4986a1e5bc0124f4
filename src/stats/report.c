/* The summary and the JSON counters, generated from the counter table. */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "ringcap/assert.h"
#include "ringcap/decode.h"
#include "ringcap/report.h"

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Print "name value" for every non-zero counter under `prefix` that `pick` accepts. */
static void print_group(FILE *f, const struct rc_ctrs *t, const char *title, const char *prefix,
			bool (*pick)(int id))
{
	bool any = false;
	for (int i = 0; i < RC_CTR__COUNT; i++) {
		uint64_t v = t->v[i];
		if (!v || !has_prefix(rc_ctr_descs[i].name, prefix) || (pick && !pick(i)))
			continue;
		fprintf(f, "%s%s %" PRIu64, any ? ", " : title,
			rc_ctr_descs[i].name + strlen(prefix), v);
		any = true;
	}
	if (any)
		fputc('\n', f);
}

static bool is_decode_error(int id)
{
	return id != RC_CTR_DECODE_PACKETS && rc_decode_is_error((enum rc_ctr)id);
}

static bool is_decode_result(int id)
{
	return id != RC_CTR_DECODE_PACKETS && !rc_decode_is_error((enum rc_ctr)id);
}

uint64_t rc_report_decode_errors(const struct rc_ctrs *t)
{
	uint64_t n = 0;
	for (int i = 0; i < RC_CTR__COUNT; i++)
		if (has_prefix(rc_ctr_descs[i].name, "decode.") && is_decode_error(i))
			n += t->v[i];
	return n;
}

void rc_report_add_sink(struct rc_record_sink *dst, const struct rc_record_sink *src)
{
	for (size_t i = 0; i < RC_ARRAY_SIZE(dst->by_state); i++)
		dst->by_state[i] += src->by_state[i];
	for (size_t i = 0; i < RC_ARRAY_SIZE(dst->by_end); i++)
		dst->by_end[i] += src->by_end[i];
	if (!dst->write_errno)
		dst->write_errno = src->write_errno;
}

void rc_report_body(FILE *f, const struct rc_ctrs *t, const struct rc_record_sink *flows,
		    const char *filter)
{
	print_group(f, t, "  link types: ", "link.", NULL);
	print_group(f, t, "  reader: ", "read.", NULL);
	if (filter)
		fprintf(f, "  filter \"%s\": %" PRIu64 " accepted, %" PRIu64 " filtered out\n",
			filter, t->v[RC_CTR_FILTER_ACCEPTED], t->v[RC_CTR_FILTER_REJECTED]);
	fprintf(f, "  decoded: %" PRIu64 " packets\n", t->v[RC_CTR_DECODE_PACKETS]);
	print_group(f, t, "    by outcome: ", "decode.", is_decode_result);
	fprintf(f, "  decode errors: %" PRIu64 "\n", rc_report_decode_errors(t));
	print_group(f, t, "    by reason: ", "decode.", is_decode_error);

	uint64_t nflows = 0;
	for (size_t i = 0; i < RC_ARRAY_SIZE(flows->by_state); i++)
		nflows += flows->by_state[i];
	fprintf(f, "  flows: %" PRIu64, nflows);
	for (int i = 0; i < (int)RC_ARRAY_SIZE(flows->by_state); i++)
		if (flows->by_state[i])
			fprintf(f, ", %s %" PRIu64,
				rc_record_state_name(i)[0] ? rc_record_state_name(i) : "no-state",
				flows->by_state[i]);
	fputc('\n', f);
	if (nflows) {
		fprintf(f, "    ended by:");
		for (int e = 0; e < (int)RC_ARRAY_SIZE(flows->by_end); e++)
			if (flows->by_end[e])
				fprintf(f, " %s %" PRIu64, rc_flow_end_name((enum rc_flow_end)e),
					flows->by_end[e]);
		fputc('\n', f);
	}
	print_group(f, t, "    table: ", "flow.", NULL);
}

void rc_report_json_counters(FILE *f, const struct rc_ctrs *t)
{
	for (int i = 0; i < RC_CTR__COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", rc_ctr_descs[i].name, t->v[i]);
}
