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

int
disk_store_close(struct disk_store **dsp)
{
	struct disk_store *ds;
	int e;

	if (*dsp == NULL)
		return (0);
	TAKE_OBJ_NOTNULL(ds, dsp, DISK_STORE_MAGIC);
	e = ds->failed != 0 || ds->read_only ? 0 : disk_store_flush(ds);
	if (e == 0 && ds->failed == 0 && !ds->read_only && !ds->no_sync)
		e = disk_io_sync(ds->io);
	disk_io_close(&ds->io);
	disk_index_free(&ds->idx);
	free(ds->buf);
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

/* len bytes at (region, off) into dst: from the open region's buffer for
 * what it holds (not all of it may be in the file yet). */
static int
read_at(struct disk_store *ds, uint32_t region, uint32_t off, uint32_t len,
    uint8_t *dst)
{
	if (region == ds->region && (uint64_t)off + len <= ds->fill) {
		memcpy(dst, ds->buf + off, len);
		return (0);
	}
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
	    r.object_size != h->object_size ||
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
	if (!disk_index_lookup(ds->idx, key, &a))
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
	disk_index_mark_read(ds->idx, key);
	return (0);
fail:
	free(tmp);
	free(mem);
	ds->stats[e == -EBADMSG ? DISK_STAT_get_corrupt :
	    DISK_STAT_get_errors]++;
	(void)disk_index_remove(ds->idx, key);
	return (e);
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
