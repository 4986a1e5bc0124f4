/* ringcap: options, the run (offline or live), signals and the summary. The only place that logs
 * at will. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "ringcap/assert.h"
#include "ringcap/counters.h"
#include "ringcap/engine.h"
#include "ringcap/filter.h"
#include "ringcap/pcapw.h"
#include "ringcap/flow.h"
#include "ringcap/report.h"
#include "ringcap/ring.h"
#include "ringcap/statsd.h"

#ifndef RINGCAP_VERSION
#define RINGCAP_VERSION "0.1.0"
#endif

static const char usage_text[] =
	"Usage: ringcap -i IFACE [OPTIONS] [BPF EXPRESSION]     capture live\n"
	"       ringcap -r FILE [-r FILE ...] [OPTIONS] [BPF EXPRESSION]     read files\n"
	"\n"
	"Capture packets without dropping them, or read capture files; decode every packet\n"
	"(Ethernet, 802.1Q/QinQ, IPv4, IPv6, TCP, UDP, ICMP), track flows in both directions and\n"
	"write one record per flow. The summary on standard error says how many packets the "
	"kernel\n"
	"delivered and dropped, and how many were filtered, decoded and malformed.\n"
	"\n"
	"Live capture (root or CAP_NET_RAW)\n"
	"  -i, --interface IFACE   Capture on IFACE with one AF_PACKET TPACKET_V3 ring per "
	"capture\n"
	"                          thread, all in one PACKET_FANOUT group.\n"
	"      --rings N           Capture threads and rings (default: one per CPU of --cpus).\n"
	"      --cpus LIST         CPUs to pin capture threads to, e.g. 0-3,6 (default: all "
	"online).\n"
	"      --decoders M        Decoder threads (default: as many as rings).\n"
	"      --ring-size SIZE    Bytes per ring (K, M, G suffixes). Default 256M, or 2G shared\n"
	"                          by the rings when there are more than 8 (64M at least):\n"
	"                          about 170 ms of 1500-byte frames at 1 Mpps per ring. The\n"
	"                          kernel must grant it whole: ringcap never shrinks it.\n"
	"      --block-size SIZE   Ring block size, a power of two (default 1M).\n"
	"      --block-timeout MS  The kernel hands over a partly filled block after MS (default "
	"10).\n"
	"      --fanout MODE       How the kernel spreads packets over rings: hash (default: both\n"
	"                          directions of a flow on one ring), cpu, lb, qm, rnd.\n"
	"      --fanout-flags F    Comma-separated: rollover, defrag.\n"
	"      --fanout-id N       Fanout group id (default: derived from the process id).\n"
	"      --no-promisc        Do not put the interface in promiscuous mode.\n"
	"      --queue-size SIZE   Bytes of each ring-to-decoder queue (default 16M).\n"
	"      --copy-frames       Copy every frame into its decoder's queue and hand each ring\n"
	"                          block back at once. Default: decoders read frames in the ring\n"
	"                          and a block goes back when they are done with it; a capture\n"
	"                          thread holds at most half of its ring, then copies.\n"
	"      --duration SEC      Stop after SEC seconds (default: run until SIGINT or SIGTERM).\n"
	"      --stats-socket PATH Serve counters, pc.stats(), the busiest flows, Prometheus text\n"
	"                          and filter changes on a unix socket (default\n"
	"                          /run/ringcap/ringcap.sock; read it with ringcap-stat). A\n"
	"                          socket another ringcap serves is refused: with this option\n"
	"                          the capture does not start; at the default path it runs\n"
	"                          without a socket, with a warning.\n"
	"      --no-stats-socket   No stats socket.\n"
	"      --stats-interval S  Print a one-line live view every S seconds (default 1 when\n"
	"                          standard error is a terminal, else none; 0 turns it off).\n"
	"\n"
	"Writing pcap files (live; libpcap's writer)\n"
	"  -w FILE                 Write every captured packet (after the filter, VLAN tags put\n"
	"                          back) to FILE, nanosecond pcap. A file is written as\n"
	"                          FILE.part and renamed when complete. FILE may hold strftime(3)\n"
	"                          fields, e.g. cap-%Y%m%d-%H%M%S.pcap. The capture never waits\n"
	"                          on the disk: what the writer cannot take is counted\n"
	"                          (disk.full_queue) and still decoded.\n"
	"  -C MB                   Start a new file before one passes MB million bytes.\n"
	"  -G SEC                  Start a new file every SEC seconds, with or without traffic.\n"
	"  -W N                    Keep at most N files, removing the oldest. With -C, -G or -W\n"
	"                          each name gets a sequence number before .pcap:\n"
	"                          cap.pcap -> cap-000000.pcap, cap-000001.pcap ...\n"
	"      --micro             Microsecond timestamps (for tools that need them).\n"
	"      --no-direct-io      Write -w and --overflow files through the page cache. By\n"
	"                          default they are written with O_DIRECT where the file system\n"
	"                          takes it: no page-cache copy, which is most of the CPU that\n"
	"                          writing at disk speed costs, and no capture data crowding the\n"
	"                          cache.\n"
	"      --write-buffer SIZE Queue from each capture thread to a writer (-w, --overflow):\n"
	"                          default 256M (2G shared past 8 rings, 64M at least), so a\n"
	"                          disk that pauses while the kernel writes back costs no packet.\n"
	"      --overflow DIR      When a decoder's queue is full, write the packet to pcap files\n"
	"                          in DIR (overflow-<time>-<n>.pcap) instead of losing it; "
	"process\n"
	"                          them later with ringcap -r DIR/*.pcap. Counted: "
	"overflow.spilled,\n"
	"                          overflow.lost (could not be written either). The summary "
	"checks\n"
	"                          received - dropped = decoded + spilled + lost.\n"
	"      --overflow-file-size MB\n"
	"                          Size of each overflow file (default 100 MB).\n"
	"      --overflow-files N  Keep at most N overflow files, removing the oldest (default:\n"
	"                          no limit).\n"
	"\n"
	"Reading files\n"
	"  -r, --read FILE         Read a pcap or pcapng file; '-' reads standard input. Repeat "
	"to\n"
	"                          read several files in order (e.g. spilled overflow files);\n"
	"                          names right after the options that are existing files with a\n"
	"                          '/' or a .pcap, .pcapng or .cap ending are read too, so\n"
	"                          'ringcap -r DIR/*.pcap' reads them all, in the shell's order.\n"
	"      --strict-snaplen    Stop at a record longer than the file's snapshot length "
	"instead\n"
	"                          of keeping it (libpcap and tshark keep it).\n"
	"\n"
	"Both\n"
	"  -f, --filter EXPR       Keep only packets matching the BPF expression (pcap-filter(7)\n"
	"                          syntax, compiled by libpcap). Words left after the options are\n"
	"                          joined into the expression, as with tcpdump. Live, the filter\n"
	"                          runs in the kernel and is attached before the socket is bound.\n"
	"                          Note: the kernel strips VLAN tags before the filter runs, so a\n"
	"                          'vlan' expression does not match live; ringcap restores the "
	"tag\n"
	"                          for decoding and output.\n"
	"  -s, --snaplen N         Keep no more than N bytes of each packet (default: 262144 "
	"live,\n"
	"                          all offline).\n"
	"      --flows FILE        Write flow records as JSON lines to FILE ('-': standard "
	"output).\n"
	"                          One object per ended flow, and every live flow at the end.\n"
	"      --flow-memcap SIZE  Memory for flow state per decoder (default 128M). When it is\n"
	"                          full the flow idle longest is ended early (end_reason "
	"\"evicted\").\n"
	"      --timeout CLASS=SEC Idle timeout of a class of flows, in seconds. Classes "
	"(defaults):\n"
	"                          tcp-attempt (30), tcp-established (300), tcp-closed (5),\n"
	"                          udp (60), icmp (60), other (60).\n"
	"      --counters FILE     Write every counter as one JSON object to FILE at the end.\n"
	"\n"
	"TCP reassembly (on with --streams or --reassemble)\n"
	"      --reassemble        Rebuild both directions of every TCP connection (counted under\n"
	"                          reasm.*; flow records gain missed_bytes).\n"
	"      --streams DIR       Write each direction to DIR/<start>-<uid>-<orig>.<port>-\n"
	"                          <resp>.<port>.orig (or .resp), as tcpflow does; bytes that "
	"were\n"
	"                          never captured are left out and listed in a .gaps side file.\n"
	"                          DIR is created if missing.\n"
	"      --no-midstream      Ignore connections picked up without their SYN (default: start\n"
	"                          at the first byte seen).\n"
	"      --overlap POLICY    Bytes sent twice with different content: first (default: keep\n"
	"                          the bytes seen first) or last (later bytes replace those not\n"
	"                          yet delivered). Either way such overlaps are counted.\n"
	"      --reasm-memcap SIZE Memory for out-of-order data per decoder (default 256M); when\n"
	"                          reached, the connection holding data longest gives up its "
	"hole.\n"
	"      --reasm-flow-max SIZE\n"
	"                          Out-of-order bytes one direction may hold (default 1M).\n"
	"      --reasm-timeout SEC Give up a hole once data has waited behind it SEC seconds of\n"
	"                          packet time (default: only at the flow's end, an ACK past it,\n"
	"                          or a bound).\n"
	"      --http FILE         HTTP/1.x on reassembled connections (any port, recognised by\n"
	"                          content): one JSON line per request, with its response, fields\n"
	"                          named as Zeek's http.log ('-': standard output).\n"
	"      --http-ports LIST   Only parse HTTP towards these server ports, e.g. 80,8080.\n"
	"      --http-bodies DIR   Also write each request body to DIR/<uid>-<trans_depth>.\n"
	"  -q, --quiet             No summary, no progress and no live view.\n"
	"      --list-counters     Print the counter reference (Markdown) and exit.\n"
	"  -h, --help              This help.\n"
	"  -V, --version           Version and libpcap version.\n"
	"\n"
	"Testing\n"
	"      --debug-decoder-delay-us N\n"
	"                          Live: decoders pause N microseconds after every batch of up to\n"
	"                          16 packets, to make them fall behind on purpose.\n"
	"\n"
	"Exit status\n"
	"  0  every input was read to its end / the capture stopped cleanly\n"
	"  1  an input could not be opened or is not a capture file ringcap reads; live: no such\n"
	"     interface, interface down, missing privileges, ring refused by the kernel\n"
	"  2  bad command line or bad filter expression\n"
	"  3  an input is damaged: ringcap stopped at the byte offset it names, after processing\n"
	"     every packet before it\n"
	"  4  an output (flow records, counters, -w or --overflow files) could not be written;\n"
	"     live, the capture went on and the summary says how many packets were not written\n"
	"  5  live: the counters did not add up at the end (a bug: please report it)\n"
	"\n"
	"Signals\n"
	"  SIGINT or SIGTERM stops reading or capturing; the rings and queues are drained, live\n"
	"  flows written and the summary printed. A second signal exits at once.\n"
	"\n"
	"Examples\n"
	"  ringcap -i eth1 --flows flows.json\n"
	"  ringcap -i eth1 --rings 4 --cpus 2-5 -f 'tcp port 80' --counters c.json\n"
	"  ringcap -r trace.pcapng -f 'tcp port 80' --flows - | jq .\n"
	"  cat spill-*.pcap | ringcap -r - --counters counters.json\n";

static volatile sig_atomic_t stop_requested;

/* Runs on the main thread only: every other thread blocks SIGINT and SIGTERM (see run_live). */
static void on_signal(int sig)
{
	int saved = errno;

	if (stop_requested) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	stop_requested = 1;
	errno = saved;
}

