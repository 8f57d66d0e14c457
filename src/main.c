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
#include <fcntl.h>
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
#include "base/check.h"
#include "base/log.h"
#include "client/client.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "daemon.h"
#include "dns/dns.h"
#include "fwd/fwd.h"
#include "http/http.h"
#include "http/http_cache.h"
#include "log/access_log.h"
#include "mgr/mgr.h"
#include "mgr/mgr_page.h"
#include "store/store.h"

#ifndef CUTTLE_SYSCONFDIR
#define CUTTLE_SYSCONFDIR "/usr/local/etc"
#endif
#define CUTTLE_DEFAULT_CONF	CUTTLE_SYSCONFDIR "/cuttle.conf"
#define CONF_MAX_RULE_WORDS	64	/* acls on one reply_body_max_size */

/* What is compiled from one conf; freed with it.  Something new compiled
 * from the conf goes here: compile_access() builds it, rules_free()
 * frees it, cuttle_deps() hands it out, and reconfigure swaps it. */
struct cuttle_rules {
	struct acl_set		*acls;
	struct acl_rules	*http_access;
	struct client_body_limit *body_limits;	/* reply_body_max_size */
	size_t			nbody_limits;
	struct acl_rules	*http_reply_access;	/* NULL: none given */
	struct acl_rules	*cache_access;	/* `cache`; NULL: none given */
	struct http_refresh	*refresh;	/* refresh_pattern */
	bool			purge;		/* an acl names PURGE */
};

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
	struct comm_listener	**listeners;	/* one per conf->ports[] */
	size_t			nlisteners;
	struct cuttle_rules	rules;
	struct access_log	*access_log;
	struct dns_resolver	*dns;
	struct dns_resolver	**old_dns;	/* retired by reconfigure;
						 * freed once idle */
	size_t			nold_dns;
	struct comm_timer	*reaper;	/* frees old_dns */
	struct fwd_ctx		*fwd;
	struct store_index	*store;		/* the memory cache; it
						 * outlives reconfigures */
	struct client_ctx	*client;
	struct mgr		*mgr;		/* cache manager */
	char			*pidpath;	/* the pid file taken */
	int			pidfd;		/* locked pid file, or -1 */
	int			stop_signal;
	struct comm_timer	*draining;	/* graceful shutdown under way */
	double			drain_until;
};

/* cuttle -k ACTION: what it does to a running cuttle (found through the
 * pid file of the configuration).  Signal 0 only checks. */
static const struct {
	const char	*name;
	int		sig;
} cuttle_actions[] = {
	{ "check", 0 },
	{ "shutdown", SIGTERM },
	{ "interrupt", SIGINT },
	{ "kill", SIGKILL },
	{ "rotate", SIGUSR1 },
	{ "reconfigure", SIGHUP },
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: cuttle [-hNv] [-f file] [-k action]\n"
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

/* cuttle -k ACTION (other than parse): 0 done, 1 not running or failed,
 * 2 unknown action. */
static int
control(const struct conf *conf, const char *action)
{
	pid_t pid;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_LEN(cuttle_actions); i++)
		if (strcmp(action, cuttle_actions[i].name) == 0)
			break;
	if (i == ARRAY_LEN(cuttle_actions)) {
		fprintf(stderr, "cuttle: -k %s: unknown action (parse, check, "
		    "reconfigure, rotate, shutdown, interrupt, kill)\n",
		    action);
		return (2);
	}
	if (conf->pid_filename == NULL) {
		fprintf(stderr, "cuttle: -k %s: pid_filename is none: cannot "
		    "find a running cuttle\n", action);
		return (1);
	}
	err = daemon_signal(conf->pid_filename, cuttle_actions[i].sig, &pid);
	if (err == -ESRCH) {
		fprintf(stderr, "cuttle: not running (no live %s)\n",
		    conf->pid_filename);
		return (1);
	}
	if (err != 0) {
		fprintf(stderr, "cuttle: -k %s: pid %ld: %s\n", action,
		    (long)pid, strerror(-err));
		return (1);
	}
	if (cuttle_actions[i].sig == 0)
		printf("cuttle is running (pid %ld)\n", (long)pid);
	return (0);
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
	size_t i;

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
	for (i = 0; i < ct->nlisteners; i++)
		comm_listener_close(&ct->listeners[i]);
	ct->nlisteners = 0;
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

static int
open_listeners(struct cuttle *ct)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char addr[80];
	size_t i;
	int err;

	ct->listeners = calloc(ct->conf->nports, sizeof *ct->listeners);
	if (ct->listeners == NULL)
		return (-ENOMEM);
	for (i = 0; i < ct->conf->nports; i++) {
		comm_addr_format((struct sockaddr *)&ct->conf->ports[i].addr,
		    addr, sizeof addr);
		err = comm_listen(ct->loop,
		    (struct sockaddr *)&ct->conf->ports[i].addr,
		    ct->conf->ports[i].addrlen, 1024, &ct->listeners[i]);
		if (err != 0) {
			log_msg(LG_CRIT, SEC_MAIN, "cannot listen on %s: %s",
			    addr, strerror(-err));
			return (err);
		}
		ct->nlisteners++;
		client_listen(ct->client, ct->listeners[i]);
		comm_listener_addr(ct->listeners[i], &ss, &sslen);
		log_msg(LG_NOTICE, SEC_MAIN, "listening on %s",
		    comm_addr_format((struct sockaddr *)&ss, addr,
		    sizeof addr));
	}
	return (0);
}

