/*
 * check_fwd_peer.c - the cache_peer table and next-hop selection
 * (src/fwd/fwd_peer*.c): Squid's order, dead peers, and CARP against
 * vectors a real Squid 5.7 gave (ptc/b00161-carp-squid.ptc: the parent
 * Squid chose for each URL, with these names and weights).
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "acl/acl.h"
#include "base/log.h"
#include "conf/conf.h"
#include "fwd/fwd_int.h"
#include "fwd/fwd_peer.h"
#include "log_capture.h"

static struct conf *conf;
static struct acl_set *acls;

static struct fwd_peers *
peers_load(const char *text, int want_errors)
{
	struct fwd_peers *p;
	int errors = 0;

	conf = conf_new();
	ck_assert_int_eq(conf_load_string(conf, "t.conf", text), 0);
	ck_assert_int_eq(conf_finish(conf), 0);
	acls = acl_set_compile(&conf->acl, &errors);
	ck_assert_ptr_nonnull(acls);
	p = fwd_peers_new(conf, acls, &errors);
	ck_assert_int_eq(errors, want_errors);
	return (p);
}

static void
peers_done(struct fwd_peers **pp)
{
	fwd_peers_unref(pp);
	acl_set_free(&acls);
	conf_free(&conf);
}

/* r for an http URL given in Squid's effective form (lower-case host). */
static void
req_init(struct fwd_select_req *r, const char *uri)
{
	const char *h = uri + 7, *slash = strchr(h, '/'), *colon;

	memset(r, 0, sizeof *r);
	r->scheme = "http";
	r->uri = uri;
	r->uri_len = strlen(uri);
	colon = memchr(h, ':', (size_t)(slash - h));
	r->host = h;
	r->host_len = (size_t)((colon != NULL ? colon : slash) - h);
	r->port = colon != NULL ? (uint16_t)atoi(colon + 1) : 80;
	r->path = slash;
	r->path_len = strlen(slash);
	r->hierarchical = true;
	r->now = 1000.0;
}

#define CARP_PEERS							\
	"cache_peer 127.0.0.1 parent 3001 0 no-query carp name=alpha "	\
	    "weight=1\n"						\
	"cache_peer 127.0.0.1 parent 3002 0 no-query carp "		\
	    "name=Beta.example weight=2\n"				\
	"cache_peer 127.0.0.1 parent 3003 0 no-query carp name=gamma-3 " \
	    "weight=1\n"

/* What Squid 5.7 chose: 0 alpha, 1 Beta.example, 2 gamma-3. */
static const struct {
	const char	*uri;
	int		peer;
} carp_vectors[] = {
	{ "http://origin0.test/obj/0", 2 },
	{ "http://www.example.com/a/b1?x=1&y=z", 2 },
	{ "http://host-2.example.net:8080/p%C3%A92", 1 },
	{ "http://10.0.3.1/3.jpg", 1 },
	{ "http://origin.test/Case/4", 1 },
	{ "http://origin5.test/obj/5", 0 },
	{ "http://www.example.com/a/b6?x=6&y=z", 2 },
	{ "http://host-7.example.net:8080/p%C3%A97", 0 },
	{ "http://10.0.8.1/8.jpg", 1 },
	{ "http://origin.test/Case/9", 0 },
	{ "http://origin10.test/obj/10", 0 },
	{ "http://www.example.com/a/b11?x=11&y=z", 1 },
	{ "http://www.example.com/a/b396?x=396&y=z", 2 },
	{ "http://10.0.43.1/793.jpg", 1 },
	{ "http://origin1190.test/obj/1190", 1 },
	{ "http://host-33.example.net:8080/p%C3%A91587", 1 },
	{ "http://origin.test/Case/1984", 0 },
};

START_TEST(carp_picks_what_squid_picked)
{
	struct fwd_peers *p = peers_load(CARP_PEERS, 0);
	struct fwd_select_req r;
	struct fwd_hop hops[FWD_MAX_HOPS];
	double mult[FWD_MAX_PEERS];
	size_t i;
	unsigned n;

	for (i = 0; i < sizeof carp_vectors / sizeof carp_vectors[0]; i++) {
		req_init(&r, carp_vectors[i].uri);
		ck_assert_msg(fwd_peers_carp(p, &r, mult) ==
		    carp_vectors[i].peer, "%s", carp_vectors[i].uri);
		/* Through the whole selection: CARP, then every parent,
		 * then the origin (direct MAYBE). */
		n = fwd_peers_select(p, &r, hops, FWD_MAX_HOPS);
		ck_assert_uint_eq(n, 4);
		ck_assert_int_eq(hops[0].peer, carp_vectors[i].peer);
		ck_assert_uint_eq(hops[0].code, FWD_HIER_CARP);
		ck_assert_uint_eq(hops[1].code, FWD_HIER_ANY_OLD_PARENT);
		ck_assert_int_eq(hops[3].peer, -1);
	}
	/* Weights 1, 2, 1: equal weights, equal multipliers. */
	ck_assert(mult[0] == mult[2]);
	ck_assert(mult[1] > mult[0]);
	peers_done(&p);
}
END_TEST

