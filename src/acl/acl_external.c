/*
 * acl_external.c - external_acl_type: acls a helper program decides
 * (Squid's ext_file_userip_acl, ext_ldap_group_acl, a script of the
 * site's own), run unchanged.
 *
 *	acl_externals_new()	the types: options, format, program; a
 *				helper pool each
 *	acl_external_start()	the line: FORMAT expanded (and the acl's
 *				arguments after it unless FORMAT has %DATA);
 *				a cached answer at once, else the helper
 *	  ext_done()		OK: match, ERR: no match, both cached by
 *				the line (ttl, negative_ttl); BH, garbage,
 *				a timeout, a full queue: no match, not
 *				cached, logged; user= and tag= go to the
 *				request (acl note, %un)
 *	acl_external_cancel()	the helper request is cancelled; its
 *				completion tells the check
 *
 * The cache is a hash of lines per type, bounded by cache= (entries;
 * Squid's 0, unbounded, is taken as EXT_CACHE_MAX): past it, expired
 * entries are dropped, and when none has expired the answer is simply
 * not kept.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl/acl_int.h"
#include "base/check.h"
#include "base/log.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "helper/helper.h"
#include "mgr/mgr.h"

#define EXT_BUCKETS		1024
#define EXT_CACHE_MAX		65536
#define EXT_LINE_MAX		16384
#define EXT_TTL_DEFAULT		3600.0	/* Squid's ttl */
#define EXT_TIMEOUT_DEFAULT	60.0	/* cuttle's own */

struct ext_entry {
	struct ext_entry	*next;
	double			expires;
	bool			match;
	char			*user;
	char			*tag;
	char			*log;
	char			key[];
};

struct ext_type {
	char			*name;
	struct acl_format	*format;
	char			*program;
	double			ttl;
	double			negative_ttl;
	unsigned		cache_max;
	struct helper_params	hp;
	struct helper_pool	*pool;
	struct ext_entry	*buckets[EXT_BUCKETS];
	size_t			nentries;
};

struct acl_externals {
	unsigned		magic;
#define ACL_EXTERNALS_MAGIC	0xac1e3e7aU
	struct comm_loop	*loop;
	struct ext_type		*v;
	size_t			n;
};

/* One question out: the check it answers. */
struct ext_query {
	unsigned		magic;
#define EXT_QUERY_MAGIC		0xac1e3e71U
	struct acl_check	*ck;
	struct helper_req	*rq;
	struct acl_externals	*xs;	/* NULL: freed meanwhile */
	struct ext_type		*ty;
	char			key[];
};

/* -- configuration --------------------------------------------------------- */

static void
ext_conf_error(const struct conf_line *l, const char *advice,
    const char *problem, int *errors)
{
	log_msg(LG_ERR, SEC_ACL, "%s:%u: external_acl_type: %s", l->file,
	    l->line, problem);
	log_msg(LG_ERR, SEC_ACL, "    advice: %s", advice);
	(*errors)++;
}

#define EXT_SYNTAX	"external_acl_type NAME [ttl=N] [negative_ttl=N] " \
	"[children-max=N] [children-startup=N] [children-idle=N] " \
	"[concurrency=N] [cache=N] [timeout=N] FORMAT PROGRAM [args]"

static char *
ext_join(const struct conf_line *l, unsigned from, unsigned to)
{
	size_t n = 1;
	unsigned i;
	char *s, *p;

	for (i = from; i < to; i++)
		n += strlen(l->argv[i]) + 1;
	s = malloc(n);
	if (s == NULL)
		return (NULL);
	p = s;
	*p = '\0';
	for (i = from; i < to; i++) {
		if (i > from)
			*p++ = ' ';
		p = stpcpy(p, l->argv[i]);
	}
	return (s);
}

static bool
ext_number(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	return (*s != '\0' && *end == '\0' && *out >= 0);
}

