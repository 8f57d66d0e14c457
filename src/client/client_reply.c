/*
 * client_reply.c - writing a reply to the client from a store entry.
 *
 * The reply's header section is written anew for this hop: hop-by-hop
 * fields dropped, Via added, the framing chosen for this client (the
 * origin's Content-Length; else chunked for HTTP/1.1; else close; content
 * still transfer-coded: its codings named, then close).  The
 * body goes out as slices of the entry's pages, never copied.  A reply
 * whose entry is aborted after its header section went out is cut by
 * closing the connection (and a chunked one is left unterminated), so it
 * never looks complete.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "acl/acl.h"
#include "base/check.h"
#include "base/dec.h"
#include "base/log.h"
#include "client/client_int.h"
#include "client/errpage.h"
#include "http/http_out.h"

static store_reader_fn client_reply_progress;
static acl_check_fn client_reply_checked;
static void client_reply_access(struct client_txn *t);
static void client_reply_begin(struct client_txn *t);
static comm_done_fn client_reply_written;
static void client_reply_pump(struct client_txn *t);
static void client_reply_send(struct client_txn *t, struct buf_chain *out);
static int client_reply_head(struct client_txn *t, const struct http_msg *rep,
    unsigned status, http_hdr_set skip, struct buf_chain *out);

/* Room for the lines cuttle adds to a reply's header section (Via,
 * X-Cache, Age, framing), beside the stored section itself. */
#define CLIENT_REPLY_OWN_LINES	512u

/* Written by cuttle for this hop, whatever the origin sent. */
static const http_hdr_set client_reply_skip =
    HTTP_HDR_BIT(HTTP_HDR_CONTENT_LENGTH) | HTTP_HDR_BIT(HTTP_HDR_VIA);

/*
 * Lines of cuttle's own in a reply's header section, put together without
 * printf and in a buffer on the stack, which goes to the chain in one
 * append (or more when it fills): on a hit they are most of the section,
 * and vfprintf, then one append per piece, were most of its cost.
 * Errors stick: once an append failed, the rest is skipped.
 */
struct client_lines {
	struct buf_chain	*out;
	int			err;	/* 0 or -ENOMEM */
	size_t			n;
	char			b[512];
};

static void
client_lines_init(struct client_lines *l, struct buf_chain *out)
{
	l->out = out;
	l->err = 0;
	l->n = 0;
}

/* What is buffered, to the chain; 0 or -ENOMEM. */
static int
client_lines_flush(struct client_lines *l)
{
	if (l->err == 0 && l->n > 0 &&
	    buf_chain_append(l->out, l->b, l->n) != 0)
		l->err = -ENOMEM;
	l->n = 0;
	return (l->err);
}

static void
client_lines_put(struct client_lines *l, const char *s, size_t len)
{
	if (len > sizeof l->b - l->n) {
		(void)client_lines_flush(l);
		if (len > sizeof l->b) {	/* a long reason, a host */
			if (l->err == 0 && buf_chain_append(l->out, s,
			    len) != 0)
				l->err = -ENOMEM;
			return;
		}
	}
	memcpy(l->b + l->n, s, len);
	l->n += len;
}

static void
client_lines_puts(struct client_lines *l, const char *s)
{
	client_lines_put(l, s, strlen(s));
}

/* v in decimal. */
static void
client_lines_putu(struct client_lines *l, uintmax_t v)
{
	char d[DEC_MAX];
	const char *p = dec_put(d + sizeof d, v);

	client_lines_put(l, p, (size_t)(d + sizeof d - p));
}

/* "name: v\r\n" (name with its colon and space). */
static void
client_lines_field_u(struct client_lines *l, const char *name, uintmax_t v)
{
	client_lines_puts(l, name);
	client_lines_putu(l, v);
	client_lines_put(l, "\r\n", 2);
}

/* X-Cache and X-Cache-Lookup, as Squid writes them: whether the reply
 * came from the cache, and whether the cache had the URL at all. */
