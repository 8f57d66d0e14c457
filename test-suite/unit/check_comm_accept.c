/*
 * check_comm_accept.c - unit tests for accept and connect: socket options
 * of accepted connections, IPv4 and IPv6, the per-wakeup cap, EMFILE,
 * non-blocking connect with its errors and timeout, and 10,000
 * connections that must leave nothing behind.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "buf/buf.h"
#include "comm/comm.h"
#include "comm/comm_int.h"
#include "comm_test.h"

static struct comm_loop *loop;
static struct comm_listener *lst;
static struct sockaddr_storage laddr;
static socklen_t laddrlen;

static void
listen_on(const char *ip6_or_4)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	int err;

	loop = comm_loop_new();
	ck_assert_ptr_nonnull(loop);
	if (strchr(ip6_or_4, ':') != NULL) {
		inet_pton(AF_INET6, ip6_or_4, &sin6.sin6_addr);
		err = comm_listen(loop, (struct sockaddr *)&sin6, sizeof sin6,
		    256, &lst);
	} else {
		inet_pton(AF_INET, ip6_or_4, &sin.sin_addr);
		err = comm_listen(loop, (struct sockaddr *)&sin, sizeof sin,
		    256, &lst);
	}
	ck_assert_int_eq(err, 0);
	comm_listener_addr(lst, &laddr, &laddrlen);
}

static int
client_connect(void)
{
	int fd;

	fd = socket(laddr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&laddr, laddrlen), 0);
	return (fd);
}

static void
teardown_all(void)
{
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	comm_listener_close(&lst);
	ck_assert_uint_eq(pool_stats(loop).pages, 0);
	comm_loop_free(&loop);
}

/* Accepted connections are recorded, or closed at once. */
struct acc {
	int		n;
	int		batch;		/* accepts since the last queue run */
	int		max_batch;
	bool		keep;
	bool		close_listener;
	struct sockaddr_storage	peer;	/* the last accept's */
	struct comm_conn *conns[4];
	struct comm_call reset;
};

static void
acc_reset(struct comm_call *call)
{
	struct acc *a = container_of(call, struct acc, reset);

	a->batch = 0;
}

static void
on_accept(struct comm_listener *l, struct comm_conn *c,
    const struct sockaddr *peer, void *arg)
{
	struct acc *a = arg;

	(void)l;
	AN(peer);
	memcpy(&a->peer, peer, peer->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	a->n++;
	/* The reset runs from the queue, i.e. after this wakeup's accept
	 * loop returns: batch counts accepts per wakeup. */
	if (++a->batch > a->max_batch)
		a->max_batch = a->batch;
	if (!comm_call_pending(&a->reset))
		comm_call_post(loop, &a->reset);
	if (a->keep && a->n <= 4)
		a->conns[a->n - 1] = c;
	else
		comm_close(&c);
	if (a->close_listener)
		comm_listener_close(&lst);
}

static void
acc_init(struct acc *a)
{
	memset(a, 0, sizeof *a);
	comm_call_init(&a->reset, acc_reset);
}

static void
check_accepted_socket(struct comm_conn *c)
{
	int fd = comm_conn_fd(c), on = 0;
	socklen_t len = sizeof on;

	ck_assert_int_ge(fd, 0);
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len),
	    0);
	ck_assert_int_ne(on, 0);
}

/* The peer address the accept callback got is the client's own: the
 * address and port its socket is bound to. */
static void
check_peer(const struct sockaddr_storage *peer, int fd)
{
	struct sockaddr_storage mine;
	socklen_t len = sizeof mine;

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&mine, &len), 0);
	ck_assert_int_eq(peer->ss_family, mine.ss_family);
	ck_assert_int_eq(memcmp(peer, &mine, len), 0);
}

/* Listen on addr, accept one client, check its socket, tear down. */
static void
accept_one_on(const char *addr)
{
	struct acc a;
	int fd;

	acc_init(&a);
	a.keep = true;
	listen_on(addr);
	comm_accept_start(lst, on_accept, &a);
	fd = client_connect();
	RUN_UNTIL(loop, a.n == 1);
	check_accepted_socket(a.conns[0]);
	check_peer(&a.peer, fd);
	comm_close(&a.conns[0]);
	close(fd);
	teardown_all();
}

/* --- accept --------------------------------------------------------------- */

START_TEST(accepted_conns_are_nonblocking_cloexec_and_nodelay)
{
	accept_one_on("127.0.0.1");
}
END_TEST

