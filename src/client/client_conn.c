/*
 * client_conn.c - client connections: accept, read, parse, one request
 * at a time, keep-alive, close.
 *
 * Lifecycle:
 *	client_accept()		accepted (an https_port's: the TLS handshake
 *				under way, the first read queued behind it);
 *				waiting for a request
 *	client_conn_process()	a request's header section -> a client_txn
 *	client_conn_txn_done()	its reply written: next request, or close
 *	client_conn_abort()	close now: the txn is aborted
 *	client_conn_free()	closing, no completion pending, no txn
 *
 * Reads go on while a request is served (to see the client leave), but
 * no more than CLIENT_IN_MAX bytes wait unparsed, in no more than
 * CLIENT_IN_SLICES reads: each read pins a block of its own, so a client
 * trickling single bytes would otherwise pin a 64-byte block (and a
 * slice) per byte, 100 times the bytes it sent.
 *
 * client_lifetime is the same for every connection, and ctx->conns is
 * in accept order, so one timer serves them all: it is due when the
 * oldest connection is, and walks the list from there (a timer each
 * would cost an idle connection 96 bytes).
 *
 * A connection that will not carry another request is closed the way
 * Apache and nginx do it ("lingering close"): FIN after the reply, then
 * what the client still sends is read and dropped for CLIENT_LINGER
 * seconds or until its FIN.  Closing with unread bytes would make the
 * kernel send a RST, which can destroy the reply before the client has
 * read it (an error page for a request refused mid-way, typically).
 *
 * Over TLS a clean end is close_notify, which a plain comm_close() never
 * sends (a close also cuts streams on errors): client_conn_end() asks
 * for it first, and a reply that the close delimits goes through the
 * lingering close, which asks for it after the reply.  Either way the
 * close that follows lets it out before the fd goes, even when it waits
 * for room in the socket buffer (bounded, in comm).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "client/client_int.h"
#include "mgr/mgr_page.h"
#include "tls/tls.h"

static comm_accept_fn client_accept;
static comm_done_fn client_read_done, client_tls_done;
static comm_timer_fn client_ctx_lifetime;
static void client_conn_lifetime_start(struct client_ctx *ctx,
    struct comm_conn *c);
static void client_conn_lifetime(struct client_conn *cc);
static void client_conn_free(struct client_conn *cc);
static void client_conn_read_handled(struct client_conn *cc,
    const struct comm_result *res);
static void client_conn_process(struct client_conn *cc);

struct client_ctx *
client_ctx_new(const struct client_deps *deps)
{
	struct client_ctx *ctx;

	ALLOC_OBJ(ctx, CLIENT_CTX_MAGIC);
	if (ctx == NULL)
		return (NULL);
	ctx->deps = *deps;
	ctx->counters = deps->mgr != NULL ? mgr_counters(deps->mgr) :
	    &ctx->own_counters;
	list_init(&ctx->conns);
	list_init(&ctx->fetches);
	list_init(&ctx->disk_reads);
	/* Vary markers outlive the process on disk: serials from the
	 * clock, so that a new marker never takes an older one's. */
	ctx->serial = (uint64_t)comm_now(deps->loop) << 20;
	return (ctx);
}

void
client_ctx_set_deps(struct client_ctx *ctx, const struct client_deps *deps)
{
	CHECK_OBJ_NOTNULL(ctx, CLIENT_CTX_MAGIC);
	AN(deps);
	CHECK(deps->loop == ctx->deps.loop);
	CHECK(deps->mgr == ctx->deps.mgr);	/* the counters stay */
	ctx->deps = *deps;
	/* A new client_lifetime holds for the connections open too: the
	 * timer looks again at once. */
	if (ctx->lifetime == NULL && deps->conf->client_lifetime > 0)
		ctx->lifetime = comm_timer_new(deps->loop,
		    client_ctx_lifetime, ctx);
	if (ctx->lifetime != NULL)
		comm_timer_start(ctx->lifetime, 0, 0);
}

void
client_ctx_free(struct client_ctx **cp)
{
	struct client_ctx *ctx;

	if (*cp == NULL)
		return;
	TAKE_OBJ_NOTNULL(ctx, cp, CLIENT_CTX_MAGIC);
	CHECK(list_empty(&ctx->conns));
	CHECK(list_empty(&ctx->fetches));
	client_disk_fini(ctx);
	comm_timer_free(&ctx->lifetime);
	FREE_OBJ(ctx);
}

