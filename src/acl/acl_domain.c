/*
 * acl_domain.c - domain name sets for dstdomain and srcdomain.
 *
 * ".example.com" matches example.com and every name below it;
 * "example.com" matches that name only.  Case does not matter and a
 * trailing dot is ignored, on both sides.
 *
 * The names sit in an open-addressing hash table keyed by a hash computed
 * from the LAST byte to the first.  Walking a host name from its end, the
 * running hash is at each label boundary the hash of that suffix, so one
 * pass over "a.b.example.com" probes "com", "example.com",
 * "b.example.com" and the whole name: a lookup costs O(length) hashing
 * and O(labels) probes whatever the size of the list.
 *
 *	slots[]  {hash, entry+1}   power of two, at most half full
 *	ents[]   {off, len, flags} in insertion order
 *	keys     "example.comwww.example.org..."  lower case, no NULs
 *
 * About 16 bytes per name plus the name itself; doc/internals/acl.md has
 * the figures for 100,000 names.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "acl/acl_int.h"

#define DOM_EXACT		0x1u	/* "example.com" */
#define DOM_SUBTREE		0x2u	/* ".example.com" */
#define DOM_NAME_MAX		255
#define DOM_WARN_MAX		10	/* overlap warnings per acl */

#define FNV_OFFSET		2166136261u
#define FNV_PRIME		16777619u

struct dom_slot {
	uint32_t	hash;
	uint32_t	ent;		/* index + 1; 0: empty */
};

struct dom_ent {
	uint32_t	off;
	uint8_t		len;
	uint8_t		flags;
};

struct dom_origin {			/* while building only */
	const char	*file;
	unsigned	line;
};

struct acl_domains {
	unsigned		magic;
#define ACL_DOMAINS_MAGIC	0xd0a1d0a1U
	struct dom_slot		*slots;
	uint32_t		mask;		/* slots - 1 */
	struct dom_ent		*ents;
	uint32_t		n;
	uint32_t		cap;
	char			*keys;
	size_t			klen;
	size_t			kcap;
	struct dom_origin	*origin;	/* parallel to ents */
	unsigned		warned;
	unsigned		unwarned;
};

static inline unsigned char
dom_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z' ? c | 0x20 : c);
}

static inline uint32_t
dom_step(uint32_t h, unsigned char c)
{
	return ((h ^ dom_lower(c)) * FNV_PRIME);
}

/* The hash of s[0..len) taken from its end, as lookups take it. */
static uint32_t
dom_hash(const char *s, size_t len)
{
	uint32_t h = FNV_OFFSET;

	while (len > 0)
		h = dom_step(h, (unsigned char)s[--len]);
	return (h);
}

static bool
dom_equal(const char *key, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (key[i] != (char)dom_lower((unsigned char)s[i]))
			return (false);
	return (true);
}

/* The entry for s[0..len) with hash h, or NULL. */
static struct dom_ent *
dom_find(const struct acl_domains *d, uint32_t h, const char *s, size_t len)
{
	const struct dom_slot *sl;
	struct dom_ent *e;
	uint32_t i;

	if (d->slots == NULL)
		return (NULL);
	for (i = h & d->mask;; i = (i + 1) & d->mask) {
		sl = &d->slots[i];
		if (sl->ent == 0)
			return (NULL);
		if (sl->hash != h)
			continue;
		e = &d->ents[sl->ent - 1];
		if (e->len == len && dom_equal(d->keys + e->off, s, len))
			return (e);
	}
}

static void
dom_place(struct dom_slot *slots, uint32_t mask, uint32_t h, uint32_t ent)
{
	uint32_t i;

	for (i = h & mask; slots[i].ent != 0; i = (i + 1) & mask)
		;
	slots[i].hash = h;
	slots[i].ent = ent;
}

