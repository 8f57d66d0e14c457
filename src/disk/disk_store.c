/*
 * disk_store.c - making a store, reading objects back, closing.
 *
 * A read trusts nothing it did not check: the head record's header and
 * checksum, that it is a head of the key asked for and as long as the
 * index said, then each chunk the head's map names (kind, key, sequence
 * number and index as the map says, checksum), and that the chunks add up
 * to the object's size.  Anything else is a damaged or overwritten record:
 * the entry leaves the index and the read is a miss.
 */
#include "config.h"

#include <sys/random.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/check.h"
#include "comm/comm.h"
#include "disk/disk_int.h"
#include "store/store.h"

_Static_assert(DISK_KEY_LEN == STORE_KEY_LEN, "disk keys are store keys");

static const char *const stat_names[] = {
#define DISK_STAT(sym, text)	#sym,
	DISK_STATS
#undef DISK_STAT
};

const char *
disk_stat_name(enum disk_stat s)
{
	CHECK((unsigned)s < ARRAY_LEN(stat_names));
	return (stat_names[s]);
}

int
disk_store_create(const char *path, uint64_t size,
    const struct disk_store_opts *o, bool overwrite)
{
	uint32_t rsize = o != NULL && o->region_size != 0 ? o->region_size :
	    DISK_REGION_MAX;
	uint8_t *blk;
	struct disk_io *io;
	struct disk_sb sb;
	uint64_t n;
	int e;

	AN(path);
	if (rsize < DISK_REGION_MIN || rsize > DISK_REGION_MAX ||
	    rsize % 4096 != 0 || size < DISK_SB_SIZE)
		return (-EINVAL);
	n = (size - DISK_SB_SIZE) / rsize;
	if (n < 2 || n > DISK_REGIONS_MAX)
		return (-EINVAL);
	memset(&sb, 0, sizeof sb);
	sb.version = DISK_FORMAT_VERSION;
	sb.region_size = rsize;
	sb.nregions = (uint32_t)n;
	sb.created = (uint64_t)time(NULL);
	if (getrandom(sb.id, sizeof sb.id, 0) != (ssize_t)sizeof sb.id)
		return (-errno);
	blk = calloc(1, DISK_SB_SIZE);
	if (blk == NULL)
		return (-ENOMEM);
	disk_sb_encode(&sb, blk);
	io = disk_io_file_open(path, 1, overwrite,
	    DISK_SB_SIZE + n * rsize, &e);
	if (io != NULL) {
		e = disk_io_write(io, blk, DISK_SB_SIZE, 0);
		if (e == 0)
			e = disk_io_sync(io);
		disk_io_close(&io);
	}
	free(blk);
	return (e);
}

static void	get_orphan_all(struct disk_store *ds);

int
disk_store_close(struct disk_store **dsp)
{
	struct disk_store *ds;
	int e;

	if (*dsp == NULL)
		return (0);
	TAKE_OBJ_NOTNULL(ds, dsp, DISK_STORE_MAGIC);
	disk_reclaim_cancel(ds);
	get_orphan_all(ds);
	disk_put_orphan_all(ds);
	disk_load_close(ds);
	if (ds->img != NULL) {
		e = disk_img_close(ds);
		/* Its images are written: nothing reaches past the end. */
		if (ds->trunc_to != 0)
			(void)disk_io_resize(ds->io, ds->trunc_to);
	} else {
		e = ds->failed != 0 || ds->read_only ? 0 :
		    disk_store_flush(ds);
		if (e == 0 && ds->failed == 0 && !ds->read_only &&
		    !ds->no_sync)
			e = disk_io_sync(ds->io);
		free(ds->buf);
	}
	disk_io_close(&ds->io);
	disk_index_free(&ds->idx);
	free(ds->ents);
	FREE_OBJ(ds);
	return (e);
}

void
disk_obj_fini(struct disk_obj *o)
{
	if (o == NULL)
		return;
	free(o->mem);
	memset(o, 0, sizeof *o);
}

/* len bytes at (region, off) into dst. */
static int
read_at(struct disk_store *ds, uint32_t region, uint32_t off, uint32_t len,
    uint8_t *dst)
{
	if (disk_img_copy(ds, region, off, len, dst))
		return (0);
	return (disk_io_read(ds->io, dst, len,
	    disk_region_pos(&ds->sb, region) + off));
}

