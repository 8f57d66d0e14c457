/*
 * auth_basic.c - `auth_param basic`: the configuration, the credentials
 * cache, and checks that ask the helper.
 *
 *	auth_check_start()	no credentials, not Basic, malformed: no
 *				user, at once (logged)
 *				cached and unexpired, password equal: the
 *				user, at once
 *				else a helper request; CHECK pending
 *	  basic_helper_done()	OK: cached, the user; anything else: no
 *				user (logged); done() once
 *	auth_check_cancel()	the helper request is cancelled: done()
 *				comes with no user
 *	auth_free()		pending checks are detached (ck->a NULL) and
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
#include "base/check.h"
#include "base/list.h"
#include "base/log.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "helper/helper.h"
#include "mgr/mgr.h"

#define AUTH_BUCKETS		1024
#define AUTH_CACHE_MAX		65536
#define AUTH_TTL_DEFAULT	7200.0	/* Squid's credentialsttl 2 hours */
#define AUTH_TIMEOUT_DEFAULT	60.0

struct auth_cred {
	struct auth_cred	*next;
	double			expires;
	char			*pass;
	char			user[];
};

struct auth_check {
	unsigned		magic;
#define AUTH_CHECK_MAGIC	0xa0f4c4ecU
	struct list		link;		/* on a->checks */
	struct auth		*a;		/* NULL once auth_free() ran */
	struct helper_req	*rq;
	auth_done_fn		*done;
	void			*arg;
	char			*pass;
	char			user[];
};

struct auth {
	unsigned		magic;
#define AUTH_MAGIC		0xa0f4a0f4U
	struct comm_loop	*loop;
	struct helper_pool	*pool;
	char			*program;
	char			*realm;
	char			*challenge;	/* Proxy-Authenticate line */
	double			ttl;
	double			timeout;
	bool			casesensitive;
	bool			utf8;
	struct helper_params	hp;
	struct list		checks;
	struct auth_cred	*buckets[AUTH_BUCKETS];
	size_t			ncreds;
};

/* -- configuration --------------------------------------------------------- */

static void
auth_conf_error(const struct conf_line *l, const char *advice,
    const char *problem, int *errors)
{
	log_msg(LG_ERR, SEC_AUTH, "%s:%u: auth_param: %s", l->file, l->line,
	    problem);
	log_msg(LG_ERR, SEC_AUTH, "    advice: %s", advice);
	(*errors)++;
}

/* The words from argv[from] on, joined by single spaces. */
static char *
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

static bool
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
static bool
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

static bool
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
static bool
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
auth_line(struct auth *a, const struct conf_line *l, int *errors)
{
	const char *what = l->argc > 1 ? l->argv[1] : "";
	char **slot = NULL;

	if (l->argc < 2) {
		auth_conf_error(l, "auth_param basic program|children|realm|"
		    "credentialsttl|casesensitive|utf8|timeout value",
		    "a scheme and a parameter are needed", errors);
		return;
	}
	if (strcasecmp(l->argv[0], "basic") != 0) {
		auth_conf_error(l, "use auth_param basic; digest, NTLM and "
		    "Negotiate are not there yet", "unsupported scheme",
		    errors);
		return;
	}
	if (strcmp(what, "program") == 0)
		slot = &a->program;
	else if (strcmp(what, "realm") == 0)
		slot = &a->realm;
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
		if (!auth_children(l, &a->hp))
			auth_conf_error(l, "auth_param basic children N "
			    "[startup=N] [idle=N] [concurrency=N] "
			    "[queue-size=N], startup <= N", "bad children line",
			    errors);
	} else if (strcmp(what, "credentialsttl") == 0) {
		if (!auth_time(l, &a->ttl))
			auth_conf_error(l, "auth_param basic credentialsttl 2 "
			    "hours", "bad time", errors);
	} else if (strcmp(what, "timeout") == 0) {
		if (!auth_time(l, &a->timeout))
			auth_conf_error(l, "auth_param basic timeout 60 "
			    "seconds (0: wait forever, as Squid)", "bad time",
			    errors);
	} else if (strcmp(what, "casesensitive") == 0) {
		if (!auth_onoff(l, &a->casesensitive))
			auth_conf_error(l, "auth_param basic casesensitive "
			    "on|off", "bad value", errors);
	} else if (strcmp(what, "utf8") == 0) {
		if (!auth_onoff(l, &a->utf8))
			auth_conf_error(l, "auth_param basic utf8 on|off",
			    "bad value", errors);
	} else {
		auth_conf_error(l, "auth_param basic program|children|realm|"
		    "credentialsttl|casesensitive|utf8|timeout",
		    "unknown parameter", errors);
	}
}

