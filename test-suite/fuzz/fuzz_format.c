/*
 * fuzz_format.c - acl_format.c: the lines cuttle sends to helpers
 * (external_acl_type formats, url_rewrite_extras, store_id_extras), with
 * acl_format_new(), acl_format_expand() and acl_format_has(), over a
 * request view (struct acl_request) built from the input:
 *	byte 0	the view's parts: 0x01 the user, 0x02 ext_user, 0x04
 *		ext_tag, 0x08 src_name, 0x10 a local() callback, 0x20 that
 *		knows the address, 0x40 the client on IPv6, 0x80 no client
 *		address (src NULL)
 *	byte 1	bits 0-5: a small cap, 1..64; 0x40 a CONNECT (the target
 *		in authority-form, proto NULL); 0x80 the local address on
 *		IPv6
 *	byte 2	0x01 a manager request (proto "cache_object" for another
 *		scheme), 0x02 the client's address of no family
 *		(AF_UNSPEC), 0x04 the local one too, 0x08 no headers (msg
 *		NULL, as in icp.c's view)
 *	bytes 3-4 the client's port, 5-6 the local port (big-endian),
 *	bytes 7-22 the client's address, 23-38 the local one (IPv4: the
 *		first 4 bytes)
 * then LF-terminated lines (a CR before the LF dropped): the format (a
 * NUL ends it, as in a C string), the method, the request-target (host,
 * port, path and proto from http_url_parse(), as client_acl_view() takes
 * them), the user, ext_user, ext_tag, src_name (each present or not by
 * byte 0), the string for %DATA, then the request's "name: value" fields
 * (fuzz_fields()).  Each string is in a buffer of exactly its size (the
 * counted ones without a NUL), so a read past it is caught.
 *
 * The input's format, and three that sites use (Squid's url_rewrite_extras
 * default, a legacy external acl format, one with %DATA), are expanded
 * for that request with the input's %DATA string and, when they have
 * %DATA, with a string without blanks and with NULL (client_adapt.c's),
 * and checked:
 *	- acl_format_new() gives a format with *bad NULL, or NULL with *bad
 *	  at a '%' of the format, whose part before *bad compiles (it is
 *	  the first '%' that starts no code); a format without '%' compiles;
 *	- acl_format_expand() into a buffer of exactly cap bytes (so ASan
 *	  sees a byte past it) gives n, with a NUL at out[n] and none
 *	  before (n == strlen(out) < cap), or -E2BIG: with cap 16384 (the
 *	  line buffers of acl_external.c and client_adapt.c), with cap
 *	  16384 less the request-target and a blank (client_adapt.c), with
 *	  the input's small cap, with 0, and with n + 1 and n: it fits
 *	  exactly when n < cap, and then the line is the same;
 *	- a byte of the line that is a control, a blank or not ASCII is in
 *	  the format's text or (the format having %DATA) the %DATA string:
 *	  no value brings one, so nothing a client sends puts a CR, LF or
 *	  NUL into a helper line, nor splits a value in two words;
 *	- a format of parts separated by blanks expands to the expansions of
 *	  its parts separated by the same blanks (when each part compiles
 *	  alone: one with a blank inside %{...} does not, and is not
 *	  checked so), and a non-empty part to a non-empty word: a format
 *	  of k words, with no byte but single spaces between them that is a
 *	  control, blank or not ASCII, and a %DATA string without blanks,
 *	  gives a line of exactly k words;
 *	- each part that is exactly one code expands to what that code
 *	  names: "-" when the view has no such value (no user, no header, no
 *	  address, port 0, ...); an address as inet_ntop() writes it, a port
 *	  in decimal; %DATA the string as it is; any other value a token of
 *	  visible ASCII but '%', '"', '\'' and '\\', with %XX escapes, that
 *	  decodes back to the value (a header's lines joined by ", ", all
 *	  of them: a line that cannot hold them is -E2BIG).
 *	  Every code of acl.h is checked so for every input, in each of its
 *	  spellings, with the headers Host, User-Agent, Cookie, Via and
 *	  X-Forwarded-For, and the name of the input's first field (also in
 *	  the other case, as %>ha{});
 *	- for the input's format, acl_format_has() answers alike for every
 *	  spelling of a code, and says yes for a code exactly when the line
 *	  changes with the value that code prints (the view's field absent,
 *	  then "ab"); the local() callback is called only for a format that
 *	  has %la or %lp (it may cost a getsockname()).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl/acl.h"
#include "fuzz.h"
#include "http/http_msg.h"
#include "http/http_url.h"

/* EXT_LINE_MAX (acl_external.c) and ADAPT_LINE_MAX (client_adapt.c). */
#define LINE_CAP	16384
#define HEAD_LEN	39
/* A format split into more parts is not checked part by part. */
#define PARTS_MAX	64
#define NOBLANK_DATA	"d1,d2"