void
client_listen(struct client_port *port, struct comm_listener *l)
{
	CHECK_OBJ_NOTNULL(port->ctx, CLIENT_CTX_MAGIC);
	comm_accept_start(l, client_accept, port);
}

/* A clean end: close_notify first on TLS (see above). */
static void
client_conn_end(struct client_conn *cc)
{
	if (!cc->closing && comm_tls_ssl(cc->conn) != NULL)
		comm_shutdown_write(cc->conn);
	client_conn_abort(cc);
}

void
client_ctx_drain(struct client_ctx *ctx)
{
	struct list *n, *tmp;
	struct client_conn *cc;

	CHECK_OBJ_NOTNULL(ctx, CLIENT_CTX_MAGIC);
	ctx->draining = true;
	LIST_FOREACH_SAFE(n, tmp, &ctx->conns) {
		cc = container_of(n, struct client_conn, link);
		if (cc->txn == NULL)
			client_conn_end(cc);
	}
}

bool
client_ctx_idle(const struct client_ctx *ctx)
{
	CHECK_OBJ_NOTNULL(ctx, CLIENT_CTX_MAGIC);
	/* Fetches nobody waits for (background revalidation, fills whose
	 * client left) count: they hold server connections. */
	return (list_empty(&ctx->conns) && list_empty(&ctx->fetches));
}

uint16_t
client_local_port(const struct client_conn *cc)
{
	return (cc->local_port);
}

int
client_conn_local(const struct client_conn *cc, union client_addr *a)
{
	socklen_t len = sizeof *a;

	if (cc->conn == NULL) {
		a->sa.sa_family = AF_UNSPEC;
		return (-ENOTCONN);
	}
	if (getsockname(comm_conn_fd(cc->conn), &a->sa, &len) == -1) {
		a->sa.sa_family = AF_UNSPEC;
		return (-errno);
	}
	return (0);
}

/* client_conn_local(), asked of the socket once per connection where
 * the answer fits in the connection (IPv4). */
static void
client_conn_local_cached(struct client_conn *cc, union client_addr *a)
{
	if (cc->local4_known) {
		memset(&a->sin, 0, sizeof a->sin);
		a->sin.sin_family = AF_INET;
		a->sin.sin_port = htons(cc->local_port);
		a->sin.sin_addr = cc->local4;
		return;
	}
	if (client_conn_local(cc, a) == 0 && a->sa.sa_family == AF_INET &&
	    ntohs(a->sin.sin_port) == cc->local_port) {
		cc->local4 = a->sin.sin_addr;
		cc->local4_known = true;
	}
}

const struct sockaddr *
client_txn_local(void *arg)
{
	struct client_txn *t = arg;

	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	if (!t->local_known && t->cc != NULL) {
		client_conn_local_cached(t->cc, &t->local);
		t->local_known = true;
	}
	return (t->local_known && t->local.sa.sa_family != AF_UNSPEC ?
	    &t->local.sa : NULL);
}

/*
 * True when the client has sent its FIN while the request being served
 * still waits for bytes of its own (header section or content): they
 * will never come, and no read is left to notice, so the connection must
 * be closed now or it would stay until client_lifetime.  RFC 9112 9.6
 * lets a client half-close after a whole request only.
 */
static bool
client_conn_cut(const struct client_conn *cc)
{
	const struct client_txn *t = cc->txn;

	return (cc->eof && !cc->closing && !cc->lingering && t != NULL &&
	    (t->state == TXN_HEADERS ||
	    (t->state == TXN_BODY && !t->body_sending)));
}

/* More input may be parsed now (a request content piece went out, or the
 * previous request is over). */
void
client_conn_resume(struct client_conn *cc)
{
	client_conn_hold(cc);
	client_conn_process(cc);
	if (client_conn_cut(cc)) {
		log_msg(LG_INFO, SEC_CLIENT, "client closed in the middle "
		    "of a request");
		client_conn_abort(cc);
	} else if (!cc->closing)
		client_conn_read_more(cc);
	client_conn_release(cc);
}

