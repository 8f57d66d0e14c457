/*
 * disk_fault_shim.c - an LD_PRELOAD shim for disk_crash.py: I/O errors on
 * demand on the disk store's file.
 *
 * While the file named by $DISK_FAULT_TRIGGER exists, pread/pwritev/
 * pwrite/fdatasync on a descriptor whose file is named cuttle.store fail
 * with EIO, as a dying disk's would: its first byte says which ("r"
 * reads, "w" writes and syncs, anything else both).  Only the threads
 * back-end goes through these calls (CUTTLE_DISK_IO=threads); io_uring
 * does not.  Built by disk_crash.py with the system's cc.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 'r', 'w', 'b', or 0 when no fault is on. */
static int
fault_mode(void)
{
	const char *t = getenv("DISK_FAULT_TRIGGER");
	char c = 'b';
	int fd;

	if (t == NULL || (fd = open(t, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	if (read(fd, &c, 1) != 1)
		c = 'b';
	close(fd);
	return (c == 'r' || c == 'w' ? c : 'b');
}

static int
is_store(int fd)
{
	char p[64], link[4096];
	ssize_t n;

	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	n = readlink(p, link, sizeof link - 1);
	if (n <= 0)
		return (0);
	link[n] = '\0';
	n = (ssize_t)strlen(link);
	return (n >= 13 && strcmp(link + n - 13, "/cuttle.store") == 0);
}

static int
fail(int fd, int kind)
{
	int m = fault_mode();

	if (m == 0 || (m != 'b' && m != kind) || !is_store(fd))
		return (0);
	errno = EIO;
	return (1);
}

#define NEXT(name)	((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t
pread(int fd, void *buf, size_t n, off_t off)
{
	if (fail(fd, 'r'))
		return (-1);
	return (NEXT(pread)(fd, buf, n, off));
}

ssize_t
pread64(int fd, void *buf, size_t n, off_t off)
{
	if (fail(fd, 'r'))
		return (-1);
	return (NEXT(pread64)(fd, buf, n, off));
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (fail(fd, 'w'))
		return (-1);
	return (NEXT(pwrite)(fd, buf, n, off));
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	if (fail(fd, 'w'))
		return (-1);
	return (NEXT(pwrite64)(fd, buf, n, off));
}

ssize_t
pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (fail(fd, 'w'))
		return (-1);
	return (NEXT(pwritev)(fd, iov, cnt, off));
}

ssize_t
pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (fail(fd, 'w'))
		return (-1);
	return (NEXT(pwritev64)(fd, iov, cnt, off));
}

int
fdatasync(int fd)
{
	if (fail(fd, 'w'))
		return (-1);
	return (NEXT(fdatasync)(fd));
}
