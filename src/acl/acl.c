/*
 * acl.c - compiling acl lines into a struct acl_set, and matching one acl.
 *
 *	acl_set_compile()	built-ins, then each conf line:
 *	  acl_line()		  name, type, options, values -> struct acl
 *	  acl_file_values()	  a value naming a file: its lines are values
 *	  acl_finish()		  sort / merge / warn, once all lines are in
 *	acl_match()		one acl against a request view (pure, but for
 *				max_user_ip, which tells the caller to forget
 *				addresses, as Squid's does)
 *	acl_set_free()
 *
 * Squid's rules kept here: acl names are compared without case; several
 * lines with one name and type add values; a name given another type is
 * an error; the built-ins exist before the first line, so a stock
 * squid.conf's "acl localhost src 127.0.0.1/32 ::1" adds nothing new (a
 * warning says it is built-in) and "acl manager proto cache_object" is
 * ignored with a warning, as Squid 4 and later do.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/check.h"
#include "base/log.h"
#include "conf/conf.h"
#include "acl/acl_int.h"
#include "tls/tls.h"

#define ACL_FILE_WORDS		64	/* words on one line of a time file */

const struct acl_type_info acl_types[ACL_T__COUNT] = {
#define ACL_TYPE(sym, name, class, flags, syntax)	\
	[ACL_T_##sym] = { name, ACL_C_##class, flags, syntax },
#include "acl/acl_type_tbl.h"
#undef ACL_TYPE
	[ACL_T_MANAGER] = { "manager", ACL_C_MANAGER, 0,
	    "(built-in: cache manager requests)" },
};

/* Other names Squid accepts for a type. */
static const struct {
	const char	*name;
	enum acl_type	type;
} acl_aliases[] = {
	{ "localport", ACL_T_MYPORT },
};

/* Squid types cuttle does not have, for a precise message. */
static const char *const acl_squid_only[] = {
	"all-of", "any-of", "annotate_client", "annotate_transaction",
	"arp", "at_step", "ca_cert", "clientside_mark", "connmark",
	"connections_encrypted", "dst_as", "eui64", "external", "has",
	"hier_code", "ident", "ident_regex", "localip", "myip", "myportname",
	"note", "peername", "peername_regex", "random", "referer_regex",
	"rep_header", "rep_mime_type", "req_header", "req_mime_type",
	"server_cert_fingerprint", "snmp_community", "squid_error",
	"src_as", "srcdom_regex", "ssl::server_name",
	"ssl::server_name_regex", "ssl_error", "tag",
	"transaction_initiator", "urllogin", "user_cert",
};

static const struct {
	const char	*name;
	enum acl_type	type;
	const char	*values[5];	/* NULL-terminated */
	const char	*what;		/* for the redefinition warning */
} acl_builtins[] = {
	{ "all", ACL_T_SRC, { "all" }, "src all" },
	{ "manager", ACL_T_MANAGER, { NULL }, "cache manager requests" },
	{ "localhost", ACL_T_SRC, { "127.0.0.1/32", "::1" },
	    "src 127.0.0.1/32 ::1" },
	{ "to_localhost", ACL_T_DST,
	    { "127.0.0.0/8", "0.0.0.0/32", "::1/128", "::/128" },
	    "dst 127.0.0.0/8 0.0.0.0/32 ::1/128 ::/128" },
	{ "CONNECT", ACL_T_METHOD, { "CONNECT" }, "method CONNECT" },
};

struct acl_set {
	unsigned		magic;
#define ACL_SET_MAGIC		0xac15e7a1U
	unsigned		refs;	/* the owner's, and each rules' */
	struct acl		**v;
	size_t			n;
	struct acl_files	files;	/* where the lines came from */
};

/* -- messages -------------------------------------------------------------- */

static void
acl_vmsg(enum log_level lvl, const struct acl_where *w, const char *advice,
    const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof msg, fmt, ap);
	log_msg(lvl, SEC_ACL, "%s:%u: %s: %s", w->file, w->line,
	    w->directive, msg);
	if (advice != NULL)
		log_msg(lvl, SEC_ACL, "    advice: %s", advice);
	else if (w->syntax != NULL)
		log_msg(lvl, SEC_ACL, "    advice: expected: %s", w->syntax);
}

void
acl_error(const struct acl_where *w, const char *advice, const char *fmt, ...)
{
	va_list ap;

	if (w->errors != NULL)
		(*w->errors)++;
	va_start(ap, fmt);
	acl_vmsg(LG_ERR, w, advice, fmt, ap);
	va_end(ap);
}

