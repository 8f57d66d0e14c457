/*
 * ptc_proxy.c - the cuttle under test (`proxy p1 -conf {...} -start`), and
 * the child processes of `shell`.
 *
 * Lifecycle of a proxy:
 *	proxy_get()		first mention: a free loopback port (bind
 *				port 0, close), ${p1_addr} ${p1_port} ${p1_sock}
 *	proxy_start()		-start: conf written to ${tmpdir}/p1.conf with
 *				macros expanded, `cuttle -N -f p1.conf`
 *				spawned with stdout and stderr appended to
 *				${tmpdir}/p1.log; ready once cuttle's PID
 *				holds a socket listening on the port (/proc)
 *				and a TCP connect to it succeeds; a new port
 *				and another try when cuttle exits logging
 *				that the address is in use
 *	proxy_run_args()	-run-args "...": cuttle -f p1.conf ARGS once,
 *				to its exit (configuration tests, -v)
 *	proxy_reconfigure()	-reconfigure: the conf written again, SIGHUP,
 *				and a wait for cuttle to log the outcome
 *	proxy_stop()		-stop, -wait and the end of the test: SIGTERM,
 *				then SIGKILL after PTC_STOP_WAIT seconds
 *	ptc_proxy_kill_all()	the failure path, from any thread
 *
 * Only PIDs ptc spawned are signalled.  A PID is reaped and cleared under
 * procs.mtx, so the failure path never signals a PID that was reaped.
 * Each start, run or reconfigure appends a "---- ptc:" line to the log;
 * -expect-log searches only what follows the latest one.
 *
 * `port NAME` (ptc_cmd_port()) only picks a free port, as a proxy's first
 * mention does, for confs that listen on more than one.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <regex.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ptc.h"

#define PTC_START_WAIT	10.0	/* cuttle accepting connections */
#define PTC_STOP_WAIT	5.0	/* SIGTERM to exit, before SIGKILL */
#define PTC_START_TRIES	5
#define PTC_RECONF_WAIT	10.0	/* SIGHUP to "reconfigure: done|refused" */

struct ptc_proxy {
	unsigned		magic;
#define PTC_PROXY_MAGIC		0x70746305
	struct ptc_proxy	*next;
	char			*name;
	char			*conf;		/* NULL: no -f */
	size_t			conflen;
	char			*confpath;
	char			*logpath;
	char			addr[64];
	unsigned		port;
	pid_t			pid;		/* running; 0 when reaped */
	bool			exited;		/* status is valid */
	int			status;
	off_t			logstart;
	unsigned		runs;
	unsigned		reconfs;
	bool			killed;		/* by the failure path */
	char			*mgr;		/* the last -mgr page's body */
	char			*mgr_page;
};

static struct {
	pthread_mutex_t		mtx;
	struct ptc_proxy	*list;
} procs = { .mtx = PTHREAD_MUTEX_INITIALIZER };

/* --- processes ---------------------------------------------------------- */

