/*
 * dns_lookup.c - lookups: where an answer comes from, and its delivery.
 *
 * Lifecycle of a query handle (struct dns_query):
 *	dns_lookup()		answered at once (literal, hosts_file, cached
 *				answer or failure, bad name): POSTED; else
 *				WAITING on the name's pending entry, which a
 *				new query to c-ares is started for unless one
 *				is in flight already
 *	dns_query_wake()	the entry is DONE: each waiter POSTED with
 *				its result
 *	dns_lookup_addr()	the same for an address: hosts_file,
 *				loopback, cache, else a PTR query
 *	dns_cancel()		WAITING -> POSTED, or POSTED kept: CANCELLED
 *	dns_resolver_free()	WAITING and POSTED: CANCELLED, detached
 *	query_deliver()		from the call queue: DELIVERING, done() runs,
 *				the handle is freed
 *
 * A result is fixed when the handle is POSTED and reaches the caller only
 * through the call queue: that is what keeps done() out of dns_lookup()
 * and dns_cancel() even when the answer is at hand.
 */
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <string.h>

#include <ares.h>

#include "base/check.h"
#include "base/list.h"
#include "comm/comm.h"
#include "dns/dns_int.h"

const char *
dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK:		return ("OK");
	case DNS_NXDOMAIN:	return ("NXDOMAIN");
	case DNS_TIMEOUT:	return ("TIMEOUT");
	case DNS_ERROR:		return ("ERROR");
	case DNS_CANCELLED:	return ("CANCELLED");
	}
	return ("?");
}

/* A reverse lookup's result, from its posted handle. */
static void
query_deliver_name(struct dns_query *q)
{
	struct dns_name_result res;

	res.status = (enum dns_status)q->status;
	res.reason = q->reason;
	res.name = NULL;
	res.source = DNS_SRC_DNS;
	if (res.status == DNS_OK) {
		AN(q->e);
		AN(q->e->ptr);
		res.name = q->e->ptr;
		res.source = q->e->ans.source;
	}
	q->rdone(q, &res, q->arg);
}

static void
query_deliver(struct comm_call *call)
{
	struct dns_query *q = container_of(call, struct dns_query, call);
	struct dns_result res;

	CHECK_OBJ_NOTNULL(q, DNS_QUERY_MAGIC);
	CHECK(q->state == DNS_Q_POSTED);
	/* Off r->posted before done(), which may free the resolver. */
	list_remove(&q->link);
	q->state = DNS_Q_DELIVERING;
	if (q->reverse) {
		query_deliver_name(q);
		dns_entry_release(&q->e);
		FREE_OBJ(q);
		return;
	}
	res.status = (enum dns_status)q->status;
	res.reason = q->reason;
	res.ans = NULL;
	if (res.status == DNS_OK) {
		AN(q->e);
		res.ans = &q->e->ans;
	}
	q->done(q, &res, q->arg);
	dns_entry_release(&q->e);
	FREE_OBJ(q);
}

/* Fix q's result and queue its delivery.  Only an answer keeps the
 * entry held; a failure says all there is to say. */
void
dns_query_post(struct dns_query *q, enum dns_status st, const char *reason)
{
	CHECK_OBJ_NOTNULL(q, DNS_QUERY_MAGIC);
	CHECK(q->state == DNS_Q_WAITING);
	CHECK_OBJ_NOTNULL(q->r, DNS_RESOLVER_MAGIC);
	list_remove(&q->link);
	q->state = DNS_Q_POSTED;
	q->status = (uint8_t)st;
	q->reason = reason;
	if (st != DNS_OK)
		dns_entry_release(&q->e);
	list_insert_tail(&q->r->posted, &q->link);
	comm_call_post(q->r->loop, &q->call);
}

/* e is DONE: every lookup waiting for it gets its result. */
void
dns_query_wake(struct dns_entry *e)
{
	struct list *n, *tmp;
	struct dns_query *q;

	CHECK(e->state == DNS_E_DONE);
	LIST_FOREACH_SAFE(n, tmp, &e->waiters) {
		q = container_of(n, struct dns_query, link);
		dns_query_post(q, e->ans.status, e->ans.reason);
	}
}

