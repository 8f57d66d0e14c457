/*
 * check_store.c - store entries and readers (src/store/store_obj.c and
 * the files beside it), keys (store_key.c) and the memory cache
 * (store_index.c).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
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

static store_reader_fn on_nothing;

/* An interim reply, parsed as fwd parses it, moved into t->e. */
static void
add_interim(struct rtest *t, unsigned status)
{
	char in[64];
	struct http_parser *p = http_parser_new(HTTP_MSG_RESPONSE, 4096);
	struct http_msg m;
	size_t used;
	int n;

	n = snprintf(in, sizeof in, "HTTP/1.1 %u Hint\r\nLink: <x>\r\n\r\n",
	    status);
	http_msg_init(&m, HTTP_MSG_RESPONSE);
	http_parser_start(p, &m, false);
	ck_assert_int_eq(http_parse(p, in, (size_t)n, &used, NULL, NULL),
	    HTTP_PARSE_HEADERS);
	t->in_store_call = true;
	ck_assert_int_eq(store_entry_add_interim(t->e, &m), 0);
	t->in_store_call = false;
	ck_assert_uint_eq(m.rawlen, 0);		/* moved, not copied */
	http_msg_fini(&m);
	http_parser_free(&p);
}

START_TEST(interim_replies_reach_waiting_readers_in_order)
{
	struct rtest t;
	struct store_reader r2, r3;
	const struct http_msg *m;

	setup_entry(&t, 0);
	store_reader_open(&t.r, t.e, t.loop, on_progress, &t);
	store_reader_open(&r2, t.e, t.loop, on_nothing, NULL);
	store_reader_wait(&t.r);
	add_interim(&t, 103);
	run_queue(&t);
	ck_assert_int_eq(t.calls, 1);	/* news: told from the loop */
	add_interim(&t, 102);
	m = store_reader_interim(&t.r);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->status, 103);
	ck_assert_uint_eq(store_reader_interim(&t.r)->status, 102);
	ck_assert_ptr_null(store_reader_interim(&t.r));
	/* Waiting again with nothing new: no call (no busy loop). */
	store_reader_wait(&t.r);
	run_queue(&t);
	ck_assert_int_eq(t.calls, 1);
	set_reply(&t);
	run_queue(&t);
	ck_assert_int_eq(t.calls, 2);
	/* r2 has not taken its interim replies: they stay for it. */
	ck_assert_uint_eq(store_reader_interim(&r2)->status, 103);
	/* A reader that came after the final reply gets none. */
	store_reader_open(&r3, t.e, t.loop, on_nothing, NULL);
	ck_assert_ptr_null(store_reader_interim(&r3));
	store_reader_close(&r3);
	store_reader_close(&r2);	/* the last one behind: they go */
	ck_assert_ptr_null(store_reader_interim(&t.r));
	store_reader_close(&t.r);
	finish(&t);
}
END_TEST

START_TEST(interim_replies_are_never_part_of_the_stored_entry)
{
	struct rtest t;
	struct store_index *idx;
	struct store_limits lim = { .cache_mem = 1 << 20 };
	struct store_key k;
	struct store_entry *hit;
	struct store_reader r;
	struct buf_chain out;
	struct buf *b;
	uint64_t before;
	unsigned i;

	setup_entry(&t, 0);
	idx = store_index_new(t.loop, t.pool, &lim);
	ck_assert_ptr_nonnull(idx);
	store_key_make(&k, "GET", 3, "http://a/", 9, NULL, 0);
	ck_assert_int_eq(store_index_add(idx, t.e, &k, 0), 0);
	store_reader_open(&t.r, t.e, t.loop, on_progress, &t);
	before = store_entry_mem(t.e);
	/* More than are kept: the rest are dropped, not queued. */
	for (i = 0; i < STORE_INTERIM_MAX + 3; i++)
		add_interim(&t, 103);
	ck_assert_uint_eq(store_entry_mem(t.e), before);	/* not counted */
	set_reply(&t);
	b = block(&t, "helloworld");
	ck_assert_int_eq(store_entry_append(t.e, b, 0, 10), 0);
	buf_unref(&b);
	store_entry_complete(t.e);
	for (i = 0; i < STORE_INTERIM_MAX; i++)
		ck_assert_ptr_nonnull(store_reader_interim(&t.r));
	ck_assert_ptr_null(store_reader_interim(&t.r));
	store_reader_close(&t.r);
	store_entry_unref(&t.e);		/* sealed now */
	hit = store_index_lookup(idx, &k);
	ck_assert_ptr_nonnull(hit);
	store_reader_open(&r, hit, t.loop, on_nothing, NULL);
	ck_assert_ptr_null(store_reader_interim(&r));
	buf_chain_init(&out, t.pool);
	ck_assert_uint_eq(store_reader_read(&r, &out, 100), 10);
	buf_chain_fini(&out);
	store_reader_close(&r);
	store_entry_unref(&hit);
	store_index_free(&idx);
	finish(&t);
}
END_TEST

START_TEST(interim_replies_of_an_aborted_entry_go_with_it)
{
	struct rtest t;

	setup_entry(&t, 4096);
	store_reader_open(&t.r, t.e, t.loop, on_progress, &t);
	add_interim(&t, 103);
	store_entry_abort(t.e, STORE_ERR_INVALID_RESP, 0);
	/* Still handed out: the reader may pass it on before the error. */
	ck_assert_uint_eq(store_reader_interim(&t.r)->status, 103);
	/* Once ended, nothing more is taken in. */
	add_interim(&t, 103);
	ck_assert_ptr_null(store_reader_interim(&t.r));
	store_reader_close(&t.r);
	finish(&t);		/* ASan: nothing leaked */
}
END_TEST