void
acl_warn(const struct acl_where *w, const char *advice, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	acl_vmsg(LG_WARN, w, advice, fmt, ap);
	va_end(ap);
}

const char *
acl_files_intern(struct acl_files *f, const char *name)
{
	char **v, *s;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i], name) == 0)
			return (f->v[i]);
	v = realloc(f->v, (f->n + 1) * sizeof *v);
	if (v == NULL)
		return (NULL);
	f->v = v;
	s = strdup(name);
	if (s == NULL)
		return (NULL);
	v[f->n++] = s;
	return (s);
}

void
acl_files_fini(struct acl_files *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	memset(f, 0, sizeof *f);
}

/* -- one acl --------------------------------------------------------------- */

static void
acl_free(struct acl **ap)
{
	struct acl *a;

	TAKE_OBJ_NOTNULL(a, ap, ACL_MAGIC);
	switch (acl_types[a->type].cls) {
	case ACL_C_IP:
		acl_ipset_fini(&a->u.ip);
		break;
	case ACL_C_DOMAIN:
		acl_domains_free(&a->u.dom);
		break;
	case ACL_C_REGEX:
		acl_regex_fini(&a->u.re);
		break;
	case ACL_C_RANGE:
		free(a->u.range.v);
		break;
	case ACL_C_METHOD:
		acl_method_fini(&a->u.method);
		break;
	case ACL_C_TIME:
		free(a->u.time.v);
		break;
	case ACL_C_USER:
	case ACL_C_WORDS:
		while (a->u.users.n > 0)
			free(a->u.users.v[--a->u.users.n]);
		free(a->u.users.v);
		break;
	case ACL_C_PROTO:
	case ACL_C_MAXCONN:
	case ACL_C_MANAGER:
		break;
	}
	free(a->name);
	FREE_OBJ(a);
}

static struct acl *
acl_new(struct acl_set *s, const char *name, enum acl_type type,
    const char *file, unsigned line)
{
	struct acl **v, *a;

	v = realloc(s->v, (s->n + 1) * sizeof *v);
	if (v == NULL)
		return (NULL);
	s->v = v;
	ALLOC_OBJ(a, ACL_MAGIC);
	if (a == NULL)
		return (NULL);
	a->name = strdup(name);
	a->type = type;
	a->file = file;
	a->line = line;
	if (acl_types[type].cls == ACL_C_DOMAIN)
		a->u.dom = acl_domains_new();
	if (a->name == NULL || (acl_types[type].cls == ACL_C_DOMAIN &&
	    a->u.dom == NULL)) {
		acl_free(&a);
		return (NULL);
	}
	s->v[s->n++] = a;
	return (a);
}

static struct acl *
acl_lookup(const struct acl_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcasecmp(s->v[i]->name, name) == 0)
			return (s->v[i]);
	return (NULL);
}

const struct acl *
acl_set_find(const struct acl_set *s, const char *name)
{
	CHECK_OBJ_NOTNULL(s, ACL_SET_MAGIC);
	return (acl_lookup(s, name));
}

/* A proxy_auth value: REQUIRED, or a user name. */
static int
acl_user_add(struct acl_users *u, const char *value)
{
	char **v;

	if (strcmp(value, "REQUIRED") == 0) {
		u->required = true;
		return (0);
	}
	v = realloc(u->v, (u->n + 1) * sizeof *v);
	if (v == NULL)
		return (-ENOMEM);
	u->v = v;
	u->v[u->n] = strdup(value);
	if (u->v[u->n] == NULL)
		return (-ENOMEM);
	u->n++;
	return (0);
}

/* A word of an external or note acl, as it is. */
static int
acl_word_add(struct acl_users *u, const char *value)
{
	char **v;

	v = realloc(u->v, (u->n + 1) * sizeof *v);
	if (v == NULL)
		return (-ENOMEM);
	u->v = v;
	u->v[u->n] = strdup(value);
	if (u->v[u->n] == NULL)
		return (-ENOMEM);
	u->n++;
	return (0);
}

const struct acl_users *
acl_external_words(const struct acl *a)
{
	CHECK_OBJ_NOTNULL(a, ACL_MAGIC);
	return (&a->u.users);
}

/* note tag|user [value ...]: the annotation is there (with one of the
 * values, when any is given). */
