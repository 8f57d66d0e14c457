/*
 * check_acl.c - unit tests for src/acl: every acl type with good and bad
 * values, rule semantics, Squid's stock ACL block, cuttle's defaults,
 * values from files, and 100,000 dstdomain entries.
 *
 * Configurations go through conf_load_string() as an administrator's
 * would, so the file:line in messages is the one they would see.
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "conf/conf.h"
#include "http/http_hdr.h"
#include "http/http_msg.h"
#include "acl/acl.h"
#include "log_capture.h"

/* -- a compiled configuration ---------------------------------------------- */

struct tconf {
	struct conf		*c;
	struct acl_set		*set;
	struct acl_rules	*rules;
	int			errors;
};

/* Load text as t.conf and compile its acls and the rules of directive
 * ("http_access" or "http_reply_access"). */
static void
tconf_load(struct tconf *t, const char *text, const char *directive)
{
	const struct conf_lines *rules;

	memset(t, 0, sizeof *t);
	t->c = conf_new();
	ck_assert_int_eq(conf_load_string(t->c, "t.conf", text), 0);
	t->set = acl_set_compile(&t->c->acl, &t->errors);
	ck_assert_ptr_nonnull(t->set);
	rules = strcmp(directive, "http_reply_access") == 0 ?
	    &t->c->http_reply_access : &t->c->http_access;
	t->rules = acl_rules_compile(t->set, rules, directive, &t->errors);
	ck_assert_ptr_nonnull(t->rules);
}

static void
tconf_free(struct tconf *t)
{
	acl_rules_free(&t->rules);
	ck_assert_ptr_null(t->rules);
	acl_set_free(&t->set);
	ck_assert_ptr_null(t->set);
	conf_free(&t->c);
}

/* -- a request view -------------------------------------------------------- */

struct treq {
	struct sockaddr_storage	src;
	struct sockaddr_storage	dst;
	struct acl_request	r;
};

static void
set_addr(struct sockaddr_storage *ss, const char *ip)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return;
	}
	ck_assert_msg(inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1,
	    "bad test address %s", ip);
	sin6->sin6_family = AF_INET6;
}

/* A request for host:port from src, sent to cuttle's port 3128. */
static struct acl_request *
treq(struct treq *t, const char *src, const char *method, const char *host,
    uint16_t port)
{
	memset(t, 0, sizeof *t);
	set_addr(&t->src, src);
	t->r.src = (const struct sockaddr *)&t->src;
	t->r.method = (int)http_method_lookup(method, strlen(method));
	t->r.method_name = method;
	t->r.method_len = strlen(method);
	t->r.host = host;
	t->r.host_len = strlen(host);
	t->r.port = port;
	t->r.myport = 3128;
	t->r.proto = t->r.method == HTTP_M_CONNECT ? NULL : "HTTP";
	t->r.src_conns = 1;
	t->r.now = time(NULL);
	return (&t->r);
}

static void
treq_dst(struct treq *t, const char *ip)
{
	set_addr(&t->dst, ip);
	t->r.dst = (const struct sockaddr *)&t->dst;
}

/* One request and the answer its rules must give. */
struct row {
	const char		*client;
	const char		*method;
	const char		*host;
	uint16_t		port;
	const char		*dst;		/* resolved origin, or NULL */
	const char		*path;		/* NULL: "/" */
	bool			manager;
	enum acl_answer		want;
};

static void
check_rows(const struct acl_rules *r, const struct row *rows, size_t n)
{
	struct acl_decision d;
	struct treq t;
	size_t i;

	for (i = 0; i < n; i++) {
		treq(&t, rows[i].client, rows[i].method, rows[i].host,
		    rows[i].port);
		if (rows[i].dst != NULL)
			treq_dst(&t, rows[i].dst);
		t.r.path = rows[i].path != NULL ? rows[i].path : "/";
		t.r.path_len = strlen(t.r.path);
		t.r.manager = rows[i].manager;
		/* if_no_rules is the opposite: a rule must decide. */
		ck_assert_msg(acl_rules_decide(r, &t.r, rows[i].want ==
		    ACL_ALLOW ? ACL_DENY : ACL_ALLOW, &d) == rows[i].want,
		    "row %zu: %s %s %s:%u%s -> %s (%s:%u)", i, rows[i].client,
		    rows[i].method, rows[i].host, rows[i].port, t.r.path,
		    d.answer == ACL_ALLOW ? "allow" : "deny", d.file, d.line);
	}
}

/* Does acl "a", defined by acl_lines, match req?  A lone "allow a" rule
 * answers ALLOW when it does and DENY (its opposite) when not. */
static bool
a_matches(const char *acl_lines, const struct acl_request *req, int *errors)
{
	char text[4096];
	struct tconf t;
	bool m;

	snprintf(text, sizeof text, "%s\nhttp_access allow a\n", acl_lines);
	tconf_load(&t, text, "http_access");
	m = acl_rules_check(t.rules, req, ACL_DENY) == ACL_ALLOW;
	if (errors != NULL)
		*errors = t.errors;
	tconf_free(&t);
	return (m);
}

/* A bad line: compiling it counts one error and logs msg (t.conf:1). */
struct bad_case {
	const char	*text;
	const char	*msg;
};

static void
check_bad(const struct bad_case *cases, size_t n)
{
	struct tconf t;
	size_t i;

	for (i = 0; i < n; i++) {
		log_capture_reset();
		tconf_load(&t, cases[i].text, "http_access");
		ck_assert_msg(t.errors == 1, "case %zu (%s): %d errors", i,
		    cases[i].text, t.errors);
		ck_assert_msg(strstr(log_captured(), cases[i].msg) != NULL,
		    "case %zu: want \"%s\" in:\n%s", i, cases[i].msg,
		    log_captured());
		ck_assert_msg(strstr(log_captured(), "ERROR acl:     advice: ") !=
		    NULL, "case %zu: no advice line in:\n%s", i, log_captured());
		tconf_free(&t);
	}
}

/* acl "a" (its lines) and a request from client for host: a match? */
struct match_case {
	const char	*acl;
	const char	*client;
	const char	*host;
	bool		match;
};

static void
check_matches(const struct match_case *cases, size_t n)
{
	struct treq t;
	size_t i;
	int errors;

	for (i = 0; i < n; i++) {
		treq(&t, cases[i].client, "GET", cases[i].host, 80);
		ck_assert_msg(a_matches(cases[i].acl, &t.r, &errors) ==
		    cases[i].match, "case %zu: %s; %s for %s", i, cases[i].acl,
		    cases[i].client, cases[i].host);
		ck_assert_int_eq(errors, 0);
	}
}

/* -- src and dst ----------------------------------------------------------- */

START_TEST(src_forms_match_as_squid_documents)
{
	static const struct match_case cases[] = {
#define C(acl, client, match)	{ acl, client, "example.com", match }
		C("acl a src 10.0.0.0/8", "10.1.2.3", true),
		C("acl a src 10.0.0.0/8", "11.0.0.1", false),
		C("acl a src 10.0.0.0/8", "::ffff:10.9.9.9", true),
		C("acl a src 192.168.0.0/255.255.0.0", "192.168.5.5", true),
		C("acl a src 192.168.0.0/255.255.0.0", "192.169.0.1", false),
		C("acl a src 0.0.0.1-0.255.255.255", "0.0.0.1", true),
		C("acl a src 0.0.0.1-0.255.255.255", "0.255.255.255", true),
		C("acl a src 0.0.0.1-0.255.255.255", "0.0.0.0", false),
		C("acl a src 0.0.0.1-0.255.255.255", "1.0.0.0", false),
		C("acl a src 100.64.0.0/10", "100.127.255.255", true),
		C("acl a src 100.64.0.0/10", "100.128.0.0", false),
		C("acl a src fc00::/7", "fd12::1", true),
		C("acl a src fc00::/7", "fe00::1", false),
		C("acl a src fe80::/10", "fe80::1", true),
		C("acl a src fe80::/10", "fec0::1", false),
		C("acl a src 10.1.1.1", "10.1.1.1", true),
		C("acl a src 10.1.1.1", "10.1.1.2", false),
		C("acl a src ::1", "127.0.0.1", false),
		C("acl a src 2001:db8::-2001:db8::ff", "2001:db8::80", true),
		C("acl a src 2001:db8::-2001:db8::ff", "2001:db8::100", false),
		C("acl a src all", "203.0.113.9", true),
		C("acl a src all", "2001:db8::1", true),
		C("acl a src 0.0.0.0/0", "203.0.113.9", true),
		C("acl a src 0.0.0.0/0", "2001:db8::1", false),
		/* Adjacent and overlapping values merge. */
		C("acl a src 10.0.0.0/9 10.128.0.0/9", "10.200.0.1", true),
		C("acl a src 10.0.0.0/8\nacl a src 10.1.0.0/16 12.0.0.1",
		    "12.0.0.1", true),
		C("acl a src 10.0.0.0/8 10.1.0.0/16", "11.0.0.0", false),
		C("acl a src 1.2.3.4 5.6.7.8 9.10.11.12", "5.6.7.8", true),
		C("acl a src 1.2.3.4 5.6.7.8 9.10.11.12", "5.6.7.9", false),
		C("acl a src -n 1.2.3.4", "1.2.3.4", true),
#undef C
	};

	check_matches(cases, ARRAY_LEN(cases));
}
END_TEST

