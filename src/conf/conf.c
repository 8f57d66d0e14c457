/*
 * conf.c - tokenizer, include handling and directive dispatch.
 *
 * A parser gets the words of its directive (quotes removed) and reports
 * problems through conf_error(), which prints
 *
 *	cuttle.conf:12: cache_mem: bad size "lots"
 *	    expected: cache_mem size [bytes|KB|MB|GB]
 *
 * and counts the error; loading goes on so that `cuttle -k parse` shows
 * every problem at once.
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "conf/conf.h"

#define CONF_MAX_WORDS		256
#define CONF_MAX_DEPTH		16	/* include nesting */
#define CONF_MAX_LINE		(64 * 1024)

struct conf_directive;

/* Where a directive came from, for messages and conf_line. */
struct conf_ctx {
	struct conf			*conf;
	const char			*file;	/* owned by conf->files */
	unsigned			line;
	unsigned			depth;
	const struct conf_directive	*dir;
	int				errors;
};

typedef int conf_parse_fn(struct conf_ctx *ctx, unsigned argc, char **argv);
typedef void conf_free_fn(void *field);

enum conf_state {
	ACTIVE,
	PENDING
};

struct conf_directive {
	const char	*name;
	conf_parse_fn	*parse;
	conf_free_fn	*free;
	size_t		field;		/* offsetof(struct conf, ...) */
	const char	*dflt;
	enum conf_state	state;
	const char	*syntax;
	const char	*doc;
};

#define DIRECTIVE(name, type, field, dflt, state, syntax, doc)	\
	static conf_parse_fn conf_parse_##type;
#include "conf/directives.def"
#undef DIRECTIVE

static conf_free_fn conf_free_none, conf_free_string, conf_free_lines,
    conf_free_tlsout;
static conf_parse_fn conf_parse_lines;

/* Values held in the struct itself have nothing to free (the array of
 * http_port and https_port lines is freed by conf_free()). */
#define conf_free_port		conf_free_none
#define conf_free_httpsport	conf_free_none
#define conf_free_count		conf_free_none
#define conf_free_size		conf_free_none
#define conf_free_time		conf_free_none
#define conf_free_onoff		conf_free_none
#define conf_free_repl		conf_free_none
#define conf_free_memmode	conf_free_none
#define conf_free_fwdfor	conf_free_none
#define conf_free_acl		conf_free_lines
#define conf_free_word		conf_free_string
#define conf_free_path		conf_free_string
#define conf_free_debug		conf_free_string

static const struct conf_directive conf_directives[] = {
#define DIRECTIVE(name, type, field, dflt, state, syntax, doc)	\
	{ #name, conf_parse_##type, conf_free_##type,			\
	    offsetof(struct conf, field), dflt, state, syntax, doc },
#include "conf/directives.def"
#undef DIRECTIVE
};

static const struct {
	const char	*name;
	int		prefix;
	const char	*advice;
} conf_unsupported[] = {
#define UNSUPPORTED(name, prefix, advice)	{ name, prefix, advice },
#include "conf/unsupported.def"
#undef UNSUPPORTED
};

_Static_assert(ARRAY_LEN(conf_directives) <= 32 * 4,
    "struct conf.seen is too small for the directive table");

static void conf_error(struct conf_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void conf_warn(struct conf_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int conf_load_text(struct conf_ctx *ctx, char *text);
static char *conf_host_name(void);

static void
conf_error(struct conf_ctx *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ctx->errors++;
	if (ctx->dir == NULL) {
		log_msg(LG_ERR, SEC_CONF, "%s:%u: %s", ctx->file, ctx->line,
		    msg);
		return;
	}
	log_msg(LG_ERR, SEC_CONF, "%s:%u: %s: %s", ctx->file, ctx->line,
	    ctx->dir->name, msg);
	log_msg(LG_ERR, SEC_CONF, "    expected: %s", ctx->dir->syntax);
}

static void
conf_warn(struct conf_ctx *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_msg(LG_WARN, SEC_CONF, "%s:%u: %s", ctx->file, ctx->line, msg);
}

static void *
conf_field(struct conf_ctx *ctx)
{
	return ((char *)ctx->conf + ctx->dir->field);
}

static size_t
conf_index(const struct conf_directive *d)
{
	return ((size_t)(d - conf_directives));
}

static bool
conf_bit(const uint32_t *set, const struct conf_directive *d)
{
	return ((set[conf_index(d) / 32] >> (conf_index(d) % 32)) & 1);
}

static void
conf_set_bit(uint32_t *set, const struct conf_directive *d)
{
	set[conf_index(d) / 32] |= 1U << (conf_index(d) % 32);
}

/* -- value types ---------------------------------------------------------- */

static int
conf_one_word(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	if (argc == 1)
		return (0);
	conf_error(ctx, "expected one value, got %u", argc);
	return (-1);
}

/* "[v6]:port", "v4:port", ":port" or "port"; numeric addresses only. */
static int
conf_port_addr(struct conf_ctx *ctx, const char *arg, struct conf_port *port)
{
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *p, *colon;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	unsigned long num;
	size_t hlen;

	memset(port, 0, sizeof *port);
	if (arg[0] == '[') {
		colon = strstr(arg, "]:");
		if (colon == NULL) {
			conf_error(ctx, "bad address \"%s\"", arg);
			return (-1);
		}
		p = colon + 2;
		hlen = (size_t)(colon - arg - 1);
		if (hlen >= sizeof host)
			hlen = sizeof host - 1;
		memcpy(host, arg + 1, hlen);
		host[hlen] = '\0';
	} else {
		colon = strrchr(arg, ':');
		p = colon != NULL ? colon + 1 : arg;
		hlen = colon != NULL ? (size_t)(colon - arg) : 0;
		if (hlen >= sizeof host)
			hlen = sizeof host - 1;
		memcpy(host, arg, hlen);
		host[hlen] = '\0';
	}
	num = isdigit((unsigned char)*p) ? strtoul(p, &end, 10) : 0;
	if (!isdigit((unsigned char)*p) || *end != '\0' || num == 0 ||
	    num > 65535) {
		conf_error(ctx, "bad port \"%s\"", p);
		return (-1);
	}
	if (arg[0] == '[') {
		sin6 = (struct sockaddr_in6 *)&port->addr;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)num);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			conf_error(ctx, "bad IPv6 address \"%s\"", host);
			return (-1);
		}
		port->addrlen = sizeof *sin6;
	} else {
		sin = (struct sockaddr_in *)&port->addr;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)num);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		if (host[0] != '\0' &&
		    inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			conf_error(ctx, "bad IPv4 address \"%s\" (names are "
			    "not resolved here; use a numeric address)", host);
			return (-1);
		}
		port->addrlen = sizeof *sin;
	}
	port->file = ctx->file;
	port->line = ctx->line;
	return (0);
}