/* Answer q from e at once. */
static void
query_answer(struct dns_query *q, struct dns_entry *e)
{
	dns_entry_hold(e);
	q->e = e;
	dns_query_post(q, e->ans.status, e->ans.reason);
}

static void
query_literal(struct dns_query *q, const char *text, const union dns_addr *a)
{
	struct dns_entry *e;

	e = dns_entry_new(text, strlen(text), DNS_SRC_LITERAL);
	if (e == NULL || dns_entry_add(e, &a->sa) != 0) {
		dns_entry_release(&e);
		dns_query_post(q, DNS_ERROR, ares_strerror(ARES_ENOMEM));
		return;
	}
	q->e = e;
	dns_query_post(q, DNS_OK, e->ans.reason);
}

/* A new handle, WAITING on nothing yet.  NULL on ENOMEM (errno set). */
static struct dns_query *
query_new(struct dns_resolver *r, void *arg)
{
	struct dns_query *q;

	ALLOC_OBJ(q, DNS_QUERY_MAGIC);
	if (q == NULL) {
		errno = ENOMEM;
		return (NULL);
	}
	q->r = r;
	q->arg = arg;
	q->state = DNS_Q_WAITING;
	list_init(&q->link);
	comm_call_init(&q->call, query_deliver);
	return (q);
}

/* key (a name, or an address's text) is not cached: a new pending entry
 * for it, in the cache and in flight, with q waiting on it.  NULL on
 * ENOMEM, and then q is posted with DNS_ERROR. */
static struct dns_entry *
query_start(struct dns_resolver *r, struct dns_query *q, const char *key,
    size_t len)
{
	struct dns_entry *e;

	e = dns_entry_new(key, len, DNS_SRC_DNS);
	if (e == NULL) {
		dns_query_post(q, DNS_ERROR, ares_strerror(ARES_ENOMEM));
		return (NULL);
	}
	e->reverse = q->reverse;
	e->state = DNS_E_PENDING;
	e->r = r;
	e->deadline = comm_now(r->loop) + r->timeout;
	dns_tab_insert(&r->cache, e);
	list_insert_tail(&r->inflight, &e->link);
	r->st.in_flight++;
	dns_entry_hold(e);
	q->e = e;
	list_insert_tail(&e->waiters, &q->link);
	return (e);
}

/* Answer q from the cache if key has an entry there: a cached answer or
 * failure (posted), or one in flight (q waits on it).  false if none. */
static bool
query_cached(struct dns_resolver *r, struct dns_query *q, const char *key,
    size_t len)
{
	struct dns_entry *e;

	e = dns_cache_get(r, key, len, dns_name_hash(key, len));
	if (e != NULL && e->state == DNS_E_DONE) {
		if (e->ans.status == DNS_OK)
			r->st.hits++;
		else
			r->st.negative_hits++;
		query_answer(q, e);
		return (true);
	}
	r->st.misses++;
	if (e == NULL)
		return (false);
	r->st.shared++;
	dns_entry_hold(e);
	q->e = e;
	list_insert_tail(&e->waiters, &q->link);
	return (true);
}

struct dns_query *
dns_lookup(struct dns_resolver *r, const char *host, size_t hostlen,
    dns_done_fn *done, void *arg)
{
	char name[DNS_NAME_MAX + 1], text[INET6_ADDRSTRLEN];
	struct dns_query *q;
	struct dns_entry *e;
	union dns_addr a;
	uint32_t hash;
	size_t len;

	CHECK_OBJ_NOTNULL(r, DNS_RESOLVER_MAGIC);
	AN(host != NULL || hostlen == 0);
	AN(done);
	if ((q = query_new(r, arg)) == NULL)
		return (NULL);
	q->done = done;
	r->st.lookups++;

	if (dns_literal_parse(host, hostlen, &a, text, sizeof text)) {
		r->st.literals++;
		query_literal(q, text, &a);
		return (q);
	}
	if (dns_name_normalize(host, hostlen, name, &len) != 0) {
		dns_query_post(q, DNS_ERROR, ares_strerror(ARES_EBADNAME));
		return (q);
	}
	hash = dns_name_hash(name, len);
	if ((e = dns_hosts_find(r, name, len, hash)) != NULL) {
		r->st.hosts_hits++;
		query_answer(q, e);
		return (q);
	}
	if (query_cached(r, q, name, len))
		return (q);
	if ((e = query_start(r, q, name, len)) == NULL)
		return (q);
	/* Last: c-ares may fail the query before it returns, which posts
	 * q like any other completion. */
	dns_resolver_ask(r, e);
	return (q);
}

