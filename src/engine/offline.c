/* The file source: read captures in order, count link types, cut to snaplen, filter, dispatch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ringcap/decode.h"
#include "ringcap/engine.h"

static enum rc_ctr link_counter(uint32_t linktype)
{
	switch (linktype) {
	case RC_LINK_EN10MB:
		return RC_CTR_LINK_EN10MB;
	case RC_LINK_NULL:
		return RC_CTR_LINK_NULL;
	case RC_LINK_LINUX_SLL:
		return RC_CTR_LINK_LINUX_SLL;
	case RC_LINK_LINUX_SLL2:
		return RC_CTR_LINK_LINUX_SLL2;
	case RC_LINK_RAW:
		return RC_CTR_LINK_RAW;
	case RC_LINK_IPV4:
		return RC_CTR_LINK_IPV4;
	case RC_LINK_IPV6:
		return RC_CTR_LINK_IPV6;
	default:
		return RC_CTR_LINK_OTHER;
	}
}

static void note_format(struct rc_offline *o, const char *format)
{
	for (size_t i = 0; i < sizeof(o->formats) / sizeof(o->formats[0]); i++) {
		if (o->formats[i] && strcmp(o->formats[i], format) == 0)
			return;
		if (!o->formats[i]) {
			o->formats[i] = format;
			return;
		}
	}
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Read one file to its end (or to a stop). Returns the rc_exit of this file. */
static enum rc_exit run_file(struct rc_offline *o, const char *path, struct rc_worker *w,
			     struct rc_ctrs *src, uint64_t *next_progress)
{
	char err[512];
	struct rc_reader *r;
	int rc = rc_reader_open(&r, path, &o->reader, src, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "ringcap: %s\n", err);
		return RC_EXIT_OPEN;
	}
	note_format(o, rc_reader_format(r));
	int linktype = rc_reader_linktype(r);
	if (linktype >= 0 && !rc_decode_link_supported((uint32_t)linktype)) {
		const char *name = rc_linktype_name((uint32_t)linktype);
		fprintf(stderr,
			"ringcap: %s: link type %d (%s) is not supported: ringcap decodes EN10MB, "
			"LINUX_SLL, LINUX_SLL2, NULL, RAW, IPV4 and IPV6\n",
			path, linktype, name ? name : "unknown");
		rc_reader_close(r);
		return RC_EXIT_OPEN;
	}
	if (o->filter && linktype >= 0 &&
	    rc_filter_prepare(o->filter, (uint32_t)linktype, err, sizeof(err)) < 0) {
		fprintf(stderr, "ringcap: %s\n", err);
		rc_reader_close(r);
		return RC_EXIT_USAGE;
	}

	enum rc_exit result = RC_EXIT_OK;
	struct rc_packet pkt;
	uint64_t n = 0;
	while (!(o->stop && *o->stop)) {
		rc = rc_reader_next(r, &pkt);
		if (rc == 0)
			break;
		if (rc < 0) {
			fprintf(stderr, "ringcap: %s\n", rc_reader_error(r));
			result = RC_EXIT_DAMAGED;
			break;
		}
		rc_ctr_inc(src, link_counter(pkt.linktype));
		if (o->snaplen && pkt.caplen > o->snaplen) {
			pkt.caplen = o->snaplen;
			rc_ctr_inc(src, RC_CTR_SNAPLEN_TRUNCATED);
		}
		if (o->filter && !rc_filter_match(o->filter, &pkt)) {
			rc_ctr_inc(src, RC_CTR_FILTER_REJECTED);
		} else {
			rc_ctr_inc(src, RC_CTR_FILTER_ACCEPTED);
			rc_worker_process(w, &pkt);
		}
		if (o->progress && (++n & 0xffff) == 0) {
			uint64_t now = monotonic_ns();
			if (now >= *next_progress) {
				o->progress(o->progress_arg, src);
				*next_progress = now + 1000000000u;
			}
		}
	}
	rc_reader_close(r);
	return result;
}

enum rc_exit rc_offline_run(struct rc_offline *o, struct rc_worker *w, struct rc_ctrs *src)
{
	enum rc_exit worst = RC_EXIT_OK;
	uint64_t next_progress = monotonic_ns() + 1000000000u;

	for (int i = 0; i < o->nfiles && !(o->stop && *o->stop); i++) {
		enum rc_exit e = run_file(o, o->files[i], w, src, &next_progress);
		if (e == RC_EXIT_USAGE)
			return e; /* a filter that does not compile stops the run */
		if (e > worst)
			worst = e;
	}
	if (o->filter && rc_filter_last_error(o->filter))
		fprintf(stderr, "ringcap: warning: %s (packets of that link type were rejected)\n",
			rc_filter_last_error(o->filter));
	return worst;
}
