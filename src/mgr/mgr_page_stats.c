/*
 * mgr_page_stats.c - the general text pages, in Squid's layouts so that
 * scripts written for Squid's cache manager read cuttle's: info,
 * counters, 5min, 60min, mem, config.  (objects and storedir are the
 * store's, pconn the server side's, ipcache the resolver's.)
 *
 * Each renders from the figures of the modules (mgr_figures_read()) and
 * from the manager's own counters; figures cuttle does not have (ICP,
 * disk swap ...) are left out rather than printed as zeros that would
 * look measured.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/check.h"
#include "mgr/mgr_page.h"

static const char *
mgr_date(double t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		snprintf(buf, len, "%.0f", t);
	return (buf);
}

static double
mgr_kb(uint64_t bytes)
{
	return ((double)bytes / 1024.0);
}

/* -- info ------------------------------------------------------------------ */

int
mgr_render_info(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct mgr *m = arg;
	struct mgr_figures fg;
	const struct mgr_client_figures *cs = &fg.client;
	const struct mgr_stats *st = mgr_stats(m);
	struct mgr_period p5, p60;
	double start, up, mem_max;
	char d1[64], d2[64];

	mgr_figures_read(m, &fg);
	mgr_period_last(m, c->now, 5, &p5);
	mgr_period_last(m, c->now, 60, &p60);
	start = mgr_start_time(m);
	up = c->now - start;
	mem_max = c->conf != NULL ? (double)c->conf->cache_mem : 0;

	mgr_out_printf(o, "Squid Object Cache: Version %s (cuttle)\n",
	    PACKAGE_VERSION);
	mgr_out_printf(o, "Build Info: cuttle %s\n", PACKAGE_VERSION);
	mgr_out_printf(o, "Service Name: cuttle\n");
	mgr_out_printf(o, "Start Time:\t%s\n", mgr_date(start, d1,
	    sizeof d1));
	mgr_out_printf(o, "Current Time:\t%s\n", mgr_date(c->now, d2,
	    sizeof d2));
	mgr_out_printf(o, "Connection information for cuttle:\n");
	mgr_out_printf(o, "\tNumber of clients accessing cache:\t%u\n",
	    mgr_top_clients(m)->n);
	mgr_out_printf(o, "\tNumber of HTTP requests received:\t%ju\n",
	    (uintmax_t)st->c[MGR_C_RECEIVED]);
	mgr_out_printf(o, "\tNumber of client connections accepted:\t%ju\n",
	    (uintmax_t)cs->conns_accepted);
	mgr_out_printf(o, "\tNumber of client connections open:\t%u\n",
	    cs->conns_open);
	mgr_out_printf(o, "\tNumber of idle server connections:\t%u\n",
	    fg.fs.idle);
	mgr_out_printf(o, "\tRequest failure ratio:\t%5.2f\n",
	    st->c[MGR_C_RECEIVED] > 0 ? (double)st->c[MGR_C_ERRORS] / (double)st->c[MGR_C_RECEIVED] :
	    0.0);
	mgr_out_printf(o, "\tAverage HTTP requests per minute since start:"
	    "\t%.1f\n", up > 0 ? (double)st->c[MGR_C_RECEIVED] / (up / 60.0) : 0.0);
	mgr_out_printf(o, "Cache information for cuttle:\n");
	mgr_out_printf(o, "\tHits as %% of all requests:\t5min: %3.1f%%, "
	    "60min: %3.1f%%\n", mgr_ratio(p5.c[MGR_C_HITS],
	    p5.c[MGR_C_REQUESTS]), mgr_ratio(p60.c[MGR_C_HITS],
	    p60.c[MGR_C_REQUESTS]));
	mgr_out_printf(o, "\tHits as %% of bytes sent:\t5min: %3.1f%%, "
	    "60min: %3.1f%%\n", mgr_ratio(p5.c[MGR_C_HIT_BYTES],
	    p5.c[MGR_C_BYTES_OUT]), mgr_ratio(p60.c[MGR_C_HIT_BYTES],
	    p60.c[MGR_C_BYTES_OUT]));
	mgr_out_printf(o, "\tMemory hits as %% of hit requests:\t5min: "
	    "%3.1f%%, 60min: %3.1f%%\n", mgr_ratio(p5.c[MGR_C_MEM_HITS],
	    p5.c[MGR_C_HITS]), mgr_ratio(p60.c[MGR_C_MEM_HITS],
	    p60.c[MGR_C_HITS]));
	mgr_out_printf(o, "\tDisk hits as %% of hit requests:\t5min: "
	    "%3.1f%%, 60min: %3.1f%%\n", 0.0, 0.0);
	mgr_out_printf(o, "\tStorage Swap size:\t0 KB\n");
	mgr_out_printf(o, "\tStorage Mem size:\t%.0f KB\n", mgr_kb(fg.ss.bytes));
	mgr_out_printf(o, "\tStorage Mem capacity:\t%4.1f%% used, %4.1f%% "
	    "free\n", mem_max > 0 ? 100.0 * (double)fg.ss.bytes / mem_max : 0,
	    mem_max > 0 ? 100.0 - 100.0 * (double)fg.ss.bytes / mem_max : 0);
	mgr_out_printf(o, "\tMean Object Size:\t%0.2f KB\n", fg.ss.entries > 0 ?
	    mgr_kb(fg.ss.bytes) / (double)fg.ss.entries : 0.0);
	mgr_out_printf(o, "Median Service Times (seconds)  5 min    60 min:\n");
	mgr_out_printf(o, "\tHTTP Requests (All):  %8.5f %8.5f\n",
	    mgr_hist_median(p5.hist[MGR_KIND_ALL]),
	    mgr_hist_median(p60.hist[MGR_KIND_ALL]));
	mgr_out_printf(o, "\tCache Misses:         %8.5f %8.5f\n",
	    mgr_hist_median(p5.hist[MGR_KIND_MISS]),
	    mgr_hist_median(p60.hist[MGR_KIND_MISS]));
	mgr_out_printf(o, "\tCache Hits:           %8.5f %8.5f\n",
	    mgr_hist_median(p5.hist[MGR_KIND_HIT]),
	    mgr_hist_median(p60.hist[MGR_KIND_HIT]));
	mgr_out_printf(o, "\tNear Hits:            %8.5f %8.5f\n",
	    mgr_hist_median(p5.hist[MGR_KIND_NH]),
	    mgr_hist_median(p60.hist[MGR_KIND_NH]));
	mgr_out_printf(o, "\tNot-Modified Replies: %8.5f %8.5f\n",
	    mgr_hist_median(p5.hist[MGR_KIND_NM]),
	    mgr_hist_median(p60.hist[MGR_KIND_NM]));
	mgr_out_printf(o, "Resource usage for cuttle:\n");
	mgr_out_printf(o, "\tUP Time:\t%.3f seconds\n", up);
	mgr_out_printf(o, "\tCPU Time:\t%.3f seconds\n", fg.proc.cpu);
	mgr_out_printf(o, "\tCPU Usage:\t%.2f%%\n", up > 0 ?
	    100.0 * fg.proc.cpu / up : 0.0);
	mgr_out_printf(o, "\tCPU Usage, 5 minute avg:\t%.2f%%\n",
	    p5.seconds > 0 ? (double)p5.c[MGR_C_CPU_USEC] / 1e4 /
	    p5.seconds : 0.0);
	mgr_out_printf(o, "\tCPU Usage, 60 minute avg:\t%.2f%%\n",
	    p60.seconds > 0 ? (double)p60.c[MGR_C_CPU_USEC] / 1e4 /
	    p60.seconds : 0.0);
	mgr_out_printf(o, "\tMaximum Resident Size: %ld KB\n", fg.proc.maxrss_kb);
	mgr_out_printf(o, "\tResident Size: %ld KB\n", fg.proc.rss_kb);
	mgr_out_printf(o, "\tPage faults with physical i/o: %ld\n",
	    fg.proc.majflt);
	mgr_out_printf(o, "Memory accounted for:\n");
	mgr_out_printf(o, "\tTotal accounted:       %8.0f KB\n",
	    mgr_kb(fg.bs.bytes + fg.bs.cached_bytes));
	mgr_out_printf(o, "\tPages in use:          %8zu\n", fg.bs.pages);
	mgr_out_printf(o, "\tBytes in use:          %8.0f KB\n",
	    mgr_kb(fg.bs.bytes));
	mgr_out_printf(o, "\tBytes pinned by writes:%8.0f KB\n",
	    mgr_kb(fg.bs.pinned));
	mgr_out_printf(o, "\tPages cached for reuse:%8zu\n", fg.bs.cached_pages);
	mgr_out_printf(o, "\tmemPoolAlloc calls: %9ju\n",
	    (uintmax_t)fg.bs.allocs);
	mgr_out_printf(o, "File descriptor usage for cuttle:\n");
	mgr_out_printf(o, "\tMaximum number of file descriptors:   %d\n",
	    fg.proc.fds_max);
	mgr_out_printf(o, "\tLargest file desc currently in use:   %d\n",
	    fg.proc.fd_largest);
	mgr_out_printf(o, "\tNumber of file desc currently in use: %d\n",
	    fg.proc.fds_open);
	mgr_out_printf(o, "\tAvailable number of file descriptors: %d\n",
	    fg.proc.fds_max > 0 && fg.proc.fds_open >= 0 ?
	    fg.proc.fds_max - fg.proc.fds_open : -1);
	mgr_out_printf(o, "Internal Data Structures:\n");
	mgr_out_printf(o, "\t%6ju StoreEntries\n", (uintmax_t)fg.ss.entries);
	mgr_out_printf(o, "\t%6ju StoreEntries with MemObjects\n",
	    (uintmax_t)fg.ss.entries);
	mgr_out_printf(o, "\t%6ju Hot Object Cache Items\n",
	    (uintmax_t)fg.ss.entries);
	mgr_out_printf(o, "\t%6u on-disk objects\n", 0u);
	mgr_out_printf(o, "\t%6u ipcache entries\n", fg.ds.entries);
	return (0);
}

