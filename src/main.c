/*
 * main.c - start-up, signals and orderly shutdown.
 *
 *	main()		options, configuration, listeners, the loop
 *	SIGINT/SIGTERM	stop the loop; listeners closed; exit 0
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "log/access_log.h"

#ifndef CUTTLE_SYSCONFDIR
#define CUTTLE_SYSCONFDIR "/usr/local/etc"
#endif
#define CUTTLE_DEFAULT_CONF	CUTTLE_SYSCONFDIR "/cuttle.conf"
#define CONF_MAX_RULE_WORDS	64	/* acls on one reply_body_max_size */

/* What one running cuttle owns; main() holds the only instance. */
struct cuttle {
	struct conf		*conf;
	struct comm_loop	*loop;
	struct comm_listener	**listeners;
	size_t			nlisteners;
	struct acl_set		*acls;
	struct acl_rules	*http_access;
	struct client_body_limit *body_limits;	/* reply_body_max_size */
	size_t			nbody_limits;
	struct access_log	*access_log;
	struct dns_resolver	*dns;
	struct fwd_ctx		*fwd;
	struct client_ctx	*client;
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
	    "  -k check|shutdown|interrupt|kill|rotate\n"
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

/* SIGHUP asks Squid to reconfigure; cuttle cannot yet, and must not die
 * of it either (its default action). */
static void
on_hup_signal(struct comm_loop *loop, int signo, void *arg)
{
	(void)loop;
	(void)signo;
	(void)arg;
	log_msg(LG_WARN, SEC_MAIN, "SIGHUP: reconfiguring a running cuttle is "
	    "not supported yet; restart it to apply a new configuration");
}

/* cuttle -k ACTION (other than parse): 0 done, 1 not running or failed,
 * 2 unknown action. */
static int
control(const struct conf *conf, const char *action)
{
	pid_t pid;
	size_t i;
	int err;

	if (strcmp(action, "reconfigure") == 0) {
		fprintf(stderr, "cuttle: -k reconfigure is not supported yet: "
		    "restart cuttle to apply a new configuration\n");
		return (2);
	}
	for (i = 0; i < ARRAY_LEN(cuttle_actions); i++)
		if (strcmp(action, cuttle_actions[i].name) == 0)
			break;
	if (i == ARRAY_LEN(cuttle_actions)) {
		fprintf(stderr, "cuttle: -k %s: unknown action (parse, check, "
		    "shutdown, interrupt, kill, rotate)\n", action);
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

static int compile_body_limits(struct cuttle *ct);

/* Access control is compiled before anything listens: a configuration
 * whose acls do not compile never serves a request.  Returns the number
 * of errors. */
static int
compile_access(struct cuttle *ct)
{
	int errors = 0;

	ct->acls = acl_set_compile(&ct->conf->acl, &errors);
	if (ct->acls != NULL)
		ct->http_access = acl_rules_compile(ct->acls,
		    &ct->conf->http_access, "http_access", &errors);
	if (ct->acls == NULL || ct->http_access == NULL)
		errors++;
	else if (acl_rules_need_dst(ct->http_access))
		log_msg(LG_WARN, SEC_ACL, "http_access uses dst or "
		    "to_localhost: they match only requests whose host is an "
		    "address; cuttle does not resolve names before access "
		    "checks yet");
	if (ct->acls != NULL)
		errors += compile_body_limits(ct);
	return (errors);
}

/*
 * reply_body_max_size size [unit] [[!]acl ...]: each line a limit and,
 * when acls follow, the rule ("allow acl ...") that selects it.  "none"
 * or 0 is no limit.  Returns the number of errors (logged, file:line).
 */
static int
compile_body_limits(struct cuttle *ct)
{
	const struct conf_lines *ls = &ct->conf->reply_body_max_size;
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
	ct->body_limits = calloc(ls->n, sizeof *ct->body_limits);
	if (ct->body_limits == NULL)
		return (1);
	for (n = 0; n < ls->n; n++) {
		l = &ls->v[n];
		bl = &ct->body_limits[ct->nbody_limits];
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
			bl->rules = acl_rules_compile(ct->acls, &rule,
			    "reply_body_max_size", &errors);
			if (bl->rules == NULL) {
				errors++;
				continue;
			}
		}
		ct->nbody_limits++;
	}
	return (errors);
}

/* The layers, bottom up: name resolution, the server side, the client
 * side.  0, or -1 (logged). */
static int
cuttle_start(struct cuttle *ct)
{
	struct client_deps deps;
	struct dns_params dp;
	int errors = 0;

	dns_params_from_conf(&dp, ct->conf);
	ct->dns = dns_resolver_new(ct->loop, &dp);
	if (ct->dns == NULL) {
		log_msg(LG_CRIT, SEC_MAIN, "cannot start the resolver");
		return (-1);
	}
	ct->access_log = access_log_open(ct->loop, &ct->conf->access_log,
	    &ct->conf->logformat, &errors);
	if (errors > 0)
		return (-1);
	ct->fwd = fwd_ctx_new(ct->loop, ct->dns, ct->conf);
	memset(&deps, 0, sizeof deps);
	deps.loop = ct->loop;
	deps.conf = ct->conf;
	deps.fwd = ct->fwd;
	deps.http_access = ct->http_access;
	deps.access_log = ct->access_log;
	deps.body_limits = ct->body_limits;
	deps.nbody_limits = ct->nbody_limits;
	if (ct->fwd != NULL)
		ct->client = client_ctx_new(&deps);
	if (ct->client == NULL) {
		log_msg(LG_CRIT, SEC_MAIN, "out of memory");
		return (-1);
	}
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
	fwd_ctx_free(&ct->fwd);
	dns_resolver_free(&ct->dns);
	access_log_close(&ct->access_log);
	for (i = 0; i < ct->nbody_limits; i++)
		acl_rules_free(&ct->body_limits[i].rules);
	free(ct->body_limits);
	acl_rules_free(&ct->http_access);
	acl_set_free(&ct->acls);
	comm_loop_free(&ct->loop);
	if (ct->conf != NULL)
		daemon_pidfile_drop(ct->conf->pid_filename, ct->pidfd);
	conf_free(&ct->conf);
}

int
main(int argc, char **argv)
{
	struct cuttle ct = { .pidfd = -1 };
	const char *action = NULL;
	const char *conf_path = NULL;
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
	n = load_conf(ct.conf, conf_path);
	if (n >= 0)
		n += compile_access(&ct);
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
	if (cuttle_start(&ct) != 0 || open_listeners(&ct) != 0)
		goto out;

	comm_loop_run(ct.loop);
	log_msg(LG_NOTICE, SEC_MAIN, "%s: shutting down",
	    strsignal(ct.stop_signal));
	rc = 0;
out:
	cuttle_fini(&ct);
	return (rc);
}
