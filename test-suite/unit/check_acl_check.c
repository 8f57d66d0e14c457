/*
 * check_acl_check.c - rule checks that wait for lookups (src/acl/
 * acl_check.c), against the fake name server of dns_test.h: what waits
 * and what does not, resuming where the check stopped, answers kept for
 * the next check, failed lookups, and cancel.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl/acl.h"
#include "base/check.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "comm_test.h"
#include "dns_test.h"

static const struct fake_rr table[] = {
	{ "origin.test", FAKE_ANSWER, 300, { "192.0.2.10", NULL }, { NULL },
	    0, 0, NULL, 0 },
	{ "far.test", FAKE_ANSWER, 300, { "198.51.100.7", NULL }, { NULL },
	    0, 0, NULL, 0 },
	{ "gone.test", FAKE_NXDOMAIN, 60, { NULL }, { NULL }, 0, 0, NULL, 0 },
	{ "slow.test", FAKE_SILENT, 0, { NULL }, { NULL }, 0, 0, NULL, 0 },
	{ "5.2.0.192.in-addr.arpa", FAKE_ANSWER, 300, { NULL }, { NULL },
	    0, 0, "pc5.lab.test", 0 },
};

struct t {
	struct comm_loop	*loop;
	struct fake		fake;
	struct fake_rr		rrs[ARRAY_LEN(table)];
	struct dns_resolver	*dns;
	struct conf		*c;
	struct acl_set		*set;
	struct acl_rules	*rules;
	struct sockaddr_in	src;
	struct acl_request	req;
	struct acl_lookups	lk;
	struct acl_check	ck;
	int			calls;
	enum acl_answer		answer;
	bool			in_start;
};

static void
on_answer(struct acl_check *ck, enum acl_answer a, void *arg)
{
	struct t *t = arg;

	ck_assert_ptr_eq(ck, &t->ck);
	ck_assert_msg(!t->in_start, "the answer came inside the start");
	t->calls++;
	t->answer = a;
}

static void
setup(struct t *t, const char *conf_text, const char *host)
{
	struct dns_params p;
	int errors = 0;

	memset(t, 0, sizeof *t);
	memcpy(t->rrs, table, sizeof t->rrs);
	t->loop = comm_loop_new();
	ck_assert_ptr_nonnull(t->loop);
	fake_start(&t->fake, t->loop, t->rrs, ARRAY_LEN(t->rrs));
	memset(&p, 0, sizeof p);
	p.nameservers[0] = t->fake.ns;
	p.nnameservers = 1;
	p.timeout = 1;
	p.positive_ttl = 3600;
	p.negative_ttl = 60;
	t->dns = dns_resolver_new(t->loop, &p);
	ck_assert_ptr_nonnull(t->dns);
	t->c = conf_new();
	ck_assert_int_eq(conf_load_string(t->c, "t.conf", conf_text), 0);
	t->set = acl_set_compile(&t->c->acl, &errors);
	t->rules = acl_rules_compile(t->set, &t->c->http_access,
	    "http_access", &errors);
	ck_assert_int_eq(errors, 0);
	t->src.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.5", &t->src.sin_addr),
	    1);
	t->req.src = (const struct sockaddr *)&t->src;
	t->req.host = host;
	t->req.host_len = strlen(host);
	t->req.port = 80;
	t->req.proto = "HTTP";
}

static void
teardown(struct t *t)
{
	acl_lookups_fini(&t->lk);
	acl_rules_free(&t->rules);
	acl_set_free(&t->set);
	conf_free(&t->c);
	dns_resolver_free(&t->dns);
	fake_stop(&t->fake);
	comm_loop_free(&t->loop);
}

static enum acl_answer
start(struct t *t)
{
	enum acl_answer a;

	t->in_start = true;
	a = acl_check_start(&t->ck, t->rules, &t->req, &t->lk, t->dns,
	    ACL_DENY, on_answer, t);
	t->in_start = false;
	return (a);
}

/* Start a check that must wait, run the loop until its answer. */
static enum acl_answer
waited(struct t *t)
{
	ck_assert_int_eq(start(t), ACL_WAIT);
	ck_assert(acl_check_waiting(&t->ck));
	RUN_UNTIL(t->loop, t->calls > 0);
	ck_assert_int_eq(t->calls, 1);
	ck_assert(!acl_check_waiting(&t->ck));
	return (t->answer);
}