/* -- counters -------------------------------------------------------------- */

int
mgr_render_counters(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct mgr *m = arg;
	struct mgr_figures fg;
	const struct mgr_client_figures *cs = &fg.client;
	const struct mgr_stats *st = mgr_stats(m);
	char d[64];

	mgr_figures_read(m, &fg);
	mgr_out_printf(o, "sample_time = %.6f (%s)\n", c->now,
	    mgr_date(c->now, d, sizeof d));
	/* Squid's names where the meaning matches. */
	mgr_out_printf(o, "client_http.requests = %ju\n",
	    (uintmax_t)st->c[MGR_C_RECEIVED]);
	mgr_out_printf(o, "client_http.hits = %ju\n", (uintmax_t)st->c[MGR_C_HITS]);
	mgr_out_printf(o, "client_http.errors = %ju\n", (uintmax_t)st->c[MGR_C_ERRORS]);
	mgr_out_printf(o, "client_http.kbytes_in = %ju\n",
	    (uintmax_t)(st->c[MGR_C_BYTES_IN] >> 10));
	mgr_out_printf(o, "client_http.kbytes_out = %ju\n",
	    (uintmax_t)(st->c[MGR_C_BYTES_OUT] >> 10));
	mgr_out_printf(o, "client_http.hit_kbytes_out = %ju\n",
	    (uintmax_t)(st->c[MGR_C_HIT_BYTES] >> 10));
	mgr_out_printf(o, "server.all.requests = %ju\n",
	    (uintmax_t)fg.fs.requests);
	mgr_out_printf(o, "server.http.requests = %ju\n",
	    (uintmax_t)fg.fs.requests);
	mgr_out_printf(o, "aborted_requests = %ju\n",
	    (uintmax_t)st->c[MGR_C_ABORTED]);
	mgr_out_printf(o, "server.https.tls_failures = %ju\n",
	    (uintmax_t)st->c[MGR_C_TLS_FAILED]);
	mgr_out_printf(o, "page_faults = %ld\n", fg.proc.majflt);
	mgr_out_printf(o, "cpu_time = %.6f\n", fg.proc.cpu);
	mgr_out_printf(o, "wall_time = %.6f\n", c->now -
	    mgr_start_time(m));
	/* cuttle's own, under Squid-like names. */
	mgr_out_printf(o, "client_http.denied = %ju\n", (uintmax_t)st->c[MGR_C_DENIED]);
	mgr_out_printf(o, "client_http.mem_hits = %ju\n",
	    (uintmax_t)st->c[MGR_C_MEM_HITS]);
	mgr_out_printf(o, "client_http.collapsed = %ju\n",
	    (uintmax_t)cs->collapsed);
	mgr_out_printf(o, "client_http.revalidations = %ju\n",
	    (uintmax_t)cs->revalidations);
	mgr_out_printf(o, "client_http.purges = %ju\n", (uintmax_t)cs->purges);
	mgr_out_printf(o, "ssl_bump.bumped = %ju\n", (uintmax_t)cs->bumped);
	mgr_out_printf(o, "ssl_bump.spliced = %ju\n", (uintmax_t)cs->spliced);
	mgr_out_printf(o, "ssl_bump.certs_minted = %ju\n",
	    (uintmax_t)cs->certs_minted);
	mgr_out_printf(o, "ssl_bump.cert_cache_hits = %ju\n",
	    (uintmax_t)cs->cert_hits);
	mgr_out_printf(o, "ssl_bump.cert_cache_entries = %ju\n",
	    (uintmax_t)cs->cert_entries);
	mgr_out_printf(o, "ssl_bump.cert_cache_bytes = %ju\n",
	    (uintmax_t)cs->cert_bytes);
	mgr_out_printf(o, "client.conns_accepted = %ju\n",
	    (uintmax_t)cs->conns_accepted);
	mgr_out_printf(o, "client.conns_open = %u\n", cs->conns_open);
	mgr_out_printf(o, "server.conns_opened = %ju\n",
	    (uintmax_t)fg.fs.conns_opened);
	mgr_out_printf(o, "server.conns_reused = %ju\n",
	    (uintmax_t)fg.fs.conns_reused);
	mgr_out_printf(o, "server.retries = %ju\n", (uintmax_t)fg.fs.retries);
	mgr_out_printf(o, "server.interim_replies = %ju\n",
	    (uintmax_t)fg.fs.interim);
	mgr_out_printf(o, "server.conns_idle = %u\n", fg.fs.idle);
	mgr_out_printf(o, "cache.fetches = %ju\n", (uintmax_t)cs->fetches);
	mgr_out_printf(o, "mem.pages_in_use = %zu\n", fg.bs.pages);
	mgr_out_printf(o, "mem.alloc_bytes = %ju\n",
	    (uintmax_t)fg.bs.alloc_bytes);
	mgr_out_printf(o, "mem.copied_bytes = %ju\n", (uintmax_t)fg.bs.copied);
	mgr_out_printf(o, "cache.mem_lookups = %ju\n", (uintmax_t)fg.ss.lookups);
	mgr_out_printf(o, "cache.mem_hits = %ju\n", (uintmax_t)fg.ss.hits);
	mgr_out_printf(o, "cache.mem_objects = %ju\n", (uintmax_t)fg.ss.entries);
	mgr_out_printf(o, "cache.mem_bytes = %ju\n", (uintmax_t)fg.ss.bytes);
	mgr_out_printf(o, "cache.added = %ju\n", (uintmax_t)fg.ss.added);
	mgr_out_printf(o, "cache.evicted = %ju\n", (uintmax_t)fg.ss.evicted);
	mgr_out_printf(o, "cache.removed = %ju\n", (uintmax_t)fg.ss.removed);
	mgr_out_printf(o, "dns.lookups = %ju\n", (uintmax_t)fg.ds.lookups);
	mgr_out_printf(o, "dns.hits = %ju\n", (uintmax_t)fg.ds.hits);
	mgr_out_printf(o, "dns.negative_hits = %ju\n",
	    (uintmax_t)fg.ds.negative_hits);
	mgr_out_printf(o, "dns.misses = %ju\n", (uintmax_t)fg.ds.misses);
	mgr_out_printf(o, "dns.queries = %ju\n", (uintmax_t)fg.ds.queries);
	mgr_out_printf(o, "dns.timeouts = %ju\n", (uintmax_t)fg.ds.timeouts);
	return (0);
}

