/*
 * dns_resolver.c - the resolver: a c-ares channel driven by the loop.
 *
 * Lifecycle:
 *	dns_resolver_new()	tables, hosts_file, channel (our name
 *				servers, no search list, no file lookups:
 *				hosts_file is ours), one timer
 *	dns_resolver_ask()	ares_getaddrinfo() for A and AAAA; c-ares
 *				holds a reference to the entry until its
 *				callback, resolver_answer()
 *	dns_resolver_ask_ptr()	ares_gethostbyaddr() for PTR, the same way
 *				(resolver_ptr_answer())
 *	resolver_sock_state()	c-ares opens, closes and (un)subscribes its
 *				sockets: one comm_watch per socket
 *	resolver_sock_ready()	ares_process_fd() on readiness
 *	resolver_tick()		the one timer: c-ares' retransmissions and
 *				timeouts, then our deadlines
 *	resolver_finish()	an entry's answer is fixed: cached (or not),
 *				its waiters posted
 *	dns_resolver_free()	undelivered lookups CANCELLED, channel
 *				destroyed (c-ares drops its references),
 *				cache and hosts released
 *
 * Timeouts: the deadline, params.timeout after the query started, is ours:
 * when it passes the waiters get DNS_TIMEOUT (cached for negative_ttl)
 * and whatever c-ares says later is dropped (c-ares cannot cancel one
 * query; ares_cancel() is all of them).  Within it c-ares retransmits:
 * each server DNS_TRIES times, the wait doubling each round, so n silent
 * servers cost it n * t * (2^TRIES - 1) for a per-try timeout t, which is
 * set to make that a hair over params.timeout.  So the deadline is what
 * fires, at the same time whatever c-ares does, and c-ares' own timeout
 * only ends the abandoned query soon after.  (With the servers of
 * resolv.conf, n is taken as 1: the deadline holds all the same.)
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "base/check.h"
#include "base/list.h"
#include "base/log.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "dns/dns_int.h"

void
dns_params_from_conf(struct dns_params *p, const struct conf *c)
{
	const struct conf_line *l;
	size_t i;
	unsigned j;

	CHECK_OBJ_NOTNULL(c, CONF_MAGIC);
	memset(p, 0, sizeof *p);
	for (i = 0; i < c->dns_nameservers.n; i++) {
		l = &c->dns_nameservers.v[i];
		for (j = 0; j < l->argc; j++) {
			if (p->nnameservers == DNS_NAMESERVERS_MAX) {
				log_msg(LG_WARN, SEC_DNS, "%s:%u: "
				    "dns_nameservers: more than %d, %s "
				    "ignored", l->file, l->line,
				    DNS_NAMESERVERS_MAX, l->argv[j]);
				continue;
			}
			p->nameservers[p->nnameservers++] = l->argv[j];
		}
	}
	p->timeout = c->dns_timeout;
	p->positive_ttl = c->positive_dns_ttl;
	p->negative_ttl = c->negative_dns_ttl;
	p->hosts_file = c->hosts_file;
}

/*
 * "192.0.2.1", "192.0.2.1:5353", "2001:db8::1", "[2001:db8::1]" or
 * "[2001:db8::1]:5353" into n (port 53 when none).  0 or -EINVAL.
 */
static int
ns_parse(const char *s, struct ares_addr_port_node *n)
{
	char host[INET6_ADDRSTRLEN];
	const char *end, *port = NULL;
	unsigned long v;
	size_t len;
	char *stop;

	memset(n, 0, sizeof *n);
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return (-EINVAL);
		s++;
		len = (size_t)(end - s);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return (-EINVAL);
	} else if ((end = strchr(s, ':')) != NULL &&
	    strchr(end + 1, ':') == NULL) {
		len = (size_t)(end - s);	/* one colon: IPv4 and port */
		port = end + 1;
	} else
		len = strlen(s);
	if (len == 0 || len >= sizeof host)
		return (-EINVAL);
	memcpy(host, s, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, &n->addr.addr4) == 1)
		n->family = AF_INET;
	else if (inet_pton(AF_INET6, host, &n->addr.addr6) == 1)
		n->family = AF_INET6;
	else
		return (-EINVAL);
	v = 53;
	if (port != NULL) {
		if (*port < '0' || *port > '9')
			return (-EINVAL);
		errno = 0;
		v = strtoul(port, &stop, 10);
		if (errno != 0 || *stop != '\0' || v == 0 || v > 65535)
			return (-EINVAL);
	}
	n->udp_port = n->tcp_port = (int)v;
	return (0);
}

