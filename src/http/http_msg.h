/*
 * http_msg.h - HTTP/1.x messages: a strict parser on top of llhttp, and
 * the parsed header table.
 *
 * A message keeps its header section as the exact bytes received
 * (msg->raw) and every field as spans into them, in order, with an id for
 * the fields cuttle knows (http_hdr_tbl.h) so that lookups are O(1).
 * Body bytes are never copied: the parser hands them to the caller as
 * pointers into the caller's own input.
 *
 * The parser refuses, rather than guesses at, everything that lets two
 * HTTP agents disagree on where a message ends (request smuggling):
 * Content-Length with Transfer-Encoding, differing or malformed
 * Content-Length, a request Transfer-Encoding other than "chunked", a
 * reply one that names chunked twice or no coding at all, chunk sizes or
 * extensions outside RFC 9112 7.1 (or a chunk line over 4096 bytes), bare
 * CR or LF, obs-fold, whitespace before a colon, empty or invalid field
 * names, control characters in values.  A reply whose final transfer
 * coding is not chunked is read until the server closes (RFC 9112 6.3
 * rule 4): its content stays coded (http_msg_te_coded()).
 *
 * Lifecycle of one parser (one per connection and direction):
 *	http_parser_new()	 limits fixed
 *	http_parser_start()	 begin a message into a caller's http_msg
 *	http_parse()		 feed bytes: AGAIN, HEADERS, DONE or ERROR
 *	http_parse_eof()	 the peer closed: ends a close-delimited body
 *	http_parser_free()
 */
#ifndef CUTTLE_HTTP_MSG_H
#define CUTTLE_HTTP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http_hdr.h"

enum http_msg_kind {
	HTTP_MSG_REQUEST,
	HTTP_MSG_RESPONSE
};

enum http_body {
	HTTP_BODY_NONE,		/* no content follows the header section */
	HTTP_BODY_LENGTH,	/* content_length bytes */
	HTTP_BODY_CHUNKED,	/* chunked transfer coding */
	HTTP_BODY_CLOSE		/* until the connection closes (replies) */
};

/* A run of bytes of msg->raw. */
struct http_span {
	uint32_t	off;
	uint32_t	len;
};

struct http_field {
	struct http_span	name;
	struct http_span	value;	/* without surrounding whitespace */
	uint16_t		id;	/* enum http_hdr_id */
	uint16_t		next;	/* index + 1 of the next field with
					 * this id, 0 for none */
};

struct http_msg {
	unsigned		magic;
#define HTTP_MSG_MAGIC		0x4d5347a1U
	uint8_t			kind;		/* enum http_msg_kind */
	uint8_t			vmajor;
	uint8_t			vminor;
	uint8_t			method;		/* enum http_method */
	uint16_t		status;		/* replies */
	uint16_t		nfields;
	struct http_span	method_name;	/* requests */
	struct http_span	target;		/* requests */
	struct http_span	reason;		/* replies */
	uint8_t			body;		/* enum http_body */
	bool			keep_alive;	/* the sender allows reuse */
	bool			expect_continue;
	uint64_t		content_length;	/* HTTP_BODY_LENGTH */
	char			*raw;		/* the header section */
	uint32_t		rawlen;
	uint32_t		rawcap;
	struct http_field	*fields;
	uint16_t		fieldcap;
	uint16_t		first[HTTP_HDR__COUNT];	/* index + 1, 0: none */
};

/* http_msg_init() - an empty message; http_msg_fini() releases it and
 * may be followed by http_msg_init() to reuse the struct. */
void	http_msg_init(struct http_msg *msg, enum http_msg_kind kind);
void	http_msg_fini(struct http_msg *msg);

/* http_msg_ptr() - where a span's bytes are; valid until the message is
 * finished or the parser appends to it.  Not NUL-terminated. */
static inline const char *
http_msg_ptr(const struct http_msg *msg, struct http_span s)
{
	return (msg->raw + s.off);
}

/* http_msg_field() - the first field with a known id, or NULL;
 * http_msg_field_next() the next one with the same id, or NULL. */
const struct http_field	*http_msg_field(const struct http_msg *msg,
			    enum http_hdr_id id);
const struct http_field	*http_msg_field_next(const struct http_msg *msg,
			    const struct http_field *f);

/* http_msg_field_named() - the first field whose name is name (len
 * bytes, any case), or NULL: for the fields without an id. */
const struct http_field	*http_msg_field_named(const struct http_msg *msg,
			    const char *name, size_t len);

/* http_msg_has_token() - true when a list-valued field (all its lines)
 * contains token, compared case-insensitively: Connection: close. */
bool	http_msg_has_token(const struct http_msg *msg, enum http_hdr_id id,
	    const char *token);

/* http_list_next() - the next element of the comma-separated list s
 * (len bytes) at or after *pos, without surrounding whitespace; empty
 * elements are skipped (RFC 9110 5.6.1).  Its length, *start its offset,
 * and *pos moves past it; 0 at the end of the list. */
