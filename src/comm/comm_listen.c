/*
 * comm_listen.c - listening sockets.
 *
 * Lifecycle:
 *	comm_listen()		socket, bind, listen; owned by the loop
 *	comm_listener_close()	fd closed, listener freed
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
	l->addrlen = sizeof l->addr;
	if (getsockname(fd, (struct sockaddr *)&l->addr, &l->addrlen) == -1) {
		FREE_OBJ(l);
		goto fail;
	}
	loop->listeners++;
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

void
comm_listener_close(struct comm_listener **lp)
{
	struct comm_listener *l;

	if (*lp == NULL)
		return;
	TAKE_OBJ_NOTNULL(l, lp, COMM_LISTENER_MAGIC);
	CHECK(l->loop->listeners > 0);
	l->loop->listeners--;
	close(l->fd);
	FREE_OBJ(l);
}
