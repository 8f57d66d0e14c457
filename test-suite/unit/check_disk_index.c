/*
 * check_disk_index.c - the disk store's bytes (src/disk/disk_format.c)
 * and its index (src/disk/disk_index.c): round trips, every bit flip and
 * every truncation of a record refused, lengths from disk never trusted
 * (the buffers are exactly as long as said, so ASan sees an overrun), and
 * the index's order, tombstones, reclaim and size.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "disk/disk_format.h"
#include "disk/disk_index.h"

static struct disk_sb
sb_make(void)
{
	struct disk_sb sb;

	memset(&sb, 0, sizeof sb);
	sb.version = DISK_FORMAT_VERSION;
	sb.region_size = 64 * 1024;
	sb.nregions = 8;
	sb.created = 1700000000;
	memset(sb.id, 0xa5, sizeof sb.id);
	return (sb);
}

START_TEST(superblock_round_trip_and_every_flip_refused)
{
	struct disk_sb sb = sb_make(), got;
	uint8_t b[DISK_SB_LEN];
	unsigned i, bit;

	disk_sb_encode(&sb, b);
	ck_assert_int_eq(disk_sb_decode(&got, b, sizeof b), DISK_FMT_OK);
	ck_assert_uint_eq(got.region_size, sb.region_size);
	ck_assert_uint_eq(got.nregions, sb.nregions);
	ck_assert_mem_eq(got.id, sb.id, DISK_ID_LEN);
	for (i = 0; i < sizeof b; i++)
		for (bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			ck_assert_int_ne(disk_sb_decode(&got, b, sizeof b),
			    DISK_FMT_OK);
			b[i] ^= (uint8_t)(1u << bit);
		}
	for (i = 0; i < sizeof b; i++)
		ck_assert_int_eq(disk_sb_decode(&got, b, i), DISK_FMT_SHORT);
}
END_TEST

static uint32_t
make_rec(uint8_t **out, const struct disk_sb *sb, enum disk_rec_kind kind,
    uint32_t nchunks)
{
	static const char url[] = "http://example.test/a";
	static const char hdrs[] = "HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
	struct disk_chunk_ref map[3];
	uint8_t body[333];
	struct disk_rec r;
	unsigned i;

	for (i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)(i * 7);
	memset(&r, 0, sizeof r);
	r.kind = kind;
	r.seq = 1000;
	memset(r.key, 0x42, sizeof r.key);
	r.store_tag = disk_sb_store_tag(sb);
	if (kind != DISK_REC_CHUNK) {
		r.url_len = sizeof url - 1;
	}
	if (kind == DISK_REC_HEAD) {
		r.hdr_len = sizeof hdrs - 1;
		r.object_size = sizeof body;
		if (nchunks > 0) {
			r.flags = DISK_RECF_CHUNKED;
			r.nchunks = nchunks;
			for (i = 0; i < nchunks; i++) {
				map[i].region = i;
				map[i].offset = 64 + 16 * i;
				map[i].body_len = 111;
				map[i].rec_len = disk_rec_len(0, 0, 0, 111);
				map[i].seq = 10 + i;
			}
		} else
			r.body_len = sizeof body;
	} else if (kind == DISK_REC_CHUNK) {
		r.body_len = sizeof body;
		r.object_size = 1000;
	}
	r.rec_len = disk_rec_len(r.url_len, r.hdr_len,
	    r.flags ? r.nchunks : 0, r.body_len);
	*out = malloc(r.rec_len);
	ck_assert_ptr_nonnull(*out);
	disk_rec_encode(&r, url, hdrs, map, body, *out);
	return (r.rec_len);
}

START_TEST(records_round_trip_and_any_damage_is_refused)
{
	static const enum disk_rec_kind kinds[] = {
		DISK_REC_HEAD, DISK_REC_HEAD, DISK_REC_CHUNK, DISK_REC_TOMB
	};
	struct disk_sb sb = sb_make();
	struct disk_chunk_ref c;
	uint32_t tag = disk_sb_store_tag(&sb), len, i, bit, k, end;
	struct disk_rec r;
	uint8_t *b, *t;

	for (k = 0; k < 4; k++) {
		len = make_rec(&b, &sb, kinds[k], k == 1 ? 3 : 0);
		ck_assert_uint_eq(len % DISK_ALIGN, 0);
		ck_assert_int_eq(disk_rec_decode_header(&r, b, len, tag),
		    DISK_FMT_OK);
		ck_assert_uint_eq(r.rec_len, len);
		ck_assert_int_eq(disk_rec_verify(&r, b), DISK_FMT_OK);
		/* Where the checksum ends: the padding after it is not
		 * covered. */
		end = DISK_REC_HDR_LEN + r.url_len + r.hdr_len + r.body_len +
		    (k == 1 ? 3 * DISK_CHUNK_REF_LEN : 0) + DISK_REC_SUM_LEN;
		ck_assert_uint_eq(len, (end + 15) / 16 * 16);
		if (k == 0) {
			ck_assert_mem_eq(disk_rec_url(&r, b),
			    "http://example.test/a", r.url_len);
			ck_assert_uint_eq(disk_rec_body(&r, b)[5], 35);
		}
		if (k == 1) {
			ck_assert_int_eq(disk_rec_chunk_ref(&r, b, 2, &sb, &c),
			    DISK_FMT_OK);
			ck_assert_uint_eq(c.region, 2);
			ck_assert_uint_eq(c.seq, 12);
		}
		ck_assert_int_eq(disk_rec_decode_header(&r, b, len, tag + 1),
		    DISK_FMT_FOREIGN);
		/* Cut anywhere: refused, and only the bytes given read
		 * (t is exactly i bytes long). */
		for (i = 0; i < len; i++) {
			t = malloc(i + 1);
			memcpy(t, b, i);
			ck_assert_int_ne(disk_rec_decode_header(&r, t, i, tag),
			    DISK_FMT_OK);
			free(t);
		}
		/* One bit flipped anywhere but the padding: refused by the
		 * header or by the checksum. */
		for (i = 0; i < end; i++)
			for (bit = 0; bit < 8; bit++) {
				b[i] ^= (uint8_t)(1u << bit);
				if (disk_rec_decode_header(&r, b, len, tag) ==
				    DISK_FMT_OK && r.rec_len == len)
					ck_assert_msg(disk_rec_verify(&r, b) !=
					    DISK_FMT_OK, "byte %u", i);
				b[i] ^= (uint8_t)(1u << bit);
			}
		free(b);
	}
}
END_TEST

