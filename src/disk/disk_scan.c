/*
 * disk_scan.c - opening a store: the superblock, then the index rebuilt
 * from the regions, on the same path after a clean stop and a crash.
 *
 * Pass 1 reads each region's header and trailer (128 bytes a region) and
 * classifies it: sealed (a valid footer for the header's sequence
 * number), open (a valid header only: written since its last footer, or
 * a footer lost), empty (never written) or lost (neither valid).  The
 * region with the highest sequence number is the newest; the log starts
 * at the one after it.
 *
 * Pass 2 walks the regions in log order, so records reach the index in
 * the order they were written: a later version replaces an earlier one
 * and a tombstone removes what came before it.  A sealed region gives its
 * footer's entries (one read; the records are verified when read); an
 * open one is read whole and its records are checked one by one: header
 * checksum, sequence number above everything before it (which also
 * rejects the previous lap's records beyond the new ones), record
 * checksum.  A record whose header holds but whose checksum does not is
 * dropped and skipped whole; a damaged header is skipped 16 bytes at a
 * time to the next valid one.  The newest region, when open, stays open:
 * its image is the writer's buffer and new records follow the last good
 * one.
 *
 * After a shrink, a head in a kept region may name chunks in the regions
 * it retired (past the end, or passed when the log wrapped to region 0):
 * counted retired, as the shrink counted it in service, and still hiding
 * the versions before it (scan_retired()).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/check.h"
#include "comm/comm.h"
#include "disk/disk_int.h"

enum region_state {
	R_EMPTY,
	R_LOST,
	R_OPEN,
	R_SEALED
};

struct region_info {
	enum region_state	state;
	bool			hdr_ok;
	uint64_t		seq;
	struct disk_trailer	t;
};

struct scan {
	struct disk_store	*ds;
	uint64_t		floor;	/* every record after has a higher seq */
	/* The log went from the last region to region 0 past records that
	 * are not there: regions a shrink retired lay between. */
	bool			wrap_gap;
	uint8_t			*ents;	/* footer entries read */
	size_t			ents_cap;
};

static bool
all_zero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return (false);
	return (true);
}

/* Region r classified from its header's nh bytes at h and its
 * trailer's nt at t (fewer than asked where the file ends early). */
static void
region_classify(struct disk_store *ds, uint32_t r, struct region_info *ri,
    const uint8_t *h, ssize_t nh, const uint8_t *t, ssize_t nt)
{
	struct disk_region_hdr rh;
	bool foot_ok;

	memset(ri, 0, sizeof *ri);
	ri->hdr_ok = nh == DISK_REGION_HDR_LEN && disk_region_hdr_decode(&rh,
	    h, DISK_REGION_HDR_LEN, &ds->sb, r) == DISK_FMT_OK;
	foot_ok = nt == DISK_TRAILER_LEN && disk_trailer_decode(&ri->t, t,
	    DISK_TRAILER_LEN, &ds->sb) == DISK_FMT_OK;
	/* A footer of the previous lap under a new header is stale. */
	if (ri->hdr_ok && foot_ok && ri->t.region_seq != rh.seq)
		foot_ok = false;
	if (foot_ok) {
		ri->state = R_SEALED;
		ri->seq = ri->t.region_seq;
	} else if (ri->hdr_ok) {
		ri->state = R_OPEN;
		ri->seq = rh.seq;
	} else if (nh == DISK_REGION_HDR_LEN && nt == DISK_TRAILER_LEN &&
	    all_zero(h, DISK_REGION_HDR_LEN) && all_zero(t, DISK_TRAILER_LEN))
		ri->state = R_EMPTY;
	else
		ri->state = R_LOST;
}

/* A head or a tombstone at (r, off) enters the index. */
static int
scan_apply(struct scan *sc, uint32_t r, uint8_t kind, const uint8_t *key,
    uint32_t off, uint32_t rec_len, uint32_t first_region, uint64_t size)
{
	struct disk_store *ds = sc->ds;
	struct disk_addr a;
	int e;

	memset(&a, 0, sizeof a);
	a.region = r;
	a.offset = off;
	a.rec_len = rec_len;
	a.first_region = first_region;
	a.size_class = disk_index_size_class(size);
	switch (kind) {
	case DISK_REC_HEAD:
		e = disk_index_put(ds->idx, key, &a);
		if (e == -ENOMEM)
			return (e);
		if (e < 0)
			ds->stats[DISK_STAT_bad_entries]++;
		break;
	case DISK_REC_TOMB:
		(void)disk_index_remove_older(ds->idx, key, &a);
		break;
	default:
		break;
	}
	return (0);
}

