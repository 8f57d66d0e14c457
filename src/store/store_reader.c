/*
 * store_reader.c - readers: a cursor on an entry's body that hands out
 * slices (references, never copies) and is told about progress from
 * the loop, never inside the writer's store_entry_*() call.
 *
 *	store_reader_open()	reference on the entry; linked on a live
 *				entry's readers (a sealed one has no news)
 *	store_reader_wait()	armed: the next progress posts its call
 *	store_reader_read()	slices from off on; a windowed entry trims
 *	store_reader_seek()	off moved (ranges)
 *	store_reader_close()	unlinked, call cancelled, reference dropped
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/check.h"
#include "store/store.h"
#include "store/store_int.h"

static void
store_reader_call(struct comm_call *call)
{
	struct store_reader *r = container_of(call, struct store_reader,
	    call);

	CHECK_OBJ_NOTNULL(r, STORE_READER_MAGIC);
	r->told_reply = (r->entry->flags & STORE_F_REPLY) != 0;
	r->fn(r, r->arg);
}

void
store_reader_open(struct store_reader *r, struct store_entry *e,
    struct comm_loop *loop, store_reader_fn *fn, void *arg)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	AN(loop);
	AN(fn);
	r->magic = STORE_READER_MAGIC;
	r->entry = e;
	r->loop = loop;
	r->fn = fn;
	r->arg = arg;
	r->armed = false;
	r->told_reply = false;
	r->hint_slice = 0;
	r->hint_start = 0;
	comm_call_init(&r->call, store_reader_call);
	store_entry_ref(e);
	r->linked = !store_sealed(e);
	r->interim_next = 0;
	if (r->linked) {
		r->off = e->u.live->body_start;
		/* Interim replies came for the requests waiting then. */
		if (e->flags & STORE_F_REPLY)
			r->interim_next = e->u.live->ninterim;
		list_insert_tail(&e->u.live->readers, &r->link);
	} else
		r->off = 0;
	e->nreaders++;
}

void
store_reader_close(struct store_reader *r)
{
	struct store_entry *e;

	CHECK_OBJ_NOTNULL(r, STORE_READER_MAGIC);
	e = r->entry;
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	comm_call_cancel(&r->call);
	/* A reader of a live entry stays linked to its live part, which
	 * cannot be sealed (nor go) before the reader is gone. */
	if (r->linked) {
		list_remove(&r->link);
		store_interim_trim(e);
	}
	e->nreaders--;
	store_trim(e);
	r->magic = 0;
	r->entry = NULL;
	store_entry_unref(&e);
}

static bool
store_reader_has_news(const struct store_reader *r)
{
	const struct store_entry *e = r->entry;

	if (store_reader_interim_news(r))
		return (true);
	return ((e->flags & STORE_F_REPLY) && (!r->told_reply ||
	    r->off < store_body_end(e) || e->state != STORE_PENDING));
}

void
store_reader_wait(struct store_reader *r)
{
	CHECK_OBJ_NOTNULL(r, STORE_READER_MAGIC);
	if (comm_call_pending(&r->call))
		return;
	if (store_reader_has_news(r)) {
		r->armed = false;
		comm_call_post(r->loop, &r->call);
	} else {
		/* Only a live entry has news to come, and r is linked to
		 * it: an entry is live from new to sealed, and sealed only
		 * once it is COMPLETE with no reader left. */
		CHECK(r->linked);
		r->armed = true;
	}
}

/*
 * Append n bytes from body offset r->off of a live entry to out as
 * references; returns the count (short only on ENOMEM).  While nothing
 * was ever dropped from the front (body_start 0), slice i always starts
 * at the same offset: merging only lengthens the last slice.  So the
 * reader remembers the slice it stopped in and starts there next time.
 * Once a window drops bytes the chain holds at most a window, and the
 * scan starts at the front, which is where the slowest reader is.
 */
static size_t
store_chain_range(struct store_reader *r, size_t n, struct buf_chain *out)
{
	const struct store_live *l = r->entry->u.live;
	const struct buf_chain *c = &l->body;
	const struct buf_slice *s;
	unsigned i = 0, ns = buf_chain_nslices(c);
	uint64_t pos = r->off - l->body_start, base = 0, in;
	size_t done = 0, take;

	if (l->body_start == 0 && r->hint_slice < ns &&
	    r->hint_start <= pos) {
		i = r->hint_slice;
		base = r->hint_start;
	}
	while (i < ns && done < n) {
		s = buf_chain_slice(c, i);
		if (pos >= base + s->len) {
			base += s->len;
			i++;
			continue;
		}
		in = pos - base;
		take = s->len - (size_t)in;
		if (take > n - done)
			take = n - done;
		if (buf_chain_append_slice(out, s->buf, s->off + (size_t)in,
		    take) != 0)
			break;
		done += take;
		pos += take;
		if (pos == base + s->len && i + 1 < ns) {
			base += s->len;
			i++;
		}
	}
	/* Never leave the hint past the last slice: that one may still
	 * grow, and the start of a slice after it is not known yet. */
	if (i >= ns && ns > 0) {
		i = ns - 1;
		base -= buf_chain_slice(c, i)->len;
	}
	if (l->body_start == 0) {
		r->hint_slice = i;
		r->hint_start = base;
	}
	return (done);
}

size_t
store_reader_read(struct store_reader *r, struct buf_chain *out, size_t max)
{
	struct store_entry *e;
	size_t avail, n;

	CHECK_OBJ_NOTNULL(r, STORE_READER_MAGIC);
	e = r->entry;
	if (r->linked) {
		/* On the body: any interim reply left is past. */
		r->interim_next = e->u.live->ninterim;
		store_interim_trim(e);
	}
	if (r->off >= store_body_end(e))	/* a seek may go past it */
		return (0);
	avail = (size_t)(store_body_end(e) - r->off);
	n = avail < max ? avail : max;
	if (store_sealed(e)) {
		/* One slice of obj: the reply's block is the body's. */
		if (buf_chain_append_slice(out, store_obj(e),
		    store_obj_body_off(e) + (size_t)r->off, n) != 0)
			n = 0;
	} else
		n = store_chain_range(r, n, out);
	r->off += n;
	store_trim(e);
	return (n);
}

/* Bytes a window dropped are gone: a cursor may go back only as far as
 * body_start (asserted).  Forward it may go past what has arrived; reads
 * then wait for the bytes.  Going back costs the hint: the next read
 * scans from the front once. */
void
store_reader_seek(struct store_reader *r, uint64_t off)
{
	struct store_entry *e;

	CHECK_OBJ_NOTNULL(r, STORE_READER_MAGIC);
	e = r->entry;
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK(store_sealed(e) || off >= e->u.live->body_start);
	if (off < r->hint_start) {
		r->hint_slice = 0;
		r->hint_start = 0;
	}
	r->off = off;
	store_trim(e);
}

bool
store_reader_done(const struct store_reader *r)
{
	CHECK_OBJ_NOTNULL(r, STORE_READER_MAGIC);
	return (r->entry->state == STORE_COMPLETE &&
	    r->off >= store_body_end(r->entry));
}
