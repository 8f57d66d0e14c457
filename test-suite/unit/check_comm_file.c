/*
 * check_comm_file.c - asynchronous file I/O: completions from the loop,
 * exactly once, in barrier order around a sync; cancel and shutdown with
 * operations queued and in a thread's or the kernel's hands; errors and
 * the end of file.  The "io" tests run on both back-ends (threads, then
 * io_uring); an operation is held in flight by a gate in a thread, or by
 * a read from an empty pipe in io_uring.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "buf/buf.h"
#include "comm/comm.h"
#include "comm/comm_file.h"

static int test_clock;
static bool test_inside_call;

struct frec {
	int			calls;
	int			at;
	enum comm_status	status;
	int			err;
	size_t			len;
	unsigned char		data[8192];
	struct comm_loop	*stop;
};

static void
frec_done(const struct comm_result *res, void *arg)
{
	struct frec *r = arg;

	ck_assert_msg(!test_inside_call, "completion ran inside its call");
	r->calls++;
	r->at = ++test_clock;
	r->status = res->status;
	r->err = res->err;
	r->len = res->len;
	if (res->status == COMM_OK && res->data.buf != NULL) {
		ck_assert_uint_le(res->data.len, sizeof r->data);
		memcpy(r->data, buf_slice_ptr(&res->data), res->data.len);
	}
	if (r->stop != NULL)
		comm_loop_stop(r->stop);
}

/* A temporary file of n bytes, byte i == i * 7 + 3. */
static int
tmp_file(size_t n)
{
	char path[] = "/tmp/check_comm_file.XXXXXX";
	unsigned char *p = malloc(n + 1);
	int fd = mkstemp(path);
	size_t i;

	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(p);
	(void)unlink(path);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + 3);
	ck_assert_int_eq(pwrite(fd, p, n, 0), (ssize_t)n);
	free(p);
	return (fd);
}

static void
run_until(struct comm_loop *loop, struct frec *r, int n)
{
	int i, spins = 0;

	for (;;) {
		for (i = 0; i < n; i++)
			if (r[i].calls == 0)
				break;
		if (i == n)
			return;
		comm_loop_run_once(loop);
		ck_assert_int_lt(++spins, 100000);
	}
}

/* The back-end of a loop test's iteration. */
static enum comm_fio_kind
kind_of(int i)
{
	return (i == 0 ? COMM_FIO_THREADS : COMM_FIO_URING);
}

static struct comm_fio *
fio_setup_kind(struct comm_loop **loop, enum comm_fio_kind kind,
    unsigned threads)
{
	struct comm_fio *f;
	int e;

	*loop = comm_loop_new();
	ck_assert_ptr_nonnull(*loop);
	f = comm_fio_new(*loop, kind, threads, &e);
	if (f == NULL && kind == COMM_FIO_URING) {
		/* Built without liburing, or a seccomp profile refuses
		 * io_uring: the threads stand in, and say so. */
		fprintf(stderr, "io_uring unavailable (%s): threads instead\n",
		    strerror(-e));
		f = comm_fio_new(*loop, COMM_FIO_THREADS, threads, &e);
	}
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(e, 0);
	ck_assert_int_eq(comm_fio_kind(f), kind == COMM_FIO_URING &&
	    comm_fio_kind(f) == COMM_FIO_URING ? COMM_FIO_URING :
	    COMM_FIO_THREADS);
	return (f);
}

static struct comm_fio *
fio_setup(struct comm_loop **loop, unsigned threads)
{
	return (fio_setup_kind(loop, COMM_FIO_THREADS, threads));
}

static void
fio_teardown(struct comm_loop **loop, struct comm_fio **f)
{
	struct buf_pool_stats st;

	comm_fio_free(f);
	ck_assert_ptr_null(*f);
	comm_loop_run_once(*loop);
	buf_pool_stats(comm_loop_pool(*loop), &st);
	ck_assert_uint_eq(st.pages, 0);
	comm_loop_free(loop);
}

static struct comm_fop *
start_read(struct comm_fio *f, int fd, size_t len, uint64_t off,
    struct frec *r)
{
	struct comm_fop *op;

	test_inside_call = true;
	op = comm_fio_read(f, fd, len, off, frec_done, r);
	test_inside_call = false;
	ck_assert_ptr_nonnull(op);
	return (op);
}

