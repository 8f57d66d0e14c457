/*
 * client_mgr.c - the client side's part of the cache manager: tell a
 * manager request from one to forward, answer it (mgr_answer() renders,
 * this writes), count every finished transaction for the pages, and the
 * two pages only the client side can render (client_list,
 * active_requests).
 *
 * The general pages (mgr_page.h) read the client side's figures, and
 * those of the modules it uses, through client_mgr_figures(), set when
 * the client side registers its pages; mgr/ never includes client/.
 *
 * A manager request is one of (DESIGN.md "Observability"):
 *	cache_object://host/page[@password]		(squidclient)
 *	http://self:port/squid-internal-mgr/page	(absolute-form)
 *	/squid-internal-mgr/page, /metrics		(origin-form)
 * where "self" is a name of this cuttle: visible_hostname, localhost,
 * the address the connection came in on, a loopback address.  It goes
 * through http_access like any request (the `manager` acl matches it)
 * and is answered here, never forwarded.
 */
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/auth.h"
#include "base/check.h"
#include "base/log.h"
#include "client/client_int.h"
#include "http/http_out.h"
#include "mgr/mgr_page.h"

#define MGR_PREFIX	"/squid-internal-mgr"
#define MGR_PREFIX_LEN	(sizeof MGR_PREFIX - 1)

static bool
client_mgr_span_is(const char *p, size_t len, const char *s)
{
	return (len == strlen(s) && strncasecmp(p, s, len) == 0);
}

/* Is host:port (from an absolute URL) this cuttle, as reached through
 * cc?  Squid's internalHostnameIs() and the port it listens on. */
static bool
client_mgr_is_self(const struct client_txn *t)
{
	const struct client_conn *cc = t->cc;
	const char *conf_name = cc->ctx->deps.conf->visible_hostname;
	const char *host = http_msg_ptr(&t->req, t->req.target) +
	    t->url.host_off;
	size_t len = t->url.host_len;
	char lit[INET6_ADDRSTRLEN];
	union client_addr local;
	struct in6_addr a6;
	struct in_addr a4;

	if (t->url.port != client_local_port(cc))
		return (false);
	if (client_mgr_span_is(host, len, "localhost") || (conf_name != NULL &&
	    client_mgr_span_is(host, len, conf_name)))
		return (true);
	if (len >= sizeof lit)
		return (false);
	memcpy(lit, host, len);
	lit[len] = '\0';
	(void)client_conn_local(cc, &local);
	if (inet_pton(AF_INET, lit, &a4) == 1)
		return ((ntohl(a4.s_addr) >> 24) == 127 ||
		    (local.sa.sa_family == AF_INET &&
		    local.sin.sin_addr.s_addr == a4.s_addr));
	if (inet_pton(AF_INET6, lit, &a6) == 1)
		return (IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (local.sa.sa_family == AF_INET6 &&
		    memcmp(&local.sin6.sin6_addr, &a6, sizeof a6) == 0));
	return (false);
}

/* The page part of the target: after cache_object://host/, after
 * /squid-internal-mgr/, or "metrics".  false: not a manager request. */
static bool
client_mgr_page(const struct client_txn *t, const char **page, size_t *len)
{
	const char *target = http_msg_ptr(&t->req, t->req.target);
	const char *path = target + t->url.path_off;
	size_t plen = t->url.path_len;

	if (t->req.method == HTTP_M_CONNECT)
		return (false);
	if (t->url.form == HTTP_URL_ABSOLUTE &&
	    t->url.scheme == HTTP_SCHEME_OTHER && t->url.scheme_len == 12 &&
	    strncasecmp(target, "cache_object", 12) == 0) {
		if (plen > 0 && path[0] == '/') {
			path++;
			plen--;
		}
		*page = path;
		*len = plen;
		return (true);
	}
	if (t->url.form == HTTP_URL_ABSOLUTE) {
		if (t->url.scheme != HTTP_SCHEME_HTTP ||
		    !client_mgr_is_self(t))
			return (false);
	} else if (t->url.form != HTTP_URL_ORIGIN)
		return (false);
	if ((plen == 8 || (plen > 8 && path[8] == '?')) &&
	    memcmp(path, "/metrics", 8) == 0) {
		*page = "metrics";
		*len = 7;
		return (true);
	}
	if (plen < MGR_PREFIX_LEN || memcmp(path, MGR_PREFIX,
	    MGR_PREFIX_LEN) != 0 || (plen > MGR_PREFIX_LEN &&
	    path[MGR_PREFIX_LEN] != '/' && path[MGR_PREFIX_LEN] != '?'))
		return (false);
	path += MGR_PREFIX_LEN;
	plen -= MGR_PREFIX_LEN;
	if (plen > 0 && path[0] == '/') {
		path++;
		plen--;
	}
	*page = path;
	*len = plen;
	return (true);
}

