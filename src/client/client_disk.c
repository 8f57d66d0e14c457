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
 *
 * Objects with Vary are written as the memory cache keeps them: the
 * URL's marker (flags HCM_VARY_MARKER, its reply "Vary: fields" and its
 * serial) under the URL's key, each variant under the key of the URL,
 * that serial and the request's values.  A lookup that finds a marker
 * on disk reads it, indexes it in memory, then looks its variant up in
 * memory and on disk.  Serials start from the clock at each start, so a
 * new marker never takes an older one's: a URL's variants stored under
 * a marker that was replaced or purged are never found again.
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
	return (true);
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
	const char *url = store_entry_url(e);
	size_t hlen;
	int err;

	if (ds == NULL || rep == NULL || url == NULL)
		return;
	hdrs = client_disk_hdrs(rep, store_entry_meta(e), &hlen);
	if (hdrs == NULL)
		return;
	/* The body as the entry's pages (references): the store copies it
	 * once, into its region buffer, or writes a large one's chunks
	 * from the pages themselves. */
	buf_chain_init(&body, comm_loop_pool(ctx->deps.loop));
	store_reader_open(&r, e, ctx->deps.loop, client_disk_unused, NULL);
	(void)store_reader_read(&r, &body, SIZE_MAX);
	store_reader_close(&r);
	if (buf_chain_len(&body) != store_entry_body_len(e)) {
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
	o.chain = &body;
	o.body_len = buf_chain_len(&body);
	err = disk_store_put(ds, &o);
	if (err != 0)
		log_msg(LG_DEBUG, SEC_STORE, "%s: not written to disk: %s", url,
		    strerror(-err));
	buf_chain_fini(&body);
	free(hdrs);
	/* memory_cache_mode disk: memory keeps only what disk hits bring
	 * (a marker stays: it is how the variants are found). */
	if (ctx->deps.conf->memory_cache_mode == CONF_MEM_DISK &&
	    !(store_entry_meta(e)->flags & HCM_VARY_MARKER))
		store_index_remove(ctx->deps.store, e);
}

/*
 * A fill too large for memory (its Content-Length over
 * maximum_object_size_in_memory) goes to disk as it arrives: a reader of
 * its entry that takes every byte as it comes (it never holds the
 * window back) and hands its pages to a disk put in pieces (referenced,
 * written from where they are, never copied), whose head is written
 * when the entry completes.  An abort, a short body or a full
 * write queue leave nothing indexed.  The writer owns itself and ends
 * with the entry.
 *
 * A reply without Content-Length (chunked, or delimited by the close)
 * gets such a writer too, from its first byte, as its length is not
 * known: it holds the bytes until they pass maximum_object_size_in_memory
 * (smaller, the entry stays in memory and is written whole when it
 * completes), then puts them in pieces, unsized, up to
 * maximum_object_size.  Its end is its completion: a chunked reply cut
 * before its last chunk, or a reply cut by a reset, is aborted and
 * leaves nothing on disk.
 */
