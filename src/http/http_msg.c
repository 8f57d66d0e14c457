/*
 * http_msg.c - the strict HTTP/1.x parser and the header table.
 *
 * How the work is split with llhttp:
 *
 *   request line	parsed here: llhttp knows a fixed list of methods,
 *			and cuttle forwards extension methods too.  llhttp is
 *			then fed a synthetic "GET / HTTP/1.x" line, which
 *			gives it the version and nothing else to act on.
 *   status line	llhttp.
 *   header section	llhttp, run over msg->raw so that every span it
 *			reports is an offset into the bytes the message
 *			keeps; checks llhttp does not make are added in the
 *			callbacks (obs-fold, empty names, "Name :", repeated
 *			Host, a request's Transfer-Encoding other than
 *			chunked, a reply's naming chunked twice).
 *   body		Content-Length and close-delimited: llhttp.  Chunked:
 *			decoded here (chunk_byte()), as llhttp 8 refuses
 *			valid chunk extensions.  Both run over the caller's
 *			input, so content is handed out in place, never
 *			copied.
 *
 * llhttp is paused (HPE_PAUSED) at the end of the header section and at
 * the end of the message, which is how http_parse() stops exactly there
 * and tells the caller how much input it used; the chunked decoder stops
 * on the LF that ends the trailer section.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <llhttp.h>

#include "base/check.h"
#include "http/http_msg.h"

#define HTTP_MAX_FIELDS		10000
#define HTTP_MAX_EMPTY_LINES	4	/* CRLFs tolerated before a request */
#define HTTP_MAX_CHUNK_LINE	4096	/* size, extensions and CRLF */

enum parser_state {
	PS_IDLE,	/* no message started */
	PS_LINE,	/* reading a request line */
	PS_HEADERS,
	PS_BODY,
	PS_DONE,
	PS_ERROR
};

enum parser_pause {
	PP_NONE,
	PP_HEADERS,
	PP_MESSAGE
};

/* Where the chunked decoder is: see chunk_byte(). */
enum chunk_state {
	CK_SIZE0,	/* the first digit of a chunk-size */
	CK_SIZE,
	CK_EXT_BWS,	/* BWS before ";" */
	CK_EXT_NAME0,	/* ";" seen: BWS, then a chunk-ext-name */
	CK_EXT_NAME,
	CK_EXT_NAME_BWS, /* BWS after the name: "=" or ";" next */
	CK_EXT_VAL0,	/* "=" seen: BWS, then a token or DQUOTE */
	CK_EXT_TOKEN,
	CK_EXT_QUOTED,
	CK_EXT_QPAIR,	/* "\" seen inside the quoted-string */
	CK_EXT_END,	/* after the closing DQUOTE */
	CK_LINE_LF,	/* CR seen: LF ends the chunk line */
	CK_DATA,
	CK_DATA_CR,
	CK_DATA_LF,
	CK_TR_LINE,	/* the start of a trailer line */
	CK_TR_NAME,
	CK_TR_VALUE,
	CK_TR_LF,
	CK_TR_END_LF	/* CR of the empty line seen */
};

/* How far request_line_scan() has judged the request line. */
enum line_scan {
	LS_METHOD,
	LS_TARGET,
	LS_DONE
};

struct http_parser {
	unsigned		magic;
#define HTTP_PARSER_MAGIC	0x9a25e401U
	uint8_t			kind;		/* enum http_msg_kind */
	uint8_t			state;		/* enum parser_state */
	uint8_t			paused;		/* enum parser_pause */
	uint8_t			err;		/* enum http_err */
	uint8_t			body;		/* enum http_body, kept: msg
						 * may move once HEADERS is out */
	bool			no_body;
	bool			done_pending;	/* complete at HEADERS */
	bool			field_open;
	bool			in_value;
	uint8_t			empty_lines;
	uint8_t			line_scan;	/* enum line_scan */
	uint8_t			chunk;		/* enum chunk_state */
	uint16_t		chunk_line;	/* bytes of the chunk line */
	uint32_t		trailer_len;	/* bytes of the trailers */
	uint64_t		chunk_left;	/* chunk-size, then the data
						 * bytes still to come */
	uint32_t		max_header;
	struct http_msg		*msg;
	struct http_field	cur;		/* the field being read */
	http_body_fn		*body_fn;	/* valid inside http_parse() */
	void			*body_arg;
	llhttp_t		ll;
};

static const char *const http_err_texts[HTTP_E__COUNT] = {
#define HTTP_ERR(sym, status, text)	[HTTP_E_##sym] = text,
#include "http/http_err_tbl.h"
#undef HTTP_ERR
};

static const unsigned short http_err_statuses[HTTP_E__COUNT] = {
#define HTTP_ERR(sym, status, text)	[HTTP_E_##sym] = status,
#include "http/http_err_tbl.h"
#undef HTTP_ERR
};

unsigned
http_err_status(enum http_err e)
{
	CHECK(e < HTTP_E__COUNT);
	return (http_err_statuses[e]);
}

const char *
http_err_text(enum http_err e)
{
	CHECK(e < HTTP_E__COUNT);
	return (http_err_texts[e]);
}

/* -- messages ------------------------------------------------------------ */

void
http_msg_init(struct http_msg *msg, enum http_msg_kind kind)
{
	memset(msg, 0, sizeof *msg);
	msg->magic = HTTP_MSG_MAGIC;
	msg->kind = (uint8_t)kind;
}

void
http_msg_fini(struct http_msg *msg)
{
	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	free(msg->raw);
	free(msg->fields);
	memset(msg, 0, sizeof *msg);
}

const struct http_field *
http_msg_field(const struct http_msg *msg, enum http_hdr_id id)
{
	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	CHECK(id > HTTP_HDR_OTHER && id < HTTP_HDR__COUNT);
	return (msg->first[id] == 0 ? NULL : &msg->fields[msg->first[id] - 1]);
}

const struct http_field *
http_msg_field_next(const struct http_msg *msg, const struct http_field *f)
{
	return (f->next == 0 ? NULL : &msg->fields[f->next - 1]);
}

