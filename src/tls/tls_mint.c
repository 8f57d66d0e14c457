/*
 * tls_mint.c - minting ssl_bump's leaf certificates, and their cache (the
 * contract and the certificate profile are in tls_mint.h).
 *
 *	tls_mint_server_new()	key: SHA-256("C" origin DER) or ("H" host)
 *	  mint_lookup()		hit: to the front of the LRU list
 *	  mint_make()		miss: a leaf, signed, then cached; the
 *				oldest go while the cache is over its bytes
 *	  SSL object		from the minter's server context, with the
 *				leaf, the leaf key and the CA as its chain
 *
 * The cache is a chained hash table over a doubly linked LRU list; an
 * SSL object holds its own reference to its certificate, so evicting one
 * never harms a handshake under way.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/check.h"
#include "base/list.h"
#include "tls/tls.h"
#include "tls/tls_mint.h"

#define MINT_BUCKETS		1024u
#define MINT_DAY		(24 * 3600)
#define MINT_BEFORE		(2 * MINT_DAY)		/* notBefore: now - */
#define MINT_LIFE		(199L * MINT_DAY)	/* notAfter: now + */
#define MINT_LIFE_EXPIRED	MINT_DAY	/* ... for an expired origin */
#define MINT_MARGIN		3600	/* a cached leaf ending sooner is
					 * minted again */
#define MINT_OVERHEAD		1536u	/* an X509's structures beyond
					 * its DER, and the entry */
#define MINT_CN_MAX		64	/* CN only when shorter */
#define MINT_SAN_MAX		100	/* names copied from an origin */
#define MINT_ORIGINS		128	/* origin certificates remembered */
#define MINT_ORIGIN_TTL		60	/* ... for seconds */
#define MINT_ORIGIN_ERRORS	16

struct mint_entry {
	unsigned char		key[32];
	X509			*cert;
	size_t			bytes;
	struct list		lru;		/* front: most recent */
	struct mint_entry	*next;		/* bucket chain */
};

/* An origin's certificate, verified lately (tls_mint_origin_keep()). */
struct mint_origin {
	char			key[300];	/* "" unused */
	X509			*cert;
	int			codes[MINT_ORIGIN_ERRORS];
	size_t			ncodes;
	time_t			until;
};

struct tls_mint {
	unsigned		magic;
#define TLS_MINT_MAGIC		0x71c3a47aU
	unsigned		refs;
	X509			*ca;
	EVP_PKEY		*ca_key;
	EVP_PKEY		*leaf_key;
	struct tls_ctx		*ctx;		/* server side, no cert */
	struct mint_entry	*bucket[MINT_BUCKETS];
	struct list		lru;
	struct tls_mint_stats	st;
	struct mint_origin	origins[MINT_ORIGINS];
};

static int
mint_fail(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long code = ERR_peek_last_error();
	const char *why = code != 0 ? ERR_reason_error_string(code) : NULL;

	snprintf(err, errlen, "%s %s%s%s", what, file, why != NULL ? ": " :
	    "", why != NULL ? why : "");
	ERR_clear_error();
	return (-EINVAL);
}