/* Detach from the terminal: the classic double step, so the daemon is no
 * session leader and can never reacquire a controlling terminal. */
static int
daemonize(void)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid == -1)
		return (-errno);
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return (-errno);
	pid = fork();
	if (pid == -1)
		return (-errno);
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		return (-errno);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd == -1)
		return (-errno);
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	return (0);
}

static int compile_body_limits(const struct conf *conf,
    struct cuttle_rules *cr);
static int compile_cache_rules(const struct conf *conf,
    struct cuttle_rules *cr);

/* Access control is compiled before anything listens: a configuration
 * whose acls do not compile never serves a request (nor replaces the
 * one in force, on reconfigure).  Returns the number of errors; cr is
 * to be freed with rules_free() either way. */
static int
compile_access(const struct conf *conf, struct cuttle_rules *cr)
{
	struct mgr_passwd *pw;
	int errors = 0;

	cr->acls = acl_set_compile(&conf->acl, &errors);
	if (cr->acls != NULL)
		cr->http_access = acl_rules_compile(cr->acls,
		    &conf->http_access, "http_access", &errors);
	if (cr->acls == NULL || cr->http_access == NULL)
		errors++;
	if (cr->acls != NULL)
		errors += compile_body_limits(conf, cr);
	if (cr->acls != NULL)
		errors += compile_cache_rules(conf, cr);
	/* The manager compiles cachemgr_passwd when it is asked; a bad
	 * line must refuse the conf (and -k parse name it) all the same. */
	pw = mgr_passwd_compile(&conf->cachemgr_passwd, &errors);
	mgr_passwd_free(&pw);
	return (errors);
}

/* The rules that bend caching and replies: `cache`, http_reply_access,
 * refresh_pattern; and whether PURGE is enabled (Squid enables it only
 * when an acl names the method). */
static int
compile_cache_rules(const struct conf *conf, struct cuttle_rules *cr)
{
	const struct conf_line *l;
	char err[512];
	size_t i;
	unsigned w;
	int errors = 0;

	if (conf->cache.n > 0) {
		cr->cache_access = acl_rules_compile(cr->acls, &conf->cache,
		    "cache", &errors);
		if (cr->cache_access == NULL)
			errors++;
	}
	if (conf->http_reply_access.n > 0) {
		cr->http_reply_access = acl_rules_compile(cr->acls,
		    &conf->http_reply_access, "http_reply_access", &errors);
		if (cr->http_reply_access == NULL)
			errors++;
	}
	cr->refresh = http_refresh_new(&conf->refresh_pattern, err,
	    sizeof err);
	if (cr->refresh == NULL) {
		log_msg(LG_ERR, SEC_CONF, "%s", err);
		errors++;
	}
	for (i = 0; i < conf->acl.n; i++) {
		l = &conf->acl.v[i];
		if (l->argc < 3 || strcmp(l->argv[1], "method") != 0)
			continue;
		for (w = 2; w < l->argc; w++)
			if (strcmp(l->argv[w], "PURGE") == 0)
				cr->purge = true;
	}
	return (errors);
}

