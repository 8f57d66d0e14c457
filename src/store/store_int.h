/*
 * store_int.h - what the files of the store share: the entry itself and
 * the calls between store_obj.c (entries), store_pack.c (replies),
 * store_seal.c (sealing), store_window.c (windows), store_reader.c
 * (readers), store_interim.c (interim replies) and store_index.c (the
 * memory cache).
 *
 * An entry has two shapes.
 *
 * Live: while it fills, while it is private or windowed, and as long as
 * it cannot be sealed, the entry points at a struct store_live: the body
 * as a chain of slices, the readers to tell about progress, the writer's
 * room request, the reply (packed, or an owned view), the URL.
 *
 *	struct store_entry --> struct store_live --+-- rp: store_rpack + raw
 *	                                           +-- url
 *	                                           +-- view (see below)
 *	                                           +-- body: slices --> blocks
 *
 * Sealed: a COMPLETE cached object that only the index holds (the moment
 * store_entry_unref() leaves it there) is copied, entry and all, into
 * one block of exactly its size, its obj; the index is pointed at the
 * copy (nobody else has a pointer to the entry then), and the old entry
 * and its live part go:
 *
 *	obj: struct buf [store_entry | store_rpack | raw | url NUL | body]
 *	                 ^ e (STORE_F_EMBEDDED)
 *
 * The entry's memory is then obj's: the entry holds one reference on
 * obj, dropped when the entry goes, and writes of the body's slices hold
 * theirs, so the block outlives the entry as long as they need it.  The
 * entry's own bytes lie below obj's fill, but no slice ever covers them:
 * the fill rule (bytes below fill never change) is for what slices
 * show.  Readers of a sealed entry get slices of obj (hits stay
 * zero-copy); it never changes in place: a 304's new header section or
 * a new URL unseal it first (it stays embedded where it is, its body a
 * slice of the same block), and it seals anew, into a new block, when it
 * is idle again.  A sealed entry is never PENDING, private or windowed,
 * and has no readers to notify: everything it will ever have is there.
 *
 * A reply that may be cached (window 0) is packed when it comes in: its
 * scalars and header bytes only, no field table, no struct http_msg.
 * store_entry_reply() rebuilds the table from the bytes into a view
 * (one malloc: the struct and its fields, raw pointing into the pack)
 * when someone asks, and the view goes again when the index is the only
 * one left holding the entry.  A reply that cannot be packed (a private
 * entry's, or one whose table the rebuild would not reproduce) is kept
 * as an owned view (STORE_F_VIEW_OWNED), as parsed, and its entry is
 * never sealed.
 *
 * store_entry_mem() = the entry (sizeof *e, or for an embedded one its
 * obj's header and size) + for a live one sizeof the live part, its
 * reply pack, URL, owned view's capacities, body_mem and the slice
 * array; a rebuilt view is not counted
 * (it lives while someone other than the index holds the entry).  While
 * the entry is indexed, the index counts exactly that in its bytes, so
 * every change to one of them while indexed goes through
 * store_index_charge() with the figure from before the change.
 */
#ifndef CUTTLE_STORE_INT_H
#define CUTTLE_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Slices up to this size are copied when a smaller block holds them. */
#define STORE_COPY_SMALL	16384u
/* Bodies up to this size are sealed (copied once more, into the block
 * that holds the reply and URL too): the per-object bytes matter for
 * small objects, and a large one is left in the blocks it came in. */
#define STORE_SEAL_MAX		STORE_COPY_SMALL

#define STORE_F_REPLY		0x01u	/* set_reply happened */
#define STORE_F_PRIVATE		0x02u	/* store_entry_set_private() */
#define STORE_F_VISITED		0x04u	/* SIEVE: used since the hand passed */
#define STORE_F_OWN_TAIL	0x08u	/* the last body slice is in a block
					 * this entry allocated and may
					 * extend in place */
#define STORE_F_VIEW_OWNED	0x10u	/* live->view is the reply itself
					 * (no rp) */
#define STORE_F_SEALED		0x20u	/* obj holds it all; no live part */
#define STORE_F_EMBEDDED	0x40u	/* e is the first bytes of a block,
					 * its obj, which it holds a
					 * reference on */

