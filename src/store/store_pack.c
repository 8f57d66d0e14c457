/*
 * store_pack.c - an entry's reply: packed when it may be cached (its
 * header bytes and the few scalars they do not say; no field table, no
 * struct http_msg), else kept whole as an owned view.  The shapes are
 * drawn in store_int.h.
 *
 *	store_entry_set_reply()		reply moved in: packed by
 *					store_rpack_new() when a view rebuilt
 *					from the pack reproduces it, else
 *					kept as parsed (STORE_F_VIEW_OWNED)
 *	store_entry_reply()		a view rebuilt from the pack
 *					(store_view_build()), on demand
 *	store_entry_update_reply()	a 304's header section replaces it
 *					(a sealed entry unsealed first)
 *	store_entry_unref()		to the index alone: a rebuilt view
 *					goes (store_obj.c)
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
struct http_msg *
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
