/*
 * access_log_format.c - logformat: Squid's %-codes, compiled and rendered.
 *
 * Lifecycle of a format:
 *	logformat_compile()	definition -> tokens (once, at configuration)
 *	logformat_render()	tokens + access_entry -> one line (per line)
 *	logformat_free()	tokens released
 *
 * Rendering follows Squid's Format::assemble(): a value that is missing
 * or empty is "-" (never padded); numbers are zero-padded when the 0 flag
 * is given; every other value is escaped by its token's quoting (or, for
 * values from the network, URL-escaped by default) and then padded to
 * the width or cut to the maximum.  The predefined formats are Squid's
 * own definitions, so "squid" gives the native access.log byte for byte.
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/check.h"
#include "http/http_msg.h"
#include "http/http_url.h"
#include "log/access_log.h"
#include "log/access_log_int.h"

static const struct {
	const char	*tag;
	size_t		len;
	bool		esc;
} lf_codes[LF__COUNT] = {
#define LF_CODE(sym, tag, esc)	[LF_##sym] = { tag, sizeof tag - 1, esc },
#include "log/access_log_code_tbl.h"
#undef LF_CODE
};

/* Squid's predefined formats (cf.data.pre), which cannot be redefined. */
static const struct {
	const char	*name;
	const char	*def;
} lf_builtins[] = {
	{ "squid",	"%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un "
			"%Sh/%<a %mt" },
	{ "common",	"%>a %[ui %[un [%tl] \"%rm %ru HTTP/%rv\" %>Hs %<st "
			"%Ss:%Sh" },
	{ "combined",	"%>a %[ui %[un [%tl] \"%rm %ru HTTP/%rv\" %>Hs %<st "
			"\"%{Referer}>h\" \"%{User-Agent}>h\" %Ss:%Sh" },
	{ "referrer",	"%ts.%03tu %>a %{Referer}>h %ru" },
	{ "useragent",	"%>a [%tl] \"%{User-Agent}>h\"" },
};

/* -- text ------------------------------------------------------------------ */

void
lf_text_add(struct lf_text *t, const void *p, size_t n)
{
	size_t cap;
	char *np;

	if (t->oom)
		return;
	if (t->len + n > t->cap) {
		cap = t->cap != 0 ? t->cap : 256;
		while (cap < t->len + n)
			cap *= 2;
		np = realloc(t->p, cap);
		if (np == NULL) {
			t->oom = true;
			return;
		}
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p + t->len, p, n);
	t->len += n;
}

static void
lf_text_pad(struct lf_text *t, size_t n)
{
	static const char sp[] = "                ";

	while (n > 0) {
		size_t k = n < sizeof sp - 1 ? n : sizeof sp - 1;

		lf_text_add(t, sp, k);
		n -= k;
	}
}

void
lf_text_fini(struct lf_text *t)
{
	free(t->p);
	memset(t, 0, sizeof *t);
}

/* -- escaping -------------------------------------------------------------- */

#define LF_ESC_UNSAFE	0x1u	/* RFC 1738 unsafe characters */
#define LF_ESC_PERCENT	0x2u	/* and '%' itself */

/*
 * RFC 1738 escaping as Squid's rfc1738_do_escape(): %XX for controls,
 * space, non-ASCII and DEL, and per flags the unsafe characters and '%'.
 */
static void
lf_esc_url(struct lf_text *t, const char *s, size_t n, unsigned flags)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char x[3];
	size_t i;
	bool esc;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		esc = c <= 0x20 || c >= 0x7f;
		if (!esc && (flags & LF_ESC_UNSAFE) != 0 &&
		    strchr("<>\"#{}|\\^~[]`'", c) != NULL)
			esc = true;
		if (c == '%')
			esc = (flags & LF_ESC_PERCENT) != 0;
		if (!esc) {
			lf_text_add(t, &s[i], 1);
			continue;
		}
		x[0] = '%';
		x[1] = hex[c >> 4];
		x[2] = hex[c & 0xf];
		lf_text_add(t, x, 3);
	}
}

