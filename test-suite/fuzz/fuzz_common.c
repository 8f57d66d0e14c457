/*
 * fuzz_common.c - helpers of the fuzz targets, and the message-parser
 * driver that runs every input whole and in pieces and compares.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "fuzz.h"
#include "http/http_url.h"

void
fuzz_fail(const char *file, int line, const char *cond)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, cond);
	abort();
}

void *
fuzz_alloc(size_t n)
{
	void *p = malloc(n > 0 ? n : 1);

	if (p == NULL)
		abort();
	return (p);
}

char *
fuzz_copy(const void *p, size_t n, bool nul)
{
	char *s = fuzz_alloc(nul ? n + 1 : n);

	if (n > 0)
		memcpy(s, p, n);
	if (nul)
		s[n] = '\0';
	return (s);
}

void
fuzz_quiet(void)
{
	log_set_level(SEC__COUNT, 0);
}

int
fuzz_line(const uint8_t **data, size_t *size, const char **line,
    size_t *len)
{
	const uint8_t *nl;
	size_t n;

	if (*size == 0)
		return (0);
	nl = memchr(*data, '\n', *size);
	n = nl != NULL ? (size_t)(nl - *data) : *size;
	*line = (const char *)*data;
	*len = n > 0 && (*data)[n - 1] == '\r' ? n - 1 : n;
	if (nl != NULL)
		n++;
	*data += n;
	*size -= n;
	return (1);
}

void
fuzz_fields(struct http_msg *m, const uint8_t *data, size_t size,
    size_t *used)
{
	const uint8_t *start = data;
	const char *line, *colon;
	size_t len, nlen;

	while (fuzz_line(&data, &size, &line, &len)) {
		if (len == 0)
			break;
		colon = memchr(line, ':', len);
		nlen = colon != NULL ? (size_t)(colon - line) : len;
		(void)http_msg_add_field(m, line, nlen,
		    colon != NULL ? colon + 1 : "",
		    colon != NULL ? len - nlen - 1 : 0);
	}
	if (used != NULL)
		*used = (size_t)(data - start);
}

int64_t
fuzz_number(const char **s, size_t *len, int64_t max)
{
	int64_t v = 0;

	while (*len > 0 && **s == ' ') {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && **s >= '0' && **s <= '9') {
		v = v > (max - (**s - '0')) / 10 ? max : v * 10 + (**s - '0');
		(*s)++;
		(*len)--;
	}
	return (v);
}

/* -- the message-parser driver ------------------------------------------ */

/* What one run saw of each message, compared between runs. */
struct fuzz_seen {
	unsigned		headers;	/* HEADERS events */
	unsigned		done;		/* DONE events */
	uint16_t		status;
	uint8_t			method, vmajor, vminor, body;
	bool			keep_alive, expect_continue;
	uint16_t		nfields;
	uint64_t		content_length;
	uint32_t		rawlen;
	uint64_t		rawhash;
	uint64_t		bodylen;
	uint64_t		bodyhash;
};

struct fuzz_run {
	struct fuzz_seen	m[FUZZ_MAX_MSGS];
	unsigned		n;		/* messages begun */
	enum http_parse_status	last;		/* at the end */
	enum http_err		err;		/* last is ERROR */
	size_t			used;		/* input taken */
};

static uint64_t
fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;

	while (len-- > 0)
		h = (h ^ *s++) * UINT64_C(0x100000001b3);
	return (h);
}

static void
fuzz_body(void *arg, const char *at, size_t len)
{
	struct fuzz_run *r = arg;
	struct fuzz_seen *s = &r->m[r->n - 1];

	s->bodylen += len;
	s->bodyhash = fnv(s->bodyhash, at, len);
}

static void
span_ok(const struct http_msg *m, struct http_span sp)
{
	FUZZ_ASSERT(sp.off <= m->rawlen && sp.len <= m->rawlen - sp.off);
}

/*
 * What the parser promises of a header section (http_msg.h): spans inside
 * raw, names that are tokens, values without CR, LF or NUL (else fields
 * could be forged when the message is written out again), a consistent
 * per-id chain, and a request target that http_url_parse() can be given.
 */
