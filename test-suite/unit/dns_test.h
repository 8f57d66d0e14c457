/*
 * dns_test.h - a fake DNS server on 127.0.0.1 UDP, run by the loop under
 * test (through comm_watch), and a recorder for lookup completions.
 *
 * The server answers A, AAAA and PTR questions from a table the test owns:
 * each row has a mode (answer, NXDOMAIN, SERVFAIL, never answer), a TTL,
 * addresses, and counts the questions it got.  A name not in the table
 * is NXDOMAIN.  A PTR row is named as asked ("1.2.0.192.in-addr.arpa")
 * and gives its ptr.  Nothing here talks to a real name server: resolvers under
 * test are pointed at fake_ns() only.
 */
#ifndef CUTTLE_TEST_DNS_TEST_H
#define CUTTLE_TEST_DNS_TEST_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "comm/comm.h"
#include "dns/dns.h"

enum fake_mode {
	FAKE_ANSWER,		/* the addresses below (none: NODATA) */
	FAKE_NXDOMAIN,
	FAKE_SERVFAIL,
	FAKE_SILENT		/* count the question, never answer */
};

struct fake_rr {
	const char	*name;		/* lower case */
	enum fake_mode	mode;
	uint32_t	ttl;
	const char	*v4[4];		/* NULL-terminated */
	const char	*v6[4];
	int		a;		/* A questions received */
	int		aaaa;		/* AAAA questions received */
	const char	*ptr;		/* PTR answer; NULL: NODATA */
	int		ptrq;		/* PTR questions received */
};

struct fake {
	int			fd;
	uint16_t		port;
	struct comm_watch	*w;
	struct fake_rr		*rrs;
	size_t			nrrs;
	int			packets;	/* every datagram received */
	char			ns[32];		/* "127.0.0.1:port" */
};

static inline struct fake_rr *
fake_find(struct fake *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nrrs; i++)
		if (strcmp(f->rrs[i].name, name) == 0)
			return (&f->rrs[i]);
	return (NULL);
}

static inline size_t
fake_put_rr(unsigned char *p, uint16_t type, uint32_t ttl,
    const void *rdata, uint16_t rdlen)
{
	p[0] = 0xc0;		/* the name: a pointer to the question's */
	p[1] = 12;
	p[2] = (unsigned char)(type >> 8);
	p[3] = (unsigned char)type;
	p[4] = 0;
	p[5] = 1;			/* class IN */
	p[6] = (unsigned char)(ttl >> 24);
	p[7] = (unsigned char)(ttl >> 16);
	p[8] = (unsigned char)(ttl >> 8);
	p[9] = (unsigned char)ttl;
	p[10] = (unsigned char)(rdlen >> 8);
	p[11] = (unsigned char)rdlen;
	memcpy(p + 12, rdata, rdlen);
	return (12u + rdlen);
}

