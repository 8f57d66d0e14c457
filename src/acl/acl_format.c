/*
 * acl_format.c - the request fields a helper line carries: Squid's
 * logformat codes and its legacy external acl codes, over a request view.
 *
 *	%>a %SRC	client address		%>A	its name (srcdomain)
 *	%>p %SRCPORT	client port		%la %MYADDR	local address
 *	%lp %MYPORT	local port		%un %ul %LOGIN	the user
 *	%>rm %METHOD	method			%ru %>ru %URI	the URL
 *	%>rd %DST	the URL's host		%>rP %PORT	its port
 *	%>rp %PATH	path and query		%PROTO %>rs	scheme
 *	%ue %EXT_USER	user= of an external acl's answer
 *	%et %EXT_TAG	tag= of an external acl's answer
 *	%>{Name} %>ha{Name} %{Name}	the request header Name
 *	%DATA		the acl's arguments (external acls)
 *	%%		a '%'
 *
 * Each value is %-escaped (bytes outside visible ASCII, '%', quotes and
 * backslashes), since a helper splits its line on blanks; a value not
 * known (no user, no header) is "-".  Anything else is copied as it is.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl/acl.h"
#include "base/check.h"
#include "base/dec.h"
#include "http/http_msg.h"

enum fmt_code {
	FMT_SRC, FMT_SRC_NAME, FMT_SRC_PORT, FMT_MYADDR, FMT_MYPORT,
	FMT_USER, FMT_METHOD, FMT_URL, FMT_HOST, FMT_PORT, FMT_PATH,
	FMT_PROTO, FMT_EXT_USER, FMT_EXT_TAG, FMT_DATA, FMT_HEADER
};

/* Longer names first where one is a prefix of another. */
static const struct {
	const char	*name;
	enum fmt_code	code;
} fmt_codes[] = {
	{ "SRCPORT", FMT_SRC_PORT },	{ "SRC", FMT_SRC },
	{ "MYADDR", FMT_MYADDR },	{ "MYPORT", FMT_MYPORT },
	{ "LOGIN", FMT_USER },		{ "METHOD", FMT_METHOD },
	{ "URI", FMT_URL },		{ "DST", FMT_HOST },
	{ "PORT", FMT_PORT },		{ "PATH", FMT_PATH },
	{ "PROTO", FMT_PROTO },		{ "EXT_USER", FMT_EXT_USER },
	{ "EXT_TAG", FMT_EXT_TAG },	{ "DATA", FMT_DATA },
	{ ">a", FMT_SRC },		{ ">A", FMT_SRC_NAME },
	{ ">p", FMT_SRC_PORT },		{ "la", FMT_MYADDR },
	{ "lp", FMT_MYPORT },		{ "un", FMT_USER },
	{ "ul", FMT_USER },		{ "ue", FMT_EXT_USER },
	{ "et", FMT_EXT_TAG },		{ ">rm", FMT_METHOD },
	{ "rm", FMT_METHOD },		{ ">ru", FMT_URL },
	{ "ru", FMT_URL },		{ ">rd", FMT_HOST },
	{ ">rP", FMT_PORT },		{ ">rp", FMT_PATH },
	{ "rp", FMT_PATH },		{ ">rs", FMT_PROTO },
};

struct fmt_out {
	char	*p;
	size_t	cap;
	size_t	n;
	bool	full;
};

static void
fmt_put(struct fmt_out *o, const char *s, size_t len)
{
	if (o->full || len >= o->cap - o->n) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->n, s, len);
	o->n += len;
}

/* s (len bytes) %-escaped: no blank, control, quote, backslash or '%'
 * is left to end the word or confuse the helper. */
static void
fmt_escaped(struct fmt_out *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];
	size_t i, run;
	unsigned char c;

	for (i = 0; i < len; i = run + 1) {
		for (run = i; run < len; run++) {
			c = (unsigned char)s[run];
			if (c <= ' ' || c >= 0x7f || c == '%' || c == '"' ||
			    c == '\\' || c == '\'')
				break;
		}
		fmt_put(o, s + i, run - i);
		if (run == len)
			break;
		c = (unsigned char)s[run];
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 0xf];
		fmt_put(o, esc, 3);
	}
}

/* A value, %-escaped; "-" when absent or empty. */
static void
fmt_value(struct fmt_out *o, const char *s, size_t len)
{
	if (s == NULL || len == 0)
		fmt_put(o, "-", 1);
	else
		fmt_escaped(o, s, len);
}

/* v in decimal, NUL-terminated, in buf (DEC_MAX + 1 bytes). */
static void
fmt_uint(char *buf, unsigned v)
{
	char d[DEC_MAX], *p = dec_put(d + sizeof d, v);
	size_t n = (size_t)(d + sizeof d - p);

	memcpy(buf, p, n);
	buf[n] = '\0';
}