static int
dom_grow_slots(struct acl_domains *d)
{
	struct dom_slot *slots;
	uint32_t size, i;

	size = d->slots == NULL ? 64 : (d->mask + 1) * 2;
	slots = calloc(size, sizeof *slots);
	if (slots == NULL)
		return (-ENOMEM);
	for (i = 0; d->slots != NULL && i <= d->mask; i++)
		if (d->slots[i].ent != 0)
			dom_place(slots, size - 1, d->slots[i].hash,
			    d->slots[i].ent);
	free(d->slots);
	d->slots = slots;
	d->mask = size - 1;
	return (0);
}

static int
dom_reserve(struct acl_domains *d, size_t len)
{
	struct dom_origin *origin;
	struct dom_ent *ents;
	uint32_t cap;
	size_t kcap;
	char *keys;

	if (d->slots == NULL || (size_t)(d->n + 1) * 2 > (size_t)d->mask + 1)
		if (dom_grow_slots(d) != 0)
			return (-ENOMEM);
	if (d->n == d->cap) {
		if (d->cap >= UINT32_MAX / 2)
			return (-ENOMEM);
		cap = d->cap == 0 ? 16 : d->cap * 2;
		ents = realloc(d->ents, cap * sizeof *ents);
		if (ents == NULL)
			return (-ENOMEM);
		d->ents = ents;
		origin = realloc(d->origin, cap * sizeof *origin);
		if (origin == NULL)
			return (-ENOMEM);
		d->origin = origin;
		d->cap = cap;
	}
	if (d->klen + len > d->kcap) {
		kcap = d->kcap == 0 ? 256 : d->kcap;
		while (kcap < d->klen + len)
			kcap *= 2;
		if (kcap > UINT32_MAX)
			return (-ENOMEM);
		keys = realloc(d->keys, kcap);
		if (keys == NULL)
			return (-ENOMEM);
		d->keys = keys;
		d->kcap = kcap;
	}
	return (0);
}

static bool
dom_may_warn(struct acl_domains *d)
{
	if (d->warned < DOM_WARN_MAX) {
		d->warned++;
		return (true);
	}
	d->unwarned++;
	return (false);
}

struct acl_domains *
acl_domains_new(void)
{
	struct acl_domains *d;

	ALLOC_OBJ(d, ACL_DOMAINS_MAGIC);
	return (d);
}

int
acl_domains_add(struct acl_domains *d, const struct acl_where *w,
    const char *value)
{
	const char *s = value;
	unsigned flag = DOM_EXACT;
	struct dom_ent *e;
	size_t len, i;
	uint32_t h;

	CHECK_OBJ_NOTNULL(d, ACL_DOMAINS_MAGIC);
	if (*s == '.') {
		flag = DOM_SUBTREE;
		s++;
	}
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > DOM_NAME_MAX)
		goto bad;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_' || s[i] == ':' ||
		    (s[i] == '.' && i > 0 && s[i - 1] != '.')))
			goto bad;
	h = dom_hash(s, len);
	e = dom_find(d, h, s, len);
	if (e != NULL) {
		if ((e->flags & flag) != 0) {
			if (dom_may_warn(d))
				acl_warn(w, "remove one of them", "\"%s\" is "
				    "listed twice", value);
		} else if (dom_may_warn(d)) {
			acl_warn(w, "remove the name without the leading "
			    "dot: the other one covers it", "\"%.*s\" and "
			    "\".%.*s\" overlap", (int)len, s, (int)len, s);
		}
		e->flags |= flag;
		return (0);
	}
	if (dom_reserve(d, len) != 0)
		return (-ENOMEM);
	e = &d->ents[d->n];
	e->off = (uint32_t)d->klen;
	e->len = (uint8_t)len;
	e->flags = (uint8_t)flag;
	for (i = 0; i < len; i++)
		d->keys[d->klen++] = (char)dom_lower((unsigned char)s[i]);
	d->origin[d->n].file = w->file;
	d->origin[d->n].line = w->line;
	d->n++;
	dom_place(d->slots, d->mask, h, d->n);
	return (0);
bad:
	acl_error(w, *value == '*' ? "write .example.com for a domain and "
	    "its subdomains; for patterns use dstdom_regex" : NULL,
	    "bad domain name \"%s\"", value);
	return (-1);
}

