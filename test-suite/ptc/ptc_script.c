/*
 * ptc_script.c - the .ptc language: lexer, macros, command dispatch,
 * expect, and the commands that are not about one actor.
 *
 * Syntax (README.md has the reference):
 *
 *	ptest "title"			first command of every script
 *	# comment			'#' at the start of a word
 *	cmd word "str\r\n" {block}	a command ends at a newline or ';'
 *	... \				backslash-newline continues a line
 *
 * A {block} is kept as raw text (braces balance, quoted strings and
 * comments inside are skipped) and lexed again when it runs, so macros
 * inside a block expand when its command runs, not when it is read.
 *
 *	ptc_lex()	text -> commands of words, all in the ctx's arena
 *	ptc_run_cmd()	${macros} expanded, the command looked up by the
 *			ctx's kind (top, client, server), traced, run
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ptc.h"

#define PTC_ALL		(PTC_TOP | PTC_CLIENT | PTC_SERVER)
#define PTC_SESS	(PTC_CLIENT | PTC_SERVER)

struct ptc_cmd_def {
	const char	*name;
	unsigned	kinds;
	ptc_cmd_fn	*fn;
};

static const struct ptc_cmd_def ptc_cmd_defs[] = {
	{ "ptest",		PTC_TOP,	ptc_cmd_ptest },
	{ "server",		PTC_TOP,	ptc_cmd_server },
	{ "client",		PTC_TOP,	ptc_cmd_client },
	{ "proxy",		PTC_TOP,	ptc_cmd_proxy },
	{ "port",		PTC_TOP,	ptc_cmd_port },
	{ "shell",		PTC_TOP,	ptc_cmd_shell },
	{ "feature",		PTC_TOP,	ptc_cmd_feature },
	{ "skip",		PTC_TOP,	ptc_cmd_skip },
	{ "barrier",		PTC_ALL,	ptc_cmd_barrier },
	{ "delay",		PTC_ALL,	ptc_cmd_delay },
	{ "loop",		PTC_ALL,	ptc_cmd_loop },
	{ "expect",		PTC_SESS,	ptc_cmd_expect },
	{ "send",		PTC_SESS,	ptc_cmd_send },
	{ "sendhex",		PTC_SESS,	ptc_cmd_sendhex },
	{ "recv",		PTC_SESS,	ptc_cmd_recv },
	{ "timeout",		PTC_SESS,	ptc_cmd_timeout },
	{ "close",		PTC_SESS,	ptc_cmd_close },
	{ "shutdown",		PTC_SESS,	ptc_cmd_shutdown },
	{ "reset",		PTC_SESS,	ptc_cmd_reset },
	{ "expect_close",	PTC_SESS,	ptc_cmd_expect_close },
	{ "peer_may_close",	PTC_SESS,	ptc_cmd_peer_may_close },
	{ "txreq",		PTC_CLIENT,	ptc_cmd_txreq },
	{ "rxresp",		PTC_CLIENT,	ptc_cmd_rxresp },
	{ "txresp",		PTC_SERVER,	ptc_cmd_txresp },
	{ "rxreq",		PTC_SERVER,	ptc_cmd_rxreq },
	{ "route",		PTC_SERVER,	ptc_cmd_route },
};

/* --- lexer -------------------------------------------------------------- */

struct lexer {
	struct ptc_ctx	*ctx;
	const char	*p;
	const char	*end;
	unsigned	line;
};

enum lex_res {
	LEX_EOF,
	LEX_SEP,	/* newline or ';' */
	LEX_WORD,
	LEX_CLOSE	/* '}' where a word would start */
};

static void PTC_NORETURN
lex_error(struct lexer *lx, unsigned line, const char *what)
{
	lx->ctx->line = line;
	ptc_error(lx->ctx, "syntax error: %s", what);
}

