/* pcapng: sections, interfaces and packet blocks, walked in place over the reader's window. */
#include <errno.h>
#include <string.h>

#include "ringcap/assert.h"
#include "reader_internal.h"

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 1u
#define BT_OPB 2u /* obsolete Packet Block */
#define BT_SPB 3u
#define BT_EPB 6u
#define BOM    0x1a2b3c4du

#define OPT_ENDOFOPT 0
#define OPT_TSRESOL  9
#define OPT_TSOFFSET 14

#define SHB_MIN 28u
#define IDB_MIN 20u
#define EPB_MIN 32u
#define SPB_MIN 16u

typedef unsigned long long ull;

static uint64_t get64(int big, const uint8_t *p)
{
	uint64_t a = rc_get32(big, p), b = rc_get32(big, p + 4);
	return big ? a << 32 | b : b << 32 | a;
}

/*
 * Make the whole block at r->pos available and check its framing: length a multiple of 4, at
 * least 12 (28 for a section header), at most RC_PCAPNG_MAX_BLOCK, present in full, trailing copy
 * equal. A section header switches r->big to its own byte order first. Returns 0 with *type and
 * *total set, 1 at the clean end of the input, or a negative code.
 */
static int block(struct rc_reader *r, uint32_t *type, uint32_t *total)
{
	ull off = rc_reader_here(r);
	int rc = rc_reader_fill(r, 8);
	if (rc < 0)
		return rc;
	size_t avail = r->len - r->pos;
	if (avail == 0)
		return 1;
	if (rc)
		return rc_reader_fail(r, -EBADMSG,
				      "truncated block header at offset %llu (%zu of 8 bytes)", off,
				      avail);
	const uint8_t *p = r->base + r->pos;
	*type = rc_get32(r->big, p); /* the SHB type reads the same in both orders */
	uint32_t min = 12;
	if (*type == BT_SHB) {
		rc = rc_reader_fill(r, 12);
		if (rc < 0)
			return rc;
		if (rc)
			return rc_reader_fail(r, -EBADMSG,
					      "truncated section header at offset %llu (%zu bytes)",
					      off, r->len - r->pos);
		p = r->base + r->pos;
		if (rc_get32(0, p + 8) == BOM)
			r->big = 0;
		else if (rc_get32(1, p + 8) == BOM)
			r->big = 1;
		else
			return rc_reader_fail(r, -EBADMSG,
					      "section header at offset %llu: bad byte-order magic "
					      "0x%08x",
					      off, rc_get32(1, p + 8));
		min = SHB_MIN;
	}
	uint32_t len = rc_get32(r->big, p + 4);
	if (len % 4 || len < min)
		return rc_reader_fail(
			r, -EBADMSG,
			"block at offset %llu (type 0x%08x): bad length %u (must be a "
			"multiple of 4, at least %u)",
			off, *type, len, min);
	if (len > RC_PCAPNG_MAX_BLOCK)
		return rc_reader_fail(r, -EFBIG,
				      "block at offset %llu (type 0x%08x): length %u exceeds the "
				      "%u-byte limit",
				      off, *type, len, RC_PCAPNG_MAX_BLOCK);
	rc = rc_reader_fill(r, len);
	if (rc < 0)
		return rc;
	if (rc)
		return rc_reader_fail(r, -EBADMSG,
				      "truncated block at offset %llu (type 0x%08x): length %u but "
				      "only %zu bytes remain",
				      off, *type, len, r->len - r->pos);
	p = r->base + r->pos;
	uint32_t trail = rc_get32(r->big, p + len - 4);
	if (trail != len)
		return rc_reader_fail(
			r, -EBADMSG,
			"block at offset %llu (type 0x%08x): trailing length %u differs "
			"from leading length %u",
			off, *type, trail, len);
	*total = len;
	return 0;
}

/*
 * Step through the options of block `b` (total bytes) from *at. Returns 1 with code, length and
 * value set, 0 at the end of the options, or a negative code when an option overruns the block.
 * Fewer than 4 bytes left over are taken as the end (padding), not as damage.
 */
