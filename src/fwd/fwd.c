/*
 * fwd.c - forwarding one request: resolve, connect, send, read the reply
 * into the store entry.
 *
 *	RESOLVE --> CONNECT --> (request out) --> REPLY --> BODY --> END
 *	   |           |  ^ next address              |
 *	   +-----------+--+-------------------------> END (entry aborted)
 *
 * https: CONNECT is followed by the TLS handshake (comm_tls_start()),
 * and only then is the request queued, behind it: comm_tls_start() wants
 * a connection with nothing pending.  The handshake counts as connecting
 * (a read that fails meanwhile fails with it, and fwd_handshaken()
 * decides); its deadline is connect_timeout again, from its start.  A
 * failed handshake is not tried on the next address: the same server
 * name gives the same certificate.
 *
 * Accounting: f->pending counts what is outstanding on the fwd's behalf
 * (a lookup, a connect or read or write completion, a queued call).  The
 * fwd ends once the entry has ended (or the fwd was cancelled) and
 * nothing is pending; then done runs, from the loop, and the fwd is
 * freed.  Every path that finishes something goes through fwd_end().
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "fwd/fwd.h"
#include "fwd/fwd_int.h"
#include "http/http_hdr.h"
#include "http/http_out.h"
#include "tls/tls.h"
#include "tls/tls_mint.h"

#define FWD_READ_MAX	(64 * 1024)

static comm_done_fn fwd_connected, fwd_handshaken, fwd_read_done,
    fwd_hdr_written, fwd_body_written;
static comm_call_fn fwd_done_call, fwd_sent_call, fwd_nowhere;
static store_room_fn fwd_room;
static dns_done_fn fwd_resolved;
static void fwd_connect_next(struct fwd *f);
static void fwd_read(struct fwd *f);
static void fwd_send_request(struct fwd *f);
static void fwd_send_queued(struct fwd *f);
static void fwd_hop_start(struct fwd *f);
static void fwd_hop_release(struct fwd *f);
static bool fwd_next_hop(struct fwd *f);
static bool fwd_next_hop_after(struct fwd *f, bool failed);
static bool fwd_sibling_only_cached(const struct fwd *f);

/* Release what the fwd still holds and, once nothing is pending, say so
 * to the owner.  May be called any number of times. */
static void
fwd_maybe_finish(struct fwd *f)
{
	if (f->pending > 0 || f->finishing || !f->ended)
		return;
	f->finishing = true;
	comm_call_post(f->ctx->loop, &f->done_call);
}

/* The entry is over: complete or aborted with err.  The connection goes
 * back to the pool if it can carry another request, else it is closed. */
static void
fwd_end(struct fwd *f, enum store_err err, int sys_errno)
{
	if (f->queued != NULL) {	/* it never had a connection */
		comm_call_post(f->ctx->loop, &f->queued->call);
		f->queued = NULL;
	}
	if (!f->ended) {
		f->ended = true;
		if (err == STORE_ERR_NONE)
			store_entry_complete(f->e);
		else
			store_entry_abort_detail(f->e, err, sys_errno,
			    f->detail[0] != '\0' ? f->detail : NULL);
		store_entry_wait_room(f->e, NULL, NULL);
	}
	if (f->conn != NULL) {
		if (err == STORE_ERR_NONE && f->reusable)
			fwd_pool_put(f->ctx, &f->conn, f->key, f->peer);
		else if (err == STORE_ERR_NONE)
			comm_close_clean(&f->conn);	/* close_notify */
		else
			comm_close(&f->conn);
	}
	fwd_maybe_finish(f);
}

/* One string for both: "host:port" keys the pool, its first host_len
 * bytes are what DNS is asked.  A TLS connection's key names the context
 * it was verified under too, and the certificate errors it was allowed:
 * never one for plain http, another origin, another context or other
 * errors.  malloc'd; NULL on ENOMEM. */
static char *
fwd_key(const struct fwd_ctx *ctx, const char *host, size_t host_len,
    uint16_t port, bool tls, const int *allowed, size_t nallowed)
{
	size_t len = host_len + 32 + 12 * FWD_TLS_ALLOWED, n, i;
	char *key = malloc(len);

	if (key == NULL)
		return (NULL);
	if (!tls) {
		snprintf(key, len, "%.*s:%u", (int)host_len, host, port);
		return (key);
	}
	n = (size_t)snprintf(key, len, "%.*s:%u tls/%u", (int)host_len, host,
	    port, ctx->tls_gen);
	for (i = 0; i < nallowed && i < FWD_TLS_ALLOWED; i++)
		n += (size_t)snprintf(key + n, len - n, "%s%d", i == 0 ?
		    " allow/" : ",", allowed[i]);
	return (key);
}

