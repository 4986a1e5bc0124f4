/*
 * ringcap-genhttp: write a deterministic classic pcap of many interleaved HTTP/1.1 sessions over
 * TCP, mangled on the way (odd segment sizes, reordering, duplicates, overlapping retransmissions,
 * capture loss), plus the exact truth a correct TCP reassembler and HTTP parser must produce.
 *
 * Everything is a function of the command line: the same options give the same bytes. The PRNG
 * is xoshiro256** seeded through splitmix64 (as in ringcap-gencap); rand() is never used.
 *
 * How it works: a session is planned when it starts (its requests and responses); it is then
 * sent one burst at a time (a run of bytes of one direction: a request, a pipelined run, a
 * response...). A burst is cut into segments, mangled, and its truth is computed at once (which
 * bytes the capture holds, their SHA-256, which HTTP messages a gap touches) before its first
 * packet is written, so only the active sessions' current bursts are held in memory, and message
 * bodies are never materialised: they are pieces of two fixed pattern tables.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "toolkit.h"

#define PROG "ringcap-genhttp"

#define die_usage(...)		     tk_die_usage(PROG, __VA_ARGS__)
#define parse_u64(name, s, min, max) tk_parse_u64(PROG, name, s, min, max)
#define die(...)		     tk_die(PROG, __VA_ARGS__)

#define ETH_HLEN       14
#define IP4_HLEN       20
#define IP6_HLEN       40
#define TCP_HLEN       20
#define TCP_SYN_OPTLEN 4 /* MSS option on SYN and SYN-ACK */
#define ETH_MIN_FRAME  60
#define MAX_FRAME      65535
#define SNAPLEN	       65535
#define MSS_MAX	       9000

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

#define PPM 1000000u /* probabilities are kept in parts per million */

/* Body bytes come from two tables read at (key + offset) mod TBL_PERIOD: a prime period, and a
 * table one copy-chunk longer so that any chunk of up to TBL_CHUNK bytes is contiguous. */
#define TBL_PERIOD 65521u
#define TBL_CHUNK  65536u

/* True with probability ppm / 1e6. */
static inline int rng_ppm(struct tk_rng *r, uint32_t ppm)
{
	return ppm && tk_rng_below(r, PPM) < ppm;
}

/* Log-uniform in [0, max]: every power of two as likely, so most bodies are small and a few are
 * large. */
static uint32_t rng_logsize(struct tk_rng *r, uint32_t max)
{
	int bits = max ? 32 - __builtin_clz(max) : 0;
	uint32_t e = tk_rng_below(r, bits + 1), v;

	if (e == 0)
		return 0;
	v = tk_rng_range(r, 1u << (e - 1), (e == 32 ? 0xffffffffu : (1u << e) - 1));
	return v > max ? max : v;
}

/* ---- SHA-256 (FIPS 180-4) ------------------------------------------------------------------ */

struct sha256 {
	uint32_t h[8];
	uint64_t n; /* bytes hashed */
	uint8_t buf[64];
};

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static void sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(c->h, iv, sizeof(iv));
	c->n = 0;
}

static inline uint32_t ror32(uint32_t x, int k)
{
	return (x >> k) | (x << (32 - k));
}

static void sha256_block(uint32_t *h, const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t s1 = ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25);
		uint32_t t1 = hh + s1 + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
		uint32_t s0 = ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22);
		uint32_t t2 = s0 + ((a & b) ^ (a & c) ^ (b & c));
		hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

static void sha256_update(struct sha256 *c, const uint8_t *p, size_t len)
{
	size_t fill = c->n % 64;

	c->n += len;
	if (fill) {
		size_t k = 64 - fill < len ? 64 - fill : len;
		memcpy(c->buf + fill, p, k);
		p += k;
		len -= k;
		if (fill + k < 64)
			return;
		sha256_block(c->h, c->buf);
	}
	for (; len >= 64; p += 64, len -= 64)
		sha256_block(c->h, p);
	memcpy(c->buf, p, len);
}

static void sha256_hex(struct sha256 *c, char out[65])
{
	uint8_t pad[72] = {0x80};
	uint64_t bits = c->n * 8;
	size_t padlen = (c->n % 64 < 56 ? 56 : 120) - c->n % 64;

	tk_put64(pad + padlen, bits);
	sha256_update(c, pad, padlen + 8);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", c->h[i]);
}

/* ---- options ------------------------------------------------------------------------------- */

struct opts {
	const char *out;
	const char *truth;
	uint64_t seed, sessions, bytes, concurrent, pps, start;
	unsigned requests, mss, window;
	uint32_t body_max, post_max, chunk_max;
	/* parts per million */
	uint32_t p_ipv6, p_midstream, p_wrap, p_rst, p_pipeline, p_post, p_head, p_chunked,
		p_continue, p_split, p_reorder, p_dup, p_overlap, p_drop;
	int nsec, quiet, sessions_set;
};

