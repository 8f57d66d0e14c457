/*
 * ptc_server.c - scriptable origin servers: `server s1 {...} -start`.
 *
 * Lifecycle of a server:
 *	server_get()		first mention: bound (not listening) on
 *				-listen, 127.0.0.1:0 by default, so
 *				${s1_addr} ${s1_port} ${s1_sock} exist and a
 *				connection to it is refused until -start
 *	server_start()		listen(); the accept thread serves -repeat N
 *				connections one after the other (N = 0: until
 *				-stop), or with -dispatch every connection at
 *				once, each in a thread of its own, until -stop
 *	server_wait()		-wait: the accept thread finished its N
 *	server_stop()		-stop and at the end of the test: the stop
 *				pipe turns readable, every session unwinds,
 *				threads are joined
 *	server_unlisten()	after either: the listening socket is closed
 *				and the port bound again, not listening
 *
 * Each connection runs the server's block in a session.  When the block
 * declares routes (`route "/a" {...}`), the session then reads requests
 * until the peer closes and answers each by the first route that matches.
 * Counters (connections accepted, requests read) are atomics, checked by
 * `server s1 -expect requests == 2`.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ptc.h"

struct ptc_sthread {
	struct ptc_sthread	*next;
	pthread_t		tid;
	struct ptc_server	*srv;
	int			fd;
	unsigned long		n;
	char			peer[80];
};

struct ptc_server {
	unsigned		magic;
#define PTC_SERVER_MAGIC	0x70746303
	struct ptc_server	*next;
	char			*name;
	char			*script;	/* the block, or NULL */
	size_t			scriptlen;
	unsigned		scriptline;
	struct sockaddr_storage	addr;		/* bound, with its port */
	unsigned		addrlen;
	int			lfd;		/* bound socket or -1 */
	bool			running;	/* accept thread exists */
	unsigned long		repeat;
	bool			dispatch;
	pthread_t		thread;
	int			stop[2];	/* pipe; readable: stop */
	atomic_bool		stopping;
	atomic_bool		done;		/* accept thread returned */
	atomic_ulong		requests;
	atomic_ulong		connections;
	atomic_ulong		served;
	struct ptc_sthread	*sthreads;	/* accept thread only */
	struct ptc_tls		*tls;		/* -tls: connections are TLS */
	bool			tls_notify;	/* ... ended by close_notify */
};

static struct ptc_server *servers;	/* main thread only */

bool
ptc_server_stopping(const struct ptc_server *srv)
{
	return (atomic_load(&srv->stopping));
}

void
ptc_server_count_request(struct ptc_server *srv)
{
	atomic_fetch_add(&srv->requests, 1);
}

/* --- routes ------------------------------------------------------------- */

/* route [-method M] PATTERN {block} */
void
ptc_cmd_route(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_sess *s = ptc_sess_of(ctx);
	struct ptc_route *r;
	const char *method = NULL;
	int i = 1;

	if (argc > 2 && ptc_tok_is(&argv[1], "-method")) {
		method = argv[2].s;
		i = 3;
	}
	if (argc != i + 2 || argv[i].block || !argv[i + 1].block)
		ptc_error(ctx, "usage: route [-method M] PATTERN {block}");
	if (s->routecap == SIZE_MAX)
		ptc_error(ctx, "route: not inside a route");
	if (s->nroutes == s->routecap) {
		s->routecap = s->routecap == 0 ? 8 : s->routecap * 2;
		r = ptc_alloc(&ctx->arena, s->routecap * sizeof *r);
		if (s->nroutes > 0)
			memcpy(r, s->routes, s->nroutes * sizeof *r);
		s->routes = r;
	}
	r = &s->routes[s->nroutes++];
	r->method = method;
	r->pattern = argv[i].s;
	r->block = argv[i + 1];
}

/* The request-target's path and query: absolute-form loses its scheme
 * and authority, so one route serves direct and proxied requests. */
static const char *
route_path(const char *url)
{
	const char *p;

	if (url[0] == '/' || (p = strstr(url, "://")) == NULL)
		return (url);
	p = strchr(p + 3, '/');
	return (p != NULL ? p : "/");
}

