/*
 * buf_chain.c - chains: ordered runs of held slices.
 *
 * Lifecycle:
 *	buf_chain_init()	empty, no array yet
 *	buf_chain_append*()	slices added at the tail, one ref each
 *	buf_chain_consume()	slices dropped from the head, refs with them
 *	buf_chain_fini()	every ref dropped, array freed; empty again
 *
 * A chain of at most one slice keeps it in the inline slot (v NULL): a
 * small cached body or a one-block write costs no array.  The second
 * slice moves them to a heap array.
 *
 * The slices live in one array used as a sliding window [head, head+n):
 * consuming from the front only moves head, appending fills from the end
 * and slides the window down (or grows the array) when it hits it.  A
 * chain handed to comm_writev() is moved, not copied: an empty
 * destination simply takes the source's array.
 *
 * A slice of length 0 appears only at the tail, after buf_chain_reserve():
 * it marks the block the next appends go into.  Whatever adds a slice
 * behind it drops it first (chain_drop_empty_tail), so a reserved block
 * that ends up unused is released at once instead of riding along,
 * invisible to len, until the chain is consumed.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "buf/buf.h"
#include "buf/buf_int.h"

#define CHAIN_GROW_MIN		256u	/* first block an append takes */
#define CHAIN_SLOTS_MIN		4u

/* The array: the heap one, or the inline slot (capacity 1). */
static inline struct buf_slice *
chain_vec(struct buf_chain *c)
{
	return (c->v != NULL ? c->v : &c->one);
}

static inline const struct buf_slice *
chain_cvec(const struct buf_chain *c)
{
	return (c->v != NULL ? c->v : &c->one);
}

static inline uint32_t
chain_cap(const struct buf_chain *c)
{
	return (c->v != NULL ? c->cap : 1);
}

void
buf_chain_init(struct buf_chain *c, struct buf_pool *pool)
{
	CHECK_OBJ_NOTNULL(pool, BUF_POOL_MAGIC);
	memset(c, 0, sizeof *c);
	c->magic = BUF_CHAIN_MAGIC;
	c->pool = pool;
	c->grow = CHAIN_GROW_MIN;
}

void
buf_chain_fini(struct buf_chain *c)
{
	struct buf *b;
	uint32_t i;

	CHECK_OBJ_NOTNULL(c, BUF_CHAIN_MAGIC);
	for (i = c->head; i < c->head + c->n; i++) {
		b = chain_vec(c)[i].buf;
		buf_unref(&b);
	}
	free(c->v);
	c->v = NULL;
	c->one = (struct buf_slice){ NULL, 0, 0 };
	c->head = c->n = c->cap = 0;
	c->len = 0;
	c->grow = CHAIN_GROW_MIN;
}

/* Room for `more` slices at the tail: slide the window down when that
 * frees enough slots, else grow the array. */
static int
chain_slots(struct buf_chain *c, uint32_t more)
{
	struct buf_slice *v, *cur = chain_vec(c);
	uint32_t cap = chain_cap(c);
	uint64_t want;

	if ((uint64_t)c->head + c->n + more <= cap)
		return (0);
	if ((uint64_t)c->n + more <= cap && c->head >= cap / 2) {
		memmove(cur, cur + c->head, c->n * sizeof *cur);
		c->head = 0;
		return (0);
	}
	want = (uint64_t)cap * 2;
	if (want < (uint64_t)c->n + more)
		want = (uint64_t)c->n + more;
	if (want < CHAIN_SLOTS_MIN)
		want = CHAIN_SLOTS_MIN;
	if (want > UINT32_MAX / sizeof *v)
		return (-ENOMEM);
	if (c->v == NULL) {
		/* Out of the inline slot: its slice (if any) moves over. */
		v = malloc((size_t)want * sizeof *v);
		if (v == NULL)
			return (-ENOMEM);
		if (c->n > 0)
			v[0] = cur[c->head];
		c->head = 0;
		c->one = (struct buf_slice){ NULL, 0, 0 };
		c->v = v;
		c->cap = (uint32_t)want;
		return (0);
	}
	if (c->head > 0) {
		memmove(c->v, c->v + c->head, c->n * sizeof *c->v);
		c->head = 0;
	}
	v = realloc(c->v, (size_t)want * sizeof *v);
	if (v == NULL)
		return (-ENOMEM);
	c->v = v;
	c->cap = (uint32_t)want;
	return (0);
}

