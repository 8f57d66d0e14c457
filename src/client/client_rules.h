/*
 * client_rules.h - the client side's policy, compiled from one conf: the
 * acls, http_access, http_reply_access, `cache`, reply_body_max_size
 * (each size with the synthetic "allow acl ..." rule that selects it),
 * refresh_pattern, and whether PURGE is enabled.
 *
 * Contract:
 * - Compiled before anything listens, and on reconfigure beside the
 *   rules in force: a conf whose rules do not compile never serves a
 *   request, nor replaces the conf in force.
 * - The rules borrow nothing from the conf once compiled; they are freed
 *   with client_rules_free() and lent to the client side through struct
 *   client_deps (client_rules_lend()), which never copies a pointer from
 *   them into a connection or transaction, so the old rules may be freed
 *   as soon as client_ctx_set_deps() has returned.
 *
 * Lifecycle:
 *	client_rules_compile()	compiled; errors logged (file:line)
 *	client_rules_lend()	in force: client_ctx_new/_set_deps()
 *	client_rules_free()	after the deps stopped naming them
 */
#ifndef CUTTLE_CLIENT_RULES_H
#define CUTTLE_CLIENT_RULES_H

#include <stdbool.h>
#include <stddef.h>

struct acl_rules;
struct acl_set;
struct client_body_limit;
struct client_bump_rule;
struct client_deps;
struct conf;
struct fwd_peers;
struct http_refresh;

/* Something new compiled from the conf goes here: client_rules_compile()
 * builds it, client_rules_free() frees it, client_rules_lend() hands it
 * out, and reconfigure swaps it. */
struct client_rules {
	struct acl_set		*acls;
	struct acl_rules	*http_access;
	struct client_body_limit *body_limits;	/* reply_body_max_size */
	size_t			nbody_limits;
	struct acl_rules	*http_reply_access;	/* NULL: none given */
	struct acl_rules	*cache_access;	/* `cache`; NULL: none given */
	struct http_refresh	*refresh;	/* refresh_pattern */
	bool			purge;		/* an acl names PURGE */
	struct acl_rules	*url_rewrite_access;	/* NULL: none given */
	struct acl_rules	*store_id_access;	/* NULL: none given */
	struct fwd_peers	*peers;		/* cache_peer & co, with their
						 * rules; NULL: none */
	struct client_bump_rule	*bump_rules;	/* ssl_bump */
	size_t			nbump_rules;
	struct acl_rules	*cert_error;	/* sslproxy_cert_error */
	struct acl_rules	*icp_access;	/* "deny all" by default */
	struct acl_rules	*miss_access;	/* NULL: none given */
};

/* client_rules_compile() - cr (zeroed by the caller) from conf; a bad
 * cachemgr_passwd line counts too, though the manager compiles its own
 * when asked.  Returns the number of errors (each logged); cr is to be
 * freed with client_rules_free() either way. */
int	client_rules_compile(const struct conf *conf, struct client_rules *cr);
/* client_rules_lend() - point the rule fields of deps at cr (borrowed:
 * see the contract above); the other fields are left as they are. */
void	client_rules_lend(const struct client_rules *cr,
	    struct client_deps *deps);
/* client_rules_free() - the rules before the set they refer to; cr is
 * left zeroed, so freeing twice is harmless. */
void	client_rules_free(struct client_rules *cr);

#endif /* CUTTLE_CLIENT_RULES_H */
