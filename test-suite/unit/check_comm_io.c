/*
 * check_comm_io.c - unit tests for connections: reads, the write queue,
 * cancel and close, timeouts, the transport interface.  Socket pairs over
 * AF_UNIX and loopback TCP, one private loop per test.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "buf/buf.h"
#include "comm/comm.h"
#include "calloc_fail.h"
#include "comm_test.h"

static struct comm_loop *loop;
static int sv[2];		/* the raw pair */
static struct comm_conn *c;	/* comm on sv[0]; sv[1] is the peer */

static void
unix_setup(void)
{
	loop = comm_loop_new();
	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = comm_conn_new(loop, sv[0]);
	ck_assert_ptr_nonnull(c);
}

/* The same over loopback TCP with a 4 KiB send buffer, so that writes
 * go out in many pieces; rcvbuf 0 leaves the receive side alone. */
static void
tcp_setup(int rcvbuf)
{
	loop = comm_loop_new();
	ck_assert_ptr_nonnull(loop);
	tcp_pair(sv, 4096, rcvbuf);
	c = comm_conn_new(loop, sv[0]);
	ck_assert_ptr_nonnull(c);
}

/* tcp_setup() with the peer under comm too; sv[1] is then its. */
static struct comm_conn *
tcp_setup_peer(void)
{
	struct comm_conn *peer;

	/* Only the send side small: a tiny receive window would make TCP
	 * wait for delayed ACKs, and the test slow. */
	tcp_setup(0);
	peer = comm_conn_new(loop, sv[1]);
	ck_assert_ptr_nonnull(peer);
	sv[1] = -1;
	return (peer);
}

/* The conn is closed (or the test closed it); everything must be gone. */
static void
finish(void)
{
	struct buf_pool_stats ps;

	comm_close(&c);
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	ps = pool_stats(loop);
	ck_assert_uint_eq(ps.pages, 0);
	ck_assert_uint_eq(ps.pinned, 0);
	ck_assert_uint_eq(loop_stats(loop).ops, 0);
	if (sv[1] >= 0)
		close(sv[1]);
	comm_loop_free(&loop);
}

static unsigned char
pat(size_t i)
{
	return ((unsigned char)(i * 31 + i / 251));
}

/* Reads into fresh blocks until `want` bytes came, checking pat(). */
struct sink {
	size_t		got;
	size_t		want;
	size_t		bad_at;		/* first mismatch + 1, or 0 */
	struct rec	end;		/* the read that was not OK */
	bool		done;
};

static void
sink_read(struct comm_conn *rc, const struct comm_result *res, void *arg)
{
	struct sink *s = arg;
	const unsigned char *p;
	size_t i;

	if (res->status != COMM_OK) {
		rec_done(rc, res, &s->end);
		s->done = true;
		return;
	}
	p = buf_slice_ptr(&res->data);
	for (i = 0; i < res->len && s->bad_at == 0; i++)
		if (p[i] != pat(s->got + i))
			s->bad_at = s->got + i + 1;
	s->got += res->len;
	if (s->got >= s->want) {
		s->done = true;
		return;
	}
	comm_read(rc, NULL, s->want - s->got, sink_read, s);
}

static void
chain_of_pattern(struct buf_chain *ch, size_t n)
{
	unsigned char *p = malloc(n);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = pat(i);
	buf_chain_init(ch, comm_loop_pool(loop));
	ck_assert_int_eq(buf_chain_append(ch, p, n), 0);
	free(p);
}

/* --- peeks --------------------------------------------------------------- */

/* A peek waits for its count however the bytes come, wakes the loop only
 * then, and leaves them for the next read. */
START_TEST(peek_waits_for_its_count_and_consumes_nothing)
{
	struct rec r = { 0 }, rd = { 0 };
	uint32_t wakes;

	tcp_setup(0);
	ck_assert_int_eq(write(sv[1], "abc", 3), 3);
	test_inside_call = true;
	comm_peek(c, 10, rec_done, &r);
	test_inside_call = false;
	run_for(loop, 0.05);
	ck_assert_int_eq(r.calls, 0);
	ck_assert_int_eq(write(sv[1], "defg", 4), 4);
	run_for(loop, 0.05);
	ck_assert_int_eq(r.calls, 0);
	/* Nothing woke the loop for the bytes short of the count. */
	wakes = loop_stats(loop).recv_calls;
	ck_assert_uint_le(wakes, 1);
	ck_assert_int_eq(write(sv[1], "hijklm", 6), 6);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_uint_eq(r.len, 10);
	ck_assert_str_eq(r.data, "abcdefghij");
	/* Still all in the socket. */
	comm_read(c, NULL, 0, rec_done, &rd);
	RUN_UNTIL(loop, rd.calls > 0);
	ck_assert_int_eq(rd.status, COMM_OK);
	ck_assert_str_eq(rd.data, "abcdefghijklm");
	finish();
}
END_TEST

START_TEST(peek_short_when_the_peer_closes)
{
	struct rec r = { 0 }, e = { 0 };

	tcp_setup(0);
	ck_assert_int_eq(write(sv[1], "abc", 3), 3);
	ck_assert_int_eq(shutdown(sv[1], SHUT_WR), 0);
	comm_peek(c, 10, rec_done, &r);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_uint_eq(r.len, 3);
	ck_assert_str_eq(r.data, "abc");
	finish();
	/* Nothing at all before the FIN: EOF. */
	tcp_setup(0);
	ck_assert_int_eq(shutdown(sv[1], SHUT_WR), 0);
	comm_peek(c, 10, rec_done, &e);
	RUN_UNTIL(loop, e.calls > 0);
	ck_assert_int_eq(e.status, COMM_EOF);
	finish();
}
END_TEST

START_TEST(peek_times_out_and_cancels_once)
{
	struct rec r = { 0 }, k = { 0 };

	tcp_setup(0);
	ck_assert_int_eq(write(sv[1], "ab", 2), 2);
	comm_set_timeout(c, COMM_TO_READ, 0.05);
	comm_peek(c, 5, rec_done, &r);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_TIMEOUT);
	run_for(loop, 0.05);
	ck_assert_int_eq(r.calls, 1);
	finish();
	tcp_setup(0);
	comm_peek(c, 5, rec_done, &k);
	comm_cancel_read(c);
	RUN_UNTIL(loop, k.calls > 0);
	ck_assert_int_eq(k.status, COMM_CANCELLED);
	finish();
}
END_TEST

/* --- reads ---------------------------------------------------------------- */

START_TEST(read_completes_from_the_loop_with_the_bytes)
{
	struct rec r = { 0 };

	unix_setup();
	ck_assert_int_eq(write(sv[1], "hello", 5), 5);
	test_inside_call = true;
	comm_read(c, NULL, 0, rec_done, &r);
	test_inside_call = false;
	ck_assert_int_eq(r.calls, 0);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_uint_eq(r.len, 5);
	ck_assert_str_eq(r.data, "hello");
	ck_assert_uint_eq(loop_stats(loop).bytes_in, 5);
	finish();
}
END_TEST