static void
fuzz_check_msg(const struct http_msg *m)
{
	const struct http_field *f;
	const char *p;
	struct http_url u;
	unsigned i, j, seen[HTTP_HDR__COUNT];
	int rc;

	CHECK_OBJ_NOTNULL(m, HTTP_MSG_MAGIC);
	FUZZ_ASSERT(m->rawlen <= m->rawcap || m->raw == NULL);
	memset(seen, 0, sizeof seen);
	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		span_ok(m, f->name);
		span_ok(m, f->value);
		FUZZ_ASSERT(f->name.len > 0);
		p = http_msg_ptr(m, f->name);
		for (j = 0; j < f->name.len; j++)
			FUZZ_ASSERT(http_is_tchar((unsigned char)p[j]));
		FUZZ_ASSERT(f->id == http_hdr_lookup(p, f->name.len));
		p = http_msg_ptr(m, f->value);
		for (j = 0; j < f->value.len; j++)
			FUZZ_ASSERT(p[j] != '\r' && p[j] != '\n' &&
			    p[j] != '\0');
		if (f->value.len > 0)
			FUZZ_ASSERT(p[0] != ' ' && p[0] != '\t' &&
			    p[f->value.len - 1] != ' ' &&
			    p[f->value.len - 1] != '\t');
		FUZZ_ASSERT(f->id < HTTP_HDR__COUNT);
		FUZZ_ASSERT(f->next == 0 || (f->next > i + 1 &&
		    f->next <= m->nfields));
		if (f->id != HTTP_HDR_OTHER)
			seen[f->id]++;
	}
	/* Every field with an id is on its id's chain, in order. */
	for (i = 0; i < HTTP_HDR__COUNT; i++) {
		if (i == HTTP_HDR_OTHER)
			continue;
		j = 0;
		for (f = http_msg_field(m, i); f != NULL;
		    f = http_msg_field_next(m, f)) {
			FUZZ_ASSERT(f->id == i);
			j++;
		}
		FUZZ_ASSERT(j == seen[i]);
	}
	(void)http_msg_has_token(m, HTTP_HDR_CONNECTION, "close");
	if (m->kind == HTTP_MSG_REQUEST) {
		span_ok(m, m->method_name);
		span_ok(m, m->target);
		rc = http_url_parse(http_msg_ptr(m, m->target), m->target.len,
		    m->method == HTTP_M_CONNECT, &u);
		if (rc == 0) {
			FUZZ_ASSERT(u.host_off <= m->target.len &&
			    u.host_len <= m->target.len - u.host_off);
			FUZZ_ASSERT(u.path_off <= m->target.len &&
			    u.path_len <= m->target.len - u.path_off);
		}
	} else {
		/* RFC 9110 15: 100..599 are valid; cuttle passes 600..999
		 * on (http_msg_set_status() takes them) but nothing less.
		 * The reason phrase is forwarded: no control characters. */
		span_ok(m, m->reason);
		FUZZ_ASSERT(m->status >= 100 && m->status <= 999);
		p = http_msg_ptr(m, m->reason);
		for (j = 0; j < m->reason.len; j++)
			FUZZ_ASSERT(p[j] == '\t' || ((unsigned char)p[j] >=
			    0x20 && p[j] != 0x7f));
	}
	if (m->body == HTTP_BODY_CLOSE)
		FUZZ_ASSERT(m->kind == HTTP_MSG_RESPONSE);
}

static void
fuzz_record(struct fuzz_seen *s, const struct http_msg *m)
{
	s->headers++;
	s->status = m->status;
	s->method = m->method;
	s->vmajor = m->vmajor;
	s->vminor = m->vminor;
	s->body = m->body;
	s->keep_alive = m->keep_alive;
	s->expect_continue = m->expect_continue;
	s->nfields = m->nfields;
	s->content_length = m->content_length;
	s->rawlen = m->rawlen;
	s->rawhash = fnv(0, m->raw, m->rawlen);
}

