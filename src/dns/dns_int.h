/*
 * dns_int.h - the resolver's private structures; included by src/dns/ only.
 *
 * Who holds a reference to an entry (struct dns_entry, refs):
 *	the index		one, while the entry is in r->cache (pending or
 *				cached) or in r->hosts
 *	r->localhost		one
 *	r->loopback		one
 *	c-ares			one per query started, until its callback
 *	a query handle		one, from dns_lookup() until delivery
 *	a caller		one per dns_answer_ref()
 * An entry is freed at zero, whether or not its resolver still exists, so
 * nothing reached from an entry or a handle may point at the resolver
 * once it is gone (e->r and q->r are cleared then).
 *
 * A reverse entry (dns_lookup_addr()) is keyed by the address's text
 * ("192.0.2.1", "2001:db8::1"), which dns_name_normalize() never gives,
 * so forward and reverse entries share r->cache without meeting; its
 * answer is e->ptr, and its ans carries the address (naddrs 1).
 */
#ifndef CUTTLE_DNS_INT_H
#define CUTTLE_DNS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ares.h>

#include "base/list.h"
#include "comm/comm.h"
#include "dns/dns.h"

#define DNS_TRIES		3	/* c-ares attempts per server */

enum dns_entry_state {
	DNS_E_PENDING,		/* a query in flight; waiters wait */
	DNS_E_DONE		/* answer (or failure) fixed */
};

struct dns_entry {
	struct dns_answer	ans;		/* first: the public view */
	unsigned		refs;
	uint8_t			state;		/* enum dns_entry_state */
	bool			indexed;	/* in r->cache, r->hosts or
						 * r->hosts_rev */
	bool			reverse;	/* keyed by address: ptr */
	uint32_t		hash;
	struct list		hlink;		/* bucket chain */
	struct list		link;		/* r->inflight, r->lru or
						 * r->hosts_order */
	struct list		waiters;	/* struct dns_query (PENDING) */
	struct dns_resolver	*r;		/* PENDING: the owner */
	double			deadline;	/* PENDING: TIMEOUT at */
	union dns_addr		*addrs;		/* ans.addrs, owned */
	unsigned		cap;		/* room in addrs */
	char			*ptr;		/* reverse, DONE, OK: the
						 * name, owned */
	char			name[];		/* ans.name */
};

enum dns_query_state {
	DNS_Q_WAITING,		/* on e->waiters */
	DNS_Q_POSTED,		/* result fixed, on r->posted, call queued */
	DNS_Q_DELIVERING	/* inside done() */
};

struct dns_query {
	unsigned		magic;
#define DNS_QUERY_MAGIC		0xd25e9e11U
	uint8_t			state;		/* enum dns_query_state */
	uint8_t			status;		/* enum dns_status (POSTED) */
	bool			reverse;	/* dns_lookup_addr(): rdone */
	const char		*reason;
	struct dns_resolver	*r;		/* NULL once it is freed */
	struct dns_entry	*e;		/* held; NULL when none */
	struct list		link;		/* e->waiters or r->posted */
	struct comm_call	call;
	dns_done_fn		*done;
	dns_name_fn		*rdone;
	void			*arg;
};

/* A hash table of entries by name; chains through e->hlink. */
/* Chained hash table of entries by name; it doubles its buckets when
 * it holds twice as many entries (a hosts_file of 100,000 names loads in
 * linear time, not 100,000 walks of a few long chains). */
#define DNS_TAB_MAX	(1u << 24)	/* buckets */

struct dns_tab {
	struct list		*b;
	uint32_t		mask;
	uint32_t		count;
};

/* A c-ares socket and its watch. */
struct dns_sock {
	struct list		link;		/* r->socks */
	int			fd;
	struct comm_watch	*w;
};

struct dns_resolver {
	unsigned		magic;
#define DNS_RESOLVER_MAGIC	0xd25e5013U
	struct comm_loop	*loop;
	ares_channel		channel;
	bool			lib_up;		/* ares_library_init() done */
	bool			channel_up;
	struct comm_timer	*timer;		/* c-ares timeouts, deadlines */
	struct list		socks;		/* struct dns_sock */
	struct dns_tab		cache;		/* pending and cached entries */
	struct dns_tab		hosts;
	struct list		hosts_order;	/* hosts entries, file order */
	struct dns_entry	*localhost;	/* held: answers *.localhost */
	struct dns_tab		hosts_rev;	/* hosts_file by address */
	struct list		hosts_rev_order; /* its entries */
	struct dns_entry	*loopback;	/* held: names 127/8, ::1 */
	struct list		lru;		/* cached, least recent first */
	struct list		inflight;	/* pending, oldest first */
	struct list		posted;		/* struct dns_query, POSTED */
	double			timeout;
	double			positive_ttl;
	double			negative_ttl;
	unsigned		max_entries;
	struct dns_stats	st;
};

/* dns_cache.c: entries, tables, the ipcache. */
struct dns_entry	*dns_entry_new(const char *name, size_t len,
			    enum dns_source src);
void	dns_entry_hold(struct dns_entry *e);
void	dns_entry_release(struct dns_entry **ep);
int	dns_entry_add(struct dns_entry *e, const struct sockaddr *sa);
uint32_t	dns_name_hash(const char *name, size_t len);
int	dns_tab_init(struct dns_tab *t, unsigned expect);
void	dns_tab_fini(struct dns_tab *t);
struct dns_entry	*dns_tab_find(const struct dns_tab *t, const char *name,
			    size_t len, uint32_t hash);
void	dns_tab_insert(struct dns_tab *t, struct dns_entry *e);
void	dns_tab_remove(struct dns_tab *t, struct dns_entry *e);
struct dns_entry	*dns_cache_get(struct dns_resolver *r,
			    const char *name, size_t len, uint32_t hash);
void	dns_cache_settle(struct dns_resolver *r, struct dns_entry *e,
	    double ttl);
void	dns_cache_drop(struct dns_resolver *r, struct dns_entry *e);

/* dns_hosts.c: names, literals, hosts_file. */
int	dns_name_normalize(const char *host, size_t len, char *out,
	    size_t *outlen);
bool	dns_literal_parse(const char *host, size_t len, union dns_addr *a,
	    char *text, size_t textsize);
int	dns_hosts_load(struct dns_resolver *r, const char *path);
int	dns_hosts_localhost(struct dns_resolver *r);
struct dns_entry	*dns_hosts_find(struct dns_resolver *r,
			    const char *name, size_t len, uint32_t hash);
struct dns_entry	*dns_hosts_find_addr(struct dns_resolver *r,
			    const union dns_addr *a, const char *text);

/* dns_lookup.c: query handles. */
void	dns_query_post(struct dns_query *q, enum dns_status st,
	    const char *reason);
void	dns_query_wake(struct dns_entry *e);

/* dns_resolver.c: the channel. */
void	dns_resolver_ask(struct dns_resolver *r, struct dns_entry *e);
void	dns_resolver_ask_ptr(struct dns_resolver *r, struct dns_entry *e);

#endif /* CUTTLE_DNS_INT_H */