static void
check_lent_block(struct comm_conn *rc, const struct comm_result *res,
    void *arg)
{
	struct rec *r = arg;

	/* Sized to what was there (5 bytes: the 64-byte class). */
	ck_assert_uint_eq(res->data.buf->size, 64);
	ck_assert_uint_eq(res->data.buf->fill, 5);
	ck_assert_uint_eq(pool_stats(loop).pages, 1);
	rec_done(rc, res, r);
}

START_TEST(bufferless_read_takes_no_block_until_readable)
{
	struct rec r = { 0 };

	unix_setup();
	comm_read(c, NULL, 0, check_lent_block, &r);
	run_for(loop, 0.05);
	ck_assert_int_eq(r.calls, 0);
	ck_assert_uint_eq(pool_stats(loop).pages, 0);	/* idle pins none */
	ck_assert_int_eq(write(sv[1], "hello", 5), 5);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_uint_eq(pool_stats(loop).pages, 0);	/* lent, then gone */
	finish();
}
END_TEST

START_TEST(read_into_a_callers_block_appends_at_fill)
{
	struct rec r = { 0 };
	struct buf *b;

	unix_setup();
	b = buf_alloc(comm_loop_pool(loop), 64);
	buf_append(b, "ab", 2);
	ck_assert_int_eq(write(sv[1], "cd", 2), 2);
	comm_read(c, b, 0, rec_done, &r);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_uint_eq(b->fill, 4);
	ck_assert_int_eq(memcmp(buf_data(b), "abcd", 4), 0);
	ck_assert_uint_eq(b->refs, 1);		/* comm let go */
	buf_unref(&b);
	finish();
}
END_TEST

START_TEST(read_max_limits_one_read)
{
	struct rec r = { 0 };

	unix_setup();
	ck_assert_int_eq(write(sv[1], "0123456789", 10), 10);
	comm_read(c, NULL, 4, rec_done, &r);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_uint_eq(r.len, 4);
	ck_assert_str_eq(r.data, "0123");
	finish();
}
END_TEST

START_TEST(read_reports_eof_when_the_peer_closes)
{
	struct rec r = { 0 };

	unix_setup();
	comm_read(c, NULL, 0, rec_done, &r);
	close(sv[1]);
	sv[1] = -1;
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_EOF);
	ck_assert_uint_eq(r.len, 0);
	run_for(loop, 0.02);
	ck_assert_int_eq(r.calls, 1);
	finish();
}
END_TEST

START_TEST(read_cancel_completes_cancelled_once)
{
	struct rec r = { 0 }, r2 = { 0 };

	unix_setup();
	comm_read(c, NULL, 0, rec_done, &r);
	test_inside_call = true;
	comm_cancel_read(c);
	test_inside_call = false;
	ck_assert_int_eq(r.calls, 0);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_CANCELLED);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	run_for(loop, 0.02);
	ck_assert_int_eq(r.calls, 1);
	comm_cancel_read(c);			/* nothing pending: no-op */
	comm_read(c, NULL, 0, rec_done, &r2);	/* the slot is free again */
	RUN_UNTIL(loop, r2.calls > 0);
	ck_assert_str_eq(r2.data, "x");
	ck_assert_int_eq(r.calls, 1);
	finish();
}
END_TEST

START_TEST(read_close_completes_cancelled_once)
{
	struct rec r = { 0 };
	struct crec h = { 0 };

	unix_setup();
	comm_read(c, NULL, 0, rec_done, &r);
	ck_assert_int_eq(comm_add_close_handler(c, crec_closed, &h), 0);
	comm_close(&c);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(r.calls, 0);
	RUN_UNTIL(loop, h.calls > 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_CANCELLED);
	ck_assert_int_lt(r.at, h.at);
	finish();
}
END_TEST

START_TEST(read_timeout_completes_timeout_once)
{
	struct rec r = { 0 };
	double t0;

	/* Before the loop: the deadline is measured from the loop's clock,
	 * read when it is created, not from comm_read(). */
	t0 = mono_now();
	unix_setup();
	comm_set_timeout(c, COMM_TO_READ, 0.1);
	comm_read(c, NULL, 0, rec_done, &r);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_TIMEOUT);
	ck_assert(mono_now() - t0 >= 0.09);
	run_for(loop, 0.15);
	ck_assert_int_eq(r.calls, 1);
	finish();
}
END_TEST

/* Regression: a read into a caller's block that someone else filled
 * meanwhile (a chain extending it in place, as the fill rule allows)
 * called recv() for 0 bytes and reported the 0 as EOF. */
START_TEST(read_into_a_block_filled_meanwhile_is_an_error_not_eof)
{
	struct rec r = { 0 };
	struct buf *b;
	char junk[64];

	unix_setup();
	b = buf_alloc(comm_loop_pool(loop), sizeof junk);
	comm_read(c, b, 0, rec_done, &r);
	memset(junk, 'j', sizeof junk);
	buf_append(b, junk, buf_room(b));	/* before the socket is read */
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_ERROR);
	ck_assert_int_eq(r.err, ENOBUFS);
	buf_unref(&b);
	finish();
}
END_TEST

START_TEST(two_pending_reads_are_a_bug)
{
	struct rec r = { 0 };

	unix_setup();
	comm_read(c, NULL, 0, rec_done, &r);
	comm_read(c, NULL, 0, rec_done, &r);	/* SIGABRT */
}
END_TEST

/* --- writes --------------------------------------------------------------- */

START_TEST(write_completes_ok_when_all_bytes_are_out)
{
	struct rec r = { 0 };
	struct buf_chain ch;
	char got[12] = { 0 };

	unix_setup();
	chain_of(&ch, loop, "hello world");
	test_inside_call = true;
	comm_writev(c, &ch, rec_done, &r);
	test_inside_call = false;
	ck_assert_uint_eq(buf_chain_len(&ch), 0);	/* taken */
	buf_chain_fini(&ch);
	ck_assert_int_eq(r.calls, 0);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_uint_eq(r.len, 11);
	read_all(sv[1], got, 11);
	ck_assert_str_eq(got, "hello world");
	ck_assert(!conn_stats(c).write_armed);
	finish();
}
END_TEST

START_TEST(partial_writes_with_a_tiny_sndbuf_arrive_whole_and_in_order)
{
	struct comm_conn *peer;
	struct sink s = { .want = 1 << 20 };
	struct rec r = { 0 };
	struct buf_chain ch;
	struct comm_conn_stats st;

	peer = tcp_setup_peer();
	chain_of_pattern(&ch, s.want);
	comm_writev(c, &ch, rec_done, &r);
	buf_chain_fini(&ch);
	comm_read(peer, NULL, 0, sink_read, &s);
	RUN_UNTIL(loop, r.calls > 0 && s.done);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_uint_eq(r.len, s.want);
	ck_assert_uint_eq(s.got, s.want);
	ck_assert_uint_eq(s.bad_at, 0);
	/* The peer only reads: what the loop sent is c's. */
	ck_assert_uint_gt(loop_stats(loop).send_calls, 8);	/* partials */
	ck_assert_uint_eq(loop_stats(loop).bytes_out, s.want);
	st = conn_stats(c);
	ck_assert(!st.write_armed);			/* drained: disarmed */
	ck_assert_uint_eq(st.queued, 0);
	comm_close(&peer);
	finish();
}
END_TEST

