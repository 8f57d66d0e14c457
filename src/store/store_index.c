/*
 * store_index.c - the memory cache: entries by key, bounded by cache_mem,
 * with LRU or SIEVE replacement.
 *
 * Lifecycle of an entry in an index:
 *	store_index_add()		indexed; the index holds a reference
 *	store_index_lookup()		found: a "use" for the policy
 *	store_index_charge()		grew: counted, maybe too big, evicts
 *	store_index_leave()		out, by eviction, remove, purge, abort,
 *					set_private, max_obj or min_obj; the
 *					index's reference dropped (readers
 *					keep the entry and its blocks)
 *	store_index_free()		every entry out
 *
 * The table is open addressing with linear probing over pointers to
 * entries (the key is a digest, so its first bytes are the hash): one
 * word per slot, at most 7/8 full, doubled as it grows, deletion by
 * backward shift so that no tombstones pile up.  A slot keeps more bits
 * of its entry's key in the pointer's low bits, which the entry's
 * alignment leaves zero (three on LP64): a probe that does not match
 * them passes the slot without touching the entry, which is what lets
 * the table run that full (a slot costs 9 to 18 bytes per entry rather
 * than 11 to 21 at 3/4) without lookups paying a cache miss per probe.
 *
 * Replacement works on one intrusive queue, newest at the head:
 *
 *	queue -> newest <-> ... <-> oldest -> (queue)
 *	                              ^ LRU evicts here; SIEVE's hand starts
 *	                                here and walks toward the head
 *
 * LRU moves a used entry to the head.  SIEVE (Zhang et al., NSDI '24)
 * leaves it in place and sets its visited bit; the hand clears visited
 * bits as it passes and evicts the first entry without one, then stays
 * where it stopped.  Both keep the queue in the same shape, so switching
 * policy at run time keeps every entry.
 *
 * Eviction prefers entries nobody else holds (refs == 1: the index's):
 * freeing a held entry frees nothing, its readers keep it alive.  A
 * held entry is skipped, up to STORE_EVICT_SKIP of them per victim,
 * after which the first one skipped goes: cache_mem is a bound on what
 * the index keeps, and the busy entries must not make it unbounded.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "store/store.h"
#include "store/store_int.h"

#define STORE_SLOTS_MIN		64u
#define STORE_EVICT_SKIP	64u

struct store_index {
	unsigned		magic;
#define STORE_INDEX_MAGIC	0x51de7c0aU
	struct comm_loop	*loop;
	struct buf_pool		*pool;
	struct store_limits	lim;
	uintptr_t		*slot;		/* entry | tag, 0: empty */
	size_t			mask;		/* slots - 1 */
	struct list		queue;		/* newest first */
	struct list		*hand;		/* SIEVE; &queue: the oldest */
	struct store_index_stats st;
};

static size_t
store_hash(const struct store_key *k)
{
	uint64_t h;

	memcpy(&h, k->b, sizeof h);
	return ((size_t)h);
}

static bool
store_key_eq(const struct store_key *a, const struct store_key *b)
{
	return (memcmp(a->b, b->b, STORE_KEY_LEN) == 0);
}

/* As many low bits as an entry's alignment leaves zero (3 on LP64). */
#define STORE_TAG_MASK	((uintptr_t)_Alignof(struct store_entry) - 1)

/* Key bits the mask never uses (it takes the low bits of the first 8). */
static uintptr_t
store_tag(const struct store_key *k)
{
	return ((uintptr_t)k->b[8] & STORE_TAG_MASK);
}

static struct store_entry *
store_slot_at(const struct store_index *idx, size_t i)
{
	return ((struct store_entry *)(idx->slot[i] & ~STORE_TAG_MASK));
}

/* Slot i takes e (indexed under its key already), or NULL. */
static void
store_slot_set(struct store_index *idx, size_t i, struct store_entry *e)
{
	CHECK(((uintptr_t)e & STORE_TAG_MASK) == 0);
	idx->slot[i] = e != NULL ? (uintptr_t)e | store_tag(&e->key) : 0;
}

/* The slot holding k, or the empty slot where it would go. */
static size_t
store_slot_find(const struct store_index *idx, const struct store_key *k)
{
	size_t i = store_hash(k) & idx->mask;
	uintptr_t tag = store_tag(k);

	while (idx->slot[i] != 0 && ((idx->slot[i] & STORE_TAG_MASK) != tag ||
	    !store_key_eq(&store_slot_at(idx, i)->key, k)))
		i = (i + 1) & idx->mask;
	return (i);
}