/* One line into ty: 0, or -1 (logged, counted). */
static int
ext_type_conf(struct ext_type *ty, const struct conf_line *l, int *errors)
{
	char *children[8], *fmt;
	unsigned i, nch = 0, fmt_start;
	const char *bad, *v;
	double d;
	bool neg_set = false;

	if (l->argc < 3) {
		ext_conf_error(l, EXT_SYNTAX, "a name, a format and a program "
		    "are needed", errors);
		return (-1);
	}
	ty->name = strdup(l->argv[0]);
	ty->ttl = EXT_TTL_DEFAULT;
	ty->cache_max = EXT_CACHE_MAX;
	ty->hp.children_max = 5;	/* Squid's defaults */
	ty->hp.idle = 1;
	ty->hp.timeout = EXT_TIMEOUT_DEFAULT;
	for (i = 1; i < l->argc && strchr(l->argv[i], '=') != NULL &&
	    l->argv[i][0] != '%'; i++) {
		v = strchr(l->argv[i], '=') + 1;
		if (strncmp(l->argv[i], "ttl=", 4) == 0 && ext_number(v, &d))
			ty->ttl = d;
		else if (strncmp(l->argv[i], "negative_ttl=", 13) == 0 &&
		    ext_number(v, &d)) {
			ty->negative_ttl = d;
			neg_set = true;
		} else if (strncmp(l->argv[i], "grace=", 6) == 0 &&
		    ext_number(v, &d))
			;	/* accepted: answers are not refreshed early */
		else if (strncmp(l->argv[i], "cache=", 6) == 0 &&
		    ext_number(v, &d))
			ty->cache_max = d == 0 || d > EXT_CACHE_MAX ?
			    EXT_CACHE_MAX : (unsigned)d;
		else if (strncmp(l->argv[i], "timeout=", 8) == 0 &&
		    ext_number(v, &d))
			ty->hp.timeout = d;
		else if (strcmp(l->argv[i], "protocol=2.5") == 0 ||
		    strcmp(l->argv[i], "protocol=3.0") == 0)
			;	/* the same grammar: OK/ERR/BH key=value */
		else if ((strncmp(l->argv[i], "children", 8) == 0 ||
		    strncmp(l->argv[i], "concurrency=", 12) == 0 ||
		    strncmp(l->argv[i], "queue-size=", 11) == 0) &&
		    nch < sizeof children / sizeof children[0])
			children[nch++] = l->argv[i];
		else {
			ext_conf_error(l, EXT_SYNTAX, "unknown option", errors);
			return (-1);
		}
	}
	if (!neg_set)
		ty->negative_ttl = ty->ttl;	/* as Squid */
	if (nch > 0 && helper_params_children(&ty->hp, children, nch) != 0) {
		ext_conf_error(l, EXT_SYNTAX, "bad children-max=, "
		    "children-startup=, children-idle= or concurrency=",
		    errors);
		return (-1);
	}
	/* The format: the words with a %-code; the program: the rest. */
	fmt_start = i;
	while (i < l->argc && strchr(l->argv[i], '%') != NULL)
		i++;
	if (i == fmt_start || i == l->argc) {
		ext_conf_error(l, EXT_SYNTAX, i == fmt_start ? "no format "
		    "(%LOGIN, %SRC, %>{Header} ...)" : "no program", errors);
		return (-1);
	}
	fmt = ext_join(l, fmt_start, i);
	ty->program = ext_join(l, i, l->argc);
	if (ty->name == NULL || fmt == NULL || ty->program == NULL) {
		free(fmt);
		(*errors)++;
		return (-1);
	}
	ty->format = acl_format_new(fmt, &bad);
	if (ty->format == NULL && bad != NULL) {
		/* bad points into fmt: the message first, then the free. */
		ext_conf_error(l, "logformat codes (%>a %un %>rd ...) or "
		    "Squid's %LOGIN %SRC %DST %PORT %PROTO %METHOD %URI %PATH "
		    "%MYADDR %MYPORT %EXT_USER %{Header}", bad, errors);
		free(fmt);
		return (-1);
	}
	free(fmt);
	if (ty->format == NULL) {
		(*errors)++;
		return (-1);
	}
	ty->hp.name = ty->name;
	ty->hp.cmd = ty->program;
	return (0);
}