const char *
ptc_status_text(struct ptc_ctx *ctx, int status)
{
	if (status == -1)
		return ("no exit (timeout)");
	if (WIFEXITED(status))
		return (ptc_asprintf(&ctx->arena, "exit %d",
		    WEXITSTATUS(status)));
	if (WIFSIGNALED(status))
		return (ptc_asprintf(&ctx->arena, "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status))));
	return (ptc_asprintf(&ctx->arena, "status %#x", status));
}

/* posix_spawn() with stdin from /dev/null, stdout and stderr appended to
 * out, signals unblocked and at their defaults.  Returns 0 or an errno. */
static int
spawn_raw(const char *path, char *const argv[], const char *out,
    bool newgroup, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int rc;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out,
	    O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | (newgroup ? POSIX_SPAWN_SETPGROUP : 0));
	posix_spawnattr_setpgroup(&at, 0);
	rc = posix_spawn(pid, path, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return (rc);
}

pid_t
ptc_spawn(struct ptc_ctx *ctx, const char *path, char *const argv[],
    const char *out, bool newgroup)
{
	pid_t pid;
	int rc;

	rc = spawn_raw(path, argv, out, newgroup, &pid);
	if (rc != 0)
		ptc_error(ctx, "cannot run %s: %s", path, strerror(rc));
	return (pid);
}

int
ptc_wait_pid(struct ptc_ctx *ctx, pid_t pid, double timeout)
{
	double deadline = ptc_now() + timeout;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return (status);
		if (r == -1 && errno != EINTR)
			ptc_error(ctx, "waitpid: %s", strerror(errno));
		if (ptc_now() >= deadline)
			return (-1);
		ptc_sleep(NULL, 0.002);
	}
}

/* A process group ptc made (shell): SIGTERM, then SIGKILL, reaped. */
void
ptc_kill_group(pid_t pid)
{
	double deadline = ptc_now() + 2;
	int status;

	(void)kill(-pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (ptc_now() >= deadline) {
			(void)kill(-pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			break;
		}
		ptc_sleep(NULL, 0.01);
	}
}

/* --- the proxy object --------------------------------------------------- */

/* True once the proxy's process has exited (and was reaped here). */
static bool
proxy_reap(struct ptc_proxy *p)
{
	int status;
	bool gone;

	pthread_mutex_lock(&procs.mtx);
	if (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == p->pid) {
		p->pid = 0;
		p->exited = true;
		p->status = status;
	}
	gone = p->pid == 0;
	pthread_mutex_unlock(&procs.mtx);
	return (gone);
}

static void
proxy_signal(struct ptc_proxy *p, int sig)
{
	pthread_mutex_lock(&procs.mtx);
	if (p->pid > 0)
		(void)kill(p->pid, sig);
	pthread_mutex_unlock(&procs.mtx);
}

static bool
proxy_wait_exit(struct ptc_proxy *p, double timeout)
{
	double deadline = ptc_now() + timeout;

	while (!proxy_reap(p)) {
		if (ptc_now() >= deadline)
			return (false);
		ptc_sleep(NULL, 0.002);
	}
	return (true);
}

/* A free loopback port (bind port 0, close) as ${name_addr},
 * ${name_port}, ${name_sock}. */
static unsigned
pick_port(struct ptc_ctx *ctx, const char *name)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof sin;
	unsigned port;
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		ptc_error(ctx, "cannot find a free port: %s", strerror(errno));
	close(fd);
	port = ntohs(sin.sin_port);
	ptc_macro_def(ptc_asprintf(&ctx->arena, "%s_addr", name), "127.0.0.1");
	ptc_macro_def(ptc_asprintf(&ctx->arena, "%s_port", name), "%u", port);
	ptc_macro_def(ptc_asprintf(&ctx->arena, "%s_sock", name),
	    "127.0.0.1:%u", port);
	return (port);
}

static void
proxy_pick_port(struct ptc_ctx *ctx, struct ptc_proxy *p)
{
	snprintf(p->addr, sizeof p->addr, "127.0.0.1");
	p->port = pick_port(ctx, p->name);
}

/* port NAME: ${NAME_addr} ${NAME_port} ${NAME_sock}, a free loopback
 * port for a conf's second http_port (or one a reconfigure adds). */
void
ptc_cmd_port(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	unsigned port;

	if (argc != 2 || argv[1].block || argv[1].len == 0)
		ptc_error(ctx, "usage: port NAME");
	port = pick_port(ctx, argv[1].s);
	ptc_log(ctx, "port %s: 127.0.0.1:%u", argv[1].s, port);
}

static struct ptc_proxy *
proxy_get(struct ptc_ctx *ctx, const char *name)
{
	struct ptc_proxy *p;

	for (p = procs.list; p != NULL; p = p->next)
		if (strcmp(p->name, name) == 0)
			return (p);
	if (name[0] != 'p')
		ptc_error(ctx, "proxy names start with p (p1, p2...)");
	p = calloc(1, sizeof *p);
	if (p == NULL || (p->name = strdup(name)) == NULL ||
	    asprintf(&p->confpath, "%s/%s.conf", ptc_tmpdir(), name) == -1 ||
	    asprintf(&p->logpath, "%s/%s.log", ptc_tmpdir(), name) == -1)
		ptc_error(ctx, "out of memory");
	p->magic = PTC_PROXY_MAGIC;
	proxy_pick_port(ctx, p);
	pthread_mutex_lock(&procs.mtx);
	p->next = procs.list;
	procs.list = p;
	pthread_mutex_unlock(&procs.mtx);
	return (p);
}

/* The conf with macros expanded; a blank first line (the rest of the
 * line after '{') is dropped so the conf's line 1 is the next one.  It
 * is written beside and renamed into place: a reconfigure still under
 * way (a signal sent earlier) must read the old file or the new one,
 * never one half written. */
static void
proxy_write_conf(struct ptc_ctx *ctx, struct ptc_proxy *p)
{
	struct ptc_tok t = { .s = p->conf, .len = p->conflen };
	const struct passwd *pw;
	char tmp[PATH_MAX];
	size_t skip;
	FILE *f;

	t = ptc_expand(ctx, &t);
	skip = strspn(t.s, " \t\r");
	if (t.s[skip] == '\n') {
		t.s += skip + 1;
		t.len -= skip + 1;
	}
	if (snprintf(tmp, sizeof tmp, "%s.new", p->confpath) >=
	    (int)sizeof tmp)
		ptc_error(ctx, "%s: path too long", p->confpath);
	f = fopen(tmp, "w");
	if (f == NULL || fwrite(t.s, 1, t.len, f) != t.len ||
	    (t.len > 0 && t.s[t.len - 1] != '\n' && fputc('\n', f) == EOF))
		ptc_error(ctx, "cannot write %s: %s", p->confpath,
		    strerror(errno));
	/* After the test's lines, so that their line numbers stay, and only
	 * when the test does not set them itself: each proxy its own pid
	 * file (the default one is shared by every cuttle on the machine),
	 * a graceful shutdown short enough for -stop's 5 s, and the user
	 * running ptc as cache_effective_user, so that a cuttle started as
	 * root keeps reaching ${tmpdir} (it would drop to proxy or nobody;
	 * not root, cuttle ignores the line with a note). */
	if ((memmem(t.s, t.len, "pid_filename", 12) == NULL &&
	    fprintf(f, "pid_filename %s/%s.pid\n", ptc_tmpdir(),
	    p->name) < 0) || (memmem(t.s, t.len, "shutdown_lifetime",
	    17) == NULL && fprintf(f, "shutdown_lifetime 1 second\n") < 0) ||
	    (memmem(t.s, t.len, "cache_effective_user", 20) == NULL &&
	    (pw = getpwuid(geteuid())) != NULL &&
	    fprintf(f, "cache_effective_user %s\n", pw->pw_name) < 0))
		ptc_error(ctx, "cannot write %s: %s", p->confpath,
		    strerror(errno));
	if (fclose(f) != 0 || rename(tmp, p->confpath) == -1)
		ptc_error(ctx, "cannot write %s: %s", p->confpath,
		    strerror(errno));
}

static char *
proxy_log_text(struct ptc_ctx *ctx, const struct ptc_proxy *p, off_t from)
{
	struct ptc_buf b = { 0 };
	char tmp[8192], *text;
	ssize_t n;
	int fd;

	fd = open(p->logpath, O_RDONLY | O_CLOEXEC);
	if (fd != -1) {
		if (lseek(fd, from, SEEK_SET) == from)
			while ((n = read(fd, tmp, sizeof tmp)) > 0)
				ptc_buf_add(&b, tmp, (size_t)n);
		close(fd);
	}
	text = ptc_strndup(&ctx->arena, b.p != NULL ? b.p : "", b.len);
	ptc_buf_free(&b);
	return (text);
}

/* Mark the log and spawn cuttle with args; p->pid is set under the lock
 * so the failure path sees it. */
static void
proxy_spawn(struct ptc_ctx *ctx, struct ptc_proxy *p, char **argv)
{
	struct stat st;
	pid_t pid;
	FILE *f;
	int i, rc;

	if (ptc_cuttle_path() == NULL)
		ptc_error(ctx, "where is cuttle? (ptc -c, $CUTTLE or "
		    "$top_builddir)");
	f = fopen(p->logpath, "a");
	if (f == NULL)
		ptc_error(ctx, "cannot open %s: %s", p->logpath,
		    strerror(errno));
	fprintf(f, "---- ptc: run %u:", ++p->runs);
	for (i = 0; argv[i] != NULL; i++)
		fprintf(f, " %s", argv[i]);
	fputc('\n', f);
	fclose(f);
	p->logstart = stat(p->logpath, &st) == 0 ? st.st_size : 0;
	p->exited = false;
	pthread_mutex_lock(&procs.mtx);
	rc = spawn_raw(ptc_cuttle_path(), argv, p->logpath, false, &pid);
	p->pid = rc == 0 ? pid : 0;
	pthread_mutex_unlock(&procs.mtx);
	if (rc != 0)
		ptc_error(ctx, "cannot run %s: %s", ptc_cuttle_path(),
		    strerror(rc));
	/* For shell commands that look at the process (its memory in
	 * /proc/${p1_pid}/status, say); never for signalling it. */
	ptc_macro_def(ptc_asprintf(&ctx->arena, "%s_pid", p->name), "%ld",
	    (long)pid);
}

/* Inodes of the sockets listening on port, from /proc/net/tcp{,6}. */
static size_t
listen_inodes(unsigned port, unsigned long *ino, size_t max)
{
	static const char *const tables[] = { "/proc/net/tcp",
	    "/proc/net/tcp6" };
	unsigned lport, state;
	unsigned long inode;
	char line[512];
	size_t i, n = 0;
	FILE *f;

	for (i = 0; i < 2; i++) {
		f = fopen(tables[i], "r");
		if (f == NULL)
			continue;
		/* "sl local rem st tx:rx tr:when retr uid timeout inode" */
		while (n < max && fgets(line, sizeof line, f) != NULL)
			if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x "
			    "%*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u "
			    "%lu", &lport, &state, &inode) == 3 &&
			    lport == port && state == 0x0A)	/* LISTEN */
				ino[n++] = inode;
		fclose(f);
	}
	return (n);
}