/* Blanks, comments and backslash-newlines before a word. */
static void
lex_skip(struct lexer *lx)
{
	for (;;) {
		if (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' ||
		    *lx->p == '\r'))
			lx->p++;
		else if (lx->p + 1 < lx->end && lx->p[0] == '\\' &&
		    (lx->p[1] == '\n' || (lx->p[1] == '\r' &&
		    lx->p + 2 < lx->end && lx->p[2] == '\n'))) {
			lx->p += lx->p[1] == '\n' ? 2 : 3;
			lx->line++;
		} else if (lx->p < lx->end && *lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else
			break;
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* A "string" with C escapes; with out == NULL it is only skipped. */
static size_t
lex_string(struct lexer *lx, char *out)
{
	unsigned line = lx->line;
	size_t n = 0;
	int c, h1, h2;

	lx->p++;
	for (;;) {
		if (lx->p >= lx->end || *lx->p == '\n')
			lex_error(lx, line, "unterminated string");
		c = (unsigned char)*lx->p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (lx->p >= lx->end)
				lex_error(lx, line, "unterminated string");
			c = (unsigned char)*lx->p++;
			switch (c) {
			case 'n':	c = '\n'; break;
			case 'r':	c = '\r'; break;
			case 't':	c = '\t'; break;
			case '0':	c = '\0'; break;
			case 'e':	c = 0x1b; break;
			case '\\': case '"': case '\'':
				break;
			case 'x':
				h1 = lx->p + 1 < lx->end ? hexval(lx->p[0]) :
				    -1;
				h2 = h1 >= 0 ? hexval(lx->p[1]) : -1;
				if (h2 < 0)
					lex_error(lx, line, "\\x needs two hex "
					    "digits");
				c = h1 * 16 + h2;
				lx->p += 2;
				break;
			default:
				lex_error(lx, line, "unknown escape in string");
			}
		}
		if (out != NULL)
			out[n] = (char)c;
		n++;
	}
	if (lx->p < lx->end && strchr(" \t\r\n;}", *lx->p) == NULL)
		lex_error(lx, line, "a string must end its word");
	return (n);
}

/* The next word, separator or closing brace.  With keep false nothing is
 * allocated: that is how a block is skipped to its closing brace. */
static enum lex_res
lex_next(struct lexer *lx, struct ptc_tok *tok, bool keep)
{
	struct lexer save;
	struct ptc_tok inner;
	const char *start;
	enum lex_res r;
	unsigned line;
	char *out;
	size_t n;

	lex_skip(lx);
	if (lx->p >= lx->end)
		return (LEX_EOF);
	switch (*lx->p) {
	case '\n':
		lx->p++;
		lx->line++;
		return (LEX_SEP);
	case ';':
		lx->p++;
		return (LEX_SEP);
	case '}':
		lx->p++;
		return (LEX_CLOSE);
	case '{':
		line = lx->line;
		start = ++lx->p;
		do {
			r = lex_next(lx, &inner, false);
			if (r == LEX_EOF)
				lex_error(lx, line, "unterminated {");
		} while (r != LEX_CLOSE);
		if (keep) {
			tok->s = ptc_strndup(&lx->ctx->arena, start,
			    (size_t)(lx->p - 1 - start));
			tok->len = (size_t)(lx->p - 1 - start);
		}
		tok->line = line;
		tok->block = true;
		return (LEX_WORD);
	case '"':
		tok->line = lx->line;
		tok->block = false;
		if (!keep) {
			lex_string(lx, NULL);
			return (LEX_WORD);
		}
		save = *lx;
		n = lex_string(lx, NULL);
		*lx = save;
		out = ptc_alloc(&lx->ctx->arena, n + 1);
		lex_string(lx, out);
		out[n] = '\0';
		tok->s = out;
		tok->len = n;
		return (LEX_WORD);
	default:
		break;
	}
	/* A bare word: up to a blank, separator or '}', with ${...} whole. */
	tok->line = lx->line;
	tok->block = false;
	start = lx->p;
	while (lx->p < lx->end && strchr(" \t\r\n;}", *lx->p) == NULL) {
		if (lx->p[0] == '$' && lx->p + 1 < lx->end && lx->p[1] == '{') {
			while (lx->p < lx->end && *lx->p != '}' &&
			    *lx->p != '\n')
				lx->p++;
			if (lx->p >= lx->end || *lx->p != '}')
				lex_error(lx, tok->line, "unterminated ${");
		}
		lx->p++;
	}
	if (keep) {
		tok->s = ptc_strndup(&lx->ctx->arena, start,
		    (size_t)(lx->p - start));
		tok->len = (size_t)(lx->p - start);
	}
	return (LEX_WORD);
}

void
ptc_lex(struct ptc_ctx *ctx, const struct ptc_tok *block,
    struct ptc_cmd **cmdsp, size_t *ncmdsp)
{
	struct lexer lx = { .ctx = ctx, .p = block->s,
	    .end = block->s + block->len, .line = block->line };
	struct ptc_cmd *cmds = NULL, *ncmds_arr;
	struct ptc_tok *argv = NULL, *nargv;
	size_t ncmds = 0, capc = 0;
	int argc = 0, capa = 0;
	struct ptc_tok tok;
	enum lex_res r;

	do {
		r = lex_next(&lx, &tok, true);
		if (r == LEX_CLOSE)
			lex_error(&lx, lx.line, "unbalanced }");
		if (r == LEX_WORD) {
			if (argc == capa) {
				capa = capa == 0 ? 8 : capa * 2;
				nargv = ptc_alloc(&ctx->arena,
				    (size_t)capa * sizeof *nargv);
				if (argc > 0)
					memcpy(nargv, argv,
					    (size_t)argc * sizeof *argv);
				argv = nargv;
			}
			argv[argc++] = tok;
			continue;
		}
		if (argc == 0)
			continue;
		if (argv[0].block)
			lex_error(&lx, argv[0].line, "a command cannot start "
			    "with a block");
		if (ncmds == capc) {
			capc = capc == 0 ? 16 : capc * 2;
			ncmds_arr = ptc_alloc(&ctx->arena,
			    capc * sizeof *ncmds_arr);
			if (ncmds > 0)
				memcpy(ncmds_arr, cmds, ncmds * sizeof *cmds);
			cmds = ncmds_arr;
		}
		cmds[ncmds].argv = argv;
		cmds[ncmds].argc = argc;
		cmds[ncmds].line = argv[0].line;
		ncmds++;
		argv = NULL;
		argc = capa = 0;
	} while (r != LEX_EOF);
	*cmdsp = cmds;
	*ncmdsp = ncmds;
}

/* --- macros and dispatch ------------------------------------------------ */

/* In a session, ${req.*} (server) and ${resp.*} (client) are the
 * variables of expect: an origin can echo what it was sent.  NULL for
 * any other name, or an absent header. */
static const char *
ptc_sess_macro(struct ptc_ctx *ctx, const char *name, size_t len)
{
	const char *n, *v;
	size_t vlen;

	if (ctx->sess == NULL || !((len > 4 && memcmp(name, "req.", 4) ==
	    0) || (len > 5 && memcmp(name, "resp.", 5) == 0)))
		return (NULL);
	n = ptc_strndup(&ctx->arena, name, len);
	v = ptc_sess_var(ctx->sess, n, &vlen);
	return (v != NULL ? ptc_strndup(&ctx->arena, v, vlen) : NULL);
}

struct ptc_tok
ptc_expand(struct ptc_ctx *ctx, const struct ptc_tok *tok)
{
	struct ptc_tok out = *tok;
	struct ptc_buf b = { 0 };
	const char *p, *end, *close, *v;

	if (tok->block || memmem(tok->s, tok->len, "${", 2) == NULL)
		return (out);
	p = tok->s;
	end = tok->s + tok->len;
	while (p < end) {
		if (p + 1 < end && p[0] == '$' && p[1] == '{') {
			close = memchr(p, '}', (size_t)(end - p));
			if (close == NULL) {
				ptc_buf_free(&b);
				ptc_error(ctx, "unterminated ${ in %s",
				    ptc_quote(ctx, tok->s, tok->len, 80));
			}
			v = ptc_sess_macro(ctx, p + 2, (size_t)(close - p - 2));
			if (v == NULL)
				v = ptc_macro_get(ctx, p + 2,
				    (size_t)(close - p - 2));
			if (v == NULL) {
				ptc_buf_free(&b);
				ptc_error(ctx, "undefined macro ${%.*s}",
				    (int)(close - p - 2), p + 2);
			}
			ptc_buf_add(&b, v, strlen(v));
			p = close + 1;
		} else
			ptc_buf_add(&b, p++, 1);
	}
	out.s = ptc_strndup(&ctx->arena, b.p, b.len);
	out.len = b.len;
	ptc_buf_free(&b);
	return (out);
}

/* "txreq -url /a -hdr {...}" for the trace, cut to a line. */
static const char *
cmd_text(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_buf b = { 0 };
	const char *q;
	int i;

	for (i = 0; i < argc && b.len < 160; i++) {
		if (i > 0)
			ptc_buf_add(&b, " ", 1);
		if (argv[i].block)
			ptc_buf_add(&b, "{...}", 5);
		else if (i > 0 && (argv[i].len == 0 ||
		    strpbrk(argv[i].s, " \t\r\n\"") != NULL ||
		    strlen(argv[i].s) != argv[i].len)) {
			q = ptc_quote(ctx, argv[i].s, argv[i].len, 60);
			ptc_buf_add(&b, q, strlen(q));
		} else
			ptc_buf_add(&b, argv[i].s,
			    argv[i].len > 60 ? 60 : argv[i].len);
	}
	q = ptc_strndup(&ctx->arena, b.p != NULL ? b.p : "", b.len);
	ptc_buf_free(&b);
	return (q);
}

void
ptc_run_cmd(struct ptc_ctx *ctx, const struct ptc_cmd *cmd)
{
	const struct ptc_cmd_def *d = NULL;
	struct ptc_tok *argv;
	size_t i;
	int j;

	ctx->line = cmd->line;
	argv = ptc_alloc(&ctx->arena, (size_t)cmd->argc * sizeof *argv);
	for (j = 0; j < cmd->argc; j++)
		argv[j] = ptc_expand(ctx, &cmd->argv[j]);
	for (i = 0; i < sizeof ptc_cmd_defs / sizeof ptc_cmd_defs[0]; i++)
		if (ptc_tok_is(&argv[0], ptc_cmd_defs[i].name)) {
			d = &ptc_cmd_defs[i];
			break;
		}
	if (d == NULL)
		ptc_error(ctx, "unknown command %s",
		    ptc_quote(ctx, argv[0].s, argv[0].len, 40));
	if ((d->kinds & ctx->kind) == 0)
		ptc_error(ctx, "%s is not allowed %s", d->name,
		    ctx->kind == PTC_TOP ? "at the top level" :
		    ctx->kind == PTC_CLIENT ? "in a client" : "in a server");
	ptc_log(ctx, "[%u] %s", cmd->line, cmd_text(ctx, cmd->argc, argv));
	d->fn(ctx, cmd->argc, argv);
}

void
ptc_run(struct ptc_ctx *ctx, const struct ptc_tok *block)
{
	struct ptc_cmd *cmds;
	size_t ncmds, i;

	if (!block->block)
		ptc_error(ctx, "expected a {block}");
	ptc_lex(ctx, block, &cmds, &ncmds);
	for (i = 0; i < ncmds; i++)
		ptc_run_cmd(ctx, &cmds[i]);
}

/* --- argument helpers --------------------------------------------------- */

bool
ptc_tok_is(const struct ptc_tok *t, const char *s)
{
	return (!t->block && t->len == strlen(s) && memcmp(t->s, s, t->len) ==
	    0);
}

void
ptc_need_args(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv,
    int i, int n)
{
	if (i + n >= argc)
		ptc_error(ctx, "%s needs %d argument%s", argv[i].s, n,
		    n == 1 ? "" : "s");
}

unsigned long
ptc_arg_ulong(struct ptc_ctx *ctx, const struct ptc_tok *t)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(t->s, &end, 10);
	if (t->block || t->len == 0 || !isdigit((unsigned char)t->s[0]) ||
	    *end != '\0' || errno != 0)
		ptc_error(ctx, "expected a number, got %s",
		    ptc_quote(ctx, t->s, t->len, 40));
	return (v);
}

