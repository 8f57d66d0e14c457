/*
 * comm_int.h - comm's private structures; included by src/comm/ only.
 */
#ifndef CUTTLE_COMM_INT_H
#define CUTTLE_COMM_INT_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "base/list.h"
#include "buf/buf.h"
#include "comm/comm.h"

#define COMM_READ_DEFAULT	16384u	/* buffer-less read, max 0 */
#define COMM_ACCEPT_BATCH	64	/* accepts per readiness */
#define COMM_ACCEPT_PAUSE	0.1	/* seconds, after EMFILE & co */
#define COMM_CALL_ROUNDS	8	/* queue rounds per loop iteration */
#define COMM_FLUSH_ROUNDS	8	/* writevs per flush before yielding */
#define COMM_WOP_CACHE		256	/* write ops kept for reuse */
#define COMM_POOL_CACHE		(8u << 20)	/* the loop pool's cache */
#define COMM_SHUT_LINGER	1.0	/* seconds a close waits for the
					 * shutdown it owes (comm_close()) */

/*
 * A write that found no memory for its queue entry (ENOMEM): its
 * completion cannot wait on the heap, so it is a record from the loop's
 * reserve, posted on the call queue like any other completion and
 * returned to the reserve when delivered.  Records are taken only while
 * malloc() fails, and given back within a round of callbacks, so the
 * reserve is rarely touched and never held by an idle connection; past
 * it, a record is malloc()ed (smaller than the queue entry that failed),
 * and only if that fails too does cuttle stop.
 */
#define COMM_NOMEM_RESERVE	32

/*
 * Send buffers for bulk replies.  Autotuning grows a socket's send buffer
 * to tcp_wmem's maximum (4 MiB) on any path without loss, short ones
 * included, and each reply is then copied into megabytes of socket memory
 * that are out of the cache again before they are sent: on loopback 16
 * MiB and 1 MiB hits cost about 20% more CPU with the autotuned buffer
 * than with 512 KiB (doc/internals/comm.md).  A fixed small buffer would
 * cap a long path at buffer / RTT, though; so a client connection's
 * first write of COMM_BULK_MIN bytes or more sizes its buffer for its
 * path: twice the bandwidth-delay product at COMM_BULK_RATE for the RTT
 * the kernel has measured, at least COMM_SNDBUF_MIN, and a path that
 * needs more than COMM_SNDBUF_AUTO keeps autotuning.
 */
#define COMM_BULK_MIN		(256u << 10)	/* bytes in one write */
#define COMM_BULK_RATE		3125u		/* bytes per us: 25 Gbit/s */
#define COMM_SNDBUF_MIN		(256u << 10)
#define COMM_SNDBUF_AUTO	(4u << 20)

struct comm_nomem {
	struct comm_call	call;		/* delivers the completion */
	struct list		link;		/* loop->nomem while spare */
	struct comm_conn	*conn;
	comm_done_fn		*done;
	void			*arg;
	uint8_t			status;		/* ERROR or CANCELLED */
	bool			reserved;	/* the loop's; else malloc()ed */
	int			err;
};

struct comm_signal {
	unsigned		magic;
#define COMM_SIGNAL_MAGIC	0x5a61c0deU
	ev_signal		w;
	struct comm_loop	*loop;
	comm_signal_fn		*fn;
	void			*arg;
	struct list		link;
};

struct comm_loop {
	unsigned		magic;
#define COMM_LOOP_MAGIC		0x1007c0deU
	struct ev_loop		*ev;
	ev_prepare		prep;	/* runs the call queue */
	ev_idle			idle;	/* active while calls are queued, so
					 * the loop polls without blocking */
	struct list		calls;	/* struct comm_call, FIFO */
	struct list		signals;	/* struct comm_signal */
	struct list		wops;	/* free struct comm_wop */
	unsigned		nwops;
	struct list		nomem;		/* spare struct comm_nomem */
	struct comm_nomem	reserve[COMM_NOMEM_RESERVE];
	struct buf_pool		*pool;
	struct comm_loop_stats	st;
	double			warp;	/* comm_loop_warp(): added to ev_now */
	struct list		conns;	/* struct comm_conn, for the warp */
	struct list		timers;	/* struct comm_timer, likewise */
	/* TLS connections that may hold OpenSSL's buffers, and the timer
	 * that releases those of the idle ones (comm_tls.c). */
	struct list		tls_busy;
	struct comm_timer	*tls_sweep;
	comm_connector_fn	*connector;	/* NULL: socket() + connect() */
	void			*connector_arg;
	comm_spawner_fn		*spawner;	/* NULL: posix_spawn() */
	void			*spawner_arg;
	/* Buffer-less reads of unknown size land here first; only what
	 * came is kept, in a block of its size (comm_io.c). */
	unsigned char		scratch[COMM_READ_DEFAULT];
};

