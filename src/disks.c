/*
 * disks.c - the cache_dir stores: PATH/cuttle.store for each line.
 *
 *	disks_check	the lines read (conf check, -k parse, reconfigure)
 *	disks_create	cuttle -z
 *	disks_start	each store opened, or made when PATH/cuttle.store
 *			is missing; its index loaded on the loop, its
 *			reads asynchronous, while the proxy already
 *			serves; a timer flushes every second, so
 *			that an object whose fill completed a second ago
 *			survives a kill -9
 *	disks_stop	stores closed (what is buffered is written), then
 *			the file I/O threads joined
 *
 * While a store's index loads its lookups are misses rather than waits:
 * the load of a large store takes seconds, and a request held that long
 * for an object the origin can give at once is worse than a miss; nor can
 * a part of the index answer, as a later region may hold a newer version
 * or a tombstone.  Memory hits and misses are served throughout.
 *
 * A store that fails (a write error, or reads failing in a row) is out of
 * service: its objects are misses from then on, the others go on, and
 * the flush timer logs it once.
 *
 * CUTTLE_DISK_IO=threads (or uring) in the environment picks the file
 * I/O back-end instead of the probe; it is for tests (an LD_PRELOAD shim
 * sees the threads' pread and pwritev, never io_uring's).
 *
 * A file at PATH/cuttle.store that is no cuttle store, or one of another
 * format version, is refused with what it is: never overwritten but by
 * cuttle -z.  Squid's own files in PATH are left alone.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "comm/comm.h"
#include "comm/comm_file.h"
#include "conf/conf.h"
#include "disk/disk.h"
#include "disk/disk_index.h"
#include "disks.h"
#include "mgr/mgr.h"
#include "store/store.h"

#define DISKS_FILE	"cuttle.store"
#define DISKS_FLUSH	1.0	/* seconds between flushes */

struct disks {
	unsigned		magic;
#define DISKS_MAGIC		0xd15c5e75U
	struct comm_loop	*loop;
	struct comm_fio		*fio;		/* made with the first store */
	struct comm_timer	*flush;
	size_t			n;
	struct disk_store	**v;
	char			**paths;	/* each store's cache_dir */
	bool			*down;		/* its failure was logged */
	bool			*told;		/* its load's end was logged */
	/* Stores a reconfigure took out: requests under way may still
	 * read or write them; closed at disks_stop().  And the array the
	 * client side knew before the last reconfigure. */
	struct disk_store	**gone;
	size_t			ngone;
	struct disk_store	**old_v;
	struct store_index	*mem;		/* for storedir's summary */
};

static int
disks_read(const struct conf *conf, size_t i, struct disk_dir_conf *d,
    bool warn)
{
	char err[512], w[512];

	if (disk_dir_parse(&conf->cache_dir.v[i], d, err, sizeof err, w,
	    sizeof w) != 0) {
		log_msg(LG_ERR, SEC_CONF, "%s", err);
		return (-1);
	}
	if (warn && w[0] != '\0')
		log_msg(LG_WARN, SEC_CONF, "%s", w);
	return (0);
}

int
disks_check(const struct conf *conf, bool warn)
{
	struct disk_dir_conf d;
	int errors = 0;
	size_t i;

	for (i = 0; i < conf->cache_dir.n; i++) {
		if (disks_read(conf, i, &d, warn) != 0)
			errors++;
		disk_dir_conf_fini(&d);
	}
	return (errors);
}

static void
disks_file(const struct disk_dir_conf *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" DISKS_FILE, d->path);
}

/* PATH made if missing (one level, as Squid's -z); Squid's files in it
 * named, never touched. */
static int
disks_dir(const struct disk_dir_conf *d)
{
	static const char *const squid[] = { "swap.state", "rock", "00" };
	char p[4096];
	struct stat st;
	size_t i;

	if (mkdir(d->path, 0750) == -1 && errno != EEXIST) {
		log_msg(LG_ERR, SEC_STORE, "cache_dir %s: cannot make it: %s",
		    d->path, strerror(errno));
		return (-1);
	}
	for (i = 0; i < ARRAY_LEN(squid); i++) {
		snprintf(p, sizeof p, "%s/%s", d->path, squid[i]);
		if (stat(p, &st) == 0) {
			log_msg(LG_WARN, SEC_STORE, "cache_dir %s: Squid's "
			    "files there are not imported (nor read, nor "
			    "written); cuttle keeps its own in %s",
			    d->path, DISKS_FILE);
			break;
		}
	}
	return (0);
}

