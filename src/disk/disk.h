/*
 * disk.h - the disk store: one file, a circular log of regions, an index
 * in memory rebuilt at open.
 *
 * Contract: disk_store_open() rebuilds the index from the file whatever
 * state a crash or a damaged disk left it in (a region's footer when it
 * has a valid one, else its records one by one, each checksummed); it
 * refuses only a file that is no cuttle store or of another format
 * version.  An object exists on disk once its head record does (chunks
 * first, head last); a purge writes a tombstone, so neither a purged nor
 * a replaced version comes back at the next open.  disk_store_get()
 * verifies every byte it returns (checksums, key, chunk sequence
 * numbers); what fails is dropped from the index, counted, and reads as
 * a miss.  Records are gathered in the open region's buffer and reach the
 * file at disk_store_flush() (the caller's timer) or when the region is
 * sealed; an object put is readable at once (from the buffer).  A write
 * error takes the store out of service: what was not written is dropped
 * from the index and every later call fails with -EIO.
 *
 * I/O is synchronous through a plain back-end (disk_io.h), for tools and
 * tests; over a back-end on a loop (disk_io_file_attach(), or
 * disk_store_opts.fio) writes are started and never waited for, and
 * disk_store_get_start() reads asynchronously.  The scan at open is
 * synchronous, unless opts.load_later on a loop: then the store opens
 * with its index empty and disk_store_load_start() runs the scan on the
 * loop, its reads asynchronous, while the loop does its other work.
 * While it loads the store answers every lookup as a miss (a key not
 * yet met may be in a region still to read, and a key met may be
 * replaced or purged by a later one: nothing is sure before the end),
 * writes nothing (a put is refused, -EAGAIN, counted load_skipped) and
 * owes a tombstone to each key put or purged meanwhile, written when
 * the load ends, so that neither a purged object nor the version a
 * newer fill replaced comes back.
 * One store is one owner's object, no globals.
 * Layout: doc/internals/disk-format.md.
 *
 *	disk_store_create -> disk_store_open -> put / purge / get / flush
 *	    -> disk_store_close (flushes)
 */
#ifndef CUTTLE_DISK_H
#define CUTTLE_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf/buf.h"
#include "disk/disk_format.h"

struct comm_fio;
struct disk_store;
struct disk_io;
struct disk_index;

/* Counters: name, what it counts. */
#define DISK_STATS							\
	DISK_STAT(scan_footers,	"regions indexed from their footer")	\
	DISK_STAT(scan_regions,	"regions scanned record by record")	\
	DISK_STAT(scan_records,	"records indexed by the record scan")	\
	DISK_STAT(scan_empty,	"regions never written")		\
	DISK_STAT(scan_lost,	"regions with no valid header or footer") \
	DISK_STAT(bad_footers,	"footers failing their checks")		\
	DISK_STAT(bad_records,	"records dropped: damaged header or sum") \
	DISK_STAT(bad_entries,	"entries or heads the index refused")	\
	DISK_STAT(scan_usec,	"time the open's scan took")		\
	DISK_STAT(puts,		"objects written")			\
	DISK_STAT(purges,	"tombstones written")			\
	DISK_STAT(chunks,	"chunk records written")		\
	DISK_STAT(sealed,	"regions sealed with a footer")		\
	DISK_STAT(reclaimed,	"objects dropped as their region was reused") \
	DISK_STAT(reclaim_footers, "regions reused: objects found by footer") \
	DISK_STAT(reclaim_scans, "regions reused, the whole index scanned") \
	DISK_STAT(reinserted,	"objects read near reclaim, written again") \
	DISK_STAT(bytes_written, "bytes written to the file")		\
	DISK_STAT(body_in_place, "chunk body bytes written from their pages") \
	DISK_STAT(body_copied,	"chunk body bytes copied to be written") \
	DISK_STAT(body_gathered, "body bytes copied in from their slices") \
	DISK_STAT(gets,		"objects read")				\
	DISK_STAT(get_errors,	"reads failing with an I/O error")	\
	DISK_STAT(get_corrupt,	"reads failing their checks (dropped)")	\
	DISK_STAT(joined,	"requests that joined another's read")	\
	DISK_STAT(bytes_read,	"bytes read from the file")		\
	DISK_STAT(skipped,	"objects not written: outside the limits") \
	DISK_STAT(load_skipped,	"objects not written: the index loading") \
	DISK_STAT(rate_skipped,	"objects not written: max-swap-rate spent") \
	DISK_STAT(read_timeouts, "reads slower than swap-timeout: misses") \
	DISK_STAT(write_errors,	"writes failing (out of service)")	\
	DISK_STAT(retired,	"objects dropped as the store shrank")