double
ptc_arg_seconds(struct ptc_ctx *ctx, const struct ptc_tok *t)
{
	double v;
	char *end;

	v = strtod(t->s, &end);
	if (t->block || t->len == 0 || *end != '\0' || !(v >= 0) || v > 3600)
		ptc_error(ctx, "expected seconds, got %s",
		    ptc_quote(ctx, t->s, t->len, 40));
	return (v);
}

const char *
ptc_quote(struct ptc_ctx *ctx, const char *p, size_t len, size_t max)
{
	struct ptc_buf b = { 0 };
	const char *q;
	size_t i;
	unsigned char c;

	if (p == NULL)
		return ("<undef>");
	ptc_buf_add(&b, "\"", 1);
	for (i = 0; i < len && i < max; i++) {
		c = (unsigned char)p[i];
		switch (c) {
		case '\r':	ptc_buf_add(&b, "\\r", 2); break;
		case '\n':	ptc_buf_add(&b, "\\n", 2); break;
		case '\t':	ptc_buf_add(&b, "\\t", 2); break;
		case '"':	ptc_buf_add(&b, "\\\"", 2); break;
		case '\\':	ptc_buf_add(&b, "\\\\", 2); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				ptc_buf_printf(&b, "\\x%02x", c);
			else
				ptc_buf_add(&b, &p[i], 1);
		}
	}
	ptc_buf_add(&b, "\"", 1);
	if (len > max)
		ptc_buf_printf(&b, "... (%zu bytes)", len);
	q = ptc_strndup(&ctx->arena, b.p, b.len);
	ptc_buf_free(&b);
	return (q);
}

