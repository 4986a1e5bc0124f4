/*
 * ringcap-gencap: write a deterministic classic pcap of synthetic, well-formed mixed traffic
 * (TCP conversations, UDP request/response, IPv4/IPv6, some 802.1Q) plus, on request, the exact
 * per-flow truth that a flow tracker must report for it.
 *
 * Everything is a function of the command line: the same options give the same bytes. The PRNG
 * is xoshiro256** seeded through splitmix64; rand() is never used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolkit.h"

#define PROG "ringcap-gencap"

#define die_usage(...)		     tk_die_usage(PROG, __VA_ARGS__)
#define parse_u64(name, s, min, max) tk_parse_u64(PROG, name, s, min, max)
#define die(...)		     tk_die(PROG, __VA_ARGS__)

#define ETH_HLEN       14
#define VLAN_HLEN      4
#define IP4_HLEN       20
#define IP6_HLEN       40
#define TCP_HLEN       20
#define TCP_SYN_OPTLEN 4 /* MSS option on SYN and SYN-ACK */
#define UDP_HLEN       8
#define ETH_MIN_FRAME  60 /* shortest Ethernet frame without FCS; shorter ones are zero-padded */
#define MAX_FRAME      65535
#define SNAPLEN	       65535

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

#define PAT_PERIOD 61 /* prime, so the fill pattern never lines up with header sizes */

/* True with probability pct/100. */
static inline int rng_pct(struct tk_rng *r, unsigned pct)
{
	return tk_rng_below(r, 100) < pct;
}

/* ---- options ------------------------------------------------------------------------------- */

struct opts {
	const char *out;
	const char *truth;
	uint64_t packets;
	uint64_t flows;
	uint64_t seed;
	unsigned udp_share, vlan_share, ipv6_share;
	unsigned size_min, size_max;
	uint64_t pps;
	uint64_t start;
	int nsec;
	int quiet;
};

static const char help[] =
	"Usage: " PROG " -o FILE [options]\n"
	"\n"
	"Write a classic pcap (Ethernet link type) of synthetic, deterministic mixed traffic:\n"
	"many interleaved conversations whose every header is well-formed, so that a flow\n"
	"tracker's output can be compared exactly with the truth this tool writes.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE     pcap file to write (\"-\" for standard output); required\n"
	"  -n, --packets N       packets to write in total (default 100000); the last\n"
	"                        conversations are cut wherever N is reached\n"
	"      --flows N         conversations active at once (default 1000); each round every\n"
	"                        active flow sends its next packet, in a fresh random order, and\n"
	"                        a finished flow is replaced by a new one\n"
	"      --seed S          PRNG seed (default 1); same options + seed = same bytes\n"
	"      --udp-share PCT   percent of flows that are UDP instead of TCP (default 30)\n"
	"      --vlan-share PCT  percent of flows carried in one 802.1Q tag (default 10)\n"
	"      --ipv6-share PCT  percent of flows over IPv6 instead of IPv4 (default 20)\n"
	"      --size-min B      smallest frame carrying payload, bytes without FCS (default 64)\n"
	"      --size-max B      largest frame carrying payload (default 1514, at most 65535);\n"
	"                        data frames are uniform in [min, max], with at least 1 byte of\n"
	"                        payload; TCP payload never exceeds the MSS announced in the SYN\n"
	"      --pps RATE        mean packet rate that spaces the timestamps (default 100000)\n"
	"      --start EPOCH     time of the first packet, Unix seconds (default 1700000000)\n"
	"      --nsec            write a nanosecond pcap (magic a1b23c4d); default microseconds\n"
	"      --truth FILE      write the per-flow truth as TSV (see below)\n"
	"  -q, --quiet           no summary on standard error\n"
	"  -h, --help            this text\n"
	"\n"
	"Traffic:\n"
	"  TCP flows: SYN, SYN-ACK, ACK (MSS option on both SYNs), then 1-6 rounds of a client\n"
	"  request (1-2 segments) and a server response (1-8 segments), a pure ACK after some\n"
	"  responses, then FIN both ways (client or server first) and a last ACK. Sequence and\n"
	"  acknowledgement numbers are consistent; no loss, no retransmission, no reordering.\n"
	"  UDP flows: 1-4 exchanges of one request and 1-2 response datagrams.\n"
	"  IPv4 addresses come from 198.18.0.0/15 (clients 198.18/16, servers 198.19/16), IPv6\n"
	"  from 2001:db8::/32; every flow has its own 5-tuple, so a port is never reused.\n"
	"  IPv4 header, TCP and UDP checksums are correct. Frames shorter than 60 bytes are\n"
	"  zero-padded to 60 (as on a wire), so wire bytes and IP bytes differ for small frames.\n"
	"  Each payload starts with a tag \"<RCG f=FLOW p=PKT d=o|r>\" (flow number, packet\n"
	"  number within the flow, direction), cut short if the payload is shorter, and goes on\n"
	"  with a pattern that depends on the flow and the direction's stream offset.\n"
	"  Timestamps strictly increase.\n"
	"\n"
	"Truth TSV (--truth): a header line, then one line per flow that sent at least one\n"
	"packet, in the order the flows started. Columns:\n"
	"  proto orig_h orig_p resp_h resp_p orig_pkts orig_bytes resp_pkts resp_bytes\n"
	"  orig_ip_bytes resp_ip_bytes orig_wire_bytes resp_wire_bytes vlan ts last_ts flow\n"
	"  proto is tcp or udp; orig is the client (sender of the first packet); *_bytes are\n"
	"  transport payload bytes, *_ip_bytes summed IP lengths (IPv6: 40 + payload length),\n"
	"  *_wire_bytes summed frame lengths; vlan is the 802.1Q VID or -; ts and last_ts are\n"
	"  the first and last packet times in seconds; flow is the flow number used in tags.\n"
	"\n"
	"At the end a summary (packets, bytes, flows by protocol) goes to standard error.\n"
	"Exit status: 0 on success, 1 when the output cannot be written, 2 on a bad command "
	"line.\n";

