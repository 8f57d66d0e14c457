/*
 * client_disk.c - the disk stores (cache_dir) below the memory cache.
 *
 *	LOOKUP, memory miss --> client_disk_start: the key on disk? --+
 *	    (no: a miss as before)                                    |
 *	    parked (WAIT) <-------------------------------------------+
 *	client_disk_got --> the entry rebuilt, indexed in memory, kept
 *	    in t->disk_e --> LOOKUP again: served by the same code as a
 *	    memory hit (fresh, stale, revalidated), logged TCP_HIT; a read
 *	    that failed its checks is a miss, TCP_SWAPFAIL_MISS
 *	a fetch done, entry complete and in memory --> client_disk_put
 *	a fill larger than memory takes --> client_disk_fill: written as
 *	    it arrives, chunk records, the head when it completes
 *	PURGE, invalidation --> client_disk_purge: a tombstone
 *
 * Which store holds a key is the key's: its first 8 bytes modulo the
 * number of stores, so that several cache_dir lines share the objects.
 *
 * What a head record's "reply headers" hold here: a 28-byte prefix, the
 * entry's freshness figures (struct http_cache_meta: "CDM1", then six
 * 32-bit little-endian words in its order), then the reply's header
 * section as cuttle stored it (status line, every field, blank line), so
 * that a restart serves the reply with the age and lifetime it had.
 * Objects with Vary are not written: their variants' keys hang on a
 * marker that lives in memory only.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "client/client_int.h"
#include "disk/disk.h"

#define DISK_META_MAGIC		"CDM1"
#define DISK_META_LEN		28u

static struct disk_store *
client_disk_of(const struct client_ctx *ctx, const struct store_key *k)
{
	uint64_t h;

	if (ctx->deps.ndisks == 0)
		return (NULL);
	memcpy(&h, k->b, sizeof h);
	return (ctx->deps.disks[h % ctx->deps.ndisks]);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

static void
meta_encode(const struct http_cache_meta *m, uint8_t *p)
{
	memcpy(p, DISK_META_MAGIC, 4);
	put32(p + 4, m->response_time);
	put32(p + 8, m->lifetime);
	put32(p + 12, m->corrected_initial_age);
	put32(p + 16, (uint32_t)m->stale_while_revalidate);
	put32(p + 20, (uint32_t)m->stale_if_error);
	put32(p + 24, m->flags & ~(uint32_t)HCM_REVALIDATING);
}

static bool
meta_decode(struct http_cache_meta *m, const uint8_t *p, size_t len)
{
	if (len < DISK_META_LEN || memcmp(p, DISK_META_MAGIC, 4) != 0)
		return (false);
	m->response_time = get32(p + 4);
	m->lifetime = get32(p + 8);
	m->corrected_initial_age = get32(p + 12);
	m->stale_while_revalidate = (int32_t)get32(p + 16);
	m->stale_if_error = (int32_t)get32(p + 20);
	m->flags = get32(p + 24);
	return (!(m->flags & HCM_VARY_MARKER));
}

/* The prefix and rep's header section into a new block of *len bytes;
 * NULL on ENOMEM. */
static char *
client_disk_hdrs(const struct http_msg *rep, const struct http_cache_meta *m,
    size_t *len)
{
	size_t cap = DISK_META_LEN + 32 + rep->reason.len + 2, n;
	const struct http_field *f;
	uint16_t i;
	char *p;

	for (i = 0; i < rep->nfields; i++)
		cap += rep->fields[i].name.len + rep->fields[i].value.len + 4;
	p = malloc(cap);
	if (p == NULL)
		return (NULL);
	meta_encode(m, (uint8_t *)p);
	n = DISK_META_LEN;
	n += (size_t)snprintf(p + n, cap - n, "HTTP/1.%u %u %.*s\r\n",
	    rep->vminor, rep->status, (int)rep->reason.len,
	    http_msg_ptr(rep, rep->reason));
	for (i = 0; i < rep->nfields; i++) {
		f = &rep->fields[i];
		memcpy(p + n, http_msg_ptr(rep, f->name), f->name.len);
		n += f->name.len;
		p[n++] = ':';
		p[n++] = ' ';
		memcpy(p + n, http_msg_ptr(rep, f->value), f->value.len);
		n += f->value.len;
		p[n++] = '\r';
		p[n++] = '\n';
	}
	p[n++] = '\r';
	p[n++] = '\n';
	CHECK(n <= cap);
	*len = n;
	return (p);
}

/* A reader that is never armed: the body is read once, whole. */
static void
client_disk_unused(struct store_reader *r, void *arg)
{
	(void)r;
	(void)arg;
	WRONG("a disk copy's reader was told of progress");
}

