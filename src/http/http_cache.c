/*
 * http_cache.c - RFC 9111 as pure functions: Cache-Control, refresh_pattern,
 * what may be stored, freshness, age, reuse and stale-if-error.
 * Conditionals, 304 updates, Vary, ranges and invalidation are in
 * http_cache_cond.c.
 *
 * Nothing here reads a clock or does I/O; times come in as arguments.
 * Where an RFC leaves a choice, the choice and the reason sit next to the
 * code, with the section that allows it.
 *
 * Lifecycle of the only object (refresh rules, one per configuration):
 *	http_refresh_new()	compile the refresh_pattern lines
 *	(read-only use from http_cache_storable(), http_cache_meta_init())
 *	http_refresh_free()
 */
#include "config.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/check.h"
#include "http/http_cache.h"
#include "http/http_cache_int.h"

/* RFC 9111 1.2.2: a delta-seconds too large to represent is taken as 2^31. */
#define HC_DELTA_MAX	INT64_C(2147483648)

/* delta-seconds = 1*DIGIT, saturating at 2^31; -1 when not digits. */
static int64_t
hc_delta(const char *s, size_t len)
{
	int64_t v = 0;
	size_t i;

	if (len == 0)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		if (v < HC_DELTA_MAX)
			v = v * 10 + (s[i] - '0');
	}
	return (v > HC_DELTA_MAX ? HC_DELTA_MAX : v);
}

/*
 * The Age of a reply (5.1), or -1 to ignore it.  Its lines make one list
 * (RFC 9110 5.3): "Age: 7200, 0" and "Age: 7200" then "Age: 0" alike.
 * 5.1: a cache "SHOULD use the first member of the field value,
 * discarding subsequent ones" (empty members are none, RFC 9110 5.6.1.2),
 * and "If the field value (after discarding additional members ...) is
 * invalid (e.g., it contains something other than a non-negative
 * integer), a cache SHOULD ignore the field": "-5", "7.5" and "" count
 * for nothing.  Never a later member: an older value behind a younger
 * one must not make the reply look fresher than its first sender said.
 * Too large a value is 2^31 (1.2.2).
 */
static int64_t
hc_age(const struct http_msg *m)
{
	const struct http_field *f;
	const char *v;
	size_t i, s, e;

	for (f = http_msg_field(m, HTTP_HDR_AGE); f != NULL;
	    f = http_msg_field_next(m, f)) {
		v = http_msg_ptr(m, f->value);
		for (i = 0; i < f->value.len; i++) {
			while (i < f->value.len && hc_ows(v[i]))
				i++;
			s = i;
			while (i < f->value.len && v[i] != ',')
				i++;
			e = i;
			while (e > s && hc_ows(v[e - 1]))
				e--;
			if (e > s)
				return (hc_delta(v + s, e - s));
		}
	}
	return (-1);
}

/* -- Cache-Control (RFC 9111 5.2) ------------------------------------------ */

enum cc_kind {
	CCK_FLAG,		/* a bare directive; a value is ignored */
	CCK_FIELDS,		/* flag unqualified, flag2 with a value */
	CCK_MIN,		/* delta-seconds; duplicates: the least */
	CCK_MAX,		/* delta-seconds; duplicates: the greatest */
	CCK_MAX_STALE		/* max-stale [ "=" delta-seconds ] */
};

