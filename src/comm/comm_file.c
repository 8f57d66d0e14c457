/*
 * comm_file.c - asynchronous file I/O: io_uring where the kernel allows
 * it, else a pool of threads running pread, pwritev and fdatasync; the
 * completions of either reach the loop's call queue.
 *
 * Threads (an ev_async wakes the loop):
 * Lifecycle of an operation (state under f->mu; posted and called are
 * the loop's alone):
 *	comm_fio_read/_writev/_sync	QUEUED on f->queue; a thread woken
 *	(thread)			RUNNING: the system call, no lock held
 *	(thread)			FINISHED on f->done; ev_async_send()
 *	fio_collect (ev_async)		COLLECTED: the result into res, the
 *					completion posted (unless cancelled)
 *	fop_call (call queue)		done(res, arg); freed if COLLECTED
 *	comm_fio_cancel			QUEUED: off the queue, COLLECTED at
 *					once; RUNNING or FINISHED: stays the
 *					thread's.  Either way CANCELLED is
 *					posted now; the op (and its bufs) is
 *					freed by whichever of fop_call and
 *					fio_collect comes last
 *
 * Why threads touch nothing but bytes: bufs and their pool, the call
 * queue and libev belong to the loop's thread and have no locks.  A
 * thread sees an operation's fd, offset, length and iovecs, and writes
 * back a count and an errno; every reference is taken and dropped on
 * the loop.
 *
 * io_uring (the ring's eventfd wakes the loop): an operation is RUNNING
 * from its submission to its completion queue entry; one that finds the
 * submission queue full waits QUEUED on f->queue.  Cancelling one in the
 * kernel's hands posts CANCELLED at once and asks the kernel to cancel
 * it; its buffers stay until its entry comes back, as with a thread.
 * No lock is needed (one thread), but f->mu is taken all the same so
 * that the shared code reads one way.
 *
 * Why a sync is a barrier: the disk store writes records, syncs, then
 * writes the footer that vouches for them; a footer must never reach the
 * disk before the records it lists.  Keeping that order here costs the
 * store nothing: a thread does not take a sync while any operation is
 * running, and takes nothing while a sync runs; io_uring does the same
 * for a sync submitted with IOSQE_IO_DRAIN.  (The rest of a short
 * transfer, rare on files, is submitted again when the first part
 * completes, so it may run after a later sync.)
 */
#include "config.h"

#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#ifdef HAVE_LIBURING
#include <sys/eventfd.h>

#include <liburing.h>
#endif

#include "base/check.h"
#include "base/list.h"
#include "buf/buf.h"
#include "comm/comm_file.h"
#include "comm/comm_int.h"

#define FIO_STACK	(256u * 1024)	/* a thread needs little */
#define FIO_RING	256u		/* io_uring submission entries */
#define FIO_URING_INLINE (16u * 1024)	/* larger reads: IOSQE_ASYNC */

enum fop_kind {
	FOP_READ,
	FOP_WRITE,
	FOP_SYNC
};

enum fop_state {
	FOP_QUEUED,
	FOP_RUNNING,
	FOP_FINISHED,
	FOP_COLLECTED
};

struct comm_fop {
	unsigned		magic;
#define COMM_FOP_MAGIC		0xf10e0b5aU
	struct comm_fio		*fio;	/* NULL once the engine is freed */
	struct list		link;	/* f->queue or f->done, under f->mu */
	struct list		all;	/* f->ops: done not yet run */
	struct comm_call	call;
	enum fop_kind		kind;
	enum fop_state		state;
	bool			posted;	/* completion posted (or run) */
	bool			held;	/* the threads' until collected */
	int			fd;
	uint64_t		off;
	size_t			len;
	struct buf		*b;	/* read: where to */
	struct buf_chain	chain;	/* write: what */
	struct iovec		*iov;
	unsigned		iovcnt;
	unsigned		iov_at;	/* the first iovec not all written */
	/* Written by the thread, read by the loop after collection. */
	size_t			got;
	int			err;
	struct comm_result	res;
	comm_fio_fn		*done;
	void			*arg;
};

struct comm_fio {
	unsigned		magic;
#define COMM_FIO_MAGIC		0xf10e9001U
	struct comm_loop	*loop;
	enum comm_fio_kind	kind;
	ev_async		async;
	unsigned		inflight;	/* not yet collected; the loop
						 * is kept alive while > 0 */
	struct list		ops;		/* outstanding, loop side */
	unsigned		nthreads;
	pthread_t		*threads;

