/*
 * buf.c - the block pool: size classes, bounded free lists, counters.
 *
 * Lifecycle of a block:
 *	buf_alloc()	from the class free list, or malloc(); refs = 1
 *	buf_alloc_exact() malloc() of exactly the size asked; refs = 1
 *	buf_ref()	refs + 1
 *	buf_unref()	refs - 1; at 0 a class block goes onto its free
 *			list while the pool caches less than cache_max
 *			bytes, anything else to free()
 *	buf_pool_trim()	cached blocks free()d
 *	buf_pool_free()	cache free()d; no live block may remain
 *
 * Each block is one malloc() of header + class size rather than a slice
 * of a larger slab: the free lists already make steady state malloc-free,
 * a block can go back to the system the moment it is free, and under
 * AddressSanitizer every block keeps its own redzones.  Cached blocks are
 * poisoned, so a use after the last unref trips ASan even when the block
 * was recycled rather than freed.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "buf/buf.h"
#include "buf/buf_int.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define BUF_POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define BUF_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define BUF_POISON(p, n)	((void)(p), (void)(n))
#define BUF_UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#define BUF_FREE_MAGIC		0xb0f0dea0U

/* A cached block keeps its free-list link in its first data bytes. */
struct buf_free {
	struct buf	*next;
};

/*
 * Size classes.  Class 0 is 64 bytes; above it, each doubling (2^k, 2^k+1]
 * is cut into eight steps of 2^(k-3):
 *
 *	64 | 72 80 88 96 104 112 120 128 | 144 160 ... 256 | ... | 61440 65536
 *
 * so neighbouring classes differ by at most 12.5% and a request never
 * wastes more than 1/9 of its block.
 */
static unsigned
buf_class_index(size_t n)
{
	unsigned k;
	size_t step;

	if (n <= BUF_CLASS_MIN)
		return (0);
	k = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
	step = (size_t)1 << (k - 3);
	return (1 + (k - 6) * 8 + (unsigned)((n - 1 - ((size_t)1 << k)) /
	    step));
}

static size_t
buf_class_size(unsigned idx)
{
	unsigned k, q;

	if (idx == 0)
		return (BUF_CLASS_MIN);
	k = (idx - 1) / 8 + 6;
	q = (idx - 1) % 8;
	return (((size_t)1 << k) + (q + 1) * ((size_t)1 << (k - 3)));
}

size_t
buf_size_class(size_t n)
{
	if (n > BUF_SIZE_MAX)
		return (0);
	if (n > BUF_CLASS_MAX)
		return ((n + BUF_LARGE_ALIGN - 1) & ~(size_t)(BUF_LARGE_ALIGN -
		    1));
	return (buf_class_size(buf_class_index(n)));
}

/* The free list a block of this size goes back to, or BUF_CLASSES for
 * none: above BUF_CLASS_MAX, or an exact size no class has. */
static unsigned
buf_list_index(size_t size)
{
	unsigned idx;

	if (size > BUF_CLASS_MAX)
		return (BUF_CLASSES);
	idx = buf_class_index(size);
	return (buf_class_size(idx) == size ? idx : BUF_CLASSES);
}

struct buf_pool *
buf_pool_new(size_t cache_max)
{
	struct buf_pool *pool;

	ALLOC_OBJ(pool, BUF_POOL_MAGIC);
	if (pool == NULL)
		return (NULL);
	pool->cache_max = cache_max;
	return (pool);
}

void
buf_pool_trim(struct buf_pool *pool)
{
	struct buf *b;
	struct buf_free *link;
	unsigned i;

	CHECK_OBJ_NOTNULL(pool, BUF_POOL_MAGIC);
	for (i = 0; i < BUF_CLASSES; i++) {
		while ((b = pool->free[i]) != NULL) {
			CHECK_OBJ(b, BUF_FREE_MAGIC);
			BUF_UNPOISON(b->data, b->size);
			link = (struct buf_free *)(void *)b->data;
			pool->free[i] = link->next;
			pool->st.cached_pages--;
			pool->st.cached_bytes -= b->size;
			free(b);
		}
	}
	AZ(pool->st.cached_pages);
	AZ(pool->st.cached_bytes);
}

void
buf_pool_free(struct buf_pool **pp)
{
	struct buf_pool *pool;

	if (*pp == NULL)
		return;
	TAKE_OBJ_NOTNULL(pool, pp, BUF_POOL_MAGIC);
	/* A live block would point at this pool when it is released. */
	AZ(pool->st.pages);
	AZ(pool->st.bytes);
	AZ(pool->st.pinned);
	buf_pool_trim(pool);
	FREE_OBJ(pool);
}

void
buf_pool_stats(const struct buf_pool *pool, struct buf_pool_stats *st)
{
	CHECK_OBJ_NOTNULL(pool, BUF_POOL_MAGIC);
	*st = pool->st;
}