void
ptc_server_serve_routes(struct ptc_sess *s)
{
	struct ptc_chunk *mark;
	const struct ptc_route *r;
	const char *path;
	size_t i;

	s->routecap = SIZE_MAX;		/* no route inside a route */
	for (;;) {
		if (ptc_sess_at_eof(s)) {
			ptc_log(&s->ctx, "route loop: the peer closed");
			return;
		}
		mark = ptc_arena_mark(&s->ctx.arena);
		ptc_http_rxreq(s, false);
		path = route_path(s->req.line[1]);
		r = NULL;
		for (i = 0; i < s->nroutes; i++)
			if ((s->routes[i].method == NULL ||
			    strcmp(s->routes[i].method, s->req.line[0]) == 0) &&
			    fnmatch(s->routes[i].pattern, path, 0) == 0) {
				r = &s->routes[i];
				break;
			}
		if (r == NULL)
			ptc_fail(&s->ctx, "no route for %s %s", s->req.line[0],
			    s->req.line[1]);
		ptc_log(&s->ctx, "route %s%s%s", r->method != NULL ?
		    r->method : "", r->method != NULL ? " " : "", r->pattern);
		ptc_run(&s->ctx, &r->block);
		ptc_arena_release(&s->ctx.arena, mark);
		if (s->fd < 0)
			return;
	}
}

/* --- connections -------------------------------------------------------- */

static void
server_serve(struct ptc_server *srv, int fd, const char *name,
    const char *peer)
{
	struct ptc_tok block = { .s = srv->script, .len = srv->scriptlen,
	    .line = srv->scriptline, .block = true };
	struct ptc_ctx ctx = { .magic = PTC_CTX_MAGIC, .name = name,
	    .kind = PTC_SERVER };
	struct ptc_sess *s;

	if (srv->tls != NULL)
		fd = ptc_tls_wrap(&ctx, srv->tls, fd, srv->stop[0], name,
		    srv->tls_notify);
	s = ptc_sess_new(name, PTC_SERVER, fd, srv->stop[0], peer);
	s->srv = srv;
	ptc_log(&s->ctx, "accepted a connection from %s", peer);
	ptc_sess_run(s, &block);
	ptc_log(&s->ctx, "connection done");
	ptc_sess_free(&s);
	atomic_fetch_add(&srv->served, 1);
}

static void *
sthread_main(void *arg)
{
	struct ptc_sthread *st = arg;
	char name[64];

	PTC_CHECK_OBJ(st->srv, PTC_SERVER_MAGIC);
	snprintf(name, sizeof name, "%s.%lu", st->srv->name, st->n);
	server_serve(st->srv, st->fd, name, st->peer);
	return (NULL);
}

static void *
server_thread(void *arg)
{
	struct ptc_server *srv = arg;
	struct ptc_ctx ctx = { .magic = PTC_CTX_MAGIC, .name = srv->name,
	    .kind = PTC_SERVER };
	struct sockaddr_storage ss;
	struct ptc_sthread *st;
	struct pollfd pfd[2];
	socklen_t sslen;
	unsigned long n = 0;
	unsigned port;
	char peer[80], host[64];
	int fd;

	PTC_CHECK_OBJ(srv, PTC_SERVER_MAGIC);
	while (srv->dispatch || srv->repeat == 0 || n < srv->repeat) {
		pfd[0].fd = srv->lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = srv->stop[0];
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			ptc_error(&ctx, "poll: %s", strerror(errno));
		}
		if (pfd[1].revents != 0)
			break;
		sslen = sizeof ss;
		fd = accept4(srv->lfd, (struct sockaddr *)&ss, &sslen,
		    SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ECONNABORTED)
				continue;
			ptc_error(&ctx, "accept: %s", strerror(errno));
		}
		atomic_fetch_add(&srv->connections, 1);
		n++;
		ptc_format_sock(&ss, host, sizeof host, &port);
		snprintf(peer, sizeof peer, "%s:%u", host, port);
		if (!srv->dispatch) {
			server_serve(srv, fd, srv->name, peer);
			continue;
		}
		st = calloc(1, sizeof *st);
		if (st == NULL)
			ptc_error(&ctx, "out of memory");
		st->srv = srv;
		st->fd = fd;
		st->n = n;
		snprintf(st->peer, sizeof st->peer, "%s", peer);
		if (pthread_create(&st->tid, NULL, sthread_main, st) != 0)
			ptc_error(&ctx, "cannot start a thread");
		st->next = srv->sthreads;
		srv->sthreads = st;
	}
	while ((st = srv->sthreads) != NULL) {
		srv->sthreads = st->next;
		pthread_join(st->tid, NULL);
		free(st);
	}
	atomic_store(&srv->done, true);
	return (NULL);
}

/* --- the server object -------------------------------------------------- */

