/*
 * comm_tls.c - the TLS transport: OpenSSL under the comm contract.
 *
 * Lifecycle of a TLS connection (struct comm_tls, the transport's ctx):
 *	comm_tls_start()	SSL_set_fd(); the handshake takes the connect
 *				slot (CONNECTING, c->cn), its deadline the
 *				connect timeout's; the first step runs when
 *				the socket is writable, from the loop
 *	tls_handshake()		one SSL_do_handshake() per readiness: done
 *				-> OPEN (connect_end() completes the op and
 *				lets queued reads and writes go), failure ->
 *				the op fails, and so does the rest
 *	tls_recv(), tls_sendv()	SSL_read_ex() / SSL_write_ex(), see below
 *	tls_shutdown()		comm_shutdown_write() with the queue drained:
 *				close_notify, then FIN
 *	tls_close()		(conn_down) SSL_free(); comm closes the fd
 *
 * Every OpenSSL I/O call goes through tls_call(), which clears the error
 * queue, calls, and maps SSL_get_error() to 0, -EAGAIN (with the socket
 * event it waits for), an end of stream or an errno.  Each direction
 * remembers the event it waits for: a read may wait for the socket to be
 * writable and a write for it to be readable; tls_watch() tells comm,
 * which watches the one fd for the union.
 *
 * Reads.  SSL_read_ex() returns at most one record's plaintext.  When it
 * stops with bytes still held by OpenSSL (a record longer than the read,
 * or records that came together), no kernel event will announce them:
 * the next read, when it starts waiting, is run from the loop by the
 * `resume` call instead (tls_watch()).
 *
 * Writes.  SSL_write has no iovec form, and with partial writes on it
 * returns after each record.  Slices below TLS_COPY_MAX (headers, small
 * bodies) that follow one another are copied into a staging block of one
 * record (TLS_RECORD), taken from the loop's pool only for that write and
 * returned as soon as OpenSSL has the record; a single slice, and every
 * large one (cached pages), is encrypted straight from its bytes, which
 * comm keeps pinned until they are reported written.  Bytes count as
 * written only once OpenSSL has sent their record: when SSL_write waits
 * (WANT_*) the same bytes are offered again on the next try, as OpenSSL
 * requires, and they are still the queue's first (comm's cursor has not
 * moved past them).  comm_cancel_writes() while a record waits leaves it
 * half sent: the stream cannot go on, later writes fail with EPIPE (and
 * comm_shutdown_write() sends no close_notify after it).
 *
 * Memory.  OpenSSL's read and write buffers (about 17 KiB each) are what
 * an open TLS connection costs beyond a plain one.  SSL_MODE_RELEASE_
 * BUFFERS would free them whenever a read finds nothing more and a write
 * is done, that is at every request of a kept-alive connection, and take
 * them again at the next: two large mallocs and frees a request.  Instead
 * a connection that does I/O joins the loop's tls_busy list (one pointer
 * test when already on it), and a timer every TLS_IDLE_RELEASE seconds
 * frees the buffers of those that have done none for that long
 * (SSL_free_buffers(), which refuses while bytes wait in them): a busy
 * connection keeps its buffers, an idle one gives them back within two
 * periods.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/check.h"
#include "base/list.h"
#include "base/log.h"
#include "buf/buf.h"
#include "comm/comm_int.h"

#define TLS_RECORD	16384u	/* plaintext of the largest record */
#define TLS_COPY_MAX	4096u	/* smaller slices are coalesced */
#define TLS_IDLE_RELEASE 1.0	/* seconds without I/O: buffers freed */

/* tls_call() results besides 0, -EAGAIN and -errno. */
#define TLS_EOF		1	/* close_notify */
#define TLS_CUT		2	/* EOF without close_notify */

enum tls_what {
	TLS_HANDSHAKE,
	TLS_READ,
	TLS_WRITE,
	TLS_SHUTDOWN
};

