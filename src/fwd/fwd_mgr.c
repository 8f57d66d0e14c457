/*
 * fwd_mgr.c - the server side's manager page: pconn, the idle server
 * connections (Squid's "Persistent Connection Utilization Histograms").
 * Registered by fwd_register_pages() with the fwd_ctx as its arg.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "fwd/fwd.h"
#include "mgr/mgr.h"

/* Idle server connections by host:port: a short table, linear (the pool
 * holds at most a few hundred per host). */
#define FWD_MGR_HOSTS	64

struct fwd_mgr_walk {
	struct {
		const char	*key;
		unsigned	n;
	}		host[FWD_MGR_HOSTS];
	unsigned	nhosts;
	unsigned	others;		/* past the table */
};

static void
fwd_mgr_pconn_one(const char *key, const struct sockaddr *peer, void *arg)
{
	struct fwd_mgr_walk *w = arg;
	unsigned i;

	(void)peer;
	for (i = 0; i < w->nhosts; i++)
		if (strcmp(w->host[i].key, key) == 0) {
			w->host[i].n++;
			return;
		}
	if (w->nhosts == FWD_MGR_HOSTS) {
		w->others++;
		return;
	}
	w->host[w->nhosts].key = key;
	w->host[w->nhosts++].n = 1;
}

static int
fwd_mgr_pconn(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct fwd_ctx *ctx = arg;
	struct fwd_mgr_walk w;
	struct fwd_ctx_stats fs;
	unsigned i;

	(void)c;
	memset(&w, 0, sizeof w);
	fwd_ctx_stats(ctx, &fs);
	fwd_pool_walk(ctx, fwd_mgr_pconn_one, &w);
	mgr_out_printf(o, "Pool 0 Stats\n");
	mgr_out_printf(o, "server-side persistent connection counts:\n\n");
	mgr_out_printf(o, "\tidle now:\t%u\n", fs.idle);
	mgr_out_printf(o, "\topened:\t%ju\n", (uintmax_t)fs.conns_opened);
	mgr_out_printf(o, "\treused:\t%ju\n", (uintmax_t)fs.conns_reused);
	mgr_out_printf(o, "\trequests:\t%ju\n", (uintmax_t)fs.requests);
	mgr_out_printf(o, "\tretries:\t%ju\n", (uintmax_t)fs.retries);
	mgr_out_printf(o, "\treq/conn:\t%.2f\n", fs.conns_opened > 0 ?
	    (double)fs.requests / (double)fs.conns_opened : 0.0);
	mgr_out_printf(o, "\nidle connections by server:\n\n");
	mgr_out_printf(o, "\t%-40s %s\n", "host:port", "idle");
	for (i = 0; i < w.nhosts; i++)
		mgr_out_printf(o, "\t%-40s %u\n", w.host[i].key,
		    w.host[i].n);
	if (w.others > 0)
		mgr_out_printf(o, "\t%-40s %u\n", "(other servers)",
		    w.others);
	return (0);
}

int
fwd_register_pages(struct fwd_ctx *ctx, struct mgr_registry *r)
{
	AN(ctx);
	return (mgr_register(r, MGR_SEC_SERVER, "pconn", "Persistent "
	    "Connection Utilization Histograms", 0, fwd_mgr_pconn, ctx));
}
