/*
 * store_obj.c - store entries and their readers.
 *
 * Body bytes live in a chain; body_start is the offset of its first byte
 * (non-zero only for private entries, which drop what every reader has
 * passed).  Readers are told about progress through their comm_call, so
 * the writer's store_entry_*() calls never run reader code inline.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "base/check.h"
#include "store/store.h"

struct store_entry {
	unsigned		magic;
#define STORE_ENTRY_MAGIC	0x57e0e471U
	unsigned		refs;
	uint8_t			state;		/* enum store_state */
	uint8_t			err;		/* enum store_err */
	int			sys_errno;
	bool			has_reply;
	struct comm_loop	*loop;
	size_t			window;		/* 0: keep everything */
	struct http_msg		reply;
	struct buf_chain	body;		/* [body_start, body_end) */
	uint64_t		body_start;
	uint64_t		body_end;
	struct list		readers;
	unsigned		nreaders;
	store_room_fn		*room_fn;
	void			*room_arg;
	struct comm_call	room_call;
};

static comm_call_fn store_room_call;
static comm_call_fn store_reader_call;

struct store_entry *
store_entry_new(struct comm_loop *loop, struct buf_pool *pool, size_t window)
{
	struct store_entry *e;

	ALLOC_OBJ(e, STORE_ENTRY_MAGIC);
	if (e == NULL)
		return (NULL);
	e->refs = 1;
	e->loop = loop;
	e->window = window;
	e->state = STORE_PENDING;
	http_msg_init(&e->reply, HTTP_MSG_RESPONSE);
	buf_chain_init(&e->body, pool);
	list_init(&e->readers);
	comm_call_init(&e->room_call, store_room_call);
	return (e);
}

void
store_entry_ref(struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	e->refs++;
}

void
store_entry_unref(struct store_entry **ep)
{
	struct store_entry *e;

	if (*ep == NULL)
		return;
	TAKE_OBJ_NOTNULL(e, ep, STORE_ENTRY_MAGIC);
	CHECK(e->refs > 0);
	if (--e->refs > 0)
		return;
	AZ(e->nreaders);		/* each reader holds a reference */
	comm_call_cancel(&e->room_call);
	http_msg_fini(&e->reply);
	buf_chain_fini(&e->body);
	FREE_OBJ(e);
}

enum store_state
store_entry_state(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return ((enum store_state)e->state);
}

const struct http_msg *
store_entry_reply(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return (e->has_reply ? &e->reply : NULL);
}

uint64_t
store_entry_body_len(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return (e->body_end);
}

unsigned
store_entry_nreaders(const struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	return (e->nreaders);
}

/* Something a waiting reader would want to see: post its call. */
static void
store_notify_readers(struct store_entry *e)
{
	struct list *n;
	struct store_reader *r;

	LIST_FOREACH(n, &e->readers) {
		r = container_of(n, struct store_reader, link);
		CHECK_OBJ(r, STORE_READER_MAGIC);
		if (r->armed && !comm_call_pending(&r->call)) {
			r->armed = false;
			comm_call_post(e->loop, &r->call);
		}
	}
}

void
store_entry_set_reply(struct store_entry *e, struct http_msg *msg)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	CHECK(!e->has_reply && e->state == STORE_PENDING);
	CHECK(msg->kind == HTTP_MSG_RESPONSE);
	http_msg_fini(&e->reply);
	e->reply = *msg;
	http_msg_init(msg, HTTP_MSG_RESPONSE);
	e->has_reply = true;
	store_notify_readers(e);
}

int
store_entry_append(struct store_entry *e, struct buf *b, size_t off,
    size_t len)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK(e->has_reply && e->state == STORE_PENDING);
	if (len == 0)
		return (0);
	if (buf_chain_append_slice(&e->body, b, off, len) != 0)
		return (-ENOMEM);
	e->body_end += len;
	store_notify_readers(e);
	return (0);
}

void
store_entry_complete(struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK(e->has_reply && e->state == STORE_PENDING);
	e->state = STORE_COMPLETE;
	store_notify_readers(e);
}

void
store_entry_abort(struct store_entry *e, enum store_err err, int sys_errno)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK(err < STORE_ERR__COUNT);
	if (e->state != STORE_PENDING)
		return;
	e->state = STORE_ABORTED;
	e->err = (uint8_t)err;
	e->sys_errno = sys_errno;
	store_notify_readers(e);
}

