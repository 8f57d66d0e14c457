/*
 * acl.h - Squid's access control lists and http_access-style rules.
 *
 * Contract: acl and rule lines (struct conf_lines, as conf keeps them) are
 * compiled once into immutable structures; a check is then a pure
 * function of a request view (struct acl_request) filled by the client
 * side: no sockets, no DNS, no allocation, no global state, so one
 * compiled set may be used by any number of checks at once.
 *
 * Lifecycle:
 *	acl_set_compile()	acl lines -> struct acl_set (built-ins added)
 *	acl_rules_compile()	rule lines -> struct acl_rules over that set
 *	acl_rules_check()	a request view -> ACL_ALLOW / ACL_DENY
 *	acl_rules_free()	the owner's reference; a check waiting on
 *	acl_set_free()		them holds them (and rules hold their
 *				set) until its answer, so a reconfigure
 *				frees what it replaces at once
 *
 * Problems are logged (section acl) as "file:line: <directive>: <problem>"
 * with an "    advice: ..." line, and counted in *errors; compiling never
 * stops at a bad line, so `cuttle -k parse` shows every problem at once,
 * and a configuration with errors must not be put in force.
 *
 * A denied request is answered by the client side with the
 * ERR_ACCESS_DENIED page, status 403, logged as TCP_DENIED/403.
 * Details and measurements: doc/internals/acl.md.
 */
#ifndef CUTTLE_ACL_H
#define CUTTLE_ACL_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct acl_externals;
struct acl_rules;
struct acl_set;
struct comm_loop;
struct conf_lines;
struct helper_pools;
struct http_msg;
struct mgr_registry;

/* The answers external acls gave one request, each acl asked once. */
#define ACL_EXT_MAX	8
struct acl_ext_answer {
	const void	*acl;		/* struct acl */
	bool		match;
};

/*
 * What a check looks at, filled by the client side.  Strings are counted
 * and need not be NUL-terminated (they may point into a parsed request);
 * NULL with length 0 means absent, and an acl about an absent field does
 * not match (so its negation does).
 */
struct acl_request {
	const struct sockaddr	*src;		/* client address */
	const char		*src_name;	/* its name by reverse DNS
						 * (lower case, no final
						 * dot), or NULL: unknown or
						 * not looked up */
	size_t			src_name_len;
	const struct sockaddr	*dst;		/* resolved origin, or NULL */
	const char		*host;		/* URL host, no brackets */
	size_t			host_len;
	uint16_t		port;		/* URL port (443 for CONNECT) */
	uint16_t		myport;		/* local port the client used */
	int			method;		/* enum http_method */
	const char		*method_name;	/* as sent, for extensions */
	size_t			method_len;
	const char		*proto;		/* NUL-terminated: "HTTP",
						 * "HTTPS", "FTP",
						 * "cache_object"; NULL for
						 * CONNECT */
	const char		*url;		/* absolute URL */
	size_t			url_len;
	const char		*path;		/* path and query */
	size_t			path_len;
	const char		*user_agent;	/* User-Agent value */
	size_t			ua_len;
	bool			manager;	/* a cache manager request */
	unsigned		src_conns;	/* open connections from src,
						 * this one included */
	int			status;		/* reply status; 0: no reply */
	const char		*user;		/* vouched for by proxy
						 * authentication, or NULL */
	size_t			user_len;
	unsigned		user_ips;	/* addresses user came from
						 * within authenticate_ip_ttl,
						 * src included (max_user_ip) */
	/* A max_user_ip acl matched: the caller forgets src (strict) or
	 * all of the user's addresses, as Squid does (NULL: nothing). */
	void			(*user_ips_over)(void *ctx, bool strict,
				    unsigned max);
	void			*user_ips_ctx;
	time_t			now;		/* for time acls (local time) */
	unsigned		known;		/* ACL_KNOW_*: lookups done */
	/* What helper lines may carry (acl_format_expand()). */
	/* Where the client came in: asked for only by the codes that
	 * print it, so that the request that never needs it costs no
	 * getsockname().  NULL, or local(local_arg) NULL: unknown. */
	const struct sockaddr	*(*local)(void *local_arg);
	void			*local_arg;
	const struct http_msg	*msg;		/* the request's headers */
	const char		*ext_user;	/* an external acl's user= */
	const char		*ext_tag;	/* ... and tag= */
	const struct acl_ext_answer *ext;	/* external acls answered */
	unsigned		next;
	/* ssl_bump (at_step, ssl::server_name, ssl_error). */
	unsigned		ssl_step;	/* 1-3; 0: not bumping */
	const char		*sni;		/* the ClientHello's name */
	size_t			sni_len;
	const char *const	*cert_names;	/* the origin certificate's
						 * names (NUL-terminated) */
	size_t			ncert_names;
	int			ssl_error;	/* a verify error being judged
						 * (sslproxy_cert_error); 0:
						 * none */
};