/* a in dotted quad into buf (16 bytes), its length: the C library's
 * inet_ntop() formats IPv4 with sprintf(), a cost on every helper line. */
static size_t
fmt_ipv4(char *buf, const struct in_addr *a)
{
	const unsigned char *b = (const unsigned char *)&a->s_addr;
	char d[DEC_MAX], *p;
	size_t i, n = 0;

	for (i = 0; i < 4; i++) {
		p = dec_put(d + sizeof d, b[i]);
		memcpy(buf + n, p, (size_t)(d + sizeof d - p));
		n += (size_t)(d + sizeof d - p);
		if (i < 3)
			buf[n++] = '.';
	}
	return (n);
}

static void
fmt_cstr(struct fmt_out *o, const char *s)
{
	fmt_value(o, s, s != NULL ? strlen(s) : 0);
}

/* An address or a port: digits, dots, colons and hex, nothing to
 * escape, so written as they are. */
static void
fmt_addr(struct fmt_out *o, const struct sockaddr *sa, bool port)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	char buf[INET6_ADDRSTRLEN + 8], *p;
	size_t n;

	if (sa == NULL || (sa->sa_family != AF_INET &&
	    sa->sa_family != AF_INET6)) {
		fmt_put(o, "-", 1);
		return;
	}
	if (port) {
		p = dec_put(buf + sizeof buf, ntohs(sa->sa_family == AF_INET ?
		    sin->sin_port : sin6->sin6_port));
		fmt_put(o, p, (size_t)(buf + sizeof buf - p));
		return;
	}
	if (sa->sa_family == AF_INET)
		n = fmt_ipv4(buf, &sin->sin_addr);
	else if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf) !=
	    NULL)
		n = strlen(buf);
	else
		n = 0;
	fmt_put(o, n > 0 ? buf : "-", n > 0 ? n : 1);
}

/* The header named name (len bytes), all its lines joined by ", ". */
static void
fmt_header(struct fmt_out *o, const struct http_msg *m, const char *name,
    size_t len)
{
	const struct http_field *f;
	size_t i, joined = 0;

	/* Its lines joined by ", " (none before an empty first one),
	 * escaped as they go out, as long as the line has room; empty
	 * lines write nothing, so "-" goes in when nothing did. */
	for (i = 0; m != NULL && i < m->nfields; i++) {
		f = &m->fields[i];
		if (f->name.len != len || strncasecmp(http_msg_ptr(m, f->name),
		    name, len) != 0)
			continue;
		if (joined > 0) {
			fmt_escaped(o, ", ", 2);
			joined += 2;
		}
		fmt_escaped(o, http_msg_ptr(m, f->value), f->value.len);
		joined += f->value.len;
	}
	if (joined == 0)
		fmt_put(o, "-", 1);
}

/* The code at s (after '%'): its length, and *code, *hname, *hlen for a
 * header; 0 when s names no code. */
static size_t
fmt_parse_code(const char *s, enum fmt_code *code, const char **hname,
    size_t *hlen)
{
	const char *end;
	size_t i, n, skip;

	skip = strncmp(s, ">ha{", 4) == 0 ? 4 : strncmp(s, ">{", 2) == 0 ?
	    2 : s[0] == '{' ? 1 : 0;
	if (skip > 0) {
		end = strchr(s + skip, '}');
		if (end == NULL || end == s + skip)
			return (0);
		*code = FMT_HEADER;
		*hname = s + skip;
		*hlen = (size_t)(end - (s + skip));
		return ((size_t)(end - s) + 1);
	}
	for (i = 0; i < sizeof fmt_codes / sizeof fmt_codes[0]; i++) {
		n = strlen(fmt_codes[i].name);
		if (strncmp(s, fmt_codes[i].name, n) == 0) {
			*code = fmt_codes[i].code;
			return (n);
		}
	}
	return (0);
}

/*
 * A compiled format: its pieces in order, each a literal run or a code,
 * so that a request's line costs no parsing.  The literal runs and
 * header names point into text, the format's own copy.
 */
struct fmt_piece {
	bool		literal;
	enum fmt_code	code;
	const char	*s;		/* the run, or the header's name */
	size_t		len;
};

struct acl_format {
	unsigned		magic;
#define ACL_FORMAT_MAGIC	0xf0a7c0deU
	size_t			n;
	char			*text;
	struct fmt_piece	pieces[];
};