static void
server_bind(struct ptc_ctx *ctx, struct ptc_server *srv)
{
	char host[64];
	socklen_t len = sizeof srv->addr;
	unsigned port;
	int on = 1;

	srv->lfd = socket(srv->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv->lfd == -1)
		ptc_error(ctx, "%s: socket: %s", srv->name, strerror(errno));
	(void)setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (bind(srv->lfd, (struct sockaddr *)&srv->addr, srv->addrlen) == -1 ||
	    getsockname(srv->lfd, (struct sockaddr *)&srv->addr, &len) == -1)
		ptc_error(ctx, "%s: cannot bind: %s", srv->name,
		    strerror(errno));
	ptc_format_sock(&srv->addr, host, sizeof host, &port);
	ptc_macro_def(ptc_asprintf(&ctx->arena, "%s_addr", srv->name), "%s",
	    host);
	ptc_macro_def(ptc_asprintf(&ctx->arena, "%s_port", srv->name), "%u",
	    port);
	ptc_macro_def(ptc_asprintf(&ctx->arena, "%s_sock", srv->name),
	    srv->addr.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

static struct ptc_server *
server_get(struct ptc_ctx *ctx, const char *name)
{
	struct ptc_server *srv;

	for (srv = servers; srv != NULL; srv = srv->next)
		if (strcmp(srv->name, name) == 0)
			return (srv);
	if (name[0] != 's')
		ptc_error(ctx, "server names start with s (s1, s2...)");
	srv = calloc(1, sizeof *srv);
	if (srv == NULL || (srv->name = strdup(name)) == NULL)
		ptc_error(ctx, "out of memory");
	srv->magic = PTC_SERVER_MAGIC;
	srv->lfd = -1;
	srv->stop[0] = srv->stop[1] = -1;
	srv->repeat = 1;
	if (ptc_parse_sock("127.0.0.1:0", &srv->addr, &srv->addrlen) != 0)
		ptc_error(ctx, "127.0.0.1:0?");
	srv->next = servers;
	servers = srv;
	return (srv);
}

/* Stop listening but keep the port: connecting is refused meanwhile. */
static void
server_unlisten(struct ptc_ctx *ctx, struct ptc_server *srv)
{
	close(srv->lfd);
	close(srv->stop[0]);
	close(srv->stop[1]);
	srv->stop[0] = srv->stop[1] = -1;
	srv->running = false;
	server_bind(ctx, srv);
}

static void
server_start(struct ptc_ctx *ctx, struct ptc_server *srv)
{
	if (srv->running)
		ptc_error(ctx, "%s is running already", srv->name);
	if (srv->script == NULL)
		ptc_error(ctx, "%s has no script: server %s {...} -start",
		    srv->name, srv->name);
	if (listen(srv->lfd, 128) == -1)
		ptc_error(ctx, "%s: listen: %s", srv->name, strerror(errno));
	if (pipe2(srv->stop, O_CLOEXEC) == -1)
		ptc_error(ctx, "pipe: %s", strerror(errno));
	atomic_store(&srv->stopping, false);
	atomic_store(&srv->done, false);
	if (pthread_create(&srv->thread, NULL, server_thread, srv) != 0)
		ptc_error(ctx, "cannot start a thread");
	srv->running = true;
}

static void
server_stop(struct ptc_ctx *ctx, struct ptc_server *srv)
{
	if (!srv->running)
		return;
	atomic_store(&srv->stopping, true);
	if (write(srv->stop[1], "x", 1) != 1)
		ptc_error(ctx, "write: %s", strerror(errno));
	pthread_join(srv->thread, NULL);
	ptc_tls_join(srv->tls);
	ptc_log(ctx, "%s stopped: %lu connection%s, %lu request%s", srv->name,
	    atomic_load(&srv->connections),
	    atomic_load(&srv->connections) == 1 ? "" : "s",
	    atomic_load(&srv->requests),
	    atomic_load(&srv->requests) == 1 ? "" : "s");
	server_unlisten(ctx, srv);
}

static void
server_wait(struct ptc_ctx *ctx, struct ptc_server *srv)
{
	struct timespec ts;

	if (!srv->running)
		ptc_error(ctx, "%s is not running", srv->name);
	if (srv->dispatch || srv->repeat == 0)
		ptc_error(ctx, "%s runs until -stop (-dispatch or -repeat 0)",
		    srv->name);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)PTC_IO_TIMEOUT;
	if (pthread_timedjoin_np(srv->thread, NULL, &ts) != 0)
		ptc_fail(ctx, "server %s -wait: not done after %.0f s "
		    "(%lu of %lu connection%s served)", srv->name,
		    PTC_IO_TIMEOUT, atomic_load(&srv->served), srv->repeat,
		    srv->repeat == 1 ? "" : "s");
	ptc_tls_join(srv->tls);
	server_unlisten(ctx, srv);
}

/* -expect requests|connections OP N; waits a little for a count that is
 * still moving (a request being read when the check runs). */
static void
server_expect(struct ptc_ctx *ctx, struct ptc_server *srv,
    const struct ptc_tok *what, const struct ptc_tok *op,
    const struct ptc_tok *val)
{
	atomic_ulong *counter;
	double deadline = ptc_now() + 0.5;
	char num[32];
	size_t len;

	if (ptc_tok_is(what, "requests"))
		counter = &srv->requests;
	else if (ptc_tok_is(what, "connections"))
		counter = &srv->connections;
	else
		ptc_error(ctx, "server -expect: requests or connections, not "
		    "%s", what->s);
	for (;;) {
		len = (size_t)snprintf(num, sizeof num, "%lu",
		    atomic_load(counter));
		if (ptc_compare(ctx, num, len, op, val))
			break;
		if (ptc_now() >= deadline)
			ptc_fail(ctx, "server %s -expect %s %s %s failed: got "
			    "%s", srv->name, what->s, op->s, val->s, num);
		ptc_sleep(ctx, 0.01);
	}
	ptc_log(ctx, "     ok: %s %s is %s", srv->name, what->s, num);
}

/* server NAME [-listen ADDR] [-repeat N] [-dispatch] [-tls CERT KEY
 *             [-tls-no-close-notify]] [{block}] [-start] [-wait] [-stop]
 *             [-expect requests|connections OP N] */
void
ptc_cmd_server(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_server *srv;
	int i;

	if (argc < 2 || argv[1].block)
		ptc_error(ctx, "usage: server NAME ...");
	srv = server_get(ctx, argv[1].s);
	for (i = 2; i < argc; i++) {
		if (argv[i].block) {
			if (srv->running)
				ptc_error(ctx, "%s is running", srv->name);
			free(srv->script);
			srv->script = strndup(argv[i].s, argv[i].len);
			if (srv->script == NULL)
				ptc_error(ctx, "out of memory");
			srv->scriptlen = argv[i].len;
			srv->scriptline = argv[i].line;
		} else if (ptc_tok_is(&argv[i], "-listen")) {
			ptc_need_args(ctx, argc, argv, i, 1);
			if (srv->running)
				ptc_error(ctx, "%s is running", srv->name);
			if (ptc_parse_sock(argv[++i].s, &srv->addr,
			    &srv->addrlen) != 0)
				ptc_error(ctx, "-listen %s: a loopback "
				    "address:port", argv[i].s);
			if (srv->lfd >= 0)
				close(srv->lfd);
			srv->lfd = -1;
		} else if (ptc_tok_is(&argv[i], "-repeat")) {
			ptc_need_args(ctx, argc, argv, i, 1);
			srv->repeat = ptc_arg_ulong(ctx, &argv[++i]);
		} else if (ptc_tok_is(&argv[i], "-dispatch"))
			srv->dispatch = true;
		else if (ptc_tok_is(&argv[i], "-tls")) {
			ptc_need_args(ctx, argc, argv, i, 2);
			if (srv->running)
				ptc_error(ctx, "%s is running", srv->name);
			ptc_tls_free(&srv->tls);
			srv->tls = ptc_tls_new(ctx, argv[i + 1].s,
			    argv[i + 2].s);
			srv->tls_notify = true;
			i += 2;
		} else if (ptc_tok_is(&argv[i], "-tls-no-close-notify"))
			srv->tls_notify = false;
		else if (ptc_tok_is(&argv[i], "-start")) {
			if (srv->lfd < 0)
				server_bind(ctx, srv);
			server_start(ctx, srv);
		} else if (ptc_tok_is(&argv[i], "-wait"))
			server_wait(ctx, srv);
		else if (ptc_tok_is(&argv[i], "-stop"))
			server_stop(ctx, srv);
		else if (ptc_tok_is(&argv[i], "-expect")) {
			ptc_need_args(ctx, argc, argv, i, 3);
			server_expect(ctx, srv, &argv[i + 1], &argv[i + 2],
			    &argv[i + 3]);
			i += 3;
		} else
			ptc_error(ctx, "server: unknown option %s", argv[i].s);
	}
	if (srv->lfd < 0)
		server_bind(ctx, srv);
}

void
ptc_server_stop_all(struct ptc_ctx *ctx)
{
	struct ptc_server *srv;

	for (srv = servers; srv != NULL; srv = srv->next)
		server_stop(ctx, srv);
}

void
ptc_server_free_all(void)
{
	struct ptc_server *srv;

	while ((srv = servers) != NULL) {
		servers = srv->next;
		if (srv->lfd >= 0)
			close(srv->lfd);
		ptc_tls_free(&srv->tls);
		free(srv->script);
		free(srv->name);
		free(srv);
	}
}
