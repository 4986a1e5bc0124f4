/*
 * Reading capture files: classic pcap (usec/nsec, both byte orders) and pcapng (several sections
 * and interfaces), from a path or standard input. Our own reader: libpcap is not used to read.
 * Files and pipes are read in 1 MiB chunks (faster than a mapping, see reader.c); no copy is made
 * per packet.
 */
#ifndef RINGCAP_PCAPIO_H
#define RINGCAP_PCAPIO_H

#include <stddef.h>
#include <stdint.h>

#include "ringcap/counters.h"
#include "ringcap/packet.h"

/* Largest record ringcap accepts, as libpcap's MAXIMUM_SNAPLEN. */
#define RC_MAX_CAPLEN (256u * 1024u)

struct rc_reader;

struct rc_reader_options {
	/* Stop at a record whose caplen exceeds the file's snaplen (default: keep it, as libpcap
	 * and tshark do, and count read.caplen_gt_snaplen). Records over RC_MAX_CAPLEN always stop.
	 */
	int strict_snaplen;
};

/*
 * Open `path` ("-" for standard input). On success *out is set and 0 is returned. On failure a
 * negative errno-style code is returned and `err` (errlen bytes) holds a message that names the
 * file and what is wrong with it (missing, unreadable, not a capture file, truncated header ...).
 * Counters of the reader go to `ctrs`, which must outlive the reader.
 */
int rc_reader_open(struct rc_reader **out, const char *path, const struct rc_reader_options *opt,
		   struct rc_ctrs *ctrs, char *err, size_t errlen);

/*
 * Open a capture held in memory (`data`, `len` bytes, owned by the caller and kept alive until
 * rc_reader_close). Same contract as rc_reader_open; `name` is used in messages.
 */
int rc_reader_open_mem(struct rc_reader **out, const void *data, size_t len, const char *name,
		       const struct rc_reader_options *opt, struct rc_ctrs *ctrs, char *err,
		       size_t errlen);

/*
 * Fetch the next packet into *pkt. Returns 1 for a packet, 0 at the clean end of the input, and a
 * negative code when the input is damaged: rc_reader_error() then says what and at which byte
 * offset, and every packet before it has been delivered. pkt->data stays valid until the next
 * call. pkt->source is the pcapng interface index (0 for classic pcap).
 */
int rc_reader_next(struct rc_reader *r, struct rc_packet *pkt);

/* The message of the last error, naming the file and the byte offset. */
const char *rc_reader_error(const struct rc_reader *r);

/* "pcap" or "pcapng". */
const char *rc_reader_format(const struct rc_reader *r);

/* Link type of the file (classic pcap) or of the first interface (pcapng); -1 when none yet. */
int rc_reader_linktype(const struct rc_reader *r);

/* Snapshot length of the file (classic pcap) or of the first interface (pcapng). */
uint32_t rc_reader_snaplen(const struct rc_reader *r);

/* Byte offset of the next unread record. */
uint64_t rc_reader_offset(const struct rc_reader *r);

/* Close and free; NULL is allowed. */
void rc_reader_close(struct rc_reader *r);

#endif