/* -- 5min, 60min ----------------------------------------------------------- */

static int
mgr_render_avg(struct mgr_out *o, const struct mgr_call *c,
    const struct mgr *m, unsigned minutes)
{
	struct mgr_period p;
	double s;
	char d1[64], d2[64];

	mgr_period_last(m, c->now, minutes, &p);
	s = p.seconds > 0 ? p.seconds : 1;
	mgr_out_printf(o, "sample_start_time = %.6f (%s)\n", c->now -
	    p.seconds, mgr_date(c->now - p.seconds, d1, sizeof d1));
	mgr_out_printf(o, "sample_end_time = %.6f (%s)\n", c->now,
	    mgr_date(c->now, d2, sizeof d2));
	mgr_out_printf(o, "client_http.requests = %f/sec\n",
	    (double)p.c[MGR_C_REQUESTS] / s);
	mgr_out_printf(o, "client_http.hits = %f/sec\n",
	    (double)p.c[MGR_C_HITS] / s);
	mgr_out_printf(o, "client_http.errors = %f/sec\n",
	    (double)p.c[MGR_C_ERRORS] / s);
	mgr_out_printf(o, "client_http.kbytes_out = %f/sec\n",
	    mgr_kb(p.c[MGR_C_BYTES_OUT]) / s);
	mgr_out_printf(o, "client_http.hit_kbytes_out = %f/sec\n",
	    mgr_kb(p.c[MGR_C_HIT_BYTES]) / s);
	mgr_out_printf(o, "client_http.all_median_svc_time = %f seconds\n",
	    mgr_hist_median(p.hist[MGR_KIND_ALL]));
	mgr_out_printf(o, "client_http.miss_median_svc_time = %f seconds\n",
	    mgr_hist_median(p.hist[MGR_KIND_MISS]));
	mgr_out_printf(o, "client_http.nm_median_svc_time = %f seconds\n",
	    mgr_hist_median(p.hist[MGR_KIND_NM]));
	mgr_out_printf(o, "client_http.nh_median_svc_time = %f seconds\n",
	    mgr_hist_median(p.hist[MGR_KIND_NH]));
	mgr_out_printf(o, "client_http.hit_median_svc_time = %f seconds\n",
	    mgr_hist_median(p.hist[MGR_KIND_HIT]));
	mgr_out_printf(o, "server.all.requests = %f/sec\n",
	    (double)p.c[MGR_C_FORWARDED] / s);
	mgr_out_printf(o, "aborted_requests = %f/sec\n",
	    (double)p.c[MGR_C_ABORTED] / s);
	mgr_out_printf(o, "request_hit_ratio = %.1f%%\n",
	    mgr_ratio(p.c[MGR_C_HITS], p.c[MGR_C_REQUESTS]));
	mgr_out_printf(o, "byte_hit_ratio = %.1f%%\n",
	    mgr_ratio(p.c[MGR_C_HIT_BYTES], p.c[MGR_C_BYTES_OUT]));
	mgr_out_printf(o, "cpu_time = %f seconds\n",
	    (double)p.c[MGR_C_CPU_USEC] / 1e6);
	mgr_out_printf(o, "wall_time = %f seconds\n", p.seconds);
	mgr_out_printf(o, "cpu_usage = %f%%\n", p.seconds > 0 ?
	    (double)p.c[MGR_C_CPU_USEC] / 1e4 / p.seconds : 0.0);
	return (0);
}

