/*
 * main.c - start-up, signals, reconfigure and orderly shutdown.
 *
 *	main()		options, configuration, listeners, the drop to
 *			cache_effective_user, the loop
 *	SIGHUP		reconfigure (cuttle_reconfigure())
 *	SIGUSR1		reopen the access logs
 *	SIGINT/SIGTERM	stop the loop; listeners closed; exit 0
 */
#include "config.h"

#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl/acl.h"
#include "auth/auth.h"
#include "base/check.h"
#include "base/log.h"
#include "client/client.h"
#include "client/client_ports.h"
#include "client/client_rules.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "daemon.h"
#include "disks.h"
#include "dns/dns.h"
#include "fwd/fwd.h"
#include "helper/helper.h"
#include "http/http.h"
#include "icp/icp.h"
#include "log/access_log.h"
#include "mgr/mgr.h"
#include "mgr/mgr_page.h"
#include "store/store.h"
#include "tls/tls.h"

#ifndef CUTTLE_SYSCONFDIR
#define CUTTLE_SYSCONFDIR "/usr/local/etc"
#endif
#define CUTTLE_DEFAULT_CONF	CUTTLE_SYSCONFDIR "/cuttle.conf"

/*
 * What one running cuttle owns; main() holds the only instance.
 *
 * Reconfigure (SIGHUP) builds a whole new conf, rules, access log and
 * resolver beside those in force, binds the new ports, and only when all
 * of that worked swaps them in (see cuttle_reconfigure()).
 */
struct cuttle {
	struct conf		*conf;
	const char		*conf_path;	/* absolute; NULL: default */
	struct comm_loop	*loop;
	struct client_ports	*ports;		/* listening: conf->ports[] */
	struct client_rules	rules;
	struct access_log	*access_log;
	struct dns_resolver	*dns;
	struct dns_resolver	**old_dns;	/* retired by reconfigure;
						 * freed once idle */
	size_t			nold_dns;
	struct comm_timer	*reaper;	/* frees old_dns, old_auth */
	struct fwd_ctx		*fwd;
	struct store_index	*store;		/* the memory cache; it
						 * outlives reconfigures */
	struct disks		*disks;		/* cache_dir stores, maybe 0 */
	struct client_ctx	*client;
	struct auth		*auth;		/* auth_param; NULL: none */
	struct auth		**old_auth;	/* retired by reconfigure;
						 * freed once auth_idle() */
	size_t			nold_auth;
	struct client_adapt	*adapt;		/* url_rewrite, store_id;
						 * NULL: none */
	struct icp		*icp;		/* icp_port; NULL: none */
	struct acl_externals	*externals;	/* external_acl_type; NULL:
						 * none */
	struct helper_pools	helpers;	/* for /metrics */
	struct mgr		*mgr;		/* cache manager */
	char			*pidpath;	/* the pid file taken */
	int			pidfd;		/* locked pid file, or -1 */
	int			stop_signal;
	struct comm_timer	*draining;	/* graceful shutdown under way */
	double			drain_until;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: cuttle [-hNvz] [-f file] [-k action]\n"
	    "  -f file   configuration file (default " CUTTLE_DEFAULT_CONF
	    ";\n"
	    "            built-in defaults when that does not exist)\n"
	    "  -k parse  check the configuration and exit (non-zero on "
	    "errors)\n"
	    "  -k check|reconfigure|rotate|shutdown|interrupt|kill\n"
	    "            act on the running cuttle of the configuration's "
	    "pid_filename\n"
	    "  -N        stay in the foreground, logging to stderr\n"
	    "  -v        print version, configure options and libraries\n"
	    "  -z        make the cache_dir stores and exit\n"
	    "  -h        this help\n");
}

static void
print_version(void)
{
	printf("cuttle %s\n", PACKAGE_VERSION);
	printf("configure options: %s\n", CUTTLE_CONFIGURE_ARGS[0] != '\0' ?
	    CUTTLE_CONFIGURE_ARGS : "(none)");
	comm_print_versions(stdout);
	dns_print_versions(stdout);
	http_print_versions(stdout);
}