/* What a code prints. */
enum want {
	W_SRC, W_SRC_NAME, W_SRC_PORT, W_MYADDR, W_MYPORT, W_USER, W_METHOD,
	W_URL, W_HOST, W_PORT, W_PATH, W_PROTO, W_EXT_USER, W_EXT_TAG, W_DATA,
	W__COUNT
};

/* Every spelling acl.h lists, grouped by what it prints. */
static const struct {
	const char	*name;
	enum want	w;
} codes[] = {
	{ ">a", W_SRC },		{ "SRC", W_SRC },
	{ ">A", W_SRC_NAME },
	{ ">p", W_SRC_PORT },		{ "SRCPORT", W_SRC_PORT },
	{ "la", W_MYADDR },		{ "MYADDR", W_MYADDR },
	{ "lp", W_MYPORT },		{ "MYPORT", W_MYPORT },
	{ "un", W_USER },		{ "ul", W_USER },
	{ "LOGIN", W_USER },
	{ ">rm", W_METHOD },		{ "rm", W_METHOD },
	{ "METHOD", W_METHOD },
	{ "ru", W_URL },		{ ">ru", W_URL },
	{ "URI", W_URL },
	{ ">rd", W_HOST },		{ "DST", W_HOST },
	{ ">rP", W_PORT },		{ "PORT", W_PORT },
	{ ">rp", W_PATH },		{ "rp", W_PATH },
	{ "PATH", W_PATH },
	{ ">rs", W_PROTO },		{ "PROTO", W_PROTO },
	{ "ue", W_EXT_USER },		{ "EXT_USER", W_EXT_USER },
	{ "et", W_EXT_TAG },		{ "EXT_TAG", W_EXT_TAG },
	{ "DATA", W_DATA },
};
#define NCODES	(sizeof codes / sizeof codes[0])

static const char *const header_names[] = {
	"Host", "User-Agent", "Cookie", "Via", "X-Forwarded-For"
};
#define NHEADERS	(sizeof header_names / sizeof header_names[0])

/* Formats sites use: Squid's url_rewrite_extras (and store_id_extras)
 * default, a legacy external acl format, one with %DATA. */
static const char *const site_formats[] = {
	"%>a/%>A %un %>rm myip=%la myport=%lp",
	("%LOGIN %SRC %DST %PORT %PROTO %METHOD %URI %PATH %MYADDR %MYPORT "
	    "%EXT_USER %>{Host} %>{User-Agent}"),
	"%>a %DATA %>ha{Host} %ru %et %{X-Forwarded-For}",
};
#define NSITES	(sizeof site_formats / sizeof site_formats[0])

/* Compiled once: the site formats, each code alone, each header alone. */
static struct acl_format	*site_fmt[NSITES];
static struct acl_format	*code_fmt[NCODES];
static char			code_text[NCODES][16];
static struct acl_format	*header_fmt[NHEADERS];
static char			header_text[NHEADERS][32];
/* Lines of LINE_CAP bytes: the whole line, and a part of it. */
static char			*line_buf, *part_buf;

/* The request view and what it points into. */
struct fz {
	struct acl_request	r;
	struct http_msg		m;
	struct sockaddr_storage	src, local;
	bool			local_known;
	unsigned		local_calls;
	size_t			small_cap;
	size_t			target_len;
	char			*method, *target, *user, *ext_user;
	char			*ext_tag, *src_name, *data;
};

static const struct sockaddr *
fz_local(void *arg)
{
	struct fz *z = arg;

	z->local_calls++;
	return (z->local_known ? (const struct sockaddr *)&z->local : NULL);
}

/* 0.0.0.0:10, a local address for the has() probes. */
static struct sockaddr_in	probe_sin;

static const struct sockaddr *
probe_local(void *arg)
{
	(void)arg;
	return ((const struct sockaddr *)&probe_sin);
}