struct options {
	const char **files;
	int nfiles;
	const char *ifname;
	char *filter;
	const char *flows_path;
	const char *counters_path;
	uint32_t snaplen;
	int strict_snaplen;
	int quiet;
	struct rc_flow_config flow;
	struct rc_app_config app;
	const char *http_path;
	bool reasm_flow_max_set;
	uint16_t http_ports[64];
	/* live */
	int nrings, ndecoders, ncpus;
	int cpus[RC_MAX_RINGS];
	uint64_t ring_size, block_size, queue_size;
	bool copy_frames;
	uint32_t decoder_delay_us;
	uint32_t block_timeout_ms;
	enum rc_fanout_mode fanout;
	bool rollover, defrag, promisc;
	int fanout_id;			 /* -1: pick one */
	double duration, stats_interval; /* stats_interval < 0: default */
	/* pcap files (live) */
	const char *write_path;			     /* -w */
	uint64_t write_max_bytes;		     /* -C, in bytes */
	uint32_t write_rotate_secs, write_max_files; /* -G, -W */
	bool micro;				     /* --micro */
	bool no_direct_io;			     /* --no-direct-io */
	const char *overflow_dir;		     /* --overflow */
	uint64_t overflow_max_bytes;		     /* --overflow-file-size */
	uint32_t overflow_max_files;		     /* --overflow-files */
	bool overflow_opts;			     /* either of those two given */
	uint64_t write_buffer; /* --write-buffer: bytes per ring of each writer's queue; 0: auto */
	const char *stats_socket; /* NULL: the default path */
	bool no_stats_socket;
};

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	uint64_t mult = 1;
	switch (*end) {
	case 'k':
	case 'K':
		mult = 1ull << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		end++;
		break;
	case 't':
	case 'T':
		mult = 1ull << 40;
		end++;
		break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* A plain decimal number in [lo, hi] (no suffix). 0 or -1. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= 0) || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

static int parse_timeout(const char *arg, struct rc_flow_config *cfg)
{
	static const struct {
		const char *name;
		enum rc_flow_timeout id;
	} classes[] = {
		{"tcp-attempt", RC_FLOW_TO_TCP_ATTEMPT},
		{"tcp-established", RC_FLOW_TO_TCP_ESTABLISHED},
		{"tcp-closed", RC_FLOW_TO_TCP_CLOSED},
		{"udp", RC_FLOW_TO_UDP},
		{"icmp", RC_FLOW_TO_ICMP},
		{"other", RC_FLOW_TO_OTHER},
	};
	const char *eq = strchr(arg, '=');
	double sec;
	if (!eq || parse_seconds(eq + 1, &sec) < 0)
		return -1;
	for (size_t i = 0; i < RC_ARRAY_SIZE(classes); i++) {
		if (strlen(classes[i].name) == (size_t)(eq - arg) &&
		    strncmp(classes[i].name, arg, (size_t)(eq - arg)) == 0) {
			cfg->timeout_ns[classes[i].id] = (uint64_t)(sec * 1e9);
			return 0;
		}
	}
	return -1;
}

/* "0-3,6" into cpus[]; every CPU must be one this process may run on. */
static int parse_cpus(const char *s, int *cpus, int *n)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		CPU_ZERO(&allowed);
	*n = 0;
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s || a < 0)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		for (long c = a; c <= b; c++) {
			if (*n == RC_MAX_RINGS || c >= CPU_SETSIZE || !CPU_ISSET((int)c, &allowed))
				return -1;
			cpus[(*n)++] = (int)c;
		}
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return *n > 0 ? 0 : -1;
}

static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/*
 * Is this word, left after the options of a -r run, another capture file? Yes when it names an
 * existing regular file and holds a '/' or ends in .pcap, .pcapng or .cap: no filter word does.
 */
static bool names_capture_file(const char *w)
{
	static const char *const ext[] = {".pcap", ".pcapng", ".cap"};
	size_t n = strlen(w);
	bool looks = strchr(w, '/') != NULL;
	for (size_t i = 0; i < RC_ARRAY_SIZE(ext) && !looks; i++)
		looks = n > strlen(ext[i]) && strcmp(w + n - strlen(ext[i]), ext[i]) == 0;
	struct stat st;
	return looks && stat(w, &st) == 0 && S_ISREG(st.st_mode);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ringcap: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'ringcap --help' for more information.\n");
	return RC_EXIT_USAGE;
}

enum {
	OPT_FLOWS = 256,
	OPT_COUNTERS,
	OPT_FLOW_MEMCAP,
	OPT_TIMEOUT,
	OPT_STRICT_SNAPLEN,
	OPT_LIST_COUNTERS,
	OPT_RINGS,
	OPT_CPUS,
	OPT_DECODERS,
	OPT_RING_SIZE,
	OPT_BLOCK_SIZE,
	OPT_BLOCK_TIMEOUT,
	OPT_FANOUT,
	OPT_FANOUT_FLAGS,
	OPT_FANOUT_ID,
	OPT_NO_PROMISC,
	OPT_QUEUE_SIZE,
	OPT_COPY_FRAMES,
	OPT_REASSEMBLE,
	OPT_STREAMS,
	OPT_NO_MIDSTREAM,
	OPT_OVERLAP,
	OPT_REASM_MEMCAP,
	OPT_REASM_FLOW_MAX,
	OPT_REASM_TIMEOUT,
	OPT_HTTP,
	OPT_HTTP_PORTS,
	OPT_HTTP_BODIES,
	OPT_DEBUG_DECODER_DELAY,
	OPT_MICRO,
	OPT_NO_DIRECT_IO,
	OPT_OVERFLOW,
	OPT_OVERFLOW_FILE_SIZE,
	OPT_OVERFLOW_FILES,
	OPT_STATS_SOCKET,
	OPT_WRITE_BUFFER,
	OPT_NO_STATS_SOCKET,
	OPT_DURATION,
	OPT_STATS_INTERVAL,
};

