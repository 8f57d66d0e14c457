/*
 * check_helper.c - helper pools: Squid's answer grammar, and real child
 * processes (unit/helper_prog) that answer, answer out of order, die,
 * hang, babble or crash.
 */
#include "config.h"

#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "comm/comm.h"
#include "helper/helper.h"
#include "mgr/mgr.h"
#include "log_capture.h"

/* -- the grammar ----------------------------------------------------------- */

START_TEST(reply_grammar)
{
	static const struct {
		const char		*in;
		enum helper_status	st;
		const char		*k1, *v1, *k2, *v2;
		const char		*text;
	} t[] = {
		{ "OK", HELPER_OK, NULL, NULL, NULL, NULL, "" },
		{ "ERR", HELPER_ERR, NULL, NULL, NULL, NULL, "" },
		{ "BH message=\"no db\"", HELPER_BH, "message", "no db", NULL,
		    NULL, "" },
		{ "OK user=alice tag=x", HELPER_OK, "user", "alice", "tag",
		    "x", "" },
		{ "OK message=\"a \\\"q\\\" \\\\ b\" log_=1 free text",
		    HELPER_OK, "message", "a \"q\" \\ b", "log_", "1",
		    "free text" },
		{ "ERR wrong password", HELPER_ERR, NULL, NULL, NULL, NULL,
		    "wrong password" },
		{ "OK rewrite-url=http://x/a%20b", HELPER_OK, "rewrite-url",
		    "http://x/a%20b", NULL, NULL, "" },
		{ "OK status=302 url=http://x/", HELPER_OK, "status", "302",
		    "url", "http://x/", "" },
		{ "OK message=\"unclosed", HELPER_OK, NULL, NULL, NULL, NULL,
		    "message=\"unclosed" },
		{ "OK a=\"b\"c", HELPER_OK, NULL, NULL, NULL, NULL,
		    "a=\"b\"c" },
		{ "OKAY", HELPER_UNKNOWN, NULL, NULL, NULL, NULL, "OKAY" },
		{ "http://legacy/url", HELPER_UNKNOWN, NULL, NULL, NULL, NULL,
		    "http://legacy/url" },
		{ "", HELPER_UNKNOWN, NULL, NULL, NULL, NULL, "" },
		{ "OK =x", HELPER_OK, NULL, NULL, NULL, NULL, "=x" },
	};
	struct helper_reply r;
	char line[256];
	size_t i;

	for (i = 0; i < ARRAY_LEN(t); i++) {
		snprintf(line, sizeof line, "%s", t[i].in);
		helper_reply_parse(line, &r);
		ck_assert_msg(r.status == t[i].st, "%s: status", t[i].in);
		ck_assert_msg(r.nkv == (unsigned)(t[i].k1 != NULL) +
		    (unsigned)(t[i].k2 != NULL),
		    "%s: %u pairs", t[i].in, r.nkv);
		if (t[i].k1 != NULL)
			ck_assert_str_eq(helper_reply_get(&r, t[i].k1),
			    t[i].v1);
		if (t[i].k2 != NULL)
			ck_assert_str_eq(helper_reply_get(&r, t[i].k2),
			    t[i].v2);
		ck_assert_str_eq(r.text, t[i].text);
		ck_assert_ptr_null(r.why);
	}
}
END_TEST

/* -- pools ----------------------------------------------------------------- */

#define NREC	64

struct rec {
	int			calls;
	int			order;		/* among all completions */
	enum helper_status	st;
	char			tag[64];
	char			why[96];
	size_t			xs;	/* leading 'x's of the free text */
	size_t			textlen;
};

static struct rec recs[NREC];
static int ndone, norder;
static bool inside_submit;

static void
rec_done(struct helper_req *rq, const struct helper_reply *r, void *arg)
{
	struct rec *rc = arg;
	const char *tag = helper_reply_get(r, "tag");

	(void)rq;
	ck_assert_msg(!inside_submit, "completion inside helper_submit()");
	rc->calls++;
	rc->order = ++norder;
	rc->st = r->status;
	snprintf(rc->tag, sizeof rc->tag, "%s", tag != NULL ? tag : r->text);
	snprintf(rc->why, sizeof rc->why, "%s", r->why != NULL ? r->why : "");
	rc->textlen = strlen(r->text);
	rc->xs = strspn(r->text, "x");
	ndone++;
}

