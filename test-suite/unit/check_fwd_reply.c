/*
 * check_fwd_reply.c - unit tests for the server side: one fwd against an
 * origin that is a socketpair (comm_loop_set_connector()), the address
 * literal answered without a lookup.
 */
#include "config.h"

#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf/buf.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "fwd/fwd.h"
#include "http/http_msg.h"
#include "store/store.h"

struct ftest {
	struct comm_loop	*loop;
	struct conf		*conf;
	struct dns_resolver	*dns;
	struct fwd_ctx		*ctx;
	struct http_parser	*parser;
	struct http_msg		req;
	struct store_entry	*e;
	struct store_reader	rd;
	struct fwd		*f;
	int			origin;		/* the origin's end */
	int			done;		/* fwd done calls */
	int			sent;		/* body pushes completed */
	int			sent_ok;
	bool			push_on_reply;	/* the reader pushes the
						 * last body piece */
	bool			reply_seen;
};

static int
ft_connector(const struct sockaddr *addr, socklen_t len, void *arg)
{
	struct ftest *t = arg;
	int sv[2];

	(void)addr;
	(void)len;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	t->origin = sv[0];
	return (sv[1]);
}

static void
ft_setup(struct ftest *t, const char *req)
{
	struct dns_params dp;
	size_t used;

	memset(t, 0, sizeof *t);
	t->origin = -1;
	t->loop = comm_loop_new();
	ck_assert_ptr_nonnull(t->loop);
	comm_loop_set_connector(t->loop, ft_connector, t);
	t->conf = conf_new();
	ck_assert_ptr_nonnull(t->conf);
	ck_assert_int_eq(conf_load_string(t->conf, "test.conf",
	    "hosts_file none\ndns_nameservers 127.0.0.1:1\n"), 0);
	ck_assert_int_eq(conf_finish(t->conf), 0);
	dns_params_from_conf(&dp, t->conf);
	t->dns = dns_resolver_new(t->loop, &dp);
	ck_assert_ptr_nonnull(t->dns);
	t->ctx = fwd_ctx_new(t->loop, t->dns, t->conf);
	ck_assert_ptr_nonnull(t->ctx);
	t->parser = http_parser_new(HTTP_MSG_REQUEST, 65536);
	http_msg_init(&t->req, HTTP_MSG_REQUEST);
	http_parser_start(t->parser, &t->req, false);
	ck_assert_int_eq(http_parse(t->parser, req, strlen(req), &used, NULL,
	    NULL), HTTP_PARSE_HEADERS);
	t->e = store_entry_new(t->loop, comm_loop_pool(t->loop), 0);
	ck_assert_ptr_nonnull(t->e);
}

static void
ft_finish(struct ftest *t)
{
	struct comm_loop_stats st;

	store_reader_close(&t->rd);
	store_entry_unref(&t->e);
	http_msg_fini(&t->req);
	http_parser_free(&t->parser);
	fwd_ctx_free(&t->ctx);
	dns_resolver_free(&t->dns);
	if (t->origin != -1)
		close(t->origin);
	while (comm_loop_stats(t->loop, &st), st.conns > 0)
		comm_loop_run_once(t->loop);
	ck_assert_uint_eq(st.ops, 0);
	comm_loop_free(&t->loop);
	conf_free(&t->conf);
}

static void
ft_done(struct fwd *f, void *arg)
{
	struct ftest *t = arg;

	(void)f;
	t->done++;
}

static void
ft_sent(struct fwd *f, bool ok, void *arg)
{
	struct ftest *t = arg;

	(void)f;
	t->sent++;
	t->sent_ok += ok;
}

static void
ft_push(struct ftest *t, const char *s, bool last)
{
	struct buf_chain ch;

	buf_chain_init(&ch, comm_loop_pool(t->loop));
	ck_assert_int_eq(buf_chain_append(&ch, s, strlen(s)), 0);
	fwd_send_body(t->f, &ch, last, ft_sent, t);
	buf_chain_fini(&ch);
}

/* The client side reading the reply: the whole request content has not
 * gone out yet, and its last piece comes now. */
static void
ft_reader(struct store_reader *r, void *arg)
{
	struct ftest *t = arg;

	(void)r;
	if (t->reply_seen || store_entry_reply(t->e) == NULL) {
		store_reader_wait(&t->rd);
		return;
	}
	t->reply_seen = true;
	if (t->push_on_reply)
		ft_push(t, "6789", true);
}

static void
ft_start(struct ftest *t)
{
	struct fwd_req fr;

	memset(&fr, 0, sizeof fr);
	fr.msg = &t->req;
	fr.host = "192.0.2.1";
	fr.host_len = strlen(fr.host);
	fr.port = 80;
	fr.path = "/a";
	fr.path_len = 2;
	t->f = fwd_start(t->ctx, &fr, t->e, ft_done, t);
	ck_assert_ptr_nonnull(t->f);
	store_reader_open(&t->rd, t->e, t->loop, ft_reader, t);
	store_reader_wait(&t->rd);
}

/* Reads what cuttle sent the origin until want appears in it. */
static void
ft_origin_expect(struct ftest *t, const char *want)
{
	char got[4096];
	size_t n = 0;
	ssize_t r;

	got[0] = '\0';
	while (strstr(got, want) == NULL) {
		comm_loop_run_once(t->loop);
		if (t->origin == -1)
			continue;
		r = read(t->origin, got + n, sizeof got - 1 - n);
		if (r > 0) {
			n += (size_t)r;
			got[n] = '\0';
		}
		ck_assert(n < sizeof got - 1);
	}
}

/*
 * The origin answers before the request content is all there, and the
 * client pushes the rest once it sees that reply, in the same round of
 * the loop as the fwd ends: the push completes (not sent), and done runs
 * once, after it.  (Found by fuzz_proxy: done used to be queued before
 * the push, and the fwd was freed with the push still pending.)
 */
START_TEST(body_pushed_after_an_early_reply_completes_before_done)
{
	struct ftest t;
	static const char reply[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 0\r\n\r\n";

	ft_setup(&t, "POST http://192.0.2.1/a HTTP/1.1\r\nHost: 192.0.2.1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	t.push_on_reply = true;
	ft_start(&t);
	ft_push(&t, "012345", false);
	ft_origin_expect(&t, "012345\r\n");
	ck_assert_int_eq(write(t.origin, reply, sizeof reply - 1),
	    (ssize_t)(sizeof reply - 1));
	while (t.done == 0)
		comm_loop_run_once(t.loop);
	ck_assert(t.reply_seen);
	ck_assert_int_eq(t.sent, 2);
	ck_assert_int_eq(t.done, 1);
	ck_assert_int_eq(store_entry_state(t.e), STORE_COMPLETE);
	ft_finish(&t);
}
END_TEST

static Suite *
fwd_suite(void)
{
	Suite *s = suite_create("fwd");
	TCase *tc;

	tc = tcase_create("body");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc,
	    body_pushed_after_an_early_reply_completes_before_done);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(fwd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
