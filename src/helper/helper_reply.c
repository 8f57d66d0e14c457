/*
 * helper_reply.c - Squid's helper answer grammar, parsed in place.
 *
 *	line	= result [ SP pairs ] [ SP text ]
 *	result	= "OK" | "ERR" | "BH"		(anything else: Unknown)
 *	pairs	= key "=" value *( SP key "=" value )
 *	value	= quoted-string | token		(quotes: \" and \\ escapes)
 *
 * As in Squid (Helper::Reply::parseResponseKeys), the first word that is
 * not key=value ends the pairs: it and the rest are free text, which old
 * helpers use for their message ("ERR wrong password").  No allocation:
 * keys and values are cut out of the line with NUL bytes, unquoting
 * moves bytes left, never right.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "helper/helper.h"
#include "base/log.h"

/* The keys Squid's protocol defines; custom ones end in '_'. */
static const char *const helper_keys[] = {
	"user", "password", "message", "tag", "log", "url", "rewrite-url",
	"status", "store-id", "ha1", "clt_conn_tag", "nonce", "token",
	"group", "ttl"
};

const char *
helper_status_name(enum helper_status st)
{
	static const char *const names[] = {
#define HELPER_STATUS(sym, name)	name,
		HELPER_STATUS_TBL
#undef HELPER_STATUS
	};

	return ((unsigned)st < HELPER__COUNT ? names[st] : "?");
}

static bool
reply_blank(char c)
{
	return (c == ' ' || c == '\t');
}

static bool
reply_key_char(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-');
}

static bool
reply_key_known(const char *k)
{
	size_t i, n = strlen(k);

	if (n > 1 && k[n - 1] == '_')
		return (true);
	for (i = 0; i < sizeof helper_keys / sizeof helper_keys[0]; i++)
		if (strcmp(k, helper_keys[i]) == 0)
			return (true);
	return (false);
}

/* Where the quoted string at p (its opening quote) ends, just past the
 * closing quote; NULL when there is none. */
static char *
reply_quoted_end(char *p)
{
	for (p++; *p != '\0' && *p != '"'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return (*p == '"' ? p + 1 : NULL);
}

/* The quoted string at p, unquoted into itself (from p on). */
static void
reply_unquote(char *p)
{
	char *d = p, *s = p + 1;

	for (; *s != '"'; s++) {
		if (*s == '\\')
			s++;
		*d++ = *s;
	}
	*d = '\0';
}

void
helper_reply_parse(char *line, struct helper_reply *r)
{
	static const struct {
		const char		*word;
		size_t			len;
		enum helper_status	st;
	} results[] = {
		{ "OK", 2, HELPER_OK }, { "ERR", 3, HELPER_ERR },
		{ "BH", 2, HELPER_BH }
	};
	char *p = line, *key, *eq, *end;
	size_t i, n;

	/* Only what the pairs use is cleared: kv[] is 16 pairs, and this
	 * runs once per helper answer. */
	r->status = HELPER_UNKNOWN;
	r->nkv = 0;
	r->text = line;
	r->why = NULL;
	for (i = 0; i < sizeof results / sizeof results[0]; i++) {
		n = results[i].len;
		if (strncmp(line, results[i].word, n) == 0 &&
		    (line[n] == '\0' || reply_blank(line[n]))) {
			r->status = results[i].st;
			p = line + n;
			break;
		}
	}
	if (r->status == HELPER_UNKNOWN)
		return;
	for (;;) {
		while (reply_blank(*p))
			p++;
		r->text = p;
		for (key = p; reply_key_char(*p); p++)
			continue;
		if (p == key || *p != '=')
			return;		/* not key=value: free text */
		eq = p;
		if (eq[1] == '"') {
			end = reply_quoted_end(eq + 1);
			if (end == NULL || (*end != '\0' && !reply_blank(*end)))
				return;	/* unbalanced: free text */
		} else {
			for (end = eq + 1; *end != '\0' && !reply_blank(*end);
			    end++)
				continue;
		}
		/* Both checks passed: cut the pair out of the line. */
		*eq = '\0';
		if (*end != '\0')
			*end++ = '\0';
		if (eq[1] == '"')
			reply_unquote(eq + 1);
		if (log_enabled(LG_DEBUG, SEC_HELPER) &&
		    !reply_key_known(key))
			log_msg(LG_DEBUG, SEC_HELPER, "helper reply: key %s "
			    "is not one of Squid's", key);
		if (r->nkv < HELPER_KV_MAX) {
			r->kv[r->nkv].key = key;
			r->kv[r->nkv].value = eq + 1;
			r->nkv++;
		}
		p = end;
	}
}

const char *
helper_reply_get(const struct helper_reply *r, const char *key)
{
	unsigned i;

	for (i = 0; i < r->nkv; i++)
		if (strcmp(r->kv[i].key, key) == 0)
			return (r->kv[i].value);
	return (NULL);
}

static bool
children_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v > max)
		return (false);
	*out = (unsigned)v;
	return (true);
}

int
helper_params_children(struct helper_params *hp, char *const *argv,
    unsigned argc)
{
	static const struct {
		const char	*opt;
		size_t		off;
		unsigned	max;
	} opts[] = {
		{ "children-max=", offsetof(struct helper_params,
		    children_max), HELPER_CHILDREN_MAX },
		{ "children-startup=", offsetof(struct helper_params, startup),
		    HELPER_CHILDREN_MAX },
		{ "children-idle=", offsetof(struct helper_params, idle),
		    HELPER_CHILDREN_MAX },
		{ "startup=", offsetof(struct helper_params, startup),
		    HELPER_CHILDREN_MAX },
		{ "idle=", offsetof(struct helper_params, idle),
		    HELPER_CHILDREN_MAX },
		{ "concurrency=", offsetof(struct helper_params, concurrency),
		    HELPER_CONCURRENCY_MAX },
		{ "queue-size=", offsetof(struct helper_params, queue_size),
		    HELPER_CHILDREN_MAX * HELPER_CONCURRENCY_MAX },
	};
	unsigned i, j, v;
	size_t n = 0;

	for (i = 0; i < argc; i++) {
		if (i == 0 && argv[0][0] >= '0' && argv[0][0] <= '9') {
			if (!children_uint(argv[0], HELPER_CHILDREN_MAX,
			    &hp->children_max))
				return (-EINVAL);
			continue;
		}
		for (j = 0; j < sizeof opts / sizeof opts[0]; j++) {
			n = strlen(opts[j].opt);
			if (strncmp(argv[i], opts[j].opt, n) == 0)
				break;
		}
		if (j == sizeof opts / sizeof opts[0] ||
		    !children_uint(argv[i] + n, opts[j].max, &v))
			return (-EINVAL);
		*(unsigned *)(void *)((char *)hp + opts[j].off) = v;
	}
	if (hp->children_max == 0 || hp->startup > hp->children_max)
		return (-EINVAL);
	if (hp->idle == 0)
		hp->idle = 1;
	return (0);
}