static const struct cc_name {
	const char	*name;
	uint8_t		len;
	uint8_t		kind;		/* enum cc_kind */
	uint16_t	flag;
	uint16_t	flag2;
	size_t		off;		/* of the int64_t in struct http_cc */
} cc_names[] = {
#define CCF(n, f)	{ n, sizeof(n) - 1, CCK_FLAG, f, 0, 0 }
#define CCD(n, k, m)	\
	{ n, sizeof(n) - 1, k, 0, 0, offsetof(struct http_cc, m) }
	CCD("max-age", CCK_MIN, max_age),
	CCF("public", HCC_PUBLIC),
	{ "no-cache", 8, CCK_FIELDS, HCC_NO_CACHE, HCC_NO_CACHE_FIELDS, 0 },
	{ "private", 7, CCK_FIELDS, HCC_PRIVATE, HCC_PRIVATE_FIELDS, 0 },
	CCF("no-store", HCC_NO_STORE),
	CCD("s-maxage", CCK_MIN, s_maxage),
	CCF("must-revalidate", HCC_MUST_REVALIDATE),
	CCF("proxy-revalidate", HCC_PROXY_REVALIDATE),
	CCF("immutable", HCC_IMMUTABLE),
	CCF("no-transform", HCC_NO_TRANSFORM),
	CCD("stale-while-revalidate", CCK_MIN, stale_while_revalidate),
	CCD("stale-if-error", CCK_MIN, stale_if_error),
	{ "max-stale", 9, CCK_MAX_STALE, HCC_MAX_STALE_ANY, 0,
	    offsetof(struct http_cc, max_stale) },
	CCD("min-fresh", CCK_MAX, min_fresh),
	CCF("only-if-cached", HCC_ONLY_IF_CACHED),
	CCF("must-understand", HCC_MUST_UNDERSTAND),
#undef CCF
#undef CCD
};

/*
 * One directive.  A delta-seconds that is not one (1.2.2) leaves the slot
 * as it was: -1 unless another occurrence set it.  Duplicates keep the
 * most restrictive value (4.2.1): the shortest lifetime or staleness
 * allowance, the longest min-fresh.  A quoted value counts as its
 * contents (5.2: recipients accept both forms).
 */
static void
cc_directive(struct http_cc *cc, const char *n, size_t nlen, const char *v,
    size_t vlen, bool has_value)
{
	const struct cc_name *c;
	int64_t d, *slot;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cc_names); i++) {
		c = &cc_names[i];
		if (c->len == nlen && strncasecmp(c->name, n, nlen) == 0)
			break;
	}
	if (i == ARRAY_LEN(cc_names))
		return;			/* an extension: ignored (5.2.3) */
	slot = (int64_t *)(void *)((char *)cc + c->off);
	switch (c->kind) {
	case CCK_FLAG:
		cc->flags |= c->flag;
		return;
	case CCK_FIELDS:
		/* A list naming no field ("", ", ") restricts nothing
		 * less than the bare directive: read it as that. */
		for (i = 0; has_value && i < vlen; i++)
			if (http_is_tchar((unsigned char)v[i]))
				break;
		cc->flags |= has_value && i < vlen ? c->flag2 : c->flag;
		return;
	case CCK_MAX_STALE:
		if (!has_value) {
			cc->flags |= c->flag;
			return;
		}
		/* FALLTHROUGH */
	case CCK_MIN:
		d = has_value ? hc_delta(v, vlen) : -1;
		if (d >= 0 && (*slot < 0 || d < *slot))
			*slot = d;
		return;
	case CCK_MAX:
		d = has_value ? hc_delta(v, vlen) : -1;
		if (d > *slot)
			*slot = d;
		return;
	default:
		WRONG("cc_names kind");
	}
}

/*
 * cache-directive = token [ "=" ( token / quoted-string ) ], in a
 * comma-separated list.  A malformed member (no name, junk after the
 * value, an unterminated quote) is skipped up to the next comma; the
 * rest of the line still counts.
 */
typedef void cc_member_fn(void *arg, const char *n, size_t nlen,
    const char *v, size_t vlen, bool has_value);

static void
cc_parse_line(const char *s, size_t len, cc_member_fn *fn, void *arg)
{
	size_t i = 0, ns, ne, vs, ve;
	bool has_value, ok;

	while (i < len) {
		while (i < len && (s[i] == ',' || hc_ows(s[i])))
			i++;
		if (i == len)
			break;
		ns = i;
		while (i < len && http_is_tchar((unsigned char)s[i]))
			i++;
		ne = i;
		ok = ne > ns;
		has_value = false;
		vs = ve = i;
		if (i < len && s[i] == '=') {
			has_value = true;
			if (++i < len && s[i] == '"') {
				vs = ++i;
				while (i < len && s[i] != '"')
					i += s[i] == '\\' && i + 1 < len ?
					    2 : 1;
				ve = i;
				if (i >= len)
					ok = false;
				else
					i++;
			} else {
				vs = i;
				while (i < len &&
				    http_is_tchar((unsigned char)s[i]))
					i++;
				ve = i;
			}
		}
		while (i < len && hc_ows(s[i]))
			i++;
		if (i < len && s[i] != ',') {
			ok = false;
			while (i < len && s[i] != ',')
				i++;
		}
		if (ok)
			fn(arg, s + ns, ne - ns, s + vs, ve - vs, has_value);
	}
}

