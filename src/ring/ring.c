/* One AF_PACKET TPACKET_V3 receive ring: setup with errors that say what to change, block walk. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ringcap/assert.h"
#include "ringcap/ring.h"

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif

/* Nominal: in V3 frames are packed at their real size; the kernel only checks this divides. */
#define FRAME_BYTES 2048u

#define RING_MAGIC 0x52494e47u

struct rc_ring {
	uint32_t magic;
	int fd;
	uint8_t *map;
	size_t map_bytes;
	uint32_t block_bytes, block_nr, cur;
	uint32_t snaplen, linktype;
	uint8_t index;
	bool locked;
	_Atomic uint32_t nheld; /* blocks taken and not yet handed back */
	_Atomic uint32_t *refs; /* [block_nr]: references to each taken block; 0: the kernel's */
	uint64_t next_seq;	/* the kernel numbers blocks from 1 */
	struct rc_ring_stats totals;
	char desc[192];
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* "256 MiB", "4 KiB", "12345 bytes": exact, never rounded. */
static const char *human(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;
	while (u + 1 < RC_ARRAY_SIZE(units) && bytes && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", bytes, units[u]);
	return buf;
}

/* MemAvailable in bytes, 0 when unknown. */
static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	char line[128];
	uint64_t kib = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024;
}

static bool power_of_two(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Reject what the kernel would refuse, and what it would try to satisfy by exhausting memory. */
static int check_geometry(const struct rc_ring_config *cfg, char *err, size_t errlen)
{
	char a[32], b[32], c[32];
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t bb = cfg->block_bytes, rb = cfg->ring_bytes;

	if (!power_of_two(bb) || bb % page)
		return fail(err, errlen, -EINVAL,
			    "ring block size %" PRIu64
			    " is not a power of two multiple of the page "
			    "size (%" PRIu64 "); give e.g. 1 MiB",
			    bb, page);
	if (bb < FRAME_BYTES)
		return fail(err, errlen, -EINVAL, "ring block size %" PRIu64 " is below %u bytes",
			    bb, FRAME_BYTES);
	if (rb < bb || rb % bb)
		return fail(err, errlen, -EINVAL,
			    "ring size %s is not a whole number of %s blocks; give a multiple "
			    "of the block size with --ring-size",
			    human(a, sizeof(a), rb), human(b, sizeof(b), bb));
	uint64_t blocks = rb / bb;
	if (blocks * (bb / FRAME_BYTES) > UINT32_MAX)
		return fail(err, errlen, -EINVAL,
			    "ring of %s in %" PRIu64 " blocks of %s has more frames than the "
			    "kernel can count; give a smaller --ring-size",
			    human(a, sizeof(a), rb), blocks, human(b, sizeof(b), bb));
	/* The kernel's last fallback allocation may wake the OOM killer: never ask for that. */
	uint64_t avail = mem_available();
	if (avail && rb > avail)
		return fail(err, errlen, -ENOMEM,
			    "ring of %s (%" PRIu64 " blocks of %s) is more than the memory "
			    "available on this host (%s); give a smaller --ring-size",
			    human(a, sizeof(a), rb), blocks, human(b, sizeof(b), bb),
			    human(c, sizeof(c), avail & ~(uint64_t)1023));
	return 0;
}

static int attach(int fd, const void *insns, uint16_t len)
{
	if (!insns || !len) {
		int unused = 0; /* the kernel wants an int-sized option even here */
		if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof(unused)) &&
		    errno != ENOENT)
			return -errno;
		return 0;
	}
	struct sock_fprog prog = {.len = len, .filter = (struct sock_filter *)insns};
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		return -errno;
	return 0;
}