struct auth *
auth_new(struct comm_loop *loop, const struct conf_lines *ls, int *errors)
{
	struct auth *a;
	size_t i, n;
	int err;

	if (ls == NULL || ls->n == 0)
		return (NULL);
	ALLOC_OBJ(a, AUTH_MAGIC);
	if (a == NULL)
		goto nomem;
	a->loop = loop;
	list_init(&a->checks);
	a->ttl = AUTH_TTL_DEFAULT;
	a->timeout = AUTH_TIMEOUT_DEFAULT;
	a->hp.children_max = 20;	/* Squid's defaults */
	a->hp.idle = 1;
	for (i = 0; i < ls->n; i++)
		auth_line(a, &ls->v[i], errors);
	if (a->program == NULL) {
		log_msg(LG_ERR, SEC_AUTH, "%s:%u: auth_param: basic has no "
		    "program", ls->v[0].file, ls->v[0].line);
		log_msg(LG_ERR, SEC_AUTH, "    advice: auth_param basic "
		    "program /usr/lib/squid/basic_ncsa_auth /etc/squid/passwd");
		(*errors)++;
		auth_free(&a);
		return (NULL);
	}
	if (a->realm == NULL)
		a->realm = strdup("Squid proxy-caching web server");
	if (a->realm == NULL)
		goto nomem;
	n = strlen(a->realm) * 2 + 64;
	a->challenge = malloc(n);
	if (a->challenge == NULL)
		goto nomem;
	/* The realm as a quoted-string (RFC 9110 5.6.4). */
	strcpy(a->challenge, "Proxy-Authenticate: Basic realm=\"");
	for (i = 0; a->realm[i] != '\0'; i++) {
		if (a->realm[i] == '"' || a->realm[i] == '\\')
			strncat(a->challenge, "\\", 2);
		strncat(a->challenge, &a->realm[i], 1);
	}
	strcat(a->challenge, "\"\r\n");
	a->hp.name = "basicauthenticator";
	a->hp.cmd = a->program;
	a->hp.timeout = a->timeout;
	if (*errors > 0 || loop == NULL)
		return (a);		/* checked only, or never in force */
	a->pool = helper_pool_new(loop, &a->hp, &err);
	if (a->pool == NULL) {
		log_msg(LG_ERR, SEC_AUTH, "auth_param basic: cannot make the "
		    "helper pool: %s", strerror(-err));
		(*errors)++;
	}
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

static unsigned
auth_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h % AUTH_BUCKETS);
}

void
auth_free(struct auth **ap)
{
	struct auth *a = *ap;
	struct auth_check *ck;
	struct auth_cred *c;
	struct list *n, *tmp;
	size_t i;

	if (a == NULL)
		return;
	*ap = NULL;
	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	LIST_FOREACH_SAFE(n, tmp, &a->checks) {
		ck = container_of(n, struct auth_check, link);
		list_remove(&ck->link);
		ck->a = NULL;
	}
	helper_pool_free(&a->pool);
	for (i = 0; i < AUTH_BUCKETS; i++)
		while ((c = a->buckets[i]) != NULL) {
			a->buckets[i] = c->next;
			free(c->pass);
			free(c);
		}
	free(a->program);
	free(a->realm);
	free(a->challenge);
	FREE_OBJ(a);
}

const char *
auth_challenge(const struct auth *a)
{
	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	return (a->challenge);
}

int
auth_register(struct auth *a, struct mgr_registry *r,
    struct helper_pools *ps)
{
	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	if (a->pool == NULL)
		return (0);
	if (ps->n < HELPER_POOLS_MAX)
		ps->v[ps->n++] = a->pool;
	return (helper_register_page(a->pool, r));
}

int
auth_replace(struct auth *from, struct auth *to, struct mgr_registry *r,
    struct helper_pools *ps)
{
	unsigned i;

	CHECK_OBJ_NOTNULL(to, AUTH_MAGIC);
	if (from == NULL || from->pool == NULL)
		return (auth_register(to, r, ps));
	CHECK_OBJ_NOTNULL(from, AUTH_MAGIC);
	AN(to->pool);		/* a pool that failed is a refused conf */
	(void)mgr_registry_rebind(r, from->pool, to->pool);
	for (i = 0; i < ps->n; i++)
		if (ps->v[i] == from->pool)
			ps->v[i] = to->pool;
	return (0);
}

bool
auth_idle(const struct auth *a)
{
	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	return (list_empty(&a->checks));
}

bool
auth_lines_equal(const struct conf_lines *a, const struct conf_lines *b)
{
	size_t i;
	unsigned j;

	if (a->n != b->n)
		return (false);
	for (i = 0; i < a->n; i++) {
		if (a->v[i].argc != b->v[i].argc)
			return (false);
		for (j = 0; j < a->v[i].argc; j++)
			if (strcmp(a->v[i].argv[j], b->v[i].argv[j]) != 0)
				return (false);
	}
	return (true);
}

/* -- the cache ------------------------------------------------------------- */

static struct auth_cred **
auth_cache_find(struct auth *a, const char *user)
{
	struct auth_cred **cp;

	for (cp = &a->buckets[auth_hash(user)]; *cp != NULL;
	    cp = &(*cp)->next)
		if (strcmp((*cp)->user, user) == 0)
			return (cp);
	return (NULL);
}

