/*
 * disk_write.c - the writer: records appended to the open region's
 * buffer, regions sealed with a footer and the next one reclaimed.
 *
 *	disk_region_start(r)	region r reclaimed (its objects leave the
 *				index), its header at the start of the buffer
 *	append			a record into the buffer, an entry for the
 *				footer; the region is sealed first if the
 *				record and the grown footer would not fit;
 *				on a loop, a flush once DISK_WRITE_STEP new
 *				bytes are in
 *	disk_store_flush	the buffer's new bytes to the file (on a
 *				loop in writes of at most DISK_WRITE_STEP)
 *	region_seal		the rest of the records, fdatasync, then the
 *				footer: a footer on disk means every record
 *				it lists is there, so a power cut loses at
 *				most the open region's unsynced records
 *
 * A put that replaces an indexed version, and a purge, are flushed at
 * once (on a loop): the window in which a kill -9 brings back what was
 * replaced or purged is the time a write takes to start, not a second.
 *
 * Order on disk is the order of sequence numbers: one buffer, records
 * numbered as they are appended, regions written in turn.  A large
 * object's chunks are appended before its head, so the head, which makes
 * the object exist, is written after every byte it names.
 *
 * Small records are gathered in the buffer.  A chunk record on a loop is
 * not: its header and its checksum are, its body stays in the pages it
 * came in (struct disk_ext: a run of the region held as referenced
 * slices), its checksum streamed over them where they are.  A write of
 * the region is one iovec list of the buffer's runs and the pages'
 * slices in file order (img_walk()), so the bytes in the file are the
 * ones the copying writer wrote, and the pages are held as long as the
 * image: until every write of the region is done (comm holds its own
 * references while a thread may still use them) and the region is
 * sealed, then released with the image, once.
 *
 * On a loop the same writes are started, not waited for: the open
 * region's image is a buf the writes hold slices of, a sealed region's
 * image stays (ds->imgs) until its writes are done, and the footer
 * follows the records because comm's sync is a barrier.  A write that
 * fails later, from its completion, takes the store out of service as a
 * failed synchronous write does.  At close what is still out is written
 * again, synchronously (the same bytes, so a late thread's copy does no
 * harm): a clean stop loses nothing even if comm drops queued writes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/check.h"
#include "comm/comm.h"
#include "disk/disk_int.h"

uint32_t
disk_chunk_size(const struct disk_store *ds)
{
	uint32_t n = ds->sb.region_size / 4;

	if (n > DISK_CHUNK_MAX)
		n = DISK_CHUNK_MAX;
	return (n - DISK_REC_HDR_LEN - DISK_REC_SUM_LEN - DISK_ALIGN);
}

/* A write failed: out of service.  What the region holds that is not in
 * the file, or not yet under a footer, is no longer trusted. */
int
disk_store_fail(struct disk_store *ds, uint32_t r, int err)
{
	if (ds->failed == 0)
		ds->failed = err;
	ds->stats[DISK_STAT_write_errors]++;
	ds->stats[DISK_STAT_reclaimed] += disk_index_drop_region(ds->idx, r);
	return (err);
}

static int
store_fail(struct disk_store *ds, int err)
{
	return (disk_store_fail(ds, ds->region, err));
}

/* Free an image nobody writes from and that is not the open one: its
 * pages are released here, once. */
static void
img_release(struct disk_img *im)
{
	uint32_t i;

	if (im->writes > 0 || (im->ds != NULL && im->ds->img == im))
		return;
	list_remove(&im->link);
	for (i = 0; i < im->nexts; i++)
		buf_chain_fini(&im->exts[i].pages);
	free(im->exts);
	buf_unref(&im->b);
	free(im);
}

/* len bytes of src from skip on, referenced at the end of dst. */
static int
chain_append_range(struct buf_chain *dst, const struct buf_chain *src,
    size_t skip, size_t len)
{
	const struct buf_slice *sl;
	unsigned i;
	size_t n;
	int e;

	for (i = 0; len > 0 && i < buf_chain_nslices(src); i++) {
		sl = buf_chain_slice(src, i);
		if (skip >= sl->len) {
			skip -= sl->len;
			continue;
		}
		n = sl->len - skip < len ? sl->len - skip : len;
		if ((e = buf_chain_append_slice(dst, sl->buf, sl->off + skip,
		    n)) != 0)
			return (e);
		skip = 0;
		len -= n;
	}
	CHECK(len == 0);
	return (0);
}

/*
 * Walk [from, to) of image im in file order: fn gets each run, either
 * the block's bytes (ext NULL) or a part of a page run (ext, and where in
 * it).  Runs are sorted and never overlap.
 */
typedef int img_run_fn(const struct disk_img *im, uint32_t at, uint32_t len,
    const struct disk_ext *x, void *arg);

static int
img_walk(const struct disk_img *im, uint32_t from, uint32_t to,
    img_run_fn *fn, void *arg)
{
	const struct disk_ext *x;
	uint32_t i = 0, n = im->nexts, mid, lo, hi;
	int e;

	/* The first run that ends past from: a region filling by steps is
	 * walked once a step, and may hold a thousand runs. */
	while (i < n) {
		mid = i + (n - i) / 2;
		if (im->exts[mid].off + im->exts[mid].len <= from)
			i = mid + 1;
		else
			n = mid;
	}
	for (; i < im->nexts && from < to; i++) {
		x = &im->exts[i];
		if (x->off + x->len <= from)
			continue;
		if (x->off >= to)
			break;
		if (x->off > from) {
			if ((e = fn(im, from, x->off - from, NULL, arg)) != 0)
				return (e);
			from = x->off;
		}
		lo = from;
		hi = x->off + x->len < to ? x->off + x->len : to;
		if ((e = fn(im, lo, hi - lo, x, arg)) != 0)
			return (e);
		from = hi;
	}
	if (from < to)
		return (fn(im, from, to - from, NULL, arg));
	return (0);
}