START_TEST(reader_is_told_from_the_loop_and_gets_shared_slices)
{
	struct rtest t;
	struct buf_chain out;
	struct buf_pool_stats st;
	struct buf *b;
	char got[16];

	setup_entry(&t, 0);
	store_reader_open(&t.r, t.e, t.loop, on_progress, &t);
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
	store_reader_open(&t.r, t.e, t.loop, on_progress, &t);
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
	store_reader_open(&t.r, t.e, t.loop, on_progress, &t);
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
	store_reader_open(&t.r, t.e, t.loop, on_progress, &t);
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
	store_reader_open(&t.r, t.e, t.loop, on_progress, &t);
	set_reply(&t);
	b = block(&t, "abcdef");
	ck_assert_int_eq(store_entry_append(t.e, b, 0, 6), 0);
	ck_assert_uint_eq(store_entry_room(t.e), SIZE_MAX);
	buf_chain_init(&a, t.pool);
	buf_chain_init(&b2, t.pool);
	ck_assert_uint_eq(store_reader_read(&t.r, &a, 100), 6);
	/* a late joiner */
	store_reader_open(&r2, t.e, t.loop, on_progress, &t);
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


/* -- the memory cache ------------------------------------------------------ */

struct itest {
	struct comm_loop	*loop;
	struct buf_pool		*pool;
	struct store_index	*idx;
	struct store_limits	lim;
	struct buf		*page;		/* a 64 KiB read block */
};

#define PAGE_FILL	60000u

static unsigned char
page_byte(size_t i)
{
	return ((unsigned char)('a' + (i * 7 + i / 26) % 26));
}

static struct buf *
full_page(struct buf_pool *pool)
{
	struct buf *b = buf_alloc(pool, 65536);
	unsigned char c;
	size_t i;

	for (i = 0; i < PAGE_FILL; i++) {
		c = page_byte(i);
		buf_append(b, &c, 1);
	}
	return (b);
}

static void
itest_setup(struct itest *t, uint64_t cache_mem, enum store_policy pol)
{
	memset(t, 0, sizeof *t);
	t->loop = comm_loop_new();
	ck_assert_ptr_nonnull(t->loop);
	t->pool = comm_loop_pool(t->loop);
	t->lim.cache_mem = cache_mem;
	t->lim.policy = pol;
	t->idx = store_index_new(t->loop, t->pool, &t->lim);
	ck_assert_ptr_nonnull(t->idx);
	t->page = full_page(t->pool);
}

static void
itest_limits(struct itest *t)
{
	store_index_set_limits(t->idx, &t->lim);
}

static void
itest_finish(struct itest *t)
{
	struct buf_pool_stats st;

	store_index_free(&t->idx);
	ck_assert_ptr_null(t->idx);
	buf_unref(&t->page);
	buf_pool_stats(t->pool, &st);
	ck_assert_uint_eq(st.pages, 0);		/* nothing left behind */
	comm_loop_free(&t->loop);
}

static void
ikey(struct store_key *k, const char *name)
{
	store_key_make(k, "GET", 3, name, strlen(name), NULL, 0);
}

/* A reply with Content-Length len, or close-delimited when len < 0; n
 * extra fields. */
static struct http_msg
iparse(long len, unsigned extra)
{
	char in[1024];
	struct http_parser *p = http_parser_new(HTTP_MSG_RESPONSE, 4096);
	struct http_msg m;
	size_t used;
	int n;
	unsigned i;

	if (len >= 0)
		n = snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\n"
		    "Content-Length: %08ld\r\n", len);
	else
		n = snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\n"
		    "Connection: close\r\nX-Pad: 1234567\r\n");
	for (i = 0; i < extra; i++)
		n += snprintf(in + n, sizeof in - (size_t)n, "X-%u: v\r\n", i);
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\n");
	http_msg_init(&m, HTTP_MSG_RESPONSE);
	http_parser_start(p, &m, false);
	ck_assert_int_eq(http_parse(p, in, (size_t)n, &used, NULL, NULL),
	    HTTP_PARSE_HEADERS);
	http_parser_free(&p);
	return (m);
}

static void
ireply(struct store_entry *e, long len)
{
	struct http_msg m = iparse(len, 0);

	store_entry_set_reply(e, &m);
	http_msg_fini(&m);
}

/* A PENDING entry added under name, with its reply (cl < 0: no
 * Content-Length); the caller holds the writer's reference. */
static struct store_entry *
ibegin(struct itest *t, const char *name, long cl)
{
	struct store_entry *e = store_entry_new(t->loop, t->pool, 0);
	struct store_key k;

	ck_assert_ptr_nonnull(e);
	ikey(&k, name);
	ck_assert_int_eq(store_index_add(t->idx, e, &k, 4096), 0);
	ireply(e, cl);
	return (e);
}

/* A COMPLETE cached object of len body bytes (page bytes from 0, in
 * 1000-byte reads), held by the index alone. */
static void
iobject(struct itest *t, const char *name, size_t len)
{
	struct store_entry *e = ibegin(t, name, (long)len);
	size_t off = 0, k;

	while (off < len) {
		k = len - off < 1000 ? len - off : 1000;
		ck_assert_int_eq(store_entry_append(e, t->page,
		    off % 50000, k), 0);
		off += k;
	}
	store_entry_complete(e);
	store_entry_unref(&e);
}

struct ifind {
	struct store_key	k;
	struct store_entry	*e;
	uint64_t		mem;
	unsigned		n;
};

static void
ifind_fn(struct store_entry *e, void *arg)
{
	struct ifind *f = arg;

	f->mem += store_entry_mem(e);
	f->n++;
	if (memcmp(store_entry_key(e), &f->k, sizeof f->k) == 0)
		f->e = e;
}

/* The entry under name, found by walking: no "use", no reference. */
static struct store_entry *
iwalk(struct itest *t, const char *name)
{
	struct ifind f;

	memset(&f, 0, sizeof f);
	ikey(&f.k, name);
	store_index_walk(t->idx, ifind_fn, &f);
	return (f.e);
}

static bool
iin(struct itest *t, const char *name)
{
	return (iwalk(t, name) != NULL);
}

/* A lookup: a use. */
static bool
iuse(struct itest *t, const char *name)
{
	struct store_key k;
	struct store_entry *e;
	bool found;

	ikey(&k, name);
	e = store_index_lookup(t->idx, &k);
	found = e != NULL;
	store_entry_unref(&e);
	return (found);
}

/* stats.bytes is the sum of store_entry_mem() over the index. */
static void
iassert_accounting(struct itest *t)
{
	struct store_index_stats st;
	struct ifind f;

	memset(&f, 0, sizeof f);
	store_index_walk(t->idx, ifind_fn, &f);
	store_index_stats(t->idx, &st);
	ck_assert_uint_eq(st.bytes, f.mem);
	ck_assert_uint_eq(st.entries, f.n);
}

/* What one 1000-byte object costs in the index. */
static uint64_t
iobject_mem(void)
{
	struct itest t;
	struct store_index_stats st;

	itest_setup(&t, UINT64_MAX, STORE_POLICY_LRU);
	iobject(&t, "/probe", 1000);
	store_index_stats(t.idx, &st);
	itest_finish(&t);
	return (st.bytes);
}

static void
on_nothing(struct store_reader *r, void *arg)
{
	(void)r;
	(void)arg;
}