static void
cc_member(void *arg, const char *n, size_t nlen, const char *v, size_t vlen,
    bool has_value)
{
	cc_directive(arg, n, nlen, v, vlen, has_value);
}

void
http_cc_parse(const struct http_msg *m, struct http_cc *cc)
{
	const struct http_field *f;

	CHECK_OBJ_NOTNULL(m, HTTP_MSG_MAGIC);
	AN(cc);
	cc->flags = 0;
	cc->max_age = -1;
	cc->s_maxage = -1;
	cc->max_stale = -1;
	cc->min_fresh = -1;
	cc->stale_while_revalidate = -1;
	cc->stale_if_error = -1;
	f = http_msg_field(m, HTTP_HDR_CACHE_CONTROL);
	if (f == NULL) {
		/* 5.4: Pragma: no-cache is no-cache in a request that has
		 * no Cache-Control; replies' Pragma means nothing. */
		if (m->kind == HTTP_MSG_REQUEST &&
		    m->first[HTTP_HDR_PRAGMA] != 0 &&
		    http_msg_has_token(m, HTTP_HDR_PRAGMA, "no-cache"))
			cc->flags |= HCC_NO_CACHE;
		return;
	}
	for (; f != NULL; f = http_msg_field_next(m, f))
		cc_parse_line(http_msg_ptr(m, f->value), f->value.len,
		    cc_member, cc);
}

struct cc_lookup {
	const char	*directive;	/* "no-cache" or "private" */
	const char	*name;		/* the field name looked for */
	size_t		len;
	bool		found;
};

/*
 * One member of a Cache-Control line: when it is the directive looked
 * for, with a value, is the name in its #field-name list?  Inside the
 * quotes a backslash escapes the next byte (a quoted-pair); a field name
 * is a token, so one that needs an escape never matches.
 */
static void
cc_lookup_member(void *arg, const char *n, size_t nlen, const char *v,
    size_t vlen, bool has_value)
{
	struct cc_lookup *l = arg;
	size_t pos = 0, s, len;

	if (!has_value || nlen != strlen(l->directive) ||
	    strncasecmp(n, l->directive, nlen) != 0)
		return;
	while ((len = http_list_next(v, vlen, &pos, &s)) > 0)
		if (len == l->len && strncasecmp(v + s, l->name, len) == 0)
			l->found = true;
}

bool
http_cc_names_field(const struct http_msg *m, unsigned which,
    const char *name, size_t len)
{
	const struct http_field *f;
	struct cc_lookup l;

	CHECK_OBJ_NOTNULL(m, HTTP_MSG_MAGIC);
	CHECK(which == HCC_NO_CACHE_FIELDS || which == HCC_PRIVATE_FIELDS);
	l.directive = which == HCC_NO_CACHE_FIELDS ? "no-cache" : "private";
	l.name = name;
	l.len = len;
	l.found = false;
	if (len == 0)
		return (false);
	for (f = http_msg_field(m, HTTP_HDR_CACHE_CONTROL);
	    f != NULL && !l.found; f = http_msg_field_next(m, f))
		cc_parse_line(http_msg_ptr(m, f->value), f->value.len,
		    cc_lookup_member, &l);
	return (l.found);
}

/* -- refresh_pattern ------------------------------------------------------- */

#define RF_OVERRIDE_EXPIRE	0x01u
#define RF_OVERRIDE_LASTMOD	0x02u
#define RF_IGNORE_RELOAD	0x04u
#define RF_IGNORE_NO_STORE	0x08u
#define RF_IGNORE_PRIVATE	0x10u
#define RF_RELOAD_INTO_IMS	0x20u
#define RF_REFRESH_IMS		0x40u

