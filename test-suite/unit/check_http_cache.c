/*
 * check_http_cache.c - the RFC 9111 rules (src/http/http_cache.c) and
 * HTTP-date parsing (src/http/http_date.c).
 *
 * Each test names the section it checks: RFC 9111 unless said otherwise,
 * RFC 9110 for dates, conditionals and ranges, RFC 5861 for the stale-*
 * extensions, Squid's documentation for refresh_pattern.  Messages are
 * written as wire text and run through the real parser, so that what is
 * tested is what the proxy will see.  Every time is a literal: the module
 * has no clock.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/check.h"
#include "conf/conf.h"
#include "http/http_cache.h"
#include "http/http_msg.h"

#define T0	INT64_C(1700000000)	/* Tue, 14 Nov 2023 22:13:20 GMT */
#define URL	"http://e.com/a/b"

/* -- fixtures: messages and rules freed after each test -------------------- */

static struct http_msg	pool[64];
static unsigned		npool;
static struct http_refresh *rps[8];
static unsigned		nrps;

static void
pool_setup(void)
{
	npool = 0;
	nrps = 0;
}

static void
pool_teardown(void)
{
	while (npool > 0)
		http_msg_fini(&pool[--npool]);
	while (nrps > 0)
		http_refresh_free(&rps[--nrps]);
}

/* text as received: a reply's framing fields describe a body unless
 * no_body (the reply to a HEAD), which the tests' replies never carry. */
static struct http_msg *
parse_msg_as(enum http_msg_kind kind, const char *text, bool no_body)
{
	struct http_parser *p = http_parser_new(kind, 65536);
	struct http_msg *m;
	enum http_parse_status st;
	size_t used;

	ck_assert_uint_lt(npool, ARRAY_LEN(pool));
	m = &pool[npool++];
	http_msg_init(m, kind);
	http_parser_start(p, m, no_body);
	st = http_parse(p, text, strlen(text), &used, NULL, NULL);
	ck_assert_msg(st == HTTP_PARSE_HEADERS || st == HTTP_PARSE_DONE,
	    "does not parse: %s", text);
	http_parser_free(&p);
	return (m);
}

static struct http_msg *
parse_msg(enum http_msg_kind kind, const char *text)
{
	return (parse_msg_as(kind, text, true));
}

/* A request for URL with the given header lines ("A: b\r\n" each). */
static struct http_msg *
req_of(const char *method, const char *hdrs)
{
	char text[2048];

	snprintf(text, sizeof text, "%s " URL " HTTP/1.1\r\nHost: e.com\r\n"
	    "%s\r\n", method, hdrs);
	return (parse_msg(HTTP_MSG_REQUEST, text));
}

static struct http_msg *
rep_of(unsigned status, const char *hdrs)
{
	char text[2048];

	snprintf(text, sizeof text, "HTTP/1.1 %u Whatever\r\n%s\r\n", status,
	    hdrs);
	return (parse_msg(HTTP_MSG_RESPONSE, text));
}

/* An IMF-fixdate, as the tests write them into messages. */
static const char *
date_str(int64_t t, char *buf, size_t len)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec"
	};
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	return (buf);
}

/* conf_lines from text: one line per '\n', words split on blanks. */
static struct conf_lines *
lines_of(const char *text)
{
	struct conf_lines *ls = calloc(1, sizeof *ls);
	char *copy = strdup(text), *line, *save, *w, *wsave;
	struct conf_line *l;

	AN(ls);
	AN(copy);
	ls->v = calloc(16, sizeof *ls->v);
	AN(ls->v);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_uint_lt(ls->n, 16);
		l = &ls->v[ls->n++];
		l->file = "test.conf";
		l->line = (unsigned)ls->n + 6;
		l->argv = calloc(16, sizeof *l->argv);
		AN(l->argv);
		for (w = strtok_r(line, " \t", &wsave); w != NULL;
		    w = strtok_r(NULL, " \t", &wsave)) {
			ck_assert_uint_lt(l->argc, 15);
			l->argv[l->argc++] = strdup(w);
		}
	}
	free(copy);
	return (ls);
}

static void
lines_free(struct conf_lines *ls)
{
	size_t i;
	unsigned j;

	for (i = 0; i < ls->n; i++) {
		for (j = 0; j < ls->v[i].argc; j++)
			free(ls->v[i].argv[j]);
		free(ls->v[i].argv);
	}
	free(ls->v);
	free(ls);
}

static struct http_refresh *
rp_of(const char *text)
{
	struct conf_lines *ls = lines_of(text);
	char err[512];
	struct http_refresh *rp = http_refresh_new(ls, err, sizeof err);

	ck_assert_msg(rp != NULL, "%s: %s", text, err);
	lines_free(ls);
	ck_assert_uint_lt(nrps, ARRAY_LEN(rps));
	rps[nrps++] = rp;
	return (rp);
}

static struct http_cc
cc_of(const struct http_msg *m)
{
	struct http_cc cc;

	http_cc_parse(m, &cc);
	return (cc);
}

/* The meta of a reply with hdrs, received at T0 for a request sent at T0,
 * and the refresh rules rp (may be NULL). */
static struct http_cache_meta
meta_of(unsigned status, const char *hdrs, const struct http_refresh *rp,
    const char *url)
{
	struct http_msg *rep = rep_of(status, hdrs);
	struct http_cc cc = cc_of(rep);
	struct http_cache_meta m;

	http_cache_meta_init(&m, rep, &cc, rp, url, strlen(url), T0, T0);
	return (m);
}

/* -- dates (RFC 9110 5.6.7) ------------------------------------------------ */

static time_t
pdate(const char *s)
{
	return (http_date_parse(s, strlen(s)));
}

