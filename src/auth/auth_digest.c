/*
 * auth_digest.c - `auth_param digest` (RFC 7616 with MD5, RFC 2617's
 * qop=auth and RFC 2069's no-qop form, as Squid takes them; SHA-256 when
 * `auth_param digest algorithm` asks for it): nonces, the credentials'
 * parser, and checks that ask the helper for HA1.
 *
 * Squid's helper protocol asks for `"user":"realm"` and carries no
 * algorithm, so the answer's length says which HA1 it is: 32 hex digits
 * MD5 (what Squid's digest_file_auth and digest_ldap_auth compute), 64
 * SHA-256 (a helper of the site's own).  A credential whose algorithm
 * the helper's HA1 is not of is refused with a log line saying so.
 * HA1s are cached per user and algorithm.
 *
 *	digest_challenge()	a new nonce: 128 random bits, valid for
 *				nonce_max_duration and nonce_max_count uses
 *	digest_check_start()	credentials parsed and checked against
 *				the request and the nonce: refused at once
 *				(logged), or the response verified with a
 *				cached HA1, or the helper asked
 *	  digest_helper_done()	OK ha1=: cached, the response verified,
 *				the nonce's count moved on; done() once
 *
 * A nonce is known by its table entry only: one cuttle did not make, or
 * dropped by the garbage collection, is "unknown" (a plain 407); one
 * past its time or its uses is "stale" (407 with stale=true, so a client
 * retries with the new nonce without asking its user again).  The
 * nonce-count must grow with each use (check_nonce_count on, Squid's
 * default): a replayed request is refused.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/check.h"
#include "base/log.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "helper/helper.h"

#define DIGEST_HDR_MAX		8192	/* a whole credential at most */
#define DIGEST_USER_MAX		256
#define NONCE_MAX		65536	/* nonces kept at most */

struct auth_nonce {
	struct auth_nonce	*next;
	double			created;
	unsigned		uses;
	unsigned long		nc;	/* the highest nonce-count seen */
	char			key[33];
};

/* The fields of one credential, each NULL when absent. */
#define DIGEST_FIELDS_TBL						\
	DIGEST_FIELD(USERNAME,	"username")				\
	DIGEST_FIELD(REALM,	"realm")				\
	DIGEST_FIELD(NONCE,	"nonce")				\
	DIGEST_FIELD(URI,	"uri")					\
	DIGEST_FIELD(RESPONSE,	"response")				\
	DIGEST_FIELD(QOP,	"qop")					\
	DIGEST_FIELD(NC,	"nc")					\
	DIGEST_FIELD(CNONCE,	"cnonce")				\
	DIGEST_FIELD(ALGORITHM,	"algorithm")

enum digest_field {
#define DIGEST_FIELD(sym, name)	DF_##sym,
	DIGEST_FIELDS_TBL
#undef DIGEST_FIELD
	DF__COUNT
};

static const char *const digest_field_names[] = {
#define DIGEST_FIELD(sym, name)	name,
	DIGEST_FIELDS_TBL
#undef DIGEST_FIELD
};

struct digest_cred {
	const char	*f[DF__COUNT];
	char		buf[DIGEST_HDR_MAX];
};

/* -- configuration --------------------------------------------------------- */

static const char *const digest_alg_names[AUTH_DIGEST_ALGS] = {
	[AUTH_ALG_MD5] = "MD5",
	[AUTH_ALG_SHA256] = "SHA-256",
};

/* "algorithm NAME ...": MD5 and SHA-256, each at most once. */
static bool
digest_algs(struct auth *a, const struct conf_line *l)
{
	unsigned i, j, k;

	if (l->argc < 3 || l->argc - 2 > AUTH_DIGEST_ALGS)
		return (false);
	a->digest_nalgs = 0;
	for (i = 2; i < l->argc; i++) {
		for (j = 0; j < AUTH_DIGEST_ALGS; j++)
			if (strcasecmp(l->argv[i], digest_alg_names[j]) == 0)
				break;
		if (j == AUTH_DIGEST_ALGS)
			return (false);
		for (k = 0; k < a->digest_nalgs; k++)
			if (a->digest_algs[k] == j)
				return (false);
		a->digest_algs[a->digest_nalgs++] = (uint8_t)j;
	}
	return (true);
}