/* s[0..len) as a C string (cut at a NUL), in a buffer of its size. */
static char *
dup_cstr(const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);

	if (nul != NULL)
		len = (size_t)(nul - s);
	return (fuzz_copy(s, len, true));
}

static struct acl_format *
compile(const char *fmt)
{
	struct acl_format *f;
	const char *bad;

	f = acl_format_new(fmt, &bad);
	if (f == NULL)
		abort();
	return (f);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	fuzz_quiet();
	for (i = 0; i < NSITES; i++)
		site_fmt[i] = compile(site_formats[i]);
	for (i = 0; i < NCODES; i++) {
		snprintf(code_text[i], sizeof code_text[i], "%%%s",
		    codes[i].name);
		code_fmt[i] = compile(code_text[i]);
	}
	for (i = 0; i < NHEADERS; i++) {
		snprintf(header_text[i], sizeof header_text[i], "%%>{%s}",
		    header_names[i]);
		header_fmt[i] = compile(header_text[i]);
	}
	probe_sin.sin_family = AF_INET;
	probe_sin.sin_port = htons(10);
	line_buf = fuzz_alloc(LINE_CAP);
	part_buf = fuzz_alloc(LINE_CAP);
	return (0);
}

/* -- the line's shape --------------------------------------------------- */

/* f expanded into out, exactly cap bytes: the result, checked. */
static int
expand_into(const struct acl_format *f, const struct acl_request *r,
    const char *data, char *out, size_t cap)
{
	int n;

	n = acl_format_expand(f, r, data, out, cap);
	FUZZ_ASSERT(n == -E2BIG || n >= 0);
	if (n >= 0)
		FUZZ_ASSERT((size_t)n < cap &&
		    memchr(out, '\0', cap) == out + n);
	return (n);
}

/* The same line in a buffer of its own, exactly cap bytes: it fits
 * exactly when big (the line with LINE_CAP) is shorter than cap. */
static void
check_cap(const struct acl_format *f, const struct acl_request *r,
    const char *data, size_t cap, int big, const char *line)
{
	char *out = fuzz_alloc(cap);
	int n;

	memset(out, 0xa5, cap);
	n = expand_into(f, r, data, out, cap);
	if (big >= 0 && (size_t)big < cap) {
		FUZZ_ASSERT(n == big);
		FUZZ_ASSERT(memcmp(out, line, (size_t)big + 1) == 0);
	} else
		FUZZ_ASSERT(n == -E2BIG);
	free(out);
}

static bool
odd_byte(unsigned char c)
{
	return (c <= ' ' || c >= 0x7f);
}

/* Each control, blank or non-ASCII byte of line[0..n) is in fmt or, when
 * f has %DATA, in data. */
static void
check_bytes(const struct acl_format *f, const char *fmt, const char *data,
    const char *line, size_t n)
{
	bool allowed[256];
	const unsigned char *s;
	size_t i;

	memset(allowed, 0, sizeof allowed);
	for (s = (const unsigned char *)fmt; *s != '\0'; s++)
		allowed[*s] = true;
	if (data != NULL && acl_format_has(f, "DATA"))
		for (s = (const unsigned char *)data; *s != '\0'; s++)
			allowed[*s] = true;
	for (i = 0; i < n; i++)
		if (odd_byte((unsigned char)line[i]))
			FUZZ_ASSERT(allowed[(unsigned char)line[i]]);
}

/* -- what one code prints ----------------------------------------------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* tok[0..n) with its %XX escapes undone into out (n bytes), its length;
 * every other byte must be visible ASCII, not '%', a quote or '\\'. */
static size_t
unescape(const char *tok, size_t n, char *out)
{
	size_t i, k = 0;
	unsigned char c;
	int hi, lo;

	for (i = 0; i < n; i++) {
		c = (unsigned char)tok[i];
		if (c == '%') {
			FUZZ_ASSERT(i + 2 < n);
			hi = hexval(tok[i + 1]);
			lo = hexval(tok[i + 2]);
			FUZZ_ASSERT(hi >= 0 && lo >= 0);
			out[k++] = (char)(hi << 4 | lo);
			i += 2;
			continue;
		}
		FUZZ_ASSERT(!odd_byte(c) && c != '"' && c != '\'' &&
		    c != '\\');
		out[k++] = (char)c;
	}
	return (k);
}