static int
run_to_chain(const struct disk_img *im, uint32_t at, uint32_t len,
    const struct disk_ext *x, void *arg)
{
	struct buf_chain *c = arg;

	if (x == NULL)
		return (buf_chain_append_slice(c, im->b, at, len));
	return (chain_append_range(c, &x->pages, at - x->off, len));
}

static void
img_io_done(int err, const struct buf_slice *data, void *arg)
{
	struct disk_img *im = arg;

	(void)data;
	CHECK(im->writes > 0);
	im->writes--;
	if (err != 0 && im->ds != NULL)
		(void)disk_store_fail(im->ds, im->region, err);
	img_release(im);
}

/*
 * [from, to) of the open region in writes of at most DISK_WRITE_STEP:
 * each is one writev of the block's runs and the pages' slices, in
 * order, each referenced by the write until no thread uses it.  A large
 * chunk record (a quarter region) is not one long copy into the page
 * cache, which would hold the I/O worker's CPU while requests wait.
 */
static int
img_write(struct disk_store *ds, uint32_t from, uint32_t to)
{
	struct disk_img *im = ds->img;
	struct buf_chain c;
	uint32_t end;
	int e;

	for (; from < to; from = end) {
		end = to - from > DISK_WRITE_STEP ? from + DISK_WRITE_STEP :
		    to;
		buf_chain_init(&c, comm_loop_pool(ds->loop));
		e = img_walk(im, from, end, run_to_chain, &c);
		if (e == 0)
			e = ds->io->ops->write_start(ds->io, &c,
			    disk_region_pos(&ds->sb, im->region) + from,
			    img_io_done, im);
		buf_chain_fini(&c);
		if (e != 0)
			return (store_fail(ds, e));
		im->writes++;
		ds->stats[DISK_STAT_bytes_written] += end - from;
	}
	return (0);
}

static int
store_sync(struct disk_store *ds)
{
	int e;

	if (ds->img == NULL)
		e = disk_io_sync(ds->io);
	else if ((e = ds->io->ops->sync_start(ds->io, img_io_done,
	    ds->img)) == 0)
		ds->img->writes++;
	return (e != 0 ? store_fail(ds, e) : 0);
}

int
disk_img_new(struct disk_store *ds, uint32_t r)
{
	struct disk_img *im, *old = ds->img;

	im = calloc(1, sizeof *im);
	if (im == NULL)
		return (-ENOMEM);
	im->b = buf_alloc_exact(comm_loop_pool(ds->loop), ds->sb.region_size);
	if (im->b == NULL) {
		free(im);
		return (-ENOMEM);
	}
	/* The store is the block's only writer; slices of any of it may
	 * go to the file. */
	im->b->fill = ds->sb.region_size;
	im->ds = ds;
	im->region = r;
	list_init(&im->link);
	ds->img = im;
	ds->buf = buf_data(im->b);
	if (old != NULL) {
		list_insert_tail(&ds->imgs, &old->link);
		img_release(old);
	}
	return (0);
}

static int
run_write_sync(const struct disk_img *im, uint32_t at, uint32_t len,
    const struct disk_ext *x, void *arg)
{
	struct disk_store *ds = arg;
	uint64_t pos = disk_region_pos(&ds->sb, im->region) + at;
	const struct buf_slice *sl;
	uint32_t skip, n;
	unsigned i;
	int e;

	if (x == NULL)
		return (disk_io_write(ds->io, buf_data(im->b) + at, len, pos));
	skip = at - x->off;
	for (i = 0; len > 0 && i < buf_chain_nslices(&x->pages); i++) {
		sl = buf_chain_slice(&x->pages, i);
		if (skip >= sl->len) {
			skip -= sl->len;
			continue;
		}
		n = sl->len - skip < len ? sl->len - skip : len;
		if ((e = disk_io_write(ds->io, buf_slice_ptr(sl) + skip, n,
		    pos)) != 0)
			return (e);
		pos += n;
		len -= n;
		skip = 0;
	}
	return (0);
}

/* The whole written part of image im, synchronously; its footer after a
 * sync if it was sealed. */
static int
img_rewrite(struct disk_store *ds, struct disk_img *im, uint32_t from,
    uint32_t fill)
{
	uint64_t pos = disk_region_pos(&ds->sb, im->region);
	uint8_t *p = buf_data(im->b);
	int e;

	if ((e = img_walk(im, from, fill, run_write_sync, ds)) != 0)
		return (e);
	if (im->foot_off == 0)
		return (0);
	if (!ds->no_sync && (e = disk_io_sync(ds->io)) != 0)
		return (e);
	return (disk_io_write(ds->io, p + im->foot_off,
	    ds->sb.region_size - im->foot_off, pos + im->foot_off));
}

int
disk_img_close(struct disk_store *ds)
{
	struct disk_img *im, *cur = ds->img;
	struct list *n;
	int e = 0;

	AN(cur);
	/* Oldest first: the log's order. */
	while ((n = list_first(&ds->imgs)) != NULL) {
		im = container_of(n, struct disk_img, link);
		list_remove(n);
		if (e == 0 && ds->failed == 0 && im->writes > 0)
			e = img_rewrite(ds, im, 0, im->fill);
		im->ds = NULL;
		img_release(im);
	}
	if (e == 0 && ds->failed == 0 && !ds->read_only)
		e = img_rewrite(ds, cur, cur->writes > 0 ? 0 :
		    ds->flushed & ~4095u, ds->fill);
	if (e == 0 && ds->failed == 0 && !ds->read_only && !ds->no_sync)
		e = disk_io_sync(ds->io);
	cur->ds = NULL;
	ds->img = NULL;
	ds->buf = NULL;
	img_release(cur);
	return (e);
}

struct run_copy {
	uint32_t	off;	/* of dst in the region */
	uint8_t		*dst;
};

static int
run_copy(const struct disk_img *im, uint32_t at, uint32_t len,
    const struct disk_ext *x, void *arg)
{
	struct run_copy *rc = arg;
	uint8_t *d = rc->dst + (at - rc->off);

	if (x == NULL)
		memcpy(d, buf_data(im->b) + at, len);
	else
		CHECK(buf_chain_copyout(&x->pages, at - x->off, d, len) ==
		    len);
	return (0);
}

