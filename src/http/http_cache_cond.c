/*
 * http_cache_cond.c - RFC 9111 as pure functions, the part that sets a
 * request against a stored reply or updates one: conditionals (RFC 9110
 * 13), merging a 304 into the stored headers (4.3.4), Vary keys (4.1),
 * ranges and If-Range (RFC 9110 14, 13.1.5) and invalidation (4.4).
 * Cache-Control, refresh_pattern, storing and freshness are in
 * http_cache.c.
 *
 * Nothing here reads a clock or does I/O.  Where an RFC leaves a choice,
 * the choice and the reason sit next to the code, with the section that
 * allows it.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "base/check.h"
#include "http/http_cache.h"
#include "http/http_cache_int.h"
#include "http/http_url.h"

/* -- conditionals (RFC 9110 13) -------------------------------------------- */

/*
 * entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (RFC 9110 8.8.3), starting
 * at s[*i]; on success *i is past it, the opaque-tag (quotes included)
 * is tag and tlen.
 */
static bool
etag_parse(const char *s, size_t len, size_t *i, const char **tag,
    size_t *tlen, bool *weak)
{
	size_t p = *i, start;
	unsigned char c;

	*weak = false;
	if (len - p >= 2 && s[p] == 'W' && s[p + 1] == '/') {
		*weak = true;
		p += 2;
	}
	if (p >= len || s[p] != '"')
		return (false);
	start = p++;
	for (; p < len && s[p] != '"'; p++) {
		c = (unsigned char)s[p];
		if (c < 0x21 || c == 0x7f)
			return (false);
	}
	if (p >= len)
		return (false);
	p++;
	*tag = s + start;
	*tlen = p - start;
	*i = p;
	return (true);
}

/* The stored reply's ETag, if it has exactly one well-formed one. */
static bool
etag_stored(const struct http_msg *stored, const char **tag, size_t *tlen,
    bool *weak)
{
	const struct http_field *f = http_msg_field(stored, HTTP_HDR_ETAG);
	size_t i = 0;

	if (f == NULL || f->next != 0)
		return (false);
	return (etag_parse(http_msg_ptr(stored, f->value), f->value.len, &i,
	    tag, tlen, weak) && i == f->value.len);
}

/* If-None-Match (13.1.2): does "*" or any listed tag match, by weak
 * comparison (8.8.3.2)?  A malformed list matches nothing. */
static bool
cond_none_match(const struct http_msg *req, const struct http_msg *stored)
{
	const struct http_field *f;
	const char *s, *tag, *stag = NULL;
	size_t len, i, tlen, stlen = 0;
	bool weak, sweak, have;

	have = etag_stored(stored, &stag, &stlen, &sweak);
	for (f = http_msg_field(req, HTTP_HDR_IF_NONE_MATCH); f != NULL;
	    f = http_msg_field_next(req, f)) {
		s = http_msg_ptr(req, f->value);
		len = f->value.len;
		if (len == 1 && s[0] == '*')
			return (true);
		for (i = 0; i < len; ) {
			while (i < len && (s[i] == ',' || hc_ows(s[i])))
				i++;
			if (i == len)
				break;
			if (!etag_parse(s, len, &i, &tag, &tlen, &weak))
				return (false);
			if (have && tlen == stlen &&
			    memcmp(tag, stag, tlen) == 0)
				return (true);
			while (i < len && hc_ows(s[i]))
				i++;
			if (i < len && s[i] != ',')
				return (false);
		}
	}
	return (false);
}

bool
http_cache_not_modified(const struct http_msg *req,
    const struct http_msg *stored)
{
	const struct http_field *f;
	int64_t ims, lm;

	CHECK_OBJ_NOTNULL(req, HTTP_MSG_MAGIC);
	CHECK_OBJ_NOTNULL(stored, HTTP_MSG_MAGIC);
	if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD)
		return (false);
	/* RFC 9110 13.2.1: preconditions apply only where the reply
	 * would otherwise be 2xx. */
	if (stored->status < 200 || stored->status > 299)
		return (false);
	if (req->first[HTTP_HDR_IF_NONE_MATCH] != 0)
		return (cond_none_match(req, stored));	/* step 3 */
	/* Step 4, and 13.1.3: one valid date, else ignored. */
	f = http_msg_field(req, HTTP_HDR_IF_MODIFIED_SINCE);
	if (f == NULL || f->next != 0)
		return (false);
	ims = http_date_parse(http_msg_ptr(req, f->value), f->value.len);
	if (ims < 0)
		return (false);
	/* RFC 9111 4.3.2: Last-Modified, else the stored Date. */
	lm = hc_date(stored, HTTP_HDR_LAST_MODIFIED);
	if (lm < 0)
		lm = hc_date(stored, HTTP_HDR_DATE);
	return (lm >= 0 && lm <= ims);
}