static int
disks_make(const struct disk_dir_conf *d, bool overwrite)
{
	struct disk_store_opts o;
	char file[4096];
	int e;

	memset(&o, 0, sizeof o);
	o.region_size = disk_dir_region_size(d->size);
	disks_file(d, file, sizeof file);
	e = disk_store_create(file, d->size, &o, overwrite);
	if (e != 0) {
		log_msg(LG_ERR, SEC_STORE, "cache_dir %s: cannot make %s: %s",
		    d->path, file, e == -EINVAL ? "the size is too small for "
		    "two regions" : strerror(-e));
		return (-1);
	}
	log_msg(LG_NOTICE, SEC_STORE, "cache_dir %s: made %s, %ju MB",
	    d->path, file, (uintmax_t)(d->size >> 20));
	return (0);
}

/* Why a store did not open, for the log. */
static void
disks_refused(const struct disk_dir_conf *d, const char *file, int e,
    enum disk_fmt_result why)
{
	if (e == -EMEDIUMTYPE)
		log_msg(LG_ERR, SEC_STORE, "cache_dir %s: %s is not a cuttle "
		    "store (%s): refusing to use or overwrite it; move it "
		    "away, or make a new store there with cuttle -z", d->path,
		    file, disk_fmt_result_text(why));
	else if (e == -EPROTO)
		log_msg(LG_ERR, SEC_STORE, "cache_dir %s: %s was written by "
		    "another format version of cuttle's store (this cuttle "
		    "reads version %u): refusing it; cuttle -z makes a new "
		    "one", d->path, file, DISK_FORMAT_VERSION);
	else
		log_msg(LG_ERR, SEC_STORE, "cache_dir %s: cannot open %s: %s",
		    d->path, file, strerror(-e));
}

int
disks_create(const struct conf *conf)
{
	struct disk_store_opts o = { .read_only = true };
	struct disk_dir_conf d;
	enum disk_fmt_result why;
	struct disk_store *ds;
	char file[4096];
	int e, rc = 0;
	size_t i;

	for (i = 0; i < conf->cache_dir.n && rc == 0; i++) {
		if (disks_read(conf, i, &d, false) != 0 || disks_dir(&d) != 0) {
			disk_dir_conf_fini(&d);
			rc = -1;
			break;
		}
		disks_file(&d, file, sizeof file);
		ds = disk_store_open(file, &o, &e, &why);
		if (ds != NULL) {
			log_msg(LG_NOTICE, SEC_STORE, "cache_dir %s: %s is a "
			    "cuttle store already: kept", d.path, file);
			(void)disk_store_close(&ds);
		} else if (e == -ENOENT || e == -EMEDIUMTYPE ||
		    e == -EPROTO) {
			if (e != -ENOENT)
				log_msg(LG_WARN, SEC_STORE, "cache_dir %s: "
				    "%s is no store this cuttle reads: made "
				    "anew (-z)", d.path, file);
			rc = disks_make(&d, e != -ENOENT);
		} else {
			disks_refused(&d, file, e, why);
			rc = -1;
		}
		disk_dir_conf_fini(&d);
	}
	return (rc);
}

static void
on_flush_tick(struct comm_timer *t, void *arg)
{
	struct disks *dd = arg;
	size_t i;

	int e;

	(void)t;
	CHECK_OBJ_NOTNULL(dd, DISKS_MAGIC);
	for (i = 0; i < dd->ngone; i++)
		(void)disk_store_flush(dd->gone[i]);
	for (i = 0; i < dd->n; i++) {
		(void)disk_store_flush(dd->v[i]);
		if (dd->down[i] || (e = disk_store_failed(dd->v[i])) == 0)
			continue;
		dd->down[i] = true;
		log_msg(LG_ERR, SEC_STORE, "cache_dir %s: out of service after "
		    "an I/O error (%s): its objects are misses from now on%s",
		    dd->paths[i], strerror(-e), dd->n > 1 ?
		    ", the other cache_dir stores go on" : "");
	}
}

static void
disks_loaded(struct disks *dd, size_t i)
{
	struct disk_store *ds = dd->v[i];

	log_msg(LG_NOTICE, SEC_STORE, "cache_dir %s: %zu objects indexed in "
	    "%.3f s (%ju regions from footers, %ju scanned)", dd->paths[i],
	    disk_index_count(disk_store_index(ds)),
	    (double)disk_store_stat(ds, DISK_STAT_scan_usec) / 1e6,
	    (uintmax_t)disk_store_stat(ds, DISK_STAT_scan_footers),
	    (uintmax_t)disk_store_stat(ds, DISK_STAT_scan_regions));
}