/* Squid's log_quoted_string(): backslash escapes for " \ CR LF TAB. */
static void
lf_esc_quoted(struct lf_text *t, const char *s, size_t n)
{
	size_t i;
	char x[2];

	for (i = 0; i < n; i++) {
		x[0] = '\\';
		switch (s[i]) {
		case '"':
		case '\\':
			x[1] = s[i];
			break;
		case '\r':
			x[1] = 'r';
			break;
		case '\n':
			x[1] = 'n';
			break;
		case '\t':
			x[1] = 't';
			break;
		default:
			lf_text_add(t, &s[i], 1);
			continue;
		}
		lf_text_add(t, x, 2);
	}
}

/* Squid's QuoteMimeBlob(): \r \n \\, and %xx (lower case) for other
 * controls, non-ASCII, '%', '[' and ']'. */
static void
lf_esc_mimeblob(struct lf_text *t, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c;
	char x[3];
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c == '\\') {
			x[0] = '\\';
			x[1] = c == '\r' ? 'r' : c == '\n' ? 'n' : '\\';
			lf_text_add(t, x, 2);
		} else if (c <= 0x1f || c >= 0x7f || c == '%' || c == '[' ||
		    c == ']') {
			x[0] = '%';
			x[1] = hex[c >> 4];
			x[2] = hex[c & 0xf];
			lf_text_add(t, x, 3);
		} else
			lf_text_add(t, &s[i], 1);
	}
}

/* -- compiling ------------------------------------------------------------- */

const char *
logformat_builtin(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(lf_builtins); i++)
		if (strcmp(lf_builtins[i].name, name) == 0)
			return (lf_builtins[i].def);
	return (NULL);
}

static int
lf_add(struct logformat *f, const struct lf_token *t)
{
	struct lf_token *v;

	v = realloc(f->tok, (f->ntok + 1) * sizeof *v);
	if (v == NULL)
		return (-ENOMEM);
	f->tok = v;
	v[f->ntok++] = *t;
	return (0);
}

/* The longest tag at p, or LF_STRING. */
static enum lf_code
lf_match(const char *p)
{
	enum lf_code best = LF_STRING;
	unsigned i;

	for (i = LF_STRING + 1; i < LF__COUNT; i++)
		if (lf_codes[i].len > lf_codes[best].len &&
		    strncmp(p, lf_codes[i].tag, lf_codes[i].len) == 0)
			best = (enum lf_code)i;
	return (best);
}

/* Literal text up to the next '%'; tracks Squid's quoting context. */
static int
lf_parse_text(struct logformat *f, const char **pp, enum lf_quote *ctx)
{
	struct lf_token t = { .code = LF_STRING, .wmin = -1, .wmax = -1 };
	const char *p = *pp;
	size_t i, n = strcspn(p, "%");

	for (i = 0; i < n; i++) {
		if (p[i] == '"')
			*ctx = *ctx == LFQ_NONE ? LFQ_QUOTES :
			    *ctx == LFQ_QUOTES ? LFQ_NONE : *ctx;
		else if (p[i] == '[' && *ctx == LFQ_NONE)
			*ctx = LFQ_MIMEBLOB;
		else if (p[i] == ']' && *ctx == LFQ_MIMEBLOB)
			*ctx = LFQ_NONE;
	}
	t.arg = strndup(p, n);
	t.len = n;
	if (t.arg == NULL || lf_add(f, &t) != 0) {
		free(t.arg);
		return (-ENOMEM);
	}
	*pp = p + n;
	return (0);
}

/* Split a header argument "Name:member" or "Name:;member". */
static void
lf_header_member(struct lf_token *t)
{
	char *colon = strchr(t->arg, ':');

	if (colon == NULL)
		return;
	*colon++ = '\0';
	t->len = strlen(t->arg);
	t->sep = ',';
	if (*colon == ',' || *colon == ';' || *colon == ':')
		t->sep = *colon++;
	t->member = colon;
}