static bool
acl_note_match(const struct acl_users *u, const struct acl_request *req)
{
	const char *have;
	size_t i;

	if (u->n == 0)
		return (false);
	have = strcmp(u->v[0], "tag") == 0 ? req->ext_tag :
	    strcmp(u->v[0], "user") == 0 ? (req->ext_user != NULL ?
	    req->ext_user : req->user) : NULL;
	if (have == NULL)
		return (false);
	if (u->n == 1)
		return (true);
	for (i = 1; i < u->n; i++)
		if (strcmp(u->v[i], have) == 0)
			return (true);
	return (false);
}

static bool
acl_ext_match(const struct acl *a, const struct acl_request *req)
{
	unsigned i;

	for (i = 0; i < req->next && req->ext != NULL; i++)
		if (req->ext[i].acl == a)
			return (req->ext[i].match);
	return (false);
}

static bool
acl_user_match(const struct acl_users *u, const char *user, size_t len)
{
	size_t i;

	if (user == NULL)
		return (false);
	if (u->required)
		return (true);
	for (i = 0; i < u->n; i++)
		if (strlen(u->v[i]) == len && memcmp(u->v[i], user, len) == 0)
			return (true);
	return (false);
}

/* at_step SslBump1..3 and ssl_error names, kept as numbers in a range
 * set (a verify result is a small number). */
static int
acl_ssl_value(struct acl *a, const struct acl_where *w, const char *value)
{
	static const char *const steps[] = { "SslBump1", "SslBump2",
	    "SslBump3" };
	char num[24];
	long code = -1;
	size_t i;

	if (a->type == ACL_T_AT_STEP) {
		for (i = 0; i < ARRAY_LEN(steps); i++)
			if (strcasecmp(value, steps[i]) == 0)
				code = (long)i + 1;
	} else
		code = tls_verify_code(value);
	if (code < 0) {
		acl_error(w, NULL, "unknown %s \"%s\"",
		    acl_types[a->type].name, value);
		return (-1);
	}
	snprintf(num, sizeof num, "%ld", code);
	return (acl_range_add(&a->u.range, w, num, 65535, false));
}

/* One value (for time, a one-word spec); icase: the mode of a regex. */
static int
acl_value(struct acl *a, const struct acl_where *w, const char *value,
    bool icase)
{
	switch (acl_types[a->type].cls) {
	case ACL_C_IP:
		return (acl_ipset_add(&a->u.ip, w, value));
	case ACL_C_DOMAIN:
		return (acl_domains_add(a->u.dom, w, value));
	case ACL_C_REGEX:
		return (acl_regex_add(&a->u.re, w, value, icase));
	case ACL_C_RANGE:
		if (a->type == ACL_T_AT_STEP || a->type == ACL_T_SSL_ERROR)
			return (acl_ssl_value(a, w, value));
		if (a->type == ACL_T_HTTP_STATUS)
			return (acl_range_add(&a->u.range, w, value, 999,
			    true));
		return (acl_range_add(&a->u.range, w, value, 65535, false));
	case ACL_C_METHOD:
		return (acl_method_add(&a->u.method, w, value));
	case ACL_C_PROTO:
		return (acl_proto_add(&a->u.proto, w, value));
	case ACL_C_MAXCONN:
		return (acl_maxconn_set(a, w, value));
	case ACL_C_TIME:
		return (acl_time_add(&a->u.time, w, (char *const *)&value, 1));
	case ACL_C_USER:
		return (acl_user_add(&a->u.users, value));
	case ACL_C_WORDS:
		return (acl_word_add(&a->u.users, value));
	case ACL_C_MANAGER:
		break;
	}
	WRONG("acl_value: no values for this type");
}

static void
acl_nomem(const struct acl_where *w, int rc)
{
	if (rc == -ENOMEM)
		acl_error(w, "give cuttle more memory or use shorter lists",
		    "out of memory");
}

/*
 * conf_line keeps words unquoted, so a quoted "/path" and a bare /path
 * look alike.  No src, domain, port, method, proto or time value starts
 * with '/', so there it is a file; a regex may (urlpath_regex /cgi-bin/),
 * so for regex types it is a file only when such a file exists.
 */
static bool
acl_is_file(const struct acl *a, const char *value)
{
	struct stat st;

	if (value[0] != '/')
		return (false);
	if (acl_types[a->type].cls != ACL_C_REGEX)
		return (true);
	return (stat(value, &st) == 0 && S_ISREG(st.st_mode));
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' ||
	    end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return (s);
}