/* Chunk i of head h (in hin) into body; -EBADMSG when it is not the chunk
 * the map names. */
static int
read_chunk(struct disk_store *ds, const struct disk_rec *h,
    const uint8_t *hin, uint32_t i, uint8_t *body, uint64_t *at,
    uint8_t *tmp)
{
	struct disk_chunk_ref c;
	struct disk_rec r;
	int e;

	if (disk_rec_chunk_ref(h, hin, i, &ds->sb, &c) != DISK_FMT_OK ||
	    c.body_len > DISK_CHUNK_MAX || c.body_len > h->object_size - *at)
		return (-EBADMSG);
	if ((e = read_at(ds, c.region, c.offset, c.rec_len, tmp)) != 0)
		return (e);
	if (disk_rec_decode_header(&r, tmp, c.rec_len, ds->tag) !=
	    DISK_FMT_OK || r.kind != DISK_REC_CHUNK || r.seq != c.seq ||
	    r.nchunks != i || r.body_len != c.body_len ||
	    r.object_size < h->object_size ||
	    memcmp(r.key, h->key, DISK_KEY_LEN) != 0 ||
	    disk_rec_verify(&r, tmp) != DISK_FMT_OK)
		return (-EBADMSG);
	memcpy(body + *at, disk_rec_body(&r, tmp), r.body_len);
	*at += r.body_len;
	return (0);
}

int
disk_store_get(struct disk_store *ds, const uint8_t key[DISK_KEY_LEN],
    struct disk_obj *o)
{
	uint8_t *mem = NULL, *tmp = NULL, *body;
	struct disk_addr a;
	struct disk_rec h;
	uint64_t at = 0;
	uint32_t i;
	int e;

	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	AN(o);
	memset(o, 0, sizeof *o);
	if (ds->failed != 0)
		return (-EIO);
	if (ds->load != NULL || !disk_index_lookup(ds->idx, key, &a))
		return (-ENOENT);
	ds->stats[DISK_STAT_gets]++;
	mem = malloc(a.rec_len);
	if (mem == NULL)
		return (-ENOMEM);
	if ((e = read_at(ds, a.region, a.offset, a.rec_len, mem)) != 0)
		goto fail;
	e = -EBADMSG;
	if (disk_rec_decode_header(&h, mem, a.rec_len, ds->tag) !=
	    DISK_FMT_OK || h.kind != DISK_REC_HEAD || h.rec_len != a.rec_len ||
	    memcmp(h.key, key, DISK_KEY_LEN) != 0 ||
	    disk_rec_verify(&h, mem) != DISK_FMT_OK)
		goto fail;
	if (h.flags & DISK_RECF_CHUNKED) {
		/* The size is checksummed, but bounded all the same: the
		 * map cannot name more than its chunks can hold. */
		if (h.object_size > (uint64_t)h.nchunks * DISK_CHUNK_MAX)
			goto fail;
		body = realloc(mem, a.rec_len + h.object_size);
		tmp = malloc(disk_rec_len(0, 0, 0, DISK_CHUNK_MAX));
		if (body == NULL || tmp == NULL) {
			if (body != NULL)
				mem = body;
			e = -ENOMEM;
			free(tmp);
			free(mem);
			return (e);
		}
		mem = body;
		for (i = 0; i < h.nchunks; i++)
			if ((e = read_chunk(ds, &h, mem, i, mem + a.rec_len,
			    &at, tmp)) != 0)
				goto fail;
		e = -EBADMSG;
		if (at != h.object_size)
			goto fail;
		free(tmp);
		o->body = mem + a.rec_len;
	} else
		o->body = disk_rec_body(&h, mem);
	memcpy(o->key, key, DISK_KEY_LEN);
	o->url = disk_rec_url(&h, mem);
	o->url_len = h.url_len;
	o->hdrs = disk_rec_hdrs(&h, mem);
	o->hdr_len = h.hdr_len;
	o->body_len = (size_t)h.object_size;
	o->mem = mem;
	ds->read_errors = 0;
	disk_index_mark_read(ds->idx, key);
	disk_reinsert(ds, &a, o);
	return (0);
fail:
	free(tmp);
	free(mem);
	ds->stats[e == -EBADMSG ? DISK_STAT_get_corrupt :
	    DISK_STAT_get_errors]++;
	if (e != -EBADMSG && e != -ENOMEM &&
	    ++ds->read_errors >= DISK_READ_ERRORS_MAX && ds->failed == 0)
		ds->failed = e;
	(void)disk_index_remove(ds->idx, key);
	return (e);
}

