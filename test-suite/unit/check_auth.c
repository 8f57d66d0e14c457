/*
 * check_auth.c - proxy authentication: Basic credentials decoded (RFC
 * 7617) and refused when malformed, auth_param lines, and the credentials
 * cache in front of a real helper (unit/helper_prog auth).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/check.h"
#include "base/secret.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "helper/helper.h"
#include "mgr/mgr.h"
#include "log_capture.h"

/* -- decoding -------------------------------------------------------------- */

START_TEST(basic_credentials_table)
{
	static const struct {
		const char	*hdr;
		const char	*user;	/* NULL: refused */
		const char	*pass;	/* or the reason it is refused */
	} t[] = {
		{ "Basic YWxpY2U6c2VjcmV0", "alice", "secret" },
		{ "basic YWxpY2U6c2VjcmV0", "alice", "secret" },
		{ "BASIC\tYWxpY2U6c2VjcmV0  ", "alice", "secret" },
		{ "Basic   YWxpY2U6c2VjcmV0", "alice", "secret" },
		/* "alice:" "a:b:c" "a:" with one and two padding bytes */
		{ "Basic YWxpY2U6", "alice", "" },
		{ "Basic YTpiOmM=", "a", "b:c" },
		{ "Basic YTo=", "a", "" },
		/* "é:ü" in UTF-8 goes through as bytes */
		{ "Basic w6k6w7w=", "\xc3\xa9", "\xc3\xbc" },
		{ "Bearer YWxpY2U6c2VjcmV0", NULL, "not Basic credentials" },
		{ "BasicYWxpY2U6c2VjcmV0", NULL, "not Basic credentials" },
		{ "Basic", NULL, "not Basic credentials" },
		{ "Basic ", NULL, "credentials not base64" },
		{ "Basic !!!!", NULL, "credentials not base64" },
		{ "Basic YWxpY2U6c2VjcmV", NULL, "credentials not base64" },
		{ "Basic YWxp Y2U6c2VjcmV0", NULL, "credentials not base64" },
		/* padding inside, which EVP_DecodeBlock() alone decodes */
		{ "Basic YQ==YTo=", NULL, "credentials not base64" },
		{ "Basic Q=Q=", NULL, "credentials not base64" },
		{ "Basic ====", NULL, "credentials not base64" },
		{ "Basic YT=6", NULL, "credentials not base64" },
		{ "Basic YWxpY2U=", NULL,
		    "no colon between user and password" },
		/* "al\0ice:secret", "alice:sec\x01" */
		{ "Basic YWwAaWNlOnNlY3JldA==", NULL,
		    "a NUL or a control character in the credentials" },
		{ "Basic YWxpY2U6c2VjAQ==", NULL,
		    "a NUL or a control character in the credentials" },
	};
	char out[AUTH_BASIC_MAX], *pass;
	const char *why;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_LEN(t); i++) {
		pass = NULL;
		rc = auth_basic_credentials(t[i].hdr, strlen(t[i].hdr), out,
		    sizeof out, &pass, &why);
		if (t[i].user == NULL) {
			ck_assert_msg(rc == -EINVAL, "%s: accepted", t[i].hdr);
			ck_assert_str_eq(why, t[i].pass);
			continue;
		}
		ck_assert_msg(rc == 0, "%s: %s", t[i].hdr, why);
		ck_assert_ptr_null(why);
		ck_assert_str_eq(out, t[i].user);
		ck_assert_str_eq(pass, t[i].pass);
	}
}
END_TEST

START_TEST(huge_credentials_refused_before_decoding)
{
	size_t len = AUTH_BASIC_MAX + 4;
	char *hdr = malloc(len + 7), out[AUTH_BASIC_MAX], small[12], *pass;
	const char *why;

	ck_assert_ptr_nonnull(hdr);
	memcpy(hdr, "Basic ", 6);
	memset(hdr + 6, 'Y', len);
	hdr[6 + len] = '\0';
	ck_assert_int_eq(auth_basic_credentials(hdr, strlen(hdr), out,
	    sizeof out, &pass, &why), -EINVAL);
	ck_assert_str_eq(why, "credentials too long");
	/* What does not fit the caller's room is refused the same way. */
	ck_assert_int_eq(auth_basic_credentials("Basic YWxpY2U6c2VjcmV0AAAA",
	    26, small, sizeof small, &pass, &why), -EINVAL);
	ck_assert_str_eq(why, "credentials too long");
	free(hdr);
}
END_TEST

