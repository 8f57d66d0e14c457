/*
 * comm_file.c - asynchronous file I/O: a pool of threads running pread,
 * pwritev and fdatasync, completions handed to the loop by an ev_async.
 *
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
 * Why a sync is a barrier: the disk store writes records, syncs, then
 * writes the footer that vouches for them; a footer must never reach the
 * disk before the records it lists.  Keeping that order here costs the
 * store nothing: a thread does not take a sync while any operation is
 * running, and takes nothing while a sync runs.
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

#include "base/check.h"
#include "base/list.h"
#include "buf/buf.h"
#include "comm/comm_file.h"
#include "comm/comm_int.h"

#define FIO_STACK	(256u * 1024)	/* a thread needs little */

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

static void
fop_run_write(struct comm_fop *op)
{
	struct iovec *iov = op->iov;
	unsigned cnt = op->iovcnt;
	ssize_t n;
	size_t k;

	while (op->got < op->len) {
		n = pwritev(op->fd, iov, cnt > IOV_MAX ? IOV_MAX : (int)cnt,
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
		op->got += (size_t)n;
		/* Past what went out: whole iovecs, then into one. */
		k = (size_t)n;
		while (cnt > 0 && k >= iov->iov_len) {
			k -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= k;
		}
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

/* What the threads finished: completions posted, cancelled ones freed
 * once their completion has run. */
static void
fio_collect(struct comm_fio *f)
{
	struct list batch, *n;
	struct comm_fop *op;

	list_init(&batch);
	AZ(pthread_mutex_lock(&f->mu));
	list_move(&batch, &f->done);
	AZ(pthread_mutex_unlock(&f->mu));
	while ((n = list_first(&batch)) != NULL) {
		list_remove(n);
		op = container_of(n, struct comm_fop, link);
		CHECK_OBJ_NOTNULL(op, COMM_FOP_MAGIC);
		op->state = FOP_COLLECTED;
		fio_inflight_put(f, op);
		if (!op->posted) {
			fop_result(f, op);
			fop_post(op);
		} else if (op->done == NULL)
			fop_free(op);
	}
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
comm_fio_new(struct comm_loop *loop, unsigned nthreads, int *err)
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
	op->state = FOP_QUEUED;
	list_insert_tail(&f->queue, &op->link);
	if (++f->nqueued > f->st.max_queued)
		f->st.max_queued = f->nqueued;
	AZ(pthread_cond_signal(&f->cv));
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
	} else
		AZ(pthread_mutex_unlock(&f->mu));
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
