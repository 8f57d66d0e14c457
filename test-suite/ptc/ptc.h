/*
 * ptc.h - the ptc integration-test driver: types and calls shared by its
 * files.  README.md in this directory describes the script language.
 *
 * One ptc process runs one .ptc script.  The main thread interprets the
 * top level; every client and every server connection runs its block in
 * a thread of its own, a "session".  The pieces:
 *
 *	ptc.c		main(), output, failure, macros, arenas, buffers
 *	ptc_script.c	lexer, command dispatch, expect, top-level commands
 *	ptc_sess.c	a session's socket: timed reads and paced writes
 *	ptc_http.c	HTTP/1.x messages: txreq/txresp, rxreq/rxresp
 *	ptc_server.c	scriptable origin servers, routes, counters
 *	ptc_client.c	raw clients
 *	ptc_proxy.c	the cuttle process under test
 *	ptc_tls.c	TLS for origin servers (a relay per connection)
 *
 * Failure contract: ptc_fail() may be called from any thread.  It prints
 * script:line, the actor and what was expected against what came, then
 * stops the proxies, prints their logs and ends the process with exit 1.
 * Nothing unwinds after a failure, so callers never clean up for it.  The
 * one unwinding path is a server being stopped: its sessions longjmp out
 * of whatever they block in (ptc_sess_check_stop()), which is why a
 * session keeps everything it allocates in itself or in its arena.
 */
#ifndef CUTTLE_PTC_H
#define CUTTLE_PTC_H

#include <sys/types.h>

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>

#define PTC_EXIT_PASS	0
#define PTC_EXIT_FAIL	1
#define PTC_EXIT_SKIP	77
#define PTC_EXIT_ERROR	99	/* bad script or harness problem */

#define PTC_IO_TIMEOUT	10.0	/* seconds; the `timeout` command */
#define PTC_MAX_HEAD	65536	/* bytes of one message head */

#define PTC_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define PTC_NORETURN		__attribute__((noreturn))

/* PTC_CHECK_OBJ(p, MAGIC): a struct handed to another thread is what it
 * claims to be; a mismatch is a ptc bug (exit 99). */
#define PTC_CHECK_OBJ(p, m)	do {					\
	if ((p) == NULL || (p)->magic != (m))				\
		ptc_error(NULL, "bug: %s is not a %s at %s:%d", #p, #m,	\
		    __FILE__, __LINE__);				\
} while (0)

/* --- memory ------------------------------------------------------------- */

/* An arena: every allocation is freed at once by ptc_arena_release(),
 * back to a mark taken with ptc_arena_mark() (NULL: everything). */
struct ptc_chunk;
struct ptc_arena {
	struct ptc_chunk	*head;
};

void	*ptc_alloc(struct ptc_arena *a, size_t len);
char	*ptc_strndup(struct ptc_arena *a, const char *s, size_t len);
char	*ptc_asprintf(struct ptc_arena *a, const char *fmt, ...)
	    PTC_PRINTF(2, 3);
struct ptc_chunk *ptc_arena_mark(const struct ptc_arena *a);
void	ptc_arena_release(struct ptc_arena *a, struct ptc_chunk *mark);

/* A growable byte buffer; p is NUL-terminated whenever it is not NULL. */
struct ptc_buf {
	char		*p;
	size_t		len;
	size_t		cap;
};

void	ptc_buf_add(struct ptc_buf *b, const void *p, size_t len);
void	ptc_buf_printf(struct ptc_buf *b, const char *fmt, ...)
	    PTC_PRINTF(2, 3);
void	ptc_buf_clear(struct ptc_buf *b);
void	ptc_buf_free(struct ptc_buf *b);

/* --- scripts ------------------------------------------------------------ */

/* One word of a command: bytes (quoted strings may hold NULs), the line it
 * starts on, and whether it was a {block} (kept as raw text). */
struct ptc_tok {
	const char	*s;
	size_t		len;
	unsigned	line;
	bool		block;
};

struct ptc_cmd {
	struct ptc_tok	*argv;
	int		argc;
	unsigned	line;
};