static void
auth_cache_drop(struct auth *a, struct auth_cred **cp)
{
	struct auth_cred *c = *cp;

	*cp = c->next;
	free(c->pass);
	free(c);
	a->ncreds--;
}

static void
auth_cache_expire(struct auth *a, double now)
{
	struct auth_cred **cp;
	size_t i;

	for (i = 0; i < AUTH_BUCKETS; i++)
		for (cp = &a->buckets[i]; *cp != NULL;)
			if ((*cp)->expires <= now)
				auth_cache_drop(a, cp);
			else
				cp = &(*cp)->next;
}

static void
auth_cache_put(struct auth *a, const char *user, const char *pass)
{
	struct auth_cred **cp, *c;
	double now = comm_now(a->loop);
	size_t len = strlen(user);

	if (a->ttl <= 0)
		return;
	cp = auth_cache_find(a, user);
	if (cp != NULL)
		auth_cache_drop(a, cp);
	if (a->ncreds >= AUTH_CACHE_MAX)
		auth_cache_expire(a, now);
	if (a->ncreds >= AUTH_CACHE_MAX)
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
	c->expires = now + a->ttl;
	c->next = a->buckets[auth_hash(user)];
	a->buckets[auth_hash(user)] = c;
	a->ncreds++;
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

static void
basic_helper_done(struct helper_req *rq, const struct helper_reply *r,
    void *arg)
{
	struct auth_check *ck = arg;
	struct auth *a = ck->a;
	const char *user = NULL;

	(void)rq;
	CHECK_OBJ_NOTNULL(ck, AUTH_CHECK_MAGIC);
	ck->rq = NULL;
	if (a != NULL)
		list_remove(&ck->link);
	if (r->status == HELPER_OK) {
		user = ck->user;
		if (a != NULL)
			auth_cache_put(a, ck->user, ck->pass);
	} else if (r->status != HELPER_CANCELLED) {
		log_msg(LG_NOTICE, SEC_AUTH, "basic: user \"%s\" not "
		    "authenticated: the helper answered %s%s%s", ck->user,
		    helper_status_name(r->status), r->why != NULL ? ": " : "",
		    r->why != NULL ? r->why : "");
	}
	ck->done(ck, user, ck->arg);
	explicit_bzero(ck->pass, strlen(ck->pass));
	free(ck->pass);
	ck->magic = 0;
	free(ck);
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
auth_check_start(struct auth *a, const char *hdr, size_t len,
    auth_done_fn *done, void *arg, struct auth_check **ckp, char **user)
{
	char buf[AUTH_BASIC_MAX], *pass, *line, *p;
	struct auth_cred **cp;
	struct auth_check *ck;
	const char *why;
	size_t ulen;

	CHECK_OBJ_NOTNULL(a, AUTH_MAGIC);
	*user = NULL;
	*ckp = NULL;
	if (hdr == NULL || a->pool == NULL)
		return (0);
	why = auth_parse(hdr, len, buf, sizeof buf, &pass);
	if (why != NULL) {
		log_msg(LG_NOTICE, SEC_AUTH, "basic: Proxy-Authorization "
		    "refused: %s", why);
		return (0);
	}
	if (!a->casesensitive)
		for (p = buf; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	cp = auth_cache_find(a, buf);
	if (cp != NULL && (*cp)->expires > comm_now(a->loop) &&
	    auth_secret_equal((*cp)->pass, pass)) {
		explicit_bzero(buf, sizeof buf);
		*user = strdup((*cp)->user);
		return (*user != NULL ? 0 : -ENOMEM);
	}
	ulen = strlen(buf);
	ck = calloc(1, sizeof *ck + ulen + 1);
	line = malloc(3 * (ulen + strlen(pass)) + 2);
	if (ck == NULL || line == NULL || (ck->pass = strdup(pass)) == NULL) {
		free(ck);
		free(line);
		explicit_bzero(buf, sizeof buf);
		return (-ENOMEM);
	}
	ck->magic = AUTH_CHECK_MAGIC;
	ck->a = a;
	ck->done = done;
	ck->arg = arg;
	memcpy(ck->user, buf, ulen + 1);
	auth_escape(buf, line);
	strcat(line, " ");
	auth_escape(pass, line + strlen(line));
	explicit_bzero(buf, sizeof buf);
	ck->rq = helper_submit(a->pool, line, strlen(line), basic_helper_done,
	    ck);
	explicit_bzero(line, strlen(line));
	free(line);
	if (ck->rq == NULL) {
		free(ck->pass);
		free(ck);
		return (-ENOMEM);
	}
	list_insert_tail(&a->checks, &ck->link);
	*ckp = ck;
	return (1);
}

void
auth_check_cancel(struct auth_check **ckp)
{
	struct auth_check *ck = *ckp;

	if (ck == NULL)
		return;
	*ckp = NULL;
	CHECK_OBJ_NOTNULL(ck, AUTH_CHECK_MAGIC);
	helper_cancel(&ck->rq);
}