	pthread_mutex_t		mu;	/* guards what follows */
	pthread_cond_t		cv;
	struct list		queue;	/* QUEUED, FIFO */
	struct list		done;	/* FINISHED, in finishing order */
	unsigned		nqueued;
	unsigned		nrunning;
	bool			barrier;	/* a sync is running */
	comm_fio_hook_fn	*hook;
	void			*hook_arg;
	bool			stopping;

	struct comm_fio_stats	st;	/* loop side, but for queued and
					 * running, read under mu */
#ifdef HAVE_LIBURING
	struct io_uring		ring;
	bool			ring_up;
	int			efd;		/* the ring's completions */
	ev_io			efd_w;
#endif
};

/* --- the threads --------------------------------------------------------- */

static void
fop_run_read(struct comm_fop *op)
{
	unsigned char *p = buf_data(op->b);
	ssize_t n;

	while (op->got < op->len) {
		n = pread(op->fd, p + op->got, op->len - op->got,
		    (off_t)(op->off + op->got));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			op->err = errno;
			return;
		}
		if (n == 0)
			return;
		op->got += (size_t)n;
	}
}

/* n more bytes of a write went out: past whole iovecs, then into one. */
static void
fop_write_advance(struct comm_fop *op, size_t n)
{
	struct iovec *iov;

	op->got += n;
	while (op->iov_at < op->iovcnt && n >= op->iov[op->iov_at].iov_len)
		n -= op->iov[op->iov_at++].iov_len;
	if (op->iov_at < op->iovcnt) {
		iov = &op->iov[op->iov_at];
		iov->iov_base = (char *)iov->iov_base + n;
		iov->iov_len -= n;
	}
}

/* The iovecs left, at most IOV_MAX of them. */
static int
fop_write_cnt(const struct comm_fop *op)
{
	unsigned cnt = op->iovcnt - op->iov_at;

	return (cnt > IOV_MAX ? IOV_MAX : (int)cnt);
}

static void
fop_run_write(struct comm_fop *op)
{
	ssize_t n;

	while (op->got < op->len) {
		n = pwritev(op->fd, op->iov + op->iov_at, fop_write_cnt(op),
		    (off_t)(op->off + op->got));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			op->err = errno;
			return;
		}
		if (n == 0) {
			op->err = EIO;
			return;
		}
		fop_write_advance(op, (size_t)n);
	}
}

static void
fop_run(struct comm_fop *op)
{
	switch (op->kind) {
	case FOP_READ:
		fop_run_read(op);
		break;
	case FOP_WRITE:
		fop_run_write(op);
		break;
	case FOP_SYNC:
		if (fdatasync(op->fd) == -1)
			op->err = errno;
		break;
	}
}

/* The next operation a thread may take, under f->mu; NULL if none. */
static struct comm_fop *
fio_pick(struct comm_fio *f)
{
	struct list *n = list_first(&f->queue);
	struct comm_fop *op;

	if (n == NULL || f->barrier)
		return (NULL);
	op = container_of(n, struct comm_fop, link);
	if (op->kind == FOP_SYNC && f->nrunning > 0)
		return (NULL);
	return (op);
}

static void *
fio_thread(void *arg)
{
	struct comm_fio *f = arg;
	comm_fio_hook_fn *hook;
	struct comm_fop *op;
	void *hook_arg;

	AZ(pthread_mutex_lock(&f->mu));
	for (;;) {
		while (!f->stopping && (op = fio_pick(f)) == NULL)
			AZ(pthread_cond_wait(&f->cv, &f->mu));
		if (f->stopping)
			break;
		list_remove(&op->link);
		f->nqueued--;
		f->nrunning++;
		op->state = FOP_RUNNING;
		if (op->kind == FOP_SYNC)
			f->barrier = true;
		hook = f->hook;
		hook_arg = f->hook_arg;
		AZ(pthread_mutex_unlock(&f->mu));

		if (hook != NULL)
			hook(hook_arg);
		fop_run(op);

		AZ(pthread_mutex_lock(&f->mu));
		op->state = FOP_FINISHED;
		list_insert_tail(&f->done, &op->link);
		f->nrunning--;
		if (op->kind == FOP_SYNC)
			f->barrier = false;
		/* A sync or what waited behind one may be free to go. */
		if (f->nqueued > 0)
			AZ(pthread_cond_broadcast(&f->cv));
		ev_async_send(f->loop->ev, &f->async);
	}
	AZ(pthread_mutex_unlock(&f->mu));
	return (NULL);
}