static void
resolver_arm(struct dns_resolver *r)
{
	struct timeval tv, *tvp;
	struct dns_entry *e;
	struct list *n;
	double next = -1, d;

	tvp = ares_timeout(r->channel, NULL, &tv);
	/* A hair late rather than early: early, c-ares would find nothing
	 * due and we would spin until it is. */
	if (tvp != NULL)
		next = (double)tvp->tv_sec + (double)tvp->tv_usec / 1e6 +
		    0.001;
	if ((n = list_first(&r->inflight)) != NULL) {
		e = container_of(n, struct dns_entry, link);
		d = e->deadline - comm_now(r->loop);
		if (d < 0)
			d = 0;
		if (next < 0 || d < next)
			next = d;
	}
	if (next < 0)
		comm_timer_stop(r->timer);
	else
		comm_timer_start(r->timer, next, 0);
}

/* e's answer is fixed (st, reason, e->addrs): keep it for ttl seconds,
 * post its waiters. */
static void
resolver_finish(struct dns_resolver *r, struct dns_entry *e,
    enum dns_status st, const char *reason, double ttl)
{
	dns_entry_hold(e);		/* the index may let go of it */
	e->ans.status = st;
	e->ans.reason = reason;
	dns_cache_settle(r, e, ttl);
	dns_query_wake(e);
	dns_entry_release(&e);
}

/*
 * The addresses of ai into e, IPv6 and IPv4 alternating (RFC 8305 4),
 * each family in the server's order: c-ares appends the A and AAAA
 * answers as they arrive, so its own order would change from one query
 * to the next.  Returns the smallest TTL of the records (CNAMEs
 * included), or -ENOMEM.
 */
static int
resolver_collect(struct dns_entry *e, const struct ares_addrinfo *ai)
{
	const struct ares_addrinfo_node *v6[DNS_ADDRS_MAX],
	    *v4[DNS_ADDRS_MAX], *n;
	const struct ares_addrinfo_cname *c;
	unsigned n6 = 0, n4 = 0, i;
	int ttl = INT_MAX;

	for (n = ai->nodes; n != NULL; n = n->ai_next) {
		if (n->ai_family == AF_INET6 && n6 < DNS_ADDRS_MAX &&
		    n->ai_addrlen >= sizeof(struct sockaddr_in6))
			v6[n6++] = n;
		else if (n->ai_family == AF_INET && n4 < DNS_ADDRS_MAX &&
		    n->ai_addrlen >= sizeof(struct sockaddr_in))
			v4[n4++] = n;
		else
			continue;
		if (n->ai_ttl < ttl)
			ttl = n->ai_ttl;
	}
	for (c = ai->cnames; c != NULL; c = c->next)
		if (c->ttl < ttl)
			ttl = c->ttl;
	for (i = 0; i < n6 || i < n4; i++) {
		if (i < n6 && dns_entry_add(e, v6[i]->ai_addr) != 0)
			return (-ENOMEM);
		if (i < n4 && dns_entry_add(e, v4[i]->ai_addr) != 0)
			return (-ENOMEM);
	}
	return (ttl < 0 ? 0 : ttl);
}

/* c-ares' verdict on a failed query, and whether to remember it. */
static enum dns_status
resolver_failure(int status, bool *keep)
{
	*keep = true;
	switch (status) {
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
	case ARES_ENONAME:
		return (DNS_NXDOMAIN);
	case ARES_ETIMEOUT:
		return (DNS_TIMEOUT);
	case ARES_ENOMEM:
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		*keep = false;
		return (DNS_ERROR);
	default:
		return (DNS_ERROR);
	}
}

