/*
 * check_tls_bump.c - unit tests for ssl_bump's pieces in src/tls/: the
 * ClientHello parser (tls_hello.c) and the certificate minter and its
 * cache (tls_mint.c).  A minted certificate is checked field by field
 * with the OpenSSL API against the profile tls_mint.h promises.
 *
 * The test CA and certificates are made at start (tls_certs.sh).  TLS
 * handshakes run in memory (BIO pairs): no sockets.
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"
#include "tls/tls_hello.h"
#include "tls/tls_mint.h"

static char certdir[PATH_MAX];

static const char *
cert(const char *name)
{
	static char path[4][PATH_MAX + 32];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof path[i], "%s/%s", certdir, name);
	return (path[i]);
}

/* --- a real ClientHello, from OpenSSL ------------------------------------ */

static size_t
real_hello(const char *sni, uint8_t *out, size_t max)
{
	struct tls_options o;
	struct tls_ctx *t;
	char err[256];
	BIO *in, *wbio;
	SSL *ssl;
	int n;

	memset(&o, 0, sizeof o);
	o.no_default_ca = true;
	o.flags = TLS_DONT_VERIFY_PEER;
	ck_assert_int_eq(tls_ctx_client_new(&o, &t, err, sizeof err), 0);
	ssl = tls_client_new(t, sni, 443);
	ck_assert_ptr_nonnull(ssl);
	in = BIO_new(BIO_s_mem());
	wbio = BIO_new(BIO_s_mem());
	SSL_set_bio(ssl, in, wbio);
	ck_assert_int_le(SSL_do_handshake(ssl), 0);
	n = BIO_read(wbio, out, (int)max);
	ck_assert_int_gt(n, 100);
	SSL_free(ssl);
	tls_ctx_free(&t);
	return ((size_t)n);
}

START_TEST(hello_real_client_hello)
{
	uint8_t b[4096];
	struct tls_hello h;
	const char *why;
	size_t len, need;

	len = real_hello("www.example.com", b, sizeof b);
	ck_assert_int_eq(tls_hello_parse(b, len, TLS_HELLO_MAX, &h, &need,
	    &why), TLS_HELLO_OK);
	ck_assert_str_eq(h.sni, "www.example.com");
	ck_assert(h.alpn_http11);
	ck_assert(!h.alpn_h2);
	ck_assert_uint_eq(h.version, 0x0304);
	ck_assert_uint_eq(h.len, len);
	/* An IP address gets no SNI (RFC 6066 3). */
	len = real_hello("127.0.0.1", b, sizeof b);
	ck_assert_int_eq(tls_hello_parse(b, len, TLS_HELLO_MAX, &h, &need,
	    &why), TLS_HELLO_OK);
	ck_assert_str_eq(h.sni, "");
}
END_TEST

START_TEST(hello_cut_at_every_byte_asks_for_more)
{
	uint8_t b[4096];
	struct tls_hello h;
	const char *why;
	size_t len, cut, need;

	len = real_hello("www.example.com", b, sizeof b);
	for (cut = 0; cut < len; cut++) {
		need = 0;
		ck_assert_int_eq(tls_hello_parse(b, cut, TLS_HELLO_MAX, &h,
		    &need, &why), TLS_HELLO_MORE);
		ck_assert_uint_gt(need, cut);
		ck_assert_uint_le(need, len);
	}
}
END_TEST

/* The handshake message re-framed in records of `frag` bytes. */
static size_t
refragment(const uint8_t *b, size_t len, size_t frag, uint8_t *out)
{
	const uint8_t *msg = b + 5;
	size_t mlen = len - 5, o = 0, i, n;

	for (i = 0; i < mlen; i += n) {
		n = mlen - i < frag ? mlen - i : frag;
		out[o++] = 22;
		out[o++] = 3;
		out[o++] = 1;
		out[o++] = (uint8_t)(n >> 8);
		out[o++] = (uint8_t)n;
		memcpy(out + o, msg + i, n);
		o += n;
	}
	return (o);
}