/*
 * Asynchronous reads.  One struct disk_get per read, through its steps:
 *
 *	get_read(head)		from memory (a copy, delivered by g->call)
 *				or the file (disk_io read_start)
 *	get_got			head checked; a chunked one reads its
 *				chunks in turn, each checked, each body a
 *				slice of its record's block
 *	get_finish		done(err, got), the blocks let go
 *
 * The same checks as disk_store_get().  A store closed while reads are
 * out orphans them (g->ds NULL): each ends with -ECANCELED when its I/O
 * comes back.
 */
struct disk_get {
	unsigned		magic;
#define DISK_GET_MAGIC		0x6e7d15c0
	struct disk_store	*ds;
	struct comm_loop	*loop;
	struct list		link;	/* ds->gets */
	uint8_t			key[DISK_KEY_LEN];
	struct disk_addr	a;
	struct disk_rec		h;
	uint32_t		chunk;	/* the next to read */
	uint64_t		at;	/* body bytes so far */
	struct disk_got		got;
	struct buf		*mem;	/* a copy from memory, for g->call */
	int			post_err;	/* for g->call, when set */
	struct comm_call	call;
	disk_get_fn		*done;
	disk_part_fn		*part;	/* a stream's, else NULL */
	void			*arg;
	bool			busy;	/* a read or call out */
	bool			in_part;	/* part running */
	bool			cancelled;	/* freed when it comes back */
	struct disk_put		*re;	/* its copy, reinserted, or NULL */
};

static void
get_free(struct disk_get *g)
{
	if (g->ds != NULL)
		list_remove(&g->link);
	disk_reinsert_end(&g->re, NULL, 0);
	buf_unref(&g->got.head);
	buf_unref(&g->mem);
	buf_chain_fini(&g->got.body);
	FREE_OBJ(g);
}

/* A stream's part: false when it was cancelled meanwhile (g is gone). */
static bool
get_part(struct disk_get *g, bool last)
{
	g->in_part = true;
	g->part(0, &g->got, last, g->arg);
	g->in_part = false;
	buf_chain_consume(&g->got.body, buf_chain_len(&g->got.body));
	if (g->cancelled && !g->busy) {
		get_free(g);
		return (false);
	}
	return (true);
}

static void
get_orphan_all(struct disk_store *ds)
{
	struct disk_get *g;
	struct list *n;

	while ((n = list_first(&ds->gets)) != NULL) {
		g = container_of(n, struct disk_get, link);
		list_remove(n);
		g->ds = NULL;
	}
}

static void
get_finish(struct disk_get *g, int err)
{
	struct disk_store *ds = g->ds;
	struct disk_addr now;

	CHECK_OBJ_NOTNULL(g, DISK_GET_MAGIC);
	if (ds != NULL) {
		list_remove(&g->link);
		if (err == -EBADMSG || (err != 0 && err != -ENOMEM &&
		    err != -ECANCELED)) {
			ds->stats[err == -EBADMSG ? DISK_STAT_get_corrupt :
			    DISK_STAT_get_errors]++;
			if (err != -EBADMSG && ++ds->read_errors >=
			    DISK_READ_ERRORS_MAX && ds->failed == 0)
				ds->failed = err;
			/* Only the version that failed leaves the index. */
			if (disk_index_lookup(ds->idx, g->key, &now) &&
			    now.region == g->a.region &&
			    now.offset == g->a.offset)
				(void)disk_index_remove(ds->idx, g->key);
		} else if (err == 0) {
			ds->read_errors = 0;
			disk_index_mark_read(ds->idx, g->key);
		}
	} else if (err == 0)
		err = -ECANCELED;
	if (g->cancelled)
		;			/* nobody to tell */
	else if (g->part != NULL) {
		if (err != 0)
			g->part(err, NULL, true, g->arg);
	} else
		g->done(err, err == 0 ? &g->got : NULL, g->arg);
	if (ds != NULL)
		g->ds = NULL;		/* off the list already */
	get_free(g);
}

static void	get_got(struct disk_get *g, struct buf *b);

