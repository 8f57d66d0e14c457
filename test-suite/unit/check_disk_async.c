/*
 * check_disk_async.c - the disk store on a loop: writes started on comm's
 * file I/O engine and never waited for, reads by disk_store_get_start()
 * completed from the loop, from memory (the open region, a sealed region
 * still being written) and from the file, checked like synchronous ones;
 * a store closed with reads and writes out loses nothing written and
 * ends every read once.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf/buf.h"
#include "comm/comm.h"
#include "comm/comm_file.h"
#include "disk/disk.h"
#include "disk/disk_index.h"

#define RSIZE		(64u * 1024)

static char path[64];
static bool inside_call;
/* The file I/O back-end of this run (loop tests: threads, then io_uring
 * where the kernel allows it). */
static enum comm_fio_kind fio_kind = COMM_FIO_THREADS;
/* Stores opened by env_open() keep no copies of what is read (FIFO). */
static bool fifo_only;

static void
setup(void)
{
	int fd;

	snprintf(path, sizeof path, "/tmp/check_disk_async.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(path);
}

static void
teardown(void)
{
	unlink(path);
}

static void
make_key(uint8_t *k, unsigned id)
{
	uint64_t z = id * 0x9e3779b97f4a7c15ULL + 7;
	unsigned i;

	for (i = 0; i < DISK_KEY_LEN; i += 8) {
		z = (z ^ (z >> 29)) * 0xbf58476d1ce4e5b9ULL + i;
		memcpy(k + i, &z, 8);
	}
}

/* Object id's body: its size and bytes follow from id; every 9th is
 * large enough to be written as chunks. */
static size_t
obj_size(unsigned id)
{
	return (id % 9 == 4 ? 40000 + id * 37 % 20000 : id * 131 % 3000);
}

static uint8_t
obj_byte(unsigned id, size_t i)
{
	return ((uint8_t)(id * 31 + i * 13 + (i >> 8)));
}

/* Object id with a body of size bytes of obj_byte(id, ...). */
static void
put_sized(struct disk_store *ds, unsigned id, size_t size)
{
	char url[64], hdrs[64];
	struct disk_obj o;
	uint8_t *body;
	size_t i;

	memset(&o, 0, sizeof o);
	make_key(o.key, id);
	o.url_len = (size_t)snprintf(url, sizeof url, "http://o.test/%u", id);
	o.url = url;
	o.hdr_len = (size_t)snprintf(hdrs, sizeof hdrs,
	    "HTTP/1.1 200 OK\r\nX-Id: %u\r\n\r\n", id);
	o.hdrs = hdrs;
	o.body_len = size;
	body = malloc(o.body_len + 1);
	ck_assert_ptr_nonnull(body);
	for (i = 0; i < o.body_len; i++)
		body[i] = obj_byte(id, i);
	o.body = body;
	ck_assert_int_eq(disk_store_put(ds, &o), 0);
	free(body);
}

static void
put(struct disk_store *ds, unsigned id)
{
	put_sized(ds, id, obj_size(id));
}

struct greq {
	unsigned	id;
	int		calls;
	int		err;
	bool		same;	/* url, headers and body as written */
};

static void
got_done(int err, const struct disk_got *got, void *arg)
{
	struct greq *r = arg;
	char url[64];
	size_t i, n, at = 0;
	unsigned k;

	ck_assert_msg(!inside_call, "completion ran inside its call");
	r->calls++;
	r->err = err;
	if (err != 0) {
		ck_assert_ptr_null(got);
		return;
	}
	n = (size_t)snprintf(url, sizeof url, "http://o.test/%u", r->id);
	r->same = got->url_len == n && memcmp(got->url, url, n) == 0 &&
	    buf_chain_len(&got->body) == obj_size(r->id);
	for (k = 0; r->same && k < buf_chain_nslices(&got->body); k++) {
		const struct buf_slice *s = buf_chain_slice(&got->body, k);
		const unsigned char *p = buf_slice_ptr(s);

		for (i = 0; i < s->len; i++, at++)
			if (p[i] != obj_byte(r->id, at))
				r->same = false;
	}
}

struct env {
	struct comm_loop	*loop;
	struct comm_fio		*fio;
	struct disk_store	*ds;
};

/* The region size env_open() creates and opens stores with. */
static uint32_t env_rsize = RSIZE;

static void
env_open(struct env *e, bool create)
{
	struct disk_store_opts o = {
		.region_size = env_rsize,
		.no_sync = false,
		.no_reinsert = fifo_only,
	};
	int err;

	if (e->loop == NULL) {
		e->loop = comm_loop_new();
		ck_assert_ptr_nonnull(e->loop);
		e->fio = comm_fio_new(e->loop, fio_kind, 2, &err);
		if (e->fio == NULL && fio_kind == COMM_FIO_URING)
			e->fio = comm_fio_new(e->loop, COMM_FIO_THREADS, 2,
			    &err);
		ck_assert_ptr_nonnull(e->fio);
	}
	if (create)
		ck_assert_int_eq(disk_store_create(path, 64 * (uint64_t)
		    env_rsize + DISK_SB_SIZE, &o, false), 0);
	o.fio = e->fio;
	e->ds = disk_store_open(path, &o, &err, NULL);
	ck_assert_ptr_nonnull(e->ds);
}

/* Run until every file operation is done. */
static void
env_drain(struct env *e)
{
	struct comm_fio_stats st;
	int spins = 0;

	for (;;) {
		comm_fio_stats(e->fio, &st);
		if (st.outstanding == 0)
			return;
		comm_loop_run_once(e->loop);
		ck_assert_int_lt(++spins, 1000000);
	}
}

static void
env_free(struct env *e)
{
	struct buf_pool_stats st;

	if (e->ds != NULL)
		ck_assert_int_eq(disk_store_close(&e->ds), 0);
	comm_fio_free(&e->fio);
	comm_loop_run_once(e->loop);
	buf_pool_stats(comm_loop_pool(e->loop), &st);
	ck_assert_uint_eq(st.pages, 0);
	comm_loop_free(&e->loop);
}

static void
get_all(struct env *e, unsigned from, unsigned to, int want)
{
	struct greq *r = calloc(to - from, sizeof *r);
	uint8_t key[DISK_KEY_LEN];
	unsigned id, left;
	int spins = 0, x;

	ck_assert_ptr_nonnull(r);
	for (id = from; id < to; id++) {
		r[id - from].id = id;
		make_key(key, id);
		inside_call = true;
		x = disk_store_get_start(e->ds, key, got_done, &r[id - from]);
		inside_call = false;
		ck_assert_int_eq(x, 0);
	}
	do {
		comm_loop_run_once(e->loop);
		ck_assert_int_lt(++spins, 1000000);
		for (left = 0, id = from; id < to; id++)
			left += r[id - from].calls == 0;
	} while (left > 0);
	for (id = from; id < to; id++) {
		ck_assert_int_eq(r[id - from].calls, 1);
		ck_assert_int_eq(r[id - from].err, want);
		if (want == 0)
			ck_assert_msg(r[id - from].same, "object %u differs",
			    id);
	}
	free(r);
}

/* A gate the file threads wait at before each system call: nothing
 * reaches the file (or is read from it) until the test opens it. */
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
gate_close(struct env *e)
{
	ck_assert_int_eq(pipe(gate), 0);
	comm_fio_set_hook(e->fio, gate_hook, NULL);
}

/* Let every waiting and later operation through. */
static void
gate_open(void)
{
	close(gate[1]);
}

START_TEST(reads_from_memory_then_from_the_file)
{
	struct env e = { 0 };
	uint8_t key[DISK_KEY_LEN];
	unsigned id;

	env_open(&e, true);
	gate_close(&e);
	/* Enough to seal several regions: with the file threads held,
	 * every object is in a sealed image still being written or in the
	 * open region, and must be read from there. */
	for (id = 0; id < 200; id++)
		put(e.ds, id);
	ck_assert_uint_gt(disk_store_stat(e.ds, DISK_STAT_sealed), 2);
	get_all(&e, 0, 200, 0);
	gate_open();
	ck_assert_int_eq(disk_store_flush(e.ds), 0);
	env_drain(&e);
	get_all(&e, 0, 200, 0);
	make_key(key, 999);
	ck_assert_int_eq(disk_store_get_start(e.ds, key, got_done, NULL),
	    -ENOENT);
	ck_assert_uint_gt(disk_store_stat(e.ds, DISK_STAT_sealed), 2);
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_open(&e, false);
	get_all(&e, 0, 200, 0);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_get_corrupt), 0);
	env_free(&e);
}
END_TEST

