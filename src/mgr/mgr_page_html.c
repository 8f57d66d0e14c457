/*
 * mgr_page_html.c - the dashboard for people: one self-contained HTML
 * page (mgr_dashboard.html, compiled in by the build: no CDN, no fonts,
 * works with the network off) whose script polls dashboard_json every
 * two seconds and draws the series it keeps as inline SVG.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "mgr/mgr_page.h"

/* mgr_page_dashboard_tbl.c, generated from mgr_dashboard.html. */
extern const char	mgr_dashboard_html[];
extern const size_t	mgr_dashboard_html_len;

static int
mgr_render_index(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	(void)c;
	(void)arg;
	mgr_out_append(o, mgr_dashboard_html, mgr_dashboard_html_len);
	return (0);
}

static void
json_top(struct mgr_out *o, const char *name, const struct mgr_top *t)
{
	unsigned idx[10], i, n;

	n = mgr_top_sorted(t, idx, ARRAY_LEN(idx));
	mgr_out_printf(o, ",\"%s\":[", name);
	for (i = 0; i < n; i++) {
		mgr_out_printf(o, "%s{\"key\":", i > 0 ? "," : "");
		mgr_out_json(o, t->v[idx[i]].key, strlen(t->v[idx[i]].key));
		mgr_out_printf(o, ",\"n\":%ju,\"bytes\":%ju}",
		    (uintmax_t)t->v[idx[i]].n, (uintmax_t)t->v[idx[i]].bytes);
	}
	mgr_out_printf(o, "]");
}

static void
json_period(struct mgr_out *o, const char *name, const struct mgr_period *p)
{
	mgr_out_printf(o, ",\"%s\":{\"seconds\":%.3f,\"requests\":%ju,"
	    "\"hits\":%ju,\"bytes_out\":%ju,\"hit_bytes\":%ju,"
	    "\"hit_ratio\":%.3f,\"byte_hit_ratio\":%.3f,"
	    "\"median_svc_time\":%.6f}", name, p->seconds,
	    (uintmax_t)p->c[MGR_C_REQUESTS], (uintmax_t)p->c[MGR_C_HITS],
	    (uintmax_t)p->c[MGR_C_BYTES_OUT], (uintmax_t)p->c[MGR_C_HIT_BYTES],
	    mgr_ratio(p->c[MGR_C_HITS], p->c[MGR_C_REQUESTS]),
	    mgr_ratio(p->c[MGR_C_HIT_BYTES], p->c[MGR_C_BYTES_OUT]),
	    mgr_hist_median(p->hist[MGR_KIND_ALL]));
}

/* Counters as they are now: the page computes rates between polls. */
int
mgr_render_json(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct mgr *m = arg;
	struct mgr_figures fg;
	const struct mgr_client_figures *cs = &fg.client;
	const struct store_index_stats *ss = &fg.ss;
	const struct fwd_ctx_stats *fs = &fg.fs;
	const struct mgr_stats *st = mgr_stats(m);
	struct mgr_period p5, p60;
	char name[64];
	uint64_t n;
	unsigned i, shown;

	mgr_figures_read(m, &fg);
	mgr_period_last(m, c->now, 5, &p5);
	mgr_period_last(m, c->now, 60, &p60);
	mgr_out_printf(o, "{\"version\":");
	mgr_out_json(o, PACKAGE_VERSION, strlen(PACKAGE_VERSION));
	mgr_out_printf(o, ",\"now\":%.3f,\"start\":%.3f", c->now,
	    mgr_start_time(m));
	mgr_out_printf(o, ",\"requests\":%ju,\"hits\":%ju,\"errors\":%ju,"
	    "\"denied\":%ju,\"bytes_in\":%ju,\"bytes_out\":%ju,"
	    "\"hit_bytes\":%ju,\"conns_open\":%u,\"conns_accepted\":%ju",
	    (uintmax_t)st->c[MGR_C_RECEIVED], (uintmax_t)st->c[MGR_C_HITS],
	    (uintmax_t)st->c[MGR_C_ERRORS], (uintmax_t)st->c[MGR_C_DENIED],
	    (uintmax_t)st->c[MGR_C_BYTES_IN], (uintmax_t)st->c[MGR_C_BYTES_OUT],
	    (uintmax_t)st->c[MGR_C_HIT_BYTES], cs->conns_open,
	    (uintmax_t)cs->conns_accepted);
	mgr_out_printf(o, ",\"server_idle\":%u,\"server_requests\":%ju",
	    fs->idle, (uintmax_t)fs->requests);
	mgr_out_printf(o, ",\"cache_bytes\":%ju,\"cache_max\":%ju,"
	    "\"cache_objects\":%ju", (uintmax_t)ss->bytes,
	    (uintmax_t)(c->conf != NULL ? c->conf->cache_mem : 0),
	    (uintmax_t)ss->entries);
	json_period(o, "r5", &p5);
	json_period(o, "r60", &p60);
	mgr_out_printf(o, ",\"codes\":{");
	for (i = 0, shown = 0; i < RESULT__COUNT * RESULT_END__COUNT; i++) {
		n = st->by_code[i / RESULT_END__COUNT][i % RESULT_END__COUNT];
		if (n == 0)
			continue;
		mgr_out_printf(o, "%s", shown++ > 0 ? "," : "");
		mgr_code_name(i / RESULT_END__COUNT, i % RESULT_END__COUNT,
		    name, sizeof name);
		mgr_out_json(o, name, strlen(name));
		mgr_out_printf(o, ":%ju", (uintmax_t)n);
	}
	mgr_out_printf(o, "}");
	json_top(o, "top_urls", mgr_top_urls(m));
	json_top(o, "top_clients", mgr_top_clients(m));
	mgr_out_printf(o, "}\n");
	return (0);
}

int
mgr_page_register_html(struct mgr_registry *r, struct mgr *m)
{
	int err;

	err = mgr_register(r, MGR_SEC_VIEWS, "index",
	    "Cache Manager Interface (dashboard)", MGR_F_HTML,
	    mgr_render_index, m);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_VIEWS, "dashboard_json",
		    "The dashboard's data (JSON)", MGR_F_JSON,
		    mgr_render_json, m);
	return (err);
}