/* tok[0..n) is the value v (vlen bytes) %-escaped, or "-" for none. */
static void
check_escaped(const char *tok, size_t n, const char *v, size_t vlen)
{
	char *dec;
	size_t k;

	if (v == NULL || vlen == 0) {
		FUZZ_ASSERT(n == 1 && tok[0] == '-');
		return;
	}
	dec = fuzz_alloc(n);
	k = unescape(tok, n, dec);
	FUZZ_ASSERT(k == vlen && memcmp(dec, v, vlen) == 0);
	free(dec);
}

/* tok[0..n) is exactly s (NULL: "-"). */
static void
check_exact(const char *tok, size_t n, const char *s)
{
	if (s == NULL)
		s = "-";
	FUZZ_ASSERT(n == strlen(s) && memcmp(tok, s, n) == 0);
}

/* An address (or its port) as inet_ntop() and "%u" write it, or NULL. */
static const char *
addr_text(const struct sockaddr *sa, bool port, char *buf, size_t size)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;

	if (sa == NULL || (sa->sa_family != AF_INET &&
	    sa->sa_family != AF_INET6))
		return (NULL);
	if (port) {
		snprintf(buf, size, "%u", (unsigned)ntohs(sa->sa_family ==
		    AF_INET ? sin->sin_port : sin6->sin6_port));
		return (buf);
	}
	if (inet_ntop(sa->sa_family, sa->sa_family == AF_INET ?
	    (const void *)&sin->sin_addr : (const void *)&sin6->sin6_addr,
	    buf, (socklen_t)size) == NULL)
		abort();
	return (buf);
}

/* tok[0..n) is what code w prints for r (z: where r's local() answer
 * comes from, without calling it). */
static void
check_code(const char *tok, size_t n, enum want w, const struct fz *z,
    const struct acl_request *r, const char *data)
{
	const struct sockaddr *local = NULL;
	char buf[INET6_ADDRSTRLEN + 8];

	if (r->local != NULL && z->local_known)
		local = (const struct sockaddr *)&z->local;
	switch (w) {
	case W_SRC:
	case W_SRC_PORT:
		check_exact(tok, n, addr_text(r->src, w == W_SRC_PORT, buf,
		    sizeof buf));
		break;
	case W_MYADDR:
	case W_MYPORT:
		check_exact(tok, n, addr_text(local, w == W_MYPORT, buf,
		    sizeof buf));
		break;
	case W_SRC_NAME:
		check_escaped(tok, n, r->src_name, r->src_name_len);
		break;
	case W_USER:
		check_escaped(tok, n, r->user, r->user_len);
		break;
	case W_METHOD:
		check_escaped(tok, n, r->method_name, r->method_len);
		break;
	case W_URL:
		check_escaped(tok, n, r->url, r->url_len);
		break;
	case W_HOST:
		check_escaped(tok, n, r->host, r->host_len);
		break;
	case W_PORT:
		snprintf(buf, sizeof buf, "%u", (unsigned)r->port);
		check_exact(tok, n, r->port != 0 ? buf : NULL);
		break;
	case W_PATH:
		check_escaped(tok, n, r->path, r->path_len);
		break;
	case W_PROTO:
		check_escaped(tok, n, r->proto, r->proto != NULL ?
		    strlen(r->proto) : 0);
		break;
	case W_EXT_USER:
		check_escaped(tok, n, r->ext_user, r->ext_user != NULL ?
		    strlen(r->ext_user) : 0);
		break;
	case W_EXT_TAG:
		check_escaped(tok, n, r->ext_tag, r->ext_tag != NULL ?
		    strlen(r->ext_tag) : 0);
		break;
	case W_DATA:
		check_exact(tok, n, data != NULL && *data != '\0' ? data :
		    NULL);
		break;
	case W__COUNT:
		abort();
	}
}

/* tok[0..n) is the header name (len bytes): its lines joined by ", ". */
static void
check_header(const char *tok, size_t n, const struct http_msg *m,
    const char *name, size_t len)
{
	const struct http_field *f;
	char *join;
	size_t i, j = 0, total = 0;

	for (i = 0; m != NULL && i < m->nfields; i++) {
		f = &m->fields[i];
		if (f->name.len == len && strncasecmp(http_msg_ptr(m,
		    f->name), name, len) == 0)
			total += f->value.len + 2;
	}
	join = fuzz_alloc(total);
	for (i = 0; m != NULL && i < m->nfields; i++) {
		f = &m->fields[i];
		if (f->name.len != len || strncasecmp(http_msg_ptr(m,
		    f->name), name, len) != 0)
			continue;
		if (j > 0) {
			memcpy(join + j, ", ", 2);
			j += 2;
		}
		memcpy(join + j, http_msg_ptr(m, f->value), f->value.len);
		j += f->value.len;
	}
	check_escaped(tok, n, join, j);
	free(join);
}