static void
get_io_done(int err, const struct buf_slice *data, void *arg)
{
	struct disk_get *g = arg;

	CHECK_OBJ_NOTNULL(g, DISK_GET_MAGIC);
	g->busy = false;
	if (err == 0 && g->ds != NULL)
		g->ds->stats[DISK_STAT_bytes_read] += data->len;
	if (g->cancelled)
		err = -ECANCELED;
	if (err != 0) {
		get_finish(g, err);
		return;
	}
	get_got(g, buf_ref(data->buf));
}

static void
get_mem_call(struct comm_call *call)
{
	struct disk_get *g = container_of(call, struct disk_get, call);
	struct buf *b = g->mem;

	CHECK_OBJ_NOTNULL(g, DISK_GET_MAGIC);
	g->mem = NULL;
	g->busy = false;
	if (g->cancelled && g->post_err == 0)
		g->post_err = -ECANCELED;
	if (g->post_err != 0) {
		buf_unref(&b);
		get_finish(g, g->post_err);
		return;
	}
	if (b == NULL) {
		get_finish(g, -ENOMEM);
		return;
	}
	get_got(g, b);
}

/* err for g, from the loop: a stream's next step must not call back
 * inside the call that asked for it. */
static void
get_post_err(struct disk_get *g, int err)
{
	g->busy = true;
	g->post_err = err;
	comm_call_post(g->loop, &g->call);
}

/* Read len bytes at (region, off), then get_got(). */
static void
get_read(struct disk_get *g, uint32_t region, uint32_t off, uint32_t len)
{
	struct disk_store *ds = g->ds;
	int e;

	g->busy = true;
	if (ds == NULL) {
		get_post_err(g, -ECANCELED);
		return;
	}
	if (!disk_img_copy(ds, region, off, len, NULL)) {
		e = ds->io->ops->read_start(ds->io, len,
		    disk_region_pos(&ds->sb, region) + off, get_io_done, g);
		if (e == 0)
			return;
	} else if ((g->mem = buf_alloc(comm_loop_pool(g->loop),
	    len)) != NULL) {
		(void)disk_img_copy(ds, region, off, len, buf_data(g->mem));
		g->mem->fill = len;
	}
	/* A copy, or no memory for either: from the loop all the same. */
	comm_call_post(g->loop, &g->call);
}

static void
get_next_chunk(struct disk_get *g)
{
	struct disk_chunk_ref c;

	if (g->chunk == g->h.nchunks) {
		get_finish(g, g->at == g->h.object_size ? 0 : -EBADMSG);
		return;
	}
	if (g->ds == NULL) {
		get_post_err(g, -ECANCELED);
		return;
	}
	if (disk_rec_chunk_ref(&g->h, buf_data(g->got.head), g->chunk,
	    &g->ds->sb, &c) != DISK_FMT_OK || c.body_len > DISK_CHUNK_MAX ||
	    c.body_len > g->h.object_size - g->at) {
		get_post_err(g, -EBADMSG);
		return;
	}
	get_read(g, c.region, c.offset, c.rec_len);
}

/* A whole object read (one record at in): reinserted if it is about to
 * be reclaimed. */
static void
get_reinsert(struct disk_get *g, const uint8_t *in)
{
	struct disk_obj o;

	memset(&o, 0, sizeof o);
	memcpy(o.key, g->key, DISK_KEY_LEN);
	o.url = disk_rec_url(&g->h, in);
	o.url_len = g->h.url_len;
	o.hdrs = disk_rec_hdrs(&g->h, in);
	o.hdr_len = g->h.hdr_len;
	o.body = disk_rec_body(&g->h, in);
	o.body_len = (size_t)g->h.object_size;
	disk_reinsert(g->ds, &g->a, &o);
}

/* An object's bytes in all, as the share of reinsertion counts them. */
static uint64_t
g_len(const struct disk_get *g)
{
	return (g->h.url_len + g->h.hdr_len + g->h.object_size);
}

/* A chunked object read whole: its copy, if one is being written, gets
 * its head. */
static void
get_reinsert_end(struct disk_get *g)
{
	const uint8_t *in;
	struct disk_obj o;

	if (g->re == NULL)
		return;
	in = buf_data(g->got.head);
	memset(&o, 0, sizeof o);
	o.url = disk_rec_url(&g->h, in);
	o.url_len = g->h.url_len;
	o.hdrs = disk_rec_hdrs(&g->h, in);
	o.hdr_len = g->h.hdr_len;
	disk_reinsert_end(&g->re, &o, g_len(g));
}