/* A chunk encoded around a body that stays where it is (in pieces, as
 * pages hold it) is byte for byte the record encoded with its body
 * copied in: one format, whichever writer. */
START_TEST(a_chunk_split_around_its_pages_is_the_same_record)
{
	static const size_t cuts[][4] = {
		{ 1, 0 }, { 13, 0 }, { 1000, 0 }, { 400, 7, 593, 0 },
		{ 1, 1, 1, 997 }
	};
	struct disk_rec r, d;
	struct iovec iov[4];
	uint8_t body[1000], *whole, *split, tail[32];
	uint32_t k, i, n, tlen, len;
	size_t at;

	for (i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)(i * 7 + 3);
	for (k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
		for (n = 0, at = 0; n < 4 && cuts[k][n] > 0; n++) {
			iov[n].iov_base = body + at;
			iov[n].iov_len = cuts[k][n];
			at += cuts[k][n];
		}
		memset(&r, 0, sizeof r);
		r.kind = DISK_REC_CHUNK;
		r.seq = 41 + k;
		r.key[0] = 9;
		r.nchunks = k;
		r.body_len = (uint32_t)at;
		r.object_size = 5000;
		r.store_tag = 0x1234;
		len = r.rec_len = disk_rec_len(0, 0, 0, at);
		whole = malloc(len);
		split = malloc(len);
		ck_assert_ptr_nonnull(whole);
		ck_assert_ptr_nonnull(split);
		disk_rec_encode(&r, NULL, NULL, NULL, body, whole);
		memset(split, 0xee, len);
		tlen = disk_rec_encode_split(&r, iov, n, split, tail);
		ck_assert_uint_eq(DISK_REC_HDR_LEN + at + tlen, len);
		memcpy(split + DISK_REC_HDR_LEN, body, at);
		memcpy(split + DISK_REC_HDR_LEN + at, tail, tlen);
		ck_assert_mem_eq(split, whole, len);
		ck_assert_int_eq(disk_rec_decode_header(&d, split, len, 0x1234),
		    DISK_FMT_OK);
		ck_assert_int_eq(disk_rec_verify(&d, split), DISK_FMT_OK);
		free(whole);
		free(split);
	}
}
END_TEST

