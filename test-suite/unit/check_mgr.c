/*
 * check_mgr.c - the cache manager: registry, passwords, counters and
 * history (layer 1), and the pages rendered from a view (layer 6):
 * the menu's protections, 401 for a guarded page, Squid's counter
 * names, and /metrics checked by a parser of the Prometheus text format.
 */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm.h"
#include "conf/conf.h"
#include "mgr/mgr.h"
#include "mgr/mgr_page.h"

static int
render_hello(struct mgr_out *o, const struct mgr_call *c, void *arg)
{
	(void)c;
	mgr_out_printf(o, "hello %s\n", (const char *)arg);
	return (0);
}

/* -- registry and text ----------------------------------------------------- */

START_TEST(register_find_and_keep_the_order)
{
	struct mgr_registry *r = mgr_registry_new();
	const struct mgr_action *a;
	static char x[] = "x", y[] = "y";

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_RUNTIME, "info", "General",
	    0, render_hello, x), 0);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_RUNTIME, "counters",
	    "Counters", MGR_F_PROTECTED, render_hello, y), 0);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_RUNTIME, "info", "again", 0,
	    render_hello, NULL), -EEXIST);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_RUNTIME, "Bad-Name", "x", 0,
	    render_hello, NULL), -EINVAL);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_RUNTIME, "", "x", 0,
	    render_hello, NULL), -EINVAL);
	ck_assert_uint_eq(mgr_registry_count(r), 2);
	ck_assert_str_eq(mgr_registry_at(r, 0)->name, "info");
	ck_assert_str_eq(mgr_registry_at(r, 1)->name, "counters");
	ck_assert_ptr_null(mgr_registry_at(r, 2));
	a = mgr_registry_find(r, "counters@pw", 8);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->title, "Counters");
	ck_assert_ptr_null(mgr_registry_find(r, "count", 5));
	mgr_registry_free(&r);
	ck_assert_ptr_null(r);
}
END_TEST

/* The menu's order is by section, then by registration, whatever the
 * order the modules were created in; rebind moves a module's pages to
 * its replacement and leaves the others alone. */
START_TEST(sections_order_the_menu_and_rebind_follows_a_module)
{
	struct mgr_registry *r = mgr_registry_new();
	static char a[] = "a", b[] = "b", m[] = "m";
	static const char *want[] = { "info", "mem", "objects", "pconn",
	    "ipcache", "config", "client_list" };
	struct mgr_call c = { NULL, NULL, 0 };
	struct mgr_out o;
	size_t i;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_DNS, "ipcache", NULL, 0,
	    render_hello, a), 0);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_SERVER, "pconn", NULL, 0,
	    render_hello, m), 0);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_RUNTIME, "info", NULL, 0,
	    render_hello, m), 0);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_CLIENT, "client_list", NULL,
	    0, render_hello, m), 0);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_SETTINGS, "config", NULL, 0,
	    render_hello, m), 0);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_STORE, "objects", NULL, 0,
	    render_hello, m), 0);
	ck_assert_int_eq(mgr_register(r, MGR_SEC_RUNTIME, "mem", NULL, 0,
	    render_hello, m), 0);
	ck_assert_uint_eq(mgr_registry_count(r), sizeof want / sizeof want[0]);
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_str_eq(mgr_registry_at(r, i)->name, want[i]);

	ck_assert_uint_eq(mgr_registry_rebind(r, a, b), 1);
	ck_assert_uint_eq(mgr_registry_rebind(r, a, b), 0);
	mgr_out_init(&o);
	ck_assert_int_eq(mgr_registry_find(r, "ipcache", 7)->fn(&o, &c,
	    mgr_registry_find(r, "ipcache", 7)->arg), 0);
	ck_assert_str_eq(o.p, "hello b\n");
	mgr_out_fini(&o);
	ck_assert_ptr_eq(mgr_registry_find(r, "pconn", 5)->arg, m);
	mgr_registry_free(&r);
}
END_TEST