struct comm_tls {
	unsigned		magic;
#define COMM_TLS_MAGIC		0x7150c0deU
	SSL			*ssl;
	struct comm_conn	*conn;
	struct comm_call	resume;		/* a read of held bytes */
	struct list		busy;		/* on loop->tls_busy: may
						 * hold OpenSSL's buffers */
	double			used;		/* its last I/O */
	struct buf		*stage;		/* a coalesced record, held
						 * only while it waits */
	const void		*pend;		/* a write that waits: its
						 * first byte in the queue */
	size_t			pend_len;	/* and its length (0: none) */
	unsigned long		error;		/* OpenSSL's, on failure */
	int			rd_end;		/* reads: TLS_EOF, TLS_CUT or
						 * -errno, sticky */
	int			werr;		/* writes: errno, sticky */
	uint8_t			hs_ev;		/* the event each waits for */
	uint8_t			rd_ev;
	uint8_t			wr_ev;
	bool			open;		/* handshake done */
	bool			fatal;		/* no more SSL calls */
	bool			starved;	/* the last read wanted more
						 * bytes than OpenSSL held */
};

static struct comm_tls *
tls_of(const struct comm_conn *c)
{
	struct comm_tls *t = c->xprt_ctx;

	CHECK_OBJ_NOTNULL(t, COMM_TLS_MAGIC);
	return (t);
}

static int
tls_call(struct comm_tls *t, enum tls_what what, void *p, size_t len,
    size_t *n, uint8_t *ev)
{
	unsigned long code;
	int r, e, err;

	*n = 0;
	ERR_clear_error();
	errno = 0;
	switch (what) {
	case TLS_HANDSHAKE:
		r = SSL_do_handshake(t->ssl);
		break;
	case TLS_READ:
		r = SSL_read_ex(t->ssl, p, len, n);
		break;
	case TLS_WRITE:
		r = SSL_write_ex(t->ssl, p, len, n);
		break;
	case TLS_SHUTDOWN:
		/* 0: ours is sent, the peer's not yet read; enough for a
		 * half-close. */
		r = SSL_shutdown(t->ssl);
		if (r == 0)
			r = 1;
		break;
	default:
		WRONG("tls_call");
	}
	if (r == 1)
		return (0);
	err = errno;
	e = SSL_get_error(t->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		*ev = EV_READ;
		return (-EAGAIN);
	case SSL_ERROR_WANT_WRITE:
		*ev = EV_WRITE;
		return (-EAGAIN);
	case SSL_ERROR_ZERO_RETURN:
		return (TLS_EOF);
	case SSL_ERROR_SYSCALL:
		/* After SYSCALL and SSL, OpenSSL must not be called again
		 * (but for SSL_free). */
		t->fatal = true;
		code = ERR_peek_last_error();
		if (code != 0)
			t->error = code;
		if (err == EAGAIN || err == EINTR)
			err = EIO;
		return (err == 0 ? TLS_CUT : -err);
	case SSL_ERROR_SSL:
		t->fatal = true;
		code = ERR_peek_last_error();
		t->error = code;
		if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
		    ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return (TLS_CUT);
		return (-EPROTO);
	default:
		t->fatal = true;
		return (-EPROTO);
	}
}

/* The sweep: the buffers of connections quiet for TLS_IDLE_RELEASE go
 * back; those that still hold bytes stay for the next round. */
static void
tls_sweep(struct comm_timer *tm, void *arg)
{
	struct comm_loop *loop = arg;
	struct comm_tls *t;
	struct list *n, *tmp;
	double now;

	CHECK_OBJ_NOTNULL(loop, COMM_LOOP_MAGIC);
	now = comm_loop_now(loop);
	LIST_FOREACH_SAFE(n, tmp, &loop->tls_busy) {
		t = container_of(n, struct comm_tls, busy);
		CHECK_OBJ(t, COMM_TLS_MAGIC);
		/* A handshake under way, or a connection about to close,
		 * is left alone. */
		if (now - t->used < TLS_IDLE_RELEASE || !t->open || t->fatal)
			continue;
		if (SSL_free_buffers(t->ssl) == 1) {
			list_remove(&t->busy);
			loop->st.tls_released++;
		}
	}
	if (list_empty(&loop->tls_busy))
		comm_timer_stop(tm);
}

/* t does I/O now: OpenSSL may take its buffers. */
static void
tls_used(struct comm_conn *c, struct comm_tls *t)
{
	struct comm_loop *loop = c->loop;

	t->used = comm_loop_now(loop);
	if (list_linked(&t->busy))
		return;
	list_insert_tail(&loop->tls_busy, &t->busy);
	if (!comm_timer_active(loop->tls_sweep))
		comm_timer_start(loop->tls_sweep, TLS_IDLE_RELEASE,
		    TLS_IDLE_RELEASE);
}

