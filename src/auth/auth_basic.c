/*
 * auth_basic.c - `auth_param basic`: the configuration, the credentials
 * cache, and checks that ask the helper.
 *
 *	auth_check_start()	no credentials, not Basic, malformed: no
 *				user, at once (logged)
 *				cached and unexpired, password equal: the
 *				user, at once
 *				else it waits on the question out for the
 *				same user and password, or asks the helper
 *				(a new struct auth_ask); CHECK pending
 *	  basic_helper_done()	OK: cached; every check waiting on the ask
 *				gets the user, anything else no user
 *				(logged once); each done() posted
 *	auth_check_cancel()	the check stops waiting: done() comes with
 *				no user; the last to stop cancels the
 *				helper request
 *	auth_free()		asks still out are detached (ask->a NULL);
 *				their helper requests complete CANCELLED
 *
 * The cache is a hash of user names, each with the password the helper
 * accepted and when that stops counting (credentialsttl).  At most
 * AUTH_CACHE_MAX users are kept: past that, expired ones are dropped,
 * and when none has expired the new one is simply not cached (each of
 * its requests then asks the helper, which is slower but right).
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
#include "base/list.h"
#include "base/log.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "helper/helper.h"
#include "mgr/mgr.h"

#define AUTH_TTL_DEFAULT	7200.0	/* Squid's credentialsttl 2 hours */
#define AUTH_TIMEOUT_DEFAULT	60.0

static int	basic_check_start(struct auth *a, const struct auth_req *rq,
		    auth_done_fn *done, void *arg, struct auth_check **ckp,
		    char **user);

/* -- configuration --------------------------------------------------------- */

void
auth_conf_error(const struct conf_line *l, const char *advice,
    const char *problem, int *errors)
{
	log_msg(LG_ERR, SEC_AUTH, "%s:%u: auth_param: %s", l->file, l->line,
	    problem);
	log_msg(LG_ERR, SEC_AUTH, "    advice: %s", advice);
	(*errors)++;
}

/* The words from argv[from] on, joined by single spaces. */
char *
auth_join(const struct conf_line *l, unsigned from)
{
	size_t n = 1;
	unsigned i;
	char *s;

	for (i = from; i < l->argc; i++)
		n += strlen(l->argv[i]) + 1;
	s = calloc(1, n);
	if (s == NULL)
		return (NULL);
	for (i = from; i < l->argc; i++) {
		if (i > from)
			strcat(s, " ");
		strcat(s, l->argv[i]);
	}
	return (s);
}

bool
auth_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v > max ||
	    *s == '-')
		return (false);
	*out = (unsigned)v;
	return (true);
}

/* "N [seconds|minutes|hours]" from argv[2] on, into seconds. */
bool
auth_time(const struct conf_line *l, double *out)
{
	unsigned v, mult = 1;
	const char *unit = l->argc > 3 ? l->argv[3] : "seconds";

	if (l->argc < 3 || l->argc > 4 || !auth_uint(l->argv[2], 86400 * 365,
	    &v))
		return (false);
	if (strncmp(unit, "second", 6) == 0)
		mult = 1;
	else if (strncmp(unit, "minute", 6) == 0)
		mult = 60;
	else if (strncmp(unit, "hour", 4) == 0)
		mult = 3600;
	else if (strncmp(unit, "day", 3) == 0)
		mult = 86400;
	else
		return (false);
	*out = (double)v * mult;
	return (true);
}

bool
auth_onoff(const struct conf_line *l, bool *out)
{
	if (l->argc != 3)
		return (false);
	if (strcmp(l->argv[2], "on") == 0)
		*out = true;
	else if (strcmp(l->argv[2], "off") == 0)
		*out = false;
	else
		return (false);
	return (true);
}