/* Read everything there is from r, checking it against the page bytes
 * at page offset at (bodies of iobject() under 50,000 bytes). */
static size_t
iread_check(struct store_reader *r, struct buf_pool *pool, size_t at,
    size_t max)
{
	struct buf_chain out;
	unsigned char got[4096];
	size_t n, i, total = 0;

	buf_chain_init(&out, pool);
	while ((n = store_reader_read(r, &out, max)) > 0) {
		ck_assert_uint_le(n, sizeof got);
		ck_assert_uint_eq(buf_chain_copyout(&out, 0, got, n), n);
		for (i = 0; i < n; i++)
			ck_assert_uint_eq(got[i], page_byte(at + total + i));
		buf_chain_consume(&out, n);
		total += n;
	}
	buf_chain_fini(&out);
	return (total);
}

START_TEST(key_is_stable_and_its_parts_are_delimited)
{
	struct store_key a, b;
	char hex[33];

	store_key_make(&a, "GET", 3, "http://a/", 9, NULL, 0);
	store_key_make(&b, "GET", 3, "http://a/", 9, NULL, 0);
	ck_assert(memcmp(&a, &b, sizeof a) == 0);
	/* SHA-256 of be64(3) "GET" be64(9) "http://a/", first 16 bytes. */
	ck_assert_str_eq(store_key_hex(&a, hex),
	    "0557f5e593b5807b107154774bf5e9d0");
	store_key_make(&b, "GET", 3, "http://b/", 9, NULL, 0);
	ck_assert(memcmp(&a, &b, sizeof a) != 0);
	store_key_make(&b, "HEAD", 4, "http://a/", 9, NULL, 0);
	ck_assert(memcmp(&a, &b, sizeof a) != 0);
	/* No two lists of parts give one input. */
	store_key_make(&a, "GETh", 4, "ttp://a/", 8, NULL, 0);
	store_key_make(&b, "GET", 3, "http://a/", 9, NULL, 0);
	ck_assert(memcmp(&a, &b, sizeof a) != 0);
	store_key_make(&a, "GET", 3, "http://a/", 9, "", 0);
	ck_assert(memcmp(&a, &b, sizeof a) != 0);
	store_key_make(&b, "GET", 3, "http://a/", 9, "gzip", 4);
	ck_assert(memcmp(&a, &b, sizeof a) != 0);
	store_key_make(&a, "GET", 3, "http://a/", 9, "gzip", 4);
	ck_assert(memcmp(&a, &b, sizeof a) == 0);
}
END_TEST

START_TEST(lookup_add_and_replace)
{
	struct itest t;
	struct store_entry *e1, *e2, *got;
	struct store_key k, other;
	struct store_index_stats st;

	itest_setup(&t, 1 << 20, STORE_POLICY_LRU);
	ikey(&k, "/x");
	ikey(&other, "/y");
	ck_assert_ptr_null(store_index_lookup(t.idx, &k));
	e1 = ibegin(&t, "/x", 3);
	ck_assert(store_entry_indexed(e1));
	ck_assert(memcmp(store_entry_key(e1), &k, sizeof k) == 0);
	got = store_index_lookup(t.idx, &k);
	ck_assert_ptr_eq(got, e1);		/* a PENDING entry is found */
	store_entry_unref(&got);
	ck_assert_ptr_null(store_index_lookup(t.idx, &other));

	e2 = store_entry_new(t.loop, t.pool, 0);
	ck_assert_int_eq(store_index_add(t.idx, e2, &k, 0), 0);
	ck_assert(!store_entry_indexed(e1));	/* replaced, still alive */
	ck_assert_int_eq(store_entry_state(e1), STORE_PENDING);
	got = store_index_lookup(t.idx, &k);
	ck_assert_ptr_eq(got, e2);
	store_entry_unref(&got);
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_uint_eq(st.added, 2);
	ck_assert_uint_eq(st.removed, 1);
	ck_assert_uint_eq(st.lookups, 4);
	ck_assert_uint_eq(st.hits, 2);
	ck_assert(store_index_purge(t.idx, &k));
	ck_assert(!store_index_purge(t.idx, &k));
	ck_assert(!store_entry_indexed(e2));
	store_index_remove(t.idx, e2);		/* not indexed: nothing */
	store_entry_unref(&e1);
	store_entry_unref(&e2);
	itest_finish(&t);
}
END_TEST

START_TEST(many_keys_survive_growth_and_removal)
{
	struct itest t;
	char name[32];
	unsigned i;

	itest_setup(&t, UINT64_MAX, STORE_POLICY_LRU);
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof name, "/o%u", i);
		iobject(&t, name, 10);
	}
	for (i = 0; i < 3000; i += 2) {	/* holes in the probe runs */
		struct store_key k;

		snprintf(name, sizeof name, "/o%u", i);
		ikey(&k, name);
		ck_assert(store_index_purge(t.idx, &k));
	}
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof name, "/o%u", i);
		ck_assert(iuse(&t, name) == (i % 2 == 1));
	}
	iassert_accounting(&t);
	itest_finish(&t);
}
END_TEST

START_TEST(abort_unlinks_at_once)
{
	struct itest t;
	struct store_entry *e, *got;
	struct store_key k;
	struct store_index_stats st;

	itest_setup(&t, 1 << 20, STORE_POLICY_LRU);
	e = ibegin(&t, "/x", 100);
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 10), 0);
	store_entry_abort(e, STORE_ERR_READ_TIMEOUT, 0);
	ck_assert(!store_entry_indexed(e));
	ikey(&k, "/x");
	got = store_index_lookup(t.idx, &k);
	ck_assert_ptr_null(got);
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.removed, 1);
	/* An aborted entry is never indexed again. */
	ck_assert_int_eq(store_index_add(t.idx, e, &k, 0), 0);
	ck_assert(!store_entry_indexed(e));
	store_entry_unref(&e);
	itest_finish(&t);
}
END_TEST

START_TEST(lru_evicts_the_least_recently_used)
{
	struct itest t;
	uint64_t m = iobject_mem();
	struct store_index_stats st;

	itest_setup(&t, 3 * m + m / 2, STORE_POLICY_LRU);
	iobject(&t, "/a", 1000);
	iobject(&t, "/b", 1000);
	iobject(&t, "/c", 1000);
	ck_assert(iuse(&t, "/a"));		/* newest first: a c b */
	iobject(&t, "/d", 1000);		/* d a c, b out */
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.evicted, 1);
	ck_assert(!iin(&t, "/b") && iin(&t, "/a") && iin(&t, "/c"));
	ck_assert(iuse(&t, "/c"));		/* c d a */
	iobject(&t, "/e", 1000);		/* e c d, a out */
	ck_assert(!iin(&t, "/a"));
	ck_assert(iin(&t, "/c") && iin(&t, "/d") && iin(&t, "/e"));
	iassert_accounting(&t);
	itest_finish(&t);
}
END_TEST

