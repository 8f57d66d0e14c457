/*
 * client_bump.c - ssl_bump: a CONNECT on an http_port with ssl-bump,
 * after http_access allowed it, looked into (bump), passed on untouched
 * (splice) or closed (terminate), as the ssl_bump rules say at each step.
 *
 *	client_bump_start()	"200 Connection established" written
 *	step 1			rules: CONNECT host
 *	bump_peek()		the ClientHello peeked until whole (size
 *				limit, request_timeout), never consumed
 *	step 2			rules: SNI (unless step 1 decided)
 *	bump_origin()		server-first: TCP, then TLS to the origin
 *				(SNI from the client, ALPN http/1.1), every
 *				verification error kept
 *	step 3			rules: the certificate's names (when step
 *				2 peeked or stared)
 *	bump_verdict_next()	sslproxy_cert_error on each error
 *	bump_client()		a certificate minted (mirroring the origin's,
 *				or for the CONNECT host when the origin
 *				failed), the client's TLS handshake
 *	bump_done()		the CONNECT is logged and over; the
 *				connection reads requests over TLS, which
 *				client_bump_request() turns into
 *				https://host[:port]/path URLs, or answers
 *				with the origin's failure (Squid's delayed
 *				error, ERR_SECURE_CONNECT_FAIL)
 *
 * Splice is client_tunnel_splice(): the ClientHello is still in the
 * socket, so the tunnel relays the client's bytes untouched.  No
 * matching rule means splice: never a silent bump.  Steps differ from
 * Squid's in one way: the origin's handshake is cuttle's own (server
 * first), so bump stays possible at step 3 after a peek.
 *
 * The state is the connection's (struct client_bump, made at accept on
 * an ssl-bump port).  While a CONNECT is being bumped the txn is held
 * (busy) and the connection reads nothing (client_bump_busy()); each
 * completion to come holds the connection (client_conn_hold()).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl/acl.h"
#include "base/check.h"
#include "base/log.h"
#include "client/client_int.h"
#include "client/errpage.h"
#include "fwd/fwd.h"
#include "tls/tls.h"
#include "tls/tls_hello.h"
#include "tls/tls_mint.h"

#define BUMP_NAMES		32	/* certificate names the rules see */
#define BUMP_ERRORS		16	/* verification errors judged */
#define BUMP_NONE		CLIENT_BUMP__COUNT	/* not decided */
#define BUMP_URL_MAX		8192	/* https://host:port/path */

struct client_bump {
	unsigned		magic;
#define CLIENT_BUMP_MAGIC	0xc11eb047U
	struct client_conn	*cc;
	struct tls_mint		*mint;		/* the port's; a reference */
	/* A CONNECT being bumped. */
	struct client_txn	*t;		/* NULL: none */
	uint8_t			step;		/* 1-3 */
	uint8_t			decided;	/* enum client_bump_action,
						 * BUMP_NONE */
	size_t			rule;		/* next ssl_bump line */
	bool			ended;		/* aborted */
	unsigned		pending;	/* completions to come */
	struct fwd_connect	*fc;
	struct comm_conn	*server;	/* to the origin */
	unsigned		tls_gen;	/* its context's generation */
	struct tls_hello	*hello;		/* while bumping: an idle
						 * connection keeps none */
	bool			have_hello;
	char			**names;	/* the certificate's, or
						 * NULL */
	size_t			nnames;
	/* The bumped connection, once its handshake is done. */
	char			*host;		/* the CONNECT host, NUL'd */
	uint16_t		port;
	char			*error;		/* the origin's failure, for
						 * the first request; NULL:
						 * none */
	uint8_t			error_page;	/* enum errpage_id */
	int			allowed[BUMP_ERRORS];	/* by
						 * sslproxy_cert_error: the
						 * requests inside allow them */
	size_t			nallowed;
	/* Checks that may wait on a lookup (a dst acl), as ssl_bump's. */
	bool			fallback;	/* the rules judge what is no
						 * ClientHello */
	char			fallback_why[160];
	int			codes[BUMP_ERRORS];	/* the origin's
						 * errors, judged one by
						 * one */
	size_t			ncodes, code;
	struct x509_st		*origin_cert;	/* remembered from a bump
						 * of the same name; NULL:
						 * none (or the origin's
						 * handshake is ours) */
};

