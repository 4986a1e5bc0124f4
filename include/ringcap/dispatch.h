/*
 * Dispatch: which decoder gets a packet. A symmetric hash of the VLAN ids and the IP address pair,
 * so both directions of a flow and all of its IP fragments (which carry no ports after the first)
 * reach the same decoder. Ports are left out on purpose: a fragment must hash like its flow.
 */
#ifndef RINGCAP_DISPATCH_H
#define RINGCAP_DISPATCH_H

#include <stdint.h>

#include "ringcap/packet.h"

/*
 * Hash an Ethernet frame (with `outer_vlan` the tag the kernel stripped, 0 for none). Frames that
 * are not IPv4/IPv6 hash to 0. Reads at most the first headers and never past pkt->caplen. Pure.
 */
uint32_t rc_dispatch_hash(const struct rc_packet *pkt, uint16_t outer_vlan);

#endif