int
tls_mint_new(const char *cafile, const char *keyfile, size_t cache_bytes,
    enum tls_mint_key key, struct tls_mint **out, bool *warn, char *err,
    size_t errlen)
{
	struct tls_options o;
	struct tls_mint *m;
	struct stat sb;
	FILE *f;
	int r;

	AN(cafile);
	AN(out);
	*out = NULL;
	if (keyfile == NULL)
		keyfile = cafile;
	ALLOC_OBJ(m, TLS_MINT_MAGIC);
	if (m == NULL)
		return (-ENOMEM);
	m->refs = 1;
	list_init(&m->lru);
	m->st.limit = cache_bytes;
	ERR_clear_error();
	r = -EINVAL;
	if ((f = fopen(cafile, "r")) == NULL) {
		snprintf(err, errlen, "cannot read CA certificate %s: %s",
		    cafile, strerror(errno));
		goto fail;
	}
	m->ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (m->ca == NULL) {
		r = mint_fail(err, errlen, "no certificate in", cafile);
		goto fail;
	}
	if ((f = fopen(keyfile, "r")) == NULL) {
		snprintf(err, errlen, "cannot read CA key %s: %s", keyfile,
		    strerror(errno));
		goto fail;
	}
	if (warn != NULL)
		*warn = fstat(fileno(f), &sb) == 0 &&
		    (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0;
	m->ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (m->ca_key == NULL) {
		r = mint_fail(err, errlen, "no private key in", keyfile);
		goto fail;
	}
	if (!X509_check_private_key(m->ca, m->ca_key)) {
		ERR_clear_error();
		snprintf(err, errlen, "key %s does not match CA certificate %s",
		    keyfile, cafile);
		goto fail;
	}
	if (X509_check_ca(m->ca) == 0) {
		snprintf(err, errlen, "%s is not a CA certificate (it needs "
		    "basicConstraints CA:TRUE)", cafile);
		goto fail;
	}
	r = -ENOMEM;
	m->leaf_key = key == TLS_MINT_RSA2048 ? EVP_RSA_gen(2048) :
	    EVP_EC_gen("P-256");
	if (m->leaf_key == NULL)
		goto fail;
	memset(&o, 0, sizeof o);
	o.cert_per_conn = true;
	r = tls_ctx_server_new(&o, &m->ctx, err, errlen);
	if (r != 0)
		goto fail;
	*out = m;
	return (0);
fail:
	ERR_clear_error();
	m->refs = 1;
	tls_mint_free(&m);
	return (r);
}

struct tls_mint *
tls_mint_ref(struct tls_mint *m)
{
	CHECK_OBJ_NOTNULL(m, TLS_MINT_MAGIC);
	m->refs++;
	return (m);
}

static unsigned
mint_bucket(const unsigned char *key)
{
	return ((key[0] | (unsigned)key[1] << 8) % MINT_BUCKETS);
}

static void
mint_entry_free(struct tls_mint *m, struct mint_entry *e)
{
	struct mint_entry **pp = &m->bucket[mint_bucket(e->key)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	list_remove(&e->lru);
	m->st.entries--;
	m->st.bytes -= e->bytes;
	X509_free(e->cert);
	free(e);
}

void
tls_mint_free(struct tls_mint **mp)
{
	struct tls_mint *m;
	size_t i;

	AN(mp);
	if (*mp == NULL)
		return;
	m = *mp;
	*mp = NULL;
	CHECK_OBJ_NOTNULL(m, TLS_MINT_MAGIC);
	if (--m->refs > 0)
		return;
	while (!list_empty(&m->lru))
		mint_entry_free(m, container_of(m->lru.next,
		    struct mint_entry, lru));
	for (i = 0; i < MINT_ORIGINS; i++)
		X509_free(m->origins[i].cert);
	tls_ctx_free(&m->ctx);
	EVP_PKEY_free(m->leaf_key);
	EVP_PKEY_free(m->ca_key);
	X509_free(m->ca);
	FREE_OBJ(m);
}

void
tls_mint_stats(const struct tls_mint *m, struct tls_mint_stats *st)
{
	CHECK_OBJ_NOTNULL(m, TLS_MINT_MAGIC);
	*st = m->st;
}

/* -- names ----------------------------------------------------------------- */

static bool
mint_is_ip(const char *s)
{
	ASN1_OCTET_STRING *a = a2i_IPADDRESS(s);

	if (a == NULL)
		return (false);
	ASN1_OCTET_STRING_free(a);
	return (true);
}

bool
tls_name_ok(const char *s, size_t len, bool wildcard)
{
	char ip[64];
	size_t i, label = 0;

	if (len == 0 || len > 253)
		return (false);
	if (len < sizeof ip && memchr(s, '\0', len) == NULL) {
		memcpy(ip, s, len);
		ip[len] = '\0';
		if (mint_is_ip(ip))
			return (true);
	}
	if (wildcard && len > 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		len -= 2;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			/* No empty label, none that ends with '-'. */
			if (label == 0 || s[i - 1] == '-')
				return (false);
			label = 0;
			continue;
		}
		if (s[i] == '-' && label == 0)
			return (false);
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return (false);
		if (++label > 63)
			return (false);
	}
	return (label > 0 && s[len - 1] != '-');
}

/* A DNS or IP general name for host, as a structure. */
static GENERAL_NAME *
mint_host_name(const char *host)
{
	GENERAL_NAME *gn;
	ASN1_IA5STRING *ia5;
	ASN1_OCTET_STRING *ip;

	if ((ip = a2i_IPADDRESS(host)) != NULL) {
		gn = GENERAL_NAME_new();
		if (gn == NULL) {
			ASN1_OCTET_STRING_free(ip);
			return (NULL);
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		return (gn);
	}
	ERR_clear_error();
	ia5 = ASN1_IA5STRING_new();
	gn = GENERAL_NAME_new();
	if (ia5 == NULL || gn == NULL ||
	    !ASN1_STRING_set(ia5, host, (int)strlen(host))) {
		ASN1_IA5STRING_free(ia5);
		GENERAL_NAME_free(gn);
		return (NULL);
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	return (gn);
}

/* Does the origin's certificate cover host (as a client checks it)? */
static bool
mint_names_host(X509 *origin, const char *host)
{
	int r;

	if (mint_is_ip(host))
		r = X509_check_ip_asc(origin, host, 0);
	else
		r = X509_check_host(origin, host, strlen(host), 0, NULL);
	ERR_clear_error();
	return (r == 1);
}

/* The origin's DNS and IP names that pass tls_name_ok(), copied. */
static int
mint_copy_names(X509 *origin, GENERAL_NAMES *to)
{
	GENERAL_NAMES *from;
	GENERAL_NAME *gn, *copy;
	const ASN1_STRING *s;
	int i, n = 0;

	from = X509_get_ext_d2i(origin, NID_subject_alt_name, NULL, NULL);
	if (from == NULL)
		return (0);
	for (i = 0; i < sk_GENERAL_NAME_num(from) && n < MINT_SAN_MAX;
	    i++) {
		gn = sk_GENERAL_NAME_value(from, i);
		if (gn->type == GEN_DNS) {
			s = gn->d.dNSName;
			if (!tls_name_ok((const char *)ASN1_STRING_get0_data(s),
			    (size_t)ASN1_STRING_length(s), true))
				continue;
		} else if (gn->type == GEN_IPADD) {
			s = gn->d.iPAddress;
			if (ASN1_STRING_length(s) != 4 &&
			    ASN1_STRING_length(s) != 16)
				continue;
		} else
			continue;
		copy = GENERAL_NAME_dup(gn);
		if (copy == NULL || !sk_GENERAL_NAME_push(to, copy)) {
			GENERAL_NAME_free(copy);
			break;
		}
		n++;
	}
	GENERAL_NAMES_free(from);
	return (n);
}

/* The subject's CN: the origin's when it is a usable name shorter than
 * MINT_CN_MAX, else host when it is; none otherwise (SAN carries the
 * names, and a longer CN would not fit X.520's ub-common-name). */
static int
mint_subject(X509 *leaf, X509 *origin, const char *host)
{
	X509_NAME *nm = X509_NAME_new();
	char cn[256];
	int len = -1, ok = 1;

	if (nm == NULL)
		return (0);
	if (origin != NULL)
		len = X509_NAME_get_text_by_NID(X509_get_subject_name(origin),
		    NID_commonName, cn, sizeof cn);
	if (len <= 0 || len >= MINT_CN_MAX ||
	    !tls_name_ok(cn, (size_t)len, true)) {
		len = host != NULL ? (int)strlen(host) : 0;
		if (len > 0 && len < MINT_CN_MAX)
			memcpy(cn, host, (size_t)len + 1);
		else
			len = 0;
	}
	if (len > 0)
		ok = X509_NAME_add_entry_by_NID(nm, NID_commonName,
		    MBSTRING_ASC, (const unsigned char *)cn, len, -1, 0);
	ok = ok && X509_set_subject_name(leaf, nm);
	X509_NAME_free(nm);
	return (ok);
}

static int
mint_ext(X509 *leaf, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	int ok;

	if (ext == NULL)
		return (0);
	ok = X509_add_ext(leaf, ext, -1);
	X509_EXTENSION_free(ext);
	return (ok);
}

/* The dates: see tls_mint.h.  The earliest notAfter wins, so a leaf is
 * never trusted longer than the origin's certificate or the CA.  An
 * origin whose certificate has expired is minted for only because
 * sslproxy_cert_error allowed it: its leaf lives a day (ending in the
 * past, the leaf would make every client refuse what the policy let
 * through). */
static int
mint_dates(X509 *leaf, X509 *origin, X509 *ca)
{
	time_t now = time(NULL);
	const ASN1_TIME *end;
	ASN1_TIME *until;
	int ok;

	if (X509_time_adj_ex(X509_getm_notBefore(leaf), 0, -MINT_BEFORE,
	    &now) == NULL)
		return (0);
	until = X509_time_adj_ex(NULL, 0, MINT_LIFE, &now);
	if (until == NULL)
		return (0);
	ok = 1;
	end = origin != NULL ? X509_get0_notAfter(origin) : NULL;
	if (end != NULL && X509_cmp_time(end, &now) <= 0)
		ok = X509_time_adj_ex(until, 0, MINT_LIFE_EXPIRED, &now) !=
		    NULL;
	else if (end != NULL && ASN1_TIME_compare(end, until) < 0)
		ok = ASN1_STRING_copy(until, end);
	if (ok && ASN1_TIME_compare(X509_get0_notAfter(ca), until) < 0)
		ok = ASN1_STRING_copy(until, X509_get0_notAfter(ca));
	ok = ok && X509_set1_notAfter(leaf, until);
	ASN1_TIME_free(until);
	return (ok);
}

static X509 *
mint_make(struct tls_mint *m, X509 *origin, const char *host, bool add)
{
	unsigned char serial[16];
	GENERAL_NAMES *san = NULL;
	GENERAL_NAME *gn;
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	X509V3_CTX v3;
	X509 *leaf;
	int n = 0;

	leaf = X509_new();
	if (leaf == NULL || !X509_set_version(leaf, X509_VERSION_3))
		goto fail;
	/* 16 random bytes, positive and not zero (RFC 5280 4.1.2.2). */
	if (RAND_bytes(serial, sizeof serial) != 1)
		goto fail;
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
	if ((bn = BN_bin2bn(serial, sizeof serial, NULL)) == NULL ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(leaf, sn))
		goto fail;
	if (!X509_set_issuer_name(leaf, X509_get_subject_name(m->ca)) ||
	    !mint_subject(leaf, add ? NULL : origin, host) ||
	    !mint_dates(leaf, origin, m->ca) ||
	    !X509_set_pubkey(leaf, m->leaf_key))
		goto fail;
	if ((san = GENERAL_NAMES_new()) == NULL)
		goto fail;
	if (origin != NULL)
		n = mint_copy_names(origin, san);
	if ((n == 0 || add) && host != NULL) {
		if ((gn = mint_host_name(host)) == NULL)
			goto fail;
		if (!sk_GENERAL_NAME_push(san, gn)) {
			GENERAL_NAME_free(gn);
			goto fail;
		}
			n++;
	}
	if (n == 0 || !X509_add1_ext_i2d(leaf, NID_subject_alt_name, san, 0,
	    X509V3_ADD_DEFAULT))
		goto fail;
	X509V3_set_ctx(&v3, m->ca, leaf, NULL, NULL, 0);
	if (!mint_ext(leaf, &v3, NID_basic_constraints, "critical,CA:FALSE") ||
	    !mint_ext(leaf, &v3, NID_key_usage,
	    EVP_PKEY_get_base_id(m->leaf_key) == EVP_PKEY_RSA ?
	    "critical,digitalSignature,keyEncipherment" :
	    "critical,digitalSignature") ||
	    !mint_ext(leaf, &v3, NID_ext_key_usage, "serverAuth") ||
	    !mint_ext(leaf, &v3, NID_subject_key_identifier, "hash") ||
	    !mint_ext(leaf, &v3, NID_authority_key_identifier,
	    "keyid:always"))
		goto fail;
	if (X509_sign(leaf, m->ca_key, EVP_sha256()) <= 0)
		goto fail;
	GENERAL_NAMES_free(san);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return (leaf);
fail:
	GENERAL_NAMES_free(san);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	X509_free(leaf);
	ERR_clear_error();
	return (NULL);
}

/* -- the cache ------------------------------------------------------------ */

/* The cached leaf for key; one that ends within MINT_MARGIN (its origin's
 * certificate is ending, or the day of an expired origin is over) is
 * dropped, to be minted again. */
static X509 *
mint_lookup(struct tls_mint *m, const unsigned char *key)
{
	struct mint_entry *e;
	time_t soon = time(NULL) + MINT_MARGIN;

	for (e = m->bucket[mint_bucket(key)]; e != NULL; e = e->next)
		if (memcmp(e->key, key, sizeof e->key) == 0) {
			if (X509_cmp_time(X509_get0_notAfter(e->cert),
			    &soon) <= 0) {
				mint_entry_free(m, e);
				return (NULL);
			}
			list_remove(&e->lru);
			list_insert_head(&m->lru, &e->lru);
			return (e->cert);
		}
	return (NULL);
}

/* Keep cert under key (the cache takes the reference); the oldest
 * entries go while the cache holds more than its limit.  A certificate
 * larger than the whole cache is not kept. */
static void
mint_keep(struct tls_mint *m, const unsigned char *key, X509 *cert)
{
	struct mint_entry *e;
	unsigned b = mint_bucket(key);
	int der = i2d_X509(cert, NULL);

	e = calloc(1, sizeof *e);
	if (e == NULL || der <= 0 || (size_t)der + MINT_OVERHEAD >
	    m->st.limit) {
		free(e);
		X509_free(cert);
		return;
	}
	memcpy(e->key, key, sizeof e->key);
	e->cert = cert;
	e->bytes = (size_t)der + MINT_OVERHEAD;
	e->next = m->bucket[b];
	m->bucket[b] = e;
	list_insert_head(&m->lru, &e->lru);
	m->st.entries++;
	m->st.bytes += e->bytes;
	while (m->st.bytes > m->st.limit)
		mint_entry_free(m, container_of(m->lru.prev, struct mint_entry,
		    lru));
}

static int
mint_key(X509 *origin, const char *host, bool add, unsigned char *key)
{
	unsigned char *der = NULL;
	EVP_MD_CTX *md;
	unsigned len;
	int n, ok;

	md = EVP_MD_CTX_new();
	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return (-ENOMEM);
	}
	if (origin != NULL) {
		n = i2d_X509(origin, &der);
		ok = n > 0 && EVP_DigestUpdate(md, "C", 1) &&
		    EVP_DigestUpdate(md, der, (size_t)n);
		OPENSSL_free(der);
		if (add)
			ok = ok && EVP_DigestUpdate(md, "N", 1) &&
			    EVP_DigestUpdate(md, host, strlen(host));
	} else
		ok = EVP_DigestUpdate(md, "H", 1) &&
		    EVP_DigestUpdate(md, host, strlen(host));
	ok = ok && EVP_DigestFinal_ex(md, key, &len) && len == 32;
	EVP_MD_CTX_free(md);
	return (ok ? 0 : -ENOMEM);
}

SSL *
tls_mint_server_new(struct tls_mint *m, const SSL *origin, const char *host,
    char *err, size_t errlen)
{
	X509 *peer = NULL;
	SSL *ssl;

	if (origin != NULL)
		peer = SSL_get1_peer_certificate(origin);
	ssl = tls_mint_server_new_cert(m, peer, host, err, errlen);
	X509_free(peer);
	return (ssl);
}

SSL *
tls_mint_server_new_cert(struct tls_mint *m, X509 *origin, const char *host,
    char *err, size_t errlen)
{
	unsigned char key[32];
	X509 *peer = origin, *cert;
	SSL *ssl = NULL;
	bool add;
	int ok;

	CHECK_OBJ_NOTNULL(m, TLS_MINT_MAGIC);
	AN(host);
	if (peer != NULL && !X509_up_ref(peer))
		peer = NULL;
	if (peer == NULL && !tls_name_ok(host, strlen(host), false)) {
		snprintf(err, errlen, "no certificate can be made for "
		    "\"%.80s\": not a host name", host);
		m->st.failures++;
		return (NULL);
	}
	/* The origin's certificate does not name host: an error that
	 * sslproxy_cert_error allowed.  The client asked for host, and
	 * the leaf names it too (else the client refuses what cuttle's
	 * policy accepted). */
	add = peer != NULL && tls_name_ok(host, strlen(host), false) &&
	    !mint_names_host(peer, host);
	if (mint_key(peer, host, add, key) != 0)
		goto nomem;
	/* From here cert is one reference of ours. */
	cert = mint_lookup(m, key);
	if (cert != NULL && X509_up_ref(cert))
		m->st.hits++;
	else {
		cert = mint_make(m, peer, host, add);
		if (cert == NULL) {
			snprintf(err, errlen, "cannot make a certificate for "
			    "\"%.80s\"", host);
			m->st.failures++;
			X509_free(peer);
			return (NULL);
		}
		m->st.misses++;
		if (X509_up_ref(cert))
			mint_keep(m, key, cert);	/* the cache's */
	}
	ssl = tls_server_new(m->ctx);
	ok = ssl != NULL && SSL_use_certificate(ssl, cert) &&
	    SSL_use_PrivateKey(ssl, m->leaf_key) &&
	    SSL_add1_chain_cert(ssl, m->ca);
	X509_free(cert);
	if (!ok)
		goto nomem;
	X509_free(peer);
	return (ssl);
nomem:
	SSL_free(ssl);
	X509_free(peer);
	ERR_clear_error();
	snprintf(err, errlen, "out of memory");
	m->st.failures++;
	return (NULL);
}

/* -- origins verified lately ---------------------------------------------- */

static struct mint_origin *
mint_origin_slot(struct tls_mint *m, const char *key)
{
	size_t i;

	for (i = 0; i < MINT_ORIGINS; i++)
		if (strcmp(m->origins[i].key, key) == 0)
			return (&m->origins[i]);
	return (NULL);
}

void
tls_mint_origin_keep(struct tls_mint *m, const char *key, const SSL *origin)
{
	struct mint_origin *o;
	time_t now = time(NULL);
	X509 *x;
	size_t i;

	CHECK_OBJ_NOTNULL(m, TLS_MINT_MAGIC);
	if (strlen(key) >= sizeof o->key || key[0] == '\0' ||
	    (x = SSL_get1_peer_certificate(origin)) == NULL)
		return;
	/* Its own slot, else an expired one, else the one ending first. */
	o = mint_origin_slot(m, key);
	for (i = 0; o == NULL && i < MINT_ORIGINS; i++)
		if (m->origins[i].until <= now)
			o = &m->origins[i];
	if (o == NULL) {
		o = &m->origins[0];
		for (i = 1; i < MINT_ORIGINS; i++)
			if (m->origins[i].until < o->until)
				o = &m->origins[i];
	}
	X509_free(o->cert);
	snprintf(o->key, sizeof o->key, "%s", key);
	o->cert = x;
	o->ncodes = tls_verify_errors(origin, o->codes, MINT_ORIGIN_ERRORS);
	o->until = now + MINT_ORIGIN_TTL;
}

X509 *
tls_mint_origin_find(struct tls_mint *m, const char *key, int *codes,
    size_t *n, size_t max)
{
	struct mint_origin *o;

	CHECK_OBJ_NOTNULL(m, TLS_MINT_MAGIC);
	o = mint_origin_slot(m, key);
	if (o == NULL || o->until <= time(NULL) || max < o->ncodes ||
	    !X509_up_ref(o->cert))
		return (NULL);
	memcpy(codes, o->codes, o->ncodes * sizeof *codes);
	*n = o->ncodes;
	return (o->cert);
}

void
tls_mint_cert_free(X509 **xp)
{
	X509_free(*xp);
	*xp = NULL;
}

/* -- the origin's certificate, for bumping --------------------------------- */

#define MINT_ERRORS_MAX		16

struct mint_errors {
	size_t		n;
	int		code[MINT_ERRORS_MAX];
};

static int mint_errors_idx = -1;

static void
mint_errors_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	free(ptr);
}

/* Every error is recorded, once, and the handshake goes on: whether it
 * may is sslproxy_cert_error's to say once the certificate is known. */
static int
mint_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct mint_errors *e = ssl != NULL ?
	    SSL_get_ex_data(ssl, mint_errors_idx) : NULL;
	int code = X509_STORE_CTX_get_error(xs);
	size_t i;

	if (ok || e == NULL)
		return (1);
	for (i = 0; i < e->n; i++)
		if (e->code[i] == code)
			return (1);
	if (e->n < MINT_ERRORS_MAX)
		e->code[e->n++] = code;
	return (1);
}