size_t	http_list_next(const char *s, size_t len, size_t *pos,
	    size_t *start);

/* http_msg_te_coded() - true when msg's content is still transfer-coded
 * once the parser has undone a final chunked: its Transfer-Encoding names
 * a coding other than one final "chunked" (RFC 9112 6.1).  cuttle decodes
 * no such coding, so the content can only be relayed with its codings
 * named (http_out_te_codings()) to a client that may receive them, and is
 * never stored.  Reads the fields alone: a stored view answers too. */
bool	http_msg_te_coded(const struct http_msg *msg);
/* http_msg_te_count() - the transfer codings msg's Transfer-Encoding
 * lines name, as one list (RFC 9110 5.3); *final_chunked says whether the
 * last is chunked. */
unsigned	http_msg_te_count(const struct http_msg *msg,
		    bool *final_chunked);

/* -- building a message ------------------------------------------------- */

/* http_msg_set_status() - begin a reply built from scratch (a freshly
 * initialised HTTP_MSG_RESPONSE, nothing added yet): its status line,
 * with msg's version (1.1 when none is set), becomes the first bytes of
 * raw, and status and reason are set.  100 <= status <= 999.  0 or
 * -ENOMEM. */
int	http_msg_set_status(struct http_msg *msg, unsigned status,
	    const char *reason, size_t rlen);

/* http_msg_add_field() - append the field "name: value" after the others,
 * as the parser would have: the bytes go to raw, the field gets its id,
 * and first[] and the per-id next chain are kept.  Surrounding whitespace
 * is trimmed from value.  0, -ENOMEM, -EINVAL (name not a token; CR, LF
 * or NUL in value; a second line of an HH_ONE field) or -E2BIG (65534
 * fields, or raw would pass 2 GiB). */
int	http_msg_add_field(struct http_msg *msg, const char *name,
	    size_t nlen, const char *value, size_t vlen);

/* http_msg_set_target() - a request's target becomes target (len
 * bytes), appended to raw (the request line's old bytes stay, unused):
 * a URL rewriter's answer, or a bumped request's absolute URL.  0, -EINVAL (empty, or a byte that is not
 * visible ASCII: RFC 9112 3.2), -E2BIG or -ENOMEM. */
int	http_msg_set_target(struct http_msg *msg, const char *target,
	    size_t len);

/* -- the parser ---------------------------------------------------------- */

enum http_err {
#define HTTP_ERR(sym, status, text)	HTTP_E_##sym,
#include "http/http_err_tbl.h"
#undef HTTP_ERR
	HTTP_E__COUNT
};

/* http_err_status() - the status a proxy answers for this fault (400,
 * 414, 431, 501, 505; replies are answered 502 by the caller). */
unsigned	http_err_status(enum http_err e);
const char	*http_err_text(enum http_err e);

enum http_parse_status {
	HTTP_PARSE_AGAIN,	/* all input used; give more */
	HTTP_PARSE_HEADERS,	/* header section complete: msg is filled */
	HTTP_PARSE_DONE,	/* message complete; later input is the
				 * next message (pipelining) */
	HTTP_PARSE_ERROR	/* see http_parser_error(); the connection
				 * cannot be trusted any more */
};

struct http_parser;

/* http_body_fn - a piece of body content, decoded from chunked coding;
 * at points into the input given to http_parse(). */
typedef void http_body_fn(void *arg, const char *at, size_t len);

/* http_parser_new() - a parser that refuses header sections longer than
 * max_header bytes (request or status line included), and chunked
 * trailer sections too (checked, then dropped).  NULL on ENOMEM. */
struct http_parser	*http_parser_new(enum http_msg_kind kind,
			    size_t max_header);
void			http_parser_free(struct http_parser **pp);

/* http_parser_start() - parse the next message into msg, which must be
 * freshly initialised and of the parser's kind.  no_body: a reply to HEAD
 * (or to a CONNECT that succeeded) whose framing headers describe no
 * content here. */
void	http_parser_start(struct http_parser *p, struct http_msg *msg,
	    bool no_body);

/* http_parse() - feed len bytes.  *used says how many were taken; the
 * rest belongs to a later call (after HEADERS) or to the next message
 * (after DONE).  Body content goes to fn as it is decoded.  After HEADERS
 * call again with the remaining input to get the body and DONE.  Once
 * HEADERS is out the parser no longer touches msg, which may be moved
 * (store_entry_set_reply()) or finished. */
enum http_parse_status	http_parse(struct http_parser *p, const char *data,
			    size_t len, size_t *used, http_body_fn *fn,
			    void *arg);

/* http_parse_eof() - the peer closed: DONE for a close-delimited body,
 * ERROR (HTTP_E_INCOMPLETE) inside any other message, AGAIN between
 * messages. */
enum http_parse_status	http_parse_eof(struct http_parser *p,
			    http_body_fn *fn, void *arg);

enum http_err	http_parser_error(const struct http_parser *p);

#endif /* CUTTLE_HTTP_MSG_H */
