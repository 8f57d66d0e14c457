/*
 * ptc_sess.c - one connection's script: timed reads, paced writes, and
 * the raw commands (send, sendhex, recv, timeout, close, shutdown, reset,
 * expect_close) that clients and servers share.
 *
 * Lifecycle:
 *	ptc_sess_new()		on a connected socket (non-blocking, NODELAY)
 *	ptc_sess_run()		the block, then the routes if it declared any;
 *				returns early (longjmp) if the server stops
 *	ptc_sess_close()	`close`/`reset`; the script may go on
 *	ptc_sess_free()		fd closed, buffers and arena freed
 *
 * Every wait is bounded by the session's timeout (`timeout`, 10 s by
 * default) except the route loop's wait for the next request, which only
 * the peer closing or the server stopping ends.  A server session also
 * polls its server's stop pipe: when that turns readable the session
 * unwinds to ptc_sess_run() (ptc_sess_check_stop()).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ptc.h"

struct ptc_sess *
ptc_sess_new(const char *name, enum ptc_kind kind, int fd, int stopfd,
    const char *peer)
{
	struct ptc_sess *s;
	int on = 1, fl;

	s = calloc(1, sizeof *s);
	if (s == NULL) {
		fprintf(stderr, "ptc: out of memory\n");
		_exit(PTC_EXIT_ERROR);
	}
	s->magic = PTC_SESS_MAGIC;
	s->ctx.magic = PTC_CTX_MAGIC;
	s->ctx.name = ptc_strndup(&s->ctx.arena, name, strlen(name));
	s->ctx.kind = kind;
	s->ctx.sess = s;
	s->fd = fd;
	s->stopfd = stopfd;
	s->timeout = PTC_IO_TIMEOUT;
	snprintf(s->peer, sizeof s->peer, "%s", peer);
	/* Never NULL from here on: s->rx.p + s->rxoff is always valid. */
	ptc_buf_add(&s->rx, "", 0);
	ptc_buf_add(&s->recvd, "", 0);
	fl = fcntl(fd, F_GETFL);
	if (fl != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	return (s);
}

void
ptc_sess_run(struct ptc_sess *s, const struct ptc_tok *block)
{
	if (setjmp(s->unwind) != 0) {
		ptc_log(&s->ctx, "stopped");
		return;
	}
	ptc_run(&s->ctx, block);
	if (s->nroutes > 0)
		ptc_server_serve_routes(s);
}

void
ptc_sess_free(struct ptc_sess **sp)
{
	struct ptc_sess *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	if (s->fd >= 0)
		close(s->fd);
	ptc_buf_free(&s->rx);
	ptc_buf_free(&s->tx);
	ptc_buf_free(&s->txbody);
	ptc_buf_free(&s->recvd);
	ptc_msg_reset(&s->req);
	ptc_msg_reset(&s->resp);
	ptc_arena_release(&s->ctx.arena, NULL);
	s->magic = 0;
	free(s);
}

struct ptc_sess *
ptc_sess_of(struct ptc_ctx *ctx)
{
	PTC_CHECK_OBJ(ctx, PTC_CTX_MAGIC);
	if (ctx->sess == NULL)
		ptc_error(ctx, "no connection here");
	PTC_CHECK_OBJ(ctx->sess, PTC_SESS_MAGIC);
	return (ctx->sess);
}

void
ptc_sess_check_stop(const struct ptc_ctx *ctx)
{
	struct ptc_sess *s;

	if (ctx == NULL || (s = ctx->sess) == NULL || s->srv == NULL)
		return;
	if (ptc_server_stopping(s->srv))
		longjmp(s->unwind, 1);
}

void
ptc_sleep(struct ptc_ctx *ctx, double sec)
{
	struct pollfd pfd;
	struct timespec ts;
	double end = ptc_now() + sec, left;

	while ((left = end - ptc_now()) > 0) {
		if (ctx != NULL && ctx->sess != NULL &&
		    ctx->sess->stopfd >= 0) {
			pfd.fd = ctx->sess->stopfd;
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, (int)(left * 1000) + 1);
			ptc_sess_check_stop(ctx);
		} else {
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
			(void)nanosleep(&ts, NULL);
		}
	}
}

static void
sess_need_fd(struct ptc_sess *s)
{
	if (s->fd < 0)
		ptc_fail(&s->ctx, "the connection is already closed");
}

