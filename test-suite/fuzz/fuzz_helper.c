/*
 * fuzz_helper.c - helper_reply_parse() and helper_reply_get() on helper
 * answers: the input as one line (up to its first NUL, as a child's line
 * is read), then, when it holds a '\n', each of its lines (a CR before
 * the LF dropped, as helper_pool.c drops it) as an answer of its own.
 * Each line is parsed in a buffer of exactly its size and a NUL, so a
 * read past it is caught, and checked against a copy taken before:
 *	- why is NULL; the result is OK, ERR or BH exactly when the line
 *	  starts with that word and a blank or its end, else Unknown with
 *	  no pairs, the whole line as text and the line untouched;
 *	- nkv <= HELPER_KV_MAX; every key, value and the text points into
 *	  the line and has its NUL within it;
 *	- the pairs come in the line's order, each after blanks: a key is
 *	  [A-Za-z0-9_-]+ (not empty, no blank, no '=') and is followed by
 *	  '=' in the line, its value right after that; a token value is the
 *	  line's bytes as they are (%-escapes kept) up to a blank or the
 *	  end; a quoted value is the quoted string with each backslash
 *	  escape undone, no longer than it (unquoting moves bytes left), and
 *	  a blank or the end follows the closing quote;
 *	- the text is the rest of the line, untouched, starts with no blank
 *	  and holds no pair: parsed again after "OK " it gives none;
 *	- helper_reply_get() of each key (and of Squid's keys) is the first
 *	  value with that key, and NULL for what cannot be a key.
 * Keys Squid does not define are logged at debug level: the helper
 * section logs at that level, into a stream that discards it.
 */
#include "config.h"

#include <sys/types.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "fuzz.h"
#include "helper/helper.h"

static const char *const squid_keys[] = {
	"user", "password", "message", "tag", "log", "url", "rewrite-url",
	"status", "store-id", "ha1", "clt_conn_tag"
};

static ssize_t
discard(void *cookie, const char *buf, size_t len)
{
	(void)cookie;
	(void)buf;
	return ((ssize_t)len);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cookie_io_functions_t io = { .write = discard };
	FILE *f;

	(void)argc;
	(void)argv;
	fuzz_quiet();
	f = fopencookie(NULL, "w", io);
	if (f == NULL)
		abort();
	log_set_file(f);
	log_set_level(SEC_HELPER, LG_DEBUG);
	return (0);
}

static bool
is_blank(char c)
{
	return (c == ' ' || c == '\t');
}

static bool
is_key_char(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-');
}

static bool
all_blank(const char *s, size_t n)
{
	while (n-- > 0)
		if (!is_blank(*s++))
			return (false);
	return (true);
}

/* s points into line[0..len] and its NUL is there too: its length. */
static size_t
span(const char *line, size_t len, const char *s)
{
	const char *nul;

	FUZZ_ASSERT(s != NULL && s >= line && s <= line + len);
	nul = memchr(s, '\0', (size_t)(line + len - s) + 1);
	FUZZ_ASSERT(nul != NULL);
	return ((size_t)(nul - s));
}

/* The result the grammar gives line, and how long its word is. */
static enum helper_status
result_of(const char *line, size_t *n)
{
	static const struct {
		const char		*word;
		enum helper_status	st;
	} words[] = {
		{ "OK", HELPER_OK }, { "ERR", HELPER_ERR }, { "BH", HELPER_BH }
	};
	size_t i, l;

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		l = strlen(words[i].word);
		if (strncmp(line, words[i].word, l) == 0 &&
		    (line[l] == '\0' || is_blank(line[l]))) {
			*n = l;
			return (words[i].st);
		}
	}
	*n = 0;
	return (HELPER_UNKNOWN);
}

/* The quoted string at q (its opening quote) with its backslash escapes
 * undone, into out; how many bytes of q it takes, both quotes included,
 * or 0 when it has no closing quote. */
static size_t
unquote(const char *q, char *out)
{
	size_t i = 1;

	while (q[i] != '"') {
		if (q[i] == '\\')
			i++;
		if (q[i] == '\0')
			return (0);
		*out++ = q[i++];
	}
	*out = '\0';
	return (i + 1);
}

/* The first value of key in r, looked for here. */
static const char *
first_value(const struct helper_reply *r, const char *key)
{
	unsigned i;

	for (i = 0; i < r->nkv; i++)
		if (strcmp(r->kv[i].key, key) == 0)
			return (r->kv[i].value);
	return (NULL);
}