static bool
digest_alg_on(const struct auth *a, enum auth_alg alg)
{
	unsigned i;

	for (i = 0; i < a->digest_nalgs; i++)
		if (a->digest_algs[i] == alg)
			return (true);
	return (false);
}

void
digest_line(struct auth *a, const struct conf_line *l, int *errors)
{
	struct auth_scheme *s = &a->digest;
	const char *what = l->argv[1];
	char **slot = NULL;
	bool ignored;

	if (strcmp(what, "program") == 0)
		slot = &s->program;
	else if (strcmp(what, "realm") == 0)
		slot = &s->realm;
	if (slot != NULL) {
		if (l->argc < 3) {
			auth_conf_error(l, "auth_param digest program "
			    "/usr/lib/squid/digest_file_auth /etc/squid/"
			    "digest_passwd", "a value is needed", errors);
			return;
		}
		free(*slot);
		*slot = auth_join(l, 2);
		if (*slot == NULL)
			auth_conf_error(l, "give cuttle more memory",
			    "out of memory", errors);
		else if (slot == &s->realm && strpbrk(*slot, "\"\\") != NULL)
			auth_conf_error(l, "a realm without '\"' or '\\' (the "
			    "helper is asked \"user\":\"realm\")",
			    "bad realm", errors);
		return;
	}
	if (strcmp(what, "children") == 0) {
		if (!auth_children(l, &s->hp))
			auth_conf_error(l, "auth_param digest children N "
			    "[startup=N] [idle=N] [concurrency=N] "
			    "[queue-size=N], startup <= N", "bad children line",
			    errors);
	} else if (strcmp(what, "nonce_garbage_interval") == 0) {
		if (!auth_time(l, &a->nonce_gc) || a->nonce_gc <= 0)
			auth_conf_error(l, "auth_param digest "
			    "nonce_garbage_interval 5 minutes", "bad time",
			    errors);
	} else if (strcmp(what, "nonce_max_duration") == 0) {
		if (!auth_time(l, &a->nonce_ttl) || a->nonce_ttl <= 0)
			auth_conf_error(l, "auth_param digest "
			    "nonce_max_duration 30 minutes", "bad time",
			    errors);
	} else if (strcmp(what, "nonce_max_count") == 0) {
		if (l->argc != 3 || !auth_uint(l->argv[2], 1000000000,
		    &a->nonce_uses) || a->nonce_uses == 0)
			auth_conf_error(l, "auth_param digest nonce_max_count "
			    "50", "bad count", errors);
	} else if (strcmp(what, "check_nonce_count") == 0) {
		if (!auth_onoff(l, &a->check_nc))
			auth_conf_error(l, "auth_param digest "
			    "check_nonce_count on|off", "bad value", errors);
	} else if (strcmp(what, "timeout") == 0) {
		if (!auth_time(l, &s->timeout))
			auth_conf_error(l, "auth_param digest timeout 60 "
			    "seconds (0: wait forever, as Squid)", "bad time",
			    errors);
	} else if (strcmp(what, "utf8") == 0) {
		if (!auth_onoff(l, &s->utf8))
			auth_conf_error(l, "auth_param digest utf8 on|off",
			    "bad value", errors);
	} else if (strcmp(what, "algorithm") == 0) {
		if (!digest_algs(a, l))
			auth_conf_error(l, "auth_param digest algorithm "
			    "SHA-256 MD5 (the ones the 407 offers, in that "
			    "order, each once)", "bad algorithm list",
			    errors);
	} else if (strcmp(what, "nonce_strictness") == 0 ||
	    strcmp(what, "post_workaround") == 0) {
		/* Squid's workarounds for clients of the 2000s: accepted,
		 * and cuttle behaves as with them off. */
		if (!auth_onoff(l, &ignored))
			auth_conf_error(l, "auth_param digest "
			    "nonce_strictness|post_workaround on|off",
			    "bad value", errors);
	} else {
		auth_conf_error(l, "auth_param digest program|children|realm|"
		    "nonce_garbage_interval|nonce_max_duration|"
		    "nonce_max_count|check_nonce_count|utf8|timeout|"
		    "algorithm", "unknown parameter", errors);
	}
}