/* Interface index and link type; the interface must be up. */
static int check_interface(struct rc_ring *r, const char *ifname, int *ifindex, char *err,
			   size_t errlen)
{
	struct ifreq ifr;
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return fail(err, errlen, -ENODEV, "no such interface: %s", ifname ? ifname : "");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(r->fd, SIOCGIFINDEX, &ifr))
		return fail(err, errlen, errno == ENODEV ? -ENODEV : -errno,
			    "no such interface: %s", ifname);
	*ifindex = ifr.ifr_ifindex;
	if (ioctl(r->fd, SIOCGIFHWADDR, &ifr))
		return fail(err, errlen, -errno, "interface %s: link type: %s", ifname,
			    strerror(errno));
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		r->linktype = RC_LINK_EN10MB;
		break;
	case ARPHRD_NONE:
	case ARPHRD_RAWIP:
		r->linktype = RC_LINK_RAW;
		break;
	default:
		return fail(err, errlen, -EPROTONOSUPPORT,
			    "interface %s has link type ARPHRD %u, which ringcap cannot capture",
			    ifname, ifr.ifr_hwaddr.sa_family);
	}
	if (ioctl(r->fd, SIOCGIFFLAGS, &ifr))
		return fail(err, errlen, -errno, "interface %s: flags: %s", ifname,
			    strerror(errno));
	if (!(ifr.ifr_flags & IFF_UP))
		return fail(err, errlen, -ENETDOWN, "interface %s is down", ifname);
	return 0;
}

static int setup_ring(struct rc_ring *r, const struct rc_ring_config *cfg, char *err, size_t errlen)
{
	char a[32], b[32];
	int v = TPACKET_V3;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)))
		return fail(err, errlen, -errno, "TPACKET_V3 not supported: %s", strerror(errno));
	/* Head room before each frame, so a stripped VLAN tag can be put back in place. */
	unsigned reserve = RC_RING_RESERVE;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof(reserve)))
		return fail(err, errlen, -errno, "PACKET_RESERVE: %s", strerror(errno));

	r->block_bytes = cfg->block_bytes;
	r->block_nr = (uint32_t)(cfg->ring_bytes / cfg->block_bytes);
	r->refs = calloc(r->block_nr, sizeof(*r->refs));
	if (!r->refs)
		return fail(err, errlen, -ENOMEM, "out of memory");
	struct tpacket_req3 req = {
		.tp_block_size = r->block_bytes,
		.tp_block_nr = r->block_nr,
		.tp_frame_size = FRAME_BYTES,
		.tp_frame_nr = (r->block_bytes / FRAME_BYTES) * r->block_nr,
		.tp_retire_blk_tov = cfg->block_timeout_ms,
		/* No TP_FT_REQ_FILL_RXHASH: dispatch computes its own symmetric hash. */
	};
	if (setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req))) {
		int e = errno;
		return fail(err, errlen, -e,
			    "the kernel refused a ring of %s in %u blocks of %s (%s); give a "
			    "smaller --ring-size%s",
			    human(a, sizeof(a), cfg->ring_bytes), r->block_nr,
			    human(b, sizeof(b), r->block_bytes), strerror(e),
			    e == ENOMEM
				    ? ", or check free memory and vm settings (vm.min_free_kbytes)"
				    : " or another block size");
	}

	r->map_bytes = (size_t)r->block_bytes * r->block_nr;
	int flags = MAP_SHARED | MAP_POPULATE;
	void *m = mmap(NULL, r->map_bytes, PROT_READ | PROT_WRITE, flags | MAP_LOCKED, r->fd, 0);
	r->locked = m != MAP_FAILED;
	if (m == MAP_FAILED && (errno == EPERM || errno == EAGAIN || errno == ENOMEM))
		m = mmap(NULL, r->map_bytes, PROT_READ | PROT_WRITE, flags, r->fd, 0);
	if (m == MAP_FAILED) {
		int e = errno;
		return fail(err, errlen, -e,
			    "cannot map a ring of %s in %u blocks of %s (%s); give a smaller "
			    "--ring-size, or check `ulimit -l` and vm.max_map_count",
			    human(a, sizeof(a), cfg->ring_bytes), r->block_nr,
			    human(b, sizeof(b), r->block_bytes), strerror(e));
	}
	r->map = m;
	return 0;
}