/* --- the loop's side ----------------------------------------------------- */

static void
fop_free(struct comm_fop *op)
{
	CHECK_OBJ_NOTNULL(op, COMM_FOP_MAGIC);
	CHECK(!op->held);
	buf_unref(&op->b);
	buf_chain_fini(&op->chain);
	free(op->iov);
	FREE_OBJ(op);
}

/* An operation left the threads' hands: the loop keeps running for them
 * only while some are in them. */
static void
fio_inflight_put(struct comm_fio *f, struct comm_fop *op)
{
	CHECK(op->held);
	op->held = false;
	CHECK(f->inflight > 0);
	if (--f->inflight == 0)
		ev_unref(f->loop->ev);
}

static void
fop_call(struct comm_call *call)
{
	struct comm_fop *op = container_of(call, struct comm_fop, call);
	struct comm_fio *f = op->fio;

	CHECK_OBJ_NOTNULL(op, COMM_FOP_MAGIC);
	if (f != NULL) {
		list_remove(&op->all);
		if (op->res.status == COMM_CANCELLED)
			f->st.cancelled++;
		else if (op->res.status == COMM_ERROR)
			f->st.errors++;
	}
	op->done(&op->res, op->arg);
	op->done = NULL;
	/* A cancelled operation still in a thread is freed when that thread
	 * hands it back (fio_collect). */
	if (!op->held)
		fop_free(op);
}

static void
fop_post(struct comm_fop *op)
{
	CHECK(!op->posted);
	op->posted = true;
	comm_call_post(op->fio->loop, &op->call);
}

/* The thread's outcome into op->res. */
static void
fop_result(struct comm_fio *f, struct comm_fop *op)
{
	struct comm_result *r = &op->res;

	memset(r, 0, sizeof *r);
	r->len = op->got;
	if (op->err != 0) {
		r->status = COMM_ERROR;
		r->err = op->err;
	} else if (op->kind == FOP_READ && op->got == 0)
		r->status = COMM_EOF;
	else
		r->status = COMM_OK;
	switch (op->kind) {
	case FOP_READ:
		f->st.bytes_read += op->got;
		op->b->fill = (uint32_t)op->got;
		if (r->status == COMM_OK) {
			r->data.buf = op->b;
			r->data.off = 0;
			r->data.len = (uint32_t)op->got;
		}
		break;
	case FOP_WRITE:
		f->st.bytes_written += op->got;
		break;
	case FOP_SYNC:
		break;
	}
}

/* op is back from the threads or the kernel: its completion posted, or,
 * cancelled, freed once that completion has run. */
static void
fio_finished(struct comm_fio *f, struct comm_fop *op)
{
	CHECK_OBJ_NOTNULL(op, COMM_FOP_MAGIC);
	op->state = FOP_COLLECTED;
	fio_inflight_put(f, op);
	if (!op->posted) {
		fop_result(f, op);
		fop_post(op);
	} else if (op->done == NULL)
		fop_free(op);
}

/* What the threads finished, in finishing order. */
static void
fio_collect(struct comm_fio *f)
{
	struct list batch, *n;

	list_init(&batch);
	AZ(pthread_mutex_lock(&f->mu));
	list_move(&batch, &f->done);
	AZ(pthread_mutex_unlock(&f->mu));
	while ((n = list_first(&batch)) != NULL) {
		list_remove(n);
		fio_finished(f, container_of(n, struct comm_fop, link));
	}
}

/* --- io_uring ------------------------------------------------------------ */

#ifdef HAVE_LIBURING
/* op into a submission entry; false when the queue is full. */
static bool
uring_prep(struct comm_fio *f, struct comm_fop *op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&f->ring);

	if (sqe == NULL) {
		(void)io_uring_submit(&f->ring);
		if ((sqe = io_uring_get_sqe(&f->ring)) == NULL)
			return (false);
	}
	switch (op->kind) {
	case FOP_READ:
		io_uring_prep_read(sqe, op->fd, buf_data(op->b) + op->got,
		    (unsigned)(op->len - op->got), op->off + op->got);
		/* A read the page cache has is copied inside the submit,
		 * on the loop's thread: a large one goes to the kernel's
		 * workers instead, so that the loop does not copy it. */
		if (op->len - op->got >= FIO_URING_INLINE)
			sqe->flags |= IOSQE_ASYNC;
		break;
	case FOP_WRITE:
		io_uring_prep_writev(sqe, op->fd, op->iov + op->iov_at,
		    (unsigned)fop_write_cnt(op), op->off + op->got);
		break;
	case FOP_SYNC:
		io_uring_prep_fsync(sqe, op->fd, IORING_FSYNC_DATASYNC);
		sqe->flags |= IOSQE_IO_DRAIN;
		break;
	}
	io_uring_sqe_set_data(sqe, op);
	op->state = FOP_RUNNING;
	f->nrunning++;
	return (true);
}