int
digest_init(struct auth *a)
{
	a->nonce_gc = 300.0;		/* Squid's defaults */
	a->nonce_ttl = 1800.0;
	a->nonce_uses = 50;
	a->check_nc = true;
	a->digest_algs[0] = AUTH_ALG_MD5;
	a->digest_nalgs = 1;
	a->nonces = calloc(AUTH_BUCKETS, sizeof *a->nonces);
	return (a->nonces != NULL ? 0 : -ENOMEM);
}

void
digest_fini(struct auth *a)
{
	struct auth_nonce *n;
	size_t i;

	if (a->nonces == NULL)
		return;
	for (i = 0; i < AUTH_BUCKETS; i++)
		while ((n = a->nonces[i]) != NULL) {
			a->nonces[i] = n->next;
			free(n);
		}
	free(a->nonces);
	a->nonces = NULL;
}

/* -- nonces ---------------------------------------------------------------- */

static double
digest_now(const struct auth *a)
{
	return (a->loop != NULL ? comm_now(a->loop) : 0.0);
}

static bool
nonce_stale(const struct auth *a, const struct auth_nonce *n, double now)
{
	return (n->created + a->nonce_ttl <= now || n->uses >= a->nonce_uses);
}

static struct auth_nonce *
nonce_find(struct auth *a, const char *key)
{
	struct auth_nonce *n;

	if (strlen(key) != 32)
		return (NULL);
	for (n = a->nonces[auth_hash(key)]; n != NULL; n = n->next)
		if (strcmp(n->key, key) == 0)
			return (n);
	return (NULL);
}

/* Every nonce_garbage_interval, the stale nonces go. */
static void
nonce_collect(struct auth *a, double now)
{
	struct auth_nonce **np, *n;
	size_t i;

	if (now < a->nonce_next_gc && a->nnonces < NONCE_MAX)
		return;
	a->nonce_next_gc = now + a->nonce_gc;
	for (i = 0; i < AUTH_BUCKETS; i++)
		for (np = &a->nonces[i]; (n = *np) != NULL;)
			if (nonce_stale(a, n, now)) {
				*np = n->next;
				free(n);
				a->nnonces--;
			} else
				np = &n->next;
}

/* A new nonce into key (33 bytes), kept in the table; false when there
 * is no memory or no randomness. */
static bool
nonce_new(struct auth *a, char *key)
{
	struct auth_nonce *n, **np;
	double now = digest_now(a);
	unsigned h;

	nonce_collect(a, now);
	if (!auth_random_hex(key))
		return (false);
	h = auth_hash(key);
	if (a->nnonces >= NONCE_MAX && a->nonces[h] != NULL) {
		/* Full of live nonces: this bucket's oldest makes room. */
		for (np = &a->nonces[h]; (*np)->next != NULL;
		    np = &(*np)->next)
			;
		free(*np);
		*np = NULL;
		a->nnonces--;
	}
	n = calloc(1, sizeof *n);
	if (n == NULL)
		return (false);
	memcpy(n->key, key, 33);
	n->created = now;
	n->next = a->nonces[h];
	a->nonces[h] = n;
	a->nnonces++;
	return (true);
}

/* -- the credentials ------------------------------------------------------- */

static bool
is_hex(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return (false);
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return (false);
	return (true);
}

/*
 * "Digest" 1*SP #auth-param (RFC 9110 11.2): name=token or
 * name="quoted-string", commas between, blanks around.  Known fields go
 * to dc (unquoted), unknown ones are skipped.  NULL or why it is refused.
 */
