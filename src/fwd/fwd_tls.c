/*
 * fwd_tls.c - the server side's TLS: the client context made from
 * tls_outgoing_options, and what a failed handshake is called.
 *
 * Lifecycle of the context:
 *	fwd_tls_new()		made beside the conf in force (start-up,
 *				reconfigure), refused with file:line
 *	fwd_ctx_set_tls()	in force: connections opened from now on use
 *				it, and it is part of their pool key, so an
 *				idle connection made under the old one is
 *				never reused for a new request; connections
 *				open keep the old context alive (OpenSSL
 *				counts its users)
 *	fwd_ctx_free()		dropped
 *
 * The handshake itself runs in fwd.c, between the connect and the
 * request (see there).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "fwd/fwd_int.h"
#include "tls/tls.h"

int
fwd_tls_new(const struct conf *conf, struct tls_ctx **out)
{
	const struct conf_tls *c = &conf->tls_outgoing_options;
	struct tls_options o;
	char err[512];
	int r;

	CHECK_OBJ_NOTNULL(conf, CONF_MAGIC);
	memset(&o, 0, sizeof o);
	o.cert = c->cert;
	o.key = c->key;
	o.cafile = c->cafile;
	o.capath = c->capath;
	o.cipher = c->cipher;
	o.min_version = (int)c->min_version;
	o.flags = (c->flags & CONF_TLS_DONT_VERIFY_PEER ?
	    TLS_DONT_VERIFY_PEER : 0) | (c->flags &
	    CONF_TLS_DONT_VERIFY_DOMAIN ? TLS_DONT_VERIFY_DOMAIN : 0);
	o.no_default_ca = c->no_default_ca;
	r = tls_ctx_client_new(&o, out, err, sizeof err);
	if (r == 0)
		return (0);
	if (r == -ENOMEM)
		snprintf(err, sizeof err, "out of memory");
	if (c->file != NULL)
		log_msg(LG_ERR, SEC_CONF, "%s:%u: tls_outgoing_options: %s",
		    c->file, c->line, err);
	else
		log_msg(LG_ERR, SEC_CONF, "tls_outgoing_options: %s", err);
	return (-1);
}

void
fwd_ctx_set_tls(struct fwd_ctx *ctx, struct tls_ctx **tp)
{
	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	AN(tp);
	tls_ctx_free(&ctx->tls);
	ctx->tls = *tp;
	*tp = NULL;
	ctx->tls_gen++;
}

struct tls_ctx *
fwd_ctx_tls(struct fwd_ctx *ctx, unsigned *gen)
{
	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	if (gen != NULL)
		*gen = ctx->tls_gen;
	return (ctx->tls);
}

/* Squid's names: the verify result for a certificate refused, else
 * SQUID_ERR_SSL_HANDSHAKE and why. */
void
fwd_tls_failure(struct comm_conn *c, const struct comm_result *res,
    char *buf, size_t len)
{
	const struct ssl_st *ssl = comm_tls_ssl(c);
	long v = ssl != NULL ? tls_verify_result(ssl) : 0;
	const char *why;

	if (res->status == COMM_TIMEOUT) {
		snprintf(buf, len, "SQUID_ERR_SSL_HANDSHAKE: timed out");
		return;
	}
	if (v != 0) {
		snprintf(buf, len, "%s", tls_verify_name(v));
		return;
	}
	why = tls_error_reason(comm_tls_error(c));
	if (why == NULL)
		why = res->err == ECONNRESET || res->err == 0 ?
		    "the server closed the connection" : strerror(res->err);
	snprintf(buf, len, "SQUID_ERR_SSL_HANDSHAKE: %s", why);
}