static int
store_slots_grow(struct store_index *idx)
{
	uintptr_t *old = idx->slot, *v;
	size_t n = idx->mask + 1, i, j, cap = n * 2;
	struct store_entry *e;

	if (cap < n)
		return (-ENOMEM);
	v = calloc(cap, sizeof *v);
	if (v == NULL)
		return (-ENOMEM);
	idx->slot = v;
	idx->mask = cap - 1;
	for (i = 0; i < n; i++) {
		if (old[i] == 0)
			continue;
		e = (struct store_entry *)(old[i] & ~STORE_TAG_MASK);
		j = store_slot_find(idx, &e->key);
		v[j] = old[i];
	}
	free(old);
	return (0);
}

/* Backward-shift deletion: pull later members of the probe run into the
 * hole when their home slot does not lie cyclically in (hole, j]. */
static void
store_slot_delete(struct store_index *idx, size_t i)
{
	size_t j = i, h;

	idx->slot[i] = 0;
	for (;;) {
		j = (j + 1) & idx->mask;
		if (idx->slot[j] == 0)
			return;
		h = store_hash(&store_slot_at(idx, j)->key) & idx->mask;
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		idx->slot[i] = idx->slot[j];
		idx->slot[j] = 0;
		i = j;
	}
}

struct store_index *
store_index_new(struct comm_loop *loop, struct buf_pool *pool,
    const struct store_limits *lim)
{
	struct store_index *idx;

	AN(lim);
	ALLOC_OBJ(idx, STORE_INDEX_MAGIC);
	if (idx == NULL)
		return (NULL);
	idx->slot = calloc(STORE_SLOTS_MIN, sizeof *idx->slot);
	if (idx->slot == NULL) {
		FREE_OBJ(idx);
		return (NULL);
	}
	idx->mask = STORE_SLOTS_MIN - 1;
	idx->loop = loop;
	idx->pool = pool;
	idx->lim = *lim;
	list_init(&idx->queue);
	idx->hand = &idx->queue;
	return (idx);
}

/* Out of the table, the queue and the count; then the entry's own side
 * (a window if it is still being filled), then the reference. */
void
store_index_leave(struct store_entry *e, enum store_leave why)
{
	struct store_index *idx;
	uint64_t mem;
	size_t i;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	idx = e->idx;
	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	i = store_slot_find(idx, &e->key);
	CHECK(store_slot_at(idx, i) == e);
	store_slot_delete(idx, i);
	if (idx->hand == &e->rlink)
		idx->hand = e->rlink.prev;
	list_remove(&e->rlink);
	e->flags &= ~STORE_F_VISITED;
	mem = store_entry_mem(e);
	CHECK(idx->st.bytes >= mem && idx->st.entries > 0);
	idx->st.bytes -= mem;
	idx->st.entries--;
	if (why == STORE_LEAVE_EVICT)
		idx->st.evicted++;
	else
		idx->st.removed++;
	e->idx = NULL;
	store_entry_unindexed(e);
	store_entry_unref(&e);
}

void
store_index_free(struct store_index **ip)
{
	struct store_index *idx;
	struct store_entry *e;

	if (*ip == NULL)
		return;
	TAKE_OBJ_NOTNULL(idx, ip, STORE_INDEX_MAGIC);
	while (!list_empty(&idx->queue)) {
		e = container_of(idx->queue.next, struct store_entry, rlink);
		store_index_leave(e, STORE_LEAVE_REMOVE);
	}
	free(idx->slot);
	FREE_OBJ(idx);
}

static bool
store_held(const struct store_entry *e)
{
	return (e->refs > 1);
}

/* The entry to evict next, never keep; NULL when keep is all there is. */
static struct store_entry *
store_pick_victim(struct store_index *idx, const struct store_entry *keep)
{
	struct store_entry *e, *held = NULL;
	struct list *pos;
	bool sieve = idx->lim.policy == STORE_POLICY_SIEVE;
	uint64_t steps, skipped = 0;

	pos = sieve ? idx->hand : idx->queue.prev;
	/* Two laps at most (the first may only clear visited bits), and
	 * the sentinel twice. */
	for (steps = 0; steps < 2 * idx->st.entries + 3; steps++) {
		if (pos == &idx->queue) {
			if (!sieve && steps > 0)
				break;	/* LRU: one pass, oldest first */
			pos = idx->queue.prev;
			if (pos == &idx->queue)
				break;
			continue;
		}
		e = container_of(pos, struct store_entry, rlink);
		pos = pos->prev;
		if (e == keep)
			continue;
		if (sieve && (e->flags & STORE_F_VISITED)) {
			e->flags &= ~STORE_F_VISITED;
			continue;
		}
		if (store_held(e)) {
			if (held == NULL)
				held = e;
			if (++skipped < STORE_EVICT_SKIP)
				continue;
			e = held;
		}
		if (sieve)
			idx->hand = e->rlink.prev;
		return (e);
	}
	if (held != NULL && sieve)
		idx->hand = held->rlink.prev;
	return (held);
}