static int parse_fanout(const char *s, enum rc_fanout_mode *mode)
{
	static const char *const names[] = {
		[RC_FANOUT_HASH] = "hash", [RC_FANOUT_CPU] = "cpu", [RC_FANOUT_LB] = "lb",
		[RC_FANOUT_QM] = "qm",	   [RC_FANOUT_RND] = "rnd",
	};
	for (size_t i = 0; i < RC_ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*mode = (enum rc_fanout_mode)i;
			return 0;
		}
	return -1;
}

static int parse_fanout_flags(const char *s, struct options *o)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "rollover") == 0)
			o->rollover = true;
		else if (strcmp(tok, "defrag") == 0)
			o->defrag = true;
		else
			return -1;
	}
	return 0;
}

/* Returns -1 to go on, or the exit code to leave with. */
/* "80,8080": at most 64 ports into o->http_ports. 0 or -1. */
static int parse_ports(const char *s, struct options *o)
{
	o->app.http_nports = 0;
	while (*s) {
		char *end;
		errno = 0;
		unsigned long p = strtoul(s, &end, 10);
		if (errno || end == s || p == 0 || p > 65535 || (*end && *end != ',') ||
		    o->app.http_nports == RC_ARRAY_SIZE(o->http_ports))
			return -1;
		o->http_ports[o->app.http_nports++] = (uint16_t)p;
		s = *end ? end + 1 : end;
	}
	o->app.http_ports = o->http_ports;
	return o->app.http_nports ? 0 : -1;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"read", required_argument, NULL, 'r'},
		{"interface", required_argument, NULL, 'i'},
		{"filter", required_argument, NULL, 'f'},
		{"snaplen", required_argument, NULL, 's'},
		{"strict-snaplen", no_argument, NULL, OPT_STRICT_SNAPLEN},
		{"flows", required_argument, NULL, OPT_FLOWS},
		{"flow-memcap", required_argument, NULL, OPT_FLOW_MEMCAP},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"counters", required_argument, NULL, OPT_COUNTERS},
		{"quiet", no_argument, NULL, 'q'},
		{"list-counters", no_argument, NULL, OPT_LIST_COUNTERS},
		{"rings", required_argument, NULL, OPT_RINGS},
		{"cpus", required_argument, NULL, OPT_CPUS},
		{"decoders", required_argument, NULL, OPT_DECODERS},
		{"ring-size", required_argument, NULL, OPT_RING_SIZE},
		{"block-size", required_argument, NULL, OPT_BLOCK_SIZE},
		{"block-timeout", required_argument, NULL, OPT_BLOCK_TIMEOUT},
		{"fanout", required_argument, NULL, OPT_FANOUT},
		{"fanout-flags", required_argument, NULL, OPT_FANOUT_FLAGS},
		{"fanout-id", required_argument, NULL, OPT_FANOUT_ID},
		{"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
		{"queue-size", required_argument, NULL, OPT_QUEUE_SIZE},
		{"copy-frames", no_argument, NULL, OPT_COPY_FRAMES},
		{"reassemble", no_argument, NULL, OPT_REASSEMBLE},
		{"streams", required_argument, NULL, OPT_STREAMS},
		{"no-midstream", no_argument, NULL, OPT_NO_MIDSTREAM},
		{"overlap", required_argument, NULL, OPT_OVERLAP},
		{"reasm-memcap", required_argument, NULL, OPT_REASM_MEMCAP},
		{"reasm-flow-max", required_argument, NULL, OPT_REASM_FLOW_MAX},
		{"reasm-timeout", required_argument, NULL, OPT_REASM_TIMEOUT},
		{"http", required_argument, NULL, OPT_HTTP},
		{"http-ports", required_argument, NULL, OPT_HTTP_PORTS},
		{"http-bodies", required_argument, NULL, OPT_HTTP_BODIES},
		{"debug-decoder-delay-us", required_argument, NULL, OPT_DEBUG_DECODER_DELAY},
		{"write", required_argument, NULL, 'w'},
		{"micro", no_argument, NULL, OPT_MICRO},
		{"no-direct-io", no_argument, NULL, OPT_NO_DIRECT_IO},
		{"overflow", required_argument, NULL, OPT_OVERFLOW},
		{"overflow-file-size", required_argument, NULL, OPT_OVERFLOW_FILE_SIZE},
		{"overflow-files", required_argument, NULL, OPT_OVERFLOW_FILES},
		{"stats-socket", required_argument, NULL, OPT_STATS_SOCKET},
		{"write-buffer", required_argument, NULL, OPT_WRITE_BUFFER},
		{"no-stats-socket", no_argument, NULL, OPT_NO_STATS_SOCKET},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;

	o->files = calloc((size_t)argc, sizeof(*o->files));
	if (!o->files)
		return RC_EXIT_USAGE;
	rc_flow_config_default(&o->flow);
	rc_reasm_config_default(&o->app.reasm);
	o->ring_size = 0; /* default: see live_defaults */
	o->block_size = 1u << 20;
	o->block_timeout_ms = 10;
	o->queue_size = 16u << 20;
	o->promisc = true;
	o->fanout_id = -1;
	o->stats_interval = -1;
	o->overflow_max_bytes = 100 * 1000000ull;
	while ((c = getopt_long(argc, argv, "r:i:f:s:qhVw:C:G:W:", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->files[o->nfiles++] = optarg;
			break;
		case 'i':
			o->ifname = optarg;
			break;
		case 'f':
			if (o->filter)
				return usage_error("%s", "only one filter expression may be given");
			o->filter = strdup(optarg);
			break;
		case 's':
			if (parse_size(optarg, &v) < 0 || v == 0 || v > RC_MAX_CAPLEN)
				return usage_error("bad --snaplen '%s': give 1 to 262144 bytes",
						   optarg);
			o->snaplen = (uint32_t)v;
			break;
		case OPT_STRICT_SNAPLEN:
			o->strict_snaplen = 1;
			break;
		case OPT_FLOWS:
			o->flows_path = optarg;
			break;
		case OPT_FLOW_MEMCAP:
			if (parse_size(optarg, &v) < 0)
				return usage_error("bad --flow-memcap '%s': give a size like 64M",
						   optarg);
			o->flow.memcap = v;
			break;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, &o->flow) < 0)
				return usage_error(
					"bad --timeout '%s': give CLASS=SECONDS, CLASS one of "
					"tcp-attempt, tcp-established, tcp-closed, udp, "
					"icmp, other",
					optarg);
			break;
		case OPT_COUNTERS:
			o->counters_path = optarg;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case OPT_RINGS:
			if (parse_size(optarg, &v) < 0 || v == 0 || v > 1024)
				return usage_error("bad --rings '%s': give a number of rings",
						   optarg);
			o->nrings = (int)v;
			break;
		case OPT_CPUS:
			if (parse_cpus(optarg, o->cpus, &o->ncpus) < 0)
				return usage_error(
					"bad --cpus '%s': give online CPUs this process may "
					"use, like 0-3,6",
					optarg);
			break;
		case OPT_DECODERS:
			if (parse_size(optarg, &v) < 0 || v == 0 || v > RC_MAX_DECODERS)
				return usage_error("bad --decoders '%s': give 1 to 64", optarg);
			o->ndecoders = (int)v;
			break;
		case OPT_RING_SIZE:
			if (parse_size(optarg, &o->ring_size) < 0 || o->ring_size == 0)
				return usage_error("bad --ring-size '%s': give a size like 256M",
						   optarg);
			break;
		case OPT_BLOCK_SIZE:
			if (parse_size(optarg, &o->block_size) < 0 || o->block_size == 0 ||
			    o->block_size > (1u << 30))
				return usage_error("bad --block-size '%s': give a size like 1M",
						   optarg);
			break;
		case OPT_BLOCK_TIMEOUT:
			if (parse_size(optarg, &v) < 0 || v == 0 || v > 60000)
				return usage_error("bad --block-timeout '%s': give 1 to 60000 ms",
						   optarg);
			o->block_timeout_ms = (uint32_t)v;
			break;
		case OPT_FANOUT:
			if (parse_fanout(optarg, &o->fanout) < 0)
				return usage_error(
					"bad --fanout '%s': give hash, cpu, lb, qm or rnd", optarg);
			break;
		case OPT_FANOUT_FLAGS:
			if (parse_fanout_flags(optarg, o) < 0)
				return usage_error(
					"bad --fanout-flags '%s': give rollover, defrag or "
					"both, comma-separated",
					optarg);
			break;
		case OPT_FANOUT_ID:
			if (parse_size(optarg, &v) < 0 || v > 65535)
				return usage_error("bad --fanout-id '%s': give 0 to 65535", optarg);
			o->fanout_id = (int)v;
			break;
		case OPT_NO_PROMISC:
			o->promisc = false;
			break;
		case OPT_COPY_FRAMES:
			o->copy_frames = true;
			break;
		case OPT_REASSEMBLE:
			o->app.reassemble = true;
			break;
		case OPT_STREAMS:
			o->app.streams_dir = optarg;
			break;
		case OPT_NO_MIDSTREAM:
			o->app.reasm.midstream = false;
			break;
		case OPT_OVERLAP:
			if (!strcmp(optarg, "first"))
				o->app.reasm.overlap = RC_REASM_FIRST;
			else if (!strcmp(optarg, "last"))
				o->app.reasm.overlap = RC_REASM_LAST;
			else
				return usage_error("bad --overlap '%s': give first or last",
						   optarg);
			break;
		case OPT_REASM_MEMCAP:
			if (parse_size(optarg, &v) < 0 || v < (64u << 10))
				return usage_error(
					"bad --reasm-memcap '%s': give a size of 64K or more",
					optarg);
			o->app.reasm.memcap = v;
			break;
		case OPT_HTTP:
			o->http_path = optarg;
			break;
		case OPT_HTTP_PORTS:
			if (parse_ports(optarg, o) < 0)
				return usage_error("bad --http-ports '%s': give ports 1-65535, "
						   "comma-separated",
						   optarg);
			break;
		case OPT_HTTP_BODIES:
			o->app.http_bodies_dir = optarg;
			break;
		case OPT_REASM_TIMEOUT: {
			double sec;
			if (parse_seconds(optarg, &sec) < 0 || sec <= 0 || sec > 86400)
				return usage_error(
					"bad --reasm-timeout '%s': give seconds, e.g. 30", optarg);
			o->app.reasm.timeout_ns = (uint64_t)(sec * 1e9);
			break;
		}
		case OPT_REASM_FLOW_MAX:
			if (parse_size(optarg, &v) < 0 || v < 1024 || v > (1u << 30))
				return usage_error("bad --reasm-flow-max '%s': give 1K to 1G",
						   optarg);
			o->app.reasm.dir_max = (uint32_t)v;
			o->reasm_flow_max_set = true;
			break;
		case OPT_DEBUG_DECODER_DELAY: {
			char *end;
			errno = 0;
			unsigned long us = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || us > 1000000)
				return usage_error("bad --debug-decoder-delay-us '%s': give 0 to "
						   "1000000",
						   optarg);
			o->decoder_delay_us = (uint32_t)us;
			break;
		}
		case OPT_QUEUE_SIZE:
			if (parse_size(optarg, &o->queue_size) < 0 || o->queue_size < (64u << 10))
				return usage_error("bad --queue-size '%s': give at least 64K",
						   optarg);
			break;
		case 'w':
			o->write_path = optarg;
			break;
		case 'C':
		case OPT_OVERFLOW_FILE_SIZE:
			if (parse_u64(optarg, 1, 1000000, &v) < 0)
				return usage_error(
					c == 'C' ? "bad -C '%s': give megabytes (1,000,000 "
						   "bytes), 1 to 1000000"
						 : "bad --overflow-file-size '%s': give "
						   "megabytes (1,000,000 bytes), 1 to 1000000",
					optarg);
			*(c == 'C' ? &o->write_max_bytes : &o->overflow_max_bytes) = v * 1000000u;
			o->overflow_opts |= c != 'C';
			break;
		case 'G':
			if (parse_u64(optarg, 1, 31u * 86400u, &v) < 0)
				return usage_error("bad -G '%s': give seconds, 1 to 2678400",
						   optarg);
			o->write_rotate_secs = (uint32_t)v;
			break;
		case 'W':
		case OPT_OVERFLOW_FILES:
			if (parse_u64(optarg, 1, 1000000, &v) < 0)
				return usage_error(
					c == 'W' ? "bad -W '%s': give a number of files, 1 "
						   "to 1000000"
						 : "bad --overflow-files '%s': give a number of "
						   "files, 1 to 1000000",
					optarg);
			*(c == 'W' ? &o->write_max_files : &o->overflow_max_files) = (uint32_t)v;
			o->overflow_opts |= c != 'W';
			break;
		case OPT_MICRO:
			o->micro = true;
			break;
		case OPT_NO_DIRECT_IO:
			o->no_direct_io = true;
			break;
		case OPT_OVERFLOW:
			o->overflow_dir = optarg;
			break;
		case OPT_WRITE_BUFFER:
			if (parse_size(optarg, &o->write_buffer) < 0 ||
			    o->write_buffer < (1u << 20) || o->write_buffer > (64ull << 30))
				return usage_error("bad --write-buffer '%s': give 1M to 64G",
						   optarg);
			break;
		case OPT_STATS_SOCKET:
			if (!*optarg)
				return usage_error("%s", "--stats-socket needs a path");
			o->stats_socket = optarg;
			break;
		case OPT_NO_STATS_SOCKET:
			o->no_stats_socket = true;
			break;
		case OPT_DURATION:
			if (parse_seconds(optarg, &o->duration) < 0)
				return usage_error("bad --duration '%s': give seconds", optarg);
			break;
		case OPT_STATS_INTERVAL:
			if (parse_seconds(optarg, &o->stats_interval) < 0)
				return usage_error("bad --stats-interval '%s': give seconds",
						   optarg);
			break;
		case OPT_LIST_COUNTERS:
			rc_ctrs_write_doc(stdout);
			return RC_EXIT_OK;
		case 'h':
			fputs(usage_text, stdout);
			return RC_EXIT_OK;
		case 'V':
			printf("ringcap %s (%s)\n", RINGCAP_VERSION, pcap_lib_version());
			return RC_EXIT_OK;
		default:
			fprintf(stderr, "Try 'ringcap --help' for more information.\n");
			return RC_EXIT_USAGE;
		}
	}
	/* -r with a shell glob: the further names are inputs, not filter words */
	while (o->nfiles > 0 && optind < argc && names_capture_file(argv[optind]))
		o->files[o->nfiles++] = argv[optind++];
	if (optind < argc) {
		if (o->filter)
			return usage_error("filter given twice: with -f and as words ('%s' ...)",
					   argv[optind]);
		o->filter = join_args(argc - optind, argv + optind);
	}
	if (o->nfiles == 0 && !o->ifname)
		return usage_error("%s", "no input: give an interface with -i IFACE or a capture "
					 "file with -r FILE");
	if (o->nfiles > 0 && o->ifname)
		return usage_error("%s", "give either -i (live) or -r (files), not both");
	if (!o->write_path && (o->write_max_bytes || o->write_rotate_secs || o->write_max_files))
		return usage_error("%s needs -w FILE (the files to rotate)",
				   o->write_max_bytes	  ? "-C"
				   : o->write_rotate_secs ? "-G"
							  : "-W");
	if (!o->overflow_dir && o->overflow_opts)
		return usage_error("%s go with --overflow DIR",
				   "--overflow-file-size and --overflow-files");
	if (o->stats_socket && o->no_stats_socket)
		return usage_error("%s", "give --stats-socket PATH or --no-stats-socket, not both");
	if (!o->ifname && (o->stats_socket || o->no_stats_socket))
		return usage_error("%s", "the stats socket is for live capture (-i IFACE)");
	if (o->write_buffer && !o->write_path && !o->overflow_dir)
		return usage_error("%s", "--write-buffer goes with -w FILE or --overflow DIR");
	if (o->no_direct_io && !o->write_path && !o->overflow_dir)
		return usage_error("%s", "--no-direct-io goes with -w FILE or --overflow DIR");
	if (!o->ifname && (o->write_path || o->overflow_dir || o->micro))
		return usage_error("%s: writing pcap files is for live capture (-i IFACE)",
				   o->write_path     ? "-w"
				   : o->overflow_dir ? "--overflow"
						     : "--micro");
	if (!o->http_path && (o->app.http_bodies_dir || o->app.http_nports))
		return usage_error("%s needs --http FILE (the requests the bodies and ports belong "
				   "to)",
				   o->app.http_bodies_dir ? "--http-bodies" : "--http-ports");
	if (o->app.reasm.memcap < o->app.reasm.dir_max) {
		if (o->reasm_flow_max_set)
			return usage_error(
				"--reasm-flow-max is larger than --reasm-memcap%s: a direction "
				"could never hold that much",
				"");
		o->app.reasm.dir_max = (uint32_t)o->app.reasm.memcap; /* the cap bounds it anyway */
	}
	return -1;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void progress_line(void *arg, const struct rc_ctrs *src)
{
	const uint64_t *start = arg;
	double sec = (double)(monotonic_ns() - *start) / 1e9;
	uint64_t pkts = rc_ctr_get(src, RC_CTR_READ_PACKETS);
	fprintf(stderr, "\rringcap: %" PRIu64 " packets, %.1f s, %.2f Mpps ", pkts, sec,
		sec > 0 ? (double)pkts / sec / 1e6 : 0.0);
}