/* sa as a dns_addr (port 0, IPv4-mapped IPv6 as IPv4) and its canonical
 * text.  false for another family. */
static bool
query_addr(const struct sockaddr *sa, union dns_addr *a, char *text,
    size_t textsize)
{
	const struct sockaddr_in6 *s6;

	memset(a, 0, sizeof *a);
	if (sa->sa_family == AF_INET) {
		a->sin.sin_family = AF_INET;
		a->sin.sin_addr = ((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			a->sin.sin_family = AF_INET;
			memcpy(&a->sin.sin_addr, &s6->sin6_addr.s6_addr[12],
			    4);
		} else {
			a->sin6.sin6_family = AF_INET6;
			a->sin6.sin6_addr = s6->sin6_addr;
		}
	} else
		return (false);
	AN(inet_ntop(a->sa.sa_family, a->sa.sa_family == AF_INET ?
	    (const void *)&a->sin.sin_addr : (const void *)&a->sin6.sin6_addr,
	    text, (socklen_t)textsize));
	return (true);
}

struct dns_query *
dns_lookup_addr(struct dns_resolver *r, const struct sockaddr *sa,
    dns_name_fn *done, void *arg)
{
	char text[INET6_ADDRSTRLEN];
	struct dns_query *q;
	struct dns_entry *e;
	union dns_addr a;

	CHECK_OBJ_NOTNULL(r, DNS_RESOLVER_MAGIC);
	AN(sa);
	AN(done);
	if ((q = query_new(r, arg)) == NULL)
		return (NULL);
	q->reverse = true;
	q->rdone = done;
	r->st.addr_lookups++;

	if (!query_addr(sa, &a, text, sizeof text)) {
		dns_query_post(q, DNS_ERROR, ares_strerror(ARES_EBADFAMILY));
		return (q);
	}
	if ((e = dns_hosts_find_addr(r, &a, text)) != NULL) {
		r->st.hosts_hits++;
		query_answer(q, e);
		return (q);
	}
	if (query_cached(r, q, text, strlen(text)))
		return (q);
	if ((e = query_start(r, q, text, strlen(text))) == NULL)
		return (q);
	/* Without memory for it e has no address, and
	 * dns_resolver_ask_ptr() fails it.  Last, as in dns_lookup(). */
	(void)dns_entry_add(e, &a.sa);
	dns_resolver_ask_ptr(r, e);
	return (q);
}

void
dns_cancel(struct dns_query **qp)
{
	struct dns_query *q;

	TAKE_OBJ_NOTNULL(q, qp, DNS_QUERY_MAGIC);
	switch (q->state) {
	case DNS_Q_WAITING:
		q->r->st.cancels++;
		dns_query_post(q, DNS_CANCELLED,
		    ares_strerror(ARES_ECANCELLED));
		break;
	case DNS_Q_POSTED:
		/* Still queued: the caller asked, so CANCELLED is what it
		 * gets, whatever was on its way. */
		if (q->status == DNS_CANCELLED)
			break;
		if (q->r != NULL)
			q->r->st.cancels++;
		q->status = DNS_CANCELLED;
		q->reason = ares_strerror(ARES_ECANCELLED);
		dns_entry_release(&q->e);
		break;
	default:
		WRONG("dns_cancel() from the query's own completion");
	}
}