/* Close every connection at once (shutdown, or a leak check in tests). */
void
client_ctx_close_all(struct client_ctx *ctx)
{
	struct list *n, *tmp;

	CHECK_OBJ_NOTNULL(ctx, CLIENT_CTX_MAGIC);
	LIST_FOREACH_SAFE(n, tmp, &ctx->conns)
		client_conn_abort(container_of(n, struct client_conn, link));
	client_cache_cancel_all(ctx);
}

/* A call that may end the connection (and free it) holds it meanwhile,
 * like a completion still to come: freed on the last release. */
void
client_conn_hold(struct client_conn *cc)
{
	cc->pending++;
}

void
client_conn_release(struct client_conn *cc)
{
	cc->pending--;
	client_conn_free(cc);
}

static void
client_conn_free(struct client_conn *cc)
{
	if (!cc->closing || cc->pending > 0 || cc->txn != NULL ||
	    cc->conn != NULL)
		return;
	list_remove(&cc->link);
	cc->ctx->stats.conns_open--;
	http_parser_free(&cc->parser);
	buf_chain_fini(&cc->in);
	client_bump_free(&cc->bump);
	FREE_OBJ(cc);
}

static void client_conn_adopt(struct client_ctx *ctx, struct comm_conn *c,
		    int local_port, const struct sockaddr *peer,
		    struct tls_ctx *tls, struct tls_mint *mint);

static void
client_accept(struct comm_listener *l, struct comm_conn *c,
    const struct sockaddr *peer, void *arg)
{
	struct client_port *port = arg;

	(void)l;
	client_conn_adopt(port->ctx, c, comm_listener_port(l), peer, port->tls,
	    port->mint);
}

void
client_adopt(struct client_ctx *ctx, struct comm_conn *c,
    const struct sockaddr *peer)
{
	client_conn_adopt(ctx, c, -1, peer, NULL, NULL);
}

void
client_adopt_tls(struct client_ctx *ctx, struct comm_conn *c,
    const struct sockaddr *peer, struct tls_ctx *tls)
{
	client_conn_adopt(ctx, c, -1, peer, tls, NULL);
}

void
client_adopt_bump(struct client_ctx *ctx, struct comm_conn *c,
    const struct sockaddr *peer, struct tls_mint *mint)
{
	client_conn_adopt(ctx, c, -1, peer, NULL, mint);
}

/* The TLS handshake failed: one line, nothing else (Squid logs nothing
 * to access.log either).  INFO: scanners and port probes make these. */
static void
client_tls_log(struct client_conn *cc, const char *what,
    const struct comm_result *res)
{
	const char *why = tls_error_reason(comm_tls_error(cc->conn));
	char peer[80];

	if (cc->peer.sa.sa_family == AF_UNSPEC)
		snprintf(peer, sizeof peer, "-");
	else
		comm_addr_format(&cc->peer.sa, peer, sizeof peer);
	if (why == NULL)
		why = res->status == COMM_TIMEOUT ? "timed out" :
		    res->status == COMM_EOF ? "closed" :
		    res->err == ECONNRESET ? "closed by the client" :
		    strerror(res->err);
	log_msg(LG_INFO, SEC_CLIENT, "TLS %s from %s: %s", what, peer, why);
}

/* https_port: the handshake first; the first read, queued behind it,
 * waits for it and fails with it. */
static int
client_conn_tls_start(struct client_conn *cc, struct tls_ctx *tls)
{
	struct ssl_st *ssl = tls_server_new(tls);

	if (ssl == NULL || comm_tls_start(cc->conn, ssl,
	    cc->ctx->deps.conf->request_timeout, client_tls_done, cc) != 0) {
		tls_ssl_free(ssl);
		return (-ENOMEM);
	}
	cc->pending++;
	return (0);
}

static void
client_tls_done(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct client_conn *cc = arg;

	(void)c;
	CHECK_OBJ_NOTNULL(cc, CLIENT_CONN_MAGIC);
	if (res->status != COMM_OK && !cc->closing) {
		client_tls_log(cc, "handshake failed", res);
		client_conn_abort(cc);
	}
	client_conn_release(cc);
}

static void
client_conn_adopt(struct client_ctx *ctx, struct comm_conn *c,
    int local_port, const struct sockaddr *peer, struct tls_ctx *tls,
    struct tls_mint *mint)
{
	const struct conf *conf;
	struct client_conn *cc;
	union client_addr la;
	socklen_t len;

