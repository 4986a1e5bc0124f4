/* The capture file reader: input (file or pipe in chunks, or memory), format detection and classic
 * pcap. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringcap/assert.h"
#include "reader_internal.h"

/*
 * Error codes, so that callers can tell causes apart without parsing text:
 *   -ENOENT, -EACCES, -ENOTDIR, -EISDIR (and any other open/read errno)  the file itself
 *   -ENODATA   empty input
 *   -EINVAL    not a pcap or pcapng file
 *   -ENOTSUP   a pcapng version or feature ringcap does not read
 *   -EBADMSG   damaged or truncated structure (the message names the byte offset)
 *   -EFBIG     a record over RC_MAX_CAPLEN, or a pcapng block over RC_PCAPNG_MAX_BLOCK
 *   -ERANGE    caplen over snaplen with strict_snaplen
 *   -ENOMEM
 */

#define PCAP_HDR_LEN 24
#define PCAP_REC_LEN 16

int rc_reader_fail(struct rc_reader *r, int code, const char *fmt, ...)
{
	RC_ASSERT(code < 0);
	if (r->status)
		return r->status;
	va_list ap;
	int n = snprintf(r->err, sizeof(r->err), "%s: ", r->name);
	if (n < 0 || (size_t)n >= sizeof(r->err))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	r->status = code;
	return code;
}

int rc_reader_fill(struct rc_reader *r, size_t need)
{
	if (r->len - r->pos >= need)
		return 0;
	if (r->input != RC_IN_STREAM || r->eof)
		return 1;
	/* The record straddles the end of what was read: move its start down (the only copy). */
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->base_off += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	if (need > r->bufcap) {
		size_t cap = (need + r->chunk - 1) / r->chunk * r->chunk;
		uint8_t *nb = realloc(r->buf, cap);
		if (!nb)
			return rc_reader_fail(r, -ENOMEM, "out of memory for a %zu-byte buffer",
					      cap);
		r->buf = nb;
		r->bufcap = cap;
		r->base = nb;
	}
	while (r->len < need) {
		ssize_t n = read(r->fd, r->buf + r->len, r->bufcap - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			return rc_reader_fail(r, -e, "read error at offset %llu: %s",
					      (unsigned long long)(r->base_off + r->len),
					      strerror(e));
		}
		if (n == 0) {
			r->eof = 1;
			return 1;
		}
		r->len += (size_t)n;
	}
	return 0;
}

static int pcap_open(struct rc_reader *r, uint32_t magic)
{
	switch (magic) {
	case 0xa1b2c3d4:
		r->big = 1;
		break;
	case 0xd4c3b2a1:
		break;
	case 0xa1b23c4d:
		r->big = 1;
		r->nsec = 1;
		break;
	case 0x4d3cb2a1:
		r->nsec = 1;
		break;
	default:
		RC_WRONG("not a pcap magic");
	}
	int rc = rc_reader_fill(r, PCAP_HDR_LEN);
	if (rc < 0)
		return rc;
	if (rc)
		return rc_reader_fail(r, -EBADMSG, "truncated pcap file header (%zu of %d bytes)",
				      r->len - r->pos, PCAP_HDR_LEN);
	const uint8_t *p = r->base + r->pos;
	uint16_t major = rc_get16(r->big, p + 4), minor = rc_get16(r->big, p + 6);
	/* Version 1.x and 2.5 records are laid out as 2.4's (Wireshark reads them): count, read. */
	if (major != 2 || minor != 4)
		rc_ctr_inc(r->ctrs, RC_CTR_READ_ODD_VERSION);
	r->snaplen = rc_get32(r->big, p + 16);
	/* The upper 16 bits of the network field hold FCS length and reserved bits. */
	r->linktype = rc_get32(r->big, p + 20) & 0xffff;
	r->format = RC_FMT_PCAP;
	r->pos += PCAP_HDR_LEN;
	return 0;
}