/* A store's index loaded, or failing to: each store whose load ended
 * and was not told yet is logged. */
static void
disks_load_done(int err, void *arg)
{
	struct disks *dd = arg;
	size_t i;
	int e;

	(void)err;
	CHECK_OBJ_NOTNULL(dd, DISKS_MAGIC);
	for (i = 0; i < dd->n; i++) {
		if (dd->told[i] || disk_store_loading(dd->v[i]))
			continue;
		dd->told[i] = true;
		if ((e = disk_store_failed(dd->v[i])) == 0)
			disks_loaded(dd, i);
		else
			log_msg(LG_ERR, SEC_STORE, "cache_dir %s: its index "
			    "did not load (%s): out of service", dd->paths[i],
			    strerror(-e));
	}
}

/* How many stores are still loading. */
static size_t
disks_loading(const struct disks *dd)
{
	size_t i, n = 0;

	for (i = 0; i < dd->n; i++)
		n += disk_store_loading(dd->v[i]);
	return (n);
}

/* The back-end: CUTTLE_DISK_IO's, else the probe's. */
static enum comm_fio_kind
disks_fio_kind(void)
{
	const char *s = getenv("CUTTLE_DISK_IO");

	if (s != NULL && strcmp(s, "threads") == 0)
		return (COMM_FIO_THREADS);
	if (s != NULL && strcmp(s, "uring") == 0)
		return (COMM_FIO_URING);
	return (COMM_FIO_AUTO);
}

/* A line's limits into o. */
static void
disks_limits(const struct disk_dir_conf *d, struct disk_store_opts *o)
{
	o->max_size = d->max_size;
	o->min_size = d->min_size;
	o->max_swap_rate = d->max_swap_rate > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)d->max_swap_rate;
	o->swap_timeout_ms = d->swap_timeout_ms > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)d->swap_timeout_ms;
}

/* The file I/O engine and the flush timer, started with the first
 * store (a cuttle without a cache_dir runs no file threads).  0, or -1
 * (logged). */
static int
disks_engine(struct disks *dd)
{
	int e;

	if (dd->fio != NULL)
		return (0);
	dd->fio = comm_fio_new(dd->loop, disks_fio_kind(), 0, &e);
	if (dd->fio == NULL) {
		log_msg(LG_CRIT, SEC_STORE, "cannot start the disk stores' "
		    "file I/O: %s", strerror(-e));
		return (-1);
	}
	comm_timer_start(dd->flush, DISKS_FLUSH, DISKS_FLUSH);
	log_msg(LG_NOTICE, SEC_STORE, "disk I/O through %s",
	    comm_fio_kind_name(comm_fio_kind(dd->fio)));
	return (0);
}

static struct disk_store *
disks_open_one(struct disks *dd, const struct disk_dir_conf *d)
{
	struct disk_store_opts o;
	enum disk_fmt_result why;
	struct disk_store *ds;
	char file[4096];
	int e;

	if (disks_engine(dd) != 0)
		return (NULL);
	memset(&o, 0, sizeof o);
	o.fio = dd->fio;
	o.load_later = true;
	disks_limits(d, &o);
	disks_file(d, file, sizeof file);
	if (disks_dir(d) != 0)
		return (NULL);
	ds = disk_store_open(file, &o, &e, &why);
	if (ds == NULL && e == -ENOENT && disks_make(d, false) == 0)
		ds = disk_store_open(file, &o, &e, &why);
	if (ds == NULL) {
		disks_refused(d, file, e, why);
		return (NULL);
	}
	return (ds);
}

int
disks_start(struct comm_loop *loop, const struct conf *conf,
    struct disks **out)
{
	struct disk_dir_conf d;
	struct disks *dd;
	size_t i, n = conf->cache_dir.n;

	*out = NULL;
	ALLOC_OBJ(dd, DISKS_MAGIC);
	if (dd == NULL)
		goto nomem;
	*out = dd;
	dd->loop = loop;
	dd->v = calloc(n + 1, sizeof *dd->v);
	dd->paths = calloc(n + 1, sizeof *dd->paths);
	dd->down = calloc(n + 1, sizeof *dd->down);
	dd->flush = comm_timer_new(loop, on_flush_tick, dd);
	dd->told = calloc(n + 1, sizeof *dd->told);
	if (dd->v == NULL || dd->paths == NULL || dd->down == NULL ||
	    dd->flush == NULL || dd->told == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		if (disks_read(conf, i, &d, true) != 0)
			return (-1);
		dd->v[dd->n] = disks_open_one(dd, &d);
		dd->paths[dd->n] = d.path;	/* kept for the page */
		d.path = NULL;
		disk_dir_conf_fini(&d);
		if (dd->v[dd->n] == NULL) {
			free(dd->paths[dd->n]);
			return (-1);
		}
		dd->n++;
	}
	for (i = 0; i < dd->n; i++)
		if (disk_store_load_start(dd->v[i], disks_load_done, dd) !=
		    0) {
			dd->told[i] = true;
			disks_loaded(dd, i);	/* loaded at open */
		}
	return (0);
nomem:
	log_msg(LG_CRIT, SEC_STORE, "cannot start the disk stores: out of "
	    "memory");
	return (-1);
}

