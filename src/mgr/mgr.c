/*
 * mgr.c - the action registry and the text pages render into.
 *
 * The registry is a small array in the menu's order (by section, then
 * as registered): a few dozen actions, looked up once per manager
 * request, so a linear search by name is all it needs.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "mgr/mgr.h"

/* -- struct mgr_out -------------------------------------------------------- */

void
mgr_out_init(struct mgr_out *o)
{
	memset(o, 0, sizeof *o);
}

void
mgr_out_fini(struct mgr_out *o)
{
	free(o->p);
	memset(o, 0, sizeof *o);
}

/* Room for n more bytes and the NUL; false (and failed) on ENOMEM. */
static bool
mgr_out_grow(struct mgr_out *o, size_t n)
{
	size_t cap;
	char *p;

	if (o->failed)
		return (false);
	if (o->len + n + 1 <= o->cap)
		return (true);
	cap = o->cap > 0 ? o->cap : 1024;
	while (cap < o->len + n + 1) {
		if (cap > SIZE_MAX / 2) {
			o->failed = true;
			return (false);
		}
		cap *= 2;
	}
	p = realloc(o->p, cap);
	if (p == NULL) {
		o->failed = true;
		return (false);
	}
	o->p = p;
	o->cap = cap;
	return (true);
}

void
mgr_out_append(struct mgr_out *o, const char *p, size_t n)
{
	if (!mgr_out_grow(o, n))
		return;
	memcpy(o->p + o->len, p, n);
	o->len += n;
	o->p[o->len] = '\0';
}

void
mgr_out_printf(struct mgr_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->failed = true;
		return;
	}
	if (!mgr_out_grow(o, (size_t)n))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(o->p + o->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

void
mgr_out_html(struct mgr_out *o, const char *s, size_t n)
{
	size_t i, run = 0;
	const char *ent;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: continue;
		}
		mgr_out_append(o, s + run, i - run);
		mgr_out_append(o, ent, strlen(ent));
		run = i + 1;
	}
	mgr_out_append(o, s + run, n - run);
}

void
mgr_out_json(struct mgr_out *o, const char *s, size_t n)
{
	unsigned char c;
	size_t i;

	mgr_out_append(o, "\"", 1);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			mgr_out_printf(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			mgr_out_printf(o, "\\u%04x", c);
		else
			mgr_out_append(o, (const char *)&c, 1);
	}
	mgr_out_append(o, "\"", 1);
}

/* -- the registry ---------------------------------------------------------- */

struct mgr_registry {
	unsigned		magic;
#define MGR_REGISTRY_MAGIC	0x3e6a7e61U
	struct mgr_action	*v;
	size_t			n;
	size_t			cap;
};

struct mgr_registry *
mgr_registry_new(void)
{
	struct mgr_registry *r;

	ALLOC_OBJ(r, MGR_REGISTRY_MAGIC);
	return (r);
}

void
mgr_registry_free(struct mgr_registry **rp)
{
	struct mgr_registry *r;
	size_t i;

	if (*rp == NULL)
		return;
	TAKE_OBJ_NOTNULL(r, rp, MGR_REGISTRY_MAGIC);
	for (i = 0; i < r->n; i++) {
		free((char *)(uintptr_t)r->v[i].name);
		free((char *)(uintptr_t)r->v[i].title);
	}
	free(r->v);
	FREE_OBJ(r);
}

static bool
mgr_name_ok(const char *name)
{
	const char *p;

	if (name[0] == '\0' || strlen(name) > 64)
		return (false);
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			return (false);
	return (true);
}

int
mgr_register(struct mgr_registry *r, enum mgr_section section,
    const char *name, const char *title, unsigned flags, mgr_render_fn *fn,
    void *arg)
{
	struct mgr_action *v, a;
	size_t cap, at;

	CHECK_OBJ_NOTNULL(r, MGR_REGISTRY_MAGIC);
	AN(fn);
	if (!mgr_name_ok(name))
		return (-EINVAL);
	if (mgr_registry_find(r, name, strlen(name)) != NULL) {
		log_msg(LG_ERR, SEC_MGR, "manager action %s registered twice",
		    name);
		return (-EEXIST);
	}
	if (r->n == r->cap) {
		cap = r->cap > 0 ? r->cap * 2 : 32;
		v = realloc(r->v, cap * sizeof *v);
		if (v == NULL)
			return (-ENOMEM);
		r->v = v;
		r->cap = cap;
	}
	a.name = strdup(name);
	a.title = strdup(title != NULL ? title : name);
	if (a.name == NULL || a.title == NULL) {
		free((char *)(uintptr_t)a.name);
		free((char *)(uintptr_t)a.title);
		return (-ENOMEM);
	}
	a.section = section;
	a.flags = flags;
	a.fn = fn;
	a.arg = arg;
	/* After the last of its section or an earlier one. */
	for (at = r->n; at > 0 && r->v[at - 1].section > section; at--)
		continue;
	memmove(&r->v[at + 1], &r->v[at], (r->n - at) * sizeof *r->v);
	r->v[at] = a;
	r->n++;
	return (0);
}

size_t
mgr_registry_rebind(struct mgr_registry *r, const void *from, void *to)
{
	size_t i, n = 0;

	CHECK_OBJ_NOTNULL(r, MGR_REGISTRY_MAGIC);
	for (i = 0; i < r->n; i++)
		if (r->v[i].arg == from) {
			r->v[i].arg = to;
			n++;
		}
	return (n);
}

const struct mgr_action *
mgr_registry_find(const struct mgr_registry *r, const char *name, size_t len)
{
	size_t i;

	CHECK_OBJ_NOTNULL(r, MGR_REGISTRY_MAGIC);
	for (i = 0; i < r->n; i++)
		if (strlen(r->v[i].name) == len &&
		    memcmp(r->v[i].name, name, len) == 0)
			return (&r->v[i]);
	return (NULL);
}

size_t
mgr_registry_count(const struct mgr_registry *r)
{
	CHECK_OBJ_NOTNULL(r, MGR_REGISTRY_MAGIC);
	return (r->n);
}

const struct mgr_action *
mgr_registry_at(const struct mgr_registry *r, size_t i)
{
	CHECK_OBJ_NOTNULL(r, MGR_REGISTRY_MAGIC);
	return (i < r->n ? &r->v[i] : NULL);
}
