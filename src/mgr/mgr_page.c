/*
 * mgr_page.c - the manager object: its registry, counters, history and
 * control actions, and the answer to one manager request.
 *
 *	mgr_new()	menu, control actions and the built-in pages
 *			registered; the first sample taken; a timer takes
 *			one a minute from then on
 *	mgr_answer()	find the action, check the password, render
 *	(control)	the reply is queued first; main's handler runs
 *			from the loop's call queue afterwards
 */
#include "config.h"

#include <sys/resource.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "mgr/mgr_page.h"

struct mgr {
	unsigned		magic;
#define MGR_MAGIC		0x3e6a0b1eU
	struct comm_loop	*loop;
	struct mgr_registry	*reg;
	struct mgr_stats	st;
	struct mgr_history	hist;
	struct mgr_top		clients;
	struct mgr_top		urls;
	struct comm_timer	*tick;
	double			start;
	mgr_control_fn		*control;
	void			*control_arg;
	struct comm_call	control_call;
	const char		*control_action;	/* pending */
	mgr_figures_fn		*figures;
	void			*figures_arg;
};

static comm_timer_fn mgr_tick;
static comm_call_fn mgr_control_run;
static mgr_render_fn mgr_render_menu;
static mgr_render_fn mgr_render_control;

/* Squid's wording for the control actions' replies. */
static const struct {
	const char	*name;
	const char	*title;
	const char	*text;
} mgr_controls[] = {
	{ "shutdown", "Shut Down the cuttle Process",
	    "Shutting down cuttle process ...." },
	{ "reconfigure", "Reconfigure cuttle",
	    "Reconfiguring cuttle process ...." },
	{ "rotate", "Rotate cuttle Logs",
	    "Rotating cuttle logs ...." },
};

static void
mgr_cpu_sample(struct mgr *m)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		m->st.c[MGR_C_CPU_USEC] =
		    (uint64_t)ru.ru_utime.tv_sec * 1000000u +
		    (uint64_t)ru.ru_utime.tv_usec +
		    (uint64_t)ru.ru_stime.tv_sec * 1000000u +
		    (uint64_t)ru.ru_stime.tv_usec;
}

static void
mgr_push_sample(struct mgr *m)
{
	struct mgr_sample s;

	mgr_cpu_sample(m);
	mgr_sample_take(&s, &m->st, comm_now(m->loop));
	mgr_history_push(&m->hist, &s);
}

struct mgr *
mgr_new(struct comm_loop *loop)
{
	struct mgr *m;
	size_t i;
	int err;

	ALLOC_OBJ(m, MGR_MAGIC);
	if (m == NULL)
		return (NULL);
	m->loop = loop;
	m->start = comm_now(loop);
	comm_call_init(&m->control_call, mgr_control_run);
	m->reg = mgr_registry_new();
	m->tick = comm_timer_new(loop, mgr_tick, m);
	if (m->reg == NULL || m->tick == NULL)
		goto fail;
	err = mgr_register(m->reg, MGR_SEC_RUNTIME, "menu",
	    "Cache Manager Menu", 0, mgr_render_menu, m);
	for (i = 0; err == 0 && i < ARRAY_LEN(mgr_controls); i++)
		err = mgr_register(m->reg, MGR_SEC_RUNTIME,
		    mgr_controls[i].name, mgr_controls[i].title,
		    MGR_F_PROTECTED | MGR_F_CONTROL, mgr_render_control, m);
	if (err == 0)
		err = mgr_page_register_stats(m->reg, m);
	if (err == 0)
		err = mgr_page_register_html(m->reg, m);
	if (err == 0)
		err = mgr_page_register_metrics(m->reg, m);
	if (err != 0)
		goto fail;
	mgr_push_sample(m);
	comm_timer_start(m->tick, 60.0, 60.0);
	return (m);
fail:
	mgr_free(&m);
	return (NULL);
}

void
mgr_free(struct mgr **mp)
{
	struct mgr *m;

	if (*mp == NULL)
		return;
	TAKE_OBJ_NOTNULL(m, mp, MGR_MAGIC);
	comm_call_cancel(&m->control_call);
	comm_timer_free(&m->tick);
	mgr_registry_free(&m->reg);
	FREE_OBJ(m);
}

void
mgr_set_control(struct mgr *m, mgr_control_fn *fn, void *arg)
{
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	m->control = fn;
	m->control_arg = arg;
}

void
mgr_set_figures(struct mgr *m, mgr_figures_fn *fn, void *arg)
{
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	m->figures = fn;
	m->figures_arg = arg;
}