START_TEST(secrets_compared_whole)
{
	ck_assert(auth_secret_equal("secret", "secret"));
	ck_assert(auth_secret_equal("", ""));
	ck_assert(!auth_secret_equal("secret", "secreT"));
	ck_assert(!auth_secret_equal("secret", "secret2"));
	ck_assert(!auth_secret_equal("secret", ""));
	/* The manager's password goes through the same compare. */
	ck_assert(secret_equal("mgrpass", "mgrpass"));
	ck_assert(!secret_equal("mgrpass", "mgrpas"));
	ck_assert(!secret_equal("", "x"));
	ck_assert(!secret_equal("a\x80", "a\x00"));
}
END_TEST

/* -- auth_param lines ------------------------------------------------------ */

#define NLINES		16

struct lines {
	struct conf_lines	ls;
	struct conf_line	v[NLINES];
	char			*words[NLINES][12];
	char			text[NLINES][256];
};

/* Lines of blank-separated words, each an auth_param line. */
static void
lines_set(struct lines *l, const char *const *text, size_t n)
{
	size_t i;
	char *w, *save;

	memset(l, 0, sizeof *l);
	ck_assert(n <= NLINES);
	for (i = 0; i < n; i++) {
		snprintf(l->text[i], sizeof l->text[i], "%s", text[i]);
		l->v[i].file = "test.conf";
		l->v[i].line = (unsigned)i + 1;
		l->v[i].argv = l->words[i];
		for (w = strtok_r(l->text[i], " ", &save); w != NULL;
		    w = strtok_r(NULL, " ", &save))
			l->words[i][l->v[i].argc++] = w;
	}
	l->ls.v = l->v;
	l->ls.n = n;
}

START_TEST(bad_lines_are_counted_with_file_and_line)
{
	static const char *const bad[] = {
		"basic children 0",
		"basic children 5 startup=6",
		"basic children 5 idle",
		"basic credentialsttl soon",
		"basic casesensitive maybe",
		"basic colour blue",
		"ntlm program /bin/true",
		"basic",
		"digest nonce_max_count 0",
		"digest nonce_max_duration never",
		"digest realm a\"b",
		"digest check_nonce_count maybe",
	};
	static const char *const noprog[] = { "basic realm x" };
	struct lines l;
	int errors = 0;

	log_capture_start();
	lines_set(&l, bad, ARRAY_LEN(bad));
	auth_conf_check(&l.ls, &errors);
	/* Each bad line, and no program for basic nor digest. */
	ck_assert_int_eq(errors, (int)ARRAY_LEN(bad) + 2);
	ck_assert_ptr_nonnull(strstr(log_captured(), "test.conf:6: "
	    "auth_param: unknown parameter"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "test.conf:7: "
	    "auth_param: unsupported scheme"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "basic has no program"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "digest has no program"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "test.conf:9: "
	    "auth_param: bad count"));
	errors = 0;
	lines_set(&l, noprog, 1);
	auth_conf_check(&l.ls, &errors);
	ck_assert_int_eq(errors, 1);
	log_capture_stop();
}
END_TEST

