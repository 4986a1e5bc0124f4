/* The pcap writer thread: drains the producers' queues into files, rotates them, counts errors. */
#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ringcap/assert.h"
#include "ringcap/counters.h"
#include "ringcap/pcapio.h"
#include "ringcap/pcapw.h"
#include "ringcap/spsc.h"
#include "direct_io.h"

#define PCAPW_MAGIC	 0x50434157u /* "PCAW" */
#define IOBUF_BYTES	 (4u << 20)
#define DEFAULT_QUEUE	 (16u << 20)
#define MAX_FILES	 1000000u
#define BATCH		 1024 /* records taken from one queue before going to the next */
#define RELEASE_EVERY	 256  /* records consumed between hand-backs of queue space */
#define NAP_NS		 1000000ull
#define FLUSH_EVERY_NS	 100000000ull
#define RETRY_EVERY_NS	 1000000000ull
#define NS_PER_SEC	 1000000000ull
#define PART_SUFFIX	 ".part"
#define FILE_HDR_BYTES	 24 /* struct pcap_file_header */
#define RECORD_HDR_BYTES 16 /* struct pcap_sf_pkthdr as pcap_dump writes it */

/* What a producer puts in its queue: this header, then caplen bytes. */
struct rec {
	uint64_t ts_ns;
	uint32_t caplen;
	uint32_t wirelen;
};
_Static_assert(sizeof(struct rec) == 16, "queue record header is 16 bytes");

struct rc_pcapw {
	uint32_t magic;
	int nproducers;
	uint32_t snaplen;
	struct rc_spsc **queues; /* [producer] */

	/* Read-only once the writer runs. */
	char *path;
	char *what;
	uint64_t max_bytes;
	uint64_t rotate_ns;
	uint32_t max_files;
	uint32_t linktype;
	bool rotating; /* any of -C, -G, -W: names get a sequence number */
	bool micro;
	bool direct; /* write with O_DIRECT where the file system takes it */
	pcap_t *pd;  /* pcap_open_dead: linktype, snaplen and precision for pcap_dump */

	pthread_t thread;
	atomic_bool stop;

	/* The writer thread's own state (the control thread's until pthread_create). */
	FILE *f; /* NULL: no file open (an open failed; retried later) */
	pcap_dumper_t *dumper;
	char *iobuf;	    /* the stdio buffer of every file, one at a time */
	struct rc_dio *dio; /* what that buffer is flushed into (see direct_io.h) */
	char name[PATH_MAX];
	char part[PATH_MAX];
	uint32_t seq;	     /* sequence number of the next file */
	uint64_t good_off;   /* file offset at the end of the last successful flush */
	uint64_t pend_bytes; /* written into the stdio buffer since */
	uint64_t pend_pkts;
	uint64_t pend_caplen;
	uint64_t file_pkts; /* packets in the current file, pending ones included */
	uint64_t opened_ns; /* CLOCK_MONOTONIC */
	uint64_t flushed_ns;
	uint64_t tried_ns; /* last failed open */
	char **kept;	   /* -W: names on disk of the files created, oldest first (a ring) */
	uint32_t kept_head, kept_n;

	/* Counts: the writer thread stores (relaxed), anyone loads (relaxed). */
	_Alignas(64) struct rc_pcapw_stats st;
};

