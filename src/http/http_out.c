/*
 * http_out.c - header sections for messages cuttle sends on.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/check.h"
#include "http/http_out.h"

/* The names msg's Connection lists, gathered once for every field
 * (at most OUT_CONN_NAMES; more and each field scans the list itself). */
#define OUT_CONN_NAMES	8

struct out_conn {
	unsigned	n;		/* names, or OUT_CONN_NAMES + 1 */
	struct {
		const char	*p;
		size_t		len;
	} name[OUT_CONN_NAMES];
};

static void
out_conn_gather(const struct http_msg *msg, struct out_conn *oc)
{
	const struct http_field *f;
	const char *v;
	size_t pos, start, n;

	oc->n = 0;
	for (f = http_msg_field(msg, HTTP_HDR_CONNECTION); f != NULL;
	    f = http_msg_field_next(msg, f)) {
		v = http_msg_ptr(msg, f->value);
		pos = 0;
		while ((n = http_list_next(v, f->value.len, &pos,
		    &start)) > 0) {
			if (oc->n == OUT_CONN_NAMES) {
				oc->n++;
				return;
			}
			oc->name[oc->n].p = v + start;
			oc->name[oc->n++].len = n;
		}
	}
}

/* Is the field named name (len bytes) listed in msg's Connection? */
static bool
out_connection_lists(const struct http_msg *msg, const struct out_conn *oc,
    const char *name, size_t len)
{
	const struct http_field *f;
	const char *v;
	size_t pos, start, n;
	unsigned i;

	if (oc->n <= OUT_CONN_NAMES) {
		for (i = 0; i < oc->n; i++)
			if (oc->name[i].len == len &&
			    strncasecmp(oc->name[i].p, name, len) == 0)
				return (true);
		return (false);
	}
	for (f = http_msg_field(msg, HTTP_HDR_CONNECTION); f != NULL;
	    f = http_msg_field_next(msg, f)) {
		v = http_msg_ptr(msg, f->value);
		pos = 0;
		while ((n = http_list_next(v, f->value.len, &pos, &start)) > 0)
			if (n == len && strncasecmp(v + start, name, len) == 0)
				return (true);
	}
	return (false);
}

/* Is f's line in msg's bytes exactly "Name: value\r\n", as it goes out?
 * Then it is copied as it lies, with its neighbours. */
static bool
out_line_as_sent(const struct http_msg *msg, const struct http_field *f)
{
	const char *n = http_msg_ptr(msg, f->name);
	const char *v = http_msg_ptr(msg, f->value);

	return (f->value.len > 0 && v == n + f->name.len + 2 &&
	    n[f->name.len] == ':' && n[f->name.len + 1] == ' ' &&
	    f->value.off + f->value.len + 2 <= msg->rawlen &&
	    v[f->value.len] == '\r' && v[f->value.len + 1] == '\n');
}

int
http_out_fields(const struct http_msg *msg, http_hdr_set skip,
    struct buf_chain *out)
{
	const struct http_field *f;
	const char *run = NULL, *end = NULL, *line;
	struct out_conn oc = { .n = 0 };
	bool has_conn;
	uint16_t i;

	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	has_conn = msg->first[HTTP_HDR_CONNECTION] != 0;
	if (has_conn)
		out_conn_gather(msg, &oc);
	/*
	 * Lines that go out as they came, one after the other, go in one
	 * copy: a stored reply's section is mostly such a run.  A line
	 * dropped, or written otherwise (other whitespace), ends it.
	 */
	for (i = 0; i < msg->nfields; i++) {
		f = &msg->fields[i];
		if ((f->id != HTTP_HDR_OTHER &&
		    ((http_hdr_flags(f->id) & HH_HOP) ||
		    (skip & HTTP_HDR_BIT(f->id)))) ||
		    (has_conn && out_connection_lists(msg, &oc,
		    http_msg_ptr(msg, f->name), f->name.len))) {
			if (run != NULL && buf_chain_append(out, run,
			    (size_t)(end - run)) != 0)
				return (-ENOMEM);
			run = NULL;
			continue;
		}
		if (out_line_as_sent(msg, f)) {
			line = http_msg_ptr(msg, f->name);
			if (run != NULL && line == end) {
				end = http_msg_ptr(msg, f->value) +
				    f->value.len + 2;
				continue;
			}
			if (run != NULL && buf_chain_append(out, run,
			    (size_t)(end - run)) != 0)
				return (-ENOMEM);
			run = line;
			end = http_msg_ptr(msg, f->value) + f->value.len + 2;
			continue;
		}
		if (run != NULL && buf_chain_append(out, run,
		    (size_t)(end - run)) != 0)
			return (-ENOMEM);
		run = NULL;
		if (buf_chain_append(out, http_msg_ptr(msg, f->name),
		    f->name.len) != 0 ||
		    buf_chain_append(out, ": ", 2) != 0 ||
		    buf_chain_append(out, http_msg_ptr(msg, f->value),
		    f->value.len) != 0 ||
		    buf_chain_append(out, "\r\n", 2) != 0)
			return (-ENOMEM);
	}
	if (run != NULL && buf_chain_append(out, run,
	    (size_t)(end - run)) != 0)
		return (-ENOMEM);
	return (0);
}

