/*
 * secret.h - comparing secrets (passwords, digests) in time independent
 * of where they differ: the one compare proxy authentication
 * (auth_secret_equal()) and the cache manager's password use.  In base/
 * so that the manager's layer-1 code can use it too.
 */
#ifndef CUTTLE_BASE_SECRET_H
#define CUTTLE_BASE_SECRET_H

#include <stdbool.h>
#include <string.h>

/* secret_equal() - a and b (NUL-terminated) equal.  Every byte of the
 * shorter length is looked at; the length itself shows in timing
 * anyway. */
static inline bool
secret_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	volatile unsigned char d = 0;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return (d == 0 && la == lb);
}

#endif /* CUTTLE_BASE_SECRET_H */