static char prog[512];

/* prog: helper_prog with args. */
static void
prog_for(const char *args)
{
	const char *top = getenv("top_builddir");

	/* make check runs the tests from test-suite/. */
	snprintf(prog, sizeof prog, "%s/test-suite/unit/helper_prog %s",
	    top != NULL ? top : "..", args);
}

static struct helper_pool *
pool(struct comm_loop *loop, const char *args, unsigned max, unsigned conc,
    unsigned queue, double timeout)
{
	struct helper_params hp = {
		.name = "testhelper", .cmd = prog, .children_max = max,
		.startup = 1, .idle = 1, .concurrency = conc,
		.queue_size = queue, .timeout = timeout
	};
	struct helper_pool *p;
	int err;

	prog_for(args);
	p = helper_pool_new(loop, &hp, &err);
	ck_assert_msg(p != NULL, "helper_pool_new: %d", err);
	return (p);
}

static struct helper_req *
submit(struct helper_pool *p, const char *line, int i)
{
	struct helper_req *rq;

	inside_submit = true;
	rq = helper_submit(p, line, strlen(line), rec_done, &recs[i]);
	inside_submit = false;
	ck_assert_ptr_nonnull(rq);
	return (rq);
}

/* Run the loop until n completions, or fail after `secs`. */
static void
run_until(struct comm_loop *loop, int n, double secs)
{
	double end = comm_now(loop) + secs;

	while (ndone < n) {
		ck_assert_msg(comm_now(loop) < end, "%d of %d completions "
		    "after %.1f s", ndone, n, secs);
		comm_loop_run_once(loop);
	}
}

/* Run the loop for about secs seconds. */
static void
run_for(struct comm_loop *loop, double secs)
{
	double end = comm_now(loop) + secs;

	while (comm_now(loop) < end)
		comm_loop_run_once(loop);
}

static struct comm_timer *tick_timer;

static void
tick(struct comm_timer *t, void *arg)
{
	(void)t;
	(void)arg;
}

static struct comm_loop *
loop_new(void)
{
	struct comm_loop *loop = comm_loop_new();

	ck_assert_ptr_nonnull(loop);
	/* run_once must not block forever when nothing else is due. */
	tick_timer = comm_timer_new(loop, tick, NULL);
	comm_timer_start(tick_timer, 0.02, 0.02);
	return (loop);
}

static void
loop_free(struct comm_loop **lp)
{
	comm_timer_free(&tick_timer);
	comm_loop_free(lp);
}

START_TEST(answers_each_request_once)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "echo", 3, 0, 32, 5);
	struct helper_stats st;
	char line[32];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(line, sizeof line, "req%d", i);
		submit(p, line, i);
	}
	run_until(loop, 20, 10);
	for (i = 0; i < 20; i++) {
		snprintf(line, sizeof line, "req%d", i);
		ck_assert_int_eq(recs[i].calls, 1);
		ck_assert_int_eq(recs[i].st, HELPER_OK);
		ck_assert_str_eq(recs[i].tag, line);
	}
	helper_pool_stats(p, &st);
	ck_assert_uint_eq(st.requests, 20);
	ck_assert_uint_eq(st.replies, 20);
	ck_assert_uint_le(st.children, 3);
	ck_assert_uint_ge(st.children, 2);	/* more started on demand */
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

START_TEST(concurrent_answers_out_of_order)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "rev 4", 1, 4, 0, 5);
	char line[32];
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(line, sizeof line, "r%d", i);
		submit(p, line, i);
	}
	run_until(loop, 4, 10);
	for (i = 0; i < 4; i++) {
		snprintf(line, sizeof line, "r%d", i);
		ck_assert_int_eq(recs[i].calls, 1);
		ck_assert_int_eq(recs[i].st, HELPER_OK);
		ck_assert_str_eq(recs[i].tag, line);
		/* Answered last first: r3 first. */
		ck_assert_int_eq(recs[i].order, 4 - i);
	}
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

/*
 * Answers shorter and longer than their questions, around the room a
 * question keeps for its answer, with one- and two-digit channel IDs:
 * each read whole, nothing of the ID or the next line taken with it.
 */
