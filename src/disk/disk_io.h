/*
 * disk_io.h - how the disk store reaches its file: a small table of
 * operations, so that the synchronous back-end here (pread, pwrite) can
 * be replaced by comm's asynchronous one (io_uring or threads) without
 * touching the format, the index or the scan.
 *
 * Contract: each call moves all of len or fails: 0, or a negative errno
 * (-EIO for a short read past the end of the file, which a truncated
 * store gives).  The back-end owns its descriptor.
 *
 * A back-end on a loop (io->loop set: the file back-end given comm's
 * file I/O engine) also moves bytes asynchronously: the *_start calls
 * return 0 and done runs exactly once, from the loop, never inside the
 * call, with 0 (a read's bytes in *data, lent for the call: buf_ref() to
 * keep them) or a negative errno (-EIO for a short read, -ECANCELED when
 * the engine was freed first); or they return -ENOMEM and done never
 * runs.  Their order is comm_file.h's: a sync starts after every move
 * started before it is done, and holds back those started after it.
 * Closing waits for what is out: the descriptor is closed, and the
 * back-end freed, when the last completion has run.
 */
#ifndef CUTTLE_DISK_IO_H
#define CUTTLE_DISK_IO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "buf/buf.h"

struct comm_fio;
struct comm_loop;
struct disk_io;

typedef void disk_io_done_fn(int err, const struct buf_slice *data,
    void *arg);

struct disk_io_ops {
	int	(*read)(struct disk_io *io, void *buf, size_t len,
		    uint64_t off);
	int	(*write)(struct disk_io *io, const void *buf, size_t len,
		    uint64_t off);
	int	(*sync)(struct disk_io *io);
	void	(*close)(struct disk_io *io);
	/* Asynchronous, when io->loop is set (see above). */
	int	(*read_start)(struct disk_io *io, size_t len, uint64_t off,
		    disk_io_done_fn *done, void *arg);
	/* write_start() takes the chain's slices and references. */
	int	(*write_start)(struct disk_io *io, struct buf_chain *c,
		    uint64_t off, disk_io_done_fn *done, void *arg);
	int	(*sync_start)(struct disk_io *io, disk_io_done_fn *done,
		    void *arg);
	/* The file made size bytes long (blocks reserved when it grows);
	 * NULL where a back-end cannot. */
	int	(*resize)(struct disk_io *io, uint64_t size);
};

struct disk_io {
	unsigned			magic;
#define DISK_IO_MAGIC	0x3b9e01d4
	const struct disk_io_ops	*ops;
	uint64_t			size;	/* of the file when opened */
	struct comm_loop		*loop;	/* NULL: synchronous only */
};

/* disk_io_file_open() - the synchronous back-end on path; create makes
 * the file (exclusive of an existing one unless overwrite) with size
 * bytes allocated.  NULL with *err a negative errno on failure. */
struct disk_io	*disk_io_file_open(const char *path, int create,
		    int overwrite, uint64_t size, int *err);
/* disk_io_file_attach() - move the back-end's I/O to f from now on (the
 * *_start calls; f's loop becomes io->loop).  f must outlive io's last
 * completion (comm_fio_free() delivers them as cancelled). */
void	disk_io_file_attach(struct disk_io *io, struct comm_fio *f);
/* disk_io_close() - close and free; NULLs *iop. */
void	disk_io_close(struct disk_io **iop);

static inline int
disk_io_read(struct disk_io *io, void *buf, size_t len, uint64_t off)
{
	return (io->ops->read(io, buf, len, off));
}

static inline int
disk_io_write(struct disk_io *io, const void *buf, size_t len, uint64_t off)
{
	return (io->ops->write(io, buf, len, off));
}

static inline int
disk_io_sync(struct disk_io *io)
{
	return (io->ops->sync(io));
}

/* disk_io_resize() - the file made size bytes long, synchronously:
 * grown with its blocks reserved, or truncated.  0, or a negative errno
 * (-EOPNOTSUPP where the back-end cannot). */
static inline int
disk_io_resize(struct disk_io *io, uint64_t size)
{
	if (io->ops->resize == NULL)
		return (-EOPNOTSUPP);
	return (io->ops->resize(io, size));
}

#endif /* CUTTLE_DISK_IO_H */
