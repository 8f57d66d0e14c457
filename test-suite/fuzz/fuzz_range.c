/*
 * fuzz_range.c - http_range_parse() for a GET whose fields are the
 * input's lines after the first, which is the representation's length
 * (decimal).  A satisfiable range lies inside the representation.
 */
#include "config.h"

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
	struct http_range r;
	struct http_msg m;
	const char *line;
	size_t len;
	uint64_t rlen;
	int rc;

	if (!fuzz_line(&data, &size, &line, &len))
		return (0);
	rlen = (uint64_t)fuzz_number(&line, &len, INT64_MAX);
	http_msg_init(&m, HTTP_MSG_REQUEST);
	m.method = HTTP_M_GET;
	fuzz_fields(&m, data, size, NULL);
	rc = http_range_parse(&m, rlen, &r);
	FUZZ_ASSERT(rc >= -1 && rc <= 1);
	if (rc == 1)
		FUZZ_ASSERT(r.first <= r.last && r.last < rlen);
	http_msg_fini(&m);
	return (0);
}
