/*
 * tls.h - TLS contexts and the SSL objects made from them: certificates,
 * keys, verification policy, SNI, ALPN, session reuse.
 *
 * src/tls/ never touches a socket: it hands an SSL object, set up for one
 * connection, to comm_tls_start(), and comm drives all of its I/O.
 *
 * A `struct tls_ctx` is one OpenSSL SSL_CTX with cuttle's policy:
 * - TLS 1.2 at least (unless min_version says otherwise), compression
 *   and renegotiation off (a client that renegotiates is refused);
 * - partial writes and moving write buffers; OpenSSL's buffers are
 *   released by comm once a connection has been idle a moment (not
 *   SSL_MODE_RELEASE_BUFFERS, which frees them at every request);
 * - ALPN http/1.1 (offered by a client, chosen by a server when offered);
 * - client side: the peer verified against the system's CA store and/or
 *   cafile/capath, its name checked (SSL_set1_host, or the IP address),
 *   SNI sent for names; sessions kept per origin host:port and offered
 *   again (TLS 1.2 session ids, TLS 1.3 tickets);
 * - server side: a certificate (chain) and its key, which must match;
 *   a server session cache and tickets.
 * Contexts are refcounted by OpenSSL: an SSL object made from a context
 * keeps what it needs alive after tls_ctx_free() (reconfigure).
 */
#ifndef CUTTLE_TLS_H
#define CUTTLE_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct ssl_st;
struct tls_ctx;

/* Squid's flags= values (tls_outgoing_options). */
#define TLS_DONT_VERIFY_PEER	0x01u	/* accept any certificate */
#define TLS_DONT_VERIFY_DOMAIN	0x02u	/* any name on a trusted one */

struct tls_options {
	const char	*cert;		/* PEM chain, leaf first */
	const char	*key;		/* PEM; NULL: in cert's file */
	const char	*cafile;	/* trusted CAs, PEM */
	const char	*capath;	/* a c_rehash'ed directory */
	const char	*cipher;	/* TLS 1.2 cipher list */
	const char	*options;	/* Squid's options=: NO_TLSv1_1,
					 * NO_TICKET... (',' or ':') */
	int		min_version;	/* e.g. TLS1_2_VERSION; 0: 1.2 */
	unsigned	flags;		/* TLS_DONT_VERIFY_* */
	bool		no_default_ca;	/* default-ca=off */
	unsigned	sessions;	/* client sessions kept; 0: 1024 */
	bool		cert_per_conn;	/* server: no cert; each SSL object
					 * gets its own (ssl_bump) */
};

/* tls_ctx_client_new() / tls_ctx_server_new() - a context per o (a
 * server needs cert).  0 and *out, or -EINVAL with what is wrong in err
 * (the file, the problem, OpenSSL's reason: "key /k.pem does not match
 * certificate /c.pem"), or -ENOMEM. */
int	tls_ctx_client_new(const struct tls_options *o, struct tls_ctx **out,
	    char *err, size_t errlen);
int	tls_ctx_server_new(const struct tls_options *o, struct tls_ctx **out,
	    char *err, size_t errlen);
/* tls_ctx_free() - drop the caller's context; NULLs *tp; *tp may be
 * NULL.  SSL objects made from it live on. */
void	tls_ctx_free(struct tls_ctx **tp);

/* tls_client_new() - an SSL object for a connection to host:port (a name
 * or an IP literal): SNI and the name check for a name, the address
 * check for an IP, the origin's last session offered if one is kept.
 * NULL on ENOMEM.  For comm_tls_start(), which then owns it. */
struct ssl_st	*tls_client_new(struct tls_ctx *t, const char *host,
		    unsigned port);
/* tls_server_new() - an SSL object for an accepted connection.  NULL on
 * ENOMEM. */
struct ssl_st	*tls_server_new(struct tls_ctx *t);

/* tls_ssl_free() - free an SSL object comm_tls_start() did not take
 * (it failed); ssl may be NULL. */
void	tls_ssl_free(struct ssl_st *ssl);

/* tls_error_reason() - OpenSSL's reason for an error code
 * (comm_tls_error()): "wrong version number", "http request"; NULL for
 * 0 or a code OpenSSL has no text for. */
const char	*tls_error_reason(unsigned long code);

/* tls_sessions_kept() - client sessions t holds now. */
unsigned	tls_sessions_kept(const struct tls_ctx *t);

/* tls_verify_name() - "X509_V_ERR_CERT_HAS_EXPIRED" for a verify result
 * (SSL_get_verify_result()), as Squid's error pages name it. */
const char	*tls_verify_name(long result);
/* tls_verify_code() - the verify result a name stands for (as
 * tls_verify_name() prints it, and Squid's SQUID_X509_V_ERR_DOMAIN_MISMATCH
 * for a name the certificate does not carry), or -1. */
long		tls_verify_code(const char *name);
/* tls_verify_result() - ssl's verify result: 0 (X509_V_OK) when the
 * peer's certificate passed, or was not checked. */
long		tls_verify_result(const struct ssl_st *ssl);

#endif /* CUTTLE_TLS_H */