START_TEST(hello_over_many_records)
{
	uint8_t b[4096], f[8192];
	struct tls_hello h;
	const char *why;
	size_t len, flen, need, frag, cut;

	len = real_hello("split.example.com", b, sizeof b);
	for (frag = 1; frag < 400; frag += 37) {
		flen = refragment(b, len, frag, f);
		ck_assert_int_eq(tls_hello_parse(f, flen, TLS_HELLO_MAX, &h,
		    &need, &why), TLS_HELLO_OK);
		ck_assert_str_eq(h.sni, "split.example.com");
		ck_assert_uint_eq(h.len, flen);
		for (cut = 0; cut < flen; cut += 7)
			ck_assert_int_eq(tls_hello_parse(f, cut,
			    TLS_HELLO_MAX, &h, &need, &why), TLS_HELLO_MORE);
	}
	/* Over the limit: refused, not waited for. */
	flen = refragment(b, len, 10, f);
	ck_assert_int_eq(tls_hello_parse(f, flen, 200, &h, &need, &why),
	    TLS_HELLO_TOO_BIG);
}
END_TEST

START_TEST(hello_not_tls)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t sslv2[] = { 0x80, 0x2e, 0x01, 0x00, 0x02 };
	static const uint8_t alert[] = { 21, 3, 3, 0, 2, 2, 40 };
	struct tls_hello h;
	const char *why;
	size_t need;

	ck_assert_int_eq(tls_hello_parse((const uint8_t *)get, sizeof get - 1,
	    TLS_HELLO_MAX, &h, &need, &why), TLS_HELLO_NOT_TLS);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(tls_hello_parse((const uint8_t *)get, 1,
	    TLS_HELLO_MAX, &h, &need, &why), TLS_HELLO_NOT_TLS);
	ck_assert_int_eq(tls_hello_parse(sslv2, sizeof sslv2, TLS_HELLO_MAX,
	    &h, &need, &why), TLS_HELLO_NOT_TLS);
	ck_assert_int_eq(tls_hello_parse(alert, sizeof alert, TLS_HELLO_MAX,
	    &h, &need, &why), TLS_HELLO_NOT_TLS);
}
END_TEST

/* Every single byte changed, and every length field made too long or
 * too short: an answer each time, never a read past the end (run
 * under the sanitizers and valgrind by make check's variants). */
START_TEST(hello_mutations_never_overrun)
{
	uint8_t b[4096], *m;
	struct tls_hello h;
	const char *why;
	size_t len, i, need;
	unsigned v;
	enum tls_hello_status st;

	len = real_hello("mutate.example.com", b, sizeof b);
	for (i = 0; i < len; i++)
		for (v = 0; v < 256; v += 51) {
			/* An exact-size copy: an overrun reads past it. */
			m = malloc(len);
			ck_assert_ptr_nonnull(m);
			memcpy(m, b, len);
			m[i] ^= (uint8_t)(v | 1);
			st = tls_hello_parse(m, len, TLS_HELLO_MAX, &h, &need,
			    &why);
			ck_assert(st == TLS_HELLO_OK || st == TLS_HELLO_MORE ||
			    st == TLS_HELLO_BAD || st == TLS_HELLO_NOT_TLS ||
			    st == TLS_HELLO_TOO_BIG);
			if (st == TLS_HELLO_BAD || st == TLS_HELLO_NOT_TLS)
				ck_assert_ptr_nonnull(why);
			if (st == TLS_HELLO_MORE)
				ck_assert_uint_gt(need, len);
			free(m);
		}
}
END_TEST

START_TEST(hello_bad_server_name_refused)
{
	uint8_t b[4096];
	struct tls_hello h;
	const char *why;
	size_t len, need, i;

	len = real_hello("abcdefgh.example.com", b, sizeof b);
	/* Put a '/' into the name where it is in the bytes. */
	for (i = 0; i + 8 < len; i++)
		if (memcmp(b + i, "abcdefgh", 8) == 0)
			break;
	ck_assert_uint_lt(i + 8, len);
	b[i + 3] = '/';
	ck_assert_int_eq(tls_hello_parse(b, len, TLS_HELLO_MAX, &h, &need,
	    &why), TLS_HELLO_BAD);
	ck_assert_str_eq(why, "server_name is not a host name");
}
END_TEST

