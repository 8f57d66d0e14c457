/*
 * disk_fault_shim.c - an LD_PRELOAD shim for disk_crash.py: I/O errors on
 * demand on the disk store's file.
 *
 * While the file named by $DISK_FAULT_TRIGGER exists, pread/pwritev/
 * pwrite/fdatasync on a descriptor whose file is named cuttle.store fail
 * with EIO, as a dying disk's would: its first byte says which ("r"
 * reads, "w" writes and syncs, anything else both).  "d" fails nothing
 * but makes each read of the store slow, as a slow disk's: it sleeps
 * the milliseconds the digits after the "d" say (100 without), then
 * reads.  Only the threads
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
#include <time.h>
#include <unistd.h>

/* 'r', 'w', 'b', 'd' (with *ms), or 0 when no fault is on. */
static int
fault_mode_ms(long *ms)
{
	const char *t = getenv("DISK_FAULT_TRIGGER");
	char c[16];
	ssize_t n;
	int fd;

	if (t == NULL || (fd = open(t, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	n = read(fd, c, sizeof c - 1);
	close(fd);
	if (n < 1)
		return ('b');
	c[n] = '\0';
	if (c[0] == 'd') {
		*ms = c[1] >= '0' && c[1] <= '9' ? atol(c + 1) : 100;
		return ('d');
	}
	return (c[0] == 'r' || c[0] == 'w' ? c[0] : 'b');
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
	struct timespec ts;
	long ms = 0;
	int m = fault_mode_ms(&ms);

	if (m == 'd' && kind == 'r' && is_store(fd)) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		return (0);
	}
	if (m == 0 || m == 'd' || (m != 'b' && m != kind) || !is_store(fd))
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