/* The reply to query q[0..n) into a (1024 bytes), or 0 for none. */
static inline size_t
fake_reply(struct fake *f, const unsigned char *q, size_t n,
    unsigned char *a)
{
	char name[256];
	size_t off = 12, nl = 0, pos, l, i;
	unsigned char bin[16];
	struct fake_rr *rr;
	enum fake_mode mode;
	unsigned an = 0;
	uint16_t qtype;

	if (n < 12 || q[4] != 0 || q[5] != 1)
		return (0);
	while (off < n && q[off] != 0) {
		l = q[off];
		if (l > 63 || off + 1 + l >= n || nl + l + 1 >= sizeof name)
			return (0);
		if (nl > 0)
			name[nl++] = '.';
		for (i = 0; i < l; i++)
			name[nl++] = (char)tolower(q[off + 1 + i]);
		off += 1 + l;
	}
	name[nl] = '\0';
	off++;
	if (off + 4 > n)
		return (0);
	qtype = (uint16_t)(q[off] << 8 | q[off + 1]);
	off += 4;
	rr = fake_find(f, name);
	if (rr != NULL && qtype == 1)
		rr->a++;
	if (rr != NULL && qtype == 28)
		rr->aaaa++;
	if (rr != NULL && qtype == 12)
		rr->ptrq++;
	mode = rr != NULL ? rr->mode : FAKE_NXDOMAIN;
	if (mode == FAKE_SILENT)
		return (0);
	memcpy(a, q, off);		/* header and question */
	a[2] = (unsigned char)(0x80 | 0x04 | (q[2] & 0x01));	/* QR AA RD */
	a[3] = (unsigned char)(0x80 | (mode == FAKE_NXDOMAIN ? 3 :
	    mode == FAKE_SERVFAIL ? 2 : 0));			/* RA rcode */
	memset(a + 6, 0, 6);
	pos = off;
	for (i = 0; mode == FAKE_ANSWER && qtype == 1 && i < 4 &&
	    rr->v4[i] != NULL; i++, an++) {
		ck_assert_int_eq(inet_pton(AF_INET, rr->v4[i], bin), 1);
		pos += fake_put_rr(a + pos, 1, rr->ttl, bin, 4);
	}
	for (i = 0; mode == FAKE_ANSWER && qtype == 28 && i < 4 &&
	    rr->v6[i] != NULL; i++, an++) {
		ck_assert_int_eq(inet_pton(AF_INET6, rr->v6[i], bin), 1);
		pos += fake_put_rr(a + pos, 28, rr->ttl, bin, 16);
	}
	if (mode == FAKE_ANSWER && qtype == 12 && rr->ptr != NULL) {
		unsigned char dn[256];
		const char *p = rr->ptr, *dot;
		size_t dl = 0;

		/* The name as labels; a final dot or none, as given. */
		while (*p != '\0') {
			dot = strchr(p, '.');
			l = dot != NULL ? (size_t)(dot - p) : strlen(p);
			ck_assert_uint_lt(dl + l + 2, sizeof dn);
			dn[dl++] = (unsigned char)l;
			memcpy(dn + dl, p, l);
			dl += l;
			p += l;
			if (*p == '.')
				p++;
		}
		dn[dl++] = 0;
		pos += fake_put_rr(a + pos, 12, rr->ttl, dn, (uint16_t)dl);
		an++;
	}
	a[7] = (unsigned char)an;
	return (pos);
}

static inline void
fake_ready(struct comm_watch *w, int fd, bool rd, bool wr, void *arg)
{
	struct fake *f = arg;
	struct sockaddr_storage from;
	unsigned char q[512], a[1024];
	socklen_t flen;
	ssize_t n;
	size_t len;

	(void)w;
	(void)rd;
	(void)wr;
	for (;;) {
		flen = sizeof from;
		n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from,
		    &flen);
		if (n == -1)
			return;
		f->packets++;
		len = fake_reply(f, q, (size_t)n, a);
		if (len > 0)
			ck_assert_int_eq(sendto(fd, a, len, 0,
			    (struct sockaddr *)&from, flen), (ssize_t)len);
	}
}

/* fake_start() - serve rrs[0..nrrs) on a free 127.0.0.1 UDP port. */
static inline void
fake_start(struct fake *f, struct comm_loop *loop, struct fake_rr *rrs,
    size_t nrrs)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	memset(f, 0, sizeof *f);
	f->rrs = rrs;
	f->nrrs = nrrs;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->fd, 0);
	ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(f->fd, (struct sockaddr *)&sin, &len),
	    0);
	f->port = ntohs(sin.sin_port);
	snprintf(f->ns, sizeof f->ns, "127.0.0.1:%u", (unsigned)f->port);
	f->w = comm_watch_new(loop, f->fd, fake_ready, f);
	ck_assert_ptr_nonnull(f->w);
	comm_watch_set(f->w, true, false);
}

static inline void
fake_stop(struct fake *f)
{
	comm_watch_free(&f->w);
	close(f->fd);
}

/* What one lookup completion said; `calls` must end at exactly 1. */
struct lrec {
	int			calls;
	enum dns_status		status;
	const char		*reason;
	enum dns_source		source;
	unsigned		naddrs;
	char			addrs[8][INET6_ADDRSTRLEN];
	char			name[256];
	double			expires;
	const struct dns_answer	*ans;		/* lent: compare only */
	bool			keep;		/* dns_answer_ref() it */
	const struct dns_answer	*kept;
	struct dns_resolver	**free_r;	/* dns_resolver_free() this */
};

