/*
 * icp.c - the ICP socket: answers to queries from siblings and children,
 * and the queries a miss sends to peers (the contract is in icp.h).
 *
 *	icp_recv()		each datagram: icp_decode(); a QUERY is
 *				answered by icp_serve(), a reply goes to the
 *				query under way it belongs to (icp_reply())
 *	icp_serve()		icp_access, then the memory cache looked at
 *				without touching it: ICP_HIT for a fresh,
 *				complete GET entry, else ICP_MISS, or
 *				ICP_MISS_NOFETCH when miss_access denies the
 *				querier; ICP_ERR for a URL that does not parse
 *	icp_query_start()	one datagram to each peer that takes queries
 *	icp_reply()		first HIT wins; a parent's MISS is kept if it
 *				came soonest for its weight
 *	icp_query_timeout()	what came by then
 *
 * The timeout is Squid's neighborsUdpPing(): icp_query_timeout when set,
 * else twice the mean RTT of the parents asked (of the siblings when no
 * parent is), between 5 ms and maximum_icp_query_timeout; 2 s when no
 * peer is expected to answer.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acl/acl.h"
#include "base/check.h"
#include "base/list.h"
#include "base/log.h"
#include "comm/comm.h"
#include "fwd/fwd_peer.h"
#include "http/http_cache.h"
#include "http/http_msg.h"
#include "http/http_url.h"
#include "icp/icp.h"
#include "mgr/mgr.h"
#include "store/store.h"

/* A reply's opcode indexes its peer's counts (fwd_peer.h), and the codec
 * lets through no opcode at or above ICP_OP__END. */
_Static_assert(ICP_OP__END <= FWD_PEER_ICP_OPS,
    "fwd_peer_icp.replies has a slot for every ICP opcode");

#define ICP_MIN_TIMEOUT		5	/* ms: Squid's minimum_icp_query_timeout */
#define ICP_RTT_AV_FACTOR	50	/* Squid's RTT_AV_FACTOR */

union icp_addr {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
};

struct icp_query {
	unsigned		magic;
#define ICP_QUERY_MAGIC		0x1c90e4a1U
	struct list		link;		/* icp->queries */
	struct icp		*icp;
	struct fwd_peers	*peers;		/* held */
	char			*url;
	size_t			url_len;
	uint32_t		reqnum;
	icp_query_fn		*fn;
	void			*arg;
	struct comm_timer	*timer;
	double			start;
	uint64_t		asked, answered;	/* bit i: peer i */
	uint64_t		waited;		/* asked and up: expected */
	unsigned		waited_replies;
	union icp_addr		addr[FWD_MAX_PEERS];
	unsigned		sent, expected, replies;
	int			hit;
	uint8_t			hit_code;
	int			first_miss;
	int			first_miss_rtt;
};

struct icp {
	unsigned		magic;
#define ICP_MAGIC		0x1c9c0de2U
	struct comm_loop	*loop;
	struct comm_udp		*udp;
	struct icp_deps		deps;
	struct icp_stats	st;
	struct list		queries;
	uint32_t		next_reqnum;
};

static comm_udp_fn	icp_recv;
static comm_timer_fn	icp_query_timeout;
static void		icp_query_free(struct icp_query *q);

struct icp *
icp_new(struct comm_loop *loop, long port, int *err)
{
	struct sockaddr_in sin;
	struct icp *icp;

	*err = 0;
	if (port <= 0)
		return (NULL);
	if (port > 65535) {
		*err = -EINVAL;
		return (NULL);
	}
	ALLOC_OBJ(icp, ICP_MAGIC);
	if (icp == NULL) {
		*err = -ENOMEM;
		return (NULL);
	}
	icp->loop = loop;
	list_init(&icp->queries);
	icp->next_reqnum = (uint32_t)time(NULL) << 8;
	icp->deps.max_query_timeout = 2000;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	*err = comm_udp_open(loop, (struct sockaddr *)&sin, sizeof sin,
	    icp_recv, icp, &icp->udp);
	if (*err != 0) {
		FREE_OBJ(icp);
		return (NULL);
	}
	return (icp);
}

void
icp_set_deps(struct icp *icp, const struct icp_deps *d)
{
	CHECK_OBJ_NOTNULL(icp, ICP_MAGIC);
	icp->deps = *d;
	if (icp->deps.max_query_timeout <= 0)
		icp->deps.max_query_timeout = 2000;
}