int
http_out_te_codings(const struct http_msg *msg, struct buf_chain *out)
{
	const struct http_field *f;
	const char *v, *sep = "";
	size_t pos, start, n, keep;
	bool final_chunked;

	keep = http_msg_te_count(msg, &final_chunked);
	if (final_chunked)
		keep--;
	if (keep == 0)
		return (0);
	if (buf_chain_append(out, "Transfer-Encoding: ", 19) != 0)
		return (-ENOMEM);
	for (f = http_msg_field(msg, HTTP_HDR_TRANSFER_ENCODING);
	    f != NULL && keep > 0; f = http_msg_field_next(msg, f)) {
		v = http_msg_ptr(msg, f->value);
		pos = 0;
		while (keep > 0 && (n = http_list_next(v, f->value.len, &pos,
		    &start)) > 0) {
			if (buf_chain_append(out, sep, strlen(sep)) != 0 ||
			    buf_chain_append(out, v + start, n) != 0)
				return (-ENOMEM);
			sep = ", ";
			keep--;
		}
	}
	return (buf_chain_append(out, "\r\n", 2) != 0 ? -ENOMEM : 0);
}

int
http_out_via(const struct http_msg *msg, const char *host,
    struct buf_chain *out)
{
	static const char tail[] = " (cuttle/" PACKAGE_VERSION ")";
	char via[300];
	size_t n;

	CHECK_OBJ_NOTNULL(msg, HTTP_MSG_MAGIC);
	/* "1.<minor> <host> (cuttle/<version>)", host cut to fit as
	 * snprintf() would; without printf, which every reply pays for. */
	via[0] = '1';
	via[1] = '.';
	via[2] = (char)('0' + msg->vminor % 10);
	via[3] = ' ';
	n = strlen(host);
	if (n > sizeof via - 4 - sizeof tail)
		n = sizeof via - 4 - sizeof tail;
	memcpy(via + 4, host, n);
	memcpy(via + 4 + n, tail, sizeof tail);
	return (http_out_append_list(msg, HTTP_HDR_VIA, via, out));
}

int
http_out_printf(struct buf_chain *out, const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line)
		return (-EOVERFLOW);
	return (buf_chain_append(out, line, (size_t)n) != 0 ? -ENOMEM : 0);
}

int
http_out_append_list(const struct http_msg *msg, enum http_hdr_id id,
    const char *extra, struct buf_chain *out)
{
	const struct http_field *f;
	const char *sep = "";
	const char *name = http_hdr_name(id);

	if (buf_chain_append(out, name, strlen(name)) != 0 ||
	    buf_chain_append(out, ": ", 2) != 0)
		return (-ENOMEM);
	for (f = http_msg_field(msg, id); f != NULL;
	    f = http_msg_field_next(msg, f)) {
		if (f->value.len == 0)
			continue;
		if (buf_chain_append(out, sep, strlen(sep)) != 0 ||
		    buf_chain_append(out, http_msg_ptr(msg, f->value),
		    f->value.len) != 0)
			return (-ENOMEM);
		sep = ", ";
	}
	if (buf_chain_append(out, sep, strlen(sep)) != 0 ||
	    buf_chain_append(out, extra, strlen(extra)) != 0 ||
	    buf_chain_append(out, "\r\n", 2) != 0)
		return (-ENOMEM);
	return (0);
}

const char *
http_date_format(time_t t, char *buf, size_t len)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec"
	};
	struct tm tm;

	/* Not strftime(): the names must be English whatever the locale. */
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return (buf);
}

const char *
http_reason(unsigned status)
{
	static const struct {
		unsigned short	status;
		const char	*reason;
	} tbl[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" },
		{ 202, "Accepted" }, { 204, "No Content" },
		{ 206, "Partial Content" }, { 301, "Moved Permanently" },
		{ 302, "Found" }, { 303, "See Other" },
		{ 304, "Not Modified" }, { 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 407, "Proxy Authentication Required" },
		{ 408, "Request Timeout" }, { 411, "Length Required" },
		{ 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 417, "Expectation Failed" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(tbl); i++)
		if (tbl[i].status == status)
			return (tbl[i].reason);
	return ("");
}
