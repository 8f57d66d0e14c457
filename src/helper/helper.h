/*
 * helper.h - pools of helper processes speaking Squid's helper protocol.
 *
 * The programs Squid sites run beside their proxy (basic_ncsa_auth,
 * squidGuard, storeid_file_rewrite, external acl scripts) read one
 * request a line on stdin and answer one line on stdout.  A pool starts
 * them, hands each request to a child, and turns the answer into one
 * completion on the loop.
 *
 * Contract:
 * - helper_submit() completes exactly once, from the loop, never inside
 *   the call that started or cancelled it: HELPER_OK, HELPER_ERR,
 *   HELPER_BH (the helper's own BH, or cuttle's: see `why`),
 *   HELPER_UNKNOWN (a line that is none of those), HELPER_TIMEOUT,
 *   HELPER_OVERLOAD (the queue was full) or HELPER_CANCELLED
 *   (helper_cancel(), helper_pool_free()).
 * - The reply is lent for the duration of the callback.
 * - A child that dies is replaced; its requests are sent once more to
 *   another child, and a request whose second child dies as well
 *   completes BH.  Children that keep dying before they answer anything
 *   are started again ever more slowly (1 s doubling to 60 s), each
 *   time with a log line, so a broken program neither spins nor floods
 *   the log; the requests wait in the queue meanwhile (for their
 *   timeout, if any).
 * - What a child writes on stderr goes to cache.log, a line at a time.
 *
 * Squid's `children N startup=N idle=N concurrency=N queue-size=N`:
 * at most children_max processes; startup of them at once; more are
 * started while requests wait or fewer than idle are idle.  With
 * concurrency 0 a child has one request at a time and the line goes
 * as given; with concurrency C it has up to C, each line starts with a
 * channel ID (0..C-1) the child echoes back, and answers may come in
 * any order.  A request goes to the child with the fewest in flight.
 * Requests wait in a queue of at most queue_size while every child is
 * busy; beyond that they complete HELPER_OVERLOAD at once (Squid's
 * "queue overload" with on-persistent-overload=ERR).
 *
 * A timed-out request's answer, when it comes, is thrown away.  A child
 * with concurrency 0 whose request timed out is killed and replaced: its
 * late answer, having no channel ID, would be taken for the next
 * request's.  A concurrent child is killed when every one of its
 * channels waits for such a lost answer.
 *
 * Lifecycle:
 *	helper_pool_new()	program split into argv; startup children
 *	helper_submit()		a request handle; done() will run once
 *	helper_cancel()		done() will run once, with CANCELLED
 *	helper_pool_free()	pending requests complete CANCELLED (from
 *				the loop, after it returns); children get
 *				EOF on stdin, then SIGTERM, and are reaped
 */
#ifndef CUTTLE_HELPER_H
#define CUTTLE_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct comm_loop;
struct helper_pool;
struct helper_req;
struct mgr_out;
struct mgr_registry;

#define HELPER_CHILDREN_MAX	1000	/* children_max at most */
#define HELPER_CONCURRENCY_MAX	1000	/* channels per child at most */
#define HELPER_LINE_MAX		65536	/* longer answers kill the child */
#define HELPER_KV_MAX		16	/* key=value pairs kept per reply */

struct helper_params {
	const char	*name;		/* the manager page: "basicauthenticator" */
	const char	*cmd;		/* program and arguments, split on
					 * blanks (no shell), as Squid */
	unsigned	children_max;	/* 1 .. HELPER_CHILDREN_MAX */
	unsigned	startup;	/* started at once; <= children_max */
	unsigned	idle;		/* kept idle when possible; >= 1 */
	unsigned	concurrency;	/* 0: no channel IDs */
	unsigned	queue_size;	/* 0: 2 * children_max (Squid) */
	double		timeout;	/* seconds per request; 0: none */
};

/*
 * helper_params_children() - Squid's "N [startup=N] [idle=N]
 * [concurrency=N] [queue-size=N]" (argv[0] is N; Squid's children-max=,
 * children-startup=, children-idle= spellings of external_acl_type are
 * taken too) into hp.  0, or -EINVAL: a word that is none of those, a
 * number out of range, startup above N.
 */
int	helper_params_children(struct helper_params *hp, char *const *argv,
	    unsigned argc);

/* HELPER_STATUS(sym, name): a result, as the manager page names it. */
#define HELPER_STATUS_TBL						\
	HELPER_STATUS(OK,		"OK")				\
	HELPER_STATUS(ERR,		"ERR")				\
	HELPER_STATUS(BH,		"BH")				\
	HELPER_STATUS(UNKNOWN,		"Unknown")			\
	HELPER_STATUS(TIMEOUT,		"timeout")			\
	HELPER_STATUS(OVERLOAD,		"overload")			\
	HELPER_STATUS(CANCELLED,	"cancelled")

