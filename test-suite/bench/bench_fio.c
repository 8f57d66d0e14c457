/*
 * bench_fio.c - comm's file I/O engine: reads a second and CPU per read,
 * threads against io_uring, and what a disk store read costs on each.
 *
 * A 64 MiB file in DIR (default /tmp), in the page cache (warm: what a
 * hot store is); NREADS (default 200,000) reads of 4 KiB and of 64 KiB
 * at random aligned offsets, DEPTH (64) of them out at once, completions
 * run from the loop as the proxy runs them.  CPU is the process's, all
 * threads, so the threads' hand-offs count.
 *
 *	usage: bench_fio [NREADS [DIR]]
 */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf/buf.h"
#include "comm/comm.h"
#include "comm/comm_file.h"

#define FILE_SIZE	(64u << 20)
#define DEPTH		64

struct run {
	struct comm_fio		*f;
	int			fd;
	size_t			len;
	unsigned long		left;	/* reads still to start */
	unsigned long		out;
	unsigned long		done;
	uint64_t		rng;
	int			errors;
};

static double
now(void)
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

static comm_fio_fn read_done;

static void
start_one(struct run *r)
{
	uint64_t off;

	r->rng = r->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	off = (r->rng >> 20) % (FILE_SIZE / r->len) * r->len;
	if (comm_fio_read(r->f, r->fd, r->len, off, read_done, r) == NULL) {
		r->errors++;
		return;
	}
	r->left--;
	r->out++;
}

static void
read_done(const struct comm_result *res, void *arg)
{
	struct run *r = arg;

	if (res->status != COMM_OK || res->len != r->len)
		r->errors++;
	r->out--;
	r->done++;
	if (r->left > 0)
		start_one(r);
}

static void
bench(const char *path, enum comm_fio_kind kind, size_t len,
    unsigned long n)
{
	struct comm_loop *loop = comm_loop_new();
	struct run r;
	double t0, c0, t, c;
	int e;

	memset(&r, 0, sizeof r);
	r.rng = 42;
	r.len = len;
	r.left = n;
	r.fd = open(path, O_RDONLY);
	r.f = comm_fio_new(loop, kind, 0, &e);
	if (loop == NULL || r.fd == -1 || r.f == NULL) {
		fprintf(stderr, "bench_fio: %s: cannot start: %s\n",
		    comm_fio_kind_name(kind), strerror(-e));
		exit(1);
	}
	t0 = now();
	c0 = cpu();
	while (r.out < DEPTH && r.left > 0)
		start_one(&r);
	while (r.out > 0)
		comm_loop_run_once(loop);
	t = now() - t0;
	c = cpu() - c0;
	printf("  %-8s %6zu B reads: %9.0f /s  %7.0f MB/s  %6.2f us CPU "
	    "each%s\n", comm_fio_kind_name(comm_fio_kind(r.f)), len,
	    (double)r.done / t, (double)r.done * (double)len / t / 1e6,
	    c / (double)r.done * 1e6, r.errors > 0 ? "  (ERRORS)" : "");
	comm_fio_free(&r.f);
	comm_loop_run_once(loop);
	comm_loop_free(&loop);
	close(r.fd);
}

int
main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	static char blk[1 << 20];
	char path[4096];
	size_t i;
	int fd;

	snprintf(path, sizeof path, "%s/bench_fio.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd == -1) {
		perror("bench_fio: mkstemp");
		return (1);
	}
	memset(blk, 'x', sizeof blk);
	for (i = 0; i < FILE_SIZE / sizeof blk; i++)
		if (write(fd, blk, sizeof blk) != (ssize_t)sizeof blk) {
			perror("bench_fio: write");
			unlink(path);
			return (1);
		}
	close(fd);
	printf("comm file I/O: %lu reads, %d out at once, warm file\n", n,
	    DEPTH);
	bench(path, COMM_FIO_THREADS, 4096, n);
	bench(path, COMM_FIO_URING, 4096, n);
	bench(path, COMM_FIO_THREADS, 65536, n / 4);
	bench(path, COMM_FIO_URING, 65536, n / 4);
	unlink(path);
	return (0);
}
