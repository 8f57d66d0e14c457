/*
 * check_errpage.c - unit tests for src/client/errpage: every page, its
 * status and headers, %-codes filled in and HTML-escaped.
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "buf/buf.h"
#include "client/errpage.h"

#define T_NOW	1700000000.0	/* Tue, 14 Nov 2023 22:13:20 GMT */

/* A rendered response, split at the blank line. */
struct page {
	unsigned	status;
	char		*text;		/* all of it, NUL-terminated */
	size_t		len;
	const char	*body;
	size_t		hdr_len;
};

static int
render(enum errpage_id id, const struct errpage_vars *v, struct page *pg)
{
	struct buf_pool *pool = buf_pool_new(0);
	struct buf_chain out;
	const char *end;
	int r;

	ck_assert_ptr_nonnull(pool);
	buf_chain_init(&out, pool);
	memset(pg, 0, sizeof *pg);
	r = errpage_render(id, v, &out, &pg->status);
	pg->len = buf_chain_len(&out);
	pg->text = malloc(pg->len + 1);
	ck_assert_ptr_nonnull(pg->text);
	ck_assert_uint_eq(buf_chain_copyout(&out, 0, pg->text, pg->len),
	    pg->len);
	pg->text[pg->len] = '\0';
	buf_chain_fini(&out);
	buf_pool_free(&pool);
	end = strstr(pg->text, "\r\n\r\n");
	if (end != NULL) {
		pg->hdr_len = (size_t)(end - pg->text) + 4;
		pg->body = end + 4;
	}
	return (r);
}

/* The value of header name (up to CRLF), or NULL. */
static char *
header(const struct page *pg, const char *name)
{
	static char val[512];
	const char *p = pg->text;
	size_t n = strlen(name), k;

	while ((p = strstr(p, "\r\n")) != NULL && p < pg->body) {
		p += 2;
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			k = strcspn(p, "\r");
			snprintf(val, sizeof val, "%.*s", (int)k, p);
			return (val);
		}
	}
	return (NULL);
}

static const struct errpage_vars base_vars = {
	.url = "http://example.com/a",
	.method = "GET",
	.proxy_name = "proxy.example",
	.cache_mgr = "admin@example.com",
	.now = T_NOW,
};

START_TEST(every_page_renders_with_its_status_headers_and_length)
{
	struct page pg;
	char want[128];
	unsigned i;

	for (i = 0; i < ERRPAGE__COUNT; i++) {
		ck_assert_int_eq(render(i, &base_vars, &pg), 0);
		ck_assert_ptr_nonnull(pg.body);
		ck_assert_uint_eq(pg.status, errpage_status(i));
		snprintf(want, sizeof want, "HTTP/1.1 %u ", pg.status);
		ck_assert_msg(strncmp(pg.text, want, strlen(want)) == 0,
		    "%s: %.40s", errpage_name(i), pg.text);
		ck_assert_str_eq(header(&pg, "Server"),
		    PACKAGE_NAME "/" PACKAGE_VERSION);
		ck_assert_str_eq(header(&pg, "Date"),
		    "Tue, 14 Nov 2023 22:13:20 GMT");
		ck_assert_str_eq(header(&pg, "Content-Type"),
		    "text/html;charset=utf-8");
		snprintf(want, sizeof want, "%s 0", errpage_name(i));
		ck_assert_str_eq(header(&pg, "X-Squid-Error"), want);
		ck_assert_str_eq(header(&pg, "Cache-Control"), "no-store");
		ck_assert_str_eq(header(&pg, "Connection"), "close");
		snprintf(want, sizeof want, "%zu", pg.len - pg.hdr_len);
		ck_assert_str_eq(header(&pg, "Content-Length"), want);
		ck_assert_ptr_nonnull(strstr(pg.body, "<!DOCTYPE html>"));
		ck_assert_ptr_nonnull(strstr(pg.body, "</html>"));
		/* Every code the templates use is known: none is left. */
		ck_assert_ptr_null(strchr(pg.body, '%'));
		snprintf(want, sizeof want, "<!-- %s -->", errpage_name(i));
		ck_assert_ptr_nonnull(strstr(pg.body, want));
		free(pg.text);
	}
}
END_TEST

