/* ringcap: options, the run, signals and the summary. The only place that logs at will. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "ringcap/assert.h"
#include "ringcap/counters.h"
#include "ringcap/decode.h"
#include "ringcap/engine.h"
#include "ringcap/filter.h"
#include "ringcap/flow.h"

#ifndef RINGCAP_VERSION
#define RINGCAP_VERSION "0.1.0"
#endif

static const char usage_text[] =
	"Usage: ringcap -r FILE [-r FILE ...] [OPTIONS] [BPF EXPRESSION]\n"
	"\n"
	"Read packet capture files, decode every packet (Ethernet, 802.1Q/QinQ, IPv4, IPv6, TCP,\n"
	"UDP, ICMP), track flows and write one record per flow. The summary on standard error "
	"says\n"
	"how many packets were read, filtered, decoded and malformed, and how fast.\n"
	"\n"
	"Input\n"
	"  -r, --read FILE         Read a pcap or pcapng file; '-' reads standard input. Repeat "
	"to\n"
	"                          read several files in order (e.g. spilled overflow files).\n"
	"  -f, --filter EXPR       Keep only packets matching the BPF expression (pcap-filter(7)\n"
	"                          syntax, compiled by libpcap). Words left after the options are\n"
	"                          joined into the expression, as with tcpdump.\n"
	"  -s, --snaplen N         Look at no more than N bytes of each packet (default: all).\n"
	"      --strict-snaplen    Stop at a record longer than the file's snapshot length "
	"instead\n"
	"                          of keeping it (libpcap and tshark keep it).\n"
	"\n"
	"Flows\n"
	"      --flows FILE        Write flow records as JSON lines to FILE ('-': standard "
	"output).\n"
	"                          One object per ended flow, and every live flow at the end.\n"
	"      --flow-memcap SIZE  Memory for flow state (default 128M; K, M, G suffixes). When "
	"it\n"
	"                          is full the flow idle longest is ended early (end_reason\n"
	"                          \"evicted\").\n"
	"      --timeout CLASS=SEC Idle timeout of a class of flows, in seconds of capture time.\n"
	"                          Classes (defaults): tcp-attempt (30), tcp-established (300),\n"
	"                          tcp-closed (5), udp (60), icmp (60), other (60).\n"
	"\n"
	"Output\n"
	"      --counters FILE     Write every counter as one JSON object to FILE at the end.\n"
	"  -q, --quiet             No summary and no progress line.\n"
	"      --list-counters     Print the counter reference (Markdown) and exit.\n"
	"  -h, --help              This help.\n"
	"  -V, --version           Version and libpcap version.\n"
	"\n"
	"Exit status\n"
	"  0  every input was read to its end\n"
	"  1  an input could not be opened, or is not a capture file ringcap reads\n"
	"  2  bad command line or bad filter expression\n"
	"  3  an input is damaged: ringcap stopped at the byte offset it names, after processing\n"
	"     every packet before it\n"
	"  4  an output (flow records, counters) could not be written\n"
	"\n"
	"Signals\n"
	"  SIGINT or SIGTERM stops reading, writes the live flows and the summary; a second one\n"
	"  exits at once.\n"
	"\n"
	"Examples\n"
	"  ringcap -r trace.pcap --flows flows.json\n"
	"  ringcap -r trace.pcapng -f 'tcp port 80' --flows - | jq .\n"
	"  cat spill-*.pcap | ringcap -r - --counters counters.json\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	if (stop_requested) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	stop_requested = 1;
}

struct options {
	const char **files;
	int nfiles;
	char *filter;
	const char *flows_path;
	const char *counters_path;
	uint32_t snaplen;
	int strict_snaplen;
	int quiet;
	struct rc_flow_config flow;
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
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
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
	if (!eq)
		return -1;
	char *end;
	double sec = strtod(eq + 1, &end);
	if (end == eq + 1 || *end != '\0' || !(sec >= 0) || sec > 1e9)
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
};

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"read", required_argument, NULL, 'r'},
		{"filter", required_argument, NULL, 'f'},
		{"snaplen", required_argument, NULL, 's'},
		{"strict-snaplen", no_argument, NULL, OPT_STRICT_SNAPLEN},
		{"flows", required_argument, NULL, OPT_FLOWS},
		{"flow-memcap", required_argument, NULL, OPT_FLOW_MEMCAP},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"counters", required_argument, NULL, OPT_COUNTERS},
		{"quiet", no_argument, NULL, 'q'},
		{"list-counters", no_argument, NULL, OPT_LIST_COUNTERS},
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
	while ((c = getopt_long(argc, argv, "r:f:s:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->files[o->nfiles++] = optarg;
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
	if (optind < argc) {
		if (o->filter)
			return usage_error("filter given twice: with -f and as words ('%s' ...)",
					   argv[optind]);
		o->filter = join_args(argc - optind, argv + optind);
	}
	if (o->nfiles == 0)
		return usage_error("%s", "no input: give a capture file with -r FILE (live capture "
					 "comes with -i in a later version)");
	return -1;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Print "name value" for every non-zero counter under `prefix` that `pick` accepts. */