static void
get_got(struct disk_get *g, struct buf *b)
{
	const uint8_t *in = buf_data(b);
	struct disk_chunk_ref c;
	struct disk_rec r;
	uint32_t tag;

	if (g->ds == NULL) {
		buf_unref(&b);
		get_finish(g, -ECANCELED);
		return;
	}
	tag = g->ds->tag;
	if (g->got.head == NULL) {
		if (disk_rec_decode_header(&g->h, in, b->fill, tag) !=
		    DISK_FMT_OK || g->h.kind != DISK_REC_HEAD ||
		    g->h.rec_len != g->a.rec_len ||
		    memcmp(g->h.key, g->key, DISK_KEY_LEN) != 0 ||
		    disk_rec_verify(&g->h, in) != DISK_FMT_OK ||
		    ((g->h.flags & DISK_RECF_CHUNKED) && g->h.object_size >
		    (uint64_t)g->h.nchunks * DISK_CHUNK_MAX)) {
			buf_unref(&b);
			get_finish(g, -EBADMSG);
			return;
		}
		g->got.head = b;
		g->got.url = disk_rec_url(&g->h, in);
		g->got.url_len = g->h.url_len;
		g->got.hdrs = disk_rec_hdrs(&g->h, in);
		g->got.hdr_len = g->h.hdr_len;
		g->got.size = g->h.object_size;
		if (!(g->h.flags & DISK_RECF_CHUNKED)) {
			get_reinsert(g, in);
			if (g->h.object_size > 0 && buf_chain_append_slice(
			    &g->got.body, b, (size_t)(disk_rec_body(&g->h, in) -
			    in), (size_t)g->h.object_size) != 0) {
				get_finish(g, -ENOMEM);
				return;
			}
			if (g->part != NULL && !get_part(g, true))
				return;
			get_finish(g, 0);
			return;
		}
		g->re = disk_reinsert_begin(g->ds, &g->a, g->key,
		    g->h.object_size, g_len(g));
		if (g->part != NULL) {
			/* Told of the head; the chunks when asked. */
			(void)get_part(g, false);
			return;
		}
		get_next_chunk(g);
		return;
	}
	/* Chunk g->chunk: the map was checked before its read. */
	(void)disk_rec_chunk_ref(&g->h, buf_data(g->got.head), g->chunk,
	    &g->ds->sb, &c);
	if (disk_rec_decode_header(&r, in, b->fill, tag) != DISK_FMT_OK ||
	    r.kind != DISK_REC_CHUNK || r.seq != c.seq ||
	    r.nchunks != g->chunk || r.body_len != c.body_len ||
	    r.rec_len != c.rec_len || r.object_size < g->h.object_size ||
	    memcmp(r.key, g->key, DISK_KEY_LEN) != 0 ||
	    disk_rec_verify(&r, in) != DISK_FMT_OK) {
		buf_unref(&b);
		get_finish(g, -EBADMSG);
		return;
	}
	if (r.body_len > 0 && buf_chain_append_slice(&g->got.body, b,
	    (size_t)(disk_rec_body(&r, in) - in), r.body_len) != 0) {
		buf_unref(&b);
		get_finish(g, -ENOMEM);
		return;
	}
	/* The copy's chunk is written from this read's block. */
	if (g->re != NULL && disk_put_append_slice(g->re, b,
	    (size_t)(disk_rec_body(&r, in) - in), r.body_len) != 0)
		disk_reinsert_end(&g->re, NULL, 0);
	buf_unref(&b);
	g->at += r.body_len;
	g->chunk++;
	if (g->chunk == g->h.nchunks && g->at == g->h.object_size)
		get_reinsert_end(g);
	if (g->part == NULL) {
		get_next_chunk(g);
		return;
	}
	if (g->chunk == g->h.nchunks && g->at != g->h.object_size) {
		get_finish(g, -EBADMSG);
		return;
	}
	/* A stream: this chunk alone, then the next when asked. */
	if (get_part(g, g->chunk == g->h.nchunks) &&
	    g->chunk == g->h.nchunks)
		get_finish(g, 0);
}

