/*
 * comm_timer.c - one-shot and repeating timers for the layers above comm.
 *
 * Lifecycle:
 *	comm_timer_new()	stopped
 *	comm_timer_start()	armed; fn runs from the loop when due
 *	comm_timer_stop()	disarmed (idempotent, as in libev)
 *	comm_timer_free()	stopped and freed
 */
#include "config.h"

#include <ev.h>

#include "base/check.h"
#include "base/list.h"
#include "comm/comm_int.h"

static void
timer_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct comm_timer *t = container_of(w, struct comm_timer, w);

	(void)ev;
	(void)revents;
	CHECK_OBJ_NOTNULL(t, COMM_TIMER_MAGIC);
	t->fn(t, t->arg);
}

struct comm_timer *
comm_timer_new(struct comm_loop *loop, comm_timer_fn *fn, void *arg)
{
	struct comm_timer *t;

	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	AN(fn);
	ALLOC_OBJ(t, COMM_TIMER_MAGIC);
	if (t == NULL)
		return (NULL);
	t->loop = loop;
	t->fn = fn;
	t->arg = arg;
	ev_init(&t->w, timer_cb);
	list_insert_tail(&loop->timers, &t->link);
	return (t);
}

void
comm_timer_start(struct comm_timer *t, double after, double repeat)
{
	CHECK_OBJ_NOTNULL(t, COMM_TIMER_MAGIC);
	CHECK(after >= 0 && repeat >= 0);
	ev_timer_stop(t->loop->ev, &t->w);
	ev_timer_set(&t->w, after, repeat);
	ev_timer_start(t->loop->ev, &t->w);
}

void
comm_timer_stop(struct comm_timer *t)
{
	CHECK_OBJ_NOTNULL(t, COMM_TIMER_MAGIC);
	ev_timer_stop(t->loop->ev, &t->w);
}

bool
comm_timer_active(const struct comm_timer *t)
{
	CHECK_OBJ_NOTNULL(t, COMM_TIMER_MAGIC);
	return (ev_is_active(&t->w));
}

void
comm_timer_free(struct comm_timer **tp)
{
	struct comm_timer *t;

	if (*tp == NULL)
		return;
	TAKE_OBJ_NOTNULL(t, tp, COMM_TIMER_MAGIC);
	ev_timer_stop(t->loop->ev, &t->w);
	list_remove(&t->link);
	FREE_OBJ(t);
}
