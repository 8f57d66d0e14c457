/*
 * ptc.c - the ptc driver's main(): run one .ptc script and exit 0 (pass),
 * 1 (fail), 77 (skip) or 99 (bad script, harness error).
 *
 * Lifecycle of a run:
 *	main()			options, tmpdir, predefined macros, watchdog
 *	ptc_run_cmds()		the script's top level, `ptest` first
 *	ptc_finish()		clients waited for, servers stopped, proxies
 *				stopped (each must exit 0), tmpdir removed
 *	ptc_fail()/ptc_error()	any thread: report, kill proxies, print their
 *				logs, keep tmpdir, _exit() at once
 *	watchdog_thread()	the global timeout and SIGINT/SIGTERM/SIGHUP
 *				turn into ptc_fail() so no proxy outlives ptc
 *
 * Also here: the output lock, macros, arenas and byte buffers.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ptc.h"

#define PTC_GLOBAL_TIMEOUT	60.0

struct ptc_macro {
	struct ptc_macro	*next;
	char			*name;
	char			*value;
};

struct ptc_chunk {
	struct ptc_chunk	*next;
	max_align_t		data[];
};

/* Process-wide state; written by main() before any thread starts, except
 * the macro list (macro_mtx) and the title. */
static struct {
	pthread_mutex_t		out_mtx;
	pthread_mutex_t		fail_mtx;	/* taken once, never released */
	pthread_mutex_t		macro_mtx;
	struct ptc_macro	*macros;
	const char		*script;
	char			*tmpdir;
	char			*cuttle;
	char			*title;
	double			t0;
	double			timeout;
	bool			keep;
	sigset_t		sigs;
} g = {
	.out_mtx = PTHREAD_MUTEX_INITIALIZER,
	.fail_mtx = PTHREAD_MUTEX_INITIALIZER,
	.macro_mtx = PTHREAD_MUTEX_INITIALIZER,
};

/* --- memory ------------------------------------------------------------- */

static void *
ptc_xmalloc(size_t len)
{
	void *p;

	p = malloc(len != 0 ? len : 1);
	if (p == NULL) {
		fprintf(stderr, "ptc: out of memory\n");
		_exit(PTC_EXIT_ERROR);
	}
	return (p);
}

void *
ptc_alloc(struct ptc_arena *a, size_t len)
{
	struct ptc_chunk *c;

	c = ptc_xmalloc(sizeof *c + len);
	c->next = a->head;
	a->head = c;
	return (c->data);
}

