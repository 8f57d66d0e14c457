/*
 * daemon.h - detaching from the terminal, the pid file, cuttle -k acting
 * on a running cuttle, the drop from root to cache_effective_user, and
 * systemd's notify socket.
 */
#ifndef CUTTLE_DAEMON_H
#define CUTTLE_DAEMON_H

#include <sys/types.h>

#include <stdbool.h>

struct access_log;

/* daemon_pidfile_take() - create path (or take it over from a cuttle
 * that is gone), lock it and write our pid.  Returns the open, locked
 * fd (keep it: the lock is what tells a running cuttle), -EEXIST with
 * *other set when a running cuttle holds it, or another -errno. */
int	daemon_pidfile_take(const char *path, pid_t *other);
/* daemon_pidfile_drop() - remove path and close fd, at exit.  When the
 * file cannot be removed any more (root's directory, and cuttle has
 * dropped to cache_effective_user since), it is emptied through fd
 * instead, so no stale pid is left (the lock tells anyway). */
void	daemon_pidfile_drop(const char *path, int fd);

/* daemon_pidfile_start() - the pid file of this run: path taken, *fd
 * what daemon_pidfile_take() returned (to give daemon_pidfile_drop() at
 * exit).  0, also when a cuttle in the foreground cannot write it (only
 * cuttle -k loses it: warned); -1 (logged) when cuttle must not start:
 * another cuttle holds it, or a daemon cannot write it. */
int	daemon_pidfile_start(const char *path, bool foreground, int *fd);

/* daemon_signal() - send sig to the cuttle whose pid file is path (sig 0
 * only checks).  0, -ESRCH when no cuttle holds the file (not running),
 * or another -errno.  *pid gets the pid found. */
int	daemon_signal(const char *path, int sig, pid_t *pid);

/* daemon_control() - cuttle -k action (any but parse) on the cuttle of
 * pid_filename (NULL: pid_filename none): check, reconfigure, rotate,
 * shutdown, interrupt or kill.  What happened is printed (stdout for
 * check's answer, stderr for a failure).  Returns the exit status: 0
 * done, 1 not running or failed, 2 unknown action. */
int	daemon_control(const char *pid_filename, const char *action);

/* daemon_detach() - become a daemon: fork, setsid, fork again (so the
 * process can never reacquire a controlling terminal), chdir("/"), and
 * stdin and stdout on /dev/null (stderr is left: logging decides).  The
 * parents _exit(0).  0 in the daemon, or -errno (still attached, or
 * half way: exit). */
int	daemon_detach(void);

/* The user cuttle becomes once its ports are bound. */
struct daemon_user {
	uid_t		uid;
	gid_t		gid;
	char		name[64];
};

/* daemon_user_lookup() - name's uid and primary gid; name NULL is the
 * default: "proxy" when that user exists, else "nobody".  0, -ENOENT (no
 * such user, or neither default), -ENAMETOOLONG, or another -errno. */
int	daemon_user_lookup(const char *name, struct daemon_user *u);

/* daemon_user_become() - as root: the supplementary groups of u
 * (initgroups), then the gid, then the uid, in that order (the gid and
 * groups can only be changed while still root), and a check that it
 * took: real and effective ids are u's and root cannot be regained.
 * The process is made dumpable again (a crash leaves a core file).
 * 0, or the -errno of the step that failed (-EPERM when the check
 * fails).  A failure leaves the process in an unknown state: exit. */
int	daemon_user_become(const struct daemon_user *u);

/* daemon_drop_privileges() - started as root (the ports bound, the logs
 * and pid file open): become name (NULL: the default user, see
 * daemon_user_lookup()) for good, giving al's files to that user first
 * so that rotation can reopen them; the pid file stays root's.  Not
 * root, or a user of uid 0: nothing (noted).  0, or -1 (logged): cuttle
 * must not serve as root by mistake. */
int	daemon_drop_privileges(const char *name, struct access_log *al);

/* daemon_notify() - tell systemd (Type=notify) about a state change:
 * "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...".  A datagram to
 * $NOTIFY_SOCKET (a path, or '@' for an abstract socket); nothing when
 * it is unset.  0 or -errno; callers may ignore failures. */
int	daemon_notify(const char *state);

#endif /* CUTTLE_DAEMON_H */
