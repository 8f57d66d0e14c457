/*
 * comm_io.c - reads, the write queue, half-close; the plain transport.
 *
 * Lifecycle of a read (the slot c->rd):
 *	comm_read()		PENDING, read watcher on (once connected: see
 *				comm_connect.c)
 *	comm_io_read_ready()	one recv(): OK (bytes), EOF or ERROR -> DONE,
 *				watcher off; EAGAIN -> still PENDING
 *	comm_io_read_fail()	cancel, timeout, failed connect -> DONE
 *
 * Lifecycle of a write (struct comm_wop on c->wq):
 *	comm_writev()		queued, refs held, bytes pinned; a flush is
 *				posted unless the write watcher is armed
 *	io_flush()		one sendv() with as many iovecs (up to
 *				IOV_MAX) as the whole queue offers; writes
 *				fully out -> DONE(OK), in order; a partial
 *				write or EAGAIN arms the write watcher, a
 *				drained queue disarms it
 *	comm_io_write_fail()	error, timeout: the whole queue -> DONE
 *
 * Posting the flush instead of writing inside comm_writev() lets every
 * write queued in one round of callbacks (headers, then body slices) go
 * out in one writev.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "base/check.h"
#include "base/list.h"
#include "base/log.h"
#include "buf/buf.h"
#include "comm/comm_int.h"

/* --- the plain transport ------------------------------------------------- */

static ssize_t
raw_recv(struct comm_conn *c, void *p, size_t len)
{
	ssize_t r;

	r = read(c->fd, p, len);
	return (r == -1 ? -errno : r);
}

static ssize_t
raw_sendv(struct comm_conn *c, const struct iovec *iov, int iovcnt)
{
	struct msghdr msg;
	ssize_t r;

	memset(&msg, 0, sizeof msg);
	msg.msg_iov = (struct iovec *)(uintptr_t)iov;
	msg.msg_iovlen = (size_t)iovcnt;
	/* MSG_NOSIGNAL: a reset peer costs EPIPE, never SIGPIPE, whatever
	 * the process's signal disposition. */
	r = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
	if (r == -1 && errno == ENOTSOCK)
		r = writev(c->fd, iov, iovcnt);
	return (r == -1 ? -errno : r);
}

static size_t
raw_readable(struct comm_conn *c)
{
	int n;

	if (ioctl(c->fd, FIONREAD, &n) == -1 || n < 0)
		return (0);
	return ((size_t)n);
}

static int
raw_shutdown(struct comm_conn *c)
{
	return (shutdown(c->fd, SHUT_WR) == -1 ? -errno : 0);
}

const struct comm_xprt comm_xprt_raw = {
	.name = "raw",
	.recv = raw_recv,
	.sendv = raw_sendv,
	.readable = raw_readable,
	.shutdown = raw_shutdown,
	.close = NULL,
};

/* --- reads --------------------------------------------------------------- */

void
comm_read(struct comm_conn *c, struct buf *b, size_t max, comm_done_fn *done,
    void *arg)
{
	struct comm_op *op;

	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	CHECK_OBJ_ORNULL(b, BUF_MAGIC);
	op = &c->rd;
	CHECK(op->state == COMM_OP_IDLE);	/* one read at a time */
	comm_op_start(c, op, COMM_OP_READ, done, arg);
	op->buf = b != NULL ? buf_ref(b) : NULL;
	op->max = max > UINT32_MAX ? UINT32_MAX : (uint32_t)max;
	op->off = 0;
	op->peek = 0;
	if (c->flags & CONN_CLOSING) {
		comm_op_finish(op, COMM_CANCELLED, 0);
		return;
	}
	if (c->fd == -1) {
		comm_op_finish(op, COMM_ERROR, c->werr != 0 ? c->werr :
		    ENOTCONN);
		return;
	}
	if (b != NULL && buf_room(b) == 0) {
		comm_op_finish(op, COMM_ERROR, ENOBUFS);
		return;
	}
	c->t_read = comm_conn_clock(c);
	/* A connecting socket reports its failure as readable too, and a
	 * read() there would consume the SO_ERROR the connect is decided
	 * by: connect_end() arms the read once the socket is connected. */
	if (!(c->flags & CONN_CONNECTING))
		comm_conn_watch(c, EV_READ, true);
	comm_conn_timer_update(c);
}

