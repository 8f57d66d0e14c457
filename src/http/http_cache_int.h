/*
 * http_cache_int.h - what http_cache.c and http_cache_cond.c share: small
 * field-reading helpers.  Not for other modules.
 */
#ifndef CUTTLE_HTTP_CACHE_INT_H
#define CUTTLE_HTTP_CACHE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http_cache.h"
#include "http/http_msg.h"

static inline bool
hc_ows(char c)
{
	return (c == ' ' || c == '\t');
}

/* The first line of a known field, or NULL (len 0). */
static inline const char *
hc_value(const struct http_msg *m, enum http_hdr_id id, size_t *len)
{
	const struct http_field *f = http_msg_field(m, id);

	if (f == NULL) {
		*len = 0;
		return (NULL);
	}
	*len = f->value.len;
	return (http_msg_ptr(m, f->value));
}

/* The date in the first line of a known field; -1 if none or invalid. */
static inline int64_t
hc_date(const struct http_msg *m, enum http_hdr_id id)
{
	size_t len;
	const char *v = hc_value(m, id, &len);

	return (v == NULL ? -1 : (int64_t)http_date_parse(v, len));
}

#endif /* CUTTLE_HTTP_CACHE_INT_H */
