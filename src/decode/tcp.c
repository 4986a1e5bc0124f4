/* TCP: the fixed header and the options (MSS, window scale, SACK, timestamps). */
#include <stdbool.h>

#include "decode-int.h"

#define TCP_HLEN 20

#define TCPOPT_MSS	 2
#define TCPOPT_WSCALE	 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK	 5
#define TCPOPT_TIMESTAMP 8

#define TCPOLEN_MSS	   4
#define TCPOLEN_WSCALE	   3
#define TCPOLEN_SACK_PERM  2
#define TCPOLEN_SACK_BASE  2
#define TCPOLEN_SACK_BLOCK 8
#define TCPOLEN_TIMESTAMP  10

static void option(uint8_t kind, const uint8_t *o, uint32_t olen, struct rc_tcp_options *t)
{
	switch (kind) {
	case TCPOPT_MSS:
		if (olen == TCPOLEN_MSS)
			t->mss = rc_be16(o + 2);
		break;
	case TCPOPT_WSCALE:
		if (olen == TCPOLEN_WSCALE) {
			t->wscale = o[2];
			t->has_wscale = true;
		}
		break;
	case TCPOPT_SACK_PERM:
		if (olen == TCPOLEN_SACK_PERM)
			t->sack_permitted = true;
		break;
	case TCPOPT_SACK:
		if (olen < TCPOLEN_SACK_BASE + TCPOLEN_SACK_BLOCK ||
		    (olen - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_BLOCK != 0)
			break;
		t->sack_count = 0;
		for (uint32_t i = TCPOLEN_SACK_BASE; i < olen && t->sack_count < RC_MAX_SACK;
		     i += TCPOLEN_SACK_BLOCK) {
			t->sack[t->sack_count].left = rc_be32(o + i);
			t->sack[t->sack_count].right = rc_be32(o + i + 4);
			t->sack_count++;
		}
		break;
	case TCPOPT_TIMESTAMP:
		if (olen == TCPOLEN_TIMESTAMP) {
			t->tsval = rc_be32(o + 2);
			t->tsecr = rc_be32(o + 6);
			t->has_timestamps = true;
		}
		break;
	default:
		break;
	}
}

/*
 * Parse the options in h[20, hlen), captured whole. Like Linux, a known option of the wrong length
 * is skipped, unknown ones are skipped by their length. Returns false, with the options before it
 * kept, at the first option whose length is below 2 or runs past the header.
 */
static bool parse_options(const uint8_t *h, uint32_t hlen, struct rc_tcp_options *t)
{
	uint32_t at = TCP_HLEN, start, len;
	int rc;

	while ((rc = rc_kl_option_next(h, hlen, &at, &start, &len)) > 0)
		option(h[start], h + start, len, t);
	return rc == 0;
}

/*
 * Decode the TCP segment at s (s->len: the IP payload length). Returns RC_CTR_DECODE_TCP, or the
 * reason. RC_CTR_DECODE_TCP_BAD_OPTIONS is an error that still leaves a whole segment: l4_ok is
 * true, the fields and payload are set and the options before the bad one are kept (the kernel
 * too accepts such segments, ignoring the rest of the options).
 */
enum rc_ctr rc_decode_tcp(const struct rc_span *s, struct rc_decoded *out)
{
	enum rc_ctr r = rc_span_need(s, TCP_HLEN, RC_CTR_DECODE_TCP_SHORT_HEADER);
	struct rc_span payload;
	const uint8_t *h;
	uint32_t hlen;
	bool opts_ok;

	if (r != RC_DECODE_NEXT)
		return r;
	h = s->p;
	hlen = (uint32_t)(h[12] >> 4) * 4;
	if (hlen < TCP_HLEN || hlen > s->len)
		return RC_CTR_DECODE_TCP_BAD_DATA_OFFSET;
	r = rc_span_need(s, hlen, RC_CTR_DECODE_TCP_BAD_DATA_OFFSET);
	if (r != RC_DECODE_NEXT)
		return r;

	out->sport = rc_be16(h);
	out->dport = rc_be16(h + 2);
	out->seq = rc_be32(h + 4);
	out->ack = rc_be32(h + 8);
	out->tcp_flags = h[13];
	out->window = rc_be16(h + 14);
	opts_ok = parse_options(h, hlen, &out->tcp_opt);
	out->l4_ok = true;
	payload = rc_span_skip(s, hlen);
	rc_decoded_set_payload(out, &payload);
	return opts_ok ? RC_CTR_DECODE_TCP : RC_CTR_DECODE_TCP_BAD_OPTIONS;
}