void
comm_peek(struct comm_conn *c, size_t want, comm_done_fn *done, void *arg)
{
	struct comm_op *op;
	int lowat;

	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	CHECK(c->xprt == &comm_xprt_raw);
	CHECK(want > 0 && want <= COMM_PEEK_MAX);
	op = &c->rd;
	CHECK(op->state == COMM_OP_IDLE);	/* one read at a time */
	comm_op_start(c, op, COMM_OP_READ, done, arg);
	op->buf = NULL;
	op->max = (uint32_t)want;
	op->off = 0;
	op->peek = 1;
	if (c->flags & CONN_CLOSING) {
		comm_op_finish(op, COMM_CANCELLED, 0);
		return;
	}
	if (c->fd == -1) {
		comm_op_finish(op, COMM_ERROR, c->werr != 0 ? c->werr :
		    ENOTCONN);
		return;
	}
	/* Readable only once want bytes are in: Linux's poll honours
	 * the receive low-water mark for TCP. */
	lowat = (int)want;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat,
	    sizeof lowat);
	c->t_read = comm_conn_clock(c);
	if (!(c->flags & CONN_CONNECTING))
		comm_conn_watch(c, EV_READ, true);
	comm_conn_timer_update(c);
}

/* The peer has sent its FIN (TCP's CLOSE_WAIT and later), or the socket
 * is not TCP: fewer bytes than a peek wants are all there will be. */
static bool
comm_io_peer_done(struct comm_conn *c)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;

	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return (true);
	return (ti.tcpi_state != TCP_ESTABLISHED &&
	    ti.tcpi_state != TCP_SYN_SENT && ti.tcpi_state != TCP_SYN_RECV &&
	    ti.tcpi_state != TCP_FIN_WAIT1 && ti.tcpi_state != TCP_FIN_WAIT2);
}

static void
comm_io_peek_lowat(struct comm_conn *c)
{
	int one = 1;

	if (c->fd != -1)
		(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &one,
		    sizeof one);
}

static void
comm_io_peek_ready(struct comm_conn *c)
{
	struct comm_op *op = &c->rd;
	struct buf *b;
	ssize_t r;

	b = buf_alloc(c->loop->pool, op->max);
	if (b == NULL) {
		comm_io_read_fail(c, COMM_ERROR, ENOMEM);
		return;
	}
	c->loop->st.recv_calls++;
	r = recv(c->fd, b->data, op->max, MSG_PEEK);
	if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
		buf_unref(&b);
		return;
	}
	if (r <= 0) {
		buf_unref(&b);
		comm_io_read_fail(c, r == 0 ? COMM_EOF : COMM_ERROR, errno);
		return;
	}
	if ((size_t)r < op->max && !comm_io_peer_done(c)) {
		buf_unref(&b);	/* woken early: wait for the rest */
		return;
	}
	comm_io_peek_lowat(c);
	comm_conn_watch(c, EV_READ, false);
	op->buf = b;
	op->off = 0;
	b->fill = (uint32_t)r;
	op->len = (size_t)r;
	c->t_active = comm_conn_clock(c);
	comm_op_finish(op, COMM_OK, 0);
}

/* A read with neither a block nor a size (a client's requests): recv()
 * into the loop's scratch space, then keep what came in a block of its
 * size.  Copying a request costs less than the ioctl(FIONREAD) that
 * would size the block beforehand, and an idle connection still pins
 * nothing. */
