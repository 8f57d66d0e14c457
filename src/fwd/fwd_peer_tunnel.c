/*
 * fwd_peer_tunnel.c - a CONNECT's server side when peers are in play:
 * the next hops that selection gave (fwd_peer.h), tried in order.  The
 * origin is a plain connection (fwd_connect_start()); a parent is asked
 * in turn with a CONNECT of its own, as Squid 5's Http::Tunneler does:
 *
 *	CONNECT host:port HTTP/1.1
 *	Host: host:port
 *	<end-to-end fields of the client's CONNECT>
 *	Via: <theirs>, 1.1 <visible_hostname> (cuttle/x.y)
 *	Proxy-Authorization: <login=>		this peer's only
 *
 * and only its 200 makes a tunnel; any other answer, a reply that does
 * not parse, a reset or a timeout is that hop failing (counted against
 * the peer, as a connection failure is), and the next hop is tried.  A
 * tls peer gets the CONNECT inside TLS (queued behind the handshake),
 * and the tunnel runs inside it.
 *
 *	fwd_tunnel_start()	hop 0
 *	tunnel_hop()		connect to the origin or the peer
 *	tunnel_connected()	the origin: done; a peer: CONNECT written
 *	tunnel_read()		the peer's reply, to its header section
 *	tunnel_end()		fn, once, then free
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "fwd/fwd_int.h"
#include "fwd/fwd_peer.h"
#include "tls/tls.h"

#define TUNNEL_REPLY_MAX	(64 * 1024)	/* the peer's reply header */

struct fwd_tunnel {
	unsigned		magic;
#define FWD_TUNNEL_MAGIC	0xf3d7a11eU
	struct fwd_ctx		*ctx;
	struct fwd_peers	*peers;
	struct fwd_hop		hops[FWD_MAX_HOPS];
	unsigned		nhops;
	unsigned		hop;
	struct fwd_peer		*pe;		/* hops[hop]'s; NULL: origin */
	bool			pe_held;	/* counted in its conn_open */
	char			*host;		/* the CONNECT's, no brackets */
	size_t			host_len;
	uint16_t		port;
	bool			ip6;
	struct buf_chain	head;		/* the CONNECT, no login= */
	char			*passthru;	/* the client's credentials */
	struct fwd_connect	*fc;
	struct comm_conn	*conn;		/* to the peer, CONNECT sent */
	struct sockaddr_storage	addr;
	struct http_parser	*hp;
	struct http_msg		rep;
	unsigned		pending;	/* write and read on conn */
	bool			cancelled;
	bool			ready;		/* the peer said 200 */
	bool			ended;
	char			*early;		/* bytes after its 200 */
	size_t			early_len;
	enum store_err		err;
	int			sys_errno;
	fwd_tunnel_fn		*fn;
	void			*arg;
};

static fwd_connect_fn tunnel_connected;
static comm_done_fn tunnel_written, tunnel_read, tunnel_handshaken;
static bool tunnel_hop(struct fwd_tunnel *ft);

static void
tunnel_free(struct fwd_tunnel *ft)
{
	if (ft->pe_held)
		ft->pe->conn_open--;
	buf_chain_fini(&ft->head);
	http_parser_free(&ft->hp);
	http_msg_fini(&ft->rep);
	free(ft->host);
	free(ft->passthru);
	free(ft->early);
	fwd_peers_unref(&ft->peers);
	ft->ctx->nfwd--;
	FREE_OBJ(ft);
}

/* The one exit: fn with the connection (the caller's from now on) or
 * none, once nothing of ours is pending on it. */
static void
tunnel_end(struct fwd_tunnel *ft, struct comm_conn *c, const char *early,
    size_t early_len)
{
	struct fwd_tunnel_answer a;
	const struct fwd_hop *h = &ft->hops[ft->hop < ft->nhops ? ft->hop :
	    0];

	memset(&a, 0, sizeof a);
	a.conn = c;
	a.addr = c != NULL ? (const struct sockaddr *)&ft->addr : NULL;
	a.peer = c != NULL ? h->peer : -1;
	a.code = c != NULL ? h->code : FWD_HIER_NONE;
	a.err = c != NULL ? STORE_ERR_NONE : ft->err;
	a.sys_errno = ft->sys_errno;
	a.early = early;
	a.early_len = early_len;
	ft->ended = true;
	ft->fn(&a, ft->arg);
	tunnel_free(ft);
}

