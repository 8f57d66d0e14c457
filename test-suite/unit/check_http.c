/*
 * check_http.c - llhttp as cuttle builds it: the library links and parses
 * strictly.  The message layer's own tests join this file.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <llhttp.h>

#include "base/check.h"

struct seen {
	char	url[64];
	size_t	url_len;
	char	last_value[64];
	int	complete;
};

static int
on_url(llhttp_t *p, const char *at, size_t len)
{
	struct seen *s = p->data;

	if (s->url_len + len < sizeof s->url) {
		memcpy(s->url + s->url_len, at, len);
		s->url_len += len;
	}
	return (0);
}

static int
on_value(llhttp_t *p, const char *at, size_t len)
{
	struct seen *s = p->data;

	if (len >= sizeof s->last_value)
		len = sizeof s->last_value - 1;
	memcpy(s->last_value, at, len);
	s->last_value[len] = '\0';
	return (0);
}

static int
on_complete(llhttp_t *p)
{
	((struct seen *)p->data)->complete++;
	return (0);
}

static llhttp_errno_t
parse(const char *req, struct seen *s)
{
	llhttp_settings_t set;
	llhttp_t p;

	memset(s, 0, sizeof *s);
	llhttp_settings_init(&set);
	set.on_url = on_url;
	set.on_header_value = on_value;
	set.on_message_complete = on_complete;
	llhttp_init(&p, HTTP_REQUEST, &set);
	p.data = s;
	return (llhttp_execute(&p, req, strlen(req)));
}

START_TEST(llhttp_parses_an_absolute_form_request)
{
	struct seen s;

	ck_assert_int_eq(parse("GET http://example.com/a?b HTTP/1.1\r\n"
	    "Host: example.com\r\n\r\n", &s), HPE_OK);
	ck_assert_str_eq(s.url, "http://example.com/a?b");
	ck_assert_int_eq(s.complete, 1);
}
END_TEST

START_TEST(llhttp_rejects_content_length_with_transfer_encoding)
{
	struct seen s;

	ck_assert_int_ne(parse("POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n", &s), HPE_OK);
}
END_TEST

START_TEST(llhttp_rejects_bare_lf_and_bare_cr)
{
	struct seen s;

	ck_assert_int_ne(parse("GET http://e/ HTTP/1.1\nHost: e\n\n", &s),
	    HPE_OK);
	ck_assert_int_ne(parse("GET http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "X-A: 1\rB\r\n\r\n", &s), HPE_OK);
}
END_TEST

/*
 * llhttp 8 accepts obs-fold (RFC 9112 5.2) and hands the continuation
 * line to on_header_value as a value piece that starts with whitespace.
 * cuttle must reject it (no smuggling), so the message layer has to see
 * that shape: this test pins the parser behaviour it relies on.
 */
START_TEST(llhttp_passes_obs_fold_through_for_cuttle_to_reject)
{
	struct seen s;

	ck_assert_int_eq(parse("GET http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "X-A: 1\r\n  folded\r\n\r\n", &s), HPE_OK);
	ck_assert_str_eq(s.last_value, "  folded");
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("llhttp");

	tcase_add_test(tc, llhttp_parses_an_absolute_form_request);
	tcase_add_test(tc, llhttp_rejects_content_length_with_transfer_encoding);
	tcase_add_test(tc, llhttp_rejects_bare_lf_and_bare_cr);
	tcase_add_test(tc, llhttp_passes_obs_fold_through_for_cuttle_to_reject);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