/* What waited for room in the submission queue, in order. */
static void
uring_backlog(struct comm_fio *f)
{
	struct comm_fop *op;
	struct list *n;

	while (!f->stopping && (n = list_first(&f->queue)) != NULL) {
		op = container_of(n, struct comm_fop, link);
		if (!uring_prep(f, op))
			break;
		list_remove(n);
		f->nqueued--;
	}
	(void)io_uring_submit(&f->ring);
}

/* One completion entry: op done, or its transfer goes on. */
static void
uring_cqe(struct comm_fio *f, struct comm_fop *op, int res)
{
	bool again = false;

	CHECK_OBJ_NOTNULL(op, COMM_FOP_MAGIC);
	f->nrunning--;
	if (res == -EINTR || res == -EAGAIN)
		again = true;
	else if (res < 0)
		op->err = -res;
	else if (op->kind == FOP_READ) {
		op->got += (size_t)res;
		again = res > 0 && op->got < op->len;
	} else if (op->kind == FOP_WRITE) {
		if (res == 0 && op->got < op->len)
			op->err = EIO;
		else {
			fop_write_advance(op, (size_t)res);
			again = op->got < op->len;
		}
	}
	if (again && !f->stopping) {
		if (uring_prep(f, op))
			return;
		/* No room to go on: the rest waits, first in line. */
		op->state = FOP_QUEUED;
		list_insert_head(&f->queue, &op->link);
		f->nqueued++;
		return;
	}
	if (f->stopping) {
		/* comm_fio_free() posts what is not posted yet. */
		op->state = FOP_COLLECTED;
		fio_inflight_put(f, op);
		if (op->posted && op->done == NULL)
			fop_free(op);
		return;
	}
	fio_finished(f, op);
}

static void
uring_reap(struct comm_fio *f)
{
	struct io_uring_cqe *cqe;
	struct comm_fop *op;
	int res;

	while (io_uring_peek_cqe(&f->ring, &cqe) == 0) {
		op = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&f->ring, cqe);
		if (op != NULL)		/* NULL: a cancel request's own */
			uring_cqe(f, op, res);
	}
	uring_backlog(f);
}

static void
uring_efd_cb(struct ev_loop *ev, ev_io *w, int revents)
{
	struct comm_fio *f = container_of(w, struct comm_fio, efd_w);
	uint64_t v;

	(void)ev;
	(void)revents;
	CHECK_OBJ_NOTNULL(f, COMM_FIO_MAGIC);
	(void)read(f->efd, &v, sizeof v);
	uring_reap(f);
}

static int
uring_start(struct comm_fio *f)
{
	int e;

	e = io_uring_queue_init(FIO_RING, &f->ring, 0);
	if (e < 0)
		return (e);
	f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f->efd == -1) {
		e = -errno;
		io_uring_queue_exit(&f->ring);
		return (e);
	}
	if ((e = io_uring_register_eventfd(&f->ring, f->efd)) < 0) {
		(void)close(f->efd);
		io_uring_queue_exit(&f->ring);
		return (e);
	}
	f->ring_up = true;
	ev_io_init(&f->efd_w, uring_efd_cb, f->efd, EV_READ);
	ev_io_start(f->loop->ev, &f->efd_w);
	ev_unref(f->loop->ev);
	return (0);
}

/* Ask the kernel to give op back early (a read from a pipe or a slow
 * device); it may be too late, and then its entry comes as it would.
 * The synchronous cancel first: a cancel request in the submission queue
 * would wait behind a sync's drain for the very operation it cancels. */
