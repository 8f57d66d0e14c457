/*
 * fuzz_conf.c - the configuration parser: conf_load_string() on the
 * input (up to its first NUL), then conf_finish() for the defaults of
 * what it left out, then conf_free().  Leaks count as crashes.
 *
 * `include` is defused ("include" becomes "xnclude", an unknown
 * directive): it globs and reads files, and a fuzzer would soon find
 * a pattern matching every device or one that includes itself sixteen
 * levels deep through the corpus directory.  Its own code is the glob
 * loop, which check_conf.c covers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c;
	char *text, *p;
	int errors;

	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (p = text; (p = strstr(p, "include")) != NULL; p++)
		*p = 'x';
	c = conf_new();
	if (c == NULL)
		abort();
	errors = conf_load_string(c, "fuzz.conf", text);
	FUZZ_ASSERT(errors >= 0);
	/* A configuration with errors is refused at start-up, but
	 * conf_finish() must not trip on what the parser kept. */
	errors = conf_finish(c);
	FUZZ_ASSERT(errors >= 0);
	FUZZ_ASSERT(c->nports > 0);
	conf_free(&c);
	FUZZ_ASSERT(c == NULL);
	free(text);
	return (0);
}