static int
lf_parse_code(struct logformat *f, const char **pp, enum lf_quote ctx,
    char *err, size_t errlen)
{
	struct lf_token t = { .quote = ctx, .wmin = -1, .wmax = -1 };
	const char *start = *pp, *p = *pp + 1, *end;
	char *num;

	switch (*p) {
	case '"':
		t.quote = LFQ_QUOTES;
		p++;
		break;
	case '\'':
		t.quote = LFQ_RAW;
		p++;
		break;
	case '[':
		t.quote = LFQ_MIMEBLOB;
		p++;
		break;
	case '#':
		t.quote = LFQ_URL;
		p++;
		break;
	}
	if (*p == '-') {
		t.left = true;
		p++;
	}
	if (*p == '0') {
		t.zero = true;
		p++;
	}
	if (isdigit((unsigned char)*p)) {
		t.wmin = (int)strtol(p, &num, 10);
		p = num;
	}
	if (*p == '.' && isdigit((unsigned char)p[1])) {
		t.wmax = (int)strtol(p + 1, &num, 10);
		p = num;
	}
	if (t.wmin > 8192 || t.wmax > 8192) {
		snprintf(err, errlen, "width too large in \"%.*s\"",
		    (int)(p - start), start);
		return (-EINVAL);
	}
	if (*p == '{') {
		end = strchr(p, '}');
		if (end == NULL) {
			snprintf(err, errlen, "unterminated { in \"%s\"",
			    start);
			return (-EINVAL);
		}
		t.arg = strndup(p + 1, (size_t)(end - p - 1));
		if (t.arg == NULL)
			return (-ENOMEM);
		t.len = (size_t)(end - p - 1);
		p = end + 1;
	}
	if (strncmp(p, "http::", 6) == 0 && p[6] != '%')
		p += 6;
	t.code = lf_match(p);
	if (t.code == LF_STRING) {
		snprintf(err, errlen, "unknown format code \"%.*s\"",
		    (int)strcspn(start, " \t\"[]"), start);
		free(t.arg);
		return (-EINVAL);
	}
	p += lf_codes[t.code].len;
	/* Squid's deprecated spellings. */
	if (t.code == LF_STATUS_SENT_OLD)
		t.code = LF_STATUS_SENT;
	else if (t.code == LF_URL_PATH_OLD)
		t.code = LF_CLIENT_PATH;
	else if (t.code == LF_REQ_HEADER_ADAPTED)
		t.code = LF_REQ_HEADER;
	if ((t.code == LF_REQ_HEADER || t.code == LF_REP_HEADER) &&
	    t.arg != NULL)
		lf_header_member(&t);
	if (lf_add(f, &t) != 0) {
		free(t.arg);
		return (-ENOMEM);
	}
	*pp = p;
	return (0);
}

int
logformat_compile(const char *name, const char *def, struct logformat **out,
    char *err, size_t errlen)
{
	enum lf_quote ctx = LFQ_NONE;
	struct logformat *f;
	const char *p = def;
	int r = 0;

	AN(name);
	AN(def);
	AN(out);
	*out = NULL;
	ALLOC_OBJ(f, LOGFORMAT_MAGIC);
	if (f == NULL)
		return (-ENOMEM);
	f->name = strdup(name);
	if (f->name == NULL)
		r = -ENOMEM;
	while (r == 0 && *p != '\0') {
		if (*p == '%')
			r = lf_parse_code(f, &p, ctx, err, errlen);
		else
			r = lf_parse_text(f, &p, &ctx);
	}
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (r != 0) {
		logformat_free(&f);
		return (r);
	}
	*out = f;
	return (0);
}

void
logformat_free(struct logformat **fp)
{
	struct logformat *f;
	size_t i;

	if (*fp == NULL)
		return;
	TAKE_OBJ_NOTNULL(f, fp, LOGFORMAT_MAGIC);
	for (i = 0; i < f->ntok; i++)
		free(f->tok[i].arg);
	free(f->tok);
	free(f->name);
	FREE_OBJ(f);
}

/* -- values ---------------------------------------------------------------- */

enum lf_kind {
	LFV_NONE,		/* "-" */
	LFV_STR,		/* str, slen */
	LFV_INT,		/* num */
	LFV_MSEC,		/* num microseconds, shown in milliseconds */
	LFV_SEC			/* num microseconds, shown in seconds */
};