START_TEST(challenge_quotes_the_realm)
{
	static const char *const good[] = {
		"basic program /bin/true",
		"basic realm Our \"big\" \\ proxy",
		"basic children 3 startup=0 idle=1 concurrency=0 queue-size=9",
		"basic credentialsttl 2 hours",
		"basic casesensitive on",
	};
	static const char *const dflt[] = { "basic program /bin/true" };
	static const char *const both[] = { "digest program /bin/true",
	    "digest realm D", "basic program /bin/true" };
	struct lines l;
	struct auth *a;
	const char *ch;
	char first[33];
	int errors = 0;

	lines_set(&l, good, ARRAY_LEN(good));
	a = auth_new(NULL, &l.ls, &errors);
	ck_assert_int_eq(errors, 0);
	ck_assert_str_eq(auth_challenge(a, NULL), "Proxy-Authenticate: Basic "
	    "realm=\"Our \\\"big\\\" \\\\ proxy\"\r\n");
	auth_free(&a);
	ck_assert_ptr_null(a);
	lines_set(&l, dflt, 1);
	a = auth_new(NULL, &l.ls, &errors);
	ck_assert_str_eq(auth_challenge(a, NULL), "Proxy-Authenticate: Basic "
	    "realm=\"Squid proxy-caching web server\"\r\n");
	auth_free(&a);
	/* Both schemes: a challenge each, in the configuration's order,
	 * Digest's with a fresh nonce each time. */
	lines_set(&l, both, ARRAY_LEN(both));
	a = auth_new(NULL, &l.ls, &errors);
	ck_assert_int_eq(errors, 0);
	ch = auth_challenge(a, NULL);
	ck_assert_msg(strncmp(ch, "Proxy-Authenticate: Digest realm=\"D\", "
	    "nonce=\"", 41) == 0, "%s", ch);
	ck_assert_ptr_nonnull(strstr(ch, "\", qop=\"auth\", stale=false\r\n"
	    "Proxy-Authenticate: Basic realm=\"Squid proxy-caching web "
	    "server\"\r\n"));
	memcpy(first, ch + 41, 32);
	first[32] = '\0';
	ck_assert(strstr(auth_challenge(a, NULL), first) == NULL);
	auth_free(&a);
	/* No auth_param: no authentication, and no error. */
	ck_assert_ptr_null(auth_new(NULL, NULL, &errors));
	ck_assert_int_eq(errors, 0);
}
END_TEST

/* -- checks against a helper ---------------------------------------------- */

static int ndone, nusers;
static char got_user[64];
static bool got_none, inside_start;

static void
done(struct auth_check *ck, const char *user, void *arg)
{
	(void)ck;
	(void)arg;
	ck_assert_msg(!inside_start, "completion inside auth_check_start()");
	ndone++;
	nusers += user != NULL;
	got_none = user == NULL;
	snprintf(got_user, sizeof got_user, "%s", user != NULL ? user : "");
}

static struct comm_timer *tick_timer;

static void
tick(struct comm_timer *t, void *arg)
{
	(void)t;
	(void)arg;
}

struct env {
	struct comm_loop	*loop;
	struct auth		*a;
	struct mgr_registry	*reg;
	struct helper_pools	ps;
	struct lines		l;
	char			prog[600];
};

static void
env_start(struct env *e, const char *ttl, const char *casesens)
{
	const char *top = getenv("top_builddir");
	const char *text[3];
	int errors = 0;

	memset(e, 0, sizeof *e);
	e->loop = comm_loop_new();
	ck_assert_ptr_nonnull(e->loop);
	tick_timer = comm_timer_new(e->loop, tick, NULL);
	comm_timer_start(tick_timer, 0.02, 0.02);
	/* make check runs the tests from test-suite/. */
	snprintf(e->prog, sizeof e->prog, "basic program "
	    "%s/test-suite/unit/helper_prog auth", top != NULL ? top : "..");
	text[0] = e->prog;
	text[1] = ttl;
	text[2] = casesens;
	lines_set(&e->l, text, 3);
	e->a = auth_new(e->loop, &e->l.ls, &errors);
	ck_assert_int_eq(errors, 0);
	ck_assert_ptr_nonnull(e->a);
	e->reg = mgr_registry_new();
	ck_assert_ptr_nonnull(e->reg);
	ck_assert_int_eq(auth_register(e->a, e->reg, &e->ps), 0);
	ck_assert_int_eq(e->ps.n, 1);
	ndone = 0;
}