void
buf_pool_class_stats(const struct buf_pool *pool, unsigned i,
    struct buf_class_stats *cs)
{
	CHECK_OBJ_NOTNULL(pool, BUF_POOL_MAGIC);
	CHECK(i <= BUF_CLASSES);
	memset(cs, 0, sizeof *cs);
	cs->inuse = pool->inuse[i];
	if (i < BUF_CLASSES) {
		cs->size = buf_class_size(i);
		cs->cached = pool->cached[i];
	}
}

void
buf_pool_pin(struct buf_pool *pool, size_t n)
{
	CHECK_OBJ_NOTNULL(pool, BUF_POOL_MAGIC);
	pool->st.pinned += n;
}

void
buf_pool_unpin(struct buf_pool *pool, size_t n)
{
	CHECK_OBJ_NOTNULL(pool, BUF_POOL_MAGIC);
	CHECK(pool->st.pinned >= n);
	pool->st.pinned -= n;
}

/* b (its size set) leaves the pool as a live block, counted in idx. */
static void
buf_handed_out(struct buf_pool *pool, struct buf *b, unsigned idx)
{
	b->magic = BUF_MAGIC;
	b->refs = 1;
	b->pool = pool;
	b->fill = 0;
	pool->st.pages++;
	pool->st.bytes += b->size;
	pool->st.allocs++;
	pool->st.alloc_bytes += b->size;
	pool->inuse[idx]++;
}

struct buf *
buf_alloc(struct buf_pool *pool, size_t n)
{
	struct buf *b;
	size_t size;
	unsigned idx = BUF_CLASSES;

	CHECK_OBJ_NOTNULL(pool, BUF_POOL_MAGIC);
	size = buf_size_class(n);
	if (size == 0) {
		errno = EINVAL;
		return (NULL);
	}
	if (size <= BUF_CLASS_MAX)
		idx = buf_class_index(size);
	if (idx < BUF_CLASSES && (b = pool->free[idx]) != NULL) {
		CHECK_OBJ(b, BUF_FREE_MAGIC);
		BUF_UNPOISON(b->data, b->size);
		pool->free[idx] = ((struct buf_free *)(void *)b->data)->next;
		pool->st.cached_pages--;
		pool->st.cached_bytes -= size;
		pool->cached[idx]--;
	} else {
		b = malloc(sizeof *b + size);
		if (b == NULL)
			return (NULL);
		b->size = (uint32_t)size;
		pool->st.mallocs++;
	}
	CHECK(b->size == size);
	buf_handed_out(pool, b, idx);
	return (b);
}

struct buf *
buf_alloc_exact(struct buf_pool *pool, size_t n)
{
	struct buf *b;

	CHECK_OBJ_NOTNULL(pool, BUF_POOL_MAGIC);
	if (n == 0 || n > BUF_SIZE_MAX) {
		errno = EINVAL;
		return (NULL);
	}
	b = malloc(sizeof *b + n);
	if (b == NULL)
		return (NULL);
	b->size = (uint32_t)n;
	pool->st.mallocs++;
	/* A class's size is that class's block, wherever it came from. */
	buf_handed_out(pool, b, buf_list_index(n));
	return (b);
}

struct buf *
buf_ref(struct buf *b)
{
	CHECK_OBJ_NOTNULL(b, BUF_MAGIC);
	CHECK(b->refs > 0 && b->refs < UINT_MAX);
	b->refs++;
	return (b);
}

void
buf_unref(struct buf **bp)
{
	struct buf *b;
	struct buf_pool *pool;
	unsigned idx;

	if (*bp == NULL)
		return;
	TAKE_OBJ_NOTNULL(b, bp, BUF_MAGIC);
	CHECK(b->refs > 0);
	if (--b->refs > 0)
		return;
	pool = b->pool;
	CHECK_OBJ_NOTNULL(pool, BUF_POOL_MAGIC);
	CHECK(pool->st.pages > 0 && pool->st.bytes >= b->size);
	pool->st.pages--;
	pool->st.bytes -= b->size;
	idx = buf_list_index(b->size);
	pool->inuse[idx]--;
	if (idx < BUF_CLASSES &&
	    pool->st.cached_bytes + b->size <= pool->cache_max) {
		b->magic = BUF_FREE_MAGIC;
		b->pool = NULL;
		((struct buf_free *)(void *)b->data)->next = pool->free[idx];
		pool->free[idx] = b;
		BUF_POISON(b->data, b->size);
		pool->st.cached_pages++;
		pool->st.cached_bytes += b->size;
		pool->cached[idx]++;
		return;
	}
	FREE_OBJ(b);
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	CHECK_OBJ_NOTNULL(b, BUF_MAGIC);
	CHECK(n <= buf_room(b));
	if (n == 0)
		return;
	memcpy(b->data + b->fill, p, n);
	b->fill += (uint32_t)n;
}