const struct http_field *
http_msg_field_named(const struct http_msg *msg, const char *name,
    size_t len)
{
	const struct http_field *f;
	uint16_t i;

	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	for (i = 0; i < msg->nfields; i++) {
		f = &msg->fields[i];
		if (f->name.len == len &&
		    strncasecmp(http_msg_ptr(msg, f->name), name, len) == 0)
			return (f);
	}
	return (NULL);
}

size_t
http_list_next(const char *s, size_t len, size_t *pos, size_t *start)
{
	size_t i = *pos, end;
	bool quoted = false;

	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
		i++;
	if (i >= len) {
		*pos = len;
		return (0);
	}
	*start = i;
	/* A comma inside a quoted-string (a parameter's value, RFC 9110
	 * 5.6.4) does not end the element. */
	for (; i < len && (quoted || s[i] != ','); i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (quoted && s[i] == '\\' && i + 1 < len)
			i++;
	}
	end = i;
	while (end > *start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	*pos = i;
	return (end - *start);
}

/* Does the comma-separated list in s contain token (any case)? */
static bool
list_has_token(const char *s, size_t len, const char *token)
{
	size_t tlen = strlen(token), pos = 0, start, n;

	while ((n = http_list_next(s, len, &pos, &start)) > 0)
		if (n == tlen && strncasecmp(s + start, token, tlen) == 0)
			return (true);
	return (false);
}

bool
http_msg_has_token(const struct http_msg *msg, enum http_hdr_id id,
    const char *token)
{
	const struct http_field *f;

	for (f = http_msg_field(msg, id); f != NULL;
	    f = http_msg_field_next(msg, f))
		if (list_has_token(http_msg_ptr(msg, f->value), f->value.len,
		    token))
			return (true);
	return (false);
}

/* -- llhttp callbacks ----------------------------------------------------- */

static struct http_parser *
parser_of(llhttp_t *ll)
{
	struct http_parser *p = container_of(ll, struct http_parser, ll);

	CHECK_OBJ_NOTNULL(p, HTTP_PARSER_MAGIC);
	return (p);
}

/* Fail from inside a callback: llhttp stops with HPE_USER. */
static int
cb_fail(struct http_parser *p, enum http_err e)
{
	p->err = (uint8_t)e;
	return (HPE_USER);
}

static uint32_t
raw_off(const struct http_parser *p, const char *at)
{
	return ((uint32_t)(at - p->msg->raw));
}

static int
cb_status(llhttp_t *ll, const char *at, size_t len)
{
	struct http_parser *p = parser_of(ll);
	size_t i;

	/* RFC 9112 4: HTAB, SP, VCHAR, obs-text.  llhttp lets through any
	 * byte but CR and LF, NUL included, and the line is forwarded. */
	for (i = 0; i < len; i++)
		if (((unsigned char)at[i] < 0x20 && at[i] != '\t') ||
		    at[i] == 0x7f)
			return (cb_fail(p, HTTP_E_STATUS_LINE));
	if (p->msg->reason.len == 0)
		p->msg->reason.off = raw_off(p, at);
	p->msg->reason.len += (uint32_t)len;
	return (0);
}

static int
cb_header_field(llhttp_t *ll, const char *at, size_t len)
{
	struct http_parser *p = parser_of(ll);

	if (!p->field_open) {
		memset(&p->cur, 0, sizeof p->cur);
		p->cur.name.off = raw_off(p, at);
		p->field_open = true;
		p->in_value = false;
	} else if (p->cur.name.off + p->cur.name.len != raw_off(p, at))
		return (cb_fail(p, HTTP_E_HDR_SYNTAX));
	p->cur.name.len += (uint32_t)len;
	return (0);
}

static int
cb_header_value(llhttp_t *ll, const char *at, size_t len)
{
	struct http_parser *p = parser_of(ll);

	if (!p->in_value) {
		p->cur.value.off = raw_off(p, at);
		p->in_value = true;
	} else if (p->cur.value.off + p->cur.value.len != raw_off(p, at)) {
		/* A value in two places is a folded line (RFC 9112 5.2);
		 * one split across reads is contiguous in raw. */
		return (cb_fail(p, HTTP_E_OBS_FOLD));
	}
	p->cur.value.len += (uint32_t)len;
	return (0);
}

static int
field_add(struct http_parser *p)
{
	struct http_msg *msg = p->msg;
	struct http_field *f;
	uint16_t i;

	if (msg->nfields == msg->fieldcap) {
		if (msg->fieldcap >= HTTP_MAX_FIELDS)
			return (cb_fail(p, HTTP_E_TOO_MANY_HDRS));
		f = realloc(msg->fields, (msg->fieldcap + 16u) * sizeof *f);
		if (f == NULL)
			return (cb_fail(p, HTTP_E_NOMEM));
		msg->fields = f;
		msg->fieldcap += 16;
	}
	msg->fields[msg->nfields] = p->cur;
	msg->nfields++;
	if (p->cur.id == HTTP_HDR_OTHER)
		return (0);
	if (msg->first[p->cur.id] == 0) {
		msg->first[p->cur.id] = msg->nfields;
		return (0);
	}
	if (http_hdr_flags(p->cur.id) & HH_ONE)
		return (cb_fail(p, HTTP_E_DUP_HDR));
	for (i = msg->first[p->cur.id]; msg->fields[i - 1].next != 0;
	    i = msg->fields[i - 1].next)
		continue;
	msg->fields[i - 1].next = msg->nfields;
	return (0);
}

static int
cb_header_value_complete(llhttp_t *ll)
{
	struct http_parser *p = parser_of(ll);
	struct http_span *v = &p->cur.value;
	const char *raw;
	uint32_t i;

	raw = p->msg->raw;
	/* llhttp lets "Name :" and ": value" through; RFC 9112 5.1 does
	 * not ("No whitespace is allowed between the field name and
	 * colon"), and a name must be a non-empty token. */
	if (p->cur.name.len == 0)
		return (cb_fail(p, HTTP_E_HDR_NAME));
	for (i = 0; i < p->cur.name.len; i++)
		if (!http_is_tchar((unsigned char)raw[p->cur.name.off + i]))
			return (cb_fail(p, HTTP_E_HDR_NAME));
	if (!p->in_value)
		v->off = p->cur.name.off + p->cur.name.len;
	while (v->len > 0 && (raw[v->off] == ' ' || raw[v->off] == '\t')) {
		v->off++;
		v->len--;
	}
	while (v->len > 0 && (raw[v->off + v->len - 1] == ' ' ||
	    raw[v->off + v->len - 1] == '\t'))
		v->len--;
	p->cur.id = (uint16_t)http_hdr_lookup(raw + p->cur.name.off,
	    p->cur.name.len);
	p->field_open = false;
	p->in_value = false;
	return (field_add(p));
}

/* A request's Transfer-Encoding must be exactly "chunked", in one field:
 * cuttle decodes chunked and implements no other transfer coding, and a
 * request whose length it cannot see is not one it can pass on safely
 * (RFC 9112 6.3 rule 4 allows no other length for a request). */
static bool
te_is_chunked_only(const struct http_msg *msg)
{
	const struct http_field *f = http_msg_field(msg, HTTP_HDR_TRANSFER_ENCODING);

	return (f != NULL && f->next == 0 && f->value.len == 7 &&
	    strncasecmp(http_msg_ptr(msg, f->value), "chunked", 7) == 0);
}

/* The transfer codings of all of msg's Transfer-Encoding lines, in order
 * (RFC 9110 5.3: the lines are one list). */
struct te_list {
	unsigned	n;		/* codings */
	unsigned	nchunked;	/* of them, "chunked" */
	bool		final_chunked;
};

static void
te_list_read(const struct http_msg *msg, struct te_list *tl)
{
	const struct http_field *f;
	const char *v;
	size_t pos, start, n;

	memset(tl, 0, sizeof *tl);
	for (f = http_msg_field(msg, HTTP_HDR_TRANSFER_ENCODING); f != NULL;
	    f = http_msg_field_next(msg, f)) {
		v = http_msg_ptr(msg, f->value);
		pos = 0;
		while ((n = http_list_next(v, f->value.len, &pos,
		    &start)) > 0) {
			tl->n++;
			tl->final_chunked = n == 7 &&
			    strncasecmp(v + start, "chunked", 7) == 0;
			if (tl->final_chunked)
				tl->nchunked++;
		}
	}
}

unsigned
http_msg_te_count(const struct http_msg *msg, bool *final_chunked)
{
	struct te_list tl;

	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	te_list_read(msg, &tl);
	*final_chunked = tl.final_chunked;
	return (tl.n);
}

bool
http_msg_te_coded(const struct http_msg *msg)
{
	struct te_list tl;

	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	if (msg->first[HTTP_HDR_TRANSFER_ENCODING] == 0)
		return (false);
	te_list_read(msg, &tl);
	return (tl.n > (tl.final_chunked ? 1u : 0u));
}

/*
 * A reply's Transfer-Encoding (RFC 9112 6.1, 6.3 rule 4): chunked final,
 * it is decoded and what other codings came before stay on the
 * content; else the content is read until the server closes, coded as it
 * is.  Refused: a list with no coding (framing named, none given), and
 * chunked twice (6.1: a sender MUST NOT apply it more than once; relayed,
 * the inner chunked would end the message for the client where the close
 * ends it for cuttle).  llhttp keeps its own view of "chunked is final";
 * should it ever differ from this reading of the list, two parsers would
 * disagree on where the reply ends, and the reply is refused.
 */
static bool
te_reply_ok(const struct http_msg *msg, bool ll_chunked)
{
	struct te_list tl;

	te_list_read(msg, &tl);
	return (tl.n > 0 && tl.nchunked <= 1 && tl.final_chunked == ll_chunked);
}

static int
cb_headers_complete(llhttp_t *ll)
{
	struct http_parser *p = parser_of(ll);
	struct http_msg *msg = p->msg;

	if (msg->kind == HTTP_MSG_RESPONSE) {
		msg->status = (uint16_t)llhttp_get_status_code(ll);
		msg->vmajor = llhttp_get_http_major(ll);
		msg->vminor = llhttp_get_http_minor(ll);
		if (msg->vmajor != 1)
			return (cb_fail(p, HTTP_E_VERSION));
		/* RFC 9110 15: no status code is below 100; llhttp takes
		 * any three digits, and "050" would pass for interim. */
		if (msg->status < 100)
			return (cb_fail(p, HTTP_E_STATUS_LINE));
	}
	/* Content-Length with Transfer-Encoding never comes here: llhttp
	 * refuses it (HTTP_E_CL_TE), in replies too.  RFC 9112 6.3 rule 3
	 * would let Transfer-Encoding win, but says such a message "ought
	 * to be handled as an error": a reply framed one way by cuttle and
	 * another by whatever sent it desynchronises a pooled connection,
	 * and the next request's reply, cached, is another URL's.  502. */
	if (msg->first[HTTP_HDR_TRANSFER_ENCODING] != 0 &&
	    (msg->kind == HTTP_MSG_REQUEST ? !te_is_chunked_only(msg) :
	    !te_reply_ok(msg, (ll->flags & F_CHUNKED) != 0)))
		return (cb_fail(p, HTTP_E_TE));
	/* Upgrade is hop-by-hop and cuttle does not offer it: keep llhttp
	 * from switching protocols on "Connection: upgrade". */
	ll->upgrade = 0;

	if (ll->flags & F_CHUNKED)
		msg->body = HTTP_BODY_CHUNKED;
	else if (ll->flags & F_CONTENT_LENGTH) {
		msg->body = HTTP_BODY_LENGTH;
		msg->content_length = ll->content_length;
	} else if (msg->kind == HTTP_MSG_RESPONSE &&
	    llhttp_message_needs_eof(ll))
		msg->body = HTTP_BODY_CLOSE;
	else
		msg->body = HTTP_BODY_NONE;
	if (msg->kind == HTTP_MSG_REQUEST && msg->method == HTTP_M_CONNECT &&
	    msg->body != HTTP_BODY_NONE && !(msg->body == HTTP_BODY_LENGTH &&
	    msg->content_length == 0))
		return (cb_fail(p, HTTP_E_SYNTAX));
	msg->keep_alive = llhttp_should_keep_alive(ll) != 0;
	msg->expect_continue = msg->kind == HTTP_MSG_REQUEST &&
	    http_msg_has_token(msg, HTTP_HDR_EXPECT, "100-continue");

	/* RFC 9112 6.3: whatever the framing fields say, these replies end
	 * with their header section.  Returning 1 makes llhttp skip the
	 * body and run on to message complete, where it pauses. */
	if (msg->kind == HTTP_MSG_RESPONSE && (p->no_body ||
	    msg->status < 200 || msg->status == 204 || msg->status == 304)) {
		/* What llhttp does when it sees the 1, done first: else a
		 * reply to HEAD that names no length, or a coding other than
		 * chunked, would count as one that ends with a close. */
		ll->flags |= F_SKIPBODY;
		msg->keep_alive = llhttp_should_keep_alive(ll) != 0;
		msg->body = HTTP_BODY_NONE;
		p->body = HTTP_BODY_NONE;
		return (1);
	}
	p->body = msg->body;
	p->paused = PP_HEADERS;
	return (HPE_PAUSED);
}

static int
cb_body(llhttp_t *ll, const char *at, size_t len)
{
	struct http_parser *p = parser_of(ll);

	/* llhttp may flush an empty span at the start of a call. */
	if (len == 0)
		return (0);
	AN(p->body_fn);
	p->body_fn(p->body_arg, at, len);
	return (0);
}

static int
cb_message_complete(llhttp_t *ll)
{
	struct http_parser *p = parser_of(ll);

	p->paused = PP_MESSAGE;
	return (HPE_PAUSED);
}

static const llhttp_settings_t http_settings = {
	.on_status = cb_status,
	.on_header_field = cb_header_field,
	.on_header_value = cb_header_value,
	.on_header_value_complete = cb_header_value_complete,
	.on_headers_complete = cb_headers_complete,
	.on_body = cb_body,
	.on_message_complete = cb_message_complete,
};

/* -- the parser ------------------------------------------------------------ */

struct http_parser *
http_parser_new(enum http_msg_kind kind, size_t max_header)
{
	struct http_parser *p;

	ALLOC_OBJ(p, HTTP_PARSER_MAGIC);
	if (p == NULL)
		return (NULL);
	p->kind = (uint8_t)kind;
	p->max_header = max_header > UINT32_MAX / 2 ? UINT32_MAX / 2 :
	    (uint32_t)max_header;
	p->state = PS_IDLE;
	return (p);
}

void
http_parser_free(struct http_parser **pp)
{
	struct http_parser *p;

	if (*pp == NULL)
		return;
	TAKE_OBJ_NOTNULL(p, pp, HTTP_PARSER_MAGIC);
	FREE_OBJ(p);
}

void
http_parser_start(struct http_parser *p, struct http_msg *msg, bool no_body)
{
	CHECK_OBJ_NOTNULL(p, HTTP_PARSER_MAGIC);
	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	CHECK(msg->kind == p->kind && msg->rawlen == 0);
	CHECK(p->state != PS_HEADERS && p->state != PS_BODY &&
	    p->state != PS_LINE);
	p->msg = msg;
	p->no_body = no_body;
	p->done_pending = false;
	p->field_open = false;
	p->in_value = false;
	p->paused = PP_NONE;
	p->err = HTTP_E_NONE;
	p->empty_lines = 0;
	p->line_scan = LS_METHOD;
	p->chunk = CK_SIZE0;
	p->chunk_line = 0;
	p->trailer_len = 0;
	p->chunk_left = 0;
	llhttp_init(&p->ll, p->kind == HTTP_MSG_REQUEST ? HTTP_REQUEST :
	    HTTP_RESPONSE, &http_settings);
	p->state = p->kind == HTTP_MSG_REQUEST ? PS_LINE : PS_HEADERS;
}

enum http_err
http_parser_error(const struct http_parser *p)
{
	CHECK_OBJ_NOTNULL(p, HTTP_PARSER_MAGIC);
	return ((enum http_err)p->err);
}

static enum http_parse_status
parse_fail(struct http_parser *p, enum http_err e)
{
	p->err = (uint8_t)e;
	p->state = PS_ERROR;
	return (HTTP_PARSE_ERROR);
}

/* What an llhttp error means, in cuttle's terms. */
static enum http_parse_status
parse_llhttp_fail(struct http_parser *p, llhttp_errno_t e)
{
	/* A check of ours failed inside a callback; llhttp reports that as
	 * HPE_USER or as the callback's own error code. */
	if (p->err != HTTP_E_NONE)
		return (parse_fail(p, (enum http_err)p->err));
	switch (e) {
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		return (parse_fail(p, p->state == PS_HEADERS && (p->msg->first[
		    HTTP_HDR_TRANSFER_ENCODING] != 0 || (p->ll.flags &
		    F_TRANSFER_ENCODING)) ? HTTP_E_CL_TE : HTTP_E_BAD_CL));
	case HPE_INVALID_CONTENT_LENGTH:
		return (parse_fail(p, HTTP_E_BAD_CL));
	case HPE_INVALID_TRANSFER_ENCODING:
		return (parse_fail(p, HTTP_E_TE));
	case HPE_INVALID_HEADER_TOKEN:
		return (parse_fail(p, p->in_value ? HTTP_E_HDR_VALUE :
		    HTTP_E_HDR_NAME));
	case HPE_INVALID_VERSION:
		if (p->kind == HTTP_MSG_RESPONSE)
			return (parse_fail(p, HTTP_E_STATUS_LINE));
		break;
	case HPE_INVALID_STATUS:
		return (parse_fail(p, HTTP_E_STATUS_LINE));
	default:
		break;
	}
	if (p->state == PS_BODY)
		return (parse_fail(p, HTTP_E_SYNTAX));
	if (p->kind == HTTP_MSG_RESPONSE && p->state == PS_HEADERS &&
	    p->msg->status == 0 && p->msg->nfields == 0)
		return (parse_fail(p, HTTP_E_STATUS_LINE));
	return (parse_fail(p, HTTP_E_HDR_SYNTAX));
}

static int
raw_reserve(struct http_msg *msg, size_t more)
{
	size_t want = (size_t)msg->rawlen + more, cap;
	char *raw;

	if (want <= msg->rawcap)
		return (0);
	cap = msg->rawcap == 0 ? 512 : msg->rawcap;
	while (cap < want)
		cap *= 2;
	raw = realloc(msg->raw, cap);
	if (raw == NULL)
		return (-ENOMEM);
	msg->raw = raw;
	msg->rawcap = (uint32_t)cap;
	return (0);
}

/*
 * method SP request-target SP HTTP-version CRLF (RFC 9112 3), exactly:
 * one space each, a token method, a target of visible ASCII.  Any 1.x
 * minor version is taken as 1.1 (RFC 9110 2.5); other majors get 505.
 */
static enum http_err
parse_request_line(struct http_msg *msg, uint32_t len)
{
	const char *s = msg->raw, *v;
	uint32_t i = 0, start;

	if (len < 2 || s[len - 2] != '\r')
		return (HTTP_E_START_LINE);
	len -= 2;
	for (i = 0; i < len && s[i] != ' '; i++)
		if (!http_is_tchar((unsigned char)s[i]))
			return (HTTP_E_METHOD);
	if (i == 0 || i == len)
		return (HTTP_E_START_LINE);
	msg->method_name = (struct http_span){ 0, i };
	msg->method = (uint8_t)http_method_lookup(s, i);
	start = ++i;
	for (; i < len && s[i] != ' '; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return (HTTP_E_TARGET);
	if (i == start || i == len)
		return (HTTP_E_START_LINE);
	msg->target = (struct http_span){ start, i - start };
	v = s + i + 1;
	if (len - i - 1 != 8 || memcmp(v, "HTTP/", 5) != 0 ||
	    v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' ||
	    v[7] > '9')
		return (HTTP_E_START_LINE);
	if (v[5] != '1')
		return (HTTP_E_VERSION);
	msg->vmajor = 1;
	msg->vminor = v[7] == '0' ? 0 : 1;
	return (HTTP_E_NONE);
}

/*
 * A request line still arriving that can never become a valid one (a TLS
 * ClientHello sent to the plain port, binary junk) is refused at once
 * rather than when a line end comes or request_timeout passes.  The
 * method and the target are judged byte by byte as they come, before
 * anything else about the line, so that the verdict is the same however
 * the input is cut (the whole line gets the same one: parse_request_line()
 * sees only lines that passed).  A CR or LF ends the judging: the whole
 * line decides then.
 */
static enum http_err
request_line_scan(struct http_parser *p, const char *s, size_t len)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < len && p->line_scan != LS_DONE; i++) {
		c = (unsigned char)s[i];
		if (c == '\r' || c == '\n')
			p->line_scan = LS_DONE;
		else if (c == ' ')
			p->line_scan = p->line_scan == LS_METHOD ? LS_TARGET :
			    LS_DONE;
		else if (p->line_scan == LS_METHOD && !http_is_tchar(c))
			return (HTTP_E_METHOD);
		else if (p->line_scan == LS_TARGET && (c < 0x20 || c >= 0x7f))
			return (HTTP_E_TARGET);
	}
	return (HTTP_E_NONE);
}

