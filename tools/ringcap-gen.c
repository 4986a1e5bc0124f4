/*
 * ringcap-gen: a bounded AF_PACKET packet generator for tests and benchmarks. It sends
 * synthetic flows (or the frames of a pcap) out of one interface, bypassing the qdisc, from a
 * TPACKET_V2 TX ring or in sendmmsg batches, and refuses to run in the initial network namespace.
 *
 * Every synthetic frame carries a marker right after its UDP or TCP header (network byte order):
 *
 *	"RCG1"   u32 flow   u64 sequence (global, from 0)   u32 flow sequence (from 0)
 *
 * Flows are sent round robin: packet g belongs to flow g % N and is that flow's packet g / N, so
 * a receiver can tell exactly which packets arrived and which are missing. The same options give
 * the same bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <math.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "toolkit.h"

#define PROG "ringcap-gen"

#define die_usage(...) tk_die_usage(PROG, __VA_ARGS__)
#define die(...)       tk_die(PROG, __VA_ARGS__)

#define ETH_HLEN_    14
#define VLAN_HLEN_   4
#define IP4_HLEN     20
#define IP6_HLEN     40
#define UDP_HLEN     8
#define TCP_HLEN     20
#define MARK_LEN     20 /* "RCG1" flow(4) seq(8) flow_seq(4) */
#define MIN_SIZE     60
#define MAX_SIZE     1514
#define MAX_SIZES    16
#define MAX_PORTS    16
#define MAX_FLOWS    1000000
#define MAX_BATCH    1024
#define MAX_COUNT    1000000000000ULL /* 10^12 packets */
#define MAX_DURATION 86400.0
#define SPORT_SPAN   60000 /* source ports 1024..61023 */
#define PAT_MAX	     2048  /* payload bytes the fill table covers (>= 1514) */

/* Documentation and benchmarking ranges: the only addresses this tool writes (RFC 2544, 3849). */
#define V4_RANGE      0xc6120000u /* 198.18.0.0 */
#define V4_RANGE_BITS 15
static const uint8_t v6_range[4] = {0x20, 0x01, 0x0d, 0xb8}; /* 2001:db8::/32 */

enum proto_mode { PROTO_UDP, PROTO_TCP, PROTO_MIX };
enum method { METHOD_RING, METHOD_MMSG };

struct net {
	uint8_t addr[16]; /* network address, host bits cleared */
	unsigned bits;
	bool set;
};

struct opts {
	const char *ifname;
	uint64_t count;	 /* 0: no packet bound */
	double duration; /* 0: no time bound */
	uint64_t rate;	 /* packets per second, 0: top speed */
	uint32_t nflows;
	enum proto_mode proto;
	uint16_t sizes[MAX_SIZES];
	unsigned nsizes;
	int vlan; /* -1: untagged */
	unsigned ipv6_share;
	uint64_t seed;
	struct net src4, dst4, src6, dst6;
	uint16_t dports[MAX_PORTS];
	unsigned ndports;
	const char *replay;
	uint64_t loops;
	bool loop_ports;   /* shift client ports by pass so that passes are distinct flows */
	const char *write; /* write the frames to this pcap instead of sending them */
	const char *report;
	bool quiet, reverse, allow_host, bypass;
	enum method method;
	unsigned batch;
	uint8_t dst_mac[6];
};

struct flow {
	uint8_t family, proto; /* 4 or 6; IPPROTO_UDP or IPPROTO_TCP */
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
	uint32_t tcp_seq, tcp_ack; /* initial sequence number; the other side's */
	uint32_t tcp_off;	   /* payload bytes written so far */
	uint64_t packets, bytes;   /* sent (handed to the kernel and not refused) */
};

/* A frame of a pcap to replay. */
struct rframe {
	uint32_t len;
	uint16_t cport_off; /* --loop-ports: where its client port is (0: nothing to shift) */
	uint16_t csum_off;  /* and its TCP/UDP checksum (0: none to fix: UDP over IPv4 without) */
	bool udp;	    /* the checksum is UDP's (a result of 0 is written 0xffff) */
	const uint8_t *data;
};

struct gen {
	struct opts o;
	int fd;
	int ifindex;
	unsigned mtu;
	uint8_t src_mac[6];
	unsigned max_len; /* longest frame we may hand to this interface */
	struct flow *flows;
	/* fill pattern of the payload after the marker, and its 16-bit word sums */
	uint8_t pat[PAT_MAX];
	uint64_t patsum[PAT_MAX / 2 + 1];
	/* replay */
	struct rframe *rf;
	uint64_t nrf;
	uint8_t *rdata;
	uint32_t port_step; /* --loop-ports: pass k adds k * port_step to every client port */
	/* progress */
	uint64_t next_seq; /* frames produced */
	uint64_t limit;	   /* frames to produce at most (UINT64_MAX: time-bounded only) */
	uint64_t sent, bytes, errors, enobufs;
	struct timespec t0, t1;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* ---- messages ------------------------------------------------------------------------------ */

static const char help[] =
	"Usage: " PROG " -i IFACE (-n COUNT | --duration SEC) [options]\n"
	"       " PROG " -i IFACE --replay FILE [--loop N [--loop-ports]] [options]\n"
	"       " PROG " --write OUT.pcap (-n COUNT | --replay FILE ...) [options]\n"
	"\n"
	"Send synthetic, deterministic traffic (or a pcap's frames) out of IFACE with AF_PACKET,\n"
	"bypassing the qdisc, for ringcap's live tests and benchmarks. It runs only inside a\n"
	"network namespace other than the initial one (e.g. under 'ip netns exec') and only\n"
	"writes addresses from 198.18.0.0/15 and 2001:db8::/32.\n"
	"\n"
	"Bounds (at least one is required; with both, whichever comes first stops):\n"
	"  -n, --count N          packets to send (suffixes k, M, G: 20k = 20000)\n"
	"      --duration SEC     seconds to send for (decimals allowed, at most 86400)\n"
	"\n"
	"Traffic:\n"
	"  -i, --interface IFACE  interface to send on (required); must be up\n"
	"      --rate PPS         packets per second, token bucket (k, M suffixes); 0 = top\n"
	"                         speed (default 0)\n"
	"      --flows N          distinct 5-tuples, sent round robin (default 64, at most 1M)\n"
	"      --proto P          udp, tcp or mix (default udp); mix makes even flows UDP and\n"
	"                         odd flows TCP\n"
	"      --dports LIST      destination ports, comma-separated (default 9,53,80,443,5001);\n"
	"                         flow f gets port f % n (udp, tcp) or (f / 2) % n (mix)\n"
	"      --size B           frame size in bytes without FCS and without a VLAN tag,\n"
	"                         60..1514 (default 128)\n"
	"      --sizes LIST       sizes to cycle through, packet g taking size g % n\n"
	"                         (e.g. 64,512,1500)\n"
	"      --vlan ID          add an 802.1Q tag with VLAN ID (0..4095); frames grow by 4\n"
	"      --ipv6-share PCT   percent of the flows that are IPv6 (default 0); which flows\n"
	"                         follows from --seed\n"
	"      --seed S           seed for the IPv6 choice, source ports and payload fill\n"
	"                         (default 1)\n"
	"      --src-net CIDR     source network; give once for IPv4 and/or once for IPv6\n"
	"                         (default 198.18.1.0/24 and 2001:db8:1::/64)\n"
	"      --dst-net CIDR     destination network (default 198.19.1.0/24 and\n"
	"                         2001:db8:2::/64); both must lie inside 198.18.0.0/15 or\n"
	"                         2001:db8::/32, anything else is refused\n"
	"      --reverse          swap source and destination (addresses and ports): run with\n"
	"                         the same options on the other end to send the same flows back\n"
	"      --dst-mac MAC      destination MAC (default 02:72:63:67:00:01, which is no\n"
	"                         interface's, so the receiving stack drops the frames silently:\n"
	"                         no replies, no background traffic)\n"
	"      --replay FILE      send the frames of a pcap instead (all of it is read into\n"
	"                         memory first; frames longer than the MTU allows are counted as\n"
	"                         errors and skipped); at top speed or at --rate\n"
	"      --loop N           replay the file N times (default 1)\n"
	"      --loop-ports       make every pass new flows: in pass k (from 0) the client\n"
	"                         port of each TCP and UDP frame grows by k times the span of\n"
	"                         the file's client ports (checksums fixed), so no pass looks\n"
	"                         like a retransmission of the one before; a flow's client is\n"
	"                         the sender of its first frame (the receiver, if that is a\n"
	"                         SYN-ACK); refused if a client port is under 1024 or the\n"
	"                         passes would run past 65535\n"
	"\n"
	"Sending:\n"
	"      --method M         mmsg (sendmmsg batches, the default: the faster on veth) or\n"
	"                         ring (TPACKET_V2 TX ring)\n"
	"      --batch N          frames per send()/sendmmsg() call (default 256, at most 1024)\n"
	"      --no-qdisc-bypass  go through the qdisc, so that packet sockets on IFACE (e.g. a\n"
	"                         capture on the sending side) see the frames as outgoing\n"
	"      --allow-host-namespace\n"
	"                         send even from the initial network namespace: frames would\n"
	"                         leave on a real interface; never used by the tests\n"
	"\n"
	"Output:\n"
	"      --write FILE       write the frames to a pcap FILE instead of sending them\n"
	"                         (instead of -i; needs -n or --replay; no namespace needed,\n"
	"                         as nothing is sent): to check what would go out\n"
	"      --report FILE      write a JSON report: sent, bytes, errors, enobufs, duration_s,\n"
	"                         pps, method and, per flow, its 5-tuple and packets and bytes\n"
	"                         sent, plus by_dport (\"udp/9\": packets) summed over flows\n"
	"  -q, --quiet            no summary on standard error\n"
	"  -h, --help             this text\n"
	"\n"
	"Frames: Ethernet (source MAC: the interface's), optional 802.1Q tag, IPv4 (DF, TTL 64,\n"
	"ID = low 16 bits of the flow sequence, correct header checksum) or IPv6, then UDP, or\n"
	"TCP with PSH|ACK and sequence numbers that advance by the payload; UDP and TCP checksums\n"
	"are correct. The payload starts with the marker\n"
	"    \"RCG1\" u32 flow, u64 sequence, u32 flow sequence     (20 bytes, big-endian)\n"
	"followed by a fill pattern; a frame too short for it carries the marker cut at its end,\n"
	"and a frame is never shorter than its headers (IPv6 TCP: 74 bytes). Flow f's source\n"
	"address is host f % H of the source network (H hosts), its source port\n"
	"1024 + (f / H + seed) % 60000; its destination host varies with f.\n"
	"\n"
	"At the end a summary goes to standard error: packets sent, bytes, duration, pps, errors\n"
	"and ENOBUFS retries (a frame the receiving side had no room for is sent again, so\n"
	"'sent' counts frames the kernel accepted, each once). SIGINT or SIGTERM stops early,\n"
	"still with the summary and the report.\n"
	"\n"
	"Exit status: 0 all frames sent, 1 an error (interface, privileges, namespace, or some\n"
	"frames refused), 2 a bad command line.\n";

/* ---- parsing ------------------------------------------------------------------------------- */

/* A decimal count with an optional k/M/G (powers of 1000) suffix. */
static bool parse_count(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	if (*end == 'k' || *end == 'K')
		mul = 1000, end++;
	else if (*end == 'M')
		mul = 1000000, end++;
	else if (*end == 'G')
		mul = 1000000000, end++;
	if (*end || v > max / mul)
		return false;
	*out = v * mul;
	return true;
}

static unsigned parse_list(const char *s, uint16_t *out, unsigned max, unsigned lo, unsigned hi,
			   const char *what)
{
	char buf[256], *save = NULL, *tok;
	unsigned n = 0;
	uint64_t v;

	if (strlen(s) >= sizeof(buf))
		die_usage("%s list too long", what);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			die_usage("at most %u %s", max, what);
		if (!parse_count(tok, hi, &v) || v < lo)
			die_usage("bad %s '%s': give %u..%u", what, tok, lo, hi);
		out[n++] = (uint16_t)v;
	}
	if (!n)
		die_usage("empty %s list", what);
	return n;
}

