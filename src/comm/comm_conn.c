/*
 * comm_conn.c - the connection object: operations, delivery, teardown,
 * close handlers, timeouts.
 *
 * Lifecycle of a connection:
 *	comm_conn_new(), comm_connect(), accept	 allocated, owned by the
 *				caller; flags 0
 *	comm_read(), comm_writev()   ops PENDING; nops counts them
 *	comm_op_finish()	an op's result is fixed (DONE), its completion
 *				posted on the loop's call queue
 *	op_deliver()		(from the queue) done() runs; nops - 1
 *	comm_op_nomem()		a write with no memory for its entry: a
 *				record from the loop's reserve, its result
 *				fixed (ERROR ENOMEM, the writes after it
 *				failing too) and posted
 *	nomem_deliver()		(from the queue) done(); the record back
 *	comm_close()		RELEASED; teardown unless already torn down
 *	comm_conn_teardown()	CLOSING: watchers stopped, every PENDING op
 *				finished (CANCELLED, or TIMEOUT for idle and
 *				lifetime) in start order, c->call turned
 *				from the flush into conn_down and posted
 *	conn_down()		(from the queue, after those completions)
 *				close handlers run; a shutdown owed (asked
 *				for, its writes out, not sent yet) is tried
 *	conn_linger_start()	it waits for room: LINGER, the fd watched for
 *				what the transport needs, COMM_SHUT_LINGER at
 *				most (conn_io_cb() and conn_timer_cb() go to
 *				conn_linger_step() / conn_end())
 *	conn_end()		transport closed, close(fd); CLOSED
 *	conn_maybe_free()	CLOSED and RELEASED and nops == 0: freed
 *
 * Because completions and conn_down travel through one FIFO queue, the
 * order the contract promises (cancelled ops, then handlers, then the fd)
 * falls out of posting order; nothing is called inline.  A lingering
 * connection owes nobody a callback (its handlers have run, its owner
 * has let go), so the wait for a close_notify to leave cannot break the
 * contract; it only keeps the fd and the transport a while longer.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "base/check.h"
#include "base/list.h"
#include "base/log.h"
#include "buf/buf.h"
#include "comm/comm_int.h"

/* Timer slack: a deadline this close is treated as passed, so a timer
 * that fires a hair early (clock rounding) does not re-arm for nothing. */
#define COMM_TIME_SLACK		1e-3

/* Close handlers: a singly linked list from c->handlers, in the order
 * added (one or two per connection; a list head would cost an idle
 * connection 8 bytes more). */
struct comm_handler {
	unsigned		magic;
#define COMM_HANDLER_MAGIC	0xc0331a4dU
	struct comm_handler	*next;
	comm_close_fn		*fn;
	void			*arg;
};

static const char *const comm_status_names[] = {
	[COMM_OK] = "ok",
	[COMM_EOF] = "eof",
	[COMM_ERROR] = "error",
	[COMM_TIMEOUT] = "timeout",
	[COMM_CANCELLED] = "cancelled",
};

const char *
comm_status_name(enum comm_status st)
{
	CHECK((size_t)st < ARRAY_LEN(comm_status_names));
	return (comm_status_names[st]);
}

static void	op_deliver(struct comm_call *call);
static void	nomem_deliver(struct comm_call *call);
static void	conn_down(struct comm_call *call);
static void	conn_end(struct comm_conn *c);
static void	conn_linger_start(struct comm_conn *c);
static void	conn_linger_step(struct comm_conn *c);
static void	conn_timer_cb(struct ev_loop *ev, ev_timer *w, int revents);
static void	conn_io_cb(struct ev_loop *ev, ev_io *w, int revents);