/* Closing with writes out: what was put is in the file, sealed regions
 * with their footers, whatever the threads had still to do. */
START_TEST(close_with_writes_out_loses_nothing)
{
	struct env e = { 0 };
	struct disk_store_opts o = { .region_size = RSIZE, .no_sync = true };
	struct disk_store *ds;
	struct disk_obj got;
	uint8_t key[DISK_KEY_LEN];
	unsigned id;
	int err;

	env_open(&e, true);
	gate_close(&e);
	for (id = 0; id < 300; id++)
		put(e.ds, id);
	/* The threads are held: every write is still out. */
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	ds = disk_store_open(path, &o, &err, NULL);
	ck_assert_ptr_nonnull(ds);
	ck_assert_uint_gt(disk_store_stat(ds, DISK_STAT_scan_footers), 2);
	for (id = 0; id < 300; id++) {
		make_key(key, id);
		ck_assert_int_eq(disk_store_get(ds, key, &got), 0);
		ck_assert_uint_eq(got.body_len, obj_size(id));
		disk_obj_fini(&got);
	}
	ck_assert_int_eq(disk_store_close(&ds), 0);
	gate_open();
	env_free(&e);
}
END_TEST

START_TEST(a_damaged_record_is_a_counted_miss)
{
	struct env e = { 0 };
	uint8_t key[DISK_KEY_LEN], junk[16];
	int fd;

	fio_kind = _i == 0 ? COMM_FIO_THREADS : COMM_FIO_URING;
	env_open(&e, true);
	put(e.ds, 1);
	put(e.ds, 2);
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_drain(&e);
	/* Object 1 is the first record of region 0: after its header. */
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	memset(junk, 0xa5, sizeof junk);
	ck_assert_int_eq(pwrite(fd, junk, sizeof junk,
	    DISK_SB_SIZE + 64 + 40), (ssize_t)sizeof junk);
	close(fd);
	env_open(&e, false);
	/* The open region is scanned record by record: the damaged one is
	 * not even indexed.  Seal and damage again for the read's check. */
	make_key(key, 1);
	ck_assert_int_eq(disk_store_get_start(e.ds, key, got_done, NULL),
	    -ENOENT);
	get_all(&e, 2, 3, 0);
	env_free(&e);
}
END_TEST