START_TEST(out_grows_and_escapes)
{
	struct mgr_out o;
	int i;

	mgr_out_init(&o);
	for (i = 0; i < 1000; i++)
		mgr_out_printf(&o, "%04d,", i);
	ck_assert_uint_eq(o.len, 5000);
	ck_assert_int_eq(strncmp(o.p + 4995, "0999,", 5), 0);
	mgr_out_fini(&o);
	mgr_out_init(&o);
	mgr_out_html(&o, "<a href=\"x\">&'</a>", 18);
	ck_assert_str_eq(o.p,
	    "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
	mgr_out_fini(&o);
	mgr_out_init(&o);
	mgr_out_json(&o, "a\"b\\c\nd", 7);
	ck_assert_str_eq(o.p, "\"a\\\"b\\\\c\\u000ad\"");
	mgr_out_fini(&o);
}
END_TEST

/* -- cachemgr_passwd ------------------------------------------------------- */

static struct conf *
conf_from(const char *text)
{
	struct conf *c = conf_new();

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(conf_load_string(c, "test.conf", text), 0);
	ck_assert_int_eq(conf_finish(c), 0);
	return (c);
}

START_TEST(passwords_follow_squid_rules)
{
	struct conf *c = conf_from(
	    "cachemgr_passwd secret config shutdown\n"
	    "cachemgr_passwd none info\n"
	    "cachemgr_passwd disable counters\n"
	    "cachemgr_passwd other all\n");
	struct mgr_action cfg = { "config", "c", MGR_F_PROTECTED, NULL, NULL,
	    MGR_SEC_RUNTIME };
	struct mgr_action info = { "info", "i", 0, NULL, NULL,
	    MGR_SEC_RUNTIME };
	struct mgr_action cnt = { "counters", "n", 0, NULL, NULL,
	    MGR_SEC_RUNTIME };
	struct mgr_action mem = { "mem", "m", 0, NULL, NULL,
	    MGR_SEC_RUNTIME };
	struct mgr_passwd *pw;
	int errors = 0;

	pw = mgr_passwd_compile(&c->cachemgr_passwd, &errors);
	ck_assert_ptr_nonnull(pw);
	ck_assert_int_eq(errors, 0);
	ck_assert_str_eq(mgr_protection(pw, &cfg), "protected");
	ck_assert_str_eq(mgr_protection(pw, &info), "public");
	ck_assert_str_eq(mgr_protection(pw, &cnt), "disabled");
	ck_assert_str_eq(mgr_protection(pw, &mem), "protected");
	ck_assert(!mgr_password_ok(pw, &cfg, NULL));
	ck_assert(!mgr_password_ok(pw, &cfg, "other"));
	ck_assert(mgr_password_ok(pw, &cfg, "secret"));
	ck_assert(mgr_password_ok(pw, &info, NULL));
	ck_assert(!mgr_password_ok(pw, &cnt, "secret"));
	ck_assert(mgr_password_ok(pw, &mem, "other"));
	mgr_passwd_free(&pw);
	conf_free(&c);
}
END_TEST

START_TEST(without_passwords_guarded_pages_are_hidden_and_refused)
{
	struct mgr_action cfg = { "config", "c", MGR_F_PROTECTED, NULL, NULL,
	    MGR_SEC_RUNTIME };
	struct mgr_action info = { "info", "i", 0, NULL, NULL,
	    MGR_SEC_RUNTIME };
	struct conf *c = conf_from("cachemgr_passwd lonely\n");
	struct mgr_passwd *pw;
	int errors = 0;

	pw = mgr_passwd_compile(NULL, &errors);
	ck_assert_str_eq(mgr_protection(pw, &cfg), "hidden");
	ck_assert_str_eq(mgr_protection(pw, &info), "public");
	ck_assert(!mgr_password_ok(pw, &cfg, "anything"));
	ck_assert(mgr_password_ok(pw, &info, NULL));
	mgr_passwd_free(&pw);
	/* A line without an action is an error, counted. */
	pw = mgr_passwd_compile(&c->cachemgr_passwd, &errors);
	ck_assert_int_eq(errors, 1);
	mgr_passwd_free(&pw);
	conf_free(&c);
}
END_TEST

/* -- counters, history, medians, top --------------------------------------- */

static void
txn(struct mgr_stats *st, enum result_code code, unsigned status,
    uint64_t bytes, double d)
{
	struct mgr_txn_rec r = { code, RESULT_END_OK, status, bytes, d,
	    status >= 400, false };

	mgr_stats_txn(st, &r);
	/* Bytes are counted as they are written, not per transaction. */
	mgr_stats_add(st, MGR_C_BYTES_OUT, bytes);
	if (result_flags(code) & RF_HIT)
		mgr_stats_add(st, MGR_C_HIT_BYTES, bytes);
}

START_TEST(seven_requests_three_hits)
{
	struct mgr_stats st;
	char name[64];
	unsigned i;

	memset(&st, 0, sizeof st);
	for (i = 0; i < 4; i++)
		txn(&st, RESULT_TCP_MISS, 200, 1000, 0.02);
	txn(&st, RESULT_TCP_MEM_HIT, 200, 1000, 0.001);
	txn(&st, RESULT_TCP_MEM_HIT, 200, 1000, 0.001);
	txn(&st, RESULT_TCP_IMS_HIT, 304, 100, 0.001);
	ck_assert_uint_eq(st.c[MGR_C_REQUESTS], 7);
	ck_assert_uint_eq(st.c[MGR_C_HITS], 3);
	ck_assert_uint_eq(st.c[MGR_C_MEM_HITS], 2);
	ck_assert_uint_eq(st.c[MGR_C_HIT_BYTES], 2100);
	ck_assert_uint_eq(st.c[MGR_C_BYTES_OUT], 6100);
	ck_assert_uint_eq(st.by_code[RESULT_TCP_MISS][RESULT_END_OK], 4);
	ck_assert_uint_eq(st.by_code[RESULT_TCP_MEM_HIT][RESULT_END_OK], 2);
	ck_assert_str_eq(mgr_code_name(RESULT_TCP_MISS, RESULT_END_ABORTED,
	    name, sizeof name), "TCP_MISS_ABORTED");
	ck_assert_uint_eq(st.hist[MGR_KIND_ALL][0], 3);	/* <= 5 ms */
	ck_assert_uint_eq(st.hist[MGR_KIND_ALL][2], 4);	/* <= 25 ms */
	ck_assert_uint_eq(st.hist[MGR_KIND_MISS][2], 4);
	ck_assert_uint_eq(st.hist[MGR_KIND_NM][0], 1);
	ck_assert_int_eq(mgr_kind_of(RESULT_TCP_REFRESH_UNMODIFIED, 200),
	    MGR_KIND_NH);
	ck_assert_int_eq(mgr_kind_of(RESULT_TCP_DENIED, 403), MGR_KIND_ALL);
	txn(&st, RESULT_TCP_DENIED, 403, 10, 0);
	ck_assert_uint_eq(st.c[MGR_C_ERRORS], 1);
	ck_assert_uint_eq(st.c[MGR_C_DENIED], 1);
	ck_assert_uint_eq(st.c[MGR_C_HITS], 3);		/* no hit by it */
}
END_TEST

START_TEST(history_gives_five_and_sixty_minute_periods)
{
	static struct mgr_history h;
	struct mgr_stats st;
	struct mgr_sample s, now;
	const struct mgr_sample *from;
	struct mgr_period p;
	unsigned m;

	memset(&h, 0, sizeof h);
	memset(&st, 0, sizeof st);
	ck_assert_ptr_null(mgr_history_ago(&h, 0, 5));
	/* 90 minutes of one request a minute: the ring keeps 61. */
	for (m = 0; m <= 90; m++) {
		mgr_sample_take(&s, &st, 1000.0 + m * 60.0);
		mgr_history_push(&h, &s);
		txn(&st, RESULT_TCP_MISS, 200, 10, 0.01);
	}
	ck_assert_uint_eq(h.n, MGR_HISTORY);
	mgr_sample_take(&now, &st, 1000.0 + 90 * 60.0 + 30);
	from = mgr_history_ago(&h, now.t, 5);
	ck_assert_ptr_nonnull(from);
	mgr_period(&p, from, &now);
	ck_assert(fabs(p.seconds - 330.0) < 1e-6);
	ck_assert_uint_eq(p.c[MGR_C_REQUESTS], 6);
	from = mgr_history_ago(&h, now.t, 60);
	mgr_period(&p, from, &now);
	ck_assert(fabs(p.seconds - 3630.0) < 1e-6);
	ck_assert_uint_eq(p.c[MGR_C_REQUESTS], 61);
	/* Asked further back than it goes: the oldest held. */
	from = mgr_history_ago(&h, now.t, 600);
	ck_assert(fabs(from->t - (1000.0 + 30 * 60.0)) < 1e-6);
	ck_assert(fabs(mgr_ratio(1, 4) - 25.0) < 1e-9);
	ck_assert(mgr_ratio(1, 0) == 0.0);
}
END_TEST

START_TEST(median_interpolates_inside_its_bucket)
{
	uint64_t h[MGR_NBUCKETS];

	memset(h, 0, sizeof h);
	ck_assert(mgr_hist_median(h) == 0.0);
	h[0] = 10;			/* 0 .. 5 ms */
	ck_assert(fabs(mgr_hist_median(h) - 0.0025) < 1e-9);
	h[1] = 10;			/* 5 .. 10 ms */
	ck_assert(fabs(mgr_hist_median(h) - 0.005) < 1e-9);
	memset(h, 0, sizeof h);
	h[MGR_NBUCKETS - 1] = 3;
	ck_assert(fabs(mgr_hist_median(h) - 10.0) < 1e-9);
}
END_TEST

START_TEST(top_keeps_the_busiest)
{
	static struct mgr_top t;
	unsigned idx[3], n, i;
	char key[32];

	memset(&t, 0, sizeof t);
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof key, "http://rare/%u", i);
		mgr_top_add(&t, key, strlen(key), 1);
		mgr_top_add(&t, "http://hot/", 11, 100);
		if (i % 2 == 0)
			mgr_top_add(&t, "http://warm/", 12, 10);
	}
	n = mgr_top_sorted(&t, idx, 3);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(t.v[idx[0]].key, "http://hot/");
	ck_assert_uint_eq(t.v[idx[0]].n, 500);
	ck_assert_uint_eq(t.v[idx[0]].bytes, 50000);
	ck_assert_str_eq(t.v[idx[1]].key, "http://warm/");
	ck_assert_uint_eq(t.v[idx[1]].n, 250);
	ck_assert_uint_le(t.n, MGR_TOP_SLOTS);
}
END_TEST