static bool in_test_ranges(int family, const uint8_t *a)
{
	if (family == 4) {
		uint32_t v;

		memcpy(&v, a, 4);
		return (ntohl(v) >> (32 - V4_RANGE_BITS)) == (V4_RANGE >> (32 - V4_RANGE_BITS));
	}
	return memcmp(a, v6_range, sizeof(v6_range)) == 0;
}

/* CIDR into *n4 or *n6 by family; refuses anything outside the test ranges. */
static void parse_net(const char *s, const char *opt, struct net *n4, struct net *n6)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	uint8_t a[16] = {0};
	unsigned long bits;
	struct net *n;
	int family;

	if (strlen(s) >= sizeof(buf))
		die_usage("bad %s '%s'", opt, s);
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (inet_pton(AF_INET, buf, a) == 1)
		family = 4;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		family = 6;
	else
		die_usage("bad %s '%s': give an address/prefix such as 198.18.1.0/24", opt, s);
	bits = family == 4 ? 32 : 128;
	if (slash) {
		char *end;

		errno = 0;
		bits = strtoul(slash, &end, 10);
		if (errno || end == slash || *end || bits > (family == 4 ? 32u : 128u))
			die_usage("bad prefix length in %s '%s'", opt, s);
	}
	if (!in_test_ranges(family, a))
		die_usage("%s '%s' is outside %s: this tool only writes addresses from "
			  "198.18.0.0/15 (RFC 2544) and 2001:db8::/32 (RFC 3849)",
			  opt, s, family == 4 ? "198.18.0.0/15" : "2001:db8::/32");
	if (family == 4 ? bits < V4_RANGE_BITS : bits < 32)
		die_usage("%s '%s' is wider than %s: this tool only writes addresses from "
			  "198.18.0.0/15 and 2001:db8::/32",
			  opt, s, family == 4 ? "198.18.0.0/15" : "2001:db8::/32");
	n = family == 4 ? n4 : n6;
	if (n->set)
		die_usage("%s given twice for IPv%d", opt, family);
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = bits > i * 8 ? bits - i * 8 : 0;

		if (keep < 8)
			a[i] &= (uint8_t)(0xff00u >> keep);
	}
	memcpy(n->addr, a, 16);
	n->bits = (unsigned)bits;
	n->set = true;
}

static void parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];
	char extra;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6)
		die_usage("bad --dst-mac '%s': give six hex bytes like 02:72:63:67:00:01", s);
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			die_usage("bad --dst-mac '%s'", s);
		mac[i] = (uint8_t)v[i];
	}
}

enum {
	OPT_DURATION = 256,
	OPT_RATE,
	OPT_FLOWS,
	OPT_PROTO,
	OPT_DPORTS,
	OPT_SIZE,
	OPT_SIZES,
	OPT_VLAN,
	OPT_IPV6_SHARE,
	OPT_SEED,
	OPT_SRC_NET,
	OPT_DST_NET,
	OPT_REVERSE,
	OPT_DST_MAC,
	OPT_REPLAY,
	OPT_LOOP,
	OPT_LOOP_PORTS,
	OPT_WRITE,
	OPT_METHOD,
	OPT_BATCH,
	OPT_NO_BYPASS,
	OPT_ALLOW_HOST,
	OPT_REPORT,
};

