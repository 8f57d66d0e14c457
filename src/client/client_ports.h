/*
 * client_ports.h - the listening sockets of a conf's http_port and
 * https_port lines, one per line and in their order, each accepting for
 * one client_ctx (an https_port's with its TLS context).
 *
 * Contract:
 * - Reconfigure moves in two steps: client_ports_prepare() binds beside
 *   the ports in force what is new (a port that stays keeps its socket,
 *   so no connection attempt is refused meanwhile), and only
 *   client_ports_commit(), which cannot fail, changes what accepts.
 *   A prepared set that is not committed is undone by
 *   client_ports_close() (its new sockets close, nothing else changes).
 * - Closing a socket never touches the connections accepted through it.
 * - What is logged is logged in section main (as cuttle always did).
 *
 * Lifecycle:
 *	client_ports_open()	every port listens and accepts
 *	client_ports_prepare()	next set: kept ports named, new ones bound
 *				(they listen, but do not accept yet)
 *	client_ports_commit()	next is in force; the old set is gone
 *	client_ports_close()	every socket of the set closed; freed
 */
#ifndef CUTTLE_CLIENT_PORTS_H
#define CUTTLE_CLIENT_PORTS_H

#include <stddef.h>

struct client_ctx;
struct client_ports;
struct comm_loop;
struct conf;

/* client_ports_open() - listen on every conf->ports[] and accept through
 * ctx (both borrowed for the set's life).  0 with *pp the set, or -errno
 * (logged, the ports opened so far closed again) with *pp NULL; -EINVAL:
 * an https_port's certificate or key (logged with file:line). */
int	client_ports_open(struct client_ctx *ctx, struct comm_loop *loop,
	    const struct conf *conf, struct client_ports **pp);
/* client_ports_prepare() - the set for conf's ports beside cur, which is
 * left as it is: 0 with *next prepared, or -errno (logged) with nothing
 * bound and *next NULL. */
int	client_ports_prepare(const struct client_ports *cur,
	    const struct conf *conf, struct client_ports **next);
/* client_ports_commit() - *nextp (prepared from *pp) takes the kept
 * sockets over and its new ones start accepting; the sockets of ports no
 * longer listed close; *pp is freed and becomes the next set, *nextp is
 * NULLed. */
void	client_ports_commit(struct client_ports **pp,
	    struct client_ports **nextp);
/* client_ports_close() - close every socket of *pp and free it; NULLs
 * *pp (NULL: nothing). */
void	client_ports_close(struct client_ports **pp);
/* client_ports_check() - what opening conf's ports would check before
 * binding (cuttle -k parse): every https_port's certificate and key
 * read, the key matching.  0, or -EINVAL (each problem logged with its
 * file:line) or -ENOMEM. */
int	client_ports_check(const struct conf *conf);
/* client_ports_count() - the ports of the set (0 for NULL). */
size_t	client_ports_count(const struct client_ports *p);

#endif /* CUTTLE_CLIENT_PORTS_H */