static int
conf_port_add(struct conf_ctx *ctx, const struct conf_port *port)
{
	struct conf_port *ports;

	ports = realloc(ctx->conf->ports,
	    (ctx->conf->nports + 1) * sizeof *ports);
	if (ports == NULL) {
		conf_error(ctx, "out of memory");
		return (-1);
	}
	ports[ctx->conf->nports++] = *port;
	ctx->conf->ports = ports;
	return (0);
}

static void conf_port_tls_free(struct conf_port_tls **tp);

/* dynamic_cert_mem_cache_size, by default */
#define CONF_CERT_CACHE_DEFAULT	(4u << 20)

/* http_port's ssl-bump options (Squid 5's names).  The CA is read, and
 * its key checked, when the port opens (client_ports.c). */
static int
conf_port_bump_option(struct conf_ctx *ctx, struct conf_port_tls *t,
    const char *word, bool *generate)
{
	static const struct {
		const char	*name;
		size_t		field;
	} files[] = {
		{ "tls-cert=", offsetof(struct conf_port_tls, cert) },
		{ "cert=", offsetof(struct conf_port_tls, cert) },
		{ "tls-key=", offsetof(struct conf_port_tls, key) },
		{ "key=", offsetof(struct conf_port_tls, key) },
	};
	const char *v;
	char **slot;
	bool no_unit;
	size_t i, len;

	for (i = 0; i < ARRAY_LEN(files); i++) {
		len = strlen(files[i].name);
		if (strncmp(word, files[i].name, len) != 0)
			continue;
		if (word[len] == '\0') {
			conf_error(ctx, "%s needs a value", files[i].name);
			return (-1);
		}
		slot = (char **)(void *)((char *)t + files[i].field);
		free(*slot);
		if ((*slot = strdup(word + len)) == NULL) {
			conf_error(ctx, "out of memory");
			return (-1);
		}
		return (0);
	}
	if (strncmp(word, "generate-host-certificates=", 27) == 0) {
		v = word + 27;
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
			conf_error(ctx, "generate-host-certificates= is on or "
			    "off");
			return (-1);
		}
		*generate = strcmp(v, "on") == 0;
		return (0);
	}
	if (strncmp(word, "dynamic_cert_mem_cache_size=", 28) == 0) {
		v = word + 28;
		if (conf_parse_size_value(v, NULL, &t->cert_cache,
		    &no_unit) != 0) {
			conf_error(ctx, "bad dynamic_cert_mem_cache_size "
			    "\"%s\" (4MB, 512KB ...)", v);
			return (-1);
		}
		return (0);
	}
	/* cuttle's own (Squid's helper makes RSA keys only): the key
	 * type of the leaves. */
	if (strncmp(word, "dynamic_cert_key=", 17) == 0) {
		v = word + 17;
		if (strcmp(v, "p256") != 0 && strcmp(v, "rsa2048") != 0) {
			conf_error(ctx, "dynamic_cert_key= is p256 or "
			    "rsa2048");
			return (-1);
		}
		t->leaf_rsa = strcmp(v, "rsa2048") == 0;
		return (0);
	}
	conf_warn(ctx, "http_port: option \"%s\" is not supported and is "
	    "ignored", word);
	return (0);
}

/* http_port [addr:]port [ssl-bump tls-cert=CA ...].  ssl-bump without a
 * CA is refused here: cuttle never bumps without one. */
static int
conf_parse_port(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	struct conf_port port;
	struct conf_port_tls *t = NULL;
	bool bump = false, generate = true;
	unsigned i;

	if (conf_port_addr(ctx, argv[0], &port) != 0)
		return (-1);
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "ssl-bump") == 0)
			bump = true;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "ssl-bump") == 0)
			continue;
		if (!bump) {
			conf_warn(ctx, "http_port: option \"%s\" is not "
			    "supported and is ignored", argv[i]);
			continue;
		}
		if (t == NULL && (t = calloc(1, sizeof *t)) == NULL) {
			conf_error(ctx, "out of memory");
			return (-1);
		}
		if (conf_port_bump_option(ctx, t, argv[i], &generate) != 0)
			goto fail;
	}
	if (!bump)
		return (conf_port_add(ctx, &port));
	if (t == NULL || t->cert == NULL) {
		conf_error(ctx, "ssl-bump needs the CA that signs the "
		    "certificates cuttle makes (tls-cert=ca.pem "
		    "[tls-key=ca.key])");
		goto fail;
	}
	if (!generate) {
		conf_error(ctx, "ssl-bump needs generate-host-certificates=on "
		    "(cuttle makes each site's certificate)");
		goto fail;
	}
	if (t->cert_cache == 0)
		t->cert_cache = CONF_CERT_CACHE_DEFAULT;
	port.bump = t;
	if (conf_port_add(ctx, &port) != 0)
		goto fail;
	return (0);