struct lf_value {
	enum lf_kind	kind;
	const char	*str;
	size_t		slen;
	int64_t		num;
	char		buf[256];	/* for values made up here */
};

/* What one rendering knows beside the entry. */
struct lf_now {
	const struct access_entry	*e;
	int64_t				end_us;
	int64_t				start_us;
	uint64_t			seq;
	struct lf_scratch		*s;
};

/* Seconds to whole microseconds, rounded: 1700000000.123 is not exact
 * in a double, and truncating would log .122. */
static int64_t
lf_us(double t)
{
	return (t > 0 ? (int64_t)(t * 1e6 + 0.5) : 0);
}

static int64_t
lf_pow10(int n)
{
	int64_t v = 1;

	while (n-- > 0)
		v *= 10;
	return (v);
}

static void
lf_set_str(struct lf_value *v, const char *s, size_t n)
{
	v->kind = s != NULL && n > 0 ? LFV_STR : LFV_NONE;
	v->str = s;
	v->slen = n;
}

static void
lf_set_cstr(struct lf_value *v, const char *s)
{
	lf_set_str(v, s, s != NULL ? strlen(s) : 0);
}

static void
lf_set_int(struct lf_value *v, int64_t n)
{
	v->kind = LFV_INT;
	v->num = n;
}

/* The address part of sa, an IPv4-mapped one as IPv4 (as Squid logs). */
static void
lf_set_ip(struct lf_value *v, const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6;
	const char *r = NULL;

	if (sa == NULL) {
		v->kind = LFV_NONE;
		return;
	}
	if (sa->sa_family == AF_INET)
		r = inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, v->buf, sizeof v->buf);
	else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			r = inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12],
			    v->buf, sizeof v->buf);
		else
			r = inet_ntop(AF_INET6, &s6->sin6_addr, v->buf,
			    sizeof v->buf);
	}
	lf_set_cstr(v, r);
}

