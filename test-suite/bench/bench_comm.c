/*
 * bench_comm.c - push 1 GiB through loopback TCP with comm, two ways:
 *
 *   (a) slices: every write is a chain of slices over a few shared 64 KiB
 *       pages (what a memory hit will send: the store's pages, pinned);
 *   (b) copy:   every write copies one contiguous 256 KiB buffer into
 *       fresh blocks first (what a proxy that copies store data into
 *       per-client buffers does).
 *
 * Both ends live in one loop in one process, as the proxy's client and
 * server sides will.  Prints a markdown table: throughput, CPU seconds,
 * and the bytes the proxy copied per byte sent (the pool's `copied`
 * counter, which only buf_chain_append() moves: kernel copies are not
 * counted).  Loopback only; each run is capped at BENCH_MAX_SECONDS.
 *
 *	usage: bench_comm [MiB]		(default 1024)
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/check.h"
#include "buf/buf.h"
#include "comm/comm.h"

#define BENCH_PAGE		65536u
#define BENCH_PAGES		16u
#define BENCH_WRITE		(4 * BENCH_PAGE)	/* bytes per writev */
#define BENCH_INFLIGHT		4		/* writes queued at once */
#define BENCH_MAX_SECONDS	30.0

enum bench_mode { MODE_SLICES, MODE_COPY };

struct bench {
	enum bench_mode		mode;
	struct comm_loop	*loop;
	struct comm_listener	*l;
	struct comm_conn	*tx;		/* the proxy's client side */
	struct comm_conn	*rx;		/* reader (the client) */
	struct buf		*pages[BENCH_PAGES];
	unsigned char		*flat;		/* (b)'s contiguous source */
	uint64_t		total;
	uint64_t		queued;
	uint64_t		written;
	uint64_t		received;
	unsigned		next_page;
	unsigned		inflight;
	double			t0;
	bool			failed;
	bool			timed_out;
};

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

static void	bench_fill(struct bench *b);

/* Any result but OK ends the run; says so once, not for every write
 * cancelled by the teardown that follows. */
static bool
bench_failed(struct bench *b, const char *what, const struct comm_result *res)
{
	if (res->status == COMM_OK)
		return (false);
	if (!b->failed)
		fprintf(stderr, "bench: %s: %s%s%s\n", what,
		    comm_status_name(res->status),
		    res->status == COMM_ERROR ? ": " : "",
		    res->status == COMM_ERROR ? strerror(res->err) : "");
	b->failed = true;
	comm_loop_stop(b->loop);
	return (true);
}

static void
bench_written(struct comm_conn *c, const struct comm_result *res, void *arg)
{
	struct bench *b = arg;

	(void)c;
	if (bench_failed(b, "write", res))
		return;
	b->written += res->len;
	b->inflight--;
	if (b->written >= b->total && b->received >= b->total)
		comm_loop_stop(b->loop);
	bench_fill(b);
}

/* Keep BENCH_INFLIGHT writes queued until the total is queued. */
static void
bench_fill(struct bench *b)
{
	struct buf_chain ch;
	uint64_t n;
	unsigned i;

	if (wall() - b->t0 > BENCH_MAX_SECONDS) {
		b->timed_out = true;
		b->total = b->queued;
	}
	while (b->inflight < BENCH_INFLIGHT && b->queued < b->total) {
		n = b->total - b->queued;
		if (n > BENCH_WRITE)
			n = BENCH_WRITE;
		buf_chain_init(&ch, comm_loop_pool(b->loop));
		if (b->mode == MODE_SLICES) {
			for (i = 0; i * BENCH_PAGE < n; i++) {
				AZ(buf_chain_append_slice(&ch,
				    b->pages[b->next_page], 0,
				    n - i * BENCH_PAGE < BENCH_PAGE ?
				    n - i * BENCH_PAGE : BENCH_PAGE));
				b->next_page = (b->next_page + 1) % BENCH_PAGES;
			}
		} else {
			AZ(buf_chain_append(&ch, b->flat, n));
		}
		b->queued += n;
		b->inflight++;
		comm_writev(b->tx, &ch, bench_written, b);
		buf_chain_fini(&ch);
	}
}

