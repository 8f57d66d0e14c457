/*
 * check_comm_loop.c - unit tests for the loop, its call queue, timers,
 * signals and listeners.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "buf/buf.h"
#include "comm/comm.h"

struct sigtest {
	int	calls;
	int	signo;
	int	inside_raise;
};

static void
on_signal(struct comm_loop *loop, int signo, void *arg)
{
	struct sigtest *t = arg;

	ck_assert_int_eq(t->inside_raise, 0);
	t->calls++;
	t->signo = signo;
	comm_loop_stop(loop);
}

START_TEST(signal_runs_from_the_loop_not_the_handler)
{
	struct comm_loop *loop = comm_loop_new();
	struct sigtest t = { 0 };

	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(comm_signal_add(loop, SIGUSR1, on_signal, &t), 0);
	t.inside_raise = 1;
	raise(SIGUSR1);
	t.inside_raise = 0;
	ck_assert_int_eq(t.calls, 0);
	comm_loop_run(loop);
	ck_assert_int_eq(t.calls, 1);
	ck_assert_int_eq(t.signo, SIGUSR1);
	comm_loop_free(&loop);
	ck_assert_ptr_null(loop);
}
END_TEST

START_TEST(sigpipe_is_ignored_once_a_loop_exists)
{
	struct comm_loop *loop = comm_loop_new();
	int sv[2];
	char c = 'x';

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	ck_assert_int_eq(write(sv[0], &c, 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(sv[0]);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(now_is_close_to_the_wall_clock)
{
	struct comm_loop *loop = comm_loop_new();
	double d = comm_now(loop) - (double)time(NULL);

	ck_assert(d > -2.0 && d < 2.0);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(listen_on_port_zero_reports_the_bound_port_and_accepts)
{
	struct comm_loop *loop = comm_loop_new();
	struct comm_listener *l = NULL;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64];
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(comm_listen(loop, (struct sockaddr *)&sin,
	    sizeof sin, 16, &l), 0);
	ck_assert_ptr_nonnull(l);
	comm_listener_addr(l, &ss, &len);
	ck_assert_uint_eq(len, sizeof sin);
	ck_assert_uint_ne(((struct sockaddr_in *)&ss)->sin_port, 0);
	comm_addr_format((struct sockaddr *)&ss, text, sizeof text);
	ck_assert_msg(strncmp(text, "127.0.0.1:", 10) == 0, "%s", text);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&ss, len), 0);
	close(fd);

	comm_listener_close(&l);
	ck_assert_ptr_null(l);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&ss, len), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	close(fd);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(listen_on_a_busy_port_is_eaddrinuse)
{
	struct comm_loop *loop = comm_loop_new();
	struct comm_listener *a = NULL, *b = NULL;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_storage ss;
	socklen_t len;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(comm_listen(loop, (struct sockaddr *)&sin,
	    sizeof sin, 16, &a), 0);
	comm_listener_addr(a, &ss, &len);
	ck_assert_int_eq(comm_listen(loop, (struct sockaddr *)&ss, len, 16,
	    &b), -EADDRINUSE);
	ck_assert_ptr_null(b);
	comm_listener_close(&a);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(listen_on_ipv6_loopback)
{
	struct comm_loop *loop = comm_loop_new();
	struct comm_listener *l = NULL;
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64];
	int err;

	sin6.sin6_addr = in6addr_loopback;
	err = comm_listen(loop, (struct sockaddr *)&sin6, sizeof sin6, 16,
	    &l);
	if (err == -EADDRNOTAVAIL || err == -EAFNOSUPPORT) {
		comm_loop_free(&loop);	/* no IPv6 on this host */
		return;
	}
	ck_assert_int_eq(err, 0);
	comm_listener_addr(l, &ss, &len);
	comm_addr_format((struct sockaddr *)&ss, text, sizeof text);
	ck_assert_msg(strncmp(text, "[::1]:", 6) == 0, "%s", text);
	comm_listener_close(&l);
	comm_loop_free(&loop);
}
END_TEST

struct qcall {
	struct comm_call	call;
	int			*log;
	int			*nlog;
	int			id;
	int			reposts;	/* times to post itself again */
	struct comm_loop	*loop;
};

static void
qcall_run(struct comm_call *call)
{
	struct qcall *q = container_of(call, struct qcall, call);

	q->log[(*q->nlog)++] = q->id;
	if (q->reposts > 0) {
		q->reposts--;
		comm_call_post(q->loop, &q->call);
	}
}

START_TEST(posted_calls_run_from_the_loop_in_order)
{
	struct comm_loop *loop = comm_loop_new();
	struct qcall q[3];
	int log[8], nlog = 0, i;

	for (i = 0; i < 3; i++) {
		q[i] = (struct qcall){ .log = log, .nlog = &nlog, .id = i };
		comm_call_init(&q[i].call, qcall_run);
		ck_assert(!comm_call_pending(&q[i].call));
	}
	comm_call_post(loop, &q[2].call);
	comm_call_post(loop, &q[0].call);
	comm_call_post(loop, &q[1].call);
	ck_assert(comm_call_pending(&q[0].call));
	ck_assert_int_eq(nlog, 0);
	comm_loop_run_once(loop);
	ck_assert_int_eq(nlog, 3);
	ck_assert_int_eq(log[0], 2);
	ck_assert_int_eq(log[1], 0);
	ck_assert_int_eq(log[2], 1);
	ck_assert(!comm_call_pending(&q[0].call));
	comm_loop_free(&loop);
}
END_TEST