/* A packed reply: the header section's bytes, and of what struct
 * http_msg holds only what they do not say (the rest is read from them
 * again, see store_view_build()); in a sealed obj, urllen bytes of URL
 * and a NUL follow raw. */
struct store_rpack {
	uint32_t		rawlen;
	uint16_t		urllen;		/* sealed obj only; else 0 */
	uint8_t			body;		/* enum http_body */
	uint8_t			keep_alive;
	char			raw[];
};

/* What an entry needs only while it is live (see above). */
struct store_live {
	struct store_entry	*entry;		/* whose (for room_call) */
	struct comm_loop	*loop;		/* posts room_call */
	struct buf_chain	body;		/* [body_start, + body.len) */
	uint64_t		body_start;
	uint64_t		body_mem;	/* body's blocks, class sizes */
	struct list		readers;	/* linked store_readers */
	store_room_fn		*room_fn;
	void			*room_arg;
	struct comm_call	room_call;
	uint32_t		window;		/* 0: keep everything */
	uint32_t		window_after;	/* once out of an index */
	int			sys_errno;
	uint8_t			err;		/* enum store_err */
	char			*err_detail;	/* or NULL */
	struct store_rpack	*rp;		/* the packed reply, or NULL */
	uint64_t		content_length;	/* rp's (it says only the
						 * framing) */
	char			*url;		/* store_entry_set_url(), or NULL */
	struct http_msg		*view;		/* see above; NULL: none yet */
	struct store_interim	*interim;	/* oldest first; see
						 * store_interim.c */
	uint8_t			ninterim;
};

struct store_entry {
	unsigned		magic;
#define STORE_ENTRY_MAGIC	0x57e0e471U
	unsigned		refs;
	uint8_t			state;		/* enum store_state */
	uint8_t			flags;		/* STORE_F_* */
	unsigned		nreaders;
	struct store_index	*idx;		/* NULL: not indexed */
	union {
		struct store_live *live;	/* not sealed: never NULL */
		struct http_msg	*view;		/* sealed: the view of the
						 * reply in obj, while someone
						 * besides the index holds e;
						 * else NULL */
	} u;
	struct list		rlink;		/* on idx->queue */
	struct store_key	key;
	struct http_cache_meta	meta;
};

static inline bool
store_sealed(const struct store_entry *e)
{
	return ((e->flags & STORE_F_SEALED) != 0);
}

/* An embedded entry starts a block's data: it must be aligned there. */
_Static_assert(offsetof(struct buf, data) %
    _Alignof(struct store_entry) == 0, "an entry must fit at buf data");

/* The block an embedded entry is the first bytes of. */
static inline struct buf *
store_obj(const struct store_entry *e)
{
	return ((struct buf *)(void *)((char *)(uintptr_t)e -
	    offsetof(struct buf, data)));
}

/* A sealed obj's packed reply (right after the entry), its URL, and
 * where its body starts in the block. */
static inline const struct store_rpack *
store_obj_rp(const struct store_entry *e)
{
	return ((const struct store_rpack *)(const void *)(e + 1));
}

static inline const char *
store_obj_url(const struct store_entry *e)
{
	const struct store_rpack *rp = store_obj_rp(e);

	return (rp->raw + rp->rawlen);
}

static inline uint32_t
store_obj_body_off(const struct store_entry *e)
{
	const struct store_rpack *rp = store_obj_rp(e);

	return ((uint32_t)(sizeof *e + offsetof(struct store_rpack, raw)) +
	    rp->rawlen + rp->urllen + 1u);
}

/* The packed reply, wherever it is; NULL for none or an owned view. */
static inline const struct store_rpack *
store_entry_rp(const struct store_entry *e)
{
	return (store_sealed(e) ? store_obj_rp(e) : e->u.live->rp);
}

/* store_obj.c */
/* store_live_new() - a live part for e (loop NULL: set when it is
 * needed), its body empty.  NULL on ENOMEM. */
struct store_live *store_live_new(struct store_entry *e,
	    struct comm_loop *loop, struct buf_pool *pool);