START_TEST(date_three_forms_read_the_same_instant)
{
	/* RFC 9110 5.6.7's own example, in each form a recipient must
	 * accept. */
	ck_assert_int_eq(pdate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
	ck_assert_int_eq(pdate("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
	ck_assert_int_eq(pdate("Sun Nov  6 08:49:37 1994"), 784111777);
	ck_assert_int_eq(pdate("Sun Nov 06 08:49:37 1994"), 784111777);
}
END_TEST

START_TEST(date_leap_years_and_edges)
{
	/* Gregorian leap years: 2000 and 2024 are, 1900 and 2023 not. */
	ck_assert_int_eq(pdate("Thu, 29 Feb 2024 00:00:00 GMT"), 1709164800);
	ck_assert_int_eq(pdate("Tue, 29 Feb 2000 12:00:00 GMT"), 951825600);
	ck_assert_int_eq(pdate("Wed, 29 Feb 2023 00:00:00 GMT"), -1);
	ck_assert_int_eq(pdate("Thu, 29 Feb 1900 00:00:00 GMT"), -1);
	ck_assert_int_eq(pdate("Thu, 31 Apr 2024 00:00:00 GMT"), -1);
	ck_assert_int_eq(pdate("Thu, 00 Jan 2024 00:00:00 GMT"), -1);
	ck_assert_int_eq(pdate("Fri, 31 Dec 1999 23:59:59 GMT"), 946684799);
	ck_assert_int_eq(pdate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
	/* Before the epoch: "long ago", never the -1 of an error. */
	ck_assert_int_eq(pdate("Wed, 31 Dec 1969 23:59:59 GMT"), 0);
	/* second = 2DIGIT up to 60, a leap second: the next minute. */
	ck_assert_int_eq(pdate("Sat, 31 Dec 2016 23:59:60 GMT"), 1483228800);
	ck_assert_int_eq(pdate("Tue, 19 Jan 2038 03:14:08 GMT"),
	    (time_t)INT64_C(2147483648));
	ck_assert_int_eq(pdate("Fri, 31 Dec 9999 23:59:59 GMT"),
	    (time_t)INT64_C(253402300799));
	/* Two-digit years (5.6.7): 70-99 last century, 00-69 this one. */
	ck_assert_int_eq(pdate("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
	ck_assert_int_eq(pdate("Saturday, 01-Jan-00 00:00:00 GMT"), 946684800);
	ck_assert_int_eq(pdate("Wednesday, 31-Dec-69 00:00:00 GMT"),
	    (time_t)INT64_C(3155673600));
}
END_TEST

START_TEST(date_names_in_any_case_for_a_cache)
{
	/* RFC 9110 5.6.7 makes HTTP-date case-sensitive, and RFC 9111 4.2
	 * relaxes that for caches: "a cache recipient SHOULD match the
	 * field value case-insensitively".  Weekday, month and zone, in
	 * each of the three forms. */
	ck_assert_int_eq(pdate("THU, 01 JAN 2099 00:00:00 gmt"),
	    (time_t)INT64_C(4070908800));
	ck_assert_int_eq(pdate("SUN, 06 Nov 1994 08:49:37 GMT"), 784111777);
	ck_assert_int_eq(pdate("sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
	ck_assert_int_eq(pdate("Sun, 06 NOV 1994 08:49:37 GMT"), 784111777);
	ck_assert_int_eq(pdate("Sun, 06 nov 1994 08:49:37 GMT"), 784111777);
	ck_assert_int_eq(pdate("Sun, 06 Nov 1994 08:49:37 gMT"), 784111777);
	ck_assert_int_eq(pdate("SUNDAY, 06-NOV-94 08:49:37 gmt"), 784111777);
	ck_assert_int_eq(pdate("sunday, 06-nov-94 08:49:37 Gmt"), 784111777);
	ck_assert_int_eq(pdate("SUN NOV  6 08:49:37 1994"), 784111777);
	ck_assert_int_eq(pdate("sun nov 06 08:49:37 1994"), 784111777);
}
END_TEST

START_TEST(date_garbage_is_minus_one)
{
	static const char *const bad[] = {
		"", "0", "-1", "1700000000", "2023-11-14T22:13:20Z",
		"Sun, 06 Nov 1994 08:49:37 UTC",	/* GMT only */
		"Sun, 06 Nov 1994 08:49:37 utc",
		"Sun, 06 Nov 1994 08:49:37 GMX",
		"Xyz, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nox 1994 08:49:37 GMT",
		"SUNDAE, 06-NOV-94 08:49:37 GMT",
		"Sun, 6 Nov 1994 08:49:37 GMT",		/* 2DIGIT day */
		"Sun, 06 Nov 94 08:49:37 GMT",
		"Sun, 06 Nov 1994 8:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:00 GMT",
		"Sun, 06 Nov 1994 08:49:61 GMT",
		"Sun, 06 Nov 1994 08.49.37 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT ",	/* trailing junk */
		" Sun, 06 Nov 1994 08:49:37 GMT",
		"Sun,  06 Nov 1994 08:49:37 GMT",
		"Sun, 06-Nov-1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 UTC",
		"Sundae, 06-Nov-94 08:49:37 GMT",
		"Sun, 06-Nov-94 08:49:37 GMT",
		"Sunday, 06 Nov 94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 94",
		"Sun Nov   6 08:49:37 1994",
		"Sun Nov  6 08:49:37 1994 GMT",
		"Sun Nov 6 08:49:37 1994",
		"Sun, 06 Nov 1994 08:49:3a GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT\r",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++)
		ck_assert_msg(pdate(bad[i]) == -1, "\"%s\" parsed", bad[i]);
	ck_assert_int_eq(http_date_parse(NULL, 0), -1);
	/* A counted string: bytes after len are not looked at. */
	ck_assert_int_eq(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMTxx",
	    29), 784111777);
}
END_TEST

/* -- Cache-Control (5.2) --------------------------------------------------- */

START_TEST(cc_directives_and_arguments)
{
	struct http_cc cc = cc_of(rep_of(200, "Cache-Control: public, "
	    "max-age=60, s-maxage=30, must-revalidate, proxy-revalidate, "
	    "no-transform, immutable, stale-while-revalidate=5, "
	    "stale-if-error=7, must-understand\r\n"));

	ck_assert_uint_eq(cc.flags, HCC_PUBLIC | HCC_MUST_REVALIDATE |
	    HCC_PROXY_REVALIDATE | HCC_NO_TRANSFORM | HCC_IMMUTABLE |
	    HCC_MUST_UNDERSTAND);
	ck_assert_int_eq(cc.max_age, 60);
	ck_assert_int_eq(cc.s_maxage, 30);
	ck_assert_int_eq(cc.stale_while_revalidate, 5);
	ck_assert_int_eq(cc.stale_if_error, 7);
	ck_assert_int_eq(cc.max_stale, -1);
	ck_assert_int_eq(cc.min_fresh, -1);

	/* 5.2.1: the request directives. */
	cc = cc_of(req_of("GET", "Cache-Control: no-cache, no-store, "
	    "max-age=0, min-fresh=20, max-stale=30, only-if-cached\r\n"));
	ck_assert_uint_eq(cc.flags, HCC_NO_CACHE | HCC_NO_STORE |
	    HCC_ONLY_IF_CACHED);
	ck_assert_int_eq(cc.max_age, 0);
	ck_assert_int_eq(cc.min_fresh, 20);
	ck_assert_int_eq(cc.max_stale, 30);

	/* 5.2: directive names are case-insensitive; no header: all -1. */
	cc = cc_of(rep_of(200, "Cache-Control: MAX-AGE=5, No-Store\r\n"));
	ck_assert_uint_eq(cc.flags, HCC_NO_STORE);
	ck_assert_int_eq(cc.max_age, 5);
	cc = cc_of(rep_of(200, ""));
	ck_assert_uint_eq(cc.flags, 0);
	ck_assert_int_eq(cc.max_age, -1);
	ck_assert_int_eq(cc.s_maxage, -1);
	ck_assert_int_eq(cc.stale_while_revalidate, -1);
	ck_assert_int_eq(cc.stale_if_error, -1);
}
END_TEST

START_TEST(cc_quoted_values)
{
	struct http_cc cc;

	/* 5.2: a token argument sent quoted is taken all the same. */
	cc = cc_of(rep_of(200, "Cache-Control: max-age=\"60\"\r\n"));
	ck_assert_int_eq(cc.max_age, 60);
	/* A comma inside the quotes does not end the directive; what
	 * looks like a directive in there is not one. */
	cc = cc_of(rep_of(200, "Cache-Control: no-cache=\"Set-Cookie, "
	    "max-age=5\", s-maxage=7\r\n"));
	ck_assert_uint_eq(cc.flags, HCC_NO_CACHE_FIELDS);
	ck_assert_int_eq(cc.max_age, -1);
	ck_assert_int_eq(cc.s_maxage, 7);
	/* Escapes inside a quoted-string (RFC 9110 5.6.4). */
	cc = cc_of(rep_of(200, "Cache-Control: private=\"a\\\"b, c\", "
	    "max-age=9\r\n"));
	ck_assert_uint_eq(cc.flags, HCC_PRIVATE_FIELDS);
	ck_assert_int_eq(cc.max_age, 9);
	/* An unterminated quote swallows the rest of the line. */
	cc = cc_of(rep_of(200, "Cache-Control: max-age=5, "
	    "no-cache=\"x, no-store\r\n"));
	ck_assert_int_eq(cc.max_age, 5);
	ck_assert_uint_eq(cc.flags, 0);
}
END_TEST

START_TEST(cc_bad_delta_seconds_are_ignored)
{
	static const char *const bad[] = {
		"max-age=abc", "max-age=", "max-age=-1", "max-age=+5",
		"max-age=1.5", "max-age", "max-age =60", "max-age= 60",
		"max-age=60 s", "max-age=\"6 0\"", "max-age=0x10",
	};
	char hdr[128];
	struct http_cc cc;
	size_t i;

	/* 1.2.2: delta-seconds = 1*DIGIT; anything else leaves the
	 * directive out (-1), and the rest of the line still counts. */
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(hdr, sizeof hdr, "Cache-Control: %s, public\r\n",
		    bad[i]);
		cc = cc_of(rep_of(200, hdr));
		ck_assert_msg(cc.max_age == -1, "%s: %lld", bad[i],
		    (long long)cc.max_age);
		ck_assert_uint_eq(cc.flags, HCC_PUBLIC);
	}
	/* 1.2.2: too large to represent is 2^31. */
	cc = cc_of(rep_of(200, "Cache-Control: max-age=99999999999999999999"
	    "9999\r\n"));
	ck_assert_int_eq(cc.max_age, INT64_C(2147483648));
	cc = cc_of(rep_of(200, "Cache-Control: max-age=2147483647\r\n"));
	ck_assert_int_eq(cc.max_age, 2147483647);
	cc = cc_of(rep_of(200, "Cache-Control: max-age=007\r\n"));
	ck_assert_int_eq(cc.max_age, 7);
}
END_TEST

START_TEST(cc_duplicates_keep_the_most_restrictive)
{
	struct http_cc cc;

	/* 4.2.1: conflicting directives, the most restrictive wins, also
	 * across lines (RFC 9110 5.3 combines them). */
	cc = cc_of(rep_of(200, "Cache-Control: max-age=60\r\n"
	    "Cache-Control: max-age=30, s-maxage=50, s-maxage=80\r\n"
	    "Cache-Control: stale-while-revalidate=9, "
	    "stale-while-revalidate=3\r\n"));
	ck_assert_int_eq(cc.max_age, 30);
	ck_assert_int_eq(cc.s_maxage, 50);
	ck_assert_int_eq(cc.stale_while_revalidate, 3);
	/* A bad duplicate does not undo a good one. */
	cc = cc_of(rep_of(200, "Cache-Control: max-age=60, max-age=x\r\n"));
	ck_assert_int_eq(cc.max_age, 60);
	/* Request: min-fresh the greatest, max-stale the least; a bare
	 * max-stale (any staleness) yields to a bounded one. */
	cc = cc_of(req_of("GET", "Cache-Control: min-fresh=5, min-fresh=9, "
	    "max-stale, max-stale=10, max-stale=20\r\n"));
	ck_assert_int_eq(cc.min_fresh, 9);
	ck_assert_int_eq(cc.max_stale, 10);
	ck_assert_uint_eq(cc.flags, HCC_MAX_STALE_ANY);
	/* public and private together: both kept, storing refuses. */
	cc = cc_of(rep_of(200, "Cache-Control: public, private\r\n"));
	ck_assert_uint_eq(cc.flags, HCC_PUBLIC | HCC_PRIVATE);
}
END_TEST

START_TEST(cc_qualified_no_cache_and_private)
{
	struct http_cc cc;

	/* 5.2.2.4 and 5.2.2.7: the forms with field names are told apart
	 * from the bare ones. */
	cc = cc_of(rep_of(200, "Cache-Control: no-cache=\"Set-Cookie\", "
	    "private=\"X-A, X-B\"\r\n"));
	ck_assert_uint_eq(cc.flags, HCC_NO_CACHE_FIELDS | HCC_PRIVATE_FIELDS);
	cc = cc_of(rep_of(200, "Cache-Control: no-cache, private\r\n"));
	ck_assert_uint_eq(cc.flags, HCC_NO_CACHE | HCC_PRIVATE);
	/* The token form is accepted too (5.2). */
	cc = cc_of(rep_of(200, "Cache-Control: no-cache=Set-Cookie\r\n"));
	ck_assert_uint_eq(cc.flags, HCC_NO_CACHE_FIELDS);
}
END_TEST

START_TEST(cc_qualified_field_names)
{
	struct http_msg *m;

	/* 5.2.2.4, 5.2.2.7: "#field-name" lists; names compared
	 * case-insensitively, in the quoted or the token form, over every
	 * Cache-Control line. */
	m = rep_of(200, "Cache-Control: max-age=5, no-cache=\"Set-Cookie, "
	    "X-Token\"\r\nCache-Control: private=\" x-a ,,X-B\", "
	    "private=Y-Tok\r\n");
	ck_assert(http_cc_names_field(m, HCC_NO_CACHE_FIELDS, "set-cookie",
	    10));
	ck_assert(http_cc_names_field(m, HCC_NO_CACHE_FIELDS, "SET-COOKIE",
	    10));
	ck_assert(http_cc_names_field(m, HCC_NO_CACHE_FIELDS, "x-token", 7));
	ck_assert(!http_cc_names_field(m, HCC_NO_CACHE_FIELDS, "x-a", 3));
	ck_assert(http_cc_names_field(m, HCC_PRIVATE_FIELDS, "X-A", 3));
	ck_assert(http_cc_names_field(m, HCC_PRIVATE_FIELDS, "x-b", 3));
	ck_assert(http_cc_names_field(m, HCC_PRIVATE_FIELDS, "y-tok", 5));
	ck_assert(!http_cc_names_field(m, HCC_PRIVATE_FIELDS, "Set-Cookie",
	    10));
	/* Whole names only: no prefix, no suffix, nothing empty. */
	ck_assert(!http_cc_names_field(m, HCC_NO_CACHE_FIELDS, "Set", 3));
	ck_assert(!http_cc_names_field(m, HCC_NO_CACHE_FIELDS,
	    "Set-Cookie2", 11));
	ck_assert(!http_cc_names_field(m, HCC_PRIVATE_FIELDS, "", 0));
	/* The bare forms, extensions, and lookalikes in other values name
	 * nothing. */
	m = rep_of(200, "Cache-Control: no-cache, private, "
	    "x-no-cache=\"Set-Cookie\", ext=\"private=Set-Cookie\"\r\n");
	ck_assert(!http_cc_names_field(m, HCC_NO_CACHE_FIELDS, "Set-Cookie",
	    10));
	ck_assert(!http_cc_names_field(m, HCC_PRIVATE_FIELDS, "Set-Cookie",
	    10));
	/* A malformed member (unterminated quote) counts for nothing. */
	m = rep_of(200, "Cache-Control: private=\"Set-Cookie\r\n");
	ck_assert(!http_cc_names_field(m, HCC_PRIVATE_FIELDS, "Set-Cookie",
	    10));
	m = rep_of(200, "Set-Cookie: a=b\r\n");
	ck_assert(!http_cc_names_field(m, HCC_PRIVATE_FIELDS, "Set-Cookie",
	    10));
}
END_TEST

START_TEST(cc_pragma_only_in_requests_without_cache_control)
{
	/* 5.4: Pragma: no-cache is no-cache in a request without
	 * Cache-Control ... */
	ck_assert_uint_eq(cc_of(req_of("GET", "Pragma: no-cache\r\n")).flags,
	    HCC_NO_CACHE);
	ck_assert_uint_eq(cc_of(req_of("GET", "Pragma: foo, No-Cache\r\n"))
	    .flags, HCC_NO_CACHE);
	/* ... ignored when Cache-Control is there ... */
	ck_assert_uint_eq(cc_of(req_of("GET", "Pragma: no-cache\r\n"
	    "Cache-Control: max-age=5\r\n")).flags, 0);
	/* ... and means nothing in a reply. */
	ck_assert_uint_eq(cc_of(rep_of(200, "Pragma: no-cache\r\n")).flags, 0);
	ck_assert_uint_eq(cc_of(req_of("GET", "Pragma: no-cache=x\r\n"))
	    .flags, 0);
}
END_TEST

START_TEST(cc_extensions_and_junk_are_skipped)
{
	struct http_cc cc;

	/* 5.2.3: unknown directives are ignored. */
	cc = cc_of(rep_of(200, "Cache-Control: community=\"UCI\", foo, "
	    "bar=baz, max-age=5\r\n"));
	ck_assert_int_eq(cc.max_age, 5);
	ck_assert_uint_eq(cc.flags, 0);
	/* A malformed member is dropped up to the next comma. */
	cc = cc_of(rep_of(200, "Cache-Control: max-age=5 junk, public, "
	    "=7, ,, no-store\r\n"));
	ck_assert_int_eq(cc.max_age, -1);
	ck_assert_uint_eq(cc.flags, HCC_PUBLIC | HCC_NO_STORE);
	cc = cc_of(rep_of(200, "Cache-Control: \r\n"));
	ck_assert_uint_eq(cc.flags, 0);
}
END_TEST

/* -- refresh_pattern (Squid's syntax) -------------------------------------- */

START_TEST(refresh_compiles_the_squid_defaults)
{
	/* The rows of the refresh_pattern default in directives.def. */
	struct http_refresh *rp = rp_of("^ftp:\t\t1440\t20%\t10080\n"
	    "^gopher:\t1440\t0%\t1440\n"
	    "-i (/cgi-bin/|\\?) 0\t0%\t0\n"
	    ".\t\t0\t20%\t4320");
	struct conf_lines none = { NULL, 0 };
	char err[64];

	AN(rp);
	/* No lines: no rules, not an error. */
	rp = http_refresh_new(&none, err, sizeof err);
	ck_assert_ptr_nonnull(rp);
	http_refresh_free(&rp);
	ck_assert_ptr_null(rp);
	http_refresh_free(&rp);
	/* Percent with or without its sign, as Squid takes it; every
	 * option. */
	rp_of(". 1 20 2 override-expire override-lastmod ignore-reload "
	    "ignore-no-store ignore-private reload-into-ims refresh-ims "
	    "max-stale=60\n+i x 0 0% 0");
}
END_TEST

START_TEST(refresh_errors_name_the_line_and_the_form)
{
	static const struct {
		const char	*line;
		const char	*want;
	} cases[] = {
		{ ". 0 20%", "test.conf:7: refresh_pattern: 3 values given, "
		  "regex min percent max needed; expected: refresh_pattern "
		  "[-i] regex min percent max [options]" },
		{ "-i", "test.conf:7: refresh_pattern: 0 values given" },
		{ ". x 20% 10", "test.conf:7: refresh_pattern: bad min \"x\" "
		  "(whole minutes); expected: refresh_pattern [-i] regex min "
		  "percent max [options]" },
		{ ". -1 20% 10", "bad min \"-1\"" },
		{ ". 0 20x 10", "bad percent \"20x\"" },
		{ ". 0 %% 10", "bad percent \"%%\"" },
		{ ". 0 20% 1.5", "bad max \"1.5\"" },
		{ ". 0 20% 99999999999", "bad max \"99999999999\"" },
		{ ". 0 20% 10 ignore-auth", "test.conf:7: refresh_pattern: "
		  "unknown option \"ignore-auth\"; expected: options among "
		  "override-expire, override-lastmod, ignore-reload, "
		  "ignore-no-store, ignore-private, reload-into-ims, "
		  "refresh-ims, max-stale=seconds" },
		{ ". 0 20% 10 max-stale=", "bad max-stale \"\"; expected: "
		  "max-stale=seconds" },
		{ ". 0 20% 10 max-stale=1h", "bad max-stale \"1h\"" },
		{ "( 0 20% 10", "test.conf:7: refresh_pattern: bad regex "
		  "\"(\": " },
	};
	struct conf_lines *ls;
	struct http_refresh *rp;
	char err[512];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		ls = lines_of(cases[i].line);
		rp = http_refresh_new(ls, err, sizeof err);
		ck_assert_msg(rp == NULL, "%s accepted", cases[i].line);
		ck_assert_msg(strstr(err, cases[i].want) != NULL,
		    "%s: got \"%s\"", cases[i].line, err);
		lines_free(ls);
	}
	/* The second line is the bad one: its number is given. */
	ls = lines_of(". 0 20% 10\n. 0 20% y");
	ck_assert_ptr_null(http_refresh_new(ls, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "test.conf:8: "));
	lines_free(ls);
}
END_TEST

/* -- storing (3) ----------------------------------------------------------- */

struct storable_case {
	const char	*name;
	const char	*method;
	const char	*reqh;
	unsigned	status;
	const char	*reph;
	const char	*refresh;	/* rules, or NULL */
	const char	*why;		/* NULL: storable */
};

static const struct storable_case storable_cases[] = {
	/* 3: the method must be cacheable and understood: GET only. */
	{ "plain GET 200", "GET", "", 200, "", NULL, NULL },
	{ "POST with max-age", "POST", "Content-Length: 0\r\n", 200,
	  "Cache-Control: max-age=60\r\n", NULL, "method is not GET" },
	{ "HEAD", "HEAD", "", 200, "Cache-Control: max-age=60\r\n", NULL,
	  "method is not GET" },
	/* RFC 9110 15.1: heuristically cacheable codes need nothing. */
	{ "203", "GET", "", 203, "", NULL, NULL },
	{ "204", "GET", "", 204, "", NULL, NULL },
	{ "300", "GET", "", 300, "", NULL, NULL },
	{ "301", "GET", "", 301, "", NULL, NULL },
	{ "308", "GET", "", 308, "", NULL, NULL },
	{ "404", "GET", "", 404, "", NULL, NULL },
	{ "405", "GET", "", 405, "", NULL, NULL },
	{ "410", "GET", "", 410, "", NULL, NULL },
	{ "414", "GET", "", 414, "", NULL, NULL },
	{ "501", "GET", "", 501, "", NULL, NULL },
	/* Other codes only with explicit freshness or public. */
	{ "302 bare", "GET", "", 302, "", NULL, "status not cacheable" },
	{ "307 bare", "GET", "", 307, "", NULL, "status not cacheable" },
	{ "403 bare", "GET", "", 403, "", NULL, "status not cacheable" },
	{ "500 bare", "GET", "", 500, "", NULL, "status not cacheable" },
	{ "503 bare", "GET", "", 503, "", NULL, "status not cacheable" },
	{ "302 max-age", "GET", "", 302, "Cache-Control: max-age=60\r\n",
	  NULL, NULL },
	{ "302 s-maxage", "GET", "", 302, "Cache-Control: s-maxage=60\r\n",
	  NULL, NULL },
	{ "302 Expires", "GET", "", 302,
	  "Expires: Thu, 01 Jan 2099 00:00:00 GMT\r\n", NULL, NULL },
	{ "302 invalid Expires (stored stale)", "GET", "", 302,
	  "Expires: 0\r\n", NULL, NULL },
	{ "302 public", "GET", "", 302, "Cache-Control: public\r\n", NULL,
	  NULL },
	{ "an unknown final code with max-age", "GET", "", 599,
	  "Cache-Control: max-age=60\r\n", NULL, NULL },
	/* Never a partial reply or a 304 (4.3.4 updates, not stores). */
	{ "206", "GET", "Range: bytes=0-1\r\n", 206,
	  "Content-Range: bytes 0-1/10\r\nCache-Control: max-age=60\r\n",
	  NULL, "partial content" },
	{ "304", "GET", "", 304, "Cache-Control: max-age=60\r\n", NULL,
	  "304" },
	/* 5.2.1.5, 5.2.2.5: no-store either way. */
	{ "no-store in reply", "GET", "", 200, "Cache-Control: no-store\r\n",
	  NULL, "no-store in reply" },
	{ "no-store in request", "GET", "Cache-Control: no-store\r\n", 200,
	  "Cache-Control: max-age=60\r\n", NULL, "no-store in request" },
	{ "ignore-no-store", "GET", "", 200, "Cache-Control: no-store\r\n",
	  ". 0 20% 10 ignore-no-store", NULL },
	{ "ignore-no-store leaves the request's", "GET",
	  "Cache-Control: no-store\r\n", 200, "", ". 0 20% 10 ignore-no-store",
	  "no-store in request" },
	{ "ignore-no-store of a rule that does not match", "GET", "", 200,
	  "Cache-Control: no-store\r\n", "^ftp: 0 20% 10 ignore-no-store",
	  "no-store in reply" },
	/* 5.2.2.3: must-understand with a known code overrides no-store;
	 * with an unknown code nothing is stored. */
	{ "must-understand, known code", "GET", "", 200,
	  "Cache-Control: must-understand, no-store\r\n", NULL, NULL },
	{ "must-understand, unknown code", "GET", "", 299,
	  "Cache-Control: must-understand, no-store, max-age=9\r\n", NULL,
	  "must-understand" },
	/* 5.2.2.7: private; the qualified form keeps only the fields it
	 * names out (the caller strips them), a list naming no field and
	 * both forms together are unqualified. */
	{ "private", "GET", "", 200, "Cache-Control: private\r\n", NULL,
	  "private" },
	{ "private=field", "GET", "", 200,
	  "Cache-Control: private=\"Set-Cookie\", max-age=60\r\n", NULL,
	  NULL },
	{ "private=\"\"", "GET", "", 200,
	  "Cache-Control: private=\"\", max-age=60\r\n", NULL, "private" },
	{ "private=field and private", "GET", "", 200,
	  "Cache-Control: private=\"Set-Cookie\", max-age=60\r\n"
	  "Cache-Control: private\r\n", NULL, "private" },
	/* 7.3: Set-Cookie does not inhibit caching. */
	{ "Set-Cookie", "GET", "", 200,
	  "Cache-Control: max-age=60\r\nSet-Cookie: a=b\r\n", NULL, NULL },
	{ "ignore-private", "GET", "", 200, "Cache-Control: private\r\n",
	  ". 0 20% 10 ignore-private", NULL },
	/* 3.5: Authorization needs public, must-revalidate or s-maxage. */
	{ "Authorization alone", "GET", "Authorization: Basic eDp5\r\n", 200,
	  "Cache-Control: max-age=60\r\n", NULL, "Authorization" },
	{ "Authorization, public", "GET", "Authorization: Basic eDp5\r\n",
	  200, "Cache-Control: public\r\n", NULL, NULL },
	{ "Authorization, must-revalidate", "GET",
	  "Authorization: Basic eDp5\r\n", 200,
	  "Cache-Control: must-revalidate, max-age=5\r\n", NULL, NULL },
	{ "Authorization, s-maxage", "GET", "Authorization: Basic eDp5\r\n",
	  200, "Cache-Control: s-maxage=5\r\n", NULL, NULL },
	/* 4.1: Vary: * always fails to match: not worth storing. */
	{ "Vary: *", "GET", "", 200, "Vary: *\r\n", NULL, "Vary: *" },
	{ "Vary: a, *", "GET", "", 200, "Vary: Accept\r\nVary: User-Agent, *"
	  "\r\n", NULL, "Vary: *" },
	{ "Vary: Accept", "GET", "", 200, "Vary: Accept\r\n", NULL, NULL },
	/* no-cache does not stop storing (5.2.2.4). */
	{ "no-cache reply", "GET", "", 200, "Cache-Control: no-cache\r\n",
	  NULL, NULL },
	{ "no-cache request", "GET", "Cache-Control: no-cache\r\n", 200, "",
	  NULL, NULL },
};

START_TEST(storable_follows_section_3)
{
	const struct storable_case *c = &storable_cases[_i];
	struct http_msg *req = req_of(c->method, c->reqh);
	struct http_msg *rep = rep_of(c->status, c->reph);
	struct http_cc reqcc = cc_of(req), repcc = cc_of(rep);
	const struct http_refresh *rp = c->refresh ? rp_of(c->refresh) : NULL;
	const char *why;

	why = http_cache_storable(req, &reqcc, rep, &repcc, rp, URL,
	    strlen(URL));
	if (c->why == NULL)
		ck_assert_msg(why == NULL, "%s: not stored: %s", c->name, why);
	else
		ck_assert_msg(why != NULL && strstr(why, c->why) != NULL,
		    "%s: got \"%s\"", c->name, why ? why : "(storable)");
}
END_TEST

/* -- freshness lifetime (4.2.1, 4.2.2) ------------------------------------- */

START_TEST(lifetime_s_maxage_then_max_age_then_expires)
{
	char d[40], e[40], h[256];
	struct http_cache_meta m;

	/* 4.2.1: s-maxage (shared cache) first, then max-age, then
	 * Expires minus Date. */
	snprintf(h, sizeof h, "Date: %s\r\nExpires: %s\r\n"
	    "Cache-Control: max-age=20, s-maxage=10\r\n",
	    date_str(T0, d, sizeof d), date_str(T0 + 30, e, sizeof e));
	ck_assert_int_eq(meta_of(200, h, NULL, URL).lifetime, 10);
	snprintf(h, sizeof h, "Date: %s\r\nExpires: %s\r\n"
	    "Cache-Control: max-age=20\r\n", d, e);
	ck_assert_int_eq(meta_of(200, h, NULL, URL).lifetime, 20);
	snprintf(h, sizeof h, "Date: %s\r\nExpires: %s\r\n", d, e);
	m = meta_of(200, h, NULL, URL);
	ck_assert_int_eq(m.lifetime, 30);
	ck_assert_uint_eq(m.flags & HCM_HEURISTIC, 0);
	/* Expires - Date with no Date: the time the reply came (4.2.1). */
	snprintf(h, sizeof h, "Expires: %s\r\n", e);
	ck_assert_int_eq(meta_of(200, h, NULL, URL).lifetime, 30);
	/* Date late by the origin's clock: the lifetime is still what the
	 * origin meant, Expires - Date. */
	snprintf(h, sizeof h, "Date: %s\r\nExpires: %s\r\n",
	    date_str(T0 - 1000, d, sizeof d), e);
	ck_assert_int_eq(meta_of(200, h, NULL, URL).lifetime, 1030);
	/* An Expires before Date: already stale. */
	snprintf(h, sizeof h, "Date: %s\r\nExpires: %s\r\n",
	    date_str(T0, d, sizeof d), date_str(T0 - 5, e, sizeof e));
	ck_assert_int_eq(meta_of(200, h, NULL, URL).lifetime, 0);
	/* 5.3: an invalid Expires ("0" included) means already expired,
	 * and no heuristic is used in its place (4.2.2). */
	m = meta_of(200, "Expires: 0\r\nLast-Modified: Thu, 01 Jan 2015 "
	    "00:00:00 GMT\r\n", rp_of(". 0 20% 4320"), URL);
	ck_assert_int_eq(m.lifetime, 0);
	ck_assert_uint_eq(m.flags & HCM_HEURISTIC, 0);
	/* A bad max-age is left out (1.2.2): Expires decides. */
	snprintf(h, sizeof h, "Date: %s\r\nExpires: %s\r\n"
	    "Cache-Control: max-age=soon\r\n", d,
	    date_str(T0 + 30, e, sizeof e));
	ck_assert_int_eq(meta_of(200, h, NULL, URL).lifetime, 30);
}
END_TEST

START_TEST(lifetime_heuristic_as_squid_refresh_pattern)
{
	char d[40], lm[40], h[256];
	struct http_refresh *rp = rp_of(".  10 20% 60");
	struct http_cache_meta m;

	/* Squid: with Last-Modified, percent of (Date - Last-Modified)
	 * (RFC 9111 4.2.2's "fraction of the interval"), at most max. */
	snprintf(h, sizeof h, "Date: %s\r\nLast-Modified: %s\r\n",
	    date_str(T0, d, sizeof d), date_str(T0 - 10000, lm, sizeof lm));
	m = meta_of(200, h, rp, URL);
	ck_assert_int_eq(m.lifetime, 2000);
	ck_assert_uint_eq(m.flags & HCM_HEURISTIC, HCM_HEURISTIC);
	snprintf(h, sizeof h, "Date: %s\r\nLast-Modified: %s\r\n", d,
	    date_str(T0 - 100000, lm, sizeof lm));
	ck_assert_int_eq(meta_of(200, h, rp, URL).lifetime, 3600);
	/* min is not a floor for the Last-Modified factor ... */
	snprintf(h, sizeof h, "Date: %s\r\nLast-Modified: %s\r\n", d,
	    date_str(T0 - 1000, lm, sizeof lm));
	ck_assert_int_eq(meta_of(200, h, rp, URL).lifetime, 200);
	/* ... unless override-lastmod says so. */
	ck_assert_int_eq(meta_of(200, h, rp_of(". 10 20% 60 override-lastmod"),
	    URL).lifetime, 600);
	/* Without Last-Modified (or with one not before Date): min. */
	ck_assert_int_eq(meta_of(200, "", rp, URL).lifetime, 600);
	snprintf(h, sizeof h, "Date: %s\r\nLast-Modified: %s\r\n", d,
	    date_str(T0 + 50, lm, sizeof lm));
	ck_assert_int_eq(meta_of(200, h, rp, URL).lifetime, 600);
	ck_assert_int_eq(meta_of(200, "Last-Modified: yesterday\r\n", rp,
	    URL).lifetime, 600);
	/* max bounds min too (Squid checks max first). */
	ck_assert_int_eq(meta_of(200, "", rp_of(". 10 20% 5"), URL).lifetime,
	    300);
	/* Without Date, the time the reply came stands for it. */
	snprintf(h, sizeof h, "Last-Modified: %s\r\n",
	    date_str(T0 - 10000, lm, sizeof lm));
	ck_assert_int_eq(meta_of(200, h, rp, URL).lifetime, 2000);
}
END_TEST

START_TEST(lifetime_heuristic_only_where_allowed)
{
	char d[40], lm[40], h[256];
	struct http_refresh *rp = rp_of("^ftp: 10 20% 60\n-i \\.GIF$ 7 0% 60");
	struct http_cache_meta m;

	snprintf(h, sizeof h, "Date: %s\r\nLast-Modified: %s\r\n",
	    date_str(T0, d, sizeof d), date_str(T0 - 10000, lm, sizeof lm));
	/* 4.2.2: not for a code that is not heuristically cacheable ... */
	m = meta_of(302, h, rp_of(". 0 20% 60"), URL);
	ck_assert_int_eq(m.lifetime, 0);
	ck_assert_uint_eq(m.flags & HCM_HEURISTIC, 0);
	/* ... unless the reply is public. */
	snprintf(h, sizeof h, "Date: %s\r\nLast-Modified: %s\r\n"
	    "Cache-Control: public\r\n", d, lm);
	ck_assert_int_eq(meta_of(302, h, rp_of(". 0 20% 60"), URL).lifetime,
	    2000);
	/* No matching rule: no heuristic. */
	m = meta_of(200, h, rp, URL);
	ck_assert_int_eq(m.lifetime, 0);
	ck_assert_uint_eq(m.flags & HCM_HEURISTIC, 0);
	/* First match wins; -i matches any case. */
	ck_assert_int_eq(meta_of(200, "", rp, "http://e.com/a.gif").lifetime,
	    420);
	ck_assert_int_eq(meta_of(200, "", rp_of("\\.GIF$ 7 0% 60"),
	    "http://e.com/a.gif").lifetime, 0);
	ck_assert_int_eq(meta_of(200, "", rp, "ftp://e.com/a.gif").lifetime,
	    600);
	/* Squid's defaults: dynamic URLs get nothing, others 20%. */
	rp = rp_of("^ftp:\t\t1440\t20%\t10080\n-i (/cgi-bin/|\\?) 0 0% 0\n"
	    ".\t\t0\t20%\t4320");
	ck_assert_int_eq(meta_of(200, h, rp, "http://e.com/x?q=1").lifetime,
	    0);
	ck_assert_int_eq(meta_of(200, h, rp, "http://e.com/CGI-BIN/x")
	    .lifetime, 0);
	ck_assert_int_eq(meta_of(200, h, rp, URL).lifetime, 2000);
	/* A NULL rule set: no heuristics at all. */
	ck_assert_int_eq(meta_of(200, h, NULL, URL).lifetime, 0);
}
END_TEST

START_TEST(lifetime_override_expire_extends_only)
{
	struct http_refresh *rp = rp_of(". 10 0% 60 override-expire");

	/* Squid: override-expire enforces min over explicit expiry, and
	 * never shortens it. */
	ck_assert_int_eq(meta_of(200, "Cache-Control: max-age=60\r\n", rp,
	    URL).lifetime, 600);
	ck_assert_int_eq(meta_of(200, "Cache-Control: max-age=7200\r\n", rp,
	    URL).lifetime, 7200);
	ck_assert_int_eq(meta_of(200, "Expires: 0\r\n", rp, URL).lifetime,
	    600);
	/* Without it, explicit freshness is what the origin said. */
	ck_assert_int_eq(meta_of(200, "Cache-Control: max-age=60\r\n",
	    rp_of(". 10 0% 60"), URL).lifetime, 60);
}
END_TEST

START_TEST(meta_flags_and_extensions)
{
	struct http_cache_meta m;

	/* 5.2.2.2, 5.2.2.8, 5.2.2.10: never served stale. */
	ck_assert_uint_eq(meta_of(200, "Cache-Control: must-revalidate\r\n",
	    NULL, URL).flags, HCM_MUST_REVALIDATE);
	ck_assert_uint_eq(meta_of(200, "Cache-Control: proxy-revalidate\r\n",
	    NULL, URL).flags, HCM_MUST_REVALIDATE);
	ck_assert_uint_eq(meta_of(200, "Cache-Control: s-maxage=0\r\n",
	    NULL, URL).flags, HCM_MUST_REVALIDATE);
	/* 5.2.2.4: unqualified no-cache revalidates every use; the
	 * qualified form only keeps its fields off hits not revalidated;
	 * both together, or a list naming nothing, are unqualified. */
	ck_assert_uint_eq(meta_of(200, "Cache-Control: no-cache\r\n", NULL,
	    URL).flags, HCM_NO_CACHE);
	ck_assert_uint_eq(meta_of(200, "Cache-Control: no-cache=\"X\"\r\n",
	    NULL, URL).flags, HCM_NO_CACHE_FIELDS);
	ck_assert_uint_eq(meta_of(200, "Cache-Control: no-cache=\"X\", "
	    "no-cache\r\n", NULL, URL).flags, HCM_NO_CACHE);
	ck_assert_uint_eq(meta_of(200, "Cache-Control: no-cache=\" , \"\r\n",
	    NULL, URL).flags, HCM_NO_CACHE);
	/* 4.3.1: a validator to revalidate with. */
	ck_assert_uint_eq(meta_of(200, "ETag: \"x\"\r\n", NULL, URL).flags,
	    HCM_VALIDATOR);
	ck_assert_uint_eq(meta_of(200, "Last-Modified: Thu, 01 Jan 2015 "
	    "00:00:00 GMT\r\n", NULL, URL).flags, HCM_VALIDATOR);
	/* Squid's reload options travel with the entry. */
	m = meta_of(200, "Cache-Control: max-age=5\r\n", rp_of(". 0 20% 60 "
	    "refresh-ims reload-into-ims ignore-reload"), URL);
	ck_assert_uint_eq(m.flags, HCM_REFRESH_IMS | HCM_RELOAD_INTO_IMS |
	    HCM_IGNORE_RELOAD);
	/* RFC 5861: the windows; refresh_pattern max-stale stands in for a
	 * missing stale-if-error. */
	m = meta_of(200, "Cache-Control: max-age=5, stale-while-revalidate=30,"
	    " stale-if-error=99999999999\r\n", NULL, URL);
	ck_assert_int_eq(m.stale_while_revalidate, 30);
	ck_assert_int_eq(m.stale_if_error, INT32_MAX);
	m = meta_of(200, "", NULL, URL);
	ck_assert_int_eq(m.stale_while_revalidate, -1);
	ck_assert_int_eq(m.stale_if_error, -1);
	m = meta_of(200, "", rp_of(". 0 20% 60 max-stale=300"), URL);
	ck_assert_int_eq(m.stale_if_error, 300);
	m = meta_of(200, "Cache-Control: stale-if-error=5\r\n",
	    rp_of(". 0 20% 60 max-stale=300"), URL);
	ck_assert_int_eq(m.stale_if_error, 5);
}
END_TEST

/* -- age (4.2.3) ----------------------------------------------------------- */

static struct http_cache_meta
meta_at(const char *hdrs, int64_t request_time, int64_t response_time)
{
	struct http_msg *rep = rep_of(200, hdrs);
	struct http_cc cc = cc_of(rep);
	struct http_cache_meta m;

	http_cache_meta_init(&m, rep, &cc, NULL, URL, strlen(URL),
	    request_time, response_time);
	return (m);
}

START_TEST(age_worked_through_4_2_3)
{
	char d[40], h[256];
	struct http_cache_meta m;

	/* Request sent at T0, reply at T0+4 dated T0-2, Age: 3:
	 *   apparent_age          = max(0, (T0+4) - (T0-2)) = 6
	 *   response_delay        = (T0+4) - T0             = 4
	 *   corrected_age_value   = 3 + 4                   = 7
	 *   corrected_initial_age = max(6, 7)               = 7
	 *   at T0+10: resident_time = 6, current_age = 13. */
	snprintf(h, sizeof h, "Date: %s\r\nAge: 3\r\n",
	    date_str(T0 - 2, d, sizeof d));
	m = meta_at(h, T0, T0 + 4);
	ck_assert_int_eq(m.response_time, T0 + 4);
	ck_assert_int_eq(m.corrected_initial_age, 7);
	ck_assert_int_eq(http_cache_age(&m, T0 + 10), 13);
	ck_assert_int_eq(http_cache_age(&m, T0 + 4), 7);
	/* A Date well behind: apparent_age wins (14 > 0 + 4). */
	snprintf(h, sizeof h, "Date: %s\r\n", date_str(T0 - 10, d, sizeof d));
	ck_assert_int_eq(meta_at(h, T0, T0 + 4).corrected_initial_age, 14);
	/* A Date in the future: apparent_age is 0, not negative. */
	snprintf(h, sizeof h, "Date: %s\r\nAge: 1\r\n",
	    date_str(T0 + 500, d, sizeof d));
	ck_assert_int_eq(meta_at(h, T0, T0 + 4).corrected_initial_age, 5);
	/* No Date, a bad Date, a bad Age: the reply is dated when it
	 * came, and Age counts as 0. */
	ck_assert_int_eq(meta_at("", T0, T0 + 4).corrected_initial_age, 4);
	ck_assert_int_eq(meta_at("Date: today\r\nAge: -3\r\n", T0, T0)
	    .corrected_initial_age, 0);
	ck_assert_int_eq(meta_at("Age: soon\r\n", T0, T0)
	    .corrected_initial_age, 0);
	/* 1.2.2: an Age too large is 2^31. */
	ck_assert_int_eq(meta_at("Age: 123456789012345678901234\r\n", T0, T0)
	    .corrected_initial_age, INT64_C(2147483648));
	/* Clock steps: a reply "before" its request adds no delay, and
	 * now before response_time adds no resident time. */
	m = meta_at("Age: 2\r\n", T0 + 9, T0);
	ck_assert_int_eq(m.corrected_initial_age, 2);
	ck_assert_int_eq(http_cache_age(&m, T0 - 100), 2);
}
END_TEST

START_TEST(age_first_member_or_ignored_5_1)
{
	struct http_cc none = cc_of(req_of("GET", ""));
	struct http_cache_meta m;

	/* 5.1: a list-based Age: "use the first member of the field value,
	 * discarding subsequent ones"; several lines are one list (RFC
	 * 9110 5.3).  Never the last member. */
	ck_assert_int_eq(meta_at("Age: 7200, 0\r\n", T0, T0)
	    .corrected_initial_age, 7200);
	ck_assert_int_eq(meta_at("Age: 7200,0\r\n", T0, T0)
	    .corrected_initial_age, 7200);
	ck_assert_int_eq(meta_at("Age: 0, 7200\r\n", T0, T0)
	    .corrected_initial_age, 0);
	ck_assert_int_eq(meta_at("Age: 7200\r\nAge: 0\r\n", T0, T0)
	    .corrected_initial_age, 7200);
	ck_assert_int_eq(meta_at("Age: 0\r\nAge: 7200\r\n", T0, T0)
	    .corrected_initial_age, 0);
	/* Empty list members are not members (RFC 9110 5.6.1.2). */
	ck_assert_int_eq(meta_at("Age: , 7200\r\n", T0, T0)
	    .corrected_initial_age, 7200);
	ck_assert_int_eq(meta_at("Age:\r\nAge: 7200\r\n", T0, T0)
	    .corrected_initial_age, 7200);
	/* 5.1: an invalid first member ("something other than a
	 * non-negative integer") and the field is ignored: Age 0, even
	 * with a valid member after it. */
	ck_assert_int_eq(meta_at("Age: abc\r\n", T0, T0)
	    .corrected_initial_age, 0);
	ck_assert_int_eq(meta_at("Age: -7200\r\n", T0, T0)
	    .corrected_initial_age, 0);
	ck_assert_int_eq(meta_at("Age: 7200.0\r\n", T0, T0)
	    .corrected_initial_age, 0);
	ck_assert_int_eq(meta_at("Age: +7200\r\n", T0, T0)
	    .corrected_initial_age, 0);
	ck_assert_int_eq(meta_at("Age: 72 00\r\n", T0, T0)
	    .corrected_initial_age, 0);
	ck_assert_int_eq(meta_at("Age: x, 7200\r\n", T0, T0)
	    .corrected_initial_age, 0);
	ck_assert_int_eq(meta_at("Age:\r\n", T0, T0)
	    .corrected_initial_age, 0);
	/* 1.2.2: a first member past 2^31 is 2^31, also in a list. */
	ck_assert_int_eq(meta_at("Age: 99999999999999999999, 0\r\n", T0, T0)
	    .corrected_initial_age, INT64_C(2147483648));
	ck_assert_int_eq(meta_at("Age: 2147483649\r\n", T0, T0)
	    .corrected_initial_age, INT64_C(2147483648));
	ck_assert_int_eq(meta_at("Age: 2147483647\r\n", T0, T0)
	    .corrected_initial_age, INT64_C(2147483647));
	/* What it decides: max-age=3600 with "Age: 7200, 0" is stale at
	 * once (4.2); with "Age: 0, 7200" fresh. */
	m = meta_at("Cache-Control: max-age=3600\r\nAge: 7200, 0\r\n", T0,
	    T0);
	ck_assert_int_eq(http_cache_use(&m, &none, T0), HCU_REVALIDATE);
	m = meta_at("Cache-Control: max-age=3600\r\nAge: 0, 7200\r\n", T0,
	    T0);
	ck_assert_int_eq(http_cache_use(&m, &none, T0), HCU_FRESH);
}
END_TEST

/* -- use (4.2.4, 5.2.1, 5.2.2) --------------------------------------------- */

/* A stored reply with lifetime 100, received at T0, age 0 then. */
static struct http_cache_meta
meta_life(uint32_t flags, int32_t swr, int32_t sie)
{
	struct http_cache_meta m;

	memset(&m, 0, sizeof m);
	m.response_time = T0;
	m.corrected_initial_age = 0;
	m.lifetime = 100;
	m.flags = flags;
	m.stale_while_revalidate = swr;
	m.stale_if_error = sie;
	return (m);
}

static enum http_cache_use
use_of(const struct http_cache_meta *m, const char *reqh, int64_t age)
{
	struct http_cc cc = cc_of(req_of("GET", reqh));

	return (http_cache_use(m, &cc, T0 + age));
}

START_TEST(use_fresh_then_stale_at_the_lifetime)
{
	struct http_cache_meta m = meta_life(0, -1, -1);

	/* 4.2: fresh while freshness_lifetime > current_age. */
	ck_assert_int_eq(use_of(&m, "", 0), HCU_FRESH);
	ck_assert_int_eq(use_of(&m, "", 99), HCU_FRESH);
	ck_assert_int_eq(use_of(&m, "", 100), HCU_REVALIDATE);
	ck_assert_int_eq(use_of(&m, "", 5000), HCU_REVALIDATE);
	m.lifetime = 0;
	ck_assert_int_eq(use_of(&m, "", 0), HCU_REVALIDATE);
}
END_TEST

START_TEST(use_request_max_age_min_fresh_max_stale)
{
	struct http_cache_meta m = meta_life(0, -1, -1);

	/* 5.2.1.1 max-age: no older than N. */
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-age=40\r\n", 50),
	    HCU_REVALIDATE);
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-age=60\r\n", 50),
	    HCU_FRESH);
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-age=0\r\n", 0),
	    HCU_FRESH);
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-age=0\r\n", 1),
	    HCU_REVALIDATE);
	/* 5.2.1.3 min-fresh: fresh for at least N more seconds. */
	ck_assert_int_eq(use_of(&m, "Cache-Control: min-fresh=40\r\n", 50),
	    HCU_FRESH);
	ck_assert_int_eq(use_of(&m, "Cache-Control: min-fresh=50\r\n", 50),
	    HCU_REVALIDATE);
	/* ... which max-stale does not relax while still fresh. */
	ck_assert_int_eq(use_of(&m, "Cache-Control: min-fresh=60, "
	    "max-stale=100\r\n", 50), HCU_REVALIDATE);
	/* 5.2.1.2 max-stale: stale by no more than N; bare: any. */
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-stale=10\r\n", 100),
	    HCU_STALE_OK);
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-stale=10\r\n", 110),
	    HCU_STALE_OK);
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-stale=10\r\n", 111),
	    HCU_REVALIDATE);
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-stale\r\n", 1000000),
	    HCU_STALE_OK);
	/* A request max-age bounds age even when max-stale allows it. */
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-stale, max-age=50"
	    "\r\n", 120), HCU_REVALIDATE);
}
END_TEST

