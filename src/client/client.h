/*
 * client.h - the client side: accept proxy connections, read requests,
 * check them, have them forwarded, and write the replies back.
 *
 * One client_ctx per loop holds what every connection shares (the
 * configuration, the server side, the access rules, the access log).
 *
 * Lifecycle:
 *	client_ctx_new()	nothing accepted yet
 *	client_register_pages()	its manager pages, when it has a manager
 *	client_listen()		accept on a listener
 *	client_ctx_drain()	graceful shutdown: idle connections close,
 *				the others after their reply
 *	client_ctx_free()	every connection gone (client_ctx_idle())
 */
#ifndef CUTTLE_CLIENT_H
#define CUTTLE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Only pointed to here: whoever fills struct client_deps includes their
 * headers. */
struct access_log;
struct acl_externals;
struct auth;
struct acl_rules;
struct client_adapt;
struct client_ctx;
struct comm_conn;
struct comm_listener;
struct comm_loop;
struct conf;
struct disk_store;
struct dns_resolver;
struct fwd_ctx;
struct helper_pools;
struct icp;
struct fwd_peers;
struct http_refresh;
struct mgr;
struct mgr_registry;
struct sockaddr;
struct store_index;
struct tls_ctx;
struct tls_mint;

/* reply_body_max_size: the first entry whose acls match (NULL rules: no
 * acls, always) gives the limit; size 0 is no limit. */
struct client_body_limit {
	uint64_t		size;
	struct acl_rules	*rules;
};

/* ssl_bump's actions, in Squid's words. */
#define CLIENT_BUMP_ACTIONS						\
	CLIENT_BUMP_ACTION(PEEK,	"peek")				\
	CLIENT_BUMP_ACTION(STARE,	"stare")			\
	CLIENT_BUMP_ACTION(SPLICE,	"splice")			\
	CLIENT_BUMP_ACTION(BUMP,	"bump")				\
	CLIENT_BUMP_ACTION(TERMINATE,	"terminate")

enum client_bump_action {
#define CLIENT_BUMP_ACTION(sym, name)	CLIENT_BUMP_##sym,
	CLIENT_BUMP_ACTIONS
#undef CLIENT_BUMP_ACTION
	CLIENT_BUMP__COUNT
};

/* One ssl_bump line: its action, and the rule ("allow acl ...") that
 * selects it (NULL: no acls, always). */
struct client_bump_rule {
	enum client_bump_action	action;
	struct acl_rules	*rules;
};

/*
 * What the client side needs, all borrowed (for the ctx's life, or until
 * client_ctx_set_deps() replaces them).  Client code reads them through
 * ctx->deps when it uses them and never copies a pointer from here into
 * a connection or transaction: reconfigure swaps them while connections
 * and transactions go on, and frees the old ones at once.
 */
struct client_deps {
	struct comm_loop	*loop;
	const struct conf	*conf;
	struct fwd_ctx		*fwd;
	const struct acl_rules	*http_access;
	struct access_log	*access_log;	/* NULL: none */
	const struct client_body_limit *body_limits;
	size_t			nbody_limits;
	struct store_index	*store;		/* NULL: no cache */
	struct disk_store *const *disks;	/* cache_dir stores, below
						 * store; ndisks 0: none */
	size_t			ndisks;
	const struct http_refresh *refresh;	/* refresh_pattern */
	const struct acl_rules	*cache_access;	/* `cache`; NULL: all */
	const struct acl_rules	*http_reply_access;	/* NULL: all */
	bool			purge;		/* an acl names PURGE (Squid:
						 * else PURGE is refused) */
	struct mgr		*mgr;		/* cache manager; NULL: none */
	struct dns_resolver	*dns;		/* dst and srcdomain acls, the
						 * manager's figures */
	struct auth		*auth;		/* proxy_auth acls; NULL: no
						 * auth_param */
	struct client_adapt	*adapt;		/* url_rewrite, store_id
						 * helpers; NULL: none */
	const struct acl_rules	*url_rewrite_access;	/* NULL: all */
	const struct acl_rules	*store_id_access;	/* NULL: all */
	struct acl_externals	*externals;	/* external_acl_type; NULL:
						 * none */
	struct fwd_peers	*peers;		/* cache_peer & co; NULL: the
						 * origin alone */
	const struct client_bump_rule *bump_rules;	/* ssl_bump */
	size_t			nbump_rules;
	const struct acl_rules	*cert_error;	/* sslproxy_cert_error;
						 * NULL: deny all */
	struct icp		*icp;		/* ICP queries; NULL: none */
	const struct acl_rules	*miss_access;	/* NULL: all */
};