/* Counters as one JSON object; `extra` (may be NULL) writes more members after them. */
static int write_counters(const char *path, const struct rc_ctrs *t,
			  void (*extra)(FILE *f, const void *arg), const void *arg)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (!f) {
		fprintf(stderr, "ringcap: cannot write counters to %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	fputc('{', f);
	rc_report_json_counters(f, t);
	if (extra)
		extra(f, arg);
	fputs("}\n", f);
	int bad = ferror(f);
	bad |= (f == stdout ? fflush(f) : fclose(f)) != 0;
	if (bad) {
		fprintf(stderr, "ringcap: writing counters to %s failed: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Open the flow record output; NULL with *rc set on failure, NULL with *rc 0 when none. */
static FILE *open_flows(const struct options *o, int *rc)
{
	static char buf[1 << 20];
	*rc = 0;
	if (!o->flows_path)
		return NULL;
	FILE *f = strcmp(o->flows_path, "-") == 0 ? stdout : fopen(o->flows_path, "w");
	if (!f) {
		fprintf(stderr, "ringcap: cannot write flow records to %s: %s\n", o->flows_path,
			strerror(errno));
		*rc = RC_EXIT_OUTPUT;
		return NULL;
	}
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	return f;
}

/* Close the flow output; returns RC_EXIT_OUTPUT when anything failed to be written. */
static int close_flows(const struct options *o, FILE *f, int write_errno)
{
	if (!f)
		return RC_EXIT_OK;
	bool bad = write_errno || ferror(f) || (f == stdout ? fflush(f) : fclose(f)) != 0;
	if (!bad)
		return RC_EXIT_OK;
	fprintf(stderr, "ringcap: writing flow records to %s failed: %s\n", o->flows_path,
		strerror(write_errno ? write_errno : errno));
	return RC_EXIT_OUTPUT;
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int run_offline(struct options *o, struct rc_filter *filter)
{
	int rc;
	struct rc_record_sink sink = {0};
	sink.out = open_flows(o, &rc);
	if (rc)
		return rc;

	static struct rc_worker worker;
	static struct rc_ctrs src;
	sink.ctrs = &src;
	int err = rc_worker_init(&worker, &o->flow, rc_record_sink_emit, &sink);
	if (err < 0) {
		fprintf(stderr,
			"ringcap: cannot set up the flow table (--flow-memcap %" PRIu64 "): %s\n",
			o->flow.memcap, strerror(-err));
		close_flows(o, sink.out, 0);
		return RC_EXIT_USAGE;
	}
	err = rc_worker_enable_app(&worker, &o->app);
	if (err < 0) {
		fprintf(stderr, "ringcap: cannot set up TCP reassembly: %s\n", strerror(-err));
		close_flows(o, sink.out, 0);
		return RC_EXIT_USAGE;
	}
	install_signals();

	uint64_t start = monotonic_ns();
	struct rc_offline off = {
		.files = o->files,
		.nfiles = o->nfiles,
		.reader = {.strict_snaplen = o->strict_snaplen},
		.filter = filter,
		.snaplen = o->snaplen,
		.stop = &stop_requested,
		.progress = (!o->quiet && isatty(STDERR_FILENO)) ? progress_line : NULL,
		.progress_arg = &start,
	};
	rc = rc_offline_run(&off, &worker, &src);
	rc_worker_finish(&worker);
	uint64_t elapsed = monotonic_ns() - start;
	if (off.progress)
		fputc('\n', stderr);

	struct rc_ctrs total = {0};
	rc_ctrs_sum(&total, &src);
	rc_ctrs_sum(&total, &worker.ctrs);
	uint64_t pkts = total.v[RC_CTR_READ_PACKETS], bytes = total.v[RC_CTR_READ_BYTES];
	if (stop_requested)
		fprintf(stderr, "ringcap: interrupted: stopped reading early\n");
	/* A run that failed before any packet (missing file, bad filter) gets its message only. */
	bool failed_early = (rc == RC_EXIT_OPEN || rc == RC_EXIT_USAGE) && pkts == 0;
	if (!o->quiet && !failed_early) {
		double sec = (double)elapsed / 1e9;
		char formats[64] = "";
		for (int i = 0; i < 4 && off.formats[i]; i++)
			snprintf(formats + strlen(formats), sizeof(formats) - strlen(formats),
				 "%s%s", i ? "+" : "", off.formats[i]);
		fprintf(stderr,
			"ringcap: %d file%s (%s), %" PRIu64 " packets, %" PRIu64
			" bytes in %.3f s: "
			"%.3f Mpps, %.3f Gbit/s\n",
			o->nfiles, o->nfiles == 1 ? "" : "s", formats[0] ? formats : "none", pkts,
			bytes, sec, sec > 0 ? (double)pkts / sec / 1e6 : 0.0,
			sec > 0 ? (double)bytes * 8 / sec / 1e9 : 0.0);
		rc_report_body(stderr, &total, &sink, o->filter);
		fprintf(stderr,
			"  accounting: read %" PRIu64 " = filtered out %" PRIu64
			" + decoded %" PRIu64 ": %s\n",
			pkts, total.v[RC_CTR_FILTER_REJECTED], total.v[RC_CTR_DECODE_PACKETS],
			total.v[RC_CTR_FILTER_REJECTED] + total.v[RC_CTR_DECODE_PACKETS] == pkts
				? "ok"
				: "MISMATCH");
	}
	/* The offline accounting invariant: every packet read is filtered out or decoded. */
	RC_ASSERT(total.v[RC_CTR_FILTER_REJECTED] + total.v[RC_CTR_DECODE_PACKETS] == pkts);
	if (o->counters_path && write_counters(o->counters_path, &total, NULL, NULL) < 0 &&
	    rc < RC_EXIT_OUTPUT)
		rc = RC_EXIT_OUTPUT;
	rc_worker_destroy(&worker);
	int out_rc = close_flows(o, sink.out, sink.write_errno);
	return out_rc ? out_rc : rc;
}

/* The live extras of the counters JSON: the interface drops and per-ring/per-decoder detail. */
static void live_json(FILE *f, const void *arg)
{
	const struct rc_live *l = arg;
	int64_t ifd = rc_live_ifdropped(l);
	if (ifd < 0)
		fputs(",\"pcap.ifdropped\":null", f);
	else
		fprintf(f, ",\"pcap.ifdropped\":%" PRId64, ifd);
	fputs(",\"rings\":[", f);
	for (int i = 0; i < rc_live_nrings(l); i++) {
		const struct rc_ctrs *c = rc_live_ring_ctrs(l, i);
		fprintf(f,
			"%s{\"packets\":%" PRIu64 ",\"drops\":%" PRIu64 ",\"freeze_q_cnt\":%" PRIu64
			",\"walked\":%" PRIu64 ",\"queue_full\":%" PRIu64 "}",
			i ? "," : "", rc_ctr_get(c, RC_CTR_PCAP_RECEIVED),
			rc_ctr_get(c, RC_CTR_PCAP_DROPPED), rc_ctr_get(c, RC_CTR_CAPTURE_FREEZE_Q),
			rc_ctr_get(c, RC_CTR_CAPTURE_PACKETS), rc_ctr_get(c, RC_CTR_QUEUE_FULL));
	}
	fputs("],\"queues\":[", f);
	for (int r = 0, n = 0; r < rc_live_nrings(l); r++)
		for (int d = 0; d < rc_live_ndecoders(l); d++, n++) {
			uint64_t enq, full;
			size_t used, cap;
			rc_live_queue_stats(l, r, d, &enq, &full, &used, &cap);
			fprintf(f,
				"%s{\"ring\":%d,\"decoder\":%d,\"enqueued\":%" PRIu64
				",\"full\":%" PRIu64 ",\"used_bytes\":%zu,\"capacity_bytes\":%zu}",
				n ? "," : "", r, d, enq, full, used, cap);
		}
	fputs("],\"decoders\":[", f);
	for (int i = 0; i < rc_live_ndecoders(l); i++) {
		const struct rc_ctrs *c = rc_live_decoder_ctrs(l, i);
		fprintf(f, "%s{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", i ? "," : "",
			rc_ctr_get(c, RC_CTR_DECODE_PACKETS), rc_ctr_get(c, RC_CTR_DECODER_BYTES));
	}
	fputc(']', f);
}

static void live_totals(const struct rc_live *l, struct rc_pcapw *const w[2], struct rc_ctrs *t);

static void live_line(const struct rc_live *l, struct rc_pcapw *const w[2], struct rc_ctrs *prev,
		      double dt)
{
	struct rc_ctrs now = {0};
	live_totals(l, w, &now);
	uint64_t pk = now.v[RC_CTR_CAPTURE_PACKETS] - prev->v[RC_CTR_CAPTURE_PACKETS];
	uint64_t by = now.v[RC_CTR_CAPTURE_BYTES] - prev->v[RC_CTR_CAPTURE_BYTES];
	uint64_t dr = now.v[RC_CTR_PCAP_DROPPED] - prev->v[RC_CTR_PCAP_DROPPED];
	uint64_t qf = now.v[RC_CTR_QUEUE_FULL] - prev->v[RC_CTR_QUEUE_FULL];
	fprintf(stderr,
		"ringcap: %9.0f pps %9.1f Mbit/s | received %" PRIu64 " dropped %" PRIu64
		" (+%" PRIu64 "/s) queue full %" PRIu64 " (+%" PRIu64 "/s) | flows %" PRIu64 "\n",
		(double)pk / dt, (double)by * 8 / dt / 1e6, now.v[RC_CTR_PCAP_RECEIVED],
		now.v[RC_CTR_PCAP_DROPPED], (uint64_t)((double)dr / dt), now.v[RC_CTR_QUEUE_FULL],
		(uint64_t)((double)qf / dt), now.v[RC_CTR_FLOW_ACTIVE]);
	if (w[0])
		fprintf(stderr,
			"ringcap:   -w %" PRIu64 " packets, %" PRIu64
			" files, writer behind %" PRIu64 ", write errors %" PRIu64 "\n",
			now.v[RC_CTR_DISK_PACKETS], now.v[RC_CTR_DISK_FILES],
			now.v[RC_CTR_DISK_FULL_QUEUE], now.v[RC_CTR_DISK_ERRORS]);
	if (w[1])
		fprintf(stderr,
			"ringcap:   overflow spilled %" PRIu64 " (+%" PRIu64 "/s), lost %" PRIu64
			", files %" PRIu64 "\n",
			now.v[RC_CTR_OVERFLOW_SPILLED],
			(uint64_t)((double)(now.v[RC_CTR_OVERFLOW_SPILLED] -
					    prev->v[RC_CTR_OVERFLOW_SPILLED]) /
				   dt),
			now.v[RC_CTR_OVERFLOW_LOST], now.v[RC_CTR_OVERFLOW_FILES]);
	*prev = now;
}

/* The folder of option opt: create it if missing; it must be a directory we can write.
 * -1: go on; else RC_EXIT_OUTPUT, said on stderr. */
static int prepare_dir(const char *dir, const char *opt)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "ringcap: cannot create the %s directory '%s': %s\n", opt, dir,
			strerror(errno));
		return RC_EXIT_OUTPUT;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "ringcap: %s '%s' is not a directory\n", opt, dir);
		return RC_EXIT_OUTPUT;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		fprintf(stderr, "ringcap: cannot write in the %s directory '%s': %s\n", opt, dir,
			strerror(errno));
		return RC_EXIT_OUTPUT;
	}
	return -1;
}

/* --http FILE: opened before the run (so a bad path fails at once). -1: go on. */
static int open_http(struct options *o)
{
	static char buf[1 << 20];
	if (!o->http_path)
		return -1;
	if (o->app.http_bodies_dir && prepare_dir(o->app.http_bodies_dir, "--http-bodies") >= 0)
		return RC_EXIT_OUTPUT;
	FILE *f = strcmp(o->http_path, "-") == 0 ? stdout : fopen(o->http_path, "w");
	if (!f) {
		fprintf(stderr, "ringcap: cannot write HTTP records to %s: %s\n", o->http_path,
			strerror(errno));
		return RC_EXIT_OUTPUT;
	}
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	o->app.http_out = f;
	return -1;
}

static int close_http(struct options *o)
{
	FILE *f = o->app.http_out;
	if (!f)
		return RC_EXIT_OK;
	o->app.http_out = NULL;
	bool bad = ferror(f) || (f == stdout ? fflush(f) : fclose(f)) != 0;
	if (!bad)
		return RC_EXIT_OK;
	fprintf(stderr, "ringcap: writing HTTP records to %s failed: %s\n", o->http_path,
		strerror(errno));
	return RC_EXIT_OUTPUT;
}

/* --streams DIR: create it if missing; it must be a directory we can write. -1: go on. */
static int prepare_streams_dir(const struct options *o)
{
	return o->app.streams_dir ? prepare_dir(o->app.streams_dir, "--streams") : -1;
}

static int live_defaults(struct options *o)
{
	if (o->ncpus == 0) {
		cpu_set_t set;
		if (sched_getaffinity(0, sizeof(set), &set) < 0)
			return usage_error("cannot read the CPUs this process may use: %s",
					   strerror(errno));
		for (int c = 0; c < CPU_SETSIZE && o->ncpus < RC_MAX_RINGS; c++)
			if (CPU_ISSET(c, &set))
				o->cpus[o->ncpus++] = c;
	}
	if (o->nrings == 0)
		o->nrings = o->ncpus;
	if (o->nrings > o->ncpus) {
		fprintf(stderr,
			"ringcap: --rings %d but only %d CPU%s available for capture threads: give "
			"fewer rings, or more CPUs with --cpus\n",
			o->nrings, o->ncpus, o->ncpus == 1 ? " is" : "s are");
		return RC_EXIT_USAGE;
	}
	if (o->ndecoders == 0)
		o->ndecoders = o->nrings;
	if (o->ring_size == 0) {
		/* 256 MiB per ring rides out a burst or a softirq storm of ~170 ms at 1 Mpps of
		 * full frames; past 8 rings the 2 GiB is shared, never under 64 MiB a ring. */
		uint64_t per = (2048ull << 20) / (uint64_t)o->nrings;
		per = per > (256ull << 20) ? 256ull << 20 : per < (64ull << 20) ? 64ull << 20 : per;
		o->ring_size = per / o->block_size * o->block_size;
		if (o->ring_size < o->block_size)
			o->ring_size = o->block_size;
	}
	if (o->fanout_id < 0)
		o->fanout_id = rc_ring_fanout_id_unique();
	if (o->stats_interval < 0)
		o->stats_interval = (!o->quiet && isatty(STDERR_FILENO)) ? 1 : 0;
	return -1;
}

/* The link type of IFACE's frames as the rings will see them (see rc_ring_linktype). */
static uint32_t iface_linktype(const char *ifname)
{
	char path[300];
	unsigned type = 1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/type", ifname);
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%u", &type) != 1)
			type = 1;
		fclose(f);
	}
	return type == 65534 || type == 519 ? RC_LINK_RAW : RC_LINK_EN10MB; /* NONE, RAWIP */
}

