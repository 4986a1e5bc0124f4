/*
 * A stdio stream onto a file written with O_DIRECT, for the pcap writer (libpcap's pcap_dump
 * writes to a FILE *): the data skips the page cache, so writing costs the CPU a copy into an
 * aligned buffer instead of the kernel's copy into fresh page-cache pages, which on a capture
 * host is what limits how fast a file grows (stenographer writes the same way).
 *
 * O_DIRECT takes only whole aligned blocks at aligned offsets; a pcap file is a stream of
 * records of any length. So every write the stream receives (stdio hands over its buffer when
 * the caller flushes it) is appended to an aligned buffer, whose whole blocks go out with
 * O_DIRECT and whose last partial block is written through a second, buffered descriptor of the
 * same file, then kept, to be written again with the next data. After each successful write,
 * every byte handed over is in the kernel's hands, exactly as with a plain file: what the caller
 * counts as written is in the file.
 *
 * Where O_DIRECT is refused (a file system without it) or a direct write fails with EINVAL (an
 * alignment the device does not take, or a size limit cutting a write mid-block), the stream
 * goes on with buffered writes for that file, and the write is retried that way, so the
 * error the caller sees is the real one (ENOSPC, EFBIG, EIO).
 *
 * Seeking (and ftruncate through rc_dio_truncate) repositions the stream; the pcap writer uses
 * it to cut a file back after a failed write.
 *
 * One thread uses one rc_dio and the stream it opened; one stream at a time per rc_dio.
 */
#ifndef RINGCAP_PCAPIO_DIRECT_IO_H
#define RINGCAP_PCAPIO_DIRECT_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Block size of every direct write (address, length and offset): 4 KiB covers 512 B sectors. */
#define RC_DIO_ALIGN 4096u

struct rc_dio;

/*
 * A stream state for writes of up to max_write bytes at a time (larger ones are split).
 * 0 or -ENOMEM.
 */
int rc_dio_new(struct rc_dio **out, size_t max_write);
void rc_dio_free(struct rc_dio *d);

/*
 * Create (or truncate) path, mode 0666 less the umask, and return a write-only stream onto it,
 * unbuffered until the caller gives it a buffer (setvbuf). direct: try O_DIRECT. NULL with
 * errno set on failure. fclose(3) closes the file.
 */
FILE *rc_dio_fopen(struct rc_dio *d, const char *path, bool direct);

/* Whether the open stream still writes with O_DIRECT. */
bool rc_dio_is_direct(const struct rc_dio *d);

/* Cut the open file to size bytes (at most its current length); the stream's next write goes
 * there once the caller has sought the stream to it. 0 or -1 with errno. */
int rc_dio_truncate(struct rc_dio *d, uint64_t size);

#endif