struct acl_format *
acl_format_new(const char *fmt, const char **bad)
{
	struct acl_format *f;
	struct fmt_piece *pc;
	enum fmt_code code;
	const char *p, *h;
	size_t len = strlen(fmt), n, hl, npieces;

	*bad = NULL;
	/* Each '%' ends at most one run and starts one code. */
	for (npieces = 1, p = fmt; (p = strchr(p, '%')) != NULL; p++)
		npieces += 2;
	f = calloc(1, sizeof *f + npieces * sizeof f->pieces[0] + len + 1);
	if (f == NULL)
		return (NULL);
	f->magic = ACL_FORMAT_MAGIC;
	f->text = (char *)&f->pieces[npieces];
	memcpy(f->text, fmt, len + 1);
	for (p = f->text; *p != '\0'; ) {
		pc = &f->pieces[f->n];
		if (*p != '%' || p[1] == '%') {
			/* "%%" is a run of its second '%'. */
			if (*p == '%')
				p++;
			pc->literal = true;
			pc->s = p;
			for (p++; *p != '\0' && *p != '%'; p++)
				continue;
			pc->len = (size_t)(p - pc->s);
			f->n++;
			continue;
		}
		n = fmt_parse_code(p + 1, &code, &h, &hl);
		if (n == 0) {
			*bad = fmt + (p - f->text);
			free(f);
			return (NULL);
		}
		pc->code = code;
		pc->s = code == FMT_HEADER ? h : NULL;
		pc->len = code == FMT_HEADER ? hl : 0;
		f->n++;
		p += 1 + n;
	}
	CHECK(f->n <= npieces);
	return (f);
}

void
acl_format_free(struct acl_format **fp)
{
	struct acl_format *f = *fp;

	if (f == NULL)
		return;
	*fp = NULL;
	CHECK_OBJ(f, ACL_FORMAT_MAGIC);
	f->magic = 0;
	free(f);
}

bool
acl_format_has(const struct acl_format *f, const char *code)
{
	enum fmt_code want;
	const char *h;
	size_t hl, i;

	CHECK_OBJ_NOTNULL(f, ACL_FORMAT_MAGIC);
	if (fmt_parse_code(code, &want, &h, &hl) == 0)
		return (false);
	/* A header code is that header's, in any case of its name. */
	for (i = 0; i < f->n; i++)
		if (!f->pieces[i].literal && f->pieces[i].code == want &&
		    (want != FMT_HEADER || (f->pieces[i].len == hl &&
		    strncasecmp(f->pieces[i].s, h, hl) == 0)))
			return (true);
	return (false);
}

int
acl_format_expand(const struct acl_format *f, const struct acl_request *req,
    const char *data, char *out, size_t cap)
{
	struct fmt_out o = { out, cap, 0, false };
	const struct fmt_piece *pc;
	size_t i;

	CHECK_OBJ_NOTNULL(f, ACL_FORMAT_MAGIC);
	if (cap == 0)
		return (-E2BIG);
	for (i = 0; i < f->n; i++) {
		pc = &f->pieces[i];
		if (pc->literal) {
			fmt_put(&o, pc->s, pc->len);
			continue;
		}
		switch (pc->code) {
		case FMT_SRC:
			fmt_addr(&o, req->src, false);
			break;
		case FMT_SRC_NAME:
			fmt_value(&o, req->src_name, req->src_name_len);
			break;
		case FMT_SRC_PORT:
			fmt_addr(&o, req->src, true);
			break;
		case FMT_MYADDR:
		case FMT_MYPORT:
			fmt_addr(&o, req->local != NULL ?
			    req->local(req->local_arg) : NULL,
			    pc->code == FMT_MYPORT);
			break;
		case FMT_USER:
			fmt_value(&o, req->user, req->user_len);
			break;
		case FMT_METHOD:
			fmt_value(&o, req->method_name, req->method_len);
			break;
		case FMT_URL:
			fmt_value(&o, req->url, req->url_len);
			break;
		case FMT_HOST:
			fmt_value(&o, req->host, req->host_len);
			break;
		case FMT_PORT: {
			char buf[DEC_MAX + 1];

			fmt_uint(buf, req->port);
			fmt_cstr(&o, req->port != 0 ? buf : NULL);
			break;
		}
		case FMT_PATH:
			fmt_value(&o, req->path, req->path_len);
			break;
		case FMT_PROTO:
			fmt_cstr(&o, req->proto);
			break;
		case FMT_EXT_USER:
			fmt_cstr(&o, req->ext_user);
			break;
		case FMT_EXT_TAG:
			fmt_cstr(&o, req->ext_tag);
			break;
		case FMT_DATA:
			/* The acl's arguments are the helper's own words:
			 * as given, blanks between them. */
			if (data != NULL && *data != '\0')
				fmt_put(&o, data, strlen(data));
			else
				fmt_put(&o, "-", 1);
			break;
		case FMT_HEADER:
			fmt_header(&o, req->msg, pc->s, pc->len);
			break;
		}
	}
	if (o.full)
		return (-E2BIG);
	out[o.n] = '\0';
	return ((int)o.n);
}