static int join_fanout(struct rc_ring *r, const struct rc_ring_config *cfg, char *err,
		       size_t errlen)
{
	static const int modes[] = {
		[RC_FANOUT_HASH] = PACKET_FANOUT_HASH, [RC_FANOUT_CPU] = PACKET_FANOUT_CPU,
		[RC_FANOUT_LB] = PACKET_FANOUT_LB,     [RC_FANOUT_QM] = PACKET_FANOUT_QM,
		[RC_FANOUT_RND] = PACKET_FANOUT_RND,
	};
	if ((unsigned)cfg->fanout >= RC_ARRAY_SIZE(modes))
		return fail(err, errlen, -EINVAL, "unknown fanout mode %d", (int)cfg->fanout);
	uint32_t type = (uint32_t)modes[cfg->fanout];
	if (cfg->fanout_rollover)
		type |= PACKET_FANOUT_FLAG_ROLLOVER;
	if (cfg->fanout_defrag)
		type |= PACKET_FANOUT_FLAG_DEFRAG;
	uint32_t arg = cfg->fanout_id | type << 16;
	if (!setsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)))
		return 0;
	int e = errno;
	if (e == EINVAL || e == EALREADY)
		return fail(err, errlen, -e,
			    "fanout group id %u is already in use on this host with other "
			    "settings; give another with --fanout-id",
			    cfg->fanout_id);
	if (e == ENOSPC)
		return fail(err, errlen, -e,
			    "fanout group id %u is full; give another with --fanout-id",
			    cfg->fanout_id);
	return fail(err, errlen, -e, "cannot join fanout group %u: %s", cfg->fanout_id,
		    strerror(e));
}

static const char *const mode_names[] = {
	[RC_FANOUT_HASH] = "hash", [RC_FANOUT_CPU] = "cpu", [RC_FANOUT_LB] = "lb",
	[RC_FANOUT_QM] = "qm",	   [RC_FANOUT_RND] = "rnd", [RC_FANOUT_NONE] = "none",
};

static void describe(struct rc_ring *r, const struct rc_ring_config *cfg)
{
	char a[32], b[32];
	int n = snprintf(r->desc, sizeof(r->desc), "%s in %u blocks of %s, timeout %u ms",
			 human(a, sizeof(a), r->map_bytes), r->block_nr,
			 human(b, sizeof(b), r->block_bytes), cfg->block_timeout_ms);
	if (cfg->fanout != RC_FANOUT_NONE && n > 0 && (size_t)n < sizeof(r->desc))
		n += snprintf(r->desc + n, sizeof(r->desc) - (size_t)n, ", fanout %s%s%s id %u",
			      mode_names[cfg->fanout], cfg->fanout_rollover ? "+rollover" : "",
			      cfg->fanout_defrag ? "+defrag" : "", cfg->fanout_id);
	if (!r->locked && n > 0 && (size_t)n < sizeof(r->desc))
		snprintf(r->desc + n, sizeof(r->desc) - (size_t)n, ", not locked");
}

/*
 * Order matters. The socket starts with protocol 0, so it queues nothing. The filter goes on
 * before bind: no packet that fails it is ever queued. A ring that joins a fanout group gets a
 * drop-everything filter instead, because between bind and the join it is a standalone tap and
 * would take copies of packets the group also delivers; the real filter replaces it (atomically)
 * once the ring is a member.
 */