/* A kept store's SIZE: the store grown or shrunk to it when its region
 * count differs (its region size is its file's); why not, logged. */
static void
disks_resize(struct disk_store *ds, const char *path, uint64_t size)
{
	const struct disk_sb *sb = disk_store_sb(ds);
	uint32_t was = sb->nregions;
	uint64_t retired;
	int e;

	retired = disk_store_stat(ds, DISK_STAT_retired);
	e = disk_store_resize(ds, size);
	if (e == 0 && sb->nregions != was)
		log_msg(LG_NOTICE, SEC_STORE, "cache_dir %s: %s to %ju MB "
		    "(%u regions), %ju objects retired", path,
		    sb->nregions > was ? "grown" : "shrunk",
		    (uintmax_t)(((uint64_t)sb->nregions * sb->region_size) >>
		    20), sb->nregions, (uintmax_t)(disk_store_stat(ds,
		    DISK_STAT_retired) - retired));
	else if (e != 0)
		log_msg(LG_WARN, SEC_STORE, "cache_dir %s: its SIZE cannot "
		    "change now (%s): the store keeps %ju MB", path,
		    e == -EAGAIN ? "its index is loading; reconfigure again "
		    "once it has" : e == -EINVAL ? "fewer than two "
		    "regions, or more than the format's" : strerror(-e),
		    (uintmax_t)(((uint64_t)was * sb->region_size) >> 20));
}

/*
 * Reconfigure: each line of the new conf finds its store by PATH; a kept
 * store takes the line's limits and SIZE (disks_resize()), a new PATH
 * is opened (made when missing) and loads on the loop, a store no line
 * names any more is
 * taken out: no new request finds it, those under way finish with it,
 * and its file is closed at shutdown.  The stores' order is the lines':
 * which store holds a key follows (an object whose store changed is a
 * miss, and written anew).
 */
int
disks_reconfigure(struct disks *dd, const struct conf *conf)
{
	size_t n = conf->cache_dir.n, i, j;
	struct disk_store **v, **gone;
	struct disk_store_opts o;
	struct disk_dir_conf d;
	uint64_t *want;
	bool *down, *told, *kept;
	char **paths;
	int rc = -1;

	CHECK_OBJ_NOTNULL(dd, DISKS_MAGIC);
	v = calloc(n + 1, sizeof *v);
	paths = calloc(n + 1, sizeof *paths);
	down = calloc(n + 1, sizeof *down);
	told = calloc(n + 1, sizeof *told);
	kept = calloc(dd->n + 1, sizeof *kept);
	want = calloc(n + 1, sizeof *want);
	gone = realloc(dd->gone, (dd->ngone + dd->n + 1) * sizeof *gone);
	if (gone != NULL)
		dd->gone = gone;
	if (v == NULL || paths == NULL || down == NULL || told == NULL ||
	    kept == NULL || want == NULL || gone == NULL) {
		log_msg(LG_ERR, SEC_STORE, "reconfigure: no memory for the "
		    "cache_dir stores");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (disks_read(conf, i, &d, true) != 0)
			goto out;
		for (j = 0; j < dd->n; j++)
			if (!kept[j] && strcmp(dd->paths[j], d.path) == 0)
				break;
		if (j < dd->n) {
			kept[j] = true;
			v[i] = dd->v[j];
			paths[i] = dd->paths[j];
			down[i] = dd->down[j];
			told[i] = dd->told[j];
			memset(&o, 0, sizeof o);
			disks_limits(&d, &o);
			disk_store_set_limits(v[i], &o);
			want[i] = d.size;
			disk_dir_conf_fini(&d);
			continue;
		}
		v[i] = disks_open_one(dd, &d);
		if (v[i] == NULL) {
			disk_dir_conf_fini(&d);
			goto out;
		}
		paths[i] = d.path;
		d.path = NULL;
		disk_dir_conf_fini(&d);
		log_msg(LG_NOTICE, SEC_STORE, "cache_dir %s: added",
		    paths[i]);
	}
	/* Commit: nothing fails from here. */
	for (j = 0; j < dd->n; j++)
		if (!kept[j]) {
			log_msg(LG_NOTICE, SEC_STORE, "cache_dir %s: removed; "
			    "its file is closed at shutdown", dd->paths[j]);
			dd->gone[dd->ngone++] = dd->v[j];
			free(dd->paths[j]);
		}
	free(dd->old_v);
	dd->old_v = dd->v;		/* the client side's until it is told */
	free(dd->paths);
	free(dd->down);
	free(dd->told);
	dd->v = v;
	dd->paths = paths;
	dd->down = down;
	dd->told = told;
	dd->n = n;
	v = NULL;
	paths = NULL;
	down = told = NULL;
	for (i = 0; i < dd->n; i++)
		if (want[i] != 0)
			disks_resize(dd->v[i], dd->paths[i], want[i]);
	for (i = 0; i < dd->n; i++)
		if (!dd->told[i] && !disk_store_loading(dd->v[i]))
			disks_load_done(0, dd);
		else if (disk_store_loading(dd->v[i]))
			(void)disk_store_load_start(dd->v[i], disks_load_done,
			    dd);
	rc = 0;
out:
	/* Refused: what was opened here is closed again. */
	for (i = 0; v != NULL && i < n; i++) {
		for (j = 0; v[i] != NULL && j < dd->n; j++)
			if (dd->v[j] == v[i])
				break;
		if (v[i] != NULL && j == dd->n) {
			(void)disk_store_close(&v[i]);
			free(paths[i]);
		}
	}
	free(v);
	free(paths);
	free(down);
	free(told);
	free(kept);
	free(want);
	return (rc);
}

