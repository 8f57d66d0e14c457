/*
 * fuzz_url.c - http_url_parse(): request targets in every form.
 *	byte 0	0x01: the target of a CONNECT (authority-form demanded)
 * then the target.  Spans must lie inside it, and what parses must parse
 * the same again when rebuilt from its pieces.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/http_url.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_url u, v;
	char *t, *re;
	int connect, rc, n;

	if (size < 1)
		return (0);
	connect = data[0] & 0x01;
	data++;
	size--;
	/* A copy exactly the input's size: a read past it is caught. */
	t = malloc(size > 0 ? size : 1);
	if (t == NULL)
		abort();
	if (size > 0)
		memcpy(t, data, size);
	rc = http_url_parse(t, size, connect, &u);
	FUZZ_ASSERT(rc == 0 || rc < 0);
	if (rc != 0) {
		free(t);
		return (0);
	}
	FUZZ_ASSERT(u.form <= HTTP_URL_ASTERISK);
	FUZZ_ASSERT(u.scheme <= HTTP_SCHEME_OTHER);
	FUZZ_ASSERT(!connect || u.form == HTTP_URL_AUTHORITY);
	FUZZ_ASSERT(u.scheme_len <= size);
	FUZZ_ASSERT(u.host_off <= size && u.host_len <= size - u.host_off);
	FUZZ_ASSERT(u.path_off <= size && u.path_len <= size - u.path_off);
	if (u.form == HTTP_URL_ABSOLUTE || u.form == HTTP_URL_AUTHORITY)
		FUZZ_ASSERT(u.host_len > 0);
	if (u.form == HTTP_URL_ABSOLUTE && u.scheme != HTTP_SCHEME_OTHER) {
		/* scheme://host:port + path: the same host, port and path. */
		n = asprintf(&re, "%.*s://%s%.*s%s:%u%.*s", (int)u.scheme_len,
		    t, u.host_is_ip6 ? "[" : "", (int)u.host_len,
		    t + u.host_off, u.host_is_ip6 ? "]" : "", u.port,
		    (int)u.path_len, t + u.path_off);
		if (n < 0)
			abort();
		rc = http_url_parse(re, (size_t)n, 0, &v);
		FUZZ_ASSERT(rc == 0);
		FUZZ_ASSERT(v.scheme == u.scheme && v.port == u.port &&
		    v.host_len == u.host_len && v.path_len == u.path_len &&
		    v.host_is_ip6 == u.host_is_ip6);
		FUZZ_ASSERT(memcmp(re + v.host_off, t + u.host_off,
		    u.host_len) == 0);
		free(re);
	}
	free(t);
	return (0);
}