static int pcap_next(struct rc_reader *r, struct rc_packet *pkt)
{
	uint64_t off = rc_reader_here(r);
	int rc = rc_reader_fill(r, PCAP_REC_LEN);
	if (rc < 0)
		return rc;
	size_t avail = r->len - r->pos;
	if (avail == 0)
		return 0;
	if (rc)
		return rc_reader_fail(r, -EBADMSG,
				      "truncated record header at offset %llu (%zu of %d bytes)",
				      (unsigned long long)off, avail, PCAP_REC_LEN);
	const uint8_t *p = r->base + r->pos;
	uint32_t caplen = rc_get32(r->big, p + 8), wirelen = rc_get32(r->big, p + 12);
	if (caplen > RC_MAX_CAPLEN)
		return rc_reader_fail(r, -EFBIG,
				      "record at offset %llu: caplen %u exceeds the %u-byte limit",
				      (unsigned long long)off, caplen, RC_MAX_CAPLEN);
	rc = rc_reader_fill(r, PCAP_REC_LEN + caplen);
	if (rc < 0)
		return rc;
	if (rc)
		return rc_reader_fail(
			r, -EBADMSG,
			"truncated record at offset %llu: caplen %u but only %zu bytes "
			"follow its header",
			(unsigned long long)off, caplen, r->len - r->pos - PCAP_REC_LEN);
	if (r->snaplen && caplen > r->snaplen) {
		if (r->opt.strict_snaplen)
			return rc_reader_fail(r, -ERANGE,
					      "record at offset %llu: caplen %u exceeds snaplen %u",
					      (unsigned long long)off, caplen, r->snaplen);
		rc_ctr_inc(r->ctrs, RC_CTR_READ_CAPLEN_GT_SNAPLEN);
	}
	if (caplen > wirelen)
		rc_ctr_inc(r->ctrs, RC_CTR_READ_CAPLEN_GT_WIRELEN);

	p = r->base + r->pos; /* the fill may have moved the window */
	uint64_t sec = rc_get32(r->big, p), frac = rc_get32(r->big, p + 4);
	uint64_t unit = r->nsec ? 1000000000u : 1000000u;
	if (frac >= unit) {
		/* Carry the excess into the seconds, as a normalising timeval/timespec would. */
		rc_ctr_inc(r->ctrs, RC_CTR_READ_BAD_TIMESTAMP);
		sec += frac / unit;
		frac %= unit;
	}
	pkt->ts_ns = sec * 1000000000u + (r->nsec ? frac : frac * 1000u);
	pkt->ts_digits = r->nsec ? 9 : 6;
	pkt->data = p + PCAP_REC_LEN;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
	pkt->linktype = r->linktype;
	pkt->source = 0;
	r->pos += PCAP_REC_LEN + caplen;
	rc_ctr_inc(r->ctrs, RC_CTR_READ_PACKETS);
	rc_ctr_add(r->ctrs, RC_CTR_READ_BYTES, caplen);
	return 1;
}

/* Look at the first bytes and parse the file (or first section) header. */
static int start(struct rc_reader *r)
{
	int rc = rc_reader_fill(r, 4);
	if (rc < 0)
		return rc;
	size_t avail = r->len - r->pos;
	if (avail == 0)
		return rc_reader_fail(r, -ENODATA, "empty file");
	if (rc)
		return rc_reader_fail(r, -EINVAL, "too short to be a capture file (%zu bytes)",
				      avail);
	uint32_t magic = rc_get32(1, r->base + r->pos);
	switch (magic) {
	case 0xa1b2c3d4:
	case 0xd4c3b2a1:
	case 0xa1b23c4d:
	case 0x4d3cb2a1:
		return pcap_open(r, magic);
	case 0x0a0d0d0a:
		r->format = RC_FMT_PCAPNG;
		return rc_pcapng_open(r);
	default:
		return rc_reader_fail(r, -EINVAL, "not a pcap or pcapng file (starts with 0x%08x)",
				      magic);
	}
}

static struct rc_reader *alloc(const char *name, const struct rc_reader_options *opt,
			       struct rc_ctrs *ctrs)
{
	RC_ASSERT(ctrs != NULL);
	struct rc_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->fd = -1;
	r->first_linktype = -1;
	r->ctrs = ctrs;
	if (opt)
		r->opt = *opt;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "(memory)");
	return r;
}

/* Parse the header; on failure copy the message out and free the reader. */
static int finish_open(struct rc_reader *r, struct rc_reader **out, char *err, size_t errlen)
{
	int rc = r->status ? r->status : start(r);
	if (rc < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", r->err);
		rc_reader_close(r);
		return rc;
	}
	rc_ctr_inc(r->ctrs, RC_CTR_READ_FILES);
	*out = r;
	return 0;
}

static int oom(char *err, size_t errlen, const char *name)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: out of memory", name);
	return -ENOMEM;
}