enum helper_status {
#define HELPER_STATUS(sym, name)	HELPER_##sym,
	HELPER_STATUS_TBL
#undef HELPER_STATUS
	HELPER__COUNT
};

const char	*helper_status_name(enum helper_status st);

struct helper_kv {
	const char	*key;
	const char	*value;		/* unquoted, escapes undone */
};

/*
 * One answer, parsed: the result word, then key=value pairs (a value is
 * a "quoted string" with backslash escapes, or a token taken as it is,
 * so URLs keep their %-escapes), then free text.  Keys are those of
 * Squid's protocol (user, password, message, tag, log, url, rewrite-url,
 * status, store-id, ha1, clt_conn_tag) and custom ones ending in '_';
 * others are kept too, and logged at debug level.
 */
struct helper_reply {
	enum helper_status	status;
	unsigned		nkv;
	struct helper_kv	kv[HELPER_KV_MAX];
	const char		*text;	/* after the pairs ("" when none);
					 * UNKNOWN: the whole line */
	const char		*why;	/* cuttle's reason when the result
					 * is not the helper's (a dead child,
					 * a full queue...); NULL otherwise */
};

/*
 * helper_reply_parse() - parse line (NUL-terminated, no newline) in
 * place into r; r's strings point into line.  Never fails: a line that
 * starts with no result word is HELPER_UNKNOWN, for callers that take
 * Squid's legacy forms (a bare URL from a URL rewriter).
 */
void		helper_reply_parse(char *line, struct helper_reply *r);
/* helper_reply_get() - the first value of key, or NULL. */
const char	*helper_reply_get(const struct helper_reply *r,
		    const char *key);

typedef void helper_done_fn(struct helper_req *rq,
    const struct helper_reply *reply, void *arg);

/*
 * helper_pool_new() - a pool with p's settings (strings are copied);
 * startup children are started from the loop's next turn (after the
 * caller has dropped to cache_effective_user, so they never run as
 * root).  NULL with *err set: -EINVAL (no
 * program, children_max 0 or too large, startup above it), -ENOMEM.  A
 * program that cannot be started is not an error here: it is logged and
 * retried as a crashing child is.
 */
struct helper_pool	*helper_pool_new(struct comm_loop *loop,
			    const struct helper_params *p, int *err);
void			helper_pool_free(struct helper_pool **pp);

/*
 * helper_submit() - send line (len bytes, without the newline) to a
 * child.  done runs once from the loop.  A line holding a newline or a
 * NUL cannot be sent: it completes BH at once (from the loop).  Returns
 * the handle, valid until done runs; NULL only when out of memory, and
 * done never runs then.
 */
struct helper_req	*helper_submit(struct helper_pool *p, const char *line,
			    size_t len, helper_done_fn *done, void *arg);
/* helper_cancel() - done will run once, with HELPER_CANCELLED, whatever
 * else had happened to the request; NULLs *rqp.  *rqp may be NULL.
 * Only before done has run. */
void			helper_cancel(struct helper_req **rqp);

struct helper_stats {
	uint64_t	requests;	/* submitted */
	uint64_t	replies;	/* answers matched to a request */
	uint64_t	results[HELPER__COUNT];	/* completions by status */
	uint64_t	retries;	/* sent again after a child died */
	uint64_t	started;	/* children started */
	uint64_t	died;		/* children that exited or were killed */
	uint64_t	early_deaths;	/* of which before any answer */
	uint64_t	stray;		/* answers nobody waited for */
	unsigned	children;	/* running now */
	unsigned	busy;		/* with a request in flight */
	unsigned	queued;		/* waiting for a child */
	unsigned	in_flight;	/* sent, not answered */
	double		svc_time_sum;	/* seconds, over replies */
};
void	helper_pool_stats(const struct helper_pool *p, struct helper_stats *st);

/* helper_pool_render() - the pool as Squid's helper statistics page. */
void	helper_pool_render(const struct helper_pool *p, struct mgr_out *o,
	    double now);

/* helper_register_page() - p's page, named after it, in Squid's shape
 * (mgr:basicauthenticator).  Reconfigure, replacing the pool, moves the
 * page to the new one with mgr_registry_rebind().  0 or -errno. */
int	helper_register_page(struct helper_pool *p, struct mgr_registry *r);

/*
 * The pools of a process, for /metrics: cuttle_helper_* families with a
 * helper="name" label, each family once whatever the number of pools.
 * Owned by its creator, who adds and removes pools as they come and go.
 */
#define HELPER_POOLS_MAX	16
struct helper_pools {
	struct helper_pool	*v[HELPER_POOLS_MAX];
	unsigned		n;
};
/* helper_register_metrics() - ps's part of /metrics.  0 or -errno. */
int	helper_register_metrics(struct helper_pools *ps,
	    struct mgr_registry *r);
/* helper_pool_name() - the name it was created with. */
const char	*helper_pool_name(const struct helper_pool *p);

#endif /* CUTTLE_HELPER_H */
