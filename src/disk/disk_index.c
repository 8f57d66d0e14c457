/*
 * disk_index.c - the disk store's index: Robin Hood linear probing over
 * 16-byte slots, no per-object allocation.
 *
 *	slot.a: | h (48) | span (8) | size class (6) | read | used |
 *	slot.b: | region (24) | offset/16 (20) | head length/16 (20) |
 *
 * h is the first 48 bits of the key digest (little-endian), and the home
 * slot is a multiply-shift of its top 32 bits over the table size, so a
 * table of any size works and the home of a stored slot is known without
 * the key.  span is how many regions before the head its first chunk is.
 *
 * Memory: 16 bytes a slot.  The table grows by a quarter when more than
 * 9 in 10 slots are used, so it stays between 72% and 90% full: 17.8 to
 * 22.2 bytes an object (check with bench_disk).  Robin Hood keeps the
 * probe sequences short at that load: a lookup, present or not, stops at
 * the first slot whose entry is nearer its home than the probe is, and a
 * removal shifts the following entries back, so no deleted markers pile
 * up under the churn of a circular log.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "disk/disk_index.h"

#define A_H_MASK	((1ULL << 48) - 1)
#define A_SPAN_SHIFT	48
#define A_CLASS_SHIFT	56
#define A_READ		(1ULL << 62)
#define A_USED		(1ULL << 63)
#define B_OFF_SHIFT	24
#define B_LEN_SHIFT	44
#define B_FIELD20	((1ULL << 20) - 1)
#define B_REGION_MASK	((1ULL << 24) - 1)

#define SPAN_MAX	255u
#define INDEX_MIN	16u

struct slot {
	uint64_t	a;
	uint64_t	b;
};

struct disk_index {
	unsigned	magic;
#define DISK_INDEX_MAGIC	0x1d8c3e57
	uint32_t	nregions;
	uint32_t	tail;
	size_t		nslots;
	size_t		count;
	struct slot	*slots;
};

static uint64_t
key_h(const uint8_t *key)
{
	uint64_t h = 0;
	int i;

	for (i = 5; i >= 0; i--)
		h = h << 8 | key[i];
	return (h);
}

static size_t
home_of(size_t nslots, uint64_t h)
{
	return ((size_t)(((h >> 16) * (uint64_t)nslots) >> 32));
}

static size_t
dist_of(const struct disk_index *idx, const struct slot *s, size_t i)
{
	size_t home = home_of(idx->nslots, s->a & A_H_MASK);

	return (i >= home ? i - home : i + idx->nslots - home);
}

static size_t
next_of(const struct disk_index *idx, size_t i)
{
	return (i + 1 == idx->nslots ? 0 : i + 1);
}

static struct slot *
slots_new(size_t n)
{
	return (calloc(n, sizeof (struct slot)));
}

struct disk_index *
disk_index_new(uint32_t nregions, size_t expect)
{
	struct disk_index *idx;
	size_t n;

	CHECK(nregions >= 1 && nregions <= DISK_REGIONS_MAX);
	n = expect / 9 * 10 + expect % 9 * 2 + INDEX_MIN;
	ALLOC_OBJ(idx, DISK_INDEX_MAGIC);
	if (idx == NULL)
		return (NULL);
	idx->nregions = nregions;
	idx->nslots = n;
	idx->slots = slots_new(n);
	if (idx->slots == NULL) {
		FREE_OBJ(idx);
		return (NULL);
	}
	return (idx);
}

void
disk_index_free(struct disk_index **idxp)
{
	struct disk_index *idx;

	if (*idxp == NULL)
		return;
	TAKE_OBJ_NOTNULL(idx, idxp, DISK_INDEX_MAGIC);
	free(idx->slots);
	FREE_OBJ(idx);
}

void
disk_index_set_tail(struct disk_index *idx, uint32_t tail)
{
	CHECK_OBJ_NOTNULL(idx, DISK_INDEX_MAGIC);
	CHECK(tail < idx->nregions);
	idx->tail = tail;
}

static uint64_t
log_pos(const struct disk_index *idx, uint32_t region, uint32_t offset)
{
	uint32_t r = region >= idx->tail ? region - idx->tail :
	    region + idx->nregions - idx->tail;

	return ((uint64_t)r << 32 | offset);
}

bool
disk_index_newer(const struct disk_index *idx, const struct disk_addr *a,
    const struct disk_addr *b)
{
	return (log_pos(idx, a->region, a->offset) >
	    log_pos(idx, b->region, b->offset));
}

uint8_t
disk_index_size_class(uint64_t size)
{
	uint8_t c = 0;

	while (c < 63 && (1ULL << c) < size)
		c++;
	return (c);
}

static void
slot_to_addr(const struct disk_index *idx, const struct slot *s,
    struct disk_addr *a)
{
	uint32_t span = (uint32_t)(s->a >> A_SPAN_SHIFT) & 0xff;

	a->region = (uint32_t)(s->b & B_REGION_MASK);
	a->offset = (uint32_t)((s->b >> B_OFF_SHIFT) & B_FIELD20) * DISK_ALIGN;
	a->rec_len = (uint32_t)((s->b >> B_LEN_SHIFT) & B_FIELD20) * DISK_ALIGN;
	a->first_region = a->region >= span ? a->region - span :
	    a->region + idx->nregions - span;
	a->size_class = (uint8_t)((s->a >> A_CLASS_SHIFT) & 0x3f);
	a->read = (s->a & A_READ) != 0;
}

/* The slot for (h, *a); false if *a cannot be held (a caller's bug or a
 * corrupt footer: the scan counts it). */
