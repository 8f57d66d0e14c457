/*
 * dns_cache.c - answers (struct dns_entry), their tables, the ipcache.
 *
 * Lifecycle of an entry asked of DNS:
 *	dns_entry_new()		refs 1 (the index's), PENDING
 *	dns_tab_insert()	in r->cache: later lookups of the name wait on
 *				it instead of asking again
 *	dns_cache_settle()	DONE: onto r->lru for its TTL, or out of the
 *				index at once when it must not be kept
 *	dns_cache_get()		a hit moves it to the lru tail; an expired
 *				one is dropped there and then
 *	dns_cache_drop()	out of the index: expired, evicted (lru head,
 *				beyond max_entries), or the resolver freed
 *	dns_entry_release()	freed at the last reference, which may be a
 *				caller's long after the resolver is gone
 *
 * Reverse entries (keyed by an address's text) live in the same cache,
 * under the same TTLs and bound.
 *
 * hosts_file and literal answers are entries too (DONE from the start,
 * never expiring), so every answer a caller sees is the same object.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/list.h"
#include "comm/comm.h"
#include "dns/dns_int.h"

struct dns_entry *
dns_entry_new(const char *name, size_t len, enum dns_source src)
{
	struct dns_entry *e;

	e = calloc(1, sizeof *e + len + 1);
	if (e == NULL)
		return (NULL);
	e->ans.magic = DNS_ANSWER_MAGIC;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->ans.name = e->name;
	e->ans.source = src;
	e->ans.status = DNS_OK;
	e->ans.reason = "OK";
	e->refs = 1;
	e->state = DNS_E_DONE;
	e->hash = dns_name_hash(e->name, len);
	list_init(&e->hlink);
	list_init(&e->link);
	list_init(&e->waiters);
	return (e);
}

void
dns_entry_hold(struct dns_entry *e)
{
	CHECK_OBJ_NOTNULL(&e->ans, DNS_ANSWER_MAGIC);
	CHECK(e->refs > 0);
	e->refs++;
}

void
dns_entry_release(struct dns_entry **ep)
{
	struct dns_entry *e;

	if (*ep == NULL)
		return;
	e = *ep;
	*ep = NULL;
	CHECK_OBJ(&e->ans, DNS_ANSWER_MAGIC);
	CHECK(e->refs > 0);
	if (--e->refs > 0)
		return;
	CHECK(!e->indexed);
	CHECK(!list_linked(&e->link));
	CHECK(list_empty(&e->waiters));
	free(e->addrs);
	free(e->ptr);
	memset(&e->ans.magic, 0x5a, sizeof e->ans.magic);
	free(e);
}

/*
 * Add sa (AF_INET or AF_INET6; its port is cleared) unless it is there
 * already or DNS_ADDRS_MAX are: a CNAME chain or a hosts_file may name an
 * address twice, and a connect loop has no use for hundreds.  0 or
 * -ENOMEM; anything but an address family we know is -EAFNOSUPPORT.
 */
int
dns_entry_add(struct dns_entry *e, const struct sockaddr *sa)
{
	union dns_addr a, *v;
	unsigned i, cap;

	memset(&a, 0, sizeof a);
	if (sa->sa_family == AF_INET) {
		memcpy(&a.sin, sa, sizeof a.sin);
		a.sin.sin_port = 0;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(&a.sin6, sa, sizeof a.sin6);
		a.sin6.sin6_port = 0;
		a.sin6.sin6_flowinfo = 0;
	} else
		return (-EAFNOSUPPORT);
	for (i = 0; i < e->ans.naddrs; i++)
		if (memcmp(&e->addrs[i], &a, sizeof a) == 0)
			return (0);
	if (e->ans.naddrs >= DNS_ADDRS_MAX)
		return (0);
	if (e->ans.naddrs == e->cap) {
		cap = e->cap == 0 ? 2 : e->cap * 2;
		v = realloc(e->addrs, cap * sizeof *v);
		if (v == NULL)
			return (-ENOMEM);
		e->addrs = v;
		e->cap = cap;
		e->ans.addrs = v;
	}
	e->addrs[e->ans.naddrs++] = a;
	return (0);
}

const struct dns_answer *
dns_answer_ref(const struct dns_answer *a)
{
	CHECK_OBJ_NOTNULL(a, DNS_ANSWER_MAGIC);
	/* The answer is the entry's first member; refs are the entry's. */
	dns_entry_hold((struct dns_entry *)(uintptr_t)a);
	return (a);
}

void
dns_answer_unref(const struct dns_answer **ap)
{
	struct dns_entry *e;

	AN(ap);
	if (*ap == NULL)
		return;
	CHECK_OBJ(*ap, DNS_ANSWER_MAGIC);
	e = (struct dns_entry *)(uintptr_t)*ap;
	*ap = NULL;
	dns_entry_release(&e);
}

/* FNV-1a: names are short and already lower case. */
uint32_t
dns_name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	return (h);
}

/* 0 or -ENOMEM; about one bucket per expected entry. */
int
dns_tab_init(struct dns_tab *t, unsigned expect)
{
	uint32_t n = 16, i;

	while (n < expect && n < DNS_TAB_MAX)
		n <<= 1;
	t->b = calloc(n, sizeof *t->b);
	if (t->b == NULL)
		return (-ENOMEM);
	for (i = 0; i < n; i++)
		list_init(&t->b[i]);
	t->mask = n - 1;
	t->count = 0;
	return (0);
}