START_TEST(more_than_iov_max_slices_go_out_in_several_writevs)
{
	struct rec r = { 0 };
	struct buf_chain ch;
	struct buf *page;
	unsigned char got[3000];
	unsigned i;
	int big = 1 << 20;

	unix_setup();
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	page = buf_alloc(comm_loop_pool(loop), 256);
	for (i = 0; i < 256; i++)
		page->data[i] = (unsigned char)i;
	page->fill = 256;
	buf_chain_init(&ch, comm_loop_pool(loop));
	for (i = 0; i < 3000; i++)	/* never adjacent: no merging */
		buf_chain_append_slice(&ch, page, (i * 2) % 250, 1);
	ck_assert_uint_eq(buf_chain_nslices(&ch), 3000);
	comm_writev(c, &ch, rec_done, &r);
	buf_unref(&page);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_uint_eq(r.len, 3000);
	ck_assert_uint_eq(loop_stats(loop).send_calls, 3); /* 1024+1024+952 */
	read_all(sv[1], got, sizeof got);
	for (i = 0; i < 3000; i++)
		ck_assert_uint_eq(got[i], (i * 2) % 250);
	finish();
}
END_TEST

START_TEST(queued_writes_share_one_writev)
{
	struct rec r[10];
	struct buf_chain ch;
	char got[11] = { 0 };
	int i;

	unix_setup();
	memset(r, 0, sizeof r);
	for (i = 0; i < 10; i++) {
		chain_of(&ch, loop, (const char []){ (char)('0' + i), 0 });
		comm_writev(c, &ch, rec_done, &r[i]);
	}
	RUN_UNTIL(loop, r[9].calls > 0);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_int_eq(r[i].status, COMM_OK);
		if (i > 0)
			ck_assert_int_lt(r[i - 1].at, r[i].at);
	}
	ck_assert_uint_eq(loop_stats(loop).send_calls, 1);
	read_all(sv[1], got, 10);
	ck_assert_str_eq(got, "0123456789");
	finish();
}
END_TEST

/* Writes queued from inside write callbacks: "A", then from A's callback
 * "B" and "C", then from B's "D". */
static struct rec wa, wb, wc, wd;

static void
on_b(struct comm_conn *wc_conn, const struct comm_result *res, void *arg)
{
	struct buf_chain ch;

	rec_done(wc_conn, res, arg);
	chain_of(&ch, loop, "D");
	comm_writev(wc_conn, &ch, rec_done, &wd);
	buf_chain_fini(&ch);
}

static void
on_a(struct comm_conn *wc_conn, const struct comm_result *res, void *arg)
{
	struct buf_chain ch;

	rec_done(wc_conn, res, arg);
	chain_of(&ch, loop, "B");
	comm_writev(wc_conn, &ch, on_b, &wb);
	chain_of(&ch, loop, "C");
	comm_writev(wc_conn, &ch, rec_done, &wc);
	buf_chain_fini(&ch);
}

START_TEST(writes_queued_from_a_write_callback_keep_their_order)
{
	struct buf_chain ch;
	char got[5] = { 0 };

	unix_setup();
	chain_of(&ch, loop, "A");
	comm_writev(c, &ch, on_a, &wa);
	RUN_UNTIL(loop, wd.calls > 0);
	ck_assert_int_eq(wa.calls + wb.calls + wc.calls + wd.calls, 4);
	ck_assert_int_lt(wa.at, wb.at);
	ck_assert_int_lt(wb.at, wc.at);
	ck_assert_int_lt(wc.at, wd.at);
	read_all(sv[1], got, 4);
	ck_assert_str_eq(got, "ABCD");
	finish();
}
END_TEST

START_TEST(empty_write_completes_ok_in_turn)
{
	struct rec r1 = { 0 }, r2 = { 0 };
	struct buf_chain ch;

	unix_setup();
	chain_of(&ch, loop, "x");
	comm_writev(c, &ch, rec_done, &r1);
	comm_writev(c, &ch, rec_done, &r2);	/* ch is empty now */
	RUN_UNTIL(loop, r2.calls > 0);
	ck_assert_int_eq(r2.status, COMM_OK);
	ck_assert_uint_eq(r2.len, 0);
	ck_assert_int_lt(r1.at, r2.at);
	finish();
}
END_TEST

/* Fill the kernel buffers: a write of n bytes to a peer that does not
 * read, run until comm waits for POLLOUT. */
static void
write_until_stuck(struct rec *r, size_t n)
{
	struct buf_chain ch;

	chain_of_pattern(&ch, n);
	comm_writev(c, &ch, rec_done, r);
	RUN_UNTIL(loop, conn_stats(c).write_armed || r->calls > 0);
	ck_assert_int_eq(r->calls, 0);
}

START_TEST(write_cancel_completes_cancelled_with_bytes_done)
{
	struct rec r = { 0 }, r2 = { 0 };
	struct comm_loop_stats st;
	struct buf_chain ch;

	tcp_setup(4096);
	write_until_stuck(&r, 4 << 20);
	chain_of(&ch, loop, "more");
	comm_writev(c, &ch, rec_done, &r2);
	st = loop_stats(loop);
	test_inside_call = true;
	comm_cancel_writes(c);
	test_inside_call = false;
	ck_assert(!conn_stats(c).write_armed);
	RUN_UNTIL(loop, r2.calls > 0);
	ck_assert_int_eq(r.status, COMM_CANCELLED);
	ck_assert_uint_eq(r.len, st.bytes_out);
	ck_assert_uint_gt(r.len, 0);
	ck_assert_uint_lt(r.len, 4 << 20);
	ck_assert_int_eq(r2.status, COMM_CANCELLED);
	ck_assert_uint_eq(r2.len, 0);
	ck_assert_int_lt(r.at, r2.at);
	run_for(loop, 0.02);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r2.calls, 1);
	ck_assert_uint_eq(pool_stats(loop).pinned, 0);
	finish();
}
END_TEST

START_TEST(write_close_completes_cancelled_once)
{
	struct rec r = { 0 };
	struct crec h = { 0 };

	tcp_setup(4096);
	write_until_stuck(&r, 4 << 20);
	comm_add_close_handler(c, crec_closed, &h);
	comm_close(&c);
	RUN_UNTIL(loop, h.calls > 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_CANCELLED);
	ck_assert_uint_gt(r.len, 0);
	ck_assert_int_lt(r.at, h.at);
	finish();
}
END_TEST

START_TEST(write_timeout_fails_the_queue_and_later_writes)
{
	struct rec r = { 0 }, r2 = { 0 }, r3 = { 0 };
	struct buf_chain ch;

	tcp_setup(4096);
	/* Generous: the deadline counts from the loop's cached time, which
	 * tcp_setup() under a sanitizer may leave a good while behind. */
	comm_set_timeout(c, COMM_TO_WRITE, 0.5);
	write_until_stuck(&r, 4 << 20);
	chain_of(&ch, loop, "queued");
	comm_writev(c, &ch, rec_done, &r2);
	RUN_UNTIL(loop, r2.calls > 0);
	ck_assert_int_eq(r.status, COMM_TIMEOUT);
	ck_assert_uint_gt(r.len, 0);
	ck_assert_int_eq(r2.status, COMM_TIMEOUT);
	chain_of(&ch, loop, "later");
	comm_writev(c, &ch, rec_done, &r3);
	RUN_UNTIL(loop, r3.calls > 0);
	ck_assert_int_eq(r3.status, COMM_ERROR);
	ck_assert_int_eq(r3.err, ETIMEDOUT);
	ck_assert_int_eq(r.calls + r2.calls + r3.calls, 3);
	finish();
}
END_TEST

