/*
 * store_obj.c - store entries and their readers.
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
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "store/store.h"
#include "store/store_int.h"

/* Slices up to this size are copied when a smaller block holds them. */
#define STORE_COPY_SMALL	16384u
/* Bodies up to this size are sealed (copied once more, into the block
 * that holds the reply and URL too): the per-object bytes matter for
 * small objects, and a large one is left in the blocks it came in. */
#define STORE_SEAL_MAX		STORE_COPY_SMALL

static comm_call_fn store_room_call;
static comm_call_fn store_reader_call;
static struct http_msg *store_view_build(const struct store_rpack *rp);
static void store_seal(struct store_entry *e);

/* -- the two shapes ------------------------------------------------------ */

static struct store_live *
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
static void
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

static void
store_live_free(struct store_entry *e)
{
	struct store_live *l = e->u.live;

	AN(l);
	CHECK(list_empty(&l->readers));
	comm_call_cancel(&l->room_call);
	store_reply_drop(e);
	store_interim_free_all(l);
	free(l->url);
	buf_chain_fini(&l->body);
	free(l);
	e->u.live = NULL;
}

/* An embedded entry starts a block's data: it must be aligned there. */
_Static_assert(offsetof(struct buf, data) %
    _Alignof(struct store_entry) == 0, "an entry must fit at buf data");

/* The block an embedded entry is the first bytes of. */
static struct buf *
store_obj(const struct store_entry *e)
{
	return ((struct buf *)(void *)((char *)(uintptr_t)e -
	    offsetof(struct buf, data)));
}

/* A sealed obj's packed reply (right after the entry), its URL, and
 * where its body starts in the block. */
static const struct store_rpack *
store_obj_rp(const struct store_entry *e)
{
	return ((const struct store_rpack *)(const void *)(e + 1));
}

static const char *
store_obj_url(const struct store_entry *e)
{
	const struct store_rpack *rp = store_obj_rp(e);

	return (rp->raw + rp->rawlen);
}

static uint32_t
store_obj_body_off(const struct store_entry *e)
{
	const struct store_rpack *rp = store_obj_rp(e);

	return ((uint32_t)(sizeof *e + offsetof(struct store_rpack, raw)) +
	    rp->rawlen + rp->urllen + 1u);
}

/* The packed reply, wherever it is; NULL for none or an owned view. */
static const struct store_rpack *
store_entry_rp(const struct store_entry *e)
{
	return (store_sealed(e) ? store_obj_rp(e) : e->u.live->rp);
}

/* The entry's memory goes: its block's own reference, or its malloc. */
static void
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

/*
 * Seal e (COMPLETE, live, held by its index alone: nobody but the index
 * has a pointer to it or into its live part): one exact block takes the
 * entry itself, the packed reply, the URL and the body; the index is
 * pointed at the copy, and the old entry, its live part and its blocks
 * go.  An entry that cannot be sealed (its reply not packed, a window,
 * a body too big, ENOMEM) stays as it is, and is served the same.
 */