void
client_disk_put(struct client_ctx *ctx, struct store_entry *e)
{
	const struct http_msg *rep = store_entry_reply(e);
	const struct store_key *k = store_entry_key(e);
	struct disk_store *ds = client_disk_of(ctx, k);
	struct store_reader r;
	struct buf_chain body;
	struct disk_obj o;
	char *hdrs;
	uint8_t *bytes = NULL;
	const char *url = store_entry_url(e);
	size_t hlen;
	int err;

	if (ds == NULL || rep == NULL || url == NULL ||
	    http_msg_field(rep, HTTP_HDR_VARY) != NULL ||
	    (store_entry_meta(e)->flags & HCM_VARY_MARKER))
		return;
	hdrs = client_disk_hdrs(rep, store_entry_meta(e), &hlen);
	if (hdrs == NULL)
		return;
	/* The record is one contiguous run: the body copied once here. */
	buf_chain_init(&body, comm_loop_pool(ctx->deps.loop));
	store_reader_open(&r, e, ctx->deps.loop, client_disk_unused, NULL);
	(void)store_reader_read(&r, &body, SIZE_MAX);
	store_reader_close(&r);
	if (buf_chain_len(&body) != store_entry_body_len(e) ||
	    (buf_chain_len(&body) > 0 &&
	    (bytes = malloc(buf_chain_len(&body))) == NULL)) {
		buf_chain_fini(&body);
		free(hdrs);
		return;
	}
	memset(&o, 0, sizeof o);
	memcpy(o.key, k->b, DISK_KEY_LEN);
	o.url = url;
	o.url_len = strlen(url);
	o.hdrs = hdrs;
	o.hdr_len = hlen;
	o.body_len = buf_chain_copyout(&body, 0, bytes,
	    buf_chain_len(&body));
	o.body = bytes;
	err = disk_store_put(ds, &o);
	if (err != 0)
		log_msg(LG_DEBUG, SEC_STORE, "%s: not written to disk: %s", url,
		    strerror(-err));
	buf_chain_fini(&body);
	free(bytes);
	free(hdrs);
}

/*
 * A fill too large for memory (its Content-Length over
 * maximum_object_size_in_memory) goes to disk as it arrives: a reader of
 * its entry that takes every byte as it comes (it never holds the
 * window back) and appends it to a disk put in pieces, whose head is
 * written when the entry completes.  An abort, a short body or a full
 * write queue leave nothing indexed.  The writer owns itself and ends
 * with the entry.
 */
struct client_disk_writer {
	unsigned		magic;
#define CLIENT_DISK_WRITER_MAGIC	0xc11d15c7U
	struct store_reader	r;
	struct disk_put		*put;
	struct buf_chain	chain;
};

static void
writer_free(struct client_disk_writer *w)
{
	disk_put_abort(&w->put);
	store_reader_close(&w->r);
	buf_chain_fini(&w->chain);
	FREE_OBJ(w);
}

static void
writer_finish(struct client_disk_writer *w, struct store_entry *e)
{
	const struct http_msg *rep = store_entry_reply(e);
	const char *url = store_entry_url(e);
	struct disk_obj o;
	char *hdrs;
	size_t hlen;
	int err = -ENOMEM;

	hdrs = rep != NULL && url != NULL ?
	    client_disk_hdrs(rep, store_entry_meta(e), &hlen) : NULL;
	if (hdrs != NULL) {
		memset(&o, 0, sizeof o);
		o.url = url;
		o.url_len = strlen(url);
		o.hdrs = hdrs;
		o.hdr_len = hlen;
		err = disk_put_finish(&w->put, &o);
		free(hdrs);
	}
	if (err != 0)
		log_msg(LG_DEBUG, SEC_STORE, "%s: not written to disk: %s",
		    url != NULL ? url : "?", strerror(-err));
}

static void
writer_progress(struct store_reader *r, void *arg)
{
	struct client_disk_writer *w = arg;
	struct store_entry *e = r->entry;
	const struct buf_slice *sl;
	unsigned i;
	int err = 0;

	CHECK_OBJ_NOTNULL(w, CLIENT_DISK_WRITER_MAGIC);
	if (store_entry_state(e) == STORE_ABORTED ||
	    store_entry_private(e)) {
		writer_free(w);
		return;
	}
	(void)store_reader_read(r, &w->chain, SIZE_MAX);
	for (i = 0; i < buf_chain_nslices(&w->chain) && err == 0; i++) {
		sl = buf_chain_slice(&w->chain, i);
		err = disk_put_append(w->put, buf_data(sl->buf) + sl->off,
		    sl->len);
	}
	buf_chain_consume(&w->chain, buf_chain_len(&w->chain));
	if (err != 0) {
		log_msg(LG_DEBUG, SEC_STORE, "%s: not written to disk: %s",
		    store_entry_url(e), strerror(-err));
		writer_free(w);
		return;
	}
	if (store_reader_done(r)) {
		writer_finish(w, e);
		writer_free(w);
		return;
	}
	store_reader_wait(r);
}

