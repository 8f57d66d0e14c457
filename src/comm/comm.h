/*
 * comm.h - the event loop, its call queue, connections, listeners.
 *
 * Only src/comm/ includes <ev.h>; every other layer sees the loop through
 * these calls.  One loop per process today; every object below is owned by
 * exactly one loop so that one loop per core stays possible.
 *
 * Contract (doc/internals/comm.md):
 * - Every operation started here (comm_read, comm_writev, comm_connect)
 *   completes exactly once, with COMM_OK, COMM_EOF, COMM_ERROR (errno in
 *   res->err), COMM_TIMEOUT or COMM_CANCELLED, and res->len says how many
 *   bytes moved, also on failure.  No path skips the completion: not
 *   cancel, not close, not a timeout, not an error at start.
 * - Completions run from the loop's call queue, never inside the call that
 *   started or cancelled the operation.  Start functions return void; an
 *   immediate failure arrives as a queued completion like any other.
 * - comm_close(): pending operations complete as COMM_CANCELLED in the
 *   order they were started, then the close handlers run, then the fd is
 *   closed, then the connection is freed.  Whoever got a connection (from
 *   comm_conn_new, comm_connect or an accept callback) calls comm_close()
 *   on it exactly once, and stays alive until its last callback has run.
 * - Timeouts are per connection (comm_set_timeout).  An idle or lifetime
 *   timeout tears the connection down like comm_close() but with
 *   COMM_TIMEOUT; the owner still calls comm_close() (typically from its
 *   close handler), which then only frees.
 */
#ifndef CUTTLE_COMM_H
#define CUTTLE_COMM_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/list.h"
#include "buf/buf.h"

struct comm_loop;
struct comm_listener;
struct comm_conn;

/* --- the loop ------------------------------------------------------------ */

/* comm_loop_new() - the process's loop, with its own buf pool; NULL on
 * failure (errno set).  Ignores SIGPIPE process-wide. */
struct comm_loop	*comm_loop_new(void);
/* comm_loop_free() - runs calls still queued, then frees the loop.
 * Listeners and connections must be closed and every buf of the loop's
 * pool released first (asserted). */
void	comm_loop_free(struct comm_loop **lp);
/* comm_loop_run() - run until comm_loop_stop(); returns 0. */
int	comm_loop_run(struct comm_loop *loop);
/* comm_loop_run_once() - one iteration: run the queued calls and poll
 * without waiting if there were any; else wait for events and handle
 * them (their completions are then queued for the next iteration). */
void	comm_loop_run_once(struct comm_loop *loop);
/* comm_loop_stop() - make comm_loop_run() return after this iteration. */
void	comm_loop_stop(struct comm_loop *loop);
/* comm_loop_pool() - the loop's buf pool (owned by the loop). */
struct buf_pool	*comm_loop_pool(struct comm_loop *loop);

/* comm_now() - the loop's notion of now, in seconds since the epoch; it
 * advances once per loop iteration, so it is cheap and stable within one
 * round of callbacks.  Timeouts are measured against it. */
double	comm_now(const struct comm_loop *loop);

/*
 * Seams for tests (unit tests and the whole-proxy fuzz target); the
 * daemon calls neither, and without them nothing below changes.
 *
 * comm_loop_warp() - jump the clock: comm_now() is seconds later from now
 * on, as if that much time had passed in no time.  Timers and connection
 * timeouts that fall due within the jump run in the next iteration (in
 * the order libev picks), the others keep what is left of their time.
 * seconds >= 0: the clock never goes back.
 */
void	comm_loop_warp(struct comm_loop *loop, double seconds);

/*
 * comm_loop_set_connector() - comm_connect() on loop asks fn for the
 * connection instead of calling socket() and connect(): fn returns a
 * connected stream socket (a socketpair's end: an in-process peer stands
 * for the network), which comm owns from then on (made non-blocking and
 * close-on-exec, as by comm_conn_new()), or a negative errno,
 * the connect's failure.  Either way the connect completes as if
 * connect() had returned at once, through the loop like any other
 * completion (never inside comm_connect()).  fn runs inside
 * comm_connect() and must not call into comm.  NULL: the network again.
 */