char *
ptc_strndup(struct ptc_arena *a, const char *s, size_t len)
{
	char *p;

	p = ptc_alloc(a, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

char *
ptc_asprintf(struct ptc_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	p = ptc_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return (p);
}

struct ptc_chunk *
ptc_arena_mark(const struct ptc_arena *a)
{
	return (a->head);
}

void
ptc_arena_release(struct ptc_arena *a, struct ptc_chunk *mark)
{
	struct ptc_chunk *c;

	while (a->head != NULL && a->head != mark) {
		c = a->head;
		a->head = c->next;
		free(c);
	}
}

void
ptc_buf_add(struct ptc_buf *b, const void *p, size_t len)
{
	char *np;

	if (b->len + len + 1 > b->cap) {
		b->cap = b->cap < 256 ? 256 : b->cap;
		while (b->len + len + 1 > b->cap)
			b->cap *= 2;
		np = realloc(b->p, b->cap);
		if (np == NULL) {
			fprintf(stderr, "ptc: out of memory\n");
			_exit(PTC_EXIT_ERROR);
		}
		b->p = np;
	}
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void
ptc_buf_printf(struct ptc_buf *b, const char *fmt, ...)
{
	char tmp[512], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof tmp) {
		ptc_buf_add(b, tmp, (size_t)n);
		return;
	}
	big = ptc_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ptc_buf_add(b, big, (size_t)n);
	free(big);
}

void
ptc_buf_clear(struct ptc_buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
ptc_buf_free(struct ptc_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* --- output and failure ------------------------------------------------- */

double
ptc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
ptc_vlog(const struct ptc_ctx *ctx, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&g.out_mtx);
	fprintf(stdout, "%7.3f %-4s ", ptc_now() - g.t0,
	    ctx != NULL ? ctx->name : "ptc");
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&g.out_mtx);
}

void
ptc_log(const struct ptc_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ptc_vlog(ctx, fmt, ap);
	va_end(ap);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

static void
ptc_rm_tmpdir(void)
{
	if (g.tmpdir != NULL)
		nftw(g.tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The one way out after a failure: whoever gets here first reports; any
 * other thread failing meanwhile blocks on fail_mtx until _exit(). */
/* The one way out after a failure: whoever gets here first reports; any
 * other thread failing meanwhile blocks on fail_mtx until _exit().  The
 * output lock is held to the end so the report is not interleaved. */
static void PTC_NORETURN
ptc_die(int code, const struct ptc_ctx *ctx, const char *fmt, va_list ap)
{
	const char *what = code == PTC_EXIT_FAIL ? "FAIL" : "ERROR";
	char msg[4096];

	vsnprintf(msg, sizeof msg, fmt, ap);
	pthread_mutex_lock(&g.fail_mtx);
	pthread_mutex_lock(&g.out_mtx);
	if (ctx != NULL)
		fprintf(stdout, "**** %s %s:%u (%s): %s\n", what, g.script,
		    ctx->line, ctx->name, msg);
	else
		fprintf(stdout, "**** %s %s: %s\n", what,
		    g.script != NULL ? g.script : "ptc", msg);
	fflush(stdout);
	ptc_proxy_kill_all();
	ptc_proxy_dump_logs();
	if (g.tmpdir != NULL)
		fprintf(stdout, "**** tmpdir kept: %s\n", g.tmpdir);
	fprintf(stdout, "**** %s %s (%.3f s)\n", code == PTC_EXIT_FAIL ?
	    "FAILED" : "ERROR IN", g.script != NULL ? g.script : "ptc",
	    ptc_now() - g.t0);
	fflush(stdout);
	fflush(stderr);
	_exit(code);
}

void
ptc_fail(const struct ptc_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	ptc_sess_check_stop(ctx);
	va_start(ap, fmt);
	ptc_die(PTC_EXIT_FAIL, ctx, fmt, ap);
}

void
ptc_error(const struct ptc_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	ptc_sess_check_stop(ctx);
	va_start(ap, fmt);
	ptc_die(PTC_EXIT_ERROR, ctx, fmt, ap);
}

void
ptc_title(const char *title)
{
	free(g.title);
	g.title = strdup(title);
}

const char *
ptc_tmpdir(void)
{
	return (g.tmpdir);
}

const char *
ptc_cuttle_path(void)
{
	return (g.cuttle);
}

/* --- macros ------------------------------------------------------------- */

void
ptc_macro_def(const char *name, const char *fmt, ...)
{
	struct ptc_macro *m;
	char *value;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	value = ptc_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(value, (size_t)n + 1, fmt, ap);
	va_end(ap);

	pthread_mutex_lock(&g.macro_mtx);
	for (m = g.macros; m != NULL; m = m->next)
		if (strcmp(m->name, name) == 0)
			break;
	if (m == NULL) {
		m = ptc_xmalloc(sizeof *m);
		m->name = strdup(name);
		if (m->name == NULL)
			_exit(PTC_EXIT_ERROR);
		m->next = g.macros;
		g.macros = m;
	} else
		free(m->value);
	m->value = value;
	pthread_mutex_unlock(&g.macro_mtx);
}

const char *
ptc_macro_get(struct ptc_ctx *ctx, const char *name, size_t len)
{
	struct ptc_macro *m;
	const char *v = NULL;

	pthread_mutex_lock(&g.macro_mtx);
	for (m = g.macros; m != NULL; m = m->next)
		if (strlen(m->name) == len && memcmp(m->name, name, len) == 0) {
			v = ptc_strndup(&ctx->arena, m->value,
			    strlen(m->value));
			break;
		}
	pthread_mutex_unlock(&g.macro_mtx);
	return (v);
}

static void
ptc_macro_free_all(void)
{
	struct ptc_macro *m;

	while ((m = g.macros) != NULL) {
		g.macros = m->next;
		free(m->name);
		free(m->value);
		free(m);
	}
}

/* --- watchdog ----------------------------------------------------------- */

static void *
watchdog_thread(void *arg)
{
	struct timespec ts;
	double left;
	int sig;

	(void)arg;
	for (;;) {
		left = g.t0 + g.timeout - ptc_now();
		if (left <= 0)
			break;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		sig = sigtimedwait(&g.sigs, NULL, &ts);
		if (sig > 0)
			ptc_fail(NULL, "interrupted by %s", strsignal(sig));
	}
	ptc_fail(NULL, "global timeout: the script ran longer than %g s "
	    "(ptc -t)", g.timeout);
	return (NULL);
}

/* --- main --------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: ptc [-k] [-c cuttle] [-t seconds] script.ptc\n"
	    "  -c path     the cuttle binary (default: $CUTTLE, else\n"
	    "              $top_builddir/src/cuttle)\n"
	    "  -k          keep the temporary directory ($PTC_KEEP)\n"
	    "  -t seconds  global timeout (default 60; $PTC_TIMEOUT)\n");
	exit(PTC_EXIT_ERROR);
}

static char *
read_file(const char *path, size_t *lenp)
{
	struct ptc_buf b = { 0 };
	char tmp[8192];
	size_t n;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return (NULL);
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		ptc_buf_add(&b, tmp, n);
	fclose(f);
	if (b.p == NULL)
		ptc_buf_add(&b, "", 0);
	*lenp = b.len;
	return (b.p);
}

static char *
find_cuttle(const char *opt)
{
	const char *env;
	char path[PATH_MAX], *abs;

	if (opt != NULL)
		snprintf(path, sizeof path, "%s", opt);
	else if ((env = getenv("CUTTLE")) != NULL && *env != '\0')
		snprintf(path, sizeof path, "%s", env);
	else if ((env = getenv("top_builddir")) != NULL && *env != '\0')
		snprintf(path, sizeof path, "%s/src/cuttle", env);
	else
		return (NULL);
	abs = realpath(path, NULL);
	return (abs != NULL ? abs : strdup(path));
}

static void
ptc_setup_macros(void)
{
	char self[PATH_MAX], *dir, *slash;
	ssize_t n;

	ptc_macro_def("tmpdir", "%s", g.tmpdir);
	ptc_macro_def("dollar", "$");		/* "${dollar}{x}" is "${x}" */
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = '\0';
	ptc_macro_def("ptc", "%s", self);
	ptc_macro_def("cuttle", "%s", g.cuttle != NULL ? g.cuttle : "");
	dir = realpath(g.script, NULL);
	if (dir != NULL && (slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	ptc_macro_def("testdir", "%s", dir != NULL ? dir : ".");
	free(dir);
	setenv("PTC", self, 1);
	setenv("PTC_TMPDIR", g.tmpdir, 1);
	/* What children (shell, nested ptc) leave behind goes with us. */
	setenv("TMPDIR", g.tmpdir, 1);
	if (g.cuttle != NULL)
		setenv("CUTTLE", g.cuttle, 1);
}

/* The end of a test that did not fail: everything stops in order, and
 * only then is memory freed (fail_mtx keeps the watchdog out of it). */
static void PTC_NORETURN
ptc_finish(struct ptc_ctx *ctx, int code, const char *why)
{
	ptc_client_wait_all(ctx);
	ptc_server_stop_all(ctx);
	ptc_proxy_stop_all(ctx);
	pthread_mutex_lock(&g.fail_mtx);
	ptc_client_free_all();
	ptc_server_free_all();
	ptc_proxy_free_all();
	ptc_barrier_free_all();
	if (code == PTC_EXIT_PASS && g.keep)
		ptc_log(NULL, "tmpdir kept: %s", g.tmpdir);
	else
		ptc_rm_tmpdir();
	if (code == PTC_EXIT_SKIP)
		ptc_log(NULL, "SKIP %s: %s", g.script, why);
	else
		ptc_log(NULL, "PASS %s%s%s", g.script,
		    g.title != NULL ? ": " : "",
		    g.title != NULL ? g.title : "");
	ptc_arena_release(&ctx->arena, NULL);
	ptc_macro_free_all();
	free(g.tmpdir);
	free(g.cuttle);
	free(g.title);
	exit(code);
}

static struct ptc_ctx *ptc_top;

void
ptc_skip(const struct ptc_ctx *ctx, const char *why)
{
	static char reason[512];

	if (ctx == NULL || ctx != ptc_top)
		ptc_error(ctx, "skip is only allowed at the top level");
	/* why may live in the arena that ptc_finish() releases. */
	snprintf(reason, sizeof reason, "%s", why);
	ptc_finish(ptc_top, PTC_EXIT_SKIP, reason);
}

int
main(int argc, char **argv)
{
	struct ptc_ctx top = { .magic = PTC_CTX_MAGIC, .name = "top",
	    .kind = PTC_TOP };
	const char *cuttle_opt = NULL, *env, *tmp;
	struct ptc_tok whole = { 0 };
	struct ptc_cmd *cmds;
	size_t ncmds, len, i;
	char *text, *end;
	pthread_t wd;
	int ch;

	g.t0 = ptc_now();
	g.timeout = PTC_GLOBAL_TIMEOUT;
	env = getenv("PTC_TIMEOUT");
	if (env != NULL && *env != '\0' && strtod(env, NULL) > 0)
		g.timeout = strtod(env, NULL);
	env = getenv("PTC_KEEP");
	g.keep = env != NULL && *env != '\0' && strcmp(env, "0") != 0;
	while ((ch = getopt(argc, argv, "c:kt:")) != -1) {
		switch (ch) {
		case 'c':
			cuttle_opt = optarg;
			break;
		case 'k':
			g.keep = true;
			break;
		case 't':
			g.timeout = strtod(optarg, &end);
			if (*end != '\0' || g.timeout <= 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	g.script = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);

	text = read_file(g.script, &len);
	if (text == NULL) {
		fprintf(stdout, "**** ERROR %s: cannot read: %s\n", g.script,
		    strerror(errno));
		return (PTC_EXIT_ERROR);
	}
	tmp = getenv("TMPDIR");
	if (asprintf(&g.tmpdir, "%s/ptc.XXXXXX", tmp != NULL && *tmp != '\0' ?
	    tmp : "/tmp") == -1 || mkdtemp(g.tmpdir) == NULL) {
		fprintf(stdout, "**** ERROR %s: cannot make a temporary "
		    "directory: %s\n", g.script, strerror(errno));
		return (PTC_EXIT_ERROR);
	}
	g.cuttle = find_cuttle(cuttle_opt);
	ptc_setup_macros();

	/* Signals go to the watchdog alone; children get them unblocked
	 * again by posix_spawn (ptc_proxy.c). */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&g.sigs);
	sigaddset(&g.sigs, SIGINT);
	sigaddset(&g.sigs, SIGTERM);
	sigaddset(&g.sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &g.sigs, NULL);
	if (pthread_create(&wd, NULL, watchdog_thread, NULL) != 0 ||
	    pthread_detach(wd) != 0) {
		fprintf(stdout, "**** ERROR: cannot start a thread\n");
		return (PTC_EXIT_ERROR);
	}

	ptc_top = &top;
	ptc_log(NULL, "running %s (tmpdir %s)", g.script, g.tmpdir);
	whole.s = ptc_strndup(&top.arena, text, len);
	whole.len = len;
	whole.line = 1;
	whole.block = true;
	free(text);
	ptc_lex(&top, &whole, &cmds, &ncmds);
	if (ncmds == 0 || !ptc_tok_is(&cmds[0].argv[0], "ptest")) {
		top.line = ncmds > 0 ? cmds[0].line : 1;
		ptc_error(&top, "a script starts with ptest \"title\"");
	}
	for (i = 0; i < ncmds; i++)
		ptc_run_cmd(&top, &cmds[i]);
	ptc_finish(&top, PTC_EXIT_PASS, NULL);
}
