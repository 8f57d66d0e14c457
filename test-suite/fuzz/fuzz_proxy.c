/*
 * fuzz_proxy.c - the whole proxy under the fuzzer: the real loop, client
 * side, server side (fwd), memory store, collapsed forwarding,
 * revalidation, ranges, CONNECT tunnels and the manager, in this
 * process, assembled as main.c does from a conf string.  Clients and
 * origins are socketpairs held by the fuzzer: the client side adopts
 * one end of each client's (client_adopt()), and comm_connect() asks
 * this file for each origin connection (comm_loop_set_connector()), so
 * names are resolved for real (hosts_file) but nothing reaches the
 * network.  The clock jumps with comm_loop_warp().
 *
 * The input is a script of operations, one byte each (the low bits pick
 * the operation, the bytes after it its arguments; what runs out reads as
 * zero):
 *
 *	client		open a client connection (at most FP_CLIENTS)
 *	request c	a request built from fields the next bytes pick
 *			(method, URL among a few, version, Cache-Control,
 *			Range, validators, Expect, Connection, a body),
 *			queued on client c
 *	reply o		a reply to the oldest request origin connection
 *			o has read (interim replies first, status, caching
 *			fields, validators, Vary, Age, framing: length,
 *			chunked with extensions and trailers, or until
 *			close), queued on o
 *	raw c|o		up to 64 bytes as they are, queued
 *	send c|o n	n of the queued bytes written (0: all)
 *	run n		n loop iterations, reading what cuttle wrote
 *	shut c|o	half-close (SHUT_WR) once the queue is out
 *	reset c|o	SO_LINGER 0 and close (AF_UNIX: the peer's reads
 *			fail with ECONNRESET when bytes were left unread)
 *	close c|o	close
 *	warp n		the clock jumps (1 s to a day)
 *	refuse		the next origin connect fails (ECONNREFUSED)
 *	tls client	open a client connection as on an https_port: the
 *			client side runs a TLS server handshake on it, and
 *			what the script sends that client is its raw TLS
 *			stream (a ClientHello, records, garbage)
 *	https		the requests built from now on ask for https://
 *			URLs: fwd runs a TLS client handshake on the origin
 *			connections they open, and what the script sends
 *			such an origin is its raw TLS stream
 *	bump client	open a client connection as on an http_port with
 *			ssl-bump (ssl_bump peek at step 1, splice b.test,
 *			bump the rest): after a CONNECT request its bytes
 *			are step 2's ClientHello, and the origin
 *			connection a bump opens gets the script's TLS
 *			stream
 *	hello c		queue on client c one of a few real ClientHellos
 *			made at start (SNI a.test, b.test or none, TLS 1.2
 *			only, with an encrypted_client_hello extension),
 *			cut short, re-framed in records of n bytes, and
 *			with a byte changed, as the next bytes say
 *	tls peer	open a client connection as on an https_port with a
 *			real TLS client at the fuzzer's end (OpenSSL over
 *			memory BIOs, TLS 1.2 or 1.3 as the next byte says):
 *			the handshake completes as the script sends and
 *			runs, and what the script queues for that client
 *			(requests, raw bytes) is encrypted into records, so
 *			it fuzzes the HTTP inside TLS; cuttle's replies are
 *			decrypted and checked as a plain client's are
 *	tamper c	corrupt a tls peer's stream after the fact: flip a
 *			byte of the records queued, cut them short, or
 *			queue a record of the script's making (type,
 *			version, length: 0, 1, 2^14, too large, 2^16 - 1)
 *	auth c		a request as above with a Proxy-Authorization
 *			field: Basic for a user and password of a table,
 *			Digest for the last nonce a 407 offered (right or
 *			with one thing wrong), a broken one, or raw bytes
 *	answer h	helper child h answers its oldest question (see
 *			fp_helper_answer(): channel ID, result, keys of
 *			its kind right or wrong, extras, framing)
 *	raw h		bytes as they are on its stdout or stderr
 *	stderr h	a line for cuttle's log
 *	close h		the child dies (its two sockets close)
 *
 * Helper children are played here: the helper pools start them through
 * the loop's spawner (comm_loop_set_spawner()), which gets two
 * socketpairs and hands the pool its ends.  The conf's helpers are
 * required on paths of their own (/auth, /rw, /sid, /ext, /auth/ext).
 *
 * Then every queue is written out and the loop runs a while, and the
 * proxy is torn down as main.c does at shutdown.
 *
 * Invariants, besides the sanitizers (leaks included): each comm
 * operation completes exactly once (the loop's count of operations not
 * yet completed is back to zero, and comm CHECKs a second completion),
 * every connection and buffer page is released, no descriptor is left
 * open, teardown ends, and every 200 or 206 body a client reads (misses
 * and hits alike) is, byte for byte, what the origin sent for that URL:
 * an origin's bodies are a function of the URL and the offset, so a
 * byte that differs is a byte from another URL, another offset, or from
 * what the origin sent where no body belongs (204, 304, HEAD: those
 * bytes come from another function).  A URL whose origin connection got
 * raw bytes is not checked, nor is a client that sent raw bytes or a
 * CONNECT (its responses can no longer be paired with its requests).
 *
 * TLS mode.  The script's bytes are the TLS peer's whole stream, so the
 * handshakes go as far as the bytes allow (a real ClientHello from a seed
 * gets a ServerHello back; a real server flight from a seed reaches
 * certificate verification, which fails: tls_outgoing_options trusts no
 * CA here), and everything after: alerts, records too large, truncation,
 * resets, timeouts, mixed with plain clients and origins in the same
 * proxy.  The invariants above hold for them too.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acl/acl.h"
#include "auth/auth.h"
#include "base/log.h"
#include "buf/buf.h"
#include "client/client.h"
#include "client/client_rules.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "fwd/fwd.h"
#include "helper/helper.h"
#include "http/http_cache.h"
#include "http/http_msg.h"
#include "mgr/mgr_page.h"
#include "store/store.h"
#include "tls/tls.h"
#include "tls/tls_mint.h"

#include "fuzz.h"

#define FP_CLIENTS	4
#define FP_ORIGINS	8
#define FP_OPS		400	/* operations per input */
#define FP_REQS		32	/* requests remembered per connection */
#define FP_KEY		96
#define FP_SETTLE	64	/* iterations after the script */
#define FP_TEARDOWN	100000	/* iterations teardown may take */
#define FP_IN		(256 * 1024)	/* bytes read per peer at most */
#define FP_HELPERS	12	/* helper children started per input */
#define FP_QUESTIONS	8	/* questions remembered per child */
#define FP_QLEN		256	/* of a question kept (longer: cut) */

/* The helper programs of the conf below, by the name the spawner is
 * asked for; whether their pool sends channel IDs (concurrency > 0). */
enum fp_kind {
	FK_BASIC,
	FK_DIGEST,
	FK_REWRITE,
	FK_STOREID,
	FK_EXT,
	FK_EXTLOGIN,
	FK__COUNT
};
static const char *const fp_kind_prog[FK__COUNT] = {
	"fuzz-basic", "fuzz-digest", "fuzz-rewrite", "fuzz-storeid",
	"fuzz-ext", "fuzz-extlogin",
};
static const bool fp_kind_ids[FK__COUNT] = {
	false, true, true, false, true, false,
};

/* A helper child, played here: the other ends of the two sockets the
 * pool reads and writes, and the questions it has not answered. */
struct fp_helper {
	int		fd;		/* stdin and stdout; -1: gone */
	int		efd;		/* stderr */
	enum fp_kind	kind;
	bool		eof;		/* cuttle closed its side */
	char		part[FP_QLEN];	/* a question's start */
	size_t		partlen;
	char		q[FP_QUESTIONS][FP_QLEN];	/* oldest first */
	unsigned	nq;
};

/* One request, as a client sent it or an origin read it. */
struct fp_req {
	char		key[FP_KEY];	/* host/path; "" not checked */
	bool		head;
	bool		connect;
};

/* The fuzzer's end of a socketpair. */
struct fp_peer {
	struct fp		*fp;
	int			fd;		/* -1: closed */
	bool			origin;
	bool			shut_wanted;	/* SHUT_WR after the queue */
	bool			raw;		/* raw bytes sent: unchecked */
	bool			broken;		/* parse error: stop parsing */
	bool			eof;		/* cuttle closed its side */
	bool			desync;		/* origin: replies no longer
						 * pair with requests */
	char			close_key[FP_KEY];	/* origin: the URL
						 * of a reply until close */
	char			*out;		/* queued, not yet written */
	size_t			outlen;
	size_t			outcap;
	size_t			inlen;		/* bytes read so far */
	/* What cuttle writes, parsed: replies (clients), requests
	 * (origins). */
	struct http_parser	*parser;
	struct http_msg		msg;
	bool			in_msg;
	bool			have_headers;
	uint64_t		body_off;	/* of the body being read */
	uint64_t		body_base;	/* 206: its first byte */
	bool			check_body;
	uint32_t		hash;		/* of the URL being checked */
	/* Requests in order; a client's get a reply each, an origin's
	 * get one from the script. */
	struct fp_req		reqs[FP_REQS];
	unsigned		nreqs;
	/* A tls peer: the fuzzer's TLS client, its memory BIOs (what
	 * cuttle sent, what it will send), and plaintext queued while
	 * the handshake runs. */
	SSL			*tls;
	BIO			*tls_in;
	BIO			*tls_out;
	char			*plain;
	size_t			plainlen;
	bool			tls_dead;	/* failed: no more SSL calls */
};

struct fp {
	struct comm_loop	*loop;
	struct conf		*conf;
	struct client_rules	rules;		/* http_access, ssl_bump ... */
	struct tls_mint		*mint;		/* the ssl-bump port's */
	struct dns_resolver	*dns;
	struct fwd_ctx		*fwd;
	struct store_index	*store;
	struct mgr		*mgr;
	struct client_ctx	*client;
	struct comm_timer	*tick;		/* keeps a poll from blocking */
	struct fp_peer		clients[FP_CLIENTS];
	unsigned		nclients;
	struct fp_peer		origins[FP_ORIGINS];
	unsigned		norigins;
	unsigned		refuse;		/* connects to refuse */
	/* the script */
	const uint8_t		*p;
	size_t			n;
	uint64_t		checked;	/* body bytes compared */
	/* URLs whose bodies are not checked: an origin sent bytes for
	 * them that the script cannot pair with a request. */
	char			poisoned[32][FP_KEY];
	unsigned		npoisoned;
	bool			poison_all;	/* too many to list */
	bool			https;		/* requests ask for https:// */
	bool			stray;		/* an origin sent a reply
						 * nobody asked for */
	/* Helpers: auth_param, url_rewrite, store_id, external acls. */
	struct auth		*auth;
	struct client_adapt	*adapt;
	struct acl_externals	*externals;
	struct helper_pools	pools;
	struct fp_helper	helpers[FP_HELPERS];
	unsigned		nhelpers;
	char			nonce[128];	/* the last Digest nonce a
						 * 407 offered */
	unsigned		nc;		/* its nonce-count */
	bool			creds_on;	/* the next request carries
						 * credentials of kind creds */
	unsigned		creds;
};