/* A sealed region is indexed from its footer, unread: damage found by
 * the read drops the entry. */
START_TEST(damage_under_a_footer_fails_the_read)
{
	struct env e = { 0 };
	uint8_t key[DISK_KEY_LEN], junk[16];
	unsigned id;
	int fd;

	fio_kind = _i == 0 ? COMM_FIO_THREADS : COMM_FIO_URING;
	env_open(&e, true);
	for (id = 0; id < 100; id++)
		put(e.ds, id);
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_drain(&e);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	memset(junk, 0x5a, sizeof junk);
	/* Bytes inside region 0's first records. */
	ck_assert_int_eq(pwrite(fd, junk, sizeof junk,
	    DISK_SB_SIZE + 64 + 40), (ssize_t)sizeof junk);
	close(fd);
	env_open(&e, false);
	ck_assert_uint_ge(disk_store_stat(e.ds, DISK_STAT_scan_footers), 1);
	get_all(&e, 0, 1, -EBADMSG);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_get_corrupt), 1);
	make_key(key, 0);
	ck_assert_int_eq(disk_store_get_start(e.ds, key, got_done, NULL),
	    -ENOENT);
	get_all(&e, 1, 100, 0);
	env_free(&e);
}
END_TEST

START_TEST(close_with_reads_out_ends_each_once)
{
	struct env e = { 0 };
	struct greq r[20];
	uint8_t key[DISK_KEY_LEN];
	unsigned id;
	int spins = 0, left;

	fio_kind = _i == 0 ? COMM_FIO_THREADS : COMM_FIO_URING;
	env_open(&e, true);
	for (id = 0; id < 100; id++)
		put(e.ds, id);
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_drain(&e);
	env_open(&e, false);
	memset(r, 0, sizeof r);
	for (id = 0; id < 20; id++) {
		r[id].id = id * 4;
		make_key(key, id * 4);
		ck_assert_int_eq(disk_store_get_start(e.ds, key, got_done,
		    &r[id]), 0);
	}
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	do {
		comm_loop_run_once(e.loop);
		ck_assert_int_lt(++spins, 100000);
		for (left = 0, id = 0; id < 20; id++)
			left += r[id].calls == 0;
	} while (left > 0);
	for (id = 0; id < 20; id++) {
		ck_assert_int_eq(r[id].calls, 1);
		ck_assert_int_eq(r[id].err, -ECANCELED);
	}
	env_free(&e);
}
END_TEST

/* A stream: its parts, in order, one chunk per disk_stream_next(). */
struct sreq {
	unsigned		id;
	int			parts;
	int			err;
	bool			last;
	bool			same;
	uint64_t		at;
	struct disk_stream	*s;
	bool			next;	/* asked for the next from part */
};

static void
stream_part(int err, const struct disk_got *got, bool last, void *arg)
{
	struct sreq *r = arg;
	const struct buf_slice *sl;
	const unsigned char *p;
	unsigned k;
	size_t i;

	ck_assert_msg(!inside_call, "part ran inside its call");
	ck_assert(!r->last);
	r->parts++;
	r->err = err;
	r->last = last;
	if (err != 0) {
		ck_assert_ptr_null(got);
		r->s = NULL;
		return;
	}
	if (r->parts == 1)
		ck_assert_uint_eq(got->size, obj_size(r->id));
	else
		ck_assert_uint_gt(buf_chain_len(&got->body), 0);
	for (k = 0; k < buf_chain_nslices(&got->body); k++) {
		sl = buf_chain_slice(&got->body, k);
		p = buf_slice_ptr(sl);
		for (i = 0; i < sl->len; i++, r->at++)
			if (p[i] != obj_byte(r->id, r->at))
				r->same = false;
	}
	if (last)
		r->s = NULL;
	else if (r->next) {
		inside_call = true;
		disk_stream_next(r->s);
		inside_call = false;
	}
}

START_TEST(a_stream_gives_the_chunks_one_at_a_time)
{
	struct env e = { 0 };
	struct sreq r;
	uint8_t key[DISK_KEY_LEN];
	unsigned id = 4;	/* chunked: 40000 bytes and more */
	int spins = 0, parts;

	fio_kind = _i == 0 ? COMM_FIO_THREADS : COMM_FIO_URING;
	env_open(&e, true);
	put(e.ds, id);
	put(e.ds, 5);
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_drain(&e);
	env_open(&e, false);
	/* Whole, asking for each chunk as the last came. */
	memset(&r, 0, sizeof r);
	r.id = id;
	r.same = true;
	r.next = true;
	make_key(key, id);
	inside_call = true;
	ck_assert_int_eq(disk_stream_start(e.ds, key, stream_part, &r, &r.s),
	    0);
	inside_call = false;
	while (!r.last) {
		comm_loop_run_once(e.loop);
		ck_assert_int_lt(++spins, 100000);
	}
	ck_assert_int_eq(r.err, 0);
	ck_assert(r.same);
	ck_assert_uint_eq(r.at, obj_size(id));
	ck_assert_int_gt(r.parts, 2);
	/* Nothing more comes until asked; a cancel ends it quietly. */
	memset(&r, 0, sizeof r);
	r.id = id;
	r.same = true;
	ck_assert_int_eq(disk_stream_start(e.ds, key, stream_part, &r, &r.s),
	    0);
	while (r.parts == 0) {
		comm_loop_run_once(e.loop);
		ck_assert_int_lt(++spins, 200000);
	}
	disk_stream_next(r.s);
	parts = 1;
	while (r.parts == parts) {
		comm_loop_run_once(e.loop);
		ck_assert_int_lt(++spins, 200000);
	}
	env_drain(&e);
	comm_loop_run_once(e.loop);
	ck_assert_int_eq(r.parts, 2);
	disk_stream_next(r.s);
	disk_stream_cancel(&r.s);	/* with the read out */
	ck_assert_ptr_null(r.s);
	env_drain(&e);
	comm_loop_run_once(e.loop);
	ck_assert_int_eq(r.parts, 2);
	ck_assert(r.same);
	/* An object in one record: one part, the last. */
	memset(&r, 0, sizeof r);
	r.id = 5;
	r.same = true;
	make_key(key, 5);
	ck_assert_int_eq(disk_stream_start(e.ds, key, stream_part, &r, &r.s),
	    0);
	while (!r.last) {
		comm_loop_run_once(e.loop);
		ck_assert_int_lt(++spins, 300000);
	}
	ck_assert_int_eq(r.parts, 1);
	ck_assert(r.same);
	ck_assert_uint_eq(r.at, obj_size(5));
	env_free(&e);
}
END_TEST