static void usage(FILE *f)
{
	fputs(help, f);
}

enum {
	OPT_FLOWS = 256,
	OPT_SEED,
	OPT_UDP,
	OPT_VLAN,
	OPT_IPV6,
	OPT_SMIN,
	OPT_SMAX,
	OPT_PPS,
	OPT_START,
	OPT_NSEC,
	OPT_TRUTH,
};

static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"packets", required_argument, NULL, 'n'},
		{"flows", required_argument, NULL, OPT_FLOWS},
		{"seed", required_argument, NULL, OPT_SEED},
		{"udp-share", required_argument, NULL, OPT_UDP},
		{"vlan-share", required_argument, NULL, OPT_VLAN},
		{"ipv6-share", required_argument, NULL, OPT_IPV6},
		{"size-min", required_argument, NULL, OPT_SMIN},
		{"size-max", required_argument, NULL, OPT_SMAX},
		{"pps", required_argument, NULL, OPT_PPS},
		{"start", required_argument, NULL, OPT_START},
		{"nsec", no_argument, NULL, OPT_NSEC},
		{"truth", required_argument, NULL, OPT_TRUTH},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){
		.packets = 100000,
		.flows = 1000,
		.seed = 1,
		.udp_share = 30,
		.vlan_share = 10,
		.ipv6_share = 20,
		.size_min = 64,
		.size_max = 1514,
		.pps = 100000,
		.start = 1700000000,
	};
	while ((c = getopt_long(argc, argv, "o:n:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'n':
			o->packets = parse_u64("--packets", optarg, 0, UINT64_MAX / 2);
			break;
		case OPT_FLOWS:
			o->flows = parse_u64("--flows", optarg, 1, 10000000);
			break;
		case OPT_SEED:
			o->seed = parse_u64("--seed", optarg, 0, UINT64_MAX);
			break;
		case OPT_UDP:
			o->udp_share = parse_u64("--udp-share", optarg, 0, 100);
			break;
		case OPT_VLAN:
			o->vlan_share = parse_u64("--vlan-share", optarg, 0, 100);
			break;
		case OPT_IPV6:
			o->ipv6_share = parse_u64("--ipv6-share", optarg, 0, 100);
			break;
		case OPT_SMIN:
			o->size_min = parse_u64("--size-min", optarg, 1, MAX_FRAME);
			break;
		case OPT_SMAX:
			o->size_max = parse_u64("--size-max", optarg, 1, MAX_FRAME);
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
			usage(stdout);
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
	if (o->size_min > o->size_max)
		die_usage("--size-min %u is larger than --size-max %u", o->size_min, o->size_max);
}

/* ---- flows --------------------------------------------------------------------------------- */

enum phase {
	P_SYN,
	P_SYNACK,
	P_ACK,
	P_DATA,
	P_FIN1,
	P_FIN2,
	P_LASTACK,
	P_UDP,
	P_DONE,
};

/* Per-flow truth: what a correct flow tracker reports. */
struct truth {
	uint64_t pkts[2], bytes[2], ip_bytes[2], wire_bytes[2];
	uint64_t first_ns, last_ns;
	uint32_t id;
	uint8_t proto; /* 6 or 17 */
	uint8_t v6;
	uint16_t vid; /* 0: untagged */
	uint8_t caddr[16], saddr[16];
	uint16_t cport, sport;
};

struct flow {
	struct truth *t; /* into gen.truths: re-pointed after every realloc of that array */
	uint32_t tidx;
	uint32_t seq[2]; /* next sequence number each side sends (0 = client, 1 = server) */
	uint32_t isn[2];
	uint64_t off[2]; /* payload stream offset per direction, for the fill pattern */
	uint16_t ipid[2];
	uint16_t mss;
	uint8_t phase;
	uint8_t closer;	    /* side that sends the first FIN */
	uint8_t rounds;	    /* request/response rounds (TCP) or exchanges (UDP) left */
	uint8_t burst_dir;  /* side sending the current burst */
	uint8_t burst_left; /* segments left in the current burst */
	uint8_t resp_segs;  /* server segments in this round */
	uint8_t ack_after;  /* client sends a pure ACK after the response */
	uint32_t pkt_no;    /* packets this flow has sent */
};

struct gen {
	struct opts o;
	struct tk_rng rng;
	pcap_dumper_t *dumper;
	uint64_t now_ns, gap_lo, gap_hi;
	uint8_t pkt[MAX_FRAME + 64];
	uint8_t pat[MAX_FRAME + PAT_PERIOD];
	struct truth *truths;
	size_t ntruths, captruths;
	uint32_t host_a, host_b, port_off;
	uint64_t packets, bytes;
	struct flow *active; /* the active set */
	uint64_t nactive;
};

static const uint16_t tcp_ports[] = {80, 443, 8080, 22, 25, 3128, 5432, 6379};
static const uint16_t udp_ports[] = {53, 123, 161, 514, 1812, 5353, 4789, 9999};

/* A fresh flow: its 5-tuple is unique because the client (address, port) pair is. */
static void flow_new(struct gen *g, struct flow *f)
{
	struct tk_rng *r = &g->rng;
	struct truth *t;
	uint32_t id = g->ntruths, hidx, pidx;

	if (g->ntruths == g->captruths) {
		struct truth *old = g->truths;

		g->captruths = g->captruths ? g->captruths * 2 : 4096;
		g->truths = realloc(g->truths, g->captruths * sizeof(*g->truths));
		if (!g->truths)
			die("out of memory");
		if (g->truths != old)
			for (uint64_t i = 0; i < g->nactive; i++)
				g->active[i].t = &g->truths[g->active[i].tidx];
	}
	t = &g->truths[g->ntruths++];
	memset(t, 0, sizeof(*t));
	memset(f, 0, sizeof(*f));
	f->t = t;
	f->tidx = id;
	t->id = id;
	t->proto = rng_pct(r, g->o.udp_share) ? 17 : 6;
	t->v6 = rng_pct(r, g->o.ipv6_share);
	t->vid = rng_pct(r, g->o.vlan_share) ? tk_rng_range(r, 1, 4094) : 0;

	/* (host index, port) walks a seeded bijection of the flow number: 65534 hosts x 64000
	 * ports before anything could repeat. */
	hidx = (uint32_t)(((uint64_t)g->host_a * (id % 65534) + g->host_b) % 65534) + 1;
	pidx = (id / 65534 + g->port_off) % 64000;
	t->cport = 1024 + pidx;
	if (t->proto == 6)
		t->sport = tcp_ports[tk_rng_below(r, sizeof(tcp_ports) / sizeof(tcp_ports[0]))];
	else
		t->sport = udp_ports[tk_rng_below(r, sizeof(udp_ports) / sizeof(udp_ports[0]))];
	uint32_t srv = tk_rng_range(r, 1, 254);
	if (t->v6) {
		static const uint8_t cpfx[8] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0c, 0, 0};
		static const uint8_t spfx[8] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05, 0, 0};
		memcpy(t->caddr, cpfx, 8);
		memcpy(t->saddr, spfx, 8);
		t->caddr[14] = hidx >> 8;
		t->caddr[15] = hidx;
		t->saddr[15] = srv;
	} else {
		t->caddr[0] = 198;
		t->caddr[1] = 18;
		t->caddr[2] = hidx >> 8;
		t->caddr[3] = hidx;
		t->saddr[0] = 198;
		t->saddr[1] = 19;
		t->saddr[2] = srv & 7;
		t->saddr[3] = srv;
	}

	f->ipid[0] = tk_rng_next(r);
	f->ipid[1] = tk_rng_next(r);
	f->isn[0] = f->seq[0] = tk_rng_next(r);
	f->isn[1] = f->seq[1] = tk_rng_next(r);
	if (t->proto == 6) {
		f->phase = P_SYN;
		f->rounds = tk_rng_range(r, 1, 6);
		f->closer = rng_pct(r, 70) ? 0 : 1;
		f->mss = t->v6 ? 1440 : 1460;
	} else {
		f->phase = P_UDP;
		f->rounds = tk_rng_range(r, 1, 4);
	}
}

