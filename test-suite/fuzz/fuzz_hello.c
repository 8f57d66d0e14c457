/*
 * fuzz_hello.c - tls_hello_parse(): what a client sends after CONNECT on
 * an ssl-bump port (ssl_bump's step 2).
 *	byte 0	how many bytes of records may be looked at: (b + 1) * 256
 * then the bytes.  Every answer is one of the statuses; MORE asks for
 * more than there is and no more than the limit; what parses names a
 * host that tls_name_ok() accepts, and took no more bytes than given.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tls/tls_hello.h"
#include "tls/tls_mint.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum tls_hello_status st;
	struct tls_hello h;
	const char *why;
	uint8_t *p;
	size_t max, need = 0;

	if (size < 1)
		return (0);
	max = ((size_t)data[0] + 1) * 256;
	data++;
	size--;
	/* A copy exactly the input's size: a read past it is caught. */
	p = malloc(size > 0 ? size : 1);
	if (p == NULL)
		abort();
	if (size > 0)
		memcpy(p, data, size);
	st = tls_hello_parse(p, size, max, &h, &need, &why);
	switch (st) {
	case TLS_HELLO_OK:
		FUZZ_ASSERT(h.len <= size && h.len <= max);
		FUZZ_ASSERT(h.sni[0] == '\0' ||
		    tls_name_ok(h.sni, strlen(h.sni), false));
		break;
	case TLS_HELLO_MORE:
		FUZZ_ASSERT(need > size && need <= max);
		break;
	case TLS_HELLO_NOT_TLS:
	case TLS_HELLO_BAD:
		FUZZ_ASSERT(why != NULL);
		break;
	case TLS_HELLO_TOO_BIG:
		break;
	default:
		FUZZ_ASSERT(0);
	}
	free(p);
	return (0);
}