/* comm_writev() with no memory for its queue entry: done once, from the
 * loop, ENOMEM; a hole in the stream would corrupt it, so the queue and
 * every later write fail with it, in start order. */
START_TEST(write_without_memory_fails_it_the_queue_and_later_writes)
{
	struct rec r = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };
	struct buf_chain ch;

	tcp_setup(4096);
	write_until_stuck(&r, 4 << 20);
	chain_of(&ch, loop, "no room for me");
	test_inside_call = true;
	calloc_fails = true;
	comm_writev(c, &ch, rec_done, &r2);
	calloc_fails = false;
	test_inside_call = false;
	ck_assert_uint_eq(buf_chain_len(&ch), 0);	/* taken, dropped */
	ck_assert_int_eq(r.calls + r2.calls, 0);
	/* Behind it while its completion is on its way. */
	chain_of(&ch, loop, "behind");
	comm_writev(c, &ch, rec_done, &r3);
	buf_chain_fini(&ch);
	RUN_UNTIL(loop, r3.calls > 0);
	ck_assert_int_eq(r.status, COMM_ERROR);
	ck_assert_int_eq(r.err, ENOMEM);
	ck_assert_int_eq(r2.status, COMM_ERROR);
	ck_assert_int_eq(r2.err, ENOMEM);
	ck_assert_uint_eq(r2.len, 0);
	ck_assert_int_eq(r3.status, COMM_ERROR);
	ck_assert_int_eq(r3.err, ENOMEM);
	ck_assert_int_lt(r.at, r2.at);
	ck_assert_int_lt(r2.at, r3.at);
	/* Memory is back: the write side stays failed. */
	chain_of(&ch, loop, "later");
	comm_writev(c, &ch, rec_done, &r4);
	buf_chain_fini(&ch);
	RUN_UNTIL(loop, r4.calls > 0);
	ck_assert_int_eq(r4.status, COMM_ERROR);
	ck_assert_int_eq(r4.err, ENOMEM);
	ck_assert_int_eq(r.calls + r2.calls + r3.calls + r4.calls, 4);
	ck_assert_uint_eq(loop_stats(loop).write_nomem, 1);
	finish();
}
END_TEST

/* Closed with such a failure on its way: it keeps its result, and the
 * connection is freed after it. */
START_TEST(write_without_memory_then_close_completes_once)
{
	struct rec r = { 0 }, r2 = { 0 };
	struct buf_chain ch;

	unix_setup();
	chain_of(&ch, loop, "x");
	calloc_fails = true;
	comm_writev(c, &ch, rec_done, &r);
	calloc_fails = false;
	comm_close(&c);
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_ERROR);
	ck_assert_int_eq(r.err, ENOMEM);
	ck_assert_int_eq(r2.calls, 0);
	buf_chain_fini(&ch);
	finish();
}
END_TEST

/*
 * Writes without memory on several connections at once, more than the
 * loop keeps records for in reserve: each completes once, ERROR ENOMEM,
 * in start order, and a second round finds the reserve back.
 */
#define NOMEM_MANY	40	/* past the reserve on its own */

static void
nomem_round(struct comm_conn **cv, int nc, struct rec r[][NOMEM_MANY])
{
	struct buf_chain ch;
	int i, k, total = 0;

	memset(r, 0, sizeof r[0] * (size_t)nc);
	test_inside_call = true;
	calloc_fails = true;
	for (i = 0; i < NOMEM_MANY; i++)
		for (k = 0; k < nc; k++) {
			chain_of(&ch, loop, "lost");
			comm_writev(cv[k], &ch, rec_done, &r[k][i]);
			buf_chain_fini(&ch);
		}
	calloc_fails = false;
	test_inside_call = false;
	RUN_UNTIL(loop, loop_stats(loop).ops == 0);
	for (k = 0; k < nc; k++)
		for (i = 0; i < NOMEM_MANY; i++) {
			ck_assert_int_eq(r[k][i].calls, 1);
			ck_assert_int_eq(r[k][i].status, COMM_ERROR);
			ck_assert_int_eq(r[k][i].err, ENOMEM);
			if (i > 0)
				ck_assert_int_lt(r[k][i - 1].at, r[k][i].at);
			total += r[k][i].calls;
		}
	ck_assert_int_eq(total, nc * NOMEM_MANY);
}

START_TEST(writes_without_memory_past_the_reserve_complete_once_in_order)
{
	static struct rec r[3][NOMEM_MANY];
	struct comm_conn *cv[3];
	int p[2][2], k;

	unix_setup();
	for (k = 0; k < 2; k++) {
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p[k]), 0);
		cv[k + 1] = comm_conn_new(loop, p[k][0]);
		ck_assert_ptr_nonnull(cv[k + 1]);
	}
	cv[0] = c;
	nomem_round(cv, 3, r);
	ck_assert_uint_eq(loop_stats(loop).write_nomem, 3);
	nomem_round(cv, 3, r);
	for (k = 0; k < 2; k++) {
		comm_close(&cv[k + 1]);
		close(p[k][1]);
	}
	finish();
}
END_TEST

/* A completion that starts another write with no memory: it takes the
 * record the first one just gave back. */
static struct rec chained[2];

static void
write_again_without_memory(struct comm_conn *ac, const struct comm_result *res,
    void *arg)
{
	struct buf_chain ch;

	rec_done(ac, res, arg);
	chain_of(&ch, loop, "again");
	calloc_fails = true;
	comm_writev(ac, &ch, rec_done, &chained[1]);
	calloc_fails = false;
	buf_chain_fini(&ch);
}

START_TEST(write_without_memory_from_such_a_completion_completes_once)
{
	struct buf_chain ch;

	memset(chained, 0, sizeof chained);
	unix_setup();
	chain_of(&ch, loop, "first");
	calloc_fails = true;
	comm_writev(c, &ch, write_again_without_memory, &chained[0]);
	calloc_fails = false;
	buf_chain_fini(&ch);
	RUN_UNTIL(loop, chained[1].calls > 0);
	ck_assert_int_eq(chained[0].calls, 1);
	ck_assert_int_eq(chained[1].calls, 1);
	ck_assert_int_eq(chained[1].status, COMM_ERROR);
	ck_assert_int_eq(chained[1].err, ENOMEM);
	finish();
}
END_TEST

/* A completion cancelling the writes of a connection that is going down
 * must not cancel its way down: the close handler still runs, once. */
static void
cancel_writes_in_done(struct comm_conn *rc, const struct comm_result *res,
    void *arg)
{
	rec_done(rc, res, arg);
	comm_cancel_writes(rc);
	comm_shutdown_write(rc);
}