static int
mgr_render_5min(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	return (mgr_render_avg(o, c, arg, 5));
}

static int
mgr_render_60min(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	return (mgr_render_avg(o, c, arg, 60));
}

/* -- mem ------------------------------------------------------------------- */

/* The page allocator by size class: only the classes in use or cached. */
static void
mgr_render_mem_classes(struct mgr_out *o, const struct buf_pool *pool)
{
	struct buf_class_stats cs;
	unsigned i;

	mgr_out_printf(o, "\nPages by size class:\n");
	mgr_out_printf(o, "\t%10s %10s %10s %12s\n", "size", "in use",
	    "cached", "bytes in use");
	for (i = 0; i <= BUF_CLASSES; i++) {
		buf_pool_class_stats(pool, i, &cs);
		if (cs.inuse == 0 && cs.cached == 0)
			continue;
		if (cs.size > 0)
			mgr_out_printf(o, "\t%10zu %10zu %10zu %12zu\n",
			    cs.size, cs.inuse, cs.cached, cs.size * cs.inuse);
		else
			mgr_out_printf(o, "\t%10s %10zu %10s %12s\n",
			    "own size", cs.inuse, "-", "-");
	}
}

static int
mgr_render_mem(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	struct comm_loop *loop = mgr_loop(arg);
	struct buf_pool_stats bs;
	struct comm_loop_stats ls;

	(void)c;
	buf_pool_stats(comm_loop_pool(loop), &bs);
	comm_loop_stats(loop, &ls);
	mgr_out_printf(o, "Current memory usage:\n");
	mgr_out_printf(o, "Pool\t Obj Size\t Chunks\t\t In Use\t\t\t Idle"
	    "\t\t Allocations Saved\n");
	mgr_out_printf(o, "buf_pool\t (classes)\t %zu\t\t %zu KB\t\t\t "
	    "%zu KB\t\t %ju\n", bs.pages, bs.bytes >> 10,
	    bs.cached_bytes >> 10, (uintmax_t)(bs.allocs - bs.mallocs));
	mgr_out_printf(o, "\n");
	mgr_out_printf(o, "Page allocator:\n");
	mgr_out_printf(o, "\tpages in use:\t%zu\n", bs.pages);
	mgr_out_printf(o, "\tbytes in use:\t%zu\n", bs.bytes);
	mgr_out_printf(o, "\tbytes pinned by in-flight writes:\t%zu\n",
	    bs.pinned);
	mgr_out_printf(o, "\tpages cached for reuse:\t%zu\n", bs.cached_pages);
	mgr_out_printf(o, "\tbytes cached for reuse:\t%zu\n", bs.cached_bytes);
	mgr_out_printf(o, "\tallocations:\t%ju\n", (uintmax_t)bs.allocs);
	mgr_out_printf(o, "\tof which from malloc:\t%ju\n",
	    (uintmax_t)bs.mallocs);
	mgr_out_printf(o, "\tbytes copied into chains:\t%ju\n",
	    (uintmax_t)bs.copied);
	mgr_out_printf(o, "Event loop:\n");
	mgr_out_printf(o, "\tconnections:\t%u\n", ls.conns);
	mgr_out_printf(o, "\tlisteners:\t%u\n", ls.listeners);
	mgr_out_printf(o, "\toperations pending:\t%u\n", ls.ops);
	mgr_out_printf(o, "\tcalls run:\t%ju\n", (uintmax_t)ls.calls);
	mgr_render_mem_classes(o, comm_loop_pool(loop));
	return (0);
}

