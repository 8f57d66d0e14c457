/*
 * store_seal.c - sealing: a COMPLETE cached object that only its index
 * holds is copied, entry and all, into one block of exactly its size
 * (the layout is drawn in store_int.h), and back to live when a change
 * cannot be made in place.
 *
 *	store_entry_unref()	to the index alone, COMPLETE: store_seal()
 *				(store_obj.c); an entry that cannot be
 *				sealed stays live and is served the same
 *	store_unseal()		a 304's header section or a new URL: live
 *				again, the body a slice of the same block
 *	store_entry_unref()	idle again: sealed anew, into a new block
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "store/store.h"
#include "store/store_int.h"

/*
 * Seal e (COMPLETE, live, held by its index alone: nobody but the index
 * has a pointer to it or into its live part): one exact block takes the
 * entry itself, the packed reply, the URL and the body; the index is
 * pointed at the copy, and the old entry, its live part and its blocks
 * go.  An entry that cannot be sealed (its reply not packed, a window,
 * a body too big, ENOMEM) stays as it is, and is served the same.
 */
void
store_seal(struct store_entry *e)
{
	struct store_live *l = e->u.live;
	const struct buf_slice *sl;
	struct store_entry *ne;
	struct store_rpack *np;
	struct buf *obj;
	uint64_t old, need, blen = buf_chain_len(&l->body);
	size_t ulen = l->url != NULL ? strlen(l->url) : 0, head;
	unsigned i, ns = buf_chain_nslices(&l->body);

	if (l->rp == NULL || l->window != 0 || l->body_start != 0 ||
	    l->room_fn != NULL || e->nreaders != 0 || ulen > UINT16_MAX ||
	    blen > STORE_SEAL_MAX)
		return;
	head = offsetof(struct store_rpack, raw) + l->rp->rawlen;
	need = sizeof *e + head + ulen + 1 + blen;
	old = store_entry_mem(e);
	/* Never more than it holds live: sealing only ever gives back. */
	if (sizeof *obj + need > old)
		return;
	obj = buf_alloc_exact(l->body.pool, (size_t)need);
	if (obj == NULL)
		return;
	buf_append(obj, e, sizeof *e);
	buf_append(obj, l->rp, head);
	buf_append(obj, l->url, ulen);
	buf_append(obj, "", 1);
	for (i = 0; i < ns; i++) {
		sl = buf_chain_slice(&l->body, i);
		buf_append(obj, buf_slice_ptr(sl), sl->len);
	}
	ne = (struct store_entry *)(void *)buf_data(obj);
	np = (struct store_rpack *)(void *)(ne + 1);
	np->urllen = (uint16_t)ulen;
	ne->u.view = NULL;
	ne->flags = (uint8_t)((e->flags & ~STORE_F_OWN_TAIL) |
	    STORE_F_SEALED | STORE_F_EMBEDDED);
	store_index_moved(e, ne);
	store_live_free(e);
	store_entry_free_mem(e);
	store_index_shrunk(ne, old);
}

/* Back to live, for a change a sealed obj cannot take in place: reply
 * and URL become own copies, the body a slice of the block, which the
 * entry (embedded in it) keeps.  The caller holds e (it is not idle),
 * so it seals again, into a new block, once it is.  0 or -ENOMEM (e is
 * left sealed). */
int
store_unseal(struct store_entry *e)
{
	const struct store_rpack *orp = store_obj_rp(e);
	size_t head = offsetof(struct store_rpack, raw) + orp->rawlen;
	struct buf *obj = store_obj(e);
	uint32_t off = store_obj_body_off(e);
	struct store_live *l;
	uint64_t old = store_entry_mem(e);

	l = store_live_new(e, NULL, obj->pool);
	if (l == NULL)
		return (-ENOMEM);
	l->rp = malloc(head);
	if (orp->urllen > 0)
		l->url = strndup(store_obj_url(e), orp->urllen);
	if (l->rp == NULL || (orp->urllen > 0 && l->url == NULL) ||
	    (obj->fill > off && buf_chain_append_slice(&l->body, obj, off,
	    obj->fill - off) != 0)) {
		free(l->rp);
		free(l->url);
		buf_chain_fini(&l->body);
		free(l);
		return (-ENOMEM);
	}
	memcpy(l->rp, orp, head);
	l->rp->urllen = 0;
	l->content_length = obj->fill - off;
	/* body_mem stays 0: the block is counted as the entry's own. */
	/* A view handed out stays valid for its holders: the same struct,
	 * its raw moved to the same bytes in the new pack. */
	l->view = e->u.view;
	if (l->view != NULL)
		l->view->raw = l->rp->raw;
	e->u.live = l;
	e->flags &= ~STORE_F_SEALED;
	if (e->idx != NULL)
		store_index_charge(e, old);
	return (0);
}
