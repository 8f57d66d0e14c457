/*
 * check_tls.c - unit tests for TLS: contexts and SSL objects (src/tls/)
 * and the TLS transport under the comm contract (src/comm/comm_tls.c).
 *
 * A test CA and certificates are made when the program starts
 * (tls_certs.sh, with the openssl command), so nothing committed can
 * expire.  A client and a server connection talk over loopback TCP in one
 * private loop per test; a raw peer stands in for a misbehaving side.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/sockios.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "base/check.h"
#include "buf/buf.h"
#include "comm/comm.h"
#include "tls/tls.h"
#include "comm_test.h"

static char certdir[PATH_MAX];

static const char *
cert(const char *name)
{
	static char path[4][PATH_MAX + 32];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof path[i], "%s/%s", certdir, name);
	return (path[i]);
}

/* --- fixtures ------------------------------------------------------------ */

static struct comm_loop *loop;
static struct tls_ctx *cctx, *sctx;
static struct comm_conn *cli, *srv;
static int fds[2];

static struct tls_ctx *
client_ctx(unsigned flags, bool ca)
{
	struct tls_options o;
	struct tls_ctx *t;
	char err[256];

	memset(&o, 0, sizeof o);
	o.cafile = ca ? cert("ca.pem") : NULL;
	o.no_default_ca = true;
	o.flags = flags;
	ck_assert_msg(tls_ctx_client_new(&o, &t, err, sizeof err) == 0,
	    "%s", err);
	return (t);
}

static struct tls_ctx *
server_ctx(const char *crt, const char *key)
{
	struct tls_options o;
	struct tls_ctx *t;
	char err[256];

	memset(&o, 0, sizeof o);
	o.cert = cert(crt);
	o.key = cert(key);
	ck_assert_msg(tls_ctx_server_new(&o, &t, err, sizeof err) == 0,
	    "%s", err);
	return (t);
}

/* A loop and a loopback TCP pair under comm; sndbuf as tcp_pair(). */
static void
setup_pair(int sndbuf)
{
	loop = comm_loop_new();
	ck_assert_ptr_nonnull(loop);
	tcp_pair(fds, sndbuf, 0);
	cli = comm_conn_new(loop, fds[0]);
	srv = comm_conn_new(loop, fds[1]);
	ck_assert_ptr_nonnull(cli);
	ck_assert_ptr_nonnull(srv);
}

/* A loop, comm on fds[0] (as `which`), and a raw peer on fds[1]. */
static struct comm_conn *
setup_raw_peer(void)
{
	struct comm_conn *c;

	loop = comm_loop_new();
	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	c = comm_conn_new(loop, fds[0]);
	ck_assert_ptr_nonnull(c);
	return (c);
}

static void
start_client(struct comm_conn *c, const char *host, struct rec *r)
{
	SSL *ssl = tls_client_new(cctx, host, 443);

	ck_assert_ptr_nonnull(ssl);
	test_inside_call = true;
	ck_assert_int_eq(comm_tls_start(c, ssl, 10, rec_done, r), 0);
	test_inside_call = false;
}

static void
start_server(struct comm_conn *c, double timeout, struct rec *r)
{
	SSL *ssl = tls_server_new(sctx);

	ck_assert_ptr_nonnull(ssl);
	test_inside_call = true;
	ck_assert_int_eq(comm_tls_start(c, ssl, timeout, rec_done, r), 0);
	test_inside_call = false;
}

/* Both ends' handshakes, to completion. */
static void
handshake(const char *host, struct rec *rc, struct rec *rs)
{
	start_client(cli, host, rc);
	start_server(srv, 10, rs);
	RUN_UNTIL(loop, rc->calls > 0 && rs->calls > 0);
}

/* Close what is open, then everything must be gone: connections, ops,
 * blocks, pins. */
static void
finish(void)
{
	struct buf_pool_stats ps;

	comm_close(&cli);
	comm_close(&srv);
	RUN_UNTIL(loop, loop_stats(loop).conns == 0);
	ps = pool_stats(loop);
	ck_assert_uint_eq(ps.pinned, 0);
	ck_assert_uint_eq(ps.pages, 0);
	ck_assert_uint_eq(loop_stats(loop).ops, 0);
	tls_ctx_free(&cctx);
	tls_ctx_free(&sctx);
	comm_loop_free(&loop);
}

/* Run until cond or `secs` of wall time passed; true if cond. */
#define RUN_WITHIN(loop, secs, cond)	({				\
	double end_ = mono_now() + (secs);				\
	while (!(cond) && mono_now() < end_)				\
		comm_loop_run_once(loop);				\
	(bool)(cond);							\
})

/* --- reading everything ------------------------------------------------- */

struct sink {
	size_t			got;
	size_t			want;
	bool			bad;	/* a byte differed from pattern */
	bool			eof;
	int			reads;
	enum comm_status	last;
	size_t			max;	/* per read */
};

static unsigned char
pattern(size_t i)
{
	return ((unsigned char)(i * 7 + i / 251));
}

static void	sink_read(struct comm_conn *c, struct sink *s);

static void
sink_done(struct comm_conn *c, const struct comm_result *res, void *arg)
{
	struct sink *s = arg;
	const unsigned char *p;
	uint32_t i;

	ck_assert_msg(!test_inside_call, "completion ran inside its call");
	s->reads++;
	s->last = res->status;
	if (res->status != COMM_OK) {
		s->eof = res->status == COMM_EOF;
		return;
	}
	p = buf_slice_ptr(&res->data);
	for (i = 0; i < res->data.len; i++)
		if (p[i] != pattern(s->got + i))
			s->bad = true;
	s->got += res->data.len;
	if (s->got < s->want)
		sink_read(c, s);
}

