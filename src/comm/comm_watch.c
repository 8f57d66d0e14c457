/*
 * comm_watch.c - readiness of a descriptor comm does not own, for
 * libraries that run their own sockets (c-ares) under the loop.
 *
 * Lifecycle:
 *	comm_watch_new()	no interest yet; the fd stays the caller's
 *	comm_watch_set()	interest in readable and/or writable; (false,
 *				false) stops watching without freeing
 *	(io watcher)		fn(w, fd, readable, writable, arg) from the
 *				loop, level-triggered, while interest lasts
 *	comm_watch_free()	watcher stopped, freed; never closes the fd
 *
 * This is readiness, not a completion: fn runs straight from the libev
 * callback, as often as the fd stays ready, and may free its own watch
 * (nothing here touches it after fn returns).  The owner stops or frees
 * the watch before it closes the fd, since epoll would otherwise keep
 * reporting a descriptor number that may already name another file.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>

#include <ev.h>

#include "base/check.h"
#include "comm/comm_int.h"

struct comm_watch {
	unsigned		magic;
#define COMM_WATCH_MAGIC	0xc0a77c40U
	int			fd;
	struct comm_loop	*loop;
	ev_io			io;
	comm_watch_fn		*fn;
	void			*arg;
};

static void
watch_cb(struct ev_loop *ev, ev_io *io, int revents)
{
	struct comm_watch *w = container_of(io, struct comm_watch, io);

	(void)ev;
	CHECK_OBJ_NOTNULL(w, COMM_WATCH_MAGIC);
	/* Last statement: fn may free w. */
	w->fn(w, w->fd, (revents & (EV_READ | EV_ERROR)) != 0,
	    (revents & (EV_WRITE | EV_ERROR)) != 0, w->arg);
}

struct comm_watch *
comm_watch_new(struct comm_loop *loop, int fd, comm_watch_fn *fn, void *arg)
{
	struct comm_watch *w;

	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	CHECK(fd >= 0);
	AN(fn);
	ALLOC_OBJ(w, COMM_WATCH_MAGIC);
	if (w == NULL)
		return (NULL);
	w->fd = fd;
	w->loop = loop;
	w->fn = fn;
	w->arg = arg;
	ev_io_init(&w->io, watch_cb, fd, 0);
	return (w);
}

void
comm_watch_set(struct comm_watch *w, bool rd, bool wr)
{
	int events;

	CHECK_OBJ_NOTNULL(w, COMM_WATCH_MAGIC);
	events = (rd ? EV_READ : 0) | (wr ? EV_WRITE : 0);
	if (ev_is_active(&w->io) && (w->io.events & (EV_READ | EV_WRITE)) ==
	    events)
		return;
	ev_io_stop(w->loop->ev, &w->io);
	if (events == 0)
		return;
	ev_io_set(&w->io, w->fd, events);
	ev_io_start(w->loop->ev, &w->io);
}

void
comm_watch_free(struct comm_watch **wp)
{
	struct comm_watch *w;

	if (*wp == NULL)
		return;
	TAKE_OBJ_NOTNULL(w, wp, COMM_WATCH_MAGIC);
	ev_io_stop(w->loop->ev, &w->io);
	FREE_OBJ(w);
}