/* Minutes up to 2^31 seconds, as delta-seconds are bounded (1.2.2). */
#define REFRESH_MAX_MINUTES	35791394L
#define REFRESH_MAX_PERCENT	100000L
#define REFRESH_SYNTAX \
	"refresh_pattern [-i] regex min percent max [options]"
#define REFRESH_OPTIONS \
	"override-expire, override-lastmod, ignore-reload, ignore-no-store, " \
	"ignore-private, reload-into-ims, refresh-ims, max-stale=seconds"

/* "file:line: refresh_pattern: <problem>; expected: <form>". */
#define refresh_error(err, errlen, l, expected, ...)			\
	conf_line_error(err, errlen, l, "refresh_pattern", expected,	\
	    __VA_ARGS__)

static const struct {
	const char	*name;
	unsigned	flag;
} refresh_opts[] = {
	{ "override-expire",	RF_OVERRIDE_EXPIRE },
	{ "override-lastmod",	RF_OVERRIDE_LASTMOD },
	{ "ignore-reload",	RF_IGNORE_RELOAD },
	{ "ignore-no-store",	RF_IGNORE_NO_STORE },
	{ "ignore-private",	RF_IGNORE_PRIVATE },
	{ "reload-into-ims",	RF_RELOAD_INTO_IMS },
	{ "refresh-ims",	RF_REFRESH_IMS },
};

struct refresh_rule {
	regex_t		re;
	int64_t		min;		/* seconds */
	int64_t		max;		/* seconds */
	int64_t		max_stale;	/* seconds, -1: not given */
	unsigned	pct;
	unsigned	flags;		/* RF_* */
};

struct http_refresh {
	unsigned		magic;
#define HTTP_REFRESH_MAGIC	0x7ef5e5a1U
	size_t			n;	/* compiled rules in v */
	struct refresh_rule	*v;
};

/* A whole number of at most max, with an optional suffix character
 * (the percent sign); -1 otherwise. */
static long
refresh_number(const char *s, char suffix, long max)
{
	long v = 0;
	size_t i, len = strlen(s);

	if (len > 0 && suffix != '\0' && s[len - 1] == suffix)
		len--;
	if (len == 0)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return (-1);
	}
	return (v);
}

static int
refresh_option(struct refresh_rule *r, const struct conf_line *l,
    const char *opt, char *err, size_t errlen)
{
	long v;
	size_t i;

	for (i = 0; i < ARRAY_LEN(refresh_opts); i++)
		if (strcmp(opt, refresh_opts[i].name) == 0) {
			r->flags |= refresh_opts[i].flag;
			return (0);
		}
	if (strncmp(opt, "max-stale=", 10) == 0) {
		v = refresh_number(opt + 10, '\0', (long)HC_DELTA_MAX - 1);
		if (v < 0) {
			refresh_error(err, errlen, l, "max-stale=seconds",
			    "bad max-stale \"%s\"", opt + 10);
			return (-1);
		}
		r->max_stale = v;
		return (0);
	}
	refresh_error(err, errlen, l, "options among " REFRESH_OPTIONS,
	    "unknown option \"%s\"", opt);
	return (-1);
}