START_TEST(src_bad_values_are_errors_with_file_line)
{
	static const struct bad_case cases[] = {
		{ "acl a src 10.0.0.256",
		    "t.conf:1: acl: bad address \"10.0.0.256\"" },
		{ "acl a src 10.0.0.0/33",
		    "t.conf:1: acl: bad prefix length or netmask in "
		    "\"10.0.0.0/33\"" },
		{ "acl a src 10.0.0.0/255.0.255.0",
		    "t.conf:1: acl: bad prefix length or netmask in "
		    "\"10.0.0.0/255.0.255.0\"" },
		{ "acl a src fc00::/129",
		    "t.conf:1: acl: bad prefix length or netmask" },
		{ "acl a src 10.0.0.9-10.0.0.1",
		    "t.conf:1: acl: range \"10.0.0.9-10.0.0.1\" ends before "
		    "it starts" },
		{ "acl a src 10.0.0.1-::1",
		    "t.conf:1: acl: range \"10.0.0.1-::1\" mixes IPv4 and "
		    "IPv6" },
		{ "\nacl a src localhost",
		    "t.conf:2: acl: bad address \"localhost\"" },
		{ "acl a dst 1.2.3.4/8-9",
		    "t.conf:1: acl: bad prefix length or netmask" },
	};
	struct treq t;
	int errors;

	check_bad(cases, ARRAY_LEN(cases));
	check_bad(&cases[6], 1);
	ck_assert_ptr_nonnull(strstr(log_captured(), "ERROR acl:     advice: names "
	    "are not resolved in acl values"));

	/* Host bits under the prefix: a warning, and the network is used. */
	log_capture_reset();
	treq(&t, "172.7.200.1", "GET", "example.com", 80);
	ck_assert(a_matches("acl a src 172.7.0.1/16", &t.r, &errors));
	ck_assert_int_eq(errors, 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:1: acl: "
	    "\"172.7.0.1/16\": the prefix length masks away host bits"));
}
END_TEST

START_TEST(dst_uses_the_resolved_address_or_a_literal_host)
{
	static const struct row rows[] = {
#define R(host, dst, want)						\
	{ "10.0.0.5", "GET", host, 80, dst, NULL, false, want }
		R("127.0.0.1", NULL, ACL_DENY),
		R("127.1.2.3", NULL, ACL_DENY),
		R("0.0.0.0", NULL, ACL_DENY),
		R("::1", NULL, ACL_DENY),
		R("intranet.example", NULL, ACL_ALLOW),	/* unresolved */
		R("intranet.example", "127.0.0.1", ACL_DENY),
		R("intranet.example", "192.0.2.1", ACL_ALLOW),
#undef R
	};
	struct tconf tc;
	struct treq t;

	treq(&t, "10.0.0.5", "GET", "example.com", 80);
	ck_assert(!a_matches("acl a dst 192.0.2.0/24", &t.r, NULL));
	treq_dst(&t, "192.0.2.7");
	ck_assert(a_matches("acl a dst 192.0.2.0/24", &t.r, NULL));
	treq(&t, "10.0.0.5", "GET", "192.0.2.9", 80);
	ck_assert(a_matches("acl a dst 192.0.2.0/24", &t.r, NULL));
	treq(&t, "10.0.0.5", "GET", "2001:db8::1", 80);
	ck_assert(a_matches("acl a dst 2001:db8::/32", &t.r, NULL));

	/* to_localhost is built in; rules that use it need dst. */
	tconf_load(&tc, "http_access deny to_localhost\n"
	    "http_access allow all\n", "http_access");
	ck_assert(acl_rules_need_dst(tc.rules));
	check_rows(tc.rules, rows, ARRAY_LEN(rows));
	tconf_free(&tc);

	tconf_load(&tc, "http_access allow localhost\n", "http_access");
	ck_assert(!acl_rules_need_dst(tc.rules));
	tconf_free(&tc);
}
END_TEST

/* -- names ----------------------------------------------------------------- */

START_TEST(dstdomain_dot_means_domain_and_subdomains)
{
	static const struct match_case cases[] = {
#define C(acl, host, match)	{ acl, "10.0.0.1", host, match }
		C("acl a dstdomain .example.com", "example.com", true),
		C("acl a dstdomain .example.com", "www.example.com", true),
		C("acl a dstdomain .example.com", "a.b.EXAMPLE.Com.", true),
		C("acl a dstdomain .example.com", "badexample.com", false),
		C("acl a dstdomain .example.com", "example.com.au", false),
		C("acl a dstdomain .example.com", "com", false),
		C("acl a dstdomain example.org", "example.org", true),
		C("acl a dstdomain example.org", "EXAMPLE.ORG.", true),
		C("acl a dstdomain example.org", "www.example.org", false),
		C("acl a dstdomain Example.NET.", "example.net", true),
		C("acl a dstdomain .com", "anything.com", true),
		C("acl a dstdomain -n .example.com", "x.example.com", true),
		C("acl a dstdomain .a.example www.b.example\n"
		    "acl a dstdomain c.example", "c.example", true),
		C("acl a dstdomain .a.example www.b.example c.example",
		    "b.example", false),
		C("acl a dstdomain 192.0.2.1", "192.0.2.1", true),
		C("acl a dstdomain .example.com", "", false),
#undef C
	};
	struct treq t;

	check_matches(cases, ARRAY_LEN(cases));

	/* Counted strings: bytes after host_len are not part of it. */
	treq(&t, "10.0.0.1", "GET", "www.example.comXYZ", 80);
	t.r.host_len -= 3;
	ck_assert(a_matches("acl a dstdomain .example.com", &t.r, NULL));
	t.r.host = NULL;
	t.r.host_len = 0;
	ck_assert(!a_matches("acl a dstdomain .example.com", &t.r, NULL));
}
END_TEST

START_TEST(dstdomain_bad_names_and_overlaps)
{
	static const struct bad_case cases[] = {
		{ "acl a dstdomain *.example.com",
		    "t.conf:1: acl: bad domain name \"*.example.com\"" },
		{ "acl a dstdomain .", "t.conf:1: acl: bad domain name \".\"" },
		{ "acl a dstdomain a..b", "t.conf:1: acl: bad domain name "
		    "\"a..b\"" },
		{ "acl a dstdomain -x example.com",
		    "t.conf:1: acl: unknown option \"-x\"" },
	};
	struct treq t;
	int errors;

	check_bad(cases, ARRAY_LEN(cases));

	/* Overlaps warn, as Squid does, in either order; the answer holds. */
	log_capture_reset();
	treq(&t, "10.0.0.1", "GET", "www.example.com", 80);
	ck_assert(a_matches("acl a dstdomain .example.com\n"
	    "acl a dstdomain www.example.com\n"
	    "acl a dstdomain img.example.org .example.org\n"
	    "acl a dstdomain example.net .example.net\n"
	    "acl a dstdomain x.test x.test", &t.r, &errors));
	ck_assert_int_eq(errors, 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:2: acl: "
	    "acl a: \"www.example.com\" is already matched by "
	    "\".example.com\""));
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:3: acl: "
	    "acl a: \"img.example.org\" is already matched by "
	    "\".example.org\""));
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:4: acl: "
	    "\"example.net\" and \".example.net\" overlap"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:5: acl: "
	    "\"x.test\" is listed twice"));
}
END_TEST

START_TEST(srcdomain_matches_the_client_name)
{
	static const struct {
		const char	*acl;
		const char	*name;		/* src_name; NULL: unknown */
		bool		match;
	} cases[] = {
		{ "acl a srcdomain .client.test", "client.test", true },
		{ "acl a srcdomain .client.test", "pc1.client.test", true },
		{ "acl a srcdomain .client.test", "pc1.other.test", false },
		{ "acl a srcdomain .client.test", "badclient.test", false },
		{ "acl a srcdomain host.client.test", "host.client.test",
		    true },
		{ "acl a srcdomain host.client.test", "x.host.client.test",
		    false },
		{ "acl a srcdomain Host.Client.TEST.", "host.client.test",
		    true },
		{ "acl a srcdomain .client.test", NULL, false },
		{ "acl a srcdomain .client.test", "", false },
		{ "acl a srcdomain localhost", "localhost", true },
	};
	struct tconf tc;
	struct treq t;
	size_t i;
	int errors;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		log_capture_reset();
		treq(&t, "10.0.0.1", "GET", "example.com", 80);
		t.r.src_name = cases[i].name;
		t.r.src_name_len = cases[i].name != NULL ?
		    strlen(cases[i].name) : 0;
		ck_assert_msg(a_matches(cases[i].acl, &t.r, &errors) ==
		    cases[i].match, "case %zu: %s; %s", i, cases[i].acl,
		    cases[i].name != NULL ? cases[i].name : "(no name)");
		ck_assert_int_eq(errors, 0);
		/* No "never matches" warning any more. */
		ck_assert_ptr_null(strstr(log_captured(), "WARN acl:"));
	}

	/* Counted: bytes after src_name_len are not part of it. */
	treq(&t, "10.0.0.1", "GET", "example.com", 80);
	t.r.src_name = "pc1.client.testXYZ";
	t.r.src_name_len = strlen(t.r.src_name) - 3;
	ck_assert(a_matches("acl a srcdomain .client.test", &t.r, NULL));

	/* Not the URL host: dstdomain's field is not looked at. */
	treq(&t, "10.0.0.1", "GET", "www.client.test", 80);
	ck_assert(!a_matches("acl a srcdomain .client.test", &t.r, NULL));

	/* No name: the negation matches. */
	ck_assert(!a_matches("acl b srcdomain .example.com\n"
	    "acl a src all\nhttp_access deny !b", &t.r, NULL));

	/* Only rules that use srcdomain need the name looked up. */
	tconf_load(&tc, "acl me srcdomain .client.test\n"
	    "http_access allow me\n", "http_access");
	ck_assert(acl_rules_need_src_name(tc.rules));
	ck_assert(!acl_rules_need_dst(tc.rules));
	tconf_free(&tc);
	tconf_load(&tc, "acl me srcdomain .client.test\n"
	    "acl d dstdomain .client.test\n"
	    "http_access allow d\n", "http_access");
	ck_assert(!acl_rules_need_src_name(tc.rules));
	tconf_free(&tc);
	tconf_load(&tc, "acl me srcdomain .client.test\n"
	    "http_access deny !me\nhttp_access allow all\n", "http_access");
	ck_assert(acl_rules_need_src_name(tc.rules));
	tconf_free(&tc);
}
END_TEST

