/*
 * check_disk_store.c - the disk store whole (src/disk/): the writer, the
 * restart scan and the read path, against crashes (a child killed after
 * a flush, the file cut at every record boundary) and damage (bits
 * flipped, blocks overwritten): the scan never crashes, never indexes a
 * record that fails its checksum, and a read returns the bytes written
 * or a miss.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk/disk.h"
#include "disk/disk_index.h"
#include "disk/disk_io.h"

#define RSIZE		(64u * 1024)
#define MAXVER		10

static char path[64];

static void
setup(void)
{
	int fd;

	snprintf(path, sizeof path, "/tmp/check_disk.XXXXXX");
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

static const struct disk_store_opts opts = {
	.region_size = RSIZE,
	.no_sync = true,
};

static void
make_key(uint8_t *k, unsigned id)
{
	unsigned i;

	/* Spread like a digest: splitmix of the id. */
	uint64_t z = id * 0x9e3779b97f4a7c15ULL + 1, w;

	for (i = 0; i < DISK_KEY_LEN; i += 8) {
		z += 0x9e3779b97f4a7c15ULL;
		w = z;
		w = (w ^ (w >> 30)) * 0xbf58476d1ce4e5b9ULL;
		w = (w ^ (w >> 27)) * 0x94d049bb133111ebULL;
		w ^= w >> 31;
		memcpy(k + i, &w, 8);
	}
}

/* Version v of object id: its size and every byte follow from (id, v). */
static size_t
obj_size(unsigned id, unsigned v)
{
	if ((id + v) % 37 == 0)
		return (20000 + (id * 7919u + v * 104729u) % 90000);
	return ((id * 131u + v * 977u) % 3000);
}

struct tobj {
	struct disk_obj	o;
	char		url[64];
	char		hdrs[64];
	uint8_t		*body;
};

static void
tobj_make(struct tobj *t, unsigned id, unsigned v)
{
	size_t i;

	memset(t, 0, sizeof *t);
	make_key(t->o.key, id);
	t->o.url_len = (size_t)snprintf(t->url, sizeof t->url,
	    "http://origin.test/o/%u", id);
	t->o.url = t->url;
	t->o.hdr_len = (size_t)snprintf(t->hdrs, sizeof t->hdrs,
	    "HTTP/1.1 200 OK\r\nX-V: %u\r\n\r\n", v);
	t->o.hdrs = t->hdrs;
	t->o.body_len = obj_size(id, v);
	t->body = malloc(t->o.body_len + 1);
	ck_assert_ptr_nonnull(t->body);
	for (i = 0; i < t->o.body_len; i++)
		t->body[i] = (uint8_t)(id * 31 + v * 7 + i * 13 + (i >> 8));
	t->o.body = t->body;
}

static void
tobj_fini(struct tobj *t)
{
	free(t->body);
}

static int
put(struct disk_store *ds, unsigned id, unsigned v)
{
	struct tobj t;
	int e;

	tobj_make(&t, id, v);
	e = disk_store_put(ds, &t.o);
	tobj_fini(&t);
	return (e);
}

/* Whether o is version v of id, byte for byte. */
static bool
is_version(const struct disk_obj *o, unsigned id, unsigned v)
{
	struct tobj t;
	bool same;

	tobj_make(&t, id, v);
	same = o->url_len == t.o.url_len && o->hdr_len == t.o.hdr_len &&
	    o->body_len == t.o.body_len &&
	    memcmp(o->url, t.o.url, o->url_len) == 0 &&
	    memcmp(o->hdrs, t.o.hdrs, o->hdr_len) == 0 &&
	    memcmp(o->body, t.o.body, o->body_len) == 0;
	tobj_fini(&t);
	return (same);
}

/* The version of id a get returns: 0 for a miss, -1 for bytes that are
 * no version ever written. */
static int
get_version(struct disk_store *ds, unsigned id)
{
	struct disk_obj o;
	uint8_t k[DISK_KEY_LEN];
	unsigned v;
	int e;

	make_key(k, id);
	e = disk_store_get(ds, k, &o);
	if (e == -ENOENT || e == -EBADMSG)
		return (0);
	ck_assert_int_eq(e, 0);
	for (v = 1; v <= MAXVER; v++)
		if (is_version(&o, id, v)) {
			disk_obj_fini(&o);
			return ((int)v);
		}
	disk_obj_fini(&o);
	return (-1);
}

static struct disk_store *
open_store(bool ro)
{
	struct disk_store_opts o = opts;
	struct disk_store *ds;
	int err;

	o.read_only = ro;
	ds = disk_store_open(path, &o, &err, NULL);
	ck_assert_msg(ds != NULL, "open: %s", strerror(-err));
	return (ds);
}

static void
file_bytes_of(const char *name, uint8_t **p, size_t *n)
{
	FILE *f = fopen(name, "rb");

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	rewind(f);
	*p = malloc(*n);
	ck_assert_ptr_nonnull(*p);
	ck_assert_uint_eq(fread(*p, 1, *n, f), *n);
	fclose(f);
}

static void
file_bytes(uint8_t **p, size_t *n)
{
	file_bytes_of(path, p, n);
}

