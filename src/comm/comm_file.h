/*
 * comm_file.h - asynchronous file I/O on the loop: reads, writes and
 * fdatasync through io_uring where the kernel allows it, else run by a
 * small pool of threads (pread, pwritev, fdatasync); either way their
 * completions come from the loop's call queue like every other comm
 * completion.
 *
 * Contract (the comm contract of comm.h, for files):
 * - Every operation started here completes exactly once: COMM_OK (res->len
 *   bytes moved: all of a write; a read's bytes, fewer than asked only at
 *   the end of the file), COMM_EOF (a read that starts at or after the
 *   end), COMM_ERROR (res->err the errno: EBADF, EIO, ENOSPC...) or
 *   COMM_CANCELLED.  Never inside the call that started or cancelled it.
 * - comm_fio_cancel() completes the operation as CANCELLED at once (from
 *   the loop) even when a thread is in its system call: the buffers it
 *   reads into or writes from stay referenced by comm until that thread
 *   is done with them, so cancelling never frees memory under a thread.
 *   A write cancelled while under way may have reached the file or not.
 * - Order: operations run concurrently and complete in any order, except
 *   that a sync is a barrier: it starts once every operation started
 *   before it on the same engine has completed, and none started after it
 *   begins before it has.  So "records, sync, footer" needs no waiting in
 *   the caller.
 * - comm_fio_free() with operations outstanding cancels them (their
 *   completions run from the loop afterwards, as CANCELLED), waits for the
 *   threads to return from their system calls, and joins them.
 *
 * Only the loop's thread calls these; the threads (or the kernel) touch
 * no comm or buf state, only the bytes of the buffers they were given.
 *
 *	comm_fio_new -> comm_fio_read / _writev / _sync [-> comm_fio_cancel]
 *	    -> done(res) from the loop -> comm_fio_free
 */
#ifndef CUTTLE_COMM_FILE_H
#define CUTTLE_COMM_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "buf/buf.h"
#include "comm/comm.h"

struct comm_fio;
struct comm_fop;

/* The completion.  For a read with COMM_OK, res->data is the bytes read
 * ({buf, 0, len}, lent for the duration of the call: buf_ref() it to
 * keep it). */
typedef void comm_fio_fn(const struct comm_result *res, void *arg);

#define COMM_FIO_THREADS_DEFAULT	4
#define COMM_FIO_THREADS_MAX		64

/* The back-end: AUTO is io_uring when the kernel allows it (a container's
 * seccomp profile may refuse it), threads otherwise. */
enum comm_fio_kind {
	COMM_FIO_AUTO,
	COMM_FIO_THREADS,
	COMM_FIO_URING
};
const char	*comm_fio_kind_name(enum comm_fio_kind k);

/* comm_fio_new() - an engine on loop of that kind, with nthreads threads
 * (0: the default) when it runs on threads.  NULL with *err a negative
 * errno (-ENOMEM, pthread's; for URING what io_uring_setup() said, or
 * -EOPNOTSUPP when built without liburing). */
struct comm_fio	*comm_fio_new(struct comm_loop *loop, enum comm_fio_kind kind,
		    unsigned nthreads, int *err);
/* comm_fio_kind() - the back-end it runs on: THREADS or URING. */
enum comm_fio_kind	comm_fio_kind(const struct comm_fio *f);
/* comm_fio_free() - cancel what is outstanding, join the threads, free;
 * NULLs *fp; *fp may be NULL.  The cancelled operations' completions
 * run from the loop afterwards (comm_loop_free() runs them at the
 * latest). */
void	comm_fio_free(struct comm_fio **fp);

/* comm_fio_loop() - the loop f delivers on. */
struct comm_loop	*comm_fio_loop(const struct comm_fio *f);

/* comm_fio_read() - read len bytes (>= 1) of fd at off into a new block
 * of the loop's pool, taken now and released after done unless done
 * refs it.  Returns a handle for comm_fio_cancel(), valid until done
 * runs; NULL on ENOMEM, and then done never runs. */
struct comm_fop	*comm_fio_read(struct comm_fio *f, int fd, size_t len,
		    uint64_t off, comm_fio_fn *done, void *arg);
/* comm_fio_writev() - write all of chain to fd at off.  Takes the chain's
 * slices and references (chain is left empty, still initialised); they
 * are dropped once no thread uses them, after or before done runs.
 * Handle and NULL as above (on NULL the chain is untouched). */
struct comm_fop	*comm_fio_writev(struct comm_fio *f, int fd,
		    struct buf_chain *chain, uint64_t off, comm_fio_fn *done,
		    void *arg);
/* comm_fio_sync() - fdatasync(fd), as a barrier (see the contract).
 * Handle and NULL as above. */
struct comm_fop	*comm_fio_sync(struct comm_fio *f, int fd, comm_fio_fn *done,
		    void *arg);
/* comm_fio_cancel() - op completes as CANCELLED (len 0), from the loop,
 * unless its completion is already queued (it keeps its result).  Only
 * before done has run. */
void	comm_fio_cancel(struct comm_fop *op);

/*
 * comm_fio_set_hook() - a seam for tests: fn(arg) runs in the thread that
 * took an operation, just before its system call (so a test can hold an
 * operation in a thread, and cancel or free around it).  NULL: none.
 * Threads only: io_uring has no thread to hold (a read from a pipe is
 * held by the kernel instead).
 */
typedef void comm_fio_hook_fn(void *arg);
void	comm_fio_set_hook(struct comm_fio *f, comm_fio_hook_fn *fn,
	    void *arg);

struct comm_fio_stats {
	unsigned	threads;
	unsigned	queued;		/* waiting for a thread */
	unsigned	running;	/* in a thread's system call */
	unsigned	outstanding;	/* started, done not yet run */
	unsigned	max_queued;	/* most operations out at once */
	uint64_t	reads;
	uint64_t	writes;
	uint64_t	syncs;
	uint64_t	bytes_read;
	uint64_t	bytes_written;
	uint64_t	errors;
	uint64_t	cancelled;
};
void	comm_fio_stats(const struct comm_fio *f, struct comm_fio_stats *st);

#endif /* CUTTLE_COMM_FILE_H */