/* store_live_free() - e's live part goes (no reader may be linked). */
void	store_live_free(struct store_entry *e);
/* store_reply_drop() - e's reply, packed or owned, and any view of it
 * go. */
void	store_reply_drop(struct store_entry *e);
/* store_entry_free_mem() - the memory of e itself: its block's
 * reference (embedded), or its malloc. */
void	store_entry_free_mem(struct store_entry *e);
/* store_body_end() - the body offset past its last byte held. */
uint64_t	store_body_end(const struct store_entry *e);
/* store_entry_set_window_after() - the window e takes if it leaves its
 * index while still PENDING (see store_index_add()). */
void	store_entry_set_window_after(struct store_entry *e, size_t window);

/* store_interim.c: interim replies, held for the readers waiting. */
struct store_interim;
void	store_interim_free_all(struct store_live *l);
/* store_reader_interim_news() - r has an interim reply to take. */
bool	store_reader_interim_news(const struct store_reader *r);
/* store_notify_readers() - post the call of every armed reader of live
 * e (store_obj.c). */
void	store_notify_readers(struct store_entry *e);
/* store_interim_trim() - let the interim replies go once the final reply
 * is in and no linked reader still has one to take. */
void	store_interim_trim(struct store_entry *e);

enum store_leave {
	STORE_LEAVE_EVICT,	/* counted as evicted */
	STORE_LEAVE_REMOVE	/* counted as removed */
};

/* store_index_charge() - e (indexed) changed from old bytes to what
 * store_entry_mem() says now: count it, apply max_obj, evict to fit.  e
 * may have left the index on return. */
void	store_index_charge(struct store_entry *e, uint64_t old);
/* store_index_moved() - e (indexed) was copied to ne, which takes its
 * place in the table and the replacement order; e is the caller's to
 * free, and nothing of the index points at it any more. */
void	store_index_moved(struct store_entry *e, struct store_entry *ne);
/* store_index_shrunk() - e (indexed) holds fewer bytes than old now and
 * its body is as it was: counted, nothing else (no eviction, no limit
 * to apply), so that e and the index are as they were otherwise. */
void	store_index_shrunk(struct store_entry *e, uint64_t old);
/* store_index_count_copied() - n more body bytes were compacted. */
void	store_index_count_copied(struct store_index *idx, uint64_t n);
/* store_index_completed() - e (indexed) is COMPLETE: apply min_obj. */
void	store_index_completed(struct store_entry *e);
/* store_index_leave() - take e out of its index and drop the index's
 * reference (e must be held by the caller too if it uses e after). */
void	store_index_leave(struct store_entry *e, enum store_leave why);

/* store_pack.c */
/* store_view_build() - a view of rp: one allocation (freed with free()
 * alone), raw pointing into rp.  NULL on ENOMEM or when the bytes are
 * not a header section as the parser leaves one. */
struct http_msg *store_view_build(const struct store_rpack *rp);
/* store_entry_length() - true when the reply says its body is
 * Content-Length bytes (*cl); false before the reply or without one. */
bool	store_entry_length(const struct store_entry *e, uint64_t *cl);

/* store_seal.c */
/* store_seal() - e (COMPLETE, live, held by its index alone) into one
 * block, the index pointed at the copy; e is gone then.  When it cannot
 * be sealed, e stays as it is. */
void	store_seal(struct store_entry *e);
/* store_unseal() - sealed e (held by the caller) back to live, in
 * place.  0, or -ENOMEM with e left sealed. */
int	store_unseal(struct store_entry *e);

/* store_window.c */
/* store_room_call() - the live part's room_call: tells the writer. */
comm_call_fn	store_room_call;
/* store_trim() - a windowed e drops what every reader has passed and
 * tells a waiting writer about room; nothing for any other entry. */
void	store_trim(struct store_entry *e);
/* store_entry_unindexed() - e has just left its index: a PENDING entry
 * takes its window_after, and drops what its readers have passed. */
void	store_entry_unindexed(struct store_entry *e);

#endif /* CUTTLE_STORE_INT_H */