/* "children N [startup=N] [idle=N] [concurrency=N] [queue-size=N]" */
bool
auth_children(const struct conf_line *l, struct helper_params *hp)
{
	static const struct {
		const char	*opt;
		size_t		off;
	} opts[] = {
		{ "startup=", offsetof(struct helper_params, startup) },
		{ "idle=", offsetof(struct helper_params, idle) },
		{ "concurrency=", offsetof(struct helper_params, concurrency) },
		{ "queue-size=", offsetof(struct helper_params, queue_size) },
	};
	unsigned i, j, v;
	size_t n;

	if (l->argc < 3 || !auth_uint(l->argv[2], HELPER_CHILDREN_MAX,
	    &hp->children_max) || hp->children_max == 0)
		return (false);
	for (i = 3; i < l->argc; i++) {
		for (j = 0; j < ARRAY_LEN(opts); j++) {
			n = strlen(opts[j].opt);
			if (strncmp(l->argv[i], opts[j].opt, n) == 0)
				break;
		}
		if (j == ARRAY_LEN(opts) || !auth_uint(l->argv[i] + n,
		    HELPER_CONCURRENCY_MAX * 10, &v))
			return (false);
		*(unsigned *)(void *)((char *)hp + opts[j].off) = v;
	}
	return (hp->startup <= hp->children_max &&
	    hp->concurrency <= HELPER_CONCURRENCY_MAX);
}

static void
basic_line(struct auth *a, const struct conf_line *l, int *errors)
{
	struct auth_scheme *s = &a->basic;
	const char *what = l->argv[1];
	char **slot = NULL;

	if (strcmp(what, "program") == 0)
		slot = &s->program;
	else if (strcmp(what, "realm") == 0)
		slot = &s->realm;
	if (slot != NULL) {
		if (l->argc < 3) {
			auth_conf_error(l, "auth_param basic program "
			    "/usr/lib/squid/basic_ncsa_auth /etc/squid/passwd",
			    "a value is needed", errors);
			return;
		}
		free(*slot);
		*slot = auth_join(l, 2);
		if (*slot == NULL)
			auth_conf_error(l, "give cuttle more memory",
			    "out of memory", errors);
		return;
	}
	if (strcmp(what, "children") == 0) {
		if (!auth_children(l, &s->hp))
			auth_conf_error(l, "auth_param basic children N "
			    "[startup=N] [idle=N] [concurrency=N] "
			    "[queue-size=N], startup <= N", "bad children line",
			    errors);
	} else if (strcmp(what, "credentialsttl") == 0) {
		if (!auth_time(l, &s->ttl))
			auth_conf_error(l, "auth_param basic credentialsttl 2 "
			    "hours", "bad time", errors);
	} else if (strcmp(what, "timeout") == 0) {
		if (!auth_time(l, &s->timeout))
			auth_conf_error(l, "auth_param basic timeout 60 "
			    "seconds (0: wait forever, as Squid)", "bad time",
			    errors);
	} else if (strcmp(what, "casesensitive") == 0) {
		if (!auth_onoff(l, &s->casesensitive))
			auth_conf_error(l, "auth_param basic casesensitive "
			    "on|off", "bad value", errors);
	} else if (strcmp(what, "utf8") == 0) {
		if (!auth_onoff(l, &s->utf8))
			auth_conf_error(l, "auth_param basic utf8 on|off",
			    "bad value", errors);
	} else {
		auth_conf_error(l, "auth_param basic program|children|realm|"
		    "credentialsttl|casesensitive|utf8|timeout",
		    "unknown parameter", errors);
	}
}

static void
auth_line(struct auth *a, const struct conf_line *l, int *errors)
{
	if (l->argc < 2) {
		auth_conf_error(l, "auth_param basic|digest program|children|"
		    "realm|... value", "a scheme and a parameter are needed",
		    errors);
		return;
	}
	if (strcasecmp(l->argv[0], "basic") == 0) {
		if (!a->digest.configured && !a->basic.configured)
			a->digest_first = false;
		a->basic.configured = true;
		basic_line(a, l, errors);
	} else if (strcasecmp(l->argv[0], "digest") == 0) {
		if (!a->digest.configured && !a->basic.configured)
			a->digest_first = true;
		a->digest.configured = true;
		digest_line(a, l, errors);
	} else
		auth_conf_error(l, "use auth_param basic or digest; NTLM and "
		    "Negotiate are not there yet", "unsupported scheme",
		    errors);
}

