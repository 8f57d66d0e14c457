/*
 * http_cache.h - HTTP caching (RFC 9111) as pure functions: what a shared
 * cache may store, how long it stays fresh, how old it is, whether a
 * request may be answered with it, and how a 304 refreshes it.  No I/O,
 * no clock of its own: every time is passed in (seconds since the epoch),
 * so that the unit tests replay the RFC's rules exactly.
 *
 * The client side decides with these; the store only keeps what they
 * computed (struct http_cache_meta) beside the entry.
 */
#ifndef CUTTLE_HTTP_CACHE_H
#define CUTTLE_HTTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"
#include "http/http_msg.h"

/* -- dates (RFC 9110 5.6.7) ------------------------------------------------ */

/* http_date_parse() - IMF-fixdate, and the obsolete RFC 850 and asctime
 * forms a recipient must accept; -1 for anything else.  Day names, month
 * names and "GMT" in any case, as a cache recipient matches them (RFC
 * 9111 4.2). */
time_t	http_date_parse(const char *s, size_t len);

/* -- Cache-Control (RFC 9111 5.2) ------------------------------------------ */

#define HCC_NO_STORE		0x0001u
#define HCC_NO_CACHE		0x0002u	/* unqualified; request: also
					 * Pragma: no-cache (5.4) */
#define HCC_PRIVATE		0x0004u	/* unqualified */
#define HCC_PUBLIC		0x0008u
#define HCC_MUST_REVALIDATE	0x0010u
#define HCC_PROXY_REVALIDATE	0x0020u
#define HCC_ONLY_IF_CACHED	0x0040u
#define HCC_MAX_STALE_ANY	0x0080u	/* max-stale without a value */
#define HCC_NO_TRANSFORM	0x0100u
#define HCC_IMMUTABLE		0x0200u
#define HCC_NO_CACHE_FIELDS	0x0400u	/* no-cache="field, ..." */
#define HCC_PRIVATE_FIELDS	0x0800u	/* private="field, ..."; a value
					 * naming no field counts as
					 * unqualified */
#define HCC_MUST_UNDERSTAND	0x1000u

/* Directives of one message; a delta-seconds absent (or invalid, 1.2.2)
 * is -1.  Duplicated directives: the most restrictive wins (4.2.1). */
struct http_cc {
	unsigned	flags;
	int64_t		max_age;
	int64_t		s_maxage;
	int64_t		max_stale;
	int64_t		min_fresh;
	int64_t		stale_while_revalidate;	/* RFC 5861 */
	int64_t		stale_if_error;		/* RFC 5861 */
};

/* http_cc_parse() - every Cache-Control line of m; for a request without
 * Cache-Control, Pragma: no-cache counts as no-cache (5.4). */
void	http_cc_parse(const struct http_msg *m, struct http_cc *cc);

/* http_cc_names_field() - does a Cache-Control line of m qualify no-cache
 * (which = HCC_NO_CACHE_FIELDS, 5.2.2.4) or private (HCC_PRIVATE_FIELDS,
 * 5.2.2.7) with a list that holds the field name (len bytes)?  Names are
 * compared case-insensitively; the list may be quoted or a bare token. */
bool	http_cc_names_field(const struct http_msg *m, unsigned which,
	    const char *name, size_t len);

/* -- refresh_pattern (heuristic freshness, 4.2.2, Squid's syntax) ---------- */

struct http_refresh;

/* http_refresh_new() - compile refresh_pattern lines ("[-i] regex min
 * percent max [options]", min and max in minutes); the first matching
 * pattern wins.  On a bad line: NULL, and err names file:line, the text
 * and the expected form.  Options understood: override-expire,
 * override-lastmod, ignore-reload, ignore-no-store, ignore-private,
 * reload-into-ims, refresh-ims, max-stale=N; others are an error. */
struct http_refresh	*http_refresh_new(const struct conf_lines *lines,
			    char *err, size_t errlen);
void			http_refresh_free(struct http_refresh **rp);

/* -- what a stored reply carries (computed once, when it is stored) -------- */

#define HCM_MUST_REVALIDATE	0x01u	/* must-revalidate, proxy-revalidate,
					 * or s-maxage: never served stale */