/* Down to cache_mem, keep last: an entry bigger than the whole cache
 * cannot stay, whoever else goes. */
static void
store_evict(struct store_index *idx, struct store_entry *keep)
{
	struct store_entry *v;

	while (idx->st.bytes > idx->lim.cache_mem && idx->st.entries > 0) {
		v = store_pick_victim(idx, keep);
		if (v == NULL) {
			if (keep == NULL || keep->idx != idx)
				return;
			v = keep;
		}
		store_index_leave(v, STORE_LEAVE_EVICT);
	}
}

/* Too big for max_obj by what it has or, with a reply, by what its
 * Content-Length promises; too small for min_obj once complete. */
static bool
store_misfit(const struct store_index *idx, const struct store_entry *e)
{
	const struct store_limits *lim = &idx->lim;
	uint64_t len = store_body_end(e), cl;

	if (lim->max_obj != 0) {
		if (len > lim->max_obj)
			return (true);
		if (store_entry_length(e, &cl) && cl > lim->max_obj)
			return (true);
	}
	/* A Vary marker has no body of its own: min_obj is for replies. */
	return (lim->min_obj != 0 && e->state == STORE_COMPLETE &&
	    len < lim->min_obj && !(e->meta.flags & HCM_VARY_MARKER));
}

/* e (indexed) held old bytes and holds store_entry_mem() now: counted;
 * returns the new figure. */
static uint64_t
store_index_recount(struct store_entry *e, uint64_t old)
{
	struct store_index *idx;
	uint64_t mem;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	idx = e->idx;
	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	mem = store_entry_mem(e);
	CHECK(idx->st.bytes >= old);
	idx->st.bytes = idx->st.bytes - old + mem;
	return (mem);
}

void
store_index_charge(struct store_entry *e, uint64_t old)
{
	uint64_t mem = store_index_recount(e, old);

	if (store_misfit(e->idx, e)) {
		store_index_leave(e, STORE_LEAVE_REMOVE);
		return;
	}
	if (mem > old)
		store_evict(e->idx, e);
}

void
store_index_moved(struct store_entry *e, struct store_entry *ne)
{
	struct store_index *idx;
	size_t i;

	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK_OBJ_NOTNULL(ne, STORE_ENTRY_MAGIC);
	idx = e->idx;
	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	CHECK(ne->idx == idx);
	i = store_slot_find(idx, &e->key);
	CHECK(store_slot_at(idx, i) == e);
	store_slot_set(idx, i, ne);
	/* ne->rlink holds e's neighbours: point them back at it. */
	ne->rlink.prev->next = &ne->rlink;
	ne->rlink.next->prev = &ne->rlink;
	if (idx->hand == &e->rlink)
		idx->hand = &ne->rlink;
	e->idx = NULL;
	list_init(&e->rlink);
}

void
store_index_shrunk(struct store_entry *e, uint64_t old)
{
	CHECK(store_index_recount(e, old) <= old);
}

void
store_index_count_copied(struct store_index *idx, uint64_t n)
{
	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	idx->st.copied += n;
}

void
store_index_completed(struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	CHECK_OBJ_NOTNULL(e->idx, STORE_INDEX_MAGIC);
	if (store_misfit(e->idx, e))
		store_index_leave(e, STORE_LEAVE_REMOVE);
}

void
store_index_set_limits(struct store_index *idx,
    const struct store_limits *lim)
{
	struct list *n, *tmp;
	struct store_entry *e;

	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	AN(lim);
	if (lim->policy != idx->lim.policy)
		idx->hand = &idx->queue;
	idx->lim = *lim;
	LIST_FOREACH_SAFE(n, tmp, &idx->queue) {
		e = container_of(n, struct store_entry, rlink);
		if (store_misfit(idx, e))
			store_index_leave(e, STORE_LEAVE_REMOVE);
	}
	store_evict(idx, NULL);
}

/* A use: LRU moves e to the head; SIEVE only marks it. */
static void
store_use(struct store_index *idx, struct store_entry *e)
{
	if (idx->lim.policy == STORE_POLICY_SIEVE) {
		e->flags |= STORE_F_VISITED;
		return;
	}
	if (idx->queue.next == &e->rlink)
		return;
	if (idx->hand == &e->rlink)
		idx->hand = e->rlink.prev;
	list_remove(&e->rlink);
	list_insert_head(&idx->queue, &e->rlink);
}