static void
check_get(const struct helper_reply *r)
{
	size_t i;

	for (i = 0; i < r->nkv; i++)
		FUZZ_ASSERT(helper_reply_get(r, r->kv[i].key) ==
		    first_value(r, r->kv[i].key));
	for (i = 0; i < sizeof squid_keys / sizeof squid_keys[0]; i++)
		FUZZ_ASSERT(helper_reply_get(r, squid_keys[i]) ==
		    first_value(r, squid_keys[i]));
	FUZZ_ASSERT(helper_reply_get(r, "") == NULL);
	FUZZ_ASSERT(helper_reply_get(r, "no such=key") == NULL);
}

/* r is line (len bytes, parsed in place) as parsed; orig the line as it
 * was; scratch len + 4 bytes. */
static void
check_reply(char *line, const char *orig, size_t len,
    const struct helper_reply *r, char *scratch)
{
	struct helper_reply again;
	enum helper_status st;
	const char *k, *v;
	size_t pos, off, klen, vlen, n, i;

	FUZZ_ASSERT(r->why == NULL);
	st = result_of(orig, &pos);
	FUZZ_ASSERT(r->status == st);
	FUZZ_ASSERT(r->nkv <= HELPER_KV_MAX);
	if (st == HELPER_UNKNOWN) {
		FUZZ_ASSERT(r->nkv == 0 && r->text == line);
		FUZZ_ASSERT(memcmp(line, orig, len + 1) == 0);
		check_get(r);
		return;
	}
	/* pos: where the result word, then each pair, ends in orig. */
	for (i = 0; i < r->nkv; i++) {
		k = r->kv[i].key;
		v = r->kv[i].value;
		klen = span(line, len, k);
		vlen = span(line, len, v);
		off = (size_t)(k - line);
		FUZZ_ASSERT(off > pos && all_blank(orig + pos, off - pos));
		FUZZ_ASSERT(klen > 0);
		for (n = 0; n < klen; n++)
			FUZZ_ASSERT(is_key_char(k[n]));
		FUZZ_ASSERT(memcmp(k, orig + off, klen) == 0 &&
		    orig[off + klen] == '=');
		FUZZ_ASSERT(v == k + klen + 1);
		off += klen + 1;
		if (orig[off] == '"') {
			n = unquote(orig + off, scratch);
			FUZZ_ASSERT(n >= 2 && vlen <= n - 2);
			FUZZ_ASSERT(strcmp(v, scratch) == 0);
		} else {
			n = vlen;
			FUZZ_ASSERT(memcmp(v, orig + off, vlen) == 0);
			for (klen = 0; klen < vlen; klen++)
				FUZZ_ASSERT(!is_blank(v[klen]));
		}
		pos = off + n;
		FUZZ_ASSERT(orig[pos] == '\0' || is_blank(orig[pos]));
	}
	/* Pairs past HELPER_KV_MAX are parsed but not kept: the text comes
	 * after them. */
	off = (size_t)(r->text - line);
	n = span(line, len, r->text);
	FUZZ_ASSERT(off >= pos && off + n == len);
	FUZZ_ASSERT(memcmp(r->text, orig + off, n) == 0);
	FUZZ_ASSERT(!is_blank(r->text[0]));
	if (r->nkv < HELPER_KV_MAX)
		FUZZ_ASSERT(all_blank(orig + pos, off - pos));
	check_get(r);
	memcpy(scratch, "OK ", 3);
	memcpy(scratch + 3, r->text, n + 1);
	memset(&again, 0xa5, sizeof again);
	helper_reply_parse(scratch, &again);
	FUZZ_ASSERT(again.status == HELPER_OK && again.nkv == 0 &&
	    again.text == scratch + 3);
}

/* One answer: s[0..n) as a line (cut at a NUL) in a buffer of n + 1. */
static void
one(const char *s, size_t n)
{
	struct helper_reply r;
	char *line, *orig, *scratch;
	size_t len;

	line = fuzz_copy(s, n, true);
	len = strlen(line);
	orig = fuzz_copy(line, len, true);
	scratch = fuzz_alloc(len + 4);
	memset(&r, 0xa5, sizeof r);
	helper_reply_parse(line, &r);
	check_reply(line, orig, len, &r, scratch);
	free(scratch);
	free(orig);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line;
	size_t len;

	one((const char *)data, size);
	if (memchr(data, '\n', size) == NULL)
		return (0);
	while (fuzz_line(&data, &size, &line, &len))
		one(line, len);
	return (0);
}