/* The real hello in b (len bytes, one record) with the extension ext
 * (type and body, elen bytes) appended to its extensions, the lengths
 * around it fixed: a client with ECH, crafted.  Returns the new
 * length. */
static size_t
hello_add_ext(uint8_t *b, size_t len, size_t max, const uint8_t *ext,
    size_t elen)
{
	size_t o = 5 + 4 + 2 + 32, n;

	ck_assert_uint_le(len + elen, max);
	o += 1 + b[o];					/* session id */
	o += 2 + ((size_t)b[o] << 8 | b[o + 1]);	/* cipher suites */
	o += 1 + b[o];					/* compression */
	n = ((size_t)b[o] << 8 | b[o + 1]) + elen;	/* extensions */
	b[o] = (uint8_t)(n >> 8);
	b[o + 1] = (uint8_t)n;
	ck_assert_uint_eq(o + 2 + n - elen, len);
	memcpy(b + len, ext, elen);
	len += elen;
	n = len - 9;					/* handshake */
	b[6] = (uint8_t)(n >> 16);
	b[7] = (uint8_t)(n >> 8);
	b[8] = (uint8_t)n;
	n = len - 5;					/* record */
	b[3] = (uint8_t)(n >> 8);
	b[4] = (uint8_t)n;
	return (len);
}

/* encrypted_client_hello, outer form (RFC 9849 5): the SNI in the clear
 * is the public name, and that is what the parser gives; the inner form
 * in the clear, a cut one, or two are malformed. */
START_TEST(hello_with_ech)
{
	static const uint8_t outer[] = {
		0xfe, 0x0d, 0x00, 0x0e,
		0x00,				/* outer */
		0x00, 0x01, 0x00, 0x01,		/* HKDF-SHA256, AES-128-GCM */
		0x2a,				/* config id */
		0x00, 0x02, 0xaa, 0xbb,		/* enc */
		0x00, 0x02, 0xcc, 0xdd,		/* payload */
	}, inner[] = { 0xfe, 0x0d, 0x00, 0x01, 0x01 },
	    cut[] = { 0xfe, 0x0d, 0x00, 0x09, 0x00, 0x00, 0x01, 0x00, 0x01,
	    0x2a, 0x00, 0x02, 0xaa };
	uint8_t b[4096], c[4096];
	struct tls_hello h;
	const char *why;
	size_t len, n, need;

	len = real_hello("public.example.com", b, sizeof b);
	memset(&h, 0, sizeof h);
	ck_assert_int_eq(tls_hello_parse(b, len, TLS_HELLO_MAX, &h, &need,
	    &why), TLS_HELLO_OK);
	ck_assert(!h.ech);
	memcpy(c, b, len);
	n = hello_add_ext(c, len, sizeof c, outer, sizeof outer);
	ck_assert_int_eq(tls_hello_parse(c, n, TLS_HELLO_MAX, &h, &need,
	    &why), TLS_HELLO_OK);
	ck_assert(h.ech);
	ck_assert_str_eq(h.sni, "public.example.com");
	ck_assert_uint_eq(h.len, n);
	/* Sent twice. */
	n = hello_add_ext(c, n, sizeof c, outer, sizeof outer);
	ck_assert_int_eq(tls_hello_parse(c, n, TLS_HELLO_MAX, &h, &need,
	    &why), TLS_HELLO_BAD);
	ck_assert_str_eq(why, "extension sent twice");
	memcpy(c, b, len);
	n = hello_add_ext(c, len, sizeof c, inner, sizeof inner);
	ck_assert_int_eq(tls_hello_parse(c, n, TLS_HELLO_MAX, &h, &need,
	    &why), TLS_HELLO_BAD);
	ck_assert_str_eq(why, "bad encrypted_client_hello extension");
	memcpy(c, b, len);
	n = hello_add_ext(c, len, sizeof c, cut, sizeof cut);
	ck_assert_int_eq(tls_hello_parse(c, n, TLS_HELLO_MAX, &h, &need,
	    &why), TLS_HELLO_BAD);
	ck_assert_str_eq(why, "bad encrypted_client_hello extension");
}
END_TEST

