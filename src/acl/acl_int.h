/*
 * acl_int.h - what the files of src/acl share: the compiled acl, its
 * value structures, and the message helpers.  Not for other modules.
 *
 *	struct acl_set
 *	  v[] -> struct acl { name, type, u: one of
 *	           acl_ipset    sorted, merged [lo,hi] ranges of 128-bit
 *	                        addresses (IPv4 as ::ffff:a.b.c.d)
 *	           acl_domains  hash of names; lookup probes each suffix
 *	           acl_regexes  regex_t[]
 *	           acl_ranges   sorted, merged [lo,hi] integers
 *	           methods, protocols, time spans, a connection limit }
 */
#ifndef CUTTLE_ACL_INT_H
#define CUTTLE_ACL_INT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl/acl.h"

#define ACLF_REGEX	0x01u
#define ACLF_DNS	0x02u
#define ACLF_DST	0x04u
#define ACLF_CONNS	0x40u	/* needs src_conns (acl_rules_need_conns) */
#define ACLF_REPLY	0x08u
#define ACLF_RDNS	0x10u
#define ACLF_AUTH	0x80u	/* needs credentials checked (ACL_NEED_USER) */
#define ACLF_EXT	0x100u	/* asks an external acl helper */
#define ACLF_SSLNAME	0x200u	/* --client-requested ... (ssl::server_name) */

enum acl_class {
	ACL_C_IP,
	ACL_C_DOMAIN,
	ACL_C_REGEX,
	ACL_C_RANGE,
	ACL_C_METHOD,
	ACL_C_PROTO,
	ACL_C_TIME,
	ACL_C_MAXCONN,
	ACL_C_MANAGER,
	ACL_C_USER,
	ACL_C_WORDS		/* words kept as given (acl_users, never
				 * required): external TYPE args, note */
};

enum acl_type {
#define ACL_TYPE(sym, name, class, flags, syntax)	ACL_T_##sym,
#include "acl/acl_type_tbl.h"
#undef ACL_TYPE
	ACL_T_MANAGER,		/* built-in only: req->manager */
	ACL_T__COUNT
};

struct acl_type_info {
	const char	*name;
	enum acl_class	cls;
	unsigned	flags;
	const char	*syntax;
};

extern const struct acl_type_info	acl_types[ACL_T__COUNT];

/* A lookup an acl waits for before it can answer (asynchronous checks). */
enum acl_need {
	ACL_NEED_NONE,
	ACL_NEED_DST,		/* the origin's address */
	ACL_NEED_SRC_NAME,	/* the client's name */
	ACL_NEED_USER,		/* the credentials, checked */
	ACL_NEED_EXTERNAL	/* an external acl helper's answer */
};

struct acl;
struct acl_rules;
struct acl_set;

/*
 * acl_set_hold(), acl_rules_hold() - one more reference, dropped with
 * acl_set_free() / acl_rules_free(): rules hold their set, and a check
 * that waits holds its rules, so a reconfigure may free what it replaces
 * while checks started under it still wait for a lookup or a helper.
 */
struct acl_set		*acl_set_hold(const struct acl_set *s);
struct acl_rules	*acl_rules_hold(const struct acl_rules *r);
/* acl_need_of() - what a must wait for to answer for req: a lookup that
 * req->known says was not done, and that the request's own fields do
 * not make needless (dst all, a host that is an address literal). */
enum acl_need	acl_need_of(const struct acl *a, const struct acl_request *req);

/*
 * acl_rules_eval() - acl_rules_decide() from rule *rule, term *term (0, 0
 * for a whole check).  With need not NULL it stops before an acl that
 * needs a lookup: ACL_WAIT, *need says which, and *rule, *term where to
 * go on from once it is done.
 */
/* acl_rules_term_acl() - the acl at (rule, term), where an evaluation
 * stopped. */
const struct acl	*acl_rules_term_acl(const struct acl_rules *r,
			    uint32_t rule, uint32_t term);

