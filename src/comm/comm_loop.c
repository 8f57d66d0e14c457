/*
 * comm_loop.c - the libev loop, its call queue, its clock, signals.
 *
 * Lifecycle:
 *	comm_loop_new()		ev loop, buf pool, queue watchers; SIGPIPE
 *				ignored
 *	comm_call_post()	call queued; the idle watcher keeps the next
 *				poll from blocking
 *	(prepare watcher)	queued calls run, in order, before each poll
 *	comm_loop_run()		runs until comm_loop_stop()
 *	comm_loop_free()	queued calls run, signal watchers stopped,
 *				pool and ev loop destroyed
 *
 * Why a prepare watcher: it runs at the start of every loop iteration,
 * after the previous iteration's I/O and timer callbacks have posted their
 * completions, and before the loop decides how long to block.  Running the
 * queue there delivers every completion in the same iteration it was
 * produced, and an idle watcher started while calls remain makes that
 * poll non-blocking.  (An ev_idle alone would not do: idle watchers run
 * only when nothing else is pending, so a busy loop would starve them.)
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include <ev.h>

#include "base/check.h"
#include "base/list.h"
#include "base/log.h"
#include "buf/buf.h"
#include "comm/comm_int.h"

/*
 * Run the queue in rounds: each round takes what was queued when it began,
 * so calls posted meanwhile (a completion that starts and at once fails
 * another operation) wait for the next round; after COMM_CALL_ROUNDS the
 * loop polls for I/O first.
 */
static void
loop_run_calls(struct comm_loop *loop)
{
	struct list batch, *n;
	struct comm_call *call;
	int round;

	for (round = 0; round < COMM_CALL_ROUNDS; round++) {
		if (list_empty(&loop->calls))
			break;
		list_init(&batch);
		list_move(&batch, &loop->calls);
		while ((n = list_first(&batch)) != NULL) {
			list_remove(n);
			call = container_of(n, struct comm_call, link);
			loop->st.calls++;
			call->fn(call);
		}
	}
	if (list_empty(&loop->calls))
		ev_idle_stop(loop->ev, &loop->idle);
	else
		ev_idle_start(loop->ev, &loop->idle);
}

static void
wop_free(struct comm_wop *w)
{
	CHECK_OBJ_NOTNULL(&w->op, COMM_OP_MAGIC);
	w->op.magic = 0;
	free(w);
}

static void
loop_prepare_cb(struct ev_loop *ev, ev_prepare *w, int revents)
{
	struct comm_loop *loop = container_of(w, struct comm_loop, prep);

	(void)ev;
	(void)revents;
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	loop_run_calls(loop);
}

/* Only there to make the poll non-blocking; the work is in prepare. */
static void
loop_idle_cb(struct ev_loop *ev, ev_idle *w, int revents)
{
	(void)ev;
	(void)w;
	(void)revents;
}

struct comm_loop *
comm_loop_new(void)
{
	struct comm_loop *loop;
	unsigned i;

	/* Peers that vanish mid-write must cost an EPIPE, not the process;
	 * sends also pass MSG_NOSIGNAL, this covers everything else. */
	signal(SIGPIPE, SIG_IGN);
	ALLOC_OBJ(loop, COMM_LOOP_MAGIC);
	if (loop == NULL)
		return (NULL);
	loop->pool = buf_pool_new(COMM_POOL_CACHE);
	if (loop->pool == NULL) {
		FREE_OBJ(loop);
		errno = ENOMEM;
		return (NULL);
	}
	loop->ev = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
	if (loop->ev == NULL) {
		buf_pool_free(&loop->pool);
		FREE_OBJ(loop);
		errno = ENOMEM;
		return (NULL);
	}
	list_init(&loop->calls);
	list_init(&loop->signals);
	list_init(&loop->wops);
	list_init(&loop->nomem);
	for (i = 0; i < COMM_NOMEM_RESERVE; i++) {
		loop->reserve[i].reserved = true;
		list_insert_tail(&loop->nomem, &loop->reserve[i].link);
	}
	list_init(&loop->conns);
	list_init(&loop->timers);
	list_init(&loop->tls_busy);
	ev_prepare_init(&loop->prep, loop_prepare_cb);
	ev_prepare_start(loop->ev, &loop->prep);
	/* The queue watcher alone must not keep comm_loop_run() going. */
	ev_unref(loop->ev);
	ev_idle_init(&loop->idle, loop_idle_cb);
	return (loop);
}

void
comm_loop_free(struct comm_loop **lp)
{
	struct comm_loop *loop;
	struct list *n, *tmp;
	struct comm_signal *s;
	struct comm_wop *w;

	if (*lp == NULL)
		return;
	TAKE_OBJ_NOTNULL(loop, lp, COMM_LOOP_MAGIC);
	/* Exactly once, even at shutdown: what is queued still runs. */
	while (!list_empty(&loop->calls))
		loop_run_calls(loop);
	/* Nobody waits for a close_notify still looking for room. */
	comm_conn_end_lingering(loop);
	AZ(loop->st.listeners);
	AZ(loop->st.conns);
	AZ(loop->st.ops);
	LIST_FOREACH_SAFE(n, tmp, &loop->signals) {
		s = container_of(n, struct comm_signal, link);
		CHECK_OBJ(s, COMM_SIGNAL_MAGIC);
		ev_signal_stop(loop->ev, &s->w);
		list_remove(&s->link);
		FREE_OBJ(s);
	}
	while ((n = list_first(&loop->wops)) != NULL) {
		list_remove(n);
		w = container_of(n, struct comm_wop, link);
		wop_free(w);
	}
	AN(list_empty(&loop->tls_busy));
	comm_timer_free(&loop->tls_sweep);
	ev_ref(loop->ev);
	ev_prepare_stop(loop->ev, &loop->prep);
	ev_idle_stop(loop->ev, &loop->idle);
	ev_loop_destroy(loop->ev);
	buf_pool_free(&loop->pool);
	FREE_OBJ(loop);
}