/* Squid adds each byte as a signed char: 0xe9 counts as -23. */
START_TEST(carp_hash_bytes_are_signed)
{
	uint32_t a = fwd_carp_key_hash(0, "\xe9", 1);

	ck_assert_uint_eq(a, (uint32_t)-23);
	ck_assert_uint_eq(fwd_carp_key_hash(0, "a", 1), 97);
	ck_assert_uint_eq(fwd_carp_key_hash(97, "b", 1),
	    97 + ((97u << 19) | (97u >> 13)) + 98);
	ck_assert_uint_ne(fwd_carp_peer_hash("alpha"),
	    fwd_carp_peer_hash("Alpha"));
}
END_TEST

START_TEST(a_dead_carp_parent_passes_its_urls_on)
{
	struct fwd_peers *p = peers_load(CARP_PEERS, 0);
	struct fwd_select_req r;
	int i, first;

	req_init(&r, "http://origin0.test/obj/0");
	first = fwd_peers_carp(p, &r, NULL);
	ck_assert_int_eq(first, 2);
	for (i = 0; i < 10; i++)	/* connect-fail-limit, 10 */
		fwd_peer_failed(p, &p->v[first], 1000.0);
	ck_assert_int_ne(fwd_peers_carp(p, &r, NULL), first);
	ck_assert_int_ge(fwd_peers_carp(p, &r, NULL), 0);
	/* dead_peer_timeout later, it is tried again; a success keeps it. */
	r.now = 1010.0;
	ck_assert_int_eq(fwd_peers_carp(p, &r, NULL), first);
	fwd_peer_succeeded(p, &p->v[first]);
	r.now = 1000.0;
	ck_assert_int_eq(fwd_peers_carp(p, &r, NULL), first);
	peers_done(&p);
}
END_TEST

/* ICP silence: dead once the first unanswered query is older than
 * dead_peer_timeout, up again when an answer clears it. */
START_TEST(icp_silence_kills_a_peer)
{
	struct fwd_peers *p = peers_load(
	    "cache_peer 127.0.0.1 parent 3128 3130 name=a\n"
	    "cache_peer 127.0.0.1 parent 3129 3131 name=b\n"
	    "dead_peer_timeout 5 seconds\n", 0);
	struct fwd_select_req r;
	struct fwd_hop hops[FWD_MAX_HOPS];
	unsigned n;

	ck_assert(fwd_peer_is_up(p, 0, 1000.0));
	fwd_peer_icp(p, 0)->probe_start = 1000.0;
	ck_assert(fwd_peer_is_up(p, 0, 1005.0));
	ck_assert(!fwd_peer_is_up(p, 0, 1005.5));
	req_init(&r, "http://origin.test/x");
	r.now = 1006.0;
	r.direct = FWD_DIRECT_NO;
	r.icp_peer = -1;
	n = fwd_peers_select(p, &r, hops, FWD_MAX_HOPS);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(hops[0].peer, 1);
	fwd_peer_icp(p, 0)->probe_start = 0;	/* it answered */
	ck_assert(fwd_peer_is_up(p, 0, 1006.0));
	n = fwd_peers_select(p, &r, hops, FWD_MAX_HOPS);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(hops[0].peer, 0);
	peers_done(&p);
}
END_TEST

