/* A stdio stream onto a file written with O_DIRECT (see direct_io.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "ringcap/assert.h"
#include "direct_io.h"

struct rc_dio {
	int fd;	    /* the file; O_DIRECT while direct; -1 when no stream is open */
	int fd_buf; /* the file again, read-write, no O_DIRECT: the partial block; -1 if !direct */
	bool direct;
	bool stale;   /* a write failed: buf's partial block may not be the file's any more */
	uint64_t off; /* file offset of the next byte the stream hands over */
	char *buf;  /* RC_DIO_ALIGN-aligned; [0, off % RC_DIO_ALIGN) is the file's partial block */
	size_t cap; /* bytes of buf: a whole number of blocks */
};

int rc_dio_new(struct rc_dio **out, size_t max_write)
{
	struct rc_dio *d;
	size_t blocks = (max_write + RC_DIO_ALIGN - 1) / RC_DIO_ALIGN;

	RC_ASSERT(out != NULL && max_write > 0);
	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	/* One block more: room for the partial block kept in front of a full-size write. */
	d->cap = (blocks + 1) * RC_DIO_ALIGN;
	d->buf = aligned_alloc(RC_DIO_ALIGN, d->cap);
	if (d->buf == NULL) {
		free(d);
		return -ENOMEM;
	}
	d->fd = d->fd_buf = -1;
	*out = d;
	return 0;
}

void rc_dio_free(struct rc_dio *d)
{
	if (d == NULL)
		return;
	RC_ASSERT(d->fd < 0); /* its stream was closed */
	free(d->buf);
	free(d);
}

bool rc_dio_is_direct(const struct rc_dio *d)
{
	return d->direct;
}

/* pwrite all n bytes at off, or -1 with errno (a write that makes no progress is ENOSPC). */
static int write_all(int fd, const char *p, size_t n, uint64_t off)
{
	while (n != 0) {
		ssize_t k = pwrite(fd, p, n, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = ENOSPC;
			return -1;
		}
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* From now on, this file is written through the page cache. */
static void go_buffered(struct rc_dio *d)
{
	RC_ASSERT(d->direct && d->fd_buf >= 0);
	close(d->fd);
	d->fd = d->fd_buf;
	d->fd_buf = -1;
	d->direct = false;
}

/*
 * Write buf[0, total): it starts at the block boundary before d->off. Whole blocks go direct,
 * the rest buffered (and stays in buf, moved to its front). 0 or -1 with errno.
 */
static int write_blocks(struct rc_dio *d, size_t total)
{
	uint64_t base = d->off - d->off % RC_DIO_ALIGN;
	size_t whole = total - total % RC_DIO_ALIGN;
	size_t tail = total - whole;

	if (whole != 0 && write_all(d->fd, d->buf, whole, base) != 0) {
		if (errno != EINVAL)
			return -1;
		/* Not an error of the data: direct I/O itself was refused here. */
		go_buffered(d);
		return write_all(d->fd, d->buf, total, base);
	}
	if (tail != 0) {
		memmove(d->buf, d->buf + whole, tail);
		if (write_all(d->fd_buf, d->buf, tail, base + whole) != 0)
			return -1;
	}
	return 0;
}

/* Make `to` the stream's position: in direct mode, reload the partial block before it. */
static int reposition(struct rc_dio *d, uint64_t to)
{
	size_t head = (size_t)(to % RC_DIO_ALIGN);

	if (d->direct && head != 0) {
		ssize_t k;

		do
			k = pread(d->fd_buf, d->buf, head, (off_t)(to - head));
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return -1;
		/* Past the end of the file reads as zeros, as a write there would leave it. */
		memset(d->buf + k, 0, head - (size_t)k);
	}
	d->off = to;
	d->stale = false;
	return 0;
}

static ssize_t dio_write(void *cookie, const char *data, size_t size)
{
	struct rc_dio *d = cookie;
	size_t done = 0;

	if (d->stale && reposition(d, d->off) != 0)
		return -1;

	while (done < size) {
		size_t head = (size_t)(d->off % RC_DIO_ALIGN);
		size_t n = size - done < d->cap - head ? size - done : d->cap - head;

		if (!d->direct) {
			/* Buffered from the start, or since direct I/O was refused. */
			if (write_all(d->fd, data + done, size - done, d->off) != 0)
				return -1;
			d->off += size - done;
			break;
		}
		memcpy(d->buf + head, data + done, n);
		if (write_blocks(d, head + n) != 0) {
			d->stale = true;
			return -1;
		}
		d->off += n;
		done += n;
	}
	return (ssize_t)size;
}

static int dio_seek(void *cookie, off64_t *pos, int whence)
{
	struct rc_dio *d = cookie;
	int64_t to;

	switch (whence) {
	case SEEK_SET:
		to = *pos;
		break;
	case SEEK_CUR:
		to = (int64_t)d->off + *pos;
		break;
	case SEEK_END: {
		struct stat sb;

		if (fstat(d->fd, &sb) != 0)
			return -1;
		to = (int64_t)sb.st_size + *pos;
		break;
	}
	default:
		errno = EINVAL;
		return -1;
	}
	if (to < 0) {
		errno = EINVAL;
		return -1;
	}
	if (((uint64_t)to != d->off || d->stale) && reposition(d, (uint64_t)to) != 0)
		return -1;
	*pos = to;
	return 0;
}

static int dio_close(void *cookie)
{
	struct rc_dio *d = cookie;
	int rc = 0;

	if (d->fd_buf >= 0 && close(d->fd_buf) != 0)
		rc = -1;
	if (close(d->fd) != 0)
		rc = -1;
	d->fd = d->fd_buf = -1;
	d->direct = false;
	return rc;
}

FILE *rc_dio_fopen(struct rc_dio *d, const char *path, bool direct)
{
	const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
	cookie_io_functions_t io = {.write = dio_write, .seek = dio_seek, .close = dio_close};
	FILE *f;
	int e;

	RC_ASSERT(d->fd < 0);
	d->direct = false;
	d->fd = -1;
	if (direct) {
		d->fd = open(path, flags | O_DIRECT, 0666);
		if (d->fd >= 0)
			d->direct = true;
		else if (errno != EINVAL)
			return NULL;
	}
	if (!d->direct) {
		d->fd = open(path, flags, 0666);
		if (d->fd < 0)
			return NULL;
	} else {
		/* Readable too: a repositioned stream reads its partial block back. */
		d->fd_buf = open(path, O_RDWR | O_CLOEXEC);
		if (d->fd_buf < 0)
			goto fail;
	}
	d->off = 0;
	d->stale = false;
	f = fopencookie(d, "w", io);
	if (f == NULL)
		goto fail;
	return f;
fail:
	e = errno;
	dio_close(d);
	unlink(path); /* created above, and never written */
	errno = e;
	return NULL;
}

int rc_dio_truncate(struct rc_dio *d, uint64_t size)
{
	RC_ASSERT(d->fd >= 0);
	return ftruncate(d->fd, (off_t)size);
}