/* -- 304 (4.3.4) ----------------------------------------------------------- */

/* The fields a 304 never changes: how the stored body is framed. */
static bool
merge_is_framing(const struct http_msg *m, const struct http_field *f)
{
	if (f->id == HTTP_HDR_CONTENT_LENGTH ||
	    f->id == HTTP_HDR_TRANSFER_ENCODING)
		return (true);
	return (f->id == HTTP_HDR_OTHER && f->name.len == 13 &&
	    strncasecmp(http_msg_ptr(m, f->name), "Content-Range", 13) == 0);
}

/* Is f's name listed in m's Connection (RFC 9110 7.6.1)? */
static bool
merge_conn_lists(const struct http_msg *m, const struct http_field *f)
{
	char name[128];

	if (m->first[HTTP_HDR_CONNECTION] == 0 || f->name.len >= sizeof name)
		return (false);
	memcpy(name, http_msg_ptr(m, f->name), f->name.len);
	name[f->name.len] = '\0';
	return (http_msg_has_token(m, HTTP_HDR_CONNECTION, name));
}

/* Does the 304 carry f (3.2: not framing, not hop-by-hop)? */
static bool
merge_takes(const struct http_msg *r304, const struct http_field *f)
{
	if (merge_is_framing(r304, f))
		return (false);
	if (f->id != HTTP_HDR_OTHER && (http_hdr_flags(f->id) & HH_HOP))
		return (false);
	return (!merge_conn_lists(r304, f));
}

static bool
merge_same_name(const struct http_msg *a, const struct http_field *fa,
    const struct http_msg *b, const struct http_field *fb)
{
	if (fa->id != fb->id)
		return (false);
	if (fa->id != HTTP_HDR_OTHER)
		return (true);
	return (fa->name.len == fb->name.len &&
	    strncasecmp(http_msg_ptr(a, fa->name), http_msg_ptr(b, fb->name),
	    fa->name.len) == 0);
}

/* The index of the first field of m named as f (from msg fm), or -1. */
static int
merge_find(const struct http_msg *m, const struct http_msg *fm,
    const struct http_field *f)
{
	uint16_t i;

	if (f->id != HTTP_HDR_OTHER)
		return (m->first[f->id] == 0 ? -1 : m->first[f->id] - 1);
	for (i = 0; i < m->nfields; i++)
		if (merge_same_name(m, &m->fields[i], fm, f))
			return (i);
	return (-1);
}

static int
merge_add(struct http_msg *out, const struct http_msg *m,
    const struct http_field *f)
{
	int rc = http_msg_add_field(out, http_msg_ptr(m, f->name), f->name.len,
	    http_msg_ptr(m, f->value), f->value.len);

	/* Both messages were parsed: only memory can run out. */
	CHECK(rc == 0 || rc == -ENOMEM);
	return (rc);
}

/*
 * Stored fields keep their places; where the 304 has fields of a name,
 * they all take the place of the first stored field of that name and the
 * other stored ones go.  The 304's new names follow, in its order.
 */
int
http_cache_merge_304(const struct http_msg *stored,
    const struct http_msg *r304, struct http_msg *out)
{
	const struct http_field *f, *g;
	uint16_t i, j;
	int k, rc;

	CHECK_OBJ_NOTNULL(stored, HTTP_MSG_MAGIC);
	CHECK_OBJ_NOTNULL(r304, HTTP_MSG_MAGIC);
	CHECK_OBJ_NOTNULL(out, HTTP_MSG_MAGIC);
	CHECK(out->kind == HTTP_MSG_RESPONSE && out->nfields == 0 &&
	    out->rawlen == 0);
	out->vmajor = stored->vmajor;
	out->vminor = stored->vminor;
	rc = http_msg_set_status(out, stored->status,
	    stored->reason.len > 0 ? http_msg_ptr(stored, stored->reason) : "",
	    stored->reason.len);
	if (rc != 0)
		return (-ENOMEM);
	out->body = stored->body;
	out->content_length = stored->content_length;
	out->keep_alive = stored->keep_alive;
	for (i = 0; i < stored->nfields; i++) {
		f = &stored->fields[i];
		if (merge_is_framing(stored, f)) {
			if ((rc = merge_add(out, stored, f)) != 0)
				return (rc);
			continue;
		}
		for (j = 0; j < r304->nfields; j++) {
			g = &r304->fields[j];
			if (merge_same_name(r304, g, stored, f) &&
			    merge_takes(r304, g))
				break;
		}
		if (j == r304->nfields) {
			if ((rc = merge_add(out, stored, f)) != 0)
				return (rc);
			continue;
		}
		if (merge_find(stored, stored, f) != i)
			continue;	/* replaced at the first one */
		for (; j < r304->nfields; j++) {
			g = &r304->fields[j];
			if (merge_same_name(r304, g, stored, f) &&
			    merge_takes(r304, g) &&
			    (rc = merge_add(out, r304, g)) != 0)
				return (rc);
		}
	}
	for (j = 0; j < r304->nfields; j++) {
		g = &r304->fields[j];
		k = merge_find(stored, r304, g);
		if (k < 0 && merge_takes(r304, g) &&
		    (rc = merge_add(out, r304, g)) != 0)
			return (rc);
	}
	return (0);
}

