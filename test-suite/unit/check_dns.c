/*
 * check_dns.c - unit tests for the resolver and the ipcache, and for
 * comm_watch, which carries c-ares' sockets.  Every lookup that needs a
 * name server asks the fake one of dns_test.h on 127.0.0.1, driven by the
 * same loop; none leaves the host.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "dns/dns_int.h"
#include "comm_test.h"
#include "dns_test.h"

static const struct fake_rr table[] = {
	{ "www.example.test", FAKE_ANSWER, 300,
	    { "192.0.2.1", "192.0.2.2" }, { "2001:db8::1" }, 0, 0, NULL, 0 },
	{ "v4.example.test", FAKE_ANSWER, 300, { "192.0.2.10" }, { NULL },
	    0, 0, NULL, 0 },
	{ "short.example.test", FAKE_ANSWER, 1, { "192.0.2.20" }, { NULL },
	    0, 0, NULL, 0 },
	{ "zero.example.test", FAKE_ANSWER, 0, { "192.0.2.30" }, { NULL },
	    0, 0, NULL, 0 },
	{ "nodata.example.test", FAKE_ANSWER, 300, { NULL }, { NULL }, 0, 0,
	    NULL, 0 },
	{ "gone.example.test", FAKE_NXDOMAIN, 0, { NULL }, { NULL }, 0, 0,
	    NULL, 0 },
	{ "broken.example.test", FAKE_SERVFAIL, 0, { NULL }, { NULL }, 0, 0,
	    NULL, 0 },
	{ "silent.example.test", FAKE_SILENT, 0, { NULL }, { NULL }, 0, 0,
	    NULL, 0 },
	{ "intranet.test", FAKE_ANSWER, 300, { "198.51.100.1" }, { NULL },
	    0, 0, NULL, 0 },
	{ "a.test", FAKE_ANSWER, 300, { "192.0.2.101" }, { NULL }, 0, 0,
	    NULL, 0 },
	{ "b.test", FAKE_ANSWER, 300, { "192.0.2.102" }, { NULL }, 0, 0,
	    NULL, 0 },
	{ "c.test", FAKE_ANSWER, 300, { "192.0.2.103" }, { NULL }, 0, 0,
	    NULL, 0 },
	/* Reverse: 192.0.2.1 and 2001:db8::1 have names, 192.0.2.2 has
	 * none, 192.0.2.3 gets no answer, 192.0.2.4 a name we refuse. */
	{ "1.2.0.192.in-addr.arpa", FAKE_ANSWER, 300, { NULL }, { NULL },
	    0, 0, "Client.Example.TEST.", 0 },
	{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	    "ip6.arpa", FAKE_ANSWER, 300, { NULL }, { NULL }, 0, 0,
	    "v6client.example.test", 0 },
	{ "2.2.0.192.in-addr.arpa", FAKE_NXDOMAIN, 0, { NULL }, { NULL },
	    0, 0, NULL, 0 },
	{ "3.2.0.192.in-addr.arpa", FAKE_SILENT, 0, { NULL }, { NULL },
	    0, 0, NULL, 0 },
	{ "4.2.0.192.in-addr.arpa", FAKE_ANSWER, 300, { NULL }, { NULL },
	    0, 0, "bad name!.test", 0 },
};

static struct comm_loop *loop;
static struct fake fake;
static struct fake_rr rrs[ARRAY_LEN(table)];
static struct dns_resolver *res;

static void
setup(void)
{
	memcpy(rrs, table, sizeof rrs);
	loop = comm_loop_new();
	ck_assert_ptr_nonnull(loop);
	fake_start(&fake, loop, rrs, ARRAY_LEN(rrs));
}

static void
teardown(void)
{
	dns_resolver_free(&res);
	fake_stop(&fake);
	comm_loop_free(&loop);
}

/* Parameters pointing at the fake server: 2 s timeout, an hour for
 * answers, a minute for failures, no hosts_file. */
static struct dns_params
params(void)
{
	struct dns_params p;

	memset(&p, 0, sizeof p);
	p.nameservers[0] = fake.ns;
	p.nnameservers = 1;
	p.timeout = 2;
	p.positive_ttl = 3600;
	p.negative_ttl = 60;
	return (p);
}

static void
start(const struct dns_params *p)
{
	res = dns_resolver_new(loop, p);
	ck_assert_ptr_nonnull(res);
}

static struct fake_rr *
rr(const char *name)
{
	struct fake_rr *r = fake_find(&fake, name);

	AN(r);
	return (r);
}

/* Look host up and run the loop until the completion. */
static void
resolve(const char *host, struct lrec *rec)
{
	(void)lookup(res, host, rec);
	RUN_UNTIL(loop, rec->calls > 0);
	ck_assert_int_eq(rec->calls, 1);
}

/* --- comm_watch ---------------------------------------------------------- */

struct wrec {
	int			calls;
	bool			rd;
	bool			wr;
	struct comm_watch	**self;		/* free it from the callback */
};

static void
wrec_ready(struct comm_watch *w, int fd, bool rd, bool wr, void *arg)
{
	struct wrec *r = arg;

	AN(w);
	ck_assert_int_ge(fd, 0);
	r->calls++;
	r->rd = rd;
	r->wr = wr;
	if (r->self != NULL)
		comm_watch_free(r->self);
}

START_TEST(watch_reports_readiness_level_triggered)
{
	struct comm_loop *l = comm_loop_new();
	struct comm_watch *w;
	struct wrec r = { 0 };
	int sv[2];
	char c;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	w = comm_watch_new(l, sv[0], wrec_ready, &r);
	ck_assert_ptr_nonnull(w);
	comm_watch_set(w, true, false);
	run_for(l, 0.05);
	ck_assert_int_eq(r.calls, 0);

	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	RUN_UNTIL(l, r.calls >= 1);
	ck_assert(r.rd && !r.wr);
	RUN_UNTIL(l, r.calls >= 2);	/* still unread: reported again */

	comm_watch_set(w, false, true);
	r.calls = 0;
	RUN_UNTIL(l, r.calls >= 1);
	ck_assert(r.wr && !r.rd);

	comm_watch_set(w, false, false);
	r.calls = 0;
	run_for(l, 0.05);
	ck_assert_int_eq(r.calls, 0);
	ck_assert_int_eq(read(sv[0], &c, 1), 1);

	comm_watch_free(&w);
	ck_assert_ptr_null(w);
	comm_watch_free(&w);		/* NULL is fine */
	ck_assert_int_ne(fcntl(sv[0], F_GETFD), -1);	/* not closed */
	close(sv[0]);
	close(sv[1]);
	comm_loop_free(&l);
}
END_TEST

