/*
 * fuzz_auth.c - Basic credentials as a client sends them (auth_decode.c):
 *	byte 0	0x01: the bare base64 (auth_basic_decode()), else a whole
 *		Proxy-Authorization value (auth_basic_credentials());
 *		bits 4-7: a second output buffer of 1..16 bytes
 * then the value up to the first '\n', then an Accept-Language value
 * (none when there is no '\n').
 *
 * The value is decoded into buffers of exactly their cap: AUTH_BASIC_MAX,
 * as auth_basic.c and client_mgr.c size theirs, then the small one.  The
 * answer must be what a strict base64 decoder here expects: 0 exactly
 * when the value, blanks around it dropped, is base64 of at most
 * AUTH_BASIC_MAX characters (padding only at its end) whose decoding
 * fits cap (with the padding's bytes and a NUL, which the decoder writes
 * too), has a colon and no NUL or control character; then out is that
 * decoding with its first colon made a NUL and *pass after it.  Else
 * -EINVAL with a non-empty *why.  A header value is refused unless it is
 * "Basic" (any case), a blank and such base64.
 *
 * What utf8 on does with the user and password, and with the value as a
 * string (any bytes): auth_utf8_valid() agrees with a decoder here;
 * auth_latin1_utf8() and auth_cp1251_utf8() write valid UTF-8 into
 * buffers of exactly 2n + 1 and 3n + 1 bytes, one code point per byte,
 * ASCII kept, Latin-1 decoding back to its input, Windows-1251's
 * 0xc0..0xff as U+0410..U+044F and no other byte as ASCII;
 * auth_to_utf8() picks by auth_cp1251_wanted() and, called as
 * basic_check_start() calls it, fits conv[3 * AUTH_BASIC_MAX].
 * auth_cp1251_wanted() reads only its len bytes, ignores parameters (the
 * q-values), says no after a leading "*" and skips a leading "en".
 * auth_md5_hex() and auth_alg_hex() give lower-case hex of their length.
 * auth_secret_equal() of the input's two halves is strcmp() == 0.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return (0);
}

static bool
is_blank(char c)
{
	return (c == ' ' || c == '\t');
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

/*
 * What auth_basic_decode(b64, len, .., cap, ..) must answer: 0 with the
 * decoding in dec (len / 4 * 3 bytes at least) and its length in *n, or
 * -EINVAL.
 */
static int
expect_decode(const char *b64, size_t len, size_t cap, unsigned char *dec,
    size_t *n)
{
	size_t pad = 0, i;
	uint32_t group = 0;
	int v;

	while (len > 0 && is_blank(*b64)) {
		b64++;
		len--;
	}
	while (len > 0 && is_blank(b64[len - 1]))
		len--;
	if (len == 0 || len % 4 != 0 || len > AUTH_BASIC_MAX ||
	    len / 4 * 3 + 1 > cap)
		return (-EINVAL);
	while (pad < 2 && b64[len - 1 - pad] == '=')
		pad++;
	for (i = 0; i < len; i++) {
		v = i < len - pad ? b64_value(b64[i]) : 0;
		if (v < 0)
			return (-EINVAL);
		group = group << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			dec[i / 4 * 3] = (unsigned char)(group >> 16);
			dec[i / 4 * 3 + 1] = (unsigned char)(group >> 8);
			dec[i / 4 * 3 + 2] = (unsigned char)group;
			group = 0;
		}
	}
	*n = len / 4 * 3 - pad;
	for (i = 0; i < *n; i++)
		if (dec[i] < 0x20 || dec[i] == 0x7f)
			return (-EINVAL);
	if (memchr(dec, ':', *n) == NULL)
		return (-EINVAL);
	return (0);
}