/* Set while dns_lookup() or dns_cancel() runs: a completion seeing it
 * ran inline, which the contract forbids. */
static bool dns_inside_call;

static inline void
lrec_done(struct dns_query *q, const struct dns_result *res, void *arg)
{
	struct lrec *r = arg;
	const union dns_addr *a;
	unsigned i;

	AN(q);
	ck_assert_msg(!dns_inside_call, "completion ran inside its call");
	r->calls++;
	r->status = res->status;
	r->reason = res->reason;
	ck_assert_ptr_nonnull(res->reason);
	r->ans = res->ans;
	if (res->status != DNS_OK) {
		ck_assert_ptr_null(res->ans);
	} else {
		ck_assert_ptr_nonnull(res->ans);
		ck_assert_uint_ge(res->ans->naddrs, 1);
		r->source = res->ans->source;
		r->naddrs = res->ans->naddrs;
		r->expires = res->ans->expires;
		snprintf(r->name, sizeof r->name, "%s", res->ans->name);
		for (i = 0; i < res->ans->naddrs && i < 8; i++) {
			a = &res->ans->addrs[i];
			ck_assert_uint_eq(a->sin.sin_port, 0);
			ck_assert_ptr_nonnull(inet_ntop(a->sa.sa_family,
			    a->sa.sa_family == AF_INET ?
			    (const void *)&a->sin.sin_addr :
			    (const void *)&a->sin6.sin6_addr,
			    r->addrs[i], sizeof r->addrs[i]));
		}
		if (r->keep)
			r->kept = dns_answer_ref(res->ans);
	}
	if (r->free_r != NULL)
		dns_resolver_free(r->free_r);
}

/* lookup() - dns_lookup() of a C string, checked not to complete inline. */
static inline struct dns_query *
lookup(struct dns_resolver *r, const char *host, struct lrec *rec)
{
	struct dns_query *q;

	dns_inside_call = true;
	q = dns_lookup(r, host, strlen(host), lrec_done, rec);
	dns_inside_call = false;
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(rec->calls, 0);
	return (q);
}

static inline void
cancel(struct dns_query **qp)
{
	dns_inside_call = true;
	dns_cancel(qp);
	dns_inside_call = false;
	ck_assert_ptr_null(*qp);
}

/* What one reverse completion said; `calls` must end at exactly 1. */
struct nrec {
	int			calls;
	enum dns_status		status;
	const char		*reason;
	enum dns_source		source;
	char			name[256];
};

static inline void
nrec_done(struct dns_query *q, const struct dns_name_result *res, void *arg)
{
	struct nrec *r = arg;

	AN(q);
	ck_assert_msg(!dns_inside_call, "completion ran inside its call");
	r->calls++;
	r->status = res->status;
	r->reason = res->reason;
	ck_assert_ptr_nonnull(res->reason);
	r->name[0] = '\0';
	if (res->status != DNS_OK) {
		ck_assert_ptr_null(res->name);
		return;
	}
	ck_assert_ptr_nonnull(res->name);
	r->source = res->source;
	snprintf(r->name, sizeof r->name, "%s", res->name);
}

/* lookup_addr() - dns_lookup_addr() of an address literal (port 8080,
 * which must not matter), checked not to complete inline. */
static inline struct dns_query *
lookup_addr(struct dns_resolver *r, const char *addr, struct nrec *rec)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct dns_query *q;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(8080);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, addr,
		    &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(8080);
	}
	dns_inside_call = true;
	q = dns_lookup_addr(r, (struct sockaddr *)&ss, nrec_done, rec);
	dns_inside_call = false;
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(rec->calls, 0);
	return (q);
}

static inline struct dns_stats
stats(const struct dns_resolver *r)
{
	struct dns_stats st;

	dns_stats(r, &st);
	return (st);
}

#endif /* CUTTLE_TEST_DNS_TEST_H */
