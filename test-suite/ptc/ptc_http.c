/*
 * ptc_http.c - HTTP/1.x messages for ptc sessions: txreq and rxresp for
 * clients, rxreq and txresp for servers, and the req.* / resp.* variables.
 *
 * The reader is strict on purpose, since it judges what the proxy sends:
 * a head must use CRLF (no bare LF or CR), no obs-fold, no message with
 * both Transfer-Encoding and Content-Length, no differing Content-Length
 * values.  A body is framed by chunked coding, Content-Length, or (for a
 * response) the connection closing; HEAD and -no_obj, 1xx, 204 and 304
 * have none.  A body cut short by EOF or a reset fails the script unless
 * the command says -truncated, which then requires it to be cut short.
 *
 * The writer is lax on purpose, since it plays misbehaving peers: -hdr
 * lines go out as written, framing headers are added unless -nolen, and
 * -closeafter/-resetafter cut the body on the wire.
 *
 *	rx: http_rx() -> head_end(), msg_parse_head(), msg_read_body()
 *	tx: tx_parse() -> tx_build() -> tx_send()
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ptc.h"

#define PTC_MAX_LINE	8192

static const char *const synth_pattern = "abcdefghijklmnopqrstuvwxyz";

void
ptc_msg_reset(struct ptc_msg *m)
{
	free(m->head);
	free(m->hdr);
	ptc_buf_free(&m->body);
	memset(m, 0, sizeof *m);
}

/* All values of a header joined by ", " (RFC 9110 5.3), or NULL. */
const char *
ptc_msg_header(struct ptc_ctx *ctx, const struct ptc_msg *m,
    const char *name)
{
	struct ptc_buf b = { 0 };
	const char *v;
	size_t i;
	bool found = false;

	for (i = 0; i < m->nhdr; i++) {
		if (strcasecmp(m->hdr[i].name, name) != 0)
			continue;
		if (found)
			ptc_buf_add(&b, ", ", 2);
		ptc_buf_add(&b, m->hdr[i].value, strlen(m->hdr[i].value));
		found = true;
	}
	if (!found)
		return (NULL);
	v = ptc_strndup(&ctx->arena, b.p, b.len);
	ptc_buf_free(&b);
	return (v);
}

const char *
ptc_http_var(struct ptc_sess *s, const char *name, size_t *len)
{
	struct ptc_ctx *ctx = &s->ctx;
	const struct ptc_msg *m;
	const char *f, *v = NULL;
	bool isreq;

	if (strncmp(name, "req.", 4) == 0) {
		isreq = true;
		m = &s->req;
		f = name + 4;
	} else if (strncmp(name, "resp.", 5) == 0) {
		isreq = false;
		m = &s->resp;
		f = name + 5;
	} else
		ptc_error(ctx, "unknown variable %s", name);
	if (isreq != (ctx->kind == PTC_SERVER))
		ptc_error(ctx, "%s: a %s has no %s variables", name,
		    ctx->kind == PTC_SERVER ? "server" : "client",
		    isreq ? "req.*" : "resp.*");
	if (!m->present)
		ptc_error(ctx, "%s: no %s received yet", name,
		    isreq ? "request" : "response");
	if (strcmp(f, "method") == 0 && isreq)
		v = m->line[0];
	else if (strcmp(f, "url") == 0 && isreq)
		v = m->line[1];
	else if (strcmp(f, "proto") == 0)
		v = m->line[isreq ? 2 : 0];
	else if (strcmp(f, "status") == 0 && !isreq)
		v = m->line[1];
	else if (strcmp(f, "reason") == 0 && !isreq)
		v = m->line[2];
	else if (strcmp(f, "body") == 0) {
		*len = m->body.len;
		return (m->body.p != NULL ? m->body.p : "");
	} else if (strcmp(f, "bodylen") == 0) {
		*len = (size_t)snprintf(s->num, sizeof s->num, "%zu",
		    m->body.len);
		return (s->num);
	} else if (strncmp(f, "http.", 5) == 0 && f[5] != '\0')
		v = ptc_msg_header(ctx, m, f + 5);
	else
		ptc_error(ctx, "unknown variable %s", name);
	*len = v != NULL ? strlen(v) : 0;
	return (v);
}