/* A chunked object read on the loop, chunk by chunk, while its first
 * chunk is in the oldest quarter of the log is copied at the head as its
 * chunks come (no read of its own): after the log went past its old
 * place it is still whole; a stream cancelled half-way leaves no copy. */
START_TEST(a_chunked_object_read_near_reclaim_is_reinserted)
{
	const struct disk_sb *sb;
	struct env e = { 0 };
	uint8_t key[DISK_KEY_LEN], other[DISK_KEY_LEN];
	struct sreq r;
	unsigned id = 4, next = 10;	/* 4 and 13: chunked */
	int spins = 0;

	fio_kind = _i == 0 ? COMM_FIO_THREADS : COMM_FIO_URING;
	env_open(&e, true);
	sb = disk_store_sb(e.ds);
	put(e.ds, id);
	put(e.ds, 13);
	make_key(key, id);
	make_key(other, 13);
	/* The log in region 50: regions 0 to 13 are the oldest quarter. */
	while (disk_store_log_end(e.ds) < disk_region_pos(sb, 50)) {
		if (next % 9 != 4)
			put(e.ds, next);
		next++;
	}
	memset(&r, 0, sizeof r);
	r.id = id;
	r.same = true;
	r.next = true;
	ck_assert_int_eq(disk_stream_start(e.ds, key, stream_part, &r, &r.s),
	    0);
	while (!r.last) {
		comm_loop_run_once(e.loop);
		ck_assert_int_lt(++spins, 1000000);
	}
	ck_assert(r.same);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_reinserted), 1);
	/* 13: the stream stopped after its head; no copy. */
	memset(&r, 0, sizeof r);
	r.id = 13;
	r.same = true;
	ck_assert_int_eq(disk_stream_start(e.ds, other, stream_part, &r,
	    &r.s), 0);
	while (r.parts == 0) {
		comm_loop_run_once(e.loop);
		ck_assert_int_lt(++spins, 1000000);
	}
	disk_stream_cancel(&r.s);
	env_drain(&e);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_reinserted), 1);
	/* Round past region 0 and 1. */
	while (disk_store_log_end(e.ds) < disk_region_pos(sb, 63))
		put(e.ds, next % 9 != 4 ? next : next + 1), next += 2;
	while (disk_store_log_end(e.ds) >= disk_region_pos(sb, 63) ||
	    disk_store_log_end(e.ds) < disk_region_pos(sb, 2))
		put(e.ds, next % 9 != 4 ? next : next + 1), next += 2;
	ck_assert(disk_store_has(e.ds, key));
	ck_assert(!disk_store_has(e.ds, other));
	/* Read back whole from its copy. */
	memset(&r, 0, sizeof r);
	r.id = id;
	r.same = true;
	r.next = true;
	ck_assert_int_eq(disk_stream_start(e.ds, key, stream_part, &r, &r.s),
	    0);
	while (!r.last) {
		comm_loop_run_once(e.loop);
		ck_assert_int_lt(++spins, 2000000);
	}
	ck_assert_int_eq(r.err, 0);
	ck_assert(r.same);
	ck_assert_uint_eq(r.at, obj_size(id));
	env_free(&e);
}
END_TEST

static void
loaded(int err, void *arg)
{
	int *r = arg;

	ck_assert_msg(!inside_call, "completion ran inside its call");
	*r = err == 0 ? 1 : err;
}

/* A store opened with load_later: the index loads on the loop through
 * the file threads (held at the gate meanwhile, so the test sees the
 * store loading); lookups are misses, a put is refused, a purge and the
 * refused put owe tombstones, written when the load ends; a close while
 * loading with tombstones owed finishes the load first. */
