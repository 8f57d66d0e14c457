/*
 * helper_pool.c - helper children, their queue, and their answers.
 *
 * A request's life:
 *
 *	helper_submit()		QUEUED on the pool (or completes at once:
 *				a bad line, a full queue)
 *	  pool_dispatch()	SENT: a slot of the least loaded child
 *	  child_line()		its answer: DONE, delivery posted
 *	  req_timeout()		timeout: DONE; the slot stays taken,
 *				abandoned, until the answer comes or the
 *				child is killed
 *	  child_lost()		its child died: QUEUED again at the head,
 *				once; the second time DONE with BH
 *	helper_cancel()		DONE with CANCELLED, from any state
 *	req_deliver()		(posted) done(rq, reply), then freed
 *
 * Every way out goes through req_finish(), which detaches the request
 * from the queue or its slot, stops its timer and posts the delivery:
 * so done runs once, from the loop, and a request is never on the queue
 * and in a slot at once.
 *
 * A child's life:
 *
 *	child_start()		posix_spawnp() on two socketpairs (stdin
 *				and stdout on one, stderr on the other),
 *				both ends close-on-exec but the child's 0-2
 *				(or the loop's spawner's two ends, with no
 *				process: tests that play the helper)
 *	  child_read_done()	answers, a line at a time
 *	  child_err_done()	stderr, a line at a time, to cache.log
 *	child_lost()		EOF, an error, a broken answer, a timeout
 *				with concurrency 0: its connections close,
 *				its pid goes to the reaper, its requests
 *				go back to the queue
 *	  child_unref()		freed once its last comm callback ran
 *
 * A child is detached from its pool (child->pool NULL) when lost, so its
 * late comm callbacks, which may come after the pool is freed, touch
 * nothing but the child.  Exited children are reaped with
 * waitpid(WNOHANG) on a timer rather than SIGCHLD: the loop's signal
 * watchers cannot be removed, and waitpid() on the pids the pool started
 * never takes another module's child.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "base/dec.h"
#include "base/list.h"
#include "base/log.h"
#include "buf/buf.h"
#include "comm/comm.h"
#include "helper/helper.h"
#include "mgr/mgr.h"

extern char **environ;

#define HELPER_BACKOFF_MAX	60.0	/* seconds between failing starts */
#define HELPER_REAP_EVERY	0.2	/* seconds between waitpid() rounds */
#define HELPER_ERRLINE_MAX	1024	/* stderr bytes logged per line */
#define HELPER_ANSWER_ROOM	64	/* bytes an answer may outgrow its
					 * question by and still take its place */

enum req_state { RQ_QUEUED, RQ_SENT, RQ_DONE };

struct helper_req {
	unsigned		magic;
#define HELPER_REQ_MAGIC	0x4e1b4e9aU
	enum req_state		state;
	struct helper_pool	*pool;		/* NULL once DONE */
	struct list		link;		/* on pool->queue while QUEUED */
	struct helper_child	*child;		/* while SENT */
	unsigned		slot;
	bool			retried;
	double			submitted;
	double			sent;
	struct comm_timer	*timer;		/* NULL: no timeout */
	helper_done_fn		*done;
	void			*arg;
	struct comm_call	call;		/* the delivery */
	struct helper_reply	reply;		/* points into answer */
	char			*answer;	/* the child's line: line, or
						 * owned */
	size_t			len;		/* of line, newline included */
	size_t			cap;		/* line's room, for the answer */
	char			line[];
};

struct helper_slot {
	struct helper_req	*rq;		/* NULL: free or abandoned */
	bool			busy;		/* sent, no answer yet */
};

struct helper_child {
	unsigned		magic;
#define HELPER_CHILD_MAX_MAGIC	0x4e1bc41dU
	struct list		link;		/* on pool->children */
	struct helper_pool	*pool;		/* NULL once lost */
	unsigned		id;		/* #1, #2 ... in the pool */
	pid_t			pid;
	struct comm_conn	*io;		/* its stdin and stdout */
	struct comm_conn	*err;		/* its stderr */
	unsigned		ops;		/* comm operations pending */
	char			*rbuf;		/* an answer not yet whole */
	size_t			rlen, rcap;
	char			ebuf[HELPER_ERRLINE_MAX];
	size_t			elen;
	bool			answered;	/* ever */
	bool			lost;
	unsigned		busy;		/* slots busy, abandoned too */
	unsigned		writing;	/* lines written, not yet out */
	unsigned		abandoned;	/* busy slots nobody waits on */
	uint64_t		requests, replies;
	double			started;
	unsigned		nslots;
	struct helper_slot	slots[];
};