START_TEST(watch_may_free_itself_from_its_callback)
{
	struct comm_loop *l = comm_loop_new();
	struct comm_watch *w;
	struct wrec r = { 0 };
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	w = comm_watch_new(l, sv[0], wrec_ready, &r);
	r.self = &w;
	comm_watch_set(w, true, true);
	RUN_UNTIL(l, r.calls >= 1);
	ck_assert_ptr_null(w);
	run_for(l, 0.05);
	ck_assert_int_eq(r.calls, 1);
	close(sv[0]);
	close(sv[1]);
	comm_loop_free(&l);
}
END_TEST

/* --- where answers come from ---------------------------------------------- */

START_TEST(literals_answer_without_a_query)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 }, c = { 0 };

	start(&p);
	resolve("192.0.2.7", &a);
	ck_assert_int_eq(a.status, DNS_OK);
	ck_assert_int_eq(a.source, DNS_SRC_LITERAL);
	ck_assert_uint_eq(a.naddrs, 1);
	ck_assert_str_eq(a.addrs[0], "192.0.2.7");
	ck_assert_str_eq(a.name, "192.0.2.7");

	resolve("2001:DB8:0::7", &b);
	ck_assert_int_eq(b.status, DNS_OK);
	ck_assert_int_eq(b.source, DNS_SRC_LITERAL);
	ck_assert_str_eq(b.addrs[0], "2001:db8::7");
	ck_assert_str_eq(b.name, "2001:db8::7");

	resolve("[::1]", &c);
	ck_assert_int_eq(c.status, DNS_OK);
	ck_assert_str_eq(c.addrs[0], "::1");

	ck_assert_int_eq(fake.packets, 0);
	ck_assert_uint_eq(stats(res).literals, 3);
	ck_assert_uint_eq(stats(res).queries, 0);
}
END_TEST

START_TEST(name_resolves_to_ipv6_and_ipv4_alternating)
{
	struct dns_params p = params();
	struct lrec a = { 0 };
	double now;

	start(&p);
	resolve("www.example.test", &a);
	now = comm_now(loop);
	ck_assert_int_eq(a.status, DNS_OK);
	ck_assert_int_eq(a.source, DNS_SRC_DNS);
	ck_assert_str_eq(a.name, "www.example.test");
	ck_assert_uint_eq(a.naddrs, 3);
	ck_assert_str_eq(a.addrs[0], "2001:db8::1");
	ck_assert_str_eq(a.addrs[1], "192.0.2.1");
	ck_assert_str_eq(a.addrs[2], "192.0.2.2");
	/* min(record TTL 300, positive_ttl 3600) */
	ck_assert(a.expires > now + 290 && a.expires <= now + 300);
	ck_assert_int_eq(rr("www.example.test")->a, 1);
	ck_assert_int_eq(rr("www.example.test")->aaaa, 1);
	ck_assert_uint_eq(stats(res).misses, 1);
	ck_assert_uint_eq(stats(res).queries, 1);
	ck_assert_uint_eq(stats(res).entries, 1);
	ck_assert_uint_eq(stats(res).in_flight, 0);
}
END_TEST

START_TEST(ipv4_only_name_and_nodata)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 };

	start(&p);
	resolve("v4.example.test", &a);
	ck_assert_int_eq(a.status, DNS_OK);
	ck_assert_uint_eq(a.naddrs, 1);
	ck_assert_str_eq(a.addrs[0], "192.0.2.10");

	resolve("nodata.example.test", &b);	/* NOERROR, no records */
	ck_assert_int_eq(b.status, DNS_NXDOMAIN);
}
END_TEST

START_TEST(completions_never_run_inside_dns_lookup)
{
	struct dns_params p = params();
	struct lrec r[7];
	const char *hosts[] = {
		"www.example.test",	/* miss */
		"www.example.test",	/* joins the query in flight */
		"192.0.2.1",		/* literal */
		"bad..name",		/* invalid */
	};
	unsigned i;

	memset(r, 0, sizeof r);
	start(&p);
	for (i = 0; i < ARRAY_LEN(hosts); i++)
		(void)lookup(res, hosts[i], &r[i]);	/* asserts calls == 0 */
	RUN_UNTIL(loop, r[0].calls && r[1].calls && r[2].calls &&
	    r[3].calls);
	ck_assert_int_eq(r[3].status, DNS_ERROR);
	resolve("gone.example.test", &r[4]);
	/* Now from the cache: an answer and a failure, still queued. */
	(void)lookup(res, "www.example.test", &r[5]);
	(void)lookup(res, "gone.example.test", &r[6]);
	ck_assert_int_eq(r[5].calls + r[6].calls, 0);
	RUN_UNTIL(loop, r[5].calls && r[6].calls);
	ck_assert_int_eq(r[5].status, DNS_OK);
	ck_assert_int_eq(r[6].status, DNS_NXDOMAIN);
	run_for(loop, 0.05);
	for (i = 0; i < ARRAY_LEN(r); i++)
		ck_assert_int_eq(r[i].calls, 1);
}
END_TEST

START_TEST(invalid_names_fail_without_a_query)
{
	struct dns_params p = params();
	char longname[300];
	const char *bad[] = {
		"", ".", "a..b", "bad name", "under/score", "127.1", "10.0.0",
		"fe80::1%eth0", "[192.0.2.1]", longname,
	};
	struct lrec r[ARRAY_LEN(bad)];
	unsigned i;

	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	memset(r, 0, sizeof r);
	start(&p);
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		resolve(bad[i], &r[i]);
		ck_assert_msg(r[i].status == DNS_ERROR, "%s: %s", bad[i],
		    dns_status_name(r[i].status));
	}
	ck_assert_int_eq(fake.packets, 0);
}
END_TEST