static void
ext_entry_free(struct ext_entry *e)
{
	free(e->user);
	free(e->tag);
	free(e->log);
	free(e);
}

static void
ext_cache_clear(struct ext_type *ty)
{
	struct ext_entry *e;
	size_t i;

	for (i = 0; i < EXT_BUCKETS; i++)
		while ((e = ty->buckets[i]) != NULL) {
			ty->buckets[i] = e->next;
			ext_entry_free(e);
		}
	ty->nentries = 0;
}

struct acl_externals *
acl_externals_new(struct comm_loop *loop, const struct conf_lines *types,
    int *errors)
{
	struct acl_externals *xs;
	struct ext_type *ty;
	size_t i, j;
	int n = 0, err;

	if (types == NULL || types->n == 0)
		return (NULL);
	ALLOC_OBJ(xs, ACL_EXTERNALS_MAGIC);
	if (xs == NULL || (xs->v = calloc(types->n, sizeof *xs->v)) ==
	    NULL) {
		free(xs);
		(*errors)++;
		return (NULL);
	}
	xs->loop = loop;
	for (i = 0; i < types->n; i++) {
		ty = &xs->v[xs->n];
		if (ext_type_conf(ty, &types->v[i], &n) != 0) {
			free(ty->name);
			acl_format_free(&ty->format);
			free(ty->program);
			memset(ty, 0, sizeof *ty);
			continue;
		}
		for (j = 0; j < xs->n; j++)
			if (strcmp(xs->v[j].name, ty->name) == 0)
				ext_conf_error(&types->v[i], "give each type "
				    "its own name", "a second definition of "
				    "this name", &n);
		xs->n++;
		if (loop == NULL || n > 0)
			continue;
		ty->pool = helper_pool_new(loop, &ty->hp, &err);
		if (ty->pool == NULL) {
			log_msg(LG_ERR, SEC_ACL, "external_acl_type %s: cannot "
			    "start the helpers: %s", ty->name, strerror(-err));
			n++;
		}
	}
	*errors += n;
	if (n > 0 || loop == NULL)
		acl_externals_free(&xs);
	return (xs);
}

void
acl_externals_free(struct acl_externals **xp)
{
	struct acl_externals *xs = *xp;
	struct ext_type *ty;
	size_t i;

	if (xs == NULL)
		return;
	*xp = NULL;
	CHECK_OBJ_NOTNULL(xs, ACL_EXTERNALS_MAGIC);
	for (i = 0; i < xs->n; i++) {
		ty = &xs->v[i];
		/* Questions out complete CANCELLED, from the loop. */
		helper_pool_free(&ty->pool);
		ext_cache_clear(ty);
		free(ty->name);
		acl_format_free(&ty->format);
		free(ty->program);
	}
	free(xs->v);
	FREE_OBJ(xs);
}

void
acl_externals_check_acls(const struct conf_lines *acls,
    const struct conf_lines *types, int *errors)
{
	const struct conf_line *l;
	size_t i, j;

	for (i = 0; acls != NULL && i < acls->n; i++) {
		l = &acls->v[i];
		if (l->argc < 2 || strcmp(l->argv[1], "external") != 0)
			continue;
		for (j = 0; l->argc > 2 && types != NULL && j < types->n; j++)
			if (types->v[j].argc > 0 && strcmp(types->v[j].argv[0],
			    l->argv[2]) == 0)
				break;
		if (l->argc > 2 && types != NULL && j < types->n)
			continue;
		log_msg(LG_ERR, SEC_ACL, "%s:%u: acl: acl %s names no "
		    "external_acl_type %s", l->file, l->line, l->argv[0],
		    l->argc > 2 ? l->argv[2] : "(none)");
		log_msg(LG_ERR, SEC_ACL, "    advice: define it with "
		    "\"external_acl_type %s FORMAT PROGRAM\" first",
		    l->argc > 2 ? l->argv[2] : "NAME");
		(*errors)++;
	}
}

