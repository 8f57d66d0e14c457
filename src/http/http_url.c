/*
 * http_url.c - request-target parsing (RFC 9112 3.2, RFC 3986 3).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "base/check.h"
#include "http/http_url.h"

/* RFC 3986 unreserved / sub-delims, the characters of a reg-name besides
 * pct-encoded ones. */
static int
url_is_regname_char(unsigned char c)
{
	return (isalnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=", c)));
}

/* RFC 3986 pchar plus "/" and "?": what a path and query may hold. */
static int
url_is_path_char(unsigned char c)
{
	return (isalnum(c) || (c != '\0' &&
	    strchr("-._~!$&'()*+,;=:@/?%", c)));
}

static int
url_check_pct(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '%' && (i + 2 >= len ||
		    !isxdigit((unsigned char)s[i + 1]) ||
		    !isxdigit((unsigned char)s[i + 2])))
			return (-EINVAL);
	return (0);
}

/* authority = host [ ":" port ], starting at s[off], ending at end. */
static int
url_parse_authority(const char *s, uint32_t off, uint32_t end,
    int need_port, struct http_url *u)
{
	char ip6[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	uint32_t i, host_end;
	unsigned long port = 0;

	if (memchr(s + off, '@', end - off) != NULL)
		return (-EINVAL);	/* userinfo */
	if (off < end && s[off] == '[') {
		/* Only what an IPv6 address is written with: a NUL would
		 * end the copy inet_pton() reads and hide what follows. */
		for (i = off + 1; i < end && s[i] != ']'; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' &&
			    s[i] != '.')
				return (-EINVAL);
		if (i == end || i - off - 1 == 0 ||
		    i - off - 1 >= sizeof ip6)
			return (-EINVAL);
		memcpy(ip6, s + off + 1, i - off - 1);
		ip6[i - off - 1] = '\0';
		if (inet_pton(AF_INET6, ip6, &a6) != 1)
			return (-EINVAL);
		u->host_is_ip6 = 1;
		u->host_off = off + 1;
		u->host_len = i - off - 1;
		host_end = i + 1;
		if (host_end < end && s[host_end] != ':')
			return (-EINVAL);
	} else {
		for (i = off; i < end && s[i] != ':'; i++)
			if (!url_is_regname_char((unsigned char)s[i]) &&
			    s[i] != '%')
				return (-EINVAL);
		if (i == off)
			return (-EINVAL);	/* empty host */
		if (url_check_pct(s + off, i - off) != 0)
			return (-EINVAL);
		u->host_off = off;
		u->host_len = i - off;
		host_end = i;
	}
	if (host_end < end) {		/* ":" port, possibly empty */
		for (i = host_end + 1; i < end; i++) {
			if (!isdigit((unsigned char)s[i]))
				return (-EINVAL);
			port = port * 10 + (unsigned long)(s[i] - '0');
			if (port > 65535)
				return (-EINVAL);
		}
		if (i > host_end + 1 && port == 0)
			return (-EINVAL);
		if (port != 0)
			u->port = (uint16_t)port;
	}
	if (need_port && port == 0)
		return (-EINVAL);
	return (0);
}

static int
url_parse_path(const char *s, uint32_t off, uint32_t end, struct http_url *u)
{
	uint32_t i;

	for (i = off; i < end; i++)
		if (!url_is_path_char((unsigned char)s[i]))
			return (-EINVAL);	/* "#" included: no fragments */
	if (url_check_pct(s + off, end - off) != 0)
		return (-EINVAL);
	u->path_off = off;
	u->path_len = end - off;
	return (0);
}

int
http_url_parse(const char *s, size_t len, int connect, struct http_url *u)
{
	uint32_t i, auth, end;

	memset(u, 0, sizeof *u);
	if (len == 0 || len > UINT32_MAX / 2)
		return (-EINVAL);
	end = (uint32_t)len;
	if (connect) {
		u->form = HTTP_URL_AUTHORITY;
		return (url_parse_authority(s, 0, end, 1, u));
	}
	if (s[0] == '/') {
		u->form = HTTP_URL_ORIGIN;
		return (url_parse_path(s, 0, end, u));
	}
	if (len == 1 && s[0] == '*') {
		u->form = HTTP_URL_ASTERISK;
		return (0);
	}
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) "://" */
	if (!isalpha((unsigned char)s[0]))
		return (-EINVAL);
	for (i = 1; i < end && s[i] != ':'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' &&
		    s[i] != '-' && s[i] != '.')
			return (-EINVAL);
	if (end - i < 3 || memcmp(s + i, "://", 3) != 0)
		return (-EINVAL);
	u->form = HTTP_URL_ABSOLUTE;
	u->scheme_len = i;
	if (i == 4 && strncasecmp(s, "http", 4) == 0) {
		u->scheme = HTTP_SCHEME_HTTP;
		u->port = 80;
	} else if (i == 5 && strncasecmp(s, "https", 5) == 0) {
		u->scheme = HTTP_SCHEME_HTTPS;
		u->port = 443;
	} else
		u->scheme = HTTP_SCHEME_OTHER;
	auth = i + 3;
	for (i = auth; i < end && s[i] != '/' && s[i] != '?'; i++)
		continue;
	if (url_parse_authority(s, auth, i, 0, u) != 0)
		return (-EINVAL);
	return (url_parse_path(s, i, end, u));
}
