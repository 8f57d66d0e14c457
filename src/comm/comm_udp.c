/*
 * comm_udp.c - datagram sockets (ICP), the smallest facility that keeps
 * the loop's rules: only comm touches the fd and libev.
 *
 * Lifecycle:
 *	comm_udp_open()		socket, bind; the receive watcher on
 *	udp_read_cb()		up to COMM_UDP_BATCH datagrams per readiness,
 *				each handed to fn from the loop
 *	comm_udp_send()		one sendto(): the datagram goes whole, or
 *				not at all (-errno), at once
 *	comm_udp_close()	watcher off, fd closed, freed; fn is never
 *				called again, even for datagrams already read
 *				in the round under way
 *
 * Why no send queue: a datagram protocol that is a hint (ICP) loses
 * nothing worth keeping when the socket buffer is full, and a queue
 * would hold replies past the point where they mean anything.  A send
 * that would block is an error the caller counts (as Squid does).
 * Reception is readiness, like accept: fn runs from the libev callback,
 * never inside a comm_udp_* call, and may close its own socket.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "base/check.h"
#include "comm/comm_int.h"

#define COMM_UDP_BATCH	64	/* datagrams read per readiness */

struct comm_udp {
	unsigned		magic;
#define COMM_UDP_MAGIC		0xc0dd9a40U
	int			fd;
	struct comm_loop	*loop;
	ev_io			io;
	comm_udp_fn		*fn;
	void			*arg;
	bool			*closed;	/* set by close inside fn */
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
	/* One datagram at most 64 KiB: whatever is longer is cut, and the
	 * handler is told the length it had. */
	unsigned char		rbuf[65536];
};

static void
udp_read_cb(struct ev_loop *ev, ev_io *io, int revents)
{
	struct comm_udp *u = container_of(io, struct comm_udp, io);
	struct sockaddr_storage from;
	socklen_t fromlen;
	ssize_t n;
	unsigned i;
	bool closed = false;

	(void)ev;
	(void)revents;
	CHECK_OBJ_NOTNULL(u, COMM_UDP_MAGIC);
	for (i = 0; i < COMM_UDP_BATCH; i++) {
		fromlen = sizeof from;
		/* MSG_TRUNC: the length it had, when longer than rbuf. */
		n = recvfrom(u->fd, u->rbuf, sizeof u->rbuf, MSG_TRUNC,
		    (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			/* EAGAIN: drained.  ECONNREFUSED and the like are
			 * ICMP news of an earlier send: nothing to read. */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue;
		}
		u->closed = &closed;
		u->fn(u, u->rbuf, (size_t)n < sizeof u->rbuf ? (size_t)n :
		    sizeof u->rbuf, (size_t)n, (const struct sockaddr *)&from,
		    fromlen, u->arg);
		if (closed)
			return;
		u->closed = NULL;
	}
}

int
comm_udp_open(struct comm_loop *loop, const struct sockaddr *sa,
    socklen_t len, comm_udp_fn *fn, void *arg, struct comm_udp **out)
{
	struct comm_udp *u;
	int fd, err, on = 1;

	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	AN(fn);
	*out = NULL;
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return (-EAFNOSUPPORT);
	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return (-errno);
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof on);
	if (bind(fd, sa, len) == -1) {
		err = errno;
		close(fd);
		return (-err);
	}
	ALLOC_OBJ(u, COMM_UDP_MAGIC);
	if (u == NULL) {
		close(fd);
		return (-ENOMEM);
	}
	u->fd = fd;
	u->loop = loop;
	u->fn = fn;
	u->arg = arg;
	u->addrlen = sizeof u->addr;
	if (getsockname(fd, (struct sockaddr *)&u->addr, &u->addrlen) == -1)
		u->addrlen = 0;
	ev_io_init(&u->io, udp_read_cb, fd, EV_READ);
	ev_io_start(loop->ev, &u->io);
	*out = u;
	return (0);
}

void
comm_udp_addr(const struct comm_udp *u, struct sockaddr_storage *ss,
    socklen_t *len)
{
	CHECK_OBJ_NOTNULL(u, COMM_UDP_MAGIC);
	*ss = u->addr;
	*len = u->addrlen;
}

int
comm_udp_send(struct comm_udp *u, const void *data, size_t len,
    const struct sockaddr *to, socklen_t tolen)
{
	ssize_t n;

	CHECK_OBJ_NOTNULL(u, COMM_UDP_MAGIC);
	do
		n = sendto(u->fd, data, len, 0, to, tolen);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return (-errno);
	return ((size_t)n == len ? 0 : -EMSGSIZE);
}

void
comm_udp_close(struct comm_udp **up)
{
	struct comm_udp *u;

	if (*up == NULL)
		return;
	TAKE_OBJ_NOTNULL(u, up, COMM_UDP_MAGIC);
	if (u->closed != NULL)
		*u->closed = true;
	ev_io_stop(u->loop->ev, &u->io);
	close(u->fd);
	FREE_OBJ(u);
}