static void print_group(FILE *f, const struct rc_ctrs *t, const char *title, const char *prefix,
			bool (*pick)(int id))
{
	bool any = false;
	for (int i = 0; i < RC_CTR__COUNT; i++) {
		uint64_t v = t->v[i];
		if (!v || !has_prefix(rc_ctr_descs[i].name, prefix) || (pick && !pick(i)))
			continue;
		fprintf(f, "%s%s %" PRIu64, any ? ", " : title,
			rc_ctr_descs[i].name + strlen(prefix), v);
		any = true;
	}
	if (any)
		fputc('\n', f);
}

static bool is_decode_error(int id)
{
	return id != RC_CTR_DECODE_PACKETS && rc_decode_is_error((enum rc_ctr)id);
}

static bool is_decode_result(int id)
{
	return id != RC_CTR_DECODE_PACKETS && !rc_decode_is_error((enum rc_ctr)id);
}

static uint64_t sum_errors(const struct rc_ctrs *t)
{
	uint64_t n = 0;
	for (int i = 0; i < RC_CTR__COUNT; i++)
		if (has_prefix(rc_ctr_descs[i].name, "decode.") && is_decode_error(i))
			n += t->v[i];
	return n;
}

static void print_summary(const struct options *o, const struct rc_offline *off,
			  const struct rc_ctrs *t, const struct rc_record_sink *sink,
			  uint64_t elapsed_ns)
{
	FILE *f = stderr;
	double sec = (double)elapsed_ns / 1e9;
	uint64_t pkts = t->v[RC_CTR_READ_PACKETS], bytes = t->v[RC_CTR_READ_BYTES];
	char formats[64] = "";
	for (int i = 0; i < 4 && off->formats[i]; i++)
		snprintf(formats + strlen(formats), sizeof(formats) - strlen(formats), "%s%s",
			 i ? "+" : "", off->formats[i]);

	fprintf(f,
		"ringcap: %d file%s (%s), %" PRIu64 " packets, %" PRIu64 " bytes in %.3f s: "
		"%.3f Mpps, %.3f Gbit/s\n",
		o->nfiles, o->nfiles == 1 ? "" : "s", formats[0] ? formats : "none", pkts, bytes,
		sec, sec > 0 ? (double)pkts / sec / 1e6 : 0.0,
		sec > 0 ? (double)bytes * 8 / sec / 1e9 : 0.0);
	print_group(f, t, "  link types: ", "link.", NULL);
	print_group(f, t, "  reader: ", "read.", NULL);
	if (o->filter)
		fprintf(f, "  filter \"%s\": %" PRIu64 " accepted, %" PRIu64 " filtered out\n",
			o->filter, t->v[RC_CTR_FILTER_ACCEPTED], t->v[RC_CTR_FILTER_REJECTED]);
	fprintf(f, "  decoded: %" PRIu64 " packets\n", t->v[RC_CTR_DECODE_PACKETS]);
	print_group(f, t, "    by outcome: ", "decode.", is_decode_result);
	fprintf(f, "  decode errors: %" PRIu64 "\n", sum_errors(t));
	print_group(f, t, "    by reason: ", "decode.", is_decode_error);

	uint64_t nflows = 0;
	for (int i = 0; i < 16; i++)
		nflows += sink->by_state[i];
	fprintf(f, "  flows: %" PRIu64, nflows);
	for (int i = 0; i < 16; i++)
		if (sink->by_state[i])
			fprintf(f, ", %s %" PRIu64,
				rc_record_state_name(i)[0] ? rc_record_state_name(i) : "no-state",
				sink->by_state[i]);
	fputc('\n', f);
	fprintf(f, "    ended by:");
	for (int e = 0; e < 8; e++)
		if (sink->by_end[e])
			fprintf(f, " %s %" PRIu64, rc_flow_end_name((enum rc_flow_end)e),
				sink->by_end[e]);
	fputc('\n', f);
	print_group(f, t, "    table: ", "flow.", NULL);

	/* The accounting invariant: every packet read is filtered out or decoded. */
	uint64_t accounted = t->v[RC_CTR_FILTER_REJECTED] + t->v[RC_CTR_DECODE_PACKETS];
	fprintf(f,
		"  accounting: read %" PRIu64 " = filtered out %" PRIu64 " + decoded %" PRIu64
		": %s\n",
		pkts, t->v[RC_CTR_FILTER_REJECTED], t->v[RC_CTR_DECODE_PACKETS],
		accounted == pkts ? "ok" : "MISMATCH");
}

