/*
 * fwd_connect.c - a connection to a host:port and nothing more: for
 * CONNECT tunnels, which carry bytes, not HTTP, and have no store entry.
 *
 * Lifecycle:
 *	fwd_connect_start()	resolve, then connect to each address in turn
 *	fn()			once: the connection, or why there is none
 *	fwd_connect_cancel()	fn still runs, once, without a connection
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "fwd/fwd_int.h"

struct fwd_connect {
	unsigned		magic;
#define FWD_CONNECT_MAGIC	0xf3dcc044U
	struct fwd_ctx		*ctx;
	fwd_connect_fn		*fn;
	void			*arg;
	struct dns_query	*dnsq;
	struct comm_conn	*conn;
	struct sockaddr_storage	addrs[FWD_MAX_ADDRS];
	unsigned		naddrs;
	unsigned		next;
	uint16_t		port;
	bool			cancelled;
	int			last_errno;
	struct comm_call	call;	/* fn, when there is nothing to wait */
	enum store_err		err;
};

static dns_done_fn fwd_connect_resolved;
static comm_done_fn fwd_connect_done;
static comm_call_fn fwd_connect_call;

/* The one exit: fn from the loop (callers of this are all completions,
 * or post through the call), then free. */
static void
fwd_connect_end(struct fwd_connect *fc, struct comm_conn *c,
    enum store_err err, int sys_errno)
{
	struct sockaddr_storage *peer = c != NULL ?
	    &fc->addrs[fc->next - 1] : NULL;

	fc->ctx->nfwd--;
	fc->fn(c, peer != NULL ? (struct sockaddr *)peer : NULL, err,
	    sys_errno, fc->arg);
	FREE_OBJ(fc);
}

struct fwd_connect *
fwd_connect_start(struct fwd_ctx *ctx, const char *host, size_t hostlen,
    uint16_t port, fwd_connect_fn *fn, void *arg)
{
	struct fwd_connect *fc;

	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	ALLOC_OBJ(fc, FWD_CONNECT_MAGIC);
	if (fc == NULL)
		return (NULL);
	fc->ctx = ctx;
	fc->fn = fn;
	fc->arg = arg;
	fc->port = port;
	comm_call_init(&fc->call, fwd_connect_call);
	fc->dnsq = dns_lookup(ctx->dns, host, hostlen, fwd_connect_resolved,
	    fc);
	if (fc->dnsq == NULL) {
		FREE_OBJ(fc);
		return (NULL);
	}
	ctx->nfwd++;
	return (fc);
}

static void
fwd_connect_next(struct fwd_connect *fc)
{
	struct sockaddr_storage *ss;

	if (fc->cancelled || fc->next >= fc->naddrs) {
		fc->err = fc->cancelled ? STORE_ERR_WRITE : STORE_ERR_CONNECT;
		comm_call_post(fc->ctx->loop, &fc->call);
		return;
	}
	ss = &fc->addrs[fc->next++];
	fwd_set_port(ss, fc->port);
	fc->conn = comm_connect(fc->ctx->loop, (struct sockaddr *)ss,
	    fwd_addrlen(ss), fc->ctx->conf->connect_timeout,
	    fwd_connect_done, fc);
	if (fc->conn == NULL) {
		fc->last_errno = ENOMEM;
		fc->err = STORE_ERR_NOMEM;
		comm_call_post(fc->ctx->loop, &fc->call);
	}
}

static void
fwd_connect_call(struct comm_call *call)
{
	struct fwd_connect *fc = container_of(call, struct fwd_connect, call);

	fwd_connect_end(fc, NULL, fc->err, fc->last_errno);
}

static void
fwd_connect_resolved(struct dns_query *q, const struct dns_result *res,
    void *arg)
{
	struct fwd_connect *fc = arg;
	unsigned i;

	CHECK_OBJ_NOTNULL(fc, FWD_CONNECT_MAGIC);
	(void)q;
	fc->dnsq = NULL;
	if (fc->cancelled) {
		fwd_connect_end(fc, NULL, STORE_ERR_WRITE, 0);
		return;
	}
	if (res->status != DNS_OK || res->ans == NULL) {
		fwd_connect_end(fc, NULL, STORE_ERR_DNS, 0);
		return;
	}
	fc->naddrs = res->ans->naddrs < FWD_MAX_ADDRS ? res->ans->naddrs :
	    FWD_MAX_ADDRS;
	for (i = 0; i < fc->naddrs; i++) {
		memset(&fc->addrs[i], 0, sizeof fc->addrs[i]);
		memcpy(&fc->addrs[i], &res->ans->addrs[i].sa,
		    dns_addr_len(&res->ans->addrs[i]));
	}
	fwd_connect_next(fc);
}

static void
fwd_connect_done(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct fwd_connect *fc = arg;

	CHECK_OBJ_NOTNULL(fc, FWD_CONNECT_MAGIC);
	if (res->status == COMM_OK && !fc->cancelled) {
		fc->conn = NULL;
		fwd_connect_end(fc, c, STORE_ERR_NONE, 0);
		return;
	}
	fc->last_errno = res->status == COMM_TIMEOUT ? ETIMEDOUT : res->err;
	if (fc->conn != NULL)		/* not yet closed by a cancel */
		comm_close(&fc->conn);
	fwd_connect_next(fc);
}

void
fwd_connect_cancel(struct fwd_connect *fc)
{
	CHECK_OBJ_NOTNULL(fc, FWD_CONNECT_MAGIC);
	if (fc->cancelled)
		return;
	fc->cancelled = true;
	if (fc->dnsq != NULL)
		dns_cancel(&fc->dnsq);
	else if (fc->conn != NULL)
		comm_close(&fc->conn);	/* done: CANCELLED, then the end */
}