/* -- external acls (acl_external.c) ---------------------------------------- */

/* What an external acl's helper said besides yes or no: its user=, tag=
 * and log= (each NULL when not given). */
struct acl_ext_notes {
	const char	*user;
	const char	*tag;
	const char	*log;
};

/* acl_external_start() - the answer of a's helper for req: 0 with *match
 * and *notes (lent until the next call) set when known now (cached, or
 * cannot be asked: no match, no notes), 1 when acl_check_ext_done(ck,
 * ...) will run once from the loop. */
int	acl_external_start(struct acl_externals *xs, const struct acl *a,
	    const struct acl_request *req, struct acl_check *ck, bool *match,
	    struct acl_ext_notes *notes);
/* acl_external_cancel() - ck's question: its completion still comes. */
void	acl_external_cancel(struct acl_check *ck);
/* The completion of acl_external_start() (acl_check.c). */
void	acl_check_ext_done(struct acl_check *ck, bool match,
	    const struct acl_ext_notes *notes);
/* acl_external_words() - a's TYPE and arguments. */
const struct acl_users	*acl_external_words(const struct acl *a);

enum acl_answer	acl_rules_eval(const struct acl_rules *r,
		    const struct acl_request *req, enum acl_answer if_no_rules,
		    uint32_t *rule, uint32_t *term, enum acl_need *need,
		    struct acl_decision *d);

/* Where a line came from, and where its problems are counted. */
struct acl_where {
	const char	*file;
	unsigned	line;
	const char	*directive;	/* "acl", "http_access" ... */
	const char	*syntax;	/* the advice when none is given */
	int		*errors;	/* counts acl_error() calls */
};

/* "file:line: directive: problem" and "    advice: ..." (the syntax when
 * advice is NULL); acl_error() counts an error, acl_warn() does not. */
