/*
 * errpage.c - Squid-style error pages from the compiled-in templates.
 *
 * Lifecycle of one page (all inside errpage_render()):
 *	ep_template()	the template of the page's row, by name
 *	ep_init()	what the codes need: the time, the URL's pieces
 *	ep_body()	template -> body chain, %-codes HTML-escaped
 *	ep_headers()	status line and headers, Content-Length = body
 *	buf_chain_move	body behind the headers (HEAD: body dropped)
 *
 * The body is built in a chain of its own first because Content-Length
 * must precede it; its blocks then move to out without a copy.
 */
#include "config.h"

#include <sys/socket.h>
#include <netdb.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "buf/buf.h"
#include "client/errpage.h"
#include "http/http_out.h"
#include "http/http_url.h"

static const struct {
	const char	*name;
	unsigned	status;
} ep_rows[ERRPAGE__COUNT] = {
#define ERRPAGE_ROW(sym, name, status)	[ERRPAGE_##sym] = { name, status },
	ERRPAGE_TABLE(ERRPAGE_ROW)
#undef ERRPAGE_ROW
};

struct ep_ctx {
	const struct errpage_vars	*v;
	enum errpage_id			id;
	time_t				now;
	struct http_url			url;
	bool				url_ok;
	struct buf_chain		*out;
	int				err;	/* first append failure */
};

const char *
errpage_name(enum errpage_id id)
{
	CHECK(id < ERRPAGE__COUNT);
	return (ep_rows[id].name);
}

unsigned
errpage_status(enum errpage_id id)
{
	CHECK(id < ERRPAGE__COUNT);
	return (ep_rows[id].status);
}

static const struct errpage_tpl *
ep_template(const char *name)
{
	const struct errpage_tpl *t;

	for (t = errpage_tpls; t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			return (t);
	return (NULL);
}

/* -- output ---------------------------------------------------------------- */

static void
ep_put(struct ep_ctx *x, const char *s, size_t n)
{
	if (x->err == 0 && n > 0)
		x->err = buf_chain_append(x->out, s, n);
}

/* Keep the first failure of an http_out_printf(). */
static void
ep_check(struct ep_ctx *x, int r)
{
	if (x->err == 0)
		x->err = r;
}

/* s as HTML text or attribute value: & < > " ' escaped, and controls
 * other than TAB CR LF replaced (they are not allowed in HTML). */
static void
ep_html(struct ep_ctx *x, const char *s, size_t n)
{
	const char *rep;
	size_t i, from = 0;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			rep = ((unsigned char)s[i] < 0x20 && s[i] != '\t' &&
			    s[i] != '\r' && s[i] != '\n') || s[i] == 0x7f ?
			    "&#xFFFD;" : NULL;
			break;
		}
		if (rep == NULL)
			continue;
		ep_put(x, s + from, i - from);
		ep_put(x, rep, strlen(rep));
		from = i + 1;
	}
	ep_put(x, s + from, n - from);
}

static void
ep_html_str(struct ep_ctx *x, const char *s, const char *missing)
{
	if (s == NULL)
		s = missing;
	ep_html(x, s, strlen(s));
}

/* -- %-codes --------------------------------------------------------------- */

/* %T (an HTTP-date), or %t: local time as in a common log file. */
static void
ep_time(struct ep_ctx *x, bool gmt)
{
	char s[64];
	struct tm tm;

	if (gmt)
		http_date_format(x->now, s, sizeof s);
	else {
		localtime_r(&x->now, &tm);
		strftime(s, sizeof s, "%d/%b/%Y:%H:%M:%S %z", &tm);
	}
	ep_html_str(x, s, NULL);
}

static void
ep_addr(struct ep_ctx *x, const struct sockaddr *sa)
{
	char host[NI_MAXHOST];

	if (sa == NULL || getnameinfo(sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), host,
	    sizeof host, NULL, 0, NI_NUMERICHOST) != 0)
		ep_html_str(x, NULL, "[unknown]");
	else
		ep_html_str(x, host, NULL);
}

static void
ep_proxy_name(struct ep_ctx *x)
{
	char host[256];

	if (x->v->proxy_name != NULL)
		ep_html_str(x, x->v->proxy_name, NULL);
	else if (gethostname(host, sizeof host) == 0) {
		host[sizeof host - 1] = '\0';
		ep_html_str(x, host, NULL);
	} else
		ep_html_str(x, "localhost", NULL);
}

/* %H %p %P: from the URL when the caller did not say. */
static void
ep_url_part(struct ep_ctx *x, char code)
{
	const char *url = x->v->url;

	if (code == 'H' && x->v->origin_host != NULL)
		ep_html_str(x, x->v->origin_host, NULL);
	else if (!x->url_ok)
		ep_html_str(x, NULL, code == 'H' ? "[unknown host]" :
		    code == 'p' ? "[unknown port]" : "[unknown protocol]");
	else if (code == 'H')
		ep_html(x, url + x->url.host_off, x->url.host_len);
	else if (code == 'p')
		ep_check(x, http_out_printf(x->out, "%u", x->url.port));
	else if (x->url.scheme_len > 0)
		ep_html(x, url, x->url.scheme_len);
	else
		ep_html_str(x, NULL, "[unknown protocol]");
}