static void
file_put(const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

START_TEST(put_get_small_and_chunked_and_reopen)
{
	struct disk_store *ds;
	unsigned id;

	ck_assert_int_eq(disk_store_create(path, 4096 + 40 * RSIZE, &opts,
	    false), 0);
	ck_assert_int_eq(disk_store_create(path, 4096 + 40 * RSIZE, &opts,
	    false), -EEXIST);
	ds = open_store(false);
	for (id = 1; id <= 300; id++)
		ck_assert_int_eq(put(ds, id, 1), 0);
	ck_assert_uint_gt(disk_store_stat(ds, DISK_STAT_chunks), 0);
	for (id = 1; id <= 300; id++)
		ck_assert_int_eq(get_version(ds, id), 1);
	ck_assert_int_eq(disk_store_close(&ds), 0);
	ck_assert_ptr_null(ds);

	ds = open_store(false);
	ck_assert_uint_eq(disk_index_count(disk_store_index(ds)), 300);
	ck_assert_uint_gt(disk_store_stat(ds, DISK_STAT_scan_footers), 0);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_scan_regions), 1);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_bad_records), 0);
	for (id = 1; id <= 300; id++)
		ck_assert_int_eq(get_version(ds, id), 1);
	/* Writing goes on in the open region, after its last record. */
	for (id = 301; id <= 320; id++)
		ck_assert_int_eq(put(ds, id, 1), 0);
	ck_assert_int_eq(disk_store_close(&ds), 0);
	ds = open_store(false);
	ck_assert_uint_eq(disk_index_count(disk_store_index(ds)), 320);
	for (id = 1; id <= 320; id++)
		ck_assert_int_eq(get_version(ds, id), 1);
	ck_assert_int_eq(disk_store_close(&ds), 0);
}
END_TEST

/* The pieces a body is cut into for a_body_in_slices_writes_the_same_file:
 * odd sizes, single bytes, and for some objects more pieces than fit on
 * the writer's stack. */
static size_t
piece_len(unsigned id, unsigned k)
{
	static const size_t lens[] = { 1, 13, 700, 4096, 2, 16384, 333, 5000 };

	return (id % 5 == 0 ? 100 : lens[(id + k) % 8]);
}

/*
 * A body handed over as slices (the memory cache's pages) makes the very
 * bytes a contiguous body does: two copies of one new store given the
 * same puts, one from contiguous bodies and one from the bodies cut into
 * pieces (small and chunked objects), are equal byte for byte once
 * closed.  The pieces were copied once, into the buffer (body_gathered),
 * and read back whole after a reopen.
 */
START_TEST(a_body_in_slices_writes_the_same_file)
{
	struct disk_store *a, *b;
	struct buf_pool *pool;
	struct buf_chain c;
	struct disk_obj o;
	struct buf *pg;
	struct tobj t;
	uint8_t *fa, *fb;
	size_t na, nb, at, n, total = 0;
	char path2[80];
	unsigned id, k;
	int err, fd;

	ck_assert_int_eq(disk_store_create(path, 4096 + 40 * RSIZE, &opts,
	    false), 0);
	file_bytes(&fa, &na);
	snprintf(path2, sizeof path2, "%s.2", path);
	fd = open(path2, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, fa, na), (ssize_t)na);
	close(fd);
	free(fa);
	a = open_store(false);
	b = disk_store_open(path2, &opts, &err, NULL);
	ck_assert_ptr_nonnull(b);
	pool = buf_pool_new(0);
	ck_assert_ptr_nonnull(pool);
	for (id = 1; id <= 150; id++) {
		tobj_make(&t, id, 1);
		ck_assert_int_eq(disk_store_put(a, &t.o), 0);
		buf_chain_init(&c, pool);
		for (at = 0, k = 0; at < t.o.body_len; at += n, k++) {
			n = piece_len(id, k);
			if (n > t.o.body_len - at)
				n = t.o.body_len - at;
			pg = buf_alloc(pool, n);
			ck_assert_ptr_nonnull(pg);
			buf_append(pg, t.body + at, n);
			ck_assert_int_eq(buf_chain_append_slice(&c, pg, 0, n),
			    0);
			buf_unref(&pg);
		}
		o = t.o;
		o.body = NULL;
		o.chain = &c;
		ck_assert_int_eq(disk_store_put(b, &o), 0);
		buf_chain_fini(&c);
		total += t.o.body_len;
		if (id % 40 == 0) {
			ck_assert_int_eq(disk_store_purge(a, t.o.key), 0);
			ck_assert_int_eq(disk_store_purge(b, t.o.key), 0);
		}
		tobj_fini(&t);
	}
	ck_assert_uint_gt(disk_store_stat(b, DISK_STAT_chunks), 3);
	ck_assert_uint_gt(disk_store_stat(b, DISK_STAT_sealed), 3);
	ck_assert_uint_eq(disk_store_stat(a, DISK_STAT_body_gathered), 0);
	ck_assert_uint_eq(disk_store_stat(b, DISK_STAT_body_gathered), total);
	ck_assert_int_eq(disk_store_close(&a), 0);
	ck_assert_int_eq(disk_store_close(&b), 0);
	buf_pool_free(&pool);
	file_bytes(&fa, &na);
	file_bytes_of(path2, &fb, &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert_msg(memcmp(fa, fb, na) == 0, "the files differ");
	free(fa);
	free(fb);
	b = disk_store_open(path2, &opts, &err, NULL);
	ck_assert_ptr_nonnull(b);
	for (id = 1; id <= 150; id++)
		ck_assert_int_eq(get_version(b, id), id % 40 == 0 ? 0 : 1);
	ck_assert_int_eq(disk_store_close(&b), 0);
	unlink(path2);
}
END_TEST