static struct comm_fop *
start_write(struct comm_fio *f, struct comm_loop *loop, int fd,
    const void *p, size_t len, uint64_t off, struct frec *r)
{
	struct buf_chain c;
	struct comm_fop *op;

	buf_chain_init(&c, comm_loop_pool(loop));
	ck_assert_int_eq(buf_chain_append(&c, p, len), 0);
	test_inside_call = true;
	op = comm_fio_writev(f, fd, &c, off, frec_done, r);
	test_inside_call = false;
	ck_assert_ptr_nonnull(op);
	ck_assert_uint_eq(buf_chain_len(&c), 0);
	buf_chain_fini(&c);
	return (op);
}

START_TEST(read_completes_from_the_loop_with_the_bytes)
{
	struct comm_loop *loop;
	struct comm_fio *f = fio_setup_kind(&loop, kind_of(_i), 0);
	struct frec r = { 0 };
	int fd = tmp_file(1000), i;

	start_read(f, fd, 100, 10, &r);
	ck_assert_int_eq(r.calls, 0);
	run_until(loop, &r, 1);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_uint_eq(r.len, 100);
	for (i = 0; i < 100; i++)
		ck_assert_uint_eq(r.data[i], (unsigned char)((i + 10) * 7 + 3));
	fio_teardown(&loop, &f);
	ck_assert_int_eq(r.calls, 1);
	close(fd);
}
END_TEST

START_TEST(read_at_the_end_is_short_then_eof)
{
	struct comm_loop *loop;
	struct comm_fio *f = fio_setup_kind(&loop, kind_of(_i), 0);
	struct frec r[2] = { { 0 } };
	int fd = tmp_file(100);

	start_read(f, fd, 200, 50, &r[0]);
	start_read(f, fd, 10, 100, &r[1]);
	run_until(loop, r, 2);
	ck_assert_int_eq(r[0].status, COMM_OK);
	ck_assert_uint_eq(r[0].len, 50);
	ck_assert_uint_eq(r[0].data[49], (unsigned char)(99 * 7 + 3));
	ck_assert_int_eq(r[1].status, COMM_EOF);
	ck_assert_uint_eq(r[1].len, 0);
	fio_teardown(&loop, &f);
	ck_assert_int_eq(r[0].calls + r[1].calls, 2);
	close(fd);
}
END_TEST

START_TEST(errors_carry_the_errno)
{
	struct comm_loop *loop;
	struct comm_fio *f = fio_setup_kind(&loop, kind_of(_i), 2);
	struct frec r[4] = { { 0 } };
	char path[] = "/tmp/check_comm_file.XXXXXX";
	int fd = mkstemp(path), ro;
	struct comm_fop *op;

	ck_assert_int_ge(fd, 0);
	ro = open(path, O_RDONLY);
	ck_assert_int_ge(ro, 0);
	(void)unlink(path);
	start_read(f, -1, 10, 0, &r[0]);
	start_write(f, loop, ro, "abc", 3, 0, &r[1]);
	op = comm_fio_sync(f, -1, frec_done, &r[2]);
	ck_assert_ptr_nonnull(op);
	/* Beyond what a block can hold: refused from the loop. */
	start_read(f, fd, (size_t)BUF_SIZE_MAX + 1, 0, &r[3]);
	run_until(loop, r, 4);
	ck_assert_int_eq(r[0].status, COMM_ERROR);
	ck_assert_int_eq(r[0].err, EBADF);
	ck_assert_int_eq(r[1].status, COMM_ERROR);
	ck_assert_int_eq(r[1].err, EBADF);
	ck_assert_int_eq(r[2].status, COMM_ERROR);
	ck_assert_int_eq(r[2].err, EBADF);
	ck_assert_int_eq(r[3].status, COMM_ERROR);
	ck_assert_int_eq(r[3].err, EINVAL);
	fio_teardown(&loop, &f);
	close(fd);
	close(ro);
}
END_TEST

#define NOPS	256
#define OPLEN	4096

