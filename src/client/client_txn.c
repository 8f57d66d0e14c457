/*
 * client_txn.c - one request on a client connection: its life, its
 * content, its errors.  The path a request takes once its header section
 * is in (checks, the cache, forwarding) is client_steps.c's.
 *
 *	HEADERS --> (steps) --> BODY --> WAIT --> REPLY --> DONE
 *	   |            |                             ^
 *	   +------------+----> error page ------------+
 *
 * A request that passes its checks gets a private store entry and a fwd
 * that fills it; the reply is written from the entry (client_reply.c),
 * exactly as a hit will be.  Request content is passed on as it arrives,
 * one piece in flight at a time.
 *
 * A txn ends with client_txn_finish(): after its reply is written, or
 * when the connection is aborted.  It is freed once nothing is pending:
 * no write in flight, no body piece in flight, the fwd done.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acl/acl.h"
#include "base/check.h"
#include "base/log.h"
#include "client/client_int.h"
#include "client/errpage.h"
#include "dns/dns.h"
#include "fwd/fwd.h"
#include "http/http_out.h"

static fwd_done_fn client_fwd_done;
static fwd_sent_fn client_body_sent;

struct client_txn *
client_txn_new(struct client_conn *cc)
{
	struct client_txn *t;

	ALLOC_OBJ(t, CLIENT_TXN_MAGIC);
	if (t == NULL)
		return (NULL);
	t->cc = cc;
	t->state = TXN_HEADERS;
	t->t_start = comm_now(cc->ctx->deps.loop);
	t->code = RESULT_NONE;
	http_msg_init(&t->req, HTTP_MSG_REQUEST);
	buf_chain_init(&t->body, comm_loop_pool(cc->ctx->deps.loop));
	return (t);
}

/* Free once the reply is written (or abandoned) and nothing is pending. */
void
client_txn_maybe_free(struct client_txn *t)
{
	struct client_conn *cc = t->cc;
	enum client_conn_next next;

	if (t->state != TXN_DONE || t->writes > 0 || t->body_sending ||
	    t->fwd != NULL || t->tunnel != NULL || t->busy > 0 ||
	    acl_check_waiting(&t->ck) || t->disk_wait ||
	    client_adapt_waiting(t))
		return;
	/* Reuse needs the whole request read: else what follows on the
	 * connection is the rest of its content, not a request.  A client
	 * that asked to close and sent all of its request sends nothing
	 * more (RFC 9112 9.6): no lingering for it, as nginx does not. */
	if (!t->close_after && t->req.keep_alive && t->req_done)
		next = CLIENT_NEXT_REQUEST;
	else if (!t->req.keep_alive && t->req_done && !t->errpage &&
	    t->end == RESULT_END_OK)
		next = CLIENT_NEXT_CLOSE;
	else
		next = CLIENT_NEXT_LINGER;
	if (t->reader_open) {
		store_reader_close(&t->reader);
		t->reader_open = false;
	}
	store_entry_unref(&t->e);
	client_cache_txn_free(t);
	client_adapt_txn_free(t);
	client_peer_txn_free(t);
	acl_lookups_fini(&t->lk);
	http_msg_fini(&t->req);
	buf_chain_fini(&t->body);
	FREE_OBJ(t);
	client_conn_txn_done(cc, next);
}

/* The end, whichever way: log it, stop what still runs. */
void
client_txn_finish(struct client_txn *t)
{
	if (t->state == TXN_DONE)
		return;
	t->state = TXN_DONE;
	if (t->fwd != NULL && fwd_peer(t->fwd) != NULL) {
		client_addr_set(&t->server, fwd_peer(t->fwd));
		t->hier = (uint8_t)fwd_hier(t->fwd);
	}
	client_cache_txn_finish(t);
	client_txn_log(t);
	/* Ending the tunnel may come back to client_txn_maybe_free(): the
	 * txn is held until this call is done with it. */
	t->busy++;
	if (t->fwd != NULL)
		fwd_cancel(t->fwd);
	if (acl_check_waiting(&t->ck))
		acl_check_cancel(&t->ck);	/* its answer still comes */
	client_adapt_cancel(t);		/* so does a helper's */
	client_tunnel_abort(t);
	client_bump_abort(t);
	t->busy--;
	client_txn_maybe_free(t);
}

void
client_txn_abort(struct client_txn *t)
{
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	t->close_after = true;
	if (t->end == RESULT_END_OK)
		t->end = RESULT_END_ABORTED;
	if (t->code == RESULT_NONE)
		t->code = RESULT_TCP_MISS;
	client_txn_finish(t);
}

/* -- error replies -------------------------------------------------------- */

/* Answer with cuttle's own page; the connection closes after it (what
 * remains of the request is not worth reading). */