static void
client_reply_cache_fields(struct client_txn *t, struct client_lines *l)
{
	const struct conf *conf = t->cc->ctx->deps.conf;
	const char *lookup;

	if (t->cc->ctx->deps.store == NULL)
		return;
	lookup = t->from_store || t->role == CACHE_REVALIDATE ? "HIT" :
	    t->role == CACHE_NONE && (t->curl == NULL || t->invalidate) ?
	    "NONE" : "MISS";
	client_lines_puts(l, t->from_store ? "X-Cache: HIT from " :
	    "X-Cache: MISS from ");
	client_lines_puts(l, conf->visible_hostname);
	client_lines_puts(l, "\r\nX-Cache-Lookup: ");
	client_lines_puts(l, lookup);
	client_lines_puts(l, " from ");
	client_lines_puts(l, conf->visible_hostname);
	client_lines_put(l, ":", 1);
	client_lines_putu(l, client_local_port(t->cc));
	client_lines_put(l, "\r\n", 2);
}

/* Via: the reply's own values and cuttle's (http_out_via()); a reply
 * without one, the common case, gets cuttle's line with the others. */
static void
client_reply_via(const struct http_msg *rep, const char *host,
    struct client_lines *l)
{
	if (http_msg_field(rep, HTTP_HDR_VIA) != NULL) {
		if (client_lines_flush(l) == 0 &&
		    http_out_via(rep, host, l->out) != 0)
			l->err = -ENOMEM;
		return;
	}
	client_lines_puts(l, "Via: 1.");
	client_lines_putu(l, rep->vminor);
	client_lines_put(l, " ", 1);
	client_lines_puts(l, host);
	client_lines_puts(l, " (cuttle/" PACKAGE_VERSION ")\r\n");
}

int
client_reply_headers(struct client_txn *t, const struct http_msg *rep,
    struct buf_chain *out)
{
	http_hdr_set skip = client_reply_skip;
	unsigned status = t->status_override != 0 ? t->status_override :
	    rep->status;
	struct http_msg shown;
	int err;

	/* A stored reply goes out as it was stored, Set-Cookie and all
	 * (RFC 9111 3.1, 7.3); only its Age is computed anew (5.1). */
	if (t->from_store)
		skip |= HTTP_HDR_BIT(HTTP_HDR_AGE);
	/* 5.2.2.4: no-cache="fields": without a revalidation for this
	 * request, the reply goes without them. */
	http_msg_init(&shown, HTTP_MSG_RESPONSE);
	if (t->from_store && !t->revalidated && t->e != NULL &&
	    (store_entry_meta(t->e)->flags & HCM_NO_CACHE_FIELDS)) {
		if (http_cache_without_fields(rep, HCC_NO_CACHE_FIELDS,
		    &shown) != 0) {
			http_msg_fini(&shown);
			return (-ENOMEM);
		}
		rep = &shown;
	}
	err = client_reply_head(t, rep, status, skip, out);
	http_msg_fini(&shown);
	return (err);
}