void
icp_free(struct icp **ip)
{
	struct icp_query *q;
	struct icp *icp;

	if (*ip == NULL)
		return;
	TAKE_OBJ_NOTNULL(icp, ip, ICP_MAGIC);
	/* Probes of dead peers have no owner to end them. */
	while (!list_empty(&icp->queries)) {
		q = container_of(icp->queries.next, struct icp_query, link);
		CHECK(q->fn == NULL);
		icp_query_free(q);
	}
	comm_udp_close(&icp->udp);
	FREE_OBJ(icp);
}

const struct icp_stats *
icp_stats(const struct icp *icp)
{
	CHECK_OBJ_NOTNULL(icp, ICP_MAGIC);
	return (&icp->st);
}

uint16_t
icp_port(const struct icp *icp)
{
	struct sockaddr_storage ss;
	socklen_t len;

	CHECK_OBJ_NOTNULL(icp, ICP_MAGIC);
	comm_udp_addr(icp->udp, &ss, &len);
	if (ss.ss_family == AF_INET)
		return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
	if (ss.ss_family == AF_INET6)
		return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return (0);
}

static void
icp_send(struct icp *icp, const void *msg, size_t len,
    const struct sockaddr *to, socklen_t tolen)
{
	if (comm_udp_send(icp->udp, msg, len, to, tolen) != 0)
		icp->st.send_errors++;
}

/* -- the server -------------------------------------------------------------- */

/* The URL as the cache keys it (client_cache.c does the same for
 * requests): scheme and host in lower case, the scheme's default port
 * left out, an empty path as "/".  0, or -1 when it is not an http or
 * https URL in absolute form. */