/* One line into r (whose regex is compiled only on success). */
static int
refresh_line(struct refresh_rule *r, const struct conf_line *l, char *err,
    size_t errlen)
{
	char msg[256];
	unsigned i = 0;
	int cflags = REG_EXTENDED | REG_NOSUB, rc;
	long min, pct, max;
	const char *re;

	memset(r, 0, sizeof *r);
	r->max_stale = -1;
	/* Squid's case switches: -i before the regex, +i (the default)
	 * accepted for its configurations. */
	if (i < l->argc && strcmp(l->argv[i], "-i") == 0) {
		cflags |= REG_ICASE;
		i++;
	} else if (i < l->argc && strcmp(l->argv[i], "+i") == 0)
		i++;
	if (l->argc - i < 4) {
		refresh_error(err, errlen, l, REFRESH_SYNTAX,
		    "%u value%s given, regex min percent max needed",
		    l->argc - i, l->argc - i == 1 ? "" : "s");
		return (-1);
	}
	re = l->argv[i++];
	if ((min = refresh_number(l->argv[i], '\0', REFRESH_MAX_MINUTES)) < 0) {
		refresh_error(err, errlen, l, REFRESH_SYNTAX, "bad min \"%s\" "
		    "(whole minutes)", l->argv[i]);
		return (-1);
	}
	i++;
	if ((pct = refresh_number(l->argv[i], '%', REFRESH_MAX_PERCENT)) < 0) {
		refresh_error(err, errlen, l, REFRESH_SYNTAX, "bad percent "
		    "\"%s\" (a whole number, as 20%%)", l->argv[i]);
		return (-1);
	}
	i++;
	if ((max = refresh_number(l->argv[i], '\0', REFRESH_MAX_MINUTES)) < 0) {
		refresh_error(err, errlen, l, REFRESH_SYNTAX, "bad max \"%s\" "
		    "(whole minutes)", l->argv[i]);
		return (-1);
	}
	i++;
	r->min = (int64_t)min * 60;
	r->pct = (unsigned)pct;
	r->max = (int64_t)max * 60;
	for (; i < l->argc; i++)
		if (refresh_option(r, l, l->argv[i], err, errlen) != 0)
			return (-1);
	rc = regcomp(&r->re, re, cflags);
	if (rc != 0) {
		regerror(rc, &r->re, msg, sizeof msg);
		refresh_error(err, errlen, l, "a POSIX extended regular "
		    "expression, as egrep takes them", "bad regex \"%s\": %s",
		    re, msg);
		return (-1);
	}
	return (0);
}

struct http_refresh *
http_refresh_new(const struct conf_lines *lines, char *err, size_t errlen)
{
	struct http_refresh *rp;
	size_t i;

	AN(lines);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	ALLOC_OBJ(rp, HTTP_REFRESH_MAGIC);
	if (rp == NULL)
		goto nomem;
	if (lines->n > 0) {
		rp->v = calloc(lines->n, sizeof *rp->v);
		if (rp->v == NULL)
			goto nomem;
	}
	for (i = 0; i < lines->n; i++) {
		if (refresh_line(&rp->v[i], &lines->v[i], err, errlen) != 0) {
			http_refresh_free(&rp);
			return (NULL);
		}
		rp->n++;
	}
	return (rp);
nomem:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "refresh_pattern: out of memory");
	http_refresh_free(&rp);
	return (NULL);
}

void
http_refresh_free(struct http_refresh **rpp)
{
	struct http_refresh *rp;
	size_t i;

	if (*rpp == NULL)
		return;
	TAKE_OBJ_NOTNULL(rp, rpp, HTTP_REFRESH_MAGIC);
	for (i = 0; i < rp->n; i++)
		regfree(&rp->v[i].re);
	free(rp->v);
	FREE_OBJ(rp);
}

/* The first rule whose regex matches url, or NULL. */
static const struct refresh_rule *
refresh_match(const struct http_refresh *rp, const char *url, size_t len)
{
	regmatch_t pm[1];
	size_t i;

	if (rp == NULL || url == NULL)
		return (NULL);
	CHECK_OBJ(rp, HTTP_REFRESH_MAGIC);
	/* REG_STARTEND (glibc, the BSDs) matches the counted URL in
	 * place; pm[0] gives the bounds even under REG_NOSUB. */
	for (i = 0; i < rp->n; i++) {
		pm[0].rm_so = 0;
		pm[0].rm_eo = (regoff_t)len;
		if (regexec(&rp->v[i].re, url, 1, pm, REG_STARTEND) == 0)
			return (&rp->v[i]);
	}
	return (NULL);
}

/* -- storing (3) ----------------------------------------------------------- */

/* RFC 9110 15.1: the codes a cache may store with heuristic freshness
 * (206 is one, but cuttle never stores a partial reply). */
static bool
hc_status_heuristic(unsigned st)
{
	switch (st) {
	case 200: case 203: case 204: case 300: case 301: case 308:
	case 404: case 405: case 410: case 414: case 501:
		return (true);
	default:
		return (false);
	}
}

/* The codes RFC 9110 15 defines, whose caching rules cuttle knows: what
 * must-understand (5.2.2.3) asks of a cache. */