START_TEST(accept_works_on_ipv6_loopback)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	int probe;

	/* No IPv6 on this host: nothing to test. */
	probe = socket(AF_INET6, SOCK_STREAM, 0);
	sin6.sin6_addr = in6addr_loopback;
	if (probe == -1 || bind(probe, (struct sockaddr *)&sin6,
	    sizeof sin6) == -1) {
		if (probe != -1)
			close(probe);
		return;
	}
	close(probe);
	accept_one_on("::1");
}
END_TEST

/*
 * A client connection's first bulk write sizes its send buffer for its
 * path (twice the bandwidth-delay product at 25 Gbit/s, 256 KiB at
 * least; autotuning beyond what that reaches), and small writes leave
 * autotuning alone.
 */
START_TEST(bulk_write_sizes_the_send_buffer_for_the_path)
{
	struct tcp_info ti;
	struct rec r[2];
	struct acc a;
	struct buf_chain ch;
	unsigned char *p;
	int fd[2], v0, v1, v;
	socklen_t len;
	uint32_t want;

	ck_assert_uint_eq(comm_sndbuf_for_rtt(0), 0);
	ck_assert_uint_eq(comm_sndbuf_for_rtt(20), 256u << 10);  /* loopback */
	ck_assert_uint_eq(comm_sndbuf_for_rtt(100), 625000);	   /* LAN */
	ck_assert_uint_eq(comm_sndbuf_for_rtt(670), 4187500);
	ck_assert_uint_eq(comm_sndbuf_for_rtt(700), 0);		   /* WAN */

	acc_init(&a);
	a.keep = true;
	listen_on("127.0.0.1");
	comm_accept_start(lst, on_accept, &a);
	fd[0] = client_connect();
	fd[1] = client_connect();
	RUN_UNTIL(loop, a.n == 2);
	len = sizeof v0;
	ck_assert_int_eq(getsockopt(comm_conn_fd(a.conns[0]), SOL_SOCKET,
	    SO_SNDBUF, &v0, &len), 0);
	ck_assert_int_eq(getsockopt(comm_conn_fd(a.conns[1]), SOL_SOCKET,
	    SO_SNDBUF, &v1, &len), 0);
	len = sizeof ti;
	ck_assert_int_eq(getsockopt(comm_conn_fd(a.conns[0]), IPPROTO_TCP,
	    TCP_INFO, &ti, &len), 0);
	want = comm_sndbuf_for_rtt(ti.tcpi_rtt);
	ck_assert_uint_ne(want, 0);		/* loopback is short */

	p = calloc(1, COMM_BULK_MIN);
	ck_assert_ptr_nonnull(p);
	buf_chain_init(&ch, comm_loop_pool(loop));
	ck_assert_int_eq(buf_chain_append(&ch, p, COMM_BULK_MIN), 0);
	memset(r, 0, sizeof r);
	comm_writev(a.conns[0], &ch, rec_done, &r[0]);
	buf_chain_init(&ch, comm_loop_pool(loop));
	ck_assert_int_eq(buf_chain_append(&ch, p, COMM_BULK_MIN - 1), 0);
	comm_writev(a.conns[1], &ch, rec_done, &r[1]);
	free(p);
	len = sizeof v;
	ck_assert_int_eq(getsockopt(comm_conn_fd(a.conns[0]), SOL_SOCKET,
	    SO_SNDBUF, &v, &len), 0);
	ck_assert_int_eq(v, (int)want);
	ck_assert_int_ne(v, v0);
	ck_assert_int_eq(getsockopt(comm_conn_fd(a.conns[1]), SOL_SOCKET,
	    SO_SNDBUF, &v, &len), 0);
	ck_assert_int_eq(v, v1);
	comm_close(&a.conns[0]);
	comm_close(&a.conns[1]);
	RUN_UNTIL(loop, r[0].calls == 1 && r[1].calls == 1);
	close(fd[0]);
	close(fd[1]);
	teardown_all();
}
END_TEST

START_TEST(accept_drains_the_backlog_with_a_cap_per_wakeup)
{
	struct acc a;
	int fds[200], i;

	acc_init(&a);
	listen_on("127.0.0.1");
	for (i = 0; i < 200; i++)	/* queued in the kernel backlog */
		fds[i] = client_connect();
	comm_accept_start(lst, on_accept, &a);
	RUN_UNTIL(loop, a.n == 200);
	ck_assert_int_le(a.max_batch, 64);
	ck_assert_int_ge(a.max_batch, 2);
	ck_assert_uint_eq(loop_stats(loop).accepted, 200);
	for (i = 0; i < 200; i++)
		close(fds[i]);
	teardown_all();
}
END_TEST

