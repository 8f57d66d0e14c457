/*
 * helper_mgr.c - the helper pools' manager pages and their part of
 * /metrics.  A pool's page is registered with the pool as its arg
 * (reconfigure moves it to the new pool with mgr_registry_rebind());
 * the metrics part reads every pool of a struct helper_pools, so that
 * each Prometheus family is written once, with a helper="name" label
 * per pool.
 */
#include "config.h"

#include <stdio.h>

#include "base/check.h"
#include "helper/helper.h"
#include "mgr/mgr.h"

static int
helper_mgr_page(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	helper_pool_render(arg, o, c->now);
	return (0);
}

int
helper_register_page(struct helper_pool *p, struct mgr_registry *r)
{
	char title[96];

	(void)snprintf(title, sizeof title, "%s Stats",
	    helper_pool_name(p));
	return (mgr_register(r, MGR_SEC_HELPERS, helper_pool_name(p), title,
	    0, helper_mgr_page, p));
}

/* One family: HELP and TYPE once, then a sample per pool. */
static void
helper_mgr_family(struct mgr_out *o, const struct helper_pools *ps,
    const char *name, const char *type, const char *help,
    uint64_t (*value)(const struct helper_stats *))
{
	struct helper_stats st;
	unsigned i;

	mgr_out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
	for (i = 0; i < ps->n; i++) {
		helper_pool_stats(ps->v[i], &st);
		mgr_out_printf(o, "%s{helper=\"%s\"} %ju\n", name,
		    helper_pool_name(ps->v[i]), (uintmax_t)value(&st));
	}
}

static uint64_t
hs_requests(const struct helper_stats *st)
{
	return (st->requests);
}

static uint64_t
hs_replies(const struct helper_stats *st)
{
	return (st->replies);
}

static uint64_t
hs_timeouts(const struct helper_stats *st)
{
	return (st->results[HELPER_TIMEOUT]);
}

static uint64_t
hs_overloads(const struct helper_stats *st)
{
	return (st->results[HELPER_OVERLOAD]);
}

static uint64_t
hs_died(const struct helper_stats *st)
{
	return (st->died);
}

static uint64_t
hs_children(const struct helper_stats *st)
{
	return (st->children);
}

static uint64_t
hs_queued(const struct helper_stats *st)
{
	return (st->queued);
}

static int
helper_mgr_metrics(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct helper_pools *ps = arg;

	(void)c;
	if (ps->n == 0)
		return (0);
	helper_mgr_family(o, ps, "cuttle_helper_requests_total", "counter",
	    "Requests submitted to a helper pool.", hs_requests);
	helper_mgr_family(o, ps, "cuttle_helper_replies_total", "counter",
	    "Answers helpers gave to requests still waiting.", hs_replies);
	helper_mgr_family(o, ps, "cuttle_helper_timeouts_total", "counter",
	    "Requests the helper did not answer in time.", hs_timeouts);
	helper_mgr_family(o, ps, "cuttle_helper_overloads_total", "counter",
	    "Requests refused because the queue was full.", hs_overloads);
	helper_mgr_family(o, ps, "cuttle_helper_deaths_total", "counter",
	    "Helper children that exited or were killed.", hs_died);
	helper_mgr_family(o, ps, "cuttle_helper_children", "gauge",
	    "Helper children running.", hs_children);
	helper_mgr_family(o, ps, "cuttle_helper_queue_length", "gauge",
	    "Requests waiting for a free helper child.", hs_queued);
	return (0);
}

int
helper_register_metrics(struct helper_pools *ps, struct mgr_registry *r)
{
	AN(ps);
	return (mgr_register(r, MGR_SEC_HELPERS, "helper_metrics",
	    "Helper pools (a part of /metrics)", MGR_F_METRICS,
	    helper_mgr_metrics, ps));
}