/* --- minting -------------------------------------------------------------- */

static struct tls_mint *
mint(size_t cache)
{
	struct tls_mint *m;
	char err[256];

	ck_assert_msg(tls_mint_new(cert("ca.pem"), cert("ca.key"), cache,
	    TLS_MINT_P256, &m, NULL, err, sizeof err) == 0, "%s", err);
	return (m);
}

static X509 *
mint_cert(struct tls_mint *m, const SSL *origin, const char *host)
{
	char err[256];
	SSL *ssl;
	X509 *x;

	ssl = tls_mint_server_new(m, origin, host, err, sizeof err);
	ck_assert_msg(ssl != NULL, "%s", err);
	x = SSL_get_certificate(ssl);
	ck_assert_ptr_nonnull(x);
	ck_assert(X509_up_ref(x));
	/* The SSL object's key is the leaf key, which signs for x. */
	ck_assert(SSL_check_private_key(ssl));
	SSL_free(ssl);
	return (x);
}

static X509 *
load(const char *name)
{
	FILE *f = fopen(cert(name), "r");
	X509 *x;

	ck_assert_ptr_nonnull(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	return (x);
}

/* The SAN as "DNS:a,IP:b" text. */
static void
san_text(X509 *x, char *out, size_t len)
{
	GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL);
	GENERAL_NAME *gn;
	const unsigned char *p;
	size_t o = 0;
	int i;

	out[0] = '\0';
	ck_assert_ptr_nonnull(san);
	for (i = 0; i < sk_GENERAL_NAME_num(san); i++) {
		gn = sk_GENERAL_NAME_value(san, i);
		if (gn->type == GEN_DNS)
			o += (size_t)snprintf(out + o, len - o, "%sDNS:%s",
			    i > 0 ? "," : "",
			    ASN1_STRING_get0_data(gn->d.dNSName));
		else if (gn->type == GEN_IPADD) {
			p = ASN1_STRING_get0_data(gn->d.iPAddress);
			ck_assert_int_eq(ASN1_STRING_length(gn->d.iPAddress),
			    4);
			o += (size_t)snprintf(out + o, len - o,
			    "%sIP:%u.%u.%u.%u", i > 0 ? "," : "", p[0], p[1],
			    p[2], p[3]);
		} else
			ck_abort_msg("unexpected name type %d", gn->type);
	}
	GENERAL_NAMES_free(san);
}

static time_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	ck_assert(ASN1_TIME_to_tm(t, &tm));
	return (timegm(&tm));
}

/* The whole profile of tls_mint.h, for a certificate made for host with
 * a leaf key of type key. */
static void
check_profile_key(X509 *x, const char *cn, const char *san,
    enum tls_mint_key key)
{
	X509 *ca = load("ca.pem");
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	EXTENDED_KEY_USAGE *eku;
	AUTHORITY_KEYID *akid;
	const ASN1_OCTET_STRING *ca_skid;
	EVP_PKEY *pub, *capub;
	char text[512];
	time_t now = time(NULL);
	int crit, len;

