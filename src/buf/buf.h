/*
 * buf.h - refcounted blocks from a pool, slices over them, chains of slices.
 *
 * Contract (doc/internals/buf.md):
 *
 * - A `struct buf` is one block of `size` bytes taken from a `struct
 *   buf_pool`, in a size class (eight per doubling from 64 B to 64 KiB, so
 *   a request wastes at most 1/9 of its block), or one block of its own
 *   above 64 KiB.  It is refcounted: buf_alloc() returns one reference,
 *   buf_ref() adds one, buf_unref() drops one and the block goes back to
 *   its pool at zero.
 * - Bytes are appended at `fill`; the bytes below `fill` never change
 *   again.  That is what makes sharing safe: whoever holds a slice of
 *   [0, fill) sees stable bytes, and a chain may extend a block in place
 *   only when its last slice ends exactly at `fill`.
 * - A `struct buf_slice` {buf, off, len} is a view; a slice that is held
 *   (in a chain, a write, a store page list) holds one reference.
 * - A `struct buf_chain` is an ordered run of held slices: append bytes
 *   (copied, counted in the pool's `copied`), append a slice (a reference,
 *   nothing copied), see the front as an iovec[], consume from the front
 *   (references dropped as slices are passed), split.
 * - A pool belongs to one loop and is never shared between threads.
 *   Its counters are what the cache manager will report.
 */
#ifndef CUTTLE_BUF_H
#define CUTTLE_BUF_H

#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

struct buf_pool;

/*
 * One block: the header, then `size` bytes of data.
 *
 *	+--------+-----------------------------+-------------+
 *	| header | bytes [0, fill): immutable  | free space  |
 *	+--------+-----------------------------+-------------+
 *	         ^ buf_data(b)                 ^ fill        ^ size
 */
struct buf {
	unsigned		magic;
#define BUF_MAGIC		0xb0f0b10cU
	unsigned		refs;
	struct buf_pool		*pool;
	uint32_t		size;	/* bytes of data: the class size, or
					 * exact (buf_alloc_exact()) */
	uint32_t		fill;	/* bytes written so far */
	unsigned char		data[];
};

#define BUF_CLASS_MIN		64u
#define BUF_CLASS_MAX		65536u
#define BUF_CLASSES		81	/* 64 B, then 8 per doubling */
#define BUF_LARGE_ALIGN		4096u	/* above BUF_CLASS_MAX */
#define BUF_SIZE_MAX		(UINT32_MAX - BUF_LARGE_ALIGN)

struct buf_pool_stats {
	size_t		pages;		/* blocks handed out, not yet freed */
	size_t		bytes;		/* their sizes, headers excluded */
	size_t		pinned;		/* bytes held by pending writes */
	size_t		cached_pages;	/* blocks on the free lists */
	size_t		cached_bytes;
	uint64_t	allocs;		/* buf_alloc() successes */
	uint64_t	mallocs;	/* of which went to malloc() */
	uint64_t	copied;		/* bytes copied by buf_chain_append() */
	uint64_t	alloc_bytes;	/* handed out by buf_alloc(), ever */
};

/* buf_pool_new() - a pool that keeps at most cache_max bytes of freed
 * blocks for reuse (the rest goes back to malloc).  NULL on ENOMEM. */
struct buf_pool	*buf_pool_new(size_t cache_max);
/* buf_pool_free() - every buf must have been released (asserted: a live
 * buf would point at a dead pool).  Returns the cache to malloc. */
void	buf_pool_free(struct buf_pool **pp);
/* buf_pool_trim() - return every cached block to malloc. */
void	buf_pool_trim(struct buf_pool *pool);
void	buf_pool_stats(const struct buf_pool *pool, struct buf_pool_stats *st);

/* One size class: its block size (0 for the last, i == BUF_CLASSES:
 * blocks above BUF_CLASS_MAX, each its own size), blocks handed out and
 * blocks kept for reuse. */
struct buf_class_stats {
	size_t		size;
	size_t		inuse;
	size_t		cached;
};
/* buf_pool_class_stats() - class i, 0 <= i <= BUF_CLASSES. */
void	buf_pool_class_stats(const struct buf_pool *pool, unsigned i,
	    struct buf_class_stats *cs);
/* buf_pool_pin() / _unpin() - account n bytes as held by a pending write
 * (comm does this between submit and completion). */
void	buf_pool_pin(struct buf_pool *pool, size_t n);
void	buf_pool_unpin(struct buf_pool *pool, size_t n);

/* buf_size_class() - the block size a request for n bytes gets (n >= 1);
 * 0 when n exceeds BUF_SIZE_MAX. */
size_t	buf_size_class(size_t n);

/* buf_alloc() - a block of at least n bytes (n may be 0: the smallest
 * class), fill 0, one reference held by the caller.  NULL on ENOMEM or
 * when n > BUF_SIZE_MAX (errno EINVAL); nothing is counted then. */
struct buf	*buf_alloc(struct buf_pool *pool, size_t n);
/* buf_alloc_exact() - a block of exactly n bytes (n >= 1), for data
 * that will not grow and lives long (a sealed cache object): one
 * malloc() of header + n, counted with the blocks above BUF_CLASS_MAX
 * and freed at the last unref (no class would hand it out again) unless
 * n happens to be a class's size.  NULL on ENOMEM or when n is 0 or
 * above BUF_SIZE_MAX (errno EINVAL). */