/* The header section of rep, as client_reply_headers() decided. */
static int
client_reply_head(struct client_txn *t, const struct http_msg *rep,
    unsigned status, http_hdr_set skip, struct buf_chain *out)
{
	const struct conf *conf = t->cc->ctx->deps.conf;
	const struct http_field *cl;
	struct client_lines l;
	const char *reason;
	size_t reason_len;
	char date[40];
	bool no_body;
	int err;

	no_body = t->req.method == HTTP_M_HEAD || status < 200 ||
	    status == 204 || status == 304;
	if (status == rep->status && rep->reason.len > 0) {
		reason = http_msg_ptr(rep, rep->reason);
		reason_len = rep->reason.len;
	} else {
		reason = http_reason(status);
		reason_len = strlen(reason);
	}
	client_lines_init(&l, out);
	client_lines_put(&l, "HTTP/1.1 ", 9);
	client_lines_putu(&l, status);
	client_lines_put(&l, " ", 1);
	client_lines_put(&l, reason, reason_len);
	client_lines_put(&l, "\r\n", 2);
	err = client_lines_flush(&l);
	if (err == 0)
		err = http_out_fields(rep, skip, out);
	/* What private="..." kept out of the cache, for this request's
	 * reply alone (client_cache.c). */
	if (err == 0 && t->private_fields != NULL)
		err = buf_chain_append(out, t->private_fields,
		    t->private_fields_len);
	if (err != 0)
		return (err);
	/* RFC 9110 6.6.1: a reply passed on without Date gets one. */
	if (http_msg_field(rep, HTTP_HDR_DATE) == NULL) {
		client_lines_puts(&l, "Date: ");
		client_lines_puts(&l, http_date_format(time(NULL), date,
		    sizeof date));
		client_lines_put(&l, "\r\n", 2);
	}
	if (t->from_store)
		client_lines_field_u(&l, "Age: ", (uintmax_t)http_cache_age(
		    store_entry_meta(t->e), (int64_t)comm_now(
		    t->cc->ctx->deps.loop)));
	if (conf->via)
		client_reply_via(rep, conf->visible_hostname, &l);
	client_reply_cache_fields(t, &l);
	cl = http_msg_field(rep, HTTP_HDR_CONTENT_LENGTH);
	if (t->status_override == 206) {
		client_lines_puts(&l, "Content-Range: bytes ");
		client_lines_putu(&l, (uintmax_t)t->range_first);
		client_lines_put(&l, "-", 1);
		client_lines_putu(&l, (uintmax_t)(t->range_first +
		    t->body_left - 1));
		client_lines_put(&l, "/", 1);
		client_lines_putu(&l, (uintmax_t)t->range_len);
		client_lines_put(&l, "\r\n", 2);
		client_lines_field_u(&l, "Content-Length: ",
		    (uintmax_t)t->body_left);
	} else if (t->status_override == 416) {
		client_lines_field_u(&l, "Content-Range: bytes */",
		    (uintmax_t)t->range_len);
		client_lines_puts(&l, "Content-Length: 0\r\n");
	} else if (no_body) {
		/* For HEAD and 304 it describes the selected representation
		 * (RFC 9110 8.6): passed on as it came. */
		if (cl != NULL && status != 204 && status >= 200) {
			client_lines_puts(&l, "Content-Length: ");
			client_lines_put(&l, http_msg_ptr(rep, cl->value),
			    cl->value.len);
			client_lines_put(&l, "\r\n", 2);
		}
	} else if (http_msg_te_coded(rep)) {
		/*
		 * Content cuttle cannot decode (gzip, an unknown coding) is
		 * passed on coded, so the client must hear the codings, and
		 * only an HTTP/1.1 client may (client_reply_progress()).
		 * Close-delimited, as the origin framed it, rather than
		 * chunked on top: after "chunked, gzip" a chunked of ours
		 * would apply chunked twice (RFC 9112 6.1 forbids it), and
		 * one framing for every such reply is one to get right.
		 * These replies are rare; the lost keep-alive costs little.
		 */
		t->close_after = true;
		if (client_lines_flush(&l) == 0 &&
		    http_out_te_codings(rep, out) != 0)
			l.err = -ENOMEM;
	} else if (rep->body == HTTP_BODY_LENGTH)
		client_lines_field_u(&l, "Content-Length: ",
		    (uintmax_t)rep->content_length);
	else if (t->req.vminor >= 1) {
		t->chunked_out = true;
		client_lines_puts(&l, "Transfer-Encoding: chunked\r\n");
	} else
		t->close_after = true;	/* HTTP/1.0: the close ends it */
	if (t->close_after || !t->req.keep_alive)
		client_lines_puts(&l, "Connection: close\r\n");
	else if (t->req.vminor == 0)
		client_lines_puts(&l, "Connection: keep-alive\r\n");
	client_lines_put(&l, "\r\n", 2);
	return (client_lines_flush(&l));
}

/*
 * The interim replies t->e has for this reader, passed on (RFC 9110
 * 15.2: a proxy forwards 1xx replies it did not ask for itself), before
 * the final reply: never to an HTTP/1.0 client, which cannot take them,
 * and a 100 not when cuttle answered the client's Expect itself (fwd
 * does not forward it, so an origin's 100 is news to nobody).  They go
 * through the hop like a final reply's header section: hop-by-hop
 * fields dropped, Via added, and no Content-Length (RFC 9110 8.6).
 * false on ENOMEM.
 */