enum store_err
store_entry_error(const struct store_entry *e, int *sys_errno)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (sys_errno != NULL)
		*sys_errno = e->sys_errno;
	return ((enum store_err)e->err);
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

size_t
store_entry_room(const struct store_entry *e)
{
	uint64_t held;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (e->window == 0)
		return (SIZE_MAX);
	held = e->body_end - e->body_start;
	return (held >= e->window ? 0 : (size_t)(e->window - held));
}

void
store_entry_wait_room(struct store_entry *e, store_room_fn *fn, void *arg)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	e->room_fn = fn;
	e->room_arg = arg;
	comm_call_cancel(&e->room_call);
	if (fn != NULL && (store_entry_room(e) > 0 || e->nreaders == 0))
		comm_call_post(e->loop, &e->room_call);
}

static void
store_room_call(struct comm_call *call)
{
	struct store_entry *e = container_of(call, struct store_entry,
	    room_call);
	store_room_fn *fn;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	fn = e->room_fn;
	e->room_fn = NULL;
	if (fn != NULL)
		fn(e, e->room_arg);
}

/* A private entry drops the bytes every reader has passed, and tells a
 * waiting writer that there is room again. */
static void
store_trim(struct store_entry *e)
{
	struct list *n;
	struct store_reader *r;
	uint64_t low = e->body_end;

	if (e->window == 0)
		return;
	LIST_FOREACH(n, &e->readers) {
		r = container_of(n, struct store_reader, link);
		if (r->off < low)
			low = r->off;
	}
	if (low > e->body_start) {
		buf_chain_consume(&e->body, (size_t)(low - e->body_start));
		e->body_start = low;
	}
	if (e->room_fn != NULL && !comm_call_pending(&e->room_call) &&
	    (store_entry_room(e) > 0 || e->nreaders == 0))
		comm_call_post(e->loop, &e->room_call);
}

static void
store_reader_call(struct comm_call *call)
{
	struct store_reader *r = container_of(call, struct store_reader,
	    call);

	CHECK_OBJ_NOTNULL(r, STORE_READER_MAGIC);
	r->told_reply = r->entry->has_reply;
	r->fn(r, r->arg);
}

void
store_reader_open(struct store_reader *r, struct store_entry *e,
    store_reader_fn *fn, void *arg)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	AN(fn);
	r->magic = STORE_READER_MAGIC;
	r->entry = e;
	r->off = e->body_start;
	r->fn = fn;
	r->arg = arg;
	r->armed = false;
	r->told_reply = false;
	comm_call_init(&r->call, store_reader_call);
	store_entry_ref(e);
	list_insert_tail(&e->readers, &r->link);
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
	list_remove(&r->link);
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

	return (e->has_reply && (!r->told_reply || r->off < e->body_end ||
	    e->state != STORE_PENDING));
}

void
store_reader_wait(struct store_reader *r)
{
	CHECK_OBJ_NOTNULL(r, STORE_READER_MAGIC);
	if (comm_call_pending(&r->call))
		return;
	if (store_reader_has_news(r)) {
		r->armed = false;
		comm_call_post(r->entry->loop, &r->call);
	} else
		r->armed = true;
}

/* Append [skip, skip + n) of c to out as references; returns the count
 * appended (short only on ENOMEM).  A scan from the front: entries are
 * either private, and trimmed to a short window, or small in slices. */
static size_t
store_chain_range(const struct buf_chain *c, size_t skip, size_t n,
    struct buf_chain *out)
{
	const struct buf_slice *s;
	size_t done = 0, take;
	unsigned i;

	for (i = 0; i < buf_chain_nslices(c) && done < n; i++) {
		s = buf_chain_slice(c, i);
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		take = s->len - skip;
		if (take > n - done)
			take = n - done;
		if (buf_chain_append_slice(out, s->buf, s->off + skip,
		    take) != 0)
			break;
		done += take;
		skip = 0;
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
	avail = (size_t)(e->body_end - r->off);
	n = store_chain_range(&e->body, (size_t)(r->off - e->body_start),
	    avail < max ? avail : max, out);
	r->off += n;
	store_trim(e);
	return (n);
}

bool
store_reader_done(const struct store_reader *r)
{
	CHECK_OBJ_NOTNULL(r, STORE_READER_MAGIC);
	return (r->entry->state == STORE_COMPLETE &&
	    r->off == r->entry->body_end);
}
