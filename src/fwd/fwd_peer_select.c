/*
 * fwd_peer_select.c - the next hops of one request, in the order of
 * Squid 5's peer_select.cc (the contract is in fwd_peer.h):
 *
 *	direct YES	the origin
 *	direct NO	a parent by the first method that gives one, then
 *			every parent up, then the default parent
 *	direct MAYBE	the same, the origin last (first with
 *			prefer_direct); a request that is not hierarchical
 *			goes to the origin only, with nonhierarchical_direct
 *
 * The parent methods, first match wins: sourcehash, userhash, CARP,
 * round-robin, weighted round-robin, the first parent up, default.  A
 * peer is a candidate when it is up, under max-conn, and its
 * cache_peer_access allows the request (Squid's peerHTTPOkay()); a peer
 * chosen twice keeps its first place.
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "base/check.h"
#include "fwd/fwd_int.h"
#include "fwd/fwd_peer.h"

struct fwd_sel {
	struct fwd_peers		*p;
	const struct fwd_select_req	*r;
	struct fwd_hop			*hops;
	unsigned			n, max;
};

static bool
fwd_peer_okay(const struct fwd_peers *p, unsigned i,
    const struct fwd_select_req *r)
{
	const struct fwd_peer *pe = &p->v[i];

	if (pe->max_conn > 0 && pe->conn_open >= (unsigned)pe->max_conn)
		return (false);
	if (i < 64 && (r->denied & ((uint64_t)1 << i)))
		return (false);
	return (fwd_peer_up(p, pe, r->now));
}

static void
fwd_sel_add(struct fwd_sel *s, int peer, enum fwd_hier code)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (s->hops[i].peer == peer)
			return;
	if (s->n == s->max)
		return;
	s->hops[s->n].peer = (int16_t)peer;
	s->hops[s->n].code = (uint8_t)code;
	s->n++;
}

/* -- the hash methods ------------------------------------------------------ */

/* The best score among the array's peers for a key hashed once
 * (sourcehash, userhash): Squid's peer_sourcehash.cc. */
static int
fwd_sel_hashed(const struct fwd_peers *p, const uint8_t *idx, unsigned n,
    size_t off, const char *key, const struct fwd_select_req *r)
{
	const struct fwd_peer_hash *h;
	uint32_t kh = fwd_carp_key_hash(0, key, strlen(key));
	double score, high = 0.0;
	unsigned k;
	int best = -1;

	for (k = 0; k < n; k++) {
		h = (const void *)((const char *)&p->v[idx[k]] + off);
		score = (double)fwd_carp_combine(kh, h->hash) *
		    h->load_multiplier;
		if (score > high && fwd_peer_okay(p, idx[k], r)) {
			best = idx[k];
			high = score;
		}
	}
	return (best);
}

/* The key one CARP peer hashes: the parts carp-key= names, or the whole
 * URI (also when those parts are empty). */
static size_t
fwd_carp_key(const struct fwd_peer *pe, const struct fwd_select_req *r,
    char *buf, size_t size, const char **key)
{
	const char *q;
	size_t len = 0, plen;
	int n;

	*key = buf;
	if (pe->carp_key & FWD_CARP_KEY_SCHEME) {
		n = snprintf(buf + len, size - len, "%s%s", r->scheme,
		    r->scheme[0] != '\0' ? "://" : "");
		len += n > 0 ? (size_t)n : 0;
	}
	if ((pe->carp_key & FWD_CARP_KEY_HOST) && len < size) {
		n = snprintf(buf + len, size - len, "%.*s",
		    (int)r->host_len, r->host);
		len += n > 0 ? (size_t)n : 0;
	}
	if ((pe->carp_key & FWD_CARP_KEY_PORT) && len < size) {
		n = snprintf(buf + len, size - len, ":%u", r->port);
		len += n > 0 ? (size_t)n : 0;
	}
	q = memchr(r->path, '?', r->path_len);
	plen = q != NULL ? (size_t)(q - r->path) : r->path_len;
	if ((pe->carp_key & FWD_CARP_KEY_PATH) && len < size) {
		n = snprintf(buf + len, size - len, "%.*s", (int)plen,
		    r->path);
		len += n > 0 ? (size_t)n : 0;
	}
	if ((pe->carp_key & FWD_CARP_KEY_PARAMS) && q != NULL && len < size) {
		n = snprintf(buf + len, size - len, "%.*s",
		    (int)(r->path_len - plen), q);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len >= size || len == 0) {	/* too long for buf: the URI too */
		*key = r->uri;
		return (r->uri_len);
	}
	return (len);
}