START_TEST(answers_longer_than_their_questions)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "grow", 1, NREC, 0, 5);
	char line[32];
	int i;

	for (i = 0; i < NREC; i++) {
		snprintf(line, sizeof line, "%d", i * 3);
		submit(p, line, i);
	}
	run_until(loop, NREC, 10);
	for (i = 0; i < NREC; i++) {
		snprintf(line, sizeof line, "%d", i * 3);
		ck_assert_int_eq(recs[i].calls, 1);
		ck_assert_int_eq(recs[i].st, HELPER_OK);
		ck_assert_str_eq(recs[i].tag, line);
		ck_assert_uint_eq(recs[i].textlen, (size_t)i * 3);
		ck_assert_uint_eq(recs[i].xs, (size_t)i * 3);
	}
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

/*
 * The requests of one loop round go to one child as one batch (one
 * write, one wake-up), up to its concurrency; the rest to the next least
 * loaded child.
 */
START_TEST(one_round_is_one_batch_to_one_child)
{
	struct comm_loop *loop = loop_new();
	struct helper_params hp = {
		.name = "testhelper", .cmd = prog, .children_max = 3,
		.startup = 3, .idle = 1, .concurrency = 8, .queue_size = 64
	};
	struct helper_stats st;
	struct helper_pool *p;
	char line[32];
	int i, err, first = 0, other = 0;

	prog_for("pid");
	p = helper_pool_new(loop, &hp, &err);
	ck_assert_ptr_nonnull(p);
	/* The startup children start on the loop's first turn. */
	for (i = 0; i < 5; i++)
		comm_loop_run_once(loop);
	helper_pool_stats(p, &st);
	ck_assert_uint_eq(st.children, 3);
	for (i = 0; i < 12; i++) {
		snprintf(line, sizeof line, "r%d", i);
		submit(p, line, i);
	}
	run_until(loop, 12, 10);
	for (i = 0; i < 12; i++) {
		ck_assert_int_eq(recs[i].st, HELPER_OK);
		if (strcmp(recs[i].tag, recs[0].tag) == 0)
			first++;
		else if (strcmp(recs[i].tag, recs[11].tag) == 0)
			other++;
	}
	ck_assert_int_eq(first, 8);
	ck_assert_int_eq(other, 4);
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

START_TEST(child_dying_every_third_request_is_replaced)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "die 3", 2, 0, 32, 10);
	struct helper_stats st;
	char line[32];
	int i;

	for (i = 0; i < 12; i++) {
		snprintf(line, sizeof line, "q%d", i);
		submit(p, line, i);
	}
	run_until(loop, 12, 15);
	helper_pool_stats(p, &st);
	for (i = 0; i < 12; i++) {
		ck_assert_int_eq(recs[i].calls, 1);
		/* Sent again once to a fresh child: answered.  Its third
		 * request may be this one again only if it was retried
		 * already: BH, never a lost callback. */
		ck_assert_msg(recs[i].st == HELPER_OK || recs[i].st ==
		    HELPER_BH, "q%d: %s", i, helper_status_name(recs[i].st));
	}
	ck_assert_uint_ge(st.died, 3);
	ck_assert_uint_ge(st.retries, 3);
	ck_assert_uint_ge(st.started, 4);
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

START_TEST(silent_child_times_out_and_is_replaced)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "mute", 1, 0, 0, 0.2);
	struct helper_stats st;

	submit(p, "one", 0);
	run_until(loop, 1, 5);
	ck_assert_int_eq(recs[0].calls, 1);
	ck_assert_int_eq(recs[0].st, HELPER_TIMEOUT);
	run_for(loop, 0.3);
	helper_pool_stats(p, &st);
	ck_assert_uint_eq(st.died, 1);		/* killed: no channel IDs */
	ck_assert_uint_eq(st.children, 1);	/* and replaced */
	ck_assert_uint_eq(st.results[HELPER_TIMEOUT], 1);
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

/* The spawner seam: children played in process, on socketpairs. */
struct spawned {
	int		fd[8];		/* our ends of stdin/stdout */
	int		efd[8];
	char		argv0[8][64];
	unsigned	n;
	bool		refuse;
};