START_TEST(the_index_loads_on_the_loop)
{
	struct disk_store_opts o = { .region_size = RSIZE, .no_sync = true,
	    .load_later = true };
	struct env e = { 0 };
	uint8_t key[DISK_KEY_LEN];
	struct greq r = { 0 };
	struct disk_obj ob;
	unsigned id;
	int done = 0, err, spins = 0;

	env_open(&e, true);
	for (id = 0; id < 200; id++)
		put(e.ds, id);
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_drain(&e);
	gate_close(&e);
	o.fio = e.fio;
	e.ds = disk_store_open(path, &o, &err, NULL);
	ck_assert_ptr_nonnull(e.ds);
	ck_assert(disk_store_loading(e.ds));
	inside_call = true;
	ck_assert_int_eq(disk_store_load_start(e.ds, loaded, &done), 0);
	inside_call = false;
	ck_assert_int_eq(disk_store_load_start(e.ds, loaded, &done), -EINVAL);
	ck_assert(disk_store_loading(e.ds));
	make_key(key, 3);
	ck_assert(!disk_store_has(e.ds, key));
	ck_assert_int_eq(disk_store_get_start(e.ds, key, got_done, &r),
	    -ENOENT);
	ck_assert_int_eq(disk_store_purge(e.ds, key), 0);
	memset(&ob, 0, sizeof ob);
	make_key(ob.key, 5);
	ob.url = "http://o.test/5";
	ob.url_len = strlen(ob.url);
	ob.hdrs = "HTTP/1.1 200 OK\r\n\r\n";
	ob.hdr_len = strlen(ob.hdrs);
	ck_assert_int_eq(disk_store_put(e.ds, &ob), -EAGAIN);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_load_skipped), 1);
	gate_open();
	while (done == 0) {
		comm_loop_run_once(e.loop);
		ck_assert_int_lt(++spins, 1000000);
	}
	ck_assert_int_eq(done, 1);
	ck_assert(!disk_store_loading(e.ds));
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_purges), 2);
	ck_assert(!disk_store_has(e.ds, key));
	ck_assert(!disk_store_has(e.ds, ob.key));
	get_all(&e, 6, 200, 0);
	get_all(&e, 0, 3, 0);
	/* Closed while loading, a purge owed: the tombstone is written. */
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_drain(&e);
	gate_close(&e);
	e.ds = disk_store_open(path, &o, &err, NULL);
	ck_assert_ptr_nonnull(e.ds);
	ck_assert_int_eq(disk_store_load_start(e.ds, loaded, &done), 0);
	make_key(key, 7);
	ck_assert_int_eq(disk_store_purge(e.ds, key), 0);
	gate_open();
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_drain(&e);
	o.load_later = false;
	e.ds = disk_store_open(path, &o, &err, NULL);
	ck_assert_ptr_nonnull(e.ds);
	ck_assert(!disk_store_loading(e.ds));
	ck_assert(!disk_store_has(e.ds, key));
	make_key(key, 3);
	ck_assert(!disk_store_has(e.ds, key));
	make_key(key, 8);
	ck_assert(disk_store_has(e.ds, key));
	env_free(&e);
}
END_TEST

/* What an open found: every id's presence and the scan's figures. */
struct load_seen {
	size_t		count;
	uint64_t	st[DISK_NSTATS];
	bool		has[1200];
};

static void
load_look(struct disk_store *ds, struct load_seen *ls)
{
	uint8_t key[DISK_KEY_LEN];
	unsigned id, k;

	ls->count = disk_index_count(disk_store_index(ds));
	for (k = 0; k < DISK_NSTATS; k++)
		ls->st[k] = k == DISK_STAT_scan_usec ? 0 :
		    disk_store_stat(ds, (enum disk_stat)k);
	for (id = 0; id < 1200; id++) {
		make_key(key, id);
		ls->has[id] = disk_store_has(ds, key);
	}
}