static void
sink_read(struct comm_conn *c, struct sink *s)
{
	struct buf *b = NULL;

	if (s->max != 0) {
		b = buf_alloc(comm_loop_pool(comm_conn_loop(c)), s->max);
		ck_assert_ptr_nonnull(b);
	}
	test_inside_call = true;
	comm_read(c, b, s->max, sink_done, s);
	test_inside_call = false;
	buf_unref(&b);
}

/* n bytes of the pattern from `from` on, as slices: a small one (copied
 * into its own block) every so often, the rest from blocks of `big`
 * bytes, referenced. */
static void
chain_pattern(struct buf_chain *ch, size_t from, size_t n, size_t big,
    size_t small_every)
{
	struct buf_pool *pool = comm_loop_pool(loop);
	struct buf *b;
	size_t i, k, slice = 0;
	unsigned char tmp[64];

	buf_chain_init(ch, pool);
	for (i = from; i < from + n; i += k, slice++) {
		if (small_every != 0 && slice % small_every < 4) {
			k = 1 + slice % 60;
			if (k > from + n - i)
				k = from + n - i;
			for (size_t j = 0; j < k; j++)
				tmp[j] = pattern(i + j);
			b = buf_alloc(pool, k);
			ck_assert_ptr_nonnull(b);
			buf_append(b, tmp, k);
		} else {
			k = big < from + n - i ? big : from + n - i;
			b = buf_alloc(pool, k);
			ck_assert_ptr_nonnull(b);
			for (size_t j = 0; j < k; j++)
				b->data[j] = pattern(i + j);
			b->fill = (uint32_t)k;
		}
		ck_assert_int_eq(buf_chain_append_slice(ch, b, 0,
		    (uint32_t)k), 0);
		buf_unref(&b);
	}
}

/* --- the handshake ------------------------------------------------------- */

START_TEST(handshake_completes_once_verified_with_alpn)
{
	struct rec rc = { 0 }, rs = { 0 }, rw = { 0 }, rr = { 0 };
	struct buf_chain ch;
	const unsigned char *alpn;
	unsigned alen;

	setup_pair(0);
	cctx = client_ctx(0, true);
	sctx = server_ctx("server.pem", "server.key");
	ck_assert_ptr_null(comm_tls_ssl(cli));
	ck_assert(!comm_tls_cut(cli));
	start_client(cli, "localhost", &rc);
	start_server(srv, 10, &rs);
	/* Queued during the handshake: they wait for it. */
	chain_of(&ch, loop, "hello over TLS");
	comm_writev(cli, &ch, rec_done, &rw);
	buf_chain_fini(&ch);
	comm_read(srv, NULL, 0, rec_done, &rr);
	ck_assert_int_eq(rc.calls + rs.calls + rw.calls + rr.calls, 0);
	RUN_UNTIL(loop, rr.calls > 0);
	ck_assert_int_eq(rc.calls, 1);
	ck_assert_int_eq(rs.calls, 1);
	ck_assert_int_eq(rc.status, COMM_OK);
	ck_assert_int_eq(rs.status, COMM_OK);
	ck_assert(rc.at < rw.at && rs.at < rr.at);
	ck_assert_int_eq(rw.status, COMM_OK);
	ck_assert_int_eq(rr.status, COMM_OK);
	ck_assert_str_eq(rr.data, "hello over TLS");
	ck_assert_int_eq(SSL_get_verify_result(comm_tls_ssl(cli)), X509_V_OK);
	SSL_get0_alpn_selected(comm_tls_ssl(cli), &alpn, &alen);
	ck_assert_int_eq(alen, 8);
	ck_assert(memcmp(alpn, "http/1.1", 8) == 0);
	ck_assert_int_ge(SSL_version(comm_tls_ssl(srv)), TLS1_2_VERSION);
	finish();
}
END_TEST

/* https_port prefers TLS_AES_128_GCM_SHA256 for TLS 1.3 whatever the
 * client's order (OpenSSL's own puts AES-256-GCM-SHA384 first). */
START_TEST(server_prefers_aes128_gcm)
{
	struct rec rc = { 0 }, rs = { 0 };

	setup_pair(0);
	cctx = client_ctx(0, true);
	sctx = server_ctx("server.pem", "server.key");
	handshake("localhost", &rc, &rs);
	ck_assert_int_eq(SSL_version(comm_tls_ssl(srv)), TLS1_3_VERSION);
	ck_assert_str_eq(SSL_get_cipher_name(comm_tls_ssl(srv)),
	    "TLS_AES_128_GCM_SHA256");
	finish();
}
END_TEST

START_TEST(handshake_timeout_completes_once)
{
	struct rec rs = { 0 };

	srv = setup_raw_peer();
	sctx = server_ctx("server.pem", "server.key");
	start_server(srv, 5, &rs);
	RUN_WITHIN(loop, 0.2, rs.calls > 0);
	ck_assert_int_eq(rs.calls, 0);
	comm_loop_warp(loop, 6);
	RUN_UNTIL(loop, rs.calls > 0);
	ck_assert_int_eq(rs.status, COMM_TIMEOUT);
	run_for(loop, 0.05);
	ck_assert_int_eq(rs.calls, 1);
	close(fds[1]);
	finish();
}
END_TEST

START_TEST(handshake_cancelled_by_close_once)
{
	struct rec rs = { 0 };

	srv = setup_raw_peer();
	sctx = server_ctx("server.pem", "server.key");
	start_server(srv, 5, &rs);
	comm_loop_run_once(loop);
	comm_close(&srv);
	RUN_UNTIL(loop, rs.calls > 0);
	ck_assert_int_eq(rs.status, COMM_CANCELLED);
	close(fds[1]);
	finish();
}
END_TEST