START_TEST(fast_acls_never_wait)
{
	struct t t;

	setup(&t, "acl lab src 192.0.2.0/24\nhttp_access allow lab\n",
	    "origin.test");
	ck_assert_int_eq(start(&t), ACL_ALLOW);
	ck_assert_int_eq(t.fake.packets, 0);
	ck_assert_int_eq(t.calls, 0);
	teardown(&t);
}
END_TEST

START_TEST(dst_waits_for_the_address_then_goes_on)
{
	struct t t;

	setup(&t, "acl here dst 192.0.2.0/24\n"
	    "http_access allow here\nhttp_access deny all\n", "origin.test");
	ck_assert_int_eq(waited(&t), ACL_ALLOW);
	ck_assert_uint_eq(t.lk.known & ACL_KNOW_DST, ACL_KNOW_DST);
	ck_assert_ptr_nonnull(t.req.dst);
	/* The next check of the request uses the answer: no wait. */
	t.calls = 0;
	ck_assert_int_eq(start(&t), ACL_ALLOW);
	ck_assert_int_eq(t.rrs[0].a, 1);
	teardown(&t);
}
END_TEST

START_TEST(dst_of_another_address_does_not_match)
{
	struct t t;

	setup(&t, "acl here dst 192.0.2.0/24\n"
	    "http_access allow here\nhttp_access deny all\n", "far.test");
	ck_assert_int_eq(waited(&t), ACL_DENY);
	teardown(&t);
}
END_TEST

START_TEST(a_decided_check_looks_nothing_up)
{
	struct t t;

	/* Denied by src before dst is reached: no DNS for it. */
	setup(&t, "acl other src 10.0.0.0/8\nacl here dst 192.0.2.0/24\n"
	    "http_access deny !other\nhttp_access allow here\n",
	    "origin.test");
	ck_assert_int_eq(start(&t), ACL_DENY);
	ck_assert_int_eq(t.fake.packets, 0);
	teardown(&t);
}
END_TEST

START_TEST(a_literal_host_needs_no_lookup)
{
	struct t t;

	setup(&t, "acl here dst 192.0.2.0/24\n"
	    "http_access allow here\nhttp_access deny all\n", "192.0.2.99");
	ck_assert_int_eq(start(&t), ACL_ALLOW);
	ck_assert_int_eq(t.fake.packets, 0);
	teardown(&t);
}
END_TEST

START_TEST(a_name_that_does_not_resolve_matches_no_dst)
{
	struct t t;

	setup(&t, "acl here dst 192.0.2.0/24\n"
	    "http_access deny here\nhttp_access allow all\n", "gone.test");
	ck_assert_int_eq(waited(&t), ACL_ALLOW);
	ck_assert_ptr_null(t.req.dst);
	ck_assert_uint_eq(t.lk.known & ACL_KNOW_DST, ACL_KNOW_DST);
	teardown(&t);
}
END_TEST

START_TEST(srcdomain_waits_for_the_clients_name)
{
	struct t t;

	setup(&t, "acl lab srcdomain .lab.test\n"
	    "http_access allow lab\nhttp_access deny all\n", "origin.test");
	ck_assert_int_eq(waited(&t), ACL_ALLOW);
	ck_assert_str_eq(t.lk.src_name, "pc5.lab.test");
	ck_assert_int_eq(t.rrs[4].ptrq, 1);
	teardown(&t);
}
END_TEST