/* True when cuttle itself listens on its port: a LISTEN socket on the
 * port is among its open files.  A bare connect() could reach whoever
 * took the port between proxy_pick_port() and cuttle's bind(). */
static bool
proxy_listens(const struct ptc_proxy *p)
{
	unsigned long ino[16], have;
	char dir[64], path[400], link[64];
	struct dirent *de;
	size_t n, i;
	ssize_t len;
	bool found = false;
	DIR *d;

	n = listen_inodes(p->port, ino, 16);
	if (n == 0)
		return (false);
	snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)p->pid);
	d = opendir(dir);
	if (d == NULL)
		return (false);
	while (!found && (de = readdir(d)) != NULL) {
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		len = readlink(path, link, sizeof link - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &have) != 1)
			continue;
		for (i = 0; i < n; i++)
			if (ino[i] == have)
				found = true;
	}
	closedir(d);
	return (found);
}

static bool
proxy_accepts(const struct ptc_proxy *p)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, rc;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)p->port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (false);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
	close(fd);
	return (rc == 0);
}

static void
proxy_start(struct ptc_ctx *ctx, struct ptc_proxy *p)
{
	char *argv[] = { (char *)"cuttle", (char *)"-N", (char *)"-f",
	    p->confpath, NULL };
	double deadline;
	int tries;

	if (p->pid > 0)
		ptc_error(ctx, "%s is running already", p->name);
	if (p->conf == NULL) {
		if (asprintf(&p->conf, "http_port ${%s_sock}\n", p->name) ==
		    -1)
			ptc_error(ctx, "out of memory");
		p->conflen = strlen(p->conf);
	}
	for (tries = 1; ; tries++) {
		proxy_write_conf(ctx, p);
		proxy_spawn(ctx, p, argv);
		deadline = ptc_now() + PTC_START_WAIT;
		while (!proxy_reap(p) && !(proxy_listens(p) &&
		    proxy_accepts(p)) && ptc_now() < deadline)
			ptc_sleep(NULL, 0.005);
		if (p->pid > 0 && ptc_now() < deadline)
			break;
		if (p->pid > 0) {
			proxy_signal(p, SIGKILL);
			(void)proxy_wait_exit(p, PTC_STOP_WAIT);
			ptc_fail(ctx, "%s: cuttle did not accept connections "
			    "on %s:%u within %.0f s", p->name, p->addr,
			    p->port, PTC_START_WAIT);
		}
		if (tries < PTC_START_TRIES && strstr(proxy_log_text(ctx, p,
		    p->logstart), "in use") != NULL) {
			ptc_log(ctx, "%s: port %u is taken, trying another",
			    p->name, p->port);
			proxy_pick_port(ctx, p);
			continue;
		}
		ptc_fail(ctx, "%s: cuttle exited during start-up (%s)",
		    p->name, ptc_status_text(ctx, p->status));
	}
	ptc_log(ctx, "%s: cuttle (pid %ld) accepts connections on %s:%u",
	    p->name, (long)p->pid, p->addr, p->port);
}