struct comm_timer {
	unsigned		magic;
#define COMM_TIMER_MAGIC	0x7133e400U
	ev_timer		w;
	struct comm_loop	*loop;
	comm_timer_fn		*fn;
	void			*arg;
	struct list		link;	/* loop->timers */
};

struct comm_listener {
	unsigned		magic;
#define COMM_LISTENER_MAGIC	0x115e4e40U
	struct comm_loop	*loop;
	int			fd;
	bool			accepting;
	bool			in_cb;		/* inside fn: defer the free */
	bool			closing;
	ev_io			io;
	ev_timer		pause;
	comm_accept_fn		*fn;
	void			*arg;
	double			warned;		/* last EMFILE warning */
	unsigned		pauses;		/* since that warning */
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
};

enum comm_op_kind {
	COMM_OP_READ,
	COMM_OP_WRITE,
	COMM_OP_CONNECT
};

/*
 * An operation's states.  A slot goes IDLE -> PENDING at start, PENDING ->
 * DONE when its result is fixed (and its completion posted), DONE -> IDLE
 * when the completion has been delivered.  Only PENDING ops can be
 * cancelled or timed out, so nothing completes twice.
 */
enum comm_op_state {
	COMM_OP_IDLE,
	COMM_OP_PENDING,
	COMM_OP_DONE
};

struct comm_op {
	unsigned		magic;
#define COMM_OP_MAGIC		0xc0330b01U
	uint8_t			kind;		/* enum comm_op_kind */
	uint8_t			state;		/* enum comm_op_state */
	uint8_t			status;		/* enum comm_status (DONE) */
	uint8_t			peek;		/* reads: comm_peek() */
	int			err;
	uint32_t		seq;		/* start order on the conn */
	struct comm_call	call;		/* delivers the completion */
	comm_done_fn		*done;
	void			*arg;
	size_t			len;		/* bytes moved */
	struct buf		*buf;		/* reads: the target, held */
	uint32_t		max;		/* reads: at most this many */
	uint32_t		off;		/* reads: where bytes start */
};

/* A queued write (also carries a connect: it is the op on the heap). */
struct comm_wop {
	struct comm_op		op;
	struct comm_conn	*conn;		/* while started */
	struct list		link;		/* conn's queue / loop's free */
	struct buf_chain	chain;		/* the bytes, refs held */
	uint32_t		idx;		/* first slice not fully out */
	uint32_t		skip;		/* bytes of it already out */
	size_t			pinned;		/* counted in chain.pool */
};

/* Connection flags. */
#define CONN_CONNECTING		0x01u	/* connect() in progress */
#define CONN_CLOSING		0x02u	/* torn down: ops cancelled */
#define CONN_CLOSED		0x04u	/* handlers run, fd closed */
#define CONN_RELEASED		0x08u	/* owner called comm_close() */
#define CONN_SHUT_WANTED	0x10u	/* FIN after the queue drains */
#define CONN_SHUT_DONE		0x20u
#define CONN_WAIT_READ		0x40u	/* the read waits for the socket */
#define CONN_WAIT_WRITE		0x80u	/* writes or the connect wait */
#define CONN_CUT		0x100u	/* torn down with writes unsent:
					 * no shutdown any more */
#define CONN_LINGER		0x200u	/* released, handlers run; the
					 * owed shutdown waits for room */
#define CONN_BULK_SIZE		0x400u	/* accepted TCP: size the send
					 * buffer at the first bulk write
					 * (comm_sock_bulk_sndbuf()) */

