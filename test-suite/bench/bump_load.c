/*
 * bump_load.c - a load client for the bench's ssl_bump points: HTTPS
 * through a forward proxy's CONNECT (then TLS inside the tunnel), or
 * straight to an HTTPS server (nginx, the ceiling).  wrk cannot CONNECT,
 * and `openssl s_time` cannot either; this does the least a browser
 * would: CONNECT, a full TLS handshake (no session reuse, no
 * verification: the client's CPU is not what is measured), then GETs on
 * the kept-alive tunnel.
 *
 *	bump_load [-x PROXY] -t HOST:PORT [-c CONNS] [-d SECONDS]
 *	    [-n MAX] [-k PER_CONN] [-u PATH] [-h HOST] [-N NAMES]
 *	    [-o OFFSET] [-r]
 *
 *	-x	the proxy (addr:port); none: TLS straight to -t
 *	-t	the server: CONNECT HOST:PORT, SNI and Host HOST
 *	-c	connections at once, one thread each (default 10)
 *	-d	seconds (default 5); -n stops sooner after MAX requests
 *	-k	requests per connection (0, the default: until the end)
 *	-u	the path (default /1k); an absolute URL for a proxy's
 *		https_port (no CONNECT), with -h its authority
 *	-h	the Host header (default HOST:PORT)
 *	-N	HOST becomes c<i>.HOST, i from OFFSET (-o) up, a new name
 *		per connection modulo NAMES: every CONNECT a name the proxy
 *		has no certificate for yet (a cold certificate cache)
 *	-r	resume: each connection offers the session (ticket) its
 *		thread's last one got, as a browser does
 *
 * Prints "req_per_s bytes_per_s p50_ms p99_ms" (as compare.sh's wrk
 * runs do), and the errors on stderr.  Bounded: -d and -n end it, and
 * every socket has a 10 s timeout.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define LAT_MAX		(1u << 20)	/* latencies kept per thread */

static struct sockaddr_in dst;		/* the proxy, or the server */
static bool via_proxy;
static char host[256];
static unsigned port, conns = 10, per_conn, names;
static bool resume;
static unsigned long offset;
static double seconds = 5, t_end;
static unsigned long max_reqs;
static const char *path = "/1k", *host_hdr;
static SSL_CTX *ctx;
static atomic_ulong reqs, bytes, errors, next_name;

struct worker {
	pthread_t	th;
	SSL_SESSION	*sess;		/* -r: offered by the next one */
	float		*lat;		/* ms */
	size_t		nlat;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static bool
done(void)
{
	return (now() >= t_end || (max_reqs > 0 && reqs >= max_reqs));
}

static int
addr_parse(const char *s, struct sockaddr_in *sa, char *name, size_t len,
    unsigned *p)
{
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= len)
		return (-1);
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	*p = (unsigned)atoi(colon + 1);
	if (sa != NULL) {
		memset(sa, 0, sizeof *sa);
		sa->sin_family = AF_INET;
		sa->sin_port = htons((uint16_t)*p);
		if (inet_pton(AF_INET, name, &sa->sin_addr) != 1)
			return (-1);
	}
	return (0);
}

/* Read until "\r\n\r\n" into b (size len); returns the bytes read, the
 * head's length in *head; -1 on error. */
static ssize_t
read_head_fd(int fd, char *b, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n < len - 1) {
		r = read(fd, b + n, 1);	/* nothing past the head */
		if (r <= 0)
			return (-1);
		n++;
		if (n >= 4 && memcmp(b + n - 4, "\r\n\r\n", 4) == 0) {
			b[n] = '\0';
			return ((ssize_t)n);
		}
	}
	return (-1);
}

/* One GET on ssl; the reply read whole.  0, or -1. */
static int
get(SSL *ssl, const char *name, struct worker *w)
{
	char req[512], b[16384];
	double t0 = now();
	size_t have = 0, head = 0, body, got;
	const char *cl;
	int n;

	if (host_hdr != NULL)
		n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: "
		    "%s\r\n\r\n", path, host_hdr);
	else
		n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: "
		    "%s:%u\r\n\r\n", path, name, port);
	if (SSL_write(ssl, req, n) != n)
		return (-1);
	for (;;) {
		n = SSL_read(ssl, b + have, (int)(sizeof b - 1 - have));
		if (n <= 0)
			return (-1);
		have += (size_t)n;
		b[have] = '\0';
		char *e = strstr(b, "\r\n\r\n");
		if (e != NULL) {
			head = (size_t)(e + 4 - b);
			break;
		}
		if (have == sizeof b - 1)
			return (-1);
	}
	if (strncmp(b, "HTTP/1.1 200", 12) != 0)
		return (-1);
	cl = strcasestr(b, "\r\nContent-Length:");
	if (cl == NULL || cl > b + head)
		return (-1);
	body = strtoul(cl + 17, NULL, 10);
	got = have - head;
	while (got < body) {
		n = SSL_read(ssl, b, (int)sizeof b);
		if (n <= 0)
			return (-1);
		got += (size_t)n;
	}
	if (got != body)
		return (-1);
	bytes += head + body;
	reqs++;
	if (w->nlat < LAT_MAX)
		w->lat[w->nlat++] = (float)((now() - t0) * 1000);
	return (0);
}

