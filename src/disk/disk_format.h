/*
 * disk_format.h - the bytes of a disk store file: pure encode and decode
 * functions over memory buffers, no I/O.
 *
 * Contract: a decode function reads at most the length it is given, checks
 * every field it returns (magics, versions, lengths against the buffer and
 * the region, checksums) and answers DISK_FMT_OK or why not; a corrupt
 * file can make a decode fail, never crash or overrun.  Encoders assert
 * their arguments: they are fed by cuttle, never by a peer.
 * doc/internals/disk-format.md describes the same bytes for a reader
 * without this code.
 *
 *	file:   | superblock (4 KiB) | region 0 | region 1 | ... | region N-1 |
 *	region: | region header | record | record | ... |  free  | footer |
 *	footer: | entry | entry | ... | entry | trailer |  (ends the region)
 *	record: | header (64) | url | reply headers | chunk map | body |
 *		  checksum (8) | padding to 16 |
 *
 * All integers are little-endian.  Records start on 16-byte boundaries;
 * a record's sequence number is the store's global write order.
 */
#ifndef CUTTLE_DISK_FORMAT_H
#define CUTTLE_DISK_FORMAT_H

#include <sys/uio.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_FORMAT_VERSION	1u
#define DISK_KEY_LEN		16	/* == STORE_KEY_LEN */
#define DISK_ID_LEN		16	/* creation id */

#define DISK_SB_SIZE		4096u	/* the superblock's place */
#define DISK_SB_LEN		64u	/* its encoded bytes */
#define DISK_ALIGN		16u	/* records start on these */
#define DISK_REGION_HDR_LEN	64u
#define DISK_REC_HDR_LEN	64u
#define DISK_REC_SUM_LEN	8u
#define DISK_CHUNK_REF_LEN	24u
#define DISK_FOOT_ENT_LEN	48u
#define DISK_TRAILER_LEN	64u

/* Region sizes: a multiple of 4 KiB (O_DIRECT), at most 16 MiB (the
 * index keeps offsets and lengths in 20 bits of 16-byte units). */
#define DISK_REGION_MIN		(64u * 1024)
#define DISK_REGION_MAX		(16u * 1024 * 1024)
#define DISK_REGIONS_MAX	(1u << 24)

/* Why a decode failed; also the store's drop counters. */
#define DISK_FMT_RESULTS						\
	DISK_FMT(OK,		"ok")					\
	DISK_FMT(SHORT,		"shorter than its header or lengths")	\
	DISK_FMT(MAGIC,		"bad magic")				\
	DISK_FMT(VERSION,	"another format version")		\
	DISK_FMT(HEADER_SUM,	"header checksum mismatch")		\
	DISK_FMT(FIELD,		"a field out of range")			\
	DISK_FMT(SUM,		"checksum mismatch")			\
	DISK_FMT(FOREIGN,	"written by another store")

enum disk_fmt_result {
#define DISK_FMT(sym, text)	DISK_FMT_##sym,
	DISK_FMT_RESULTS
#undef DISK_FMT
	DISK_FMT_NRESULTS
};
const char	*disk_fmt_result_text(enum disk_fmt_result r);

/* The superblock: what the file is and how it is divided. */
struct disk_sb {
	uint32_t	version;
	uint32_t	region_size;
	uint32_t	nregions;
	uint64_t	created;	/* Unix seconds */
	uint8_t		id[DISK_ID_LEN];
};
/* The 32 bits of the creation id every region and record carries, so
 * that a store made again over an old file ignores the old bytes. */
uint32_t	disk_sb_store_tag(const struct disk_sb *sb);
/* disk_sb_encode() - DISK_SB_LEN bytes into out. */
void		disk_sb_encode(const struct disk_sb *sb, uint8_t *out);
/* disk_sb_decode() - MAGIC for a file that is no cuttle store, VERSION for
 * one of another format version (sb->version says which), FIELD for a
 * geometry out of range. */
enum disk_fmt_result	disk_sb_decode(struct disk_sb *sb, const uint8_t *in,
			    size_t len);
/* The byte offset of region r in the file. */
uint64_t	disk_region_pos(const struct disk_sb *sb, uint32_t r);

/* The header at the start of each region, written when it is opened. */
struct disk_region_hdr {
	uint64_t	seq;		/* every record here has seq >= this */
	uint32_t	region;		/* its own number */
	uint32_t	region_size;
	uint32_t	store_tag;
};
void	disk_region_hdr_encode(const struct disk_region_hdr *h, uint8_t *out);
/* disk_region_hdr_decode() - also FIELD when the region number or size
 * differ from want_region / sb, FOREIGN when the store tag does. */
enum disk_fmt_result	disk_region_hdr_decode(struct disk_region_hdr *h,
			    const uint8_t *in, size_t len,
			    const struct disk_sb *sb, uint32_t want_region);

/* -- records ------------------------------------------------------------- */

enum disk_rec_kind {
	DISK_REC_HEAD = 1,	/* an object: URL, reply headers, body or map */
	DISK_REC_CHUNK = 2,	/* part of a large object's body */
	DISK_REC_TOMB = 3	/* the key was purged or invalidated */
};
#define DISK_RECF_CHUNKED	0x0001u	/* head: body in chunk records */

/* A decoded record header.  Lengths are checked against the record. */
struct disk_rec {
	enum disk_rec_kind	kind;
	uint16_t		flags;
	uint64_t		seq;
	uint8_t			key[DISK_KEY_LEN];
	uint32_t		url_len;
	uint32_t		hdr_len;
	uint32_t		nchunks;	/* head: map entries; chunk: index */
	uint32_t		body_len;	/* body bytes in this record */
	uint64_t		object_size;	/* the whole body's length */
	uint32_t		store_tag;
	uint32_t		rec_len;	/* on disk, padding included */
};

