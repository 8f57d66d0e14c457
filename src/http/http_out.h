/*
 * http_out.h - writing header sections for messages cuttle sends on: the
 * end-to-end fields of a received message, and lines of its own.
 */
#ifndef CUTTLE_HTTP_OUT_H
#define CUTTLE_HTTP_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf/buf.h"
#include "http/http_msg.h"

/* A set of known field ids (HTTP_HDR_OTHER never belongs). */
typedef uint64_t http_hdr_set;
#define HTTP_HDR_BIT(id)	((http_hdr_set)1 << (id))

_Static_assert(HTTP_HDR__COUNT <= 64, "http_hdr_set is too small");

/* http_out_fields() - append msg's fields as "Name: value\r\n", in order,
 * except hop-by-hop ones (RFC 9110 7.6.1: the HH_HOP rows and every name
 * that Connection lists) and those in skip.  0 or -ENOMEM. */
int	http_out_fields(const struct http_msg *msg, http_hdr_set skip,
	    struct buf_chain *out);

/* http_out_te_codings() - "Transfer-Encoding: ...\r\n" naming the
 * transfer codings msg's content still has (http_msg_te_coded()): its
 * Transfer-Encoding list less a final "chunked", which the parser
 * decoded; each coding as it came.  Nothing when none.  0 or -ENOMEM. */
int	http_out_te_codings(const struct http_msg *msg, struct buf_chain *out);

/* http_out_printf() - append formatted text (one header line, a status
 * line); at most 8 KiB at a time.  0, -ENOMEM or -EOVERFLOW. */
int	http_out_printf(struct buf_chain *out, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* http_out_append_list() - the values of every id field of msg joined by
 * ", ", then ", " and extra (or extra alone): for Via and
 * X-Forwarded-For, which grow at each hop.  Appends "Name: ...\r\n". */
int	http_out_append_list(const struct http_msg *msg, enum http_hdr_id id,
	    const char *extra, struct buf_chain *out);

/* http_out_via() - msg's Via values, then cuttle's own for this hop
 * (RFC 9110 7.6.3: "1.<minor> <host> (cuttle/<version>)", the protocol
 * msg came in with).  Appends "Via: ...\r\n".  0 or -ENOMEM. */
int	http_out_via(const struct http_msg *msg, const char *host,
	    struct buf_chain *out);

/* http_date_format() - an IMF-fixdate (RFC 9110 5.6.7) into buf (at
 * least 30 bytes): "Sun, 06 Nov 1994 08:49:37 GMT". */
const char	*http_date_format(time_t t, char *buf, size_t len);

/* http_reason() - the standard reason phrase for a status, "" if none. */
const char	*http_reason(unsigned status);

#endif /* CUTTLE_HTTP_OUT_H */