START_TEST(statuses_follow_squid)
{
	ck_assert_uint_eq(errpage_status(ERRPAGE_INVALID_REQ), 400);
	ck_assert_uint_eq(errpage_status(ERRPAGE_ACCESS_DENIED), 403);
	ck_assert_uint_eq(errpage_status(ERRPAGE_DNS_FAIL), 503);
	ck_assert_uint_eq(errpage_status(ERRPAGE_CONNECT_FAIL), 503);
	ck_assert_uint_eq(errpage_status(ERRPAGE_READ_TIMEOUT), 504);
	ck_assert_uint_eq(errpage_status(ERRPAGE_ZERO_SIZE_OBJECT), 502);
	ck_assert_uint_eq(errpage_status(ERRPAGE_TOO_BIG), 413);
	ck_assert_uint_eq(errpage_status(ERRPAGE_TOO_BIG_REPLY), 502);
	ck_assert_uint_eq(errpage_status(ERRPAGE_UNSUP_REQ), 501);
	ck_assert_uint_eq(errpage_status(ERRPAGE_LIFETIME_EXP), 504);
	ck_assert_uint_eq(errpage_status(ERRPAGE_INVALID_RESP), 502);
	ck_assert_str_eq(errpage_name(ERRPAGE_URI_TOO_LONG), "ERR_TOO_BIG");
	ck_assert_str_eq(errpage_name(ERRPAGE_UNSUP_HTTP_VERSION),
	    "ERR_UNSUP_HTTPVERSION");
}
END_TEST

START_TEST(values_are_substituted_and_html_escaped)
{
	struct errpage_vars v = base_vars;
	struct page pg;

	v.url = "http://example.com/<script>alert('x')</script>&a=\"b\"";
	ck_assert_int_eq(render(ERRPAGE_ACCESS_DENIED, &v, &pg), 0);
	ck_assert_uint_eq(pg.status, 403);
	ck_assert_ptr_null(strstr(pg.body, "<script>"));
	ck_assert_ptr_nonnull(strstr(pg.body, "<code>http://example.com/"
	    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
	    "&amp;a=&quot;b&quot;</code>"));
	ck_assert_ptr_nonnull(strstr(pg.body,
	    "<a href=\"mailto:admin@example.com\">admin@example.com</a>"));
	ck_assert_ptr_nonnull(strstr(pg.body, "Generated Tue, 14 Nov 2023 "
	    "22:13:20 GMT by proxy.example (" PACKAGE_NAME "/"
	    PACKAGE_VERSION ")"));
	ck_assert_ptr_nonnull(strstr(pg.body,
	    "<body id=\"ERR_ACCESS_DENIED\">"));
	/* %l: the stylesheet from etc/errors/errorpage.css, as it is. */
	ck_assert_ptr_nonnull(strstr(pg.body, "#error {"));
	free(pg.text);
}
END_TEST

START_TEST(dns_fail_names_the_host_and_the_dns_answer)
{
	struct errpage_vars v = base_vars;
	struct page pg;

	v.url = "http://nx.example:8080/x";
	v.dns_msg = "Name Error: <nx.example> does not exist";
	ck_assert_int_eq(render(ERRPAGE_DNS_FAIL, &v, &pg), 0);
	ck_assert_uint_eq(pg.status, 503);
	ck_assert_ptr_nonnull(strstr(pg.body, "host name <q>nx.example</q>"));
	ck_assert_ptr_nonnull(strstr(pg.body,
	    "Name Error: &lt;nx.example&gt; does not exist"));
	free(pg.text);
}
END_TEST

START_TEST(connect_fail_shows_errno_and_server)
{
	struct errpage_vars v = base_vars;
	struct sockaddr_in sin;
	struct page pg;
	char want[128];

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(80);
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	v.server = (const struct sockaddr *)&sin;
	v.sys_errno = ECONNREFUSED;
	ck_assert_int_eq(render(ERRPAGE_CONNECT_FAIL, &v, &pg), 0);
	snprintf(want, sizeof want, "ERR_CONNECT_FAIL %d", ECONNREFUSED);
	ck_assert_str_eq(header(&pg, "X-Squid-Error"), want);
	ck_assert_ptr_nonnull(strstr(pg.body, "Connection to 192.0.2.7 "
	    "failed."));
	snprintf(want, sizeof want, "<i>(%d) %s</i>", ECONNREFUSED,
	    strerror(ECONNREFUSED));
	ck_assert_ptr_nonnull(strstr(pg.body, want));
	free(pg.text);
}
END_TEST

START_TEST(head_gets_the_headers_and_the_length_only)
{
	struct errpage_vars v = base_vars;
	struct page get, head;

	ck_assert_int_eq(render(ERRPAGE_READ_TIMEOUT, &v, &get), 0);
	v.head = true;
	ck_assert_int_eq(render(ERRPAGE_READ_TIMEOUT, &v, &head), 0);
	ck_assert_uint_eq(head.len, head.hdr_len);
	ck_assert_uint_eq(head.hdr_len, get.hdr_len);
	ck_assert_int_eq(memcmp(head.text, get.text, get.hdr_len), 0);
	free(get.text);
	free(head.text);
}
END_TEST