int
tls_client_keep_errors(SSL *ssl)
{
	struct mint_errors *e;

	AN(ssl);
	if (mint_errors_idx == -1)
		mint_errors_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    mint_errors_free);
	if (mint_errors_idx == -1)
		return (-ENOMEM);
	if (SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE)
		return (0);	/* DONT_VERIFY_PEER: nothing to record */
	e = calloc(1, sizeof *e);
	if (e == NULL || !SSL_set_ex_data(ssl, mint_errors_idx, e)) {
		free(e);
		return (-ENOMEM);
	}
	SSL_set_verify(ssl, SSL_get_verify_mode(ssl), mint_verify_cb);
	return (0);
}

size_t
tls_verify_errors(const SSL *ssl, int *codes, size_t max)
{
	const struct mint_errors *e;
	size_t i;

	AN(ssl);
	if (mint_errors_idx == -1)
		return (0);
	e = SSL_get_ex_data(ssl, mint_errors_idx);
	if (e == NULL)
		return (0);
	for (i = 0; i < e->n && i < max; i++)
		codes[i] = e->code[i];
	return (i);
}

static char *
mint_strndup(const unsigned char *p, int len)
{
	char *s;

	if (len < 0 || memchr(p, '\0', (size_t)len) != NULL)
		return (NULL);
	s = malloc((size_t)len + 1);
	if (s != NULL) {
		memcpy(s, p, (size_t)len);
		s[len] = '\0';
	}
	return (s);
}