static void
auth_scheme_init(struct auth_scheme *s, const char *name)
{
	s->name = name;
	s->ttl = AUTH_TTL_DEFAULT;
	s->timeout = AUTH_TIMEOUT_DEFAULT;
	s->hp.children_max = 20;	/* Squid's defaults */
	s->hp.idle = 1;
}

/* The scheme's defaults and its pool; false: an error was counted. */
static bool
auth_scheme_finish(struct auth *a, struct auth_scheme *s,
    const struct conf_lines *ls, const char *example, int *errors)
{
	int err;

	if (!s->configured)
		return (true);
	if (s->program == NULL) {
		log_msg(LG_ERR, SEC_AUTH, "%s:%u: auth_param: %s has no "
		    "program", ls->v[0].file, ls->v[0].line, s->name);
		log_msg(LG_ERR, SEC_AUTH, "    advice: auth_param %s program "
		    "%s", s->name, example);
		(*errors)++;
		return (false);
	}
	if (s->realm == NULL)
		s->realm = strdup("Squid proxy-caching web server");
	if (s->realm == NULL) {
		log_msg(LG_ERR, SEC_AUTH, "auth_param: out of memory");
		(*errors)++;
		return (false);
	}
	s->hp.name = s == &a->basic ? "basicauthenticator" :
	    "digestauthenticator";
	s->hp.cmd = s->program;
	s->hp.timeout = s->timeout;
	if (*errors > 0 || a->loop == NULL)
		return (true);		/* checked only, or never in force */
	s->pool = helper_pool_new(a->loop, &s->hp, &err);
	if (s->pool == NULL) {
		log_msg(LG_ERR, SEC_AUTH, "auth_param %s: cannot make the "
		    "helper pool: %s", s->name, strerror(-err));
		(*errors)++;
		return (false);
	}
	return (true);
}

struct auth *
auth_new(struct comm_loop *loop, const struct conf_lines *ls, int *errors)
{
	struct auth *a;
	size_t i, n;
	const char *realm;
	bool ok;

	if (ls == NULL || ls->n == 0)
		return (NULL);
	ALLOC_OBJ(a, AUTH_MAGIC);
	if (a == NULL)
		goto nomem;
	a->loop = loop;
	list_init(&a->checks);
	list_init(&a->asks);
	auth_scheme_init(&a->basic, "basic");
	auth_scheme_init(&a->digest, "digest");
	a->digest.ttl = 3600.0;		/* Squid's authenticate_ttl */
	if (digest_init(a) != 0)
		goto nomem;
	for (i = 0; i < ls->n; i++)
		auth_line(a, &ls->v[i], errors);
	ok = auth_scheme_finish(a, &a->basic, ls,
	    "/usr/lib/squid/basic_ncsa_auth /etc/squid/passwd", errors);
	if (!auth_scheme_finish(a, &a->digest, ls,
	    "/usr/lib/squid/digest_file_auth /etc/squid/digest_passwd",
	    errors) || !ok) {
		auth_free(&a);
		return (NULL);
	}
	if (a->basic.configured) {
		realm = a->basic.realm;
		n = strlen(realm) * 2 + 64;
		a->basic_challenge = malloc(n);
		if (a->basic_challenge == NULL)
			goto nomem;
		/* The realm as a quoted-string (RFC 9110 5.6.4). */
		strcpy(a->basic_challenge,
		    "Proxy-Authenticate: Basic realm=\"");
		for (i = 0; realm[i] != '\0'; i++) {
			if (realm[i] == '"' || realm[i] == '\\')
				strncat(a->basic_challenge, "\\", 2);
			strncat(a->basic_challenge, &realm[i], 1);
		}
		strcat(a->basic_challenge, "\"\r\n");
	}
	n = (a->basic_challenge != NULL ? strlen(a->basic_challenge) : 0) +
	    (a->digest.realm != NULL ? strlen(a->digest.realm) * 2 : 0) + 512;
	a->challenge = malloc(n);
	if (a->challenge == NULL)
		goto nomem;
	return (a);
nomem:
	log_msg(LG_ERR, SEC_AUTH, "auth_param: out of memory");
	(*errors)++;
	auth_free(&a);
	return (NULL);
}