/* Configuration: the named file, or the default one if present, or the
 * built-in defaults.  Returns the number of errors (< 0: unreadable). */
static int
load_conf(struct conf *conf, const char *path)
{
	struct stat st;
	int n;

	if (path == NULL) {
		if (stat(CUTTLE_DEFAULT_CONF, &st) == 0)
			path = CUTTLE_DEFAULT_CONF;
		else
			log_msg(LG_NOTICE, SEC_MAIN, "no %s: running on the "
			    "built-in defaults", CUTTLE_DEFAULT_CONF);
	}
	n = path != NULL ? conf_load(conf, path) : 0;
	if (n < 0)
		return (n);
	return (n + conf_finish(conf));
}

/* SIGUSR1, cuttle -k rotate: the access logs are reopened (after
 * logrotate has renamed them). */
static void
on_rotate_signal(struct comm_loop *loop, int signo, void *arg)
{
	struct cuttle *ct = arg;
	int err;

	(void)loop;
	(void)signo;
	err = ct->access_log != NULL ? access_log_reopen(ct->access_log) : 0;
	if (err != 0)
		log_msg(LG_ERR, SEC_MAIN, "rotate: cannot reopen a log: %s",
		    strerror(-err));
	else
		log_msg(LG_NOTICE, SEC_MAIN, "rotate: logs reopened");
}

static int cuttle_reconfigure(struct cuttle *ct);

/* SIGHUP, cuttle -k reconfigure: the conf is read again and put in force
 * if it has no error; else the one in force stays. */
static void
on_hup_signal(struct comm_loop *loop, int signo, void *arg)
{
	struct cuttle *ct = arg;

	(void)loop;
	(void)signo;
	if (ct->draining != NULL) {
		log_msg(LG_NOTICE, SEC_MAIN, "reconfigure: ignored, shutting "
		    "down");
		return;
	}
	(void)daemon_notify("RELOADING=1");
	if (cuttle_reconfigure(ct) != 0)
		log_msg(LG_ERR, SEC_MAIN, "reconfigure: refused; the "
		    "configuration in force is kept");
	(void)daemon_notify("READY=1");
}

/* While draining: done once the last transfer has ended, or when
 * shutdown_lifetime is over (what still runs is then cut). */
static void
on_drain_tick(struct comm_timer *tm, void *arg)
{
	struct cuttle *ct = arg;

	(void)tm;
	if (client_ctx_idle(ct->client) || comm_now(ct->loop) >=
	    ct->drain_until)
		comm_loop_stop(ct->loop);
}

/*
 * SIGTERM (cuttle -k shutdown) is graceful, as in Squid: no new
 * connection is accepted, idle ones are closed, and transfers in flight
 * get shutdown_lifetime to finish.  SIGINT (-k interrupt), or a second
 * SIGTERM, stops at once.
 */
static void
on_stop_signal(struct comm_loop *loop, int signo, void *arg)
{
	struct cuttle *ct = arg;

	ct->stop_signal = signo;
	(void)daemon_notify("STOPPING=1");
	if (signo != SIGTERM || ct->draining != NULL || ct->client == NULL ||
	    ct->conf->shutdown_lifetime <= 0) {
		comm_loop_stop(loop);
		return;
	}
	ct->draining = comm_timer_new(loop, on_drain_tick, ct);
	if (ct->draining == NULL) {
		comm_loop_stop(loop);
		return;
	}
	log_msg(LG_NOTICE, SEC_MAIN, "%s: no new connections; transfers in "
	    "flight have %.0f s to finish", strsignal(signo),
	    ct->conf->shutdown_lifetime);
	client_ports_close(&ct->ports);
	client_ctx_drain(ct->client);
	ct->drain_until = comm_now(loop) + ct->conf->shutdown_lifetime;
	comm_timer_start(ct->draining, 0.05, 0.1);
}