START_TEST(hosts_file_wins_over_dns)
{
	struct dns_params p = params();
	char path[] = "/tmp/check_dns_hostsXXXXXX";
	struct lrec a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("# a comment\n"
	    "192.0.2.50\tIntranet.Test  alias.test # trailing comment\n"
	    "\n"
	    "not-an-address some.test\n"
	    "2001:db8::50 intranet.test\n"
	    "192.0.2.51 intranet.test. bad..name\n", f);
	fclose(f);
	p.hosts_file = path;
	start(&p);
	unlink(path);
	ck_assert_uint_eq(stats(res).hosts, 2);

	resolve("INTRANET.test", &a);
	ck_assert_int_eq(a.status, DNS_OK);
	ck_assert_int_eq(a.source, DNS_SRC_HOSTS);
	ck_assert_uint_eq(a.naddrs, 3);		/* file order */
	ck_assert_str_eq(a.addrs[0], "192.0.2.50");
	ck_assert_str_eq(a.addrs[1], "2001:db8::50");
	ck_assert_str_eq(a.addrs[2], "192.0.2.51");
	ck_assert(a.expires == 0);

	resolve("alias.test.", &b);
	ck_assert_int_eq(b.status, DNS_OK);
	ck_assert_str_eq(b.addrs[0], "192.0.2.50");

	resolve("some.test", &c);		/* its line was skipped */
	ck_assert_int_eq(c.status, DNS_NXDOMAIN);
	ck_assert_int_eq(fake.packets, 2);	/* A and AAAA for some.test */
	ck_assert_uint_eq(stats(res).hosts_hits, 2);

	resolve("www.example.test", &d);	/* others still go to DNS */
	ck_assert_int_eq(d.status, DNS_OK);
}
END_TEST

START_TEST(unreadable_hosts_file_is_empty)
{
	struct dns_params p = params();
	struct lrec a = { 0 };

	p.hosts_file = "/nonexistent/hosts";
	start(&p);
	ck_assert_uint_eq(stats(res).hosts, 0);
	resolve("intranet.test", &a);
	ck_assert_int_eq(a.status, DNS_OK);
	ck_assert_str_eq(a.addrs[0], "198.51.100.1");
}
END_TEST

START_TEST(names_are_asked_as_given)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 };

	/* Neither a search list (c-ares would take one from the
	 * environment) nor c-ares' own reading of /etc/hosts. */
	ck_assert_int_eq(setenv("LOCALDOMAIN", "example.test", 1), 0);
	start(&p);
	resolve("www", &a);
	ck_assert_int_eq(a.status, DNS_NXDOMAIN);
	ck_assert_int_eq(rr("www.example.test")->a, 0);
	resolve("ip6-localhost", &b);		/* in /etc/hosts on Debian */
	ck_assert_int_eq(b.status, DNS_NXDOMAIN);
	ck_assert_int_eq(fake.packets, 4);
}
END_TEST

START_TEST(synchronous_c_ares_failure_is_not_inline)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 };

	/* c-ares fails .onion names (RFC 7686) inside ares_getaddrinfo(),
	 * that is inside dns_lookup(). */
	start(&p);
	resolve("hidden.onion", &a);		/* asserts not inline */
	ck_assert_int_eq(a.status, DNS_NXDOMAIN);
	resolve("hidden.onion", &b);
	ck_assert_int_eq(b.status, DNS_NXDOMAIN);
	ck_assert_uint_eq(stats(res).negative_hits, 1);
	ck_assert_uint_eq(stats(res).in_flight, 0);
	ck_assert_int_eq(fake.packets, 0);
}
END_TEST

START_TEST(localhost_is_loopback_without_a_query)
{
	struct dns_params p = params();
	char path[] = "/tmp/check_dns_hostsXXXXXX";
	struct lrec a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	FILE *f;
	int fd;

	start(&p);				/* no hosts_file */
	resolve("LocalHost.", &a);
	ck_assert_int_eq(a.status, DNS_OK);
	ck_assert_int_eq(a.source, DNS_SRC_HOSTS);
	ck_assert_uint_eq(a.naddrs, 2);
	ck_assert_str_eq(a.addrs[0], "127.0.0.1");
	ck_assert_str_eq(a.addrs[1], "::1");
	resolve("www.localhost", &b);		/* RFC 6761 6.3 */
	ck_assert_int_eq(b.status, DNS_OK);
	ck_assert_str_eq(b.addrs[0], "127.0.0.1");
	resolve("notlocalhost", &c);		/* only the label counts */
	ck_assert_int_eq(c.status, DNS_NXDOMAIN);
	ck_assert_int_eq(fake.packets, 2);
	dns_resolver_free(&res);

	fd = mkstemp(path);			/* hosts_file says otherwise */
	f = fdopen(fd, "w");
	fputs("::1 localhost\n", f);
	fclose(f);
	p.hosts_file = path;
	start(&p);
	unlink(path);
	resolve("a.b.localhost", &d);
	ck_assert_int_eq(d.status, DNS_OK);
	ck_assert_uint_eq(d.naddrs, 1);
	ck_assert_str_eq(d.addrs[0], "::1");
	ck_assert_int_eq(fake.packets, 2);
}
END_TEST

/* --- the ipcache ---------------------------------------------------------- */

START_TEST(second_lookup_within_ttl_is_a_hit)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 }, c = { 0 };

	start(&p);
	resolve("www.example.test", &a);
	resolve("www.example.test", &b);
	resolve("WWW.Example.TEST.", &c);	/* case and final dot */
	ck_assert_int_eq(b.status, DNS_OK);
	ck_assert_int_eq(c.status, DNS_OK);
	ck_assert_ptr_eq(a.ans, b.ans);		/* the same answer */
	ck_assert_ptr_eq(a.ans, c.ans);
	ck_assert_str_eq(c.addrs[0], "2001:db8::1");
	ck_assert_int_eq(rr("www.example.test")->a, 1);
	ck_assert_uint_eq(stats(res).hits, 2);
	ck_assert_uint_eq(stats(res).misses, 1);
	ck_assert_uint_eq(stats(res).lookups, 3);
}
END_TEST