/* The rules before the set they refer to. */
static void
rules_free(struct cuttle_rules *cr)
{
	size_t i;

	for (i = 0; i < cr->nbody_limits; i++)
		acl_rules_free(&cr->body_limits[i].rules);
	free(cr->body_limits);
	cr->body_limits = NULL;
	cr->nbody_limits = 0;
	acl_rules_free(&cr->cache_access);
	acl_rules_free(&cr->http_reply_access);
	http_refresh_free(&cr->refresh);
	acl_rules_free(&cr->http_access);
	acl_set_free(&cr->acls);
}

/*
 * reply_body_max_size size [unit] [[!]acl ...]: each line a limit and,
 * when acls follow, the rule ("allow acl ...") that selects it.  "none"
 * or 0 is no limit.  Returns the number of errors (logged, file:line).
 */
static int
compile_body_limits(const struct conf *conf, struct cuttle_rules *cr)
{
	const struct conf_lines *ls = &conf->reply_body_max_size;
	struct client_body_limit *bl;
	struct conf_lines rule;
	struct conf_line one;
	char *argv[CONF_MAX_RULE_WORDS + 2];
	const struct conf_line *l;
	unsigned first, i;
	bool no_unit;
	size_t n;
	int errors = 0;

	if (ls->n == 0)
		return (0);
	cr->body_limits = calloc(ls->n, sizeof *cr->body_limits);
	if (cr->body_limits == NULL)
		return (1);
	for (n = 0; n < ls->n; n++) {
		l = &ls->v[n];
		bl = &cr->body_limits[cr->nbody_limits];
		/* The unit may be a word of its own, or part of the size. */
		first = 1;
		if (strcmp(l->argv[0], "none") == 0)
			bl->size = 0;
		else if (l->argc > 1 && conf_parse_size_value(l->argv[0],
		    l->argv[1], &bl->size, &no_unit) == 0)
			first = 2;
		else if (conf_parse_size_value(l->argv[0], NULL, &bl->size,
		    &no_unit) != 0) {
			log_msg(LG_ERR, SEC_CONF, "%s:%u: reply_body_max_size: "
			    "bad size \"%s\"", l->file, l->line, l->argv[0]);
			errors++;
			continue;
		}
		if (l->argc > first) {
			if (l->argc - first > CONF_MAX_RULE_WORDS) {
				log_msg(LG_ERR, SEC_CONF, "%s:%u: "
				    "reply_body_max_size: too many acls",
				    l->file, l->line);
				errors++;
				continue;
			}
			argv[0] = (char *)(uintptr_t)"allow";
			for (i = first; i < l->argc; i++)
				argv[1 + i - first] = l->argv[i];
			argv[1 + l->argc - first] = NULL;
			one = *l;
			one.argc = 1 + l->argc - first;
			one.argv = argv;
			rule.v = &one;
			rule.n = 1;
			bl->rules = acl_rules_compile(cr->acls, &rule,
			    "reply_body_max_size", &errors);
			if (bl->rules == NULL) {
				errors++;
				continue;
			}
		}
		cr->nbody_limits++;
	}
	return (errors);
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
	deps->http_access = ct->rules.http_access;
	deps->access_log = ct->access_log;
	deps->body_limits = ct->rules.body_limits;
	deps->nbody_limits = ct->rules.nbody_limits;
	deps->mgr = ct->mgr;
	deps->dns = ct->dns;
	deps->store = ct->store;
	deps->refresh = ct->rules.refresh;
	deps->cache_access = ct->rules.cache_access;
	deps->http_reply_access = ct->rules.http_reply_access;
	deps->purge = ct->rules.purge;
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
	cuttle_store_limits(ct->conf, &lim);
	ct->store = store_index_new(ct->loop, comm_loop_pool(ct->loop), &lim);
	if (ct->store == NULL) {
		log_msg(LG_CRIT, SEC_MAIN, "cannot create the memory cache");
		return (-1);
	}
	if (store_register_pages(ct->store, reg) != 0)
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
 * and freed once dns_resolver_idle() (the reaper's tick).
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
	if (ct->nold_dns == 0)
		comm_timer_stop(tm);
}

/* Two http_port lines are one listening socket when family, address and
 * port agree. */
static bool
port_same(const struct conf_port *a, const struct conf_port *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->addr.ss_family != b->addr.ss_family)
		return (false);
	if (a->addr.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)&a->addr;
		b4 = (const struct sockaddr_in *)(const void *)&b->addr;
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	}
	if (a->addr.ss_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)(const void *)&a->addr;
		b6 = (const struct sockaddr_in6 *)(const void *)&b->addr;
		return (a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof a6->sin6_addr) == 0);
	}
	return (false);
}