static void
store_seal(struct store_entry *e)
{
	struct store_live *l = e->u.live;
	const struct buf_slice *sl;
	struct store_entry *ne;
	struct store_rpack *np;
	struct buf *obj;
	uint64_t old, need, blen = buf_chain_len(&l->body);
	size_t ulen = l->url != NULL ? strlen(l->url) : 0, head;
	unsigned i, ns = buf_chain_nslices(&l->body);

	if (l->rp == NULL || l->window != 0 || l->body_start != 0 ||
	    l->room_fn != NULL || e->nreaders != 0 || ulen > UINT16_MAX ||
	    blen > STORE_SEAL_MAX)
		return;
	head = offsetof(struct store_rpack, raw) + l->rp->rawlen;
	need = sizeof *e + head + ulen + 1 + blen;
	old = store_entry_mem(e);
	/* Never more than it holds live: sealing only ever gives back. */
	if (sizeof *obj + need > old)
		return;
	obj = buf_alloc_exact(l->body.pool, (size_t)need);
	if (obj == NULL)
		return;
	buf_append(obj, e, sizeof *e);
	buf_append(obj, l->rp, head);
	buf_append(obj, l->url, ulen);
	buf_append(obj, "", 1);
	for (i = 0; i < ns; i++) {
		sl = buf_chain_slice(&l->body, i);
		buf_append(obj, buf_slice_ptr(sl), sl->len);
	}
	ne = (struct store_entry *)(void *)buf_data(obj);
	np = (struct store_rpack *)(void *)(ne + 1);
	np->urllen = (uint16_t)ulen;
	ne->u.view = NULL;
	ne->flags = (uint8_t)((e->flags & ~STORE_F_OWN_TAIL) |
	    STORE_F_SEALED | STORE_F_EMBEDDED);
	store_index_moved(e, ne);
	store_live_free(e);
	store_entry_free_mem(e);
	store_index_shrunk(ne, old);
}

/* Back to live, for a change a sealed obj cannot take in place: reply
 * and URL become own copies, the body a slice of the block, which the
 * entry (embedded in it) keeps.  The caller holds e (it is not idle),
 * so it seals again, into a new block, once it is.  0 or -ENOMEM (e is
 * left sealed). */