struct helper_pool {
	unsigned		magic;
#define HELPER_POOL_MAGIC	0x4e1b9001U
	struct comm_loop	*loop;
	char			*name;
	char			*cmd;
	char			**argv;
	char			*words;		/* what argv points into */
	bool			stopping;	/* helper_pool_free() */
	struct helper_params	p;		/* name, cmd: the copies */
	struct list		queue;		/* QUEUED requests, in order */
	unsigned		nqueued;
	struct list		children;	/* running */
	unsigned		nchildren;
	unsigned		next_id;
	unsigned		early_deaths;	/* in a row */
	double			next_start;	/* backoff: no start before */
	struct comm_timer	*start_timer;
	struct comm_call	first;		/* the startup children */
	pid_t			*reap;		/* exited, not yet waited for */
	size_t			nreap, reapcap;
	struct comm_timer	*reap_timer;
	struct helper_stats	st;
};

static comm_done_fn child_read_done, child_err_done, child_write_done;
static void pool_dispatch(struct helper_pool *p);
static void child_lost(struct helper_child *c, const char *why);

/* -- requests -------------------------------------------------------------- */

static void
req_deliver(struct comm_call *call)
{
	struct helper_req *rq = container_of(call, struct helper_req, call);

	CHECK_OBJ_NOTNULL(rq, HELPER_REQ_MAGIC);
	rq->done(rq, &rq->reply, rq->arg);
	if (rq->answer != rq->line)
		free(rq->answer);
	rq->magic = 0;
	free(rq);
}

/* The one way out: detach rq from wherever it is and post its delivery
 * with status st (answer, when not NULL, is the child's line: taken). */
static void
req_finish(struct helper_req *rq, enum helper_status st, char *answer,
    const char *why)
{
	struct helper_pool *p = rq->pool;
	struct helper_child *c = rq->child;

	CHECK(rq->state != RQ_DONE);
	if (rq->state == RQ_QUEUED) {
		list_remove(&rq->link);
		p->nqueued--;
	} else if (c != NULL) {
		/* The slot stays busy until the child answers (or dies). */
		CHECK(c->slots[rq->slot].rq == rq);
		c->slots[rq->slot].rq = NULL;
		c->abandoned++;
	}
	rq->state = RQ_DONE;
	rq->child = NULL;
	comm_timer_free(&rq->timer);
	if (answer != NULL) {
		rq->answer = answer;
		helper_reply_parse(answer, &rq->reply);
	} else {
		memset(&rq->reply, 0, sizeof rq->reply);
		rq->reply.status = st;
		rq->reply.text = "";
	}
	rq->reply.why = why;
	p->st.results[rq->reply.status]++;
	rq->pool = NULL;
	comm_call_post(p->loop, &rq->call);
}

static void
req_timeout(struct comm_timer *t, void *arg)
{
	struct helper_req *rq = arg;
	struct helper_pool *p = rq->pool;
	struct helper_child *c = rq->child;

	(void)t;
	CHECK_OBJ_NOTNULL(rq, HELPER_REQ_MAGIC);
	log_msg(LG_NOTICE, SEC_HELPER, "helper %s: a request timed out "
	    "after %.1f s%s", p->name, p->p.timeout, c != NULL ?
	    " on a child" : " in the queue");
	req_finish(rq, HELPER_TIMEOUT, NULL, "the helper did not answer "
	    "in time");
	if (c != NULL && !c->lost && (p->p.concurrency == 0 ||
	    c->abandoned == c->nslots)) {
		/* A late answer without a channel ID would be taken for
		 * the next request's: this child cannot be trusted. */
		log_msg(LG_WARN, SEC_HELPER, "helper %s: killing child #%u "
		    "(pid %ld): it does not answer", p->name, c->id,
		    (long)c->pid);
		/* A process goes with its EOF (child_lost() then); a
		 * spawner's child has no process to wait for. */
		if (c->pid > 0)
			(void)kill(c->pid, SIGTERM);
		else
			child_lost(c, "was stopped");
	}
}

