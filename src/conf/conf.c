/*
 * conf.c - tokenizer and directive dispatch for cuttle.conf.
 *
 * The directive table is directives.def; each row names a parser here.
 * A parser gets the directive's argument text (trimmed, comment removed)
 * and reports problems through conf_error(), which prints
 *
 *	cuttle.conf:12: http_port: bad port "99999"
 *	    expected: http_port [address:]port
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "conf/conf.h"

struct conf_directive;

/* Where a directive came from, for messages. */
struct conf_ctx {
	struct conf			*conf;
	const char			*file;
	unsigned			line;
	const struct conf_directive	*dir;
	int				errors;
};

typedef int conf_parse_fn(struct conf_ctx *ctx, const char *args);

struct conf_directive {
	const char	*name;
	conf_parse_fn	*parse;
	size_t		field;		/* offsetof(struct conf, ...) */
	const char	*dflt;
	const char	*syntax;
	const char	*doc;
};

#define DIRECTIVE(name, parser, field, dflt, syntax, doc)		\
	static conf_parse_fn conf_parse_##parser;
#include "conf/directives.def"
#undef DIRECTIVE

static const struct conf_directive conf_directives[] = {
#define DIRECTIVE(name, parser, field, dflt, syntax, doc)		\
	{ #name, conf_parse_##parser, offsetof(struct conf, field), dflt,	\
	    syntax, doc },
#include "conf/directives.def"
#undef DIRECTIVE
};

_Static_assert(ARRAY_LEN(conf_directives) <= 8 * sizeof(unsigned) * 8,
    "struct conf.seen is too small for the directive table");

static void conf_error(struct conf_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
conf_error(struct conf_ctx *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ctx->errors++;
	log_msg(LG_ERR, SEC_CONF, "%s:%u: %s: %s", ctx->file, ctx->line,
	    ctx->dir->name, msg);
	log_msg(LG_ERR, SEC_CONF, "    expected: %s", ctx->dir->syntax);
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

	if (*cp == NULL)
		return;
	TAKE_OBJ_NOTNULL(c, cp, CONF_MAGIC);
	free(c->ports);
	free(c->visible_hostname);
	free(c->debug_options);
	FREE_OBJ(c);
}

/* "[v6]:port", "v4:port", ":port" or "port"; numeric addresses only. */
static int
conf_parse_port(struct conf_ctx *ctx, const char *args)
{
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *p, *colon, *opt;
	struct conf_port port, *ports;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	unsigned long num;
	size_t hlen;

	memset(&port, 0, sizeof port);
	opt = args + strcspn(args, " \t");
	if (args[0] == '[') {
		colon = strstr(args, "]:");
		if (colon == NULL || colon > opt) {
			conf_error(ctx, "bad address \"%.*s\"",
			    (int)(opt - args), args);
			return (-1);
		}
		p = colon + 2;
		hlen = (size_t)(colon - args - 1);
		if (hlen >= sizeof host)
			hlen = sizeof host - 1;
		memcpy(host, args + 1, hlen);
		host[hlen] = '\0';
	} else {
		colon = memchr(args, ':', (size_t)(opt - args));
		p = colon != NULL ? colon + 1 : args;
		hlen = colon != NULL ? (size_t)(colon - args) : 0;
		if (hlen >= sizeof host)
			hlen = sizeof host - 1;
		memcpy(host, args, hlen);
		host[hlen] = '\0';
	}
	errno = 0;
	num = isdigit((unsigned char)*p) ? strtoul(p, &end, 10) : 0;
	if (!isdigit((unsigned char)*p) || end != opt || num == 0 ||
	    num > 65535) {
		conf_error(ctx, "bad port \"%.*s\"", (int)(opt - p), p);
		return (-1);
	}
	if (args[0] == '[') {
		sin6 = (struct sockaddr_in6 *)&port.addr;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)num);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			conf_error(ctx, "bad IPv6 address \"%s\"", host);
			return (-1);
		}
		port.addrlen = sizeof *sin6;
	} else {
		sin = (struct sockaddr_in *)&port.addr;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)num);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		if (host[0] != '\0' &&
		    inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			conf_error(ctx, "bad IPv4 address \"%s\" (names are "
			    "not resolved here; use a numeric address)", host);
			return (-1);
		}
		port.addrlen = sizeof *sin;
	}
	while (*opt == ' ' || *opt == '\t')
		opt++;
	if (*opt != '\0')
		log_msg(LG_WARN, SEC_CONF, "%s:%u: http_port: options \"%s\" "
		    "are not supported yet and are ignored", ctx->file,
		    ctx->line, opt);
	ports = realloc(ctx->conf->ports,
	    (ctx->conf->nports + 1) * sizeof *ports);
	if (ports == NULL) {
		conf_error(ctx, "out of memory");
		return (-1);
	}
	ports[ctx->conf->nports++] = port;
	ctx->conf->ports = ports;
	return (0);
}

/* Keep the argument text in the directive's char * field. */
static int
conf_set_string(struct conf_ctx *ctx, const char *args)
{
	char **slot;

	slot = (char **)(void *)((char *)ctx->conf + ctx->dir->field);
	free(*slot);
	*slot = strdup(args);
	if (*slot == NULL) {
		conf_error(ctx, "out of memory");
		return (-1);
	}
	return (0);
}