/* -- regexes --------------------------------------------------------------- */

START_TEST(regex_types_and_case_switches)
{
	static const struct {
		const char	*acl;
		const char	*host;
		const char	*url;
		const char	*path;
		const char	*ua;
		bool		match;
	} cases[] = {
		{ "acl a dstdom_regex ^www\\.", "www.example.com", "", "", "",
		    true },
		{ "acl a dstdom_regex ^www\\.", "WWW.example.com", "", "", "",
		    false },
		{ "acl a dstdom_regex -i ^www\\.", "WWW.example.com", "", "",
		    "", true },
		{ "acl a url_regex ^http://[^/]*/ads/", "x",
		    "http://example.com/ads/1.gif", "", "", true },
		{ "acl a url_regex ^http://[^/]*/ads/", "x",
		    "http://example.com/ADS/1.gif", "", "", false },
		{ "acl a url_regex -i ^http://[^/]*/ads/", "x",
		    "http://example.com/ADS/1.gif", "", "", true },
		/* +i switches back; -i only covers the values after it. */
		{ "acl a url_regex -i nomatch +i /ADS/", "x",
		    "http://example.com/ads/", "", "", false },
		{ "acl a url_regex /ads/ -i /ADS/", "x",
		    "http://example.com/ads/", "", "", true },
		{ "acl a urlpath_regex \\.exe$", "x", "", "/a/b.exe", "",
		    true },
		{ "acl a urlpath_regex \\.exe$", "x", "", "/a.exe/x", "",
		    false },
		/* A regex that starts with '/' and names no file is a regex. */
		{ "acl a urlpath_regex /cgi-bin/", "x", "", "/cgi-bin/x.pl",
		    "", true },
		{ "acl a urlpath_regex ^/admin ^/private", "x", "",
		    "/private/x", "", true },
		{ "acl a browser -i firefox", "x", "", "", "Mozilla/5.0 "
		    "Gecko/20100101 Firefox/128.0", true },
		{ "acl a browser ^curl/", "x", "", "", "Wget/1.21", false },
		{ "acl a browser ^curl/", "x", "", "", "", false },
	};
	struct treq t;
	size_t i;
	int errors;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		treq(&t, "10.0.0.1", "GET", cases[i].host, 80);
		t.r.url = cases[i].url;
		t.r.url_len = strlen(cases[i].url);
		t.r.path = cases[i].path;
		t.r.path_len = strlen(cases[i].path);
		t.r.user_agent = *cases[i].ua != '\0' ? cases[i].ua : NULL;
		t.r.ua_len = strlen(cases[i].ua);
		ck_assert_msg(a_matches(cases[i].acl, &t.r, &errors) ==
		    cases[i].match, "case %zu: %s", i, cases[i].acl);
		ck_assert_int_eq(errors, 0);
	}

	/* Counted, not NUL-terminated: "$" is the end of path_len. */
	treq(&t, "10.0.0.1", "GET", "x", 80);
	t.r.path = "/setup.exe?v=1";
	t.r.path_len = strlen("/setup.exe");
	ck_assert(a_matches("acl a urlpath_regex \\.exe$", &t.r, NULL));

	/* Longer than the stack buffer, and counted in a larger block. */
	{
		static char url[8192];

		memset(url, 'a', sizeof url);
		memcpy(url, "http://x/", 9);
		memcpy(url + 5000, ".exe", 4);
		treq(&t, "10.0.0.1", "GET", "x", 80);
		t.r.url = url;
		t.r.url_len = 5004;
		ck_assert(a_matches("acl a url_regex \\.exe$", &t.r, NULL));
		t.r.url_len = 5003;
		ck_assert(!a_matches("acl a url_regex \\.exe$", &t.r, NULL));
	}
}
END_TEST

START_TEST(regex_bad_values)
{
	static const struct bad_case cases[] = {
		{ "acl a url_regex (", "t.conf:1: acl: bad regex \"(\": " },
		{ "acl a dstdom_regex -i a{2,1}",
		    "t.conf:1: acl: bad regex \"a{2,1}\": " },
		{ "acl a browser -q x", "t.conf:1: acl: unknown option "
		    "\"-q\"" },
	};

	check_bad(cases, ARRAY_LEN(cases));
}
END_TEST

/* -- numbers --------------------------------------------------------------- */

START_TEST(port_myport_and_http_status_ranges)
{
	static const struct {
		const char	*acl;
		uint16_t	port;
		uint16_t	myport;
		int		status;
		bool		match;
	} cases[] = {
		{ "acl a port 80 443 1025-65535", 80, 3128, 0, true },
		{ "acl a port 80 443 1025-65535", 81, 3128, 0, false },
		{ "acl a port 80 443 1025-65535", 1025, 3128, 0, true },
		{ "acl a port 80 443 1025-65535", 65535, 3128, 0, true },
		{ "acl a port 80 443 1025-65535", 1024, 3128, 0, false },
		{ "acl a port 80\nacl a port 81", 81, 3128, 0, true },
		{ "acl a myport 3128", 80, 3128, 0, true },
		{ "acl a myport 3128", 80, 8080, 0, false },
		{ "acl a myport 8000-8999\nacl a localport 3128", 80, 3128, 0,
		    true },
		{ "acl a http_status 200-299 404 500-", 80, 3128, 204, true },
		{ "acl a http_status 200-299 404 500-", 80, 3128, 404, true },
		{ "acl a http_status 200-299 404 500-", 80, 3128, 503, true },
		{ "acl a http_status 200-299 404 500-", 80, 3128, 302, false },
		{ "acl a http_status 200-299 404 500-", 80, 3128, 0, false },
	};
	static const struct bad_case bad[] = {
		{ "acl a port 0x50", "t.conf:1: acl: bad number or range "
		    "\"0x50\" (0 to 65535)" },
		{ "acl a port 70000", "t.conf:1: acl: bad number or range "
		    "\"70000\" (0 to 65535)" },
		{ "acl a port 1025-", "t.conf:1: acl: bad number or range "
		    "\"1025-\"" },
		{ "acl a port 100-50", "t.conf:1: acl: range \"100-50\" ends "
		    "before it starts" },
		{ "acl a myport http", "t.conf:1: acl: bad number or range "
		    "\"http\"" },
		{ "acl a http_status 1000", "t.conf:1: acl: bad number or "
		    "range \"1000\" (0 to 999)" },
	};
	char text[256];
	struct tconf tc;
	struct treq t;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		treq(&t, "10.0.0.1", "GET", "example.com", cases[i].port);
		t.r.myport = cases[i].myport;
		t.r.status = cases[i].status;
		snprintf(text, sizeof text, "%s\nhttp_reply_access allow a\n",
		    cases[i].acl);
		tconf_load(&tc, text, "http_reply_access");
		ck_assert_int_eq(tc.errors, 0);
		ck_assert_msg((acl_rules_check(tc.rules, &t.r, ACL_DENY) ==
		    ACL_ALLOW) == cases[i].match, "case %zu: %s", i,
		    cases[i].acl);
		tconf_free(&tc);
	}
	check_bad(bad, ARRAY_LEN(bad));

	/* A reply acl in http_access: a warning, and it never matches. */
	log_capture_reset();
	treq(&t, "10.0.0.1", "GET", "example.com", 80);
	t.r.status = 200;
	tconf_load(&tc, "acl ok http_status 200\nhttp_access allow ok\n",
	    "http_access");
	ck_assert_int_eq(tc.errors, 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:2: "
	    "http_access: acl ok: http_status needs a reply, which "
	    "http_access does not have: it never matches here"));
	tconf_free(&tc);
}
END_TEST

