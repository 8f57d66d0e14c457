/*
 * client_adapt.c - the request path's helpers: url_rewrite_program (the
 * REWRITE step) and store_id_program (STOREID), run unchanged as Squid
 * runs them (squidGuard, ufdbGuard, storeid_file_rewrite).
 *
 *	ADMIT --> REWRITE ~~> STOREID ~~> LIMIT
 *
 * Each of the two steps goes through three phases, the step being run
 * again for each (t->adapt->phase):
 *	ASK	its access rules (url_rewrite_access, store_id_access), which
 *		may wait as every check may
 *	SEND	allowed: "URL extras" to the helper; the path parks (WAIT)
 *		and adapt_done() resumes it at the same step
 *	USE	the answer, kept by adapt_done(): rewrite the URL, redirect
 *		the client, key the cache, or leave the request as it is
 *
 * What the helper's answers do, as in Squid:
 *	OK rewrite-url=U	the request is for U from now on (Host too)
 *	OK url=U [status=30N]	the client is sent a redirect (302 when no
 *				status is given)
 *	OK store-id=ID		the cache keys the request by ID
 *	OK, ERR			the request as it is
 *	BH			asked again, twice at most (Squid's
 *				redirect_fail_count), then as it is; logged
 *	a bare URL, 30N:URL	Squid's legacy rewrite and redirect
 *	anything else		logged; the request as it is
 *	timeout			url_rewrite_timeout's on_timeout=: fail
 *				(500), bypass, retry, or the configured
 *				response
 *	queue full		*_bypass on: as it is; off: 500
 * A reconfigure that replaces the helpers cancels what they hold: those
 * requests are asked again of the new ones, never failed.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acl/acl.h"
#include "base/check.h"
#include "base/log.h"
#include "client/client_int.h"
#include "conf/conf.h"
#include "helper/helper.h"
#include "http/http_out.h"

#define ADAPT_LINE_MAX		16384	/* a request's line to a helper */
#define ADAPT_BH_RETRIES	2	/* Squid's redirect_fail_count */
#define ADAPT_TIMEOUT_RETRIES	3	/* on_timeout=retry, at most */
#define ADAPT_CANCEL_RETRIES	3	/* reconfigures during one request */
/* Squid's url_rewrite_extras and store_id_extras default. */
#define ADAPT_EXTRAS_DEFAULT	"%>a/%>A %un %>rm myip=%la myport=%lp"

enum adapt_kind { ADAPT_REWRITE, ADAPT_STOREID, ADAPT__COUNT };

enum adapt_on_timeout {
	ADAPT_TO_FAIL, ADAPT_TO_BYPASS, ADAPT_TO_RETRY, ADAPT_TO_RESPONSE
};

struct adapt_helper {
	struct helper_pool	*pool;		/* NULL: not configured */
	struct helper_params	hp;
	char			*program;
	struct acl_format	*extras;
	bool			bypass;		/* queue full: go on */
	uint8_t			on_timeout;	/* enum adapt_on_timeout */
	char			*response;	/* use_configured_response */
};

struct client_adapt {
	unsigned		magic;
#define CLIENT_ADAPT_MAGIC	0xada97a11U
	struct adapt_helper	h[ADAPT__COUNT];
};

enum adapt_phase { PHASE_ASK, PHASE_SEND, PHASE_USE };

/* What the functions below return for "no more to do here: the request
 * goes on as it is"; never a step of theirs to go to. */
#define ADAPT_GO_ON	CLIENT_STEP_RECV

/* One request's dealings with the helpers (t->adapt). */
struct client_adapt_txn {
	struct helper_req	*rq;		/* the question out; NULL
						 * once cancelled */
	bool			asked;		/* adapt_done() still to run
						 * (cancelled or not): t
						 * lives until it has */
	uint8_t			phase;		/* enum adapt_phase */
	uint8_t			bh, timeouts, cancels;
	uint8_t			status;		/* enum helper_status */
	uint16_t		redirect;	/* 30N; 0: no redirect */
	char			*url;		/* rewrite or redirect to */
	char			*store_id;	/* the cache key's URL */
};