/* Any record encoded from its body in pieces (a head with URL, headers
 * and body; a chunked head's map; a chunk; a tombstone) is byte for byte
 * the record encoded from the body in one piece: the pieces are only
 * where the bytes come from. */
START_TEST(a_record_from_pieces_is_the_same_record)
{
	static const char url[] = "http://example.test/pieces";
	static const char hdrs[] = "HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
	static const size_t cuts[][5] = {
		{ 0 }, { 1, 0 }, { 4096, 0 }, { 16384, 0 }, { 4000, 0 },
		{ 16383, 1, 0 }, { 1, 16383, 0 }, { 4096, 4096, 4096, 4096, 0 },
		{ 7, 1, 3000, 1, 0 }
	};
	struct disk_chunk_ref map[2];
	struct disk_rec r, d;
	struct iovec iov[5];
	uint8_t *body, *whole, *pieces;
	uint32_t k, kind, i, n, len;
	size_t at;

	body = malloc(16384);
	ck_assert_ptr_nonnull(body);
	for (i = 0; i < 16384; i++)
		body[i] = (uint8_t)(i * 7 + (i >> 9));
	memset(map, 0, sizeof map);
	map[0].region = 1;
	map[0].offset = 64;
	map[0].body_len = 111;
	map[0].rec_len = disk_rec_len(0, 0, 0, 111);
	map[0].seq = 3;
	map[1] = map[0];
	map[1].seq = 4;
	for (kind = 0; kind < 4; kind++)
		for (k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
			for (n = 0, at = 0; n < 5 && cuts[k][n] > 0; n++) {
				iov[n].iov_base = body + at;
				iov[n].iov_len = cuts[k][n];
				at += cuts[k][n];
			}
			/* A chunked head and a tombstone have no body, a
			 * chunk always has one. */
			if (((kind == 1 || kind == 3) && at > 0) ||
			    (kind == 2 && at == 0))
				continue;
			memset(&r, 0, sizeof r);
			r.kind = kind == 2 ? DISK_REC_CHUNK : kind == 3 ?
			    DISK_REC_TOMB : DISK_REC_HEAD;
			r.seq = 77 + k;
			memset(r.key, 0x5a, sizeof r.key);
			r.store_tag = 0xfeed;
			r.body_len = (uint32_t)at;
			r.object_size = kind == 1 ? 222 : at;
			if (kind <= 1) {
				r.url_len = sizeof url - 1;
				r.hdr_len = sizeof hdrs - 1;
			}
			if (kind == 1) {
				r.flags = DISK_RECF_CHUNKED;
				r.nchunks = 2;
			}
			len = r.rec_len = disk_rec_len(r.url_len, r.hdr_len,
			    kind == 1 ? 2 : 0, at);
			whole = malloc(len);
			pieces = malloc(len);
			ck_assert_ptr_nonnull(whole);
			ck_assert_ptr_nonnull(pieces);
			memset(whole, 0xee, len);
			memset(pieces, 0x11, len);
			disk_rec_encode(&r, url, hdrs, map, body, whole);
			disk_rec_encodev(&r, url, hdrs, map, n > 0 ? iov : NULL,
			    n, pieces);
			ck_assert_msg(memcmp(whole, pieces, len) == 0,
			    "kind %u cut %u", kind, k);
			ck_assert_int_eq(disk_rec_decode_header(&d, pieces, len,
			    0xfeed), DISK_FMT_OK);
			ck_assert_int_eq(disk_rec_verify(&d, pieces),
			    DISK_FMT_OK);
			free(whole);
			free(pieces);
		}
	free(body);
}
END_TEST

/* Headers that hold (their own checksum is right) but whose lengths lie:
 * refused, never read past the buffer. */
