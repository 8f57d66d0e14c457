/*
 * disk_io_file.c - the disk_io back-end on one descriptor: pread, pwrite,
 * fdatasync, blocking (the scan at start, tools, tests); and, once
 * attached to comm's file I/O engine, the same moves started on the loop
 * and completed from it.
 *
 *	disk_io_file_open	the descriptor; synchronous calls only
 *	disk_io_file_attach	*_start calls go to comm_fio; each counts
 *				in f->out until its completion has run
 *	disk_io_close		with nothing out: closed and freed; else
 *				marked, and the last completion closes
 *				(a thread may still be in pwrite on the fd:
 *				closing it under the thread would let the
 *				number name another file)
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/check.h"
#include "comm/comm_file.h"
#include "disk/disk_io.h"

struct io_file {
	struct disk_io	io;
	int		fd;
	struct comm_fio	*fio;
	unsigned	out;		/* completions not yet run */
	bool		closing;
};

/* One asynchronous move. */
struct io_op {
	struct io_file	*f;
	size_t		len;		/* a read's */
	disk_io_done_fn	*done;
	void		*arg;
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
file_free(struct io_file *f)
{
	(void)close(f->fd);
	FREE_OBJ(&f->io);
}

static void
file_close(struct disk_io *io)
{
	struct io_file *f = io_file(io);

	if (f->out > 0) {
		f->closing = true;
		return;
	}
	file_free(f);
}

static void
file_op_done(const struct comm_result *res, void *arg)
{
	struct io_op *op = arg;
	struct io_file *f = op->f;
	const struct buf_slice *data = NULL;
	int e;

	switch (res->status) {
	case COMM_OK:
		e = 0;
		if (op->len > 0 && res->len != op->len)
			e = -EIO;
		else if (op->len > 0)
			data = &res->data;
		break;
	case COMM_EOF:
		e = -EIO;
		break;
	case COMM_ERROR:
		e = res->err != 0 ? -res->err : -EIO;
		break;
	default:
		e = -ECANCELED;
		break;
	}
	op->done(e, data, op->arg);
	free(op);
	CHECK(f->out > 0);
	if (--f->out == 0 && f->closing)
		file_free(f);
}

static struct io_op *
file_op_new(struct io_file *f, size_t len, disk_io_done_fn *done, void *arg)
{
	struct io_op *op;

	AN(f->fio);
	AN(done);
	op = calloc(1, sizeof *op);
	if (op == NULL)
		return (NULL);
	op->f = f;
	op->len = len;
	op->done = done;
	op->arg = arg;
	return (op);
}

static int
file_started(struct io_file *f, struct io_op *op, struct comm_fop *fop)
{
	if (fop == NULL) {
		free(op);
		return (-ENOMEM);
	}
	f->out++;
	return (0);
}

static int
file_read_start(struct disk_io *io, size_t len, uint64_t off,
    disk_io_done_fn *done, void *arg)
{
	struct io_file *f = io_file(io);
	struct io_op *op;

	CHECK(len > 0);
	if ((op = file_op_new(f, len, done, arg)) == NULL)
		return (-ENOMEM);
	return (file_started(f, op, comm_fio_read(f->fio, f->fd, len, off,
	    file_op_done, op)));
}

static int
file_write_start(struct disk_io *io, struct buf_chain *c, uint64_t off,
    disk_io_done_fn *done, void *arg)
{
	struct io_file *f = io_file(io);
	struct io_op *op;

	if ((op = file_op_new(f, 0, done, arg)) == NULL)
		return (-ENOMEM);
	return (file_started(f, op, comm_fio_writev(f->fio, f->fd, c, off,
	    file_op_done, op)));
}

static int
file_sync_start(struct disk_io *io, disk_io_done_fn *done, void *arg)
{
	struct io_file *f = io_file(io);
	struct io_op *op;

	if ((op = file_op_new(f, 0, done, arg)) == NULL)
		return (-ENOMEM);
	return (file_started(f, op, comm_fio_sync(f->fio, f->fd,
	    file_op_done, op)));
}

/* Grown: the new blocks reserved as at creation (a sparse tail where the
 * filesystem cannot); shrunk: truncated. */
static int
file_resize(struct disk_io *io, uint64_t size)
{
	struct io_file *f = io_file(io);
	int e = EOPNOTSUPP;

	if (size > f->io.size)
		e = posix_fallocate(f->fd, 0, (off_t)size);
	if (e != 0 && e != EOPNOTSUPP && e != EINVAL)
		return (-e);
	if (e != 0 && ftruncate(f->fd, (off_t)size) == -1)
		return (-errno);
	f->io.size = size;
	return (0);
}

static const struct disk_io_ops file_ops = {
	.read = file_read,
	.write = file_write,
	.sync = file_sync,
	.close = file_close,
	.read_start = file_read_start,
	.write_start = file_write_start,
	.sync_start = file_sync_start,
	.resize = file_resize,
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
disk_io_file_attach(struct disk_io *io, struct comm_fio *fio)
{
	struct io_file *f = io_file(io);

	AN(fio);
	CHECK(f->io.ops == &file_ops);
	f->fio = fio;
	f->io.loop = comm_fio_loop(fio);
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