START_TEST(maxconn_counts_connections_from_the_client)
{
	static const struct bad_case bad[] = {
		{ "acl a maxconn lots", "t.conf:1: acl: bad number \"lots\"" },
		{ "acl a maxconn 1 2", "t.conf:1: acl: maxconn takes one "
		    "number" },
		{ "acl a maxconn 1\nacl a maxconn 2",
		    "t.conf:2: acl: acl a already has a limit (1)" },
	};
	struct treq t;

	treq(&t, "10.0.0.1", "GET", "example.com", 80);
	t.r.src_conns = 2;
	ck_assert(!a_matches("acl a maxconn 2", &t.r, NULL));
	t.r.src_conns = 3;
	ck_assert(a_matches("acl a maxconn 2", &t.r, NULL));
	check_bad(bad, ARRAY_LEN(bad));
}
END_TEST

/* -- methods, protocols, time ---------------------------------------------- */

START_TEST(method_names_and_extension_methods)
{
	static const struct bad_case bad[] = {
		{ "acl a method G@T", "t.conf:1: acl: bad method \"G@T\"" },
	};
	struct treq t;
	int errors;

	treq(&t, "10.0.0.1", "POST", "example.com", 80);
	ck_assert(a_matches("acl a method GET POST", &t.r, &errors));
	ck_assert_int_eq(errors, 0);
	treq(&t, "10.0.0.1", "HEAD", "example.com", 80);
	ck_assert(!a_matches("acl a method GET POST", &t.r, NULL));
	treq(&t, "10.0.0.1", "PROPFIND", "example.com", 80);
	ck_assert(a_matches("acl a method PROPFIND MKCOL", &t.r, NULL));
	ck_assert(!a_matches("acl a method GET MKCOL", &t.r, NULL));
	treq(&t, "10.0.0.1", "CONNECT", "example.com", 443);
	ck_assert(a_matches("acl a method CONNECT", &t.r, NULL));

	/* Methods are case-sensitive: a warning says so. */
	log_capture_reset();
	treq(&t, "10.0.0.1", "GET", "example.com", 80);
	ck_assert(!a_matches("acl a method get", &t.r, &errors));
	ck_assert_int_eq(errors, 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:1: acl: "
	    "method \"get\": methods are case-sensitive"));
	check_bad(bad, ARRAY_LEN(bad));
}
END_TEST

START_TEST(proto_names_any_case)
{
	struct treq t;
	int errors;

	treq(&t, "10.0.0.1", "GET", "example.com", 80);
	ck_assert(a_matches("acl a proto HTTP", &t.r, NULL));
	t.r.proto = "http";
	ck_assert(a_matches("acl a proto HTTP", &t.r, NULL));
	t.r.proto = "cache_object";
	ck_assert(a_matches("acl a proto FTP cache_object", &t.r, NULL));
	ck_assert(!a_matches("acl a proto HTTP HTTPS", &t.r, NULL));
	t.r.proto = NULL;	/* CONNECT */
	ck_assert(!a_matches("acl a proto HTTP HTTPS", &t.r, NULL));

	log_capture_reset();
	ck_assert(!a_matches("acl a proto SPDY", &t.r, &errors));
	ck_assert_int_eq(errors, 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:1: acl: "
	    "unknown protocol \"SPDY\" ignored (as Squid does)"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "acl a has no values: it "
	    "matches nothing"));
}
END_TEST

START_TEST(time_days_and_hours_in_local_time)
{
	/* Monday 2024-01-01 10:30 UTC; the week starts on Sunday. */
	static const time_t monday_1030 = 1704105000;
	static const struct {
		const char	*acl;
		int		days_later;
		int		minutes_later;
		bool		match;
	} cases[] = {
		{ "acl a time MTWHF 09:00-17:00", 0, 0, true },
		{ "acl a time MTWHF 09:00-17:00", 5, 0, false },  /* Sat */
		{ "acl a time D", 3, 0, true },			  /* Thu */
		{ "acl a time D", 6, 0, false },		  /* Sun */
		{ "acl a time A S", 6, 0, true },
		{ "acl a time SA", 1, 0, false },
		{ "acl a time 09:00-10:29", 0, 0, false },
		{ "acl a time 10:30-10:30", 0, 0, true },
		{ "acl a time 10:30-10:30", 0, 1, false },
		/* 23:59, and 24:00 as the end of the day */
		{ "acl a time 17:00-24:00", 0, 13 * 60 + 29, true },
		{ "acl a time M-W 08:00-09:00 F 10:00-11:00", 4, 0, true },
		{ "acl a time M 08:00-09:00 F 10:00-11:00", 0, 0, false },
		{ "acl a time M 08:00-09:00\nacl a time H", 3, 0, true },
	};
	static const struct bad_case bad[] = {
		{ "acl a time 25:00-26:00",
		    "t.conf:1: acl: bad time range \"25:00-26:00\"" },
		{ "acl a time M 9-17", "t.conf:1: acl: bad time range "
		    "\"9-17\"" },
		{ "acl a time 10:00-09:00", "t.conf:1: acl: time range "
		    "\"10:00-09:00\" ends before it starts" },
		{ "acl a time MX", "t.conf:1: acl: bad day 'X' in \"MX\"" },
	};
	struct treq t;
	size_t i;
	int errors;

	setenv("TZ", "UTC", 1);
	tzset();
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		treq(&t, "10.0.0.1", "GET", "example.com", 80);
		t.r.now = monday_1030 + cases[i].days_later * 86400 +
		    cases[i].minutes_later * 60;
		ck_assert_msg(a_matches(cases[i].acl, &t.r, &errors) ==
		    cases[i].match, "case %zu: %s", i, cases[i].acl);
		ck_assert_int_eq(errors, 0);
	}
	check_bad(bad, ARRAY_LEN(bad));
}
END_TEST

/* -- proxy_auth ------------------------------------------------------------ */

START_TEST(proxy_auth_matches_the_vouched_user)
{
	static const struct {
		const char	*acl;
		const char	*user;		/* NULL: no valid credentials */
		bool		match;
	} cases[] = {
		{ "acl a proxy_auth REQUIRED", "alice", true },
		{ "acl a proxy_auth REQUIRED", NULL, false },
		{ "acl a proxy_auth alice bob", "bob", true },
		{ "acl a proxy_auth alice bob", "Bob", false },
		{ "acl a proxy_auth alice bob", "alic", false },
		{ "acl a proxy_auth alice bob", "alicex", false },
		{ "acl a proxy_auth alice", NULL, false },
	};
	struct treq t;
	size_t i;
	int errors;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		treq(&t, "10.0.0.1", "GET", "example.com", 80);
		t.r.user = cases[i].user;
		t.r.user_len = cases[i].user != NULL ?
		    strlen(cases[i].user) : 0;
		t.r.known |= ACL_KNOW_USER;
		ck_assert_msg(a_matches(cases[i].acl, &t.r, &errors) ==
		    cases[i].match, "case %zu: %s; %s", i, cases[i].acl,
		    cases[i].user != NULL ? cases[i].user : "(none)");
		ck_assert_int_eq(errors, 0);
	}
}
END_TEST

START_TEST(proxy_auth_regex_matches_the_vouched_user)
{
	static const struct {
		const char	*acl;
		const char	*user;		/* NULL: no valid credentials */
		bool		match;
	} cases[] = {
		{ "acl a proxy_auth_regex ^al", "alice", true },
		{ "acl a proxy_auth_regex ^al", "Alice", false },
		{ "acl a proxy_auth_regex -i ^al", "Alice", true },
		{ "acl a proxy_auth_regex ^al", NULL, false },
		{ "acl a proxy_auth_regex ^x ice$", "alice", true },
		{ "acl a proxy_auth_regex ^bob$", "bobby", false },
	};
	struct treq t;
	size_t i;
	int errors;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		treq(&t, "10.0.0.1", "GET", "example.com", 80);
		t.r.user = cases[i].user;
		t.r.user_len = cases[i].user != NULL ?
		    strlen(cases[i].user) : 0;
		t.r.known |= ACL_KNOW_USER;
		ck_assert_msg(a_matches(cases[i].acl, &t.r, &errors) ==
		    cases[i].match, "case %zu: %s; %s", i, cases[i].acl,
		    cases[i].user != NULL ? cases[i].user : "(none)");
		ck_assert_int_eq(errors, 0);
	}
}
END_TEST

/*
 * A denial whose last acl tested is proxy_auth or proxy_auth_regex is one
 * the client is asked to log in again for (407, Squid's aclIsProxyAuth());
 * "deny eve all" ends with another acl: a plain denial (403).
 */
START_TEST(denial_by_an_auth_acl_is_flagged)
{
	static const struct {
		const char	*user;
		enum acl_answer	want;
		bool		auth_acl;
	} cases[] = {
		{ "bob", ACL_DENY, true },
		{ "bobby", ACL_DENY, true },
		{ "eve", ACL_DENY, false },
		{ "alice", ACL_ALLOW, false },
	};
	struct acl_decision d;
	struct tconf tc;
	struct treq t;
	size_t i;

	tconf_load(&tc, "acl bob proxy_auth bob\n"
	    "acl bobs proxy_auth_regex ^bob.\n"
	    "acl eve proxy_auth eve\n"
	    "http_access deny bob\n"
	    "http_access deny bobs\n"
	    "http_access deny eve all\n"
	    "http_access allow all\n", "http_access");
	ck_assert_int_eq(tc.errors, 0);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		treq(&t, "10.0.0.1", "GET", "example.com", 80);
		t.r.user = cases[i].user;
		t.r.user_len = strlen(cases[i].user);
		t.r.known |= ACL_KNOW_USER;
		ck_assert_int_eq(acl_rules_decide(tc.rules, &t.r, ACL_DENY,
		    &d), cases[i].want);
		ck_assert_msg(d.auth_acl == cases[i].auth_acl, "%s",
		    cases[i].user);
	}
	tconf_free(&tc);
}
END_TEST

