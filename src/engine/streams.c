/*
 * The consumer of reassembled TCP streams: --streams DIR writes each direction to its own file
 * (like tcpflow) with its gaps listed in a side file; more consumers (HTTP) hang off the same
 * per-connection object.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringcap/assert.h"
#include "ringcap/dlist.h"
#include "ringcap/engine.h"
#include "ringcap/reasm.h"

#define STREAMS_MAGIC 0x5354524du /* "STRM" */

/* One direction's file, while open on the LRU list of open files. */
struct dir_file {
	FILE *f;
	struct rc_dlink lru; /* on the list of open files, least recently written first */
	struct rc_stream_conn *conn;
	bool created; /* the file exists: reopen in append mode */
	bool failed;  /* a write or open failed: no more attempts for this direction */
};

struct rc_stream_conn {
	struct rc_streams *owner;
	char name[160]; /* file name without the direction suffix */
	struct dir_file file[2];
	FILE *gaps[2];
};

struct rc_streams {
	uint32_t magic;
	char dir[4096];
	struct rc_ctrs *ctrs;
	unsigned max_open, nopen;
	struct rc_dlist open_files;
};

int rc_streams_new(struct rc_streams **out, const char *dir, unsigned max_open,
		   struct rc_ctrs *ctrs)
{
	RC_ASSERT(out && dir && ctrs && max_open > 0);
	*out = NULL;
	struct rc_streams *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (snprintf(s->dir, sizeof(s->dir), "%s", dir) >= (int)sizeof(s->dir)) {
		free(s);
		return -ENAMETOOLONG;
	}
	s->magic = STREAMS_MAGIC;
	s->ctrs = ctrs;
	s->max_open = max_open;
	*out = s;
	return 0;
}

void rc_streams_free(struct rc_streams *s)
{
	if (!s)
		return;
	RC_ASSERT(s->magic == STREAMS_MAGIC && s->nopen == 0); /* every connection closed first */
	s->magic = 0;
	free(s);
}

static void close_file(struct rc_streams *s, struct dir_file *d)
{
	if (!d->f)
		return;
	rc_dlist_remove(&s->open_files, &d->lru);
	s->nopen--;
	if (fclose(d->f) != 0 && !d->failed) {
		d->failed = true;
		rc_ctr_inc(s->ctrs, RC_CTR_STREAMS_ERRORS);
	}
	d->f = NULL;
}

static void path_of(const struct rc_stream_conn *c, int dir, const char *suffix, char *path,
		    size_t len)
{
	snprintf(path, len, "%s/%s.%s%s", c->owner->dir, c->name, dir ? "resp" : "orig", suffix);
}

/* The open file of direction dir, opened (or reopened for append) on first need. */
static FILE *file_for(struct rc_stream_conn *c, int dir)
{
	struct rc_streams *s = c->owner;
	struct dir_file *d = &c->file[dir];
	if (d->failed)
		return NULL;
	if (d->f) {
		if (s->open_files.tail != &d->lru) {
			rc_dlist_remove(&s->open_files, &d->lru);
			rc_dlist_append(&s->open_files, &d->lru);
		}
		return d->f;
	}
	if (s->nopen >= s->max_open) /* close the least recently written */
		close_file(s, rc_dlist_first(&s->open_files, struct dir_file, lru));
	char path[4400];
	path_of(c, dir, "", path, sizeof(path));
	d->f = fopen(path, d->created ? "ab" : "wb");
	if (!d->f) {
		d->failed = true;
		rc_ctr_inc(s->ctrs, RC_CTR_STREAMS_ERRORS);
		return NULL;
	}
	if (!d->created)
		rc_ctr_inc(s->ctrs, RC_CTR_STREAMS_FILES);
	d->created = true;
	d->conn = c;
	s->nopen++;
	rc_dlist_append(&s->open_files, &d->lru);
	return d->f;
}

struct rc_stream_conn *rc_streams_open(struct rc_streams *s, const struct rc_flow_record *meta)
{
	RC_ASSERT(s && s->magic == STREAMS_MAGIC && meta);
	struct rc_stream_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		rc_ctr_inc(s->ctrs, RC_CTR_STREAMS_ERRORS);
		return NULL;
	}
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int af = meta->l3 == RC_L3_IPV6 ? AF_INET6 : AF_INET;
	RC_ASSERT(inet_ntop(af, meta->orig_h, a, sizeof(a)) &&
		  inet_ntop(af, meta->resp_h, b, sizeof(b)));
	/* Start time, uid (unique per flow), then the ends as tcpflow names them. */
	snprintf(c->name, sizeof(c->name), "%" PRIu64 "-%s-%s.%u-%s.%u", meta->ts_ns / 1000000000u,
		 meta->uid, a, meta->orig_p, b, meta->resp_p);
	c->owner = s;
	return c;
}

void rc_streams_data(struct rc_stream_conn *c, int dir, const uint8_t *p, uint32_t len)
{
	FILE *f = file_for(c, dir);
	if (!f)
		return;
	if (fwrite(p, 1, len, f) != len) {
		c->file[dir].failed = true;
		rc_ctr_inc(c->owner->ctrs, RC_CTR_STREAMS_ERRORS);
		return;
	}
	rc_ctr_add(c->owner->ctrs, RC_CTR_STREAMS_BYTES, len);
}

void rc_streams_gap(struct rc_stream_conn *c, int dir, uint64_t off, uint64_t len)
{
	/* The stream file goes on without the missing bytes; the side file says where they were. */
	if (!c->gaps[dir]) {
		char path[4400];
		path_of(c, dir, ".gaps", path, sizeof(path));
		c->gaps[dir] = fopen(path, "wb");
		if (!c->gaps[dir]) {
			rc_ctr_inc(c->owner->ctrs, RC_CTR_STREAMS_ERRORS);
			return;
		}
		fputs("# stream_offset missing_bytes (the stream file holds the bytes around "
		      "them)\n",
		      c->gaps[dir]);
	}
	fprintf(c->gaps[dir], "%" PRIu64 " %" PRIu64 "\n", off, len);
}

void rc_streams_close(struct rc_stream_conn *c)
{
	if (!c)
		return;
	for (int dir = 0; dir < 2; dir++) {
		close_file(c->owner, &c->file[dir]);
		if (c->gaps[dir] && fclose(c->gaps[dir]) != 0)
			rc_ctr_inc(c->owner->ctrs, RC_CTR_STREAMS_ERRORS);
	}
	free(c);
}