START_TEST(lying_lengths_are_refused)
{
	static const uint32_t lens[] = {
		0, 1, 100, 65536, 0x7fffffff, 0xfffffff0, 0xffffffff
	};
	struct disk_sb sb = sb_make();
	uint32_t tag = disk_sb_store_tag(&sb), v;
	struct disk_rec r;
	unsigned i, f;
	uint8_t *b;

	for (f = 32; f <= 44; f += 4)
		for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			(void)make_rec(&b, &sb, DISK_REC_HEAD, 0);
			v = lens[i];
			memcpy(b + f, &v, 4);	/* little-endian hosts */
			v = (uint32_t)XXH3_64bits(b, 60);
			memcpy(b + 60, &v, 4);
			b = realloc(b, 200);
			if (disk_rec_decode_header(&r, b, 200, tag) ==
			    DISK_FMT_OK)
				ck_assert_uint_le(r.rec_len, 200);
			free(b);
		}
}
END_TEST

START_TEST(footer_round_trip_and_damage)
{
	struct disk_sb sb = sb_make();
	struct disk_foot_ent e[3], g;
	struct disk_trailer t, gt;
	uint8_t b[3 * DISK_FOOT_ENT_LEN + DISK_TRAILER_LEN];
	unsigned i;

	memset(e, 0, sizeof e);
	for (i = 0; i < 3; i++) {
		memset(e[i].key, (int)i, DISK_KEY_LEN);
		e[i].seq = 100 + i;
		e[i].offset = 64 + 128 * i;
		e[i].rec_len = 128;
		e[i].kind = DISK_REC_HEAD;
		e[i].first_region = 1;
		disk_foot_ent_encode(&e[i], b + i * DISK_FOOT_ENT_LEN);
	}
	memset(&t, 0, sizeof t);
	t.region_seq = 100;
	t.last_seq = 102;
	t.count = 3;
	t.foot_off = sb.region_size - disk_footer_len(3);
	t.records_end = 64 + 3 * 128;
	t.store_tag = disk_sb_store_tag(&sb);
	disk_trailer_encode(&t, b);
	ck_assert_int_eq(disk_trailer_decode(&gt, b + 3 * DISK_FOOT_ENT_LEN,
	    DISK_TRAILER_LEN, &sb), DISK_FMT_OK);
	ck_assert_int_eq(disk_footer_verify(&gt, b), DISK_FMT_OK);
	for (i = 0; i < 3; i++) {
		disk_foot_ent_decode(&g, b + i * DISK_FOOT_ENT_LEN);
		ck_assert_int_eq(disk_foot_ent_check(&g, &gt, &sb),
		    DISK_FMT_OK);
		ck_assert_uint_eq(g.seq, 100 + i);
	}
	b[50] ^= 1;
	ck_assert_int_eq(disk_footer_verify(&gt, b), DISK_FMT_SUM);
	b[3 * DISK_FOOT_ENT_LEN + 25] ^= 1;	/* the count */
	ck_assert_int_ne(disk_trailer_decode(&gt, b + 3 * DISK_FOOT_ENT_LEN,
	    DISK_TRAILER_LEN, &sb), DISK_FMT_OK);
}
END_TEST

static void
key_of(uint8_t *k, uint64_t n)
{
	uint64_t a = XXH3_64bits(&n, sizeof n), b = XXH3_64bits(&a, 8);

	memcpy(k, &a, 8);
	memcpy(k + 8, &b, 8);
}

static struct disk_addr
addr(uint32_t region, uint32_t off)
{
	struct disk_addr a;

	memset(&a, 0, sizeof a);
	a.region = region;
	a.first_region = region;
	a.offset = off;
	a.rec_len = 128;
	a.size_class = 10;
	return (a);
}