/* The engine's figures; zeros before the first store. */
static void
disks_fio_stats(const struct disks *dd, struct comm_fio_stats *fs)
{
	if (dd->fio != NULL)
		comm_fio_stats(dd->fio, fs);
	else
		memset(fs, 0, sizeof *fs);
}

/* The disk page: each store in the shape of Squid's storedir, then the
 * counters of all of them, summed, as "disk.NAME = value" lines. */
static int
disks_page(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct disks *dd = arg;
	const struct disk_index *idx;
	const struct disk_sb *sb;
	uint64_t sum[DISK_NSTATS], size;
	struct comm_fio_stats fs;
	size_t i, k, n;

	(void)c;
	CHECK_OBJ_NOTNULL(dd, DISKS_MAGIC);
	memset(sum, 0, sizeof sum);
	for (i = 0; i < dd->n; i++) {
		sb = disk_store_sb(dd->v[i]);
		idx = disk_store_index(dd->v[i]);
		size = (uint64_t)sb->nregions * sb->region_size;
		n = disk_index_count(idx);
		mgr_out_printf(o, "Store Directory #%zu (rock): %s\n", i + 1,
		    dd->paths[i]);
		mgr_out_printf(o, "Maximum Size: %ju KB\n",
		    (uintmax_t)(size >> 10));
		mgr_out_printf(o, "Regions: %u of %u KB\n", sb->nregions,
		    sb->region_size >> 10);
		mgr_out_printf(o, "Current entries: %zu\n", n);
		mgr_out_printf(o, "Index: %zu bytes, %.1f per entry\n\n",
		    disk_index_bytes(idx), n > 0 ?
		    (double)disk_index_bytes(idx) / (double)n : 0.0);
		for (k = 0; k < DISK_NSTATS; k++)
			sum[k] += disk_store_stat(dd->v[i], (enum disk_stat)k);
	}
	for (k = 0; k < DISK_NSTATS; k++)
		mgr_out_printf(o, "disk.%s = %ju\n",
		    disk_stat_name((enum disk_stat)k), (uintmax_t)sum[k]);
	mgr_out_printf(o, "disk.loading = %zu\n", disks_loading(dd));
	disks_fio_stats(dd, &fs);
	mgr_out_printf(o, "disk.io = %s\n", dd->fio != NULL ?
	    comm_fio_kind_name(comm_fio_kind(dd->fio)) : "none");
	mgr_out_printf(o, "disk.io_outstanding = %u\n", fs.outstanding);
	mgr_out_printf(o, "disk.io_max_outstanding = %u\n", fs.max_queued);
	mgr_out_printf(o, "disk.io_errors = %ju\n", (uintmax_t)fs.errors);
	return (0);
}

