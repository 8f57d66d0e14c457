/*
 * mgr_page_metrics.c - /metrics: the Prometheus text exposition format
 * (version 0.0.4): "# HELP" and "# TYPE" once per family, then one
 * sample a line, label values escaped (\\, \", \n), counters ending in
 * _total, the histogram as cumulative _bucket{le=...}, _sum and _count.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "mgr/mgr_page.h"

static void
prom_family(struct mgr_out *o, const char *name, const char *type,
    const char *help)
{
	mgr_out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static void
prom_label_value(struct mgr_out *o, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			mgr_out_printf(o, "\\%c", *s);
		else if (*s == '\n')
			mgr_out_printf(o, "\\n");
		else
			mgr_out_append(o, s, 1);
	}
}

static void
prom_u64(struct mgr_out *o, const char *name, const char *type,
    const char *help, uint64_t v)
{
	prom_family(o, name, type, help);
	mgr_out_printf(o, "%s %ju\n", name, (uintmax_t)v);
}

static void
prom_double(struct mgr_out *o, const char *name, const char *type,
    const char *help, double v)
{
	prom_family(o, name, type, help);
	mgr_out_printf(o, "%s %.6f\n", name, v);
}

int
mgr_render_metrics(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct mgr *m = arg;
	struct mgr_figures fg;
	const struct mgr_client_figures *cs = &fg.client;
	const struct mgr_stats *st = mgr_stats(m);
	const struct mgr_action *a;
	uint64_t cum;
	char name[64];
	uint64_t n;
	unsigned i, shown;

	mgr_figures_read(m, &fg);

	prom_family(o, "cuttle_build_info", "gauge", "cuttle's version.");
	mgr_out_printf(o, "cuttle_build_info{version=\"");
	prom_label_value(o, PACKAGE_VERSION);
	mgr_out_printf(o, "\"} 1\n");
	prom_double(o, "cuttle_start_time_seconds", "gauge", "When cuttle "
	    "started, seconds since the epoch.", mgr_start_time(m));

	prom_family(o, "cuttle_requests_total", "counter", "Finished "
	    "requests, by access.log code.");
	for (i = 0, shown = 0; i < RESULT__COUNT * RESULT_END__COUNT; i++) {
		n = st->by_code[i / RESULT_END__COUNT][i % RESULT_END__COUNT];
		if (n == 0)
			continue;
		mgr_out_printf(o, "cuttle_requests_total{code=\"");
		prom_label_value(o, mgr_code_name(i / RESULT_END__COUNT,
		    i % RESULT_END__COUNT, name, sizeof name));
		mgr_out_printf(o, "\"} %ju\n", (uintmax_t)n);
		shown++;
	}
	if (shown == 0)
		mgr_out_printf(o, "cuttle_requests_total{code=\"NONE\"} 0\n");
	prom_u64(o, "cuttle_client_requests_total", "counter", "Requests "
	    "received (headers parsed).", st->c[MGR_C_RECEIVED]);
	prom_u64(o, "cuttle_hits_total", "counter", "Requests answered from "
	    "the cache.", st->c[MGR_C_HITS]);
	prom_u64(o, "cuttle_errors_total", "counter", "Requests answered "
	    "with an error page.", st->c[MGR_C_ERRORS]);
	prom_u64(o, "cuttle_denied_total", "counter", "Requests denied by "
	    "access rules.", st->c[MGR_C_DENIED]);
	prom_u64(o, "cuttle_tls_origin_failures_total", "counter", "Requests "
	    "answered ERR_SECURE_CONNECT_FAIL (an origin's TLS handshake or "
	    "certificate failed).", st->c[MGR_C_TLS_FAILED]);
	prom_family(o, "cuttle_bytes_total", "counter", "Bytes from and to "
	    "clients.");
	mgr_out_printf(o, "cuttle_bytes_total{direction=\"in\"} %ju\n",
	    (uintmax_t)st->c[MGR_C_BYTES_IN]);
	mgr_out_printf(o, "cuttle_bytes_total{direction=\"out\"} %ju\n",
	    (uintmax_t)st->c[MGR_C_BYTES_OUT]);
	prom_u64(o, "cuttle_hit_bytes_total", "counter", "Bytes sent to "
	    "clients from the cache.", st->c[MGR_C_HIT_BYTES]);

	prom_family(o, "cuttle_connections", "gauge", "Open connections.");
	mgr_out_printf(o, "cuttle_connections{side=\"client\"} %u\n",
	    cs->conns_open);
	mgr_out_printf(o, "cuttle_connections{side=\"server_idle\"} %u\n",
	    fg.fs.idle);
	prom_u64(o, "cuttle_client_connections_total", "counter",
	    "Client connections accepted.", cs->conns_accepted);
	prom_family(o, "cuttle_ssl_bump_connections_total", "counter",
	    "CONNECTs on ssl-bump ports, by what ssl_bump did.");
	mgr_out_printf(o, "cuttle_ssl_bump_connections_total{action=\"bump\"} "
	    "%ju\n", (uintmax_t)cs->bumped);
	mgr_out_printf(o, "cuttle_ssl_bump_connections_total{action="
	    "\"splice\"} %ju\n", (uintmax_t)cs->spliced);
	prom_family(o, "cuttle_ssl_bump_certificates_total", "counter",
	    "Certificates shown to bumped clients: minted, or from the "
	    "cache.");
	mgr_out_printf(o, "cuttle_ssl_bump_certificates_total{how=\"minted\"} "
	    "%ju\n", (uintmax_t)cs->certs_minted);
	mgr_out_printf(o, "cuttle_ssl_bump_certificates_total{how=\"cached\"} "
	    "%ju\n", (uintmax_t)cs->cert_hits);
	prom_u64(o, "cuttle_ssl_bump_cert_cache_entries", "gauge",
	    "Minted certificates kept (dynamic_cert_mem_cache_size).",
	    cs->cert_entries);
	prom_u64(o, "cuttle_ssl_bump_cert_cache_bytes", "gauge",
	    "Bytes the minted certificates kept take.", cs->cert_bytes);
	prom_family(o, "cuttle_server_connections_total", "counter",
	    "Connections to origin servers, opened or reused from the idle "
	    "pool.");
	mgr_out_printf(o, "cuttle_server_connections_total{how=\"opened\"} "
	    "%ju\n", (uintmax_t)fg.fs.conns_opened);
	mgr_out_printf(o, "cuttle_server_connections_total{how=\"reused\"} "
	    "%ju\n", (uintmax_t)fg.fs.conns_reused);
	prom_u64(o, "cuttle_server_requests_total", "counter", "Requests "
	    "forwarded to origin servers.", fg.fs.requests);

	prom_u64(o, "cuttle_cache_objects", "gauge", "Objects in the memory "
	    "cache.", fg.ss.entries);
	prom_u64(o, "cuttle_cache_bytes", "gauge", "Bytes the memory cache "
	    "holds, counted against cache_mem.", fg.ss.bytes);
	prom_u64(o, "cuttle_cache_max_bytes", "gauge", "cache_mem.",
	    c->conf != NULL ? c->conf->cache_mem : 0);
	prom_u64(o, "cuttle_cache_lookups_total", "counter", "Memory cache "
	    "lookups.", fg.ss.lookups);
	prom_u64(o, "cuttle_cache_evictions_total", "counter", "Objects "
	    "evicted to make room.", fg.ss.evicted);

	prom_family(o, "cuttle_dns_lookups_total", "counter", "Name "
	    "lookups, by how they were answered.");
	mgr_out_printf(o, "cuttle_dns_lookups_total{result=\"hit\"} %ju\n",
	    (uintmax_t)fg.ds.hits);
	mgr_out_printf(o, "cuttle_dns_lookups_total{result=\"negative_hit\"} "
	    "%ju\n", (uintmax_t)fg.ds.negative_hits);
	mgr_out_printf(o, "cuttle_dns_lookups_total{result=\"miss\"} %ju\n",
	    (uintmax_t)fg.ds.misses);
	mgr_out_printf(o, "cuttle_dns_lookups_total{result=\"hosts\"} %ju\n",
	    (uintmax_t)fg.ds.hosts_hits);
	mgr_out_printf(o, "cuttle_dns_lookups_total{result=\"literal\"} "
	    "%ju\n", (uintmax_t)fg.ds.literals);

	prom_family(o, "cuttle_buf_bytes", "gauge", "Page allocator bytes.");
	mgr_out_printf(o, "cuttle_buf_bytes{state=\"in_use\"} %zu\n",
	    fg.bs.bytes);
	mgr_out_printf(o, "cuttle_buf_bytes{state=\"pinned\"} %zu\n",
	    fg.bs.pinned);
	mgr_out_printf(o, "cuttle_buf_bytes{state=\"cached\"} %zu\n",
	    fg.bs.cached_bytes);

	prom_double(o, "cuttle_cpu_seconds_total", "counter", "User and "
	    "system CPU time.", fg.proc.cpu);
	prom_u64(o, "cuttle_resident_memory_bytes", "gauge", "Resident set "
	    "size.", fg.proc.rss_kb > 0 ? (uint64_t)fg.proc.rss_kb * 1024 : 0);
	prom_u64(o, "cuttle_open_fds", "gauge", "Open file descriptors.",
	    fg.proc.fds_open > 0 ? (uint64_t)fg.proc.fds_open : 0);
	prom_u64(o, "cuttle_max_fds", "gauge", "The file descriptor limit.",
	    fg.proc.fds_max > 0 ? (uint64_t)fg.proc.fds_max : 0);

	prom_family(o, "cuttle_request_duration_seconds", "histogram",
	    "From the first byte of a request to the end of its reply.");
	cum = 0;
	for (i = 0; i < MGR_NBUCKETS; i++) {
		cum += st->hist[MGR_KIND_ALL][i];
		if (isinf(mgr_bucket_le[i]))
			mgr_out_printf(o, "cuttle_request_duration_seconds_"
			    "bucket{le=\"+Inf\"} %ju\n", (uintmax_t)cum);
		else
			mgr_out_printf(o, "cuttle_request_duration_seconds_"
			    "bucket{le=\"%g\"} %ju\n", mgr_bucket_le[i],
			    (uintmax_t)cum);
	}
	mgr_out_printf(o, "cuttle_request_duration_seconds_sum %.6f\n",
	    st->dur_sum);
	mgr_out_printf(o, "cuttle_request_duration_seconds_count %ju\n",
	    (uintmax_t)cum);
	/* The modules' own families (helper pools...). */
	for (i = 0; (a = mgr_registry_at(mgr_actions(m), i)) != NULL; i++)
		if (a->flags & MGR_F_METRICS && a->fn(o, c, a->arg) != 0)
			return (-EIO);
	return (0);
}

int
mgr_page_register_metrics(struct mgr_registry *r, struct mgr *m)
{
	return (mgr_register(r, MGR_SEC_VIEWS, "metrics",
	    "Prometheus metrics", MGR_F_PROM, mgr_render_metrics, m));
}