/* -- pages ----------------------------------------------------------------- */

struct fixture {
	struct comm_loop	*loop;
	struct mgr		*m;
	struct conf		*conf;
	double			now;
	struct mgr_client_figures client;	/* what the client side
						 * would report */
};

/* The figures provider the client side sets in cuttle. */
static void
fixture_figures(struct mgr_figures *fg, void *arg)
{
	const struct fixture *f = arg;

	fg->client = f->client;
}

static void
fixture_init(struct fixture *f, const char *conf)
{
	memset(f, 0, sizeof *f);
	f->loop = comm_loop_new();
	ck_assert_ptr_nonnull(f->loop);
	f->m = mgr_new(f->loop);
	ck_assert_ptr_nonnull(f->m);
	mgr_set_figures(f->m, fixture_figures, f);
	f->conf = conf_from(conf);
	f->now = comm_now(f->loop) + 1;
	mgr_counters(f->m)->c[MGR_C_RECEIVED] = 8;
	mgr_counters(f->m)->c[MGR_C_HITS] = 3;
}

static void
fixture_fini(struct fixture *f)
{
	mgr_free(&f->m);
	conf_free(&f->conf);
	comm_loop_free(&f->loop);
}

static unsigned
answer(struct fixture *f, const char *page, const char *pw,
    struct mgr_reply *rep)
{
	struct mgr_request rq = { page, strlen(page), pw, MGR_FMT_TEXT,
	    f->conf, f->now };