int
http_cache_without_fields(const struct http_msg *m, unsigned which,
    struct http_msg *out)
{
	const struct http_field *f;
	uint16_t i;
	int rc;

	CHECK_OBJ_NOTNULL(m, HTTP_MSG_MAGIC);
	CHECK_OBJ_NOTNULL(out, HTTP_MSG_MAGIC);
	CHECK(m->kind == HTTP_MSG_RESPONSE);
	CHECK(out->kind == HTTP_MSG_RESPONSE && out->nfields == 0 &&
	    out->rawlen == 0);
	out->vmajor = m->vmajor;
	out->vminor = m->vminor;
	rc = http_msg_set_status(out, m->status,
	    m->reason.len > 0 ? http_msg_ptr(m, m->reason) : "", m->reason.len);
	if (rc != 0)
		return (-ENOMEM);
	out->body = m->body;
	out->content_length = m->content_length;
	out->keep_alive = m->keep_alive;
	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		if (http_cc_names_field(m, which, http_msg_ptr(m, f->name),
		    f->name.len))
			continue;
		if ((rc = merge_add(out, m, f)) != 0)
			return (rc);
	}
	return (0);
}

/* -- Vary (4.1) ------------------------------------------------------------ */

#define VARY_MAX_NAMES	32

struct vary_name {
	const char	*s;
	size_t		len;
};

static int
vary_cmp(const struct vary_name *a, const struct vary_name *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int r = strncasecmp(a->s, b->s, n);

	if (r != 0)
		return (r);
	return (a->len < b->len ? -1 : a->len > b->len);
}

/* Append c to out (cap bytes) at *o; false when full. */
static inline bool
vary_put(char *out, size_t cap, size_t *o, char c)
{
	if (*o >= cap)
		return (false);
	out[(*o)++] = c;
	return (true);
}

/*
 * Append req's lines of field n joined by commas, with the whitespace
 * around each comma dropped (4.1: normalised as the field's syntax
 * allows; inner whitespace can mean something and stays).  1 when req
 * has the field, 0 when not, -1 when out is full.
 */
static int
vary_value(const struct http_msg *req, const struct vary_name *n,
    char *out, size_t cap, size_t *o)
{
	const struct http_field *f;
	enum http_hdr_id id = http_hdr_lookup(n->s, n->len);
	const char *v;
	size_t i, k, e, len;
	bool found = false;

	for (i = 0; i < req->nfields; i++) {
		f = &req->fields[i];
		if (f->id != id || (id == HTTP_HDR_OTHER &&
		    (f->name.len != n->len || strncasecmp(http_msg_ptr(req,
		    f->name), n->s, n->len) != 0)))
			continue;
		if (found && !vary_put(out, cap, o, ','))
			return (-1);
		found = true;
		v = http_msg_ptr(req, f->value);
		len = f->value.len;
		for (k = 0; k < len; k++) {
			if (hc_ows(v[k])) {
				for (e = k; e < len && hc_ows(v[e]); e++)
					continue;
				if (e == len || v[e] == ',' ||
				    (k > 0 && v[k - 1] == ',')) {
					k = e - 1;
					continue;
				}
			}
			if (!vary_put(out, cap, o, v[k]))
				return (-1);
		}
	}
	return (found ? 1 : 0);
}

