/*
 * client_tunnel.c - CONNECT: once the server side has a connection to
 * host:port, "200 Connection established", then bytes both ways until
 * both sides have closed (each direction is half-closed on its own, as
 * TLS close_notify and HTTP/1.0-style servers need).
 *
 *	client --(cc->in, reads)--> up write --> server
 *	client <-- down write <--(server reads)-- server
 *
 * One write in flight per direction, one read pending per socket: a
 * tunnel holds at most a read's worth of bytes each way.  The tunnel owns
 * the server connection; the client connection stays the client_conn's.
 *
 * ssl_bump's splice (client_tunnel_splice()) is the same tunnel with the
 * 200 already written, the client's ClientHello still unread in its
 * socket.
 *
 * Lifecycle:
 *	client_tunnel_start()	fwd_connect_start()
 *	tunnel_connected()	200 written, relaying
 *	tunnel_end()		both directions done, or a failure
 *	tunnel_free()		nothing pending: the txn goes on to finish
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "client/client_int.h"
#include "client/errpage.h"
#include "http/http_out.h"

struct client_tunnel {
	unsigned		magic;
#define CLIENT_TUNNEL_MAGIC	0xc11e7044U
	struct client_txn	*t;
	struct fwd_connect	*fc;
	struct fwd_tunnel	*ft;		/* through hops (peers) */
	struct comm_conn	*server;
	unsigned		pending;	/* completions to come */
	bool			up_writing;	/* client -> server */
	bool			down_writing;	/* server -> client */
	bool			up_done;	/* FIN passed on to the server */
	bool			down_done;	/* FIN passed on to the client */
	bool			ended;
	bool			spliced;	/* ssl_bump: the 200 is out */
	uint64_t		up_bytes;
	uint64_t		down_bytes;
};

static fwd_connect_fn tunnel_connected;
static fwd_tunnel_fn tunnel_hops_connected;
static void tunnel_connected_early(struct comm_conn *c,
    const struct sockaddr *peer, enum store_err err, int sys_errno,
    const char *early, size_t early_len, struct client_tunnel *tn);
static comm_done_fn tunnel_up_written, tunnel_down_written,
    tunnel_server_read;
static void tunnel_read_server(struct client_tunnel *tn);

static void
tunnel_free(struct client_tunnel *tn)
{
	struct client_txn *t = tn->t;

	if (!tn->ended || tn->pending > 0 || tn->fc != NULL || tn->ft != NULL)
		return;
	t->tunnel = NULL;
	t->bytes_out = tn->down_bytes;
	FREE_OBJ(tn);
	if (t->state != TXN_DONE) {
		t->reply_complete = true;
		client_txn_finish(t);
	} else
		client_txn_maybe_free(t);
}

/* Over: both ways done, or one failed.  The client connection closes with
 * the txn (close_after); the server's closes here. */
static void
tunnel_end(struct client_tunnel *tn)
{
	if (!tn->ended) {
		tn->ended = true;
		tn->t->close_after = true;
		comm_close(&tn->server);
		if (tn->fc != NULL)
			fwd_connect_cancel(tn->fc);
		if (tn->ft != NULL)
			fwd_tunnel_cancel(tn->ft);
	}
	tunnel_free(tn);
}

static void
tunnel_start(struct client_txn *t, bool spliced)
{
	struct client_conn *cc = t->cc;
	struct client_tunnel *tn;
	const char *target = http_msg_ptr(&t->req, t->req.target);

	if (t->peers != NULL && t->nhops == 0 && !spliced) {
		client_txn_error(t, ERRPAGE_CANNOT_FORWARD,
		    store_err_text(STORE_ERR_CANNOT_FORWARD), 0);
		return;
	}
	ALLOC_OBJ(tn, CLIENT_TUNNEL_MAGIC);
	if (tn == NULL) {
		client_txn_abort(t);
		return;
	}
	tn->t = t;
	tn->spliced = spliced;
	t->tunnel = tn;
	t->close_after = true;
	t->state = TXN_WAIT;
	/* PEER chose the hops (client_peer.c): a parent gets a CONNECT. */
	if (t->peers != NULL && t->nhops > 0 && !spliced)
		tn->ft = fwd_tunnel_start(cc->ctx->deps.fwd, t->peers,
		    t->hops, t->nhops, &t->req, target + t->url.host_off,
		    t->url.host_len, t->url.port, t->url.host_is_ip6,
		    tunnel_hops_connected, tn);
	else
		tn->fc = fwd_connect_start(cc->ctx->deps.fwd,
		    target + t->url.host_off, t->url.host_len, t->url.port,
		    tunnel_connected, tn);
	if (tn->fc == NULL && tn->ft == NULL) {
		t->tunnel = NULL;
		FREE_OBJ(tn);
		client_txn_abort(t);
	}
}

void
client_tunnel_start(struct client_txn *t)
{
	tunnel_start(t, false);
}

void
client_tunnel_splice(struct client_txn *t)
{
	tunnel_start(t, true);
}

static void
tunnel_connected(struct comm_conn *c, const struct sockaddr *peer,
    enum store_err err, int sys_errno, void *arg)
{
	struct client_tunnel *tn = arg;

	CHECK_OBJ_NOTNULL(tn, CLIENT_TUNNEL_MAGIC);
	tn->fc = NULL;
	tunnel_connected_early(c, peer, err, sys_errno, NULL, 0, tn);
}

/* Through the hops: the one that answered is logged (%Sh), and what a
 * parent sent after its 200 goes to the client after ours. */