/* --- expect ------------------------------------------------------------- */

static bool
is_number(const char *s, double *v)
{
	char *end;

	if (*s == '\0')
		return (false);
	*v = strtod(s, &end);
	return (*end == '\0');
}

bool
ptc_compare(struct ptc_ctx *ctx, const char *lhs, size_t lhslen,
    const struct ptc_tok *op, const struct ptc_tok *rhs)
{
	bool rundef, eq, match;
	double l, r;
	regex_t re;
	char err[128];
	int rc;

	rundef = ptc_tok_is(rhs, "<undef>");
	if (ptc_tok_is(op, "==") || ptc_tok_is(op, "!=")) {
		if (lhs == NULL || rundef)
			eq = lhs == NULL && rundef;
		else
			eq = lhslen == rhs->len && memcmp(lhs, rhs->s,
			    lhslen) == 0;
		return (ptc_tok_is(op, "==") ? eq : !eq);
	}
	if (ptc_tok_is(op, "~") || ptc_tok_is(op, "!~")) {
		rc = regcomp(&re, rhs->s, REG_EXTENDED | REG_NOSUB |
		    REG_NEWLINE);
		if (rc != 0) {
			regerror(rc, &re, err, sizeof err);
			ptc_error(ctx, "bad regular expression %s: %s",
			    ptc_quote(ctx, rhs->s, rhs->len, 80), err);
		}
		match = lhs != NULL && regexec(&re, lhs, 0, NULL, 0) == 0;
		regfree(&re);
		return (ptc_tok_is(op, "~") ? match : !match);
	}
	if (!ptc_tok_is(op, "<") && !ptc_tok_is(op, ">") &&
	    !ptc_tok_is(op, "<=") && !ptc_tok_is(op, ">="))
		ptc_error(ctx, "unknown operator %s (== != ~ !~ < > <= >=)",
		    ptc_quote(ctx, op->s, op->len, 10));
	if (!is_number(rhs->s, &r))
		ptc_error(ctx, "%s needs a number, got %s", op->s,
		    ptc_quote(ctx, rhs->s, rhs->len, 40));
	if (lhs == NULL || !is_number(lhs, &l))
		return (false);
	if (ptc_tok_is(op, "<"))
		return (l < r);
	if (ptc_tok_is(op, ">"))
		return (l > r);
	if (ptc_tok_is(op, "<="))
		return (l <= r);
	return (l >= r);
}