static void
comm_io_read_scratch(struct comm_conn *c)
{
	struct comm_op *op = &c->rd;
	struct buf *b;
	ssize_t r;

	c->loop->st.recv_calls++;
	r = c->xprt->recv(c, c->loop->scratch, sizeof c->loop->scratch);
	if (r == -EAGAIN || r == -EINTR)
		return;
	if (r <= 0) {
		comm_io_read_fail(c, r == 0 ? COMM_EOF : COMM_ERROR, (int)-r);
		return;
	}
	b = buf_alloc(c->loop->pool, (size_t)r);
	if (b == NULL) {
		comm_io_read_fail(c, COMM_ERROR, ENOMEM);
		return;
	}
	buf_append(b, c->loop->scratch, (size_t)r);
	comm_conn_watch(c, EV_READ, false);
	op->buf = b;
	op->off = 0;
	op->len = (size_t)r;
	c->loop->st.bytes_in += (uint64_t)r;
	c->t_active = comm_conn_clock(c);
	comm_op_finish(op, COMM_OK, 0);
}

void
comm_io_read_ready(struct comm_conn *c)
{
	struct comm_op *op;
	struct buf *b;
	size_t want, avail, len;
	ssize_t r;

	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	op = &c->rd;
	CHECK(op->state == COMM_OP_PENDING);
	if (op->peek) {
		comm_io_peek_ready(c);
		return;
	}
	b = op->buf;
	if (b != NULL && buf_room(b) == 0) {
		/* The caller's block filled up meanwhile: recv() of 0 bytes
		 * would return 0 and pass for EOF. */
		comm_io_read_fail(c, COMM_ERROR, ENOBUFS);
		return;
	}
	if (b == NULL && op->max == 0) {
		comm_io_read_scratch(c);
		return;
	}
	if (b == NULL) {
		/* Take a block only now that there is something to read,
		 * and no bigger than what is there. */
		want = op->max != 0 ? op->max : COMM_READ_DEFAULT;
		avail = c->xprt->readable != NULL ? c->xprt->readable(c) :
		    want;
		if (avail < want)
			want = avail;
		b = buf_alloc(c->loop->pool, want);
		if (b == NULL) {
			comm_io_read_fail(c, COMM_ERROR, ENOMEM);
			return;
		}
	}
	len = buf_room(b);
	if (op->max != 0 && len > op->max)
		len = op->max;
	c->loop->st.recv_calls++;
	r = c->xprt->recv(c, b->data + b->fill, len);
	if (r == -EAGAIN || r == -EINTR) {
		if (op->buf == NULL)
			buf_unref(&b);	/* an idle conn pins nothing */
		return;
	}
	if (r <= 0) {
		if (op->buf == NULL)
			buf_unref(&b);
		comm_io_read_fail(c, r == 0 ? COMM_EOF : COMM_ERROR,
		    (int)-r);
		return;
	}
	comm_conn_watch(c, EV_READ, false);
	op->buf = b;
	op->off = b->fill;
	b->fill += (uint32_t)r;
	op->len = (size_t)r;
	c->loop->st.bytes_in += (uint64_t)r;
	c->t_active = comm_conn_clock(c);
	comm_op_finish(op, COMM_OK, 0);
}

void
comm_io_read_fail(struct comm_conn *c, enum comm_status st, int err)
{
	if (c->rd.state != COMM_OP_PENDING)
		return;
	if (c->rd.peek)
		comm_io_peek_lowat(c);
	comm_conn_watch(c, EV_READ, false);
	comm_op_finish(&c->rd, st, err);
}

void
comm_cancel_read(struct comm_conn *c)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	comm_io_read_fail(c, COMM_CANCELLED, 0);
}

/* --- writes -------------------------------------------------------------- */