int
http_cache_vary_key(const struct http_msg *req, const char *vary,
    size_t vary_len, char *out, size_t cap)
{
	struct vary_name names[VARY_MAX_NAMES], t;
	size_t n = 0, i, j, o = 0, start, end, mark;
	int rc;

	CHECK_OBJ_NOTNULL(req, HTTP_MSG_MAGIC);
	AN(out);
	/* The names: tokens, sorted, each once.  "*" never matches; so
	 * many names that they cannot be kept is treated the same way (no
	 * variant is stored), as is a list that is not one. */
	for (i = 0; i < vary_len; ) {
		while (i < vary_len && (vary[i] == ',' || hc_ows(vary[i])))
			i++;
		if (i == vary_len)
			break;
		start = i;
		while (i < vary_len && http_is_tchar((unsigned char)vary[i]))
			i++;
		end = i;
		if (end - start == 1 && vary[start] == '*')
			return (-1);
		while (i < vary_len && hc_ows(vary[i]))
			i++;
		if (end == start || (i < vary_len && vary[i] != ','))
			return (-1);
		t.s = vary + start;
		t.len = end - start;
		for (j = n; j > 0 && vary_cmp(&names[j - 1], &t) > 0; j--)
			continue;
		if (j > 0 && vary_cmp(&names[j - 1], &t) == 0)
			continue;			/* named twice */
		if (n == VARY_MAX_NAMES)
			return (-1);
		memmove(&names[j + 1], &names[j], (n - j) * sizeof names[0]);
		names[j] = t;
		n++;
	}
	/* "name:value\n" when req has the field, "name\n" when not: a
	 * field sent empty is not a field left out.  Names never hold ':'
	 * and values never hold '\n'. */
	for (i = 0; i < n; i++) {
		for (j = 0; j < names[i].len; j++)
			if (!vary_put(out, cap, &o, (char)(names[i].s[j] >=
			    'A' && names[i].s[j] <= 'Z' ? names[i].s[j] -
			    'A' + 'a' : names[i].s[j])))
				return (-1);
		mark = o;
		if (!vary_put(out, cap, &o, ':'))
			return (-1);
		rc = vary_value(req, &names[i], out, cap, &o);
		if (rc < 0)
			return (-1);
		if (rc == 0)
			o = mark;
		if (!vary_put(out, cap, &o, '\n'))
			return (-1);
	}
	if (o >= cap || o > INT_MAX)
		return (-1);
	out[o] = '\0';
	return ((int)o);
}

/* -- ranges (RFC 9110 14) -------------------------------------------------- */

/* 1*DIGIT at s[*i], saturating; false when there is no digit. */
static bool
range_number(const char *s, size_t len, size_t *i, uint64_t *v)
{
	size_t start = *i;
	unsigned d;

	*v = 0;
	for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
		d = (unsigned)(s[*i] - '0');
		*v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
	}
	return (*i > start);
}

int
http_range_parse(const struct http_msg *req, uint64_t len,
    struct http_range *r)
{
	const struct http_field *f;
	const char *s;
	size_t n, i, specs = 0;
	uint64_t first = 0, last = 0, suffix = 0;
	bool has_first = false, has_last = false;

	CHECK_OBJ_NOTNULL(req, HTTP_MSG_MAGIC);
	AN(r);
	/* 14.2: only GET has range semantics; a Range sent twice is not
	 * one we can read. */
	if (req->method != HTTP_M_GET)
		return (0);
	f = http_msg_field(req, HTTP_HDR_RANGE);
	if (f == NULL || f->next != 0)
		return (0);
	s = http_msg_ptr(req, f->value);
	n = f->value.len;
	if (n < 6 || strncasecmp(s, "bytes=", 6) != 0)
		return (0);		/* another unit (14.1) */
	for (i = 6; i < n; ) {
		while (i < n && (s[i] == ',' || hc_ows(s[i])))
			i++;
		if (i == n)
			break;
		if (++specs > 1)
			return (0);	/* several: served whole */
		if (s[i] == '-') {
			i++;
			if (!range_number(s, n, &i, &suffix))
				return (0);
		} else {
			if (!range_number(s, n, &i, &first) || i == n ||
			    s[i] != '-')
				return (0);
			has_first = true;
			i++;
			has_last = range_number(s, n, &i, &last);
		}
		while (i < n && hc_ows(s[i]))
			i++;
		if (i < n && s[i] != ',')
			return (0);
	}
	if (specs == 0)
		return (0);
	if (!has_first) {
		/* suffix-range (14.1.1): a zero suffix is unsatisfiable;
		 * of an empty representation, all there is to send is the
		 * whole of it. */
		if (suffix == 0)
			return (-1);
		if (len == 0)
			return (0);
		r->first = suffix >= len ? 0 : len - suffix;
		r->last = len - 1;
		return (1);
	}
	if (has_last && last < first)
		return (0);		/* invalid (14.1.1): ignored */
	if (first >= len)
		return (-1);
	r->first = first;
	r->last = !has_last || last >= len ? len - 1 : last;
	return (1);
}