/* --- reading ------------------------------------------------------------ */

/* Offset just past the empty line that ends a head, or 0. */
static size_t
head_end(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return (i + 2);
		if (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n')
			return (i + 3);
	}
	return (0);
}

static void
msg_parse_head(struct ptc_sess *s, struct ptc_msg *m, bool isreq,
    size_t hlen)
{
	struct ptc_ctx *ctx = &s->ctx;
	char *h, *line, *next, *sp1, *sp2, *colon, *v, *e;
	size_t i, nlines = 0;

	m->head = malloc(hlen + 1);
	if (m->head == NULL)
		ptc_error(ctx, "out of memory");
	memcpy(m->head, s->rx.p + s->rxoff, hlen);
	m->head[hlen] = '\0';
	s->rxoff += hlen;
	h = m->head;
	for (i = 0; i < hlen; i++) {
		if (h[i] == '\n' && (i == 0 || h[i - 1] != '\r'))
			ptc_fail(ctx, "bare LF in the %s head: %s",
			    isreq ? "request" : "response",
			    ptc_quote(ctx, h, hlen, 300));
		if (h[i] == '\r' && (i + 1 == hlen || h[i + 1] != '\n'))
			ptc_fail(ctx, "bare CR in the %s head: %s",
			    isreq ? "request" : "response",
			    ptc_quote(ctx, h, hlen, 300));
		if (h[i] == '\0')
			ptc_fail(ctx, "NUL in the %s head: %s",
			    isreq ? "request" : "response",
			    ptc_quote(ctx, h, hlen, 300));
		if (h[i] == '\n')
			nlines++;
	}
	m->hdr = calloc(nlines, sizeof *m->hdr);
	if (m->hdr == NULL)
		ptc_error(ctx, "out of memory");

	line = h;
	next = strstr(line, "\r\n");
	*next = '\0';
	next += 2;
	sp1 = strchr(line, ' ');
	sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	if (isreq && (sp1 == NULL || sp2 == NULL || sp1 == line ||
	    sp2 == sp1 + 1 || sp2[1] == '\0' || strchr(sp2 + 1, ' ') != NULL))
		ptc_fail(ctx, "malformed request line: %s",
		    ptc_quote(ctx, line, strlen(line), 200));
	if (!isreq && (sp1 == NULL || strncmp(line, "HTTP/", 5) != 0 ||
	    !isdigit((unsigned char)sp1[1]) ||
	    !isdigit((unsigned char)sp1[2]) ||
	    !isdigit((unsigned char)sp1[3]) ||
	    (sp1[4] != '\0' && sp1[4] != ' ')))
		ptc_fail(ctx, "malformed status line: %s",
		    ptc_quote(ctx, line, strlen(line), 200));
	*sp1 = '\0';
	m->line[0] = line;
	m->line[1] = sp1 + 1;
	if (sp2 != NULL) {
		*sp2 = '\0';
		m->line[2] = sp2 + 1;
	} else
		m->line[2] = "";

	/* The head ends with an empty line: "\r\n" where a line starts. */
	for (line = next; line[0] != '\r'; line = next) {
		next = strstr(line, "\r\n");
		*next = '\0';
		next += 2;
		if (*line == ' ' || *line == '\t')
			ptc_fail(ctx, "obs-fold (continuation line) in the "
			    "head: %s", ptc_quote(ctx, line, strlen(line),
			    200));
		colon = strchr(line, ':');
		if (colon == NULL || colon == line ||
		    strcspn(line, " \t") < (size_t)(colon - line))
			ptc_fail(ctx, "malformed header line: %s",
			    ptc_quote(ctx, line, strlen(line), 200));
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		m->hdr[m->nhdr].name = line;
		m->hdr[m->nhdr].value = v;
		m->nhdr++;
	}
	m->present = true;
}

