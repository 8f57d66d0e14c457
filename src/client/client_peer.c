/*
 * client_peer.c - PEER, the request path's step that chooses where a
 * request that may be forwarded goes: the origin server, or cache peers
 * (cache_peer), as Squid 5's peer selection does.  It runs after LOOKUP,
 * for a miss (or what the cache does not keep) only:
 *
 *	miss_access ~~> always_direct ~~> never_direct ~~>
 *	cache_peer_access, peer by peer (those with lines) ~~> ICP to the
 *	peers that take queries (a cacheable miss) ~~> fwd_peers_select()
 *	--> FETCH or PASS
 *
 * Each rule list may wait for a lookup (dst, srcdomain); the step parks
 * and comes back here with the answer, t->sel_next saying which list it
 * was; so does ICP, whose answer (the first HIT, else the parent whose
 * MISS came first) heads the candidates.  The candidates go to every fetch the request starts (its
 * struct fwd_req), and the table they index is held by the request
 * until it ends: a reconfigure meanwhile changes nothing for it.  With
 * no cache_peer and no always/never_direct lines, the step is a no-op:
 * fwd goes to the origin as it always did.
 */
#include "config.h"

#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acl/acl.h"
#include "base/check.h"
#include "base/log.h"
#include "client/client_int.h"
#include "fwd/fwd_peer.h"

#define SEL_ALWAYS	1	/* always_direct's answer is in */
#define SEL_NEVER	2	/* never_direct's */
#define SEL_PEER0	3	/* peer i's cache_peer_access: SEL_PEER0 + i */
#define SEL_MISS	200	/* miss_access's */
#define SEL_ICP		201	/* ICP's */

/*
 * Squid's clientHierarchical(): only a GET (or TRACE) without
 * Authorization goes up a hierarchy; the rest goes direct unless
 * never_direct says otherwise (nonhierarchical_direct).
 */
static bool
client_peer_hierarchical(const struct client_txn *t)
{
	if (http_msg_field(&t->req, HTTP_HDR_AUTHORIZATION) != NULL)
		return (false);
	if (t->req.method == HTTP_M_TRACE)
		return (true);
	return (t->req.method == HTTP_M_GET);
}

/*
 * Squid's forwarding-loop check: this cuttle's own Via entry,
 * "1.1 NAME (cuttle/...)" with NAME its visible_hostname, means the
 * request went up a hierarchy and came back (two proxies each other's
 * parent).  The product comment is part of the match, as Squid's
 * " NAME (squid/...)" is: a Squid of the same host name is not this
 * cuttle.  LOOKUP asks too: such a request would join the fetch that
 * sent it round, and wait on itself.
 */
bool
client_peer_loop(const struct client_txn *t)
{
	const char *name = t->cc->ctx->deps.conf->visible_hostname;
	static const char prod[] = " (cuttle/";
	const struct http_field *f;
	const char *s, *e, *sp;
	size_t nl, len, el, rl, pos, start;

	if (name == NULL || (nl = strlen(name)) == 0)
		return (false);
	for (f = http_msg_field(&t->req, HTTP_HDR_VIA); f != NULL;
	    f = http_msg_field_next(&t->req, f)) {
		s = http_msg_ptr(&t->req, f->value);
		len = f->value.len;
		pos = 0;
		while ((el = http_list_next(s, len, &pos, &start)) > 0) {
			e = s + start;
			/* Past the protocol: "1.1 ", "HTTP/1.0 ". */
			if ((sp = memchr(e, ' ', el)) == NULL)
				continue;
			rl = el - (size_t)(sp + 1 - e);
			if (rl >= nl + sizeof prod - 1 &&
			    strncasecmp(sp + 1, name, nl) == 0 &&
			    strncmp(sp + 1 + nl, prod, sizeof prod - 1) == 0)
				return (true);
		}
	}
	return (false);
}