/* Bytes of store i in use: the regions the log has written (it fills
 * them in order and reuses them once full), whole. */
static uint64_t
disks_used(const struct disks *dd, size_t i)
{
	const struct disk_store *ds = dd->v[i];
	const struct disk_sb *sb = disk_store_sb(ds);
	uint64_t r;

	r = disk_store_stat(ds, DISK_STAT_scan_footers) +
	    disk_store_stat(ds, DISK_STAT_scan_regions) +
	    disk_store_stat(ds, DISK_STAT_sealed) + 1;
	if (r > sb->nregions)
		r = sb->nregions;
	return (r * sb->region_size);
}

/* Squid's Store Directory Statistics: the totals, then each cache_dir,
 * then the memory cache as a directory of its own. */
static int
disks_storedir(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct disks *dd = arg;
	const struct disk_sb *sb;
	struct store_index_stats ms;
	uint64_t max = 0, used = 0, size, u, n, objs = 0;
	size_t i;

	CHECK_OBJ_NOTNULL(dd, DISKS_MAGIC);
	for (i = 0; i < dd->n; i++) {
		sb = disk_store_sb(dd->v[i]);
		max += (uint64_t)sb->nregions * sb->region_size;
		used += disks_used(dd, i);
		objs += disk_index_count(disk_store_index(dd->v[i]));
	}
	mgr_out_printf(o, "Store Directory Statistics:\n");
	mgr_out_printf(o, "Store Entries          : %ju\n", (uintmax_t)objs);
	mgr_out_printf(o, "Maximum Swap Size      : %ju KB\n",
	    (uintmax_t)(max >> 10));
	mgr_out_printf(o, "Current Store Swap Size: %.2f KB\n",
	    (double)used / 1024.0);
	mgr_out_printf(o, "Current Capacity       : %.2f%% used, %.2f%% "
	    "free\n\n", max > 0 ? 100.0 * (double)used / (double)max : 0.0,
	    max > 0 ? 100.0 - 100.0 * (double)used / (double)max : 100.0);
	for (i = 0; i < dd->n; i++) {
		sb = disk_store_sb(dd->v[i]);
		size = (uint64_t)sb->nregions * sb->region_size;
		u = disks_used(dd, i);
		n = disk_index_count(disk_store_index(dd->v[i]));
		mgr_out_printf(o, "Store Directory #%zu (rock): %s\n", i,
		    dd->paths[i]);
		mgr_out_printf(o, "Maximum Size: %ju KB\n",
		    (uintmax_t)(size >> 10));
		mgr_out_printf(o, "Current Size: %.2f KB\n",
		    (double)u / 1024.0);
		mgr_out_printf(o, "Percent Used: %.2f%%\n", size > 0 ?
		    100.0 * (double)u / (double)size : 0.0);
		mgr_out_printf(o, "Current entries: %ju\n", (uintmax_t)n);
		mgr_out_printf(o, "Flags:%s\n", disk_store_failed(dd->v[i]) !=
		    0 ? " OUT-OF-SERVICE" : disk_store_loading(dd->v[i]) ?
		    " LOADING" : " SELECTED");
		mgr_out_printf(o, "Skipped writes: %ju (limits), %ju "
		    "(max-swap-rate), %ju (loading)\n",
		    (uintmax_t)disk_store_stat(dd->v[i], DISK_STAT_skipped),
		    (uintmax_t)disk_store_stat(dd->v[i],
		    DISK_STAT_rate_skipped),
		    (uintmax_t)disk_store_stat(dd->v[i],
		    DISK_STAT_load_skipped));
		mgr_out_printf(o, "Read timeouts: %ju\n",
		    (uintmax_t)disk_store_stat(dd->v[i],
		    DISK_STAT_read_timeouts));
		mgr_out_printf(o, "Removal policy: fifo (log regions, objects "
		    "read reinserted)\n\n");
	}
	if (dd->mem != NULL) {
		store_index_stats(dd->mem, &ms);
		size = c->conf != NULL ? c->conf->cache_mem : 0;
		mgr_out_printf(o, "Store Directory #%zu (memory): cache_mem\n",
		    dd->n);
		mgr_out_printf(o, "Maximum Size: %ju KB\n",
		    (uintmax_t)(size >> 10));
		mgr_out_printf(o, "Current Size: %.2f KB\n",
		    (double)ms.bytes / 1024.0);
		mgr_out_printf(o, "Percent Used: %.2f%%\n", size > 0 ?
		    100.0 * (double)ms.bytes / (double)size : 0.0);
		mgr_out_printf(o, "Current entries: %ju\n",
		    (uintmax_t)ms.entries);
	}
	return (0);
}