static bool
slot_make(const struct disk_index *idx, uint64_t h, const struct disk_addr *a,
    struct slot *s)
{
	uint32_t span;

	if (a->region >= idx->nregions || a->first_region >= idx->nregions ||
	    a->offset % DISK_ALIGN != 0 || a->rec_len % DISK_ALIGN != 0 ||
	    a->offset / DISK_ALIGN > B_FIELD20 ||
	    a->rec_len / DISK_ALIGN > B_FIELD20 || a->rec_len == 0 ||
	    a->size_class > 63)
		return (false);
	span = a->region >= a->first_region ? a->region - a->first_region :
	    a->region + idx->nregions - a->first_region;
	/* The first chunk cannot be older than the oldest region: it was
	 * overwritten (a head found after the log wrapped over its chunks). */
	if (span > SPAN_MAX || span > log_pos(idx, a->region, 0) >> 32)
		return (false);
	s->a = h | (uint64_t)span << A_SPAN_SHIFT |
	    (uint64_t)a->size_class << A_CLASS_SHIFT | A_USED |
	    (a->read ? A_READ : 0);
	s->b = a->region | (uint64_t)(a->offset / DISK_ALIGN) << B_OFF_SHIFT |
	    (uint64_t)(a->rec_len / DISK_ALIGN) << B_LEN_SHIFT;
	return (true);
}

/* The slot holding h, or -1. */
static ssize_t
find(const struct disk_index *idx, uint64_t h)
{
	size_t i = home_of(idx->nslots, h), d;
	const struct slot *s;

	for (d = 0; d < idx->nslots; d++) {
		s = &idx->slots[i];
		if (!(s->a & A_USED) || dist_of(idx, s, i) < d)
			return (-1);
		if ((s->a & A_H_MASK) == h)
			return ((ssize_t)i);
		i = next_of(idx, i);
	}
	return (-1);
}

/* Robin Hood: the entry travels from its home and takes the place of the
 * first one nearer its own home, which travels on. */
static void
place(struct disk_index *idx, struct slot cur)
{
	size_t i = home_of(idx->nslots, cur.a & A_H_MASK), d = 0, sd;
	struct slot t;

	for (;;) {
		if (!(idx->slots[i].a & A_USED)) {
			idx->slots[i] = cur;
			idx->count++;
			return;
		}
		sd = dist_of(idx, &idx->slots[i], i);
		if (sd < d) {
			t = idx->slots[i];
			idx->slots[i] = cur;
			cur = t;
			d = sd;
		}
		i = next_of(idx, i);
		d++;
	}
}

static void
remove_at(struct disk_index *idx, size_t i)
{
	size_t j = next_of(idx, i);

	while ((idx->slots[j].a & A_USED) &&
	    dist_of(idx, &idx->slots[j], j) > 0) {
		idx->slots[i] = idx->slots[j];
		i = j;
		j = next_of(idx, j);
	}
	memset(&idx->slots[i], 0, sizeof idx->slots[i]);
	idx->count--;
}

static int
grow(struct disk_index *idx)
{
	struct slot *old = idx->slots;
	size_t n = idx->nslots, i;

	idx->slots = slots_new(n + n / 4 + 1);
	if (idx->slots == NULL) {
		idx->slots = old;
		return (-ENOMEM);
	}
	idx->nslots = n + n / 4 + 1;
	idx->count = 0;
	for (i = 0; i < n; i++)
		if (old[i].a & A_USED)
			place(idx, old[i]);
	free(old);
	return (0);
}

bool
disk_index_lookup(const struct disk_index *idx,
    const uint8_t key[DISK_KEY_LEN], struct disk_addr *a)
{
	ssize_t i;

	CHECK_OBJ_NOTNULL(idx, DISK_INDEX_MAGIC);
	i = find(idx, key_h(key));
	if (i < 0)
		return (false);
	if (a != NULL)
		slot_to_addr(idx, &idx->slots[i], a);
	return (true);
}