/* The ports of a reconfigure: per new port, the listener in force it
 * keeps (from[i]) or the one bound for it (ls[i]). */
struct rebind {
	struct comm_listener	**ls;
	size_t			*from;		/* SIZE_MAX: a new socket */
	size_t			n;
};

static void
rebind_undo(struct rebind *rb)
{
	size_t i;

	for (i = 0; i < rb->n && rb->ls != NULL; i++)
		if (rb->from[i] == SIZE_MAX)
			comm_listener_close(&rb->ls[i]);
	free(rb->ls);
	free(rb->from);
	memset(rb, 0, sizeof *rb);
}

/*
 * First step: bind what is new; a port that stays keeps its socket, so
 * no connection attempt is refused while cuttle reconfigures.  New
 * sockets listen (the kernel queues connections) but accept only once
 * rebind_commit() runs.  0, or -errno with nothing changed (logged).
 */
static int
rebind_prepare(struct cuttle *ct, const struct conf *conf, struct rebind *rb)
{
	char addr[80];
	size_t i, j;
	bool *taken;
	int err = 0;

	memset(rb, 0, sizeof *rb);
	rb->ls = calloc(conf->nports + 1, sizeof *rb->ls);
	rb->from = calloc(conf->nports + 1, sizeof *rb->from);
	taken = calloc(ct->nlisteners + 1, sizeof *taken);
	if (rb->ls == NULL || rb->from == NULL || taken == NULL) {
		free(taken);
		rebind_undo(rb);
		return (-ENOMEM);
	}
	for (i = 0; i < conf->nports && err == 0; i++) {
		rb->from[i] = SIZE_MAX;
		rb->n++;
		for (j = 0; j < ct->nlisteners; j++)
			if (!taken[j] && port_same(&conf->ports[i],
			    &ct->conf->ports[j]))
				break;
		if (j < ct->nlisteners) {
			taken[j] = true;
			rb->from[i] = j;
			continue;
		}
		err = comm_listen(ct->loop,
		    (const struct sockaddr *)&conf->ports[i].addr,
		    conf->ports[i].addrlen, 1024, &rb->ls[i]);
		if (err != 0)
			log_msg(LG_ERR, SEC_MAIN, "reconfigure: cannot listen "
			    "on %s: %s", comm_addr_format((const struct
			    sockaddr *)&conf->ports[i].addr, addr,
			    sizeof addr), strerror(-err));
	}
	free(taken);
	if (err != 0)
		rebind_undo(rb);
	return (err);
}

/* Second step, which cannot fail: kept sockets move over, new ones start
 * accepting, the sockets of ports no longer listed close (connections
 * accepted through them go on). */
