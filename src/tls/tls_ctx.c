/*
 * tls_ctx.c - TLS contexts with cuttle's policy, and the SSL objects made
 * from them (see tls.h).  No socket here: comm drives the I/O.
 *
 * Lifecycle:
 *	tls_ctx_client_new(),	SSL_CTX made and configured; a client's
 *	tls_ctx_server_new()	session table hangs off it (ex_data), so
 *				that it lives exactly as long as the SSL_CTX
 *	tls_client_new(),	SSL_new() (one reference on the SSL_CTX
 *	tls_server_new()	each), set up for one connection
 *	tls_ctx_free()		the caller's reference dropped; the SSL_CTX
 *				and its table go with the last SSL object
 *
 * Client sessions are kept per origin "host:port" in a direct-mapped
 * table of `sessions` slots: a lookup is one hash and one compare, the
 * table never grows, and an origin that collides with another simply
 * does without resumption until it wins its slot back.  OpenSSL hands
 * each new session (TLS 1.2 at the handshake, TLS 1.3 tickets after it)
 * to tls_sess_new(), which files it under the key the SSL object carries.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/check.h"
#include "base/log.h"
#include "tls/tls.h"

#define TLS_SESSIONS_DEFAULT	1024u

static const unsigned char tls_alpn[] = "\x08http/1.1";

struct tls_slot {
	char		*key;		/* "host:port", NULL: empty */
	SSL_SESSION	*sess;
};

struct tls_sessions {
	unsigned	n;
	unsigned	kept;
	struct tls_slot	slot[];
};

struct tls_ctx {
	unsigned	magic;
#define TLS_CTX_MAGIC	0x71c7c0deU
	SSL_CTX		*ctx;
	bool		server;
	unsigned	flags;
};

/* ex_data indexes: the session table on an SSL_CTX, the key on an SSL.
 * OpenSSL frees each with its owner (the free functions below). */
static int tls_ctx_idx = -1;
static int tls_ssl_idx = -1;

static void
tls_sessions_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct tls_sessions *s = ptr;
	unsigned i;

	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->slot[i].key);
		SSL_SESSION_free(s->slot[i].sess);
	}
	free(s);
}

static void
tls_key_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	free(ptr);
}

static int
tls_indexes(void)
{
	if (tls_ctx_idx == -1)
		tls_ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
		    tls_sessions_free);
	if (tls_ssl_idx == -1)
		tls_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    tls_key_free);
	return (tls_ctx_idx == -1 || tls_ssl_idx == -1 ? -ENOMEM : 0);
}

/* FNV-1a: keys are short and few. */
static unsigned
tls_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return (h);
}

static int
tls_sess_new(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_sessions *s;
	struct tls_slot *sl;
	const char *key;
	char *copy;

	s = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_ctx_idx);
	key = SSL_get_ex_data(ssl, tls_ssl_idx);
	if (s == NULL || key == NULL || !SSL_SESSION_is_resumable(sess))
		return (0);
	sl = &s->slot[tls_hash(key) % s->n];
	if (sl->key == NULL || strcmp(sl->key, key) != 0) {
		copy = strdup(key);
		if (copy == NULL)
			return (0);
		if (sl->key == NULL)
			s->kept++;
		free(sl->key);
		sl->key = copy;
	}
	SSL_SESSION_free(sl->sess);
	sl->sess = sess;
	return (1);		/* the reference is the table's now */
}

/* err holds what went wrong: append OpenSSL's reason if it has one. */
static int
tls_reason(char *err, size_t errlen)
{
	unsigned long code = ERR_peek_last_error();
	const char *why = code != 0 ? ERR_reason_error_string(code) : NULL;
	size_t n = strlen(err);

	if (why != NULL && n + 1 < errlen)
		snprintf(err + n, errlen - n, ": %s", why);
	ERR_clear_error();
	return (-EINVAL);
}

/* https_port's TLS 1.3 suites, in its order of preference. */
#define TLS_SERVER_SUITES						\
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"		\
	"TLS_CHACHA20_POLY1305_SHA256"

#define TLS_FAIL(err, errlen, ...)					\
	(snprintf((err), (errlen), __VA_ARGS__), tls_reason((err), (errlen)))