START_TEST(sieve_evicts_the_first_unvisited_from_the_hand)
{
	struct itest t;
	uint64_t m = iobject_mem();
	struct store_index_stats st;

	itest_setup(&t, 3 * m + m / 2, STORE_POLICY_SIEVE);
	iobject(&t, "/a", 1000);
	iobject(&t, "/b", 1000);
	iobject(&t, "/c", 1000);
	ck_assert(iuse(&t, "/a"));		/* visited; stays put */
	iobject(&t, "/d", 1000);		/* hand: a cleared, b out */
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.evicted, 1);
	ck_assert(!iin(&t, "/b") && iin(&t, "/a") && iin(&t, "/c"));
	ck_assert(iuse(&t, "/c"));
	/* The hand stayed at c: c cleared, d out.  (LRU takes a here.) */
	iobject(&t, "/e", 1000);
	ck_assert(!iin(&t, "/d"));
	ck_assert(iin(&t, "/a") && iin(&t, "/c") && iin(&t, "/e"));
	/* The hand goes on toward the head, to e: never used, out. */
	iobject(&t, "/f", 1000);
	ck_assert(!iin(&t, "/e"));
	ck_assert(iin(&t, "/a") && iin(&t, "/c") && iin(&t, "/f"));
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.evicted, 3);
	iassert_accounting(&t);
	itest_finish(&t);
}
END_TEST

/* Sealing moves an entry to a new block: it keeps its key, its place in
 * the queue and the SIEVE hand that points at it. */
START_TEST(sealing_moves_an_entry_with_its_place_and_the_hand)
{
	struct itest t;
	uint64_t m = iobject_mem();
	struct store_entry *e;
	struct store_key k;
	struct http_msg msg;

	itest_setup(&t, 3 * m + m / 2, STORE_POLICY_SIEVE);
	iobject(&t, "/a", 1000);
	iobject(&t, "/b", 1000);
	iobject(&t, "/c", 1000);
	ck_assert(iuse(&t, "/a"));
	iobject(&t, "/d", 1000);		/* b out, the hand at c */
	ck_assert(!iin(&t, "/b"));
	/* c, under the hand, gets a new header section: unsealed while
	 * held, sealed anew (moved) when let go. */
	ikey(&k, "/c");
	e = store_index_lookup(t.idx, &k);	/* visited */
	ck_assert_ptr_nonnull(e);
	msg = iparse(1000, 2);
	store_entry_update_reply(e, &msg, NULL);
	http_msg_fini(&msg);
	store_entry_unref(&e);
	ck_assert(iin(&t, "/c"));
	iassert_accounting(&t);
	/* As if c had stayed put: the hand clears c, d goes. */
	iobject(&t, "/e", 1000);
	ck_assert(!iin(&t, "/d"));
	ck_assert(iin(&t, "/a") && iin(&t, "/c") && iin(&t, "/e"));
	e = store_index_lookup(t.idx, &k);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(store_entry_reply(e)->nfields, 3);
	store_entry_unref(&e);
	iobject(&t, "/f", 1000);
	ck_assert(!iin(&t, "/e"));
	ck_assert(iin(&t, "/a") && iin(&t, "/c") && iin(&t, "/f"));
	iassert_accounting(&t);
	itest_finish(&t);
}
END_TEST

START_TEST(held_entries_are_not_freed_and_their_slices_stay_valid)
{
	struct itest t;
	uint64_t m = iobject_mem();
	struct store_reader r;
	struct store_entry *a;
	struct store_index_stats st;
	size_t n;

	itest_setup(&t, 3 * m + m / 2, STORE_POLICY_LRU);
	iobject(&t, "/a", 1000);
	iobject(&t, "/b", 1000);
	iobject(&t, "/c", 1000);
	a = iwalk(&t, "/a");			/* the oldest, not "used" */
	store_reader_open(&r, a, t.loop, on_nothing, NULL);
	ck_assert_uint_eq(iread_check(&r, t.pool, 0, 300), 1000);
	iobject(&t, "/d", 1000);		/* a is held: b goes */
	ck_assert(iin(&t, "/a") && !iin(&t, "/b"));

	/* Nothing else to take: the held entry leaves the index, and its
	 * reader and the bytes it holds go on. */
	t.lim.cache_mem = 0;
	itest_limits(&t);
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert(!store_entry_indexed(a));
	ck_assert_int_eq(store_entry_state(a), STORE_COMPLETE);
	ck_assert(store_reader_done(&r));
	{
		struct store_reader r2;

		store_reader_open(&r2, a, t.loop, on_nothing, NULL);
		n = iread_check(&r2, t.pool, 0, 77);
		ck_assert_uint_eq(n, 1000);
		store_reader_close(&r2);
	}
	store_reader_close(&r);			/* the last reference */
	itest_finish(&t);
}
END_TEST

START_TEST(max_obj_by_content_length_leaves_and_windows)
{
	struct itest t;
	struct store_entry *e;
	struct store_reader r;
	struct store_index_stats st;

	itest_setup(&t, 1 << 20, STORE_POLICY_LRU);
	t.lim.max_obj = 1000;
	itest_limits(&t);
	e = store_entry_new(t.loop, t.pool, 0);
	{
		struct store_key k;

		ikey(&k, "/big");
		ck_assert_int_eq(store_index_add(t.idx, e, &k, 4096), 0);
	}
	ck_assert(store_entry_indexed(e));
	ck_assert_uint_eq(store_entry_room(e), SIZE_MAX);
	store_reader_open(&r, e, t.loop, on_nothing, NULL);
	ireply(e, 5000);			/* says it will be too big */
	ck_assert(!store_entry_indexed(e));
	ck_assert(!iin(&t, "/big"));
	ck_assert_uint_eq(store_entry_room(e), 4096);	/* window_after */
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 3000), 0);
	ck_assert_uint_eq(store_entry_room(e), 1096);
	ck_assert_uint_eq(iread_check(&r, t.pool, 0, 1000), 3000);
	ck_assert_uint_eq(store_entry_room(e), 4096);	/* passed: dropped */
	ck_assert_int_eq(store_entry_append(e, t.page, 3000, 2000), 0);
	store_entry_complete(e);
	ck_assert_uint_eq(iread_check(&r, t.pool, 3000, 1000), 2000);
	ck_assert(store_reader_done(&r));
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.removed, 1);
	ck_assert_uint_eq(st.bytes, 0);
	store_reader_close(&r);
	store_entry_unref(&e);
	itest_finish(&t);
}
END_TEST