static int
store_unseal(struct store_entry *e)
{
	const struct store_rpack *orp = store_obj_rp(e);
	size_t head = offsetof(struct store_rpack, raw) + orp->rawlen;
	struct buf *obj = store_obj(e);
	uint32_t off = store_obj_body_off(e);
	struct store_live *l;
	uint64_t old = store_entry_mem(e);

	l = store_live_new(e, NULL, obj->pool);
	if (l == NULL)
		return (-ENOMEM);
	l->rp = malloc(head);
	if (orp->urllen > 0)
		l->url = strndup(store_obj_url(e), orp->urllen);
	if (l->rp == NULL || (orp->urllen > 0 && l->url == NULL) ||
	    (obj->fill > off && buf_chain_append_slice(&l->body, obj, off,
	    obj->fill - off) != 0)) {
		free(l->rp);
		free(l->url);
		buf_chain_fini(&l->body);
		free(l);
		return (-ENOMEM);
	}
	memcpy(l->rp, orp, head);
	l->rp->urllen = 0;
	l->content_length = obj->fill - off;
	/* body_mem stays 0: the block is counted as the entry's own. */
	/* A view handed out stays valid for its holders: the same struct,
	 * its raw moved to the same bytes in the new pack. */
	l->view = e->u.view;
	if (l->view != NULL)
		l->view->raw = l->rp->raw;
	e->u.live = l;
	e->flags &= ~STORE_F_SEALED;
	if (e->idx != NULL)
		store_index_charge(e, old);
	return (0);
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

/* The view is a cache of what the pack says: building it changes
 * nothing a caller can see, hence the const entry. */
const struct http_msg *
store_entry_reply(const struct store_entry *ce)
{
	struct store_entry *e = (struct store_entry *)(uintptr_t)ce;
	struct http_msg **vp;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (!(e->flags & STORE_F_REPLY))
		return (NULL);
	vp = store_sealed(e) ? &e->u.view : &e->u.live->view;
	if (*vp == NULL && store_entry_rp(e) != NULL)
		*vp = store_view_build(store_entry_rp(e)); /* NULL: ENOMEM */
	return (*vp);
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

/* -- the reply --------------------------------------------------------- */

/*
 * Rebuild the field table of a header section into m (fields has room
 * for nfields): after the status line, one field a line up to the empty
 * line (or the end); a name ends at its colon, a value is trimmed of SP
 * and HTAB, as the parser trims it, and the per-id chains of known
 * fields are linked as the parser links them.  -1 when the bytes do not
 * give nfields fields.
 * Only what the parser accepted gets here, and a reply is packed only
 * when this reproduces its table exactly (store_rpack_new()).
 */
static int
store_view_fields(struct http_msg *m, uint16_t nfields)
{
	const char *raw = m->raw, *end = raw + m->rawlen, *p, *nl, *colon;
	const char *v, *ve;
	uint16_t n = 0, last[HTTP_HDR__COUNT];
	struct http_field *f;

	memset(last, 0, sizeof last);
	p = m->rawlen > 0 ? memchr(raw, '\n', m->rawlen) : NULL;
	if (p == NULL)
		return (-1);
	for (p++; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL || nl == p || nl[-1] != '\r')
			return (-1);
		if (nl - 1 == p)
			break;			/* the empty line */
		colon = memchr(p, ':', (size_t)(nl - 1 - p));
		if (colon == NULL || colon == p || n == nfields)
			return (-1);
		v = colon + 1;
		ve = nl - 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		f = &m->fields[n++];
		f->name = (struct http_span){ (uint32_t)(p - raw),
		    (uint32_t)(colon - p) };
		f->value = (struct http_span){ (uint32_t)(v - raw),
		    (uint32_t)(ve - v) };
		f->id = (uint16_t)http_hdr_lookup(p, (size_t)(colon - p));
		f->next = 0;
		if (f->id == HTTP_HDR_OTHER)
			continue;	/* no chain: nobody looks them up */
		if (m->first[f->id] == 0)
			m->first[f->id] = n;
		else
			m->fields[last[f->id] - 1].next = n;
		last[f->id] = n;
	}
	if (n != nfields)
		return (-1);
	m->nfields = n;
	return (0);
}

/* The status line as the parser took it: "HTTP/" DIGIT "." DIGIT SP
 * 3DIGIT, then SP and a reason up to CR, if any (the parser leaves an
 * empty reason at {0, 0}).  -1 when raw does not start so. */
static int
store_view_status(struct http_msg *m)
{
	const char *r = m->raw, *cr;

#define STORE_DIGIT(c)	((c) >= '0' && (c) <= '9')
	if (m->rawlen < 14 || memcmp(r, "HTTP/", 5) != 0 ||
	    !STORE_DIGIT(r[5]) || r[6] != '.' || !STORE_DIGIT(r[7]) ||
	    r[8] != ' ' || !STORE_DIGIT(r[9]) || !STORE_DIGIT(r[10]) ||
	    !STORE_DIGIT(r[11]))
		return (-1);
#undef STORE_DIGIT
	cr = memchr(r, '\r', m->rawlen);
	if (cr == NULL || cr < r + 12)
		return (-1);
	m->vmajor = (uint8_t)(r[5] - '0');
	m->vminor = (uint8_t)(r[7] - '0');
	m->status = (uint16_t)((r[9] - '0') * 100 + (r[10] - '0') * 10 +
	    (r[11] - '0'));
	if (r[12] == ' ' && cr > r + 13)
		m->reason = (struct http_span){ 13, (uint32_t)(cr - r - 13) };
	return (0);
}

/* Content-Length as the parser reads it (one decimal number; llhttp
 * refuses lists and duplicates), or 0 without one.  A reply this does
 * not reproduce is not packed (store_rpack_new() compares). */
static uint64_t
store_view_length(const struct http_msg *m)
{
	const struct http_field *f;
	uint64_t v = 0;
	uint32_t i;

	if (m->first[HTTP_HDR_CONTENT_LENGTH] == 0)
		return (0);
	f = &m->fields[m->first[HTTP_HDR_CONTENT_LENGTH] - 1];
	for (i = 0; i < f->value.len; i++) {
		char c = m->raw[f->value.off + i];

		if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10)
			return (0);
		v = v * 10 + (uint64_t)(c - '0');
	}
	return (v);
}

/*
 * A view of a packed reply: one allocation, the struct then its table;
 * raw points into rp.  Freed with free() alone.  NULL on ENOMEM, or
 * when the bytes are not a header section as the parser leaves one.
 * The pack keeps only what the bytes do not say (the framing the parser
 * chose, keep-alive); the status line, the fields, and Content-Length
 * are read again from the bytes.
 */
