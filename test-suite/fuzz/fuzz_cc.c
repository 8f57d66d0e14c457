/*
 * fuzz_cc.c - http_cc_parse(): the input's lines ("name: value", so
 * Cache-Control and Pragma lines, several of each) as the fields of a
 * request and of a reply.  Every delta-seconds comes out -1 or within
 * 0..2^31 (RFC 9111 1.2.2), and no flag outside HCC_* is set.
 */
#include "config.h"

#include "fuzz.h"
#include "http/http_cache.h"

#define HCC_ALL	0x1fffu

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return (0);
}

static void
delta_ok(int64_t v)
{
	FUZZ_ASSERT(v == -1 || (v >= 0 && v <= INT64_C(2147483648)));
}

static void
one(enum http_msg_kind kind, const uint8_t *data, size_t size)
{
	struct http_msg m;
	struct http_cc cc;

	http_msg_init(&m, kind);
	fuzz_fields(&m, data, size, NULL);
	http_cc_parse(&m, &cc);
	FUZZ_ASSERT((cc.flags & ~HCC_ALL) == 0);
	delta_ok(cc.max_age);
	delta_ok(cc.s_maxage);
	delta_ok(cc.max_stale);
	delta_ok(cc.min_fresh);
	delta_ok(cc.stale_while_revalidate);
	delta_ok(cc.stale_if_error);
	http_msg_fini(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(HTTP_MSG_REQUEST, data, size);
	one(HTTP_MSG_RESPONSE, data, size);
	return (0);
}
