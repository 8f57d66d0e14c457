/*
 * store.h - store entries: where the server side (fwd) and the client side
 * meet.  The server side fills an entry (reply headers, then body slices,
 * then COMPLETE or ABORTED); each client reads it through a cursor.  A hit
 * and a miss are served by the same reading code.
 *
 * Contract:
 * - An entry is refcounted: its creator holds one reference, each open
 *   reader one more.  store_entry_unref() drops one; the entry and the
 *   pages it holds go at zero.  A pointer to an entry is good only with
 *   a reference behind it: when the index is left its only holder, a
 *   complete entry is sealed, which moves it (store_int.h).
 * - Body bytes are slices of refcounted blocks: appending takes a
 *   reference, reading hands out references (nothing is copied), so a
 *   page stays valid for as long as any write of it is pending, whatever
 *   happens to the entry.
 * - Notifications are never re-entrant: a reader (or the writer waiting
 *   for room) that asks to be told about progress is told from the loop's
 *   call queue, once per request, never inside the store_* call.
 * - A private entry (a reply that is not cached) is never shared and keeps
 *   a bounded window: bytes every reader has passed are dropped, and the
 *   writer waits for room before it reads more from the origin.
 *
 * Lifecycle:
 *	store_entry_new()		PENDING, no reply yet
 *	store_entry_set_reply()		reply headers known
 *	store_entry_append()		body bytes, any number of times
 *	store_entry_complete()		COMPLETE: every byte is there
 *	store_entry_abort()		ABORTED: never served as complete
 *	store_entry_unref()		the last reference frees it
 */
#ifndef CUTTLE_STORE_H
#define CUTTLE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/list.h"
#include "buf/buf.h"
#include "comm/comm.h"
#include "http/http_cache.h"
#include "http/http_msg.h"

enum store_state {
	STORE_PENDING,
	STORE_COMPLETE,
	STORE_ABORTED
};

/* Why an entry was aborted before it had a reply: what the client side
 * turns into an error page.  X-macro rows: STORE_ERR(sym, text). */
#define STORE_ERRORS							\
	STORE_ERR(NONE,		"no error")				\
	STORE_ERR(DNS,		"the host name could not be resolved")	\
	STORE_ERR(CONNECT,	"the connection to the server failed")	\
	STORE_ERR(READ_TIMEOUT,	"the server did not answer in time")	\
	STORE_ERR(INVALID_RESP,	"the server sent an invalid reply")	\
	STORE_ERR(ZERO_SIZE,	"the server closed without a reply")	\
	STORE_ERR(WRITE,	"the request could not be sent")	\
	STORE_ERR(TOO_BIG,	"the reply is larger than allowed")	\
	STORE_ERR(SECURE_CONNECT, "the TLS handshake with the server failed") \
	STORE_ERR(CANNOT_FORWARD, "no peer is up and never_direct forbids "	\
	    "going to the server")						\
	STORE_ERR(NOMEM,	"out of memory")

enum store_err {
#define STORE_ERR(sym, text)	STORE_ERR_##sym,
	STORE_ERRORS
#undef STORE_ERR
	STORE_ERR__COUNT
};

const char	*store_err_text(enum store_err e);

struct store_entry;
struct store_reader;

/* Progress for a reader: new headers, bytes, or an end. */
typedef void store_reader_fn(struct store_reader *r, void *arg);
/* Room for the writer of a private entry, or its last reader left. */
typedef void store_room_fn(struct store_entry *e, void *arg);

/* A reader's cursor, embedded in its owner (the client transaction). */
struct store_reader {
	unsigned		magic;
#define STORE_READER_MAGIC	0x5e4dc0deU
	struct store_entry	*entry;
	struct comm_loop	*loop;		/* runs call */
	uint64_t		off;		/* next body byte to read */
	store_reader_fn		*fn;
	void			*arg;
	struct comm_call	call;		/* posts fn */
	bool			armed;		/* store_reader_wait() asked */
	bool			told_reply;	/* fn ran since the reply came */
	bool			linked;		/* on the entry's readers: it was
						 * live when r opened (a sealed
						 * one has no news to tell) */
	uint8_t			interim_next;	/* interim replies handed out */
	struct list		link;
	/* Where the last read stopped: slice hint_slice of the body starts
	 * at body offset hint_start.  Slices of a body nothing was dropped
	 * from never move, so the next read starts there, not at the front:
	 * reading a large entry costs O(1) per call, not O(slices). */
	uint32_t		hint_slice;
	uint64_t		hint_start;
};