static bool	over_strict;
static unsigned	over_calls, over_max;

static void
over_note(void *ctx, bool strict, unsigned max)
{
	(void)ctx;
	over_strict = strict;
	over_max = max;
	over_calls++;
}

START_TEST(max_user_ip_matches_above_the_count_and_says_so)
{
	static const struct {
		const char	*acl;
		const char	*user;
		unsigned	ips;
		bool		match;
		bool		strict;
	} cases[] = {
		{ "acl a max_user_ip 1", "alice", 1, false, false },
		{ "acl a max_user_ip 1", "alice", 2, true, false },
		{ "acl a max_user_ip -s 2", "alice", 2, false, true },
		{ "acl a max_user_ip -s 2", "alice", 3, true, true },
		{ "acl a max_user_ip 1", NULL, 5, false, false },
	};
	static const struct bad_case bad[] = {
		{ "acl a max_user_ip", "t.conf:1: acl: max_user_ip takes -s "
		    "(strict) and one number" },
		{ "acl a max_user_ip -x 2", "t.conf:1: acl: max_user_ip takes "
		    "-s (strict) and one number" },
		{ "acl a max_user_ip two", "t.conf:1: acl: bad number "
		    "\"two\"" },
	};
	struct treq t;
	size_t i;
	int errors;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		treq(&t, "10.0.0.1", "GET", "example.com", 80);
		t.r.user = cases[i].user;
		t.r.user_len = cases[i].user != NULL ?
		    strlen(cases[i].user) : 0;
		t.r.user_ips = cases[i].ips;
		t.r.user_ips_over = over_note;
		t.r.known |= ACL_KNOW_USER;
		over_calls = 0;
		ck_assert_msg(a_matches(cases[i].acl, &t.r, &errors) ==
		    cases[i].match, "case %zu: %s", i, cases[i].acl);
		ck_assert_int_eq(errors, 0);
		ck_assert_uint_eq(over_calls, cases[i].match ? 1 : 0);
		if (cases[i].match)
			ck_assert(over_strict == cases[i].strict);
	}
	ck_assert_uint_eq(over_max, 2);
	check_bad(bad, ARRAY_LEN(bad));
}
END_TEST

/* -- acl lines ------------------------------------------------------------- */

START_TEST(acl_line_errors_name_the_problem)
{
	static const struct bad_case cases[] = {
		{ "acl a foo 1", "t.conf:1: acl: unknown acl type \"foo\"; "
		    "known types are" },
		{ "acl a ident_regex ^a", "t.conf:1: acl: acl type "
		    "\"ident_regex\" is not supported by cuttle" },
		{ "acl a", "t.conf:1: acl: acl a has no type" },
		{ "acl a src 10.0.0.1\nacl a dstdomain .x.com",
		    "t.conf:2: acl: acl a is already a src acl (t.conf:1)" },
		{ "acl A src 10.0.0.1\nacl a port 80",
		    "t.conf:2: acl: acl A is already a src acl (t.conf:1)" },
		{ "acl !a src 10.0.0.1", "t.conf:1: acl: bad acl name "
		    "\"!a\"" },
	};

	check_bad(cases, ARRAY_LEN(cases));
	log_capture_reset();
	check_bad(cases, 1);
	ck_assert_ptr_nonnull(strstr(log_captured(), "advice: src, dst, dstdomain, "
	    "srcdomain, dstdom_regex, port, myport, method, proto, url_regex, "
	    "urlpath_regex, browser, time, maxconn, proxy_auth, "
	    "proxy_auth_regex, max_user_ip, external, note, http_status"));
}
END_TEST

START_TEST(builtins_exist_and_stock_redefinitions_are_harmless)
{
	static const struct row rows[] = {
#define R(client, method, port, manager, want)				\
	{ client, method, "example.com", port, NULL, NULL, manager, want }
		R("127.0.0.1", "GET", 80, false, ACL_ALLOW),
		R("::1", "GET", 80, false, ACL_ALLOW),
		R("127.0.0.2", "GET", 80, false, ACL_DENY),
		R("127.0.0.1", "CONNECT", 22, false, ACL_DENY),
		R("127.0.0.1", "CONNECT", 443, false, ACL_ALLOW),
		R("127.0.0.1", "GET", 3128, true, ACL_ALLOW),
		R("10.0.0.1", "GET", 3128, true, ACL_DENY),
#undef R
	};
	static const struct bad_case bad[] = {
		{ "acl localhost dstdomain localhost",
		    "t.conf:1: acl: acl localhost is built-in (src "
		    "127.0.0.1/32 ::1) and cannot be a dstdomain acl" },
	};
	static const char rules[] =
	    "acl SSL port 443\n"
	    "http_access allow MANAGER LocalHost\n"
	    "http_access deny manager\n"
	    "http_access deny CONNECT !SSL\n"
	    "http_access allow localhost\n"
	    "http_access deny all\n";
	char text[1024];
	struct tconf tc;

	/* With no other acl lines. */
	tconf_load(&tc, rules, "http_access");
	ck_assert_int_eq(tc.errors, 0);
	check_rows(tc.rules, rows, ARRAY_LEN(rows));
	tconf_free(&tc);

	/* Squid 3's stock lines: warnings, no errors, the same answers. */
	log_capture_reset();
	snprintf(text, sizeof text, "acl all src all\n"
	    "acl manager proto cache_object\n"
	    "acl localhost src 127.0.0.1/32 ::1\n"
	    "acl to_localhost dst 127.0.0.0/8 0.0.0.0/32 ::1\n"
	    "acl CONNECT method CONNECT\n%s", rules);
	tconf_load(&tc, text, "http_access");
	ck_assert_int_eq(tc.errors, 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:2: acl: acl "
	    "manager is built-in (cache manager requests); this line is "
	    "ignored"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:3: acl: acl "
	    "localhost is built-in (src 127.0.0.1/32 ::1)"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:4: acl: acl "
	    "to_localhost is built-in"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "WARN acl: t.conf:5: acl: acl "
	    "CONNECT is built-in (method CONNECT)"));
	check_rows(tc.rules, rows, ARRAY_LEN(rows));
	tconf_free(&tc);

	check_bad(bad, ARRAY_LEN(bad));
}
END_TEST

/* -- ssl_bump: ssl::server_name, at_step, ssl_error ---------------------- */

START_TEST(ssl_server_name_follows_the_step)
{
	static const char *const certnames[] = { "cert.example.net",
	    "*.example.net" };
	struct treq t;

	/* Step 1: the CONNECT host is the name known. */
	treq(&t, "10.0.0.1", "CONNECT", "www.example.com", 443);
	t.r.ssl_step = 1;
	ck_assert(a_matches("acl a ssl::server_name .example.com", &t.r,
	    NULL));
	ck_assert(a_matches("acl a ssl::server_name_regex -i ^WWW\\.", &t.r,
	    NULL));
	ck_assert(!a_matches("acl a ssl::server_name --server-provided "
	    ".example.com", &t.r, NULL));
	/* Step 2: SNI, when the client sent one, wins over CONNECT. */
	t.r.ssl_step = 2;
	t.r.sni = "sni.example.org";
	t.r.sni_len = strlen(t.r.sni);
	ck_assert(!a_matches("acl a ssl::server_name .example.com", &t.r,
	    NULL));
	ck_assert(a_matches("acl a ssl::server_name .example.org", &t.r,
	    NULL));
	ck_assert(a_matches("acl a ssl::server_name --client-requested "
	    "sni.example.org", &t.r, NULL));
	/* Step 3: the certificate's names, once known. */
	t.r.ssl_step = 3;
	t.r.cert_names = certnames;
	t.r.ncert_names = 2;
	ck_assert(a_matches("acl a ssl::server_name cert.example.net", &t.r,
	    NULL));
	ck_assert(!a_matches("acl a ssl::server_name .example.org", &t.r,
	    NULL));
	ck_assert(a_matches("acl a ssl::server_name --client-requested "
	    ".example.org", &t.r, NULL));
	ck_assert(a_matches("acl a ssl::server_name --server-provided "
	    ".example.net", &t.r, NULL));
	ck_assert(!a_matches("acl a ssl::server_name --consensus "
	    ".example.net", &t.r, NULL));
	ck_assert(!a_matches("acl a ssl::server_name --consensus "
	    ".example.org", &t.r, NULL));
	ck_assert(a_matches("acl a ssl::server_name --consensus "
	    ".example.org .example.net", &t.r, NULL));
}
END_TEST