START_TEST(max_obj_by_growth_leaves_and_readers_go_on)
{
	struct itest t;
	struct store_entry *e;
	struct store_reader r;

	itest_setup(&t, 1 << 20, STORE_POLICY_LRU);
	t.lim.max_obj = 1000;
	itest_limits(&t);
	e = ibegin(&t, "/grow", -1);		/* close-delimited */
	store_reader_open(&r, e, t.loop, on_nothing, NULL);
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 600), 0);
	ck_assert(store_entry_indexed(e));
	ck_assert_uint_eq(iread_check(&r, t.pool, 0, 100), 600);
	ck_assert_int_eq(store_entry_append(e, t.page, 600, 600), 0);
	ck_assert(!store_entry_indexed(e));	/* 1200 > max_obj */
	ck_assert_uint_eq(store_entry_room(e), 4096 - 600);
	ck_assert_uint_eq(iread_check(&r, t.pool, 600, 100), 600);
	ck_assert_uint_eq(store_entry_room(e), 4096);
	ck_assert_int_eq(store_entry_append(e, t.page, 1200, 4096), 0);
	ck_assert_uint_eq(store_entry_room(e), 0);
	store_entry_complete(e);
	ck_assert_uint_eq(iread_check(&r, t.pool, 1200, 5000), 4096);
	ck_assert(store_reader_done(&r));
	ck_assert_uint_eq(store_entry_body_len(e), 1200 + 4096);
	store_reader_close(&r);
	store_entry_unref(&e);

	/* Bigger than all of cache_mem: it cannot stay either. */
	t.lim.max_obj = 0;
	t.lim.cache_mem = 20000;
	itest_limits(&t);
	iobject(&t, "/x", 100);
	e = ibegin(&t, "/huge", -1);
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 30000), 0);
	ck_assert(!store_entry_indexed(e));
	ck_assert(!iin(&t, "/x"));		/* evicted first, to no avail */
	store_entry_abort(e, STORE_ERR_WRITE, 0);
	store_entry_unref(&e);
	itest_finish(&t);
}
END_TEST

START_TEST(min_obj_drops_small_complete_entries)
{
	struct itest t;
	struct store_index_stats st;

	itest_setup(&t, 1 << 20, STORE_POLICY_LRU);
	t.lim.min_obj = 500;
	itest_limits(&t);
	iobject(&t, "/small", 100);
	iobject(&t, "/ok", 600);
	ck_assert(!iin(&t, "/small") && iin(&t, "/ok"));
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.removed, 1);
	t.lim.min_obj = 1000;			/* a reconfigure applies it */
	itest_limits(&t);
	ck_assert(!iin(&t, "/ok"));
	iassert_accounting(&t);
	itest_finish(&t);
}
END_TEST

START_TEST(memory_accounting_adds_up)
{
	struct itest t;
	struct store_entry *e;
	struct buf *big;
	struct store_index_stats st;
	struct http_msg m;
	struct http_cache_meta meta;

	itest_setup(&t, UINT64_MAX, STORE_POLICY_LRU);
	iobject(&t, "/0", 0);
	iobject(&t, "/10", 10);
	iobject(&t, "/1000", 1000);
	iobject(&t, "/5000", 5000);
	iobject(&t, "/40000", 40000);
	iassert_accounting(&t);
	/* A big slice is referenced: its whole block counts. */
	e = ibegin(&t, "/ref", 40000);
	big = full_page(t.pool);
	ck_assert_int_eq(store_entry_append(e, big, 0, 40000), 0);
	ck_assert_uint_ge(store_entry_mem(e), 65536);
	iassert_accounting(&t);
	store_entry_complete(e);
	store_entry_unref(&e);
	/* Pieces of one block (chunked coding) count it once. */
	e = store_entry_new(t.loop, t.pool, 0);
	ireply(e, -1);
	{
		uint64_t before = store_entry_mem(e);

		ck_assert_int_eq(store_entry_append(e, big, 0, 10), 0);
		ck_assert_int_eq(store_entry_append(e, big, 15, 10), 0);
		ck_assert_int_eq(store_entry_append(e, big, 30, 10), 0);
		ck_assert_uint_eq(store_entry_mem(e) - before,
		    65536 + 4 * sizeof(struct buf_slice));
	}
	store_entry_complete(e);
	store_entry_unref(&e);
	buf_unref(&big);
	e = ibegin(&t, "/chunked", -1);
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 33000), 0);
	ck_assert_int_eq(store_entry_append(e, t.page, 33010, 26990), 0);
	iassert_accounting(&t);
	/* A 304 refresh changes the header section. */
	m = iparse(-1, 12);
	memset(&meta, 0, sizeof meta);
	meta.lifetime = 60;
	store_entry_update_reply(e, &m, &meta);
	http_msg_fini(&m);
	ck_assert_uint_eq(store_entry_reply(e)->nfields, 14);
	ck_assert_int_eq(store_entry_meta(e)->lifetime, 60);
	ck_assert_uint_eq(store_entry_body_len(e), 59990);
	iassert_accounting(&t);
	store_entry_complete(e);
	store_entry_unref(&e);
	/* Removals give back exactly what was counted. */
	t.lim.cache_mem = 50000;
	itest_limits(&t);
	iassert_accounting(&t);
	store_index_stats(t.idx, &st);
	ck_assert_uint_le(st.bytes, 50000);
	itest_finish(&t);
}
END_TEST