/* expect VAR OP VALUE */
void
ptc_cmd_expect(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_sess *s = ptc_sess_of(ctx);
	const char *v;
	size_t len;

	if (argc != 4)
		ptc_error(ctx, "usage: expect VARIABLE OP VALUE");
	v = ptc_sess_var(s, argv[1].s, &len);
	if (!ptc_compare(ctx, v, len, &argv[2], &argv[3]))
		ptc_fail(ctx, "expect %s %s %s failed: got %s", argv[1].s,
		    argv[2].s, ptc_quote(ctx, argv[3].s, argv[3].len, 200),
		    ptc_quote(ctx, v, len, 400));
	ptc_log(ctx, "     ok: %s is %s", argv[1].s,
	    ptc_quote(ctx, v, len, 80));
}

/* --- top-level and common commands -------------------------------------- */

void
ptc_cmd_ptest(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	static bool seen;

	if (seen)
		ptc_error(ctx, "ptest must appear once, first");
	seen = true;
	if (argc != 2 || argv[1].block)
		ptc_error(ctx, "usage: ptest \"title\"");
	ptc_title(argv[1].s);
}

void
ptc_cmd_delay(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	if (argc != 2)
		ptc_error(ctx, "usage: delay SECONDS");
	ptc_sleep(ctx, ptc_arg_seconds(ctx, &argv[1]));
}