/* The lines of file path as values: blank lines and '#' comments are
 * skipped; a regex file may switch case with -i and +i lines. */
static void
acl_file_values(struct acl_set *s, struct acl *a, const struct acl_where *at,
    const char *path, bool *icase)
{
	struct acl_where w = *at;
	char *line = NULL, *v, *words[ACL_FILE_WORDS], *save;
	size_t cap = 0, n;
	FILE *f;
	bool regex = acl_types[a->type].cls == ACL_C_REGEX;
	int rc, err;

	f = fopen(path, "r");
	if (f == NULL) {
		err = errno;
		acl_error(at, "a value in double quotes names a file of "
		    "values, one a line", "cannot read \"%s\": %s", path,
		    strerror(err));
		return;
	}
	w.file = acl_files_intern(&s->files, path);
	if (w.file == NULL) {
		fclose(f);
		acl_nomem(at, -ENOMEM);
		return;
	}
	w.line = 0;
	while (getline(&line, &cap, f) != -1) {
		w.line++;
		v = trim(line);
		if (*v == '\0' || *v == '#')
			continue;
		if (regex && (strcmp(v, "-i") == 0 || strcmp(v, "+i") == 0)) {
			*icase = v[0] == '-';
			continue;
		}
		if (!regex) {
			/* "example.com   # why" */
			for (n = 0; v[n] != '\0'; n++)
				if (v[n] == '#' && (v[n - 1] == ' ' ||
				    v[n - 1] == '\t')) {
					v[n] = '\0';
					v = trim(v);
					break;
				}
		}
		if (a->type == ACL_T_TIME) {
			n = 0;
			for (v = strtok_r(v, " \t", &save); v != NULL &&
			    n < ACL_FILE_WORDS;
			    v = strtok_r(NULL, " \t", &save))
				words[n++] = v;
			rc = acl_time_add(&a->u.time, &w, words, n);
		} else
			rc = acl_value(a, &w, v, *icase);
		acl_nomem(&w, rc);
	}
	free(line);
	fclose(f);
}

static enum acl_type
acl_type_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < ACL_T_MANAGER; i++)
		if (strcmp(acl_types[i].name, name) == 0)
			return ((enum acl_type)i);
	for (i = 0; i < ARRAY_LEN(acl_aliases); i++)
		if (strcmp(acl_aliases[i].name, name) == 0)
			return (acl_aliases[i].type);
	return (ACL_T__COUNT);
}

static void
acl_unknown_type(const struct acl_where *w, const char *name)
{
	char known[512], *p = known;
	size_t i;

	for (i = 0; i < ACL_T_MANAGER; i++)
		p += snprintf(p, sizeof known - (size_t)(p - known), "%s%s",
		    i == 0 ? "" : ", ", acl_types[i].name);
	for (i = 0; i < ARRAY_LEN(acl_squid_only); i++)
		if (strcmp(acl_squid_only[i], name) == 0) {
			acl_error(w, known, "acl type \"%s\" is not supported "
			    "by cuttle; it knows", name);
			return;
		}
	acl_error(w, known, "unknown acl type \"%s\"; known types are", name);
}

/* A line naming a built-in: the manager line is ignored; one of the same
 * type adds to the built-in.  Returns false when the line is done. */
static bool
acl_builtin_line(const struct acl *a, const struct acl_where *w,
    enum acl_type type)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(acl_builtins); i++)
		if (strcasecmp(acl_builtins[i].name, a->name) == 0)
			break;
	AN(i < ARRAY_LEN(acl_builtins));
	if (a->type == ACL_T_MANAGER) {
		acl_warn(w, "remove the line: the built-in matches cache "
		    "manager requests (Squid 4 and later ignore it too)",
		    "acl manager is built-in (%s); this line is ignored",
		    acl_builtins[i].what);
		return (false);
	}
	if (a->type != type) {
		acl_error(w, "choose another name for this acl", "acl %s is "
		    "built-in (%s) and cannot be a %s acl", a->name,
		    acl_builtins[i].what, acl_types[type].name);
		return (false);
	}
	acl_warn(w, "a stock squid.conf line like this is harmless; remove "
	    "it to keep the built-in as it is", "acl %s is built-in (%s); "
	    "this line adds its values to it", a->name, acl_builtins[i].what);
	return (true);
}