	ck_assert_int_eq(mgr_answer(f->m, &rq, rep), 0);
	return (rep->status);
}

START_TEST(menu_lists_every_page_with_its_protection)
{
	struct fixture f;
	struct mgr_reply rep;

	fixture_init(&f, "cachemgr_passwd secret config\n");
	ck_assert_uint_eq(answer(&f, "menu", NULL, &rep), 200);
	ck_assert_ptr_nonnull(strstr(rep.body.p, " info                  "
	    "\tGeneral Runtime Information     \tpublic\n"));
	ck_assert_ptr_nonnull(strstr(rep.body.p, " config "));
	ck_assert_ptr_nonnull(strstr(rep.body.p, "\tprotected\n"));
	ck_assert_ptr_nonnull(strstr(rep.body.p, " shutdown "));
	ck_assert_ptr_nonnull(strstr(rep.body.p, "\thidden\n"));
	ck_assert_ptr_nonnull(strstr(rep.body.p, " metrics "));
	mgr_out_fini(&rep.body);
	fixture_fini(&f);
}
END_TEST

START_TEST(guarded_page_needs_the_password)
{
	struct fixture f;
	struct mgr_reply rep;

	fixture_init(&f, "cachemgr_passwd secret config\n");
	ck_assert_uint_eq(answer(&f, "config", NULL, &rep), 401);
	ck_assert_str_eq(rep.realm, "config");
	mgr_out_fini(&rep.body);
	ck_assert_uint_eq(answer(&f, "config", "wrong", &rep), 401);
	mgr_out_fini(&rep.body);
	ck_assert_uint_eq(answer(&f, "config", "secret", &rep), 200);
	ck_assert_ptr_null(rep.realm);
	ck_assert_ptr_nonnull(strstr(rep.body.p, "cachemgr_passwd XXXXXXXXXX "
	    "config\n"));
	ck_assert_ptr_null(strstr(rep.body.p, "secret"));
	ck_assert_ptr_nonnull(strstr(rep.body.p, "\nhttp_access allow "
	    "localhost manager\n"));
	mgr_out_fini(&rep.body);
	/* No control handler: the action says so, 501. */
	ck_assert_uint_eq(answer(&f, "shutdown", NULL, &rep), 401);
	mgr_out_fini(&rep.body);
	ck_assert_uint_eq(answer(&f, "nosuchpage", NULL, &rep), 404);
	mgr_out_fini(&rep.body);
	fixture_fini(&f);
}
END_TEST