START_TEST(at_step_and_ssl_error)
{
	static const struct bad_case bad[] = {
		{ "acl a at_step SslBump4",
		    "t.conf:1: acl: unknown at_step \"SslBump4\"" },
		{ "acl a ssl_error X509_V_ERR_NO_SUCH_THING",
		    "t.conf:1: acl: unknown ssl_error "
		    "\"X509_V_ERR_NO_SUCH_THING\"" },
		{ "acl a ssl::server_name --bogus .example.com",
		    "t.conf:1: acl: unknown option \"--bogus\"" },
	};
	struct treq t;

	treq(&t, "10.0.0.1", "CONNECT", "www.example.com", 443);
	ck_assert(!a_matches("acl a at_step SslBump1", &t.r, NULL));
	t.r.ssl_step = 2;
	ck_assert(!a_matches("acl a at_step SslBump1", &t.r, NULL));
	ck_assert(a_matches("acl a at_step SslBump1 SslBump2", &t.r, NULL));
	ck_assert(!a_matches("acl a ssl_error X509_V_ERR_CERT_HAS_EXPIRED",
	    &t.r, NULL));
	t.r.ssl_error = 10;	/* X509_V_ERR_CERT_HAS_EXPIRED */
	ck_assert(a_matches("acl a ssl_error X509_V_ERR_CERT_HAS_EXPIRED",
	    &t.r, NULL));
	ck_assert(!a_matches("acl a ssl_error "
	    "SQUID_X509_V_ERR_DOMAIN_MISMATCH", &t.r, NULL));
	t.r.ssl_error = 62;	/* X509_V_ERR_HOSTNAME_MISMATCH */
	ck_assert(a_matches("acl a ssl_error "
	    "SQUID_X509_V_ERR_DOMAIN_MISMATCH", &t.r, NULL));
	check_bad(bad, ARRAY_LEN(bad));
}
END_TEST

/* -- rules ----------------------------------------------------------------- */

START_TEST(rules_and_not_first_match_and_implicit_last)
{
	static const struct {
		const char		*rules;
		const char		*client;
		uint16_t		port;
		enum acl_answer		want;
		unsigned		line;	/* deciding rule */
		bool			implicit;
	} cases[] = {
		/* AND within a line. */
		{ "http_access allow A B\n", "10.0.0.1", 80, ACL_ALLOW, 3,
		    false },
		{ "http_access allow A B\n", "10.0.0.1", 81, ACL_DENY, 3,
		    true },
		{ "http_access allow A B\n", "11.0.0.1", 80, ACL_DENY, 3,
		    true },
		/* No match: the opposite of the last rule. */
		{ "http_access deny A\n", "11.0.0.1", 80, ACL_ALLOW, 3, true },
		{ "http_access deny A\n", "10.0.0.1", 80, ACL_DENY, 3, false },
		{ "http_access allow B\nhttp_access deny A\n", "11.0.0.1",
		    81, ACL_ALLOW, 4, true },
		/* Negation. */
		{ "http_access allow !A\n", "11.0.0.1", 80, ACL_ALLOW, 3,
		    false },
		{ "http_access allow !A\n", "10.0.0.1", 80, ACL_DENY, 3, true },
		{ "http_access deny A !B\nhttp_access allow all\n",
		    "10.0.0.1", 81, ACL_DENY, 3, false },
		{ "http_access deny A !B\nhttp_access allow all\n",
		    "10.0.0.1", 80, ACL_ALLOW, 4, false },
		/* First match wins. */
		{ "http_access deny A\nhttp_access allow all\n", "10.0.0.1",
		    80, ACL_DENY, 3, false },
		{ "http_access allow all\nhttp_access deny A\n", "10.0.0.1",
		    80, ACL_ALLOW, 3, false },
		{ "http_access allow !all\n", "10.0.0.1", 80, ACL_DENY, 3,
		    true },
	};
	struct acl_decision d;
	char text[512];
	struct tconf tc;
	struct treq t;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(text, sizeof text, "acl A src 10.0.0.0/8\n"
		    "acl B port 80\n%s", cases[i].rules);
		tconf_load(&tc, text, "http_access");
		ck_assert_int_eq(tc.errors, 0);
		treq(&t, cases[i].client, "GET", "example.com",
		    cases[i].port);
		ck_assert_msg(acl_rules_decide(tc.rules, &t.r, ACL_DENY, &d) ==
		    cases[i].want, "case %zu", i);
		ck_assert_int_eq(d.answer, cases[i].want);
		ck_assert_str_eq(d.file, "t.conf");
		ck_assert_msg(d.line == cases[i].line, "case %zu: line %u",
		    i, d.line);
		ck_assert_msg(d.implicit == cases[i].implicit, "case %zu", i);
		ck_assert_ptr_nonnull(d.acl);
		ck_assert_int_eq(acl_rules_check(tc.rules, &t.r, ACL_ALLOW),
		    cases[i].want);
		tconf_free(&tc);
	}
}
END_TEST

START_TEST(empty_rules_answer_if_no_rules)
{
	struct acl_decision d;
	struct acl_rules *r;
	struct acl_set *s;
	struct treq t;
	int errors = 0;

	s = acl_set_compile(NULL, &errors);
	ck_assert_ptr_nonnull(s);
	r = acl_rules_compile(s, NULL, "cache", &errors);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(errors, 0);
	ck_assert_uint_eq(acl_rules_count(r), 0);
	treq(&t, "10.0.0.1", "GET", "example.com", 80);
	ck_assert_int_eq(acl_rules_check(r, &t.r, ACL_ALLOW), ACL_ALLOW);
	ck_assert_int_eq(acl_rules_decide(r, &t.r, ACL_DENY, &d), ACL_DENY);
	ck_assert_ptr_null(d.file);
	ck_assert(!d.implicit);
	ck_assert_ptr_null(d.acl);
	acl_rules_free(&r);
	acl_rules_free(&r);	/* NULL is fine */
	acl_set_free(&s);
	acl_set_free(&s);
}
END_TEST

START_TEST(rule_errors_name_directive_and_line)
{
	static const struct bad_case cases[] = {
		{ "acl A src 10.0.0.0/8\n\nhttp_access allow A nope\n",
		    "t.conf:3: http_access: unknown acl \"nope\"" },
		{ "http_access permit all\n",
		    "t.conf:1: http_access: \"permit\" is neither allow nor "
		    "deny" },
		{ "http_access allow\n", "t.conf:1: http_access: allow with "
		    "no acl" },
		{ "http_access deny !\n", "t.conf:1: http_access: unknown acl "
		    "\"\"" },
	};
	struct tconf tc;
	struct treq t;

	check_bad(cases, ARRAY_LEN(cases));
	check_bad(&cases[1], 1);
	ck_assert_ptr_nonnull(strstr(log_captured(), "ERROR acl:     advice: "
	    "expected: http_access allow|deny [!]aclname ..."));

	/* A rule with an unknown acl is dropped, the others stay. */
	tconf_load(&tc, "http_access deny nope\nhttp_access allow all\n",
	    "http_access");
	ck_assert_int_eq(tc.errors, 1);
	ck_assert_uint_eq(acl_rules_count(tc.rules), 1);
	treq(&t, "10.0.0.1", "GET", "example.com", 80);
	ck_assert_int_eq(acl_rules_check(tc.rules, &t.r, ACL_DENY),
	    ACL_ALLOW);
	tconf_free(&tc);

	log_capture_reset();
	tconf_load(&tc, "http_reply_access allow nope\n",
	    "http_reply_access");
	ck_assert_int_eq(tc.errors, 1);
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:1: http_reply_access: "
	    "unknown acl \"nope\""));
	tconf_free(&tc);
}
END_TEST

/* -- whole configurations -------------------------------------------------- */

/* The ACL block of Debian's squid 5.7 squid.conf, localnet lines and
 * "http_access allow localnet" uncommented (Debian ships them commented). */
static const char debian_squid57[] =
    "acl localnet src 0.0.0.1-0.255.255.255\t# RFC 1122 \"this\" network "
    "(LAN)\n"
    "acl localnet src 10.0.0.0/8\t\t# RFC 1918 local private network "
    "(LAN)\n"
    "acl localnet src 100.64.0.0/10\t\t# RFC 6598 shared address space "
    "(CGN)\n"
    "acl localnet src 169.254.0.0/16 \t# RFC 3927 link-local (directly "
    "plugged) machines\n"
    "acl localnet src 172.16.0.0/12\t\t# RFC 1918 local private network "
    "(LAN)\n"
    "acl localnet src 192.168.0.0/16\t\t# RFC 1918 local private network "
    "(LAN)\n"
    "acl localnet src fc00::/7       \t# RFC 4193 local private network "
    "range\n"
    "acl localnet src fe80::/10      \t# RFC 4291 link-local (directly "
    "plugged) machines\n"
    "\n"
    "acl SSL_ports port 443\n"
    "acl Safe_ports port 80\t\t# http\n"
    "acl Safe_ports port 21\t\t# ftp\n"
    "acl Safe_ports port 443\t\t# https\n"
    "acl Safe_ports port 70\t\t# gopher\n"
    "acl Safe_ports port 210\t\t# wais\n"
    "acl Safe_ports port 1025-65535\t# unregistered ports\n"
    "acl Safe_ports port 280\t\t# http-mgmt\n"
    "acl Safe_ports port 488\t\t# gss-http\n"
    "acl Safe_ports port 591\t\t# filemaker\n"
    "acl Safe_ports port 777\t\t# multiling http\n"
    "\n"
    "# Deny requests to certain unsafe ports\n"
    "http_access deny !Safe_ports\n"
    "\n"
    "# Deny CONNECT to other than secure SSL ports\n"
    "http_access deny CONNECT !SSL_ports\n"
    "\n"
    "# Only allow cachemgr access from localhost\n"
    "http_access allow localhost manager\n"
    "http_access deny manager\n"
    "\n"
    "#http_access deny to_localhost\n"
    "\n"
    "http_access allow localnet\n"
    "http_access allow localhost\n"
    "\n"
    "# And finally deny all other access to this proxy\n"
    "http_access deny all\n";