/* ---- packet construction ------------------------------------------------------------------- */

static void fill_payload(struct gen *g, const struct flow *f, int dir, uint8_t *p, uint32_t len)
{
	char tag[64];
	int n = snprintf(tag, sizeof(tag), "<RCG f=%" PRIu32 " p=%" PRIu32 " d=%c>", f->t->id,
			 f->pkt_no, dir ? 'r' : 'o');
	uint32_t k = (uint32_t)n < len ? (uint32_t)n : len;
	uint64_t start = (f->off[dir] + k + (uint64_t)f->t->id * 7 + dir * 13) % PAT_PERIOD;

	memcpy(p, tag, k);
	memcpy(p + k, g->pat + start, len - k);
}

/*
 * Emit the next packet of flow f: `dir` 0 = client to server; `flags` TCP flags (ignored for
 * UDP); `paylen` transport payload bytes.
 */
static void emit(struct gen *g, struct flow *f, int dir, uint8_t flags, uint32_t paylen)
{
	struct truth *t = f->t;
	uint8_t *p = g->pkt, *l3, *l4;
	const uint8_t *src = dir ? t->saddr : t->caddr, *dst = dir ? t->caddr : t->saddr;
	uint16_t sport = dir ? t->sport : t->cport, dport = dir ? t->cport : t->sport;
	uint32_t l4hlen, iplen, frame, caplen;
	uint64_t sum;
	int is_tcp = t->proto == 6;
	int syn = is_tcp && (flags & TH_SYN);

	/* Ethernet: client side and router, locally administered MACs. */
	static const uint8_t mac_c[6] = {0x02, 0x52, 0x43, 0x00, 0x00, 0x01};
	static const uint8_t mac_r[6] = {0x02, 0x52, 0x43, 0x00, 0x00, 0xfe};
	memcpy(p, dir ? mac_c : mac_r, 6);
	memcpy(p + 6, dir ? mac_r : mac_c, 6);
	p += 12;
	if (t->vid) {
		tk_put16(p, 0x8100);
		tk_put16(p + 2, t->vid);
		p += 4;
	}
	tk_put16(p, t->v6 ? 0x86dd : 0x0800);
	p += 2;
	l3 = p;

	l4hlen = is_tcp ? TCP_HLEN + (syn ? TCP_SYN_OPTLEN : 0) : UDP_HLEN;
	if (t->v6) {
		iplen = IP6_HLEN + l4hlen + paylen;
		tk_put32(l3, 0x60000000u | (t->id & 0xfffff)); /* flow label from the flow number */
		tk_put16(l3 + 4, l4hlen + paylen);
		l3[6] = t->proto;
		l3[7] = dir ? 57 : 64;
		memcpy(l3 + 8, src, 16);
		memcpy(l3 + 24, dst, 16);
		l4 = l3 + IP6_HLEN;
	} else {
		iplen = IP4_HLEN + l4hlen + paylen;
		l3[0] = 0x45;
		l3[1] = 0;
		tk_put16(l3 + 2, iplen);
		tk_put16(l3 + 4, f->ipid[dir]++);
		tk_put16(l3 + 6, is_tcp ? 0x4000 : 0); /* DF on TCP */
		l3[8] = dir ? 57 : 64;
		l3[9] = t->proto;
		tk_put16(l3 + 10, 0);
		memcpy(l3 + 12, src, 4);
		memcpy(l3 + 16, dst, 4);
		tk_put16(l3 + 10, (uint16_t)~tk_csum_fold(tk_csum_add(0, l3, IP4_HLEN)));
		l4 = l3 + IP4_HLEN;
	}

	tk_put16(l4, sport);
	tk_put16(l4 + 2, dport);
	if (is_tcp) {
		tk_put32(l4 + 4, f->seq[dir]);
		tk_put32(l4 + 8, (flags & TH_ACK) ? f->seq[!dir] : 0);
		l4[12] = (l4hlen / 4) << 4;
		l4[13] = flags;
		tk_put16(l4 + 14, dir ? 65160 : 64240);
		tk_put16(l4 + 16, 0);
		tk_put16(l4 + 18, 0);
		if (syn) {
			l4[20] = 2; /* MSS */
			l4[21] = 4;
			tk_put16(l4 + 22, f->mss);
		}
	} else {
		tk_put16(l4 + 4, UDP_HLEN + paylen);
		tk_put16(l4 + 6, 0);
	}
	fill_payload(g, f, dir, l4 + l4hlen, paylen);

	/* Transport checksum over the pseudo header. */
	if (t->v6) {
		sum = tk_csum_add(0, l3 + 8, 32);
		sum += l4hlen + paylen;
	} else {
		sum = tk_csum_add(0, l3 + 12, 8);
		sum += l4hlen + paylen;
	}
	sum += t->proto;
	sum = tk_csum_add(sum, l4, l4hlen + paylen);
	uint16_t ck = (uint16_t)~tk_csum_fold(sum);
	if (!is_tcp && ck == 0)
		ck = 0xffff; /* UDP: 0 means "no checksum" */
	tk_put16(l4 + (is_tcp ? 16 : 6), ck);

	caplen = (uint32_t)(l3 - g->pkt) + iplen;
	frame = caplen;
	if (frame < ETH_MIN_FRAME) {
		memset(g->pkt + frame, 0, ETH_MIN_FRAME - frame);
		frame = caplen = ETH_MIN_FRAME;
	}

	/* Sequence space: SYN and FIN take one number each. */
	if (is_tcp)
		f->seq[dir] += paylen + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
	f->off[dir] += paylen;
	f->pkt_no++;

	struct pcap_pkthdr h;
	uint64_t sec = g->now_ns / 1000000000u, frac = g->now_ns % 1000000000u;
	h.ts.tv_sec = sec;
	h.ts.tv_usec = g->o.nsec ? frac : frac / 1000;
	h.caplen = caplen;
	h.len = frame;
	pcap_dump((u_char *)g->dumper, &h, g->pkt);

	if (!t->pkts[0] && !t->pkts[1])
		t->first_ns = g->now_ns;
	t->last_ns = g->now_ns;
	t->pkts[dir]++;
	t->bytes[dir] += paylen;
	t->ip_bytes[dir] += iplen;
	t->wire_bytes[dir] += frame;
	g->packets++;
	g->bytes += frame;
	g->now_ns += tk_rng_range(&g->rng, g->gap_lo, g->gap_hi);
}