/* A put in pieces, as a fill that is too large to hold arrives: odd-sized
 * appends interleaved with whole puts, the head last; whole again after a
 * reopen.  A short or long body, an abort, or a close before the finish
 * index nothing. */
START_TEST(a_put_in_pieces_is_whole_after_reopen)
{
	static const char url[] = "http://h/big", hdrs[] = "HTTP/1.1 200 OK";
	const size_t size = 3 * RSIZE + 777;
	struct disk_store *ds;
	struct disk_put *p, *q;
	struct disk_obj o;
	uint8_t k[DISK_KEY_LEN], k2[DISK_KEY_LEN], *body;
	size_t at, n, i;
	int err;

	body = malloc(size);
	ck_assert_ptr_nonnull(body);
	for (i = 0; i < size; i++)
		body[i] = (uint8_t)(i * 7 + i / 251);
	ck_assert_int_eq(disk_store_create(path, 4096 + 40 * RSIZE, &opts,
	    false), 0);
	ds = open_store(false);
	make_key(k, 9001);
	make_key(k2, 9002);
	p = disk_put_begin(ds, k, size, &err);
	ck_assert_ptr_nonnull(p);
	q = disk_put_begin(ds, k2, size, &err);
	ck_assert_ptr_nonnull(q);
	for (at = 0, n = 1; at < size; at += n, n = n * 3 + 1) {
		if (n > size - at)
			n = size - at;
		ck_assert_int_eq(disk_put_append(p, body + at, n), 0);
		ck_assert_int_eq(put(ds, (unsigned)at % 50 + 1, 1), 0);
	}
	/* Not there until its head is. */
	ck_assert(!disk_store_has(ds, k));
	memset(&o, 0, sizeof o);
	o.url = url;
	o.url_len = sizeof url - 1;
	o.hdrs = hdrs;
	o.hdr_len = sizeof hdrs - 1;
	ck_assert_int_eq(disk_put_finish(&p, &o), 0);
	ck_assert_ptr_null(p);
	ck_assert(disk_store_has(ds, k));
	/* q got half its bytes: refused. */
	ck_assert_int_eq(disk_put_append(q, body, size / 2), 0);
	ck_assert_int_eq(disk_put_finish(&q, &o), -EPIPE);
	ck_assert(!disk_store_has(ds, k2));
	/* Too many bytes kill it. */
	q = disk_put_begin(ds, k2, 10, &err);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(disk_put_append(q, body, 11), -EPIPE);
	disk_put_abort(&q);
	ck_assert_ptr_null(q);
	/* Larger than the log can hold while written. */
	ck_assert_ptr_null(disk_put_begin(ds, k2, 40 * RSIZE, &err));
	ck_assert_int_eq(err, -EFBIG);
	/* Left unfinished at close: nothing. */
	q = disk_put_begin(ds, k2, size, &err);
	ck_assert_int_eq(disk_put_append(q, body, size), 0);
	ck_assert_int_eq(disk_store_close(&ds), 0);
	ck_assert_int_eq(disk_put_finish(&q, &o), -ECANCELED);

	ds = open_store(false);
	ck_assert(!disk_store_has(ds, k2));
	ck_assert_int_eq(disk_store_get(ds, k, &o), 0);
	ck_assert_uint_eq(o.body_len, size);
	ck_assert(memcmp(o.body, body, size) == 0);
	ck_assert(o.url_len == sizeof url - 1 &&
	    memcmp(o.url, url, o.url_len) == 0);
	disk_obj_fini(&o);
	ck_assert_int_eq(disk_store_close(&ds), 0);
	free(body);
}
END_TEST

START_TEST(foreign_files_and_other_versions_are_refused)
{
	enum disk_fmt_result why;
	struct disk_store *ds;
	uint8_t *p;
	size_t n;
	int err;

	file_put((const uint8_t *)"not a store at all\n", 19);
	ds = disk_store_open(path, &opts, &err, &why);
	ck_assert_ptr_null(ds);
	ck_assert_int_eq(err, -EMEDIUMTYPE);
	ck_assert_int_eq(why, DISK_FMT_SHORT);

	ck_assert_int_eq(disk_store_create(path, 4096 + 4 * RSIZE, &opts,
	    true), 0);
	file_bytes(&p, &n);
	p[8] = 2;	/* format version 2 */
	file_put(p, n);
	ds = disk_store_open(path, &opts, &err, &why);
	ck_assert_ptr_null(ds);
	ck_assert_int_eq(err, -EPROTO);
	ck_assert_int_eq(why, DISK_FMT_VERSION);
	p[8] = 1;
	p[0] ^= 0x20;
	file_put(p, n);
	ds = disk_store_open(path, &opts, &err, &why);
	ck_assert_int_eq(err, -EMEDIUMTYPE);
	ck_assert_int_eq(why, DISK_FMT_MAGIC);
	free(p);
	ds = disk_store_open("/nonexistent/store", &opts, &err, &why);
	ck_assert_int_eq(err, -ENOENT);
}
END_TEST