static void progress_line(void *arg, const struct rc_ctrs *src)
{
	const uint64_t *start = arg;
	double sec = (double)(monotonic_ns() - *start) / 1e9;
	uint64_t pkts = rc_ctr_get(src, RC_CTR_READ_PACKETS);
	fprintf(stderr, "\rringcap: %" PRIu64 " packets, %.1f s, %.2f Mpps ", pkts, sec,
		sec > 0 ? (double)pkts / sec / 1e6 : 0.0);
}

static int write_counters(const char *path, const struct rc_ctrs *t)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (!f) {
		fprintf(stderr, "ringcap: cannot write counters to %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	fputc('{', f);
	for (int i = 0; i < RC_CTR__COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", rc_ctr_descs[i].name, t->v[i]);
	fputs("}\n", f);
	int bad = ferror(f);
	if (f != stdout)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(f) != 0;
	if (bad) {
		fprintf(stderr, "ringcap: writing counters to %s failed: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	int rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		goto out;

	struct rc_filter *filter = NULL;
	if (o.filter && rc_filter_new(&filter, o.filter, o.snaplen) < 0) {
		fprintf(stderr, "ringcap: out of memory\n");
		rc = RC_EXIT_OPEN;
		goto out;
	}

	struct rc_record_sink sink = {0};
	static char flows_buf[1 << 20];
	if (o.flows_path) {
		sink.out = strcmp(o.flows_path, "-") == 0 ? stdout : fopen(o.flows_path, "w");
		if (!sink.out) {
			fprintf(stderr, "ringcap: cannot write flow records to %s: %s\n",
				o.flows_path, strerror(errno));
			rc = RC_EXIT_OUTPUT;
			goto out_filter;
		}
		setvbuf(sink.out, flows_buf, _IOFBF, sizeof(flows_buf));
	}

	static struct rc_worker worker;
	static struct rc_ctrs src;
	sink.ctrs = &src;
	int err = rc_worker_init(&worker, &o.flow, rc_record_sink_emit, &sink);
	if (err < 0) {
		fprintf(stderr,
			"ringcap: cannot set up the flow table (--flow-memcap %" PRIu64 "): %s\n",
			o.flow.memcap, strerror(-err));
		rc = RC_EXIT_USAGE;
		goto out_sink;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	uint64_t start = monotonic_ns();
	struct rc_offline off = {
		.files = o.files,
		.nfiles = o.nfiles,
		.reader = {.strict_snaplen = o.strict_snaplen},
		.filter = filter,
		.snaplen = o.snaplen,
		.stop = &stop_requested,
		.progress = (!o.quiet && isatty(STDERR_FILENO)) ? progress_line : NULL,
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
	if (stop_requested)
		fprintf(stderr, "ringcap: interrupted: stopped reading early\n");
	/* A run that failed before any packet (missing file, bad filter) gets its message only. */
	bool failed_early =
		(rc == RC_EXIT_OPEN || rc == RC_EXIT_USAGE) && total.v[RC_CTR_READ_PACKETS] == 0;
	if (!o.quiet && !failed_early)
		print_summary(&o, &off, &total, &sink, elapsed);
	RC_ASSERT(total.v[RC_CTR_FILTER_REJECTED] + total.v[RC_CTR_DECODE_PACKETS] ==
		  total.v[RC_CTR_READ_PACKETS]);
	if (o.counters_path && write_counters(o.counters_path, &total) < 0 && rc < RC_EXIT_OUTPUT)
		rc = RC_EXIT_OUTPUT;
	rc_worker_destroy(&worker);
out_sink:
	if (sink.out) {
		bool bad = sink.write_errno || ferror(sink.out) ||
			   (sink.out == stdout ? fflush(sink.out) : fclose(sink.out)) != 0;
		if (bad) {
			fprintf(stderr, "ringcap: writing flow records to %s failed: %s\n",
				o.flows_path,
				strerror(sink.write_errno ? sink.write_errno : errno));
			rc = RC_EXIT_OUTPUT;
		}
	}
out_filter:
	rc_filter_free(filter);
out:
	free(o.files);
	free(o.filter);
	return rc;
}