static void bump_step(struct client_bump *b);
static void bump_rules_next(struct client_bump *b);
static void bump_act(struct client_bump *b, enum client_bump_action a);
static void bump_peek(struct client_bump *b, size_t want);
static void bump_origin(struct client_bump *b);
static void bump_client(struct client_bump *b);
static comm_done_fn bump_ok_written, bump_peeked, bump_origin_tls,
    bump_client_tls;
static fwd_connect_fn bump_connected;
static acl_check_fn bump_checked, bump_error_checked;
static void bump_fallback_done(struct client_bump *b,
    enum client_bump_action a);
static void bump_verdict_next(struct client_bump *b);

static const char *const bump_action_names[CLIENT_BUMP__COUNT] = {
#define CLIENT_BUMP_ACTION(sym, name)	[CLIENT_BUMP_##sym] = name,
	CLIENT_BUMP_ACTIONS
#undef CLIENT_BUMP_ACTION
};

struct client_bump *
client_bump_new(struct client_conn *cc, struct tls_mint *mint)
{
	struct client_bump *b;

	ALLOC_OBJ(b, CLIENT_BUMP_MAGIC);
	if (b == NULL)
		return (NULL);
	b->cc = cc;
	b->mint = tls_mint_ref(mint);
	b->decided = BUMP_NONE;
	return (b);
}

static void
bump_names_free(struct client_bump *b)
{
	if (b->names != NULL)
		tls_names_free(b->names, b->nnames);
	free(b->names);
	b->names = NULL;
	b->nnames = 0;
}

void
client_bump_free(struct client_bump **bp)
{
	struct client_bump *b;

	if (*bp == NULL)
		return;
	TAKE_OBJ_NOTNULL(b, bp, CLIENT_BUMP_MAGIC);
	CHECK(b->pending == 0);
	CHECK(b->server == NULL && b->fc == NULL);
	bump_names_free(b);
	free(b->hello);
	tls_mint_cert_free(&b->origin_cert);
	tls_mint_free(&b->mint);
	free(b->host);
	free(b->error);
	FREE_OBJ(b);
}

/* A CONNECT on an ssl-bump port, from its header section until it is
 * spliced or over: the client's next bytes are its ClientHello, which
 * must stay in the socket. */
bool
client_bump_busy(const struct client_conn *cc)
{
	const struct client_txn *t = cc->txn;

	/* Not only while a CONNECT is bumped: also while a request read
	 * whole is served with bytes of the next one waiting, which may be
	 * a CONNECT, whose peek needs the read slot free; a read issued
	 * ahead would still hold it then.  Reading resumes when the
	 * request is done (client_conn_txn_done()).  With nothing waiting,
	 * the read ahead stays: a CONNECT must come through it, and is
	 * read (not pending) by the time it is parsed. */
	return (cc->bump != NULL && cc->bump->host == NULL && t != NULL &&
	    t->tunnel == NULL && ((t->req_done && buf_chain_len(&cc->in) >
	    0) || (t->state != TXN_HEADERS && t->state != TXN_DONE &&
	    t->req.method == HTTP_M_CONNECT)));
}

bool
client_bump_wants(const struct client_txn *t)
{
	const struct client_bump *b = t->cc->bump;

	return (b != NULL && b->host == NULL && b->t == NULL &&
	    t->req.method == HTTP_M_CONNECT);
}