START_TEST(use_no_cache_and_must_revalidate)
{
	struct http_cache_meta m = meta_life(0, -1, -1);

	/* 5.2.1.4: a request's no-cache (or Pragma, 5.4): revalidate
	 * even a fresh reply. */
	ck_assert_int_eq(use_of(&m, "Cache-Control: no-cache\r\n", 0),
	    HCU_REVALIDATE);
	ck_assert_int_eq(use_of(&m, "Pragma: no-cache\r\n", 0),
	    HCU_REVALIDATE);
	/* 5.2.2.4: a reply's no-cache: every use is revalidated, whatever
	 * the request allows. */
	m = meta_life(HCM_NO_CACHE, 100, -1);
	ck_assert_int_eq(use_of(&m, "", 0), HCU_REVALIDATE);
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-stale\r\n", 0),
	    HCU_REVALIDATE);
	/* 5.2.2.2, 4.2.4: must-revalidate (and proxy-revalidate,
	 * s-maxage): never stale, max-stale or stale-while-revalidate
	 * notwithstanding; fresh is still fresh. */
	m = meta_life(HCM_MUST_REVALIDATE, 100, -1);
	ck_assert_int_eq(use_of(&m, "", 50), HCU_FRESH);
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-stale\r\n", 101),
	    HCU_REVALIDATE);
	ck_assert_int_eq(use_of(&m, "", 101), HCU_REVALIDATE);
}
END_TEST

