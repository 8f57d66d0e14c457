/*
 * check_store.c - store entries and readers (src/store/store_obj.c).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "buf/buf.h"
#include "comm/comm.h"
#include "http/http_msg.h"
#include "store/store.h"

struct rtest {
	struct comm_loop	*loop;
	struct buf_pool		*pool;
	struct store_entry	*e;
	struct store_reader	r;
	int			calls;
	int			room_calls;
	unsigned		room_readers;
	bool			in_store_call;
};

static void
on_progress(struct store_reader *r, void *arg)
{
	struct rtest *t = arg;

	ck_assert_ptr_eq(r, &t->r);
	ck_assert(!t->in_store_call);
	t->calls++;
}

static void
on_room(struct store_entry *e, void *arg)
{
	struct rtest *t = arg;

	ck_assert(!t->in_store_call);
	t->room_calls++;
	t->room_readers = store_entry_nreaders(e);
}

static void
run_queue(struct rtest *t)
{
	int i;

	for (i = 0; i < 3; i++)
		comm_loop_run_once(t->loop);
}

static void
setup_entry(struct rtest *t, size_t window)
{
	memset(t, 0, sizeof *t);
	t->loop = comm_loop_new();
	ck_assert_ptr_nonnull(t->loop);
	t->pool = comm_loop_pool(t->loop);
	t->e = store_entry_new(t->loop, t->pool, window);
	ck_assert_ptr_nonnull(t->e);
}

static void
set_reply(struct rtest *t)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
	struct http_parser *p = http_parser_new(HTTP_MSG_RESPONSE, 4096);
	struct http_msg m;
	size_t used;

	http_msg_init(&m, HTTP_MSG_RESPONSE);
	http_parser_start(p, &m, false);
	ck_assert_int_eq(http_parse(p, in, sizeof in - 1, &used, NULL, NULL),
	    HTTP_PARSE_HEADERS);
	t->in_store_call = true;
	store_entry_set_reply(t->e, &m);
	t->in_store_call = false;
	ck_assert_uint_eq(m.rawlen, 0);		/* moved, not copied */
	http_msg_fini(&m);
	http_parser_free(&p);
}

static struct buf *
block(struct rtest *t, const char *s)
{
	struct buf *b = buf_alloc(t->pool, strlen(s));

	buf_append(b, s, strlen(s));
	return (b);
}

static void
finish(struct rtest *t)
{
	struct buf_pool_stats st;

	store_entry_unref(&t->e);
	buf_pool_stats(t->pool, &st);
	ck_assert_uint_eq(st.pages, 0);		/* nothing left behind */
	comm_loop_free(&t->loop);
}

START_TEST(reader_is_told_from_the_loop_and_gets_shared_slices)
{
	struct rtest t;
	struct buf_chain out;
	struct buf_pool_stats st;
	struct buf *b;
	char got[16];

	setup_entry(&t, 0);
	store_reader_open(&t.r, t.e, on_progress, &t);
	store_reader_wait(&t.r);
	run_queue(&t);
	ck_assert_int_eq(t.calls, 0);		/* nothing to see yet */
	set_reply(&t);
	run_queue(&t);
	ck_assert_int_eq(t.calls, 1);
	ck_assert_uint_eq(store_entry_reply(t.e)->status, 200);

	store_reader_wait(&t.r);
	b = block(&t, "helloworld");
	t.in_store_call = true;
	ck_assert_int_eq(store_entry_append(t.e, b, 0, 5), 0);
	ck_assert_int_eq(store_entry_append(t.e, b, 5, 5), 0);
	t.in_store_call = false;
	ck_assert_int_eq(t.calls, 1);
	run_queue(&t);
	ck_assert_int_eq(t.calls, 2);		/* one call per wait */

	buf_chain_init(&out, t.pool);
	buf_pool_stats(t.pool, &st);
	ck_assert_uint_eq(store_reader_read(&t.r, &out, 3), 3);
	ck_assert_uint_eq(store_reader_read(&t.r, &out, 100), 7);
	ck_assert_ptr_eq(buf_chain_slice(&out, 0)->buf, b);
	ck_assert_uint_eq(buf_chain_copyout(&out, 0, got, sizeof got), 10);
	ck_assert(memcmp(got, "helloworld", 10) == 0);
	{
		struct buf_pool_stats st2;

		buf_pool_stats(t.pool, &st2);
		ck_assert_uint_eq(st2.copied, st.copied);
	}
	ck_assert(!store_reader_done(&t.r));
	store_reader_wait(&t.r);
	store_entry_complete(t.e);
	run_queue(&t);
	ck_assert_int_eq(t.calls, 3);
	ck_assert(store_reader_done(&t.r));

	/* The pages outlive the entry while a chain (a write) holds them. */
	buf_unref(&b);
	store_reader_close(&t.r);
	store_entry_unref(&t.e);
	memset(got, 0, sizeof got);
	ck_assert_uint_eq(buf_chain_copyout(&out, 0, got, sizeof got), 10);
	ck_assert(memcmp(got, "helloworld", 10) == 0);
	buf_chain_fini(&out);
	t.e = NULL;
	finish(&t);
}
END_TEST

