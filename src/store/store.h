/*
 * store.h - store entries: where the server side (fwd) and the client side
 * meet.  The server side fills an entry (reply headers, then body slices,
 * then COMPLETE or ABORTED); each client reads it through a cursor.  A hit
 * and a miss are served by the same reading code.
 *
 * Contract:
 * - An entry is refcounted: its creator holds one reference, each open
 *   reader one more.  store_entry_unref() drops one; the entry and the
 *   pages it holds go at zero.
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
	uint64_t		off;		/* next body byte to read */
	store_reader_fn		*fn;
	void			*arg;
	struct comm_call	call;		/* posts fn */
	bool			armed;		/* store_reader_wait() asked */
	bool			told_reply;	/* fn ran since the reply came */
	struct list		link;		/* on entry->readers */
};

/* store_entry_new() - a PENDING entry; window > 0 makes it private with
 * at most window body bytes held at once (0: keep every byte).  One
 * reference for the caller.  NULL on ENOMEM. */
struct store_entry	*store_entry_new(struct comm_loop *loop,
			    struct buf_pool *pool, size_t window);
void			store_entry_ref(struct store_entry *e);
/* store_entry_unref() - drop a reference, NULL *ep; may free the entry. */
void			store_entry_unref(struct store_entry **ep);

enum store_state	store_entry_state(const struct store_entry *e);
/* store_entry_reply() - the reply headers, or NULL before set_reply. */
const struct http_msg	*store_entry_reply(const struct store_entry *e);
/* store_entry_body_len() - body bytes appended so far. */
uint64_t		store_entry_body_len(const struct store_entry *e);
unsigned		store_entry_nreaders(const struct store_entry *e);

/* -- the writer ----------------------------------------------------------- */

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
/* store_entry_room() - body bytes a private entry can take before its
 * window is full (SIZE_MAX for an entry that keeps everything). */
size_t	store_entry_room(const struct store_entry *e);
/* store_entry_wait_room() - call fn once, from the loop, when readers
 * have made room or the last reader has gone (check nreaders); a later
 * call replaces the request, fn NULL withdraws it. */
void	store_entry_wait_room(struct store_entry *e, store_room_fn *fn,
	    void *arg);

/* -- readers -------------------------------------------------------------- */

/* store_reader_open() - a cursor at the start of e's body; takes a
 * reference on e.  fn runs after store_reader_wait() when there is
 * something to see. */
void	store_reader_open(struct store_reader *r, struct store_entry *e,
	    store_reader_fn *fn, void *arg);
/* store_reader_close() - no more callbacks (a queued one is withdrawn);
 * drops the reference on the entry. */
void	store_reader_close(struct store_reader *r);
/* store_reader_wait() - call fn once, from the loop, as soon as there is
 * a reply or body bytes past the cursor or the entry has ended (at once,
 * through the queue, if that is so already). */
void	store_reader_wait(struct store_reader *r);
/* store_reader_read() - append up to max body bytes from the cursor to
 * out as slices (references, no copy) and advance; returns the count. */
size_t	store_reader_read(struct store_reader *r, struct buf_chain *out,
	    size_t max);
/* store_reader_done() - true once the entry is COMPLETE and every body
 * byte has been read; store_entry_state() tells an abort. */
bool	store_reader_done(const struct store_reader *r);

#endif /* CUTTLE_STORE_H */