START_TEST(two_lookups_in_one_check)
{
	struct t t;

	/* The rule needs both: the check stops twice and still answers
	 * once. */
	setup(&t, "acl lab srcdomain .lab.test\nacl here dst 192.0.2.0/24\n"
	    "http_access allow lab here\nhttp_access deny all\n",
	    "origin.test");
	ck_assert_int_eq(waited(&t), ACL_ALLOW);
	ck_assert_uint_eq(t.lk.known, ACL_KNOW_DST | ACL_KNOW_SRC_NAME);
	teardown(&t);
}
END_TEST

START_TEST(cancel_answers_once_cancelled)
{
	struct t t;

	setup(&t, "acl here dst 192.0.2.0/24\n"
	    "http_access allow here\nhttp_access deny all\n", "slow.test");
	ck_assert_int_eq(start(&t), ACL_WAIT);
	acl_check_cancel(&t.ck);
	acl_check_cancel(&t.ck);	/* twice: still one answer */
	ck_assert_int_eq(t.calls, 0);	/* never inside the cancel */
	RUN_UNTIL(t.loop, t.calls > 0);
	ck_assert_int_eq(t.answer, ACL_CANCELLED);
	comm_loop_run_once(t.loop);
	ck_assert_int_eq(t.calls, 1);
	/* A cancelled lookup is not a lookup done. */
	ck_assert_uint_eq(t.lk.known & ACL_KNOW_DST, 0);
	teardown(&t);
}
END_TEST

START_TEST(no_resolver_means_no_match)
{
	struct t t;

	setup(&t, "acl here dst 192.0.2.0/24\n"
	    "http_access allow here\nhttp_access deny all\n", "origin.test");
	t.in_start = true;
	ck_assert_int_eq(acl_check_start(&t.ck, t.rules, &t.req, &t.lk,
	    NULL, ACL_DENY, on_answer, &t), ACL_DENY);
	t.in_start = false;
	ck_assert_int_eq(t.calls, 0);
	teardown(&t);
}
END_TEST

/* -- proxy_auth: credentials checked through lk->auth_start -------------- */

struct fake_auth {
	int		rc;		/* what auth_start answers */
	const char	*user;		/* the user when it answers at once */
	int		starts, cancels;
	struct acl_check *ck;
};

static int
fake_auth_start(void *ctx, struct acl_check *ck, char **user)
{
	struct fake_auth *fa = ctx;

	fa->starts++;
	fa->ck = ck;
	*user = fa->rc == 0 && fa->user != NULL ? strdup(fa->user) : NULL;
	return (fa->rc);
}

static void
fake_auth_cancel(void *ctx)
{
	struct fake_auth *fa = ctx;

	fa->cancels++;
}

static void
auth_setup(struct t *t, struct fake_auth *fa, const char *conf_text)
{
	setup(t, conf_text, "origin.test");
	t->lk.auth_start = fake_auth_start;
	t->lk.auth_cancel = fake_auth_cancel;
	t->lk.auth_ctx = fa;
}

#define AUTH_RULES	"acl authed proxy_auth REQUIRED\n"		\
	"acl alice proxy_auth alice\n"					\
	"http_access deny !authed\nhttp_access allow alice\n"		\
	"http_access deny all\n"

START_TEST(proxy_auth_waits_for_the_helper_then_goes_on)
{
	struct fake_auth fa = { .rc = 1 };
	struct t t;

	auth_setup(&t, &fa, AUTH_RULES);
	ck_assert_int_eq(start(&t), ACL_WAIT);
	ck_assert_int_eq(fa.starts, 1);
	ck_assert_ptr_eq(fa.ck, &t.ck);
	t.in_start = false;
	acl_check_auth_done(&t.ck, "alice");
	ck_assert_int_eq(t.calls, 1);
	ck_assert_int_eq(t.answer, ACL_ALLOW);
	/* Checked once for the request: the second acl asked nothing. */
	ck_assert_int_eq(fa.starts, 1);
	ck_assert_str_eq(t.lk.user, "alice");
	ck_assert(!acl_lookups_auth_failed(&t.lk));
	teardown(&t);
}
END_TEST