/* A child writes and flushes, then dies without closing: what kill -9
 * leaves once the region buffer has reached the file. */
START_TEST(crash_keeps_v2_and_the_purge)
{
	uint8_t k[DISK_KEY_LEN];
	struct disk_store *ds;
	unsigned id;
	pid_t pid;
	int st;

	ck_assert_int_eq(disk_store_create(path, 4096 + 40 * RSIZE, &opts,
	    false), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		ds = open_store(false);
		for (id = 1; id <= 100; id++)
			put(ds, id, 1);
		for (id = 1; id <= 100; id += 2)
			put(ds, id, 2);
		for (id = 1; id <= 100; id += 10) {
			make_key(k, id);
			disk_store_purge(ds, k);
		}
		disk_store_flush(ds);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ds = open_store(false);
	for (id = 1; id <= 100; id++)
		ck_assert_int_eq(get_version(ds, id),
		    id % 10 == 1 ? 0 : id % 2 == 1 ? 2 : 1);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_bad_records), 0);
	ck_assert_int_eq(disk_store_close(&ds), 0);
}
END_TEST

/* One operation of the cut test and the log position after it. */
struct op {
	unsigned	id;
	unsigned	v;	/* 0: a purge */
	uint64_t	end;
};

/* The file cut after each record (and one byte short of it, and inside
 * it): the store opens, and each object is the last version whose record
 * the cut kept, or a miss where the cut tore it. */
START_TEST(cut_at_every_record_gives_the_last_whole_version)
{
	static struct op ops[600];
	unsigned nops = 0, i, j, id, want[61];
	uint8_t k[DISK_KEY_LEN], *orig;
	struct disk_store *ds;
	uint64_t cuts[3];
	size_t n, c;
	int fd, got;

	ck_assert_int_eq(disk_store_create(path, 4096 + 48 * RSIZE, &opts,
	    false), 0);
	ds = open_store(false);
	for (i = 0; i < 500; i++) {
		id = 1 + (i * 7) % 60;
		ops[nops].id = id;
		if (i % 11 == 5) {
			make_key(k, id);
			ck_assert_int_eq(disk_store_purge(ds, k), 0);
			ops[nops].v = 0;
		} else {
			ops[nops].v = 1 + i / 60;
			ck_assert_int_eq(put(ds, id, ops[nops].v), 0);
		}
		ops[nops++].end = disk_store_log_end(ds);
	}
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_reclaimed), 0);
	ck_assert_int_eq(disk_store_flush(ds), 0);
	ck_assert_int_eq(disk_store_close(&ds), 0);
	file_bytes(&orig, &n);

	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	/* Cuts from the end down: the file only shrinks. */
	for (i = nops; i-- > 0;) {
		cuts[0] = ops[i].end;
		cuts[1] = ops[i].end - 1;
		cuts[2] = ops[i].end - 40;
		for (c = 0; c < 3; c++) {
			ck_assert_int_eq(ftruncate(fd, (off_t)cuts[c]), 0);
			memset(want, 0, sizeof want);
			for (j = 0; j < nops && ops[j].end <= cuts[c]; j++)
				want[ops[j].id] = ops[j].v;
			ds = open_store(true);
			for (id = 1; id <= 60; id++) {
				got = get_version(ds, id);
				ck_assert_msg(got == (int)want[id],
				    "cut %ju: object %u is version %d, want %u",
				    (uintmax_t)cuts[c], id, got, want[id]);
			}
			disk_store_close(&ds);
		}
	}
	close(fd);
	free(orig);
}
END_TEST

/* Bits flipped and blocks overwritten anywhere in a store that has
 * wrapped: every open succeeds, and a read is a version written or a
 * miss, never other bytes. */
START_TEST(damage_never_serves_other_bytes)
{
	uint64_t s = 0x12345678, corrupt = 0, bad = 0;
	unsigned id, trial, i, v[201];
	uint8_t *orig, *p;
	struct disk_store *ds;
	size_t n, at;
	int got;

	ck_assert_int_eq(disk_store_create(path, 4096 + 32 * RSIZE, &opts,
	    false), 0);
	ds = open_store(false);
	memset(v, 0, sizeof v);
	for (i = 0; i < 1600; i++) {
		id = 1 + (i * 13) % 200;
		v[id] = v[id] < MAXVER ? v[id] + 1 : MAXVER;
		ck_assert_int_eq(put(ds, id, v[id]), 0);
	}
	/* The log went round more than once. */
	ck_assert_uint_gt(disk_store_stat(ds, DISK_STAT_sealed), 40);
	ck_assert_int_eq(disk_store_close(&ds), 0);
	file_bytes(&orig, &n);
	p = malloc(n);
	ck_assert_ptr_nonnull(p);
	for (trial = 0; trial < 60; trial++) {
		memcpy(p, orig, n);
		for (i = 0; i < 8; i++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			at = (size_t)((s >> 17) % n);
			if (trial % 2 == 0) {
				p[at] ^= (uint8_t)(1u << (s >> 60 & 7));
			} else {
				at &= ~(size_t)511;
				memset(p + at, (int)(s >> 40), n - at < 512 ?
				    n - at : 512);
			}
		}
		file_put(p, n);
		ds = open_store(true);
		for (id = 1; id <= 200; id++) {
			got = get_version(ds, id);
			ck_assert_msg(got >= 0, "trial %u: object %u is "
			    "bytes never written", trial, id);
		}
		corrupt += disk_store_stat(ds, DISK_STAT_get_corrupt);
		bad += disk_store_stat(ds, DISK_STAT_bad_records);
		disk_store_close(&ds);
	}
	/* The damage was seen, and counted. */
	ck_assert_uint_gt(corrupt + bad, 0);
	free(p);
	free(orig);
}
END_TEST