START_TEST(answer_expires_after_positive_ttl)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 }, c = { 0 };

	p.positive_ttl = 0.2;
	start(&p);
	resolve("www.example.test", &a);
	ck_assert(a.expires <= comm_now(loop) + 0.2);
	resolve("www.example.test", &b);
	ck_assert_int_eq(rr("www.example.test")->a, 1);
	run_for(loop, 0.3);
	resolve("www.example.test", &c);
	ck_assert_int_eq(c.status, DNS_OK);
	ck_assert_int_eq(rr("www.example.test")->a, 2);
	ck_assert_uint_eq(stats(res).hits, 1);
	ck_assert_uint_eq(stats(res).misses, 2);
	ck_assert_uint_eq(stats(res).entries, 1);
}
END_TEST

START_TEST(record_ttl_below_positive_ttl_wins)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 }, c = { 0 };
	double now;

	start(&p);
	resolve("short.example.test", &a);	/* TTL 1 */
	now = comm_now(loop);
	ck_assert(a.expires > now + 0.5 && a.expires <= now + 1);
	resolve("zero.example.test", &b);	/* TTL 0: answered, not kept */
	ck_assert_int_eq(b.status, DNS_OK);
	ck_assert_str_eq(b.addrs[0], "192.0.2.30");
	resolve("zero.example.test", &c);
	ck_assert_int_eq(rr("zero.example.test")->a, 2);
	ck_assert_uint_eq(stats(res).entries, 1);
}
END_TEST

START_TEST(nxdomain_is_cached_for_negative_ttl)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 }, c = { 0 };

	p.negative_ttl = 0.3;
	start(&p);
	resolve("gone.example.test", &a);
	ck_assert_int_eq(a.status, DNS_NXDOMAIN);
	resolve("gone.example.test", &b);
	ck_assert_int_eq(b.status, DNS_NXDOMAIN);
	ck_assert_str_eq(b.reason, a.reason);
	ck_assert_int_eq(rr("gone.example.test")->a, 1);
	ck_assert_uint_eq(stats(res).negative_hits, 1);
	run_for(loop, 0.4);
	resolve("gone.example.test", &c);
	ck_assert_int_eq(c.status, DNS_NXDOMAIN);
	ck_assert_int_eq(rr("gone.example.test")->a, 2);
}
END_TEST

START_TEST(servfail_is_an_error_cached_negatively)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 };
	int asked;

	start(&p);
	resolve("broken.example.test", &a);
	ck_assert_int_eq(a.status, DNS_ERROR);
	asked = fake.packets;
	ck_assert_int_ge(asked, 2);
	resolve("broken.example.test", &b);
	ck_assert_int_eq(b.status, DNS_ERROR);
	ck_assert_int_eq(fake.packets, asked);
	ck_assert_uint_eq(stats(res).negative_hits, 1);
}
END_TEST

START_TEST(silent_server_times_out_within_dns_timeout)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 };
	double t0, took;

	p.timeout = 0.3;
	start(&p);
	t0 = mono_now();
	resolve("silent.example.test", &a);
	took = mono_now() - t0;
	ck_assert_int_eq(a.status, DNS_TIMEOUT);
	ck_assert_msg(took > 0.2 && took < 0.6, "took %.3f s", took);
	/* c-ares retransmitted within the budget */
	ck_assert_int_ge(rr("silent.example.test")->a, 2);
	ck_assert_uint_ge(stats(res).timeouts, 1);
	ck_assert_uint_eq(stats(res).in_flight, 0);

	resolve("silent.example.test", &b);	/* remembered */
	ck_assert_int_eq(b.status, DNS_TIMEOUT);
	ck_assert_uint_eq(stats(res).negative_hits, 1);
	run_for(loop, 0.1);
	ck_assert_int_eq(a.calls, 1);
}
END_TEST

START_TEST(concurrent_lookups_share_one_query)
{
	struct dns_params p = params();
	struct lrec r[3];
	unsigned i;

	memset(r, 0, sizeof r);
	start(&p);
	for (i = 0; i < 3; i++)
		(void)lookup(res, i == 1 ? "WWW.example.test" :
		    "www.example.test", &r[i]);
	ck_assert_uint_eq(stats(res).in_flight, 1);
	RUN_UNTIL(loop, r[0].calls && r[1].calls && r[2].calls);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_int_eq(r[i].status, DNS_OK);
		ck_assert_ptr_eq(r[i].ans, r[0].ans);
	}
	ck_assert_int_eq(rr("www.example.test")->a, 1);
	ck_assert_int_eq(rr("www.example.test")->aaaa, 1);
	ck_assert_uint_eq(stats(res).misses, 3);
	ck_assert_uint_eq(stats(res).shared, 2);
	ck_assert_uint_eq(stats(res).queries, 1);
}
END_TEST

START_TEST(cache_is_bounded_least_recently_used_first)
{
	struct dns_params p = params();
	struct lrec r[6];

	memset(r, 0, sizeof r);
	p.max_entries = 2;
	start(&p);
	resolve("a.test", &r[0]);
	resolve("b.test", &r[1]);
	resolve("a.test", &r[2]);		/* a is now the most recent */
	resolve("c.test", &r[3]);		/* b goes */
	ck_assert_uint_eq(stats(res).entries, 2);
	ck_assert_uint_eq(stats(res).evictions, 1);
	resolve("a.test", &r[4]);
	ck_assert_int_eq(rr("a.test")->a, 1);
	resolve("b.test", &r[5]);
	ck_assert_int_eq(r[5].status, DNS_OK);
	ck_assert_int_eq(rr("b.test")->a, 2);
	ck_assert_uint_eq(stats(res).entries, 2);
}
END_TEST

struct walk {
	int	n;
	char	names[8][64];
	int	stop_at;
};

static int
walk_fn(const struct dns_answer *a, void *arg)
{
	struct walk *w = arg;

	CHECK_OBJ_NOTNULL(a, DNS_ANSWER_MAGIC);
	snprintf(w->names[w->n], sizeof w->names[0], "%s %s", a->name,
	    dns_status_name(a->status));
	w->n++;
	return (w->n == w->stop_at ? 7 : 0);
}