START_TEST(cancel_writes_on_a_closing_conn_still_closes_it)
{
	struct rec r = { 0 }, w = { 0 };
	struct crec h = { 0 };
	struct buf_chain ch;

	tcp_setup(4096);
	write_until_stuck(&w, 4 << 20);
	comm_add_close_handler(c, crec_closed, &h);
	comm_read(c, NULL, 0, cancel_writes_in_done, &r);
	chain_of(&ch, loop, "queued");
	comm_writev(c, &ch, rec_done, &w);
	buf_chain_fini(&ch);
	finish();
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_CANCELLED);
	ck_assert_int_eq(h.calls, 1);
}
END_TEST

START_TEST(peer_reset_mid_write_is_an_error_not_sigpipe)
{
	struct rec r = { 0 }, r2 = { 0 };
	struct linger lg = { 1, 0 };
	struct buf_chain ch;
	char junk[1000];

	tcp_setup(4096);
	/* Undo the loop's SIG_IGN: only MSG_NOSIGNAL protects us now, and
	 * a SIGPIPE would kill this test. */
	signal(SIGPIPE, SIG_DFL);
	write_until_stuck(&r, 8 << 20);
	read_all(sv[1], junk, sizeof junk);
	setsockopt(sv[1], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(sv[1]);				/* RST */
	sv[1] = -1;
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_ERROR);
	ck_assert_msg(r.err == ECONNRESET || r.err == EPIPE, "err %d", r.err);
	ck_assert_uint_lt(r.len, 8 << 20);
	chain_of(&ch, loop, "after");
	comm_writev(c, &ch, rec_done, &r2);
	RUN_UNTIL(loop, r2.calls > 0);
	ck_assert_int_eq(r2.status, COMM_ERROR);
	ck_assert_int_eq(r2.err, r.err);
	finish();
}
END_TEST

static void
released_in_done(struct comm_conn *wc_conn, const struct comm_result *res,
    void *arg)
{
	/* Just before done: the write's reference is already gone. */
	ck_assert_uint_eq(pool_stats(loop).pages, 0);
	ck_assert_uint_eq(pool_stats(loop).pinned, 0);
	rec_done(wc_conn, res, arg);
}

START_TEST(slice_block_is_released_exactly_when_its_write_completes)
{
	struct rec r = { 0 };
	struct buf_chain ch;
	struct buf *page;

	unix_setup();
	page = buf_alloc(comm_loop_pool(loop), 1024);
	buf_append(page, "0123456789", 10);
	buf_chain_init(&ch, comm_loop_pool(loop));
	buf_chain_append_slice(&ch, page, 2, 5);
	buf_unref(&page);			/* the owner lets go */
	comm_writev(c, &ch, released_in_done, &r);
	buf_chain_fini(&ch);
	ck_assert_uint_eq(pool_stats(loop).pages, 1);	/* held by the write */
	ck_assert_uint_eq(pool_stats(loop).pinned, 5);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	finish();
}
END_TEST

/* While the write waits for room, the reader allocates and scribbles on
 * blocks of the same class: had the dropped page been recycled, its
 * bytes would change (and ASan would report the use after free). */
struct scribbler {
	struct sink	s;
	unsigned	scribbles;
};

static void
scribble_read(struct comm_conn *rc, const struct comm_result *res,
    void *arg)
{
	struct scribbler *sc = arg;
	struct buf *b;
	int i;

	for (i = 0; i < 4; i++) {
		b = buf_alloc(comm_loop_pool(loop), 65536);
		memset(buf_data(b), 0xee, b->size);
		buf_unref(&b);
		sc->scribbles++;
	}
	sink_read(rc, res, &sc->s);
}

START_TEST(dropped_block_is_intact_when_its_write_finally_goes_out)
{
	struct comm_conn *peer;
	struct scribbler sc = { .s = { .want = 16 * 65536 } };
	struct rec r = { 0 };
	struct buf_chain ch;
	struct buf *page;
	unsigned i;

	peer = tcp_setup_peer();
	page = buf_alloc(comm_loop_pool(loop), 65536);
	for (i = 0; i < 65536; i++)
		page->data[i] = pat(i);
	page->fill = 65536;
	buf_chain_init(&ch, comm_loop_pool(loop));
	for (i = 0; i < 16; i++)
		buf_chain_append_slice(&ch, page, 0, 65536);
	comm_writev(c, &ch, rec_done, &r);
	buf_unref(&page);		/* dropped while the write is pending */
	RUN_UNTIL(loop, conn_stats(c).write_armed);
	sc.s.want = 65536;		/* the pattern restarts every page */
	for (i = 0; i < 16; i++) {
		sc.s.got = 0;
		sc.s.done = false;
		comm_read(peer, NULL, 65536, scribble_read, &sc);
		RUN_UNTIL(loop, sc.s.done);
		ck_assert_uint_eq(sc.s.bad_at, 0);
		ck_assert_uint_eq(sc.s.got, 65536);
	}
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_uint_gt(sc.scribbles, 16);
	comm_close(&peer);
	finish();
}
END_TEST

START_TEST(shutdown_write_sends_eof_after_the_queue_and_reads_go_on)
{
	struct rec w = { 0 }, w2 = { 0 }, r = { 0 };
	struct buf_chain ch;
	char got[4] = { 0 };

	unix_setup();
	chain_of(&ch, loop, "abc");
	comm_writev(c, &ch, rec_done, &w);
	comm_shutdown_write(c);
	chain_of(&ch, loop, "late");
	comm_writev(c, &ch, rec_done, &w2);
	RUN_UNTIL(loop, w.calls > 0 && w2.calls > 0);
	ck_assert_int_eq(w.status, COMM_OK);
	ck_assert_int_eq(w2.status, COMM_ERROR);
	ck_assert_int_eq(w2.err, EPIPE);
	read_all(sv[1], got, 3);
	ck_assert_str_eq(got, "abc");
	ck_assert_int_eq(read(sv[1], got, 1), 0);	/* EOF */
	ck_assert_int_eq(write(sv[1], "z", 1), 1);	/* half open */
	comm_read(c, NULL, 0, rec_done, &r);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_str_eq(r.data, "z");
	finish();
}
END_TEST

/* --- close ---------------------------------------------------------------- */