START_TEST(index_keeps_the_newest_and_honours_tombstones)
{
	struct disk_index *idx = disk_index_new(8, 0);
	struct disk_addr a = addr(2, 64), b = addr(3, 64), got;
	uint8_t k[DISK_KEY_LEN];

	key_of(k, 1);
	ck_assert(!disk_index_lookup(idx, k, &got));
	ck_assert_int_eq(disk_index_put(idx, k, &b), 1);
	ck_assert_int_eq(disk_index_put(idx, k, &a), 0);	/* older */
	ck_assert(disk_index_lookup(idx, k, &got));
	ck_assert_uint_eq(got.region, 3);
	ck_assert_uint_eq(got.rec_len, 128);
	ck_assert_uint_eq(got.size_class, 10);
	/* A tombstone older than the entry leaves it; a newer one not. */
	ck_assert(!disk_index_remove_older(idx, k, &a));
	ck_assert(disk_index_lookup(idx, k, NULL));
	b.offset = 1024;
	ck_assert(disk_index_remove_older(idx, k, &b));
	ck_assert(!disk_index_lookup(idx, k, NULL));
	/* Order follows the log from its tail: region 1 after 7. */
	disk_index_set_tail(idx, 2);
	a = addr(7, 64);
	b = addr(1, 64);
	ck_assert(disk_index_newer(idx, &b, &a));
	ck_assert_int_eq(disk_index_put(idx, k, &a), 1);
	ck_assert_int_eq(disk_index_put(idx, k, &b), 1);
	ck_assert(disk_index_lookup(idx, k, &got));
	ck_assert_uint_eq(got.region, 1);
	/* A first chunk older than the log's tail was overwritten. */
	b.first_region = 0;
	b.region = 3;
	ck_assert_int_eq(disk_index_put(idx, k, &b), -EINVAL);
	b.first_region = 9;
	ck_assert_int_eq(disk_index_put(idx, k, &b), -EINVAL);
	disk_index_free(&idx);
	ck_assert_ptr_null(idx);
}
END_TEST

START_TEST(index_survives_growth_removal_and_reclaim)
{
	struct disk_index *idx = disk_index_new(64, 0);
	uint8_t k[DISK_KEY_LEN];
	struct disk_addr a, got;
	size_t n = 50000, i, dropped;

	for (i = 0; i < n; i++) {
		key_of(k, i);
		a = addr((uint32_t)(i % 64), (uint32_t)(64 + (i / 64) * 16));
		if (i % 64 == 5)
			a.first_region = 3;
		ck_assert_int_eq(disk_index_put(idx, k, &a), 1);
	}
	ck_assert_uint_eq(disk_index_count(idx), n);
	for (i = 0; i < n; i++) {
		key_of(k, i);
		ck_assert(disk_index_lookup(idx, k, &got));
		ck_assert_uint_eq(got.region, i % 64);
		ck_assert_uint_eq(got.offset, 64 + (i / 64) * 16);
	}
	/* Bytes an object: a quarter more slots at 90% keeps it <= 24. */
	ck_assert_uint_le(disk_index_bytes(idx), n * 24);
	for (i = 0; i < n; i += 3) {
		key_of(k, i);
		ck_assert(disk_index_remove(idx, k));
	}
	/* Region 3 holds every i % 64 == 3 and the first chunks of the
	 * i % 64 == 5. */
	dropped = disk_index_drop_region(idx, 3);
	for (i = 0; i < n; i++) {
		key_of(k, i);
		ck_assert_msg(disk_index_lookup(idx, k, NULL) ==
		    (i % 3 != 0 && i % 64 != 3 && i % 64 != 5), "key %zu", i);
	}
	ck_assert_uint_eq(disk_index_count(idx) + dropped, n - (n + 2) / 3);
	disk_index_free(&idx);
}
END_TEST

static Suite *
disk_index_suite(void)
{
	Suite *s = suite_create("disk_index");
	TCase *tc;

	tc = tcase_create("format");
	tcase_add_test(tc, superblock_round_trip_and_every_flip_refused);
	tcase_add_test(tc, records_round_trip_and_any_damage_is_refused);
	tcase_add_test(tc, a_chunk_split_around_its_pages_is_the_same_record);
	tcase_add_test(tc, a_record_from_pieces_is_the_same_record);
	tcase_add_test(tc, lying_lengths_are_refused);
	tcase_add_test(tc, footer_round_trip_and_damage);
	suite_add_tcase(s, tc);
	tc = tcase_create("index");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, index_keeps_the_newest_and_honours_tombstones);
	tcase_add_test(tc, index_survives_growth_removal_and_reclaim);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(disk_index_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