struct client_disk_writer {
	unsigned		magic;
#define CLIENT_DISK_WRITER_MAGIC	0xc11d15c7U
	struct store_reader	r;
	struct disk_put		*put;
	struct buf_chain	chain;
	/* A reply without Content-Length: its bytes are held (references
	 * to the entry's) until they pass hold; if it completes before,
	 * it is small and client_disk_put() writes it from memory. */
	struct disk_store	*ds;
	struct store_key	key;
	uint64_t		hold;
	uint64_t		bound;
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
	if (w->put == NULL) {
		/* Unsized, still small: held, or left to memory. */
		if (store_reader_done(r) ||
		    buf_chain_len(&w->chain) <= w->hold) {
			if (store_reader_done(r))
				writer_free(w);
			else
				store_reader_wait(r);
			return;
		}
		w->put = disk_put_begin_unsized(w->ds, w->key.b, w->bound,
		    &err);
	}
	/* The entry's pages themselves: the disk writes from them. */
	for (i = 0; i < buf_chain_nslices(&w->chain) && err == 0; i++) {
		sl = buf_chain_slice(&w->chain, i);
		err = disk_put_append_slice(w->put, sl->buf, sl->off,
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
	bool unsized;
	int err = 0;

	if (ds == NULL || rep == NULL || http_msg_field(rep, HTTP_HDR_VARY) !=
	    NULL || store_entry_private(e) ||
	    conf->maximum_object_size_in_memory == 0)
		return;
	unsized = rep->body == HTTP_BODY_CHUNKED ||
	    rep->body == HTTP_BODY_CLOSE;
	if (!unsized && (rep->body != HTTP_BODY_LENGTH ||
	    rep->content_length <= conf->maximum_object_size_in_memory ||
	    (conf->maximum_object_size > 0 &&
	    rep->content_length > conf->maximum_object_size)))
		return;
	ALLOC_OBJ(w, CLIENT_DISK_WRITER_MAGIC);
	if (w == NULL)
		return;
	w->ds = ds;
	w->key = *k;
	w->hold = conf->maximum_object_size_in_memory;
	/* The largest an unsized one may grow to on disk: past it, the
	 * put fails and leaves nothing. */
	w->bound = disk_put_max(ds);
	if (conf->maximum_object_size > 0 &&
	    conf->maximum_object_size < w->bound)
		w->bound = conf->maximum_object_size;
	if (!unsized)
		w->put = disk_put_begin(ds, k->b, rep->content_length, &err);
	if (w->put == NULL && !unsized) {
		log_msg(LG_DEBUG, SEC_STORE, "%s: not written to disk: %s",
		    store_entry_url(e), strerror(-err));
		FREE_OBJ(w);
		return;
	}
	buf_chain_init(&w->chain, comm_loop_pool(ctx->deps.loop));
	store_reader_open(&w->r, e, ctx->deps.loop, writer_progress, w);
	store_reader_wait(&w->r);
}

static void	read_unjoin(struct client_ctx *ctx, const struct store_key *k);

bool
client_disk_purge(struct client_ctx *ctx, const struct store_key *k)
{
	struct disk_store *ds = client_disk_of(ctx, k);

	read_unjoin(ctx, k);

	/* Loading: whether it is there is not known yet; its tombstone is
	 * owed either way, written when the index is whole. */
	if (ds != NULL && disk_store_loading(ds)) {
		(void)disk_store_purge(ds, k->b);
		return (false);
	}
	if (ds == NULL || !disk_store_has(ds, k->b))
		return (false);
	return (disk_store_purge(ds, k->b) == 0);
}

/*
 * A disk hit, streamed: one struct client_disk_read per object being
 * read, on ctx->disk_reads, which the requests for that key meanwhile
 * join (one read, however many clients).
 *
 *	client_disk_start --> read_part(head): the entry built, PENDING,
 *	    reply and freshness set --> read_pump: each part's bytes into
 *	    the entry, the next chunk read when there is room
 *	ready (below) --> read_notify: each waiting request handed the
 *	    entry (LOOKUP again: a hit), or a miss (not fresh enough
 *	    without a revalidation, or not its URL)
 *	the last part --> COMPLETE, promoted into memory when it fits
 *	an error --> before ready: the waiters' miss (TCP_SWAPFAIL_MISS);
 *	    after: the entry aborted, so that a client that had its
 *	    headers has its connection closed, never a short 200 taken for
 *	    whole.  Either way the disk index drops the object (counted).
 *
 * An object larger than maximum_object_size_in_memory is never whole in
 * memory: its entry is windowed (CLIENT_WINDOW behind the slowest
 * reader) and a chunk is read only once the window has room, so that a
 * 64 MiB hit holds a window and a chunk or two.  Its hit starts once the
 * head and the first chunk are read and checked (a damaged first chunk
 * is still a clean miss); such a read is joined while the entry holds
 * its first byte, a request later than that reads for itself.  An
 * object that fits in memory is read whole before it is served, as the
 * promotion needs it whole anyway: a damage anywhere in it is a miss,
 * and what waits is bounded by maximum_object_size_in_memory.
 */
struct client_disk_read {
	unsigned		magic;
#define CLIENT_DISK_READ_MAGIC	0xc11d15caU
	struct list		link;		/* ctx->disk_reads */
	struct client_ctx	*ctx;
	struct store_key	key;
	struct disk_stream	*s;		/* NULL once it ended */
	struct store_entry	*e;		/* once the head is in */
	struct list		waiters;	/* client_txn.disk_link */
	struct buf_chain	pend;		/* read, not in e yet */
	struct comm_call	call;		/* read_notify */
	struct comm_timer	*slow;		/* swap-timeout, until ready */
	struct disk_store	*ds;
	bool			last;		/* pend ends the body */
	bool			reading;	/* a part is due */
	bool			ready;		/* e may be served */
	bool			joinable;	/* not purged meanwhile */
	bool			failed;
};

static void	read_pump(struct client_disk_read *rd);

static void
read_free(struct client_disk_read *rd)
{
	CHECK(list_empty(&rd->waiters));
	disk_stream_cancel(&rd->s);
	comm_call_cancel(&rd->call);
	comm_timer_free(&rd->slow);
	list_remove(&rd->link);
	if (rd->e != NULL) {
		store_entry_wait_room(rd->e, NULL, NULL);
		if (store_entry_state(rd->e) == STORE_PENDING)
			store_entry_abort(rd->e, STORE_ERR_NOMEM, EIO);
	}
	store_entry_unref(&rd->e);
	buf_chain_fini(&rd->pend);
	FREE_OBJ(rd);
}

/* What the head record held, as a PENDING entry; NULL when it will not
 * parse (a miss then). */
static struct store_entry *
read_entry(struct client_disk_read *rd, const struct disk_got *got,
    bool whole)
{
	struct client_ctx *ctx = rd->ctx;
	const uint8_t *h = (const uint8_t *)got->hdrs;
	struct http_cache_meta meta;
	enum http_parse_status ps;
	struct http_parser *p;
	struct store_entry *e;
	struct http_msg msg;
	size_t used = 0;

	if (!meta_decode(&meta, h, got->hdr_len))
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
	    msg.content_length != got->size)) {
		http_msg_fini(&msg);
		return (NULL);
	}
	e = store_entry_new(ctx->deps.loop, comm_loop_pool(ctx->deps.loop),
	    whole ? 0 : CLIENT_WINDOW);
	if (e == NULL || store_entry_set_url(e, got->url, got->url_len) != 0) {
		http_msg_fini(&msg);
		store_entry_unref(&e);
		return (NULL);
	}
	store_entry_set_reply(e, &msg);
	http_msg_fini(&msg);
	*store_entry_meta(e) = meta;
	return (e);
}