START_TEST(small_appends_are_compacted_and_hits_are_zero_copy)
{
	struct itest t;
	struct store_entry *e;
	struct store_reader r;
	struct buf_chain out;
	struct buf_pool_stats ps, ps2;
	struct store_index_stats st;
	const struct http_msg *rep;

	itest_setup(&t, UINT64_MAX, STORE_POLICY_LRU);
	e = ibegin(&t, "/1k", 1024);
	rep = store_entry_reply(e);
	ck_assert_uint_le(rep->rawcap, rep->rawlen);	/* no slack (0: packed) */
	ck_assert_uint_eq(rep->fieldcap, rep->nfields);
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 512), 0);
	ck_assert_int_eq(store_entry_append(e, t.page, 512, 512), 0);
	store_entry_complete(e);
	buf_unref(&t.page);			/* the read block goes */
	buf_pool_stats(t.pool, &ps);
	ck_assert_uint_eq(ps.pages, 1);		/* one right-sized block */
	ck_assert_uint_eq(ps.bytes, 1024);
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.copied, 1024);

	/* A hit hands out slices of that block: nothing copied. */
	store_reader_open(&r, e, t.loop, on_nothing, NULL);
	buf_chain_init(&out, t.pool);
	ck_assert_uint_eq(store_reader_read(&r, &out, 4096), 1024);
	ck_assert_uint_eq(buf_chain_nslices(&out), 1);
	buf_pool_stats(t.pool, &ps2);
	ck_assert_uint_eq(ps2.pages, 1);
	ck_assert_uint_eq(ps2.copied, ps.copied);
	buf_chain_fini(&out);
	store_reader_close(&r);
	store_entry_unref(&e);

	/* A slice that fills most of its block is referenced. */
	t.page = full_page(t.pool);
	e = ibegin(&t, "/40k", 40000);
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 40000), 0);
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.copied, 1024);
	/* Without a Content-Length, own blocks double as the body grows. */
	store_entry_complete(e);
	store_entry_unref(&e);
	e = ibegin(&t, "/chunks", -1);
	{
		size_t i;

		for (i = 0; i < 64; i++)
			ck_assert_int_eq(store_entry_append(e, t.page,
			    i * 100, 100), 0);
	}
	ck_assert_uint_le(store_entry_mem(e) - sizeof(void *),
	    6400 + 6400 + 2048);
	store_entry_complete(e);
	store_entry_unref(&e);
	iassert_accounting(&t);
	itest_finish(&t);
}
END_TEST

START_TEST(set_limits_shrink_evicts_the_oldest)
{
	struct itest t;
	uint64_t m = iobject_mem();
	struct store_index_stats st;

	itest_setup(&t, UINT64_MAX, STORE_POLICY_LRU);
	iobject(&t, "/a", 1000);
	iobject(&t, "/b", 1000);
	iobject(&t, "/c", 1000);
	iobject(&t, "/d", 1000);
	iobject(&t, "/e", 1000);
	t.lim.cache_mem = 2 * m + m / 2;
	itest_limits(&t);
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.entries, 2);
	ck_assert_uint_eq(st.evicted, 3);
	ck_assert(iin(&t, "/d") && iin(&t, "/e"));
	iassert_accounting(&t);
	itest_finish(&t);
}
END_TEST

START_TEST(policy_switch_keeps_the_entries)
{
	struct itest t;
	uint64_t m = iobject_mem();
	struct store_index_stats st;

	itest_setup(&t, 3 * m + m / 2, STORE_POLICY_LRU);
	iobject(&t, "/a", 1000);
	iobject(&t, "/b", 1000);
	iobject(&t, "/c", 1000);
	t.lim.policy = STORE_POLICY_SIEVE;
	itest_limits(&t);
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.entries, 3);
	ck_assert(iuse(&t, "/a"));		/* SIEVE: visited, in place */
	iobject(&t, "/d", 1000);
	ck_assert(!iin(&t, "/b") && iin(&t, "/a"));
	t.lim.policy = STORE_POLICY_LRU;
	itest_limits(&t);
	iobject(&t, "/e", 1000);		/* LRU: the tail, a */
	ck_assert(!iin(&t, "/a"));
	ck_assert(iin(&t, "/c") && iin(&t, "/d") && iin(&t, "/e"));
	iassert_accounting(&t);
	itest_finish(&t);
}
END_TEST

START_TEST(private_and_removed_entries_leave_with_a_window)
{
	struct itest t;
	struct store_entry *e;
	struct store_reader r;

	itest_setup(&t, 1 << 20, STORE_POLICY_LRU);
	e = ibegin(&t, "/p", -1);
	ck_assert(!store_entry_private(e));
	store_reader_open(&r, e, t.loop, on_nothing, NULL);
	store_entry_set_private(e);
	ck_assert(store_entry_private(e));
	ck_assert(!store_entry_indexed(e));
	ck_assert(!iuse(&t, "/p"));
	ck_assert_uint_eq(store_entry_room(e), 4096);
	store_reader_close(&r);
	store_entry_abort(e, STORE_ERR_WRITE, 0);
	store_entry_unref(&e);

	e = ibegin(&t, "/r", -1);
	store_index_remove(t.idx, e);
	ck_assert(!store_entry_indexed(e));
	ck_assert_uint_eq(store_entry_room(e), 4096);
	store_entry_unref(&e);

	/* Freeing the index lets go of its entries; held ones live on. */
	e = ibegin(&t, "/held", 100);
	iobject(&t, "/other", 100);
	store_index_free(&t.idx);
	ck_assert(!store_entry_indexed(e));
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 100), 0);
	store_entry_complete(e);
	store_entry_unref(&e);
	itest_finish(&t);
}
END_TEST

START_TEST(reader_hint_makes_a_5000_slice_entry_cheap_to_read)
{
	struct itest t;
	struct store_entry *e;
	struct store_reader r;
	struct buf_chain out;
	unsigned char got[16];
	size_t i, n, max, off = 0;

	itest_setup(&t, UINT64_MAX, STORE_POLICY_LRU);
	e = store_entry_new(t.loop, t.pool, 0);
	ireply(e, -1);
	/* 7 bytes of every 12: 5000 slices that cannot merge. */
	for (i = 0; i < 5000; i++)
		ck_assert_int_eq(store_entry_append(e, t.page, i * 12, 7), 0);
	store_reader_open(&r, e, t.loop, on_nothing, NULL);
	buf_chain_init(&out, t.pool);
	for (max = 1; off < 35000; max = max % 13 + 1) {
		n = store_reader_read(&r, &out, max);
		ck_assert_uint_eq(n, max < 35000 - off ? max : 35000 - off);
		ck_assert_uint_eq(buf_chain_copyout(&out, 0, got, n), n);
		for (i = 0; i < n; i++)
			ck_assert_uint_eq(got[i], page_byte((off + i) / 7 *
			    12 + (off + i) % 7));
		buf_chain_consume(&out, n);
		off += n;
		/* The reader starts its next read where it stopped. */
		ck_assert_uint_eq(r.hint_slice, off == 35000 ? 4999 :
		    off / 7);
	}
	/* The last slice grows in place (a merge): the hint stays right. */
	ck_assert_int_eq(store_entry_append(e, t.page, 4999 * 12 + 7, 3), 0);
	ck_assert_uint_eq(store_reader_read(&r, &out, 100), 3);
	ck_assert_uint_eq(buf_chain_copyout(&out, 0, got, 3), 3);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(got[i], page_byte(4999 * 12 + 7 + i));
	buf_chain_fini(&out);
	store_entry_complete(e);
	ck_assert(store_reader_done(&r));
	store_reader_close(&r);
	store_entry_unref(&e);
	itest_finish(&t);
}
END_TEST