static const char *
digest_parse(const char *hdr, size_t len, struct digest_cred *dc)
{
	const char *p = hdr + 6, *end = hdr + len, *name;
	char *out = dc->buf, *val;
	size_t nlen;
	unsigned i;

	memset(dc->f, 0, sizeof dc->f);
	if (len > DIGEST_HDR_MAX - 1)
		return ("credentials too long");
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p == end)
			break;
		name = p;
		while (p < end && (isalnum((unsigned char)*p) || *p == '-' ||
		    *p == '_'))
			p++;
		nlen = (size_t)(p - name);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (nlen == 0 || p == end || *p != '=')
			return ("not a list of name=value");
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		val = out;
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				if ((unsigned char)*p < 0x20 && *p != '\t')
					return ("a control character in a "
					    "value");
				*out++ = *p;
			}
			if (p == end)
				return ("an unterminated quoted value");
			p++;
		} else
			while (p < end && *p != ',' && *p != ' ' &&
			    *p != '\t') {
				if ((unsigned char)*p < 0x21 || *p == '"')
					return ("a bad character in a value");
				*out++ = *p++;
			}
		*out++ = '\0';
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p != ',')
			return ("not a list of name=value");
		for (i = 0; i < DF__COUNT; i++)
			if (strlen(digest_field_names[i]) == nlen &&
			    strncasecmp(name, digest_field_names[i],
			    nlen) == 0)
				break;
		if (i == DF__COUNT)
			continue;
		if (dc->f[i] != NULL)
			return ("a field given twice");
		dc->f[i] = val;
	}
	return (NULL);
}

/* The checks that need no state: NULL or why dc is refused. */
static const char *
digest_validate(const struct auth *a, const struct auth_req *rq,
    struct digest_cred *dc, char *why, size_t cap, enum auth_alg *alg)
{
	static const enum digest_field need[] = { DF_USERNAME, DF_REALM,
	    DF_NONCE, DF_URI, DF_RESPONSE };
	const char *u, *path;
	size_t i;

	for (i = 0; i < ARRAY_LEN(need); i++)
		if (dc->f[need[i]] == NULL || dc->f[need[i]][0] == '\0') {
			snprintf(why, cap, "no %s",
			    digest_field_names[need[i]]);
			return (why);
		}
	u = dc->f[DF_USERNAME];
	if (strlen(u) > DIGEST_USER_MAX)
		return ("user name too long");
	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f ||
		    u[i] == '"' || u[i] == '\\')
			return ("a control character, '\"' or '\\' in the "
			    "user name");
	if (strcmp(dc->f[DF_REALM], a->digest.realm) != 0)
		return ("another realm");
	*alg = AUTH_ALG_MD5;
	if (dc->f[DF_ALGORITHM] != NULL) {
		for (i = 0; i < AUTH_DIGEST_ALGS; i++)
			if (strcasecmp(dc->f[DF_ALGORITHM],
			    digest_alg_names[i]) == 0)
				break;
		if (i == AUTH_DIGEST_ALGS || !digest_alg_on(a,
		    (enum auth_alg)i)) {
			snprintf(why, cap, "algorithm %.32s, which is not "
			    "offered", dc->f[DF_ALGORITHM]);
			return (why);
		}
		*alg = (enum auth_alg)i;
	} else if (!digest_alg_on(a, AUTH_ALG_MD5))
		return ("no algorithm (MD5), which is not offered");
	if (!is_hex(dc->f[DF_RESPONSE], auth_alg_len(*alg))) {
		snprintf(why, cap, "response is not %zu hex digits",
		    auth_alg_len(*alg));
		return (why);
	}
	if (dc->f[DF_QOP] != NULL) {
		if (strcasecmp(dc->f[DF_QOP], "auth") != 0)
			return ("a qop other than auth");
		if (dc->f[DF_NC] == NULL || !is_hex(dc->f[DF_NC], 8))
			return ("nc is not 8 hex digits");
		if (dc->f[DF_CNONCE] == NULL || dc->f[DF_CNONCE][0] == '\0')
			return ("no cnonce");
	} else if (dc->f[DF_NC] != NULL || dc->f[DF_CNONCE] != NULL)
		return ("nc or cnonce without qop");
	/* uri is the request-target, or (as browsers and curl send it)
	 * the path of an absolute one. */
	if (rq->uri == NULL)
		return ("no request to check uri against");
	if (strlen(dc->f[DF_URI]) == rq->uri_len &&
	    memcmp(dc->f[DF_URI], rq->uri, rq->uri_len) == 0)
		return (NULL);
	path = memmem(rq->uri, rq->uri_len, "://", 3);
	if (path != NULL)
		path = memchr(path + 3, '/', rq->uri_len -
		    (size_t)(path + 3 - rq->uri));
	if (path != NULL && strlen(dc->f[DF_URI]) == rq->uri_len -
	    (size_t)(path - rq->uri) && memcmp(dc->f[DF_URI], path,
	    rq->uri_len - (size_t)(path - rq->uri)) == 0)
		return (NULL);
	return ("uri is not the request's");
}

