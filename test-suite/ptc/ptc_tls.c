/*
 * ptc_tls.c - TLS origin servers: `server s1 -tls CERT KEY`.
 *
 * A session never sees TLS.  Each accepted connection gets a socketpair:
 * the session runs its script on one end, exactly as over TCP, and a
 * relay thread holds the other end and the TCP socket, with OpenSSL (the
 * server side) between them.  So every session command works over TLS
 * unchanged, and how the session ends its side says how the relay ends
 * the TLS stream:
 *
 *	session			relay, towards the client (cuttle)
 *	close (or the end)	close_notify, then close
 *	shutdown		close_notify, then FIN; reading goes on
 *	(-tls-no-close-notify)	never a close_notify: a bare close or FIN,
 *				which a client must take as a cut
 *
 * and the client's close_notify or EOF becomes an EOF for the session.
 * A handshake that fails (the client refused the certificate) closes
 * both: the session sees the connection closed with no byte.
 *
 * Lifecycle of a relay:
 *	ptc_tls_wrap()		socketpair, relay thread started
 *	relay_main()		handshake (10 s at most), then both ways
 *				until both sides are done, or the server's
 *				stop pipe turns readable
 *	ptc_tls_join()		the server stopped or was waited for: every
 *				relay joined
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ptc.h"

struct ptc_relay {
	struct ptc_relay	*next;
	pthread_t		tid;
	struct ptc_ctx		ctx;
	char			name[80];
	SSL			*ssl;
	int			net;	/* the TCP socket, non-blocking */
	int			app;	/* the session's peer end */
	int			stopfd;
	bool			notify;	/* send close_notify */
	bool			stopping;
};

struct ptc_tls {
	SSL_CTX			*ctx;
	pthread_mutex_t		mtx;
	struct ptc_relay	*relays;	/* under mtx */
};

static const char *
tls_why(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	return (r != NULL ? r : "connection closed");
}

struct ptc_tls *
ptc_tls_new(struct ptc_ctx *ctx, const char *cert, const char *key)
{
	struct ptc_tls *t;

	t = calloc(1, sizeof *t);
	if (t == NULL)
		ptc_error(ctx, "out of memory");
	pthread_mutex_init(&t->mtx, NULL);
	t->ctx = SSL_CTX_new(TLS_server_method());
	if (t->ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1)
		ptc_error(ctx, "-tls %s %s: %s", cert, key, tls_why());
	return (t);
}

/* Wait for the TCP socket (ev), or the stop pipe; false on stop, an
 * error or the deadline. */
static bool
relay_wait(struct ptc_relay *r, short ev, double deadline)
{
	struct pollfd pfd[2] = {
		{ .fd = r->net, .events = ev },
		{ .fd = r->stopfd, .events = POLLIN },
	};
	double left;
	int n;

	for (;;) {
		left = deadline - ptc_now();
		if (left <= 0)
			return (false);
		n = poll(pfd, 2, (int)(left * 1000) + 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || pfd[1].revents != 0) {
			r->stopping = true;
			return (false);
		}
		if (n > 0)
			return (true);
	}
}

/* All of p, in records; false when the client is gone. */
static bool
relay_tls_write(struct ptc_relay *r, const char *p, size_t len)
{
	double deadline = ptc_now() + PTC_IO_TIMEOUT;
	int n, e;

	while (len > 0) {
		ERR_clear_error();
		n = SSL_write(r->ssl, p, len > 16384 ? 16384 : (int)len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		e = SSL_get_error(r->ssl, n);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
		    !relay_wait(r, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
		    deadline))
			return (false);
	}
	return (true);
}