static const char *const adapt_names[ADAPT__COUNT] = {
	"redirector", "store_id"		/* Squid's manager pages */
};
static const char *const adapt_directives[ADAPT__COUNT] = {
	"url_rewrite", "store_id"
};

/* -- configuration --------------------------------------------------------- */

static void
adapt_conf_error(const struct conf_line *l, const char *directive,
    const char *advice, const char *problem, int *errors)
{
	log_msg(LG_ERR, SEC_CLIENT, "%s:%u: %s: %s", l->file, l->line,
	    directive, problem);
	log_msg(LG_ERR, SEC_CLIENT, "    advice: %s", advice);
	(*errors)++;
}

static const struct conf_line *
adapt_last(const struct conf_lines *ls)
{
	return (ls->n > 0 ? &ls->v[ls->n - 1] : NULL);
}

static char *
adapt_join(const struct conf_line *l, unsigned from)
{
	size_t n = 1;
	unsigned i;
	char *s, *p;

	for (i = from; i < l->argc; i++)
		n += strlen(l->argv[i]) + 1;
	s = malloc(n);
	if (s == NULL)
		return (NULL);
	p = s;
	*p = '\0';
	for (i = from; i < l->argc; i++) {
		if (i > from)
			*p++ = ' ';
		p = stpcpy(p, l->argv[i]);
	}
	return (s);
}

/* "TIME [unit] [on_timeout=...] [response=...]": 0 or -EINVAL. */
static int
adapt_timeout(struct adapt_helper *h, const struct conf_line *l)
{
	char *end;
	double v, mult = 1;
	unsigned i = 1;

	v = strtod(l->argv[0], &end);
	if (*end != '\0' || v < 0)
		return (-EINVAL);
	if (l->argc > 1 && strchr(l->argv[1], '=') == NULL) {
		if (strncmp(l->argv[1], "second", 6) == 0)
			mult = 1;
		else if (strncmp(l->argv[1], "minute", 6) == 0)
			mult = 60;
		else if (strncmp(l->argv[1], "hour", 4) == 0)
			mult = 3600;
		else
			return (-EINVAL);
		i = 2;
	}
	h->hp.timeout = v * mult;
	for (; i < l->argc; i++) {
		if (strcmp(l->argv[i], "on_timeout=fail") == 0)
			h->on_timeout = ADAPT_TO_FAIL;
		else if (strcmp(l->argv[i], "on_timeout=bypass") == 0)
			h->on_timeout = ADAPT_TO_BYPASS;
		else if (strcmp(l->argv[i], "on_timeout=retry") == 0)
			h->on_timeout = ADAPT_TO_RETRY;
		else if (strcmp(l->argv[i],
		    "on_timeout=use_configured_response") == 0)
			h->on_timeout = ADAPT_TO_RESPONSE;
		else if (strncmp(l->argv[i], "response=", 9) == 0) {
			free(h->response);
			h->response = adapt_join(l, i);
			if (h->response == NULL)
				return (-ENOMEM);
			memmove(h->response, h->response + 9,
			    strlen(h->response + 9) + 1);
			break;		/* the rest of the line */
		} else
			return (-EINVAL);
	}
	if (h->on_timeout == ADAPT_TO_RESPONSE && h->response == NULL)
		return (-EINVAL);
	return (0);
}

static void
adapt_helper_fini(struct adapt_helper *h)
{
	helper_pool_free(&h->pool);
	free(h->program);
	acl_format_free(&h->extras);
	free(h->response);
	memset(h, 0, sizeof *h);
}

/* One helper's lines into h; its pool is started on loop (NULL: only
 * checked). */