static bool
acl_ssl_names_option(struct acl *a, const char *v)
{
	if (strcmp(v, "--client-requested") == 0)
		a->names = ACL_SSL_CLIENT;
	else if (strcmp(v, "--server-provided") == 0)
		a->names = ACL_SSL_SERVER;
	else if (strcmp(v, "--consensus") == 0)
		a->names = ACL_SSL_CONSENSUS;
	else
		return (false);
	return (true);
}

static void
acl_line(struct acl_set *s, const struct conf_line *l, int *errors)
{
	struct acl_where w = { .directive = "acl", .errors = errors,
	    .syntax = "acl aclname acltype [-i] value ... | \"file\"" };
	enum acl_type type;
	struct acl *a;
	unsigned i;
	bool icase = false, options = true;
	int rc;

	w.file = acl_files_intern(&s->files, l->file);
	w.line = l->line;
	if (w.file == NULL) {
		w.file = l->file;
		acl_nomem(&w, -ENOMEM);
		return;
	}
	if (l->argc < 2) {
		acl_error(&w, NULL, "acl %s has no type", l->argv[0]);
		return;
	}
	if (l->argv[0][0] == '!' || l->argv[0][0] == '-') {
		acl_error(&w, "acl names start with a letter or digit",
		    "bad acl name \"%s\"", l->argv[0]);
		return;
	}
	type = acl_type_lookup(l->argv[1]);
	if (type == ACL_T__COUNT) {
		acl_unknown_type(&w, l->argv[1]);
		return;
	}
	a = acl_lookup(s, l->argv[0]);
	if (a != NULL && a->builtin) {
		if (!acl_builtin_line(a, &w, type))
			return;
	} else if (a != NULL && a->type != type) {
		acl_error(&w, "give each acl one type; lines of the same "
		    "type add values", "acl %s is already a %s acl (%s:%u)",
		    a->name, acl_types[a->type].name, a->file, a->line);
		return;
	} else if (a == NULL) {
		a = acl_new(s, l->argv[0], type, w.file, w.line);
		if (a == NULL) {
			acl_nomem(&w, -ENOMEM);
			return;
		}
	}
	w.syntax = acl_types[type].syntax;
	if (type == ACL_T_TIME && !(l->argc > 2 && acl_is_file(a,
	    l->argv[2]))) {
		acl_nomem(&w, acl_time_add(&a->u.time, &w, l->argv + 2,
		    l->argc - 2));
		return;
	}
	if (type == ACL_T_MAXCONN && l->argc != 3) {
		acl_error(&w, NULL, "maxconn takes one number");
		return;
	}
	if (type == ACL_T_MAX_USER_IP && (l->argc < 3 || l->argc > 4 ||
	    (l->argc == 4 && strcmp(l->argv[2], "-s") != 0))) {
		acl_error(&w, NULL, "max_user_ip takes -s (strict) and one "
		    "number");
		return;
	}
	for (i = 2; i < l->argc; i++) {
		const char *v = l->argv[i];

		if ((acl_types[type].flags & ACLF_REGEX) != 0 &&
		    (strcmp(v, "-i") == 0 || strcmp(v, "+i") == 0)) {
			icase = v[0] == '-';
			continue;
		}
		if (options && strcmp(v, "--") == 0) {
			options = false;
			continue;
		}
		if (options && strcmp(v, "-n") == 0 &&
		    (acl_types[type].flags & ACLF_DNS) != 0)
			continue;	/* accepted and ignored (srcdomain too) */
		if (options && (acl_types[type].flags & ACLF_SSLNAME) != 0 &&
		    acl_ssl_names_option(a, v))
			continue;
		if (options && type == ACL_T_MAX_USER_IP &&
		    strcmp(v, "-s") == 0) {
			a->strict = true;
			continue;
		}
		if (options && v[0] == '-' && type != ACL_T_TIME) {
			acl_error(&w, "acl options: -i and +i (regex types), "
			    "-n (no DNS lookups), -- (end of options)",
			    "unknown option \"%s\"", v);
			continue;
		}
		options = false;
		if (acl_types[type].cls != ACL_C_WORDS && acl_is_file(a, v))
			acl_file_values(s, a, &w, v, &icase);
		else {
			rc = acl_value(a, &w, v, icase);
			acl_nomem(&w, rc);
		}
	}
}