static void
uring_cancel(struct comm_fio *f, struct comm_fop *op)
{
	struct io_uring_sync_cancel_reg reg;
	struct io_uring_sqe *sqe;
	int e;

	memset(&reg, 0, sizeof reg);
	reg.addr = (uint64_t)(uintptr_t)op;
	reg.timeout.tv_sec = -1;
	reg.timeout.tv_nsec = -1;
	e = io_uring_register_sync_cancel(&f->ring, &reg);
	if (e != -EINVAL && e != -EOPNOTSUPP)
		return;		/* done, or nothing left to cancel */
	sqe = io_uring_get_sqe(&f->ring);
	if (sqe == NULL) {
		(void)io_uring_submit(&f->ring);
		sqe = io_uring_get_sqe(&f->ring);
	}
	if (sqe == NULL)
		return;
	io_uring_prep_cancel(sqe, op, 0);
	io_uring_sqe_set_data(sqe, NULL);
	(void)io_uring_submit(&f->ring);
}

/* Shutdown: whatever the kernel holds is asked back and waited for. */
static void
uring_stop(struct comm_fio *f)
{
	struct io_uring_cqe *cqe;
	struct comm_fop *op;
	struct list *n;

	LIST_FOREACH(n, &f->ops) {
		op = container_of(n, struct comm_fop, all);
		if (op->held && op->state == FOP_RUNNING)
			uring_cancel(f, op);
	}
	while (f->nrunning > 0) {
		if (io_uring_wait_cqe(&f->ring, &cqe) != 0)
			continue;
		op = io_uring_cqe_get_data(cqe);
		if (op != NULL)
			uring_cqe(f, op, cqe->res);
		io_uring_cqe_seen(&f->ring, cqe);
	}
	ev_ref(f->loop->ev);
	ev_io_stop(f->loop->ev, &f->efd_w);
	io_uring_queue_exit(&f->ring);
	(void)close(f->efd);
	f->ring_up = false;
}
#endif

const char *
comm_fio_kind_name(enum comm_fio_kind k)
{
	switch (k) {
	case COMM_FIO_URING:
		return ("io_uring");
	case COMM_FIO_THREADS:
		return ("threads");
	default:
		return ("auto");
	}
}

enum comm_fio_kind
comm_fio_kind(const struct comm_fio *f)
{
	CHECK_OBJ_NOTNULL(f, COMM_FIO_MAGIC);
	return (f->kind);
}

static void
fio_async_cb(struct ev_loop *ev, ev_async *w, int revents)
{
	struct comm_fio *f = container_of(w, struct comm_fio, async);

	(void)ev;
	(void)revents;
	CHECK_OBJ_NOTNULL(f, COMM_FIO_MAGIC);
	fio_collect(f);
}

struct comm_fio *
comm_fio_new(struct comm_loop *loop, enum comm_fio_kind kind,
    unsigned nthreads, int *err)
{
	pthread_attr_t attr;
	sigset_t all, old;
	struct comm_fio *f;
	unsigned i;
	int e;

	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	AN(err);
	if (nthreads == 0)
		nthreads = COMM_FIO_THREADS_DEFAULT;
	if (nthreads > COMM_FIO_THREADS_MAX)
		nthreads = COMM_FIO_THREADS_MAX;
	ALLOC_OBJ(f, COMM_FIO_MAGIC);
	if (f == NULL) {
		*err = -ENOMEM;
		return (NULL);
	}
	f->threads = calloc(nthreads, sizeof *f->threads);
	if (f->threads == NULL) {
		FREE_OBJ(f);
		*err = -ENOMEM;
		return (NULL);
	}
	f->loop = loop;
	list_init(&f->ops);
	list_init(&f->queue);
	list_init(&f->done);
	AZ(pthread_mutex_init(&f->mu, NULL));
	AZ(pthread_cond_init(&f->cv, NULL));
	ev_async_init(&f->async, fio_async_cb);
	ev_async_start(loop->ev, &f->async);
	/* Idle, the engine must not keep comm_loop_run() going. */
	ev_unref(loop->ev);
	f->kind = COMM_FIO_THREADS;
#ifdef HAVE_LIBURING
	if (kind != COMM_FIO_THREADS) {
		e = uring_start(f);
		if (e == 0) {
			f->kind = COMM_FIO_URING;
			*err = 0;
			return (f);
		}
		if (kind == COMM_FIO_URING) {
			comm_fio_free(&f);
			*err = e;
			return (NULL);
		}
	}
#else
	if (kind == COMM_FIO_URING) {
		comm_fio_free(&f);
		*err = -EOPNOTSUPP;
		return (NULL);
	}
#endif

	/* Signals are the loop thread's: the threads block them all. */
	AZ(pthread_attr_init(&attr));
	(void)pthread_attr_setstacksize(&attr, FIO_STACK);
	sigfillset(&all);
	AZ(pthread_sigmask(SIG_SETMASK, &all, &old));
	for (i = 0, e = 0; i < nthreads; i++) {
		e = pthread_create(&f->threads[i], &attr, fio_thread, f);
		if (e != 0)
			break;
		f->nthreads++;
	}
	AZ(pthread_sigmask(SIG_SETMASK, &old, NULL));
	AZ(pthread_attr_destroy(&attr));
	if (f->nthreads == 0) {
		comm_fio_free(&f);
		*err = -e;
		return (NULL);
	}
	f->st.threads = f->nthreads;
	*err = 0;
	return (f);
}

