/*
 * daemon.c - the pid file and cuttle -k.
 *
 * The pid file is locked (flock) for as long as cuttle runs, so a stale
 * file left by a crash is told from a live one by trying the lock, not by
 * guessing from the pid (which may have been reused).
 */
#include "config.h"

#include <sys/file.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

/* The pid written in fd's file, or 0. */
static pid_t
daemon_read_pid(int fd)
{
	char buf[32];
	ssize_t n;
	long v;

	n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	v = strtol(buf, NULL, 10);
	return (v > 0 ? (pid_t)v : 0);
}

int
daemon_pidfile_take(const char *path, pid_t *other)
{
	char buf[32];
	int fd, err, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return (-errno);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		err = errno;
		*other = daemon_read_pid(fd);
		close(fd);
		return (err == EWOULDBLOCK ? -EEXIST : -err);
	}
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		err = errno != 0 ? errno : EIO;
		close(fd);
		return (-err);
	}
	return (fd);
}

void
daemon_pidfile_drop(const char *path, int fd)
{
	if (fd < 0)
		return;
	(void)unlink(path);
	close(fd);
}

int
daemon_signal(const char *path, int sig, pid_t *pid)
{
	int fd, err;

	*pid = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return (errno == ENOENT ? -ESRCH : -errno);
	/* Lockable: no cuttle holds it, whatever pid it names. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return (-ESRCH);
	}
	*pid = daemon_read_pid(fd);
	close(fd);
	if (*pid == 0)
		return (-ESRCH);
	if (kill(*pid, sig) == -1) {
		err = errno;
		return (-err);
	}
	return (0);
}