typedef int comm_connector_fn(const struct sockaddr *addr, socklen_t len,
    void *arg);
void	comm_loop_set_connector(struct comm_loop *loop, comm_connector_fn *fn,
	    void *arg);

/*
 * comm_loop_set_spawner() - helper programs started on loop (the helper
 * pools') are asked of fn instead of posix_spawn(): fn gets the
 * program's argv and returns 0 with fds[0] the child's stdin and stdout
 * (one stream socket, as the pool reads and writes it) and fds[1] its
 * stderr, both owned by the caller from then on; or a negative errno,
 * the start's failure.  No process stands behind them, so none is
 * signalled or waited for: the child "dies" when fn's owner closes its
 * ends.  For tests that play the helpers in process.  NULL: programs
 * again.
 */
typedef int comm_spawner_fn(char *const argv[], int fds[2], void *arg);
void	comm_loop_set_spawner(struct comm_loop *loop, comm_spawner_fn *fn,
	    void *arg);
comm_spawner_fn	*comm_loop_spawner(const struct comm_loop *loop,
		    void **arg);

struct comm_loop_stats {
	unsigned	conns;		/* connections not yet freed */
	unsigned	listeners;
	unsigned	ops;		/* operations not yet completed */
	unsigned	lingering;	/* closed, sending the shutdown they
					 * owe (counted in conns too) */
	uint64_t	calls;		/* queued calls run */
	uint64_t	accepted;
	uint64_t	accept_pauses;	/* EMFILE, ENFILE, ENOBUFS, ENOMEM */
	uint64_t	write_nomem;	/* conns whose writes failed: ENOMEM */
	uint64_t	tls_copied;	/* bytes coalesced into TLS records */
	uint64_t	tls_direct;	/* bytes encrypted from their slices */
	uint64_t	bytes_in;	/* by every connection's transport */
	uint64_t	bytes_out;
	uint64_t	recv_calls;	/* transport recv() calls */
	uint64_t	send_calls;	/* transport sendv() calls */
	uint64_t	tls_released;	/* idle TLS connections' buffers
					 * given back to OpenSSL */
};
void	comm_loop_stats(const struct comm_loop *loop,
	    struct comm_loop_stats *st);

/* --- the call queue ------------------------------------------------------ */

/*
 * A deferred call: embedded by its owner, posted to run from the loop, in
 * posting order.  Calls posted while the queue runs go to the next round,
 * so a call that keeps re-posting itself cannot starve I/O.  This is how
 * completions reach their owners without re-entrancy; higher layers use
 * it for theirs (DNS answers, store notifications).
 */
struct comm_call;
typedef void comm_call_fn(struct comm_call *call);
struct comm_call {
	struct list	link;	/* comm's; on the queue while pending */
	comm_call_fn	*fn;
};

/* comm_call_init() - set fn; the call is not pending. */
void	comm_call_init(struct comm_call *call, comm_call_fn *fn);
/* comm_call_post() - run call->fn(call) from the loop, once; the call
 * must not be pending already (asserted). */
void	comm_call_post(struct comm_loop *loop, struct comm_call *call);
/* comm_call_cancel() - unpost; harmless when not pending. */
void	comm_call_cancel(struct comm_call *call);

static inline bool
comm_call_pending(const struct comm_call *call)
{
	return (list_linked(&call->link));
}

/* --- timers -------------------------------------------------------------- */

/* A timer for layers above comm (connection timeouts are built in). */
struct comm_timer;
typedef void comm_timer_fn(struct comm_timer *t, void *arg);
/* comm_timer_new() - a stopped timer; NULL on ENOMEM. */
struct comm_timer	*comm_timer_new(struct comm_loop *loop,
			    comm_timer_fn *fn, void *arg);
/* comm_timer_start() - fn runs from the loop after `after` seconds, then
 * every `repeat` seconds if repeat > 0.  Restarts a running timer. */