bool
disk_img_copy(const struct disk_store *ds, uint32_t region, uint32_t off,
    uint32_t len, uint8_t *dst)
{
	struct run_copy rc = { .off = off, .dst = dst };
	const struct disk_img *im;
	const struct list *n;

	if (region == ds->region && (uint64_t)off + len <= ds->fill) {
		if (dst == NULL)
			return (true);
		if (ds->img == NULL) {
			memcpy(dst, ds->buf + off, len);
			return (true);
		}
		(void)img_walk(ds->img, off, off + len, run_copy, &rc);
		return (true);
	}
	LIST_FOREACH(n, &ds->imgs) {
		im = container_of(n, const struct disk_img, link);
		if (im->region == region && (uint64_t)off + len <= im->fill) {
			if (dst != NULL)
				(void)img_walk(im, off, off + len, run_copy,
				    &rc);
			return (true);
		}
	}
	return (false);
}

static int
store_write(struct disk_store *ds, uint32_t from, uint32_t to)
{
	int e;

	if (ds->img != NULL)
		return (img_write(ds, from, to));
	e = disk_io_write(ds->io, ds->buf + from, to - from,
	    disk_region_pos(&ds->sb, ds->region) + from);
	if (e != 0)
		return (store_fail(ds, e));
	ds->stats[DISK_STAT_bytes_written] += to - from;
	return (0);
}

int
disk_region_add_ent(struct disk_store *ds, const struct disk_foot_ent *e)
{
	struct disk_foot_ent *n;
	uint32_t cap;

	if (ds->nents == ds->ents_cap) {
		cap = ds->ents_cap == 0 ? 256 : ds->ents_cap * 2;
		n = realloc(ds->ents, cap * sizeof *n);
		if (n == NULL)
			return (-ENOMEM);
		ds->ents = n;
		ds->ents_cap = cap;
	}
	ds->ents[ds->nents++] = *e;
	return (0);
}

void
disk_region_start(struct disk_store *ds, uint32_t r)
{
	struct disk_region_hdr h;

	CHECK(r < ds->sb.nregions);
	/* An image with runs of pages is one region's for good. */
	CHECK(ds->img == NULL || ds->img->nexts == 0);
	disk_reclaim(ds, r);
	disk_index_set_tail(ds->idx, (r + 1) % ds->sb.nregions);
	ds->region = r;
	if (ds->img != NULL)
		ds->img->region = r;
	ds->region_seq = ds->next_seq;
	ds->fill = DISK_REGION_HDR_LEN;
	ds->flushed = 0;
	ds->nents = 0;
	h.seq = ds->region_seq;
	h.region = r;
	h.region_size = ds->sb.region_size;
	h.store_tag = ds->tag;
	disk_region_hdr_encode(&h, ds->buf);
}

static int
region_seal(struct disk_store *ds)
{
	uint32_t flen = disk_footer_len(ds->nents), foot_off, i;
	struct disk_trailer t;
	int e;

	foot_off = ds->sb.region_size - flen;
	CHECK(ds->fill <= foot_off);
	for (i = 0; i < ds->nents; i++)
		disk_foot_ent_encode(&ds->ents[i],
		    ds->buf + foot_off + (size_t)i * DISK_FOOT_ENT_LEN);
	memset(&t, 0, sizeof t);
	t.region_seq = ds->region_seq;
	t.last_seq = ds->nents > 0 ? ds->ents[ds->nents - 1].seq : 0;
	t.count = ds->nents;
	t.foot_off = foot_off;
	t.records_end = ds->fill;
	t.store_tag = ds->tag;
	disk_trailer_encode(&t, ds->buf + foot_off);
	if ((e = store_write(ds, ds->flushed & ~4095u, ds->fill)) != 0)
		return (e);
	ds->flushed = ds->fill;
	if (!ds->no_sync && (e = store_sync(ds)) != 0)
		return (e);
	if (ds->img != NULL) {
		ds->img->fill = ds->fill;
		ds->img->foot_off = foot_off;
	}
	if ((e = store_write(ds, foot_off, ds->sb.region_size)) != 0)
		return (e);
	ds->stats[DISK_STAT_sealed]++;
	return (0);
}

int
disk_store_flush(struct disk_store *ds)
{
	int e;

	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	if (ds->read_only)
		return (-EROFS);
	if (ds->failed != 0)
		return (-EIO);
	disk_store_trunc(ds);
	if (ds->load != NULL || ds->fill == ds->flushed)
		return (0);
	/* From the start of the block the last flush ended in: what a later
	 * O_DIRECT back-end will have to write anyway. */
	if ((e = store_write(ds, ds->flushed & ~4095u, ds->fill)) != 0)
		return (e);
	ds->flushed = ds->fill;
	return (0);
}

/*
 * A chunk's pages are written in place unless they hold far more than
 * its bytes (a body that came in many small pieces, each pinning a
 * block): then they are copied into one block first, so that what a put
 * holds stays near what it writes.
 */
#define DISK_PIN_WASTE		4	/* blocks' bytes per body byte */

static int
pages_compact(struct disk_store *ds, struct buf_chain *c)
{
	size_t len = buf_chain_len(c);
	uint64_t held = 0;
	struct buf *b;
	unsigned i;
	int e;

	for (i = 0; i < buf_chain_nslices(c); i++)
		held += buf_chain_slice(c, i)->buf->size;
	if (held <= (uint64_t)len * DISK_PIN_WASTE)
		return (0);
	if ((b = buf_alloc(c->pool, len)) == NULL)
		return (-ENOMEM);
	b->fill = (uint32_t)buf_chain_copyout(c, 0, buf_data(b), len);
	buf_chain_fini(c);
	e = buf_chain_append_slice(c, b, 0, len);
	buf_unref(&b);
	if (e == 0)
		ds->stats[DISK_STAT_body_copied] += len;
	return (e);
}

/* r's body, pages (r->body_len bytes), as a run of the open image
 * (moved there: pages ends empty), its header and checksum encoded into
 * the buffer around it. */