void
auth_conf_check(const struct conf_lines *ls, int *errors)
{
	struct auth *a = auth_new(NULL, ls, errors);

	auth_free(&a);
}

unsigned
auth_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h % AUTH_BUCKETS);
}

static void
auth_scheme_fini(struct auth_scheme *s)
{
	struct auth_cred *c;
	size_t i;

	helper_pool_free(&s->pool);
	for (i = 0; i < AUTH_BUCKETS; i++)
		while ((c = s->buckets[i]) != NULL) {
			s->buckets[i] = c->next;
			explicit_bzero(c->pass, strlen(c->pass));
			free(c->pass);
			free(c);
		}
	free(s->program);
	free(s->realm);
}

void
auth_free(struct auth **ap)
{
	struct auth *a = *ap;
	struct auth_check *ck;
	struct auth_ask *ask;
	struct list *n, *tmp;

	if (a == NULL)
		return;
	*ap = NULL;
	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	LIST_FOREACH_SAFE(n, tmp, &a->checks) {
		ck = container_of(n, struct auth_check, link);
		list_remove(&ck->link);
		ck->a = NULL;
	}
	LIST_FOREACH_SAFE(n, tmp, &a->asks) {
		ask = container_of(n, struct auth_ask, link);
		list_remove(&ask->link);
		ask->a = NULL;
	}
	auth_scheme_fini(&a->basic);
	auth_scheme_fini(&a->digest);
	digest_fini(a);
	auth_ips_fini(a);
	free(a->basic_challenge);
	free(a->challenge);
	FREE_OBJ(a);
}

const char *
auth_challenge(struct auth *a, const struct auth_req *rq)
{
	char *p;
	size_t n;

	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	if (!a->digest.configured)
		return (a->basic_challenge);
	n = (a->basic_challenge != NULL ? strlen(a->basic_challenge) : 0) +
	    strlen(a->digest.realm) * 2 + 512;
	a->challenge[0] = '\0';
	if (!a->digest_first && a->basic_challenge != NULL)
		strcpy(a->challenge, a->basic_challenge);
	p = a->challenge + strlen(a->challenge);
	digest_challenge(a, rq, p, n - (size_t)(p - a->challenge));
	if (a->digest_first && a->basic_challenge != NULL)
		strcat(a->challenge, a->basic_challenge);
	return (a->challenge);
}

static int
auth_scheme_register(struct auth_scheme *s, struct mgr_registry *r,
    struct helper_pools *ps)
{
	if (s->pool == NULL)
		return (0);
	if (ps->n < HELPER_POOLS_MAX)
		ps->v[ps->n++] = s->pool;
	return (helper_register_page(s->pool, r));
}

int
auth_register(struct auth *a, struct mgr_registry *r,
    struct helper_pools *ps)
{
	int rc;

	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	rc = auth_scheme_register(&a->basic, r, ps);
	if (rc == 0)
		rc = auth_scheme_register(&a->digest, r, ps);
	return (rc);
}

static int
auth_scheme_replace(struct auth_scheme *from, struct auth_scheme *to,
    struct mgr_registry *r, struct helper_pools *ps)
{
	unsigned i;

	if (to->pool == NULL)
		return (0);	/* none before either (auth_removes()) */
	if (from == NULL || from->pool == NULL)
		return (auth_scheme_register(to, r, ps));
	(void)mgr_registry_rebind(r, from->pool, to->pool);
	for (i = 0; i < ps->n; i++)
		if (ps->v[i] == from->pool)
			ps->v[i] = to->pool;
	return (0);
}

int
auth_replace(struct auth *from, struct auth *to, struct mgr_registry *r,
    struct helper_pools *ps)
{
	int rc;

