/*
 * daemon.h - the pid file, and cuttle -k acting on a running cuttle.
 */
#ifndef CUTTLE_DAEMON_H
#define CUTTLE_DAEMON_H

#include <sys/types.h>

/* daemon_pidfile_take() - create path (or take it over from a cuttle
 * that is gone), lock it and write our pid.  Returns the open, locked
 * fd (keep it: the lock is what tells a running cuttle), -EEXIST with
 * *other set when a running cuttle holds it, or another -errno. */
int	daemon_pidfile_take(const char *path, pid_t *other);
/* daemon_pidfile_drop() - remove path and close fd, at exit. */
void	daemon_pidfile_drop(const char *path, int fd);

/* daemon_signal() - send sig to the cuttle whose pid file is path (sig 0
 * only checks).  0, -ESRCH when no cuttle holds the file (not running),
 * or another -errno.  *pid gets the pid found. */
int	daemon_signal(const char *path, int sig, pid_t *pid);

#endif /* CUTTLE_DAEMON_H */