/* When w (len bytes) is exactly one code, tok[0..n) is what it prints. */
static void
check_word(const char *w, size_t len, const char *tok, size_t n,
    const struct fz *z, const struct acl_request *r, const char *data)
{
	static const char *const hforms[] = { "%>ha{", "%>{", "%{" };
	const char *end;
	size_t i, hl;

	for (i = 0; i < NCODES; i++)
		if (len == strlen(codes[i].name) + 1 && w[0] == '%' &&
		    memcmp(w + 1, codes[i].name, len - 1) == 0) {
			check_code(tok, n, codes[i].w, z, r, data);
			return;
		}
	for (i = 0; i < sizeof hforms / sizeof hforms[0]; i++) {
		hl = strlen(hforms[i]);
		if (len <= hl + 1 || strncmp(w, hforms[i], hl) != 0)
			continue;
		end = memchr(w + hl, '}', len - hl);
		if (end == w + len - 1)
			check_header(tok, n, r->msg, w + hl, len - hl - 1);
		return;
	}
}

/* -- a format on a request ---------------------------------------------- */

/* fmt split at its blanks: when each part compiles, the line is the
 * parts' lines with the same blanks between them; then the format knows
 * the codes of its parts, and a part that is one code prints its value.
 * big: the line, line[0..big) (or -E2BIG).  True when every part
 * compiled. */
static bool
check_parts(const struct acl_format *f, const char *fmt, const struct fz *z,
    const struct acl_request *r, const char *data, int big,
    const char *line)
{
	struct acl_format *pf[PARTS_MAX];
	const char *bad, *p, *sp;
	size_t i, np = 0, off = 0, plen;
	bool ok = true, over = false;
	char *part;
	int n;

	for (p = fmt, np = 1; (p = strchr(p, ' ')) != NULL; p++)
		np++;
	if (np > PARTS_MAX)
		return (false);
	for (p = fmt, i = 0; i < np; i++, p = sp + 1) {
		sp = strchr(p, ' ');
		if (sp == NULL)
			sp = p + strlen(p);
		part = dup_cstr(p, (size_t)(sp - p));
		pf[i] = acl_format_new(part, &bad);
		if (pf[i] == NULL)
			ok = false;
		free(part);
	}
	for (p = fmt, i = 0; ok && i < np; i++, p = sp + 1) {
		sp = strchr(p, ' ');
		if (sp == NULL)
			sp = p + strlen(p);
		plen = (size_t)(sp - p);
		n = expand_into(pf[i], r, data, part_buf, LINE_CAP);
		if (n < 0) {
			over = true;
			continue;
		}
		/* Every piece prints at least a byte ("-" for none). */
		FUZZ_ASSERT(plen == 0 || n > 0);
		check_word(p, plen, part_buf, (size_t)n, z, r, data);
		if (plen > 1 && p[0] == '%' && p[1] != '%')
			FUZZ_ASSERT(acl_format_has(f, p + 1) ||
			    !acl_format_has(pf[i], p + 1));
		if (big >= 0 && !over) {
			FUZZ_ASSERT(off + (size_t)n <= (size_t)big);
			FUZZ_ASSERT(memcmp(line + off, part_buf, (size_t)n) ==
			    0);
			off += (size_t)n;
			if (i + 1 < np) {
				FUZZ_ASSERT(line[off] == ' ');
				off++;
			}
		} else if (!over)
			off += (size_t)n + (i + 1 < np ? 1 : 0);
	}
	if (ok && big >= 0)
		FUZZ_ASSERT(!over && off == (size_t)big);
	else if (ok)
		FUZZ_ASSERT(over || off >= LINE_CAP);
	for (i = 0; i < np; i++)
		acl_format_free(&pf[i]);
	return (ok);
}

/* fmt is k > 0 words, single spaces between them, and no other byte that
 * is a control, a blank or not ASCII: k, else 0. */
static size_t
plain_words(const char *fmt)
{
	const unsigned char *s = (const unsigned char *)fmt;
	size_t k = 1;

	if (*s == '\0' || *s == ' ')
		return (0);
	for (; *s != '\0'; s++) {
		if (*s == ' ') {
			if (s[1] == ' ' || s[1] == '\0')
				return (0);
			k++;
		} else if (odd_byte(*s))
			return (0);
	}
	return (k);
}