static const char help[] =
	"Usage: " PROG " -o FILE [options]\n"
	"\n"
	"Write a classic pcap (Ethernet) of many interleaved HTTP/1.1 sessions over TCP, with\n"
	"segments split, reordered, duplicated, re-sent overlapping and lost, and beside it the\n"
	"exact truth that a TCP reassembler and an HTTP parser must produce, byte for byte.\n"
	"Same options and seed, same bytes (pcap and truth).\n"
	"\n"
	"Output:\n"
	"  -o, --output FILE     pcap file to write (\"-\" for standard output); required\n"
	"      --truth PREFIX    write PREFIX.streams.tsv and PREFIX.http.tsv (see below)\n"
	"      --nsec            nanosecond pcap (magic a1b23c4d); default microseconds\n"
	"      --pps RATE        mean packet rate that spaces the timestamps (default 100000)\n"
	"      --start EPOCH     time of the first packet, Unix seconds (default 1700000000)\n"
	"  -q, --quiet           no summary on standard error\n"
	"  -h, --help            this text\n"
	"\n"
	"Sessions:\n"
	"      --seed S          PRNG seed (default 1)\n"
	"  -n, --sessions N      sessions to write (default 1000; unlimited with --bytes)\n"
	"      --bytes B         start no new session once B bytes of frames were written; the\n"
	"                        active ones still finish, so the file ends a little past B\n"
	"                        (e.g. --bytes 1000000000 for a 1 GB benchmark capture).\n"
	"                        Output is streamed: memory holds only the active sessions'\n"
	"                        current bursts (bodies are never materialised)\n"
	"      --concurrent N    sessions active at once, interleaved packet by packet in a fresh\n"
	"                        random order each round (default 100)\n"
	"      --requests N      requests per session, uniform in [1, N] (default 5, at most "
	"1000)\n"
	"      --ipv6 PCT        percent of sessions over IPv6 (default 20)\n"
	"      --midstream PCT   percent of sessions without a handshake (default 10): the "
	"capture\n"
	"                        starts with the first request's first segment, and each\n"
	"                        direction at a message boundary; see Streams\n"
	"      --wrap PCT        percent of directions whose first sequence number lies within\n"
	"                        4096 of 2^32, so that the stream wraps (default 10)\n"
	"      --rst PCT         percent of sessions closed by one RST instead of FINs (default "
	"10)\n"
	"      --pipeline PCT    percent of sessions that pipeline their GET/HEAD requests: runs\n"
	"                        of up to 4 requests sent before the first response (default 20)\n"
	"      --post PCT        percent of requests that are POSTs (default 20)\n"
	"      --head PCT        percent of requests that are HEADs (default 5); the rest are GET\n"
	"      --chunked PCT     percent of POST and response bodies sent chunked (default 30)\n"
	"      --continue PCT    percent of POSTs with a body that send `Expect: 100-continue`,\n"
	"                        wait for `100 Continue`, then send the body (default 30)\n"
	"      --body-max B      largest response body (default 65536); log-uniform sizes\n"
	"      --post-max B      largest POST body (default 16384); log-uniform sizes\n"
	"      --chunk-max B     largest chunk of a chunked body (default 4096)\n"
	"\n"
	"Segments (PCT may have decimals, e.g. 0.5):\n"
	"      --mss B           largest TCP payload over IPv4 (default 1460; IPv6: B - 20),\n"
	"                        announced in the SYNs\n"
	"      --split PCT       percent of segments cut at a random size in [1, MSS] instead of\n"
	"                        the MSS (default 50)\n"
	"      --reorder PCT     percent of segments sent up to WINDOW places late (default 5)\n"
	"      --window N        reordering and retransmission distance, in segments (default 8)\n"
	"      --dup PCT         percent of segments sent twice, exactly (default 2)\n"
	"      --overlap PCT     percent of segment boundaries re-sent later by a retransmission\n"
	"                        that straddles them, up to an MSS long (default 2)\n"
	"      --drop PCT        percent of transmissions (originals and copies) left out of the\n"
	"                        capture (default 1)\n"
	"      --clean           no reordering, duplicates, overlaps or drops\n"
	"\n"
	"Traffic:\n"
	"  Addresses: clients 198.18/16 and servers 198.19/16, or 2001:db8:c::/48 and\n"
	"  2001:db8:5::/48; server port 80 or 8080; every session has its own 5-tuple. IPv4,\n"
	"  IPv6 and TCP checksums are correct; frames under 60 bytes are zero-padded to 60.\n"
	"  A session: SYN, SYN-ACK, ACK with an MSS option (not in midstream sessions); its\n"
	"  requests (GET, HEAD, POST with a Content-Length or a chunked body; Host, User-Agent,\n"
	"  Accept headers; the last request may say `Connection: close`), each answered in order\n"
	"  (200, 201, 204, 301, 304, 404, 500; bodies by Content-Length or chunked; none for "
	"HEAD,\n"
	"  204 and 304; a HEAD response announces a Content-Length); then FIN, FIN, ACK (client "
	"or\n"
	"  server first), or one RST|ACK from either side. Bodies are bytes of a text or a binary\n"
	"  pattern table. Sessions are interleaved in time; timestamps never decrease.\n"
	"  Every data segment carries ACK with the peer's whole stream (the peer is idle then);\n"
	"  the receiver answers a burst with pure ACKs (every second segment, at once for one out\n"
	"  of order, and at the end) whose number is the end of the bytes it holds in order.\n"
	"\n"
	"Mangling and loss:\n"
	"  Each burst is cut into segments, copies are added (exact duplicates; overlapping\n"
	"  retransmissions of a range around a boundary between two segments), segments move up "
	"to\n"
	"  WINDOW places late, then each transmission may be dropped. A re-sent range carries the\n"
	"  SAME bytes as the original: every overlap is consistent, so any overlap policy (first\n"
	"  wins, last wins) rebuilds the same stream. A byte is missing from the capture only "
	"when\n"
	"  every transmission holding it was dropped. The receiver is taken to have got a dropped\n"
	"  byte (capture loss, so its ACKs cover it) unless the byte is sent again later in the\n"
	"  capture (network loss: its ACKs stop before the byte until the copy arrives). So no "
	"ACK\n"
	"  in the capture ever covers a byte that is absent at that point and present later: a\n"
	"  reassembler that gives up a hole when the peer acknowledges past it and one that waits\n"
	"  for the end of the stream see the same holes.\n"
	"  Never dropped: the segment holding the last byte of each direction (a stream's end is\n"
	"  the end of its highest captured segment, as the FIN also says), and, in a midstream\n"
	"  session, the first segment of each direction, which is also the first data segment of\n"
	"  that direction in the capture (nothing below it is ever sent).\n"
	"\n"
	"Streams (PREFIX.streams.tsv): a header line, then two lines per session (orig, resp):\n"
	"  session orig_h orig_p resp_h resp_p dir present missing sha256 gaps midstream seq0\n"
	"  Offset 0 of a direction is the byte after its SYN, or, in a midstream session, the\n"
	"  first byte of its first captured data segment; seq0 is that byte's sequence number.\n"
	"  present = bytes the capture holds, missing = bytes of the stream it lacks (holes\n"
	"  between offset 0 and the stream's end), gaps = maximal holes, sha256 = SHA-256 of the\n"
	"  present bytes in order with the holes left out (as the corpus's *.flows.tsv).\n"
	"\n"
	"HTTP (PREFIX.http.tsv): a header line, then one line per request:\n"
	"  session orig_h orig_p resp_h resp_p trans_depth method uri host user_agent\n"
	"  request_body_len status_code response_body_len req_gap resp_gap expected req_framing\n"
	"  resp_framing interim request_body_sha256\n"
	"  trans_depth counts from 1 in the session; *_body_len are decoded body bytes (0 for a\n"
	"  HEAD response); *_framing is none, length or chunked; interim is 100 or -;\n"
	"  request_body_sha256 is the SHA-256 of the decoded request body as sent (after\n"
	"  de-chunking; holes in the capture do not change it; no body: SHA-256 of nothing).\n"
	"  Rows of a session appear together, sessions in the order they end.\n"
	"\n"
	"Gap rule (req_gap, resp_gap, expected): a message is its header block (start line\n"
	"  through the empty line; for a response that had `100 Continue`, the interim response\n"
	"  too), then body data, and, when chunked, framing (chunk-size lines, the CRLF after "
	"each\n"
	"  chunk, the last chunk). A parser of one direction is in sync at its start and stays in\n"
	"  sync across a hole it can skip by length. Per message, the worst of:\n"
	"    -         no hole touches it\n"
	"    body      holes touch only body data (Content-Length data or a chunk's data):\n"
	"              the body length is still known and the direction stays in sync\n"
	"    frame     a hole touches chunk framing: headers seen, body length unknown, and the\n"
	"              direction is out of sync afterwards\n"
	"    head      a hole touches the header block: the message is not seen (no method,\n"
	"              no status), and the direction is out of sync afterwards\n"
	"    nosync    the direction was already out of sync at its start (holes in it or not)\n"
	"    unpaired  (responses) in sync, but its request was not seen, so it cannot be paired\n"
	"              (nor framed, for a HEAD): the direction counts as out of sync afterwards\n"
	"  expected = 1 when req_gap is -, body or frame, whatever the response: the requests\n"
	"  a correct, non-heuristic parser reports (method, uri, host, user_agent exact;\n"
	"  request_body_len exact unless frame). Response fields hold for resp_gap - or body\n"
	"  (status_code alone for frame). A parser that resynchronises by guessing may also\n"
	"  report head or nosync requests, in part or whole.\n"
	"\n"
	"At the end a summary goes to standard error. Exit status: 0 on success, 1 when an output\n"
	"cannot be written, 2 on a bad command line.\n";

/* A percentage with up to 4 decimals, kept as parts per million. */
static uint32_t parse_pct(const char *name, const char *s)
{
	char *end;
	double v;

	errno = 0;
	if (*s == '\0' || *s == '-' || *s == '+')
		die_usage("%s: not a percentage: '%s'", name, s);
	v = strtod(s, &end);
	if (errno || *end != '\0' || !(v >= 0 && v <= 100))
		die_usage("%s: not a percentage in [0, 100]: '%s'", name, s);
	return (uint32_t)llround(v * 10000);
}

enum {
	OPT_SEED = 256,
	OPT_BYTES,
	OPT_CONCURRENT,
	OPT_REQUESTS,
	OPT_IPV6,
	OPT_MIDSTREAM,
	OPT_WRAP,
	OPT_RST,
	OPT_PIPELINE,
	OPT_POST,
	OPT_HEAD,
	OPT_CHUNKED,
	OPT_CONTINUE,
	OPT_BODY_MAX,
	OPT_POST_MAX,
	OPT_CHUNK_MAX,
	OPT_MSS,
	OPT_SPLIT,
	OPT_REORDER,
	OPT_WINDOW,
	OPT_DUP,
	OPT_OVERLAP,
	OPT_DROP,
	OPT_CLEAN,
	OPT_PPS,
	OPT_START,
	OPT_NSEC,
	OPT_TRUTH,
};

