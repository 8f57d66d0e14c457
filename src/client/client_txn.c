/*
 * client_txn.c - one request on a client connection.
 *
 *	HEADERS --> (checks) --> BODY --> WAIT --> REPLY --> DONE
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
static dns_done_fn client_dst_resolved;
static dns_name_fn client_src_named;
static bool client_dst_needed(const struct client_txn *t);
static bool client_src_name_needed(const struct client_txn *t);
static void client_txn_resolve_dst(struct client_txn *t, bool mgr);
static void client_txn_admit(struct client_txn *t, bool mgr);
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
	t->code = "NONE";
	http_msg_init(&t->req, HTTP_MSG_REQUEST);
	buf_chain_init(&t->body, comm_loop_pool(cc->ctx->deps.loop));
	return (t);
}

/* Free once the reply is written (or abandoned) and nothing is pending. */
void
client_txn_maybe_free(struct client_txn *t)
{
	struct client_conn *cc = t->cc;
	bool keep;

	if (t->state != TXN_DONE || t->writes > 0 || t->body_sending ||
	    t->fwd != NULL || t->tunnel != NULL || t->busy > 0 ||
	    t->dnsq != NULL)
		return;
	/* Reuse needs the whole request read: else what follows on the
	 * connection is the rest of its content, not a request. */
	keep = !t->close_after && t->req.keep_alive && t->req_done;
	if (t->reader_open) {
		store_reader_close(&t->reader);
		t->reader_open = false;
	}
	store_entry_unref(&t->e);
	client_cache_txn_free(t);
	free(t->src_name);
	http_msg_fini(&t->req);
	buf_chain_fini(&t->body);
	FREE_OBJ(t);
	client_conn_txn_done(cc, keep);
}

/* The end, whichever way: log it, stop what still runs. */
void
client_txn_finish(struct client_txn *t)
{
	if (t->state == TXN_DONE)
		return;
	t->state = TXN_DONE;
	if (t->fwd != NULL && fwd_peer(t->fwd) != NULL)
		client_addr_set(&t->server, fwd_peer(t->fwd));
	client_cache_txn_finish(t);
	client_txn_log(t);
	/* Ending the tunnel may come back to client_txn_maybe_free(): the
	 * txn is held until this call is done with it. */
	t->busy++;
	if (t->fwd != NULL)
		fwd_cancel(t->fwd);
	if (t->dnsq != NULL) {
		struct dns_query *q = t->dnsq;

		dns_cancel(&q);		/* its completion still comes */
	}
	client_tunnel_abort(t);
	t->busy--;
	client_txn_maybe_free(t);
}

void
client_txn_abort(struct client_txn *t)
{
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	t->close_after = true;
	t->aborted = true;
	if (t->code == NULL || strcmp(t->code, "NONE") == 0)
		t->code = "TCP_MISS";
	client_txn_finish(t);
}

/* -- error replies -------------------------------------------------------- */

/* Answer with cuttle's own page; the connection closes after it (what
 * remains of the request is not worth reading). */
