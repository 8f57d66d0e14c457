/*
 * fuzz_chunked.c - the chunked decoder, through the parser: every input
 * is the body of a chunked request and of a chunked reply, after a fixed
 * header section, so that the fuzzer spends its time on chunk sizes,
 * extensions, CRLFs and trailers.
 *	byte 0	flags: 0x01 the reply's peer closes after the input
 *	byte 1	n: the low 4 bits are how many split sizes follow
 *	n bytes	piece sizes
 * then the chunked body (and whatever follows it: the next message).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static const char req_head[] = "POST http://e/ HTTP/1.1\r\nHost: e\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";
static const char rep_head[] = "HTTP/1.1 200 OK\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return (0);
}

static void
one(enum http_msg_kind kind, const char *head, size_t hlen, int eof,
    const uint8_t *splits, size_t nsplits, const uint8_t *body, size_t len)
{
	struct fuzz_msg_opts o;
	uint8_t *in;

	in = malloc(hlen + len);
	if (in == NULL)
		abort();
	memcpy(in, head, hlen);
	if (len > 0)
		memcpy(in + hlen, body, len);
	memset(&o, 0, sizeof o);
	o.kind = kind;
	o.max_header = 4096;
	o.eof = eof;
	o.splits = splits;
	o.nsplits = nsplits;
	fuzz_parse(&o, in, hlen + len);
	free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;
	int eof;

	if (size < 2)
		return (0);
	eof = data[0] & 0x01;
	n = data[1] & 0x0f;
	data += 2;
	size -= 2;
	if (n > size)
		n = size;
	one(HTTP_MSG_REQUEST, req_head, sizeof req_head - 1, 0, data, n,
	    data + n, size - n);
	one(HTTP_MSG_RESPONSE, rep_head, sizeof rep_head - 1, eof, data, n,
	    data + n, size - n);
	return (0);
}