/* A real first flight, made in memory: the ClientHello, or (server) the
 * server's answer to one. */
static size_t
first_flight(bool server, unsigned char *out, size_t max)
{
	SSL_CTX *cx, *sx = NULL;
	SSL *c, *s = NULL;
	BIO *c_in, *c_out, *s_in, *s_out;
	size_t n;
	char buf[8192];
	int k;

	cx = SSL_CTX_new(TLS_client_method());
	c = SSL_new(cx);
	c_in = BIO_new(BIO_s_mem());
	c_out = BIO_new(BIO_s_mem());
	SSL_set_bio(c, c_in, c_out);
	SSL_set_tlsext_host_name(c, "localhost");
	ck_assert_int_le(SSL_connect(c), 0);
	k = BIO_read(c_out, buf, sizeof buf);
	ck_assert_int_gt(k, 0);
	if (server) {
		sx = SSL_CTX_new(TLS_server_method());
		ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(sx,
		    cert("server.pem")), 1);
		ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(sx,
		    cert("server.key"), SSL_FILETYPE_PEM), 1);
		s = SSL_new(sx);
		s_in = BIO_new(BIO_s_mem());
		s_out = BIO_new(BIO_s_mem());
		SSL_set_bio(s, s_in, s_out);
		BIO_write(s_in, buf, k);
		ck_assert_int_le(SSL_accept(s), 0);
		k = BIO_read(s_out, buf, sizeof buf);
		ck_assert_int_gt(k, 0);
	}
	n = (size_t)k < max ? (size_t)k : max;
	memcpy(out, buf, n);
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cx);
	SSL_CTX_free(sx);
	return (n);
}

/* Each side, fed its peer's first flight cut at every byte (then EOF),
 * or garbage: ERROR once, nothing left behind. */
static void
handshake_cut(bool server_side)
{
	unsigned char flight[8192];
	struct rec r;
	size_t n, k, last;

	n = first_flight(!server_side, flight, sizeof flight);
	ck_assert_uint_gt(n, 100);
	/* The server's flight whole too: it answers another ClientHello. */
	last = server_side ? n - 1 : n;
	for (k = 0; k <= last; k++) {
		memset(&r, 0, sizeof r);
		if (server_side) {
			srv = setup_raw_peer();
			sctx = server_ctx("server.pem", "server.key");
			start_server(srv, 10, &r);
		} else {
			cli = setup_raw_peer();
			cctx = client_ctx(0, true);
			start_client(cli, "localhost", &r);
		}
		ck_assert_int_eq(write(fds[1], flight, k), (ssize_t)k);
		shutdown(fds[1], SHUT_WR);
		RUN_UNTIL(loop, r.calls > 0);
		ck_assert_msg(r.status == COMM_ERROR, "cut at %zu: %s", k,
		    comm_status_name(r.status));
		ck_assert(r.err == EPROTO || r.err == ECONNRESET);
		run_for(loop, 0.001);
		ck_assert_int_eq(r.calls, 1);
		close(fds[1]);
		finish();
	}
}

START_TEST(server_handshake_cut_at_every_byte_fails_once)
{
	handshake_cut(true);
}
END_TEST

START_TEST(client_handshake_cut_at_every_byte_fails_once)
{
	handshake_cut(false);
}
END_TEST

START_TEST(garbage_instead_of_client_hello_fails_once)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct rec rs = { 0 };

	srv = setup_raw_peer();
	sctx = server_ctx("server.pem", "server.key");
	start_server(srv, 10, &rs);
	ck_assert_int_eq(write(fds[1], req, sizeof req - 1),
	    (ssize_t)sizeof req - 1);
	RUN_UNTIL(loop, rs.calls > 0);
	ck_assert_int_eq(rs.status, COMM_ERROR);
	ck_assert_int_eq(rs.err, EPROTO);
	ck_assert_uint_ne(comm_tls_error(srv), 0);
	run_for(loop, 0.01);
	ck_assert_int_eq(rs.calls, 1);
	close(fds[1]);
	finish();
}
END_TEST

/* --- verification -------------------------------------------------------- */

static long
verify_failure(const char *crt, const char *key, const char *host,
    unsigned flags, bool ca, enum comm_status *st)
{
	struct rec rc = { 0 }, rs = { 0 };
	long v;

	setup_pair(0);
	cctx = client_ctx(flags, ca);
	sctx = server_ctx(crt, key);
	handshake(host, &rc, &rs);
	*st = rc.status;
	if (rc.status == COMM_ERROR) {
		ck_assert_int_eq(rc.err, EPROTO);
		ck_assert_uint_ne(comm_tls_error(cli), 0);
	}
	v = SSL_get_verify_result(comm_tls_ssl(cli));
	RUN_UNTIL(loop, rs.calls > 0);
	ck_assert_int_eq(rc.calls, 1);
	finish();
	return (v);
}

START_TEST(verify_wrong_name_fails)
{
	enum comm_status st;
	long v;

	v = verify_failure("server.pem", "server.key", "wrong.example", 0,
	    true, &st);
	ck_assert_int_eq(st, COMM_ERROR);
	ck_assert_int_eq(v, X509_V_ERR_HOSTNAME_MISMATCH);
	ck_assert_str_eq(tls_verify_name(v), "X509_V_ERR_HOSTNAME_MISMATCH");
}
END_TEST