START_TEST(many_concurrent_writes_then_reads)
{
	struct comm_loop *loop;
	struct comm_fio *f = fio_setup_kind(&loop, kind_of(_i), 4);
	static struct frec w[NOPS], r[NOPS];
	struct comm_fio_stats st;
	unsigned char blk[OPLEN];
	int fd = tmp_file(1), i, j;

	memset(w, 0, sizeof w);		/* static: a no-fork run reuses them */
	memset(r, 0, sizeof r);
	for (i = 0; i < NOPS; i++) {
		memset(blk, i & 0xff, sizeof blk);
		blk[0] = (unsigned char)(i >> 8);
		start_write(f, loop, fd, blk, sizeof blk,
		    (uint64_t)i * OPLEN, &w[i]);
	}
	run_until(loop, w, NOPS);
	for (i = 0; i < NOPS; i++) {
		ck_assert_int_eq(w[i].calls, 1);
		ck_assert_int_eq(w[i].status, COMM_OK);
		ck_assert_uint_eq(w[i].len, OPLEN);
	}
	for (i = 0; i < NOPS; i++)
		start_read(f, fd, OPLEN, (uint64_t)i * OPLEN, &r[i]);
	run_until(loop, r, NOPS);
	for (i = 0; i < NOPS; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_int_eq(r[i].status, COMM_OK);
		ck_assert_uint_eq(r[i].len, OPLEN);
		ck_assert_uint_eq(r[i].data[0], (unsigned)(i >> 8));
		for (j = 1; j < OPLEN; j++)
			ck_assert_uint_eq(r[i].data[j], (unsigned)(i & 0xff));
	}
	comm_fio_stats(f, &st);
	ck_assert_uint_eq(st.reads, NOPS);
	ck_assert_uint_eq(st.writes, NOPS);
	ck_assert_uint_eq(st.bytes_read, (uint64_t)NOPS * OPLEN);
	ck_assert_uint_eq(st.bytes_written, (uint64_t)NOPS * OPLEN);
	ck_assert_uint_eq(st.outstanding, 0);
	ck_assert_uint_gt(st.max_queued, 1);
	fio_teardown(&loop, &f);
	close(fd);
}
END_TEST

START_TEST(writev_of_more_slices_than_iov_max)
{
	struct comm_loop *loop;
	struct comm_fio *f = fio_setup_kind(&loop, kind_of(_i), 1);
	unsigned n = IOV_MAX * 2 + 5, i;
	struct frec w = { 0 };
	struct buf_chain c;
	struct buf *b;
	unsigned char *back;
	int fd = tmp_file(1);

	buf_chain_init(&c, comm_loop_pool(loop));
	/* One block per slice: adjacent slices of one block would merge. */
	for (i = 0; i < n; i++) {
		b = buf_alloc(comm_loop_pool(loop), 3);
		ck_assert_ptr_nonnull(b);
		buf_append(b, (unsigned char[]){ (unsigned char)i,
		    (unsigned char)(i >> 8), 0x5a }, 3);
		ck_assert_int_eq(buf_chain_append_slice(&c, b, 0, 3), 0);
		buf_unref(&b);
	}
	ck_assert_uint_eq(buf_chain_nslices(&c), n);
	ck_assert_ptr_nonnull(comm_fio_writev(f, fd, &c, 1, frec_done, &w));
	buf_chain_fini(&c);
	run_until(loop, &w, 1);
	ck_assert_int_eq(w.status, COMM_OK);
	ck_assert_uint_eq(w.len, 3 * n);
	back = malloc(3 * n);
	ck_assert_int_eq(pread(fd, back, 3 * n, 1), (ssize_t)(3 * n));
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(back[3 * i], i & 0xff);
		ck_assert_uint_eq(back[3 * i + 1], (i >> 8) & 0xff);
		ck_assert_uint_eq(back[3 * i + 2], 0x5a);
	}
	free(back);
	fio_teardown(&loop, &f);
	close(fd);
}
END_TEST

/* Writes, a sync, writes: every write before the sync completes before
 * it, every write after it completes after it. */