START_TEST(use_squid_reload_options)
{
	struct http_cache_meta m;

	/* ignore-reload: a browser's reload (no-cache, max-age=0) is not
	 * heard; staleness still counts. */
	m = meta_life(HCM_IGNORE_RELOAD, -1, -1);
	ck_assert_int_eq(use_of(&m, "Cache-Control: no-cache\r\n", 10),
	    HCU_FRESH);
	ck_assert_int_eq(use_of(&m, "Pragma: no-cache\r\n", 10), HCU_FRESH);
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-age=0\r\n", 10),
	    HCU_FRESH);
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-age=5\r\n", 10),
	    HCU_REVALIDATE);
	ck_assert_int_eq(use_of(&m, "Cache-Control: no-cache\r\n", 100),
	    HCU_REVALIDATE);
	/* reload-into-ims: the reload becomes a revalidation. */
	m = meta_life(HCM_RELOAD_INTO_IMS | HCM_VALIDATOR, -1, -1);
	ck_assert_int_eq(use_of(&m, "Cache-Control: no-cache\r\n", 10),
	    HCU_REVALIDATE);
	ck_assert_int_eq(use_of(&m, "", 10), HCU_FRESH);
}
END_TEST

START_TEST(use_stale_while_revalidate_window)
{
	struct http_cache_meta m = meta_life(0, 30, -1);

	/* RFC 5861 3: up to N seconds stale, served while revalidating. */
	ck_assert_int_eq(use_of(&m, "", 99), HCU_FRESH);
	ck_assert_int_eq(use_of(&m, "", 100), HCU_STALE_REVALIDATE);
	ck_assert_int_eq(use_of(&m, "", 130), HCU_STALE_REVALIDATE);
	ck_assert_int_eq(use_of(&m, "", 131), HCU_REVALIDATE);
	/* The client's own limits still hold. */
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-age=110\r\n", 120),
	    HCU_REVALIDATE);
	ck_assert_int_eq(use_of(&m, "Cache-Control: no-cache\r\n", 120),
	    HCU_REVALIDATE);
	/* A client allowing the staleness needs no revalidation. */
	ck_assert_int_eq(use_of(&m, "Cache-Control: max-stale=60\r\n", 120),
	    HCU_STALE_OK);
}
END_TEST