static int
append_pages(struct disk_store *ds, struct disk_rec *r,
    struct buf_chain *pages)
{
	struct disk_img *im = ds->img;
	struct iovec *iov;
	struct disk_ext *x;
	unsigned n;
	uint32_t cap;

	if (im->nexts == im->exts_cap) {
		cap = im->exts_cap == 0 ? 16 : im->exts_cap * 2;
		x = realloc(im->exts, cap * sizeof *x);
		if (x == NULL)
			return (-ENOMEM);
		im->exts = x;
		im->exts_cap = cap;
	}
	n = buf_chain_nslices(pages);
	if ((iov = calloc(n, sizeof *iov)) == NULL)
		return (-ENOMEM);
	CHECK(buf_chain_iov(pages, 0, iov, n) == n);
	(void)disk_rec_encode_split(r, iov, n, ds->buf + ds->fill,
	    ds->buf + ds->fill + DISK_REC_HDR_LEN + r->body_len);
	free(iov);
	x = &im->exts[im->nexts++];
	x->off = ds->fill + DISK_REC_HDR_LEN;
	x->len = r->body_len;
	/* A move of the slices: no reference taken or dropped. */
	x->pages = *pages;
	buf_chain_init(pages, x->pages.pool);
	ds->stats[DISK_STAT_body_in_place] += r->body_len;
	return (0);
}

/* Append r (its seq, tag and length are set here) with its payload: the
 * body in the nbody pieces at body, copied into the buffer, or (a chunk
 * on a loop) in pages, which it takes; *a says where.  The open region
 * is sealed and the next one started when r and the footer grown by one
 * entry do not fit. */
static int
append(struct disk_store *ds, struct disk_rec *r, const char *url,
    const char *hdrs, const struct disk_chunk_ref *map,
    const struct iovec *body, unsigned nbody, struct buf_chain *pages,
    struct disk_addr *a)
{
	struct disk_foot_ent fe;
	uint32_t len, next;
	int e;

	len = disk_rec_len(r->url_len, r->hdr_len,
	    (r->flags & DISK_RECF_CHUNKED) ? r->nchunks : 0, r->body_len);
	if (len == 0 || DISK_REGION_HDR_LEN + (uint64_t)len +
	    disk_footer_len(1) > ds->sb.region_size)
		return (-EFBIG);
	if ((uint64_t)ds->fill + len + disk_footer_len(ds->nents + 1) >
	    ds->sb.region_size) {
		if ((e = region_seal(ds)) != 0)
			return (e);
		next = (ds->region + 1) % ds->sb.nregions;
		if (ds->img != NULL && (e = disk_img_new(ds, next)) != 0)
			return (store_fail(ds, e));
		disk_region_start(ds, next);
	}
	r->rec_len = len;
	r->seq = ds->next_seq;
	r->store_tag = ds->tag;
	memset(&fe, 0, sizeof fe);
	memcpy(fe.key, r->key, DISK_KEY_LEN);
	fe.seq = r->seq;
	fe.object_size = r->object_size;
	fe.offset = ds->fill;
	fe.rec_len = len;
	fe.first_region = map != NULL ? map[0].region : ds->region;
	fe.kind = (uint8_t)r->kind;
	fe.flags = (uint8_t)r->flags;
	if (pages != NULL) {
		CHECK(ds->img != NULL && r->kind == DISK_REC_CHUNK);
		CHECK(buf_chain_len(pages) == r->body_len);
		if ((e = append_pages(ds, r, pages)) != 0)
			return (e);
	} else {
		disk_rec_encodev(r, url, hdrs, map, body, nbody,
		    ds->buf + ds->fill);
		if (r->kind == DISK_REC_CHUNK)
			ds->stats[DISK_STAT_body_copied] += r->body_len;
	}
	if ((e = disk_region_add_ent(ds, &fe)) != 0) {
		/* Never written (fill unchanged): its run must not be
		 * taken for the next record's. */
		if (pages != NULL)
			buf_chain_fini(&ds->img->exts[--ds->img->nexts].pages);
		return (e);
	}
	ds->next_seq++;
	memset(a, 0, sizeof *a);
	a->region = ds->region;
	a->offset = ds->fill;
	a->rec_len = len;
	a->first_region = fe.first_region;
	a->size_class = disk_index_size_class(r->object_size);
	ds->fill += len;
	/* On a loop the open region goes out as it fills, in steps: left
	 * to its seal, it went out as one 16 MiB write, whose copy into
	 * the page cache held the I/O worker's CPU (the loop's, where the
	 * proxy is pinned) for milliseconds while requests waited. */
	if (ds->img != NULL && ds->fill - ds->flushed >= DISK_WRITE_STEP)
		(void)disk_store_flush(ds);
	return (0);
}

static void
rec_init(struct disk_rec *r, enum disk_rec_kind kind, const uint8_t *key)
{
	memset(r, 0, sizeof *r);
	r->kind = kind;
	memcpy(r->key, key, DISK_KEY_LEN);
}

/* An object the store will not keep (its limits): counted, -EFBIG. */
static int
put_skipped(struct disk_store *ds)
{
	ds->stats[DISK_STAT_skipped]++;
	return (-EFBIG);
}

/* max-swap-rate: whether an object may be written this second (one
 * more counted), else -EBUSY, counted.  A second's budget, not a smooth
 * rate: cheap, and what a burst costs is bounded all the same. */