/* SIGTERM, a bounded wait, then SIGKILL.  Fails if it had exited before
 * being asked to. */
static void
proxy_stop(struct ptc_ctx *ctx, struct ptc_proxy *p)
{
	if (p->pid == 0 && !p->exited)
		ptc_error(ctx, "%s was never started", p->name);
	if (p->pid == 0 && p->exited)
		return;
	if (proxy_reap(p))
		ptc_fail(ctx, "%s: cuttle had exited by itself (%s)", p->name,
		    ptc_status_text(ctx, p->status));
	proxy_signal(p, SIGTERM);
	if (!proxy_wait_exit(p, PTC_STOP_WAIT)) {
		ptc_log(ctx, "%s: no exit %.0f s after SIGTERM: SIGKILL",
		    p->name, PTC_STOP_WAIT);
		proxy_signal(p, SIGKILL);
		(void)proxy_wait_exit(p, PTC_STOP_WAIT);
	}
	ptc_log(ctx, "%s: cuttle stopped (%s)", p->name,
	    ptc_status_text(ctx, p->status));
}

static void
proxy_expect_exit(struct ptc_ctx *ctx, struct ptc_proxy *p,
    unsigned long want)
{
	if (p->pid == 0 && !p->exited)
		ptc_error(ctx, "%s was never started", p->name);
	if (!proxy_wait_exit(p, PTC_IO_TIMEOUT))
		ptc_fail(ctx, "%s -expect-exit %lu: cuttle still runs after "
		    "%.0f s", p->name, want, PTC_IO_TIMEOUT);
	if (!WIFEXITED(p->status) || (unsigned long)WEXITSTATUS(p->status) !=
	    want)
		ptc_fail(ctx, "%s -expect-exit %lu failed: got %s", p->name,
		    want, ptc_status_text(ctx, p->status));
	ptc_log(ctx, "     ok: exit %lu", want);
}