static int
icp_cache_url(const char *url, size_t len, char *out, size_t size,
    size_t *outlen)
{
	struct http_url u;
	bool https;
	size_t i, n;
	int w;

	if (http_url_parse(url, len, 0, &u) != 0 ||
	    u.form != HTTP_URL_ABSOLUTE || (u.scheme != HTTP_SCHEME_HTTP &&
	    u.scheme != HTTP_SCHEME_HTTPS))
		return (-1);
	https = u.scheme == HTTP_SCHEME_HTTPS;
	if (u.host_len + u.path_len + 32 > size)
		return (-1);
	n = (size_t)snprintf(out, size, "%s://%s", https ? "https" : "http",
	    u.host_is_ip6 ? "[" : "");
	for (i = 0; i < u.host_len; i++) {
		char c = url[u.host_off + i];
		out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	if (u.host_is_ip6)
		out[n++] = ']';
	if (u.port != (https ? 443 : 80)) {
		w = snprintf(out + n, size - n, ":%u", u.port);
		n += w > 0 ? (size_t)w : 0;
	}
	if (u.path_len == 0 || url[u.path_off] == '?')
		out[n++] = '/';
	memcpy(out + n, url + u.path_off, u.path_len);
	n += u.path_len;
	out[n] = '\0';
	*outlen = n;
	return (0);
}

/* Squid's icpCheckUdpHit(): a complete entry, fresh for a plain GET. */
static bool
icp_is_hit(struct icp *icp, const char *curl, size_t len)
{
	struct store_entry *e;
	struct store_key k;
	struct http_cc cc;
	bool hit;

	if (icp->deps.store == NULL)
		return (false);
	store_key_make(&k, "GET", 3, curl, len, NULL, 0);
	e = store_index_peek(icp->deps.store, &k);
	if (e == NULL)
		return (false);
	/* A plain GET: no request directive (-1: absent). */
	memset(&cc, 0, sizeof cc);
	cc.max_age = cc.s_maxage = cc.max_stale = cc.min_fresh = -1;
	cc.stale_while_revalidate = cc.stale_if_error = -1;
	hit = store_entry_state(e) == STORE_COMPLETE &&
	    !store_entry_private(e) &&
	    !(store_entry_meta(e)->flags & (HCM_VARY_MARKER | HCM_NEGATIVE)) &&
	    http_cache_use(store_entry_meta(e), &cc,
	    (int64_t)comm_now(icp->loop)) == HCU_FRESH;
	store_entry_unref(&e);
	return (hit);
}

static void
icp_serve(struct icp *icp, const struct icp_msg *m,
    const struct sockaddr *from, socklen_t fromlen)
{
	unsigned char out[ICP_MAX_LEN];
	char curl[ICP_MAX_URL + 64];
	struct acl_request ar;
	enum icp_opcode op;
	size_t clen, n;

	icp->st.queries_in++;
	memset(&ar, 0, sizeof ar);
	ar.src = from;
	ar.now = (time_t)comm_now(icp->loop);
	ar.method = HTTP_M_GET;
	ar.method_name = "GET";
	ar.method_len = 3;
	ar.url = m->url;
	ar.url_len = m->url_len;
	if (icp->deps.icp_access == NULL || acl_rules_check(
	    icp->deps.icp_access, &ar, ACL_DENY) != ACL_ALLOW)
		op = ICP_OP_DENIED;
	else if (icp_cache_url(m->url, m->url_len, curl, sizeof curl,
	    &clen) != 0)
		op = ICP_OP_ERR;
	else if (icp_is_hit(icp, curl, clen))
		op = ICP_OP_HIT;
	else if (icp->deps.miss_access != NULL && acl_rules_check(
	    icp->deps.miss_access, &ar, ACL_ALLOW) != ACL_ALLOW)
		op = ICP_OP_MISS_NOFETCH;
	else
		op = ICP_OP_MISS;
	n = icp_encode(out, sizeof out, op, m->reqnum, 0, m->url, m->url_len);
	if (n == 0)
		return;
	icp->st.replies_out[op]++;
	icp_send(icp, out, n, from, fromlen);
}

/* -- the queries ------------------------------------------------------------- */

static bool
icp_same_addr(const union icp_addr *a, const struct sockaddr *b)
{
	const struct sockaddr_in *b4 = (const void *)b;
	const struct sockaddr_in6 *b6 = (const void *)b;

	if (a->sa.sa_family != b->sa_family)
		return (false);
	if (b->sa_family == AF_INET)
		return (a->sin.sin_port == b4->sin_port &&
		    a->sin.sin_addr.s_addr == b4->sin_addr.s_addr);
	if (b->sa_family == AF_INET6)
		return (a->sin6.sin6_port == b6->sin6_port &&
		    memcmp(&a->sin6.sin6_addr, &b6->sin6_addr, 16) == 0);
	return (false);
}

/* A peer's ICP address, for a host written as an address (or
 * localhost); false for a name, which is not asked. */
static bool
icp_peer_addr(const char *host, uint16_t port, union icp_addr *a)
{
	memset(a, 0, sizeof *a);
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &a->sin.sin_addr) == 1) {
		a->sin.sin_family = AF_INET;
		a->sin.sin_port = htons(port);
		return (true);
	}
	if (inet_pton(AF_INET6, host, &a->sin6.sin6_addr) == 1) {
		a->sin6.sin6_family = AF_INET6;
		a->sin6.sin6_port = htons(port);
		return (true);
	}
	return (false);
}

static socklen_t
icp_addr_len(const union icp_addr *a)
{
	return (a->sa.sa_family == AF_INET6 ? sizeof a->sin6 :
	    sizeof a->sin);
}

static void
icp_query_free(struct icp_query *q)
{
	list_remove(&q->link);
	comm_timer_free(&q->timer);
	fwd_peers_unref(&q->peers);
	free(q->url);
	FREE_OBJ(q);
}

/* The answer, once: to the owner, then the query is gone. */
static void
icp_query_finish(struct icp_query *q, bool timedout)
{
	struct icp_answer a;

	memset(&a, 0, sizeof a);
	a.peer = -1;
	a.code = FWD_HIER_NONE;
	a.timedout = timedout;
	a.sent = q->sent;
	a.replies = q->replies;
	if (q->hit >= 0) {
		a.peer = q->hit;
		a.code = q->hit_code;
	} else if (q->first_miss >= 0) {
		a.peer = q->first_miss;
		a.code = FWD_HIER_FIRST_PARENT_MISS;
	}
	if (q->fn == NULL) {		/* a probe of dead peers */
		icp_query_free(q);
		return;
	}
	if (timedout)
		q->icp->st.timeouts++;
	q->fn(q, &a, q->arg);
	icp_query_free(q);
}

static void
icp_query_timeout(struct comm_timer *t, void *arg)
{
	struct icp_query *q = arg;

	(void)t;
	CHECK_OBJ_NOTNULL(q, ICP_QUERY_MAGIC);
	icp_query_finish(q, q->waited_replies < q->expected);
}