enum ptc_kind {
	PTC_TOP = 1,
	PTC_CLIENT = 2,
	PTC_SERVER = 4
};

struct ptc_sess;

/* Who is running commands: the top level, a client or a server session.
 * Owned by one thread. */
struct ptc_ctx {
	unsigned		magic;
#define PTC_CTX_MAGIC		0x70746301
	const char		*name;
	enum ptc_kind		kind;
	unsigned		line;	/* of the command being run */
	struct ptc_arena	arena;
	struct ptc_sess		*sess;	/* NULL at the top level */
};

typedef void ptc_cmd_fn(struct ptc_ctx *ctx, int argc,
    const struct ptc_tok *argv);

/* ptc_run() - lex a block and run its commands in ctx.  Syntax errors and
 * unknown commands end the test with exit 99. */
void	ptc_run(struct ptc_ctx *ctx, const struct ptc_tok *block);
void	ptc_run_cmd(struct ptc_ctx *ctx, const struct ptc_cmd *cmd);
void	ptc_lex(struct ptc_ctx *ctx, const struct ptc_tok *block,
	    struct ptc_cmd **cmds, size_t *ncmds);
/* ptc_expand() - the text of tok with ${macros} replaced (arena). */
struct ptc_tok ptc_expand(struct ptc_ctx *ctx, const struct ptc_tok *tok);

/* Argument helpers: each fails the script (exit 99) on a bad value. */
void	ptc_need_args(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv,
	    int i, int n);
unsigned long ptc_arg_ulong(struct ptc_ctx *ctx, const struct ptc_tok *t);
double	ptc_arg_seconds(struct ptc_ctx *ctx, const struct ptc_tok *t);
bool	ptc_tok_is(const struct ptc_tok *t, const char *s);

/* ptc_compare() - `lhs op rhs` for expect; lhs NULL means undefined, which
 * only the literal <undef> equals.  Operators: == != ~ !~ < > <= >=. */
bool	ptc_compare(struct ptc_ctx *ctx, const char *lhs, size_t lhslen,
	    const struct ptc_tok *op, const struct ptc_tok *rhs);
/* ptc_quote() - p as a C string literal for messages, cut after max. */
const char *ptc_quote(struct ptc_ctx *ctx, const char *p, size_t len,
	    size_t max);

/* --- output, failure, globals ------------------------------------------- */

void	ptc_log(const struct ptc_ctx *ctx, const char *fmt, ...)
	    PTC_PRINTF(2, 3);
void	ptc_fail(const struct ptc_ctx *ctx, const char *fmt, ...)
	    PTC_PRINTF(2, 3) PTC_NORETURN;
void	ptc_error(const struct ptc_ctx *ctx, const char *fmt, ...)
	    PTC_PRINTF(2, 3) PTC_NORETURN;
void	ptc_skip(const struct ptc_ctx *ctx, const char *why) PTC_NORETURN;

void	ptc_macro_def(const char *name, const char *fmt, ...)
	    PTC_PRINTF(2, 3);
/* ptc_macro_get() - the value copied into ctx's arena, or NULL. */
const char *ptc_macro_get(struct ptc_ctx *ctx, const char *name,
	    size_t len);

double	ptc_now(void);			/* monotonic seconds */
void	ptc_sleep(struct ptc_ctx *ctx, double sec);
const char *ptc_tmpdir(void);
const char *ptc_cuttle_path(void);
void	ptc_title(const char *title);

/* --- sessions (ptc_sess.c) ---------------------------------------------- */

/* One HTTP message as received. */
struct ptc_hdr {
	const char	*name;
	const char	*value;
};

struct ptc_msg {
	bool		present;
	char		*head;		/* NUL-split copy of the head */
	const char	*line[3];	/* method url proto, or proto status
					 * reason */
	struct ptc_hdr	*hdr;
	size_t		nhdr;
	struct ptc_buf	body;
	bool		chunked;
	bool		truncated;	/* EOF or reset inside the body */
};