static struct http_msg *
store_view_build(const struct store_rpack *rp)
{
	struct http_msg *m;
	const char *p = rp->raw, *end = rp->raw + rp->rawlen;
	size_t lines = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p++;
	}
	/* The status line and the empty line are not fields. */
	if (lines < 2 || lines - 2 > UINT16_MAX)
		return (NULL);
	m = malloc(sizeof *m + (lines - 2) * sizeof *m->fields);
	if (m == NULL)
		return (NULL);
	http_msg_init(m, HTTP_MSG_RESPONSE);
	m->raw = (char *)(uintptr_t)rp->raw;	/* nobody writes a view */
	m->rawlen = rp->rawlen;
	m->fields = (struct http_field *)(void *)(m + 1);
	m->fieldcap = (uint16_t)(lines - 2);
	if (store_view_status(m) != 0 ||
	    store_view_fields(m, (uint16_t)(lines - 2)) != 0) {
		free(m);
		return (NULL);
	}
	m->body = rp->body;
	m->keep_alive = rp->keep_alive != 0;
	m->content_length = store_view_length(m);
	return (m);
}

static bool
store_view_same(const struct http_msg *v, const struct http_msg *m)
{
	return (v->kind == m->kind && v->vmajor == m->vmajor &&
	    v->vminor == m->vminor && v->method == m->method &&
	    v->status == m->status && v->nfields == m->nfields &&
	    memcmp(&v->method_name, &m->method_name, sizeof v->method_name)
	    == 0 && memcmp(&v->target, &m->target, sizeof v->target) == 0 &&
	    memcmp(&v->reason, &m->reason, sizeof v->reason) == 0 &&
	    v->body == m->body && v->keep_alive == m->keep_alive &&
	    v->expect_continue == m->expect_continue &&
	    v->content_length == m->content_length &&
	    v->rawlen == m->rawlen &&
	    memcmp(v->raw, m->raw, m->rawlen) == 0 &&
	    (m->nfields == 0 ||	/* no table at all: fields is NULL */
	    memcmp(v->fields, m->fields, m->nfields * sizeof *m->fields)
	    == 0) && memcmp(v->first, m->first, sizeof v->first) == 0);
}

/* msg packed, or NULL when it cannot be (ENOMEM, or a view rebuilt from
 * the pack would not be msg). */
static struct store_rpack *
store_rpack_new(const struct http_msg *msg)
{
	struct store_rpack *rp;
	struct http_msg *v;
	bool same;

	if (msg->kind != HTTP_MSG_RESPONSE || msg->rawlen == 0)
		return (NULL);
	rp = malloc(offsetof(struct store_rpack, raw) + msg->rawlen);
	if (rp == NULL)
		return (NULL);
	rp->rawlen = msg->rawlen;
	rp->urllen = 0;
	rp->body = msg->body;
	rp->keep_alive = msg->keep_alive;
	memcpy(rp->raw, msg->raw, msg->rawlen);
	v = store_view_build(rp);
	same = v != NULL && store_view_same(v, msg);
	free(v);
	if (!same) {
		free(rp);
		return (NULL);
	}
	return (rp);
}

/* A parser leaves room to grow in raw (doubling from 512) and in the
 * field table (16 at a time); a reply kept whole never grows again, so
 * give the slack back. */
static void
store_reply_shrink(struct http_msg *m)
{
	struct http_field *f;
	char *raw;

	if (m->rawlen > 0 && m->rawcap > m->rawlen) {
		raw = realloc(m->raw, m->rawlen);
		if (raw != NULL) {
			m->raw = raw;
			m->rawcap = m->rawlen;
		}
	}
	if (m->nfields > 0 && m->fieldcap > m->nfields) {
		f = realloc(m->fields, m->nfields * sizeof *f);
		if (f != NULL) {
			m->fields = f;
			m->fieldcap = m->nfields;
		}
	}
}