void
client_txn_error(struct client_txn *t, enum errpage_id id,
    const char *detail, int sys_errno)
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
	buf_chain_init(&out, comm_loop_pool(cc->ctx->deps.loop));
	t->close_after = true;
	t->errpage = true;
	t->err_name = errpage_name(id);
	if (t->state == TXN_HEADERS || t->state == TXN_BODY)
		t->state = TXN_WAIT;	/* the rest of the request is not read */
	cc->ctx->stats.errors++;
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
client_txn_parse_error(struct client_txn *t, enum http_err e)
{
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	log_msg(LG_INFO, SEC_CLIENT, "invalid request: %s", http_err_text(e));
	t->code = "TAG_NONE";
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

/* -- the request's checks -------------------------------------------------- */

/* RFC 9112 3.2: an HTTP/1.1 request carries Host; in absolute-form the
 * target's authority is what counts (3.2.2), and cuttle refuses a Host
 * that disagrees with it rather than guess which one the client meant. */
static bool
client_host_agrees(const struct client_txn *t)
{
	const struct http_field *f = http_msg_field(&t->req, HTTP_HDR_HOST);
	const char *target = http_msg_ptr(&t->req, t->req.target);
	const char *h, *colon;
	size_t hlen, len;
	unsigned long port;

	if (f == NULL)
		return (t->req.vminor == 0);
	h = http_msg_ptr(&t->req, f->value);
	len = f->value.len;
	colon = memrchr(h, ':', len);
	if (colon != NULL && memchr(colon, ']', len - (size_t)(colon - h)) ==
	    NULL) {
		hlen = (size_t)(colon - h);
		port = strtoul(colon + 1, NULL, 10);
	} else {
		hlen = len;
		port = t->url.scheme == HTTP_SCHEME_HTTPS ? 443 : 80;
	}
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	return (hlen == t->url.host_len && port == t->url.port &&
	    strncasecmp(h, target + t->url.host_off, hlen) == 0);
}

static bool
client_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a,
	    *b6 = (const void *)b;

	if (a->sa_family != b->sa_family)
		return (false);
	if (a->sa_family == AF_INET)
		return (a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	return (a->sa_family == AF_INET6 && memcmp(&a6->sin6_addr,
	    &b6->sin6_addr, sizeof a6->sin6_addr) == 0);
}

/* Connections open from addr's host (maxconn); a walk, done only for
 * rules that ask. */
static unsigned
client_conns_from(const struct client_ctx *ctx, const struct sockaddr *addr)
{
	const struct client_conn *cc;
	const struct list *n;
	unsigned count = 0;

	LIST_FOREACH(n, &ctx->conns) {
		cc = container_of(n, struct client_conn, link);
		if (client_same_host(&cc->peer.sa, addr))
			count++;
	}
	return (count);
}

/* The request as acl rules see it. */
void
client_acl_view(struct client_txn *t, struct acl_request *ar)
{
	struct client_conn *cc = t->cc;
	const struct http_field *ua = http_msg_field(&t->req,
	    HTTP_HDR_USER_AGENT);
	const char *target = http_msg_ptr(&t->req, t->req.target);

	memset(ar, 0, sizeof *ar);
	ar->src = &cc->peer.sa;
	if (t->src_name != NULL) {
		ar->src_name = t->src_name;
		ar->src_name_len = strlen(t->src_name);
	}
	if (t->dst.sa.sa_family != AF_UNSPEC)
		ar->dst = &t->dst.sa;
	ar->host = target + t->url.host_off;
	ar->host_len = t->url.host_len;
	ar->port = t->url.port;
	ar->myport = client_local_port(cc);
	ar->method = t->req.method;
	ar->method_name = http_msg_ptr(&t->req, t->req.method_name);
	ar->method_len = t->req.method_name.len;
	ar->proto = t->req.method == HTTP_M_CONNECT ? NULL :
	    t->url.scheme == HTTP_SCHEME_HTTPS ? "HTTPS" : "HTTP";
	ar->url = target;
	ar->url_len = t->req.target.len;
	ar->path = target + t->url.path_off;
	ar->path_len = t->url.path_len;
	if (ua != NULL) {
		ar->user_agent = http_msg_ptr(&t->req, ua->value);
		ar->ua_len = ua->value.len;
	}
	ar->manager = client_mgr_request(t);
	if (ar->manager && t->url.scheme == HTTP_SCHEME_OTHER)
		ar->proto = "cache_object";
	if (cc->ctx->deps.http_access != NULL &&
	    acl_rules_need_conns(cc->ctx->deps.http_access))
		ar->src_conns = client_conns_from(cc->ctx,
		    &cc->peer.sa);
	ar->now = time(NULL);
}

static bool
client_access_ok(struct client_txn *t, const struct acl_request *ar)
{
	const struct acl_rules *r = t->cc->ctx->deps.http_access;

	return (r == NULL || acl_rules_check(r, ar, ACL_DENY) == ACL_ALLOW);
}

/* reply_body_max_size for this request: 0 when there is no limit. */
static uint64_t
client_body_limit(const struct client_txn *t, const struct acl_request *ar)
{
	const struct client_deps *d = &t->cc->ctx->deps;
	size_t i;

	for (i = 0; i < d->nbody_limits; i++)
		if (d->body_limits[i].rules == NULL || acl_rules_check(
		    d->body_limits[i].rules, ar, ACL_DENY) == ACL_ALLOW)
			return (d->body_limits[i].size);
	return (0);
}

void
client_txn_headers(struct client_txn *t)
{
	struct client_conn *cc = t->cc;
	const struct http_msg *m = &t->req;
	const char *target = http_msg_ptr(m, m->target);
	bool mgr;

	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	t->state = TXN_REPLY;	/* until it is known to go on */
	if (http_url_parse(target, m->target.len, m->method == HTTP_M_CONNECT,
	    &t->url) != 0 && client_mgr_url(t) != 0) {
		client_txn_error(t, ERRPAGE_INVALID_URL, "invalid URL", 0);
		return;
	}
	mgr = client_mgr_request(t);	/* answered by cuttle itself */
	if (!mgr && t->url.form != HTTP_URL_ABSOLUTE && t->url.form !=
	    HTTP_URL_AUTHORITY) {
		client_txn_error(t, ERRPAGE_INVALID_URL, "cuttle is a proxy: "
		    "a request names its server in full (absolute-form)", 0);
		return;
	}
	if (!mgr && !client_host_agrees(t)) {
		client_txn_error(t, ERRPAGE_INVALID_REQ, "the Host header "
		    "does not match the URL", 0);
		return;
	}
	if (client_src_name_needed(t)) {
		t->dnsq = dns_lookup_addr(cc->ctx->deps.dns, &cc->peer.sa,
		    client_src_named, t);
		if (t->dnsq != NULL)
			return;		/* client_src_named() goes on */
		log_msg(LG_WARN, SEC_CLIENT, "no memory to look the client's "
		    "name up for srcdomain acls");
	}
	client_txn_resolve_dst(t, mgr);
}

/* A lookup for the access checks has completed: false when the txn has
 * ended meanwhile (it is freed now, if nothing else holds it). */
static bool
client_lookup_done(struct client_txn *t)
{
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	t->dnsq = NULL;
	if (t->state != TXN_DONE)
		return (true);
	client_txn_maybe_free(t);
	return (false);
}

/* The checks went on from a lookup's completion: a request they let
 * through reads its content from here on. */
static void
client_lookup_resume(struct client_txn *t)
{
	if (t->state == TXN_BODY && !t->cc->closing)
		client_conn_resume(t->cc);
}

/* srcdomain acls look at the client's name: its address is looked up
 * (reverse DNS, cached by the resolver) before http_access is asked, and
 * the name is kept on the txn for the checks after it (cache,
 * reply_body_max_size, http_reply_access).  Like Squid's, this may be
 * slow: a new address waits for its PTR answer, at most dns_timeout. */
static bool
client_src_name_needed(const struct client_txn *t)
{
	const struct client_deps *d = &t->cc->ctx->deps;
	size_t i;

	if (d->dns == NULL)
		return (false);
	if ((d->http_access != NULL &&
	    acl_rules_need_src_name(d->http_access)) ||
	    (d->cache_access != NULL &&
	    acl_rules_need_src_name(d->cache_access)) ||
	    (d->http_reply_access != NULL &&
	    acl_rules_need_src_name(d->http_reply_access)))
		return (true);
	for (i = 0; i < d->nbody_limits; i++)
		if (d->body_limits[i].rules != NULL &&
		    acl_rules_need_src_name(d->body_limits[i].rules))
			return (true);
	return (false);
}

static void
client_src_named(struct dns_query *q, const struct dns_name_result *res,
    void *arg)
{
	struct client_txn *t = arg;

	(void)q;
	if (!client_lookup_done(t))
		return;
	/* No name (or no memory for it) matches no srcdomain acl. */
	if (res->status == DNS_OK)
		t->src_name = strdup(res->name);
	client_txn_resolve_dst(t, client_mgr_request(t));
	client_lookup_resume(t);
}

/* The server's address when dst acls need it, then the checks. */
static void
client_txn_resolve_dst(struct client_txn *t, bool mgr)
{
	struct client_conn *cc = t->cc;
	const char *target = http_msg_ptr(&t->req, t->req.target);

	if (!mgr && client_dst_needed(t)) {
		t->dnsq = dns_lookup(cc->ctx->deps.dns, target +
		    t->url.host_off, t->url.host_len, client_dst_resolved, t);
		if (t->dnsq != NULL)
			return;		/* client_dst_resolved() goes on */
		log_msg(LG_WARN, SEC_CLIENT, "no memory to resolve the "
		    "destination for dst acls");
	}
	client_txn_admit(t, mgr);
}

/* dst acls (to_localhost too) look at the server's address: a request
 * whose host is a name is resolved before http_access is asked.  The
 * answer comes from the ipcache the server side then uses too, so the
 * origin is not asked twice. */
static bool
client_dst_needed(const struct client_txn *t)
{
	const struct client_deps *d = &t->cc->ctx->deps;
	const char *host = http_msg_ptr(&t->req, t->req.target) +
	    t->url.host_off;
	struct in6_addr a6;
	char lit[INET6_ADDRSTRLEN];

	if (d->dns == NULL || d->http_access == NULL ||
	    !acl_rules_need_dst(d->http_access) || t->url.host_is_ip6 ||
	    t->url.host_len >= sizeof lit)
		return (false);
	memcpy(lit, host, t->url.host_len);
	lit[t->url.host_len] = '\0';
	return (inet_pton(AF_INET, lit, &a6) != 1);
}

static void
client_dst_resolved(struct dns_query *q, const struct dns_result *res,
    void *arg)
{
	struct client_txn *t = arg;

	(void)q;
	if (!client_lookup_done(t))
		return;
	/* A name that does not resolve matches no dst acl (as Squid). */
	if (res->status == DNS_OK)
		client_addr_set(&t->dst, &res->ans->addrs[0].sa);
	client_txn_admit(t, false);
	client_lookup_resume(t);
}

/* The request's checks past its URL: http_access, then where it goes. */
static void
client_txn_admit(struct client_txn *t, bool mgr)
{
	struct client_conn *cc = t->cc;
	const struct http_msg *m = &t->req;
	struct acl_request ar;

	client_acl_view(t, &ar);
	if (!client_access_ok(t, &ar)) {
		t->code = "TCP_DENIED";
		cc->ctx->stats.denied++;
		client_txn_error(t, ERRPAGE_ACCESS_DENIED, NULL, 0);
		return;
	}
	if (mgr) {
		client_mgr_serve(t);
		return;
	}
	if (m->method == HTTP_M_CONNECT) {
		client_tunnel_start(t);
		return;
	}
	if (t->url.scheme != HTTP_SCHEME_HTTP) {
		client_txn_error(t, ERRPAGE_UNSUP_REQ, "cuttle forwards http "
		    "URLs; https goes through CONNECT", 0);
		return;
	}
	if (http_msg_field(m, HTTP_HDR_EXPECT) != NULL &&
	    !m->expect_continue) {
		client_txn_error(t, ERRPAGE_EXPECTATION_FAILED, NULL, 0);
		return;
	}
	t->max_body = client_body_limit(t, &ar);
	t->state = TXN_BODY;
	if (m->expect_continue && m->vminor >= 1)
		client_reply_continue(t);
	if (!client_cache_request(t, &ar))
		client_txn_forward(t);
}

/* What fwd_start() needs from the request; the caller may add to it. */
void
client_fwd_req_init(const struct client_txn *t, struct fwd_req *fr)
{
	const char *target = http_msg_ptr(&t->req, t->req.target);

	memset(fr, 0, sizeof *fr);
	fr->msg = &t->req;
	fr->host = target + t->url.host_off;
	fr->host_len = t->url.host_len;
	fr->host_ip6 = t->url.host_is_ip6;
	fr->port = t->url.port;
	fr->path = target + t->url.path_off;
	fr->path_len = t->url.path_len;
	fr->client = &t->cc->peer.sa;
	fr->max_body = t->max_body;
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
	if (strcmp(t->code, "NONE") == 0)
		t->code = "TCP_MISS";
	client_reply_start(t);
}

static void
client_fwd_done(struct fwd *f, void *arg)
{
	struct client_txn *t = arg;

	const struct sockaddr *peer;

	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	peer = fwd_peer(f);
	if (peer != NULL && t->state != TXN_DONE)
		client_addr_set(&t->server, peer);
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
