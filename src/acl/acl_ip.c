/*
 * acl_ip.c - address sets for src and dst: sorted, merged ranges.
 *
 * Every address is a 128-bit number; IPv4 a.b.c.d is ::ffff:a.b.c.d, the
 * form an IPv6 socket reports an IPv4 client in, so one set serves both.
 * Values become [first, last] ranges; acl_ipset_finish() sorts them and
 * merges those that overlap or touch, after which a lookup is a binary
 * search: O(log n), 32 bytes per range.
 *
 *	value			range
 *	10.1.2.3		10.1.2.3 only
 *	10.0.0.0/8		prefix (IPv4 /n is /96+n of the mapped space)
 *	10.0.0.0/255.0.0.0	the same, as a netmask (contiguous only)
 *	0.0.0.1-0.255.255.255	an explicit range, either family
 *	fc00::/7, ::1		IPv6
 *	all			every address of both families
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "acl/acl_int.h"

#define ACL_IP_TEXT_MAX		128

static const struct acl_ip acl_ip_max = { UINT64_MAX, UINT64_MAX };

static int
ip_cmp(const struct acl_ip *a, const struct acl_ip *b)
{
	if (a->hi != b->hi)
		return (a->hi < b->hi ? -1 : 1);
	if (a->lo != b->lo)
		return (a->lo < b->lo ? -1 : 1);
	return (0);
}

static uint64_t
be64(const unsigned char *p)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (v);
}

static void
ip_from_bytes(const unsigned char b[16], struct acl_ip *a)
{
	a->hi = be64(b);
	a->lo = be64(b + 8);
}

static void
ip_from_v4(uint32_t host_order, struct acl_ip *a)
{
	a->hi = 0;
	a->lo = UINT64_C(0xffff) << 32 | host_order;
}

bool
acl_ip_from_sockaddr(const struct sockaddr *sa, struct acl_ip *a)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (sa == NULL)
		return (false);
	switch (sa->sa_family) {
	case AF_INET:
		memcpy(&sin, sa, sizeof sin);
		ip_from_v4(ntohl(sin.sin_addr.s_addr), a);
		return (true);
	case AF_INET6:
		memcpy(&sin6, sa, sizeof sin6);
		ip_from_bytes(sin6.sin6_addr.s6_addr, a);
		return (true);
	default:
		return (false);
	}
}

/* Parse an address of either family; *v4 tells which it was. */
static bool
ip_parse(const char *s, struct acl_ip *a, bool *v4)
{
	struct in_addr in;
	struct in6_addr in6;

	if (inet_pton(AF_INET, s, &in) == 1) {
		ip_from_v4(ntohl(in.s_addr), a);
		*v4 = true;
		return (true);
	}
	if (inet_pton(AF_INET6, s, &in6) == 1) {
		ip_from_bytes(in6.s6_addr, a);
		*v4 = false;
		return (true);
	}
	return (false);
}

bool
acl_ip_from_text(const char *s, size_t len, struct acl_ip *a)
{
	char buf[INET6_ADDRSTRLEN];
	bool v4;

	if (s == NULL || len == 0 || len >= sizeof buf)
		return (false);
	memcpy(buf, s, len);
	buf[len] = '\0';
	return (ip_parse(buf, a, &v4));
}

/* The mask of a prefix of bits (0-128) bits. */
static struct acl_ip
ip_mask(unsigned bits)
{
	struct acl_ip m;

	m.hi = bits == 0 ? 0 : bits >= 64 ? UINT64_MAX :
	    UINT64_MAX << (64 - bits);
	m.lo = bits <= 64 ? 0 : bits >= 128 ? UINT64_MAX :
	    UINT64_MAX << (128 - bits);
	return (m);
}

/* "24" or "255.255.255.0" (v4 only, contiguous): the prefix length in the
 * address's own family, or -1. */
static int
ip_prefix_len(const char *s, bool v4)
{
	struct in_addr in;
	uint32_t m, inv;
	unsigned long n;
	char *end;

	if (v4 && strchr(s, '.') != NULL) {
		if (inet_pton(AF_INET, s, &in) != 1)
			return (-1);
		m = ntohl(in.s_addr);
		inv = ~m;
		if ((inv & (inv + 1)) != 0)
			return (-1);	/* not contiguous */
		return (__builtin_popcount(m));
	}
	if (!isdigit((unsigned char)s[0]))
		return (-1);
	errno = 0;
	n = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || n > (v4 ? 32u : 128u))
		return (-1);
	return ((int)n);
}