/* Bytes at off in the store's file made junk. */
static void
junk_at(uint64_t off, size_t len)
{
	uint8_t junk[256];
	int fd;

	ck_assert_uint_le(len, sizeof junk);
	memset(junk, 0x5a, len);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, junk, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/*
 * The index loaded on the loop, its reads started ahead of the scan, is
 * the one a synchronous open builds, on a log gone round more than once
 * with replaced and purged objects, a region whose footer is damaged
 * (the guess of its footer read proves wrong: the region is read whole)
 * and a region lost (skipped: the guesses after it still serve).  _i:
 * threads, io_uring.
 */
START_TEST(the_loop_load_agrees_with_the_synchronous_one)
{
	struct disk_store_opts o = { .region_size = RSIZE, .read_only = true };
	struct load_seen *sync, *async;
	struct env e = { 0 };
	uint8_t key[DISK_KEY_LEN];
	struct disk_sb sbv, *sb = &sbv;
	int done = 0, err, spins = 0;
	unsigned id;

	fio_kind = _i == 0 ? COMM_FIO_THREADS : COMM_FIO_URING;
	sync = calloc(1, sizeof *sync);
	async = calloc(1, sizeof *async);
	ck_assert(sync != NULL && async != NULL);
	env_open(&e, true);
	for (id = 0; id < 1200; id++) {
		put(e.ds, id);
		if (id % 50 == 7)
			put(e.ds, id - 5);	/* replaced */
		if (id % 70 == 9) {
			make_key(key, id - 2);
			ck_assert_int_eq(disk_store_purge(e.ds, key), 0);
		}
	}
	/* A copy: the store's own goes with it at close. */
	sbv = *disk_store_sb(e.ds);
	ck_assert_uint_gt(disk_store_stat(e.ds, DISK_STAT_reclaimed), 0);
	/* Regions after the writer's: sealed, in the log's middle. */
	ck_assert_uint_lt(disk_store_log_end(e.ds), disk_region_pos(sb, 30));
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_drain(&e);
	junk_at(disk_region_pos(sb, 30) + RSIZE - DISK_TRAILER_LEN - 8, 8);
	junk_at(disk_region_pos(sb, 45), DISK_REGION_HDR_LEN);
	junk_at(disk_region_pos(sb, 45) + RSIZE - DISK_TRAILER_LEN,
	    DISK_TRAILER_LEN);

	o.fio = e.fio;
	e.ds = disk_store_open(path, &o, &err, NULL);
	ck_assert_ptr_nonnull(e.ds);
	load_look(e.ds, sync);
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_drain(&e);
	ck_assert_uint_gt(sync->count, 100);
	ck_assert_uint_ge(sync->st[DISK_STAT_bad_footers], 1);
	ck_assert_uint_ge(sync->st[DISK_STAT_scan_lost], 1);
	ck_assert_uint_ge(sync->st[DISK_STAT_scan_footers], 40);

	o.load_later = true;
	e.ds = disk_store_open(path, &o, &err, NULL);
	ck_assert_ptr_nonnull(e.ds);
	ck_assert_int_eq(disk_store_load_start(e.ds, loaded, &done), 0);
	while (done == 0) {
		comm_loop_run_once(e.loop);
		ck_assert_int_lt(++spins, 1000000);
	}
	ck_assert_int_eq(done, 1);
	load_look(e.ds, async);
	ck_assert_uint_eq(async->count, sync->count);
	for (id = 0; id < DISK_NSTATS; id++)
		ck_assert_msg(async->st[id] == sync->st[id], "%s: %ju, "
		    "synchronously %ju", disk_stat_name((enum disk_stat)id),
		    (uintmax_t)async->st[id], (uintmax_t)sync->st[id]);
	for (id = 0; id < 1200; id++)
		ck_assert_msg(async->has[id] == sync->has[id], "object %u",
		    id);
	free(sync);
	free(async);
	env_free(&e);
}
END_TEST

/*
 * A put in pieces handed pages: written from them, never copied.  The
 * body here comes as slices of 4 KiB blocks; every chunk record's body
 * is a run of those blocks, referenced (their refcounts show it) from the
 * put until the region's writes are done and its image is let go, then
 * released once; no body byte is counted copied, and the object reads
 * back equal from memory (the runs overlaid on the region's image) and
 * from the file.  With the file threads held, the writes under way hold
 * the pages too, and a close with them out still writes the object.
 */
#define PAGE_LEN	4096u
#define NPAGES_MAX	16u

static unsigned
pages_make(struct buf_pool *pool, unsigned id, struct buf **pg)
{
	size_t size = obj_size(id), at, i;
	unsigned n;

	for (n = 0, at = 0; at < size; n++) {
		ck_assert_uint_lt(n, NPAGES_MAX);
		pg[n] = buf_alloc(pool, PAGE_LEN);
		ck_assert_ptr_nonnull(pg[n]);
		for (i = 0; i < PAGE_LEN && at < size; i++, at++)
			buf_data(pg[n])[i] = obj_byte(id, at);
		pg[n]->fill = (uint32_t)i;
	}
	return (n);
}

static void
put_pages(struct disk_store *ds, unsigned id, struct buf **pg, unsigned n)
{
	struct disk_put *p;
	struct disk_obj o;
	char url[64], hdrs[64];
	unsigned i;
	int err;

	make_key(o.key, id);
	p = disk_put_begin(ds, o.key, obj_size(id), &err);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(disk_put_append_slice(p, pg[i], 0,
		    pg[i]->fill), 0);
	memset(&o, 0, sizeof o);
	o.url_len = (size_t)snprintf(url, sizeof url, "http://o.test/%u", id);
	o.url = url;
	o.hdr_len = (size_t)snprintf(hdrs, sizeof hdrs,
	    "HTTP/1.1 200 OK\r\nX-Id: %u\r\n\r\n", id);
	o.hdrs = hdrs;
	ck_assert_int_eq(disk_put_finish(&p, &o), 0);
}

static void
pages_refs_at_least(struct buf **pg, unsigned n, unsigned refs)
{
	unsigned i;

	for (i = 0; i < n; i++)
		ck_assert_msg(pg[i]->refs >= refs, "page %u: %u refs, not %u",
		    i, pg[i]->refs, refs);
}

static void
pages_free(struct buf **pg, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(pg[i]->refs, 1);	/* ours alone */
		buf_unref(&pg[i]);
	}
}

START_TEST(a_put_in_pieces_is_written_from_its_pages)
{
	struct buf *pg[NPAGES_MAX], *pg2[NPAGES_MAX];
	struct env e = { 0 };
	unsigned id = 4, id2 = 13, n, n2;	/* chunked: 40000 and more */
	bool held;

	fio_kind = _i == 0 ? COMM_FIO_THREADS : COMM_FIO_URING;
	env_open(&e, true);
	/* io_uring has no thread to hold: only the threads show the
	 * writes under way holding the pages. */
	held = comm_fio_kind(e.fio) == COMM_FIO_THREADS;
	if (held)
		gate_close(&e);
	n = pages_make(comm_loop_pool(e.loop), id, pg);
	put_pages(e.ds, id, pg, n);
	ck_assert_uint_gt(disk_store_stat(e.ds, DISK_STAT_chunks), 2);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_body_copied), 0);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_body_in_place),
	    obj_size(id));
	/* Ours, and the region's image's. */
	pages_refs_at_least(pg, n, 2);
	ck_assert_int_eq(disk_store_flush(e.ds), 0);
	if (held)
		pages_refs_at_least(pg, n, 3);	/* and the write's */
	get_all(&e, id, id + 1, 0);		/* from memory */
	if (held)
		gate_open();
	env_drain(&e);
	/* Written, the region still open: its image keeps them. */
	pages_refs_at_least(pg, n, 2);
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	pages_free(pg, n);
	env_open(&e, false);
	get_all(&e, id, id + 1, 0);		/* from the file */

	/* Closed with the writes held: written again at close from the
	 * pages, which the held writes keep until they are done. */
	if (held)
		gate_close(&e);
	n2 = pages_make(comm_loop_pool(e.loop), id2, pg2);
	put_pages(e.ds, id2, pg2, n2);
	ck_assert_int_eq(disk_store_flush(e.ds), 0);
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	if (held) {
		pages_refs_at_least(pg2, n2, 2);
		gate_open();
	}
	env_drain(&e);
	comm_loop_run_once(e.loop);
	pages_free(pg2, n2);
	env_open(&e, false);
	get_all(&e, id, id + 1, 0);
	get_all(&e, id2, id2 + 1, 0);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_get_corrupt), 0);
	env_free(&e);
}
END_TEST

