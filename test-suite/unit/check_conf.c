/*
 * check_conf.c - unit tests for src/conf: directives, defaults, errors.
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "conf/conf.h"

/* The log of one test, to check the exact messages. */
static FILE *log_fp;

static void
setup(void)
{
	log_fp = tmpfile();
	ck_assert_ptr_nonnull(log_fp);
	log_set_file(log_fp);
	log_set_level(SEC__COUNT, LG_NOTICE);
}

static void
teardown(void)
{
	log_set_file(NULL);
	fclose(log_fp);
}

static char *
logged(void)
{
	static char buf[4096];
	size_t n;

	fflush(log_fp);
	rewind(log_fp);
	n = fread(buf, 1, sizeof buf - 1, log_fp);
	buf[n] = '\0';
	return (buf);
}

static unsigned
port_of(const struct conf_port *p)
{
	if (p->addr.ss_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)
		    (const void *)&p->addr)->sin6_port));
	return (ntohs(((const struct sockaddr_in *)
	    (const void *)&p->addr)->sin_port));
}

START_TEST(defaults_listen_on_3128_everywhere)
{
	struct conf *c = conf_new();
	const struct sockaddr_in *sin;

	ck_assert_int_eq(conf_finish(c), 0);
	ck_assert_uint_eq(c->nports, 1);
	sin = (const struct sockaddr_in *)(const void *)&c->ports[0].addr;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(port_of(&c->ports[0]), 3128);
	ck_assert_uint_eq(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	ck_assert_str_eq(c->debug_options, "ALL,3");
	ck_assert_ptr_null(c->visible_hostname);
	conf_free(&c);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(http_port_forms_and_several_lines)
{
	struct conf *c = conf_new();
	char host[INET6_ADDRSTRLEN];

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "# comment\n"
	    "http_port 127.0.0.1:8080   # trailing comment\n"
	    "\n"
	    "  http_port [::1]:8081\n"
	    "http_port :8082\n"
	    "http_port 8083\n"
	    "visible_hostname proxy.example\n"), 0);
	ck_assert_int_eq(conf_finish(c), 0);
	ck_assert_uint_eq(c->nports, 4);	/* no default added */
	ck_assert_uint_eq(port_of(&c->ports[0]), 8080);
	inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)
	    &c->ports[0].addr)->sin_addr, host, sizeof host);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(c->ports[1].addr.ss_family, AF_INET6);
	ck_assert_uint_eq(port_of(&c->ports[1]), 8081);
	ck_assert_uint_eq(port_of(&c->ports[2]), 8082);
	ck_assert_uint_eq(port_of(&c->ports[3]), 8083);
	ck_assert_str_eq(c->visible_hostname, "proxy.example");
	conf_free(&c);
}
END_TEST

START_TEST(bad_values_are_errors_with_file_line_and_syntax)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} cases[] = {
		{ "http_port 99999\n", "t.conf:1: http_port: bad port \"99999\"" },
		{ "\nhttp_port abc\n", "t.conf:2: http_port: bad port \"abc\"" },
		{ "http_port 1.2.3:80\n",
		    "t.conf:1: http_port: bad IPv4 address \"1.2.3\"" },
		{ "http_port [::1:80\n", "t.conf:1: http_port: bad address" },
		{ "http_port [zz]:80\n",
		    "t.conf:1: http_port: bad IPv6 address \"zz\"" },
		{ "http_port 0\n", "t.conf:1: http_port: bad port \"0\"" },
		{ "http_port\n", "t.conf:1: http_port: missing value" },
		{ "visible_hostname a b\n",
		    "t.conf:1: visible_hostname: expected one word" },
		{ "debug_options ALL,1 comm,x\n",
		    "t.conf:1: debug_options: bad section,level \"comm,x\"" },
	};
	struct conf *c;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		ftruncate(fileno(log_fp), 0);
		rewind(log_fp);
		c = conf_new();
		ck_assert_int_eq(conf_load_string(c, "t.conf", cases[i].text),
		    1);
		ck_assert_msg(strstr(logged(), cases[i].msg) != NULL,
		    "case %zu: want \"%s\" in:\n%s", i, cases[i].msg, logged());
		ck_assert_msg(strstr(logged(), "    expected: ") != NULL,
		    "case %zu: no syntax line", i);
		conf_free(&c);
	}
}
END_TEST

START_TEST(unknown_directive_warns_and_goes_on)
{
	struct conf *c = conf_new();

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "http_port 8080\nfrobnicate yes\nhttp_port 8081"), 0);
	ck_assert_uint_eq(c->nports, 2);
	ck_assert_ptr_nonnull(strstr(logged(),
	    "WARN conf: t.conf:2: unknown directive \"frobnicate\" ignored"));
	conf_free(&c);
}
END_TEST

START_TEST(http_port_options_warn_not_fail)
{
	struct conf *c = conf_new();

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "http_port 3129 intercept\n"), 0);
	ck_assert_uint_eq(c->nports, 1);
	ck_assert_ptr_nonnull(strstr(logged(), "\"intercept\""));
	conf_free(&c);
}
END_TEST

START_TEST(load_reads_a_file_and_reports_a_missing_one)
{
	char path[] = "/tmp/check_conf_XXXXXX";
	struct conf *c = conf_new();
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("http_port 127.0.0.1:3999\nhttp_port nope\n", f);
	fclose(f);
	ck_assert_int_eq(conf_load(c, path), 1);
	ck_assert_uint_eq(c->nports, 1);
	ck_assert_ptr_nonnull(strstr(logged(), ":2: http_port: bad port"));
	unlink(path);
	ck_assert_int_lt(conf_load(c, path), 0);
	ck_assert_ptr_nonnull(strstr(logged(), "cannot open"));
	conf_free(&c);
}
END_TEST

START_TEST(docs_list_every_directive_with_default)
{
	char buf[8192];
	FILE *f = tmpfile();
	size_t n;

	conf_print_docs(f);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "#  TAG: http_port\n"));
	ck_assert_ptr_nonnull(strstr(buf, "# http_port 3128\n"));
	ck_assert_ptr_nonnull(strstr(buf, "#  TAG: visible_hostname\n"));
	ck_assert_ptr_nonnull(strstr(buf, "#  TAG: debug_options\n"));
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("directives");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_listen_on_3128_everywhere);
	tcase_add_test(tc, http_port_forms_and_several_lines);
	tcase_add_test(tc, bad_values_are_errors_with_file_line_and_syntax);
	tcase_add_test(tc, unknown_directive_warns_and_goes_on);
	tcase_add_test(tc, http_port_options_warn_not_fail);
	tcase_add_test(tc, load_reads_a_file_and_reports_a_missing_one);
	tcase_add_test(tc, docs_list_every_directive_with_default);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
