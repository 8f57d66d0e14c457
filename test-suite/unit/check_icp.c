/*
 * check_icp.c - the ICP codec (RFC 2186, version 2): what Squid sends
 * decodes, what cuttle encodes decodes back, and every malformed
 * datagram is refused with its reason, never read past its end.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "icp/icp.h"

/* A query as Squid 5 sends it: opcode 1, version 2, length 46, request
 * number 0x01020304, no options, sender 0, requester 0, the URL. */
static const unsigned char squid_query[] = {
	1, 2, 0, 46, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0,
	'h', 't', 't', 'p', ':', '/', '/', 'o', '.', 't', 'e', 's', 't',
	'/', 'a', '/', 'b', '?', 'c', '=', '1', 0
};

START_TEST(squid_query_decodes)
{
	struct icp_msg m;

	ck_assert_int_eq(icp_decode(squid_query, sizeof squid_query,
	    sizeof squid_query, &m), ICP_BAD_NONE);
	ck_assert_uint_eq(m.opcode, ICP_OP_QUERY);
	ck_assert_uint_eq(m.reqnum, 0x01020304);
	ck_assert_uint_eq(m.url_len, 21);
	ck_assert_str_eq(m.url, "http://o.test/a/b?c=1");
}
END_TEST

START_TEST(encode_decode_round_trip)
{
	unsigned char buf[ICP_MAX_LEN];
	static const enum icp_opcode ops[] = { ICP_OP_QUERY, ICP_OP_HIT,
	    ICP_OP_MISS, ICP_OP_MISS_NOFETCH, ICP_OP_DENIED, ICP_OP_ERR };
	struct icp_msg m;
	size_t i, n;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		n = icp_encode(buf, sizeof buf, ops[i], 77 + (uint32_t)i, 0,
		    "http://x/", 9);
		ck_assert_uint_eq(n, ICP_HDR_LEN + 10 +
		    (ops[i] == ICP_OP_QUERY ? 4 : 0));
		ck_assert_int_eq(icp_decode(buf, n, n, &m), ICP_BAD_NONE);
		ck_assert_uint_eq(m.opcode, ops[i]);
		ck_assert_uint_eq(m.reqnum, 77 + i);
		ck_assert_str_eq(m.url, "http://x/");
	}
	/* Does not fit: nothing written. */
	ck_assert_uint_eq(icp_encode(buf, 20, ICP_OP_HIT, 1, 0, "http://x/",
	    9), 0);
}
END_TEST

/* Each bad datagram in a buffer of its own size, so that a read past
 * its end is a read past the allocation (ASan, valgrind). */
static enum icp_bad
decode_exact(const unsigned char *p, size_t len, size_t full)
{
	unsigned char *copy = malloc(len > 0 ? len : 1);
	struct icp_msg m;
	enum icp_bad b;

	memcpy(copy, p, len);
	b = icp_decode(copy, len, full, &m);
	free(copy);
	return (b);
}

START_TEST(short_datagram_is_refused)
{
	size_t n;

	for (n = 0; n < ICP_HDR_LEN; n++)
		ck_assert_int_eq(decode_exact(squid_query, n, n),
		    ICP_BAD_SHORT);
}
END_TEST

START_TEST(datagram_cut_by_the_socket_is_refused)
{
	ck_assert_int_eq(decode_exact(squid_query, sizeof squid_query,
	    sizeof squid_query + 100), ICP_BAD_CUT);
}
END_TEST

START_TEST(length_field_that_lies_is_refused)
{
	unsigned char q[sizeof squid_query];

	memcpy(q, squid_query, sizeof q);
	q[3] = 200;		/* says 200 bytes, has 46 */
	ck_assert_int_eq(decode_exact(q, sizeof q, sizeof q), ICP_BAD_LENGTH);
	q[3] = 30;		/* says fewer than it has */
	ck_assert_int_eq(decode_exact(q, sizeof q, sizeof q), ICP_BAD_LENGTH);
}
END_TEST