fail:
	conf_port_tls_free(&t);
	return (-1);
}

static void
conf_port_tls_free(struct conf_port_tls **tp)
{
	struct conf_port_tls *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	free(t->cert);
	free(t->key);
	free(t->cafile);
	free(t->capath);
	free(t->cipher);
	free(t->options);
	free(t);
}

/* Squid's https_port options: name=value words, the older names too. */
static int
conf_port_tls_option(struct conf_ctx *ctx, struct conf_port_tls *t,
    const char *word)
{
	static const struct {
		const char	*name;
		size_t		field;
	} opts[] = {
		{ "tls-cert=", offsetof(struct conf_port_tls, cert) },
		{ "cert=", offsetof(struct conf_port_tls, cert) },
		{ "tls-key=", offsetof(struct conf_port_tls, key) },
		{ "key=", offsetof(struct conf_port_tls, key) },
		{ "clientca=", offsetof(struct conf_port_tls, cafile) },
		{ "tls-cafile=", offsetof(struct conf_port_tls, cafile) },
		{ "capath=", offsetof(struct conf_port_tls, capath) },
		{ "cipher=", offsetof(struct conf_port_tls, cipher) },
		{ "options=", offsetof(struct conf_port_tls, options) },
	};
	static const char *versions[] = { "1.0", "1.1", "1.2", "1.3" };
	const char *v;
	char **slot;
	size_t i, len;

	if (strncmp(word, "tls-min-version=", 16) == 0) {
		v = word + 16;
		for (i = 0; i < ARRAY_LEN(versions); i++)
			if (strcmp(v, versions[i]) == 0) {
				t->min_version = 0x0301 + (int)i;
				return (0);
			}
		conf_error(ctx, "bad tls-min-version \"%s\" (1.0, 1.1, 1.2 "
		    "or 1.3)", v);
		return (-1);
	}
	for (i = 0; i < ARRAY_LEN(opts); i++) {
		len = strlen(opts[i].name);
		if (strncmp(word, opts[i].name, len) != 0)
			continue;
		if (word[len] == '\0') {
			conf_error(ctx, "%s needs a value", opts[i].name);
			return (-1);
		}
		slot = (char **)(void *)((char *)t + opts[i].field);
		free(*slot);
		*slot = strdup(word + len);
		if (*slot == NULL) {
			conf_error(ctx, "out of memory");
			return (-1);
		}
		return (0);
	}
	conf_warn(ctx, "https_port: option \"%s\" is not supported and is "
	    "ignored", word);
	return (0);
}

/* https_port: an http_port whose clients speak TLS to cuttle.  The files
 * are read, and the key checked against the certificate, when the port
 * opens (client_ports.c), with this line's file:line in the message. */
static int
conf_parse_httpsport(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	struct conf_port port;
	unsigned i;

	if (conf_port_addr(ctx, argv[0], &port) != 0)
		return (-1);
	port.tls = calloc(1, sizeof *port.tls);
	if (port.tls == NULL) {
		conf_error(ctx, "out of memory");
		return (-1);
	}
	for (i = 1; i < argc; i++)
		if (conf_port_tls_option(ctx, port.tls, argv[i]) != 0) {
			conf_port_tls_free(&port.tls);
			return (-1);
		}
	if (port.tls->cert == NULL) {
		conf_error(ctx, "a certificate is required (tls-cert=FILE)");
		conf_port_tls_free(&port.tls);
		return (-1);
	}
	if (conf_port_add(ctx, &port) != 0) {
		conf_port_tls_free(&port.tls);
		return (-1);
	}
	return (0);
}

static void
conf_free_none(void *field)
{
	(void)field;
}

static int
conf_set_string(struct conf_ctx *ctx, const char *value)
{
	char **slot = conf_field(ctx);
	char *s = NULL;

	if (value != NULL && (s = strdup(value)) == NULL) {
		conf_error(ctx, "out of memory");
		return (-1);
	}
	free(*slot);
	*slot = s;
	return (0);
}

static int
conf_parse_word(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	if (conf_one_word(ctx, argc, argv) != 0)
		return (-1);
	return (conf_set_string(ctx, argv[0]));
}

static void
conf_free_string(void *field)
{
	free(*(char **)field);
}

/* A path, or "none" for no file at all (the field is then NULL). */
static int
conf_parse_path(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	if (conf_one_word(ctx, argc, argv) != 0)
		return (-1);
	return (conf_set_string(ctx, strcmp(argv[0], "none") == 0 ? NULL :
	    argv[0]));
}

static int
conf_parse_count(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	char *end;
	long v;

	if (conf_one_word(ctx, argc, argv) != 0)
		return (-1);
	errno = 0;
	v = strtol(argv[0], &end, 10);
	if (!isdigit((unsigned char)argv[0][0]) || *end != '\0' ||
	    errno != 0) {
		conf_error(ctx, "bad number \"%s\"", argv[0]);
		return (-1);
	}
	*(long *)conf_field(ctx) = v;
	return (0);
}

/* A number, then its unit in the same word or the next one. */
static int
conf_split_unit(unsigned argc, char **argv, double *num, const char **unit)
{
	char *end;

	if (argc == 0 || argc > 2 || !isdigit((unsigned char)argv[0][0]))
		return (-EINVAL);
	errno = 0;
	*num = strtod(argv[0], &end);
	if (errno != 0 || !isfinite(*num) || *num < 0)
		return (-EINVAL);
	if (*end != '\0' && argc == 2)
		return (-EINVAL);
	*unit = *end != '\0' ? end : argc == 2 ? argv[1] : NULL;
	return (0);
}

