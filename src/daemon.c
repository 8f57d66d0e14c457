/*
 * daemon.c - detaching, the pid file, cuttle -k, dropping root, systemd's
 * notify socket.
 *
 * The pid file is locked (flock) for as long as cuttle runs, so a stale
 * file left by a crash is told from a live one by trying the lock, not by
 * guessing from the pid (which may have been reused).
 */
#include "config.h"

#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "daemon.h"
#include "log/access_log.h"

/* cuttle -k ACTION: what it does to a running cuttle (found through its
 * pid file).  Signal 0 only checks. */
static const struct {
	const char	*name;
	int		sig;
} daemon_actions[] = {
	{ "check", 0 },
	{ "shutdown", SIGTERM },
	{ "interrupt", SIGINT },
	{ "kill", SIGKILL },
	{ "rotate", SIGUSR1 },
	{ "reconfigure", SIGHUP },
};

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
	if (unlink(path) == -1)
		(void)ftruncate(fd, 0);
	close(fd);
}

int
daemon_pidfile_start(const char *path, bool foreground, int *fd)
{
	pid_t other = 0;

	*fd = daemon_pidfile_take(path, &other);
	if (*fd == -EEXIST) {
		log_msg(LG_CRIT, SEC_MAIN, "cuttle is already running (pid "
		    "%ld, %s)", (long)other, path);
		return (-1);
	}
	/* In the foreground (a developer's run, not root) an unwritable
	 * pid file only costs cuttle -k; a daemon that -k cannot find is
	 * worse than one that does not start. */
	if (*fd < 0 && foreground)
		log_msg(LG_WARN, SEC_MAIN, "cannot write %s: %s; cuttle -k "
		    "will not find this instance", path, strerror(-*fd));
	else if (*fd < 0) {
		log_msg(LG_CRIT, SEC_MAIN, "cannot write %s: %s", path,
		    strerror(-*fd));
		return (-1);
	}
	return (0);
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

int
daemon_control(const char *pid_filename, const char *action)
{
	pid_t pid;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_LEN(daemon_actions); i++)
		if (strcmp(action, daemon_actions[i].name) == 0)
			break;
	if (i == ARRAY_LEN(daemon_actions)) {
		fprintf(stderr, "cuttle: -k %s: unknown action (parse, check, "
		    "reconfigure, rotate, shutdown, interrupt, kill)\n",
		    action);
		return (2);
	}
	if (pid_filename == NULL) {
		fprintf(stderr, "cuttle: -k %s: pid_filename is none: cannot "
		    "find a running cuttle\n", action);
		return (1);
	}
	err = daemon_signal(pid_filename, daemon_actions[i].sig, &pid);
	if (err == -ESRCH) {
		fprintf(stderr, "cuttle: not running (no live %s)\n",
		    pid_filename);
		return (1);
	}
	if (err != 0) {
		fprintf(stderr, "cuttle: -k %s: pid %ld: %s\n", action,
		    (long)pid, strerror(-err));
		return (1);
	}
	if (daemon_actions[i].sig == 0)
		printf("cuttle is running (pid %ld)\n", (long)pid);
	return (0);
}

/* One passwd entry by name, with a buffer as large as it needs. */
static int
daemon_getpw(const char *name, struct daemon_user *u)
{
	struct passwd pw, *res = NULL;
	char *buf;
	long size;
	int rc;

	if (strlen(name) >= sizeof u->name)
		return (-ENAMETOOLONG);
	size = sysconf(_SC_GETPW_R_SIZE_MAX);
	if (size < 1024)
		size = 16384;
	buf = malloc((size_t)size);
	if (buf == NULL)
		return (-ENOMEM);
	rc = getpwnam_r(name, &pw, buf, (size_t)size, &res);
	if (rc == 0 && res != NULL) {
		u->uid = pw.pw_uid;
		u->gid = pw.pw_gid;
		snprintf(u->name, sizeof u->name, "%s", name);
	}
	free(buf);
	if (rc != 0)
		return (-rc);
	return (res != NULL ? 0 : -ENOENT);
}