	ck_assert_int_eq(X509_get_version(x), X509_VERSION_3);
	/* 16 random bytes, positive. */
	ck_assert_int_eq(ASN1_STRING_length(sn), 16);
	ck_assert_int_eq(ASN1_STRING_type(sn), V_ASN1_INTEGER);
	ck_assert_int_eq(X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(ca)), 0);
	/* notBefore now - 2 days; notAfter the CA's (30 days, earlier than
	 * now + 199 days and the same as the origin's here). */
	ck_assert_int_le(labs((long)(asn1_time(X509_get0_notBefore(x)) -
	    (now - 2 * 86400))), 60);
	ck_assert_int_eq(asn1_time(X509_get0_notAfter(x)),
	    asn1_time(X509_get0_notAfter(ca)));
	/* CN only when given. */
	len = X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, text, sizeof text);
	if (cn == NULL)
		ck_assert_int_eq(len, -1);
	else
		ck_assert_str_eq(text, cn);
	san_text(x, text, sizeof text);
	ck_assert_str_eq(text, san);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	ck_assert_ptr_nonnull(bc);
	ck_assert_int_eq(crit, 1);
	ck_assert(!bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	ck_assert_ptr_nonnull(ku);
	ck_assert_int_eq(crit, 1);
	/* keyEncipherment for RSA only (RSA key exchange, TLS 1.2). */
	ck_assert_uint_eq(X509_get_key_usage(x), key == TLS_MINT_RSA2048 ?
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT : KU_DIGITAL_SIGNATURE);
	ASN1_BIT_STRING_free(ku);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	ck_assert_ptr_nonnull(eku);
	ck_assert_int_eq(sk_ASN1_OBJECT_num(eku), 1);
	ck_assert_int_eq(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
	    NID_server_auth);
	EXTENDED_KEY_USAGE_free(eku);
	akid = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	ck_assert_ptr_nonnull(akid);
	ca_skid = X509_get0_subject_key_id(ca);
	ck_assert_ptr_nonnull(ca_skid);
	ck_assert_int_eq(ASN1_OCTET_STRING_cmp(akid->keyid, ca_skid), 0);
	AUTHORITY_KEYID_free(akid);
	/* Signed by the CA, with SHA-256, and not with the CA's key. */
	capub = X509_get0_pubkey(ca);
	ck_assert_int_eq(X509_verify(x, capub), 1);
	ck_assert_int_eq(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	pub = X509_get0_pubkey(x);
	ck_assert_int_eq(EVP_PKEY_get_base_id(pub), key == TLS_MINT_RSA2048 ?
	    EVP_PKEY_RSA : EVP_PKEY_EC);
	ck_assert_int_eq(EVP_PKEY_get_bits(pub), key == TLS_MINT_RSA2048 ?
	    2048 : 256);
	ck_assert_int_ne(EVP_PKEY_eq(pub, capub), 1);
	X509_free(ca);
}

static void
check_profile(X509 *x, const char *cn, const char *san)
{
	check_profile_key(x, cn, san, TLS_MINT_P256);
}

START_TEST(mint_for_a_host)
{
	struct tls_mint *m = mint(1 << 20);
	X509 *x;

	x = mint_cert(m, NULL, "www.example.com");
	check_profile(x, "www.example.com", "DNS:www.example.com");
	X509_free(x);
	x = mint_cert(m, NULL, "10.1.2.3");
	check_profile(x, "10.1.2.3", "IP:10.1.2.3");
	X509_free(x);
	tls_mint_free(&m);
}
END_TEST

START_TEST(mint_long_name_has_no_cn)
{
	struct tls_mint *m = mint(1 << 20);
	char host[128];
	X509 *x;

	/* 64 bytes: too long for a CN, fine for a SAN. */
	memset(host, 'a', 60);
	memcpy(host + 60, ".com", 5);
	x = mint_cert(m, NULL, host);
	check_profile(x, NULL, "DNS:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaa.com");
	X509_free(x);
	tls_mint_free(&m);
}
END_TEST

START_TEST(mint_refuses_bad_names)
{
	static const char *bad[] = { "", "a b.com", "a/b", "-", "x..y",
	    "*.example.com", "a\"b", "exa%mple.com", "a@b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".com" };
	struct tls_mint *m = mint(1 << 20);
	struct tls_mint_stats st;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		ck_assert_msg(tls_mint_server_new(m, NULL, bad[i], err,
		    sizeof err) == NULL, "%s", bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "not a host name"));
	}
	tls_mint_stats(m, &st);
	ck_assert_uint_eq(st.failures, sizeof bad / sizeof bad[0]);
	ck_assert_uint_eq(st.entries, 0);
	tls_mint_free(&m);
}
END_TEST