/* What lookups a check (acl_check_start()) has done for a request: dst
 * and src_name hold their answers (none: not found).  A pure check
 * (acl_rules_check()) starts none: an acl whose lookup was not done does
 * not match. */
#define ACL_KNOW_DST		0x1u
#define ACL_KNOW_SRC_NAME	0x2u
#define ACL_KNOW_USER		0x4u	/* credentials checked: user */

enum acl_answer {
	ACL_DENY = 0,
	ACL_ALLOW = 1,
	ACL_WAIT,		/* acl_check_start(): a lookup is under way */
	ACL_CANCELLED		/* acl_check_cancel() */
};

/* Why a check answered as it did (for logs, debugging and tests). */
struct acl_decision {
	enum acl_answer	answer;
	const char	*file;		/* the deciding rule; when no rule
					 * matched, the last one; NULL when
					 * there are no rules */
	unsigned	line;
	bool		implicit;	/* no rule matched: the opposite of
					 * the last rule's action applied */
	const char	*acl;		/* the last acl tested, as Squid's
					 * AclMatchedName (deny_info); NULL
					 * when none was */
	bool		auth_acl;	/* that acl is proxy_auth or
					 * proxy_auth_regex (Squid's
					 * aclIsProxyAuth()) */
};

/*
 * acl_set_compile() - compile conf's acl lines ("name type [-i] value ...";
 * a value that is an absolute path is a file of values, one a line, '#'
 * comments; for regex types only when that file exists).  The built-ins
 * all, localhost, to_localhost, manager and CONNECT always exist.  Adds
 * the number of errors to *errors; returns the set (without the bad
 * lines), or NULL when out of memory (counted as an error).  acls may be
 * NULL: built-ins only.  The set copies what it keeps: acls may be freed
 * afterwards.
 */
struct acl_set	*acl_set_compile(const struct conf_lines *acls, int *errors);
void		acl_set_free(struct acl_set **sp);

/* acl_set_bytes() - heap bytes the compiled set holds (approximate). */
size_t		acl_set_bytes(const struct acl_set *s);

/*
 * acl_rules_compile() - compile "allow|deny [!]aclname ..." lines of the
 * named directive (http_access, http_reply_access, cache ...) against
 * set, which must outlive the result.  Adds errors to *errors; returns
 * the rules without the bad lines, or NULL when out of memory.  rules may
 * be NULL: no rules.
 */
struct acl_rules	*acl_rules_compile(const struct acl_set *set,
			    const struct conf_lines *rules,
			    const char *directive, int *errors);
void			acl_rules_free(struct acl_rules **rp);

/*
 * acl_rules_check() - rules top-down; the acls of one rule must all match
 * (a '!' inverts one); the first rule that matches decides; when none
 * does, the opposite of the last rule's action; with no rules at all,
 * if_no_rules.  acl_rules_decide() does the same and, when d is not NULL,
 * says which rule decided.  Pure: req is only read.
 */
enum acl_answer	acl_rules_check(const struct acl_rules *r,
		    const struct acl_request *req, enum acl_answer if_no_rules);
enum acl_answer	acl_rules_decide(const struct acl_rules *r,
		    const struct acl_request *req, enum acl_answer if_no_rules,
		    struct acl_decision *d);

/* -- checks that may wait ------------------------------------------------- */

struct acl_check;
struct dns_query;
struct dns_resolver;

/* Where an asynchronous check's lookups keep their answers: owned by the
 * caller (the transaction), for every check of one request, so that a
 * name looked up for http_access serves `cache` and http_reply_access
 * too.  Zero it to start; acl_lookups_fini() frees what it holds. */