/* f (compiled from fmt) on r with data: every check of the header. */
static void
check_line(const struct acl_format *f, const char *fmt, struct fz *z,
    const struct acl_request *r, const char *data)
{
	size_t words, i, k;
	bool parts;
	int big;

	z->local_calls = 0;
	big = expand_into(f, r, data, line_buf, LINE_CAP);
	if (z->local_calls > 0)
		FUZZ_ASSERT(acl_format_has(f, "la") || acl_format_has(f, "lp"));
	if (big >= 0)
		check_bytes(f, fmt, data, line_buf, (size_t)big);
	check_cap(f, r, data, z->small_cap, big, line_buf);
	check_cap(f, r, data, 0, big, line_buf);
	if (z->target_len + 1 < LINE_CAP)
		check_cap(f, r, data, LINE_CAP - z->target_len - 1, big,
		    line_buf);
	if (big >= 0) {
		check_cap(f, r, data, (size_t)big + 1, big, line_buf);
		if (big > 0)
			check_cap(f, r, data, (size_t)big, big, line_buf);
	}
	parts = check_parts(f, fmt, z, r, data, big, line_buf);
	words = plain_words(fmt);
	if (big < 0 || !parts || words == 0 || (data != NULL &&
	    acl_format_has(f, "DATA") && (plain_words(data) != 1 &&
	    *data != '\0')))
		return;
	/* k words in, k words out. */
	for (i = 0, k = 1; i < (size_t)big; i++) {
		FUZZ_ASSERT(!odd_byte((unsigned char)line_buf[i]) ||
		    line_buf[i] == ' ');
		if (line_buf[i] == ' ') {
			FUZZ_ASSERT(i > 0 && i + 1 < (size_t)big &&
			    line_buf[i + 1] != ' ');
			k++;
		}
	}
	FUZZ_ASSERT(big > 0 && k == words);
}

/* -- acl_format_has() --------------------------------------------------- */

/* r with what code w prints absent (set false) or "ab" (set true). */
static void
probe_set(struct acl_request *r, enum want w, bool set)
{
	const char *ab = set ? "ab" : NULL;
	size_t len = set ? 2 : 0;

	switch (w) {
	case W_SRC:
	case W_SRC_PORT:
		r->src = set ? (const struct sockaddr *)&probe_sin : NULL;
		break;
	case W_MYADDR:
	case W_MYPORT:
		r->local = set ? probe_local : NULL;
		break;
	case W_SRC_NAME:
		r->src_name = ab;
		r->src_name_len = len;
		break;
	case W_USER:
		r->user = ab;
		r->user_len = len;
		break;
	case W_METHOD:
		r->method_name = ab;
		r->method_len = len;
		break;
	case W_URL:
		r->url = ab;
		r->url_len = len;
		break;
	case W_HOST:
		r->host = ab;
		r->host_len = len;
		break;
	case W_PORT:
		r->port = set ? 10 : 0;
		break;
	case W_PATH:
		r->path = ab;
		r->path_len = len;
		break;
	case W_PROTO:
		r->proto = ab;
		break;
	case W_EXT_USER:
		r->ext_user = ab;
		break;
	case W_EXT_TAG:
		r->ext_tag = ab;
		break;
	case W_DATA:
	case W__COUNT:
		break;
	}
}

/* has() agrees across spellings, and with what changes the line: each
 * value goes from "-" to "ab" or "0.0.0.0" or "10", one byte more at
 * least for each code that prints it.  Both lines must fit. */