/* A flipped bit in the open region's record: the scan checks it, drops
 * it, counts it; the object's previous version (sealed) is what reads. */
START_TEST(scan_never_indexes_a_record_failing_its_checksum)
{
	struct disk_addr a;
	uint8_t k[DISK_KEY_LEN], *p;
	struct disk_store *ds;
	uint64_t pos;
	size_t n;

	ck_assert_int_eq(disk_store_create(path, 4096 + 16 * RSIZE, &opts,
	    false), 0);
	ds = open_store(false);
	ck_assert_int_eq(put(ds, 1, 1), 0);
	ck_assert_int_eq(put(ds, 2, 1), 0);
	/* Seal the first region: fill it with others. */
	while (disk_store_stat(ds, DISK_STAT_sealed) == 0)
		ck_assert_int_eq(put(ds, 3, 1), 0);
	ck_assert_int_eq(put(ds, 1, 2), 0);
	ck_assert_int_eq(put(ds, 2, 2), 0);
	make_key(k, 1);
	ck_assert(disk_index_lookup(disk_store_index(ds), k, &a));
	pos = disk_region_pos(disk_store_sb(ds), a.region) + a.offset;
	ck_assert_int_eq(disk_store_close(&ds), 0);
	file_bytes(&p, &n);
	p[pos + a.rec_len - 20] ^= 0x04;	/* in the body */
	file_put(p, n);
	free(p);
	ds = open_store(true);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_bad_records), 1);
	ck_assert(disk_index_lookup(disk_store_index(ds), k, &a));
	ck_assert_uint_eq(a.region, 0);	/* version 1, not the damaged 2 */
	ck_assert_int_eq(get_version(ds, 1), 1);
	ck_assert_int_eq(get_version(ds, 2), 2);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_get_corrupt), 0);
	disk_store_close(&ds);
}
END_TEST

/* A record of a sealed region is indexed from the footer unread: a
 * damaged one fails at the read, is dropped, counted, and reads as a
 * miss. */
START_TEST(a_damaged_sealed_record_is_a_counted_miss)
{
	struct disk_addr a;
	uint8_t k[DISK_KEY_LEN], *p;
	struct disk_store *ds;
	uint64_t pos;
	size_t n;

	ck_assert_int_eq(disk_store_create(path, 4096 + 16 * RSIZE, &opts,
	    false), 0);
	ds = open_store(false);
	ck_assert_int_eq(put(ds, 1, 1), 0);
	while (disk_store_stat(ds, DISK_STAT_sealed) == 0)
		ck_assert_int_eq(put(ds, 3, 1), 0);
	make_key(k, 1);
	ck_assert(disk_index_lookup(disk_store_index(ds), k, &a));
	pos = disk_region_pos(disk_store_sb(ds), a.region) + a.offset;
	ck_assert_int_eq(disk_store_close(&ds), 0);
	file_bytes(&p, &n);
	p[pos + DISK_REC_HDR_LEN + 3] ^= 0x80;	/* in the URL */
	file_put(p, n);
	free(p);
	ds = open_store(true);
	ck_assert(disk_index_lookup(disk_store_index(ds), k, NULL));
	ck_assert_int_eq(get_version(ds, 1), 0);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_get_corrupt), 1);
	ck_assert(!disk_index_lookup(disk_store_index(ds), k, NULL));
	disk_store_close(&ds);
}
END_TEST

/* A back-end whose writes fail from the nth on. */
struct failing_io {
	struct disk_io	io;
	struct disk_io	*real;
	int		writes_left;
};

static int
fail_read(struct disk_io *io, void *b, size_t len, uint64_t off)
{
	struct failing_io *f = (struct failing_io *)io;

	return (disk_io_read(f->real, b, len, off));
}

static int
fail_write(struct disk_io *io, const void *b, size_t len, uint64_t off)
{
	struct failing_io *f = (struct failing_io *)io;

	if (f->writes_left-- <= 0)
		return (-ENOSPC);
	return (disk_io_write(f->real, b, len, off));
}

static int
fail_sync(struct disk_io *io)
{
	return (0);
}

static void
fail_close(struct disk_io *io)
{
	struct failing_io *f = (struct failing_io *)io;

	disk_io_close(&f->real);
	free(f);
}

static const struct disk_io_ops fail_ops = {
	.read = fail_read,
	.write = fail_write,
	.sync = fail_sync,
	.close = fail_close,
};

