/*
 * http_url.h - request targets (RFC 9112 3.2): absolute-form for proxy
 * requests, authority-form for CONNECT, origin-form and asterisk-form for
 * cuttle's own pages.
 *
 * Parsing copies nothing: the result is spans of the caller's string.
 */
#ifndef CUTTLE_HTTP_URL_H
#define CUTTLE_HTTP_URL_H

#include <stddef.h>
#include <stdint.h>

enum http_url_form {
	HTTP_URL_ABSOLUTE,	/* http://host[:port]/path?query */
	HTTP_URL_AUTHORITY,	/* host:port (CONNECT) */
	HTTP_URL_ORIGIN,	/* /path?query */
	HTTP_URL_ASTERISK	/* * (OPTIONS) */
};

enum http_url_scheme {
	HTTP_SCHEME_NONE,
	HTTP_SCHEME_HTTP,
	HTTP_SCHEME_HTTPS,
	HTTP_SCHEME_OTHER	/* a well-formed scheme cuttle does not serve */
};

struct http_url {
	uint8_t		form;		/* enum http_url_form */
	uint8_t		scheme;		/* enum http_url_scheme */
	uint8_t		host_is_ip6;	/* host is a bracketed literal */
	uint16_t	port;		/* explicit or the scheme's default */
	uint32_t	scheme_len;	/* scheme at offset 0 */
	uint32_t	host_off;	/* without brackets */
	uint32_t	host_len;
	uint32_t	path_off;	/* path and query; len 0: none given */
	uint32_t	path_len;
};

/*
 * http_url_parse() - parse target (len bytes), whose form follows from
 * its first bytes ("/" origin, "*" asterisk, "scheme://" absolute) unless
 * connect is set, which demands authority-form with a port.  Returns 0,
 * or -EINVAL for anything malformed: a bad scheme, userinfo (RFC 9110
 * 4.2.4), an empty or invalid host, a bad port, a fragment.
 */
int	http_url_parse(const char *target, size_t len, int connect,
	    struct http_url *u);

#endif /* CUTTLE_HTTP_URL_H */
