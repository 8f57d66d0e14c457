/*
 * acl_values.c - the small value types: regexes, integer ranges (port,
 * myport, http_status), methods, protocols, time spans and maxconn.
 *
 * Each has an _add() that parses one value and logs what is wrong with it
 * (0, -1 for a bad value, -ENOMEM), and a _match() that is a pure
 * function of its argument.  Regexes need NUL-terminated subjects: the
 * counted strings they are given are copied into a stack buffer (a heap
 * one for the rare longer URL) once per match call, whatever the number
 * of regexes.  REG_STARTEND would spare the copy, but glibc's regexec()
 * (and sanitizers' interceptors) may still look for the NUL past the end.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/check.h"
#include "http/http_hdr.h"
#include "acl/acl_int.h"

#define ACL_REGEX_STACK	2048	/* subjects up to this are not allocated */

/* -- regexes --------------------------------------------------------------- */

int
acl_regex_add(struct acl_regexes *r, const struct acl_where *w,
    const char *value, bool icase)
{
	regex_t *v;
	char msg[256];
	int rc;

	v = realloc(r->v, (r->n + 1) * sizeof *v);
	if (v == NULL)
		return (-ENOMEM);
	r->v = v;
	rc = regcomp(&v[r->n], value, REG_EXTENDED | REG_NOSUB |
	    (icase ? REG_ICASE : 0));
	if (rc != 0) {
		regerror(rc, &v[r->n], msg, sizeof msg);
		acl_error(w, "POSIX extended regular expressions, as egrep "
		    "takes them", "bad regex \"%s\": %s", value, msg);
		return (-1);
	}
	r->n++;
	return (0);
}

bool
acl_regex_match(const struct acl_regexes *r, const char *s, size_t len)
{
	char stack[ACL_REGEX_STACK], *subject;
	bool found = false;
	size_t i;

	if (s == NULL || r->n == 0)
		return (false);
	subject = len < sizeof stack ? stack : malloc(len + 1);
	if (subject == NULL)
		return (false);		/* no memory: the acl does not match */
	memcpy(subject, s, len);
	subject[len] = '\0';
	for (i = 0; i < r->n && !found; i++)
		found = regexec(&r->v[i], subject, 0, NULL, 0) == 0;
	if (subject != stack)
		free(subject);
	return (found);
}

void
acl_regex_fini(struct acl_regexes *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		regfree(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof *r);
}

/* -- integer ranges -------------------------------------------------------- */

/* A decimal number at *p, at most max; advances *p. */
static bool
range_number(const char **p, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)**p))
		return (false);
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno != 0 || v > max)
		return (false);
	*p = end;
	*out = (uint32_t)v;
	return (true);
}

int
acl_range_add(struct acl_ranges *r, const struct acl_where *w,
    const char *value, uint32_t max, bool open_ended)
{
	struct acl_range rg, *v;
	const char *p = value;

	if (!range_number(&p, max, &rg.lo))
		goto bad;
	rg.hi = rg.lo;
	if (*p == '-') {
		p++;
		if (*p == '\0' && open_ended)
			rg.hi = max;
		else if (!range_number(&p, max, &rg.hi))
			goto bad;
	}
	if (*p != '\0')
		goto bad;
	if (rg.lo > rg.hi) {
		acl_error(w, NULL, "range \"%s\" ends before it starts",
		    value);
		return (-1);
	}
	v = realloc(r->v, (r->n + 1) * sizeof *v);
	if (v == NULL)
		return (-ENOMEM);
	r->v = v;
	r->v[r->n++] = rg;
	return (0);
bad:
	acl_error(w, NULL, "bad number or range \"%s\" (0 to %u)", value, max);
	return (-1);
}

static int
range_cmp(const void *a, const void *b)
{
	const struct acl_range *x = a, *y = b;

	return (x->lo < y->lo ? -1 : x->lo > y->lo);
}