static int
spawn_here(char *const argv[], int fds[2], void *arg)
{
	struct spawned *sp = arg;
	int io[2], er[2];

	if (sp->refuse || sp->n == 8)
		return (-EAGAIN);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    io), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    er), 0);
	snprintf(sp->argv0[sp->n], sizeof sp->argv0[0], "%s", argv[0]);
	sp->fd[sp->n] = io[0];
	sp->efd[sp->n] = er[0];
	sp->n++;
	fds[0] = io[1];
	fds[1] = er[1];
	return (0);
}

/* What child i was asked, up to n bytes (blocking for them). */
static void
spawned_read(struct spawned *sp, unsigned i, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(sp->fd[i], buf + got, n - got);
		ck_assert_int_gt(r, 0);
		got += (size_t)r;
	}
	buf[n] = '\0';
}

START_TEST(spawner_plays_the_children)
{
	struct comm_loop *loop = loop_new();
	struct helper_params hp = {
		.name = "played", .cmd = "no-such-program --flag",
		.children_max = 2, .startup = 1, .idle = 1, .timeout = 0.2,
	};
	struct spawned sp = { .n = 0 };
	struct helper_stats st;
	struct helper_pool *p;
	char got[16];
	unsigned i, round;
	int err;

	comm_loop_set_spawner(loop, spawn_here, &sp);
	p = helper_pool_new(loop, &hp, &err);
	ck_assert_ptr_nonnull(p);
	submit(p, "one", 0);
	run_for(loop, 0.05);
	/* The program is not run: the spawner got its argv. */
	ck_assert_uint_ge(sp.n, 1);
	ck_assert_str_eq(sp.argv0[0], "no-such-program");
	spawned_read(&sp, 0, got, 4);
	ck_assert_str_eq(got, "one\n");
	ck_assert_int_eq(write(sp.fd[0], "OK tag=a\n", 9), 9);
	ck_assert_int_eq(write(sp.efd[0], "note\n", 5), 5);
	run_until(loop, 1, 5);
	ck_assert_int_eq(recs[0].st, HELPER_OK);
	ck_assert_str_eq(recs[0].tag, "a");
	/* A child that never answers (no channel IDs): with no process to
	 * signal, it is dropped at the timeout, and another started. */
	submit(p, "two", 1);
	run_until(loop, 2, 5);
	ck_assert_int_eq(recs[1].st, HELPER_TIMEOUT);
	run_for(loop, 0.1);
	helper_pool_stats(p, &st);
	ck_assert_uint_eq(st.died, 1);
	ck_assert_uint_ge(sp.n, 2);
	/* Children that die with a request (their ends closed): it goes
	 * to another once, and fails the second time. */
	submit(p, "three", 2);
	for (round = 0; round < 2; round++) {
		run_for(loop, 0.05);
		for (i = 0; i < sp.n; i++) {
			if (sp.fd[i] == -1)
				continue;
			close(sp.fd[i]);
			close(sp.efd[i]);
			sp.fd[i] = sp.efd[i] = -1;
		}
	}
	run_until(loop, 3, 5);
	ck_assert_int_eq(recs[2].st, HELPER_BH);
	ck_assert_str_eq(recs[2].why, "the helper died twice on this "
	    "request");
	sp.refuse = true;
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

START_TEST(garbage_answer_is_unknown)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "garbage", 1, 0, 0, 5);

	submit(p, "x", 0);
	run_until(loop, 1, 5);
	ck_assert_int_eq(recs[0].st, HELPER_UNKNOWN);
	ck_assert_str_eq(recs[0].tag, "hello there");
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

START_TEST(full_queue_fails_at_once)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "mute", 1, 0, 2, 0);
	int i;

	for (i = 0; i < 4; i++)
		submit(p, "x", i);	/* 1 sent, 2 queued, 1 too many */
	run_until(loop, 1, 5);
	ck_assert_int_eq(recs[3].calls, 1);
	ck_assert_int_eq(recs[3].st, HELPER_OVERLOAD);
	ck_assert_str_eq(recs[3].why, "the helper's queue is full");
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(recs[i].calls, 0);
	helper_pool_free(&p);
	run_until(loop, 4, 5);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(recs[i].calls, 1);
		ck_assert_int_eq(recs[i].st, HELPER_CANCELLED);
	}
	loop_free(&loop);
}
END_TEST