/* loop N {block}: the block's allocations go at the end of each turn. */
void
ptc_cmd_loop(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_chunk *mark;
	unsigned long n, i;
	unsigned line = ctx->line;

	if (argc != 3 || !argv[2].block)
		ptc_error(ctx, "usage: loop N {block}");
	n = ptc_arg_ulong(ctx, &argv[1]);
	mark = ptc_arena_mark(&ctx->arena);
	for (i = 0; i < n; i++) {
		ptc_run(ctx, &argv[2]);
		ptc_arena_release(&ctx->arena, mark);
		ctx->line = line;
	}
}

void
ptc_cmd_skip(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	if (argc != 2)
		ptc_error(ctx, "usage: skip \"reason\"");
	ptc_skip(ctx, argv[1].s);
}

/* Run "/bin/sh -c cmd" with its output in a file of the tmpdir. */
static int
run_shell(struct ptc_ctx *ctx, const char *cmd, double timeout,
    struct ptc_buf *out)
{
	static unsigned seq;
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	char *path;
	char tmp[4096];
	ssize_t n;
	pid_t pid;
	int status, fd;

	path = ptc_asprintf(&ctx->arena, "%s/shell.%u.out", ptc_tmpdir(),
	    ++seq);
	pid = ptc_spawn(ctx, "/bin/sh", argv, path, true);
	status = ptc_wait_pid(ctx, pid, timeout);
	if (status == -1) {
		ptc_log(ctx, "     still running after %.1f s: killed",
		    timeout);
		ptc_kill_group(pid);
		ptc_fail(ctx, "shell: no exit within %.1f s: %s", timeout,
		    cmd);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd != -1) {
		while ((n = read(fd, tmp, sizeof tmp)) > 0)
			ptc_buf_add(out, tmp, (size_t)n);
		close(fd);
	}
	if (out->p == NULL)
		ptc_buf_add(out, "", 0);
	return (status);
}