/* -- config ---------------------------------------------------------------- */

/* One printer per directives.def type: the value in force, as it would
 * be written in cuttle.conf. */
static void
mgr_cfg_lines(struct mgr_out *o, const char *name,
    const struct conf_lines *ls)
{
	size_t i;
	unsigned j;
	bool secret = strcmp(name, "cachemgr_passwd") == 0;

	for (i = 0; i < ls->n; i++) {
		mgr_out_printf(o, "%s", name);
		for (j = 0; j < ls->v[i].argc; j++)
			mgr_out_printf(o, " %s", secret && j == 0 &&
			    strcmp(ls->v[i].argv[0], "none") != 0 &&
			    strcmp(ls->v[i].argv[0], "disable") != 0 ?
			    "XXXXXXXXXX" : ls->v[i].argv[j]);
		mgr_out_printf(o, "\n");
	}
}

static void
mgr_cfg_str(struct mgr_out *o, const char *name, const char *s)
{
	if (s == NULL)
		mgr_out_printf(o, "%s none\n", name);
	else
		mgr_out_printf(o, "%s %s\n", name, s);
}

static void
mgr_cfg_size(struct mgr_out *o, const char *name, uint64_t n)
{
	if (n != 0 && n % (1024 * 1024) == 0)
		mgr_out_printf(o, "%s %ju MB\n", name, (uintmax_t)(n >> 20));
	else if (n != 0 && n % 1024 == 0)
		mgr_out_printf(o, "%s %ju KB\n", name, (uintmax_t)(n >> 10));
	else
		mgr_out_printf(o, "%s %ju bytes\n", name, (uintmax_t)n);
}