enum disk_stat {
#define DISK_STAT(sym, text)	DISK_STAT_##sym,
	DISK_STATS
#undef DISK_STAT
	DISK_NSTATS
};
const char	*disk_stat_name(enum disk_stat s);

struct disk_store_opts {
	uint32_t	region_size;	/* create: 0 for 16 MiB */
	bool		no_sync;	/* no fdatasync before footers (tests) */
	size_t		expect_objects;	/* the index's first size; 0: small */
	bool		read_only;	/* open: index and read, never write */
	struct comm_fio	*fio;		/* open: I/O on its loop; NULL: sync */
	uint64_t	max_size;	/* put: larger bodies refused; 0: any */
	uint64_t	min_size;	/* put: smaller bodies refused */
	bool		load_later;	/* open: disk_store_load_start() */
	bool		no_reinsert;	/* plain FIFO (a bench's baseline) */
	uint32_t	max_swap_rate;	/* put: objects a second; 0: any */
	uint32_t	swap_timeout_ms;	/* disk_store_swap_timeout() */
};

/* An object as stored: URL, reply headers (as sent), body. */
struct disk_obj {
	uint8_t		key[DISK_KEY_LEN];	/* store_key.b */
	const char	*url;
	size_t		url_len;
	const char	*hdrs;
	size_t		hdr_len;
	const uint8_t	*body;
	size_t		body_len;
	/* put: the body as the slices that hold it, in place of body
	 * (body_len bytes of it); NULL: body. */
	const struct buf_chain	*chain;
	void		*mem;		/* get: owns the three; NULL on put */
};
/* disk_obj_fini() - free what disk_store_get() filled in. */
void	disk_obj_fini(struct disk_obj *o);

/* disk_store_create() - make path a new store of size bytes (superblock
 * and regions; at least two regions).  An existing file is refused
 * (-EEXIST) unless overwrite.  0 or a negative errno. */
int	disk_store_create(const char *path, uint64_t size,
	    const struct disk_store_opts *o, bool overwrite);

/* disk_store_open() - open path and rebuild its index.  NULL with *err:
 * -ENOENT, -EMEDIUMTYPE (no cuttle store: why in *why), -EPROTO (another
 * format version), -ENOMEM, or the error of the superblock's read. */
struct disk_store	*disk_store_open(const char *path,
			    const struct disk_store_opts *o, int *err,
			    enum disk_fmt_result *why);
/* disk_store_open_io() - the same over an open back-end, which the store
 * owns from then on (closed on failure too). */
struct disk_store	*disk_store_open_io(struct disk_io *io,
			    const struct disk_store_opts *o, int *err,
			    enum disk_fmt_result *why);
/* disk_store_load_start() - a store opened with load_later: its scan
 * runs on the loop; done runs once from the loop, never inside this
 * call, with 0 (loaded) or a negative errno (-ENOMEM: the store is out
 * of service), unless the store closes first.  -EINVAL when there is no
 * load to start. */
typedef void disk_load_fn(int err, void *arg);
int	disk_store_load_start(struct disk_store *ds, disk_load_fn *done,
	    void *arg);
/* disk_store_loading() - whether its index is still loading. */
bool	disk_store_loading(const struct disk_store *ds);
/* disk_store_close() - flush what is buffered and free; NULLs *dsp.
 * Returns the flush's result. */
int	disk_store_close(struct disk_store **dsp);

/* disk_store_put() - write o (url, hdrs and body; mem unused) as the newest
 * version of o->key.  -EFBIG when it is larger than the store can keep
 * (a quarter of it, or a head bigger than half a region) or its body is
 * outside the opts' max_size / min_size, -EIO when the store is out of
 * service.  A body given as o->chain (its first body_len bytes) is read
 * where its slices are: copied once, into the region's buffer, for a
 * record that holds it whole (counted body_gathered); a larger one's
 * chunk records on a loop are written from its pages, which the region's
 * image then holds as disk_put_append_slice() says (body_in_place).
 * Nothing of o is kept past the call but those references. */
int	disk_store_put(struct disk_store *ds, const struct disk_obj *o);
/*
 * A put in pieces, for a body that arrives over time and is too large to
 * hold whole: its chunks are appended as their bytes come (each chunk
 * record written from the pages the bytes came in, or copied into the
 * region buffer by a synchronous store), the head last, at
 * disk_put_finish(), which indexes the object.  Until then it
 * does not exist; disk_put_abort() leaves its chunks as dead bytes.
 */
struct disk_put;
/* disk_put_begin() - a put of an object of size body bytes under key.
 * NULL with *err: -EFBIG (outside the limits, or larger than the log can
 * hold while it is written), -EIO (out of service), -EROFS, -ENOMEM. */