struct helper_req *
helper_submit(struct helper_pool *p, const char *line, size_t len,
    helper_done_fn *done, void *arg)
{
	struct helper_req *rq;

	CHECK_OBJ_NOTNULL(p, HELPER_POOL_MAGIC);
	AN(done);
	/* Room for an answer somewhat longer than the question too: some
	 * helpers echo the request's words after their own. */
	rq = calloc(1, sizeof *rq + len + 1 + HELPER_ANSWER_ROOM);
	if (rq == NULL)
		return (NULL);
	rq->cap = len + 1 + HELPER_ANSWER_ROOM;
	rq->magic = HELPER_REQ_MAGIC;
	rq->pool = p;
	rq->done = done;
	rq->arg = arg;
	rq->submitted = comm_now(p->loop);
	comm_call_init(&rq->call, req_deliver);
	list_init(&rq->link);
	memcpy(rq->line, line, len);
	rq->line[len] = '\n';
	rq->len = len + 1;
	p->st.requests++;
	rq->state = RQ_SENT;		/* in nothing yet: req_finish() */
	if (memchr(line, '\n', len) != NULL || memchr(line, '\0', len) !=
	    NULL) {
		req_finish(rq, HELPER_BH, NULL, "the request holds a "
		    "newline or a NUL");
		return (rq);
	}
	if (p->nqueued >= p->p.queue_size) {
		log_msg(LG_WARN, SEC_HELPER, "helper %s: queue overload "
		    "(%u waiting); the request fails", p->name, p->nqueued);
		req_finish(rq, HELPER_OVERLOAD, NULL, "the helper's queue "
		    "is full");
		return (rq);
	}
	if (p->p.timeout > 0) {
		rq->timer = comm_timer_new(p->loop, req_timeout, rq);
		if (rq->timer == NULL) {
			free(rq);
			return (NULL);
		}
		comm_timer_start(rq->timer, p->p.timeout, 0);
	}
	rq->state = RQ_QUEUED;
	list_insert_tail(&p->queue, &rq->link);
	p->nqueued++;
	pool_dispatch(p);
	return (rq);
}

void
helper_cancel(struct helper_req **rqp)
{
	struct helper_req *rq = *rqp;

	if (rq == NULL)
		return;
	*rqp = NULL;
	CHECK_OBJ_NOTNULL(rq, HELPER_REQ_MAGIC);
	if (rq->state != RQ_DONE) {
		req_finish(rq, HELPER_CANCELLED, NULL, "cancelled");
		return;
	}
	/* Its result is in and its delivery posted: it says CANCELLED. */
	if (rq->answer != rq->line)
		free(rq->answer);
	rq->answer = NULL;
	memset(&rq->reply, 0, sizeof rq->reply);
	rq->reply.status = HELPER_CANCELLED;
	rq->reply.text = "";
	rq->reply.why = "cancelled";
}

/* -- children -------------------------------------------------------------- */

static void
child_unref(struct helper_child *c)
{
	CHECK(c->ops > 0);
	if (--c->ops > 0 || !c->lost)
		return;
	free(c->rbuf);
	c->magic = 0;
	free(c);
}

static void
pool_reap(struct comm_timer *t, void *arg)
{
	struct helper_pool *p = arg;
	size_t i = 0;
	int status;

	(void)t;
	while (i < p->nreap) {
		if (waitpid(p->reap[i], &status, WNOHANG) == 0) {
			i++;
			continue;
		}
		p->reap[i] = p->reap[--p->nreap];
	}
	if (p->nreap == 0)
		comm_timer_stop(p->reap_timer);
}

static void
pool_reap_add(struct helper_pool *p, pid_t pid)
{
	pid_t *v;
	size_t cap;

	if (p->nreap == p->reapcap) {
		cap = p->reapcap == 0 ? 8 : p->reapcap * 2;
		v = realloc(p->reap, cap * sizeof *v);
		if (v == NULL) {
			/* It stays a zombie until cuttle exits: logged. */
			log_msg(LG_ERR, SEC_HELPER, "helper %s: no memory to "
			    "remember pid %ld for waitpid()", p->name,
			    (long)pid);
			return;
		}
		p->reap = v;
		p->reapcap = cap;
	}
	p->reap[p->nreap++] = pid;
	if (p->nreap == 1)
		comm_timer_start(p->reap_timer, 0.01, HELPER_REAP_EVERY);
}

/* The child is gone (or must go): its requests go back to the queue,
 * once each, and others are started in its place. */