static bool
acl_empty(const struct acl *a)
{
	switch (acl_types[a->type].cls) {
	case ACL_C_IP:
		return (a->u.ip.n == 0);
	case ACL_C_DOMAIN:
		return (acl_domains_count(a->u.dom) == 0);
	case ACL_C_REGEX:
		return (a->u.re.n == 0);
	case ACL_C_RANGE:
		return (a->u.range.n == 0);
	case ACL_C_METHOD:
		return (a->u.method.known == 0 && a->u.method.n == 0);
	case ACL_C_PROTO:
		return (a->u.proto.known == 0);
	case ACL_C_TIME:
		return (a->u.time.n == 0);
	case ACL_C_MAXCONN:
		return (!a->has_max);
	case ACL_C_USER:
		return (!a->u.users.required && a->u.users.n == 0);
	case ACL_C_WORDS:
		return (a->u.users.n == 0);
	case ACL_C_MANAGER:
		return (false);
	}
	return (false);
}

static void
acl_finish(struct acl *a)
{
	struct acl_where w = { .file = a->file, .line = a->line,
	    .directive = "acl" };

	switch (acl_types[a->type].cls) {
	case ACL_C_IP:
		acl_ipset_finish(&a->u.ip);
		break;
	case ACL_C_DOMAIN:
		acl_domains_finish(a->u.dom, a->name);
		break;
	case ACL_C_RANGE:
		acl_range_finish(&a->u.range);
		break;
	default:
		break;
	}
	if (acl_empty(a))
		acl_warn(&w, "give it values, or remove it and the rules that "
		    "use it", "acl %s has no values: it matches nothing",
		    a->name);
}

/*
 * An acl that needs a user with no auth_param to vouch for one would never
 * match (and `deny !authed` would deny everyone): Squid refuses such a
 * line ("Cannot use proxy auth because no authentication schemes are
 * fully configured") and then the rules that name it, so it does not
 * start.  cuttle does the same: an error, with the line.
 */
void
acl_auth_check_acls(const struct conf_lines *acls, bool auth, int *errors)
{
	struct acl_where w = { .directive = "acl", .errors = errors };
	const struct conf_line *l;
	enum acl_type type;
	size_t i;

	for (i = 0; acls != NULL && i < acls->n && !auth; i++) {
		l = &acls->v[i];
		if (l->argc < 2 || (type = acl_type_lookup(l->argv[1])) ==
		    ACL_T__COUNT || (acl_types[type].flags & ACLF_AUTH) == 0)
			continue;
		w.file = l->file;
		w.line = l->line;
		acl_error(&w, "configure a scheme first, e.g. \"auth_param "
		    "basic program /usr/lib/squid/basic_ncsa_auth "
		    "/etc/cuttle/passwd\" (Squid refuses this too)",
		    "acl %s is a %s acl, but no auth_param scheme is "
		    "configured: it could never match", l->argv[0],
		    acl_types[type].name);
	}
}

struct acl_set *
acl_set_compile(const struct conf_lines *acls, int *errors)
{
	struct acl_where w = { .file = "(built-in)", .directive = "acl",
	    .errors = errors };
	struct acl_set *s;
	struct acl *a;
	const char *const *v;
	size_t i;
	int rc;

	AN(errors);
	ALLOC_OBJ(s, ACL_SET_MAGIC);
	if (s != NULL)
		s->refs = 1;
	if (s == NULL)
		goto nomem;
	for (i = 0; i < ARRAY_LEN(acl_builtins); i++) {
		a = acl_new(s, acl_builtins[i].name, acl_builtins[i].type,
		    w.file, 0);
		if (a == NULL)
			goto nomem;
		a->builtin = true;
		for (v = acl_builtins[i].values; *v != NULL; v++) {
			rc = acl_value(a, &w, *v, false);
			if (rc == -ENOMEM)
				goto nomem;
			AZ(rc);		/* a bad built-in is a bug */
		}
	}
	for (i = 0; acls != NULL && i < acls->n; i++)
		acl_line(s, &acls->v[i], errors);
	for (i = 0; i < s->n; i++)
		acl_finish(s->v[i]);
	return (s);
nomem:
	acl_set_free(&s);
	acl_nomem(&w, -ENOMEM);
	return (NULL);
}

void
acl_set_free(struct acl_set **sp)
{
	struct acl_set *s;
	size_t i;

	if (*sp == NULL)
		return;
	TAKE_OBJ_NOTNULL(s, sp, ACL_SET_MAGIC);
	if (--s->refs > 0)
		return;
	for (i = 0; i < s->n; i++)
		acl_free(&s->v[i]);
	free(s->v);
	acl_files_fini(&s->files);
	FREE_OBJ(s);
}