/* Squid's Math::intAverage(): a running mean over at most n samples. */
static int
icp_int_average(int cur, int sample, uint64_t n, int max)
{
	int64_t k = n < (uint64_t)max ? (int64_t)n : max;

	if (k <= 0)
		k = 1;
	return ((int)(((int64_t)cur * (k - 1) + sample) / k));
}

static void
icp_reply(struct icp *icp, const struct icp_msg *m,
    const struct sockaddr *from)
{
	struct fwd_peer_view v;
	struct fwd_peer_icp *pi;
	struct icp_query *q = NULL, *it;
	struct list *n;
	unsigned i;
	int rtt, wrtt;

	icp->st.replies_in[m->opcode]++;
	LIST_FOREACH(n, &icp->queries) {
		it = container_of(n, struct icp_query, link);
		if (it->reqnum == m->reqnum && it->url_len == m->url_len &&
		    memcmp(it->url, m->url, m->url_len) == 0) {
			q = it;
			break;
		}
	}
	if (q == NULL) {
		icp->st.late++;
		return;
	}
	for (i = 0; i < fwd_peers_count(q->peers) && i < 64; i++)
		if ((q->asked & ((uint64_t)1 << i)) &&
		    icp_same_addr(&q->addr[i], from))
			break;
	if (i == fwd_peers_count(q->peers) || i >= 64) {
		icp->st.unknown_peer++;
		return;
	}
	if (q->answered & ((uint64_t)1 << i))
		return;			/* a duplicate */
	q->answered |= (uint64_t)1 << i;
	q->replies++;
	if (q->waited & ((uint64_t)1 << i))
		q->waited_replies++;
	fwd_peer_view(q->peers, i, &v);
	pi = fwd_peer_icp(q->peers, i);
	/* Squid's neighborAlive(). */
	pi->probe_start = 0;
	if (pi->dead) {
		pi->dead = false;
		log_msg(LG_NOTICE, SEC_ICP, "Detected REVIVED %s: %s",
		    v.sibling ? "Sibling" : "Parent", v.name);
	}
	pi->acked++;
	pi->replies[m->opcode]++;
	pi->last_reply = comm_now(icp->loop);
	rtt = (int)((pi->last_reply - q->start) * 1000.0);
	if (rtt > 0 && rtt < 10000)
		pi->rtt = icp_int_average(pi->rtt, rtt, pi->acked,
		    ICP_RTT_AV_FACTOR);
	if (q->fn == NULL) {		/* a probe: the answer is all */
		if (q->replies >= q->sent)
			icp_query_finish(q, false);
		return;
	}
	if (m->opcode == ICP_OP_HIT || m->opcode == ICP_OP_HIT_OBJ) {
		q->hit = (int)i;
		q->hit_code = v.sibling ? FWD_HIER_SIBLING_HIT :
		    FWD_HIER_PARENT_HIT;
		icp_query_finish(q, false);
		return;
	}
	if ((m->opcode == ICP_OP_MISS || m->opcode == ICP_OP_DECHO) &&
	    !v.sibling) {
		/* Squid's handleIcpParentMiss(), without netdb: the parent
		 * that answered soonest for its weight. */
		wrtt = rtt / (v.weight > 0 ? v.weight : 1);
		if (wrtt < 1)
			wrtt = 1;
		if (q->first_miss < 0 || wrtt < q->first_miss_rtt) {
			q->first_miss = (int)i;
			q->first_miss_rtt = wrtt;
		}
	}
	if (q->waited_replies >= q->expected)
		icp_query_finish(q, false);
}

static void
icp_recv(struct comm_udp *u, const void *data, size_t len, size_t full,
    const struct sockaddr *from, socklen_t fromlen, void *arg)
{
	struct icp *icp = arg;
	struct icp_msg m;
	enum icp_bad bad;

	(void)u;
	CHECK_OBJ_NOTNULL(icp, ICP_MAGIC);
	icp->st.in++;
	bad = icp_decode(data, len, full, &m);
	if (bad != ICP_BAD_NONE) {
		icp->st.bad[bad]++;
		log_msg(LG_DEBUG, SEC_ICP, "ICP datagram dropped: %s",
		    icp_bad_name(bad));
		return;
	}
	if (m.opcode == ICP_OP_QUERY)
		icp_serve(icp, &m, from, fromlen);
	else
		icp_reply(icp, &m, from);
}