/* Where a chunk record is, in a head's chunk map. */
struct disk_chunk_ref {
	uint32_t	region;
	uint32_t	offset;
	uint32_t	rec_len;
	uint32_t	body_len;
	uint64_t	seq;
};

/* disk_rec_len() - the bytes a record with these payload lengths takes on
 * disk (header, payload, checksum, padding); 0 if above UINT32_MAX. */
uint32_t	disk_rec_len(size_t url_len, size_t hdr_len, uint32_t nchunks,
		    size_t body_len);
/* disk_rec_encode() - r's header fields (rec_len, url_len, hdr_len,
 * body_len, nchunks computed from what is passed), then the payload, the
 * checksum and zero padding into out, which has disk_rec_len() bytes.
 * map has r->nchunks entries on a chunked head, else NULL. */
void	disk_rec_encode(const struct disk_rec *r, const char *url,
	    const char *hdrs, const struct disk_chunk_ref *map,
	    const uint8_t *body, uint8_t *out);
/* disk_rec_encodev() - the same with the body in n pieces (iovecs of
 * r->body_len bytes in all; n may be 0 when there is none), each copied
 * once into its place in out: the bytes are disk_rec_encode()'s with the
 * pieces' concatenation as body. */
void	disk_rec_encodev(const struct disk_rec *r, const char *url,
	    const char *hdrs, const struct disk_chunk_ref *map,
	    const struct iovec *body, unsigned n, uint8_t *out);
/* disk_rec_encode_split() - a record with a body alone (a chunk: r's
 * url, hdrs and map empty) whose body is not next to its header: the
 * body is the n pieces of body, read in place, never copied.  The header
 * into hdr (DISK_REC_HDR_LEN bytes), the checksum and the padding into
 * tail; returns their length (the record's bytes on disk are hdr, the
 * pieces, then that many of tail: the same as disk_rec_encode()'s). */
uint32_t	disk_rec_encode_split(const struct disk_rec *r,
		    const struct iovec *body, unsigned n, uint8_t *hdr,
		    uint8_t *tail);
/* disk_rec_decode_header() - the header alone: magic, version, header
 * checksum, kind, lengths (the record must fit in max_len and a chunk map
 * and kind agree), store tag.  Enough to skip to the next record. */
enum disk_fmt_result	disk_rec_decode_header(struct disk_rec *r,
			    const uint8_t *in, size_t max_len,
			    uint32_t store_tag);
/* disk_rec_verify() - the record checksum over r->rec_len bytes of in
 * (header decoded by the call above). */
enum disk_fmt_result	disk_rec_verify(const struct disk_rec *r,
			    const uint8_t *in);
/* Payload pieces of a decoded, verified record in its buffer. */
const char	*disk_rec_url(const struct disk_rec *r, const uint8_t *in);
const char	*disk_rec_hdrs(const struct disk_rec *r, const uint8_t *in);
const uint8_t	*disk_rec_body(const struct disk_rec *r, const uint8_t *in);
/* disk_rec_chunk_ref() - map entry i (< r->nchunks); FIELD when it points
 * outside the store or has an impossible length. */
enum disk_fmt_result	disk_rec_chunk_ref(const struct disk_rec *r,
			    const uint8_t *in, uint32_t i,
			    const struct disk_sb *sb, struct disk_chunk_ref *c);

/* -- footers ------------------------------------------------------------- */

/* One footer entry: a record of the region, as the index needs it. */
struct disk_foot_ent {
	uint8_t		key[DISK_KEY_LEN];
	uint64_t	seq;
	uint64_t	object_size;
	uint32_t	offset;
	uint32_t	rec_len;
	uint32_t	first_region;	/* head: where its first chunk is */
	uint8_t		kind;
	uint8_t		flags;
};
/* The trailer: the last DISK_TRAILER_LEN bytes of a sealed region. */
struct disk_trailer {
	uint64_t	region_seq;	/* == the region header's seq */
	uint64_t	last_seq;	/* of its last record, 0 if none */
	uint32_t	count;		/* entries */
	uint32_t	foot_off;	/* where the first entry is */
	uint32_t	records_end;	/* where records stop */
	uint32_t	store_tag;
	uint64_t	entries_sum;	/* XXH3-64 of the entries */
};
/* The bytes a footer of n entries takes, trailer included. */
uint32_t	disk_footer_len(uint32_t n);
void	disk_foot_ent_encode(const struct disk_foot_ent *e, uint8_t *out);
void	disk_foot_ent_decode(struct disk_foot_ent *e, const uint8_t *in);
/* disk_trailer_encode() - t, with entries_sum computed over the count
 * encoded entries that precede the trailer in out (out points at the
 * first entry, the trailer follows them). */
void	disk_trailer_encode(struct disk_trailer *t, uint8_t *ents);
/* disk_trailer_decode() - the trailer at in (DISK_TRAILER_LEN bytes); its
 * fields are checked against the region size: the entries fit between
 * records_end and the trailer. */
enum disk_fmt_result	disk_trailer_decode(struct disk_trailer *t,
			    const uint8_t *in, size_t len,
			    const struct disk_sb *sb);
/* disk_footer_verify() - the entries' checksum; ents has t->count
 * entries. */
enum disk_fmt_result	disk_footer_verify(const struct disk_trailer *t,
			    const uint8_t *ents);
/* disk_foot_ent_check() - an entry of a verified footer against its
 * region: inside records_end, aligned, kind known. */
enum disk_fmt_result	disk_foot_ent_check(const struct disk_foot_ent *e,
			    const struct disk_trailer *t,
			    const struct disk_sb *sb);

#endif /* CUTTLE_DISK_FORMAT_H */
