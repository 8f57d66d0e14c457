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
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/check.h"
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

/* Read what of [off, off + len) the file holds; the count, or -errno. */
static ssize_t
read_avail(struct disk_store *ds, void *buf, size_t len, uint64_t off)
{
	int e;

	if (off >= ds->io->size)
		return (0);
	if (len > ds->io->size - off)
		len = (size_t)(ds->io->size - off);
	e = disk_io_read(ds->io, buf, len, off);
	return (e != 0 ? e : (ssize_t)len);
}

static void
region_classify(struct disk_store *ds, uint32_t r, struct region_info *ri)
{
	uint64_t pos = disk_region_pos(&ds->sb, r);
	uint8_t h[DISK_REGION_HDR_LEN], t[DISK_TRAILER_LEN];
	struct disk_region_hdr rh;
	ssize_t nh, nt;
	bool foot_ok;

	memset(ri, 0, sizeof *ri);
	nh = read_avail(ds, h, sizeof h, pos);
	nt = read_avail(ds, t, sizeof t,
	    pos + ds->sb.region_size - DISK_TRAILER_LEN);
	ri->hdr_ok = nh == (ssize_t)sizeof h && disk_region_hdr_decode(&rh, h,
	    sizeof h, &ds->sb, r) == DISK_FMT_OK;
	foot_ok = nt == (ssize_t)sizeof t && disk_trailer_decode(&ri->t, t,
	    sizeof t, &ds->sb) == DISK_FMT_OK;
	/* A footer of the previous lap under a new header is stale. */
	if (ri->hdr_ok && foot_ok && ri->t.region_seq != rh.seq)
		foot_ok = false;
	if (foot_ok) {
		ri->state = R_SEALED;
		ri->seq = ri->t.region_seq;
	} else if (ri->hdr_ok) {
		ri->state = R_OPEN;
		ri->seq = rh.seq;
	} else if (nh == (ssize_t)sizeof h && nt == (ssize_t)sizeof t &&
	    all_zero(h, sizeof h) && all_zero(t, sizeof t))
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

static int
scan_footer(struct scan *sc, uint32_t r, const struct region_info *ri)
{
	struct disk_store *ds = sc->ds;
	size_t len = (size_t)ri->t.count * DISK_FOOT_ENT_LEN;
	struct disk_foot_ent fe;
	uint32_t i;
	uint8_t *p;
	int e;

	if (len > sc->ents_cap) {
		p = realloc(sc->ents, len);
		if (p == NULL)
			return (-ENOMEM);
		sc->ents = p;
		sc->ents_cap = len;
	}
	if (len > 0 && disk_io_read(ds->io, sc->ents, len,
	    disk_region_pos(&ds->sb, r) + ri->t.foot_off) != 0)
		return (1);
	if (disk_footer_verify(&ri->t, sc->ents) != DISK_FMT_OK)
		return (1);
	for (i = 0; i < ri->t.count; i++) {
		disk_foot_ent_decode(&fe, sc->ents + (size_t)i *
		    DISK_FOOT_ENT_LEN);
		if (disk_foot_ent_check(&fe, &ri->t, &ds->sb) != DISK_FMT_OK ||
		    fe.seq <= sc->floor) {
			ds->stats[DISK_STAT_bad_entries]++;
			continue;
		}
		sc->floor = fe.seq;
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
		if (disk_rec_chunk_ref(rec, in, 0, &ds->sb, &c) !=
		    DISK_FMT_OK) {
			ds->stats[DISK_STAT_bad_entries]++;
			return (0);
		}
		fe.first_region = c.region;
	}
	if ((e = disk_region_add_ent(ds, &fe)) != 0)
		return (e);
	ds->stats[DISK_STAT_scan_records]++;
	return (scan_apply(sc, r, fe.kind, fe.key, off, fe.rec_len,
	    fe.first_region, fe.object_size));
}

/* Region r record by record, read into the writer's buffer; *end is
 * where its last good record ends. */
static int
scan_region(struct scan *sc, uint32_t r, uint64_t region_seq, uint32_t *end)
{
	struct disk_store *ds = sc->ds;
	enum disk_fmt_result res;
	uint32_t off, lim;
	struct disk_rec rec;
	ssize_t n;
	int e;

	ds->nents = 0;
	*end = DISK_REGION_HDR_LEN;
	n = read_avail(ds, ds->buf, ds->sb.region_size,
	    disk_region_pos(&ds->sb, r));
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

static int
store_scan(struct disk_store *ds)
{
	struct region_info *ri;
	struct scan sc;
	uint32_t n = ds->sb.nregions, newest = 0, tail, k, r, end = 0;
	uint64_t t0 = usec_now(), top = 0;
	bool any = false, open_newest = false;
	int e = 0;

	ri = calloc(n, sizeof *ri);
	if (ri == NULL)
		return (-ENOMEM);
	for (r = 0; r < n; r++) {
		region_classify(ds, r, &ri[r]);
		if ((ri[r].state == R_OPEN || ri[r].state == R_SEALED) &&
		    (!any || ri[r].seq > top)) {
			any = true;
			top = ri[r].seq;
			newest = r;
		}
	}
	memset(&sc, 0, sizeof sc);
	sc.ds = ds;
	tail = any ? (newest + 1) % n : 0;
	disk_index_set_tail(ds->idx, tail);
	for (k = 0; k < n && e >= 0; k++) {
		r = (tail + k) % n;
		switch (ri[r].state) {
		case R_EMPTY:
			ds->stats[DISK_STAT_scan_empty]++;
			continue;
		case R_LOST:
			ds->stats[DISK_STAT_scan_lost]++;
			continue;
		default:
			break;
		}
		/* Regions follow each other in sequence order; one that
		 * does not is no part of this log. */
		if (ri[r].seq <= sc.floor) {
			ds->stats[DISK_STAT_scan_lost]++;
			continue;
		}
		if (ri[r].state == R_SEALED) {
			e = scan_footer(&sc, r, &ri[r]);
			if (e <= 0) {
				if (r == newest)
					open_newest = false;
				continue;
			}
			ds->stats[DISK_STAT_bad_footers]++;
			e = 0;
			if (!ri[r].hdr_ok) {
				ds->stats[DISK_STAT_scan_lost]++;
				continue;
			}
		}
		e = scan_region(&sc, r, ri[r].seq, &end);
		if (e > 0) {
			ds->stats[DISK_STAT_scan_lost]++;
			e = 0;
			continue;
		}
		if (r == newest)
			open_newest = true;
	}
	free(sc.ents);
	if (e < 0) {
		free(ri);
		return (e);
	}
	ds->next_seq = sc.floor + 1;
	if (any && ri[newest].seq > sc.floor)
		ds->next_seq = ri[newest].seq;
	if (open_newest) {
		/* Go on in the newest region after its last good record;
		 * its image is in the buffer, its entries in ds->ents. */
		ds->region = newest;
		if (ds->img != NULL)
			ds->img->region = newest;
		ds->region_seq = ri[newest].seq;
		ds->fill = end;
		ds->flushed = end;
	} else
		disk_region_start(ds, any ? (newest + 1) % n : 0);
	free(ri);
	ds->stats[DISK_STAT_scan_usec] = usec_now() - t0;
	return (0);
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
	if ((e = store_scan(ds)) != 0)
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