/*
 * Whether a head at region r whose first chunk is at first_region was
 * written when the store was larger and its chunks pass through regions
 * a shrink retired: the first chunk past the store's end, or the object
 * wrapping from the last region to region 0 where the log did not (see
 * load_next()).  Such an object is retired, as the shrink counted it in
 * service, not a damaged entry; and it still hides the older versions
 * the scan found, as a tombstone would, since it had replaced them.
 */
static bool
scan_retired(const struct scan *sc, uint32_t r, uint32_t first_region)
{
	return (first_region >= sc->ds->sb.nregions ||
	    (first_region > r && sc->wrap_gap));
}

static void
scan_retire(struct scan *sc, uint32_t r, const uint8_t *key, uint32_t off,
    uint32_t rec_len)
{
	sc->ds->stats[DISK_STAT_retired]++;
	(void)scan_apply(sc, r, DISK_REC_TOMB, key, off, rec_len, r, 0);
}

/* Region r's footer entries, read at ents: indexed.  0, 1 when they
 * fail their checks, or -ENOMEM. */
static int
scan_footer(struct scan *sc, uint32_t r, const struct region_info *ri,
    const uint8_t *ents)
{
	struct disk_store *ds = sc->ds;
	struct disk_foot_ent fe;
	bool retired;
	uint32_t i;
	int e;

	if (disk_footer_verify(&ri->t, ents) != DISK_FMT_OK)
		return (1);
	for (i = 0; i < ri->t.count; i++) {
		disk_foot_ent_decode(&fe, ents + (size_t)i *
		    DISK_FOOT_ENT_LEN);
		retired = fe.kind == DISK_REC_HEAD &&
		    scan_retired(sc, r, fe.first_region);
		if (retired)
			fe.first_region = r;	/* the rest checked */
		if (disk_foot_ent_check(&fe, &ri->t, &ds->sb) != DISK_FMT_OK ||
		    fe.seq <= sc->floor) {
			ds->stats[DISK_STAT_bad_entries]++;
			continue;
		}
		sc->floor = fe.seq;
		if (retired) {
			scan_retire(sc, r, fe.key, fe.offset, fe.rec_len);
			continue;
		}
		e = scan_apply(sc, r, fe.kind, fe.key, fe.offset, fe.rec_len,
		    fe.first_region, fe.object_size);
		if (e != 0)
			return (e);
	}
	if (ri->t.last_seq > sc->floor)
		sc->floor = ri->t.last_seq;
	ds->stats[DISK_STAT_scan_footers]++;
	return (0);
}

/* One record checked and verified at off: its footer entry is kept (the
 * newest region goes on from them) and it enters the index. */
static int
scan_record(struct scan *sc, uint32_t r, const struct disk_rec *rec,
    uint32_t off)
{
	struct disk_store *ds = sc->ds;
	const uint8_t *in = ds->buf + off;
	struct disk_chunk_ref c;
	struct disk_foot_ent fe;
	struct disk_sb any;
	bool retired = false;
	uint32_t i;
	int e;

	memset(&fe, 0, sizeof fe);
	memcpy(fe.key, rec->key, DISK_KEY_LEN);
	fe.seq = rec->seq;
	fe.object_size = rec->object_size;
	fe.offset = off;
	fe.rec_len = rec->rec_len;
	fe.first_region = r;
	fe.kind = (uint8_t)rec->kind;
	fe.flags = (uint8_t)rec->flags;
	if (rec->kind == DISK_REC_HEAD && (rec->flags & DISK_RECF_CHUNKED)) {
		/* Each chunk checked against any size the store had; one
		 * past its end now was retired by a shrink. */
		any = ds->sb;
		any.nregions = DISK_REGIONS_MAX;
		for (i = 0; i < rec->nchunks; i++) {
			if (disk_rec_chunk_ref(rec, in, i, &any, &c) !=
			    DISK_FMT_OK) {
				ds->stats[DISK_STAT_bad_entries]++;
				return (0);
			}
			if (i == 0)
				fe.first_region = c.region;
			if (c.region >= ds->sb.nregions)
				retired = true;
		}
		retired = retired || scan_retired(sc, r, fe.first_region);
	}
	/* Its footer entry kept all the same, so that the next open
	 * finds it retired again and the older versions stay hidden. */
	if ((e = disk_region_add_ent(ds, &fe)) != 0)
		return (e);
	ds->stats[DISK_STAT_scan_records]++;
	if (retired) {
		scan_retire(sc, r, fe.key, off, fe.rec_len);
		return (0);
	}
	return (scan_apply(sc, r, fe.kind, fe.key, off, fe.rec_len,
	    fe.first_region, fe.object_size));
}