static int
tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned inlen, void *arg)
{
	unsigned char *o;

	(void)ssl; (void)arg;
	if (SSL_select_next_proto(&o, outlen, tls_alpn, sizeof tls_alpn - 1,
	    in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return (SSL_TLSEXT_ERR_NOACK);	/* go on without ALPN */
	*out = o;
	return (SSL_TLSEXT_ERR_OK);
}

/*
 * Squid's options= names (its https_port and tls_outgoing_options
 * syntax), separated by ',' or ':'; a leading '-' clears one.  Those
 * OpenSSL 3 always applies (fresh ephemeral keys) mean nothing more.
 */
static int
tls_options_set(SSL_CTX *ctx, const char *list, char *err, size_t errlen)
{
	static const struct {
		const char	*name;
		uint64_t	op;
	} names[] = {
		{ "NO_SSLv3", SSL_OP_NO_SSLv3 },
		{ "NO_TLSv1", SSL_OP_NO_TLSv1 },
		{ "NO_TLSv1_1", SSL_OP_NO_TLSv1_1 },
		{ "NO_TLSv1_2", SSL_OP_NO_TLSv1_2 },
		{ "NO_TLSv1_3", SSL_OP_NO_TLSv1_3 },
		{ "NO_TICKET", SSL_OP_NO_TICKET },
		{ "NO_COMPRESSION", SSL_OP_NO_COMPRESSION },
		{ "CIPHER_SERVER_PREFERENCE", SSL_OP_CIPHER_SERVER_PREFERENCE },
		{ "ALL", SSL_OP_ALL },
		{ "SINGLE_DH_USE", 0 },
		{ "SINGLE_ECDH_USE", 0 },
	};
	const char *p = list, *end;
	size_t i, len;
	bool clear;

	while (*p != '\0') {
		end = p + strcspn(p, ",:");
		clear = *p == '-';
		if (*p == '-' || *p == '+')
			p++;
		len = (size_t)(end - p);
		for (i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strlen(names[i].name) == len &&
			    strncasecmp(p, names[i].name, len) == 0)
				break;
		if (len > 0 && i == sizeof names / sizeof names[0]) {
			snprintf(err, errlen, "options=: unknown option "
			    "\"%.*s\"", (int)len, p);
			return (-EINVAL);
		}
		if (len > 0 && clear)
			SSL_CTX_clear_options(ctx, names[i].op);
		else if (len > 0)
			SSL_CTX_set_options(ctx, names[i].op);
		p = *end != '\0' ? end + 1 : end;
	}
	return (0);
}

/* What both sides share. */
static int
tls_ctx_common(struct tls_ctx *t, const struct tls_options *o, char *err,
    size_t errlen)
{
	SSL_CTX *ctx = t->ctx;

	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* No SSL_MODE_RELEASE_BUFFERS: comm frees the buffers of idle
	 * connections itself, and lets busy ones keep them (comm_tls.c). */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* One read() a record instead of two (its header, then the rest):
	 * comm resumes a read while SSL_has_pending() says OpenSSL holds
	 * bytes read ahead, so none wait for a kernel event that will not
	 * come.  1 KiB hits on https_port: 2 reads a request -> 1. */
	SSL_CTX_set_read_ahead(ctx, 1);
	if (!SSL_CTX_set_min_proto_version(ctx, o->min_version != 0 ?
	    o->min_version : TLS1_2_VERSION))
		return (TLS_FAIL(err, errlen,
		    "min-version: not supported"));
	if (o->options != NULL &&
	    tls_options_set(ctx, o->options, err, errlen) != 0)
		return (-EINVAL);
	if (o->cipher != NULL && !SSL_CTX_set_cipher_list(ctx, o->cipher))
		return (TLS_FAIL(err, errlen,
		    "cipher=%s: no usable cipher", o->cipher));
	if ((o->cafile != NULL || o->capath != NULL) &&
	    !SSL_CTX_load_verify_locations(ctx, o->cafile, o->capath))
		return (TLS_FAIL(err, errlen, "cannot load CAs from %s",
		    o->cafile != NULL ? o->cafile : o->capath));
	if (o->cert == NULL)
		return (0);
	if (!SSL_CTX_use_certificate_chain_file(ctx, o->cert))
		return (TLS_FAIL(err, errlen, "cannot load certificate %s",
		    o->cert));
	/* OpenSSL checks the key against the certificate as it loads it,
	 * and again below for a key it could not compare then. */
	if (!SSL_CTX_use_PrivateKey_file(ctx, o->key != NULL ? o->key :
	    o->cert, SSL_FILETYPE_PEM) &&
	    ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
		return (TLS_FAIL(err, errlen, "cannot load key %s",
		    o->key != NULL ? o->key : o->cert));
	if (ERR_peek_last_error() != 0 || !SSL_CTX_check_private_key(ctx))
		return (TLS_FAIL(err, errlen,
		    "key %s does not match certificate %s",
		    o->key != NULL ? o->key : o->cert, o->cert));
	return (0);
}

static int
tls_ctx_new(const struct tls_options *o, bool server, struct tls_ctx **out,
    char *err, size_t errlen)
{
	struct tls_ctx *t;
	int r;

	AN(o);
	AN(out);
	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (tls_indexes() != 0)
		return (-ENOMEM);
	ALLOC_OBJ(t, TLS_CTX_MAGIC);
	if (t == NULL)
		return (-ENOMEM);
	t->server = server;
	t->flags = o->flags;
	ERR_clear_error();
	t->ctx = SSL_CTX_new(server ? TLS_server_method() :
	    TLS_client_method());
	if (t->ctx == NULL) {
		FREE_OBJ(t);
		ERR_clear_error();
		return (-ENOMEM);
	}
	r = tls_ctx_common(t, o, err, errlen);
	if (r == 0 && server && !o->cert_per_conn)
		r = o->cert == NULL ? TLS_FAIL(err, errlen,
		    "a server needs a certificate (cert=)") : 0;
	if (r != 0) {
		tls_ctx_free(&t);
		return (r);
	}
	*out = t;
	return (0);
}

int
tls_ctx_client_new(const struct tls_options *o, struct tls_ctx **out,
    char *err, size_t errlen)
{
	struct tls_sessions *s;
	struct tls_ctx *t;
	unsigned n;
	int r;

	r = tls_ctx_new(o, false, out, err, errlen);
	if (r != 0)
		return (r);
	t = *out;
	if (!o->no_default_ca && !SSL_CTX_set_default_verify_paths(t->ctx)) {
		tls_ctx_free(out);
		return (TLS_FAIL(err, errlen,
		    "cannot load the system's CAs"));
	}
	SSL_CTX_set_verify(t->ctx, o->flags & TLS_DONT_VERIFY_PEER ?
	    SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	n = o->sessions != 0 ? o->sessions : TLS_SESSIONS_DEFAULT;
	s = calloc(1, sizeof *s + n * sizeof s->slot[0]);
	if (s == NULL || !SSL_CTX_set_ex_data(t->ctx, tls_ctx_idx, s)) {
		free(s);
		tls_ctx_free(out);
		return (-ENOMEM);
	}
	s->n = n;
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(t->ctx, tls_sess_new);
	return (0);
}

int
tls_ctx_server_new(const struct tls_options *o, struct tls_ctx **out,
    char *err, size_t errlen)
{
	static const unsigned char sid[] = "cuttle";
	STACK_OF(X509_NAME) *names;
	struct tls_ctx *t;
	int r;

	r = tls_ctx_new(o, true, out, err, errlen);
	if (r != 0)
		return (r);
	t = *out;
	/* Sessions both ways a client may ask: an id in the server's
	 * cache (TLS 1.2) and tickets (keys made by OpenSSL per context). */
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(t->ctx, sid, sizeof sid - 1);
	SSL_CTX_set_num_tickets(t->ctx, 1);
	/*
	 * TLS 1.3: AES-128-GCM first, as Mozilla's recommended servers
	 * order them (OpenSSL's default puts AES-256-GCM-SHA384 first),
	 * and ours is the order that counts (CIPHER_SERVER_PREFERENCE).
	 * Its key schedule runs on SHA-256, which CPUs do in hardware, not
	 * SHA-384: a full handshake costs about a tenth less, and a
	 * record's encryption four rounds fewer.
	 */
	if (!SSL_CTX_set_ciphersuites(t->ctx, TLS_SERVER_SUITES)) {
		tls_ctx_free(out);
		return (-ENOMEM);
	}
	SSL_CTX_set_alpn_select_cb(t->ctx, tls_alpn_select, NULL);
	if (o->cafile != NULL || o->capath != NULL) {
		/* The CertificateRequest names the CAs, so that a client
		 * with several certificates (a browser) offers one of
		 * theirs: those of cafile, and of every certificate in
		 * capath (its hash links name them again: kept once). */
		names = sk_X509_NAME_new_null();
		if (names == NULL) {
			tls_ctx_free(out);
			return (-ENOMEM);
		}
		ERR_clear_error();
		if (o->cafile != NULL &&
		    !SSL_add_file_cert_subjects_to_stack(names, o->cafile))
			r = TLS_FAIL(err, errlen, "no CA names in %s",
			    o->cafile);
		else if (o->capath != NULL &&
		    !SSL_add_dir_cert_subjects_to_stack(names, o->capath))
			r = TLS_FAIL(err, errlen, "cannot read CA names in %s",
			    o->capath);
		else if (sk_X509_NAME_num(names) == 0)
			r = TLS_FAIL(err, errlen, "no CA names in %s",
			    o->cafile != NULL ? o->cafile : o->capath);
		if (r != 0) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			tls_ctx_free(out);
			return (r);
		}
		ERR_clear_error();
		SSL_CTX_set_client_CA_list(t->ctx, names);
	}
	if (o->cafile != NULL || o->capath != NULL)
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return (0);
}

void
tls_ctx_free(struct tls_ctx **tp)
{
	struct tls_ctx *t;

	AN(tp);
	if (*tp == NULL)
		return;
	TAKE_OBJ_NOTNULL(t, tp, TLS_CTX_MAGIC);
	SSL_CTX_free(t->ctx);
	FREE_OBJ(t);
}

/* An IP literal gets no SNI (RFC 6066 3) and an address check. */
static bool
tls_is_ip(const char *host)
{
	ASN1_OCTET_STRING *a = a2i_IPADDRESS(host);

	if (a == NULL)
		return (false);
	ASN1_OCTET_STRING_free(a);
	return (true);
}

SSL *
tls_client_new(struct tls_ctx *t, const char *host, unsigned port)
{
	struct tls_sessions *s;
	struct tls_slot *sl;
	char key[300];
	char *k;
	SSL *ssl;
	bool ip;

	CHECK_OBJ_NOTNULL(t, TLS_CTX_MAGIC);
	CHECK(!t->server);
	AN(host);
	ERR_clear_error();
	ssl = SSL_new(t->ctx);
	if (ssl == NULL)
		goto fail;
	SSL_set_connect_state(ssl);
	ip = tls_is_ip(host);
	if (!ip && !SSL_set_tlsext_host_name(ssl, host))
		goto fail;
	if (!(t->flags & TLS_DONT_VERIFY_DOMAIN)) {
		if (ip ? !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) : !SSL_set1_host(ssl, host))
			goto fail;
	}
	if (SSL_set_alpn_protos(ssl, tls_alpn, sizeof tls_alpn - 1) != 0)
		goto fail;
	snprintf(key, sizeof key, "%s:%u", host, port);
	k = strdup(key);
	if (k == NULL || !SSL_set_ex_data(ssl, tls_ssl_idx, k)) {
		free(k);
		goto fail;
	}
	s = SSL_CTX_get_ex_data(t->ctx, tls_ctx_idx);
	sl = &s->slot[tls_hash(key) % s->n];
	if (sl->key != NULL && strcmp(sl->key, key) == 0 &&
	    !SSL_set_session(ssl, sl->sess))
		goto fail;
	return (ssl);
fail:
	SSL_free(ssl);
	ERR_clear_error();
	return (NULL);
}

SSL *
tls_server_new(struct tls_ctx *t)
{
	SSL *ssl;

	CHECK_OBJ_NOTNULL(t, TLS_CTX_MAGIC);
	CHECK(t->server);
	ssl = SSL_new(t->ctx);
	if (ssl == NULL) {
		ERR_clear_error();
		return (NULL);
	}
	SSL_set_accept_state(ssl);
	return (ssl);
}

unsigned
tls_sessions_kept(const struct tls_ctx *t)
{
	const struct tls_sessions *s;

	CHECK_OBJ_NOTNULL(t, TLS_CTX_MAGIC);
	s = SSL_CTX_get_ex_data(t->ctx, tls_ctx_idx);
	return (s != NULL ? s->kept : 0);
}