/* Payload bytes for a data frame of the flow: frame size uniform in [size-min, size-max]. */
static uint32_t data_len(struct gen *g, const struct flow *f)
{
	const struct truth *t = f->t;
	uint32_t hdr = ETH_HLEN + (t->vid ? VLAN_HLEN : 0) + (t->v6 ? IP6_HLEN : IP4_HLEN) +
		       (t->proto == 6 ? TCP_HLEN : UDP_HLEN);
	uint32_t frame = tk_rng_range(&g->rng, g->o.size_min, g->o.size_max);
	uint32_t len = frame > hdr ? frame - hdr : 1;
	uint32_t max = t->v6 ? 65535 - (t->proto == 6 ? TCP_HLEN : UDP_HLEN)
			     : 65535 - IP4_HLEN - (t->proto == 6 ? TCP_HLEN : UDP_HLEN);

	if (t->proto == 6 && len > f->mss)
		len = f->mss;
	if (len > max)
		len = max;
	return len;
}

/* Start round r of a TCP flow: the client's request burst. */
static void tcp_round_start(struct gen *g, struct flow *f)
{
	f->burst_dir = 0;
	f->burst_left = tk_rng_range(&g->rng, 1, 2);
	f->resp_segs = tk_rng_range(&g->rng, 1, 8);
	f->ack_after = rng_pct(&g->rng, 50);
}