static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"sessions", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, OPT_SEED},
		{"bytes", required_argument, NULL, OPT_BYTES},
		{"concurrent", required_argument, NULL, OPT_CONCURRENT},
		{"requests", required_argument, NULL, OPT_REQUESTS},
		{"ipv6", required_argument, NULL, OPT_IPV6},
		{"midstream", required_argument, NULL, OPT_MIDSTREAM},
		{"wrap", required_argument, NULL, OPT_WRAP},
		{"rst", required_argument, NULL, OPT_RST},
		{"pipeline", required_argument, NULL, OPT_PIPELINE},
		{"post", required_argument, NULL, OPT_POST},
		{"head", required_argument, NULL, OPT_HEAD},
		{"chunked", required_argument, NULL, OPT_CHUNKED},
		{"continue", required_argument, NULL, OPT_CONTINUE},
		{"body-max", required_argument, NULL, OPT_BODY_MAX},
		{"post-max", required_argument, NULL, OPT_POST_MAX},
		{"chunk-max", required_argument, NULL, OPT_CHUNK_MAX},
		{"mss", required_argument, NULL, OPT_MSS},
		{"split", required_argument, NULL, OPT_SPLIT},
		{"reorder", required_argument, NULL, OPT_REORDER},
		{"window", required_argument, NULL, OPT_WINDOW},
		{"dup", required_argument, NULL, OPT_DUP},
		{"overlap", required_argument, NULL, OPT_OVERLAP},
		{"drop", required_argument, NULL, OPT_DROP},
		{"clean", no_argument, NULL, OPT_CLEAN},
		{"pps", required_argument, NULL, OPT_PPS},
		{"start", required_argument, NULL, OPT_START},
		{"nsec", no_argument, NULL, OPT_NSEC},
		{"truth", required_argument, NULL, OPT_TRUTH},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, clean = 0;

	*o = (struct opts){
		.seed = 1,
		.sessions = 1000,
		.concurrent = 100,
		.pps = 100000,
		.start = 1700000000,
		.requests = 5,
		.mss = 1460,
		.window = 8,
		.body_max = 65536,
		.post_max = 16384,
		.chunk_max = 4096,
		.p_ipv6 = 20 * 10000,
		.p_midstream = 10 * 10000,
		.p_wrap = 10 * 10000,
		.p_rst = 10 * 10000,
		.p_pipeline = 20 * 10000,
		.p_post = 20 * 10000,
		.p_head = 5 * 10000,
		.p_chunked = 30 * 10000,
		.p_continue = 30 * 10000,
		.p_split = 50 * 10000,
		.p_reorder = 5 * 10000,
		.p_dup = 2 * 10000,
		.p_overlap = 2 * 10000,
		.p_drop = 1 * 10000,
	};
	while ((c = getopt_long(argc, argv, "o:n:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'n':
			o->sessions = parse_u64("--sessions", optarg, 1, UINT64_MAX / 2);
			o->sessions_set = 1;
			break;
		case OPT_SEED:
			o->seed = parse_u64("--seed", optarg, 0, UINT64_MAX);
			break;
		case OPT_BYTES:
			o->bytes = parse_u64("--bytes", optarg, 1, UINT64_MAX / 2);
			break;
		case OPT_CONCURRENT:
			o->concurrent = parse_u64("--concurrent", optarg, 1, 1000000);
			break;
		case OPT_REQUESTS:
			o->requests = parse_u64("--requests", optarg, 1, 1000);
			break;
		case OPT_IPV6:
			o->p_ipv6 = parse_pct("--ipv6", optarg);
			break;
		case OPT_MIDSTREAM:
			o->p_midstream = parse_pct("--midstream", optarg);
			break;
		case OPT_WRAP:
			o->p_wrap = parse_pct("--wrap", optarg);
			break;
		case OPT_RST:
			o->p_rst = parse_pct("--rst", optarg);
			break;
		case OPT_PIPELINE:
			o->p_pipeline = parse_pct("--pipeline", optarg);
			break;
		case OPT_POST:
			o->p_post = parse_pct("--post", optarg);
			break;
		case OPT_HEAD:
			o->p_head = parse_pct("--head", optarg);
			break;
		case OPT_CHUNKED:
			o->p_chunked = parse_pct("--chunked", optarg);
			break;
		case OPT_CONTINUE:
			o->p_continue = parse_pct("--continue", optarg);
			break;
		case OPT_BODY_MAX:
			o->body_max = parse_u64("--body-max", optarg, 0, 1u << 26);
			break;
		case OPT_POST_MAX:
			o->post_max = parse_u64("--post-max", optarg, 0, 1u << 26);
			break;
		case OPT_CHUNK_MAX:
			o->chunk_max = parse_u64("--chunk-max", optarg, 1, 1u << 26);
			break;
		case OPT_MSS:
			o->mss = parse_u64("--mss", optarg, 64, MSS_MAX);
			break;
		case OPT_SPLIT:
			o->p_split = parse_pct("--split", optarg);
			break;
		case OPT_REORDER:
			o->p_reorder = parse_pct("--reorder", optarg);
			break;
		case OPT_WINDOW:
			o->window = parse_u64("--window", optarg, 1, 1000);
			break;
		case OPT_DUP:
			o->p_dup = parse_pct("--dup", optarg);
			break;
		case OPT_OVERLAP:
			o->p_overlap = parse_pct("--overlap", optarg);
			break;
		case OPT_DROP:
			o->p_drop = parse_pct("--drop", optarg);
			break;
		case OPT_CLEAN:
			clean = 1;
			break;
		case OPT_PPS:
			o->pps = parse_u64("--pps", optarg, 1, 1000000000);
			break;
		case OPT_START:
			o->start = parse_u64("--start", optarg, 0, 4000000000ULL);
			break;
		case OPT_NSEC:
			o->nsec = 1;
			break;
		case OPT_TRUTH:
			o->truth = optarg;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			fputs(help, stdout);
			exit(0);
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			exit(2);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!o->out)
		die_usage("no output file: -o FILE is required");
	if (o->p_post + o->p_head > PPM)
		die_usage("--post and --head add up to more than 100%%");
	if (o->bytes && !o->sessions_set)
		o->sessions = UINT64_MAX / 2;
	if (clean)
		o->p_reorder = o->p_dup = o->p_overlap = o->p_drop = 0;
}

/* ---- sessions ------------------------------------------------------------------------------ */

enum method { M_GET, M_HEAD, M_POST };
enum framing { F_NONE, F_LENGTH, F_CHUNKED };
/* What a hole touches, worst last. */
enum cls { C_NONE, C_DATA, C_FRAME, C_HDR };
/* Per-message truth (see the gap rule in --help). */
enum state { S_CLEAN, S_BODY, S_FRAME, S_HEAD, S_NOSYNC, S_UNPAIRED };

static const char *const method_name[] = {"GET", "HEAD", "POST"};
static const char *const framing_name[] = {"none", "length", "chunked"};
static const char *const state_name[] = {"-", "body", "frame", "head", "nosync", "unpaired"};

#define URI_MAX 112

struct req {
	char uri[URI_MAX];
	uint32_t req_body, resp_body; /* decoded; resp_body is announced only, for a HEAD */
	uint16_t status;
	uint8_t method, req_framing, resp_framing, expect100, close;
	uint8_t req_cls, resp_cls;   /* worst hole class so far */
	uint8_t req_sync, resp_sync; /* direction in sync at the message's start */
	uint8_t resp_unpaired;	     /* in sync, but its request was not seen */
	uint8_t text_body;	     /* response body from the text table */
	char req_sha[65];	     /* with a truth: SHA-256 of the request body, once sent */
};

/* One burst: bytes of one direction, sent back to back. */
enum part {
	P_WHOLE,     /* requests (or responses) first .. first+n-1, whole */
	P_REQHDR,    /* request header block only (Expect: 100-continue) */
	P_INTERIM,   /* 100 Continue */
	P_REQBODY,   /* request body only, after the 100 */
	P_RESPFINAL, /* final response after a 100 */
};

struct burst {
	uint8_t dir, part;
	uint16_t first, n;
};

/* Bytes of the current burst: text (headers, chunk lines) or a run of a pattern table. */
enum piece_kind { PK_TEXT, PK_TXT, PK_BIN };

struct piece {
	uint32_t off, len; /* in the burst */
	uint32_t src;	   /* PK_TEXT: offset in the text arena; else table start */
	uint8_t kind;
};

/* An HTTP region of the current burst, for the gap rule. */
struct region {
	uint32_t off, len;
	uint16_t msg;
	uint8_t cls;   /* C_DATA, C_FRAME or C_HDR: what a hole in it means */
	uint8_t start; /* first region of its message */
};

/* One packet to write (or, when !cap, a transmission the capture lost). */
enum item_kind { K_DATA, K_PACK, K_CTRL };

struct item {
	uint32_t off, len; /* K_DATA: range in the burst; K_PACK: off = burst bytes acknowledged */
	uint8_t kind, dir, flags, cap;
};

enum phase { PH_OPEN, PH_DATA, PH_CLOSING, PH_DONE };

struct sess {
	uint64_t id;
	uint8_t v6, midstream, closer, rst, phase;
	uint8_t caddr[16], saddr[16];
	uint16_t cport, sport, mss;
	uint16_t ipid[2];
	uint32_t base[2]; /* sequence number of stream offset 0 */
	uint64_t len[2];  /* stream bytes of the bursts built so far */
	uint8_t fin[2];
	uint8_t insync[2];
	const char *ua;
	char host[64];

	struct req *reqs;
	unsigned nreqs;
	size_t capreqs;
	struct burst *plan;
	unsigned nplan, next_burst, last_burst[2], first_burst[2];
	size_t capplan;

	/* the current burst */
	uint8_t bdir;
	uint64_t bstart;
	uint32_t blen;
	struct piece *pieces;
	size_t npieces, cappieces;
	char *text;
	size_t ntext, captext;
	struct region *regions;
	size_t nregions, capregions;
	struct item *items;
	size_t nitems, capitems, next_item;

	/* stream truth per direction */
	struct sha256 sha[2];
	uint64_t present[2], missing[2], gaps[2], hole_end[2];
};

struct stats {
	uint64_t sessions, requests, packets, bytes, midstream, v6, rst, wraps, pipelined;
	uint64_t segments, dups, overlaps, reordered, dropped, gaps, missing;
};

/* A transmission while a burst is planned. */
struct tx {
	uint32_t off, len;
	uint64_t key; /* send order */
	uint32_t idx; /* creation order, to break ties */
	uint8_t pin;  /* never dropped */
};

struct gen {
	struct opts o;
	struct tk_rng rng;
	pcap_dumper_t *dumper;
	FILE *streams, *http;
	uint64_t now_ns, gap_lo, gap_hi;
	uint32_t host_a, host_b, port_off;
	struct stats st;
	uint8_t pkt[MAX_FRAME + 64];
	uint8_t tbl_txt[TBL_PERIOD + TBL_CHUNK], tbl_bin[TBL_PERIOD + TBL_CHUNK];
	uint8_t scratch[TBL_CHUNK];
	/* burst planning scratch, reused */
	struct tx *tx;
	size_t ntx, captx;
	uint32_t *pts, *first_cap, *first_any, *holes;
	uint8_t *cap;
	size_t cappts, capfc, capfa, capholes, capcap;
};

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	p = realloc(p, n * size);
	if (!p)
		die("out of memory");
	*cap = n;
	return p;
}