struct icp_query *
icp_query_start(struct icp *icp, struct fwd_peers *p, const char *url,
    uint64_t denied, bool hierarchical, icp_query_fn *fn, void *arg)
{
	unsigned char out[ICP_MAX_LEN];
	struct fwd_peer_view v;
	struct fwd_peer_icp *pi;
	struct icp_query *q;
	unsigned i, n = fwd_peers_count(p), parents = 0, siblings = 0;
	long ptime = 0, stime = 0, timeout;
	size_t len, ulen = strlen(url);
	double now;

	CHECK_OBJ_NOTNULL(icp, ICP_MAGIC);
	if (ulen > ICP_MAX_URL)
		return (NULL);
	ALLOC_OBJ(q, ICP_QUERY_MAGIC);
	if (q == NULL)
		return (NULL);
	list_init(&q->link);
	q->url = strdup(url);
	q->timer = comm_timer_new(icp->loop, icp_query_timeout, q);
	if (q->url == NULL || q->timer == NULL) {
		comm_timer_free(&q->timer);
		free(q->url);
		FREE_OBJ(q);
		return (NULL);
	}
	q->url_len = ulen;
	q->icp = icp;
	q->fn = fn;
	q->arg = arg;
	q->hit = -1;
	q->first_miss = -1;
	q->reqnum = ++icp->next_reqnum;
	if (q->reqnum == 0)
		q->reqnum = ++icp->next_reqnum;
	now = comm_now(icp->loop);
	q->start = now;
	len = icp_encode(out, sizeof out, ICP_OP_QUERY, q->reqnum, 0, url,
	    ulen);
	/* Squid's peerWouldBePinged(), then neighborsUdpPing(). */
	for (i = 0; i < n && i < 64 && len > 0; i++) {
		fwd_peer_view(p, i, &v);
		if (v.icp_port == 0 || v.no_query ||
		    (denied & ((uint64_t)1 << i)) ||
		    (v.sibling && !hierarchical) ||
		    !icp_peer_addr(v.host, v.icp_port, &q->addr[i]))
			continue;
		pi = fwd_peer_icp(p, i);
		/* A dead peer is asked all the same, but not waited for:
		 * its answer brings it back. */
		icp_send(icp, out, len, &q->addr[i].sa,
		    icp_addr_len(&q->addr[i]));
		icp->st.queries_out++;
		pi->sent++;
		pi->last_query = now;
		if (pi->probe_start == 0)
			pi->probe_start = now;
		q->asked |= (uint64_t)1 << i;
		q->sent++;
		if (!fwd_peer_is_up(p, i, now)) {
			if (!pi->dead && now - pi->probe_start >
			    fwd_peers_dead_peer_timeout(p)) {
				pi->dead = true;
				log_msg(LG_WARN, SEC_ICP, "Detected DEAD %s: "
				    "%s", v.sibling ? "Sibling" : "Parent",
				    v.name);
			}
			continue;
		}
		q->waited |= (uint64_t)1 << i;
		if (v.sibling) {
			siblings++;
			stime += pi->rtt;
		} else {
			parents++;
			ptime += pi->rtt;
		}
	}
	q->expected = parents + siblings;
	if (q->expected == 0 && q->sent > 0) {
		/* Only dead peers were asked: nobody waits, but their
		 * answers are listened for until the longest timeout, so
		 * that a peer back up is seen. */
		q->fn = NULL;
		q->peers = p;
		fwd_peers_ref(p);
		list_insert_tail(&icp->queries, &q->link);
		comm_timer_start(q->timer, (double)icp->deps.max_query_timeout /
		    1000.0, 0);
		return (NULL);
	}
	if (q->expected == 0) {
		comm_timer_free(&q->timer);
		free(q->url);
		FREE_OBJ(q);
		return (NULL);
	}
	if (icp->deps.query_timeout > 0)
		timeout = icp->deps.query_timeout;
	else {
		timeout = parents > 0 ? 2 * ptime / parents :
		    2 * stime / siblings;
		if (timeout > icp->deps.max_query_timeout)
			timeout = icp->deps.max_query_timeout;
		if (timeout < ICP_MIN_TIMEOUT)
			timeout = ICP_MIN_TIMEOUT;
	}
	q->peers = p;
	fwd_peers_ref(p);
	list_insert_tail(&icp->queries, &q->link);
	comm_timer_start(q->timer, (double)timeout / 1000.0, 0);
	return (q);
}