/* Move n body bytes into m; false if the peer closed or reset first. */
static bool
rx_body_bytes(struct ptc_sess *s, struct ptc_msg *m, size_t n, int *err)
{
	size_t take;
	ssize_t r;

	for (;;) {
		take = ptc_sess_pending(s);
		if (take > n)
			take = n;
		ptc_buf_add(&m->body, s->rx.p + s->rxoff, take);
		s->rxoff += take;
		n -= take;
		if (n == 0)
			return (true);
		r = ptc_sess_fill(s, ptc_now() + s->timeout,
		    "reading the body");
		if (r == 0 || r == -ECONNRESET) {
			*err = (int)-r;
			return (false);
		}
		if (r < 0)
			ptc_fail(&s->ctx, "reading the body: %s",
			    strerror((int)-r));
	}
}

/* One CRLF-ended line of chunked framing into *line (arena). */
static bool
rx_line(struct ptc_sess *s, const char **line, int *err)
{
	const char *p, *nl;
	size_t len;
	ssize_t r;

	for (;;) {
		p = s->rx.p + s->rxoff;
		nl = memchr(p, '\n', ptc_sess_pending(s));
		if (nl != NULL) {
			len = (size_t)(nl - p);
			if (len == 0 || p[len - 1] != '\r')
				ptc_fail(&s->ctx, "bare LF in chunked "
				    "framing: %s", ptc_quote(&s->ctx, p,
				    len + 1, 100));
			*line = ptc_strndup(&s->ctx.arena, p, len - 1);
			s->rxoff += len + 1;
			return (true);
		}
		if (ptc_sess_pending(s) > PTC_MAX_LINE)
			ptc_fail(&s->ctx, "chunked framing line longer than "
			    "%d bytes", PTC_MAX_LINE);
		r = ptc_sess_fill(s, ptc_now() + s->timeout,
		    "reading chunked framing");
		if (r == 0 || r == -ECONNRESET) {
			*err = (int)-r;
			return (false);
		}
		if (r < 0)
			ptc_fail(&s->ctx, "reading the body: %s",
			    strerror((int)-r));
	}
}

static bool
rx_chunked(struct ptc_sess *s, struct ptc_msg *m, int *err)
{
	const char *line;
	unsigned long long size;
	char *end;

	m->chunked = true;
	for (;;) {
		if (!rx_line(s, &line, err))
			return (false);
		errno = 0;
		size = strtoull(line, &end, 16);
		while (*end == ' ' || *end == '\t')
			end++;
		if (!isxdigit((unsigned char)line[0]) || errno != 0 ||
		    (*end != '\0' && *end != ';'))
			ptc_fail(&s->ctx, "bad chunk size line: %s",
			    ptc_quote(&s->ctx, line, strlen(line), 100));
		if (size == 0)
			break;
		if (size > 1ULL << 32)
			ptc_fail(&s->ctx, "chunk of %llu bytes is too big",
			    size);
		if (!rx_body_bytes(s, m, (size_t)size, err))
			return (false);
		if (!rx_line(s, &line, err))
			return (false);
		if (*line != '\0')
			ptc_fail(&s->ctx, "no CRLF after chunk data: %s",
			    ptc_quote(&s->ctx, line, strlen(line), 100));
	}
	do {	/* trailer section, up to the empty line */
		if (!rx_line(s, &line, err))
			return (false);
	} while (*line != '\0');
	return (true);
}

static bool
rx_to_eof(struct ptc_sess *s, struct ptc_msg *m, int *err)
{
	ssize_t r;

	for (;;) {
		ptc_buf_add(&m->body, s->rx.p + s->rxoff, ptc_sess_pending(s));
		s->rxoff = s->rx.len;
		r = ptc_sess_fill(s, ptc_now() + s->timeout,
		    "reading a body that ends when the connection closes");
		if (r == 0)
			return (true);
		if (r == -ECONNRESET) {
			*err = ECONNRESET;
			return (false);
		}
		if (r < 0)
			ptc_fail(&s->ctx, "reading the body: %s",
			    strerror((int)-r));
	}
}