static int
put_rate(struct disk_store *ds)
{
	struct timespec ts;
	uint64_t sec;

	if (ds->swap_rate == 0)
		return (0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sec = (uint64_t)ts.tv_sec;
	if (sec != ds->rate_sec) {
		ds->rate_sec = sec;
		ds->rate_used = 0;
	}
	if (ds->rate_used >= ds->swap_rate) {
		ds->stats[DISK_STAT_rate_skipped]++;
		return (-EBUSY);
	}
	ds->rate_used++;
	return (0);
}

/* A put while the index loads: not written, its key owed a tombstone. */
static int
put_loading(struct disk_store *ds, const uint8_t key[DISK_KEY_LEN])
{
	int e;

	ds->stats[DISK_STAT_load_skipped]++;
	e = disk_load_defer(ds, key);
	return (e != 0 ? e : -EAGAIN);
}

static int	put_whole(struct disk_store *ds, const struct disk_obj *o,
		    bool again);

int
disk_store_put(struct disk_store *ds, const struct disk_obj *o)
{
	return (put_whole(ds, o, false));
}

/*
 * Eviction is the log's: FIFO by region.  An object read while its copy
 * sits in the oldest quarter of the log (the next to be reclaimed) is
 * written again at the head from the bytes just read, so that what is
 * read stays and what is not goes: FIFO with reinsertion, for the cost of
 * no read of its own.  Bounded: the bytes reinserted stay under
 * DISK_REINSERT_SHARE of all bytes written, so that a hot set larger
 * than the store cannot turn the log into a copying loop.  Age is its
 * oldest record's: an object in chunks is near reclaim when its first
 * chunk is.  One read whole at once (disk_store_get()) is written again
 * by put_whole(); one read chunk by chunk on a loop is copied as a put
 * in pieces fed by the chunks as they are read and checked
 * (disk_reinsert_begin(), disk_put_append(), disk_reinsert_end()), so
 * that it costs no read and no more memory than a chunk.
 */
#define DISK_REINSERT_SHARE	4	/* 1/4 */

/* Whether len bytes of an object at a may be written again now. */
static bool
reinsert_ok(const struct disk_store *ds, const struct disk_addr *a,
    uint64_t len)
{
	uint32_t n = ds->sb.nregions, tail = (ds->region + 1) % n;

	return (!ds->read_only && ds->failed == 0 && ds->load == NULL &&
	    !ds->no_reinsert && a->first_region < n &&
	    (a->first_region + n - tail) % n < n / 4 &&
	    (ds->reinserted_bytes + len) * DISK_REINSERT_SHARE <=
	    ds->stats[DISK_STAT_bytes_written]);
}

void
disk_reinsert(struct disk_store *ds, const struct disk_addr *a,
    const struct disk_obj *o)
{
	uint64_t len = o->url_len + o->hdr_len + o->body_len;

	if (!reinsert_ok(ds, a, len))
		return;
	if (put_whole(ds, o, true) == 0)
		ds->reinserted_bytes += len;
}

/*
 * [at, at + len) of o's body as *np iovecs: into stack (cap of them) when
 * they fit, else into a new array (the caller frees what is not stack);
 * NULL on ENOMEM.  A chain's slices are pointed at, never copied.
 */
static struct iovec *
body_iov(const struct disk_obj *o, size_t at, size_t len,
    struct iovec *stack, unsigned cap, unsigned *np)
{
	const struct buf_slice *sl;
	struct iovec *iov = stack;
	unsigned i, n = 0;
	size_t k;

	*np = 0;
	if (len == 0)
		return (stack);
	if (o->chain == NULL) {
		stack[0].iov_base = (void *)(uintptr_t)(o->body + at);
		stack[0].iov_len = len;
		*np = 1;
		return (stack);
	}
	if (buf_chain_nslices(o->chain) > cap &&
	    (iov = calloc(buf_chain_nslices(o->chain), sizeof *iov)) == NULL)
		return (NULL);
	for (i = 0; len > 0 && i < buf_chain_nslices(o->chain); i++) {
		sl = buf_chain_slice(o->chain, i);
		if (at >= sl->len) {
			at -= sl->len;
			continue;
		}
		k = sl->len - at < len ? sl->len - at : len;
		iov[n].iov_base = (void *)(uintptr_t)(buf_slice_ptr(sl) + at);
		iov[n++].iov_len = k;
		at = 0;
		len -= k;
	}
	CHECK(len == 0);
	*np = n;
	return (iov);
}

#define DISK_IOV_STACK		8

/*
 * Append r (a head with url and hdrs, or a chunk) with [at, at + len) of
 * o's body.  A chain's body is read where it is: a chunk on a loop is
 * written from its pages (referenced by the image), anything else copied
 * once, into the buffer.  A contiguous body is copied into the buffer.
 */
static int
append_body(struct disk_store *ds, struct disk_rec *r, const char *url,
    const char *hdrs, const struct disk_chunk_ref *map,
    const struct disk_obj *o, size_t at, size_t len, struct disk_addr *a)
{
	struct iovec stack[DISK_IOV_STACK], *iov;
	struct buf_chain c;
	unsigned n;
	int e;

	if (o->chain != NULL && ds->img != NULL && r->kind == DISK_REC_CHUNK) {
		buf_chain_init(&c, o->chain->pool);
		e = chain_append_range(&c, o->chain, at, len);
		if (e == 0)
			e = pages_compact(ds, &c);
		if (e == 0)
			e = append(ds, r, NULL, NULL, NULL, NULL, 0, &c, a);
		buf_chain_fini(&c);
		return (e);
	}
	iov = body_iov(o, at, len, stack, DISK_IOV_STACK, &n);
	if (iov == NULL)
		return (-ENOMEM);
	e = append(ds, r, url, hdrs, map, n > 0 ? iov : NULL, n, NULL, a);
	if (iov != stack)
		free(iov);
	if (e == 0 && o->chain != NULL)
		ds->stats[DISK_STAT_body_gathered] += len;
	return (e);
}

static int
put_whole(struct disk_store *ds, const struct disk_obj *o, bool again)
{
	struct disk_chunk_ref *map = NULL;
	uint32_t csize, nchunks = 0, i, span;
	struct disk_addr a, old;
	bool replaced;
	struct disk_rec r;
	size_t at, n;
	int e;

	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	AN(o);
	CHECK(o->chain == NULL || buf_chain_len(o->chain) >= o->body_len);
	if (ds->read_only)
		return (-EROFS);
	if (ds->failed != 0)
		return (-EIO);
	if (ds->load != NULL)
		return (put_loading(ds, o->key));
	if ((ds->max_size > 0 && o->body_len > ds->max_size) ||
	    o->body_len < ds->min_size)
		return (put_skipped(ds));
	if ((e = put_rate(ds)) != 0)
		return (e);
	csize = disk_chunk_size(ds);
	if (o->url_len > ds->sb.region_size / 4 ||
	    o->hdr_len > ds->sb.region_size / 4)
		return (put_skipped(ds));
	if (o->body_len > csize) {
		/* Chunks must not outlive the log's reach: the index keeps
		 * 8 bits of span and reclaim must not meet the object's own
		 * chunks while it is written. */
		span = (uint32_t)(o->body_len / (ds->sb.region_size / 2)) + 2;
		if (span > DISK_SPAN_MAX || span > ds->sb.nregions / 4)
			return (put_skipped(ds));
		nchunks = (uint32_t)((o->body_len + csize - 1) / csize);
		map = calloc(nchunks, sizeof *map);
		if (map == NULL)
			return (-ENOMEM);
	}
	for (i = 0, at = 0; i < nchunks; i++, at += n) {
		n = o->body_len - at < csize ? o->body_len - at : csize;
		rec_init(&r, DISK_REC_CHUNK, o->key);
		r.nchunks = i;
		r.body_len = (uint32_t)n;
		r.object_size = o->body_len;
		if ((e = append_body(ds, &r, NULL, NULL, NULL, o, at, n,
		    &a)) != 0)
			goto done;
		map[i].region = a.region;
		map[i].offset = a.offset;
		map[i].rec_len = a.rec_len;
		map[i].body_len = (uint32_t)n;
		map[i].seq = r.seq;
		ds->stats[DISK_STAT_chunks]++;
	}
	rec_init(&r, DISK_REC_HEAD, o->key);
	r.url_len = (uint32_t)o->url_len;
	r.hdr_len = (uint32_t)o->hdr_len;
	r.object_size = o->body_len;
	if (map != NULL) {
		r.flags = DISK_RECF_CHUNKED;
		r.nchunks = nchunks;
	} else
		r.body_len = (uint32_t)o->body_len;
	if ((e = append_body(ds, &r, o->url, o->hdrs, map, o, 0, r.body_len,
	    &a)) != 0)
		goto done;
	replaced = disk_index_lookup(ds->idx, o->key, &old);
	e = disk_index_put(ds->idx, o->key, &a);
	if (e >= 0) {
		e = 0;
		ds->stats[again ? DISK_STAT_reinserted : DISK_STAT_puts]++;
		/* The older version is in the file: the newer must be too
		 * before a crash can bring the older one back (a copy
		 * written again is the same bytes: no hurry). */
		if (replaced && !again && ds->img != NULL)
			(void)disk_store_flush(ds);
	}
done:
	free(map);
	return (e);
}

int
disk_store_purge(struct disk_store *ds, const uint8_t key[DISK_KEY_LEN])
{
	struct disk_addr a;
	struct disk_rec r;
	int e;

	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	if (ds->read_only)
		return (-EROFS);
	if (ds->failed != 0)
		return (-EIO);
	if (ds->load != NULL)
		return (disk_load_defer(ds, key));
	rec_init(&r, DISK_REC_TOMB, key);
	if ((e = append(ds, &r, NULL, NULL, NULL, NULL, 0, NULL, &a)) != 0)
		return (e);
	(void)disk_index_remove(ds->idx, key);
	ds->stats[DISK_STAT_purges]++;
	/* At once, not at the next tick: a crash must not bring back
	 * what was purged. */
	if (ds->img != NULL)
		(void)disk_store_flush(ds);
	return (0);
}

uint64_t
disk_store_log_end(const struct disk_store *ds)
{
	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	return (disk_region_pos(&ds->sb, ds->region) + ds->fill);
}

/* -- puts in pieces -------------------------------------------------------- */

struct disk_put {
	unsigned		magic;
#define DISK_PUT_MAGIC		0x9a7d15c0
	struct disk_store	*ds;	/* NULL once the store closed */
	struct list		link;	/* ds->puts */
	uint8_t			key[DISK_KEY_LEN];
	uint64_t		size;
	uint64_t		at;	/* body bytes taken */
	uint64_t		sealed;	/* regions sealed before it began */
	int			err;	/* the put is dead */
	uint32_t		csize;
	/* The next chunk's bytes, npend of them: on a loop as referenced
	 * pages (pc), on a synchronous store copied into pend. */
	uint8_t			*pend;
	struct buf_chain	pc;
	uint32_t		npend;
	struct disk_chunk_ref	*map;
	uint32_t		nchunks;
	uint32_t		cap;
	bool			unsized;	/* size: a bound till finish */
	bool			again;	/* a reinsertion */
};

/* The store closes: its puts under way are dead. */
void
disk_put_orphan_all(struct disk_store *ds)
{
	struct disk_put *p;
	struct list *n;

	while ((n = list_first(&ds->puts)) != NULL) {
		p = container_of(n, struct disk_put, link);
		list_remove(n);
		p->ds = NULL;
		p->err = -ECANCELED;
	}
}

struct disk_put *
disk_put_begin(struct disk_store *ds, const uint8_t key[DISK_KEY_LEN],
    uint64_t size, int *err)
{
	struct disk_put *p;
	uint32_t span;

	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	AN(err);
	*err = ds->read_only ? -EROFS : ds->failed != 0 ? -EIO : 0;
	if (*err == 0 && ds->load != NULL)
		*err = put_loading(ds, key);
	if (*err != 0)
		return (NULL);
	span = (uint32_t)(size / (ds->sb.region_size / 2)) + 2;
	if ((ds->max_size > 0 && size > ds->max_size) || size < ds->min_size ||
	    span > DISK_SPAN_MAX || span > ds->sb.nregions / 4) {
		*err = put_skipped(ds);
		return (NULL);
	}
	if ((*err = put_rate(ds)) != 0)
		return (NULL);
	ALLOC_OBJ(p, DISK_PUT_MAGIC);
	if (p != NULL) {
		p->csize = disk_chunk_size(ds);
		p->cap = (uint32_t)((size + p->csize - 1) / p->csize);
		if (ds->img != NULL)
			buf_chain_init(&p->pc, comm_loop_pool(ds->loop));
		else
			p->pend = malloc(p->csize);
		p->map = calloc(p->cap > 0 ? p->cap : 1, sizeof *p->map);
	}
	if (p == NULL || (ds->img == NULL && p->pend == NULL) ||
	    p->map == NULL) {
		if (p != NULL) {
			free(p->pend);
			free(p->map);
			FREE_OBJ(p);
		}
		*err = -ENOMEM;
		return (NULL);
	}
	p->ds = ds;
	memcpy(p->key, key, DISK_KEY_LEN);
	p->size = size;
	p->sealed = ds->stats[DISK_STAT_sealed];
	list_insert_tail(&ds->puts, &p->link);
	return (p);
}

/* The pending bytes as chunk record p->nchunks. */
static int
put_chunk(struct disk_put *p)
{
	struct disk_store *ds = p->ds;
	struct buf_chain c;
	struct disk_addr a;
	struct iovec iov;
	struct disk_rec r;
	int e;

	if (ds->failed != 0)
		return (-EIO);
	rec_init(&r, DISK_REC_CHUNK, p->key);
	r.nchunks = p->nchunks;
	r.body_len = p->npend;
	r.object_size = p->size;
	if (p->pend != NULL) {
		iov.iov_base = p->pend;
		iov.iov_len = p->npend;
		e = append(ds, &r, NULL, NULL, NULL, &iov, 1, NULL, &a);
	} else {
		/* This chunk's slices (one across the end shared). */
		buf_chain_init(&c, p->pc.pool);
		e = buf_chain_split(&p->pc, p->npend, &c);
		if (e == 0)
			e = pages_compact(ds, &c);
		if (e == 0)
			e = append(ds, &r, NULL, NULL, NULL, NULL, 0, &c, &a);
		buf_chain_fini(&c);
	}
	if (e != 0)
		return (e);
	p->map[p->nchunks].region = a.region;
	p->map[p->nchunks].offset = a.offset;
	p->map[p->nchunks].rec_len = a.rec_len;
	p->map[p->nchunks].body_len = p->npend;
	p->map[p->nchunks].seq = r.seq;
	p->nchunks++;
	p->npend = 0;
	ds->stats[DISK_STAT_chunks]++;
	return (0);
}

uint64_t
disk_put_max(const struct disk_store *ds)
{
	uint64_t half = ds->sb.region_size / 2, spans, m;

	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	/* disk_put_begin()'s: size / half + 2 regions at most, of
	 * DISK_SPAN_MAX and of a quarter of the log. */
	spans = ds->sb.nregions / 4;
	if (spans > DISK_SPAN_MAX)
		spans = DISK_SPAN_MAX;
	if (spans < 2)
		return (0);
	m = (spans - 1) * half - 1;
	if (ds->max_size > 0 && ds->max_size < m)
		m = ds->max_size;
	return (m);
}

struct disk_put *
disk_put_begin_unsized(struct disk_store *ds,
    const uint8_t key[DISK_KEY_LEN], uint64_t bound, int *err)
{
	struct disk_put *p;

	p = disk_put_begin(ds, key, bound, err);
	if (p != NULL)
		p->unsized = true;
	return (p);
}

/* len bytes from data, or from b at off when data is NULL, into the
 * pending chunk, each full chunk appended. */
static int
put_take(struct disk_put *p, const uint8_t *data, struct buf *b, size_t off,
    size_t len)
{
	size_t n;
	int e;

	CHECK_OBJ_NOTNULL(p, DISK_PUT_MAGIC);
	if (p->err != 0)
		return (p->err);
	if (len > p->size - p->at)
		return (p->err = -EPIPE);
	if (data == NULL && p->pend != NULL)
		data = buf_data(b) + off;
	p->at += len;
	while (len > 0) {
		n = p->csize - p->npend;
		if (n > len)
			n = len;
		if (p->pend != NULL)
			memcpy(p->pend + p->npend, data, n);
		else if (data != NULL) {
			/* Bytes without a page: copied into the chain's. */
			if ((e = buf_chain_append(&p->pc, data, n)) != 0)
				return (p->err = e);
			if (p->ds != NULL)
				p->ds->stats[DISK_STAT_body_copied] += n;
		} else if ((e = buf_chain_append_slice(&p->pc, b, off,
		    n)) != 0)
			return (p->err = e);
		p->npend += (uint32_t)n;
		if (data != NULL)
			data += n;
		off += n;
		len -= n;
		if (p->npend == p->csize && (p->err = put_chunk(p)) != 0)
			return (p->err);
	}
	return (0);
}

int
disk_put_append(struct disk_put *p, const void *data, size_t len)
{
	AN(data != NULL || len == 0);
	return (put_take(p, data != NULL ? data : "", NULL, 0, len));
}

int
disk_put_append_slice(struct disk_put *p, struct buf *b, size_t off,
    size_t len)
{
	CHECK_OBJ_NOTNULL(b, BUF_MAGIC);
	CHECK(off <= b->fill && len <= b->fill - off);
	return (put_take(p, NULL, b, off, len));
}

void
disk_put_abort(struct disk_put **pp)
{
	struct disk_put *p;

	if (*pp == NULL)
		return;
	TAKE_OBJ_NOTNULL(p, pp, DISK_PUT_MAGIC);
	if (p->ds != NULL)
		list_remove(&p->link);
	if (p->pend == NULL)
		buf_chain_fini(&p->pc);
	free(p->pend);
	free(p->map);
	FREE_OBJ(p);
}

int
disk_put_finish(struct disk_put **pp, const struct disk_obj *o)
{
	struct disk_put *p = *pp;
	struct disk_store *ds;
	struct disk_addr a, old;
	struct disk_rec r;
	bool replaced;
	int e;

	CHECK_OBJ_NOTNULL(p, DISK_PUT_MAGIC);
	AN(o);
	ds = p->ds;
	e = p->err;
	/* The chunks written so far carry the bound; the last one, and
	 * the head, the size. */
	if (p->unsized)
		p->size = p->at;
	if (e == 0 && p->at != p->size)
		e = -EPIPE;
	if (e == 0 && (o->url_len > ds->sb.region_size / 4 ||
	    o->hdr_len > ds->sb.region_size / 4))
		e = -EFBIG;
	if (e == 0 && p->npend > 0)
		e = put_chunk(p);
	if (e == 0 && p->nchunks == 0)
		e = -EPIPE;	/* an empty body is no chunked object */
	if (e == 0 && ds->failed != 0)
		e = -EIO;
	/* A slow put the log went round: its first chunks may be gone. */
	if (e == 0 && ds->stats[DISK_STAT_sealed] - p->sealed >=
	    ds->sb.nregions / 4)
		e = -ESTALE;
	if (e == 0) {
		rec_init(&r, DISK_REC_HEAD, p->key);
		r.url_len = (uint32_t)o->url_len;
		r.hdr_len = (uint32_t)o->hdr_len;
		r.object_size = p->size;
		r.flags = DISK_RECF_CHUNKED;
		r.nchunks = p->nchunks;
		e = append(ds, &r, o->url, o->hdrs, p->map, NULL, 0, NULL,
		    &a);
	}
	if (e == 0) {
		replaced = disk_index_lookup(ds->idx, p->key, &old);
		/* Refused when the first chunks were reclaimed meanwhile
		 * (their region is behind the log's tail now). */
		e = disk_index_put(ds->idx, p->key, &a);
		if (e > 0) {
			e = 0;
			ds->stats[p->again ? DISK_STAT_reinserted :
			    DISK_STAT_puts]++;
			if (replaced && !p->again && ds->img != NULL)
				(void)disk_store_flush(ds);
		} else if (e == 0 || e == -EINVAL)
			e = -ESTALE;
	}
	disk_put_abort(pp);
	return (e);
}

/* -- resizing ------------------------------------------------------------ */

void
disk_store_trunc(struct disk_store *ds)
{
	if (ds->trunc_to == 0 || !list_empty(&ds->imgs) ||
	    disk_gets_reach(ds, ds->sb.nregions))
		return;
	/* Another failure to truncate only leaves the tail unused. */
	(void)disk_io_resize(ds->io, ds->trunc_to);
	ds->trunc_to = 0;
}

/* The superblock saying n regions, written and synced. */
static int
resize_sb(struct disk_store *ds, uint32_t n)
{
	struct disk_sb sb = ds->sb;
	uint8_t *blk;
	int e;

	if ((blk = calloc(1, DISK_SB_SIZE)) == NULL)
		return (-ENOMEM);
	sb.nregions = n;
	disk_sb_encode(&sb, blk);
	e = disk_io_write(ds->io, blk, DISK_SB_SIZE, 0);
	if (e == 0)
		e = disk_io_sync(ds->io);
	free(blk);
	return (e);
}

int
disk_store_resize(struct disk_store *ds, uint64_t size)
{
	uint32_t old, n, tail;
	struct disk_put *p;
	struct list *l;
	size_t dropped;
	uint64_t rn;
	bool move;
	int e;

	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	if (ds->read_only)
		return (-EROFS);
	if (ds->failed != 0)
		return (-EIO);
	if (ds->load != NULL)
		return (-EAGAIN);
	if (size < DISK_SB_SIZE)
		return (-EINVAL);
	/* The region after the writer's may change: read it again. */
	disk_reclaim_cancel(ds);
	rn = (size - DISK_SB_SIZE) / ds->sb.region_size;
	if (rn < 2 || rn > DISK_REGIONS_MAX)
		return (-EINVAL);
	old = ds->sb.nregions;
	n = (uint32_t)rn;
	if (n == old)
		return (0);
	/* Growing: the blocks first, so that a superblock never names
	 * regions the file lacks; shrinking: the superblock first, so that
	 * the regions it still names are all there. */
	if (n > old) {
		if ((e = disk_io_resize(ds->io, disk_region_pos(&ds->sb, 0) +
		    (uint64_t)n * ds->sb.region_size)) != 0)
			return (e);
	}
	if ((e = resize_sb(ds, n)) != 0)
		return (e);
	/* The writer in a retired region starts again at region 0, the
	 * oldest of those left; else the log goes on where it is. */
	move = ds->region >= n;
	tail = move ? 0 : (ds->region + 1) % n;
	if ((e = disk_index_resize(ds->idx, n, tail, &dropped)) != 0)
		return (store_fail(ds, e));
	ds->stats[DISK_STAT_retired] += dropped;
	LIST_FOREACH(l, &ds->puts) {
		p = container_of(l, struct disk_put, link);
		if (p->err == 0)
			p->err = -ESTALE;
	}
	ds->sb.nregions = n;
	if (move) {
		if (ds->img != NULL && (e = disk_img_new(ds, 0)) != 0)
			return (store_fail(ds, e));
		disk_region_start(ds, 0);
	}
	if (n < old) {
		ds->trunc_to = disk_region_pos(&ds->sb, 0) +
		    (uint64_t)n * ds->sb.region_size;
		disk_store_trunc(ds);
	} else
		ds->trunc_to = 0;
	return (0);
}

struct disk_put *
disk_reinsert_begin(struct disk_store *ds, const struct disk_addr *a,
    const uint8_t key[DISK_KEY_LEN], uint64_t size, uint64_t len)
{
	struct disk_put *p;
	int e;

	if (!reinsert_ok(ds, a, len))
		return (NULL);
	p = disk_put_begin(ds, key, size, &e);
	if (p != NULL)
		p->again = true;
	return (p);
}

void
disk_reinsert_end(struct disk_put **pp, const struct disk_obj *o,
    uint64_t len)
{
	struct disk_store *ds;

	if (*pp == NULL)
		return;
	ds = (*pp)->ds;
	if (o != NULL && ds != NULL && disk_put_finish(pp, o) == 0)
		ds->reinserted_bytes += len;
	disk_put_abort(pp);
}
