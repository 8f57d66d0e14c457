/*
 * fwd.h - the server side: forward one request to its origin server and
 * fill a store entry with the reply, as it streams in.
 *
 * The client side and the server side meet only in the entry: the client
 * reads the reply there (or the error, store_entry_error(), when there is
 * none), exactly as it would read a hit.
 *
 * Contract:
 * - fwd_start() returns a forwarding that owns a reference on the entry
 *   and ends it: COMPLETE, or ABORTED with the reason.
 * - done runs exactly once, from the loop, when the forwarding is over
 *   and holds nothing of the caller's any more (request body chains
 *   included): after the entry ended, or after fwd_cancel().
 * - Request body bytes are pushed with fwd_send_body(); each push
 *   completes once (sent, or not) through its own callback.
 * - https: a handshake that fails (a certificate refused, bad bytes)
 *   aborts the entry with STORE_ERR_SECURE_CONNECT and names why in the
 *   entry's detail; a close-delimited reply whose stream ended without
 *   close_notify may be cut anywhere, and aborts the entry, never
 *   complete (so never cached).
 *
 * Lifecycle:
 *	fwd_start()		resolve, connect (pooled or new), TLS
 *				handshake for https, send headers
 *	fwd_send_body()		request content, as the client sends it
 *	(reply)			headers -> store_entry_set_reply(), body ->
 *				store_entry_append(), end -> complete/abort
 *	fwd_cancel()		the client went away: abort, release
 *	done()			last call; the fwd is freed after it
 */
#ifndef CUTTLE_FWD_H
#define CUTTLE_FWD_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf/buf.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "http/http_msg.h"
#include "http/http_out.h"
#include "store/store.h"

struct fwd;
struct fwd_ctx;

/* fwd_ctx_new() - the server side of one loop: its idle connection pool
 * and settings.  dns and conf are borrowed for the ctx's life (or until
 * fwd_ctx_set_conf()).  NULL on ENOMEM. */
struct fwd_ctx	*fwd_ctx_new(struct comm_loop *loop, struct dns_resolver *dns,
		    const struct conf *conf);
/*
 * fwd_ctx_set_conf() - reconfigure: new lookups go to dns and everything
 * reads conf from now on.  The server side reads ctx->conf when it uses a
 * setting and keeps no pointer into it, so the caller may free the old
 * conf once this returns (called from the loop, outside fwd code).  A
 * lookup in flight stays with the resolver it started on: keep the old
 * resolver until dns_resolver_idle() says it has none left.  The idle
 * pool is kept.
 */
void		fwd_ctx_set_conf(struct fwd_ctx *ctx, struct dns_resolver *dns,
		    const struct conf *conf);
struct tls_ctx;
/*
 * fwd_tls_new() - the TLS client context tls_outgoing_options asks for
 * (verification, CAs, versions), for https:// URLs.  0 and *out, or -1
 * with the problem logged with the directive's file:line (a CA file
 * that cannot be read): start-up and reconfigure refuse the conf.
 */
int		fwd_tls_new(const struct conf *conf, struct tls_ctx **out);
/* fwd_ctx_set_tls() - put *tp (taken; NULLed) in force.  Connections
 * open keep the old context; idle ones made under it are not reused. */
void		fwd_ctx_set_tls(struct fwd_ctx *ctx, struct tls_ctx **tp);
/* fwd_ctx_tls() - the TLS client context in force (borrowed; NULL: none
 * yet), for ssl_bump's connection to the origin; *gen (may be NULL) its
 * generation, for fwd_keep_idle(). */
struct tls_ctx	*fwd_ctx_tls(struct fwd_ctx *ctx, unsigned *gen);
/* fwd_keep_idle() - *cp (taken; NULLed), a TLS connection to host:port
 * whose handshake is done and verified for host under the context of
 * generation tls_gen, with the certificate errors allowed listed, goes
 * to the idle pool for the requests that fwd_start() sends there: a
 * bumped connection's first request reuses the one its bump opened.
 * Closed instead when the context changed since. */
void		fwd_keep_idle(struct fwd_ctx *ctx, struct comm_conn **cp,
		    const char *host, size_t host_len, uint16_t port,
		    unsigned tls_gen, const int *allowed, size_t nallowed,
		    const struct sockaddr *peer);
/* fwd_tls_failure() - what made c's handshake fail (res its outcome):
 * "X509_V_ERR_HOSTNAME_MISMATCH", "SQUID_ERR_SSL_HANDSHAKE: why". */
void	fwd_tls_failure(struct comm_conn *c, const struct comm_result *res,
	    char *buf, size_t len);
/* fwd_ctx_free() - every fwd must be done; idle connections are closed. */
void		fwd_ctx_free(struct fwd_ctx **cp);

struct fwd_ctx_stats {
	uint64_t	requests;	/* forwarded */
	uint64_t	conns_opened;
	uint64_t	conns_reused;	/* from the idle pool */
	uint64_t	retries;	/* idempotent requests sent again */
	uint64_t	interim;	/* 1xx replies before a final one */
	unsigned	idle;		/* connections in the pool now */
};
void		fwd_ctx_stats(const struct fwd_ctx *ctx, struct fwd_ctx_stats *st);
/* fwd_pool_walk() - fn(key, peer, arg) for each idle server connection
 * in the pool ("host:port" and the address it is connected to), oldest
 * first; fn must not call into fwd.  For the cache manager. */
typedef void fwd_pool_walk_fn(const char *key, const struct sockaddr *peer,
    void *arg);
void		fwd_pool_walk(const struct fwd_ctx *ctx, fwd_pool_walk_fn *fn,
		    void *arg);

