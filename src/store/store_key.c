/*
 * store_key.c - store keys: SHA-256 of the length-prefixed parts, first
 * 16 bytes.
 *
 * The one file outside src/comm/ that includes OpenSSL (layering.sh has
 * the exception): a digest is a pure function of its input, and the rule
 * that keeps OpenSSL in comm is there to keep I/O out of upper layers.
 *
 * The digest is fetched once per thread (EVP_MD_fetch is costly, and
 * OpenSSL 3 asks callers to fetch once and reuse), with one context to
 * go with it; each loop will own a thread, so nothing here is shared.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/check.h"
#include "store/store.h"

static _Thread_local EVP_MD		*store_sha256;
static _Thread_local EVP_MD_CTX		*store_md_ctx;

/* Each part goes in as an 8-byte big-endian length, then its bytes:
 * ("ab", "c") and ("a", "bc") differ, and so do extra NULL (two parts)
 * and extra "" (three). */
static void
store_key_part(EVP_MD_CTX *ctx, const char *p, size_t len)
{
	unsigned char pfx[8];
	uint64_t n = len;
	int i;

	for (i = 7; i >= 0; i--) {
		pfx[i] = (unsigned char)(n & 0xff);
		n >>= 8;
	}
	CHECK(EVP_DigestUpdate(ctx, pfx, sizeof pfx) == 1);
	if (len > 0)
		CHECK(EVP_DigestUpdate(ctx, p, len) == 1);
}

void
store_key_make(struct store_key *k, const char *method, size_t mlen,
    const char *url, size_t ulen, const char *extra, size_t elen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	AN(k);
	if (store_sha256 == NULL) {
		store_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
		AN(store_sha256);
	}
	if (store_md_ctx == NULL) {
		store_md_ctx = EVP_MD_CTX_new();
		AN(store_md_ctx);
	}
	CHECK(EVP_DigestInit_ex(store_md_ctx, store_sha256, NULL) == 1);
	store_key_part(store_md_ctx, method, mlen);
	store_key_part(store_md_ctx, url, ulen);
	if (extra != NULL)
		store_key_part(store_md_ctx, extra, elen);
	CHECK(EVP_DigestFinal_ex(store_md_ctx, md, &mdlen) == 1);
	CHECK(mdlen >= STORE_KEY_LEN);
	memcpy(k->b, md, STORE_KEY_LEN);
}

const char *
store_key_hex(const struct store_key *k, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	unsigned i;

	AN(k);
	AN(buf);
	for (i = 0; i < STORE_KEY_LEN; i++) {
		buf[2 * i] = hex[k->b[i] >> 4];
		buf[2 * i + 1] = hex[k->b[i] & 0xf];
	}
	buf[2 * STORE_KEY_LEN] = '\0';
	return (buf);
}