void
comm_writev(struct comm_conn *c, struct buf_chain *chain, comm_done_fn *done,
    void *arg)
{
	struct comm_wop *w;

	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	CHECK_OBJ_NOTNULL(chain, BUF_CHAIN_MAGIC);
	w = comm_wop_get(c->loop);
	if (w == NULL) {
		/* Its bytes never go out; it fails, and so do the others. */
		comm_op_nomem(c, done, arg);
		buf_chain_fini(chain);
		return;
	}
	buf_chain_init(&w->chain, chain->pool);
	/* An empty destination takes the source's array: cannot fail. */
	AZ(buf_chain_move(&w->chain, chain));
	w->idx = 0;
	w->skip = 0;
	w->pinned = 0;
	comm_op_start(c, &w->op, COMM_OP_WRITE, done, arg);
	if (c->flags & CONN_CLOSING) {
		comm_op_finish(&w->op, COMM_CANCELLED, 0);
		return;
	}
	if (c->werr != 0 || (c->flags & CONN_SHUT_WANTED) || c->fd == -1) {
		comm_op_finish(&w->op, COMM_ERROR, c->werr != 0 ? c->werr :
		    c->fd == -1 ? ENOTCONN : EPIPE);
		return;
	}
	w->pinned = w->chain.len;
	buf_pool_pin(w->chain.pool, w->pinned);
	if (list_empty(&c->wq))
		c->t_write = comm_conn_clock(c);
	list_insert_tail(&c->wq, &w->link);
	c->queued += w->chain.len;
	if ((c->flags & CONN_BULK_SIZE) && w->chain.len >= COMM_BULK_MIN)
		comm_sock_bulk_sndbuf(c);
	comm_io_flush_soon(c);
	comm_conn_timer_update(c);
}

void
comm_io_flush_soon(struct comm_conn *c)
{
	if ((c->flags & (CONN_CONNECTING | CONN_CLOSING)) || c->fd == -1 ||
	    comm_conn_watching(c, EV_WRITE) || comm_call_pending(&c->call))
		return;
	/* Nothing to write and no FIN owed: nothing to do. */
	if (list_empty(&c->wq) && (c->flags & (CONN_SHUT_WANTED |
	    CONN_SHUT_DONE)) != CONN_SHUT_WANTED)
		return;
	comm_call_post(c->loop, &c->call);
}

/* Gather the queue's unwritten bytes into iov, across writes, until
 * IOV_MAX; *want is their sum. */
static int
io_gather(struct comm_conn *c, struct iovec *iov, size_t *want)
{
	const struct buf_slice *s;
	struct comm_wop *w;
	struct list *n;
	uint32_t i, skip;
	int cnt = 0;

	*want = 0;
	LIST_FOREACH(n, &c->wq) {
		w = container_of(n, struct comm_wop, link);
		for (i = w->idx; i < buf_chain_nslices(&w->chain); i++) {
			s = buf_chain_slice(&w->chain, i);
			skip = i == w->idx ? w->skip : 0;
			if (s->len == skip)
				continue;
			if (cnt == IOV_MAX)
				return (cnt);
			iov[cnt].iov_base = s->buf->data + s->off + skip;
			iov[cnt].iov_len = s->len - skip;
			*want += s->len - skip;
			cnt++;
		}
	}
	return (cnt);
}

/* r bytes went out: writes that are complete finish OK, in order; the
 * first incomplete one has its cursor moved. */
static void
io_advance(struct comm_conn *c, size_t r)
{
	const struct buf_slice *s;
	struct comm_wop *w;
	struct list *n;
	size_t rem, left;

	c->queued -= r;
	while ((n = list_first(&c->wq)) != NULL) {
		w = container_of(n, struct comm_wop, link);
		rem = w->chain.len - w->op.len;
		if (rem > r) {
			w->op.len += r;
			while (r > 0) {
				s = buf_chain_slice(&w->chain, w->idx);
				left = s->len - w->skip;
				if (left > r) {
					w->skip += (uint32_t)r;
					r = 0;
				} else {
					r -= left;
					w->idx++;
					w->skip = 0;
				}
			}
			return;
		}
		w->op.len += rem;
		r -= rem;
		list_remove(&w->link);
		comm_op_finish(&w->op, COMM_OK, 0);
	}
	AZ(r);
}

