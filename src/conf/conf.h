/*
 * conf.h - squid-style configuration: cuttle.conf into a struct conf.
 *
 * One directive per line (a trailing backslash continues it), '#'
 * comments, "quoted strings", `include` with glob patterns.  Each
 * directive is a row of directives.def, the single source for parsing,
 * defaults and documentation.  Problems are logged with file:line: an
 * unknown directive is a warning and loading goes on; a bad value is an
 * error, counted, and start-up refuses a configuration with errors.
 *
 * Lifecycle:
 *	conf_new()	every field empty
 *	conf_load()	directives from a file (again for more files)
 *	conf_finish()	defaults for every directive never given
 *	conf_free()	everything released
 */
#ifndef CUTTLE_CONF_H
#define CUTTLE_CONF_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* https_port's TLS settings, as written (strings owned by the conf; see
 * struct tls_options for their meaning). */
struct conf_port_tls {
	char		*cert;		/* tls-cert=, cert= */
	char		*key;		/* tls-key=, key=; NULL: in cert */
	char		*cafile;	/* clientca=, tls-cafile= */
	char		*capath;	/* capath=: a hashed directory */
	char		*cipher;	/* cipher= */
	char		*options;	/* options= */
	int		min_version;	/* tls-min-version=: 0x0301 (1.0)
					 * ... 0x0304 (1.3); 0: default */
	uint64_t	cert_cache;	/* ssl-bump: dynamic_cert_mem_cache_size
					 * (bytes) */
	bool		leaf_rsa;	/* ssl-bump: dynamic_cert_key=rsa2048
					 * (default p256) */
};

/* An http_port or https_port line. */
struct conf_port {
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
	struct conf_port_tls	*tls;	/* https_port; NULL: http_port */
	struct conf_port_tls	*bump;	/* http_port ssl-bump: the CA
					 * (cert, key) that certificates are
					 * minted with; NULL: no bumping */
	const char		*file;	/* where the line is (for messages */
	unsigned		line;	/* about its certificate) */
};

/* A directive kept whole for a higher layer to compile (acl, http_access,
 * refresh_pattern ...): its words, unquoted, and where it was written. */
struct conf_line {
	const char	*file;
	unsigned	line;
	unsigned	argc;		/* words after the directive name */
	char		**argv;		/* argc words, NULL-terminated */
};

struct conf_lines {
	struct conf_line	*v;
	size_t			n;
};

/* tls_outgoing_options, parsed; src/fwd makes the TLS context of it. */
#define CONF_TLS_DONT_VERIFY_PEER	0x01u
#define CONF_TLS_DONT_VERIFY_DOMAIN	0x02u

struct conf_tls {
	char		*cert;
	char		*key;
	char		*cafile;
	char		*capath;
	char		*cipher;
	unsigned	min_version;	/* on the wire: 0x0303 is TLS 1.2
					 * (OpenSSL's TLS1_2_VERSION); 0:
					 * cuttle's least, 1.2 */
	unsigned	flags;		/* CONF_TLS_* */
	bool		no_default_ca;	/* default-ca=off */
	const char	*file;		/* the last line given, for messages; */
	unsigned	line;		/* NULL: never given */
};

enum conf_forwarded_for {
	CONF_FWD_ON,
	CONF_FWD_OFF,
	CONF_FWD_TRANSPARENT,
	CONF_FWD_DELETE,
	CONF_FWD_TRUNCATE
};

/* memory_cache_mode (Squid's): which objects the memory cache keeps. */
enum conf_mem_mode {
	CONF_MEM_ALWAYS,	/* fetched and read from disk alike */
	CONF_MEM_DISK,		/* disk hits only (with a cache_dir) */
	CONF_MEM_NETWORK	/* fetched only: disk hits not promoted */
};

enum conf_repl_policy {
	CONF_REPL_LRU,
	CONF_REPL_SIEVE
};

struct conf {
	unsigned		magic;
#define CONF_MAGIC		0xc0f1c0f1U
	struct conf_port	*ports;
	size_t			nports;
	char			*visible_hostname;
	long			max_filedescriptors;

	uint64_t		cache_mem;
	uint64_t		maximum_object_size;
	uint64_t		maximum_object_size_in_memory;
	uint64_t		minimum_object_size;
	int			memory_replacement_policy;
	int			memory_cache_mode;	/* conf_mem_mode */
	struct conf_lines	cache_dir;
	struct conf_lines	cache;
	struct conf_lines	refresh_pattern;
	double			negative_ttl;
	double			max_stale;
	bool			cache_set_cookie_replies;