START_TEST(listener_closed_from_the_accept_callback)
{
	struct acc a;
	int fds[5], i;

	acc_init(&a);
	a.close_listener = true;
	listen_on("127.0.0.1");
	for (i = 0; i < 5; i++)
		fds[i] = client_connect();
	comm_accept_start(lst, on_accept, &a);
	RUN_UNTIL(loop, a.n == 1);
	ck_assert_ptr_null(lst);
	run_for(loop, 0.02);
	ck_assert_int_eq(a.n, 1);
	ck_assert_uint_eq(loop_stats(loop).listeners, 0);
	for (i = 0; i < 5; i++)
		close(fds[i]);
	teardown_all();
}
END_TEST

START_TEST(accept_stop_leaves_clients_in_the_backlog)
{
	struct acc a;
	int fd;

	acc_init(&a);
	listen_on("127.0.0.1");
	comm_accept_start(lst, on_accept, &a);
	comm_accept_stop(lst);
	fd = client_connect();
	run_for(loop, 0.05);
	ck_assert_int_eq(a.n, 0);
	comm_accept_start(lst, on_accept, &a);
	RUN_UNTIL(loop, a.n == 1);
	close(fd);
	teardown_all();
}
END_TEST

/* Use up every descriptor below a lowered limit; returns how many. */
static int
exhaust_fds(int *fill, int max)
{
	struct rlimit rl;
	int n = 0, fd;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = (rlim_t)(count_open_fds() + 64);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (n < max && (fd = open("/dev/null", O_RDONLY)) != -1)
		fill[n++] = fd;
	ck_assert_int_eq(errno, EMFILE);
	return (n);
}

START_TEST(accept_under_emfile_pauses_instead_of_spinning)
{
	struct acc a;
	int clients[20], fill[1024], nfill, i;
	double cpu0, cpu;
	unsigned pauses;

	acc_init(&a);
	listen_on("127.0.0.1");
	for (i = 0; i < 20; i++)
		clients[i] = client_connect();
	nfill = exhaust_fds(fill, 1024);
	comm_accept_start(lst, on_accept, &a);
	cpu0 = cpu_seconds();
	run_for(loop, 0.5);
	cpu = cpu_seconds() - cpu0;
	pauses = (unsigned)loop_stats(loop).accept_pauses;
	ck_assert_int_eq(a.n, 0);
	/* A spinning accept loop would burn the whole 0.5 s. */
	ck_assert_msg(cpu < 0.2, "%.3f s of CPU in 0.5 s under EMFILE", cpu);
	ck_assert_uint_ge(pauses, 2);
	ck_assert_uint_le(pauses, 10);
	/* Descriptors come back: the waiting clients get served. */
	for (i = 0; i < nfill; i++)
		close(fill[i]);
	RUN_UNTIL(loop, a.n == 20);
	for (i = 0; i < 20; i++)
		close(clients[i]);
	teardown_all();
}
END_TEST

/* --- connect -------------------------------------------------------------- */

static void
any_port_refusing(struct sockaddr_in *sin)
{
	socklen_t len = sizeof *sin;
	int fd;

	/* Bound, never listening: a connect there is refused. */
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)sin, sizeof *sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	close(fd);
}

START_TEST(connect_completes_ok_from_the_loop)
{
	struct rec r = { 0 };
	struct comm_conn *c;
	struct acc a;

	acc_init(&a);
	listen_on("127.0.0.1");
	comm_accept_start(lst, on_accept, &a);
	test_inside_call = true;
	c = comm_connect(loop, (struct sockaddr *)&laddr, laddrlen, 5.0,
	    rec_done, &r);
	test_inside_call = false;
	ck_assert_ptr_nonnull(c);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	check_accepted_socket(c);	/* same options on our side */
	RUN_UNTIL(loop, a.n == 1);
	run_for(loop, 0.02);
	ck_assert_int_eq(r.calls, 1);
	comm_close(&c);
	teardown_all();
}
END_TEST