START_TEST(writes_around_a_sync_complete_in_order)
{
	struct comm_loop *loop;
	struct comm_fio *f = fio_setup_kind(&loop, kind_of(_i), 4);
	static struct frec a[64], s, b[64];
	unsigned char blk[512];
	int fd = tmp_file(1), i;

	memset(a, 0, sizeof a);		/* static: a no-fork run reuses them */
	memset(&s, 0, sizeof s);
	memset(b, 0, sizeof b);
	memset(blk, 'x', sizeof blk);
	for (i = 0; i < 64; i++)
		start_write(f, loop, fd, blk, sizeof blk, (uint64_t)i * 512,
		    &a[i]);
	ck_assert_ptr_nonnull(comm_fio_sync(f, fd, frec_done, &s));
	for (i = 0; i < 64; i++)
		start_write(f, loop, fd, blk, sizeof blk,
		    (uint64_t)(64 + i) * 512, &b[i]);
	run_until(loop, a, 64);
	run_until(loop, &s, 1);
	run_until(loop, b, 64);
	ck_assert_int_eq(s.status, COMM_OK);
	for (i = 0; i < 64; i++) {
		ck_assert_int_lt(a[i].at, s.at);
		ck_assert_int_gt(b[i].at, s.at);
	}
	fio_teardown(&loop, &f);
	close(fd);
}
END_TEST

/* A gate the test holds a thread at: the hook reads a byte from a pipe. */
static int gate[2];
static void
gate_hook(void *arg)
{
	char c;

	(void)arg;
	while (read(gate[0], &c, 1) == -1 && errno == EINTR)
		continue;
}

static void
gate_open(int n)
{
	while (n-- > 0)
		ck_assert_int_eq(write(gate[1], "g", 1), 1);
}

static void
wait_running(struct comm_fio *f, unsigned n)
{
	struct comm_fio_stats st;
	int spins = 0;

	for (;;) {
		comm_fio_stats(f, &st);
		if (st.running == n)
			return;
		ck_assert_int_lt(++spins, 10000);
		usleep(1000);
	}
}

START_TEST(cancel_in_a_thread_completes_now_frees_later)
{
	struct comm_loop *loop;
	struct comm_fio *f = fio_setup(&loop, 1);
	struct frec r = { 0 }, late = { 0 };
	struct buf_pool_stats bs;
	struct comm_fop *op;
	int fd = tmp_file(4096);

	ck_assert_int_eq(pipe(gate), 0);
	comm_fio_set_hook(f, gate_hook, NULL);
	op = start_read(f, fd, 4096, 0, &r);
	wait_running(f, 1);
	test_inside_call = true;
	comm_fio_cancel(op);
	test_inside_call = false;
	ck_assert_int_eq(r.calls, 0);
	run_until(loop, &r, 1);
	ck_assert_int_eq(r.status, COMM_CANCELLED);
	/* The thread still has the block it reads into. */
	buf_pool_stats(comm_loop_pool(loop), &bs);
	ck_assert_uint_eq(bs.pages, 1);
	gate_open(2);
	/* A later operation's completion proves the first came back. */
	start_read(f, fd, 16, 0, &late);
	run_until(loop, &late, 1);
	ck_assert_int_eq(late.status, COMM_OK);
	comm_loop_run_once(loop);
	ck_assert_int_eq(r.calls, 1);
	fio_teardown(&loop, &f);
	ck_assert_int_eq(r.calls, 1);
	close(fd);
}
END_TEST

START_TEST(cancel_queued_never_runs)
{
	struct comm_loop *loop;
	struct comm_fio *f = fio_setup(&loop, 1);
	struct frec a = { 0 }, b = { 0 };
	struct comm_fop *op;
	char c = 0;
	int fd = tmp_file(16);

	ck_assert_int_eq(pipe(gate), 0);
	comm_fio_set_hook(f, gate_hook, NULL);
	start_write(f, loop, fd, "A", 1, 0, &a);
	wait_running(f, 1);
	op = start_write(f, loop, fd, "B", 1, 1, &b);
	comm_fio_cancel(op);
	run_until(loop, &b, 1);
	ck_assert_int_eq(b.status, COMM_CANCELLED);
	ck_assert_int_eq(a.calls, 0);
	gate_open(1);
	run_until(loop, &a, 1);
	ck_assert_int_eq(a.status, COMM_OK);
	fio_teardown(&loop, &f);
	ck_assert_int_eq(pread(fd, &c, 1, 1), 1);
	ck_assert_int_ne(c, 'B');
	ck_assert_int_eq(a.calls + b.calls, 2);
	close(fd);
}
END_TEST

