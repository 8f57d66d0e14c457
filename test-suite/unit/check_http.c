/*
 * check_http.c - the strict HTTP/1.x parser (src/http/http_msg.c).
 *
 * Tables of bytes -> fields or error.  Every case is run three ways: the
 * whole input at once, one byte per call, and split in two at every
 * offset; the outcome must not depend on how the bytes arrived (that is
 * where folded lines and split values hide).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "buf/buf.h"
#include "http/http_msg.h"
#include "http/http_out.h"
#include "http/http_url.h"

#define MAX_HDR	4096

struct outcome {
	enum http_parse_status	st;
	enum http_err		err;
	unsigned		headers;	/* HEADERS events */
	char			body[256];
	size_t			bodylen;
	size_t			used;		/* input taken by message 1 */
	struct http_msg		msg;
};

static void
collect(void *arg, const char *at, size_t len)
{
	struct outcome *o = arg;

	ck_assert_uint_le(o->bodylen + len, sizeof o->body);
	memcpy(o->body + o->bodylen, at, len);
	o->bodylen += len;
}

/*
 * Parse one message from in, fed in pieces: first `split` bytes, then
 * `step` bytes per call (0: the rest at once).  eof: the peer closes
 * after the input.  Stops at DONE or ERROR.
 */
static void
run(struct outcome *o, enum http_msg_kind kind, const char *in, size_t len,
    size_t split, size_t step, bool no_body, bool eof)
{
	struct http_parser *p = http_parser_new(kind, MAX_HDR);
	size_t off = 0, n, used;

	memset(o, 0, sizeof *o);
	http_msg_init(&o->msg, kind);
	http_parser_start(p, &o->msg, no_body);
	o->st = HTTP_PARSE_AGAIN;
	while (o->st != HTTP_PARSE_DONE && o->st != HTTP_PARSE_ERROR) {
		if (off == len) {
			if (!eof)
				break;
			o->st = http_parse_eof(p, collect, o);
			break;
		}
		n = off < split ? split - off : step == 0 ? len - off : step;
		if (n > len - off)
			n = len - off;
		/* Call again on what is left until the parser wants more. */
		do {
			o->st = http_parse(p, in + off, n, &used, collect, o);
			ck_assert_uint_le(used, n);
			off += used;
			n -= used;
			if (o->st == HTTP_PARSE_HEADERS)
				o->headers++;
		} while ((o->st == HTTP_PARSE_HEADERS ||
		    (o->st == HTTP_PARSE_AGAIN && n > 0)));
	}
	o->err = http_parser_error(p);
	o->used = off;
	http_parser_free(&p);
}

static const char *
field(const struct http_msg *m, enum http_hdr_id id, char *buf, size_t len)
{
	const struct http_field *f = http_msg_field(m, id);

	if (f == NULL)
		return (NULL);
	snprintf(buf, len, "%.*s", (int)f->value.len,
	    http_msg_ptr(m, f->value));
	return (buf);
}

/* -- requests that parse ------------------------------------------------- */

struct good {
	const char	*name;
	const char	*in;
	const char	*method;	/* as written */
	const char	*target;
	unsigned	vminor;
	const char	*body;
	bool		keep_alive;
	uint8_t		framing;
};