void
acl_range_finish(struct acl_ranges *r)
{
	size_t i, n;

	if (r->n == 0)
		return;
	qsort(r->v, r->n, sizeof *r->v, range_cmp);
	for (n = 0, i = 1; i < r->n; i++) {
		if (r->v[i].lo <= r->v[n].hi + 1) {
			if (r->v[i].hi > r->v[n].hi)
				r->v[n].hi = r->v[i].hi;
			continue;
		}
		r->v[++n] = r->v[i];
	}
	r->n = n + 1;
}

bool
acl_range_match(const struct acl_ranges *r, uint32_t v)
{
	size_t lo = 0, hi = r->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->v[mid].lo <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo > 0 && v <= r->v[lo - 1].hi);
}

/* -- methods --------------------------------------------------------------- */

_Static_assert(HTTP_M__COUNT <= 32, "struct acl_methods.known is too small");

int
acl_method_add(struct acl_methods *m, const struct acl_where *w,
    const char *value)
{
	enum http_method id;
	size_t i, len = strlen(value);
	bool lower = false;
	char **ext, *s;

	for (i = 0; i < len; i++) {
		if (!http_is_tchar((unsigned char)value[i])) {
			acl_error(w, NULL, "bad method \"%s\"", value);
			return (-1);
		}
		if (islower((unsigned char)value[i]))
			lower = true;
	}
	if (lower)
		acl_warn(w, "write methods as clients send them, usually in "
		    "upper case", "method \"%s\": methods are case-sensitive "
		    "and this one is not in upper case", value);
	id = http_method_lookup(value, len);
	if (id != HTTP_M_OTHER) {
		m->known |= 1u << id;
		return (0);
	}
	ext = realloc(m->ext, (m->n + 1) * sizeof *ext);
	if (ext == NULL)
		return (-ENOMEM);
	m->ext = ext;
	s = strdup(value);
	if (s == NULL)
		return (-ENOMEM);
	m->ext[m->n++] = s;
	return (0);
}

bool
acl_method_match(const struct acl_methods *m, const struct acl_request *req)
{
	int id = req->method;
	size_t i;

	if (id == HTTP_M_OTHER && req->method_name != NULL)
		id = (int)http_method_lookup(req->method_name, req->method_len);
	if (id > HTTP_M_OTHER && id < HTTP_M__COUNT)
		return ((m->known >> id) & 1);
	if (req->method_name == NULL)
		return (false);
	for (i = 0; i < m->n; i++)
		if (strlen(m->ext[i]) == req->method_len &&
		    memcmp(m->ext[i], req->method_name, req->method_len) == 0)
			return (true);
	return (false);
}

void
acl_method_fini(struct acl_methods *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->ext[i]);
	free(m->ext);
	memset(m, 0, sizeof *m);
}

/* -- protocols ------------------------------------------------------------- */

static const char *const acl_protocols[] = {
	"HTTP", "HTTPS", "FTP", "GOPHER", "WAIS", "CACHE_OBJECT", "WHOIS",
	"URN", "ICY",
};

_Static_assert(ARRAY_LEN(acl_protocols) <= 32,
    "struct acl_protos.known is too small");

static size_t
proto_index(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(acl_protocols); i++)
		if (strcasecmp(name, acl_protocols[i]) == 0)
			break;
	return (i);
}

int
acl_proto_add(struct acl_protos *p, const struct acl_where *w,
    const char *value)
{
	size_t i = proto_index(value);

	if (i == ARRAY_LEN(acl_protocols)) {
		acl_warn(w, "known protocols: HTTP, HTTPS, FTP, GOPHER, WAIS, "
		    "cache_object, WHOIS, URN, ICY", "unknown protocol \"%s\" "
		    "ignored (as Squid does)", value);
		return (0);
	}
	p->known |= 1u << i;
	return (0);
}

bool
acl_proto_match(const struct acl_protos *p, const char *proto)
{
	size_t i;

	if (proto == NULL)
		return (false);
	i = proto_index(proto);
	return (i < ARRAY_LEN(acl_protocols) && (p->known >> i & 1) != 0);
}

/* -- time ------------------------------------------------------------------ */