static bool
hc_status_understood(unsigned st)
{
	return ((st >= 200 && st <= 206) || (st >= 300 && st <= 308 &&
	    st != 306) || (st >= 400 && st <= 417) || st == 421 ||
	    st == 422 || st == 426 || (st >= 500 && st <= 505));
}

const char *
http_cache_storable(const struct http_msg *req, const struct http_cc *reqcc,
    const struct http_msg *rep, const struct http_cc *repcc,
    const struct http_refresh *rp, const char *url, size_t url_len)
{
	const struct refresh_rule *r;
	unsigned st, rf;

	CHECK_OBJ_NOTNULL(req, HTTP_MSG_MAGIC);
	CHECK_OBJ_NOTNULL(rep, HTTP_MSG_MAGIC);
	AN(reqcc);
	AN(repcc);
	st = rep->status;
	/* 3: a method the cache understands and defines as cacheable;
	 * cuttle caches GET alone (HEAD is answered from a GET entry). */
	if (req->method != HTTP_M_GET)
		return ("method is not GET");
	if (st < 200)
		return ("interim reply");
	if (st == 206)
		return ("partial content");
	if (st == 304)
		return ("304 Not Modified");
	if ((repcc->flags & HCC_MUST_UNDERSTAND) && !hc_status_understood(st))
		return ("must-understand with an unknown status");
	if (reqcc->flags & HCC_NO_STORE)
		return ("no-store in request");
	r = refresh_match(rp, url, url_len);
	rf = r != NULL ? r->flags : 0;
	/* 5.2.2.3: a cache that understands the status code ignores
	 * no-store when must-understand comes with it. */
	if ((repcc->flags & HCC_NO_STORE) &&
	    !(repcc->flags & HCC_MUST_UNDERSTAND) &&
	    !(rf & RF_IGNORE_NO_STORE))
		return ("no-store in reply");
	/* 5.2.2.7: a qualified private keeps only the fields it names out
	 * of a shared cache; the caller stores the rest. */
	if ((repcc->flags & HCC_PRIVATE) && !(rf & RF_IGNORE_PRIVATE))
		return ("private");
	if (req->first[HTTP_HDR_AUTHORIZATION] != 0 &&
	    !(repcc->flags & (HCC_PUBLIC | HCC_MUST_REVALIDATE)) &&
	    repcc->s_maxage < 0)
		return ("Authorization without public, must-revalidate or "
		    "s-maxage");
	if (rep->first[HTTP_HDR_VARY] != 0 &&
	    http_msg_has_token(rep, HTTP_HDR_VARY, "*"))
		return ("Vary: *");
	if (repcc->max_age < 0 && repcc->s_maxage < 0 &&
	    rep->first[HTTP_HDR_EXPIRES] == 0 &&
	    !(repcc->flags & HCC_PUBLIC) && !hc_status_heuristic(st))
		return ("status not cacheable without explicit expiry");
	return (NULL);
}

/* -- freshness and age (4.2) ----------------------------------------------- */

/*
 * Squid's heuristic (refresh.cc, refreshStaleness()), as a lifetime:
 * with a Last-Modified before the reply's date, percent of the time
 * between them; without, min; and never more than max.  min bounds the
 * Last-Modified factor from below only with override-lastmod.
 */
static int64_t
refresh_heuristic(const struct refresh_rule *r, int64_t date, int64_t lm)
{
	int64_t life;

	if (lm >= 0 && date - lm > 0) {
		life = (date - lm) / 100 * r->pct +
		    (date - lm) % 100 * r->pct / 100;
		if ((r->flags & RF_OVERRIDE_LASTMOD) && life < r->min)
			life = r->min;
	} else
		life = r->min;
	return (life > r->max ? r->max : life);
}