struct acl_set *
acl_set_hold(const struct acl_set *s)
{
	struct acl_set *held = (struct acl_set *)(uintptr_t)s;

	CHECK_OBJ_NOTNULL(held, ACL_SET_MAGIC);
	held->refs++;
	return (held);
}

size_t
acl_set_bytes(const struct acl_set *s)
{
	const struct acl *a;
	size_t i, n;

	CHECK_OBJ_NOTNULL(s, ACL_SET_MAGIC);
	n = sizeof *s + s->n * sizeof *s->v;
	for (i = 0; i < s->n; i++) {
		a = s->v[i];
		n += sizeof *a + strlen(a->name) + 1;
		switch (acl_types[a->type].cls) {
		case ACL_C_IP:
			n += a->u.ip.cap * sizeof *a->u.ip.v;
			break;
		case ACL_C_DOMAIN:
			n += acl_domains_bytes(a->u.dom);
			break;
		case ACL_C_REGEX:	/* regcomp's own tables not counted */
			n += a->u.re.n * sizeof *a->u.re.v;
			break;
		case ACL_C_RANGE:
			n += a->u.range.n * sizeof *a->u.range.v;
			break;
		case ACL_C_TIME:
			n += a->u.time.n * sizeof *a->u.time.v;
			break;
		default:
			break;
		}
	}
	return (n);
}

/* -- matching -------------------------------------------------------------- */

/*
 * max_user_ip: the user came from more than N addresses within
 * authenticate_ip_ttl.  As Squid's, a match also acts on the count:
 * strict (-s) forgets the address that went over (the ones in use keep
 * working, the new one stays refused); otherwise all of the user's are
 * forgotten, so that a user who moved to another machine gets in again
 * at the next request.
 */
static bool
acl_max_user_ip_match(const struct acl *a, const struct acl_request *req)
{
	if (req->user == NULL || !a->has_max ||
	    req->user_ips <= a->u.maxconn)
		return (false);
	if (req->user_ips_over != NULL)
		req->user_ips_over(req->user_ips_ctx, a->strict,
		    (unsigned)a->u.maxconn);
	return (true);
}

enum acl_need
acl_need_of(const struct acl *a, const struct acl_request *req)
{
	struct acl_ip ip;

	CHECK_OBJ_NOTNULL(a, ACL_MAGIC);
	switch (a->type) {
	case ACL_T_DST:
		/* all needs no address, nor does a literal as host. */
		if (a->u.ip.any || (req->known & ACL_KNOW_DST) ||
		    acl_ip_from_text(req->host, req->host_len, &ip))
			return (ACL_NEED_NONE);
		return (ACL_NEED_DST);
	case ACL_T_SRCDOMAIN:
		return (req->known & ACL_KNOW_SRC_NAME ? ACL_NEED_NONE :
		    ACL_NEED_SRC_NAME);
	case ACL_T_PROXY_AUTH:
	case ACL_T_PROXY_AUTH_REGEX:
	case ACL_T_MAX_USER_IP:
		return (req->known & ACL_KNOW_USER ? ACL_NEED_NONE :
		    ACL_NEED_USER);
	case ACL_T_EXTERNAL: {
		unsigned i;

		for (i = 0; i < req->next && req->ext != NULL; i++)
			if (req->ext[i].acl == a)
				return (ACL_NEED_NONE);
		return (ACL_NEED_EXTERNAL);
	}
	default:
		return (ACL_NEED_NONE);
	}
}

static bool
acl_ssl_one(const struct acl *a, const char *name, size_t len)
{
	if (a->type == ACL_T_SSL_SERVER_NAME)
		return (acl_domains_match(a->u.dom, name, len));
	return (acl_regex_match(&a->u.re, name, len));
}

/* The client's name: SNI, else the CONNECT host (or the URL's). */
static bool
acl_ssl_client_match(const struct acl *a, const struct acl_request *req)
{
	if (req->sni != NULL)
		return (acl_ssl_one(a, req->sni, req->sni_len));
	return (acl_ssl_one(a, req->host, req->host_len));
}

/* Any of the names the origin's certificate is valid for. */
static bool
acl_ssl_server_match(const struct acl *a, const struct acl_request *req)
{
	size_t i;

	for (i = 0; i < req->ncert_names; i++)
		if (acl_ssl_one(a, req->cert_names[i],
		    strlen(req->cert_names[i])))
			return (true);
	return (false);
}