START_TEST(a_failed_write_takes_the_store_out_and_indexes_nothing)
{
	struct failing_io *f;
	struct disk_store *ds;
	int err;

	ck_assert_int_eq(disk_store_create(path, 4096 + 16 * RSIZE, &opts,
	    false), 0);
	f = calloc(1, sizeof *f);
	ck_assert_ptr_nonnull(f);
	f->io.magic = DISK_IO_MAGIC;
	f->io.ops = &fail_ops;
	f->real = disk_io_file_open(path, 0, 0, 0, &err);
	ck_assert_ptr_nonnull(f->real);
	f->io.size = f->real->size;
	f->writes_left = 1;
	ds = disk_store_open_io(&f->io, &opts, &err, NULL);
	ck_assert_ptr_nonnull(ds);
	ck_assert_int_eq(put(ds, 1, 1), 0);
	ck_assert_int_eq(disk_store_flush(ds), 0);
	ck_assert_int_eq(put(ds, 2, 1), 0);
	ck_assert_int_eq(disk_store_flush(ds), -ENOSPC);
	ck_assert_uint_eq(disk_index_count(disk_store_index(ds)), 0);
	ck_assert_int_eq(put(ds, 3, 1), -EIO);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_write_errors), 1);
	disk_store_close(&ds);
	/* What reached the file is still there. */
	ds = open_store(true);
	ck_assert_int_eq(get_version(ds, 1), 1);
	ck_assert_int_eq(get_version(ds, 2), 0);
	disk_store_close(&ds);
}
END_TEST

/* Put small objects from *id on until the log's end is in region r. */
static void
fill_to(struct disk_store *ds, unsigned *id, uint32_t r)
{
	const struct disk_sb *sb = disk_store_sb(ds);

	while (disk_store_log_end(ds) < disk_region_pos(sb, r) ||
	    disk_store_log_end(ds) >= disk_region_pos(sb, r) + RSIZE) {
		if ((*id + 1) % 37 != 0)
			ck_assert_int_eq(put(ds, *id, 1), 0);
		(*id)++;
	}
}

/* Eviction: FIFO by region, and an object read while its copy is in the
 * oldest quarter of the log is written again at the head: after the log
 * went past its region it is still there, its unread neighbour not.
 * With no_reinsert the store is plain FIFO. */
START_TEST(a_read_object_near_reclaim_is_reinserted)
{
	struct disk_store_opts o = opts;
	struct disk_store *ds;
	unsigned id = 0;
	int err;

	o.no_reinsert = _i == 1;
	ck_assert_int_eq(disk_store_create(path, 16 * RSIZE + DISK_SB_SIZE,
	    &o, false), 0);
	ds = disk_store_open(path, &o, &err, NULL);
	ck_assert_ptr_nonnull(ds);
	fill_to(ds, &id, 13);
	/* Objects 0 and 2 are in region 0, three regions from the tail. */
	ck_assert_int_eq(get_version(ds, 0), 1);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_reinserted),
	    _i == 1 ? 0 : 1);
	/* Read again from the new copy: no second reinsertion. */
	ck_assert_int_eq(get_version(ds, 0), 1);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_reinserted),
	    _i == 1 ? 0 : 1);
	fill_to(ds, &id, 15);
	fill_to(ds, &id, 2);		/* regions 0 and 1 reclaimed */
	ck_assert_int_eq(get_version(ds, 2), 0);
	ck_assert_int_eq(get_version(ds, 0), _i == 1 ? 0 : 1);
	ck_assert_int_eq(disk_store_close(&ds), 0);
	/* The copy is a record like any other: there after a reopen. */
	ds = open_store(false);
	ck_assert_int_eq(get_version(ds, 0), _i == 1 ? 0 : 1);
	ck_assert_int_eq(disk_store_close(&ds), 0);
}
END_TEST

/* The id of the next object put while the log is in region r. */
static unsigned
put_in(struct disk_store *ds, unsigned *id, uint32_t r)
{
	fill_to(ds, id, r);
	while ((*id + 1) % 37 == 0)
		(*id)++;
	ck_assert_int_eq(put(ds, *id, 1), 0);
	return ((*id)++);
}

/* Every object written is its bytes or a miss; returns the hits. */
static size_t
all_whole(struct disk_store *ds, unsigned n)
{
	size_t hits = 0;
	unsigned i;
	int v;

	for (i = 0; i < n; i++) {
		v = get_version(ds, i);
		ck_assert_int_ne(v, -1);
		hits += v == 1;
	}
	return (hits);
}

static bool
has(struct disk_store *ds, unsigned id)
{
	uint8_t k[DISK_KEY_LEN];

	make_key(k, id);
	return (disk_store_has(ds, k));
}

static uint64_t
file_size(void)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return ((uint64_t)st.st_size);
}

/* Resizing in place: grown, the new regions are used after the old end
 * of the log before anything is reclaimed; shrunk, what is in the
 * retired regions (or wraps through them) is a counted miss, the rest
 * stays, the file is cut, and a reopen agrees; a writer in a retired
 * region starts again at region 0. */