static void
lf_set_port(struct lf_value *v, const struct sockaddr *sa)
{
	v->kind = LFV_NONE;
	if (sa != NULL && sa->sa_family == AF_INET)
		lf_set_int(v, ntohs(((const struct sockaddr_in *)
		    (const void *)sa)->sin_port));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		lf_set_int(v, ntohs(((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_port));
}

/* A duration in seconds, "-" when nothing was forwarded or unknown. */
static void
lf_set_msec(struct lf_value *v, const struct access_entry *e, double d)
{
	v->kind = LFV_NONE;
	if (e->server != NULL && d >= 0) {
		v->kind = LFV_MSEC;
		v->num = lf_us(d);
	}
}

static void
lf_set_time(struct lf_value *v, const struct lf_token *t, int64_t us)
{
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	size_t n;

	if (t->code == LF_TIME_LOCAL)
		localtime_r(&sec, &tm);
	else
		gmtime_r(&sec, &tm);
	/* %{spec}tl: the administrator's strftime format, as in Squid. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = strftime(v->buf, sizeof v->buf, t->arg != NULL ? t->arg :
	    t->code == LF_TIME_LOCAL ? "%d/%b/%Y:%H:%M:%S %z" :
	    "%d/%b/%Y:%H:%M:%S", &tm);
#pragma GCC diagnostic pop
	lf_set_str(v, v->buf, n);
}

/*
 * Header values: every field named name, joined by ", " (Squid's
 * getByName), or with no name the whole section as "Name: value\r\n"
 * lines.
 */
static void
lf_set_header(struct lf_value *v, const struct lf_token *t,
    const struct http_msg *msg, struct lf_text *val)
{
	const struct http_field *fl;
	uint16_t i;

	v->kind = LFV_NONE;
	if (msg == NULL)
		return;
	val->len = 0;
	for (i = 0; i < msg->nfields; i++) {
		fl = &msg->fields[i];
		if (t->arg != NULL && (fl->name.len != t->len ||
		    strncasecmp(http_msg_ptr(msg, fl->name), t->arg,
		    t->len) != 0))
			continue;
		if (t->arg == NULL) {
			lf_text_add(val, http_msg_ptr(msg, fl->name),
			    fl->name.len);
			lf_text_add(val, ": ", 2);
		} else if (val->len > 0)
			lf_text_add(val, ", ", 2);
		lf_text_add(val, http_msg_ptr(msg, fl->value), fl->value.len);
		if (t->arg == NULL)
			lf_text_add(val, "\r\n", 2);
	}
	if (!val->oom)
		lf_set_str(v, val->p, val->len);
}

/*
 * %note: the annotations helpers made (Squid's transaction notes that
 * cuttle keeps), all as "name: value\r\n" lines, or with {name} that
 * one's value.
 */
static void
lf_set_notes(struct lf_value *v, const struct lf_token *t,
    const struct access_entry *e, struct lf_text *val)
{
	const struct {
		const char	*name;
		const char	*value;
	} notes[] = {
		{ "tag", e->ext_tag },
		{ "user", e->ext_user },
		{ "store-id", e->store_id },
	};
	size_t i;

	v->kind = LFV_NONE;
	val->len = 0;
	for (i = 0; i < ARRAY_LEN(notes); i++) {
		if (notes[i].value == NULL)
			continue;
		if (t->arg != NULL) {
			if (strcmp(t->arg, notes[i].name) == 0)
				lf_set_cstr(v, notes[i].value);
			continue;
		}
		lf_text_add(val, notes[i].name, strlen(notes[i].name));
		lf_text_add(val, ": ", 2);
		lf_text_add(val, notes[i].value, strlen(notes[i].value));
		lf_text_add(val, "\r\n", 2);
	}
	if (t->arg == NULL && val->len > 0 && !val->oom)
		lf_set_str(v, val->p, val->len);
}

/*
 * {Name:member}: the values of the list items "member=value" of the
 * header, joined by the separator (Squid's getByNameListMember).
 */
static void
lf_set_member(struct lf_value *v, const struct lf_token *t,
    struct lf_text *out)
{
	size_t mlen = strlen(t->member), n;
	const char *p, *end;

	out->len = 0;
	if (v->kind != LFV_STR)
		return;
	p = v->str;
	end = v->str + v->slen;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		n = 0;
		while (p + n < end && p[n] != t->sep)
			n++;
		if (n > mlen && strncmp(p, t->member, mlen) == 0 &&
		    p[mlen] == '=') {
			if (out->len > 0)
				lf_text_add(out, &t->sep, 1);
			lf_text_add(out, p + mlen + 1, n - mlen - 1);
		}
		p += n + 1;
	}
	lf_set_str(v, out->oom ? NULL : out->p, out->len);
}

/* The mime type only, as Squid logs %mt: up to ';', space or tab. */
static void
lf_set_mime(struct lf_value *v, const struct access_entry *e)
{
	const struct http_field *fl;
	const char *s = e->mime_type;
	size_t n = s != NULL ? strlen(s) : 0;

	if (s == NULL && e->reply != NULL &&
	    (fl = http_msg_field_named(e->reply, "Content-Type", 12)) != NULL) {
		s = http_msg_ptr(e->reply, fl->value);
		n = fl->value.len;
	}
	if (s != NULL) {
		size_t k = 0;

		while (k < n && s[k] != ';' && s[k] != ' ' && s[k] != '\t')
			k++;
		n = k;
	}
	lf_set_str(v, s, n);
}

static void
lf_set_method(struct lf_value *v, const struct access_entry *e)
{
	if (e->method != NULL || e->request == NULL)
		lf_set_cstr(v, e->method);
	else
		lf_set_str(v, http_msg_ptr(e->request, e->request->method_name),
		    e->request->method_name.len);
}

/*
 * The URL as Squid logs %ru: as received, unless it holds controls,
 * spaces or non-ASCII bytes, when it is RFC 1738-escaped (Squid's
 * urlCanonicalClean()), so that a line always has its fields.
 */
static void
lf_set_log_url(struct lf_value *v, const char *url, struct lf_text *out)
{
	size_t i, n = url != NULL ? strlen(url) : 0;

	lf_set_str(v, url, n);
	for (i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f)
			break;
	if (i == n)
		return;
	out->len = 0;
	lf_esc_url(out, url, n, LF_ESC_UNSAFE);
	lf_set_str(v, out->oom ? NULL : out->p, out->len);
}

/* %>rp %>rd %>rs %>rP: pieces of the request URL. */
static void
lf_set_url_part(struct lf_value *v, enum lf_code code, const char *url)
{
	struct http_url u;
	size_t n;

	v->kind = LFV_NONE;
	if (url == NULL)
		return;
	n = strlen(url);
	if (http_url_parse(url, n, 0, &u) != 0 &&
	    http_url_parse(url, n, 1, &u) != 0)
		return;
	switch (code) {
	case LF_CLIENT_SCHEME:
		lf_set_str(v, url, u.scheme_len);
		break;
	case LF_CLIENT_DOMAIN:
		lf_set_str(v, url + u.host_off, u.host_len);
		break;
	case LF_CLIENT_URL_PORT:
		if (u.port != 0)
			lf_set_int(v, u.port);
		break;
	default:
		if (u.form == HTTP_URL_ABSOLUTE && u.path_len == 0)
			lf_set_cstr(v, "/");
		else
			lf_set_str(v, url + u.path_off, u.path_len);
		break;
	}
}

static void
lf_set_version(struct lf_value *v, const struct http_msg *req,
    bool always)
{
	int n;

	v->kind = LFV_NONE;
	if (req == NULL && !always)
		return;
	n = snprintf(v->buf, sizeof v->buf, "%u.%u",
	    req != NULL ? req->vmajor : 0, req != NULL ? req->vminor : 0);
	lf_set_str(v, v->buf, (size_t)n);
}

static void
lf_value(struct lf_value *v, const struct lf_token *t, const struct lf_now *n)
{
	const struct access_entry *e = n->e;
	int64_t us;
	int p;

	v->kind = LFV_NONE;
	switch ((enum lf_code)t->code) {
	case LF_STRING:
		lf_set_str(v, t->arg, t->len);
		break;
	case LF_PERCENT:
		lf_set_cstr(v, "%");
		break;
	case LF_CLIENT_IP:
	case LF_CLIENT_FQDN:
		lf_set_ip(v, e->client);
		break;
	case LF_CLIENT_PORT:
		lf_set_port(v, e->client);
		break;
	case LF_CLIENT_LOCAL_IP:
	case LF_LOCAL_IP:
		lf_set_ip(v, e->local != NULL ? e->local(e->local_arg) : NULL);
		break;
	case LF_CLIENT_LOCAL_PORT:
	case LF_LOCAL_PORT:
		lf_set_port(v, e->local != NULL ? e->local(e->local_arg) :
		    NULL);
		break;
	case LF_SERVER_IP:
		lf_set_ip(v, e->server);
		break;
	case LF_SERVER_NAME:
		lf_set_cstr(v, e->server_name);
		break;
	case LF_SERVER_PORT:
		lf_set_port(v, e->server);
		break;
	case LF_SERVER_LOCAL_IP:
		lf_set_ip(v, e->server_local);
		break;
	case LF_SERVER_LOCAL_PORT:
		lf_set_port(v, e->server_local);
		break;
	case LF_TIME_EPOCH:
		lf_set_int(v, n->end_us / 1000000);
		break;
	case LF_TIME_SUBSEC:
		p = t->wmax > 0 ? (t->wmax < 6 ? t->wmax : 6) : 3;
		lf_set_int(v, (n->end_us % 1000000) / lf_pow10(6 - p));
		break;
	case LF_TIME_LOCAL:
	case LF_TIME_GMT:
		lf_set_time(v, t, n->end_us);
		break;
	case LF_TIME_START:
		if (n->start_us > 0) {
			v->kind = LFV_SEC;
			v->num = n->start_us;
		}
		break;
	case LF_TIME_RESPONSE:
		us = n->start_us > 0 ? n->end_us - n->start_us : 0;
		v->kind = LFV_MSEC;
		v->num = us > 0 ? us : 0;
		break;
	case LF_TIME_SERVER:
		lf_set_msec(v, e, e->server_time);
		break;
	case LF_TIME_PEER:
		lf_set_msec(v, e, e->peer_time);
		break;
	case LF_TIME_DNS:
		lf_set_msec(v, e, e->dns_time);
		break;
	case LF_REQ_HEADER:
	case LF_REP_HEADER:
		lf_set_header(v, t, t->code == LF_REQ_HEADER ? e->request :
		    e->reply, &n->s->val);
		if (t->member != NULL)
			lf_set_member(v, t, &n->s->part);
		break;
	case LF_USER_NAME:
	case LF_USER_LOGIN:
		lf_set_cstr(v, e->user);
		break;
	case LF_STATUS_SENT:
		lf_set_int(v, e->status);
		break;
	case LF_STATUS_RECEIVED:
		if (e->server_status != 0)
			lf_set_int(v, e->server_status);
		break;
	case LF_SERVER_BODY_BYTES:
		if (e->server != NULL)
			lf_set_int(v, (int64_t)e->server_body_bytes);
		break;
	case LF_SQUID_STATUS:
		lf_set_cstr(v, e->code != NULL ? e->code : "NONE_NONE");
		break;
	case LF_HIERARCHY:
		lf_set_cstr(v, e->hier != NULL ? e->hier : "HIER_NONE");
		break;
	case LF_MIME_TYPE:
		lf_set_mime(v, e);
		break;
	case LF_ERR_CODE:
		lf_set_cstr(v, e->err_code);
		break;
	case LF_ERR_DETAIL:
		lf_set_cstr(v, e->err_detail);
		break;
	case LF_METHOD:
	case LF_CLIENT_METHOD:
	case LF_SERVER_METHOD:
		lf_set_method(v, e);
		break;
	case LF_URL:
		lf_set_log_url(v, e->url, &n->s->val);
		break;
	case LF_CLIENT_URL:
	case LF_SERVER_URL:
		lf_set_cstr(v, e->url);
		break;
	case LF_CLIENT_SCHEME:
	case LF_CLIENT_DOMAIN:
	case LF_CLIENT_URL_PORT:
	case LF_CLIENT_PATH:
	case LF_SERVER_PATH:
		lf_set_url_part(v, (enum lf_code)t->code, e->url);
		break;
	case LF_VERSION:
	case LF_CLIENT_VERSION:
	case LF_SERVER_VERSION:
		lf_set_version(v, e->request, t->code == LF_VERSION);
		break;
	case LF_REQ_SIZE:
		lf_set_int(v, (int64_t)e->bytes_in);
		break;
	case LF_REQ_HDR_SIZE:
		lf_set_int(v, (int64_t)e->hdr_bytes_in);
		break;
	case LF_REP_SIZE:
		lf_set_int(v, (int64_t)e->bytes_out);
		break;
	case LF_REP_HDR_SIZE:
		lf_set_int(v, (int64_t)e->hdr_bytes_out);
		break;
	case LF_IO_SIZE:
		lf_set_int(v, (int64_t)(e->bytes_in + e->bytes_out));
		break;
	case LF_SEQUENCE:
		lf_set_int(v, (int64_t)n->seq);
		break;
	case LF_USER_EXTERNAL:
		lf_set_cstr(v, e->ext_user);
		break;
	case LF_EXT_TAG:
		lf_set_cstr(v, e->ext_tag);
		break;
	case LF_EXT_LOG:
		lf_set_cstr(v, e->ext_log);
		break;
	case LF_NOTE:
		lf_set_notes(v, t, e, &n->s->val);
		break;
	case LF_USER_IDENT:
	case LF_STATUS_SENT_OLD:
	case LF_URL_PATH_OLD:
	case LF_REQ_HEADER_ADAPTED:
	case LF__COUNT:
		break;
	}
}

/* Numbers as text, with Squid's zero padding and fractions. */
static void
lf_number(struct lf_value *v, const struct lf_token *t)
{
	int w = t->zero && t->wmin > 0 ? t->wmin : 0, p, n;
	int64_t whole, frac;

	if (v->kind == LFV_INT) {
		n = snprintf(v->buf, sizeof v->buf, "%0*lld", w,
		    (long long)v->num);
		lf_set_str(v, v->buf, (size_t)n);
		return;
	}
	if (v->kind == LFV_MSEC) {
		p = t->wmax < 0 ? 0 : t->wmax < 3 ? t->wmax : 3;
		whole = v->num / 1000;
		frac = (v->num % 1000) / lf_pow10(3 - p);
	} else {
		p = t->wmax < 0 ? 3 : t->wmax < 6 ? t->wmax : 6;
		whole = v->num / 1000000;
		frac = (v->num % 1000000) / lf_pow10(6 - p);
	}
	if (p == 0)
		n = snprintf(v->buf, sizeof v->buf, "%0*lld", w,
		    (long long)whole);
	else
		n = snprintf(v->buf, sizeof v->buf, "%0*lld.%0*lld",
		    w > p + 1 ? w - p - 1 : 0, (long long)whole, p,
		    (long long)frac);
	lf_set_str(v, v->buf, (size_t)n);
}

static void
lf_emit(const struct lf_token *t, struct lf_value *v, bool is_str,
    struct lf_text *esc, struct lf_text *line)
{
	size_t n, pad = 0;
	const char *s;

	if (t->code != LF_STRING && (lf_codes[t->code].esc ||
	    t->quote != LFQ_NONE) && t->quote != LFQ_RAW) {
		esc->len = 0;
		switch ((enum lf_quote)t->quote) {
		case LFQ_NONE:
			lf_esc_url(esc, v->str, v->slen, LF_ESC_UNSAFE);
			break;
		case LFQ_QUOTES:
			lf_esc_quoted(esc, v->str, v->slen);
			break;
		case LFQ_MIMEBLOB:
			lf_esc_mimeblob(esc, v->str, v->slen);
			break;
		case LFQ_URL:
			lf_esc_url(esc, v->str, v->slen,
			    LF_ESC_UNSAFE | LF_ESC_PERCENT);
			break;
		case LFQ_RAW:
			break;
		}
		if (esc->oom) {
			line->oom = true;
			return;
		}
		lf_set_str(v, esc->p, esc->len);
	}
	s = v->str;
	n = v->slen;
	if (is_str && t->wmax >= 0 && n > (size_t)t->wmax)
		n = (size_t)t->wmax;
	if (t->wmin > 0 && n < (size_t)t->wmin)
		pad = (size_t)t->wmin - n;
	if (!t->left)
		lf_text_pad(line, pad);
	lf_text_add(line, s, n);
	if (t->left)
		lf_text_pad(line, pad);
}

void
logformat_render(const struct logformat *f, const struct access_entry *e,
    double now, uint64_t seq, struct lf_scratch *s, struct lf_text *line)
{
	struct lf_now n;
	struct lf_value v;
	bool is_str;
	size_t i;

	CHECK_OBJ_NOTNULL(f, LOGFORMAT_MAGIC);
	AN(e);
	n.e = e;
	n.end_us = lf_us(e->end > 0 ? e->end : now);
	n.start_us = lf_us(e->start);
	n.seq = seq;
	n.s = s;
	s->val.oom = s->part.oom = s->esc.oom = false;
	for (i = 0; i < f->ntok; i++) {
		const struct lf_token *t = &f->tok[i];

		if (t->code == LF_STRING) {
			lf_text_add(line, t->arg, t->len);
			continue;
		}
		lf_value(&v, t, &n);
		is_str = v.kind == LFV_STR;
		if (v.kind == LFV_INT || v.kind == LFV_MSEC ||
		    v.kind == LFV_SEC)
			lf_number(&v, t);
		if (v.kind == LFV_NONE)
			lf_text_add(line, "-", 1);
		else
			lf_emit(t, &v, is_str, &s->esc, line);
	}
	if (s->val.oom || s->part.oom || s->esc.oom)
		line->oom = true;
}