START_TEST(free_with_operations_in_flight)
{
	struct comm_loop *loop;
	struct comm_fio *f = fio_setup(&loop, 2);
	struct frec r[6] = { { 0 } };
	int fd = tmp_file(8192), i;

	ck_assert_int_eq(pipe(gate), 0);
	comm_fio_set_hook(f, gate_hook, NULL);
	start_read(f, fd, 4096, 0, &r[0]);
	start_write(f, loop, fd, "xy", 2, 0, &r[1]);
	wait_running(f, 2);
	start_read(f, fd, 100, 0, &r[2]);
	start_write(f, loop, fd, "zz", 2, 10, &r[3]);
	ck_assert_ptr_nonnull(comm_fio_sync(f, fd, frec_done, &r[4]));
	start_read(f, fd, 100, 200, &r[5]);
	/* Let both threads go; the free joins them. */
	gate_open(6);
	test_inside_call = true;
	comm_fio_free(&f);
	test_inside_call = false;
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(r[i].calls, 0);
	comm_loop_run_once(loop);
	for (i = 0; i < 6; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_int_eq(r[i].status, COMM_CANCELLED);
	}
	fio_teardown(&loop, &f);
	close(fd);
}
END_TEST

/* An operation in a thread keeps comm_loop_run() going until it is
 * back; an idle engine does not. */
START_TEST(loop_runs_while_operations_are_out)
{
	struct comm_loop *loop;
	struct comm_fio *f = fio_setup_kind(&loop, kind_of(_i), 1);
	struct frec r = { 0 };
	int fd = tmp_file(64);

	ck_assert_int_eq(comm_loop_run(loop), 0);
	start_read(f, fd, 64, 0, &r);
	r.stop = loop;
	ck_assert_int_eq(comm_loop_run(loop), 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_OK);
	fio_teardown(&loop, &f);
	close(fd);
}
END_TEST

static void
expect_counts(struct comm_fio *f, unsigned running, unsigned queued)
{
	struct comm_fio_stats st;

	usleep(20000);	/* room for a wrongly woken thread to take one */
	comm_fio_stats(f, &st);
	ck_assert_uint_eq(st.running, running);
	ck_assert_uint_eq(st.queued, queued);
}

/* With threads to spare, a sync is not taken while a write runs, and a
 * write behind the sync is not taken while the sync runs. */
START_TEST(sync_waits_for_running_and_holds_later)
{
	struct comm_loop *loop;
	struct comm_fio *f = fio_setup(&loop, 3);
	struct frec a = { 0 }, s = { 0 }, b = { 0 };
	int fd = tmp_file(16);

	ck_assert_int_eq(pipe(gate), 0);
	comm_fio_set_hook(f, gate_hook, NULL);
	start_write(f, loop, fd, "A", 1, 0, &a);
	wait_running(f, 1);
	ck_assert_ptr_nonnull(comm_fio_sync(f, fd, frec_done, &s));
	start_write(f, loop, fd, "B", 1, 1, &b);
	expect_counts(f, 1, 2);
	gate_open(1);
	run_until(loop, &a, 1);
	wait_running(f, 1);
	expect_counts(f, 1, 1);
	ck_assert_int_eq(s.calls + b.calls, 0);
	gate_open(2);
	run_until(loop, &b, 1);
	run_until(loop, &s, 1);
	ck_assert_int_lt(a.at, s.at);
	ck_assert_int_lt(s.at, b.at);
	ck_assert_int_eq(s.status, COMM_OK);
	fio_teardown(&loop, &f);
	close(fd);
}
END_TEST

/* io_uring: a read from an empty pipe stays in the kernel's hands until
 * the test writes to it, as the gate holds a thread. */
static struct comm_fio *
uring_setup(struct comm_loop **loop)
{
	struct comm_fio *f = fio_setup_kind(loop, COMM_FIO_URING, 0);

	if (comm_fio_kind(f) != COMM_FIO_URING) {
		fio_teardown(loop, &f);
		return (NULL);
	}
	ck_assert_int_eq(pipe(gate), 0);
	return (f);
}

static void
on_stop_timer(struct comm_timer *t, void *arg)
{
	(void)t;
	comm_loop_stop(arg);
}

/* Run the loop for a while (what completes meanwhile is delivered). */
static void
run_for(struct comm_loop *loop, double seconds)
{
	struct comm_timer *t = comm_timer_new(loop, on_stop_timer, loop);

	ck_assert_ptr_nonnull(t);
	comm_timer_start(t, seconds, 0);
	comm_loop_run(loop);
	comm_timer_free(&t);
}