/* PS_LINE: gather the request line in raw, then prime llhttp with it. */
static enum http_parse_status
parse_line(struct http_parser *p, const char *data, size_t len, size_t *used)
{
	struct http_msg *msg = p->msg;
	const char *nl;
	char synth[16];
	size_t n;
	enum http_err e;

	nl = memchr(data, '\n', len);
	n = nl != NULL ? (size_t)(nl - data) + 1 : len;
	/* Only bytes within the limit are judged: past it the length is
	 * the fault, however the input was cut. */
	e = request_line_scan(p, data, (size_t)msg->rawlen + n > p->max_header ?
	    p->max_header - msg->rawlen : n);
	if (e != HTTP_E_NONE)
		return (parse_fail(p, e));
	if ((size_t)msg->rawlen + n > p->max_header)
		return (parse_fail(p, HTTP_E_URI_TOO_LONG));
	if (raw_reserve(msg, n) != 0)
		return (parse_fail(p, HTTP_E_NOMEM));
	memcpy(msg->raw + msg->rawlen, data, n);
	msg->rawlen += (uint32_t)n;
	*used = n;
	if (nl == NULL)
		return (HTTP_PARSE_AGAIN);
	/* RFC 9112 2.2: empty lines before a request are skipped. */
	if (msg->rawlen == 2 && msg->raw[0] == '\r' &&
	    p->empty_lines < HTTP_MAX_EMPTY_LINES) {
		p->empty_lines++;
		p->line_scan = LS_METHOD;
		msg->rawlen = 0;
		return (HTTP_PARSE_AGAIN);
	}
	e = parse_request_line(msg, msg->rawlen);
	if (e != HTTP_E_NONE)
		return (parse_fail(p, e));
	/* "GET / HTTP/1.<minor>\r\n" without snprintf(): every request
	 * comes through here. */
	memcpy(synth, "GET / HTTP/1.0\r\n", 16);
	synth[13] = msg->vminor == 0 ? '0' : '1';
	if (llhttp_execute(&p->ll, synth, 16) != HPE_OK)
		return (parse_fail(p, HTTP_E_START_LINE));
	p->state = PS_HEADERS;
	return (HTTP_PARSE_AGAIN);
}