START_TEST(verify_self_signed_fails)
{
	enum comm_status st;
	long v;

	v = verify_failure("self.pem", "self.key", "localhost", 0, true, &st);
	ck_assert_int_eq(st, COMM_ERROR);
	ck_assert_int_eq(v, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
}
END_TEST

START_TEST(verify_untrusted_ca_fails)
{
	enum comm_status st;
	long v;

	v = verify_failure("server.pem", "server.key", "localhost", 0, false,
	    &st);
	ck_assert_int_eq(st, COMM_ERROR);
	ck_assert_int_eq(v, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}
END_TEST

/* Dates: both by the trusted CA, made with `openssl ca -startdate
 * -enddate` (tls_certs.sh). */
START_TEST(verify_expired_fails)
{
	enum comm_status st;
	long v;

	v = verify_failure("expired.pem", "expired.key", "localhost", 0,
	    true, &st);
	ck_assert_int_eq(st, COMM_ERROR);
	ck_assert_int_eq(v, X509_V_ERR_CERT_HAS_EXPIRED);
	ck_assert_str_eq(tls_verify_name(v), "X509_V_ERR_CERT_HAS_EXPIRED");
}
END_TEST

START_TEST(verify_not_yet_valid_fails)
{
	enum comm_status st;
	long v;

	v = verify_failure("future.pem", "future.key", "localhost", 0,
	    true, &st);
	ck_assert_int_eq(st, COMM_ERROR);
	ck_assert_int_eq(v, X509_V_ERR_CERT_NOT_YET_VALID);
	ck_assert_str_eq(tls_verify_name(v), "X509_V_ERR_CERT_NOT_YET_VALID");
}
END_TEST

START_TEST(verify_ip_and_flags)
{
	enum comm_status st;

	/* An IP literal is checked against the certificate's addresses. */
	ck_assert_int_eq(verify_failure("server.pem", "server.key",
	    "127.0.0.1", 0, true, &st), X509_V_OK);
	ck_assert_int_eq(st, COMM_OK);
	ck_assert_int_eq(verify_failure("server.pem", "server.key",
	    "127.0.0.2", 0, true, &st), X509_V_ERR_IP_ADDRESS_MISMATCH);
	ck_assert_int_eq(st, COMM_ERROR);
	ck_assert_int_eq(verify_failure("server.pem", "server.key",
	    "wrong.example", TLS_DONT_VERIFY_DOMAIN, true, &st), X509_V_OK);
	ck_assert_int_eq(st, COMM_OK);
	verify_failure("self.pem", "self.key", "x", TLS_DONT_VERIFY_PEER,
	    false, &st);
	ck_assert_int_eq(st, COMM_OK);
}
END_TEST

START_TEST(key_must_match_certificate)
{
	struct tls_options o;
	struct tls_ctx *t = NULL;
	char err[512];

	memset(&o, 0, sizeof o);
	o.cert = cert("server.pem");
	o.key = cert("other.key");
	ck_assert_int_eq(tls_ctx_server_new(&o, &t, err, sizeof err),
	    -EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(err, "does not match certificate") != NULL &&
	    strstr(err, "other.key") != NULL, "%s", err);
	o.key = cert("missing.key");
	ck_assert_int_eq(tls_ctx_server_new(&o, &t, err, sizeof err),
	    -EINVAL);
	ck_assert_msg(strstr(err, "cannot load key") != NULL, "%s", err);
	o.key = NULL;
	o.cert = NULL;
	ck_assert_int_eq(tls_ctx_server_new(&o, &t, err, sizeof err),
	    -EINVAL);
	ck_assert_int_eq(ERR_peek_error(), 0);
}
END_TEST

/* Squid's options= names: NO_TLSv1_3 leaves TLS 1.2, NO_TICKET no
 * tickets; an unknown name is refused with its name. */
START_TEST(server_options_squid_names)
{
	struct rec rc = { 0 }, rs = { 0 };
	struct tls_options o;
	char err[512];

	memset(&o, 0, sizeof o);
	o.cert = cert("server.pem");
	o.key = cert("server.key");
	o.options = "NO_SSLv3:NO_TLSv1,frobnicate";
	ck_assert_int_eq(tls_ctx_server_new(&o, &sctx, err, sizeof err),
	    -EINVAL);
	ck_assert_ptr_null(sctx);
	ck_assert_msg(strstr(err, "\"frobnicate\"") != NULL, "%s", err);
	o.options = "NO_TLSv1_3,NO_TICKET:SINGLE_DH_USE";
	ck_assert_int_eq(tls_ctx_server_new(&o, &sctx, err, sizeof err), 0);
	setup_pair(0);
	cctx = client_ctx(0, true);
	start_client(cli, "localhost", &rc);
	start_server(srv, 10, &rs);
	RUN_UNTIL(loop, rc.calls > 0 && rs.calls > 0);
	ck_assert_int_eq(rc.status, COMM_OK);
	ck_assert_int_eq(rs.status, COMM_OK);
	ck_assert_int_eq(SSL_version(comm_tls_ssl(srv)), TLS1_2_VERSION);
	ck_assert(SSL_get_options(comm_tls_ssl(srv)) & SSL_OP_NO_TICKET);
	finish();
}
END_TEST

/* --- reads and writes ---------------------------------------------------- */

START_TEST(large_vectored_write_arrives_intact)
{
	struct rec rc = { 0 }, rs = { 0 }, rw[3];
	struct sink s = { 0 };
	struct buf_chain ch;
	size_t total = 6u << 20, part = total / 3, i;
	struct comm_loop_stats ls;

	setup_pair(65536);
	cctx = client_ctx(0, true);
	sctx = server_ctx("server.pem", "server.key");
	handshake("localhost", &rc, &rs);
	/* Three writes of many slices: runs of 4 small ones between
	 * runs of blocks of 20000 bytes, so that records are both
	 * coalesced and direct. */
	memset(rw, 0, sizeof rw);
	for (i = 0; i < 3; i++) {
		chain_pattern(&ch, i * part, part, 20000, 8);
		test_inside_call = true;
		comm_writev(cli, &ch, rec_done, &rw[i]);
		test_inside_call = false;
		buf_chain_fini(&ch);
	}
	/* close_notify once all is out, however long that takes. */
	comm_shutdown_write(cli);
	s.want = total + 1;
	sink_read(srv, &s);
	RUN_UNTIL(loop, s.last != COMM_OK);
	RUN_UNTIL(loop, rw[2].calls > 0);
	ck_assert_uint_eq(s.got, total);
	ck_assert(!s.bad);
	ck_assert(s.eof);
	ck_assert(!comm_tls_cut(srv));
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(rw[i].calls, 1);
		ck_assert_int_eq(rw[i].status, COMM_OK);
		ck_assert_uint_eq(rw[i].len, part);
		if (i > 0)
			ck_assert(rw[i - 1].at < rw[i].at);
	}
	ls = loop_stats(loop);
	ck_assert_uint_eq(ls.tls_copied + ls.tls_direct, total);
	ck_assert_uint_gt(ls.tls_copied, 0);
	ck_assert_uint_lt(ls.tls_copied, total / 50);
	finish();
}
END_TEST

START_TEST(pages_are_encrypted_without_copying)
{
	struct rec rc = { 0 }, rs = { 0 }, rh = { 0 }, rb = { 0 };
	struct sink s = { 0 };
	struct buf_chain ch;
	struct buf_pool_stats before, after;
	size_t total = 1u << 20;

	setup_pair(0);
	cctx = client_ctx(0, true);
	sctx = server_ctx("server.pem", "server.key");
	handshake("localhost", &rc, &rs);
	/* A hit: a header section, then the body's pages (16 KiB). */
	chain_pattern(&ch, 0, 300, 300, 0);
	comm_writev(srv, &ch, rec_done, &rh);
	buf_chain_fini(&ch);
	chain_pattern(&ch, 300, total, 16384, 0);
	buf_pool_stats(comm_loop_pool(loop), &before);
	comm_writev(srv, &ch, rec_done, &rb);
	buf_chain_fini(&ch);
	s.want = total + 300;
	sink_read(cli, &s);
	RUN_UNTIL(loop, rb.calls > 0 && (s.got >= s.want ||
	    s.last != COMM_OK));
	ck_assert_uint_eq(s.got, s.want);
	ck_assert(!s.bad);
	ck_assert_int_eq(rb.status, COMM_OK);
	ck_assert_uint_eq(loop_stats(loop).tls_copied, 0);
	ck_assert_uint_eq(loop_stats(loop).tls_direct, total + 300);
	buf_pool_stats(comm_loop_pool(loop), &after);
	ck_assert_uint_eq(after.copied, before.copied);
	finish();
}
END_TEST

START_TEST(close_cancels_write_midway_and_unpins)
{
	struct rec rc = { 0 }, rs = { 0 }, rw = { 0 };
	struct buf_chain ch;
	size_t total = 8u << 20;
	uint64_t out0;

	setup_pair(16384);
	cctx = client_ctx(0, true);
	sctx = server_ctx("server.pem", "server.key");
	handshake("localhost", &rc, &rs);
	out0 = loop_stats(loop).bytes_out;
	chain_pattern(&ch, 0, total, 65536, 5);
	comm_writev(cli, &ch, rec_done, &rw);
	buf_chain_fini(&ch);
	/* The server reads nothing: the write stalls part-way. */
	RUN_UNTIL(loop, conn_stats(cli).write_armed &&
	    loop_stats(loop).bytes_out > out0);
	ck_assert_uint_gt(pool_stats(loop).pinned, 0);
	ck_assert_int_eq(rw.calls, 0);
	comm_close(&cli);
	ck_assert_int_eq(rw.calls, 0);
	RUN_UNTIL(loop, rw.calls > 0);
	ck_assert_int_eq(rw.status, COMM_CANCELLED);
	ck_assert_uint_gt(rw.len, 0);
	ck_assert_uint_lt(rw.len, total);
	ck_assert_uint_eq(pool_stats(loop).pinned, 0);
	run_for(loop, 0.02);
	ck_assert_int_eq(rw.calls, 1);
	finish();
}
END_TEST

START_TEST(write_after_a_cancel_mid_record_fails)
{
	struct rec rc = { 0 }, rs = { 0 }, rw = { 0 }, r2 = { 0 };
	struct sink s = { 0 };
	struct buf_chain ch;
	size_t total = 8u << 20;

	setup_pair(16384);
	cctx = client_ctx(0, true);
	sctx = server_ctx("server.pem", "server.key");
	handshake("localhost", &rc, &rs);
	chain_pattern(&ch, 0, total, 65536, 0);
	comm_writev(cli, &ch, rec_done, &rw);
	buf_chain_fini(&ch);
	RUN_UNTIL(loop, conn_stats(cli).write_armed);
	comm_cancel_writes(cli);
	RUN_UNTIL(loop, rw.calls > 0);
	ck_assert_int_eq(rw.status, COMM_CANCELLED);
	ck_assert_uint_eq(pool_stats(loop).pinned, 0);
	/* A record is half out: nothing may follow it, and the end is
	 * no clean one. */
	chain_of(&ch, loop, "more");
	comm_writev(cli, &ch, rec_done, &r2);
	buf_chain_fini(&ch);
	RUN_UNTIL(loop, r2.calls > 0);
	ck_assert_int_eq(r2.status, COMM_ERROR);
	ck_assert_int_eq(r2.err, EPIPE);
	comm_shutdown_write(cli);
	s.want = total;
	sink_read(srv, &s);
	RUN_UNTIL(loop, s.last != COMM_OK);
	ck_assert(!s.bad);
	ck_assert_uint_lt(s.got, total);
	ck_assert_int_eq(s.last, COMM_EOF);
	ck_assert(comm_tls_cut(srv));
	finish();
}
END_TEST

START_TEST(read_of_held_bytes_resumes_without_an_event)
{
	struct rec rc = { 0 }, rs = { 0 }, rw = { 0 };
	struct sink s = { 0 };
	struct buf_chain ch;

	setup_pair(0);
	cctx = client_ctx(0, true);
	sctx = server_ctx("server.pem", "server.key");
	handshake("localhost", &rc, &rs);
	/* One record of 3000 bytes, read 100 at a time: after the first
	 * read the rest is in OpenSSL, and the socket stays quiet. */
	chain_pattern(&ch, 0, 3000, 3000, 0);
	comm_writev(srv, &ch, rec_done, &rw);
	buf_chain_fini(&ch);
	s.want = 3000;
	s.max = 100;
	sink_read(cli, &s);
	ck_assert_msg(RUN_WITHIN(loop, 2, s.got >= 3000), "stuck at %zu",
	    s.got);
	ck_assert(!s.bad);
	ck_assert_int_eq(s.reads, 30);
	finish();
}
END_TEST

/* The server writes "bye", then ends the stream as `how` says; the
 * client reads the bytes, then EOF. */
static void
stream_end(int how, bool want_cut)
{
	struct rec rc = { 0 }, rs = { 0 }, rw = { 0 }, rr = { 0 }, re = { 0 };
	struct buf_chain ch;

	setup_pair(0);
	cctx = client_ctx(0, true);
	sctx = server_ctx("server.pem", "server.key");
	handshake("localhost", &rc, &rs);
	chain_of(&ch, loop, "bye");
	comm_writev(srv, &ch, rec_done, &rw);
	buf_chain_fini(&ch);
	if (how == 0)
		comm_shutdown_write(srv);
	RUN_UNTIL(loop, rw.calls > 0);
	if (how == 1)
		comm_close(&srv);
	if (how == 2)
		shutdown(comm_conn_fd(srv), SHUT_WR);
	comm_read(cli, NULL, 0, rec_done, &rr);
	RUN_UNTIL(loop, rr.calls > 0);
	ck_assert_int_eq(rr.status, COMM_OK);
	ck_assert_str_eq(rr.data, "bye");
	comm_read(cli, NULL, 0, rec_done, &re);
	RUN_UNTIL(loop, re.calls > 0);
	ck_assert_int_eq(re.status, COMM_EOF);
	ck_assert(comm_tls_cut(cli) == want_cut);
	finish();
}

START_TEST(close_notify_ends_the_stream_cleanly)
{
	stream_end(0, false);
}
END_TEST

START_TEST(eof_without_close_notify_is_cut)
{
	stream_end(1, true);
	stream_end(2, true);
}
END_TEST

/*
 * Closes that owe a close_notify.  An AF_UNIX pair, so that "full" is
 * exact: a send fails with EAGAIN once the bytes queued on the socket
 * (SIOCOUTQ) reach SO_SNDBUF, and the peer reads nothing meanwhile.  The
 * server writes one small record at a time until the next would not go;
 * every write has completed OK, so its close_notify is all that waits.
 */
static size_t
close_with_full_buffer(void)
{
	struct rec rc = { 0 }, rs = { 0 }, rw;
	struct buf_chain ch;
	size_t total = 0;
	int sndbuf = 4096, outq;
	socklen_t len = sizeof sndbuf;

	loop = comm_loop_new();
	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ck_assert_int_eq(setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof sndbuf), 0);
	ck_assert_int_eq(getsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    &len), 0);
	cli = comm_conn_new(loop, fds[0]);
	srv = comm_conn_new(loop, fds[1]);
	cctx = client_ctx(0, true);
	sctx = server_ctx("server.pem", "server.key");
	handshake("localhost", &rc, &rs);
	ck_assert_int_eq(rc.status, COMM_OK);
	ck_assert_int_eq(rs.status, COMM_OK);
	for (;;) {
		ck_assert_int_eq(ioctl(fds[1], SIOCOUTQ, &outq), 0);
		if (outq >= sndbuf)
			break;
		memset(&rw, 0, sizeof rw);
		chain_pattern(&ch, total, 300, 300, 0);
		comm_writev(srv, &ch, rec_done, &rw);
		buf_chain_fini(&ch);
		RUN_UNTIL(loop, rw.calls > 0);
		ck_assert_int_eq(rw.status, COMM_OK);
		total += 300;
	}
	comm_shutdown_write(srv);
	run_for(loop, 0.02);
	/* The close_notify found no room: it waits for the socket. */
	ck_assert(conn_stats(srv).write_armed);
	comm_close(&srv);
	run_for(loop, 0.02);
	ck_assert_uint_eq(loop_stats(loop).conns, 2);
	ck_assert_uint_eq(loop_stats(loop).lingering, 1);
	ck_assert_uint_eq(loop_stats(loop).ops, 0);
	return (total);
}