/*
 * Squid's carpSelectParent(): each CARP peer in weight order scores
 * (key hash ^ peer hash, mixed) * its load multiplier; the highest
 * score among those okay wins, the first on a tie.  The key hash is
 * not started again for each peer: Squid's runs on from one peer's key
 * to the next, and so does this one, or the parents chosen would
 * differ from Squid's.
 */
int
fwd_peers_carp(const struct fwd_peers *p, const struct fwd_select_req *r,
    double *mult)
{
	const struct fwd_peer *pe;
	char buf[8192];
	const char *key;
	uint32_t kh = 0;
	double score, high = 0.0;
	unsigned k;
	size_t len;
	int best = -1;

	if (mult != NULL)
		for (k = 0; k < p->n; k++)
			mult[k] = 0.0;
	for (k = 0; k < p->ncarp; k++) {
		pe = &p->v[p->carp[k]];
		if (mult != NULL)
			mult[p->carp[k]] = pe->carp.load_multiplier;
		len = fwd_carp_key(pe, r, buf, sizeof buf, &key);
		kh = fwd_carp_key_hash(kh, key, len);
		score = (double)fwd_carp_combine(kh, pe->carp.hash) *
		    pe->carp.load_multiplier;
		if (score > high && fwd_peer_okay(p, p->carp[k], r)) {
			best = p->carp[k];
			high = score;
		}
	}
	return (best);
}

/* -- round-robin, first up, default --------------------------------------- */

/* The round-robin parent with the fewest uses for its weight (the count
 * moves when fwd uses it). */
static int
fwd_sel_roundrobin(const struct fwd_sel *s)
{
	const struct fwd_peers *p = s->p;
	const struct fwd_peer *pe, *q = NULL;
	unsigned i;
	int best = -1;

	for (i = 0; i < p->n; i++) {
		pe = &p->v[i];
		if (!(pe->options & FWD_PEER_ROUNDROBIN) ||
		    pe->type != FWD_PEER_PARENT || !fwd_peer_okay(p, i, s->r))
			continue;
		if (q != NULL) {
			if (pe->weight == q->weight) {
				if (q->rr_count < pe->rr_count)
					continue;
			} else if ((double)q->rr_count / q->weight <
			    (double)pe->rr_count / pe->weight)
				continue;
		}
		q = pe;
		best = (int)i;
	}
	return (best);
}

static int
fwd_sel_weighted(const struct fwd_sel *s)
{
	const struct fwd_peers *p = s->p;
	const struct fwd_peer *pe, *q = NULL;
	unsigned i;
	int best = -1;

	for (i = 0; i < p->n; i++) {
		pe = &p->v[i];
		if (!(pe->options & FWD_PEER_WEIGHTED_RR) ||
		    pe->type != FWD_PEER_PARENT || !fwd_peer_okay(p, i, s->r))
			continue;
		if (q != NULL && q->rr_count < pe->rr_count)
			continue;
		q = pe;
		best = (int)i;
	}
	return (best);
}

static int
fwd_sel_first(const struct fwd_sel *s, unsigned flag)
{
	unsigned i;

	for (i = 0; i < s->p->n; i++)
		if (s->p->v[i].type == FWD_PEER_PARENT &&
		    (flag == 0 || (s->p->v[i].options & flag)) &&
		    fwd_peer_okay(s->p, i, s->r))
			return ((int)i);
	return (-1);
}

static const char *
fwd_sel_client_ip(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in6 *s6 = (const void *)sa;

	if (sa == NULL)
		return (NULL);
	if (sa->sa_family == AF_INET)
		return (inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, buf, (socklen_t)len));
	if (sa->sa_family != AF_INET6)
		return (NULL);
	/* A mapped IPv4 address prints as Squid prints it: dotted. */
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return (inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf,
		    (socklen_t)len));
	return (inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)len));
}