/* ares_addrinfo_callback: runs from ares_process_fd() (the loop), from
 * ares_getaddrinfo() on an immediate failure, or from ares_destroy(). */
static void
resolver_answer(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct dns_entry *e = arg;
	struct dns_resolver *r;
	enum dns_status st;
	bool keep;
	int ttl;

	(void)timeouts;
	CHECK_OBJ_NOTNULL(&e->ans, DNS_ANSWER_MAGIC);
	/* DONE already: our deadline passed, or the resolver is going. */
	if (e->state == DNS_E_PENDING) {
		r = e->r;
		CHECK_OBJ_NOTNULL(r, DNS_RESOLVER_MAGIC);
		if (status == ARES_SUCCESS && ai != NULL) {
			ttl = resolver_collect(e, ai);
			if (ttl < 0)
				resolver_finish(r, e, DNS_ERROR,
				    ares_strerror(ARES_ENOMEM), 0);
			else if (e->ans.naddrs == 0)
				resolver_finish(r, e, DNS_NXDOMAIN,
				    ares_strerror(ARES_ENODATA),
				    r->negative_ttl);
			else
				resolver_finish(r, e, DNS_OK, "OK",
				    ttl < r->positive_ttl ? ttl :
				    r->positive_ttl);
		} else {
			st = resolver_failure(status, &keep);
			if (st == DNS_TIMEOUT)
				r->st.timeouts++;
			resolver_finish(r, e, st, ares_strerror(status),
			    keep ? r->negative_ttl : 0);
		}
	}
	if (ai != NULL)
		ares_freeaddrinfo(ai);
	dns_entry_release(&e);
}

/* ares_host_callback for a PTR query: as resolver_answer().  c-ares gives
 * no TTL for it, so an answer is kept for positive_ttl. */
static void
resolver_ptr_answer(void *arg, int status, int timeouts, struct hostent *h)
{
	char name[DNS_NAME_MAX + 1];
	struct dns_entry *e = arg;
	struct dns_resolver *r;
	enum dns_status st;
	size_t len;
	bool keep;

	CHECK_OBJ_NOTNULL(&e->ans, DNS_ANSWER_MAGIC);
	CHECK(e->reverse);
	if (e->state == DNS_E_PENDING) {
		r = e->r;
		CHECK_OBJ_NOTNULL(r, DNS_RESOLVER_MAGIC);
		if (status == ARES_SUCCESS && h != NULL && h->h_name != NULL) {
			/* A name we could not match on is no name. */
			if (dns_name_normalize(h->h_name, strlen(h->h_name),
			    name, &len) != 0)
				resolver_finish(r, e, DNS_ERROR,
				    ares_strerror(ARES_EBADNAME),
				    r->negative_ttl);
			else if ((e->ptr = strdup(name)) == NULL)
				resolver_finish(r, e, DNS_ERROR,
				    ares_strerror(ARES_ENOMEM), 0);
			else
				resolver_finish(r, e, DNS_OK, "OK",
				    r->positive_ttl);
		} else {
			st = resolver_failure(status, &keep);
			/* c-ares falls back to the hosts file when the PTR
			 * query times out, and says ENOTFOUND: a silent
			 * server is a timeout all the same. */
			if (st == DNS_NXDOMAIN && timeouts > 0) {
				st = DNS_TIMEOUT;
				status = ARES_ETIMEOUT;
			}
			if (st == DNS_TIMEOUT)
				r->st.timeouts++;
			resolver_finish(r, e, st, ares_strerror(status),
			    keep ? r->negative_ttl : 0);
		}
	}
	dns_entry_release(&e);
}

