/*
 * disk_format.c - encode and decode the superblock, region headers,
 * records and footers (layouts in disk_format.h and
 * doc/internals/disk-format.md).
 *
 * Decoders take the length of what was read and never look past it:
 * every length from disk is checked, in 64-bit arithmetic, against the
 * buffer and the region before a byte it names is touched.  Magics and
 * versions are checked before checksums so that a foreign file or another
 * format version is told apart from a damaged one.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

/* XXH3_state_t's layout, for a streaming sum on the stack. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "base/check.h"
#include "disk/disk_format.h"

#define MAGIC_SB	"CUTTLEDS"
#define MAGIC_REGION	0x47524443u	/* "CDRG" */
#define MAGIC_REC	0x43524443u	/* "CDRC" */
#define MAGIC_TRAILER	0x54464443u	/* "CDFT" */

static const char *const fmt_text[] = {
#define DISK_FMT(sym, text)	text,
	DISK_FMT_RESULTS
#undef DISK_FMT
};

const char *
disk_fmt_result_text(enum disk_fmt_result r)
{
	if ((unsigned)r >= ARRAY_LEN(fmt_text))
		return ("?");
	return (fmt_text[r]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] | p[1] << 8));
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

static uint64_t
get64(const uint8_t *p)
{
	return ((uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32);
}

static uint64_t
align16(uint64_t n)
{
	return ((n + DISK_ALIGN - 1) & ~(uint64_t)(DISK_ALIGN - 1));
}

/* -- superblock ------------------------------------------------------------
 *
 *	0  "CUTTLEDS"	8  version	12 region_size	16 nregions
 *	20 data offset (4096)	24 created	32 id[16]	48 zero
 *	56 XXH3-64 of bytes 0..55
 */

uint32_t
disk_sb_store_tag(const struct disk_sb *sb)
{
	return (get32(sb->id));
}

void
disk_sb_encode(const struct disk_sb *sb, uint8_t *out)
{
	AN(sb);
	AN(out);
	CHECK(sb->region_size >= DISK_REGION_MIN &&
	    sb->region_size <= DISK_REGION_MAX &&
	    sb->region_size % 4096 == 0);
	CHECK(sb->nregions >= 2 && sb->nregions <= DISK_REGIONS_MAX);
	memset(out, 0, DISK_SB_LEN);
	memcpy(out, MAGIC_SB, 8);
	put32(out + 8, DISK_FORMAT_VERSION);
	put32(out + 12, sb->region_size);
	put32(out + 16, sb->nregions);
	put32(out + 20, DISK_SB_SIZE);
	put64(out + 24, sb->created);
	memcpy(out + 32, sb->id, DISK_ID_LEN);
	put64(out + 56, XXH3_64bits(out, 56));
}

enum disk_fmt_result
disk_sb_decode(struct disk_sb *sb, const uint8_t *in, size_t len)
{
	AN(sb);
	memset(sb, 0, sizeof *sb);
	if (len < DISK_SB_LEN)
		return (DISK_FMT_SHORT);
	if (memcmp(in, MAGIC_SB, 8) != 0)
		return (DISK_FMT_MAGIC);
	sb->version = get32(in + 8);
	if (sb->version != DISK_FORMAT_VERSION)
		return (DISK_FMT_VERSION);
	if (get64(in + 56) != XXH3_64bits(in, 56))
		return (DISK_FMT_HEADER_SUM);
	sb->region_size = get32(in + 12);
	sb->nregions = get32(in + 16);
	sb->created = get64(in + 24);
	memcpy(sb->id, in + 32, DISK_ID_LEN);
	if (sb->region_size < DISK_REGION_MIN ||
	    sb->region_size > DISK_REGION_MAX || sb->region_size % 4096 != 0 ||
	    sb->nregions < 2 || sb->nregions > DISK_REGIONS_MAX ||
	    get32(in + 20) != DISK_SB_SIZE)
		return (DISK_FMT_FIELD);
	return (DISK_FMT_OK);
}

uint64_t
disk_region_pos(const struct disk_sb *sb, uint32_t r)
{
	CHECK(r < sb->nregions);
	return (DISK_SB_SIZE + (uint64_t)r * sb->region_size);
}

/* -- region header ---------------------------------------------------------
 *
 *	0 magic  4 version  8 seq  16 region  20 region_size  24 store_tag
 *	28..55 zero  56 XXH3-64 of bytes 0..55
 */

void
disk_region_hdr_encode(const struct disk_region_hdr *h, uint8_t *out)
{
	AN(h);
	memset(out, 0, DISK_REGION_HDR_LEN);
	put32(out, MAGIC_REGION);
	put32(out + 4, DISK_FORMAT_VERSION);
	put64(out + 8, h->seq);
	put32(out + 16, h->region);
	put32(out + 20, h->region_size);
	put32(out + 24, h->store_tag);
	put64(out + 56, XXH3_64bits(out, 56));
}

enum disk_fmt_result
disk_region_hdr_decode(struct disk_region_hdr *h, const uint8_t *in,
    size_t len, const struct disk_sb *sb, uint32_t want_region)
{
	AN(h);
	memset(h, 0, sizeof *h);
	if (len < DISK_REGION_HDR_LEN)
		return (DISK_FMT_SHORT);
	if (get32(in) != MAGIC_REGION)
		return (DISK_FMT_MAGIC);
	if (get32(in + 4) != DISK_FORMAT_VERSION)
		return (DISK_FMT_VERSION);
	if (get64(in + 56) != XXH3_64bits(in, 56))
		return (DISK_FMT_HEADER_SUM);
	h->seq = get64(in + 8);
	h->region = get32(in + 16);
	h->region_size = get32(in + 20);
	h->store_tag = get32(in + 24);
	if (h->store_tag != disk_sb_store_tag(sb))
		return (DISK_FMT_FOREIGN);
	if (h->region != want_region || h->region_size != sb->region_size ||
	    h->seq == 0)
		return (DISK_FMT_FIELD);
	return (DISK_FMT_OK);
}

/* -- records ---------------------------------------------------------------
 *
 *	0 magic  4 version (u8)  5 kind (u8)  6 flags (u16)  8 seq
 *	16 key[16]  32 url_len  36 hdr_len  40 body_len  44 nchunks
 *	48 object_size  56 store_tag  60 low 32 bits of XXH3-64(0..59)
 *	64 url, reply headers, chunk map (24 each), body
 *	then XXH3-64 of everything before it, then zeros to 16
 */

static uint64_t
rec_len64(uint64_t url_len, uint64_t hdr_len, uint64_t map_len,
    uint64_t body_len)
{
	return (align16(DISK_REC_HDR_LEN + url_len + hdr_len + map_len +
	    body_len + DISK_REC_SUM_LEN));
}

uint32_t
disk_rec_len(size_t url_len, size_t hdr_len, uint32_t nchunks,
    size_t body_len)
{
	uint64_t n;

	if (url_len > UINT32_MAX || hdr_len > UINT32_MAX ||
	    body_len > UINT32_MAX)
		return (0);
	n = rec_len64(url_len, hdr_len, (uint64_t)nchunks * DISK_CHUNK_REF_LEN,
	    body_len);
	return (n > UINT32_MAX ? 0 : (uint32_t)n);
}

static uint32_t
rec_map_len(const struct disk_rec *r)
{
	if (r->kind == DISK_REC_HEAD && (r->flags & DISK_RECF_CHUNKED))
		return (r->nchunks * DISK_CHUNK_REF_LEN);
	return (0);
}

/* r's 64 header bytes into out. */
static void
rec_encode_header(const struct disk_rec *r, uint8_t *out)
{
	memset(out, 0, DISK_REC_HDR_LEN);
	put32(out, MAGIC_REC);
	out[4] = DISK_FORMAT_VERSION;
	out[5] = (uint8_t)r->kind;
	put16(out + 6, r->flags);
	put64(out + 8, r->seq);
	memcpy(out + 16, r->key, DISK_KEY_LEN);
	put32(out + 32, r->url_len);
	put32(out + 36, r->hdr_len);
	put32(out + 40, r->body_len);
	put32(out + 44, r->nchunks);
	put64(out + 48, r->object_size);
	put32(out + 56, r->store_tag);
	put32(out + 60, (uint32_t)XXH3_64bits(out, 60));
}

void
disk_rec_encode(const struct disk_rec *r, const char *url, const char *hdrs,
    const struct disk_chunk_ref *map, const uint8_t *body, uint8_t *out)
{
	struct iovec iov;

	iov.iov_base = (void *)(uintptr_t)body;
	iov.iov_len = r->body_len;
	disk_rec_encodev(r, url, hdrs, map, &iov, body != NULL ? 1 : 0, out);
}

void
disk_rec_encodev(const struct disk_rec *r, const char *url, const char *hdrs,
    const struct disk_chunk_ref *map, const struct iovec *body, unsigned n,
    uint8_t *out)
{
	uint32_t i, map_len, len;
	size_t got = 0;
	uint8_t *p;

	AN(r);
	AN(out);
	CHECK(r->seq != 0);
	map_len = rec_map_len(r);
	CHECK(map_len == 0 || map != NULL);
	len = disk_rec_len(r->url_len, r->hdr_len,
	    map_len / DISK_CHUNK_REF_LEN, r->body_len);
	CHECK(len != 0 && len == r->rec_len);
	rec_encode_header(r, out);
	p = out + DISK_REC_HDR_LEN;
	if (r->url_len > 0)
		memcpy(p, url, r->url_len);
	p += r->url_len;
	if (r->hdr_len > 0)
		memcpy(p, hdrs, r->hdr_len);
	p += r->hdr_len;
	for (i = 0; map_len > 0 && i < r->nchunks; i++) {
		put32(p, map[i].region);
		put32(p + 4, map[i].offset);
		put32(p + 8, map[i].rec_len);
		put32(p + 12, map[i].body_len);
		put64(p + 16, map[i].seq);
		p += DISK_CHUNK_REF_LEN;
	}
	/* Each piece copied once, to its place in the record; the sum is
	 * then taken over the record as it lies in out, so that it covers
	 * the very bytes written, whatever the pieces. */
	for (i = 0; i < n; i++) {
		CHECK(body[i].iov_len <= r->body_len - got);
		if (body[i].iov_len > 0)
			memcpy(p + got, body[i].iov_base, body[i].iov_len);
		got += body[i].iov_len;
	}
	CHECK(got == r->body_len);
	p += r->body_len;
	put64(p, XXH3_64bits(out, (size_t)(p - out)));
	p += DISK_REC_SUM_LEN;
	memset(p, 0, (size_t)(out + len - p));
}

uint32_t
disk_rec_encode_split(const struct disk_rec *r, const struct iovec *body,
    unsigned n, uint8_t *hdr, uint8_t *tail)
{
	XXH3_state_t st;
	size_t got = 0;
	uint32_t len;
	unsigned i;

	AN(r);
	AN(hdr);
	AN(tail);
	CHECK(r->seq != 0);
	CHECK(r->url_len == 0 && r->hdr_len == 0 && rec_map_len(r) == 0);
	len = disk_rec_len(0, 0, 0, r->body_len);
	CHECK(len != 0 && len == r->rec_len);
	rec_encode_header(r, hdr);
	/* The same sum as disk_rec_encode()'s, streamed over the pieces
	 * where they are. */
	AZ(XXH3_64bits_reset(&st));
	AZ(XXH3_64bits_update(&st, hdr, DISK_REC_HDR_LEN));
	for (i = 0; i < n; i++) {
		AZ(XXH3_64bits_update(&st, body[i].iov_base, body[i].iov_len));
		got += body[i].iov_len;
	}
	CHECK(got == r->body_len);
	put64(tail, XXH3_64bits_digest(&st));
	len -= DISK_REC_HDR_LEN + r->body_len;
	memset(tail + DISK_REC_SUM_LEN, 0, len - DISK_REC_SUM_LEN);
	return (len);
}

enum disk_fmt_result
disk_rec_decode_header(struct disk_rec *r, const uint8_t *in, size_t max_len,
    uint32_t store_tag)
{
	uint64_t len;

	AN(r);
	memset(r, 0, sizeof *r);
	if (max_len < DISK_REC_HDR_LEN)
		return (DISK_FMT_SHORT);
	if (get32(in) != MAGIC_REC)
		return (DISK_FMT_MAGIC);
	if (in[4] != DISK_FORMAT_VERSION)
		return (DISK_FMT_VERSION);
	if (get32(in + 60) != (uint32_t)XXH3_64bits(in, 60))
		return (DISK_FMT_HEADER_SUM);
	r->kind = in[5];
	r->flags = get16(in + 6);
	r->seq = get64(in + 8);
	memcpy(r->key, in + 16, DISK_KEY_LEN);
	r->url_len = get32(in + 32);
	r->hdr_len = get32(in + 36);
	r->body_len = get32(in + 40);
	r->nchunks = get32(in + 44);
	r->object_size = get64(in + 48);
	r->store_tag = get32(in + 56);
	if (r->store_tag != store_tag)
		return (DISK_FMT_FOREIGN);
	if (r->seq == 0)
		return (DISK_FMT_FIELD);
	switch (r->kind) {
	case DISK_REC_HEAD:
		if ((r->flags & ~DISK_RECF_CHUNKED) != 0)
			return (DISK_FMT_FIELD);
		if (r->flags & DISK_RECF_CHUNKED) {
			/* The map must cover at least one byte a chunk. */
			if (r->body_len != 0 || r->nchunks == 0 ||
			    r->nchunks > r->object_size ||
			    r->nchunks > DISK_REGION_MAX / DISK_CHUNK_REF_LEN)
				return (DISK_FMT_FIELD);
		} else if (r->nchunks != 0 || r->body_len != r->object_size)
			return (DISK_FMT_FIELD);
		break;
	case DISK_REC_CHUNK:
		if (r->flags != 0 || r->url_len != 0 || r->hdr_len != 0 ||
		    r->body_len == 0 || r->body_len > r->object_size)
			return (DISK_FMT_FIELD);
		break;
	case DISK_REC_TOMB:
		if (r->flags != 0 || r->hdr_len != 0 || r->body_len != 0 ||
		    r->nchunks != 0 || r->object_size != 0)
			return (DISK_FMT_FIELD);
		break;
	default:
		return (DISK_FMT_FIELD);
	}
	len = rec_len64(r->url_len, r->hdr_len, rec_map_len(r), r->body_len);
	if (len > DISK_REGION_MAX)
		return (DISK_FMT_FIELD);
	if (len > max_len)
		return (DISK_FMT_SHORT);
	r->rec_len = (uint32_t)len;
	return (DISK_FMT_OK);
}

static size_t
rec_sum_at(const struct disk_rec *r)
{
	return ((size_t)DISK_REC_HDR_LEN + r->url_len + r->hdr_len +
	    rec_map_len(r) + r->body_len);
}

enum disk_fmt_result
disk_rec_verify(const struct disk_rec *r, const uint8_t *in)
{
	size_t at;

	AN(r);
	CHECK(r->rec_len != 0);
	at = rec_sum_at(r);
	CHECK(at + DISK_REC_SUM_LEN <= r->rec_len);
	if (get64(in + at) != XXH3_64bits(in, at))
		return (DISK_FMT_SUM);
	return (DISK_FMT_OK);
}

const char *
disk_rec_url(const struct disk_rec *r, const uint8_t *in)
{
	return ((const char *)in + DISK_REC_HDR_LEN);
}

const char *
disk_rec_hdrs(const struct disk_rec *r, const uint8_t *in)
{
	return ((const char *)in + DISK_REC_HDR_LEN + r->url_len);
}

const uint8_t *
disk_rec_body(const struct disk_rec *r, const uint8_t *in)
{
	return (in + DISK_REC_HDR_LEN + r->url_len + r->hdr_len +
	    rec_map_len(r));
}

enum disk_fmt_result
disk_rec_chunk_ref(const struct disk_rec *r, const uint8_t *in, uint32_t i,
    const struct disk_sb *sb, struct disk_chunk_ref *c)
{
	const uint8_t *p;

	AN(c);
	CHECK(i < r->nchunks && rec_map_len(r) > 0);
	p = in + DISK_REC_HDR_LEN + r->url_len + r->hdr_len +
	    (size_t)i * DISK_CHUNK_REF_LEN;
	c->region = get32(p);
	c->offset = get32(p + 4);
	c->rec_len = get32(p + 8);
	c->body_len = get32(p + 12);
	c->seq = get64(p + 16);
	if (c->region >= sb->nregions || c->offset % DISK_ALIGN != 0 ||
	    c->offset < DISK_REGION_HDR_LEN || c->body_len == 0 ||
	    c->seq == 0 || c->seq >= r->seq ||
	    c->rec_len != disk_rec_len(0, 0, 0, c->body_len) ||
	    (uint64_t)c->offset + c->rec_len >
	    sb->region_size - DISK_TRAILER_LEN)
		return (DISK_FMT_FIELD);
	return (DISK_FMT_OK);
}

/* -- footers ---------------------------------------------------------------
 *
 * entry:   0 key[16]  16 seq  24 object_size  32 offset  36 rec_len
 *	    40 first_region  44 kind (u8)  45 flags (u8)  46 zero (u16)
 * trailer: 0 magic  4 version  8 region_seq  16 last_seq  24 count
 *	    28 foot_off  32 records_end  36 store_tag  40 entries_sum
 *	    48 zero  56 XXH3-64 of bytes 0..55
 */

uint32_t
disk_footer_len(uint32_t n)
{
	return (n * DISK_FOOT_ENT_LEN + DISK_TRAILER_LEN);
}

void
disk_foot_ent_encode(const struct disk_foot_ent *e, uint8_t *out)
{
	memcpy(out, e->key, DISK_KEY_LEN);
	put64(out + 16, e->seq);
	put64(out + 24, e->object_size);
	put32(out + 32, e->offset);
	put32(out + 36, e->rec_len);
	put32(out + 40, e->first_region);
	out[44] = e->kind;
	out[45] = e->flags;
	put16(out + 46, 0);
}

void
disk_foot_ent_decode(struct disk_foot_ent *e, const uint8_t *in)
{
	memcpy(e->key, in, DISK_KEY_LEN);
	e->seq = get64(in + 16);
	e->object_size = get64(in + 24);
	e->offset = get32(in + 32);
	e->rec_len = get32(in + 36);
	e->first_region = get32(in + 40);
	e->kind = in[44];
	e->flags = in[45];
}

void
disk_trailer_encode(struct disk_trailer *t, uint8_t *ents)
{
	uint8_t *out;

	AN(t);
	AN(ents);
	t->entries_sum = XXH3_64bits(ents, (size_t)t->count *
	    DISK_FOOT_ENT_LEN);
	out = ents + (size_t)t->count * DISK_FOOT_ENT_LEN;
	memset(out, 0, DISK_TRAILER_LEN);
	put32(out, MAGIC_TRAILER);
	put32(out + 4, DISK_FORMAT_VERSION);
	put64(out + 8, t->region_seq);
	put64(out + 16, t->last_seq);
	put32(out + 24, t->count);
	put32(out + 28, t->foot_off);
	put32(out + 32, t->records_end);
	put32(out + 36, t->store_tag);
	put64(out + 40, t->entries_sum);
	put64(out + 56, XXH3_64bits(out, 56));
}

enum disk_fmt_result
disk_trailer_decode(struct disk_trailer *t, const uint8_t *in, size_t len,
    const struct disk_sb *sb)
{
	uint64_t foot;

	AN(t);
	memset(t, 0, sizeof *t);
	if (len < DISK_TRAILER_LEN)
		return (DISK_FMT_SHORT);
	if (get32(in) != MAGIC_TRAILER)
		return (DISK_FMT_MAGIC);
	if (get32(in + 4) != DISK_FORMAT_VERSION)
		return (DISK_FMT_VERSION);
	if (get64(in + 56) != XXH3_64bits(in, 56))
		return (DISK_FMT_HEADER_SUM);
	t->region_seq = get64(in + 8);
	t->last_seq = get64(in + 16);
	t->count = get32(in + 24);
	t->foot_off = get32(in + 28);
	t->records_end = get32(in + 32);
	t->store_tag = get32(in + 36);
	t->entries_sum = get64(in + 40);
	if (t->store_tag != disk_sb_store_tag(sb))
		return (DISK_FMT_FOREIGN);
	foot = (uint64_t)t->count * DISK_FOOT_ENT_LEN + DISK_TRAILER_LEN;
	if (t->region_seq == 0 || foot > sb->region_size ||
	    t->foot_off != sb->region_size - foot ||
	    t->records_end < DISK_REGION_HDR_LEN ||
	    t->records_end > t->foot_off || t->records_end % DISK_ALIGN != 0 ||
	    (t->count > 0 && t->last_seq < t->region_seq))
		return (DISK_FMT_FIELD);
	return (DISK_FMT_OK);
}

enum disk_fmt_result
disk_footer_verify(const struct disk_trailer *t, const uint8_t *ents)
{
	if (XXH3_64bits(ents, (size_t)t->count * DISK_FOOT_ENT_LEN) !=
	    t->entries_sum)
		return (DISK_FMT_SUM);
	return (DISK_FMT_OK);
}

enum disk_fmt_result
disk_foot_ent_check(const struct disk_foot_ent *e,
    const struct disk_trailer *t, const struct disk_sb *sb)
{
	if (e->kind < DISK_REC_HEAD || e->kind > DISK_REC_TOMB ||
	    e->offset < DISK_REGION_HDR_LEN || e->offset % DISK_ALIGN != 0 ||
	    e->rec_len < DISK_REC_HDR_LEN + DISK_REC_SUM_LEN ||
	    e->rec_len % DISK_ALIGN != 0 ||
	    (uint64_t)e->offset + e->rec_len > t->records_end ||
	    e->first_region >= sb->nregions ||
	    e->seq < t->region_seq || e->seq > t->last_seq)
		return (DISK_FMT_FIELD);
	return (DISK_FMT_OK);
}