/* Region r record by record, its n bytes read into the writer's
 * buffer; *end is where its last good record ends. */
static int
scan_region(struct scan *sc, uint32_t r, uint64_t region_seq, ssize_t n,
    uint32_t *end)
{
	struct disk_store *ds = sc->ds;
	enum disk_fmt_result res;
	uint32_t off, lim;
	struct disk_rec rec;
	int e;

	ds->nents = 0;
	*end = DISK_REGION_HDR_LEN;
	if (n < 0)
		return (1);
	lim = ds->sb.region_size - DISK_TRAILER_LEN;
	if ((uint64_t)n < lim)
		lim = (uint32_t)n;
	if (region_seq > sc->floor + 1)
		sc->floor = region_seq - 1;
	off = DISK_REGION_HDR_LEN;
	while ((uint64_t)off + DISK_REC_HDR_LEN <= lim) {
		res = disk_rec_decode_header(&rec, ds->buf + off, lim - off,
		    ds->tag);
		if (res == DISK_FMT_OK && rec.seq > sc->floor) {
			/* The header holds: the record's length is known
			 * and its sequence number is spent either way. */
			sc->floor = rec.seq;
			if (disk_rec_verify(&rec, ds->buf + off) !=
			    DISK_FMT_OK) {
				ds->stats[DISK_STAT_bad_records]++;
				off += rec.rec_len;
				continue;
			}
			if ((e = scan_record(sc, r, &rec, off)) != 0)
				return (e);
			off += rec.rec_len;
			*end = off;
			continue;
		}
		if (res == DISK_FMT_HEADER_SUM || res == DISK_FMT_VERSION ||
		    (res == DISK_FMT_FIELD && rec.seq > sc->floor))
			ds->stats[DISK_STAT_bad_records]++;
		off += DISK_ALIGN;
	}
	ds->stats[DISK_STAT_scan_regions]++;
	return (0);
}

static uint64_t
usec_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/*
 * The scan as a walk of reads: load_want() names the next read the scan
 * needs (running meanwhile the steps that need none), load_feed() takes
 * its bytes.  At open they are read at once (load_sync); on a loop
 * (disk_store_load_start) the reads go through the loop's file I/O and
 * each completion feeds the scan, so that the loop serves while the disk
 * reads, whatever the disk's speed: only the checks of what was read run
 * on the loop (a region's checksums, a few milliseconds for 16 MiB).
 *
 *	pass 1, region k: its header (sub 0), its trailer (sub 1):
 *	    classified
 *	pass 2, the k-th of the log: its footer's entries (sub 0), or when
 *	    it has no valid footer, the whole region (sub 1)
 *	pass 3: the writer set up; the tombstones owed written
 *
 * On a loop the reads the scan will want next are started ahead of it
 * (load_ahead(): up to LOAD_WINDOW reads, LOAD_AHEAD_BYTES of them), so
 * that the disk works while the loop checks what came: a read wanted is
 * fed from the window when it was started ahead.  Which reads come next
 * is what load_peek() foresees from what is known (every header and
 * trailer in pass 1; in pass 2 each region's footer, or the whole region
 * when it has none); a guess that proves wrong (a footer failing its
 * checks, a region found no part of the log) costs a read, never a
 * result: bytes are fed only to the read load_want() names, in its
 * order.  One read is fed per turn of the loop, as before.
 */
#define LOAD_WINDOW		16
#define LOAD_AHEAD_BYTES	(8u << 20)

/* A read of the window: started, then done (its bytes held) until fed
 * or dropped.  A read dropped while out is let go by its completion. */
struct load_read {
	struct disk_load	*l;
	uint64_t		off;
	size_t			len;
	uint64_t		order;	/* as started: the window's order */
	bool			used;
	bool			out;
	bool			dropped;
	int			err;
	struct buf_slice	data;	/* done, err 0: held */
};

struct disk_load {
	struct region_info	*ri;
	struct scan		sc;
	uint32_t		pass;	/* 1, 2, then 3: done */
	uint32_t		k;	/* the region the pass is at */
	uint32_t		sub;	/* which read of region k */
	uint32_t		newest;
	uint32_t		tail;
	uint32_t		end;
	uint64_t		top;
	uint64_t		t0;
	bool			any;
	bool			open_newest;
	unsigned		nout;		/* reads out */
	bool			orphan;		/* let go with reads out */
	/* The reads started, one slot more than load_ahead() fills, so
	 * that the read wanted always has one. */
	struct load_read	win[LOAD_WINDOW + 1];
	struct load_read	*wait;		/* the read fed when done */
	uint64_t		order;
	uint8_t			hdr[DISK_REGION_HDR_LEN];
	ssize_t			nhdr;
	disk_load_fn		*done;
	void			*arg;
	struct comm_call	call;	/* the end, from the loop */
	int			err;
	/* Keys put or purged meanwhile: a tombstone each once loaded, so
	 * that no older version the scan finds outlives them. */
	uint8_t			(*keys)[DISK_KEY_LEN];
	size_t			nkeys;
	size_t			keys_cap;
};