#define GROW(arr, cap, need) ((arr) = grow((arr), &(cap), (need), sizeof(*(arr))))

static const char *const user_agents[] = {
	"curl/8.5.0",
	"Wget/1.21.4",
	"python-requests/2.31.0",
	"Go-http-client/1.1",
	"okhttp/4.12.0",
	"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	"Version/17.2 Safari/605.1.15",
};

static const char *const words[] = {
	"api",	  "v1",	    "v2",    "static", "img",	 "css",	  "js",	      "users",
	"items",  "search", "login", "cart",   "news",	 "blog",  "assets",   "media",
	"orders", "docs",   "help",  "status", "photos", "video", "download", "feed",
};

static const char *const exts[] = {"", "", "", ".html", ".js", ".css", ".png", ".json"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *reason(unsigned status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 304:
		return "Not Modified";
	case 404:
		return "Not Found";
	default:
		return "Internal Server Error";
	}
}

static unsigned pick_status(struct tk_rng *r, enum method m)
{
	unsigned x = tk_rng_below(r, 100);

	switch (m) {
	case M_GET:
		return x < 70	? 200
		       : x < 78 ? 304
		       : x < 88 ? 404
		       : x < 93 ? 301
		       : x < 96 ? 204
				: 500;
	case M_HEAD:
		return x < 85 ? 200 : 404;
	default:
		return x < 50 ? 200 : x < 80 ? 201 : x < 90 ? 204 : 500;
	}
}

static void make_uri(struct tk_rng *r, char *uri)
{
	size_t n = 0;
	unsigned parts = tk_rng_below(r, 4);

	if (parts == 0) {
		strcpy(uri, "/");
		return;
	}
	for (unsigned i = 0; i < parts; i++)
		n += snprintf(uri + n, URI_MAX - n, "/%s", words[tk_rng_below(r, NELEM(words))]);
	if (tk_rng_below(r, 3) == 0)
		n += snprintf(uri + n, URI_MAX - n, "/%u", (unsigned)tk_rng_below(r, 100000));
	n += snprintf(uri + n, URI_MAX - n, "%s", exts[tk_rng_below(r, NELEM(exts))]);
	if (tk_rng_below(r, 10) < 3)
		snprintf(uri + n, URI_MAX - n, "?%s=%u&page=%u",
			 words[tk_rng_below(r, NELEM(words))], (unsigned)tk_rng_below(r, 1000000),
			 (unsigned)tk_rng_range(r, 1, 20));
}

static void plan_add(struct sess *s, int dir, int part, unsigned first, unsigned n)
{
	GROW(s->plan, s->capplan, s->nplan + 1);
	s->plan[s->nplan++] = (struct burst){.dir = dir, .part = part, .first = first, .n = n};
}

/* A fresh session: addresses, sequence numbers, requests and the burst plan. */
static void sess_new(struct gen *g, struct sess *s)
{
	struct tk_rng *r = &g->rng;
	const struct opts *o = &g->o;
	uint64_t id = g->st.sessions++;
	uint32_t hidx, pidx;
	int pipelined;

	s->id = id;
	s->phase = PH_OPEN;
	s->v6 = rng_ppm(r, o->p_ipv6);
	s->midstream = rng_ppm(r, o->p_midstream);
	s->rst = rng_ppm(r, o->p_rst);
	pipelined = rng_ppm(r, o->p_pipeline);
	s->mss = s->v6 ? o->mss - 20 : o->mss;

	/* (host index, port) walks a seeded bijection of the session number, as in gencap */
	hidx = (uint32_t)(((uint64_t)g->host_a * (id % 65534) + g->host_b) % 65534) + 1;
	pidx = (id / 65534 + g->port_off) % 64000;
	s->cport = 1024 + pidx;
	s->sport = tk_rng_below(r, 5) ? 80 : 8080;
	uint32_t srv = tk_rng_range(r, 1, 254);
	memset(s->caddr, 0, 16);
	memset(s->saddr, 0, 16);
	if (s->v6) {
		static const uint8_t cpfx[6] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0c};
		static const uint8_t spfx[6] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05};
		memcpy(s->caddr, cpfx, 6);
		memcpy(s->saddr, spfx, 6);
		s->caddr[14] = hidx >> 8;
		s->caddr[15] = hidx;
		s->saddr[15] = srv;
	} else {
		s->caddr[0] = 198;
		s->caddr[1] = 18;
		s->caddr[2] = hidx >> 8;
		s->caddr[3] = hidx;
		s->saddr[0] = 198;
		s->saddr[1] = 19;
		s->saddr[2] = srv & 7;
		s->saddr[3] = srv;
	}
	s->ua = user_agents[tk_rng_below(r, NELEM(user_agents))];
	if (s->sport == 80)
		snprintf(s->host, sizeof(s->host), "www.%s%u.example",
			 words[tk_rng_below(r, NELEM(words))], (unsigned)tk_rng_below(r, 100));
	else
		snprintf(s->host, sizeof(s->host), "%s.test:%u",
			 words[tk_rng_below(r, NELEM(words))], s->sport);

	for (int d = 0; d < 2; d++) {
		uint32_t isn = tk_rng_next(r);

		if (rng_ppm(r, o->p_wrap))
			isn = 0xffffffffu - (uint32_t)tk_rng_below(r, 4096);
		/* offset 0 is the byte after the SYN, or where the capture picks the stream up */
		s->base[d] = isn + 1;
		s->ipid[d] = tk_rng_next(r);
		s->len[d] = 0;
		s->fin[d] = 0;
		s->insync[d] = 1;
		sha256_init(&s->sha[d]);
		s->present[d] = s->missing[d] = s->gaps[d] = 0;
		s->hole_end[d] = UINT64_MAX;
	}

	s->nreqs = tk_rng_range(r, 1, o->requests);
	GROW(s->reqs, s->capreqs, s->nreqs);
	for (unsigned k = 0; k < s->nreqs; k++) {
		struct req *q = &s->reqs[k];
		uint32_t x = tk_rng_below(r, PPM);

		memset(q, 0, sizeof(*q));
		q->method = x < o->p_post ? M_POST : x < o->p_post + o->p_head ? M_HEAD : M_GET;
		make_uri(r, q->uri);
		if (q->method == M_POST) {
			q->req_body = rng_logsize(r, o->post_max);
			q->req_framing = rng_ppm(r, o->p_chunked) ? F_CHUNKED : F_LENGTH;
			q->expect100 = q->req_body && rng_ppm(r, o->p_continue);
		}
		q->status = pick_status(r, q->method);
		if (q->status == 204 || q->status == 304) {
			q->resp_framing = F_NONE;
		} else {
			q->resp_framing = rng_ppm(r, o->p_chunked) && q->method != M_HEAD
						  ? F_CHUNKED
						  : F_LENGTH;
			q->resp_body = q->status == 200 ? rng_logsize(r, o->body_max)
							: tk_rng_range(r, 20, 512);
		}
		q->text_body = tk_rng_below(r, 2);
	}
	s->reqs[s->nreqs - 1].close = tk_rng_below(r, 10) < 3;
	s->closer = s->reqs[s->nreqs - 1].close ? 1 : tk_rng_below(r, 10) < 7 ? 0 : 1;

	s->nplan = s->next_burst = 0;
	for (unsigned k = 0; k < s->nreqs;) {
		if (pipelined && s->reqs[k].method != M_POST) {
			unsigned j = k;
			while (j < s->nreqs && j - k < 4 && s->reqs[j].method != M_POST)
				j++;
			plan_add(s, 0, P_WHOLE, k, j - k);
			plan_add(s, 1, P_WHOLE, k, j - k);
			g->st.pipelined += j - k > 1;
			k = j;
		} else if (s->reqs[k].expect100) {
			plan_add(s, 0, P_REQHDR, k, 1);
			plan_add(s, 1, P_INTERIM, k, 1);
			plan_add(s, 0, P_REQBODY, k, 1);
			plan_add(s, 1, P_RESPFINAL, k, 1);
			k++;
		} else {
			plan_add(s, 0, P_WHOLE, k, 1);
			plan_add(s, 1, P_WHOLE, k, 1);
			k++;
		}
	}
	s->first_burst[0] = s->first_burst[1] = UINT_MAX;
	for (unsigned i = 0; i < s->nplan; i++) {
		int d = s->plan[i].dir;
		if (s->first_burst[d] == UINT_MAX)
			s->first_burst[d] = i;
		s->last_burst[d] = i;
	}

	g->st.midstream += s->midstream;
	g->st.v6 += s->v6;
	g->st.rst += s->rst;
	g->st.requests += s->nreqs;
}

/* ---- burst content ------------------------------------------------------------------------- */