static const struct {
	const char	*name;
	double		scale;
} conf_size_units[] = {
	{ "bytes", 1 }, { "byte", 1 }, { "B", 1 },
	{ "KB", 1024 }, { "K", 1024 }, { "KiB", 1024 },
	{ "MB", 1048576 }, { "M", 1048576 }, { "MiB", 1048576 },
	{ "GB", 1073741824 }, { "G", 1073741824 }, { "GiB", 1073741824 },
}, conf_time_units[] = {
	{ "milliseconds", 0.001 }, { "millisecond", 0.001 }, { "ms", 0.001 },
	{ "seconds", 1 }, { "second", 1 }, { "sec", 1 }, { "s", 1 },
	{ "minutes", 60 }, { "minute", 60 }, { "min", 60 },
	{ "hours", 3600 }, { "hour", 3600 }, { "h", 3600 },
	{ "days", 86400 }, { "day", 86400 }, { "d", 86400 },
	{ "weeks", 604800 }, { "week", 604800 }, { "w", 604800 },
};

bool
conf_lines_equal(const struct conf_lines *a, const struct conf_lines *b)
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

void
conf_line_error(char *out, size_t outlen, const struct conf_line *l,
    const char *directive, const char *expected, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	if (out == NULL || outlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(out, outlen, "%s:%u: %s: %s%s%s",
	    l->file != NULL ? l->file : "?", l->line, directive, msg,
	    expected != NULL ? "; expected: " : "",
	    expected != NULL ? expected : "");
}

int
conf_parse_size_value(const char *num, const char *unit, uint64_t *out,
    bool *no_unit)
{
	char *argv[2] = { (char *)(uintptr_t)num, (char *)(uintptr_t)unit };
	const char *u;
	double v, scale = 0;
	size_t i;

	if (conf_split_unit(unit != NULL ? 2 : 1, argv, &v, &u) != 0)
		return (-EINVAL);
	*no_unit = u == NULL;
	if (u == NULL)
		scale = 1;
	for (i = 0; u != NULL && i < ARRAY_LEN(conf_size_units); i++)
		if (strcasecmp(u, conf_size_units[i].name) == 0)
			scale = conf_size_units[i].scale;
	if (scale == 0 || v * scale >= 18446744073709551615.0)
		return (-EINVAL);
	*out = (uint64_t)(v * scale + 0.5);
	return (0);
}

int
conf_parse_time_value(const char *num, const char *unit, double *out,
    bool *no_unit)
{
	char *argv[2] = { (char *)(uintptr_t)num, (char *)(uintptr_t)unit };
	const char *u;
	double v, scale = 0;
	size_t i;

	if (conf_split_unit(unit != NULL ? 2 : 1, argv, &v, &u) != 0)
		return (-EINVAL);
	*no_unit = u == NULL;
	if (u == NULL)
		scale = 1;
	for (i = 0; u != NULL && i < ARRAY_LEN(conf_time_units); i++)
		if (strcasecmp(u, conf_time_units[i].name) == 0)
			scale = conf_time_units[i].scale;
	if (scale == 0)
		return (-EINVAL);
	*out = v * scale;
	return (0);
}

/* A size or a time: a number and its unit, into the directive's field. */
static int
conf_parse_quantity(struct conf_ctx *ctx, unsigned argc, char **argv,
    bool time)
{
	const char *unit = argc == 2 ? argv[1] : NULL;
	bool no_unit;
	int err;

	err = argc > 2 ? -EINVAL : time ?
	    conf_parse_time_value(argv[0], unit, conf_field(ctx), &no_unit) :
	    conf_parse_size_value(argv[0], unit, conf_field(ctx), &no_unit);
	if (err != 0) {
		conf_error(ctx, "bad %s \"%s%s%s\"", time ? "time" : "size",
		    argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
		return (-1);
	}
	if (no_unit)
		conf_warn(ctx, "%s: no unit on \"%s\", assuming %s",
		    ctx->dir->name, argv[0], time ? "seconds" : "bytes");
	return (0);
}

static int
conf_parse_size(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	return (conf_parse_quantity(ctx, argc, argv, false));
}

static int
conf_parse_time(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	return (conf_parse_quantity(ctx, argc, argv, true));
}

/* One of names[], stored as its index. */
static int
conf_parse_choice(struct conf_ctx *ctx, unsigned argc, char **argv,
    const char *const *names, size_t n)
{
	size_t i;

	if (conf_one_word(ctx, argc, argv) != 0)
		return (-1);
	for (i = 0; i < n; i++)
		if (strcasecmp(argv[0], names[i]) == 0) {
			*(int *)conf_field(ctx) = (int)i;
			return (0);
		}
	conf_error(ctx, "bad value \"%s\"", argv[0]);
	return (-1);
}

static int
conf_parse_onoff(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	static const char *const on[] = { "on", "enable" };
	static const char *const off[] = { "off", "disable" };
	size_t i;

	if (conf_one_word(ctx, argc, argv) != 0)
		return (-1);
	for (i = 0; i < 2; i++)
		if (strcasecmp(argv[0], on[i]) == 0 ||
		    strcasecmp(argv[0], off[i]) == 0) {
			*(bool *)conf_field(ctx) =
			    strcasecmp(argv[0], on[i]) == 0;
			return (0);
		}
	conf_error(ctx, "bad value \"%s\"", argv[0]);
	return (-1);
}

static int
conf_parse_repl(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	static const char *const names[] = {
		[CONF_REPL_LRU] = "lru", [CONF_REPL_SIEVE] = "sieve",
	};

	return (conf_parse_choice(ctx, argc, argv, names, ARRAY_LEN(names)));
}

static int
conf_parse_memmode(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	static const char *const names[] = {
		[CONF_MEM_ALWAYS] = "always", [CONF_MEM_DISK] = "disk",
		[CONF_MEM_NETWORK] = "network",
	};

	return (conf_parse_choice(ctx, argc, argv, names, ARRAY_LEN(names)));
}

static int
conf_parse_fwdfor(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	static const char *const names[] = {
		[CONF_FWD_ON] = "on", [CONF_FWD_OFF] = "off",
		[CONF_FWD_TRANSPARENT] = "transparent",
		[CONF_FWD_DELETE] = "delete", [CONF_FWD_TRUNCATE] = "truncate",
	};

	return (conf_parse_choice(ctx, argc, argv, names, ARRAY_LEN(names)));
}

/* The words, kept for a higher layer; one allocation per line. */
static int
conf_parse_lines(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	struct conf_lines *ls = conf_field(ctx);
	struct conf_line *l, *v;
	size_t size = (argc + 1) * sizeof(char *);
	char *p;
	unsigned i;

	for (i = 0; i < argc; i++)
		size += strlen(argv[i]) + 1;
	v = realloc(ls->v, (ls->n + 1) * sizeof *v);
	if (v == NULL)
		goto nomem;
	ls->v = v;
	l = &v[ls->n];
	l->argv = malloc(size);
	if (l->argv == NULL)
		goto nomem;
	p = (char *)(l->argv + argc + 1);
	for (i = 0; i < argc; i++) {
		l->argv[i] = p;
		p = stpcpy(p, argv[i]) + 1;
	}
	l->argv[argc] = NULL;
	l->argc = argc;
	l->file = ctx->file;
	l->line = ctx->line;
	ls->n++;
	return (0);
nomem:
	conf_error(ctx, "out of memory");
	return (-1);
}

/* -- tls_outgoing_options ------------------------------------------------- */

/* Squid's options= names: the protocol versions raise the least version
 * (TLS 1.0 is 0x0301 on the wire); the rest are OpenSSL's, accepted and
 * warned about. */
static const struct {
	const char	*name;
	unsigned	min;		/* least version left; 0: no effect */
} conf_tls_opts[] = {
	{ "NO_SSLv2", 0 }, { "NO_SSLv3", 0 },
	{ "NO_TLSv1", 0x0302 }, { "NO_TLSv1_1", 0x0303 },
	{ "NO_TLSv1_2", 0x0304 },
	{ "ALL", 0 }, { "SINGLE_DH_USE", 0 }, { "SINGLE_ECDH_USE", 0 },
	{ "NO_TICKET", 0 }, { "NO_COMPRESSION", 0 },
	{ "CIPHER_SERVER_PREFERENCE", 0 }, { "NO_SESSION_RESUMPTION_ON_"
	    "RENEGOTIATION", 0 }, { "NO_RENEGOTIATION", 0 },
};

static int
conf_tls_set(struct conf_ctx *ctx, char **slot, const char *value)
{
	char *s = strdup(value);

	if (s == NULL) {
		conf_error(ctx, "out of memory");
		return (-1);
	}
	free(*slot);
	*slot = s;
	return (0);
}

/* A list of names separated by ',' or ':' (Squid takes both). */
static int
conf_tls_flags(struct conf_ctx *ctx, struct conf_tls *t, char *list)
{
	char *name, *save = NULL;

	for (name = strtok_r(list, ",:", &save); name != NULL;
	    name = strtok_r(NULL, ",:", &save)) {
		if (strcmp(name, "DONT_VERIFY_PEER") == 0)
			t->flags |= CONF_TLS_DONT_VERIFY_PEER;
		else if (strcmp(name, "DONT_VERIFY_DOMAIN") == 0)
			t->flags |= CONF_TLS_DONT_VERIFY_DOMAIN;
		else if (strcmp(name, "NO_DEFAULT_CA") == 0)
			t->no_default_ca = true;
		else if (strcmp(name, "NO_SESSION_REUSE") == 0 ||
		    strcmp(name, "VERIFY_CRL") == 0 ||
		    strcmp(name, "VERIFY_CRL_ALL") == 0)
			conf_warn(ctx, "tls_outgoing_options: flags=%s is not "
			    "supported and is ignored", name);
		else {
			conf_error(ctx, "unknown flag \"%s\"", name);
			return (-1);
		}
	}
	return (0);
}

static void
conf_tls_options(struct conf_ctx *ctx, struct conf_tls *t, char *list)
{
	char *name, *save = NULL;
	size_t i;

	for (name = strtok_r(list, ",:", &save); name != NULL;
	    name = strtok_r(NULL, ",:", &save)) {
		for (i = 0; i < ARRAY_LEN(conf_tls_opts); i++)
			if (strcmp(name, conf_tls_opts[i].name) == 0)
				break;
		if (i == ARRAY_LEN(conf_tls_opts))
			conf_warn(ctx, "tls_outgoing_options: unknown "
			    "option \"%s\" ignored", name);
		else if (conf_tls_opts[i].min == 0)
			conf_warn(ctx, "tls_outgoing_options: options=%s has "
			    "no effect in cuttle", name);
		else if (conf_tls_opts[i].min > (t->min_version != 0 ?
		    t->min_version : 0x0303))
			t->min_version = conf_tls_opts[i].min;
	}
}

static int
conf_parse_tlsout(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	static const char *const versions[] = { "1.0", "1.1", "1.2", "1.3" };
	struct conf_tls *t = conf_field(ctx);
	char *arg, *eq, *val;
	unsigned i, v;

	for (i = 0; i < argc; i++) {
		arg = argv[i];
		eq = strchr(arg, '=');
		val = eq != NULL ? eq + 1 : NULL;
		if (eq != NULL)
			*eq = '\0';
		if (val != NULL && *val == '\0' &&
		    strcmp(arg, "default-ca") != 0) {
			conf_error(ctx, "%s= needs a value", arg);
			return (-1);
		}
		if (strcmp(arg, "cafile") == 0 && val != NULL) {
			if (conf_tls_set(ctx, &t->cafile, val) != 0)
				return (-1);
		} else if (strcmp(arg, "capath") == 0 && val != NULL) {
			if (conf_tls_set(ctx, &t->capath, val) != 0)
				return (-1);
		} else if (strcmp(arg, "cert") == 0 && val != NULL) {
			if (conf_tls_set(ctx, &t->cert, val) != 0)
				return (-1);
		} else if (strcmp(arg, "key") == 0 && val != NULL) {
			if (conf_tls_set(ctx, &t->key, val) != 0)
				return (-1);
		} else if (strcmp(arg, "cipher") == 0 && val != NULL) {
			if (conf_tls_set(ctx, &t->cipher, val) != 0)
				return (-1);
		} else if (strcmp(arg, "min-version") == 0 && val != NULL) {
			for (v = 0; v < ARRAY_LEN(versions); v++)
				if (strcmp(val, versions[v]) == 0)
					break;
			if (v == ARRAY_LEN(versions)) {
				conf_error(ctx, "bad min-version \"%s\"", val);
				return (-1);
			}
			t->min_version = 0x0301 + v;
		} else if ((strcmp(arg, "flags") == 0 ||
		    strcmp(arg, "sslflags") == 0) && val != NULL) {
			if (conf_tls_flags(ctx, t, val) != 0)
				return (-1);
		} else if (strcmp(arg, "options") == 0 && val != NULL)
			conf_tls_options(ctx, t, val);
		else if (strcmp(arg, "default-ca") == 0) {
			if (val == NULL || *val == '\0' ||
			    strcasecmp(val, "on") == 0)
				t->no_default_ca = false;
			else if (strcasecmp(val, "off") == 0)
				t->no_default_ca = true;
			else {
				conf_error(ctx, "bad default-ca \"%s\"", val);
				return (-1);
			}
		} else if (strcmp(arg, "no-default-ca") == 0 && val == NULL)
			t->no_default_ca = true;
		else
			conf_warn(ctx, "tls_outgoing_options: unknown option "
			    "\"%s%s%s\" ignored", arg, val != NULL ? "=" : "",
			    val != NULL ? val : "");
	}
	t->file = ctx->file;
	t->line = ctx->line;
	return (0);
}

static void
conf_free_tlsout(void *field)
{
	struct conf_tls *t = field;

	free(t->cert);
	free(t->key);
	free(t->cafile);
	free(t->capath);
	free(t->cipher);
}

/* acl lines are kept as lines; only their defaults differ (conf_finish). */
static int
conf_parse_acl(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	return (conf_parse_lines(ctx, argc, argv));
}

/* Is the acl name defined by a line of ls? */
static bool
conf_acl_defined(const struct conf_lines *ls, const char *name)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (strcmp(ls->v[i].argv[0], name) == 0)
			return (true);
	return (false);
}

static void
conf_free_lines(void *field)
{
	struct conf_lines *ls = field;
	size_t i;

	for (i = 0; i < ls->n; i++)
		free(ls->v[i].argv);
	free(ls->v);
}

static int
conf_parse_debug(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	char buf[1024], *p = buf;
	const char *bad = NULL;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < argc; i++) {
		if ((size_t)(p - buf) + strlen(argv[i]) + 2 > sizeof buf) {
			conf_error(ctx, "too long");
			return (-1);
		}
		if (i > 0)
			*p++ = ' ';
		p = stpcpy(p, argv[i]);
	}
	if (log_parse_options(buf, false, &bad) != 0) {
		conf_error(ctx, "bad section,level \"%.*s\"",
		    (int)strcspn(bad, " \t"), bad);
		return (-1);
	}
	return (conf_set_string(ctx, buf));
}