static void
adapt_helper_conf(struct adapt_helper *h, enum adapt_kind k,
    const struct conf *conf, struct comm_loop *loop, int *errors)
{
	const struct conf_lines *prog, *children, *extras, *timeout;
	const struct conf_line *l;
	const char *bad, *d = adapt_directives[k];
	char dir[64], *fmt;
	int err;

	prog = k == ADAPT_REWRITE ? &conf->url_rewrite_program :
	    &conf->store_id_program;
	children = k == ADAPT_REWRITE ? &conf->url_rewrite_children :
	    &conf->store_id_children;
	extras = k == ADAPT_REWRITE ? &conf->url_rewrite_extras :
	    &conf->store_id_extras;
	timeout = k == ADAPT_REWRITE ? &conf->url_rewrite_timeout : NULL;
	h->hp.name = adapt_names[k];
	h->hp.children_max = 20;	/* Squid's defaults */
	h->hp.idle = 1;
	h->bypass = k == ADAPT_REWRITE ? conf->url_rewrite_bypass :
	    conf->store_id_bypass;
	if ((l = adapt_last(prog)) == NULL)
		return;
	snprintf(dir, sizeof dir, "%s_program", d);
	if (l->argc == 0 || (h->program = adapt_join(l, 0)) == NULL) {
		adapt_conf_error(l, dir, "url_rewrite_program /path/to/program "
		    "[arguments]", "no program", errors);
		return;
	}
	if ((l = adapt_last(children)) != NULL && helper_params_children(
	    &h->hp, l->argv, l->argc) != 0) {
		snprintf(dir, sizeof dir, "%s_children", d);
		adapt_conf_error(l, dir, "N [startup=N] [idle=N] "
		    "[concurrency=N] [queue-size=N], startup <= N",
		    "bad children line", errors);
	}
	l = adapt_last(extras);
	fmt = l != NULL ? adapt_join(l, 0) : strdup(ADAPT_EXTRAS_DEFAULT);
	if (fmt == NULL) {
		(*errors)++;
		return;
	}
	h->extras = acl_format_new(fmt, &bad);
	if (h->extras == NULL && bad != NULL && l != NULL) {
		snprintf(dir, sizeof dir, "%s_extras", d);
		adapt_conf_error(l, dir, "logformat codes such as %>a %un "
		    "%>rm %la %lp %>{Header}", bad, errors);
	} else if (h->extras == NULL)
		(*errors)++;
	free(fmt);
	if (timeout != NULL && (l = adapt_last(timeout)) != NULL &&
	    (l->argc == 0 || adapt_timeout(h, l) != 0)) {
		snprintf(dir, sizeof dir, "%s_timeout", d);
		adapt_conf_error(l, dir, "url_rewrite_timeout TIME [on_timeout="
		    "fail|bypass|retry|use_configured_response response=...]",
		    "bad timeout line", errors);
	}
	h->hp.cmd = h->program;
	if (loop == NULL || *errors > 0)
		return;
	h->pool = helper_pool_new(loop, &h->hp, &err);
	if (h->pool == NULL) {
		log_msg(LG_ERR, SEC_CLIENT, "%s: cannot start the helpers: %s",
		    d, strerror(-err));
		(*errors)++;
	}
}

struct client_adapt *
client_adapt_new(struct comm_loop *loop, const struct conf *conf,
    int *errors)
{
	struct client_adapt *a;
	int n = 0;
	unsigned k;

	if (conf->url_rewrite_program.n == 0 &&
	    conf->store_id_program.n == 0)
		return (NULL);
	ALLOC_OBJ(a, CLIENT_ADAPT_MAGIC);
	if (a == NULL) {
		(*errors)++;
		return (NULL);
	}
	for (k = 0; k < ADAPT__COUNT; k++)
		adapt_helper_conf(&a->h[k], k, conf, loop, &n);
	*errors += n;
	if (n > 0 || loop == NULL)
		client_adapt_free(&a);
	return (a);
}

void
client_adapt_free(struct client_adapt **ap)
{
	struct client_adapt *a = *ap;
	unsigned k;

	if (a == NULL)
		return;
	*ap = NULL;
	CHECK_OBJ_NOTNULL(a, CLIENT_ADAPT_MAGIC);
	for (k = 0; k < ADAPT__COUNT; k++)
		adapt_helper_fini(&a->h[k]);
	FREE_OBJ(a);
}