struct acl_lookups {
	unsigned		known;		/* ACL_KNOW_* */
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}			dst;		/* AF_UNSPEC: none found */
	char			*src_name;	/* NULL: none found */
	char			*user;		/* NULL: no valid credentials */
	/* Checking the request's credentials, for proxy_auth acls: set by
	 * the caller before the first check (NULL: no authentication is
	 * configured, and proxy_auth never matches).  auth_start() answers
	 * at once (0, with *user a malloc'd name or NULL: none valid), or
	 * starts a check (1) whose completion calls acl_check_auth_done()
	 * once, from the loop, also after auth_cancel(). */
	int			(*auth_start)(void *ctx, struct acl_check *ck,
				    char **user);
	void			(*auth_cancel)(void *ctx);
	void			*auth_ctx;
	/* max_user_ip: the user's addresses, counted by the caller when
	 * the user is known (before acl_check_auth_done() or the return
	 * of auth_start), and what a match does (req->user_ips_over, with
	 * auth_ctx). */
	unsigned		user_ips;
	void			(*auth_ips_over)(void *ctx, bool strict,
				    unsigned max);
	/* External acls: their helpers (set by the caller; NULL: none,
	 * and external acls do not match), their answers, and the user=
	 * and tag= they gave (the last of each, malloc'd). */
	struct acl_externals	*externals;
	struct acl_ext_answer	ext[ACL_EXT_MAX];
	unsigned		next;
	char			*ext_user;
	char			*ext_tag;
	char			*ext_log;	/* log= (access.log's %ea) */
};
void	acl_lookups_fini(struct acl_lookups *lk);
/* acl_lookups_view() - point req's dst, src_name and known at lk. */
void	acl_lookups_view(const struct acl_lookups *lk,
	    struct acl_request *req);

/* The answer (ACL_ALLOW, ACL_DENY or ACL_CANCELLED) of a check that
 * waited; runs from the loop, once. */
typedef void acl_check_fn(struct acl_check *ck, enum acl_answer a,
    void *arg);

/* One evaluation of a rule list that may stop at an acl whose answer
 * needs a lookup (dst: the origin's address; srcdomain: the client's
 * name), start it, and go on where it stopped when it completes: Squid's
 * ACLChecklist idea.  Embedded in its owner; the fields are private. */
struct acl_check {
	unsigned		magic;
#define ACL_CHECK_MAGIC		0xac1ec4ecU
	const struct acl_rules	*rules;
	struct acl_request	*req;
	struct acl_lookups	*lk;
	struct dns_resolver	*dns;
	struct dns_query	*q;		/* the lookup under way */
	acl_check_fn		*fn;
	void			*arg;
	uint32_t		rule, term;	/* where it stopped */
	uint8_t			if_no_rules;
	uint8_t			need;		/* what q looks up */
	const void		*ext_acl;	/* the external acl asked */
	void			*ext_q;		/* its question, while out */
	bool			waiting;	/* ACL_WAIT given, fn to run */
	bool			cancelled;
	bool			auth_acl;	/* the answer's last acl tested
						 * was proxy_auth(_regex) */
};

/*
 * acl_check_start() - evaluate r for req, as acl_rules_check() does.  The
 * answer comes back at once (ACL_ALLOW, ACL_DENY) unless an acl on the
 * way needs a lookup not done yet (lk->known): then it is started on dns
 * and ACL_WAIT is returned, fn runs once from the loop with the answer,
 * and req and lk must stay valid (and unchanged) until it has.  Lookups
 * fill lk (and req through it); fast acls never wait, and neither does a
 * check whose lookups are done (or with dns NULL: an acl whose lookup
 * cannot be made does not match, as Squid has it).  r NULL answers
 * if_no_rules.
 */
enum acl_answer	acl_check_start(struct acl_check *ck,
		    const struct acl_rules *r, struct acl_request *req,
		    struct acl_lookups *lk, struct dns_resolver *dns,
		    enum acl_answer if_no_rules, acl_check_fn *fn, void *arg);
/* acl_check_cancel() - a check that waits: fn will run once with
 * ACL_CANCELLED (its lookup's completion still comes).  Nothing when the
 * check is not waiting. */
void		acl_check_cancel(struct acl_check *ck);
/* acl_check_auth_done() - the completion of lk->auth_start(): user (NULL:
 * no valid credentials; copied) goes into lk, and the check goes on. */
void		acl_check_auth_done(struct acl_check *ck, const char *user);
/* acl_lookups_auth_failed() - a proxy_auth acl was reached and the
 * request has no valid credentials: a denial is then answered 407, so
 * that the client asks its user (Squid's ACCESS_AUTH_REQUIRED). */
bool		acl_lookups_auth_failed(const struct acl_lookups *lk);
/*
 * acl_check_denied_by_auth() - the answer was a denial by a rule whose
 * last acl tested is proxy_auth or proxy_auth_regex ("http_access deny
 * bob"): Squid answers it 407 so that the user may log in as someone
 * else, and "http_access deny bob all" (the last acl not an auth one)
 * 403.  Sites rely on both.
 */