void	comm_timer_start(struct comm_timer *t, double after, double repeat);
void	comm_timer_stop(struct comm_timer *t);
/* comm_timer_active() - started, and fn not yet run (one-shot) or
 * repeating. */
bool	comm_timer_active(const struct comm_timer *t);
/* comm_timer_free() - stop and free; NULLs *tp; *tp may be NULL. */
void	comm_timer_free(struct comm_timer **tp);

/* --- signals ------------------------------------------------------------- */

typedef void comm_signal_fn(struct comm_loop *loop, int signo, void *arg);
/* comm_signal_add() - call fn from the loop (not from the signal handler)
 * whenever signo arrives.  Returns 0 or -ENOMEM. */
int	comm_signal_add(struct comm_loop *loop, int signo,
	    comm_signal_fn *fn, void *arg);

/* --- connections --------------------------------------------------------- */

enum comm_status {
	COMM_OK,		/* all written / n bytes read / connected */
	COMM_EOF,		/* the peer closed its side (reads) */
	COMM_ERROR,		/* res->err is the errno */
	COMM_TIMEOUT,		/* a comm_set_timeout() limit passed */
	COMM_CANCELLED		/* comm_cancel_*() or comm_close() */
};

const char	*comm_status_name(enum comm_status st);

struct comm_result {
	enum comm_status	status;
	int			err;	/* errno, only with COMM_ERROR */
	size_t			len;	/* bytes moved, also on failure */
	struct buf_slice	data;	/* reads: the bytes, lent (below) */
};

/* The one completion type: c is the connection the operation ran on. */
typedef void comm_done_fn(struct comm_conn *c, const struct comm_result *res,
    void *arg);

/* comm_conn_new() - adopt a connected stream socket (made non-blocking
 * and close-on-exec; TCP_NODELAY when it is TCP).  NULL on ENOMEM, and
 * the fd stays the caller's then. */
struct comm_conn	*comm_conn_new(struct comm_loop *loop, int fd);

/* comm_connect() - non-blocking connect to addr.  done runs once: OK when
 * connected, ERROR with the errno (ECONNREFUSED, EMFILE...), TIMEOUT
 * after timeout seconds (0: none), or CANCELLED.  Returns the connection,
 * which the caller owns from now on and closes with comm_close() in every
 * case; reads and writes may be queued before done runs.  NULL only on
 * ENOMEM (errno set), and then done never runs. */
struct comm_conn	*comm_connect(struct comm_loop *loop,
			    const struct sockaddr *addr, socklen_t addrlen,
			    double timeout, comm_done_fn *done, void *arg);

/* comm_read() - one read of at most max bytes (0: as many as fit).
 * - b not NULL: into b's free space at b->fill, wherever fill is when
 *   the socket turns readable; comm holds a ref meanwhile.  A b with no
 *   room left by then fails the read with ENOBUFS.
 * - b NULL: comm takes a block from the loop's pool only once the socket
 *   is readable, sized to what is there (max 0: up to 16 KiB), so a
 *   connection waiting for a request pins no buffer.
 * done runs once: OK with res->data the bytes read ({buf, off, len}, with
 * buf->fill advanced past them), EOF, ERROR, TIMEOUT or CANCELLED (len
 * 0).  res->data.buf is lent for the duration of the callback: buf_ref()
 * it to keep it.  At most one read may be pending per connection.  A
 * read queued while comm_connect() is under way waits for it. */
void	comm_read(struct comm_conn *c, struct buf *b, size_t max,
	    comm_done_fn *done, void *arg);

/* comm_peek() - look at the first want bytes the peer sent without
 * taking them from the socket (MSG_PEEK): they are read again by the
 * next comm_read(), or by a transport put on the connection afterwards
 * (ssl_bump hands a peeked ClientHello to TLS, or tunnels it as it is).
 * done runs once the socket holds want bytes: OK with res->data a copy
 * of them; OK with fewer when no more can come (the peer closed after
 * them, or the socket is not TCP and cannot be waited on for a count);
 * EOF when nothing came before the peer closed; ERROR, TIMEOUT (the READ
 * timeout) or CANCELLED (comm_cancel_read() cancels it).  The loop wakes
 * only when want bytes are there (SO_RCVLOWAT), so a peer sending one
 * byte at a time costs no extra wakeups.  Plain connections only; it
 * takes the read slot (one read or peek pending at a time); want is at
 * most COMM_PEEK_MAX. */
