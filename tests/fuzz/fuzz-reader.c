/*
 * libFuzzer target of the capture file reader: read a buffer from memory, touching every byte of
 * every packet, and read it again through the chunked stream path (a memfd, small chunks): both
 * must deliver the same packets and stop with the same error.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ringcap/assert.h"
#include "ringcap/pcapio.h"
#include "../../src/pcapio/reader_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rc_ctrs ctrs;

static struct rc_reader *open_stream(const uint8_t *data, size_t size,
				     const struct rc_reader_options *opt, int *rc)
{
	struct rc_reader *r = NULL;
	char err[512];
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	RC_ASSERT(fd >= 0);
	RC_ASSERT(write(fd, data, size) == (ssize_t)size);
	RC_ASSERT(lseek(fd, 0, SEEK_SET) == 0);
	size_t chunk = 1 + (size ? data[size - 1] % 97 : 0);
	*rc = rc_reader_open_fd(&r, fd, 1, "fuzz", chunk, opt, &ctrs, err, sizeof(err));
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rc_reader *r, *s;
	char err[512];
	struct rc_reader_options opt = {.strict_snaplen = size % 2};
	int rc = rc_reader_open_mem(&r, data, size, "fuzz", &opt, &ctrs, err, sizeof(err));
	int src;
	s = open_stream(data, size, &opt, &src);
	RC_ASSERT(rc == src);
	if (rc < 0) {
		RC_ASSERT(err[0] != '\0');
		return 0;
	}
	struct rc_packet pkt, spkt;
	uint64_t sum = 0, prev = rc_reader_offset(r);
	while ((rc = rc_reader_next(r, &pkt)) == 1) {
		/* Every byte of a packet lies inside the input, and the reader moves forward. */
		RC_ASSERT(pkt.data >= data && pkt.data + pkt.caplen <= data + size);
		RC_ASSERT(pkt.caplen <= RC_MAX_CAPLEN);
		for (uint32_t i = 0; i < pkt.caplen; i++)
			sum += pkt.data[i];
		RC_ASSERT(rc_reader_offset(r) > prev && rc_reader_offset(r) <= size);
		prev = rc_reader_offset(r);

		RC_ASSERT(rc_reader_next(s, &spkt) == 1);
		RC_ASSERT(spkt.caplen == pkt.caplen && spkt.wirelen == pkt.wirelen);
		RC_ASSERT(spkt.ts_ns == pkt.ts_ns && spkt.ts_digits == pkt.ts_digits);
		RC_ASSERT(spkt.linktype == pkt.linktype && spkt.source == pkt.source);
		RC_ASSERT(pkt.caplen == 0 || memcmp(spkt.data, pkt.data, pkt.caplen) == 0);
		RC_ASSERT(rc_reader_offset(s) == prev);
	}
	RC_ASSERT(rc == 0 || rc_reader_error(r)[0] != '\0');
	RC_ASSERT(rc_reader_next(r, &pkt) == rc);
	RC_ASSERT(rc_reader_next(s, &spkt) == rc);
	RC_ASSERT(strcmp(rc_reader_error(r), rc_reader_error(s)) == 0);
	RC_ASSERT(rc_reader_offset(r) == rc_reader_offset(s));
	RC_ASSERT(strcmp(rc_reader_format(r), rc_reader_format(s)) == 0);
	RC_ASSERT(rc_reader_linktype(r) == rc_reader_linktype(s));
	RC_ASSERT(rc_reader_snaplen(r) == rc_reader_snaplen(s));
	rc_reader_close(r);
	rc_reader_close(s);
	/* Keep the sum alive so the reads are not optimised away. */
	__asm__ volatile("" : : "r"(sum));
	return 0;
}