struct ptc_route {
	const char	*method;	/* NULL: any */
	const char	*pattern;	/* fnmatch(3) on the path */
	struct ptc_tok	block;
};

struct ptc_server;

struct ptc_sess {
	unsigned		magic;
#define PTC_SESS_MAGIC		0x70746302
	struct ptc_ctx		ctx;
	int			fd;		/* -1 once closed */
	int			stopfd;		/* readable: unwind; or -1 */
	double			timeout;
	char			peer[80];	/* "addr:port" connected to */
	struct ptc_buf		rx;		/* bytes read, not consumed */
	size_t			rxoff;
	struct ptc_buf		tx;		/* message being sent */
	struct ptc_buf		txbody;
	struct ptc_buf		recvd;		/* last `recv` */
	bool			recv_done;
	bool			peer_may_close;	/* writes to a gone peer end
						 * quietly (peer_may_close) */
	struct ptc_msg		req;
	struct ptc_msg		resp;
	unsigned char		heads[64];	/* unanswered: 1 if HEAD */
	unsigned		nheads;		/* pushed, ever */
	unsigned		headpos;	/* popped, ever */
	struct ptc_server	*srv;		/* server sessions */
	struct ptc_route	*routes;	/* in ctx.arena */
	size_t			nroutes;
	size_t			routecap;
	char			num[32];	/* numeric variable values */
	jmp_buf			unwind;
};

/* ptc_sess_new() - a session on connected socket fd, named name (copied).
 * ptc_sess_run() runs block on it, then the routes if any, returns on the
 * end of the script or when stopped; ptc_sess_free() closes the fd. */
struct ptc_sess *ptc_sess_new(const char *name, enum ptc_kind kind, int fd,
	    int stopfd, const char *peer);
void	ptc_sess_run(struct ptc_sess *s, const struct ptc_tok *block);
void	ptc_sess_free(struct ptc_sess **sp);

/* ptc_sess_check_stop() - unwind the session if its server is stopping;
 * a no-op for the top level and clients. */
void	ptc_sess_check_stop(const struct ptc_ctx *ctx);
struct ptc_sess *ptc_sess_of(struct ptc_ctx *ctx);
void	ptc_sess_send(struct ptc_sess *s, const char *p, size_t len,
	    size_t split, double pause);
/* ptc_sess_fill() - read more into s->rx before deadline: > 0 bytes read,
 * 0 at EOF, -errno on a read error; fails on the deadline with what. */
ssize_t	ptc_sess_fill(struct ptc_sess *s, double deadline, const char *what);
void	ptc_sess_close(struct ptc_sess *s, bool reset);
size_t	ptc_sess_pending(const struct ptc_sess *s);
/* ptc_sess_at_eof() - true if the peer closed with nothing left to read. */
bool	ptc_sess_at_eof(struct ptc_sess *s);
/* ptc_sess_var() - value of a session variable (resp.status, ...); NULL
 * when undefined.  Unknown names end the test with exit 99. */
const char *ptc_sess_var(struct ptc_sess *s, const char *name, size_t *len);
void	ptc_msg_reset(struct ptc_msg *m);

/* ptc_pace_opt() - consume -split N / -bytedelay S at argv[*i] if there;
 * true if it did. */
bool	ptc_pace_opt(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv,
	    int *i, size_t *split, double *pause);

/* --- HTTP (ptc_http.c) -------------------------------------------------- */

const char *ptc_http_var(struct ptc_sess *s, const char *name, size_t *len);
const char *ptc_msg_header(struct ptc_ctx *ctx, const struct ptc_msg *m,
	    const char *name);
/* ptc_http_rxreq() - read one request into s->req, counted by the server;
 * the command `rxreq` and the route loop use it. */
void	ptc_http_rxreq(struct ptc_sess *s, bool want_truncated);

/* --- actors ------------------------------------------------------------- */

/* ptc_server_serve_routes() - the route loop, when the script declared
 * routes: read requests and answer each by its route until EOF. */