#define COMM_PEEK_MAX	(64 * 1024)
void	comm_peek(struct comm_conn *c, size_t want, comm_done_fn *done,
	    void *arg);

/* comm_writev() - queue all of chain behind earlier writes.  The write
 * takes the chain's slices and their references (chain is left empty and
 * still initialised; the caller may reuse or fini it at once).  Queued
 * writes go out together, as many iovecs per writev as fit.  The
 * references are dropped just before done runs, once: OK when every byte
 * is with the kernel, ERROR (EPIPE, ECONNRESET...; every write queued
 * behind a failed one fails with it, and so does any later write),
 * TIMEOUT (write timeout: likewise), or CANCELLED; len is the bytes
 * written either way.  With no memory for its queue entry the write
 * fails all the same, from the loop: ERROR ENOMEM, and the connection's
 * writes fail from then on (as after a write error).  Such a completion
 * is a record from the loop's reserve, so no connection carries room
 * for it while idle. */
void	comm_writev(struct comm_conn *c, struct buf_chain *chain,
	    comm_done_fn *done, void *arg);

/* comm_cancel_read() - a pending read completes as CANCELLED (queued).
 * A read whose completion is already queued keeps its result. */
void	comm_cancel_read(struct comm_conn *c);
/* comm_cancel_writes() - every queued write completes as CANCELLED with
 * the bytes it got out, in order.  The stream may end mid-message. */
void	comm_cancel_writes(struct comm_conn *c);
/* comm_shutdown_write() - half-close: once every queued write is out,
 * send FIN (the peer reads EOF); reads go on.  Writes queued afterwards
 * fail with EPIPE. */
void	comm_shutdown_write(struct comm_conn *c);

/* comm_close() - cancel, deliver, run close handlers, close the fd, free
 * after the last callback (see the contract above); NULLs *cp.  May be
 * called from any callback, including the connection's own.  Operations
 * started on a closing connection complete as CANCELLED.  A shutdown
 * asked for before (comm_shutdown_write()) whose writes all went out but
 * which itself still waits for room (a TLS close_notify behind a full
 * socket buffer) is not dropped: after the close handlers comm keeps the
 * fd until it is out, for at most COMM_SHUT_LINGER (1 s), and only then
 * closes it.  The owner is done with c all the same.  Writes cancelled
 * by the close cut the stream: no shutdown follows them. */
void	comm_close(struct comm_conn **cp);
/* comm_close_clean() - end the stream cleanly and close: as
 * comm_shutdown_write() then comm_close(), so with nothing left in the
 * write queue the peer gets close_notify (TLS) and FIN before the close;
 * with writes still queued they are cancelled and the stream cut, as by
 * comm_close().  Also valid on a connection torn down already (from a
 * close handler, or after a TIMEOUT) whose writes were not cut.  NULLs
 * *cp. */
void	comm_close_clean(struct comm_conn **cp);

/* Why a connection went down: COMM_CANCELLED (comm_close) or
 * COMM_TIMEOUT (idle or lifetime).  The connection is still valid in the
 * handler; its fd is closed right after the last handler returns. */
typedef void comm_close_fn(struct comm_conn *c, enum comm_status why,
    void *arg);
/* comm_add_close_handler() - run fn once when c goes down; handlers run
 * in the order added.  0, -ENOMEM, or -EINVAL when c is already going
 * down. */
int	comm_add_close_handler(struct comm_conn *c, comm_close_fn *fn,
	    void *arg);
/* comm_remove_close_handler() - forget the first (fn, arg); 0 or
 * -ENOENT. */
int	comm_remove_close_handler(struct comm_conn *c, comm_close_fn *fn,
	    void *arg);