/*
 * Bytes of each ring's queue into a writer: --write-buffer, else 256 MiB (2 GiB shared past 8
 * rings, never under 64 MiB), as tcpdump -B 262144 holds: the disk pauses while the kernel writes
 * back dirty pages, and the queue must ride that out at full speed.
 */
static size_t write_buffer_bytes(const struct options *o)
{
	if (o->write_buffer)
		return (size_t)o->write_buffer;
	uint64_t per = (2048ull << 20) / (uint64_t)o->nrings;
	return (size_t)(per > (256ull << 20)  ? 256ull << 20
			: per < (64ull << 20) ? 64ull << 20
					      : per);
}

/* -w and --overflow writers, opened before the rings so a bad path fails at start. -1: go on. */
static int open_writers(const struct options *o, struct rc_pcapw **disk, struct rc_pcapw **overflow)
{
	char err[512], path[4200];
	struct rc_pcapw_config cfg = {
		.linktype = iface_linktype(o->ifname),
		.snaplen = o->snaplen ? o->snaplen : RC_MAX_CAPLEN,
		.micro = o->micro,
		.buffered = o->no_direct_io,
		.nproducers = o->nrings,
		.queue_bytes = write_buffer_bytes(o),
	};
	*disk = *overflow = NULL;
	if (o->write_path) {
		cfg.path = o->write_path;
		cfg.what = "-w";
		cfg.max_bytes = o->write_max_bytes;
		cfg.rotate_secs = o->write_rotate_secs;
		cfg.max_files = o->write_max_files;
		if (rc_pcapw_open(disk, &cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "ringcap: %s\n", err);
			return RC_EXIT_OUTPUT;
		}
	}
	if (o->overflow_dir) {
		int rc = prepare_dir(o->overflow_dir, "--overflow");
		if (rc >= 0) {
			rc_pcapw_close(*disk, NULL);
			*disk = NULL;
			return rc;
		}
		snprintf(path, sizeof(path), "%s/overflow-%%Y%%m%%d-%%H%%M%%S.pcap",
			 o->overflow_dir);
		cfg.path = path;
		cfg.what = "--overflow";
		cfg.max_bytes = o->overflow_max_bytes;
		cfg.rotate_secs = 0;
		cfg.max_files = o->overflow_max_files;
		cfg.micro = false;
		if (rc_pcapw_open(overflow, &cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "ringcap: %s\n", err);
			rc_pcapw_close(*disk, NULL);
			*disk = NULL;
			return RC_EXIT_OUTPUT;
		}
	}
	return -1;
}