static void
check_has(const struct acl_format *f, const struct acl_request *r0)
{
	struct acl_request r;
	bool has[W__COUNT], seen[W__COUNT], h;
	size_t i;
	int a, b;

	memset(seen, 0, sizeof seen);
	for (i = 0; i < NCODES; i++) {
		h = acl_format_has(f, codes[i].name);
		if (seen[codes[i].w])
			FUZZ_ASSERT(h == has[codes[i].w]);
		seen[codes[i].w] = true;
		has[codes[i].w] = h;
	}
	for (i = 0; i < W__COUNT; i++) {
		r = *r0;
		probe_set(&r, (enum want)i, false);
		a = acl_format_expand(f, &r, i == W_DATA ? "" : "x",
		    line_buf, LINE_CAP);
		probe_set(&r, (enum want)i, true);
		b = acl_format_expand(f, &r, i == W_DATA ? "ab" : "x",
		    part_buf, LINE_CAP);
		if (a < 0 || b < 0)
			continue;
		if (i == W_SRC || i == W_SRC_PORT)
			h = has[W_SRC] || has[W_SRC_PORT];
		else if (i == W_MYADDR || i == W_MYPORT)
			h = has[W_MYADDR] || has[W_MYPORT];
		else
			h = has[i];
		FUZZ_ASSERT(h == (a != b));
	}
	/* Whatever the caller asks, nothing but an answer. */
	(void)acl_format_has(f, "");
	(void)acl_format_has(f, "{");
	(void)acl_format_has(f, ">ha{");
}

/* -- the input ---------------------------------------------------------- */

static void
set_addr(struct sockaddr_storage *ss, int family, const uint8_t *addr,
    const uint8_t *port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof *ss);
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		memcpy(&sin->sin_addr, addr, 4);
		memcpy(&sin->sin_port, port, 2);
	} else if (family == AF_INET6) {
		memcpy(&sin6->sin6_addr, addr, 16);
		memcpy(&sin6->sin6_port, port, 2);
	}
}

/* The next line of the input, empty when none is left. */
static void
next_line(const uint8_t **data, size_t *size, const char **s, size_t *len)
{
	if (!fuzz_line(data, size, s, len)) {
		*s = "";
		*len = 0;
	}
}

/* The view from the input after its fixed bytes h[]. */
static void
fz_build(struct fz *z, const uint8_t *h, const uint8_t *data, size_t size)
{
	struct acl_request *r = &z->r;
	struct http_url u;
	const char *s;
	size_t len;
	bool connect = (h[1] & 0x40) != 0;

	memset(r, 0, sizeof *r);
	z->small_cap = (size_t)(h[1] & 0x3f) + 1;
	set_addr(&z->src, h[2] & 0x02 ? AF_UNSPEC : h[0] & 0x40 ? AF_INET6 :
	    AF_INET, h + 7, h + 3);
	set_addr(&z->local, h[2] & 0x04 ? AF_UNSPEC : h[1] & 0x80 ?
	    AF_INET6 : AF_INET, h + 23, h + 5);
	z->local_known = (h[0] & 0x20) != 0;
	r->src = h[0] & 0x80 ? NULL : (const struct sockaddr *)&z->src;
	if (h[0] & 0x10) {
		r->local = fz_local;
		r->local_arg = z;
	}
	/* The format is the first line; fz_run() takes it. */
	next_line(&data, &size, &s, &len);
	next_line(&data, &size, &s, &len);
	z->method = fuzz_copy(s, len, false);
	r->method_name = z->method;
	r->method_len = len;
	next_line(&data, &size, &s, &len);
	z->target = fuzz_copy(s, len, false);
	z->target_len = len;
	r->url = z->target;
	r->url_len = len;
	if (http_url_parse(z->target, len, connect, &u) == 0) {
		r->host = z->target + u.host_off;
		r->host_len = u.host_len;
		r->port = u.port;
		r->path = z->target + u.path_off;
		r->path_len = u.path_len;
		r->proto = connect ? NULL : u.scheme == HTTP_SCHEME_HTTPS ?
		    "HTTPS" : (h[2] & 0x01) && u.scheme == HTTP_SCHEME_OTHER ?
		    "cache_object" : "HTTP";
	}
	next_line(&data, &size, &s, &len);
	z->user = fuzz_copy(s, len, false);
	if (h[0] & 0x01) {
		r->user = z->user;
		r->user_len = len;
	}
	next_line(&data, &size, &s, &len);
	z->ext_user = dup_cstr(s, len);
	r->ext_user = h[0] & 0x02 ? z->ext_user : NULL;
	next_line(&data, &size, &s, &len);
	z->ext_tag = dup_cstr(s, len);
	r->ext_tag = h[0] & 0x04 ? z->ext_tag : NULL;
	next_line(&data, &size, &s, &len);
	z->src_name = fuzz_copy(s, len, false);
	if (h[0] & 0x08) {
		r->src_name = z->src_name;
		r->src_name_len = len;
	}
	next_line(&data, &size, &s, &len);
	z->data = dup_cstr(s, len);
	http_msg_init(&z->m, HTTP_MSG_REQUEST);
	fuzz_fields(&z->m, data, size, NULL);
	r->msg = h[2] & 0x08 ? NULL : &z->m;
}