START_TEST(connect_refused_is_an_error_with_errno)
{
	struct rec r = { 0 }, w = { 0 }, rd = { 0 };
	struct sockaddr_in sin;
	struct buf_chain ch;
	struct comm_conn *c;

	loop = comm_loop_new();
	any_port_refusing(&sin);
	c = comm_connect(loop, (struct sockaddr *)&sin, sizeof sin, 5.0,
	    rec_done, &r);
	chain_of(&ch, loop, "never");
	comm_writev(c, &ch, rec_done, &w);
	comm_read(c, NULL, 0, rec_done, &rd);
	RUN_UNTIL(loop, r.calls > 0 && w.calls > 0 && rd.calls > 0);
	ck_assert_int_eq(r.status, COMM_ERROR);
	ck_assert_int_eq(r.err, ECONNREFUSED);
	/* What waited for the connection fails with it, after it. */
	ck_assert_int_eq(w.status, COMM_ERROR);
	ck_assert_int_eq(w.err, ECONNREFUSED);
	ck_assert_int_eq(rd.status, COMM_ERROR);
	ck_assert_int_lt(r.at, w.at);
	comm_close(&c);
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	ck_assert_uint_eq(pool_stats(loop).pages, 0);
	comm_loop_free(&loop);
}
END_TEST

/* A listener with backlog 0 that never accepts: once one connection
 * sits in its queue, the kernel drops further SYNs and connects hang. */
static int
black_hole(struct sockaddr_in *sin, int *fillers)
{
	int lfd, i;

	lfd = tcp_listener(sin, 0);
	for (i = 0; i < 3; i++) {
		fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)connect(fillers[i], (struct sockaddr *)sin, sizeof *sin);
	}
	usleep(20000);
	return (lfd);
}