START_TEST(close_sends_close_notify_behind_a_full_buffer)
{
	struct sink s = { 0 };
	size_t total;

	total = close_with_full_buffer();
	/* The client reads everything, then the close_notify. */
	s.want = total + 1;
	sink_read(cli, &s);
	ck_assert(RUN_WITHIN(loop, 2, s.last != COMM_OK));
	ck_assert(!s.bad);
	ck_assert_uint_eq(s.got, total);
	ck_assert_int_eq(s.last, COMM_EOF);
	ck_assert_msg(!comm_tls_cut(cli), "close_notify was dropped");
	RUN_UNTIL(loop, loop_stats(loop).conns == 1);
	ck_assert_uint_eq(loop_stats(loop).lingering, 0);
	finish();
}
END_TEST

START_TEST(close_waits_for_a_peer_that_never_reads_within_the_bound)
{
	struct sink s = { 0 };
	size_t total;
	double t0;

	total = close_with_full_buffer();
	t0 = mono_now();
	ck_assert(RUN_WITHIN(loop, 5, loop_stats(loop).conns == 1));
	ck_assert_double_lt(mono_now() - t0, 1.5);
	ck_assert_double_gt(mono_now() - t0, 0.5);
	ck_assert_uint_eq(loop_stats(loop).lingering, 0);
	/* The fd went without its close_notify: the stream reads cut. */
	s.want = total + 1;
	sink_read(cli, &s);
	ck_assert(RUN_WITHIN(loop, 2, s.last != COMM_OK));
	ck_assert_uint_eq(s.got, total);
	ck_assert_int_eq(s.last, COMM_EOF);
	ck_assert(comm_tls_cut(cli));
	finish();
}
END_TEST

