/* The counter table's generated parts: the description array, summing, lookup and the docs page. */
#include <string.h>

#include "ringcap/counters.h"

const struct rc_ctr_desc rc_ctr_descs[RC_CTR__COUNT] = {
#define RC_CTR_DESC(id, name_, kind_, unit_, help_) \
	[RC_CTR_##id] = {.name = name_, .kind = kind_, .unit = unit_, .help = help_},
	RC_COUNTER_TABLE(RC_CTR_DESC)
#undef RC_CTR_DESC
};

void rc_ctrs_sum(struct rc_ctrs *dst, const struct rc_ctrs *src)
{
	for (int i = 0; i < RC_CTR__COUNT; i++)
		dst->v[i] += rc_ctr_get(src, (enum rc_ctr)i);
}

int rc_ctr_find(const char *name)
{
	for (int i = 0; i < RC_CTR__COUNT; i++)
		if (strcmp(rc_ctr_descs[i].name, name) == 0)
			return i;
	return -1;
}

void rc_ctrs_write_doc(FILE *out)
{
	fprintf(out, "# ringcap counters\n\n"
		     "Generated from the counter table (`include/ringcap/ctr/`) by "
		     "`ringcap --list-counters`.\n\n"
		     "| name | kind | unit | meaning |\n|---|---|---|---|\n");
	for (int i = 0; i < RC_CTR__COUNT; i++)
		fprintf(out, "| `%s` | %s | %s | %s |\n", rc_ctr_descs[i].name,
			rc_ctr_descs[i].kind == RC_GAUGE ? "gauge" : "counter",
			rc_ctr_descs[i].unit, rc_ctr_descs[i].help);
}