/* A handshake in memory between a client of ours (verifying against the
 * test CA, errors kept) and a server showing crt. */
static SSL *
origin_handshake(const char *host, const char *crt, const char *key)
{
	struct tls_options o;
	struct tls_ctx *c, *s;
	char err[256];
	SSL *cs, *ss;
	BIO *b1, *b2;
	int i, rc, rs;

	memset(&o, 0, sizeof o);
	o.no_default_ca = true;
	o.cafile = cert("ca.pem");
	ck_assert_int_eq(tls_ctx_client_new(&o, &c, err, sizeof err), 0);
	memset(&o, 0, sizeof o);
	o.cert = cert(crt);
	o.key = cert(key);
	ck_assert_int_eq(tls_ctx_server_new(&o, &s, err, sizeof err), 0);
	cs = tls_client_new(c, host, 443);
	ss = tls_server_new(s);
	ck_assert_int_eq(tls_client_keep_errors(cs), 0);
	ck_assert(BIO_new_bio_pair(&b1, 0, &b2, 0));
	SSL_set_bio(cs, b1, b1);
	SSL_set_bio(ss, b2, b2);
	for (i = 0; i < 20; i++) {
		rc = SSL_do_handshake(cs);
		rs = SSL_do_handshake(ss);
		if (rc == 1 && rs == 1)
			break;
	}
	ck_assert_int_eq(rc, 1);
	SSL_free(ss);
	tls_ctx_free(&c);
	tls_ctx_free(&s);
	return (cs);
}

START_TEST(mint_mirrors_the_origin)
{
	struct tls_mint *m = mint(1 << 20);
	struct tls_mint_stats st;
	char *names[8];
	int codes[4];
	size_t n;
	SSL *o;
	X509 *x, *y;

	o = origin_handshake("origin.test", "server.pem", "server.key");
	ck_assert_uint_eq(tls_verify_errors(o, codes, 4), 0);
	n = tls_peer_names(o, names, 8);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(names[0], "localhost");
	ck_assert_str_eq(names[1], "127.0.0.1");
	ck_assert_str_eq(names[3], "*.origin.test");
	tls_names_free(names, n);
	x = mint_cert(m, o, "origin.test");
	check_profile(x, "localhost", "DNS:localhost,IP:127.0.0.1,"
	    "DNS:origin.test,DNS:*.origin.test");
	/* The same origin certificate again: from the cache, whatever the
	 * host. */
	y = mint_cert(m, o, "www.origin.test");
	ck_assert_int_eq(X509_cmp(x, y), 0);
	tls_mint_stats(m, &st);
	ck_assert_uint_eq(st.misses, 1);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.entries, 1);
	X509_free(x);
	X509_free(y);
	SSL_free(o);
	tls_mint_free(&m);
}
END_TEST

/* An expired origin is minted for only when sslproxy_cert_error allowed
 * it: the leaf is valid now (a day), not over with the origin's. */
START_TEST(mint_expired_origin_lives_a_day)
{
	struct tls_mint *m = mint(1 << 20);
	struct tls_mint_stats st;
	time_t now = time(NULL), end;
	int codes[4];
	SSL *o;
	X509 *x, *y;

	o = origin_handshake("origin.test", "expired.pem", "expired.key");
	ck_assert_uint_eq(tls_verify_errors(o, codes, 4), 1);
	ck_assert_int_eq(codes[0], X509_V_ERR_CERT_HAS_EXPIRED);
	x = mint_cert(m, o, "origin.test");
	end = asn1_time(X509_get0_notAfter(x));
	ck_assert_int_gt(end, now + 3600);
	ck_assert_int_le(end, now + 86400 + 60);
	ck_assert_int_lt(asn1_time(X509_get0_notBefore(x)), now);
	/* Still valid: the cache's. */
	y = mint_cert(m, o, "origin.test");
	ck_assert_int_eq(X509_cmp(x, y), 0);
	tls_mint_stats(m, &st);
	ck_assert_uint_eq(st.hits, 1);
	X509_free(x);
	X509_free(y);
	SSL_free(o);
	tls_mint_free(&m);
}
END_TEST

