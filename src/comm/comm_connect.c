/*
 * comm_connect.c - non-blocking connect.
 *
 * Lifecycle of a connect (struct comm_wop in c->cn):
 *	comm_connect()		conn allocated first, so that even a failing
 *				socket() (EMFILE) is reported through done;
 *				connect() -> EINPROGRESS: CONNECTING, write
 *				watcher on, connect deadline armed
 *	comm_connect_ready()	writable: SO_ERROR decides OK or ERROR
 *	comm_connect_timeout()	the deadline passed: TIMEOUT
 *	(comm_tls_start() puts a TLS handshake in the same slot: each
 *	readiness runs a step of it, through xprt->handshake)
 *	comm_conn_teardown()	closed meanwhile: CANCELLED
 *
 * Reads and writes may be queued while CONNECTING: both wait for the
 * connect (the write watcher is the connect's until then, and no read
 * watcher is armed, so that neither can consume SO_ERROR or complete
 * before the connect does); a failed connect fails them with it.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "base/check.h"
#include "base/log.h"
#include "buf/buf.h"
#include "comm/comm_int.h"

static void
connect_end(struct comm_conn *c, enum comm_status st, int err)
{
	struct comm_wop *w = c->cn;

	AN(w);
	c->cn = NULL;
	c->flags &= ~CONN_CONNECTING;
	comm_conn_watch(c, EV_WRITE, false);
	comm_op_finish(&w->op, st, err);
	if (st == COMM_OK) {
		c->t_active = c->t_write = comm_conn_clock(c);
		if (c->rd.state == COMM_OP_PENDING)
			comm_conn_watch(c, EV_READ, true);
		comm_io_flush_soon(c);
		comm_conn_timer_update(c);
		return;
	}
	/* What waited for the connection cannot happen now. */
	comm_io_write_fail(c, st, st == COMM_ERROR ? err : ETIMEDOUT);
	comm_io_read_fail(c, st, st == COMM_ERROR ? err : 0);
}

struct comm_conn *
comm_connect(struct comm_loop *loop, const struct sockaddr *addr,
    socklen_t addrlen, double timeout, comm_done_fn *done, void *arg)
{
	struct comm_conn *c;
	struct comm_wop *w;
	int fd, fl;

	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	AN(addr);
	AN(done);
	CHECK(timeout >= 0);
	w = comm_wop_get(loop);
	if (w == NULL)
		return (NULL);
	c = comm_conn_alloc(loop, -1);
	if (c == NULL) {
		comm_wop_put(loop, w);
		errno = ENOMEM;
		return (NULL);
	}
	buf_chain_init(&w->chain, loop->pool);
	w->idx = 0;
	w->skip = 0;
	w->pinned = 0;
	c->cn = w;
	comm_op_start(c, &w->op, COMM_OP_CONNECT, done, arg);
	c->to[COMM_TO_CONNECT] = (float)timeout;
	if (loop->connector != NULL) {
		fd = loop->connector(addr, addrlen, loop->connector_arg);
		if (fd < 0) {
			c->werr = -fd;
			connect_end(c, COMM_ERROR, -fd);
			return (c);
		}
		fl = fcntl(fd, F_GETFL);
		if (fl != -1 && !(fl & O_NONBLOCK))
			(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		comm_conn_set_fd(c, fd);
		connect_end(c, COMM_OK, 0);
		return (c);
	}
	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		c->werr = errno;
		connect_end(c, COMM_ERROR, errno);
		return (c);
	}
	comm_conn_set_fd(c, fd);
	if (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)
		comm_sock_nodelay(fd);
	if (connect(fd, addr, addrlen) == 0) {
		connect_end(c, COMM_OK, 0);
		return (c);
	}
	/* EINTR: the connect goes on in the background, as EINPROGRESS. */
	if (errno != EINPROGRESS && errno != EINTR) {
		connect_end(c, COMM_ERROR, errno);
		return (c);
	}
	c->flags |= CONN_CONNECTING;
	comm_conn_watch(c, EV_WRITE, true);
	comm_conn_timer_update(c);
	return (c);
}

void
comm_connect_ready(struct comm_conn *c)
{
	socklen_t len = sizeof(int);
	int err = 0;

	/* A transport's handshake (comm_tls_start()) holds the slot after
	 * the connect proper, the socket's events being its own. */
	if (c->xprt->handshake != NULL) {
		err = c->xprt->handshake(c);
		if (err == -EAGAIN)
			comm_conn_rewatch(c);
		else
			connect_end(c, err == 0 ? COMM_OK : COMM_ERROR, -err);
		return;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == EINPROGRESS || err == EINTR)
		return;
	if (err != 0)
		log_msg(LG_DEBUG, SEC_COMM, "conn fd %d: connect: %s", c->fd,
		    strerror(err));
	connect_end(c, err == 0 ? COMM_OK : COMM_ERROR, err);
}

void
comm_connect_timeout(struct comm_conn *c)
{
	connect_end(c, COMM_TIMEOUT, 0);
}