struct comm_conn {
	unsigned		magic;
#define COMM_CONN_MAGIC		0xc0330c0eU
	int			fd;
	struct comm_loop	*loop;
	struct list		link;		/* loop->conns */
	const struct comm_xprt	*xprt;
	void			*xprt_ctx;
	uint16_t		flags;
	uint8_t			why;		/* teardown status */
	int			werr;		/* sticky write failure */
	uint32_t		nops;		/* started, not yet delivered */
	uint32_t		seq;
	ev_io			io;		/* what the transport needs
						 * while CONN_WAIT_*: EV_READ
						 * for the read, EV_WRITE for
						 * writes or the connect (one
						 * watcher: 48 bytes less a
						 * connection) */
	ev_timer		timer;		/* earliest deadline, lazily */
	struct comm_op		rd;		/* the one read */
	struct comm_wop		*cn;		/* the connect, while pending */
	struct list		wq;		/* struct comm_wop, in order */
	struct comm_handler	*handlers;	/* in order added (comm_conn.c) */
	struct comm_call	call;		/* open: the coalesced write
						 * attempt (comm_io_flush_call);
						 * torn down: handlers, then
						 * close(fd) (conn_down) */
	size_t			queued;		/* bytes in wq not yet out */
	float			to[COMM_TO__COUNT];
	/* The three times that change with traffic are seconds after
	 * t_start (comm_conn_clock()): floats, 12 bytes less a connection;
	 * a float keeps them to a millisecond for the first hours and to
	 * a quarter second after 49 days, well inside any timeout. */
	float			t_active;	/* last byte moved */
	float			t_read;		/* pending read started */
	float			t_write;	/* last write progress; while
						 * CONN_LINGER, when it began */
	double			t_start;	/* created */
};

/* comm_conn_watching() - does c's read (EV_READ) or do its writes
 * (EV_WRITE) wait for the socket? */
static inline bool
comm_conn_watching(const struct comm_conn *c, int ev)
{
	return ((c->flags & (ev == EV_READ ? CONN_WAIT_READ :
	    CONN_WAIT_WRITE)) != 0);
}

/* comm_loop_now() - comm_now() for comm's own use: the loop's time plus
 * what comm_loop_warp() added. */
static inline double
comm_loop_now(const struct comm_loop *loop)
{
	return (ev_now(loop->ev) + loop->warp);
}

/* comm_op_conn() - the connection op belongs to: a read is the one
 * embedded in it (no back-pointer: 8 bytes less a connection), the rest
 * are queue entries that say. */
static inline struct comm_conn *
comm_op_conn(struct comm_op *op)
{
	if (op->kind == COMM_OP_READ)
		return (container_of(op, struct comm_conn, rd));
	return (container_of(op, struct comm_wop, op)->conn);
}

/* comm_conn_clock() - now, as c's t_active, t_read and t_write hold it. */
static inline float
comm_conn_clock(const struct comm_conn *c)
{
	return ((float)(comm_loop_now(c->loop) - c->t_start));
}

/* comm_loop.c */
struct comm_wop	*comm_wop_get(struct comm_loop *loop);
void	comm_wop_put(struct comm_loop *loop, struct comm_wop *w);

/* comm_conn.c */
struct comm_conn	*comm_conn_alloc(struct comm_loop *loop, int fd);
void	comm_conn_set_fd(struct comm_conn *c, int fd);
void	comm_op_start(struct comm_conn *c, struct comm_op *op,
	    enum comm_op_kind kind, comm_done_fn *done, void *arg);
void	comm_op_finish(struct comm_op *op, enum comm_status st, int err);
void	comm_op_nomem(struct comm_conn *c, comm_done_fn *done, void *arg);
void	comm_conn_timer_update(struct comm_conn *c);
void	comm_conn_teardown(struct comm_conn *c, enum comm_status why);
void	comm_conn_end_lingering(struct comm_loop *loop);
void	comm_sock_nodelay(int fd);
uint32_t	comm_sndbuf_for_rtt(uint32_t rtt_us);
void	comm_sock_bulk_sndbuf(struct comm_conn *c);

/* comm_io.c */
extern const struct comm_xprt	comm_xprt_raw;
void	comm_io_read_fail(struct comm_conn *c, enum comm_status st, int err);
void	comm_io_write_fail(struct comm_conn *c, enum comm_status st, int err);
void	comm_io_flush_soon(struct comm_conn *c);
void	comm_io_write_ready(struct comm_conn *c);
void	comm_io_read_ready(struct comm_conn *c);
/* comm_conn_watch() - c's read (EV_READ) or its writes (EV_WRITE) start
 * or stop waiting for the socket, the other as it is; the fd is watched
 * for what the transport needs (xprt->watch). */
void	comm_conn_watch(struct comm_conn *c, int ev, bool on);
/* comm_conn_rewatch() - the transport's needs changed: watch the fd
 * again for what they are now. */
void	comm_conn_rewatch(struct comm_conn *c);
void	comm_io_flush_call(struct comm_call *call);

/* comm_connect.c */
void	comm_connect_ready(struct comm_conn *c);
void	comm_connect_timeout(struct comm_conn *c);

#endif /* CUTTLE_COMM_INT_H */