int rc_ring_open(struct rc_ring **out, const struct rc_ring_config *cfg, char *err, size_t errlen)
{
	static const struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	RC_ASSERT(out && cfg);
	*out = NULL;
	int rc = check_geometry(cfg, err, errlen);
	if (rc)
		return rc;

	struct rc_ring *r = calloc(1, sizeof(*r));
	if (!r)
		return fail(err, errlen, -ENOMEM, "out of memory");
	r->magic = RING_MAGIC;
	r->snaplen = cfg->snaplen ? cfg->snaplen : UINT32_MAX;
	r->index = cfg->index;
	r->next_seq = 1;
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		int e = errno;
		free(r);
		if (e == EPERM || e == EACCES)
			return fail(err, errlen, -EPERM,
				    "ringcap needs root or CAP_NET_RAW to capture (socket: %s)",
				    strerror(EPERM));
		return fail(err, errlen, -e, "socket(AF_PACKET): %s", strerror(e));
	}

	int ifindex = 0;
	bool fanout = cfg->fanout != RC_FANOUT_NONE;
	rc = check_interface(r, cfg->ifname, &ifindex, err, errlen);
	if (!rc)
		rc = setup_ring(r, cfg, err, errlen);
	if (!rc && cfg->promisc) {
		struct packet_mreq mr = {.mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC};
		if (setsockopt(r->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
			rc = fail(err, errlen, -errno, "promiscuous mode on %s: %s", cfg->ifname,
				  strerror(errno));
	}
	if (!rc) {
		rc = fanout ? attach(r->fd, drop_all, 1)
			    : attach(r->fd, cfg->filter_insns, cfg->filter_len);
		if (rc)
			fail(err, errlen, rc, "cannot attach the filter (%u instructions): %s",
			     cfg->filter_len, strerror(-rc));
	}
	if (!rc) {
		struct sockaddr_ll sll = {.sll_family = AF_PACKET,
					  .sll_protocol = htons(ETH_P_ALL),
					  .sll_ifindex = ifindex};
		if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)))
			rc = fail(err, errlen, -errno, "bind to %s: %s", cfg->ifname,
				  strerror(errno));
	}
	if (!rc && fanout) {
		rc = join_fanout(r, cfg, err, errlen);
		if (!rc) {
			/*
			 * Joining unhooks the socket's own tap without waiting for an RCU grace
			 * period: a frame another CPU was already delivering through that tap
			 * would pass the real filter too and arrive twice (once through the
			 * group). User space cannot wait for the grace period itself; 2 ms covers
			 * any softirq in progress short of a stalled virtual CPU (seen once in
			 * tests/unit/test-ring.c's join-under-traffic case before this wait).
			 */
			struct timespec grace = {0, 2 * 1000 * 1000};
			nanosleep(&grace, NULL);
			rc = attach(r->fd, cfg->filter_insns, cfg->filter_len);
			if (rc)
				fail(err, errlen, rc,
				     "cannot attach the filter (%u instructions): %s",
				     cfg->filter_len, strerror(-rc));
		}
	}
	if (rc) {
		rc_ring_close(r);
		return rc;
	}
	describe(r, cfg);
	*out = r;
	return 0;
}

int rc_ring_wait(struct rc_ring *r, int timeout_ms)
{
	RC_ASSERT(r && r->magic == RING_MAGIC);
	struct pollfd p = {.fd = r->fd, .events = POLLIN | POLLERR};
	int n = poll(&p, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return 0;
	if (p.revents & POLLERR) {
		int e = 0;
		socklen_t len = sizeof(e);
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 && e)
			return -e;
	}
	if (p.revents & POLLNVAL)
		return -EBADF;
	return (p.revents & POLLIN) ? 1 : 0;
}

static struct tpacket_block_desc *block_at(const struct rc_ring *r, uint32_t i)
{
	return (struct tpacket_block_desc *)(r->map + (size_t)i * r->block_bytes);
}