int
comm_loop_run(struct comm_loop *loop)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	ev_run(loop->ev, 0);
	return (0);
}

void
comm_loop_run_once(struct comm_loop *loop)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	/* With calls queued, running them is this iteration's progress:
	 * the caller must get to look at what they did before we block. */
	ev_run(loop->ev, list_empty(&loop->calls) ? EVRUN_ONCE :
	    EVRUN_NOWAIT);
}

void
comm_loop_stop(struct comm_loop *loop)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	ev_break(loop->ev, EVBREAK_ALL);
}

struct buf_pool *
comm_loop_pool(struct comm_loop *loop)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	return (loop->pool);
}

double
comm_now(const struct comm_loop *loop)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	return (comm_loop_now(loop));
}

/*
 * The warp moves comm_now() only; libev keeps its own clock.  So every
 * timer is re-armed for what is left of it after the jump (0: it runs in
 * the next iteration), and every connection's timer recomputes its
 * deadlines against the new comm_now(), which acts on those now passed.
 */
void
comm_loop_warp(struct comm_loop *loop, double seconds)
{
	struct comm_timer *t;
	struct comm_conn *c;
	struct list *n;
	double left;

	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	CHECK(seconds >= 0);
	loop->warp += seconds;
	LIST_FOREACH(n, &loop->timers) {
		t = container_of(n, struct comm_timer, link);
		if (!ev_is_active(&t->w))
			continue;
		left = ev_timer_remaining(loop->ev, &t->w) - seconds;
		ev_timer_stop(loop->ev, &t->w);
		ev_timer_set(&t->w, left > 0 ? left : 0., t->w.repeat);
		ev_timer_start(loop->ev, &t->w);
	}
	LIST_FOREACH(n, &loop->conns) {
		c = container_of(n, struct comm_conn, link);
		if (!ev_is_active(&c->timer))
			continue;
		ev_timer_stop(loop->ev, &c->timer);
		comm_conn_timer_update(c);
	}
}

void
comm_loop_set_connector(struct comm_loop *loop, comm_connector_fn *fn,
    void *arg)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	loop->connector = fn;
	loop->connector_arg = arg;
}

void
comm_loop_set_spawner(struct comm_loop *loop, comm_spawner_fn *fn,
    void *arg)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	loop->spawner = fn;
	loop->spawner_arg = arg;
}

comm_spawner_fn *
comm_loop_spawner(const struct comm_loop *loop, void **arg)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	*arg = loop->spawner_arg;
	return (loop->spawner);
}

void
comm_loop_stats(const struct comm_loop *loop, struct comm_loop_stats *st)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	*st = loop->st;
}

void
comm_call_init(struct comm_call *call, comm_call_fn *fn)
{
	AN(fn);
	list_init(&call->link);
	call->fn = fn;
}

void
comm_call_post(struct comm_loop *loop, struct comm_call *call)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	AN(call->fn);
	CHECK(!comm_call_pending(call));
	list_insert_tail(&loop->calls, &call->link);
	if (!ev_is_active(&loop->idle))
		ev_idle_start(loop->ev, &loop->idle);
}

void
comm_call_cancel(struct comm_call *call)
{
	list_remove(&call->link);
}

/* Write ops are recycled per loop: a busy connection queues and retires
 * several per request, and malloc() need not see each one.  NULL on
 * ENOMEM. */
struct comm_wop *
comm_wop_get(struct comm_loop *loop)
{
	struct list *n;
	struct comm_wop *w;

	n = list_first(&loop->wops);
	if (n != NULL) {
		list_remove(n);
		loop->nwops--;
		w = container_of(n, struct comm_wop, link);
		CHECK_OBJ(&w->op, COMM_OP_MAGIC);
		return (w);
	}
	w = calloc(1, sizeof *w);
	if (w == NULL)
		return (NULL);
	w->op.magic = COMM_OP_MAGIC;
	list_init(&w->op.call.link);
	list_init(&w->link);
	return (w);
}

void
comm_wop_put(struct comm_loop *loop, struct comm_wop *w)
{
	CHECK_OBJ_NOTNULL(&w->op, COMM_OP_MAGIC);
	CHECK(w->op.state == COMM_OP_IDLE);
	AZ(w->chain.n);
	AZ(w->chain.v);
	if (loop->nwops >= COMM_WOP_CACHE) {
		wop_free(w);
		return;
	}
	list_insert_head(&loop->wops, &w->link);
	loop->nwops++;
}

static void
comm_signal_cb(struct ev_loop *ev, ev_signal *w, int revents)
{
	struct comm_signal *s = container_of(w, struct comm_signal, w);

	(void)ev;
	(void)revents;
	CHECK_OBJ_NOTNULL(s, COMM_SIGNAL_MAGIC);
	s->fn(s->loop, w->signum, s->arg);
}

int
comm_signal_add(struct comm_loop *loop, int signo, comm_signal_fn *fn,
    void *arg)
{
	struct comm_signal *s;

	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	AN(fn);
	ALLOC_OBJ(s, COMM_SIGNAL_MAGIC);
	if (s == NULL)
		return (-ENOMEM);
	s->loop = loop;
	s->fn = fn;
	s->arg = arg;
	ev_signal_init(&s->w, comm_signal_cb, signo);
	ev_signal_start(loop->ev, &s->w);
	list_insert_tail(&loop->signals, &s->link);
	return (0);
}