/* Every entry must have been removed (asserted). */
void
dns_tab_fini(struct dns_tab *t)
{
	uint32_t i;

	if (t->b == NULL)
		return;
	for (i = 0; i <= t->mask; i++)
		CHECK(list_empty(&t->b[i]));
	free(t->b);
	t->b = NULL;
}

struct dns_entry *
dns_tab_find(const struct dns_tab *t, const char *name, size_t len,
    uint32_t hash)
{
	struct list *n;
	struct dns_entry *e;

	LIST_FOREACH(n, &t->b[hash & t->mask]) {
		e = container_of(n, struct dns_entry, hlink);
		if (e->hash == hash && strlen(e->name) == len &&
		    memcmp(e->name, name, len) == 0)
			return (e);
	}
	return (NULL);
}

/* Twice the buckets, each entry moved to its new chain.  Without memory
 * the table stays as it is: slower, still right. */
static void
dns_tab_grow(struct dns_tab *t)
{
	uint32_t n = (t->mask + 1) * 2, i;
	struct list *b, *l;
	struct dns_entry *e;

	b = calloc(n, sizeof *b);
	if (b == NULL)
		return;
	for (i = 0; i < n; i++)
		list_init(&b[i]);
	for (i = 0; i <= t->mask; i++) {
		while ((l = list_first(&t->b[i])) != NULL) {
			e = container_of(l, struct dns_entry, hlink);
			list_remove(l);
			list_insert_head(&b[e->hash & (n - 1)], l);
		}
	}
	free(t->b);
	t->b = b;
	t->mask = n - 1;
}

/* The index takes over the caller's reference. */
void
dns_tab_insert(struct dns_tab *t, struct dns_entry *e)
{
	CHECK(!e->indexed);
	if (t->count / 2 > t->mask && t->mask + 1 < DNS_TAB_MAX)
		dns_tab_grow(t);
	list_insert_head(&t->b[e->hash & t->mask], &e->hlink);
	e->indexed = true;
	t->count++;
}

/* Out of t; the index's reference is now the caller's. */
void
dns_tab_remove(struct dns_tab *t, struct dns_entry *e)
{
	CHECK(e->indexed);
	CHECK(t->count > 0);
	list_remove(&e->hlink);
	e->indexed = false;
	t->count--;
}

/* The entry for name if it may answer now: pending, or cached and not
 * expired (counted as used); an expired one is dropped.  NULL if none. */
struct dns_entry *
dns_cache_get(struct dns_resolver *r, const char *name, size_t len,
    uint32_t hash)
{
	struct dns_entry *e;

	e = dns_tab_find(&r->cache, name, len, hash);
	if (e == NULL || e->state == DNS_E_PENDING)
		return (e);
	if (comm_now(r->loop) >= e->ans.expires) {
		dns_cache_drop(r, e);
		return (NULL);
	}
	list_remove(&e->link);
	list_insert_tail(&r->lru, &e->link);
	return (e);
}

/*
 * A pending entry's answer is fixed: keep it for ttl seconds (0 or less:
 * not at all, but the lookups waiting for it still get it), then make
 * room by dropping the least recently used.  The caller holds its own
 * reference, so e survives being dropped here.
 */
void
dns_cache_settle(struct dns_resolver *r, struct dns_entry *e, double ttl)
{
	struct dns_entry *old;

	CHECK(e->state == DNS_E_PENDING);
	e->state = DNS_E_DONE;
	e->r = NULL;
	list_remove(&e->link);
	r->st.in_flight--;
	if (!e->indexed)
		return;
	e->ans.expires = comm_now(r->loop) + (ttl > 0 ? ttl : 0);
	if (ttl <= 0) {
		dns_tab_remove(&r->cache, e);
		dns_entry_release(&e);
		return;
	}
	list_insert_tail(&r->lru, &e->link);
	r->st.entries++;
	while (r->st.entries > r->max_entries) {
		old = container_of(list_first(&r->lru), struct dns_entry,
		    link);
		dns_cache_drop(r, old);
		r->st.evictions++;
	}
}

/* Out of the cache, index reference dropped; holders keep theirs. */
void
dns_cache_drop(struct dns_resolver *r, struct dns_entry *e)
{
	CHECK(e->state == DNS_E_DONE);
	dns_tab_remove(&r->cache, e);
	list_remove(&e->link);
	r->st.entries--;
	dns_entry_release(&e);
}

int
dns_walk(const struct dns_resolver *r, dns_walk_fn *fn, void *arg)
{
	struct list *n;
	struct dns_entry *e;
	int ret;

	CHECK_OBJ_NOTNULL(r, DNS_RESOLVER_MAGIC);
	AN(fn);
	LIST_FOREACH(n, &r->lru) {
		e = container_of(n, struct dns_entry, link);
		if (e->reverse)
			continue;
		if ((ret = fn(&e->ans, arg)) != 0)
			return (ret);
	}
	LIST_FOREACH(n, &r->hosts_order) {
		e = container_of(n, struct dns_entry, link);
		if ((ret = fn(&e->ans, arg)) != 0)
			return (ret);
	}
	return (0);
}