/* This hop failed: the next one, or the end with the last failure. */
static void
tunnel_next(struct fwd_tunnel *ft, enum store_err err, int sys_errno)
{
	ft->err = err;
	ft->sys_errno = sys_errno;
	if (ft->pe != NULL && !ft->cancelled)
		fwd_peer_failed(ft->peers, ft->pe, comm_now(ft->ctx->loop));
	if (ft->pe_held) {
		ft->pe->conn_open--;
		ft->pe_held = false;
	}
	if (ft->cancelled || ft->hop + 1 >= ft->nhops) {
		tunnel_end(ft, NULL, NULL, 0);
		return;
	}
	ft->hop++;
	if (!tunnel_hop(ft)) {
		ft->cancelled = true;	/* no hop can do better */
		tunnel_next(ft, STORE_ERR_NOMEM, ENOMEM);
	}
}

/* Connect to hops[hop]; false when out of memory (nothing started). */
static bool
tunnel_hop(struct fwd_tunnel *ft)
{
	const struct fwd_hop *h = &ft->hops[ft->hop];

	ft->pe = h->peer >= 0 ? &ft->peers->v[h->peer] : NULL;
	if (ft->pe != NULL) {
		ft->pe->conn_open++;
		ft->pe->fetches++;
		ft->pe_held = true;
		if (h->code == FWD_HIER_ROUNDROBIN_PARENT)
			ft->pe->rr_count++;
		ft->fc = fwd_connect_start(ft->ctx, ft->pe->host,
		    strlen(ft->pe->host), ft->pe->http_port,
		    tunnel_connected, ft);
	} else
		ft->fc = fwd_connect_start(ft->ctx, ft->host, ft->host_len,
		    ft->port, tunnel_connected, ft);
	if (ft->fc == NULL && ft->pe_held) {
		ft->pe->conn_open--;
		ft->pe_held = false;
	}
	return (ft->fc != NULL);
}

struct fwd_tunnel *
fwd_tunnel_start(struct fwd_ctx *ctx, struct fwd_peers *p,
    const struct fwd_hop *hops, unsigned nhops, const struct http_msg *req,
    const char *host, size_t host_len, uint16_t port, bool ip6,
    fwd_tunnel_fn *fn, void *arg)
{
	static const http_hdr_set skip = HTTP_HDR_BIT(HTTP_HDR_HOST) |
	    HTTP_HDR_BIT(HTTP_HDR_VIA) | HTTP_HDR_BIT(HTTP_HDR_CONTENT_LENGTH) |
	    HTTP_HDR_BIT(HTTP_HDR_PROXY_AUTHORIZATION);
	const struct http_field *pa;
	struct fwd_tunnel *ft;
	const char *lb = ip6 ? "[" : "", *rb = ip6 ? "]" : "";
	int err;

	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	CHECK(nhops > 0);
	ALLOC_OBJ(ft, FWD_TUNNEL_MAGIC);
	if (ft == NULL)
		return (NULL);
	ft->ctx = ctx;
	ctx->nfwd++;
	ft->fn = fn;
	ft->arg = arg;
	ft->peers = p;
	fwd_peers_ref(p);
	ft->nhops = nhops < FWD_MAX_HOPS ? nhops : FWD_MAX_HOPS;
	memcpy(ft->hops, hops, ft->nhops * sizeof ft->hops[0]);
	ft->host = strndup(host, host_len);
	ft->host_len = host_len;
	ft->port = port;
	ft->ip6 = ip6;
	http_msg_init(&ft->rep, HTTP_MSG_RESPONSE);
	buf_chain_init(&ft->head, comm_loop_pool(ctx->loop));
	err = ft->host == NULL ? -ENOMEM : http_out_printf(&ft->head,
	    "CONNECT %s%.*s%s:%u HTTP/1.1\r\nHost: %s%.*s%s:%u\r\n", lb,
	    (int)host_len, host, rb, port, lb, (int)host_len, host, rb, port);
	if (err == 0)
		err = http_out_fields(req, skip, &ft->head);
	if (err == 0 && ctx->conf->via)
		err = http_out_via(req, ctx->conf->visible_hostname,
		    &ft->head);
	pa = http_msg_field(req, HTTP_HDR_PROXY_AUTHORIZATION);
	if (err == 0 && pa != NULL && (ft->passthru = strndup(
	    http_msg_ptr(req, pa->value), pa->value.len)) == NULL)
		err = -ENOMEM;
	if (err != 0 || !tunnel_hop(ft)) {
		tunnel_free(ft);
		return (NULL);
	}
	return (ft);
}