void
dns_resolver_ask_ptr(struct dns_resolver *r, struct dns_entry *e)
{
	const union dns_addr *a;

	CHECK(e->state == DNS_E_PENDING);
	CHECK(e->reverse);
	if (e->ans.naddrs == 0) {	/* dns_entry_add() had no memory */
		resolver_finish(r, e, DNS_ERROR, ares_strerror(ARES_ENOMEM),
		    0);
		resolver_arm(r);
		return;
	}
	a = &e->addrs[0];
	dns_entry_hold(e);		/* c-ares', until resolver_ptr_answer() */
	r->st.queries++;
	if (a->sa.sa_family == AF_INET)
		ares_gethostbyaddr(r->channel, &a->sin.sin_addr,
		    sizeof a->sin.sin_addr, AF_INET, resolver_ptr_answer, e);
	else
		ares_gethostbyaddr(r->channel, &a->sin6.sin6_addr,
		    sizeof a->sin6.sin6_addr, AF_INET6, resolver_ptr_answer,
		    e);
	resolver_arm(r);
}

void
dns_resolver_ask(struct dns_resolver *r, struct dns_entry *e)
{
	struct ares_addrinfo_hints hints;

	CHECK(e->state == DNS_E_PENDING);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	/* No RFC 6724 sorting: it connects a UDP socket per address, and
	 * resolver_collect() fixes the order anyway. */
	hints.ai_flags = ARES_AI_NOSORT;
	dns_entry_hold(e);		/* c-ares', until resolver_answer() */
	r->st.queries++;
	ares_getaddrinfo(r->channel, e->name, NULL, &hints, resolver_answer,
	    e);
	resolver_arm(r);
}

static void
resolver_tick(struct comm_timer *t, void *arg)
{
	struct dns_resolver *r = arg;
	struct dns_entry *e;
	struct list *n;
	double now;

	(void)t;
	CHECK_OBJ_NOTNULL(r, DNS_RESOLVER_MAGIC);
	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	now = comm_now(r->loop);
	while ((n = list_first(&r->inflight)) != NULL) {
		e = container_of(n, struct dns_entry, link);
		if (e->deadline > now + 0.001)
			break;
		r->st.timeouts++;
		resolver_finish(r, e, DNS_TIMEOUT,
		    ares_strerror(ARES_ETIMEOUT), r->negative_ttl);
	}
	resolver_arm(r);
}

/* comm_watch_fn; arg is the resolver (the socket's record may be freed
 * by c-ares closing it inside ares_process_fd()). */
static void
resolver_sock_ready(struct comm_watch *w, int fd, bool rd, bool wr,
    void *arg)
{
	struct dns_resolver *r = arg;

	(void)w;
	CHECK_OBJ_NOTNULL(r, DNS_RESOLVER_MAGIC);
	ares_process_fd(r->channel, rd ? fd : ARES_SOCKET_BAD,
	    wr ? fd : ARES_SOCKET_BAD);
	resolver_arm(r);
}

static void
sock_free(struct dns_sock *s)
{
	list_remove(&s->link);
	comm_watch_free(&s->w);
	free(s);
}

/* ares_sock_state_cb: c-ares wants fd watched for reading and/or
 * writing, or (neither) is about to close it. */
static void
resolver_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_resolver *r = data;
	struct dns_sock *s = NULL;
	struct list *n;

	CHECK_OBJ_NOTNULL(r, DNS_RESOLVER_MAGIC);
	LIST_FOREACH(n, &r->socks) {
		if (container_of(n, struct dns_sock, link)->fd == fd) {
			s = container_of(n, struct dns_sock, link);
			break;
		}
	}
	if (!readable && !writable) {
		if (s != NULL)
			sock_free(s);
		return;
	}
	if (s == NULL) {
		s = calloc(1, sizeof *s);
		if (s == NULL ||
		    (s->w = comm_watch_new(r->loop, fd, resolver_sock_ready,
		    r)) == NULL) {
			/* Its queries will meet their deadline. */
			log_msg(LG_ERR, SEC_DNS, "no memory to watch a DNS "
			    "socket");
			free(s);
			return;
		}
		s->fd = fd;
		list_insert_tail(&r->socks, &s->link);
	}
	comm_watch_set(s->w, readable != 0, writable != 0);
}