START_TEST(a_store_grows_and_shrinks_in_place)
{
	struct disk_store *ds;
	unsigned id = 0, first, late, n;
	size_t hits;

	ck_assert_int_eq(disk_store_create(path, 8 * RSIZE + DISK_SB_SIZE,
	    &opts, false), 0);
	ds = open_store(false);
	first = put_in(ds, &id, 0);
	fill_to(ds, &id, 6);
	ck_assert_int_eq(disk_store_resize(ds, 16 * RSIZE + DISK_SB_SIZE),
	    0);
	ck_assert_uint_eq(disk_store_sb(ds)->nregions, 16);
	ck_assert_uint_eq(file_size(), 16 * RSIZE + DISK_SB_SIZE);
	ck_assert_uint_eq(all_whole(ds, id), disk_index_count(
	    disk_store_index(ds)));
	/* Past the old end: at 8 regions region 0 would be gone. */
	late = put_in(ds, &id, 11);
	ck_assert(has(ds, first));
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_reclaimed), 0);
	/* Round the log once: region 0 reclaimed, the writer in 1. */
	fill_to(ds, &id, 1);
	ck_assert(!has(ds, first));
	ck_assert(has(ds, late));
	n = id;
	/* Shrunk to 6: regions 6 to 15 retired. */
	ck_assert_int_eq(disk_store_resize(ds, 6 * RSIZE + DISK_SB_SIZE +
	    100), 0);
	ck_assert_uint_eq(disk_store_sb(ds)->nregions, 6);
	ck_assert_uint_eq(file_size(), 6 * RSIZE + DISK_SB_SIZE);
	ck_assert(!has(ds, late));
	ck_assert_uint_gt(disk_store_stat(ds, DISK_STAT_retired), 0);
	hits = all_whole(ds, n);
	ck_assert_uint_gt(hits, 0);
	ck_assert_uint_eq(hits, disk_index_count(disk_store_index(ds)));
	fill_to(ds, &id, 3);
	hits = disk_index_count(disk_store_index(ds));
	ck_assert_int_eq(disk_store_close(&ds), 0);
	ds = open_store(false);
	ck_assert_uint_eq(disk_store_sb(ds)->nregions, 6);
	ck_assert_uint_eq(disk_index_count(disk_store_index(ds)), hits);
	ck_assert_uint_eq(all_whole(ds, id), hits);
	/* The writer in region 4, retired by a shrink to 3: it goes on
	 * at region 0 and what it writes there is kept. */
	fill_to(ds, &id, 4);
	ck_assert_int_eq(disk_store_resize(ds, 3 * RSIZE + DISK_SB_SIZE),
	    0);
	ck_assert_uint_lt(disk_store_log_end(ds), disk_region_pos(
	    disk_store_sb(ds), 1));
	late = put_in(ds, &id, 0);
	ck_assert(has(ds, late));
	ck_assert_int_eq(disk_store_resize(ds, RSIZE), -EINVAL);
	ck_assert_int_eq(disk_store_close(&ds), 0);
	ck_assert_uint_eq(file_size(), 3 * RSIZE + DISK_SB_SIZE);
	ds = open_store(false);
	ck_assert_uint_eq(disk_store_sb(ds)->nregions, 3);
	ck_assert_int_eq(get_version(ds, late), 1);
	ck_assert_uint_eq(all_whole(ds, id), disk_index_count(
	    disk_store_index(ds)));
	ck_assert_int_eq(disk_store_close(&ds), 0);
}
END_TEST

/* A body of len bytes for key id, in chunks when it is large. */
static int
put_len(struct disk_store *ds, unsigned id, size_t len)
{
	struct tobj t;
	int e;

	tobj_make(&t, id, 1);
	free(t.body);
	t.body = calloc(1, len);
	ck_assert_ptr_nonnull(t.body);
	t.o.body = t.body;
	t.o.body_len = len;
	e = disk_store_put(ds, &t.o);
	tobj_fini(&t);
	return (e);
}

/* Whether key id reads back with len body bytes. */
static bool
reads_whole(struct disk_store *ds, unsigned id, size_t len)
{
	struct disk_obj o;
	uint8_t k[DISK_KEY_LEN];
	bool ok;

	make_key(k, id);
	if (disk_store_get(ds, k, &o) != 0)
		return (false);
	ok = o.body_len == len;
	disk_obj_fini(&o);
	return (ok);
}

/* The region of key id's first chunk. */
static uint32_t
first_region(struct disk_store *ds, unsigned id)
{
	uint8_t k[DISK_KEY_LEN];
	struct disk_addr a;

	make_key(k, id);
	ck_assert(disk_index_lookup(disk_store_index(ds), k, &a));
	return (a.first_region);
}

/* Small objects put until the log's end is halfway through region r. */
static void
fill_half(struct disk_store *ds, unsigned *id, uint32_t r)
{
	const struct disk_sb *sb = disk_store_sb(ds);

	fill_to(ds, id, r);
	while (disk_store_log_end(ds) < disk_region_pos(sb, r) + RSIZE / 2)
		if ((*id + 1) % 37 != 0)
			ck_assert_int_eq(put(ds, (*id)++, 1), 0);
		else
			(*id)++;
}