/* -- tokenizer ------------------------------------------------------------- */

/*
 * Split line into words in place: blanks separate, "double quotes" group
 * (with \" and \\ inside), '#' at the start of a word begins a comment.
 * Returns the word count, or -1 for an unterminated quote.
 */
static int
conf_split(char *line, char **argv, unsigned max)
{
	char *r = line, *w;
	unsigned n = 0;

	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\r')
			r++;
		if (*r == '\0' || *r == '#')
			return ((int)n);
		if (n == max)
			return (-1);
		argv[n++] = w = r;
		if (*r == '"') {
			argv[n - 1] = w = ++r;
			while (*r != '"') {
				if (*r == '\0')
					return (-1);
				if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
					r++;
				*w++ = *r++;
			}
			r++;
			if (*r != '\0' && *r != ' ' && *r != '\t' && *r != '\r')
				return (-1);
		} else {
			while (*r != '\0' && *r != ' ' && *r != '\t' &&
			    *r != '\r')
				*w++ = *r++;
		}
		if (*r != '\0')
			r++;
		*w = '\0';
	}
}

/* -- loading --------------------------------------------------------------- */

static const struct conf_directive *
conf_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(conf_directives); i++)
		if (strcmp(conf_directives[i].name, name) == 0)
			return (&conf_directives[i]);
	return (NULL);
}