void
mgr_figures_read(const struct mgr *m, struct mgr_figures *f)
{
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	memset(f, 0, sizeof *f);
	if (m->figures != NULL)
		m->figures(f, m->figures_arg);
	buf_pool_stats(comm_loop_pool(m->loop), &f->bs);
	mgr_proc_read(&f->proc);
}

struct mgr_registry *
mgr_actions(const struct mgr *m)
{
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	return (m->reg);
}

struct mgr_stats *
mgr_counters(struct mgr *m)
{
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	return (&m->st);
}

const struct mgr_stats *
mgr_stats(const struct mgr *m)
{
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	return (&m->st);
}

const struct mgr_top *
mgr_top_clients(const struct mgr *m)
{
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	return (&m->clients);
}

const struct mgr_top *
mgr_top_urls(const struct mgr *m)
{
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	return (&m->urls);
}

double
mgr_start_time(const struct mgr *m)
{
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	return (m->start);
}

struct comm_loop *
mgr_loop(const struct mgr *m)
{
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	return (m->loop);
}

static void
mgr_tick(struct comm_timer *tm, void *arg)
{
	struct mgr *m = arg;

	(void)tm;
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	mgr_push_sample(m);
}

void
mgr_txn_done(struct mgr *m, const struct mgr_txn_rec *rec, const char *url,
    size_t url_len, const char *client)
{
	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	mgr_stats_txn(&m->st, rec);
	if (url != NULL)
		mgr_top_add(&m->urls, url, url_len, rec->bytes_out);
	if (client != NULL)
		mgr_top_add(&m->clients, client, strlen(client),
		    rec->bytes_out);
}

void
mgr_period_last(const struct mgr *m, double now, unsigned minutes,
    struct mgr_period *p)
{
	struct mgr_sample cur;
	const struct mgr_sample *from;

	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	mgr_sample_take(&cur, &m->st, now);
	mgr_cpu_sample((struct mgr *)(uintptr_t)m);
	cur.c[MGR_C_CPU_USEC] = m->st.c[MGR_C_CPU_USEC];
	from = mgr_history_ago(&m->hist, now, minutes);
	mgr_period(p, from != NULL ? from : &cur, &cur);
}

/* -- process figures ------------------------------------------------------- */

void
mgr_proc_read(struct mgr_proc *p)
{
	struct rusage ru;
	struct rlimit rl;
	struct dirent *d;
	DIR *dir;
	FILE *f;
	long pages, rss;
	int fd;

	memset(p, 0, sizeof *p);
	p->rss_kb = -1;
	p->fds_open = -1;
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		p->cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec /
		    1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec /
		    1e6;
		p->maxrss_kb = ru.ru_maxrss;
		p->majflt = ru.ru_majflt;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		p->fds_max = rl.rlim_cur == RLIM_INFINITY ? -1 :
		    (int)rl.rlim_cur;
	if ((f = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &rss) == 2)
			p->rss_kb = rss * (sysconf(_SC_PAGESIZE) / 1024);
		fclose(f);
	}
	if ((dir = opendir("/proc/self/fd")) != NULL) {
		p->fds_open = 0;
		while ((d = readdir(dir)) != NULL) {
			if (d->d_name[0] == '.')
				continue;
			fd = atoi(d->d_name);
			if (fd == dirfd(dir))
				continue;
			p->fds_open++;
			if (fd > p->fd_largest)
				p->fd_largest = fd;
		}
		closedir(dir);
	}
}

/* -- the menu and the control actions -------------------------------------- */

/* Squid's layout: " name<pad>\ttitle<pad>\tprotection". */
static int
mgr_render_menu(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	struct mgr *m = arg;
	const struct mgr_action *a;
	size_t i;

	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	for (i = 0; (a = mgr_registry_at(m->reg, i)) != NULL; i++)
		if (!(a->flags & MGR_F_METRICS))
			mgr_out_printf(o, " %-22s\t%-32s\t%s\n", a->name,
			    a->title, mgr_protection(c->passwd, a));
	return (0);
}

static int
mgr_render_control(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	struct mgr *m = arg;
	size_t i;

	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	(void)c;
	/* mgr_answer() has put the action's name in control_action. */
	for (i = 0; i < ARRAY_LEN(mgr_controls); i++)
		if (strcmp(mgr_controls[i].name, m->control_action) == 0)
			break;
	AN(i < ARRAY_LEN(mgr_controls));
	if (m->control == NULL) {
		mgr_out_printf(o, "%s is not available in this cuttle.\n",
		    m->control_action);
		return (-ENOTSUP);
	}
	mgr_out_printf(o, "%s\n", mgr_controls[i].text);
	log_msg(LG_NOTICE, SEC_MGR, "%s requested through the cache "
	    "manager", m->control_action);
	comm_call_post(m->loop, &m->control_call);
	return (0);
}