/* -run-args "ARGS": cuttle [-f p1.conf] ARGS, split on blanks. */
static void
proxy_run_args(struct ptc_ctx *ctx, struct ptc_proxy *p,
    const struct ptc_tok *args)
{
	char **argv, *copy, *w, *save = NULL;
	int n = 0;

	if (p->pid > 0)
		ptc_error(ctx, "%s is running", p->name);
	argv = ptc_alloc(&ctx->arena, (args->len / 2 + 5) * sizeof *argv);
	argv[n++] = (char *)"cuttle";
	if (p->conf != NULL) {
		proxy_write_conf(ctx, p);
		argv[n++] = (char *)"-f";
		argv[n++] = p->confpath;
	}
	copy = ptc_strndup(&ctx->arena, args->s, args->len);
	for (w = strtok_r(copy, " \t\n", &save); w != NULL;
	    w = strtok_r(NULL, " \t\n", &save))
		argv[n++] = w;
	argv[n] = NULL;
	proxy_spawn(ctx, p, argv);
	if (!proxy_wait_exit(p, PTC_IO_TIMEOUT)) {
		proxy_signal(p, SIGKILL);
		(void)proxy_wait_exit(p, PTC_STOP_WAIT);
		ptc_fail(ctx, "%s -run-args: cuttle did not exit within %.0f s",
		    p->name, PTC_IO_TIMEOUT);
	}
	ptc_log(ctx, "%s: cuttle %s: %s", p->name, args->s,
	    ptc_status_text(ctx, p->status));
}

/*
 * -reconfigure: the conf (as the latest -conf set it) written again with
 * macros expanded, a "---- ptc:" mark in the log (so -expect-log looks
 * only at what follows), SIGHUP, then a wait until cuttle logs
 * "reconfigure: done" or "reconfigure: refused".  Either is fine here:
 * the script says which it expects with -expect-log.
 */
static void
proxy_reconfigure(struct ptc_ctx *ctx, struct ptc_proxy *p)
{
	double deadline = ptc_now() + PTC_RECONF_WAIT;
	struct ptc_chunk *mark;
	const char *text, *outcome = NULL;
	struct stat st;
	FILE *f;

	if (p->pid == 0 || proxy_reap(p))
		ptc_fail(ctx, "%s -reconfigure: cuttle is not running",
		    p->name);
	if (p->conf == NULL)
		ptc_error(ctx, "%s -reconfigure: no -conf", p->name);
	proxy_write_conf(ctx, p);
	f = fopen(p->logpath, "a");
	if (f == NULL)
		ptc_error(ctx, "cannot open %s: %s", p->logpath,
		    strerror(errno));
	fprintf(f, "---- ptc: reconfigure %u: SIGHUP\n", ++p->reconfs);
	fclose(f);
	p->logstart = stat(p->logpath, &st) == 0 ? st.st_size : 0;
	proxy_signal(p, SIGHUP);
	while (outcome == NULL) {
		mark = ptc_arena_mark(&ctx->arena);
		text = proxy_log_text(ctx, p, p->logstart);
		if (strstr(text, "reconfigure: done") != NULL)
			outcome = "done";
		else if (strstr(text, "reconfigure: refused") != NULL)
			outcome = "refused";
		ptc_arena_release(&ctx->arena, mark);
		if (outcome != NULL)
			break;
		if (proxy_reap(p))
			ptc_fail(ctx, "%s -reconfigure: cuttle exited (%s)",
			    p->name, ptc_status_text(ctx, p->status));
		if (ptc_now() >= deadline)
			ptc_fail(ctx, "%s -reconfigure: no outcome logged "
			    "within %.0f s", p->name, PTC_RECONF_WAIT);
		ptc_sleep(NULL, 0.005);
	}
	ptc_log(ctx, "%s: reconfigure %u: %s", p->name, p->reconfs, outcome);
}

