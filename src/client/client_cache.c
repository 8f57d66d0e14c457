/*
 * client_cache.c - where a request meets the memory cache.
 *
 *	GET/HEAD --> lookup --+-- fresh ----------------> HIT (from the entry)
 *	                      +-- pending --------------> JOINED (collapsed)
 *	                      +-- stale, validator -----> REVALIDATE (fetch)
 *	                      +-- none, or no validator -> FILL (fetch)
 *	other methods ------------------------------------> forwarded as they
 *	                                                     are; unsafe ones
 *	                                                     invalidate the URL
 *
 * A fetch (struct client_fetch) fills an entry from the origin and belongs
 * to the ctx, not to the request that started it: when that client goes
 * away, the requests that joined it (and the cache) still get the reply.
 * The fetch decides what becomes of the entry the moment the reply's
 * header section arrives, before any reader can see it (fwd's on_reply):
 * stored (indexed under its key, or its variant's), or private (it leaves
 * the index, and the requests that joined it fetch their own).
 *
 * Variants (RFC 9111 4.1): the URL's key holds a marker entry whose reply
 * is only "Vary: <fields>" and the marker's serial; each variant is
 * stored under the URL, that serial and the request's values of those
 * fields.  A new
 * marker (Vary changed, or a purge) orphans the old variants, which then
 * age out: no variant chosen under other rules is ever served.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl/acl.h"
#include "base/check.h"
#include "base/dec.h"
#include "base/log.h"
#include "client/client_int.h"
#include "http/http_out.h"

#define CLIENT_VARY_MAX		4096	/* a variant's key material */

struct client_fetch {
	unsigned		magic;
#define CLIENT_FETCH_MAGIC	0xc11ef7c4U
	struct client_ctx	*ctx;
	struct list		link;		/* on ctx->fetches */
	struct fwd		*fwd;
	struct store_entry	*e;		/* filled */
	struct store_entry	*stale;		/* revalidated, or NULL */
	struct client_txn	*owner;		/* the request that started it,
						 * while both live (to log the
						 * server it went to) */
	/* The request, kept: the reply's Vary and the storing rules need
	 * it after the client that sent it may have gone. */
	struct http_msg		req;
	struct http_cc		reqcc;
	char			*url;
	size_t			url_len;
	int64_t			request_time;
};

static fwd_reply_fn client_fetch_reply;
static fwd_done_fn client_fetch_done;

static int64_t
client_cache_now(const struct client_ctx *ctx)
{
	return ((int64_t)comm_now(ctx->deps.loop));
}

/* ":port" at p (at most 6 bytes); its length. */
static size_t
client_cache_port(char *p, unsigned port)
{
	char d[1 + DEC_MAX], *s = dec_put(d + sizeof d, port);
	size_t n;

	*--s = ':';
	n = (size_t)(d + sizeof d - s);
	memcpy(p, s, n);
	return (n);
}

/* The URL as the cache keys it: scheme and host in lower case, the
 * scheme's default port left out, an empty path as "/" (RFC 9110 4.2.3):
 * https://x/ and http://x/ are two resources.  A store-id, when
 * store_id_program gave one, instead. */