START_TEST(reader_seek)
{
	struct itest t;
	struct store_entry *e;
	struct store_reader r;

	itest_setup(&t, UINT64_MAX, STORE_POLICY_LRU);
	e = store_entry_new(t.loop, t.pool, 0);
	ireply(e, -1);
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 1000), 0);
	store_reader_open(&r, e, t.loop, on_nothing, NULL);
	store_reader_seek(&r, 500);			/* a range */
	ck_assert_uint_eq(iread_check(&r, t.pool, 500, 64), 500);
	store_reader_seek(&r, 100);			/* back: no hint */
	ck_assert_uint_eq(iread_check(&r, t.pool, 100, 64), 900);
	store_reader_seek(&r, 1500);		/* past what is there */
	ck_assert_uint_eq(iread_check(&r, t.pool, 1500, 64), 0);
	ck_assert_int_eq(store_entry_append(e, t.page, 1000, 1000), 0);
	ck_assert_uint_eq(iread_check(&r, t.pool, 1500, 64), 500);
	store_entry_complete(e);
	ck_assert(store_reader_done(&r));
	store_reader_close(&r);
	store_entry_unref(&e);
	itest_finish(&t);
}
END_TEST

/* A complete object that only the index holds is sealed: its reply, URL
 * and body in one block of exactly their size, served from there. */
START_TEST(idle_objects_are_sealed_into_one_block)
{
	static const char url[] = "http://origin.example/sealed";
	struct itest t;
	struct store_entry *e;
	struct store_reader r, r2;
	struct buf_chain a, b;
	struct buf_pool_stats ps;
	struct store_index_stats st;
	const struct http_msg *rep;
	struct store_key k;
	size_t rawlen;

	itest_setup(&t, UINT64_MAX, STORE_POLICY_LRU);
	e = ibegin(&t, "/s", 1024);
	ck_assert_int_eq(store_entry_set_url(e, url, strlen(url)), 0);
	rawlen = store_entry_reply(e)->rawlen;
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 1024), 0);
	store_entry_complete(e);
	store_entry_unref(&e);			/* the writer goes: idle */
	buf_unref(&t.page);

	/* One block: the entry, the header section, the URL and the body;
	 * all of it but the body and the header section, the block's own
	 * header included, is under 200 bytes. */
	buf_pool_stats(t.pool, &ps);
	ck_assert_uint_eq(ps.pages, 1);
	ck_assert_uint_ge(ps.bytes, 1024 + rawlen + strlen(url) + 1);
	store_index_stats(t.idx, &st);
	ck_assert_uint_gt(st.bytes, ps.bytes);
	ck_assert_uint_lt(st.bytes - 1024 - rawlen, 200);
	iassert_accounting(&t);

	/* A hit: the reply rebuilt from the block, two readers sharing
	 * slices of it, the bytes as they came. */
	ikey(&k, "/s");
	e = store_index_lookup(t.idx, &k);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(store_entry_url(e), url);
	ck_assert_uint_eq(store_entry_body_len(e), 1024);
	rep = store_entry_reply(e);
	ck_assert_ptr_nonnull(rep);
	ck_assert_uint_eq(rep->status, 200);
	ck_assert_uint_eq(rep->rawlen, rawlen);
	ck_assert_uint_eq(rep->content_length, 1024);
	ck_assert_uint_eq(rep->nfields, 1);
	store_reader_open(&r, e, t.loop, on_nothing, NULL);
	store_reader_open(&r2, e, t.loop, on_nothing, NULL);
	buf_chain_init(&a, t.pool);
	buf_chain_init(&b, t.pool);
	ck_assert_uint_eq(store_reader_read(&r, &a, 4096), 1024);
	ck_assert_uint_eq(store_reader_read(&r2, &b, 100), 100);
	ck_assert_uint_eq(buf_chain_nslices(&a), 1);
	ck_assert_ptr_eq(buf_chain_slice(&a, 0)->buf,
	    buf_chain_slice(&b, 0)->buf);
	buf_pool_stats(t.pool, &ps);
	ck_assert_uint_eq(ps.pages, 1);		/* nothing allocated */
	ck_assert(store_reader_done(&r));
	store_reader_close(&r);

	/* Purged while r2 reads: r2 still gets every byte. */
	ck_assert(store_index_purge(t.idx, &k));
	store_entry_unref(&e);
	ck_assert_uint_eq(iread_check(&r2, t.pool, 100, 4096), 924);
	store_reader_close(&r2);
	ck_assert_uint_eq(buf_chain_len(&a), 1024);
	buf_chain_fini(&b);
	buf_pool_stats(t.pool, &ps);
	ck_assert_uint_eq(ps.pages, 1);		/* a's slice pins it */
	buf_chain_fini(&a);
	buf_pool_stats(t.pool, &ps);
	ck_assert_uint_eq(ps.pages, 0);
	itest_finish(&t);
}
END_TEST

/* A 304 refreshes a sealed object's header section: a reader already
 * under way goes on with the bytes it had, the next one sees the new
 * reply, the body is the same, and the object seals again. */
START_TEST(sealed_object_takes_a_new_reply_and_seals_again)
{
	struct itest t;
	struct store_entry *e;
	struct store_reader r;
	struct buf_chain part;
	struct buf_pool_stats ps;
	struct http_msg m;
	struct store_key k;
	size_t before;

	itest_setup(&t, UINT64_MAX, STORE_POLICY_SIEVE);
	iobject(&t, "/r", 3000);
	ikey(&k, "/r");
	e = store_index_lookup(t.idx, &k);
	ck_assert_ptr_nonnull(e);
	before = store_entry_reply(e)->rawlen;
	store_reader_open(&r, e, t.loop, on_nothing, NULL);
	buf_chain_init(&part, t.pool);
	ck_assert_uint_eq(store_reader_read(&r, &part, 1000), 1000);

	m = iparse(3000, 3);			/* three more fields */
	store_entry_update_reply(e, &m, NULL);
	http_msg_fini(&m);
	ck_assert_uint_eq(store_entry_reply(e)->nfields, 4);
	ck_assert_uint_gt(store_entry_reply(e)->rawlen, before);
	ck_assert_uint_eq(store_entry_body_len(e), 3000);
	iassert_accounting(&t);
	/* r reads on: the body did not move under it. */
	ck_assert_uint_eq(iread_check(&r, t.pool, 1000, 1000), 2000);
	buf_chain_fini(&part);
	store_reader_close(&r);
	store_entry_unref(&e);
	iassert_accounting(&t);

	/* Idle again: sealed again, one block (the page aside). */
	buf_pool_stats(t.pool, &ps);
	ck_assert_uint_eq(ps.pages, 2);
	e = store_index_lookup(t.idx, &k);
	ck_assert_uint_eq(store_entry_reply(e)->nfields, 4);
	store_reader_open(&r, e, t.loop, on_nothing, NULL);
	ck_assert_uint_eq(iread_check(&r, t.pool, 0, 4096), 3000);
	store_reader_close(&r);
	store_entry_unref(&e);
	itest_finish(&t);
}
END_TEST