/* Send the flow's next packet; returns 0 when the flow has finished. */
static int flow_step(struct gen *g, struct flow *f)
{
	switch (f->phase) {
	case P_SYN:
		emit(g, f, 0, TH_SYN, 0);
		f->phase = P_SYNACK;
		break;
	case P_SYNACK:
		emit(g, f, 1, TH_SYN | TH_ACK, 0);
		f->phase = P_ACK;
		break;
	case P_ACK:
		emit(g, f, 0, TH_ACK, 0);
		f->phase = P_DATA;
		tcp_round_start(g, f);
		break;
	case P_DATA:
		if (f->burst_left) {
			int last = f->burst_left == 1;
			emit(g, f, f->burst_dir, TH_ACK | (last ? TH_PSH : 0), data_len(g, f));
			f->burst_left--;
		} else {
			/* only reached for the pure ACK after a response */
			emit(g, f, 0, TH_ACK, 0);
			f->ack_after = 0;
		}
		if (f->burst_left == 0) {
			if (f->burst_dir == 0) {
				f->burst_dir = 1;
				f->burst_left = f->resp_segs;
			} else if (!f->ack_after) {
				if (--f->rounds)
					tcp_round_start(g, f);
				else
					f->phase = P_FIN1;
			}
		}
		break;
	case P_FIN1:
		emit(g, f, f->closer, TH_FIN | TH_ACK, 0);
		f->phase = P_FIN2;
		break;
	case P_FIN2:
		emit(g, f, !f->closer, TH_FIN | TH_ACK, 0);
		f->phase = P_LASTACK;
		break;
	case P_LASTACK:
		emit(g, f, f->closer, TH_ACK, 0);
		f->phase = P_DONE;
		return 0;
	case P_UDP:
		if (f->burst_left == 0 && f->burst_dir == 0) {
			emit(g, f, 0, 0, data_len(g, f));
			f->burst_dir = 1;
			f->burst_left = tk_rng_range(&g->rng, 1, 2);
		} else {
			emit(g, f, 1, 0, data_len(g, f));
			if (--f->burst_left == 0) {
				f->burst_dir = 0;
				if (--f->rounds == 0) {
					f->phase = P_DONE;
					return 0;
				}
			}
		}
		break;
	default:
		return 0;
	}
	return 1;
}