static void
mgr_control_run(struct comm_call *call)
{
	struct mgr *m = container_of(call, struct mgr, control_call);

	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	if (m->control != NULL && m->control_action != NULL)
		m->control(m->control_action, m->control_arg);
}

/* -- one request ----------------------------------------------------------- */

static void
mgr_html_wrap(struct mgr_reply *rep, const struct mgr_action *a)
{
	struct mgr_out html;

	mgr_out_init(&html);
	mgr_out_printf(&html, "<!doctype html>\n<html><head><meta "
	    "charset=\"utf-8\"><title>cuttle: ");
	mgr_out_html(&html, a->title, strlen(a->title));
	mgr_out_printf(&html, "</title></head><body><p><a href=\"./\">"
	    "dashboard</a> &middot; <a href=\"menu\">menu</a></p><h1>");
	mgr_out_html(&html, a->title, strlen(a->title));
	mgr_out_printf(&html, "</h1><pre>");
	mgr_out_html(&html, rep->body.p != NULL ? rep->body.p : "",
	    rep->body.len);
	mgr_out_printf(&html, "</pre></body></html>\n");
	if (rep->body.failed)
		html.failed = true;
	mgr_out_fini(&rep->body);
	rep->body = html;
	rep->content_type = "text/html; charset=utf-8";
}

int
mgr_answer(struct mgr *m, const struct mgr_request *rq,
    struct mgr_reply *rep)
{
	const struct mgr_action *a;
	struct mgr_passwd *pw;
	struct mgr_call call;
	int err, errors = 0;

	CHECK_OBJ_NOTNULL(m, MGR_MAGIC);
	memset(rep, 0, sizeof *rep);
	mgr_out_init(&rep->body);
	rep->status = 200;
	rep->content_type = "text/plain; charset=utf-8";
	/* Compiled per request: a handful of lines, read a few times a
	 * minute at most, and always those of the conf in force. */
	pw = mgr_passwd_compile(rq->conf != NULL ?
	    &rq->conf->cachemgr_passwd : NULL, &errors);
	if (pw == NULL)
		return (-ENOMEM);
	call.conf = rq->conf;
	call.passwd = pw;
	call.now = rq->now;
	a = rq->page_len == 0 ? mgr_registry_find(m->reg, "index", 5) :
	    mgr_registry_find(m->reg, rq->page, rq->page_len);
	if (a != NULL && a->flags & MGR_F_METRICS)
		a = NULL;	/* a part of /metrics, not a page */
	if (a == NULL) {
		rep->status = 404;
		mgr_out_printf(&rep->body, "Unknown cache manager action: "
		    "%.*s\nmgr:menu lists them.\n", (int)rq->page_len,
		    rq->page);
		err = 0;
		goto done;
	}
	if (!mgr_password_ok(pw, a, rq->password)) {
		rep->status = 401;
		rep->realm = a->name;
		log_msg(LG_INFO, SEC_MGR, "%s: %s", a->name,
		    rq->password != NULL ? "wrong password" :
		    "password required");
		mgr_out_printf(&rep->body, "Cache Manager Access Denied.\n\n"
		    "The action \"%s\" needs the cache manager password "
		    "(cachemgr_passwd), given as cache_object://host/%s@"
		    "password or as HTTP Basic credentials.\n", a->name,
		    a->name);
		err = 0;
		goto done;
	}
	if (a->flags & MGR_F_CONTROL) {
		m->control_action = a->name;
		rep->close = true;
	}
	if (a->flags & MGR_F_HTML)
		rep->content_type = "text/html; charset=utf-8";
	else if (a->flags & MGR_F_JSON)
		rep->content_type = "application/json";
	else if (a->flags & MGR_F_PROM)
		rep->content_type = "text/plain; version=0.0.4; "
		    "charset=utf-8";
	err = a->fn(&rep->body, &call, a->arg);
	if (err == -ENOTSUP)
		rep->status = 501;
	else if (err != 0)
		rep->status = 500;
	err = 0;
	if (rq->format == MGR_FMT_HTML &&
	    (a->flags & (MGR_F_HTML | MGR_F_JSON | MGR_F_PROM)) == 0)
		mgr_html_wrap(rep, a);
done:
	mgr_passwd_free(&pw);
	if (err == 0 && mgr_out_failed(&rep->body))
		err = -ENOMEM;
	return (err);
}