static void region_add(struct sess *s, uint32_t off, uint32_t len, unsigned msg, int cls, int start)
{
	GROW(s->regions, s->capregions, s->nregions + 1);
	s->regions[s->nregions++] =
		(struct region){.off = off, .len = len, .msg = msg, .cls = cls, .start = start};
}

/* Append formatted text to the burst as one region. */
static void __attribute__((format(printf, 5, 6)))
text_add(struct sess *s, unsigned msg, int cls, int start, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = s->captext - s->ntext;
		va_start(ap, fmt);
		n = vsnprintf(s->text + s->ntext, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			die("formatting failed");
		if ((size_t)n < room)
			break;
		GROW(s->text, s->captext, s->ntext + n + 1);
	}
	GROW(s->pieces, s->cappieces, s->npieces + 1);
	s->pieces[s->npieces++] =
		(struct piece){.off = s->blen, .len = n, .src = s->ntext, .kind = PK_TEXT};
	region_add(s, s->blen, n, msg, cls, start);
	s->ntext += n;
	s->blen += n;
}

/* Hash len bytes of a pattern table from start (< TBL_PERIOD), as burst_copy reads them. */
static void sha256_table(struct sha256 *c, const uint8_t *t, uint32_t start, uint32_t len)
{
	while (len) {
		uint32_t n = len < TBL_CHUNK ? len : TBL_CHUNK;
		sha256_update(c, t + start, n);
		len -= n;
		start = (start + n) % TBL_PERIOD;
	}
}

/* len bytes of a pattern table as one region of body data; sha (or NULL) hashes them. */
static void data_add(struct gen *g, struct sess *s, unsigned msg, uint32_t len, int text,
		     struct sha256 *sha)
{
	if (!len)
		return;
	GROW(s->pieces, s->cappieces, s->npieces + 1);
	s->pieces[s->npieces++] = (struct piece){.off = s->blen,
						 .len = len,
						 .src = tk_rng_below(&g->rng, TBL_PERIOD),
						 .kind = text ? PK_TXT : PK_BIN};
	region_add(s, s->blen, len, msg, C_DATA, 0);
	s->blen += len;
	if (sha)
		sha256_table(sha, text ? g->tbl_txt : g->tbl_bin, s->pieces[s->npieces - 1].src,
			     len);
}

/* A body of len decoded bytes, by Content-Length or chunked; sha (or NULL) hashes them. */
static void body_add(struct gen *g, struct sess *s, unsigned msg, int framing, uint32_t len,
		     int text, struct sha256 *sha)
{
	if (framing != F_CHUNKED) {
		data_add(g, s, msg, len, text, sha);
		return;
	}
	int upper = tk_rng_below(&g->rng, 5) == 0;
	while (len) {
		uint32_t n = tk_rng_range(&g->rng, 1, g->o.chunk_max);
		if (n > len)
			n = len;
		text_add(s, msg, C_FRAME, 0, upper ? "%X\r\n" : "%x\r\n", n);
		data_add(g, s, msg, n, text, sha);
		text_add(s, msg, C_FRAME, 0, "\r\n");
		len -= n;
	}
	text_add(s, msg, C_FRAME, 0, "0\r\n\r\n");
}

static void req_head_add(struct gen *g, struct sess *s, unsigned k)
{
	const struct req *q = &s->reqs[k];
	char cl[48] = "";

	if (q->req_framing == F_LENGTH)
		snprintf(cl, sizeof(cl), "Content-Length: %" PRIu32 "\r\n", q->req_body);
	else if (q->req_framing == F_CHUNKED)
		strcpy(cl, "Transfer-Encoding: chunked\r\n");
	text_add(s, k, C_HDR, 1,
		 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n%s%s%s%s%s\r\n",
		 method_name[q->method], q->uri, s->host, s->ua,
		 tk_rng_below(&g->rng, 2) ? "Accept-Encoding: gzip, deflate\r\n" : "",
		 q->method == M_POST ? "Content-Type: text/plain; charset=utf-8\r\n" : "", cl,
		 q->expect100 ? "Expect: 100-continue\r\n" : "",
		 q->close ? "Connection: close\r\n" : "");
}

static void resp_head_add(struct gen *g, struct sess *s, unsigned k, int start)
{
	const struct req *q = &s->reqs[k];
	char date[64], extra[256] = "", cl[48] = "";
	time_t t = g->now_ns / 1000000000u;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (q->resp_framing == F_LENGTH)
		snprintf(cl, sizeof(cl), "Content-Length: %" PRIu32 "\r\n", q->resp_body);
	else if (q->resp_framing == F_CHUNKED)
		strcpy(cl, "Transfer-Encoding: chunked\r\n");
	if (q->status == 301)
		snprintf(extra, sizeof(extra), "Location: https://%s%s\r\n", s->host, q->uri);
	else if (q->status == 304 || q->status == 200)
		snprintf(extra, sizeof(extra), "ETag: \"%08x\"\r\n",
			 (unsigned)tk_rng_next(&g->rng));
	text_add(s, k, C_HDR, start,
		 "HTTP/1.1 %u %s\r\nDate: %s\r\nServer: genhttp/1.0\r\n%s%s%s%s\r\n", q->status,
		 reason(q->status), date,
		 q->resp_framing != F_NONE ? (q->text_body ? "Content-Type: text/html; "
							     "charset=utf-8\r\n"
							   : "Content-Type: "
							     "application/octet-stream\r\n")
					   : "",
		 cl, extra, q->close ? "Connection: close\r\n" : "");
}

/* Request k's header block and/or body. */
static void req_add(struct gen *g, struct sess *s, unsigned k, int head, int body)
{
	struct req *q = &s->reqs[k];
	struct sha256 sha;

	if (head)
		req_head_add(g, s, k);
	if (body && q->method == M_POST) {
		sha256_init(&sha);
		body_add(g, s, k, q->req_framing, q->req_body, 1, g->o.truth ? &sha : NULL);
		if (g->o.truth)
			sha256_hex(&sha, q->req_sha);
	}
}

static void resp_add(struct gen *g, struct sess *s, unsigned k, int start)
{
	const struct req *q = &s->reqs[k];

	resp_head_add(g, s, k, start);
	if (q->method != M_HEAD && q->resp_framing != F_NONE)
		body_add(g, s, k, q->resp_framing, q->resp_body, q->text_body, NULL);
}