/* Would a read now get something without waiting for the socket: bytes
 * OpenSSL holds (unless it just said they are not enough), or an end
 * already known? */
static bool
tls_read_now(const struct comm_tls *t)
{
	if (t->rd_end != 0 || t->fatal)
		return (true);
	if (!t->open)
		return (false);
	return (SSL_pending(t->ssl) > 0 ||
	    (SSL_has_pending(t->ssl) && !t->starved));
}

static void
tls_resume(struct comm_call *call)
{
	struct comm_tls *t = container_of(call, struct comm_tls, resume);
	struct comm_conn *c;

	CHECK_OBJ_NOTNULL(t, COMM_TLS_MAGIC);
	c = t->conn;
	if (!(c->flags & CONN_CLOSING) && c->rd.state == COMM_OP_PENDING &&
	    comm_conn_watching(c, EV_READ))
		comm_io_read_ready(c);
}

static int
tls_watch(struct comm_conn *c, int ops)
{
	struct comm_tls *t = tls_of(c);
	int ev = 0;

	if (ops & COMM_XPRT_WRITE)
		ev |= c->flags & CONN_CONNECTING ? t->hs_ev : t->wr_ev;
	if (ops & COMM_XPRT_READ) {
		if (!tls_read_now(t))
			ev |= t->rd_ev;
		else if (!comm_call_pending(&t->resume))
			comm_call_post(c->loop, &t->resume);
	}
	return (ev);
}

static int
tls_handshake(struct comm_conn *c)
{
	struct comm_tls *t = tls_of(c);
	const unsigned char *alpn;
	unsigned alen;
	size_t n;
	int r;

	if (t->fatal)
		return (-EPROTO);
	tls_used(c, t);
	r = tls_call(t, TLS_HANDSHAKE, NULL, 0, &n, &t->hs_ev);
	if (r == -EAGAIN)
		return (r);
	if (r == 0) {
		t->open = true;
		SSL_get0_alpn_selected(t->ssl, &alpn, &alen);
		log_msg(LG_DEBUG, SEC_COMM, "conn fd %d: %s %s%s, ALPN "
		    "'%.*s'", c->fd, SSL_get_version(t->ssl),
		    SSL_get_cipher_name(t->ssl),
		    SSL_session_reused(t->ssl) ? ", resumed" : "",
		    (int)alen, alen > 0 ? (const char *)alpn : "");
		return (0);
	}
	t->fatal = true;
	log_msg(LG_DEBUG, SEC_COMM, "conn fd %d: TLS handshake: %s", c->fd,
	    r == TLS_CUT || r == TLS_EOF ? "closed by the peer" :
	    t->error != 0 ? ERR_reason_error_string(t->error) :
	    strerror(-r));
	return (r == TLS_CUT || r == TLS_EOF ? -ECONNRESET : r);
}

static ssize_t
tls_recv(struct comm_conn *c, void *p, size_t len)
{
	struct comm_tls *t = tls_of(c);
	size_t n;
	int r;

	if (t->rd_end == 0 && t->fatal)
		t->rd_end = -EPROTO;
	if (t->rd_end != 0)
		return (t->rd_end < 0 ? t->rd_end : 0);
	tls_used(c, t);
	r = tls_call(t, TLS_READ, p, len, &n, &t->rd_ev);
	if (r == 0) {
		t->starved = false;
		t->rd_ev = EV_READ;
		return ((ssize_t)n);
	}
	if (r == -EAGAIN) {
		/* What OpenSSL holds is not enough, or it must write
		 * first: wait for the socket, for what it said. */
		t->starved = true;
		comm_conn_rewatch(c);
		return (r);
	}
	t->rd_end = r;
	if (r == TLS_CUT)
		log_msg(LG_DEBUG, SEC_COMM, "conn fd %d: TLS EOF without "
		    "close_notify", c->fd);
	return (r > 0 ? 0 : r);
}

/* The slices from i on that may be coalesced (each below TLS_COPY_MAX),
 * up to one record: their bytes, and in *nslices how many they span. */
static size_t
tls_run(const struct iovec *iov, int iovcnt, int i, int *nslices)
{
	size_t sum = 0;

	*nslices = 0;
	for (; i < iovcnt && sum < TLS_RECORD; i++) {
		if (iov[i].iov_len >= TLS_COPY_MAX)
			break;
		sum += iov[i].iov_len;
		(*nslices)++;
	}
	return (sum < TLS_RECORD ? sum : TLS_RECORD);
}