/* "ssl_bump: 10.0.0.1 CONNECT host:443: what" at level lvl. */
static void
bump_log(const struct client_bump *b, enum log_level lvl, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
bump_log(const struct client_bump *b, enum log_level lvl, const char *fmt,
    ...)
{
	const struct client_txn *t = b->t;
	char peer[80], what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (b->cc->peer.sa.sa_family == AF_UNSPEC)
		snprintf(peer, sizeof peer, "-");
	else
		comm_addr_format(&b->cc->peer.sa, peer, sizeof peer);
	log_msg(lvl, SEC_CLIENT, "ssl_bump: %s CONNECT %.*s: %s", peer,
	    t != NULL ? (int)t->req.target.len : 1, t != NULL ?
	    http_msg_ptr(&t->req, t->req.target) : "-", what);
}

/* -- holding and letting go ------------------------------------------------ */

static void
bump_hold(struct client_bump *b)
{
	b->pending++;
	client_conn_hold(b->cc);
}

/* The last thing a completion does: the connection may go with it. */
static void
bump_release(struct client_bump *b)
{
	b->pending--;
	client_conn_release(b->cc);
}

/* The CONNECT is over for the bump machine: the txn goes on to finish
 * (or already has), and the connection reads again. */
static struct client_txn *
bump_let_go(struct client_bump *b)
{
	struct client_txn *t = b->t;

	b->t = NULL;
	t->view.sni = NULL;
	t->view.cert_names = NULL;
	t->view.ncert_names = 0;
	bump_names_free(b);
	free(b->hello);
	b->hello = NULL;
	tls_mint_cert_free(&b->origin_cert);
	comm_close(&b->server);
	if (b->fc != NULL)
		fwd_connect_cancel(b->fc);
	t->busy--;
	return (t);
}

/* Give up: log why, close. */
static void
bump_fail(struct client_bump *b, const char *why)
{
	struct client_txn *t;

	if (why != NULL)
		bump_log(b, LG_INFO, "%s", why);
	t = bump_let_go(b);
	client_txn_abort(t);
}

/* The txn ends (the client went, shutdown): what runs is stopped, and
 * the txn is let go when the last completion has come. */
void
client_bump_abort(struct client_txn *t)
{
	struct client_bump *b = t->cc->bump;

	if (b == NULL || b->t != t || b->ended)
		return;
	b->ended = true;
	comm_close(&b->server);
	if (b->fc != NULL)
		fwd_connect_cancel(b->fc);
	if (b->pending == 0) {		/* nothing to wait for */
		b->ended = false;
		bump_let_go(b);
	}
}

/* A completion for a CONNECT aborted meanwhile: true, and the txn let go
 * if this is the last one (called before its bump_release()). */
static bool
bump_gone(struct client_bump *b)
{
	struct client_txn *t;

	if (!b->ended)
		return (false);
	if (b->pending == 1) {
		b->ended = false;
		t = bump_let_go(b);
		client_txn_maybe_free(t);
	}
	return (true);
}

/* -- the start: 200, step 1 ---------------------------------------------- */

void
client_bump_start(struct client_txn *t)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	struct client_conn *cc = t->cc;
	struct client_bump *b = cc->bump;
	struct buf_chain out;

	CHECK_OBJ_NOTNULL(b, CLIENT_BUMP_MAGIC);
	CHECK(b->t == NULL);
	b->t = t;
	t->busy++;
	b->hello = calloc(1, sizeof *b->hello);
	b->step = 1;
	b->rule = 0;
	b->decided = BUMP_NONE;
	b->have_hello = false;
	t->state = TXN_WAIT;
	t->close_after = true;
	t->code = RESULT_TCP_TUNNEL;
	t->status = 200;
	t->headers_sent = true;
	if (b->hello == NULL) {
		bump_fail(b, "out of memory");
		return;
	}
	if (buf_chain_len(&cc->in) > 0) {
		/* Bytes sent before the 200 were read with the CONNECT:
		 * they cannot be peeked at any more, only passed on. */
		bump_log(b, LG_INFO, "the client sent its bytes before "
		    "the 200: spliced");
		bump_let_go(b);
		t->headers_sent = false;
		t->status = 0;
		client_tunnel_start(t);
		return;
	}
	buf_chain_init(&out, comm_loop_pool(cc->ctx->deps.loop));
	if (buf_chain_append(&out, ok, sizeof ok - 1) != 0) {
		buf_chain_fini(&out);
		bump_fail(b, "out of memory");
		return;
	}
	bump_hold(b);
	comm_writev(cc->conn, &out, bump_ok_written, b);
	buf_chain_fini(&out);
}

static void
bump_ok_written(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct client_bump *b = arg;

	(void)c;
	CHECK_OBJ_NOTNULL(b, CLIENT_BUMP_MAGIC);
	if (!bump_gone(b)) {
		if (res->status != COMM_OK)
			bump_fail(b, NULL);
		else
			bump_step(b);
	}
	bump_release(b);
}

/* -- the rules: one ssl_bump line at a time -------------------------------- */

static bool
bump_possible(const struct client_bump *b, enum client_bump_action a)
{
	if (a == CLIENT_BUMP_PEEK || a == CLIENT_BUMP_STARE)
		return (b->step < 3);
	return (true);
}