/* A read of the window let go: its bytes, and the slot unless it is
 * out (then its completion frees it). */
static void
load_read_drop(struct load_read *rd)
{
	if (rd->data.buf != NULL)
		buf_unref(&rd->data.buf);
	if (rd->out)
		rd->dropped = true;
	else
		rd->used = false;
}

static void
load_release(struct disk_load *l)
{
	size_t i;

	for (i = 0; i <= LOAD_WINDOW; i++)
		if (l->win[i].used)
			load_read_drop(&l->win[i]);
	free(l->sc.ents);
	free(l->ri);
	free(l->keys);
	free(l);
}

/* Let the load go; with reads out, the last completion frees it (the
 * store may be gone by then). */
static void
load_free(struct disk_load **lp)
{
	struct disk_load *l = *lp;
	size_t i;

	if (l == NULL)
		return;
	*lp = NULL;
	if (l->done != NULL)
		comm_call_cancel(&l->call);
	if (l->nout == 0) {
		load_release(l);
		return;
	}
	l->orphan = true;
	for (i = 0; i <= LOAD_WINDOW; i++)
		if (l->win[i].used)
			load_read_drop(&l->win[i]);
}

static int
load_new(struct disk_store *ds)
{
	struct disk_load *l;

	l = calloc(1, sizeof *l);
	if (l == NULL)
		return (-ENOMEM);
	l->ri = calloc(ds->sb.nregions, sizeof *l->ri);
	if (l->ri == NULL) {
		free(l);
		return (-ENOMEM);
	}
	l->sc.ds = ds;
	l->pass = 1;
	l->t0 = usec_now();
	ds->load = l;
	return (0);
}

/* Both passes done: the writer set up after the last good record. */
static void
load_finish(struct disk_store *ds, struct disk_load *l)
{
	uint32_t n = ds->sb.nregions;

	ds->next_seq = l->sc.floor + 1;
	if (l->any && l->ri[l->newest].seq > l->sc.floor)
		ds->next_seq = l->ri[l->newest].seq;
	if (l->open_newest) {
		/* Go on in the newest region after its last good record;
		 * its image is in the buffer, its entries in ds->ents. */
		ds->region = l->newest;
		if (ds->img != NULL)
			ds->img->region = l->newest;
		ds->region_seq = l->ri[l->newest].seq;
		ds->fill = l->end;
		ds->flushed = l->end;
	} else
		disk_region_start(ds, l->any ? (l->newest + 1) % n : 0);
	ds->stats[DISK_STAT_scan_usec] = usec_now() - l->t0;
	l->pass = 3;
}

/* The next region of the log, pass 2.  Where the log goes from the
 * last region to region 0, region 0's first sequence number follows the
 * last one before it, unless what was written between is gone: the
 * regions past the end that a shrink retired.  (A region 0 that is no
 * part of the log, lost or older, says nothing of that.) */
static void
load_next(struct disk_load *l)
{
	const struct disk_sb *sb = &l->sc.ds->sb;
	const struct region_info *r0 = &l->ri[0];

	l->k++;
	l->sub = 0;
	if (l->k < sb->nregions && (l->tail + l->k) % sb->nregions == 0)
		l->sc.wrap_gap = (r0->state == R_OPEN ||
		    r0->state == R_SEALED) && r0->seq > l->sc.floor + 1;
}

/* Where pass 1's read sub of region r is, or pass 2's of region r
 * (sub 0: its footer's entries; 1: the whole region); *len cut to what
 * of it the file holds (0: the file ends before it). */
static void
load_where(const struct disk_store *ds, const struct disk_load *l,
    uint32_t pass, uint32_t r, uint32_t sub, uint64_t *off, size_t *len)
{
	const struct region_info *ri = &l->ri[r];

	*off = disk_region_pos(&ds->sb, r);
	if (pass == 1) {
		*len = sub == 0 ? DISK_REGION_HDR_LEN : DISK_TRAILER_LEN;
		if (sub == 1)
			*off += ds->sb.region_size - DISK_TRAILER_LEN;
	} else if (sub == 0) {
		*off += ri->t.foot_off;
		*len = (size_t)ri->t.count * DISK_FOOT_ENT_LEN;
	} else
		*len = ds->sb.region_size;
	if (*off >= ds->io->size)
		*len = 0;
	else if (*len > ds->io->size - *off)
		*len = (size_t)(ds->io->size - *off);
}