/* Content-Length: one value, or a list of equal ones. */
static size_t
parse_cl(struct ptc_ctx *ctx, const char *cl)
{
	unsigned long long v, first = 0;
	const char *p = cl;
	char *end;
	bool seen = false;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (!isdigit((unsigned char)*p) || errno != 0)
			ptc_fail(ctx, "bad Content-Length %s",
			    ptc_quote(ctx, cl, strlen(cl), 80));
		if (seen && v != first)
			ptc_fail(ctx, "differing Content-Length values %s",
			    ptc_quote(ctx, cl, strlen(cl), 80));
		first = v;
		seen = true;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			ptc_fail(ctx, "bad Content-Length %s",
			    ptc_quote(ctx, cl, strlen(cl), 80));
	}
	if (first > 1ULL << 32)
		ptc_fail(ctx, "Content-Length %llu is too big", first);
	return ((size_t)first);
}

/* Returns false (err set: 0 for EOF) when the body was cut short. */
static bool
msg_read_body(struct ptc_sess *s, struct ptc_msg *m, bool isreq,
    bool nobody, int *err, const char **framing)
{
	struct ptc_ctx *ctx = &s->ctx;
	const char *te, *cl, *last;
	int status;

	te = ptc_msg_header(ctx, m, "Transfer-Encoding");
	cl = ptc_msg_header(ctx, m, "Content-Length");
	*framing = "no body";
	if (te != NULL && cl != NULL)
		ptc_fail(ctx, "both Transfer-Encoding and Content-Length in "
		    "the %s", isreq ? "request" : "response");
	if (nobody)
		return (true);
	if (!isreq) {
		status = atoi(m->line[1]);
		if (status / 100 == 1 || status == 204 || status == 304)
			return (true);
	}
	if (te != NULL) {
		last = strrchr(te, ',');
		last = last != NULL ? last + 1 : te;
		while (*last == ' ' || *last == '\t')
			last++;
		if (strcasecmp(last, "chunked") == 0) {
			*framing = "chunked";
			return (rx_chunked(s, m, err));
		}
		if (isreq)
			ptc_fail(ctx, "request with Transfer-Encoding %s, "
			    "which does not end in chunked",
			    ptc_quote(ctx, te, strlen(te), 80));
		*framing = "until close";
		return (rx_to_eof(s, m, err));
	}
	if (cl != NULL) {
		*framing = ptc_asprintf(&ctx->arena, "Content-Length %zu",
		    parse_cl(ctx, cl));
		return (rx_body_bytes(s, m, parse_cl(ctx, cl), err));
	}
	if (isreq)
		return (true);
	*framing = "until close";
	return (rx_to_eof(s, m, err));
}

static void
http_rx(struct ptc_sess *s, struct ptc_msg *m, bool isreq, bool nobody,
    bool want_truncated)
{
	struct ptc_ctx *ctx = &s->ctx;
	const char *what = isreq ? "request" : "response", *framing;
	size_t hlen;
	ssize_t n;
	int err = 0;

	ptc_msg_reset(m);
	for (;;) {
		hlen = head_end(s->rx.p + s->rxoff, ptc_sess_pending(s));
		if (hlen > 0)
			break;
		if (ptc_sess_pending(s) > PTC_MAX_HEAD)
			ptc_fail(ctx, "%s head longer than %d bytes", what,
			    PTC_MAX_HEAD);
		n = ptc_sess_fill(s, ptc_now() + s->timeout, isreq ?
		    "waiting for a request" : "waiting for a response");
		if (n == 0 || n == -ECONNRESET) {
			if (ptc_sess_pending(s) == 0)
				ptc_fail(ctx, "the peer %s the connection "
				    "instead of sending a %s", n == 0 ?
				    "closed" : "reset", what);
			ptc_fail(ctx, "the peer %s the connection in the "
			    "middle of the %s head: %s", n == 0 ? "closed" :
			    "reset", what, ptc_quote(ctx, s->rx.p + s->rxoff,
			    ptc_sess_pending(s), 300));
		}
		if (n < 0)
			ptc_fail(ctx, "reading the %s: %s", what,
			    strerror((int)-n));
	}
	msg_parse_head(s, m, isreq, hlen);
	m->truncated = !msg_read_body(s, m, isreq, nobody, &err, &framing);
	ptc_log(ctx, "     %s %s %s, %zu header%s, body %zu bytes (%s%s)",
	    m->line[0], m->line[1], m->line[2], m->nhdr,
	    m->nhdr == 1 ? "" : "s", m->body.len, framing,
	    m->truncated ? (err != 0 ? ", cut by a reset" : ", cut by EOF") :
	    "");
	if (m->truncated && !want_truncated)
		ptc_fail(ctx, "the peer %s the connection after %zu body bytes "
		    "of the %s (%s)", err != 0 ? "reset" : "closed",
		    m->body.len, what, framing);
	if (!m->truncated && want_truncated)
		ptc_fail(ctx, "expected a truncated %s body, got all of it "
		    "(%zu bytes, %s)", what, m->body.len, framing);
}