START_TEST(cancelled_call_does_not_run)
{
	struct comm_loop *loop = comm_loop_new();
	struct qcall q[2];
	int log[4], nlog = 0, i;

	for (i = 0; i < 2; i++) {
		q[i] = (struct qcall){ .log = log, .nlog = &nlog, .id = i };
		comm_call_init(&q[i].call, qcall_run);
		comm_call_post(loop, &q[i].call);
	}
	comm_call_cancel(&q[0].call);
	comm_call_cancel(&q[0].call);		/* twice is harmless */
	comm_loop_run_once(loop);
	ck_assert_int_eq(nlog, 1);
	ck_assert_int_eq(log[0], 1);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(loop_free_runs_calls_still_queued)
{
	struct comm_loop *loop = comm_loop_new();
	struct qcall q = { 0 };
	int log[4], nlog = 0;

	q.log = log;
	q.nlog = &nlog;
	comm_call_init(&q.call, qcall_run);
	comm_call_post(loop, &q.call);
	comm_loop_free(&loop);
	ck_assert_int_eq(nlog, 1);
}
END_TEST

static void
read_done(struct comm_conn *c, const struct comm_result *res, void *arg)
{
	(void)c;
	(void)res;
	*(int *)arg += 1;
}

START_TEST(a_call_that_reposts_itself_does_not_starve_io)
{
	struct comm_loop *loop = comm_loop_new();
	struct comm_conn *c;
	struct qcall q = { 0 };
	struct comm_loop_stats st;
	int log[16], nlog = 0, reads = 0, sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = comm_conn_new(loop, sv[0]);
	q.log = log;
	q.nlog = &nlog;
	q.loop = loop;
	q.reposts = 1000000;
	comm_call_init(&q.call, qcall_run);
	comm_call_post(loop, &q.call);
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	comm_read(c, NULL, 0, read_done, &reads);
	while (reads == 0) {
		nlog = 0;		/* at most 8 rounds per iteration */
		comm_loop_run_once(loop);
		ck_assert_int_le(nlog, 8);
	}
	ck_assert_int_gt(q.reposts, 1000000 - 1000);
	comm_call_cancel(&q.call);
	comm_close(&c);
	do {
		comm_loop_run_once(loop);
		comm_loop_stats(loop, &st);
	} while (st.conns > 0);
	close(sv[1]);
	comm_loop_free(&loop);
}
END_TEST

static void
timer_count(struct comm_timer *t, void *arg)
{
	int *n = arg;

	if (++*n == 3)
		comm_timer_stop(t);
}

START_TEST(timer_repeats_until_stopped)
{
	struct comm_loop *loop = comm_loop_new();
	struct comm_timer *t;
	int n = 0;

	t = comm_timer_new(loop, timer_count, &n);
	comm_timer_start(t, 0.01, 0.01);
	ck_assert_int_eq(n, 0);
	comm_loop_run(loop);		/* returns when nothing is active */
	ck_assert_int_eq(n, 3);
	comm_timer_free(&t);
	ck_assert_ptr_null(t);
	comm_loop_free(&loop);
}
END_TEST

/* Active from start until a one-shot timer has run or is stopped; not
 * any more inside its own fn, so that fn may start it again. */
static void
timer_note_active(struct comm_timer *t, void *arg)
{
	int *n = arg;

	ck_assert(!comm_timer_active(t));
	++*n;
}

START_TEST(timer_is_active_until_it_runs_or_stops)
{
	struct comm_loop *loop = comm_loop_new();
	struct comm_timer *t;
	int n = 0;

	t = comm_timer_new(loop, timer_note_active, &n);
	ck_assert(!comm_timer_active(t));
	comm_timer_start(t, 0.01, 0);
	ck_assert(comm_timer_active(t));
	comm_loop_run(loop);
	ck_assert_int_eq(n, 1);
	ck_assert(!comm_timer_active(t));
	comm_timer_start(t, 60, 0);
	ck_assert(comm_timer_active(t));
	comm_timer_stop(t);
	ck_assert(!comm_timer_active(t));
	comm_timer_free(&t);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(loop_owns_an_empty_pool)
{
	struct comm_loop *loop = comm_loop_new();
	struct buf_pool_stats st;
	struct buf *b;

	ck_assert_ptr_nonnull(comm_loop_pool(loop));
	b = buf_alloc(comm_loop_pool(loop), 100);
	buf_pool_stats(comm_loop_pool(loop), &st);
	ck_assert_uint_eq(st.pages, 1);
	buf_unref(&b);
	comm_loop_free(&loop);
}
END_TEST

static Suite *
comm_loop_suite(void)
{
	Suite *s = suite_create("comm_loop");
	TCase *tc;

	tc = tcase_create("loop");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, signal_runs_from_the_loop_not_the_handler);
	tcase_add_test(tc, sigpipe_is_ignored_once_a_loop_exists);
	tcase_add_test(tc, now_is_close_to_the_wall_clock);
	tcase_add_test(tc, timer_repeats_until_stopped);
	tcase_add_test(tc, timer_is_active_until_it_runs_or_stops);
	tcase_add_test(tc, loop_owns_an_empty_pool);
	suite_add_tcase(s, tc);

	tc = tcase_create("call_queue");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, posted_calls_run_from_the_loop_in_order);
	tcase_add_test(tc, cancelled_call_does_not_run);
	tcase_add_test(tc, loop_free_runs_calls_still_queued);
	tcase_add_test(tc, a_call_that_reposts_itself_does_not_starve_io);
	suite_add_tcase(s, tc);

	tc = tcase_create("listen");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc,
	    listen_on_port_zero_reports_the_bound_port_and_accepts);
	tcase_add_test(tc, listen_on_a_busy_port_is_eaddrinuse);
	tcase_add_test(tc, listen_on_ipv6_loopback);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(comm_loop_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
