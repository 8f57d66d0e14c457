/*
 * access_log.c - access.log files: configuration, buffers, the flush
 * timer, rotation.  The %-codes are in access_log_format.c.
 *
 * Lifecycle of one file (struct al_file):
 *	al_file_open()		descriptor open, buffer empty
 *	al_file_append()	a line buffered; the buffer is written first
 *				when the line does not fit
 *	al_file_write()		the buffer handed to write(2): when full,
 *				from the timer, access_log_flush/_reopen/_close
 *	access_log_reopen()	written, then the descriptor replaced by a new
 *				open of the same path
 *	al_file_close()		written, descriptor closed
 *
 * The timer is one-shot and armed only while some buffer holds bytes, so
 * an idle proxy does not wake up for its logs.  Files are opened
 * O_NONBLOCK: a FIFO without room makes write(2) return EAGAIN instead of
 * stalling the loop, and the bytes wait for the next tick.  On a regular
 * file write(2) goes to the page cache; it is done at most once per
 * buffer-size bytes and once a second.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "log/access_log.h"
#include "log/access_log_int.h"

#define AL_BUF_DEFAULT		(64u * 1024)
#define AL_BUF_MIN		4096u
#define AL_BUF_MAX		(4u * 1024 * 1024)
#define AL_FLUSH_AFTER		1.0	/* seconds a line may wait */

#define AL_SYNTAX	"access_log path|none [logformat-name [[!]aclname ...]]"
#define LF_SYNTAX	"logformat name format-string"

struct al_file {
	char			*path;
	const struct logformat	*fmt;
	int			fd;
	char			*buf;
	size_t			len;	/* bytes buffered */
	size_t			cap;	/* buffer-size: write when reached */
	size_t			size;	/* allocated (one long line may
					 * exceed cap) */
	bool			failing; /* reported; quiet until it works */
	uint64_t		lost;	/* lines dropped while failing */
};

struct access_log {
	unsigned		magic;
#define ACCESS_LOG_MAGIC	0xacce5510U
	struct comm_loop	*loop;
	struct comm_timer	*timer;
	bool			armed;
	struct logformat	**fmts;
	size_t			nfmts;
	struct al_file		*files;
	size_t			nfiles;
	uint64_t		seq;
	struct lf_scratch	scratch;
	struct lf_text		line;
	struct access_log_stats	st;
};

/* -- configuration --------------------------------------------------------- */