/*
 * On a loop the open region goes out as it fills, in writes of at most
 * DISK_WRITE_STEP: not left to its seal or to the next flush tick, and
 * a large record (a chunk of a quarter region) not one long write.
 */
START_TEST(a_filling_region_goes_out_in_steps)
{
	struct comm_fio_stats st;
	struct env e = { 0 };
	uint64_t written;
	unsigned id;

	fio_kind = _i == 0 ? COMM_FIO_THREADS : COMM_FIO_URING;
	env_rsize = 2u * 1024 * 1024;
	env_open(&e, true);
	for (id = 0; id < 200; id++)
		put(e.ds, id);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_sealed), 0);
	written = disk_store_stat(e.ds, DISK_STAT_bytes_written);
	ck_assert_uint_ge(written, 4 * DISK_WRITE_STEP);
	env_drain(&e);
	comm_fio_stats(e.fio, &st);
	ck_assert_uint_eq(st.bytes_written, written);
	ck_assert_uint_ge(st.writes * DISK_WRITE_STEP, written);

	/* 1.5 MB: three chunk records of 512 KiB, in the next region. */
	put_sized(e.ds, 1000, 1500000);
	ck_assert_uint_ge(disk_store_stat(e.ds, DISK_STAT_chunks), 3);
	env_drain(&e);
	comm_fio_stats(e.fio, &st);
	written = disk_store_stat(e.ds, DISK_STAT_bytes_written);
	ck_assert_uint_ge(written, 1500000);
	ck_assert_uint_eq(st.bytes_written, written);
	ck_assert_uint_ge(st.writes * DISK_WRITE_STEP, written);

	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_open(&e, false);
	get_all(&e, 0, 200, 0);
	env_free(&e);
	env_rsize = RSIZE;
}
END_TEST

/* Object id's body as a chain of blocks of piece bytes each, the
 * chain's own references alone. */
static void
chain_make(struct buf_pool *pool, unsigned id, size_t piece,
    struct buf_chain *c)
{
	size_t size = obj_size(id), at, n, i;
	struct buf *b;

	buf_chain_init(c, pool);
	for (at = 0; at < size; at += n) {
		n = size - at < piece ? size - at : piece;
		b = buf_alloc(pool, n);
		ck_assert_ptr_nonnull(b);
		for (i = 0; i < n; i++)
			buf_data(b)[i] = obj_byte(id, at + i);
		b->fill = (uint32_t)n;
		ck_assert_int_eq(buf_chain_append_slice(c, b, 0, n), 0);
		buf_unref(&b);
	}
}

/*
 * A whole object handed over as slices, as the memory cache's pages
 * are: a small one is copied once, into the region's buffer, and no
 * block of it is kept; a chunked one's chunks are written from its
 * blocks, which the region's image holds (no body byte copied) and lets
 * go once written and closed.  Each reads back equal from memory and
 * from the file.
 */
START_TEST(a_whole_put_from_slices_copies_once_or_never)
{
	struct buf_chain c;
	struct env e = { 0 };
	struct disk_obj o;
	char url[64], hdrs[64];
	uint64_t small = 0, large = 0;
	unsigned id, i, refs;

	fio_kind = _i == 0 ? COMM_FIO_THREADS : COMM_FIO_URING;
	env_open(&e, true);
	for (id = 1; id < 15; id++) {
		chain_make(comm_loop_pool(e.loop), id, 1000, &c);
		memset(&o, 0, sizeof o);
		make_key(o.key, id);
		o.url_len = (size_t)snprintf(url, sizeof url,
		    "http://o.test/%u", id);
		o.url = url;
		o.hdr_len = (size_t)snprintf(hdrs, sizeof hdrs,
		    "HTTP/1.1 200 OK\r\nX-Id: %u\r\n\r\n", id);
		o.hdrs = hdrs;
		o.chain = &c;
		o.body_len = obj_size(id);
		ck_assert_int_eq(disk_store_put(e.ds, &o), 0);
		/* The chain's reference, and the image's when in place. */
		for (i = 0; i < buf_chain_nslices(&c); i++) {
			refs = buf_chain_slice(&c, i)->buf->refs;
			ck_assert_msg(id % 9 == 4 ? refs >= 2 : refs == 1,
			    "object %u block %u: %u refs", id, i, refs);
		}
		if (id % 9 == 4)
			large += o.body_len;
		else
			small += o.body_len;
		buf_chain_fini(&c);
	}
	ck_assert_uint_gt(large, 0);
	ck_assert_uint_gt(disk_store_stat(e.ds, DISK_STAT_chunks), 2);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_body_in_place),
	    large);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_body_copied), 0);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_body_gathered),
	    small);
	get_all(&e, 1, 15, 0);			/* from memory */
	ck_assert_int_eq(disk_store_flush(e.ds), 0);
	env_drain(&e);
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_drain(&e);
	env_open(&e, false);
	get_all(&e, 1, 15, 0);			/* from the file */
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_get_corrupt), 0);
	env_free(&e);				/* every block let go */
}
END_TEST