/* Requests and what Squid answers them with under that block (and
 * under cuttle's built-in defaults, which are the same rules). */
static const struct row squid_table[] = {
#define R(client, method, port, manager, want)				\
	{ client, method, "example.com", port, NULL, NULL, manager, want }
	R("127.0.0.1", "GET", 80, false, ACL_ALLOW),
	R("::1", "GET", 80, false, ACL_ALLOW),
	R("192.168.1.5", "GET", 80, false, ACL_ALLOW),
	R("10.1.2.3", "GET", 8080, false, ACL_ALLOW),	/* 1025-65535 */
	R("172.16.0.1", "GET", 21, false, ACL_ALLOW),
	R("172.32.0.1", "GET", 80, false, ACL_DENY),	/* not 172.16/12 */
	R("169.254.1.1", "GET", 80, false, ACL_ALLOW),
	R("fd00::5", "GET", 443, false, ACL_ALLOW),
	R("fe80::1", "GET", 80, false, ACL_ALLOW),
	R("8.8.8.8", "GET", 80, false, ACL_DENY),
	R("2001:db8::1", "GET", 80, false, ACL_DENY),
	R("192.168.1.5", "GET", 25, false, ACL_DENY),	/* !Safe_ports */
	R("127.0.0.1", "GET", 1024, false, ACL_DENY),
	R("192.168.1.5", "CONNECT", 443, false, ACL_ALLOW),
	R("127.0.0.1", "CONNECT", 443, false, ACL_ALLOW),
	R("127.0.0.1", "CONNECT", 8443, false, ACL_DENY),
	R("192.168.1.5", "CONNECT", 8443, false, ACL_DENY),
	R("127.0.0.1", "CONNECT", 22, false, ACL_DENY),
	R("127.0.0.1", "GET", 3128, true, ACL_ALLOW),	/* cachemgr */
	R("192.168.1.5", "GET", 3128, true, ACL_DENY),
	R("8.8.8.8", "GET", 3128, true, ACL_DENY),
#undef R
};

START_TEST(debian_squid57_acl_block_behaves_as_squid)
{
	struct tconf tc;
	struct treq t;

	tconf_load(&tc, debian_squid57, "http_access");
	ck_assert_int_eq(tc.errors, 0);
	ck_assert_ptr_null(strstr(log_captured(), "WARN acl"));
	ck_assert_uint_eq(acl_rules_count(tc.rules), 7);
	check_rows(tc.rules, squid_table, ARRAY_LEN(squid_table));

	/* The RFC 1122 and CGN ranges of the block. */
	treq(&t, "0.0.0.5", "GET", "example.com", 80);
	ck_assert_int_eq(acl_rules_check(tc.rules, &t.r, ACL_DENY),
	    ACL_ALLOW);
	treq(&t, "100.100.1.1", "GET", "example.com", 80);
	ck_assert_int_eq(acl_rules_check(tc.rules, &t.r, ACL_DENY),
	    ACL_ALLOW);
	tconf_free(&tc);
}
END_TEST

START_TEST(builtin_defaults_are_a_safe_proxy)
{
	struct tconf tc;

	memset(&tc, 0, sizeof tc);
	tc.c = conf_new();
	ck_assert_int_eq(conf_finish(tc.c), 0);
	tc.set = acl_set_compile(&tc.c->acl, &tc.errors);
	tc.rules = acl_rules_compile(tc.set, &tc.c->http_access,
	    "http_access", &tc.errors);
	ck_assert_int_eq(tc.errors, 0);
	ck_assert_ptr_null(strstr(log_captured(), "WARN acl"));
	check_rows(tc.rules, squid_table, ARRAY_LEN(squid_table));
	tconf_free(&tc);
}
END_TEST

/* -- values from files ----------------------------------------------------- */

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(quoted_path_values_read_a_file)
{
	static const struct row rows[] = {
#define R(client, host, path, want)					\
	{ client, "GET", host, 80, NULL, path, false, want }
		R("10.9.1.1", "www.example", "/index.html", ACL_ALLOW),
		R("10.9.1.1", "x.ads.example", "/", ACL_DENY),
		R("10.9.1.1", "tracker.example", "/", ACL_DENY),
		R("10.9.1.1", "cdn.example", "/", ACL_DENY),
		R("10.9.1.1", "a.more.example", "/", ACL_DENY),
		R("10.9.1.1", "www.example", "/x/setup.exe", ACL_DENY),
		R("10.9.1.1", "www.example", "/admin/", ACL_DENY),
		/* Before the -i line of the file: case matters. */
		R("10.9.1.1", "www.example", "/ADMIN/", ACL_ALLOW),
		R("2001:db8::7", "www.example", "/", ACL_ALLOW),
		R("10.8.1.1", "www.example", "/", ACL_DENY),
#undef R
	};
	char dir[] = "/tmp/check_acl_XXXXXX", dom[256], src[256], re[256];
	char text[2048];
	struct tconf tc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dom, sizeof dom, "%s/domains", dir);
	write_file(dom, "# blocked sites\n\n.ads.example\n"
	    "  tracker.example  \t\n"
	    "cdn.example   # a comment after the value\n"
	    "bad name!\n");
	snprintf(src, sizeof src, "%s/clients", dir);
	write_file(src, "10.9.0.0/16\r\n# office\n2001:db8::/32\n");
	snprintf(re, sizeof re, "%s/regex", dir);
	write_file(re, "^/admin\n-i\n\\.EXE$\n");
	snprintf(text, sizeof text,
	    "acl blocked dstdomain \"%s\" .more.example\n"
	    "acl office src \"%s\"\n"
	    "acl paths urlpath_regex \"%s\"\n"
	    "acl missing dstdomain \"%s/nope\"\n"
	    "http_access deny blocked\n"
	    "http_access deny paths\n"
	    "http_access allow office\n"
	    "http_access deny all\n", dom, src, re, dir);
	tconf_load(&tc, text, "http_access");
	ck_assert_int_eq(tc.errors, 2);	/* "bad name!" and the missing one */
	snprintf(text, sizeof text, "%s:6: acl: bad domain name \"bad "
	    "name!\"", dom);
	ck_assert_msg(strstr(log_captured(), text) != NULL, "no \"%s\" in:\n%s",
	    text, log_captured());
	snprintf(text, sizeof text, "t.conf:4: acl: cannot read \"%s/nope\": "
	    "No such file or directory", dir);
	ck_assert_msg(strstr(log_captured(), text) != NULL, "no \"%s\" in:\n%s",
	    text, log_captured());

	check_rows(tc.rules, rows, ARRAY_LEN(rows));
	tconf_free(&tc);

	unlink(dom);
	unlink(src);
	unlink(re);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* -- 100,000 dstdomain entries --------------------------------------------- */

#define BIG_N	100000

START_TEST(dstdomain_with_100000_entries)
{
	char path[] = "/tmp/check_acl_big_XXXXXX", text[256], host[128];
	struct tconf tc;
	struct treq t;
	unsigned i;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	/* Even: a name only; odd: a domain and its subdomains. */
	for (i = 0; i < BIG_N; i++)
		fprintf(f, "%sh%u.zone%u.example\n", i % 2 ? "." : "", i,
		    i % 997);
	/* 20 overlaps: the warnings stop at 10 and a count follows. */
	for (i = 1; i < 40; i += 2)
		fprintf(f, "www.h%u.zone%u.example\n", i, i % 997);
	fclose(f);
	snprintf(text, sizeof text, "acl big dstdomain \"%s\"\n"
	    "http_access deny big\nhttp_access allow all\n", path);
	tconf_load(&tc, text, "http_access");
	ck_assert_int_eq(tc.errors, 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "acl big: 10 more overlapping "
	    "or repeated names not shown"));
	ck_assert_uint_lt(acl_set_bytes(tc.set), 64 * BIG_N);

	treq(&t, "10.0.0.1", "GET", "x", 80);
	for (i = 0; i < BIG_N; i++) {
		t.r.host_len = (size_t)snprintf(host, sizeof host,
		    "h%u.zone%u.example", i, i % 997);
		t.r.host = host;
		ck_assert_msg(acl_rules_check(tc.rules, &t.r, ACL_ALLOW) ==
		    ACL_DENY, "%s", host);
		/* A subdomain matches the odd entries only. */
		t.r.host_len = (size_t)snprintf(host, sizeof host,
		    "a.h%u.zone%u.EXAMPLE", i, i % 997);
		ck_assert_msg(acl_rules_check(tc.rules, &t.r, ACL_ALLOW) ==
		    (i % 2 ? ACL_DENY : ACL_ALLOW), "%s", host);
		/* Another zone is another name. */
		t.r.host_len = (size_t)snprintf(host, sizeof host,
		    "h%u.zone%u.example", i, (i + 1) % 997);
		ck_assert_msg(acl_rules_check(tc.rules, &t.r, ACL_DENY) ==
		    ACL_ALLOW, "%s", host);
	}
	tconf_free(&tc);
	unlink(path);
}
END_TEST