/* The cache manager's shutdown, reconfigure and rotate: what the signals
 * do (called from the loop's call queue, outside client code). */
static void
on_mgr_control(const char *action, void *arg)
{
	struct cuttle *ct = arg;

	if (strcmp(action, "shutdown") == 0)
		on_stop_signal(ct->loop, SIGTERM, ct);
	else if (strcmp(action, "reconfigure") == 0)
		on_hup_signal(ct->loop, SIGHUP, ct);
	else if (strcmp(action, "rotate") == 0)
		on_rotate_signal(ct->loop, SIGUSR1, ct);
}

static comm_timer_fn on_reap_tick;

/* What the client side is given: the conf in force and what hangs on
 * it. */
static void
cuttle_deps(const struct cuttle *ct, struct client_deps *deps)
{
	memset(deps, 0, sizeof *deps);
	deps->loop = ct->loop;
	deps->conf = ct->conf;
	deps->fwd = ct->fwd;
	client_rules_lend(&ct->rules, deps);
	deps->access_log = ct->access_log;
	deps->mgr = ct->mgr;
	deps->dns = ct->dns;
	deps->store = ct->store;
	deps->auth = ct->auth;
	deps->disks = disks_stores(ct->disks, &deps->ndisks);
	deps->adapt = ct->adapt;
	deps->externals = ct->externals;
	deps->icp = ct->icp;
	if (ct->icp != NULL) {
		struct icp_deps id = {
			.store = ct->store,
			.icp_access = ct->rules.icp_access,
			.miss_access = ct->rules.miss_access,
			.query_timeout = ct->conf->icp_query_timeout,
			.max_query_timeout = ct->conf->maximum_icp_query_timeout,
		};

		icp_set_deps(ct->icp, &id);
	}
}

/* The memory cache's limits, from the conf. */
static void
cuttle_store_limits(const struct conf *conf, struct store_limits *lim)
{
	memset(lim, 0, sizeof *lim);
	lim->cache_mem = conf->cache_mem;
	lim->max_obj = conf->maximum_object_size_in_memory;
	if (conf->maximum_object_size > 0 &&
	    conf->maximum_object_size < lim->max_obj)
		lim->max_obj = conf->maximum_object_size;
	lim->min_obj = conf->minimum_object_size;
	lim->policy = conf->memory_replacement_policy == CONF_REPL_SIEVE ?
	    STORE_POLICY_SIEVE : STORE_POLICY_LRU;
}

/* The layers, bottom up: the cache manager (its registry is where the
 * others register their pages), name resolution, the server side, the
 * memory cache, the client side.  0, or -1 (logged). */