bool
client_adapt_conf_equal(const struct conf *a, const struct conf *b)
{
	return (conf_lines_equal(&a->url_rewrite_program,
	    &b->url_rewrite_program) &&
	    conf_lines_equal(&a->url_rewrite_children,
	    &b->url_rewrite_children) &&
	    conf_lines_equal(&a->url_rewrite_extras,
	    &b->url_rewrite_extras) &&
	    conf_lines_equal(&a->url_rewrite_timeout,
	    &b->url_rewrite_timeout) &&
	    a->url_rewrite_bypass == b->url_rewrite_bypass &&
	    conf_lines_equal(&a->store_id_program, &b->store_id_program) &&
	    conf_lines_equal(&a->store_id_children,
	    &b->store_id_children) &&
	    conf_lines_equal(&a->store_id_extras, &b->store_id_extras) &&
	    a->store_id_bypass == b->store_id_bypass);
}

bool
client_adapt_removes(const struct client_adapt *from,
    const struct client_adapt *to)
{
	unsigned k;

	for (k = 0; from != NULL && k < ADAPT__COUNT; k++)
		if (from->h[k].pool != NULL && (to == NULL ||
		    to->h[k].pool == NULL))
			return (true);
	return (false);
}

int
client_adapt_replace(struct client_adapt *from, struct client_adapt *to,
    struct mgr_registry *r, struct helper_pools *ps)
{
	struct helper_pool *old;
	unsigned k, i;
	int err = 0;

	for (k = 0; to != NULL && k < ADAPT__COUNT; k++) {
		if (to->h[k].pool == NULL)
			continue;
		old = from != NULL ? from->h[k].pool : NULL;
		if (old == NULL) {
			if (ps->n < HELPER_POOLS_MAX)
				ps->v[ps->n++] = to->h[k].pool;
			if (helper_register_page(to->h[k].pool, r) != 0)
				err = -ENOMEM;
			continue;
		}
		(void)mgr_registry_rebind(r, old, to->h[k].pool);
		for (i = 0; i < ps->n; i++)
			if (ps->v[i] == old)
				ps->v[i] = to->h[k].pool;
	}
	return (err);
}

/* -- the request path ------------------------------------------------------ */

static helper_done_fn adapt_done;

static struct adapt_helper *
adapt_helper_of(struct client_txn *t, enum adapt_kind k)
{
	struct client_adapt *a = t->cc->ctx->deps.adapt;

	return (a != NULL && a->h[k].pool != NULL ? &a->h[k] : NULL);
}

void
client_adapt_txn_free(struct client_txn *t)
{
	struct client_adapt_txn *at = t->adapt;

	if (at == NULL)
		return;
	free(at->url);
	free(at->store_id);
	free(at);
	t->adapt = NULL;
}

void
client_adapt_cancel(struct client_txn *t)
{
	if (t->adapt != NULL)
		helper_cancel(&t->adapt->rq);	/* its answer still comes */
}

bool
client_adapt_waiting(const struct client_txn *t)
{
	/* Not rq: helper_cancel() clears it, and the answer still comes
	 * to t. */
	return (t->adapt != NULL && t->adapt->asked);
}

const char *
client_adapt_store_id(const struct client_txn *t)
{
	return (t->adapt != NULL ? t->adapt->store_id : NULL);
}

