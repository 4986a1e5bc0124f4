/*
 * One AF_PACKET socket with a TPACKET_V3 receive ring, joined to a fanout group, with an optional
 * BPF filter attached before bind. The owner thread walks the ring block by block:
 *
 *	while (rc_ring_wait(r, 100) >= 0)
 *		while (rc_ring_block(r, &b) == 1) {
 *			while (rc_ring_block_next(&b, &pkt, &vlan))
 *				use or hand off pkt;
 *			rc_ring_block_done(r, &b);   // hand the block back to the kernel
 *		}
 *
 * Blocks are taken in ring order and may be held (several at once) and handed back in any order:
 * the kernel fills blocks in order and stalls (dropping, counted) only when the next block it
 * needs is still held. A taken block carries references: the owner's own, and any it adds with
 * rc_ring_block_hold for other threads that read its frames in place; whoever drops the last one
 * (rc_ring_block_put, any thread) hands it to the kernel. The live engine bounds how many blocks
 * are held (src/engine/live.c).
 */
#ifndef RINGCAP_RING_H
#define RINGCAP_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringcap/packet.h"

/*
 * How the kernel spreads packets over the rings of one fanout group. RC_FANOUT_NONE (added last so
 * the others keep their values) opens a lone ring that joins no group.
 */
enum rc_fanout_mode {
	RC_FANOUT_HASH,
	RC_FANOUT_CPU,
	RC_FANOUT_LB,
	RC_FANOUT_QM,
	RC_FANOUT_RND,
	RC_FANOUT_NONE,
};

struct rc_ring_config {
	const char *ifname;
	uint64_t ring_bytes;	   /* whole ring; a multiple of block_bytes */
	uint32_t block_bytes;	   /* a power of two, a multiple of the page size */
	uint32_t block_timeout_ms; /* the kernel retires a partly filled block after this */
	uint32_t snaplen;	   /* bytes of each frame to keep (0: all); applied when read */
	bool promisc;
	enum rc_fanout_mode fanout; /* all rings of one run share `fanout_id` */
	bool fanout_rollover, fanout_defrag;
	uint16_t fanout_id;	  /* per network namespace; see rc_ring_fanout_id_unique */
	const void *filter_insns; /* struct sock_filter[], NULL for none (see rc_ring_set_filter) */
	uint16_t filter_len;
	uint8_t index; /* this ring's number, put in pkt->source */
};

/*
 * Head room the ring leaves before every frame (PACKET_RESERVE), so that rc_ring_restore_vlan can
 * put a stripped 4-byte VLAN tag back in place.
 */
#define RC_RING_RESERVE 4u

/* A block handed to the owner: its packets are read with rc_ring_block_next. */
struct rc_ring_block {
	uint8_t *base;
	uint32_t num_pkts, seen;
	uint8_t *next;
	uint64_t seq;
	uint32_t index;		    /* its position in the ring */
	const struct rc_ring *ring; /* its ring: block size, snaplen, link type, index */
};

/* A VLAN tag the kernel stripped from a frame (tci == 0 and tpid == 0: none). */
struct rc_vlan_tag {
	uint16_t tci, tpid;
};

/* Kernel statistics of one ring, accumulated in 64 bits (the kernel resets its own on read). */
struct rc_ring_stats {
	/*
	 * tp_packets: every packet that passed the filter, the dropped ones included (libpcap's
	 * ps_recv is the same number), so packets - drops is what reached the ring.
	 */
	uint64_t packets;
	uint64_t drops; /* tp_drops: passed the filter, but the ring had no room */
	uint64_t freeze_q_cnt;
	uint64_t seq_gaps; /* block sequence numbers skipped */
	uint64_t blocks;   /* blocks walked */
};

struct rc_ring;

/*
 * Open, configure (TPACKET_V3, ring geometry, MAP_LOCKED|MAP_POPULATE where allowed, promiscuous
 * mode, the filter, then bind, then join the fanout group). On failure returns a negative errno
 * and a message in err that says what was asked and what to change (no such interface, interface
 * down, not root / no CAP_NET_RAW, ring too large, fanout id in use ...). Never shrinks the ring.
 */