static bool
client_reply_interim(struct client_txn *t)
{
	const struct conf *conf = t->cc->ctx->deps.conf;
	const struct http_msg *m;
	struct buf_chain out;
	int err = 0;

	/* The common case, a hit or a reply without 1xx, costs one call. */
	if ((m = store_reader_interim(&t->reader)) == NULL)
		return (true);
	buf_chain_init(&out, comm_loop_pool(t->cc->ctx->deps.loop));
	for (; err == 0 && m != NULL; m = store_reader_interim(&t->reader)) {
		if (t->req.vminor == 0 || (m->status == 100 &&
		    t->req.expect_continue))
			continue;
		err = http_out_printf(&out, "HTTP/1.1 %u %.*s\r\n", m->status,
		    (int)m->reason.len, http_msg_ptr(m, m->reason));
		if (err == 0)
			err = http_out_fields(m, client_reply_skip, &out);
		if (err == 0 && conf->via)
			err = http_out_via(m, conf->visible_hostname, &out);
		if (err == 0)
			err = http_out_printf(&out, "\r\n");
	}
	if (err == 0 && buf_chain_len(&out) > 0)
		client_reply_write(t, &out);
	buf_chain_fini(&out);
	return (err == 0);
}

/* Read t->e from its start; progress comes to client_reply_progress(). */
void
client_reply_attach(struct client_txn *t)
{
	store_reader_open(&t->reader, t->e, t->cc->ctx->deps.loop,
	    client_reply_progress, t);
	t->reader_open = true;
}

void
client_reply_start(struct client_txn *t)
{
	client_reply_attach(t);
	store_reader_wait(&t->reader);
}

/* 100 Continue for a client that waits for it before sending content;
 * cuttle answers the expectation itself (fwd does not pass it on). */
void
client_reply_continue(struct client_txn *t)
{
	struct buf_chain out;

	buf_chain_init(&out, comm_loop_pool(t->cc->ctx->deps.loop));
	if (http_out_printf(&out, "HTTP/1.1 100 Continue\r\n\r\n") == 0)
		client_reply_write(t, &out);
	buf_chain_fini(&out);
}

void
client_reply_write(struct client_txn *t, struct buf_chain *out)
{
	struct client_conn *cc = t->cc;

	t->bytes_out += buf_chain_len(out);
	mgr_stats_add(cc->ctx->counters, MGR_C_BYTES_OUT,
	    buf_chain_len(out));
	if (t->from_store)
		mgr_stats_add(cc->ctx->counters, MGR_C_HIT_BYTES,
		    buf_chain_len(out));
	t->writes++;
	comm_writev(cc->conn, out, client_reply_written, t);
}

/* A reply of cuttle's own, whole: write it, then the txn is done. */
void
client_reply_write_all(struct client_txn *t, struct buf_chain *out)
{
	t->headers_sent = true;
	t->reply_complete = true;
	client_reply_write(t, out);
}

static void
client_reply_error_page(struct client_txn *t)
{
	static const enum errpage_id pages[STORE_ERR__COUNT] = {
		[STORE_ERR_NONE] = ERRPAGE_INVALID_RESP,
		[STORE_ERR_DNS] = ERRPAGE_DNS_FAIL,
		[STORE_ERR_CONNECT] = ERRPAGE_CONNECT_FAIL,
		[STORE_ERR_READ_TIMEOUT] = ERRPAGE_READ_TIMEOUT,
		[STORE_ERR_INVALID_RESP] = ERRPAGE_INVALID_RESP,
		[STORE_ERR_ZERO_SIZE] = ERRPAGE_ZERO_SIZE_OBJECT,
		[STORE_ERR_WRITE] = ERRPAGE_WRITE_ERROR,
		[STORE_ERR_TOO_BIG] = ERRPAGE_TOO_BIG_REPLY,
		[STORE_ERR_SECURE_CONNECT] = ERRPAGE_SECURE_CONNECT_FAIL,
		[STORE_ERR_CANNOT_FORWARD] = ERRPAGE_CANNOT_FORWARD,
		[STORE_ERR_NOMEM] = ERRPAGE_INVALID_RESP,
	};
	const char *detail;
	enum store_err err;
	int sys_errno;

	err = store_entry_error(t->e, &sys_errno);
	detail = store_entry_error_detail(t->e);
	if (err == STORE_ERR_SECURE_CONNECT)
		mgr_stats_add(t->cc->ctx->counters, MGR_C_TLS_FAILED, 1);
	client_txn_error(t, pages[err], detail != NULL ? detail :
	    store_err_text(err), sys_errno);
}