/* Add a writer's counts to a counter total, as the disk.* or overflow.* counters. */
static void fold_writer(struct rc_ctrs *t, const struct rc_pcapw_stats *st, bool overflow)
{
	if (overflow) {
		t->v[RC_CTR_OVERFLOW_SPILLED] += st->packets;
		t->v[RC_CTR_OVERFLOW_BYTES] += st->bytes;
		t->v[RC_CTR_OVERFLOW_FILES] += st->files;
		t->v[RC_CTR_OVERFLOW_LOST] += st->lost;
		t->v[RC_CTR_OVERFLOW_ERRORS] += st->errors;
	} else {
		t->v[RC_CTR_DISK_PACKETS] += st->packets;
		t->v[RC_CTR_DISK_BYTES] += st->bytes;
		t->v[RC_CTR_DISK_FILES] += st->files;
		t->v[RC_CTR_DISK_LOST] += st->lost;
		t->v[RC_CTR_DISK_ERRORS] += st->errors;
	}
}

/* jemalloc's control interface, when the allocator is jemalloc (release builds). */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
	__attribute__((weak));

/* The allocator's gauges: mem.allocated and mem.resident (0 without jemalloc). */
static void memory_gauges(struct rc_ctrs *t)
{
	uint64_t epoch = 1;
	size_t v = 0, len = sizeof(v), elen = sizeof(epoch);
	if (!mallctl || mallctl("epoch", &epoch, &elen, &epoch, sizeof(epoch)) != 0)
		return;
	if (mallctl("stats.allocated", &v, &len, NULL, 0) == 0)
		t->v[RC_CTR_MEM_ALLOCATED] = v;
	len = sizeof(v);
	if (mallctl("stats.resident", &v, &len, NULL, 0) == 0)
		t->v[RC_CTR_MEM_RESIDENT] = v;
}