/* t, parked at LOOKUP, goes on: with e (referenced) or with nothing. */
static void
read_resume(struct client_txn *t, struct store_entry *e, bool failed)
{
	list_remove(&t->disk_link);
	CHECK(t->disk_wait);
	t->disk_wait = false;
	if (t->state == TXN_DONE) {		/* the client went */
		client_txn_maybe_free(t);
		return;
	}
	if (e != NULL)
		store_entry_ref(e);
	t->disk_e = e;
	t->disk_failed = failed;
	if (failed)
		log_msg(LG_INFO, SEC_STORE, "%s: disk read failed", t->curl);
	client_steps_resume(t);
}

/* Whether t can be served from e as it is read: its URL (not a key's
 * collision) and fresh enough for t without a revalidation, which needs
 * the entry whole. */
static bool
read_fresh_for(struct client_txn *t, struct store_entry *e)
{
	const char *url = store_entry_url(e);
	enum http_cache_use use;

	if (url == NULL || strlen(url) != t->curl_len ||
	    memcmp(url, t->curl, t->curl_len) != 0)
		return (false);
	/* A marker has no freshness of its own: it leads to a variant. */
	if (store_entry_meta(e)->flags & HCM_VARY_MARKER)
		return (store_entry_state(e) == STORE_COMPLETE);
	use = http_cache_use(store_entry_meta(e), &t->reqcc,
	    (int64_t)comm_now(t->cc->ctx->deps.loop));
	return (use == HCU_FRESH || use == HCU_STALE_OK);
}

