/*
 * dns.h - asynchronous name resolution (c-ares) and the ipcache.
 *
 * Contract (doc/internals/dns.md):
 * - dns_lookup() completes exactly once: DNS_OK with at least one
 *   address, DNS_NXDOMAIN (no such name, or no address for it),
 *   DNS_TIMEOUT (no answer within the timeout), DNS_ERROR (server
 *   failure or refusal, an invalid name, no memory) or DNS_CANCELLED
 *   (dns_cancel(), dns_resolver_free()).  No path skips the completion.
 * - Completions run from the loop's call queue, never inside the call
 *   that started or cancelled the lookup: not for cache hits, hosts_file
 *   names or address literals either.
 * - The answer is lent for the duration of the callback; dns_answer_ref()
 *   keeps it (for trying the next address when a connect fails).
 *
 * Where an answer comes from, in order: an address literal ("192.0.2.1",
 * "2001:db8::1", "[2001:db8::1]") is answered as is; a name in hosts_file
 * (read once, at dns_resolver_new()); "localhost" and names under it,
 * which are loopback (RFC 6761 6.3: 127.0.0.1 and ::1 unless hosts_file
 * says otherwise); the ipcache; else one query for A and AAAA, shared by
 * every lookup of that name while it is in flight.
 * Names are case-insensitive and a final dot is ignored.  Answers are
 * cached for min(record TTL, positive_ttl), failures for negative_ttl;
 * the cache holds at most max_entries answers, the least recently used
 * going first.
 *
 * dns_lookup_addr() is the reverse: an address to a name, with the same
 * rules (one completion, from the loop, cancel, statuses).  In order: the
 * first name hosts_file gives the address; 127.0.0.1 and ::1 are
 * "localhost" unless hosts_file says otherwise (other 127/8 addresses are
 * asked: RFC 6303 fixes only those two); the cache (the
 * same one, keyed by the address's text, which no forward name can be);
 * else one PTR query, shared while in flight.  Answers are cached for
 * positive_ttl (c-ares does not report PTR TTLs), failures for
 * negative_ttl.  The name is not confirmed by a forward lookup.
 *
 * Lifecycle:
 *	dns_resolver_new()	c-ares channel on the loop, hosts_file read
 *	dns_lookup()		a query handle; done() will run once
 *	dns_lookup_addr()	the same, for a reverse lookup
 *	dns_cancel()		done() will run once, with DNS_CANCELLED
 *	dns_resolver_free()	lookups not yet delivered complete CANCELLED
 *				(from the loop, after it returns); answers
 *				still referenced outlive it
 */
#ifndef CUTTLE_DNS_H
#define CUTTLE_DNS_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct comm_loop;
struct conf;
struct dns_resolver;
struct dns_query;

#define DNS_NAMESERVERS_MAX	8
#define DNS_CACHE_DEFAULT	4096	/* max_entries when 0 */
#define DNS_ADDRS_MAX		32	/* addresses kept per name */
#define DNS_NAME_MAX		253	/* without the final dot */

struct dns_params {
	/* "192.0.2.1", "192.0.2.1:5353", "2001:db8::1", "[2001:db8::1]:53";
	 * none: those of /etc/resolv.conf.  Copied by dns_resolver_new(). */
	const char	*nameservers[DNS_NAMESERVERS_MAX];
	unsigned	nnameservers;
	double		timeout;	/* seconds a lookup may take, > 0 */
	double		positive_ttl;	/* seconds an answer is kept at most */
	double		negative_ttl;	/* seconds a failure is kept */
	const char	*hosts_file;	/* NULL: none */
	unsigned	max_entries;	/* cached answers; 0: the default */
};

/* dns_params_from_conf() - the dns_* directives, positive_dns_ttl,
 * negative_dns_ttl and hosts_file of c.  Strings point into c, which must
 * outlive p until dns_resolver_new().  Name servers past
 * DNS_NAMESERVERS_MAX are ignored with a warning. */
void	dns_params_from_conf(struct dns_params *p, const struct conf *c);

enum dns_status {
	DNS_OK,			/* at least one address */
	DNS_NXDOMAIN,		/* no such name, or no A/AAAA for it */
	DNS_TIMEOUT,		/* no answer within params.timeout */
	DNS_ERROR,		/* SERVFAIL, REFUSED, bad name, ENOMEM... */
	DNS_CANCELLED		/* dns_cancel(), dns_resolver_free() */
};

const char	*dns_status_name(enum dns_status st);

enum dns_source {
	DNS_SRC_DNS,		/* asked a name server */
	DNS_SRC_HOSTS,		/* hosts_file */
	DNS_SRC_LITERAL		/* the name was an address */
};

/* An address as struct sockaddr wants it; the port is 0. */
union dns_addr {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
};

static inline socklen_t
dns_addr_len(const union dns_addr *a)
{
	return (a->sa.sa_family == AF_INET6 ? sizeof a->sin6 :
	    sizeof a->sin);
}

/*
 * An answer: refcounted, immutable once delivered.  Addresses are in a
 * stable order: from hosts_file, in file order; from DNS, IPv6 and IPv4
 * alternating, IPv6 first (RFC 8305 section 4), each family in the order
 * the server gave.  A caller that fails to connect to one address tries
 * the next.
 */
struct dns_answer {
	unsigned		magic;
#define DNS_ANSWER_MAGIC	0xd25a25e1U
	const char		*name;		/* lower case, no final dot */
	enum dns_status		status;		/* OK, or the failure cached */
	enum dns_source		source;
	const char		*reason;	/* static text */
	double			expires;	/* comm_now() time; 0: never */
	unsigned		naddrs;		/* >= 1 when OK */
	const union dns_addr	*addrs;
};