/* PS_HEADERS: copy input into raw and let llhttp parse it there. */
static enum http_parse_status
parse_headers(struct http_parser *p, const char *data, size_t len,
    size_t *used)
{
	struct http_msg *msg = p->msg;
	llhttp_errno_t e;
	uint32_t start = msg->rawlen, end;
	size_t n = len;

	if (n > p->max_header - msg->rawlen)
		n = p->max_header - msg->rawlen;
	if (n == 0 && len > 0)
		return (parse_fail(p, HTTP_E_HDR_TOO_LARGE));
	if (raw_reserve(msg, n) != 0)
		return (parse_fail(p, HTTP_E_NOMEM));
	memcpy(msg->raw + start, data, n);
	e = llhttp_execute(&p->ll, msg->raw + start, n);
	if (e == HPE_OK) {
		msg->rawlen += (uint32_t)n;
		*used = n;
		if (msg->rawlen >= p->max_header)
			return (parse_fail(p, HTTP_E_HDR_TOO_LARGE));
		return (HTTP_PARSE_AGAIN);
	}
	if (e != HPE_PAUSED)
		return (parse_llhttp_fail(p, e));
	end = raw_off(p, llhttp_get_error_pos(&p->ll));
	*used = end - start;
	msg->rawlen = end;
	if (p->paused == PP_MESSAGE)
		p->done_pending = true;	/* no body: already complete */
	p->paused = PP_NONE;
	llhttp_resume(&p->ll);
	p->state = PS_BODY;
	p->msg = NULL;		/* the caller's now: it may move it */
	return (HTTP_PARSE_HEADERS);
}

