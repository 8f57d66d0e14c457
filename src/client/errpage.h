/*
 * errpage.h - Squid-style error pages: a whole HTTP/1.1 response from a
 * template with %-codes filled in.
 *
 * Contract:
 * - The templates are etc/errors/ERR_*.html in the source tree, compiled
 *   into the daemon by the build (client/errpage_tbl.c), so an error page
 *   never depends on where cuttle is installed; the installed copies in
 *   $(pkgdatadir)/errors are for reading and editing.
 * - Every value put into a page is HTML-escaped; a %-code cuttle does not
 *   know is left as it is.  Codes, as in Squid: %U %u URL, %M method,
 *   %E "(errno) strerror", %e errno, %D detail, %z DNS message, %Z error
 *   message, %T time (RFC 1123), %t local time, %h this proxy's name,
 *   %H origin host, %p port, %P scheme, %i client IP, %I server IP, %a
 *   user, %c error name, %w cache_mgr, %s "cuttle/VERSION", %R the
 *   request, %l the stylesheet (etc/errors/errorpage.css), %% a '%'.
 * - The response carries Server, Date, Content-Type text/html with
 *   charset, Content-Length (always the body's length, also for HEAD,
 *   which gets no body), X-Squid-Error "ERR_NAME errno" (Squid's name:
 *   scripts grep for it), Cache-Control: no-store, Content-Language, the
 *   caller's extra lines, and Connection.
 */
#ifndef CUTTLE_CLIENT_ERRPAGE_H
#define CUTTLE_CLIENT_ERRPAGE_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

struct buf_chain;

/*
 * ERRPAGE(sym, name, status): one row per page a caller can ask for.
 * name is the template (and the X-Squid-Error name); several rows may
 * share one template with different statuses, as Squid's ERR_TOO_BIG
 * serves 413, 414, 431 and 502.
 */
#define ERRPAGE_TABLE(ERRPAGE)						\
	ERRPAGE(INVALID_REQ,		"ERR_INVALID_REQ",		400) \
	ERRPAGE(INVALID_URL,		"ERR_INVALID_URL",		400) \
	ERRPAGE(ACCESS_DENIED,		"ERR_ACCESS_DENIED",		403) \
	ERRPAGE(CACHE_ACCESS_DENIED,	"ERR_CACHE_ACCESS_DENIED",	407) \
	ERRPAGE(EXPECTATION_FAILED,	"ERR_INVALID_REQ",		417) \
	ERRPAGE(TOO_BIG_REQUEST,	"ERR_TOO_BIG",			431) \
	ERRPAGE(URI_TOO_LONG,		"ERR_TOO_BIG",			414) \
	ERRPAGE(TOO_BIG,		"ERR_TOO_BIG",			413) \
	ERRPAGE(TOO_BIG_REPLY,		"ERR_TOO_BIG",			502) \
	ERRPAGE(GATEWAY_FAILURE,	"ERR_GATEWAY_FAILURE",		500) \
	ERRPAGE(UNSUP_REQ,		"ERR_UNSUP_REQ",		501) \
	ERRPAGE(UNSUP_HTTP_VERSION,	"ERR_UNSUP_HTTPVERSION",	505) \
	ERRPAGE(INVALID_RESP,		"ERR_INVALID_RESP",		502) \
	ERRPAGE(ZERO_SIZE_OBJECT,	"ERR_ZERO_SIZE_OBJECT",		502) \
	ERRPAGE(READ_ERROR,		"ERR_READ_ERROR",		502) \
	ERRPAGE(WRITE_ERROR,		"ERR_WRITE_ERROR",		502) \
	ERRPAGE(DNS_FAIL,		"ERR_DNS_FAIL",			503) \
	ERRPAGE(CONNECT_FAIL,		"ERR_CONNECT_FAIL",		503) \
	ERRPAGE(SECURE_CONNECT_FAIL,	"ERR_SECURE_CONNECT_FAIL",	503) \
	ERRPAGE(CANNOT_FORWARD,		"ERR_CANNOT_FORWARD",		503) \
	ERRPAGE(SHUTTING_DOWN,		"ERR_SHUTTING_DOWN",		503) \
	ERRPAGE(READ_TIMEOUT,		"ERR_READ_TIMEOUT",		504) \
	ERRPAGE(ONLY_IF_CACHED_MISS,	"ERR_ONLY_IF_CACHED_MISS",	504) \
	ERRPAGE(LIFETIME_EXP,		"ERR_LIFETIME_EXP",		504)

enum errpage_id {
#define ERRPAGE_ENUM(sym, name, status)	ERRPAGE_##sym,
	ERRPAGE_TABLE(ERRPAGE_ENUM)
#undef ERRPAGE_ENUM
	ERRPAGE__COUNT
};

/*
 * What a page may show.  Every pointer may be NULL (the page then says
 * "[unknown]" or the like, as Squid's do) and is only read during
 * errpage_render().
 */
struct errpage_vars {
	const char		*url;		/* %U %u, and %H %p %P */
	const char		*method;	/* %M */
	size_t			method_len;	/* 0: method is a C string */
	const char		*detail;	/* %D: what went wrong */
	int			sys_errno;	/* %E %e, X-Squid-Error */
	const char		*dns_msg;	/* %z */
	const char		*err_msg;	/* %Z */
	const char		*origin_host;	/* %H; NULL: the URL's host */
	const struct sockaddr	*client;	/* %i */
	const struct sockaddr	*server;	/* %I */
	const char		*user;		/* %a */
	const char		*request;	/* %R: the request's head */
	const char		*proxy_name;	/* %h (visible_hostname); NULL:
						 * the machine's name */
	const char		*cache_mgr;	/* %w; NULL: "webmaster" */
	const char		*extra_headers;	/* whole "Name: value\r\n" lines
						 * (Via, X-Cache) */
	double			now;		/* Date, %T %t; 0: time(NULL) */
	unsigned		status;		/* 0: the page's own */
	bool			head;		/* a reply to HEAD: no body */
	bool			keep_alive;	/* Connection: keep-alive, else
						 * close */
};

/*
 * errpage_render() - append the whole response for page id to out (an
 * initialised chain; its pool gives the blocks) and set *status to the
 * status sent.  0, -ENOMEM (out may hold a prefix: fini it), or -ENOENT
 * when the build compiled no template for the page (a packaging bug).
 */
int	errpage_render(enum errpage_id id, const struct errpage_vars *v,
	    struct buf_chain *out, unsigned *status);

/*
 * errpage_expand() - fill in the %-codes of text (len bytes: a template
 * of one's own, as deny_info and error_directory will give) as for page
 * id, and append the result to out.  0 or -ENOMEM.
 */
int	errpage_expand(const char *text, size_t len, enum errpage_id id,
	    const struct errpage_vars *v, struct buf_chain *out);

/* errpage_name() - "ERR_ACCESS_DENIED": for access.log (%err_code) and
 * X-Squid-Error. */
const char	*errpage_name(enum errpage_id id);
/* errpage_status() - the page's own status. */
unsigned	errpage_status(enum errpage_id id);

/*
 * The templates compiled in: {file name without ".html", bytes, length},
 * ended by a NULL name.  Defined in the generated client/errpage_tbl.c;
 * only errpage.c and its test read it.
 */
struct errpage_tpl {
	const char	*name;
	const char	*text;
	size_t		len;
};
extern const struct errpage_tpl	errpage_tpls[];

#endif /* CUTTLE_CLIENT_ERRPAGE_H */