void
fwd_keep_idle(struct fwd_ctx *ctx, struct comm_conn **cp, const char *host,
    size_t host_len, uint16_t port, unsigned tls_gen, const int *allowed,
    size_t nallowed, const struct sockaddr *peer)
{
	struct sockaddr_storage ss;
	char *key;

	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	key = tls_gen == ctx->tls_gen && peer != NULL ? fwd_key(ctx, host,
	    host_len, port, true, allowed, nallowed) : NULL;
	if (key == NULL) {	/* another context since: not reusable */
		comm_close(cp);
		return;
	}
	memset(&ss, 0, sizeof ss);
	memcpy(&ss, peer, peer->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	fwd_pool_put(ctx, cp, key, &ss);
	free(key);
}

struct fwd *
fwd_start(struct fwd_ctx *ctx, const struct fwd_req *req,
    struct store_entry *e, fwd_done_fn *done, void *arg)
{
	const struct http_msg *m = req->msg;
	const struct http_field *pa;
	struct fwd *f;
	size_t i;
	bool to_peer = false;

	CHECK_OBJ_NOTNULL(ctx, FWD_CTX_MAGIC);
	CHECK_OBJ_NOTNULL(m, HTTP_MSG_MAGIC);
	ALLOC_OBJ(f, FWD_MAGIC);
	if (f == NULL)
		return (NULL);
	f->ctx = ctx;
	f->done = done;
	f->arg = arg;
	f->origin_port = req->port;
	f->origin_tls = req->tls;
	f->max_body = req->max_body;
	f->on_reply = req->on_reply;
	f->reply_arg = req->reply_arg;
	f->head = m->method == HTTP_M_HEAD;
	f->idempotent = (http_method_flags(m->method) & HM_IDEMPOTENT) &&
	    m->body == HTTP_BODY_NONE;
	f->body_chunked = m->body == HTTP_BODY_CHUNKED;
	f->body_done = m->body == HTTP_BODY_NONE ||
	    (m->body == HTTP_BODY_LENGTH && m->content_length == 0);
	comm_call_init(&f->done_call, fwd_done_call);
	buf_chain_init(&f->reqhdr, comm_loop_pool(ctx->loop));
	buf_chain_init(&f->peerhdr, comm_loop_pool(ctx->loop));
	http_msg_init(&f->reply, HTTP_MSG_RESPONSE);
	if (req->peers != NULL) {
		f->peers = req->peers;
		fwd_peers_ref(f->peers);
		f->nhops = req->nhops < FWD_MAX_HOPS ? req->nhops :
		    FWD_MAX_HOPS;
		memcpy(f->hops, req->hops, f->nhops * sizeof f->hops[0]);
	} else {
		f->nhops = 1;
		f->hops[0].peer = -1;
		f->hops[0].code = FWD_HIER_DIRECT;
	}
	for (i = 0; i < f->nhops; i++)
		if (f->hops[i].peer >= 0)
			to_peer = true;
	f->origin = strndup(req->host, req->host_len);
	f->parser = http_parser_new(HTTP_MSG_RESPONSE,
	    (size_t)ctx->conf->reply_header_max_size);
	if (req->tls)
		f->sni = strndup(req->host, req->host_len);
	pa = http_msg_field(m, HTTP_HDR_PROXY_AUTHORIZATION);
	if (to_peer && pa != NULL)
		f->passthru = strndup(http_msg_ptr(m, pa->value),
		    pa->value.len);
	if (f->origin == NULL || f->parser == NULL || (req->tls && f->sni ==
	    NULL) || (to_peer && pa != NULL && f->passthru == NULL) ||
	    fwd_build_request(req, ctx->conf, &f->reqhdr) != 0 ||
	    (to_peer && fwd_build_head(req, ctx->conf, true,
	    &f->peerhdr) != 0)) {
		fwd_free(f);
		return (NULL);
	}
	for (i = 0; req->tls && i < req->ntls_allowed && i < FWD_TLS_ALLOWED;
	    i++)
		f->tls_allowed[i] = req->tls_allowed[i];
	f->ntls_allowed = (uint8_t)i;
	f->e = e;
	store_entry_ref(e);
	ctx->nfwd++;
	ctx->stats.requests++;
	if (f->nhops == 0) {
		/* never_direct, and no parent to take it: said from the
		 * loop, after the caller has set up its reader. */
		comm_call_init(&f->nowhere_call, fwd_nowhere);
		f->pending++;
		comm_call_post(ctx->loop, &f->nowhere_call);
		return (f);
	}
	fwd_hop_start(f);
	return (f);
}

static void
fwd_nowhere(struct comm_call *call)
{
	struct fwd *f = container_of(call, struct fwd, nowhere_call);

	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	f->pending--;
	fwd_end(f, STORE_ERR_CANNOT_FORWARD, 0);
}

/* Set the fwd for hops[hop]: the origin, or a peer (plain HTTP to it,
 * whatever the URL's scheme), and look its host up.  A connection to
 * a peer is counted in its conn_open (max-conn) while the fwd uses it. */
static void
fwd_hop_start(struct fwd *f)
{
	const struct fwd_hop *h = &f->hops[f->hop];
	const char *host;
	size_t size;

	fwd_hop_release(f);
	f->pe = h->peer >= 0 ? &f->peers->v[h->peer] : NULL;
	host = f->pe != NULL ? f->pe->host : f->origin;
	f->port = f->pe != NULL ? f->pe->http_port : f->origin_port;
	f->tls = f->pe != NULL ? f->pe->tls != NULL : f->origin_tls;
	f->host_len = strlen(host);
	f->naddrs = 0;
	f->next_addr = 0;
	f->peer = NULL;
	/* The pool key (fwd_key()); a peer's names the peer, whatever
	 * the URL's scheme. */
	free(f->key);
	if (f->pe != NULL) {
		size = f->host_len + 48;
		f->key = malloc(size);
		if (f->key != NULL)
			snprintf(f->key, size, "%s:%u peer%s", host, f->port,
			    f->tls ? " tls" : "");
	} else
		f->key = fwd_key(f->ctx, host, f->host_len, f->port, f->tls,
		    f->tls_allowed, f->ntls_allowed);
	if (f->key == NULL) {
		fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
		return;
	}
	if (f->pe != NULL) {
		f->pe->conn_open++;
		f->pe->fetches++;
		f->pe_held = true;
		if (h->code == FWD_HIER_ROUNDROBIN_PARENT)
			f->pe->rr_count++;
	}
	f->pending++;
	f->dnsq = dns_lookup(f->ctx->dns, f->key, f->host_len,
	    fwd_resolved, f);
	if (f->dnsq == NULL) {
		f->pending--;
		fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
	}
}

/* The peer of the hop left behind no longer counts this fwd. */
static void
fwd_hop_release(struct fwd *f)
{
	if (f->pe_held) {
		f->pe->conn_open--;
		f->pe_held = false;
	}
}

/* The hop in use is a sibling asked with only-if-cached. */
static bool
fwd_sibling_only_cached(const struct fwd *f)
{
	return (f->pe != NULL && f->pe->type == FWD_PEER_SIBLING &&
	    !(f->pe->options & FWD_PEER_ALLOW_MISS));
}

/* The hop in use failed before anything was lost: a peer counts it, and
 * the next candidate is tried, if there is one and the request can be
 * sent again (none of its content went out).  False: the failure is
 * the request's. */
static bool
fwd_next_hop(struct fwd *f)
{
	return (fwd_next_hop_after(f, true));
}

/* The same; failed false: the peer did nothing wrong (a sibling that
 * does not have the object after all). */
static bool
fwd_next_hop_after(struct fwd *f, bool failed)
{
	if (f->pe != NULL && failed)
		fwd_peer_failed(f->peers, f->pe, comm_now(f->ctx->loop));
	if (f->hop + 1 >= f->nhops || f->body_started || f->ended)
		return (false);
	/* A peer that failed is cache.log news, as Squid's failed
	 * connection to a peer is. */
	log_msg(f->pe != NULL && failed ? LG_NOTICE : LG_INFO, SEC_FWD,
	    "%s: %s%s failed; trying %s next", f->key,
	    f->pe != NULL ? "cache_peer " : "", f->pe != NULL ?
	    f->pe->name : "the origin", f->hops[f->hop + 1].peer >= 0 ?
	    f->peers->v[f->hops[f->hop + 1].peer].name : "the origin");
	if (f->conn != NULL)
		comm_close(&f->conn);
	if (f->parser_started) {
		/* The failed hop's reply head (a 504, a partial one) goes
		 * with its parser: the next hop's is parsed afresh. */
		http_msg_fini(&f->reply);
		http_msg_init(&f->reply, HTTP_MSG_RESPONSE);
		http_parser_free(&f->parser);
		f->parser = http_parser_new(HTTP_MSG_RESPONSE,
		    (size_t)f->ctx->conf->reply_header_max_size);
		if (f->parser == NULL) {
			fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
			return (true);
		}
		f->parser_started = false;
	}
	f->reused = false;
	f->retried = false;
	f->got_reply_byte = false;
	f->hop++;
	fwd_hop_start(f);
	return (true);
}

static void
fwd_resolved(struct dns_query *q, const struct dns_result *res, void *arg)
{
	struct fwd *f = arg;
	const struct dns_answer *ans = res->ans;
	unsigned i;

	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	(void)q;
	f->dnsq = NULL;
	f->pending--;
	if (f->ended) {
		fwd_maybe_finish(f);
		return;
	}
	if (res->status != DNS_OK || ans == NULL || ans->naddrs == 0) {
		log_msg(LG_INFO, SEC_FWD, "%s: lookup failed: %s", f->key,
		    res->reason != NULL ? res->reason :
		    dns_status_name(res->status));
		f->dns_reason = res->reason;
		if (fwd_next_hop(f))
			return;
		fwd_end(f, STORE_ERR_DNS, 0);
		return;
	}
	f->naddrs = ans->naddrs < FWD_MAX_ADDRS ? ans->naddrs : FWD_MAX_ADDRS;
	for (i = 0; i < f->naddrs; i++) {
		memset(&f->addrs[i], 0, sizeof f->addrs[i]);
		memcpy(&f->addrs[i], &ans->addrs[i].sa,
		    dns_addr_len(&ans->addrs[i]));
	}
	f->conn = fwd_pool_take(f->ctx, f->key, &f->addrs[0]);
	if (f->conn != NULL) {
		f->peer = &f->addrs[0];
		f->reused = true;
		f->ctx->stats.conns_reused++;
		fwd_send_request(f);
		return;
	}
	fwd_connect_next(f);
}

/* Try the next address of the host; the last failure is the answer. */
static void
fwd_connect_next(struct fwd *f)
{
	struct sockaddr_storage *ss;

	if (f->next_addr >= f->naddrs) {
		if (fwd_next_hop(f))
			return;
		fwd_end(f, STORE_ERR_CONNECT, f->last_errno);
		return;
	}
	ss = &f->addrs[f->next_addr++];
	fwd_set_port(ss, f->port);
	f->peer = ss;
	f->pending++;
	f->conn = comm_connect(f->ctx->loop, (struct sockaddr *)ss,
	    fwd_addrlen(ss), f->pe != NULL && f->pe->connect_timeout > 0 ?
	    f->pe->connect_timeout : f->ctx->conf->connect_timeout,
	    fwd_connected, f);
	if (f->conn == NULL) {
		f->pending--;
		fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
		return;
	}
	f->ctx->stats.conns_opened++;
	f->connecting = true;
	if (f->tls) {
		f->tls_wait = true;	/* fwd_connected() goes on */
		return;
	}
	fwd_send_request(f);
}

/* Connected: TLS over it, and the request queued behind the handshake. */
static void
fwd_tls_start(struct fwd *f)
{
	struct ssl_st *ssl;

	f->tls_wait = false;
	/* A tls peer: its own context, its tls-domain= or host checked,
	 * and sslproxy_cert_error (the origin's) has no say. */
	if (f->pe != NULL) {
		ssl = tls_client_new(f->pe->tls, f->pe->tls_domain != NULL ?
		    f->pe->tls_domain : f->pe->host, f->port);
		if (ssl == NULL) {
			fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
			return;
		}
		goto start;
	}
	if (f->ctx->tls == NULL) {
		snprintf(f->detail, sizeof f->detail,
		    "SQUID_ERR_SSL_HANDSHAKE: no TLS context");
		fwd_end(f, STORE_ERR_SECURE_CONNECT, 0);
		return;
	}
	ssl = tls_client_new(f->ctx->tls, f->sni, f->port);
	if (ssl == NULL || (f->ntls_allowed > 0 &&
	    tls_client_keep_errors(ssl) != 0)) {
		tls_ssl_free(ssl);
		fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
		return;
	}
start:
	f->pending++;
	if (comm_tls_start(f->conn, ssl, f->ctx->conf->connect_timeout,
	    fwd_handshaken, f) != 0) {
		f->pending--;
		tls_ssl_free(ssl);
		fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
		return;
	}
	/* With errors allowed, nothing goes out before they are judged. */
	if (f->ntls_allowed == 0 || f->pe != NULL)
		fwd_send_request(f);
}

/* Every error the handshake recorded is one the request allows: NULL,
 * else the name of the first that is not. */
static const char *
fwd_tls_judge(const struct fwd *f, struct comm_conn *c)
{
	int codes[16];
	size_t i, j, n;

	n = tls_verify_errors(comm_tls_ssl(c), codes, 16);
	for (i = 0; i < n; i++) {
		for (j = 0; j < f->ntls_allowed; j++)
			if (codes[i] == f->tls_allowed[j])
				break;
		if (j == f->ntls_allowed)
			return (tls_verify_name(codes[i]));
	}
	return (NULL);
}

static void
fwd_handshaken(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct fwd *f = arg;
	const char *why;

	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	f->pending--;
	if (c == f->conn)
		f->connecting = false;
	if (res->status == COMM_OK && f->ntls_allowed > 0 && f->pe == NULL &&
	    !f->ended && c == f->conn) {
		why = fwd_tls_judge(f, c);
		if (why == NULL) {
			fwd_send_request(f);
			return;
		}
		snprintf(f->detail, sizeof f->detail, "%s", why);
		log_msg(LG_NOTICE, SEC_FWD, "%s: TLS certificate refused: %s",
		    f->key, f->detail);
		fwd_end(f, STORE_ERR_SECURE_CONNECT, 0);
		return;
	}
	if (res->status == COMM_OK && c == f->conn && f->pe != NULL)
		fwd_peer_succeeded(f->peers, f->pe);
	if (res->status == COMM_OK || f->ended || c != f->conn) {
		fwd_maybe_finish(f);
		return;
	}
	fwd_tls_failure(c, res, f->detail, sizeof f->detail);
	log_msg(LG_NOTICE, SEC_FWD, "%s: TLS handshake failed: %s", f->key,
	    f->detail);
	/* A tls peer that fails its handshake is a peer that failed. */
	if (f->pe != NULL && fwd_next_hop(f))
		return;
	fwd_end(f, STORE_ERR_SECURE_CONNECT, res->status == COMM_TIMEOUT ?
	    ETIMEDOUT : res->err);
}

static void
fwd_connected(struct comm_conn *c, const struct comm_result *res, void *arg)
{
	struct fwd *f = arg;

	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	f->pending--;
	if (res->status == COMM_OK && f->tls_wait && c == f->conn &&
	    !f->ended) {
		fwd_tls_start(f);	/* still connecting */
		return;
	}
	if (c == f->conn)
		f->connecting = false;
	if (res->status == COMM_OK && c == f->conn && f->pe != NULL)
		fwd_peer_succeeded(f->peers, f->pe);
	if (res->status == COMM_OK || f->ended || c != f->conn) {
		fwd_maybe_finish(f);
		return;
	}
	/* This address failed: its queued request write and read fail with
	 * it (and are counted out as they complete).  Next address. */
	f->last_errno = res->status == COMM_TIMEOUT ? ETIMEDOUT : res->err;
	log_msg(LG_INFO, SEC_FWD, "%s: connect failed: %s", f->key,
	    strerror(f->last_errno));
	comm_close(&f->conn);
	if (f->body_started) {
		if (f->pe != NULL)
			fwd_peer_failed(f->peers, f->pe,
			    comm_now(f->ctx->loop));
		fwd_end(f, STORE_ERR_CONNECT, f->last_errno);
		return;
	}
	fwd_connect_next(f);
}

/* The request header section, as references to the kept copy: a retry
 * or the next address sends it again. */
static void
fwd_send_request(struct fwd *f)
{
	struct buf_chain out;
	struct buf_chain *hdr = f->pe != NULL ? &f->peerhdr : &f->reqhdr;
	unsigned i;
	const struct buf_slice *s;
	int err = 0;

	buf_chain_init(&out, comm_loop_pool(f->ctx->loop));
	for (i = 0; i < buf_chain_nslices(hdr) && err == 0; i++) {
		s = buf_chain_slice(hdr, i);
		err = buf_chain_append_slice(&out, s->buf, s->off, s->len);
	}
	/* login=: credentials for this peer only, never the origin. */
	if (err == 0 && f->pe != NULL && f->pe->login_type ==
	    FWD_LOGIN_BASIC)
		err = http_out_printf(&out, "Proxy-Authorization: %s\r\n",
		    f->pe->login);
	else if (err == 0 && f->pe != NULL && f->pe->login_type ==
	    FWD_LOGIN_PASSTHRU && f->passthru != NULL)
		err = http_out_printf(&out, "Proxy-Authorization: %s\r\n",
		    f->passthru);
	/* A sibling is asked only for what it has: its miss must never be
	 * fetched through it (Squid's neighbor rule), unless allow-miss. */
	if (err == 0 && fwd_sibling_only_cached(f))
		err = http_out_printf(&out, "Cache-Control: only-if-cached\r\n");
	if (err == 0 && f->pe != NULL)
		err = http_out_printf(&out, "\r\n");
	if (err != 0) {
		buf_chain_fini(&out);
		fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
		return;
	}
	comm_set_timeout(f->conn, COMM_TO_READ, f->ctx->conf->read_timeout);
	comm_set_timeout(f->conn, COMM_TO_WRITE, f->ctx->conf->write_timeout);
	f->pending++;
	comm_writev(f->conn, &out, fwd_hdr_written, f);
	buf_chain_fini(&out);
	if (f->queued != NULL)
		fwd_send_queued(f);
	/* A pooled connection's idle read is being cancelled: its
	 * completion comes before this write's, and only then may another
	 * read start (fwd_pool.c). */
	if (f->reused)
		f->read_after_write = true;
	else
		fwd_read(f);
}

static void
fwd_hdr_written(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct fwd *f = arg;

	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	f->pending--;
	/* A failed write shows in the read as well (reset or EOF), which
	 * decides about a retry; here there is nothing more to do. */
	(void)res;
	if (f->read_after_write && !f->ended && c == f->conn) {
		f->read_after_write = false;
		fwd_read(f);
		return;
	}
	fwd_maybe_finish(f);
}

static void
fwd_read(struct fwd *f)
{
	f->pending++;
	comm_read(f->conn, NULL, FWD_READ_MAX, fwd_read_done, f);
}

/* The hop failed before a reply head was taken (a reset, a stall,
 * garbage, a cut head): nothing of it reached the client or the cache,
 * so an idempotent request may go to the next candidate. */
static bool
fwd_may_next_hop(const struct fwd *f)
{
	return (f->idempotent && !f->have_reply);
}

/* A pooled connection the origin had closed fails before any reply byte:
 * an idempotent request without content goes once more, on a new one. */
static bool
fwd_retry(struct fwd *f)
{
	if (!f->reused || f->retried || f->got_reply_byte || !f->idempotent)
		return (false);
	f->retried = true;
	f->reused = false;
	f->ctx->stats.retries++;
	comm_close(&f->conn);
	http_parser_free(&f->parser);
	f->parser = http_parser_new(HTTP_MSG_RESPONSE,
	    (size_t)f->ctx->conf->reply_header_max_size);
	if (f->parser == NULL) {
		fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
		return (true);
	}
	f->parser_started = false;
	f->next_addr = 0;
	fwd_connect_next(f);
	return (true);
}

static void
fwd_body_piece(void *arg, const char *at, size_t len)
{
	struct fwd *f = arg;
	const unsigned char *base = buf_data(f->rbuf);

	if (f->ended || f->failed || f->too_big)
		return;
	f->body_seen += len;
	if (f->max_body != 0 && f->body_seen > f->max_body) {
		f->too_big = true;	/* cut: its head has gone out */
		return;
	}
	if (store_entry_append(f->e, f->rbuf, (size_t)((const unsigned char *)
	    at - base), len) != 0)
		f->failed = true;
}

/* Headers of a reply.  An interim one (1xx, RFC 9110 15.2) goes to the
 * entry's readers and is not stored; the parser then ends it (it has no
 * content) and the next reply is read.  101 is refused: cuttle forwards
 * no Upgrade, so no switch of protocols was asked for (RFC 9110 15.2.2).
 * The final reply's headers become the entry's. */
static bool
fwd_reply_headers(struct fwd *f)
{
	if (f->reply.status == 101) {
		log_msg(LG_INFO, SEC_FWD, "%s: invalid reply: 101 Switching "
		    "Protocols without an Upgrade asked for", f->key);
		fwd_end(f, STORE_ERR_INVALID_RESP, 0);
		return (false);
	}
	if (f->reply.status < 200) {
		f->ctx->stats.interim++;
		if (store_entry_add_interim(f->e, &f->reply) != 0) {
			fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
			return (false);
		}
		return (true);
	}
	/* A sibling asked only-if-cached that has nothing (504, RFC 9111
	 * 5.2.1.7; a stale ICP HIT, or one that lied), or any hop's 502 or
	 * 504 (Squid's reforwardable statuses): nothing of it is kept,
	 * the next candidate is asked. */
	if ((f->reply.status == 504 && fwd_sibling_only_cached(f)) ||
	    ((f->reply.status == 502 || f->reply.status == 504) &&
	    fwd_may_next_hop(f))) {
		if (fwd_next_hop_after(f, false))
			return (false);
	}
	/* reply_body_max_size: a reply known to be too big is refused
	 * before anything of it goes out (ERR_TOO_BIG). */
	if (f->max_body != 0 && f->reply.body == HTTP_BODY_LENGTH &&
	    f->reply.content_length > f->max_body) {
		fwd_end(f, STORE_ERR_TOO_BIG, 0);
		return (false);
	}
	f->keep_alive = f->reply.keep_alive;
	if (f->on_reply != NULL)
		f->on_reply(f->e, &f->reply, f->reply_arg);
	store_entry_set_reply(f->e, &f->reply);
	f->have_reply = true;
	return (true);
}

/* Parse what one read brought: headers, body pieces, the end. */
static void
fwd_parse(struct fwd *f, const char *data, size_t len)
{
	enum http_parse_status st;
	size_t used;

	while (!f->ended) {
		if (!f->parser_started) {
			http_parser_start(f->parser, &f->reply, f->head);
			f->parser_started = true;
		}
		st = http_parse(f->parser, data, len, &used, fwd_body_piece, f);
		data += used;
		len -= used;
		if (f->failed) {
			fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
			return;
		}
		if (f->too_big) {
			log_msg(LG_INFO, SEC_FWD, "%s: reply over "
			    "reply_body_max_size: cut", f->key);
			fwd_end(f, STORE_ERR_TOO_BIG, 0);
			return;
		}
		switch (st) {
		case HTTP_PARSE_AGAIN:
			return;
		case HTTP_PARSE_HEADERS:
			if (!fwd_reply_headers(f))
				return;
			break;
		case HTTP_PARSE_DONE:
			if (!f->have_reply) {
				/* An interim reply ended: the next one is
				 * parsed into the same (emptied) message. */
				f->parser_started = false;
				break;
			}
			f->reusable = f->keep_alive && f->body_done &&
			    len == 0;
			fwd_end(f, STORE_ERR_NONE, 0);
			return;
		case HTTP_PARSE_ERROR:
			log_msg(LG_INFO, SEC_FWD, "%s: invalid reply: %s",
			    f->key, http_err_text(http_parser_error(
			    f->parser)));
			/* Garbage instead of a reply head (a peer that does
			 * not speak HTTP): nothing went out, the next
			 * candidate may answer. */
			if (fwd_may_next_hop(f) && fwd_next_hop(f))
				return;
			fwd_end(f, STORE_ERR_INVALID_RESP, 0);
			return;
		}
	}
}

static void
fwd_read_done(struct comm_conn *c, const struct comm_result *res, void *arg)
{
	struct fwd *f = arg;
	enum http_parse_status st;

	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	f->pending--;
	/* read_timeout counts from the request, connecting included: a
	 * connect still under way when it passes may yet succeed, and with
	 * no read left the fwd would wait for ever. */
	if (!f->ended && c == f->conn && f->connecting &&
	    res->status == COMM_TIMEOUT) {
		fwd_end(f, STORE_ERR_READ_TIMEOUT, ETIMEDOUT);
		return;
	}
	/* While connecting, a failure here is the connect's: fwd_connected()
	 * decides (the next address), whichever completion comes first. */
	if (f->ended || c != f->conn || (f->connecting &&
	    res->status != COMM_OK)) {
		fwd_maybe_finish(f);
		return;
	}
	switch (res->status) {
	case COMM_OK:
		f->got_reply_byte = true;
		f->rbuf = res->data.buf;
		fwd_parse(f, (const char *)buf_slice_ptr(&res->data),
		    res->data.len);
		f->rbuf = NULL;
		if (f->ended || c != f->conn)	/* over, or the next hop */
			return;
		if (store_entry_room(f->e) > 0)
			fwd_read(f);
		else
			store_entry_wait_room(f->e, fwd_room, f);
		return;
	case COMM_EOF:
		if ((!f->got_reply_byte && fwd_retry(f)) ||
		    (fwd_may_next_hop(f) && fwd_next_hop(f)))
			return;
		if (!f->parser_started) {
			fwd_end(f, STORE_ERR_ZERO_SIZE, 0);
			return;
		}
		st = http_parse_eof(f->parser, fwd_body_piece, f);
		/* A reply that ends with the stream (close-delimited) ends
		 * where the server meant only if TLS said so: a bare EOF
		 * may be anyone's cut (RFC 8446 6.1). */
		if (st == HTTP_PARSE_DONE && f->have_reply &&
		    comm_tls_cut(c)) {
			log_msg(LG_NOTICE, SEC_FWD, "%s: reply cut: the server "
			    "closed without close_notify", f->key);
			fwd_end(f, STORE_ERR_INVALID_RESP, 0);
			return;
		}
		if (st == HTTP_PARSE_DONE && f->have_reply) {
			f->reusable = false;
			fwd_end(f, STORE_ERR_NONE, 0);
		} else
			fwd_end(f, f->got_reply_byte ? STORE_ERR_INVALID_RESP :
			    STORE_ERR_ZERO_SIZE, 0);
		return;
	case COMM_TIMEOUT:
		/* A hop that stalls (accepts, never answers): Squid's
		 * read timeout, then its retry on the next destination. */
		if (fwd_may_next_hop(f) && fwd_next_hop(f))
			return;
		fwd_end(f, STORE_ERR_READ_TIMEOUT, ETIMEDOUT);
		return;
	case COMM_ERROR:
		if ((!f->got_reply_byte && fwd_retry(f)) ||
		    (fwd_may_next_hop(f) && fwd_next_hop(f)))
			return;
		fwd_end(f, f->got_reply_byte ? STORE_ERR_INVALID_RESP :
		    STORE_ERR_ZERO_SIZE, res->err);
		return;
	case COMM_CANCELLED:
		fwd_maybe_finish(f);
		return;
	}
}

/* The reader made room in the private entry, or left. */
static void
fwd_room(struct store_entry *e, void *arg)
{
	struct fwd *f = arg;

	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	if (f->ended)
		return;
	if (store_entry_nreaders(e) == 0 && f->have_reply) {
		fwd_end(f, STORE_ERR_WRITE, 0);	/* nobody to read it */
		return;
	}
	fwd_read(f);
}

/* -- request content ------------------------------------------------------ */


static void
fwd_sent_finish(struct fwd_send *s)
{
	struct fwd *f = s->f;
	fwd_sent_fn *sent = s->sent;
	void *arg = s->arg;

	if (f->queued == s)
		f->queued = NULL;
	buf_chain_fini(&s->chain);
	s->busy = false;	/* sent() may send the next piece */
	sent(f, s->ok, arg);
	f->pending--;
	fwd_maybe_finish(f);
}

static void
fwd_sent_call(struct comm_call *call)
{
	fwd_sent_finish(container_of(call, struct fwd_send, call));
}

static void
fwd_body_written(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct fwd_send *s = arg;

	(void)c;
	s->ok = res->status == COMM_OK;
	fwd_sent_finish(s);
}

void
fwd_send_body(struct fwd *f, struct buf_chain *chain, bool last,
    fwd_sent_fn *sent, void *arg)
{
	struct buf_chain framed;
	struct fwd_send *s;
	size_t len = buf_chain_len(chain);

	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	CHECK(!f->body_done);
	s = &f->send;
	CHECK(!s->busy);	/* one piece at a time (fwd.h) */
	s->f = f;
	s->sent = sent;
	s->arg = arg;
	s->busy = true;
	s->ok = false;
	buf_chain_init(&s->chain, comm_loop_pool(f->ctx->loop));
	comm_call_init(&s->call, fwd_sent_call);
	f->pending++;
	f->body_started = true;
	if (last)
		f->body_done = true;
	if (f->ended) {
		buf_chain_fini(chain);
		comm_call_post(f->ctx->loop, &s->call);
		return;
	}
	buf_chain_init(&framed, comm_loop_pool(f->ctx->loop));
	if (f->body_chunked && len > 0 &&
	    http_out_printf(&framed, "%zx\r\n", len) != 0)
		goto nomem;
	if (buf_chain_move(&framed, chain) != 0)
		goto nomem;
	if (f->body_chunked && len > 0 &&
	    http_out_printf(&framed, "\r\n") != 0)
		goto nomem;
	if (f->body_chunked && last &&
	    http_out_printf(&framed, "0\r\n\r\n") != 0)
		goto nomem;
	if (f->conn == NULL || f->tls_wait) {
		/* Still resolving (or connecting, under TLS): the piece waits
		 * for the request's head (the client sends one piece at a
		 * time, so one waits at most). */
		CHECK(f->queued == NULL);
		AZ(buf_chain_move(&s->chain, &framed));
		f->queued = s;
		buf_chain_fini(&framed);
		return;
	}
	comm_writev(f->conn, &framed, fwd_body_written, s);
	buf_chain_fini(&framed);
	return;
nomem:
	buf_chain_fini(&framed);
	buf_chain_fini(chain);
	comm_call_post(f->ctx->loop, &s->call);
	fwd_end(f, STORE_ERR_NOMEM, ENOMEM);
}

/* The content piece that came before the connection: after the header
 * section, on the connection now there. */
static void
fwd_send_queued(struct fwd *f)
{
	struct fwd_send *s = f->queued;

	f->queued = NULL;
	comm_writev(f->conn, &s->chain, fwd_body_written, s);
}

/* -- the end --------------------------------------------------------------- */

void
fwd_cancel(struct fwd *f)
{
	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	f->reusable = false;
	if (f->dnsq != NULL)
		dns_cancel(&f->dnsq);	/* its CANCELLED still comes */
	fwd_end(f, STORE_ERR_WRITE, 0);
}

unsigned
fwd_hier(const struct fwd *f)
{
	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	return (f->hop < f->nhops ? f->hops[f->hop].code : FWD_HIER_NONE);
}

const struct sockaddr *
fwd_peer(const struct fwd *f)
{
	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	return ((const struct sockaddr *)f->peer);
}

void
fwd_free(struct fwd *f)
{
	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	AZ(f->pending);
	AZ(f->conn);
	http_parser_free(&f->parser);
	http_msg_fini(&f->reply);
	buf_chain_fini(&f->reqhdr);
	buf_chain_fini(&f->peerhdr);
	store_entry_unref(&f->e);
	fwd_hop_release(f);
	fwd_peers_unref(&f->peers);
	free(f->key);
	free(f->sni);
	free(f->origin);
	free(f->passthru);
	FREE_OBJ(f);
}

static void
fwd_done_call(struct comm_call *call)
{
	struct fwd *f = container_of(call, struct fwd, done_call);
	struct fwd_ctx *ctx;

	CHECK_OBJ_NOTNULL(f, FWD_MAGIC);
	/* Content pushed after the end was queued (fwd_send_body() on an
	 * ended fwd) completes first: its completion finishes again. */
	if (f->pending > 0) {
		f->finishing = false;
		return;
	}
	ctx = f->ctx;
	f->done(f, f->arg);
	ctx->nfwd--;
	fwd_free(f);
}
