/*
 * BPF filters: an expression compiled with libpcap (pcap_open_dead + pcap_compile) for each link
 * type it meets, applied to packets with pcap_offline_filter. Offline the program runs here; live,
 * the same compiled program is attached to the sockets.
 */
#ifndef RINGCAP_FILTER_H
#define RINGCAP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringcap/packet.h"

struct rc_filter;

/*
 * Create a filter for `expr` with snapshot length `snaplen` (0 means 262144). Nothing is compiled
 * yet: call rc_filter_prepare for each link type. Returns 0 or -ENOMEM.
 */
int rc_filter_new(struct rc_filter **out, const char *expr, uint32_t snaplen);

/*
 * Compile the expression for `linktype` unless already done. Returns 0, or -EINVAL with a message
 * in err (errlen bytes) that quotes libpcap's complaint and the expression. A failed link type is
 * remembered: rc_filter_match rejects its packets.
 */
int rc_filter_prepare(struct rc_filter *f, uint32_t linktype, char *err, size_t errlen);

/*
 * True when the packet passes. A link type not yet prepared is compiled on the spot (its error, if
 * any, is kept in rc_filter_last_error). Only the filter's owning thread may call this.
 */
bool rc_filter_match(struct rc_filter *f, const struct rc_packet *pkt);

/*
 * The compiled program for `linktype` (prepared first), to attach to a socket: *insns points to
 * `struct sock_filter`-compatible instructions (struct bpf_insn has the same layout), *len their
 * count. Every accepting `ret` returns the snaplen, so the kernel never cuts a frame shorter than
 * asked. Returns 0 or -EINVAL (message in err).
 */
int rc_filter_program(struct rc_filter *f, uint32_t linktype, const void **insns, uint16_t *len,
		      char *err, size_t errlen);

/* The message of the last failed compilation, or NULL when none failed. */
const char *rc_filter_last_error(const struct rc_filter *f);

/* The expression as given. */
const char *rc_filter_expr(const struct rc_filter *f);

/* libpcap's name of a LINKTYPE_ value ("EN10MB", "RAW" ...), or NULL when it has none. */
const char *rc_linktype_name(uint32_t linktype);

/* Free; NULL is allowed. */
void rc_filter_free(struct rc_filter *f);

#endif