static void
child_lost(struct helper_child *c, const char *why)
{
	struct helper_pool *p = c->pool;
	struct helper_req *rq;
	unsigned i;
	double delay;

	if (c->lost)
		return;
	c->lost = true;
	c->pool = NULL;
	list_remove(&c->link);
	p->nchildren--;
	p->st.died++;
	log_msg(c->answered ? LG_NOTICE : LG_ERR, SEC_HELPER, "helper %s: "
	    "child #%u (pid %ld) %s after %ju requests", p->name, c->id,
	    (long)c->pid, why, (uintmax_t)c->requests);
	/* Back to the head of the queue, last first, so their order
	 * holds; a request already moved once fails. */
	for (i = c->nslots; i-- > 0;) {
		rq = c->slots[i].rq;
		if (rq == NULL)
			continue;
		c->slots[i].rq = NULL;
		rq->child = NULL;
		if (rq->retried) {
			rq->state = RQ_SENT;
			req_finish(rq, HELPER_BH, NULL, "the helper died "
			    "twice on this request");
			continue;
		}
		rq->retried = true;
		rq->state = RQ_QUEUED;
		list_insert_head(&p->queue, &rq->link);
		p->nqueued++;
		p->st.retries++;
	}
	if (c->pid > 0) {
		(void)kill(c->pid, SIGTERM);	/* in case it only closed
						 * stdout */
		pool_reap_add(p, c->pid);
	}
	comm_close(&c->io);
	comm_close(&c->err);
	if (!c->answered && !p->stopping) {
		p->st.early_deaths++;
		p->early_deaths++;
		if (p->early_deaths > 1) {
			delay = 1.0;
			for (i = 2; i < p->early_deaths && delay <
			    HELPER_BACKOFF_MAX; i++)
				delay *= 2;
			if (delay > HELPER_BACKOFF_MAX)
				delay = HELPER_BACKOFF_MAX;
			p->next_start = comm_now(p->loop) + delay;
			log_msg(LG_ERR, SEC_HELPER, "helper %s: %u children "
			    "in a row died before answering; next start in "
			    "%.0f s", p->name, p->early_deaths, delay);
			comm_timer_start(p->start_timer, delay, 0);
		}
	}
	pool_dispatch(p);
}

static struct helper_child *
child_of(void *arg)
{
	struct helper_child *c = arg;

	CHECK_OBJ_NOTNULL(c, HELPER_CHILD_MAX_MAGIC);
	return (c);
}

/* One whole answer line from c (NUL-terminated, without the newline). */
static void
child_line(struct helper_child *c, char *line, size_t len)
{
	struct helper_pool *p = c->pool;
	struct helper_req *rq;
	unsigned long id = 0;
	char *end, *answer;
	unsigned slot = 0;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (p->p.concurrency > 0) {
		errno = 0;
		id = strtoul(line, &end, 10);
		if (end == line || errno != 0 || id >= c->nslots ||
		    (*end != ' ' && *end != '\0')) {
			p->st.stray++;
			log_msg(LG_WARN, SEC_HELPER, "helper %s: child #%u "
			    "answered without a valid channel ID: %.80s",
			    p->name, c->id, line);
			return;
		}
		slot = (unsigned)id;
		end += *end == ' ';
		len -= (size_t)(end - line);
		line = end;
	}
	if (!c->slots[slot].busy) {
		p->st.stray++;
		log_msg(LG_WARN, SEC_HELPER, "helper %s: child #%u answered "
		    "a request it was not given: %.80s", p->name, c->id,
		    line);
		return;
	}
	c->slots[slot].busy = false;
	c->busy--;
	c->replies++;
	c->answered = true;
	p->early_deaths = 0;
	rq = c->slots[slot].rq;
	if (rq == NULL) {
		c->abandoned--;
		p->st.stray++;
		return;
	}
	c->slots[slot].rq = NULL;
	p->st.replies++;
	p->st.svc_time_sum += comm_now(p->loop) - rq->sent;
	rq->child = NULL;
	/* The answer takes the request line's place when it fits (the
	 * line is sent and never sent again): one malloc() less. */
	if (len < rq->cap) {
		memcpy(rq->line, line, len + 1);
		answer = rq->line;
	} else
		answer = strdup(line);
	if (answer == NULL) {
		req_finish(rq, HELPER_BH, NULL, "no memory for the answer");
		return;
	}
	req_finish(rq, HELPER_UNKNOWN, answer, NULL);
}

static void
child_read_done(struct comm_conn *conn, const struct comm_result *res,
    void *arg)
{
	struct helper_child *c = child_of(arg);
	const unsigned char *d;
	size_t n, start, i;
	char *nb, *nl;

	(void)conn;
	if (c->lost || res->status != COMM_OK) {
		if (!c->lost)
			child_lost(c, res->status == COMM_EOF ? "exited" :
			    "failed");
		child_unref(c);
		return;
	}
	d = buf_slice_ptr(&res->data);
	n = res->data.len;
	if (c->rlen + n + 1 > c->rcap) {
		nb = c->rlen + n + 1 > HELPER_LINE_MAX ? NULL :
		    realloc(c->rbuf, c->rlen + n + 1);
		if (nb == NULL) {
			child_lost(c, "sent an answer too long");
			child_unref(c);
			return;
		}
		c->rbuf = nb;
		c->rcap = c->rlen + n + 1;
	}
	memcpy(c->rbuf + c->rlen, d, n);
	c->rlen += n;
	for (start = 0; start < c->rlen && !c->lost; start = i + 1) {
		nl = memchr(c->rbuf + start, '\n', c->rlen - start);
		if (nl == NULL)
			break;
		i = (size_t)(nl - c->rbuf);
		*nl = '\0';
		child_line(c, c->rbuf + start, i - start);
	}
	if (!c->lost) {
		memmove(c->rbuf, c->rbuf + start, c->rlen - start);
		c->rlen -= start;
		comm_read(c->io, NULL, 0, child_read_done, c);
		pool_dispatch(c->pool);
		return;		/* the read carries the op's count on */
	}
	child_unref(c);
}

