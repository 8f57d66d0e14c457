/*
 * comm_loop.c - the libev loop, its clock and signal delivery.
 *
 * Lifecycle:
 *	comm_loop_new()		ev loop created, SIGPIPE ignored
 *	comm_loop_run()		runs until comm_loop_stop()
 *	comm_loop_free()	signal watchers stopped, ev loop destroyed
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include <ev.h>

#include "base/check.h"
#include "base/log.h"
#include "comm/comm_int.h"

struct comm_loop *
comm_loop_new(void)
{
	struct comm_loop *loop;

	/* Peers that vanish mid-write must cost an EPIPE, not the process. */
	signal(SIGPIPE, SIG_IGN);
	ALLOC_OBJ(loop, COMM_LOOP_MAGIC);
	if (loop == NULL)
		return (NULL);
	loop->ev = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
	if (loop->ev == NULL) {
		FREE_OBJ(loop);
		errno = ENOMEM;
		return (NULL);
	}
	list_init(&loop->signals);
	return (loop);
}

void
comm_loop_free(struct comm_loop **lp)
{
	struct comm_loop *loop;
	struct list *n, *tmp;
	struct comm_signal *s;

	if (*lp == NULL)
		return;
	TAKE_OBJ_NOTNULL(loop, lp, COMM_LOOP_MAGIC);
	AZ(loop->listeners);
	LIST_FOREACH_SAFE(n, tmp, &loop->signals) {
		s = container_of(n, struct comm_signal, link);
		CHECK_OBJ(s, COMM_SIGNAL_MAGIC);
		ev_signal_stop(loop->ev, &s->w);
		list_remove(&s->link);
		FREE_OBJ(s);
	}
	ev_loop_destroy(loop->ev);
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
comm_loop_stop(struct comm_loop *loop)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	ev_break(loop->ev, EVBREAK_ALL);
}

double
comm_now(const struct comm_loop *loop)
{
	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	return (ev_now(loop->ev));
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
