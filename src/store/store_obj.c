/*
 * store_obj.c - store entries: creation, references, states, the body.
 *
 * Lifecycle of an entry (the index's part is in store_index.c; the two
 * shapes, live and sealed, are drawn in store_int.h):
 *	store_entry_new()		PENDING, live, refs 1
 *	store_entry_set_reply()		reply moved in (packed when it may
 *					be cached)
 *	store_entry_append()		slices referenced, or small ones copied
 *					into own blocks while indexed
 *	store_entry_complete()		COMPLETE
 *	store_entry_abort()		ABORTED; leaves its index at once
 *	store_entry_unref()		to the index's reference alone: views
 *					go, a complete object is sealed;
 *					to none: freed
 *
 * A live body lives in a chain; body_start is the offset of its first
 * byte (non-zero only once a window dropped what every reader has
 * passed).  Readers are told about progress through their comm_call, so
 * the writer's store_entry_*() calls never run reader code inline.
 *
 * This file has the entry, its references and states, and the body's
 * writer; the rest of an entry's life is in store_pack.c (the reply and
 * its views), store_seal.c (into one block and back), store_window.c
 * (a private entry's window, room for its writer), store_reader.c
 * (readers) and store_interim.c (interim replies).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "store/store.h"
#include "store/store_int.h"

/* -- the live part ------------------------------------------------------*/

struct store_live *
store_live_new(struct store_entry *e, struct comm_loop *loop,
    struct buf_pool *pool)
{
	struct store_live *l;

	l = calloc(1, sizeof *l);
	if (l == NULL)
		return (NULL);
	l->entry = e;
	l->loop = loop;
	buf_chain_init(&l->body, pool);
	list_init(&l->readers);
	comm_call_init(&l->room_call, store_room_call);
	return (l);
}

/* The reply, packed or owned, and any view of it: gone. */
void
store_reply_drop(struct store_entry *e)
{
	struct store_live *l = e->u.live;

	if (l->view != NULL && (e->flags & STORE_F_VIEW_OWNED))
		http_msg_fini(l->view);
	free(l->view);
	l->view = NULL;
	e->flags &= ~STORE_F_VIEW_OWNED;
	free(l->rp);
	l->rp = NULL;
}

void
store_live_free(struct store_entry *e)
{
	struct store_live *l = e->u.live;

	AN(l);
	CHECK(list_empty(&l->readers));
	comm_call_cancel(&l->room_call);
	store_reply_drop(e);
	store_interim_free_all(l);
	free(l->url);
	free(l->err_detail);
	buf_chain_fini(&l->body);
	free(l);
	e->u.live = NULL;
}

/* The entry's memory goes: its block's own reference, or its malloc. */
void
store_entry_free_mem(struct store_entry *e)
{
	struct buf *obj;

	if (e->flags & STORE_F_EMBEDDED) {
		obj = store_obj(e);
		e->magic = 0;
		buf_unref(&obj);	/* e may be gone with it */
	} else
		FREE_OBJ(e);
}

/* -- the entry ------------------------------------------------------------- */

struct store_entry *
store_entry_new(struct comm_loop *loop, struct buf_pool *pool, size_t window)
{
	struct store_entry *e;

	ALLOC_OBJ(e, STORE_ENTRY_MAGIC);
	if (e == NULL)
		return (NULL);
	e->u.live = store_live_new(e, loop, pool);
	if (e->u.live == NULL) {
		FREE_OBJ(e);
		return (NULL);
	}
	e->refs = 1;
	/* A window past 4 GiB is no window at all: clamp, keep it private. */
	e->u.live->window = window > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)window;
	e->state = STORE_PENDING;
	list_init(&e->rlink);
	return (e);
}

void
store_entry_ref(struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	e->refs++;
}

/* Only the index holds e now: nobody has a rebuilt view, and a complete
 * object is sealed. */
static void
store_entry_idle(struct store_entry *e)
{
	struct store_live *l;

	if (store_sealed(e)) {
		free(e->u.view);
		e->u.view = NULL;
		return;
	}
	l = e->u.live;
	if (l->view != NULL && !(e->flags & STORE_F_VIEW_OWNED)) {
		free(l->view);
		l->view = NULL;
	}
	if (e->state == STORE_COMPLETE)
		store_seal(e);
}

void
store_entry_unref(struct store_entry **ep)
{
	struct store_entry *e;

	if (*ep == NULL)
		return;
	TAKE_OBJ_NOTNULL(e, ep, STORE_ENTRY_MAGIC);
	CHECK(e->refs > 0);
	if (--e->refs > 0) {
		if (e->refs == 1 && e->idx != NULL)
			store_entry_idle(e);
		return;
	}
	AZ(e->nreaders);		/* each reader holds a reference */
	AZ(e->idx);			/* so does the index */
	if (store_sealed(e))
		free(e->u.view);
	else
		store_live_free(e);
	store_entry_free_mem(e);
}

enum store_state
store_entry_state(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return ((enum store_state)e->state);
}