START_TEST(close_cancels_a_read_and_three_writes_in_order_then_handler_and_fd)
{
	struct rec rd = { 0 }, w[3];
	struct crec h = { 0 };
	struct comm_conn_stats st;
	struct buf_chain ch;
	uint64_t out;
	char tmp[16];
	int fd, i;

	memset(w, 0, sizeof w);
	tcp_setup(4096);
	fd = sv[0];
	comm_read(c, NULL, 0, rec_done, &rd);
	chain_of_pattern(&ch, 4 << 20);
	comm_writev(c, &ch, rec_done, &w[0]);
	chain_of(&ch, loop, "second");
	comm_writev(c, &ch, rec_done, &w[1]);
	chain_of(&ch, loop, "third");
	comm_writev(c, &ch, rec_done, &w[2]);
	RUN_UNTIL(loop, conn_stats(c).write_armed);
	st = conn_stats(c);
	out = loop_stats(loop).bytes_out;
	ck_assert_uint_eq(st.pending, 4);
	ck_assert_int_eq(comm_add_close_handler(c, crec_closed, &h), 0);
	test_inside_call = true;
	comm_close(&c);
	test_inside_call = false;
	ck_assert_int_eq(rd.calls + w[0].calls + w[1].calls + w[2].calls, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);	/* not yet closed */
	RUN_UNTIL(loop, h.calls > 0);
	/* Four CANCELLED, in the order started, with the bytes done. */
	ck_assert_int_eq(rd.calls, 1);
	ck_assert_int_eq(rd.status, COMM_CANCELLED);
	ck_assert_uint_eq(rd.len, 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(w[i].calls, 1);
		ck_assert_int_eq(w[i].status, COMM_CANCELLED);
	}
	ck_assert_uint_eq(w[0].len, out);
	ck_assert_uint_gt(w[0].len, 0);
	ck_assert_uint_eq(w[1].len, 0);
	ck_assert_uint_eq(w[2].len, 0);
	ck_assert_int_lt(rd.at, w[0].at);
	ck_assert_int_lt(w[0].at, w[1].at);
	ck_assert_int_lt(w[1].at, w[2].at);
	/* Then the handler, with the fd still open; then the fd closed. */
	ck_assert_int_lt(w[2].at, h.at);
	ck_assert_int_eq(h.why, COMM_CANCELLED);
	ck_assert_int_eq(h.fd_open, 1);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_uint_eq(loop_stats(loop).conns, 0);	/* and freed */
	/* The peer sees the end: data, then EOF or a reset. */
	while (read(sv[1], tmp, sizeof tmp) > 0)
		;
	ck_assert_uint_eq(pool_stats(loop).pages, 0);
	finish();
}
END_TEST

