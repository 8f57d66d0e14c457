/*
 * comm.h - the event loop, signals and listening sockets.
 *
 * Only src/comm/ includes <ev.h>; every other layer sees the loop through
 * these calls.  One loop per process today; every object below is owned by
 * exactly one loop so that one loop per core stays possible.
 *
 * Contract (doc/internals/comm.md): a callback registered here is never
 * invoked inside the call that registered it.
 */
#ifndef CUTTLE_COMM_H
#define CUTTLE_COMM_H

#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>

struct comm_loop;
struct comm_listener;

/* comm_loop_new() - the process's loop; NULL on failure (errno set). */
struct comm_loop	*comm_loop_new(void);
/* comm_loop_free() - frees the loop; listeners must be closed first. */
void	comm_loop_free(struct comm_loop **lp);
/* comm_loop_run() - run until comm_loop_stop(); returns 0. */
int	comm_loop_run(struct comm_loop *loop);
/* comm_loop_stop() - make comm_loop_run() return after this iteration. */
void	comm_loop_stop(struct comm_loop *loop);

/* comm_now() - the loop's notion of now, in seconds since the epoch; it
 * advances once per loop iteration, so it is cheap and stable within one
 * round of callbacks. */
double	comm_now(const struct comm_loop *loop);

typedef void comm_signal_fn(struct comm_loop *loop, int signo, void *arg);
/* comm_signal_add() - call fn from the loop (not from the signal handler)
 * whenever signo arrives.  Returns 0 or -ENOMEM. */
int	comm_signal_add(struct comm_loop *loop, int signo,
	    comm_signal_fn *fn, void *arg);

/* comm_listen() - bind and listen on addr (IPv4 or IPv6; SO_REUSEADDR,
 * close-on-exec, non-blocking, IPV6_V6ONLY for v6).  On success *out is
 * the listener and 0 is returned; otherwise a negative errno. */
int	comm_listen(struct comm_loop *loop, const struct sockaddr *addr,
	    socklen_t addrlen, int backlog, struct comm_listener **out);
/* comm_listener_addr() - the address actually bound (port 0 resolved). */
void	comm_listener_addr(const struct comm_listener *l,
	    struct sockaddr_storage *ss, socklen_t *len);
/* comm_listener_close() - stop listening and free; NULLs *lp. */
void	comm_listener_close(struct comm_listener **lp);

/* comm_addr_format() - "127.0.0.1:3128" or "[::1]:3128" into buf. */
const char	*comm_addr_format(const struct sockaddr *sa, char *buf,
		    size_t len);

/* comm_print_versions() - libev and OpenSSL, run-time and build-time. */
void	comm_print_versions(FILE *f);

#endif /* CUTTLE_COMM_H */