/*
 * The request path's helpers, url_rewrite_program and store_id_program
 * (client_adapt.c), run unchanged as Squid runs them.
 *
 * client_adapt_new() - from conf's url_rewrite_* and store_id_* lines:
 * NULL with *errors unchanged when neither program is given; problems
 * logged (file:line) and counted in *errors (NULL returned).  loop NULL
 * only checks the lines (cuttle -k parse).  The pools start at once.
 * client_adapt_free() - requests still waiting complete CANCELLED, and
 * are asked again of the helpers in force (never failed for it).
 */
struct client_adapt	*client_adapt_new(struct comm_loop *loop,
			    const struct conf *conf, int *errors);
void			client_adapt_free(struct client_adapt **ap);
/* client_adapt_conf_equal() - the same helper lines (reconfigure keeps
 * the pools then). */
bool			client_adapt_conf_equal(const struct conf *a,
			    const struct conf *b);
/* client_adapt_removes() - `to` lacks a helper `from` has (the manager
 * cannot drop a page: that takes a restart). */
bool			client_adapt_removes(const struct client_adapt *from,
			    const struct client_adapt *to);
/* client_adapt_replace() - to's pools take from's pages and places in ps
 * (from NULL: registered anew).  0 or -ENOMEM. */
int			client_adapt_replace(struct client_adapt *from,
			    struct client_adapt *to, struct mgr_registry *r,
			    struct helper_pools *ps);

struct client_ctx	*client_ctx_new(const struct client_deps *deps);
void			client_ctx_free(struct client_ctx **cp);
/* client_ctx_set_deps() - reconfigure: what is used from now on, by the
 * connections already open too (they read it at use time, see struct
 * client_deps).  Call from the loop, outside client code (a signal
 * callback); the caller may free the old deps once this returns.  The
 * loop and the manager must stay the same. */
void			client_ctx_set_deps(struct client_ctx *ctx,
			    const struct client_deps *deps);
/* client_register_pages() - the client side's manager pages
 * (client_list, active_requests) and the figures the general pages read
 * (mgr_set_figures()), with deps.mgr (not NULL).  They point to ctx:
 * free the manager right after ctx.  0 or a negative errno
 * (mgr_register()). */
int			client_register_pages(struct client_ctx *ctx);
/* What the connections accepted through one listening socket share: an
 * http_port, or an https_port with its TLS context.  Owned by whoever
 * listens (client_ports.c), borrowed by the listener. */
struct client_port {
	struct client_ctx	*ctx;
	struct tls_ctx		*tls;	/* https_port; NULL: http_port */
	struct tls_mint		*mint;	/* http_port ssl-bump: each
					 * connection takes a reference */
};

/* client_listen() - accept proxy connections on l for port (borrowed
 * until l is closed or client_listen() is called on it again): on an
 * https_port each one does the TLS server handshake first (bounded by
 * request_timeout), then is served exactly as on an http_port. */
void			client_listen(struct client_port *port,
			    struct comm_listener *l);
/* client_adopt() - serve c as if it had been accepted on a listener
 * (which is what client_listen() does with each one): ctx owns c from
 * now on.  Its client's address is peer, as accept() gave it, or when
 * peer is NULL what getpeername() says (a socketpair's is AF_UNIX: no
 * port, src acls do not match).  A seam for tests too, which hand in a
 * socketpair's end. */
void			client_adopt(struct client_ctx *ctx,
			    struct comm_conn *c, const struct sockaddr *peer);
/* client_adopt_tls() - the same as accepted on an https_port whose
 * context is tls (not taken; NULL: a plain http_port). */
struct tls_ctx;
void			client_adopt_tls(struct client_ctx *ctx,
			    struct comm_conn *c, const struct sockaddr *peer,
			    struct tls_ctx *tls);
/* client_adopt_bump() - the same as accepted on an http_port with
 * ssl-bump minting with mint (a reference is taken): a seam for the
 * fuzzer. */
struct tls_mint;
void			client_adopt_bump(struct client_ctx *ctx,
			    struct comm_conn *c, const struct sockaddr *peer,
			    struct tls_mint *mint);
/* client_ctx_drain() - a graceful shutdown begins: idle connections
 * close now, the others after the reply they are writing. */
void			client_ctx_drain(struct client_ctx *ctx);
/* client_ctx_close_all() - abort every connection (shutdown). */
void			client_ctx_close_all(struct client_ctx *ctx);
/* client_ctx_idle() - true once no connection is left. */
bool			client_ctx_idle(const struct client_ctx *ctx);

#endif /* CUTTLE_CLIENT_H */