struct store_entry *
store_index_lookup(struct store_index *idx, const struct store_key *k)
{
	struct store_entry *e;

	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	AN(k);
	idx->st.lookups++;
	e = store_slot_at(idx, store_slot_find(idx, k));
	if (e == NULL)
		return (NULL);
	CHECK_OBJ(e, STORE_ENTRY_MAGIC);
	CHECK(e->state != STORE_ABORTED);	/* abort unlinks */
	idx->st.hits++;
	store_use(idx, e);
	store_entry_ref(e);
	return (e);
}

struct store_entry *
store_index_peek(struct store_index *idx, const struct store_key *k)
{
	struct store_entry *e;

	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	AN(k);
	e = store_slot_at(idx, store_slot_find(idx, k));
	if (e == NULL)
		return (NULL);
	CHECK_OBJ(e, STORE_ENTRY_MAGIC);
	store_entry_ref(e);
	return (e);
}

/* The empty slot k goes into: an entry already under k leaves the index
 * first (its readers keep it), and the run is searched again, since
 * deleting shifts it. */
static size_t
store_slot_claim(struct store_index *idx, const struct store_key *k)
{
	size_t i = store_slot_find(idx, k);

	if (idx->slot[i] != 0) {
		store_index_leave(store_slot_at(idx, i), STORE_LEAVE_REMOVE);
		i = store_slot_find(idx, k);
	}
	return (i);
}

int
store_index_add(struct store_index *idx, struct store_entry *e,
    const struct store_key *k, size_t window_after)
{
	size_t i;

	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	AN(k);
	if (e->idx == idx && store_key_eq(&e->key, k))
		return (0);
	CHECK(e->idx == NULL);
	/* What cannot be cached has left at once (see store.h). */
	if (e->state == STORE_ABORTED || store_entry_windowed(e) ||
	    (e->flags & STORE_F_PRIVATE))
		return (0);
	if ((idx->st.entries + 1) * 8 > (idx->mask + 1) * 7 &&
	    store_slots_grow(idx) != 0)
		return (-ENOMEM);
	i = store_slot_claim(idx, k);
	e->key = *k;
	store_entry_set_window_after(e, window_after);
	e->idx = idx;
	e->flags &= ~STORE_F_VISITED;
	store_entry_ref(e);
	store_slot_set(idx, i, e);
	list_insert_head(&idx->queue, &e->rlink);
	idx->st.entries++;
	idx->st.added++;
	idx->st.bytes += store_entry_mem(e);
	if (store_misfit(idx, e)) {
		store_index_leave(e, STORE_LEAVE_REMOVE);
		return (0);
	}
	store_evict(idx, e);
	return (0);
}

int
store_index_rekey(struct store_index *idx, struct store_entry *e,
    const struct store_key *k, size_t window_after)
{
	size_t i;

	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	AN(k);
	if (e->idx != idx)
		return (store_index_add(idx, e, k, window_after));
	if (store_key_eq(&e->key, k))
		return (0);
	i = store_slot_find(idx, &e->key);
	CHECK(store_slot_at(idx, i) == e);
	store_slot_delete(idx, i);
	i = store_slot_claim(idx, k);
	e->key = *k;
	store_slot_set(idx, i, e);
	return (0);
}

void
store_index_remove(struct store_index *idx, struct store_entry *e)
{
	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	CHECK_OBJ_NOTNULL(e, STORE_ENTRY_MAGIC);
	if (e->idx != idx)
		return;
	store_entry_ref(e);		/* it may be the index's only one */
	store_index_leave(e, STORE_LEAVE_REMOVE);
	store_entry_unref(&e);
}

bool
store_index_purge(struct store_index *idx, const struct store_key *k)
{
	struct store_entry *e;

	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	AN(k);
	e = store_slot_at(idx, store_slot_find(idx, k));
	if (e == NULL)
		return (false);
	store_index_leave(e, STORE_LEAVE_REMOVE);
	return (true);
}

void
store_index_stats(const struct store_index *idx, struct store_index_stats *st)
{
	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	AN(st);
	*st = idx->st;
}

void
store_index_walk(struct store_index *idx, store_walk_fn *fn, void *arg)
{
	struct list *n, *tmp;
	struct store_entry *e;

	CHECK_OBJ_NOTNULL(idx, STORE_INDEX_MAGIC);
	AN(fn);
	/* Held across fn, so that a view fn has the entry build goes
	 * again when it lets go (see store_entry_unref()); that may seal
	 * the entry into a new place, hence the next one taken first. */
	LIST_FOREACH_SAFE(n, tmp, &idx->queue) {
		e = container_of(n, struct store_entry, rlink);
		store_entry_ref(e);
		fn(e, arg);
		store_entry_unref(&e);
	}
}
