/*
 * check_fwd.c - unit tests for forwarding one request: request content
 * on its way to an origin on loopback, under memory pressure.  The
 * origin is a plain listening socket the test accepts from and reads.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "buf/buf.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "fwd/fwd.h"
#include "http/http_msg.h"
#include "store/store.h"
#include "calloc_fail.h"
#include "comm_test.h"

static struct comm_loop *loop;
static struct conf *conf;
static struct dns_resolver *dns;
static struct fwd_ctx *ctx;
static struct store_entry *e;
static struct http_msg req;
static struct sockaddr_in origin;
static int lfd;
static char host[32];

struct sent_rec {
	int	calls;
	bool	ok;
};

static void
on_sent(struct fwd *f, bool ok, void *arg)
{
	struct sent_rec *r = arg;

	(void)f;
	r->calls++;
	r->ok = ok;
}

static void
on_done(struct fwd *f, void *arg)
{
	(void)f;
	(*(int *)arg)++;
}

/* A POST with 5 bytes of content for the origin, parsed into req. */
static void
setup(void)
{
	struct dns_params p;
	struct http_parser *hp;
	char text[256];
	size_t used;
	int n;

	loop = comm_loop_new();
	ck_assert_ptr_nonnull(loop);
	conf = conf_new();
	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(conf_finish(conf), 0);		/* the defaults */
	memset(&p, 0, sizeof p);
	p.nameservers[0] = "127.0.0.1:1";	/* never asked: a literal */
	p.nnameservers = 1;
	p.timeout = 1;
	p.positive_ttl = 60;
	p.negative_ttl = 60;
	dns = dns_resolver_new(loop, &p);
	ck_assert_ptr_nonnull(dns);
	ctx = fwd_ctx_new(loop, dns, conf);
	ck_assert_ptr_nonnull(ctx);
	lfd = tcp_listener(&origin, 4);
	snprintf(host, sizeof host, "127.0.0.1:%u",
	    (unsigned)ntohs(origin.sin_port));
	n = snprintf(text, sizeof text, "POST http://%s/x HTTP/1.1\r\n"
	    "Host: %s\r\nContent-Length: 5\r\n\r\n", host, host);
	hp = http_parser_new(HTTP_MSG_REQUEST, 8192);
	ck_assert_ptr_nonnull(hp);
	http_msg_init(&req, HTTP_MSG_REQUEST);
	http_parser_start(hp, &req, false);
	ck_assert_int_eq(http_parse(hp, text, (size_t)n, &used, NULL, NULL),
	    HTTP_PARSE_HEADERS);
	http_parser_free(&hp);
	e = store_entry_new(loop, comm_loop_pool(loop), 0);
	ck_assert_ptr_nonnull(e);
}

/* Everything setup() made, and nothing left in the pool: a piece of
 * content that kept a reference would show here. */
static void
teardown(void)
{
	struct buf_pool_stats st;

	store_entry_unref(&e);
	http_msg_fini(&req);
	fwd_ctx_free(&ctx);
	dns_resolver_free(&dns);
	conf_free(&conf);
	close(lfd);
	comm_loop_run_once(loop);	/* what the frees posted */
	buf_pool_stats(comm_loop_pool(loop), &st);
	ck_assert_uint_eq(st.pages, 0);
	comm_loop_free(&loop);
}

static struct fwd *
start(int *done)
{
	struct fwd_req fr;
	struct fwd *f;

	memset(&fr, 0, sizeof fr);
	fr.msg = &req;
	fr.host = "127.0.0.1";
	fr.host_len = 9;
	fr.port = ntohs(origin.sin_port);
	fr.path = "/x";
	fr.path_len = 2;
	fr.client = (const struct sockaddr *)&origin;
	f = fwd_start(ctx, &fr, e, on_done, done);
	ck_assert_ptr_nonnull(f);
	return (f);
}

static void
body_of(struct buf_chain *ch, const char *s)
{
	buf_chain_init(ch, comm_loop_pool(loop));
	ck_assert_int_eq(buf_chain_append(ch, s, strlen(s)), 0);
}

/* Read from fd until s has come (the test fails on a timeout). */
static void
read_until(int fd, char *got, size_t cap, const char *s)
{
	size_t n = 0;
	ssize_t r;

	while (strstr(got, s) == NULL) {
		ck_assert_uint_lt(n, cap - 1);
		r = read(fd, got + n, cap - 1 - n);
		ck_assert_int_gt(r, 0);
		n += (size_t)r;
		got[n] = '\0';
	}
}

/* The content piece needs no memory of its own: with none to be had
 * when it is pushed, it still goes out after the header section. */
START_TEST(content_piece_goes_out_with_no_memory_to_spare)
{
	struct sent_rec s = { 0, false };
	struct buf_chain ch;
	char got[4096] = "";
	struct fwd *f;
	int done = 0, ofd;
	const char *rep = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

	setup();
	f = start(&done);
	body_of(&ch, "hello");
	calloc_fails = true;
	fwd_send_body(f, &ch, true, on_sent, &s);
	calloc_fails = false;
	buf_chain_fini(&ch);
	RUN_UNTIL(loop, s.calls > 0);
	ck_assert(s.ok);
	ofd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(ofd, 0);
	read_until(ofd, got, sizeof got, "\r\n\r\nhello");
	ck_assert_ptr_nonnull(strstr(got, "POST /x HTTP/1.1\r\n"));
	ck_assert_int_eq(write(ofd, rep, strlen(rep)), (ssize_t)strlen(rep));
	RUN_UNTIL(loop, done > 0);
	ck_assert_msg(store_entry_state(e) == STORE_COMPLETE, "%s",
	    store_err_text(store_entry_error(e, NULL)));
	ck_assert_int_eq(s.calls, 1);
	ck_assert_int_eq(done, 1);
	close(ofd);
	teardown();
}
END_TEST

/* The client pushes the next piece only once sent() ran for the last
 * one (client_body_sent()): two at once are a bug. */
START_TEST(two_content_pieces_at_once_are_a_bug)
{
	struct sent_rec s1 = { 0, false }, s2 = { 0, false };
	struct buf_chain ch;
	struct fwd *f;
	int done = 0;

	setup();
	f = start(&done);
	body_of(&ch, "he");
	fwd_send_body(f, &ch, false, on_sent, &s1);
	body_of(&ch, "llo");
	fwd_send_body(f, &ch, true, on_sent, &s2);
}
END_TEST

static Suite *
fwd_suite(void)
{
	Suite *s = suite_create("fwd");
	TCase *tc;

	tc = tcase_create("content");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, content_piece_goes_out_with_no_memory_to_spare);
	tcase_add_test_raise_signal(tc, two_content_pieces_at_once_are_a_bug,
	    SIGABRT);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(fwd_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