struct mgr_registry;
/* fwd_register_pages() - the cache manager's pconn page, rendered from
 * ctx (fwd_mgr.c); ctx must outlive r.  0 or a negative errno
 * (mgr_register()). */
int		fwd_register_pages(struct fwd_ctx *ctx, struct mgr_registry *r);

/* fwd_ctx_idle() - true when no forwarding is in progress. */
bool		fwd_ctx_idle(const struct fwd_ctx *ctx);

/* fwd_reply_fn - the final reply's header section has arrived and is
 * about to go into the entry (before any reader can see it): the cache
 * decides here what becomes of the entry.  It may replace *rep by a reply
 * with fewer fields (the same status and framing).  Runs inside the fwd's
 * parsing, so it must not call back into this fwd. */
typedef void fwd_reply_fn(struct store_entry *e, struct http_msg *rep,
    void *arg);

/* What to forward; read during fwd_start() only. */
struct fwd_req {
	const struct http_msg	*msg;		/* the client's request */
	const char		*host;		/* from the request target */
	size_t			host_len;
	bool			host_ip6;	/* an IPv6 literal */
	uint16_t		port;
	bool			tls;		/* https: TLS to the origin,
						 * verified (fwd_tls_new()) */
	const char		*path;		/* origin-form; "" means "/" */
	size_t			path_len;
	const struct sockaddr	*client;	/* for X-Forwarded-For */
	uint64_t		max_body;	/* reply content allowed
						 * (reply_body_max_size); 0: any */
	http_hdr_set		drop;		/* client fields not passed on */
	const char		*extra;		/* whole lines to add, or NULL */
	size_t			extra_len;
	fwd_reply_fn		*on_reply;	/* NULL: none */
	void			*reply_arg;
	/* The next hops, from fwd_peers_select() (fwd_peer.h): each is
	 * tried in turn while nothing of the request's content or of a
	 * reply has been lost (a peer that fails counts towards its
	 * connect-fail-limit).  peers NULL: the origin alone. */
	struct fwd_peers	*peers;		/* referenced by the fwd */
	const struct fwd_hop	*hops;		/* copied */
	unsigned		nhops;		/* with peers, 0: nowhere to
						 * go (ERR_CANNOT_FORWARD) */
	/* Certificate verification errors the origin may have (X509_V_ERR_*
	 * codes that sslproxy_cert_error allowed for a bumped connection;
	 * copied): the handshake records errors instead of failing, and
	 * the request goes out only if every error is among these.  Such
	 * a connection is pooled apart, for requests allowing the same. */
	const int		*tls_allowed;
	size_t			ntls_allowed;
};

typedef void fwd_done_fn(struct fwd *f, void *arg);
typedef void fwd_sent_fn(struct fwd *f, bool ok, void *arg);

/* fwd_start() - forward req, filling e (a fresh, PENDING entry).  NULL on
 * ENOMEM, and then done never runs and e is untouched. */
struct fwd	*fwd_start(struct fwd_ctx *ctx, const struct fwd_req *req,
		    struct store_entry *e, fwd_done_fn *done, void *arg);

/* fwd_send_body() - the next request content bytes, decoded (the fwd
 * frames them as the request said: Content-Length or chunked); last ends
 * the content.  Takes chain's slices (chain is left empty).  sent runs
 * once, from the loop: true once the bytes are with the kernel, false if
 * they never will be (the forwarding failed or was cancelled).  One piece
 * at a time: the next only once sent has run (asserted).  Allocates
 * nothing of its own. */
void	fwd_send_body(struct fwd *f, struct buf_chain *chain, bool last,
	    fwd_sent_fn *sent, void *arg);

/* fwd_cancel() - abort: the entry is aborted if not ended, connections are
 * closed; done still runs, once. */
void	fwd_cancel(struct fwd *f);

/* fwd_hier() - why the hop in use was chosen (enum fwd_hier: HIER_DIRECT,
 * CARP, ...); valid until done has run. */
unsigned	fwd_hier(const struct fwd *f);

/* fwd_peer() - the server address the request went to (NULL before a
 * connection was tried); valid until done has run. */
const struct sockaddr	*fwd_peer(const struct fwd *f);

/* -- a bare connection, for CONNECT ---------------------------------------- */

struct fwd_connect;
/* fn runs once, from the loop: c is the connected socket, now the
 * caller's (peer its address), or NULL and err says why. */
typedef void fwd_connect_fn(struct comm_conn *c, const struct sockaddr *peer,
    enum store_err err, int sys_errno, void *arg);
/* fwd_connect_start() - resolve host, connect to port (each address in
 * turn, connect_timeout each).  NULL on ENOMEM (fn never runs then). */
struct fwd_connect	*fwd_connect_start(struct fwd_ctx *ctx,
			    const char *host, size_t hostlen, uint16_t port,
			    fwd_connect_fn *fn, void *arg);
/* fwd_connect_cancel() - give up; fn still runs once, with no socket. */
void			fwd_connect_cancel(struct fwd_connect *fc);

/* fwd_build_request() - the request as sent upstream, header section
 * only: origin-form request line (absolute-form to a peer, when
 * absolute), Host from the target, hop-by-hop fields
 * and those Connection names dropped, Via and X-Forwarded-For as conf
 * says, framing for the content.  Appended to out; 0 or -ENOMEM. */
int	fwd_build_request(const struct fwd_req *req, const struct conf *conf,
	    struct buf_chain *out);
/* fwd_build_head() - the same, absolute-form when absolute, without the
 * empty line that ends it (fields may follow). */
int	fwd_build_head(const struct fwd_req *req, const struct conf *conf,
	    bool absolute, struct buf_chain *out);

#endif /* CUTTLE_FWD_H */