static void
env_stop(struct env *e)
{
	auth_free(&e->a);
	mgr_registry_free(&e->reg);
	comm_timer_free(&tick_timer);
	comm_loop_free(&e->loop);
}

static uint64_t
helper_requests(const struct env *e)
{
	struct helper_stats st;

	helper_pool_stats(e->ps.v[0], &st);
	return (st.requests);
}

static void
run_until(struct comm_loop *loop, int n)
{
	double end = comm_now(loop) + 10;

	while (ndone < n) {
		ck_assert_msg(comm_now(loop) < end, "no completion");
		comm_loop_run_once(loop);
	}
}

/* A GET of /x with hdr as its Proxy-Authorization (NULL: none). */
static const struct auth_req *
req_of(const char *hdr)
{
	static struct auth_req rq;

	rq.hdr = hdr;
	rq.len = hdr != NULL ? strlen(hdr) : 0;
	rq.method = "GET";
	rq.method_len = 3;
	rq.uri = "http://o.test/x";
	rq.uri_len = strlen(rq.uri);
	return (&rq);
}

/* One check of hdr: the user ("" none), waiting for the helper if
 * asked; *asked tells whether it was. */
static const char *
check(struct env *e, const char *hdr, bool *asked)
{
	struct auth_check *ck = NULL;
	char *user = NULL;
	int rc, before = ndone;

	inside_start = true;
	rc = auth_check_start(e->a, req_of(hdr), done, NULL, &ck, &user);
	inside_start = false;
	ck_assert_int_ge(rc, 0);
	*asked = rc == 1;
	if (rc == 1) {
		ck_assert_ptr_nonnull(ck);
		ck_assert_ptr_null(user);
		run_until(e->loop, before + 1);
		return (got_user);
	}
	ck_assert_ptr_null(ck);
	snprintf(got_user, sizeof got_user, "%s", user != NULL ? user : "");
	free(user);
	return (got_user);
}

START_TEST(helper_asked_once_within_ttl)
{
	struct env e;
	bool asked;

	env_start(&e, "basic credentialsttl 1 hour", "basic casesensitive on");
	ck_assert_str_eq(check(&e, NULL, &asked), "");
	ck_assert(!asked);
	ck_assert_str_eq(check(&e, "Basic YWxpY2U6c2VjcmV0", &asked),
	    "alice");
	ck_assert(asked);
	ck_assert_str_eq(check(&e, "Basic YWxpY2U6c2VjcmV0", &asked),
	    "alice");
	ck_assert(!asked);
	ck_assert_str_eq(check(&e, "Basic YWxpY2U6c2VjcmV0", &asked),
	    "alice");
	ck_assert(!asked);
	ck_assert_uint_eq(helper_requests(&e), 1);
	/* A wrong password never matches the cached one: the helper is
	 * asked, says no, and the right one is still cached. */
	ck_assert_str_eq(check(&e, "Basic YWxpY2U6d3Jvbmc=", &asked), "");
	ck_assert(asked);
	ck_assert_str_eq(check(&e, "Basic YWxpY2U6c2VjcmV0", &asked),
	    "alice");
	ck_assert(!asked);
	ck_assert_uint_eq(helper_requests(&e), 2);
	/* Refused ones are not cached either. */
	ck_assert_str_eq(check(&e, "Basic YWxpY2U6d3Jvbmc=", &asked), "");
	ck_assert(asked);
	/* Malformed: refused here; the helper never sees them. */
	ck_assert_str_eq(check(&e, "Basic YWxpY2U=", &asked), "");
	ck_assert(!asked);
	ck_assert_uint_eq(helper_requests(&e), 3);
	env_stop(&e);
}
END_TEST

static struct sockaddr_in
addr4(const char *ip)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	return (sin);
}

/* max_user_ip's bookkeeping: distinct addresses per user within the
 * ttl, and Squid's two ways of forgetting them. */
