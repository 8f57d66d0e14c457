/*
 * fwd_pool.c - the server side's context and its idle connection pool.
 *
 * An idle connection waits with comm's IDLE timeout set to pconn_timeout;
 * if that passes (or the connection fails) its close handler takes it out
 * of the pool.  A read is kept pending on it, so that an origin closing
 * it (or sending what nobody asked for) has it closed at once, rather
 * than holding a socket in CLOSE_WAIT until it is tried again; one that
 * closes just as it is reused is still found out by the request, which
 * goes once more on a new connection (fwd_retry()).
 *
 * Lifecycle of a pooled connection:
 *	fwd_pool_put()		idle, in the pool (or closed when full)
 *	fwd_pool_take()		out of the pool, the caller's again; the idle
 *				read is cancelled, and the caller reads only
 *				once its request is written (the cancel is
 *				delivered first: the call queue is FIFO)
 *	fwd_idle_read()		the origin closed it or spoke: out, closed
 *	fwd_idle_closed()	timed out or failed: out, and closed
 */
#include "config.h"

#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "fwd/fwd_int.h"
#include "tls/tls.h"

struct fwd_idle {
	unsigned		magic;
#define FWD_IDLE_MAGIC		0x1d1ef3d0U
	struct fwd_ctx		*ctx;
	struct comm_conn	*conn;
	struct sockaddr_storage	peer;
	struct list		link;
	char			key[];
};

static comm_close_fn fwd_idle_closed;
static comm_done_fn fwd_idle_read;

struct fwd_ctx *
fwd_ctx_new(struct comm_loop *loop, struct dns_resolver *dns,
    const struct conf *conf)
{
	struct fwd_ctx *ctx;

	ALLOC_OBJ(ctx, FWD_CTX_MAGIC);
	if (ctx == NULL)
		return (NULL);
	ctx->loop = loop;
	ctx->dns = dns;
	ctx->conf = conf;
	list_init(&ctx->idle);
	return (ctx);
}

void
fwd_ctx_set_conf(struct fwd_ctx *ctx, struct dns_resolver *dns,
    const struct conf *conf)
{
	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	AN(dns);
	CHECK_OBJ_NOTNULL(conf, CONF_MAGIC);
	ctx->dns = dns;
	ctx->conf = conf;
}

static void
fwd_idle_free(struct fwd_idle *idle)
{
	list_remove(&idle->link);
	idle->ctx->nidle--;
	FREE_OBJ(idle);
}

void
fwd_ctx_free(struct fwd_ctx **cp)
{
	struct fwd_ctx *ctx;
	struct fwd_idle *idle;
	struct comm_conn *c;
	struct list *n;

	if (*cp == NULL)
		return;
	TAKE_OBJ_NOTNULL(ctx, cp, FWD_CTX_MAGIC);
	AZ(ctx->nfwd);
	while ((n = list_first(&ctx->idle)) != NULL) {
		idle = container_of(n, struct fwd_idle, link);
		c = idle->conn;
		AZ(comm_remove_close_handler(c, fwd_idle_closed, idle));
		fwd_idle_free(idle);
		comm_close_clean(&c);
	}
	tls_ctx_free(&ctx->tls);
	FREE_OBJ(ctx);
}

void
fwd_ctx_stats(const struct fwd_ctx *ctx, struct fwd_ctx_stats *st)
{
	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	*st = ctx->stats;
	st->idle = ctx->nidle;
}

bool
fwd_ctx_idle(const struct fwd_ctx *ctx)
{
	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	return (ctx->nfwd == 0);
}