void
icp_query_cancel(struct icp_query **qp)
{
	struct icp_query *q;

	if (*qp == NULL)
		return;
	TAKE_OBJ_NOTNULL(q, qp, ICP_QUERY_MAGIC);
	icp_query_free(q);
}

/* -- the manager ------------------------------------------------------------- */

static int
icp_mgr_metrics(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct icp *icp = arg;
	const struct icp_stats *s = &icp->st;
	const char *name;
	unsigned i;

	(void)c;
	mgr_out_printf(o, "# HELP cuttle_icp_datagrams_total ICP datagrams "
	    "received.\n# TYPE cuttle_icp_datagrams_total counter\n"
	    "cuttle_icp_datagrams_total %ju\n", (uintmax_t)s->in);
	mgr_out_printf(o, "# HELP cuttle_icp_dropped_total ICP datagrams "
	    "refused, by what was wrong.\n# TYPE cuttle_icp_dropped_total "
	    "counter\n");
	for (i = 1; i < ICP_BAD__COUNT; i++)
		mgr_out_printf(o, "cuttle_icp_dropped_total{why=\"%s\"} %ju\n",
		    icp_bad_name((enum icp_bad)i), (uintmax_t)s->bad[i]);
	mgr_out_printf(o, "# HELP cuttle_icp_replies_sent_total ICP replies "
	    "sent to queries, by opcode.\n# TYPE "
	    "cuttle_icp_replies_sent_total counter\n");
	for (i = 0; i < ICP_OP__END; i++)
		if ((name = icp_opcode_name(i)) != NULL && i != ICP_OP_QUERY &&
		    i != ICP_OP_INVALID)
			mgr_out_printf(o, "cuttle_icp_replies_sent_total"
			    "{opcode=\"%s\"} %ju\n", name,
			    (uintmax_t)s->replies_out[i]);
	mgr_out_printf(o, "# HELP cuttle_icp_queries_total ICP queries, "
	    "received and sent.\n# TYPE cuttle_icp_queries_total counter\n"
	    "cuttle_icp_queries_total{dir=\"in\"} %ju\n"
	    "cuttle_icp_queries_total{dir=\"out\"} %ju\n",
	    (uintmax_t)s->queries_in, (uintmax_t)s->queries_out);
	mgr_out_printf(o, "# HELP cuttle_icp_replies_received_total ICP "
	    "replies received, by opcode.\n# TYPE "
	    "cuttle_icp_replies_received_total counter\n");
	for (i = 0; i < ICP_OP__END; i++)
		if ((name = icp_opcode_name(i)) != NULL && i != ICP_OP_QUERY &&
		    i != ICP_OP_INVALID)
			mgr_out_printf(o, "cuttle_icp_replies_received_total"
			    "{opcode=\"%s\"} %ju\n", name,
			    (uintmax_t)s->replies_in[i]);
	mgr_out_printf(o, "# HELP cuttle_icp_late_replies_total ICP replies "
	    "for no query under way (late).\n# TYPE "
	    "cuttle_icp_late_replies_total counter\n"
	    "cuttle_icp_late_replies_total %ju\n", (uintmax_t)s->late);
	mgr_out_printf(o, "# HELP cuttle_icp_unknown_peer_replies_total ICP "
	    "replies from an address no query was sent to (dropped).\n"
	    "# TYPE cuttle_icp_unknown_peer_replies_total counter\n"
	    "cuttle_icp_unknown_peer_replies_total %ju\n",
	    (uintmax_t)s->unknown_peer);
	mgr_out_printf(o, "# HELP cuttle_icp_query_timeouts_total ICP "
	    "queries that ended with replies missing.\n# TYPE "
	    "cuttle_icp_query_timeouts_total counter\n"
	    "cuttle_icp_query_timeouts_total %ju\n", (uintmax_t)s->timeouts);
	return (0);
}

int
icp_register_pages(struct icp *icp, struct mgr_registry *r)
{
	CHECK_OBJ_NOTNULL(icp, ICP_MAGIC);
	return (mgr_register(r, MGR_SEC_VIEWS, "icp_metrics", "ICP "
	    "counters", MGR_F_METRICS | MGR_F_PROM, icp_mgr_metrics, icp));
}