	CHECK_OBJ_NOTNULL(to, AUTH_MAGIC);
	if (from != NULL)
		CHECK_OBJ_NOTNULL(from, AUTH_MAGIC);
	rc = auth_scheme_replace(from != NULL ? &from->basic : NULL,
	    &to->basic, r, ps);
	if (rc == 0)
		rc = auth_scheme_replace(from != NULL ? &from->digest : NULL,
		    &to->digest, r, ps);
	return (rc);
}

bool
auth_removes(const struct auth *from, const struct auth *to)
{
	if (from == NULL)
		return (false);
	if (to == NULL)
		return (true);
	return ((from->basic.pool != NULL && to->basic.pool == NULL) ||
	    (from->digest.pool != NULL && to->digest.pool == NULL));
}

bool
auth_utf8(const struct auth *a)
{
	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	return (a->basic.utf8 || a->digest.utf8);
}

bool
auth_idle(const struct auth *a)
{
	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	return (list_empty(&a->checks) && list_empty(&a->asks));
}

/* -- the cache ------------------------------------------------------------- */

struct auth_cred **
auth_cache_find(struct auth_scheme *s, const char *user)
{
	struct auth_cred **cp;

	for (cp = &s->buckets[auth_hash(user)]; *cp != NULL;
	    cp = &(*cp)->next)
		if (strcmp((*cp)->user, user) == 0)
			return (cp);
	return (NULL);
}

void
auth_cache_drop(struct auth_scheme *s, struct auth_cred **cp)
{
	struct auth_cred *c = *cp;

	*cp = c->next;
	explicit_bzero(c->pass, strlen(c->pass));
	free(c->pass);
	free(c);
	s->ncreds--;
}

static void
auth_cache_expire(struct auth_scheme *s, double now)
{
	struct auth_cred **cp;
	size_t i;

	for (i = 0; i < AUTH_BUCKETS; i++)
		for (cp = &s->buckets[i]; *cp != NULL;)
			if ((*cp)->expires <= now)
				auth_cache_drop(s, cp);
			else
				cp = &(*cp)->next;
}

void
auth_cache_put(struct auth *a, struct auth_scheme *s, const char *user,
    const char *pass)
{
	struct auth_cred **cp, *c;
	double now = comm_now(a->loop);
	size_t len = strlen(user);

	if (s->ttl <= 0)
		return;
	cp = auth_cache_find(s, user);
	if (cp != NULL)
		auth_cache_drop(s, cp);
	if (s->ncreds >= AUTH_CACHE_MAX)
		auth_cache_expire(s, now);
	if (s->ncreds >= AUTH_CACHE_MAX)
		return;
	c = malloc(sizeof *c + len + 1);
	if (c == NULL)
		return;
	c->pass = strdup(pass);
	if (c->pass == NULL) {
		free(c);
		return;
	}
	memcpy(c->user, user, len + 1);
	c->expires = now + s->ttl;
	c->next = s->buckets[auth_hash(user)];
	s->buckets[auth_hash(user)] = c;
	s->ncreds++;
}

/* -- checks ---------------------------------------------------------------- */

/*
 * s %-escaped as Squid escapes the user and password it sends a basic
 * helper (RFC 1738's unsafe characters, blanks, controls and bytes
 * above 0x7e), so helpers that unescape them get back what was typed.
 */
static void
auth_escape(const char *s, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c > 0x20 && c < 0x7f && strchr("<>\"#%{}|\\^~[]`'",
		    c) == NULL) {
			*out++ = (char)c;
			continue;
		}
		*out++ = '%';
		*out++ = hex[c >> 4];
		*out++ = hex[c & 15];
	}
	*out = '\0';
}

/* A basic check's answer, from the loop: done once, then freed. */
static void
basic_check_deliver(struct comm_call *call)
{
	struct auth_check *ck = container_of(call, struct auth_check, call);

	CHECK_OBJ_NOTNULL(ck, AUTH_CHECK_MAGIC);
	AZ(ck->ask);
	ck->done(ck, ck->ok ? ck->user : NULL, ck->arg);
	ck->magic = 0;
	free(ck);
}

static void
basic_ask_free(struct auth_ask *ask)
{
	explicit_bzero(ask->pass, strlen(ask->pass));
	free(ask->pass);
	ask->magic = 0;
	free(ask);
}