START_TEST(stale_if_error_windows)
{
	struct http_cache_meta m = meta_life(0, -1, 60);
	struct http_cc none = cc_of(req_of("GET", ""));
	struct http_cc req100 = cc_of(req_of("GET",
	    "Cache-Control: stale-if-error=100\r\n"));

	/* RFC 5861 4: the reply's window covers every request ... */
	ck_assert(http_cache_stale_on_error(&m, &none, T0 + 50, 0));
	ck_assert(http_cache_stale_on_error(&m, &none, T0 + 160, 0));
	ck_assert(!http_cache_stale_on_error(&m, &none, T0 + 161, 0));
	/* ... and a request's widens it for that request. */
	ck_assert(http_cache_stale_on_error(&m, &req100, T0 + 200, 0));
	ck_assert(!http_cache_stale_on_error(&m, &req100, T0 + 201, 0));
	m = meta_life(0, -1, -1);
	ck_assert(!http_cache_stale_on_error(&m, &none, T0 + 101, 0));
	ck_assert(http_cache_stale_on_error(&m, &req100, T0 + 101, 0));
	/* 4.2.4: never against must-revalidate or no-cache. */
	m = meta_life(HCM_MUST_REVALIDATE, -1, 60);
	ck_assert(!http_cache_stale_on_error(&m, &req100, T0 + 101, 0));
	m = meta_life(HCM_NO_CACHE, -1, 60);
	ck_assert(!http_cache_stale_on_error(&m, &req100, T0 + 101, 0));
}
END_TEST