/* Every counter of a live run now: threads, writers, queue depth, allocator. */
static void live_totals(const struct rc_live *l, struct rc_pcapw *const w[2], struct rc_ctrs *t)
{
	rc_live_totals(l, t);
	for (int r = 0; r < rc_live_nrings(l); r++)
		for (int d = 0; d < rc_live_ndecoders(l); d++) {
			uint64_t enq, full;
			size_t used, cap;
			rc_live_queue_stats(l, r, d, &enq, &full, &used, &cap);
			t->v[RC_CTR_QUEUE_DEPTH] += used;
		}
	memory_gauges(t);
	for (int i = 0; i < 2; i++)
		if (w[i]) {
			struct rc_pcapw_stats st;
			rc_pcapw_stats(w[i], &st);
			fold_writer(t, &st, i == 1);
		}
}

/* What the stats socket reads: the engine once it runs (published by the control thread). */
struct stats_ctx {
	struct rc_live *live; /* atomic: NULL until the rings are up */
	struct rc_pcapw *const *writers;
	char *filter; /* the expression in force; the stats thread's alone once it runs */
	uint32_t snaplen;
};

static struct rc_live *stats_live(void *arg)
{
	struct stats_ctx *c = arg;
	return __atomic_load_n(&c->live, __ATOMIC_ACQUIRE);
}

static void stats_totals(void *arg, struct rc_ctrs *out)
{
	struct rc_live *l = stats_live(arg);
	if (l)
		live_totals(l, ((struct stats_ctx *)arg)->writers, out);
}

static void stats_detail(void *arg, FILE *f)
{
	struct rc_live *l = stats_live(arg);
	if (l)
		live_json(f, l);
}

static void stats_pcap(void *arg, uint64_t *recv, uint64_t *drop, int64_t *ifdrop)
{
	struct rc_live *l = stats_live(arg);
	struct rc_ctrs t = {0};
	*ifdrop = -1;
	if (l) {
		rc_live_totals(l, &t);
		*ifdrop = rc_live_ifdropped(l);
	}
	*recv = t.v[RC_CTR_PCAP_RECEIVED];
	*drop = t.v[RC_CTR_PCAP_DROPPED];
}

static void stats_flows(void *arg, unsigned n, FILE *f)
{
	struct rc_live *l = stats_live(arg);
	if (l)
		rc_live_flows(l, n, f);
	else
		fputs("[]", f);
}

