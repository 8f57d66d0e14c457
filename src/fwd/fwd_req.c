/*
 * fwd_req.c - the request as cuttle sends it to the origin server.
 *
 *	GET /path?q HTTP/1.1			origin-form (RFC 9112 3.2.1)
 *	Host: host[:port]			from the target (RFC 9112 3.2.2)
 *	<end-to-end fields of the client's request, in order>
 *	<lines the caller adds: a cache's conditionals>
 *	Via: <theirs>, 1.1 <visible_hostname> (cuttle/x.y)
 *	X-Forwarded-For: <theirs>, <client>	per forwarded_for
 *	Content-Length: n | Transfer-Encoding: chunked
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <string.h>

#include "base/check.h"
#include "fwd/fwd.h"
#include "http/http_out.h"

/* Written by cuttle itself, whatever the client sent.  Expect is
 * answered by cuttle (the client side sends 100 Continue itself). */
static const http_hdr_set fwd_req_skip =
    HTTP_HDR_BIT(HTTP_HDR_HOST) | HTTP_HDR_BIT(HTTP_HDR_CONTENT_LENGTH) |
    HTTP_HDR_BIT(HTTP_HDR_EXPECT) | HTTP_HDR_BIT(HTTP_HDR_VIA);

static const char *
fwd_client_ip(const struct sockaddr *sa, char *buf, size_t len)
{
	if (sa != NULL && sa->sa_family == AF_INET)
		return (inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, buf, (socklen_t)len));
	if (sa != NULL && sa->sa_family == AF_INET6)
		return (inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, buf, (socklen_t)len));
	return ("unknown");
}

static int
fwd_out_xff(const struct fwd_req *req, const struct conf *conf,
    struct buf_chain *out)
{
	const struct http_msg *m = req->msg;
	char ip[INET6_ADDRSTRLEN];
	const char *client = fwd_client_ip(req->client, ip, sizeof ip);

	switch (conf->forwarded_for) {
	case CONF_FWD_ON:
		return (http_out_append_list(m, HTTP_HDR_X_FORWARDED_FOR,
		    client, out));
	case CONF_FWD_OFF:
		return (http_out_append_list(m, HTTP_HDR_X_FORWARDED_FOR,
		    "unknown", out));
	case CONF_FWD_TRUNCATE:
		return (http_out_printf(out, "X-Forwarded-For: %s\r\n",
		    client));
	default:
		return (0);	/* transparent: copied as it came; delete */
	}
}

int
fwd_build_request(const struct fwd_req *req, const struct conf *conf,
    struct buf_chain *out)
{
	int err = fwd_build_head(req, conf, false, out);

	return (err != 0 ? err : http_out_printf(out, "\r\n"));
}

/* A peer is a proxy: it takes the URL whole (RFC 9112 3.2.2), as Squid
 * writes it (no port when it is the scheme's). */
int
fwd_build_head(const struct fwd_req *req, const struct conf *conf,
    bool absolute, struct buf_chain *out)
{
	const struct http_msg *m = req->msg;
	int err;
	http_hdr_set skip = fwd_req_skip | req->drop;
	const char *lb = req->host_ip6 ? "[" : "", *rb = req->host_ip6 ?
	    "]" : "";

	if (conf->forwarded_for != CONF_FWD_TRANSPARENT)
		skip |= HTTP_HDR_BIT(HTTP_HDR_X_FORWARDED_FOR);
	err = http_out_printf(out, "%.*s ", (int)m->method_name.len,
	    http_msg_ptr(m, m->method_name));
	if (err == 0 && absolute && req->port == (req->tls ? 443 : 80))
		err = http_out_printf(out, "%s://%s%.*s%s",
		    req->tls ? "https" : "http", lb, (int)req->host_len,
		    req->host, rb);
	else if (err == 0 && absolute)
		err = http_out_printf(out, "%s://%s%.*s%s:%u",
		    req->tls ? "https" : "http", lb, (int)req->host_len,
		    req->host, rb, req->port);
	/* A path starting with '?' (http://host?q) needs its '/'. */
	if (err == 0)
		err = http_out_printf(out, "%s%.*s HTTP/1.1\r\n",
		    req->path_len == 0 || req->path[0] == '?' ? "/" : "",
		    (int)req->path_len, req->path);
	if (err == 0 && req->port == (req->tls ? 443 : 80))
		err = http_out_printf(out, "Host: %s%.*s%s\r\n", lb,
		    (int)req->host_len, req->host, rb);
	else if (err == 0)
		err = http_out_printf(out, "Host: %s%.*s%s:%u\r\n", lb,
		    (int)req->host_len, req->host, rb, req->port);
	if (err == 0)
		err = http_out_fields(m, skip, out);
	if (err == 0 && req->extra_len > 0)
		err = buf_chain_append(out, req->extra, req->extra_len);
	if (err == 0 && conf->via)
		err = http_out_via(m, conf->visible_hostname, out);
	if (err == 0)
		err = fwd_out_xff(req, conf, out);
	if (err == 0 && m->body == HTTP_BODY_LENGTH)
		err = http_out_printf(out, "Content-Length: %ju\r\n",
		    (uintmax_t)m->content_length);
	else if (err == 0 && m->body == HTTP_BODY_CHUNKED)
		err = http_out_printf(out, "Transfer-Encoding: chunked\r\n");
	return (err);
}