/*
 * Timeouts, in seconds; 0 turns one off (the default for all).  Each is
 * measured against comm_now() and checked by one lazily re-armed timer per
 * connection, so setting them and moving bytes costs no syscall.
 *	CONNECT		comm_connect() not done in time: connect TIMEOUT
 *	READ		a pending read got nothing in time: read TIMEOUT
 *	WRITE		queued writes made no progress in time: all TIMEOUT
 *	IDLE		no byte moved either way in time: torn down
 *	LIFETIME	connection older than this: torn down
 */
enum comm_timeout {
	COMM_TO_CONNECT,
	COMM_TO_READ,
	COMM_TO_WRITE,
	COMM_TO_IDLE,
	COMM_TO_LIFETIME,
	COMM_TO__COUNT
};
void	comm_set_timeout(struct comm_conn *c, enum comm_timeout which,
	    double seconds);

/* comm_conn_since() - comm_now() when c was made: accepted, adopted, or
 * its connect started.  A layer above that gives every connection the
 * same lifetime keeps them in this order and needs one timer for all. */
double	comm_conn_since(const struct comm_conn *c);

/* comm_conn_fd() - the socket, or -1 once closed. */
int	comm_conn_fd(const struct comm_conn *c);
struct comm_loop	*comm_conn_loop(const struct comm_conn *c);

/* What moved is counted per loop (comm_loop_stats()): four counters a
 * connection would carry for nobody to read cost 24 bytes each. */
struct comm_conn_stats {
	uint32_t	pending;	/* operations not yet completed */
	size_t		queued;		/* bytes queued, not yet written */
	bool		write_armed;	/* waiting for POLLOUT */
};
void	comm_conn_stats(const struct comm_conn *c, struct comm_conn_stats *st);

/*
 * The transport under a connection: plain sockets by default, TLS
 * (comm_tls.c, comm_tls_start() below) without callers changing.  Each
 * returns a byte count or a negative errno, -EAGAIN meaning "wait for the
 * socket" (for what, watch() says).
 */
#define COMM_XPRT_READ		0x01	/* the read waits */
#define COMM_XPRT_WRITE		0x02	/* writes, or the handshake, wait */
struct comm_xprt {
	const char	*name;
	/* recv() - up to len bytes into p; 0 at EOF. */
	ssize_t		(*recv)(struct comm_conn *c, void *p, size_t len);
	/* sendv() - as much of iov as the transport takes now. */
	ssize_t		(*sendv)(struct comm_conn *c, const struct iovec *iov,
			    int iovcnt);
	/* readable() - bytes recv() would return now; 0 if unknown.  Only
	 * sizes the block a buffer-less read takes. */
	size_t		(*readable)(struct comm_conn *c);
	/* shutdown() - no more sends: close_notify, FIN.  0, -EAGAIN (try
	 * again when watch() says), or -errno. */
	int		(*shutdown)(struct comm_conn *c);
	/* watch() - the socket events (COMM_XPRT_READ: readable,
	 * COMM_XPRT_WRITE: writable) to wait for while the operations in
	 * ops wait: a TLS read may need the socket writable, and a read of
	 * bytes the transport holds already needs none (the transport then
	 * runs it from the loop itself).  NULL: ops. */
	int		(*watch)(struct comm_conn *c, int ops);
	/* handshake() - one step of the transport's handshake while its
	 * operation holds the connect slot: 0 done, -EAGAIN not yet, another
	 * -errno failed.  NULL: none. */
	int		(*handshake)(struct comm_conn *c);
	/* close() - release the transport's state; comm closes the fd. */
	void		(*close)(struct comm_conn *c);
};

/* comm_conn_set_xprt() - put x (with its state ctx) under c before any
 * I/O is queued; x->close runs when c is torn down. */
void	comm_conn_set_xprt(struct comm_conn *c, const struct comm_xprt *x,
	    void *ctx);
void	*comm_conn_xprt_ctx(const struct comm_conn *c);

/* --- TLS ----------------------------------------------------------------- */