/* One %-code; false when cuttle does not know it. */
static bool
ep_code(struct ep_ctx *x, char code)
{
	const struct errpage_vars *v = x->v;
	const struct errpage_tpl *css;

	switch (code) {
	case 'U':
	case 'u':
		ep_html_str(x, v->url, "[no URL]");
		break;
	case 'M':
		if (v->method == NULL)
			ep_html_str(x, NULL, "[unknown method]");
		else
			ep_html(x, v->method, v->method_len > 0 ?
			    v->method_len : strlen(v->method));
		break;
	case 'E':
		if (v->sys_errno == 0)
			ep_html_str(x, NULL, "[No Error]");
		else {
			ep_check(x, http_out_printf(x->out, "(%d) ",
			    v->sys_errno));
			ep_html_str(x, strerror(v->sys_errno), NULL);
		}
		break;
	case 'e':
		ep_check(x, http_out_printf(x->out, "%d", v->sys_errno));
		break;
	case 'D':
		ep_html_str(x, v->detail, "[No Error Detail]");
		break;
	case 'z':
		ep_html_str(x, v->dns_msg, "[unknown]");
		break;
	case 'Z':
		ep_html_str(x, v->err_msg, "[unknown]");
		break;
	case 'T':
	case 't':
		ep_time(x, code == 'T');
		break;
	case 'h':
		ep_proxy_name(x);
		break;
	case 'H':
	case 'p':
	case 'P':
		ep_url_part(x, code);
		break;
	case 'i':
		ep_addr(x, v->client);
		break;
	case 'I':
		ep_addr(x, v->server);
		break;
	case 'a':
		ep_html_str(x, v->user, "-");
		break;
	case 'c':
		ep_html_str(x, errpage_name(x->id), NULL);
		break;
	case 'w':
		ep_html_str(x, v->cache_mgr, "webmaster");
		break;
	case 's':
		ep_html_str(x, PACKAGE_NAME "/" PACKAGE_VERSION, NULL);
		break;
	case 'R':
		ep_html_str(x, v->request, "[no request]");
		break;
	case 'l':
		/* Ours, from the tree: inserted as it is. */
		css = ep_template("errorpage.css");
		if (css != NULL)
			ep_put(x, css->text, css->len);
		break;
	case '%':
		ep_put(x, "%", 1);
		break;
	default:
		return (false);
	}
	return (true);
}

static void
ep_init(struct ep_ctx *x, enum errpage_id id, const struct errpage_vars *v,
    struct buf_chain *out)
{
	CHECK(id < ERRPAGE__COUNT);
	AN(v);
	CHECK_OBJ_NOTNULL(out, BUF_CHAIN_MAGIC);
	memset(x, 0, sizeof *x);
	x->v = v;
	x->id = id;
	x->now = v->now > 0 ? (time_t)v->now : time(NULL);
	x->url_ok = v->url != NULL &&
	    (http_url_parse(v->url, strlen(v->url), 0, &x->url) == 0 ||
	    http_url_parse(v->url, strlen(v->url), 1, &x->url) == 0);
	x->out = out;
}

static void
ep_body(struct ep_ctx *x, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *pc;

	while (p < end) {
		pc = memchr(p, '%', (size_t)(end - p));
		if (pc == NULL || pc + 1 == end) {
			ep_put(x, p, (size_t)(end - p));
			break;
		}
		ep_put(x, p, (size_t)(pc - p));
		if (!ep_code(x, pc[1]))
			ep_put(x, pc, 2);
		p = pc + 2;
	}
}

static void
ep_headers(struct ep_ctx *x, unsigned status, size_t body_len)
{
	const struct errpage_vars *v = x->v;
	char date[64];

	http_date_format(x->now, date, sizeof date);
	ep_check(x, http_out_printf(x->out, "HTTP/1.1 %u %s\r\n"
	    "Server: %s/%s\r\n"
	    "Date: %s\r\n"
	    "Content-Type: text/html;charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "X-Squid-Error: %s %d\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Language: en\r\n",
	    status, http_reason(status), PACKAGE_NAME, PACKAGE_VERSION, date,
	    body_len, errpage_name(x->id), v->sys_errno));
	if (v->extra_headers != NULL)
		ep_put(x, v->extra_headers, strlen(v->extra_headers));
	ep_check(x, http_out_printf(x->out, "Connection: %s\r\n\r\n",
	    v->keep_alive ? "keep-alive" : "close"));
}

int
errpage_expand(const char *text, size_t len, enum errpage_id id,
    const struct errpage_vars *v, struct buf_chain *out)
{
	struct ep_ctx x;

	AN(text);
	ep_init(&x, id, v, out);
	ep_body(&x, text, len);
	return (x.err);
}

int
errpage_render(enum errpage_id id, const struct errpage_vars *v,
    struct buf_chain *out, unsigned *status)
{
	const struct errpage_tpl *t;
	struct buf_chain body;
	struct ep_ctx x;
	unsigned st;

	CHECK(id < ERRPAGE__COUNT);
	CHECK_OBJ_NOTNULL(out, BUF_CHAIN_MAGIC);
	AN(status);
	t = ep_template(ep_rows[id].name);
	if (t == NULL)
		return (-ENOENT);
	buf_chain_init(&body, out->pool);
	ep_init(&x, id, v, &body);
	ep_body(&x, t->text, t->len);
	st = v->status != 0 ? v->status : ep_rows[id].status;
	x.out = out;
	if (x.err == 0)
		x.err = buf_chain_reserve(out, 512 +
		    (v->extra_headers != NULL ? strlen(v->extra_headers) : 0));
	if (x.err == 0)
		ep_headers(&x, st, buf_chain_len(&body));
	if (x.err == 0 && !v->head)
		x.err = buf_chain_move(out, &body);
	buf_chain_fini(&body);
	if (x.err != 0)
		return (x.err);
	*status = st;
	return (0);
}