/* Undo whatever of dns_resolver_new() got done; see dns_resolver_free()
 * for the order. */
static void
resolver_destroy(struct dns_resolver *r)
{
	struct dns_query *q;
	struct dns_entry *e;
	struct list *n, *tmp, *m, *mtmp;

	LIST_FOREACH(n, &r->inflight) {
		e = container_of(n, struct dns_entry, link);
		LIST_FOREACH_SAFE(m, mtmp, &e->waiters) {
			q = container_of(m, struct dns_query, link);
			dns_query_post(q, DNS_CANCELLED,
			    ares_strerror(ARES_ECANCELLED));
		}
	}
	LIST_FOREACH_SAFE(n, tmp, &r->posted) {
		q = container_of(n, struct dns_query, link);
		if (q->status != DNS_CANCELLED) {
			q->status = DNS_CANCELLED;
			q->reason = ares_strerror(ARES_ECANCELLED);
			dns_entry_release(&q->e);
		}
		list_remove(&q->link);
		q->r = NULL;
	}
	while ((n = list_first(&r->inflight)) != NULL) {
		e = container_of(n, struct dns_entry, link);
		e->state = DNS_E_DONE;
		e->ans.status = DNS_CANCELLED;
		e->ans.reason = ares_strerror(ARES_EDESTRUCTION);
		e->r = NULL;
		list_remove(&e->link);
		dns_tab_remove(&r->cache, e);
		dns_entry_release(&e);
	}
	/* Runs resolver_answer() for each query still in c-ares (now
	 * DONE: a release each) and closes its sockets. */
	if (r->channel_up)
		ares_destroy(r->channel);
	while ((n = list_first(&r->socks)) != NULL)
		sock_free(container_of(n, struct dns_sock, link));
	while ((n = list_first(&r->lru)) != NULL)
		dns_cache_drop(r, container_of(n, struct dns_entry, link));
	dns_entry_release(&r->localhost);
	dns_entry_release(&r->loopback);
	while ((n = list_first(&r->hosts_order)) != NULL) {
		e = container_of(n, struct dns_entry, link);
		list_remove(&e->link);
		dns_tab_remove(&r->hosts, e);
		dns_entry_release(&e);
	}
	while ((n = list_first(&r->hosts_rev_order)) != NULL) {
		e = container_of(n, struct dns_entry, link);
		list_remove(&e->link);
		dns_tab_remove(&r->hosts_rev, e);
		dns_entry_release(&e);
	}
	dns_tab_fini(&r->cache);
	dns_tab_fini(&r->hosts);
	dns_tab_fini(&r->hosts_rev);
	comm_timer_free(&r->timer);
	if (r->lib_up)
		ares_library_cleanup();
	FREE_OBJ(r);
}