void
fwd_pool_put(struct fwd_ctx *ctx, struct comm_conn **cp, const char *key,
    const struct sockaddr_storage *peer)
{
	struct fwd_idle *idle, *oldest = NULL;
	struct list *n;
	unsigned same = 0;
	size_t klen = strlen(key);

	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	LIST_FOREACH(n, &ctx->idle) {
		idle = container_of(n, struct fwd_idle, link);
		if (strcmp(idle->key, key) == 0 && same++ == 0)
			oldest = idle;
	}
	if (same >= FWD_IDLE_PER_HOST && oldest != NULL) {
		struct comm_conn *c = oldest->conn;

		AZ(comm_remove_close_handler(c, fwd_idle_closed, oldest));
		fwd_idle_free(oldest);
		comm_close_clean(&c);
	}
	idle = malloc(sizeof *idle + klen + 1);
	if (idle == NULL ||
	    comm_add_close_handler(*cp, fwd_idle_closed, idle) != 0) {
		free(idle);
		comm_close(cp);
		return;
	}
	idle->magic = FWD_IDLE_MAGIC;
	idle->ctx = ctx;
	idle->conn = *cp;
	idle->peer = *peer;
	memcpy(idle->key, key, klen + 1);
	*cp = NULL;
	comm_set_timeout(idle->conn, COMM_TO_READ, 0);
	comm_set_timeout(idle->conn, COMM_TO_IDLE, ctx->conf->pconn_timeout);
	list_insert_tail(&ctx->idle, &idle->link);
	ctx->nidle++;
	comm_read(idle->conn, NULL, 0, fwd_idle_read, ctx);
}

/* Anything but a cancel (fwd_pool_take(), a close) on an idle connection
 * ends it: EOF, an error, or bytes no request asked for.  The connection
 * may have been taken meanwhile (the completion was on its way): then it
 * is not in the pool any more, and its new owner finds out by itself. */
static void
fwd_idle_read(struct comm_conn *c, const struct comm_result *res, void *arg)
{
	struct fwd_ctx *ctx = arg;
	struct fwd_idle *idle;
	struct list *n;

	if (res->status == COMM_CANCELLED)
		return;			/* ctx may be gone: not touched */
	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	LIST_FOREACH(n, &ctx->idle) {
		idle = container_of(n, struct fwd_idle, link);
		if (idle->conn != c)
			continue;
		log_msg(LG_DEBUG, SEC_FWD, "%s: idle connection %s", idle->key,
		    res->status == COMM_OK ? "spoke unasked" : "closed");
		AZ(comm_remove_close_handler(c, fwd_idle_closed, idle));
		fwd_idle_free(idle);
		comm_close(&c);
		return;
	}
}

/* The newest idle connection to key: the least likely to have been
 * closed by the origin meanwhile. */
struct comm_conn *
fwd_pool_take(struct fwd_ctx *ctx, const char *key,
    struct sockaddr_storage *peer)
{
	struct fwd_idle *idle;
	struct comm_conn *c;
	struct list *n;

	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	for (n = ctx->idle.prev; n != &ctx->idle; n = n->prev) {
		idle = container_of(n, struct fwd_idle, link);
		if (strcmp(idle->key, key) != 0)
			continue;
		c = idle->conn;
		AZ(comm_remove_close_handler(c, fwd_idle_closed, idle));
		comm_set_timeout(c, COMM_TO_IDLE, 0);
		comm_cancel_read(c);
		*peer = idle->peer;
		fwd_idle_free(idle);
		return (c);
	}
	return (NULL);
}

static void
fwd_idle_closed(struct comm_conn *c, enum comm_status why, void *arg)
{
	struct fwd_idle *idle = arg;

	CHECK_OBJ_NOTNULL(idle, FWD_IDLE_MAGIC);
	(void)why;
	fwd_idle_free(idle);
	comm_close_clean(&c);	/* pconn_timeout: close_notify */
}

void
fwd_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

socklen_t
fwd_addrlen(const struct sockaddr_storage *ss)
{
	return (ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in));
}

void
fwd_pool_walk(const struct fwd_ctx *ctx, fwd_pool_walk_fn *fn, void *arg)
{
	const struct list *n;
	const struct fwd_idle *fi;

	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	LIST_FOREACH(n, &ctx->idle) {
		fi = container_of(n, struct fwd_idle, link);
		CHECK_OBJ(fi, FWD_IDLE_MAGIC);
		fn(fi->key, (const struct sockaddr *)&fi->peer, arg);
	}
}