START_TEST(walk_visits_cached_answers_then_hosts)
{
	struct dns_params p = params();
	char path[] = "/tmp/check_dns_hostsXXXXXX";
	struct lrec a = { 0 }, b = { 0 }, c = { 0 };
	struct walk w;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs("192.0.2.60 h1.test\n192.0.2.61 h2.test\n", f);
	fclose(f);
	p.hosts_file = path;
	start(&p);
	unlink(path);
	resolve("www.example.test", &a);
	resolve("gone.example.test", &b);
	resolve("www.example.test", &c);	/* now most recent */

	memset(&w, 0, sizeof w);
	ck_assert_int_eq(dns_walk(res, walk_fn, &w), 0);
	ck_assert_int_eq(w.n, 4);
	ck_assert_str_eq(w.names[0], "gone.example.test NXDOMAIN");
	ck_assert_str_eq(w.names[1], "www.example.test OK");
	ck_assert_str_eq(w.names[2], "h1.test OK");
	ck_assert_str_eq(w.names[3], "h2.test OK");

	memset(&w, 0, sizeof w);
	w.stop_at = 2;
	ck_assert_int_eq(dns_walk(res, walk_fn, &w), 7);
	ck_assert_int_eq(w.n, 2);
}
END_TEST

/* --- cancel and free ------------------------------------------------------ */

START_TEST(cancel_gives_one_cancelled_and_nothing_later)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 };
	struct dns_query *q;

	start(&p);
	q = lookup(res, "www.example.test", &a);
	cancel(&q);
	RUN_UNTIL(loop, a.calls > 0);
	ck_assert_int_eq(a.status, DNS_CANCELLED);
	run_for(loop, 0.1);		/* the answer arrives meanwhile */
	ck_assert_int_eq(a.calls, 1);
	ck_assert_uint_eq(stats(res).cancels, 1);
	/* The query went on: its answer is cached. */
	resolve("www.example.test", &b);
	ck_assert_int_eq(b.status, DNS_OK);
	ck_assert_int_eq(rr("www.example.test")->a, 1);
	ck_assert_uint_eq(stats(res).hits, 1);
}
END_TEST

START_TEST(cancel_after_the_answer_is_queued_still_cancels)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 }, c = { 0 };
	struct dns_query *q;

	start(&p);
	resolve("www.example.test", &a);
	q = lookup(res, "www.example.test", &b);	/* hit: queued */
	cancel(&q);
	q = lookup(res, "192.0.2.9", &c);		/* literal: queued */
	cancel(&q);
	RUN_UNTIL(loop, b.calls && c.calls);
	ck_assert_int_eq(b.status, DNS_CANCELLED);
	ck_assert_int_eq(c.status, DNS_CANCELLED);
	run_for(loop, 0.05);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_int_eq(c.calls, 1);
}
END_TEST

START_TEST(cancel_one_of_shared_lookups_leaves_the_others)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 }, c = { 0 };
	struct dns_query *q;

	start(&p);
	(void)lookup(res, "www.example.test", &a);
	q = lookup(res, "www.example.test", &b);
	(void)lookup(res, "www.example.test", &c);
	cancel(&q);
	RUN_UNTIL(loop, a.calls && b.calls && c.calls);
	ck_assert_int_eq(a.status, DNS_OK);
	ck_assert_int_eq(b.status, DNS_CANCELLED);
	ck_assert_int_eq(c.status, DNS_OK);
	run_for(loop, 0.05);
	ck_assert_int_eq(a.calls + b.calls + c.calls, 3);
	ck_assert_int_eq(rr("www.example.test")->a, 1);
}
END_TEST

START_TEST(resolver_free_cancels_every_lookup_once)
{
	struct dns_params p = params();
	struct lrec r[5];
	unsigned i;
	int fds;

	memset(r, 0, sizeof r);
	fds = count_open_fds();
	start(&p);
	resolve("www.example.test", &r[0]);
	memset(&r[0], 0, sizeof r[0]);
	(void)lookup(res, "silent.example.test", &r[0]);
	(void)lookup(res, "silent.example.test", &r[1]);
	(void)lookup(res, "v4.example.test", &r[2]);
	(void)lookup(res, "www.example.test", &r[3]);	/* hit, queued */
	(void)lookup(res, "::1", &r[4]);		/* literal, queued */
	ck_assert_int_gt(count_open_fds(), fds);	/* c-ares' socket */
	dns_inside_call = true;
	dns_resolver_free(&res);
	dns_inside_call = false;
	ck_assert_ptr_null(res);
	for (i = 0; i < ARRAY_LEN(r); i++)
		ck_assert_int_eq(r[i].calls, 0);
	RUN_UNTIL(loop, r[0].calls && r[1].calls && r[2].calls &&
	    r[3].calls && r[4].calls);
	run_for(loop, 0.1);
	for (i = 0; i < ARRAY_LEN(r); i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_int_eq(r[i].status, DNS_CANCELLED);
	}
	ck_assert_int_eq(count_open_fds(), fds);	/* c-ares' sockets */
}
END_TEST

START_TEST(resolver_free_from_a_completion)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 }, c = { 0 };

	start(&p);
	a.free_r = &res;
	(void)lookup(res, "192.0.2.1", &a);		/* delivered first */
	(void)lookup(res, "www.example.test", &b);
	(void)lookup(res, "10.1.2.3", &c);		/* queued behind a */
	RUN_UNTIL(loop, a.calls && b.calls && c.calls);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(a.status, DNS_OK);
	ck_assert_int_eq(b.status, DNS_CANCELLED);
	ck_assert_int_eq(c.status, DNS_CANCELLED);
	run_for(loop, 0.05);
	ck_assert_int_eq(a.calls + b.calls + c.calls, 3);
}
END_TEST