void
comm_sock_nodelay(int fd)
{
	int on = 1;

	/* Fails on non-TCP sockets, which is fine: nothing to disable. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

/* The send buffer a path of rtt_us wants (see COMM_BULK_MIN), or 0:
 * leave it to autotuning. */
uint32_t
comm_sndbuf_for_rtt(uint32_t rtt_us)
{
	uint64_t want = 2ull * COMM_BULK_RATE * rtt_us;

	if (rtt_us == 0 || want >= COMM_SNDBUF_AUTO)
		return (0);
	return (want < COMM_SNDBUF_MIN ? COMM_SNDBUF_MIN : (uint32_t)want);
}

void
comm_sock_bulk_sndbuf(struct comm_conn *c)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	uint32_t want;
	int v;

	c->flags &= ~CONN_BULK_SIZE;		/* once */
	memset(&ti, 0, sizeof ti);
	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return;
	if ((want = comm_sndbuf_for_rtt(ti.tcpi_rtt)) == 0)
		return;
	v = (int)(want / 2);			/* the kernel doubles it */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
}

struct comm_conn *
comm_conn_alloc(struct comm_loop *loop, int fd)
{
	struct comm_conn *c;

	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	ALLOC_OBJ(c, COMM_CONN_MAGIC);
	if (c == NULL)
		return (NULL);
	c->loop = loop;
	c->xprt = &comm_xprt_raw;
	ev_io_init(&c->io, conn_io_cb, fd, 0);
	ev_init(&c->timer, conn_timer_cb);
	c->fd = fd;
	c->rd.magic = COMM_OP_MAGIC;
	c->rd.kind = COMM_OP_READ;
	list_init(&c->rd.call.link);
	list_init(&c->wq);
	comm_call_init(&c->call, comm_io_flush_call);
	c->t_start = comm_loop_now(loop);
	list_insert_tail(&loop->conns, &c->link);
	loop->st.conns++;
	return (c);
}

void
comm_conn_set_fd(struct comm_conn *c, int fd)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	CHECK(c->fd == -1 && fd >= 0);
	c->fd = fd;
	ev_io_set(&c->io, fd, 0);
}