uint64_t
store_body_end(const struct store_entry *e)
{
	if (store_sealed(e))
		return (store_obj(e)->fill - store_obj_body_off(e));
	return (e->u.live->body_start + buf_chain_len(&e->u.live->body));
}

uint64_t
store_entry_body_len(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return (store_body_end(e));
}

unsigned
store_entry_nreaders(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return (e->nreaders);
}

struct http_cache_meta *
store_entry_meta(struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return (&e->meta);
}

bool
store_entry_private(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return ((e->flags & STORE_F_PRIVATE) != 0);
}

bool
store_entry_windowed(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return (!store_sealed(e) && e->u.live->window != 0);
}

void
store_entry_set_window_after(struct store_entry *e, size_t window)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (store_sealed(e))
		return;			/* COMPLETE: no window to take */
	e->u.live->window_after = window > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)window;
}

int
store_entry_set_url(struct store_entry *e, const char *url, size_t len)
{
	char *u;
	uint64_t old;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (store_sealed(e) && store_unseal(e) != 0)
		return (-ENOMEM);
	u = strndup(url, len);
	if (u == NULL)
		return (-ENOMEM);
	old = store_entry_mem(e);
	free(e->u.live->url);
	e->u.live->url = u;
	if (e->idx != NULL)
		store_index_charge(e, old);
	return (0);
}

const char *
store_entry_url(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (store_sealed(e))
		return (store_obj_rp(e)->urllen > 0 ? store_obj_url(e) : NULL);
	return (e->u.live->url);
}

bool
store_entry_indexed(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return (e->idx != NULL);
}

const struct store_key *
store_entry_key(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return (&e->key);
}

uint64_t
store_entry_mem(const struct store_entry *e)
{
	const struct store_live *l;
	uint64_t mem;

	/* An embedded entry is counted as its block, body and all. */
	mem = e->flags & STORE_F_EMBEDDED ? sizeof(struct buf) +
	    store_obj(e)->size : sizeof *e;
	if (store_sealed(e))
		return (mem);
	l = e->u.live;
	mem += sizeof *l + l->body_mem +
	    (uint64_t)l->body.cap * sizeof(struct buf_slice);
	if (l->rp != NULL)
		mem += offsetof(struct store_rpack, raw) + l->rp->rawlen;
	if (l->url != NULL)
		mem += strlen(l->url) + 1;
	if (e->flags & STORE_F_VIEW_OWNED)
		mem += sizeof *l->view + l->view->rawcap +
		    (uint64_t)l->view->fieldcap * sizeof(struct http_field);
	return (mem);
}

/* Something a waiting reader would want to see: post its call.  Only a
 * live entry has news to tell. */
void
store_notify_readers(struct store_entry *e)
{
	struct list *n;
	struct store_reader *r;

	LIST_FOREACH(n, &e->u.live->readers) {
		r = container_of(n, struct store_reader, link);
		CHECK_OBJ(r, STORE_READER_MAGIC);
		if (r->armed && !comm_call_pending(&r->call)) {
			r->armed = false;
			comm_call_post(r->loop, &r->call);
		}
	}
}

/* -- the body, the end -------------------------------------------------- */

/* Reference [off, off+len) of b.  A block is counted once per run of
 * slices of it, which is once per block for every chain cuttle builds
 * (consecutive pieces of one read, chunked or not). */
static int
store_body_ref(struct store_entry *e, struct buf *b, size_t off, size_t len)
{
	struct store_live *l = e->u.live;
	unsigned n = buf_chain_nslices(&l->body);
	bool same = n > 0 && buf_chain_slice(&l->body, n - 1)->buf == b;

	if (buf_chain_append_slice(&l->body, b, off, len) != 0)
		return (-ENOMEM);
	if (!same)
		l->body_mem += b->size;
	e->flags &= ~STORE_F_OWN_TAIL;
	return (0);
}

/* The size of the next own block for n bytes: what the Content-Length
 * says is still to come, else as much as the body has so far (blocks
 * double: few of them, at most half of the last one unused); at most a
 * page unless n itself is more. */
static size_t
store_block_want(const struct store_entry *e, size_t n)
{
	uint64_t have = store_body_end(e), want, cl;

	if (store_entry_length(e, &cl) && cl >= have + n)
		want = cl - have;
	else
		want = have;
	if (want > BUF_CLASS_MAX)
		want = BUF_CLASS_MAX;
	return (want > n ? (size_t)want : n);
}

/* Copy n bytes into blocks the entry owns: the tail one while it has
 * room (only ours may be extended: a block fwd read into is fwd's to
 * fill), then right-sized new ones.  0, or -ENOMEM with a prefix in. */