START_TEST(kept_answer_outlives_eviction_and_the_resolver)
{
	struct dns_params p = params();
	struct lrec a = { 0 }, b = { 0 };
	const struct dns_answer *ans;
	char text[INET6_ADDRSTRLEN];

	p.max_entries = 1;
	start(&p);
	a.keep = true;
	resolve("www.example.test", &a);
	ans = a.kept;
	ck_assert_ptr_nonnull(ans);
	resolve("v4.example.test", &b);		/* evicts www */
	ck_assert_uint_eq(stats(res).evictions, 1);
	dns_resolver_free(&res);
	ck_assert_str_eq(ans->name, "www.example.test");
	ck_assert_uint_eq(ans->naddrs, 3);
	ck_assert_ptr_nonnull(inet_ntop(AF_INET, &ans->addrs[1].sin.sin_addr,
	    text, sizeof text));
	ck_assert_str_eq(text, "192.0.2.1");
	ck_assert_uint_eq(dns_addr_len(&ans->addrs[0]),
	    sizeof(struct sockaddr_in6));
	dns_answer_unref(&ans);
	ck_assert_ptr_null(ans);
	dns_answer_unref(&ans);
}
END_TEST

/* --- parameters ----------------------------------------------------------- */

START_TEST(bad_parameters_are_einval)
{
	const char *bad[] = {
		"not-an-ip", "192.0.2.1:0", "192.0.2.1:99999", "192.0.2.1:x",
		"[::1", "[::1]x", "[192.0.2.1]:53x", "",
	};
	struct dns_params p = params();
	unsigned i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		p.nameservers[0] = bad[i];
		errno = 0;
		ck_assert_msg(dns_resolver_new(loop, &p) == NULL, "%s",
		    bad[i]);
		ck_assert_int_eq(errno, EINVAL);
	}
	p = params();
	p.timeout = 0;
	ck_assert_ptr_null(dns_resolver_new(loop, &p));
	ck_assert_int_eq(errno, EINVAL);
	p = params();
	p.negative_ttl = -1;
	ck_assert_ptr_null(dns_resolver_new(loop, &p));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(nameserver_forms_are_accepted)
{
	struct dns_params p = params();
	struct lrec a = { 0 };
	char v6[40];

	/* c-ares asks the first server first (no rotation): the others
	 * only have to parse. */
	snprintf(v6, sizeof v6, "[::1]:%u", (unsigned)fake.port);
	p.nameservers[0] = fake.ns;
	p.nameservers[1] = "127.0.0.1";
	p.nameservers[2] = "::1";
	p.nameservers[3] = v6;
	p.nnameservers = 4;
	start(&p);
	resolve("www.example.test", &a);
	ck_assert_int_eq(a.status, DNS_OK);
}
END_TEST

START_TEST(params_come_from_the_directives)
{
	struct dns_params p;
	struct conf *c = conf_new();

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(conf_load_string(c, "test.conf",
	    "dns_nameservers 192.0.2.53 [2001:db8::53]:5353\n"
	    "dns_nameservers 127.0.0.1:5353\n"
	    "dns_timeout 5 seconds\n"
	    "positive_dns_ttl 1 hour\n"
	    "negative_dns_ttl 30 seconds\n"
	    "hosts_file none\n"), 0);
	ck_assert_int_eq(conf_finish(c), 0);
	dns_params_from_conf(&p, c);
	ck_assert_uint_eq(p.nnameservers, 3);
	ck_assert_str_eq(p.nameservers[0], "192.0.2.53");
	ck_assert_str_eq(p.nameservers[1], "[2001:db8::53]:5353");
	ck_assert_str_eq(p.nameservers[2], "127.0.0.1:5353");
	ck_assert(p.timeout == 5);
	ck_assert(p.positive_ttl == 3600);
	ck_assert(p.negative_ttl == 30);
	ck_assert_ptr_null(p.hosts_file);
	ck_assert_uint_eq(p.max_entries, 0);
	conf_free(&c);

	c = conf_new();				/* the defaults */
	ck_assert_int_eq(conf_finish(c), 0);
	dns_params_from_conf(&p, c);
	ck_assert_uint_eq(p.nnameservers, 0);	/* resolv.conf */
	ck_assert(p.timeout == 30);
	ck_assert(p.positive_ttl == 6 * 3600);
	ck_assert(p.negative_ttl == 60);
	ck_assert_str_eq(p.hosts_file, "/etc/hosts");
	conf_free(&c);
}
END_TEST

/* --- reverse lookups ------------------------------------------------------ */

/* Name addr and run the loop until the completion. */
static void
rname(const char *addr, struct nrec *rec)
{
	(void)lookup_addr(res, addr, rec);
	RUN_UNTIL(loop, rec->calls > 0);
	ck_assert_int_eq(rec->calls, 1);
}

START_TEST(reverse_hosts_file_gives_the_first_name)
{
	struct dns_params p = params();
	char path[] = "/tmp/check_dns_hostsXXXXXX";
	struct nrec a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("192.0.2.50 bad..name Intranet.Test alias.test\n"
	    "192.0.2.50 later.test\n"
	    "2001:db8::50 six.test\n"
	    "127.0.0.1 client.test localhost\n", f);
	fclose(f);
	p.hosts_file = path;
	start(&p);
	unlink(path);

	rname("192.0.2.50", &a);
	ck_assert_int_eq(a.status, DNS_OK);
	ck_assert_str_eq(a.name, "intranet.test");	/* first valid */
	ck_assert_int_eq(a.source, DNS_SRC_HOSTS);
	rname("2001:db8::50", &b);
	ck_assert_str_eq(b.name, "six.test");
	rname("::ffff:192.0.2.50", &c);			/* mapped: IPv4 */
	ck_assert_str_eq(c.name, "intranet.test");
	rname("127.0.0.1", &d);			/* hosts_file says otherwise */
	ck_assert_str_eq(d.name, "client.test");
	ck_assert_int_eq(fake.packets, 0);
	ck_assert_uint_eq(stats(res).addr_lookups, 4);
	ck_assert_uint_eq(stats(res).hosts_hits, 4);
	ck_assert_uint_eq(stats(res).lookups, 0);
}
END_TEST

