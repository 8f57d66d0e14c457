/*
 * mgr_page.h - the cache manager's top half (layer 6): the pages cuttle
 * registers, the HTML dashboard, Prometheus /metrics, the per-minute
 * history, and answering one manager request.
 *
 * The client side recognises a manager request, checks http_access (the
 * `manager` acl), gathers a view of the modules (struct mgr_view) and
 * calls mgr_answer(); it then writes the reply.  Nothing here touches a
 * socket or a transaction.
 *
 * Lifecycle:
 *	mgr_new()		built-in pages registered, history started
 *	mgr_set_control()	main's handler: shutdown, reconfigure, rotate
 *	mgr_txn_done()		each finished transaction, counted
 *	mgr_answer()		each manager request
 *	mgr_free()		at exit
 */
#ifndef CUTTLE_MGR_PAGE_H
#define CUTTLE_MGR_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "fwd/fwd.h"
#include "mgr/mgr.h"
#include "store/store.h"

struct mgr;

/* main's handler for a control action ("shutdown", "reconfigure",
 * "rotate"); runs from the loop after the action's reply is queued,
 * never inside client code. */
typedef void mgr_control_fn(const char *action, void *arg);

/* mgr_new() - NULL on ENOMEM. */
struct mgr	*mgr_new(struct comm_loop *loop);
void		mgr_free(struct mgr **mp);
/* mgr_set_control() - without one, control actions answer 501. */
void		mgr_set_control(struct mgr *m, mgr_control_fn *fn,
		    void *arg);
/* mgr_actions() - where modules register their pages. */
struct mgr_registry	*mgr_actions(struct mgr *m);

/* mgr_txn_done() - count a finished transaction; url and client (may be
 * NULL) feed the busiest-URL and busiest-client tables. */
void		mgr_txn_done(struct mgr *m, const struct mgr_txn_rec *rec,
		    const char *url, size_t url_len, const char *client);
const struct mgr_stats	*mgr_stats(const struct mgr *m);
const struct mgr_top	*mgr_top_clients(const struct mgr *m);
const struct mgr_top	*mgr_top_urls(const struct mgr *m);

/*
 * What the pages read, gathered by the client side for one request:
 * the settings and the modules in force now (reconfigure may change
 * them between two requests).  NULL module pointers mean "not there".
 */
struct mgr_view {
	struct mgr		*mgr;
	const struct conf	*conf;
	struct comm_loop	*loop;
	struct client_stats	client;
	unsigned		local_port;	/* the request came in on */
	struct fwd_ctx		*fwd;
	struct store_index	*store;
	struct dns_resolver	*dns;
	const struct mgr_passwd	*passwd;	/* set by mgr_answer() */
	void			*client_ctx;	/* client's pages */
	double			now;
};

enum mgr_format {
	MGR_FMT_TEXT,		/* Squid's plain text */
	MGR_FMT_HTML		/* a browser asked (Accept: text/html) */
};

struct mgr_request {
	const char	*page;		/* "": the index (dashboard) */
	size_t		page_len;
	const char	*password;	/* NULL: none given */
	enum mgr_format	format;
};

struct mgr_reply {
	unsigned	status;		/* 200, 401, 404, 500, 501 */
	const char	*content_type;
	const char	*realm;		/* 401: for WWW-Authenticate */
	bool		close;		/* a control action */
	struct mgr_out	body;		/* the caller finis it */
};

/* mgr_answer() - render rq into rep (initialised here).  The password is
 * checked against the view's conf; a control action also schedules
 * main's handler.  0, or -ENOMEM (rep->body may hold a part). */
int	mgr_answer(struct mgr *m, struct mgr_view *v,
	    const struct mgr_request *rq, struct mgr_reply *rep);

/* -- for the renderers (mgr_page_*.c) and their tests ---------------------- */

/* mgr_period_last() - what happened over the last `minutes` (as far
 * back as the history goes), up to now. */
void	mgr_period_last(const struct mgr *m, double now, unsigned minutes,
	    struct mgr_period *p);
double	mgr_start_time(const struct mgr *m);

/* Process figures, read from the kernel. */
struct mgr_proc {
	double		cpu;		/* user + system, seconds */
	long		maxrss_kb;
	long		rss_kb;		/* now; -1 unknown */
	long		majflt;
	int		fds_open;	/* -1 unknown */
	int		fds_max;
	int		fd_largest;
};
void	mgr_proc_read(struct mgr_proc *p);

/* What the pages report, read from every module at once; a module the
 * view lacks reads as zeros. */
struct mgr_figures {
	struct store_index_stats	ss;
	struct buf_pool_stats		bs;
	struct fwd_ctx_stats		fs;
	struct dns_stats		ds;
	struct mgr_proc			proc;
};
void	mgr_figures_read(const struct mgr_view *v, struct mgr_figures *f);

/* Register the built-in pages (mgr_page_stats.c, _html.c, _metrics.c). */
int	mgr_page_register_stats(struct mgr_registry *r, struct mgr *m);
int	mgr_page_register_html(struct mgr_registry *r, struct mgr *m);
int	mgr_page_register_metrics(struct mgr_registry *r, struct mgr *m);

/* The renderers of the text pages that tests call directly. */
mgr_render_fn	mgr_render_counters;
mgr_render_fn	mgr_render_info;
mgr_render_fn	mgr_render_metrics;
mgr_render_fn	mgr_render_json;

#endif /* CUTTLE_MGR_PAGE_H */