static int
client_cache_url(struct client_txn *t)
{
	const char *target = http_msg_ptr(&t->req, t->req.target);
	const struct http_url *u = &t->url;
	bool https = u->scheme == HTTP_SCHEME_HTTPS;
	const char *sid = client_adapt_store_id(t);
	size_t i, n, cap;
	char *p;

	if (sid != NULL) {
		/* store_id_program named the key: mirrors share it. */
		t->curl = strdup(sid);
		t->curl_len = strlen(sid);
		return (t->curl != NULL ? 0 : -ENOMEM);
	}
	cap = u->host_len + u->path_len + 32;
	p = malloc(cap);
	if (p == NULL)
		return (-ENOMEM);
	/* Built by hand: this runs for every request. */
	n = https ? 8 : 7;
	memcpy(p, https ? "https://" : "http://", n);
	if (u->host_is_ip6)
		p[n++] = '[';
	for (i = 0; i < u->host_len; i++) {
		char c = target[u->host_off + i];
		p[n++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	if (u->host_is_ip6)
		p[n++] = ']';
	if (u->port != (https ? 443 : 80))
		n += client_cache_port(p + n, u->port);
	if (u->path_len == 0 || target[u->path_off] == '?')
		p[n++] = '/';
	memcpy(p + n, target + u->path_off, u->path_len);
	n += u->path_len;
	p[n] = '\0';
	free(t->curl);		/* LOOKUP again, after a disk read */
	t->curl = p;
	t->curl_len = n;
	return (0);
}

static void
client_cache_key(struct store_key *k, const char *url, size_t url_len)
{
	store_key_make(k, "GET", 3, url, url_len, NULL, 0);
}

/* A marker's reply names the fields its variants vary on (Vary) and
 * the marker's serial (this field), a number no other marker of the
 * client context had: it goes into the variants' keys. */
#define CLIENT_MARKER_SERIAL	"Cuttle-Marker-Serial"

/* The key of req's variant under marker m; false if req can match no
 * variant (Vary: *, or values too long to key). */
static bool
client_variant_key(const struct http_msg *req, struct store_entry *m,
    const char *url, size_t url_len, struct store_key *k)
{
	const struct http_msg *rep = store_entry_reply(m);
	const struct http_field *f, *s;
	char buf[CLIENT_VARY_MAX];
	int n, v;

	f = rep != NULL ? http_msg_field(rep, HTTP_HDR_VARY) : NULL;
	s = rep != NULL ? http_msg_field_named(rep, CLIENT_MARKER_SERIAL,
	    sizeof CLIENT_MARKER_SERIAL - 1) : NULL;
	if (f == NULL || s == NULL || s->value.len > 20)
		return (false);
	n = snprintf(buf, sizeof buf, "%.*s\n", (int)s->value.len,
	    http_msg_ptr(rep, s->value));
	v = http_cache_vary_key(req, http_msg_ptr(rep, f->value),
	    f->value.len, buf + n, sizeof buf - (size_t)n);
	if (v < 0)
		return (false);
	store_key_make(k, "GET", 3, url, url_len, buf, (size_t)(n + v));
	return (true);
}

/* The entry that answers t, referenced, or NULL; t->key is set to where
 * a reply to t would be stored. */
static struct store_entry *
client_cache_find(struct client_txn *t)
{
	struct store_index *idx = t->cc->ctx->deps.store;
	struct store_entry *e;
	bool ok;

	if (t->disk_e != NULL) {	/* what the disk read gave */
		e = t->disk_e;
		t->disk_e = NULL;
		if (!(store_entry_meta(e)->flags & HCM_VARY_MARKER)) {
			t->disk_hit = true;	/* t->key: what was read */
			return (e);
		}
		/* A marker: its variant next, in memory or on disk. */
	} else {
		client_cache_key(&t->key, t->curl, t->curl_len);
		t->variant_key = false;
		e = store_index_lookup(idx, &t->key);
	}
	if (e == NULL || !(store_entry_meta(e)->flags & HCM_VARY_MARKER))
		return (e);
	if (store_entry_state(e) != STORE_COMPLETE) {
		store_entry_unref(&e);
		return (NULL);
	}
	ok = client_variant_key(&t->req, e, t->curl, t->curl_len, &t->key);
	store_entry_unref(&e);
	t->variant_key = ok;
	return (ok ? store_index_lookup(idx, &t->key) : NULL);
}

/* Remove url's entry (and with a marker, every variant: they are
 * orphaned).  True if there was one. */
static bool
client_cache_purge_url(struct client_ctx *ctx, const char *url, size_t len)
{
	struct store_key k;

	client_cache_key(&k, url, len);
	return (store_index_purge(ctx->deps.store, &k) |
	    client_disk_purge(ctx, &k));
}

/* -- fetches --------------------------------------------------------------- */

/* A deep copy of a parsed message: spans stay valid over the new raw. */
static int
client_msg_copy(struct http_msg *dst, const struct http_msg *src)
{
	*dst = *src;
	dst->raw = malloc(src->rawlen > 0 ? src->rawlen : 1);
	dst->fields = malloc((src->nfields > 0 ? src->nfields : 1) *
	    sizeof *src->fields);
	if (dst->raw == NULL || dst->fields == NULL) {
		free(dst->raw);
		free(dst->fields);
		http_msg_init(dst, HTTP_MSG_REQUEST);
		return (-ENOMEM);
	}
	/* A request may have no field at all (fields NULL): memcpy() must
	 * not be handed a null pointer even for 0 bytes. */
	if (src->rawlen > 0)
		memcpy(dst->raw, src->raw, src->rawlen);
	dst->rawcap = src->rawlen;
	if (src->nfields > 0)
		memcpy(dst->fields, src->fields,
		    src->nfields * sizeof *src->fields);
	dst->fieldcap = src->nfields;
	return (0);
}

/* Conditionals the cache asks itself: a validator of the stored reply
 * (RFC 9111 4.3.1), ETag first, Last-Modified too. */
static size_t
client_fetch_validators(const struct store_entry *stale, char *buf,
    size_t cap)
{
	const struct http_msg *rep = store_entry_reply(stale);
	const struct http_field *f;
	size_t n = 0;
	int w;

	f = http_msg_field(rep, HTTP_HDR_ETAG);
	if (f != NULL && f->value.len < cap / 2) {
		w = snprintf(buf, cap, "If-None-Match: %.*s\r\n",
		    (int)f->value.len, http_msg_ptr(rep, f->value));
		n = (size_t)w;
	}
	f = http_msg_field(rep, HTTP_HDR_LAST_MODIFIED);
	if (f != NULL && f->value.len < (cap - n) / 2) {
		w = snprintf(buf + n, cap - n, "If-Modified-Since: %.*s\r\n",
		    (int)f->value.len, http_msg_ptr(rep, f->value));
		n += (size_t)w;
	}
	return (n);
}

static void
client_fetch_free(struct client_fetch *f)
{
	if (f->owner != NULL)
		f->owner->fetch = NULL;
	if (f->stale != NULL)	/* a 304 may have replaced meta already */
		store_entry_meta(f->stale)->flags &= ~HCM_REVALIDATING;
	list_remove(&f->link);
	store_entry_unref(&f->e);
	store_entry_unref(&f->stale);
	if (f->req.magic == HTTP_MSG_MAGIC)
		http_msg_fini(&f->req);
	free(f->url);
	FREE_OBJ(f);
}

/* Fetch t's URL into e (revalidating stale, if not NULL); in the
 * background, t does not wait for it.  0 or -ENOMEM (then nothing was
 * started). */
static int
client_fetch_start(struct client_txn *t, struct store_entry *e,
    struct store_entry *stale, bool background)
{
	struct client_ctx *ctx = t->cc->ctx;
	struct client_fetch *f;
	struct fwd_req fr;
	char cond[1024];

	ALLOC_OBJ(f, CLIENT_FETCH_MAGIC);
	if (f == NULL)
		return (-ENOMEM);
	f->ctx = ctx;
	list_init(&f->link);
	http_msg_init(&f->req, HTTP_MSG_REQUEST);
	http_msg_fini(&f->req);
	f->url = strdup(t->curl);
	if (f->url == NULL || client_msg_copy(&f->req, &t->req) != 0) {
		client_fetch_free(f);
		return (-ENOMEM);
	}
	f->url_len = t->curl_len;
	f->reqcc = t->reqcc;
	f->request_time = client_cache_now(ctx);
	f->e = e;
	store_entry_ref(e);
	if (stale != NULL) {
		f->stale = stale;
		store_entry_ref(stale);
	}
	client_fwd_req_init(t, &fr);
	/* The client's own conditionals are answered here, from the entry;
	 * the origin is asked for the whole representation. */
	fr.drop = HTTP_HDR_BIT(HTTP_HDR_IF_NONE_MATCH) |
	    HTTP_HDR_BIT(HTTP_HDR_IF_MODIFIED_SINCE) |
	    HTTP_HDR_BIT(HTTP_HDR_IF_RANGE) | HTTP_HDR_BIT(HTTP_HDR_RANGE);
	if (stale != NULL) {
		fr.extra = cond;
		fr.extra_len = client_fetch_validators(stale, cond,
		    sizeof cond);
	}
	fr.on_reply = client_fetch_reply;
	fr.reply_arg = f;
	list_insert_tail(&ctx->fetches, &f->link);
	f->fwd = fwd_start(ctx->deps.fwd, &fr, e, client_fetch_done, f);
	if (f->fwd == NULL) {
		client_fetch_free(f);
		return (-ENOMEM);
	}
	ctx->stats.fetches++;
	if (stale != NULL)
		ctx->stats.revalidations++;
	if (!background) {
		f->owner = t;
		t->fetch = f;
	}
	return (0);
}

static void
client_fetch_done(struct fwd *fw, void *arg)
{
	struct client_fetch *f = arg;

	CHECK_OBJ_NOTNULL(f, CLIENT_FETCH_MAGIC);
	if (f->owner != NULL && fwd_peer(fw) != NULL) {
		client_addr_set(&f->owner->server, fwd_peer(fw));
		f->owner->hier = (uint8_t)fwd_hier(fw);
	}
	/* Whole and stored in memory: below it, on disk too. */
	if (store_entry_state(f->e) == STORE_COMPLETE &&
	    store_entry_indexed(f->e))
		client_disk_put(f->ctx, f->e);
	client_fetch_free(f);
}

/* A marker for url's variants: a complete entry whose reply says only
 * which fields they vary on; not indexed yet. */
static struct store_entry *
client_marker_new(struct client_fetch *f, const char *vary, size_t len)
{
	struct client_ctx *ctx = f->ctx;
	struct store_entry *m;
	struct http_parser *p;
	struct http_msg msg;
	char buf[CLIENT_VARY_MAX + 128];
	size_t used;
	int n;

	n = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nVary: %.*s\r\n"
	    CLIENT_MARKER_SERIAL ": %ju\r\nContent-Length: 0\r\n\r\n",
	    (int)len, vary, (uintmax_t)++ctx->serial);
	if (n < 0 || (size_t)n >= sizeof buf)
		return (NULL);
	p = http_parser_new(HTTP_MSG_RESPONSE, sizeof buf);
	if (p == NULL)
		return (NULL);
	http_msg_init(&msg, HTTP_MSG_RESPONSE);
	http_parser_start(p, &msg, false);
	if (http_parse(p, buf, (size_t)n, &used, NULL, NULL) !=
	    HTTP_PARSE_HEADERS) {
		http_msg_fini(&msg);
		http_parser_free(&p);
		return (NULL);
	}
	http_parser_free(&p);
	m = store_entry_new(ctx->deps.loop, comm_loop_pool(ctx->deps.loop), 0);
	if (m == NULL) {
		http_msg_fini(&msg);
		return (NULL);
	}
	store_entry_meta(m)->flags = HCM_VARY_MARKER;
	if (store_entry_set_url(m, f->url, f->url_len) != 0) {
		http_msg_fini(&msg);
		store_entry_unref(&m);
		return (NULL);
	}
	store_entry_set_reply(m, &msg);
	http_msg_fini(&msg);
	store_entry_complete(m);
	return (m);
}

/* The key a reply with Vary is stored under: the marker's and req's
 * values.  When the URL has no marker for these fields, *newm is a new
 * one, to index once the entry has left the URL's key. */
static bool
client_fetch_variant(struct client_fetch *f, const struct http_msg *rep,
    struct store_key *k, struct store_entry **newm)
{
	struct store_index *idx = f->ctx->deps.store;
	const struct http_field *vf = http_msg_field(rep, HTTP_HDR_VARY);
	const struct http_field *mf;
	const struct http_msg *mrep;
	struct store_entry *m;
	struct store_key base;
	char vary[CLIENT_VARY_MAX];
	size_t n = 0;
	bool ok;

	/* All the Vary lines, as one list. */
	for (; vf != NULL; vf = http_msg_field_next(rep, vf)) {
		if (n + vf->value.len + 2 >= sizeof vary)
			return (false);
		if (n > 0) {
			vary[n++] = ',';
			vary[n++] = ' ';
		}
		memcpy(vary + n, http_msg_ptr(rep, vf->value), vf->value.len);
		n += vf->value.len;
	}
	client_cache_key(&base, f->url, f->url_len);
	m = store_index_lookup(idx, &base);
	if (m != NULL) {
		mrep = store_entry_reply(m);
		mf = mrep != NULL ? http_msg_field(mrep, HTTP_HDR_VARY) : NULL;
		if (!(store_entry_meta(m)->flags & HCM_VARY_MARKER) ||
		    mf == NULL || mf->value.len != n ||
		    strncasecmp(http_msg_ptr(mrep, mf->value), vary, n) != 0)
			store_entry_unref(&m);
	}
	if (m == NULL) {
		m = client_marker_new(f, vary, n);
		if (m == NULL)
			return (false);
		*newm = m;
		store_entry_ref(m);
	}
	ok = client_variant_key(&f->req, m, f->url, f->url_len, k);
	store_entry_unref(&m);
	return (ok);
}

/* negative_ttl (Squid): an error the origin gave no freshness of its own
 * is kept that long, so that a failing URL is not asked for again at
 * every request.  Only a reply a shared cache could store but for its
 * status: nothing private, no-store, authenticated or varying.  A
 * Set-Cookie does not keep it out (RFC 9111 7.3), as it keeps no other
 * reply out: cache_set_cookie_replies decides for all of them. */
static bool
client_negative_ok(const struct client_fetch *f, const struct http_msg *rep,
    const struct http_cc *repcc)
{
	if (f->ctx->deps.conf->negative_ttl < 1 || rep->status < 400)
		return (false);
	if (((f->reqcc.flags | repcc->flags) &
	    (HCC_NO_STORE | HCC_PRIVATE | HCC_NO_CACHE)) ||
	    repcc->max_age >= 0 || repcc->s_maxage >= 0)
		return (false);
	return (http_msg_field(rep, HTTP_HDR_EXPIRES) == NULL &&
	    http_msg_field(rep, HTTP_HDR_VARY) == NULL &&
	    http_msg_field(&f->req, HTTP_HDR_AUTHORIZATION) == NULL);
}

/* cache_set_cookie_replies off: no reply with Set-Cookie is stored. */
static bool
client_cookie_refused(const struct client_ctx *ctx,
    const struct http_msg *rep)
{
	return (!ctx->deps.conf->cache_set_cookie_replies &&
	    http_msg_field(rep, HTTP_HDR_SET_COOKIE) != NULL);
}

/*
 * RFC 9111 5.2.2.7: "a shared cache MUST NOT store the listed header
 * fields ... but MAY store the remainder of the response message without
 * those header fields".  *rep becomes that remainder; the fields left
 * out go to the request the reply answers (f's owner, if it is still
 * there), which alone may see them.  0, or -ENOMEM (*rep as it was:
 * then it must not be stored).
 */
static int
client_fetch_strip_private(struct client_fetch *f, struct http_msg *rep)
{
	const struct http_field *fl;
	struct http_msg kept;
	char *lines = NULL, *p;
	size_t len = 0;
	uint16_t i;

	for (i = 0; i < rep->nfields; i++) {
		fl = &rep->fields[i];
		if (http_cc_names_field(rep, HCC_PRIVATE_FIELDS,
		    http_msg_ptr(rep, fl->name), fl->name.len))
			len += fl->name.len + fl->value.len + 4;
	}
	if (len == 0)
		return (0);		/* none of the named fields is here */
	if (f->owner != NULL && (lines = malloc(len)) == NULL)
		return (-ENOMEM);
	http_msg_init(&kept, HTTP_MSG_RESPONSE);
	if (http_cache_without_fields(rep, HCC_PRIVATE_FIELDS, &kept) != 0) {
		http_msg_fini(&kept);
		free(lines);
		return (-ENOMEM);
	}
	for (i = 0, p = lines; lines != NULL && i < rep->nfields; i++) {
		fl = &rep->fields[i];
		if (!http_cc_names_field(rep, HCC_PRIVATE_FIELDS,
		    http_msg_ptr(rep, fl->name), fl->name.len))
			continue;
		memcpy(p, http_msg_ptr(rep, fl->name), fl->name.len);
		p += fl->name.len;
		*p++ = ':';
		*p++ = ' ';
		memcpy(p, http_msg_ptr(rep, fl->value), fl->value.len);
		p += fl->value.len;
		*p++ = '\r';
		*p++ = '\n';
	}
	if (lines != NULL) {
		free(f->owner->private_fields);
		f->owner->private_fields = lines;
		f->owner->private_fields_len = len;
	}
	http_msg_fini(rep);
	*rep = kept;
	return (0);
}

/* The reply's header section is in (fwd's on_reply, before any reader
 * sees it): store the entry, or make it private. */
static void
client_fetch_reply(struct store_entry *e, struct http_msg *rep, void *arg)
{
	struct client_fetch *f = arg;
	struct store_index *idx = f->ctx->deps.store;
	const struct conf *conf = f->ctx->deps.conf;
	const struct http_refresh *rp = f->ctx->deps.refresh;
	struct http_cache_meta meta;
	struct http_msg merged;
	struct http_cc repcc;
	struct store_entry *marker = NULL;
	struct store_key k, base;
	const char *why;
	bool negative;
	int64_t now = client_cache_now(f->ctx);

	CHECK_OBJ_NOTNULL(f, CLIENT_FETCH_MAGIC);
	http_cc_parse(rep, &repcc);
	if (f->stale != NULL && rep->status == 304) {
		/* 4.3.4: the stored reply, refreshed; this entry only
		 * carries the 304 to the request that waits on it. */
		http_msg_init(&merged, HTTP_MSG_RESPONSE);
		if (http_cache_merge_304(store_entry_reply(f->stale), rep,
		    &merged) == 0) {
			http_cc_parse(&merged, &repcc);
			/* What may not be stored leaves the index: the
			 * stale entry still answers this request. */
			if (((repcc.flags & HCC_PRIVATE_FIELDS) &&
			    client_fetch_strip_private(f, &merged) != 0) ||
			    client_cookie_refused(f->ctx, &merged))
				store_index_remove(idx, f->stale);
			http_cache_meta_init(&meta, &merged, &repcc, rp, f->url,
			    f->url_len, f->request_time, now);
			store_entry_update_reply(f->stale, &merged, &meta);
		}
		http_msg_fini(&merged);
		store_entry_set_private(e);
		return;
	}
	if (f->stale != NULL && rep->status >= 500) {
		store_entry_set_private(e);	/* the stale one may serve */
		return;
	}
	if (f->stale != NULL)
		store_index_remove(idx, f->stale);	/* replaced */
	why = http_cache_storable(&f->req, &f->reqcc, rep, &repcc, rp,
	    f->url, f->url_len);
	if (why == NULL && rep->body == HTTP_BODY_LENGTH &&
	    conf->maximum_object_size > 0 &&
	    rep->content_length > conf->maximum_object_size)
		why = "larger than maximum_object_size";
	negative = client_negative_ok(f, rep, &repcc);
	if (why != NULL && negative && rep->status >= 400 &&
	    (rep->body != HTTP_BODY_LENGTH ||
	    conf->maximum_object_size == 0 ||
	    rep->content_length <= conf->maximum_object_size))
		why = NULL;
	/* Content still transfer-coded is relayed with its codings named
	 * and its end, often the close, unsure: never stored, negative or
	 * not (a stored reply loses its hop-by-hop Transfer-Encoding). */
	if (why == NULL && http_msg_te_coded(rep))
		why = "Transfer-Encoding other than chunked";
	if (why == NULL && client_cookie_refused(f->ctx, rep))
		why = "Set-Cookie, and cache_set_cookie_replies is off";
	if (why == NULL && (repcc.flags & HCC_PRIVATE_FIELDS) &&
	    client_fetch_strip_private(f, rep) != 0)
		why = "no memory to leave out the private fields";
	client_cache_key(&base, f->url, f->url_len);
	k = base;
	if (why == NULL && http_msg_field(rep, HTTP_HDR_VARY) != NULL &&
	    !client_fetch_variant(f, rep, &k, &marker))
		why = "Vary cannot be matched";
	if (why != NULL) {
		log_msg(LG_DEBUG, SEC_CLIENT, "not stored: %s: %s", f->url,
		    why);
		store_entry_unref(&marker);	/* made for nothing */
		store_entry_set_private(e);
		return;
	}
	http_cache_meta_init(&meta, rep, &repcc, rp, f->url, f->url_len,
	    f->request_time, now);
	if (negative && meta.lifetime < conf->negative_ttl) {
		meta.lifetime = conf->negative_ttl < INT32_MAX ?
		    (uint32_t)conf->negative_ttl : INT32_MAX;
		meta.flags |= HCM_NEGATIVE;
	}
	*store_entry_meta(e) = meta;
	/* Under its variant's key (it may have been looked up as the
	 * URL's, before its Vary was known), then the marker. */
	if (store_index_rekey(idx, e, &k, CLIENT_WINDOW) != 0)
		store_entry_set_private(e);
	else if (marker == NULL)
		client_disk_fill(f->ctx, e, rep, &k);	/* too large for memory */
	if (marker != NULL) {
		if (store_index_add(idx, marker, &base, 0) != 0)
			log_msg(LG_INFO, SEC_CLIENT, "%s: no room for its "
			    "Vary marker", f->url);
		else	/* and on disk */
			client_disk_put(f->ctx, marker);
		store_entry_unref(&marker);
	}
}

void
client_cache_cancel_all(struct client_ctx *ctx)
{
	struct list *n, *tmp;
	struct client_fetch *f;

	LIST_FOREACH_SAFE(n, tmp, &ctx->fetches) {
		f = container_of(n, struct client_fetch, link);
		fwd_cancel(f->fwd);
	}
}

/* -- requests -------------------------------------------------------------- */

static void
client_cache_serve(struct client_txn *t, struct store_entry *e,
    enum client_cache_role role, enum result_code code)
{
	t->e = e;
	t->role = (uint8_t)role;
	t->from_store = role == CACHE_HIT || role == CACHE_JOINED;
	t->code = (uint8_t)code;
	client_reply_start(t);
}

/* Start a fetch for t into a new entry: indexed at once when stale is
 * NULL, so that requests for the URL meanwhile join it.  A stale entry
 * is t->stale's already (held since LOOKUP). */
static bool
client_cache_fetch(struct client_txn *t, struct store_entry *stale)
{
	struct client_ctx *ctx = t->cc->ctx;
	struct store_entry *e;

	e = store_entry_new(ctx->deps.loop, comm_loop_pool(ctx->deps.loop), 0);
	if (e == NULL)
		return (false);
	if (store_entry_set_url(e, t->curl, t->curl_len) != 0 ||
	    (stale == NULL && store_index_add(ctx->deps.store, e, &t->key,
	    CLIENT_WINDOW) != 0) || client_fetch_start(t, e, stale, false) != 0) {
		store_index_remove(ctx->deps.store, e);
		store_entry_unref(&e);
		return (false);
	}
	if (stale != NULL) {
		CHECK(t->stale == stale);
		client_cache_serve(t, e, CACHE_REVALIDATE,
		    store_entry_meta(stale)->flags & HCM_VALIDATOR ?
		    RESULT_TCP_REFRESH_MODIFIED : RESULT_TCP_MISS);
	} else
		client_cache_serve(t, e, CACHE_FILL, t->disk_failed ?
		    RESULT_TCP_SWAPFAIL_MISS : RESULT_TCP_MISS);
	return (true);
}

static void
client_cache_purge(struct client_txn *t)
{
	struct client_ctx *ctx = t->cc->ctx;
	struct buf_chain out;
	bool found;

	if (!ctx->deps.purge) {
		/* Squid: PURGE only where an acl names it. */
		t->code = RESULT_TCP_DENIED;
		client_txn_error(t, ERRPAGE_ACCESS_DENIED, "PURGE is not "
		    "enabled: no acl names the PURGE method", 0);
		return;
	}
	found = client_cache_purge_url(ctx, t->curl, t->curl_len);
	if (found)
		ctx->stats.purges++;
	t->code = RESULT_TCP_MISS;
	t->status = found ? 200 : 404;
	buf_chain_init(&out, comm_loop_pool(ctx->deps.loop));
	if (http_out_printf(&out, "HTTP/1.1 %u %s\r\nContent-Length: 0\r\n"
	    "%s\r\n", t->status, http_reason(t->status), t->req.keep_alive ?
	    "" : "Connection: close\r\n") != 0) {
		buf_chain_fini(&out);
		client_txn_abort(t);
		return;
	}
	client_reply_write_all(t, &out);
	buf_chain_fini(&out);
}

static void
client_cache_only_if_cached(struct client_txn *t)
{
	/* RFC 9111 5.2.1.7: nothing stored that may answer it. */
	t->code = RESULT_TCP_MISS;
	client_txn_error(t, ERRPAGE_ONLY_IF_CACHED_MISS, NULL, 0);
}

bool
client_cache_fetch_miss(struct client_txn *t)
{
	if (client_cache_fetch(t, t->stale))
		return (true);
	store_entry_unref(&t->stale);
	return (false);
}

enum client_step
client_cache_request(struct client_txn *t, bool storable)
{
	struct client_ctx *ctx = t->cc->ctx;
	const struct http_msg *m = &t->req;
	struct store_entry *e, *bg;
	enum http_cache_use use;
	bool head = m->method == HTTP_M_HEAD;

	if (ctx->deps.store == NULL)
		return (CLIENT_STEP_PASS);
	if (m->method != HTTP_M_GET && !head) {
		bool purge = m->method == HTTP_M_PURGE;

		if (!purge && (http_method_flags(m->method) & HM_SAFE))
			return (CLIENT_STEP_PASS);
		if (client_cache_url(t) != 0)
			return (CLIENT_STEP_PASS);
		if (!purge) {
			t->invalidate = true;	/* 4.4, once it succeeded */
			return (CLIENT_STEP_PASS);
		}
		client_cache_purge(t);
		return (CLIENT_STEP_END);
	}
	if (m->body != HTTP_BODY_NONE && !(m->body == HTTP_BODY_LENGTH &&
	    m->content_length == 0))
		return (CLIENT_STEP_PASS);
	if (client_cache_url(t) != 0)
		return (CLIENT_STEP_PASS);
	http_cc_parse(m, &t->reqcc);
	e = client_cache_find(t);
	if (e == NULL && client_disk_start(t))
		return (CLIENT_STEP_WAIT);	/* parked: t->disk_wait */
	if (e == NULL) {
		if (t->reqcc.flags & HCC_ONLY_IF_CACHED) {
			client_cache_only_if_cached(t);
			return (CLIENT_STEP_END);
		}
		/* HEAD and ranges of what is not cached go as they are. */
		if (head || http_msg_field(m, HTTP_HDR_RANGE) != NULL ||
		    (t->reqcc.flags & HCC_NO_STORE) ||
		    !storable)
			return (CLIENT_STEP_PASS);
		return (CLIENT_STEP_FETCH);
	}
	/* A disk hit still being read is a hit, served as it comes. */
	if (store_entry_state(e) == STORE_PENDING && !t->disk_hit) {
		ctx->stats.collapsed++;
		client_cache_serve(t, e, CACHE_JOINED, RESULT_TCP_CF_HIT);
		return (CLIENT_STEP_END);
	}
	use = http_cache_use(store_entry_meta(e), &t->reqcc,
	    client_cache_now(ctx));
	switch (use) {
	case HCU_FRESH:
	case HCU_STALE_OK:
		client_cache_serve(t, e, CACHE_HIT, use != HCU_FRESH ?
		    RESULT_TCP_STALE_HIT : store_entry_meta(e)->flags &
		    HCM_NEGATIVE ? RESULT_TCP_NEGATIVE_HIT : t->disk_hit ?
		    RESULT_TCP_HIT : RESULT_TCP_MEM_HIT);
		return (CLIENT_STEP_END);
	case HCU_STALE_REVALIDATE:
		/* RFC 5861 3: this one is served now, the entry refreshed
		 * behind it by a fetch nobody waits for. */
		if (!(store_entry_meta(e)->flags & HCM_REVALIDATING)) {
			bg = store_entry_new(ctx->deps.loop,
			    comm_loop_pool(ctx->deps.loop), 0);
			if (bg == NULL || store_entry_set_url(bg, t->curl,
			    t->curl_len) != 0 ||
			    client_fetch_start(t, bg, e, true) != 0)
				log_msg(LG_INFO, SEC_CLIENT, "%s: background "
				    "revalidation not started", t->curl);
			else
				store_entry_meta(e)->flags |=
				    HCM_REVALIDATING;
			store_entry_unref(&bg);
		}
		client_cache_serve(t, e, CACHE_HIT, RESULT_TCP_STALE_HIT);
		return (CLIENT_STEP_END);
	case HCU_REVALIDATE:
		break;
	}
	if (t->reqcc.flags & HCC_ONLY_IF_CACHED) {
		store_entry_unref(&e);
		client_cache_only_if_cached(t);
		return (CLIENT_STEP_END);
	}
	if (head) {
		store_entry_unref(&e);
		return (CLIENT_STEP_PASS);
	}
	/* Without a validator the fetch is unconditional, but the stale
	 * entry is kept at hand all the same: stale-if-error needs none. */
	CHECK(t->stale == NULL);
	t->stale = e;
	return (CLIENT_STEP_FETCH);
}

/* -- the reply ------------------------------------------------------------- */

/* A fetch of t's own variant, after it joined another's: keyed anew
 * under the URL's marker as it is now. */
static bool
client_cache_refetch(struct client_txn *t)
{
	struct store_entry *e = client_cache_find(t);

	if (e != NULL) {		/* stored meanwhile: read that */
		client_cache_serve(t, e, store_entry_state(e) ==
		    STORE_PENDING ? CACHE_JOINED : CACHE_HIT, RESULT_TCP_MEM_HIT);
		return (true);
	}
	return (client_cache_fetch(t, NULL));
}

/* Read another entry from now on (the reply has not gone out yet). */
static void
client_cache_switch(struct client_txn *t, struct store_entry **ep,
    enum client_cache_role role, enum result_code code)
{
	store_reader_close(&t->reader);
	t->reader_open = false;
	store_entry_unref(&t->e);
	t->e = *ep;
	*ep = NULL;
	t->role = (uint8_t)role;
	t->from_store = true;
	t->code = (uint8_t)code;
	client_reply_attach(t);
}

/* A request that joined a fetch whose reply is not for it (private, or
 * another variant) forwards its own request. */
static bool
client_cache_joined_ok(struct client_txn *t, const struct http_msg *rep)
{
	struct client_ctx *ctx = t->cc->ctx;
	struct store_entry *m;
	struct store_key base, k;
	bool ok;

	if (store_entry_private(t->e))
		return (false);
	if (http_msg_field(rep, HTTP_HDR_VARY) == NULL)
		return (true);
	client_cache_key(&base, t->curl, t->curl_len);
	m = store_index_lookup(ctx->deps.store, &base);
	if (m == NULL)
		return (false);
	ok = (store_entry_meta(m)->flags & HCM_VARY_MARKER) &&
	    client_variant_key(&t->req, m, t->curl, t->curl_len, &k) &&
	    memcmp(&k, store_entry_key(t->e), sizeof k) == 0;
	store_entry_unref(&m);
	return (ok);
}

/* Purge what a successful unsafe request changed (RFC 9111 4.4). */
static void
client_cache_invalidate(struct client_txn *t, const struct http_msg *rep)
{
	struct client_ctx *ctx = t->cc->ctx;
	static const enum http_hdr_id where[] = {
		HTTP_HDR_LOCATION, HTTP_HDR_CONTENT_LOCATION
	};
	char url[4096];
	size_t i;
	int n;

	if (rep->status < 200 || rep->status >= 400)
		return;
	client_cache_purge_url(ctx, t->curl, t->curl_len);
	for (i = 0; i < sizeof where / sizeof where[0]; i++) {
		n = http_cache_invalidates(rep, where[i], t->curl, t->curl_len,
		    url, sizeof url);
		if (n > 0)
			client_cache_purge_url(ctx, url, (size_t)n);
	}
}

/* May t's stale entry answer now that its revalidation failed? */
static bool
client_cache_stale_ok(struct client_txn *t)
{
	double max = t->cc->ctx->deps.conf->max_stale;

	return (http_cache_stale_on_error(store_entry_meta(t->stale),
	    &t->reqcc, client_cache_now(t->cc->ctx), max < INT32_MAX ?
	    (int64_t)max : INT32_MAX));
}

/* Only a failure of the origin (unreachable, silent, broken) lets the
 * stale entry answer; a reply refused by cuttle's own rules (too big)
 * must not come back through the stale copy. */
static bool
client_cache_origin_failed(const struct client_txn *t)
{
	int sys_errno;

	switch (store_entry_error(t->e, &sys_errno)) {
	case STORE_ERR_DNS:
	case STORE_ERR_CONNECT:
	case STORE_ERR_CANNOT_FORWARD:
	case STORE_ERR_READ_TIMEOUT:
	case STORE_ERR_INVALID_RESP:
	case STORE_ERR_ZERO_SIZE:
		return (true);
	default:
		return (false);
	}
}

bool
client_cache_no_reply(struct client_txn *t)
{
	if (t->role != CACHE_REVALIDATE || t->stale == NULL ||
	    !client_cache_origin_failed(t) || !client_cache_stale_ok(t))
		return (false);
	client_cache_switch(t, &t->stale, CACHE_HIT, RESULT_TCP_REFRESH_FAIL_OLD);
	return (true);
}

bool
client_cache_reply(struct client_txn *t)
{
	const struct http_msg *rep = store_entry_reply(t->e);
	struct http_range r;
	uint64_t len;
	int rc;

	if (t->invalidate)
		client_cache_invalidate(t, rep);
	switch (t->role) {
	case CACHE_NONE:
		return (true);
	case CACHE_JOINED:
		if (!client_cache_joined_ok(t, rep)) {
			/* Another variant: fetched (and stored) for this
			 * one; a private reply: forwarded as it is. */
			bool variant = !store_entry_private(t->e);

			store_reader_close(&t->reader);
			t->reader_open = false;
			store_entry_unref(&t->e);
			t->role = CACHE_NONE;
			t->from_store = false;
			t->code = RESULT_TCP_MISS;
			if (!variant || !client_cache_refetch(t))
				client_txn_forward(t);
			return (false);
		}
		break;
	case CACHE_REVALIDATE:
		if (rep->status == 304) {
			client_cache_switch(t, &t->stale, CACHE_HIT,
			    RESULT_TCP_REFRESH_UNMODIFIED);
			t->revalidated = true;
		} else if (rep->status >= 500 && client_cache_stale_ok(t))
			client_cache_switch(t, &t->stale, CACHE_HIT,
			    RESULT_TCP_REFRESH_FAIL_OLD);
		else if (rep->status >= 500)
			t->code = RESULT_TCP_REFRESH_FAIL_ERR;
		rep = store_entry_reply(t->e);
		break;
	default:
		break;
	}
	if (t->from_store)
	/* Ranges count content bytes, not transfer-coded ones. */
	if (rep->status != 200 || http_msg_te_coded(rep))
		return (true);
	/* The client's own conditionals and ranges, answered from the
	 * reply the cache holds (or is getting). */
	if (http_cache_not_modified(&t->req, rep)) {
		t->status_override = 304;
		if (t->role == CACHE_HIT)
			t->code = RESULT_TCP_IMS_HIT;
	} else if (store_entry_state(t->e) == STORE_COMPLETE &&
	    t->req.method == HTTP_M_GET) {
		len = store_entry_body_len(t->e);
		rc = http_range_parse(&t->req, len, &r);
		if (rc != 0 && http_if_range_ok(&t->req, rep)) {
			t->range_len = len;
			if (rc < 0)
				t->status_override = 416;
			else {
				t->status_override = 206;
				t->range_first = r.first;
				t->body_left = r.last - r.first + 1;
				t->limit_body = true;
				store_reader_seek(&t->reader, r.first);
			}
		}
	}
	if (t->status_override == 304 || t->status_override == 416 ||
	    t->req.method == HTTP_M_HEAD) {
		t->limit_body = true;
		t->body_left = 0;
	}
	return (true);
}

/* The server the reply came from, for the log. */
void
client_cache_txn_finish(struct client_txn *t)
{
	const struct sockaddr *peer;

	if (t->fetch == NULL || t->fetch->fwd == NULL)
		return;
	peer = fwd_peer(t->fetch->fwd);
	if (peer != NULL) {
		client_addr_set(&t->server, peer);
		t->hier = (uint8_t)fwd_hier(t->fetch->fwd);
	}
}

void
client_cache_txn_free(struct client_txn *t)
{
	if (t->fetch != NULL)
		t->fetch->owner = NULL;
	t->fetch = NULL;
	store_entry_unref(&t->stale);
	store_entry_unref(&t->disk_e);
	free(t->curl);
	t->curl = NULL;
	free(t->private_fields);
	t->private_fields = NULL;
	t->private_fields_len = 0;
}