static void
tls_stage(struct comm_tls *t, const struct iovec *iov, int i, size_t len)
{
	size_t k;

	for (; len > 0; i++, len -= k) {
		k = iov[i].iov_len < len ? iov[i].iov_len : len;
		buf_append(t->stage, iov[i].iov_base, k);
	}
}

static ssize_t
tls_sendv(struct comm_conn *c, const struct iovec *iov, int iovcnt)
{
	struct comm_tls *t = tls_of(c);
	const unsigned char *p;
	size_t total = 0, off = 0, len, n;
	int i = 0, run, r;
	bool staged;

	if (t->werr == 0)
		tls_used(c, t);
	while (t->werr == 0 && i < iovcnt) {
		if (iov[i].iov_len == off) {
			i++;
			off = 0;
			continue;
		}
		p = (const unsigned char *)iov[i].iov_base + off;
		staged = false;
		if (t->pend_len > 0) {
			/* The write that waited, again: its bytes must
			 * still lead the queue.  They do not after
			 * comm_cancel_writes() cut it: the record is half
			 * out, nothing can follow it on this stream. */
			if (p != t->pend) {
				t->werr = EPIPE;
				break;
			}
			len = t->pend_len;
			if (t->stage != NULL) {
				p = t->stage->data;
				staged = true;
			}
		} else {
			/* The rest of a slice that went out in part here
			 * was a large one: never copied. */
			run = 0;
			if (off == 0)
				len = tls_run(iov, iovcnt, i, &run);
			if (run > 1 && t->stage == NULL)
				t->stage = buf_alloc(c->loop->pool,
				    TLS_RECORD);
			if (run > 1 && t->stage != NULL) {
				tls_stage(t, iov, i, len);
				c->loop->st.tls_copied += len;
				p = t->stage->data;
				staged = true;
			} else
				len = iov[i].iov_len - off;
		}
		r = tls_call(t, TLS_WRITE, (void *)(uintptr_t)p, len, &n,
		    &t->wr_ev);
		if (r == -EAGAIN) {
			t->pend = (const unsigned char *)iov[i].iov_base + off;
			t->pend_len = len;
			break;
		}
		t->pend_len = 0;
		buf_unref(&t->stage);
		if (r != 0) {
			t->werr = r < 0 ? -r : EPIPE;
			break;
		}
		t->wr_ev = EV_WRITE;
		if (!staged)
			c->loop->st.tls_direct += n;
		total += n;
		/* Move the cursor n bytes on, across slices. */
		while (n > 0) {
			len = iov[i].iov_len - off;
			if (n < len) {
				off += n;
				n = 0;
			} else {
				n -= len;
				i++;
				off = 0;
			}
		}
	}
	if (total > 0)
		return ((ssize_t)total);
	return (t->werr != 0 ? -t->werr : -EAGAIN);
}

static size_t
tls_readable(struct comm_conn *c)
{
	struct comm_tls *t = tls_of(c);
	int n = 0;

	/* Plaintext is never more than the ciphertext it came in. */
	if (ioctl(c->fd, FIONREAD, &n) == -1 || n < 0)
		n = 0;
	if (SSL_pending(t->ssl) + n == 0)
		return (COMM_READ_DEFAULT);	/* unknown: an alert, EOF */
	return ((size_t)SSL_pending(t->ssl) + (size_t)n);
}

static int
tls_shutdown(struct comm_conn *c)
{
	struct comm_tls *t = tls_of(c);
	size_t n;
	int r = 0;

	/* close_notify says the stream ended where it was meant to: not
	 * after a failure, nor behind a record cut by a cancel. */
	if (t->open && !t->fatal && t->werr == 0 && t->pend_len == 0) {
		tls_used(c, t);
		r = tls_call(t, TLS_SHUTDOWN, NULL, 0, &n, &t->wr_ev);
		if (r == -EAGAIN)
			return (r);
		if (r > 0)
			r = -EPIPE;
	}
	if (shutdown(c->fd, SHUT_WR) == -1 && r == 0)
		r = -errno;
	return (r);
}