static struct buf_slice *
chain_last(struct buf_chain *c)
{
	return (c->n == 0 ? NULL : &chain_vec(c)[c->head + c->n - 1]);
}

/* A reserved block nothing went into must not end up mid-chain. */
static void
chain_drop_empty_tail(struct buf_chain *c)
{
	struct buf_slice *s = chain_last(c);
	struct buf *b;

	if (s == NULL || s->len != 0)
		return;
	b = s->buf;
	buf_unref(&b);
	c->n--;
	if (c->n == 0)
		c->head = 0;
}

/* The fill rule: the last block may be extended in place only by whoever
 * wrote its last bytes, i.e. when our last slice ends exactly at fill. */
static struct buf_slice *
chain_extendable(struct buf_chain *c)
{
	struct buf_slice *s = chain_last(c);

	if (s == NULL || s->off + s->len != s->buf->fill ||
	    buf_room(s->buf) == 0)
		return (NULL);
	return (s);
}

/* Append a new block of at least n bytes as an empty tail slice. */
static int
chain_new_block(struct buf_chain *c, size_t n)
{
	struct buf *b;

	chain_drop_empty_tail(c);
	if (chain_slots(c, 1) != 0)
		return (-ENOMEM);
	b = buf_alloc(c->pool, n);
	if (b == NULL)
		return (-ENOMEM);
	chain_vec(c)[c->head + c->n] = (struct buf_slice){ b, b->fill, 0 };
	c->n++;
	return (0);
}

int
buf_chain_reserve(struct buf_chain *c, size_t n)
{
	struct buf_slice *s;

	CHECK_OBJ_NOTNULL(c, BUF_CHAIN_MAGIC);
	s = chain_extendable(c);
	if (s != NULL && buf_room(s->buf) >= n)
		return (0);
	return (chain_new_block(c, n));
}

int
buf_chain_append(struct buf_chain *c, const void *p, size_t n)
{
	const unsigned char *src = p;
	struct buf_slice *s;
	size_t k, want;

	CHECK_OBJ_NOTNULL(c, BUF_CHAIN_MAGIC);
	while (n > 0) {
		s = chain_extendable(c);
		if (s == NULL) {
			/* Blocks grow geometrically, so a short chain stays
			 * small and a long one quickly uses 64 KiB pages. */
			want = n > c->grow ? n : c->grow;
			if (want > BUF_CLASS_MAX)
				want = BUF_CLASS_MAX;
			if (c->grow < BUF_CLASS_MAX)
				c->grow *= 2;
			if (chain_new_block(c, want) != 0)
				return (-ENOMEM);
			continue;
		}
		k = buf_room(s->buf);
		if (k > n)
			k = n;
		buf_append(s->buf, src, k);
		s->len += (uint32_t)k;
		c->len += k;
		c->pool->st.copied += k;
		src += k;
		n -= k;
	}
	return (0);
}

int
buf_chain_append_slice(struct buf_chain *c, struct buf *b, size_t off,
    size_t len)
{
	struct buf_slice *s;

	CHECK_OBJ_NOTNULL(c, BUF_CHAIN_MAGIC);
	CHECK_OBJ_NOTNULL(b, BUF_MAGIC);
	CHECK(off <= b->fill && len <= b->fill - off);
	if (len == 0)
		return (0);
	s = chain_last(c);
	if (s != NULL && s->buf == b && s->off + s->len == off) {
		s->len += (uint32_t)len;
		c->len += len;
		return (0);
	}
	if (chain_slots(c, 1) != 0)
		return (-ENOMEM);
	chain_drop_empty_tail(c);
	chain_vec(c)[c->head + c->n] = (struct buf_slice){ buf_ref(b),
	    (uint32_t)off, (uint32_t)len };
	c->n++;
	c->len += len;
	return (0);
}