/* Content still transfer-coded may not go to an HTTP/1.0 client (RFC 9112
 * 6.1: a server MUST NOT send Transfer-Encoding to one), and cuttle
 * cannot decode it: 502, as Squid answers what it cannot pass on. */
static bool
client_reply_codings_ok(struct client_txn *t, const struct http_msg *rep)
{
	if (t->req.vminor >= 1 || rep->body == HTTP_BODY_NONE ||
	    !http_msg_te_coded(rep))
		return (true);
	log_msg(LG_INFO, SEC_CLIENT, "%.*s: reply with Transfer-Encoding "
	    "other than chunked for an HTTP/1.0 client: 502",
	    (int)t->req.target.len, http_msg_ptr(&t->req, t->req.target));
	return (false);
}

static void
client_reply_progress(struct store_reader *r, void *arg)
{
	struct client_txn *t = arg;
	const struct http_msg *rep;

	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	(void)r;
	if (t->state == TXN_DONE || t->headers_sent) {
		client_reply_pump(t);
		return;
	}
	if (acl_check_waiting(&t->ck))
		return;		/* http_reply_access: client_reply_begin() */
	if (!client_reply_interim(t)) {
		client_txn_abort(t);
		return;
	}
	/* An entry that ended before a reply, or before the reply's head
	 * went out (a body the origin cut, or framed wrong, in the very
	 * first read), gets the error page: nothing of it has reached the
	 * client, and a clear 502 beats a cut 200. */
	rep = store_entry_reply(t->e);
	if (store_entry_state(t->e) == STORE_ABORTED &&
	    client_cache_no_reply(t))
		rep = store_entry_reply(t->e);
	if (rep == NULL || store_entry_state(t->e) == STORE_ABORTED) {
		if (store_entry_state(t->e) == STORE_ABORTED)
			client_reply_error_page(t);
		else
			store_reader_wait(&t->reader);
		return;
	}
	if (!client_cache_reply(t))
		return;			/* another entry will answer */
	client_reply_access(t);
}

/* http_reply_access: the same rules as http_access, with the reply's
 * status for http_status acls.  The check may wait for a lookup; its
 * answer comes to client_reply_begin() either way. */
static void
client_reply_access(struct client_txn *t)
{
	const struct client_deps *d = &t->cc->ctx->deps;

	if (d->http_reply_access == NULL) {	/* no rules: no view */
		t->answer = ACL_ALLOW;
		client_reply_begin(t);
		return;
	}
	client_txn_view(t);
	t->view.status = store_entry_reply(t->e)->status;
	t->answer = (uint8_t)acl_check_start(&t->ck, d->http_reply_access,
	    &t->view, &t->lk, d->dns, ACL_ALLOW, client_reply_checked, t);
	if (t->answer != ACL_WAIT)
		client_reply_begin(t);
}

static void
client_reply_checked(struct acl_check *ck, enum acl_answer a, void *arg)
{
	struct client_txn *t = arg;

	(void)ck;
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	t->answer = (uint8_t)a;
	if (a != ACL_CANCELLED && t->state != TXN_DONE) {
		t->busy++;
		client_reply_begin(t);
		t->busy--;
	}
	client_txn_maybe_free(t);
}

/* The reply's header section, and as much body as is there, once
 * http_reply_access has answered. */
