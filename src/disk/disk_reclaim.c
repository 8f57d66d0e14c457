/*
 * disk_reclaim.c - the objects of a region about to be written again
 * leave the index.
 *
 * Which ones they are, the region's footer says: every record of its
 * last lap, heads, chunks and tombstones, by key.  So while region r is
 * written, the footer of the region after it (the next to be reused) is
 * read ahead, on the loop; when that region starts, each of its keys is
 * looked up and dropped if the index still places the object there (a
 * later version or a purge leave it elsewhere, or gone).  That is a
 * lookup per record instead of a pass over the whole index, which holds
 * the loop for about 5 ms at 1M objects and 58 ms at 10M, at every
 * region.
 *
 * The footer is used only when it is the last lap's: the region's header
 * and trailer name the same sequence number and the entries' checksum
 * holds, which is what the scan at start asks of a footer too.
 * Otherwise the whole index is scanned, as it always was (counted in
 * reclaim_scans): a region cut short by a crash and never sealed, one
 * never written, a damaged footer, a read that failed or is still out
 * when the region starts, a store without a loop, or one of fewer than
 * four regions (where the next region may still be an image in memory
 * whose writes are out, and the file older than it).
 *
 *	disk_reclaim(r)		r's objects dropped (footer or scan); the
 *				next region's header and trailer asked for
 *	  ahead_hdr_done()	\ both in: the entries asked for, or
 *	  ahead_trailer_done()	/ given up
 *	  ahead_ents_done()	checksum verified: ready
 *	disk_reclaim_cancel()	close, resize: the read ahead is dropped
 *				(orphaned while its reads are out: their
 *				completions free it)
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "disk/disk_int.h"

struct disk_ahead {
	unsigned		magic;
#define DISK_AHEAD_MAGIC	0x4eadc1a1U
	struct disk_store	*ds;		/* NULL: orphaned */
	uint32_t		region;
	unsigned		out;		/* reads not back */
	bool			failed;
	bool			have_hdr;
	bool			ready;
	uint64_t		hdr_seq;
	struct disk_trailer	t;
	bool			have_trailer;
	uint8_t			*ents;		/* t.count entries, ready */
};

static void
ahead_free(struct disk_ahead *ah)
{
	CHECK_OBJ_NOTNULL(ah, DISK_AHEAD_MAGIC);
	free(ah->ents);
	ah->magic = 0;
	free(ah);
}

/* A completion came back: the read ahead, or NULL when it was orphaned
 * (freed once its last read is back). */
static struct disk_ahead *
ahead_back(void *arg)
{
	struct disk_ahead *ah = arg;

	CHECK_OBJ_NOTNULL(ah, DISK_AHEAD_MAGIC);
	CHECK(ah->out > 0);
	ah->out--;
	if (ah->ds != NULL)
		return (ah);
	if (ah->out == 0)
		ahead_free(ah);
	return (NULL);
}

static disk_io_done_fn ahead_ents_done;

/* Header and trailer both in: ask for the entries, or give up. */
static void
ahead_entries(struct disk_ahead *ah)
{
	struct disk_store *ds = ah->ds;
	uint64_t pos;

	if (ah->failed || !ah->have_hdr || !ah->have_trailer)
		return;
	if (ah->t.region_seq != ah->hdr_seq) {
		ah->failed = true;	/* a footer of an earlier lap */
		return;
	}
	if (ah->t.count == 0) {
		ah->ready = true;
		return;
	}
	pos = disk_region_pos(&ds->sb, ah->region) + ah->t.foot_off;
	if (ds->io->ops->read_start(ds->io, (size_t)ah->t.count *
	    DISK_FOOT_ENT_LEN, pos, ahead_ents_done, ah) != 0) {
		ah->failed = true;
		return;
	}
	ah->out++;
}

static void
ahead_hdr_done(int err, const struct buf_slice *data, void *arg)
{
	struct disk_ahead *ah = ahead_back(arg);
	struct disk_region_hdr h;

	if (ah == NULL)
		return;
	if (err != 0 || data->len != DISK_REGION_HDR_LEN ||
	    disk_region_hdr_decode(&h, buf_slice_ptr(data), data->len,
	    &ah->ds->sb, ah->region) != DISK_FMT_OK) {
		ah->failed = true;
		return;
	}
	ah->hdr_seq = h.seq;
	ah->have_hdr = true;
	ahead_entries(ah);
}