static const struct option longopts[] = {
	{"interface", required_argument, NULL, 'i'},
	{"count", required_argument, NULL, 'n'},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"rate", required_argument, NULL, OPT_RATE},
	{"flows", required_argument, NULL, OPT_FLOWS},
	{"proto", required_argument, NULL, OPT_PROTO},
	{"dports", required_argument, NULL, OPT_DPORTS},
	{"size", required_argument, NULL, OPT_SIZE},
	{"sizes", required_argument, NULL, OPT_SIZES},
	{"vlan", required_argument, NULL, OPT_VLAN},
	{"ipv6-share", required_argument, NULL, OPT_IPV6_SHARE},
	{"seed", required_argument, NULL, OPT_SEED},
	{"src-net", required_argument, NULL, OPT_SRC_NET},
	{"dst-net", required_argument, NULL, OPT_DST_NET},
	{"reverse", no_argument, NULL, OPT_REVERSE},
	{"dst-mac", required_argument, NULL, OPT_DST_MAC},
	{"replay", required_argument, NULL, OPT_REPLAY},
	{"loop", required_argument, NULL, OPT_LOOP},
	{"loop-ports", no_argument, NULL, OPT_LOOP_PORTS},
	{"write", required_argument, NULL, OPT_WRITE},
	{"method", required_argument, NULL, OPT_METHOD},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"no-qdisc-bypass", no_argument, NULL, OPT_NO_BYPASS},
	{"allow-host-namespace", no_argument, NULL, OPT_ALLOW_HOST},
	{"report", required_argument, NULL, OPT_REPORT},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void parse_opts(struct opts *o, int argc, char **argv)
{
	bool have_count = false, size_given = false, loop_given = false;
	uint64_t v;
	int c;

	*o = (struct opts){
		.nflows = 64,
		.proto = PROTO_UDP,
		.sizes = {128},
		.nsizes = 1,
		.vlan = -1,
		.seed = 1,
		.dports = {9, 53, 80, 443, 5001},
		.ndports = 5,
		.loops = 1,
		.bypass = true,
		.method = METHOD_MMSG,
		.batch = 256,
		.dst_mac = {0x02, 0x72, 0x63, 0x67, 0x00, 0x01},
	};
	while ((c = getopt_long(argc, argv, "i:n:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'n':
			if (!parse_count(optarg, MAX_COUNT, &o->count) || !o->count)
				die_usage("bad -n '%s': give 1 to 10^12 packets", optarg);
			have_count = true;
			break;
		case OPT_DURATION: {
			char *end;

			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->duration > 0) ||
			    o->duration > MAX_DURATION)
				die_usage("bad --duration '%s': give 0 < SEC <= 86400", optarg);
			break;
		}
		case OPT_RATE:
			if (!parse_count(optarg, 1000000000, &o->rate))
				die_usage(
					"bad --rate '%s': give packets per second (0 = top speed)",
					optarg);
			break;
		case OPT_FLOWS:
			if (!parse_count(optarg, MAX_FLOWS, &v) || !v)
				die_usage("bad --flows '%s': give 1 to %u", optarg, MAX_FLOWS);
			o->nflows = (uint32_t)v;
			break;
		case OPT_PROTO:
			if (!strcmp(optarg, "udp"))
				o->proto = PROTO_UDP;
			else if (!strcmp(optarg, "tcp"))
				o->proto = PROTO_TCP;
			else if (!strcmp(optarg, "mix"))
				o->proto = PROTO_MIX;
			else
				die_usage("bad --proto '%s': give udp, tcp or mix", optarg);
			break;
		case OPT_DPORTS:
			o->ndports = parse_list(optarg, o->dports, MAX_PORTS, 1, 65535, "ports");
			break;
		case OPT_SIZE:
		case OPT_SIZES:
			if (size_given)
				die_usage("give --size or --sizes once");
			size_given = true;
			o->nsizes = parse_list(optarg, o->sizes, c == OPT_SIZE ? 1 : MAX_SIZES,
					       MIN_SIZE, MAX_SIZE, "frame sizes");
			break;
		case OPT_VLAN:
			if (!parse_count(optarg, 4095, &v))
				die_usage("bad --vlan '%s': give a VLAN ID 0..4095", optarg);
			o->vlan = (int)v;
			break;
		case OPT_IPV6_SHARE:
			if (!parse_count(optarg, 100, &v))
				die_usage("bad --ipv6-share '%s': give 0..100", optarg);
			o->ipv6_share = (unsigned)v;
			break;
		case OPT_SEED:
			if (!parse_count(optarg, UINT64_MAX, &o->seed))
				die_usage("bad --seed '%s'", optarg);
			break;
		case OPT_SRC_NET:
			parse_net(optarg, "--src-net", &o->src4, &o->src6);
			break;
		case OPT_DST_NET:
			parse_net(optarg, "--dst-net", &o->dst4, &o->dst6);
			break;
		case OPT_REVERSE:
			o->reverse = true;
			break;
		case OPT_DST_MAC:
			parse_mac(optarg, o->dst_mac);
			break;
		case OPT_REPLAY:
			o->replay = optarg;
			break;
		case OPT_LOOP:
			if (!parse_count(optarg, 1000000000, &o->loops) || !o->loops)
				die_usage("bad --loop '%s': give 1 or more passes", optarg);
			loop_given = true;
			break;
		case OPT_LOOP_PORTS:
			o->loop_ports = true;
			break;
		case OPT_WRITE:
			o->write = optarg;
			break;
		case OPT_METHOD:
			if (!strcmp(optarg, "ring"))
				o->method = METHOD_RING;
			else if (!strcmp(optarg, "mmsg"))
				o->method = METHOD_MMSG;
			else
				die_usage("bad --method '%s': give ring or mmsg", optarg);
			break;
		case OPT_BATCH:
			if (!parse_count(optarg, MAX_BATCH, &v) || !v)
				die_usage("bad --batch '%s': give 1..%u", optarg, MAX_BATCH);
			o->batch = (unsigned)v;
			break;
		case OPT_NO_BYPASS:
			o->bypass = false;
			break;
		case OPT_ALLOW_HOST:
			o->allow_host = true;
			break;
		case OPT_REPORT:
			o->report = optarg;
			break;
		case 'q':
			o->quiet = true;
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
	if (o->write && o->ifname)
		die_usage("give -i IFACE (send) or --write FILE (no sending), not both");
	if (!o->ifname && !o->write)
		die_usage("-i IFACE is required");
	if (o->write && !o->replay && !have_count)
		die_usage(
			"--write needs -n COUNT (or --replay): time bounds only apply to sending");
	if (!o->replay && !have_count && o->duration == 0)
		die_usage("refusing to send without a bound: give -n COUNT and/or --duration SEC");
	if ((loop_given || o->loop_ports) && !o->replay)
		die_usage("%s goes with --replay", loop_given ? "--loop" : "--loop-ports");
	if (!o->src4.set)
		parse_net("198.18.1.0/24", "--src-net", &o->src4, &o->src6);
	if (!o->dst4.set)
		parse_net("198.19.1.0/24", "--dst-net", &o->dst4, &o->dst6);
	if (!o->src6.set)
		parse_net("2001:db8:1::/64", "--src-net", &o->src4, &o->src6);
	if (!o->dst6.set)
		parse_net("2001:db8:2::/64", "--dst-net", &o->dst4, &o->dst6);
}

/* ---- safety: never from the initial network namespace --------------------------------------- */

/* Is pid a kernel thread? Kernel threads always live in the initial network namespace. */
static bool is_kthread(int pid)
{
	char path[64], buf[512], *p;
	unsigned long flags = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return false;
	/* after ")": state ppid pgrp session tty_nr tpgid flags */
	for (i = 0; i < 6 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%lu", &flags) != 1)
		return false;
	return flags & 0x00200000; /* PF_KTHREAD */
}

/*
 * 1 when this process is in the initial network namespace, 0 when it is not, -1 when that cannot
 * be told. The reference is init's namespace; where /proc/1/ns/net cannot be read (some sandboxes
 * deny it even to root) kthreadd's (pid 2) serves, as kernel threads never leave init_net.
 */
static int in_initial_netns(char *why, size_t len)
{
	struct stat self, ref;

	if (stat("/proc/self/ns/net", &self) != 0) {
		snprintf(why, len, "cannot read /proc/self/ns/net: %s", strerror(errno));
		return -1;
	}
	if (stat("/proc/1/ns/net", &ref) == 0)
		return self.st_ino == ref.st_ino && self.st_dev == ref.st_dev;
	if (is_kthread(2) && stat("/proc/2/ns/net", &ref) == 0)
		return self.st_ino == ref.st_ino && self.st_dev == ref.st_dev;
	snprintf(why, len, "cannot read /proc/1/ns/net (%s) to compare with", strerror(errno));
	return -1;
}

static void check_namespace(const struct opts *o)
{
	char why[256] = "";
	int r = in_initial_netns(why, sizeof(why));

	if (r == 0 || o->allow_host)
		return;
	if (r > 0)
		die("refusing to send on '%s': this process is in the initial network namespace, "
		    "where frames would leave on a real interface. Run inside a private namespace "
		    "('ip netns exec NS " PROG " ...') on a veth whose both ends are in it; "
		    "--allow-host-namespace overrides this, and tests never use it.",
		    o->ifname);
	die("refusing to send on '%s': cannot tell whether this is the initial network namespace "
	    "(%s). Run inside a private namespace ('ip netns exec NS " PROG " ...'); "
	    "--allow-host-namespace overrides this.",
	    o->ifname, why);
}

/* ---- flows and frames ---------------------------------------------------------------------- */

/* Hosts a network offers: all but network and broadcast addresses up to /30, capped. */
static uint64_t net_hosts(const struct net *n, int family)
{
	unsigned host_bits = (family == 4 ? 32 : 128) - n->bits;

	if (host_bits >= 16)
		return 65534;
	if (host_bits <= 1)
		return 1ull << host_bits;
	return (1ull << host_bits) - 2;
}

/* Address number h (0-based) of network n. */
static void net_addr(const struct net *n, int family, uint64_t h, uint8_t *out)
{
	unsigned host_bits = (family == 4 ? 32 : 128) - n->bits;
	unsigned alen = family == 4 ? 4 : 16;
	uint64_t v = host_bits <= 1 ? h : h + 1;

	memcpy(out, n->addr, 16);
	/* big-endian add with carry */
	for (int i = (int)alen - 1; i >= 0 && v; i--) {
		v += out[i];
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void build_flows(struct gen *g)
{
	const struct opts *o = &g->o;
	uint32_t n = o->nflows, n6 = (uint32_t)(((uint64_t)n * o->ipv6_share + 50) / 100);
	uint64_t rs = o->seed, sport_off = tk_splitmix64(&rs) % SPORT_SPAN;
	uint32_t *perm;

	g->flows = calloc(n, sizeof(*g->flows));
	perm = malloc(n * sizeof(*perm));
	if (!g->flows || !perm)
		die("out of memory for %u flows", n);
	/* which flows are IPv6: the first n6 of a seeded permutation */
	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = (uint32_t)(tk_splitmix64(&rs) % i), t = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	for (uint32_t i = 0; i < n6; i++)
		g->flows[perm[i]].family = 6;
	free(perm);

	for (uint32_t f = 0; f < n; f++) {
		struct flow *fl = &g->flows[f];
		int fam = fl->family == 6 ? 6 : 4;
		const struct net *sn = fam == 4 ? &o->src4 : &o->src6;
		const struct net *dn = fam == 4 ? &o->dst4 : &o->dst6;
		uint64_t hs = net_hosts(sn, fam), hd = net_hosts(dn, fam);
		uint8_t a[16], b[16];
		uint16_t sp, dp;
		uint64_t x = o->seed ^ ((uint64_t)f << 32);

		if ((uint64_t)n > hs * SPORT_SPAN)
			die_usage("%u flows need more than the %" PRIu64 " source hosts x %u ports "
				  "of --src-net: widen it",
				  n, hs, SPORT_SPAN);
		fl->family = (uint8_t)fam;
		if (o->proto == PROTO_MIX)
			fl->proto = (f & 1) ? IPPROTO_TCP : IPPROTO_UDP;
		else
			fl->proto = o->proto == PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;
		dp = o->dports[(o->proto == PROTO_MIX ? f / 2 : f) % o->ndports];
		/* (source host, source port) is unique per flow: f in mixed radix (hs, 60000) */
		sp = (uint16_t)(1024 + (f / hs + sport_off) % SPORT_SPAN);
		net_addr(sn, fam, f % hs, a);
		net_addr(dn, fam, ((uint64_t)f * 7 + f / hs) % hd, b);
		if (o->reverse) {
			memcpy(fl->src, b, 16), memcpy(fl->dst, a, 16);
			fl->sport = dp, fl->dport = sp;
		} else {
			memcpy(fl->src, a, 16), memcpy(fl->dst, b, 16);
			fl->sport = sp, fl->dport = dp;
		}
		/* TCP: each direction has its own initial sequence number, acks the other's */
		fl->tcp_seq = (uint32_t)tk_splitmix64(&x);
		fl->tcp_ack = (uint32_t)tk_splitmix64(&x);
		if (o->reverse) {
			uint32_t t = fl->tcp_seq;

			fl->tcp_seq = fl->tcp_ack;
			fl->tcp_ack = t;
		}
	}
}

/* The fill after the marker: byte k of the payload (k >= MARK_LEN), and its word sums. */
static void build_pattern(struct gen *g)
{
	uint8_t s = (uint8_t)(g->o.seed * 0x9d);

	for (unsigned k = 0; k < PAT_MAX; k++)
		g->pat[k] = (uint8_t)(k * 0x3b + s);
	g->patsum[0] = 0;
	for (unsigned m = 0; m < PAT_MAX / 2; m++) {
		unsigned k = MARK_LEN + 2 * m;
		uint32_t w = k + 1 < PAT_MAX ? (uint32_t)g->pat[k] << 8 | g->pat[k + 1] : 0;

		g->patsum[m + 1] = g->patsum[m] + w;
	}
}

static unsigned frame_len_of(const struct gen *g, const struct flow *fl, unsigned size)
{
	unsigned l2 = ETH_HLEN_ + (g->o.vlan >= 0 ? VLAN_HLEN_ : 0);
	unsigned hdr = l2 + (fl->family == 4 ? IP4_HLEN : IP6_HLEN) +
		       (fl->proto == IPPROTO_TCP ? TCP_HLEN : UDP_HLEN);
	unsigned len = size + (g->o.vlan >= 0 ? VLAN_HLEN_ : 0);

	return len < hdr ? hdr : len;
}

/*
 * Write synthetic packet seq into buf (room for g->max_len bytes). *key says which fill the
 * buffer already holds (payload offset << 16 | frame length), so the fill is rewritten only when
 * that changes. Counts the packet to its flow (*flow_out). Returns the frame length.
 */
static unsigned build_frame(struct gen *g, uint64_t seq, uint8_t *buf, uint32_t *key,
			    uint32_t *flow_out)
{
	const struct opts *o = &g->o;
	uint32_t f = (uint32_t)(seq % o->nflows);
	uint32_t fseq = (uint32_t)(seq / o->nflows);
	struct flow *fl = &g->flows[f];
	unsigned len = frame_len_of(g, fl, o->sizes[seq % o->nsizes]);
	unsigned alen = fl->family == 4 ? 4 : 16;
	unsigned l4h = fl->proto == IPPROTO_TCP ? TCP_HLEN : UDP_HLEN;
	unsigned l3, l4, pay, plen, l4len, mlen;
	uint32_t k;
	uint8_t *p = buf;
	uint64_t s;

	memcpy(p, o->dst_mac, 6);
	memcpy(p + 6, g->src_mac, 6);
	p += 12;
	if (o->vlan >= 0) {
		tk_put16(p, 0x8100);
		tk_put16(p + 2, (uint16_t)o->vlan);
		p += 4;
	}
	tk_put16(p, fl->family == 4 ? 0x0800 : 0x86dd);
	l3 = (unsigned)(p + 2 - buf);
	l4 = l3 + (fl->family == 4 ? IP4_HLEN : IP6_HLEN);
	pay = l4 + l4h;
	l4len = len - l4;
	plen = len - pay;

	p = buf + l3;
	if (fl->family == 4) {
		p[0] = 0x45, p[1] = 0;
		tk_put16(p + 2, (uint16_t)(len - l3));
		tk_put16(p + 4, (uint16_t)fseq);
		tk_put16(p + 6, 0x4000); /* DF */
		p[8] = 64, p[9] = fl->proto;
		tk_put16(p + 10, 0);
		memcpy(p + 12, fl->src, 4);
		memcpy(p + 16, fl->dst, 4);
		tk_put16(p + 10, (uint16_t)~tk_csum_fold(tk_csum_add(0, p, IP4_HLEN)));
	} else {
		tk_put32(p, 0x60000000u);
		tk_put16(p + 4, (uint16_t)l4len);
		p[6] = fl->proto, p[7] = 64;
		memcpy(p + 8, fl->src, 16);
		memcpy(p + 24, fl->dst, 16);
	}

	p = buf + l4;
	tk_put16(p, fl->sport);
	tk_put16(p + 2, fl->dport);
	if (fl->proto == IPPROTO_UDP) {
		tk_put16(p + 4, (uint16_t)l4len);
		tk_put16(p + 6, 0);
	} else {
		tk_put32(p + 4, fl->tcp_seq + fl->tcp_off);
		tk_put32(p + 8, fl->tcp_ack);
		p[12] = 5 << 4, p[13] = 0x18; /* PSH|ACK */
		tk_put16(p + 14, 65535);
		tk_put16(p + 16, 0);
		tk_put16(p + 18, 0);
	}

	/* the marker, cut at the frame's end if need be, then the fill */
	mlen = plen < MARK_LEN ? plen : MARK_LEN;
	if (mlen == MARK_LEN) {
		p = buf + pay;
		memcpy(p, "RCG1", 4);
		tk_put32(p + 4, f);
		tk_put64(p + 8, seq);
		tk_put32(p + 16, fseq);
	} else {
		uint8_t m[MARK_LEN];

		memcpy(m, "RCG1", 4);
		tk_put32(m + 4, f);
		tk_put64(m + 8, seq);
		tk_put32(m + 16, fseq);
		memcpy(buf + pay, m, mlen);
	}
	k = (uint32_t)pay << 16 | len;
	if (plen > MARK_LEN && *key != k)
		memcpy(buf + pay + MARK_LEN, g->pat + MARK_LEN, plen - MARK_LEN);
	*key = k;

	/* transport checksum: pseudo header + header + marker + the fill's precomputed sum */
	s = tk_csum_add(0, fl->src, alen) + tk_csum_add(0, fl->dst, alen) + fl->proto + l4len;
	s += tk_csum_add(0, buf + l4, l4h + mlen);
	if (plen > MARK_LEN) {
		unsigned n = plen - MARK_LEN;

		s += g->patsum[n / 2];
		if (n & 1)
			s += (uint32_t)g->pat[MARK_LEN + n - 1] << 8;
	}
	tk_put16(buf + l4 + (fl->proto == IPPROTO_UDP ? 6 : 16), (uint16_t)~tk_csum_fold(s));
	if (fl->proto == IPPROTO_UDP && tk_csum_fold(s) == 0xffff)
		tk_put16(buf + l4 + 6, 0xffff); /* 0 means "no checksum" in UDP */

	fl->packets++;
	fl->bytes += len;
	fl->tcp_off += plen;
	*flow_out = f;
	return len;
}

/* ---- replayed frames: addresses checked, client ports shifted per pass ---------------------- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Frame buf (a copy of r) with its client port moved up by add, its checksum kept right. */
static void shift_port(uint8_t *buf, const struct rframe *r, uint32_t add)
{
	uint16_t old = get16(buf + r->cport_off), port = (uint16_t)(old + add);
	uint32_t s;

	tk_put16(buf + r->cport_off, port);
	if (!r->csum_off)
		return;
	/* RFC 1624: HC' = ~(~HC + ~m + m') */
	s = (uint16_t)~get16(buf + r->csum_off) + (uint32_t)(uint16_t)~old + port;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (uint16_t)~s;
	if (r->udp && s == 0)
		s = 0xffff; /* 0 means "no checksum" in UDP */
	tk_put16(buf + r->csum_off, (uint16_t)s);
}

/* What a replayed frame holds, as far as the checks and --loop-ports need. */
struct layers {
	int family;		  /* 4, 6, or 0: neither (ARP is 4 with proto 0) */
	const uint8_t *src, *dst; /* addresses */
	uint8_t proto;		  /* IPPROTO_TCP, IPPROTO_UDP or another */
	unsigned l4;		  /* offset of the TCP or UDP header; 0: none to touch (another
				     protocol, a later fragment, or cut short) */
};

static void parse_layers(const uint8_t *d, uint32_t len, struct layers *x)
{
	unsigned off = 12, l3, hl;
	uint16_t type;

	*x = (struct layers){0};
	if (len < 14)
		return;
	while ((type = get16(d + off)) == 0x8100 || type == 0x88a8) {
		if (off + 6 > len)
			return;
		off += 4;
	}
	l3 = off + 2;
	if (type == 0x0806) { /* ARP for IPv4: sender and target protocol addresses */
		if (len >= l3 + 28 && get16(d + l3 + 2) == 0x0800 && d[l3 + 5] == 4) {
			x->family = 4;
			x->src = d + l3 + 14;
			x->dst = d + l3 + 24;
		}
		return;
	}
	if (type == 0x0800 && len >= l3 + IP4_HLEN && d[l3] >> 4 == 4) {
		x->family = 4;
		x->src = d + l3 + 12;
		x->dst = d + l3 + 16;
		x->proto = d[l3 + 9];
		hl = (d[l3] & 15u) * 4;
		if (hl < IP4_HLEN || (get16(d + l3 + 6) & 0x1fff))
			return; /* a later fragment: no ports */
		off = l3 + hl;
	} else if (type == 0x86dd && len >= l3 + IP6_HLEN && d[l3] >> 4 == 6) {
		x->family = 6;
		x->src = d + l3 + 8;
		x->dst = d + l3 + 24;
		x->proto = d[l3 + 6];
		off = l3 + IP6_HLEN;
		/* hop-by-hop, routing, destination options, fragment */
		while (x->proto == 0 || x->proto == 43 || x->proto == 60 || x->proto == 44) {
			if (off + 8 > len)
				return;
			if (x->proto == 44) {
				if (get16(d + off + 2) & 0xfff8)
					return; /* a later fragment */
				x->proto = d[off];
				off += 8;
			} else {
				x->proto = d[off];
				off += (d[off + 1] + 1u) * 8;
			}
		}
	} else {
		return;
	}
	if ((x->proto == IPPROTO_TCP && off + TCP_HLEN <= len) ||
	    (x->proto == IPPROTO_UDP && off + UDP_HLEN <= len))
		x->l4 = off;
}

/* A flow of the replayed file, both directions as one: endpoints in a fixed order. */
struct rflow {
	uint8_t family, proto;
	uint16_t port_a, port_b;
	uint8_t a[16], b[16];
};

struct rflow_slot {
	struct rflow key;
	bool used;
	bool client_is_a;
};

struct rflow_table {
	struct rflow_slot *slot;
	size_t mask, used;
};

static size_t rflow_hash(const struct rflow *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return (size_t)(h ^ h >> 29);
}

/* The slot of key k, new (used false) or not; the table grows past half full. */
static struct rflow_slot *rflow_find(struct rflow_table *t, const struct rflow *k)
{
	size_t i;

	if (2 * (t->used + 1) > t->mask + 1) {
		struct rflow_table n = {.mask = t->mask ? 2 * t->mask + 1 : 4095};

		if (!(n.slot = calloc(n.mask + 1, sizeof(*n.slot))))
			die("out of memory");
		for (size_t j = 0; t->slot && j <= t->mask; j++) {
			if (!t->slot[j].used)
				continue;
			for (i = rflow_hash(&t->slot[j].key) & n.mask; n.slot[i].used;
			     i = (i + 1) & n.mask)
				;
			n.slot[i] = t->slot[j];
			n.used++;
		}
		free(t->slot);
		*t = n;
	}
	for (i = rflow_hash(k) & t->mask; t->slot[i].used; i = (i + 1) & t->mask)
		if (!memcmp(&t->slot[i].key, k, sizeof(*k)))
			return &t->slot[i];
	return &t->slot[i];
}

/*
 * Every replayed frame's addresses must lie in the test ranges, as this tool's own frames do: a
 * capture taken elsewhere is refused, not sent. With --loop-ports, find each frame's client port
 * and the step that keeps the passes apart.
 */
static void inspect_replay(struct gen *g)
{
	struct rflow_table t = {0};
	unsigned lo = 65536, hi = 0;
	uint64_t shifted = 0;

	for (uint64_t i = 0; i < g->nrf; i++) {
		struct rframe *r = &g->rf[i];
		struct layers x;
		struct rflow k;
		struct rflow_slot *s;
		unsigned alen, sport, dport, cport;
		bool src_first, client_is_src;

		parse_layers(r->data, r->len, &x);
		if (!x.family)
			continue;
		if (!in_test_ranges(x.family, x.src) || !in_test_ranges(x.family, x.dst)) {
			char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
			int af = x.family == 4 ? AF_INET : AF_INET6;

			inet_ntop(af, x.src, a, sizeof(a));
			inet_ntop(af, x.dst, b, sizeof(b));
			die("frame %" PRIu64 " of '%s' (%s -> %s) is outside 198.18.0.0/15 and "
			    "2001:db8::/32: refusing to replay a capture with other addresses",
			    i + 1, g->o.replay, a, b);
		}
		if (!g->o.loop_ports || !x.l4)
			continue;
		alen = x.family == 4 ? 4 : 16;
		sport = get16(r->data + x.l4);
		dport = get16(r->data + x.l4 + 2);
		memset(&k, 0, sizeof(k));
		k.family = (uint8_t)x.family;
		k.proto = x.proto;
		src_first = memcmp(x.src, x.dst, alen) < 0 ||
			    (!memcmp(x.src, x.dst, alen) && sport <= dport);
		memcpy(k.a, src_first ? x.src : x.dst, alen);
		memcpy(k.b, src_first ? x.dst : x.src, alen);
		k.port_a = (uint16_t)(src_first ? sport : dport);
		k.port_b = (uint16_t)(src_first ? dport : sport);
		s = rflow_find(&t, &k);
		if (!s->used) {
			/* the sender of the first frame is the client, unless that is a SYN-ACK */
			bool synack = x.proto == IPPROTO_TCP && (r->data[x.l4 + 13] & 0x12) == 0x12;

			s->key = k;
			s->used = true;
			s->client_is_a = src_first != synack;
			t.used++;
		}
		client_is_src = s->client_is_a == src_first;
		r->cport_off = (uint16_t)(x.l4 + (client_is_src ? 0 : 2));
		r->udp = x.proto == IPPROTO_UDP;
		r->csum_off = (uint16_t)(x.l4 + (r->udp ? 6 : 16));
		if (r->udp && x.family == 4 && !get16(r->data + r->csum_off))
			r->csum_off = 0;
		cport = client_is_src ? sport : dport;
		if (cport < 1024)
			die("--loop-ports: frame %" PRIu64 " of '%s' has client port %u; only "
			    "ports from 1024 are shifted",
			    i + 1, g->o.replay, cport);
		lo = cport < lo ? cport : lo;
		hi = cport > hi ? cport : hi;
		shifted++;
	}
	free(t.slot);
	if (!g->o.loop_ports)
		return;
	if (!shifted)
		die("--loop-ports: '%s' has no TCP or UDP frame to give new ports", g->o.replay);
	g->port_step = hi - lo + 1;
	if (hi + (g->o.loops - 1) * (uint64_t)g->port_step > 65535)
		die("--loop-ports: client ports %u..%u moved by %u for each of %" PRIu64
		    " passes would run past 65535; give fewer passes",
		    lo, hi, g->port_step, g->o.loops);
}

/* May this frame go out of the interface (the kernel's own length rules)? */
static bool replay_len_ok(const struct gen *g, const uint8_t *d, uint32_t len)
{
	bool tagged = len >= 14 && d[12] == 0x81 && d[13] == 0x00;

	return len >= ETH_HLEN_ && len <= g->mtu + ETH_HLEN_ + (tagged ? VLAN_HLEN_ : 0);
}

/*
 * The next frame into buf: its length, or 0 when the packet bound is reached. *flow_out is the
 * flow it belongs to (UINT32_MAX for replayed frames). Replayed frames the interface cannot take
 * are counted as errors and skipped.
 */
static unsigned produce(struct gen *g, uint8_t *buf, uint32_t *key, uint32_t *flow_out)
{
	while (g->next_seq < g->limit) {
		uint64_t seq = g->next_seq++;
		const struct rframe *r;

		if (!g->o.replay)
			return build_frame(g, seq, buf, key, flow_out);
		r = &g->rf[seq % g->nrf];
		if (!replay_len_ok(g, r->data, r->len)) {
			g->errors++;
			continue;
		}
		memcpy(buf, r->data, r->len);
		if (r->cport_off && seq >= g->nrf)
			shift_port(buf, r, (uint32_t)(seq / g->nrf) * g->port_step);
		*key = 0;
		*flow_out = UINT32_MAX;
		return r->len;
	}
	return 0;
}

/* A frame produced but refused by the kernel for good: take it back from its flow. */
static void refused(struct gen *g, uint32_t flow, unsigned len)
{
	g->errors++;
	if (flow != UINT32_MAX) {
		g->flows[flow].packets--;
		g->flows[flow].bytes -= len;
	}
}

/* ---- pacing -------------------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until_ns(uint64_t t)
{
	struct timespec ts = {.tv_sec = (time_t)(t / 1000000000u),
			      .tv_nsec = (long)(t % 1000000000u)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop_flag)
		;
}

/* Token bucket: `rate` tokens a second, at most `burst` saved up. */
struct bucket {
	double rate, burst, tokens;
	uint64_t last;
};

static void bucket_init(struct bucket *b, uint64_t rate, unsigned batch)
{
	b->rate = (double)rate;
	b->burst = rate ? fmax(1.0, fmin((double)batch, (double)rate / 200.0)) : 0;
	b->tokens = 1;
	b->last = now_ns();
}

/*
 * How many of `want` frames may go now (at least 1, waiting for a token if need be, unless the
 * deadline or a signal comes first: then 0).
 */
static unsigned bucket_take(struct bucket *b, unsigned want, uint64_t deadline)
{
	for (;;) {
		uint64_t t = now_ns();
		unsigned n;

		if (!b->rate)
			return want;
		b->tokens = fmin(b->burst, b->tokens + (double)(t - b->last) * b->rate / 1e9);
		b->last = t;
		if (b->tokens >= 1) {
			n = (unsigned)fmin((double)want, b->tokens);
			b->tokens -= n;
			return n;
		}
		if (stop_flag || t >= deadline)
			return 0;
		t += (uint64_t)((1 - b->tokens) * 1e9 / b->rate) + 1;
		sleep_until_ns(t < deadline ? t : deadline);
	}
}

/*
 * ENOBUFS: the receiving side had no room (its backlog is full) and dropped the frame, which
 * is sent again. Yields the CPU so that the receiver catches up; true once that has gone on for
 * 2 s without a frame getting through (the peer is gone), to give up.
 */
static bool enobufs_backoff(struct gen *g, uint64_t *since)
{
	uint64_t t = now_ns();

	g->enobufs++;
	if (!*since)
		*since = t;
	if (t - *since > 2000000000u) {
		fprintf(stderr,
			PROG ": giving up: every frame refused (ENOBUFS) for 2 s; is the other end "
			     "of '%s' down, or not draining its backlog?\n",
			g->o.ifname);
		return true;
	}
	if (t - *since > 1000000)
		sleep_until_ns(t + 50000);
	else
		sched_yield();
	return false;
}

/* ---- sending: TPACKET_V2 TX ring ----------------------------------------------------------- */

#define TX_DATA_OFF (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))

struct txring {
	uint8_t *map;
	size_t map_len;
	unsigned frame_size, nframes;
	uint64_t head, tail; /* head: next slot to fill; tail: oldest slot handed over */
	uint32_t *key, *flow, *len;
};

static struct tpacket2_hdr *slot_hdr(struct txring *r, uint64_t i)
{
	return (struct tpacket2_hdr *)(r->map + (size_t)(i % r->nframes) * r->frame_size);
}

static void ring_setup(struct gen *g, struct txring *r)
{
	unsigned need = (unsigned)TX_DATA_OFF + g->max_len, fs = 2048;
	int v = TPACKET_V2, one = 1;
	struct tpacket_req req;

	while (fs < need)
		fs <<= 1;
	r->frame_size = fs;
	r->nframes = (32u << 20) / fs;
	if (r->nframes > 4096)
		r->nframes = 4096;
	if (r->nframes < 64)
		r->nframes = 64;
	req = (struct tpacket_req){
		.tp_block_size = fs < 4096 ? 4096 : fs,
		.tp_frame_size = fs,
		.tp_frame_nr = r->nframes,
	};
	req.tp_block_nr = r->nframes / (req.tp_block_size / fs);
	if (setsockopt(g->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) != 0)
		die("PACKET_VERSION TPACKET_V2: %s", strerror(errno));
	/* a frame the kernel cannot send is skipped, not left to wedge the ring (lengths are
	 * checked before a frame is queued, so this does not happen) */
	if (setsockopt(g->fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)) != 0)
		die("PACKET_LOSS: %s", strerror(errno));
	if (setsockopt(g->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) != 0)
		die("PACKET_TX_RING (%u frames of %u bytes): %s", r->nframes, fs, strerror(errno));
	r->map_len = (size_t)req.tp_block_size * req.tp_block_nr;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	if (r->map == MAP_FAILED)
		die("mmap of the TX ring (%zu bytes): %s", r->map_len, strerror(errno));
	r->key = calloc(r->nframes, sizeof(*r->key));
	r->flow = calloc(r->nframes, sizeof(*r->flow));
	r->len = calloc(r->nframes, sizeof(*r->len));
	if (!r->key || !r->flow || !r->len)
		die("out of memory");
}

/* Take back the frames the kernel is done with, oldest first. */
static void ring_reclaim(struct gen *g, struct txring *r)
{
	while (r->tail != r->head) {
		struct tpacket2_hdr *h = slot_hdr(r, r->tail);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		unsigned i = (unsigned)(r->tail % r->nframes);

		if (st == TP_STATUS_AVAILABLE) {
			g->sent++;
			g->bytes += r->len[i];
		} else if (st & TP_STATUS_WRONG_FORMAT) {
			refused(g, r->flow[i], r->len[i]);
			__atomic_store_n(&h->tp_status, TP_STATUS_AVAILABLE, __ATOMIC_RELEASE);
		} else {
			break;
		}
		r->tail++;
	}
}

/* Ask the kernel to send what is queued; false when it should be given up. */
static bool ring_kick(struct gen *g, uint64_t *enobufs_since)
{
	if (send(g->fd, NULL, 0, MSG_DONTWAIT) >= 0) {
		*enobufs_since = 0;
		return true;
	}
	switch (errno) {
	case ENOBUFS:
		return !enobufs_backoff(g, enobufs_since);
	case EAGAIN:
	case EINTR:
		return true;
	default:
		die("send on the TX ring: %s", strerror(errno));
	}
}

static void send_ring(struct gen *g, uint64_t deadline)
{
	struct txring r = {0};
	struct bucket b;
	uint64_t enobufs_since = 0;
	bool more = true, alive = true;

	ring_setup(g, &r);
	bucket_init(&b, g->o.rate, g->o.batch);
	while (more && alive) {
		unsigned want = g->o.batch, n = 0;

		if (stop_flag || now_ns() >= deadline)
			break;
		if (r.head - r.tail < r.nframes) {
			uint64_t room = r.nframes - (r.head - r.tail);

			if (want > room)
				want = (unsigned)room;
			want = bucket_take(&b, want, deadline);
		} else {
			want = 0;
		}
		for (; n < want; n++) {
			struct tpacket2_hdr *h = slot_hdr(&r, r.head);
			unsigned i = (unsigned)(r.head % r.nframes);
			unsigned len =
				produce(g, (uint8_t *)h + TX_DATA_OFF, &r.key[i], &r.flow[i]);

			if (!len) {
				more = false;
				break;
			}
			h->tp_len = len;
			r.len[i] = len;
			__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
			r.head++;
		}
		if (r.head != r.tail)
			alive = ring_kick(g, &enobufs_since);
		ring_reclaim(g, &r);
		if (r.head - r.tail == r.nframes) {
			struct pollfd pfd = {.fd = g->fd, .events = POLLOUT};

			poll(&pfd, 1, 1);
			ring_reclaim(g, &r);
		}
	}
	/* drain: what is queued still goes, for up to 2 s more */
	deadline = now_ns() + 2000000000u;
	while (alive && r.tail != r.head && now_ns() < deadline) {
		alive = ring_kick(g, &enobufs_since);
		ring_reclaim(g, &r);
		if (r.tail != r.head) {
			struct pollfd pfd = {.fd = g->fd, .events = POLLOUT};

			poll(&pfd, 1, 1);
			ring_reclaim(g, &r);
		}
	}
	for (; r.tail != r.head; r.tail++) {
		unsigned i = (unsigned)(r.tail % r.nframes);

		refused(g, r.flow[i], r.len[i]);
	}
	munmap(r.map, r.map_len);
	free(r.key), free(r.flow), free(r.len);
}

/* ---- sending: sendmmsg batches ------------------------------------------------------------- */

static void send_mmsg(struct gen *g, uint64_t deadline)
{
	unsigned batch = g->o.batch;
	struct mmsghdr *m = calloc(batch, sizeof(*m));
	struct iovec *iov = calloc(batch, sizeof(*iov));
	uint32_t *key = calloc(batch, sizeof(*key)), *flow = calloc(batch, sizeof(*flow));
	uint8_t *bufs = malloc((size_t)batch * g->max_len);
	struct bucket b;
	uint64_t enobufs_since = 0;
	bool more = true;

	if (!m || !iov || !key || !flow || !bufs)
		die("out of memory");
	for (unsigned i = 0; i < batch; i++) {
		iov[i].iov_base = bufs + (size_t)i * g->max_len;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	bucket_init(&b, g->o.rate, batch);
	while (more && !stop_flag && now_ns() < deadline) {
		unsigned n = 0, off = 0, want = bucket_take(&b, batch, deadline);

		for (; n < want; n++) {
			unsigned len = produce(g, iov[n].iov_base, &key[n], &flow[n]);

			if (!len) {
				more = false;
				break;
			}
			iov[n].iov_len = len;
		}
		/* a batch once started is finished (bounded by the 2 s ENOBUFS limit) */
		while (off < n) {
			int r = sendmmsg(g->fd, m + off, n - off, 0);

			if (r > 0) {
				for (int i = 0; i < r; i++)
					g->bytes += iov[off + i].iov_len;
				g->sent += (unsigned)r;
				off += (unsigned)r;
				enobufs_since = 0;
			} else if (r < 0 && errno == ENOBUFS) {
				if (enobufs_backoff(g, &enobufs_since)) {
					for (; off < n; off++)
						refused(g, flow[off], (unsigned)iov[off].iov_len);
					more = false;
				}
			} else if (r < 0 && errno == EINTR) {
				continue;
			} else {
				if (!g->o.quiet)
					fprintf(stderr, PROG ": frame of %zu bytes refused: %s\n",
						iov[off].iov_len, strerror(errno));
				refused(g, flow[off], (unsigned)iov[off].iov_len);
				off++;
			}
		}
	}
	free(m), free(iov), free(key), free(flow), free(bufs);
}

/* ---- setup --------------------------------------------------------------------------------- */

static void open_interface(struct gen *g)
{
	struct ifreq ifr = {0};
	struct sockaddr_ll sll = {0};
	int one = 1, sndbuf = 4 << 20;

	if (strlen(g->o.ifname) >= IFNAMSIZ)
		die("no interface '%s': the name is too long", g->o.ifname);
	/* protocol 0: the socket only sends, it never receives */
	g->fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (g->fd < 0) {
		if (errno == EPERM || errno == EACCES)
			die("cannot open an AF_PACKET socket: %s; sending raw frames needs root or "
			    "CAP_NET_RAW",
			    strerror(errno));
		die("cannot open an AF_PACKET socket: %s", strerror(errno));
	}
	strcpy(ifr.ifr_name, g->o.ifname);
	if (ioctl(g->fd, SIOCGIFINDEX, &ifr) != 0)
		die("no interface '%s' in this network namespace (%s)", g->o.ifname,
		    strerror(errno));
	g->ifindex = ifr.ifr_ifindex;
	if (ioctl(g->fd, SIOCGIFFLAGS, &ifr) != 0)
		die("cannot read the flags of '%s': %s", g->o.ifname, strerror(errno));
	if (!(ifr.ifr_flags & IFF_UP))
		die("interface '%s' is down ('ip link set dev %s up')", g->o.ifname, g->o.ifname);
	if (ioctl(g->fd, SIOCGIFMTU, &ifr) != 0)
		die("cannot read the MTU of '%s': %s", g->o.ifname, strerror(errno));
	g->mtu = (unsigned)ifr.ifr_mtu;
	if (ioctl(g->fd, SIOCGIFHWADDR, &ifr) != 0)
		die("cannot read the address of '%s': %s", g->o.ifname, strerror(errno));
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		die("'%s' is not an Ethernet interface (ARP type %u)", g->o.ifname,
		    ifr.ifr_hwaddr.sa_family);
	memcpy(g->src_mac, ifr.ifr_hwaddr.sa_data, 6);

	if (g->o.bypass &&
	    setsockopt(g->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) != 0)
		die("PACKET_QDISC_BYPASS: %s", strerror(errno));
	if (setsockopt(g->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) != 0)
		(void)setsockopt(g->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = g->ifindex;
	sll.sll_protocol = 0;
	if (bind(g->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		die("bind to '%s': %s", g->o.ifname, strerror(errno));
}

/* Read every frame of the pcap into memory. */
static void load_replay(struct gen *g)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t cap = 0, used = 0, ncap = 0;
	pcap_t *p = pcap_open_offline(g->o.replay, err);
	uint32_t *lens = NULL;
	int r;

	if (!p)
		die("cannot read '%s': %s", g->o.replay, err);
	if (pcap_datalink(p) != DLT_EN10MB)
		die("'%s' is not an Ethernet capture (link type %d): only Ethernet frames can be "
		    "replayed",
		    g->o.replay, pcap_datalink(p));
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		if (used + h->caplen > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			while (cap < used + h->caplen)
				cap *= 2;
			if (cap > (1ull << 31))
				die("'%s' is too big to replay (at most 2 GiB of frames)",
				    g->o.replay);
			if (!(g->rdata = realloc(g->rdata, cap)))
				die("out of memory reading '%s'", g->o.replay);
		}
		if (g->nrf == ncap) {
			ncap = ncap ? ncap * 2 : 4096;
			if (!(lens = realloc(lens, ncap * sizeof(*lens))))
				die("out of memory reading '%s'", g->o.replay);
		}
		memcpy(g->rdata + used, d, h->caplen);
		used += h->caplen;
		lens[g->nrf++] = h->caplen;
	}
	if (r == -1)
		die("reading '%s': %s", g->o.replay, pcap_geterr(p));
	pcap_close(p);
	if (!g->nrf)
		die("'%s' holds no frames", g->o.replay);
	g->rf = calloc(g->nrf, sizeof(*g->rf));
	if (!g->rf)
		die("out of memory");
	used = 0;
	g->max_len = 0;
	for (uint64_t i = 0; i < g->nrf; i++) {
		g->rf[i] = (struct rframe){.len = lens[i], .data = g->rdata + used};
		used += lens[i];
		if (lens[i] > g->max_len)
			g->max_len = lens[i];
	}
	free(lens);
}

/* ---- report -------------------------------------------------------------------------------- */

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : "udp";
}

/* --write: the frames into a pcap, timestamps a microsecond apart, nothing sent. */
static void write_frames(struct gen *g)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *w;
	static uint8_t buf[65536];
	uint32_t key, flow;
	unsigned len;

	if (!p)
		die("out of memory");
	if (!(w = pcap_dump_open(p, g->o.write)))
		die("cannot write '%s': %s", g->o.write, pcap_geterr(p));
	while (!stop_flag && (len = produce(g, buf, &key, &flow))) {
		struct pcap_pkthdr h = {.caplen = len, .len = len};
		uint64_t us = 1700000000ull * 1000000 + g->sent;

		h.ts.tv_sec = (time_t)(us / 1000000);
		h.ts.tv_usec = (suseconds_t)(us % 1000000);
		pcap_dump((u_char *)w, &h, buf);
		g->sent++;
		g->bytes += len;
	}
	if (pcap_dump_flush(w) != 0 || ferror(pcap_dump_file(w)))
		die("cannot write '%s': %s", g->o.write, strerror(errno));
	pcap_dump_close(w);
	pcap_close(p);
}

static void write_report(struct gen *g, double secs)
{
	FILE *f = fopen(g->o.report, "w");
	const struct opts *o = &g->o;

	if (!f)
		die("cannot write the report '%s': %s", o->report, strerror(errno));
	fprintf(f,
		"{\"interface\":\"%s\",\"method\":\"%s\",\"sent\":%" PRIu64 ",\"bytes\":%" PRIu64
		",\"errors\":%" PRIu64 ",\"enobufs\":%" PRIu64
		",\"duration_s\":%.6f,\"pps\":%.0f,\"reverse\":%s,\"vlan\":",
		o->ifname ? o->ifname : "",
		o->write		   ? "write"
		: o->method == METHOD_RING ? "ring"
					   : "mmsg",
		g->sent, g->bytes, g->errors, g->enobufs, secs,
		secs > 0 ? (double)g->sent / secs : 0.0, o->reverse ? "true" : "false");
	if (o->vlan >= 0)
		fprintf(f, "%d", o->vlan);
	else
		fputs("null", f);
	if (o->replay) {
		fprintf(f,
			",\"replay\":\"%s\",\"replay_frames\":%" PRIu64 ",\"loops\":%" PRIu64
			",\"loop_port_step\":%u,\"flows\":[]",
			o->replay, g->nrf, o->loops, g->port_step);
	} else {
		fputs(",\"flows\":[", f);
		for (uint32_t i = 0; i < o->nflows; i++) {
			const struct flow *fl = &g->flows[i];
			char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
			int af = fl->family == 4 ? AF_INET : AF_INET6;

			inet_ntop(af, fl->src, s, sizeof(s));
			inet_ntop(af, fl->dst, d, sizeof(d));
			fprintf(f,
				"%s\n{\"flow\":%u,\"proto\":\"%s\",\"family\":%u,\"src\":\"%s\","
				"\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"packets\":%" PRIu64
				",\"bytes\":%" PRIu64 "}",
				i ? "," : "", i, proto_name(fl->proto), fl->family, s, fl->sport, d,
				fl->dport, fl->packets, fl->bytes);
		}
		fputs("],\"by_dport\":{", f);
		/* summed per (protocol, destination port), in order of first appearance */
		uint64_t(*sum)[65536] = calloc(2, sizeof(*sum));
		uint8_t(*done)[65536] = calloc(2, sizeof(*done));
		bool first = true;

		if (!sum || !done)
			die("out of memory");
		for (uint32_t i = 0; i < o->nflows; i++)
			sum[g->flows[i].proto == IPPROTO_TCP][g->flows[i].dport] +=
				g->flows[i].packets;
		for (uint32_t i = 0; i < o->nflows; i++) {
			const struct flow *fl = &g->flows[i];
			int t = fl->proto == IPPROTO_TCP;

			if (done[t][fl->dport])
				continue;
			done[t][fl->dport] = 1;
			fprintf(f, "%s\"%s/%u\":%" PRIu64, first ? "" : ",", proto_name(fl->proto),
				fl->dport, sum[t][fl->dport]);
			first = false;
		}
		free(sum);
		free(done);
		fputs("}", f);
	}
	fputs("}\n", f);
	if (fclose(f) != 0)
		die("cannot write the report '%s': %s", o->report, strerror(errno));
}

int main(int argc, char **argv)
{
	struct gen *g = calloc(1, sizeof(*g));
	struct sigaction sa = {.sa_handler = on_signal};
	uint64_t deadline;
	double secs;
	int rc;

	if (!g)
		die("out of memory");
	parse_opts(&g->o, argc, argv);
	if (!g->o.replay)
		build_flows(g); /* may still refuse the command line: before anything else */
	if (g->o.write) {
		/* nothing is sent: any namespace; the frames a 1500-byte MTU would take */
		static const uint8_t mac[6] = {0x02, 0x72, 0x63, 0x67, 0x00, 0x02};

		g->mtu = 1500;
		memcpy(g->src_mac, mac, 6);
		g->fd = -1;
	} else {
		check_namespace(&g->o);
		open_interface(g);
	}

	if (g->o.replay) {
		load_replay(g);
		inspect_replay(g);
		g->limit = g->nrf * g->o.loops;
		if (g->o.count && g->o.count < g->limit)
			g->limit = g->o.count;
	} else {
		unsigned big = 0;

		for (unsigned i = 0; i < g->o.nsizes; i++)
			if (g->o.sizes[i] > big)
				big = g->o.sizes[i];
		if (big > g->mtu + ETH_HLEN_)
			die("frames of %u bytes need an MTU of at least %u; '%s' has %u", big,
			    big - ETH_HLEN_, g->o.ifname, g->mtu);
		g->max_len = (big < 128 ? 128 : big) + VLAN_HLEN_;
		build_pattern(g);
		g->limit = g->o.count ? g->o.count : UINT64_MAX;
	}

	prctl(PR_SET_TIMERSLACK, 1000UL); /* --rate: wake within a microsecond, not 50 */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	clock_gettime(CLOCK_MONOTONIC, &g->t0);
	deadline = g->o.duration > 0 ? now_ns() + (uint64_t)(g->o.duration * 1e9) : UINT64_MAX;
	if (g->o.write)
		write_frames(g);
	else if (g->o.method == METHOD_RING)
		send_ring(g, deadline);
	else
		send_mmsg(g, deadline);
	clock_gettime(CLOCK_MONOTONIC, &g->t1);
	secs = (double)(g->t1.tv_sec - g->t0.tv_sec) +
	       (double)(g->t1.tv_nsec - g->t0.tv_nsec) / 1e9;

	if (g->o.write && !g->o.quiet)
		fprintf(stderr,
			PROG ": wrote %" PRIu64 " frames, %" PRIu64
			     " bytes to '%s'; errors %" PRIu64 "\n",
			g->sent, g->bytes, g->o.write, g->errors);
	else if (!g->o.quiet)
		fprintf(stderr,
			PROG ": sent %" PRIu64 " packets, %" PRIu64 " bytes in %.3f s: %.0f pps, "
			     "%.1f Mbit/s; errors %" PRIu64 ", ENOBUFS retries %" PRIu64
			     " (%s, %s)\n",
			g->sent, g->bytes, secs, secs > 0 ? (double)g->sent / secs : 0.0,
			secs > 0 ? (double)g->bytes * 8 / secs / 1e6 : 0.0, g->errors, g->enobufs,
			g->o.method == METHOD_RING ? "tx ring" : "sendmmsg",
			g->o.bypass ? "qdisc bypassed" : "through the qdisc");
	if (g->o.report)
		write_report(g, secs);
	if (g->fd >= 0)
		close(g->fd);
	rc = g->errors ? 1 : 0;
	free(g->flows);
	free(g->rf);
	free(g->rdata);
	free(g);
	return rc;
}
