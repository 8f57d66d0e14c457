/*
 * bench_store.c - the memory cache: hit ratios of LRU and SIEVE on a
 * Zipf-like workload, lookups per second, and what one small cached
 * object costs in memory; then the disk store's eviction on the same
 * requests and the same share of the bytes: FIFO by region, and FIFO
 * with reinsertion of what is read near reclaim (disk_write.c), the
 * store a file in $TMPDIR (or /tmp) written synchronously.
 *
 * Workload: N objects (default 100,000) of mixed sizes (70% 256 B-4 KiB,
 * 25% 4-16 KiB, 5% 16-128 KiB), popularity Zipf(alpha) over a random
 * permutation of them (size and popularity independent), R requests
 * (default 1,000,000), cache_mem 10% of all the bytes.  A miss fills an
 * entry as fwd does: a parsed reply, then the body read in blocks of up
 * to 64 KiB, each a fresh block from the pool.  The PRNG is seeded, so
 * every run sees the same requests.
 *
 *	usage: bench_store [N [R]]
 */
#include "config.h"

#include <malloc.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "buf/buf.h"
#include "disk/disk.h"
#include "comm/comm.h"
#include "http/http_msg.h"
#include "store/store.h"
#include "store/store_int.h"	/* sizeof (struct store_entry) */

#define BENCH_SEED	0x5eed5eedcafef00dULL
#define BENCH_READ	65536u

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (mi.uordblks + mi.hblkhd);
}

/* splitmix64: small, fast, and the same sequence everywhere. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

static double
rng_unit(uint64_t *s)
{
	return ((double)(rng_next(s) >> 11) / 9007199254740992.0);
}

static size_t
rng_range(uint64_t *s, size_t lo, size_t hi)
{
	return (lo + (size_t)(rng_next(s) % (hi - lo + 1)));
}

struct bench {
	struct comm_loop	*loop;
	struct buf_pool		*pool;
	unsigned		n;
	size_t			*size;		/* by object */
	unsigned		*perm;		/* rank -> object */
	double			*cdf;		/* by rank */
	uint64_t		total;
	unsigned char		*pattern;
};

static void
bench_reply(struct store_entry *e, size_t len)
{
	char in[256];
	struct http_parser *p;
	struct http_msg m;
	size_t used;
	int n;

	n = snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\n"
	    "Date: Sun, 22 Nov 2026 10:00:00 GMT\r\n"
	    "Cache-Control: max-age=3600\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "Content-Length: %zu\r\n\r\n", len);
	/* A parser stops after the headers, waiting for the body: one per
	 * reply, as fwd has one per connection. */
	p = http_parser_new(HTTP_MSG_RESPONSE, 8192);
	AN(p);
	http_msg_init(&m, HTTP_MSG_RESPONSE);
	http_parser_start(p, &m, false);
	CHECK(http_parse(p, in, (size_t)n, &used, NULL, NULL) ==
	    HTTP_PARSE_HEADERS);
	http_parser_free(&p);
	store_entry_set_reply(e, &m);
	http_msg_fini(&m);
}

/* A miss: what fwd does with a reply of len body bytes; with a url,
 * what the client side keeps of it too.  Returns the header section's
 * length. */
static size_t
bench_fill(struct bench *b, struct store_index *idx,
    const struct store_key *k, size_t len, const char *url)
{
	struct store_entry *e = store_entry_new(b->loop, b->pool, 0);
	struct buf *rd;
	size_t off = 0, piece, rawlen;

	AN(e);
	if (url != NULL)
		AZ(store_entry_set_url(e, url, strlen(url)));
	AZ(store_index_add(idx, e, k, 65536));
	bench_reply(e, len);
	rawlen = store_entry_reply(e)->rawlen;
	while (off < len) {
		piece = len - off < BENCH_READ ? len - off : BENCH_READ;
		rd = buf_alloc(b->pool, BENCH_READ);
		AN(rd);
		buf_append(rd, b->pattern, piece);
		AZ(store_entry_append(e, rd, 0, piece));
		buf_unref(&rd);
		off += piece;
	}
	store_entry_complete(e);
	store_entry_unref(&e);
	return (rawlen);
}

static int
bench_url(char *url, size_t cap, unsigned obj)
{
	return (snprintf(url, cap, "http://bench.example/obj/%u", obj));
}

