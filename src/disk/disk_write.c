/*
 * disk_write.c - the writer: records appended to the open region's
 * buffer, regions sealed with a footer and the next one reclaimed.
 *
 *	disk_region_start(r)	region r reclaimed (its objects leave the
 *				index), its header at the start of the buffer
 *	append			a record into the buffer, an entry for the
 *				footer; the region is sealed first if the
 *				record and the grown footer would not fit
 *	disk_store_flush	the buffer's new bytes to the file
 *	region_seal		the rest of the records, fdatasync, then the
 *				footer: a footer on disk means every record
 *				it lists is there, so a power cut loses at
 *				most the open region's unsynced records
 *
 * Order on disk is the order of sequence numbers: one buffer, records
 * numbered as they are appended, regions written in turn.  A large
 * object's chunks are appended before its head, so the head, which makes
 * the object exist, is written after every byte it names.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "disk/disk_int.h"

uint32_t
disk_chunk_size(const struct disk_store *ds)
{
	uint32_t n = ds->sb.region_size / 4;

	if (n > DISK_CHUNK_MAX)
		n = DISK_CHUNK_MAX;
	return (n - DISK_REC_HDR_LEN - DISK_REC_SUM_LEN - DISK_ALIGN);
}

/* A write failed: out of service.  What the open region holds that is not
 * in the file, or not yet under a footer, is no longer trusted. */
static int
store_fail(struct disk_store *ds, int err)
{
	ds->failed = err;
	ds->stats[DISK_STAT_write_errors]++;
	ds->stats[DISK_STAT_reclaimed] +=
	    disk_index_drop_region(ds->idx, ds->region);
	return (err);
}

static int
store_write(struct disk_store *ds, uint32_t from, uint32_t to)
{
	int e;

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
	ds->stats[DISK_STAT_reclaimed] += disk_index_drop_region(ds->idx, r);
	disk_index_set_tail(ds->idx, (r + 1) % ds->sb.nregions);
	ds->region = r;
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
	if (!ds->no_sync && (e = disk_io_sync(ds->io)) != 0)
		return (store_fail(ds, e));
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
	if (ds->fill == ds->flushed)
		return (0);
	/* From the start of the block the last flush ended in: what a later
	 * O_DIRECT back-end will have to write anyway. */
	if ((e = store_write(ds, ds->flushed & ~4095u, ds->fill)) != 0)
		return (e);
	ds->flushed = ds->fill;
	return (0);
}

/* Append r (its seq, tag and length are set here) with its payload; *a
 * says where.  The open region is sealed and the next one started when r
 * and the footer grown by one entry do not fit. */
static int
append(struct disk_store *ds, struct disk_rec *r, const char *url,
    const char *hdrs, const struct disk_chunk_ref *map, const uint8_t *body,
    struct disk_addr *a)
{
	struct disk_foot_ent fe;
	uint32_t len;
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
		disk_region_start(ds, (ds->region + 1) % ds->sb.nregions);
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
	if ((e = disk_region_add_ent(ds, &fe)) != 0)
		return (e);
	disk_rec_encode(r, url, hdrs, map, body, ds->buf + ds->fill);
	ds->next_seq++;
	memset(a, 0, sizeof *a);
	a->region = ds->region;
	a->offset = ds->fill;
	a->rec_len = len;
	a->first_region = fe.first_region;
	a->size_class = disk_index_size_class(r->object_size);
	ds->fill += len;
	return (0);
}

static void
rec_init(struct disk_rec *r, enum disk_rec_kind kind, const uint8_t *key)
{
	memset(r, 0, sizeof *r);
	r->kind = kind;
	memcpy(r->key, key, DISK_KEY_LEN);
}

int
disk_store_put(struct disk_store *ds, const struct disk_obj *o)
{
	struct disk_chunk_ref *map = NULL;
	uint32_t csize, nchunks = 0, i, span;
	struct disk_addr a;
	struct disk_rec r;
	size_t at, n;
	int e;

	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	AN(o);
	if (ds->read_only)
		return (-EROFS);
	if (ds->failed != 0)
		return (-EIO);
	csize = disk_chunk_size(ds);
	if (o->url_len > ds->sb.region_size / 4 ||
	    o->hdr_len > ds->sb.region_size / 4)
		return (-EFBIG);
	if (o->body_len > csize) {
		/* Chunks must not outlive the log's reach: the index keeps
		 * 8 bits of span and reclaim must not meet the object's own
		 * chunks while it is written. */
		span = (uint32_t)(o->body_len / (ds->sb.region_size / 2)) + 2;
		if (span > DISK_SPAN_MAX || span > ds->sb.nregions / 4)
			return (-EFBIG);
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
		if ((e = append(ds, &r, NULL, NULL, NULL, o->body + at,
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
	if ((e = append(ds, &r, o->url, o->hdrs, map, o->body, &a)) != 0)
		goto done;
	e = disk_index_put(ds->idx, o->key, &a);
	if (e >= 0) {
		e = 0;
		ds->stats[DISK_STAT_puts]++;
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
	rec_init(&r, DISK_REC_TOMB, key);
	if ((e = append(ds, &r, NULL, NULL, NULL, NULL, &a)) != 0)
		return (e);
	(void)disk_index_remove(ds->idx, key);
	ds->stats[DISK_STAT_purges]++;
	return (0);
}

uint64_t
disk_store_log_end(const struct disk_store *ds)
{
	CHECK_OBJ_NOTNULL(ds, DISK_STORE_MAGIC);
	return (disk_region_pos(&ds->sb, ds->region) + ds->fill);
}