/*
 * cache_object://host[:port]/page: "_" is no scheme character (RFC 3986
 * 3.1), so http_url_parse() refuses what squidclient sends; parse it
 * here into t->url (absolute-form, HTTP_SCHEME_OTHER).  Without a port
 * it is the one the request came in on: the URL names this cuttle's
 * manager (and port acls such as Safe_ports see a real port, as Squid's
 * default 3128 for the scheme).  0, or -EINVAL: not such a URL.
 */
int
client_mgr_url(struct client_txn *t)
{
	const char *s = http_msg_ptr(&t->req, t->req.target);
	size_t len = t->req.target.len, i, host_end;
	unsigned long port = 0;

	if (t->req.method == HTTP_M_CONNECT || len < 15 ||
	    strncasecmp(s, "cache_object://", 15) != 0)
		return (-EINVAL);
	for (i = 15; i < len && s[i] != '/' && s[i] != ':'; i++)
		if (s[i] == '@' || s[i] == '?' || s[i] == '[')
			return (-EINVAL);
	if (i == 15)
		return (-EINVAL);
	host_end = i;
	if (i < len && s[i] == ':')
		for (i++; i < len && s[i] != '/'; i++) {
			if (s[i] < '0' || s[i] > '9' || port > 6553)
				return (-EINVAL);
			port = port * 10 + (unsigned long)(s[i] - '0');
		}
	if (port > 65535)
		return (-EINVAL);
	memset(&t->url, 0, sizeof t->url);
	t->url.form = HTTP_URL_ABSOLUTE;
	t->url.scheme = HTTP_SCHEME_OTHER;
	t->url.scheme_len = 12;
	t->url.port = port != 0 ? (uint16_t)port : client_local_port(t->cc);
	t->url.host_off = 15;
	t->url.host_len = (uint32_t)(host_end - 15);
	t->url.path_off = (uint32_t)i;
	t->url.path_len = (uint32_t)(len - i);
	return (0);
}

/* A manager request?  An origin-form one is given the port it came in
 * on (port acls such as Safe_ports see that, not 0). */
bool
client_mgr_request(struct client_txn *t)
{
	const char *page;
	size_t len;

	if (t->cc->ctx->deps.mgr == NULL || !client_mgr_page(t, &page, &len))
		return (false);
	if (t->url.form == HTTP_URL_ORIGIN)
		t->url.port = client_local_port(t->cc);
	return (true);
}

/* -- passwords ------------------------------------------------------------- */

/* The password of "Basic base64(user:password)" into pw (NUL-ended);
 * false when f is not that.  Decoded as proxy credentials are. */
static bool
client_mgr_basic(const struct http_msg *m, const struct http_field *f,
    char *pw, size_t pwlen)
{
	char dec[AUTH_BASIC_MAX], *pass;
	const char *why;
	bool ok;

	ok = auth_basic_credentials(http_msg_ptr(m, f->value), f->value.len,
	    dec, sizeof dec, &pass, &why) == 0 && strlen(pass) < pwlen;
	if (ok)
		strcpy(pw, pass);
	explicit_bzero(dec, sizeof dec);
	return (ok);
}

/* -- the answer ------------------------------------------------------------ */