/* An entry below a ".domain" entry is never needed: Squid warns, and so
 * do we (leaving both in place: the answer is the same). */
void
acl_domains_finish(struct acl_domains *d, const char *aclname)
{
	struct acl_where w = { .directive = "acl" };
	const struct dom_ent *e, *up;
	const char *k;
	uint32_t n, h;
	size_t i;

	CHECK_OBJ_NOTNULL(d, ACL_DOMAINS_MAGIC);
	for (n = 0; n < d->n; n++) {
		e = &d->ents[n];
		k = d->keys + e->off;
		h = FNV_OFFSET;
		for (i = e->len; i > 1; i--) {
			h = dom_step(h, (unsigned char)k[i - 1]);
			if (k[i - 2] != '.')
				continue;
			up = dom_find(d, h, k + i - 1, e->len - i + 1);
			if (up == NULL || (up->flags & DOM_SUBTREE) == 0)
				continue;
			if (dom_may_warn(d)) {
				w.file = d->origin[n].file;
				w.line = d->origin[n].line;
				acl_warn(&w, "remove the longer name: the "
				    "entry with the leading dot covers it",
				    "acl %s: \"%.*s\" is already matched by "
				    "\".%.*s\"", aclname, (int)e->len, k,
				    (int)up->len, d->keys + up->off);
			}
			break;
		}
	}
	if (d->unwarned > 0) {
		w.file = d->n > 0 ? d->origin[d->n - 1].file : "?";
		w.line = d->n > 0 ? d->origin[d->n - 1].line : 0;
		acl_warn(&w, NULL, "acl %s: %u more overlapping or repeated "
		    "names not shown", aclname, d->unwarned);
	}
	free(d->origin);
	d->origin = NULL;
	if (d->n > 0 && d->n < d->cap) {
		struct dom_ent *ents = realloc(d->ents, d->n * sizeof *ents);

		if (ents != NULL) {
			d->ents = ents;
			d->cap = d->n;
		}
	}
	if (d->klen > 0 && d->klen < d->kcap) {
		char *keys = realloc(d->keys, d->klen);

		if (keys != NULL) {
			d->keys = keys;
			d->kcap = d->klen;
		}
	}
}

bool
acl_domains_match(const struct acl_domains *d, const char *host, size_t len)
{
	const struct dom_ent *e;
	uint32_t h = FNV_OFFSET;
	size_t i;

	CHECK_OBJ_NOTNULL(d, ACL_DOMAINS_MAGIC);
	if (host == NULL)
		return (false);
	if (len > 0 && host[len - 1] == '.')
		len--;
	for (i = len; i > 0; i--) {
		h = dom_step(h, (unsigned char)host[i - 1]);
		if (i == 1) {
			/* The whole name: either kind of entry. */
			return (dom_find(d, h, host, len) != NULL);
		}
		if (host[i - 2] != '.')
			continue;
		e = dom_find(d, h, host + i - 1, len - i + 1);
		if (e != NULL && (e->flags & DOM_SUBTREE) != 0)
			return (true);
	}
	return (false);
}

size_t
acl_domains_count(const struct acl_domains *d)
{
	CHECK_OBJ_NOTNULL(d, ACL_DOMAINS_MAGIC);
	return (d->n);
}

size_t
acl_domains_bytes(const struct acl_domains *d)
{
	CHECK_OBJ_NOTNULL(d, ACL_DOMAINS_MAGIC);
	return (sizeof *d + (d->slots != NULL ? (d->mask + 1) *
	    sizeof *d->slots : 0) + d->cap * sizeof *d->ents + d->kcap);
}

void
acl_domains_free(struct acl_domains **dp)
{
	struct acl_domains *d;

	if (*dp == NULL)
		return;
	TAKE_OBJ_NOTNULL(d, dp, ACL_DOMAINS_MAGIC);
	free(d->slots);
	free(d->ents);
	free(d->keys);
	free(d->origin);
	FREE_OBJ(d);
}