/* One call into out[0..cap), which is poisoned first. */
static void
decode(const char *val, size_t len, bool bare, size_t cap)
{
	unsigned char *dec, *colon;
	const char *why = NULL;
	char *out, *pass = NULL, *nul;
	size_t n = 0, i;
	int rc, want;

	out = fuzz_alloc(cap);
	dec = fuzz_alloc(len / 4 * 3 + 3);
	if (out == NULL || dec == NULL)
		abort();
	memset(out, 0xa5, cap);
	if (bare) {
		rc = auth_basic_decode(val, len, out, cap, &pass, &why);
		want = expect_decode(val, len, cap, dec, &n);
	} else {
		rc = auth_basic_credentials(val, len, out, cap, &pass, &why);
		want = len >= 6 && strncasecmp(val, "Basic", 5) == 0 &&
		    is_blank(val[5]) ? expect_decode(val + 6, len - 6, cap,
		    dec, &n) : -EINVAL;
	}
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	FUZZ_ASSERT(rc == want);
	if (rc != 0) {
		FUZZ_ASSERT(why != NULL && why[0] != '\0');
		goto out;
	}
	/* out: the decoding, NUL-terminated within cap, its first colon
	 * made a NUL; pass after it. */
	FUZZ_ASSERT(n < cap);
	nul = memchr(out, '\0', cap);
	FUZZ_ASSERT(nul != NULL);
	FUZZ_ASSERT(pass == nul + 1 && pass <= out + n);
	FUZZ_ASSERT(memchr(pass, '\0', cap - (size_t)(pass - out)) ==
	    out + n);
	colon = memchr(dec, ':', n);
	FUZZ_ASSERT(nul - out == colon - dec);
	*colon = '\0';
	FUZZ_ASSERT(memcmp(out, dec, n) == 0);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(out + i == nul || ((unsigned char)out[i] >= 0x20 &&
		    out[i] != 0x7f));
	FUZZ_ASSERT(strchr(out, ':') == NULL);
out:
	free(dec);
	free(out);
}

/* s is UTF-8, checked here as the shortest encoding of each code point,
 * surrogates and what is past U+10FFFF excluded; *ncp: how many. */
static bool
utf8_ok(const char *s, size_t *ncp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;
	size_t n, i;

	*ncp = 0;
	while (*p != '\0') {
		if (*p < 0x80)
			n = 0, c = *p;
		else if ((*p & 0xe0) == 0xc0)
			n = 1, c = *p & 0x1fu;
		else if ((*p & 0xf0) == 0xe0)
			n = 2, c = *p & 0x0fu;
		else if ((*p & 0xf8) == 0xf0)
			n = 3, c = *p & 0x07u;
		else
			return (false);
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return (false);
			c = c << 6 | (p[i] & 0x3fu);
		}
		if (n != (c < 0x80 ? 0u : c < 0x800 ? 1u : c < 0x10000 ? 2u :
		    3u) || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
			return (false);
		p += n + 1;
		(*ncp)++;
	}
	return (true);
}

/* The code point at *p (valid UTF-8), *p moved past it. */
static uint32_t
utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c;
	size_t n, i;

	if (s[0] < 0x80)
		n = 0, c = s[0];
	else if (s[0] < 0xe0)
		n = 1, c = s[0] & 0x1fu;
	else if (s[0] < 0xf0)
		n = 2, c = s[0] & 0x0fu;
	else
		n = 3, c = s[0] & 0x07u;
	for (i = 1; i <= n; i++)
		c = c << 6 | (s[i] & 0x3fu);
	*p = s + n + 1;
	return (c);
}

/* What utf8 on does with s (a NUL-terminated string of any bytes). */
static void
convert(const char *s, const struct auth_req *rq)
{
	const unsigned char *in = (const unsigned char *)s, *o;
	char *latin1, *cp1251, *to;
	size_t n = strlen(s), ncp, i;
	uint32_t c;

	FUZZ_ASSERT(auth_utf8_valid(s) == utf8_ok(s, &ncp));
	latin1 = fuzz_alloc(2 * n + 1);
	cp1251 = fuzz_alloc(3 * n + 1);
	to = fuzz_alloc(3 * n + 1);
	if (latin1 == NULL || cp1251 == NULL || to == NULL)
		abort();
	auth_latin1_utf8(s, latin1);
	FUZZ_ASSERT(utf8_ok(latin1, &ncp) && ncp == n);
	FUZZ_ASSERT(auth_utf8_valid(latin1));
	o = (const unsigned char *)latin1;
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(utf8_next(&o) == in[i]);
	auth_cp1251_utf8(s, cp1251);
	FUZZ_ASSERT(utf8_ok(cp1251, &ncp) && ncp == n);
	FUZZ_ASSERT(auth_utf8_valid(cp1251));
	o = (const unsigned char *)cp1251;
	for (i = 0; i < n; i++) {
		c = utf8_next(&o);
		if (in[i] < 0x80)
			FUZZ_ASSERT(c == in[i]);
		else if (in[i] >= 0xc0)
			FUZZ_ASSERT(c == 0x410u + (in[i] - 0xc0u));
		else
			FUZZ_ASSERT(c >= 0x80);
	}
	auth_to_utf8(rq, s, to);
	FUZZ_ASSERT(strcmp(to, rq->lang != NULL &&
	    auth_cp1251_wanted(rq->lang, rq->lang_len) ? cp1251 : latin1) ==
	    0);
	free(to);
	free(cp1251);
	free(latin1);
}