/* Requests sent (client) or received (server) and not answered yet: a
 * FIFO of "was it HEAD", so a pipelined answer to HEAD has no body. */
static void
heads_push(struct ptc_sess *s, const char *method)
{
	if (s->nheads - s->headpos == sizeof s->heads)
		s->headpos++;	/* forget the oldest */
	s->heads[s->nheads++ % sizeof s->heads] = strcmp(method, "HEAD") == 0;
}

static bool
heads_pop(struct ptc_sess *s)
{
	if (s->headpos == s->nheads)
		return (false);
	return (s->heads[s->headpos++ % sizeof s->heads] != 0);
}

void
ptc_http_rxreq(struct ptc_sess *s, bool want_truncated)
{
	http_rx(s, &s->req, true, false, want_truncated);
	heads_push(s, s->req.line[0]);
	if (s->srv != NULL)
		ptc_server_count_request(s->srv);
}

/* rxreq [-truncated] */
void
ptc_cmd_rxreq(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	bool trunc = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (ptc_tok_is(&argv[i], "-truncated"))
			trunc = true;
		else
			ptc_error(ctx, "usage: rxreq [-truncated]");
	}
	ptc_http_rxreq(ptc_sess_of(ctx), trunc);
}

/* rxresp [-no_obj] [-truncated] */
void
ptc_cmd_rxresp(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_sess *s = ptc_sess_of(ctx);
	bool trunc = false, nobody = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (ptc_tok_is(&argv[i], "-truncated"))
			trunc = true;
		else if (ptc_tok_is(&argv[i], "-no_obj"))
			nobody = true;
		else
			ptc_error(ctx, "usage: rxresp [-no_obj] [-truncated]");
	}
	/* The oldest unanswered txreq decides whether a body follows. */
	if (heads_pop(s))
		nobody = true;
	http_rx(s, &s->resp, false, nobody, trunc);
}

/* --- writing ------------------------------------------------------------ */

struct tx {
	const char		*line[3];
	const struct ptc_tok	**hdr;
	int			nhdr;
	const char		*body;
	size_t			bodylen;
	bool			has_body;
	bool			synth;
	bool			chunked;
	size_t			chunksize;
	bool			nolen;
	bool			nohost;
	size_t			split;
	double			pause;
	long long		cut;		/* -1: none */
	bool			cut_reset;
};