START_TEST(max_stale_when_disconnected_4_2_4)
{
	struct http_cache_meta m = meta_life(0, -1, -1);
	struct http_cc none = cc_of(req_of("GET", ""));
	struct http_cc nocache = cc_of(req_of("GET",
	    "Cache-Control: no-cache\r\n"));
	struct http_cc pragma = cc_of(req_of("GET", "Pragma: no-cache\r\n"));

	/* 4.2.4: disconnected, a cache may serve stale, as stale as its
	 * own limit (Squid's max_stale) allows. */
	ck_assert(http_cache_stale_on_error(&m, &none, T0 + 200, 100));
	ck_assert(!http_cache_stale_on_error(&m, &none, T0 + 201, 100));
	ck_assert(!http_cache_stale_on_error(&m, &none, T0 + 101, 0));
	/* 5.2.1.4, 5.4: not to a client that asked for validation. */
	ck_assert(!http_cache_stale_on_error(&m, &nocache, T0 + 150, 100));
	ck_assert(!http_cache_stale_on_error(&m, &pragma, T0 + 150, 100));
	/* 5.2.2.2, 5.2.2.4, 5.2.2.8, 5.2.2.10: never against these. */
	m = meta_life(HCM_MUST_REVALIDATE, -1, -1);
	ck_assert(!http_cache_stale_on_error(&m, &none, T0 + 150, 100));
	m = meta_life(HCM_NO_CACHE, -1, -1);
	ck_assert(!http_cache_stale_on_error(&m, &none, T0 + 150, 100));
	/* negative_ttl's errors: a stale one is no answer. */
	m = meta_life(HCM_NEGATIVE, -1, 60);
	ck_assert(!http_cache_stale_on_error(&m, &none, T0 + 150, 100));
}
END_TEST

/* -- conditionals (RFC 9110 13.1.2, 13.1.3, 13.2.2) ------------------------ */

static bool
nm(const char *method, const char *reqh, unsigned status, const char *reph)
{
	return (http_cache_not_modified(req_of(method, reqh),
	    rep_of(status, reph)));
}

START_TEST(if_none_match_weak_comparison)
{
	const char *st = "ETag: \"a\"\r\n", *wk = "ETag: W/\"a\"\r\n";

	/* 13.1.2: weak comparison (8.8.3.2): W/ does not matter. */
	ck_assert(nm("GET", "If-None-Match: \"a\"\r\n", 200, st));
	ck_assert(nm("GET", "If-None-Match: W/\"a\"\r\n", 200, st));
	ck_assert(nm("GET", "If-None-Match: \"a\"\r\n", 200, wk));
	ck_assert(nm("HEAD", "If-None-Match: W/\"a\"\r\n", 200, wk));
	ck_assert(!nm("GET", "If-None-Match: \"b\"\r\n", 200, st));
	ck_assert(!nm("GET", "If-None-Match: \"A\"\r\n", 200, st));
	/* A list, on one line or several. */
	ck_assert(nm("GET", "If-None-Match: \"x\", \"y\",W/\"a\"\r\n", 200,
	    st));
	ck_assert(nm("GET", "If-None-Match: \"x\"\r\nIf-None-Match: \"a\""
	    "\r\n", 200, st));
	ck_assert(nm("GET", "If-None-Match: \"x,y\", \"a\"\r\n", 200, st));
	/* "*": the representation exists. */
	ck_assert(nm("GET", "If-None-Match: *\r\n", 200, ""));
	/* No stored ETag, a malformed list: no 304. */
	ck_assert(!nm("GET", "If-None-Match: \"a\"\r\n", 200, ""));
	ck_assert(!nm("GET", "If-None-Match: a\r\n", 200, "ETag: a\r\n"));
	ck_assert(!nm("GET", "If-None-Match: \"a\r\n", 200, st));
	/* Only GET and HEAD; only where the reply would be 2xx (13.2.1). */
	ck_assert(!nm("POST", "Content-Length: 0\r\nIf-None-Match: \"a\"\r\n",
	    200, st));
	ck_assert(!nm("GET", "If-None-Match: \"a\"\r\n", 404, st));
	/* 13.2.2 step 3: If-None-Match present, If-Modified-Since is not
	 * looked at. */
	ck_assert(!nm("GET", "If-None-Match: \"b\"\r\nIf-Modified-Since: "
	    "Thu, 01 Jan 2099 00:00:00 GMT\r\n", 200, "ETag: \"a\"\r\n"
	    "Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT\r\n"));
}
END_TEST

START_TEST(if_modified_since_against_last_modified_or_date)
{
	const char *lm = "Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT\r\n";

	/* 13.1.3: not modified when Last-Modified <= the date given. */
	ck_assert(nm("GET", "If-Modified-Since: Thu, 01 Jan 2015 00:00:00 "
	    "GMT\r\n", 200, lm));
	ck_assert(nm("GET", "If-Modified-Since: Fri, 02 Jan 2015 00:00:00 "
	    "GMT\r\n", 200, lm));
	ck_assert(!nm("GET", "If-Modified-Since: Wed, 31 Dec 2014 23:59:59 "
	    "GMT\r\n", 200, lm));
	/* Any of the three date forms. */
	ck_assert(nm("GET", "If-Modified-Since: Thursday, 01-Jan-15 00:00:00 "
	    "GMT\r\n", 200, lm));
	/* RFC 9111 4.3.2: no Last-Modified, the stored Date instead;
	 * neither, no 304. */
	ck_assert(nm("GET", "If-Modified-Since: Fri, 02 Jan 2015 00:00:00 "
	    "GMT\r\n", 200, "Date: Thu, 01 Jan 2015 00:00:00 GMT\r\n"));
	ck_assert(!nm("GET", "If-Modified-Since: Fri, 02 Jan 2015 00:00:00 "
	    "GMT\r\n", 200, ""));
	/* An invalid date, or two of them, is ignored. */
	ck_assert(!nm("GET", "If-Modified-Since: yesterday\r\n", 200, lm));
	ck_assert(!nm("GET", "If-Modified-Since: Fri, 02 Jan 2015 00:00:00 "
	    "GMT\r\nIf-Modified-Since: Fri, 02 Jan 2015 00:00:00 GMT\r\n",
	    200, lm));
	/* Only GET and HEAD. */
	ck_assert(nm("HEAD", "If-Modified-Since: Fri, 02 Jan 2015 00:00:00 "
	    "GMT\r\n", 200, lm));
	ck_assert(!nm("DELETE", "If-Modified-Since: Fri, 02 Jan 2015 "
	    "00:00:00 GMT\r\n", 200, lm));
	ck_assert(!nm("GET", "", 200, lm));
}
END_TEST

/* -- 304 (4.3.4) and building messages ------------------------------------- */

static const char *
fval(const struct http_msg *m, unsigned i, char *buf, size_t len)
{
	const struct http_field *f = &m->fields[i];

	snprintf(buf, len, "%.*s: %.*s", (int)f->name.len,
	    http_msg_ptr(m, f->name), (int)f->value.len,
	    http_msg_ptr(m, f->value));
	return (buf);
}