/*
 * The next read: 1 with *off and *len (*len may be 0: the file ends
 * before it), 0 when the scan is done.  Steps needing no read run here.
 */
static int
load_want(struct disk_store *ds, struct disk_load *l, uint64_t *off,
    size_t *len)
{
	struct region_info *ri;
	uint32_t r;

	for (;;) {
		if (l->pass == 1) {
			load_where(ds, l, 1, l->k, l->sub, off, len);
			return (1);
		}
		if (l->pass != 2)
			return (0);
		if (l->k == ds->sb.nregions) {
			load_finish(ds, l);
			return (0);
		}
		r = (l->tail + l->k) % ds->sb.nregions;
		ri = &l->ri[r];
		if (ri->state == R_EMPTY) {
			ds->stats[DISK_STAT_scan_empty]++;
			load_next(l);
			continue;
		}
		/* Regions follow each other in sequence order; one that
		 * does not is no part of this log. */
		if (ri->state == R_LOST || ri->seq <= l->sc.floor) {
			ds->stats[DISK_STAT_scan_lost]++;
			load_next(l);
			continue;
		}
		if (ri->state == R_OPEN)
			l->sub = 1;
		load_where(ds, l, 2, r, l->sub, off, len);
		return (1);
	}
}

/*
 * The i-th read (from 1) after the one load_want() named last, as far
 * as it can be foreseen: 1 with *off and *len, 0 past what is known
 * (pass 1's end, where the log's order is not known yet, or the scan's).
 * Pass 2 skips the regions load_want() would skip as they are now; a
 * footer failing its checks, or a later floor, makes a guess wrong.
 */
static int
load_peek(const struct disk_store *ds, const struct disk_load *l,
    uint32_t i, uint64_t *off, size_t *len)
{
	const struct region_info *ri;
	uint32_t n = ds->sb.nregions, k, r, p;

	if (l->pass == 1) {
		p = 2 * l->k + l->sub + i;
		if (p / 2 >= n)
			return (0);
		load_where(ds, l, 1, p / 2, p % 2, off, len);
		return (1);
	}
	if (l->pass != 2)
		return (0);
	for (k = l->k + 1; k < n; k++) {
		r = (l->tail + k) % n;
		ri = &l->ri[r];
		if (ri->state == R_EMPTY || ri->state == R_LOST ||
		    ri->seq <= l->sc.floor)
			continue;
		if (--i == 0) {
			load_where(ds, l, 2, r, ri->state == R_OPEN, off,
			    len);
			return (1);
		}
	}
	return (0);
}

/*
 * Pass 1 done: the index, still empty (nothing enters it while the
 * load runs), made anew for as many objects as the footers list, and an
 * open region as many as a sealed one on average, so that pass 2 does
 * not grow it step by step, each step a pass over it (a quarter more
 * each: about five moves an object at 1M).  Chunks and tombstones make
 * that an overestimate, bounded by the records the regions hold.
 */
static void
load_size_index(struct disk_store *ds, const struct disk_load *l)
{
	struct disk_index *idx;
	size_t n = 0, sealed = 0, open = 0;
	uint32_t r;

	for (r = 0; r < ds->sb.nregions; r++)
		if (l->ri[r].state == R_SEALED) {
			n += l->ri[r].t.count;
			sealed++;
		} else if (l->ri[r].state == R_OPEN)
			open++;
	if (sealed > 0)
		n += open * (n / sealed);
	if (n == 0 || disk_index_count(ds->idx) != 0 ||
	    (idx = disk_index_new(ds->sb.nregions, n)) == NULL)
		return;		/* it grows as it goes */
	disk_index_free(&ds->idx);
	ds->idx = idx;
}

/* The bytes of the read load_want() named: n of them at p (n < 0: the
 * read failed).  0, or -ENOMEM. */