int
daemon_user_lookup(const char *name, struct daemon_user *u)
{
	int err;

	memset(u, 0, sizeof *u);
	if (name != NULL)
		return (daemon_getpw(name, u));
	/* Squid's Debian package runs as proxy; nobody is everywhere. */
	err = daemon_getpw("proxy", u);
	if (err == -ENOENT)
		err = daemon_getpw("nobody", u);
	return (err);
}

int
daemon_user_become(const struct daemon_user *u)
{
	/* The groups first: once the uid is not 0 they cannot change, and
	 * root's supplementary groups (disk, adm ...) must not stay. */
	if (initgroups(u->name, u->gid) == -1)
		return (-errno);
	if (setgid(u->gid) == -1)
		return (-errno);
	if (setuid(u->uid) == -1)
		return (-errno);
	if (getuid() != u->uid || geteuid() != u->uid ||
	    getgid() != u->gid || getegid() != u->gid)
		return (-EPERM);
	/* setuid() as root sets the saved uid too; make sure of it. */
	if (u->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		return (-EPERM);
	/* Changing ids made the process undumpable: no core file on a
	 * crash, and nothing may ptrace it (LeakSanitizer, a debugger run
	 * by the same user).  Squid turns it back on too. */
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return (0);
}

int
daemon_notify(const char *state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = getenv("NOTIFY_SOCKET");
	char msg[256];
	struct timespec ts;
	socklen_t len;
	size_t plen;
	int fd, n, err = 0;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return (0);
	plen = strlen(path);
	if (plen >= sizeof sun.sun_path)
		return (-ENAMETOOLONG);
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	/* systemd wants to know when a reload began (Type=notify-reload
	 * insists on it), on the monotonic clock. */
	if (strcmp(state, "RELOADING=1") == 0 &&
	    clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		n = snprintf(msg, sizeof msg, "%s\nMONOTONIC_USEC=%llu", state,
		    (unsigned long long)ts.tv_sec * 1000000ULL +
		    (unsigned long long)ts.tv_nsec / 1000);
	else
		n = snprintf(msg, sizeof msg, "%s", state);
	if (n < 0 || (size_t)n >= sizeof msg)
		return (-EINVAL);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-errno);
	if (sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    len) == -1)
		err = -errno;
	close(fd);
	return (err);
}

/* The classic double step, so the daemon is no session leader and can
 * never reacquire a controlling terminal. */
int
daemon_detach(void)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid == -1)
		return (-errno);
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return (-errno);
	pid = fork();
	if (pid == -1)
		return (-errno);
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		return (-errno);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd == -1)
		return (-errno);
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	return (0);
}

/*
 * Started as root, once the ports are bound and the logs and pid file
 * open: become cache_effective_user for good.  The access logs are given
 * to that user first, so that rotation can reopen them by name; the pid
 * file stays root's (its descriptor is kept open and locked, and a file
 * the proxy user could write would let it steer root's cuttle -k kill).
 * 0, or -1 (logged): cuttle must not serve as root by mistake.
 */
int
daemon_drop_privileges(const char *name, struct access_log *al)
{
	struct daemon_user u;
	int err;

	if (geteuid() != 0) {
		if (name != NULL)
			log_msg(LG_NOTICE, SEC_MAIN, "cache_effective_user %s "
			    "ignored: cuttle was not started as root", name);
		return (0);
	}
	err = daemon_user_lookup(name, &u);
	if (err != 0) {
		log_msg(LG_CRIT, SEC_MAIN, "cache_effective_user %s: %s",
		    name != NULL ? name : "(proxy or nobody)",
		    err == -ENOENT ? "no such user" : strerror(-err));
		return (-1);
	}
	if (u.uid == 0) {
		log_msg(LG_NOTICE, SEC_MAIN, "cache_effective_user %s: uid 0, "
		    "cuttle keeps running as root", u.name);
		return (0);
	}
	if (al != NULL)
		(void)access_log_chown(al, u.uid, u.gid);
	err = daemon_user_become(&u);
	if (err != 0) {
		log_msg(LG_CRIT, SEC_MAIN, "cannot become %s (uid %ld, gid "
		    "%ld): %s", u.name, (long)u.uid, (long)u.gid,
		    strerror(-err));
		return (-1);
	}
	log_msg(LG_NOTICE, SEC_MAIN, "running as %s (uid %ld, gid %ld)",
	    u.name, (long)u.uid, (long)u.gid);
	return (0);
}
