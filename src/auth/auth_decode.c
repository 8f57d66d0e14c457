/*
 * auth_decode.c - Basic credentials (RFC 7617) decoded with OpenSSL's
 * base64 decoder, secrets compared in constant time (base/secret.h, which
 * the cache manager's password uses too), and Digest's MD5 and random
 * nonces: cuttle's auth code that needs OpenSSL, all of it here.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/secret.h"

int
auth_basic_decode(const char *b64, size_t len, char *out, size_t cap,
    char **pass, const char **why)
{
	size_t n, pad = 0, i;
	int got;
	char *colon;

	while (len > 0 && (*b64 == ' ' || *b64 == '\t')) {
		b64++;
		len--;
	}
	while (len > 0 && (b64[len - 1] == ' ' || b64[len - 1] == '\t'))
		len--;
	*why = "credentials too long";
	if (len > AUTH_BASIC_MAX || len / 4 * 3 + 1 > cap)
		return (-EINVAL);
	*why = "credentials not base64";
	if (len == 0 || len % 4 != 0)
		return (-EINVAL);
	/*
	 * EVP_DecodeBlock() skips blanks anywhere, takes '=' anywhere
	 * ("Q=Q=" decodes), and turns the padding into zero bytes: so
	 * only the alphabet goes in, '=' only as the last one or two, and
	 * the padding's bytes come off what it returns.
	 */
	if (b64[len - 1] == '=')
		pad = b64[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len - pad; i++)
		if (!isalnum((unsigned char)b64[i]) && b64[i] != '+' &&
		    b64[i] != '/')
			return (-EINVAL);
	got = EVP_DecodeBlock((unsigned char *)out,
	    (const unsigned char *)b64, (int)len);
	if (got < 0 || (size_t)got < pad)
		return (-EINVAL);
	n = (size_t)got - pad;
	out[n] = '\0';
	*why = "a NUL or a control character in the credentials";
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			return (-EINVAL);
	*why = "no colon between user and password";
	colon = memchr(out, ':', n);
	if (colon == NULL)
		return (-EINVAL);
	*colon = '\0';
	*pass = colon + 1;
	*why = NULL;
	return (0);
}

int
auth_basic_credentials(const char *hdr, size_t len, char *out, size_t cap,
    char **pass, const char **why)
{
	*why = "not Basic credentials";
	if (len < 6 || strncasecmp(hdr, "Basic", 5) != 0 ||
	    (hdr[5] != ' ' && hdr[5] != '\t'))
		return (-EINVAL);
	return (auth_basic_decode(hdr + 6, len - 6, out, cap, pass, why));
}

bool
auth_secret_equal(const char *a, const char *b)
{
	return (secret_equal(a, b));
}

bool
auth_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned n, i;
	uint32_t c;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			n = 1;
			c = *p & 0x1f;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			n = 2;
			c = *p & 0x0f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			n = 3;
			c = *p & 0x07;
		} else
			return (false);
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return (false);
			c = c << 6 | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates, past U+10FFFF. */
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
			return (false);
		p += n + 1;
	}
	return (true);
}

void
auth_latin1_utf8(const char *in, char *out)
{
	const unsigned char *p = (const unsigned char *)in;

	for (; *p != '\0'; p++) {
		if (*p < 0x80) {
			*out++ = (char)*p;
			continue;
		}
		*out++ = (char)(0xc0 | *p >> 6);
		*out++ = (char)(0x80 | (*p & 0x3f));
	}
	*out = '\0';
}

/* Windows-1251's bytes 0x80..0xbf as Unicode code points (0x98, which
 * it leaves undefined, as U+0098, as Windows converts it); 0xc0..0xff
 * are U+0410..U+044F, the Cyrillic alphabet in order. */