struct buf	*buf_alloc_exact(struct buf_pool *pool, size_t n);
/* buf_ref() - one more reference; returns b for chaining. */
struct buf	*buf_ref(struct buf *b);
/* buf_unref() - drop the caller's reference and NULL *bp; the block goes
 * back to its pool with the last one.  *bp may be NULL. */
void	buf_unref(struct buf **bp);

static inline unsigned char *
buf_data(struct buf *b)
{
	return (b->data);
}

/* buf_room() - bytes that may still be appended at fill. */
static inline size_t
buf_room(const struct buf *b)
{
	return (b->size - b->fill);
}

/* buf_append() - copy n bytes at fill (n <= buf_room(b)) and advance it.
 * The caller must be the block's only writer (see the fill rule). */
void	buf_append(struct buf *b, const void *p, size_t n);

struct buf_slice {
	struct buf	*buf;
	uint32_t	off;
	uint32_t	len;
};

static inline const unsigned char *
buf_slice_ptr(const struct buf_slice *s)
{
	return (s->buf->data + s->off);
}

/*
 * A chain: slices v[head .. head+n) in order, len bytes in all.  Embedded
 * by its owner (buf_chain_init/_fini).  While v is NULL the one inline
 * slot `one` is the array (cap 1, head 0): a chain of one slice, such as
 * a small cached body, needs no allocation; more slices move to a heap
 * array that grows as needed.  No pointer into the struct is kept, so a
 * chain may be moved by assignment.
 */
struct buf_chain {
	unsigned		magic;
#define BUF_CHAIN_MAGIC		0xc4a1b0f0U
	uint32_t		head;	/* first slice in v */
	uint32_t		n;	/* slices held */
	uint32_t		cap;	/* slots in v */
	uint32_t		grow;	/* next block size for appends */
	struct buf_pool		*pool;	/* where appended bytes are taken */
	struct buf_slice	*v;	/* NULL: the inline slot */
	size_t			len;
	struct buf_slice	one;
};

/* buf_chain_init() - an empty chain that takes new blocks from pool. */
void	buf_chain_init(struct buf_chain *c, struct buf_pool *pool);
/* buf_chain_fini() - drop every reference and the slice array; the chain
 * is empty and may be used again (it stays initialised). */
void	buf_chain_fini(struct buf_chain *c);

static inline size_t
buf_chain_len(const struct buf_chain *c)
{
	return (c->len);
}

static inline unsigned
buf_chain_nslices(const struct buf_chain *c)
{
	return (c->n);
}

/* buf_chain_slice() - the i-th slice from the front (i < n); borrowed. */
static inline const struct buf_slice *
buf_chain_slice(const struct buf_chain *c, unsigned i)
{
	return (c->v != NULL ? &c->v[c->head + i] : &c->one);
}

/* buf_chain_append() - copy n bytes to the end, into the last block when
 * the chain may extend it, else into new blocks.  0 or -ENOMEM (the
 * chain then holds a prefix of p; its length says how much). */
int	buf_chain_append(struct buf_chain *c, const void *p, size_t n);
/* buf_chain_append_slice() - reference [off, off+len) of b at the end
 * (off + len <= b->fill): one buf_ref(), no copy; adjacent slices of one
 * block merge.  0 or -ENOMEM (nothing changed). */
int	buf_chain_append_slice(struct buf_chain *c, struct buf *b, size_t off,
	    size_t len);
/* buf_chain_move() - append all of src to dst, references and all;
 * src ends empty.  0 or -ENOMEM (nothing changed). */
int	buf_chain_move(struct buf_chain *dst, struct buf_chain *src);
/* buf_chain_reserve() - make sure the next n appended bytes go into one
 * block (for a reply whose size is known: headers and body together).
 * A reserved block nothing went into is released as soon as anything
 * else is added behind it.  0 or -ENOMEM. */
int	buf_chain_reserve(struct buf_chain *c, size_t n);
/* buf_chain_iov() - the front as at most max iovecs, starting skip bytes
 * in; returns how many were filled.  The iovecs point into held blocks
 * and stay valid while the chain holds them. */
unsigned	buf_chain_iov(const struct buf_chain *c, size_t skip,
		    struct iovec *iov, unsigned max);
/* buf_chain_consume() - drop n bytes (<= len) from the front, unreffing
 * each slice passed completely. */
void	buf_chain_consume(struct buf_chain *c, size_t n);
/* buf_chain_split() - move the first n bytes (<= len) to front, which
 * must be empty; a slice across the boundary is shared (one more ref).
 * 0 or -ENOMEM (nothing changed). */
int	buf_chain_split(struct buf_chain *c, size_t n, struct buf_chain *front);
/* buf_chain_copyout() - copy up to n bytes from offset off into p;
 * returns the count copied (short at the end of the chain). */
size_t	buf_chain_copyout(const struct buf_chain *c, size_t off, void *p,
	    size_t n);

#endif /* CUTTLE_BUF_H */