/* store_entry_new() - a PENDING entry; window > 0 makes it private with
 * at most window body bytes held at once (0: keep every byte).  One
 * reference for the caller.  NULL on ENOMEM. */
struct store_entry	*store_entry_new(struct comm_loop *loop,
			    struct buf_pool *pool, size_t window);
void			store_entry_ref(struct store_entry *e);
/* store_entry_unref() - drop a reference, NULL *ep; may free the entry,
 * or seal it (move it) when the index is left its only holder. */
void			store_entry_unref(struct store_entry **ep);

enum store_state	store_entry_state(const struct store_entry *e);
/* store_entry_reply() - the reply headers, or NULL before set_reply (or
 * when rebuilding them from the packed form runs out of memory).  The
 * pointer is valid while the caller holds a reference on e and until
 * update_reply: a cached entry keeps its reply packed, and the table
 * handed out here goes once the index is the only holder left. */
const struct http_msg	*store_entry_reply(const struct store_entry *e);
/* store_entry_body_len() - body bytes appended so far. */
uint64_t		store_entry_body_len(const struct store_entry *e);
unsigned		store_entry_nreaders(const struct store_entry *e);

/* -- the writer ----------------------------------------------------------- */

/* store_entry_add_interim() - an interim (1xx) reply came before the
 * final one: *msg is moved in (left empty and initialised again) for the
 * readers open now, who get it through store_reader_interim() before
 * the final reply.  It is never part of what is stored: it is not
 * counted in store_entry_mem(), and it goes once the final reply is set
 * and every reader open then has taken it or closed (sealing never keeps
 * it).  At most STORE_INTERIM_MAX are kept at once; more are dropped
 * (they are advice).  Only before set_reply.  0, or -ENOMEM (msg is
 * emptied all the same; the entry is unchanged). */
#define STORE_INTERIM_MAX	8
int	store_entry_add_interim(struct store_entry *e, struct http_msg *msg);
/* store_entry_set_reply() - move *msg (a parsed reply) into the entry;
 * msg is left empty and initialised again.  Once per entry. */
void	store_entry_set_reply(struct store_entry *e, struct http_msg *msg);
/* store_entry_append() - [off, off+len) of b as the next body bytes; one
 * reference taken, nothing copied.  0 or -ENOMEM. */
int	store_entry_append(struct store_entry *e, struct buf *b, size_t off,
	    size_t len);
void	store_entry_complete(struct store_entry *e);
/* store_entry_abort() - the entry will never be complete.  err and
 * sys_errno say why (kept for the error page when there is no reply
 * yet); a second abort, or one after complete, changes nothing. */
void	store_entry_abort(struct store_entry *e, enum store_err err,
	    int sys_errno);
enum store_err	store_entry_error(const struct store_entry *e, int *sys_errno);
/* store_entry_abort_detail() - store_entry_abort() with a detail for the
 * error page (%D: "X509_V_ERR_CERT_HAS_EXPIRED"), copied; detail may be
 * NULL.  store_entry_error_detail() gives it back (NULL: none), valid
 * while the caller holds e. */
void	store_entry_abort_detail(struct store_entry *e, enum store_err err,
	    int sys_errno, const char *detail);
const char	*store_entry_error_detail(const struct store_entry *e);
/* store_entry_room() - body bytes a private entry can take before its
 * window is full (SIZE_MAX for an entry that keeps everything). */
size_t	store_entry_room(const struct store_entry *e);
/* store_entry_windowed() - true for an entry that keeps only a window
 * (private from the start, or out of its index while filling). */
bool	store_entry_windowed(const struct store_entry *e);
/* store_entry_body_start() - the body offset of the first byte e still
 * holds: 0 until a window dropped what every reader had passed (a reader
 * opened later could not have the start). */
uint64_t	store_entry_body_start(const struct store_entry *e);
/* store_entry_wait_room() - call fn once, from the loop, when readers
 * have made room or the last reader has gone (check nreaders); a later
 * call replaces the request, fn NULL withdraws it. */
void	store_entry_wait_room(struct store_entry *e, store_room_fn *fn,
	    void *arg);

/* -- readers -------------------------------------------------------------- */