START_TEST(caller_sets_status_keep_alive_and_extra_headers)
{
	struct errpage_vars v = base_vars;
	struct page pg;
	const char *via, *conn;

	v.status = 502;
	v.keep_alive = true;
	v.extra_headers = "Via: 1.1 proxy.example (cuttle)\r\n"
	    "X-Cache: MISS from proxy.example\r\n";
	ck_assert_int_eq(render(ERRPAGE_TOO_BIG, &v, &pg), 0);
	ck_assert_uint_eq(pg.status, 502);
	ck_assert(strncmp(pg.text, "HTTP/1.1 502 Bad Gateway\r\n", 26) == 0);
	ck_assert_str_eq(header(&pg, "Connection"), "keep-alive");
	ck_assert_str_eq(header(&pg, "X-Squid-Error"), "ERR_TOO_BIG 0");
	via = strstr(pg.text, "\r\nVia: 1.1 proxy.example (cuttle)\r\n"
	    "X-Cache: MISS from proxy.example\r\n");
	conn = strstr(pg.text, "\r\nConnection:");
	ck_assert_ptr_nonnull(via);
	ck_assert(via < conn);
	free(pg.text);
}
END_TEST

START_TEST(missing_values_show_placeholders)
{
	struct errpage_vars v;
	struct page pg;

	memset(&v, 0, sizeof v);
	v.now = T_NOW;
	ck_assert_int_eq(render(ERRPAGE_DNS_FAIL, &v, &pg), 0);
	ck_assert_ptr_nonnull(strstr(pg.body, "<code>[no URL]</code>"));
	ck_assert_ptr_nonnull(strstr(pg.body, "<q>[unknown host]</q>"));
	ck_assert_ptr_nonnull(strstr(pg.body, "mailto:webmaster"));
	free(pg.text);
}
END_TEST

/* Expand a template of one's own into a C string. */
static char *
expand(const char *text, const struct errpage_vars *v)
{
	struct buf_pool *pool = buf_pool_new(0);
	struct buf_chain out;
	size_t n;
	char *s;

	buf_chain_init(&out, pool);
	ck_assert_int_eq(errpage_expand(text, strlen(text),
	    ERRPAGE_UNSUP_REQ, v, &out), 0);
	n = buf_chain_len(&out);
	s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	buf_chain_copyout(&out, 0, s, n);
	s[n] = '\0';
	buf_chain_fini(&out);
	buf_pool_free(&pool);
	return (s);
}

START_TEST(unknown_codes_are_left_as_they_are)
{
	struct errpage_vars v = base_vars;
	char *s;

	v.method = "PROPFINDxyz";
	v.method_len = 8;
	v.url = "https://example.com:8443/dav";
	v.user = "bob";
	s = expand("%Q %M %P %H %p %a %c %e %E %D 100%% %W end %", &v);
	ck_assert_str_eq(s, "%Q PROPFIND https example.com 8443 bob "
	    "ERR_UNSUP_REQ 0 [No Error] [No Error Detail] 100% %W end %");
	free(s);
}
END_TEST

START_TEST(connect_form_urls_give_host_and_port)
{
	struct errpage_vars v = base_vars;
	char *s;

	v.url = "example.com:443";
	s = expand("%H:%p %U", &v);
	ck_assert_str_eq(s, "example.com:443 example.com:443");
	free(s);
}
END_TEST

static Suite *
errpage_suite(void)
{
	Suite *s = suite_create("errpage");
	TCase *tc;

	tc = tcase_create("pages");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc,
	    every_page_renders_with_its_status_headers_and_length);
	tcase_add_test(tc, statuses_follow_squid);
	tcase_add_test(tc, head_gets_the_headers_and_the_length_only);
	tcase_add_test(tc, caller_sets_status_keep_alive_and_extra_headers);
	suite_add_tcase(s, tc);

	tc = tcase_create("codes");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, values_are_substituted_and_html_escaped);
	tcase_add_test(tc, dns_fail_names_the_host_and_the_dns_answer);
	tcase_add_test(tc, connect_fail_shows_errno_and_server);
	tcase_add_test(tc, missing_values_show_placeholders);
	tcase_add_test(tc, unknown_codes_are_left_as_they_are);
	tcase_add_test(tc, connect_form_urls_give_host_and_port);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(errpage_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
