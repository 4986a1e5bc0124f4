/* What reader.c (input, classic pcap) and pcapng.c share: the reader's state and its input view. */
#ifndef RINGCAP_READER_INTERNAL_H
#define RINGCAP_READER_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ringcap/pcapio.h"

/* Bytes asked of read(2) at a time (files and pipes alike). */
#define RC_READER_CHUNK (1u << 20)

/* Largest pcapng block accepted (libpcap's INITIAL_MAX_BLOCKSIZE); a pipe buffers a whole block. */
#define RC_PCAPNG_MAX_BLOCK (16u << 20)

/* Interfaces remembered per pcapng section: pkt->source is a uint8_t. */
#define RC_PCAPNG_MAX_IFACES 256u

enum rc_input { RC_IN_MEM, RC_IN_STREAM };
enum rc_format { RC_FMT_PCAP, RC_FMT_PCAPNG };

struct rc_pcapng_iface {
	uint32_t linktype;
	uint32_t snaplen; /* 0: no limit */
	uint64_t mul;	  /* when a unit is a whole number of ns: ns = units * mul */
	uint64_t ups;	  /* otherwise units per second: ns = units * 10^9 / ups */
	int64_t offset_s; /* if_tsoffset */
	uint8_t ts_digits;
};

struct rc_reader {
	/* The input, seen as one window [base, base + len) starting at file offset base_off. */
	enum rc_input input;
	const uint8_t *base;
	size_t len;
	size_t pos; /* next unread byte, relative to base */
	uint64_t base_off;
	int fd;	       /* RC_IN_STREAM; -1 otherwise */
	int own_fd;    /* close fd at rc_reader_close (not for standard input) */
	int eof;       /* RC_IN_STREAM: read(2) returned 0 */
	uint8_t *buf;  /* RC_IN_STREAM: the buffer base points to */
	size_t bufcap; /* its size */
	size_t chunk;  /* bytes read(2) is asked for at least */

	enum rc_format format;
	int big;    /* byte order of the file (classic) or of the current section (pcapng) */
	int status; /* 0, or the sticky negative code of the first error */
	struct rc_reader_options opt;
	struct rc_ctrs *ctrs;

	/* classic pcap */
	uint32_t snaplen;
	uint32_t linktype;
	int nsec;

	/* pcapng: the current section's interfaces (the first 256), and the file's first one */
	struct rc_pcapng_iface ifs[RC_PCAPNG_MAX_IFACES];
	uint32_t nifs; /* IDBs seen in this section, may exceed RC_PCAPNG_MAX_IFACES */
	int first_linktype;
	uint32_t first_snaplen;

	char name[256];
	char err[512];
};

/*
 * Open an already open descriptor as a stream (read(2) in chunks of `chunk` bytes),
 * so that tests can drive the chunked path with small chunks. `own_fd`: close it at
 * rc_reader_close. Otherwise the contract of rc_reader_open.
 */
int rc_reader_open_fd(struct rc_reader **out, int fd, int own_fd, const char *name, size_t chunk,
		      const struct rc_reader_options *opt, struct rc_ctrs *ctrs, char *err,
		      size_t errlen);

/*
 * Make `need` bytes available at r->base + r->pos. Returns 0 when they are, 1 when the input ends
 * before (r->len - r->pos bytes are there), or a negative errno from read(2) (message set). In
 * stream mode it may move the unread tail down and grow the buffer: pointers into base die.
 */
int rc_reader_fill(struct rc_reader *r, size_t need);

/* Record the first error: "<name>: <message>"; returns `code` (negative) for tail calls. */
int rc_reader_fail(struct rc_reader *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* File offset of r->base + r->pos. */
static inline uint64_t rc_reader_here(const struct rc_reader *r)
{
	return r->base_off + r->pos;
}

static inline uint16_t rc_get16(int big, const uint8_t *p)
{
	return big ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static inline uint32_t rc_get32(int big, const uint8_t *p)
{
	if (big)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* pcapng: parse the section header at r->pos (its first 4 bytes are the SHB type). */
int rc_pcapng_open(struct rc_reader *r);

/* pcapng: the next packet, as rc_reader_next. */
int rc_pcapng_next(struct rc_reader *r, struct rc_packet *pkt);

#endif