/* Check the rules for the step b->step, from the first line. */
static void
bump_step(struct client_bump *b)
{
	struct client_txn *t = b->t;

	b->rule = 0;
	b->fallback = false;
	client_txn_view(t);
	t->view.ssl_step = b->step;
	if (b->have_hello && b->hello->sni[0] != '\0') {
		t->view.sni = b->hello->sni;
		t->view.sni_len = strlen(b->hello->sni);
	}
	t->view.cert_names = (const char *const *)b->names;
	t->view.ncert_names = b->nnames;
	bump_rules_next(b);
}

/* A rule decided a: what it is for. */
static void
bump_decided(struct client_bump *b, enum client_bump_action a)
{
	if (b->fallback)
		bump_fallback_done(b, a);
	else
		bump_act(b, a);
}

static void
bump_rules_next(struct client_bump *b)
{
	const struct client_deps *d = &b->cc->ctx->deps;
	const struct client_bump_rule *r;
	struct client_txn *t = b->t;
	enum acl_answer a;

	for (; b->rule < d->nbump_rules; b->rule++) {
		r = &d->bump_rules[b->rule];
		if (!b->fallback && !bump_possible(b, r->action))
			continue;
		if (r->rules == NULL) {
			bump_decided(b, r->action);
			return;
		}
		a = acl_check_start(&t->ck, r->rules, &t->view, &t->lk, d->dns,
		    ACL_DENY, bump_checked, b);
		if (a == ACL_WAIT) {
			bump_hold(b);
			return;
		}
		if (a == ACL_ALLOW) {
			bump_decided(b, r->action);
			return;
		}
	}
	bump_decided(b, CLIENT_BUMP_SPLICE);	/* never bump by default */
}

static void
bump_checked(struct acl_check *ck, enum acl_answer a, void *arg)
{
	struct client_bump *b = arg;
	const struct client_deps *d = &b->cc->ctx->deps;

	(void)ck;
	CHECK_OBJ_NOTNULL(b, CLIENT_BUMP_MAGIC);
	if (!bump_gone(b) && a != ACL_CANCELLED) {
		/* Reconfigured meanwhile: the rules may be others. */
		if (b->rule >= d->nbump_rules)
			bump_decided(b, CLIENT_BUMP_SPLICE);
		else if (a == ACL_ALLOW)
			bump_decided(b, d->bump_rules[b->rule].action);
		else {
			b->rule++;
			bump_rules_next(b);
		}
	}
	bump_release(b);
}

static void
bump_splice(struct client_bump *b)
{
	struct client_txn *t = bump_let_go(b);

	b->cc->ctx->stats.spliced++;
	client_tunnel_splice(t);
}

static void
bump_act(struct client_bump *b, enum client_bump_action a)
{
	bump_log(b, LG_DEBUG, "step %u: %s", b->step, bump_action_names[a]);
	switch (a) {
	case CLIENT_BUMP_SPLICE:
		bump_splice(b);
		return;
	case CLIENT_BUMP_TERMINATE:
		bump_fail(b, "terminated by ssl_bump");
		return;
	case CLIENT_BUMP_BUMP:
		b->decided = CLIENT_BUMP_BUMP;
		if (b->server != NULL)		/* step 3 */
			bump_client(b);
		else if (!b->have_hello)
			bump_peek(b, 5);	/* the SNI, for the origin */
		else
			bump_origin(b);
		return;
	case CLIENT_BUMP_PEEK:
	case CLIENT_BUMP_STARE:
		b->step++;
		if (b->step == 2)
			bump_peek(b, 5);
		else
			bump_origin(b);
		return;
	case CLIENT_BUMP__COUNT:
		break;
	}
	WRONG("bump_act: no such action");
}

/* -- step 2: the ClientHello, peeked --------------------------------------- */

static void
bump_peek(struct client_bump *b, size_t want)
{
	struct client_conn *cc = b->cc;

	if (cc->reading) {
		/* client_bump_busy() keeps this from happening; were a
		 * read still out, what it takes could not be peeked. */
		bump_fail(b, "a read of the connection is still pending: "
		    "the ClientHello cannot be peeked");
		return;
	}
	comm_set_timeout(cc->conn, COMM_TO_READ,
	    cc->ctx->deps.conf->request_timeout);
	bump_hold(b);
	comm_peek(cc->conn, want, bump_peeked, b);
}

/* Not a ClientHello: spliced if the rules say so, else refused.  With
 * nothing decided yet, the rules are asked what step 2 would do without
 * a name (the first line whose acls match, whatever its action); their
 * acls may wait on a lookup, as at any step. */