/* Wait for ev on the socket: its revents, or 0 at the deadline. */
static short
sess_poll(struct ptc_sess *s, short ev, double deadline)
{
	struct pollfd pfd[2];
	double left;
	int n;

	for (;;) {
		left = deadline - ptc_now();
		if (left <= 0)
			return (0);
		pfd[0].fd = s->fd;
		pfd[0].events = ev;
		pfd[0].revents = 0;
		pfd[1].fd = s->stopfd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		n = poll(pfd, s->stopfd >= 0 ? 2 : 1,
		    left > 3600 ? -1 : (int)(left * 1000) + 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			ptc_error(&s->ctx, "poll: %s", strerror(errno));
		if (pfd[1].revents != 0)
			ptc_sess_check_stop(&s->ctx);
		if (pfd[0].revents != 0)
			return (pfd[0].revents);
	}
}

static void
sess_write_all(struct ptc_sess *s, const char *p, size_t len)
{
	double deadline = ptc_now() + s->timeout;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send(s->fd, p + done, len - done, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (s->peer_may_close && (errno == EPIPE ||
		    errno == ECONNRESET)) {
			ptc_log(&s->ctx, "peer gone after %zu of %zu bytes "
			    "(allowed)", done, len);
			return;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			ptc_fail(&s->ctx, "write failed after %zu of %zu "
			    "bytes: %s", done, len, strerror(errno));
		if (sess_poll(s, POLLOUT, deadline) == 0)
			ptc_fail(&s->ctx, "write timed out after %.3g s "
			    "(%zu of %zu bytes sent; is the peer reading?)",
			    s->timeout, done, len);
	}
}

void
ptc_sess_send(struct ptc_sess *s, const char *p, size_t len, size_t split,
    double pause)
{
	size_t off = 0, piece;

	sess_need_fd(s);
	while (off < len) {
		piece = split > 0 && split < len - off ? split : len - off;
		sess_write_all(s, p + off, piece);
		off += piece;
		if (off < len && pause > 0)
			ptc_sleep(&s->ctx, pause);
	}
}

ssize_t
ptc_sess_fill(struct ptc_sess *s, double deadline, const char *what)
{
	char tmp[16384];
	ssize_t n;

	sess_need_fd(s);
	if (s->rxoff == s->rx.len) {
		ptc_buf_clear(&s->rx);
		s->rxoff = 0;
	} else if (s->rxoff > 65536) {
		memmove(s->rx.p, s->rx.p + s->rxoff, s->rx.len - s->rxoff);
		s->rx.len -= s->rxoff;
		s->rx.p[s->rx.len] = '\0';
		s->rxoff = 0;
	}
	for (;;) {
		n = recv(s->fd, tmp, sizeof tmp, MSG_DONTWAIT);
		if (n > 0) {
			ptc_buf_add(&s->rx, tmp, (size_t)n);
			return (n);
		}
		if (n == 0)
			return (0);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return (-errno);
		if (sess_poll(s, POLLIN, deadline) == 0)
			ptc_fail(&s->ctx, "timed out after %.3g s %s; pending: "
			    "%s", s->timeout, what, ptc_quote(&s->ctx,
			    s->rx.p + s->rxoff, s->rx.len - s->rxoff, 200));
	}
}

size_t
ptc_sess_pending(const struct ptc_sess *s)
{
	return (s->rx.len - s->rxoff);
}

bool
ptc_sess_at_eof(struct ptc_sess *s)
{
	ssize_t n;

	if (s->fd < 0)
		return (true);
	if (ptc_sess_pending(s) > 0)
		return (false);
	n = ptc_sess_fill(s, ptc_now() + 1e9, "waiting for a request");
	return (n <= 0);
}

void
ptc_sess_close(struct ptc_sess *s, bool reset)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (s->fd < 0)
		return;
	if (reset)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(s->fd);
	s->fd = -1;
}

const char *
ptc_sess_var(struct ptc_sess *s, const char *name, size_t *len)
{
	if (strcmp(name, "recv.data") == 0 || strcmp(name, "recv.len") == 0) {
		if (!s->recv_done)
			ptc_error(&s->ctx, "%s: no recv yet", name);
		if (name[5] == 'l') {
			*len = (size_t)snprintf(s->num, sizeof s->num, "%zu",
			    s->recvd.len);
			return (s->num);
		}
		*len = s->recvd.len;
		return (s->recvd.p);
	}
	return (ptc_http_var(s, name, len));
}

/* --- raw commands ------------------------------------------------------- */

/* -split N and -bytedelay S, shared by send, sendhex, txreq and txresp:
 * pieces of N bytes (1 with only -bytedelay), S seconds apart (1 ms with
 * only -split, so the pieces reach the peer apart). */
bool
ptc_pace_opt(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv,
    int *i, size_t *split, double *pause)
{
	if (ptc_tok_is(&argv[*i], "-split")) {
		ptc_need_args(ctx, argc, argv, *i, 1);
		*split = ptc_arg_ulong(ctx, &argv[++*i]);
		if (*split == 0)
			ptc_error(ctx, "-split needs 1 or more");
		if (*pause == 0)
			*pause = 0.001;
		return (true);
	}
	if (ptc_tok_is(&argv[*i], "-bytedelay")) {
		ptc_need_args(ctx, argc, argv, *i, 1);
		*pause = ptc_arg_seconds(ctx, &argv[++*i]);
		if (*split == 0)
			*split = 1;
		return (true);
	}
	return (false);
}

static void
send_cmd(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv,
    bool hex)
{
	struct ptc_sess *s = ptc_sess_of(ctx);
	const struct ptc_tok *data = NULL;
	struct ptc_buf b = { 0 };
	size_t split = 0, k;
	double pause = 0;
	int i, h, v = 0, nib = 0;
	char *copy, c;

	for (i = 1; i < argc; i++) {
		if (ptc_pace_opt(ctx, argc, argv, &i, &split, &pause))
			continue;
		if (data != NULL || argv[i].block)
			ptc_error(ctx, "usage: %s [-split N] [-bytedelay S] "
			    "DATA", argv[0].s);
		data = &argv[i];
	}
	if (data == NULL)
		ptc_error(ctx, "%s: no data", argv[0].s);
	if (!hex) {
		ptc_sess_send(s, data->s, data->len, split, pause);
		return;
	}
	for (k = 0; k < data->len; k++) {
		if (isspace((unsigned char)data->s[k]))
			continue;
		h = (unsigned char)data->s[k];
		if (!isxdigit(h)) {
			ptc_buf_free(&b);
			ptc_error(ctx, "sendhex: bad hex digit %s",
			    ptc_quote(ctx, data->s + k, 1, 1));
		}
		v = v * 16 + (isdigit(h) ? h - '0' : tolower(h) - 'a' + 10);
		if (++nib == 2) {
			c = (char)v;
			ptc_buf_add(&b, &c, 1);
			v = nib = 0;
		}
	}
	if (nib != 0) {
		ptc_buf_free(&b);
		ptc_error(ctx, "sendhex: odd number of hex digits");
	}
	/* Into the arena: the send may unwind. */
	copy = ptc_strndup(&ctx->arena, b.p != NULL ? b.p : "", b.len);
	k = b.len;
	ptc_buf_free(&b);
	ptc_sess_send(s, copy, k, split, pause);
}

/* send [-split N] [-bytedelay S] "bytes" */
void
ptc_cmd_send(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	send_cmd(ctx, argc, argv, false);
}

/* sendhex [-split N] [-bytedelay S] "47 45 54" */
void
ptc_cmd_sendhex(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	send_cmd(ctx, argc, argv, true);
}

/* recv [N]: exactly N bytes, or everything until the peer closes. */
void
ptc_cmd_recv(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_sess *s = ptc_sess_of(ctx);
	double deadline = ptc_now() + s->timeout;
	unsigned long want = 0;
	bool all = argc == 1;
	size_t take;
	ssize_t n;

	if (argc > 2)
		ptc_error(ctx, "usage: recv [N]");
	if (!all)
		want = ptc_arg_ulong(ctx, &argv[1]);
	ptc_buf_clear(&s->recvd);
	s->recv_done = true;
	for (;;) {
		take = ptc_sess_pending(s);
		if (!all && take > want - s->recvd.len)
			take = want - s->recvd.len;
		ptc_buf_add(&s->recvd, s->rx.p + s->rxoff, take);
		s->rxoff += take;
		if (!all && s->recvd.len == want)
			break;
		n = ptc_sess_fill(s, deadline, all ? "waiting for the peer "
		    "to close" : "in recv");
		if (n == 0 || n == -ECONNRESET) {
			if (!all)
				ptc_fail(ctx, "recv %lu: the peer %s after %zu "
				    "bytes: %s", want, n == 0 ? "closed" :
				    "reset", s->recvd.len, ptc_quote(ctx,
				    s->recvd.p, s->recvd.len, 200));
			break;
		}
		if (n < 0)
			ptc_fail(ctx, "recv: %s", strerror((int)-n));
	}
	ptc_log(ctx, "     %zu bytes: %s", s->recvd.len,
	    ptc_quote(ctx, s->recvd.p, s->recvd.len, 100));
}

void
ptc_cmd_timeout(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_sess *s = ptc_sess_of(ctx);

	if (argc != 2)
		ptc_error(ctx, "usage: timeout SECONDS");
	s->timeout = ptc_arg_seconds(ctx, &argv[1]);
	if (s->timeout <= 0)
		ptc_error(ctx, "timeout must be above 0");
}

void
ptc_cmd_close(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	if (argc != 1)
		ptc_error(ctx, "usage: close");
	ptc_sess_close(ptc_sess_of(ctx), false);
}

void
ptc_cmd_reset(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	if (argc != 1)
		ptc_error(ctx, "usage: reset");
	ptc_sess_close(ptc_sess_of(ctx), true);
}

/* shutdown: half-close, no more bytes from us; reading goes on. */
void
ptc_cmd_shutdown(struct ptc_ctx *ctx, int argc, const struct ptc_tok *argv)
{
	struct ptc_sess *s = ptc_sess_of(ctx);

	if (argc != 1)
		ptc_error(ctx, "usage: shutdown");
	sess_need_fd(s);
	if (shutdown(s->fd, SHUT_WR) == -1)
		ptc_fail(ctx, "shutdown: %s", strerror(errno));
}

/* peer_may_close: from now on a write that finds the peer gone (reset,
 * closed) ends quietly instead of failing the test: for origins whose
 * client, cuttle, is expected to give up on them. */
void
ptc_cmd_peer_may_close(struct ptc_ctx *ctx, int argc,
    const struct ptc_tok *argv)
{
	if (argc != 1)
		ptc_error(ctx, "usage: peer_may_close");
	ptc_sess_of(ctx)->peer_may_close = true;
}

/* expect_close: the peer closes (or resets) within the timeout, with no
 * byte before that. */
void
ptc_cmd_expect_close(struct ptc_ctx *ctx, int argc,
    const struct ptc_tok *argv)
{
	struct ptc_sess *s = ptc_sess_of(ctx);
	ssize_t n;

	if (argc != 1)
		ptc_error(ctx, "usage: expect_close");
	if (ptc_sess_pending(s) == 0) {
		n = ptc_sess_fill(s, ptc_now() + s->timeout,
		    "waiting for the peer to close");
		if (n == 0 || n == -ECONNRESET) {
			ptc_log(ctx, "     %s", n == 0 ? "closed" : "reset");
			return;
		}
		if (n < 0)
			ptc_fail(ctx, "expect_close: %s", strerror((int)-n));
	}
	ptc_fail(ctx, "expect_close: got %zu bytes instead: %s",
	    ptc_sess_pending(s), ptc_quote(ctx, s->rx.p + s->rxoff,
	    ptc_sess_pending(s), 200));
}

/* --- addresses ---------------------------------------------------------- */

int
ptc_parse_sock(const char *str, struct sockaddr_storage *ss,
    unsigned *sslen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *colon, *ps;
	unsigned long port;
	char *end;
	size_t hl;

	memset(ss, 0, sizeof *ss);
	if (str[0] == '[') {
		colon = strstr(str, "]:");
		if (colon == NULL)
			return (-1);
		hl = (size_t)(colon - str - 1);
		ps = colon + 2;
		str++;
	} else {
		colon = strrchr(str, ':');
		if (colon == NULL)
			return (-1);
		hl = (size_t)(colon - str);
		ps = colon + 1;
	}
	if (hl >= sizeof host || !isdigit((unsigned char)*ps))
		return (-1);
	memcpy(host, str, hl);
	host[hl] = '\0';
	port = strtoul(ps, &end, 10);
	if (*end != '\0' || port > 65535)
		return (-1);
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			return (-1);
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		*sslen = sizeof *sin;
		return (0);
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return (-1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		*sslen = sizeof *sin6;
		return (0);
	}
	return (-1);
}

void
ptc_format_sock(const struct sockaddr_storage *ss, char *addr,
    size_t addrlen, unsigned *port)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr,
		    (socklen_t)addrlen);
		*port = ntohs(sin6->sin6_port);
	} else {
		inet_ntop(AF_INET, &sin->sin_addr, addr, (socklen_t)addrlen);
		*port = ntohs(sin->sin_port);
	}
}