START_TEST(user_ips_counted_within_ttl)
{
	struct sockaddr_in a1 = addr4("127.0.0.1"), a2 = addr4("127.0.0.2");
	const struct sockaddr *s1 = (const struct sockaddr *)&a1;
	const struct sockaddr *s2 = (const struct sockaddr *)&a2;
	struct sockaddr un = { .sa_family = AF_UNIX };
	struct env e;
	double end;

	env_start(&e, "basic credentialsttl 1 hour", "basic casesensitive on");
	ck_assert_uint_eq(auth_user_ips(e.a, "alice", s1, 60), 1);
	ck_assert_uint_eq(auth_user_ips(e.a, "alice", s1, 60), 1);
	ck_assert_uint_eq(auth_user_ips(e.a, "alice", s2, 60), 2);
	ck_assert_uint_eq(auth_user_ips(e.a, "bob", s2, 60), 1);
	ck_assert_uint_eq(auth_user_ips(e.a, "alice", &un, 60), 0);
	/* Strict: the address that went over alone is forgotten. */
	auth_user_ips_forget(e.a, "alice", s2, true);
	ck_assert_uint_eq(auth_user_ips(e.a, "alice", s1, 60), 1);
	ck_assert_uint_eq(auth_user_ips(e.a, "alice", s2, 60), 2);
	/* Not strict: all of them. */
	auth_user_ips_forget(e.a, "alice", s2, false);
	ck_assert_uint_eq(auth_user_ips(e.a, "alice", s1, 60), 1);
	ck_assert_uint_eq(auth_user_ips(e.a, "bob", s2, 60), 1);
	/* Past the ttl an address no longer counts. */
	ck_assert_uint_eq(auth_user_ips(e.a, "carol", s1, 0.05), 1);
	end = comm_now(e.loop) + 0.2;
	while (comm_now(e.loop) < end)
		comm_loop_run_once(e.loop);
	ck_assert_uint_eq(auth_user_ips(e.a, "carol", s2, 0.05), 1);
	env_stop(&e);
}
END_TEST

/* RFC 7616 3.9.1's example, MD5 and SHA-256: the hashes Digest's
 * response is made of. */
START_TEST(digest_hashes_match_rfc7616_example)
{
	static const struct {
		enum auth_alg	alg;
		const char	*response;
	} cases[] = {
		{ AUTH_ALG_MD5, "8ca523f5e9506fed4657c9700eebdbec" },
		{ AUTH_ALG_SHA256, "753927fa0e85d155564e2e272a28d1802ca10daf"
		    "4496794697cf8db5856cb6c1" },
	};
	char ha1[AUTH_HEX_MAX], ha2[AUTH_HEX_MAX], r[AUTH_HEX_MAX], s[512];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		auth_alg_hex(cases[i].alg, "Mufasa:http-auth@example.org:"
		    "Circle of Life", ha1);
		auth_alg_hex(cases[i].alg, "GET:/dir/index.html", ha2);
		snprintf(s, sizeof s, "%s:7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzF"
		    "ZH4GiTo0v:00000001:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqG"
		    "emxURZJ:auth:%s", ha1, ha2);
		auth_alg_hex(cases[i].alg, s, r);
		ck_assert_str_eq(r, cases[i].response);
		ck_assert_uint_eq(strlen(r), auth_alg_len(cases[i].alg));
	}
}
END_TEST