static void
bump_not_hello(struct client_bump *b, const char *why)
{
	snprintf(b->fallback_why, sizeof b->fallback_why, "%s", why);
	if (b->decided != BUMP_NONE) {
		bump_fallback_done(b, (enum client_bump_action)b->decided);
		return;
	}
	b->step = 2;
	b->rule = 0;
	b->fallback = true;
	b->t->view.ssl_step = 2;
	bump_rules_next(b);
}

static void
bump_fallback_done(struct client_bump *b, enum client_bump_action a)
{
	b->fallback = false;
	b->decided = (uint8_t)a;
	if (a == CLIENT_BUMP_SPLICE) {
		bump_log(b, LG_INFO, "%s: spliced", b->fallback_why);
		bump_splice(b);
		return;
	}
	bump_fail(b, b->fallback_why);
}

static void
bump_peeked(struct comm_conn *c, const struct comm_result *res, void *arg)
{
	struct client_bump *b = arg;
	enum tls_hello_status st;
	const char *why;
	char msg[160];
	size_t need = 0;

	(void)c;
	CHECK_OBJ_NOTNULL(b, CLIENT_BUMP_MAGIC);
	if (bump_gone(b)) {
		bump_release(b);
		return;
	}
	comm_set_timeout(b->cc->conn, COMM_TO_READ, 0);
	if (res->status == COMM_TIMEOUT)
		bump_fail(b, "the client stalled in its ClientHello "
		    "(request_timeout)");
	else if (res->status == COMM_EOF)
		bump_fail(b, "the client closed before its ClientHello");
	else if (res->status != COMM_OK)
		bump_fail(b, NULL);
	else {
		st = tls_hello_parse(buf_slice_ptr(&res->data), res->data.len,
		    TLS_HELLO_MAX, b->hello, &need, &why);
		switch (st) {
		case TLS_HELLO_OK:
			b->have_hello = true;
			/* The inner hello is encrypted to the origin: the
			 * outer name is all the rules see, and what a bump
			 * shows a certificate for (the client then falls
			 * back as for a server without ECH). */
			if (b->hello->ech)
				bump_log(b, LG_INFO, "ClientHello with "
				    "encrypted_client_hello: judged by its "
				    "outer name %s", b->hello->sni[0] != '\0' ?
				    b->hello->sni : "(none)");
			if (b->decided == CLIENT_BUMP_BUMP)
				bump_origin(b);
			else
				bump_step(b);
			break;
		case TLS_HELLO_MORE:
			if (need <= res->data.len) {
				bump_fail(b, "the client closed in the middle "
				    "of its ClientHello");
				break;
			}
			bump_peek(b, need);
			break;
		case TLS_HELLO_TOO_BIG:
			snprintf(msg, sizeof msg, "ClientHello over %u bytes",
			    TLS_HELLO_MAX);
			bump_not_hello(b, msg);
			break;
		case TLS_HELLO_NOT_TLS:
			snprintf(msg, sizeof msg, "not a TLS ClientHello (%s)",
			    why);
			bump_not_hello(b, msg);
			break;
		case TLS_HELLO_BAD:
			snprintf(msg, sizeof msg, "malformed ClientHello: %s",
			    why);
			bump_not_hello(b, msg);
			break;
		}
	}
	bump_release(b);
}

/* -- step 3: the origin, server first -------------------------------------- */

/* The name the client wants: its SNI, else the CONNECT host. */
static const char *
bump_name(const struct client_bump *b)
{
	return (b->have_hello && b->hello->sni[0] != '\0' ? b->hello->sni :
	    b->host);
}

static int
bump_keep_host(struct client_bump *b)
{
	const struct client_txn *t = b->t;
	const char *target = http_msg_ptr(&t->req, t->req.target);

	free(b->host);
	b->host = strndup(target + t->url.host_off, t->url.host_len);
	b->port = t->url.port;
	return (b->host == NULL ? -ENOMEM : 0);
}

/* The key of the origin's certificate remembered: the name asked for,
 * the server connected to, and the generation of the TLS context that
 * verified it (a reconfigure may trust other CAs). */
static void
bump_origin_key(const struct client_bump *b, unsigned gen, char *key,
    size_t len)
{
	snprintf(key, len, "%s %s:%u %u", bump_name(b), b->host, b->port,
	    gen);
}

