/* BPF filters compiled by libpcap per link type and run over packets in user space. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringcap/assert.h"
#include "ringcap/filter.h"

/* A capture rarely mixes more link types than this; more are compiled but evict nothing. */
#define MAX_PROGRAMS 8

struct program {
	uint32_t linktype;
	bool ok;
	struct bpf_program bpf;
};

struct rc_filter {
	char *expr;
	uint32_t snaplen;
	int nprograms;
	struct program programs[MAX_PROGRAMS];
	int last_index; /* program of the previous packet: link types rarely change */
	char error[PCAP_ERRBUF_SIZE + 256];
	bool has_error;
};

int rc_filter_new(struct rc_filter **out, const char *expr, uint32_t snaplen)
{
	struct rc_filter *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->expr = strdup(expr);
	if (!f->expr) {
		free(f);
		return -ENOMEM;
	}
	f->snaplen = snaplen ? snaplen : 262144;
	f->last_index = -1;
	*out = f;
	return 0;
}

static int find_program(const struct rc_filter *f, uint32_t linktype)
{
	for (int i = 0; i < f->nprograms; i++)
		if (f->programs[i].linktype == linktype)
			return i;
	return -1;
}

/* pcap_open_dead wants a DLT_ value; files carry LINKTYPE_ values. They differ only for RAW. */
static int linktype_to_dlt(uint32_t linktype)
{
	return linktype == RC_LINK_RAW ? DLT_RAW : (int)linktype;
}

static int compile(struct rc_filter *f, uint32_t linktype)
{
	if (f->nprograms == MAX_PROGRAMS) {
		snprintf(f->error, sizeof(f->error),
			 "filter \"%s\": more than %d link types in one run", f->expr,
			 MAX_PROGRAMS);
		f->has_error = true;
		return -1;
	}
	struct program *p = &f->programs[f->nprograms];
	memset(p, 0, sizeof(*p));
	p->linktype = linktype;
	pcap_t *dead = pcap_open_dead(linktype_to_dlt(linktype), (int)f->snaplen);
	if (!dead) {
		snprintf(f->error, sizeof(f->error),
			 "filter \"%s\": libpcap cannot open link type %u", f->expr, linktype);
		f->has_error = true;
	} else if (pcap_compile(dead, &p->bpf, f->expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		const char *name = pcap_datalink_val_to_name(linktype_to_dlt(linktype));
		snprintf(f->error, sizeof(f->error), "bad filter \"%s\" for link type %s: %s",
			 f->expr, name ? name : "unknown", pcap_geterr(dead));
		f->has_error = true;
	} else {
		p->ok = true;
	}
	if (dead)
		pcap_close(dead);
	return f->nprograms++;
}

int rc_filter_prepare(struct rc_filter *f, uint32_t linktype, char *err, size_t errlen)
{
	int i = find_program(f, linktype);
	if (i < 0)
		i = compile(f, linktype);
	if (i >= 0 && f->programs[i].ok)
		return 0;
	if (err && errlen)
		snprintf(err, errlen, "%s", f->error);
	return -EINVAL;
}

int rc_filter_program(struct rc_filter *f, uint32_t linktype, const void **insns, uint16_t *len,
		      char *err, size_t errlen)
{
	int rc = rc_filter_prepare(f, linktype, err, errlen);
	if (rc < 0)
		return rc;
	struct program *p = &f->programs[find_program(f, linktype)];
	/* libpcap returns the snaplen given to pcap_open_dead; make sure no accepting return is
	 * shorter, whatever optimisation produced it. */
	for (u_int i = 0; i < p->bpf.bf_len; i++) {
		struct bpf_insn *in = &p->bpf.bf_insns[i];
		if (in->code == (BPF_RET | BPF_K) && in->k != 0 && in->k < f->snaplen)
			in->k = f->snaplen;
	}
	if (p->bpf.bf_len > UINT16_MAX) {
		snprintf(err, errlen,
			 "filter \"%s\" compiles to %u instructions, over the "
			 "kernel's limit",
			 f->expr, p->bpf.bf_len);
		return -EINVAL;
	}
	*insns = p->bpf.bf_insns;
	*len = (uint16_t)p->bpf.bf_len;
	return 0;
}

bool rc_filter_match(struct rc_filter *f, const struct rc_packet *pkt)
{
	int i = f->last_index;
	if (i < 0 || f->programs[i].linktype != pkt->linktype) {
		i = find_program(f, pkt->linktype);
		if (i < 0)
			i = compile(f, pkt->linktype);
		if (i < 0)
			return false;
		f->last_index = i;
	}
	const struct program *p = &f->programs[i];
	if (!p->ok)
		return false;
	struct pcap_pkthdr hdr = {.caplen = pkt->caplen, .len = pkt->wirelen};
	return pcap_offline_filter(&p->bpf, &hdr, pkt->data) != 0;
}

const char *rc_filter_last_error(const struct rc_filter *f)
{
	return f->has_error ? f->error : NULL;
}

const char *rc_linktype_name(uint32_t linktype)
{
	return pcap_datalink_val_to_name(linktype_to_dlt(linktype));
}

const char *rc_filter_expr(const struct rc_filter *f)
{
	return f->expr;
}

void rc_filter_free(struct rc_filter *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->nprograms; i++)
		if (f->programs[i].ok)
			pcap_freecode(&f->programs[i].bpf);
	free(f->expr);
	free(f);
}