static const struct good good_requests[] = {
	{ "absolute-form GET",
	  "GET http://e/a?b HTTP/1.1\r\nHost: e\r\n\r\n",
	  "GET", "http://e/a?b", 1, "", true, HTTP_BODY_NONE },
	{ "POST with Content-Length",
	  "POST http://e/ HTTP/1.1\r\nHost: e\r\nContent-Length: 5\r\n\r\n"
	  "hello",
	  "POST", "http://e/", 1, "hello", true, HTTP_BODY_LENGTH },
	{ "chunked with extension and trailer",
	  "PUT http://e/x HTTP/1.1\r\nHost: e\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n"
	  "5;name=val\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
	  "PUT", "http://e/x", 1, "hello world", true, HTTP_BODY_CHUNKED },
	{ "chunked in upper case",
	  "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	  "Transfer-Encoding: Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
	  "POST", "http://e/", 1, "x", true, HTTP_BODY_CHUNKED },
	{ "extension method",
	  "FROB http://e/ HTTP/1.1\r\nHost: e\r\n\r\n",
	  "FROB", "http://e/", 1, "", true, HTTP_BODY_NONE },
	{ "HTTP/1.0 closes by default",
	  "GET http://e/ HTTP/1.0\r\n\r\n",
	  "GET", "http://e/", 0, "", false, HTTP_BODY_NONE },
	{ "HTTP/1.0 keep-alive asked",
	  "GET http://e/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	  "GET", "http://e/", 0, "", true, HTTP_BODY_NONE },
	{ "HTTP/1.1 Connection: close",
	  "GET http://e/ HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n",
	  "GET", "http://e/", 1, "", false, HTTP_BODY_NONE },
	{ "empty lines before the request",
	  "\r\n\r\nGET http://e/ HTTP/1.1\r\nHost: e\r\n\r\n",
	  "GET", "http://e/", 1, "", true, HTTP_BODY_NONE },
	{ "HTTP/1.9 is taken as 1.1",
	  "GET http://e/ HTTP/1.9\r\nHost: e\r\n\r\n",
	  "GET", "http://e/", 1, "", true, HTTP_BODY_NONE },
	{ "Upgrade does not switch protocols",
	  "GET http://e/ HTTP/1.1\r\nHost: e\r\nConnection: Upgrade\r\n"
	  "Upgrade: websocket\r\n\r\n",
	  "GET", "http://e/", 1, "", true, HTTP_BODY_NONE },
	{ "CONNECT authority-form",
	  "CONNECT e:443 HTTP/1.1\r\nHost: e:443\r\n\r\n",
	  "CONNECT", "e:443", 1, "", true, HTTP_BODY_NONE },
	{ "obs-text in a value, empty value",
	  "GET http://e/ HTTP/1.1\r\nHost: e\r\nX-A: caf\xc3\xa9\r\n"
	  "X-Empty:\r\n\r\n",
	  "GET", "http://e/", 1, "", true, HTTP_BODY_NONE },
};

START_TEST(good_request_parses_the_same_however_split)
{
	const struct good *g = &good_requests[_i];
	size_t len = strlen(g->in), split;
	struct outcome o;
	const struct http_msg *m = &o.msg;

	for (split = 0; split <= len; split++) {
		run(&o, HTTP_MSG_REQUEST, g->in, len, split,
		    split == 0 ? 1 : 0, false, false);
		ck_assert_msg(o.st == HTTP_PARSE_DONE, "%s split %zu: st %d "
		    "err %s", g->name, split, o.st, http_err_text(o.err));
		ck_assert_uint_eq(o.headers, 1);
		ck_assert_uint_eq(o.used, len);
		ck_assert_uint_eq(m->method_name.len, strlen(g->method));
		ck_assert(memcmp(http_msg_ptr(m, m->method_name), g->method,
		    m->method_name.len) == 0);
		ck_assert_uint_eq(m->target.len, strlen(g->target));
		ck_assert(memcmp(http_msg_ptr(m, m->target), g->target,
		    m->target.len) == 0);
		ck_assert_uint_eq(m->vmajor, 1);
		ck_assert_uint_eq(m->vminor, g->vminor);
		ck_assert_uint_eq(o.bodylen, strlen(g->body));
		ck_assert(memcmp(o.body, g->body, o.bodylen) == 0);
		ck_assert_int_eq(m->keep_alive, g->keep_alive);
		ck_assert_uint_eq(m->body, g->framing);
		http_msg_fini(&o.msg);
	}
}
END_TEST

START_TEST(fields_keep_order_ids_and_trimmed_values)
{
	static const char in[] = "GET http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Cache-Control: no-cache \r\nX-Other:  a b\t\r\n"
	    "cache-control: max-age=0\r\nExpect: 100-continue\r\n\r\n";
	const struct http_field *f;
	struct outcome o;
	char buf[64];

	run(&o, HTTP_MSG_REQUEST, in, sizeof in - 1, 0, 0, false, false);
	ck_assert_int_eq(o.st, HTTP_PARSE_DONE);
	ck_assert_uint_eq(o.msg.nfields, 5);
	ck_assert_str_eq(field(&o.msg, HTTP_HDR_HOST, buf, sizeof buf), "e");
	f = http_msg_field(&o.msg, HTTP_HDR_CACHE_CONTROL);
	ck_assert_ptr_nonnull(f);
	ck_assert(memcmp(http_msg_ptr(&o.msg, f->value), "no-cache", 8) == 0);
	ck_assert_uint_eq(f->value.len, 8);
	f = http_msg_field_next(&o.msg, f);
	ck_assert_ptr_nonnull(f);
	ck_assert(memcmp(http_msg_ptr(&o.msg, f->name), "cache-control",
	    13) == 0);
	ck_assert_ptr_null(http_msg_field_next(&o.msg, f));
	ck_assert_uint_eq(o.msg.fields[2].id, HTTP_HDR_OTHER);
	ck_assert_ptr_eq(http_msg_field_named(&o.msg, "x-OTHER", 7),
	    &o.msg.fields[2]);
	ck_assert_ptr_eq(http_msg_field_named(&o.msg, "Cache-Control", 13),
	    &o.msg.fields[1]);		/* the first of two */
	ck_assert_ptr_null(http_msg_field_named(&o.msg, "X-Othe", 6));
	ck_assert_ptr_null(http_msg_field_named(&o.msg, "X-Others", 8));
	ck_assert(memcmp(http_msg_ptr(&o.msg, o.msg.fields[2].value), "a b",
	    3) == 0 && o.msg.fields[2].value.len == 3);
	ck_assert(o.msg.expect_continue);
	ck_assert(http_msg_has_token(&o.msg, HTTP_HDR_CACHE_CONTROL,
	    "MAX-AGE=0"));
	ck_assert(!http_msg_has_token(&o.msg, HTTP_HDR_CACHE_CONTROL,
	    "max-age"));
	/* raw keeps the header section exactly as received */
	ck_assert_uint_eq(o.msg.rawlen, sizeof in - 1);
	ck_assert(memcmp(o.msg.raw, in, o.msg.rawlen) == 0);
	http_msg_fini(&o.msg);
}
END_TEST

START_TEST(pipelined_requests_stop_at_each_message_end)
{
	static const char in[] =
	    "POST http://e/1 HTTP/1.1\r\nHost: e\r\nContent-Length: 2\r\n\r\nab"
	    "GET http://e/2 HTTP/1.1\r\nHost: e\r\n\r\n"
	    "GET http://e/3 HTTP/1.1\r\nHost: e\r\n\r\n";
	struct http_parser *p = http_parser_new(HTTP_MSG_REQUEST, MAX_HDR);
	const char *at = in;
	size_t left = sizeof in - 1, used;
	struct outcome o;
	struct http_msg m;
	int i;
	enum http_parse_status st;

	memset(&o, 0, sizeof o);
	for (i = 1; i <= 3; i++) {
		http_msg_init(&m, HTTP_MSG_REQUEST);
		http_parser_start(p, &m, false);
		do {
			st = http_parse(p, at, left, &used, collect, &o);
			at += used;
			left -= used;
		} while (st == HTTP_PARSE_HEADERS);
		ck_assert_int_eq(st, HTTP_PARSE_DONE);
		ck_assert_uint_eq(m.target.len, 10);
		ck_assert_int_eq(http_msg_ptr(&m, m.target)[9], '0' + i);
		http_msg_fini(&m);
	}
	ck_assert_uint_eq(left, 0);
	ck_assert_uint_eq(o.bodylen, 2);
	http_parser_free(&p);
}
END_TEST

/* -- requests that must be refused --------------------------------------- */

struct bad {
	const char	*name;
	const char	*in;
	size_t		len;		/* 0: strlen(in) */
	enum http_err	err;
};

#define BAD(name, in, err)	{ name, in, sizeof(in) - 1, err }

static const struct bad bad_requests[] = {
	BAD("CL then TE", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	    HTTP_E_CL_TE),
	BAD("TE then CL", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
	    HTTP_E_CL_TE),
	BAD("two Content-Length", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Content-Length: 3\r\nContent-Length: 4\r\n\r\n", HTTP_E_BAD_CL),
	BAD("Content-Length list", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Content-Length: 3, 3\r\n\r\n", HTTP_E_BAD_CL),
	BAD("negative Content-Length", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Content-Length: -1\r\n\r\n", HTTP_E_BAD_CL),
	BAD("huge Content-Length", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Content-Length: 99999999999999999999999\r\n\r\n", HTTP_E_BAD_CL),
	BAD("TE gzip", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n", HTTP_E_TE),
	BAD("TE chunked, gzip", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: chunked, gzip\r\n\r\n", HTTP_E_TE),
	BAD("TE gzip, chunked", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", HTTP_E_TE),
	BAD("TE in two lines", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    HTTP_E_TE),
	BAD("TE xchunked", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: xchunked\r\n\r\n", HTTP_E_TE),
	BAD("space before colon", "GET http://e/ HTTP/1.1\r\nHost : e\r\n\r\n",
	    HTTP_E_HDR_NAME),
	BAD("tab before colon", "GET http://e/ HTTP/1.1\r\nHost\t: e\r\n\r\n",
	    HTTP_E_HDR_NAME),
	BAD("empty name", "GET http://e/ HTTP/1.1\r\nHost: e\r\n: v\r\n\r\n",
	    HTTP_E_HDR_NAME),
	BAD("bad name", "GET http://e/ HTTP/1.1\r\nHost: e\r\nX(y): v\r\n\r\n",
	    HTTP_E_HDR_NAME),
	BAD("NUL in value", "GET http://e/ HTTP/1.1\r\nHost: e\r\nX: a\0b\r\n"
	    "\r\n", HTTP_E_HDR_VALUE),
	BAD("control in value", "GET http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "X: a\x01z\r\n\r\n", HTTP_E_HDR_VALUE),
	BAD("DEL in value", "GET http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "X: a\x7fz\r\n\r\n", HTTP_E_HDR_VALUE),
	BAD("obs-fold", "GET http://e/ HTTP/1.1\r\nHost: e\r\nX: a\r\n b\r\n"
	    "\r\n", HTTP_E_OBS_FOLD),
	BAD("obs-fold with tab", "GET http://e/ HTTP/1.1\r\nX: a\r\n\tb\r\n"
	    "Host: e\r\n\r\n", HTTP_E_OBS_FOLD),
	BAD("two Host", "GET http://e/ HTTP/1.1\r\nHost: e\r\nHost: f\r\n\r\n",
	    HTTP_E_DUP_HDR),
	BAD("bare LF in headers", "GET http://e/ HTTP/1.1\r\nHost: e\n\r\n",
	    HTTP_E_HDR_VALUE),
	BAD("bare CR in a value", "GET http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "X: 1\rB\r\n\r\n", HTTP_E_HDR_SYNTAX),
	BAD("bad chunk size", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nzz\r\n", HTTP_E_CHUNK),
	BAD("chunk size overflow", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
	    HTTP_E_CHUNK),
	BAD("chunk longer than its size", "POST http://e/ HTTP/1.1\r\nHost: e"
	    "\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n",
	    HTTP_E_CHUNK),
	BAD("chunk with bare LF", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n1\nx\n0\n\n", HTTP_E_CHUNK),
	BAD("chunk size with space", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n",
	    HTTP_E_CHUNK),
	BAD("bad chunk extension", "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n1;a\x01\r\nx\r\n0\r\n\r\n",
	    HTTP_E_CHUNK),
	BAD("bare LF after request line", "GET http://e/ HTTP/1.1\nHost: e\r\n"
	    "\r\n", HTTP_E_START_LINE),
	BAD("bare CR in request line", "GET http://e/ HTTP/1.1\rX\r\n\r\n",
	    HTTP_E_START_LINE),
	BAD("two spaces", "GET  http://e/ HTTP/1.1\r\nHost: e\r\n\r\n",
	    HTTP_E_START_LINE),
	BAD("HTTP/0.9", "GET /\r\n\r\n", HTTP_E_START_LINE),
	BAD("HTTP/2.0", "GET http://e/ HTTP/2.0\r\nHost: e\r\n\r\n",
	    HTTP_E_VERSION),
	BAD("lower-case version", "GET http://e/ http/1.1\r\nHost: e\r\n\r\n",
	    HTTP_E_START_LINE),
	BAD("method not a token", "GE(T http://e/ HTTP/1.1\r\n\r\n",
	    HTTP_E_METHOD),
	BAD("space in target", "GET http://e/a b HTTP/1.1\r\nHost: e\r\n\r\n",
	    HTTP_E_START_LINE),
	BAD("control in target", "GET http://e/\x01 HTTP/1.1\r\n\r\n",
	    HTTP_E_TARGET),
	BAD("8-bit target", "GET http://e/\xc3\xa9 HTTP/1.1\r\n\r\n",
	    HTTP_E_TARGET),
	BAD("CONNECT with a body", "CONNECT e:443 HTTP/1.1\r\nHost: e:443\r\n"
	    "Content-Length: 4\r\n\r\nabcd", HTTP_E_SYNTAX),
	BAD("garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n",
	    HTTP_E_METHOD),
};

/* A line that cannot become a request line is refused before its end
 * comes (a TLS ClientHello on the plain port would otherwise wait for
 * request_timeout). */
START_TEST(junk_is_refused_before_a_line_end)
{
	static const struct {
		const char	*in;
		size_t		len;
		enum http_err	err;
	} cases[] = {
		{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11,
		    HTTP_E_METHOD },
		{ "\x00", 1, HTTP_E_METHOD },
		{ "GE(T", 4, HTTP_E_METHOD },
		{ "GET http://e/\x01", 14, HTTP_E_TARGET },
		{ "GET http://e/\xc3", 14, HTTP_E_TARGET },
	};
	struct http_parser *p;
	struct http_msg msg;
	size_t i, used;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		p = http_parser_new(HTTP_MSG_REQUEST, 8192);
		http_msg_init(&msg, HTTP_MSG_REQUEST);
		http_parser_start(p, &msg, false);
		ck_assert_int_eq(http_parse(p, cases[i].in, cases[i].len,
		    &used, NULL, NULL), HTTP_PARSE_ERROR);
		ck_assert_int_eq(http_parser_error(p), cases[i].err);
		http_msg_fini(&msg);
		http_parser_free(&p);
	}
	/* Found by fuzz_request: junk past the header limit is a length
	 * fault whether it comes in one piece or after the limit was
	 * passed by an earlier one. */
	{
		char line[100];
		size_t cut;

		memset(line, 'O', sizeof line);
		line[80] = '\0';
		for (cut = 1; cut <= 81; cut += 80) {
			p = http_parser_new(HTTP_MSG_REQUEST, 64);
			http_msg_init(&msg, HTTP_MSG_REQUEST);
			http_parser_start(p, &msg, false);
			if (cut < 81 && http_parse(p, line, cut, &used, NULL,
			    NULL) == HTTP_PARSE_AGAIN)
				(void)http_parse(p, line + cut, 81 - cut,
				    &used, NULL, NULL);
			else if (cut == 81)
				(void)http_parse(p, line, 81, &used, NULL,
				    NULL);
			ck_assert_int_eq(http_parser_error(p),
			    HTTP_E_URI_TOO_LONG);
			http_msg_fini(&msg);
			http_parser_free(&p);
		}
	}
	/* What may yet become a request waits. */
	p = http_parser_new(HTTP_MSG_REQUEST, 8192);
	http_msg_init(&msg, HTTP_MSG_REQUEST);
	http_parser_start(p, &msg, false);
	ck_assert_int_eq(http_parse(p, "\r", 1, &used, NULL, NULL),
	    HTTP_PARSE_AGAIN);
	ck_assert_int_eq(http_parse(p, "\nGET http://e/a HTTP/1.", 23, &used,
	    NULL, NULL), HTTP_PARSE_AGAIN);
	http_msg_fini(&msg);
	http_parser_free(&p);
}
END_TEST

START_TEST(bad_request_is_refused_however_split)
{
	const struct bad *b = &bad_requests[_i];
	size_t split;
	struct outcome o;

	for (split = 0; split <= b->len; split++) {
		run(&o, HTTP_MSG_REQUEST, b->in, b->len, split,
		    split == 0 ? 1 : 0, false, false);
		ck_assert_msg(o.st == HTTP_PARSE_ERROR && o.err == b->err,
		    "%s split %zu: st %d err \"%s\", want \"%s\"", b->name,
		    split, o.st, http_err_text(o.err), http_err_text(b->err));
		http_msg_fini(&o.msg);
	}
}
END_TEST

START_TEST(limits_give_414_and_431)
{
	struct outcome o;
	char in[MAX_HDR * 2];

	memset(in, 'a', sizeof in);
	memcpy(in, "GET http://e/", 13);
	run(&o, HTTP_MSG_REQUEST, in, sizeof in, 0, 0, false, false);
	ck_assert_int_eq(o.err, HTTP_E_URI_TOO_LONG);
	ck_assert_uint_eq(http_err_status(o.err), 414);
	http_msg_fini(&o.msg);

	memcpy(in, "GET http://e/ HTTP/1.1\r\nX: ", 27);
	run(&o, HTTP_MSG_REQUEST, in, sizeof in, 0, 100, false, false);
	ck_assert_int_eq(o.err, HTTP_E_HDR_TOO_LARGE);
	ck_assert_uint_eq(http_err_status(o.err), 431);
	http_msg_fini(&o.msg);
}
END_TEST

START_TEST(eof_mid_message_is_incomplete_and_between_is_clean)
{
	static const char hdrs[] = "GET http://e/ HTTP/1.1\r\nHost: e\r\n";
	static const char body[] = "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Content-Length: 9\r\n\r\nabc";
	struct http_parser *p = http_parser_new(HTTP_MSG_REQUEST, MAX_HDR);
	struct http_msg m;
	struct outcome o;

	run(&o, HTTP_MSG_REQUEST, hdrs, sizeof hdrs - 1, 0, 0, false, true);
	ck_assert_int_eq(o.err, HTTP_E_INCOMPLETE);
	http_msg_fini(&o.msg);
	run(&o, HTTP_MSG_REQUEST, body, sizeof body - 1, 0, 0, false, true);
	ck_assert_int_eq(o.err, HTTP_E_INCOMPLETE);
	ck_assert_uint_eq(o.bodylen, 3);
	http_msg_fini(&o.msg);

	http_msg_init(&m, HTTP_MSG_REQUEST);
	http_parser_start(p, &m, false);
	ck_assert_int_eq(http_parse_eof(p, collect, &o), HTTP_PARSE_AGAIN);
	http_msg_fini(&m);
	http_parser_free(&p);
}
END_TEST

/* -- chunked bodies ------------------------------------------------------ */

/*
 * Chunked bodies (RFC 9112 7.1), each run as the body of a request and of
 * a reply, however split.  body NULL: refused with HTTP_E_CHUNK.  A DONE
 * must come exactly at the end of the input: the next message's bytes
 * are not the body's.
 */
struct chunk_case {
	const char	*name;
	const char	*in;
	size_t		len;
	const char	*body;
};

#define CHUNK_OK(name, in, body)	{ name, in, sizeof(in) - 1, body }
#define CHUNK_BAD(name, in)		{ name, in, sizeof(in) - 1, NULL }

static const struct chunk_case chunk_cases[] = {
	/* 7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name
	 *     [ BWS "=" BWS chunk-ext-val ] ) */
	CHUNK_OK("token value, then another extension",
	    "5;a=b;c=d\r\nhello\r\n0;a=b;c=d\r\n\r\n", "hello"),
	CHUNK_OK("token value, then a quoted one",
	    "5;a=b;c=\"q\"\r\nhello\r\n0\r\n\r\n", "hello"),
	CHUNK_OK("quoted value, then a token one",
	    "5;a=\"q\";b=1\r\nhello\r\n0\r\n\r\n", "hello"),
	CHUNK_OK("names alone", "5;a;b\r\nhello\r\n0;z\r\n\r\n", "hello"),
	CHUNK_OK("one extension", "5;ext=1\r\nhello\r\n0\r\n\r\n", "hello"),
	CHUNK_OK("BWS before ;", "5 ;a\r\nhello\r\n0\t;a\r\n\r\n", "hello"),
	CHUNK_OK("BWS after ;", "5; a;\tb=1\r\nhello\r\n0\r\n\r\n", "hello"),
	CHUNK_OK("BWS around =", "5;a =1;b= 2;c \t= \"x\"\r\nhello\r\n"
	    "0\r\n\r\n", "hello"),
	CHUNK_OK("BWS everywhere", "5 \t; a = b ; c ;d=\"e\" ;\tf\r\n"
	    "hello\r\n0\r\n\r\n", "hello"),
	CHUNK_OK("escaped quote in a quoted value",
	    "5;a=\"\\\"\"\r\nhello\r\n0;a=\"x\\\\\\\"y\"\r\n\r\n", "hello"),
	CHUNK_OK("quoted value with ; = SP HTAB obs-text",
	    "5;a=\"q; r=s\tt\xff\"\r\nhello\r\n0\r\n\r\n", "hello"),
	CHUNK_OK("quoted-pair of obs-text", "5;a=\"\\\xe9\"\r\nhello\r\n"
	    "0\r\n\r\n", "hello"),
	CHUNK_OK("empty quoted value", "5;a=\"\"\r\nhello\r\n0\r\n\r\n",
	    "hello"),
	CHUNK_OK("token characters", "5;!#$%&'*+-.^_`|~09AZaz="
	    "!#$%&'*+-.^_`|~09AZaz\r\nhello\r\n0\r\n\r\n", "hello"),
	CHUNK_OK("upper-case hex, leading zeros",
	    "000000000000000000000A\r\n0123456789\r\n00\r\n\r\n",
	    "0123456789"),
	CHUNK_OK("several chunks", "1\r\na\r\n2;x\r\nbc\r\n3\r\ndef\r\n"
	    "0\r\n\r\n", "abcdef"),
	CHUNK_OK("CRLF inside data is data", "4\r\n\r\n\r\n\r\n0\r\n\r\n",
	    "\r\n\r\n"),
	CHUNK_OK("trailers dropped", "5\r\nhello\r\n0\r\nX-A: 1\r\n"
	    "X-B:\r\nX-C: a\tb \xc3\xa9\r\n\r\n", "hello"),
	CHUNK_OK("empty body", "0\r\n\r\n", ""),

	CHUNK_BAD("bad hex", "zz\r\n"),
	CHUNK_BAD("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("bad hex after a digit", "5g\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("empty chunk-size", "\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("extension without a size", ";a\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("negative size", "-5\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("size 2^63", "8000000000000000\r\n"),
	CHUNK_BAD("17 significant digits", "00010000000000000000\r\n"),
	CHUNK_BAD("size 2^64 + 5", "10000000000000005\r\nhello\r\n"
	    "0\r\n\r\n"),
	CHUNK_BAD("chunk longer than its size", "1\r\nxy\r\n0\r\n\r\n"),
	CHUNK_BAD("no CRLF after data", "5\r\nhello0\r\n\r\n"),
	CHUNK_BAD("CR alone after data", "5\r\nhello\r0\r\n\r\n"),
	CHUNK_BAD("LF alone after data", "5\r\nhello\n0\r\n\r\n"),
	CHUNK_BAD("LF alone after size", "5\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("CR alone after size", "5\rhello\r\n0\r\n\r\n"),
	CHUNK_BAD("LF alone after an extension", "5;a=b\nhello\r\n"
	    "0\r\n\r\n"),
	CHUNK_BAD("LF alone after the last chunk", "5\r\nhello\r\n0\n\r\n"),
	CHUNK_BAD("LF alone ending the trailers", "5\r\nhello\r\n0\r\n\n"),
	CHUNK_BAD("LF alone after a trailer", "0\r\nX: y\n\r\n"),
	CHUNK_BAD("CR alone in a trailer", "0\r\nX: y\rz\r\n\r\n"),
	CHUNK_BAD("BWS before CRLF", "5 \r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("BWS after a name before CRLF", "5;a \r\nhello\r\n"
	    "0\r\n\r\n"),
	CHUNK_BAD("BWS after a value before CRLF", "5;a=b\t\r\nhello\r\n"
	    "0\r\n\r\n"),
	CHUNK_BAD("bad character in a name", "5;a@b\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("control character in a name", "1;a\x01\r\nx\r\n"
	    "0\r\n\r\n"),
	CHUNK_BAD("empty name", "5;=b\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("empty extension", "5;\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("two ;", "5;;a\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("quoted name", "5;\"a\"=b\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("empty value", "5;a=\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("two =", "5;a=b=c\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("space inside a token value", "5;a=b c\r\nhello\r\n"
	    "0\r\n\r\n"),
	CHUNK_BAD("bytes after a quoted value", "5;a=\"b\"c\r\nhello\r\n"
	    "0\r\n\r\n"),
	CHUNK_BAD("unterminated quoted value", "5;a=\"b\r\nhello\r\n"
	    "0\r\n\r\n"),
	CHUNK_BAD("quoted value ended by an escaped quote",
	    "5;a=\"b\\\"\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("control character in a quoted value",
	    "5;a=\"b\x01\"\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("DEL in a quoted value", "5;a=\"\x7f\"\r\nhello\r\n"
	    "0\r\n\r\n"),
	CHUNK_BAD("quoted-pair of LF", "5;a=\"\\\n\"\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("NUL in the size", "5\0\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("NUL in a name", "5;a\0\r\nhello\r\n0\r\n\r\n"),
	CHUNK_BAD("NUL in a quoted value", "5;a=\"\0\"\r\nhello\r\n"
	    "0\r\n\r\n"),
	CHUNK_BAD("NUL in a trailer value", "0\r\nX: a\0b\r\n\r\n"),
	CHUNK_BAD("NUL in a trailer name", "0\r\nX\0: a\r\n\r\n"),
	CHUNK_BAD("control character in a trailer value",
	    "0\r\nX: a\x01\r\n\r\n"),
	CHUNK_BAD("obs-fold in the trailers", "0\r\nX: a\r\n b\r\n\r\n"),
	CHUNK_BAD("obs-fold with HTAB in the trailers",
	    "0\r\nX: a\r\n\tb\r\n\r\n"),
	CHUNK_BAD("whitespace before the first trailer", "0\r\n X: a\r\n"
	    "\r\n"),
	CHUNK_BAD("whitespace before a trailer's colon",
	    "0\r\nX : a\r\n\r\n"),
	CHUNK_BAD("trailer without a colon", "0\r\nXY\r\n\r\n"),
	CHUNK_BAD("trailer with an empty name", "0\r\n: a\r\n\r\n"),
};

static const char chunk_req_head[] = "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";
static const char chunk_rep_head[] = "HTTP/1.1 200 OK\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

/* The header section of kind, then body: in a buffer to free. */
static char *
chunk_input(enum http_msg_kind kind, const char *body, size_t blen,
    size_t *len)
{
	const char *head = kind == HTTP_MSG_REQUEST ? chunk_req_head :
	    chunk_rep_head;
	size_t hlen = strlen(head);
	char *in = malloc(hlen + blen);

	ck_assert_ptr_nonnull(in);
	memcpy(in, head, hlen);
	memcpy(in + hlen, body, blen);
	*len = hlen + blen;
	return (in);
}

/* Run body (blen bytes) as a request's and a reply's, split everywhere:
 * want NULL for HTTP_E_CHUNK, else the content it decodes to. */
static void
chunk_check(const char *name, const char *body, size_t blen, const char *want)
{
	static const enum http_msg_kind kinds[] = { HTTP_MSG_REQUEST,
	    HTTP_MSG_RESPONSE };
	struct outcome o;
	size_t k, len, split;
	char *in;

	for (k = 0; k < ARRAY_LEN(kinds); k++) {
		in = chunk_input(kinds[k], body, blen, &len);
		for (split = 0; split <= len; split++) {
			run(&o, kinds[k], in, len, split, split == 0 ? 1 : 0,
			    false, false);
			if (want == NULL) {
				ck_assert_msg(o.st == HTTP_PARSE_ERROR &&
				    o.err == HTTP_E_CHUNK, "%s (%s) split %zu:"
				    " st %d err \"%s\"", name, k == 0 ?
				    "request" : "reply", split, o.st,
				    http_err_text(o.err));
			} else {
				ck_assert_msg(o.st == HTTP_PARSE_DONE, "%s "
				    "(%s) split %zu: st %d err \"%s\"", name,
				    k == 0 ? "request" : "reply", split, o.st,
				    http_err_text(o.err));
				ck_assert_uint_eq(o.used, len);
				ck_assert_uint_eq(o.msg.body,
				    HTTP_BODY_CHUNKED);
				ck_assert_uint_eq(o.bodylen, strlen(want));
				ck_assert(memcmp(o.body, want,
				    o.bodylen) == 0);
			}
			http_msg_fini(&o.msg);
		}
		free(in);
	}
}

START_TEST(chunked_body_parses_the_same_however_split)
{
	const struct chunk_case *c = &chunk_cases[_i];

	chunk_check(c->name, c->in, c->len, c->body);
}
END_TEST

/* The message ends on the LF of the empty line after the trailers; what
 * follows is the next message, pipelined or on a reused connection. */
START_TEST(chunked_message_stops_at_its_end)
{
	static const char in[] = "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "5 ; a = \"\\\"\" ; b\r\nhello\r\n0;c=d;e=f\r\nT: 1\r\n\r\n"
	    "GET http://e/2 HTTP/1.1\r\nHost: e\r\n\r\n";
	static const char next[] = "GET http://e/2";
	struct outcome o;
	size_t len = sizeof in - 1, split;
	const char *end = strstr(in, next);

	for (split = 0; split <= len; split++) {
		run(&o, HTTP_MSG_REQUEST, in, len, split, split == 0 ? 1 : 0,
		    false, false);
		ck_assert_int_eq(o.st, HTTP_PARSE_DONE);
		ck_assert_uint_eq(o.used, (size_t)(end - in));
		ck_assert_uint_eq(o.bodylen, 5);
		ck_assert(memcmp(o.body, "hello", 5) == 0);
		http_msg_fini(&o.msg);
	}
}
END_TEST

/*
 * A chunk line (CRLF included) may hold 4096 bytes and the trailer
 * section max_header (MAX_HDR here): at the limit the body parses, one
 * byte over it is HTTP_E_CHUNK, in the first chunk line, the last one
 * and the trailers.
 */
START_TEST(chunk_line_and_trailer_limits)
{
	static char body[3 * MAX_HDR];
	size_t over, n;
	char *s;

	for (over = 0; over <= 1; over++) {
		/* "1;" name CRLF: 4096 bytes, and one more */
		s = body;
		memcpy(s, "1;", 2);
		memset(s + 2, 'n', 4092 + over);
		s += 4094 + over;
		memcpy(s, "\r\nx\r\n0\r\n\r\n", 10);
		n = (size_t)(s - body) + 10;
		chunk_check("chunk line", body, n, over ? NULL : "x");

		/* the last chunk's line */
		memcpy(body, "1\r\nx\r\n0;", 8);
		memset(body + 8, 'n', 4092 + over);
		memcpy(body + 8 + 4092 + over, "\r\n\r\n", 4);
		chunk_check("last chunk line", body, 8 + 4092 + over + 4,
		    over ? NULL : "x");

		/* "X: " value CRLF CRLF: MAX_HDR bytes, and one more */
		memcpy(body, "1\r\nx\r\n0\r\nX: ", 12);
		memset(body + 12, 'v', MAX_HDR - 7 + over);
		memcpy(body + 12 + MAX_HDR - 7 + over, "\r\n\r\n", 4);
		chunk_check("trailers", body, 12 + MAX_HDR - 7 + over + 4,
		    over ? NULL : "x");
	}
}
END_TEST

/* RFC 9112 7.1: the largest chunk-size, 2^63 - 1, is taken (its data
 * then waits); 2^63 is not. */
START_TEST(chunk_size_limit)
{
	static const char *const sizes[] = { "7fffffffffffffff",
	    "000000007FFFFFFFFFFFFFFF", "8000000000000000" };
	struct outcome o;
	char body[64];
	size_t i, len;
	int n;
	char *in;

	for (i = 0; i < ARRAY_LEN(sizes); i++) {
		n = snprintf(body, sizeof body, "%s\r\nabc", sizes[i]);
		in = chunk_input(HTTP_MSG_RESPONSE, body, (size_t)n, &len);
		run(&o, HTTP_MSG_RESPONSE, in, len, 0, 1, false, false);
		if (i < 2) {
			ck_assert_int_eq(o.st, HTTP_PARSE_AGAIN);
			ck_assert_uint_eq(o.bodylen, 3);
		} else {
			ck_assert_int_eq(o.st, HTTP_PARSE_ERROR);
			ck_assert_int_eq(o.err, HTTP_E_CHUNK);
		}
		http_msg_fini(&o.msg);
		free(in);
	}
}
END_TEST

/* -- replies ----------------------------------------------------------------- */

START_TEST(reply_framings)
{
	static const struct {
		const char	*in;
		bool		no_body, eof;
		unsigned	status;
		uint8_t		framing;
		const char	*body;
		bool		coded;		/* http_msg_te_coded() */
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
		  false, false, 200, HTTP_BODY_LENGTH, "abc", false },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "3\r\nabc\r\n0\r\n\r\n",
		  false, false, 200, HTTP_BODY_CHUNKED, "abc", false },
		{ "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nuntil close",
		  false, true, 200, HTTP_BODY_CLOSE, "until close", false },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
		  true, false, 200, HTTP_BODY_NONE, "", false },
		{ "HTTP/1.1 204 No Content\r\n\r\n",
		  false, false, 204, HTTP_BODY_NONE, "", false },
		{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n",
		  false, false, 304, HTTP_BODY_NONE, "", false },
		{ "HTTP/1.1 100 Continue\r\n\r\n",
		  false, false, 100, HTTP_BODY_NONE, "", false },
		{ "HTTP/1.0 200\r\nContent-Length: 1\r\n\r\nz",
		  false, false, 200, HTTP_BODY_LENGTH, "z", false },
		/* RFC 9112 6.3 rule 4: chunked not final, read until the
		 * server closes; the content stays as it came. */
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"
		  "\x1f\x8b coded",
		  false, true, 200, HTTP_BODY_CLOSE, "\x1f\x8b coded", true },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n"
		  "\r\n3\r\nabc\r\n0\r\n\r\n",
		  false, true, 200, HTTP_BODY_CLOSE, "3\r\nabc\r\n0\r\n\r\n",
		  true },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		  "Transfer-Encoding: x-unknown\r\n\r\nxyz",
		  false, true, 200, HTTP_BODY_CLOSE, "xyz", true },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: x-p;q=\"a,b\"\r\n"
		  "\r\nxyz",
		  false, true, 200, HTTP_BODY_CLOSE, "xyz", true },
		{ "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz",
		  false, true, 200, HTTP_BODY_CLOSE, "xyz", true },
		/* Chunked final: decoded; what came before it stays. */
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
		  "\r\n3\r\nabc\r\n0\r\n\r\n",
		  false, false, 200, HTTP_BODY_CHUNKED, "abc", true },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		  false, false, 200, HTTP_BODY_CHUNKED, "abc", true },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
		  "3\r\nabc\r\n0\r\n\r\n",
		  false, false, 200, HTTP_BODY_CHUNKED, "abc", false },
		/* No content whatever the codings say: nothing is read
		 * after the header section. */
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		  true, false, 200, HTTP_BODY_NONE, "", true },
		{ "HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n"
		  "\r\n",
		  false, false, 204, HTTP_BODY_NONE, "", true },
		{ "HTTP/1.1 304 Not Modified\r\n"
		  "Transfer-Encoding: chunked, gzip\r\n\r\n",
		  false, false, 304, HTTP_BODY_NONE, "", true },
	};
	struct outcome o;
	size_t i, len, split;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		len = strlen(cases[i].in);
		for (split = 0; split <= len; split++) {
			run(&o, HTTP_MSG_RESPONSE, cases[i].in, len, split,
			    split == 0 ? 1 : 0, cases[i].no_body,
			    cases[i].eof);
			ck_assert_msg(o.st == HTTP_PARSE_DONE, "case %zu "
			    "split %zu: st %d err %s", i, split, o.st,
			    http_err_text(o.err));
			ck_assert_uint_eq(o.msg.status, cases[i].status);
			ck_assert_uint_eq(o.msg.body, cases[i].framing);
			ck_assert_uint_eq(o.bodylen, strlen(cases[i].body));
			ck_assert(memcmp(o.body, cases[i].body,
			    o.bodylen) == 0);
			ck_assert_uint_eq(o.used, len);
			ck_assert_msg(http_msg_te_coded(&o.msg) ==
			    cases[i].coded, "case %zu: coded", i);
			http_msg_fini(&o.msg);
		}
	}
}
END_TEST

START_TEST(bad_replies_are_refused)
{
	static const struct bad cases[] = {
		BAD("CL with TE", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n", HTTP_E_CL_TE),
		/* RFC 9112 6.3 rule 3 lets TE win, and says "ought to be
		 * handled as an error": cuttle takes the error. */
		BAD("CL with TE gzip", "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\nabc",
		    HTTP_E_CL_TE),
		BAD("TE gzip then CL", "HTTP/1.1 200 OK\r\n"
		    "Transfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
		    HTTP_E_CL_TE),
		/* RFC 9112 6.1: chunked at most once. */
		BAD("TE chunked, chunked", "HTTP/1.1 200 OK\r\n"
		    "Transfer-Encoding: chunked, chunked\r\n\r\n"
		    "0\r\n\r\n", HTTP_E_TE),
		BAD("TE chunked in two lines", "HTTP/1.1 200 OK\r\n"
		    "Transfer-Encoding: chunked\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", HTTP_E_TE),
		BAD("TE chunked, gzip, chunked", "HTTP/1.1 200 OK\r\n"
		    "Transfer-Encoding: chunked, gzip, chunked\r\n\r\n"
		    "0\r\n\r\n", HTTP_E_TE),
		BAD("TE without a coding", "HTTP/1.1 200 OK\r\n"
		    "Transfer-Encoding: ,\r\n\r\nabc", HTTP_E_TE),
		BAD("obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n"
		    "Content-Length: 0\r\n\r\n", HTTP_E_OBS_FOLD),
		BAD("status 2000", "HTTP/1.1 2000 OK\r\n\r\n",
		    HTTP_E_STATUS_LINE),
		BAD("HTTP/2", "HTTP/2.0 200 OK\r\n\r\n", HTTP_E_VERSION),
		/* fuzz_response: taken as an interim 1xx */
		BAD("status 050", "HTTP/1.1 050 OK\r\n\r\n",
		    HTTP_E_STATUS_LINE),
		/* fuzz_response: llhttp passes them in the reason phrase */
		BAD("NUL in reason", "HTTP/1.1 304 Not Modified\0\r\n\r\n",
		    HTTP_E_STATUS_LINE),
		BAD("control in reason", "HTTP/1.1 200 O\x01K\r\n"
		    "Content-Length: 0\r\n\r\n", HTTP_E_STATUS_LINE),
		BAD("garbage", "garbage garbage\r\n\r\n", HTTP_E_STATUS_LINE),
		BAD("short body at close", "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 10\r\n\r\nabc", HTTP_E_INCOMPLETE),
		BAD("unterminated chunks at close", "HTTP/1.1 200 OK\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
		    HTTP_E_INCOMPLETE),
	};
	struct outcome o;
	size_t i, split;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		for (split = 0; split <= cases[i].len; split++) {
			run(&o, HTTP_MSG_RESPONSE, cases[i].in, cases[i].len,
			    split, split == 0 ? 1 : 0, false, true);
			ck_assert_msg(o.st == HTTP_PARSE_ERROR &&
			    o.err == cases[i].err, "%s split %zu: st %d err "
			    "\"%s\"", cases[i].name, split, o.st,
			    http_err_text(o.err));
			http_msg_fini(&o.msg);
		}
	}
}
END_TEST

/* RFC 9112 6.3 rules 1 and 2: a reply without content leaves the
 * connection as it was, whatever its framing fields say. */
START_TEST(reply_without_content_keeps_the_connection)
{
	static const struct {
		const char	*in;
		bool		no_body, keep_alive;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		  true, true },
		{ "HTTP/1.1 200 OK\r\nX: y\r\n\r\n", true, true },
		{ "HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n"
		  "\r\n", false, true },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
		  "Connection: close\r\n\r\n", true, false },
		{ "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		  true, false },
		/* With content, it ends with the close. */
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		  false, false },
	};
	struct outcome o;
	size_t i, len, split;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		len = strlen(cases[i].in);
		for (split = 0; split <= len; split++) {
			run(&o, HTTP_MSG_RESPONSE, cases[i].in, len, split,
			    split == 0 ? 1 : 0, cases[i].no_body, true);
			ck_assert_msg(o.st == HTTP_PARSE_DONE, "case %zu "
			    "split %zu: st %d err %s", i, split, o.st,
			    http_err_text(o.err));
			ck_assert_msg(o.msg.keep_alive == cases[i].keep_alive,
			    "case %zu split %zu: keep_alive", i, split);
			http_msg_fini(&o.msg);
		}
	}
}
END_TEST

/* RFC 9112 6.1: the codings the content still has once a final chunked is
 * decoded go to the next hop as they came, in order. */
START_TEST(te_codings_are_named_for_the_next_hop)
{
	static const struct {
		const char	*te;		/* the Transfer-Encoding lines */
		const char	*out;
	} cases[] = {
		{ "Transfer-Encoding: gzip\r\n",
		  "Transfer-Encoding: gzip\r\n" },
		{ "Transfer-Encoding: gzip, chunked\r\n",
		  "Transfer-Encoding: gzip\r\n" },
		{ "Transfer-Encoding: chunked, gzip\r\n",
		  "Transfer-Encoding: chunked, gzip\r\n" },
		{ "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
		  "Transfer-Encoding: gzip\r\n" },
		{ "Transfer-Encoding: chunked\r\nTransfer-Encoding: x-a\r\n",
		  "Transfer-Encoding: chunked, x-a\r\n" },
		{ "Transfer-Encoding: ,x-p;q=\"a,b\" ,\t deflate ,chunked\r\n",
		  "Transfer-Encoding: x-p;q=\"a,b\", deflate\r\n" },
		{ "Transfer-Encoding: chunked\r\n", "" },
		{ "Content-Length: 0\r\n", "" },
	};
	struct buf_pool *pool = buf_pool_new(0);
	struct buf_chain out;
	struct outcome o;
	char in[256], got[256];
	size_t i, len;
	int n;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		n = snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\n%s\r\n",
		    cases[i].te);
		run(&o, HTTP_MSG_RESPONSE, in, (size_t)n, 0, 0, true, false);
		ck_assert_msg(o.st == HTTP_PARSE_DONE, "case %zu: %s", i,
		    http_err_text(o.err));
		buf_chain_init(&out, pool);
		ck_assert_int_eq(http_out_te_codings(&o.msg, &out), 0);
		len = buf_chain_copyout(&out, 0, got, sizeof got - 1);
		got[len] = '\0';
		ck_assert_str_eq(got, cases[i].out);
		ck_assert(http_msg_te_coded(&o.msg) == (len > 0));
		buf_chain_fini(&out);
		http_msg_fini(&o.msg);
	}
	buf_pool_free(&pool);
}
END_TEST

/* RFC 9110 7.6.1: a header section goes on without hop-by-hop fields,
 * those Connection names, and those the caller writes itself; the rest
 * in order, "Name: value", however they were spaced. */
START_TEST(fields_go_on_without_hop_by_hop_ones)
{
	static const struct {
		const char	*in;		/* the fields */
		const char	*out;
	} cases[] = {
		{ "A: 1\r\nB: 2\r\nConnection: keep-alive\r\nC: 3\r\n",
		  "A: 1\r\nB: 2\r\nC: 3\r\n" },
		{ "A:1\r\nB:  2 \r\nC: 3\r\nD:\t4\r\n",
		  "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n" },
		{ "X-A: 1\r\nConnection: x-a, close\r\nx-b: 2\r\n"
		  "Keep-Alive: 5\r\nVia: 1.1 p\r\nE:\r\nF: 6\r\n",
		  "x-b: 2\r\nE: \r\nF: 6\r\n" },
		{ "Connection: a, b, c, d, e, f, g, h, i, j\r\nA: 1\r\n"
		  "J: 2\r\nK: 3\r\n", "K: 3\r\n" },
		{ "A: 1\r\nConnection: a\r\nConnection: b\r\nB: 2\r\n"
		  "C: 3\r\n", "C: 3\r\n" },
	};
	struct buf_pool *pool = buf_pool_new(0);
	struct buf_chain out;
	struct outcome o;
	char in[256], got[256];
	size_t i, len;
	int n;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		n = snprintf(in, sizeof in, "HTTP/1.1 204 No Content\r\n%s"
		    "\r\n", cases[i].in);
		run(&o, HTTP_MSG_RESPONSE, in, (size_t)n, 0, 0, true, false);
		ck_assert_msg(o.st == HTTP_PARSE_DONE, "case %zu: %s", i,
		    http_err_text(o.err));
		buf_chain_init(&out, pool);
		ck_assert_int_eq(http_out_fields(&o.msg,
		    HTTP_HDR_BIT(HTTP_HDR_VIA), &out), 0);
		len = buf_chain_copyout(&out, 0, got, sizeof got - 1);
		got[len] = '\0';
		ck_assert_msg(strcmp(got, cases[i].out) == 0,
		    "case %zu: got \"%s\"", i, got);
		buf_chain_fini(&out);
		http_msg_fini(&o.msg);
	}
	buf_pool_free(&pool);
}
END_TEST

START_TEST(interim_reply_then_final_on_one_parser)
{
	static const char in[] = "HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct http_parser *p = http_parser_new(HTTP_MSG_RESPONSE, MAX_HDR);
	const char *at = in;
	size_t left = sizeof in - 1, used;
	struct outcome o;
	struct http_msg m;
	enum http_parse_status st;
	unsigned want[2] = { 100, 200 };
	int i;

	memset(&o, 0, sizeof o);
	for (i = 0; i < 2; i++) {
		http_msg_init(&m, HTTP_MSG_RESPONSE);
		http_parser_start(p, &m, false);
		do {
			st = http_parse(p, at, left, &used, collect, &o);
			at += used;
			left -= used;
		} while (st == HTTP_PARSE_HEADERS);
		ck_assert_int_eq(st, HTTP_PARSE_DONE);
		ck_assert_uint_eq(m.status, want[i]);
		http_msg_fini(&m);
	}
	ck_assert_uint_eq(o.bodylen, 2);
	http_parser_free(&p);
}
END_TEST

START_TEST(header_and_method_tables)
{
	ck_assert_int_eq(http_hdr_lookup("content-LENGTH", 14),
	    HTTP_HDR_CONTENT_LENGTH);
	ck_assert_int_eq(http_hdr_lookup("X-Forwarded-For", 15),
	    HTTP_HDR_X_FORWARDED_FOR);
	ck_assert_int_eq(http_hdr_lookup("Accept", 6), HTTP_HDR_ACCEPT);
	ck_assert_int_eq(http_hdr_lookup("Host2", 5), HTTP_HDR_OTHER);
	ck_assert_int_eq(http_hdr_lookup("Hos", 3), HTTP_HDR_OTHER);
	ck_assert(http_hdr_flags(HTTP_HDR_TRANSFER_ENCODING) & HH_HOP);
	ck_assert(!(http_hdr_flags(HTTP_HDR_HOST) & HH_HOP));
	ck_assert_int_eq(http_method_lookup("PURGE", 5), HTTP_M_PURGE);
	ck_assert_int_eq(http_method_lookup("get", 3), HTTP_M_OTHER);
	ck_assert(http_method_flags(HTTP_M_PUT) & HM_IDEMPOTENT);
	ck_assert(!(http_method_flags(HTTP_M_POST) & HM_IDEMPOTENT));
}
END_TEST

/* The binary search needs the table sorted: every name must find itself. */
START_TEST(every_known_header_finds_itself)
{
	unsigned id;
	const char *name;

	for (id = 1; id < HTTP_HDR__COUNT; id++) {
		name = http_hdr_name((enum http_hdr_id)id);
		ck_assert_msg(http_hdr_lookup(name, strlen(name)) == id,
		    "%s not found: http_hdr_tbl.h out of order", name);
	}
}
END_TEST

/* -- request targets ------------------------------------------------------- */

START_TEST(url_forms_parse_into_spans)
{
	static const struct {
		const char	*in;
		int		connect;
		uint8_t		form, scheme;
		const char	*host;
		unsigned	port;
		const char	*path;
	} cases[] = {
		{ "http://example.com/a/b?c=d", 0, HTTP_URL_ABSOLUTE,
		  HTTP_SCHEME_HTTP, "example.com", 80, "/a/b?c=d" },
		{ "HTTP://Example.COM:8080", 0, HTTP_URL_ABSOLUTE,
		  HTTP_SCHEME_HTTP, "Example.COM", 8080, "" },
		{ "http://e:/x", 0, HTTP_URL_ABSOLUTE, HTTP_SCHEME_HTTP, "e",
		  80, "/x" },
		{ "http://e?q", 0, HTTP_URL_ABSOLUTE, HTTP_SCHEME_HTTP, "e",
		  80, "?q" },
		{ "https://[2001:db8::1]:8443/", 0, HTTP_URL_ABSOLUTE,
		  HTTP_SCHEME_HTTPS, "2001:db8::1", 8443, "/" },
		{ "ftp://e/f", 0, HTTP_URL_ABSOLUTE, HTTP_SCHEME_OTHER, "e", 0,
		  "/f" },
		{ "http://127.0.0.1:3128/squid-internal-mgr/info", 0,
		  HTTP_URL_ABSOLUTE, HTTP_SCHEME_HTTP, "127.0.0.1", 3128,
		  "/squid-internal-mgr/info" },
		{ "http://e/%41%7e", 0, HTTP_URL_ABSOLUTE, HTTP_SCHEME_HTTP,
		  "e", 80, "/%41%7e" },
		{ "e.com:443", 1, HTTP_URL_AUTHORITY, HTTP_SCHEME_NONE,
		  "e.com", 443, "" },
		{ "[::1]:8443", 1, HTTP_URL_AUTHORITY, HTTP_SCHEME_NONE, "::1",
		  8443, "" },
		{ "/squid-internal-mgr/menu", 0, HTTP_URL_ORIGIN,
		  HTTP_SCHEME_NONE, "", 0, "/squid-internal-mgr/menu" },
		{ "*", 0, HTTP_URL_ASTERISK, HTTP_SCHEME_NONE, "", 0, "" },
	};
	struct http_url u;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const char *in = cases[i].in;

		ck_assert_msg(http_url_parse(in, strlen(in), cases[i].connect,
		    &u) == 0, "%s refused", in);
		ck_assert_uint_eq(u.form, cases[i].form);
		ck_assert_uint_eq(u.scheme, cases[i].scheme);
		ck_assert_uint_eq(u.host_len, strlen(cases[i].host));
		ck_assert(memcmp(in + u.host_off, cases[i].host,
		    u.host_len) == 0);
		ck_assert_uint_eq(u.port, cases[i].port);
		ck_assert_uint_eq(u.path_len, strlen(cases[i].path));
		ck_assert(memcmp(in + u.path_off, cases[i].path,
		    u.path_len) == 0);
	}
}
END_TEST

START_TEST(url_refuses_malformed_targets)
{
	static const struct {
		const char	*in;
		int		connect;
	} cases[] = {
		{ "http://user:pw@e/", 0 },	/* userinfo, RFC 9110 4.2.4 */
		{ "http:///x", 0 },		/* empty host */
		{ "http://e:99999/", 0 },
		{ "http://e:0/", 0 },
		{ "http://e:8a/", 0 },
		{ "http://e/a#frag", 0 },
		{ "http://e/a b", 0 },
		{ "http://e/%zz", 0 },
		{ "http://e/%4", 0 },
		{ "http://e\"/", 0 },
		{ "http://[::1/", 0 },
		{ "http://[zz]/", 0 },
		{ "http://[::1]x/", 0 },
		{ "http:/e/", 0 },
		{ "1http://e/", 0 },
		{ "e.com/x", 0 },
		{ "", 0 },
		{ "e.com", 1 },			/* CONNECT needs a port */
		{ "e.com:", 1 },
		{ "e.com:443/x", 1 },
		{ "http://e.com:443", 1 },
	};
	struct http_url u;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		ck_assert_msg(http_url_parse(cases[i].in, strlen(cases[i].in),
		    cases[i].connect, &u) == -EINVAL, "%s accepted",
		    cases[i].in);
}
END_TEST

/* Found by fuzz_url: "[::1" NUL... "]" passed inet_pton(), which stopped
 * at the NUL, and the host kept the bytes after it. */
START_TEST(url_refuses_nul_in_ip6_literal)
{
	static const char in[] = "http://[::1\0evil]:8080/";
	struct http_url u;

	ck_assert_int_eq(http_url_parse(in, sizeof in - 1, 0, &u), -EINVAL);
	ck_assert_int_eq(http_url_parse("[::1\0x]:443", 11, 1, &u), -EINVAL);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc;

	tc = tcase_create("requests");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, good_request_parses_the_same_however_split, 0,
	    ARRAY_LEN(good_requests));
	tcase_add_test(tc, fields_keep_order_ids_and_trimmed_values);
	tcase_add_test(tc, pipelined_requests_stop_at_each_message_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("smuggling");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, junk_is_refused_before_a_line_end);
	tcase_add_loop_test(tc, bad_request_is_refused_however_split, 0,
	    ARRAY_LEN(bad_requests));
	tcase_add_test(tc, limits_give_414_and_431);
	tcase_add_test(tc, eof_mid_message_is_incomplete_and_between_is_clean);
	suite_add_tcase(s, tc);

	tc = tcase_create("chunked");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, chunked_body_parses_the_same_however_split, 0,
	    ARRAY_LEN(chunk_cases));
	tcase_add_test(tc, chunked_message_stops_at_its_end);
	tcase_add_test(tc, chunk_line_and_trailer_limits);
	tcase_add_test(tc, chunk_size_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("replies");
	tcase_add_test(tc, reply_framings);
	tcase_add_test(tc, bad_replies_are_refused);
	tcase_add_test(tc, te_codings_are_named_for_the_next_hop);
	tcase_add_test(tc, fields_go_on_without_hop_by_hop_ones);
	tcase_add_test(tc, reply_without_content_keeps_the_connection);
	tcase_add_test(tc, interim_reply_then_final_on_one_parser);
	suite_add_tcase(s, tc);

	tc = tcase_create("urls");
	tcase_add_test(tc, url_forms_parse_into_spans);
	tcase_add_test(tc, url_refuses_malformed_targets);
	tcase_add_test(tc, url_refuses_nul_in_ip6_literal);
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_test(tc, header_and_method_tables);
	tcase_add_test(tc, every_known_header_finds_itself);
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