/* A Prometheus family of one value per store. */
static void
disks_family(struct mgr_out *o, const struct disks *dd, const char *name,
    const char *type, const char *help, enum disk_stat st)
{
	size_t i;

	mgr_out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
	for (i = 0; i < dd->n; i++)
		mgr_out_printf(o, "%s{cache_dir=\"%s\"} %ju\n", name,
		    dd->paths[i], (uintmax_t)disk_store_stat(dd->v[i], st));
}

/* The disk counters in /metrics. */
static int
disks_metrics(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct disks *dd = arg;
	struct comm_fio_stats fs;
	size_t i;

	(void)c;
	CHECK_OBJ_NOTNULL(dd, DISKS_MAGIC);
	disks_family(o, dd, "cuttle_disk_reads_total", "counter",
	    "Objects read from a cache_dir.", DISK_STAT_gets);
	disks_family(o, dd, "cuttle_disk_read_errors_total", "counter",
	    "Reads failing with an I/O error.", DISK_STAT_get_errors);
	disks_family(o, dd, "cuttle_disk_checksum_failures_total", "counter",
	    "Reads failing their checks (the object dropped).",
	    DISK_STAT_get_corrupt);
	disks_family(o, dd, "cuttle_disk_reads_joined_total", "counter",
	    "Requests that joined a read of the same object.",
	    DISK_STAT_joined);
	disks_family(o, dd, "cuttle_disk_read_bytes_total", "counter",
	    "Bytes read from a cache_dir's file.", DISK_STAT_bytes_read);
	disks_family(o, dd, "cuttle_disk_writes_total", "counter",
	    "Objects written to a cache_dir.", DISK_STAT_puts);
	disks_family(o, dd, "cuttle_disk_write_bytes_total", "counter",
	    "Bytes written to a cache_dir's file.", DISK_STAT_bytes_written);
	disks_family(o, dd, "cuttle_disk_write_errors_total", "counter",
	    "Writes failing (the store out of service).",
	    DISK_STAT_write_errors);
	disks_family(o, dd, "cuttle_disk_skipped_writes_total", "counter",
	    "Objects not written: outside the limits, or the queue full.",
	    DISK_STAT_skipped);
	disks_family(o, dd, "cuttle_disk_load_skipped_writes_total", "counter",
	    "Objects not written: the index was loading.",
	    DISK_STAT_load_skipped);
	disks_family(o, dd, "cuttle_disk_rate_skipped_writes_total",
	    "counter", "Objects not written: max-swap-rate spent.",
	    DISK_STAT_rate_skipped);
	disks_family(o, dd, "cuttle_disk_read_timeouts_total", "counter",
	    "Reads slower than swap-timeout, served as misses.",
	    DISK_STAT_read_timeouts);
	disks_family(o, dd, "cuttle_disk_reclaimed_total", "counter",
	    "Objects dropped as their region was reused.",
	    DISK_STAT_reclaimed);
	disks_family(o, dd, "cuttle_disk_index_load_microseconds", "gauge",
	    "Time the index took to load at start.", DISK_STAT_scan_usec);
	mgr_out_printf(o, "# HELP cuttle_disk_objects Objects indexed.\n"
	    "# TYPE cuttle_disk_objects gauge\n");
	for (i = 0; i < dd->n; i++)
		mgr_out_printf(o, "cuttle_disk_objects{cache_dir=\"%s\"} %zu\n",
		    dd->paths[i], disk_index_count(disk_store_index(dd->v[i])));
	mgr_out_printf(o, "# HELP cuttle_disk_loading Whether the index is "
	    "still loading (its lookups misses).\n"
	    "# TYPE cuttle_disk_loading gauge\n");
	for (i = 0; i < dd->n; i++)
		mgr_out_printf(o, "cuttle_disk_loading{cache_dir=\"%s\"} %d\n",
		    dd->paths[i], disk_store_loading(dd->v[i]));
	disks_fio_stats(dd, &fs);
	mgr_out_printf(o, "# HELP cuttle_disk_queue_depth File operations "
	    "under way.\n# TYPE cuttle_disk_queue_depth gauge\n"
	    "cuttle_disk_queue_depth %u\n", fs.outstanding);
	return (0);
}

/* The dashboard's disk section (JSON): each store's figures (an empty
 * list without one); the page draws rates between its polls. */