/* -expect-log TEXT, -expect-log-re REGEX, -expect-no-log TEXT.  A running
 * cuttle gets up to the I/O timeout to write the line. */
static void
proxy_expect_log(struct ptc_ctx *ctx, struct ptc_proxy *p,
    const char *opt, const struct ptc_tok *what)
{
	struct ptc_tok op = { .s = "~", .len = 1 };
	struct ptc_chunk *mark;
	bool neg = strcmp(opt, "-expect-no-log") == 0;
	bool re = strcmp(opt, "-expect-log-re") == 0;
	double deadline = ptc_now() + PTC_IO_TIMEOUT;
	const char *text;
	bool found;

	for (;;) {
		mark = ptc_arena_mark(&ctx->arena);
		text = proxy_log_text(ctx, p, p->logstart);
		found = re ? ptc_compare(ctx, text, strlen(text), &op, what) :
		    strstr(text, what->s) != NULL;
		ptc_arena_release(&ctx->arena, mark);
		if (neg || found || proxy_reap(p) || ptc_now() >= deadline)
			break;
		ptc_sleep(NULL, 0.01);
	}
	if (found == neg)
		ptc_fail(ctx, "%s %s %s failed: the log since the last start "
		    "%s it", p->name, opt, ptc_quote(ctx, what->s, what->len,
		    200), neg ? "has" : "lacks");
	ptc_log(ctx, "     ok");
}

/* -mgr PAGE: GET http://addr:port/squid-internal-mgr/PAGE from the
 * running cuttle (HTTP/1.0, one connection) and keep the body for the
 * -expect options that follow.  A status other than 200 fails. */
static void
proxy_mgr_get(struct ptc_ctx *ctx, struct ptc_proxy *p,
    const struct ptc_tok *page)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	char req[512], *buf, *body;
	size_t len = 0, cap = 65536;
	double deadline = ptc_now() + PTC_IO_TIMEOUT;
	ssize_t r;
	int fd, n;

	n = snprintf(req, sizeof req, "GET http://%s:%u/squid-internal-mgr/"
	    "%.*s HTTP/1.0\r\nHost: %s:%u\r\n\r\n", p->addr, p->port,
	    (int)page->len, page->s, p->addr, p->port);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p->port);
	if (n < 0 || (size_t)n >= sizeof req ||
	    inet_pton(AF_INET, p->addr, &sin.sin_addr) != 1)
		ptc_error(ctx, "%s -mgr: bad page or address", p->name);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	buf = malloc(cap + 1);
	if (fd == -1 || buf == NULL)
		ptc_error(ctx, "%s -mgr: %s", p->name, strerror(errno));
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    write(fd, req, (size_t)n) != n)
		ptc_fail(ctx, "%s -mgr %s: %s", p->name, page->s,
		    strerror(errno));
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (ptc_now() >= deadline)
			ptc_fail(ctx, "%s -mgr %s: no whole reply in time",
			    p->name, page->s);
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (len == cap)
			ptc_fail(ctx, "%s -mgr %s: reply over %zu bytes",
			    p->name, page->s, cap);
		r = read(fd, buf + len, cap - len);
		if (r <= 0)
			break;		/* HTTP/1.0: the close ends it */
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	body = strstr(buf, "\r\n\r\n");
	if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0 || body == NULL)
		ptc_fail(ctx, "%s -mgr %s: expected a 200 reply, got %s",
		    p->name, page->s, ptc_quote(ctx, buf, len, 200));
	free(p->mgr);
	free(p->mgr_page);
	p->mgr = strdup(body + 4);
	p->mgr_page = strndup(page->s, page->len);
	free(buf);
	if (p->mgr == NULL || p->mgr_page == NULL)
		ptc_error(ctx, "out of memory");
	ptc_log(ctx, "%s: mgr:%s, %zu bytes", p->name, p->mgr_page,
	    strlen(p->mgr));
}

/* -expect "NAME OP VALUE" against the -mgr page: NAME is a counter line
 * ("NAME = VALUE", Squid's counters layout) or, in other pages, a
 * "NAME: VALUE" line; no such line is <undef>. */