START_TEST(uring_cancel_in_the_kernel_completes_now_frees_later)
{
	struct comm_loop *loop;
	struct comm_fio *f = uring_setup(&loop);
	struct frec r = { 0 };
	struct buf_pool_stats bs;
	struct comm_fop *op;

	if (f == NULL)
		return;
	op = start_read(f, gate[0], 64, 0, &r);
	run_for(loop, 0.02);
	ck_assert_int_eq(r.calls, 0);
	test_inside_call = true;
	comm_fio_cancel(op);
	test_inside_call = false;
	ck_assert_int_eq(r.calls, 0);
	run_until(loop, &r, 1);
	ck_assert_int_eq(r.status, COMM_CANCELLED);
	/* Until the kernel's entry is back the block stays. */
	run_for(loop, 0.02);
	buf_pool_stats(comm_loop_pool(loop), &bs);
	ck_assert_uint_eq(bs.pages, 0);
	fio_teardown(&loop, &f);
	ck_assert_int_eq(r.calls, 1);
}
END_TEST

START_TEST(uring_sync_waits_for_what_runs_and_holds_later)
{
	struct comm_loop *loop;
	struct comm_fio *f = uring_setup(&loop);
	struct frec a = { 0 }, s = { 0 }, b = { 0 };
	int fd = tmp_file(16);

	if (f == NULL)
		return;
	start_read(f, gate[0], 1, 0, &a);
	ck_assert_ptr_nonnull(comm_fio_sync(f, fd, frec_done, &s));
	start_write(f, loop, fd, "B", 1, 1, &b);
	run_for(loop, 0.05);
	ck_assert_int_eq(a.calls + s.calls + b.calls, 0);
	ck_assert_int_eq(write(gate[1], "g", 1), 1);
	run_until(loop, &b, 1);
	run_until(loop, &s, 1);
	ck_assert_int_eq(a.status, COMM_OK);
	ck_assert_int_eq(s.status, COMM_OK);
	ck_assert_int_eq(b.status, COMM_OK);
	ck_assert_int_lt(a.at, s.at);
	ck_assert_int_lt(s.at, b.at);
	fio_teardown(&loop, &f);
	close(fd);
}
END_TEST

START_TEST(uring_free_with_operations_in_the_kernel)
{
	struct comm_loop *loop;
	struct comm_fio *f = uring_setup(&loop);
	struct frec r[4] = { { 0 } };
	int fd = tmp_file(8192), i;

	if (f == NULL)
		return;
	start_read(f, gate[0], 64, 0, &r[0]);
	start_read(f, fd, 4096, 0, &r[1]);
	start_write(f, loop, fd, "zz", 2, 10, &r[2]);
	ck_assert_ptr_nonnull(comm_fio_sync(f, fd, frec_done, &r[3]));
	test_inside_call = true;
	comm_fio_free(&f);
	test_inside_call = false;
	comm_loop_run_once(loop);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_int_eq(r[i].status, COMM_CANCELLED);
	}
	fio_teardown(&loop, &f);
	close(fd);
}
END_TEST

static Suite *
comm_file_suite(void)
{
	Suite *s = suite_create("comm_file");
	TCase *tc;

	tc = tcase_create("io");
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, read_completes_from_the_loop_with_the_bytes, 0, 2);
	tcase_add_loop_test(tc, read_at_the_end_is_short_then_eof, 0, 2);
	tcase_add_loop_test(tc, errors_carry_the_errno, 0, 2);
	tcase_add_loop_test(tc, many_concurrent_writes_then_reads, 0, 2);
	tcase_add_loop_test(tc, writev_of_more_slices_than_iov_max, 0, 2);
	tcase_add_loop_test(tc, writes_around_a_sync_complete_in_order, 0, 2);
	tcase_add_loop_test(tc, loop_runs_while_operations_are_out, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("cancel");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, cancel_in_a_thread_completes_now_frees_later);
	tcase_add_test(tc, cancel_queued_never_runs);
	tcase_add_test(tc, free_with_operations_in_flight);
	tcase_add_test(tc, sync_waits_for_running_and_holds_later);
	tcase_add_test(tc, uring_cancel_in_the_kernel_completes_now_frees_later);
	tcase_add_test(tc, uring_sync_waits_for_what_runs_and_holds_later);
	tcase_add_test(tc, uring_free_with_operations_in_the_kernel);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(comm_file_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