START_TEST(other_versions_are_refused)
{
	unsigned char q[sizeof squid_query];

	memcpy(q, squid_query, sizeof q);
	q[1] = 3;
	ck_assert_int_eq(decode_exact(q, sizeof q, sizeof q), ICP_BAD_VERSION);
}
END_TEST

START_TEST(unknown_opcode_is_refused)
{
	unsigned char q[sizeof squid_query];
	static const unsigned char bad[] = { 0, 5, 9, 12, 20, 24, 200, 255 };
	size_t i;

	memcpy(q, squid_query, sizeof q);
	for (i = 0; i < sizeof bad; i++) {
		q[0] = bad[i];
		ck_assert_int_eq(decode_exact(q, sizeof q, sizeof q),
		    ICP_BAD_OPCODE);
	}
}
END_TEST

START_TEST(unterminated_or_missing_url_is_refused)
{
	unsigned char q[sizeof squid_query];

	memcpy(q, squid_query, sizeof q);
	q[sizeof q - 1] = 'x';		/* no NUL */
	ck_assert_int_eq(decode_exact(q, sizeof q, sizeof q), ICP_BAD_URL);
	/* A query with the header and part of the requester address. */
	q[3] = 22;
	ck_assert_int_eq(decode_exact(q, 22, 22), ICP_BAD_URL);
	/* A reply with no payload at all, and one with an empty URL. */
	q[0] = ICP_OP_HIT;
	q[3] = 20;
	ck_assert_int_eq(decode_exact(q, 20, 20), ICP_BAD_URL);
	q[3] = 21;
	q[20] = 0;
	ck_assert_int_eq(decode_exact(q, 21, 21), ICP_BAD_URL);
}
END_TEST

START_TEST(huge_url_is_refused)
{
	size_t n = ICP_HDR_LEN + 4 + ICP_MAX_URL + 2;
	unsigned char *q = calloc(1, n);

	memcpy(q, squid_query, ICP_HDR_LEN + 4);
	q[2] = (unsigned char)(n >> 8);
	q[3] = (unsigned char)n;
	memset(q + ICP_HDR_LEN + 4, 'a', ICP_MAX_URL + 1);
	q[n - 1] = 0;
	ck_assert_int_eq(decode_exact(q, n, n), ICP_BAD_URL);
	free(q);
}
END_TEST

START_TEST(random_bytes_never_crash)
{
	unsigned char buf[128];
	struct icp_msg m;
	unsigned seed = 20, i, j;
	enum icp_bad b;

	for (i = 0; i < 200000; i++) {
		size_t n = (size_t)(rand_r(&seed) % sizeof buf);

		for (j = 0; j < n; j++)
			buf[j] = (unsigned char)rand_r(&seed);
		if (n >= 4 && (i & 1)) {	/* often a length that agrees */
			buf[1] = 2;
			buf[2] = 0;
			buf[3] = (unsigned char)n;
		}
		b = icp_decode(buf, n, n, &m);
		if (b == ICP_BAD_NONE)
			ck_assert(m.url + m.url_len < (char *)buf + n);
	}
}
END_TEST

static Suite *
icp_suite(void)
{
	Suite *s = suite_create("icp");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, squid_query_decodes);
	tcase_add_test(tc, encode_decode_round_trip);
	tcase_add_test(tc, short_datagram_is_refused);
	tcase_add_test(tc, datagram_cut_by_the_socket_is_refused);
	tcase_add_test(tc, length_field_that_lies_is_refused);
	tcase_add_test(tc, other_versions_are_refused);
	tcase_add_test(tc, unknown_opcode_is_refused);
	tcase_add_test(tc, unterminated_or_missing_url_is_refused);
	tcase_add_test(tc, huge_url_is_refused);
	tcase_add_test(tc, random_bytes_never_crash);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(icp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