/* Send t's line to h: WAIT, or an error page (END). */
static enum client_step
adapt_send(struct client_txn *t, struct adapt_helper *h)
{
	struct client_adapt_txn *at = t->adapt;
	char line[ADAPT_LINE_MAX];
	size_t n;
	int m;

	client_txn_view(t);
	n = t->req.target.len + 1;
	if (n < sizeof line) {
		memcpy(line, http_msg_ptr(&t->req, t->req.target), n - 1);
		line[n - 1] = ' ';
	}
	m = n < sizeof line ? acl_format_expand(h->extras, &t->view, NULL,
	    line + n, sizeof line - n) : -E2BIG;
	if (m < 0) {
		/* Too long for a helper line: as Squid, it goes on as it
		 * is rather than cut in a way the helper misreads. */
		log_msg(LG_WARN, SEC_CLIENT, "%s: request line too long for "
		    "the helper; the request goes on as it is",
		    h->hp.name);
		at->phase = PHASE_ASK;
		return (ADAPT_GO_ON);
	}
	at->phase = PHASE_USE;
	at->rq = helper_submit(h->pool, line, n + (size_t)m, adapt_done, t);
	at->asked = at->rq != NULL;
	if (at->rq == NULL) {
		client_txn_error(t, ERRPAGE_GATEWAY_FAILURE, "no memory to ask "
		    "the helper", ENOMEM);
		return (CLIENT_STEP_END);
	}
	return (CLIENT_STEP_WAIT);
}