START_TEST(abort_reaches_the_reader_and_is_not_done)
{
	struct rtest t;

	setup_entry(&t, 0);
	store_reader_open(&t.r, t.e, on_progress, &t);
	set_reply(&t);
	store_reader_wait(&t.r);
	run_queue(&t);
	store_reader_wait(&t.r);
	store_entry_abort(t.e, STORE_ERR_READ_TIMEOUT, 0);
	store_entry_abort(t.e, STORE_ERR_DNS, 5);	/* the first one wins */
	run_queue(&t);
	ck_assert_int_eq(t.calls, 2);
	ck_assert_int_eq(store_entry_state(t.e), STORE_ABORTED);
	ck_assert_int_eq(store_entry_error(t.e, NULL), STORE_ERR_READ_TIMEOUT);
	ck_assert_str_eq(store_err_text(STORE_ERR_DNS),
	    "the host name could not be resolved");
	ck_assert(!store_reader_done(&t.r));
	store_reader_close(&t.r);
	finish(&t);
}
END_TEST

START_TEST(private_window_makes_the_writer_wait_for_the_reader)
{
	struct rtest t;
	struct buf_chain out;
	struct buf *b;

	setup_entry(&t, 8);
	store_reader_open(&t.r, t.e, on_progress, &t);
	set_reply(&t);
	b = block(&t, "0123456789");
	ck_assert_uint_eq(store_entry_room(t.e), 8);
	ck_assert_int_eq(store_entry_append(t.e, b, 0, 8), 0);
	ck_assert_uint_eq(store_entry_room(t.e), 0);
	store_entry_wait_room(t.e, on_room, &t);
	run_queue(&t);
	ck_assert_int_eq(t.room_calls, 0);	/* full: the writer waits */

	buf_chain_init(&out, t.pool);
	t.in_store_call = true;
	ck_assert_uint_eq(store_reader_read(&t.r, &out, 5), 5);
	t.in_store_call = false;
	run_queue(&t);
	ck_assert_int_eq(t.room_calls, 1);
	ck_assert_uint_eq(store_entry_room(t.e), 5);	/* bytes dropped */
	buf_chain_fini(&out);

	/* The last reader leaving wakes the writer too. */
	store_entry_wait_room(t.e, on_room, &t);
	run_queue(&t);
	ck_assert_int_eq(t.room_calls, 2);		/* room already */
	ck_assert_int_eq(store_entry_append(t.e, b, 8, 2), 0);
	ck_assert_int_eq(store_entry_append(t.e, b, 0, 3), 0);
	ck_assert_uint_eq(store_entry_room(t.e), 0);
	store_entry_wait_room(t.e, on_room, &t);
	store_reader_close(&t.r);
	run_queue(&t);
	ck_assert_int_eq(t.room_calls, 3);
	ck_assert_uint_eq(t.room_readers, 0);
	buf_unref(&b);
	finish(&t);
}
END_TEST

START_TEST(close_withdraws_a_queued_notification)
{
	struct rtest t;

	setup_entry(&t, 0);
	store_reader_open(&t.r, t.e, on_progress, &t);
	set_reply(&t);
	store_reader_wait(&t.r);	/* news already: posted at once */
	store_reader_close(&t.r);
	run_queue(&t);
	ck_assert_int_eq(t.calls, 0);
	finish(&t);
}
END_TEST

START_TEST(two_readers_of_a_kept_entry_read_everything)
{
	struct rtest t;
	struct store_reader r2;
	struct buf_chain a, b2;
	struct buf *b;

	setup_entry(&t, 0);
	store_reader_open(&t.r, t.e, on_progress, &t);
	set_reply(&t);
	b = block(&t, "abcdef");
	ck_assert_int_eq(store_entry_append(t.e, b, 0, 6), 0);
	ck_assert_uint_eq(store_entry_room(t.e), SIZE_MAX);
	buf_chain_init(&a, t.pool);
	buf_chain_init(&b2, t.pool);
	ck_assert_uint_eq(store_reader_read(&t.r, &a, 100), 6);
	store_reader_open(&r2, t.e, on_progress, &t);	/* a late joiner */
	ck_assert_uint_eq(store_entry_nreaders(t.e), 2);
	ck_assert_uint_eq(store_reader_read(&r2, &b2, 4), 4);
	ck_assert_uint_eq(store_reader_read(&r2, &b2, 4), 2);
	store_entry_complete(t.e);
	ck_assert(store_reader_done(&t.r) && store_reader_done(&r2));
	store_reader_close(&r2);
	store_reader_close(&t.r);
	buf_chain_fini(&a);
	buf_chain_fini(&b2);
	buf_unref(&b);
	finish(&t);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("entry");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, reader_is_told_from_the_loop_and_gets_shared_slices);
	tcase_add_test(tc, abort_reaches_the_reader_and_is_not_done);
	tcase_add_test(tc, private_window_makes_the_writer_wait_for_the_reader);
	tcase_add_test(tc, close_withdraws_a_queued_notification);
	tcase_add_test(tc, two_readers_of_a_kept_entry_read_everything);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