void	acl_error(const struct acl_where *w, const char *advice,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void	acl_warn(const struct acl_where *w, const char *advice,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* -- addresses (acl_ip.c) -------------------------------------------------- */

struct acl_ip {
	uint64_t	hi;		/* bytes 0-7 of the address */
	uint64_t	lo;		/* bytes 8-15 */
};

struct acl_iprange {
	struct acl_ip	first;
	struct acl_ip	last;
};

struct acl_ipset {
	struct acl_iprange	*v;	/* sorted, disjoint once finished */
	size_t			n;
	size_t			cap;
	bool			any;	/* covers every address */
};

/* 0, or -1 after logging the problem with value. */
int	acl_ipset_add(struct acl_ipset *s, const struct acl_where *w,
	    const char *value);
int	acl_ipset_finish(struct acl_ipset *s);
bool	acl_ipset_match(const struct acl_ipset *s, const struct acl_ip *a);
bool	acl_ip_from_sockaddr(const struct sockaddr *sa, struct acl_ip *a);
bool	acl_ip_from_text(const char *s, size_t len, struct acl_ip *a);
void	acl_ipset_fini(struct acl_ipset *s);

/* -- domains (acl_domain.c) ------------------------------------------------ */

struct acl_domains;

struct acl_domains	*acl_domains_new(void);
/* 0, or -1 after logging the problem with value; -ENOMEM when out of
 * memory (not logged). */
int	acl_domains_add(struct acl_domains *d, const struct acl_where *w,
	    const char *value);
/* Warns (at most a few times) about names another entry already covers,
 * as Squid does, and drops what only the build needed. */
void	acl_domains_finish(struct acl_domains *d, const char *aclname);
bool	acl_domains_match(const struct acl_domains *d, const char *host,
	    size_t len);
size_t	acl_domains_count(const struct acl_domains *d);
size_t	acl_domains_bytes(const struct acl_domains *d);
void	acl_domains_free(struct acl_domains **dp);

/* -- the other value types (acl_values.c) ---------------------------------- */

struct acl_regexes {
	regex_t		*v;
	size_t		n;
};

struct acl_range {
	uint32_t	lo;
	uint32_t	hi;
};

struct acl_ranges {
	struct acl_range	*v;	/* sorted, disjoint once finished */
	size_t			n;
};

struct acl_methods {
	uint32_t	known;		/* bit per enum http_method */
	char		**ext;		/* extension methods */
	size_t		n;
};

struct acl_protos {
	uint32_t	known;		/* bit per protocol name */
};

/* File names that messages and rules point at, kept until freed. */
struct acl_files {
	char		**v;
	size_t		n;
};

struct acl_timespan {
	uint8_t		days;		/* bit per tm_wday */
	uint16_t	first;		/* minutes since midnight, */
	uint16_t	last;		/* both included (as Squid) */
};

/* proxy_auth: REQUIRED (any user), or these names (case-sensitive, as
 * Squid compares them). */
struct acl_users {
	char		**v;
	size_t		n;
	bool		required;
};

struct acl_times {
	struct acl_timespan	*v;
	size_t			n;
};

struct acl {
	unsigned		magic;
#define ACL_MAGIC		0xac1ac1a1U
	char			*name;
	enum acl_type		type;
	bool			builtin;
	const char		*file;	/* first definition */
	unsigned		line;
	union {
		struct acl_ipset	ip;
		struct acl_domains	*dom;
		struct acl_regexes	re;
		struct acl_ranges	range;
		struct acl_methods	method;
		struct acl_protos	proto;
		struct acl_times	time;
		struct acl_users	users;
		unsigned long		maxconn;
	} u;
	bool			has_max;	/* maxconn given */
	bool			strict;		/* max_user_ip -s */
	uint8_t			names;		/* enum acl_ssl_names */
};

/* Which server names an ssl::server_name acl looks at. */
enum acl_ssl_names {
	ACL_SSL_KNOWN,		/* the name known so far (Squid's default) */
	ACL_SSL_CLIENT,		/* --client-requested: SNI, else CONNECT */
	ACL_SSL_SERVER,		/* --server-provided: certificate names */
	ACL_SSL_CONSENSUS	/* --consensus: both agree */
};

int	acl_regex_add(struct acl_regexes *r, const struct acl_where *w,
	    const char *value, bool icase);
bool	acl_regex_match(const struct acl_regexes *r, const char *s,
	    size_t len);
void	acl_regex_fini(struct acl_regexes *r);

int	acl_range_add(struct acl_ranges *r, const struct acl_where *w,
	    const char *value, uint32_t max, bool open_ended);
void	acl_range_finish(struct acl_ranges *r);
bool	acl_range_match(const struct acl_ranges *r, uint32_t v);

int	acl_method_add(struct acl_methods *m, const struct acl_where *w,
	    const char *value);
bool	acl_method_match(const struct acl_methods *m,
	    const struct acl_request *req);
void	acl_method_fini(struct acl_methods *m);

int	acl_proto_add(struct acl_protos *p, const struct acl_where *w,
	    const char *value);
bool	acl_proto_match(const struct acl_protos *p, const char *proto);

/* The words of one line (a line of a time acl is one spec). */
int	acl_time_add(struct acl_times *t, const struct acl_where *w,
	    char *const *words, size_t n);
bool	acl_time_match(const struct acl_times *t, time_t now);

/* maxconn takes one number, once per acl. */
int	acl_maxconn_set(struct acl *a, const struct acl_where *w,
	    const char *value);

/* acl_match() - does a match req?  (acl.c) */
bool	acl_match(const struct acl *a, const struct acl_request *req);

/* acl_set_find() - the acl named name (any case), or NULL.  (acl.c) */
const struct acl	*acl_set_find(const struct acl_set *s,
			    const char *name);

/* acl_files_intern() - name, kept in f until acl_files_fini(); NULL when
 * out of memory.  (acl.c) */
const char	*acl_files_intern(struct acl_files *f, const char *name);
void		acl_files_fini(struct acl_files *f);

#endif /* CUTTLE_ACL_INT_H */