	CHECK_OBJ_NOTNULL(ctx, CLIENT_CTX_MAGIC);
	conf = ctx->deps.conf;
	ctx->stats.conns_accepted++;
	ALLOC_OBJ(cc, CLIENT_CONN_MAGIC);
	if (cc == NULL) {
		comm_close(&c);
		return;
	}
	cc->ctx = ctx;
	cc->conn = c;
	len = sizeof cc->peer;
	if (peer != NULL)
		client_addr_set(&cc->peer, peer);
	else if (getpeername(comm_conn_fd(c), &cc->peer.sa, &len) == -1)
		cc->peer.sa.sa_family = AF_UNSPEC;
	/* From the listener: no getsockname() per connection.  An adopted
	 * socket (-1) asks once. */
	if (local_port < 0) {
		(void)client_conn_local(cc, &la);
		local_port = comm_addr_port(&la.sa);
	}
	cc->local_port = (uint16_t)local_port;
	buf_chain_init(&cc->in, comm_loop_pool(ctx->deps.loop));
	list_insert_tail(&ctx->conns, &cc->link);
	ctx->stats.conns_open++;
	comm_set_timeout(c, COMM_TO_READ, conf->request_timeout);
	comm_set_timeout(c, COMM_TO_WRITE, conf->write_timeout);
	client_conn_lifetime_start(ctx, c);
	if (mint != NULL && (cc->bump = client_bump_new(cc, mint)) == NULL) {
		client_conn_abort(cc);
		return;
	}
	if (tls != NULL && client_conn_tls_start(cc, tls) != 0) {
		client_conn_abort(cc);
		return;
	}
	client_conn_read_more(cc);
}

/*
 * client_lifetime is a timer of ours, not comm's LIFETIME: a request
 * still waiting for its reply then gets ERR_LIFETIME_EXP.  The newest
 * connection is due last: the timer needs starting only if it is not
 * running for an older one.  With no memory for the timer, comm's
 * LIFETIME closes the connection all the same.
 */
static void
client_conn_lifetime_start(struct client_ctx *ctx, struct comm_conn *c)
{
	double life = ctx->deps.conf->client_lifetime;

	if (life <= 0)
		return;
	if (ctx->lifetime == NULL)
		ctx->lifetime = comm_timer_new(ctx->deps.loop,
		    client_ctx_lifetime, ctx);
	if (ctx->lifetime == NULL)
		comm_set_timeout(c, COMM_TO_LIFETIME, life);
	else if (!comm_timer_active(ctx->lifetime))
		comm_timer_start(ctx->lifetime, life, 0);
}

/*
 * The lifetime timer: every connection whose client_lifetime is over, in
 * accept order, then due again for the next one.  Each is told once
 * (cc->expired); closing ones are on their way out already.
 */
static void
client_ctx_lifetime(struct comm_timer *tm, void *arg)
{
	struct client_ctx *ctx = arg;
	struct client_conn *cc;
	struct list *n, *tmp;
	double life, now, due;

	CHECK_OBJ_NOTNULL(ctx, CLIENT_CTX_MAGIC);
	life = ctx->deps.conf->client_lifetime;
	if (life <= 0)
		return;
	now = comm_now(ctx->deps.loop);
	LIST_FOREACH_SAFE(n, tmp, &ctx->conns) {
		cc = container_of(n, struct client_conn, link);
		if (cc->closing || cc->expired)
			continue;
		due = comm_conn_since(cc->conn) + life;
		if (due > now + CLIENT_TIME_SLACK) {
			comm_timer_start(tm, due - now, 0);
			return;
		}
		cc->expired = true;
		client_conn_lifetime(cc);
	}
}

/* client_lifetime is over: a request that waits for its reply is told
 * so (ERR_LIFETIME_EXP, then the connection closes); else it just closes
 * (a reply already on its way is cut: the lifetime bounds it too). */
static void
client_conn_lifetime(struct client_conn *cc)
{
	struct client_txn *t = cc->txn;

	CHECK_OBJ_NOTNULL(cc, CLIENT_CONN_MAGIC);
	log_msg(LG_INFO, SEC_CLIENT, "client_lifetime reached");
	if (t != NULL && !t->headers_sent && t->tunnel == NULL &&
	    (t->state == TXN_BODY || t->state == TXN_WAIT) && !cc->closing) {
		client_txn_error(t, ERRPAGE_LIFETIME_EXP, "client_lifetime",
		    0);
		return;
	}
	client_conn_abort(cc);
}