/* store_reader_open() - a cursor at the start of e's body; takes a
 * reference on e.  fn runs from loop after store_reader_wait() when
 * there is something to see. */
void	store_reader_open(struct store_reader *r, struct store_entry *e,
	    struct comm_loop *loop, store_reader_fn *fn, void *arg);
/* store_reader_close() - no more callbacks (a queued one is withdrawn);
 * drops the reference on the entry. */
void	store_reader_close(struct store_reader *r);
/* store_reader_wait() - call fn once, from the loop, as soon as there is
 * an interim reply not handed out, a reply, body bytes past the cursor,
 * or the entry has ended (at once, through the queue, if that is so
 * already). */
void	store_reader_wait(struct store_reader *r);
/* store_reader_interim() - the next interim reply this reader has not
 * been handed yet, oldest first, or NULL.  Valid until the next store_*
 * call on the entry.  A reader opened after the final reply came gets
 * none: they were for the requests already waiting.  Reading body bytes
 * passes over any left. */
const struct http_msg	*store_reader_interim(struct store_reader *r);
/* store_reader_read() - append up to max body bytes from the cursor to
 * out as slices (references, no copy) and advance; returns the count. */
size_t	store_reader_read(struct store_reader *r, struct buf_chain *out,
	    size_t max);
/* store_reader_seek() - move the cursor to body byte off (a range). */
void	store_reader_seek(struct store_reader *r, uint64_t off);
/* store_reader_done() - true once the entry is COMPLETE and every body
 * byte has been read; store_entry_state() tells an abort. */
bool	store_reader_done(const struct store_reader *r);

/* -- cache metadata kept with an entry ------------------------------------- */

/* store_entry_meta() - freshness figures of the reply (set by whoever
 * stores it, read on every hit); zeroed in a new entry. */
struct http_cache_meta	*store_entry_meta(struct store_entry *e);
/* store_entry_update_reply() - a 304 refreshed the stored header section
 * (RFC 9111 4.3.4): *msg replaces the reply (moved, as set_reply), meta
 * the figures.  Readers that already wrote their header section are not
 * affected; the body stays. */
void	store_entry_update_reply(struct store_entry *e, struct http_msg *msg,
	    const struct http_cache_meta *meta);

/* -- the memory cache: entries by key ------------------------------------- */

/* A key: a digest of the method, the absolute URL and, for a variant,
 * the request's values of the fields Vary names (http_cache_vary_key). */
#define STORE_KEY_LEN		16
struct store_key {
	uint8_t		b[STORE_KEY_LEN];
};

/* store_key_make() - SHA-256 of the three parts (each length-prefixed, so
 * that no two lists of parts give one input), first 16 bytes.  extra may
 * be NULL. */
void	store_key_make(struct store_key *k, const char *method, size_t mlen,
	    const char *url, size_t ulen, const char *extra, size_t elen);
/* store_key_hex() - 32 hex digits and a NUL into buf (33 bytes). */
const char	*store_key_hex(const struct store_key *k, char *buf);

enum store_policy {
	STORE_POLICY_LRU,
	STORE_POLICY_SIEVE
};

struct store_limits {
	uint64_t		cache_mem;	/* every indexed byte counts */
	uint64_t		max_obj;	/* maximum_object_size_in_memory
						 * (body bytes); 0: no limit */
	uint64_t		min_obj;	/* minimum_object_size (body
						 * bytes); 0: no limit */
	enum store_policy	policy;
};

struct store_index;

/* store_index_new() - an empty memory cache.  NULL on ENOMEM. */
struct store_index	*store_index_new(struct comm_loop *loop,
			    struct buf_pool *pool,
			    const struct store_limits *lim);
/* store_index_free() - drops the index's reference on every entry;
 * entries still held elsewhere live on, unindexed. */
void			store_index_free(struct store_index **ip);
/* store_index_set_limits() - new limits (reconfigure); evicts at once
 * down to the new cache_mem, and a new policy keeps the entries. */
void			store_index_set_limits(struct store_index *idx,
			    const struct store_limits *lim);

/* store_index_lookup() - the entry under k, PENDING or COMPLETE (never
 * ABORTED), with a reference for the caller; NULL when there is none.
 * Counts as a use for the replacement policy. */
struct store_entry	*store_index_lookup(struct store_index *idx,
			    const struct store_key *k);
/* store_index_peek() - the same, without side effects: no use for the
 * replacement policy, no counter moves (ICP asks whether an entry is
 * there; it does not read it). */
