/*
 * disk_int.h - the disk store's insides, shared by its files: the store
 * object and the open region's writer state.
 */
#ifndef CUTTLE_DISK_INT_H
#define CUTTLE_DISK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"
#include "buf/buf.h"
#include "disk/disk.h"
#include "disk/disk_format.h"
#include "disk/disk_index.h"
#include "disk/disk_io.h"

/* Chunks: the body of an object whose head would take more than this
 * is written as chunk records of at most this many body bytes. */
#define DISK_CHUNK_MAX		(1024u * 1024)
/* How many regions an object may span (the index keeps 8 bits). */
#define DISK_SPAN_MAX		255u

/*
 * A run of a region whose bytes are not in its image's block but in the
 * pages it references: a chunk record's body, written from the store's
 * own pages (or a read's) rather than copied into the block.
 */
struct disk_ext {
	uint32_t		off;	/* in the region */
	uint32_t		len;
	struct buf_chain	pages;	/* len bytes, referenced */
};

/*
 * A region's image on a loop (asynchronous store): the block the records
 * are encoded into, and the runs of it held as pages (exts, in region
 * order), kept while writes of it are out, so that a read of a region
 * sealed but not yet in the file is served from memory and no write ever
 * reads freed bytes.  ds is NULL once the store has closed.
 */
struct disk_img {
	struct list		link;	/* ds->imgs, while not current */
	struct disk_store	*ds;
	struct buf		*b;
	uint32_t		region;
	uint32_t		fill;	/* records end (at seal) */
	uint32_t		foot_off;	/* 0 until sealed */
	unsigned		writes;	/* moves out */
	struct disk_ext		*exts;
	uint32_t		nexts;
	uint32_t		exts_cap;
};

struct disk_store {
	unsigned		magic;
#define DISK_STORE_MAGIC	0x6d15c0a7
	struct disk_io		*io;
	struct disk_sb		sb;
	uint32_t		tag;	/* disk_sb_store_tag() */
	bool			no_sync;
	bool			read_only;
	uint64_t		max_size;	/* put's body limits */
	uint64_t		min_size;
	int			failed;	/* the error, once out */
	unsigned		read_errors;	/* in a row */
	struct disk_index	*idx;

	/* The open region: its image, where records end, what of it is in
	 * the file, and the footer entries it will be sealed with. */
	uint8_t			*buf;
	uint32_t		region;
	uint32_t		fill;
	uint32_t		flushed;
	uint64_t		region_seq;
	uint64_t		next_seq;
	struct disk_foot_ent	*ents;
	uint32_t		nents;
	uint32_t		ents_cap;

	/* On a loop: the open region's image (buf is its data), the older
	 * images still being written, the reads under way. */
	struct comm_loop	*loop;
	struct disk_img		*img;
	struct list		imgs;
	struct list		gets;
	struct list		puts;	/* struct disk_put under way */
	struct disk_load	*load;	/* while the index loads */
	uint32_t		swap_rate;	/* max_swap_rate, 0: any */
	uint32_t		swap_timeout_ms;
	uint64_t		rate_sec;	/* the second counted */
	uint32_t		rate_used;	/* writes in it */
	uint64_t		reinserted_bytes;
	bool			no_reinsert;
	/* Shrunk: the file's new end, once nothing reaches past it. */
	uint64_t		trunc_to;
	/* The next region's footer, read ahead (disk_reclaim.c). */
	struct disk_ahead	*ahead;

	uint64_t		stats[DISK_NSTATS];
};

/* disk_scan.c */
/* disk_load_defer() - while loading: key was put or purged; a tombstone
 * for it once loaded.  0 or -ENOMEM. */
int	disk_load_defer(struct disk_store *ds, const uint8_t key[DISK_KEY_LEN]);
/* disk_load_close() - at close while loading: the load finished when a
 * tombstone is owed, else dropped (nothing written then). */
void	disk_load_close(struct disk_store *ds);

/* disk_reclaim.c */
/* disk_reclaim() - region r is about to be written again: the objects in
 * it leave the index (counted in reclaimed), and the next region's
 * footer is read ahead for its turn. */
void	disk_reclaim(struct disk_store *ds, uint32_t r);
/* disk_reclaim_cancel() - the read ahead dropped (close, resize). */
void	disk_reclaim_cancel(struct disk_store *ds);

/* disk_store.c */
/* disk_gets_reach() - whether a read under way may touch region n or a
 * later one. */
bool	disk_gets_reach(const struct disk_store *ds, uint32_t n);

/* disk_write.c */
/* disk_store_trunc() - a shrink's truncation, when nothing reaches the
 * retired regions any more. */
void	disk_store_trunc(struct disk_store *ds);
/* disk_img_new() - a fresh image for region r as the open one, the old
 * kept while written; -ENOMEM. */
int	disk_img_new(struct disk_store *ds, uint32_t r);
/* disk_img_close() - at close: what is still out is written again,
 * synchronously, then the images are let go. */
int	disk_img_close(struct disk_store *ds);
/* disk_img_copy() - len bytes at (region, off) into dst when memory has
 * them (the open region, or a sealed one still being written: the file
 * may not yet): true; false when only the file has them.  dst NULL:
 * only whether memory has them. */
bool	disk_img_copy(const struct disk_store *ds, uint32_t region,
	    uint32_t off, uint32_t len, uint8_t *dst);
/* disk_reinsert() - o, just read and checked from a, written again
 * when it is about to be reclaimed and the share allows. */
void	disk_reinsert(struct disk_store *ds, const struct disk_addr *a,
	    const struct disk_obj *o);
/* disk_reinsert_begin() - an object in chunks at a (size body bytes,
 * len in all) about to be read chunk by chunk: a put in pieces of its
 * copy, to be fed its chunks as they are checked, when it is near
 * reclaim and the share allows; else NULL. */
struct disk_put	*disk_reinsert_begin(struct disk_store *ds,
		    const struct disk_addr *a,
		    const uint8_t key[DISK_KEY_LEN], uint64_t size,
		    uint64_t len);
/* disk_reinsert_end() - the copy finished with o's url and hdrs, or,
 * when o is NULL (the read failed or stopped), dropped; NULLs *pp; *pp
 * may be NULL. */
void	disk_reinsert_end(struct disk_put **pp, const struct disk_obj *o,
	    uint64_t len);
/* disk_store_fail() - a write failed: region r's entries dropped, the
 * store out of service.  Returns err. */
int	disk_store_fail(struct disk_store *ds, uint32_t r, int err);
/* disk_region_start() - reclaim region r and make it the open one. */
void	disk_region_start(struct disk_store *ds, uint32_t r);
/* disk_region_add_ent() - remember a record for the footer; -ENOMEM. */
int	disk_region_add_ent(struct disk_store *ds,
	    const struct disk_foot_ent *e);
/* disk_put_orphan_all() - at close: the puts under way die. */
void	disk_put_orphan_all(struct disk_store *ds);
/* disk_chunk_size() - the body bytes of one chunk record. */
uint32_t	disk_chunk_size(const struct disk_store *ds);

#endif /* CUTTLE_DISK_INT_H */