static void
tls_close(struct comm_conn *c)
{
	struct comm_tls *t = tls_of(c);

	comm_call_cancel(&t->resume);
	if (list_linked(&t->busy)) {
		list_remove(&t->busy);
		if (list_empty(&c->loop->tls_busy))
			comm_timer_stop(c->loop->tls_sweep);
	}
	buf_unref(&t->stage);
	/* A connection closed without close_notify but without a fault
	 * either (an idle keep-alive one) leaves its session resumable:
	 * OpenSSL would otherwise drop it from the caches as bad. */
	if (t->open && !t->fatal)
		SSL_set_shutdown(t->ssl, SSL_SENT_SHUTDOWN |
		    SSL_RECEIVED_SHUTDOWN);
	SSL_free(t->ssl);
	c->xprt = &comm_xprt_raw;
	c->xprt_ctx = NULL;
	FREE_OBJ(t);
}

static const struct comm_xprt comm_xprt_tls = {
	.name = "tls",
	.recv = tls_recv,
	.sendv = tls_sendv,
	.readable = tls_readable,
	.shutdown = tls_shutdown,
	.close = tls_close,
	.watch = tls_watch,
	.handshake = tls_handshake,
};

int
comm_tls_start(struct comm_conn *c, SSL *ssl, double timeout,
    comm_done_fn *done, void *arg)
{
	struct comm_tls *t;
	struct comm_wop *w;

	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	AN(ssl);
	AN(done);
	CHECK(timeout >= 0);
	CHECK(c->xprt == &comm_xprt_raw);
	CHECK(!(c->flags & CONN_CONNECTING) && c->cn == NULL);
	CHECK(list_empty(&c->wq) && c->rd.state == COMM_OP_IDLE);
	if (c->loop->tls_sweep == NULL &&
	    (c->loop->tls_sweep = comm_timer_new(c->loop, tls_sweep,
	    c->loop)) == NULL)
		return (-ENOMEM);
	w = comm_wop_get(c->loop);
	if (w == NULL)
		return (-ENOMEM);
	buf_chain_init(&w->chain, c->loop->pool);
	w->idx = 0;
	w->skip = 0;
	w->pinned = 0;
	if ((c->flags & CONN_CLOSING) || c->fd == -1) {
		/* Nothing to run the handshake on: the op fails as any
		 * other started now would, and ssl goes. */
		comm_op_start(c, &w->op, COMM_OP_CONNECT, done, arg);
		comm_op_finish(&w->op, c->flags & CONN_CLOSING ?
		    COMM_CANCELLED : COMM_ERROR, ENOTCONN);
		SSL_free(ssl);
		return (0);
	}
	ALLOC_OBJ(t, COMM_TLS_MAGIC);
	if (t == NULL) {
		comm_wop_put(c->loop, w);
		return (-ENOMEM);
	}
	ERR_clear_error();
	if (SSL_set_fd(ssl, c->fd) != 1) {
		ERR_clear_error();
		comm_wop_put(c->loop, w);
		FREE_OBJ(t);
		return (-ENOMEM);
	}
	t->ssl = ssl;
	t->conn = c;
	comm_call_init(&t->resume, tls_resume);
	list_init(&t->busy);
	/* The first step runs once writable, from the loop: a client's
	 * ClientHello goes at once, a server learns it must read. */
	t->hs_ev = EV_WRITE;
	t->rd_ev = EV_READ;
	t->wr_ev = EV_WRITE;
	comm_conn_set_xprt(c, &comm_xprt_tls, t);
	c->cn = w;
	comm_op_start(c, &w->op, COMM_OP_CONNECT, done, arg);
	c->flags |= CONN_CONNECTING;
	/* The connect deadline is t_start + to[CONNECT]: the handshake's
	 * starts now. */
	c->to[COMM_TO_CONNECT] = timeout > 0 ? (float)(comm_loop_now(c->loop) -
	    c->t_start + timeout) : 0;
	comm_conn_watch(c, EV_WRITE, true);
	comm_conn_timer_update(c);
	return (0);
}

SSL *
comm_tls_ssl(const struct comm_conn *c)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	return (c->xprt == &comm_xprt_tls ? tls_of(c)->ssl : NULL);
}

unsigned long
comm_tls_error(const struct comm_conn *c)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	return (c->xprt == &comm_xprt_tls ? tls_of(c)->error : 0);
}

bool
comm_tls_cut(const struct comm_conn *c)
{
	CHECK_OBJ_NOTNULL(c, COMM_CONN_MAGIC);
	return (c->xprt == &comm_xprt_tls && tls_of(c)->rd_end == TLS_CUT);
}