void
fwd_tunnel_cancel(struct fwd_tunnel *ft)
{
	CHECK_OBJ_NOTNULL(ft, FWD_TUNNEL_MAGIC);
	if (ft->cancelled || ft->ended)
		return;
	ft->cancelled = true;
	if (ft->fc != NULL)
		fwd_connect_cancel(ft->fc);	/* its fn ends us */
	else if (ft->conn != NULL)
		comm_close(&ft->conn);	/* write, read: CANCELLED */
}

static void
tunnel_connected(struct comm_conn *c, const struct sockaddr *peer,
    enum store_err err, int sys_errno, void *arg)
{
	struct fwd_tunnel *ft = arg;
	struct ssl_st *ssl = NULL;
	struct buf_chain out;
	const struct buf_slice *s;
	unsigned i;
	int e = 0;

	CHECK_OBJ_NOTNULL(ft, FWD_TUNNEL_MAGIC);
	ft->fc = NULL;
	if (c == NULL) {
		if (ft->pe != NULL)
			log_msg(LG_INFO, SEC_FWD, "CONNECT via %s: %s",
			    ft->pe->name, store_err_text(err));
		tunnel_next(ft, err, sys_errno);
		return;
	}
	memset(&ft->addr, 0, sizeof ft->addr);
	memcpy(&ft->addr, peer, peer->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	if (ft->cancelled) {
		comm_close(&c);
		tunnel_end(ft, NULL, NULL, 0);
		return;
	}
	if (ft->pe == NULL) {
		tunnel_end(ft, c, NULL, 0);
		return;
	}
	ft->conn = c;
	http_parser_free(&ft->hp);
	http_msg_fini(&ft->rep);
	http_msg_init(&ft->rep, HTTP_MSG_RESPONSE);
	ft->hp = http_parser_new(HTTP_MSG_RESPONSE, TUNNEL_REPLY_MAX);
	buf_chain_init(&out, comm_loop_pool(ft->ctx->loop));
	for (i = 0; i < buf_chain_nslices(&ft->head) && e == 0; i++) {
		s = buf_chain_slice(&ft->head, i);
		e = buf_chain_append_slice(&out, s->buf, s->off, s->len);
	}
	/* login=: this peer's credentials, never another's. */
	if (e == 0 && ft->pe->login_type == FWD_LOGIN_BASIC)
		e = http_out_printf(&out, "Proxy-Authorization: %s\r\n",
		    ft->pe->login);
	else if (e == 0 && ft->pe->login_type == FWD_LOGIN_PASSTHRU &&
	    ft->passthru != NULL)
		e = http_out_printf(&out, "Proxy-Authorization: %s\r\n",
		    ft->passthru);
	if (e == 0)
		e = http_out_printf(&out, "\r\n");
	if (e != 0 || ft->hp == NULL) {
		buf_chain_fini(&out);
		comm_close(&ft->conn);
		ft->cancelled = true;
		tunnel_next(ft, STORE_ERR_NOMEM, ENOMEM);
		return;
	}
	http_parser_start(ft->hp, &ft->rep, true);
	if (ft->pe->tls != NULL) {
		ssl = tls_client_new(ft->pe->tls, ft->pe->tls_domain != NULL ?
		    ft->pe->tls_domain : ft->pe->host, ft->pe->http_port);
		ft->pending++;
		if (ssl == NULL || comm_tls_start(c, ssl,
		    ft->ctx->conf->connect_timeout, tunnel_handshaken,
		    ft) != 0) {
			ft->pending--;
			tls_ssl_free(ssl);
			buf_chain_fini(&out);
			comm_close(&ft->conn);
			ft->cancelled = true;
			tunnel_next(ft, STORE_ERR_NOMEM, ENOMEM);
			return;
		}
	}
	comm_set_timeout(c, COMM_TO_READ, ft->ctx->conf->read_timeout);
	comm_set_timeout(c, COMM_TO_WRITE, ft->ctx->conf->write_timeout);
	ft->pending += 2;
	comm_writev(c, &out, tunnel_written, ft);
	buf_chain_fini(&out);
	comm_read(c, NULL, 0, tunnel_read, ft);
}

/* The peer failed this hop; once its write and read are in, the next. */
static void
tunnel_peer_failed(struct fwd_tunnel *ft, enum store_err err, int sys_errno,
    const char *why)
{
	if (ft->conn != NULL) {
		log_msg(LG_INFO, SEC_FWD, "CONNECT via %s: %s",
		    ft->pe->name, why);
		ft->err = err;
		ft->sys_errno = sys_errno;
		comm_close(&ft->conn);
	}
	if (ft->pending == 0)
		tunnel_next(ft, ft->err, ft->sys_errno);
}

/* The peer said 200 and nothing of ours is pending: the connection is
 * the caller's, the bytes that followed the 200 with it. */
static void
tunnel_done(struct fwd_tunnel *ft)
{
	struct comm_conn *mine = ft->conn;

	if (ft->cancelled || mine == NULL) {
		comm_close(&ft->conn);
		tunnel_end(ft, NULL, NULL, 0);
		return;
	}
	fwd_peer_succeeded(ft->peers, ft->pe);
	comm_set_timeout(mine, COMM_TO_READ, 0);
	comm_set_timeout(mine, COMM_TO_WRITE, 0);
	ft->conn = NULL;
	tunnel_end(ft, mine, ft->early, ft->early_len);
}

/* A tls peer's handshake: its failure is the peer's. */
static void
tunnel_handshaken(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct fwd_tunnel *ft = arg;
	char why[256];

	CHECK_OBJ_NOTNULL(ft, FWD_TUNNEL_MAGIC);
	ft->pending--;
	if (res->status == COMM_OK || ft->conn == NULL) {
		if (ft->ready && ft->pending == 0)
			tunnel_done(ft);
		else if (ft->conn == NULL)
			tunnel_peer_failed(ft, ft->err, ft->sys_errno, NULL);
		return;
	}
	fwd_tls_failure(c, res, why, sizeof why);
	tunnel_peer_failed(ft, STORE_ERR_SECURE_CONNECT, res->status ==
	    COMM_ERROR ? res->err : 0, why);
}

static void
tunnel_written(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct fwd_tunnel *ft = arg;

	(void)c;
	CHECK_OBJ_NOTNULL(ft, FWD_TUNNEL_MAGIC);
	ft->pending--;
	if (ft->ready) {
		if (ft->pending == 0)
			tunnel_done(ft);
	} else if (res->status != COMM_OK || ft->conn == NULL)
		tunnel_peer_failed(ft, STORE_ERR_WRITE, res->status ==
		    COMM_ERROR ? res->err : 0, "the CONNECT was not sent");
}

static void
tunnel_read(struct comm_conn *c, const struct comm_result *res, void *arg)
{
	struct fwd_tunnel *ft = arg;
	enum http_parse_status st;
	const char *data;
	size_t used = 0;

	(void)c;
	CHECK_OBJ_NOTNULL(ft, FWD_TUNNEL_MAGIC);
	ft->pending--;
	if (ft->conn == NULL) {
		tunnel_peer_failed(ft, ft->err, ft->sys_errno, NULL);
		return;
	}
	if (res->status != COMM_OK) {
		tunnel_peer_failed(ft, STORE_ERR_ZERO_SIZE, res->status ==
		    COMM_ERROR ? res->err : res->status == COMM_TIMEOUT ?
		    ETIMEDOUT : ECONNRESET, res->status == COMM_TIMEOUT ?
		    "no reply to the CONNECT" : "closed before its reply");
		return;
	}
	data = (const char *)res->data.buf->data + res->data.off;
	st = http_parse(ft->hp, data, res->data.len, &used, NULL, NULL);
	if (st == HTTP_PARSE_AGAIN) {
		ft->pending++;
		comm_read(ft->conn, NULL, 0, tunnel_read, ft);
		return;
	}
	if (st == HTTP_PARSE_ERROR) {
		tunnel_peer_failed(ft, STORE_ERR_INVALID_RESP, EPROTO,
		    http_err_text(http_parser_error(ft->hp)));
		return;
	}
	if (ft->rep.status / 100 == 1 && ft->rep.status != 101) {
		/* Interim: the answer is still to come. */
		http_msg_fini(&ft->rep);
		http_msg_init(&ft->rep, HTTP_MSG_RESPONSE);
		http_parser_start(ft->hp, &ft->rep, true);
		ft->pending++;
		comm_read(ft->conn, NULL, 0, tunnel_read, ft);
		return;
	}
	if (ft->rep.status != 200) {
		char why[64];

		snprintf(why, sizeof why, "it answered %u", ft->rep.status);
		tunnel_peer_failed(ft, STORE_ERR_CONNECT, ECONNREFUSED, why);
		return;
	}
	/* The CONNECT's write may still have its completion queued: the
	 * connection is handed over once it is in. */
	ft->ready = true;
	if (res->data.len > used) {
		ft->early_len = res->data.len - used;
		ft->early = malloc(ft->early_len);
		if (ft->early == NULL) {
			ft->ready = false;
			ft->cancelled = true;
			tunnel_peer_failed(ft, STORE_ERR_NOMEM, ENOMEM,
			    "out of memory");
			return;
		}
		memcpy(ft->early, data + used, ft->early_len);
	}
	if (ft->pending == 0)
		tunnel_done(ft);
}