static void
child_err_line(struct helper_child *c, const char *pool_name)
{
	c->ebuf[c->elen] = '\0';
	if (c->elen > 0)
		log_msg(LG_NOTICE, SEC_HELPER, "helper %s #%u: %s", pool_name,
		    c->id, c->ebuf);
	c->elen = 0;
}

static void
child_err_done(struct comm_conn *conn, const struct comm_result *res,
    void *arg)
{
	struct helper_child *c = child_of(arg);
	const unsigned char *d;
	size_t i;

	(void)conn;
	if (res->status != COMM_OK || c->lost) {
		child_unref(c);
		return;
	}
	d = buf_slice_ptr(&res->data);
	for (i = 0; i < res->data.len; i++) {
		if (d[i] == '\n' || c->elen == sizeof c->ebuf - 1) {
			child_err_line(c, c->pool->name);
			if (d[i] == '\n')
				continue;
		}
		c->ebuf[c->elen++] = d[i] == '\0' ? ' ' : (char)d[i];
	}
	comm_read(c->err, NULL, 0, child_err_done, c);
}

static void
child_write_done(struct comm_conn *conn, const struct comm_result *res,
    void *arg)
{
	struct helper_child *c = child_of(arg);

	(void)conn;
	c->writing--;
	if (res->status != COMM_OK && res->status != COMM_CANCELLED &&
	    !c->lost)
		child_lost(c, "stopped reading its requests");
	child_unref(c);
}

/*
 * Run p's program on two new socketpairs (stdin and stdout on one, stderr
 * on the other), or ask the loop's spawner for the two ends: *iofd and
 * *errfd are cuttle's ends, *pid 0 when no process stands behind them.
 * 0 or an errno.
 */
static int
child_exec(struct helper_pool *p, int *iofd, int *errfd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	int io[2] = { -1, -1 }, er[2] = { -1, -1 }, rc;
	comm_spawner_fn *spawn;
	sigset_t none, dfl;
	void *arg;

	spawn = comm_loop_spawner(p->loop, &arg);
	if (spawn != NULL) {
		rc = spawn(p->argv, io, arg);
		*iofd = io[0];
		*errfd = io[1];
		*pid = 0;
		return (rc < 0 ? -rc : 0);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, io) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, er) == -1) {
		rc = errno;
		goto fail;
	}
	/* dup2() clears close-on-exec on 0, 1 and 2 only; everything else
	 * cuttle holds is close-on-exec already (comm's rule), and closed
	 * here too where the C library can. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, io[1], 0);
	posix_spawn_file_actions_adddup2(&fa, io[1], 1);
	posix_spawn_file_actions_adddup2(&fa, er[1], 2);
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	/* cuttle ignores SIGPIPE, and ignored signals survive exec. */
	posix_spawnattr_init(&sa);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &dfl);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(pid, p->argv[0], &fa, &sa, p->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	if (rc == 0) {
		close(io[1]);
		close(er[1]);
		*iofd = io[0];
		*errfd = er[0];
		return (0);
	}
fail:
	if (io[0] != -1)
		close(io[0]);
	if (io[1] != -1)
		close(io[1]);
	if (er[0] != -1)
		close(er[0]);
	if (er[1] != -1)
		close(er[1]);
	return (rc);
}

