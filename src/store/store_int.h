/*
 * store_int.h - what store_obj.c (entries, readers) and store_index.c (the
 * memory cache) share: the entry itself and the calls between the two.
 *
 * An entry, with the bytes it holds:
 *
 *	struct store_entry --+-- rp: struct store_rpack + raw  (a cacheable
 *	      |              |       reply: status, framing, header bytes)
 *	      |              +-- view: a struct http_msg, see below
 *	      +-- body: slices --> blocks (own, or shared with fwd's reads)
 *	      +-- rlink: on idx->queue (replacement), idx->slot[] points here
 *
 * A reply that may be cached (window 0) is packed when it comes in: its
 * scalars and header bytes only, no field table, no struct http_msg.
 * store_entry_reply() rebuilds the table from the bytes into a view
 * (one malloc: the struct and its fields, raw pointing into rp) when
 * someone asks, and the view goes again when the index is the only one
 * left holding the entry: a cached object idles at its bytes.  A reply
 * that cannot be packed (a private entry's, or one whose table the
 * rebuild would not reproduce) is kept as an owned view
 * (STORE_F_VIEW_OWNED), as parsed.
 *
 * store_entry_mem() = sizeof *e + rp + an owned view's capacities +
 * body_mem + the slice array; a rebuilt view is not counted (it lives
 * while someone other than the index holds the entry).  While the entry
 * is indexed, the index counts exactly that in its bytes, so every
 * change to one of them while indexed goes through store_index_charge()
 * with the figure from before the change.
 */
#ifndef CUTTLE_STORE_INT_H
#define CUTTLE_STORE_INT_H

#include <stdint.h>

#include "store/store.h"

#define STORE_F_REPLY		0x01u	/* set_reply happened */
#define STORE_F_PRIVATE		0x02u	/* store_entry_set_private() */
#define STORE_F_VISITED		0x04u	/* SIEVE: used since the hand passed */
#define STORE_F_OWN_TAIL	0x08u	/* the last body slice is in a block
					 * this entry allocated and may
					 * extend in place */
#define STORE_F_VIEW_OWNED	0x10u	/* view is the reply itself (no rp) */

/* A packed reply: what struct http_msg holds besides its field table,
 * then the header section's bytes. */
struct store_rpack {
	uint32_t		rawlen;
	uint16_t		status;
	uint16_t		nfields;
	struct http_span	reason;
	uint64_t		content_length;
	uint8_t			vmajor;
	uint8_t			vminor;
	uint8_t			body;		/* enum http_body */
	uint8_t			keep_alive;
	char			raw[];
};

struct store_entry {
	unsigned		magic;
#define STORE_ENTRY_MAGIC	0x57e0e471U
	unsigned		refs;
	uint8_t			state;		/* enum store_state */
	uint8_t			err;		/* enum store_err */
	uint8_t			flags;		/* STORE_F_* */
	unsigned		nreaders;
	int			sys_errno;
	uint32_t		window;		/* 0: keep everything */
	uint32_t		window_after;	/* once out of an index */
	struct comm_loop	*loop;
	struct store_index	*idx;		/* NULL: not indexed */
	struct buf_chain	body;		/* [body_start, + body.len) */
	uint64_t		body_start;
	uint64_t		body_mem;	/* body's blocks, class sizes */
	struct list		readers;
	store_room_fn		*room_fn;
	void			*room_arg;
	struct comm_call	room_call;
	struct list		rlink;		/* on idx->queue */
	struct store_key	key;
	char			*url;		/* store_entry_set_url(), or NULL */
	uint64_t		serial;		/* store_entry_serial() */
	struct http_cache_meta	meta;
	struct store_rpack	*rp;		/* the packed reply, or NULL */
	struct http_msg		*view;		/* see above; NULL: none yet */
};

static inline uint64_t
store_body_end(const struct store_entry *e)
{
	return (e->body_start + buf_chain_len(&e->body));
}

enum store_leave {
	STORE_LEAVE_EVICT,	/* counted as evicted */
	STORE_LEAVE_REMOVE	/* counted as removed */
};

/* store_index_charge() - e (indexed) changed from old bytes to what
 * store_entry_mem() says now: count it, apply max_obj, evict to fit.  e
 * may have left the index on return. */
void	store_index_charge(struct store_entry *e, uint64_t old);
/* store_index_count_copied() - n more body bytes were compacted. */
void	store_index_count_copied(struct store_index *idx, uint64_t n);
/* store_index_completed() - e (indexed) is COMPLETE: apply min_obj. */
void	store_index_completed(struct store_entry *e);
/* store_index_leave() - take e out of its index and drop the index's
 * reference (e must be held by the caller too if it uses e after). */
void	store_index_leave(struct store_entry *e, enum store_leave why);

/* store_entry_length() - true when the reply says its body is
 * Content-Length bytes (*cl); false before the reply or without one. */
bool	store_entry_length(const struct store_entry *e, uint64_t *cl);

/* store_entry_unindexed() - e has just left its index: a PENDING entry
 * takes its window_after, and drops what its readers have passed. */
void	store_entry_unindexed(struct store_entry *e);

#endif /* CUTTLE_STORE_INT_H */
