/*
 * auth_int.h - what auth_basic.c (the configuration, the cache, Basic)
 * and auth_digest.c (Digest, its nonces) share.  Not for other modules.
 *
 * A scheme (struct auth_scheme) is one `auth_param <scheme>` block: its
 * helper pool, its realm and its cache of what the helper said (Basic:
 * the password it accepted; Digest: the user's HA1).  struct auth holds
 * both, and the checks of either wait on one list.
 */
#ifndef CUTTLE_AUTH_INT_H
#define CUTTLE_AUTH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/list.h"
#include "comm/comm.h"
#include "helper/helper.h"

struct conf_line;

#define AUTH_BUCKETS		1024
#define AUTH_CACHE_MAX		65536

struct auth_cred {
	struct auth_cred	*next;
	double			expires;
	char			*pass;		/* Basic: password; Digest: HA1 */
	char			user[];
};

struct auth_scheme {
	const char		*name;		/* "basic", "digest" */
	bool			configured;	/* some line named it */
	struct helper_pool	*pool;
	char			*program;
	char			*realm;
	double			ttl;
	double			timeout;
	bool			casesensitive;
	bool			utf8;
	struct helper_params	hp;
	struct auth_cred	*buckets[AUTH_BUCKETS];
	size_t			ncreds;
};

struct auth_nonce;

/* Digest's hash algorithms (RFC 7616 3.2). */
enum auth_alg {
	AUTH_ALG_MD5,		/* 32 hex digits */
	AUTH_ALG_SHA256,	/* "SHA-256": 64 */
	AUTH_DIGEST_ALGS
};
#define AUTH_HEX_MAX	65	/* the longest hash in hex, and a NUL */

struct auth {
	unsigned		magic;
#define AUTH_MAGIC		0xa0f4a0f4U
	struct comm_loop	*loop;
	struct auth_scheme	basic;
	struct auth_scheme	digest;
	bool			digest_first;	/* challenge order: conf's */
	char			*basic_challenge; /* Proxy-Authenticate line */
	char			*challenge;	/* the last 407's lines */
	struct list		checks;		/* Digest's, on their helper */
	struct list		asks;		/* Basic's questions out */
	/* Digest's nonces (auth_digest.c) */
	double			nonce_gc;	/* nonce_garbage_interval */
	double			nonce_ttl;	/* nonce_max_duration */
	unsigned		nonce_uses;	/* nonce_max_count */
	bool			check_nc;	/* check_nonce_count */
	double			nonce_next_gc;
	/* Digest's algorithms (auth_param digest algorithm), in the order
	 * the 407 offers them; MD5 alone unless configured. */
	uint8_t			digest_algs[AUTH_DIGEST_ALGS];
	unsigned		digest_nalgs;
	struct auth_nonce	**nonces;	/* AUTH_BUCKETS of them */
	size_t			nnonces;
	/* Users' addresses, for max_user_ip (auth_ips.c) */
	struct auth_ipuser	**ipusers;	/* AUTH_BUCKETS; NULL: none
						 * counted yet */
	size_t			nipusers;
};

/*
 * One question to the basic helper, for a user and a password, and the
 * checks waiting on its answer: every check of the same credentials made
 * while it is out waits on it rather than asking again (as Squid queues
 * them on the user), so a browser opening six connections, or a burst
 * of requests before the credentials are cached, asks the helper once.
 */
struct auth_ask {
	unsigned		magic;
#define AUTH_ASK_MAGIC		0xa0f4a5cbU
	struct list		link;		/* on a->asks */
	struct auth		*a;		/* NULL once auth_free() ran */
	struct helper_req	*rq;
	struct list		waiting;	/* auth_check.link */
	char			*pass;
	char			user[];
};