START_TEST(shutdown_with_requests_in_flight)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "rev 8", 2, 4, 0, 0);
	int i;

	for (i = 0; i < 10; i++)
		submit(p, "x", i);
	run_for(loop, 0.1);
	helper_pool_free(&p);
	run_until(loop, 10, 5);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(recs[i].calls, 1);
		ck_assert_int_eq(recs[i].st, HELPER_CANCELLED);
	}
	run_for(loop, 0.05);		/* the children's comm callbacks */
	loop_free(&loop);
}
END_TEST

START_TEST(cancel_queued_and_in_flight)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "echo", 1, 0, 0, 5);
	struct helper_req *a, *b;

	a = submit(p, "a", 0);		/* sent */
	b = submit(p, "b", 1);		/* queued: the child is busy */
	helper_cancel(&b);
	ck_assert_ptr_null(b);
	helper_cancel(&a);
	submit(p, "c", 2);
	ck_assert_int_eq(recs[0].calls + recs[1].calls, 0);
	run_until(loop, 3, 5);
	ck_assert_int_eq(recs[0].st, HELPER_CANCELLED);
	ck_assert_int_eq(recs[1].st, HELPER_CANCELLED);
	ck_assert_int_eq(recs[2].st, HELPER_OK);
	ck_assert_str_eq(recs[2].tag, "c");	/* a's late answer dropped */
	run_for(loop, 0.05);
	ck_assert_int_eq(recs[0].calls, 1);
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

START_TEST(crashing_program_backs_off_and_logs)
{
	struct comm_loop *loop;
	struct helper_pool *p;
	struct helper_stats st;

	/* The timeout is far above the few milliseconds two crashes take,
	 * so a loaded machine cannot turn a crash into a timeout. */
	log_capture_start();
	loop = loop_new();
	p = pool(loop, "crash", 2, 0, 0, 10);
	submit(p, "x", 0);
	run_until(loop, 1, 10);
	/* Sent to a second child when the first died, and no third. */
	ck_assert_int_eq(recs[0].st, HELPER_BH);
	ck_assert_str_eq(recs[0].why, "the helper died twice on this "
	    "request");
	ck_assert_ptr_nonnull(strstr(log_captured(), "2 children in a row "
	    "died before answering; next start in 1 s"));
	/* Each child after that starts only when the backoff allows (1 s,
	 * then 2 s, 4 s ...) and dies at once: in 3.5 s a handful start,
	 * not a fork loop.  How many exactly depends on the order the
	 * first deaths are seen in, which a loaded machine shuffles. */
	submit(p, "y", 1);
	run_for(loop, 3.5);
	helper_pool_stats(p, &st);
	ck_assert_uint_ge(st.early_deaths, 3);
	ck_assert_uint_le(st.started, 8);
	ck_assert_ptr_nonnull(strstr(log_captured(), "children in a row "
	    "died before answering; next start in 2 s"));
	/* y is answered once, and not OK: BH when two children died on it,
	 * a timeout if the backoff outlasts it. */
	run_until(loop, 2, 15);
	ck_assert_int_eq(recs[1].calls, 1);
	ck_assert_msg(recs[1].st == HELPER_BH || recs[1].st ==
	    HELPER_TIMEOUT, "y: %s", helper_status_name(recs[1].st));
	helper_pool_free(&p);
	loop_free(&loop);
	log_capture_stop();
}
END_TEST

START_TEST(missing_program_is_logged)
{
	struct comm_loop *loop;
	struct helper_params hp = {
		.name = "nohelper", .cmd = "/nonexistent/helper -x",
		.children_max = 1, .startup = 1, .timeout = 0.2
	};
	struct helper_pool *p;
	int err;

	log_capture_start();
	loop = loop_new();
	p = helper_pool_new(loop, &hp, &err);
	ck_assert_ptr_nonnull(p);
	submit(p, "x", 0);
	run_until(loop, 1, 5);
	ck_assert_int_eq(recs[0].st, HELPER_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(log_captured(), "helper nohelper: "
	    "cannot start /nonexistent/helper"));
	helper_pool_free(&p);
	loop_free(&loop);
	log_capture_stop();
}
END_TEST

START_TEST(stderr_goes_to_the_log)
{
	struct comm_loop *loop;
	struct helper_pool *p;

	log_capture_start();
	loop = loop_new();
	p = pool(loop, "stderr", 1, 0, 0, 5);
	submit(p, "psst", 0);
	run_until(loop, 1, 5);
	run_for(loop, 0.1);
	ck_assert_ptr_nonnull(strstr(log_captured(),
	    "helper testhelper #1: complaint: psst"));
	helper_pool_free(&p);
	loop_free(&loop);
	log_capture_stop();
}
END_TEST