void	ptc_server_serve_routes(struct ptc_sess *s);
void	ptc_server_count_request(struct ptc_server *srv);
bool	ptc_server_stopping(const struct ptc_server *srv);

/* End of test, in this order: wait for clients, stop servers, stop
 * proxies (each must exit 0).  Then free everything. */
void	ptc_client_wait_all(struct ptc_ctx *ctx);
void	ptc_server_stop_all(struct ptc_ctx *ctx);
void	ptc_proxy_stop_all(struct ptc_ctx *ctx);
void	ptc_client_free_all(void);
void	ptc_server_free_all(void);
void	ptc_proxy_free_all(void);
void	ptc_barrier_free_all(void);

/* From the failure path, on any thread: stop every proxy (by PID, the
 * ones ptc started) and print their logs. */
void	ptc_proxy_kill_all(void);
void	ptc_proxy_dump_logs(void);

/* --- TLS origins (ptc_tls.c) -------------------------------------------- */

/* ptc_tls_new() - a server context with cert (PEM chain) and key; a bad
 * file ends the test (exit 99).  ptc_tls_wrap() - TLS on accepted
 * socket fd (taken): returns the socket the session uses, plaintext,
 * relayed by a thread until both sides end or stopfd turns readable;
 * notify: end the stream with close_notify.  ptc_tls_join() waits for
 * every relay of t; ptc_tls_free() joins and frees. */
struct ptc_tls;
struct ptc_tls *ptc_tls_new(struct ptc_ctx *ctx, const char *cert,
	    const char *key);
int	ptc_tls_wrap(struct ptc_ctx *ctx, struct ptc_tls *t, int fd,
	    int stopfd, const char *name, bool notify);
void	ptc_tls_join(struct ptc_tls *t);
void	ptc_tls_free(struct ptc_tls **tp);

/* --- child processes (ptc_proxy.c) ------------------------------------- */

/* ptc_spawn() - run path with stdout and stderr appended to out, stdin
 * from /dev/null, signals unblocked; in a new process group if newgroup.
 * ptc_wait_pid() returns its wait status, or -1 if it still runs after
 * timeout seconds; ptc_kill_group() ends a group ptc_spawn() made. */
pid_t	ptc_spawn(struct ptc_ctx *ctx, const char *path, char *const argv[],
	    const char *out, bool newgroup);
int	ptc_wait_pid(struct ptc_ctx *ctx, pid_t pid, double timeout);
void	ptc_kill_group(pid_t pid);
const char *ptc_status_text(struct ptc_ctx *ctx, int status);

/* --- commands ----------------------------------------------------------- */

ptc_cmd_fn ptc_cmd_ptest, ptc_cmd_delay, ptc_cmd_loop, ptc_cmd_shell,
    ptc_cmd_feature, ptc_cmd_skip, ptc_cmd_barrier, ptc_cmd_expect;
ptc_cmd_fn ptc_cmd_server, ptc_cmd_client, ptc_cmd_proxy, ptc_cmd_port;
ptc_cmd_fn ptc_cmd_route;
ptc_cmd_fn ptc_cmd_send, ptc_cmd_sendhex, ptc_cmd_recv, ptc_cmd_timeout,
    ptc_cmd_close, ptc_cmd_shutdown, ptc_cmd_reset, ptc_cmd_expect_close,
    ptc_cmd_peer_may_close;
ptc_cmd_fn ptc_cmd_txreq, ptc_cmd_txresp, ptc_cmd_rxreq, ptc_cmd_rxresp;

/* --- sockets (ptc_sess.c) ----------------------------------------------- */

/* ptc_parse_sock() - "127.0.0.1:80", "[::1]:80" or "host:0": loopback
 * numeric addresses only.  Returns 0 or -1. */
struct sockaddr_storage;
int	ptc_parse_sock(const char *s, struct sockaddr_storage *ss,
	    unsigned *sslen);
void	ptc_format_sock(const struct sockaddr_storage *ss, char *addr,
	    size_t addrlen, unsigned *port);

#endif /* CUTTLE_PTC_H */