/* Start one child; false when it could not be (logged, backed off). */
static bool
child_start(struct helper_pool *p)
{
	struct helper_child *c;
	int io = -1, er = -1, rc;
	unsigned nslots = p->p.concurrency > 0 ? p->p.concurrency : 1;
	pid_t pid;

	c = calloc(1, sizeof *c + nslots * sizeof c->slots[0]);
	if (c == NULL)
		return (false);
	c->magic = HELPER_CHILD_MAX_MAGIC;
	c->nslots = nslots;
	rc = child_exec(p, &io, &er, &pid);
	if (rc != 0)
		goto fail;
	c->pid = pid;
	c->io = comm_conn_new(p->loop, io);
	if (c->io != NULL)
		io = -1;
	c->err = comm_conn_new(p->loop, er);
	if (c->err != NULL)
		er = -1;
	c->pool = p;
	c->id = ++p->next_id;
	c->started = comm_now(p->loop);
	list_insert_tail(&p->children, &c->link);
	p->nchildren++;
	p->st.started++;
	if (c->io == NULL || c->err == NULL) {
		/* Not even room to watch it: as good as dead. */
		if (io != -1)
			close(io);
		if (er != -1)
			close(er);
		c->ops++;
		child_lost(c, "could not be watched (no memory)");
		child_unref(c);
		return (false);
	}
	c->ops += 2;
	comm_read(c->io, NULL, 0, child_read_done, c);
	comm_read(c->err, NULL, 0, child_err_done, c);
	log_msg(LG_INFO, SEC_HELPER, "helper %s: started child #%u (pid "
	    "%ld)", p->name, c->id, (long)pid);
	return (true);
fail:
	log_msg(LG_ERR, SEC_HELPER, "helper %s: cannot start %s: %s",
	    p->name, p->argv[0], strerror(rc));
	free(c);
	/* As a child that died at once. */
	p->early_deaths++;
	p->st.early_deaths++;
	p->next_start = comm_now(p->loop) + (p->early_deaths > 1 ?
	    HELPER_BACKOFF_MAX : 1.0);
	comm_timer_start(p->start_timer, p->next_start - comm_now(p->loop),
	    0);
	return (false);
}

static bool
pool_may_start(const struct helper_pool *p)
{
	return (p->nchildren < p->p.children_max &&
	    comm_now(p->loop) >= p->next_start);
}

/*
 * The child the next request goes to, or NULL: one whose lines are still
 * on their way (written this round, not yet out) while it has a free
 * slot, else the running child with the fewest requests in flight and a
 * free slot.  The first rule makes the requests of one loop round one
 * batch: one write to one child, one wake-up of it, its answers read
 * together, where spreading them would wake every child for a line or
 * two.  Rounds still go to the least loaded child, so children work in
 * parallel across rounds.
 */
static struct helper_child *
pool_least_loaded(struct helper_pool *p)
{
	struct helper_child *c, *best = NULL;
	struct list *n;

	LIST_FOREACH(n, &p->children) {
		c = container_of(n, struct helper_child, link);
		if (c->busy >= c->nslots)
			continue;
		if (c->writing > 0)
			return (c);
		if (best == NULL || c->busy < best->busy)
			best = c;
	}
	return (best);
}

static void
child_send(struct helper_child *c, struct helper_req *rq)
{
	struct helper_pool *p = c->pool;
	struct buf_chain ch;
	char id[DEC_MAX + 1], *s = id + sizeof id;
	unsigned slot;
	int err;

	for (slot = 0; c->slots[slot].busy; slot++)
		continue;
	list_remove(&rq->link);
	p->nqueued--;
	rq->state = RQ_SENT;
	rq->child = c;
	rq->slot = slot;
	rq->sent = comm_now(p->loop);
	c->slots[slot].rq = rq;
	c->slots[slot].busy = true;
	c->busy++;
	c->requests++;
	buf_chain_init(&ch, comm_loop_pool(p->loop));
	if (p->p.concurrency > 0) {
		/* The channel ID, "N ". */
		*--s = ' ';
		s = dec_put(s, slot);
	}
	err = buf_chain_append(&ch, s, (size_t)(id + sizeof id - s));
	if (err == 0)
		err = buf_chain_append(&ch, rq->line, rq->len);
	if (err != 0) {
		buf_chain_fini(&ch);
		/* The child may hold a part: it cannot be used any more. */
		child_lost(c, "could not be written to (no memory)");
		return;
	}
	c->ops++;
	c->writing++;
	comm_writev(c->io, &ch, child_write_done, c);
	buf_chain_fini(&ch);
}

static unsigned
pool_idle(const struct helper_pool *p)
{
	const struct helper_child *c;
	struct list *n;
	unsigned idle = 0;

	LIST_FOREACH(n, &p->children) {
		c = container_of(n, const struct helper_child, link);
		idle += c->busy == 0;
	}
	return (idle);
}