struct store_entry	*store_index_peek(struct store_index *idx,
			    const struct store_key *k);

/* store_index_add() - index e (a PENDING entry made with window 0) under
 * k; the index takes a reference.  An entry already under k is removed
 * first (its readers keep it).  From then on e's bytes count against
 * cache_mem, and the least useful unheld entries are evicted to make
 * room.  If e grows past max_obj (or its Content-Length says it will),
 * or is aborted, it leaves the index by itself: its readers go on, and
 * from then on it keeps only a window of window_after bytes, as a
 * private entry does (0: it keeps every byte).  Any PENDING entry that
 * leaves the index (evicted, removed, private) takes that window too, so
 * that what nobody can find any more stays bounded.  A COMPLETE entry
 * smaller than min_obj leaves too.  An entry that cannot be cached
 * (aborted, private, already windowed) is not indexed and 0 is returned
 * all the same: it has left at once.  While indexed, small appended
 * slices are copied into blocks of the entry's own size (a 1 KiB body
 * must not pin the 64 KiB block it was read into); hits stay zero-copy.
 * 0, or -ENOMEM (e is not indexed). */
int	store_index_add(struct store_index *idx, struct store_entry *e,
	    const struct store_key *k, size_t window_after);

/* store_index_rekey() - move e, indexed, to key k (its reply's Vary
 * chose the variant); an entry already under k is removed.  e keeps its
 * place in the replacement order, its bytes stay counted, and it goes on
 * filling whole.  An e not indexed is added (store_index_add()). */
int	store_index_rekey(struct store_index *idx, struct store_entry *e,
	    const struct store_key *k, size_t window_after);
/* store_index_remove() - take e out of the index (purge, invalidation,
 * an uncacheable reply); it lives on for those who hold it.  Nothing
 * happens if e is not indexed. */
void	store_index_remove(struct store_index *idx, struct store_entry *e);
/* store_index_purge() - remove the entry under k; true if there was one. */
bool	store_index_purge(struct store_index *idx, const struct store_key *k);

/* store_entry_set_private() - the reply turned out to be for its
 * requester alone (not storable): e leaves its index, and readers that
 * joined it while it was pending (collapsed forwarding) must not be
 * served from it; store_entry_private() tells them to fetch their own. */
void	store_entry_set_private(struct store_entry *e);
bool	store_entry_private(const struct store_entry *e);
/* store_entry_set_url() - the URL e holds a reply for, kept (and counted
 * against cache_mem) for the cache manager's objects page; a copy is
 * taken.  0 or -ENOMEM.  store_entry_url() - it, or NULL. */
int		store_entry_set_url(struct store_entry *e, const char *url,
		    size_t len);
const char	*store_entry_url(const struct store_entry *e);
/* store_entry_indexed() - true while e is in an index. */
bool	store_entry_indexed(const struct store_entry *e);
const struct store_key	*store_entry_key(const struct store_entry *e);
/* store_entry_mem() - bytes e holds as the index counts them: its struct,
 * its reply's header section and table, its body blocks (their class
 * sizes, each block once however many slices of it there are) and the
 * body's slice array. */
uint64_t	store_entry_mem(const struct store_entry *e);

struct store_index_stats {
	uint64_t	entries;	/* indexed now */
	uint64_t	bytes;		/* counted against cache_mem */
	uint64_t	lookups;
	uint64_t	hits;		/* lookups that found an entry */
	uint64_t	added;
	uint64_t	evicted;
	uint64_t	removed;	/* purge, invalidation, too big, abort */
	uint64_t	copied;		/* body bytes copied into entry-owned
					 * blocks (small slices compacted) */
};
void	store_index_stats(const struct store_index *idx,
	    struct store_index_stats *st);

/* store_index_walk() - fn for each indexed entry, in no set order; fn
 * must not change the index. */
typedef void store_walk_fn(struct store_entry *e, void *arg);
void	store_index_walk(struct store_index *idx, store_walk_fn *fn,
	    void *arg);

struct mgr_registry;

/* store_register_pages() - the cache manager's objects and storedir
 * pages, rendered from idx (store_mgr.c); idx must outlive r.  0 or a
 * negative errno (mgr_register()). */
int	store_register_pages(struct store_index *idx,
	    struct mgr_registry *r);

#endif /* CUTTLE_STORE_H */