static void
bench_key(struct store_key *k, unsigned obj)
{
	char url[64];
	int n = bench_url(url, sizeof url, obj);

	store_key_make(k, "GET", 3, url, (size_t)n, NULL, 0);
}

static void
bench_zipf(struct bench *b, double alpha)
{
	double sum = 0;
	unsigned i;

	for (i = 0; i < b->n; i++) {
		sum += 1.0 / pow((double)(i + 1), alpha);
		b->cdf[i] = sum;
	}
	for (i = 0; i < b->n; i++)
		b->cdf[i] /= sum;
}

static unsigned
bench_draw(const struct bench *b, uint64_t *s)
{
	double u = rng_unit(s);
	unsigned lo = 0, hi = b->n - 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (b->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (b->perm[lo]);
}

struct run {
	double		hit, byte_hit, secs;
	uint64_t	evicted, copied;
};

static struct run
bench_run(struct bench *b, enum store_policy pol, unsigned nreq)
{
	struct store_limits lim = { .cache_mem = b->total / 10,
	    .max_obj = 512 * 1024, .min_obj = 0, .policy = pol };
	struct store_index *idx = store_index_new(b->loop, b->pool, &lim);
	struct store_index_stats st;
	struct store_entry *e;
	struct store_key k;
	struct run r;
	uint64_t seed = BENCH_SEED ^ 0x1234, hits = 0, hbytes = 0, bytes = 0;
	unsigned i, obj;
	double t0;

	AN(idx);
	t0 = now();
	for (i = 0; i < nreq; i++) {
		obj = bench_draw(b, &seed);
		bench_key(&k, obj);
		bytes += b->size[obj];
		e = store_index_lookup(idx, &k);
		if (e != NULL) {
			hits++;
			hbytes += b->size[obj];
			store_entry_unref(&e);
			continue;
		}
		(void)bench_fill(b, idx, &k, b->size[obj], NULL);
	}
	r.secs = now() - t0;
	store_index_stats(idx, &st);
	r.hit = (double)hits / nreq;
	r.byte_hit = (double)hbytes / (double)bytes;
	r.evicted = st.evicted;
	r.copied = st.copied;
	store_index_free(&idx);
	return (r);
}

/* Lookups alone, on a full cache: keys made beforehand, then with the
 * key's digest included. */
static void
bench_lookups(struct bench *b, unsigned nreq)
{
	struct store_limits lim = { .cache_mem = UINT64_MAX,
	    .policy = STORE_POLICY_SIEVE };
	struct store_index *idx = store_index_new(b->loop, b->pool, &lim);
	struct store_key *keys, k;
	struct store_entry *e;
	uint64_t seed = BENCH_SEED ^ 0x777, found = 0;
	unsigned i, *objs;
	double t0, t_lookup, t_both;

	AN(idx);
	keys = malloc(sizeof *keys * nreq);
	objs = malloc(sizeof *objs * nreq);
	AN(keys);
	AN(objs);
	for (i = 0; i < b->n; i += 2) {	/* half of them cached */
		bench_key(&k, i);
		(void)bench_fill(b, idx, &k, 64, NULL);
	}
	for (i = 0; i < nreq; i++) {
		objs[i] = bench_draw(b, &seed);
		bench_key(&keys[i], objs[i]);
	}
	t0 = now();
	for (i = 0; i < nreq; i++) {
		e = store_index_lookup(idx, &keys[i]);
		found += e != NULL;
		store_entry_unref(&e);
	}
	t_lookup = now() - t0;
	t0 = now();
	for (i = 0; i < nreq; i++) {
		bench_key(&k, objs[i]);
		e = store_index_lookup(idx, &k);
		store_entry_unref(&e);
	}
	t_both = now() - t0;
	printf("| store_index_lookup() (%.0f%% found, %u entries) | "
	    "%.1f M/s (%.0f ns) |\n", 100.0 * (double)found / nreq,
	    (b->n + 1) / 2, nreq / t_lookup / 1e6, t_lookup / nreq * 1e9);
	printf("| store_key_make() + lookup | %.2f M/s (%.0f ns) |\n",
	    nreq / t_both / 1e6, t_both / nreq * 1e9);
	store_index_free(&idx);
	free(keys);
	free(objs);
}

/* 100,000 objects of 1 KiB, as fwd fills them (each body read into a
 * 64 KiB block) with their URLs, as the client side sets them: what the
 * heap holds per object, beyond the body and the header section. */
static void
bench_memory(struct bench *b)
{
	struct store_limits lim = { .cache_mem = UINT64_MAX,
	    .policy = STORE_POLICY_SIEVE };
	struct store_index *idx;
	struct store_index_stats st;
	struct buf_pool_stats ps;
	const unsigned n = 100000;
	struct store_key k;
	char url[64];
	size_t h0, h1, rawlen = 0, urllen = 0;
	unsigned i;

	buf_pool_trim(b->pool);
	h0 = heap_in_use();
	idx = store_index_new(b->loop, b->pool, &lim);
	AN(idx);
	for (i = 0; i < n; i++) {
		bench_key(&k, 10000000 + i);
		urllen += (size_t)bench_url(url, sizeof url, 10000000 + i) + 1;
		rawlen += bench_fill(b, idx, &k, 1024, url);
	}
	buf_pool_trim(b->pool);		/* the read blocks, cached */
	h1 = heap_in_use();
	store_index_stats(idx, &st);
	buf_pool_stats(b->pool, &ps);
	printf("\n## memory: %u cached objects of 1 KiB\n\n", n);
	printf("| figure | value |\n|---|---|\n");
	printf("| sizeof (struct store_entry) | %zu B |\n",
	    sizeof(struct store_entry));
	printf("| packed reply header (+ its raw bytes, no table) | %zu B |\n",
	    offsetof(struct store_rpack, raw));
	printf("| a view, while held (struct http_msg + table) | %zu B |\n",
	    sizeof(struct http_msg));
	printf("| of which struct http_cache_meta | %zu B |\n",
	    sizeof(struct http_cache_meta));
	printf("| store_entry_mem() per object (stats.bytes / n) | %.0f B |\n",
	    (double)st.bytes / n);
	printf("| heap per object (mallinfo2, all in) | %.0f B |\n",
	    (double)(h1 - h0) / n);
	printf("| body blocks per object (pool bytes / n) | %.0f B |\n",
	    (double)ps.bytes / n);
	printf("| heap per object beyond the 1 KiB body | %.0f B |\n",
	    (double)(h1 - h0) / n - 1024);
	printf("| header section per object | %.0f B |\n",
	    (double)rawlen / n);
	printf("| URL per object (and its NUL) | %.0f B |\n",
	    (double)urllen / n);
	printf("| heap per object beyond the body and the header section "
	    "| %.0f B |\n", (double)(h1 - h0 - rawlen) / n - 1024);
	store_index_free(&idx);
}

/* The disk store on the same requests: hit ratio with or without
 * reinsertion. */
static struct run
bench_disk_run(struct bench *b, bool reinsert, unsigned nreq,
    uint64_t *reins)
{
	struct disk_store_opts o = { .no_sync = true,
	    .no_reinsert = !reinsert };
	const char *dir = getenv("TMPDIR");
	uint64_t seed = BENCH_SEED ^ 0x1234, hits = 0, hbytes = 0, bytes = 0;
	uint64_t size = b->total / 10;
	static const char hdrs[] = "HTTP/1.1 200 OK\r\n\r\n";
	struct disk_store *ds;
	struct disk_obj obj, got;
	struct store_key k;
	char path[512], url[64];
	struct run r;
	unsigned i, id;
	double t0;
	int err;

	snprintf(path, sizeof path, "%s/bench_store.%d.store",
	    dir != NULL ? dir : "/tmp", (int)getpid());
	o.region_size = disk_dir_region_size(size);
	AZ(disk_store_create(path, size, &o, true));
	ds = disk_store_open(path, &o, &err, NULL);
	AN(ds);
	t0 = now();
	for (i = 0; i < nreq; i++) {
		id = bench_draw(b, &seed);
		bench_key(&k, id);
		bytes += b->size[id];
		if (disk_store_get(ds, k.b, &got) == 0) {
			hits++;
			hbytes += b->size[id];
			disk_obj_fini(&got);
			continue;
		}
		memset(&obj, 0, sizeof obj);
		memcpy(obj.key, k.b, DISK_KEY_LEN);
		obj.url = url;
		obj.url_len = (size_t)bench_url(url, sizeof url, id);
		obj.hdrs = hdrs;
		obj.hdr_len = sizeof hdrs - 1;
		obj.body = b->pattern;
		obj.body_len = b->size[id];
		(void)disk_store_put(ds, &obj);
	}
	r.secs = now() - t0;
	r.hit = (double)hits / nreq;
	r.byte_hit = (double)hbytes / (double)bytes;
	r.evicted = disk_store_stat(ds, DISK_STAT_reclaimed);
	r.copied = disk_store_stat(ds, DISK_STAT_bytes_written);
	*reins = disk_store_stat(ds, DISK_STAT_reinserted);
	(void)disk_store_close(&ds);
	unlink(path);
	return (r);
}

int
main(int argc, char **argv)
{
	struct bench b;
	struct run r[2][2];
	static const double alphas[2] = { 0.8, 1.0 };
	uint64_t seed = BENCH_SEED;
	unsigned nreq = 1000000, i, j, a;
	size_t pct;

	memset(&b, 0, sizeof b);
	b.n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	if (argc > 2)
		nreq = (unsigned)strtoul(argv[2], NULL, 10);
	if (b.n < 2 || nreq < 1) {
		fprintf(stderr, "usage: bench_store [N [R]]\n");
		return (2);
	}
	b.loop = comm_loop_new();
	AN(b.loop);
	b.pool = comm_loop_pool(b.loop);
	b.size = malloc(sizeof *b.size * b.n);
	b.perm = malloc(sizeof *b.perm * b.n);
	b.cdf = malloc(sizeof *b.cdf * b.n);
	b.pattern = calloc(1, BENCH_READ);
	AN(b.size);
	AN(b.perm);
	AN(b.cdf);
	AN(b.pattern);
	for (i = 0; i < b.n; i++) {
		pct = rng_range(&seed, 0, 99);
		if (pct < 70)
			b.size[i] = rng_range(&seed, 256, 4096);
		else if (pct < 95)
			b.size[i] = rng_range(&seed, 4097, 16384);
		else
			b.size[i] = rng_range(&seed, 16385, 131072);
		b.total += b.size[i];
		b.perm[i] = i;
	}
	for (i = b.n - 1; i > 0; i--) {		/* Fisher-Yates */
		j = (unsigned)(rng_next(&seed) % (i + 1));
		a = b.perm[i];
		b.perm[i] = b.perm[j];
		b.perm[j] = a;
	}

	printf("## store: %u objects, %.1f MiB in all, cache_mem %.1f MiB "
	    "(10%%), %u requests\n\n", b.n, (double)b.total / 1048576,
	    (double)b.total / 10 / 1048576, nreq);
	printf("| alpha | policy | hit ratio | byte hit ratio | evicted | "
	    "requests/s (misses filled) |\n|---|---|---|---|---|---|\n");
	for (a = 0; a < 2; a++) {
		bench_zipf(&b, alphas[a]);
		for (i = 0; i < 2; i++) {
			r[a][i] = bench_run(&b, i == 0 ? STORE_POLICY_LRU :
			    STORE_POLICY_SIEVE, nreq);
			printf("| %.1f | %s | %.4f | %.4f | %llu | "
			    "%.2f M/s |\n",
			    alphas[a], i == 0 ? "LRU" : "SIEVE",
			    r[a][i].hit, r[a][i].byte_hit,
			    (unsigned long long)r[a][i].evicted,
			    nreq / r[a][i].secs / 1e6);
		}
	}
	printf("\n## disk store eviction (the same requests, the store 10%% "
	    "of the bytes)\n\n| alpha | policy | hit ratio | byte hit ratio "
	    "| reclaimed | reinserted | bytes written / requested |\n"
	    "|---|---|---|---|---|---|---|\n");
	for (a = 0; a < 2; a++) {
		uint64_t reins, req = 0;

		bench_zipf(&b, alphas[a]);
		for (i = 0; i < 2; i++) {
			struct run d = bench_disk_run(&b, i == 1, nreq,
			    &reins);

			req = (uint64_t)((double)b.total / b.n * nreq);
			printf("| %.1f | %s | %.4f | %.4f | %llu | %llu | "
			    "%.3f |\n", alphas[a], i == 0 ? "FIFO" :
			    "FIFO+reinsertion", d.hit, d.byte_hit,
			    (unsigned long long)d.evicted,
			    (unsigned long long)reins,
			    (double)d.copied / (double)req);
		}
	}
	printf("\n## lookups\n\n| figure | value |\n|---|---|\n");
	bench_zipf(&b, 1.0);
	bench_lookups(&b, nreq);
	bench_memory(&b);

	free(b.size);
	free(b.perm);
	free(b.cdf);
	free(b.pattern);
	comm_loop_free(&b.loop);
	return (0);
}
