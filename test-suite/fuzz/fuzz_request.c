/*
 * fuzz_request.c - the request parser (http_msg.c over llhttp), fed whole
 * and in fuzzer-chosen pieces; pipelined requests, the request target
 * through http_url_parse(), and the header table's invariants.
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
	fuzz_parse_input(HTTP_MSG_REQUEST, data, size);
	return (0);
}