static void
client_txn_error_page(struct client_txn *t, enum errpage_id id,
    const char *detail, int sys_errno, const char *headers)
{
	struct client_conn *cc = t->cc;
	struct errpage_vars v;
	struct buf_chain out;
	char url[2048];

	if (t->headers_sent) {
		/* A reply is on its way already (the origin answered before
		 * the request was over): a page now would be spliced into
		 * it.  Cut it instead, so that it never looks complete. */
		log_msg(LG_INFO, SEC_CLIENT, "reply cut: %s", detail != NULL ?
		    detail : errpage_name(id));
		client_conn_abort(cc);
		return;
	}
	memset(&v, 0, sizeof v);
	snprintf(url, sizeof url, "%.*s", (int)t->req.target.len,
	    t->req.rawlen > 0 ? http_msg_ptr(&t->req, t->req.target) : "");
	v.url = url;
	v.method = t->req.method_name.len > 0 ? http_msg_ptr(&t->req,
	    t->req.method_name) : "-";
	v.method_len = t->req.method_name.len;
	v.detail = detail;
	v.sys_errno = sys_errno;
	v.client = &cc->peer.sa;
	v.proxy_name = cc->ctx->deps.conf->visible_hostname;
	v.cache_mgr = cc->ctx->deps.conf->cache_mgr;
	v.head = t->req.method == HTTP_M_HEAD;
	v.keep_alive = false;
	v.extra_headers = headers;
	v.user = t->lk.user;
	buf_chain_init(&out, comm_loop_pool(cc->ctx->deps.loop));
	t->close_after = true;
	t->errpage = true;
	t->err_name = errpage_name(id);
	if (t->state == TXN_HEADERS || t->state == TXN_BODY)
		t->state = TXN_WAIT;	/* the rest of the request is not read */
	if (errpage_render(id, &v, &out, &t->status) != 0) {
		buf_chain_fini(&out);
		client_txn_abort(t);
		return;
	}
	if (t->fwd != NULL)
		fwd_cancel(t->fwd);
	client_reply_write_all(t, &out);
	buf_chain_fini(&out);
}

void
client_txn_error(struct client_txn *t, enum errpage_id id,
    const char *detail, int sys_errno)
{
	client_txn_error_page(t, id, detail, sys_errno, NULL);
}

void
client_txn_error_hdrs(struct client_txn *t, enum errpage_id id,
    const char *detail, const char *headers)
{
	client_txn_error_page(t, id, detail, 0, headers);
}

void
client_txn_parse_error(struct client_txn *t, enum http_err e)
{
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	log_msg(LG_INFO, SEC_CLIENT, "invalid request: %s", http_err_text(e));
	t->code = RESULT_TAG_NONE;
	t->state = TXN_REPLY;
	switch (http_err_status(e)) {
	case 414:
		client_txn_error(t, ERRPAGE_URI_TOO_LONG, http_err_text(e), 0);
		break;
	case 431:
		client_txn_error(t, ERRPAGE_TOO_BIG_REQUEST, http_err_text(e),
		    0);
		break;
	case 501:
		client_txn_error(t, ERRPAGE_UNSUP_REQ, http_err_text(e), 0);
		break;
	case 505:
		client_txn_error(t, ERRPAGE_UNSUP_HTTP_VERSION,
		    http_err_text(e), 0);
		break;
	default:
		client_txn_error(t, ERRPAGE_INVALID_REQ, http_err_text(e), 0);
		break;
	}
}

/* What fwd_start() needs from the request; the caller may add to it. */
void
client_fwd_req_init(struct client_txn *t, struct fwd_req *fr)
{
	const char *target = http_msg_ptr(&t->req, t->req.target);

	memset(fr, 0, sizeof *fr);
	fr->msg = &t->req;
	fr->host = target + t->url.host_off;
	fr->host_len = t->url.host_len;
	fr->host_ip6 = t->url.host_is_ip6;
	fr->port = t->url.port;
	fr->tls = t->url.scheme == HTTP_SCHEME_HTTPS;
	fr->path = target + t->url.path_off;
	fr->path_len = t->url.path_len;
	fr->client = &t->cc->peer.sa;
	fr->max_body = t->max_body;
	client_peer_fwd_req(t, fr);
	client_bump_fwd_req(t, fr);
}

/* Forward the request as it is into a private entry that only this
 * request reads (the reply is not cached). */
void
client_txn_forward(struct client_txn *t)
{
	struct client_ctx *ctx = t->cc->ctx;
	struct fwd_req fr;

	t->e = store_entry_new(ctx->deps.loop, comm_loop_pool(ctx->deps.loop),
	    CLIENT_WINDOW);
	if (t->e == NULL) {
		client_txn_abort(t);
		return;
	}
	client_fwd_req_init(t, &fr);
	t->fwd = fwd_start(ctx->deps.fwd, &fr, t->e, client_fwd_done, t);
	if (t->fwd == NULL) {
		client_txn_abort(t);
		return;
	}
	if (t->code == RESULT_NONE)
		t->code = RESULT_TCP_MISS;
	client_reply_start(t);
}

static void
client_fwd_done(struct fwd *f, void *arg)
{
	struct client_txn *t = arg;

	const struct sockaddr *peer;

	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	peer = fwd_peer(f);
	if (peer != NULL && t->state != TXN_DONE) {
		client_addr_set(&t->server, peer);
		t->hier = (uint8_t)fwd_hier(f);
	}
	t->fwd = NULL;
	client_txn_maybe_free(t);
}

/* -- request content ------------------------------------------------------- */

void
client_txn_body(struct client_txn *t, bool last)
{
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	if (last) {
		t->req_done = true;
		if (t->state == TXN_BODY)
			t->state = TXN_WAIT;
	}
	if (t->fwd == NULL || t->req.body == HTTP_BODY_NONE ||
	    (t->req.body == HTTP_BODY_LENGTH && t->req.content_length == 0)) {
		buf_chain_fini(&t->body);
		return;
	}
	t->body_sending = true;
	fwd_send_body(t->fwd, &t->body, last, client_body_sent, t);
}

static void
client_body_sent(struct fwd *f, bool ok, void *arg)
{
	struct client_txn *t = arg;
	struct client_conn *cc = t->cc;

	(void)f;
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	t->body_sending = false;
	if (!ok)
		t->close_after = true;	/* the rest cannot be passed on */
	if (t->state == TXN_DONE) {
		client_txn_maybe_free(t);
		return;
	}
	if (!cc->closing)
		client_conn_resume(cc);
}