/* comm_close_clean() on a stream whose writes are done: close_notify;
 * with a write still queued: cancelled, and the stream is cut. */
START_TEST(close_clean_ends_cleanly_or_cuts)
{
	struct rec rc = { 0 }, rs = { 0 }, rw = { 0 }, rr = { 0 }, re = { 0 };
	struct buf_chain ch;
	struct sink s = { 0 };
	int i;

	for (i = 0; i < 2; i++) {
		memset(&rc, 0, sizeof rc);
		memset(&rs, 0, sizeof rs);
		memset(&rw, 0, sizeof rw);
		memset(&rr, 0, sizeof rr);
		memset(&re, 0, sizeof re);
		setup_pair(16384);
		cctx = client_ctx(0, true);
		sctx = server_ctx("server.pem", "server.key");
		handshake("localhost", &rc, &rs);
		if (i == 0) {
			chain_of(&ch, loop, "bye");
			comm_writev(cli, &ch, rec_done, &rw);
			buf_chain_fini(&ch);
			RUN_UNTIL(loop, rw.calls > 0);
			comm_close_clean(&cli);
			comm_read(srv, NULL, 0, rec_done, &rr);
			RUN_UNTIL(loop, rr.calls > 0);
			ck_assert_str_eq(rr.data, "bye");
			comm_read(srv, NULL, 0, rec_done, &re);
			RUN_UNTIL(loop, re.calls > 0);
			ck_assert_int_eq(re.status, COMM_EOF);
			ck_assert(!comm_tls_cut(srv));
		} else {
			chain_pattern(&ch, 0, 8u << 20, 65536, 0);
			comm_writev(cli, &ch, rec_done, &rw);
			buf_chain_fini(&ch);
			RUN_UNTIL(loop, conn_stats(cli).write_armed);
			comm_close_clean(&cli);
			RUN_UNTIL(loop, rw.calls > 0);
			ck_assert_int_eq(rw.status, COMM_CANCELLED);
			s.want = 8u << 20;
			sink_read(srv, &s);
			RUN_UNTIL(loop, s.last != COMM_OK);
			ck_assert_uint_lt(s.got, 8u << 20);
			/* Cut, or reset: the client never read the
			 * session tickets, so its close is an RST. */
			ck_assert(s.last == COMM_ERROR ||
			    (s.last == COMM_EOF && comm_tls_cut(srv)));
		}
		finish();
	}
}
END_TEST

