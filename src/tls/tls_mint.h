/*
 * tls_mint.h - ssl_bump's certificates: leaf certificates for the sites a
 * client reaches through a bumped tunnel, signed by the port's CA, made
 * in process and kept in an LRU cache.
 *
 * Contract:
 * - One leaf key per minter, made when it is created (EC P-256, or
 *   RSA-2048 by option); the CA key only signs, and no minted
 *   certificate carries it.
 * - A leaf is X.509 v3 with 16 random serial bytes; notBefore now - 2
 *   days; notAfter the earliest of now + 199 days, the origin's notAfter
 *   and the CA's (now + 1 day when the origin's certificate has expired,
 *   an error sslproxy_cert_error allowed); subjectAltName copied from
 *   the origin's certificate (DNS and IP names, each checked), or made
 *   for the host (a DNS or IP name built as a structure, after checking
 *   its characters), with the host added when the origin's names do not
 *   cover it (a mismatch that sslproxy_cert_error allowed: the client
 *   asked for that name); CN only when shorter than 64 bytes;
 *   basicConstraints CA:FALSE, keyUsage digitalSignature, plus
 *   keyEncipherment for an RSA key (both critical); extendedKeyUsage
 *   serverAuth; subject and authority key identifiers; signed with
 *   SHA-256.
 * - Minted certificates are cached by the SHA-256 of the origin's
 *   certificate (plus host when it is added; by host alone when there is
 *   no origin certificate), least recently used first out once they hold
 *   more than the configured bytes; one that would end within the hour
 *   is minted again.
 * - Never touches a socket: tls_mint_server_new() hands an SSL object to
 *   comm_tls_start().
 *
 * Lifecycle:
 *	tls_mint_new()		CA read and checked, leaf key made
 *	tls_mint_ref()		one more owner (a connection being bumped)
 *	tls_mint_server_new()	an SSL object showing a minted certificate
 *	tls_mint_free()		an owner's reference dropped; freed at the
 *				last
 */
#ifndef CUTTLE_TLS_MINT_H
#define CUTTLE_TLS_MINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ssl_st;
struct tls_mint;
struct x509_st;

struct tls_mint_stats {
	uint64_t	hits;		/* served from the cache */
	uint64_t	misses;		/* minted */
	uint64_t	failures;	/* not minted: a bad name, ENOMEM */
	size_t		entries;
	size_t		bytes;		/* what the cache holds (approx.) */
	size_t		limit;		/* dynamic_cert_mem_cache_size */
};

/* The leaf key's type (http_port dynamic_cert_key=). */
enum tls_mint_key {
	TLS_MINT_P256,		/* EC P-256: the default */
	TLS_MINT_RSA2048,	/* for clients without ECDSA; keyUsage adds
				 * keyEncipherment */
};

/* tls_mint_new() - a minter signing with the CA in cafile (PEM) and its
 * key in keyfile (PEM; NULL: in cafile), caching up to cache_bytes, its
 * leaves' key of type key.  0 and *out; -EINVAL with what is wrong in
 * err (unreadable file, key not matching, not a CA); -ENOMEM.  *warn
 * (may be NULL) is set when the key file may be read by others than its
 * owner. */
int	tls_mint_new(const char *cafile, const char *keyfile,
	    size_t cache_bytes, enum tls_mint_key key, struct tls_mint **out,
	    bool *warn, char *err, size_t errlen);
struct tls_mint	*tls_mint_ref(struct tls_mint *m);
/* tls_mint_free() - drop a reference; NULLs *mp; *mp may be NULL. */
void	tls_mint_free(struct tls_mint **mp);

/* tls_mint_server_new() - a server-side SSL object (for
 * comm_tls_start()) presenting a certificate for host: mirroring the
 * certificate of origin (a client SSL object whose handshake is done),
 * or, with origin NULL, made for host alone (a failed origin).  NULL
 * with err set when host is not a usable name or out of memory. */
struct ssl_st	*tls_mint_server_new(struct tls_mint *m,
		    const struct ssl_st *origin, const char *host, char *err,
		    size_t errlen);

/* tls_mint_server_new_cert() - the same, mirroring the certificate
 * origin (NULL: none), as tls_mint_origin_find() gave it. */
struct ssl_st	*tls_mint_server_new_cert(struct tls_mint *m,
		    struct x509_st *origin, const char *host, char *err,
		    size_t errlen);

/* Origins verified lately: a bump of the same name within a minute
 * mints from the certificate seen then, without a handshake of its own
 * with the origin (the requests inside still verify theirs).
 * tls_mint_origin_keep() remembers the certificate of origin (a client
 * SSL object whose handshake is done) and its verification errors
 * (tls_client_keep_errors()) under key, for 60 s, among the last 128.
 * tls_mint_origin_find() gives it back (a reference for the caller) and
 * its errors (up to max); NULL when none or expired. */
void	tls_mint_origin_keep(struct tls_mint *m, const char *key,
	    const struct ssl_st *origin);
struct x509_st	*tls_mint_origin_find(struct tls_mint *m, const char *key,
		    int *codes, size_t *n, size_t max);
/* tls_mint_cert_free() - drop the reference *xp (may be NULL); NULLs
 * it. */
void	tls_mint_cert_free(struct x509_st **xp);

void	tls_mint_stats(const struct tls_mint *m, struct tls_mint_stats *st);

/* tls_peer_names() - the DNS names (and IP addresses, as text) of the
 * certificate ssl's peer presented, subjectAltName first, else its CN:
 * up to max names, each a malloc'd string, into names; returns how many.
 * Free them with tls_names_free(). */
size_t	tls_peer_names(const struct ssl_st *ssl, char **names, size_t max);
void	tls_names_free(char **names, size_t n);

/* tls_name_ok() - true when s (len bytes) is a host name cuttle will put
 * in a certificate: letters, digits, '-', '.', a leading "*." for a
 * wildcard, labels of 1-63 bytes, at most 253 bytes; or an IP address. */
bool	tls_name_ok(const char *s, size_t len, bool wildcard);

/* tls_client_keep_errors() - ssl (from tls_client_new()) records every
 * certificate verification error instead of failing the handshake on
 * the first: the caller decides (sslproxy_cert_error).  0 or -ENOMEM. */
int	tls_client_keep_errors(struct ssl_st *ssl);
/* tls_verify_errors() - the errors recorded (X509_V_ERR_* codes), each
 * once, up to max; returns how many. */
size_t	tls_verify_errors(const struct ssl_st *ssl, int *codes, size_t max);

#endif /* CUTTLE_TLS_MINT_H */