START_TEST(connect_timeout_completes_timeout_once)
{
	struct rec r = { 0 };
	struct sockaddr_in sin;
	struct comm_conn *c;
	int lfd, fillers[3], i;
	double t0;

	lfd = black_hole(&sin, fillers);
	/* Before the loop exists: its clock, which the deadline is measured
	 * from, is read when it is created, so the wait is >= 0.2 s from
	 * here however long the machine takes to get to comm_connect(). */
	t0 = mono_now();
	loop = comm_loop_new();
	c = comm_connect(loop, (struct sockaddr *)&sin, sizeof sin, 0.2,
	    rec_done, &r);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_TIMEOUT);
	ck_assert(mono_now() - t0 >= 0.19);
	run_for(loop, 0.05);
	ck_assert_int_eq(r.calls, 1);
	comm_close(&c);
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	for (i = 0; i < 3; i++)
		close(fillers[i]);
	close(lfd);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(connect_close_completes_cancelled_then_handler)
{
	struct rec r = { 0 };
	struct crec h = { 0 };
	struct sockaddr_in sin;
	struct comm_conn *c;
	int lfd, fillers[3], i;

	loop = comm_loop_new();
	lfd = black_hole(&sin, fillers);
	c = comm_connect(loop, (struct sockaddr *)&sin, sizeof sin, 0,
	    rec_done, &r);
	run_for(loop, 0.02);
	ck_assert_int_eq(r.calls, 0);
	comm_add_close_handler(c, crec_closed, &h);
	comm_close(&c);
	RUN_UNTIL(loop, h.calls > 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_CANCELLED);
	ck_assert_int_lt(r.at, h.at);
	ck_assert_uint_eq(loop_stats(loop).conns, 0);
	for (i = 0; i < 3; i++)
		close(fillers[i]);
	close(lfd);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(writes_queued_while_connecting_go_out_once_connected)
{
	struct rec r = { 0 }, w = { 0 };
	struct sockaddr_in sin;
	struct buf_chain ch;
	struct comm_conn *c;
	char got[6] = { 0 };
	int lfd, fd;

	loop = comm_loop_new();
	lfd = tcp_listener(&sin, 4);
	c = comm_connect(loop, (struct sockaddr *)&sin, sizeof sin, 5.0,
	    rec_done, &r);
	chain_of(&ch, loop, "early");
	comm_writev(c, &ch, rec_done, &w);
	RUN_UNTIL(loop, w.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_int_eq(w.status, COMM_OK);
	ck_assert_int_lt(r.at, w.at);
	fd = accept(lfd, NULL, NULL);
	read_all(fd, got, 5);
	ck_assert_str_eq(got, "early");
	comm_close(&c);
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	close(fd);
	close(lfd);
	comm_loop_free(&loop);
}
END_TEST

/* Regression: comm_cancel_writes() stopped the write watcher, which
 * while connecting is the connect's: its completion never came. */
START_TEST(cancel_writes_while_connecting_leaves_the_connect_alone)
{
	struct rec r = { 0 }, w = { 0 };
	struct sockaddr_in sin;
	struct buf_chain ch;
	struct comm_conn *c;
	int lfd, fd;

	loop = comm_loop_new();
	lfd = tcp_listener(&sin, 4);
	c = comm_connect(loop, (struct sockaddr *)&sin, sizeof sin, 5.0,
	    rec_done, &r);
	chain_of(&ch, loop, "dropped");
	comm_writev(c, &ch, rec_done, &w);
	comm_cancel_writes(c);
	RUN_UNTIL(loop, r.calls > 0 && w.calls > 0);
	ck_assert_int_eq(w.status, COMM_CANCELLED);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_int_eq(r.calls, 1);
	comm_close(&c);
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	fd = accept(lfd, NULL, NULL);
	close(fd);
	close(lfd);
	comm_loop_free(&loop);
}
END_TEST

/* Regression: a read queued while connecting had its watcher armed on the
 * connecting socket, so only libev's callback order kept it from taking
 * SO_ERROR (a refused connect reported OK) or completing first. */
START_TEST(read_queued_while_connecting_completes_after_the_connect)
{
	struct rec r = { 0 }, rd = { 0 };
	struct sockaddr_in sin;
	struct comm_conn *c;
	int lfd, fd;

	loop = comm_loop_new();
	lfd = tcp_listener(&sin, 4);
	c = comm_connect(loop, (struct sockaddr *)&sin, sizeof sin, 5.0,
	    rec_done, &r);
	comm_read(c, NULL, 0, rec_done, &rd);
	/* Loopback completes the handshake at once: the data is there
	 * before the loop first polls, readable with the connect. */
	fd = accept(lfd, NULL, NULL);
	ck_assert_int_eq(write(fd, "hi", 2), 2);
	RUN_UNTIL(loop, r.calls > 0 && rd.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_int_eq(rd.status, COMM_OK);
	ck_assert_str_eq(rd.data, "hi");
	ck_assert_int_lt(r.at, rd.at);
	comm_close(&c);
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	close(fd);
	close(lfd);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(shutdown_asked_while_connecting_sends_fin_once_connected)
{
	struct rec r = { 0 };
	struct sockaddr_in sin;
	struct comm_conn *c;
	char x;
	int lfd, fd;

	loop = comm_loop_new();
	lfd = tcp_listener(&sin, 4);
	c = comm_connect(loop, (struct sockaddr *)&sin, sizeof sin, 5.0,
	    rec_done, &r);
	comm_shutdown_write(c);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	run_for(loop, 0.01);
	fd = accept(lfd, NULL, NULL);
	ck_assert_int_eq(read(fd, &x, 1), 0);		/* FIN, no data */
	comm_close(&c);
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	close(fd);
	close(lfd);
	comm_loop_free(&loop);
}
END_TEST

START_TEST(connect_without_a_descriptor_reports_emfile_through_done)
{
	struct rec r = { 0 };
	struct sockaddr_in sin;
	struct comm_conn *c;
	int fill[1024], nfill, i, lfd;

	loop = comm_loop_new();
	lfd = tcp_listener(&sin, 4);
	nfill = exhaust_fds(fill, 1024);
	c = comm_connect(loop, (struct sockaddr *)&sin, sizeof sin, 5.0,
	    rec_done, &r);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(r.calls, 0);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_ERROR);
	ck_assert_int_eq(r.err, EMFILE);
	comm_close(&c);
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	for (i = 0; i < nfill; i++)
		close(fill[i]);
	close(lfd);
	comm_loop_free(&loop);
}
END_TEST

/* --- many connections ----------------------------------------------------- */

/*
 * A farm of clients, each: connect, write "ping", read "pong", close.
 * The server side: read "ping", write "pong", close once written.
 * At most FARM_CONC at a time, FARM_TOTAL in all.
 */
#define FARM_TOTAL	10000
#define FARM_CONC	64

struct farm {
	int		started;
	int		finished;
	int		served;
	int		failures;
};

static void	farm_start(struct farm *f);

static void
farm_write_done(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct farm *f = arg;

	(void)c;
	if (res->status != COMM_OK)
		f->failures++;
}

static void
farm_client_read(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct farm *f = arg;

	if (res->status != COMM_OK || res->len != 4 ||
	    memcmp(buf_slice_ptr(&res->data), "pong", 4) != 0)
		f->failures++;
	comm_close(&c);
	f->finished++;
	farm_start(f);
}

static void
farm_connected(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct farm *f = arg;
	struct buf_chain ch;

	if (res->status != COMM_OK) {
		f->failures++;
		return;
	}
	chain_of(&ch, loop, "ping");
	comm_writev(c, &ch, farm_write_done, f);
	comm_read(c, NULL, 0, farm_client_read, f);
}

static void
farm_server_wrote(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct farm *f = arg;

	if (res->status != COMM_OK)
		f->failures++;
	f->served++;
	comm_close(&c);
}

static void
farm_server_read(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct farm *f = arg;
	struct buf_chain ch;

	if (res->status != COMM_OK || res->len != 4) {
		f->failures++;
		comm_close(&c);
		return;
	}
	chain_of(&ch, loop, "pong");
	comm_writev(c, &ch, farm_server_wrote, f);
}

static void
farm_accept(struct comm_listener *l, struct comm_conn *c,
    const struct sockaddr *peer, void *arg)
{
	(void)l;
	(void)peer;
	comm_read(c, NULL, 0, farm_server_read, arg);
}

static void
farm_start(struct farm *f)
{
	struct comm_conn *c;

	while (f->started < FARM_TOTAL &&
	    f->started - f->finished < FARM_CONC) {
		c = comm_connect(loop, (struct sockaddr *)&laddr, laddrlen,
		    5.0, farm_connected, f);
		ck_assert_ptr_nonnull(c);
		f->started++;
	}
}

START_TEST(ten_thousand_conns_leave_no_fd_and_no_byte_behind)
{
	struct farm f = { 0 };
	struct buf_pool_stats ps;
	int fds0;

	listen_on("127.0.0.1");
	comm_accept_start(lst, farm_accept, &f);
	fds0 = count_open_fds();
	farm_start(&f);
	RUN_UNTIL(loop, f.finished == FARM_TOTAL || f.failures > 0);
	ck_assert_int_eq(f.failures, 0);
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	ck_assert_int_eq(f.served, FARM_TOTAL);
	ck_assert_uint_eq(loop_stats(loop).accepted, FARM_TOTAL);
	ck_assert_uint_eq(loop_stats(loop).ops, 0);
	ck_assert_int_eq(count_open_fds(), fds0);
	ps = pool_stats(loop);
	ck_assert_uint_eq(ps.pages, 0);
	ck_assert_uint_eq(ps.bytes, 0);
	ck_assert_uint_eq(ps.pinned, 0);
	ck_assert_uint_ge(ps.allocs, 4 * FARM_TOTAL);
	teardown_all();
}
END_TEST

static Suite *
comm_accept_suite(void)
{
	Suite *s = suite_create("comm_accept");
	TCase *tc;

	tc = tcase_create("accept");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, accepted_conns_are_nonblocking_cloexec_and_nodelay);
	tcase_add_test(tc, accept_works_on_ipv6_loopback);
	tcase_add_test(tc, bulk_write_sizes_the_send_buffer_for_the_path);
	tcase_add_test(tc, accept_drains_the_backlog_with_a_cap_per_wakeup);
	tcase_add_test(tc, listener_closed_from_the_accept_callback);
	tcase_add_test(tc, accept_stop_leaves_clients_in_the_backlog);
	suite_add_tcase(s, tc);

	/* Not under valgrind (make check-valgrind leaves the tag out): its
	 * emulated descriptor limit takes a connection off the backlog and
	 * closes it where accept() would leave it queued, and the test
	 * counts CPU time. */
	tc = tcase_create("emfile");
	tcase_set_tags(tc, "no-valgrind");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, accept_under_emfile_pauses_instead_of_spinning);
	suite_add_tcase(s, tc);

	tc = tcase_create("connect");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, connect_completes_ok_from_the_loop);
	tcase_add_test(tc, connect_refused_is_an_error_with_errno);
	tcase_add_test(tc, connect_timeout_completes_timeout_once);
	tcase_add_test(tc, connect_close_completes_cancelled_then_handler);
	tcase_add_test(tc,
	    writes_queued_while_connecting_go_out_once_connected);
	tcase_add_test(tc,
	    cancel_writes_while_connecting_leaves_the_connect_alone);
	tcase_add_test(tc,
	    read_queued_while_connecting_completes_after_the_connect);
	tcase_add_test(tc,
	    shutdown_asked_while_connecting_sends_fin_once_connected);
	tcase_add_test(tc,
	    connect_without_a_descriptor_reports_emfile_through_done);
	suite_add_tcase(s, tc);

	tc = tcase_create("many");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ten_thousand_conns_leave_no_fd_and_no_byte_behind);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(comm_accept_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