static void
bench_read(struct comm_conn *c, const struct comm_result *res, void *arg)
{
	struct bench *b = arg;

	if (bench_failed(b, "read", res))
		return;
	b->received += res->len;
	if (b->received >= b->total) {
		if (b->written >= b->total)
			comm_loop_stop(b->loop);
		return;
	}
	comm_read(c, NULL, BENCH_PAGE, bench_read, b);
}

static void
bench_accept(struct comm_listener *l, struct comm_conn *c, void *arg)
{
	struct bench *b = arg;

	b->rx = c;
	comm_accept_stop(l);
	comm_read(c, NULL, BENCH_PAGE, bench_read, b);
}

static void
bench_connected(struct comm_conn *c, const struct comm_result *res,
    void *arg)
{
	struct bench *b = arg;

	(void)c;
	if (bench_failed(b, "connect", res))
		return;
	b->t0 = wall();
	bench_fill(b);
}

static int
bench_run(enum bench_mode mode, uint64_t total)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_storage ss;
	struct buf_pool_stats ps0, ps1;
	struct comm_loop_stats ls;
	struct bench b;
	socklen_t sslen;
	double c0, secs, cpus;
	unsigned i, j;

	memset(&b, 0, sizeof b);
	b.mode = mode;
	b.total = total;
	b.loop = comm_loop_new();
	AN(b.loop);
	for (i = 0; i < BENCH_PAGES; i++) {
		b.pages[i] = buf_alloc(comm_loop_pool(b.loop), BENCH_PAGE);
		AN(b.pages[i]);
		for (j = 0; j < BENCH_PAGE; j++)
			b.pages[i]->data[j] = (unsigned char)(i + j);
		b.pages[i]->fill = BENCH_PAGE;
	}
	b.flat = malloc(BENCH_WRITE);
	AN(b.flat);
	memset(b.flat, 'x', BENCH_WRITE);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	AZ(comm_listen(b.loop, (struct sockaddr *)&sin, sizeof sin, 16, &b.l));
	comm_listener_addr(b.l, &ss, &sslen);
	comm_accept_start(b.l, bench_accept, &b);
	buf_pool_stats(comm_loop_pool(b.loop), &ps0);
	c0 = cpu();
	b.tx = comm_connect(b.loop, (struct sockaddr *)&ss, sslen, 5.0,
	    bench_connected, &b);
	AN(b.tx);
	comm_loop_run(b.loop);
	secs = wall() - b.t0;
	cpus = cpu() - c0;
	buf_pool_stats(comm_loop_pool(b.loop), &ps1);

	if (!b.failed)
		printf("| %-32s | %6.0f | %5.2f | %8.0f | %5.2f | %11.3f |%s\n",
		    mode == MODE_SLICES ? "(a) slices over shared pages" :
		    "(b) contiguous buffer, copied",
		    (double)b.received / 1048576., secs,
		    (double)b.received / 1e6 / secs, cpus,
		    (double)(ps1.copied - ps0.copied) / (double)b.written,
		    b.timed_out ? " (time cap hit)" : "");

	comm_close(&b.tx);
	comm_close(&b.rx);
	comm_listener_close(&b.l);
	do {
		comm_loop_run_once(b.loop);
		comm_loop_stats(b.loop, &ls);
	} while (ls.conns > 0);
	for (i = 0; i < BENCH_PAGES; i++)
		buf_unref(&b.pages[i]);
	free(b.flat);
	comm_loop_free(&b.loop);
	return (b.failed ? 1 : 0);
}

int
main(int argc, char **argv)
{
	uint64_t mib = 1024;
	int rc = 0;

	if (argc > 1)
		mib = strtoull(argv[1], NULL, 10);
	if (mib == 0) {
		fprintf(stderr, "usage: bench_comm [MiB]\n");
		return (2);
	}
	printf("comm: %llu MiB through loopback TCP, %u KiB per writev, "
	    "%u writes queued\n\n", (unsigned long long)mib,
	    BENCH_WRITE / 1024, BENCH_INFLIGHT);
	printf("| %-32s | %6s | %5s | %8s | %5s | %11s |\n", "mode", "MiB",
	    "s", "MB/s", "CPU s", "copied/sent");
	printf("|%s|%s|%s|%s|%s|%s|\n", "----------------------------------",
	    "-------:", "------:", "---------:", "------:", "------------:");
	rc |= bench_run(MODE_SLICES, mib << 20);
	rc |= bench_run(MODE_COPY, mib << 20);
	return (rc);
}
