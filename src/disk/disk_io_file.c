/*
 * disk_io_file.c - the synchronous disk_io back-end: pread, pwrite,
 * fdatasync on one descriptor.  Blocking: for the scan at start and for
 * tests until comm's asynchronous back-end takes its place on the loop.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/check.h"
#include "disk/disk_io.h"

struct io_file {
	struct disk_io	io;
	int		fd;
};

static struct io_file *
io_file(struct disk_io *io)
{
	CHECK_OBJ_NOTNULL(io, DISK_IO_MAGIC);
	return (container_of(io, struct io_file, io));
}

static int
file_read(struct disk_io *io, void *buf, size_t len, uint64_t off)
{
	struct io_file *f = io_file(io);
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(f->fd, (char *)buf + done, len - done,
		    (off_t)(off + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (-errno);
		if (n == 0)
			return (-EIO);
		done += (size_t)n;
	}
	return (0);
}

static int
file_write(struct disk_io *io, const void *buf, size_t len, uint64_t off)
{
	struct io_file *f = io_file(io);
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(f->fd, (const char *)buf + done, len - done,
		    (off_t)(off + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (-errno);
		done += (size_t)n;
	}
	return (0);
}

static int
file_sync(struct disk_io *io)
{
	struct io_file *f = io_file(io);

	return (fdatasync(f->fd) == -1 ? -errno : 0);
}

static void
file_close(struct disk_io *io)
{
	struct io_file *f = io_file(io);

	(void)close(f->fd);
	FREE_OBJ(&f->io);
}

static const struct disk_io_ops file_ops = {
	.read = file_read,
	.write = file_write,
	.sync = file_sync,
	.close = file_close,
};

struct disk_io *
disk_io_file_open(const char *path, int create, int overwrite, uint64_t size,
    int *err)
{
	struct io_file *f;
	struct stat st;
	int flags = O_RDWR | O_CLOEXEC, e;

	AN(path);
	AN(err);
	if (create)
		flags |= O_CREAT | (overwrite ? O_TRUNC : O_EXCL);
	f = calloc(1, sizeof *f);
	if (f == NULL) {
		*err = -ENOMEM;
		return (NULL);
	}
	f->io.magic = DISK_IO_MAGIC;
	f->io.ops = &file_ops;
	f->fd = open(path, flags, 0600);
	if (f->fd == -1) {
		*err = -errno;
		free(f);
		return (NULL);
	}
	if (create) {
		/* Reserve the blocks now, so that a full disk is found at
		 * creation rather than by a write later; a filesystem that
		 * cannot (tmpfs of old) gets a sparse file. */
		e = posix_fallocate(f->fd, 0, (off_t)size);
		if (e != 0 && e != EOPNOTSUPP && e != EINVAL)
			goto fail;
		if (e != 0 && ftruncate(f->fd, (off_t)size) == -1) {
			e = errno;
			goto fail;
		}
	}
	if (fstat(f->fd, &st) == -1) {
		e = errno;
		goto fail;
	}
	f->io.size = (uint64_t)st.st_size;
	*err = 0;
	return (&f->io);
fail:
	(void)close(f->fd);
	if (create)
		(void)unlink(path);
	free(f);
	*err = -e;
	return (NULL);
}

void
disk_io_close(struct disk_io **iop)
{
	struct disk_io *io;

	if (*iop == NULL)
		return;
	TAKE_OBJ_NOTNULL(io, iop, DISK_IO_MAGIC);
	io->ops->close(io);
}
