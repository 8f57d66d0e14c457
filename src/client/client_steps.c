/*
 * client_steps.c - the request path: from a parsed request header
 * section to the step that answers it, as a table of steps (the rows of
 * CLIENT_STEPS in client_int.h) run by one dispatcher.
 *
 *	RECV -----> ACCESS ~~> ADMIT ---+--> MGR ----------------> END
 *	 |                              +--> TUNNEL --+----------> END
 *	 |                              |             +--> BUMP -> END
 *	 |                              |         (client_bump.c: ssl_bump)
 *	 |                              +--> REWRITE ~~> STOREID ~~+
 *	 |                                    (client_adapt.c)     |
 *	 |                              +--------------------------+
 *	 |                              +--> LIMIT ~~> LIMIT
 *	 |                                     |
 *	 |                                     v
 *	 |                                 CACHEABLE ~~> LOOKUP --+--> END
 *	 |                                                        |  (hit,
 *	 |                                        (a miss, or not v  join)
 *	 |                                       the cache's)   PEER ~~+
 *	 |                                          +------------------+
 *	 |                                          +--> FETCH --> END
 *	 +-- any step: an error page --> END        +--> PASS ---> END
 *
 *	---> the next step, at once
 *	~~>  the step may wait: an acl needs a lookup (acl_check_start());
 *	     the path is parked at the next step and the lookup's completion
 *	     (client_step_checked()) runs the dispatcher from there
 *
 * Each step is a function that returns the next step: END when the
 * request has been handed to what answers it (the reply is then written
 * from a store entry by client_reply.c, or it is the manager's, a
 * tunnel's or an error page), WAIT when it parked.  A step that
 * fails answers with client_txn_error() and returns END.  Adding a step
 * is a row in CLIENT_STEPS and a function here or in a file of its own.
 *
 * Checks share one struct acl_check (one runs at a time) and one struct
 * acl_lookups, so that a name looked up for http_access serves the
 * checks after it.  While a check waits the txn counts it as pending
 * (client_txn_maybe_free()), and ending the txn cancels it.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>
#include <strings.h>
#include <time.h>

#include "acl/acl.h"
#include "auth/auth.h"
#include "base/check.h"
#include "base/log.h"
#include "client/client_int.h"
#include "client/errpage.h"
#include "http/http_out.h"

#define CLIENT_STEP(sym, fn, what)	static client_step_fn fn;
CLIENT_STEPS
#undef CLIENT_STEP

static const struct {
	const char	*name;
	client_step_fn	*fn;
} client_steps[CLIENT_STEP__COUNT] = {
#define CLIENT_STEP(sym, fn, what)	[CLIENT_STEP_##sym] = { #sym, fn },
CLIENT_STEPS
#undef CLIENT_STEP
};

static acl_check_fn client_step_checked;

const char *
client_step_name(enum client_step s)
{
	if (s == CLIENT_STEP_WAIT)
		return ("WAIT");
	if (s == CLIENT_STEP_END)
		return ("END");
	CHECK(s < CLIENT_STEP__COUNT);
	return (client_steps[s].name);
}

/* Run t's path from t->step until it ends or parks.  The txn is held
 * meanwhile (a step may end it: an error page, the client gone); the
 * caller lets go of it with client_txn_maybe_free(). */
static void
client_steps_run(struct client_txn *t)
{
	enum client_step s = (enum client_step)t->step;

	t->busy++;
	while (s != CLIENT_STEP_WAIT && s != CLIENT_STEP_END) {
		CHECK(s < CLIENT_STEP__COUNT);
		t->step = (uint8_t)s;
		s = client_steps[s].fn(t);
	}
	if (s == CLIENT_STEP_END)
		t->step = CLIENT_STEP_END;
	t->busy--;
}

void
client_txn_headers(struct client_txn *t)
{
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	t->state = TXN_REPLY;	/* until it is known to go on */
	t->step = CLIENT_STEP_RECV;
	client_steps_run(t);
	client_txn_maybe_free(t);
}

/*
 * Check rule list r for t, then go on at next: at once when the answer
 * is known (it is in t->answer), or once the lookup it waits for has
 * completed.  r NULL answers if_none.
 */
enum client_step
client_step_check(struct client_txn *t, const struct acl_rules *r,
    enum acl_answer if_none, enum client_step next)
{
	if (r == NULL) {		/* no rules: no view to build */
		t->answer = (uint8_t)if_none;
		return (next);
	}
	client_txn_view(t);
	t->answer = (uint8_t)acl_check_start(&t->ck, r, &t->view, &t->lk,
	    t->cc->ctx->deps.dns, if_none, client_step_checked, t);
	t->step = (uint8_t)next;
	return (t->answer == ACL_WAIT ? CLIENT_STEP_WAIT : next);
}