/* Squid's selectSomeParent(): the first method that gives a parent. */
static void
fwd_sel_some_parent(struct fwd_sel *s)
{
	const struct fwd_peers *p = s->p;
	char ip[64];
	const char *key;
	int i = -1;
	enum fwd_hier code = FWD_HIER_NONE;

	if (p->nsourcehash > 0 && (key = fwd_sel_client_ip(s->r->client, ip,
	    sizeof ip)) != NULL && (i = fwd_sel_hashed(p, p->sourcehash,
	    p->nsourcehash, offsetof(struct fwd_peer, sourcehash), key,
	    s->r)) >= 0)
		code = FWD_HIER_SOURCEHASH_PARENT;
	else if (p->nuserhash > 0 && s->r->user != NULL && (i =
	    fwd_sel_hashed(p, p->userhash, p->nuserhash,
	    offsetof(struct fwd_peer, userhash), s->r->user, s->r)) >= 0)
		code = FWD_HIER_USERHASH_PARENT;
	else if (p->ncarp > 0 && (i = fwd_peers_carp(p, s->r, NULL)) >= 0)
		code = FWD_HIER_CARP;
	else if ((i = fwd_sel_roundrobin(s)) >= 0)
		code = FWD_HIER_ROUNDROBIN_PARENT;
	else if ((i = fwd_sel_weighted(s)) >= 0)
		code = FWD_HIER_ROUNDROBIN_PARENT;
	else if ((i = fwd_sel_first(s, 0)) >= 0)
		code = FWD_HIER_FIRSTUP_PARENT;
	else if ((i = fwd_sel_first(s, FWD_PEER_DEFAULT)) >= 0)
		code = FWD_HIER_DEFAULT_PARENT;
	if (code != FWD_HIER_NONE)
		fwd_sel_add(s, i, code);
}

/* Squid's selectAllParents(): every parent okay, then the default. */
static void
fwd_sel_all_parents(struct fwd_sel *s)
{
	unsigned i;
	int d;

	for (i = 0; i < s->p->n; i++)
		if (s->p->v[i].type == FWD_PEER_PARENT &&
		    fwd_peer_okay(s->p, i, s->r))
			fwd_sel_add(s, (int)i, FWD_HIER_ANY_OLD_PARENT);
	if ((d = fwd_sel_first(s, FWD_PEER_DEFAULT)) >= 0)
		fwd_sel_add(s, d, FWD_HIER_DEFAULT_PARENT);
}

unsigned
fwd_peers_select(struct fwd_peers *p, const struct fwd_select_req *r,
    struct fwd_hop *hops, unsigned max)
{
	struct fwd_sel s = { .p = p, .r = r, .hops = hops, .max = max };

	CHECK_OBJ_NOTNULL(p, FWD_PEERS_MAGIC);
	/* Squid's selectSomeNeighborReplies(): what ICP found comes first. */
	if (r->direct != FWD_DIRECT_YES && r->icp_code != FWD_HIER_NONE &&
	    r->icp_peer >= 0 && (unsigned)r->icp_peer < p->n &&
	    fwd_peer_okay(p, (unsigned)r->icp_peer, r))
		fwd_sel_add(&s, r->icp_peer, (enum fwd_hier)r->icp_code);
	switch (r->direct) {
	case FWD_DIRECT_YES:
		fwd_sel_add(&s, -1, FWD_HIER_DIRECT);
		break;
	case FWD_DIRECT_NO:
		fwd_sel_some_parent(&s);
		fwd_sel_all_parents(&s);
		break;
	case FWD_DIRECT_MAYBE:
		if (p->prefer_direct)
			fwd_sel_add(&s, -1, FWD_HIER_DIRECT);
		if (r->hierarchical || !p->nonhierarchical_direct) {
			fwd_sel_some_parent(&s);
			fwd_sel_all_parents(&s);
		}
		if (!p->prefer_direct)
			fwd_sel_add(&s, -1, FWD_HIER_DIRECT);
		break;
	}
	return (s.n);
}