static void
bump_origin(struct client_bump *b)
{
	struct client_txn *t = b->t;
	const char *target = http_msg_ptr(&t->req, t->req.target);
	char key[300];
	unsigned gen = 0;

	if (bump_keep_host(b) != 0) {
		bump_fail(b, "out of memory");
		return;
	}
	/* Bumped whatever the certificate says: one verified within the
	 * minute does (its errors judged again), no handshake needed. */
	(void)fwd_ctx_tls(b->cc->ctx->deps.fwd, &gen);
	bump_origin_key(b, gen, key, sizeof key);
	if (b->decided == CLIENT_BUMP_BUMP && (b->origin_cert =
	    tls_mint_origin_find(b->mint, key, b->codes, &b->ncodes,
	    BUMP_ERRORS)) != NULL) {
		bump_log(b, LG_DEBUG, "the origin's certificate, verified "
		    "lately");
		b->nallowed = 0;
		b->code = 0;
		bump_verdict_next(b);
		return;
	}
	bump_hold(b);
	b->fc = fwd_connect_start(b->cc->ctx->deps.fwd, target +
	    t->url.host_off, t->url.host_len, t->url.port, bump_connected, b);
	if (b->fc == NULL) {
		bump_release(b);
		bump_fail(b, "out of memory");
	}
}

/* The origin failed: the client still gets a certificate, and its first
 * request the reason (Squid's delayed error), rather than a browser
 * warning that says nothing. */
static void
bump_delay_error(struct client_bump *b, enum errpage_id page,
    const char *what)
{
	free(b->error);
	b->error = strdup(what);
	b->error_page = (uint8_t)page;
	bump_log(b, LG_INFO, "origin failed: %s", what);
	comm_close(&b->server);
	bump_client(b);
}

static void
bump_connected(struct comm_conn *c, const struct sockaddr *peer,
    enum store_err err, int sys_errno, void *arg)
{
	struct client_bump *b = arg;
	struct tls_ctx *tc = fwd_ctx_tls(b->cc->ctx->deps.fwd, &b->tls_gen);
	char what[256];
	struct ssl_st *ssl;

	CHECK_OBJ_NOTNULL(b, CLIENT_BUMP_MAGIC);
	b->fc = NULL;
	b->server = c;
	if (bump_gone(b)) {
		comm_close(&b->server);
		bump_release(b);
		return;
	}
	if (c == NULL) {
		snprintf(what, sizeof what, "%s%s%s", store_err_text(err),
		    sys_errno != 0 ? ": " : "", sys_errno != 0 ?
		    strerror(sys_errno) : "");
		bump_delay_error(b, err == STORE_ERR_DNS ? ERRPAGE_DNS_FAIL :
		    ERRPAGE_CONNECT_FAIL, what);
		bump_release(b);
		return;
	}
	client_addr_set(&b->t->server, peer);
	ssl = tc != NULL ? tls_client_new(tc, bump_name(b), b->port) : NULL;
	if (ssl == NULL || tls_client_keep_errors(ssl) != 0 ||
	    comm_tls_start(c, ssl, b->cc->ctx->deps.conf->connect_timeout,
	    bump_origin_tls, b) != 0) {
		tls_ssl_free(ssl);
		comm_close(&b->server);
		bump_fail(b, "out of memory");
		bump_release(b);
		return;
	}
	/* The hold of the connect passes to the handshake. */
}

/* Squid's name for an error: a certificate that does not name the
 * server is SQUID_X509_V_ERR_DOMAIN_MISMATCH, which sslproxy_cert_error
 * lines use. */
static const char *
bump_error_name(int code)
{
	return (code == tls_verify_code("SQUID_X509_V_ERR_DOMAIN_MISMATCH") ?
	    "SQUID_X509_V_ERR_DOMAIN_MISMATCH" : tls_verify_name(code));
}

/* The origin is verified (or allowed): on to the client, or to step 3. */
static void
bump_origin_ok(struct client_bump *b)
{
	if (b->decided == CLIENT_BUMP_BUMP)
		bump_client(b);
	else {
		b->step = 3;
		bump_step(b);
	}
}

/* sslproxy_cert_error on each error the origin's certificate has, in
 * turn (a check may wait on a lookup); the first one denied is the
 * reason, by Squid's name. */