void
client_conn_abort(struct client_conn *cc)
{
	CHECK_OBJ_NOTNULL(cc, CLIENT_CONN_MAGIC);
	if (cc->closing)
		return;
	cc->closing = true;
	if (cc->txn != NULL) {
		/* Its log line may want the address after the close. */
		(void)client_txn_local(cc->txn);
		client_txn_abort(cc->txn);
	}
	comm_close(&cc->conn);
	client_conn_free(cc);
}

void
client_conn_read_more(struct client_conn *cc)
{
	if (cc->reading || cc->closing || cc->eof || client_bump_busy(cc) ||
	    buf_chain_len(&cc->in) >= CLIENT_IN_MAX ||
	    buf_chain_nslices(&cc->in) >= CLIENT_IN_SLICES)
		return;
	cc->reading = true;
	cc->pending++;
	comm_read(cc->conn, NULL, 0, client_read_done, cc);
}

static void
client_read_done(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct client_conn *cc = arg;

	(void)c;
	CHECK_OBJ_NOTNULL(cc, CLIENT_CONN_MAGIC);
	cc->reading = false;
	/* The read's own count is kept until the end of this call. */
	client_conn_read_handled(cc, res);
	client_conn_release(cc);
}

static void
client_conn_read_handled(struct client_conn *cc, const struct comm_result *res)
{
	if (cc->closing)
		return;
	if (cc->lingering) {
		if (res->status == COMM_OK) {	/* dropped unseen */
			cc->reading = true;
			cc->pending++;
			comm_read(cc->conn, NULL, 0, client_read_done, cc);
		} else
			client_conn_abort(cc);
		return;
	}
	switch (res->status) {
	case COMM_OK:
		mgr_stats_add(cc->ctx->counters, MGR_C_BYTES_IN,
		    res->data.len);
		if (buf_chain_append_slice(&cc->in, res->data.buf,
		    res->data.off, res->data.len) != 0) {
			client_conn_abort(cc);
			return;
		}
		if (cc->txn != NULL && cc->txn->tunnel != NULL) {
			client_tunnel_from_client(cc->txn);
			return;
		}
		client_conn_process(cc);
		if (!cc->closing)
			client_conn_read_more(cc);
		return;
	case COMM_EOF:
		/* A client may half-close after its request (RFC 9112
		 * 9.6 allows it): finish what was asked, then close. */
		cc->eof = true;
		if (cc->txn != NULL && cc->txn->tunnel != NULL) {
			client_tunnel_from_client(cc->txn);
			return;
		}
		/* A piece of content in flight: client_conn_resume()
		 * decides once it is out and the rest is parsed. */
		if (cc->txn == NULL || client_conn_cut(cc)) {
			if (cc->txn != NULL && (buf_chain_len(&cc->in) > 0 ||
			    cc->txn->req.rawlen > 0 ||
			    cc->txn->state == TXN_BODY))
				log_msg(LG_INFO, SEC_CLIENT, "client closed "
				    "in the middle of a request");
			client_conn_abort(cc);
		}
		return;
	case COMM_TIMEOUT:
		if (cc->txn == NULL)	/* idle keep-alive: a clean end */
			client_conn_end(cc);
		else
			client_conn_abort(cc);
		return;
	case COMM_ERROR:
		/* A bad record, or a renegotiation refused, after the
		 * handshake (whose failure closed the connection first). */
		if (res->err == EPROTO && comm_tls_ssl(cc->conn) != NULL)
			client_tls_log(cc, "error", res);
		client_conn_abort(cc);
		return;
	case COMM_CANCELLED:
		client_conn_abort(cc);
		return;
	}
}

static void
client_body_piece(void *arg, const char *at, size_t len)
{
	struct client_txn *t = arg;
	struct client_conn *cc = t->cc;

	if (buf_chain_append_slice(&t->body, cc->ctx->parsing,
	    (size_t)((const unsigned char *)at - buf_data(cc->ctx->parsing)),
	    len) != 0)
		t->close_after = true;
}