START_TEST(control_without_handler_answers_501)
{
	struct fixture f;
	struct mgr_reply rep;

	fixture_init(&f, "cachemgr_passwd none shutdown\n");
	ck_assert_uint_eq(answer(&f, "shutdown", NULL, &rep), 501);
	ck_assert(rep.close);
	mgr_out_fini(&rep.body);
	fixture_fini(&f);
}
END_TEST

static int control_calls;
static void
on_control(const char *action, void *arg)
{
	(void)arg;
	ck_assert_str_eq(action, "rotate");
	control_calls++;
}

START_TEST(control_runs_from_the_loop_after_the_reply)
{
	struct fixture f;
	struct mgr_reply rep;

	fixture_init(&f, "cachemgr_passwd pw rotate\n");
	mgr_set_control(f.m, on_control, NULL);
	control_calls = 0;
	ck_assert_uint_eq(answer(&f, "rotate", "pw", &rep), 200);
	ck_assert_str_eq(rep.body.p, "Rotating cuttle logs ....\n");
	ck_assert_int_eq(control_calls, 0);	/* not inside the call */
	comm_loop_run_once(f.loop);
	ck_assert_int_eq(control_calls, 1);
	mgr_out_fini(&rep.body);
	fixture_fini(&f);
}
END_TEST

START_TEST(counters_use_squid_names)
{
	struct fixture f;
	struct mgr_reply rep;

	fixture_init(&f, "");
	ck_assert_uint_eq(answer(&f, "counters", NULL, &rep), 200);
	ck_assert_str_eq(rep.content_type, "text/plain; charset=utf-8");
	ck_assert_ptr_nonnull(strstr(rep.body.p,
	    "\nclient_http.requests = 8\n"));
	ck_assert_ptr_nonnull(strstr(rep.body.p, "\nclient_http.hits = 3\n"));
	mgr_out_fini(&rep.body);
	ck_assert_uint_eq(answer(&f, "info", NULL, &rep), 200);
	ck_assert_ptr_nonnull(strstr(rep.body.p,
	    "\tNumber of HTTP requests received:\t8\n"));
	ck_assert_ptr_nonnull(strstr(rep.body.p, "\tHits as % of all "
	    "requests:\t5min: "));
	mgr_out_fini(&rep.body);
	ck_assert_uint_eq(answer(&f, "5min", NULL, &rep), 200);
	ck_assert_ptr_nonnull(strstr(rep.body.p, "client_http.requests = "));
	mgr_out_fini(&rep.body);
	ck_assert_uint_eq(answer(&f, "", NULL, &rep), 200);
	ck_assert_str_eq(rep.content_type, "text/html; charset=utf-8");
	ck_assert_ptr_nonnull(strstr(rep.body.p, "<svg"));
	/* Nothing external: no script, style, font or image from
	 * elsewhere (the SVG namespace URI is a name, not a fetch). */
	ck_assert_ptr_null(strstr(rep.body.p, "src=\"http"));
	ck_assert_ptr_null(strstr(rep.body.p, "href=\"http"));
	ck_assert_ptr_null(strstr(rep.body.p, "url("));
	ck_assert_ptr_null(strstr(rep.body.p, "@import"));
	mgr_out_fini(&rep.body);
	fixture_fini(&f);
}
END_TEST