/* "30N" in s (len bytes) and nothing else: N, or 0. */
static unsigned
adapt_redirect_status(const char *s, size_t len)
{
	unsigned v;

	if (len != 3 || s[0] != '3' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9')
		return (0);
	v = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
	return (v == 301 || v == 302 || v == 303 || v == 307 || v == 308 ?
	    v : 0);
}

static bool
adapt_url_ok(const char *u)
{
	size_t i;

	for (i = 0; u[i] != '\0'; i++)
		if (u[i] <= ' ' || u[i] > '~')
			return (false);
	return (i > 0 && i < ADAPT_LINE_MAX);
}

/* What the answer r says to do, kept in at (the reply is only lent).
 * A URL that could not be sent on as it is (a control byte) is
 * refused, logged. */
static void
adapt_keep(struct client_adapt_txn *at, const char *name, enum adapt_kind k,
    const struct helper_reply *r)
{
	const char *u = NULL, *st, *sp;
	unsigned status = 0;

	if (k == ADAPT_STOREID) {
		u = r->status == HELPER_OK ? helper_reply_get(r, "store-id") :
		    NULL;
		if (u != NULL && adapt_url_ok(u))
			at->store_id = strdup(u);
		else if (u != NULL)
			log_msg(LG_WARN, SEC_CLIENT, "%s: store-id with "
			    "blanks or control bytes ignored", name);
		return;
	}
	if (r->status == HELPER_OK) {
		u = helper_reply_get(r, "rewrite-url");
		if (u == NULL && (u = helper_reply_get(r, "url")) != NULL) {
			st = helper_reply_get(r, "status");
			status = st != NULL ? adapt_redirect_status(st,
			    strlen(st)) : 302;
			if (status == 0) {
				log_msg(LG_WARN, SEC_CLIENT, "%s: status=%s "
				    "is not a redirect; the request goes on "
				    "as it is", name, st);
				return;
			}
		}
	} else if (r->status == HELPER_UNKNOWN && r->text[0] != '\0') {
		/* Squid's legacy answers: "URL" or "30N:URL", the first
		 * word of the line. */
		u = r->text;
		sp = strpbrk(u, " \t");
		if (sp != NULL)
			*(char *)(uintptr_t)sp = '\0';
		if (strlen(u) > 4 && u[3] == ':' && (status =
		    adapt_redirect_status(u, 3)) != 0)
			u += 4;
		if (strstr(u, "://") == NULL) {
			log_msg(LG_WARN, SEC_CLIENT, "%s: unusable answer "
			    "\"%.80s\"; the request goes on as it is", name,
			    r->text);
			return;
		}
	}
	if (u == NULL)
		return;
	if (!adapt_url_ok(u)) {
		log_msg(LG_WARN, SEC_CLIENT, "%s: URL with blanks or control "
		    "bytes ignored", name);
		return;
	}
	at->url = strdup(u);
	at->redirect = (uint16_t)status;
	if (at->url == NULL)
		log_msg(LG_WARN, SEC_CLIENT, "%s: no memory for the answer",
		    name);
}

/* The helper answered (or not): keep what it said and go on with the
 * path at the step that asked. */
static void
adapt_done(struct helper_req *rq, const struct helper_reply *r, void *arg)
{
	struct client_txn *t = arg;
	struct client_adapt_txn *at;
	struct adapt_helper *h;
	struct helper_reply conf_r;
	enum adapt_kind k;
	char *resp = NULL;

	(void)rq;
	CHECK_OBJ_NOTNULL(t, CLIENT_TXN_MAGIC);
	at = t->adapt;
	at->rq = NULL;
	at->asked = false;
	if (t->state == TXN_DONE) {
		client_txn_maybe_free(t);
		return;
	}
	k = t->step == CLIENT_STEP_REWRITE ? ADAPT_REWRITE : ADAPT_STOREID;
	h = adapt_helper_of(t, k);
	at->status = (uint8_t)r->status;
	if (r->status == HELPER_TIMEOUT && h != NULL &&
	    h->on_timeout == ADAPT_TO_RESPONSE && (resp =
	    strdup(h->response)) != NULL) {
		helper_reply_parse(resp, &conf_r);
		r = &conf_r;
		at->status = HELPER_OK;
	}
	if (r->status == HELPER_BH && r->why != NULL)
		at->bh = ADAPT_BH_RETRIES;	/* the pool retried already */
	if (r->status == HELPER_OK || r->status == HELPER_UNKNOWN)
		adapt_keep(at, adapt_names[k], k, r);
	else if (r->status == HELPER_BH || r->status == HELPER_TIMEOUT)
		log_msg(LG_WARN, SEC_CLIENT, "%s: the helper answered %s%s%s",
		    adapt_names[k], helper_status_name(r->status),
		    r->why != NULL ? ": " : "", r->why != NULL ? r->why : "");
	free(resp);
	client_steps_resume(t);
}

/* Use the answer at kept: PHASE_ASK again (BH, timeout to retry, the
 * helpers replaced), the step after (END after an answer to the client),
 * or ADAPT_GO_ON: go on as it is. */
static enum client_step
adapt_use(struct client_txn *t, struct adapt_helper *h, enum adapt_kind k)
{
	struct client_adapt_txn *at = t->adapt;
	bool again = false;

	switch ((enum helper_status)at->status) {
	case HELPER_BH:
		again = at->bh++ < ADAPT_BH_RETRIES;
		break;
	case HELPER_CANCELLED:		/* the helpers were replaced */
		again = at->cancels++ < ADAPT_CANCEL_RETRIES;
		break;
	case HELPER_TIMEOUT:
		if (h == NULL || k != ADAPT_REWRITE)
			break;
		if (h->on_timeout == ADAPT_TO_RETRY)
			again = at->timeouts++ < ADAPT_TIMEOUT_RETRIES;
		else if (h->on_timeout != ADAPT_TO_BYPASS) {
			client_txn_error(t, ERRPAGE_GATEWAY_FAILURE,
			    "the URL rewriter did not answer in time", 0);
			return (CLIENT_STEP_END);
		}
		break;
	case HELPER_OVERLOAD:
		log_msg(LG_WARN, SEC_CLIENT, "%s: queue full%s",
		    adapt_names[k], h != NULL && h->bypass ? ", bypassed" : "");
		if (h != NULL && !h->bypass) {
			client_txn_error(t, ERRPAGE_GATEWAY_FAILURE,
			    "the helper's queue is full", 0);
			return (CLIENT_STEP_END);
		}
		break;
	default:
		break;
	}
	if (again && h != NULL) {
		at->phase = PHASE_SEND;
		return (adapt_send(t, h));
	}
	at->phase = PHASE_ASK;
	return (ADAPT_GO_ON);
}

/* Redirect the client to at->url with at->redirect. */
static void
adapt_redirect(struct client_txn *t)
{
	struct client_adapt_txn *at = t->adapt;
	struct buf_chain out;

	t->code = RESULT_TCP_REDIRECT;
	t->status = at->redirect;
	/* The request's content (if any) is read and dropped, as the
	 * manager's is, so that the connection may carry the next. */
	t->state = TXN_BODY;
	buf_chain_init(&out, comm_loop_pool(t->cc->ctx->deps.loop));
	if (http_out_printf(&out, "HTTP/1.1 %u %s\r\nLocation: %s\r\n"
	    "Content-Length: 0\r\nCache-Control: no-store\r\n%s\r\n",
	    t->status, http_reason(t->status), at->url, t->req.keep_alive ?
	    "" : "Connection: close\r\n") != 0) {
		buf_chain_fini(&out);
		client_txn_abort(t);
		return;
	}
	client_reply_write_all(t, &out);
	buf_chain_fini(&out);
}

/* The request is for url from now on: false (logged) when url is not
 * one cuttle can forward, and the request is left as it was. */
static bool
adapt_rewrite(struct client_txn *t, const char *url)
{
	struct http_url u;
	size_t len = strlen(url);

	if (http_url_parse(url, len, false, &u) != 0 ||
	    u.form != HTTP_URL_ABSOLUTE || (u.scheme != HTTP_SCHEME_HTTP &&
	    u.scheme != HTTP_SCHEME_HTTPS)) {
		log_msg(LG_WARN, SEC_CLIENT, "redirector: \"%.200s\" is not "
		    "an http or https URL; the request goes on as it is", url);
		return (false);
	}
	if (http_msg_set_target(&t->req, url, len) != 0) {
		log_msg(LG_WARN, SEC_CLIENT, "redirector: cannot use \"%.200s\""
		    "; the request goes on as it is", url);
		return (false);
	}
	t->url = u;
	/* The view pointed into the old bytes: built again at the next
	 * check, and the lookups about the old host forgotten. */
	t->view.src = NULL;
	t->lk.known &= ~(unsigned)ACL_KNOW_DST;
	return (true);
}

/* One helper's step: its rules, its question, its answer. */
static enum client_step
adapt_step(struct client_txn *t, enum adapt_kind k, enum client_step self,
    enum client_step next)
{
	struct adapt_helper *h = adapt_helper_of(t, k);
	struct client_adapt_txn *at = t->adapt;
	const struct acl_rules *rules;
	enum client_step s;

	if (h == NULL) {		/* none, or gone with a reconfigure */
		if (at != NULL)
			at->phase = PHASE_ASK;
		return (next);
	}
	if (at == NULL) {
		at = t->adapt = calloc(1, sizeof *at);
		if (at == NULL) {
			client_txn_error(t, ERRPAGE_GATEWAY_FAILURE,
			    "no memory to ask the helper", ENOMEM);
			return (CLIENT_STEP_END);
		}
	}
	switch ((enum adapt_phase)at->phase) {
	case PHASE_ASK:
		at->phase = PHASE_SEND;
		at->bh = at->timeouts = at->cancels = 0;
		rules = k == ADAPT_REWRITE ?
		    t->cc->ctx->deps.url_rewrite_access :
		    t->cc->ctx->deps.store_id_access;
		return (client_step_check(t, rules, ACL_ALLOW, self));
	case PHASE_SEND:
		if (t->answer != ACL_ALLOW) {
			at->phase = PHASE_ASK;
			return (next);
		}
		s = adapt_send(t, h);
		return (s == ADAPT_GO_ON ? next : s);
	case PHASE_USE:
		s = adapt_use(t, h, k);
		if (s != ADAPT_GO_ON)
			return (s);
		break;
	}
	if (k == ADAPT_REWRITE && at->url != NULL) {
		if (at->redirect != 0) {
			adapt_redirect(t);
			return (CLIENT_STEP_END);
		}
		(void)adapt_rewrite(t, at->url);
		free(at->url);
		at->url = NULL;
	}
	return (next);
}

enum client_step
client_adapt_rewrite(struct client_txn *t)
{
	return (adapt_step(t, ADAPT_REWRITE, CLIENT_STEP_REWRITE,
	    CLIENT_STEP_STOREID));
}

enum client_step
client_adapt_storeid(struct client_txn *t)
{
	return (adapt_step(t, ADAPT_STOREID, CLIENT_STEP_STOREID,
	    CLIENT_STEP_LIMIT));
}