START_TEST(bad_request_line_fails_without_reaching_a_child)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "echo", 1, 0, 0, 5);
	struct helper_req *rq;

	inside_submit = true;
	rq = helper_submit(p, "a\nOK", 4, rec_done, &recs[0]);
	ck_assert_ptr_nonnull(rq);
	rq = helper_submit(p, "a\0b", 3, rec_done, &recs[1]);
	ck_assert_ptr_nonnull(rq);
	inside_submit = false;
	run_until(loop, 2, 5);
	ck_assert_int_eq(recs[0].st, HELPER_BH);
	ck_assert_int_eq(recs[1].st, HELPER_BH);
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

START_TEST(child_inherits_no_descriptor)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "fds", 1, 0, 0, 5);

	submit(p, "x", 0);
	run_until(loop, 1, 5);
	ck_assert_int_eq(recs[0].st, HELPER_OK);
	ck_assert_str_eq(recs[0].tag, "0");
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

START_TEST(page_and_metrics)
{
	struct comm_loop *loop = loop_new();
	struct helper_pool *p = pool(loop, "echo", 2, 0, 0, 5);
	struct helper_pools ps = { { p }, 1 };
	struct mgr_registry *r = mgr_registry_new();
	const struct mgr_action *a;
	struct mgr_call call = { NULL, NULL, 0 };
	struct mgr_out o;

	submit(p, "secret", 0);
	run_until(loop, 1, 5);
	ck_assert_int_eq(helper_register_page(p, r), 0);
	ck_assert_int_eq(helper_register_metrics(&ps, r), 0);
	a = mgr_registry_find(r, "testhelper", 10);
	ck_assert_ptr_nonnull(a);
	mgr_out_init(&o);
	ck_assert_int_eq(a->fn(&o, &call, a->arg), 0);
	ck_assert_ptr_nonnull(strstr(o.p, "requests sent: 1\n"));
	ck_assert_ptr_nonnull(strstr(o.p, "replies received: 1\n"));
	ck_assert_ptr_null(strstr(o.p, "secret"));
	mgr_out_fini(&o);
	a = mgr_registry_find(r, "helper_metrics", 14);
	ck_assert_ptr_nonnull(a);
	ck_assert(a->flags & MGR_F_METRICS);
	mgr_out_init(&o);
	ck_assert_int_eq(a->fn(&o, &call, a->arg), 0);
	ck_assert_ptr_nonnull(strstr(o.p,
	    "cuttle_helper_requests_total{helper=\"testhelper\"} 1\n"));
	mgr_out_fini(&o);
	mgr_registry_free(&r);
	helper_pool_free(&p);
	loop_free(&loop);
}
END_TEST

static Suite *
helper_suite(void)
{
	Suite *s = suite_create("helper");
	TCase *tc;

	tc = tcase_create("grammar");
	tcase_add_test(tc, reply_grammar);
	suite_add_tcase(s, tc);
	tc = tcase_create("pool");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, answers_each_request_once);
	tcase_add_test(tc, concurrent_answers_out_of_order);
	tcase_add_test(tc, answers_longer_than_their_questions);
	tcase_add_test(tc, one_round_is_one_batch_to_one_child);
	tcase_add_test(tc, child_dying_every_third_request_is_replaced);
	tcase_add_test(tc, silent_child_times_out_and_is_replaced);
	tcase_add_test(tc, spawner_plays_the_children);
	tcase_add_test(tc, garbage_answer_is_unknown);
	tcase_add_test(tc, full_queue_fails_at_once);
	tcase_add_test(tc, shutdown_with_requests_in_flight);
	tcase_add_test(tc, cancel_queued_and_in_flight);
	tcase_add_test(tc, crashing_program_backs_off_and_logs);
	tcase_add_test(tc, missing_program_is_logged);
	tcase_add_test(tc, stderr_goes_to_the_log);
	tcase_add_test(tc, bad_request_line_fails_without_reaching_a_child);
	tcase_add_test(tc, child_inherits_no_descriptor);
	tcase_add_test(tc, page_and_metrics);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(helper_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