struct disk_put	*disk_put_begin(struct disk_store *ds,
		    const uint8_t key[DISK_KEY_LEN], uint64_t size, int *err);
/* disk_put_begin_unsized() - the same for a body whose length is known
 * only at its end (a chunked or close-delimited reply), at most bound
 * bytes: its chunks carry bound as the object's size, its head the
 * length that came (readers check a chunk's size is at least the
 * head's).  Limits are checked against bound. */
struct disk_put	*disk_put_begin_unsized(struct disk_store *ds,
		    const uint8_t key[DISK_KEY_LEN], uint64_t bound, int *err);
/* disk_put_max() - the largest body a put in pieces may have here (the
 * store's limits and the span the log allows). */
uint64_t	disk_put_max(const struct disk_store *ds);
/* disk_put_append() - the next len body bytes, copied.  0, or a negative
 * errno: the put is dead from then on (finish fails; abort frees it). */
int	disk_put_append(struct disk_put *p, const void *data, size_t len);
/* disk_put_append_slice() - the next len body bytes, [off, off + len) of
 * b (below its fill, so they never change): on a store on a loop they
 * are not copied but referenced, and written to the file from b itself
 * (a chunk record's body is an iovec of the pages it came in); b is held
 * until every write of its region is done and the region's image is let
 * go, failed or cancelled writes included, then released once.  A
 * synchronous store copies them.  Returns as disk_put_append(). */
int	disk_put_append_slice(struct disk_put *p, struct buf *b, size_t off,
	    size_t len);
/* disk_put_finish() - the head (url, hdrs; body and key unused), once all
 * size bytes came; frees p, NULLs *pp.  0, -EPIPE when fewer or more
 * bytes came, -ESTALE when the log reclaimed its first chunks meanwhile,
 * or the error that killed it. */
int	disk_put_finish(struct disk_put **pp, const struct disk_obj *o);
/* disk_put_abort() - forget it; NULLs *pp; *pp may be NULL. */
void	disk_put_abort(struct disk_put **pp);

/* disk_store_purge() - write a tombstone for key and forget it. */
int	disk_store_purge(struct disk_store *ds,
	    const uint8_t key[DISK_KEY_LEN]);
/* disk_store_get() - read key's object into *o (freed by disk_obj_fini).
 * -ENOENT when not indexed, -EBADMSG when what is on disk fails a check
 * (the entry is dropped), another negative errno on an I/O error. */
int	disk_store_get(struct disk_store *ds, const uint8_t key[DISK_KEY_LEN],
	    struct disk_obj *o);
/*
 * An object read asynchronously: the head record's block (url and hdrs
 * point into it) and the body as slices of the records read (nothing
 * copied).  Lent to the completion: ref or move what is kept.
 */
struct disk_got {
	struct buf		*head;
	const char		*url;
	size_t			url_len;
	const char		*hdrs;
	size_t			hdr_len;
	uint64_t		size;	/* the object's body bytes */
	struct buf_chain	body;
};
/* The completion: err 0 with *got, or -EBADMSG (what is on disk failed a
 * check: dropped from the index, counted), -EIO or another I/O errno,
 * -ECANCELED (the store closed first), -ENOMEM; got NULL then. */
typedef void disk_get_fn(int err, const struct disk_got *got, void *arg);
/* disk_store_get_start() - read key's object on the store's loop; done
 * runs once, from the loop, never inside this call.  Returns 0 (started),
 * or at once, with done never to run: -ENOENT (not indexed: a miss that
 * costs no I/O), -EIO (out of service), -EOPNOTSUPP (a synchronous
 * store), -ENOMEM. */
int	disk_store_get_start(struct disk_store *ds,
	    const uint8_t key[DISK_KEY_LEN], disk_get_fn *done, void *arg);
/*
 * A read chunk by chunk, for a hit that starts before the object is all
 * read and holds only a window of it: part runs first with the head
 * (got->body the whole body of an object in one record, with last true;
 * empty for a chunked one, got->size telling its length), then once per
 * disk_stream_next() with the next chunk's body alone, each checked as
 * disk_store_get_start() checks the whole; last on the final one.  part
 * runs from the loop, never inside a disk_stream_* call.  After a last
 * or an error (err non-zero, got NULL: the same errors as
 * disk_get_fn's, a damaged chunk dropping the entry) the stream is gone.
 */
struct disk_stream;
typedef void disk_part_fn(int err, const struct disk_got *got, bool last,
    void *arg);
/* disk_stream_start() - as disk_store_get_start(), the stream in *sp. */
int	disk_stream_start(struct disk_store *ds,
	    const uint8_t key[DISK_KEY_LEN], disk_part_fn *part, void *arg,
	    struct disk_stream **sp);