struct comm_conn *
comm_conn_new(struct comm_loop *loop, int fd)
{
	int fl;

	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	CHECK(fd >= 0);
	fl = fcntl(fd, F_GETFL);
	if (fl != -1 && !(fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	comm_sock_nodelay(fd);
	return (comm_conn_alloc(loop, fd));
}

static void
conn_free(struct comm_conn *c)
{
	struct comm_loop *loop = c->loop;

	/* The contract's last line: nothing may still be owed a callback. */
	AZ(c->nops);
	CHECK(list_empty(&c->wq));
	CHECK(c->handlers == NULL);
	CHECK(c->rd.state == COMM_OP_IDLE);
	CHECK(c->cn == NULL);
	CHECK(!comm_call_pending(&c->rd.call));
	CHECK(!comm_call_pending(&c->call));
	CHECK(c->fd == -1);
	CHECK(!ev_is_active(&c->io));
	ev_timer_stop(loop->ev, &c->timer);
	CHECK(loop->st.conns > 0);
	list_remove(&c->link);
	loop->st.conns--;
	FREE_OBJ(c);
}

static void
conn_maybe_free(struct comm_conn *c)
{
	if ((c->flags & (CONN_CLOSED | CONN_RELEASED)) ==
	    (CONN_CLOSED | CONN_RELEASED) && c->nops == 0)
		conn_free(c);
}

void
comm_op_start(struct comm_conn *c, struct comm_op *op, enum comm_op_kind kind,
    comm_done_fn *done, void *arg)
{
	CHECK_OBJ_NOTNULL(op, COMM_OP_MAGIC);
	CHECK(op->state == COMM_OP_IDLE);
	AN(done);
	op->kind = (uint8_t)kind;
	op->state = COMM_OP_PENDING;
	op->status = COMM_OK;
	op->err = 0;
	op->seq = c->seq++;
	CHECK((kind == COMM_OP_READ) == (op == &c->rd));
	if (kind != COMM_OP_READ)
		container_of(op, struct comm_wop, op)->conn = c;
	op->done = done;
	op->arg = arg;
	op->len = 0;
	CHECK(!comm_call_pending(&op->call));
	comm_call_init(&op->call, op_deliver);
	c->nops++;
	c->loop->st.ops++;
}

void
comm_op_finish(struct comm_op *op, enum comm_status st, int err)
{
	CHECK_OBJ_NOTNULL(op, COMM_OP_MAGIC);
	CHECK(op->state == COMM_OP_PENDING);
	op->state = COMM_OP_DONE;
	op->status = (uint8_t)st;
	op->err = st == COMM_ERROR ? err : 0;
	comm_call_post(comm_op_conn(op)->loop, &op->call);
}

static void
op_deliver(struct comm_call *call)
{
	struct comm_op *op = container_of(call, struct comm_op, call);
	struct comm_result res;
	struct comm_conn *c;
	struct comm_wop *w;
	struct buf *b = NULL;
	comm_done_fn *done;
	void *arg;

	CHECK_OBJ_NOTNULL(op, COMM_OP_MAGIC);
	CHECK(op->state == COMM_OP_DONE);
	c = comm_op_conn(op);
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	memset(&res, 0, sizeof res);
	res.status = (enum comm_status)op->status;
	res.err = op->err;
	res.len = op->len;
	done = op->done;
	arg = op->arg;
	/* The slot is free before done runs, so done may start the next. */
	op->state = COMM_OP_IDLE;
	if (op->kind == COMM_OP_READ) {
		b = op->buf;
		op->buf = NULL;
		if (res.status == COMM_OK)
			res.data = (struct buf_slice){ b, op->off,
			    (uint32_t)op->len };
	} else {
		/* A write lets go of its bytes exactly when it completes. */
		w = container_of(op, struct comm_wop, op);
		if (w->pinned > 0)
			buf_pool_unpin(w->chain.pool, w->pinned);
		w->pinned = 0;
		buf_chain_fini(&w->chain);
		comm_wop_put(c->loop, w);
	}
	done(c, &res, arg);
	buf_unref(&b);
	CHECK(c->nops > 0 && c->loop->st.ops > 0);
	c->nops--;
	c->loop->st.ops--;
	conn_maybe_free(c);
}

/*
 * A write that has no queue entry (the allocation failed): its completion
 * is a record from the loop's reserve (comm_int.h).  Bytes left out of
 * the middle of a stream would corrupt it, so the write side fails as on
 * a write error: the queue at once, every later write too.  The record
 * is posted now, behind the queue's completions, so that they all arrive
 * in start order.
 */
void
comm_op_nomem(struct comm_conn *c, comm_done_fn *done, void *arg)
{
	struct comm_loop *loop = c->loop;
	struct comm_nomem *nm;
	struct list *n;

	AN(done);
	n = list_first(&loop->nomem);
	if (n != NULL) {
		list_remove(n);
		nm = container_of(n, struct comm_nomem, link);
	} else {
		nm = malloc(sizeof *nm);
		if (nm == NULL)
			WRONG("no memory for a write's completion");
		list_init(&nm->link);
		nm->reserved = false;
	}
	comm_call_init(&nm->call, nomem_deliver);
	nm->conn = c;
	nm->done = done;
	nm->arg = arg;
	nm->err = 0;
	if (c->flags & CONN_CLOSING)
		nm->status = COMM_CANCELLED;
	else {
		if (c->werr == 0) {
			log_msg(LG_WARN, SEC_COMM, "conn fd %d: no memory "
			    "for a write: the connection's writes fail",
			    c->fd);
			loop->st.write_nomem++;
			comm_io_write_fail(c, COMM_ERROR, ENOMEM);
		}
		nm->status = COMM_ERROR;
		nm->err = c->werr;	/* sticky: ENOMEM, or what came first */
	}
	c->nops++;
	loop->st.ops++;
	comm_call_post(loop, &nm->call);
}

static void
nomem_deliver(struct comm_call *call)
{
	struct comm_nomem *nm = container_of(call, struct comm_nomem, call);
	struct comm_conn *c = nm->conn;
	struct comm_result res;
	comm_done_fn *done;
	void *arg;

	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	memset(&res, 0, sizeof res);
	res.status = (enum comm_status)nm->status;
	res.err = nm->err;
	done = nm->done;
	arg = nm->arg;
	/* Back before done runs: done may start another such write. */
	if (nm->reserved)
		list_insert_head(&c->loop->nomem, &nm->link);
	else
		free(nm);
	done(c, &res, arg);
	CHECK(c->nops > 0 && c->loop->st.ops > 0);
	c->nops--;
	c->loop->st.ops--;
	conn_maybe_free(c);
}

/* Signed distance, so that a wrapped sequence still orders. */
static bool
seq_before(uint32_t a, uint32_t b)
{
	return ((int32_t)(a - b) < 0);
}

/* Finish the connect and the read, if pending and started before seq
 * (all of them when `all`), in start order. */
static void
finish_singles(struct comm_conn *c, uint32_t seq, bool all,
    enum comm_status st)
{
	struct comm_op *one[2];
	struct comm_wop *w;
	int n = 0, i;

	if (c->cn != NULL && (all || seq_before(c->cn->op.seq, seq)))
		one[n++] = &c->cn->op;
	if (c->rd.state == COMM_OP_PENDING &&
	    (all || seq_before(c->rd.seq, seq)))
		one[n++] = &c->rd;
	if (n == 2 && seq_before(one[1]->seq, one[0]->seq)) {
		one[0] = &c->rd;
		one[1] = &c->cn->op;
	}
	for (i = 0; i < n; i++) {
		if (one[i] == &c->rd) {
			comm_op_finish(&c->rd, st, 0);
		} else {
			w = c->cn;
			c->cn = NULL;
			c->flags &= ~CONN_CONNECTING;
			comm_op_finish(&w->op, st, 0);
		}
	}
}

void
comm_conn_teardown(struct comm_conn *c, enum comm_status why)
{
	struct list *n;
	struct comm_wop *w;

	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	CHECK(why == COMM_CANCELLED || why == COMM_TIMEOUT);
	if (c->flags & CONN_CLOSING)
		return;
	c->flags |= CONN_CLOSING;
	c->why = (uint8_t)why;
	/* A shutdown after cancelled writes would pass a cut stream off
	 * as complete. */
	if (!list_empty(&c->wq) || c->werr != 0 ||
	    (c->flags & CONN_CONNECTING))
		c->flags |= CONN_CUT;
	c->flags &= ~(CONN_WAIT_READ | CONN_WAIT_WRITE);
	ev_io_stop(c->loop->ev, &c->io);
	ev_timer_stop(c->loop->ev, &c->timer);
	/* No flush is wanted any more (comm_io_flush_soon() posts none on a
	 * closing conn), so the one call goes the way down now. */
	comm_call_cancel(&c->call);
	comm_call_init(&c->call, conn_down);
	/* Pending operations complete in the order they were started: the
	 * write queue is in order, the read and the connect slot in. */
	while ((n = list_first(&c->wq)) != NULL) {
		w = container_of(n, struct comm_wop, link);
		finish_singles(c, w->op.seq, false, why);
		list_remove(&w->link);
		comm_op_finish(&w->op, why, 0);
	}
	finish_singles(c, 0, true, why);
	c->queued = 0;
	log_msg(LG_DEBUG, SEC_COMM, "conn fd %d: down (%s), %u ops owed",
	    c->fd, comm_status_name(why), c->nops);
	comm_call_post(c->loop, &c->call);
}

static void
conn_down(struct comm_call *call)
{
	struct comm_conn *c = container_of(call, struct comm_conn, call);
	struct comm_handler *h;
	comm_close_fn *fn;
	void *arg;

	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	CHECK(c->flags & CONN_CLOSING);
	while ((h = c->handlers) != NULL) {
		CHECK_OBJ(h, COMM_HANDLER_MAGIC);
		c->handlers = h->next;
		fn = h->fn;
		arg = h->arg;
		FREE_OBJ(h);
		fn(c, (enum comm_status)c->why, arg);
	}
	if ((c->flags & (CONN_SHUT_WANTED | CONN_SHUT_DONE | CONN_CUT)) ==
	    CONN_SHUT_WANTED && c->fd != -1 && c->xprt->shutdown != NULL) {
		c->flags |= CONN_SHUT_DONE;
		if (c->xprt->shutdown(c) == -EAGAIN) {
			conn_linger_start(c);
			return;
		}
	}
	conn_end(c);
}

/* The close_notify a close owes waits for room in the socket buffer:
 * watch for what the transport needs (it may be the other event), with
 * the timer as the bound.  t_write marks the start (conn_deadline()). */
static void
conn_linger_start(struct comm_conn *c)
{
	c->flags |= CONN_LINGER | CONN_WAIT_WRITE;
	c->t_write = comm_conn_clock(c);
	c->loop->st.lingering++;
	comm_conn_rewatch(c);
	comm_conn_timer_update(c);
	log_msg(LG_DEBUG, SEC_COMM, "conn fd %d: closed, its shutdown "
	    "waits for room", c->fd);
}

static void
conn_linger_step(struct comm_conn *c)
{
	int r;

	r = c->xprt->shutdown(c);
	if (r == -EAGAIN) {
		comm_conn_rewatch(c);
		return;
	}
	if (r != 0)
		log_msg(LG_DEBUG, SEC_COMM, "conn fd %d: shutdown: %s",
		    c->fd, strerror(-r));
	conn_end(c);
}

/* The last of a connection's life: the transport and the fd go. */
static void
conn_end(struct comm_conn *c)
{
	if (c->flags & CONN_LINGER) {
		c->flags &= ~(CONN_LINGER | CONN_WAIT_WRITE);
		ev_io_stop(c->loop->ev, &c->io);
		ev_timer_stop(c->loop->ev, &c->timer);
		CHECK(c->loop->st.lingering > 0);
		c->loop->st.lingering--;
	}
	if (c->xprt->close != NULL)
		c->xprt->close(c);
	if (c->fd != -1) {
		(void)close(c->fd);
		c->fd = -1;
	}
	c->flags |= CONN_CLOSED;
	conn_maybe_free(c);
}

void
comm_conn_end_lingering(struct comm_loop *loop)
{
	struct list *n, *tmp;
	struct comm_conn *c;

	LIST_FOREACH_SAFE(n, tmp, &loop->conns) {
		c = container_of(n, struct comm_conn, link);
		if (c->flags & CONN_LINGER)
			conn_end(c);
	}
}

void
comm_close(struct comm_conn **cp)
{
	struct comm_conn *c;

	AN(cp);
	if (*cp == NULL)
		return;
	TAKE_OBJ_NOTNULL(c, cp, COMM_CONN_MAGIC);
	CHECK(!(c->flags & CONN_RELEASED));	/* closed twice */
	c->flags |= CONN_RELEASED;
	if (!(c->flags & CONN_CLOSING))
		comm_conn_teardown(c, COMM_CANCELLED);
	else
		conn_maybe_free(c);
}

void
comm_close_clean(struct comm_conn **cp)
{
	struct comm_conn *c;

	AN(cp);
	if (*cp == NULL)
		return;
	c = *cp;
	CHECK_OBJ(c, COMM_CONN_MAGIC);
	if (!(c->flags & CONN_CLOSING))
		comm_shutdown_write(c);
	else if (!(c->flags & CONN_CLOSED))
		c->flags |= CONN_SHUT_WANTED;	/* conn_down() sends it */
	comm_close(cp);
}

int
comm_add_close_handler(struct comm_conn *c, comm_close_fn *fn, void *arg)
{
	struct comm_handler *h, **tail;

	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	AN(fn);
	if (c->flags & CONN_CLOSING)
		return (-EINVAL);
	ALLOC_OBJ(h, COMM_HANDLER_MAGIC);
	if (h == NULL)
		return (-ENOMEM);
	h->fn = fn;
	h->arg = arg;
	for (tail = &c->handlers; *tail != NULL; tail = &(*tail)->next)
		continue;
	*tail = h;
	return (0);
}

int
comm_remove_close_handler(struct comm_conn *c, comm_close_fn *fn, void *arg)
{
	struct comm_handler *h, **prev;

	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	for (prev = &c->handlers; (h = *prev) != NULL; prev = &h->next) {
		CHECK_OBJ(h, COMM_HANDLER_MAGIC);
		if (h->fn == fn && h->arg == arg) {
			*prev = h->next;
			FREE_OBJ(h);
			return (0);
		}
	}
	return (-ENOENT);
}

/*
 * Timeouts.  One ev_timer per connection, armed for the earliest deadline
 * and re-armed lazily (libev's "timeouts that are reset often"): moving
 * bytes only stores the time in t_active or t_write; when the timer
 * fires it recomputes the deadlines, acts on the ones that passed and
 * sets itself for the next.  Only a deadline earlier than the armed one
 * (a short read timeout under a long lifetime) re-arms at once.
 */
static double
conn_deadline(const struct comm_conn *c)
{
	double d = HUGE_VAL;

#define EARLIER(t, which)	do {					\
	if (c->to[which] > 0 && (t) + c->to[which] < d)			\
		d = (t) + c->to[which];					\
} while (0)
	if (c->flags & CONN_LINGER)
		return (c->t_start + c->t_write + COMM_SHUT_LINGER);
	if (c->flags & CONN_CLOSING)
		return (d);
	EARLIER(c->t_start, COMM_TO_LIFETIME);
	EARLIER(c->t_start + c->t_active, COMM_TO_IDLE);
	if (c->flags & CONN_CONNECTING)
		EARLIER(c->t_start, COMM_TO_CONNECT);
	else if (!list_empty(&c->wq))
		EARLIER(c->t_start + c->t_write, COMM_TO_WRITE);
	if (c->rd.state == COMM_OP_PENDING)
		EARLIER(c->t_start + c->t_read, COMM_TO_READ);
#undef EARLIER
	return (d);
}

void
comm_conn_timer_update(struct comm_conn *c)
{
	double d, now;

	d = conn_deadline(c);
	if (d == HUGE_VAL)
		return;
	now = comm_loop_now(c->loop);
	/* Armed for d already, or earlier: it re-arms when it fires.  The
	 * deadline it is armed for is read back from libev (a hair off d,
	 * hence the slack) rather than kept here. */
	if (ev_is_active(&c->timer) && now + ev_timer_remaining(c->loop->ev,
	    &c->timer) <= d + COMM_TIME_SLACK)
		return;
	ev_timer_stop(c->loop->ev, &c->timer);
	ev_timer_set(&c->timer, d > now ? d - now : 0., 0.);
	ev_timer_start(c->loop->ev, &c->timer);
}

static void
conn_timer_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct comm_conn *c = container_of(w, struct comm_conn, timer);
	double now;

	(void)revents;
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	now = comm_loop_now(c->loop) + COMM_TIME_SLACK;
	if (c->flags & CONN_LINGER) {
		if (c->t_start + c->t_write + COMM_SHUT_LINGER <= now) {
			log_msg(LG_DEBUG, SEC_COMM, "conn fd %d: its "
			    "shutdown found no room in %.1f s: closed",
			    c->fd, COMM_SHUT_LINGER);
			conn_end(c);
		} else
			comm_conn_timer_update(c);
		return;
	}
#define PASSED(t, which)	(c->to[which] > 0 && (t) + c->to[which] <= now)
	if (PASSED(c->t_start, COMM_TO_LIFETIME) ||
	    PASSED(c->t_start + c->t_active, COMM_TO_IDLE)) {
		comm_conn_teardown(c, COMM_TIMEOUT);
		return;
	}
	if ((c->flags & CONN_CONNECTING) && PASSED(c->t_start, COMM_TO_CONNECT))
		comm_connect_timeout(c);
	if (c->rd.state == COMM_OP_PENDING &&
	    PASSED(c->t_start + c->t_read, COMM_TO_READ))
		comm_io_read_fail(c, COMM_TIMEOUT, 0);
	if (!(c->flags & CONN_CONNECTING) && !list_empty(&c->wq) &&
	    PASSED(c->t_start + c->t_write, COMM_TO_WRITE))
		comm_io_write_fail(c, COMM_TIMEOUT, ETIMEDOUT);
#undef PASSED
	comm_conn_timer_update(c);
}