START_TEST(reverse_loopback_is_localhost_without_a_query)
{
	struct dns_params p = params();
	struct nrec a = { 0 }, b = { 0 }, c = { 0 };

	start(&p);
	rname("127.0.0.1", &a);
	ck_assert_int_eq(a.status, DNS_OK);
	ck_assert_str_eq(a.name, "localhost");
	ck_assert_int_eq(a.source, DNS_SRC_HOSTS);
	rname("::1", &c);
	ck_assert_str_eq(c.name, "localhost");
	ck_assert_int_eq(fake.packets, 0);
	/* The rest of 127/8 has no fixed name: asked (NXDOMAIN here). */
	rname("127.1.2.3", &b);
	ck_assert_int_eq(b.status, DNS_NXDOMAIN);
	ck_assert_int_eq(fake.packets, 1);
}
END_TEST

START_TEST(reverse_ptr_answer_is_folded_and_cached)
{
	struct dns_params p = params();
	struct nrec a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct dns_query *q;
	struct lrec f = { 0 };

	start(&p);
	rname("192.0.2.1", &a);
	ck_assert_int_eq(a.status, DNS_OK);
	ck_assert_str_eq(a.name, "client.example.test");
	ck_assert_int_eq(a.source, DNS_SRC_DNS);
	ck_assert_int_eq(rr("1.2.0.192.in-addr.arpa")->ptrq, 1);
	ck_assert_uint_eq(stats(res).queries, 1);
	ck_assert_uint_eq(stats(res).entries, 1);

	q = lookup_addr(res, "192.0.2.1", &b);		/* hit: still queued */
	ck_assert_ptr_nonnull(q);
	RUN_UNTIL(loop, b.calls > 0);
	ck_assert_int_eq(b.status, DNS_OK);
	ck_assert_str_eq(b.name, "client.example.test");
	ck_assert_int_eq(rr("1.2.0.192.in-addr.arpa")->ptrq, 1);
	ck_assert_uint_eq(stats(res).hits, 1);

	rname("2001:db8::1", &c);
	ck_assert_int_eq(c.status, DNS_OK);
	ck_assert_str_eq(c.name, "v6client.example.test");

	/* A forward lookup of the address is a literal, not the reverse
	 * entry, and forward names do not meet reverse keys. */
	resolve("192.0.2.1", &f);
	ck_assert_int_eq(f.source, DNS_SRC_LITERAL);

	rname("192.0.2.4", &d);			/* a name we cannot match */
	ck_assert_int_eq(d.status, DNS_ERROR);
}
END_TEST

START_TEST(reverse_nxdomain_is_cached_negatively)
{
	struct dns_params p = params();
	struct nrec a = { 0 }, b = { 0 };

	start(&p);
	rname("192.0.2.2", &a);
	ck_assert_int_eq(a.status, DNS_NXDOMAIN);
	rname("192.0.2.2", &b);
	ck_assert_int_eq(b.status, DNS_NXDOMAIN);
	ck_assert_int_eq(rr("2.2.0.192.in-addr.arpa")->ptrq, 1);
	ck_assert_uint_eq(stats(res).negative_hits, 1);
}
END_TEST

START_TEST(reverse_silent_server_times_out)
{
	struct dns_params p = params();
	struct nrec a = { 0 }, b = { 0 };
	double t0, took;

	p.timeout = 0.3;
	start(&p);
	t0 = mono_now();
	rname("192.0.2.3", &a);
	took = mono_now() - t0;
	ck_assert_int_eq(a.status, DNS_TIMEOUT);
	ck_assert_msg(took > 0.2 && took < 0.6, "took %.3f s", took);
	ck_assert_uint_ge(stats(res).timeouts, 1);
	ck_assert_uint_eq(stats(res).in_flight, 0);
	rname("192.0.2.3", &b);			/* remembered */
	ck_assert_int_eq(b.status, DNS_TIMEOUT);
	run_for(loop, 0.1);
	ck_assert_int_eq(a.calls, 1);
}
END_TEST

START_TEST(reverse_cancel_and_shared_queries)
{
	struct dns_params p = params();
	struct nrec a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct dns_query *q;

	start(&p);
	q = lookup_addr(res, "192.0.2.1", &a);
	(void)lookup_addr(res, "192.0.2.1", &b);	/* shares the query */
	ck_assert_uint_eq(stats(res).shared, 1);
	cancel(&q);
	RUN_UNTIL(loop, a.calls && b.calls);
	ck_assert_int_eq(a.status, DNS_CANCELLED);
	ck_assert_int_eq(b.status, DNS_OK);
	ck_assert_str_eq(b.name, "client.example.test");
	ck_assert_int_eq(rr("1.2.0.192.in-addr.arpa")->ptrq, 1);

	q = lookup_addr(res, "127.0.0.1", &c);		/* queued: cancels */
	cancel(&q);
	RUN_UNTIL(loop, c.calls);
	ck_assert_int_eq(c.status, DNS_CANCELLED);

	(void)lookup_addr(res, "192.0.2.3", &d);	/* in flight */
	dns_resolver_free(&res);
	RUN_UNTIL(loop, d.calls);
	ck_assert_int_eq(d.status, DNS_CANCELLED);
	run_for(loop, 0.05);
	ck_assert_int_eq(a.calls + b.calls + c.calls + d.calls, 4);
}
END_TEST

START_TEST(reverse_completions_never_run_inside_the_call)
{
	struct dns_params p = params();
	const char *addrs[] = { "127.0.0.1", "::1", "192.0.2.1", "192.0.2.1",
	    "192.0.2.2", "::ffff:127.0.0.1" };
	struct nrec r[ARRAY_LEN(addrs)];
	struct { sa_family_t f; char p[108]; } un;
	struct nrec u = { 0 };
	size_t i;

	memset(r, 0, sizeof r);
	start(&p);
	rname("192.0.2.1", &r[0]);		/* cached from here on */
	memset(r, 0, sizeof r);
	for (i = 0; i < ARRAY_LEN(addrs); i++)
		(void)lookup_addr(res, addrs[i], &r[i]);	/* calls == 0 */
	memset(&un, 0, sizeof un);
	un.f = AF_UNIX;
	dns_inside_call = true;
	ck_assert_ptr_nonnull(dns_lookup_addr(res, (struct sockaddr *)&un,
	    nrec_done, &u));
	dns_inside_call = false;
	ck_assert_int_eq(u.calls, 0);
	for (i = 0; i < ARRAY_LEN(addrs); i++)
		RUN_UNTIL(loop, r[i].calls > 0);
	RUN_UNTIL(loop, u.calls > 0);
	ck_assert_int_eq(u.status, DNS_ERROR);
	ck_assert_str_eq(r[5].name, "localhost");
	run_for(loop, 0.05);
	for (i = 0; i < ARRAY_LEN(addrs); i++)
		ck_assert_int_eq(r[i].calls, 1);
}
END_TEST