int rc_ring_block(struct rc_ring *r, struct rc_ring_block *b)
{
	RC_ASSERT(r && r->magic == RING_MAGIC && b);
	/* Blocks are taken in ring order; the one at the cursor may still be held from the last
	 * lap (its status is still ours): then the kernel is stuck behind it too. */
	if (atomic_load_explicit(&r->refs[r->cur], memory_order_acquire))
		return 0;
	struct tpacket_block_desc *d = block_at(r, r->cur);
	/* Acquire: the packets the kernel wrote are visible once we see TP_STATUS_USER. */
	uint32_t status = __atomic_load_n(&d->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
	if (!(status & TP_STATUS_USER))
		return 0;
	struct tpacket_hdr_v1 *h = &d->hdr.bh1;
	RC_ASSERT(h->offset_to_first_pkt < r->block_bytes);
	RC_ASSERT(h->blk_len <= r->block_bytes);
	uint64_t seq = h->seq_num;
	if (seq != r->next_seq)
		r->totals.seq_gaps += seq > r->next_seq ? seq - r->next_seq : 1;
	r->next_seq = seq + 1;
	r->totals.blocks++;
	*b = (struct rc_ring_block){
		.base = (uint8_t *)d,
		.num_pkts = h->num_pkts,
		.next = (uint8_t *)d + h->offset_to_first_pkt,
		.seq = seq,
		.index = r->cur,
		.ring = r,
	};
	atomic_store_explicit(&r->refs[r->cur], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->nheld, 1, memory_order_relaxed);
	r->cur = r->cur + 1 == r->block_nr ? 0 : r->cur + 1;
	return 1;
}

bool rc_ring_block_next(struct rc_ring_block *b, struct rc_packet *pkt, struct rc_vlan_tag *vlan)
{
	RC_ASSERT(b && b->ring && pkt);
	if (b->seen >= b->num_pkts)
		return false;
	const struct rc_ring *r = b->ring;
	const uint8_t *end = b->base + r->block_bytes;
	RC_ASSERT(b->next + sizeof(struct tpacket3_hdr) <= end);
	const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)b->next;
	RC_ASSERT(b->next + h->tp_mac + h->tp_snaplen <= end);

	pkt->data = b->next + h->tp_mac;
	pkt->caplen = h->tp_snaplen < r->snaplen ? h->tp_snaplen : r->snaplen;
	pkt->wirelen = h->tp_len;
	pkt->ts_ns = (uint64_t)h->tp_sec * 1000000000u + h->tp_nsec;
	pkt->ts_digits = 9;
	pkt->linktype = r->linktype;
	pkt->source = r->index;
	if (vlan) {
		vlan->tci = vlan->tpid = 0;
		if (h->tp_status & TP_STATUS_VLAN_VALID) {
			vlan->tci = h->hv1.tp_vlan_tci;
			vlan->tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID)
					     ? h->hv1.tp_vlan_tpid
					     : 0x8100;
		}
	}
	b->seen++;
	/* The last packet's tp_next_offset is 0; seen stops the walk before it is used. */
	RC_ASSERT(b->seen == b->num_pkts || h->tp_next_offset);
	b->next += h->tp_next_offset;
	return true;
}

void rc_ring_block_hold(struct rc_ring *r, const struct rc_ring_block *b, uint32_t n)
{
	RC_ASSERT(r && r->magic == RING_MAGIC && b && b->ring == r && b->index < r->block_nr);
	RC_ASSERT(atomic_load_explicit(&r->refs[b->index], memory_order_relaxed) > 0);
	/* Relaxed: whoever is handed a reference gets it through a release/acquire pair of its
	 * own (a queue's publish), after this. */
	atomic_fetch_add_explicit(&r->refs[b->index], n, memory_order_relaxed);
}

void rc_ring_block_put(struct rc_ring *r, uint32_t index)
{
	RC_ASSERT(r && r->magic == RING_MAGIC && index < r->block_nr);
	_Atomic uint32_t *refs = &r->refs[index];
	uint32_t v = atomic_load_explicit(refs, memory_order_acquire);
	for (;;) {
		RC_ASSERT(v > 0);
		if (v == 1) {
			/*
			 * The last reference: nobody else can add one (only the owner does, while
			 * it holds its own). Hand the block to the kernel first and only then mark
			 * it free: the owner takes a block only once it is marked free, so it can
			 * never take it back with its old, already walked contents still in it.
			 * Release: every holder's reads (and the owner's in-place VLAN writes)
			 * happen before the kernel may overwrite the block.
			 */
			struct tpacket_block_desc *d = block_at(r, index);
			__atomic_store_n(&d->hdr.bh1.block_status, TP_STATUS_KERNEL,
					 __ATOMIC_RELEASE);
			atomic_fetch_sub_explicit(&r->nheld, 1, memory_order_relaxed);
			atomic_store_explicit(refs, 0, memory_order_release);
			return;
		}
		/* Acq_rel: this holder's reads happen before whoever drops the last one. */
		if (atomic_compare_exchange_weak_explicit(refs, &v, v - 1, memory_order_acq_rel,
							  memory_order_acquire))
			return;
	}
}