void
comm_fio_free(struct comm_fio **fp)
{
	struct comm_fio *f;
	struct comm_fop *op;
	struct list *n;
	unsigned i;

	if (*fp == NULL)
		return;
	TAKE_OBJ_NOTNULL(f, fp, COMM_FIO_MAGIC);
	AZ(pthread_mutex_lock(&f->mu));
	f->stopping = true;
	while ((n = list_first(&f->queue)) != NULL) {
		list_remove(n);
		op = container_of(n, struct comm_fop, link);
		op->state = FOP_COLLECTED;
		fio_inflight_put(f, op);
	}
	f->nqueued = 0;
	AZ(pthread_cond_broadcast(&f->cv));
	AZ(pthread_mutex_unlock(&f->mu));
	for (i = 0; i < f->nthreads; i++)
		AZ(pthread_join(f->threads[i], NULL));
#ifdef HAVE_LIBURING
	if (f->ring_up)
		uring_stop(f);
#endif
	/* The threads are gone: what they finished is the loop's now. */
	while ((n = list_first(&f->done)) != NULL) {
		list_remove(n);
		op = container_of(n, struct comm_fop, link);
		op->state = FOP_COLLECTED;
		fio_inflight_put(f, op);
		if (op->posted && op->done == NULL)
			fop_free(op);
	}
	AZ(f->inflight);
	while ((n = list_first(&f->ops)) != NULL) {
		list_remove(n);
		op = container_of(n, struct comm_fop, all);
		if (!op->posted) {
			memset(&op->res, 0, sizeof op->res);
			op->res.status = COMM_CANCELLED;
			fop_post(op);
		}
		op->fio = NULL;
	}
	ev_ref(f->loop->ev);
	ev_async_stop(f->loop->ev, &f->async);
	AZ(pthread_cond_destroy(&f->cv));
	AZ(pthread_mutex_destroy(&f->mu));
	free(f->threads);
	FREE_OBJ(f);
}

struct comm_loop *
comm_fio_loop(const struct comm_fio *f)
{
	CHECK_OBJ_NOTNULL(f, COMM_FIO_MAGIC);
	return (f->loop);
}

static struct comm_fop *
fop_new(struct comm_fio *f, enum fop_kind kind, int fd, uint64_t off,
    comm_fio_fn *done, void *arg)
{
	struct comm_fop *op;

	CHECK_OBJ_NOTNULL(f, COMM_FIO_MAGIC);
	AN(done);
	ALLOC_OBJ(op, COMM_FOP_MAGIC);
	if (op == NULL)
		return (NULL);
	op->fio = f;
	op->kind = kind;
	op->fd = fd;
	op->off = off;
	op->done = done;
	op->arg = arg;
	list_init(&op->link);
	list_init(&op->all);
	comm_call_init(&op->call, fop_call);
	buf_chain_init(&op->chain, f->loop->pool);
	return (op);
}

static void
fop_submit(struct comm_fio *f, struct comm_fop *op)
{
	list_insert_tail(&f->ops, &op->all);
	op->held = true;
	if (f->inflight++ == 0)
		ev_ref(f->loop->ev);
	AZ(pthread_mutex_lock(&f->mu));
#ifdef HAVE_LIBURING
	if (f->kind == COMM_FIO_URING && list_empty(&f->queue) &&
	    uring_prep(f, op))
		(void)io_uring_submit(&f->ring);
	else
#endif
	{
		op->state = FOP_QUEUED;
		list_insert_tail(&f->queue, &op->link);
		f->nqueued++;
		AZ(pthread_cond_signal(&f->cv));
	}
	if (f->nqueued + f->nrunning > f->st.max_queued)
		f->st.max_queued = f->nqueued + f->nrunning;
	AZ(pthread_mutex_unlock(&f->mu));
}