/* A check that waited has its answer: on with the path where it was
 * parked.  A request that passed its checks reads its content from here
 * on (client_conn_process() stopped while they ran). */
static void
client_step_checked(struct acl_check *ck, enum acl_answer a, void *arg)
{
	struct client_txn *t = arg;

	(void)ck;
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	t->answer = (uint8_t)a;
	if (a == ACL_CANCELLED) {
		client_txn_maybe_free(t);
		return;
	}
	client_steps_resume(t);
}

void
client_steps_resume(struct client_txn *t)
{
	struct client_conn *cc;
	bool body;

	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	if (t->state == TXN_DONE) {
		client_txn_maybe_free(t);
		return;
	}
	cc = t->cc;
	client_steps_run(t);
	/* Not done, so not freed below: cc is still the txn's. */
	body = t->state == TXN_BODY;
	client_txn_maybe_free(t);
	if (body && !cc->closing)
		client_conn_resume(cc);
}

/* -- RECV: the URL, Host --------------------------------------------------- */

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

/* A request to the manager (cache_object://, /squid-internal-mgr/) is
 * cuttle's own: it needs no absolute-form and no Host to agree. */
static enum client_step
client_step_recv(struct client_txn *t)
{
	const struct http_msg *m = &t->req;
	const char *target;

	if (client_bump_request(t) != 0)	/* inside a bumped CONNECT */
		return (CLIENT_STEP_END);
	target = http_msg_ptr(m, m->target);
	if (http_url_parse(target, m->target.len, m->method == HTTP_M_CONNECT,
	    &t->url) != 0 && client_mgr_url(t) != 0) {
		client_txn_error(t, ERRPAGE_INVALID_URL, "invalid URL", 0);
		return (CLIENT_STEP_END);
	}
	if (client_mgr_request(t))
		return (CLIENT_STEP_ACCESS);
	if (t->url.form != HTTP_URL_ABSOLUTE && t->url.form !=
	    HTTP_URL_AUTHORITY) {
		client_txn_error(t, ERRPAGE_INVALID_URL, "cuttle is a proxy: "
		    "a request names its server in full (absolute-form)", 0);
		return (CLIENT_STEP_END);
	}
	if (!client_host_agrees(t)) {
		client_txn_error(t, ERRPAGE_INVALID_REQ, "the Host header "
		    "does not match the URL", 0);
		return (CLIENT_STEP_END);
	}
	return (CLIENT_STEP_ACCESS);
}

/* -- ACCESS, ADMIT: http_access and where the request goes ------------------ */

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