void
client_mgr_serve(struct client_txn *t)
{
	struct client_ctx *ctx = t->cc->ctx;
	const struct http_field *f;
	struct mgr_request rq;
	struct mgr_reply rep;
	struct buf_chain out;
	const char *page, *at, *q;
	char pw[128], date[40];
	size_t len;
	int err;

	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	AN(client_mgr_page(t, &page, &len));
	memset(&rq, 0, sizeof rq);
	/* page[?query][@password], or page@password?query */
	q = memchr(page, '?', len);
	if (q != NULL)
		len = (size_t)(q - page);
	at = memchr(page, '@', len);
	if (at != NULL && (size_t)(page + len - at - 1) < sizeof pw) {
		memcpy(pw, at + 1, (size_t)(page + len - at - 1));
		pw[page + len - at - 1] = '\0';
		rq.password = pw;
		len = (size_t)(at - page);
	}
	if (rq.password == NULL &&
	    (((f = http_msg_field(&t->req, HTTP_HDR_AUTHORIZATION)) != NULL &&
	    client_mgr_basic(&t->req, f, pw, sizeof pw)) ||
	    ((f = http_msg_field(&t->req, HTTP_HDR_PROXY_AUTHORIZATION)) !=
	    NULL && client_mgr_basic(&t->req, f, pw, sizeof pw))))
		rq.password = pw;
	rq.page = page;
	rq.page_len = len;
	f = http_msg_field(&t->req, HTTP_HDR_ACCEPT);
	if (f != NULL && memmem(http_msg_ptr(&t->req, f->value),
	    f->value.len, "text/html", 9) != NULL)
		rq.format = MGR_FMT_HTML;

	/* The request's content, if any, is read and dropped (there is
	 * no fwd to take it), so the connection may be reused. */
	t->state = TXN_BODY;
	t->code = RESULT_TCP_MISS;
	rq.conf = ctx->deps.conf;
	rq.now = comm_now(ctx->deps.loop);
	err = mgr_answer(ctx->deps.mgr, &rq, &rep);
	if (err != 0) {
		mgr_out_fini(&rep.body);
		client_txn_error(t, ERRPAGE_INVALID_REQ, "the cache manager "
		    "ran out of memory", 0);
		return;
	}
	if (rep.close)
		t->close_after = true;
	buf_chain_init(&out, comm_loop_pool(ctx->deps.loop));
	err = http_out_printf(&out, "HTTP/1.1 %u %s\r\nServer: cuttle/%s\r\n"
	    "Date: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n", rep.status,
	    http_reason(rep.status), PACKAGE_VERSION,
	    http_date_format(time(NULL), date, sizeof date),
	    rep.content_type, rep.body.len);
	if (err == 0 && rep.realm != NULL)
		err = http_out_printf(&out, "WWW-Authenticate: Basic "
		    "realm=\"%s\"\r\n", rep.realm);
	if (err == 0)
		err = http_out_printf(&out, "Connection: %s\r\n\r\n",
		    t->close_after || !t->req.keep_alive || ctx->draining ?
		    "close" : "keep-alive");
	if (err == 0 && t->req.method != HTTP_M_HEAD && rep.body.len > 0)
		err = buf_chain_append(&out, rep.body.p, rep.body.len);
	mgr_out_fini(&rep.body);
	if (err != 0) {
		buf_chain_fini(&out);
		client_txn_abort(t);
		return;
	}
	t->status = rep.status;
	client_reply_write_all(t, &out);
	buf_chain_fini(&out);
}

/* -- counting finished transactions ---------------------------------------- */

/* inet_ntop() for IPv4 without its sprintf(), as every request is
 * counted: dotted quad into buf (at least INET_ADDRSTRLEN). */