static void
pool_dispatch(struct helper_pool *p)
{
	struct helper_child *c;
	struct helper_req *rq;

	if (p->stopping)
		return;
	while (!list_empty(&p->queue)) {
		c = pool_least_loaded(p);
		if (c == NULL && pool_may_start(p) && child_start(p))
			continue;
		if (c == NULL)
			break;
		rq = container_of(list_first(&p->queue), struct helper_req,
		    link);
		child_send(c, rq);
	}
	/* startup= at once; idle= only once there is work (Squid starts
	 * no child for idle= alone). */
	while ((p->nchildren < p->p.startup || (p->nchildren > 0 &&
	    pool_idle(p) < p->p.idle)) && pool_may_start(p) &&
	    child_start(p))
		continue;
}

static void
pool_start_again(struct comm_timer *t, void *arg)
{
	struct helper_pool *p = arg;

	(void)t;
	pool_dispatch(p);
}

/* The startup= children alone: what requests need, they started. */
static void
pool_first_start(struct comm_call *call)
{
	struct helper_pool *p = container_of(call, struct helper_pool, first);

	while (!p->stopping && p->nchildren < p->p.startup &&
	    pool_may_start(p) && child_start(p))
		continue;
}

/* -- the pool -------------------------------------------------------------- */

/* cmd split on blanks into a NULL-terminated vector; NULL on ENOMEM or
 * when there is no word. */
static char **
pool_split(char *cmd)
{
	char **v, *w, *save = NULL;
	size_t n = 0;

	v = calloc(strlen(cmd) / 2 + 2, sizeof *v);
	if (v == NULL)
		return (NULL);
	for (w = strtok_r(cmd, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save))
		v[n++] = w;
	if (n == 0) {
		free(v);
		return (NULL);
	}
	return (v);
}

struct helper_pool *
helper_pool_new(struct comm_loop *loop, const struct helper_params *hp,
    int *err)
{
	struct helper_pool *p;

	*err = -EINVAL;
	if (hp->cmd == NULL || hp->children_max == 0 || hp->children_max >
	    HELPER_CHILDREN_MAX || hp->startup > hp->children_max ||
	    hp->concurrency > HELPER_CONCURRENCY_MAX)
		return (NULL);
	*err = -ENOMEM;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return (NULL);
	p->magic = HELPER_POOL_MAGIC;
	p->loop = loop;
	list_init(&p->queue);
	list_init(&p->children);
	p->p = *hp;
	p->name = strdup(hp->name != NULL ? hp->name : "helper");
	p->cmd = strdup(hp->cmd);
	comm_call_init(&p->first, pool_first_start);
	p->start_timer = comm_timer_new(loop, pool_start_again, p);
	p->reap_timer = comm_timer_new(loop, pool_reap, p);
	if (p->name == NULL || p->cmd == NULL || p->start_timer == NULL ||
	    p->reap_timer == NULL)
		goto fail;
	p->p.name = p->name;
	p->p.cmd = p->cmd;
	if (p->p.queue_size == 0)
		p->p.queue_size = 2 * p->p.children_max;
	if (p->p.idle == 0)
		p->p.idle = 1;
	p->words = strdup(hp->cmd);
	if (p->words == NULL)
		goto fail;
	p->argv = pool_split(p->words);
	if (p->argv == NULL) {
		*err = strspn(hp->cmd, " \t") == strlen(hp->cmd) ? -EINVAL :
		    -ENOMEM;
		goto fail;
	}
	/* The startup children come from the loop's next turn, not from
	 * here: cuttle started as root creates its pools before it drops
	 * to cache_effective_user, and helpers must run as that user, as
	 * Squid's do, never as root. */
	comm_call_post(loop, &p->first);
	*err = 0;
	return (p);
fail:
	helper_pool_free(&p);
	return (NULL);
}

/* Wait a moment for children told to go (EOF on stdin, then SIGTERM),
 * then kill those still there: a helper that ignores both must not hold
 * cuttle's exit.  Blocks for at most about half a second in all. */
static void
pool_reap_all(struct helper_pool *p)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned round;
	size_t i;
	int status;

	for (round = 0; round < 50 && p->nreap > 0; round++) {
		pool_reap(NULL, p);
		if (p->nreap > 0)
			(void)nanosleep(&ts, NULL);
	}
	for (i = 0; i < p->nreap; i++) {
		/* A helper cuttle may not signal (a set-user-ID one, as
		 * basic_pam_auth often is) would hold a blocking wait
		 * forever: it is left, and said so. */
		if (kill(p->reap[i], SIGKILL) != 0) {
			log_msg(LG_WARN, SEC_HELPER, "helper %s: pid %ld did "
			    "not exit and cannot be killed (%s); left "
			    "running", p->name, (long)p->reap[i],
			    strerror(errno));
			continue;
		}
		log_msg(LG_WARN, SEC_HELPER, "helper %s: pid %ld did not "
		    "exit; killed", p->name, (long)p->reap[i]);
		(void)waitpid(p->reap[i], &status, 0);
	}
	p->nreap = 0;
}