size_t
tls_peer_names(const SSL *ssl, char **names, size_t max)
{
	GENERAL_NAMES *san;
	GENERAL_NAME *gn;
	X509 *peer;
	char cn[256], ip[64];
	const unsigned char *p;
	size_t n = 0;
	int i, len;

	AN(ssl);
	peer = SSL_get1_peer_certificate(ssl);
	if (peer == NULL)
		return (0);
	san = X509_get_ext_d2i(peer, NID_subject_alt_name, NULL, NULL);
	for (i = 0; san != NULL && i < sk_GENERAL_NAME_num(san) && n < max;
	    i++) {
		gn = sk_GENERAL_NAME_value(san, i);
		if (gn->type == GEN_DNS) {
			names[n] = mint_strndup(ASN1_STRING_get0_data(
			    gn->d.dNSName), ASN1_STRING_length(gn->d.dNSName));
		} else if (gn->type == GEN_IPADD) {
			p = ASN1_STRING_get0_data(gn->d.iPAddress);
			len = ASN1_STRING_length(gn->d.iPAddress);
			if (len == 4)
				snprintf(ip, sizeof ip, "%u.%u.%u.%u", p[0],
				    p[1], p[2], p[3]);
			else
				continue;
			names[n] = strdup(ip);
		} else
			continue;
		if (names[n] != NULL)
			n++;
	}
	GENERAL_NAMES_free(san);
	if (n == 0 && max > 0) {
		len = X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
		    NID_commonName, cn, sizeof cn);
		if (len > 0 && (names[0] = strdup(cn)) != NULL)
			n = 1;
	}
	X509_free(peer);
	ERR_clear_error();
	return (n);
}

void
tls_names_free(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
}
