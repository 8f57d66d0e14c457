/*
 * comm_listen.c - listening sockets and accept.
 *
 * Lifecycle:
 *	comm_listen()		socket, bind, listen; owned by the loop
 *	comm_accept_start()	accept watcher on
 *	listen_accept_cb()	up to COMM_ACCEPT_BATCH accepts per readiness,
 *				each handed to fn as a struct comm_conn
 *	listen_pause()		EMFILE & co: watcher off, on again after
 *				COMM_ACCEPT_PAUSE
 *	comm_accept_stop()	watcher and pause timer off
 *	comm_listener_close()	fd closed, listener freed (after fn returns
 *				when called from inside it)
 *
 * Why pause rather than keep a reserve fd: with no fd to spare, the
 * level-triggered listener stays readable and a naive loop spins at 100%
 * CPU.  Stopping the watcher for a moment bounds that to a few wake-ups
 * per second while queued clients wait in the backlog, to be served once
 * connections close, instead of being accepted only to be dropped.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "base/check.h"
#include "base/log.h"
#include "comm/comm_int.h"

const char *
comm_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	default:
		snprintf(buf, len, "(family %d)", sa->sa_family);
		break;
	}
	return (buf);
}

static void
listen_resume_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct comm_listener *l = container_of(w, struct comm_listener, pause);

	(void)revents;
	CHECK_OBJ_NOTNULL(l, COMM_LISTENER_MAGIC);
	if (l->accepting)
		ev_io_start(ev, &l->io);
}

static void
listen_pause(struct comm_listener *l, int err)
{
	double now = comm_loop_now(l->loop);
	char addr[80];

	l->loop->st.accept_pauses++;
	l->pauses++;
	ev_io_stop(l->loop->ev, &l->io);
	ev_timer_set(&l->pause, COMM_ACCEPT_PAUSE, 0.);
	ev_timer_start(l->loop->ev, &l->pause);
	/* Once a minute at most: under fd exhaustion this repeats ten
	 * times a second. */
	if (l->warned == 0 || now - l->warned >= 60.) {
		log_msg(LG_WARN, SEC_COMM, "accept on %s: %s; pausing accepts "
		    "for %.0f ms (%u times since the last warning)",
		    comm_addr_format((struct sockaddr *)&l->addr, addr,
		    sizeof addr), strerror(err), COMM_ACCEPT_PAUSE * 1e3,
		    l->pauses);
		l->warned = now;
		l->pauses = 0;
	}
}

static void
listen_accept_cb(struct ev_loop *ev, ev_io *w, int revents)
{
	struct comm_listener *l = container_of(w, struct comm_listener, io);
	struct sockaddr_storage peer;
	struct comm_conn *c;
	socklen_t plen;
	int i, fd;

	(void)ev;
	(void)revents;
	CHECK_OBJ_NOTNULL(l, COMM_LISTENER_MAGIC);
	for (i = 0; i < COMM_ACCEPT_BATCH; i++) {
		plen = sizeof peer;
		fd = accept4(l->fd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			switch (errno) {
			case EAGAIN:
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
			case ENETDOWN:
			case ENOPROTOOPT:
			case EHOSTDOWN:
			case ENONET:
			case EHOSTUNREACH:
			case ENETUNREACH:
			case EPERM:
				/* That client's trouble (Linux passes pending
				 * network errors up through accept). */
				continue;
			default:
				/* EMFILE, ENFILE, ENOBUFS, ENOMEM, and
				 * anything unforeseen: do not spin on it. */
				listen_pause(l, errno);
				return;
			}
		}
		if (l->addr.ss_family == AF_INET ||
		    l->addr.ss_family == AF_INET6)
			comm_sock_nodelay(fd);
		c = comm_conn_alloc(l->loop, fd);
		if (c == NULL) {
			(void)close(fd);
			listen_pause(l, ENOMEM);
			return;
		}
		if (l->addr.ss_family == AF_INET ||
		    l->addr.ss_family == AF_INET6)
			c->flags |= CONN_BULK_SIZE;
		l->loop->st.accepted++;
		l->in_cb = true;
		l->fn(l, c, (const struct sockaddr *)&peer, l->arg);
		l->in_cb = false;
		if (l->closing) {
			FREE_OBJ(l);
			return;
		}
		if (!l->accepting)
			return;
	}
}

int
comm_listen(struct comm_loop *loop, const struct sockaddr *addr,
    socklen_t addrlen, int backlog, struct comm_listener **out)
{
	struct comm_listener *l;
	int fd, on = 1, err;

	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	AN(out);
	*out = NULL;
	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return (-errno);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1)
		goto fail;
	/* A v6 wildcard must not also claim the v4 port: cuttle binds each
	 * family explicitly, as http_port lines ask. */
	if (addr->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == -1)
		goto fail;
	if (bind(fd, addr, addrlen) == -1)
		goto fail;
	if (listen(fd, backlog) == -1)
		goto fail;
	ALLOC_OBJ(l, COMM_LISTENER_MAGIC);
	if (l == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	l->loop = loop;
	l->fd = fd;
	ev_io_init(&l->io, listen_accept_cb, fd, EV_READ);
	ev_timer_init(&l->pause, listen_resume_cb, COMM_ACCEPT_PAUSE, 0.);
	l->addrlen = sizeof l->addr;
	if (getsockname(fd, (struct sockaddr *)&l->addr, &l->addrlen) == -1) {
		FREE_OBJ(l);
		goto fail;
	}
	loop->st.listeners++;
	*out = l;
	return (0);
fail:
	err = errno;
	close(fd);
	return (-err);
}

void
comm_listener_addr(const struct comm_listener *l,
    struct sockaddr_storage *ss, socklen_t *len)
{
	CHECK_OBJ_NOTNULL(l, COMM_LISTENER_MAGIC);
	memcpy(ss, &l->addr, l->addrlen);
	*len = l->addrlen;
}

uint16_t
comm_addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)(const void *)
		    sa)->sin_port));
	if (sa->sa_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_port));
	return (0);
}

uint16_t
comm_listener_port(const struct comm_listener *l)
{
	CHECK_OBJ_NOTNULL(l, COMM_LISTENER_MAGIC);
	return (comm_addr_port((const struct sockaddr *)&l->addr));
}

void
comm_accept_start(struct comm_listener *l, comm_accept_fn *fn, void *arg)
{
	CHECK_OBJ_NOTNULL(l, COMM_LISTENER_MAGIC);
	AN(fn);
	CHECK(!l->closing);
	l->fn = fn;
	l->arg = arg;
	l->accepting = true;
	if (!ev_is_active(&l->pause))
		ev_io_start(l->loop->ev, &l->io);
}

void
comm_accept_stop(struct comm_listener *l)
{
	CHECK_OBJ_NOTNULL(l, COMM_LISTENER_MAGIC);
	l->accepting = false;
	ev_io_stop(l->loop->ev, &l->io);
	ev_timer_stop(l->loop->ev, &l->pause);
}

void
comm_listener_close(struct comm_listener **lp)
{
	struct comm_listener *l;

	if (*lp == NULL)
		return;
	TAKE_OBJ_NOTNULL(l, lp, COMM_LISTENER_MAGIC);
	CHECK(!l->closing);
	comm_accept_stop(l);
	CHECK(l->loop->st.listeners > 0);
	l->loop->st.listeners--;
	(void)close(l->fd);
	l->fd = -1;
	if (l->in_cb) {
		l->closing = true;	/* listen_accept_cb() frees it */
		return;
	}
	FREE_OBJ(l);
}