struct auth_check {
	unsigned		magic;
#define AUTH_CHECK_MAGIC	0xa0f4c4ecU
	/* Digest: on a->checks; Basic: on ask->waiting while it waits. */
	struct list		link;
	struct auth		*a;		/* NULL once auth_free() ran */
	struct helper_req	*rq;		/* Digest */
	/* Basic: the question it waits on (NULL once answered or
	 * cancelled), and its answer, delivered from the loop by call. */
	struct auth_ask		*ask;
	bool			ok;
	struct comm_loop	*loop;
	struct comm_call	call;
	auth_done_fn		*done;
	void			*arg;
	char			*pass;		/* Basic: the password;
						 * Digest: what follows HA1 in
						 * the response's hash */
	/* Digest */
	uint8_t			alg;		/* enum auth_alg */
	char			response[AUTH_HEX_MAX];
	char			nonce[33];
	unsigned long		nc;
	char			user[];
};

/* auth_basic.c */
void	auth_conf_error(const struct conf_line *l, const char *advice,
	    const char *problem, int *errors);
char	*auth_join(const struct conf_line *l, unsigned from);
bool	auth_uint(const char *s, unsigned max, unsigned *out);
bool	auth_time(const struct conf_line *l, double *out);
bool	auth_onoff(const struct conf_line *l, bool *out);
bool	auth_children(const struct conf_line *l, struct helper_params *hp);
struct auth_cred	**auth_cache_find(struct auth_scheme *s,
			    const char *user);
void	auth_cache_drop(struct auth_scheme *s, struct auth_cred **cp);
void	auth_cache_put(struct auth *a, struct auth_scheme *s,
	    const char *user, const char *pass);
unsigned	auth_hash(const char *s);

/* auth_decode.c */
/* auth_utf8_valid() - s is well-formed UTF-8 (no overlong forms,
 * surrogates or code points past U+10FFFF). */
bool	auth_utf8_valid(const char *s);
/* auth_latin1_utf8() - in, taken as ISO-8859-1, as UTF-8 into out (up to
 * 2 * strlen(in) + 1 bytes). */
void	auth_latin1_utf8(const char *in, char *out);
/* auth_cp1251_utf8() - in, taken as Windows-1251, as UTF-8 into out (up
 * to 3 * strlen(in) + 1 bytes). */
void	auth_cp1251_utf8(const char *in, char *out);
/* auth_cp1251_wanted() - whether Accept-Language al (len bytes) makes
 * credentials that are not UTF-8 Windows-1251 rather than Latin-1. */
bool	auth_cp1251_wanted(const char *al, size_t len);
/* auth_to_utf8() - in (not UTF-8) as UTF-8 into out (3 * strlen(in) + 1
 * bytes): Windows-1251 when rq's Accept-Language asks for it, else
 * Latin-1 (utf8 on, Squid's rule). */
void	auth_to_utf8(const struct auth_req *rq, const char *in, char *out);
/* auth_hex() - n bytes of b as 2n lower-case hex digits and a NUL. */
void	auth_hex(const unsigned char *b, size_t n, char *out);
/* auth_md5_hex() - MD5 of s in hex into out (33 bytes); "-" (which no
 * response matches) when MD5 is not available. */
void	auth_md5_hex(const char *s, char *out);
/* auth_alg_hex() - the same with alg's hash (out AUTH_HEX_MAX bytes). */
void	auth_alg_hex(enum auth_alg alg, const char *s, char *out);
/* auth_alg_len() - how many hex digits alg's hash has. */
size_t	auth_alg_len(enum auth_alg alg);
/* auth_random_hex() - 128 random bits in hex into out (33 bytes). */
bool	auth_random_hex(char *out);

/* auth_ips.c */
void	auth_ips_fini(struct auth *a);

/* auth_digest.c */
/* digest_line() - one `auth_param digest` line. */
void	digest_line(struct auth *a, const struct conf_line *l, int *errors);
/* digest_init(), digest_fini() - the nonce table. */
int	digest_init(struct auth *a);
void	digest_fini(struct auth *a);
/* digest_challenge() - the Digest challenge line with a new nonce into
 * out (cap bytes), stale=true when rq carried an expired nonce of ours. */
void	digest_challenge(struct auth *a, const struct auth_req *rq,
	    char *out, size_t cap);
/* digest_check_start() - auth_check_start() for a Digest credential. */
int	digest_check_start(struct auth *a, const struct auth_req *rq,
	    auth_done_fn *done, void *arg, struct auth_check **ckp,
	    char **user);

#endif /* CUTTLE_AUTH_INT_H */
