/*
 * disks.h - the disk stores of one running cuttle, one per cache_dir:
 * checked with the conf, made by cuttle -z (or when missing at start),
 * opened on the loop's file I/O engine, flushed every second, closed at
 * shutdown.
 */
#ifndef CUTTLE_DISKS_H
#define CUTTLE_DISKS_H

#include <stdbool.h>
#include <stddef.h>

struct comm_loop;
struct conf;
struct disk_store;
struct disks;

/* disks_check() - read every cache_dir line: errors and warnings
 * logged; returns the number of errors. */
int	disks_check(const struct conf *conf, bool warn);
/* disks_create() - cuttle -z: each store made where it is missing, or
 * where the file is no cuttle store (that is what -z is asked for); a
 * store that opens is kept.  0, or -1 (logged). */
int	disks_create(const struct conf *conf);
/* disks_start() - open (or make, when missing) every store, writes and
 * reads on loop, each index loading on it from then on (its objects
 * misses until it is whole).  *out is set even without a cache_dir (an
 * empty set, which a reconfigure may fill; no file I/O threads until
 * then), and even on failure (for disks_stop()).  0, or -1 (logged): a
 * store that cannot be opened, or a file that is no cuttle store, stops
 * the start. */
int	disks_start(struct comm_loop *loop, const struct conf *conf,
	    struct disks **out);
/* disks_reconfigure() - the cache_dir lines of conf put in force on
 * d: stores kept by PATH take their new limits, new ones open and load,
 * removed ones serve no new request (closed at disks_stop()).  The
 * store array disks_stores() gave stays valid until the next call.  0,
 * or -1 (logged; nothing changed). */
int	disks_reconfigure(struct disks *d, const struct conf *conf);
/* disks_register_pages() - the cache manager's "disks" page (each
 * store, and the disk counters), "storedir" (Squid's Store Directory
 * Statistics: each cache_dir, then mem, the memory cache), the
 * dashboard's "disk_json" and the disk families of /metrics, all of
 * them with or without a cache_dir, and following reconfigures.  Before
 * store_register_pages(), whose storedir then stays unregistered.  d
 * and mem must outlive r.  0 or a negative errno (mgr_register()). */
struct mgr_registry;
struct store_index;
int	disks_register_pages(struct disks *d, struct store_index *mem,
	    struct mgr_registry *r);
/* disks_stores() - the open stores, *n of them. */
struct disk_store *const	*disks_stores(const struct disks *d, size_t *n);
/* disks_stop() - every store flushed and closed, the engine's threads
 * joined; NULLs *dp; *dp may be NULL. */
void	disks_stop(struct disks **dp);

#endif /* CUTTLE_DISKS_H */
