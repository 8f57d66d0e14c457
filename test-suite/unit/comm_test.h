/*
 * comm_test.h - helpers shared by the comm unit tests: socket pairs over
 * AF_UNIX and loopback TCP, a completion recorder, and loop runners.
 *
 * Each test runs in its own forked process (check's default), so the
 * static state below starts fresh every time.
 */
#ifndef CUTTLE_TEST_COMM_TEST_H
#define CUTTLE_TEST_COMM_TEST_H

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "buf/buf.h"
#include "comm/comm.h"

/* Order of events across all recorders in a test: completions, close
 * handlers, anything that calls tick(). */
static int test_clock;
/* Set while a comm_* start call runs: a callback seeing it was called
 * inline, which the contract forbids. */
static bool test_inside_call;

static inline int
tick(void)
{
	return (++test_clock);
}

/* What one completion said; `calls` must end at exactly 1. */
struct rec {
	int			calls;
	int			at;		/* tick() when it fired */
	enum comm_status	status;
	int			err;
	size_t			len;
	char			data[256];	/* reads: the first bytes */
	struct comm_loop	*stop;		/* if set, stop this loop */
};

static inline void
rec_done(struct comm_conn *c, const struct comm_result *res, void *arg)
{
	struct rec *r = arg;
	size_t n;

	(void)c;
	ck_assert_msg(!test_inside_call, "completion ran inside its call");
	r->calls++;
	r->at = tick();
	r->status = res->status;
	r->err = res->err;
	r->len = res->len;
	if (res->status == COMM_OK && res->data.buf != NULL) {
		n = res->data.len < sizeof r->data - 1 ? res->data.len :
		    sizeof r->data - 1;
		memcpy(r->data, buf_slice_ptr(&res->data), n);
		r->data[n] = '\0';
	}
	if (r->stop != NULL)
		comm_loop_stop(r->stop);
}

/* The same for close handlers. */
struct crec {
	int			calls;
	int			at;
	enum comm_status	why;
	int			fd_open;	/* the fd was still open */
	struct comm_conn	**owner;	/* comm_close() this, if set */
};

static inline void
crec_closed(struct comm_conn *c, enum comm_status why, void *arg)
{
	struct crec *r = arg;
	int fd = comm_conn_fd(c);

	r->calls++;
	r->at = tick();
	r->why = why;
	r->fd_open = fd >= 0 && fcntl(fd, F_GETFD) != -1;
	if (r->owner != NULL)
		comm_close(r->owner);
}

#define RUN_UNTIL(loop, cond)	do {					\
	while (!(cond))							\
		comm_loop_run_once(loop);				\
} while (0)

static inline void
flag_set(struct comm_timer *t, void *arg)
{
	(void)t;
	*(bool *)arg = true;
}

/* run_for() - run the loop for about `secs` seconds of wall time. */
static inline void
run_for(struct comm_loop *loop, double secs)
{
	struct comm_timer *t;
	bool up = false;

	t = comm_timer_new(loop, flag_set, &up);
	ck_assert_ptr_nonnull(t);
	comm_timer_start(t, secs, 0);
	RUN_UNTIL(loop, up);
	comm_timer_free(&t);
}

static inline double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static inline double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

/* A listening loopback TCP socket (plain, blocking); *sin gets its
 * address. */
static inline int
tcp_listener(struct sockaddr_in *sin, int backlog)
{
	socklen_t len = sizeof *sin;
	int fd;

	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)sin, sizeof *sin), 0);
	ck_assert_int_eq(listen(fd, backlog), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return (fd);
}

/* tcp_pair() - two connected loopback TCP sockets.  sndbuf, if not 0,
 * is set on fds[0] and rcvbuf on fds[1] before connecting, so the
 * window is small from the start. */
static inline void
tcp_pair(int fds[2], int sndbuf, int rcvbuf)
{
	struct sockaddr_in sin;
	int lfd;

	lfd = tcp_listener(&sin, 4);
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fds[0], 0);
	if (sndbuf != 0)
		ck_assert_int_eq(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF,
		    &sndbuf, sizeof sndbuf), 0);
	ck_assert_int_eq(connect(fds[0], (struct sockaddr *)&sin, sizeof sin),
	    0);
	fds[1] = accept(lfd, NULL, NULL);
	ck_assert_int_ge(fds[1], 0);
	if (rcvbuf != 0)
		ck_assert_int_eq(setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF,
		    &rcvbuf, sizeof rcvbuf), 0);
	close(lfd);
}

static inline int
count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);		/* the one opendir() holds */
}

static inline struct buf_pool_stats
pool_stats(struct comm_loop *loop)
{
	struct buf_pool_stats st;

	buf_pool_stats(comm_loop_pool(loop), &st);
	return (st);
}

static inline struct comm_conn_stats
conn_stats(const struct comm_conn *c)
{
	struct comm_conn_stats st;

	comm_conn_stats(c, &st);
	return (st);
}

static inline struct comm_loop_stats
loop_stats(const struct comm_loop *loop)
{
	struct comm_loop_stats st;

	comm_loop_stats(loop, &st);
	return (st);
}

/* chain_of() - a chain holding a copy of s. */
static inline void
chain_of(struct buf_chain *ch, struct comm_loop *loop, const char *s)
{
	buf_chain_init(ch, comm_loop_pool(loop));
	ck_assert_int_eq(buf_chain_append(ch, s, strlen(s)), 0);
}

/* read_all() - blocking read of exactly n bytes from fd (a peer that is
 * not under comm). */
static inline void
read_all(int fd, void *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)p + got, n - got);
		ck_assert_int_gt(r, 0);
		got += (size_t)r;
	}
}

#endif /* CUTTLE_TEST_COMM_TEST_H */
