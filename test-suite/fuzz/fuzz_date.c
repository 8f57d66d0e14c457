/*
 * fuzz_date.c - http_date_parse() on the input.  A date it accepts is
 * written back as an IMF-fixdate (RFC 9110 5.6.7) and must parse to the
 * same time.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "http/http_cache.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, imf[64];
	struct tm tm;
	time_t t, t2;
	size_t n;

	s = malloc(size > 0 ? size : 1);
	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	t = http_date_parse(s, size);
	free(s);
	FUZZ_ASSERT(t >= -1);
	if (t == -1)
		return (0);
	FUZZ_ASSERT(gmtime_r(&t, &tm) != NULL);
	/* Years before 1000 and after 9999 have no 4-digit form. */
	if (tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999)
		return (0);
	n = strftime(imf, sizeof imf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	FUZZ_ASSERT(n > 0);
	t2 = http_date_parse(imf, n);
	FUZZ_ASSERT(t2 == t);
	return (0);
}
