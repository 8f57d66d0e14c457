/*
 * disk_index.h - where each object of a disk store is: a compact
 * open-addressing table in memory, 16 bytes a slot.
 *
 * Contract: the index holds no key, only 48 bits of its digest (which
 * also place it in the table), so a lookup can answer for another key
 * with the same 48 bits: the caller checks the full key in the record it
 * reads (one key in 2^48 can shadow another).  Addresses are ordered by
 * the log: disk_index_put() keeps the newer of two addresses of a key and
 * disk_index_remove_older() honours a tombstone only over older ones, so
 * feeding the records in the order they were written gives the newest
 * version of each key whatever came before.  Not thread-safe: one owner.
 */
#ifndef CUTTLE_DISK_INDEX_H
#define CUTTLE_DISK_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/disk_format.h"

struct disk_index;

/* An object's place: its head record, and the region of its first chunk
 * (== region when it has none). */
struct disk_addr {
	uint32_t	region;
	uint32_t	offset;		/* multiple of DISK_ALIGN */
	uint32_t	rec_len;	/* of the head record */
	uint32_t	first_region;
	uint8_t		size_class;	/* disk_index_size_class() */
	bool		read;		/* read since written (reinsertion) */
};

/* disk_index_new() - an index for a log of nregions regions, room for
 * expect objects before it grows (0: a small table).  NULL on ENOMEM. */
struct disk_index	*disk_index_new(uint32_t nregions, size_t expect);
void	disk_index_free(struct disk_index **idxp);

/* disk_index_set_tail() - the oldest region of the log: addresses are
 * ordered from it (region tail, offset 0 is the oldest place). */
void	disk_index_set_tail(struct disk_index *idx, uint32_t tail);
/* disk_index_newer() - whether a is later in the log than b. */
bool	disk_index_newer(const struct disk_index *idx,
	    const struct disk_addr *a, const struct disk_addr *b);

/* disk_index_size_class() - ceil(log2(size)), 0 for 0 and 1. */
uint8_t	disk_index_size_class(uint64_t size);

/* disk_index_lookup() - the address of key into *a; false if none. */
bool	disk_index_lookup(const struct disk_index *idx,
	    const uint8_t key[DISK_KEY_LEN], struct disk_addr *a);
/* disk_index_put() - key is at *a: inserts, or replaces an older address.
 * Returns 1 if indexed, 0 if an address at least as new was there (kept),
 * -ENOMEM if the table could not grow (the index is unchanged). */
int	disk_index_put(struct disk_index *idx, const uint8_t key[DISK_KEY_LEN],
	    const struct disk_addr *a);
/* disk_index_remove() - drop key; false if it was not there. */
bool	disk_index_remove(struct disk_index *idx,
	    const uint8_t key[DISK_KEY_LEN]);
/* disk_index_remove_older() - a tombstone written at *a: drop key if its
 * address is older.  True if something was dropped. */
bool	disk_index_remove_older(struct disk_index *idx,
	    const uint8_t key[DISK_KEY_LEN], const struct disk_addr *a);
/* disk_index_mark_read() - set the read flag of key's entry. */
void	disk_index_mark_read(struct disk_index *idx,
	    const uint8_t key[DISK_KEY_LEN]);
/* disk_index_drop_region() - the region is reclaimed: drop every entry
 * whose head or first chunk is in it.  Returns how many.  Costs one pass
 * over the table. */
size_t	disk_index_drop_region(struct disk_index *idx, uint32_t region);

/* disk_index_resize() - the log is now nregions long, its oldest region
 * tail: entries in regions beyond it, or (when it shrank) wrapping from
 * its old end to its start, are dropped (counted in *dropped); the rest
 * keep their places, the table sized for the new length.  0, or -ENOMEM
 * (the index unchanged). */
int	disk_index_resize(struct disk_index *idx, uint32_t nregions,
	    uint32_t tail, size_t *dropped);

size_t	disk_index_count(const struct disk_index *idx);
/* disk_index_bytes() - the memory the table holds. */
size_t	disk_index_bytes(const struct disk_index *idx);

#endif /* CUTTLE_DISK_INDEX_H */