static void
rebind_commit(struct cuttle *ct, const struct conf *conf, struct rebind *rb)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char addr[80];
	size_t i;

	for (i = 0; i < rb->n; i++) {
		if (rb->from[i] != SIZE_MAX) {
			rb->ls[i] = ct->listeners[rb->from[i]];
			ct->listeners[rb->from[i]] = NULL;
			continue;
		}
		client_listen(ct->client, rb->ls[i]);
		comm_listener_addr(rb->ls[i], &ss, &sslen);
		log_msg(LG_NOTICE, SEC_MAIN, "reconfigure: listening on %s",
		    comm_addr_format((struct sockaddr *)&ss, addr,
		    sizeof addr));
	}
	for (i = 0; i < ct->nlisteners; i++) {
		if (ct->listeners[i] == NULL)
			continue;
		log_msg(LG_NOTICE, SEC_MAIN, "reconfigure: no longer "
		    "listening on %s", comm_addr_format((const struct
		    sockaddr *)&ct->conf->ports[i].addr, addr, sizeof addr));
		comm_listener_close(&ct->listeners[i]);
	}
	free(ct->listeners);
	ct->listeners = rb->ls;
	ct->nlisteners = conf->nports;
	free(rb->from);
	memset(rb, 0, sizeof *rb);
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
	struct cuttle_rules rules, old_rules;
	struct access_log *al = NULL, *old_al;
	struct dns_resolver *dns = NULL, **more;
	struct conf *conf, *old_conf;
	struct client_deps deps;
	struct store_limits lim;
	struct dns_params dp;
	struct rebind rb;
	int n, errors = 0;

	log_msg(LG_NOTICE, SEC_MAIN, "reconfigure: reading %s",
	    ct->conf_path != NULL ? ct->conf_path : CUTTLE_DEFAULT_CONF);
	memset(&rules, 0, sizeof rules);
	conf = conf_new();
	if (conf == NULL)
		return (-1);
	n = load_conf(conf, ct->conf_path);
	if (n >= 0)
		n += compile_access(conf, &rules);
	if (n != 0) {
		log_msg(LG_ERR, SEC_MAIN, "reconfigure: the configuration "
		    "has %s", n < 0 ? "an unreadable file" : "errors");
		goto refuse;
	}
	al = access_log_open(ct->loop, &conf->access_log, &conf->logformat,
	    &errors);
	if (al == NULL || errors > 0)
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
	if (rebind_prepare(ct, conf, &rb) != 0)
		goto refuse;

	/* Commit. */
	rebind_commit(ct, conf, &rb);
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
	old_conf = ct->conf;
	old_rules = ct->rules;
	old_al = ct->access_log;
	ct->conf = conf;
	ct->rules = rules;
	ct->access_log = al;
	fwd_ctx_set_conf(ct->fwd, ct->dns, ct->conf);
	cuttle_deps(ct, &deps);
	client_ctx_set_deps(ct->client, &deps);
	AZ(log_parse_options(ct->conf->debug_options, true, NULL));
	/* Nothing reaches them any more (see above); the old access log
	 * writes what it still buffers as it closes. */
	access_log_close(&old_al);
	rules_free(&old_rules);
	conf_free(&old_conf);
	log_msg(LG_NOTICE, SEC_MAIN, "reconfigure: done, %zu port%s",
	    ct->nlisteners, ct->nlisteners == 1 ? "" : "s");
	return (0);

refuse:
	dns_resolver_free(&dns);
	access_log_close(&al);
	rules_free(&rules);
	conf_free(&conf);
	return (-1);
}

/* -- privileges ------------------------------------------------------------ */

/*
 * Started as root: the ports are bound and the logs and pid file open,
 * so become cache_effective_user for good.  The access logs are given
 * to that user first, so that rotation can reopen them by name; the pid
 * file stays root's (its descriptor is kept open and locked, and a file
 * the proxy user could write would let it steer root's cuttle -k kill).
 * 0, or -1 (logged): cuttle must not serve as root by mistake.
 */
static int
drop_privileges(struct cuttle *ct)
{
	const char *name = ct->conf->cache_effective_user;
	struct daemon_user u;
	int err;

	if (geteuid() != 0) {
		if (name != NULL)
			log_msg(LG_NOTICE, SEC_MAIN, "cache_effective_user %s "
			    "ignored: cuttle was not started as root", name);
		return (0);
	}
	err = daemon_user_lookup(name, &u);
	if (err != 0) {
		log_msg(LG_CRIT, SEC_MAIN, "cache_effective_user %s: %s",
		    name != NULL ? name : "(proxy or nobody)",
		    err == -ENOENT ? "no such user" : strerror(-err));
		return (-1);
	}
	if (u.uid == 0) {
		log_msg(LG_NOTICE, SEC_MAIN, "cache_effective_user %s: uid 0, "
		    "cuttle keeps running as root", u.name);
		return (0);
	}
	if (ct->access_log != NULL)
		(void)access_log_chown(ct->access_log, u.uid, u.gid);
	err = daemon_user_become(&u);
	if (err != 0) {
		log_msg(LG_CRIT, SEC_MAIN, "cannot become %s (uid %ld, gid "
		    "%ld): %s", u.name, (long)u.uid, (long)u.gid,
		    strerror(-err));
		return (-1);
	}
	log_msg(LG_NOTICE, SEC_MAIN, "running as %s (uid %ld, gid %ld)",
	    u.name, (long)u.uid, (long)u.gid);
	return (0);
}