static int
get_start(struct disk_store *ds, const uint8_t key[DISK_KEY_LEN],
    disk_get_fn *done, disk_part_fn *part, void *arg, struct disk_get **gp)
{
	struct disk_get *g;
	struct disk_addr a;

	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	if (ds->loop == NULL)
		return (-EOPNOTSUPP);
	if (ds->failed != 0)
		return (-EIO);
	if (ds->load != NULL || !disk_index_lookup(ds->idx, key, &a))
		return (-ENOENT);
	ALLOC_OBJ(g, DISK_GET_MAGIC);
	if (g == NULL)
		return (-ENOMEM);
	ds->stats[DISK_STAT_gets]++;
	g->ds = ds;
	g->loop = ds->loop;
	memcpy(g->key, key, DISK_KEY_LEN);
	g->a = a;
	g->done = done;
	g->part = part;
	g->arg = arg;
	buf_chain_init(&g->got.body, comm_loop_pool(ds->loop));
	comm_call_init(&g->call, get_mem_call);
	list_insert_tail(&ds->gets, &g->link);
	if (gp != NULL)
		*gp = g;
	get_read(g, a.region, a.offset, a.rec_len);
	return (0);
}

int
disk_store_get_start(struct disk_store *ds, const uint8_t key[DISK_KEY_LEN],
    disk_get_fn *done, void *arg)
{
	AN(done);
	return (get_start(ds, key, done, NULL, arg, NULL));
}

int
disk_stream_start(struct disk_store *ds, const uint8_t key[DISK_KEY_LEN],
    disk_part_fn *part, void *arg, struct disk_stream **sp)
{
	struct disk_get *g = NULL;
	int e;

	AN(part);
	AN(sp);
	e = get_start(ds, key, NULL, part, arg, &g);
	*sp = (struct disk_stream *)g;
	return (e);
}

void
disk_stream_next(struct disk_stream *s)
{
	struct disk_get *g = (struct disk_get *)s;

	CHECK_OBJ_NOTNULL(g, DISK_GET_MAGIC);
	CHECK(!g->busy && !g->cancelled && g->part != NULL);
	get_next_chunk(g);
}

void
disk_stream_cancel(struct disk_stream **sp)
{
	struct disk_get *g;

	if (*sp == NULL)
		return;
	g = (struct disk_get *)*sp;
	*sp = NULL;
	CHECK_OBJ_NOTNULL(g, DISK_GET_MAGIC);
	g->cancelled = true;
	if (g->busy || g->in_part)
		return;			/* freed when its read is back */
	get_free(g);
}

void
disk_stream_joined(struct disk_stream *s)
{
	struct disk_get *g = (struct disk_get *)s;

	CHECK_OBJ_NOTNULL(g, DISK_GET_MAGIC);
	if (g->ds != NULL)
		g->ds->stats[DISK_STAT_joined]++;
}

bool
disk_gets_reach(const struct disk_store *ds, uint32_t n)
{
	const struct disk_get *g;
	const struct list *l;

	LIST_FOREACH(l, &ds->gets) {
		g = container_of(l, const struct disk_get, link);
		if (g->a.region >= n || g->a.first_region >= n ||
		    g->a.first_region > g->a.region)
			return (true);
	}
	return (false);
}

bool
disk_store_has(const struct disk_store *ds, const uint8_t key[DISK_KEY_LEN])
{
	struct disk_addr a;

	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	return (ds->failed == 0 && ds->load == NULL &&
	    disk_index_lookup(ds->idx, key, &a));
}

void
disk_store_set_limits(struct disk_store *ds, const struct disk_store_opts *o)
{
	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	ds->max_size = o->max_size;
	ds->min_size = o->min_size;
	ds->swap_rate = o->max_swap_rate;
	ds->swap_timeout_ms = o->swap_timeout_ms;
}

uint32_t
disk_store_swap_timeout(const struct disk_store *ds)
{
	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	return (ds->swap_timeout_ms);
}

void
disk_store_note_timeout(struct disk_store *ds)
{
	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	ds->stats[DISK_STAT_read_timeouts]++;
}

int
disk_store_failed(const struct disk_store *ds)
{
	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	return (ds->failed);
}

uint64_t
disk_store_stat(const struct disk_store *ds, enum disk_stat s)
{
	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	CHECK((unsigned)s < DISK_NSTATS);
	return (ds->stats[s]);
}

const struct disk_index *
disk_store_index(const struct disk_store *ds)
{
	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	return (ds->idx);
}

const struct disk_sb *
disk_store_sb(const struct disk_store *ds)
{
	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	return (&ds->sb);
}
