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

#include <stdio.h>
#include <string.h>
#include <strings.h>

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
