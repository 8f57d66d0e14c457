/*
 * mgr.h - the cache manager's low half (layer 1): the action registry,
 * the text a page renders into, cachemgr_passwd, and the counters and
 * per-minute history that the pages and /metrics report.
 *
 * Nothing here does I/O or knows HTTP: each module registers its own
 * pages when it is created (mgr_register(), with its own object as the
 * page's arg), and the top half (mgr_page.h, layer 6) looks them up,
 * checks the password and renders them.  A render function writes into
 * a growing string (struct mgr_out) and reads the module it was
 * registered with; what every page shares (the conf in force, the time)
 * comes in a struct mgr_call.
 *
 * Lifecycle:
 *	mgr_registry_new()	no actions
 *	mgr_register()		each module's pages, as it is created
 *	mgr_registry_rebind()	reconfigure replaced a module
 *	mgr_registry_find()	per request
 *	mgr_registry_free()	at exit, before the modules it points to
 */
#ifndef CUTTLE_MGR_H
#define CUTTLE_MGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/result.h"
#include "conf/conf.h"

/* -- rendered text --------------------------------------------------------- */

/* A growing string.  An allocation failure is sticky: later appends do
 * nothing and mgr_out_failed() says so, so a renderer needs no error
 * path of its own. */
struct mgr_out {
	char	*p;		/* NUL-terminated once not empty */
	size_t	len;
	size_t	cap;
	bool	failed;
};