/* disk_stream_next() - read the next chunk: only after a part that was
 * not the last, once. */
void	disk_stream_next(struct disk_stream *s);
/* disk_stream_cancel() - part never runs again; NULLs *sp (may be
 * NULL).  Not after the last part or an error (s is gone then). */
void	disk_stream_cancel(struct disk_stream **sp);
/* disk_stream_joined() - count another request served by s's read. */
void	disk_stream_joined(struct disk_stream *s);
/* disk_store_has() - whether key is indexed (a read may still fail). */
bool	disk_store_has(const struct disk_store *ds,
	    const uint8_t key[DISK_KEY_LEN]);
/* disk_store_set_limits() - the opts' put limits (max_size, min_size,
 * max_swap_rate, swap_timeout_ms) from now on: a reconfigure. */
void	disk_store_set_limits(struct disk_store *ds,
	    const struct disk_store_opts *o);
/* disk_store_resize() - the store made size bytes long (its region size
 * kept: (size - superblock) / region size regions, at least two), in
 * service: grown, the file is extended and the new regions join the log
 * after its current end, where the writer reaches them once it has gone
 * round the old ones (the log's order is the file's, so this is the one
 * place that keeps what is written in order); shrunk, the regions past
 * the new end are retired: their objects, and those whose chunks pass
 * through them, leave the index (counted retired) and are never served,
 * the writer moves to region 0 if it was in one, and the file is
 * truncated once no read or write reaches them (at once on a synchronous
 * store).  The superblock is written first when shrinking, last when
 * growing, so a crash leaves a store that opens.  Puts in pieces under
 * way fail (-ESTALE).  0, -EINVAL (too small or large), -EAGAIN (the
 * index is loading), -EROFS, -EIO, -ENOMEM or the file's error; on an
 * error the store keeps its size. */
int	disk_store_resize(struct disk_store *ds, uint64_t size);
/* disk_store_swap_timeout() - the opts' swap_timeout_ms: a read slower
 * than this is to be taken for a miss by the reader (0: none). */
uint32_t	disk_store_swap_timeout(const struct disk_store *ds);
/* disk_store_note_timeout() - count a read its reader gave up on. */
void	disk_store_note_timeout(struct disk_store *ds);
/* disk_store_failed() - 0 while in service, else the error that took the
 * store out: a failed write, or DISK_READ_ERRORS_MAX reads in a row
 * failing with an I/O error (a disk that no longer reads). */
int	disk_store_failed(const struct disk_store *ds);
#define DISK_READ_ERRORS_MAX	8

/* disk_store_flush() - write the open region's new records.  On a loop
 * they also go out by themselves as the region fills, once
 * DISK_WRITE_STEP new bytes are in, in writes of at most that many
 * bytes: short copies into the page cache, which share the CPU with the
 * loop instead of holding it for a region's worth. */
int	disk_store_flush(struct disk_store *ds);
#define DISK_WRITE_STEP		(256u * 1024)
/* disk_store_log_end() - the file offset where the next record goes. */
uint64_t	disk_store_log_end(const struct disk_store *ds);

uint64_t	disk_store_stat(const struct disk_store *ds, enum disk_stat s);

/* -- cache_dir (disk_conf.c) ---------------------------------------------- */

struct conf_line;

/* One cache_dir line, read. */
struct disk_dir_conf {
	char		*path;		/* the directory (absolute) */
	uint64_t	size;		/* bytes */
	uint64_t	max_size;	/* body bytes; 0: no limit */
	uint64_t	min_size;
	uint64_t	swap_timeout_ms;	/* 0: none */
	uint64_t	max_swap_rate;	/* objects written a second; 0: any */
	bool		squid_type;	/* ufs, aufs or diskd was written */
};
/* disk_dir_parse() - l into *d (disk_dir_conf_fini() frees it).  0, or
 * -EINVAL / -ENOMEM with "file:line: cache_dir: problem; expected: form"
 * in err.  warn gets a warning to log, or "" (warn may be NULL). */
int	disk_dir_parse(const struct conf_line *l, struct disk_dir_conf *d,
	    char *err, size_t errlen, char *warn, size_t warnlen);
void	disk_dir_conf_fini(struct disk_dir_conf *d);
/* disk_dir_region_size() - the region size for a store of size bytes. */
uint32_t	disk_dir_region_size(uint64_t size);
/* The index, for its figures (count, bytes). */
const struct disk_index	*disk_store_index(const struct disk_store *ds);
const struct disk_sb	*disk_store_sb(const struct disk_store *ds);

#endif /* CUTTLE_DISK_H */