static int
disks_json(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	const struct disks *dd = arg;
	const struct disk_sb *sb;
	struct comm_fio_stats fs;
	const struct disk_store *ds;
	size_t i;

	(void)c;
	CHECK_OBJ_NOTNULL(dd, DISKS_MAGIC);
	mgr_out_printf(o, "{\"stores\":[");
	for (i = 0; i < dd->n; i++) {
		ds = dd->v[i];
		sb = disk_store_sb(ds);
		mgr_out_printf(o, "%s{\"path\":", i > 0 ? "," : "");
		mgr_out_json(o, dd->paths[i], strlen(dd->paths[i]));
		mgr_out_printf(o, ",\"size\":%ju,\"used\":%ju,\"objects\":%zu,"
		    "\"loading\":%s,\"failed\":%s,\"load_usec\":%ju",
		    (uintmax_t)((uint64_t)sb->nregions * sb->region_size),
		    (uintmax_t)disks_used(dd, i),
		    disk_index_count(disk_store_index(ds)),
		    disk_store_loading(ds) ? "true" : "false",
		    disk_store_failed(ds) != 0 ? "true" : "false",
		    (uintmax_t)disk_store_stat(ds, DISK_STAT_scan_usec));
#define DISKS_JSON(key, st)						\
		mgr_out_printf(o, ",\"" key "\":%ju",			\
		    (uintmax_t)disk_store_stat(ds, DISK_STAT_##st))
		DISKS_JSON("reads", gets);
		DISKS_JSON("writes", puts);
		DISKS_JSON("bytes_read", bytes_read);
		DISKS_JSON("bytes_written", bytes_written);
		DISKS_JSON("corrupt", get_corrupt);
		DISKS_JSON("read_errors", get_errors);
		DISKS_JSON("skipped", skipped);
		DISKS_JSON("rate_skipped", rate_skipped);
		DISKS_JSON("load_skipped", load_skipped);
		DISKS_JSON("read_timeouts", read_timeouts);
		DISKS_JSON("reinserted", reinserted);
		DISKS_JSON("reclaimed", reclaimed);
#undef DISKS_JSON
		mgr_out_printf(o, "}");
	}
	disks_fio_stats(dd, &fs);
	mgr_out_printf(o, "],\"queue\":%u}\n", fs.outstanding);
	return (0);
}

/*
 * Every page is registered with dd, which lives from start to exit
 * whether or not a cache_dir is configured: a reconfigure that adds the
 * first store, or removes the last, changes what the pages render, never
 * which pages there are or what they read.
 */
int
disks_register_pages(struct disks *dd, struct store_index *mem,
    struct mgr_registry *r)
{
	int err;

	CHECK_OBJ_NOTNULL(dd, DISKS_MAGIC);
	dd->mem = mem;
	err = mgr_register(r, MGR_SEC_VIEWS, "disk_json",
	    "The dashboard's disk figures (JSON)", MGR_F_JSON, disks_json, dd);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_STORE, "disks",
		    "Disk Store Stats", 0, disks_page, dd);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_STORE, "storedir",
		    "Store Directory Stats", 0, disks_storedir, dd);
	if (err == 0)
		err = mgr_register(r, MGR_SEC_STORE, "disk_metrics",
		    "Disk stores (a part of /metrics)", MGR_F_METRICS,
		    disks_metrics, dd);
	return (err);
}

struct disk_store *const *
disks_stores(const struct disks *dd, size_t *n)
{
	if (dd == NULL) {
		*n = 0;
		return (NULL);
	}
	CHECK_OBJ_NOTNULL(dd, DISKS_MAGIC);
	*n = dd->n;
	return (dd->v);
}

void
disks_stop(struct disks **dp)
{
	struct disks *dd;
	size_t i;
	int e;

	if (*dp == NULL)
		return;
	TAKE_OBJ_NOTNULL(dd, dp, DISKS_MAGIC);
	comm_timer_free(&dd->flush);
	for (i = 0; i < dd->n; i++) {
		if ((e = disk_store_close(&dd->v[i])) != 0)
			log_msg(LG_ERR, SEC_STORE, "cache_dir %s lost writes "
			    "at close: %s", dd->paths[i], strerror(-e));
		free(dd->paths[i]);
	}
	for (i = 0; i < dd->ngone; i++)
		(void)disk_store_close(&dd->gone[i]);
	free(dd->gone);
	free(dd->old_v);
	free(dd->paths);
	free(dd->down);
	free(dd->told);
	/* After the stores: their last writes are synchronous, and what
	 * the threads still hold is the same bytes. */
	comm_fio_free(&dd->fio);
	free(dd->v);
	FREE_OBJ(dd);
}