void
client_disk_fill(struct client_ctx *ctx, struct store_entry *e,
    const struct http_msg *rep, const struct store_key *k)
{
	const struct conf *conf = ctx->deps.conf;
	struct disk_store *ds = client_disk_of(ctx, k);
	struct client_disk_writer *w;
	int err;

	if (ds == NULL || rep == NULL || rep->body != HTTP_BODY_LENGTH ||
	    conf->maximum_object_size_in_memory == 0 ||
	    rep->content_length <= conf->maximum_object_size_in_memory ||
	    (conf->maximum_object_size > 0 &&
	    rep->content_length > conf->maximum_object_size) ||
	    http_msg_field(rep, HTTP_HDR_VARY) != NULL ||
	    store_entry_private(e))
		return;
	ALLOC_OBJ(w, CLIENT_DISK_WRITER_MAGIC);
	if (w == NULL)
		return;
	w->put = disk_put_begin(ds, k->b, rep->content_length, &err);
	if (w->put == NULL) {
		log_msg(LG_DEBUG, SEC_STORE, "%s: not written to disk: %s",
		    store_entry_url(e), strerror(-err));
		FREE_OBJ(w);
		return;
	}
	buf_chain_init(&w->chain, comm_loop_pool(ctx->deps.loop));
	store_reader_open(&w->r, e, ctx->deps.loop, writer_progress, w);
	store_reader_wait(&w->r);
}

bool
client_disk_purge(struct client_ctx *ctx, const struct store_key *k)
{
	struct disk_store *ds = client_disk_of(ctx, k);

	if (ds == NULL || !disk_store_has(ds, k->b))
		return (false);
	return (disk_store_purge(ds, k->b) == 0);
}

/* What was read, as a complete entry indexed in memory; NULL when it is
 * not what t asked for or will not parse (a miss then). */
static struct store_entry *
client_disk_entry(struct client_txn *t, const struct disk_got *got)
{
	struct client_ctx *ctx = t->cc->ctx;
	const struct conf *conf = ctx->deps.conf;
	const uint8_t *h = (const uint8_t *)got->hdrs;
	struct http_cache_meta meta;
	enum http_parse_status ps;
	struct http_parser *p;
	struct store_entry *e;
	struct http_msg msg;
	size_t used = 0, i;
	const struct buf_slice *s;

	if (got->url_len != t->curl_len ||
	    memcmp(got->url, t->curl, t->curl_len) != 0 ||
	    !meta_decode(&meta, h, got->hdr_len))
		return (NULL);
	p = http_parser_new(HTTP_MSG_RESPONSE, got->hdr_len);
	if (p == NULL)
		return (NULL);
	http_msg_init(&msg, HTTP_MSG_RESPONSE);
	http_parser_start(p, &msg, false);
	ps = http_parse(p, got->hdrs + DISK_META_LEN,
	    got->hdr_len - DISK_META_LEN, &used, NULL, NULL);
	http_parser_free(&p);
	if ((ps != HTTP_PARSE_HEADERS && ps != HTTP_PARSE_DONE) ||
	    used != got->hdr_len - DISK_META_LEN ||
	    (msg.body == HTTP_BODY_LENGTH &&
	    msg.content_length != buf_chain_len(&got->body))) {
		http_msg_fini(&msg);
		return (NULL);
	}
	e = store_entry_new(ctx->deps.loop, comm_loop_pool(ctx->deps.loop), 0);
	if (e == NULL || store_entry_set_url(e, t->curl, t->curl_len) != 0) {
		http_msg_fini(&msg);
		store_entry_unref(&e);
		return (NULL);
	}
	store_entry_set_reply(e, &msg);
	http_msg_fini(&msg);
	*store_entry_meta(e) = meta;
	/* The body: slices of the records read, nothing copied. */
	for (i = 0; i < buf_chain_nslices(&got->body); i++) {
		s = buf_chain_slice(&got->body, (unsigned)i);
		if (store_entry_append(e, s->buf, s->off, s->len) != 0) {
			store_entry_unref(&e);
			return (NULL);
		}
	}
	store_entry_complete(e);
	/* Promoted: the next request for it is a memory hit. */
	if (conf->maximum_object_size_in_memory == 0 ||
	    buf_chain_len(&got->body) <= conf->maximum_object_size_in_memory)
		(void)store_index_add(ctx->deps.store, e, &t->key,
		    CLIENT_WINDOW);
	return (e);
}

static void
client_disk_got(int err, const struct disk_got *got, void *arg)
{
	struct client_txn *t = arg;
	struct store_entry *e = NULL;

	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	CHECK(t->disk_wait);
	t->disk_wait = false;
	if (t->state == TXN_DONE) {		/* the client went */
		client_txn_maybe_free(t);
		return;
	}
	if (err == 0)
		e = client_disk_entry(t, got);
	if (e == NULL) {
		t->disk_failed = true;
		log_msg(LG_INFO, SEC_STORE, "%s: disk read failed: %s",
		    t->curl, err != 0 ? strerror(-err) : "not what was asked");
	}
	t->disk_e = e;
	client_steps_resume(t);
}

bool
client_disk_start(struct client_txn *t)
{
	struct client_ctx *ctx = t->cc->ctx;
	struct disk_store *ds;

	if (t->disk_tried)
		return (false);
	t->disk_tried = true;
	ds = client_disk_of(ctx, &t->key);
	if (ds == NULL || disk_store_get_start(ds, t->key.b, client_disk_got,
	    t) != 0)
		return (false);
	t->disk_wait = true;
	return (true);
}