/* utf8 on: what is UTF-8 stays, the rest is taken as Latin-1. */
START_TEST(utf8_checked_and_latin1_converted)
{
	static const struct {
		const char	*s;
		bool		valid;
	} cases[] = {
		{ "plain", true },
		{ "j\xc3\xbcrgen", true },
		{ "\xe2\x82\xac \xf0\x9f\x90\x99", true },
		{ "j\xfcrgen", false },		/* Latin-1 */
		{ "\xc0\xaf", false },		/* overlong '/' */
		{ "\xe0\x80\xaf", false },	/* overlong too */
		{ "\xed\xa0\x80", false },	/* a surrogate */
		{ "\xf4\x90\x80\x80", false },	/* past U+10FFFF */
		{ "\xc3", false },		/* cut short */
	};
	char out[64];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		ck_assert_msg(auth_utf8_valid(cases[i].s) == cases[i].valid,
		    "case %zu", i);
	auth_latin1_utf8("j\xfcrgen gr\xfc\xdf \xff", out);
	ck_assert_str_eq(out, "j\xc3\xbcrgen gr\xc3\xbc\xc3\x9f \xc3\xbf");
	ck_assert(auth_utf8_valid(out));
	/* Windows-1251: "Привет", the euro sign, Ё, ё, №. */
	auth_cp1251_utf8("\xcf\xf0\xe8\xe2\xe5\xf2 \x88\xa8\xb8\xb9", out);
	ck_assert_str_eq(out, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5"
	    "\xd1\x82 \xe2\x82\xac\xd0\x81\xd1\x91\xe2\x84\x96");
	ck_assert(auth_utf8_valid(out));
}
END_TEST

