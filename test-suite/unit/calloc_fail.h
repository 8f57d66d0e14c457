/*
 * calloc_fail.h - make the code under test's calloc() fail on demand, to
 * reach its out-of-memory paths.  The test program is linked with
 * -Wl,--wrap=calloc (test-suite/Makefile.am), so every calloc() of the
 * objects it links goes through __wrap_calloc(): while calloc_fails is
 * set it fails with ENOMEM, else it is the real one.
 */
#ifndef CUTTLE_TEST_CALLOC_FAIL_H
#define CUTTLE_TEST_CALLOC_FAIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

static bool calloc_fails;
void	*__real_calloc(size_t n, size_t size);
void	*__wrap_calloc(size_t n, size_t size);

void *
__wrap_calloc(size_t n, size_t size)
{
	if (calloc_fails) {
		errno = ENOMEM;
		return (NULL);
	}
	return (__real_calloc(n, size));
}

#endif /* CUTTLE_TEST_CALLOC_FAIL_H */