START_TEST(proxy_auth_answered_at_once)
{
	struct fake_auth fa = { .rc = 0, .user = "bob" };
	struct t t;

	/* Valid, but not alice: denied by name, not for credentials. */
	auth_setup(&t, &fa, AUTH_RULES);
	ck_assert_int_eq(start(&t), ACL_DENY);
	ck_assert_int_eq(t.calls, 0);
	ck_assert(!acl_lookups_auth_failed(&t.lk));
	teardown(&t);
	/* None valid: denied, and the denial asks for credentials. */
	fa.user = NULL;
	auth_setup(&t, &fa, AUTH_RULES);
	ck_assert_int_eq(start(&t), ACL_DENY);
	ck_assert(acl_lookups_auth_failed(&t.lk));
	teardown(&t);
	/* No auth_start (no auth_param): proxy_auth matches nobody. */
	setup(&t, AUTH_RULES, "origin.test");
	ck_assert_int_eq(start(&t), ACL_DENY);
	teardown(&t);
}
END_TEST

START_TEST(proxy_auth_cancel_answers_once_cancelled)
{
	struct fake_auth fa = { .rc = 1 };
	struct t t;

	auth_setup(&t, &fa, AUTH_RULES);
	ck_assert_int_eq(start(&t), ACL_WAIT);
	acl_check_cancel(&t.ck);
	acl_check_cancel(&t.ck);
	ck_assert_int_eq(fa.cancels, 1);
	ck_assert_int_eq(t.calls, 0);
	acl_check_auth_done(&t.ck, "alice");
	ck_assert_int_eq(t.calls, 1);
	ck_assert_int_eq(t.answer, ACL_CANCELLED);
	ck_assert_ptr_null(t.lk.user);
	ck_assert_uint_eq(t.lk.known & ACL_KNOW_USER, 0);
	teardown(&t);
}
END_TEST

START_TEST(rules_freed_while_a_check_waits_stay_until_its_answer)
{
	struct fake_auth fa = { .rc = 1 };
	struct t t;

	auth_setup(&t, &fa, AUTH_RULES);
	ck_assert_int_eq(start(&t), ACL_WAIT);
	/* A reconfigure frees the rules and acls it replaces at once. */
	acl_rules_free(&t.rules);
	acl_set_free(&t.set);
	acl_check_auth_done(&t.ck, "alice");
	ck_assert_int_eq(t.calls, 1);
	ck_assert_int_eq(t.answer, ACL_ALLOW);
	teardown(&t);
}
END_TEST

static Suite *
acl_check_suite(void)
{
	Suite *s = suite_create("acl_check");
	TCase *tc = tcase_create("check");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, fast_acls_never_wait);
	tcase_add_test(tc, dst_waits_for_the_address_then_goes_on);
	tcase_add_test(tc, dst_of_another_address_does_not_match);
	tcase_add_test(tc, a_decided_check_looks_nothing_up);
	tcase_add_test(tc, a_literal_host_needs_no_lookup);
	tcase_add_test(tc, a_name_that_does_not_resolve_matches_no_dst);
	tcase_add_test(tc, srcdomain_waits_for_the_clients_name);
	tcase_add_test(tc, two_lookups_in_one_check);
	tcase_add_test(tc, cancel_answers_once_cancelled);
	tcase_add_test(tc, no_resolver_means_no_match);
	tcase_add_test(tc, proxy_auth_waits_for_the_helper_then_goes_on);
	tcase_add_test(tc, proxy_auth_answered_at_once);
	tcase_add_test(tc, proxy_auth_cancel_answers_once_cancelled);
	tcase_add_test(tc,
	    rules_freed_while_a_check_waits_stay_until_its_answer);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(acl_check_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