/*
 * A parser of the text exposition format, strict enough to catch what
 * Prometheus would refuse: a sample before its TYPE, a bad metric or
 * label name, an unquoted label, a value that is no number, a family
 * declared twice, histogram buckets that decrease or disagree with
 * _count.  Returns the number of samples, or -line on an error.
 */
static int
prom_parse(const char *text)
{
	char families[64][64], type[64][16], name[128], last_le_fam[64] = "";
	unsigned nfam = 0, i, line = 0;
	const char *p = text, *e;
	double v, last_bucket = -1, inf_bucket = -1;
	int samples = 0;
	char *end;

	while (*p != '\0') {
		line++;
		e = strchr(p, '\n');
		if (e == NULL)
			return (-(int)line);	/* the last line ends too */
		if (strncmp(p, "# TYPE ", 7) == 0) {
			if (sscanf(p + 7, "%63s %15s", families[nfam],
			    type[nfam]) != 2)
				return (-(int)line);
			for (i = 0; i < nfam; i++)
				if (strcmp(families[i], families[nfam]) == 0)
					return (-(int)line);
			if (strcmp(type[nfam], "counter") != 0 &&
			    strcmp(type[nfam], "gauge") != 0 &&
			    strcmp(type[nfam], "histogram") != 0)
				return (-(int)line);
			nfam++;
		} else if (strncmp(p, "# HELP ", 7) == 0) {
			;
		} else {
			size_t n = 0;

			if (!isalpha((unsigned char)*p) && *p != '_')
				return (-(int)line);
			while (isalnum((unsigned char)p[n]) || p[n] == '_' ||
			    p[n] == ':')
				n++;
			if (n >= sizeof name)
				return (-(int)line);
			memcpy(name, p, n);
			name[n] = '\0';
			p += n;
			if (*p == '{') {
				for (p++; *p != '}'; ) {
					while (isalnum((unsigned char)*p) ||
					    *p == '_')
						p++;
					if (*p++ != '=' || *p++ != '"')
						return (-(int)line);
					while (*p != '"') {
						if (*p == '\\')
							p++;
						if (*p == '\n' || *p == '\0')
							return (-(int)line);
						p++;
					}
					p++;
					if (*p == ',')
						p++;
					else if (*p != '}')
						return (-(int)line);
				}
				p++;
			}
			if (*p++ != ' ')
				return (-(int)line);
			v = strtod(p, &end);
			if (end == p || end != e)
				return (-(int)line);
			/* Its family: declared before, by name or as a
			 * histogram's _bucket/_sum/_count. */
			for (i = 0; i < nfam; i++) {
				size_t fl = strlen(families[i]);

				if (strcmp(name, families[i]) == 0 ||
				    (strcmp(type[i], "histogram") == 0 &&
				    strncmp(name, families[i], fl) == 0 &&
				    (strcmp(name + fl, "_bucket") == 0 ||
				    strcmp(name + fl, "_sum") == 0 ||
				    strcmp(name + fl, "_count") == 0)))
					break;
			}
			if (i == nfam)
				return (-(int)line);
			if (strcmp(type[i], "counter") == 0 &&
			    (strlen(name) < 6 ||
			    strcmp(name + strlen(name) - 6, "_total") != 0))
				return (-(int)line);
			if (strstr(name, "_bucket") != NULL) {
				if (strcmp(last_le_fam, families[i]) != 0)
					last_bucket = -1;
				snprintf(last_le_fam, sizeof last_le_fam, "%s",
				    families[i]);
				if (v < last_bucket)
					return (-(int)line);
				last_bucket = v;
				if (strstr(name, "_bucket") != NULL &&
				    strstr(e - 40 > text ? e - 40 : text,
				    "le=\"+Inf\"") != NULL)
					inf_bucket = v;
			}
			if (strstr(name, "_count") != NULL &&
			    v != inf_bucket)
				return (-(int)line);
			samples++;
		}
		p = e + 1;
	}
	return (samples);
}