/* -- the chunked decoder --------------------------------------------------- */

/*
 * RFC 9112 7.1, byte by byte outside chunk data, so that the verdict and
 * the point where the message ends are the same however the input is cut;
 * the state lives in the parser between calls and nothing is buffered.
 * Chunk data goes to the body callback in place, as long runs.
 *
 *   chunk line   SIZE0 -HEXDIG-> SIZE -CR-> LINE_LF -LF-> DATA (size > 0)
 *                                                    \-> TR_LINE (size 0)
 *   extensions   SIZE, EXT_NAME, EXT_TOKEN, EXT_END:
 *                    ";" -> EXT_NAME0     SP/HTAB -> EXT_BWS     CR -> LINE_LF
 *                EXT_BWS -";"-> EXT_NAME0 -tchar-> EXT_NAME
 *                EXT_NAME -SP/HTAB-> EXT_NAME_BWS ("=" or ";" next)
 *                EXT_NAME, EXT_NAME_BWS -"="-> EXT_VAL0
 *                EXT_VAL0 -tchar-> EXT_TOKEN
 *                EXT_VAL0 -DQUOTE-> EXT_QUOTED -DQUOTE-> EXT_END
 *                EXT_QUOTED -"\"-> EXT_QPAIR
 *                EXT_QPAIR -HTAB, SP, VCHAR, obs-text-> EXT_QUOTED
 *                EXT_BWS, EXT_NAME0, EXT_NAME_BWS, EXT_VAL0 stay on SP/HTAB
 *   data         DATA -size bytes-> DATA_CR -CR-> DATA_LF -LF-> SIZE0
 *   trailers     TR_LINE -tchar-> TR_NAME -":"-> TR_VALUE -CR-> TR_LF
 *                TR_LF -LF-> TR_LINE -CR-> TR_END_LF -LF-> message done
 *
 * BWS (SP, HTAB) is allowed only where 7.1.1 puts it: before ";", around
 * "=", after ";"; not before the CR.  Every other byte in a state is an
 * error, CR and LF alone included, as everywhere else in cuttle.  A chunk
 * line (CRLF included) may hold HTTP_MAX_CHUNK_LINE bytes, the trailer
 * section max_header, and a chunk-size at most 2^63 - 1: past those the
 * sender is not one cuttle can follow, and nothing grows with the number
 * of chunks.  Trailer fields are checked as header fields would be (a
 * token name, no whitespace before the colon, no control character but
 * HTAB in the value, no obs-fold) and dropped: cuttle does not forward
 * them.
 */

