/*
 * mgr_page.h - the cache manager's top half (layer 6): the general
 * pages (menu, control actions, info, counters, 5min, 60min, mem,
 * config, the HTML dashboard, Prometheus /metrics), the per-minute
 * history, and answering one manager request.
 *
 * A module's own pages are its own: the store, the server side, the
 * resolver and the client side each register theirs (mgr_register())
 * with their object as the page's arg when they are created.  The
 * general pages read the client side's figures through the provider it
 * sets (mgr_set_figures()), so nothing here includes client/.  The
 * client side recognises a manager request, checks http_access (the
 * `manager` acl), calls mgr_answer() and writes the reply.  Nothing here
 * touches a socket or a transaction.
 *
 * Lifecycle:
 *	mgr_new()		general pages registered, history started
 *	mgr_set_control()	main's handler: shutdown, reconfigure, rotate
 *	mgr_set_figures()	the client side, as it is created
 *	mgr_txn_done()		each finished transaction, counted
 *	mgr_answer()		each manager request
 *	mgr_free()		at exit, before the modules its registry
 *				points to
 */
#ifndef CUTTLE_MGR_PAGE_H
#define CUTTLE_MGR_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf/buf.h"
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
struct mgr_registry	*mgr_actions(const struct mgr *m);

/* mgr_txn_done() - count a finished transaction; url and client (may be
 * NULL) feed the busiest-URL and busiest-client tables. */
void		mgr_txn_done(struct mgr *m, const struct mgr_txn_rec *rec,
		    const char *url, size_t url_len, const char *client);
const struct mgr_stats	*mgr_stats(const struct mgr *m);
/* mgr_counters() - the counters, for the client side to feed. */
struct mgr_stats	*mgr_counters(struct mgr *m);
const struct mgr_top	*mgr_top_clients(const struct mgr *m);
const struct mgr_top	*mgr_top_urls(const struct mgr *m);

enum mgr_format {
	MGR_FMT_TEXT,		/* Squid's plain text */
	MGR_FMT_HTML		/* a browser asked (Accept: text/html) */
};

struct mgr_request {
	const char	*page;		/* "": the index (dashboard) */
	size_t		page_len;
	const char	*password;	/* NULL: none given */
	enum mgr_format	format;
	const struct conf *conf;	/* in force; NULL: none */
	double		now;		/* comm_now() of the loop */
};

struct mgr_reply {
	unsigned	status;		/* 200, 401, 404, 500, 501 */
	const char	*content_type;
	const char	*realm;		/* 401: for WWW-Authenticate */
	bool		close;		/* a control action */
	struct mgr_out	body;		/* the caller finis it */
};

/* mgr_answer() - render rq into rep (initialised here).  The password is
 * checked against rq's conf; a control action also schedules main's
 * handler.  0, or -ENOMEM (rep->body may hold a part). */
int	mgr_answer(struct mgr *m, const struct mgr_request *rq,
	    struct mgr_reply *rep);

/* -- for the renderers (mgr_page_*.c) and their tests ---------------------- */

/* mgr_period_last() - what happened over the last `minutes` (as far
 * back as the history goes), up to now. */
void	mgr_period_last(const struct mgr *m, double now, unsigned minutes,
	    struct mgr_period *p);
double	mgr_start_time(const struct mgr *m);
struct comm_loop	*mgr_loop(const struct mgr *m);

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

/* The client side's figures, as the general pages report them. */
struct mgr_client_figures {
	uint64_t	conns_accepted;
	unsigned	conns_open;
	uint64_t	fetches;	/* shared fetches started */
	uint64_t	collapsed;	/* requests that joined one */
	uint64_t	revalidations;
	uint64_t	purges;
	/* ssl_bump */
	uint64_t	bumped;		/* CONNECTs bumped */
	uint64_t	spliced;	/* ... spliced on an ssl-bump port */
	uint64_t	certs_minted;
	uint64_t	cert_hits;	/* served from the certificate cache */
	uint64_t	cert_entries;	/* in the cache (the last minter's) */
	uint64_t	cert_bytes;
};

/* What the general pages report, read from every module at once; what
 * no provider fills reads as zeros. */
struct mgr_figures {
	struct mgr_client_figures	client;
	struct store_index_stats	ss;
	struct buf_pool_stats		bs;
	struct fwd_ctx_stats		fs;
	struct dns_stats		ds;
	struct mgr_proc			proc;
};

/*
 * A figures provider fills client, ss, fs and ds from the modules in
 * force when it is called (reconfigure may have replaced some since the
 * last call); the manager reads bs and proc itself.  The client side
 * sets one: it holds the modules the requests use.
 */
typedef void	mgr_figures_fn(struct mgr_figures *f, void *arg);
/* mgr_set_figures() - fn(f, arg) from now on; NULL: zeros. */
void	mgr_set_figures(struct mgr *m, mgr_figures_fn *fn, void *arg);
void	mgr_figures_read(const struct mgr *m, struct mgr_figures *f);

/* Register the general pages (mgr_page_stats.c, _html.c, _metrics.c). */
int	mgr_page_register_stats(struct mgr_registry *r, struct mgr *m);
int	mgr_page_register_html(struct mgr_registry *r, struct mgr *m);
int	mgr_page_register_metrics(struct mgr_registry *r, struct mgr *m);

/* The renderers of the general pages that tests call directly (arg: the
 * struct mgr). */
mgr_render_fn	mgr_render_counters;
mgr_render_fn	mgr_render_info;
mgr_render_fn	mgr_render_metrics;
mgr_render_fn	mgr_render_json;

#endif /* CUTTLE_MGR_PAGE_H */
