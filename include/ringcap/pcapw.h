/*
 * Writing pcap files on a thread of their own (libpcap's writer: pcap_dump), with rotation as
 * tcpdump's -C/-G/-W. Used for `-w` (every captured packet) and for `--overflow` (the packets
 * no decoder could take right now). Producers (capture threads) never wait on the disk: each
 * copies packets into its own lock-free queue to the writer and goes on; a full queue is the
 * producer's to count.
 *
 * Order: the packets of one producer reach the files in the order it put them. Across
 * producers, files hold packets in the order the writer drained them (it takes up to a batch
 * from each queue in turn), so timestamps of different producers may interleave out of order.
 *
 * Files: a file being written is named NAME.part and renamed to NAME once complete and closed,
 * so a reader never sees half a file under its final name. NAME is the configured path, passed
 * through strftime(3) (local time of the file's opening) when it holds a '%'; when rotation is on
 * (-C, -G or -W), a six-digit sequence number from 000000 is put before a final ".pcap" (or
 * appended after a '-' when there is none): spill.pcap -> spill-000000.pcap, spill-000001.pcap
 * (past 999999 it simply grows a digit). An existing file of the same name is replaced.
 *
 * Rotation: -C starts a new file before a packet that would make the current one pass max_bytes
 * (the 24-byte file header counts; a file always gets at least one packet, so a packet larger
 * than max_bytes makes a file of its own). -G starts a new file rotate_secs after the current
 * one was opened (monotonic clock), also when no packet comes: without traffic, header-only
 * files keep appearing. -W counts the files this writer created that are still on disk (the
 * current one included) and unlinks the oldest before opening one that would pass max_files.
 *
 * Errors never stop the writer and never reach the producers. Output goes through a 4 MiB stdio
 * buffer that the writer flushes itself before it would fill (and after ~100 ms without a flush,
 * so readers see data), so every flush settles a known set of packets: on success they count
 * in `packets`; on failure (ENOSPC, EFBIG, EIO ...) they count in `lost`, the file is cut back
 * to the end of the last good flush (it stays a valid pcap) and writing goes on in it. When a
 * new file cannot be opened at run time, packets count in `lost` until a retry succeeds (at the
 * next packet, at most once a second; with -G also without packets). So once rc_pcapw_close
 * returns, every packet the writer took from the queues is in exactly one of packets or lost.
 *
 * Disk: files are written with O_DIRECT (whole 4 KiB blocks from an aligned buffer, the last
 * partial block through the page cache) unless the file system refuses it or `buffered` is set:
 * the kernel then has no page-cache copy to make, which is most of the CPU that writing a
 * file at disk speed costs. A flush still hands every byte to the kernel, as above.
 *
 * Threads: rc_pcapw_open and rc_pcapw_close from one control thread; rc_pcapw_put and
 * rc_pcapw_flush by producer p only (one thread per producer index); rc_pcapw_stats anywhere.
 */
#ifndef RINGCAP_PCAPW_H
#define RINGCAP_PCAPW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringcap/packet.h"

/* Most producers one writer takes. */
#define RC_PCAPW_MAX_PRODUCERS 1024

struct rc_pcapw;

struct rc_pcapw_config {
	const char *path;     /* file name or strftime pattern (see above); required */
	const char *what;     /* "-w" or "--overflow": names the option in messages (NULL: "-w") */
	uint64_t max_bytes;   /* -C: start a new file before one would pass this size; 0: never */
	uint32_t rotate_secs; /* -G: start a new file every this many seconds, with or without
				 packets; 0: never */
	uint32_t max_files;   /* -W: keep at most this many files, removing the oldest; 0: all;
				 at most 1000000 */
	uint32_t linktype;    /* LINKTYPE_* of every packet written */
	uint32_t snaplen;     /* the files' snapshot length (0: 262144, the most allowed); bytes
				 past it are not written */
	bool micro;	      /* microsecond timestamps (default: nanosecond) */
	bool buffered;	      /* write through the page cache (default: O_DIRECT where the file
				 system takes it; see src/pcapio/direct_io.h) */
	int nproducers;	      /* producer indices 0 .. nproducers-1 (1 .. RC_PCAPW_MAX_PRODUCERS) */
	size_t queue_bytes;   /* bytes of each producer's queue (default 16 MiB when 0) */
};

/*
 * What the writer did so far; every field only grows. Once rc_pcapw_close has returned, packets +
 * lost is every packet the writer took from the queues.
 */
struct rc_pcapw_stats {
	uint64_t packets; /* written to a file and flushed to the kernel */
	uint64_t bytes;	  /* their captured bytes */
	uint64_t files;	  /* files opened (the one being written included) */
	uint64_t lost;	  /* taken from the queues but not written (disk full, I/O error) */
	uint64_t errors;  /* failed flushes, closes, renames, unlinks, opens (each counted once) */
	int last_errno;	  /* errno of the last of those; 0 when none */
};

/*
 * Check the configuration, open the first file (so a missing or unwritable folder or a full
 * disk is reported at start, not later) and start the writer thread. 0, or -errno with a
 * message in err naming the option and the path, to be prefixed with "ringcap: " by the caller
 * (e.g. "-w: cannot create '/x/y.pcap.part': No such file or directory"): -EINVAL for a bad
 * configuration or a link type libpcap cannot write, -EISDIR when the path names a folder,
 * -ENAMETOOLONG, -ENOMEM, or the errno of creating or writing the first file.
 * Control thread; allocates nproducers queues of queue_bytes and touches them.
 */
int rc_pcapw_open(struct rc_pcapw **out, const struct rc_pcapw_config *cfg, char *err,
		  size_t errlen);

/*
 * Producer p: copy one packet into p's queue (not yet visible to the writer). false when the
 * queue is full or the packet larger than a queue record may be (about queue_bytes / 2): the
 * packet is not written and the producer counts it. Wait-free: no lock, no system call; one
 * copy of min(caplen, snaplen) bytes plus a 16-byte record header.
 */
bool rc_pcapw_put(struct rc_pcapw *w, int p, const struct rc_packet *pkt);

/*
 * Producer p: make what p has put visible to the writer (call once per batch, e.g. per block,
 * and before the producer stops or waits). One release store; the writer, napping ~1 ms when
 * idle, picks the batch up without being woken.
 */
void rc_pcapw_flush(struct rc_pcapw *w, int p);

/* Any thread: a snapshot of the counts (relaxed loads). */
void rc_pcapw_stats(const struct rc_pcapw *w, struct rc_pcapw_stats *out);

/*
 * After every producer has stopped and flushed: write what is queued, close and rename the last
 * file, join the thread and free. NULL is allowed. Final counts are in *final when not NULL.
 */
void rc_pcapw_close(struct rc_pcapw *w, struct rc_pcapw_stats *final);

#endif