static void
io_shutdown(struct comm_conn *c)
{
	int err;

	c->flags |= CONN_SHUT_DONE;
	if (c->xprt->shutdown == NULL)
		return;
	err = c->xprt->shutdown(c);
	if (err == -EAGAIN) {
		/* close_notify waits for room: io_flush() comes back here. */
		c->flags &= ~CONN_SHUT_DONE;
		comm_conn_watch(c, EV_WRITE, true);
		return;
	}
	if (err != 0)
		log_msg(LG_DEBUG, SEC_COMM, "conn fd %d: shutdown: %s",
		    c->fd, strerror(-err));
}

static void
io_flush(struct comm_conn *c)
{
	struct iovec iov[IOV_MAX];
	size_t want;
	ssize_t r;
	int cnt, round;

	for (round = 0; round < COMM_FLUSH_ROUNDS; round++) {
		cnt = io_gather(c, iov, &want);
		if (want == 0) {
			io_advance(c, 0);	/* empty writes, in turn */
			break;
		}
		c->loop->st.send_calls++;
		r = c->xprt->sendv(c, iov, cnt);
		if (r == -EINTR)
			continue;
		if (r == -EAGAIN) {
			comm_conn_watch(c, EV_WRITE, true);
			return;
		}
		if (r < 0) {
			comm_io_write_fail(c, COMM_ERROR, (int)-r);
			return;
		}
		c->loop->st.bytes_out += (uint64_t)r;
		c->t_active = c->t_write = comm_conn_clock(c);
		io_advance(c, (size_t)r);
		if (list_empty(&c->wq))
			break;
		if ((size_t)r < want) {
			/* The socket buffer is full: wait for room. */
			comm_conn_watch(c, EV_WRITE, true);
			return;
		}
	}
	if (!list_empty(&c->wq)) {
		/* Still writable, but others get a turn first. */
		comm_conn_watch(c, EV_WRITE, true);
		return;
	}
	comm_conn_watch(c, EV_WRITE, false);
	if ((c->flags & (CONN_SHUT_WANTED | CONN_SHUT_DONE)) ==
	    CONN_SHUT_WANTED)
		io_shutdown(c);
}

void
comm_io_flush_call(struct comm_call *call)
{
	struct comm_conn *c = container_of(call, struct comm_conn, call);

	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	if (!(c->flags & (CONN_CONNECTING | CONN_CLOSING)) &&
	    !comm_conn_watching(c, EV_WRITE))
		io_flush(c);
}

void
comm_io_write_ready(struct comm_conn *c)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	if (c->flags & CONN_CONNECTING)
		comm_connect_ready(c);
	else
		io_flush(c);
}

/* Finish every queued write with st, in order.  While connecting, the
 * write watcher belongs to the connect and stays on. */
static void
io_finish_queue(struct comm_conn *c, enum comm_status st, int err)
{
	struct comm_wop *w;
	struct list *n;

	if (!(c->flags & CONN_CONNECTING))
		comm_conn_watch(c, EV_WRITE, false);
	/* On a closing conn the call is the way down: it stays. */
	if (!(c->flags & CONN_CLOSING))
		comm_call_cancel(&c->call);
	while ((n = list_first(&c->wq)) != NULL) {
		w = container_of(n, struct comm_wop, link);
		list_remove(&w->link);
		comm_op_finish(&w->op, st, err);
	}
	c->queued = 0;
}

void
comm_io_write_fail(struct comm_conn *c, enum comm_status st, int err)
{
	AN(err);
	c->werr = err;
	io_finish_queue(c, st, err);
}

void
comm_cancel_writes(struct comm_conn *c)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	io_finish_queue(c, COMM_CANCELLED, 0);
	comm_io_flush_soon(c);		/* a FIN asked for is still owed */
}

void
comm_shutdown_write(struct comm_conn *c)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	if (c->flags & (CONN_CLOSING | CONN_SHUT_WANTED))
		return;
	c->flags |= CONN_SHUT_WANTED;
	if (list_empty(&c->wq) && !(c->flags & CONN_CONNECTING) &&
	    c->fd != -1)
		io_shutdown(c);
}