int rc_reader_open_fd(struct rc_reader **out, int fd, int own_fd, const char *name, size_t chunk,
		      const struct rc_reader_options *opt, struct rc_ctrs *ctrs, char *err,
		      size_t errlen)
{
	*out = NULL;
	RC_ASSERT(chunk > 0);
	struct rc_reader *r = alloc(name, opt, ctrs);
	if (!r) {
		if (own_fd)
			close(fd);
		return oom(err, errlen, name);
	}
	r->input = RC_IN_STREAM;
	r->fd = fd;
	r->own_fd = own_fd;
	r->chunk = chunk;
	r->buf = malloc(chunk);
	if (!r->buf) {
		rc_reader_close(r);
		return oom(err, errlen, name);
	}
	r->bufcap = chunk;
	r->base = r->buf;
	return finish_open(r, out, err, errlen);
}

int rc_reader_open(struct rc_reader **out, const char *path, const struct rc_reader_options *opt,
		   struct rc_ctrs *ctrs, char *err, size_t errlen)
{
	*out = NULL;
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "standard input" : path;
	struct rc_reader *r = alloc(name, opt, ctrs);
	if (!r)
		return oom(err, errlen, name);
	int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			rc_reader_fail(r, -e, "no such file");
		else if (e == EACCES)
			rc_reader_fail(r, -e, "permission denied (not readable)");
		else if (e == ENOTDIR)
			rc_reader_fail(r, -e,
				       "no such file (a component of the path is not a "
				       "directory)");
		else
			rc_reader_fail(r, -e, "cannot open: %s", strerror(e));
		return finish_open(r, out, err, errlen);
	}
	r->fd = fd;
	r->own_fd = !is_stdin;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		rc_reader_fail(r, -e, "cannot stat: %s", strerror(e));
		return finish_open(r, out, err, errlen);
	}
	if (S_ISDIR(st.st_mode)) {
		rc_reader_fail(r, -EISDIR, "is a directory");
		return finish_open(r, out, err, errlen);
	}
	/*
	 * Files and pipes alike are read in 1 MiB chunks: measured on a 1.2 GB capture, this is
	 * twice as fast as walking a mapping (whose page faults cost more than the one copy into
	 * the chunk), and memory stays at one chunk whatever the file size. Packets are never
	 * copied: pkt->data points into the chunk.
	 */
	if (S_ISREG(st.st_mode))
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r->input = RC_IN_STREAM;
	r->chunk = RC_READER_CHUNK;
	r->buf = malloc(r->chunk);
	if (!r->buf) {
		rc_reader_close(r);
		return oom(err, errlen, name);
	}
	r->bufcap = r->chunk;
	r->base = r->buf;
	return finish_open(r, out, err, errlen);
}

int rc_reader_open_mem(struct rc_reader **out, const void *data, size_t len, const char *name,
		       const struct rc_reader_options *opt, struct rc_ctrs *ctrs, char *err,
		       size_t errlen)
{
	*out = NULL;
	RC_ASSERT(data != NULL || len == 0);
	struct rc_reader *r = alloc(name, opt, ctrs);
	if (!r)
		return oom(err, errlen, name ? name : "(memory)");
	r->input = RC_IN_MEM;
	r->base = data;
	r->len = len;
	return finish_open(r, out, err, errlen);
}

int rc_reader_next(struct rc_reader *r, struct rc_packet *pkt)
{
	if (r->status)
		return r->status;
	if (r->format == RC_FMT_PCAP)
		return pcap_next(r, pkt);
	return rc_pcapng_next(r, pkt);
}

const char *rc_reader_error(const struct rc_reader *r)
{
	return r->err;
}

const char *rc_reader_format(const struct rc_reader *r)
{
	return r->format == RC_FMT_PCAP ? "pcap" : "pcapng";
}

int rc_reader_linktype(const struct rc_reader *r)
{
	return r->format == RC_FMT_PCAP ? (int)r->linktype : r->first_linktype;
}

uint32_t rc_reader_snaplen(const struct rc_reader *r)
{
	return r->format == RC_FMT_PCAP ? r->snaplen : r->first_snaplen;
}

uint64_t rc_reader_offset(const struct rc_reader *r)
{
	return rc_reader_here(r);
}

void rc_reader_close(struct rc_reader *r)
{
	if (!r)
		return;
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r);
}
