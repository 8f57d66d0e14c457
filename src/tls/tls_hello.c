/*
 * tls_hello.c - the ClientHello parser (contract in tls_hello.h).
 *
 *	records		type 22, version 3.x, length <= 2^14: their
 *			payloads joined until the handshake message is whole
 *	handshake	type 1 (ClientHello), 24-bit length
 *	ClientHello	version, random, session id, cipher suites,
 *			compression methods, extensions (RFC 8446 4.1.2)
 *	extensions	server_name (RFC 6066 3), ALPN (RFC 7301),
 *			supported_versions (RFC 8446 4.2.1), ECH; each at
 *			most once (RFC 8446 4.2)
 *
 * A reader (struct rd) never moves past its end: every take checks the
 * bytes left first.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tls/tls_hello.h"
#include "tls/tls_mint.h"

#define HELLO_RECORD_MAX	16384	/* 2^14 bytes of plaintext */
#define EXT_SERVER_NAME		0
#define EXT_ALPN		16
#define EXT_VERSIONS		43
#define EXT_ECH			0xfe0d

struct rd {
	const uint8_t	*p;
	size_t		left;
};

static bool
rd_take(struct rd *r, size_t n, const uint8_t **out)
{
	if (n > r->left)
		return (false);
	if (out != NULL)
		*out = r->p;
	r->p += n;
	r->left -= n;
	return (true);
}

static bool
rd_u8(struct rd *r, unsigned *v)
{
	const uint8_t *p;

	if (!rd_take(r, 1, &p))
		return (false);
	*v = p[0];
	return (true);
}

static bool
rd_u16(struct rd *r, unsigned *v)
{
	const uint8_t *p;

	if (!rd_take(r, 2, &p))
		return (false);
	*v = (unsigned)p[0] << 8 | p[1];
	return (true);
}

/* A vector with a length prefix of w bytes (1 or 2): a reader on it. */
static bool
rd_vec(struct rd *r, unsigned w, struct rd *sub)
{
	unsigned n;

	if (!(w == 1 ? rd_u8(r, &n) : rd_u16(r, &n)))
		return (false);
	sub->p = r->p;
	sub->left = n;
	return (rd_take(r, n, NULL));
}

static const char *
hello_sni(struct rd *r, struct tls_hello *h)
{
	struct rd list, name;
	unsigned type;

	if (!rd_vec(r, 2, &list) || r->left != 0 || list.left == 0)
		return ("bad server_name extension");
	while (list.left > 0) {
		if (!rd_u8(&list, &type) || !rd_vec(&list, 2, &name))
			return ("bad server_name extension");
		if (type != 0)
			continue;	/* not host_name: ignored */
		if (h->sni[0] != '\0')
			return ("two host names in server_name");
		if (!tls_name_ok((const char *)name.p, name.left, false) ||
		    name.left >= sizeof h->sni)
			return ("server_name is not a host name");
		memcpy(h->sni, name.p, name.left);
		h->sni[name.left] = '\0';
	}
	return (NULL);
}

static const char *
hello_alpn(struct rd *r, struct tls_hello *h)
{
	struct rd list, proto;

	if (!rd_vec(r, 2, &list) || r->left != 0 || list.left == 0)
		return ("bad ALPN extension");
	while (list.left > 0) {
		if (!rd_vec(&list, 1, &proto) || proto.left == 0)
			return ("bad ALPN extension");
		if (proto.left == 8 && memcmp(proto.p, "http/1.1", 8) == 0)
			h->alpn_http11 = true;
		if (proto.left == 2 && memcmp(proto.p, "h2", 2) == 0)
			h->alpn_h2 = true;
	}
	return (NULL);
}

static const char *
hello_versions(struct rd *r, struct tls_hello *h)
{
	struct rd list;
	unsigned v;

	if (!rd_vec(r, 1, &list) || r->left != 0 || list.left == 0 ||
	    list.left % 2 != 0)
		return ("bad supported_versions extension");
	while (rd_u16(&list, &v))
		if ((v & 0x0f0f) != 0x0a0a && v > h->version)
			h->version = (uint16_t)v;	/* not GREASE */
	return (NULL);
}

/* encrypted_client_hello (RFC 9849 5): in the clear only the outer form,
 * type 0, HPKE suite, config id, enc and a payload of at least a byte.
 * The name in server_name is then the outer (public) one, which is all
 * ssl_bump can see or judge. */
static const char *
hello_ech(struct rd *r, struct tls_hello *h)
{
	struct rd enc, payload;
	unsigned type;

	if (!rd_u8(r, &type) || type != 0 || !rd_take(r, 5, NULL) ||
	    !rd_vec(r, 2, &enc) || !rd_vec(r, 2, &payload) ||
	    payload.left == 0 || r->left != 0)
		return ("bad encrypted_client_hello extension");
	h->ech = true;
	return (NULL);
}