static char fp_hosts_path[64];
static char fp_cert_path[64];
static char fp_key_path[64];
static struct tls_ctx *fp_tls;	/* the https_port's, made once */
static char fp_ca_path[64];	/* the ssl-bump port's CA */
static char fp_cakey_path[64];
#define FP_HELLOS	5
#define FP_HELLO_MAX	2048
static uint8_t fp_hellos[FP_HELLOS][FP_HELLO_MAX];	/* real ones */
static size_t fp_hello_len[FP_HELLOS];
static SSL_CTX *fp_tls_peer_ctx;	/* tls peers' client context */
static bool fp_trace;		/* FUZZ_PROXY_TRACE set: what moves */
static char *fp_conf_text;

/* The bytes that moved, for someone replaying an input. */
static void
fp_trace_bytes(const struct fp *f, const struct fp_peer *pe,
    const char *dir, const char *p, size_t len)
{
	unsigned idx;

	if (!fp_trace)
		return;
	idx = pe->origin ? (unsigned)(pe - f->origins) :
	    (unsigned)(pe - f->clients);
	fprintf(stderr, "%s%u %s %zu: \"", pe->origin ? "origin" : "client",
	    idx, dir, len);
	for (; len > 0; p++, len--)
		if (*p == '\n')
			fputs("\\n\"\n\t\"", stderr);
		else if (*p == '\r')
			fputs("\\r", stderr);
		else if (*p < 32 || *p >= 127)
			fprintf(stderr, "\\x%02x", (unsigned char)*p);
		else
			fputc(*p, stderr);
	fputs("\"\n", stderr);
}

/* -- bodies ------------------------------------------------------------- */

static uint32_t
fp_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return (h);
}

/* Byte i of the body for the URL of hash h.  Bytes sent where no body
 * belongs come from h ^ FP_JUNK, so that they cannot pass for content. */
#define FP_JUNK		0x5a5a5a5au
static char
fp_body_byte(uint32_t h, uint64_t i)
{
	static const char digits[] =
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
	uint64_t x = (uint64_t)h * 0x9e3779b97f4a7c15ull ^
	    (i + 1) * 0xd6e8feb86659fd93ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (digits[x & 63]);
}

/* -- the script --------------------------------------------------------- */

static unsigned
fp_u8(struct fp *f)
{
	if (f->n == 0)
		return (0);
	f->n--;
	return (*f->p++);
}

static void fp_tls_peer_plain(struct fp_peer *pe, const void *p,
    size_t len);

/* Bytes for the socket as they are. */
static void
fp_queue_wire(struct fp_peer *pe, const void *p, size_t len)
{
	size_t cap;
	char *o;

	if (pe->fd == -1 || len == 0)
		return;
	if (pe->outlen + len > pe->outcap) {
		cap = pe->outcap * 2 + len + 256;
		o = realloc(pe->out, cap);
		FUZZ_ASSERT(o != NULL);
		pe->out = o;
		pe->outcap = cap;
	}
	memcpy(pe->out + pe->outlen, p, len);
	pe->outlen += len;
}

/* What the peer sends: through its TLS client when it is a tls peer. */
static void
fp_queue(struct fp_peer *pe, const void *p, size_t len)
{
	if (pe->tls != NULL)
		fp_tls_peer_plain(pe, p, len);
	else
		fp_queue_wire(pe, p, len);
}

static void
fp_queuef(struct fp_peer *pe, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fp_queuef(struct fp_peer *pe, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		fp_queue(pe, line, (size_t)n < sizeof line ? (size_t)n :
		    sizeof line - 1);
}

/* Write up to max queued bytes (0: all) as far as the socket takes
 * them; then the half-close, if one waits for the queue. */
static void
fp_send(struct fp *f, struct fp_peer *pe, size_t max)
{
	size_t len = pe->outlen;
	ssize_t w;

	if (pe->fd == -1)
		return;
	if (max > 0 && max < len)
		len = max;
	while (len > 0) {
		w = send(pe->fd, pe->out, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w <= 0)
			break;
		fp_trace_bytes(f, pe, "sends", pe->out, (size_t)w);
		memmove(pe->out, pe->out + w, pe->outlen - (size_t)w);
		pe->outlen -= (size_t)w;
		len -= (size_t)w;
	}
	if (pe->shut_wanted && pe->outlen == 0) {
		fp_trace_bytes(f, pe, "shuts", "", 0);
		(void)shutdown(pe->fd, SHUT_WR);
		pe->shut_wanted = false;
	}
}

static void
fp_peer_close(struct fp_peer *pe, bool reset)
{
	struct linger lg = { 1, 0 };

	if (pe->fd == -1)
		return;
	if (reset)
		(void)setsockopt(pe->fd, SOL_SOCKET, SO_LINGER, &lg,
		    sizeof lg);
	close(pe->fd);
	pe->fd = -1;
	pe->outlen = 0;
}

static void
fp_peer_fini(struct fp_peer *pe)
{
	fp_peer_close(pe, false);
	SSL_free(pe->tls);		/* its BIOs with it */
	free(pe->plain);
	free(pe->out);
	if (pe->in_msg)
		http_msg_fini(&pe->msg);
	http_parser_free(&pe->parser);
	memset(pe, 0, sizeof *pe);
	pe->fd = -1;
}

static int
fp_peer_open(struct fp *f, struct fp_peer *pe, bool origin, int *other)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		return (-errno);
	memset(pe, 0, sizeof *pe);
	pe->fp = f;
	pe->fd = sv[0];
	pe->origin = origin;
	pe->parser = http_parser_new(origin ? HTTP_MSG_REQUEST :
	    HTTP_MSG_RESPONSE, 64 * 1024);
	FUZZ_ASSERT(pe->parser != NULL);
	*other = sv[1];
	return (0);
}

/* comm_connect(), through the seam: a new origin connection. */
static int
fp_connector(const struct sockaddr *addr, socklen_t len, void *arg)
{
	struct fp *f = arg;
	int fd, err;

	(void)addr;
	(void)len;
	if (f->refuse > 0) {
		f->refuse--;
		return (-ECONNREFUSED);
	}
	if (f->norigins == FP_ORIGINS)
		return (-EMFILE);
	err = fp_peer_open(f, &f->origins[f->norigins], true, &fd);
	if (err != 0)
		return (err);
	f->norigins++;
	return (fd);
}

/* The URL's key as an origin sees it: host (lower case, no :80) and
 * path. */
static void
fp_key(char *key, const char *host, size_t hlen, const char *path,
    size_t plen)
{
	size_t i, n = 0;

	if (hlen > 3 && memcmp(host + hlen - 3, ":80", 3) == 0)
		hlen -= 3;
	for (i = 0; i < hlen && n < FP_KEY - 2; i++)
		key[n++] = (char)((host[i] >= 'A' && host[i] <= 'Z') ?
		    host[i] + 32 : host[i]);
	key[n++] = '/';
	for (i = 0; i < plen && n < FP_KEY - 1; i++)
		key[n++] = path[i];
	key[n] = '\0';
}

static void
fp_poison(struct fp *f, const char *key)
{
	unsigned i;

	if (key[0] == '\0')
		return;
	for (i = 0; i < f->npoisoned; i++)
		if (strcmp(f->poisoned[i], key) == 0)
			return;
	if (f->npoisoned == 32) {
		f->poison_all = true;
		return;
	}
	strcpy(f->poisoned[f->npoisoned++], key);
}

static bool
fp_poisoned(const struct fp *f, const char *key)
{
	unsigned i;

	for (i = 0; i < f->npoisoned; i++)
		if (strcmp(f->poisoned[i], key) == 0)
			return (true);
	return (f->poison_all);
}

/*
 * From now on what origin connection pe sends cannot be paired with the
 * requests it reads (raw bytes, a reply after one delimited by the
 * close, a reply nobody asked for or a second one): the URLs it has
 * been asked for, and will be, go unchecked.
 */
static void
fp_poison_clients(struct fp *f)
{
	unsigned i, j;

	for (i = 0; i < f->nclients; i++)
		for (j = 0; j < f->clients[i].nreqs; j++)
			fp_poison(f, f->clients[i].reqs[j].key);
	f->stray = true;
}

static void
fp_desync(struct fp *f, struct fp_peer *pe)
{
	unsigned i;

	pe->desync = true;
	fp_poison(f, pe->close_key);
	for (i = 0; i < pe->nreqs; i++)
		fp_poison(f, pe->reqs[i].key);
}

/* -- what cuttle writes ------------------------------------------------- */

static void
fp_body(void *arg, const char *at, size_t len)
{
	struct fp_peer *pe = arg;
	size_t i;

	if (!pe->check_body) {
		pe->body_off += len;
		return;
	}
	for (i = 0; i < len; i++) {
		if (at[i] != fp_body_byte(pe->hash, pe->body_base +
		    pe->body_off + i)) {
			/* Poisoned since its headers came (the origin
			 * sent more after a reply until close). */
			if (fp_poisoned(pe->fp, pe->reqs[0].key)) {
				pe->check_body = false;
				break;
			}
			fprintf(stderr, "invariant broken: byte %llu of the "
			    "body of %s is not what the origin sent\n",
			    (unsigned long long)(pe->body_base + pe->body_off +
			    i), pe->reqs[0].key);
			FUZZ_ASSERT(!"a client got a body the origin never "
			    "sent for its URL");
		}
	}
	pe->body_off += len;
}

/* A 407's Digest challenge: its nonce, for the credentials of the
 * requests that follow (kept until another comes). */
static void
fp_take_nonce(struct fp *f, const struct http_msg *m)
{
	const struct http_field *fl;
	const char *v, *n, *e;

	for (fl = http_msg_field(m, HTTP_HDR_PROXY_AUTHENTICATE); fl != NULL;
	    fl = http_msg_field_next(m, fl)) {
		v = http_msg_ptr(m, fl->value);
		n = memmem(v, fl->value.len, "nonce=\"", 7);
		if (n == NULL)
			continue;
		n += 7;
		e = memchr(n, '"', fl->value.len - (size_t)(n - v));
		if (e == NULL || (size_t)(e - n) >= sizeof f->nonce)
			continue;
		memcpy(f->nonce, n, (size_t)(e - n));
		f->nonce[e - n] = '\0';
		f->nc = 0;
	}
}

/* A reply's headers, read by a client: is its body to be checked, and
 * from which offset? */
static void
fp_reply_headers(struct fp *f, struct fp_peer *pe)
{
	const struct http_msg *m = &pe->msg;
	const struct http_field *fl;
	const char *v;
	char tmp[64];
	size_t vl;

	pe->body_off = 0;
	pe->body_base = 0;
	pe->check_body = false;
	if (m->status == 407)
		fp_take_nonce(f, m);
	if (pe->nreqs == 0 || pe->reqs[0].key[0] == '\0' || pe->raw ||
	    m->status < 200 || fp_poisoned(f, pe->reqs[0].key))
		return;
	if (m->status != 200 && m->status != 206)
		return;
	fl = http_msg_field_named(m, "Content-Type", 12);
	if (fl != NULL && fl->value.len >= 9 && strncasecmp(http_msg_ptr(m,
	    fl->value), "multipart", 9) == 0)
		return;
	if (m->status == 206) {
		fl = http_msg_field_named(m, "Content-Range", 13);
		if (fl == NULL)
			return;
		v = http_msg_ptr(m, fl->value);
		vl = fl->value.len < sizeof tmp - 1 ? fl->value.len :
		    sizeof tmp - 1;
		memcpy(tmp, v, vl);
		tmp[vl] = '\0';
		if (strncmp(tmp, "bytes ", 6) != 0 || tmp[6] < '0' ||
		    tmp[6] > '9')
			return;
		pe->body_base = strtoull(tmp + 6, NULL, 10);
	}
	pe->check_body = true;
	pe->hash = fp_hash(pe->reqs[0].key);
	if (fp_trace)
		fprintf(stderr, "checking the body of \"%s\" from %llu\n",
		    pe->reqs[0].key, (unsigned long long)pe->body_base);
}