/* Move *msg into live e, in place of any reply before: packed when it
 * may be cached (window 0), else kept whole; msg is left initialised.
 * 0, or -ENOMEM (the old reply is kept, msg is emptied all the same). */
static int
store_reply_take(struct store_entry *e, struct http_msg *msg)
{
	struct store_live *l = e->u.live;
	struct store_rpack *rp = NULL;
	struct http_msg *v = NULL;
	uint64_t msg_cl = msg->content_length;

	if (l->window == 0)
		rp = store_rpack_new(msg);
	if (rp == NULL) {
		v = malloc(sizeof *v);
		if (v == NULL) {
			http_msg_fini(msg);
			http_msg_init(msg, HTTP_MSG_RESPONSE);
			return (-ENOMEM);
		}
		*v = *msg;
		if (l->window == 0)
			store_reply_shrink(v);
	} else
		http_msg_fini(msg);
	http_msg_init(msg, HTTP_MSG_RESPONSE);
	store_reply_drop(e);
	l->rp = rp;
	l->content_length = msg_cl;
	l->view = v;
	if (v != NULL)
		e->flags |= STORE_F_VIEW_OWNED;
	return (0);
}

bool
store_entry_length(const struct store_entry *e, uint64_t *cl)
{
	const struct store_rpack *rp;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	rp = store_entry_rp(e);
	if (rp != NULL && rp->body == HTTP_BODY_LENGTH) {
		/* Sealed is complete and cached: the body is what the
		 * reply said (anything else was never stored). */
		*cl = store_sealed(e) ? store_body_end(e) :
		    e->u.live->content_length;
		return (true);
	}
	if ((e->flags & STORE_F_VIEW_OWNED) &&
	    e->u.live->view->body == HTTP_BODY_LENGTH) {
		*cl = e->u.live->view->content_length;
		return (true);
	}
	return (false);
}

void
store_entry_set_reply(struct store_entry *e, struct http_msg *msg)
{
	uint64_t old;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	CHECK(!(e->flags & STORE_F_REPLY) && e->state == STORE_PENDING);
	CHECK(msg->kind == HTTP_MSG_RESPONSE);
	old = store_entry_mem(e);
	store_entry_ref(e);	/* the index may let go of it */
	e->flags |= STORE_F_REPLY;
	if (store_reply_take(e, msg) != 0) {
		/* No reply to serve: the rest of the writer's calls find
		 * the entry aborted and change nothing. */
		store_entry_abort(e, STORE_ERR_NOMEM, ENOMEM);
		store_entry_unref(&e);
		return;
	}
	if (e->idx != NULL)
		store_index_charge(e, old);	/* Content-Length > max_obj */
	if (!store_sealed(e))
		store_interim_trim(e);
	store_notify_readers(e);
	store_entry_unref(&e);
}

void
store_entry_update_reply(struct store_entry *e, struct http_msg *msg,
    const struct http_cache_meta *meta)
{
	uint64_t old;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	CHECK(e->flags & STORE_F_REPLY);
	CHECK(msg->kind == HTTP_MSG_RESPONSE);
	if (store_sealed(e) && store_unseal(e) != 0) {
		http_msg_fini(msg);		/* as reply_take on ENOMEM */
		http_msg_init(msg, HTTP_MSG_RESPONSE);
		return;		/* the stored reply stays as it was */
	}
	old = store_entry_mem(e);
	if (store_reply_take(e, msg) != 0)
		return;		/* the stored reply stays as it was */
	if (meta != NULL)
		e->meta = *meta;
	if (e->idx != NULL) {
		store_entry_ref(e);	/* the index may let go of it */
		store_index_charge(e, old);
		store_entry_unref(&e);
	}
}

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

static void
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
static void
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

/* -- readers ------------------------------------------------------------- */

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