static void
proxy_mgr_expect(struct ptc_ctx *ctx, struct ptc_proxy *p,
    const struct ptc_tok *what)
{
	struct ptc_tok op, rhs;
	const char *line, *v, *end, *sp1, *sp2;
	char *lhs, *ops, *rhss;
	size_t nlen;
	bool ok;

	if (p->mgr == NULL)
		ptc_error(ctx, "%s -expect: no -mgr PAGE before it", p->name);
	/* From the right: a NAME may have blanks ("Number of ..."). */
	sp2 = memrchr(what->s, ' ', what->len);
	sp1 = sp2 != NULL && sp2 > what->s ? memrchr(what->s, ' ',
	    (size_t)(sp2 - what->s)) : NULL;
	if (sp1 == NULL || sp2 == NULL)
		ptc_error(ctx, "%s -expect \"NAME OP VALUE\"", p->name);
	nlen = (size_t)(sp1 - what->s);
	op = (struct ptc_tok){ .s = sp1 + 1, .len = (size_t)(sp2 - sp1 - 1) };
	rhs = (struct ptc_tok){ .s = sp2 + 1,
	    .len = what->len - (size_t)(sp2 + 1 - what->s) };
	v = NULL;
	for (line = p->mgr; *line != '\0'; line = end + (*end != '\0')) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		while (line < end && (*line == ' ' || *line == '\t'))
			line++;
		if ((size_t)(end - line) > nlen + 1 &&
		    strncmp(line, what->s, nlen) == 0 &&
		    (strncmp(line + nlen, " = ", 3) == 0 ||
		    line[nlen] == ':')) {
			v = line + nlen + (line[nlen] == ':' ? 1 : 3);
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			break;
		}
	}
	/* ptc_compare() reads NUL-terminated words. */
	lhs = v != NULL ? strndup(v, (size_t)(end - v)) : NULL;
	op.s = ops = strndup(op.s, op.len);
	rhs.s = rhss = strndup(rhs.s, rhs.len);
	if ((v != NULL && lhs == NULL) || ops == NULL || rhss == NULL)
		ptc_error(ctx, "out of memory");
	ok = ptc_compare(ctx, lhs, lhs != NULL ? strlen(lhs) : 0, &op, &rhs);
	if (!ok)
		ptc_fail(ctx, "%s mgr:%s: expect %.*s failed: got %s", p->name,
		    p->mgr_page, (int)what->len, what->s, lhs != NULL ?
		    ptc_quote(ctx, lhs, strlen(lhs), 200) : "<undef>");
	free(lhs);
	free(ops);
	free(rhss);
	ptc_log(ctx, "     ok: %.*s", (int)what->len, what->s);
}

/* proxy NAME [-conf {text}] [-start] [-stop] [-wait] [-run-args ARGS]
 *            [-write-conf] [-reconfigure]
 *            [-expect-exit N] [-expect-log T] [-expect-log-re RE]
 *            [-expect-no-log T] [-mgr PAGE [-expect "NAME OP VALUE"]...] */
void
ptc_cmd_proxy(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_proxy *p;
	const char *o;
	int i;

	if (argc < 2 || argv[1].block)
		ptc_error(ctx, "usage: proxy NAME ...");
	p = proxy_get(ctx, argv[1].s);
	for (i = 2; i < argc; i++) {
		o = argv[i].s;
		if (argv[i].block)
			ptc_error(ctx, "proxy: a block only after -conf");
		if (strcmp(o, "-start") == 0)
			proxy_start(ctx, p);
		else if (strcmp(o, "-stop") == 0)
			proxy_stop(ctx, p);
		else if (strcmp(o, "-reconfigure") == 0)
			proxy_reconfigure(ctx, p);
		else if (strcmp(o, "-write-conf") == 0) {
			if (p->conf == NULL)
				ptc_error(ctx, "%s -write-conf: no -conf",
				    p->name);
			proxy_write_conf(ctx, p);
		}
		else if (strcmp(o, "-wait") == 0) {
			proxy_stop(ctx, p);
			if (!WIFEXITED(p->status) ||
			    WEXITSTATUS(p->status) != 0)
				ptc_fail(ctx, "%s -wait: expected exit 0, got "
				    "%s", p->name,
				    ptc_status_text(ctx, p->status));
		} else if (strcmp(o, "-conf") == 0) {
			ptc_need_args(ctx, argc, argv, i, 1);
			if (!argv[++i].block)
				ptc_error(ctx, "-conf {text}");
			free(p->conf);
			p->conf = strndup(argv[i].s, argv[i].len);
			if (p->conf == NULL)
				ptc_error(ctx, "out of memory");
			p->conflen = argv[i].len;
		} else if (strcmp(o, "-run-args") == 0) {
			ptc_need_args(ctx, argc, argv, i, 1);
			proxy_run_args(ctx, p, &argv[++i]);
		} else if (strcmp(o, "-expect-exit") == 0) {
			ptc_need_args(ctx, argc, argv, i, 1);
			proxy_expect_exit(ctx, p,
			    ptc_arg_ulong(ctx, &argv[++i]));
		} else if (strcmp(o, "-mgr") == 0) {
			ptc_need_args(ctx, argc, argv, i, 1);
			proxy_mgr_get(ctx, p, &argv[++i]);
		} else if (strcmp(o, "-expect") == 0) {
			ptc_need_args(ctx, argc, argv, i, 1);
			proxy_mgr_expect(ctx, p, &argv[++i]);
		} else if (strcmp(o, "-expect-log") == 0 ||
		    strcmp(o, "-expect-log-re") == 0 ||
		    strcmp(o, "-expect-no-log") == 0) {
			ptc_need_args(ctx, argc, argv, i, 1);
			proxy_expect_log(ctx, p, o, &argv[++i]);
		} else
			ptc_error(ctx, "proxy: unknown option %s", o);
	}
}