/*
 * TLS under a connection (comm_tls.c).  src/tls/ makes the SSL object
 * (context, certificates, verification, SNI, ALPN, sessions) and never
 * touches the socket; comm drives all of its I/O, non-blocking, on the
 * connection's own fd (SSL_set_fd).  After comm_tls_start() the
 * connection keeps the comm contract unchanged: comm_read(),
 * comm_writev(), comm_shutdown_write() and comm_close() move plaintext.
 *
 * The handshake is an operation of its own, not folded into the first
 * read or write: its outcome is what the caller acts on (a certificate
 * that fails verification becomes an error page and a counter, not a
 * read ERROR indistinguishable from a reset), it has its own timeout,
 * and ssl_bump will need to act between handshakes.  Like a connect, it
 * completes exactly once, and reads and writes queued before it is done
 * wait for it (and fail with it).
 *
 * Ends of the stream:
 * - comm_shutdown_write() sends close_notify (then FIN) once every queued
 *   write is out: the peer learns the stream ended where it was meant
 *   to; comm_close_clean() does it and closes, and a comm_close() after
 *   either lets the close_notify out first (bounded).  A plain
 *   comm_close() sends none, so a stream cut by a close (cancelled
 *   writes, an error, a timeout) reads as cut on the other side.
 * - A read sees COMM_EOF both for the peer's close_notify and for a bare
 *   EOF without it; comm_tls_cut() tells them apart.  A reply whose
 *   length was the close is complete only without a cut.
 */
struct ssl_st;

/* comm_tls_start() - put TLS (ssl, client or server side as src/tls/ set
 * it up) under c and start the handshake.  c must be connected, with no
 * read or write pending (asserted).  done runs once: OK when the
 * handshake is complete, ERROR (EPROTO: refused or bad bytes, including a
 * certificate that failed verification: see comm_tls_ssl() and
 * comm_tls_error(); ECONNRESET: the peer closed during it; or the
 * socket's errno), TIMEOUT after timeout seconds (0: none; the clock
 * starts now), or CANCELLED.  Returns 0, ssl now belongs to c (freed
 * when c is); or -ENOMEM, and then done never runs and ssl stays the
 * caller's. */
int	comm_tls_start(struct comm_conn *c, struct ssl_st *ssl,
	    double timeout, comm_done_fn *done, void *arg);
/* comm_tls_ssl() - c's SSL object (borrowed: for reading the peer's
 * certificate, the verify result, ALPN), or NULL when c has no TLS. */
struct ssl_st	*comm_tls_ssl(const struct comm_conn *c);
/* comm_tls_error() - the OpenSSL error code of c's TLS failure (for
 * ERR_reason_error_string()), 0 if none. */
unsigned long	comm_tls_error(const struct comm_conn *c);
/* comm_tls_cut() - c's peer closed the stream without close_notify: the
 * bytes read may end anywhere.  False without TLS. */
bool	comm_tls_cut(const struct comm_conn *c);

/* --- listeners ----------------------------------------------------------- */

/* comm_listen() - bind and listen on addr (IPv4 or IPv6; SO_REUSEADDR,
 * close-on-exec, non-blocking, IPV6_V6ONLY for v6).  On success *out is
 * the listener and 0 is returned; otherwise a negative errno. */
int	comm_listen(struct comm_loop *loop, const struct sockaddr *addr,
	    socklen_t addrlen, int backlog, struct comm_listener **out);
/* comm_listener_addr() - the address actually bound (port 0 resolved). */
void	comm_listener_addr(const struct comm_listener *l,
	    struct sockaddr_storage *ss, socklen_t *len);
/* comm_listener_port() - its port, host order: what every connection
 * accepted on it has as its local port, without a getsockname(). */
uint16_t	comm_listener_port(const struct comm_listener *l);

/* Called from the loop for each accepted connection, which fn now owns
 * (non-blocking, close-on-exec, TCP_NODELAY).  peer is the address
 * accept() gave, valid during the call: a client that has reset since has
 * none for getpeername() any more, but still had one. */