static const char *
conf_unsupported_advice(const char *name)
{
	size_t i, len;

	for (i = 0; i < ARRAY_LEN(conf_unsupported); i++) {
		len = strlen(conf_unsupported[i].name);
		if (conf_unsupported[i].prefix ?
		    strncmp(name, conf_unsupported[i].name, len) == 0 :
		    strcmp(name, conf_unsupported[i].name) == 0)
			return (conf_unsupported[i].advice);
	}
	return (NULL);
}

/* Keep a file name for as long as the conf (conf_line points at it). */
static const char *
conf_intern_file(struct conf *c, const char *name)
{
	char **files, *s;
	size_t i;

	for (i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i], name) == 0)
			return (c->files[i]);
	files = realloc(c->files, (c->nfiles + 1) * sizeof *files);
	if (files == NULL)
		return (NULL);
	c->files = files;
	s = strdup(name);
	if (s == NULL)
		return (NULL);
	c->files[c->nfiles++] = s;
	return (s);
}

static int conf_load_path(struct conf_ctx *ctx, const char *path);

/* include pattern ...: every file each glob pattern matches, in order;
 * relative patterns are relative to the including file. */
static void
conf_include(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	char dirbuf[4096], pattern[4096];
	const char *dir;
	glob_t g;
	unsigned i;
	size_t j;
	int rc;

	if (argc == 0) {
		conf_error(ctx, "include: no file named");
		return;
	}
	if (ctx->depth >= CONF_MAX_DEPTH) {
		conf_error(ctx, "include: nested more than %d deep",
		    CONF_MAX_DEPTH);
		return;
	}
	snprintf(dirbuf, sizeof dirbuf, "%s", ctx->file);
	dir = dirname(dirbuf);
	for (i = 0; i < argc; i++) {
		if (argv[i][0] == '/' || strcmp(dir, ".") == 0)
			snprintf(pattern, sizeof pattern, "%s", argv[i]);
		else
			snprintf(pattern, sizeof pattern, "%s/%s", dir,
			    argv[i]);
		rc = glob(pattern, GLOB_ERR, NULL, &g);
		if (rc == GLOB_NOMATCH) {
			conf_error(ctx, "include: no file matches \"%s\"",
			    pattern);
			continue;
		}
		if (rc != 0) {
			conf_error(ctx, "include: cannot read \"%s\"",
			    pattern);
			continue;
		}
		for (j = 0; j < g.gl_pathc; j++) {
			struct conf_ctx sub = *ctx;

			sub.depth++;
			sub.errors = 0;
			if (conf_load_path(&sub, g.gl_pathv[j]) < 0)
				ctx->errors++;
			else
				ctx->errors += sub.errors;
		}
		globfree(&g);
	}
}