/* Squid's rule for Windows-1251: the first Cyrillic language decides. */
START_TEST(cp1251_wanted_for_a_cyrillic_accept_language)
{
	static const struct {
		const char	*al;
		bool		want;
	} cases[] = {
		{ "ru-RU,ru;q=0.9,en;q=0.8", true },
		{ "en-US,en;q=0.9", false },
		{ "en, uk", true },
		{ "de;q=0.5, BG", true },
		{ "be", true },
		{ "*, ru", false },
		{ "sr-latn", false },
		{ "sr-Latn, ru", false },
		{ "sr-Latn-RS", true },		/* not "sr-latn" exactly */
		{ "rus", false },
		{ "", false },
		{ " , ;q=1,", false },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		ck_assert_msg(auth_cp1251_wanted(cases[i].al,
		    strlen(cases[i].al)) == cases[i].want, "%s", cases[i].al);
}
END_TEST

START_TEST(expired_credentials_ask_again)
{
	struct env e;
	bool asked;
	double end;

	env_start(&e, "basic credentialsttl 1 second",
	    "basic casesensitive on");
	ck_assert_str_eq(check(&e, "Basic YWxpY2U6c2VjcmV0", &asked),
	    "alice");
	ck_assert(asked);
	ck_assert_str_eq(check(&e, "Basic YWxpY2U6c2VjcmV0", &asked),
	    "alice");
	ck_assert(!asked);
	end = comm_now(e.loop) + 1.1;
	while (comm_now(e.loop) < end)
		comm_loop_run_once(e.loop);
	ck_assert_str_eq(check(&e, "Basic YWxpY2U6c2VjcmV0", &asked),
	    "alice");
	ck_assert(asked);
	ck_assert_uint_eq(helper_requests(&e), 2);
	env_stop(&e);
}
END_TEST

START_TEST(names_lowered_and_escaped_for_the_helper)
{
	struct env e;
	bool asked;

	env_start(&e, "basic credentialsttl 1 hour",
	    "basic casesensitive off");
	/* "ALICE:secret": lowered (casesensitive off), as Squid does. */
	ck_assert_str_eq(check(&e, "Basic QUxJQ0U6c2VjcmV0", &asked),
	    "alice");
	ck_assert(asked);
	/* "a b:p:%": %-escaped on the helper's line ("a%20b p:%25"). */
	ck_assert_str_eq(check(&e, "Basic YSBiOnA6JQ==", &asked), "a b");
	ck_assert(asked);
	env_stop(&e);
}
END_TEST

/*
 * Checks of the same credentials made while the helper is asked wait on
 * that one question (a burst of a browser's connections); other
 * credentials ask on their own.  A waiting check cancelled, the one that
 * asked first included, leaves the answer to the others.
 */
START_TEST(checks_in_flight_share_one_question)
{
	struct env e;
	struct auth_check *ck[8] = { NULL };
	char *user = NULL;
	int i;

	env_start(&e, "basic credentialsttl 1 hour", "basic casesensitive on");
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(auth_check_start(e.a,
		    req_of("Basic YWxpY2U6c2VjcmV0"), done, NULL, &ck[i],
		    &user), 1);
	ck_assert_int_eq(auth_check_start(e.a, req_of("Basic YWxpY2U6d3Jvbmc="),
	    done, NULL, &ck[6], &user), 1);
	ck_assert_uint_eq(helper_requests(&e), 2);
	auth_check_cancel(&ck[0]);
	auth_check_cancel(&ck[3]);
	run_until(e.loop, 7);
	ck_assert_int_eq(nusers, 4);
	/* Answered: the next is a cache hit. */
	ck_assert_int_eq(auth_check_start(e.a, req_of("Basic YWxpY2U6c2VjcmV0"),
	    done, NULL, &ck[7], &user), 0);
	ck_assert_str_eq(user, "alice");
	free(user);
	ck_assert_uint_eq(helper_requests(&e), 2);
	/* All of a question's checks cancelled: it is cancelled too, and
	 * nothing is cached. */
	env_stop(&e);
	env_start(&e, "basic credentialsttl 1 hour", "basic casesensitive on");
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(auth_check_start(e.a,
		    req_of("Basic YWxpY2U6c2VjcmV0"), done, NULL, &ck[i],
		    &user), 1);
	auth_check_cancel(&ck[1]);
	auth_check_cancel(&ck[0]);
	run_until(e.loop, 2);
	ck_assert(got_none);
	ck_assert_int_eq(auth_check_start(e.a, req_of("Basic YWxpY2U6c2VjcmV0"),
	    done, NULL, &ck[0], &user), 1);
	run_until(e.loop, 3);
	ck_assert_str_eq(got_user, "alice");
	env_stop(&e);
}
END_TEST

START_TEST(cancel_and_free_complete_once_without_user)
{
	struct env e;
	struct auth_check *ck = NULL;
	char *user = NULL;

	env_start(&e, "basic credentialsttl 1 hour", "basic casesensitive on");
	ck_assert_int_eq(auth_check_start(e.a, req_of("Basic YWxpY2U6c2VjcmV0"),
	    done, NULL, &ck, &user), 1);
	auth_check_cancel(&ck);
	ck_assert_ptr_null(ck);
	ck_assert_int_eq(ndone, 0);
	run_until(e.loop, 1);
	ck_assert(got_none);
	/* Cancelled: nothing cached, the next one asks again. */
	ck_assert_int_eq(auth_check_start(e.a, req_of("Basic YWxpY2U6c2VjcmV0"),
	    done, NULL, &ck, &user), 1);
	/* Freed with a check pending: it completes, from the loop. */
	auth_free(&e.a);
	ck_assert_int_eq(ndone, 1);
	run_until(e.loop, 2);
	ck_assert(got_none);
	env_stop(&e);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("auth");
	SRunner *sr;
	TCase *tc;
	int failed;

	tc = tcase_create("decode");
	tcase_add_test(tc, basic_credentials_table);
	tcase_add_test(tc, huge_credentials_refused_before_decoding);
	tcase_add_test(tc, secrets_compared_whole);
	suite_add_tcase(s, tc);
	tc = tcase_create("conf");
	tcase_add_test(tc, bad_lines_are_counted_with_file_and_line);
	tcase_add_test(tc, challenge_quotes_the_realm);
	suite_add_tcase(s, tc);
	tc = tcase_create("cache");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, helper_asked_once_within_ttl);
	tcase_add_test(tc, expired_credentials_ask_again);
	tcase_add_test(tc, user_ips_counted_within_ttl);
	tcase_add_test(tc, digest_hashes_match_rfc7616_example);
	tcase_add_test(tc, utf8_checked_and_latin1_converted);
	tcase_add_test(tc, cp1251_wanted_for_a_cyrillic_accept_language);
	tcase_add_test(tc, names_lowered_and_escaped_for_the_helper);
	tcase_add_test(tc, checks_in_flight_share_one_question);
	tcase_add_test(tc, cancel_and_free_complete_once_without_user);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