static void
client_reply_begin(struct client_txn *t)
{
	const struct http_msg *rep = store_entry_reply(t->e);
	struct buf_chain out;

	if (t->answer != ACL_ALLOW) {
		t->code = RESULT_TCP_DENIED_REPLY;
		client_txn_error(t, ERRPAGE_ACCESS_DENIED, NULL, 0);
		return;
	}
	if (!client_reply_codings_ok(t, rep)) {
		client_txn_error(t, ERRPAGE_INVALID_RESP, "the reply's "
		    "Transfer-Encoding cannot reach an HTTP/1.0 client", 0);
		return;
	}
	buf_chain_init(&out, comm_loop_pool(t->cc->ctx->deps.loop));
	/* The section in one block: the stored one and cuttle's lines (a
	 * chain's first blocks are small; one more block is one more
	 * slice to write).  Without memory, appends find their own. */
	(void)buf_chain_reserve(&out, (size_t)rep->rawlen +
	    CLIENT_REPLY_OWN_LINES);
	if (client_reply_headers(t, rep, &out) != 0) {
		buf_chain_fini(&out);
		client_txn_abort(t);
		return;
	}
	t->status = t->status_override != 0 ? t->status_override :
	    rep->status;
	t->headers_sent = true;
	client_reply_send(t, &out);
	buf_chain_fini(&out);
}

/* Append the next body slices, framed, or the end of the reply to out
 * (which may hold the header section already: a small reply goes out
 * in one write), and write it. */
static void
client_reply_send(struct client_txn *t, struct buf_chain *out)
{
	struct buf_chain body;
	size_t n;
	int err = 0;

	buf_chain_init(&body, comm_loop_pool(t->cc->ctx->deps.loop));
	n = store_reader_read(&t->reader, &body, t->limit_body &&
	    t->body_left < CLIENT_WRITE_MAX ? (size_t)t->body_left :
	    CLIENT_WRITE_MAX);
	if (t->limit_body)
		t->body_left -= n;
	if (n > 0 && t->chunked_out)
		err = http_out_printf(out, "%zx\r\n", n);
	if (err == 0)
		err = buf_chain_move(out, &body);
	if (err == 0 && n > 0 && t->chunked_out)
		err = http_out_printf(out, "\r\n");
	buf_chain_fini(&body);
	if (err == 0 && (t->limit_body ? t->body_left == 0 :
	    store_reader_done(&t->reader))) {
		if (t->chunked_out)
			err = http_out_printf(out, "0\r\n\r\n");
		t->reply_complete = true;
	}
	if (err != 0) {
		/* No memory for the framing: a reply with a piece missing
		 * must not go out as if whole.  Cut it. */
		t->end = RESULT_END_ABORTED;
		client_conn_abort(t->cc);
		return;
	}
	if (!t->reply_complete && n == 0 &&
	    store_entry_state(t->e) == STORE_ABORTED) {
		/* Cut after the header section: close, never "complete". */
		t->end = RESULT_END_ABORTED;	/* TCP_CF_HIT_ABORTED, ... */
		client_conn_abort(t->cc);
		return;
	}
	if (buf_chain_len(out) > 0)
		client_reply_write(t, out);
	else if (t->reply_complete)
		client_txn_finish(t);
	else
		store_reader_wait(&t->reader);
}

/* The next piece of the body, once the write before it is done. */
static void
client_reply_pump(struct client_txn *t)
{
	struct buf_chain out;

	if (t->writes > 0 || t->state == TXN_DONE || t->reply_complete)
		return;
	buf_chain_init(&out, comm_loop_pool(t->cc->ctx->deps.loop));
	client_reply_send(t, &out);
	buf_chain_fini(&out);
}

static void
client_reply_written(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct client_txn *t = arg;

	(void)c;
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	t->writes--;
	if (res->status != COMM_OK && t->state != TXN_DONE) {
		/* Squid's _TIMEDOUT: the client stopped taking bytes. */
		if (res->status == COMM_TIMEOUT)
			t->end = RESULT_END_TIMEDOUT;
		client_conn_abort(t->cc);	/* ends the txn too */
		return;
	}
	if (res->status != COMM_OK) {
		client_txn_maybe_free(t);
		return;
	}
	if (t->state == TXN_DONE) {
		client_txn_maybe_free(t);
		return;
	}
	if (t->reply_complete) {
		if (t->writes == 0)
			client_txn_finish(t);
		return;
	}
	if (t->headers_sent && t->reader_open)
		client_reply_pump(t);
}