static void
read_notify(struct comm_call *call)
{
	struct client_disk_read *rd = container_of(call,
	    struct client_disk_read, call);
	struct client_txn *t;
	struct list *n;

	CHECK_OBJ_NOTNULL(rd, CLIENT_DISK_READ_MAGIC);
	while ((n = list_first(&rd->waiters)) != NULL) {
		t = container_of(n, struct client_txn, disk_link);
		if (rd->failed)
			read_resume(t, NULL, true);
		else
			read_resume(t, read_fresh_for(t, rd->e) ? rd->e : NULL,
			    false);
	}
	if (rd->failed || store_entry_state(rd->e) != STORE_PENDING) {
		read_free(rd);
		return;
	}
	read_pump(rd);
}

static void
read_room(struct store_entry *e, void *arg)
{
	struct client_disk_read *rd = arg;

	CHECK_OBJ_NOTNULL(rd, CLIENT_DISK_READ_MAGIC);
	(void)e;
	read_pump(rd);
}

/* What was read goes into the entry; the next chunk is read when the
 * entry has room for it; the read ends when nobody reads any more. */
static void
read_pump(struct client_disk_read *rd)
{
	struct store_entry *e = rd->e;
	const struct buf_slice *sl;
	unsigned i;

	if (rd->reading || comm_call_pending(&rd->call))
		return;
	if (rd->ready && store_entry_windowed(e) &&
	    store_entry_nreaders(e) == 0) {
		/* Nobody reads it, nobody can find it: it ends. */
		read_free(rd);
		return;
	}
	for (i = 0; i < buf_chain_nslices(&rd->pend) && !rd->failed; i++) {
		sl = buf_chain_slice(&rd->pend, i);
		if (store_entry_append(e, sl->buf, sl->off, sl->len) != 0)
			rd->failed = true;
	}
	buf_chain_consume(&rd->pend, buf_chain_len(&rd->pend));
	if (rd->failed) {
		store_entry_abort(e, STORE_ERR_NOMEM, ENOMEM);
		comm_call_post(rd->ctx->deps.loop, &rd->call);
		return;
	}
	if (rd->last) {
		rd->last = false;
		rd->ready = true;
		store_entry_complete(e);
		/* Promoted: the next request for it is a memory hit. */
		if (!store_entry_windowed(e) && (rd->ctx->deps.conf->
		    memory_cache_mode != CONF_MEM_NETWORK ||
		    (store_entry_meta(e)->flags & HCM_VARY_MARKER)))
			(void)store_index_add(rd->ctx->deps.store, e, &rd->key,
			    CLIENT_WINDOW);
		comm_call_post(rd->ctx->deps.loop, &rd->call);
		return;
	}
	if (rd->s == NULL)
		return;
	if (store_entry_room(e) == 0) {
		store_entry_wait_room(e, read_room, rd);
		return;
	}
	rd->reading = true;
	disk_stream_next(rd->s);
}

static void
read_part(int err, const struct disk_got *got, bool last, void *arg)
{
	struct client_disk_read *rd = arg;
	const struct conf *conf = rd->ctx->deps.conf;
	const struct buf_slice *sl;
	bool whole, head = rd->e == NULL;
	unsigned i;

	CHECK_OBJ_NOTNULL(rd, CLIENT_DISK_READ_MAGIC);
	rd->reading = false;
	if (err == 0 && head) {
		whole = conf->maximum_object_size_in_memory == 0 ||
		    got->size <= conf->maximum_object_size_in_memory;
		rd->e = read_entry(rd, got, whole);
		if (rd->e == NULL)
			err = -EINVAL;
	}
	for (i = 0; err == 0 && i < buf_chain_nslices(&got->body); i++) {
		sl = buf_chain_slice(&got->body, i);
		if (buf_chain_append_slice(&rd->pend, sl->buf, sl->off,
		    sl->len) != 0)
			err = -ENOMEM;
	}
	if (err != 0) {
		if (got != NULL && !last)
			disk_stream_cancel(&rd->s);
		rd->s = NULL;
		rd->failed = true;
		if (rd->e != NULL)
			store_entry_abort(rd->e, STORE_ERR_READ_TIMEOUT, -err);
		log_msg(LG_INFO, SEC_STORE, "disk read failed: %s",
		    strerror(-err));
		comm_call_post(rd->ctx->deps.loop, &rd->call);
		return;
	}
	if (last)
		rd->s = NULL;		/* the stream is gone */
	rd->last = last;
	if (!rd->ready && !head && !last && store_entry_windowed(rd->e)) {
		/* The first chunk checked: the hit starts. */
		rd->ready = true;
		comm_call_post(rd->ctx->deps.loop, &rd->call);
		return;
	}
	read_pump(rd);
}