static int option(struct rc_reader *r, const uint8_t *b, uint32_t total, size_t *at, uint16_t *code,
		  uint16_t *olen, const uint8_t **val)
{
	size_t end = total - 4;
	if (*at + 4 > end)
		return 0;
	*code = rc_get16(r->big, b + *at);
	*olen = rc_get16(r->big, b + *at + 2);
	if (*code == OPT_ENDOFOPT)
		return 0;
	if (*olen > end - *at - 4)
		return rc_reader_fail(r, -EBADMSG,
				      "block at offset %llu: option %u of length %u overruns the "
				      "block (%u bytes)",
				      (ull)rc_reader_here(r), *code, *olen, total);
	*val = b + *at + 4;
	size_t step = 4 + (((size_t)*olen + 3) & ~(size_t)3);
	*at = *at + step > end ? end : *at + step;
	return 1;
}

static int shb(struct rc_reader *r, const uint8_t *b, uint32_t total)
{
	uint16_t major = rc_get16(r->big, b + 12), minor = rc_get16(r->big, b + 14);
	/* 1.2 was written by some old tools with the same layout; libpcap and Wireshark read it. */
	if (major != 1 || (minor != 0 && minor != 2))
		return rc_reader_fail(r, -ENOTSUP,
				      "section header at offset %llu: unsupported pcapng version "
				      "%u.%u",
				      (ull)rc_reader_here(r), major, minor);
	size_t at = 24;
	uint16_t code, olen;
	const uint8_t *val;
	int rc;
	while ((rc = option(r, b, total, &at, &code, &olen, &val)) > 0)
		;
	if (rc < 0)
		return rc;
	r->nifs = 0;
	rc_ctr_inc(r->ctrs, RC_CTR_READ_PCAPNG_SECTIONS);
	return 0;
}

/* Set how interface timestamps convert to ns; if_tsresol `v` is 10^-v or, bit 7 set, 2^-v. */
static int set_resol(struct rc_reader *r, struct rc_pcapng_iface *ifc, uint8_t v)
{
	unsigned exp = v & 0x7f;
	ifc->mul = 0;
	ifc->ups = 0;
	if (!(v & 0x80)) {
		/* 10^19 is the last power of 10 a uint64_t holds. */
		if (exp > 19)
			return rc_reader_fail(r, -ENOTSUP,
					      "interface description block at offset %llu: "
					      "if_tsresol 10^-%u is finer than ringcap reads",
					      (ull)rc_reader_here(r), exp);
		uint64_t ups = 1;
		for (unsigned i = 0; i < exp; i++)
			ups *= 10;
		if (exp <= 9)
			ifc->mul = 1000000000u / ups;
		else
			ifc->ups = ups;
		ifc->ts_digits = exp > 9 ? 9 : (uint8_t)exp;
		return 0;
	}
	if (exp > 63)
		return rc_reader_fail(
			r, -ENOTSUP,
			"interface description block at offset %llu: if_tsresol 2^-%u "
			"is finer than ringcap reads",
			(ull)rc_reader_here(r), exp);
	ifc->ups = (uint64_t)1 << exp;
	if (exp == 0)
		ifc->mul = 1000000000u;
	/* Enough decimal digits that two ticks never print alike: smallest d with 10^d >= 2^exp. */
	uint8_t d = 0;
	for (unsigned __int128 p10 = 1; p10 < ((unsigned __int128)1 << exp) && d < 9; p10 *= 10)
		d++;
	ifc->ts_digits = d;
	return 0;
}