void
helper_pool_free(struct helper_pool **pp)
{
	struct helper_pool *p = *pp;
	struct helper_child *c;
	struct helper_req *rq;
	struct list *n;
	unsigned i;

	if (p == NULL)
		return;
	*pp = NULL;
	CHECK_OBJ_NOTNULL(p, HELPER_POOL_MAGIC);
	p->stopping = true;
	while ((n = list_first(&p->queue)) != NULL) {
		rq = container_of(n, struct helper_req, link);
		req_finish(rq, HELPER_CANCELLED, NULL, "cuttle is stopping "
		    "the helper");
	}
	while ((n = list_first(&p->children)) != NULL) {
		c = container_of(n, struct helper_child, link);
		/* No retries now: every request of c fails. */
		for (i = 0; i < c->nslots; i++)
			if (c->slots[i].rq != NULL)
				req_finish(c->slots[i].rq, HELPER_CANCELLED,
				    NULL, "cuttle is stopping the helper");
		c->answered = true;	/* no backoff message */
		child_lost(c, "stopped");
	}
	if (p->reap_timer != NULL)
		pool_reap_all(p);
	comm_call_cancel(&p->first);
	comm_timer_free(&p->start_timer);
	comm_timer_free(&p->reap_timer);
	free(p->argv);
	free(p->words);
	free(p->reap);
	free(p->name);
	free(p->cmd);
	p->magic = 0;
	free(p);
}

const char *
helper_pool_name(const struct helper_pool *p)
{
	return (p->name);
}

void
helper_pool_stats(const struct helper_pool *p, struct helper_stats *st)
{
	const struct helper_child *c;
	struct list *n;

	*st = p->st;
	st->children = p->nchildren;
	st->queued = p->nqueued;
	st->busy = st->in_flight = 0;
	LIST_FOREACH(n, &p->children) {
		c = container_of(n, const struct helper_child, link);
		st->busy += c->busy > 0;
		st->in_flight += c->busy - c->abandoned;
	}
}

void
helper_pool_render(const struct helper_pool *p, struct mgr_out *o,
    double now)
{
	const struct helper_child *c;
	struct helper_stats st;
	struct list *n;
	unsigned i;

	helper_pool_stats(p, &st);
	mgr_out_printf(o, "program: %s\n", p->cmd);
	mgr_out_printf(o, "number active: %u of %u (0 shutting down)\n",
	    st.children, p->p.children_max);
	mgr_out_printf(o, "requests sent: %ju\n", (uintmax_t)st.requests);
	mgr_out_printf(o, "replies received: %ju\n", (uintmax_t)st.replies);
	mgr_out_printf(o, "requests timedout: %ju\n",
	    (uintmax_t)st.results[HELPER_TIMEOUT]);
	mgr_out_printf(o, "queue length: %u\n", st.queued);
	mgr_out_printf(o, "avg service time: %.0f msec\n\n", st.replies > 0 ?
	    1000.0 * st.svc_time_sum / (double)st.replies : 0.0);
	mgr_out_printf(o, "%7s\t%7s\t%7s\t%11s\t%11s\t%6s\t%7s\t%7s\n",
	    "ID #", "FD", "PID", "# Requests", "# Replies", "Flags", "Time",
	    "Request");
	LIST_FOREACH(n, &p->children) {
		c = container_of(n, const struct helper_child, link);
		mgr_out_printf(o, "%7u\t%7d\t%7ld\t%11ju\t%11ju\t%6s\t%7.3f\t",
		    c->id, comm_conn_fd(c->io), (long)c->pid,
		    (uintmax_t)c->requests, (uintmax_t)c->replies,
		    c->busy > 0 ? "B" : "", now - c->started);
		/* Not the line itself: it may hold a password. */
		mgr_out_printf(o, "%s\n", c->busy > c->abandoned ?
		    "(in flight)" : "(none)");
	}
	mgr_out_printf(o, "\nFlags key:\n\n   B = BUSY\n");
	mgr_out_printf(o, "\nresults:");
	for (i = 0; i < HELPER__COUNT; i++)
		mgr_out_printf(o, " %s=%ju", helper_status_name(i),
		    (uintmax_t)st.results[i]);
	mgr_out_printf(o, "\nchildren started: %ju, died: %ju (before any "
	    "answer: %ju), requests retried: %ju, stray answers: %ju\n",
	    (uintmax_t)st.started, (uintmax_t)st.died,
	    (uintmax_t)st.early_deaths, (uintmax_t)st.retries,
	    (uintmax_t)st.stray);
}