/* fmt compiled and expanded once. */
static int
format_expand(const char *fmt, const struct acl_request *req,
    const char *data, char *out, size_t cap)
{
	struct acl_format *f;
	const char *bad;
	int n;

	f = acl_format_new(fmt, &bad);
	ck_assert_ptr_nonnull(f);
	n = acl_format_expand(f, req, data, out, cap);
	acl_format_free(&f);
	return (n);
}

/* Helper lines: Squid's codes, each value %-escaped, "-" when unknown. */
START_TEST(format_codes_escape_and_dash_unknown)
{
	struct acl_format *f;
	struct acl_request req;
	struct sockaddr_in src;
	const char *bad = NULL;
	char out[512];
	int n;

	memset(&req, 0, sizeof req);
	memset(&src, 0, sizeof src);
	src.sin_family = AF_INET;
	src.sin_port = htons(40000);
	inet_pton(AF_INET, "192.0.2.7", &src.sin_addr);
	req.src = (const struct sockaddr *)&src;
	req.host = "example.com";
	req.host_len = 11;
	req.port = 8080;
	req.method_name = "GET";
	req.method_len = 3;
	req.url = "http://example.com:8080/a b";
	req.url_len = strlen(req.url);
	req.path = "/a%b\"";
	req.path_len = strlen(req.path);
	req.proto = "HTTP";
	req.user = "al ice";
	req.user_len = 6;
	n = format_expand("%SRC %SRCPORT %LOGIN %DST %PORT %PROTO %METHOD "
	    "%PATH %MYADDR %EXT_USER %%", &req, NULL, out, sizeof out);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(out, "192.0.2.7 40000 al%20ice example.com 8080 HTTP "
	    "GET /a%25b%22 - - %");
	n = format_expand("%>a/%>A %un %>rm myip=%la x=%DATA", &req,
	    "one two", out, sizeof out);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(out, "192.0.2.7/- al%20ice GET myip=- x=one two");
	/* Literal runs around codes, "%%" in a run, a header code. */
	n = format_expand("a%%b %>rP/%%%un%%c%>{X-None}z", &req, NULL, out,
	    sizeof out);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(out, "a%b 8080/%al%20ice%c-z");
	ck_assert_int_eq(format_expand("%URI", &req, NULL, out, 10),
	    -E2BIG);
	inet_pton(AF_INET, "255.0.10.100", &src.sin_addr);
	ck_assert_int_gt(format_expand("%>a:%>p", &req, NULL, out,
	    sizeof out), 0);
	ck_assert_str_eq(out, "255.0.10.100:40000");
	f = acl_format_new("%SRC %>{Host} %{X-Y} %ru", &bad);
	ck_assert_ptr_nonnull(f);
	ck_assert(!acl_format_has(f, "DATA"));
	ck_assert(acl_format_has(f, ">{host}"));
	ck_assert(acl_format_has(f, ">ha{X-Y}"));
	ck_assert(!acl_format_has(f, ">{Via}"));
	acl_format_free(&f);
	ck_assert_ptr_null(f);
	ck_assert_ptr_null(acl_format_new("%SRC %nosuch", &bad));
	ck_assert_str_eq(bad, "%nosuch");
	f = acl_format_new("%SRC %DATA", &bad);
	ck_assert(acl_format_has(f, "DATA"));
	acl_format_free(&f);
}
END_TEST

/* A header's lines joined by ", ", however long: all of them, or the
 * line does not fit (-E2BIG), never a cut value or "-" for a long one. */
START_TEST(format_header_lines_whole)
{
	static char big[6000], out[16384];
	struct acl_request req;
	struct http_msg m;
	int n;

	memset(&req, 0, sizeof req);
	http_msg_init(&m, HTTP_MSG_REQUEST);
	req.msg = &m;
	ck_assert_int_eq(http_msg_add_field(&m, "X-Empty", 7, "", 0), 0);
	ck_assert_int_eq(http_msg_add_field(&m, "Via", 3, "", 0), 0);
	ck_assert_int_eq(http_msg_add_field(&m, "via", 3, "1.1 a", 5), 0);
	ck_assert_int_eq(http_msg_add_field(&m, "Via", 3, "1.1 b", 5), 0);
	n = format_expand("%>{Via} %>{X-Empty} %>{X-None}", &req, NULL, out,
	    sizeof out);
	ck_assert_int_gt(n, 0);
	/* No ", " before an empty first line; empty or absent: "-". */
	ck_assert_str_eq(out, "1.1%20a,%201.1%20b - -");
	memset(big, 'c', sizeof big - 1);
	ck_assert_int_eq(http_msg_add_field(&m, "Cookie", 6, big, 4094), 0);
	ck_assert_int_eq(http_msg_add_field(&m, "Cookie", 6, big, 5000), 0);
	n = format_expand("%>{Cookie}", &req, NULL, out, sizeof out);
	ck_assert_int_eq(n, 4094 + 4 + 5000);	/* ", " is ",%20" */
	ck_assert_int_eq(out[4094], ',');
	ck_assert_uint_eq(strspn(out + 4098, "c"), 5000);
	ck_assert_int_eq(format_expand("%>{Cookie}", &req, NULL, out, 9000),
	    -E2BIG);
	http_msg_fini(&m);
}
END_TEST

/* note tag|user: what an external acl's helper said for this request. */
START_TEST(note_matches_the_helpers_annotations)
{
	static const struct {
		const char	*acl;
		const char	*tag;
		const char	*user;
		bool		match;
	} cases[] = {
		{ "acl a note tag gold silver", NULL, NULL, false },
		{ "acl a note tag gold silver", "silver", NULL, true },
		{ "acl a note tag gold silver", "bronze", NULL, false },
		{ "acl a note tag", "bronze", NULL, true },
		{ "acl a note user carol", NULL, "carol", true },
		{ "acl a note user carol", "carol", "dave", false },
		{ "acl a note other x", "x", "x", false },
	};
	struct treq t;
	size_t i;
	int errors;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		treq(&t, "10.0.0.1", "GET", "example.com", 80);
		t.r.ext_tag = cases[i].tag;
		t.r.ext_user = cases[i].user;
		ck_assert_msg(a_matches(cases[i].acl, &t.r, &errors) ==
		    cases[i].match, "case %zu", i);
		ck_assert_int_eq(errors, 0);
	}
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc;

	tc = tcase_create("types");
	tcase_add_checked_fixture(tc, log_capture_start, log_capture_stop);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, src_forms_match_as_squid_documents);
	tcase_add_test(tc, src_bad_values_are_errors_with_file_line);
	tcase_add_test(tc, dst_uses_the_resolved_address_or_a_literal_host);
	tcase_add_test(tc, dstdomain_dot_means_domain_and_subdomains);
	tcase_add_test(tc, dstdomain_bad_names_and_overlaps);
	tcase_add_test(tc, srcdomain_matches_the_client_name);
	tcase_add_test(tc, regex_types_and_case_switches);
	tcase_add_test(tc, regex_bad_values);
	tcase_add_test(tc, port_myport_and_http_status_ranges);
	tcase_add_test(tc, maxconn_counts_connections_from_the_client);
	tcase_add_test(tc, method_names_and_extension_methods);
	tcase_add_test(tc, proto_names_any_case);
	tcase_add_test(tc, time_days_and_hours_in_local_time);
	tcase_add_test(tc, acl_line_errors_name_the_problem);
	tcase_add_test(tc, proxy_auth_matches_the_vouched_user);
	tcase_add_test(tc, proxy_auth_regex_matches_the_vouched_user);
	tcase_add_test(tc, denial_by_an_auth_acl_is_flagged);
	tcase_add_test(tc, max_user_ip_matches_above_the_count_and_says_so);
	tcase_add_test(tc, format_codes_escape_and_dash_unknown);
	tcase_add_test(tc, format_header_lines_whole);
	tcase_add_test(tc, note_matches_the_helpers_annotations);
	tcase_add_test(tc, builtins_exist_and_stock_redefinitions_are_harmless);
	tcase_add_test(tc, ssl_server_name_follows_the_step);
	tcase_add_test(tc, at_step_and_ssl_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, log_capture_start, log_capture_stop);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, rules_and_not_first_match_and_implicit_last);
	tcase_add_test(tc, empty_rules_answer_if_no_rules);
	tcase_add_test(tc, rule_errors_name_directive_and_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("configurations");
	tcase_add_checked_fixture(tc, log_capture_start, log_capture_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, debian_squid57_acl_block_behaves_as_squid);
	tcase_add_test(tc, builtin_defaults_are_a_safe_proxy);
	tcase_add_test(tc, quoted_path_values_read_a_file);
	tcase_add_test(tc, dstdomain_with_100000_entries);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(acl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