/*
 * An object whose chunks wrap from the end of the log to its start
 * through a region a shrink retires is counted retired, never a drop (a
 * checksum or an entry refused), in service and when the store opens
 * again, and its older version stays hidden.  _i & 1: its first chunk
 * in the retired region (0), or before it with its head after (1);
 * _i & 2: its head's region sealed before the reopen (read from its
 * footer) or still open (record by record).  An object that wraps once
 * the store is smaller is whole after a reopen.
 */
START_TEST(an_object_wrapping_through_retired_regions_is_retired)
{
	struct disk_store *ds;
	const struct disk_sb *sb;
	unsigned id = 1000, big = 5, big2 = 6;
	size_t len = (_i & 1) == 0 ? 40000 : 90000;

	ck_assert_int_eq(disk_store_create(path, 16 * RSIZE + DISK_SB_SIZE,
	    &opts, false), 0);
	ds = open_store(false);
	sb = disk_store_sb(ds);
	fill_to(ds, &id, 5);
	ck_assert_int_eq(put(ds, big, 1), 0);	/* the older version */
	fill_half(ds, &id, (_i & 1) == 0 ? 15 : 14);
	ck_assert_int_eq(put_len(ds, big, len), 0);
	ck_assert_uint_lt(disk_store_log_end(ds), disk_region_pos(sb, 1));
	ck_assert(reads_whole(ds, big, len));
	ck_assert_uint_eq(first_region(ds, big), (_i & 1) == 0 ? 15 : 14);
	/* Region 15 retired. */
	ck_assert_int_eq(disk_store_resize(ds, 15 * RSIZE + DISK_SB_SIZE),
	    0);
	ck_assert(!has(ds, big));
	ck_assert_int_eq(get_version(ds, big), 0);
	ck_assert_uint_gt(disk_store_stat(ds, DISK_STAT_retired), 0);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_get_corrupt), 0);
	if (_i & 2)
		fill_to(ds, &id, 1);
	ck_assert_int_eq(disk_store_close(&ds), 0);
	ds = open_store(false);
	sb = disk_store_sb(ds);
	ck_assert(!has(ds, big));
	ck_assert_int_eq(get_version(ds, big), 0);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_get_corrupt), 0);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_bad_entries), 0);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_retired), 1);
	/* Round the smaller log: a new object wraps from 14 to 0. */
	fill_half(ds, &id, 14);
	ck_assert_int_eq(put_len(ds, big2, 60000), 0);
	ck_assert_uint_eq(first_region(ds, big2), 14);
	ck_assert_uint_lt(disk_store_log_end(ds), disk_region_pos(sb, 1));
	if (_i & 2)
		fill_to(ds, &id, 1);
	ck_assert_int_eq(disk_store_close(&ds), 0);
	ds = open_store(false);
	ck_assert(reads_whole(ds, big2, 60000));
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_retired), 0);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_bad_entries), 0);
	ck_assert_int_eq(disk_store_close(&ds), 0);
}
END_TEST


/* An object in chunks read whole near reclaim is written again too (its
 * first chunk's region is its age). */
START_TEST(a_chunked_object_read_near_reclaim_is_reinserted)
{
	struct disk_store *ds;
	unsigned id = 0, big = 73;	/* (73 + 1) % 37: chunked */

	ck_assert_int_eq(disk_store_create(path, 16 * RSIZE + DISK_SB_SIZE,
	    &opts, false), 0);
	ds = open_store(false);
	ck_assert_uint_gt(obj_size(big, 1), RSIZE);	/* two regions */
	ck_assert_int_eq(put(ds, big, 1), 0);
	fill_to(ds, &id, 13);
	ck_assert_int_eq(get_version(ds, big), 1);
	ck_assert_uint_eq(disk_store_stat(ds, DISK_STAT_reinserted), 1);
	fill_to(ds, &id, 15);
	fill_to(ds, &id, 2);		/* regions 0 and 1 reclaimed */
	ck_assert_int_eq(get_version(ds, big), 1);
	ck_assert_int_eq(disk_store_close(&ds), 0);
}
END_TEST

static Suite *
disk_store_suite(void)
{
	Suite *s = suite_create("disk_store");
	TCase *tc;

	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, put_get_small_and_chunked_and_reopen);
	tcase_add_test(tc, a_body_in_slices_writes_the_same_file);
	tcase_add_test(tc, a_store_grows_and_shrinks_in_place);
	tcase_add_test(tc, a_chunked_object_read_near_reclaim_is_reinserted);
	tcase_add_loop_test(tc,
	    an_object_wrapping_through_retired_regions_is_retired, 0, 4);
	tcase_add_loop_test(tc, a_read_object_near_reclaim_is_reinserted, 0,
	    2);
	tcase_add_test(tc, a_put_in_pieces_is_whole_after_reopen);
	tcase_add_test(tc, foreign_files_and_other_versions_are_refused);
	tcase_add_test(tc, crash_keeps_v2_and_the_purge);
	tcase_add_test(tc, cut_at_every_record_gives_the_last_whole_version);
	tcase_add_test(tc, damage_never_serves_other_bytes);
	tcase_add_test(tc, scan_never_indexes_a_record_failing_its_checksum);
	tcase_add_test(tc, a_damaged_sealed_record_is_a_counted_miss);
	tcase_add_test(tc,
	    a_failed_write_takes_the_store_out_and_indexes_nothing);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(disk_store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