void
http_cache_meta_init(struct http_cache_meta *m, const struct http_msg *rep,
    const struct http_cc *repcc, const struct http_refresh *rp,
    const char *url, size_t url_len, int64_t request_time,
    int64_t response_time)
{
	const struct refresh_rule *r;
	int64_t date, date_value, age_value, apparent_age, response_delay;
	int64_t corrected_age_value, expires, life;
	bool explicit = true;

	AN(m);
	CHECK_OBJ_NOTNULL(rep, HTTP_MSG_MAGIC);
	AN(repcc);
	memset(m, 0, sizeof *m);
	r = refresh_match(rp, url, url_len);

	/* 4.2.3, step by step.  Without a valid Date the reply is dated
	 * when it arrived (RFC 9110 6.6.1), so apparent_age is 0; a
	 * request sent after the reply came (a clock step) adds nothing. */
	date = hc_date(rep, HTTP_HDR_DATE);
	date_value = date >= 0 ? date : response_time;
	age_value = hc_age(rep);
	if (age_value < 0)
		age_value = 0;		/* absent or invalid (5.1) */
	apparent_age = response_time - date_value;
	if (apparent_age < 0)
		apparent_age = 0;
	response_delay = response_time - request_time;
	if (response_delay < 0)
		response_delay = 0;
	corrected_age_value = age_value + response_delay;
	if (corrected_age_value < apparent_age)
		corrected_age_value = apparent_age;
	m->corrected_initial_age = (uint32_t)(corrected_age_value >
	    HC_DELTA_MAX ? HC_DELTA_MAX : corrected_age_value);
	m->response_time = (uint32_t)(response_time < 0 ? 0 :
	    response_time > UINT32_MAX ? UINT32_MAX : response_time);

	/* 4.2.1: the first of s-maxage (shared caches), max-age, Expires
	 * minus Date.  An Expires that is not a valid date means "already
	 * expired" (5.3). */
	if (repcc->s_maxage >= 0)
		life = repcc->s_maxage;
	else if (repcc->max_age >= 0)
		life = repcc->max_age;
	else if (rep->first[HTTP_HDR_EXPIRES] != 0) {
		expires = hc_date(rep, HTTP_HDR_EXPIRES);
		life = expires < 0 ? 0 : expires - date_value;
		if (life < 0)
			life = 0;
	} else {
		explicit = false;
		life = 0;
	}
	if (explicit && r != NULL && (r->flags & RF_OVERRIDE_EXPIRE) &&
	    life < r->min)
		life = r->min;		/* Squid: extends, never shortens */
	/* 4.2.2: heuristics only without explicit freshness, and only for
	 * codes defined as heuristically cacheable or a public reply. */
	if (!explicit && r != NULL && (hc_status_heuristic(rep->status) ||
	    (repcc->flags & HCC_PUBLIC))) {
		life = refresh_heuristic(r, date_value,
		    hc_date(rep, HTTP_HDR_LAST_MODIFIED));
		m->flags |= HCM_HEURISTIC;
	}
	m->lifetime = (uint32_t)(life > HC_DELTA_MAX ? HC_DELTA_MAX : life);

	/* 5.2.2.10: s-maxage carries proxy-revalidate's meaning. */
	if ((repcc->flags & (HCC_MUST_REVALIDATE | HCC_PROXY_REVALIDATE)) ||
	    repcc->s_maxage >= 0)
		m->flags |= HCM_MUST_REVALIDATE;
	/* 5.2.2.4: unqualified no-cache revalidates every use; a qualified
	 * one lets the reply be used without revalidation "if the listed
	 * header fields are excluded from the subsequent response". */
	if (repcc->flags & HCC_NO_CACHE)
		m->flags |= HCM_NO_CACHE;
	else if (repcc->flags & HCC_NO_CACHE_FIELDS)
		m->flags |= HCM_NO_CACHE_FIELDS;
	if (rep->first[HTTP_HDR_ETAG] != 0 ||
	    rep->first[HTTP_HDR_LAST_MODIFIED] != 0)
		m->flags |= HCM_VALIDATOR;
	if (r != NULL) {
		if (r->flags & RF_REFRESH_IMS)
			m->flags |= HCM_REFRESH_IMS;
		if (r->flags & RF_RELOAD_INTO_IMS)
			m->flags |= HCM_RELOAD_INTO_IMS;
		if (r->flags & RF_IGNORE_RELOAD)
			m->flags |= HCM_IGNORE_RELOAD;
	}
	m->stale_while_revalidate = repcc->stale_while_revalidate < 0 ? -1 :
	    (int32_t)(repcc->stale_while_revalidate > INT32_MAX ? INT32_MAX :
	    repcc->stale_while_revalidate);
	/* Squid's refresh_pattern max-stale is how stale a reply may be
	 * served when the origin cannot be reached: stale-if-error's
	 * meaning, used when the reply gives none. */
	if (repcc->stale_if_error >= 0)
		m->stale_if_error = (int32_t)(repcc->stale_if_error >
		    INT32_MAX ? INT32_MAX : repcc->stale_if_error);
	else if (r != NULL && r->max_stale >= 0)
		m->stale_if_error = (int32_t)r->max_stale;
	else
		m->stale_if_error = -1;
}