static void
fp_pop_req(struct fp_peer *pe)
{
	if (pe->nreqs == 0)
		return;
	memmove(&pe->reqs[0], &pe->reqs[1], (pe->nreqs - 1) *
	    sizeof pe->reqs[0]);
	pe->nreqs--;
}

/* An origin read a request's headers: remember its URL. */
static void
fp_request_headers(struct fp *f, struct fp_peer *pe)
{
	const struct http_msg *m = &pe->msg;
	const struct http_field *h;
	struct fp_req *r;
	const char *t = http_msg_ptr(m, m->target);

	if (pe->nreqs == FP_REQS)
		return;
	r = &pe->reqs[pe->nreqs++];
	memset(r, 0, sizeof *r);
	r->head = m->method_name.len == 4 && memcmp(http_msg_ptr(m,
	    m->method_name), "HEAD", 4) == 0;
	h = http_msg_field(m, HTTP_HDR_HOST);
	if (h == NULL || m->target.len == 0 || t[0] != '/')
		return;
	fp_key(r->key, http_msg_ptr(m, h->value), h->value.len, t,
	    m->target.len);
	if (pe->desync)
		fp_poison(f, r->key);
}

/* Parse what cuttle wrote to pe: replies to a client, requests to an
 * origin.  A parse error stops the parsing of that connection. */
static void
fp_parse(struct fp *f, struct fp_peer *pe, const char *data, size_t len)
{
	enum http_parse_status st;
	size_t used;
	bool no_body;

	while (!pe->broken && (len > 0 || pe->in_msg)) {
		if (!pe->in_msg) {
			http_msg_init(&pe->msg, pe->origin ? HTTP_MSG_REQUEST :
			    HTTP_MSG_RESPONSE);
			no_body = !pe->origin && pe->nreqs > 0 &&
			    (pe->reqs[0].head || pe->reqs[0].connect);
			http_parser_start(pe->parser, &pe->msg, no_body);
			pe->in_msg = true;
			pe->have_headers = false;
			pe->check_body = false;
		}
		st = http_parse(pe->parser, data, len, &used, fp_body, pe);
		data += used;
		len -= used;
		if (st == HTTP_PARSE_AGAIN)
			return;
		if (st == HTTP_PARSE_ERROR) {
			pe->broken = true;
			return;
		}
		if (st == HTTP_PARSE_HEADERS) {
			pe->have_headers = true;
			if (pe->origin)
				fp_request_headers(f, pe);
			else
				fp_reply_headers(f, pe);
			continue;
		}
		/* DONE */
		f->checked += pe->check_body ? pe->body_off : 0;
		if (!pe->origin && pe->msg.status >= 200) {
			if (pe->nreqs > 0 && pe->reqs[0].connect)
				pe->broken = true;	/* a tunnel now */
			fp_pop_req(pe);
		}
		http_msg_fini(&pe->msg);
		pe->in_msg = false;
		if (len == 0)
			return;
	}
}

/* -- tls peers ---------------------------------------------------------- */

/* What the TLS client has to send (handshake, records, alerts), to the
 * socket's queue. */
static void
fp_tls_peer_flush(struct fp_peer *pe)
{
	char buf[4096];
	int n;

	while ((n = BIO_read(pe->tls_out, buf, sizeof buf)) > 0)
		fp_queue_wire(pe, buf, (size_t)n);
}

/* Drive the TLS client: the handshake, then the plaintext queued, then
 * what cuttle sent, decrypted, to the reply parser. */
static void
fp_tls_peer_pump(struct fp *f, struct fp_peer *pe)
{
	char buf[16384];
	size_t n;
	int r;

	if (pe->tls_dead)
		return;
	ERR_clear_error();
	if (!SSL_is_init_finished(pe->tls)) {
		r = SSL_do_handshake(pe->tls);
		if (r != 1 && SSL_get_error(pe->tls, r) != SSL_ERROR_WANT_READ)
			pe->tls_dead = true;
	}
	if (!pe->tls_dead && SSL_is_init_finished(pe->tls) &&
	    pe->plainlen > 0) {
		if (SSL_write_ex(pe->tls, pe->plain, pe->plainlen, &n) == 1) {
			memmove(pe->plain, pe->plain + n, pe->plainlen - n);
			pe->plainlen -= n;
		} else
			pe->tls_dead = true;
	}
	while (!pe->tls_dead && SSL_is_init_finished(pe->tls)) {
		if (SSL_read_ex(pe->tls, buf, sizeof buf, &n) != 1) {
			r = SSL_get_error(pe->tls, 0);
			if (r != SSL_ERROR_WANT_READ)
				pe->tls_dead = true;
			break;
		}
		fp_trace_bytes(f, pe, "decrypts", buf, n);
		fp_parse(f, pe, buf, n);
	}
	ERR_clear_error();
	fp_tls_peer_flush(pe);
}

/* Plaintext for a tls peer: encrypted once the handshake is done. */
static void
fp_tls_peer_plain(struct fp_peer *pe, const void *p, size_t len)
{
	char *o;

	if (pe->fd == -1 || len == 0)
		return;
	o = realloc(pe->plain, pe->plainlen + len);
	FUZZ_ASSERT(o != NULL);
	pe->plain = o;
	memcpy(pe->plain + pe->plainlen, p, len);
	pe->plainlen += len;
	fp_tls_peer_pump(pe->fp, pe);
}

/* Bytes cuttle sent a tls peer. */
static void
fp_tls_peer_in(struct fp *f, struct fp_peer *pe, const char *p,
    size_t len)
{
	FUZZ_ASSERT(BIO_write(pe->tls_in, p, (int)len) == (int)len);
	fp_tls_peer_pump(f, pe);
}

/* A new tls peer on pe (just opened): TLS 1.3, or 1.2 for an odd b. */
static void
fp_tls_peer_start(struct fp *f, struct fp_peer *pe, unsigned b)
{
	pe->tls = SSL_new(fp_tls_peer_ctx);
	pe->tls_in = BIO_new(BIO_s_mem());
	pe->tls_out = BIO_new(BIO_s_mem());
	FUZZ_ASSERT(pe->tls != NULL && pe->tls_in != NULL &&
	    pe->tls_out != NULL);
	SSL_set_bio(pe->tls, pe->tls_in, pe->tls_out);
	SSL_set_connect_state(pe->tls);
	if (b & 1)
		FUZZ_ASSERT(SSL_set_max_proto_version(pe->tls,
		    TLS1_2_VERSION) == 1);
	fp_tls_peer_pump(f, pe);	/* the ClientHello */
}

/* Record-level corruption of a tls peer's stream, as the next bytes
 * choose; its replies are no longer checked (a request may be lost). */
static void
fp_tls_peer_tamper(struct fp *f, struct fp_peer *pe)
{
	static const unsigned lens[] = { 0, 1, 5, 16384, 16384 + 256 + 1,
	    65535 };
	unsigned char hdr[5], body[64];
	unsigned what = fp_u8(f), k = fp_u8(f), len, i;

	pe->raw = true;
	switch (what % 3) {
	case 0:		/* a byte of the queued records flipped */
		if (pe->outlen > 0)
			pe->out[((size_t)k << 8 | fp_u8(f)) % pe->outlen] ^=
			    (char)(1u << (k % 8));
		break;
	case 1:		/* the queued records cut short */
		pe->outlen -= pe->outlen > 0 ? (size_t)k % pe->outlen : 0;
		break;
	default:	/* a record of the script's making */
		len = lens[k % (sizeof lens / sizeof lens[0])];
		hdr[0] = (unsigned char)(20 + fp_u8(f) % 8);
		hdr[1] = 3;
		hdr[2] = (unsigned char)(fp_u8(f) % 5);
		hdr[3] = (unsigned char)(len >> 8);
		hdr[4] = (unsigned char)len;
		fp_queue_wire(pe, hdr, sizeof hdr);
		for (i = 0; i < sizeof body; i++)
			body[i] = (unsigned char)fp_u8(f);
		fp_queue_wire(pe, body, len < sizeof body ? len :
		    sizeof body);
		break;
	}
}

/* -- helpers ------------------------------------------------------------ */

#define FP_PICK(f, v)	((v)[fp_u8(f) % (sizeof(v) / sizeof((v)[0]))])

static void fp_run_once(struct fp *f);

/* The helper pools' seam: a new child is two socketpairs, the pool's
 * ends handed back, these kept. */
static int
fp_spawner(char *const argv[], int fds[2], void *arg)
{
	struct fp *f = arg;
	struct fp_helper *h;
	int io[2], er[2];
	unsigned k;

	for (k = 0; k < FK__COUNT; k++)
		if (strcmp(argv[0], fp_kind_prog[k]) == 0)
			break;
	FUZZ_ASSERT(k < FK__COUNT);	/* a program the conf never named */
	if (f->nhelpers == FP_HELPERS)
		return (-EAGAIN);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    io) == -1)
		return (-errno);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    er) == -1) {
		close(io[0]);
		close(io[1]);
		return (-ENFILE);
	}
	h = &f->helpers[f->nhelpers++];
	memset(h, 0, sizeof *h);
	h->fd = io[0];
	h->efd = er[0];
	h->kind = (enum fp_kind)k;
	fds[0] = io[1];
	fds[1] = er[1];
	if (fp_trace)
		fprintf(stderr, "helper%u started: %s\n", f->nhelpers - 1,
		    argv[0]);
	return (0);
}

static void
fp_helper_close(struct fp_helper *h)
{
	if (h->fd != -1)
		close(h->fd);
	if (h->efd != -1)
		close(h->efd);
	h->fd = h->efd = -1;
}

/* The request-target of a question to a rewriter or store-ID helper
 * ("URL extras"): the body of its URL may now come from another URL, so
 * that URL is not checked. */
static void
fp_question_url(struct fp *f, const char *q)
{
	const char *host, *path, *end;
	char key[FP_KEY];

	if (strncmp(q, "http://", 7) != 0)
		return;
	host = q + 7;
	end = host + strcspn(host, " ");
	path = memchr(host, '/', (size_t)(end - host));
	if (path == NULL)
		path = end;
	fp_key(key, host, (size_t)(path - host), path, (size_t)(end - path));
	fp_poison(f, key);
}

static void
fp_question(struct fp *f, struct fp_helper *h, const char *line)
{
	const char *q = line;

	if (fp_trace)
		fprintf(stderr, "helper%u asked \"%s\"\n",
		    (unsigned)(h - f->helpers), line);
	if (h->nq == FP_QUESTIONS) {
		memmove(h->q[0], h->q[1], (FP_QUESTIONS - 1) * FP_QLEN);
		h->nq--;
	}
	snprintf(h->q[h->nq++], FP_QLEN, "%s", line);
	if (h->kind != FK_REWRITE && h->kind != FK_STOREID)
		return;
	if (fp_kind_ids[h->kind])
		q += strspn(q, "0123456789 ");
	fp_question_url(f, q);
}

