/*
 * check_comm_loop.c - unit tests for the loop, signals and listeners.
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
	suite_add_tcase(s, tc);

	tc = tcase_create("listen");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, listen_on_port_zero_reports_the_bound_port_and_accepts);
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