START_TEST(sessions_are_reused_per_origin)
{
	struct rec rc, rs, rw, rr;
	struct buf_chain ch;
	const char *host[3] = { "localhost", "localhost", "x.origin.test" };
	int reused[3], i;
	struct tls_ctx *keep_c, *keep_s;

	keep_c = client_ctx(0, true);
	keep_s = server_ctx("server.pem", "server.key");
	for (i = 0; i < 3; i++) {
		setup_pair(0);
		cctx = keep_c;
		sctx = keep_s;
		memset(&rc, 0, sizeof rc);
		memset(&rs, 0, sizeof rs);
		memset(&rw, 0, sizeof rw);
		memset(&rr, 0, sizeof rr);
		handshake(host[i], &rc, &rs);
		ck_assert_int_eq(rc.status, COMM_OK);
		reused[i] = SSL_session_reused(comm_tls_ssl(cli));
		/* TLS 1.3 tickets come after the handshake: a read
		 * takes them in. */
		chain_of(&ch, loop, "x");
		comm_writev(srv, &ch, rec_done, &rw);
		buf_chain_fini(&ch);
		comm_read(cli, NULL, 0, rec_done, &rr);
		RUN_UNTIL(loop, rr.calls > 0 && rw.calls > 0);
		cctx = NULL;
		sctx = NULL;
		finish();
	}
	ck_assert_int_eq(reused[0], 0);
	ck_assert_int_eq(reused[1], 1);
	ck_assert_int_eq(reused[2], 0);		/* another origin */
	ck_assert_uint_eq(tls_sessions_kept(keep_c), 2);
	tls_ctx_free(&keep_c);
	tls_ctx_free(&keep_s);
}
END_TEST

/* What an idle TLS connection costs, both ends after one exchange, heap
 * measured by mallinfo2() (OpenSSL allocates with malloc).  Just after
 * the exchange each end keeps OpenSSL's buffers for its next request;
 * once idle past the sweep they are given back. */