/* The lines of one directive: http_port's, or https_port's (with the
 * certificate, never anything secret). */
static void
mgr_cfg_ports(struct mgr_out *o, const char *name, const struct conf *c,
    bool tls)
{
	const struct conf_port *p;
	char addr[80];
	size_t i;

	for (i = 0; i < c->nports; i++) {
		p = &c->ports[i];
		if ((p->tls != NULL) != tls)
			continue;
		mgr_out_printf(o, "%s %s", name, comm_addr_format(
		    (const struct sockaddr *)&p->addr, addr, sizeof addr));
		if (tls)
			mgr_out_printf(o, " tls-cert=%s", p->tls->cert);
		mgr_out_printf(o, "\n");
	}
}

/* tls_outgoing_options as one line of what is in force. */
static void
mgr_cfg_tls(struct mgr_out *o, const char *name, const struct conf_tls *t)
{
	static const char *const versions[] = { "1.0", "1.1", "1.2", "1.3" };

	mgr_out_printf(o, "%s", name);
	if (t->cafile != NULL)
		mgr_out_printf(o, " cafile=%s", t->cafile);
	if (t->capath != NULL)
		mgr_out_printf(o, " capath=%s", t->capath);
	if (t->cert != NULL)
		mgr_out_printf(o, " cert=%s", t->cert);
	if (t->key != NULL)
		mgr_out_printf(o, " key=%s", t->key);
	if (t->cipher != NULL)
		mgr_out_printf(o, " cipher=%s", t->cipher);
	if (t->min_version >= 0x0301 && t->min_version <= 0x0304)
		mgr_out_printf(o, " min-version=%s",
		    versions[t->min_version - 0x0301]);
	if (t->flags != 0)
		mgr_out_printf(o, " flags=%s%s%s",
		    t->flags & CONF_TLS_DONT_VERIFY_PEER ? "DONT_VERIFY_PEER" :
		    "", t->flags == (CONF_TLS_DONT_VERIFY_PEER |
		    CONF_TLS_DONT_VERIFY_DOMAIN) ? "," : "",
		    t->flags & CONF_TLS_DONT_VERIFY_DOMAIN ?
		    "DONT_VERIFY_DOMAIN" : "");
	mgr_out_printf(o, " default-ca=%s\n", t->no_default_ca ? "off" : "on");
}