static const char *
reason_of(unsigned status)
{
	static const struct {
		unsigned	status;
		const char	*reason;
	} tbl[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" },
		{ 204, "No Content" }, { 206, "Partial Content" },
		{ 301, "Moved Permanently" }, { 302, "Found" },
		{ 304, "Not Modified" }, { 307, "Temporary Redirect" },
		{ 400, "Bad Request" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 411, "Length Required" }, { 416, "Range Not Satisfiable" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};
	size_t i;

	for (i = 0; i < sizeof tbl / sizeof tbl[0]; i++)
		if (tbl[i].status == status)
			return (tbl[i].reason);
	return ("Unknown");
}

static void
tx_parse(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv,
    bool isreq, struct tx *t)
{
	const char *o;
	int i;

	memset(t, 0, sizeof *t);
	t->cut = -1;
	t->hdr = ptc_alloc(&ctx->arena, (size_t)argc * sizeof *t->hdr);
	if (isreq) {
		t->line[0] = "GET";
		t->line[1] = "/";
		t->line[2] = "HTTP/1.1";
	} else {
		t->line[0] = "HTTP/1.1";
		t->line[1] = "200";
		t->line[2] = NULL;
	}
	for (i = 1; i < argc; i++) {
		o = argv[i].s;
		if (argv[i].block)
			ptc_error(ctx, "%s: unexpected block", argv[0].s);
		if (ptc_pace_opt(ctx, argc, argv, &i, &t->split, &t->pause))
			continue;
		if (strcmp(o, "-chunked") == 0) {
			t->chunked = true;
			continue;
		}
		if (strcmp(o, "-nolen") == 0) {
			t->nolen = true;
			continue;
		}
		if (isreq && strcmp(o, "-nohost") == 0) {
			t->nohost = true;
			continue;
		}
		ptc_need_args(ctx, argc, argv, i, 1);
		if (isreq && strcmp(o, "-method") == 0)
			t->line[0] = argv[++i].s;
		else if (isreq && strcmp(o, "-url") == 0)
			t->line[1] = argv[++i].s;
		else if (!isreq && strcmp(o, "-status") == 0) {
			if (ptc_arg_ulong(ctx, &argv[++i]) > 999)
				ptc_error(ctx, "-status: three digits");
			t->line[1] = argv[i].s;
		} else if (!isreq && strcmp(o, "-reason") == 0)
			t->line[2] = argv[++i].s;
		else if (strcmp(o, "-proto") == 0)
			t->line[isreq ? 2 : 0] = argv[++i].s;
		else if (strcmp(o, "-hdr") == 0)
			t->hdr[t->nhdr++] = &argv[++i];
		else if (strcmp(o, "-body") == 0) {
			if (t->has_body)
				ptc_error(ctx, "one of -body and -bodylen");
			t->has_body = true;
			t->body = argv[++i].s;
			t->bodylen = argv[i].len;
		} else if (strcmp(o, "-bodylen") == 0) {
			if (t->has_body)
				ptc_error(ctx, "one of -body and -bodylen");
			t->has_body = true;
			t->synth = true;
			t->bodylen = ptc_arg_ulong(ctx, &argv[++i]);
			if (t->bodylen > 1UL << 30)
				ptc_error(ctx, "-bodylen: at most 1 GiB");
		} else if (strcmp(o, "-chunksize") == 0) {
			t->chunksize = ptc_arg_ulong(ctx, &argv[++i]);
			if (t->chunksize == 0)
				ptc_error(ctx, "-chunksize needs 1 or more");
		} else if (strcmp(o, "-closeafter") == 0 ||
		    strcmp(o, "-resetafter") == 0) {
			t->cut = (long long)ptc_arg_ulong(ctx, &argv[++i]);
			t->cut_reset = o[1] == 'r';
		} else
			ptc_error(ctx, "%s: unknown option %s", argv[0].s, o);
	}
	if (t->line[2] == NULL)
		t->line[2] = reason_of((unsigned)atoi(t->line[1]));
}

static bool
tx_has_header(const struct tx *t, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < t->nhdr; i++)
		if (t->hdr[i]->len > n && t->hdr[i]->s[n] == ':' &&
		    strncasecmp(t->hdr[i]->s, name, n) == 0)
			return (true);
	return (false);
}