static int
cuttle_start(struct cuttle *ct)
{
	struct mgr_registry *reg;
	struct client_deps deps;
	struct store_limits lim;
	struct dns_params dp;
	struct tls_ctx *tls;
	int errors = 0;

	ct->mgr = mgr_new(ct->loop);
	if (ct->mgr == NULL) {
		log_msg(LG_CRIT, SEC_MAIN, "out of memory");
		return (-1);
	}
	mgr_set_control(ct->mgr, on_mgr_control, ct);
	reg = mgr_actions(ct->mgr);
	dns_params_from_conf(&dp, ct->conf);
	ct->dns = dns_resolver_new(ct->loop, &dp);
	if (ct->dns == NULL) {
		log_msg(LG_CRIT, SEC_MAIN, "cannot start the resolver");
		return (-1);
	}
	if (dns_register_pages(ct->dns, reg) != 0)
		goto nomem;
	ct->access_log = access_log_open(ct->loop, &ct->conf->access_log,
	    &ct->conf->logformat, &errors);
	if (errors > 0)
		return (-1);
	ct->fwd = fwd_ctx_new(ct->loop, ct->dns, ct->conf);
	if (ct->fwd == NULL || fwd_register_pages(ct->fwd, reg) != 0)
		goto nomem;
	if (fwd_tls_new(ct->conf, &tls) != 0)
		return (-1);
	fwd_ctx_set_tls(ct->fwd, &tls);
	cuttle_store_limits(ct->conf, &lim);
	ct->store = store_index_new(ct->loop, comm_loop_pool(ct->loop), &lim);
	if (ct->store == NULL) {
		log_msg(LG_CRIT, SEC_MAIN, "cannot create the memory cache");
		return (-1);
	}
	ct->auth = auth_new(ct->loop, &ct->conf->auth_param, &errors);
	if (errors > 0)
		return (-1);
	if (disks_start(ct->loop, ct->conf, &ct->disks) != 0)
		return (-1);
	if (helper_register_metrics(&ct->helpers, reg) != 0 ||
	    (ct->auth != NULL && auth_register(ct->auth, reg,
	    &ct->helpers) != 0) ||
	    disks_register_pages(ct->disks, ct->store, reg) != 0 ||
	    store_register_pages(ct->store, reg) != 0)
		goto nomem;
	ct->adapt = client_adapt_new(ct->loop, ct->conf, &errors);
	if (errors > 0)
		return (-1);
	if (client_adapt_replace(NULL, ct->adapt, reg, &ct->helpers) != 0)
		goto nomem;
	ct->externals = acl_externals_new(ct->loop,
	    &ct->conf->external_acl_type, &errors);
	if (errors > 0)
		return (-1);
	if (acl_externals_replace(NULL, ct->externals, reg,
	    &ct->helpers) != 0)
		goto nomem;
	/* ICP: its port is bound once, at start (reconfigure keeps it). */
	ct->icp = icp_new(ct->loop, ct->conf->icp_port, &errors);
	if (errors != 0) {
		log_msg(LG_CRIT, SEC_MAIN, "icp_port %ld: %s",
		    ct->conf->icp_port, strerror(-errors));
		return (-1);
	}
	if (ct->icp != NULL && icp_register_pages(ct->icp, reg) != 0)
		goto nomem;
	cuttle_deps(ct, &deps);
	ct->client = client_ctx_new(&deps);
	if (ct->client == NULL || client_register_pages(ct->client) != 0)
		goto nomem;
	ct->reaper = comm_timer_new(ct->loop, on_reap_tick, ct);
	if (ct->reaper == NULL)
		goto nomem;
	return (0);
nomem:
	log_msg(LG_CRIT, SEC_MAIN, "out of memory");
	return (-1);
}

/* -- reconfigure ----------------------------------------------------------- */

/*
 * Why the old conf may be freed as soon as the new one is in force:
 * every layer that keeps settings (the client side, the server side)
 * holds them in one context, reads them through it when it uses them,
 * and copies no pointer into a connection, transaction or forwarding
 * (struct client_deps, fwd_ctx_set_conf() say so).  The swap runs from
 * a signal callback, never inside client or server code, so after it
 * nothing can reach the old conf, rules or access log: in-flight
 * transactions go on under the new settings (a timeout already armed
 * keeps its length).  The resolver is the exception: a lookup stays on
 * the resolver it started on, so the old one is retired to ct->old_dns
 * and freed once dns_resolver_idle() (the reaper's tick).  So is proxy
 * authentication when its auth_param lines change: a check waiting for
 * the old helpers finishes there (ct->old_auth, auth_idle()), and new
 * requests go to the new ones.
 */

/* Every second while resolvers are retired: free the idle ones. */
static void
on_reap_tick(struct comm_timer *tm, void *arg)
{
	struct cuttle *ct = arg;
	size_t i = 0;

	while (i < ct->nold_dns) {
		if (!dns_resolver_idle(ct->old_dns[i])) {
			i++;
			continue;
		}
		dns_resolver_free(&ct->old_dns[i]);
		ct->old_dns[i] = ct->old_dns[--ct->nold_dns];
	}
	i = 0;
	while (i < ct->nold_auth) {
		if (!auth_idle(ct->old_auth[i])) {
			i++;
			continue;
		}
		auth_free(&ct->old_auth[i]);
		ct->old_auth[i] = ct->old_auth[--ct->nold_auth];
	}
	if (ct->nold_dns == 0 && ct->nold_auth == 0)
		comm_timer_stop(tm);
}