/* What cuttle asked h: whole lines become questions. */
static void
fp_helper_read(struct fp *f, struct fp_helper *h)
{
	char buf[4096], *p, *nl, *end;
	size_t n;
	ssize_t r;

	while (h->fd != -1 && !h->eof) {
		r = recv(h->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR))
			h->eof = true;
		if (r <= 0)
			return;
		end = buf + r;
		for (p = buf; p < end; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(end - p));
			n = (size_t)((nl != NULL ? nl : end) - p);
			if (n > FP_QLEN - 1 - h->partlen)
				n = FP_QLEN - 1 - h->partlen;
			memcpy(h->part + h->partlen, p, n);
			h->partlen += n;
			if (nl == NULL)
				break;
			h->part[h->partlen] = '\0';
			fp_question(f, h, h->part);
			h->partlen = 0;
		}
	}
}

/* The h-th child still there, those with questions first (as origins). */
static struct fp_helper *
fp_pick_helper(struct fp *f, unsigned b)
{
	unsigned i, n = 0, m = 0;

	for (i = 0; i < f->nhelpers; i++) {
		n += f->helpers[i].fd != -1 && f->helpers[i].nq > 0;
		m += f->helpers[i].fd != -1;
	}
	if (m == 0)
		return (NULL);
	if (n > 0)
		b %= n;
	else
		b %= m;
	for (i = 0; i < f->nhelpers; i++)
		if (f->helpers[i].fd != -1 && (n == 0 ||
		    f->helpers[i].nq > 0) && b-- == 0)
			return (&f->helpers[i]);
	return (NULL);
}

