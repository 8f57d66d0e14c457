/*
 * list.h - intrusive circular doubly-linked lists.
 *
 * A `struct list` is both the head and the link embedded in each member; an
 * empty head points at itself, so insert and remove never branch on NULL.
 * A removed node is re-initialised, so list_remove() twice is harmless and
 * list_linked() tells whether a node is on some list.
 *
 *	struct list q; list_init(&q);
 *	list_insert_tail(&q, &w->link);
 *	LIST_FOREACH_SAFE(n, tmp, &q) { struct w *w = container_of(n, ...); }
 */
#ifndef CUTTLE_BASE_LIST_H
#define CUTTLE_BASE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list {
	struct list	*prev;
	struct list	*next;
};

static inline void
list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline bool
list_empty(const struct list *l)
{
	return (l->next == l);
}

/* list_linked() - true when node n is on a list (not merely initialised). */
static inline bool
list_linked(const struct list *n)
{
	return (n->next != n && n->next != NULL);
}

static inline void
list_insert_after(struct list *pos, struct list *n)
{
	n->prev = pos;
	n->next = pos->next;
	pos->next->prev = n;
	pos->next = n;
}

static inline void
list_insert_tail(struct list *head, struct list *n)
{
	list_insert_after(head->prev, n);
}

static inline void
list_insert_head(struct list *head, struct list *n)
{
	list_insert_after(head, n);
}

static inline void
list_remove(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/* list_first() - first node, or NULL when the list is empty. */
static inline struct list *
list_first(const struct list *head)
{
	return (list_empty(head) ? NULL : head->next);
}

/* list_move() - append every node of src to dst; src ends empty. */
static inline void
list_move(struct list *dst, struct list *src)
{
	if (list_empty(src))
		return;
	src->next->prev = dst->prev;
	dst->prev->next = src->next;
	src->prev->next = dst;
	dst->prev = src->prev;
	list_init(src);
}

#define LIST_FOREACH(n, head)						\
	for ((n) = (head)->next; (n) != (head); (n) = (n)->next)
/* Safe against removal of n inside the body. */
#define LIST_FOREACH_SAFE(n, tmp, head)					\
	for ((n) = (head)->next, (tmp) = (n)->next; (n) != (head);	\
	    (n) = (tmp), (tmp) = (n)->next)

#endif /* CUTTLE_BASE_LIST_H */