struct comm_fop *
comm_fio_read(struct comm_fio *f, int fd, size_t len, uint64_t off,
    comm_fio_fn *done, void *arg)
{
	struct comm_fop *op;

	CHECK(len > 0);
	op = fop_new(f, FOP_READ, fd, off, done, arg);
	if (op == NULL)
		return (NULL);
	op->len = len;
	op->b = len > BUF_SIZE_MAX ? NULL : buf_alloc(f->loop->pool, len);
	if (op->b == NULL) {
		/* The read was started: it fails from the loop. */
		list_insert_tail(&f->ops, &op->all);
		op->state = FOP_COLLECTED;
		op->res.status = COMM_ERROR;
		op->res.err = len > BUF_SIZE_MAX ? EINVAL : ENOMEM;
		fop_post(op);
		return (op);
	}
	f->st.reads++;
	fop_submit(f, op);
	return (op);
}

struct comm_fop *
comm_fio_writev(struct comm_fio *f, int fd, struct buf_chain *chain,
    uint64_t off, comm_fio_fn *done, void *arg)
{
	struct comm_fop *op;
	unsigned n;

	AN(chain);
	op = fop_new(f, FOP_WRITE, fd, off, done, arg);
	if (op == NULL)
		return (NULL);
	n = buf_chain_nslices(chain);
	if (n > 0) {
		op->iov = calloc(n, sizeof *op->iov);
		if (op->iov == NULL) {
			FREE_OBJ(op);
			return (NULL);
		}
	}
	op->iovcnt = buf_chain_iov(chain, 0, op->iov, n);
	op->len = buf_chain_len(chain);
	op->chain = *chain;	/* a chain moves by assignment */
	buf_chain_init(chain, chain->pool);
	f->st.writes++;
	fop_submit(f, op);
	return (op);
}

struct comm_fop *
comm_fio_sync(struct comm_fio *f, int fd, comm_fio_fn *done, void *arg)
{
	struct comm_fop *op;

	op = fop_new(f, FOP_SYNC, fd, 0, done, arg);
	if (op == NULL)
		return (NULL);
	f->st.syncs++;
	fop_submit(f, op);
	return (op);
}

void
comm_fio_cancel(struct comm_fop *op)
{
	struct comm_fio *f;

	CHECK_OBJ_NOTNULL(op, COMM_FOP_MAGIC);
	AN(op->done);
	if (op->posted)
		return;
	f = op->fio;
	CHECK_OBJ_NOTNULL(f, COMM_FIO_MAGIC);
	AZ(pthread_mutex_lock(&f->mu));
	if (op->state == FOP_QUEUED) {
		list_remove(&op->link);
		f->nqueued--;
		op->state = FOP_COLLECTED;
		AZ(pthread_mutex_unlock(&f->mu));
		fio_inflight_put(f, op);
	} else {
		AZ(pthread_mutex_unlock(&f->mu));
#ifdef HAVE_LIBURING
		if (f->kind == COMM_FIO_URING && op->held)
			uring_cancel(f, op);
#endif
	}
	memset(&op->res, 0, sizeof op->res);
	op->res.status = COMM_CANCELLED;
	fop_post(op);
}

void
comm_fio_set_hook(struct comm_fio *f, comm_fio_hook_fn *fn, void *arg)
{
	CHECK_OBJ_NOTNULL(f, COMM_FIO_MAGIC);
	AZ(pthread_mutex_lock(&f->mu));
	f->hook = fn;
	f->hook_arg = arg;
	AZ(pthread_mutex_unlock(&f->mu));
}

void
comm_fio_stats(const struct comm_fio *f, struct comm_fio_stats *st)
{
	/* The counts the threads change are read under the lock, which
	 * is the only thing a const engine lends out. */
	pthread_mutex_t *mu = (pthread_mutex_t *)(uintptr_t)&f->mu;
	struct list *n;

	CHECK_OBJ_NOTNULL(f, COMM_FIO_MAGIC);
	*st = f->st;
	st->outstanding = 0;
	LIST_FOREACH(n, &f->ops)
		st->outstanding++;
	AZ(pthread_mutex_lock(mu));
	st->queued = f->nqueued;
	st->running = f->nrunning;
	AZ(pthread_mutex_unlock(mu));
}
