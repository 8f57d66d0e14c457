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
	ALLOC_OBJ(q, DNS_QUERY_MAGIC);
	if (q == NULL) {
		errno = ENOMEM;
		return (NULL);
	}
	q->r = r;
	q->done = done;
	q->arg = arg;
	q->state = DNS_Q_WAITING;
	list_init(&q->link);
	comm_call_init(&q->call, query_deliver);
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
	e = dns_cache_get(r, name, len, hash);
	if (e != NULL && e->state == DNS_E_DONE) {
		if (e->ans.status == DNS_OK)
			r->st.hits++;
		else
			r->st.negative_hits++;
		query_answer(q, e);
		return (q);
	}

	r->st.misses++;
	if (e != NULL) {
		r->st.shared++;
		dns_entry_hold(e);
		q->e = e;
		list_insert_tail(&e->waiters, &q->link);
		return (q);
	}
	e = dns_entry_new(name, len, DNS_SRC_DNS);
	if (e == NULL) {
		dns_query_post(q, DNS_ERROR, ares_strerror(ARES_ENOMEM));
		return (q);
	}
	e->state = DNS_E_PENDING;
	e->r = r;
	e->deadline = comm_now(r->loop) + r->timeout;
	dns_tab_insert(&r->cache, e);
	list_insert_tail(&r->inflight, &e->link);
	r->st.in_flight++;
	dns_entry_hold(e);
	q->e = e;
	list_insert_tail(&e->waiters, &q->link);
	/* Last: c-ares may fail the query before it returns, which posts
	 * q like any other completion. */
	dns_resolver_ask(r, e);
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