static int
store_body_copy(struct store_entry *e, const unsigned char *p, size_t n,
    uint64_t *copied)
{
	struct store_live *l = e->u.live;
	const struct buf_slice *s;
	struct buf *b;
	size_t k, at;
	unsigned ns;

	while (n > 0) {
		ns = buf_chain_nslices(&l->body);
		s = ns > 0 ? buf_chain_slice(&l->body, ns - 1) : NULL;
		if ((e->flags & STORE_F_OWN_TAIL) && s != NULL &&
		    s->off + s->len == s->buf->fill && buf_room(s->buf) > 0) {
			b = s->buf;
			k = buf_room(b) < n ? buf_room(b) : n;
			at = b->fill;
			buf_append(b, p, k);
			/* Adjacent to the last slice: it merges, no ref. */
			AZ(buf_chain_append_slice(&l->body, b, at, k));
		} else {
			b = buf_alloc(l->body.pool, store_block_want(e, n));
			if (b == NULL)
				return (-ENOMEM);
			k = b->size < n ? b->size : n;
			buf_append(b, p, k);
			if (buf_chain_append_slice(&l->body, b, 0, k) != 0) {
				buf_unref(&b);
				return (-ENOMEM);
			}
			l->body_mem += b->size;
			buf_unref(&b);		/* the chain holds it */
			e->flags |= STORE_F_OWN_TAIL;
		}
		*copied += k;
		p += k;
		n -= k;
	}
	return (0);
}

int
store_entry_append(struct store_entry *e, struct buf *b, size_t off,
    size_t len)
{
	uint64_t old, copied = 0;
	int rc;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK((e->flags & STORE_F_REPLY) && e->state != STORE_COMPLETE);
	CHECK_OBJ_NOTNULL(b, BUF_MAGIC);
	CHECK(off <= b->fill && len <= b->fill - off);
	if (e->state == STORE_ABORTED)
		return (-ENOMEM);	/* set_reply ran out (see there) */
	if (len == 0)
		return (0);
	old = store_entry_mem(e);
	/* A cached slice pins its whole block for as long as the entry
	 * lives: copy one that would waste more than it holds, or a small
	 * one a smaller block would hold (a read sized to what the socket
	 * had also holds the header section).  Copying is on the miss path
	 * only; readers still get slices. */
	if (e->idx != NULL && (len < b->size / 2 ||
	    (len <= STORE_COPY_SMALL && buf_size_class(len) < b->size)))
		rc = store_body_copy(e, buf_data(b) + off, len, &copied);
	else
		rc = store_body_ref(e, b, off, len);
	store_entry_ref(e);	/* the index may let go of it */
	if (e->idx != NULL) {
		store_index_count_copied(e->idx, copied);
		store_index_charge(e, old);
	}
	store_notify_readers(e);	/* a prefix may be in on ENOMEM */
	store_entry_unref(&e);
	return (rc);
}

void
store_entry_complete(struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK((e->flags & STORE_F_REPLY) && e->state != STORE_COMPLETE);
	if (e->state == STORE_ABORTED)
		return;			/* set_reply ran out (see there) */
	e->state = STORE_COMPLETE;
	store_entry_ref(e);	/* the index may let go of it */
	if (e->idx != NULL)
		store_index_completed(e);
	store_notify_readers(e);
	store_entry_unref(&e);
}

void
store_entry_abort(struct store_entry *e, enum store_err err, int sys_errno)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK(err < STORE_ERR__COUNT);
	if (e->state != STORE_PENDING)
		return;
	e->state = STORE_ABORTED;
	e->u.live->err = (uint8_t)err;
	e->u.live->sys_errno = sys_errno;
	/* Never found again: whoever looks it up next fetches anew. */
	if (e->idx != NULL) {
		store_entry_ref(e);
		store_index_leave(e, STORE_LEAVE_REMOVE);
		store_notify_readers(e);
		store_entry_unref(&e);
		return;
	}
	store_notify_readers(e);
}

void
store_entry_set_private(struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	e->flags |= STORE_F_PRIVATE;
	if (e->idx != NULL) {
		store_entry_ref(e);
		store_index_leave(e, STORE_LEAVE_REMOVE);
		store_entry_unref(&e);
	}
}

void
store_entry_abort_detail(struct store_entry *e, enum store_err err,
    int sys_errno, const char *detail)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (e->state != STORE_PENDING)
		return;
	/* Before the abort: its readers are told at once.  Without memory
	 * for it the page simply has no detail. */
	if (detail != NULL && e->u.live->err_detail == NULL)
		e->u.live->err_detail = strdup(detail);
	store_entry_abort(e, err, sys_errno);
}

const char *
store_entry_error_detail(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (store_sealed(e))
		return (NULL);
	return (e->u.live->err_detail);
}

enum store_err
store_entry_error(const struct store_entry *e, int *sys_errno)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (store_sealed(e)) {		/* complete: nothing went wrong */
		if (sys_errno != NULL)
			*sys_errno = 0;
		return (STORE_ERR_NONE);
	}
	if (sys_errno != NULL)
		*sys_errno = e->u.live->sys_errno;
	return ((enum store_err)e->u.live->err);
}

const char *
store_err_text(enum store_err e)
{
	static const char *const texts[STORE_ERR__COUNT] = {
#define STORE_ERR(sym, text)	[STORE_ERR_##sym] = text,
		STORE_ERRORS
#undef STORE_ERR
	};

	CHECK(e < STORE_ERR__COUNT);
	return (texts[e]);
}