static void
bump_verdict_next(struct client_bump *b)
{
	const struct client_deps *d = &b->cc->ctx->deps;
	struct client_txn *t = b->t;
	enum acl_answer a;

	for (; b->code < b->ncodes; b->code++) {
		t->view.ssl_error = b->codes[b->code];
		a = d->cert_error == NULL ? ACL_DENY : acl_check_start(&t->ck,
		    d->cert_error, &t->view, &t->lk, d->dns, ACL_DENY,
		    bump_error_checked, b);
		if (a == ACL_WAIT) {
			bump_hold(b);
			return;
		}
		if (a != ACL_ALLOW) {
			t->view.ssl_error = 0;
			bump_delay_error(b, ERRPAGE_SECURE_CONNECT_FAIL,
			    bump_error_name(b->codes[b->code]));
			return;
		}
		bump_log(b, LG_INFO, "certificate error %s allowed by "
		    "sslproxy_cert_error", bump_error_name(b->codes[b->code]));
		b->allowed[b->nallowed++] = b->codes[b->code];
	}
	t->view.ssl_error = 0;
	bump_origin_ok(b);
}

static void
bump_error_checked(struct acl_check *ck, enum acl_answer a, void *arg)
{
	struct client_bump *b = arg;

	(void)ck;
	CHECK_OBJ_NOTNULL(b, CLIENT_BUMP_MAGIC);
	if (!bump_gone(b) && a != ACL_CANCELLED) {
		if (a == ACL_ALLOW) {
			bump_log(b, LG_INFO, "certificate error %s allowed "
			    "by sslproxy_cert_error",
			    bump_error_name(b->codes[b->code]));
			b->allowed[b->nallowed++] = b->codes[b->code];
		} else {
			b->t->view.ssl_error = 0;
			bump_delay_error(b, ERRPAGE_SECURE_CONNECT_FAIL,
			    bump_error_name(b->codes[b->code]));
			bump_release(b);
			return;
		}
		b->code++;
		bump_verdict_next(b);
	}
	bump_release(b);
}

static void
bump_origin_tls(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct client_bump *b = arg;
	char what[256], key[300];

	CHECK_OBJ_NOTNULL(b, CLIENT_BUMP_MAGIC);
	if (bump_gone(b)) {
		comm_close(&b->server);
		bump_release(b);
		return;
	}
	if (res->status != COMM_OK) {
		fwd_tls_failure(c, res, what, sizeof what);
		bump_delay_error(b, ERRPAGE_SECURE_CONNECT_FAIL, what);
		bump_release(b);
		return;
	}
	bump_names_free(b);
	b->names = calloc(BUMP_NAMES, sizeof *b->names);
	if (b->names != NULL)
		b->nnames = tls_peer_names(comm_tls_ssl(c), b->names,
		    BUMP_NAMES);
	b->t->view.cert_names = (const char *const *)b->names;
	b->t->view.ncert_names = b->nnames;
	b->nallowed = 0;
	b->code = 0;
	b->ncodes = tls_verify_errors(comm_tls_ssl(c), b->codes, BUMP_ERRORS);
	bump_origin_key(b, b->tls_gen, key, sizeof key);
	tls_mint_origin_keep(b->mint, key, comm_tls_ssl(c));
	bump_verdict_next(b);
	bump_release(b);
}

/* -- the client's handshake ------------------------------------------------ */

/* Mirror the origin's certificate (or make one for the name the client
 * asked for, when the origin failed) and shake hands with the client. */
static void
bump_client(struct client_bump *b)
{
	struct client_conn *cc = b->cc;
	struct tls_mint_stats before, after;
	struct mgr_client_figures *fg;
	const struct ssl_st *origin;
	struct ssl_st *ssl;
	char err[256];

	if (b->host == NULL && bump_keep_host(b) != 0) {
		bump_fail(b, "out of memory");
		return;
	}
	origin = b->server != NULL && b->error == NULL ?
	    comm_tls_ssl(b->server) : NULL;
	tls_mint_stats(b->mint, &before);
	if (origin == NULL && b->origin_cert != NULL && b->error == NULL)
		ssl = tls_mint_server_new_cert(b->mint, b->origin_cert,
		    bump_name(b), err, sizeof err);
	else
		ssl = tls_mint_server_new(b->mint, origin, bump_name(b), err,
		    sizeof err);
	tls_mint_stats(b->mint, &after);
	fg = &cc->ctx->stats;
	fg->certs_minted += after.misses - before.misses;
	fg->cert_hits += after.hits - before.hits;
	fg->cert_entries = after.entries;
	fg->cert_bytes = after.bytes;
	/* The requests inside go through fwd like any https:// URL; the
	 * first one reuses this connection (from the pool) when it was
	 * verified for the URL's host (the SNI was the CONNECT host). */
	if (origin != NULL && strcasecmp(bump_name(b), b->host) == 0)
		fwd_keep_idle(cc->ctx->deps.fwd, &b->server, b->host,
		    strlen(b->host), b->port, b->tls_gen, b->allowed,
		    b->nallowed, &b->t->server.sa);
	comm_close(&b->server);
	if (ssl == NULL) {
		bump_fail(b, err);
		return;
	}
	bump_hold(b);
	if (comm_tls_start(cc->conn, ssl, cc->ctx->deps.conf->request_timeout,
	    bump_client_tls, b) != 0) {
		tls_ssl_free(ssl);
		bump_release(b);
		bump_fail(b, "out of memory");
	}
}