#define HCM_NO_CACHE		0x02u	/* revalidate before every use */
#define HCM_HEURISTIC		0x04u	/* lifetime from refresh_pattern */
#define HCM_VALIDATOR		0x08u	/* has ETag or Last-Modified */
#define HCM_REFRESH_IMS		0x10u	/* refresh_pattern refresh-ims */
#define HCM_RELOAD_INTO_IMS	0x20u	/* refresh_pattern reload-into-ims */
#define HCM_IGNORE_RELOAD	0x40u	/* refresh_pattern ignore-reload */
#define HCM_VARY_MARKER		0x80u	/* not a reply: it names the fields
					 * a URL's variants vary on (the
					 * client side's; never set here) */
#define HCM_REVALIDATING	0x100u	/* a background revalidation of it
					 * runs (the client side's) */
#define HCM_NEGATIVE		0x200u	/* an error kept for negative_ttl
					 * (the client side's) */
#define HCM_NO_CACHE_FIELDS	0x400u	/* no-cache="fields": a hit not
					 * revalidated goes without them
					 * (5.2.2.4) */

/* Kept with every cached object, hence 32-bit fields: times are seconds
 * of the Unix epoch (good until 2106), and an age or a lifetime stops at
 * 2^31 seconds, as any delta-seconds does (1.2.2). */
struct http_cache_meta {
	uint32_t	response_time;	/* when the reply arrived */
	uint32_t	lifetime;	/* freshness lifetime, 4.2.1 */
	uint32_t	corrected_initial_age;	/* 4.2.3 */
	int32_t		stale_while_revalidate;	/* -1: none */
	int32_t		stale_if_error;		/* -1: none */
	uint32_t	flags;		/* HCM_* */
};

/* http_cache_storable() - 3: may a shared cache store rep, the reply to
 * req (its method, Cache-Control, Authorization (3.5), the status code
 * and explicit freshness, Vary: *)?  NULL when it may, else why not, in a
 * few words for the log.  The body's completeness is the caller's to
 * check.  rp may be NULL (no ignore-no-store/ignore-private overrides).
 * A qualified private does not keep rep out: the caller stores it
 * without the fields named (http_cache_without_fields()). */
const char	*http_cache_storable(const struct http_msg *req,
		    const struct http_cc *reqcc, const struct http_msg *rep,
		    const struct http_cc *repcc, const struct http_refresh *rp,
		    const char *url, size_t url_len);

/* http_cache_meta_init() - freshness lifetime (4.2.1: s-maxage, max-age,
 * Expires - Date; else the heuristic of the first matching
 * refresh_pattern (4.2.2) for codes heuristically cacheable, else 0),
 * and the corrected initial age (4.2.3), for rep received at
 * response_time in answer to a request sent at request_time. */
void	http_cache_meta_init(struct http_cache_meta *m,
	    const struct http_msg *rep, const struct http_cc *repcc,
	    const struct http_refresh *rp, const char *url, size_t url_len,
	    int64_t request_time, int64_t response_time);

/* http_cache_age() - current_age (4.2.3) at now; never negative. */
int64_t	http_cache_age(const struct http_cache_meta *m, int64_t now);

enum http_cache_use {
	HCU_FRESH,		/* serve it */
	HCU_STALE_OK,		/* stale, but the request allows it
				 * (max-stale, 4.2.4) */
	HCU_STALE_REVALIDATE,	/* stale-while-revalidate: serve it and
				 * revalidate in the background */
	HCU_REVALIDATE		/* ask the origin first (4.3.1) */
};

/* http_cache_use() - may a stored reply with meta m answer a request with
 * Cache-Control reqcc at now (4.2, 4.2.4, 5.2.1: max-age, min-fresh,
 * max-stale, no-cache; 5.2.2: no-cache, must-revalidate)?  The
 * refresh_pattern options kept in m->flags (ignore-reload,
 * reload-into-ims) bend a client's no-cache as Squid does. */
enum http_cache_use	http_cache_use(const struct http_cache_meta *m,
			    const struct http_cc *reqcc, int64_t now);

/* http_cache_stale_on_error() - may a stale reply be served now because
 * it could not be revalidated (the origin failed or could not be
 * reached)?  Within the reply's or the request's stale-if-error (RFC
 * 5861 4), or within max_stale seconds of staleness, the cache's own
 * limit for a disconnected cache (RFC 9111 4.2.4; Squid's max_stale;
 * 0: none), unless the request asked for no-cache.  Never when the
 * reply must be revalidated (HCM_MUST_REVALIDATE, HCM_NO_CACHE), nor for
 * an error kept by negative_ttl (HCM_NEGATIVE). */
bool	http_cache_stale_on_error(const struct http_cache_meta *m,
	    const struct http_cc *reqcc, int64_t now, int64_t max_stale);

/* -- conditionals ---------------------------------------------------------- */

/* http_cache_not_modified() - RFC 9110 13.2.2 steps 3-4 for a cache
 * (RFC 9111 4.3.2): true when the client's If-None-Match (weak
 * comparison), or without it its If-Modified-Since, is answered by 304
 * from stored.  Only for GET and HEAD. */
bool	http_cache_not_modified(const struct http_msg *req,
	    const struct http_msg *stored);

/* http_cache_merge_304() - 4.3.4: the stored header section with every
 * field the 304 carries replacing those of the same name (except the
 * framing fields: Content-Length, Transfer-Encoding, Content-Range), into
 * out (an initialised, empty HTTP_MSG_RESPONSE with stored's status and
 * framing).  0 or -ENOMEM. */
int	http_cache_merge_304(const struct http_msg *stored,
	    const struct http_msg *r304, struct http_msg *out);

/* http_cache_without_fields() - m's header section without the fields
 * its Cache-Control names in which (HCC_PRIVATE_FIELDS: what a shared
 * cache must not store, 5.2.2.7; HCC_NO_CACHE_FIELDS: what a hit that
 * was not revalidated must not carry, 5.2.2.4), into out (an
 * initialised, empty HTTP_MSG_RESPONSE): status line, framing and the
 * other fields as they were, in order.  0 or -ENOMEM. */
int	http_cache_without_fields(const struct http_msg *m, unsigned which,
	    struct http_msg *out);

/* -- Vary (4.1) ------------------------------------------------------------ */

/* http_cache_vary_key() - the values req has for each field named in
 * vary (a Vary field value, "Accept-Encoding, User-Agent"), normalised
 * (names lowercased, sorted; values with whitespace around commas
 * removed) into out, for the variant's store key.  -1 for Vary: * (never
 * matches) or when out (cap bytes) is too small; else the length. */
int	http_cache_vary_key(const struct http_msg *req, const char *vary,
	    size_t vary_len, char *out, size_t cap);

/* -- ranges (RFC 9110 14) -------------------------------------------------- */

struct http_range {
	uint64_t	first;
	uint64_t	last;		/* inclusive */
};

/* http_range_parse() - the request's Range for a representation of len
 * bytes: 1 a single satisfiable byte range (r set), 0 serve the whole
 * reply (no Range, not bytes, several ranges, or unparsable: 14.2 lets
 * a server ignore it), -1 unsatisfiable (416). */
int	http_range_parse(const struct http_msg *req, uint64_t len,
	    struct http_range *r);

/* http_if_range_ok() - RFC 9110 13.1.5: true without If-Range, or when
 * its strong ETag or its date matches stored (a date only if it is the
 * stored Last-Modified exactly and a strong validator per 8.8.2.2). */
bool	http_if_range_ok(const struct http_msg *req,
	    const struct http_msg *stored);

/* -- invalidation (4.4) ---------------------------------------------------- */

/* http_cache_invalidates() - the absolute URL of rep's Location (which)
 * = HTTP_HDR_LOCATION or HTTP_HDR_CONTENT_LOCATION, resolved against
 * url, into out when it has the same scheme and authority as url (4.4:
 * only same-origin URLs are invalidated); its length, or -1. */
int	http_cache_invalidates(const struct http_msg *rep,
	    enum http_hdr_id which, const char *url, size_t url_len,
	    char *out, size_t cap);

#endif /* CUTTLE_HTTP_CACHE_H */