/* Parse what has arrived, as far as the request being served allows. */
static void
client_conn_process(struct client_conn *cc)
{
	const struct buf_slice *s;
	struct client_txn *t;
	enum http_parse_status st;
	size_t used;

	while (!cc->closing && !cc->lingering) {
		if (cc->txn == NULL) {
			if (buf_chain_len(&cc->in) == 0)
				return;
			/* A parser exists from a request's first byte to
			 * the end of the last one pipelined behind it: an
			 * idle connection has none. */
			if (cc->parser == NULL)
				cc->parser = http_parser_new(HTTP_MSG_REQUEST,
				    (size_t)cc->ctx->deps.conf->
				    request_header_max_size);
			cc->txn = cc->parser != NULL ? client_txn_new(cc) :
			    NULL;
			if (cc->txn == NULL) {
				client_conn_abort(cc);
				return;
			}
			comm_set_timeout(cc->conn, COMM_TO_READ,
			    cc->ctx->deps.conf->request_timeout);
			http_parser_start(cc->parser, &cc->txn->req, false);
		}
		t = cc->txn;
		if ((t->state != TXN_HEADERS && t->state != TXN_BODY) ||
		    t->body_sending)
			return;
		/* In BODY, an empty call still lets the parser report the
		 * end of a request without content. */
		if (buf_chain_len(&cc->in) > 0) {
			s = buf_chain_slice(&cc->in, 0);
			cc->ctx->parsing = s->buf;
			st = http_parse(cc->parser, (const char *)
			    buf_slice_ptr(s), s->len, &used,
			    client_body_piece, t);
			cc->ctx->parsing = NULL;
			buf_chain_consume(&cc->in, used);
		} else if (t->state == TXN_BODY)
			st = http_parse(cc->parser, "", 0, &used,
			    client_body_piece, t);
		else
			return;
		switch (st) {
		case HTTP_PARSE_AGAIN:
			if (t->state == TXN_BODY && buf_chain_len(&t->body) > 0)
				client_txn_body(t, false);
			if (buf_chain_len(&cc->in) == 0)
				return;
			break;
		case HTTP_PARSE_HEADERS:
			cc->nreq++;
			mgr_stats_add(cc->ctx->counters, MGR_C_RECEIVED, 1);
			comm_set_timeout(cc->conn, COMM_TO_READ, 0);
			client_txn_headers(t);
			break;
		case HTTP_PARSE_DONE:
			if (t->state == TXN_BODY)
				client_txn_body(t, true);
			break;
		case HTTP_PARSE_ERROR:
			client_txn_parse_error(t, http_parser_error(
			    cc->parser));
			return;
		}
	}
}

static void
client_conn_linger(struct client_conn *cc)
{
	cc->lingering = true;
	buf_chain_fini(&cc->in);
	comm_shutdown_write(cc->conn);
	comm_set_timeout(cc->conn, COMM_TO_READ, CLIENT_LINGER);
	if (!cc->reading) {
		cc->reading = true;
		cc->pending++;
		comm_read(cc->conn, NULL, 0, client_read_done, cc);
	}
}

void
client_conn_txn_done(struct client_conn *cc, enum client_conn_next next)
{
	bool keep_alive = next == CLIENT_NEXT_REQUEST;

	CHECK_OBJ_NOTNULL(cc, CLIENT_CONN_MAGIC);
	cc->txn = NULL;
	if (cc->closing) {
		client_conn_free(cc);
		return;
	}
	if (cc->eof && (!keep_alive || buf_chain_len(&cc->in) == 0)) {
		client_conn_end(cc);	/* it has gone: nothing to drain */
		return;
	}
	/* Nothing unread that a close would turn into a RST: the reply
	 * still in the socket goes out, then the FIN.  (TLS: close_notify
	 * must get out too, which the lingering close waits for.) */
	if (next == CLIENT_NEXT_CLOSE && buf_chain_len(&cc->in) == 0 &&
	    comm_tls_ssl(cc->conn) == NULL) {
		client_conn_abort(cc);
		return;
	}
	if (!keep_alive || cc->ctx->draining) {
		client_conn_linger(cc);
		return;
	}
	if (buf_chain_len(&cc->in) == 0)
		http_parser_free(&cc->parser);	/* idle: see above */
	comm_set_timeout(cc->conn, COMM_TO_READ,
	    cc->ctx->deps.conf->client_idle_pconn_timeout);
	client_conn_resume(cc);
}