/*
 * A region reused drops its objects from the index by the footer it was
 * sealed with, read ahead while the region before it is written; what is
 * left indexed is exactly what a reopen (a scan of the file) finds, and
 * all of it reads back whole.  Replacements and purges move or remove
 * objects between the read ahead and the reuse.
 */
/* Read every indexed object of ids 0..n-1 at once: each whole and as
 * written.  How many there were. */
static unsigned
get_present(struct env *e, unsigned n)
{
	struct greq *r = calloc(n, sizeof *r);
	uint8_t key[DISK_KEY_LEN];
	unsigned id, k = 0, i, left;
	int spins = 0;

	ck_assert_ptr_nonnull(r);
	for (id = 0; id < n; id++) {
		make_key(key, id);
		if (!disk_store_has(e->ds, key))
			continue;
		r[k].id = id;
		ck_assert_int_eq(disk_store_get_start(e->ds, key, got_done,
		    &r[k]), 0);
		k++;
	}
	do {
		comm_loop_run_once(e->loop);
		ck_assert_int_lt(++spins, 1000000);
		for (left = 0, i = 0; i < k; i++)
			left += r[i].calls == 0;
	} while (left > 0);
	for (i = 0; i < k; i++)
		ck_assert_msg(r[i].err == 0 && r[i].same, "object %u: %d",
		    r[i].id, r[i].err);
	free(r);
	return (k);
}

START_TEST(a_reused_region_drops_its_objects_by_its_footer)
{
	struct env e = { 0 };
	uint8_t key[DISK_KEY_LEN];
	unsigned id, n, present, again = 0;

	fio_kind = _i == 0 ? COMM_FIO_THREADS : COMM_FIO_URING;
	/* Plain FIFO: a batch of reads near reclaim would otherwise write
	 * copies that push the log past regions those same reads are
	 * still reading (they end as counted misses, by design). */
	fifo_only = true;
	env_open(&e, true);
	for (n = 0; n < 3000; n++) {
		id = n * 7 % 800;
		if (n % 11 == 5) {
			make_key(key, (id + 13) % 800);
			(void)disk_store_purge(e.ds, key);
		} else
			put(e.ds, id);
		/* Let the reads ahead come back, as a loop would; and
		 * read everything indexed now and then, the objects in
		 * the region being reused included. */
		if (n % 4 == 0) {
			env_drain(&e);
			comm_loop_run_once(e.loop);
		}
		if (n % 40 == 39)
			(void)get_present(&e, 800);
	}
	env_drain(&e);
	ck_assert_uint_gt(disk_store_stat(e.ds, DISK_STAT_reclaim_footers),
	    64);
	ck_assert_uint_gt(disk_store_stat(e.ds, DISK_STAT_reclaimed), 0);
	present = get_present(&e, 800);
	ck_assert_uint_gt(present, 100);
	ck_assert_uint_eq(disk_store_stat(e.ds, DISK_STAT_get_corrupt), 0);
	ck_assert_int_eq(disk_store_close(&e.ds), 0);
	env_open(&e, false);
	env_drain(&e);
	for (id = 0; id < 800; id++) {
		make_key(key, id);
		again += disk_store_has(e.ds, key);
	}
	ck_assert_uint_eq(again, present);
	env_free(&e);
	fifo_only = false;
}
END_TEST

static Suite *
disk_async_suite(void)
{
	Suite *s = suite_create("disk_async");
	TCase *tc;

	tc = tcase_create("async");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, reads_from_memory_then_from_the_file);
	tcase_add_test(tc, close_with_writes_out_loses_nothing);
	tcase_add_test(tc, the_index_loads_on_the_loop);
	tcase_add_loop_test(tc, the_loop_load_agrees_with_the_synchronous_one,
	    0, 2);
	tcase_add_loop_test(tc, a_damaged_record_is_a_counted_miss, 0, 2);
	tcase_add_loop_test(tc, damage_under_a_footer_fails_the_read, 0, 2);
	tcase_add_loop_test(tc, close_with_reads_out_ends_each_once, 0, 2);
	tcase_add_loop_test(tc,
	    a_chunked_object_read_near_reclaim_is_reinserted, 0, 2);
	tcase_add_loop_test(tc, a_stream_gives_the_chunks_one_at_a_time, 0,
	    2);
	tcase_add_loop_test(tc, a_filling_region_goes_out_in_steps, 0, 2);
	tcase_add_loop_test(tc, a_put_in_pieces_is_written_from_its_pages, 0,
	    2);
	tcase_add_loop_test(tc, a_reused_region_drops_its_objects_by_its_footer,
	    0, 2);
	tcase_add_loop_test(tc, a_whole_put_from_slices_copies_once_or_never,
	    0, 2);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(disk_async_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