/* What is not sealed stays live and is served the same: a body above
 * the seal size, an entry out of the index, one a reader still holds. */
START_TEST(large_and_held_objects_stay_as_they_came)
{
	struct itest t;
	struct store_entry *e;
	struct store_reader r;
	struct buf_pool_stats ps;
	struct store_key k;

	itest_setup(&t, UINT64_MAX, STORE_POLICY_LRU);
	/* 40,000 bytes referenced in the read page: no copy, no seal. */
	e = ibegin(&t, "/big", 40000);
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 40000), 0);
	store_entry_complete(e);
	store_entry_unref(&e);
	buf_pool_stats(t.pool, &ps);
	ck_assert_uint_eq(ps.pages, 1);		/* the page, shared */
	ikey(&k, "/big");
	e = store_index_lookup(t.idx, &k);
	store_reader_open(&r, e, t.loop, on_nothing, NULL);
	ck_assert_uint_eq(iread_check(&r, t.pool, 0, 4096), 40000);
	store_reader_close(&r);
	store_entry_unref(&e);

	/* Completed while a reader holds it: sealed only once it goes. */
	e = ibegin(&t, "/held", 500);
	store_reader_open(&r, e, t.loop, on_nothing, NULL);
	ck_assert_int_eq(store_entry_append(e, t.page, 0, 500), 0);
	store_entry_complete(e);
	store_entry_unref(&e);
	buf_pool_stats(t.pool, &ps);
	ck_assert_uint_eq(ps.pages, 2);		/* page + own 500 B block */
	ck_assert_uint_eq(iread_check(&r, t.pool, 0, 100), 500);
	store_reader_close(&r);
	buf_pool_stats(t.pool, &ps);
	ck_assert_uint_eq(ps.pages, 2);		/* page + sealed block */
	iassert_accounting(&t);
	itest_finish(&t);
}
END_TEST

/* 100,000 objects of 1 KiB, each read into its own 64 KiB block as fwd
 * does: once sealed, the pool holds one block per object (the entry,
 * the header section, the body), and the index counts under 200 bytes
 * per object beyond the body and the header section. */
START_TEST(hundred_thousand_small_objects_pin_only_their_bytes)
{
	struct itest t;
	struct store_entry *e;
	struct buf *rd;
	struct buf_pool_stats ps;
	struct store_index_stats st;
	const unsigned n = 100000;
	static unsigned char body[1124];
	char name[32];
	unsigned i;
	size_t rawlen = 0;

	itest_setup(&t, UINT64_MAX, STORE_POLICY_SIEVE);
	buf_unref(&t.page);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "/obj/%u", i);
		e = ibegin(&t, name, 1024);
		rawlen = store_entry_reply(e)->rawlen;
		rd = buf_alloc(t.pool, 65536);
		buf_append(rd, body, sizeof body);
		ck_assert_int_eq(store_entry_append(e, rd, 100, 1024), 0);
		buf_unref(&rd);
		store_entry_complete(e);
		store_entry_unref(&e);
	}
	buf_pool_stats(t.pool, &ps);
	ck_assert_uint_eq(ps.pages, n);
	ck_assert_uint_le(ps.bytes / n, 1024 + rawlen + 200);
	store_index_stats(t.idx, &st);
	ck_assert_uint_eq(st.entries, n);
	ck_assert_uint_lt(st.bytes / n, 1024 + rawlen + 200);
	iassert_accounting(&t);
	itest_finish(&t);
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
	tcase_add_test(tc, reader_hint_makes_a_5000_slice_entry_cheap_to_read);
	tcase_add_test(tc, reader_seek);
	tcase_add_test(tc, interim_replies_reach_waiting_readers_in_order);
	tcase_add_test(tc, interim_replies_are_never_part_of_the_stored_entry);
	tcase_add_test(tc, interim_replies_of_an_aborted_entry_go_with_it);
	suite_add_tcase(s, tc);

	tc = tcase_create("index");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, key_is_stable_and_its_parts_are_delimited);
	tcase_add_test(tc, lookup_add_and_replace);
	tcase_add_test(tc, many_keys_survive_growth_and_removal);
	tcase_add_test(tc, abort_unlinks_at_once);
	tcase_add_test(tc, lru_evicts_the_least_recently_used);
	tcase_add_test(tc, sieve_evicts_the_first_unvisited_from_the_hand);
	tcase_add_test(tc, sealing_moves_an_entry_with_its_place_and_the_hand);
	tcase_add_test(tc,
	    held_entries_are_not_freed_and_their_slices_stay_valid);
	tcase_add_test(tc, max_obj_by_content_length_leaves_and_windows);
	tcase_add_test(tc, max_obj_by_growth_leaves_and_readers_go_on);
	tcase_add_test(tc, min_obj_drops_small_complete_entries);
	tcase_add_test(tc, memory_accounting_adds_up);
	tcase_add_test(tc, small_appends_are_compacted_and_hits_are_zero_copy);
	tcase_add_test(tc, set_limits_shrink_evicts_the_oldest);
	tcase_add_test(tc, policy_switch_keeps_the_entries);
	tcase_add_test(tc, private_and_removed_entries_leave_with_a_window);
	tcase_add_test(tc, idle_objects_are_sealed_into_one_block);
	tcase_add_test(tc, sealed_object_takes_a_new_reply_and_seals_again);
	tcase_add_test(tc, large_and_held_objects_stay_as_they_came);
	suite_add_tcase(s, tc);

	/* Slow under the sanitizers, and slower on a loaded machine. */
	tc = tcase_create("scale");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, hundred_thousand_small_objects_pin_only_their_bytes);
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