/* ssl::server_name: which name depends on the step (Squid's rules): the
 * certificate's names once known, else what the client asked for. */
static bool
acl_ssl_name_match(const struct acl *a, const struct acl_request *req)
{
	switch (a->names) {
	case ACL_SSL_CLIENT:
		return (acl_ssl_client_match(a, req));
	case ACL_SSL_SERVER:
		return (acl_ssl_server_match(a, req));
	case ACL_SSL_CONSENSUS:
		return (acl_ssl_client_match(a, req) && (req->ncert_names ==
		    0 || acl_ssl_server_match(a, req)));
	default:
		if (req->ncert_names > 0)
			return (acl_ssl_server_match(a, req));
		return (acl_ssl_client_match(a, req));
	}
}

bool
acl_match(const struct acl *a, const struct acl_request *req)
{
	struct acl_ip ip;

	CHECK_OBJ_NOTNULL(a, ACL_MAGIC);
	switch (a->type) {
	case ACL_T_SRC:
		return (a->u.ip.any || (acl_ip_from_sockaddr(req->src, &ip) &&
		    acl_ipset_match(&a->u.ip, &ip)));
	case ACL_T_DST:
		/* An address literal as host needs no resolving. */
		return (a->u.ip.any || ((acl_ip_from_sockaddr(req->dst, &ip) ||
		    acl_ip_from_text(req->host, req->host_len, &ip)) &&
		    acl_ipset_match(&a->u.ip, &ip)));
	case ACL_T_DSTDOMAIN:
		return (acl_domains_match(a->u.dom, req->host, req->host_len));
	case ACL_T_SRCDOMAIN:
		/* The client's name from a reverse lookup
		 * (acl_rules_need_src_name()); none: no match. */
		return (acl_domains_match(a->u.dom, req->src_name,
		    req->src_name_len));
	case ACL_T_DSTDOM_REGEX:
		return (acl_regex_match(&a->u.re, req->host, req->host_len));
	case ACL_T_PORT:
		return (req->port != 0 && acl_range_match(&a->u.range,
		    req->port));
	case ACL_T_MYPORT:
		return (req->myport != 0 && acl_range_match(&a->u.range,
		    req->myport));
	case ACL_T_METHOD:
		return (acl_method_match(&a->u.method, req));
	case ACL_T_PROTO:
		return (acl_proto_match(&a->u.proto, req->proto));
	case ACL_T_URL_REGEX:
		return (acl_regex_match(&a->u.re, req->url, req->url_len));
	case ACL_T_URLPATH_REGEX:
		return (acl_regex_match(&a->u.re, req->path, req->path_len));
	case ACL_T_BROWSER:
		return (acl_regex_match(&a->u.re, req->user_agent,
		    req->ua_len));
	case ACL_T_TIME:
		return (acl_time_match(&a->u.time, req->now));
	case ACL_T_MAXCONN:
		return (a->has_max && req->src_conns > a->u.maxconn);
	case ACL_T_HTTP_STATUS:
		return (req->status > 0 && acl_range_match(&a->u.range,
		    (uint32_t)req->status));
	case ACL_T_PROXY_AUTH:
		return (acl_user_match(&a->u.users, req->user,
		    req->user_len));
	case ACL_T_PROXY_AUTH_REGEX:
		return (acl_regex_match(&a->u.re, req->user, req->user_len));
	case ACL_T_MAX_USER_IP:
		return (acl_max_user_ip_match(a, req));
	case ACL_T_MANAGER:
		return (req->manager);
	case ACL_T_EXTERNAL:
		return (acl_ext_match(a, req));
	case ACL_T_NOTE:
		return (acl_note_match(&a->u.users, req));
	case ACL_T_SSL_SERVER_NAME:
	case ACL_T_SSL_SERVER_NAME_REGEX:
		return (acl_ssl_name_match(a, req));
	case ACL_T_AT_STEP:
		return (req->ssl_step != 0 && acl_range_match(&a->u.range,
		    req->ssl_step));
	case ACL_T_SSL_ERROR:
		return (req->ssl_error > 0 && acl_range_match(&a->u.range,
		    (uint32_t)req->ssl_error));
	case ACL_T__COUNT:
		break;
	}
	WRONG("acl_match: bad type");
}