static const char *
hello_extensions(struct rd *r, struct tls_hello *h)
{
	unsigned type, seen = 0;
	struct rd ext;
	const char *why;

	while (r->left > 0) {
		if (!rd_u16(r, &type) || !rd_vec(r, 2, &ext))
			return ("extension longer than the ClientHello");
		why = NULL;
		switch (type) {
		case EXT_SERVER_NAME:
			why = seen & 1 ? "extension sent twice" :
			    hello_sni(&ext, h);
			seen |= 1;
			break;
		case EXT_ALPN:
			why = seen & 2 ? "extension sent twice" :
			    hello_alpn(&ext, h);
			seen |= 2;
			break;
		case EXT_VERSIONS:
			why = seen & 4 ? "extension sent twice" :
			    hello_versions(&ext, h);
			seen |= 4;
			break;
		case EXT_ECH:
			why = seen & 8 ? "extension sent twice" :
			    hello_ech(&ext, h);
			seen |= 8;
			break;
		default:
			break;
		}
		if (why != NULL)
			return (why);
	}
	return (NULL);
}

static const char *
hello_body(struct rd *r, struct tls_hello *h)
{
	struct rd v;
	unsigned ver;

	if (!rd_u16(r, &ver) || !rd_take(r, 32, NULL))
		return ("ClientHello too short");
	if (ver >> 8 != 3)
		return ("unknown ClientHello version");
	h->version = (uint16_t)ver;
	if (!rd_vec(r, 1, &v) || v.left > 32)
		return ("bad session id");
	if (!rd_vec(r, 2, &v) || v.left < 2 || v.left % 2 != 0)
		return ("bad cipher suites");
	if (!rd_vec(r, 1, &v) || v.left < 1)
		return ("bad compression methods");
	if (r->left == 0)
		return (NULL);		/* no extensions (TLS 1.0 style) */
	if (!rd_vec(r, 2, &v) || r->left != 0)
		return ("bad extensions length");
	return (hello_extensions(&v, h));
}

enum tls_hello_status
tls_hello_parse(const uint8_t *p, size_t len, size_t max,
    struct tls_hello *h, size_t *need, const char **why)
{
	uint8_t hdr[4], *joined = NULL;
	size_t off = 0, have = 0, want = 0, rlen, i, nrec = 0;
	struct rd body;

	memset(h, 0, sizeof *h);
	*why = NULL;
	if (max > TLS_HELLO_MAX)
		max = TLS_HELLO_MAX;
	for (;;) {
		if (off + 5 > len) {
			/* What there is of the next header must fit too. */
			if ((len > off && p[off] != 22) ||
			    (len - off >= 2 && p[off + 1] != 3)) {
				*why = off == 0 ? "not a TLS handshake" :
				    "a record that is not the ClientHello's";
				return (off == 0 ? TLS_HELLO_NOT_TLS :
				    TLS_HELLO_BAD);
			}
			*need = off + 5;
			return (off + 5 > max ? TLS_HELLO_TOO_BIG :
			    TLS_HELLO_MORE);
		}
		if (p[off] != 22 || p[off + 1] != 3) {
			*why = off == 0 ? "not a TLS handshake" :
			    "a record that is not the ClientHello's";
			return (off == 0 ? TLS_HELLO_NOT_TLS : TLS_HELLO_BAD);
		}
		rlen = (size_t)p[off + 3] << 8 | p[off + 4];
		if (rlen == 0 || rlen > HELLO_RECORD_MAX) {
			*why = "bad record length";
			return (TLS_HELLO_BAD);
		}
		if (off + 5 + rlen > max) {
			*need = off + 5 + rlen;
			*why = "ClientHello too large";
			return (TLS_HELLO_TOO_BIG);
		}
		if (off + 5 + rlen > len) {
			*need = off + 5 + rlen;
			return (TLS_HELLO_MORE);
		}
		for (i = 0; i < rlen && have + i < 4; i++)
			hdr[have + i] = p[off + 5 + i];
		have += rlen;
		off += 5 + rlen;
		nrec++;
		if (want == 0 && have >= 4) {
			if (hdr[0] != 1) {
				*why = "first handshake message is not a "
				    "ClientHello";
				return (TLS_HELLO_BAD);
			}
			want = 4 + ((size_t)hdr[1] << 16 |
			    (size_t)hdr[2] << 8 | hdr[3]);
			if (want < 4 + 38) {
				*why = "ClientHello too short";
				return (TLS_HELLO_BAD);
			}
		}
		if (want != 0 && have >= want)
			break;
	}
	if (have != want) {
		*why = "bytes after the ClientHello in its record";
		return (TLS_HELLO_BAD);
	}
	/* Most hellos fit one record and are read where they are; one
	 * split over records is joined first. */
	if (nrec == 1)
		body.p = p + 5 + 4;
	else {
		joined = malloc(want);
		if (joined == NULL) {
			*why = "out of memory";
			return (TLS_HELLO_TOO_BIG);
		}
		for (off = 0, have = 0; have < want; off += 5 + rlen) {
			rlen = (size_t)p[off + 3] << 8 | p[off + 4];
			memcpy(joined + have, p + off + 5, rlen);
			have += rlen;
		}
		body.p = joined + 4;
	}
	body.left = want - 4;
	*why = hello_body(&body, h);
	free(joined);
	if (*why != NULL)
		return (TLS_HELLO_BAD);
	h->len = off;
	return (TLS_HELLO_OK);
}