/* The response's hash text after "HA1:" into a malloc'd string. */
static char *
digest_tail(const struct auth_req *rq, const struct digest_cred *dc,
    enum auth_alg alg)
{
	char ha2[AUTH_HEX_MAX], *a2, *t;
	size_t n;
	int rc;

	n = rq->method_len + strlen(dc->f[DF_URI]) + 2;
	a2 = malloc(n);
	if (a2 == NULL)
		return (NULL);
	snprintf(a2, n, "%.*s:%s", (int)rq->method_len, rq->method,
	    dc->f[DF_URI]);
	auth_alg_hex(alg, a2, ha2);
	free(a2);
	if (dc->f[DF_QOP] != NULL)
		rc = asprintf(&t, "%s:%s:%s:auth:%s", dc->f[DF_NONCE],
		    dc->f[DF_NC], dc->f[DF_CNONCE], ha2);
	else
		rc = asprintf(&t, "%s:%s", dc->f[DF_NONCE], ha2);
	return (rc < 0 ? NULL : t);
}

/* ha1 (hex, of the check's algorithm) answers the check's response. */
static bool
digest_verify(const struct auth_check *ck, const char *ha1)
{
	char *s, want[AUTH_HEX_MAX];
	size_t n;

	n = AUTH_HEX_MAX + strlen(ck->pass) + 1;
	s = malloc(n);
	if (s == NULL)
		return (false);
	snprintf(s, n, "%s:%s", ha1, ck->pass);
	auth_alg_hex(ck->alg, s, want);
	free(s);
	return (auth_secret_equal(want, ck->response));
}

/* The nonce's count moves on after a verified use: false when that use
 * comes too late (the nonce went, or a later count was taken first). */
static bool
digest_use(struct auth *a, const struct auth_check *ck, const char **why)
{
	struct auth_nonce *n = nonce_find(a, ck->nonce);

	*why = "the nonce expired while the helper was asked";
	if (n == NULL || nonce_stale(a, n, digest_now(a)))
		return (false);
	*why = "nonce count not increasing (a replay)";
	if (a->check_nc && ck->nc != 0 && ck->nc <= n->nc)
		return (false);
	if (ck->nc > n->nc)
		n->nc = ck->nc;
	n->uses++;
	return (true);
}

static void
digest_check_free(struct auth_check *ck)
{
	explicit_bzero(ck->pass, strlen(ck->pass));
	free(ck->pass);
	ck->magic = 0;
	free(ck);
}

/* The cache's key for user's HA1 of alg: the name for MD5 (as before
 * SHA-256 came), a \001 and the name for SHA-256 (no user name has a
 * control character: digest_validate()). */
static void
digest_cache_key(const char *user, enum auth_alg alg, char *out)
{
	if (alg == AUTH_ALG_MD5)
		snprintf(out, DIGEST_USER_MAX + 2, "%s", user);
	else
		snprintf(out, DIGEST_USER_MAX + 2, "\001%s", user);
}