int
buf_chain_move(struct buf_chain *dst, struct buf_chain *src)
{
	CHECK_OBJ_NOTNULL(dst, BUF_CHAIN_MAGIC);
	CHECK_OBJ_NOTNULL(src, BUF_CHAIN_MAGIC);
	CHECK(dst != src);
	if (src->n == 0)
		return (0);
	if (dst->n == 0) {
		free(dst->v);
		dst->v = src->v;
		dst->one = src->one;
		dst->head = src->head;
		dst->n = src->n;
		dst->cap = src->cap;
		dst->len = src->len;
		src->v = NULL;
		src->one = (struct buf_slice){ NULL, 0, 0 };
		src->head = src->n = src->cap = 0;
		src->len = 0;
		return (0);
	}
	if (chain_slots(dst, src->n) != 0)
		return (-ENOMEM);
	chain_drop_empty_tail(dst);
	memcpy(chain_vec(dst) + dst->head + dst->n, chain_vec(src) + src->head,
	    src->n * sizeof(struct buf_slice));
	dst->n += src->n;
	dst->len += src->len;
	src->head = src->n = 0;
	src->len = 0;
	src->one = (struct buf_slice){ NULL, 0, 0 };
	return (0);
}

unsigned
buf_chain_iov(const struct buf_chain *c, size_t skip, struct iovec *iov,
    unsigned max)
{
	const struct buf_slice *s;
	unsigned cnt = 0;
	uint32_t i;

	CHECK_OBJ_NOTNULL(c, BUF_CHAIN_MAGIC);
	for (i = 0; i < c->n && cnt < max; i++) {
		s = &chain_cvec(c)[c->head + i];
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		iov[cnt].iov_base = s->buf->data + s->off + skip;
		iov[cnt].iov_len = s->len - skip;
		skip = 0;
		cnt++;
	}
	return (cnt);
}

void
buf_chain_consume(struct buf_chain *c, size_t n)
{
	struct buf_slice *s;
	struct buf *b;

	CHECK_OBJ_NOTNULL(c, BUF_CHAIN_MAGIC);
	CHECK(n <= c->len);
	c->len -= n;
	while (n > 0) {
		s = &chain_vec(c)[c->head];
		if (s->len > n) {
			s->off += (uint32_t)n;
			s->len -= (uint32_t)n;
			break;
		}
		n -= s->len;
		b = s->buf;
		buf_unref(&b);
		c->head++;
		c->n--;
	}
	if (c->n == 0) {
		c->head = 0;
		c->one = (struct buf_slice){ NULL, 0, 0 };
	}
}

int
buf_chain_split(struct buf_chain *c, size_t n, struct buf_chain *front)
{
	struct buf_slice *s, *cv;
	uint32_t whole = 0;
	size_t left = n;

	CHECK_OBJ_NOTNULL(c, BUF_CHAIN_MAGIC);
	CHECK_OBJ_NOTNULL(front, BUF_CHAIN_MAGIC);
	CHECK(front->n == 0 && c != front);
	CHECK(n <= c->len);
	front->head = 0;
	cv = chain_vec(c);
	while (whole < c->n && cv[c->head + whole].len <= left &&
	    left > 0) {
		left -= cv[c->head + whole].len;
		whole++;
	}
	if (chain_slots(front, whole + (left > 0)) != 0)
		return (-ENOMEM);
	/* n == 0 on a fresh front: no array to copy into (memcpy(NULL)). */
	if (whole > 0)
		memcpy(chain_vec(front), cv + c->head, whole * sizeof *cv);
	front->n = whole;
	c->head += whole;
	c->n -= whole;
	if (left > 0) {
		s = &cv[c->head];
		chain_vec(front)[front->n++] = (struct buf_slice){
		    buf_ref(s->buf), s->off, (uint32_t)left };
		s->off += (uint32_t)left;
		s->len -= (uint32_t)left;
	}
	front->len = n;
	c->len -= n;
	if (c->n == 0) {
		c->head = 0;
		c->one = (struct buf_slice){ NULL, 0, 0 };
	}
	return (0);
}

size_t
buf_chain_copyout(const struct buf_chain *c, size_t off, void *p, size_t n)
{
	const struct buf_slice *s;
	unsigned char *dst = p;
	size_t k, done = 0;
	uint32_t i;

	CHECK_OBJ_NOTNULL(c, BUF_CHAIN_MAGIC);
	for (i = 0; i < c->n && done < n; i++) {
		s = &chain_cvec(c)[c->head + i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		k = s->len - off;
		if (k > n - done)
			k = n - done;
		memcpy(dst + done, s->buf->data + s->off + off, k);
		done += k;
		off = 0;
	}
	return (done);
}