/* The directive's one word; a second word is an error. */
static int
conf_parse_string(struct conf_ctx *ctx, const char *args)
{
	if (args[strcspn(args, " \t")] != '\0') {
		conf_error(ctx, "expected one word, got \"%s\"", args);
		return (-1);
	}
	return (conf_set_string(ctx, args));
}

static int
conf_parse_debug(struct conf_ctx *ctx, const char *args)
{
	const char *bad = NULL;

	if (log_parse_options(args, false, &bad) != 0) {
		conf_error(ctx, "bad section,level \"%.*s\"",
		    (int)strcspn(bad, " \t"), bad);
		return (-1);
	}
	return (conf_set_string(ctx, args));
}

static const struct conf_directive *
conf_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(conf_directives); i++)
		if (strlen(conf_directives[i].name) == len &&
		    memcmp(conf_directives[i].name, name, len) == 0)
			return (&conf_directives[i]);
	return (NULL);
}

static void
conf_mark_seen(struct conf *c, const struct conf_directive *d)
{
	size_t i = (size_t)(d - conf_directives);

	c->seen[i / 32] |= 1U << (i % 32);
}

static int
conf_is_seen(const struct conf *c, const struct conf_directive *d)
{
	size_t i = (size_t)(d - conf_directives);

	return ((c->seen[i / 32] >> (i % 32)) & 1);
}

/* One line: strip the comment and blanks, split name from arguments. */
static void
conf_line(struct conf_ctx *ctx, char *line)
{
	char *p, *name, *end;
	size_t nlen;

	p = strchr(line, '#');
	if (p != NULL)
		*p = '\0';
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	name = line;
	while (isspace((unsigned char)*name))
		name++;
	if (*name == '\0')
		return;
	nlen = strcspn(name, " \t");
	p = name + nlen;
	while (*p == ' ' || *p == '\t')
		p++;
	ctx->dir = conf_find(name, nlen);
	if (ctx->dir == NULL) {
		log_msg(LG_WARN, SEC_CONF, "%s:%u: unknown directive \"%.*s\" "
		    "ignored", ctx->file, ctx->line, (int)nlen, name);
		return;
	}
	if (*p == '\0') {
		conf_error(ctx, "missing value");
		return;
	}
	if (ctx->dir->parse(ctx, p) == 0)
		conf_mark_seen(ctx->conf, ctx->dir);
}

int
conf_load_string(struct conf *c, const char *name, const char *text)
{
	struct conf_ctx ctx = { .conf = c, .file = name };
	const char *p, *nl, *next;
	char *line;
	size_t len;

	CHECK_OBJ_NOTNULL(c, CONF_MAGIC);
	for (p = text; *p != '\0'; p = next) {
		ctx.line++;
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		next = p + len + (nl != NULL);
		line = strndup(p, len);
		if (line == NULL) {
			log_msg(LG_ERR, SEC_CONF, "%s: out of memory", name);
			return (ctx.errors + 1);
		}
		conf_line(&ctx, line);
		free(line);
	}
	return (ctx.errors);
}

int
conf_load(struct conf *c, const char *path)
{
	char *text;
	FILE *f;
	long len;
	int err, n;

	f = fopen(path, "r");
	if (f == NULL) {
		err = errno;
		log_msg(LG_ERR, SEC_CONF, "%s: cannot open: %s", path,
		    strerror(err));
		return (-err);
	}
	text = NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (text = malloc((size_t)len + 1)) != NULL &&
	    fread(text, 1, (size_t)len, f) == (size_t)len) {
		text[len] = '\0';
		fclose(f);
		n = conf_load_string(c, path, text);
		free(text);
		return (n);
	}
	err = errno != 0 ? errno : EIO;
	log_msg(LG_ERR, SEC_CONF, "%s: cannot read: %s", path, strerror(err));
	free(text);
	fclose(f);
	return (-err);
}

int
conf_finish(struct conf *c)
{
	struct conf_ctx ctx = { .conf = c, .file = "(built-in default)" };
	size_t i;

	CHECK_OBJ_NOTNULL(c, CONF_MAGIC);
	for (i = 0; i < ARRAY_LEN(conf_directives); i++) {
		ctx.dir = &conf_directives[i];
		if (ctx.dir->dflt == NULL || conf_is_seen(c, ctx.dir))
			continue;
		if (ctx.dir->parse(&ctx, ctx.dir->dflt) == 0)
			conf_mark_seen(c, ctx.dir);
	}
	return (ctx.errors);
}

void
conf_print_docs(FILE *f)
{
	size_t i;
	const struct conf_directive *d;

	fprintf(f, "# cuttle.conf.documented - every directive cuttle knows,"
	    " with its default.\n# Generated from src/conf/directives.def;"
	    " do not edit.\n");
	for (i = 0; i < ARRAY_LEN(conf_directives); i++) {
		d = &conf_directives[i];
		fprintf(f, "\n#  TAG: %s\n#\tSyntax: %s\n#\n#\t%s\n#\n",
		    d->name, d->syntax, d->doc);
		if (d->dflt != NULL)
			fprintf(f, "#Default:\n# %s %s\n", d->name, d->dflt);
		else
			fprintf(f, "#Default:\n# none\n");
	}
}