START_TEST(reverse_answers_expire_and_are_bounded)
{
	struct dns_params p = params();
	struct nrec a = { 0 }, b = { 0 }, c = { 0 };

	p.positive_ttl = 0.2;
	p.max_entries = 1;
	start(&p);
	rname("192.0.2.1", &a);
	run_for(loop, 0.3);
	rname("192.0.2.1", &b);			/* expired: asked again */
	ck_assert_int_eq(rr("1.2.0.192.in-addr.arpa")->ptrq, 2);
	rname("2001:db8::1", &c);		/* evicts 192.0.2.1 */
	ck_assert_uint_eq(stats(res).entries, 1);
	ck_assert_uint_ge(stats(res).evictions, 1);
}
END_TEST

/* The name index grows with what it holds: 20,000 names put in a table
 * made for 64 spread over thousands of chains (a hosts_file that size
 * walked a few long chains per line), each found, all taken out. */
START_TEST(name_table_grows_with_its_entries)
{
	enum { N = 20000 };
	static struct dns_entry *v[N];
	struct dns_tab t;
	char name[32];
	size_t len;
	unsigned i;

	ck_assert_int_eq(dns_tab_init(&t, 64), 0);
	for (i = 0; i < N; i++) {
		len = (size_t)snprintf(name, sizeof name, "h%u.example", i);
		v[i] = dns_entry_new(name, len, DNS_SRC_HOSTS);
		ck_assert_ptr_nonnull(v[i]);
		dns_tab_insert(&t, v[i]);
	}
	ck_assert_uint_eq(t.count, N);
	ck_assert_uint_ge(t.mask + 1, N / 2);
	for (i = 0; i < N; i += 97) {
		len = (size_t)snprintf(name, sizeof name, "h%u.example", i);
		ck_assert_ptr_eq(dns_tab_find(&t, name, len,
		    dns_name_hash(name, len)), v[i]);
	}
	ck_assert_ptr_null(dns_tab_find(&t, "h20000.example", 14,
	    dns_name_hash("h20000.example", 14)));
	for (i = 0; i < N; i++) {
		dns_tab_remove(&t, v[i]);
		dns_entry_release(&v[i]);
	}
	ck_assert_uint_eq(t.count, 0);
	dns_tab_fini(&t);
}
END_TEST

static Suite *
dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc;

	tc = tcase_create("watch");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, watch_reports_readiness_level_triggered);
	tcase_add_test(tc, watch_may_free_itself_from_its_callback);
	suite_add_tcase(s, tc);

	tc = tcase_create("sources");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, literals_answer_without_a_query);
	tcase_add_test(tc, name_resolves_to_ipv6_and_ipv4_alternating);
	tcase_add_test(tc, ipv4_only_name_and_nodata);
	tcase_add_test(tc, completions_never_run_inside_dns_lookup);
	tcase_add_test(tc, invalid_names_fail_without_a_query);
	tcase_add_test(tc, hosts_file_wins_over_dns);
	tcase_add_test(tc, unreadable_hosts_file_is_empty);
	tcase_add_test(tc, names_are_asked_as_given);
	tcase_add_test(tc, localhost_is_loopback_without_a_query);
	tcase_add_test(tc, synchronous_c_ares_failure_is_not_inline);
	suite_add_tcase(s, tc);

	tc = tcase_create("ipcache");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, second_lookup_within_ttl_is_a_hit);
	tcase_add_test(tc, answer_expires_after_positive_ttl);
	tcase_add_test(tc, record_ttl_below_positive_ttl_wins);
	tcase_add_test(tc, nxdomain_is_cached_for_negative_ttl);
	tcase_add_test(tc, servfail_is_an_error_cached_negatively);
	tcase_add_test(tc, silent_server_times_out_within_dns_timeout);
	tcase_add_test(tc, concurrent_lookups_share_one_query);
	tcase_add_test(tc, cache_is_bounded_least_recently_used_first);
	tcase_add_test(tc, walk_visits_cached_answers_then_hosts);
	suite_add_tcase(s, tc);

	tc = tcase_create("cancel");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cancel_gives_one_cancelled_and_nothing_later);
	tcase_add_test(tc, cancel_after_the_answer_is_queued_still_cancels);
	tcase_add_test(tc, cancel_one_of_shared_lookups_leaves_the_others);
	tcase_add_test(tc, resolver_free_cancels_every_lookup_once);
	tcase_add_test(tc, resolver_free_from_a_completion);
	tcase_add_test(tc, kept_answer_outlives_eviction_and_the_resolver);
	suite_add_tcase(s, tc);

	tc = tcase_create("reverse");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reverse_hosts_file_gives_the_first_name);
	tcase_add_test(tc, reverse_loopback_is_localhost_without_a_query);
	tcase_add_test(tc, reverse_ptr_answer_is_folded_and_cached);
	tcase_add_test(tc, reverse_nxdomain_is_cached_negatively);
	tcase_add_test(tc, reverse_silent_server_times_out);
	tcase_add_test(tc, reverse_cancel_and_shared_queries);
	tcase_add_test(tc, reverse_completions_never_run_inside_the_call);
	tcase_add_test(tc, reverse_answers_expire_and_are_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("params");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bad_parameters_are_einval);
	tcase_add_test(tc, nameserver_forms_are_accepted);
	tcase_add_test(tc, params_come_from_the_directives);
	tcase_add_test(tc, name_table_grows_with_its_entries);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(dns_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