static void
tunnel_hops_connected(const struct fwd_tunnel_answer *a, void *arg)
{
	struct client_tunnel *tn = arg;

	CHECK_OBJ_NOTNULL(tn, CLIENT_TUNNEL_MAGIC);
	tn->ft = NULL;
	if (a->conn != NULL)
		tn->t->hier = a->code;
	tunnel_connected_early(a->conn, a->addr, a->err, a->sys_errno,
	    a->early, a->early_len, tn);
}

static void
tunnel_connected_early(struct comm_conn *c, const struct sockaddr *peer,
    enum store_err err, int sys_errno, const char *early, size_t early_len,
    struct client_tunnel *tn)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	struct client_txn *t = tn->t;
	struct client_conn *cc = t->cc;
	struct buf_chain out;

	if (c == NULL) {
		if (tn->ended || t->state == TXN_DONE) {
			tunnel_end(tn);
			return;
		}
		tn->ended = true;
		t->tunnel = NULL;
		FREE_OBJ(tn);
		if (t->headers_sent) {
			/* Spliced after the 200: no page can be sent. */
			log_msg(LG_INFO, SEC_CLIENT, "ssl_bump: splice: %s",
			    store_err_text(err));
			client_txn_abort(t);
			return;
		}
		client_txn_error(t, err == STORE_ERR_DNS ? ERRPAGE_DNS_FAIL :
		    ERRPAGE_CONNECT_FAIL, store_err_text(err), sys_errno);
		return;
	}
	tn->server = c;
	if (tn->ended || t->state == TXN_DONE) {
		tunnel_end(tn);
		return;
	}
	client_addr_set(&t->server, peer);
	t->code = RESULT_TCP_TUNNEL;
	t->status = 200;
	t->headers_sent = true;
	/* The tunnel is idle when neither side says anything for
	 * read_timeout; either side's silence alone is normal. */
	comm_set_timeout(c, COMM_TO_IDLE, cc->ctx->deps.conf->read_timeout);
	if (tn->spliced) {
		tunnel_read_server(tn);
		client_tunnel_from_client(t);	/* the peeked bytes first */
		return;
	}
	buf_chain_init(&out, comm_loop_pool(cc->ctx->deps.loop));
	if (buf_chain_append(&out, ok, sizeof ok - 1) != 0 ||
	    (early_len > 0 && buf_chain_append(&out, early, early_len) != 0)) {
		buf_chain_fini(&out);
		tunnel_end(tn);
		return;
	}
	tn->down_bytes += early_len;
	tn->pending++;
	tn->down_writing = true;
	comm_writev(cc->conn, &out, tunnel_down_written, tn);
	buf_chain_fini(&out);
	client_tunnel_from_client(t);	/* bytes sent early, if any */
}

/* Client -> server: what the connection has read, one write at a time;
 * the client's FIN becomes the server's once everything before it went. */
void
client_tunnel_from_client(struct client_txn *t)
{
	struct client_tunnel *tn = t->tunnel;
	struct client_conn *cc = t->cc;
	struct buf_chain out;

	if (tn == NULL || tn->server == NULL || tn->ended || tn->up_writing)
		return;
	if (buf_chain_len(&cc->in) > 0) {
		buf_chain_init(&out, comm_loop_pool(cc->ctx->deps.loop));
		tn->up_bytes += buf_chain_len(&cc->in);
		AZ(buf_chain_move(&out, &cc->in));
		tn->pending++;
		tn->up_writing = true;
		comm_writev(tn->server, &out, tunnel_up_written, tn);
		buf_chain_fini(&out);
		return;
	}
	if (cc->eof && !tn->up_done) {
		tn->up_done = true;
		comm_shutdown_write(tn->server);
		if (tn->down_done)
			tunnel_end(tn);
		return;
	}
	client_conn_read_more(cc);
}

static void
tunnel_up_written(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct client_tunnel *tn = arg;

	(void)c;
	tn->pending--;
	tn->up_writing = false;
	if (res->status != COMM_OK || tn->ended) {
		tunnel_end(tn);
		return;
	}
	client_tunnel_from_client(tn->t);
}

/* Server -> client. */
static void
tunnel_read_server(struct client_tunnel *tn)
{
	tn->pending++;
	comm_read(tn->server, NULL, 0, tunnel_server_read, tn);
}

static void
tunnel_server_read(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct client_tunnel *tn = arg;
	struct client_conn *cc = tn->t->cc;
	struct buf_chain out;

	(void)c;
	tn->pending--;
	if (tn->ended) {
		tunnel_free(tn);
		return;
	}
	if (res->status == COMM_EOF) {
		tn->down_done = true;
		comm_shutdown_write(cc->conn);
		if (tn->up_done)
			tunnel_end(tn);
		return;
	}
	if (res->status != COMM_OK) {
		tunnel_end(tn);
		return;
	}
	buf_chain_init(&out, comm_loop_pool(cc->ctx->deps.loop));
	if (buf_chain_append_slice(&out, res->data.buf, res->data.off,
	    res->data.len) != 0) {
		buf_chain_fini(&out);
		tunnel_end(tn);
		return;
	}
	tn->down_bytes += res->data.len;
	mgr_stats_add(cc->ctx->counters, MGR_C_BYTES_OUT, res->data.len);
	tn->pending++;
	tn->down_writing = true;
	comm_writev(cc->conn, &out, tunnel_down_written, tn);
	buf_chain_fini(&out);
}

/* A write to the client (the 200, or server bytes) is out: read on. */
static void
tunnel_down_written(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct client_tunnel *tn = arg;

	(void)c;
	tn->pending--;
	tn->down_writing = false;
	if (res->status != COMM_OK || tn->ended) {
		tunnel_end(tn);
		return;
	}
	tunnel_read_server(tn);
}

void
client_tunnel_abort(struct client_txn *t)
{
	if (t->tunnel != NULL)
		tunnel_end(t->tunnel);
}