#define mgr_cfg_acl(o, n, c, f)		mgr_cfg_lines(o, n, &(c)->f)
#define mgr_cfg_lines_(o, n, c, f)	mgr_cfg_lines(o, n, &(c)->f)
#define mgr_cfg_word(o, n, c, f)	mgr_cfg_str(o, n, (c)->f)
#define mgr_cfg_path(o, n, c, f)	mgr_cfg_str(o, n, (c)->f)
#define mgr_cfg_debug(o, n, c, f)	mgr_cfg_str(o, n, (c)->f)
#define mgr_cfg_count(o, n, c, f)	\
	mgr_out_printf(o, "%s %ld\n", n, (long)(c)->f)
#define mgr_cfg_size_(o, n, c, f)	mgr_cfg_size(o, n, (c)->f)
#define mgr_cfg_time(o, n, c, f)	\
	mgr_out_printf(o, "%s %g seconds\n", n, (double)(c)->f)
#define mgr_cfg_onoff(o, n, c, f)	\
	mgr_out_printf(o, "%s %s\n", n, (c)->f ? "on" : "off")
#define mgr_cfg_fwdfor(o, n, c, f)	\
	mgr_out_printf(o, "%s %s\n", n, mgr_fwdfor_name((c)->f))
#define mgr_cfg_repl(o, n, c, f)	\
	mgr_out_printf(o, "%s %s\n", n, (c)->f == CONF_REPL_SIEVE ? "sieve" : \
	    "lru")