START_TEST(merge_304_replaces_fields_keeps_framing)
{
	static const char *const want[] = {
		"Date: Thu, 01 Jan 2015 00:10:00 GMT",
		"Cache-Control: max-age=60",
		"Cache-Control: public",
		"ETag: \"a\"",
		"x-a: 3",
		"Content-Length: 5",
		"Content-Type: text/plain",
		"Connection: keep-alive",
		"X-New: n",
	};
	struct http_msg *stored = parse_msg_as(HTTP_MSG_RESPONSE,
	    "HTTP/1.1 200 Fine\r\n"
	    "Date: Thu, 01 Jan 2015 00:00:00 GMT\r\n"
	    "Cache-Control: max-age=10\r\n"
	    "ETag: \"a\"\r\n"
	    "X-A: 1\r\n"
	    "X-A: 2\r\n"
	    "Content-Length: 5\r\n"
	    "Content-Type: text/plain\r\n"
	    "Connection: keep-alive\r\n\r\n", false);
	struct http_msg *r304 = parse_msg(HTTP_MSG_RESPONSE,
	    "HTTP/1.1 304 Not Modified\r\n"
	    "Date: Thu, 01 Jan 2015 00:10:00 GMT\r\n"
	    "Cache-Control: max-age=60\r\n"
	    "x-a: 3\r\n"
	    "Content-Length: 0\r\n"
	    "Connection: close, X-Hop\r\n"
	    "X-Hop: h\r\n"
	    "Keep-Alive: timeout=5\r\n"
	    "X-New: n\r\n"
	    "Cache-Control: public\r\n\r\n");
	struct http_msg out;
	const struct http_field *f;
	char buf[128];
	unsigned i;

	http_msg_init(&out, HTTP_MSG_RESPONSE);
	ck_assert_int_eq(http_cache_merge_304(stored, r304, &out), 0);
	/* The stored status line and framing. */
	ck_assert_uint_eq(out.status, 200);
	ck_assert_int_eq(out.reason.len, 4);
	ck_assert_int_eq(memcmp(http_msg_ptr(&out, out.reason), "Fine", 4), 0);
	ck_assert_uint_eq(out.body, HTTP_BODY_LENGTH);
	ck_assert_uint_eq(out.content_length, 5);
	/* 3.2: every field of the 304 replaces the stored ones of its
	 * name, except framing and hop-by-hop ones; the rest stay. */
	ck_assert_uint_eq(out.nfields, ARRAY_LEN(want));
	for (i = 0; i < ARRAY_LEN(want); i++)
		ck_assert_str_eq(fval(&out, i, buf, sizeof buf), want[i]);
	/* The id chains are right: both Cache-Control lines found. */
	f = http_msg_field(&out, HTTP_HDR_CACHE_CONTROL);
	ck_assert_ptr_nonnull(f);
	f = http_msg_field_next(&out, f);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->value.len, 6);
	ck_assert_ptr_null(http_msg_field_next(&out, f));
	ck_assert(http_msg_has_token(&out, HTTP_HDR_CONNECTION, "keep-alive"));
	ck_assert_ptr_null(http_msg_field(&out, HTTP_HDR_KEEP_ALIVE));
	ck_assert_ptr_nonnull(http_msg_field(&out, HTTP_HDR_CONTENT_LENGTH));
	/* And it is a reply the cache can compute on again. */
	ck_assert_int_eq(cc_of(&out).max_age, 60);
	ck_assert_uint_eq(cc_of(&out).flags, HCC_PUBLIC);
	http_msg_fini(&out);
}
END_TEST

START_TEST(without_fields_leaves_out_what_is_named)
{
	struct http_msg *m, out;
	const struct http_field *f;

	/* 5.2.2.7: a shared cache stores the reply without the fields
	 * private="..." names; 5.2.2.4: a hit not revalidated goes
	 * without those no-cache="..." names.  Every line of such a
	 * field goes, the others stay in order with the status line and
	 * the framing. */
	m = parse_msg_as(HTTP_MSG_RESPONSE, "HTTP/1.1 203 Fine\r\n"
	    "Cache-Control: max-age=60, private=\"set-cookie, X-Sess\", "
	    "no-cache=\"X-Tok\"\r\n"
	    "Set-Cookie: a=1\r\nX-Keep: 1\r\nSET-COOKIE: b=2\r\n"
	    "x-sess: s\r\nX-Tok: t\r\nContent-Length: 3\r\n\r\nabc",
	    false);
	http_msg_init(&out, HTTP_MSG_RESPONSE);
	ck_assert_int_eq(http_cache_without_fields(m, HCC_PRIVATE_FIELDS,
	    &out), 0);
	ck_assert_uint_eq(out.status, 203);
	ck_assert_int_eq(out.reason.len, 4);
	ck_assert_int_eq(memcmp(http_msg_ptr(&out, out.reason), "Fine", 4), 0);
	ck_assert_uint_eq(out.body, HTTP_BODY_LENGTH);
	ck_assert_uint_eq(out.content_length, 3);
	ck_assert_uint_eq(out.nfields, 4);
	ck_assert_ptr_null(http_msg_field(&out, HTTP_HDR_SET_COOKIE));
	ck_assert_ptr_null(http_msg_field_named(&out, "X-Sess", 6));
	ck_assert_ptr_nonnull(http_msg_field_named(&out, "X-Tok", 5));
	f = http_msg_field_named(&out, "X-Keep", 6);
	ck_assert_ptr_eq(f, &out.fields[1]);
	ck_assert_ptr_nonnull(http_msg_field(&out, HTTP_HDR_CONTENT_LENGTH));
	/* The stored remainder still says what it is: its Cache-Control
	 * names what a hit may not carry. */
	ck_assert(http_cc_names_field(&out, HCC_NO_CACHE_FIELDS, "x-tok", 5));
	http_msg_fini(&out);
	http_msg_init(&out, HTTP_MSG_RESPONSE);
	ck_assert_int_eq(http_cache_without_fields(m, HCC_NO_CACHE_FIELDS,
	    &out), 0);
	ck_assert_uint_eq(out.nfields, 6);
	ck_assert_ptr_null(http_msg_field_named(&out, "X-Tok", 5));
	ck_assert_ptr_nonnull(http_msg_field(&out, HTTP_HDR_SET_COOKIE));
	http_msg_fini(&out);
	/* Nothing named: a copy. */
	m = rep_of(200, "Set-Cookie: a=1\r\nCache-Control: max-age=5\r\n");
	http_msg_init(&out, HTTP_MSG_RESPONSE);
	ck_assert_int_eq(http_cache_without_fields(m, HCC_PRIVATE_FIELDS,
	    &out), 0);
	ck_assert_uint_eq(out.nfields, 2);
	ck_assert_ptr_nonnull(http_msg_field(&out, HTTP_HDR_SET_COOKIE));
	http_msg_fini(&out);
}
END_TEST

START_TEST(msg_build_from_scratch)
{
	struct http_msg m;
	const struct http_field *f;
	char buf[128];

	http_msg_init(&m, HTTP_MSG_RESPONSE);
	ck_assert_int_eq(http_msg_set_status(&m, 404, "Not Found", 9), 0);
	ck_assert_uint_eq(m.status, 404);
	ck_assert_uint_eq(m.vmajor, 1);
	ck_assert_uint_eq(m.vminor, 1);
	ck_assert_int_eq(memcmp(m.raw, "HTTP/1.1 404 Not Found\r\n", 24), 0);
	ck_assert_int_eq(memcmp(http_msg_ptr(&m, m.reason), "Not Found", 9),
	    0);
	ck_assert_int_eq(http_msg_add_field(&m, "Vary", 4, " Accept ", 8), 0);
	ck_assert_int_eq(http_msg_add_field(&m, "X-Other", 7, "1", 1), 0);
	ck_assert_int_eq(http_msg_add_field(&m, "vary", 4, "Cookie", 6), 0);
	ck_assert_int_eq(http_msg_add_field(&m, "Content-Length", 14, "0", 1),
	    0);
	ck_assert_int_eq(http_msg_add_field(&m, "Empty", 5, "", 0), 0);
	/* Refused: what the parser would refuse. */
	ck_assert_int_eq(http_msg_add_field(&m, "Content-Length", 14, "1", 1),
	    -EINVAL);
	ck_assert_int_eq(http_msg_add_field(&m, "Bad Name", 8, "x", 1),
	    -EINVAL);
	ck_assert_int_eq(http_msg_add_field(&m, "", 0, "x", 1), -EINVAL);
	ck_assert_int_eq(http_msg_add_field(&m, "X", 1, "a\r\nX-Evil: 1", 12),
	    -EINVAL);
	ck_assert_uint_eq(m.nfields, 5);
	ck_assert_str_eq(fval(&m, 0, buf, sizeof buf), "Vary: Accept");
	ck_assert_str_eq(fval(&m, 4, buf, sizeof buf), "Empty: ");
	f = http_msg_field(&m, HTTP_HDR_VARY);
	ck_assert_ptr_eq(f, &m.fields[0]);
	f = http_msg_field_next(&m, f);
	ck_assert_ptr_eq(f, &m.fields[2]);
	ck_assert_ptr_null(http_msg_field_next(&m, f));
	ck_assert(http_msg_has_token(&m, HTTP_HDR_VARY, "cookie"));
	ck_assert_ptr_eq(http_msg_field(&m, HTTP_HDR_CONTENT_LENGTH),
	    &m.fields[3]);
	http_msg_fini(&m);
}
END_TEST

/* -- Vary (4.1) ------------------------------------------------------------ */

static int
vkey(const char *reqh, const char *vary, char *out, size_t cap)
{
	return (http_cache_vary_key(req_of("GET", reqh), vary, strlen(vary),
	    out, cap));
}

START_TEST(vary_key_is_normalised)
{
	const char *h = "Accept-Encoding: gzip , br\r\nUser-Agent: x y\r\n"
	    "X-Foo: 1\r\n";
	char a[256], b[256];
	int n;

	/* 4.1: names any case and any order, values normalised. */
	n = vkey(h, "Accept-Encoding, User-Agent", a, sizeof a);
	ck_assert_int_eq(n, (int)strlen(a));
	ck_assert_str_eq(a, "accept-encoding:gzip,br\nuser-agent:x y\n");
	ck_assert_int_eq(vkey(h, "user-agent,ACCEPT-ENCODING, User-Agent", b,
	    sizeof b), n);
	ck_assert_str_eq(a, b);
	/* Two lines are one value joined by a comma (RFC 9110 5.3). */
	vkey("Accept-Encoding: gzip\r\nAccept-Encoding:br\r\nUser-Agent: "
	    "x y\r\n", "Accept-Encoding, User-Agent", b, sizeof b);
	ck_assert_str_eq(a, b);
	/* Fields cuttle has no id for work the same way. */
	vkey(h, "x-foo", a, sizeof a);
	ck_assert_str_eq(a, "x-foo:1\n");
	/* An absent field is not an empty one. */
	vkey("", "Accept-Language", a, sizeof a);
	vkey("Accept-Language: \r\n", "Accept-Language", b, sizeof b);
	ck_assert_str_eq(a, "accept-language\n");
	ck_assert_str_eq(b, "accept-language:\n");
	/* An empty Vary varies on nothing. */
	ck_assert_int_eq(vkey(h, " , ", a, sizeof a), 0);
	ck_assert_str_eq(a, "");
}
END_TEST

START_TEST(vary_star_and_limits)
{
	char a[64];

	/* 4.1: "*" never matches. */
	ck_assert_int_eq(vkey("", "*", a, sizeof a), -1);
	ck_assert_int_eq(vkey("", "Accept, *", a, sizeof a), -1);
	/* Not a list of names: never matches either. */
	ck_assert_int_eq(vkey("", "Accept Encoding", a, sizeof a), -1);
	ck_assert_int_eq(vkey("", "Accept, \"x\"", a, sizeof a), -1);
	/* Too small a buffer, to the byte (the NUL counts). */
	ck_assert_int_eq(vkey("Accept: x\r\n", "Accept", a, 10), 9);
	ck_assert_int_eq(vkey("Accept: x\r\n", "Accept", a, 9), -1);
	ck_assert_int_eq(vkey("Accept: x\r\n", "Accept", a, 3), -1);
}
END_TEST

/* -- ranges (RFC 9110 14.1.2, 14.2) ---------------------------------------- */

static const struct {
	const char	*range;
	uint64_t	len;
	int		rc;
	uint64_t	first;
	uint64_t	last;
} range_cases[] = {
	{ "bytes=0-499", 1000, 1, 0, 499 },
	{ "bytes=500-999", 1000, 1, 500, 999 },
	{ "bytes=500-", 1000, 1, 500, 999 },
	{ "bytes=-200", 1000, 1, 800, 999 },
	{ "bytes=-1000", 1000, 1, 0, 999 },
	{ "bytes=-2000", 1000, 1, 0, 999 },	/* longer than it: all */
	{ "bytes=0-5000", 1000, 1, 0, 999 },	/* last clamped */
	{ "bytes=999-999", 1000, 1, 999, 999 },
	{ "bytes=0-99999999999999999999999", 1000, 1, 0, 999 },
	{ "BYTES=0-0", 1000, 1, 0, 0 },		/* unit any case */
	{ "bytes=0-0,", 1000, 1, 0, 0 },	/* empty list members */
	{ "bytes= 1-2 ", 1000, 1, 1, 2 },
	{ "bytes=1000-", 1000, -1, 0, 0 },	/* 416 */
	{ "bytes=1000-2000", 1000, -1, 0, 0 },
	{ "bytes=99999999999999999999999-", 1000, -1, 0, 0 },
	{ "bytes=-0", 1000, -1, 0, 0 },
	{ "bytes=0-", 0, -1, 0, 0 },		/* empty representation */
	{ "bytes=-5", 0, 0, 0, 0 },
	{ "bytes=0-1,5-6", 1000, 0, 0, 0 },	/* several: whole */
	{ "bytes=0-1, -5", 1000, 0, 0, 0 },
	{ "bytes=5-1", 1000, 0, 0, 0 },		/* invalid: ignored */
	{ "bytes=abc", 1000, 0, 0, 0 },
	{ "bytes=1", 1000, 0, 0, 0 },
	{ "bytes=-", 1000, 0, 0, 0 },
	{ "bytes=", 1000, 0, 0, 0 },
	{ "bytes=1-2x", 1000, 0, 0, 0 },
	{ "bytes=+1-2", 1000, 0, 0, 0 },
	{ "bytes 0-1", 1000, 0, 0, 0 },
	{ "items=0-1", 1000, 0, 0, 0 },		/* another unit */
};