static void
conf_directive_line(struct conf_ctx *ctx, unsigned argc, char **argv)
{
	const char *advice;

	ctx->dir = NULL;
	if (strcmp(argv[0], "include") == 0) {
		conf_include(ctx, argc - 1, argv + 1);
		return;
	}
	ctx->dir = conf_find(argv[0]);
	if (ctx->dir == NULL) {
		advice = conf_unsupported_advice(argv[0]);
		if (advice != NULL)
			conf_warn(ctx, "%s is not supported and is ignored: "
			    "%s", argv[0], advice);
		else
			conf_warn(ctx, "unknown directive \"%s\" ignored",
			    argv[0]);
		return;
	}
	if (argc < 2) {
		conf_error(ctx, "missing value");
		return;
	}
	if (ctx->dir->parse(ctx, argc - 1, argv + 1) != 0)
		return;
	conf_set_bit(ctx->conf->seen, ctx->dir);
	if (ctx->dir->state == PENDING &&
	    !conf_bit(ctx->conf->warned, ctx->dir)) {
		conf_set_bit(ctx->conf->warned, ctx->dir);
		conf_warn(ctx, "%s: accepted, but cuttle does not act on it "
		    "yet", ctx->dir->name);
	}
}

/* Logical lines: a backslash before the newline joins the next line. */
static int
conf_load_text(struct conf_ctx *ctx, char *text)
{
	char *argv[CONF_MAX_WORDS], *line, *next, *end;
	unsigned first;
	int argc;

	for (line = text; *line != '\0'; line = next) {
		first = ++ctx->line;
		next = line;
		for (;;) {
			end = strchr(next, '\n');
			if (end == NULL) {
				end = next + strlen(next);
				next = end;
				break;
			}
			next = end + 1;
			if (end > line && end[-1] == '\\' && *next != '\0') {
				end[-1] = ' ';
				*end = ' ';
				ctx->line++;
				continue;
			}
			*end = '\0';
			break;
		}
		if (end > line && end[-1] == '\r')
			end[-1] = '\0';
		argc = conf_split(line, argv, CONF_MAX_WORDS);
		{
			unsigned last = ctx->line;

			ctx->line = first;
			if (argc < 0) {
				ctx->dir = NULL;
				conf_error(ctx, "unterminated quote or too "
				    "many words");
			} else if (argc > 0)
				conf_directive_line(ctx, (unsigned)argc, argv);
			ctx->line = last;
		}
	}
	return (ctx->errors);
}

