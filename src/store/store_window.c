/*
 * store_window.c - the window of a private (or unindexed, still filling)
 * entry: it keeps only the bytes some reader has not passed, and its
 * writer waits for room before it reads more from the origin.
 *
 *	store_entry_new(window)		windowed from the start (store_obj.c)
 *	store_entry_unindexed()		out of its index while PENDING: takes
 *					window_after
 *	store_entry_wait_room()		the writer asks to be told of room
 *	store_trim()			readers moved on: what all passed is
 *					dropped, a waiting writer told
 *	store_room_call()		the writer told, from the loop
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "base/check.h"
#include "store/store.h"
#include "store/store_int.h"

size_t
store_entry_room(const struct store_entry *e)
{
	uint64_t held;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (!store_entry_windowed(e))
		return (SIZE_MAX);
	held = buf_chain_len(&e->u.live->body);
	return (held >= e->u.live->window ? 0 :
	    (size_t)(e->u.live->window - held));
}

uint64_t
store_entry_body_start(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return (store_sealed(e) ? 0 : e->u.live->body_start);
}

void
store_entry_wait_room(struct store_entry *e, store_room_fn *fn, void *arg)
{
	struct store_live *l;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (store_sealed(e) && fn == NULL)
		return;		/* a sealed entry has no request to withdraw */
	CHECK(!store_sealed(e));	/* nor a writer to ask for room */
	l = e->u.live;
	l->room_fn = fn;
	l->room_arg = arg;
	comm_call_cancel(&l->room_call);
	if (fn != NULL && (store_entry_room(e) > 0 || e->nreaders == 0))
		comm_call_post(l->loop, &l->room_call);
}

void
store_room_call(struct comm_call *call)
{
	struct store_live *l = container_of(call, struct store_live,
	    room_call);
	store_room_fn *fn;

	CHECK_OBJ_NOTNULL(l->entry, STORE_ENTRY_MAGIC);
	fn = l->room_fn;
	l->room_fn = NULL;
	if (fn != NULL)
		fn(l->entry, l->room_arg);
}

/* Drop n bytes from the front of the body; body_mem loses each block
 * whose run of slices goes completely (the rule store_body_ref counts
 * by). */
static void
store_body_drop(struct store_entry *e, uint64_t n)
{
	struct store_live *l = e->u.live;
	const struct buf_slice *s, *next;
	unsigned i, ns = buf_chain_nslices(&l->body);
	uint64_t left = n;

	for (i = 0; i < ns; i++) {
		s = buf_chain_slice(&l->body, i);
		if (s->len > left)
			break;
		left -= s->len;
		next = i + 1 < ns ? buf_chain_slice(&l->body, i + 1) : NULL;
		if (next == NULL || next->buf != s->buf) {
			CHECK(l->body_mem >= s->buf->size);
			l->body_mem -= s->buf->size;
		}
	}
	buf_chain_consume(&l->body, (size_t)n);
	l->body_start += n;
	if (buf_chain_nslices(&l->body) == 0)
		e->flags &= ~STORE_F_OWN_TAIL;
}

/* A windowed entry drops the bytes every reader has passed, and tells a
 * waiting writer that there is room again. */
void
store_trim(struct store_entry *e)
{
	struct store_live *l;
	struct list *n;
	struct store_reader *r;
	uint64_t low;

	if (!store_entry_windowed(e))
		return;
	l = e->u.live;
	low = store_body_end(e);
	LIST_FOREACH(n, &l->readers) {
		r = container_of(n, struct store_reader, link);
		if (r->off < low)
			low = r->off;
	}
	if (low > l->body_start)
		store_body_drop(e, low - l->body_start);
	if (l->room_fn != NULL && !comm_call_pending(&l->room_call) &&
	    (store_entry_room(e) > 0 || e->nreaders == 0))
		comm_call_post(l->loop, &l->room_call);
}

void
store_entry_unindexed(struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	AZ(e->idx);
	if (e->state != STORE_PENDING || e->u.live->window_after == 0)
		return;
	e->u.live->window = e->u.live->window_after;
	store_trim(e);
}