static void
digest_helper_done(struct helper_req *rq, const struct helper_reply *r,
    void *arg)
{
	struct auth_check *ck = arg;
	struct auth *a = ck->a;
	const char *user = NULL, *ha1, *why;
	char low[AUTH_HEX_MAX] = "", key[DIGEST_USER_MAX + 2];
	size_t i, len;

	(void)rq;
	CHECK_OBJ_NOTNULL(ck, AUTH_CHECK_MAGIC);
	ck->rq = NULL;
	if (a != NULL)
		list_remove(&ck->link);
	if (r->status == HELPER_CANCELLED || a == NULL)
		goto out;
	ha1 = helper_reply_get(r, "ha1");
	if (r->status != HELPER_OK) {
		log_msg(LG_NOTICE, SEC_AUTH, "digest: user \"%s\" not "
		    "authenticated: the helper answered %s%s%s", ck->user,
		    helper_status_name(r->status), r->why != NULL ? ": " : "",
		    r->why != NULL ? r->why : "");
		goto out;
	}
	len = auth_alg_len((enum auth_alg)ck->alg);
	if (ha1 == NULL || (!is_hex(ha1, 32) && !is_hex(ha1, 64))) {
		log_msg(LG_NOTICE, SEC_AUTH, "digest: user \"%s\" not "
		    "authenticated: the helper's OK has no ha1 of 32 (MD5) or "
		    "64 (SHA-256) hex digits", ck->user);
		goto out;
	}
	if (strlen(ha1) != len) {
		log_msg(LG_NOTICE, SEC_AUTH, "digest: user \"%s\" not "
		    "authenticated: the credentials are %s but the helper's "
		    "ha1 is %s (the helper must compute the HA1 of the "
		    "algorithms auth_param digest algorithm offers)",
		    ck->user, digest_alg_names[ck->alg],
		    strlen(ha1) == 32 ? "MD5" : "SHA-256");
		goto out;
	}
	for (i = 0; i <= len; i++)
		low[i] = (char)tolower((unsigned char)ha1[i]);
	digest_cache_key(ck->user, (enum auth_alg)ck->alg, key);
	auth_cache_put(a, &a->digest, key, low);
	if (!digest_verify(ck, low)) {
		log_msg(LG_NOTICE, SEC_AUTH, "digest: user \"%s\" not "
		    "authenticated: wrong response (password)", ck->user);
		goto out;
	}
	if (!digest_use(a, ck, &why)) {
		log_msg(LG_NOTICE, SEC_AUTH, "digest: user \"%s\" not "
		    "authenticated: %s", ck->user, why);
		goto out;
	}
	user = ck->user;
out:
	explicit_bzero(low, sizeof low);
	ck->done(ck, user, ck->arg);
	digest_check_free(ck);
}

void
digest_challenge(struct auth *a, const struct auth_req *rq, char *out,
    size_t cap)
{
	struct digest_cred *dc = NULL;
	struct auth_nonce *n;
	bool stale = false;
	char key[33];
	size_t len;
	unsigned i;

	if (rq != NULL && rq->hdr != NULL && rq->len >= 7 &&
	    strncasecmp(rq->hdr, "Digest", 6) == 0 &&
	    (dc = malloc(sizeof *dc)) != NULL &&
	    digest_parse(rq->hdr, rq->len, dc) == NULL &&
	    dc->f[DF_NONCE] != NULL &&
	    (n = nonce_find(a, dc->f[DF_NONCE])) != NULL)
		stale = nonce_stale(a, n, digest_now(a));
	free(dc);
	if (!nonce_new(a, key)) {
		/* No nonce to give: Digest is not offered this time. */
		log_msg(LG_WARN, SEC_AUTH, "digest: no memory or randomness "
		    "for a nonce");
		*out = '\0';
		return;
	}
	/* One challenge per algorithm, on one nonce (RFC 7616 3.7); MD5's
	 * without algorithm=, as Squid sends it. */
	*out = '\0';
	for (i = 0; i < a->digest_nalgs; i++) {
		len = strlen(out);
		snprintf(out + len, cap - len, "Proxy-Authenticate: Digest "
		    "realm=\"%s\", nonce=\"%s\", qop=\"auth\", %s%s%sstale=%s"
		    "\r\n", a->digest.realm, key,
		    a->digest_algs[i] == AUTH_ALG_MD5 ? "" : "algorithm=",
		    a->digest_algs[i] == AUTH_ALG_MD5 ? "" :
		    digest_alg_names[a->digest_algs[i]],
		    a->digest_algs[i] == AUTH_ALG_MD5 ? "" : ", ",
		    stale ? "true" : "false");
	}
}

