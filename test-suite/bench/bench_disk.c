/*
 * bench_disk.c - the disk store's figures: index bytes per object at 1M
 * and 10M objects, and the time to open (rebuild the index of) a store
 * of N objects, its pages dropped from the page cache first.
 *
 * The store is written here: N objects (default 1,000,000) of 200-800
 * body bytes, a 40-byte URL and 90 bytes of reply headers, 16 MiB
 * regions, into DIR (default /tmp); the file is removed at the end.
 * "Cold" is posix_fadvise(DONTNEED) on the store file: its pages leave
 * the page cache without dropping anybody else's.
 *
 * With "keep" the store is DIR/cuttle.store, left in place for a cuttle
 * with "cache_dir rock DIR SIZE" to open (disk_rss.sh), and the index
 * figures are not taken.
 *
 *	usage: bench_disk [N [DIR [keep]]]
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "disk/disk.h"
#include "disk/disk_index.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* splitmix64: a digest-like key from a number. */
static void
key_of(uint8_t *k, uint64_t n)
{
	unsigned i;
	uint64_t z = n * 0x9e3779b97f4a7c15ULL, w;

	for (i = 0; i < DISK_KEY_LEN; i += 8) {
		z += 0x9e3779b97f4a7c15ULL;
		w = z;
		w = (w ^ (w >> 30)) * 0xbf58476d1ce4e5b9ULL;
		w = (w ^ (w >> 27)) * 0x94d049bb133111ebULL;
		w ^= w >> 31;
		memcpy(k + i, &w, 8);
	}
}

static void
bench_index(size_t n)
{
	struct disk_index *grown, *sized;
	struct disk_addr a;
	uint8_t k[DISK_KEY_LEN];
	double t0, t1, t2;
	size_t i, hit = 0;

	grown = disk_index_new(1u << 20, 0);
	sized = disk_index_new(1u << 20, n);
	if (grown == NULL || sized == NULL)
		exit(1);
	memset(&a, 0, sizeof a);
	a.rec_len = 1024;
	t0 = now();
	for (i = 0; i < n; i++) {
		key_of(k, i);
		a.region = a.first_region = (uint32_t)(i % 4096);
		a.offset = (uint32_t)((i / 4096) % 65536) * 16;
		if (disk_index_put(grown, k, &a) != 1)
			exit(1);
	}
	t1 = now();
	for (i = 0; i < n; i++) {
		key_of(k, i);
		a.region = a.first_region = (uint32_t)(i % 4096);
		(void)disk_index_put(sized, k, &a);
	}
	for (i = 0; i < n; i++) {
		key_of(k, i ^ (i & 1 ? 0 : 1ULL << 60));
		hit += disk_index_lookup(sized, k, NULL);
	}
	t2 = now();
	printf("index %9zu objects: %5.1f B/object grown, %5.1f B/object "
	    "sized; %.0f ns/insert (growing), %zu of %zu lookups hit\n", n,
	    (double)disk_index_bytes(grown) / (double)n,
	    (double)disk_index_bytes(sized) / (double)n,
	    (t1 - t0) * 1e9 / (double)n, hit, n);
	(void)t2;
	disk_index_free(&grown);
	disk_index_free(&sized);
}

static void
bench_scan(size_t n, const char *dir, bool keep)
{
	static const char hdrs[] = "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/octet-stream\r\nCache-Control: max-age=3600\r\n\r\n";
	struct disk_store_opts o = { 0 };
	static uint8_t body[800];
	struct disk_store *ds;
	char path[512], url[64];
	struct disk_obj obj;
	double t0, t1, t2;
	size_t i;
	int e, fd;

	snprintf(path, sizeof path, "%s/%s", dir, keep ? "cuttle.store" :
	    "bench_disk.store");
	o.expect_objects = n;
	/* ~630 bytes an object on disk with its footer entry, plus room. */
	e = disk_store_create(path, 4096 + (uint64_t)(n * 700 / 16777216 + 4) *
	    16777216, &o, true);
	if (e != 0) {
		fprintf(stderr, "create %s: %s\n", path, strerror(-e));
		exit(1);
	}
	ds = disk_store_open(path, &o, &e, NULL);
	if (ds == NULL)
		exit(1);
	for (i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)(i * 131);
	t0 = now();
	for (i = 0; i < n; i++) {
		memset(&obj, 0, sizeof obj);
		key_of(obj.key, i);
		obj.url_len = (size_t)snprintf(url, sizeof url,
		    "http://mirror.example/pool/%zu.deb", i);
		obj.url = url;
		obj.hdrs = hdrs;
		obj.hdr_len = sizeof hdrs - 1;
		obj.body = body;
		obj.body_len = 200 + i * 7919 % 600;
		if ((e = disk_store_put(ds, &obj)) != 0) {
			fprintf(stderr, "put: %s\n", strerror(-e));
			exit(1);
		}
	}
	if (disk_store_close(&ds) != 0)
		exit(1);
	t1 = now();
	fd = open(path, O_RDONLY);
	if (fd == -1 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
		exit(1);
	close(fd);
	t2 = now();
	ds = disk_store_open(path, &o, &e, NULL);
	if (ds == NULL)
		exit(1);
	printf("store %9zu objects: written in %.2f s; opened cold in "
	    "%.3f s (%ju regions from footers, %ju scanned), %zu indexed, "
	    "index %.1f B/object\n", n, t1 - t0, now() - t2,
	    (uintmax_t)disk_store_stat(ds, DISK_STAT_scan_footers),
	    (uintmax_t)disk_store_stat(ds, DISK_STAT_scan_regions),
	    disk_index_count(disk_store_index(ds)),
	    (double)disk_index_bytes(disk_store_index(ds)) /
	    (double)disk_index_count(disk_store_index(ds)));
	disk_store_close(&ds);
	t2 = now();
	ds = disk_store_open(path, &o, &e, NULL);
	if (ds == NULL)
		exit(1);
	printf("store %9zu objects: opened warm in %.3f s\n", n, now() - t2);
	disk_store_close(&ds);
	if (!keep)
		unlink(path);
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	bool keep = argc > 3 && strcmp(argv[3], "keep") == 0;

	if (!keep) {
		bench_index(1000000);
		bench_index(10000000);
	}
	bench_scan(n, dir, keep);
	return (0);
}
