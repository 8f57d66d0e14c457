/*
 * fuzz_vary.c - http_cache_vary_key(): the input's first line is the
 * Vary value, the next lines the request's fields.  The key is computed
 * again into buffers just too small and just big enough (and a few
 * others): it either fits whole (NUL-terminated, the same bytes each
 * time) or the call says -1, and it never writes past cap.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/http_cache.h"

#define KEY_MAX	4096

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char full[KEY_MAX];
	struct http_msg m;
	const char *line;
	char *vary, *out;
	size_t len, cap, caps[6];
	unsigned i;
	int rc, rc2;

	if (!fuzz_line(&data, &size, &line, &len))
		return (0);
	vary = malloc(len > 0 ? len : 1);
	if (vary == NULL)
		abort();
	if (len > 0)
		memcpy(vary, line, len);
	http_msg_init(&m, HTTP_MSG_REQUEST);
	m.method = HTTP_M_GET;
	fuzz_fields(&m, data, size, NULL);
	rc = http_cache_vary_key(&m, vary, len, full, sizeof full);
	FUZZ_ASSERT(rc >= -1 && rc < KEY_MAX);
	if (rc >= 0) {
		FUZZ_ASSERT(full[rc] == '\0' && strlen(full) == (size_t)rc);
		/* Smaller buffers, each on the heap at its exact size. */
		caps[0] = 0;
		caps[1] = 1;
		caps[2] = (size_t)rc / 2;
		caps[3] = rc > 0 ? (size_t)rc - 1 : 0;
		caps[4] = (size_t)rc;
		caps[5] = (size_t)rc + 1;
		for (i = 0; i < 6; i++) {
			cap = caps[i];
			out = malloc(cap > 0 ? cap : 1);
			if (out == NULL)
				abort();
			rc2 = http_cache_vary_key(&m, vary, len, out, cap);
			if (cap <= (size_t)rc)
				FUZZ_ASSERT(rc2 == -1);
			else
				FUZZ_ASSERT(rc2 == rc &&
				    memcmp(out, full, (size_t)rc + 1) == 0);
			free(out);
		}
	}
	http_msg_fini(&m);
	free(vary);
	return (0);
}