static void
cuttle_fini(struct cuttle *ct)
{
	size_t i;

	comm_timer_free(&ct->draining);
	for (i = 0; i < ct->nlisteners; i++)
		comm_listener_close(&ct->listeners[i]);
	free(ct->listeners);
	if (ct->client != NULL) {
		/* In-flight transfers end with the process; their
		 * completions run before the loop goes. */
		client_ctx_close_all(ct->client);
		while (!client_ctx_idle(ct->client) ||
		    (ct->fwd != NULL && !fwd_ctx_idle(ct->fwd)))
			comm_loop_run_once(ct->loop);
	}
	client_ctx_free(&ct->client);
	/* Before the modules whose pages it holds. */
	mgr_free(&ct->mgr);
	store_index_free(&ct->store);
	fwd_ctx_free(&ct->fwd);
	dns_resolver_free(&ct->dns);
	for (i = 0; i < ct->nold_dns; i++)
		dns_resolver_free(&ct->old_dns[i]);
	free(ct->old_dns);
	comm_timer_free(&ct->reaper);
	access_log_close(&ct->access_log);
	rules_free(&ct->rules);
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
	bool foreground = false, parse_only = false;
	int ch, n, rc = 1;

	while ((ch = getopt(argc, argv, "f:hk:Nv")) != -1) {
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
		n += compile_access(ct.conf, &ct.rules);
	if (n != 0) {
		log_msg(LG_CRIT, SEC_MAIN, "configuration has %s; not starting",
		    n < 0 ? "an unreadable file" : "errors");
		goto out;
	}
	if (parse_only) {
		rc = 0;
		goto out;
	}
	if (action != NULL) {
		rc = control(ct.conf, action);
		goto out;
	}
	AZ(log_parse_options(ct.conf->debug_options, true, NULL));

	if (!foreground && daemonize() != 0) {
		log_msg(LG_CRIT, SEC_MAIN, "cannot become a daemon: %s",
		    strerror(errno));
		goto out;
	}
	if (ct.conf->pid_filename != NULL) {
		pid_t other = 0;

		ct.pidpath = strdup(ct.conf->pid_filename);
		if (ct.pidpath == NULL) {
			log_msg(LG_CRIT, SEC_MAIN, "out of memory");
			goto out;
		}
		ct.pidfd = daemon_pidfile_take(ct.conf->pid_filename, &other);
		if (ct.pidfd == -EEXIST) {
			log_msg(LG_CRIT, SEC_MAIN, "cuttle is already running "
			    "(pid %ld, %s)", (long)other,
			    ct.conf->pid_filename);
			goto out;
		}
		/* In the foreground (a developer's run, not root) an
		 * unwritable pid file only costs cuttle -k; a daemon that
		 * -k cannot find is worse than one that does not start. */
		if (ct.pidfd < 0 && foreground)
			log_msg(LG_WARN, SEC_MAIN, "cannot write %s: %s; "
			    "cuttle -k will not find this instance",
			    ct.conf->pid_filename, strerror(-ct.pidfd));
		else if (ct.pidfd < 0) {
			log_msg(LG_CRIT, SEC_MAIN, "cannot write %s: %s",
			    ct.conf->pid_filename, strerror(-ct.pidfd));
			goto out;
		}
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
	if (cuttle_start(&ct) != 0 || open_listeners(&ct) != 0 ||
	    drop_privileges(&ct) != 0)
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