static struct ext_type *
ext_type_find(struct acl_externals *xs, const char *name)
{
	size_t i;

	for (i = 0; xs != NULL && i < xs->n; i++)
		if (strcmp(xs->v[i].name, name) == 0)
			return (&xs->v[i]);
	return (NULL);
}

int
acl_externals_replace(struct acl_externals *from, struct acl_externals *to,
    struct mgr_registry *r, struct helper_pools *ps)
{
	struct ext_type *old;
	size_t i;
	unsigned k;
	int err = 0;

	for (i = 0; from != NULL && i < from->n; i++)
		if (ext_type_find(to, from->v[i].name) == NULL)
			return (-EINVAL);
	if (r == NULL)
		return (0);	/* only asked whether it may */
	for (i = 0; to != NULL && i < to->n; i++) {
		old = ext_type_find(from, to->v[i].name);
		if (old == NULL || old->pool == NULL) {
			if (ps->n < HELPER_POOLS_MAX)
				ps->v[ps->n++] = to->v[i].pool;
			if (helper_register_page(to->v[i].pool, r) != 0)
				err = -ENOMEM;
			continue;
		}
		(void)mgr_registry_rebind(r, old->pool, to->v[i].pool);
		for (k = 0; k < ps->n; k++)
			if (ps->v[k] == old->pool)
				ps->v[k] = to->v[i].pool;
	}
	return (err);
}

/* -- the cache ------------------------------------------------------------- */

static unsigned
ext_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h % EXT_BUCKETS);
}