bool
http_if_range_ok(const struct http_msg *req, const struct http_msg *stored)
{
	const struct http_field *f;
	const char *s, *tag, *stag;
	size_t n, i = 0, tlen, stlen;
	bool weak, sweak;
	int64_t d, lm, date;

	CHECK_OBJ_NOTNULL(req, HTTP_MSG_MAGIC);
	CHECK_OBJ_NOTNULL(stored, HTTP_MSG_MAGIC);
	f = http_msg_field(req, HTTP_HDR_IF_RANGE);
	if (f == NULL)
		return (true);
	if (f->next != 0)
		return (false);
	s = http_msg_ptr(req, f->value);
	n = f->value.len;
	if (n > 0 && (s[0] == '"' || (n > 1 && s[0] == 'W' && s[1] == '/'))) {
		/* 13.1.5: strong comparison (8.8.3.2); a weak tag never
		 * matches. */
		if (!etag_parse(s, n, &i, &tag, &tlen, &weak) || i != n ||
		    weak || !etag_stored(stored, &stag, &stlen, &sweak) ||
		    sweak)
			return (false);
		return (tlen == stlen && memcmp(tag, stag, tlen) == 0);
	}
	/* A date: exactly the stored Last-Modified, and that a strong
	 * validator (8.8.2.2: at least a second before the entry's Date). */
	d = http_date_parse(s, n);
	lm = hc_date(stored, HTTP_HDR_LAST_MODIFIED);
	date = hc_date(stored, HTTP_HDR_DATE);
	return (d >= 0 && lm >= 0 && date >= 0 && d == lm && date - lm >= 1);
}

/* -- invalidation (4.4) ---------------------------------------------------- */

int
http_cache_invalidates(const struct http_msg *rep, enum http_hdr_id which,
    const char *url, size_t url_len, char *out, size_t cap)
{
	const struct http_field *f;
	struct http_url u, t;
	const char *v, *path;
	size_t vlen, plen, prefix, total;

	CHECK_OBJ_NOTNULL(rep, HTTP_MSG_MAGIC);
	CHECK(which == HTTP_HDR_LOCATION || which == HTTP_HDR_CONTENT_LOCATION);
	AN(url);
	AN(out);
	f = http_msg_field(rep, which);
	if (f == NULL || f->next != 0)
		return (-1);
	if (http_url_parse(url, url_len, 0, &u) != 0 ||
	    u.form != HTTP_URL_ABSOLUTE)
		return (-1);
	prefix = u.path_off;		/* scheme://authority of url */
	v = http_msg_ptr(rep, f->value);
	vlen = f->value.len;
	for (plen = 0; plen < vlen && v[plen] != '#'; plen++)
		continue;
	vlen = plen;			/* a fragment names no resource */
	if (vlen == 0)
		return (-1);
	if (vlen >= 2 && v[0] == '/' && v[1] == '/') {
		/* network-path reference: url's scheme, its own authority */
		if (u.scheme_len + 1 + vlen >= cap)
			return (-1);
		memcpy(out, url, u.scheme_len);
		out[u.scheme_len] = ':';
		memcpy(out + u.scheme_len + 1, v, vlen);
		v = out;
		vlen += u.scheme_len + 1;
	}
	if (v[0] == '/') {
		path = v;		/* path-absolute */
		plen = vlen;
	} else {
		/* Absolute: same scheme, host and port as url (4.4), the
		 * spelling of url's own origin kept for the key. */
		if (http_url_parse(v, vlen, 0, &t) != 0 ||
		    t.form != HTTP_URL_ABSOLUTE || t.scheme_len !=
		    u.scheme_len || strncasecmp(v, url, u.scheme_len) != 0 ||
		    t.host_len != u.host_len || strncasecmp(v + t.host_off,
		    url + u.host_off, u.host_len) != 0 || t.port != u.port)
			return (-1);
		path = t.path_len > 0 ? v + t.path_off : "/";
		plen = t.path_len > 0 ? t.path_len : 1;
	}
	total = prefix + plen;
	if (total >= cap || total > INT_MAX)
		return (-1);
	memmove(out + prefix, path, plen);
	memcpy(out, url, prefix);
	out[total] = '\0';
	/* What comes out must be a URL cuttle would have keyed. */
	if (http_url_parse(out, total, 0, &t) != 0)
		return (-1);
	return ((int)total);
}
