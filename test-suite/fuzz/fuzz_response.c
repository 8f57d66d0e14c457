/*
 * fuzz_response.c - the reply parser, fed whole and in fuzzer-chosen
 * pieces: framings (Content-Length, chunked, until close, none for HEAD),
 * 1xx before the final reply, the end of input as the origin closing.
 * Input: fuzz_parse_input() (fuzz.h).
 */
#include "config.h"

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
	fuzz_parse_input(HTTP_MSG_RESPONSE, data, size);
	return (0);
}