void
comm_set_timeout(struct comm_conn *c, enum comm_timeout which, double seconds)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	CHECK((unsigned)which < COMM_TO__COUNT);
	CHECK(seconds >= 0);
	c->to[which] = (float)seconds;
	comm_conn_timer_update(c);
}

double
comm_conn_since(const struct comm_conn *c)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	return (c->t_start);
}

int
comm_conn_fd(const struct comm_conn *c)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	return (c->fd);
}

struct comm_loop *
comm_conn_loop(const struct comm_conn *c)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	return (c->loop);
}

void
comm_conn_stats(const struct comm_conn *c, struct comm_conn_stats *st)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	memset(st, 0, sizeof *st);
	st->pending = c->nops;
	st->queued = c->queued;
	st->write_armed = comm_conn_watching(c, EV_WRITE);
}

void
comm_conn_set_xprt(struct comm_conn *c, const struct comm_xprt *x,
    void *ctx)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	AN(x);
	AN(x->recv);
	AN(x->sendv);
	CHECK(list_empty(&c->wq) && c->rd.state == COMM_OP_IDLE);
	c->xprt = x;
	c->xprt_ctx = ctx;
}

void *
comm_conn_xprt_ctx(const struct comm_conn *c)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	return (c->xprt_ctx);
}

/* libev's events are the transport's COMM_XPRT_* bits. */
_Static_assert(EV_READ == COMM_XPRT_READ && EV_WRITE == COMM_XPRT_WRITE,
    "COMM_XPRT_* are not libev's events");

