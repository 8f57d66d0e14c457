/*
 * bench_helper.c - helper round trips per second through a pool (the path
 * every auth, url_rewrite, store_id and external acl question takes),
 * with one request a child at a time (concurrency=0, Squid's default)
 * and with 50 channels on one child (concurrency=50).
 *
 * The helper is this program run again with --child: it answers each
 * line at once ("OK", or "ID OK" with channel IDs), as cheaply as a
 * helper can, so the figure is the pool's and the pipes' cost, not a
 * password check's.  Enough requests are kept in flight to fill every
 * child (children x max(concurrency, 1)); each figure is the median of
 * BENCH_RUNS runs of BENCH_SECONDS.
 *
 *	usage: bench_helper
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "comm/comm.h"
#include "helper/helper.h"

struct bench {
	struct comm_loop	*loop;
	struct helper_pool	*pool;
	unsigned long		done;
	unsigned long		failed;
	bool			stop;
	unsigned		inflight;
};

static void	bench_submit(struct bench *b);

static void
bench_done(struct helper_req *rq, const struct helper_reply *r, void *arg)
{
	struct bench *b = arg;

	(void)rq;
	b->inflight--;
	if (r->status == HELPER_OK)
		b->done++;
	else
		b->failed++;
	if (!b->stop)
		bench_submit(b);
}

static void
bench_submit(struct bench *b)
{
	static const char line[] = "http://bench.example/1k 127.0.0.1/- - GET";

	if (helper_submit(b->pool, line, sizeof line - 1, bench_done,
	    b) == NULL) {
		fprintf(stderr, "bench_helper: out of memory\n");
		exit(1);
	}
	b->inflight++;
}

/* The helper: one answer a line, flushed at once (as Squid's are). */
static int
child(bool ids)
{
	char line[4096];
	size_t n;

	while (fgets(line, sizeof line, stdin) != NULL) {
		if (ids) {
			n = strcspn(line, " \n");
			printf("%.*s OK\n", (int)n, line);
		} else
			printf("OK\n");
		fflush(stdout);
	}
	return (0);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* Round trips a second of one run of secs with children x concurrency. */
static double
one_run(const char *self, unsigned children, unsigned conc, double secs)
{
	struct helper_params hp = { .name = "bench", .children_max = children,
	    .startup = children, .idle = 1, .concurrency = conc,
	    .queue_size = 100000 };
	struct bench b = { 0 };
	char cmd[4200];
	double t0, t1, warm;
	unsigned i, depth = children * (conc > 0 ? conc : 1);
	unsigned long before;
	int err;

	snprintf(cmd, sizeof cmd, "%s --child%s", self, conc > 0 ? " --ids" :
	    "");
	hp.cmd = cmd;
	b.loop = comm_loop_new();
	AN(b.loop);
	b.pool = helper_pool_new(b.loop, &hp, &err);
	if (b.pool == NULL) {
		fprintf(stderr, "bench_helper: pool: %s\n", strerror(-err));
		exit(1);
	}
	for (i = 0; i < depth; i++)
		bench_submit(&b);
	/* A warm-up: the children started, the pipes in use. */
	warm = comm_now(b.loop) + 0.5;
	while (comm_now(b.loop) < warm)
		comm_loop_run_once(b.loop);
	before = b.done;
	t0 = comm_now(b.loop);
	t1 = t0 + secs;
	while (comm_now(b.loop) < t1)
		comm_loop_run_once(b.loop);
	t1 = comm_now(b.loop);
	b.stop = true;
	while (b.inflight > 0)
		comm_loop_run_once(b.loop);
	if (b.failed > 0)
		fprintf(stderr, "bench_helper: %lu requests failed\n",
		    b.failed);
	helper_pool_free(&b.pool);
	comm_loop_free(&b.loop);
	return ((double)(b.done - before) / (t1 - t0));
}

int
main(int argc, char **argv)
{
	static const struct {
		unsigned	children;
		unsigned	conc;
	} configs[] = {
		{ 1, 0 }, { 5, 0 }, { 1, 50 }, { 5, 50 },
	};
	const char *e;
	char self[4096];
	double secs = 3, v[32];
	unsigned runs = 3, i, r;
	ssize_t n;

	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		return (child(argc > 2 && strcmp(argv[2], "--ids") == 0));
	if ((e = getenv("BENCH_SECONDS")) != NULL && atof(e) > 0)
		secs = atof(e);
	if ((e = getenv("BENCH_RUNS")) != NULL && atoi(e) > 0)
		runs = (unsigned)atoi(e) < 32 ? (unsigned)atoi(e) : 31;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		fprintf(stderr, "bench_helper: where am I?\n");
		return (1);
	}
	self[n] = '\0';
	printf("helper round trips per second (median of %u runs of %.0f s, "
	    "a helper that answers at once)\n", runs, secs);
	printf("%-30s %12s %20s\n", "pool", "trips/s", "min-max");
	for (i = 0; i < ARRAY_LEN(configs); i++) {
		for (r = 0; r < runs; r++)
			v[r] = one_run(self, configs[i].children,
			    configs[i].conc, secs);
		qsort(v, runs, sizeof v[0], cmp_double);
		printf("children=%u concurrency=%-3u      %12.0f %12.0f-%.0f\n",
		    configs[i].children, configs[i].conc, v[runs / 2], v[0],
		    v[runs - 1]);
	}
	return (0);
}