static void
client_mgr_ipv4(const struct in_addr *a, char *buf)
{
	const unsigned char *b = (const unsigned char *)&a->s_addr;
	unsigned i, v;
	char *p = buf;

	for (i = 0; i < 4; i++) {
		v = b[i];
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
}

void
client_mgr_txn_done(struct client_txn *t)
{
	struct client_conn *cc = t->cc;
	struct mgr *m = cc->ctx->deps.mgr;
	struct mgr_txn_rec rec;
	char client[INET6_ADDRSTRLEN];

	if (m == NULL || t->req.rawlen == 0)
		return;
	memset(&rec, 0, sizeof rec);
	rec.code = (enum result_code)t->code;
	rec.end = (enum result_end)t->end;
	rec.errpage = t->errpage;
	rec.status = t->status;
	rec.bytes_out = t->bytes_out;
	rec.duration = comm_now(cc->ctx->deps.loop) - t->t_start;
	rec.forwarded = t->server.sa.sa_family != AF_UNSPEC;
	client[0] = '\0';
	if (cc->peer.sa.sa_family == AF_INET)
		client_mgr_ipv4(&cc->peer.sin.sin_addr, client);
	else if (cc->peer.sa.sa_family == AF_INET6)
		inet_ntop(AF_INET6, &cc->peer.sin6.sin6_addr, client,
		    sizeof client);
	mgr_txn_done(m, &rec, http_msg_ptr(&t->req, t->req.target),
	    t->req.target.len, client[0] != '\0' ? client : NULL);
}

/* -- client_list, active_requests ------------------------------------------ */

static const char *
client_addr_str(const union client_addr *a, char *buf, size_t len)
{
	if (a->sa.sa_family == AF_UNSPEC)
		return ("-");
	return (comm_addr_format(&a->sa, buf, len));
}

static const char *
client_state_name(const struct client_txn *t)
{
	static const char *names[] = {
		[TXN_HEADERS] = "reading request headers",
		[TXN_BODY] = "reading request content",
		[TXN_WAIT] = "waiting for the reply",
		[TXN_REPLY] = "writing the reply",
		[TXN_DONE] = "done",
	};

	return (t->state < ARRAY_LEN(names) ? names[t->state] : "?");
}

/* Squid's layout: one block per client address; cuttle counts requests
 * per address in a bounded table of the busiest (mgr_top), so a quiet
 * client may be missing when more than MGR_TOP_SLOTS have come. */
static int
client_render_client_list(struct mgr_out *o, const struct mgr_call *c,
    void *arg)
{
	const struct client_ctx *ctx = arg;
	const struct mgr_top *top;
	const struct client_conn *cc;
	const struct list *n;
	unsigned idx[MGR_TOP_SLOTS], i, k, conns;
	char addr[INET6_ADDRSTRLEN];

	(void)c;
	CHECK_OBJ_NOTNULL(ctx, CLIENT_CTX_MAGIC);
	top = mgr_top_clients(ctx->deps.mgr);
	mgr_out_printf(o, "Cache Clients:\n");
	k = mgr_top_sorted(top, idx, MGR_TOP_SLOTS);
	for (i = 0; i < k; i++) {
		conns = 0;
		LIST_FOREACH(n, &ctx->conns) {
			cc = container_of(n, struct client_conn, link);
			addr[0] = '\0';
			if (cc->peer.sa.sa_family == AF_INET)
				inet_ntop(AF_INET, &cc->peer.sin.sin_addr,
				    addr, sizeof addr);
			else if (cc->peer.sa.sa_family == AF_INET6)
				inet_ntop(AF_INET6, &cc->peer.sin6.sin6_addr,
				    addr, sizeof addr);
			if (strcmp(addr, top->v[idx[i]].key) == 0)
				conns++;
		}
		mgr_out_printf(o, "Address: %s\n", top->v[idx[i]].key);
		mgr_out_printf(o, "Currently established connections: %u\n",
		    conns);
		mgr_out_printf(o, "    HTTP Requests %ju\n",
		    (uintmax_t)top->v[idx[i]].n);
		mgr_out_printf(o, "    Bytes sent %ju\n\n",
		    (uintmax_t)top->v[idx[i]].bytes);
	}
	mgr_out_printf(o, "TOTALS\nClients: %u\nConnections open: %u\n", k,
	    ctx->stats.conns_open);
	return (0);
}

/* Squid's "username" line: proxy_auth's user, else an external acl's
 * user=, else "-"; a control character (a helper may send any) cannot
 * start a line of its own. */
static void
client_active_user(struct mgr_out *o, const struct client_txn *t)
{
	const char *u = t->lk.user != NULL ? t->lk.user : t->lk.ext_user;
	size_t i;
	char c;

	mgr_out_printf(o, "username ");
	if (u == NULL || *u == '\0')
		u = "-";
	for (i = 0; u[i] != '\0'; i++) {
		c = (unsigned char)u[i] < 0x20 || u[i] == 0x7f ? '?' : u[i];
		mgr_out_append(o, &c, 1);
	}
	mgr_out_append(o, "\n", 1);
}

static int
client_render_active(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct client_ctx *ctx = arg;
	const struct client_conn *cc;
	const struct client_txn *t;
	const struct list *n;
	union client_addr la;
	char peer[80], local[80];

	CHECK_OBJ_NOTNULL(ctx, CLIENT_CTX_MAGIC);
	LIST_FOREACH(n, &ctx->conns) {
		cc = container_of(n, struct client_conn, link);
		t = cc->txn;
		mgr_out_printf(o, "Connection: %p\n", (const void *)cc);
		/* A connection closed while a completion is still to come
		 * is listed until it has: no descriptor then. */
		mgr_out_printf(o, "\tFD %d\n", cc->conn != NULL ?
		    comm_conn_fd(cc->conn) : -1);
		mgr_out_printf(o, "\tremote: %s\n", client_addr_str(&cc->peer,
		    peer, sizeof peer));
		(void)client_conn_local(cc, &la);
		mgr_out_printf(o, "\tlocal: %s (%s)\n", client_addr_str(
		    &la, local, sizeof local), cc->conn != NULL &&
		    comm_tls_ssl(cc->conn) != NULL ? "https" : "http");
		mgr_out_printf(o, "\tnrequests: %u\n", cc->nreq);
		if (t == NULL || t->req.rawlen == 0) {
			mgr_out_printf(o, "\tidle\n\n");
			continue;
		}
		mgr_out_printf(o, "uri %.*s\n", (int)t->req.target.len,
		    http_msg_ptr(&t->req, t->req.target));
		mgr_out_printf(o, "method %.*s\n", (int)t->req.method_name.len,
		    http_msg_ptr(&t->req, t->req.method_name));
		mgr_out_printf(o, "logType %s\n", result_name(t->code));
		mgr_out_printf(o, "state %s\n", client_state_name(t));
		mgr_out_printf(o, "out.size %ju\n", (uintmax_t)t->bytes_out);
		mgr_out_printf(o, "req_sz %zu\n", (size_t)t->req.rawlen);
		mgr_out_printf(o, "start %.6f (%f seconds ago)\n", t->t_start,
		    c->now - t->t_start);
		client_active_user(o, t);
		mgr_out_printf(o, "\n");
	}
	return (0);
}

/* -- registration -------------------------------------------------------- */

/* What the general pages report: the client side's counters, and those
 * of the modules in force now (ctx->deps, which reconfigure swaps). */
static void
client_mgr_figures(struct mgr_figures *f, void *arg)
{
	const struct client_ctx *ctx = arg;

	CHECK_OBJ_NOTNULL(ctx, CLIENT_CTX_MAGIC);
	f->client = ctx->stats;
	if (ctx->deps.store != NULL)
		store_index_stats(ctx->deps.store, &f->ss);
	if (ctx->deps.fwd != NULL)
		fwd_ctx_stats(ctx->deps.fwd, &f->fs);
	if (ctx->deps.dns != NULL)
		dns_stats(ctx->deps.dns, &f->ds);
}

int
client_register_pages(struct client_ctx *ctx)
{
	struct mgr_registry *r;
	int err;

	CHECK_OBJ_NOTNULL(ctx, CLIENT_CTX_MAGIC);
	AN(ctx->deps.mgr);
	r = mgr_actions(ctx->deps.mgr);
	err = mgr_register(r, MGR_SEC_CLIENT, "client_list",
	    "Cache Client List", 0, client_render_client_list, ctx);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_CLIENT, "active_requests",
		    "Client-side Active Requests", 0, client_render_active,
		    ctx);
	if (err == 0)
		err = client_peer_register_pages(ctx, r);
	if (err == 0)
		mgr_set_figures(ctx->deps.mgr, client_mgr_figures, ctx);
	return (err);
}