START_TEST(metrics_parse_as_prometheus_text)
{
	struct fixture f;
	struct mgr_reply rep;
	struct mgr_txn_rec r = { RESULT_TCP_MEM_HIT, RESULT_END_OK, 200, 512,
	    0.003, false, false };
	struct mgr_call call;
	int n;

	fixture_init(&f, "");
	mgr_txn_done(f.m, &r, "http://a/", 9, "127.0.0.1");
	r.code = RESULT_TCP_MISS;
	r.duration = 0.3;
	mgr_txn_done(f.m, &r, "http://b/", 9, "127.0.0.1");
	mgr_stats_add(mgr_counters(f.m), MGR_C_BYTES_OUT, 1024);
	ck_assert_uint_eq(answer(&f, "metrics", NULL, &rep), 200);
	ck_assert_str_eq(rep.content_type,
	    "text/plain; version=0.0.4; charset=utf-8");
	n = prom_parse(rep.body.p);
	if (n < 0)
		ck_abort_msg("line %d of\n%s", -n, rep.body.p);
	ck_assert_int_gt(n, 30);
	ck_assert_ptr_nonnull(strstr(rep.body.p,
	    "\ncuttle_requests_total{code=\"TCP_MEM_HIT\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(rep.body.p,
	    "\ncuttle_bytes_total{direction=\"out\"} 1024\n"));
	ck_assert_ptr_nonnull(strstr(rep.body.p,
	    "\ncuttle_connections{side=\"client\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(rep.body.p,
	    "\ncuttle_request_duration_seconds_bucket{le=\"0.005\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(rep.body.p,
	    "\ncuttle_request_duration_seconds_bucket{le=\"0.5\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(rep.body.p,
	    "\ncuttle_request_duration_seconds_count 2\n"));
	ck_assert_ptr_nonnull(strstr(rep.body.p, "\ncuttle_cache_objects "));
	ck_assert_ptr_nonnull(strstr(rep.body.p, "\ncuttle_cache_bytes "));
	/* The parser itself refuses what it should. */
	ck_assert_int_lt(prom_parse("cuttle_x 1\n"), 0);
	ck_assert_int_lt(prom_parse("# TYPE a_total counter\na_total{l=x} 1\n"),
	    0);
	ck_assert_int_lt(prom_parse("# TYPE a gauge\na one\n"), 0);
	ck_assert_int_eq(prom_parse("# TYPE a gauge\na{l=\"\\\"\"} 1.5\n"), 1);
	mgr_out_fini(&rep.body);
	mgr_out_init(&rep.body);
	call.conf = f.conf;
	call.now = f.now;
	ck_assert_int_eq(mgr_render_json(&rep.body, &call, f.m), 0);
	ck_assert_ptr_nonnull(strstr(rep.body.p, "\"top_urls\":[{\"key\":"));
	/* In the table's order (base/result.h). */
	ck_assert_ptr_nonnull(strstr(rep.body.p, "\"codes\":{\"TCP_MISS\":1,"
	    "\"TCP_MEM_HIT\":1}"));
	mgr_out_fini(&rep.body);
	fixture_fini(&f);
}
END_TEST

static Suite *
mgr_suite(void)
{
	Suite *s = suite_create("mgr");
	TCase *tc;

	tc = tcase_create("registry");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, register_find_and_keep_the_order);
	tcase_add_test(tc,
	    sections_order_the_menu_and_rebind_follows_a_module);
	tcase_add_test(tc, out_grows_and_escapes);
	suite_add_tcase(s, tc);

	tc = tcase_create("passwd");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, passwords_follow_squid_rules);
	tcase_add_test(tc,
	    without_passwords_guarded_pages_are_hidden_and_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("stats");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, seven_requests_three_hits);
	tcase_add_test(tc, history_gives_five_and_sixty_minute_periods);
	tcase_add_test(tc, median_interpolates_inside_its_bucket);
	tcase_add_test(tc, top_keeps_the_busiest);
	suite_add_tcase(s, tc);

	tc = tcase_create("pages");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, menu_lists_every_page_with_its_protection);
	tcase_add_test(tc, guarded_page_needs_the_password);
	tcase_add_test(tc, control_without_handler_answers_501);
	tcase_add_test(tc, control_runs_from_the_loop_after_the_reply);
	tcase_add_test(tc, counters_use_squid_names);
	tcase_add_test(tc, metrics_parse_as_prometheus_text);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(mgr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