static void
basic_helper_done(struct helper_req *rq, const struct helper_reply *r,
    void *arg)
{
	struct auth_ask *ask = arg;
	struct auth *a = ask->a;
	struct auth_check *ck;
	struct list *n, *tmp;
	bool ok = r->status == HELPER_OK;

	(void)rq;
	CHECK_OBJ_NOTNULL(ask, AUTH_ASK_MAGIC);
	ask->rq = NULL;
	if (a != NULL)
		list_remove(&ask->link);
	if (ok && a != NULL)
		auth_cache_put(a, &a->basic, ask->user, ask->pass);
	else if (!ok && r->status != HELPER_CANCELLED)
		log_msg(LG_NOTICE, SEC_AUTH, "basic: user \"%s\" not "
		    "authenticated: the helper answered %s%s%s", ask->user,
		    helper_status_name(r->status), r->why != NULL ? ": " : "",
		    r->why != NULL ? r->why : "");
	LIST_FOREACH_SAFE(n, tmp, &ask->waiting) {
		ck = container_of(n, struct auth_check, link);
		CHECK_OBJ(ck, AUTH_CHECK_MAGIC);
		list_remove(&ck->link);
		ck->ask = NULL;
		ck->ok = ok;
		comm_call_post(ck->loop, &ck->call);
	}
	basic_ask_free(ask);
}

/* The question out for name and pass, or NULL.  The passwords are
 * compared in constant time, as the cache's are. */
static struct auth_ask *
basic_ask_find(struct auth *a, const char *name, const char *pass)
{
	struct auth_ask *ask;
	struct list *n;

	LIST_FOREACH(n, &a->asks) {
		ask = container_of(n, struct auth_ask, link);
		if (strcmp(ask->user, name) == 0 &&
		    auth_secret_equal(ask->pass, pass))
			return (ask);
	}
	return (NULL);
}

/* A new question to the helper for name and pass, or NULL (no memory). */
static struct auth_ask *
basic_ask_new(struct auth *a, const char *name, const char *pass)
{
	struct auth_ask *ask;
	size_t ulen = strlen(name);
	char *line;

	ask = calloc(1, sizeof *ask + ulen + 1);
	line = malloc(3 * (ulen + strlen(pass)) + 2);
	if (ask == NULL || line == NULL || (ask->pass = strdup(pass)) ==
	    NULL) {
		free(ask);
		free(line);
		return (NULL);
	}
	ask->magic = AUTH_ASK_MAGIC;
	ask->a = a;
	list_init(&ask->waiting);
	memcpy(ask->user, name, ulen + 1);
	auth_escape(name, line);
	strcat(line, " ");
	auth_escape(pass, line + strlen(line));
	/* Its answer is posted, never delivered from within. */
	ask->rq = helper_submit(a->basic.pool, line, strlen(line),
	    basic_helper_done, ask);
	explicit_bzero(line, strlen(line));
	free(line);
	if (ask->rq == NULL) {
		basic_ask_free(ask);
		return (NULL);
	}
	list_insert_tail(&a->asks, &ask->link);
	return (ask);
}

/* hdr is "Basic <base64>": the decoded pair into buf, or a message. */
static const char *
auth_parse(const char *hdr, size_t len, char *buf, size_t cap, char **pass)
{
	const char *why;

	if (auth_basic_credentials(hdr, len, buf, cap, pass, &why) != 0)
		return (why);
	if (buf[0] == '\0')
		return ("an empty user name");
	return (NULL);
}

int
auth_check_start(struct auth *a, const struct auth_req *rq,
    auth_done_fn *done, void *arg, struct auth_check **ckp, char **user)
{
	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	*user = NULL;
	*ckp = NULL;
	if (rq->hdr == NULL)
		return (0);
	if (a->digest.configured && rq->len >= 7 &&
	    strncasecmp(rq->hdr, "Digest", 6) == 0 &&
	    (rq->hdr[6] == ' ' || rq->hdr[6] == '\t'))
		return (digest_check_start(a, rq, done, arg, ckp, user));
	if (!a->basic.configured) {
		log_msg(LG_NOTICE, SEC_AUTH, "digest: Proxy-Authorization "
		    "refused: not Digest credentials");
		return (0);
	}
	return (basic_check_start(a, rq, done, arg, ckp, user));
}