/* The socket events the waiting operations in ops need. */
static int
conn_needs(struct comm_conn *c, int ops)
{
	if (ops == 0 || c->xprt->watch == NULL)
		return (ops);
	return (c->xprt->watch(c, ops) & (EV_READ | EV_WRITE));
}

void
comm_conn_watch(struct comm_conn *c, int ev, bool on)
{
	unsigned f = ev == EV_READ ? CONN_WAIT_READ : CONN_WAIT_WRITE;

	CHECK(ev == EV_READ || ev == EV_WRITE);
	if (on)
		c->flags |= f;
	else
		c->flags &= ~f;
	comm_conn_rewatch(c);
}

void
comm_conn_rewatch(struct comm_conn *c)
{
	int cur, want;

	want = (c->flags & CONN_WAIT_READ ? EV_READ : 0) |
	    (c->flags & CONN_WAIT_WRITE ? EV_WRITE : 0);
	want = conn_needs(c, want);
	cur = ev_is_active(&c->io) ? c->io.events & (EV_READ | EV_WRITE) : 0;
	if (want == cur)
		return;
	if (cur != 0)
		ev_io_stop(c->loop->ev, &c->io);
	if (want != 0) {
		ev_io_modify(&c->io, want);
		ev_io_start(c->loop->ev, &c->io);
	}
}

/* The fd is ready: writes (or the connect) first, then the read, if it
 * is still watched (the write side may have torn the connection down). */
static void
conn_io_cb(struct ev_loop *ev, ev_io *w, int revents)
{
	struct comm_conn *c = container_of(w, struct comm_conn, io);

	(void)ev;
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	if (c->flags & CONN_LINGER) {
		conn_linger_step(c);
		return;
	}
	/* What the socket's events mean for the waiting operations: the
	 * same events on a plain socket, perhaps the other one under TLS. */
	if (comm_conn_watching(c, EV_WRITE) &&
	    (revents & conn_needs(c, EV_WRITE)))
		comm_io_write_ready(c);
	if (comm_conn_watching(c, EV_READ) &&
	    (revents & conn_needs(c, EV_READ)))
		comm_io_read_ready(c);
}
