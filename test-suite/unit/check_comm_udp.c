/*
 * check_comm_udp.c - datagram sockets (comm_udp.c): delivery from the
 * loop only, whole datagrams, the true length of a cut one, close from
 * inside the handler.
 */
#include "config.h"

#include "comm_test.h"

struct got {
	int		n;
	size_t		len, full;
	char		data[128];
	struct sockaddr_storage from;
	bool		close_in_fn;
	struct comm_udp	**self;
};

static void
got_dgram(struct comm_udp *u, const void *data, size_t len, size_t full,
    const struct sockaddr *from, socklen_t fromlen, void *arg)
{
	struct got *g = arg;

	(void)u;
	ck_assert_msg(!test_inside_call, "handler ran inside a comm call");
	g->n++;
	g->len = len;
	g->full = full;
	memcpy(g->data, data, len < sizeof g->data ? len : sizeof g->data);
	memcpy(&g->from, from, fromlen);
	if (g->close_in_fn)
		comm_udp_close(g->self);
}

static struct comm_udp *
udp_on_loopback(struct comm_loop *loop, struct got *g, struct sockaddr_in *at)
{
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	struct comm_udp *u;
	socklen_t len;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(comm_udp_open(loop, (struct sockaddr *)&sin,
	    sizeof sin, got_dgram, g, &u), 0);
	comm_udp_addr(u, &ss, &len);
	ck_assert_int_eq(len, sizeof *at);
	memcpy(at, &ss, sizeof *at);
	ck_assert_uint_ne(ntohs(at->sin_port), 0);
	return (u);
}

START_TEST(datagram_is_delivered_from_the_loop_whole)
{
	struct comm_loop *loop = comm_loop_new();
	struct got g = { 0 };
	struct sockaddr_in at;
	struct comm_udp *u = udp_on_loopback(loop, &g, &at);

	test_inside_call = true;
	ck_assert_int_eq(comm_udp_send(u, "hello", 5, (struct sockaddr *)&at,
	    sizeof at), 0);
	test_inside_call = false;
	ck_assert_int_eq(g.n, 0);
	RUN_UNTIL(loop, g.n == 1);
	ck_assert_uint_eq(g.len, 5);
	ck_assert_uint_eq(g.full, 5);
	ck_assert_mem_eq(g.data, "hello", 5);
	/* It came from the socket itself. */
	ck_assert_int_eq(((struct sockaddr_in *)&g.from)->sin_port,
	    at.sin_port);
	comm_udp_close(&u);
	ck_assert_ptr_null(u);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(empty_datagram_is_delivered_as_empty)
{
	struct comm_loop *loop = comm_loop_new();
	struct got g = { 0 };
	struct sockaddr_in at;
	struct comm_udp *u = udp_on_loopback(loop, &g, &at);

	ck_assert_int_eq(comm_udp_send(u, "", 0, (struct sockaddr *)&at,
	    sizeof at), 0);
	RUN_UNTIL(loop, g.n == 1);
	ck_assert_uint_eq(g.len, 0);
	ck_assert_uint_eq(g.full, 0);
	comm_udp_close(&u);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(close_inside_the_handler_stops_delivery)
{
	struct comm_loop *loop = comm_loop_new();
	struct got g = { 0 };
	struct sockaddr_in at;
	struct comm_udp *u = udp_on_loopback(loop, &g, &at);
	int fd, i;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(sendto(fd, "x", 1, 0, (struct sockaddr *)&at,
		    sizeof at), 1);
	g.close_in_fn = true;
	g.self = &u;
	RUN_UNTIL(loop, g.n >= 1);
	run_for(loop, 0.05);
	ck_assert_int_eq(g.n, 1);
	ck_assert_ptr_null(u);
	close(fd);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(send_to_nowhere_fails_without_blocking)
{
	struct comm_loop *loop = comm_loop_new();
	struct got g = { 0 };
	struct sockaddr_in at;
	struct comm_udp *u = udp_on_loopback(loop, &g, &at);
	struct sockaddr_in6 six;

	/* An IPv6 destination for an IPv4 socket: refused at once. */
	memset(&six, 0, sizeof six);
	six.sin6_family = AF_INET6;
	six.sin6_port = htons(9);
	ck_assert_int_lt(comm_udp_send(u, "x", 1, (struct sockaddr *)&six,
	    sizeof six), 0);
	comm_udp_close(&u);
	comm_loop_free(&loop);
}
END_TEST

static Suite *
comm_udp_suite(void)
{
	Suite *s = suite_create("comm_udp");
	TCase *tc = tcase_create("udp");

	tcase_add_test(tc, datagram_is_delivered_from_the_loop_whole);
	tcase_add_test(tc, empty_datagram_is_delivered_as_empty);
	tcase_add_test(tc, close_inside_the_handler_stops_delivery);
	tcase_add_test(tc, send_to_nowhere_fails_without_blocking);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(comm_udp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