static struct ext_entry *
ext_cache_find(struct ext_type *ty, const char *key, double now)
{
	struct ext_entry *e;

	for (e = ty->buckets[ext_hash(key)]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return (e->expires > now ? e : NULL);
	return (NULL);
}

/* Drop what has expired: room for more. */
static void
ext_cache_expire(struct ext_type *ty, double now)
{
	struct ext_entry **pe, *e;
	size_t i;

	for (i = 0; i < EXT_BUCKETS; i++)
		for (pe = &ty->buckets[i]; (e = *pe) != NULL;) {
			if (e->expires > now) {
				pe = &e->next;
				continue;
			}
			*pe = e->next;
			ext_entry_free(e);
			ty->nentries--;
		}
}

static void
ext_cache_put(struct ext_type *ty, const char *key, bool match,
    const struct acl_ext_notes *nt, double now)
{
	struct ext_entry **pe, *e;
	double ttl = match ? ty->ttl : ty->negative_ttl;
	size_t len = strlen(key);
	unsigned h = ext_hash(key);

	if (ttl <= 0)
		return;
	for (pe = &ty->buckets[h]; (e = *pe) != NULL; pe = &e->next)
		if (strcmp(e->key, key) == 0) {
			*pe = e->next;		/* replaced below */
			ext_entry_free(e);
			ty->nentries--;
			break;
		}
	if (ty->nentries >= ty->cache_max)
		ext_cache_expire(ty, now);
	if (ty->nentries >= ty->cache_max)
		return;
	e = malloc(sizeof *e + len + 1);
	if (e == NULL)
		return;
	memcpy(e->key, key, len + 1);
	e->match = match;
	e->expires = now + ttl;
	e->user = nt->user != NULL ? strdup(nt->user) : NULL;
	e->tag = nt->tag != NULL ? strdup(nt->tag) : NULL;
	e->log = nt->log != NULL ? strdup(nt->log) : NULL;
	e->next = ty->buckets[h];
	ty->buckets[h] = e;
	ty->nentries++;
}

/* -- questions ------------------------------------------------------------- */

static helper_done_fn ext_done;

int
acl_external_start(struct acl_externals *xs, const struct acl *a,
    const struct acl_request *req, struct acl_check *ck, bool *match,
    struct acl_ext_notes *notes)
{
	const struct acl_users *w = acl_external_words(a);
	struct ext_type *ty;
	struct ext_entry *e;
	struct ext_query *q;
	char line[EXT_LINE_MAX], data[1024];
	size_t i, dn = 0;
	int n;

	CHECK_OBJ_NOTNULL(xs, ACL_EXTERNALS_MAGIC);
	*match = false;
	ty = w->n > 0 ? ext_type_find(xs, w->v[0]) : NULL;
	if (ty == NULL || ty->pool == NULL)
		return (0);
	data[0] = '\0';
	for (i = 1; i < w->n && dn + strlen(w->v[i]) + 2 < sizeof data; i++)
		dn += (size_t)snprintf(data + dn, sizeof data - dn, "%s%s",
		    i > 1 ? " " : "", w->v[i]);
	n = acl_format_expand(ty->format, req, data, line, sizeof line);
	/* Squid: without %DATA, the acl's arguments end the line. */
	if (n >= 0 && dn > 0 && !acl_format_has(ty->format, "DATA"))
		n = (size_t)n + dn + 1 < sizeof line ? n + snprintf(line + n,
		    sizeof line - (size_t)n, " %s", data) : -E2BIG;
	if (n < 0) {
		log_msg(LG_WARN, SEC_ACL, "external acl %s: the line for the "
		    "helper is too long: no match", ty->name);
		return (0);
	}
	e = ext_cache_find(ty, line, comm_now(xs->loop));
	if (e != NULL) {
		*match = e->match;
		notes->user = e->user;
		notes->tag = e->tag;
		notes->log = e->log;
		return (0);
	}
	q = malloc(sizeof *q + (size_t)n + 1);
	if (q == NULL)
		return (0);
	q->magic = EXT_QUERY_MAGIC;
	q->ck = ck;
	q->xs = xs;
	q->ty = ty;
	memcpy(q->key, line, (size_t)n + 1);
	q->rq = helper_submit(ty->pool, line, (size_t)n, ext_done, q);
	if (q->rq == NULL) {
		free(q);
		return (0);
	}
	ck->ext_q = q;
	return (1);
}

void
acl_external_cancel(struct acl_check *ck)
{
	struct ext_query *q = ck->ext_q;

	if (q != NULL)
		helper_cancel(&q->rq);
}

static void
ext_done(struct helper_req *rq, const struct helper_reply *r, void *arg)
{
	struct ext_query *q = arg;
	struct acl_ext_notes nt;
	const char *name;
	bool match = r->status == HELPER_OK;

	(void)rq;
	CHECK_OBJ_NOTNULL(q, EXT_QUERY_MAGIC);
	q->rq = NULL;
	nt.user = helper_reply_get(r, "user");
	nt.tag = helper_reply_get(r, "tag");
	nt.log = helper_reply_get(r, "log");
	/* The pool (and the type's name) go with acl_externals_free(),
	 * which cancels first: a cancelled question names no type. */
	name = r->status == HELPER_CANCELLED ? "(replaced)" : q->ty->name;
	if (r->status == HELPER_OK || r->status == HELPER_ERR)
		ext_cache_put(q->ty, q->key, match, &nt,
		    comm_now(q->xs->loop));
	else
		log_msg(LG_WARN, SEC_ACL, "external acl %s: the helper "
		    "answered %s%s%s: no match, not cached", name,
		    helper_status_name(r->status), r->why != NULL ||
		    r->status == HELPER_UNKNOWN ? ": " : "", r->why != NULL ?
		    r->why : r->status == HELPER_UNKNOWN ? "garbage" : "");
	if (r->status != HELPER_OK && r->status != HELPER_ERR)
		memset(&nt, 0, sizeof nt);
	acl_check_ext_done(q->ck, match, &nt);
	free(q);
}