static void
fp_helper_send(struct fp *f, struct fp_helper *h, int fd, const char *p,
    size_t len)
{
	if (fd == -1)
		return;
	if (fp_trace)
		fprintf(stderr, "helper%u %s %zu: \"%.*s\"\n",
		    (unsigned)(h - f->helpers), fd == h->fd ? "answers" :
		    "says on stderr", len, (int)len, p);
	(void)send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* MD5 of s, in hex (out: 33 bytes), as Digest computes it: the
 * fuzzer's own, not auth_md5_hex(), which it checks. */
static void
fp_md5_hex(const char *s, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned i, mdlen;

	FUZZ_ASSERT(EVP_Digest(s, strlen(s), md, &mdlen, EVP_md5(), NULL) ==
	    1 && mdlen == 16);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static const char *const fp_users[] = {
	"alice", "bob", "b\303\274b", "\351t\351", "", "a b%",
};
static const char *const fp_passwords[] = {
	"pw", "wrong", "", "p\344ss", "p:w",
};
#define FP_REALM	"fuzz"

/* Whether a Basic question ("user password", %-escaped) is for the one
 * right password, which a truthful helper accepts. */
static bool
fp_basic_right(const char *q)
{
	return (strcmp(q, "alice pw") == 0 || strcmp(q, "bob pw") == 0);
}

static const char *const fp_results[] = {
	"OK", "ERR", "BH", "OK", "", "ok", "MAYBE", "OK",
};
static const char *const fp_rewrites[] = {
	"http://a.test/a", "http://b.test/rw/x", "http://a.test/big",
	"/relative", "http://unknown.test/", "http://a.test:8080/p", "",
	"https://a.test/s",
};
static const char *const fp_redirects[] = {
	"301", "302", "303", "307", "308", "200", "999", "abc",
};
/* Store IDs name no URL a client asks for, so a body found under one is
 * never checked against another URL's. */
static const char *const fp_store_ids[] = {
	"http://sid.squid.internal/1", "http://sid.squid.internal/2",
	"\"http://sid.squid.internal/a b\"", "", "sid%20x",
};
static const char *const fp_extras[] = {
	" message=\"quoted \\\"text\\\" \\\\ here\"", " log=%41%42%zz%",
	" tag=deny", " tag=ok", " user=alice", " user=\"b o b\"",
	" clt_conn_tag=conn1", " x_custom_=v", " =novalue", " key",
	" message=\"unterminated", " tag=", " password=secret", " ttl=5",
	" user=%00x", " status=302",
};

/*
 * answer h: the answer to h's oldest question (or to none), as the
 * next bytes say: the channel ID echoed, off by one or huge; a result
 * word (OK, ERR, BH, none, one no helper sends); the keys of its kind,
 * with values right (the one right password's OK, the HA1 of
 * "alice":"fuzz":"pw") or wrong; extra pairs quoted, %-encoded,
 * unterminated; free text; the newline or not (the next answer goes
 * on the same line), a CR before it; written whole or in two writes
 * with a loop iteration between.
 */
static void
fp_helper_answer(struct fp *f, struct fp_helper *h)
{
	unsigned fl = fp_u8(f), res = fp_u8(f), ex = fp_u8(f), pick = fp_u8(f);
	char line[1024], q[FP_QLEN] = "", ha1[65], a1[128];
	const char *qs = q, *word = fp_results[res % 8];
	unsigned long id = 0;
	size_t n = 0, half;
	char *e;

#define FP_PUT(...)	do {						\
	int r_ = snprintf(line + n, sizeof line - n, __VA_ARGS__);	\
	if (r_ > 0)							\
		n += (size_t)r_ < sizeof line - n ? (size_t)r_ :	\
		    sizeof line - n - 1;				\
} while (0)

	if (h->nq > 0) {
		memcpy(q, h->q[0], FP_QLEN);
		memmove(h->q[0], h->q[1], (FP_QUESTIONS - 1) * FP_QLEN);
		h->nq--;
	}
	if (fp_kind_ids[h->kind]) {
		id = strtoul(q, &e, 10);
		qs = *e == ' ' ? e + 1 : e;
		switch (fl & 3) {
		case 0:
		case 1:
			FP_PUT("%lu ", id);
			break;
		case 2:
			FP_PUT("%lu ", id + 1);
			break;
		default:
			FP_PUT("99999999999999999999 ");
			break;
		}
	}
	if (fl & 0x04) {		/* truthful */
		word = "OK";
		if (h->kind == FK_BASIC && !fp_basic_right(qs))
			word = "ERR";
		if (h->kind == FK_DIGEST && strcmp(qs, "\"alice\":\""
		    FP_REALM "\"") != 0 && strcmp(qs, "\"bob\":\""
		    FP_REALM "\"") != 0)
			word = "ERR";
	}
	if (h->kind == FK_REWRITE && (res & 0x80)) {
		/* Squid's legacy forms: a bare URL, or status:URL. */
		FP_PUT((res & 0x40) ? "%s" : "302:%s", FP_PICK(f,
		    fp_rewrites));
	} else
		FP_PUT("%s", word);
	switch (h->kind) {
	case FK_BASIC:
		if (res & 0x08)
			FP_PUT(" user=%s", (res & 0x10) ? "alice" : "x%20y");
		break;
	case FK_DIGEST:
		if (!(res & 0x08) && !(fl & 0x04))
			break;
		/* "user":"realm" -> the user's HA1 for password pw. */
		snprintf(a1, sizeof a1, "%.*s:" FP_REALM ":pw",
		    (int)strcspn(qs + (*qs == '"'), "\""), qs + (*qs == '"'));
		fp_md5_hex(a1, ha1);
		switch ((res >> 4) & 3) {
		case 0:
			FP_PUT(" ha1=\"%s\"", ha1);
			break;
		case 1:
			FP_PUT(" ha1=%s", ha1);
			break;
		case 2:
			FP_PUT(" ha1=\"%.31s\"", ha1);
			break;
		default:
			FP_PUT(" ha1=\"%s%szz\"", ha1, ha1);
			break;
		}
		break;
	case FK_REWRITE:
		if (res & 0x08)
			FP_PUT(" rewrite-url=%s", FP_PICK(f, fp_rewrites));
		if (res & 0x10)
			FP_PUT(" status=%s url=%s", FP_PICK(f, fp_redirects),
			    FP_PICK(f, fp_rewrites));
		break;
	case FK_STOREID:
		if (res & 0x08)
			FP_PUT(" store-id=%s", FP_PICK(f, fp_store_ids));
		break;
	default:
		if (res & 0x08)
			FP_PUT(" user=%s", FP_PICK(f, fp_users));
		if (res & 0x10)
			FP_PUT(" tag=%s", (res & 0x20) ? "deny" : "ok");
		break;
	}
	if (ex & 0x01)
		FP_PUT("%s", fp_extras[(ex >> 1) % 16]);
	if (ex & 0x20)
		FP_PUT("%s", fp_extras[pick % 16]);
	if (ex & 0x40)
		FP_PUT(" and some text");
	if (ex & 0x80)
		FP_PUT(" %.*s", 300, "long value "
		    "0123456789012345678901234567890123456789012345678901234567"
		    "8901234567890123456789012345678901234567890123456789012345"
		    "6789012345678901234567890123456789012345678901234567890123"
		    "4567890123456789012345678901234567890123456789012345678901"
		    "2345678901234567890123456789012345678901234567890123456789");
	if (fl & 0x08)
		FP_PUT("\r");
	if (!(fl & 0x10))
		FP_PUT("\n");
#undef FP_PUT
	if (fl & 0x20) {
		half = n / 2;
		fp_helper_send(f, h, h->fd, line, half);
		fp_run_once(f);
		fp_helper_send(f, h, h->fd, line + half, n - half);
	} else
		fp_helper_send(f, h, h->fd, line, n);
}

/* raw h: up to 64 bytes as they are, to stdout or stderr.  What a
 * rewriter or store-ID helper says then cannot be told: every body goes
 * unchecked. */
static void
fp_helper_raw(struct fp *f, struct fp_helper *h)
{
	unsigned len = fp_u8(f), i;
	bool err = (len & 0x80) != 0;
	char b[64];

	len %= 64;
	for (i = 0; i < len; i++)
		b[i] = (char)fp_u8(f);
	if (!err && (h->kind == FK_REWRITE || h->kind == FK_STOREID))
		f->poison_all = true;
	fp_helper_send(f, h, err ? h->efd : h->fd, b, len);
}

static const char *const fp_stderr_lines[] = {
	"a warning\n", "no newline", "\n", "FATAL: cannot open the file\r\n",
	"\x01\x02\xff\n",
};

/* stderr h: a line for cuttle's log. */
static void
fp_helper_stderr(struct fp *f, struct fp_helper *h)
{
	const char *s = FP_PICK(f, fp_stderr_lines);

	fp_helper_send(f, h, h->efd, s, strlen(s));
}

/* -- credentials -------------------------------------------------------- */

static const char *const fp_bad_creds[] = {
	"Basic", "Basic !!!!", "Basic YWxpY2U=", "Basic YQ", "Basic AAAA",
	"basic YWxpY2U6cHc=", "BASIC   YWxpY2U6cHc=  ", "Negotiate YWJj",
	"Basic YWxpY2UAOnB3", "Basic YWxpY2U6cHcK", "Basic YWxp Y2U6cHc=",
	"Digest", "Digest username", "Digest username=\"alice",
	"Digest username=\"alice\", username=\"bob\"",
	"Digest username=alice, realm=fuzz, nonce=00, uri=/, response=00",
	"Digest ,,,, =x", "Bearer abc", "",
};

/* Basic credentials for user:password, base64 as browsers send them. */
static void
fp_creds_basic(struct fp_peer *pe, const char *user, const char *pass)
{
	unsigned char in[128], out[180];
	int n;

	n = snprintf((char *)in, sizeof in, "%s:%s", user, pass);
	FUZZ_ASSERT(n > 0 && (size_t)n < sizeof in);
	EVP_EncodeBlock(out, in, n);
	fp_queuef(pe, "Proxy-Authorization: Basic %s\r\n", out);
}

/* Digest credentials (RFC 7616, MD5, qop=auth) for the last nonce, right
 * for user:realm:password and this request, or with one thing wrong. */
static void
fp_creds_digest(struct fp *f, struct fp_peer *pe, const char *method,
    const char *target, unsigned how)
{
	const char *user = FP_PICK(f, fp_users), *pass = FP_PICK(f,
	    fp_passwords), *uri = (how & 0x08) ? "/other" : target;
	const char *nonce = f->nonce[0] != '\0' && !(how & 0x10) ? f->nonce :
	    "deadbeefdeadbeefdeadbeefdeadbeef";
	char a[512], ha1[33], ha2[33], resp[33], nc[9];

	if (!(how & 0x20))
		f->nc++;
	snprintf(nc, sizeof nc, "%08x", f->nc);
	snprintf(a, sizeof a, "%s:" FP_REALM ":%s", user, pass);
	fp_md5_hex(a, ha1);
	snprintf(a, sizeof a, "%s:%s", method, target);
	fp_md5_hex(a, ha2);
	if (how & 0x40)
		snprintf(a, sizeof a, "%s:%s:%s", ha1, nonce, ha2);
	else
		snprintf(a, sizeof a, "%s:%s:%s:c0ffee:auth:%s", ha1, nonce,
		    nc, ha2);
	fp_md5_hex(a, resp);
	fp_queuef(pe, "Proxy-Authorization: Digest username=\"%s\", "
	    "realm=\"" FP_REALM "\", nonce=\"%s\", uri=\"%s\", "
	    "response=\"%s\"%s%s%s%s\r\n", user, nonce, uri, resp,
	    (how & 0x40) ? "" : ", qop=auth, nc=", (how & 0x40) ? "" : nc,
	    (how & 0x40) ? "" : ", cnonce=\"c0ffee\"",
	    (how & 0x80) ? ", algorithm=SHA-256" : ", algorithm=MD5");
}

/* A Proxy-Authorization field, as f->creds says: Basic for a user and
 * password of the tables, Digest right or with one thing wrong, a broken
 * one of the list, or "Basic " and bytes of the script's. */
static void
fp_queue_creds(struct fp *f, struct fp_peer *pe, const char *method,
    const char *target)
{
	char raw[48];
	unsigned i, len;

	switch (f->creds % 5) {
	case 0:
		fp_creds_basic(pe, FP_PICK(f, fp_users), FP_PICK(f,
		    fp_passwords));
		break;
	case 1:
	case 2:
		fp_creds_digest(f, pe, method, target, f->creds);
		break;
	case 3:
		if (f->creds & 0x80) {
			fp_queuef(pe, "Proxy-Authorization: Basic ");
			for (i = 0; i < 20; i++)
				fp_queuef(pe, "%.250s", "QUFB"
				    "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
				    "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
				    "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
				    "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
				    "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
				    "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB");
			fp_queuef(pe, "\r\n");
		} else
			fp_queuef(pe, "Proxy-Authorization: %s\r\n",
			    FP_PICK(f, fp_bad_creds));
		break;
	default:
		len = fp_u8(f) % sizeof raw;
		for (i = 0; i < len; i++) {
			raw[i] = (char)fp_u8(f);
			if (raw[i] == '\r' || raw[i] == '\n')
				raw[i] = ' ';
		}
		fp_queuef(pe, "Proxy-Authorization: Basic %.*s\r\n", (int)len,
		    raw);
		break;
	}
}

static void
fp_read(struct fp *f, struct fp_peer *pe)
{
	char buf[16384];
	ssize_t r;

	while (pe->fd != -1 && !pe->eof && pe->inlen < FP_IN) {
		r = recv(pe->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r == 0 || (r == -1 && errno != EAGAIN))
			fp_trace_bytes(f, pe, r == 0 ? "reads EOF" :
			    "reads error", "", 0);
		if (r <= 0) {
			if (r == 0 && pe->in_msg && !pe->broken)
				(void)http_parse_eof(pe->parser, fp_body, pe);
			if (r == 0)
				pe->broken = pe->eof = true;
			return;
		}
		pe->inlen += (size_t)r;
		fp_trace_bytes(f, pe, "reads", buf, (size_t)r);
		if (pe->tls != NULL)
			fp_tls_peer_in(f, pe, buf, (size_t)r);
		else
			fp_parse(f, pe, buf, (size_t)r);
	}
}

static void
fp_read_all(struct fp *f)
{
	unsigned i;

	/* Origins first: a request cuttle wrote is parsed (and its URL
	 * unchecked, if the origin's replies no longer pair with its
	 * requests) before a client reads the reply it got. */
	for (i = 0; i < f->norigins; i++)
		fp_read(f, &f->origins[i]);
	for (i = 0; i < f->nclients; i++)
		fp_read(f, &f->clients[i]);
	for (i = 0; i < f->nhelpers; i++)
		fp_helper_read(f, &f->helpers[i]);
}

/* Nothing to do for the tick: it only bounds how long a poll waits. */
static void
fp_tick(struct comm_timer *t, void *arg)
{
	(void)t;
	(void)arg;
}

/* One loop iteration that does not block. */
static void
fp_run_once(struct fp *f)
{
	comm_timer_start(f->tick, 0, 0);
	comm_loop_run_once(f->loop);
	fp_read_all(f);
}

/* -- the grammar -------------------------------------------------------- */

static const char *const fp_hosts[] = {
	"a.test", "b.test", "192.0.2.7", "A.Test:80", "localhost",
};
static const char *const fp_paths[] = {
	"/", "/a", "/b?x=1", "/c/d.html", "/big", "/squid-internal-mgr/info",
	"/squid-internal-mgr/menu", "/%7ea",
	/* The helpers' (the conf's acls): basic or digest auth, url_rewrite,
	 * store_id, external acls (the second with %LOGIN). */
	"/auth", "/rw", "/sid", "/ext", "/auth/ext", "/sid/2",
	/* Their manager pages, with the pools' live state. */
	"/squid-internal-mgr/redirector",
	"/squid-internal-mgr/basicauthenticator",
	"/squid-internal-mgr/digestauthenticator", "/squid-internal-mgr/fx",
	"/squid-internal-mgr/active_requests", "/squid-internal-mgr/metrics",
	"/squid-internal-mgr/objects",
};
static const char *const fp_methods[] = {
	"GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS",
	"PURGE", "CONNECT", "GET", "TRACE",
};
static const char *const fp_req_cc[] = {
	"no-cache", "max-age=0", "only-if-cached", "no-store", "max-stale",
	"min-fresh=5", "max-age=10",
};
static const char *const fp_ranges[] = {
	"bytes=0-3", "bytes=2-", "bytes=-5", "bytes=0-1,3-4", "bytes=100-",
	"bytes=5-2", "bytes=0-0",
};
static const char *const fp_etags[] = {
	"\"e1\"", "\"e2\"", "W/\"e1\"", "*",
};
static const char *const fp_dates[] = {
	"Thu, 01 Jan 2026 00:00:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT",
	"Fri, 01 Jan 2100 00:00:00 GMT", "garbage",
};

static void
fp_op_request(struct fp *f, struct fp_peer *pe)
{
	unsigned fl = fp_u8(f), fl2 = fp_u8(f), blen;
	const char *method = FP_PICK(f, fp_methods);
	const char *host = FP_PICK(f, fp_hosts);
	const char *path = FP_PICK(f, fp_paths);
	bool connect = strcmp(method, "CONNECT") == 0;
	bool origin_form = (fl & 0x01) != 0;
	struct fp_req *r;
	char target[128];

	if (connect)
		snprintf(target, sizeof target, "%s:%u", host, (fl & 0x02) ?
		    443 : 80);
	else if (origin_form)
		snprintf(target, sizeof target, "%s", path);
	else if (fl & 0x02 && strcmp(host, "localhost") == 0)
		snprintf(target, sizeof target, "cache_object://localhost/%s",
		    (fl & 0x04) ? "info" : "counters");
	else
		snprintf(target, sizeof target, "%s://%s%s", f->https ?
		    "https" : "http", host, path);
	if (connect)
		fp_queuef(pe, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", target,
		    target);
	else
		fp_queuef(pe, "%s %s HTTP/1.%c\r\nHost: %s\r\n", method,
		    target, (fl & 0x04) && !(fl & 0x02 && strcmp(host,
		    "localhost") == 0 && !origin_form) ? '0' : '1', host);
	if (f->creds_on) {
		fp_queue_creds(f, pe, method, target);
		f->creds_on = false;
	}
	if (fl & 0x08)
		fp_queuef(pe, "Cache-Control: %s\r\n", FP_PICK(f, fp_req_cc));
	if (fl & 0x10)
		fp_queuef(pe, "Range: %s\r\n", FP_PICK(f, fp_ranges));
	if (fl & 0x20)
		fp_queuef(pe, "If-None-Match: %s\r\n", FP_PICK(f, fp_etags));
	if (fl & 0x40)
		fp_queuef(pe, "If-Modified-Since: %s\r\n",
		    FP_PICK(f, fp_dates));
	if (fl & 0x80)
		fp_queuef(pe, "Connection: %s\r\n", (fl2 & 0x01) ? "close" :
		    "keep-alive");
	if (fl2 & 0x02)
		fp_queuef(pe, "Pragma: no-cache\r\n");
	if (fl2 & 0x04)
		fp_queuef(pe, "Accept-Language: %s\r\n", (fl2 & 0x08) ?
		    "fr" : "en");
	if (fl2 & 0x10)
		fp_queuef(pe, "Expect: 100-continue\r\n");
	blen = (fl2 & 0x20) ? fp_u8(f) % 40 : 0;
	if (fl2 & 0x40) {
		fp_queuef(pe, "Transfer-Encoding: chunked\r\n\r\n");
		if (blen > 0)
			fp_queuef(pe, "%x;ext=1\r\n%.*s\r\n", blen, (int)blen,
			    "0123456789012345678901234567890123456789");
		fp_queuef(pe, "0\r\n%s\r\n", (fl2 & 0x80) ? "T: v\r\n" : "");
	} else if (blen > 0) {
		fp_queuef(pe, "Content-Length: %u\r\n\r\n%.*s", blen,
		    (int)blen, "0123456789012345678901234567890123456789");
	} else
		fp_queuef(pe, "\r\n");
	if (pe->nreqs == FP_REQS) {
		pe->raw = true;		/* replies cannot be paired */
		return;
	}
	r = &pe->reqs[pe->nreqs++];
	memset(r, 0, sizeof *r);
	r->head = strcmp(method, "HEAD") == 0;
	r->connect = connect;
	/* cuttle answers PURGE and the manager itself. */
	if (!connect && strcmp(method, "PURGE") != 0 && !f->https &&
	    strcmp(host, "localhost") != 0 &&
	    strncmp(path, "/squid-internal-mgr", 19) != 0) {
		fp_key(r->key, host, strlen(host), path, strlen(path));
		if (f->stray)
			fp_poison(f, r->key);
	}
}

static const unsigned fp_statuses[] = {
	200, 200, 200, 200, 203, 204, 206, 301, 304, 404, 410, 500, 503, 299,
	100, 199,
};
static const char *const fp_rep_cc[] = {
	"max-age=60", "no-store", "no-cache", "private", "public, max-age=5",
	"s-maxage=10", "must-revalidate, max-age=1", "max-age=0",
	"max-age=60, stale-while-revalidate=30", "no-cache=\"Set-Cookie\"",
};
static const char *const fp_vary[] = {
	"Accept-Language", "*", "Accept-Encoding, Accept-Language", "",
};
static const unsigned fp_blens[] = {
	0, 1, 5, 10, 100, 3000, 70000,
};

/* Body bytes [off, off + len) of the URL of hash h, chunked or not. */
static void
fp_queue_body(struct fp_peer *pe, uint32_t h, uint64_t off, size_t len,
    bool chunked, unsigned fl)
{
	char chunk[4096];
	size_t n, i, piece;

	piece = (fl & 0x01) ? 7 : sizeof chunk;
	while (len > 0) {
		n = len < piece ? len : piece;
		for (i = 0; i < n; i++)
			chunk[i] = fp_body_byte(h, off + i);
		if (chunked)
			fp_queuef(pe, "%zx%s\r\n", n, (fl & 0x02) ?
			    ";name=\"v\";x" : "");
		fp_queue(pe, chunk, n);
		if (chunked)
			fp_queue(pe, "\r\n", 2);
		off += n;
		len -= n;
	}
	if (chunked)
		fp_queuef(pe, "0\r\n%s\r\n", (fl & 0x04) ?
		    "Trailer-Field: 1\r\nETag: \"t\"\r\n" : "");
}

static void
fp_op_reply(struct fp *f, struct fp_peer *pe)
{
	unsigned fl = fp_u8(f), fl2 = fp_u8(f), fl3 = fp_u8(f);
	unsigned status = FP_PICK(f, fp_statuses);
	unsigned ninterim = fl3 >> 6, i, framing = (fl >> 6) & 3;
	size_t blen = FP_PICK(f, fp_blens);
	uint64_t start = 0;
	bool bodiless, head, v10 = (fl3 & 0x08) != 0;
	const char *key;
	uint32_t h;

	/* After a reply delimited by the close, or with no request to
	 * answer, what follows is no reply to a request. */
	if (pe->shut_wanted || pe->nreqs == 0 || (fl3 & 0x20))
		fp_desync(f, pe);
	/* One nobody asked for may still be taken as the reply to a
	 * request this origin never reads (cuttle reuses the connection
	 * and finds the reply waiting): whatever the clients have asked
	 * and will ask from now on is unchecked. */
	if (pe->nreqs == 0)
		fp_poison_clients(f);
	key = pe->nreqs > 0 ? pe->reqs[0].key : "";
	head = pe->nreqs > 0 && pe->reqs[0].head;
	h = key[0] != '\0' ? fp_hash(key) : FP_JUNK;
	for (i = 0; i < ninterim; i++)
		fp_queuef(pe, "HTTP/1.1 %u Interim\r\n%s\r\n",
		    (fl3 & 0x10) ? 103 : 100, (fl3 & 0x10) ?
		    "Link: </s.css>; rel=preload\r\n" : "");
	if (status == 206) {
		start = fp_u8(f) % 8;
		fp_queuef(pe, "HTTP/1.1 206 Partial\r\n"
		    "Content-Range: bytes %llu-%llu/%llu\r\n",
		    (unsigned long long)start, (unsigned long long)(start +
		    (blen > 0 ? blen : 1) - 1), (unsigned long long)(start +
		    blen + (fl2 & 0x01)));
	} else
		fp_queuef(pe, "HTTP/1.%c %u Status\r\n", v10 ? '0' : '1',
		    status);
	if (fl & 0x01)
		fp_queuef(pe, "Cache-Control: %s\r\n", FP_PICK(f, fp_rep_cc));
	if (fl & 0x02)
		fp_queuef(pe, "ETag: %s\r\n", FP_PICK(f, fp_etags));
	if (fl & 0x04)
		fp_queuef(pe, "Last-Modified: %s\r\n", FP_PICK(f, fp_dates));
	if (fl & 0x08)
		fp_queuef(pe, "Date: %s\r\n", FP_PICK(f, fp_dates));
	if (fl & 0x10)
		fp_queuef(pe, "Expires: %s\r\n", FP_PICK(f, fp_dates));
	if (fl & 0x20)
		fp_queuef(pe, "Age: %u\r\n", fp_u8(f) * 7);
	if (fl2 & 0x02)
		fp_queuef(pe, "Vary: %s\r\n", FP_PICK(f, fp_vary));
	if (fl2 & 0x04)
		fp_queuef(pe, "Connection: %s\r\n", (fl2 & 0x08) ?
		    "close" : "keep-alive");
	if (fl2 & 0x10)
		fp_queuef(pe, "Accept-Ranges: bytes\r\n");
	/* A 1xx, 204 or 304 status, or a reply to HEAD, has no content
	 * whatever its fields say: bytes sent after it are junk. */
	bodiless = status < 200 || status == 204 || status == 304 || head;
	if (bodiless)
		h ^= FP_JUNK;
	if (fp_trace)
		fprintf(stderr, "reply %u to \"%s\"%s\n", status, key,
		    bodiless ? " (no content)" : "");
	switch (framing) {
	case 0:
	case 1:
		fp_queuef(pe, "Content-Length: %zu\r\n\r\n", blen);
		break;
	case 2:
		fp_queuef(pe, "Transfer-Encoding: chunked\r\n\r\n");
		break;
	default:
		/* Until close: the origin half-closes once it is out. */
		fp_queuef(pe, "\r\n");
		pe->shut_wanted = true;
		snprintf(pe->close_key, sizeof pe->close_key, "%s", key);
		break;
	}
	if (!bodiless || (fl3 & 0x04))
		fp_queue_body(pe, h, start, blen, framing == 2, fl2 >> 5);
	if (status >= 200 && !(fl3 & 0x20))
		fp_pop_req(pe);
}

static void
fp_op_raw(struct fp *f, struct fp_peer *pe)
{
	unsigned len = fp_u8(f) % 64, i;
	char b[64];

	for (i = 0; i < len; i++)
		b[i] = (char)fp_u8(f);
	fp_queue(pe, b, len);
	pe->raw = true;
	if (pe->origin)
		fp_desync(f, pe);
}

/* A real ClientHello (byte 0 picks which), its handshake message cut
 * after byte 1 * 8 bytes (0: whole), re-framed in records of byte 2
 * bytes (0: one record), byte 3 (0: none) of its bytes xored with byte
 * 4.  Its CONNECT may still be unanswered: that is step 2's business. */
static void
fp_op_hello(struct fp *f, struct fp_peer *pe)
{
	unsigned which = fp_u8(f) % FP_HELLOS, cut = fp_u8(f) * 8u,
	    frag = fp_u8(f), pos = fp_u8(f), x = fp_u8(f);
	const uint8_t *h = fp_hellos[which] + 5;	/* the message */
	size_t len = fp_hello_len[which] - 5, i, n;
	uint8_t b[FP_HELLO_MAX * 6], rec[5];	/* records of 1 byte */
	size_t o = 0;

	if (cut > 0 && cut < len)
		len = cut;
	if (frag == 0)
		frag = (unsigned)len;
	for (i = 0; i < len; i += n) {
		n = len - i < frag ? len - i : frag;
		rec[0] = 0x16;
		rec[1] = 0x03;
		rec[2] = 0x01;
		rec[3] = (uint8_t)(n >> 8);
		rec[4] = (uint8_t)n;
		memcpy(b + o, rec, 5);
		memcpy(b + o + 5, h + i, n);
		o += 5 + n;
	}
	if (pos > 0 && o > 0)
		b[pos % o] ^= (uint8_t)x;
	fp_queue(pe, b, o);
}

static struct fp_peer *
fp_pick_peer(struct fp *f, unsigned b)
{
	if ((b & 1) == 0)
		return (f->nclients > 0 ? &f->clients[(b >> 1) %
		    f->nclients] : NULL);
	return (f->norigins > 0 ? &f->origins[(b >> 1) % f->norigins] : NULL);
}

/* The origin connection that replies: the b-th of those with requests
 * waiting, if any (scripts need not know which connection cuttle
 * opened for what), else of all. */
static struct fp_peer *
fp_pick_origin(struct fp *f, unsigned b)
{
	unsigned i, n = 0;

	for (i = 0; i < f->norigins; i++)
		n += f->origins[i].fd != -1 && f->origins[i].nreqs > 0;
	if (n == 0)
		return (f->norigins > 0 ? &f->origins[b % f->norigins] :
		    NULL);
	b %= n;
	for (i = 0; i < f->norigins; i++)
		if (f->origins[i].fd != -1 && f->origins[i].nreqs > 0 &&
		    b-- == 0)
			break;
	return (&f->origins[i]);
}

enum fp_op {
	FP_OP_CLIENT,
	FP_OP_REQUEST,
	FP_OP_REPLY,
	FP_OP_RAW,
	FP_OP_SEND,
	FP_OP_RUN,
	FP_OP_SHUT,
	FP_OP_RESET,
	FP_OP_CLOSE,
	FP_OP_WARP,
	FP_OP_REFUSE,
	FP_OP_SEND_ALL,
	FP_OP_CLIENT_TLS,
	FP_OP_HTTPS,
	FP_OP_CLIENT_BUMP,
	FP_OP_HELLO,
	FP_OP_TLS_PEER,
	FP_OP_TLS_TAMPER,
	FP_OP_AUTH,
	FP_OP_HELPER_ANSWER,
	FP_OP_HELPER_RAW,
	FP_OP_HELPER_STDERR,
	FP_OP_HELPER_CLOSE,
	FP_OP__COUNT
};

static const double fp_warps[] = { 1, 5, 30, 61, 300, 3600, 86400, 0.2 };

/* tls peer: a client on the https_port with a real TLS client here. */
static void
fp_op_tls_peer(struct fp *f)
{
	struct fp_peer *pe;
	struct comm_conn *c;
	unsigned b = fp_u8(f);
	int fd;

	if (f->nclients == FP_CLIENTS)
		return;
	pe = &f->clients[f->nclients];
	if (fp_peer_open(f, pe, false, &fd) != 0)
		return;
	c = comm_conn_new(f->loop, fd);
	FUZZ_ASSERT(c != NULL);
	f->nclients++;
	fp_tls_peer_start(f, pe, b);
	client_adopt_tls(f->client, c, NULL, fp_tls);
}

static void
fp_script(struct fp *f)
{
	struct comm_conn *c;
	struct fp_helper *hp;
	struct fp_peer *pe;
	unsigned op, ops, i, b;
	int fd;

	for (ops = 0; f->n > 0 && ops < FP_OPS; ops++) {
		op = fp_u8(f) % FP_OP__COUNT;
		if (fp_trace)
			fprintf(stderr, "op %u\n", op);
		switch (op) {
		case FP_OP_CLIENT:
		case FP_OP_CLIENT_TLS:
		case FP_OP_CLIENT_BUMP:
			if (f->nclients == FP_CLIENTS ||
			    fp_peer_open(f, &f->clients[f->nclients], false,
			    &fd) != 0)
				break;
			c = comm_conn_new(f->loop, fd);
			FUZZ_ASSERT(c != NULL);
			if (op != FP_OP_CLIENT) {
				/* Its replies come encrypted: unchecked. */
				f->clients[f->nclients].raw = true;
				f->clients[f->nclients].broken = true;
			}
			f->nclients++;
			if (op == FP_OP_CLIENT_BUMP)
				client_adopt_bump(f->client, c, NULL, f->mint);
			else
				client_adopt_tls(f->client, c, NULL,
				    op == FP_OP_CLIENT_TLS ? fp_tls : NULL);
			break;
		case FP_OP_HELLO:
			b = fp_u8(f);
			if (f->nclients > 0)
				fp_op_hello(f, &f->clients[b % f->nclients]);
			break;
		case FP_OP_HTTPS:
			f->https = !f->https;
			break;
		case FP_OP_TLS_PEER:
			fp_op_tls_peer(f);
			break;
		case FP_OP_TLS_TAMPER:
			b = fp_u8(f);
			if (f->nclients > 0 &&
			    f->clients[b % f->nclients].tls != NULL)
				fp_tls_peer_tamper(f,
				    &f->clients[b % f->nclients]);
			break;
		case FP_OP_AUTH:
			b = fp_u8(f);
			f->creds = fp_u8(f);
			f->creds_on = true;
			if (f->nclients > 0)
				fp_op_request(f, &f->clients[b % f->nclients]);
			f->creds_on = false;
			break;
		case FP_OP_HELPER_ANSWER:
		case FP_OP_HELPER_RAW:
		case FP_OP_HELPER_STDERR:
		case FP_OP_HELPER_CLOSE:
			hp = fp_pick_helper(f, fp_u8(f));
			if (hp == NULL)
				break;
			if (op == FP_OP_HELPER_ANSWER)
				fp_helper_answer(f, hp);
			else if (op == FP_OP_HELPER_RAW)
				fp_helper_raw(f, hp);
			else if (op == FP_OP_HELPER_STDERR)
				fp_helper_stderr(f, hp);
			else
				fp_helper_close(hp);
			break;
		case FP_OP_REQUEST:
			b = fp_u8(f);
			if (f->nclients > 0)
				fp_op_request(f, &f->clients[b % f->nclients]);
			break;
		case FP_OP_REPLY:
			pe = fp_pick_origin(f, fp_u8(f));
			if (pe != NULL)
				fp_op_reply(f, pe);
			break;
		case FP_OP_RAW:
			pe = fp_pick_peer(f, fp_u8(f));
			if (pe != NULL)
				fp_op_raw(f, pe);
			break;
		case FP_OP_SEND:
			pe = fp_pick_peer(f, fp_u8(f));
			b = fp_u8(f);
			if (pe != NULL)
				fp_send(f, pe, b);
			break;
		case FP_OP_RUN:
			b = 1 + fp_u8(f) % 8;
			for (i = 0; i < b; i++)
				fp_run_once(f);
			break;
		case FP_OP_SHUT:
			pe = fp_pick_peer(f, fp_u8(f));
			if (pe != NULL) {
				pe->shut_wanted = true;
				fp_send(f, pe, 0);
			}
			break;
		case FP_OP_RESET:
		case FP_OP_CLOSE:
			pe = fp_pick_peer(f, fp_u8(f));
			if (pe != NULL)
				fp_peer_close(pe, op == FP_OP_RESET);
			break;
		case FP_OP_WARP:
			comm_loop_warp(f->loop, FP_PICK(f, fp_warps));
			break;
		case FP_OP_REFUSE:
			f->refuse++;
			break;
		case FP_OP_SEND_ALL:
			for (i = 0; i < f->nclients; i++)
				fp_send(f, &f->clients[i], 0);
			for (i = 0; i < f->norigins; i++)
				fp_send(f, &f->origins[i], 0);
			fp_run_once(f);
			break;
		}
	}
}

/* -- the proxy ---------------------------------------------------------- */

static void
fp_start(struct fp *f)
{
	struct client_deps deps;
	struct store_limits lim;
	struct dns_params dp;
	struct tls_ctx *tls;
	char err[256];
	int errors = 0;

	f->conf = conf_new();
	FUZZ_ASSERT(f->conf != NULL);
	FUZZ_ASSERT(conf_load_string(f->conf, "fuzz_proxy.conf",
	    fp_conf_text) == 0);
	FUZZ_ASSERT(conf_finish(f->conf) == 0);
	errors = client_rules_compile(f->conf, &f->rules);
	FUZZ_ASSERT(errors == 0);
	FUZZ_ASSERT(tls_mint_new(fp_ca_path, fp_cakey_path, 64 * 1024,
	    TLS_MINT_P256, &f->mint, NULL, err, sizeof err) == 0);
	f->loop = comm_loop_new();
	FUZZ_ASSERT(f->loop != NULL);
	comm_loop_set_connector(f->loop, fp_connector, f);
	comm_loop_set_spawner(f->loop, fp_spawner, f);
	f->tick = comm_timer_new(f->loop, fp_tick, f);
	FUZZ_ASSERT(f->tick != NULL);
	dns_params_from_conf(&dp, f->conf);
	f->dns = dns_resolver_new(f->loop, &dp);
	FUZZ_ASSERT(f->dns != NULL);
	f->fwd = fwd_ctx_new(f->loop, f->dns, f->conf);
	FUZZ_ASSERT(f->fwd != NULL);
	FUZZ_ASSERT(fwd_tls_new(f->conf, &tls) == 0);
	fwd_ctx_set_tls(f->fwd, &tls);
	memset(&lim, 0, sizeof lim);
	lim.cache_mem = f->conf->cache_mem;
	lim.max_obj = f->conf->maximum_object_size_in_memory;
	lim.policy = STORE_POLICY_LRU;
	f->store = store_index_new(f->loop, comm_loop_pool(f->loop), &lim);
	FUZZ_ASSERT(f->store != NULL);
	f->mgr = mgr_new(f->loop);
	FUZZ_ASSERT(f->mgr != NULL);
	f->auth = auth_new(f->loop, &f->conf->auth_param, &errors);
	FUZZ_ASSERT(errors == 0 && f->auth != NULL);
	f->adapt = client_adapt_new(f->loop, f->conf, &errors);
	FUZZ_ASSERT(errors == 0 && f->adapt != NULL);
	f->externals = acl_externals_new(f->loop,
	    &f->conf->external_acl_type, &errors);
	FUZZ_ASSERT(errors == 0 && f->externals != NULL);
	FUZZ_ASSERT(helper_register_metrics(&f->pools,
	    mgr_actions(f->mgr)) == 0);
	FUZZ_ASSERT(auth_register(f->auth, mgr_actions(f->mgr),
	    &f->pools) == 0);
	FUZZ_ASSERT(client_adapt_replace(NULL, f->adapt, mgr_actions(f->mgr),
	    &f->pools) == 0);
	FUZZ_ASSERT(acl_externals_replace(NULL, f->externals,
	    mgr_actions(f->mgr), &f->pools) == 0);
	memset(&deps, 0, sizeof deps);
	deps.loop = f->loop;
	deps.conf = f->conf;
	deps.fwd = f->fwd;
	deps.store = f->store;
	deps.mgr = f->mgr;
	deps.dns = f->dns;
	deps.auth = f->auth;
	deps.adapt = f->adapt;
	deps.externals = f->externals;
	client_rules_lend(&f->rules, &deps);
	f->client = client_ctx_new(&deps);
	FUZZ_ASSERT(f->client != NULL);
	FUZZ_ASSERT(client_register_pages(f->client) == 0);
	FUZZ_ASSERT(store_register_pages(f->store, mgr_actions(f->mgr)) ==
	    0);
}

/* As main.c's cuttle_fini(): transfers in flight are cut, their
 * completions run, then everything is freed, top down.  Each count that
 * must be back at zero is checked here, before comm_loop_free() and
 * buf_pool_free() would abort on it with less to say. */
static void
fp_stop(struct fp *f)
{
	struct comm_loop_stats cs;
	struct buf_pool_stats ps;
	unsigned i;

	client_ctx_close_all(f->client);
	for (i = 0; !client_ctx_idle(f->client) || !fwd_ctx_idle(f->fwd);
	    i++) {
		FUZZ_ASSERT(i < FP_TEARDOWN);	/* teardown hangs */
		fp_run_once(f);
	}
	client_ctx_free(&f->client);
	auth_free(&f->auth);
	client_adapt_free(&f->adapt);
	acl_externals_free(&f->externals);
	store_index_free(&f->store);
	mgr_free(&f->mgr);
	fwd_ctx_free(&f->fwd);
	dns_resolver_free(&f->dns);
	comm_timer_free(&f->tick);
	/* What is still queued runs (as comm_loop_free() would). */
	for (i = 0; i < 16; i++)
		comm_loop_run_once(f->loop);
	comm_loop_stats(f->loop, &cs);
	FUZZ_ASSERT(cs.ops == 0);	/* a completion never came */
	/* Only closes still sending their close_notify (to a peer that
	 * reads no more) may be left: comm_loop_free() ends them. */
	FUZZ_ASSERT(cs.conns == cs.lingering);
	FUZZ_ASSERT(cs.listeners == 0);
	buf_pool_stats(comm_loop_pool(f->loop), &ps);
	FUZZ_ASSERT(ps.pages == 0 && ps.bytes == 0 && ps.pinned == 0);
	comm_loop_free(&f->loop);
	tls_mint_free(&f->mint);
	client_rules_free(&f->rules);
	conf_free(&f->conf);
	for (i = 0; i < FP_CLIENTS; i++)
		fp_peer_fini(&f->clients[i]);
	for (i = 0; i < FP_ORIGINS; i++)
		fp_peer_fini(&f->origins[i]);
	for (i = 0; i < f->nhelpers; i++)
		fp_helper_close(&f->helpers[i]);
}

static unsigned
fp_count_fds(void)
{
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (d == NULL)
		return (0);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return (n);
}

static void
fp_cleanup(void)
{
	(void)unlink(fp_hosts_path);
	(void)unlink(fp_cert_path);
	(void)unlink(fp_key_path);
	(void)unlink(fp_ca_path);
	(void)unlink(fp_cakey_path);
	tls_ctx_free(&fp_tls);
	SSL_CTX_free(fp_tls_peer_ctx);
	free(fp_conf_text);
}

/* A self-signed certificate for the https_port, made at start: nothing
 * committed expires. */
static void
fp_tls_init(void)
{
	struct tls_options o;
	EVP_PKEY *k;
	X509 *x;
	FILE *fc, *fk;
	char err[256];
	int fd;

	k = EVP_EC_gen("P-256");
	x = X509_new();
	FUZZ_ASSERT(k != NULL && x != NULL);
	FUZZ_ASSERT(X509_set_version(x, 2) == 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	FUZZ_ASSERT(X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL);
	FUZZ_ASSERT(X509_gmtime_adj(X509_getm_notAfter(x), 86400 * 30) !=
	    NULL);
	FUZZ_ASSERT(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"a.test", -1, -1, 0) == 1);
	FUZZ_ASSERT(X509_set_issuer_name(x, X509_get_subject_name(x)) == 1);
	FUZZ_ASSERT(X509_set_pubkey(x, k) == 1);
	FUZZ_ASSERT(X509_sign(x, k, EVP_sha256()) > 0);
	snprintf(fp_cert_path, sizeof fp_cert_path,
	    "/tmp/fuzz_proxy_crt.XXXXXX");
	snprintf(fp_key_path, sizeof fp_key_path,
	    "/tmp/fuzz_proxy_key.XXXXXX");
	fd = mkstemp(fp_cert_path);
	FUZZ_ASSERT(fd != -1 && (fc = fdopen(fd, "w")) != NULL);
	fd = mkstemp(fp_key_path);
	FUZZ_ASSERT(fd != -1 && (fk = fdopen(fd, "w")) != NULL);
	FUZZ_ASSERT(PEM_write_X509(fc, x) == 1);
	FUZZ_ASSERT(PEM_write_PrivateKey(fk, k, NULL, NULL, 0, NULL,
	    NULL) == 1);
	fclose(fc);
	fclose(fk);
	X509_free(x);
	EVP_PKEY_free(k);
	memset(&o, 0, sizeof o);
	o.cert = fp_cert_path;
	o.key = fp_key_path;
	FUZZ_ASSERT(tls_ctx_server_new(&o, &fp_tls, err, sizeof err) == 0);
	/* The tls peers trust anything: the certificate is not what
	 * they test. */
	fp_tls_peer_ctx = SSL_CTX_new(TLS_client_method());
	FUZZ_ASSERT(fp_tls_peer_ctx != NULL);
	SSL_CTX_set_verify(fp_tls_peer_ctx, SSL_VERIFY_NONE, NULL);
}

/* The ssl-bump port's CA (its key in a file of its own). */
static void
fp_ca_init(void)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	EVP_PKEY *k;
	X509 *x;
	FILE *fc, *fk;
	int fd;

	k = EVP_EC_gen("P-256");
	x = X509_new();
	FUZZ_ASSERT(k != NULL && x != NULL);
	FUZZ_ASSERT(X509_set_version(x, 2) == 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	FUZZ_ASSERT(X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL);
	FUZZ_ASSERT(X509_gmtime_adj(X509_getm_notAfter(x), 86400 * 30) !=
	    NULL);
	FUZZ_ASSERT(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"fuzz CA", -1, -1, 0) == 1);
	FUZZ_ASSERT(X509_set_issuer_name(x, X509_get_subject_name(x)) == 1);
	FUZZ_ASSERT(X509_set_pubkey(x, k) == 1);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    "critical,CA:TRUE");
	FUZZ_ASSERT(ext != NULL && X509_add_ext(x, ext, -1) == 1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier,
	    "hash");
	FUZZ_ASSERT(ext != NULL && X509_add_ext(x, ext, -1) == 1);
	X509_EXTENSION_free(ext);
	FUZZ_ASSERT(X509_sign(x, k, EVP_sha256()) > 0);
	snprintf(fp_ca_path, sizeof fp_ca_path, "/tmp/fuzz_proxy_ca.XXXXXX");
	snprintf(fp_cakey_path, sizeof fp_cakey_path,
	    "/tmp/fuzz_proxy_cak.XXXXXX");
	fd = mkstemp(fp_ca_path);
	FUZZ_ASSERT(fd != -1 && (fc = fdopen(fd, "w")) != NULL);
	fd = mkstemp(fp_cakey_path);
	FUZZ_ASSERT(fd != -1 && (fk = fdopen(fd, "w")) != NULL);
	FUZZ_ASSERT(PEM_write_X509(fc, x) == 1);
	FUZZ_ASSERT(PEM_write_PrivateKey(fk, k, NULL, NULL, 0, NULL,
	    NULL) == 1);
	fclose(fc);
	fclose(fk);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* An encrypted_client_hello extension, outer form (RFC 9849 5), with a
 * random-looking payload: what a client without ECH keys sends. */