/* dynamic_cert_key=rsa2048: the same profile with an RSA-2048 key and
 * keyEncipherment, for a host and mirroring an origin. */
START_TEST(mint_rsa_leaf)
{
	struct tls_mint *m;
	char err[256];
	SSL *o;
	X509 *x;

	ck_assert_msg(tls_mint_new(cert("ca.pem"), cert("ca.key"), 1 << 20,
	    TLS_MINT_RSA2048, &m, NULL, err, sizeof err) == 0, "%s", err);
	x = mint_cert(m, NULL, "www.example.com");
	check_profile_key(x, "www.example.com", "DNS:www.example.com",
	    TLS_MINT_RSA2048);
	X509_free(x);
	o = origin_handshake("origin.test", "server.pem", "server.key");
	x = mint_cert(m, o, "origin.test");
	check_profile_key(x, "localhost", "DNS:localhost,IP:127.0.0.1,"
	    "DNS:origin.test,DNS:*.origin.test", TLS_MINT_RSA2048);
	X509_free(x);
	SSL_free(o);
	tls_mint_free(&m);
}
END_TEST

/* Origins verified lately: found by their key with their errors, and
 * minted from as from the handshake itself. */
START_TEST(mint_origin_remembered)
{
	struct tls_mint *m = mint(1 << 20);
	int codes[4];
	size_t n = 9;
	char err[256];
	SSL *o, *ssl;
	X509 *x, *y;

	o = origin_handshake("wrong.test", "server.pem", "server.key");
	ck_assert_ptr_null(tls_mint_origin_find(m, "wrong.test x:443", codes,
	    &n, 4));
	tls_mint_origin_keep(m, "wrong.test x:443", o);
	ck_assert_ptr_null(tls_mint_origin_find(m, "other.test x:443", codes,
	    &n, 4));
	x = tls_mint_origin_find(m, "wrong.test x:443", codes, &n, 4);
	ck_assert_ptr_nonnull(x);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(codes[0], X509_V_ERR_HOSTNAME_MISMATCH);
	ck_assert_int_eq(X509_cmp(x, SSL_get0_peer_certificate(o)), 0);
	/* Too little room for its errors: not given. */
	ck_assert_ptr_null(tls_mint_origin_find(m, "wrong.test x:443", codes,
	    &n, 0));
	ssl = tls_mint_server_new_cert(m, x, "wrong.test", err, sizeof err);
	ck_assert_msg(ssl != NULL, "%s", err);
	y = mint_cert(m, o, "wrong.test");
	ck_assert_int_eq(X509_cmp(SSL_get_certificate(ssl), y), 0);
	X509_free(y);
	SSL_free(ssl);
	tls_mint_cert_free(&x);
	ck_assert_ptr_null(x);
	SSL_free(o);
	tls_mint_free(&m);
}
END_TEST

START_TEST(origin_errors_are_kept)
{
	int codes[4];
	size_t n;
	SSL *o;

	o = origin_handshake("wrong.test", "server.pem", "server.key");
	n = tls_verify_errors(o, codes, 4);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(codes[0], X509_V_ERR_HOSTNAME_MISMATCH);
	ck_assert_int_eq(codes[0], (int)tls_verify_code(
	    "SQUID_X509_V_ERR_DOMAIN_MISMATCH"));
	SSL_free(o);
	o = origin_handshake("localhost", "self.pem", "self.key");
	n = tls_verify_errors(o, codes, 4);
	ck_assert_uint_ge(n, 1);
	ck_assert_int_eq(codes[0], X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
	SSL_free(o);
}
END_TEST

START_TEST(mint_cache_is_bounded_lru)
{
	struct tls_mint *m;
	struct tls_mint_stats st;
	char host[64];
	X509 *x;
	int i;

	/* Room for about three certificates. */
	m = mint(3 * 2000);
	for (i = 0; i < 20; i++) {
		snprintf(host, sizeof host, "h%d.example.com", i);
		x = mint_cert(m, NULL, host);
		X509_free(x);
		tls_mint_stats(m, &st);
		ck_assert_uint_le(st.bytes, st.limit);
	}
	ck_assert_uint_ge(st.entries, 2);
	ck_assert_uint_le(st.entries, 3);
	ck_assert_uint_eq(st.misses, 20);
	/* The newest is kept, the oldest went. */
	X509_free(mint_cert(m, NULL, "h19.example.com"));
	X509_free(mint_cert(m, NULL, "h0.example.com"));
	tls_mint_stats(m, &st);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.misses, 21);
	tls_mint_free(&m);
}
END_TEST