int
disk_index_put(struct disk_index *idx, const uint8_t key[DISK_KEY_LEN],
    const struct disk_addr *a)
{
	uint64_t h = key_h(key);
	struct disk_addr old;
	struct slot s;
	ssize_t i;

	CHECK_OBJ_NOTNULL(idx, DISK_INDEX_MAGIC);
	if (!slot_make(idx, h, a, &s))
		return (-EINVAL);
	i = find(idx, h);
	if (i >= 0) {
		slot_to_addr(idx, &idx->slots[i], &old);
		if (!disk_index_newer(idx, a, &old))
			return (0);
		idx->slots[i] = s;
		return (1);
	}
	if ((idx->count + 1) * 10 > idx->nslots * 9 && grow(idx) != 0)
		return (-ENOMEM);
	place(idx, s);
	return (1);
}

bool
disk_index_remove(struct disk_index *idx, const uint8_t key[DISK_KEY_LEN])
{
	ssize_t i;

	CHECK_OBJ_NOTNULL(idx, DISK_INDEX_MAGIC);
	i = find(idx, key_h(key));
	if (i < 0)
		return (false);
	remove_at(idx, (size_t)i);
	return (true);
}

bool
disk_index_remove_older(struct disk_index *idx,
    const uint8_t key[DISK_KEY_LEN], const struct disk_addr *a)
{
	struct disk_addr old;
	ssize_t i;

	CHECK_OBJ_NOTNULL(idx, DISK_INDEX_MAGIC);
	i = find(idx, key_h(key));
	if (i < 0)
		return (false);
	slot_to_addr(idx, &idx->slots[i], &old);
	if (!disk_index_newer(idx, a, &old))
		return (false);
	remove_at(idx, (size_t)i);
	return (true);
}

void
disk_index_mark_read(struct disk_index *idx, const uint8_t key[DISK_KEY_LEN])
{
	ssize_t i;

	CHECK_OBJ_NOTNULL(idx, DISK_INDEX_MAGIC);
	i = find(idx, key_h(key));
	if (i >= 0)
		idx->slots[i].a |= A_READ;
}

size_t
disk_index_drop_region(struct disk_index *idx, uint32_t region)
{
	struct disk_addr a;
	size_t i = 0, n = 0;

	CHECK_OBJ_NOTNULL(idx, DISK_INDEX_MAGIC);
	/* A removal shifts later entries back into slot i: look at it
	 * again.  Entries that wrap from the start into the end were seen
	 * at the start and are seen again, which is harmless. */
	while (i < idx->nslots) {
		if (idx->slots[i].a & A_USED) {
			slot_to_addr(idx, &idx->slots[i], &a);
			if (a.region == region || a.first_region == region) {
				remove_at(idx, i);
				n++;
				continue;
			}
		}
		i++;
	}
	return (n);
}

int
disk_index_resize(struct disk_index *idx, uint32_t nregions, uint32_t tail,
    size_t *dropped)
{
	struct disk_index was;
	struct disk_addr a;
	struct slot *old, s;
	size_t n, i;

	CHECK_OBJ_NOTNULL(idx, DISK_INDEX_MAGIC);
	CHECK(nregions >= 1 && nregions <= DISK_REGIONS_MAX &&
	    tail < nregions);
	AN(dropped);
	*dropped = 0;
	/* Room for as many more objects as regions came (the table grows
	 * by itself too, but in steps, each a pass over it). */
	n = idx->nslots;
	if (nregions > idx->nregions)
		n = n / idx->nregions * nregions + n % idx->nregions + 1;
	old = idx->slots;
	was = *idx;
	idx->slots = slots_new(n);
	if (idx->slots == NULL) {
		idx->slots = old;
		return (-ENOMEM);
	}
	idx->nslots = n;
	idx->count = 0;
	idx->nregions = nregions;
	idx->tail = tail;
	for (i = 0; i < was.nslots; i++) {
		if (!(old[i].a & A_USED))
			continue;
		slot_to_addr(&was, &old[i], &a);
		/* Retired regions take what is in them, and what wraps from
		 * the end to the start goes through them; the span of
		 * anything else is made again in the new geometry. */
		if (a.region >= nregions || a.first_region >= nregions ||
		    (nregions < was.nregions && a.first_region > a.region) ||
		    !slot_make(idx, old[i].a & A_H_MASK, &a, &s)) {
			(*dropped)++;
			continue;
		}
		place(idx, s);
	}
	free(old);
	return (0);
}

size_t
disk_index_count(const struct disk_index *idx)
{
	CHECK_OBJ_NOTNULL(idx, DISK_INDEX_MAGIC);
	return (idx->count);
}

size_t
disk_index_bytes(const struct disk_index *idx)
{
	CHECK_OBJ_NOTNULL(idx, DISK_INDEX_MAGIC);
	return (idx->nslots * sizeof (struct slot) + sizeof *idx);
}