int64_t
http_cache_age(const struct http_cache_meta *m, int64_t now)
{
	int64_t resident_time;

	AN(m);
	resident_time = now - m->response_time;
	if (resident_time < 0)
		resident_time = 0;
	return (m->corrected_initial_age + resident_time);
}

enum http_cache_use
http_cache_use(const struct http_cache_meta *m, const struct http_cc *reqcc,
    int64_t now)
{
	int64_t age, stale, min_fresh;
	bool ignore_reload;

	AN(m);
	AN(reqcc);
	age = http_cache_age(m, now);
	/* Squid's ignore-reload drops what a browser's reload sends
	 * (no-cache, max-age=0); reload-into-ims needs nothing here: a
	 * revalidation already is a conditional request. */
	ignore_reload = (m->flags & HCM_IGNORE_RELOAD) != 0;
	if ((reqcc->flags & HCC_NO_CACHE) && !ignore_reload)
		return (HCU_REVALIDATE);		/* 5.2.1.4 */
	if (m->flags & HCM_NO_CACHE)
		return (HCU_REVALIDATE);		/* 5.2.2.4 */
	if (reqcc->max_age >= 0 && age > reqcc->max_age &&
	    !(ignore_reload && reqcc->max_age == 0))
		return (HCU_REVALIDATE);		/* 5.2.1.1 */
	min_fresh = reqcc->min_fresh > 0 ? reqcc->min_fresh : 0;
	if (m->lifetime > age + min_fresh)
		return (HCU_FRESH);			/* 4.2, 5.2.1.3 */
	if (m->lifetime > age)
		return (HCU_REVALIDATE);	/* fresh, not for long enough */
	stale = age - m->lifetime;
	if (m->flags & HCM_MUST_REVALIDATE)
		return (HCU_REVALIDATE);		/* 5.2.2.2, 4.2.4 */
	if (reqcc->max_stale >= 0 ? stale <= reqcc->max_stale :
	    (reqcc->flags & HCC_MAX_STALE_ANY) != 0)
		return (HCU_STALE_OK);			/* 5.2.1.2 */
	if (m->stale_while_revalidate >= 0 &&
	    stale <= m->stale_while_revalidate)
		return (HCU_STALE_REVALIDATE);		/* RFC 5861 3 */
	return (HCU_REVALIDATE);
}

bool
http_cache_stale_on_error(const struct http_cache_meta *m,
    const struct http_cc *reqcc, int64_t now, int64_t max_stale)
{
	int64_t age, stale;

	AN(m);
	AN(reqcc);
	/* 4.2.4: never against must-revalidate, proxy-revalidate,
	 * s-maxage or no-cache in the reply. */
	if (m->flags & (HCM_MUST_REVALIDATE | HCM_NO_CACHE))
		return (false);
	/* An error kept by negative_ttl is no better stale than the
	 * origin's new one. */
	if (m->flags & HCM_NEGATIVE)
		return (false);
	age = http_cache_age(m, now);
	if (m->lifetime > age)
		return (true);
	stale = age - m->lifetime;
	/* RFC 5861 4: the reply's value covers every request, the
	 * request's its own. */
	if ((m->stale_if_error >= 0 && stale <= m->stale_if_error) ||
	    (reqcc->stale_if_error >= 0 && stale <= reqcc->stale_if_error))
		return (true);
	/* 4.2.4: a disconnected cache may serve stale; how stale is the
	 * cache's to say, but not to a client that asked for validation
	 * (5.2.1.4). */
	return (max_stale > 0 && stale <= max_stale &&
	    !(reqcc->flags & HCC_NO_CACHE));
}
