/*
 * http_hdr.h - header field names and request methods cuttle knows.
 */
#ifndef CUTTLE_HTTP_HDR_H
#define CUTTLE_HTTP_HDR_H

#include <stdbool.h>
#include <stddef.h>

#define HH_HOP		0x1u	/* hop-by-hop: never forwarded */
#define HH_LIST		0x2u	/* comma-separated list */
#define HH_ONE		0x4u	/* at most one line */

enum http_hdr_id {
	HTTP_HDR_OTHER = 0,
#define HTTP_HDR(sym, name, flags)	HTTP_HDR_##sym,
#include "http/http_hdr_tbl.h"
#undef HTTP_HDR
	HTTP_HDR__COUNT
};

/* http_hdr_lookup() - the id of a field name (any case), or OTHER. */
enum http_hdr_id	http_hdr_lookup(const char *name, size_t len);
const char		*http_hdr_name(enum http_hdr_id id);
unsigned		http_hdr_flags(enum http_hdr_id id);

#define HM_SAFE		0x1u
#define HM_IDEMPOTENT	0x2u
#define HM_UNSAFE_INV	0x4u

enum http_method {
	HTTP_M_OTHER = 0,	/* a valid extension method */
#define HTTP_METHOD(sym, name, flags)	HTTP_M_##sym,
#include "http/http_method_tbl.h"
#undef HTTP_METHOD
	HTTP_M__COUNT
};

/* http_method_lookup() - methods are case-sensitive (RFC 9110 9.1). */
enum http_method	http_method_lookup(const char *name, size_t len);
const char		*http_method_name(enum http_method m);
unsigned		http_method_flags(enum http_method m);

/* http_is_tchar() - RFC 9110 5.6.2 token characters. */
bool	http_is_tchar(unsigned char c);

#endif /* CUTTLE_HTTP_HDR_H */