static int idb(struct rc_reader *r, const uint8_t *b, uint32_t total)
{
	if (total < IDB_MIN)
		return rc_reader_fail(r, -EBADMSG,
				      "interface description block at offset %llu is too short (%u "
				      "bytes)",
				      (ull)rc_reader_here(r), total);
	struct rc_pcapng_iface ifc = {
		.linktype = rc_get16(r->big, b + 8),
		.snaplen = rc_get32(r->big, b + 12),
	};
	int rc = set_resol(r, &ifc, 6);
	RC_ASSERT(rc == 0);
	size_t at = 16;
	uint16_t code, olen;
	const uint8_t *val = NULL;
	while ((rc = option(r, b, total, &at, &code, &olen, &val)) > 0) {
		if (code == OPT_TSRESOL) {
			if (olen != 1)
				return rc_reader_fail(r, -EBADMSG,
						      "interface description block at offset "
						      "%llu: if_tsresol of length %u, not 1",
						      (ull)rc_reader_here(r), olen);
			rc = set_resol(r, &ifc, val[0]);
			if (rc < 0)
				return rc;
		} else if (code == OPT_TSOFFSET) {
			if (olen != 8)
				return rc_reader_fail(r, -EBADMSG,
						      "interface description block at offset "
						      "%llu: if_tsoffset of length %u, not 8",
						      (ull)rc_reader_here(r), olen);
			ifc.offset_s = (int64_t)get64(r->big, val);
		}
	}
	if (rc < 0)
		return rc;
	if (r->nifs < RC_PCAPNG_MAX_IFACES)
		r->ifs[r->nifs] = ifc;
	if (r->nifs < UINT32_MAX)
		r->nifs++;
	if (r->first_linktype < 0) {
		r->first_linktype = (int)ifc.linktype;
		r->first_snaplen = ifc.snaplen;
	}
	rc_ctr_inc(r->ctrs, RC_CTR_READ_PCAPNG_INTERFACES);
	return 0;
}

/* Timestamp units of an interface to ns since the epoch; out of range clamps and is counted. */
static uint64_t to_ns(struct rc_reader *r, const struct rc_pcapng_iface *ifc, uint64_t units)
{
	__int128 ns;
	if (ifc->mul)
		ns = (__int128)((unsigned __int128)units * ifc->mul);
	else
		ns = (__int128)((unsigned __int128)units * 1000000000u / ifc->ups);
	ns += (__int128)ifc->offset_s * 1000000000;
	if (ns < 0) {
		rc_ctr_inc(r->ctrs, RC_CTR_READ_BAD_TIMESTAMP);
		return 0;
	}
	if (ns > (__int128)UINT64_MAX) {
		rc_ctr_inc(r->ctrs, RC_CTR_READ_BAD_TIMESTAMP);
		return UINT64_MAX;
	}
	return (uint64_t)ns;
}

/* Checks shared by EPB and SPB once caplen is known; fills what both set. */
static int packet(struct rc_reader *r, struct rc_packet *pkt, uint32_t ifid, uint32_t caplen,
		  uint32_t wirelen, const char *what)
{
	const struct rc_pcapng_iface *ifc = &r->ifs[ifid];
	ull off = rc_reader_here(r);
	if (caplen > RC_MAX_CAPLEN)
		return rc_reader_fail(r, -EFBIG,
				      "%s at offset %llu: caplen %u exceeds the %u-byte limit",
				      what, off, caplen, RC_MAX_CAPLEN);
	if (ifc->snaplen && caplen > ifc->snaplen) {
		if (r->opt.strict_snaplen)
			return rc_reader_fail(r, -ERANGE,
					      "%s at offset %llu: caplen %u exceeds snaplen %u",
					      what, off, caplen, ifc->snaplen);
		rc_ctr_inc(r->ctrs, RC_CTR_READ_CAPLEN_GT_SNAPLEN);
	}
	if (caplen > wirelen)
		rc_ctr_inc(r->ctrs, RC_CTR_READ_CAPLEN_GT_WIRELEN);
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
	pkt->linktype = ifc->linktype;
	pkt->source = (uint8_t)ifid;
	rc_ctr_inc(r->ctrs, RC_CTR_READ_PACKETS);
	rc_ctr_add(r->ctrs, RC_CTR_READ_BYTES, caplen);
	return 1;
}

/* The interface a packet block names must exist in this section and fit pkt->source. */
static int check_iface(struct rc_reader *r, uint32_t ifid, const char *what)
{
	if (ifid >= r->nifs)
		return rc_reader_fail(
			r, -EBADMSG, "%s at offset %llu names interface %u, but the section has %u",
			what, (ull)rc_reader_here(r), ifid, r->nifs);
	if (ifid >= RC_PCAPNG_MAX_IFACES)
		return rc_reader_fail(r, -ENOTSUP,
				      "%s at offset %llu names interface %u; ringcap reads at most "
				      "%u interfaces per section",
				      what, (ull)rc_reader_here(r), ifid, RC_PCAPNG_MAX_IFACES);
	return 0;
}