static const uint16_t cp1251_high[64] = {
	0x0402, 0x0403, 0x201a, 0x0453, 0x201e, 0x2026, 0x2020, 0x2021,
	0x20ac, 0x2030, 0x0409, 0x2039, 0x040a, 0x040c, 0x040b, 0x040f,
	0x0452, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x0098, 0x2122, 0x0459, 0x203a, 0x045a, 0x045c, 0x045b, 0x045f,
	0x00a0, 0x040e, 0x045e, 0x0408, 0x00a4, 0x0490, 0x00a6, 0x00a7,
	0x0401, 0x00a9, 0x0404, 0x00ab, 0x00ac, 0x00ad, 0x00ae, 0x0407,
	0x00b0, 0x00b1, 0x0406, 0x0456, 0x0491, 0x00b5, 0x00b6, 0x00b7,
	0x0451, 0x2116, 0x0454, 0x00bb, 0x0458, 0x0405, 0x0455, 0x0457,
};

void
auth_cp1251_utf8(const char *in, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned cp;

	for (; *p != '\0'; p++) {
		if (*p < 0x80) {
			*out++ = (char)*p;
			continue;
		}
		cp = *p >= 0xc0 ? 0x410u + (*p - 0xc0u) : cp1251_high[*p - 0x80];
		if (cp < 0x800) {
			*out++ = (char)(0xc0 | cp >> 6);
		} else {
			*out++ = (char)(0xe0 | cp >> 12);
			*out++ = (char)(0x80 | (cp >> 6 & 0x3f));
		}
		*out++ = (char)(0x80 | (cp & 0x3f));
	}
	*out = '\0';
}

/*
 * Squid's choice of Windows-1251 for credentials that are not UTF-8: the
 * first language of Accept-Language that is Russian, Ukrainian,
 * Belarusian, Bulgarian or Serbian (ru, uk, be, bg, sr, alone or with a
 * subtag) says yes, unless it is "xx-latn" (written in Latin) or a longer
 * code ("rus"); "*" before it, or none, says no.  q-values are not
 * looked at, as Squid does not.
 */
bool
auth_cp1251_wanted(const char *al, size_t len)
{
	static const char cyr[][3] = { "ru", "uk", "be", "bg", "sr" };
	const char *end = al + len, *tag;
	size_t n, i;

	while (al < end) {
		while (al < end && (*al == ' ' || *al == '\t' || *al == ','))
			al++;
		for (tag = al; al < end && *al != ',' && *al != ';' &&
		    *al != ' ' && *al != '\t'; al++)
			continue;
		n = (size_t)(al - tag);
		while (al < end && *al != ',')	/* parameters */
			al++;
		if (n == 1 && *tag == '*')
			return (false);
		if (n < 2)
			continue;
		for (i = 0; i < sizeof cyr / sizeof cyr[0]; i++)
			if (strncasecmp(tag, cyr[i], 2) == 0)
				break;
		if (i == sizeof cyr / sizeof cyr[0])
			continue;
		if (n == 2)
			return (true);
		if (tag[2] != '-')
			return (false);		/* "rus": another code */
		return (!(n == 7 && strncasecmp(tag + 3, "latn", 4) == 0));
	}
	return (false);
}

void
auth_to_utf8(const struct auth_req *rq, const char *in, char *out)
{
	if (rq->lang != NULL && auth_cp1251_wanted(rq->lang, rq->lang_len))
		auth_cp1251_utf8(in, out);
	else
		auth_latin1_utf8(in, out);
}

void
auth_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void
auth_md5_hex(const char *s, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL) != 1 ||
	    n != 16) {
		/* No MD5 (a FIPS build): no response can match. */
		strcpy(out, "-");
		return;
	}
	auth_hex(md, 16, out);
}

void
auth_alg_hex(enum auth_alg alg, const char *s, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (alg == AUTH_ALG_MD5) {
		auth_md5_hex(s, out);
		return;
	}
	if (EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) != 1 ||
	    n != 32) {
		strcpy(out, "-");
		return;
	}
	auth_hex(md, 32, out);
}

size_t
auth_alg_len(enum auth_alg alg)
{
	return (alg == AUTH_ALG_SHA256 ? 64 : 32);
}

bool
auth_random_hex(char *out)
{
	unsigned char rnd[16];

	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return (false);
	auth_hex(rnd, sizeof rnd, out);
	return (true);
}