START_TEST(range_single_byte_range)
{
	char h[128];
	struct http_range r = { 7, 7 };
	int rc;

	snprintf(h, sizeof h, "Range: %s\r\n", range_cases[_i].range);
	rc = http_range_parse(req_of("GET", h), range_cases[_i].len, &r);
	ck_assert_msg(rc == range_cases[_i].rc, "%s: %d",
	    range_cases[_i].range, rc);
	if (rc == 1) {
		ck_assert_uint_eq(r.first, range_cases[_i].first);
		ck_assert_uint_eq(r.last, range_cases[_i].last);
	}
}
END_TEST

START_TEST(range_only_for_get_and_one_field)
{
	struct http_range r;

	ck_assert_int_eq(http_range_parse(req_of("GET", ""), 10, &r), 0);
	/* 14.2: GET is the only method with range semantics. */
	ck_assert_int_eq(http_range_parse(req_of("HEAD", "Range: bytes=0-1"
	    "\r\n"), 10, &r), 0);
	ck_assert_int_eq(http_range_parse(req_of("GET", "Range: bytes=0-1\r\n"
	    "Range: bytes=0-1\r\n"), 10, &r), 0);
}
END_TEST

static bool
ifr(const char *reqh, const char *stored)
{
	return (http_if_range_ok(req_of("GET", reqh), rep_of(200, stored)));
}

START_TEST(if_range_strong_validators_only)
{
	const char *lm = "Date: Wed, 09 Jun 2021 10:18:15 GMT\r\n"
	    "Last-Modified: Wed, 09 Jun 2021 10:18:14 GMT\r\n";

	/* 13.1.5: no If-Range, the Range stands. */
	ck_assert(ifr("", "ETag: \"a\"\r\n"));
	/* An entity-tag: strong comparison (8.8.3.2). */
	ck_assert(ifr("If-Range: \"a\"\r\n", "ETag: \"a\"\r\n"));
	ck_assert(!ifr("If-Range: \"b\"\r\n", "ETag: \"a\"\r\n"));
	ck_assert(!ifr("If-Range: W/\"a\"\r\n", "ETag: W/\"a\"\r\n"));
	ck_assert(!ifr("If-Range: \"a\"\r\n", "ETag: W/\"a\"\r\n"));
	ck_assert(!ifr("If-Range: \"a\"\r\n", ""));
	ck_assert(!ifr("If-Range: \"a\" junk\r\n", "ETag: \"a\"\r\n"));
	/* A date: exactly Last-Modified, a second or more before Date
	 * (8.8.2.2); "Wed," is a date, not a weak tag. */
	ck_assert(ifr("If-Range: Wed, 09 Jun 2021 10:18:14 GMT\r\n", lm));
	ck_assert(!ifr("If-Range: Wed, 09 Jun 2021 10:18:13 GMT\r\n", lm));
	ck_assert(!ifr("If-Range: Wed, 09 Jun 2021 10:18:15 GMT\r\n", lm));
	ck_assert(!ifr("If-Range: Wed, 09 Jun 2021 10:18:14 GMT\r\n",
	    "Date: Wed, 09 Jun 2021 10:18:14 GMT\r\n"
	    "Last-Modified: Wed, 09 Jun 2021 10:18:14 GMT\r\n"));
	ck_assert(!ifr("If-Range: Wed, 09 Jun 2021 10:18:14 GMT\r\n",
	    "Last-Modified: Wed, 09 Jun 2021 10:18:14 GMT\r\n"));
	ck_assert(!ifr("If-Range: yesterday\r\n", lm));
	ck_assert(!ifr("If-Range: \"a\"\r\nIf-Range: \"a\"\r\n",
	    "ETag: \"a\"\r\n"));
}
END_TEST

/* -- invalidation (4.4) ---------------------------------------------------- */

static const struct {
	const char	*field;		/* Location value */
	const char	*want;		/* NULL: -1 */
} inval_cases[] = {
	{ "/x", "http://e.com/x" },
	{ "/x?y=1#frag", "http://e.com/x?y=1" },
	{ "http://e.com/y", "http://e.com/y" },
	{ "HTTP://E.COM:80/y", "http://e.com/y" },
	{ "http://e.com", "http://e.com/" },
	{ "http://e.com?q", "http://e.com?q" },
	{ "//e.com/z", "http://e.com/z" },
	{ "https://e.com/y", NULL },		/* another scheme */
	{ "http://f.com/y", NULL },		/* another host */
	{ "http://e.com:8080/y", NULL },	/* another port */
	{ "//f.com/z", NULL },
	{ "rel/path", NULL },			/* not path-absolute */
	{ "../up", NULL },
	{ "?q", NULL },
	{ "#frag", NULL },
	{ "/bad path", NULL },
	{ "http://u@e.com/y", NULL },
};

START_TEST(invalidation_same_origin_only)
{
	char h[128], out[128];
	struct http_msg *rep;
	int n;

	snprintf(h, sizeof h, "Location: %s\r\n", inval_cases[_i].field);
	rep = rep_of(201, h);
	n = http_cache_invalidates(rep, HTTP_HDR_LOCATION, URL, strlen(URL),
	    out, sizeof out);
	if (inval_cases[_i].want == NULL) {
		ck_assert_msg(n == -1, "%s -> %s", inval_cases[_i].field,
		    n >= 0 ? out : "");
		return;
	}
	ck_assert_msg(n >= 0, "%s refused", inval_cases[_i].field);
	ck_assert_str_eq(out, inval_cases[_i].want);
	ck_assert_int_eq(n, (int)strlen(out));
}
END_TEST

START_TEST(invalidation_content_location_and_limits)
{
	struct http_msg *rep = rep_of(200, "Content-Location: /c\r\n");
	char out[64];

	ck_assert_int_eq(http_cache_invalidates(rep, HTTP_HDR_CONTENT_LOCATION,
	    URL, strlen(URL), out, sizeof out), 14);
	ck_assert_str_eq(out, "http://e.com/c");
	ck_assert_int_eq(http_cache_invalidates(rep, HTTP_HDR_LOCATION, URL,
	    strlen(URL), out, sizeof out), -1);
	/* The NUL must fit too. */
	ck_assert_int_eq(http_cache_invalidates(rep, HTTP_HDR_CONTENT_LOCATION,
	    URL, strlen(URL), out, 15), 14);
	ck_assert_int_eq(http_cache_invalidates(rep, HTTP_HDR_CONTENT_LOCATION,
	    URL, strlen(URL), out, 14), -1);
	/* The request URL must be absolute. */
	ck_assert_int_eq(http_cache_invalidates(rep, HTTP_HDR_CONTENT_LOCATION,
	    "/a/b", 4, out, sizeof out), -1);
	/* The authority spelled as in the request, any port notation. */
	ck_assert_int_eq(http_cache_invalidates(rep_of(200,
	    "Location: http://e.com/d\r\n"), HTTP_HDR_LOCATION,
	    "http://E.com:80/a", 17, out, sizeof out), 17);
	ck_assert_str_eq(out, "http://E.com:80/d");
}
END_TEST

static Suite *
http_cache_suite(void)
{
	Suite *s = suite_create("http_cache");
	TCase *tc;

	tc = tcase_create("dates");
	tcase_add_test(tc, date_three_forms_read_the_same_instant);
	tcase_add_test(tc, date_leap_years_and_edges);
	tcase_add_test(tc, date_names_in_any_case_for_a_cache);
	tcase_add_test(tc, date_garbage_is_minus_one);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache-control");
	tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
	tcase_add_test(tc, cc_directives_and_arguments);
	tcase_add_test(tc, cc_quoted_values);
	tcase_add_test(tc, cc_bad_delta_seconds_are_ignored);
	tcase_add_test(tc, cc_duplicates_keep_the_most_restrictive);
	tcase_add_test(tc, cc_qualified_no_cache_and_private);
	tcase_add_test(tc, cc_qualified_field_names);
	tcase_add_test(tc, cc_pragma_only_in_requests_without_cache_control);
	tcase_add_test(tc, cc_extensions_and_junk_are_skipped);
	suite_add_tcase(s, tc);

	tc = tcase_create("refresh_pattern");
	tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
	tcase_add_test(tc, refresh_compiles_the_squid_defaults);
	tcase_add_test(tc, refresh_errors_name_the_line_and_the_form);
	suite_add_tcase(s, tc);

	tc = tcase_create("storable");
	tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
	tcase_add_loop_test(tc, storable_follows_section_3, 0,
	    ARRAY_LEN(storable_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("freshness");
	tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
	tcase_add_test(tc, lifetime_s_maxage_then_max_age_then_expires);
	tcase_add_test(tc, lifetime_heuristic_as_squid_refresh_pattern);
	tcase_add_test(tc, lifetime_heuristic_only_where_allowed);
	tcase_add_test(tc, lifetime_override_expire_extends_only);
	tcase_add_test(tc, meta_flags_and_extensions);
	tcase_add_test(tc, age_worked_through_4_2_3);
	tcase_add_test(tc, age_first_member_or_ignored_5_1);
	suite_add_tcase(s, tc);

	tc = tcase_create("use");
	tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
	tcase_add_test(tc, use_fresh_then_stale_at_the_lifetime);
	tcase_add_test(tc, use_request_max_age_min_fresh_max_stale);
	tcase_add_test(tc, use_no_cache_and_must_revalidate);
	tcase_add_test(tc, use_squid_reload_options);
	tcase_add_test(tc, use_stale_while_revalidate_window);
	tcase_add_test(tc, stale_if_error_windows);
	tcase_add_test(tc, max_stale_when_disconnected_4_2_4);
	suite_add_tcase(s, tc);

	tc = tcase_create("conditionals");
	tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
	tcase_add_test(tc, if_none_match_weak_comparison);
	tcase_add_test(tc, if_modified_since_against_last_modified_or_date);
	tcase_add_test(tc, merge_304_replaces_fields_keeps_framing);
	tcase_add_test(tc, msg_build_from_scratch);
	tcase_add_test(tc, without_fields_leaves_out_what_is_named);
	suite_add_tcase(s, tc);

	tc = tcase_create("vary");
	tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
	tcase_add_test(tc, vary_key_is_normalised);
	tcase_add_test(tc, vary_star_and_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("ranges");
	tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
	tcase_add_loop_test(tc, range_single_byte_range, 0,
	    ARRAY_LEN(range_cases));
	tcase_add_test(tc, range_only_for_get_and_one_field);
	tcase_add_test(tc, if_range_strong_validators_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("invalidation");
	tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
	tcase_add_loop_test(tc, invalidation_same_origin_only, 0,
	    ARRAY_LEN(inval_cases));
	tcase_add_test(tc, invalidation_content_location_and_limits);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(http_cache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
