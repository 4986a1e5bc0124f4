/*
 * Emitters over the counter table: the end-of-run summary (text) and the counters as JSON. Both
 * iterate the table, so a counter added to ctr/ shows up in each without further code.
 */
#ifndef RINGCAP_REPORT_H
#define RINGCAP_REPORT_H

#include <stdio.h>

#include "ringcap/counters.h"
#include "ringcap/engine.h"

/* Add the tallies of `src` to `dst` (flows by state and end reason). */
void rc_report_add_sink(struct rc_record_sink *dst, const struct rc_record_sink *src);

/*
 * The part of the summary shared by offline and live runs: link types, reader, filter, decode
 * outcomes and errors by reason, flows by state and end reason, flow table counters.
 */
void rc_report_body(FILE *f, const struct rc_ctrs *t, const struct rc_record_sink *flows,
		    const char *filter);

/* Sum of the decode counters that rc_decode_is_error calls malformed. */
uint64_t rc_report_decode_errors(const struct rc_ctrs *t);

/*
 * Write every counter as "name":value pairs (no braces), for the caller to wrap in an object.
 */
void rc_report_json_counters(FILE *f, const struct rc_ctrs *t);

#endif