/* shell [-exit N] [-expect TEXT]... [-match REGEX] [-timeout S] CMD */
void
ptc_cmd_shell(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_buf out = { 0 };
	struct ptc_tok op = { .s = "~", .len = 1 };
	const struct ptc_tok *match = NULL, *cmd = NULL;
	const char **expects;
	unsigned long want = 0;
	double timeout = PTC_IO_TIMEOUT;
	struct ptc_tok body;
	int i, nexp = 0, status;
	char *text;

	expects = ptc_alloc(&ctx->arena, (size_t)argc * sizeof *expects);
	for (i = 1; i < argc; i++) {
		if (ptc_tok_is(&argv[i], "-exit")) {
			ptc_need_args(ctx, argc, argv, i, 1);
			want = ptc_arg_ulong(ctx, &argv[++i]);
		} else if (ptc_tok_is(&argv[i], "-expect")) {
			ptc_need_args(ctx, argc, argv, i, 1);
			expects[nexp++] = argv[++i].s;
		} else if (ptc_tok_is(&argv[i], "-match")) {
			ptc_need_args(ctx, argc, argv, i, 1);
			match = &argv[++i];
		} else if (ptc_tok_is(&argv[i], "-timeout")) {
			ptc_need_args(ctx, argc, argv, i, 1);
			timeout = ptc_arg_seconds(ctx, &argv[++i]);
		} else if (cmd == NULL && (argv[i].block ||
		    argv[i].s[0] != '-'))
			cmd = &argv[i];
		else
			ptc_error(ctx, "shell: unknown option %s", argv[i].s);
	}
	if (cmd == NULL)
		ptc_error(ctx, "usage: shell [-exit N] [-expect TEXT] "
		    "[-match REGEX] [-timeout S] COMMAND");
	if (cmd->block) {
		body = *cmd;
		body.block = false;
		body = ptc_expand(ctx, &body);
		text = ptc_strndup(&ctx->arena, body.s, body.len);
	} else
		text = ptc_strndup(&ctx->arena, cmd->s, cmd->len);
	status = run_shell(ctx, text, timeout, &out);
	if (!WIFEXITED(status) || (unsigned long)WEXITSTATUS(status) != want) {
		ptc_log(ctx, "     output:\n%s", out.p);
		ptc_fail(ctx, "shell: expected exit %lu, got %s", want,
		    ptc_status_text(ctx, status));
	}
	for (i = 0; i < nexp; i++)
		if (strstr(out.p, expects[i]) == NULL) {
			ptc_log(ctx, "     output:\n%s", out.p);
			ptc_fail(ctx, "shell: output lacks %s",
			    ptc_quote(ctx, expects[i], strlen(expects[i]),
			    200));
		}
	if (match != NULL && !ptc_compare(ctx, out.p, out.len, &op, match)) {
		ptc_log(ctx, "     output:\n%s", out.p);
		ptc_fail(ctx, "shell: output does not match %s",
		    ptc_quote(ctx, match->s, match->len, 200));
	}
	ptc_log(ctx, "     ok: exit %lu, %zu bytes of output", want, out.len);
	ptc_buf_free(&out);
}