void rc_ring_block_done(struct rc_ring *r, struct rc_ring_block *b)
{
	RC_ASSERT(r && r->magic == RING_MAGIC && b && b->ring == r);
	RC_ASSERT(b->base == (uint8_t *)block_at(r, b->index));
	rc_ring_block_put(r, b->index);
	b->base = b->next = NULL;
	b->num_pkts = b->seen = 0;
}

uint32_t rc_ring_block_of(const struct rc_ring *r, const void *p)
{
	const uint8_t *q = p;
	RC_ASSERT(q >= r->map && q < r->map + r->map_bytes);
	return (uint32_t)((size_t)(q - r->map) / r->block_bytes);
}

uint32_t rc_ring_blocks_held(const struct rc_ring *r)
{
	return atomic_load_explicit(&r->nheld, memory_order_relaxed);
}

uint32_t rc_ring_block_count(const struct rc_ring *r)
{
	return r->block_nr;
}

bool rc_ring_restore_vlan(struct rc_packet *pkt, const struct rc_vlan_tag *vlan)
{
	if (!vlan->tpid || pkt->linktype != RC_LINK_EN10MB || pkt->caplen < 12)
		return false;
	/* PACKET_RESERVE left RC_RING_RESERVE bytes of ours before the MAC header. */
	uint8_t *frame = (uint8_t *)pkt->data - 4;
	memmove(frame, pkt->data, 12);
	frame[12] = (uint8_t)(vlan->tpid >> 8);
	frame[13] = (uint8_t)vlan->tpid;
	frame[14] = (uint8_t)(vlan->tci >> 8);
	frame[15] = (uint8_t)vlan->tci;
	pkt->data = frame;
	pkt->caplen += 4;
	pkt->wirelen += 4;
	return true;
}

int rc_ring_stats(struct rc_ring *r, struct rc_ring_stats *out)
{
	RC_ASSERT(r && r->magic == RING_MAGIC);
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);
	memset(&st, 0, sizeof(st));
	if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return -errno;
	r->totals.packets += st.tp_packets;
	r->totals.drops += st.tp_drops;
	r->totals.freeze_q_cnt += st.tp_freeze_q_cnt;
	if (out)
		*out = r->totals;
	return 0;
}

int rc_ring_set_filter(struct rc_ring *r, const void *insns, uint16_t len)
{
	RC_ASSERT(r && r->magic == RING_MAGIC);
	return attach(r->fd, insns, len);
}

void rc_ring_close(struct rc_ring *r)
{
	if (!r)
		return;
	RC_ASSERT(r->magic == RING_MAGIC);
	if (r->map)
		munmap(r->map, r->map_bytes);
	free(r->refs);
	if (r->fd >= 0)
		close(r->fd);
	r->magic = 0;
	free(r);
}

const char *rc_ring_describe(const struct rc_ring *r)
{
	RC_ASSERT(r && r->magic == RING_MAGIC);
	return r->desc;
}

uint32_t rc_ring_linktype(const struct rc_ring *r)
{
	RC_ASSERT(r && r->magic == RING_MAGIC);
	return r->linktype;
}

uint16_t rc_ring_fanout_id_unique(void)
{
	/*
	 * Pids below 65536 map one to one. Processes share a network namespace but not always a
	 * pid namespace (containers on the host network): outside the initial one, mix its inode
	 * in so that every container's pid 1 does not pick the same id.
	 */
	uint32_t pid = (uint32_t)getpid();
	uint32_t id = pid ^ (pid >> 16);
	struct stat st;
	if (stat("/proc/self/ns/pid", &st) == 0 && st.st_ino != 0xeffffffcu) {
		uint64_t x = st.st_ino * 0x9e3779b97f4a7c15ull;
		id ^= (uint32_t)(x >> 48);
	}
	return (uint16_t)id;
}