static bool
is_bws(unsigned char c)
{
	return (c == ' ' || c == '\t');
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* The bytes that may follow a chunk-size, an extension name or value. */
static int
chunk_ext_next(struct http_parser *p, unsigned char c)
{
	if (c == ';')
		p->chunk = CK_EXT_NAME0;
	else if (is_bws(c))
		p->chunk = CK_EXT_BWS;
	else if (c == '\r')
		p->chunk = CK_LINE_LF;
	else
		return (-1);
	return (0);
}

/* One byte outside chunk data: 0 to go on, 1 at the end of the message,
 * -1 for a fault. */
static int
chunk_byte(struct http_parser *p, unsigned char c)
{
	int d;

	switch ((enum chunk_state)p->chunk) {
	case CK_SIZE0:
		if ((d = hex_value(c)) < 0)
			return (-1);
		p->chunk_left = (uint64_t)d;
		p->chunk = CK_SIZE;
		return (0);
	case CK_SIZE:
		if ((d = hex_value(c)) < 0)
			return (chunk_ext_next(p, c));
		/* Leading zeros cost nothing; a 17th significant digit, or
		 * a 16th that sets bit 63, does. */
		if (p->chunk_left > (uint64_t)INT64_MAX >> 4)
			return (-1);
		p->chunk_left = p->chunk_left << 4 | (uint64_t)d;
		return (0);
	case CK_EXT_BWS:
		if (c == ';')
			p->chunk = CK_EXT_NAME0;
		else if (!is_bws(c))
			return (-1);
		return (0);
	case CK_EXT_NAME0:
		if (http_is_tchar(c))
			p->chunk = CK_EXT_NAME;
		else if (!is_bws(c))
			return (-1);
		return (0);
	case CK_EXT_NAME:
		if (http_is_tchar(c))
			return (0);
		if (c == '=') {
			p->chunk = CK_EXT_VAL0;
			return (0);
		}
		if (is_bws(c)) {
			p->chunk = CK_EXT_NAME_BWS;
			return (0);
		}
		return (chunk_ext_next(p, c));
	case CK_EXT_NAME_BWS:
		if (c == '=')
			p->chunk = CK_EXT_VAL0;
		else if (c == ';')
			p->chunk = CK_EXT_NAME0;
		else if (!is_bws(c))
			return (-1);
		return (0);
	case CK_EXT_VAL0:
		if (http_is_tchar(c))
			p->chunk = CK_EXT_TOKEN;
		else if (c == '"')
			p->chunk = CK_EXT_QUOTED;
		else if (!is_bws(c))
			return (-1);
		return (0);
	case CK_EXT_TOKEN:
		if (http_is_tchar(c))
			return (0);
		return (chunk_ext_next(p, c));
	case CK_EXT_QUOTED:
		/* qdtext: HTAB, SP, VCHAR but DQUOTE and "\", obs-text
		 * (RFC 9110 5.6.4). */
		if (c == '"')
			p->chunk = CK_EXT_END;
		else if (c == '\\')
			p->chunk = CK_EXT_QPAIR;
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			return (-1);
		return (0);
	case CK_EXT_QPAIR:
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return (-1);
		p->chunk = CK_EXT_QUOTED;
		return (0);
	case CK_EXT_END:
		return (chunk_ext_next(p, c));
	case CK_LINE_LF:
		if (c != '\n')
			return (-1);
		p->chunk = p->chunk_left == 0 ? CK_TR_LINE : CK_DATA;
		return (0);
	case CK_DATA_CR:
		if (c != '\r')
			return (-1);
		p->chunk = CK_DATA_LF;
		return (0);
	case CK_DATA_LF:
		if (c != '\n')
			return (-1);
		p->chunk = CK_SIZE0;
		p->chunk_line = 0;
		return (0);
	case CK_TR_LINE:
		/* SP or HTAB here is obs-fold (RFC 9112 5.2), or
		 * whitespace before the first field: both refused. */
		if (c == '\r')
			p->chunk = CK_TR_END_LF;
		else if (http_is_tchar(c))
			p->chunk = CK_TR_NAME;
		else
			return (-1);
		return (0);
	case CK_TR_NAME:
		if (c == ':')
			p->chunk = CK_TR_VALUE;
		else if (!http_is_tchar(c))
			return (-1);
		return (0);
	case CK_TR_VALUE:
		if (c == '\r')
			p->chunk = CK_TR_LF;
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			return (-1);
		return (0);
	case CK_TR_LF:
		if (c != '\n')
			return (-1);
		p->chunk = CK_TR_LINE;
		return (0);
	case CK_TR_END_LF:
		return (c == '\n' ? 1 : -1);
	case CK_DATA:
		break;
	}
	WRONG("chunk_byte() in chunk data");
}

/* PS_BODY of a chunked message: DONE just after the LF that ends it. */
static enum http_parse_status
parse_chunked(struct http_parser *p, const char *data, size_t len,
    size_t *used)
{
	size_t i = 0, n;
	int r;

	while (i < len) {
		if (p->chunk == CK_DATA) {
			n = len - i;
			if (n > p->chunk_left)
				n = (size_t)p->chunk_left;
			AN(p->body_fn);
			p->body_fn(p->body_arg, data + i, n);
			i += n;
			p->chunk_left -= n;
			if (p->chunk_left == 0)
				p->chunk = CK_DATA_CR;
			continue;
		}
		if (p->chunk <= CK_LINE_LF) {
			if (++p->chunk_line > HTTP_MAX_CHUNK_LINE)
				return (parse_fail(p, HTTP_E_CHUNK));
		} else if (p->chunk >= CK_TR_LINE) {
			if (++p->trailer_len > p->max_header)
				return (parse_fail(p, HTTP_E_CHUNK));
		}
		r = chunk_byte(p, (unsigned char)data[i++]);
		if (r < 0)
			return (parse_fail(p, HTTP_E_CHUNK));
		if (r > 0) {
			*used = i;
			p->state = PS_DONE;
			return (HTTP_PARSE_DONE);
		}
	}
	*used = len;
	return (HTTP_PARSE_AGAIN);
}

static enum http_parse_status
parse_body(struct http_parser *p, const char *data, size_t len, size_t *used)
{
	llhttp_errno_t e;

	if (p->done_pending) {
		p->state = PS_DONE;
		*used = 0;
		return (HTTP_PARSE_DONE);
	}
	if (p->body == HTTP_BODY_CHUNKED)
		return (parse_chunked(p, data, len, used));
	e = llhttp_execute(&p->ll, data, len);
	if (e == HPE_OK) {
		*used = len;
		return (HTTP_PARSE_AGAIN);
	}
	if (e != HPE_PAUSED || p->paused != PP_MESSAGE)
		return (parse_llhttp_fail(p, e));
	*used = (size_t)(llhttp_get_error_pos(&p->ll) - data);
	p->paused = PP_NONE;
	p->state = PS_DONE;
	return (HTTP_PARSE_DONE);
}

enum http_parse_status
http_parse(struct http_parser *p, const char *data, size_t len, size_t *used,
    http_body_fn *fn, void *arg)
{
	enum http_parse_status st = HTTP_PARSE_AGAIN;
	size_t n, total = 0;

	CHECK_OBJ_NOTNULL(p, HTTP_PARSER_MAGIC);
	p->body_fn = fn;
	p->body_arg = arg;
	for (;;) {
		n = 0;
		switch (p->state) {
		case PS_LINE:
			if (len == 0)
				goto out;
			st = parse_line(p, data, len, &n);
			break;
		case PS_HEADERS:
			if (len == 0)
				goto out;
			st = parse_headers(p, data, len, &n);
			break;
		case PS_BODY:
			st = parse_body(p, data, len, &n);
			break;
		case PS_ERROR:
			st = HTTP_PARSE_ERROR;
			goto out;
		default:
			WRONG("http_parse() without http_parser_start()");
		}
		data += n;
		len -= n;
		total += n;
		/* Stop at every event the caller must see; run on through
		 * the request line, which is ours alone. */
		if (st != HTTP_PARSE_AGAIN || p->state == PS_BODY ||
		    len == 0)
			break;
	}
out:
	p->body_fn = NULL;
	p->body_arg = NULL;
	*used = total;
	return (st);
}

enum http_parse_status
http_parse_eof(struct http_parser *p, http_body_fn *fn, void *arg)
{
	llhttp_errno_t e;

	CHECK_OBJ_NOTNULL(p, HTTP_PARSER_MAGIC);
	switch (p->state) {
	case PS_IDLE:
	case PS_DONE:
		return (HTTP_PARSE_AGAIN);
	case PS_ERROR:
		return (HTTP_PARSE_ERROR);
	case PS_LINE:
	case PS_HEADERS:
		if (p->msg->rawlen == 0 && p->empty_lines == 0)
			return (HTTP_PARSE_AGAIN);
		return (parse_fail(p, HTTP_E_INCOMPLETE));
	default:
		break;
	}
	if (p->done_pending) {
		p->state = PS_DONE;
		return (HTTP_PARSE_DONE);
	}
	if (p->body != HTTP_BODY_CLOSE)
		return (parse_fail(p, HTTP_E_INCOMPLETE));
	p->body_fn = fn;
	p->body_arg = arg;
	e = llhttp_finish(&p->ll);
	p->body_fn = NULL;
	p->body_arg = NULL;
	if (e != HPE_OK && e != HPE_PAUSED)
		return (parse_llhttp_fail(p, e));
	p->state = PS_DONE;
	return (HTTP_PARSE_DONE);
}

/* -- building a message ------------------------------------------------- */

/* Room for 65534 fields: first[] and next hold an index + 1 in 16 bits. */
#define HTTP_BUILD_MAX_FIELDS	(UINT16_MAX - 1)
#define HTTP_BUILD_MAX_RAW	(UINT32_MAX / 2)

int
http_msg_set_status(struct http_msg *msg, unsigned status, const char *reason,
    size_t rlen)
{
	char line[32];
	int n;

	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	CHECK(msg->kind == HTTP_MSG_RESPONSE && msg->rawlen == 0 &&
	    msg->nfields == 0);
	CHECK(status >= 100 && status <= 999);
	if (rlen > HTTP_BUILD_MAX_RAW - sizeof line)
		return (-E2BIG);
	if (msg->vmajor == 0) {
		msg->vmajor = 1;
		msg->vminor = 1;
	}
	n = snprintf(line, sizeof line, "HTTP/%u.%u %03u ", msg->vmajor,
	    msg->vminor, status);
	if (raw_reserve(msg, (size_t)n + rlen + 2) != 0)
		return (-ENOMEM);
	memcpy(msg->raw, line, (size_t)n);
	if (rlen > 0)
		memcpy(msg->raw + n, reason, rlen);
	memcpy(msg->raw + n + rlen, "\r\n", 2);
	msg->rawlen = (uint32_t)((size_t)n + rlen + 2);
	msg->status = (uint16_t)status;
	msg->reason = (struct http_span){ (uint32_t)n, (uint32_t)rlen };
	return (0);
}

int
http_msg_add_field(struct http_msg *msg, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	struct http_field *f, nf;
	enum http_hdr_id id;
	size_t i, need;
	uint16_t j;

	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	while (vlen > 0 && (value[0] == ' ' || value[0] == '\t')) {
		value++;
		vlen--;
	}
	while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
		vlen--;
	if (nlen == 0)
		return (-EINVAL);
	for (i = 0; i < nlen; i++)
		if (!http_is_tchar((unsigned char)name[i]))
			return (-EINVAL);
	/* The same bytes the parser refuses (RFC 9110 5.5): a value that
	 * holds a line break would forge fields when written out. */
	for (i = 0; i < vlen; i++)
		if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0')
			return (-EINVAL);
	id = http_hdr_lookup(name, nlen);
	if (id != HTTP_HDR_OTHER && msg->first[id] != 0 &&
	    (http_hdr_flags(id) & HH_ONE))
		return (-EINVAL);
	need = nlen + vlen + 4;			/* ": " and CRLF */
	if (msg->nfields >= HTTP_BUILD_MAX_FIELDS ||
	    need > HTTP_BUILD_MAX_RAW - msg->rawlen)
		return (-E2BIG);
	if (msg->nfields == msg->fieldcap) {
		f = realloc(msg->fields, ((size_t)msg->fieldcap + 16) *
		    sizeof *f);
		if (f == NULL)
			return (-ENOMEM);
		msg->fields = f;
		msg->fieldcap = msg->fieldcap + 16 > HTTP_BUILD_MAX_FIELDS ?
		    HTTP_BUILD_MAX_FIELDS : (uint16_t)(msg->fieldcap + 16);
	}
	if (raw_reserve(msg, need) != 0)
		return (-ENOMEM);
	memset(&nf, 0, sizeof nf);
	nf.name = (struct http_span){ msg->rawlen, (uint32_t)nlen };
	nf.value = (struct http_span){ msg->rawlen + (uint32_t)nlen + 2,
	    (uint32_t)vlen };
	nf.id = (uint16_t)id;
	memcpy(msg->raw + msg->rawlen, name, nlen);
	memcpy(msg->raw + msg->rawlen + nlen, ": ", 2);
	if (vlen > 0)
		memcpy(msg->raw + msg->rawlen + nlen + 2, value, vlen);
	memcpy(msg->raw + msg->rawlen + nlen + 2 + vlen, "\r\n", 2);
	msg->rawlen += (uint32_t)need;
	msg->fields[msg->nfields] = nf;
	msg->nfields++;
	if (id == HTTP_HDR_OTHER)
		return (0);
	if (msg->first[id] == 0) {
		msg->first[id] = msg->nfields;
		return (0);
	}
	for (j = msg->first[id]; msg->fields[j - 1].next != 0;
	    j = msg->fields[j - 1].next)
		continue;
	msg->fields[j - 1].next = msg->nfields;
	return (0);
}

int
http_msg_set_target(struct http_msg *msg, const char *target, size_t len)
{
	size_t i;
	int err;

	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	if (len == 0)
		return (-EINVAL);
	for (i = 0; i < len; i++)
		if (target[i] <= ' ' || target[i] > '~')
			return (-EINVAL);
	if (len > HTTP_BUILD_MAX_RAW - msg->rawlen)
		return (-E2BIG);
	err = raw_reserve(msg, len);
	if (err != 0)
		return (err);
	memcpy(msg->raw + msg->rawlen, target, len);
	msg->target.off = msg->rawlen;
	msg->target.len = (uint32_t)len;
	msg->rawlen += (uint32_t)len;
	return (0);
}