static bool
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != b);
	return (strcmp(a, b) != 0);
}

/*
 * Read the conf again and put it in force, or refuse it whole: every
 * step that can fail (parse, acls, access logs, resolver, new ports)
 * runs beside what is in force, and only when all worked is anything
 * swapped.  0, or -1 with the old configuration untouched (the reasons
 * logged).
 */
static int
cuttle_reconfigure(struct cuttle *ct)
{
	struct client_rules rules, old_rules;
	struct access_log *al = NULL, *old_al;
	struct dns_resolver *dns = NULL, **more;
	struct auth *auth = NULL, **more_auth;
	struct client_adapt *adapt = NULL, *old_adapt = NULL;
	struct acl_externals *ext = NULL, *old_ext = NULL;
	bool new_auth, new_adapt, new_ext;
	struct conf *conf, *old_conf;
	struct client_deps deps;
	struct store_limits lim;
	struct dns_params dp;
	struct client_ports *ports = NULL;
	struct tls_ctx *tls = NULL;
	int n, errors = 0;

	log_msg(LG_NOTICE, SEC_MAIN, "reconfigure: reading %s",
	    ct->conf_path != NULL ? ct->conf_path : CUTTLE_DEFAULT_CONF);
	memset(&rules, 0, sizeof rules);
	conf = conf_new();
	if (conf == NULL)
		return (-1);
	n = load_conf(conf, ct->conf_path);
	if (n >= 0)
		n += client_rules_compile(conf, &rules) +
		    disks_check(conf, false);
	if (n != 0) {
		log_msg(LG_ERR, SEC_MAIN, "reconfigure: the configuration "
		    "has %s", n < 0 ? "an unreadable file" : "errors");
		goto refuse;
	}
	al = access_log_open(ct->loop, &conf->access_log, &conf->logformat,
	    &errors);
	if (al == NULL || errors > 0)
		goto refuse;
	if (fwd_tls_new(conf, &tls) != 0)
		goto refuse;
	dns_params_from_conf(&dp, conf);
	dns = dns_resolver_new(ct->loop, &dp);
	if (dns == NULL) {
		log_msg(LG_ERR, SEC_MAIN, "reconfigure: cannot start the "
		    "resolver: %s", strerror(errno));
		goto refuse;
	}
	/* Room to retire the old resolver, so that nothing past this
	 * point can fail. */
	more = realloc(ct->old_dns, (ct->nold_dns + 1) * sizeof *more);
	if (more == NULL)
		goto refuse;
	ct->old_dns = more;
	/* New helpers only for new auth_param lines: the same ones keep
	 * theirs, and the credentials they cached. */
	new_auth = !conf_lines_equal(&conf->auth_param,
	    &ct->conf->auth_param);
	if (new_auth && ct->auth != NULL && conf->auth_param.n == 0) {
		log_msg(LG_ERR, SEC_MAIN, "reconfigure: auth_param cannot be "
		    "removed by a reconfigure; restart cuttle");
		goto refuse;
	}
	if (new_auth) {
		auth = auth_new(ct->loop, &conf->auth_param, &errors);
		if (errors > 0)
			goto refuse;
		if (auth_removes(ct->auth, auth)) {
			log_msg(LG_ERR, SEC_MAIN, "reconfigure: an auth_param "
			    "scheme cannot be removed by a reconfigure; "
			    "restart cuttle");
			goto refuse;
		}
		more_auth = realloc(ct->old_auth, (ct->nold_auth + 1) *
		    sizeof *more_auth);
		if (more_auth == NULL)
			goto refuse;
		ct->old_auth = more_auth;
	}
	/* The same for the url_rewrite and store_id helpers; requests
	 * waiting for the old ones are asked again of the new. */
	new_adapt = !client_adapt_conf_equal(conf, ct->conf);
	if (new_adapt) {
		adapt = client_adapt_new(ct->loop, conf, &errors);
		if (errors > 0)
			goto refuse;
		if (client_adapt_removes(ct->adapt, adapt)) {
			log_msg(LG_ERR, SEC_MAIN, "reconfigure: "
			    "url_rewrite_program and store_id_program cannot "
			    "be removed by a reconfigure; restart cuttle");
			goto refuse;
		}
	}
	/* External acl helpers too; a check waiting for an old one gets
	 * "no match" (logged) when it goes. */
	new_ext = !conf_lines_equal(&conf->external_acl_type,
	    &ct->conf->external_acl_type);
	if (new_ext) {
		ext = acl_externals_new(ct->loop, &conf->external_acl_type,
		    &errors);
		if (errors > 0)
			goto refuse;
	}
	if (new_ext && ct->externals != NULL && acl_externals_replace(
	    ct->externals, ext, NULL, NULL) == -EINVAL) {
		log_msg(LG_ERR, SEC_MAIN, "reconfigure: an external_acl_type "
		    "cannot be removed by a reconfigure; restart cuttle");
		goto refuse;
	}
	if (client_ports_prepare(ct->ports, conf, &ports) != 0)
		goto refuse;
	/* The stores: kept, added, taken out; the last step that may
	 * fail (it undoes itself, and the prepared ports are closed). */
	if (disks_reconfigure(ct->disks, conf) != 0) {
		client_ports_close(&ports);
		goto refuse;
	}

	/* Commit. */
	client_ports_commit(&ct->ports, &ports);
	if (str_differ(conf->pid_filename, ct->conf->pid_filename))
		log_msg(LG_WARN, SEC_MAIN, "reconfigure: pid_filename "
		    "changes at restart only; still %s", ct->pidpath != NULL ?
		    ct->pidpath : "none");
	if (str_differ(conf->cache_effective_user,
	    ct->conf->cache_effective_user))
		log_msg(LG_WARN, SEC_MAIN, "reconfigure: "
		    "cache_effective_user changes at restart only");
	/* What outlives a conf (the idle server connections, the memory
	 * cache) stays, under the new limits. */
	cuttle_store_limits(conf, &lim);
	store_index_set_limits(ct->store, &lim);
	ct->old_dns[ct->nold_dns++] = ct->dns;
	comm_timer_start(ct->reaper, 0, 1.0);
	/* The ipcache page shows the new resolver; the old one may be
	 * freed by the reaper while the manager lives on. */
	(void)mgr_registry_rebind(mgr_actions(ct->mgr), ct->dns, dns);
	ct->dns = dns;
	if (new_auth) {
		if (auth_replace(ct->auth, auth, mgr_actions(ct->mgr),
		    &ct->helpers) != 0)
			log_msg(LG_WARN, SEC_MAIN, "reconfigure: no memory for "
			    "the auth helpers' manager page");
		if (ct->auth != NULL)
			ct->old_auth[ct->nold_auth++] = ct->auth;
		ct->auth = auth;
	}
	if (new_adapt) {
		if (client_adapt_replace(ct->adapt, adapt, mgr_actions(ct->mgr),
		    &ct->helpers) != 0)
			log_msg(LG_WARN, SEC_MAIN, "reconfigure: no memory for "
			    "the helpers' manager pages");
		old_adapt = ct->adapt;
		ct->adapt = adapt;
	}
	if (new_ext) {
		if (acl_externals_replace(ct->externals, ext,
		    mgr_actions(ct->mgr), &ct->helpers) != 0)
			log_msg(LG_WARN, SEC_MAIN, "reconfigure: no memory for "
			    "the external acl helpers' manager pages");
		old_ext = ct->externals;
		ct->externals = ext;
	}
	old_conf = ct->conf;
	old_rules = ct->rules;
	old_al = ct->access_log;
	ct->conf = conf;
	ct->rules = rules;
	ct->access_log = al;
	fwd_ctx_set_conf(ct->fwd, ct->dns, ct->conf);
	fwd_ctx_set_tls(ct->fwd, &tls);
	cuttle_deps(ct, &deps);
	client_ctx_set_deps(ct->client, &deps);
	AZ(log_parse_options(ct->conf->debug_options, true, NULL));
	/* Nothing reaches them any more (see above); the old access log
	 * writes what it still buffers as it closes. */
	access_log_close(&old_al);
	client_rules_free(&old_rules);
	client_adapt_free(&old_adapt);
	acl_externals_free(&old_ext);
	conf_free(&old_conf);
	log_msg(LG_NOTICE, SEC_MAIN, "reconfigure: done, %zu port%s",
	    client_ports_count(ct->ports),
	    client_ports_count(ct->ports) == 1 ? "" : "s");
	return (0);

refuse:
	tls_ctx_free(&tls);
	auth_free(&auth);
	client_adapt_free(&adapt);
	acl_externals_free(&ext);
	dns_resolver_free(&dns);
	access_log_close(&al);
	client_rules_free(&rules);
	conf_free(&conf);
	return (-1);
}