static void
fz_free(struct fz *z)
{
	http_msg_fini(&z->m);
	free(z->method);
	free(z->target);
	free(z->user);
	free(z->ext_user);
	free(z->ext_tag);
	free(z->src_name);
	free(z->data);
}

/* f from fmt on z's view, with each %DATA string when it has %DATA. */
static void
check_format(const struct acl_format *f, const char *fmt, struct fz *z)
{
	check_line(f, fmt, z, &z->r, z->data);
	if (!acl_format_has(f, "DATA"))
		return;
	check_line(f, fmt, z, &z->r, NOBLANK_DATA);
	check_line(f, fmt, z, &z->r, NULL);
}

/* The input's format: compiled, or refused at its first bad '%'. */
static void
check_input_format(const char *fmt, struct fz *z)
{
	struct acl_format *f, *g;
	const char *bad = fmt;
	char *head;

	f = acl_format_new(fmt, &bad);
	if (f != NULL) {
		FUZZ_ASSERT(bad == NULL);
		check_format(f, fmt, z);
		check_has(f, &z->r);
		acl_format_free(&f);
		FUZZ_ASSERT(f == NULL);
		return;
	}
	/* No memory cannot happen here. */
	FUZZ_ASSERT(bad != NULL && bad >= fmt && bad < fmt + strlen(fmt));
	FUZZ_ASSERT(*bad == '%');
	head = dup_cstr(fmt, (size_t)(bad - fmt));
	g = acl_format_new(head, &bad);
	FUZZ_ASSERT(g != NULL);
	acl_format_free(&g);
	free(head);
}

/* The input's first field's name alone, in two spellings: its own and
 * the other case, as %>{} and %>ha{}. */
static void
check_first_field(struct fz *z)
{
	const struct http_field *fl;
	const char *p;
	char *fmt;
	struct acl_format *f;
	size_t i, len;
	int n;

	if (z->m.nfields == 0)
		return;
	fl = &z->m.fields[0];
	p = http_msg_ptr(&z->m, fl->name);
	len = fl->name.len;
	fmt = fuzz_alloc(len + 8);
	memcpy(fmt, "%>ha{", 5);
	for (i = 0; i < len; i++)
		fmt[5 + i] = (char)(p[i] ^ ((p[i] | 0x20) >= 'a' &&
		    (p[i] | 0x20) <= 'z' ? 0x20 : 0));
	memcpy(fmt + 5 + len, "}", 2);
	f = compile(fmt);
	n = expand_into(f, &z->r, NULL, line_buf, LINE_CAP);
	if (n >= 0)
		check_header(line_buf, (size_t)n, z->r.msg, p, len);
	acl_format_free(&f);
	memcpy(fmt, "%>{", 3);
	memcpy(fmt + 3, p, len);
	memcpy(fmt + 3 + len, "}", 2);
	f = compile(fmt);
	check_format(f, fmt, z);
	acl_format_free(&f);
	free(fmt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z;
	const uint8_t *h = data, *rest;
	const char *s;
	char *fmt;
	size_t len, i, left;
	int n;

	if (size < HEAD_LEN)
		return (0);
	rest = data + HEAD_LEN;
	left = size - HEAD_LEN;
	next_line(&rest, &left, &s, &len);
	fmt = dup_cstr(s, len);
	memset(&z, 0, sizeof z);
	fz_build(&z, h, data + HEAD_LEN, size - HEAD_LEN);
	check_input_format(fmt, &z);
	for (i = 0; i < NSITES; i++)
		check_format(site_fmt[i], site_formats[i], &z);
	for (i = 0; i < NCODES; i++) {
		n = expand_into(code_fmt[i], &z.r, z.data, line_buf,
		    LINE_CAP);
		if (n >= 0)
			check_code(line_buf, (size_t)n, codes[i].w, &z, &z.r,
			    z.data);
	}
	for (i = 0; i < NHEADERS; i++) {
		n = expand_into(header_fmt[i], &z.r, NULL, line_buf,
		    LINE_CAP);
		if (n >= 0)
			check_header(line_buf, (size_t)n, z.r.msg,
			    header_names[i], strlen(header_names[i]));
	}
	check_first_field(&z);
	fz_free(&z);
	free(fmt);
	return (0);
}