static int
conf_load_path(struct conf_ctx *ctx, const char *path)
{
	char *text = NULL;
	FILE *f;
	long len;
	int err;

	ctx->file = conf_intern_file(ctx->conf, path);
	ctx->line = 0;
	if (ctx->file == NULL) {
		log_msg(LG_ERR, SEC_CONF, "%s: out of memory", path);
		return (-ENOMEM);
	}
	f = fopen(path, "r");
	if (f == NULL) {
		err = errno;
		log_msg(LG_ERR, SEC_CONF, "%s: cannot open: %s", path,
		    strerror(err));
		return (-err);
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (text = malloc((size_t)len + 1)) != NULL &&
	    fread(text, 1, (size_t)len, f) == (size_t)len) {
		text[len] = '\0';
		fclose(f);
		conf_load_text(ctx, text);
		free(text);
		return (ctx->errors);
	}
	err = errno != 0 ? errno : EIO;
	log_msg(LG_ERR, SEC_CONF, "%s: cannot read: %s", path, strerror(err));
	free(text);
	fclose(f);
	return (-err);
}

int
conf_load(struct conf *c, const char *path)
{
	struct conf_ctx ctx = { .conf = c };

	CHECK_OBJ_NOTNULL(c, CONF_MAGIC);
	return (conf_load_path(&ctx, path));
}

int
conf_load_string(struct conf *c, const char *name, const char *text)
{
	struct conf_ctx ctx = { .conf = c };
	char *copy;

	CHECK_OBJ_NOTNULL(c, CONF_MAGIC);
	ctx.file = conf_intern_file(c, name);
	copy = strdup(text);
	if (ctx.file == NULL || copy == NULL) {
		free(copy);
		log_msg(LG_ERR, SEC_CONF, "%s: out of memory", name);
		return (1);
	}
	conf_load_text(&ctx, copy);
	free(copy);
	return (ctx.errors);
}

int
conf_finish(struct conf *c)
{
	struct conf_ctx ctx = { .conf = c };
	char *argv[CONF_MAX_WORDS], *text, *line, *next;
	size_t i, ndefined;
	bool per_name;
	int argc;

	CHECK_OBJ_NOTNULL(c, CONF_MAGIC);
	ctx.file = conf_intern_file(c, "(built-in default)");
	if (ctx.file == NULL)
		return (1);
	for (i = 0; i < ARRAY_LEN(conf_directives); i++) {
		ctx.dir = &conf_directives[i];
		per_name = ctx.dir->parse == conf_parse_acl;
		if (ctx.dir->dflt == NULL ||
		    (conf_bit(c->seen, ctx.dir) && !per_name))
			continue;
		/* http_port 3128 only when no port at all is given: an
		 * https_port alone is a conf of its own. */
		if (ctx.dir->parse == conf_parse_port && c->nports > 0)
			continue;
		text = strdup(ctx.dir->dflt);
		if (text == NULL)
			return (ctx.errors + 1);
		/* Which default acl names the configuration defines itself
		 * is decided before any default line is added. */
		ndefined = per_name ? c->acl.n : 0;
		ctx.line = 0;
		for (line = text; line != NULL; line = next) {
			next = strchr(line, '\n');
			if (next != NULL)
				*next++ = '\0';
			ctx.line++;
			argc = conf_split(line, argv, CONF_MAX_WORDS);
			if (argc > 0 && per_name && conf_acl_defined(&(struct
			    conf_lines){ c->acl.v, ndefined }, argv[0]))
				continue;
			if (argc <= 0 || ctx.dir->parse(&ctx, (unsigned)argc,
			    argv) != 0)
				ctx.errors++;
		}
		free(text);
		conf_set_bit(c->seen, ctx.dir);
	}
	if (c->visible_hostname == NULL)
		c->visible_hostname = conf_host_name();
	return (c->visible_hostname == NULL ? ctx.errors + 1 : ctx.errors);
}

/* visible_hostname's default: the machine's name, as Squid takes it. */
static char *
conf_host_name(void)
{
	char name[256];

	if (gethostname(name, sizeof name) == -1 || name[0] == '\0')
		snprintf(name, sizeof name, "localhost");
	name[sizeof name - 1] = '\0';
	return (strdup(name));
}

struct conf *
conf_new(void)
{
	struct conf *c;

	ALLOC_OBJ(c, CONF_MAGIC);
	return (c);
}

void
conf_free(struct conf **cp)
{
	struct conf *c;
	size_t i;

	if (*cp == NULL)
		return;
	TAKE_OBJ_NOTNULL(c, cp, CONF_MAGIC);
	for (i = 0; i < ARRAY_LEN(conf_directives); i++)
		conf_directives[i].free((char *)c + conf_directives[i].field);
	for (i = 0; i < c->nports; i++) {
		conf_port_tls_free(&c->ports[i].tls);
		conf_port_tls_free(&c->ports[i].bump);
	}
	free(c->ports);
	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	FREE_OBJ(c);
}

void
conf_print_docs(FILE *f)
{
	const struct conf_directive *d;
	const char *p, *nl;
	size_t i;

	fprintf(f, "# cuttle.conf.documented - every directive cuttle knows,"
	    " with its default.\n# Generated from src/conf/directives.def;"
	    " do not edit.\n");
	for (i = 0; i < ARRAY_LEN(conf_directives); i++) {
		d = &conf_directives[i];
		fprintf(f, "\n#  TAG: %s\n#\tSyntax: %s\n#\n#\t%s\n",
		    d->name, d->syntax, d->doc);
		if (d->state == PENDING)
			fprintf(f, "#\n#\t(Accepted and checked; cuttle does "
			    "not act on it yet.)\n");
		fprintf(f, "#\n#Default:\n");
		if (d->dflt == NULL)
			fprintf(f, "# none\n");
		for (p = d->dflt; p != NULL; p = nl != NULL ? nl + 1 : NULL) {
			nl = strchr(p, '\n');
			fprintf(f, "# %s %.*s\n", d->name,
			    (int)(nl != NULL ? (size_t)(nl - p) : strlen(p)), p);
		}
	}
}