void	mgr_out_init(struct mgr_out *o);
void	mgr_out_fini(struct mgr_out *o);
void	mgr_out_printf(struct mgr_out *o, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	mgr_out_append(struct mgr_out *o, const char *p, size_t n);
/* mgr_out_html() - s with &, <, >, " and ' as HTML entities. */
void	mgr_out_html(struct mgr_out *o, const char *s, size_t n);
/* mgr_out_json() - s as a JSON string, quotes included. */
void	mgr_out_json(struct mgr_out *o, const char *s, size_t n);
static inline bool
mgr_out_failed(const struct mgr_out *o)
{
	return (o->failed);
}

/* -- the registry ---------------------------------------------------------- */

/* Action flags. */
/* MGR_F_PROTECTED: refused unless cachemgr_passwd allows it (Squid's
 * isPwReq: config, shutdown ...).  MGR_F_CONTROL: changes state (the
 * reply closes the connection).  HTML, JSON, PROM: what the page renders
 * (text/plain otherwise; PROM is Prometheus text format 0.0.4). */
#define MGR_F_PROTECTED	0x01u
#define MGR_F_CONTROL	0x02u
#define MGR_F_HTML	0x04u
#define MGR_F_JSON	0x08u
#define MGR_F_PROM	0x10u
/* MGR_F_METRICS: not a page but a part of /metrics, which renders every
 * such action after its own families (modules add theirs this way); not
 * in the menu, not served by name. */
#define MGR_F_METRICS	0x20u

/*
 * Where a page sits in the menu: by section, then in the order of
 * registration.  Modules are created in the order their dependencies
 * dictate, not in the menu's (Squid's order, which scripts and people
 * know), so each names its section.
 */
enum mgr_section {
	MGR_SEC_RUNTIME,	/* menu, control actions, info, counters, mem */
	MGR_SEC_STORE,		/* objects, storedir */
	MGR_SEC_SERVER,		/* pconn */
	MGR_SEC_DNS,		/* ipcache */
	MGR_SEC_HELPERS,	/* a page per helper pool */
	MGR_SEC_SETTINGS,	/* config */
	MGR_SEC_VIEWS,		/* the dashboard, metrics */
	MGR_SEC_CLIENT		/* client_list, active_requests */
};

struct mgr_passwd;

/* What every page is given for one request, besides its own arg. */
struct mgr_call {
	const struct conf	*conf;		/* in force; NULL: none */
	const struct mgr_passwd	*passwd;	/* compiled from conf */
	double			now;		/* comm_now() of the loop */
};

/*
 * A render function: append the page to o.  arg is what the action was
 * registered with: the module that owns the page.  Returns 0, or a
 * negative errno: the caller answers 500 (-ENOTSUP: 501).
 */
typedef int mgr_render_fn(struct mgr_out *o, const struct mgr_call *c,
    void *arg);

struct mgr_action {
	const char	*name;		/* "info"; [a-z0-9_] */
	const char	*title;		/* "Memory Utilization" */
	unsigned	flags;		/* MGR_F_* */
	mgr_render_fn	*fn;
	void		*arg;
	enum mgr_section section;
};

struct mgr_registry;

struct mgr_registry	*mgr_registry_new(void);
void			mgr_registry_free(struct mgr_registry **rp);
/* mgr_register() - add an action to section; name and title are
 * copied.  0, -EEXIST (a name registered twice: a bug of the caller,
 * also logged), -EINVAL (a bad name) or -ENOMEM. */
int	mgr_register(struct mgr_registry *r, enum mgr_section section,
	    const char *name, const char *title, unsigned flags,
	    mgr_render_fn *fn, void *arg);
/* mgr_registry_rebind() - the actions registered with arg `from` render
 * with `to` from now on: reconfigure replaced a module (a new resolver)
 * and the old one must not be reached once it is freed.  Returns how
 * many; never fails, so it may run where nothing else may. */
size_t	mgr_registry_rebind(struct mgr_registry *r, const void *from,
	    void *to);
/* mgr_registry_find() - the action called name[0..len), or NULL; valid
 * until the next mgr_register(). */
const struct mgr_action	*mgr_registry_find(const struct mgr_registry *r,
			    const char *name, size_t len);
/* mgr_registry_count(), mgr_registry_at() - the actions in the menu's
 * order: by section, then as registered. */
size_t			mgr_registry_count(const struct mgr_registry *r);
const struct mgr_action	*mgr_registry_at(const struct mgr_registry *r,
			    size_t i);

/* -- cachemgr_passwd ------------------------------------------------------- */

/*
 * "cachemgr_passwd password|none|disable action ... | all", compiled.
 * As in Squid, the first line naming an action (or `all`) gives its
 * password; "none" makes it public, "disable" refuses it always.
 */
struct mgr_passwd;

/* mgr_passwd_compile() - from conf's lines (NULL or empty: no passwords).
 * Bad lines (no action) are logged with file:line and counted in
 * *errors.  NULL only on ENOMEM (counted as an error too). */
struct mgr_passwd	*mgr_passwd_compile(const struct conf_lines *lines,
			    int *errors);
void			mgr_passwd_free(struct mgr_passwd **pp);

/* mgr_passwd_get() - the password line for action: a password, "none",
 * "disable", or NULL when no line names it. */
const char	*mgr_passwd_get(const struct mgr_passwd *pw,
		    const char *action);

/* mgr_protection() - what the menu says: "public", "protected",
 * "hidden" (protected by default and no password set), "disabled". */
const char	*mgr_protection(const struct mgr_passwd *pw,
		    const struct mgr_action *a);

/* mgr_password_ok() - may a request that gave password (NULL: none) run
 * a?  Squid's CacheManager::CheckPassword(). */
bool		mgr_password_ok(const struct mgr_passwd *pw,
		    const struct mgr_action *a, const char *password);

/* -- counters and history -------------------------------------------------- */

/* Request-duration histogram buckets, upper bounds in seconds (the
 * Prometheus client defaults); one more bucket counts the rest. */
#define MGR_DURATION_BUCKETS						\
	MGR_B(0.005) MGR_B(0.01) MGR_B(0.025) MGR_B(0.05) MGR_B(0.1)	\
	MGR_B(0.25) MGR_B(0.5) MGR_B(1.0) MGR_B(2.5) MGR_B(5.0) MGR_B(10.0)
#define MGR_NBUCKETS	12		/* the above, and +Inf */
extern const double	mgr_bucket_le[MGR_NBUCKETS]; /* last: INFINITY */

/* Which kind of transaction a duration belongs to, for Squid's median
 * service times (client_http.<kind>_median_svc_time). */
enum mgr_kind {
	MGR_KIND_ALL,		/* every request */
	MGR_KIND_MISS,
	MGR_KIND_NM,		/* not-modified replies */
	MGR_KIND_NH,		/* near hits: refreshed */
	MGR_KIND_HIT,
	MGR_KIND__COUNT
};

/*
 * cuttle's one set of traffic counters: every page (info, counters,
 * 5min, metrics, the dashboard) reads these, and nothing else counts
 * requests, hits, errors or bytes.  The client side feeds them: a
 * request when its header section is parsed, bytes as they are read and
 * written, the rest once per finished transaction (mgr_stats_txn()),
 * from its result code's flags (base/result.h).
 */
enum mgr_counter {
	MGR_C_RECEIVED,		/* requests whose header section was read */
	MGR_C_REQUESTS,		/* transactions finished */
	MGR_C_HITS,		/* answered from the cache (RF_HIT) */
	MGR_C_MEM_HITS,		/* ... from memory (RF_MEM) */
	MGR_C_ERRORS,		/* answered with cuttle's error page */
	MGR_C_DENIED,		/* refused by access rules (RF_DENIED) */
	MGR_C_BYTES_IN,		/* read from clients */
	MGR_C_BYTES_OUT,	/* written to clients */
	MGR_C_HIT_BYTES,	/* of which from the cache */
	MGR_C_FORWARDED,	/* an origin was asked */
	MGR_C_ABORTED,		/* cut before the end (_ABORTED, _TIMEDOUT) */
	MGR_C_TLS_FAILED,	/* ERR_SECURE_CONNECT_FAIL: an origin's TLS
				 * handshake or certificate failed */
	MGR_C_CPU_USEC,		/* CPU time (set when sampled) */
	MGR_C__COUNT
};

/* Counts since start-up. */
struct mgr_stats {
	uint64_t	c[MGR_C__COUNT];
	/* Durations per bucket (not cumulative), and their sum. */
	uint64_t	hist[MGR_KIND__COUNT][MGR_NBUCKETS];
	double		dur_sum;
	/* Finished transactions by access.log code and suffix. */
	uint64_t	by_code[RESULT__COUNT][RESULT_END__COUNT];
};

static inline void
mgr_stats_add(struct mgr_stats *st, enum mgr_counter c, uint64_t n)
{
	st->c[c] += n;
}

/* What one finished transaction brings. */
struct mgr_txn_rec {
	enum result_code code;
	enum result_end	end;
	unsigned	status;		/* sent to the client; 0: none */
	uint64_t	bytes_out;	/* for the busiest-URL table */
	double		duration;	/* seconds */
	bool		errpage;	/* cuttle's own error page */
	bool		forwarded;	/* an origin was asked */
};

/* mgr_kind_of() - the kind a code is, for Squid's median service times
 * (a 304 of a hit counts as not-modified). */
enum mgr_kind	mgr_kind_of(enum result_code code, unsigned status);
void		mgr_stats_txn(struct mgr_stats *st,
		    const struct mgr_txn_rec *rec);
/* mgr_code_name() - "TCP_MISS_ABORTED" and the like, into buf. */
const char	*mgr_code_name(enum result_code code, enum result_end end,
		    char *buf, size_t len);

/* One minute's snapshot of the counters (and histograms). */
struct mgr_sample {
	double		t;		/* when, comm_now() seconds */
	uint64_t	c[MGR_C__COUNT];
	uint64_t	hist[MGR_KIND__COUNT][MGR_NBUCKETS];
};

#define MGR_HISTORY	61	/* 60 minutes back, and now */

/* A ring of per-minute samples: enough for 5- and 60-minute figures. */
struct mgr_history {
	struct mgr_sample	s[MGR_HISTORY];
	unsigned		head;	/* next slot written */
	unsigned		n;	/* samples held */
};

void	mgr_sample_take(struct mgr_sample *s, const struct mgr_stats *st,
	    double now);
void	mgr_history_push(struct mgr_history *h, const struct mgr_sample *s);
/* mgr_history_ago() - the newest sample taken at least `minutes` before
 * now, or the oldest held when none is (cuttle has not run that long);
 * NULL when empty. */
const struct mgr_sample	*mgr_history_ago(const struct mgr_history *h,
			    double now, unsigned minutes);

/* A period: what happened between two samples. */
struct mgr_period {
	double		seconds;
	uint64_t	c[MGR_C__COUNT];
	uint64_t	hist[MGR_KIND__COUNT][MGR_NBUCKETS];
};

void	mgr_period(struct mgr_period *p, const struct mgr_sample *from,
	    const struct mgr_sample *to);
/* mgr_ratio() - 100 * part / whole, 0 when whole is 0. */
double	mgr_ratio(uint64_t part, uint64_t whole);
/* mgr_hist_median() - the median duration of a histogram (per bucket
 * counts), interpolated linearly inside its bucket; 0 when empty.  The
 * +Inf bucket answers with the last finite bound. */
double	mgr_hist_median(const uint64_t hist[MGR_NBUCKETS]);

/* -- the busiest URLs and clients ------------------------------------------ */

/*
 * A bounded table of the most frequent keys (Space-Saving, Metwally et
 * al. 2005): a new key, when the table is full, takes the slot of the
 * least counted one and inherits its count, so a count may be too high
 * by at most that inherited part (kept in `over`) and a key seen often
 * is never missed.  A fixed cost per transaction, whatever the traffic.
 */
#define MGR_TOP_SLOTS	64
#define MGR_TOP_KEY	128	/* longer keys are cut */

struct mgr_top {
	struct {
		uint32_t	hash;
		uint64_t	n;
		uint64_t	over;	/* of n, inherited */
		uint64_t	bytes;
		char		key[MGR_TOP_KEY];
	}		v[MGR_TOP_SLOTS];
	unsigned	n;
};

void		mgr_top_add(struct mgr_top *t, const char *key, size_t len,
		    uint64_t bytes);
/* mgr_top_sorted() - up to max slot indices, most counted first; returns
 * how many. */
unsigned	mgr_top_sorted(const struct mgr_top *t, unsigned *idx,
		    unsigned max);

#endif /* CUTTLE_MGR_H */