static void check_writer(const struct rc_pcapw *w)
{
	RC_ASSERT(w != NULL && w->magic == PCAPW_MAGIC);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void note_error(struct rc_pcapw *w, int e)
{
	rc_ctr_bump(&w->st.errors, 1);
	__atomic_store_n(&w->st.last_errno, e, __ATOMIC_RELAXED);
}

/*
 * libpcap takes DLT_* values and writes the matching LINKTYPE_*; the two differ only below
 * DLT_MATCHING_MIN (104), and of those only for the few linktypes here.
 */
static int linktype_to_dlt(uint32_t linktype)
{
	switch (linktype) {
	case 100:
		return DLT_ATM_RFC1483;
	case 101:
		return DLT_RAW;
	case 102:
		return DLT_SLIP_BSDOS;
	case 103:
		return DLT_PPP_BSDOS;
	default:
		return (int)linktype;
	}
}

/* The name of file `seq` (see pcapw.h) into out[PATH_MAX]. 0 or -ENAMETOOLONG. */
static int make_name(const struct rc_pcapw *w, uint32_t seq, char *out)
{
	char base[PATH_MAX];
	size_t len;
	int n;

	if (strchr(w->path, '%') != NULL) {
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		/* 0 means too long, or an empty expansion, which is no name either. */
		if (strftime(base, sizeof(base), w->path, &tm) == 0)
			return -ENAMETOOLONG;
	} else {
		if (strlen(w->path) >= sizeof(base))
			return -ENAMETOOLONG;
		strcpy(base, w->path);
	}
	len = strlen(base);
	if (!w->rotating)
		n = snprintf(out, PATH_MAX, "%s", base);
	else if (len >= 5 && strcmp(base + len - 5, ".pcap") == 0)
		n = snprintf(out, PATH_MAX, "%.*s-%06u.pcap", (int)(len - 5), base, seq);
	else
		n = snprintf(out, PATH_MAX, "%s-%06u", base, seq);
	/* Room for the ".part" that the file carries while written. */
	if (n < 0 || (size_t)n + sizeof(PART_SUFFIX) > PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* -W: remember a file left on disk (its final name, or its .part name if it kept that). */
static void keep_file(struct rc_pcapw *w, const char *name)
{
	char *copy;

	if (w->max_files == 0)
		return;
	RC_ASSERT(w->kept_n < w->max_files);
	copy = strdup(name);
	if (copy == NULL) {
		/* Unable to track it: it will not be removed; say so through the counts. */
		note_error(w, ENOMEM);
		return;
	}
	w->kept[(w->kept_head + w->kept_n) % w->max_files] = copy;
	w->kept_n++;
}

/* -W: unlink the oldest files until one more fits under max_files. */
static void make_room(struct rc_pcapw *w)
{
	if (w->max_files == 0)
		return;
	while (w->kept_n + 1 > w->max_files) {
		char *old = w->kept[w->kept_head];

		/* Already gone (removed by someone else) is what we wanted anyway. */
		if (unlink(old) != 0 && errno != ENOENT)
			note_error(w, errno);
		free(old);
		w->kept[w->kept_head] = NULL;
		w->kept_head = (w->kept_head + 1) % w->max_files;
		w->kept_n--;
	}
}

/*
 * Open file w->seq as NAME.part and write its header through to the kernel. 0, or -errno with a
 * message in err (errlen may be 0 at run time, when only the counts tell).
 */
static int open_file(struct rc_pcapw *w, uint64_t now, char *err, size_t errlen)
{
	FILE *f;
	pcap_dumper_t *d;
	size_t len;
	int rc, e;

	RC_ASSERT(w->f == NULL);
	make_room(w);
	rc = make_name(w, w->seq, w->name);
	if (rc != 0) {
		snprintf(err, errlen, "%s: '%s': file name too long", w->what, w->path);
		return rc;
	}
	/* make_name left room for the suffix. */
	len = strlen(w->name);
	RC_ASSERT(len + sizeof(PART_SUFFIX) <= sizeof(w->part));
	memcpy(w->part, w->name, len);
	memcpy(w->part + len, PART_SUFFIX, sizeof(PART_SUFFIX));
	f = rc_dio_fopen(w->dio, w->part, w->direct);
	if (f == NULL) {
		e = errno;
		snprintf(err, errlen, "%s: cannot create '%s': %s", w->what, w->part, strerror(e));
		return -e;
	}
	/* Before any I/O on f; the buffer outlives f (it is the writer's). */
	if (setvbuf(f, w->iobuf, _IOFBF, IOBUF_BYTES) != 0) {
		fclose(f);
		unlink(w->part);
		snprintf(err, errlen, "%s: cannot buffer '%s'", w->what, w->part);
		return -ENOMEM;
	}
	/*
	 * The 24-byte header lands in the empty 4 MiB buffer, so this cannot fail on I/O (libpcap
	 * would then have closed f itself); only an unknown link type fails, and leaves f open.
	 */
	d = pcap_dump_fopen(w->pd, f);
	if (d == NULL) {
		snprintf(err, errlen, "%s: cannot write link type %u to '%s': %s", w->what,
			 w->linktype, w->part, pcap_geterr(w->pd));
		fclose(f);
		unlink(w->part);
		return -EINVAL;
	}
	/* libpcap's dumper is its FILE (pcap_dump_close is a bare fclose): see close_file. */
	RC_ASSERT(pcap_dump_file(d) == f);
	if (fflush(f) != 0) {
		e = errno;
		snprintf(err, errlen, "%s: cannot write '%s': %s", w->what, w->part, strerror(e));
		fclose(f);
		unlink(w->part);
		return -e;
	}
	w->f = f;
	w->dumper = d;
	w->good_off = FILE_HDR_BYTES;
	w->pend_bytes = w->pend_pkts = w->pend_caplen = w->file_pkts = 0;
	w->opened_ns = w->flushed_ns = now;
	w->seq++;
	rc_ctr_bump(&w->st.files, 1);
	return 0;
}

/*
 * Cut the file back to the end of the last good flush after a failed one: stdio has dropped the
 * buffer, the kernel may hold part of it. If even that fails, the file is given up (it keeps its
 * .part name, as it may end in a torn record) and the next packet opens a new one.
 */
static void truncate_back(struct rc_pcapw *w)
{
	/* pcap_dump writes nothing to a stream in error: clear it first. */
	clearerr(w->f);
	errno = EIO;
	if (rc_dio_truncate(w->dio, w->good_off) == 0 &&
	    fseeko(w->f, (off_t)w->good_off, SEEK_SET) == 0 && ftello(w->f) == (off_t)w->good_off)
		return;
	note_error(w, errno);
	fclose(w->f);
	w->f = NULL;
	w->dumper = NULL;
	keep_file(w, w->part);
	w->tried_ns = 0; /* no failed open to wait for */
}

/* Hand what stdio holds to the kernel; the pending packets become written or lost. */
static void flush_file(struct rc_pcapw *w, uint64_t now)
{
	w->flushed_ns = now;
	if (w->f == NULL || w->pend_bytes == 0)
		return;
	if (fflush(w->f) == 0) {
		w->good_off += w->pend_bytes;
		rc_ctr_bump(&w->st.packets, w->pend_pkts);
		rc_ctr_bump(&w->st.bytes, w->pend_caplen);
	} else {
		note_error(w, errno);
		rc_ctr_bump(&w->st.lost, w->pend_pkts);
		w->file_pkts -= w->pend_pkts;
		truncate_back(w);
	}
	w->pend_bytes = w->pend_pkts = w->pend_caplen = 0;
}

/* Flush, close (checked) and rename the current file, if any. */
static void close_file(struct rc_pcapw *w, uint64_t now)
{
	const char *on_disk = w->part;

	flush_file(w, now);
	if (w->f == NULL)
		return;
	/* fclose ourselves rather than pcap_dump_close (void): a failed close must be seen. */
	if (fclose(w->f) != 0) {
		note_error(w, errno);
	} else if (rename(w->part, w->name) != 0) {
		note_error(w, errno);
	} else {
		on_disk = w->name;
	}
	w->f = NULL;
	w->dumper = NULL;
	keep_file(w, on_disk);
}

/* Open the next file after a failure, at most once a second. true when a file is open. */
static bool retry_open(struct rc_pcapw *w, uint64_t now)
{
	int rc;

	if (w->f != NULL)
		return true;
	if (w->tried_ns != 0 && now - w->tried_ns < RETRY_EVERY_NS)
		return false;
	rc = open_file(w, now, NULL, 0);
	if (rc == 0) {
		w->tried_ns = 0;
		return true;
	}
	note_error(w, -rc);
	w->tried_ns = now;
	return false;
}

static void rotate(struct rc_pcapw *w, uint64_t now)
{
	close_file(w, now);
	w->tried_ns = 0;
	retry_open(w, now);
}

/* Write one record taken from a queue (or count it lost). */
static void write_record(struct rc_pcapw *w, const struct rec *r, uint64_t now)
{
	uint64_t need = RECORD_HDR_BYTES + (uint64_t)r->caplen;
	struct pcap_pkthdr h;

	if (!retry_open(w, now)) {
		rc_ctr_bump(&w->st.lost, 1);
		return;
	}
	if (w->max_bytes != 0 && w->file_pkts != 0 &&
	    w->good_off + w->pend_bytes + need > w->max_bytes) {
		rotate(w, now);
		if (w->f == NULL) {
			rc_ctr_bump(&w->st.lost, 1);
			return;
		}
	}
	/* Flush before stdio would: it must never write on its own, or a failure is unaccounted. */
	if (w->pend_bytes + need > IOBUF_BYTES) {
		flush_file(w, now);
		if (!retry_open(w, now)) {
			rc_ctr_bump(&w->st.lost, 1);
			return;
		}
	}
	h.ts.tv_sec = (time_t)(r->ts_ns / NS_PER_SEC);
	h.ts.tv_usec = (suseconds_t)(r->ts_ns % NS_PER_SEC); /* nanoseconds in a NANO dumper */
	if (w->micro)
		h.ts.tv_usec /= 1000;
	h.caplen = r->caplen;
	h.len = r->wirelen;
	pcap_dump((u_char *)w->dumper, &h, (const u_char *)(r + 1));
	w->pend_bytes += need;
	w->pend_pkts++;
	w->pend_caplen += r->caplen;
	w->file_pkts++;
}

/* Take up to BATCH records from producer p's queue. Returns how many. */
static unsigned drain(struct rc_pcapw *w, int p, uint64_t now)
{
	struct rc_spsc *q = w->queues[p];
	const struct rec *r;
	uint32_t len;
	unsigned n = 0;

	while (n < BATCH && (r = rc_spsc_peek(q, &len)) != NULL) {
		RC_ASSERT(len >= sizeof(*r) && len - sizeof(*r) == r->caplen);
		write_record(w, r, now);
		rc_spsc_consume(q);
		if (++n % RELEASE_EVERY == 0)
			rc_spsc_release(q);
	}
	rc_spsc_release(q);
	return n;
}

/* Work that time, not packets, calls for: -G, the idle flush, reopening for -G. */
static void tick(struct rc_pcapw *w, uint64_t now)
{
	if (w->rotate_ns != 0) {
		if (w->f != NULL && now - w->opened_ns >= w->rotate_ns)
			rotate(w, now);
		else
			retry_open(w, now);
	}
	if (w->pend_bytes != 0 && now - w->flushed_ns >= FLUSH_EVERY_NS)
		flush_file(w, now);
}

static void *writer_main(void *arg)
{
	struct rc_pcapw *w = arg;
	const struct timespec nap = {0, (long)NAP_NS};

	for (;;) {
		/* Pairs with the release in rc_pcapw_close: every producer's last publish is seen.
		 */
		bool stop = atomic_load_explicit(&w->stop, memory_order_acquire);
		uint64_t n = 0;

		for (int p = 0; p < w->nproducers; p++)
			n += drain(w, p, mono_ns());
		tick(w, mono_ns());
		if (n != 0)
			continue;
		/* Empty after seeing stop: nothing more can come. */
		if (stop)
			break;
		clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL);
	}
	close_file(w, mono_ns());
	return NULL;
}

static void free_writer(struct rc_pcapw *w)
{
	if (w->queues != NULL)
		for (int p = 0; p < w->nproducers; p++)
			rc_spsc_free(w->queues[p]);
	free(w->queues);
	if (w->kept != NULL)
		for (uint32_t i = 0; i < w->kept_n; i++)
			free(w->kept[(w->kept_head + i) % w->max_files]);
	free(w->kept);
	if (w->pd != NULL)
		pcap_close(w->pd);
	free(w->iobuf);
	rc_dio_free(w->dio);
	free(w->path);
	free(w->what);
	w->magic = 0;
	free(w);
}

static int check_config(const struct rc_pcapw_config *cfg, const char *what, char *err,
			size_t errlen)
{
	size_t len = cfg->path != NULL ? strlen(cfg->path) : 0;

	if (len == 0) {
		snprintf(err, errlen, "%s: no file name", what);
		return -EINVAL;
	}
	if (cfg->path[len - 1] == '/') {
		snprintf(err, errlen, "%s: '%s' is a directory", what, cfg->path);
		return -EISDIR;
	}
	if (cfg->nproducers < 1 || cfg->nproducers > RC_PCAPW_MAX_PRODUCERS) {
		snprintf(err, errlen, "%s: %d producers (1 to %d)", what, cfg->nproducers,
			 RC_PCAPW_MAX_PRODUCERS);
		return -EINVAL;
	}
	if (cfg->snaplen > RC_MAX_CAPLEN) {
		snprintf(err, errlen, "%s: snapshot length %u is over %u", what, cfg->snaplen,
			 RC_MAX_CAPLEN);
		return -EINVAL;
	}
	if (cfg->max_files > MAX_FILES) {
		snprintf(err, errlen, "%s: -W %u is over %u files", what, cfg->max_files,
			 MAX_FILES);
		return -EINVAL;
	}
	return 0;
}

int rc_pcapw_open(struct rc_pcapw **out, const struct rc_pcapw_config *cfg, char *err,
		  size_t errlen)
{
	const char *what = cfg->what != NULL ? cfg->what : "-w";
	size_t qbytes = cfg->queue_bytes != 0 ? cfg->queue_bytes : DEFAULT_QUEUE;
	struct rc_pcapw *w;
	struct stat sb;
	int rc;

	RC_ASSERT(out != NULL && cfg != NULL);
	*out = NULL;
	rc = check_config(cfg, what, err, errlen);
	if (rc != 0)
		return rc;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto nomem;
	w->magic = PCAPW_MAGIC;
	w->nproducers = cfg->nproducers;
	w->snaplen = cfg->snaplen != 0 ? cfg->snaplen : RC_MAX_CAPLEN;
	w->max_bytes = cfg->max_bytes;
	w->rotate_ns = (uint64_t)cfg->rotate_secs * NS_PER_SEC;
	w->max_files = cfg->max_files;
	w->linktype = cfg->linktype;
	w->rotating = cfg->max_bytes != 0 || cfg->rotate_secs != 0 || cfg->max_files != 0;
	w->micro = cfg->micro;
	w->direct = !cfg->buffered;
	atomic_init(&w->stop, false);
	w->path = strdup(cfg->path);
	w->what = strdup(what);
	w->iobuf = malloc(IOBUF_BYTES);
	if (rc_dio_new(&w->dio, IOBUF_BYTES) != 0)
		w->dio = NULL;
	w->queues = calloc((size_t)w->nproducers, sizeof(*w->queues));
	if (w->max_files != 0)
		w->kept = calloc(w->max_files, sizeof(*w->kept));
	if (w->path == NULL || w->what == NULL || w->iobuf == NULL || w->dio == NULL ||
	    w->queues == NULL || (w->max_files != 0 && w->kept == NULL))
		goto nomem_free;
	w->pd = pcap_open_dead_with_tstamp_precision(linktype_to_dlt(w->linktype), (int)w->snaplen,
						     cfg->micro ? PCAP_TSTAMP_PRECISION_MICRO
								: PCAP_TSTAMP_PRECISION_NANO);
	if (w->pd == NULL)
		goto nomem_free;

	/* A path naming a folder would otherwise become "folder.part", then fail to rename. */
	rc = make_name(w, 0, w->name);
	if (rc != 0) {
		snprintf(err, errlen, "%s: '%s': file name too long", what, cfg->path);
		goto fail;
	}
	if (stat(w->name, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: '%s' is a directory", what, w->name);
		rc = -EISDIR;
		goto fail;
	}
	rc = open_file(w, mono_ns(), err, errlen);
	if (rc != 0)
		goto fail;

	for (int p = 0; p < w->nproducers; p++) {
		rc = rc_spsc_new(&w->queues[p], qbytes);
		if (rc != 0) {
			snprintf(err, errlen, "%s: out of memory for %d queues of %zu bytes", what,
				 w->nproducers, qbytes);
			goto fail_file;
		}
	}
	rc = -pthread_create(&w->thread, NULL, writer_main, w);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot start the writer thread: %s", what,
			 strerror(-rc));
		goto fail_file;
	}
	*out = w;
	return 0;

fail_file:
	fclose(w->f);
	unlink(w->part);
fail:
	free_writer(w);
	return rc;
nomem_free:
	free_writer(w);
nomem:
	snprintf(err, errlen, "%s: out of memory", what);
	return -ENOMEM;
}

bool rc_pcapw_put(struct rc_pcapw *w, int p, const struct rc_packet *pkt)
{
	uint32_t caplen;
	struct rec *r;

	check_writer(w);
	RC_ASSERT(p >= 0 && p < w->nproducers);
	caplen = pkt->caplen < w->snaplen ? pkt->caplen : w->snaplen;
	/* caplen <= RC_MAX_CAPLEN: no overflow; reserve refuses what exceeds a record. */
	r = rc_spsc_reserve(w->queues[p], (uint32_t)sizeof(*r) + caplen);
	if (r == NULL)
		return false;
	r->ts_ns = pkt->ts_ns;
	r->caplen = caplen;
	r->wirelen = pkt->wirelen;
	if (caplen != 0)
		memcpy(r + 1, pkt->data, caplen);
	rc_spsc_commit(w->queues[p]);
	return true;
}

void rc_pcapw_flush(struct rc_pcapw *w, int p)
{
	check_writer(w);
	RC_ASSERT(p >= 0 && p < w->nproducers);
	rc_spsc_publish(w->queues[p]);
}

void rc_pcapw_stats(const struct rc_pcapw *w, struct rc_pcapw_stats *out)
{
	check_writer(w);
	out->packets = __atomic_load_n(&w->st.packets, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&w->st.bytes, __ATOMIC_RELAXED);
	out->files = __atomic_load_n(&w->st.files, __ATOMIC_RELAXED);
	out->lost = __atomic_load_n(&w->st.lost, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&w->st.errors, __ATOMIC_RELAXED);
	out->last_errno = __atomic_load_n(&w->st.last_errno, __ATOMIC_RELAXED);
}

void rc_pcapw_close(struct rc_pcapw *w, struct rc_pcapw_stats *final)
{
	if (w == NULL)
		return;
	check_writer(w);
	/* Orders the producers' last publishes (before this call) before the writer's last pass. */
	atomic_store_explicit(&w->stop, true, memory_order_release);
	RC_ASSERT(pthread_join(w->thread, NULL) == 0);
	if (final != NULL)
		rc_pcapw_stats(w, final);
	free_writer(w);
}