static void
cuttle_fini(struct cuttle *ct)
{
	size_t i;

	comm_timer_free(&ct->draining);
	client_ports_close(&ct->ports);
	if (ct->client != NULL) {
		/* In-flight transfers end with the process; their
		 * completions run before the loop goes. */
		client_ctx_close_all(ct->client);
		while (!client_ctx_idle(ct->client) ||
		    (ct->fwd != NULL && !fwd_ctx_idle(ct->fwd)))
			comm_loop_run_once(ct->loop);
	}
	client_ctx_free(&ct->client);
	/* No transaction is left to wait for a helper. */
	auth_free(&ct->auth);
	for (i = 0; i < ct->nold_auth; i++)
		auth_free(&ct->old_auth[i]);
	free(ct->old_auth);
	/* No request reads from them any more; their last writes go to
	 * the files before the loop does. */
	disks_stop(&ct->disks);
	client_adapt_free(&ct->adapt);
	acl_externals_free(&ct->externals);
	/* Before the modules whose pages it holds. */
	mgr_free(&ct->mgr);
	icp_free(&ct->icp);
	store_index_free(&ct->store);
	fwd_ctx_free(&ct->fwd);
	dns_resolver_free(&ct->dns);
	for (i = 0; i < ct->nold_dns; i++)
		dns_resolver_free(&ct->old_dns[i]);
	free(ct->old_dns);
	comm_timer_free(&ct->reaper);
	access_log_close(&ct->access_log);
	client_rules_free(&ct->rules);
	comm_loop_free(&ct->loop);
	if (ct->pidpath != NULL)
		daemon_pidfile_drop(ct->pidpath, ct->pidfd);
	free(ct->pidpath);
	conf_free(&ct->conf);
}