#define mgr_cfg_memmode(o, n, c, f)	\
	mgr_out_printf(o, "%s %s\n", n, (c)->f == CONF_MEM_DISK ? "disk" : \
	    (c)->f == CONF_MEM_NETWORK ? "network" : "always")
#define mgr_cfg_port(o, n, c, f)	mgr_cfg_ports(o, n, c, false)
#define mgr_cfg_httpsport(o, n, c, f)	mgr_cfg_ports(o, n, c, true)
#define mgr_cfg_tlsout(o, n, c, f)	mgr_cfg_tls(o, n, &(c)->f)

static const char *
mgr_fwdfor_name(int v)
{
	switch (v) {
	case CONF_FWD_OFF: return ("off");
	case CONF_FWD_TRANSPARENT: return ("transparent");
	case CONF_FWD_DELETE: return ("delete");
	case CONF_FWD_TRUNCATE: return ("truncate");
	default: return ("on");
	}
}

static int
mgr_render_config(struct mgr_out *o, const struct mgr_call *call, void *arg)
{
	const struct conf *c = call->conf;

	(void)arg;
	if (c == NULL)
		return (-ENOTSUP);
	/* Every directive of the table, in its order: the defaults are
	 * filled in (conf_finish()), so this is what is in force. */
#define DIRECTIVE(name, type, field, dflt, state, syntax, doc)	\
	MGR_CFG_##type(o, #name, c, field);
#define MGR_CFG_acl	mgr_cfg_acl
#define MGR_CFG_lines	mgr_cfg_lines_
#define MGR_CFG_word	mgr_cfg_word
#define MGR_CFG_path	mgr_cfg_path
#define MGR_CFG_debug	mgr_cfg_debug
#define MGR_CFG_count	mgr_cfg_count
#define MGR_CFG_tlsout	mgr_cfg_tlsout
#define MGR_CFG_size	mgr_cfg_size_
#define MGR_CFG_time	mgr_cfg_time
#define MGR_CFG_onoff	mgr_cfg_onoff
#define MGR_CFG_fwdfor	mgr_cfg_fwdfor
#define MGR_CFG_repl	mgr_cfg_repl
#define MGR_CFG_memmode	mgr_cfg_memmode
#define MGR_CFG_port	mgr_cfg_port
#define MGR_CFG_httpsport	mgr_cfg_httpsport
#include "conf/directives.def"
#undef DIRECTIVE
	return (0);
}

int
mgr_page_register_stats(struct mgr_registry *r, struct mgr *m)
{
	int err;

	err = mgr_register(r, MGR_SEC_RUNTIME, "info",
	    "General Runtime Information", 0, mgr_render_info, m);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_RUNTIME, "counters",
		    "Traffic and Resource Counters", 0, mgr_render_counters,
		    m);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_RUNTIME, "5min",
		    "5 Minute Average of Counters", 0, mgr_render_5min, m);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_RUNTIME, "60min",
		    "60 Minute Average of Counters", 0, mgr_render_60min, m);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_RUNTIME, "mem",
		    "Memory Utilization", 0, mgr_render_mem, m);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_SETTINGS, "config",
		    "Current cuttle Configuration", MGR_F_PROTECTED,
		    mgr_render_config, m);
	return (err);
}