/* dns_answer_ref() - keep a lent answer; returns a.  Answers may outlive
 * their resolver.  dns_answer_unref() - drop it, NULL *ap; NULL ok. */
const struct dns_answer	*dns_answer_ref(const struct dns_answer *a);
void	dns_answer_unref(const struct dns_answer **ap);

struct dns_result {
	enum dns_status		status;
	const char		*reason;	/* static text, for logs */
	const struct dns_answer	*ans;		/* DNS_OK only; lent */
};

/* The completion; q is dead once it returns (and must not be cancelled
 * from inside it). */
typedef void dns_done_fn(struct dns_query *q, const struct dns_result *res,
    void *arg);

/* dns_resolver_new() - a resolver on loop.  NULL with errno set: EINVAL
 * (bad parameters or name server, logged), ENOMEM, EIO (c-ares).  A
 * hosts_file that cannot be read is logged and treated as empty. */
struct dns_resolver	*dns_resolver_new(struct comm_loop *loop,
			    const struct dns_params *p);
/* dns_resolver_free() - every lookup not yet delivered completes as
 * DNS_CANCELLED (from the loop, so after this returns); NULLs *rp; NULL
 * ok.  May be called from a completion; before comm_loop_free(). */
void	dns_resolver_free(struct dns_resolver **rp);

/* dns_resolver_idle() - true when no lookup handle of r is outstanding
 * (every done() has run): r can then be freed without cancelling anyone.
 * Reconfigure retires the old resolver and frees it once idle. */
bool	dns_resolver_idle(const struct dns_resolver *r);

/* dns_lookup() - resolve host[0..hostlen) (a name or an address literal;
 * need not be NUL-terminated).  done(q, res, arg) runs once, from the
 * loop.  The handle is the caller's until done runs, for dns_cancel().
 * NULL only on ENOMEM (errno set), and then done never runs. */
struct dns_query	*dns_lookup(struct dns_resolver *r, const char *host,
			    size_t hostlen, dns_done_fn *done, void *arg);
/* What a reverse lookup found; name is lent for the callback's duration. */
struct dns_name_result {
	enum dns_status		status;		/* NXDOMAIN: no PTR record */
	const char		*reason;	/* static text, for logs */
	const char		*name;		/* DNS_OK only: lower case,
						 * no final dot */
	enum dns_source		source;		/* DNS_OK only: DNS or HOSTS
						 * (hosts_file, loopback) */
};

/* The reverse completion; as dns_done_fn. */
typedef void dns_name_fn(struct dns_query *q,
    const struct dns_name_result *res, void *arg);

/* dns_lookup_addr() - the name of sa (AF_INET or AF_INET6; the port is
 * ignored; an IPv4-mapped IPv6 address is its IPv4 address).  done(q,
 * res, arg) runs once, from the loop; another family completes as
 * DNS_ERROR.  The handle is the caller's until done runs, for
 * dns_cancel().  NULL only on ENOMEM (errno set), and then done never
 * runs. */
struct dns_query	*dns_lookup_addr(struct dns_resolver *r,
			    const struct sockaddr *sa, dns_name_fn *done,
			    void *arg);

/* dns_cancel() - done will run once with DNS_CANCELLED, also when an
 * answer was already on its way; NULLs *qp.  The query for the name goes
 * on and its answer is still cached.  Not after done has run. */
void	dns_cancel(struct dns_query **qp);

struct dns_stats {
	unsigned	entries;	/* cached answers, failures included */
	unsigned	in_flight;	/* names being asked */
	unsigned	hosts;		/* names from hosts_file */
	uint64_t	lookups;	/* dns_lookup() calls */
	uint64_t	addr_lookups;	/* dns_lookup_addr() calls; the
					 * counters below count both */
	uint64_t	hits;		/* answered from a cached answer */
	uint64_t	negative_hits;	/* answered from a cached failure */
	uint64_t	misses;		/* had to wait for a query */
	uint64_t	shared;		/* misses that joined one in flight */
	uint64_t	hosts_hits;
	uint64_t	literals;
	uint64_t	queries;	/* names asked (A and AAAA), or
					 * addresses (PTR) */
	uint64_t	timeouts;	/* queries that got no answer */
	uint64_t	evictions;	/* dropped to stay within max_entries */
	uint64_t	cancels;
};
void	dns_stats(const struct dns_resolver *r, struct dns_stats *st);

/* dns_walk() - call fn for each cached forward answer (reverse ones are
 * not shown), least recently used first
 * (expired ones included: see a->expires), then for each hosts_file name,
 * in file order; stops at the first non-zero return, which it returns.
 * fn must not call into the resolver.  For the cache manager. */
typedef int dns_walk_fn(const struct dns_answer *a, void *arg);
int	dns_walk(const struct dns_resolver *r, dns_walk_fn *fn, void *arg);

struct mgr_registry;

/* dns_register_pages() - the cache manager's ipcache page, rendered
 * from r (dns_mgr.c).  r must outlive reg, or be replaced there first
 * (mgr_registry_rebind()).  0 or a negative errno (mgr_register()). */
int	dns_register_pages(struct dns_resolver *r, struct mgr_registry *reg);

/* dns_print_versions() - the c-ares library in use, for cuttle -v. */
void	dns_print_versions(FILE *f);

#endif /* CUTTLE_DNS_H */