int rc_ring_open(struct rc_ring **out, const struct rc_ring_config *cfg, char *err, size_t errlen);

/*
 * Wait up to timeout_ms for a block (poll). 1 ready, 0 timeout or interrupted by a signal, or a
 * negative errno: the socket's pending error (e.g. -ENETDOWN when the interface went down). Owner.
 */
int rc_ring_wait(struct rc_ring *r, int timeout_ms);

/*
 * The next block (in ring order) the kernel has filled (acquire load of its status): 1, or 0 when
 * none is, or when the next one is still held from the ring's last lap. The caller holds it until
 * rc_ring_block_done. Owner.
 */
int rc_ring_block(struct rc_ring *r, struct rc_ring_block *b);

/* The next packet of the block: true and *pkt, *vlan filled, or false at the block's end. */
bool rc_ring_block_next(struct rc_ring_block *b, struct rc_packet *pkt, struct rc_vlan_tag *vlan);

/*
 * Add n references to a block the owner has taken and not yet put, for threads that will read
 * its frames in place; hand them over only after this call (e.g. through a queue's publish).
 */
void rc_ring_block_hold(struct rc_ring *r, const struct rc_ring_block *b, uint32_t n);

/*
 * Drop one reference to block `index`; the last one hands the block back to the kernel (release
 * store of TP_STATUS_KERNEL). Any thread, any order; the dropping thread must be done with the
 * block's frames.
 */
void rc_ring_block_put(struct rc_ring *r, uint32_t index);

/* Drop the owner's reference to a block it took (rc_ring_block_put of its index). Owner. */
void rc_ring_block_done(struct rc_ring *r, struct rc_ring_block *b);

/* The index of the block that holds address p (which must lie in the ring). Any thread. */
uint32_t rc_ring_block_of(const struct rc_ring *r, const void *p);

/* Blocks taken and not yet handed back (approximate while others put), and blocks in the ring. */
uint32_t rc_ring_blocks_held(const struct rc_ring *r);
uint32_t rc_ring_block_count(const struct rc_ring *r);

/*
 * Put a VLAN tag the kernel stripped (vlan->tpid != 0) back into an Ethernet frame of a ring
 * block, in place: the MAC addresses move 4 bytes into the reserved head room and the tag goes
 * between them and the EtherType, as on the wire; caplen and wirelen grow by 4. Returns whether it
 * did. The block must be held and the frame must come from rc_ring_block_next.
 */
bool rc_ring_restore_vlan(struct rc_packet *pkt, const struct rc_vlan_tag *vlan);

/* Read PACKET_STATISTICS and add it to the ring's totals; then copy the totals to *out. Owner. */
int rc_ring_stats(struct rc_ring *r, struct rc_ring_stats *out);

/*
 * Replace the attached filter (SO_ATTACH_FILTER swaps atomically: every packet meets either the old
 * or the new one; NULL/0 detaches). Packets already in the ring stay. 0 or negative errno. Any
 * thread.
 */
int rc_ring_set_filter(struct rc_ring *r, const void *insns, uint16_t len);

/* Close the socket, unmap the ring, free; NULL is allowed. */
void rc_ring_close(struct rc_ring *r);

/*
 * Describe the geometry actually set up, e.g. "256 MiB in 256 blocks of 1 MiB, timeout 10 ms",
 * followed by the fanout group and ", not locked" when the ring could not be mlocked. The string
 * lives as long as the ring.
 */
const char *rc_ring_describe(const struct rc_ring *r);

/*
 * The link type of the ring's frames (enum rc_linktype): EN10MB for Ethernet and loopback, RAW
 * for interfaces without a link header. Filters must be compiled for it.
 */
uint32_t rc_ring_linktype(const struct rc_ring *r);

/*
 * A fanout group id unlikely to be in use by another process in this network namespace: derived
 * from the process id, so every ring of one run that calls it gets the same id. Any thread.
 */
uint16_t rc_ring_fanout_id_unique(void);

#endif