int
digest_check_start(struct auth *a, const struct auth_req *rq,
    auth_done_fn *done, void *arg, struct auth_check **ckp, char **user)
{
	struct digest_cred *dc;
	struct auth_nonce *n;
	struct auth_cred **cp;
	struct auth_check *ck;
	const char *why, *u;
	char msg[96], *line, key[DIGEST_USER_MAX + 2];
	char conv[3 * DIGEST_USER_MAX + 1];
	enum auth_alg alg = AUTH_ALG_MD5;
	size_t ulen;
	int rc = 0;

	if (a->digest.pool == NULL)
		return (0);
	dc = malloc(sizeof *dc);
	if (dc == NULL)
		return (-ENOMEM);
	why = digest_parse(rq->hdr, rq->len, dc);
	if (why == NULL)
		why = digest_validate(a, rq, dc, msg, sizeof msg, &alg);
	if (why != NULL) {
		log_msg(LG_NOTICE, SEC_AUTH, "digest: Proxy-Authorization "
		    "refused: %s", why);
		goto out;
	}
	u = dc->f[DF_USERNAME];
	/* utf8 on: a user name that is not UTF-8 is converted as Basic's
	 * are; the cache key must hold all of it. */
	if (a->digest.utf8 && !auth_utf8_valid(u)) {
		auth_to_utf8(rq, u, conv);
		if (strlen(conv) > DIGEST_USER_MAX) {
			log_msg(LG_NOTICE, SEC_AUTH, "digest: "
			    "Proxy-Authorization refused: the user name is "
			    "too long in UTF-8");
			goto out;
		}
		u = conv;
	}
	n = nonce_find(a, dc->f[DF_NONCE]);
	if (n == NULL) {
		log_msg(LG_NOTICE, SEC_AUTH, "digest: user \"%s\": a nonce "
		    "cuttle does not know (or no longer)", u);
		goto out;
	}
	if (nonce_stale(a, n, digest_now(a))) {
		log_msg(LG_INFO, SEC_AUTH, "digest: user \"%s\": a stale "
		    "nonce", u);
		goto out;
	}
	ulen = strlen(u);
	ck = calloc(1, sizeof *ck + ulen + 1);
	if (ck == NULL || (ck->pass = digest_tail(rq, dc, alg)) == NULL) {
		free(ck);
		rc = -ENOMEM;
		goto out;
	}
	ck->magic = AUTH_CHECK_MAGIC;
	ck->a = a;
	ck->done = done;
	ck->arg = arg;
	memcpy(ck->user, u, ulen + 1);
	memcpy(ck->nonce, n->key, sizeof ck->nonce);
	ck->alg = (uint8_t)alg;
	for (ulen = 0; ulen <= auth_alg_len(alg); ulen++)
		ck->response[ulen] = (char)tolower(
		    (unsigned char)dc->f[DF_RESPONSE][ulen]);
	ck->nc = dc->f[DF_NC] != NULL ? strtoul(dc->f[DF_NC], NULL, 16) : 0;
	if (a->check_nc && dc->f[DF_QOP] != NULL && ck->nc <= n->nc) {
		log_msg(LG_NOTICE, SEC_AUTH, "digest: user \"%s\" not "
		    "authenticated: nonce count not increasing (a replay)",
		    u);
		digest_check_free(ck);
		goto out;
	}
	digest_cache_key(ck->user, alg, key);
	cp = auth_cache_find(&a->digest, key);
	if (cp != NULL && (*cp)->expires > digest_now(a) &&
	    digest_verify(ck, (*cp)->pass)) {
		if (digest_use(a, ck, &why)) {
			*user = strdup(ck->user);
			rc = *user != NULL ? 0 : -ENOMEM;
		} else
			log_msg(LG_NOTICE, SEC_AUTH, "digest: user \"%s\" not "
			    "authenticated: %s", u, why);
		digest_check_free(ck);
		goto out;
	}
	/* Not cached, or the cached HA1 does not answer (the password may
	 * have changed): the helper says. */
	if (asprintf(&line, "\"%s\":\"%s\"", ck->user, a->digest.realm) < 0) {
		digest_check_free(ck);
		rc = -ENOMEM;
		goto out;
	}
	ck->rq = helper_submit(a->digest.pool, line, strlen(line),
	    digest_helper_done, ck);
	free(line);
	if (ck->rq == NULL) {
		digest_check_free(ck);
		rc = -ENOMEM;
		goto out;
	}
	list_insert_tail(&a->checks, &ck->link);
	*ckp = ck;
	rc = 1;
out:
	free(dc);
	return (rc);
}
