/*
 * client_rules.c - compiling the client side's policy from a conf (the
 * contract is in client_rules.h).
 *
 *	client_rules_compile()	acls, then the rule lists that name them:
 *				http_access, reply_body_max_size (a
 *				synthetic "allow acl ..." line per size),
 *				`cache`, http_reply_access, refresh_pattern,
 *				and the PURGE scan
 *	client_rules_lend()	the compiled rules into struct client_deps
 *	client_rules_free()	the rule lists, then the acls they name
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl/acl.h"
#include "base/log.h"
#include "client/client.h"
#include "client/client_rules.h"
#include "conf/conf.h"
#include "fwd/fwd_peer.h"
#include "http/http_cache.h"
#include "mgr/mgr.h"

#define CONF_MAX_RULE_WORDS	64	/* acls on one reply_body_max_size */

static int rules_compile_body_limits(const struct conf *conf,
    struct client_rules *cr);
static int rules_compile_cache(const struct conf *conf,
    struct client_rules *cr);
static int rules_compile_bump(const struct conf *conf,
    struct client_rules *cr);

/* Access control is compiled before anything listens: a configuration
 * whose acls do not compile never serves a request (nor replaces the
 * one in force, on reconfigure). */
int
client_rules_compile(const struct conf *conf, struct client_rules *cr)
{
	struct mgr_passwd *pw;
	int errors = 0;

	cr->acls = acl_set_compile(&conf->acl, &errors);
	if (cr->acls != NULL)
		cr->http_access = acl_rules_compile(cr->acls,
		    &conf->http_access, "http_access", &errors);
	if (cr->acls == NULL || cr->http_access == NULL)
		errors++;
	acl_externals_check_acls(&conf->acl, &conf->external_acl_type,
	    &errors);
	acl_auth_check_acls(&conf->acl, conf->auth_param.n > 0, &errors);
	if (cr->acls != NULL)
		errors += rules_compile_body_limits(conf, cr);
	if (cr->acls != NULL)
		errors += rules_compile_cache(conf, cr);
	if (cr->acls != NULL)
		cr->peers = fwd_peers_new(conf, cr->acls, &errors);
	if (cr->acls != NULL)
		errors += rules_compile_bump(conf, cr);
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
rules_compile_cache(const struct conf *conf, struct client_rules *cr)
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
	if (conf->url_rewrite_access.n > 0) {
		cr->url_rewrite_access = acl_rules_compile(cr->acls,
		    &conf->url_rewrite_access, "url_rewrite_access", &errors);
		if (cr->url_rewrite_access == NULL)
			errors++;
	}
	if (conf->icp_access.n > 0) {
		cr->icp_access = acl_rules_compile(cr->acls,
		    &conf->icp_access, "icp_access", &errors);
		if (cr->icp_access == NULL)
			errors++;
	}
	if (conf->miss_access.n > 0) {
		cr->miss_access = acl_rules_compile(cr->acls,
		    &conf->miss_access, "miss_access", &errors);
		if (cr->miss_access == NULL)
			errors++;
	}
	if (conf->store_id_access.n > 0) {
		cr->store_id_access = acl_rules_compile(cr->acls,
		    &conf->store_id_access, "store_id_access", &errors);
		if (cr->store_id_access == NULL)
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

/*
 * reply_body_max_size size [unit] [[!]acl ...]: each line a limit and,
 * when acls follow, the rule ("allow acl ...") that selects it.  "none"
 * or 0 is no limit.  Returns the number of errors (logged, file:line).
 */
static int
rules_compile_body_limits(const struct conf *conf, struct client_rules *cr)
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

/*
 * ssl_bump action [!]acl ...: each line an action and the rule ("allow
 * acl ...") that selects it; sslproxy_cert_error as any allow/deny list.
 * Returns the number of errors (logged, file:line).
 */
static int
rules_compile_bump(const struct conf *conf, struct client_rules *cr)
{
	static const char *const names[CLIENT_BUMP__COUNT] = {
#define CLIENT_BUMP_ACTION(sym, name)	[CLIENT_BUMP_##sym] = name,
		CLIENT_BUMP_ACTIONS
#undef CLIENT_BUMP_ACTION
	};
	const struct conf_lines *ls = &conf->ssl_bump;
	struct client_bump_rule *br;
	struct conf_lines rule;
	struct conf_line one;
	char *argv[CONF_MAX_RULE_WORDS + 2];
	const struct conf_line *l;
	unsigned a, i;
	size_t n;
	int errors = 0;

	if (conf->sslproxy_cert_error.n > 0) {
		cr->cert_error = acl_rules_compile(cr->acls,
		    &conf->sslproxy_cert_error, "sslproxy_cert_error", &errors);
		if (cr->cert_error == NULL)
			errors++;
	}
	if (ls->n == 0)
		return (errors);
	cr->bump_rules = calloc(ls->n, sizeof *cr->bump_rules);
	if (cr->bump_rules == NULL)
		return (errors + 1);
	for (n = 0; n < ls->n; n++) {
		l = &ls->v[n];
		br = &cr->bump_rules[cr->nbump_rules];
		for (a = 0; a < CLIENT_BUMP__COUNT; a++)
			if (strcmp(l->argv[0], names[a]) == 0)
				break;
		if (a == CLIENT_BUMP__COUNT) {
			log_msg(LG_ERR, SEC_CONF, "%s:%u: ssl_bump: unknown "
			    "action \"%s\" (peek, stare, splice, bump or "
			    "terminate; client-first and server-first are "
			    "Squid 3's: use bump)", l->file, l->line,
			    l->argv[0]);
			errors++;
			continue;
		}
		br->action = (enum client_bump_action)a;
		if (l->argc > CONF_MAX_RULE_WORDS) {
			log_msg(LG_ERR, SEC_CONF, "%s:%u: ssl_bump: too many "
			    "acls", l->file, l->line);
			errors++;
			continue;
		}
		if (l->argc > 1) {
			argv[0] = (char *)(uintptr_t)"allow";
			for (i = 1; i < l->argc; i++)
				argv[i] = l->argv[i];
			argv[l->argc] = NULL;
			one = *l;
			one.argv = argv;
			rule.v = &one;
			rule.n = 1;
			br->rules = acl_rules_compile(cr->acls, &rule,
			    "ssl_bump", &errors);
			if (br->rules == NULL) {
				errors++;
				continue;
			}
		}
		cr->nbump_rules++;
	}
	return (errors);
}

void
client_rules_lend(const struct client_rules *cr, struct client_deps *deps)
{
	deps->http_access = cr->http_access;
	deps->body_limits = cr->body_limits;
	deps->nbody_limits = cr->nbody_limits;
	deps->refresh = cr->refresh;
	deps->cache_access = cr->cache_access;
	deps->http_reply_access = cr->http_reply_access;
	deps->purge = cr->purge;
	deps->url_rewrite_access = cr->url_rewrite_access;
	deps->store_id_access = cr->store_id_access;
	deps->peers = cr->peers;
	deps->bump_rules = cr->bump_rules;
	deps->nbump_rules = cr->nbump_rules;
	deps->cert_error = cr->cert_error;
	deps->miss_access = cr->miss_access;
}

/* The rules before the set they refer to. */
void
client_rules_free(struct client_rules *cr)
{
	size_t i;

	for (i = 0; i < cr->nbody_limits; i++)
		acl_rules_free(&cr->body_limits[i].rules);
	free(cr->body_limits);
	for (i = 0; i < cr->nbump_rules; i++)
		acl_rules_free(&cr->bump_rules[i].rules);
	free(cr->bump_rules);
	cr->bump_rules = NULL;
	cr->nbump_rules = 0;
	acl_rules_free(&cr->cert_error);
	cr->body_limits = NULL;
	cr->nbody_limits = 0;
	acl_rules_free(&cr->cache_access);
	acl_rules_free(&cr->http_reply_access);
	acl_rules_free(&cr->url_rewrite_access);
	acl_rules_free(&cr->store_id_access);
	acl_rules_free(&cr->icp_access);
	acl_rules_free(&cr->miss_access);
	http_refresh_free(&cr->refresh);
	acl_rules_free(&cr->http_access);
	fwd_peers_unref(&cr->peers);
	acl_set_free(&cr->acls);
	cr->purge = false;
}