typedef void comm_accept_fn(struct comm_listener *l, struct comm_conn *c,
    const struct sockaddr *peer, void *arg);
/* comm_accept_start() - accept on l until comm_accept_stop() or close:
 * each readiness drains the backlog up to a per-round cap; EMFILE,
 * ENFILE, ENOBUFS and ENOMEM pause accepting for a moment instead of
 * spinning.  fn may close l. */
void	comm_accept_start(struct comm_listener *l, comm_accept_fn *fn,
	    void *arg);
void	comm_accept_stop(struct comm_listener *l);
/* comm_listener_close() - stop listening and free; NULLs *lp.  May be
 * called from the accept callback. */
void	comm_listener_close(struct comm_listener **lp);

/* comm_addr_port() - sa's port, host order; 0 when it has none. */
uint16_t	comm_addr_port(const struct sockaddr *sa);
/* comm_addr_format() - "127.0.0.1:3128" or "[::1]:3128" into buf. */
const char	*comm_addr_format(const struct sockaddr *sa, char *buf,
		    size_t len);

/* comm_print_versions() - libev and OpenSSL, run-time and build-time. */
void	comm_print_versions(FILE *f);

/* --- raw descriptor watchers ---------------------------------------------- */

/*
 * Readiness of an fd comm does not own, for libraries that keep their own
 * sockets (c-ares).  Not an operation: fn runs straight from the loop,
 * level-triggered, each time the fd is ready while interest lasts; it may
 * call comm_watch_set() or comm_watch_free() on its own watch.
 */
struct comm_watch;
typedef void comm_watch_fn(struct comm_watch *w, int fd, bool readable,
    bool writable, void *arg);
/* comm_watch_new() - a watch on fd with no interest yet; the fd stays the
 * caller's (never closed here).  NULL on ENOMEM. */
struct comm_watch	*comm_watch_new(struct comm_loop *loop, int fd,
			    comm_watch_fn *fn, void *arg);
/* comm_watch_set() - watch for readable and/or writable; both false stops
 * watching.  Costs nothing when the interest is unchanged. */
void	comm_watch_set(struct comm_watch *w, bool rd, bool wr);
/* comm_watch_free() - stop and free (before the owner closes the fd);
 * NULLs *wp; *wp may be NULL. */
void	comm_watch_free(struct comm_watch **wp);

/* --- datagrams ---------------------------------------------------------- */

/*
 * A UDP socket (comm_udp.c), for ICP.  Reception is readiness, not an
 * operation: fn runs from the loop once per datagram received, never
 * inside a comm_udp_* call, until comm_udp_close(); it may close its own
 * socket.  data is the datagram's first len bytes (at most 64 KiB),
 * valid during the call; full is the length it had (more than len when
 * it was cut).
 */
struct comm_udp;
typedef void comm_udp_fn(struct comm_udp *u, const void *data, size_t len,
    size_t full, const struct sockaddr *from, socklen_t fromlen, void *arg);
/* comm_udp_open() - bind a datagram socket on sa (IPv4 or IPv6; port 0:
 * any) and receive on it.  0 and *out, or a negative errno. */
int	comm_udp_open(struct comm_loop *loop, const struct sockaddr *sa,
	    socklen_t len, comm_udp_fn *fn, void *arg, struct comm_udp **out);
/* comm_udp_addr() - the address bound (port 0 resolved). */
void	comm_udp_addr(const struct comm_udp *u, struct sockaddr_storage *ss,
	    socklen_t *len);
/* comm_udp_send() - send one datagram now: 0 when the kernel took it
 * whole, else a negative errno (-EAGAIN when the socket buffer is full:
 * nothing is queued, the datagram is lost). */
int	comm_udp_send(struct comm_udp *u, const void *data, size_t len,
	    const struct sockaddr *to, socklen_t tolen);
/* comm_udp_close() - stop, close, free; fn is not called again.  NULLs
 * *up; *up may be NULL. */
void	comm_udp_close(struct comm_udp **up);

#endif /* CUTTLE_COMM_H */