static void
bump_client_tls(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct client_bump *b = arg;
	struct client_txn *t;
	const char *why;

	CHECK_OBJ_NOTNULL(b, CLIENT_BUMP_MAGIC);
	if (bump_gone(b)) {
		bump_release(b);
		return;
	}
	if (res->status != COMM_OK) {
		why = tls_error_reason(comm_tls_error(c));
		bump_fail(b, why != NULL ? why : res->status == COMM_TIMEOUT ?
		    "the client's TLS handshake timed out" :
		    "the client closed during its TLS handshake");
		bump_release(b);
		return;
	}
	/* The CONNECT is over; the connection is the client's HTTPS now. */
	b->cc->ctx->stats.bumped++;
	t = bump_let_go(b);
	t->close_after = false;
	t->req.keep_alive = true;
	t->req_done = true;
	t->reply_complete = true;
	client_txn_finish(t);
	bump_release(b);
}

/* -- requests inside ------------------------------------------------------- */

void
client_bump_fwd_req(const struct client_txn *t, struct fwd_req *fr)
{
	const struct client_bump *b = t->cc->bump;

	if (b == NULL || b->host == NULL || b->nallowed == 0)
		return;
	fr->tls_allowed = b->allowed;
	fr->ntls_allowed = b->nallowed;
}

int
client_bump_request(struct client_txn *t)
{
	struct client_bump *b = t->cc->bump;
	const char *target;
	char url[BUMP_URL_MAX], port[8];
	struct http_url u;
	bool ip6;
	int n;

	if (b == NULL || b->host == NULL)
		return (0);
	if (b->error != NULL) {
		client_txn_error(t, (enum errpage_id)b->error_page, b->error,
		    0);
		return (-1);
	}
	target = http_msg_ptr(&t->req, t->req.target);
	if (t->req.target.len > 0 && target[0] != '/' && http_url_parse(target,
	    t->req.target.len, 0, &u) == 0 && u.form == HTTP_URL_ABSOLUTE) {
		/* The client asked for a tunnel to one server: a URL naming
		 * another (or http:// inside TLS) would reach a site that
		 * the ssl_bump rules never saw. */
		if (u.scheme != HTTP_SCHEME_HTTPS || u.port != b->port ||
		    u.host_len != strlen(b->host) || strncasecmp(target +
		    u.host_off, b->host, u.host_len) != 0) {
			client_txn_error(t, ERRPAGE_INVALID_REQ, "the URL "
			    "does not name the server of the CONNECT", 0);
			return (-1);
		}
		return (0);	/* checked as any, Host included */
	}
	if (t->req.target.len == 0 || target[0] != '/')
		return (0);	/* invalid: refused as any */
	/* The default port is left out, as a client writes the URL. */
	snprintf(port, sizeof port, ":%u", b->port);
	ip6 = strchr(b->host, ':') != NULL;
	n = snprintf(url, sizeof url, "https://%s%s%s%s%.*s", ip6 ? "[" : "",
	    b->host, ip6 ? "]" : "", b->port == 443 ? "" : port,
	    (int)t->req.target.len, target);
	if (n < 0 || (size_t)n >= sizeof url) {
		client_txn_error(t, ERRPAGE_URI_TOO_LONG, NULL, 0);
		return (-1);
	}
	if (http_msg_set_target(&t->req, url, (size_t)n) != 0) {
		client_txn_abort(t);
		return (-1);
	}
	return (0);
}