bool		acl_check_denied_by_auth(const struct acl_check *ck);
/* acl_check_waiting() - true between ACL_WAIT and fn. */
bool		acl_check_waiting(const struct acl_check *ck);

/* acl_rules_count() - how many rules were compiled. */
size_t		acl_rules_count(const struct acl_rules *r);

/*
 * acl_rules_need_dst() - true when a rule uses a dst acl (to_localhost
 * included): the client side must resolve the origin and fill req->dst
 * before the check, or those acls see no address and do not match.
 */
bool		acl_rules_need_dst(const struct acl_rules *r);
/*
 * acl_rules_need_src_name() - true when a rule uses a srcdomain acl: the
 * client side must look the client's address up (dns_lookup_addr()) and
 * fill req->src_name before the check, or srcdomain sees no name and
 * does not match.  That is a reverse lookup per new client address (the
 * resolver caches answers), so it may be slow, as in Squid.
 */
bool		acl_rules_need_src_name(const struct acl_rules *r);
/* acl_rules_need_conns() - true when a rule uses maxconn: only then does
 * the caller need to count src_conns. */
bool		acl_rules_need_conns(const struct acl_rules *r);

/* acl_auth_check_acls() - with auth false (no auth_param lines), each
 * proxy_auth, proxy_auth_regex and max_user_ip acl line is an error
 * (logged, file:line, counted), as in Squid, which refuses them. */
void			acl_auth_check_acls(const struct conf_lines *acls,
			    bool auth, int *errors);

/* -- external acls (acl_external.c) --------------------------------------- */

/*
 * acl_externals_new() - the external_acl_type lines (Squid's "NAME
 * [ttl= negative_ttl= grace= cache= children-max= children-startup=
 * children-idle= concurrency= queue-size= timeout= protocol=2.5] FORMAT
 * PROGRAM [args]"), their helper pools started on loop (NULL: lines
 * checked only).  NULL with *errors unchanged when there are none;
 * problems logged (file:line) and counted.  Answers are cached by the
 * line sent, OK for ttl and ERR for negative_ttl; BH, garbage, a
 * timeout or a full queue are not cached, and the acl does not match.
 */
struct acl_externals	*acl_externals_new(struct comm_loop *loop,
			    const struct conf_lines *types, int *errors);
/* acl_externals_free() - questions still out complete (no match). */
void			acl_externals_free(struct acl_externals **xp);
/* acl_externals_check_acls() - each "acl x external TYPE" names a
 * defined TYPE (else logged, counted). */
void			acl_externals_check_acls(const struct conf_lines *acls,
			    const struct conf_lines *types, int *errors);
/* acl_externals_replace() - to's pools take from's pages and places in
 * ps, by type name (from NULL: registered anew).  -EINVAL, nothing done,
 * when from has a type to lacks (that takes a restart); r NULL only
 * asks that. */
int			acl_externals_replace(struct acl_externals *from,
			    struct acl_externals *to, struct mgr_registry *r,
			    struct helper_pools *ps);

/* -- helper lines (acl_format.c) ----------------------------------------- */

/*
 * A helper line's format: Squid's logformat codes %>a %>A %>p %la %lp
 * %un %ul %ue %et %>rm %ru %>rd %>rP %>rp %>rs %>{Header}, and the
 * legacy %SRC %SRCPORT %LOGIN %DST %PORT %PROTO %METHOD %URI %PATH
 * %MYADDR %MYPORT %EXT_USER %EXT_TAG %{Header} %DATA, compiled once (at
 * configuration) so that a request's line is filled without parsing.
 *
 * acl_format_new() - fmt compiled (it keeps its own copy), or NULL: *bad
 * at the first '%' in fmt that starts no code, or *bad NULL when there
 * was no memory.  Freed with acl_format_free().
 *
 * acl_format_expand() - the line for req: each value %-escaped and "-"
 * when unknown; %DATA is data as it is.  The line's length,
 * NUL-terminated in out, or -E2BIG when it does not fit in cap bytes.
 */
struct acl_format;
struct acl_format *acl_format_new(const char *fmt, const char **bad);
void	acl_format_free(struct acl_format **fp);
int	acl_format_expand(const struct acl_format *f,
	    const struct acl_request *req, const char *data, char *out,
	    size_t cap);
/* acl_format_has() - does f use the code code ("DATA", ">a", ">{Via}":
 * that header, its name in any case)? */
bool	acl_format_has(const struct acl_format *f, const char *code);

#endif /* CUTTLE_ACL_H */