/* auth_cp1251_wanted() on al (len bytes, in a buffer of its own). */
static void
wanted(const char *al, size_t len)
{
	char *a, *b;
	size_t i, j;
	bool w;

	a = fuzz_copy(al, len, false);
	w = auth_cp1251_wanted(a, len);
	/* Parameters (";q=0.5" up to the next ',') taken out. */
	b = fuzz_alloc(len + 4);
	if (b == NULL)
		abort();
	for (i = j = 0; i < len; i++) {
		if (a[i] == ';')
			while (i + 1 < len && a[i + 1] != ',')
				i++;
		else
			b[j++] = a[i];
	}
	FUZZ_ASSERT(auth_cp1251_wanted(b, j) == w);
	memcpy(b, "*, ", 3);
	memcpy(b + 3, a, len);
	FUZZ_ASSERT(!auth_cp1251_wanted(b, len + 3));
	memcpy(b, "en, ", 4);
	memcpy(b + 4, a, len);
	FUZZ_ASSERT(auth_cp1251_wanted(b, len + 4) == w);
	free(b);
	free(a);
}

static void
hashes(const char *s)
{
	char md5[33], hex[AUTH_HEX_MAX];
	enum auth_alg alg;
	size_t i;

	auth_md5_hex(s, md5);
	FUZZ_ASSERT(strcmp(md5, "-") == 0 || strlen(md5) == 32);
	for (alg = AUTH_ALG_MD5; alg < AUTH_DIGEST_ALGS; alg++) {
		auth_alg_hex(alg, s, hex);
		if (strcmp(hex, "-") == 0)
			continue;
		FUZZ_ASSERT(strlen(hex) == auth_alg_len(alg));
		for (i = 0; hex[i] != '\0'; i++)
			FUZZ_ASSERT((hex[i] >= '0' && hex[i] <= '9') ||
			    (hex[i] >= 'a' && hex[i] <= 'f'));
		if (alg == AUTH_ALG_MD5)
			FUZZ_ASSERT(strcmp(hex, md5) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_req rq;
	const uint8_t *nl;
	char *val, *lang = NULL, *s, *a, *b, *conv, *pass;
	const char *why;
	size_t len, small, half, ulen;
	bool bare;

	if (size < 1)
		return (0);
	bare = (data[0] & 0x01) != 0;
	small = (size_t)(data[0] >> 4) + 1;
	data++;
	size--;
	nl = memchr(data, '\n', size);
	len = nl != NULL ? (size_t)(nl - data) : size;
	memset(&rq, 0, sizeof rq);
	if (nl != NULL) {
		rq.lang_len = size - len - 1;
		rq.lang = lang = fuzz_copy(nl + 1, rq.lang_len, false);
		wanted(lang, rq.lang_len);
	}

	/* A copy exactly the value's size: a read past it is caught. */
	val = fuzz_copy(data, len, false);
	decode(val, len, bare, AUTH_BASIC_MAX);
	decode(val, len, bare, small);

	/* What basic_check_start() does with good credentials. */
	s = fuzz_alloc(AUTH_BASIC_MAX);
	conv = fuzz_alloc(3 * AUTH_BASIC_MAX);
	if (s == NULL || conv == NULL)
		abort();
	if ((bare ? auth_basic_decode(val, len, s, AUTH_BASIC_MAX, &pass,
	    &why) : auth_basic_credentials(val, len, s, AUTH_BASIC_MAX, &pass,
	    &why)) == 0) {
		convert(s, &rq);
		convert(pass, &rq);
		auth_to_utf8(&rq, s, conv);
		ulen = strlen(conv);
		auth_to_utf8(&rq, pass, conv + ulen + 1);
		hashes(s);
	}
	free(conv);
	free(s);

	/* The value as a string: any bytes but NUL. */
	s = fuzz_copy(val, len, true);
	convert(s, &rq);
	hashes(s);
	free(s);
	free(val);

	half = size / 2;
	a = fuzz_copy(data, half, true);
	b = fuzz_copy(data + half, size - half, true);
	FUZZ_ASSERT(auth_secret_equal(a, b) == (strcmp(a, b) == 0));
	FUZZ_ASSERT(auth_secret_equal(b, a) == (strcmp(a, b) == 0));
	FUZZ_ASSERT(auth_secret_equal(a, a));
	free(b);
	free(a);
	free(lang);
	return (0);
}