static int
load_feed(struct disk_store *ds, struct disk_load *l, const uint8_t *p,
    ssize_t n)
{
	struct region_info *ri;
	uint32_t r;
	int e;

	if (l->pass == 1) {
		if (l->sub == 0) {
			l->nhdr = n;
			if (n > 0)
				memcpy(l->hdr, p, (size_t)n);
			l->sub = 1;
			return (0);
		}
		r = l->k;
		ri = &l->ri[r];
		region_classify(ds, r, ri, l->hdr, l->nhdr, p, n);
		if ((ri->state == R_OPEN || ri->state == R_SEALED) &&
		    (!l->any || ri->seq > l->top)) {
			l->any = true;
			l->top = ri->seq;
			l->newest = r;
		}
		l->sub = 0;
		if (++l->k < ds->sb.nregions)
			return (0);
		load_size_index(ds, l);
		l->tail = l->any ? (l->newest + 1) % ds->sb.nregions : 0;
		disk_index_set_tail(ds->idx, l->tail);
		l->pass = 2;
		l->k = 0;
		return (0);
	}
	r = (l->tail + l->k) % ds->sb.nregions;
	ri = &l->ri[r];
	if (l->sub == 0) {
		e = n == (ssize_t)ri->t.count * DISK_FOOT_ENT_LEN ?
		    scan_footer(&l->sc, r, ri, p) : 1;
		if (e <= 0) {
			if (r == l->newest)
				l->open_newest = false;
			load_next(l);
			return (e);
		}
		ds->stats[DISK_STAT_bad_footers]++;
		if (!ri->hdr_ok) {
			ds->stats[DISK_STAT_scan_lost]++;
			load_next(l);
			return (0);
		}
		l->sub = 1;		/* record by record */
		return (0);
	}
	if (n > 0 && p != ds->buf)
		memcpy(ds->buf, p, (size_t)n);
	e = scan_region(&l->sc, r, ri->seq, n, &l->end);
	load_next(l);
	if (e > 0) {
		ds->stats[DISK_STAT_scan_lost]++;
		return (0);
	}
	if (e == 0 && r == l->newest)
		l->open_newest = true;
	return (e);
}

/* The load is over: the tombstones owed written, the state let go. */
static void
load_end(struct disk_store *ds)
{
	struct disk_load *l = ds->load;
	struct disk_addr a;
	size_t i;

	ds->load = NULL;
	/* What came while loading is newer than anything indexed. */
	for (i = 0; i < l->nkeys; i++)
		if (disk_index_lookup(ds->idx, l->keys[i], &a))
			(void)disk_store_purge(ds, l->keys[i]);
	load_free(&l);
}

/* The whole scan, each read waited for.  0 or -ENOMEM. */
static int
load_sync(struct disk_store *ds)
{
	struct disk_load *l = ds->load;
	uint8_t *scratch = NULL, *p;
	size_t len, cap = 0;
	uint64_t off;
	ssize_t n;
	int e = 0;

	while (e == 0 && load_want(ds, l, &off, &len) == 1) {
		p = ds->buf;
		if (l->pass != 2 || l->sub != 1) {
			if (len > cap) {
				p = realloc(scratch, len);
				if (p == NULL) {
					e = -ENOMEM;
					break;
				}
				scratch = p;
				cap = len;
			}
			p = scratch;
		}
		n = (ssize_t)len;
		if (len > 0 && disk_io_read(ds->io, p, len, off) != 0)
			n = -EIO;
		e = load_feed(ds, l, p, n);
	}
	free(scratch);
	if (e == 0)
		load_end(ds);
	return (e);
}

static void	load_step(struct disk_store *ds);

static void
load_io_done(int err, const struct buf_slice *data, void *arg)
{
	struct load_read *rd = arg;
	struct disk_load *l = rd->l;

	AN(rd->used);
	rd->out = false;
	l->nout--;
	if (rd->dropped) {
		rd->used = false;
		if (l->orphan && l->nout == 0)
			load_release(l);
		return;
	}
	rd->err = err;
	if (err == 0)
		rd->data = (struct buf_slice){ buf_ref(data->buf), data->off,
		    data->len };
	if (l->wait == rd) {
		l->wait = NULL;
		CHECK_OBJ_NOTNULL(l->sc.ds, DISK_STORE_MAGIC);
		load_step(l->sc.ds);
	}
}

static void
load_call(struct comm_call *call)
{
	struct disk_load *l = container_of(call, struct disk_load, call);
	struct disk_store *ds = l->sc.ds;
	disk_load_fn *done = l->done;
	void *arg = l->arg;
	int e = l->err;

	if (e == 0 && l->pass == 3)
		load_end(ds);
	else if (e == 0)
		load_step(ds);	/* the next read's turn */
	else {
		load_free(&ds->load);
		ds->read_only = true;	/* nothing of its writer is set */
		ds->failed = e;
	}
	if (e != 0 || ds->load == NULL)
		done(e, arg);
}