/* To the session; a session that has gone just loses the bytes. */
static void
relay_app_write(struct ptc_relay *r, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(r->app, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static bool
relay_handshake(struct ptc_relay *r)
{
	double deadline = ptc_now() + PTC_IO_TIMEOUT;
	int n, e;

	for (;;) {
		ERR_clear_error();
		n = SSL_accept(r->ssl);
		if (n == 1) {
			ptc_log(&r->ctx, "TLS handshake done: %s %s%s",
			    SSL_get_version(r->ssl),
			    SSL_get_cipher_name(r->ssl),
			    SSL_session_reused(r->ssl) ? " (resumed)" : "");
			return (true);
		}
		e = SSL_get_error(r->ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (relay_wait(r, e == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT, deadline))
				continue;
			ptc_log(&r->ctx, "TLS handshake: %s", r->stopping ?
			    "stopped" : "timed out");
			return (false);
		}
		ptc_log(&r->ctx, "TLS handshake failed: %s", tls_why());
		return (false);
	}
}

/* close_notify, once, when the server is meant to send one. */
static void
relay_notify(struct ptc_relay *r, bool *sent)
{
	if (*sent || !r->notify)
		return;
	*sent = true;
	ERR_clear_error();
	(void)SSL_shutdown(r->ssl);
	ptc_log(&r->ctx, "TLS close_notify sent");
}

static void *
relay_main(void *arg)
{
	struct ptc_relay *r = arg;
	struct pollfd pfd[3];
	char buf[16384];
	bool app_eof = false, net_eof = false, sent = false, hup;
	ssize_t n;
	int m, e;

	if (!relay_handshake(r))
		goto out;
	for (;;) {
		pfd[0].fd = net_eof ? -1 : r->net;
		pfd[0].events = POLLIN;
		pfd[1].fd = r->app;	/* POLLHUP even when not read */
		pfd[1].events = app_eof ? 0 : POLLIN;
		pfd[2].fd = r->stopfd;
		pfd[2].events = POLLIN;
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		m = SSL_pending(r->ssl) > 0 && !net_eof ? 0 : -1;
		if (poll(pfd, 3, m) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[2].revents != 0) {
			r->stopping = true;
			break;
		}
		if (!net_eof && (pfd[0].revents != 0 ||
		    SSL_pending(r->ssl) > 0)) {
			ERR_clear_error();
			m = SSL_read(r->ssl, buf, sizeof buf);
			e = m > 0 ? SSL_ERROR_NONE : SSL_get_error(r->ssl, m);
			if (m > 0)
				relay_app_write(r, buf, (size_t)m);
			else if (e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE) {
				net_eof = true;
				ptc_log(&r->ctx, "TLS: the client %s",
				    e == SSL_ERROR_ZERO_RETURN ?
				    "sent close_notify" : "closed");
				(void)shutdown(r->app, SHUT_WR);
			}
		}
		hup = (pfd[1].revents & (POLLHUP | POLLERR)) != 0;
		if (!app_eof && (pfd[1].revents & POLLIN) != 0) {
			n = recv(r->app, buf, sizeof buf, 0);
			if (n > 0) {
				if (!relay_tls_write(r, buf, (size_t)n)) {
					/* the client is gone: the session
					 * finds out from the EOF */
					net_eof = true;
					(void)shutdown(r->app, SHUT_WR);
				}
				continue;
			}
			if (n == -1 && errno == EINTR)
				continue;
			app_eof = true;
			if (!hup) {	/* a half-close */
				relay_notify(r, &sent);
				(void)shutdown(r->net, SHUT_WR);
				continue;
			}
		}
		if (app_eof && hup)
			break;
	}
	if (!r->stopping)
		relay_notify(r, &sent);
out:
	close(r->net);
	close(r->app);
	SSL_free(r->ssl);
	r->ssl = NULL;
	return (NULL);
}

int
ptc_tls_wrap(struct ptc_ctx *ctx, struct ptc_tls *t, int fd, int stopfd,
    const char *name, bool notify)
{
	struct ptc_relay *r;
	int sp[2], fl;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		ptc_error(ctx, "socketpair: %s", strerror(errno));
	r = calloc(1, sizeof *r);
	if (r == NULL)
		ptc_error(ctx, "out of memory");
	snprintf(r->name, sizeof r->name, "%s.tls", name);
	r->ctx.magic = PTC_CTX_MAGIC;
	r->ctx.name = r->name;
	r->ctx.kind = PTC_SERVER;
	r->net = fd;
	r->app = sp[1];
	r->stopfd = stopfd;
	r->notify = notify;
	fl = fcntl(fd, F_GETFL);
	if (fl != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	r->ssl = SSL_new(t->ctx);
	if (r->ssl == NULL || SSL_set_fd(r->ssl, fd) != 1)
		ptc_error(ctx, "SSL_new: %s", tls_why());
	pthread_mutex_lock(&t->mtx);
	if (pthread_create(&r->tid, NULL, relay_main, r) != 0)
		ptc_error(ctx, "cannot start a thread");
	r->next = t->relays;
	t->relays = r;
	pthread_mutex_unlock(&t->mtx);
	return (sp[0]);
}

void
ptc_tls_join(struct ptc_tls *t)
{
	struct ptc_relay *r;

	if (t == NULL)
		return;
	pthread_mutex_lock(&t->mtx);
	while ((r = t->relays) != NULL) {
		t->relays = r->next;
		pthread_join(r->tid, NULL);
		free(r);
	}
	pthread_mutex_unlock(&t->mtx);
}

void
ptc_tls_free(struct ptc_tls **tp)
{
	struct ptc_tls *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	ptc_tls_join(t);
	SSL_CTX_free(t->ctx);
	pthread_mutex_destroy(&t->mtx);
	free(t);
}