/* The candidates, now that every rule list has answered. */
static enum client_step
client_peer_select(struct client_txn *t)
{
	const char *target = http_msg_ptr(&t->req, t->req.target);
	struct fwd_select_req r;
	char host[256], uri[8192];
	size_t i, n, hl;
	bool https = t->url.scheme == HTTP_SCHEME_HTTPS;
	int w;

	memset(&r, 0, sizeof r);
	hl = t->url.host_len < sizeof host - 1 ? t->url.host_len :
	    sizeof host - 1;
	for (i = 0; i < hl; i++) {
		char c = target[t->url.host_off + i];
		host[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	host[hl] = '\0';
	r.scheme = https ? "https" : "http";
	r.host = host;
	r.host_len = hl;
	r.port = t->url.port;
	r.path = target + t->url.path_off;
	r.path_len = t->url.path_len;
	/* Squid's effective request URI: the port only when it is not the
	 * scheme's. */
	w = snprintf(uri, sizeof uri, "%s://%s%s%s", r.scheme,
	    t->url.host_is_ip6 ? "[" : "", host, t->url.host_is_ip6 ? "]" :
	    "");
	n = w > 0 ? (size_t)w : 0;
	if (t->url.port != (https ? 443 : 80) && n < sizeof uri) {
		w = snprintf(uri + n, sizeof uri - n, ":%u", t->url.port);
		n += w > 0 ? (size_t)w : 0;
	}
	if (n < sizeof uri) {
		w = snprintf(uri + n, sizeof uri - n, "%s%.*s",
		    r.path_len == 0 || r.path[0] == '?' ? "/" : "",
		    (int)r.path_len, r.path);
		n += w > 0 ? (size_t)w : 0;
	}
	r.uri = uri;
	r.uri_len = n < sizeof uri ? n : sizeof uri - 1;
	r.client = &t->cc->peer.sa;
	r.user = t->lk.user;
	r.hierarchical = client_peer_hierarchical(t);
	r.direct = (enum fwd_direct)t->direct;
	r.denied = t->peer_denied;
	r.now = comm_now(t->cc->ctx->deps.loop);
	r.icp_code = t->icp_code;
	r.icp_peer = t->icp_peer;
	t->nhops = (uint8_t)fwd_peers_select(t->peers, &r, t->hops,
	    FWD_MAX_HOPS);
	return ((enum client_step)t->after_peer);
}

static void
client_peer_icp_done(struct icp_query *q, const struct icp_answer *a,
    void *arg)
{
	struct client_txn *t = arg;

	(void)q;
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	t->icpq = NULL;
	t->icp_timedout = a->timedout;
	t->icp_code = a->code;
	t->icp_peer = (int16_t)a->peer;
	client_steps_resume(t);
}

/*
 * Squid's selectSomeNeighbor(): a cacheable miss that may go up the
 * hierarchy (or must: never_direct) asks the peers that take queries
 * and waits for their replies; a miss that goes direct asks nobody.
 */
static enum client_step
client_peer_icp(struct client_txn *t)
{
	struct icp *icp = t->cc->ctx->deps.icp;
	bool hier = client_peer_hierarchical(t);

	if (icp == NULL || t->after_peer != CLIENT_STEP_FETCH ||
	    t->curl == NULL || t->direct == FWD_DIRECT_YES ||
	    (!hier && t->direct != FWD_DIRECT_NO))
		return (client_peer_select(t));
	t->icpq = icp_query_start(icp, t->peers, t->curl, t->peer_denied,
	    hier, client_peer_icp_done, t);
	if (t->icpq == NULL)
		return (client_peer_select(t));
	t->sel_next = SEL_ICP;
	t->step = CLIENT_STEP_PEER;
	return (CLIENT_STEP_WAIT);
}

/* The next peer from i on whose cache_peer_access must be asked. */
static enum client_step
client_peer_access_from(struct client_txn *t, unsigned i)
{
	unsigned n = fwd_peers_count(t->peers);

	for (; i < n; i++) {
		if (fwd_peer_access(t->peers, i) == NULL)
			continue;
		t->sel_next = (uint8_t)(SEL_PEER0 + i);
		return (client_step_check(t, fwd_peer_access(t->peers, i),
		    ACL_ALLOW, CLIENT_STEP_PEER));
	}
	return (client_peer_icp(t));
}

enum client_step
client_peer_step(struct client_txn *t)
{
	struct fwd_peers *p = t->cc->ctx->deps.peers;
	unsigned i;

	switch (t->sel_next) {
	case 0:
		t->icp_peer = -1;
		if (t->req.method == HTTP_M_CONNECT) {
			/* Squid asks miss_access of what may be cached. */
			t->sel_next = SEL_MISS;
			t->answer = ACL_ALLOW;
			return (client_peer_step(t));
		}
		t->sel_next = SEL_MISS;
		return (client_step_check(t, t->cc->ctx->deps.miss_access,
		    ACL_ALLOW, CLIENT_STEP_PEER));
	case SEL_MISS:
		if (t->answer != ACL_ALLOW) {
			/* Squid: a client miss_access denies gets nothing
			 * that is not in the cache. */
			t->code = RESULT_TCP_DENIED;
			client_txn_error(t, ERRPAGE_ACCESS_DENIED,
			    "miss_access denies fetching this miss", 0);
			return (CLIENT_STEP_END);
		}
		if (p == NULL)
			return ((enum client_step)t->after_peer);
		t->peers = p;
		fwd_peers_ref(p);
		t->sel_next = SEL_ALWAYS;
		return (client_step_check(t, fwd_peers_always_direct(p),
		    ACL_DENY, CLIENT_STEP_PEER));
	case SEL_ALWAYS:
		if (t->answer == ACL_ALLOW) {
			t->direct = FWD_DIRECT_YES;
			return (client_peer_select(t));
		}
		t->sel_next = SEL_NEVER;
		return (client_step_check(t, fwd_peers_never_direct(t->peers),
		    ACL_DENY, CLIENT_STEP_PEER));
	case SEL_NEVER:
		t->direct = t->answer == ACL_ALLOW ? FWD_DIRECT_NO :
		    FWD_DIRECT_MAYBE;
		if (!client_peer_loop(t))
			return (client_peer_access_from(t, 0));
		/* Squid's peer selection goes direct out of a loop; where
		 * never_direct forbids that, its processMiss() denies the
		 * looping miss: 403. */
		log_msg(LG_WARN, SEC_CLIENT, "WARNING: Forwarding loop "
		    "detected for: %.*s", (int)t->req.target.len,
		    http_msg_ptr(&t->req, t->req.target));
		if (t->direct == FWD_DIRECT_NO) {
			client_txn_error(t, ERRPAGE_ACCESS_DENIED,
			    "forwarding loop: this proxy's Via is in the "
			    "request and never_direct forbids the origin", 0);
			return (CLIENT_STEP_END);
		}
		t->direct = FWD_DIRECT_YES;
		return (client_peer_select(t));
	case SEL_ICP:
		return (client_peer_select(t));
	default:
		i = t->sel_next - SEL_PEER0;
		if (t->answer != ACL_ALLOW && i < 64)
			t->peer_denied |= (uint64_t)1 << i;
		return (client_peer_access_from(t, i + 1));
	}
}

/*
 * A fetch that PEER did not see (a collapsed request that fetches its
 * own variant, a background revalidation after a stale hit): selected
 * now, without waiting, so it goes where its rules send it.  A rule
 * that would need a lookup answers as acl_rules_check() does without
 * it; such late fetches are rare, and no ICP is asked for them.
 */
static void
client_peer_select_now(struct client_txn *t, struct fwd_peers *p)
{
	unsigned i, n = fwd_peers_count(p);

	t->peers = p;
	fwd_peers_ref(p);
	client_txn_view(t);
	if (acl_rules_check(fwd_peers_always_direct(p), &t->view,
	    ACL_DENY) == ACL_ALLOW)
		t->direct = FWD_DIRECT_YES;
	else if (acl_rules_check(fwd_peers_never_direct(p), &t->view,
	    ACL_DENY) == ACL_ALLOW)
		t->direct = FWD_DIRECT_NO;
	else
		t->direct = FWD_DIRECT_MAYBE;
	for (i = 0; i < n && i < 64; i++)
		if (fwd_peer_access(p, i) != NULL &&
		    acl_rules_check(fwd_peer_access(p, i), &t->view,
		    ACL_ALLOW) != ACL_ALLOW)
			t->peer_denied |= (uint64_t)1 << i;
	(void)client_peer_select(t);
}

void
client_peer_fwd_req(struct client_txn *t, struct fwd_req *fr)
{
	if (t->peers == NULL && t->cc->ctx->deps.peers != NULL)
		client_peer_select_now(t, t->cc->ctx->deps.peers);
	if (t->peers == NULL)
		return;
	fr->peers = t->peers;
	fr->hops = t->hops;
	fr->nhops = t->nhops;
}

void
client_peer_txn_free(struct client_txn *t)
{
	icp_query_cancel(&t->icpq);
	fwd_peers_unref(&t->peers);
}

/* -- the manager: server_list, the dashboard's peers, /metrics ------------- */

static const char *
client_peer_type(const struct fwd_peer_view *v)
{
	return (v->sibling ? "Sibling" : "Parent");
}

static unsigned
client_peer_percent(uint64_t a, uint64_t b)
{
	return (b > 0 ? (unsigned)(a * 100 / b) : 0);
}

/*
 * Squid's server_list (neighborDumpPeers()), field for field where
 * cuttle keeps the figure: a script that reads Squid's page reads this
 * one.  "Last failed connect() at" is in Squid's httpd time format.
 */
static int
client_peer_render_list(struct mgr_out *o, const struct mgr_call *c,
    void *arg)
{
	const struct client_ctx *ctx = arg;
	struct fwd_peers *p = ctx->deps.peers;
	const struct fwd_peer_icp *pi;
	struct fwd_peer_view v;
	char flags[512], when[64];
	const char *name;
	unsigned i, op, n = fwd_peers_count(p);
	struct in6_addr a6;
	time_t t;
	struct tm tm;

	if (n == 0) {
		mgr_out_printf(o, "There are no neighbors installed.\n");
		return (0);
	}
	for (i = 0; i < n; i++) {
		fwd_peer_view(p, i, &v);
		pi = fwd_peer_icp(p, i);
		(void)fwd_peer_flags(p, i, flags, sizeof flags);
		mgr_out_printf(o, "\n%-11.11s: %s\n", client_peer_type(&v),
		    v.name);
		mgr_out_printf(o, "Host       : %s/%u/%u\n", v.host,
		    v.http_port, v.icp_port);
		mgr_out_printf(o, "Flags      :%s\n", flags);
		/* Squid's resolved address; cuttle's is looked up per
		 * connection, so only a numeric host is shown. */
		if (inet_pton(AF_INET, v.host, &a6) == 1 ||
		    inet_pton(AF_INET6, v.host, &a6) == 1)
			mgr_out_printf(o, "Address[0] : %s\n", v.host);
		mgr_out_printf(o, "Status     : %s\n", fwd_peer_is_up(p, i,
		    c->now) ? "Up" : "Down");
		mgr_out_printf(o, "FETCHES    : %ju\n", (uintmax_t)v.fetches);
		mgr_out_printf(o, "OPEN CONNS : %u\n", v.conn_open);
		mgr_out_printf(o, "AVG RTT    : %d msec\n", pi->rtt);
		if (!v.no_query && v.icp_port != 0) {
			if (pi->last_query > 0)
				mgr_out_printf(o, "LAST QUERY : %8d seconds "
				    "ago\n", (int)(c->now - pi->last_query));
			else
				mgr_out_printf(o, "LAST QUERY : none sent\n");
			if (pi->last_reply > 0)
				mgr_out_printf(o, "LAST REPLY : %8d seconds "
				    "ago\n", (int)(c->now - pi->last_reply));
			else
				mgr_out_printf(o, "LAST REPLY : none "
				    "received\n");
			mgr_out_printf(o, "PINGS SENT : %8ju\n",
			    (uintmax_t)pi->sent);
			mgr_out_printf(o, "PINGS ACKED: %8ju %3u%%\n",
			    (uintmax_t)pi->acked, client_peer_percent(
			    pi->acked, pi->sent));
			mgr_out_printf(o, "Histogram of PINGS ACKED:\n");
			for (op = 0; op < FWD_PEER_ICP_OPS; op++) {
				if (pi->replies[op] == 0 ||
				    (name = icp_opcode_name(op)) == NULL)
					continue;
				mgr_out_printf(o, "    %12.12s : %8ju %3u%%\n",
				    name, (uintmax_t)pi->replies[op],
				    client_peer_percent(pi->replies[op],
				    pi->acked));
			}
		}
		if (v.last_failure > 0) {
			t = (time_t)v.last_failure;
			if (gmtime_r(&t, &tm) != NULL && strftime(when,
			    sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm) > 0)
				mgr_out_printf(o, "Last failed connect() at: "
				    "%s\n", when);
		}
	}
	return (0);
}

/* The dashboard's peers: what server_list says, as JSON. */
static int
client_peer_render_json(struct mgr_out *o, const struct mgr_call *c,
    void *arg)
{
	const struct client_ctx *ctx = arg;
	struct fwd_peers *p = ctx->deps.peers;
	const struct fwd_peer_icp *pi;
	struct fwd_peer_view v;
	unsigned i, n = fwd_peers_count(p);

	mgr_out_printf(o, "{\"peers\":[");
	for (i = 0; i < n; i++) {
		fwd_peer_view(p, i, &v);
		pi = fwd_peer_icp(p, i);
		mgr_out_printf(o, "%s{\"name\":", i > 0 ? "," : "");
		mgr_out_json(o, v.name, strlen(v.name));
		mgr_out_printf(o, ",\"host\":");
		mgr_out_json(o, v.host, strlen(v.host));
		mgr_out_printf(o, ",\"type\":\"%s\",\"http_port\":%u,"
		    "\"icp_port\":%u,\"up\":%s,\"fetches\":%ju,"
		    "\"conn_open\":%u,\"rtt_ms\":%d,\"icp_sent\":%ju,"
		    "\"icp_acked\":%ju,\"icp_hits\":%ju,"
		    "\"last_failure\":%.0f}", v.sibling ? "sibling" : "parent",
		    v.http_port, v.icp_port, fwd_peer_is_up(p, i, c->now) ?
		    "true" : "false", (uintmax_t)v.fetches, v.conn_open,
		    pi->rtt, (uintmax_t)pi->sent, (uintmax_t)pi->acked,
		    (uintmax_t)(pi->replies[ICP_OP_HIT] +
		    pi->replies[ICP_OP_HIT_OBJ]), v.last_failure);
	}
	mgr_out_printf(o, "]}\n");
	return (0);
}

static void
client_peer_metric_head(struct mgr_out *o, const char *name,
    const char *type, const char *help)
{
	mgr_out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* Per-peer series; the label is the peer's name=. */
static int
client_peer_render_metrics(struct mgr_out *o, const struct mgr_call *c,
    void *arg)
{
	const struct client_ctx *ctx = arg;
	struct fwd_peers *p = ctx->deps.peers;
	const struct fwd_peer_icp *pi;
	struct fwd_peer_view v;
	const char *name;
	unsigned i, op, n = fwd_peers_count(p);

	if (n == 0)
		return (0);
	client_peer_metric_head(o, "cuttle_peer_up", "gauge",
	    "1 when the cache peer is up (connections and ICP answer).");
	for (i = 0; i < n; i++)
		mgr_out_printf(o, "cuttle_peer_up{peer=\"%s\"} %d\n",
		    fwd_peer_name(p, i), fwd_peer_is_up(p, i, c->now) ? 1 : 0);
	client_peer_metric_head(o, "cuttle_peer_fetches_total", "counter",
	    "Requests and tunnels sent to the cache peer.");
	for (i = 0; i < n; i++) {
		fwd_peer_view(p, i, &v);
		mgr_out_printf(o, "cuttle_peer_fetches_total{peer=\"%s\"} "
		    "%ju\n", v.name, (uintmax_t)v.fetches);
	}
	client_peer_metric_head(o, "cuttle_peer_connections", "gauge",
	    "Connections to the cache peer in use.");
	for (i = 0; i < n; i++) {
		fwd_peer_view(p, i, &v);
		mgr_out_printf(o, "cuttle_peer_connections{peer=\"%s\"} %u\n",
		    v.name, v.conn_open);
	}
	client_peer_metric_head(o, "cuttle_peer_icp_queries_total",
	    "counter", "ICP queries sent to the cache peer.");
	for (i = 0; i < n; i++)
		mgr_out_printf(o, "cuttle_peer_icp_queries_total{peer=\"%s\"} "
		    "%ju\n", fwd_peer_name(p, i),
		    (uintmax_t)fwd_peer_icp(p, i)->sent);
	client_peer_metric_head(o, "cuttle_peer_icp_replies_total",
	    "counter", "ICP replies from the cache peer, by opcode.");
	for (i = 0; i < n; i++) {
		pi = fwd_peer_icp(p, i);
		for (op = 0; op < FWD_PEER_ICP_OPS; op++)
			if (pi->replies[op] > 0 && (name =
			    icp_opcode_name(op)) != NULL)
				mgr_out_printf(o, "cuttle_peer_icp_replies_"
				    "total{peer=\"%s\",opcode=\"%s\"} %ju\n",
				    fwd_peer_name(p, i), name,
				    (uintmax_t)pi->replies[op]);
	}
	client_peer_metric_head(o, "cuttle_peer_icp_rtt_milliseconds",
	    "gauge", "The running average of the cache peer's ICP round "
	    "trip.");
	for (i = 0; i < n; i++)
		mgr_out_printf(o, "cuttle_peer_icp_rtt_milliseconds"
		    "{peer=\"%s\"} %d\n", fwd_peer_name(p, i),
		    fwd_peer_icp(p, i)->rtt);
	return (0);
}

int
client_peer_register_pages(struct client_ctx *ctx, struct mgr_registry *r)
{
	int err;

	err = mgr_register(r, MGR_SEC_SERVER, "server_list",
	    "Peer Cache Statistics", 0, client_peer_render_list, ctx);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_VIEWS, "peers_json",
		    "The cache peers, for the dashboard (JSON)", MGR_F_JSON,
		    client_peer_render_json, ctx);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_VIEWS, "peer_metrics",
		    "Cache peer counters", MGR_F_METRICS | MGR_F_PROM,
		    client_peer_render_metrics, ctx);
	return (err);
}