/* Read len bytes at off into the window.  NULL on ENOMEM. */
static struct load_read *
load_read_start(struct disk_store *ds, struct disk_load *l, uint64_t off,
    size_t len)
{
	struct load_read *rd = NULL;
	size_t i;

	for (i = 0; i <= LOAD_WINDOW && rd == NULL; i++)
		if (!l->win[i].used)
			rd = &l->win[i];
	if (rd == NULL)
		return (NULL);
	memset(rd, 0, sizeof *rd);
	rd->l = l;
	rd->off = off;
	rd->len = len;
	rd->order = l->order++;
	rd->used = true;
	rd->out = true;
	if (ds->io->ops->read_start(ds->io, len, off, load_io_done, rd) !=
	    0) {
		rd->used = false;
		return (NULL);
	}
	l->nout++;
	return (rd);
}

/* The window's read of len bytes at off, or NULL.  The reads started
 * before it are guesses that proved wrong (regions the scan skipped),
 * and are dropped. */
static struct load_read *
load_read_find(struct disk_load *l, uint64_t off, size_t len)
{
	struct load_read *rd, *hit = NULL;
	size_t i;

	for (i = 0; i <= LOAD_WINDOW; i++) {
		rd = &l->win[i];
		if (rd->used && !rd->dropped && rd->off == off &&
		    rd->len == len && (hit == NULL || rd->order < hit->order))
			hit = rd;
	}
	for (i = 0; hit != NULL && i <= LOAD_WINDOW; i++) {
		rd = &l->win[i];
		if (rd->used && !rd->dropped && rd->order < hit->order)
			load_read_drop(rd);
	}
	return (hit);
}

/* The reads after the one wanted started, as many as the window takes:
 * LOAD_WINDOW slots (those dropped but still out count), the bytes of
 * those that will be fed at most LOAD_AHEAD_BYTES. */
static void
load_ahead(struct disk_store *ds, struct disk_load *l)
{
	struct load_read *rd;
	size_t bytes = 0, used = 0, i, len;
	uint64_t off;
	uint32_t k;
	bool have;

	for (i = 0; i <= LOAD_WINDOW; i++) {
		rd = &l->win[i];
		used += rd->used;
		if (rd->used && !rd->dropped)
			bytes += rd->len;
	}
	for (k = 1; used < LOAD_WINDOW && load_peek(ds, l, k, &off, &len) ==
	    1; k++) {
		if (len == 0)
			continue;
		for (have = false, i = 0; i <= LOAD_WINDOW && !have; i++)
			have = l->win[i].used && !l->win[i].dropped &&
			    l->win[i].off == off && l->win[i].len == len;
		if (have)
			continue;
		if (bytes + len > LOAD_AHEAD_BYTES ||
		    load_read_start(ds, l, off, len) == NULL)
			break;
		bytes += len;
		used++;
	}
}

/* The next read fed when its bytes are there (and the next turn posted,
 * so that reads already done are fed a turn of the loop each), waited
 * for when out, started when not; or the end posted. */
static void
load_step(struct disk_store *ds)
{
	struct disk_load *l = ds->load;
	struct load_read *rd;
	uint64_t off;
	size_t len;
	int e;

	if (load_want(ds, l, &off, &len) == 0) {
		comm_call_post(ds->loop, &l->call);
		return;
	}
	if (len == 0) {
		e = load_feed(ds, l, NULL, 0);
		if (e != 0)
			l->err = e;
		comm_call_post(ds->loop, &l->call);
		return;
	}
	rd = load_read_find(l, off, len);
	if (rd == NULL && (rd = load_read_start(ds, l, off, len)) == NULL) {
		l->err = -ENOMEM;
		comm_call_post(ds->loop, &l->call);
		return;
	}
	load_ahead(ds, l);
	if (rd->out) {
		l->wait = rd;
		return;
	}
	e = load_feed(ds, l, rd->err == 0 ? buf_data(rd->data.buf) +
	    rd->data.off : NULL, rd->err == 0 ? (ssize_t)rd->data.len :
	    rd->err);
	load_read_drop(rd);
	if (e != 0)
		l->err = e;
	comm_call_post(ds->loop, &l->call);
}

int
disk_store_load_start(struct disk_store *ds, disk_load_fn *done, void *arg)
{
	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	AN(done);
	if (ds->load == NULL || ds->loop == NULL || ds->load->done != NULL)
		return (-EINVAL);
	ds->load->done = done;
	ds->load->arg = arg;
	comm_call_init(&ds->load->call, load_call);
	load_step(ds);
	return (0);
}

bool
disk_store_loading(const struct disk_store *ds)
{
	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	return (ds->load != NULL);
}