START_TEST(methods_in_squids_order)
{
	struct fwd_peers *p = peers_load(
	    "cache_peer a.test parent 3128 0 no-query default\n"
	    "cache_peer b.test parent 3128 0 no-query round-robin\n"
	    "cache_peer c.test parent 3128 0 no-query round-robin\n"
	    "cache_peer d.test parent 3128 0 no-query sourcehash\n"
	    "cache_peer e.test sibling 3128 3130\n", 0);
	struct fwd_select_req r;
	struct fwd_hop hops[FWD_MAX_HOPS];
	struct sockaddr_in sin;
	unsigned n;

	req_init(&r, "http://x.test/");
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	r.client = (struct sockaddr *)&sin;
	n = fwd_peers_select(p, &r, hops, FWD_MAX_HOPS);
	/* sourcehash first; then every parent; the default again is a
	 * duplicate; the sibling never; the origin last. */
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(hops[0].peer, 3);
	ck_assert_uint_eq(hops[0].code, FWD_HIER_SOURCEHASH_PARENT);
	ck_assert_int_eq(hops[4].peer, -1);
	ck_assert_uint_eq(hops[4].code, FWD_HIER_DIRECT);
	/* Without a client address: round-robin, by use; on a tie the
	 * last one listed, as Squid's loop has it. */
	r.client = NULL;
	n = fwd_peers_select(p, &r, hops, FWD_MAX_HOPS);
	ck_assert_int_eq(hops[0].peer, 2);
	ck_assert_uint_eq(hops[0].code, FWD_HIER_ROUNDROBIN_PARENT);
	p->v[2].rr_count++;		/* fwd used it */
	n = fwd_peers_select(p, &r, hops, FWD_MAX_HOPS);
	ck_assert_int_eq(hops[0].peer, 1);
	/* cache_peer_access denied b and c: first up is a. */
	r.denied = 0x6;
	n = fwd_peers_select(p, &r, hops, FWD_MAX_HOPS);
	ck_assert_int_eq(hops[0].peer, 0);
	ck_assert_uint_eq(hops[0].code, FWD_HIER_FIRSTUP_PARENT);
	/* A POST is not hierarchical: the origin alone. */
	r.hierarchical = false;
	ck_assert_uint_eq(fwd_peers_select(p, &r, hops, FWD_MAX_HOPS), 1);
	ck_assert_int_eq(hops[0].peer, -1);
	/* never_direct: parents only; always_direct: the origin only. */
	r.direct = FWD_DIRECT_NO;
	n = fwd_peers_select(p, &r, hops, FWD_MAX_HOPS);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_ne(hops[1].peer, -1);
	r.direct = FWD_DIRECT_YES;
	ck_assert_uint_eq(fwd_peers_select(p, &r, hops, FWD_MAX_HOPS), 1);
	ck_assert_uint_eq(hops[0].code, FWD_HIER_DIRECT);
	peers_done(&p);
}
END_TEST

START_TEST(bad_lines_are_errors_with_file_and_line)
{
	struct fwd_peers *p = peers_load(
	    "cache_peer a.test parent 3128 0 carp-key=host carp\n"
	    "cache_peer b.test sibling 3128 3130 carp\n"
	    "cache_peer c.test parent 99999 0\n"
	    "cache_peer d.test uncle 3128 0\n"
	    "cache_peer e.test parent 3128 0 login=nocolon\n"
	    "cache_peer f.test parent 3128 0 frobnicate\n"
	    "cache_peer g.test parent 3128 0 proxy-only\n"
	    "cache_peer g2.test parent 3128 0 proxy-only name=G\n"
	    "cache_peer g.test parent 3128 0\n"
	    "cache_peer_access nosuch allow all\n"
	    "cache_peer h.test parent 3128 0 tls tls-flags=NO_SUCH\n"
	    "cache_peer i.test parent 3128 0 tls tls-cafile=/no/such.pem\n",
	    10);

	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:1: cache_peer: "
	    "carp-key="));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:2: cache_peer: "
	    "only a parent"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:3:"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:4:"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:5:"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:6:"));
	/* Warned once, at its first line. */
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:7: cache_peer "
	    "option proxy-only is not implemented"));
	ck_assert_ptr_null(strstr(log_captured(), "t.conf:8:"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:9: cache_peer: "
	    "a second peer named"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:10: "
	    "cache_peer_access"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:11: cache_peer: "
	    "tls-flags="));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:12: cache_peer "
	    "i.test: "));
	ck_assert_uint_eq(fwd_peers_count(p), 2);
	ck_assert_str_eq(fwd_peer_name(p, 1), "G");
	peers_done(&p);
}
END_TEST

static Suite *
fwd_peer_suite(void)
{
	Suite *s = suite_create("fwd_peer");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, log_capture_start, log_capture_stop);
	tcase_add_test(tc, carp_picks_what_squid_picked);
	tcase_add_test(tc, carp_hash_bytes_are_signed);
	tcase_add_test(tc, a_dead_carp_parent_passes_its_urls_on);
	tcase_add_test(tc, icp_silence_kills_a_peer);
	tcase_add_test(tc, methods_in_squids_order);
	tcase_add_test(tc, bad_lines_are_errors_with_file_and_line);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(fwd_peer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