START_TEST(mint_ca_checked)
{
	struct tls_mint *m, *m2;
	char err[256];
	bool warn;

	ck_assert_int_eq(tls_mint_new(cert("ca.pem"), cert("other.key"), 1000,
	    TLS_MINT_P256, &m, NULL, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "does not match"));
	ck_assert_int_eq(tls_mint_new(cert("server.pem"), cert("server.key"),
	    1000, TLS_MINT_P256, &m, NULL, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a CA"));
	ck_assert_int_eq(tls_mint_new(cert("none.pem"), NULL, 1000,
	    TLS_MINT_P256, &m, NULL, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "none.pem"));
	ck_assert_int_eq(chmod(cert("ca.key"), 0644), 0);
	ck_assert_int_eq(tls_mint_new(cert("ca.pem"), cert("ca.key"), 1000,
	    TLS_MINT_P256, &m, &warn, err, sizeof err), 0);
	ck_assert(warn);
	tls_mint_free(&m);
	ck_assert_int_eq(chmod(cert("ca.key"), 0600), 0);
	ck_assert_int_eq(tls_mint_new(cert("ca.pem"), cert("ca.key"), 1000,
	    TLS_MINT_P256, &m, &warn, err, sizeof err), 0);
	ck_assert(!warn);
	/* A reference outlives the creator's. */
	m2 = tls_mint_ref(m);
	tls_mint_free(&m);
	ck_assert_ptr_null(m);
	X509_free(mint_cert(m2, NULL, "after.example.com"));
	tls_mint_free(&m2);
}
END_TEST

static Suite *
tls_bump_suite(void)
{
	Suite *s = suite_create("tls_bump");
	TCase *tc;

	tc = tcase_create("hello");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, hello_real_client_hello);
	tcase_add_test(tc, hello_cut_at_every_byte_asks_for_more);
	tcase_add_test(tc, hello_over_many_records);
	tcase_add_test(tc, hello_not_tls);
	tcase_add_test(tc, hello_mutations_never_overrun);
	tcase_add_test(tc, hello_bad_server_name_refused);
	tcase_add_test(tc, hello_with_ech);
	suite_add_tcase(s, tc);

	tc = tcase_create("mint");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mint_for_a_host);
	tcase_add_test(tc, mint_long_name_has_no_cn);
	tcase_add_test(tc, mint_rsa_leaf);
	tcase_add_test(tc, mint_refuses_bad_names);
	tcase_add_test(tc, mint_mirrors_the_origin);
	tcase_add_test(tc, origin_errors_are_kept);
	tcase_add_test(tc, mint_origin_remembered);
	tcase_add_test(tc, mint_expired_origin_lives_a_day);
	tcase_add_test(tc, mint_cache_is_bounded_lru);
	tcase_add_test(tc, mint_ca_checked);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	char cmd[2 * PATH_MAX + 64];
	SRunner *sr;
	int failed;

	snprintf(certdir, sizeof certdir, "%s/cuttle-bump.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(certdir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	snprintf(cmd, sizeof cmd, "sh '%s/test-suite/tls_certs.sh' '%s'",
	    top != NULL ? top : "..", certdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make the test certificates: %s\n",
		    cmd);
		return (1);
	}
	sr = srunner_create(tls_bump_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", certdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", certdir);
	return (failed == 0 ? 0 : 1);
}