int
disk_load_defer(struct disk_store *ds, const uint8_t key[DISK_KEY_LEN])
{
	struct disk_load *l = ds->load;
	size_t cap;
	void *p;

	AN(l);
	if (l->nkeys == l->keys_cap) {
		cap = l->keys_cap > 0 ? l->keys_cap * 2 : 64;
		p = realloc(l->keys, cap * sizeof *l->keys);
		if (p == NULL)
			return (-ENOMEM);
		l->keys = p;
		l->keys_cap = cap;
	}
	memcpy(l->keys[l->nkeys++], key, DISK_KEY_LEN);
	return (0);
}

void
disk_load_close(struct disk_store *ds)
{
	struct disk_load *l = ds->load;

	if (l == NULL)
		return;
	/* A purge made meanwhile must not come undone at the next start:
	 * the load ends here, each read waited for, to write its
	 * tombstones (a read under way is read again; its completion
	 * finds the load let go). */
	if (l->nkeys > 0 && l->err == 0 && load_sync(ds) == 0)
		return;
	load_free(&ds->load);
	ds->read_only = true;
}

struct disk_store *
disk_store_open_io(struct disk_io *io, const struct disk_store_opts *o,
    int *err, enum disk_fmt_result *why)
{
	uint8_t sbb[DISK_SB_LEN];
	struct disk_store *ds = NULL;
	enum disk_fmt_result res;
	int e;

	CHECK_OBJ_NOTNULL(io, DISK_IO_MAGIC);
	AN(err);
	if (why != NULL)
		*why = DISK_FMT_OK;
	e = disk_io_read(io, sbb, sizeof sbb, 0);
	if (e != 0) {
		if (e == -EIO && io->size < sizeof sbb) {
			e = -EMEDIUMTYPE;
			if (why != NULL)
				*why = DISK_FMT_SHORT;
		}
		goto fail;
	}
	ALLOC_OBJ(ds, DISK_STORE_MAGIC);
	if (ds == NULL) {
		e = -ENOMEM;
		goto fail;
	}
	ds->io = io;
	res = disk_sb_decode(&ds->sb, sbb, sizeof sbb);
	if (res != DISK_FMT_OK) {
		if (why != NULL)
			*why = res;
		e = res == DISK_FMT_VERSION ? -EPROTO : -EMEDIUMTYPE;
		goto fail;
	}
	ds->tag = disk_sb_store_tag(&ds->sb);
	ds->no_sync = o != NULL && o->no_sync;
	ds->read_only = o != NULL && o->read_only;
	ds->max_size = o != NULL ? o->max_size : 0;
	ds->min_size = o != NULL ? o->min_size : 0;
	ds->swap_rate = o != NULL ? o->max_swap_rate : 0;
	ds->swap_timeout_ms = o != NULL ? o->swap_timeout_ms : 0;
	ds->no_reinsert = o != NULL && o->no_reinsert;
	list_init(&ds->imgs);
	list_init(&ds->gets);
	list_init(&ds->puts);
	ds->loop = io->loop;
	/* On a loop the image is a buf that writes can hold slices of. */
	if (ds->loop != NULL)
		(void)disk_img_new(ds, 0);
	else
		ds->buf = malloc(ds->sb.region_size);
	ds->idx = disk_index_new(ds->sb.nregions,
	    o != NULL ? o->expect_objects : 0);
	if (ds->buf == NULL || ds->idx == NULL) {
		e = -ENOMEM;
		goto fail;
	}
	if ((e = load_new(ds)) != 0)
		goto fail;
	if ((o == NULL || !o->load_later || ds->loop == NULL) &&
	    (e = load_sync(ds)) != 0)
		goto fail;
	*err = 0;
	return (ds);
fail:
	if (ds != NULL) {
		if (ds->img != NULL) {
			buf_unref(&ds->img->b);
			free(ds->img);
		} else
			free(ds->buf);
		free(ds->ents);
		load_free(&ds->load);
		disk_index_free(&ds->idx);
		FREE_OBJ(ds);
	}
	disk_io_close(&io);
	*err = e;
	return (NULL);
}

struct disk_store *
disk_store_open(const char *path, const struct disk_store_opts *o, int *err,
    enum disk_fmt_result *why)
{
	struct disk_io *io;

	AN(err);
	if (why != NULL)
		*why = DISK_FMT_OK;
	io = disk_io_file_open(path, 0, 0, 0, err);
	if (io == NULL)
		return (NULL);
	if (o != NULL && o->fio != NULL)
		disk_io_file_attach(io, o->fio);
	return (disk_store_open_io(io, o, err, why));
}