	struct conf_lines	acl;
	struct conf_lines	http_access;
	struct conf_lines	http_reply_access;
	struct conf_lines	ssl_bump;
	struct conf_lines	sslproxy_cert_error;
	struct conf_lines	cachemgr_passwd;
	struct conf_lines	auth_param;
	double			authenticate_ip_ttl;
	char			*cache_mgr;

	/* Request adaptation and external acls, as Squid words them; the
	 * client side and the acls read the words (client_adapt.c,
	 * acl_external.c). */
	struct conf_lines	url_rewrite_program;
	struct conf_lines	url_rewrite_children;
	struct conf_lines	url_rewrite_access;
	struct conf_lines	url_rewrite_extras;
	struct conf_lines	url_rewrite_timeout;
	bool			url_rewrite_bypass;
	struct conf_lines	store_id_program;
	struct conf_lines	store_id_children;
	struct conf_lines	store_id_access;
	struct conf_lines	store_id_extras;
	bool			store_id_bypass;
	struct conf_lines	external_acl_type;

	double			connect_timeout;
	double			read_timeout;
	double			write_timeout;
	double			request_timeout;
	double			client_lifetime;
	double			pconn_timeout;
	double			client_idle_pconn_timeout;
	double			shutdown_lifetime;

	int			forwarded_for;
	bool			via;
	uint64_t		request_header_max_size;
	uint64_t		reply_header_max_size;
	struct conf_lines	reply_body_max_size;

	struct conf_tls		tls_outgoing_options;

	struct conf_lines	cache_peer;
	struct conf_lines	cache_peer_access;
	struct conf_lines	always_direct;
	struct conf_lines	never_direct;
	bool			prefer_direct;
	bool			nonhierarchical_direct;
	double			dead_peer_timeout;
	long			icp_port;
	struct conf_lines	icp_access;
	struct conf_lines	miss_access;
	long			icp_query_timeout;	/* ms; 0: adaptive */
	long			maximum_icp_query_timeout;	/* ms */
	struct conf_lines	neighbor_type_domain;

	struct conf_lines	dns_nameservers;
	double			dns_timeout;
	double			positive_dns_ttl;
	double			negative_dns_ttl;
	char			*hosts_file;

	struct conf_lines	access_log;
	struct conf_lines	logformat;
	char			*cache_log;
	char			*debug_options;
	char			*pid_filename;
	char			*cache_effective_user;
	char			*coredump_dir;

	char			**files;	/* names in conf_line.file */
	size_t			nfiles;
	uint32_t		seen[4];	/* directives given */
	uint32_t		warned[4];	/* PENDING warnings given */
};

struct conf	*conf_new(void);
void		conf_free(struct conf **cp);

/* conf_load() - parse path (and what it includes) into c.  Problems are
 * logged with file:line; returns the number of errors, or -errno when
 * path cannot be read (also logged). */
int		conf_load(struct conf *c, const char *path);

/* conf_load_string() - as conf_load(), from memory; name stands for the
 * file in messages, and includes are relative to the current directory. */
int		conf_load_string(struct conf *c, const char *name,
		    const char *text);

/* conf_finish() - apply the default of every directive not given; returns
 * the number of errors (a bad built-in default is a bug: 0 expected). */
int		conf_finish(struct conf *c);

/* conf_print_docs() - the documented configuration, from the table. */
void		conf_print_docs(FILE *f);

/* Value parsers, shared with the layers that compile conf_lines:
 * "64 KB" -> 65536, "2 minutes" -> 120.0.  0, or -EINVAL; *no_unit is set
 * when the unit was left out (bytes or seconds assumed). */
int		conf_parse_size_value(const char *num, const char *unit,
		    uint64_t *out, bool *no_unit);
int		conf_parse_time_value(const char *num, const char *unit,
		    double *out, bool *no_unit);

/* conf_lines_equal() - a and b are the same lines, word for word (a
 * reconfigure keeps what was built from lines that did not change). */
bool		conf_lines_equal(const struct conf_lines *a,
		    const struct conf_lines *b);
/* conf_line_error() - "file:line: directive: <text>[; expected: form]"
 * into out (outlen bytes; out may be NULL), the shape of the conf
 * module's own errors, for the layers that compile lines later. */
void		conf_line_error(char *out, size_t outlen,
		    const struct conf_line *l, const char *directive,
		    const char *expected, const char *fmt, ...)
		    __attribute__((format(printf, 6, 7)));

#endif /* CUTTLE_CONF_H */