void
ptc_proxy_stop_all(struct ptc_ctx *ctx)
{
	struct ptc_proxy *p;

	for (p = procs.list; p != NULL; p = p->next) {
		if (p->pid == 0)
			continue;
		proxy_stop(ctx, p);
		if (!WIFEXITED(p->status) || WEXITSTATUS(p->status) != 0)
			ptc_fail(ctx, "%s: at the end of the test cuttle "
			    "stopped with %s, expected exit 0", p->name,
			    ptc_status_text(ctx, p->status));
	}
}

void
ptc_proxy_kill_all(void)
{
	struct ptc_proxy *p;
	double deadline = ptc_now() + 2;
	int status, left;

	pthread_mutex_lock(&procs.mtx);
	for (p = procs.list; p != NULL; p = p->next) {
		p->killed = p->pid > 0;
		if (p->pid > 0)
			(void)kill(p->pid, SIGTERM);
	}
	do {
		left = 0;
		for (p = procs.list; p != NULL; p = p->next) {
			if (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) ==
			    p->pid) {
				p->pid = 0;
				p->exited = true;
				p->status = status;
			}
			left += p->pid > 0;
		}
		if (left > 0)
			ptc_sleep(NULL, 0.005);
	} while (left > 0 && ptc_now() < deadline);
	for (p = procs.list; p != NULL; p = p->next) {
		if (p->pid > 0) {
			(void)kill(p->pid, SIGKILL);
			(void)waitpid(p->pid, &status, 0);
			p->pid = 0;
			p->exited = true;
			p->status = status;
			printf("**** %s: cuttle killed (SIGKILL)\n", p->name);
		} else if (p->killed)
			printf("**** %s: cuttle stopped (%s %d)\n", p->name,
			    WIFEXITED(p->status) ? "exit" : "signal",
			    WIFEXITED(p->status) ? WEXITSTATUS(p->status) :
			    WTERMSIG(p->status));
	}
	fflush(stdout);
	pthread_mutex_unlock(&procs.mtx);
}

void
ptc_proxy_dump_logs(void)
{
	struct ptc_proxy *p;
	char tmp[8192];
	unsigned line;
	size_t n;
	FILE *f;

	pthread_mutex_lock(&procs.mtx);
	for (p = procs.list; p != NULL; p = p->next) {
		f = fopen(p->confpath, "r");
		if (f != NULL) {
			printf("---- %s conf (%s) ----\n", p->name,
			    p->confpath);
			for (line = 1; fgets(tmp, sizeof tmp, f) != NULL;
			    line++)
				printf("%4u  %s%s", line, tmp,
				    strchr(tmp, '\n') == NULL ? "\n" : "");
			fclose(f);
		}
		f = fopen(p->logpath, "r");
		if (f == NULL)
			continue;
		printf("---- %s log (%s) ----\n", p->name, p->logpath);
		while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
			fwrite(tmp, 1, n, stdout);
		printf("---- end of %s log ----\n", p->name);
		fclose(f);
	}
	fflush(stdout);
	pthread_mutex_unlock(&procs.mtx);
}

void
ptc_proxy_free_all(void)
{
	struct ptc_proxy *p;

	while ((p = procs.list) != NULL) {
		procs.list = p->next;
		free(p->name);
		free(p->conf);
		free(p->confpath);
		free(p->logpath);
		free(p->mgr);
		free(p->mgr_page);
		free(p);
	}
}
