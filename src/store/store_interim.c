/*
 * store_interim.c - interim (1xx) replies on their way to the readers of
 * an entry that waits for its final reply (RFC 9110 15.2).
 *
 * They are not part of the response that is stored: they are held in
 * the live part only for the readers open while they come, and go as
 * soon as the final reply is in and no linked reader still has one to
 * take.  So a cached object never holds one, and a later hit never sends
 * one.
 *
 *	store_entry_add_interim()	appended (at most STORE_INTERIM_MAX)
 *	store_reader_interim()		handed to a reader, oldest first
 *	store_reader_read()		a reader on the body passes them
 *	store_interim_trim()		reply set and nobody behind: gone
 *	store_interim_free_all()	the live part goes
 *
 * Readers count what they were handed (interim_next), an index into the
 * list: the list only grows until the final reply comes, and it is
 * emptied only when no linked reader is behind, so the indices stay good.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "base/check.h"
#include "base/list.h"
#include "store/store_int.h"

struct store_interim {
	struct store_interim	*next;
	struct http_msg		msg;
};

void
store_interim_free_all(struct store_live *l)
{
	struct store_interim *i;

	while ((i = l->interim) != NULL) {
		l->interim = i->next;
		http_msg_fini(&i->msg);
		free(i);
	}
	l->ninterim = 0;
}

int
store_entry_add_interim(struct store_entry *e, struct http_msg *msg)
{
	struct store_live *l;
	struct store_interim *i, **tail;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	CHECK(!(e->flags & STORE_F_REPLY) && !store_sealed(e));
	CHECK(msg->kind == HTTP_MSG_RESPONSE);
	l = e->u.live;
	if (l->ninterim >= STORE_INTERIM_MAX || e->state != STORE_PENDING) {
		http_msg_fini(msg);
		http_msg_init(msg, HTTP_MSG_RESPONSE);
		return (0);
	}
	if ((i = malloc(sizeof *i)) == NULL) {
		http_msg_fini(msg);
		http_msg_init(msg, HTTP_MSG_RESPONSE);
		return (-ENOMEM);
	}
	i->next = NULL;
	i->msg = *msg;
	http_msg_init(msg, HTTP_MSG_RESPONSE);
	for (tail = &l->interim; *tail != NULL; tail = &(*tail)->next)
		continue;
	*tail = i;
	l->ninterim++;
	store_notify_readers(e);
	return (0);
}

/* r has an interim reply to take. */
bool
store_reader_interim_news(const struct store_reader *r)
{
	const struct store_entry *e = r->entry;

	return (r->linked && !store_sealed(e) &&
	    r->interim_next < e->u.live->ninterim);
}

const struct http_msg *
store_reader_interim(struct store_reader *r)
{
	struct store_interim *i;
	unsigned n;

	CHECK_OBJ_NOTNULL(r, STORE_READER_MAGIC);
	if (!store_reader_interim_news(r)) {
		if (r->linked && !store_sealed(r->entry))
			store_interim_trim(r->entry);
		return (NULL);
	}
	i = r->entry->u.live->interim;
	for (n = 0; n < r->interim_next; n++)
		i = i->next;
	r->interim_next++;
	return (&i->msg);
}

void
store_interim_trim(struct store_entry *e)
{
	struct store_live *l = e->u.live;
	struct store_reader *r;
	struct list *n;

	if (l->ninterim == 0 || !(e->flags & STORE_F_REPLY))
		return;
	LIST_FOREACH(n, &l->readers) {
		r = container_of(n, struct store_reader, link);
		if (r->interim_next < l->ninterim)
			return;
	}
	store_interim_free_all(l);
}
