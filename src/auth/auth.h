/*
 * auth.h - proxy authentication: Squid's `auth_param basic` and
 * `auth_param digest` over helper pools (basic_ncsa_auth, basic_ldap_auth,
 * basic_pam_auth ...; digest_file_auth, digest_ldap_auth).
 *
 * Contract:
 * - Credentials are decoded in one place (auth_basic_decode(), OpenSSL's
 *   base64 decoder), for proxy authentication and the cache manager's
 *   password alike, and secrets are compared in constant time.
 * - auth_check_start() answers at once (no or malformed credentials,
 *   credentials cached within credentialsttl) or asks the helper and
 *   completes once, from the loop, also when cancelled.
 * - Only credentials the helper answered OK are cached, so a corrected
 *   password works at once; ERR, BH, a garbled answer, a timeout or a
 *   full queue all mean "no valid credentials" (407), each logged.
 * - A user name or password never reaches the log; the helper's request
 *   line carries them %-escaped, as Squid sends them.
 * - Digest (RFC 7616 with MD5, qop=auth or none, as Squid): the helper is
 *   asked `"user":"realm"` and answers `OK ha1="<hex>"`, which is cached
 *   like a Basic password.  `auth_param digest algorithm SHA-256 MD5`
 *   offers SHA-256 too (one challenge each, on one nonce); the HA1's
 *   length says its algorithm, and only a helper that computes SHA-256
 *   HA1s can vouch for SHA-256 credentials (Squid's compute MD5).
 *   Nonces are cuttle's: random, each valid for nonce_max_duration
 *   and nonce_max_count uses, with a nonce-count that must grow; an
 *   expired one gets a challenge with stale=true.
 *
 * Lifecycle:
 *	auth_new()		auth_param lines compiled; the pool started
 *	auth_check_start()	per request with a proxy_auth acl to answer
 *	auth_check_cancel()	its completion still comes
 *	auth_replace()		reconfigure: a new one takes the page; the
 *				old one is freed once auth_idle()
 *	auth_free()		pending checks complete (no user) from the
 *				loop
 */
#ifndef CUTTLE_AUTH_H
#define CUTTLE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct auth;
struct comm_loop;
struct sockaddr;
struct conf_lines;
struct helper_pools;
struct mgr_registry;

#define AUTH_BASIC_MAX	4096	/* credentials (the base64 text) at most */

/*
 * auth_basic_decode() - the "user:password" of a Basic credential:
 * b64 (len bytes, blanks around it ignored) decoded into out (cap
 * bytes, NUL-terminated), *pass pointing after the first colon (which
 * becomes a NUL).  0, or -EINVAL with *why set: not base64, too long,
 * a NUL or a control character inside, no colon.
 */
int	auth_basic_decode(const char *b64, size_t len, char *out, size_t cap,
	    char **pass, const char **why);
/* auth_basic_credentials() - the same from a whole Authorization or
 * Proxy-Authorization value, "Basic <base64>" (the scheme's name in any
 * case). */
int	auth_basic_credentials(const char *hdr, size_t len, char *out,
	    size_t cap, char **pass, const char **why);
/* auth_secret_equal() - a and b (NUL-terminated) in time independent of
 * where they differ. */
bool	auth_secret_equal(const char *a, const char *b);

/*
 * auth_new() - from the auth_param lines (NULL or none: no
 * authentication, and NULL is returned with no error).  Bad lines are
 * logged (file:line) and counted in *errors.  startup helpers are
 * started on loop.
 */
struct auth	*auth_new(struct comm_loop *loop, const struct conf_lines *l,
		    int *errors);
void		auth_free(struct auth **ap);
/* auth_conf_check() - the lines' problems logged and counted in *errors,
 * nothing started (cuttle -k parse). */
void		auth_conf_check(const struct conf_lines *l, int *errors);

/* auth_challenge() - the Proxy-Authenticate header line(s) a 407 carries,
 * "Name: value\r\n" each. */
/* What a check looks at in the request. */
struct auth_req {
	const char	*hdr;		/* Proxy-Authorization; NULL: none */
	size_t		len;
	const char	*method;	/* Digest's A2 */
	size_t		method_len;
	const char	*uri;		/* the request-target */
	size_t		uri_len;
	const char	*lang;		/* Accept-Language (utf8 on: is a
					 * password Windows-1251?); NULL:
					 * none */
	size_t		lang_len;
};

/* auth_challenge() - the Proxy-Authenticate lines a 407 to rq carries,
 * "Name: value\r\n" each, one per configured scheme in the order of the
 * configuration (Digest's with a new nonce); valid until the next call. */
const char	*auth_challenge(struct auth *a, const struct auth_req *rq);

struct auth_check;
/* The answer: user NULL when the credentials are not valid (lent). */
typedef void auth_done_fn(struct auth_check *ck, const char *user,
    void *arg);

/*
 * auth_check_start() - check rq's Proxy-Authorization (Basic or Digest,
 * whichever is configured).  Returns 0 with *user (malloc'd, or NULL: not
 * valid) when the answer is known now, 1 when done will run once from
 * the loop (*ckp then the handle for auth_check_cancel()), or -ENOMEM.
 */
int		auth_check_start(struct auth *a, const struct auth_req *rq,
		    auth_done_fn *done, void *arg, struct auth_check **ckp,
		    char **user);
/* auth_utf8() - whether a scheme has utf8 on (it then reads rq->lang). */
bool		auth_utf8(const struct auth *a);
/* auth_check_cancel() - done still runs, once, with no user. */
void		auth_check_cancel(struct auth_check **ckp);

/*
 * auth_user_ips() - user (vouched for) made a request from src: src is
 * kept as one of the user's addresses for ttl seconds (authenticate_ip_ttl)
 * from now, and the number of distinct addresses kept, src included, is
 * returned (what max_user_ip compares).  0 when it cannot be counted (no
 * room, no memory, src not IP): no max_user_ip then matches.
 */
unsigned	auth_user_ips(struct auth *a, const char *user,
		    const struct sockaddr *src, double ttl);
/* auth_user_ips_forget() - a max_user_ip acl matched: strict, src alone
 * is forgotten; else all of user's addresses (Squid's two modes). */
void		auth_user_ips_forget(struct auth *a, const char *user,
		    const struct sockaddr *src, bool strict);

/* auth_register() - the pools' pages (mgr:basicauthenticator,
 * mgr:digestauthenticator) and their places among ps for /metrics.
 * 0 or -errno. */
int		auth_register(struct auth *a, struct mgr_registry *r,
		    struct helper_pools *ps);

/* auth_replace() - reconfigure made `to` from new auth_param lines: it
 * takes the page and the place in ps of `from` (NULL: none before, and
 * to's are registered as auth_register() does).  0 or -errno. */
int		auth_replace(struct auth *from, struct auth *to,
		    struct mgr_registry *r, struct helper_pools *ps);
/* auth_removes() - to lacks a scheme from has (which reconfigure cannot
 * do: its page would be left without a pool). */
bool		auth_removes(const struct auth *from, const struct auth *to);
/* auth_idle() - no check is waiting for a's helper: a retired a may be
 * freed without failing a request. */
bool		auth_idle(const struct auth *a);

#endif /* CUTTLE_AUTH_H */