#define ACL_ALL_WEEK	0x7fu
#define ACL_WEEKDAYS	0x3eu	/* Monday to Friday, tm_wday bits */

static int
time_push(struct acl_times *t, unsigned days, unsigned first, unsigned last)
{
	struct acl_timespan *v;

	v = realloc(t->v, (t->n + 1) * sizeof *v);
	if (v == NULL)
		return (-ENOMEM);
	t->v = v;
	t->v[t->n].days = (uint8_t)days;
	t->v[t->n].first = (uint16_t)first;
	t->v[t->n].last = (uint16_t)last;
	t->n++;
	return (0);
}

/* "h1:m1-h2:m2" with 24:00 allowed as an end; minutes into *first, *last. */
static bool
time_range(const char *s, unsigned *first, unsigned *last)
{
	int h1, m1, h2, m2, end = -1;

	if (sscanf(s, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &end) != 4 ||
	    end < 0 || s[end] != '\0' || !isdigit((unsigned char)s[0]))
		return (false);
	if (h1 < 0 || h1 > 23 || m1 < 0 || m1 > 59 || h2 < 0 || m2 < 0 ||
	    m2 > 59 || h2 > 24 || (h2 == 24 && m2 != 0))
		return (false);
	*first = (unsigned)(h1 * 60 + m1);
	*last = (unsigned)(h2 * 60 + m2);
	return (true);
}

int
acl_time_add(struct acl_times *t, const struct acl_where *w,
    char *const *words, size_t n)
{
	static const char letters[] = "SMTWHFA";
	unsigned days = 0, first, last;
	const char *p, *at;
	size_t i;

	for (i = 0; i < n; i++) {
		if (isdigit((unsigned char)words[i][0])) {
			if (!time_range(words[i], &first, &last)) {
				acl_error(w, NULL, "bad time range \"%s\"",
				    words[i]);
				return (-1);
			}
			if (first > last) {
				acl_error(w, "a span across midnight is two "
				    "acl lines: 22:00-24:00 and 00:00-06:00",
				    "time range \"%s\" ends before it starts",
				    words[i]);
				return (-1);
			}
			if (time_push(t, days != 0 ? days : ACL_ALL_WEEK,
			    first, last) != 0)
				return (-ENOMEM);
			days = 0;
			continue;
		}
		for (p = words[i]; *p != '\0'; p++) {
			if (*p == 'D')
				days |= ACL_WEEKDAYS;
			else if ((at = strchr(letters, *p)) != NULL)
				days |= 1u << (at - letters);
			else if (*p != '-') {
				acl_error(w, NULL, "bad day '%c' in \"%s\"",
				    *p, words[i]);
				return (-1);
			}
		}
	}
	if (days != 0 && time_push(t, days, 0, 24 * 60) != 0)
		return (-ENOMEM);
	return (0);
}

bool
acl_time_match(const struct acl_times *t, time_t now)
{
	struct tm tm;
	unsigned min;
	size_t i;

	if (t->n == 0 || localtime_r(&now, &tm) == NULL)
		return (false);
	min = (unsigned)(tm.tm_hour * 60 + tm.tm_min);
	for (i = 0; i < t->n; i++)
		if ((t->v[i].days >> tm.tm_wday & 1) != 0 &&
		    t->v[i].first <= min && min <= t->v[i].last)
			return (true);
	return (false);
}

/* -- maxconn --------------------------------------------------------------- */

int
acl_maxconn_set(struct acl *a, const struct acl_where *w, const char *value)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = isdigit((unsigned char)value[0]) ? strtoul(value, &end, 10) : 0;
	if (!isdigit((unsigned char)value[0]) || *end != '\0' ||
	    errno != 0) {
		acl_error(w, NULL, "bad number \"%s\"", value);
		return (-1);
	}
	if (a->has_max) {
		acl_error(w, "one acl line per limit, with its own name",
		    "acl %s already has a limit (%lu)", a->name,
		    a->u.maxconn);
		return (-1);
	}
	a->u.maxconn = v;
	a->has_max = true;
	return (0);
}