/* feature cmd "COMMAND": skip the test unless COMMAND succeeds. */
void
ptc_cmd_feature(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_buf out = { 0 };
	int status;

	if (argc != 3 || !ptc_tok_is(&argv[1], "cmd"))
		ptc_error(ctx, "usage: feature cmd \"COMMAND\"");
	status = run_shell(ctx, argv[2].s, PTC_IO_TIMEOUT, &out);
	ptc_buf_free(&out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		ptc_skip(ctx, ptc_asprintf(&ctx->arena, "feature cmd \"%s\" "
		    "failed (%s)", argv[2].s, ptc_status_text(ctx, status)));
}

/* --- barriers ----------------------------------------------------------- */

struct ptc_barrier {
	struct ptc_barrier	*next;
	char			*name;
	unsigned		need;
	unsigned		waiting;
	unsigned		gen;
	pthread_mutex_t		mtx;
	pthread_cond_t		cond;
};

static struct {
	pthread_mutex_t		mtx;
	struct ptc_barrier	*list;
} barriers = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static struct ptc_barrier *
barrier_find(const char *name)
{
	struct ptc_barrier *b;

	pthread_mutex_lock(&barriers.mtx);
	for (b = barriers.list; b != NULL; b = b->next)
		if (strcmp(b->name, name) == 0)
			break;
	pthread_mutex_unlock(&barriers.mtx);
	return (b);
}

static void
barrier_sync(struct ptc_ctx *ctx, struct ptc_barrier *b)
{
	struct ptc_sess *s = ctx->sess;
	double deadline;
	struct timespec ts;
	unsigned gen, waiting;

	deadline = ptc_now() + (s != NULL ? s->timeout : PTC_IO_TIMEOUT);
	pthread_mutex_lock(&b->mtx);
	gen = b->gen;
	if (++b->waiting == b->need) {
		b->waiting = 0;
		b->gen++;
		pthread_cond_broadcast(&b->cond);
		pthread_mutex_unlock(&b->mtx);
		return;
	}
	/* Short waits, so a stopping server unwinds without the lock. */
	while (b->gen == gen) {
		waiting = b->waiting;
		if (ptc_now() >= deadline) {
			pthread_mutex_unlock(&b->mtx);
			ptc_fail(ctx, "barrier %s: timed out with %u of %u "
			    "waiting", b->name, waiting, b->need);
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 50000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&b->cond, &b->mtx, &ts);
		pthread_mutex_unlock(&b->mtx);
		ptc_sess_check_stop(ctx);
		pthread_mutex_lock(&b->mtx);
	}
	pthread_mutex_unlock(&b->mtx);
}

/* barrier NAME -start N | -sync */
void
ptc_cmd_barrier(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	pthread_condattr_t ca;
	struct ptc_barrier *b;

	if (argc < 3)
		ptc_error(ctx, "usage: barrier NAME -start N | -sync");
	b = barrier_find(argv[1].s);
	if (ptc_tok_is(&argv[2], "-start") && argc == 4) {
		if (ctx->kind != PTC_TOP)
			ptc_error(ctx, "barrier -start is for the top level");
		if (b != NULL)
			ptc_error(ctx, "barrier %s exists", argv[1].s);
		b = calloc(1, sizeof *b);
		if (b == NULL || (b->name = strdup(argv[1].s)) == NULL)
			ptc_error(ctx, "out of memory");
		b->need = (unsigned)ptc_arg_ulong(ctx, &argv[3]);
		if (b->need < 1)
			ptc_error(ctx, "a barrier needs 1 or more");
		pthread_mutex_init(&b->mtx, NULL);
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&b->cond, &ca);
		pthread_condattr_destroy(&ca);
		pthread_mutex_lock(&barriers.mtx);
		b->next = barriers.list;
		barriers.list = b;
		pthread_mutex_unlock(&barriers.mtx);
	} else if (ptc_tok_is(&argv[2], "-sync") && argc == 3) {
		if (b == NULL)
			ptc_error(ctx, "no barrier %s (barrier %s -start N)",
			    argv[1].s, argv[1].s);
		barrier_sync(ctx, b);
	} else
		ptc_error(ctx, "usage: barrier NAME -start N | -sync");
}

void
ptc_barrier_free_all(void)
{
	struct ptc_barrier *b;

	while ((b = barriers.list) != NULL) {
		barriers.list = b->next;
		pthread_mutex_destroy(&b->mtx);
		pthread_cond_destroy(&b->cond);
		free(b->name);
		free(b);
	}
}