/* Reads of k under way serve those who have them; nobody joins them. */
static void
read_unjoin(struct client_ctx *ctx, const struct store_key *k)
{
	struct client_disk_read *rd;
	struct list *n;

	LIST_FOREACH(n, &ctx->disk_reads) {
		rd = container_of(n, struct client_disk_read, link);
		if (memcmp(rd->key.b, k->b, sizeof k->b) == 0)
			rd->joinable = false;
	}
}

void
client_disk_fini(struct client_ctx *ctx)
{
	struct list *n;

	while ((n = list_first(&ctx->disk_reads)) != NULL)
		read_free(container_of(n, struct client_disk_read, link));
}

/* swap-timeout: the read is slower than the store allows: those who
 * wait for it fetch (TCP_SWAPFAIL_MISS); the object stays indexed (a
 * slow disk is no damaged one). */
static void
read_slow(struct comm_timer *tm, void *arg)
{
	struct client_disk_read *rd = arg;

	(void)tm;
	CHECK_OBJ_NOTNULL(rd, CLIENT_DISK_READ_MAGIC);
	if (rd->ready || rd->failed || comm_call_pending(&rd->call))
		return;
	disk_stream_cancel(&rd->s);
	rd->reading = false;
	rd->failed = true;
	disk_store_note_timeout(rd->ds);
	log_msg(LG_INFO, SEC_STORE, "disk read slower than swap-timeout: a "
	    "miss");
	comm_call_post(rd->ctx->deps.loop, &rd->call);
}

bool
client_disk_start(struct client_txn *t)
{
	struct client_ctx *ctx = t->cc->ctx;
	struct client_disk_read *rd;
	struct disk_store *ds;
	struct list *n;
	bool *tried;

	tried = t->variant_key ? &t->disk_tried_variant : &t->disk_tried;
	if (*tried)
		return (false);
	*tried = true;
	ds = client_disk_of(ctx, &t->key);
	if (ds == NULL)
		return (false);
	LIST_FOREACH(n, &ctx->disk_reads) {
		rd = container_of(n, struct client_disk_read, link);
		if (memcmp(rd->key.b, t->key.b, sizeof rd->key.b) != 0 ||
		    !rd->joinable || rd->failed || (rd->e != NULL &&
		    (store_entry_state(rd->e) != STORE_PENDING ||
		    store_entry_body_start(rd->e) != 0)))
			continue;
		/* One read for both. */
		if (rd->s != NULL)
			disk_stream_joined(rd->s);
		list_insert_tail(&rd->waiters, &t->disk_link);
		t->disk_wait = true;
		if (rd->ready && !comm_call_pending(&rd->call))
			comm_call_post(ctx->deps.loop, &rd->call);
		return (true);
	}
	ALLOC_OBJ(rd, CLIENT_DISK_READ_MAGIC);
	if (rd == NULL)
		return (false);
	rd->ctx = ctx;
	rd->ds = ds;
	rd->key = t->key;
	rd->joinable = true;
	list_init(&rd->waiters);
	buf_chain_init(&rd->pend, comm_loop_pool(ctx->deps.loop));
	comm_call_init(&rd->call, read_notify);
	if (disk_stream_start(ds, t->key.b, read_part, rd, &rd->s) != 0) {
		buf_chain_fini(&rd->pend);
		FREE_OBJ(rd);
		return (false);
	}
	rd->reading = true;
	if (disk_store_swap_timeout(ds) > 0 && (rd->slow = comm_timer_new(
	    ctx->deps.loop, read_slow, rd)) != NULL)
		comm_timer_start(rd->slow, disk_store_swap_timeout(ds) / 1e3,
		    0.0);
	list_insert_tail(&ctx->disk_reads, &rd->link);
	list_insert_tail(&rd->waiters, &t->disk_link);
	t->disk_wait = true;
	return (true);
}