int
main(int argc, char **argv)
{
	struct cuttle ct = { .pidfd = -1 };
	const char *action = NULL;
	const char *conf_path = NULL;
	char *abs_path = NULL;
	bool foreground = false, parse_only = false, make_dirs = false;
	int ch, n, rc = 1;

	while ((ch = getopt(argc, argv, "f:hk:Nvz")) != -1) {
		switch (ch) {
		case 'f':
			conf_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return (0);
		case 'k':
			if (strcmp(optarg, "parse") == 0)
				parse_only = true;
			else
				action = optarg;
			break;
		case 'N':
			foreground = true;
			break;
		case 'v':
			print_version();
			return (0);
		case 'z':
			make_dirs = true;
			break;
		default:
			usage(stderr);
			return (2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		return (2);
	}

	ct.conf = conf_new();
	if (ct.conf == NULL) {
		log_msg(LG_CRIT, SEC_MAIN, "out of memory");
		return (1);
	}
	/* Reconfigure reads the same file after the daemon's chdir("/"). */
	if (conf_path != NULL && conf_path[0] != '/' &&
	    (abs_path = realpath(conf_path, NULL)) != NULL)
		conf_path = abs_path;
	ct.conf_path = conf_path;
	n = load_conf(ct.conf, conf_path);
	if (n >= 0)
		n += client_rules_compile(ct.conf, &ct.rules) +
		    disks_check(ct.conf, true);
	if (n >= 0)
		auth_conf_check(&ct.conf->auth_param, &n);
	if (n >= 0)
		(void)client_adapt_new(NULL, ct.conf, &n);	/* checks */
	if (n >= 0)
		(void)acl_externals_new(NULL, &ct.conf->external_acl_type,
		    &n);
	if (n != 0) {
		log_msg(LG_CRIT, SEC_MAIN, "configuration has %s; not starting",
		    n < 0 ? "an unreadable file" : "errors");
		goto out;
	}
	if (parse_only) {
		/* What start-up makes of the conf and may refuse, too: the
		 * outgoing TLS context, and the ports' certificates (a key
		 * that does not match its certificate is an error of the
		 * conf). */
		struct tls_ctx *tls = NULL;

		rc = fwd_tls_new(ct.conf, &tls) == 0 &&
		    client_ports_check(ct.conf) == 0 ? 0 : 1;
		tls_ctx_free(&tls);
		goto out;
	}
	if (make_dirs) {
		rc = disks_create(ct.conf) == 0 ? 0 : 1;
		goto out;
	}
	if (action != NULL) {
		rc = daemon_control(ct.conf->pid_filename, action);
		goto out;
	}
	AZ(log_parse_options(ct.conf->debug_options, true, NULL));

	if (!foreground && daemon_detach() != 0) {
		log_msg(LG_CRIT, SEC_MAIN, "cannot become a daemon: %s",
		    strerror(errno));
		goto out;
	}
	if (ct.conf->pid_filename != NULL) {
		ct.pidpath = strdup(ct.conf->pid_filename);
		if (ct.pidpath == NULL) {
			log_msg(LG_CRIT, SEC_MAIN, "out of memory");
			goto out;
		}
		if (daemon_pidfile_start(ct.pidpath, foreground,
		    &ct.pidfd) != 0)
			goto out;
	}
	ct.loop = comm_loop_new();
	if (ct.loop == NULL) {
		log_msg(LG_CRIT, SEC_MAIN, "cannot create the event loop: %s",
		    strerror(errno));
		goto out;
	}
	if (comm_signal_add(ct.loop, SIGINT, on_stop_signal, &ct) != 0 ||
	    comm_signal_add(ct.loop, SIGTERM, on_stop_signal, &ct) != 0 ||
	    comm_signal_add(ct.loop, SIGUSR1, on_rotate_signal, &ct) != 0 ||
	    comm_signal_add(ct.loop, SIGHUP, on_hup_signal, &ct) != 0) {
		log_msg(LG_CRIT, SEC_MAIN, "out of memory");
		goto out;
	}
	log_msg(LG_NOTICE, SEC_MAIN, "cuttle %s starting (pid %ld)",
	    PACKAGE_VERSION, (long)getpid());
	if (cuttle_start(&ct) != 0 || client_ports_open(ct.client,
	    ct.loop, ct.conf, &ct.ports) != 0 ||
	    daemon_drop_privileges(
	    ct.conf->cache_effective_user, ct.access_log) != 0)
		goto out;

	(void)daemon_notify("READY=1");
	comm_loop_run(ct.loop);
	log_msg(LG_NOTICE, SEC_MAIN, "%s: shutting down",
	    strsignal(ct.stop_signal));
	rc = 0;
out:
	cuttle_fini(&ct);
	free(abs_path);
	return (rc);
}