static int stats_set_filter(void *arg, const char *expr, char *err, size_t errlen)
{
	struct stats_ctx *c = arg;
	struct rc_live *l = stats_live(arg);
	struct rc_filter *f = NULL;
	if (!l) {
		snprintf(err, errlen, "the capture is not running yet");
		return -1;
	}
	char *copy = strdup(expr);
	if (!copy || rc_filter_new(&f, expr, c->snaplen) < 0) {
		free(copy);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = rc_live_set_filter(l, f, err, errlen);
	rc_filter_free(f); /* the kernel holds its own copy of the program */
	if (rc < 0) {
		free(copy);
		return -1;
	}
	free(c->filter);
	c->filter = copy;
	return 0;
}

static const char *stats_get_filter(void *arg)
{
	return ((struct stats_ctx *)arg)->filter;
}

/* Start the stats socket: -1 go on (*out may stay NULL: none), else an exit status. */
static int start_stats(const struct options *o, struct stats_ctx *ctx, struct rc_statsd **out)
{
	static const struct rc_statsd_ops ops_template = {
		.totals = stats_totals,
		.detail = stats_detail,
		.pcap_stats = stats_pcap,
		.flows = stats_flows,
		.set_filter = stats_set_filter,
		.get_filter = stats_get_filter,
	};
	*out = NULL;
	if (o->no_stats_socket)
		return -1;
	struct rc_statsd_ops ops = ops_template;
	ops.arg = ctx;
	struct rc_statsd_config cfg = {
		.path = o->stats_socket ? o->stats_socket : RC_STATSD_DEFAULT_PATH,
	};
	char err[512];
	if (rc_statsd_start(out, &cfg, &ops, err, sizeof(err)) == 0)
		return -1;
	*out = NULL;
	if (o->stats_socket) {
		fprintf(stderr, "ringcap: --stats-socket: %s\n", err);
		return RC_EXIT_OPEN;
	}
	/* The default path is a convenience: without it the capture still runs. */
	fprintf(stderr, "ringcap: warning: no stats socket: %s\n", err);
	return -1;
}

static int run_live(struct options *o, struct rc_filter *filter)
{
	int rc = live_defaults(o);
	if (rc >= 0)
		return rc;
	/*
	 * Every thread started from here on (writers, stats server, capture threads, decoders, and
	 * the threads liburcu starts for them) inherits a mask that blocks SIGINT and SIGTERM, so
	 * the handler runs on this thread alone; this thread unblocks them once the engine runs (a
	 * signal that came meanwhile is delivered then). The early returns below end the process.
	 */
	sigset_t stop_signals, old_mask;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
	struct rc_pcapw *writers[2]; /* -w, --overflow */
	rc = open_writers(o, &writers[0], &writers[1]);
	if (rc >= 0)
		return rc;
	struct stats_ctx sctx = {
		.writers = writers,
		.filter = o->filter ? strdup(o->filter) : NULL,
		.snaplen = o->snaplen ? o->snaplen : RC_MAX_CAPLEN,
	};
	struct rc_statsd *statsd;
	rc = start_stats(o, &sctx, &statsd);
	if (rc >= 0) {
		rc_pcapw_close(writers[0], NULL);
		rc_pcapw_close(writers[1], NULL);
		free(sctx.filter);
		return rc;
	}
	FILE *flows = open_flows(o, &rc);
	if (rc) {
		rc_statsd_stop(statsd);
		free(sctx.filter);
		rc_pcapw_close(writers[0], NULL);
		rc_pcapw_close(writers[1], NULL);
		return rc;
	}

	struct rc_live_config cfg = {
		.nrings = o->nrings,
		.ndecoders = o->ndecoders,
		.ring =
			{
				.ifname = o->ifname,
				.ring_bytes = o->ring_size,
				.block_bytes = (uint32_t)o->block_size,
				.block_timeout_ms = o->block_timeout_ms,
				.snaplen = o->snaplen ? o->snaplen : RC_MAX_CAPLEN,
				.promisc = o->promisc,
				.fanout = o->fanout,
				.fanout_rollover = o->rollover,
				.fanout_defrag = o->defrag,
				.fanout_id = (uint16_t)o->fanout_id,
			},
		.filter = filter,
		.queue_bytes = o->queue_size,
		.copy_frames = o->copy_frames,
		.decoder_delay_us = o->decoder_delay_us,
		.flow = o->flow,
		.app = o->app,
		.flows_out = flows,
		.disk = writers[0],
		.overflow = writers[1],
		.flow_views = statsd != NULL,
	};
	memcpy(cfg.cpus, o->cpus, sizeof(cfg.cpus));

	install_signals();
	char err[512];
	struct rc_live *l;
	int e = rc_live_start(&l, &cfg, err, sizeof(err));
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (e < 0) {
		fprintf(stderr, "ringcap: %s\n", err);
		close_flows(o, flows, 0);
		rc_statsd_stop(statsd);
		free(sctx.filter);
		rc_pcapw_close(writers[0], NULL);
		rc_pcapw_close(writers[1], NULL);
		return e == -EINVAL && filter && rc_filter_last_error(filter) ? RC_EXIT_USAGE
									      : RC_EXIT_OPEN;
	}
	__atomic_store_n(&sctx.live, l, __ATOMIC_RELEASE);
	/* The ready line: every ring is bound; tests and scripts wait for it. */
	fprintf(stderr, "ringcap: capturing on %s: %d ring%s (%s), %d decoder%s%s%s\n", o->ifname,
		o->nrings, o->nrings == 1 ? "" : "s", rc_live_describe(l), o->ndecoders,
		o->ndecoders == 1 ? "" : "s", filter ? ", filter " : "", filter ? o->filter : "");

	uint64_t start = monotonic_ns(), last_line = start;
	struct rc_ctrs prev = {0};
	int reported_error = 0;
	while (!stop_requested) {
		struct timespec tick = {0, 20 * 1000000};
		nanosleep(&tick, NULL);
		uint64_t now = monotonic_ns();
		int sock_err = rc_live_last_error(l);
		if (sock_err && sock_err != reported_error) {
			fprintf(stderr,
				"ringcap: warning: %s: %s (capture goes on when it recovers)\n",
				o->ifname, strerror(sock_err));
			reported_error = sock_err;
		}
		if (o->duration > 0 && (double)(now - start) / 1e9 >= o->duration)
			break;
		if (o->stats_interval > 0 && (double)(now - last_line) / 1e9 >= o->stats_interval) {
			live_line(l, writers, &prev, (double)(now - last_line) / 1e9);
			last_line = now;
		}
	}
	rc_statsd_stop(statsd); /* no reader of the engine is left: it may stop and be freed */
	free(sctx.filter);
	rc_live_stop(l);
	/* Producers are joined: the writers write what is queued and close their last files. */
	struct rc_pcapw_stats wst[2] = {0};
	for (int i = 0; i < 2; i++) {
		rc_pcapw_close(writers[i], &wst[i]);
		writers[i] = NULL;
	}
	uint64_t elapsed = monotonic_ns() - start;

	struct rc_ctrs total = {0};
	rc_live_totals(l, &total);
	fold_writer(&total, &wst[0], false);
	fold_writer(&total, &wst[1], true);
	struct rc_record_sink flows_all = {0};
	for (int i = 0; i < rc_live_ndecoders(l); i++)
		rc_report_add_sink(&flows_all, rc_live_decoder_sink(l, i));

	uint64_t recv = total.v[RC_CTR_PCAP_RECEIVED], drop = total.v[RC_CTR_PCAP_DROPPED];
	uint64_t decoded = total.v[RC_CTR_DECODE_PACKETS], full = total.v[RC_CTR_QUEUE_FULL];
	uint64_t spilled = total.v[RC_CTR_OVERFLOW_SPILLED],
		 spill_lost = total.v[RC_CTR_OVERFLOW_LOST];
	bool adds_up = recv - drop == decoded + spilled + full + spill_lost && recv >= drop;
	int64_t ifd = rc_live_ifdropped(l);
	if (!o->quiet) {
		double sec = (double)elapsed / 1e9;
		fprintf(stderr, "\nringcap: %" PRIu64 " packets captured in %.3f s on %s\n",
			total.v[RC_CTR_CAPTURE_PACKETS], sec, o->ifname);
		fprintf(stderr, "%" PRIu64 " packets received by filter\n", recv);
		fprintf(stderr, "%" PRIu64 " packets dropped by kernel\n", drop);
		if (ifd < 0)
			fprintf(stderr, "unavailable packets dropped by interface\n");
		else
			fprintf(stderr, "%" PRId64 " packets dropped by interface\n", ifd);
		rc_report_body(stderr, &total, &flows_all, o->filter);
		fprintf(stderr,
			"  accounting: kernel received %" PRIu64 " - kernel dropped %" PRIu64
			" = decoded %" PRIu64 " + spilled %" PRIu64 " + lost %" PRIu64
			" (queue full %" PRIu64 ", spill failed %" PRIu64 "): %s\n",
			recv, drop, decoded, spilled, full + spill_lost, full, spill_lost,
			adds_up ? "ok" : "MISMATCH");
		if (o->write_path)
			fprintf(stderr,
				"  -w: %" PRIu64 " packets in %" PRIu64 " file%s, %" PRIu64
				" not written (writer behind %" PRIu64 ", write failed %" PRIu64
				")\n",
				wst[0].packets, wst[0].files, wst[0].files == 1 ? "" : "s",
				total.v[RC_CTR_DISK_FULL_QUEUE] + wst[0].lost,
				total.v[RC_CTR_DISK_FULL_QUEUE], wst[0].lost);
		if (o->overflow_dir)
			fprintf(stderr,
				"  --overflow: %" PRIu64 " packets spilled to %" PRIu64
				" file%s in %s (read them with ringcap -r)\n",
				spilled, wst[1].files, wst[1].files == 1 ? "" : "s",
				o->overflow_dir);
	}
	for (int i = 0; i < 2; i++)
		if (wst[i].errors)
			fprintf(stderr,
				"ringcap: %s: %" PRIu64 " write error%s, %" PRIu64
				" packets not written (last: %s)\n",
				i ? "--overflow" : "-w", wst[i].errors,
				wst[i].errors == 1 ? "" : "s", wst[i].lost,
				strerror(wst[i].last_errno));
	rc = RC_EXIT_OK;
	if (o->counters_path && write_counters(o->counters_path, &total, live_json, l) < 0)
		rc = RC_EXIT_OUTPUT;
	int out_rc = close_flows(o, flows, flows_all.write_errno);
	rc_live_free(l);
	if (out_rc)
		rc = out_rc;
	if (wst[0].errors || wst[1].errors)
		rc = RC_EXIT_OUTPUT;
	if (!adds_up) {
		fprintf(stderr, "ringcap: the counters do not add up (see the accounting line)\n");
		rc = 5;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	int rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		goto out;

	struct rc_filter *filter = NULL;
	if (o.filter && rc_filter_new(&filter, o.filter,
				      o.ifname && !o.snaplen ? RC_MAX_CAPLEN : o.snaplen) < 0) {
		fprintf(stderr, "ringcap: out of memory\n");
		rc = RC_EXIT_OPEN;
		goto out;
	}
	rc = prepare_streams_dir(&o);
	if (rc < 0)
		rc = open_http(&o);
	if (rc < 0) {
		rc = o.ifname ? run_live(&o, filter) : run_offline(&o, filter);
		int hrc = close_http(&o);
		if (hrc > rc)
			rc = hrc;
	}
	rc_filter_free(filter);
out:
	free(o.files);
	free(o.filter);
	return rc;
}