struct dns_resolver *
dns_resolver_new(struct comm_loop *loop, const struct dns_params *p)
{
	struct ares_addr_port_node ns[DNS_NAMESERVERS_MAX];
	static char lookups[] = "b";	/* DNS only: hosts_file is ours */
	struct ares_options o;
	struct dns_resolver *r;
	unsigned i, nservers;
	int err, rc, mask;
	double ms;

	AN(loop);
	AN(p);
	if (!(p->timeout > 0) || !(p->positive_ttl >= 0) ||
	    !(p->negative_ttl >= 0) || p->nnameservers > DNS_NAMESERVERS_MAX) {
		errno = EINVAL;
		return (NULL);
	}
	for (i = 0; i < p->nnameservers; i++) {
		if (p->nameservers[i] == NULL ||
		    ns_parse(p->nameservers[i], &ns[i]) != 0) {
			log_msg(LG_ERR, SEC_DNS, "dns_nameservers: not an "
			    "address[:port]: %s", p->nameservers[i] == NULL ?
			    "(null)" : p->nameservers[i]);
			errno = EINVAL;
			return (NULL);
		}
		ns[i].next = i + 1 < p->nnameservers ? &ns[i + 1] : NULL;
	}

	ALLOC_OBJ(r, DNS_RESOLVER_MAGIC);
	if (r == NULL) {
		errno = ENOMEM;
		return (NULL);
	}
	r->loop = loop;
	list_init(&r->socks);
	list_init(&r->hosts_order);
	list_init(&r->hosts_rev_order);
	list_init(&r->lru);
	list_init(&r->inflight);
	list_init(&r->posted);
	r->timeout = p->timeout;
	r->positive_ttl = p->positive_ttl;
	r->negative_ttl = p->negative_ttl;
	r->max_entries = p->max_entries != 0 ? p->max_entries :
	    DNS_CACHE_DEFAULT;
	err = EIO;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		goto fail;
	r->lib_up = true;
	err = ENOMEM;
	if (dns_tab_init(&r->cache, r->max_entries) != 0 ||
	    dns_tab_init(&r->hosts, 64) != 0 ||
	    dns_tab_init(&r->hosts_rev, 64) != 0)
		goto fail;
	r->timer = comm_timer_new(loop, resolver_tick, r);
	if (r->timer == NULL)
		goto fail;
	if (p->hosts_file != NULL &&
	    dns_hosts_load(r, p->hosts_file) == -ENOMEM)
		goto fail;
	if (dns_hosts_localhost(r) != 0)
		goto fail;

	nservers = p->nnameservers > 0 ? p->nnameservers : 1;
	memset(&o, 0, sizeof o);
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS | ARES_OPT_NOROTATE;
	o.sock_state_cb = resolver_sock_state;
	o.sock_state_cb_data = r;
	o.tries = DNS_TRIES;
	ms = p->timeout * 1000 / (nservers * ((1u << DNS_TRIES) - 1));
	o.timeout = ms < 86400000 ? (int)ms + 1 : 86400000;
	o.lookups = lookups;
	o.domains = NULL;		/* no search list: URLs carry FQDNs */
	o.ndomains = 0;
	rc = ares_init_options(&r->channel, &o, mask);
	if (rc != ARES_SUCCESS) {
		log_msg(LG_ERR, SEC_DNS, "c-ares: %s", ares_strerror(rc));
		err = rc == ARES_ENOMEM ? ENOMEM : EIO;
		goto fail;
	}
	r->channel_up = true;
	if (p->nnameservers > 0) {
		rc = ares_set_servers_ports(r->channel, &ns[0]);
		if (rc != ARES_SUCCESS) {
			log_msg(LG_ERR, SEC_DNS, "dns_nameservers: %s",
			    ares_strerror(rc));
			err = rc == ARES_ENOMEM ? ENOMEM : EINVAL;
			goto fail;
		}
	}
	return (r);

fail:
	resolver_destroy(r);
	errno = err;
	return (NULL);
}

void
dns_resolver_free(struct dns_resolver **rp)
{
	struct dns_resolver *r;

	if (*rp == NULL)
		return;
	TAKE_OBJ_NOTNULL(r, rp, DNS_RESOLVER_MAGIC);
	resolver_destroy(r);
}

bool
dns_resolver_idle(const struct dns_resolver *r)
{
	const struct dns_entry *e;
	const struct list *n;

	CHECK_OBJ_NOTNULL(r, DNS_RESOLVER_MAGIC);
	/* A handle is on r->posted (its done() queued) or waiting on an
	 * entry in flight; delivered ones are freed. */
	if (!list_empty(&r->posted))
		return (false);
	LIST_FOREACH(n, &r->inflight) {
		e = container_of(n, const struct dns_entry, link);
		if (!list_empty(&e->waiters))
			return (false);
	}
	return (true);
}

void
dns_stats(const struct dns_resolver *r, struct dns_stats *st)
{
	CHECK_OBJ_NOTNULL(r, DNS_RESOLVER_MAGIC);
	*st = r->st;
}
