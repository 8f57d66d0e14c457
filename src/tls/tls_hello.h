/*
 * tls_hello.h - reading a TLS ClientHello that is still in the socket
 * (ssl_bump's step 2): the server name, ALPN and versions a client asks
 * for, from bytes that are only looked at, never consumed.
 *
 * Contract: tls_hello_parse() is a pure function of its bytes; every
 * length in them is checked against what is left before it is used, so
 * any input, however cut or crafted, gets an answer and no read past
 * len.  A ClientHello may span several records (each at most 2^14 bytes
 * of it); up to TLS_HELLO_MAX bytes are looked at in all.
 */
#ifndef CUTTLE_TLS_HELLO_H
#define CUTTLE_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_HELLO_MAX		(64 * 1024)	/* records and all */

enum tls_hello_status {
	TLS_HELLO_OK,		/* whole and well formed */
	TLS_HELLO_MORE,		/* cut short: *need bytes would tell more */
	TLS_HELLO_NOT_TLS,	/* not a TLS handshake record at all */
	TLS_HELLO_BAD,		/* TLS, but malformed (*why says how) */
	TLS_HELLO_TOO_BIG	/* more than max bytes */
};

struct tls_hello {
	char		sni[254];	/* host_name, "" when none */
	bool		alpn_http11;	/* ALPN offers http/1.1 */
	bool		alpn_h2;	/* ... h2 */
	bool		ech;		/* encrypted_client_hello (outer):
					 * sni is the public name */
	uint16_t	version;	/* highest offered: 0x0304 is 1.3 */
	size_t		len;		/* bytes of the records it took */
};

/* tls_hello_parse() - the ClientHello at the start of p (len bytes), in
 * at most max bytes of records.  OK fills h; MORE sets *need (> len) to
 * the bytes to wait for; BAD and NOT_TLS set *why (static text). */
enum tls_hello_status	tls_hello_parse(const uint8_t *p, size_t len,
			    size_t max, struct tls_hello *h, size_t *need,
			    const char **why);

#endif /* CUTTLE_TLS_HELLO_H */