static void al_conf_error(const struct conf_line *cl, const char *dir,
    int *errors, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void al_conf_warn(const struct conf_line *cl, const char *dir,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Messages shaped as src/conf's: file:line, directive, problem, form. */
static void
al_conf_error(const struct conf_line *cl, const char *dir, int *errors,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	(*errors)++;
	log_msg(LG_ERR, SEC_CONF, "%s:%u: %s: %s", cl->file, cl->line, dir,
	    msg);
	log_msg(LG_ERR, SEC_CONF, "    expected: %s",
	    strcmp(dir, "logformat") == 0 ? LF_SYNTAX : AL_SYNTAX);
}

static void
al_conf_warn(const struct conf_line *cl, const char *dir, const char *fmt,
    ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_msg(LG_WARN, SEC_CONF, "%s:%u: %s: %s", cl->file, cl->line, dir,
	    msg);
}

static int
al_add_format(struct access_log *l, struct logformat *f)
{
	struct logformat **v;

	v = realloc(l->fmts, (l->nfmts + 1) * sizeof *v);
	if (v == NULL)
		return (-ENOMEM);
	l->fmts = v;
	v[l->nfmts++] = f;
	return (0);
}

/* A format by name; a predefined one is compiled the first time. */
static const struct logformat *
al_find_format(struct access_log *l, const char *name)
{
	struct logformat *f;
	const char *def;
	char err[128];
	size_t i;

	for (i = 0; i < l->nfmts; i++)
		if (strcmp(l->fmts[i]->name, name) == 0)
			return (l->fmts[i]);
	def = logformat_builtin(name);
	if (def == NULL)
		return (NULL);
	if (logformat_compile(name, def, &f, err, sizeof err) != 0)
		return (NULL);
	if (al_add_format(l, f) != 0) {
		logformat_free(&f);
		return (NULL);
	}
	return (f);
}

/*
 * The format text of a logformat line.  The conf tokenizer has split it
 * into words and removed the quotes of quoted words; a single word is the
 * whole format (Squid's `logformat name "..."`), and a word with blanks
 * inside was a quoted group and gets its quotes back.
 */
static char *
al_join(const struct conf_line *cl)
{
	size_t size = 1, i;
	char *s, *p;

	for (i = 1; i < cl->argc; i++)
		size += strlen(cl->argv[i]) + 3;
	s = p = malloc(size);
	if (s == NULL)
		return (NULL);
	for (i = 1; i < cl->argc; i++) {
		bool q = cl->argc > 2 && strpbrk(cl->argv[i], " \t") != NULL;

		if (i > 1)
			*p++ = ' ';
		if (q)
			*p++ = '"';
		p = stpcpy(p, cl->argv[i]);
		if (q)
			*p++ = '"';
	}
	*p = '\0';
	return (s);
}

static int
al_compile_formats(struct access_log *l, const struct conf_lines *lines,
    int *errors)
{
	const struct conf_line *cl;
	struct logformat *f;
	char err[256], *def;
	size_t i;
	int r;

	for (i = 0; lines != NULL && i < lines->n; i++) {
		cl = &lines->v[i];
		if (cl->argc < 2) {
			al_conf_error(cl, "logformat", errors,
			    "expected a name and a format");
			continue;
		}
		if (logformat_builtin(cl->argv[0]) != NULL) {
			al_conf_error(cl, "logformat", errors, "\"%s\" is "
			    "predefined and cannot be redefined",
			    cl->argv[0]);
			continue;
		}
		if (al_find_format(l, cl->argv[0]) != NULL) {
			al_conf_error(cl, "logformat", errors,
			    "\"%s\" is already defined", cl->argv[0]);
			continue;
		}
		def = al_join(cl);
		if (def == NULL)
			return (-ENOMEM);
		r = logformat_compile(cl->argv[0], def, &f, err, sizeof err);
		free(def);
		if (r == -ENOMEM)
			return (r);
		if (r != 0) {
			al_conf_error(cl, "logformat", errors, "%s", err);
			continue;
		}
		if (al_add_format(l, f) != 0) {
			logformat_free(&f);
			return (-ENOMEM);
		}
	}
	return (0);
}

/* What an access_log line asks for, before anything is opened. */
struct al_spec {
	const char	*path;		/* NULL: none */
	const char	*format;
	size_t		cap;
	unsigned	nacl;
};

/* Squid 5's "key=value" options; 0 or -1 (error counted). */
static int
al_option(const struct conf_line *cl, const char *w, struct al_spec *sp,
    int *errors)
{
	const char *v = strchr(w, '=') + 1;
	uint64_t size;
	bool no_unit;

	if (strncmp(w, "logformat=", 10) == 0)
		sp->format = v;
	else if (strncmp(w, "buffer-size=", 12) == 0) {
		if (conf_parse_size_value(v, NULL, &size, &no_unit) != 0) {
			al_conf_error(cl, "access_log", errors,
			    "bad size \"%s\"", v);
			return (-1);
		}
		if (size < AL_BUF_MIN || size > AL_BUF_MAX)
			al_conf_warn(cl, "access_log", "buffer-size %s is "
			    "out of range; using %u bytes", v,
			    size < AL_BUF_MIN ? AL_BUF_MIN : AL_BUF_MAX);
		sp->cap = size < AL_BUF_MIN ? AL_BUF_MIN : size > AL_BUF_MAX ?
		    AL_BUF_MAX : (size_t)size;
	} else if (strcmp(w, "on-error=die") == 0)
		al_conf_warn(cl, "access_log", "on-error=die is ignored: "
		    "cuttle drops lines it cannot write, and counts them");
	else if (strcmp(w, "on-error=drop") == 0)
		;
	else if (strncmp(w, "rotate=", 7) == 0)
		al_conf_warn(cl, "access_log", "rotate= is ignored: cuttle "
		    "reopens its logs on rotate and leaves renaming to "
		    "logrotate");
	else {
		al_conf_error(cl, "access_log", errors, "unknown option \"%s\"",
		    w);
		return (-1);
	}
	return (0);
}

/* Parse one access_log line into sp; 0 or -1 (error counted). */
static int
al_parse_line(const struct conf_line *cl, struct al_spec *sp, int *errors)
{
	const char *path, *colon;
	unsigned i;

	memset(sp, 0, sizeof *sp);
	sp->cap = AL_BUF_DEFAULT;
	if (cl->argc == 0) {
		al_conf_error(cl, "access_log", errors, "missing path");
		return (-1);
	}
	path = cl->argv[0];
	if (strncmp(path, "stdio:", 6) == 0)
		path += 6;
	else if (strncmp(path, "daemon:", 7) == 0)
		path += 7;
	colon = strchr(path, ':');
	if (colon != NULL && colon < strchrnul(path, '/')) {
		al_conf_error(cl, "access_log", errors, "the %.*s: module is "
		    "not supported; give a file path", (int)(colon - path),
		    path);
		return (-1);
	}
	sp->path = strcmp(path, "none") == 0 ? NULL : path;
	/* Options (Squid 5) are the words with '=', which no ACL name
	 * has; the first other word names the format (the older syntax),
	 * and the rest are ACLs. */
	for (i = 1; i < cl->argc; i++) {
		if (strchr(cl->argv[i], '=') != NULL) {
			if (al_option(cl, cl->argv[i], sp, errors) != 0)
				return (-1);
		} else if (sp->format == NULL && sp->path != NULL &&
		    sp->nacl == 0)
			sp->format = cl->argv[i];
		else
			sp->nacl++;
	}
	if (sp->format == NULL)
		sp->format = "squid";
	return (0);
}

static int
al_file_open(const char *path)
{
	return (open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
	    O_NONBLOCK | O_NOCTTY, 0640));
}

static int
al_add_file(struct access_log *l, const struct al_spec *sp,
    const struct logformat *fmt, int fd)
{
	struct al_file *v, *f;

	v = realloc(l->files, (l->nfiles + 1) * sizeof *v);
	if (v == NULL)
		return (-ENOMEM);
	l->files = v;
	f = &v[l->nfiles];
	memset(f, 0, sizeof *f);
	f->fd = fd;
	f->fmt = fmt;
	f->cap = f->size = sp->cap;
	f->path = strdup(sp->path);
	f->buf = malloc(f->size);
	if (f->path == NULL || f->buf == NULL) {
		free(f->path);
		free(f->buf);
		return (-ENOMEM);
	}
	l->nfiles++;
	return (0);
}

static int
al_open_files(struct access_log *l, const struct conf_lines *lines,
    int *errors)
{
	const struct conf_line *cl;
	const struct logformat *fmt;
	struct al_spec sp;
	bool stopped = false;
	size_t i;
	int fd;

	for (i = 0; lines != NULL && i < lines->n; i++) {
		cl = &lines->v[i];
		if (al_parse_line(cl, &sp, errors) != 0)
			continue;
		if (sp.nacl > 0)
			al_conf_warn(cl, "access_log", "ACLs are not evaluated "
			    "yet: %s", sp.path != NULL ? "this file gets "
			    "every transaction" : "this line stops nothing");
		fmt = al_find_format(l, sp.format);
		if (fmt == NULL) {
			al_conf_error(cl, "access_log", errors,
			    "unknown logformat \"%s\"", sp.format);
			continue;
		}
		if (sp.path == NULL) {
			/* Squid: a matching "none" ends the list. */
			if (sp.nacl == 0 && !stopped && i + 1 < lines->n)
				al_conf_warn(cl, "access_log", "the access_log "
				    "lines after this one log nothing");
			stopped = stopped || sp.nacl == 0;
			continue;
		}
		if (stopped)
			continue;
		fd = al_file_open(sp.path);
		if (fd == -1) {
			al_conf_error(cl, "access_log", errors,
			    "cannot open %s: %s", sp.path, strerror(errno));
			continue;
		}
		if (al_add_file(l, &sp, fmt, fd) != 0) {
			close(fd);
			return (-ENOMEM);
		}
	}
	return (0);
}

/* -- writing --------------------------------------------------------------- */

/*
 * Hand the buffer to write(2): all of it, or up to EAGAIN (the rest
 * waits), or up to an error (counted, reported once; the rest waits for a
 * retry, and lines that no longer fit are dropped meanwhile).
 */
static void
al_file_write(struct access_log *l, struct al_file *f)
{
	size_t off = 0;
	ssize_t n;

	while (off < f->len) {
		n = write(f->fd, f->buf + off, f->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN) {
			l->st.write_errors++;
			if (!f->failing)
				log_msg(LG_ERR, SEC_ACCESS, "access_log %s: "
				    "write failed: %s; lines are dropped "
				    "while it fails", f->path,
				    strerror(errno));
			f->failing = true;
		}
		if (n <= 0)
			break;
		off += (size_t)n;
		l->st.bytes += (uint64_t)n;
	}
	if (off == 0)
		return;
	memmove(f->buf, f->buf + off, f->len - off);
	f->len -= off;
	if (f->len == 0 && f->failing) {
		log_msg(LG_NOTICE, SEC_ACCESS, "access_log %s: writing again; "
		    "%llu lines were lost", f->path,
		    (unsigned long long)f->lost);
		f->failing = false;
		f->lost = 0;
	}
}

static void
al_file_append(struct access_log *l, struct al_file *f, const char *p,
    size_t n)
{
	char *nb;

	/* While a file fails, only the timer retries: once a second, not
	 * once per line. */
	if (f->len + n > f->cap && !f->failing)
		al_file_write(l, f);
	if (f->len > 0 && f->len + n > f->cap) {
		l->st.dropped++;
		f->lost++;
		if (!f->failing)
			log_msg(LG_ERR, SEC_ACCESS, "access_log %s: the file "
			    "takes lines slower than they come; lines are "
			    "dropped", f->path);
		f->failing = true;
		return;
	}
	if (n > f->size) {
		/* One line longer than the buffer: room for it alone. */
		nb = realloc(f->buf, n);
		if (nb == NULL) {
			l->st.dropped++;
			return;
		}
		f->buf = nb;
		f->size = n;
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	l->st.lines++;
	if (f->len >= f->cap)
		al_file_write(l, f);
}

static void
al_arm(struct access_log *l)
{
	size_t i;

	if (l->armed)
		return;
	for (i = 0; i < l->nfiles; i++)
		if (l->files[i].len > 0) {
			comm_timer_start(l->timer, AL_FLUSH_AFTER, 0);
			l->armed = true;
			return;
		}
}

static void
al_timer(struct comm_timer *t, void *arg)
{
	struct access_log *l = arg;

	(void)t;
	CHECK_OBJ_NOTNULL(l, ACCESS_LOG_MAGIC);
	l->armed = false;
	access_log_flush(l);
}

/* -- the API --------------------------------------------------------------- */

struct access_log *
access_log_open(struct comm_loop *loop, const struct conf_lines *access_log,
    const struct conf_lines *logformat, int *errors)
{
	struct access_log *l;

	AN(loop);
	AN(errors);
	ALLOC_OBJ(l, ACCESS_LOG_MAGIC);
	if (l == NULL)
		return (NULL);
	l->loop = loop;
	l->timer = comm_timer_new(loop, al_timer, l);
	if (l->timer == NULL ||
	    al_compile_formats(l, logformat, errors) != 0 ||
	    al_open_files(l, access_log, errors) != 0) {
		access_log_close(&l);
		errno = ENOMEM;
		return (NULL);
	}
	return (l);
}

bool
access_log_active(const struct access_log *l)
{
	CHECK_OBJ_NOTNULL(l, ACCESS_LOG_MAGIC);
	return (l->nfiles > 0);
}

void
access_log_write(struct access_log *l, const struct access_entry *e)
{
	const struct logformat *last = NULL;
	struct al_file *f;
	double now;
	size_t i;

	CHECK_OBJ_NOTNULL(l, ACCESS_LOG_MAGIC);
	AN(e);
	if (l->nfiles == 0)
		return;
	l->seq++;
	now = comm_now(l->loop);
	for (i = 0; i < l->nfiles; i++) {
		f = &l->files[i];
		if (f->fmt != last) {
			l->line.len = 0;
			l->line.oom = false;
			logformat_render(f->fmt, e, now, l->seq, &l->scratch,
			    &l->line);
			lf_text_add(&l->line, "\n", 1);
			last = f->fmt;
		}
		if (l->line.oom)
			l->st.dropped++;
		else
			al_file_append(l, f, l->line.p, l->line.len);
	}
	al_arm(l);
}

void
access_log_flush(struct access_log *l)
{
	size_t i;

	CHECK_OBJ_NOTNULL(l, ACCESS_LOG_MAGIC);
	for (i = 0; i < l->nfiles; i++)
		al_file_write(l, &l->files[i]);
	al_arm(l);
}

int
access_log_reopen(struct access_log *l)
{
	struct al_file *f;
	int fd, r = 0;
	size_t i;

	CHECK_OBJ_NOTNULL(l, ACCESS_LOG_MAGIC);
	access_log_flush(l);
	for (i = 0; i < l->nfiles; i++) {
		f = &l->files[i];
		fd = al_file_open(f->path);
		if (fd == -1) {
			if (r == 0)
				r = -errno;
			log_msg(LG_ERR, SEC_ACCESS, "access_log %s: cannot "
			    "reopen: %s; still writing to the old file",
			    f->path, strerror(errno));
			continue;
		}
		close(f->fd);
		f->fd = fd;
	}
	log_msg(LG_INFO, SEC_ACCESS, "access logs reopened");
	return (r);
}

int
access_log_chown(struct access_log *l, uid_t uid, gid_t gid)
{
	size_t i;
	int r = 0;

	CHECK_OBJ_NOTNULL(l, ACCESS_LOG_MAGIC);
	for (i = 0; i < l->nfiles; i++) {
		if (fchown(l->files[i].fd, uid, gid) == 0)
			continue;
		if (r == 0)
			r = -errno;
		log_msg(LG_WARN, SEC_ACCESS, "access_log %s: cannot give it "
		    "to uid %ld: %s; rotation may not reopen it",
		    l->files[i].path, (long)uid, strerror(errno));
	}
	return (r);
}

void
access_log_close(struct access_log **lp)
{
	struct access_log *l;
	size_t i;

	AN(lp);
	if (*lp == NULL)
		return;
	TAKE_OBJ_NOTNULL(l, lp, ACCESS_LOG_MAGIC);
	for (i = 0; i < l->nfiles; i++) {
		al_file_write(l, &l->files[i]);
		if (l->files[i].len > 0)
			log_msg(LG_ERR, SEC_ACCESS, "access_log %s: %zu bytes "
			    "could not be written", l->files[i].path,
			    l->files[i].len);
		close(l->files[i].fd);
		free(l->files[i].path);
		free(l->files[i].buf);
	}
	free(l->files);
	for (i = 0; i < l->nfmts; i++)
		logformat_free(&l->fmts[i]);
	free(l->fmts);
	comm_timer_free(&l->timer);
	lf_text_fini(&l->scratch.val);
	lf_text_fini(&l->scratch.part);
	lf_text_fini(&l->scratch.esc);
	lf_text_fini(&l->line);
	FREE_OBJ(l);
}

void
access_log_stats(const struct access_log *l, struct access_log_stats *st)
{
	size_t i;

	CHECK_OBJ_NOTNULL(l, ACCESS_LOG_MAGIC);
	*st = l->st;
	st->files = (unsigned)l->nfiles;
	st->pending = 0;
	for (i = 0; i < l->nfiles; i++)
		st->pending += l->files[i].len;
}
