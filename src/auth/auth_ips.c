/*
 * auth_ips.c - the addresses each authenticated user came from, for
 * max_user_ip (Squid's authenticate_ip_ttl bookkeeping).
 *
 *	auth_user_ips()		a request of user from src: src kept (or
 *				refreshed) for ttl; how many are kept now
 *	auth_user_ips_forget()	max_user_ip matched: src, or all of them
 *
 * A hash of user names, each with at most AUTH_IPS_MAX addresses and when
 * each stops counting.  Expired addresses go when their user is next
 * seen; a user whose addresses all expired goes when the table is full
 * (AUTH_CACHE_MAX users), and when none has, a new user is not counted
 * (0: max_user_ip does not match, the request is not refused for it).
 */
#include "config.h"

#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/check.h"
#include "comm/comm.h"

#define AUTH_IPS_MAX	64	/* addresses kept a user: more than any
				 * sensible max_user_ip (the oldest goes) */

struct auth_ip {
	unsigned char	addr[16];	/* IPv4 as ::ffff:a.b.c.d */
	double		expires;
};

struct auth_ipuser {
	struct auth_ipuser	*next;
	unsigned		n;
	struct auth_ip		v[AUTH_IPS_MAX];
	char			user[];
};

static bool
ips_addr(const struct sockaddr *sa, unsigned char out[16])
{
	const struct sockaddr_in *sin;

	memset(out, 0, 16);
	if (sa == NULL)
		return (false);
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr, 16);
		return (true);
	}
	if (sa->sa_family != AF_INET)
		return (false);
	sin = (const struct sockaddr_in *)(const void *)sa;
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &sin->sin_addr, 4);
	return (true);
}

static struct auth_ipuser **
ips_find(struct auth *a, const char *user)
{
	struct auth_ipuser **up;

	for (up = &a->ipusers[auth_hash(user)]; *up != NULL;
	    up = &(*up)->next)
		if (strcmp((*up)->user, user) == 0)
			return (up);
	return (NULL);
}

/* Drop u's addresses that expired by now. */
static void
ips_expire(struct auth_ipuser *u, double now)
{
	unsigned i, n = 0;

	for (i = 0; i < u->n; i++)
		if (u->v[i].expires > now)
			u->v[n++] = u->v[i];
	u->n = n;
}

/* Users with no address left, dropped to make room. */
static void
ips_sweep(struct auth *a, double now)
{
	struct auth_ipuser **up, *u;
	size_t i;

	for (i = 0; i < AUTH_BUCKETS; i++)
		for (up = &a->ipusers[i]; (u = *up) != NULL;) {
			ips_expire(u, now);
			if (u->n > 0) {
				up = &u->next;
				continue;
			}
			*up = u->next;
			free(u);
			a->nipusers--;
		}
}

unsigned
auth_user_ips(struct auth *a, const char *user, const struct sockaddr *src,
    double ttl)
{
	struct auth_ipuser **up, *u;
	unsigned char addr[16];
	double now;
	unsigned i, old;
	size_t len;

	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	if (!ips_addr(src, addr))
		return (0);
	if (a->ipusers == NULL &&
	    (a->ipusers = calloc(AUTH_BUCKETS, sizeof *a->ipusers)) == NULL)
		return (0);
	now = comm_now(a->loop);
	up = ips_find(a, user);
	if (up == NULL) {
		if (a->nipusers >= AUTH_CACHE_MAX)
			ips_sweep(a, now);
		if (a->nipusers >= AUTH_CACHE_MAX)
			return (0);
		len = strlen(user);
		u = calloc(1, sizeof *u + len + 1);
		if (u == NULL)
			return (0);
		memcpy(u->user, user, len + 1);
		u->next = a->ipusers[auth_hash(user)];
		a->ipusers[auth_hash(user)] = u;
		a->nipusers++;
	} else
		u = *up;
	ips_expire(u, now);
	for (i = 0; i < u->n; i++)
		if (memcmp(u->v[i].addr, addr, 16) == 0)
			break;
	if (i == u->n && u->n == AUTH_IPS_MAX) {
		for (old = 0, i = 1; i < u->n; i++)
			if (u->v[i].expires < u->v[old].expires)
				old = i;
		i = old;
	} else if (i == u->n)
		u->n++;
	memcpy(u->v[i].addr, addr, 16);
	u->v[i].expires = now + (ttl > 0 ? ttl : 0);
	return (u->n);
}

void
auth_user_ips_forget(struct auth *a, const char *user,
    const struct sockaddr *src, bool strict)
{
	struct auth_ipuser **up, *u;
	unsigned char addr[16];
	unsigned i;

	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	if (a->ipusers == NULL || (up = ips_find(a, user)) == NULL)
		return;
	u = *up;
	if (!strict) {
		u->n = 0;
		return;
	}
	if (!ips_addr(src, addr))
		return;
	for (i = 0; i < u->n; i++)
		if (memcmp(u->v[i].addr, addr, 16) == 0) {
			u->v[i] = u->v[--u->n];
			return;
		}
}

void
auth_ips_fini(struct auth *a)
{
	struct auth_ipuser *u;
	size_t i;

	if (a->ipusers == NULL)
		return;
	for (i = 0; i < AUTH_BUCKETS; i++)
		while ((u = a->ipusers[i]) != NULL) {
			a->ipusers[i] = u->next;
			free(u);
		}
	free(a->ipusers);
	a->ipusers = NULL;
	a->nipusers = 0;
}