static int
ipset_push(struct acl_ipset *s, const struct acl_ip *first,
    const struct acl_ip *last)
{
	struct acl_iprange *v;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap == 0 ? 8 : s->cap * 2;
		v = realloc(s->v, cap * sizeof *v);
		if (v == NULL)
			return (-ENOMEM);
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].first = *first;
	s->v[s->n].last = *last;
	s->n++;
	return (0);
}

static bool
looks_like_name(const char *s)
{
	bool alpha = false;

	for (; *s != '\0' && *s != '/'; s++) {
		if (isalpha((unsigned char)*s) && !isxdigit((unsigned char)*s))
			alpha = true;
		else if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-')
			return (false);
	}
	return (alpha);
}

int
acl_ipset_add(struct acl_ipset *s, const struct acl_where *w,
    const char *value)
{
	char buf[ACL_IP_TEXT_MAX], *slash, *dash;
	struct acl_ip first, last, mask;
	bool v4, v4b;
	int len;

	if (strcmp(value, "all") == 0) {
		memset(&first, 0, sizeof first);
		return (ipset_push(s, &first, &acl_ip_max) == 0 ? 0 : -ENOMEM);
	}
	if (strlen(value) >= sizeof buf)
		goto bad;
	strcpy(buf, value);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	dash = strchr(buf, '-');
	if (dash != NULL)
		*dash++ = '\0';
	if (!ip_parse(buf, &first, &v4))
		goto bad;
	last = first;
	if (dash != NULL) {
		if (slash != NULL || !ip_parse(dash, &last, &v4b))
			goto bad;
		if (v4 != v4b) {
			acl_error(w, NULL, "range \"%s\" mixes IPv4 and IPv6",
			    value);
			return (-1);
		}
		if (ip_cmp(&first, &last) > 0) {
			acl_error(w, NULL, "range \"%s\" ends before it "
			    "starts", value);
			return (-1);
		}
	}
	if (slash != NULL) {
		len = ip_prefix_len(slash, v4);
		if (len < 0) {
			acl_error(w, NULL, "bad prefix length or netmask in "
			    "\"%s\"", value);
			return (-1);
		}
		mask = ip_mask((unsigned)len + (v4 ? 96u : 0u));
		if ((first.hi & ~mask.hi) != 0 || (first.lo & ~mask.lo) != 0)
			acl_warn(w, "write the network address the prefix "
			    "starts with", "\"%s\": the prefix length masks "
			    "away host bits of the address", value);
		first.hi &= mask.hi;
		first.lo &= mask.lo;
		last.hi = first.hi | ~mask.hi;
		last.lo = first.lo | ~mask.lo;
	}
	return (ipset_push(s, &first, &last) == 0 ? 0 : -ENOMEM);
bad:
	if (looks_like_name(value))
		acl_error(w, "names are not resolved in acl values: give "
		    "numeric addresses (or use dstdomain for destination "
		    "names)", "bad address \"%s\"", value);
	else
		acl_error(w, NULL, "bad address \"%s\"", value);
	return (-1);
}

static int
range_cmp(const void *a, const void *b)
{
	const struct acl_iprange *x = a, *y = b;

	return (ip_cmp(&x->first, &y->first));
}

int
acl_ipset_finish(struct acl_ipset *s)
{
	struct acl_iprange *v;
	struct acl_ip next;
	size_t i, n;

	if (s->n == 0)
		return (0);
	qsort(s->v, s->n, sizeof *s->v, range_cmp);
	for (n = 0, i = 1; i < s->n; i++) {
		/* Merge when v[i] starts at or before last + 1. */
		next = s->v[n].last;
		if (++next.lo == 0)
			next.hi++;
		if (ip_cmp(&s->v[n].last, &acl_ip_max) == 0 ||
		    ip_cmp(&s->v[i].first, &next) <= 0) {
			if (ip_cmp(&s->v[i].last, &s->v[n].last) > 0)
				s->v[n].last = s->v[i].last;
			continue;
		}
		s->v[++n] = s->v[i];
	}
	s->n = n + 1;
	s->any = s->n == 1 && s->v[0].first.hi == 0 &&
	    s->v[0].first.lo == 0 && ip_cmp(&s->v[0].last, &acl_ip_max) == 0;
	v = realloc(s->v, s->n * sizeof *v);
	if (v != NULL)
		s->v = v;
	s->cap = s->n;
	return (0);
}

bool
acl_ipset_match(const struct acl_ipset *s, const struct acl_ip *a)
{
	size_t lo = 0, hi = s->n, mid;

	if (s->any)
		return (true);
	if (a == NULL)
		return (false);
	/* The last range whose first address is <= a. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ip_cmp(&s->v[mid].first, a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo > 0 && ip_cmp(a, &s->v[lo - 1].last) <= 0);
}

void
acl_ipset_fini(struct acl_ipset *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}