/* ---- output -------------------------------------------------------------------------------- */

static void fmt_addr(const struct truth *t, const uint8_t *a, char *buf, size_t len)
{
	inet_ntop(t->v6 ? AF_INET6 : AF_INET, a, buf, len);
}

static void fmt_ts(uint64_t ns, int nsec, char *buf, size_t len)
{
	if (nsec)
		snprintf(buf, len, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
	else
		snprintf(buf, len, "%" PRIu64 ".%06" PRIu64, ns / 1000000000u,
			 ns % 1000000000u / 1000u);
}

static void write_truth(const struct gen *g, const char *path)
{
	FILE *f = fopen(path, "w");
	char ch[INET6_ADDRSTRLEN], sh[INET6_ADDRSTRLEN], ts[32], last[32], vid[8];

	if (!f)
		die("cannot write truth file '%s': %s", path, strerror(errno));
	fputs("proto\torig_h\torig_p\tresp_h\tresp_p\torig_pkts\torig_bytes\tresp_pkts\tresp_bytes"
	      "\torig_ip_bytes\tresp_ip_bytes\torig_wire_bytes\tresp_wire_bytes\tvlan\tts\tlast_ts"
	      "\tflow\n",
	      f);
	for (size_t i = 0; i < g->ntruths; i++) {
		const struct truth *t = &g->truths[i];

		if (!t->pkts[0] && !t->pkts[1])
			continue;
		fmt_addr(t, t->caddr, ch, sizeof(ch));
		fmt_addr(t, t->saddr, sh, sizeof(sh));
		fmt_ts(t->first_ns, g->o.nsec, ts, sizeof(ts));
		fmt_ts(t->last_ns, g->o.nsec, last, sizeof(last));
		if (t->vid)
			snprintf(vid, sizeof(vid), "%u", t->vid);
		else
			strcpy(vid, "-");
		fprintf(f,
			"%s\t%s\t%u\t%s\t%u\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
			"\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%s\t%s\t%s\t%" PRIu32
			"\n",
			t->proto == 6 ? "tcp" : "udp", ch, t->cport, sh, t->sport, t->pkts[0],
			t->bytes[0], t->pkts[1], t->bytes[1], t->ip_bytes[0], t->ip_bytes[1],
			t->wire_bytes[0], t->wire_bytes[1], vid, ts, last, t->id);
	}
	if (fclose(f) != 0)
		die("cannot write truth file '%s': %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	static struct gen g;
	struct flow *active;
	uint32_t *order;
	pcap_t *dead;
	FILE *out;
	uint64_t nact;

	parse_opts(&g.o, argc, argv);
	tk_rng_seed(&g.rng, g.o.seed);
	for (size_t i = 0; i < sizeof(g.pat); i++)
		g.pat[i] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
			[i % PAT_PERIOD];
	tk_host_map(&g.rng, &g.host_a, &g.host_b);
	g.port_off = tk_rng_below(&g.rng, 64000);

	tk_ts_steps(g.o.pps, g.o.nsec, &g.gap_lo, &g.gap_hi);
	g.now_ns = g.o.start * 1000000000ULL;

	dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAPLEN,
						    g.o.nsec ? PCAP_TSTAMP_PRECISION_NANO
							     : PCAP_TSTAMP_PRECISION_MICRO);
	if (!dead)
		die("pcap_open_dead failed");
	if (strcmp(g.o.out, "-") == 0)
		out = stdout;
	else
		out = fopen(g.o.out, "wb");
	if (!out)
		die("cannot write '%s': %s", g.o.out, strerror(errno));
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	g.dumper = pcap_dump_fopen(dead, out);
	if (!g.dumper)
		die("cannot write '%s': %s", g.o.out, pcap_geterr(dead));

	nact = g.o.flows;
	active = calloc(nact, sizeof(*active));
	order = calloc(nact, sizeof(*order));
	if (!active || !order)
		die("out of memory");
	g.active = active;
	for (uint64_t i = 0; i < nact; i++) {
		flow_new(&g, &active[i]);
		g.nactive = i + 1;
		order[i] = i;
	}

	/* Rounds: every active flow sends one packet, in a fresh random order; a flow never waits
	 * more than two rounds, so no flow goes idle for long. */
	while (g.packets < g.o.packets) {
		for (uint64_t i = nact - 1; i > 0; i--) {
			uint64_t j = tk_rng_below(&g.rng, i + 1);
			uint32_t tmp = order[i];
			order[i] = order[j];
			order[j] = tmp;
		}
		for (uint64_t i = 0; i < nact && g.packets < g.o.packets; i++) {
			struct flow *f = &active[order[i]];

			if (!flow_step(&g, f) && g.packets < g.o.packets)
				flow_new(&g, f);
		}
	}

	if (pcap_dump_flush(g.dumper) != 0 || ferror(out))
		die("cannot write '%s': %s", g.o.out, strerror(errno));
	pcap_dump_close(g.dumper); /* closes out */
	pcap_close(dead);

	if (g.o.truth)
		write_truth(&g, g.o.truth);

	if (!g.o.quiet) {
		uint64_t started = 0, tcp = 0, udp = 0, tcp6 = 0, udp6 = 0, vlan = 0;

		for (size_t i = 0; i < g.ntruths; i++) {
			const struct truth *t = &g.truths[i];

			if (!t->pkts[0] && !t->pkts[1])
				continue;
			started++;
			if (t->proto == 6) {
				tcp++;
				tcp6 += t->v6;
			} else {
				udp++;
				udp6 += t->v6;
			}
			vlan += t->vid != 0;
		}
		fprintf(stderr,
			PROG ": %" PRIu64 " packets, %" PRIu64 " bytes (frames), %" PRIu64
			     " flows: tcp %" PRIu64 " (ipv6 %" PRIu64 "), udp %" PRIu64
			     " (ipv6 %" PRIu64 "), vlan-tagged %" PRIu64 "; seed %" PRIu64 "\n",
			g.packets, g.bytes, started, tcp, tcp6, udp, udp6, vlan, g.o.seed);
	}
	free(active);
	free(order);
	free(g.truths);
	return 0;
}