static int epb(struct rc_reader *r, const uint8_t *b, uint32_t total, struct rc_packet *pkt)
{
	static const char what[] = "enhanced packet block";
	if (total < EPB_MIN)
		return rc_reader_fail(r, -EBADMSG, "%s at offset %llu is too short (%u bytes)",
				      what, (ull)rc_reader_here(r), total);
	uint32_t ifid = rc_get32(r->big, b + 8);
	int rc = check_iface(r, ifid, what);
	if (rc < 0)
		return rc;
	uint32_t caplen = rc_get32(r->big, b + 20);
	if (caplen <= RC_MAX_CAPLEN && caplen > total - EPB_MIN)
		return rc_reader_fail(r, -EBADMSG,
				      "%s at offset %llu: caplen %u overruns the block (%u bytes)",
				      what, (ull)rc_reader_here(r), caplen, total);
	rc = packet(r, pkt, ifid, caplen, rc_get32(r->big, b + 24), what);
	if (rc < 0)
		return rc;
	uint64_t units = (uint64_t)rc_get32(r->big, b + 12) << 32 | rc_get32(r->big, b + 16);
	pkt->ts_ns = to_ns(r, &r->ifs[ifid], units);
	pkt->ts_digits = r->ifs[ifid].ts_digits;
	pkt->data = b + 28;
	return 1;
}

static int spb(struct rc_reader *r, const uint8_t *b, uint32_t total, struct rc_packet *pkt)
{
	static const char what[] = "simple packet block";
	if (total < SPB_MIN)
		return rc_reader_fail(r, -EBADMSG, "%s at offset %llu is too short (%u bytes)",
				      what, (ull)rc_reader_here(r), total);
	int rc = check_iface(r, 0, what);
	if (rc < 0)
		return rc;
	/* No caplen field: what is there is the smallest of wire length, snaplen, block room. */
	uint32_t wirelen = rc_get32(r->big, b + 8);
	uint32_t caplen = total - SPB_MIN;
	if (wirelen < caplen)
		caplen = wirelen;
	if (r->ifs[0].snaplen && r->ifs[0].snaplen < caplen)
		caplen = r->ifs[0].snaplen;
	rc = packet(r, pkt, 0, caplen, wirelen, what);
	if (rc < 0)
		return rc;
	pkt->ts_ns = 0; /* an SPB carries no timestamp */
	pkt->ts_digits = 0;
	pkt->data = b + 12;
	return 1;
}

/* Process one block; returns 1 for a packet, 0 for another kind of block, or as block() does. */
static int step(struct rc_reader *r, struct rc_packet *pkt, int *end)
{
	uint32_t type = 0, total = 0;
	int rc = block(r, &type, &total);
	*end = rc == 1;
	if (rc)
		return rc < 0 ? rc : 0;
	const uint8_t *b = r->base + r->pos;
	switch (type) {
	case BT_SHB:
		rc = shb(r, b, total);
		break;
	case BT_IDB:
		rc = idb(r, b, total);
		break;
	case BT_EPB:
		rc = epb(r, b, total, pkt);
		break;
	case BT_SPB:
		rc = spb(r, b, total, pkt);
		break;
	case BT_OPB:
		rc_ctr_inc(r->ctrs, RC_CTR_READ_PCAPNG_OPB_SKIPPED);
		rc = 0;
		break;
	default:
		rc_ctr_inc(r->ctrs, RC_CTR_READ_PCAPNG_BLOCKS_SKIPPED);
		rc = 0;
	}
	if (rc >= 0)
		r->pos += total;
	return rc;
}

int rc_pcapng_open(struct rc_reader *r)
{
	struct rc_packet unused;
	int end, rc = step(r, &unused, &end);
	if (rc < 0)
		return rc;
	RC_ASSERT(!end && rc == 0);
	/* Take the interfaces that follow, so that rc_reader_linktype knows the first one. */
	while (rc_reader_fill(r, 8) == 0 && rc_get32(r->big, r->base + r->pos) == BT_IDB) {
		rc = step(r, &unused, &end);
		if (rc < 0)
			return rc;
	}
	return r->status;
}

int rc_pcapng_next(struct rc_reader *r, struct rc_packet *pkt)
{
	for (;;) {
		int end, rc = step(r, pkt, &end);
		if (rc != 0 || end)
			return rc;
	}
}