/* Copy len bytes of the current burst from offset off. */
static void burst_copy(const struct gen *g, const struct sess *s, uint32_t off, uint32_t len,
		       uint8_t *dst)
{
	size_t lo = 0, hi = s->npieces;

	while (hi - lo > 1) { /* last piece with piece.off <= off */
		size_t mid = (lo + hi) / 2;
		if (s->pieces[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = lo; len; i++) {
		const struct piece *p = &s->pieces[i];
		uint32_t in = off - p->off, n = p->len - in < len ? p->len - in : len;

		if (p->kind == PK_TEXT) {
			memcpy(dst, s->text + p->src + in, n);
		} else {
			const uint8_t *t = p->kind == PK_TXT ? g->tbl_txt : g->tbl_bin;
			uint32_t pos = (uint32_t)(((uint64_t)p->src + in) % TBL_PERIOD), left = n;
			uint8_t *d = dst;
			while (left) {
				uint32_t c = left < TBL_CHUNK ? left : TBL_CHUNK;
				memcpy(d, t + pos, c);
				d += c;
				left -= c;
				pos = (pos + c) % TBL_PERIOD;
			}
		}
		dst += n;
		off += n;
		len -= n;
	}
}

/* ---- burst planning: segments, mangling, holes, ACKs, truth -------------------------------- */

static int tx_cmp(const void *a, const void *b)
{
	const struct tx *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void tx_add(struct gen *g, uint32_t off, uint32_t len, uint64_t key, int pin)
{
	GROW(g->tx, g->captx, g->ntx + 1);
	g->tx[g->ntx] = (struct tx){.off = off, .len = len, .key = key, .idx = g->ntx, .pin = pin};
	g->ntx++;
}

static void item_add(struct sess *s, int kind, int dir, uint8_t flags, uint32_t off, uint32_t len,
		     int cap)
{
	GROW(s->items, s->capitems, s->nitems + 1);
	s->items[s->nitems++] = (struct item){
		.off = off, .len = len, .kind = kind, .dir = dir, .flags = flags, .cap = cap};
}

/* Index of the elementary interval starting at off. */
static size_t pt_find(const struct gen *g, size_t npts, uint32_t off)
{
	size_t lo = 0, hi = npts;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (g->pts[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The gap rule over the current burst's regions, given its holes (sorted, disjoint). */
static void http_truth(struct sess *s, const uint32_t *holes, size_t nholes)
{
	int d = s->bdir;
	size_t h = 0;

	for (size_t i = 0; i < s->nregions; i++) {
		const struct region *rg = &s->regions[i];
		struct req *q = &s->reqs[rg->msg];
		int hit = 0;

		while (h < nholes && holes[2 * h + 1] <= rg->off)
			h++;
		for (size_t j = h; j < nholes && holes[2 * j] < rg->off + rg->len; j++)
			if (holes[2 * j + 1] > rg->off)
				hit = 1;
		if (d == 0) {
			if (rg->start)
				q->req_sync = s->insync[0];
			if (!q->req_sync)
				continue;
			if (hit && rg->cls > q->req_cls)
				q->req_cls = rg->cls;
		} else {
			if (rg->start) {
				int seen = q->req_sync && q->req_cls < C_HDR;
				q->resp_sync = s->insync[1];
				if (q->resp_sync && !seen) {
					q->resp_unpaired = 1;
					s->insync[1] = 0;
				}
			}
			if (!q->resp_sync || q->resp_unpaired)
				continue;
			if (hit && rg->cls > q->resp_cls)
				q->resp_cls = rg->cls;
		}
		if (hit && rg->cls >= C_FRAME)
			s->insync[d] = 0;
	}
}

/* The current burst's bytes: the messages of plan entry b, as pieces and regions. */
static void burst_content(struct gen *g, struct sess *s, const struct burst *b)
{
	int d = b->dir;

	s->bdir = d;
	s->bstart = s->len[d];
	s->blen = 0;
	s->npieces = s->ntext = s->nregions = s->nitems = s->next_item = 0;
	for (unsigned k = b->first; k < b->first + b->n; k++) {
		switch (b->part) {
		case P_WHOLE:
			if (d == 0)
				req_add(g, s, k, 1, 1);
			else
				resp_add(g, s, k, 1);
			break;
		case P_REQHDR:
			req_add(g, s, k, 1, 0);
			break;
		case P_REQBODY:
			req_add(g, s, k, 0, 1);
			break;
		case P_INTERIM:
			text_add(s, k, C_HDR, 1, "HTTP/1.1 100 Continue\r\n\r\n");
			break;
		case P_RESPFINAL:
			resp_add(g, s, k, 0);
			break;
		}
	}
	s->len[d] += s->blen;
}

/*
 * The burst's transmissions in send order (g->tx): the originals cut from its bytes, exact
 * duplicates, overlapping retransmissions around a boundary, some originals moved late. Keys are
 * 256 per place; a copy goes 1..WINDOW places after its original. pin_first keeps the first
 * original first and captured, pin_last keeps the one with the last byte captured.
 */
static void burst_segments(struct gen *g, const struct sess *s, int pin_first, int pin_last)
{
	const struct opts *o = &g->o;
	struct tk_rng *r = &g->rng;
	uint32_t blen = s->blen, mss = s->mss, win = o->window;
	size_t norig;

	g->ntx = 0;
	for (uint32_t off = 0; off < blen;) {
		uint32_t n = rng_ppm(r, o->p_split) ? tk_rng_range(r, 1, mss) : mss;
		if (n > blen - off)
			n = blen - off;
		tx_add(g, off, n, (uint64_t)g->ntx * 256 + 128,
		       (pin_first && off == 0) || (pin_last && off + n == blen));
		off += n;
	}
	norig = g->ntx;
	g->st.segments += norig;
	if (pin_first)
		g->tx[0].key = 0;
	for (size_t i = 0; i < norig; i++) {
		struct tx t = g->tx[i];
		if (rng_ppm(r, o->p_dup)) {
			tx_add(g, t.off, t.len,
			       (i + tk_rng_range(r, 1, win)) * 256 + tk_rng_below(r, 256), 0);
			g->st.dups++;
		}
		if (i > 0 && rng_ppm(r, o->p_overlap)) {
			/* a range across the boundary at t.off, starting in the previous segment */
			uint32_t lo = t.off - g->tx[i - 1].len, half = mss / 2;
			if (t.off > half && lo < t.off - half)
				lo = t.off - half;
			uint32_t x = tk_rng_range(r, lo, t.off - 1);
			uint32_t y = tk_rng_range(r, t.off + 1, x + mss < blen ? x + mss : blen);
			tx_add(g, x, y - x,
			       (i + tk_rng_range(r, 1, win)) * 256 + tk_rng_below(r, 256), 0);
			g->st.overlaps++;
		}
	}
	for (size_t i = pin_first ? 1 : 0; i < norig; i++)
		if (rng_ppm(r, o->p_reorder)) {
			g->tx[i].key += tk_rng_range(r, 1, win) * 256;
			g->st.reordered++;
		}
	qsort(g->tx, g->ntx, sizeof(*g->tx), tx_cmp);
}

/*
 * Drop transmissions, then cut the burst into elementary intervals (g->pts, between all
 * transmission boundaries) and find, for each, the first transmission that covers it and the
 * first captured one (UINT32_MAX: none, a hole). Returns the number of intervals.
 */
static size_t burst_coverage(struct gen *g)
{
	size_t ntx = g->ntx, npts = 0, u = 0;

	GROW(g->pts, g->cappts, 2 * ntx);
	for (size_t i = 0; i < ntx; i++) {
		g->pts[npts++] = g->tx[i].off;
		g->pts[npts++] = g->tx[i].off + g->tx[i].len;
	}
	qsort(g->pts, npts, sizeof(*g->pts), u32_cmp);
	for (size_t i = 0; i < npts; i++)
		if (u == 0 || g->pts[i] != g->pts[u - 1])
			g->pts[u++] = g->pts[i];
	size_t nel = u - 1; /* pts[0] = 0 .. pts[nel] = blen */

	GROW(g->cap, g->capcap, ntx);
	GROW(g->first_cap, g->capfc, nel);
	GROW(g->first_any, g->capfa, nel);
	for (size_t i = 0; i < ntx; i++) {
		g->cap[i] = g->tx[i].pin || !rng_ppm(&g->rng, g->o.p_drop);
		g->st.dropped += !g->cap[i];
	}
	for (size_t e = 0; e < nel; e++)
		g->first_cap[e] = g->first_any[e] = UINT32_MAX;
	for (size_t i = 0; i < ntx; i++) {
		uint32_t end = g->tx[i].off + g->tx[i].len;
		for (size_t e = pt_find(g, u, g->tx[i].off); g->pts[e] < end; e++) {
			if (g->first_any[e] == UINT32_MAX)
				g->first_any[e] = i;
			if (g->cap[i] && g->first_cap[e] == UINT32_MAX)
				g->first_cap[e] = i;
		}
	}
	return nel;
}

/*
 * The burst's packets: its transmissions (the dropped ones kept as !cap, unwritten) and the
 * receiver's pure ACKs. The receiver holds an interval from its first captured copy, or, when
 * no copy is captured (capture loss), from its first transmission; it ACKs after every second
 * transmission, after one that left its ACK where it was, and after the last.
 */
static void burst_items(struct gen *g, struct sess *s, size_t nel)
{
	size_t p = 0;
	uint32_t last_ack = UINT32_MAX;

	for (size_t i = 0; i < g->ntx; i++) {
		const struct tx *t = &g->tx[i];
		uint8_t fl = TH_ACK | (t->off + t->len == s->blen ? TH_PSH : 0);

		item_add(s, K_DATA, s->bdir, fl, t->off, t->len, g->cap[i]);
		while (p < nel &&
		       (g->first_cap[p] != UINT32_MAX ? g->first_cap[p] : g->first_any[p]) <= i)
			p++;
		uint32_t ack = g->pts[p];
		if (i % 2 == 1 || i + 1 == g->ntx || ack == last_ack) {
			item_add(s, K_PACK, !s->bdir, TH_ACK, ack, 0, 1);
			last_ack = ack;
		}
	}
}

/* The burst's holes (intervals no captured copy covers, merged) into g->holes as [start, end)
 * pairs; returns how many. */
static size_t burst_holes(struct gen *g, size_t nel)
{
	uint32_t *holes;
	size_t n = 0;

	GROW(g->holes, g->capholes, 2 * nel);
	holes = g->holes;
	for (size_t e = 0; e < nel; e++) {
		if (g->first_cap[e] != UINT32_MAX)
			continue;
		if (n && holes[2 * n - 1] == g->pts[e]) {
			holes[2 * n - 1] = g->pts[e + 1];
		} else {
			holes[2 * n] = g->pts[e];
			holes[2 * n + 1] = g->pts[e + 1];
			n++;
		}
	}
	return n;
}

/* Stream truth of the burst: present bytes hashed in order, holes counted (a hole that goes on
 * from the end of the direction's previous burst is the same gap). */
static void burst_stream_truth(struct gen *g, struct sess *s, const uint32_t *holes, size_t nholes)
{
	int d = s->bdir;
	uint32_t at = 0;

	for (size_t h = 0; h <= nholes; h++) {
		uint32_t end = h < nholes ? holes[2 * h] : s->blen;

		s->present[d] += end - at;
		while (g->o.truth && at < end) {
			uint32_t n = end - at < sizeof(g->scratch) ? end - at : sizeof(g->scratch);
			burst_copy(g, s, at, n, g->scratch);
			sha256_update(&s->sha[d], g->scratch, n);
			at += n;
		}
		if (h == nholes)
			break;
		s->missing[d] += holes[2 * h + 1] - holes[2 * h];
		g->st.missing += holes[2 * h + 1] - holes[2 * h];
		if (s->hole_end[d] != s->bstart + holes[2 * h]) {
			s->gaps[d]++;
			g->st.gaps++;
		}
		s->hole_end[d] = s->bstart + holes[2 * h + 1];
		at = holes[2 * h + 1];
	}
}

/* Build the session's next burst and queue its packets; its truth is complete on return. */
static void burst_build(struct gen *g, struct sess *s)
{
	unsigned bi = s->next_burst++;
	int d = s->plan[bi].dir;
	size_t nel, nholes;

	burst_content(g, s, &s->plan[bi]);
	burst_segments(g, s, s->midstream && bi == s->first_burst[d], bi == s->last_burst[d]);
	nel = burst_coverage(g);
	burst_items(g, s, nel);
	nholes = burst_holes(g, nel);
	burst_stream_truth(g, s, g->holes, nholes);
	http_truth(s, g->holes, nholes);
}

/* ---- packets ------------------------------------------------------------------------------- */

/* Write one packet of session s. Sequence and acknowledgement numbers follow from the item and
 * the session's state: the peer is always idle while a burst is sent, so it has everything. */
static void emit(struct gen *g, struct sess *s, const struct item *it)
{
	int d = it->dir, syn = it->flags & TH_SYN;
	uint8_t *p = g->pkt, *l3, *l4;
	const uint8_t *src = d ? s->saddr : s->caddr, *dst = d ? s->caddr : s->saddr;
	uint32_t paylen = it->kind == K_DATA ? it->len : 0;
	uint32_t l4hlen = TCP_HLEN + (syn ? TCP_SYN_OPTLEN : 0), iplen, caplen;
	uint32_t seq, ack;
	uint64_t sum;

	switch (it->kind) {
	case K_DATA:
		seq = s->base[d] + (uint32_t)(s->bstart + it->off);
		ack = s->base[!d] + (uint32_t)s->len[!d] + s->fin[!d];
		break;
	case K_PACK:
		seq = s->base[d] + (uint32_t)s->len[d] + s->fin[d];
		ack = s->base[!d] + (uint32_t)(s->bstart + it->off);
		break;
	default:
		seq = s->base[d] + (uint32_t)s->len[d] + s->fin[d] - (syn ? 1 : 0);
		ack = s->base[!d] + (uint32_t)s->len[!d] + s->fin[!d];
		break;
	}
	if (!(it->flags & TH_ACK))
		ack = 0;

	/* Ethernet: client side and router, locally administered MACs (as gencap) */
	static const uint8_t mac_c[6] = {0x02, 0x52, 0x43, 0x00, 0x00, 0x01};
	static const uint8_t mac_r[6] = {0x02, 0x52, 0x43, 0x00, 0x00, 0xfe};
	memcpy(p, d ? mac_c : mac_r, 6);
	memcpy(p + 6, d ? mac_r : mac_c, 6);
	tk_put16(p + 12, s->v6 ? 0x86dd : 0x0800);
	l3 = p + ETH_HLEN;

	if (s->v6) {
		iplen = IP6_HLEN + l4hlen + paylen;
		tk_put32(l3, 0x60000000u | ((uint32_t)s->id & 0xfffff));
		tk_put16(l3 + 4, l4hlen + paylen);
		l3[6] = 6;
		l3[7] = d ? 57 : 64;
		memcpy(l3 + 8, src, 16);
		memcpy(l3 + 24, dst, 16);
		l4 = l3 + IP6_HLEN;
	} else {
		iplen = IP4_HLEN + l4hlen + paylen;
		l3[0] = 0x45;
		l3[1] = 0;
		tk_put16(l3 + 2, iplen);
		tk_put16(l3 + 4, s->ipid[d]++);
		tk_put16(l3 + 6, 0x4000); /* DF */
		l3[8] = d ? 57 : 64;
		l3[9] = 6;
		tk_put16(l3 + 10, 0);
		memcpy(l3 + 12, src, 4);
		memcpy(l3 + 16, dst, 4);
		tk_put16(l3 + 10, (uint16_t)~tk_csum_fold(tk_csum_add(0, l3, IP4_HLEN)));
		l4 = l3 + IP4_HLEN;
	}

	tk_put16(l4, d ? s->sport : s->cport);
	tk_put16(l4 + 2, d ? s->cport : s->sport);
	tk_put32(l4 + 4, seq);
	tk_put32(l4 + 8, ack);
	l4[12] = (l4hlen / 4) << 4;
	l4[13] = it->flags;
	tk_put16(l4 + 14, d ? 65160 : 64240);
	tk_put16(l4 + 16, 0);
	tk_put16(l4 + 18, 0);
	if (syn) {
		l4[20] = 2; /* MSS */
		l4[21] = 4;
		tk_put16(l4 + 22, s->mss);
	}
	if (paylen)
		burst_copy(g, s, it->off, paylen, l4 + l4hlen);

	if (s->v6)
		sum = tk_csum_add(0, l3 + 8, 32);
	else
		sum = tk_csum_add(0, l3 + 12, 8);
	sum += l4hlen + paylen + 6;
	sum = tk_csum_add(sum, l4, l4hlen + paylen);
	tk_put16(l4 + 16, (uint16_t)~tk_csum_fold(sum));

	caplen = ETH_HLEN + iplen;
	if (caplen < ETH_MIN_FRAME) {
		memset(g->pkt + caplen, 0, ETH_MIN_FRAME - caplen);
		caplen = ETH_MIN_FRAME;
	}
	if (it->kind == K_CTRL && (it->flags & TH_FIN))
		s->fin[d] = 1;

	struct pcap_pkthdr h;
	uint64_t sec = g->now_ns / 1000000000u, frac = g->now_ns % 1000000000u;
	h.ts.tv_sec = sec;
	h.ts.tv_usec = g->o.nsec ? frac : frac / 1000;
	h.caplen = caplen;
	h.len = caplen;
	pcap_dump((u_char *)g->dumper, &h, g->pkt);
	g->st.packets++;
	g->st.bytes += caplen;
	g->now_ns += tk_rng_range(&g->rng, g->gap_lo, g->gap_hi);
}

/* ---- session steps and truth --------------------------------------------------------------- */

static enum state cls_state(int cls)
{
	return cls == C_NONE ? S_CLEAN : cls == C_DATA ? S_BODY : cls == C_FRAME ? S_FRAME : S_HEAD;
}

static void fmt_addr(const struct sess *s, const uint8_t *a, char *buf)
{
	inet_ntop(s->v6 ? AF_INET6 : AF_INET, a, buf, INET6_ADDRSTRLEN);
}

static void sess_truth(struct gen *g, struct sess *s)
{
	char ch[INET6_ADDRSTRLEN], sh[INET6_ADDRSTRLEN], hex[65], empty[65];
	struct sha256 sha;

	for (int d = 0; d < 2; d++) {
		/* the sequence space from the SYN (or seq0) through the FIN crosses 2^32 */
		uint64_t first = (uint32_t)(s->base[d] - !s->midstream);
		g->st.wraps += first + !s->midstream + s->len[d] + 1 > 0xffffffffull + 1;
	}
	if (!g->streams)
		return;
	fmt_addr(s, s->caddr, ch);
	fmt_addr(s, s->saddr, sh);
	sha256_init(&sha);
	sha256_hex(&sha, empty); /* requests without a body */
	for (int d = 0; d < 2; d++) {
		sha256_hex(&s->sha[d], hex);
		fprintf(g->streams,
			"%" PRIu64 "\t%s\t%u\t%s\t%u\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s\t%" PRIu64
			"\t%u\t%" PRIu32 "\n",
			s->id, ch, s->cport, sh, s->sport, d ? "resp" : "orig", s->present[d],
			s->missing[d], hex, s->gaps[d], s->midstream, s->base[d]);
	}
	for (unsigned k = 0; k < s->nreqs; k++) {
		const struct req *q = &s->reqs[k];
		enum state rq = q->req_sync ? cls_state(q->req_cls) : S_NOSYNC;
		enum state rs = !q->resp_sync	   ? S_NOSYNC
				: q->resp_unpaired ? S_UNPAIRED
						   : cls_state(q->resp_cls);

		fprintf(g->http,
			"%" PRIu64 "\t%s\t%u\t%s\t%u\t%u\t%s\t%s\t%s\t%s\t%" PRIu32 "\t%u\t%" PRIu32
			"\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n",
			s->id, ch, s->cport, sh, s->sport, k + 1, method_name[q->method], q->uri,
			s->host, s->ua, q->method == M_POST ? q->req_body : 0, q->status,
			q->method == M_HEAD ? 0 : q->resp_body, state_name[rq], state_name[rs],
			rq <= S_FRAME, framing_name[q->req_framing], framing_name[q->resp_framing],
			q->expect100 ? "100" : "-", q->req_sha[0] ? q->req_sha : empty);
	}
}

/* Queue the session's next packets; 0 when it has ended (its truth then written). */
static int sess_advance(struct gen *g, struct sess *s)
{
	s->nitems = s->next_item = 0;
	switch (s->phase) {
	case PH_OPEN:
		s->phase = PH_DATA;
		if (!s->midstream) {
			item_add(s, K_CTRL, 0, TH_SYN, 0, 0, 1);
			item_add(s, K_CTRL, 1, TH_SYN | TH_ACK, 0, 0, 1);
			item_add(s, K_CTRL, 0, TH_ACK, 0, 0, 1);
			return 1;
		}
		/* fall through */
	case PH_DATA:
		if (s->next_burst < s->nplan) {
			burst_build(g, s);
			return 1;
		}
		s->phase = PH_CLOSING;
		if (s->rst) {
			item_add(s, K_CTRL, s->closer, TH_RST | TH_ACK, 0, 0, 1);
		} else {
			item_add(s, K_CTRL, s->closer, TH_FIN | TH_ACK, 0, 0, 1);
			item_add(s, K_CTRL, !s->closer, TH_FIN | TH_ACK, 0, 0, 1);
			item_add(s, K_CTRL, s->closer, TH_ACK, 0, 0, 1);
		}
		return 1;
	case PH_CLOSING:
		s->phase = PH_DONE;
		sess_truth(g, s);
		return 0;
	default:
		return 0;
	}
}

/* Write the session's next captured packet; 0 when the session has ended. */
static int sess_step(struct gen *g, struct sess *s)
{
	for (;;) {
		while (s->next_item < s->nitems) {
			const struct item *it = &s->items[s->next_item++];
			if (it->cap) {
				emit(g, s, it);
				return 1;
			}
		}
		if (!sess_advance(g, s))
			return 0;
	}
}

/* ---- main ---------------------------------------------------------------------------------- */

static FILE *truth_open(const char *prefix, const char *suffix, const char *header)
{
	size_t n = strlen(prefix) + strlen(suffix) + 1;
	char *path = malloc(n);
	FILE *f;

	if (!path)
		die("out of memory");
	snprintf(path, n, "%s%s", prefix, suffix);
	f = fopen(path, "w");
	if (!f)
		die("cannot write '%s': %s", path, strerror(errno));
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	fputs(header, f);
	free(path);
	return f;
}

static void truth_close(FILE *f, const char *prefix, const char *suffix)
{
	if (ferror(f) || fclose(f) != 0)
		die("cannot write '%s%s': %s", prefix, suffix, strerror(errno));
}

static void tables_init(struct gen *g)
{
	static const char *const lorem[] = {
		"lorem",      "ipsum",	"dolor",
		"sit",	      "amet",	"consectetur",
		"adipiscing", "elit",	"sed",
		"do",	      "tempor", "incididunt",
		"ut",	      "labore", "et",
		"dolore",     "magna",	"aliqua",
		"<p>",	      "</p>",	"<div class=\"x\">",
	};
	/* fixed content: the same for every seed */
	struct tk_rng t;
	size_t n = 0, col = 0;

	tk_rng_seed(&t, 0x67656e68747470ULL);
	while (n < TBL_PERIOD) {
		const char *w = lorem[tk_rng_below(&t, NELEM(lorem))];
		size_t wl = strlen(w);
		for (size_t i = 0; i < wl && n < TBL_PERIOD; i++, col++)
			g->tbl_txt[n++] = w[i];
		if (n < TBL_PERIOD) {
			g->tbl_txt[n++] = col > 70 ? '\n' : ' ';
			col = col > 70 ? 0 : col + 1;
		}
	}
	for (size_t i = 0; i < TBL_PERIOD; i += 8) {
		uint64_t v = tk_rng_next(&t);
		memcpy(g->tbl_bin + i, &v, i + 8 <= TBL_PERIOD ? 8 : TBL_PERIOD - i);
	}
	for (size_t i = 0; i < TBL_CHUNK; i++) { /* the tail repeats the head */
		g->tbl_txt[TBL_PERIOD + i] = g->tbl_txt[i];
		g->tbl_bin[TBL_PERIOD + i] = g->tbl_bin[i];
	}
}

int main(int argc, char **argv)
{
	static struct gen g;
	struct sess *slots;
	uint32_t *order;
	pcap_t *dead;
	FILE *out;
	uint64_t nslots, nact;

	parse_opts(&g.o, argc, argv);
	tk_rng_seed(&g.rng, g.o.seed);
	tables_init(&g);
	tk_host_map(&g.rng, &g.host_a, &g.host_b);
	g.port_off = tk_rng_below(&g.rng, 64000);

	tk_ts_steps(g.o.pps, g.o.nsec, &g.gap_lo, &g.gap_hi);
	g.now_ns = g.o.start * 1000000000ULL;

	dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAPLEN,
						    g.o.nsec ? PCAP_TSTAMP_PRECISION_NANO
							     : PCAP_TSTAMP_PRECISION_MICRO);
	if (!dead)
		die("pcap_open_dead failed");
	out = strcmp(g.o.out, "-") == 0 ? stdout : fopen(g.o.out, "wb");
	if (!out)
		die("cannot write '%s': %s", g.o.out, strerror(errno));
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	g.dumper = pcap_dump_fopen(dead, out);
	if (!g.dumper)
		die("cannot write '%s': %s", g.o.out, pcap_geterr(dead));
	if (g.o.truth) {
		g.streams = truth_open(g.o.truth, ".streams.tsv",
				       "session\torig_h\torig_p\tresp_h\tresp_p\tdir\tpresent"
				       "\tmissing\tsha256\tgaps\tmidstream\tseq0\n");
		g.http = truth_open(g.o.truth, ".http.tsv",
				    "session\torig_h\torig_p\tresp_h\tresp_p\ttrans_depth\tmethod"
				    "\turi\thost\tuser_agent\trequest_body_len\tstatus_code"
				    "\tresponse_body_len\treq_gap\tresp_gap\texpected\treq_framing"
				    "\tresp_framing\tinterim\trequest_body_sha256\n");
	}

	nslots = nact = g.o.concurrent < g.o.sessions ? g.o.concurrent : g.o.sessions;
	slots = calloc(nslots, sizeof(*slots));
	order = calloc(nslots, sizeof(*order));
	if (!slots || !order)
		die("out of memory");
	for (uint64_t i = 0; i < nact; i++)
		sess_new(&g, &slots[i]);

	/* Rounds: every active session sends one packet, in a fresh random order. A finished
	 * session is replaced while sessions (and bytes) are left; otherwise its slot closes. */
	while (nact) {
		for (uint64_t i = 0; i < nact; i++)
			order[i] = i;
		for (uint64_t i = nact - 1; i > 0; i--) {
			uint64_t j = tk_rng_below(&g.rng, i + 1);
			uint32_t tmp = order[i];
			order[i] = order[j];
			order[j] = tmp;
		}
		for (uint64_t i = 0; i < nact; i++) {
			struct sess *s = &slots[order[i]];

			if (s->phase == PH_DONE || sess_step(&g, s))
				continue;
			if (g.st.sessions < g.o.sessions && (!g.o.bytes || g.st.bytes < g.o.bytes))
				sess_new(&g, s);
		}
		for (uint64_t i = 0; i < nact;) { /* close the finished slots, keep their buffers */
			if (slots[i].phase != PH_DONE) {
				i++;
				continue;
			}
			struct sess tmp = slots[i];
			slots[i] = slots[nact - 1];
			slots[--nact] = tmp;
		}
	}

	if (pcap_dump_flush(g.dumper) != 0 || ferror(out))
		die("cannot write '%s': %s", g.o.out, strerror(errno));
	pcap_dump_close(g.dumper); /* closes out */
	pcap_close(dead);
	if (g.o.truth) {
		truth_close(g.streams, g.o.truth, ".streams.tsv");
		truth_close(g.http, g.o.truth, ".http.tsv");
	}

	if (!g.o.quiet) {
		const struct stats *st = &g.st;
		fprintf(stderr,
			PROG ": %" PRIu64 " packets, %" PRIu64 " bytes (frames), %" PRIu64
			     " sessions (midstream %" PRIu64 ", ipv6 %" PRIu64 ", rst %" PRIu64
			     ", pipelined %" PRIu64 "), %" PRIu64 " requests, %" PRIu64
			     " wrapping directions; %" PRIu64 " segments: %" PRIu64
			     " duplicated, %" PRIu64 " overlap retransmissions, %" PRIu64
			     " reordered, %" PRIu64 " transmissions dropped, %" PRIu64
			     " gaps of %" PRIu64 " bytes; seed %" PRIu64 "\n",
			st->packets, st->bytes, st->sessions, st->midstream, st->v6, st->rst,
			st->pipelined, st->requests, st->wraps, st->segments, st->dups,
			st->overlaps, st->reordered, st->dropped, st->gaps, st->missing, g.o.seed);
	}
	for (uint64_t i = 0; i < nslots; i++) {
		free(slots[i].reqs);
		free(slots[i].plan);
		free(slots[i].pieces);
		free(slots[i].text);
		free(slots[i].regions);
		free(slots[i].items);
	}
	free(slots);
	free(order);
	free(g.tx);
	free(g.pts);
	free(g.first_cap);
	free(g.first_any);
	free(g.holes);
	free(g.cap);
	return 0;
}