static int
fp_ech_add(SSL *s, unsigned type, unsigned context, const unsigned char **out,
    size_t *outlen, X509 *x, size_t idx, int *al, void *arg)
{
	static const unsigned char ech[] = {
		0x00, 0x00, 0x01, 0x00, 0x01, 0x2a, 0x00, 0x04, 0x11, 0x22,
		0x33, 0x44, 0x00, 0x06, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
	};

	(void)s;
	(void)type;
	(void)context;
	(void)x;
	(void)idx;
	(void)al;
	(void)arg;
	*out = ech;
	*outlen = sizeof ech;
	return (1);
}

/* The ClientHellos the hello operation sends: OpenSSL's own. */
static void
fp_hellos_init(void)
{
	static const struct {
		const char	*sni;
		bool		tls12;
		bool		ech;
	} v[FP_HELLOS] = {
		{ "a.test", false, false }, { "b.test", false, false },
		{ NULL, false, false }, { "a.test", true, false },
		{ "a.test", false, true },
	};
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rb, *wb;
	unsigned i;
	int n;

	for (i = 0; i < FP_HELLOS; i++) {
		ctx = SSL_CTX_new(TLS_client_method());
		FUZZ_ASSERT(ctx != NULL);
		if (v[i].tls12)
			SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
		if (v[i].ech)
			FUZZ_ASSERT(SSL_CTX_add_custom_ext(ctx, 0xfe0d,
			    SSL_EXT_CLIENT_HELLO, fp_ech_add, NULL, NULL, NULL,
			    NULL) == 1);
		FUZZ_ASSERT(SSL_CTX_set_alpn_protos(ctx, alpn,
		    sizeof alpn - 1) == 0);
		ssl = SSL_new(ctx);
		rb = BIO_new(BIO_s_mem());
		wb = BIO_new(BIO_s_mem());
		FUZZ_ASSERT(ssl != NULL && rb != NULL && wb != NULL);
		SSL_set_bio(ssl, rb, wb);
		if (v[i].sni != NULL)
			FUZZ_ASSERT(SSL_set_tlsext_host_name(ssl,
			    v[i].sni) == 1);
		SSL_set_connect_state(ssl);
		FUZZ_ASSERT(SSL_do_handshake(ssl) <= 0);
		n = BIO_read(wb, fp_hellos[i], FP_HELLO_MAX);
		FUZZ_ASSERT(n > 5 && n < FP_HELLO_MAX);
		fp_hello_len[i] = (size_t)n;
		SSL_free(ssl);
		SSL_CTX_free(ctx);
	}
	ERR_clear_error();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;
	static const char hosts[] =
	    "192.0.2.1 a.test\n"
	    "192.0.2.2 b.test\n"
	    "2001:db8::1 b.test\n";

	(void)argc;
	(void)argv;
	fuzz_quiet();
	fp_trace = getenv("FUZZ_PROXY_TRACE") != NULL;
	snprintf(fp_hosts_path, sizeof fp_hosts_path,
	    "/tmp/fuzz_proxy_hosts.XXXXXX");
	fd = mkstemp(fp_hosts_path);
	FUZZ_ASSERT(fd != -1);
	FUZZ_ASSERT(write(fd, hosts, sizeof hosts - 1) ==
	    (ssize_t)(sizeof hosts - 1));
	close(fd);
	fp_tls_init();
	fp_ca_init();
	fp_hellos_init();
	atexit(fp_cleanup);
	/* The resolver's one name server refuses: a name hosts_file does
	 * not know fails, and nothing is sent past loopback. */
	FUZZ_ASSERT(asprintf(&fp_conf_text,
	    "cache_mem 1 MB\n"
	    "maximum_object_size_in_memory 64 KB\n"
	    "hosts_file %s\n"
	    "dns_nameservers 127.0.0.1:1\n"
	    "dns_timeout 5 seconds\n"
	    "pid_filename none\n"
	    "debug_options ALL,0\n"
	    "acl purge method PURGE\n"
	    "refresh_pattern . 0 20%% 60\n"
	    "request_timeout 30 seconds\n"
	    "read_timeout 1 minute\n"
	    "client_lifetime 1 hour\n"
	    "pconn_timeout 20 seconds\n"
	    "tls_outgoing_options default-ca=off\n"
	    "acl step1 at_step SslBump1\n"
	    "acl spliced ssl::server_name b.test\n"
	    "acl mismatch ssl_error SQUID_X509_V_ERR_DOMAIN_MISMATCH\n"
	    "sslproxy_cert_error allow mismatch\n"
	    "sslproxy_cert_error deny all\n"
	    "ssl_bump peek step1\n"
	    "ssl_bump splice spliced\n"
	    "ssl_bump bump all\n"
	    "auth_param basic program fuzz-basic\n"
	    "auth_param basic children 2 startup=0\n"
	    "auth_param basic credentialsttl 30 seconds\n"
	    "auth_param basic utf8 on\n"
	    "auth_param basic timeout 20 seconds\n"
	    "auth_param digest program fuzz-digest\n"
	    "auth_param digest children 1 concurrency=3\n"
	    "auth_param digest realm " FP_REALM "\n"
	    "auth_param digest nonce_max_count 4\n"
	    "auth_param digest nonce_max_duration 2 minutes\n"
	    "url_rewrite_program fuzz-rewrite\n"
	    "url_rewrite_children 2 startup=1 concurrency=4 queue-size=6\n"
	    "url_rewrite_timeout 40 seconds on_timeout=bypass\n"
	    "acl rwpath urlpath_regex ^/rw\n"
	    "url_rewrite_access allow rwpath\n"
	    "url_rewrite_access deny all\n"
	    "store_id_program fuzz-storeid\n"
	    "store_id_children 1\n"
	    "acl sidpath urlpath_regex ^/sid\n"
	    "store_id_access allow sidpath\n"
	    "store_id_access deny all\n"
	    "external_acl_type fx ttl=5 negative_ttl=2 children-max=2 "
	    "concurrency=3 %%SRC %%DST %%>{Host} %%URI %%METHOD %%PATH "
	    "%%EXT_USER fuzz-ext\n"
	    "external_acl_type fy ttl=0 children-max=1 %%LOGIN %%PATH "
	    "fuzz-extlogin\n"
	    "acl authpath urlpath_regex ^/auth\n"
	    "acl extpath urlpath_regex ^/ext\n"
	    "acl loginpath urlpath_regex ^/auth/ext\n"
	    "acl authed proxy_auth REQUIRED\n"
	    "acl ext external fx\n"
	    "acl extlogin external fy\n"
	    "acl denied note tag deny\n"
	    "http_access deny authpath !authed\n"
	    "http_access deny extpath !ext\n"
	    "http_access deny loginpath !extlogin\n"
	    "http_access deny denied\n"
	    "http_access allow all\n", fp_hosts_path) > 0);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp f;
	unsigned fds, i;

	fds = fp_count_fds();
	memset(&f, 0, sizeof f);
	for (i = 0; i < FP_CLIENTS; i++)
		f.clients[i].fd = -1;
	for (i = 0; i < FP_ORIGINS; i++)
		f.origins[i].fd = -1;
	f.p = data;
	f.n = size;
	fp_start(&f);
	fp_script(&f);
	for (i = 0; i < FP_SETTLE; i++) {
		fp_read_all(&f);
		for (unsigned j = 0; j < f.nclients; j++)
			fp_send(&f, &f.clients[j], 0);
		for (unsigned j = 0; j < f.norigins; j++)
			fp_send(&f, &f.origins[j], 0);
		fp_run_once(&f);
	}
	fp_stop(&f);
	FUZZ_ASSERT(fp_count_fds() == fds);	/* a descriptor leaked */
	return (0);
}