/* Head into s->tx, body as it goes on the wire into s->txbody. */
static void
tx_build(struct ptc_sess *s, const struct tx *t, bool isreq, bool nobody)
{
	struct ptc_buf *h = &s->tx, *b = &s->txbody;
	const char *host, *slash, *body = t->body;
	size_t i, off, n, cs, hl;
	unsigned status;
	char *synth = NULL;

	ptc_buf_clear(h);
	ptc_buf_clear(b);
	ptc_buf_printf(h, "%s %s %s\r\n", t->line[0], t->line[1], t->line[2]);
	if (isreq && !t->nohost && !tx_has_header(t, "Host")) {
		host = strstr(t->line[1], "://");
		if (host != NULL && t->line[1][0] != '/') {
			host += 3;
			slash = strchr(host, '/');
			hl = slash != NULL ? (size_t)(slash - host) :
			    strlen(host);
			ptc_buf_printf(h, "Host: %.*s\r\n", (int)hl, host);
		} else
			ptc_buf_printf(h, "Host: %s\r\n", s->peer);
	}
	for (i = 0; i < (size_t)t->nhdr; i++) {
		ptc_buf_add(h, t->hdr[i]->s, t->hdr[i]->len);
		ptc_buf_add(h, "\r\n", 2);
	}
	status = isreq ? 0 : (unsigned)atoi(t->line[1]);
	if (t->chunked && !t->nolen)
		ptc_buf_printf(h, "Transfer-Encoding: chunked\r\n");
	else if (!t->chunked && !t->nolen && (isreq ? t->has_body :
	    status / 100 != 1 && status != 204 && status != 304))
		ptc_buf_printf(h, "Content-Length: %zu\r\n", t->bodylen);
	ptc_buf_add(h, "\r\n", 2);
	if (nobody)
		return;

	if (t->synth) {
		synth = ptc_alloc(&s->ctx.arena, t->bodylen + 1);
		for (i = 0; i < t->bodylen; i++)
			synth[i] = synth_pattern[i % 26];
		body = synth;
	}
	if (!t->chunked) {
		ptc_buf_add(b, body != NULL ? body : "", t->bodylen);
		return;
	}
	cs = t->chunksize > 0 ? t->chunksize : t->bodylen;
	for (off = 0; off < t->bodylen; off += n) {
		n = t->bodylen - off < cs ? t->bodylen - off : cs;
		ptc_buf_printf(b, "%zx\r\n", n);
		ptc_buf_add(b, body + off, n);
		ptc_buf_add(b, "\r\n", 2);
	}
	ptc_buf_add(b, "0\r\n\r\n", 5);
}

static void
tx_send(struct ptc_sess *s, const struct tx *t)
{
	size_t n = s->txbody.len;

	if (t->cut < 0 && t->split == 0) {
		ptc_buf_add(&s->tx, s->txbody.p, s->txbody.len);
		ptc_sess_send(s, s->tx.p, s->tx.len, 0, 0);
		ptc_log(&s->ctx, "     sent %zu bytes", s->tx.len);
		return;
	}
	ptc_sess_send(s, s->tx.p, s->tx.len, 0, 0);
	if (t->cut >= 0 && (unsigned long long)t->cut < n)
		n = (size_t)t->cut;
	ptc_sess_send(s, s->txbody.p, n, t->split, t->pause);
	ptc_log(&s->ctx, "     sent %zu bytes (head %zu, body %zu of %zu)",
	    s->tx.len + n, s->tx.len, n, s->txbody.len);
	if (t->cut >= 0) {
		ptc_log(&s->ctx, "     %s", t->cut_reset ? "reset" : "closed");
		ptc_sess_close(s, t->cut_reset);
	}
}

/* txreq [-method M] [-url U] [-proto P] [-hdr H]... [-body B | -bodylen N]
 *       [-chunked [-chunksize N]] [-nolen] [-nohost] [-split N]
 *       [-bytedelay S] [-closeafter N | -resetafter N] */
void
ptc_cmd_txreq(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_sess *s = ptc_sess_of(ctx);
	struct tx t;

	tx_parse(ctx, argc, argv, true, &t);
	tx_build(s, &t, true, false);
	heads_push(s, t.line[0]);
	tx_send(s, &t);
}

/* txresp [-status N] [-reason R] [-proto P] [-hdr H]... [-body B |
 *        -bodylen N] [-chunked [-chunksize N]] [-nolen] [-split N]
 *        [-bytedelay S] [-closeafter N | -resetafter N]
 * It answers the oldest unanswered rxreq; an answer to HEAD gets the
 * head the body would have, and no body. */
void
ptc_cmd_txresp(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_sess *s = ptc_sess_of(ctx);
	struct tx t;

	tx_parse(ctx, argc, argv, false, &t);
	tx_build(s, &t, false, heads_pop(s));
	tx_send(s, &t);
}
