/*
 * disk_io.h - how the disk store reaches its file: a small table of
 * operations, so that the synchronous back-end here (pread, pwrite) can
 * be replaced by comm's asynchronous one (io_uring or threads) without
 * touching the format, the index or the scan.
 *
 * Contract: each call moves all of len or fails: 0, or a negative errno
 * (-EIO for a short read past the end of the file, which a truncated
 * store gives).  The back-end owns its descriptor.
 */
#ifndef CUTTLE_DISK_IO_H
#define CUTTLE_DISK_IO_H

#include <stddef.h>
#include <stdint.h>

struct disk_io;

struct disk_io_ops {
	int	(*read)(struct disk_io *io, void *buf, size_t len,
		    uint64_t off);
	int	(*write)(struct disk_io *io, const void *buf, size_t len,
		    uint64_t off);
	int	(*sync)(struct disk_io *io);
	void	(*close)(struct disk_io *io);
};

struct disk_io {
	unsigned			magic;
#define DISK_IO_MAGIC	0x3b9e01d4
	const struct disk_io_ops	*ops;
	uint64_t			size;	/* of the file when opened */
};

/* disk_io_file_open() - the synchronous back-end on path; create makes
 * the file (exclusive of an existing one unless overwrite) with size
 * bytes allocated.  NULL with *err a negative errno on failure. */
struct disk_io	*disk_io_file_open(const char *path, int create,
		    int overwrite, uint64_t size, int *err);
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

#endif /* CUTTLE_DISK_IO_H */