static int
basic_check_start(struct auth *a, const struct auth_req *rq,
    auth_done_fn *done, void *arg, struct auth_check **ckp, char **user)
{
	char buf[AUTH_BASIC_MAX], conv[3 * AUTH_BASIC_MAX], *pass, *p;
	size_t len = rq->len;
	char *name = buf;
	struct auth_cred **cp;
	struct auth_check *ck;
	struct auth_ask *ask;
	const char *why;
	size_t ulen, used;
	int rc = 0;

	if (a->basic.pool == NULL)
		return (0);
	why = auth_parse(rq->hdr, len, buf, sizeof buf, &pass);
	if (why != NULL) {
		log_msg(LG_NOTICE, SEC_AUTH, "basic: Proxy-Authorization "
		    "refused: %s", why);
		goto out;	/* a part may have been decoded */
	}
	/* utf8 on: credentials that are not UTF-8 already are taken as
	 * Latin-1 (what browsers send), or Windows-1251 when the request's
	 * Accept-Language is a Cyrillic one, and given to the helper in
	 * UTF-8, as Squid does. */
	if (a->basic.utf8 && (!auth_utf8_valid(buf) ||
	    !auth_utf8_valid(pass))) {
		auth_to_utf8(rq, buf, conv);
		ulen = strlen(conv);
		auth_to_utf8(rq, pass, conv + ulen + 1);
		name = conv;
		pass = conv + ulen + 1;
	}
	if (!a->basic.casesensitive)
		for (p = name; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	cp = auth_cache_find(&a->basic, name);
	if (cp != NULL && (*cp)->expires > comm_now(a->loop) &&
	    auth_secret_equal((*cp)->pass, pass)) {
		*user = strdup((*cp)->user);
		rc = *user != NULL ? 0 : -ENOMEM;
		goto out;
	}
	ulen = strlen(name);
	ck = calloc(1, sizeof *ck + ulen + 1);
	if (ck == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	ask = basic_ask_find(a, name, pass);
	if (ask == NULL)
		ask = basic_ask_new(a, name, pass);
	if (ask == NULL) {
		free(ck);
		rc = -ENOMEM;
		goto out;
	}
	ck->magic = AUTH_CHECK_MAGIC;
	ck->a = a;
	ck->loop = a->loop;
	ck->ask = ask;
	ck->done = done;
	ck->arg = arg;
	comm_call_init(&ck->call, basic_check_deliver);
	memcpy(ck->user, name, ulen + 1);
	list_insert_tail(&ask->waiting, &ck->link);
	*ckp = ck;
	rc = 1;
out:
	/* What decoding can have written: len / 4 * 3 bytes and a NUL
	 * (twice that converted), not the whole buffers every time. */
	used = len / 4 * 3 + 1 < sizeof buf ? len / 4 * 3 + 1 : sizeof buf;
	explicit_bzero(buf, used);
	if (name == conv)
		explicit_bzero(conv, 3 * used);
	return (rc);
}

void
auth_check_cancel(struct auth_check **ckp)
{
	struct auth_check *ck = *ckp;
	struct auth_ask *ask;

	if (ck == NULL)
		return;
	*ckp = NULL;
	CHECK_OBJ_NOTNULL(ck, AUTH_CHECK_MAGIC);
	if (ck->rq != NULL) {
		/* Digest: its helper request delivers the cancel. */
		helper_cancel(&ck->rq);
		return;
	}
	/* Basic: answered already (its delivery posted) or waiting. */
	ck->ok = false;
	if ((ask = ck->ask) == NULL)
		return;
	ck->ask = NULL;
	list_remove(&ck->link);
	comm_call_post(ck->loop, &ck->call);
	if (list_empty(&ask->waiting))
		helper_cancel(&ask->rq);	/* frees ask, from the loop */
}