/* The request as acl rules see it, with what lookups have found. */
static void
client_acl_view(struct client_txn *t, struct acl_request *ar)
{
	struct client_conn *cc = t->cc;
	const struct http_field *ua = http_msg_field(&t->req,
	    HTTP_HDR_USER_AGENT);
	const char *target = http_msg_ptr(&t->req, t->req.target);

	memset(ar, 0, sizeof *ar);
	ar->src = &cc->peer.sa;
	ar->local = client_txn_local;
	ar->local_arg = t;
	ar->msg = &t->req;
	acl_lookups_view(&t->lk, ar);
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

/* -- proxy_auth: the request's credentials, checked once ------------------- */

/* The user is known: count the address it came from (max_user_ip). */
static void
client_auth_ips(struct client_txn *t, const char *user)
{
	const struct client_deps *d = &t->cc->ctx->deps;

	t->lk.user_ips = user != NULL && d->auth != NULL ? auth_user_ips(
	    d->auth, user, &t->cc->peer.sa, d->conf->authenticate_ip_ttl) : 0;
}

/* lk->auth_ips_over: a max_user_ip acl matched for t. */
static void
client_auth_ips_over(void *ctx, bool strict, unsigned max)
{
	struct client_txn *t = ctx;
	struct auth *a = t->cc->ctx->deps.auth;

	if (a == NULL || t->lk.user == NULL)
		return;
	log_msg(LG_NOTICE, SEC_CLIENT, "user \"%s\" comes from too many "
	    "addresses (%u, at most %u)%s", t->lk.user, t->lk.user_ips, max,
	    strict ? "" : ": all of them forgotten");
	auth_user_ips_forget(a, t->lk.user, &t->cc->peer.sa, strict);
}

static void
client_auth_done(struct auth_check *ack, const char *user, void *arg)
{
	struct client_txn *t = arg;

	(void)ack;
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	t->auth_ck = NULL;
	client_auth_ips(t, user);
	acl_check_auth_done(&t->ck, user);
}

/* What the auth module looks at in t's request. */
static void
client_auth_req(struct client_txn *t, struct auth_req *rq)
{
	const struct http_field *f = http_msg_field(&t->req,
	    HTTP_HDR_PROXY_AUTHORIZATION);

	rq->hdr = f != NULL ? http_msg_ptr(&t->req, f->value) : NULL;
	rq->len = f != NULL ? f->value.len : 0;
	rq->method = http_msg_ptr(&t->req, t->req.method_name);
	rq->method_len = t->req.method_name.len;
	rq->uri = http_msg_ptr(&t->req, t->req.target);
	rq->uri_len = t->req.target.len;
	/* Looked for only where utf8 on may need it. */
	f = t->cc->ctx->deps.auth != NULL &&
	    auth_utf8(t->cc->ctx->deps.auth) ? http_msg_field_named(&t->req,
	    "Accept-Language", 15) : NULL;
	rq->lang = f != NULL ? http_msg_ptr(&t->req, f->value) : NULL;
	rq->lang_len = f != NULL ? f->value.len : 0;
}

/* lk->auth_start for t: Proxy-Authorization to the auth module, which
 * answers now (no or bad credentials, cached ones) or asks its helper. */
static int
client_auth_start(void *ctx, struct acl_check *ck, char **user)
{
	struct client_txn *t = ctx;
	struct auth *a = t->cc->ctx->deps.auth;
	struct auth_req rq;
	int rc;

	(void)ck;
	*user = NULL;
	if (a == NULL)
		return (0);
	client_auth_req(t, &rq);
	rc = auth_check_start(a, &rq, client_auth_done, t, &t->auth_ck,
	    user);
	if (rc < 0)
		log_msg(LG_WARN, SEC_CLIENT, "no memory to check "
		    "credentials: taken as none");
	if (rc == 0)
		client_auth_ips(t, *user);
	return (rc == 1 ? 1 : 0);
}

static void
client_auth_cancel(void *ctx)
{
	struct client_txn *t = ctx;

	auth_check_cancel(&t->auth_ck);
}

/* t->view, built at the request's first check and kept for the others
 * (the request does not change under it); the time is each check's. */
void
client_txn_view(struct client_txn *t)
{
	if (t->view.src == NULL) {
		t->lk.auth_start = client_auth_start;
		t->lk.auth_cancel = client_auth_cancel;
		t->lk.auth_ips_over = client_auth_ips_over;
		t->lk.auth_ctx = t;
		t->lk.externals = t->cc->ctx->deps.externals;
		client_acl_view(t, &t->view);
	} else
		t->view.now = time(NULL);
}

static enum client_step
client_step_access(struct client_txn *t)
{
	return (client_step_check(t, t->cc->ctx->deps.http_access, ACL_DENY,
	    CLIENT_STEP_ADMIT));
}

/* What http_access let through: the manager's, a tunnel, or HTTP that
 * cuttle can forward. */
static enum client_step
client_step_admit(struct client_txn *t)
{
	const struct http_msg *m = &t->req;
	struct auth_req rq;

	if (t->answer != ACL_ALLOW && (acl_lookups_auth_failed(&t->lk) ||
	    acl_check_denied_by_auth(&t->ck)) &&
	    t->cc->ctx->deps.auth != NULL) {
		/* A proxy_auth acl found no valid credentials (Squid's
		 * ACCESS_AUTH_REQUIRED), or a rule ending with one denied
		 * the user (Squid's aclIsProxyAuth()): ask for them. */
		t->code = RESULT_TCP_DENIED;
		client_auth_req(t, &rq);
		client_txn_error_hdrs(t, ERRPAGE_CACHE_ACCESS_DENIED, NULL,
		    auth_challenge(t->cc->ctx->deps.auth, &rq));
		return (CLIENT_STEP_END);
	}
	if (t->answer != ACL_ALLOW) {
		t->code = RESULT_TCP_DENIED;
		client_txn_error(t, ERRPAGE_ACCESS_DENIED, NULL, 0);
		return (CLIENT_STEP_END);
	}
	if (client_mgr_request(t))
		return (CLIENT_STEP_MGR);
	if (m->method == HTTP_M_CONNECT)
		return (CLIENT_STEP_TUNNEL);
	if (t->url.scheme != HTTP_SCHEME_HTTP &&
	    t->url.scheme != HTTP_SCHEME_HTTPS) {
		client_txn_error(t, ERRPAGE_UNSUP_REQ, "cuttle forwards http "
		    "and https URLs", 0);
		return (CLIENT_STEP_END);
	}
	if (http_msg_field(m, HTTP_HDR_EXPECT) != NULL &&
	    !m->expect_continue) {
		client_txn_error(t, ERRPAGE_EXPECTATION_FAILED, NULL, 0);
		return (CLIENT_STEP_END);
	}
	t->limit_next = 0;
	return (CLIENT_STEP_REWRITE);
}

/* -- REWRITE, STOREID: the request path's helpers (client_adapt.c) -------- */

static enum client_step
client_step_rewrite(struct client_txn *t)
{
	return (client_adapt_rewrite(t));
}

static enum client_step
client_step_storeid(struct client_txn *t)
{
	return (client_adapt_storeid(t));
}

static enum client_step
client_step_mgr(struct client_txn *t)
{
	client_mgr_serve(t);
	return (CLIENT_STEP_END);
}

static enum client_step
client_step_tunnel(struct client_txn *t)
{
	if (client_bump_wants(t))
		return (CLIENT_STEP_BUMP);
	/* Through PEER first, which comes back here: a parent may be
	 * where the tunnel goes (client_peer.c). */
	if (t->cc->ctx->deps.peers != NULL && t->peers == NULL &&
	    !t->tunnel_peered) {
		t->tunnel_peered = true;
		t->after_peer = CLIENT_STEP_TUNNEL;
		return (CLIENT_STEP_PEER);
	}
	client_tunnel_start(t);
	return (CLIENT_STEP_END);
}

/* ssl_bump's steps (client_bump.c) take the CONNECT from here. */
static enum client_step
client_step_bump(struct client_txn *t)
{
	client_bump_start(t);
	return (CLIENT_STEP_END);
}

/* -- LIMIT: reply_body_max_size --------------------------------------------- */

/* The first reply_body_max_size line whose acls match gives the limit
 * (0: none).  Each line's check may wait; the step comes back here with
 * its answer, and limit_next says which line that was. */
static enum client_step
client_step_limit(struct client_txn *t)
{
	const struct client_deps *d = &t->cc->ctx->deps;
	size_t i;

	if (t->limit_next > 0 && t->answer == ACL_ALLOW) {
		t->max_body = d->body_limits[t->limit_next - 1].size;
		return (CLIENT_STEP_CACHEABLE);
	}
	if (t->limit_next == d->nbody_limits) {
		t->max_body = 0;
		return (CLIENT_STEP_CACHEABLE);
	}
	/* A line without acls matches: no rules answer ALLOW. */
	i = t->limit_next++;
	return (client_step_check(t, d->body_limits[i].rules, ACL_ALLOW,
	    CLIENT_STEP_LIMIT));
}

/* -- CACHEABLE, LOOKUP, PASS: the cache, or straight to the origin ---------- */

/* The `cache` rules: may this request's reply be stored at all?  Asked
 * only where there is a cache. */
static enum client_step
client_step_cacheable(struct client_txn *t)
{
	if (t->cc->ctx->deps.store == NULL) {
		t->answer = ACL_DENY;
		return (CLIENT_STEP_LOOKUP);
	}
	return (client_step_check(t, t->cc->ctx->deps.cache_access,
	    ACL_ALLOW, CLIENT_STEP_LOOKUP));
}

/*
 * From here the request's content is read and passed on; a miss, or
 * what is no business of the cache, first goes to PEER, whose checks
 * (and ICP queries) wait for their answers before a byte of content is
 * read, and only then to FETCH or PASS.  PEER comes after LOOKUP so that
 * a hit costs no selection, no peer rules and no ICP round trip.
 */
static enum client_step
client_step_lookup(struct client_txn *t)
{
	const struct http_msg *m = &t->req;
	enum client_step next;

	if (!t->disk_tried)	/* CACHEABLE's answer, not a disk read's */
		t->storable = t->answer == ACL_ALLOW;
	t->state = TXN_BODY;
	if (m->expect_continue && m->vminor >= 1 && !t->disk_tried)
		client_reply_continue(t);
	/* Back round a hierarchy: the fetch that sent it is pending here,
	 * and joining it would wait on itself (client_peer.c). */
	if (t->cc->ctx->deps.peers != NULL && client_peer_loop(t))
		next = CLIENT_STEP_PASS;
	else
		next = client_cache_request(t, t->storable);
	if (next == CLIENT_STEP_FETCH || next == CLIENT_STEP_PASS) {
		t->after_peer = (uint8_t)next;
		t->state = TXN_REPLY;	/* no content read while PEER runs */
		return (CLIENT_STEP_PEER);
	}
	if (next == CLIENT_STEP_WAIT)	/* a disk read: parked here until
					 * it is in */
		t->state = TXN_REPLY;
	return (next);
}

/* Where a miss goes (client_peer.c), then FETCH or PASS. */
static enum client_step
client_step_peer(struct client_txn *t)
{
	return (client_peer_step(t));
}

static enum client_step
client_step_fetch(struct client_txn *t)
{
	t->state = TXN_BODY;
	if (!client_cache_fetch_miss(t))
		return (CLIENT_STEP_PASS);
	return (CLIENT_STEP_END);
}

static enum client_step
client_step_pass(struct client_txn *t)
{
	t->state = TXN_BODY;
	client_txn_forward(t);
	return (CLIENT_STEP_END);
}
