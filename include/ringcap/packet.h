/* The packet as every source hands it to the pipeline: bytes plus capture metadata. */
#ifndef RINGCAP_PACKET_H
#define RINGCAP_PACKET_H

#include <stdint.h>

/* Link types ringcap decodes (values of the pcap LINKTYPE_* registry). */
enum rc_linktype {
	RC_LINK_NULL = 0,
	RC_LINK_EN10MB = 1,
	RC_LINK_RAW = 101,
	RC_LINK_LINUX_SLL = 113,
	RC_LINK_IPV4 = 228,
	RC_LINK_IPV6 = 229,
	RC_LINK_LINUX_SLL2 = 276,
};

/*
 * One captured frame. `data` points into the source's memory (a mapped file, a ring block, a
 * queue slot) and is valid only until the source is asked for the next packet.
 */
struct rc_packet {
	const uint8_t *data;
	uint64_t ts_ns;	   /* capture time, nanoseconds since the Unix epoch */
	uint32_t caplen;   /* bytes present at data */
	uint32_t wirelen;  /* length of the frame on the wire */
	uint32_t linktype; /* enum rc_linktype value, or any other LINKTYPE_* number */
	uint8_t ts_digits; /* sub-second digits the source really has: 6 (usec) or 9 (nsec), etc. */
	uint8_t source;	   /* which interface / ring / file the packet came from */
};

#endif