/* Feed in[0..len) in pieces of the given sizes (nsplits 0: at once). */
static void
fuzz_run(const struct fuzz_msg_opts *o, const uint8_t *in, size_t len,
    const uint8_t *splits, size_t nsplits, struct fuzz_run *r)
{
	struct http_parser *p;
	struct http_msg msg;
	enum http_parse_status st = HTTP_PARSE_AGAIN;
	size_t off = 0, n, pos, used, k = 0;
	bool live = true;	/* msg is initialised */
	char *buf;

	memset(r, 0, sizeof *r);
	p = http_parser_new(o->kind, o->max_header);
	if (p == NULL)
		abort();
	http_msg_init(&msg, o->kind);
	http_parser_start(p, &msg, o->no_body);
	r->n = 1;
	while (off < len) {
		n = nsplits == 0 ? len - off : splits[k++ % nsplits];
		if (n == 0)
			n = 1;
		if (n > len - off)
			n = len - off;
		buf = malloc(n);
		if (buf == NULL)
			abort();
		memcpy(buf, in + off, n);
		pos = 0;
		for (;;) {
			st = http_parse(p, buf + pos, n - pos, &used,
			    fuzz_body, r);
			FUZZ_ASSERT(used <= n - pos);
			pos += used;
			r->used += used;
			if (st == HTTP_PARSE_HEADERS) {
				fuzz_check_msg(&msg);
				fuzz_record(&r->m[r->n - 1], &msg);
				/* The parser is done with msg (http_msg.h):
				 * free and poison it to prove that. */
				http_msg_fini(&msg);
				memset(&msg, 0xa5, sizeof msg);
				live = false;
				continue;
			}
			if (st == HTTP_PARSE_DONE) {
				r->m[r->n - 1].done++;
				if (live)
					http_msg_fini(&msg);
				if (r->n == FUZZ_MAX_MSGS) {
					live = false;
					free(buf);
					goto out;
				}
				http_msg_init(&msg, o->kind);
				live = true;
				http_parser_start(p, &msg, o->no_body);
				r->n++;
				if (pos == n)
					break;
				continue;
			}
			if (st == HTTP_PARSE_ERROR) {
				free(buf);
				goto out;
			}
			/* AGAIN: "all input used" */
			FUZZ_ASSERT(pos == n);
			break;
		}
		free(buf);
		off += n;
	}
	if (o->eof) {
		st = http_parse_eof(p, fuzz_body, r);
		if (st == HTTP_PARSE_DONE)
			r->m[r->n - 1].done++;
	}
out:
	r->last = st;
	if (st == HTTP_PARSE_ERROR) {
		r->err = http_parser_error(p);
		FUZZ_ASSERT(r->err < HTTP_E__COUNT);
		FUZZ_ASSERT(http_err_status(r->err) >= 400 &&
		    http_err_status(r->err) <= 599);
		FUZZ_ASSERT(http_err_text(r->err) != NULL);
	}
	if (live)
		http_msg_fini(&msg);
	http_parser_free(&p);
	FUZZ_ASSERT(p == NULL);
}

static void
fuzz_check_run(const struct fuzz_msg_opts *o, const struct fuzz_run *r,
    size_t len)
{
	const struct fuzz_seen *s;
	uint64_t total = 0;
	unsigned i;

	FUZZ_ASSERT(r->used <= len);
	for (i = 0; i < r->n; i++) {
		s = &r->m[i];
		FUZZ_ASSERT(s->headers <= 1 && s->done <= 1);
		FUZZ_ASSERT(s->done == 0 || s->headers == 1);
		FUZZ_ASSERT(s->bodylen == 0 || s->headers == 1);
		/* Decoding only ever shrinks the input. */
		total += s->bodylen;
		if (s->body == HTTP_BODY_LENGTH)
			FUZZ_ASSERT(s->bodylen <= s->content_length);
		if (s->body == HTTP_BODY_LENGTH && s->done)
			FUZZ_ASSERT(s->bodylen == s->content_length);
		if (s->body == HTTP_BODY_NONE || o->no_body)
			FUZZ_ASSERT(s->bodylen == 0);
	}
	FUZZ_ASSERT(total <= len);
}

static void
fuzz_same(const struct fuzz_run *a, const struct fuzz_run *b)
{
	unsigned i;

	FUZZ_ASSERT(a->n == b->n);
	FUZZ_ASSERT(a->last == b->last);
	FUZZ_ASSERT(a->last != HTTP_PARSE_ERROR || a->err == b->err);
	for (i = 0; i < a->n; i++)
		FUZZ_ASSERT(memcmp(&a->m[i], &b->m[i], sizeof a->m[i]) == 0);
}

void
fuzz_parse(const struct fuzz_msg_opts *o, const uint8_t *in, size_t len)
{
	struct fuzz_run whole, split;

	fuzz_run(o, in, len, NULL, 0, &whole);
	fuzz_check_run(o, &whole, len);
	if (o->nsplits == 0)
		return;
	fuzz_run(o, in, len, o->splits, o->nsplits, &split);
	fuzz_check_run(o, &split, len);
	/* The outcome must not depend on how the bytes arrived. */
	fuzz_same(&whole, &split);
}

void
fuzz_parse_input(enum http_msg_kind kind, const uint8_t *data, size_t size)
{
	static const size_t max_header[4] = { 65536, 4096, 256, 64 };
	struct fuzz_msg_opts o;
	size_t n;

	if (size < 2)
		return;
	memset(&o, 0, sizeof o);
	o.kind = kind;
	o.no_body = kind == HTTP_MSG_RESPONSE && (data[0] & 0x01) != 0;
	o.eof = (data[0] & 0x02) != 0;
	o.max_header = max_header[(data[0] >> 2) & 3];
	n = data[1] & 0x0f;
	data += 2;
	size -= 2;
	if (n > size)
		n = size;
	o.splits = data;
	o.nsplits = n;
	fuzz_parse(&o, data + n, size - n);
}
