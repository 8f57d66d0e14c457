/*
 * http_hdr.c - lookup of known header names and methods.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "base/check.h"
#include "http/http_hdr.h"

static const struct {
	const char	*name;
	unsigned	len;
	unsigned	flags;
} http_hdr_tbl[HTTP_HDR__COUNT] = {
	[HTTP_HDR_OTHER] = { "", 0, 0 },
#define HTTP_HDR(sym, name, flags)					\
	[HTTP_HDR_##sym] = { name, sizeof(name) - 1, flags },
#include "http/http_hdr_tbl.h"
#undef HTTP_HDR
};

static const struct {
	const char	*name;
	unsigned	len;
	unsigned	flags;
} http_method_tbl[HTTP_M__COUNT] = {
	[HTTP_M_OTHER] = { "", 0, 0 },
#define HTTP_METHOD(sym, name, flags)					\
	[HTTP_M_##sym] = { name, sizeof(name) - 1, flags },
#include "http/http_method_tbl.h"
#undef HTTP_METHOD
};

/* Compare a counted name with a table name, case-insensitively, in the
 * table's sort order. */
static int
hdr_cmp(const char *name, size_t len, const char *tname, size_t tlen)
{
	size_t n = len < tlen ? len : tlen;
	int r = strncasecmp(name, tname, n);

	if (r != 0)
		return (r);
	return (len < tlen ? -1 : len > tlen);
}

enum http_hdr_id
http_hdr_lookup(const char *name, size_t len)
{
	unsigned lo = 1, hi = HTTP_HDR__COUNT, mid;
	int r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = hdr_cmp(name, len, http_hdr_tbl[mid].name,
		    http_hdr_tbl[mid].len);
		if (r == 0)
			return ((enum http_hdr_id)mid);
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (HTTP_HDR_OTHER);
}

const char *
http_hdr_name(enum http_hdr_id id)
{
	CHECK(id < HTTP_HDR__COUNT);
	return (http_hdr_tbl[id].name);
}

unsigned
http_hdr_flags(enum http_hdr_id id)
{
	CHECK(id < HTTP_HDR__COUNT);
	return (http_hdr_tbl[id].flags);
}

enum http_method
http_method_lookup(const char *name, size_t len)
{
	unsigned i;

	for (i = 1; i < HTTP_M__COUNT; i++)
		if (http_method_tbl[i].len == len &&
		    memcmp(http_method_tbl[i].name, name, len) == 0)
			return ((enum http_method)i);
	return (HTTP_M_OTHER);
}

const char *
http_method_name(enum http_method m)
{
	CHECK(m < HTTP_M__COUNT);
	return (http_method_tbl[m].name);
}

unsigned
http_method_flags(enum http_method m)
{
	CHECK(m < HTTP_M__COUNT);
	return (http_method_tbl[m].flags);
}

bool
http_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return (true);
	return (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}