START_TEST(close_keeps_the_result_of_a_completion_already_queued)
{
	struct rec r = { 0 };
	struct crec h = { 0 };

	unix_setup();
	ck_assert_int_eq(write(sv[1], "done", 4), 4);
	comm_read(c, NULL, 0, rec_done, &r);
	comm_add_close_handler(c, crec_closed, &h);
	/* Poll once without running the queue: the read's result is fixed
	 * and its completion queued, not yet delivered. */
	RUN_UNTIL(loop, loop_stats(loop).recv_calls > 0);
	ck_assert_int_eq(r.calls, 0);
	comm_close(&c);
	RUN_UNTIL(loop, h.calls > 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_str_eq(r.data, "done");
	ck_assert_int_lt(r.at, h.at);
	finish();
}
END_TEST

static struct rec cw;

static void
close_from_read(struct comm_conn *rc, const struct comm_result *res,
    void *arg)
{
	rec_done(rc, res, arg);
	ck_assert_ptr_eq(rc, c);
	comm_close(&c);
	ck_assert_ptr_null(c);
	/* Still valid inside this callback: nops counts it. */
	ck_assert_int_eq(comm_conn_fd(rc), sv[0]);
}

START_TEST(close_from_inside_a_callback_cancels_the_rest)
{
	struct rec r = { 0 };
	struct crec h = { 0 };
	struct buf_chain ch;
	int big = 4096;

	unix_setup();
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	comm_add_close_handler(c, crec_closed, &h);
	ck_assert_int_eq(write(sv[1], "go", 2), 2);
	comm_read(c, NULL, 0, close_from_read, &r);
	chain_of_pattern(&ch, 1 << 20);
	comm_writev(c, &ch, rec_done, &cw);
	RUN_UNTIL(loop, h.calls > 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_int_eq(cw.calls, 1);
	ck_assert_int_eq(cw.status, COMM_CANCELLED);
	ck_assert_int_lt(r.at, cw.at);
	ck_assert_int_lt(cw.at, h.at);
	ck_assert_uint_eq(loop_stats(loop).conns, 0);
	finish();
}
END_TEST

static struct rec late;
static bool late_nomem;		/* and with no memory for it */

static void
write_after_close(struct comm_conn *rc, const struct comm_result *res,
    void *arg)
{
	struct buf_chain ch;

	rec_done(rc, res, arg);
	chain_of(&ch, loop, "too late");
	calloc_fails = late_nomem;
	comm_writev(rc, &ch, rec_done, &late);
	calloc_fails = false;
	buf_chain_fini(&ch);
	ck_assert_int_eq(comm_add_close_handler(rc, crec_closed, NULL),
	    -EINVAL);
}

START_TEST(operations_started_on_a_closing_conn_complete_cancelled)
{
	struct rec r = { 0 };
	struct crec h = { 0 };

	unix_setup();
	comm_add_close_handler(c, crec_closed, &h);
	comm_read(c, NULL, 0, write_after_close, &r);
	finish();
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(late.calls, 1);
	ck_assert_int_eq(late.status, COMM_CANCELLED);
	ck_assert_int_eq(h.calls, 1);
}
END_TEST

/* The same with no memory for the write's queue entry. */
START_TEST(write_with_no_memory_on_a_closing_conn_completes_cancelled)
{
	struct rec r = { 0 };
	struct crec h = { 0 };

	late_nomem = true;
	unix_setup();
	comm_add_close_handler(c, crec_closed, &h);
	comm_read(c, NULL, 0, write_after_close, &r);
	finish();
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(late.calls, 1);
	ck_assert_int_eq(late.status, COMM_CANCELLED);
	ck_assert_int_eq(h.calls, 1);
}
END_TEST

START_TEST(removed_close_handler_does_not_run)
{
	struct crec h1 = { 0 }, h2 = { 0 };

	unix_setup();
	comm_add_close_handler(c, crec_closed, &h1);
	comm_add_close_handler(c, crec_closed, &h2);
	ck_assert_int_eq(comm_remove_close_handler(c, crec_closed, &h1), 0);
	ck_assert_int_eq(comm_remove_close_handler(c, crec_closed, &h1),
	    -ENOENT);
	finish();
	ck_assert_int_eq(h1.calls, 0);
	ck_assert_int_eq(h2.calls, 1);
}
END_TEST

START_TEST(closing_twice_is_a_bug)
{
	struct comm_conn *again;

	unix_setup();
	again = c;
	comm_close(&c);
	comm_close(&again);		/* SIGABRT */
}
END_TEST

/* --- timeouts ------------------------------------------------------------- */

START_TEST(idle_timeout_tears_down_with_timeout)
{
	struct rec r = { 0 };
	struct crec h = { 0 };

	unix_setup();
	h.owner = &c;		/* the handler closes the owner's pointer */
	comm_add_close_handler(c, crec_closed, &h);
	comm_set_timeout(c, COMM_TO_IDLE, 0.1);
	comm_read(c, NULL, 0, rec_done, &r);
	RUN_UNTIL(loop, h.calls > 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_TIMEOUT);
	ck_assert_int_eq(h.why, COMM_TIMEOUT);
	ck_assert_int_lt(r.at, h.at);
	ck_assert_ptr_null(c);
	finish();
}
END_TEST

static void
poke_peer(struct comm_timer *t, void *arg)
{
	int *n = arg;

	(void)t;
	/* Fails once the conn under test is gone, which is fine. */
	if (write(sv[1], "p", 1) == 1)
		(*n)++;
}

static void
read_on(struct comm_conn *rc, const struct comm_result *res, void *arg)
{
	struct rec *r = arg;

	rec_done(rc, res, r);
	if (res->status == COMM_OK)
		comm_read(rc, NULL, 0, read_on, r);
}

START_TEST(traffic_pushes_the_idle_timeout_back)
{
	struct comm_timer *t;
	struct rec r = { 0 };
	struct crec h = { 0 };
	int pokes = 0;
	double t0;

	/* Idle 0.3 s against a poke every 0.05 s: only a stall of 0.25 s
	 * (not a busy machine, a broken one) could end it early. */
	t0 = mono_now();
	unix_setup();
	comm_add_close_handler(c, crec_closed, &h);
	comm_set_timeout(c, COMM_TO_IDLE, 0.3);
	comm_read(c, NULL, 0, read_on, &r);
	t = comm_timer_new(loop, poke_peer, &pokes);
	comm_timer_start(t, 0.05, 0.05);
	RUN_UNTIL(loop, pokes == 10);
	comm_timer_free(&t);
	ck_assert_int_eq(h.calls, 0);		/* 0.5 s alive, idle 0.3 */
	ck_assert_int_ge(r.calls, 2);
	RUN_UNTIL(loop, h.calls > 0);
	ck_assert(mono_now() - t0 >= 0.79);
	ck_assert_int_eq(h.why, COMM_TIMEOUT);
	ck_assert_int_eq(r.status, COMM_TIMEOUT);
	finish();
}
END_TEST

START_TEST(lifetime_timeout_tears_down_a_busy_conn)
{
	struct comm_timer *t;
	struct rec r = { 0 };
	struct crec h = { 0 };
	int pokes = 0;

	unix_setup();
	comm_add_close_handler(c, crec_closed, &h);
	comm_set_timeout(c, COMM_TO_LIFETIME, 0.3);
	comm_read(c, NULL, 0, read_on, &r);
	t = comm_timer_new(loop, poke_peer, &pokes);
	comm_timer_start(t, 0.03, 0.03);
	RUN_UNTIL(loop, h.calls > 0);
	comm_timer_free(&t);
	/* Busy: reads kept completing (a stalled machine may poke less
	 * often, which does not matter; that some traffic flowed does). */
	ck_assert_int_ge(pokes, 2);
	ck_assert_int_ge(r.calls, 2);
	ck_assert_int_eq(h.why, COMM_TIMEOUT);
	ck_assert_int_eq(r.status, COMM_TIMEOUT);
	finish();
}
END_TEST

/* --- the transport interface ---------------------------------------------- */

/* A toy transport: XOR 0x20 both ways (swaps letter case), counting. */
struct xor_ctx {
	int	recvs;
	int	sends;
	int	closes;
};

static ssize_t
xor_recv(struct comm_conn *xc, void *p, size_t len)
{
	struct xor_ctx *x = comm_conn_xprt_ctx(xc);
	unsigned char *q = p;
	ssize_t r, i;

	x->recvs++;
	r = read(comm_conn_fd(xc), p, len);
	if (r == -1)
		return (-errno);
	for (i = 0; i < r; i++)
		q[i] ^= 0x20;
	return (r);
}

static ssize_t
xor_sendv(struct comm_conn *xc, const struct iovec *iov, int iovcnt)
{
	struct xor_ctx *x = comm_conn_xprt_ctx(xc);
	char tmp[4096];
	size_t n = 0, i;
	ssize_t r;
	int k;

	x->sends++;
	for (k = 0; k < iovcnt && n < sizeof tmp; k++)
		for (i = 0; i < iov[k].iov_len && n < sizeof tmp; i++)
			tmp[n++] = (char)(((const char *)iov[k].iov_base)[i] ^
			    0x20);
	r = send(comm_conn_fd(xc), tmp, n, MSG_NOSIGNAL);
	return (r == -1 ? -errno : r);
}

static void
xor_close(struct comm_conn *xc)
{
	struct xor_ctx *x = comm_conn_xprt_ctx(xc);

	x->closes++;
}

static const struct comm_xprt xor_xprt = {
	.name = "xor",
	.recv = xor_recv,
	.sendv = xor_sendv,
	.close = xor_close,
};

START_TEST(reads_and_writes_go_through_the_transport)
{
	struct xor_ctx x = { 0 };
	struct rec r = { 0 }, w = { 0 };
	struct buf_chain ch;
	char got[6] = { 0 };

	unix_setup();
	comm_conn_set_xprt(c, &xor_xprt, &x);
	chain_of(&ch, loop, "Hello");
	comm_writev(c, &ch, rec_done, &w);
	RUN_UNTIL(loop, w.calls > 0);
	ck_assert_int_eq(w.status, COMM_OK);
	read_all(sv[1], got, 5);
	ck_assert_str_eq(got, "hELLO");		/* what the wire carried */
	ck_assert_int_eq(write(sv[1], "WORLD", 5), 5);
	comm_read(c, NULL, 0, rec_done, &r);	/* no readable(): max */
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_str_eq(r.data, "world");
	ck_assert_int_eq(x.sends, 1);
	ck_assert_int_eq(x.recvs, 1);
	finish();
	ck_assert_int_eq(x.closes, 1);
}
END_TEST

/* -- the test seams: comm_loop_warp(), comm_loop_set_connector() ----------- */

START_TEST(warp_runs_the_timers_due_within_the_jump_only)
{
	struct comm_timer *soon, *later;
	bool soon_up = false, later_up = false;
	double t0;

	unix_setup();
	soon = comm_timer_new(loop, flag_set, &soon_up);
	later = comm_timer_new(loop, flag_set, &later_up);
	ck_assert_ptr_nonnull(soon);
	ck_assert_ptr_nonnull(later);
	comm_timer_start(soon, 3600, 0);
	comm_timer_start(later, 7200, 0);
	t0 = comm_now(loop);
	comm_loop_warp(loop, 3601);
	ck_assert(comm_now(loop) >= t0 + 3601);
	RUN_UNTIL(loop, soon_up);
	ck_assert(!later_up);
	comm_timer_free(&soon);
	comm_timer_free(&later);
	finish();
}
END_TEST

/* comm_conn_since(): when the connection was made, on comm_now()'s
 * clock; time passing (here warped) leaves it. */
START_TEST(since_is_when_the_conn_was_made)
{
	struct comm_conn *later;
	double t0;
	int p[2];

	unix_setup();
	t0 = comm_conn_since(c);
	ck_assert(t0 == comm_now(loop));
	comm_loop_warp(loop, 100);
	ck_assert(comm_conn_since(c) == t0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	later = comm_conn_new(loop, p[0]);
	ck_assert_ptr_nonnull(later);
	ck_assert(comm_conn_since(later) >= t0 + 100);
	comm_close(&later);
	close(p[1]);
	finish();
}
END_TEST

START_TEST(warp_times_out_a_pending_read)
{
	struct rec r = { 0 };

	unix_setup();
	comm_set_timeout(c, COMM_TO_READ, 60);
	comm_read(c, NULL, 0, rec_done, &r);
	comm_loop_warp(loop, 30);
	run_for(loop, 0.05);
	ck_assert_int_eq(r.calls, 0);
	comm_loop_warp(loop, 31);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_TIMEOUT);
	finish();
}
END_TEST

static int connector_fd = -1;
static struct sockaddr_in connector_addr;

static int
test_connector(const struct sockaddr *addr, socklen_t len, void *arg)
{
	int pair[2];

	ck_assert_uint_eq(len, sizeof connector_addr);
	memcpy(&connector_addr, addr, sizeof connector_addr);
	if (arg != NULL)
		return (-*(int *)arg);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	connector_fd = pair[1];
	return (pair[0]);
}

START_TEST(connector_hands_in_the_connection)
{
	struct sockaddr_in sin;
	struct buf_chain ch;
	struct rec r = { 0 }, w = { 0 };
	struct comm_conn *cc;
	char got[8];

	unix_setup();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(80);
	sin.sin_addr.s_addr = htonl(0xc0000201);	/* 192.0.2.1 */
	comm_loop_set_connector(loop, test_connector, NULL);
	test_inside_call = true;
	cc = comm_connect(loop, (struct sockaddr *)&sin, sizeof sin, 5,
	    rec_done, &r);
	test_inside_call = false;
	ck_assert_ptr_nonnull(cc);
	ck_assert_int_ge(connector_fd, 0);
	ck_assert_uint_eq(connector_addr.sin_addr.s_addr, sin.sin_addr.s_addr);
	buf_chain_init(&ch, comm_loop_pool(loop));
	ck_assert_int_eq(buf_chain_append(&ch, "hi", 2), 0);
	comm_writev(cc, &ch, rec_done, &w);
	buf_chain_fini(&ch);
	RUN_UNTIL(loop, r.calls > 0 && w.calls > 0);
	ck_assert_int_eq(r.status, COMM_OK);
	ck_assert_int_eq(w.status, COMM_OK);
	ck_assert_int_eq(read(connector_fd, got, sizeof got), 2);
	ck_assert_int_eq(memcmp(got, "hi", 2), 0);
	close(connector_fd);
	comm_close(&cc);
	finish();
}
END_TEST

START_TEST(connector_failure_is_the_connect_error)
{
	struct sockaddr_in sin;
	struct rec r = { 0 };
	struct comm_conn *cc;
	int err = ECONNREFUSED;

	unix_setup();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(80);
	comm_loop_set_connector(loop, test_connector, &err);
	test_inside_call = true;
	cc = comm_connect(loop, (struct sockaddr *)&sin, sizeof sin, 5,
	    rec_done, &r);
	test_inside_call = false;
	ck_assert_ptr_nonnull(cc);
	RUN_UNTIL(loop, r.calls > 0);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, COMM_ERROR);
	ck_assert_int_eq(r.err, ECONNREFUSED);
	comm_close(&cc);
	finish();
}
END_TEST

static Suite *
comm_io_suite(void)
{
	Suite *s = suite_create("comm_io");
	TCase *tc;

	tc = tcase_create("read");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, read_completes_from_the_loop_with_the_bytes);
	tcase_add_test(tc, bufferless_read_takes_no_block_until_readable);
	tcase_add_test(tc, read_into_a_callers_block_appends_at_fill);
	tcase_add_test(tc, read_max_limits_one_read);
	tcase_add_test(tc, read_reports_eof_when_the_peer_closes);
	tcase_add_test(tc, peek_waits_for_its_count_and_consumes_nothing);
	tcase_add_test(tc, peek_short_when_the_peer_closes);
	tcase_add_test(tc, peek_times_out_and_cancels_once);
	tcase_add_test(tc, read_cancel_completes_cancelled_once);
	tcase_add_test(tc, read_close_completes_cancelled_once);
	tcase_add_test(tc, read_timeout_completes_timeout_once);
	tcase_add_test(tc,
	    read_into_a_block_filled_meanwhile_is_an_error_not_eof);
	tcase_add_test_raise_signal(tc, two_pending_reads_are_a_bug, SIGABRT);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, write_completes_ok_when_all_bytes_are_out);
	tcase_add_test(tc,
	    partial_writes_with_a_tiny_sndbuf_arrive_whole_and_in_order);
	tcase_add_test(tc, more_than_iov_max_slices_go_out_in_several_writevs);
	tcase_add_test(tc, queued_writes_share_one_writev);
	tcase_add_test(tc,
	    writes_queued_from_a_write_callback_keep_their_order);
	tcase_add_test(tc, empty_write_completes_ok_in_turn);
	tcase_add_test(tc, write_cancel_completes_cancelled_with_bytes_done);
	tcase_add_test(tc, write_close_completes_cancelled_once);
	tcase_add_test(tc, write_timeout_fails_the_queue_and_later_writes);
	tcase_add_test(tc, peer_reset_mid_write_is_an_error_not_sigpipe);
	tcase_add_test(tc,
	    write_without_memory_fails_it_the_queue_and_later_writes);
	tcase_add_test(tc, write_without_memory_then_close_completes_once);
	tcase_add_test(tc,
	    writes_without_memory_past_the_reserve_complete_once_in_order);
	tcase_add_test(tc,
	    write_without_memory_from_such_a_completion_completes_once);
	tcase_add_test(tc, cancel_writes_on_a_closing_conn_still_closes_it);
	tcase_add_test(tc,
	    slice_block_is_released_exactly_when_its_write_completes);
	tcase_add_test(tc,
	    dropped_block_is_intact_when_its_write_finally_goes_out);
	tcase_add_test(tc,
	    shutdown_write_sends_eof_after_the_queue_and_reads_go_on);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc,
	    close_cancels_a_read_and_three_writes_in_order_then_handler_and_fd);
	tcase_add_test(tc,
	    close_keeps_the_result_of_a_completion_already_queued);
	tcase_add_test(tc, close_from_inside_a_callback_cancels_the_rest);
	tcase_add_test(tc,
	    operations_started_on_a_closing_conn_complete_cancelled);
	tcase_add_test(tc,
	    write_with_no_memory_on_a_closing_conn_completes_cancelled);
	tcase_add_test(tc, removed_close_handler_does_not_run);
	tcase_add_test_raise_signal(tc, closing_twice_is_a_bug, SIGABRT);
	suite_add_tcase(s, tc);

	tc = tcase_create("timeout");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, idle_timeout_tears_down_with_timeout);
	tcase_add_test(tc, traffic_pushes_the_idle_timeout_back);
	tcase_add_test(tc, lifetime_timeout_tears_down_a_busy_conn);
	suite_add_tcase(s, tc);

	tc = tcase_create("seams");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, warp_runs_the_timers_due_within_the_jump_only);
	tcase_add_test(tc, warp_times_out_a_pending_read);
	tcase_add_test(tc, since_is_when_the_conn_was_made);
	tcase_add_test(tc, connector_hands_in_the_connection);
	tcase_add_test(tc, connector_failure_is_the_connect_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("xprt");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, reads_and_writes_go_through_the_transport);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(comm_io_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