START_TEST(idle_connection_memory)
{
	enum { N = 64 };
	struct comm_conn *c[N][2];
	struct rec rc[N], rs[N], rw[N], rr[N];
	struct comm_loop_stats ls;
	struct buf_chain ch;
	size_t base, plain, busy, idle;
	int i, f[2];

	loop = comm_loop_new();
	cctx = client_ctx(0, true);
	sctx = server_ctx("server.pem", "server.key");
	memset(rc, 0, sizeof rc);
	memset(rs, 0, sizeof rs);
	memset(rw, 0, sizeof rw);
	memset(rr, 0, sizeof rr);
	buf_pool_trim(comm_loop_pool(loop));
	base = mallinfo2().uordblks;
	for (i = 0; i < N; i++) {
		tcp_pair(f, 0, 0);
		c[i][0] = comm_conn_new(loop, f[0]);
		c[i][1] = comm_conn_new(loop, f[1]);
	}
	plain = mallinfo2().uordblks;
	for (i = 0; i < N; i++) {
		cli = c[i][0];
		srv = c[i][1];
		handshake("localhost", &rc[i], &rs[i]);
		chain_of(&ch, loop, "ping");
		comm_writev(cli, &ch, rec_done, &rw[i]);
		buf_chain_fini(&ch);
		comm_read(srv, NULL, 0, rec_done, &rr[i]);
		RUN_UNTIL(loop, rr[i].calls > 0 && rw[i].calls > 0);
		ck_assert_int_eq(rr[i].status, COMM_OK);
	}
	cli = srv = NULL;
	run_for(loop, 0.05);
	buf_pool_trim(comm_loop_pool(loop));
	busy = mallinfo2().uordblks;
	comm_loop_stats(loop, &ls);
	ck_assert_uint_eq(ls.tls_released, 0);
	/* Past the sweep's period twice: every end has been idle long
	 * enough. */
	comm_loop_warp(loop, 2.5);
	run_for(loop, 0.05);
	buf_pool_trim(comm_loop_pool(loop));
	idle = mallinfo2().uordblks;
	comm_loop_stats(loop, &ls);
	ck_assert_uint_eq(ls.tls_released, 2 * N);
	fprintf(stderr, "idle memory: plain %zu B/conn, TLS %zu B/conn more "
	    "while busy, %zu B/conn once idle (client and server "
	    "averaged; OpenSSL's buffers released)\n",
	    (plain - base) / (2 * N), (busy - plain) / (2 * N),
	    (idle - plain) / (2 * N));
	/* Busy: OpenSSL's read and write buffers kept, about 34 KiB (with
	 * SSL_MODE_RELEASE_BUFFERS they went at once); idle: about 17 KiB
	 * without them.  AddressSanitizer allocates outside the arena that
	 * mallinfo2() reports on: there only the release count above says
	 * the buffers went. */
#ifndef CUTTLE_SANITIZERS
	ck_assert_uint_gt((busy - plain) / (2 * N), 24576);
	ck_assert_uint_lt((idle - plain) / (2 * N), 24576);
#endif
	for (i = 0; i < N; i++) {
		comm_close(&c[i][0]);
		comm_close(&c[i][1]);
	}
	finish();
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc;

	tc = tcase_create("handshake");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, handshake_completes_once_verified_with_alpn);
	tcase_add_test(tc, handshake_timeout_completes_once);
	tcase_add_test(tc, server_prefers_aes128_gcm);
	tcase_add_test(tc, handshake_cancelled_by_close_once);
	tcase_add_test(tc, server_handshake_cut_at_every_byte_fails_once);
	tcase_add_test(tc, client_handshake_cut_at_every_byte_fails_once);
	tcase_add_test(tc, garbage_instead_of_client_hello_fails_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_test(tc, verify_wrong_name_fails);
	tcase_add_test(tc, verify_self_signed_fails);
	tcase_add_test(tc, verify_untrusted_ca_fails);
	tcase_add_test(tc, verify_expired_fails);
	tcase_add_test(tc, verify_not_yet_valid_fails);
	tcase_add_test(tc, verify_ip_and_flags);
	tcase_add_test(tc, key_must_match_certificate);
	tcase_add_test(tc, server_options_squid_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("io");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, large_vectored_write_arrives_intact);
	tcase_add_test(tc, pages_are_encrypted_without_copying);
	tcase_add_test(tc, close_cancels_write_midway_and_unpins);
	tcase_add_test(tc, write_after_a_cancel_mid_record_fails);
	tcase_add_test(tc, read_of_held_bytes_resumes_without_an_event);
	tcase_add_test(tc, close_notify_ends_the_stream_cleanly);
	tcase_add_test(tc, eof_without_close_notify_is_cut);
	tcase_add_test(tc, close_sends_close_notify_behind_a_full_buffer);
	tcase_add_test(tc,
	    close_waits_for_a_peer_that_never_reads_within_the_bound);
	tcase_add_test(tc, close_clean_ends_cleanly_or_cuts);
	tcase_add_test(tc, sessions_are_reused_per_origin);
	tcase_add_test(tc, idle_connection_memory);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	char cmd[2 * PATH_MAX + 64];
	SRunner *sr;
	int failed;

	snprintf(certdir, sizeof certdir, "%s/cuttle-tls.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(certdir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	snprintf(cmd, sizeof cmd, "sh '%s/test-suite/tls_certs.sh' '%s'",
	    top != NULL ? top : "..", certdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make the test certificates: %s\n",
		    cmd);
		return (1);
	}
	sr = srunner_create(tls_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", certdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", certdir);
	return (failed == 0 ? 0 : 1);
}