/* One connection: TCP, CONNECT, TLS, GETs.  0, or -1. */
static int
one_conn(struct worker *w)
{
	struct timeval tv = { 10, 0 };
	char name[300], b[1024];
	unsigned k;
	SSL *ssl;
	int fd, one = 1, n, rc = -1;

	if (names > 0)
		snprintf(name, sizeof name, "c%lu.%s", (offset +
		    atomic_fetch_add(&next_name, 1)) % names, host);
	else
		snprintf(name, sizeof name, "%s", host);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1)
		return (-1);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0)
		goto out;
	if (via_proxy) {
		n = snprintf(b, sizeof b, "CONNECT %s:%u HTTP/1.1\r\n"
		    "Host: %s:%u\r\n\r\n", name, port, name, port);
		if (write(fd, b, (size_t)n) != n ||
		    read_head_fd(fd, b, sizeof b) < 0 ||
		    strncmp(b, "HTTP/1.1 200", 12) != 0)
			goto out;
	}
	ssl = SSL_new(ctx);
	if (ssl == NULL)
		goto out;
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, name);
	if (resume && w->sess != NULL)
		(void)SSL_set_session(ssl, w->sess);
	if (SSL_connect(ssl) == 1) {
		rc = 0;
		for (k = 0; (per_conn == 0 || k < per_conn) && !done(); k++)
			if (get(ssl, name, w) != 0) {
				rc = -1;
				break;
			}
		/* TLS 1.3 tickets come after the handshake: read by now. */
		if (resume && rc == 0) {
			SSL_SESSION_free(w->sess);
			w->sess = SSL_get1_session(ssl);
		}
		if (rc == 0)
			SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	ERR_clear_error();
out:
	close(fd);
	return (rc);
}

static void *
work(void *arg)
{
	struct worker *w = arg;

	while (!done())
		if (one_conn(w) != 0 && !done()) {
			errors++;
			usleep(1000);
		}
	return (NULL);
}

static int
cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x < y ? -1 : x > y);
}

int
main(int argc, char **argv)
{
	struct worker *w;
	float *all;
	size_t n = 0, i;
	double t0, el;
	int c;
	unsigned j;

	while ((c = getopt(argc, argv, "x:t:c:d:n:k:u:h:N:o:r")) != -1)
		switch (c) {
		case 'x':
			if (addr_parse(optarg, &dst, host, sizeof host,
			    &port) != 0) {
				fprintf(stderr, "bad -x %s\n", optarg);
				return (2);
			}
			via_proxy = true;
			break;
		case 't':
			break;		/* below, after -x */
		case 'c': conns = (unsigned)atoi(optarg); break;
		case 'd': seconds = atof(optarg); break;
		case 'n': max_reqs = strtoul(optarg, NULL, 10); break;
		case 'k': per_conn = (unsigned)atoi(optarg); break;
		case 'u': path = optarg; break;
		case 'h': host_hdr = optarg; break;
		case 'N': names = (unsigned)atoi(optarg); break;
		case 'o': offset = strtoul(optarg, NULL, 10); break;
		case 'r': resume = true; break;
		default:
			return (2);
		}
	optind = 1;
	while ((c = getopt(argc, argv, "x:t:c:d:n:k:u:h:N:o:r")) != -1)
		if (c == 't' && addr_parse(optarg, via_proxy ? NULL : &dst,
		    host, sizeof host, &port) != 0) {
			fprintf(stderr, "bad -t %s\n", optarg);
			return (2);
		}
	if (host[0] == '\0' || conns == 0 || conns > 1000) {
		fprintf(stderr, "usage: bump_load [-x PROXY] -t HOST:PORT "
		    "[-c CONNS] [-d S] [-n MAX] [-k N] [-u PATH] [-N NAMES] "
		    "[-o OFFSET] [-r]\n");
		return (2);
	}
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (!resume)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	w = calloc(conns, sizeof *w);
	t0 = now();
	t_end = t0 + seconds;
	for (j = 0; j < conns; j++) {
		w[j].lat = malloc(LAT_MAX * sizeof *w[j].lat);
		pthread_create(&w[j].th, NULL, work, &w[j]);
	}
	for (j = 0; j < conns; j++) {
		pthread_join(w[j].th, NULL);
		n += w[j].nlat;
		SSL_SESSION_free(w[j].sess);
	}
	el = now() - t0;
	all = malloc((n + 1) * sizeof *all);
	for (n = 0, j = 0; j < conns; j++) {
		for (i = 0; i < w[j].nlat; i++)
			all[n++] = w[j].lat[i];
		free(w[j].lat);
	}
	qsort(all, n, sizeof *all, cmp);
	if (errors > 0)
		fprintf(stderr, "warning: %lu connections failed\n",
		    (unsigned long)errors);
	printf("%.0f %.0f %.2f %.2f\n", reqs / el, bytes / el,
	    n ? all[n / 2] : 0.0, n ? all[n * 99 / 100] : 0.0);
	free(all);
	free(w);
	SSL_CTX_free(ctx);
	return (reqs > 0 ? 0 : 1);
}