static void
ahead_trailer_done(int err, const struct buf_slice *data, void *arg)
{
	struct disk_ahead *ah = ahead_back(arg);

	if (ah == NULL)
		return;
	if (err != 0 || data->len != DISK_TRAILER_LEN ||
	    disk_trailer_decode(&ah->t, buf_slice_ptr(data), data->len,
	    &ah->ds->sb) != DISK_FMT_OK || ah->t.store_tag != ah->ds->tag) {
		ah->failed = true;
		return;
	}
	ah->have_trailer = true;
	ahead_entries(ah);
}

static void
ahead_ents_done(int err, const struct buf_slice *data, void *arg)
{
	struct disk_ahead *ah = ahead_back(arg);
	size_t len;

	if (ah == NULL)
		return;
	len = (size_t)ah->t.count * DISK_FOOT_ENT_LEN;
	if (err != 0 || data->len != len ||
	    disk_footer_verify(&ah->t, buf_slice_ptr(data)) != DISK_FMT_OK ||
	    (ah->ents = malloc(len)) == NULL) {
		ah->failed = true;
		return;
	}
	memcpy(ah->ents, buf_slice_ptr(data), len);
	ah->ready = true;
}

void
disk_reclaim_cancel(struct disk_store *ds)
{
	struct disk_ahead *ah = ds->ahead;

	if (ah == NULL)
		return;
	ds->ahead = NULL;
	CHECK_OBJ(ah, DISK_AHEAD_MAGIC);
	ah->ds = NULL;
	if (ah->out == 0)
		ahead_free(ah);
}

/* Ask for region r's header and trailer, to have its footer when it is
 * reused; nothing when the footer could not be trusted anyway. */
static void
ahead_start(struct disk_store *ds, uint32_t r)
{
	struct disk_ahead *ah;
	uint64_t pos;

	if (ds->loop == NULL || ds->sb.nregions < 4 || ds->failed != 0 ||
	    ds->io->ops->read_start == NULL ||
	    disk_img_copy(ds, r, 0, 0, NULL))
		return;
	ALLOC_OBJ(ah, DISK_AHEAD_MAGIC);
	if (ah == NULL)
		return;
	ah->ds = ds;
	ah->region = r;
	ds->ahead = ah;
	pos = disk_region_pos(&ds->sb, r);
	if (ds->io->ops->read_start(ds->io, DISK_REGION_HDR_LEN, pos,
	    ahead_hdr_done, ah) != 0) {
		disk_reclaim_cancel(ds);
		return;
	}
	ah->out++;
	if (ds->io->ops->read_start(ds->io, DISK_TRAILER_LEN, pos +
	    ds->sb.region_size - DISK_TRAILER_LEN, ahead_trailer_done,
	    ah) != 0) {
		ah->failed = true;
		disk_reclaim_cancel(ds);
		return;
	}
	ah->out++;
}

/* The objects of r its footer lists, dropped: how many. */
static size_t
reclaim_by_footer(struct disk_store *ds, const struct disk_ahead *ah,
    uint32_t r)
{
	struct disk_foot_ent fe;
	struct disk_addr a;
	size_t n = 0;
	uint32_t i;

	for (i = 0; i < ah->t.count; i++) {
		disk_foot_ent_decode(&fe, ah->ents + (size_t)i *
		    DISK_FOOT_ENT_LEN);
		if (disk_index_lookup(ds->idx, fe.key, &a) &&
		    (a.region == r || a.first_region == r) &&
		    disk_index_remove(ds->idx, fe.key))
			n++;
	}
	return (n);
}

void
disk_reclaim(struct disk_store *ds, uint32_t r)
{
	struct disk_ahead *ah = ds->ahead;
	size_t n;

	if (ah != NULL && ah->region == r && ah->ready && !ah->failed) {
		n = reclaim_by_footer(ds, ah, r);
		ds->stats[DISK_STAT_reclaim_footers]++;
	} else {
		n = disk_index_drop_region(ds->idx, r);
		ds->stats[DISK_STAT_reclaim_scans]++;
	}
	ds->stats[DISK_STAT_reclaimed] += n;
	disk_reclaim_cancel(ds);
	ahead_start(ds, (r + 1) % ds->sb.nregions);
}
