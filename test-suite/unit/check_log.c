/*
 * check_log.c - unit tests for src/log: Squid's native and predefined
 * formats byte for byte, logformat codes and quoting, configuration
 * errors, buffering and the flush timer, none, rotation, failing files.
 */
#include "config.h"

#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "comm/comm.h"
#include "conf/conf.h"
#include "http/http_msg.h"
#include "log/access_log.h"
#include "log_capture.h"

#define T_END	1700000000.123	/* 14/Nov/2023:22:13:20 UTC */

static char dir[64];		/* this test's files */

static void
setup(void)
{
	log_capture_start();
	log_set_level(SEC__COUNT, LG_NOTICE);
	snprintf(dir, sizeof dir, "/tmp/check_log.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("TZ", "UTC", 1);
	tzset();
}

static void
teardown(void)
{
	char cmd[128];

	log_capture_stop();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static unsigned
count(const char *hay, const char *needle)
{
	unsigned n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return (n);
}

/* dir/name; four at a time may be in use. */
static const char *
path(const char *name)
{
	static char bufs[4][256];
	static unsigned next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof bufs[0], "%s/%s", dir, name);
	return (p);
}

/* A file's bytes ("" when it does not exist). */
static const char *
slurp(const char *p)
{
	static char buf[65536];
	size_t n = 0;
	FILE *f = fopen(p, "r");

	if (f != NULL) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return (buf);
}

static off_t
size_of(const char *p)
{
	struct stat st;

	return (stat(p, &st) == 0 ? st.st_size : -1);
}

/* A log from configuration text; %s in it stands for dir. */
struct lt {
	struct comm_loop	*loop;
	struct conf		*conf;
	struct access_log	*l;
	int			errors;
};

static void lt_open(struct lt *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lt_open(struct lt *t, const char *fmt, ...)
{
	char text[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	memset(t, 0, sizeof *t);
	t->loop = comm_loop_new();
	t->conf = conf_new();
	ck_assert_ptr_nonnull(t->loop);
	ck_assert_ptr_nonnull(t->conf);
	ck_assert_int_eq(conf_load_string(t->conf, "t.conf", text), 0);
	t->l = access_log_open(t->loop, &t->conf->access_log,
	    &t->conf->logformat, &t->errors);
	ck_assert_ptr_nonnull(t->l);
}

static void
lt_close(struct lt *t)
{
	access_log_close(&t->l);
	ck_assert_ptr_null(t->l);
	conf_free(&t->conf);
	comm_loop_free(&t->loop);
}

/* A parsed message for header codes. */
static void
parse(struct http_msg *m, enum http_msg_kind kind, const char *text)
{
	struct http_parser *p = http_parser_new(kind, 65536);
	size_t used;

	ck_assert_ptr_nonnull(p);
	http_msg_init(m, kind);
	http_parser_start(p, m, false);
	ck_assert_int_eq(http_parse(p, text, strlen(text), &used, NULL, NULL),
	    HTTP_PARSE_HEADERS);
	http_parser_free(&p);
}

static void
sin4(struct sockaddr_in *sin, const char *ip, unsigned port)
{
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

static void
sin6(struct sockaddr_in6 *sin, const char *ip, unsigned port)
{
	memset(sin, 0, sizeof *sin);
	sin->sin6_family = AF_INET6;
	sin->sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin->sin6_addr), 1);
}

/* One transaction with every field set, for the %-code tests. */
struct sample {
	struct sockaddr_in	cli, loc, srv, srv_loc;
	struct http_msg		req, rep;
	struct access_entry	e;
};

/* access_entry.local: asked for only by the codes that print it. */
static const struct sockaddr *
sample_local(void *arg)
{
	return (arg);
}

static void
sample_init(struct sample *s)
{
	memset(s, 0, sizeof *s);
	sin4(&s->cli, "127.0.0.1", 40000);
	sin4(&s->loc, "127.0.0.1", 3128);
	sin4(&s->srv, "93.184.216.34", 80);
	sin4(&s->srv_loc, "10.0.0.1", 51000);
	parse(&s->req, HTTP_MSG_REQUEST,
	    "GET http://example.com:8080/~a/b%20c?d=e HTTP/1.1\r\n"
	    "Host: example.com:8080\r\n"
	    "User-Agent: Mozilla \"q\" \\ x\r\n"
	    "Cache-Control: no-cache, max-age=5\r\n"
	    "Accept: a\r\n"
	    "Accept: b\r\n\r\n");
	parse(&s->rep, HTTP_MSG_RESPONSE, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/html; charset=UTF-8\r\n"
	    "Content-Length: 1000\r\n\r\n");
	s->e.start = 1699999999.666211;
	s->e.end = T_END;
	s->e.client = (const struct sockaddr *)&s->cli;
	s->e.local = sample_local;
	s->e.local_arg = &s->loc;
	s->e.server = (const struct sockaddr *)&s->srv;
	s->e.server_local = (const struct sockaddr *)&s->srv_loc;
	s->e.server_name = "example.com";
	s->e.code = "TCP_MISS";
	s->e.hier = "HIER_DIRECT";
	s->e.status = 200;
	s->e.server_status = 200;
	s->e.url = "http://example.com:8080/~a/b%20c?d=e";
	s->e.user = "alice";
	s->e.ext_tag = "vip lane";
	s->e.store_id = "http://cdn.squid.internal/x.js";
	s->e.bytes_out = 1234;
	s->e.hdr_bytes_out = 234;
	s->e.bytes_in = 300;
	s->e.hdr_bytes_in = 280;
	s->e.server_body_bytes = 1000;
	s->e.server_time = 0.3;
	s->e.peer_time = 0.2505;
	s->e.dns_time = 0.012;
	s->e.request = &s->req;
	s->e.reply = &s->rep;
}

static void
sample_fini(struct sample *s)
{
	http_msg_fini(&s->req);
	http_msg_fini(&s->rep);
}

/* -- formats --------------------------------------------------------------- */

START_TEST(native_format_matches_squid_byte_for_byte)
{
	struct sockaddr_in c1, c2, c3, srv, srv443;
	struct sockaddr_in6 c4, c5;
	struct access_entry e;
	struct lt t;

	lt_open(&t, "access_log %s/access.log\n", dir);
	ck_assert_int_eq(t.errors, 0);
	sin4(&c1, "127.0.0.1", 40000);
	sin4(&c2, "192.168.1.10", 40001);
	sin4(&c3, "10.0.0.5", 40002);
	sin6(&c4, "::1", 40003);
	sin6(&c5, "::ffff:192.0.2.1", 40004);
	sin4(&srv, "93.184.216.34", 80);
	sin4(&srv443, "93.184.216.34", 443);

	memset(&e, 0, sizeof e);
	e.start = 1699999999.667;
	e.end = T_END;
	e.client = (const struct sockaddr *)&c1;
	e.code = "TCP_MISS";
	e.status = 200;
	e.bytes_out = 1234;
	e.method = "GET";
	e.url = "http://example.com/";
	e.hier = "HIER_DIRECT";
	e.server = (const struct sockaddr *)&srv;
	e.mime_type = "text/html";
	access_log_write(t.l, &e);

	memset(&e, 0, sizeof e);
	e.start = 1699999941.005;
	e.end = 1700000001.005;
	e.client = (const struct sockaddr *)&c2;
	e.code = "TCP_TUNNEL";
	e.status = 200;
	e.bytes_out = 5120;
	e.method = "CONNECT";
	e.url = "example.com:443";
	e.hier = "HIER_DIRECT";
	e.server = (const struct sockaddr *)&srv443;
	access_log_write(t.l, &e);

	memset(&e, 0, sizeof e);
	e.start = e.end = 1700000002.0;
	e.client = (const struct sockaddr *)&c3;
	e.code = "TCP_DENIED";
	e.status = 403;
	e.bytes_out = 3965;
	e.method = "GET";
	e.url = "http://blocked.example/";
	e.mime_type = "text/html;charset=utf-8";
	access_log_write(t.l, &e);

	memset(&e, 0, sizeof e);
	e.start = 1700000003.049;
	e.end = 1700000003.050;
	e.client = (const struct sockaddr *)&c4;
	e.code = "TCP_MEM_HIT";
	e.status = 200;
	e.bytes_out = 512;
	e.method = "GET";
	e.url = "http://example.com/logo.png";
	e.user = "bob";
	e.hier = "HIER_NONE";
	e.mime_type = "image/png";
	access_log_write(t.l, &e);

	/* Controls and spaces in the URL, brackets in the user name, an
	 * IPv4-mapped client. */
	memset(&e, 0, sizeof e);
	e.start = 1700000003.999;
	e.end = 1700000004.999;
	e.client = (const struct sockaddr *)&c5;
	e.code = "TCP_MISS_ABORTED";
	e.status = 200;
	e.bytes_out = 10;
	e.method = "GET";
	e.url = "http://example.com/a b\x01";
	e.user = "x[y]";
	e.hier = "HIER_DIRECT";
	e.server = (const struct sockaddr *)&srv;
	access_log_write(t.l, &e);

	/* Nothing known: a client that went away before its request. */
	memset(&e, 0, sizeof e);
	e.end = 1700000005.5;
	access_log_write(t.l, &e);

	access_log_flush(t.l);
	ck_assert_str_eq(slurp(path("access.log")),
	    "1700000000.123    456 127.0.0.1 TCP_MISS/200 1234 GET "
	    "http://example.com/ - HIER_DIRECT/93.184.216.34 text/html\n"
	    "1700000001.005  60000 192.168.1.10 TCP_TUNNEL/200 5120 CONNECT "
	    "example.com:443 - HIER_DIRECT/93.184.216.34 -\n"
	    "1700000002.000      0 10.0.0.5 TCP_DENIED/403 3965 GET "
	    "http://blocked.example/ - HIER_NONE/- text/html\n"
	    "1700000003.050      1 ::1 TCP_MEM_HIT/200 512 GET "
	    "http://example.com/logo.png bob HIER_NONE/- image/png\n"
	    "1700000004.999   1000 192.0.2.1 TCP_MISS_ABORTED/200 10 GET "
	    "http://example.com/a%20b%01 x%5by%5d HIER_DIRECT/93.184.216.34 "
	    "-\n"
	    "1700000005.500      0 - NONE_NONE/000 0 - - - HIER_NONE/- -\n");
	lt_close(&t);
}
END_TEST

START_TEST(predefined_formats_match_squid)
{
	struct sockaddr_in cli;
	struct access_entry e;
	struct http_msg req;
	struct lt t;

	lt_open(&t, "access_log %s/squid.log squid\n"
	    "access_log %s/common.log common\n"
	    "access_log %s/combined.log combined\n"
	    "access_log %s/referrer.log referrer\n"
	    "access_log %s/useragent.log logformat=useragent\n",
	    dir, dir, dir, dir, dir);
	ck_assert_int_eq(t.errors, 0);
	sin4(&cli, "127.0.0.1", 40000);
	parse(&req, HTTP_MSG_REQUEST, "GET http://example.com/ HTTP/1.1\r\n"
	    "Host: example.com\r\n"
	    "Referer: http://r.example/?q=1\r\n"
	    "User-Agent: Mozilla/5.0 (X11; \"q\")\r\n\r\n");
	memset(&e, 0, sizeof e);
	e.end = T_END;
	e.start = T_END - 0.01;
	e.client = (const struct sockaddr *)&cli;
	e.code = "TCP_MISS";
	e.hier = "HIER_DIRECT";
	e.status = 200;
	e.bytes_out = 1234;
	e.url = "http://example.com/";
	e.request = &req;
	access_log_write(t.l, &e);
	access_log_flush(t.l);
	ck_assert_str_eq(slurp(path("squid.log")), "1700000000.123     10 "
	    "127.0.0.1 TCP_MISS/200 1234 GET http://example.com/ - "
	    "HIER_DIRECT/- -\n");
	ck_assert_str_eq(slurp(path("common.log")), "127.0.0.1 - - "
	    "[14/Nov/2023:22:13:20 +0000] \"GET http://example.com/ "
	    "HTTP/1.1\" 200 1234 TCP_MISS:HIER_DIRECT\n");
	ck_assert_str_eq(slurp(path("combined.log")), "127.0.0.1 - - "
	    "[14/Nov/2023:22:13:20 +0000] \"GET http://example.com/ "
	    "HTTP/1.1\" 200 1234 \"http://r.example/?q=1\" "
	    "\"Mozilla/5.0 (X11; \\\"q\\\")\" TCP_MISS:HIER_DIRECT\n");
	ck_assert_str_eq(slurp(path("referrer.log")), "1700000000.123 "
	    "127.0.0.1 http://r.example/?q=1 http://example.com/\n");
	ck_assert_str_eq(slurp(path("useragent.log")), "127.0.0.1 "
	    "[14/Nov/2023:22:13:20 +0000] \"Mozilla/5.0 (X11; \\\"q\\\")\"\n");
	http_msg_fini(&req);
	lt_close(&t);
}
END_TEST

/* Each format alone on the sample transaction. */
static const struct {
	const char	*fmt;
	const char	*want;
} code_cases[] = {
	{ "%>a:%>p %la:%lp %<a:%<p %<la:%<lp %<A %>A",
	  "127.0.0.1:40000 127.0.0.1:3128 93.184.216.34:80 10.0.0.1:51000 "
	  "example.com 127.0.0.1" },
	{ "%Ss %Sh %>Hs %<Hs %03>Hs %Hs",
	  "TCP_MISS HIER_DIRECT 200 200 200 200" },
	{ "%<st %>st %<sh %>sh %st %<bs", "1234 300 234 280 1534 1000" },
	{ "%rm %ru %>rp %>rd %>rs %>rP %rv %>rv %rp %>rm %<rm",
	  "GET http://example.com:8080/~a/b%20c?d=e /%7Ea/b%20c?d=e "
	  "example.com http 8080 1.1 1.1 /%7Ea/b%20c?d=e GET GET" },
	{ "%un %ul %ui %ue %mt %err_code %err_detail %sn %%",
	  "alice alice - - text/html - - 1 %" },
	{ "%ts %tu %03tu %.6tu %tS %tr %<tt %<pt %dt",
	  "1700000000 123 123 123000 1699999999.666 456 300 250 12" },
	{ "[%-10Ss][%10Ss][%.3Ss][%08<st][%6.2tr][%-6>Hs][%6.0tr]",
	  "[TCP_MISS  ][  TCP_MISS][TCP][00001234][456.78][200   ][   456]" },
	{ "%tl|%tg|%{%Y-%m-%d}tg|%{%H}tl",
	  "14/Nov/2023:22:13:20 +0000|14/Nov/2023:22:13:20|2023-11-14|22" },
	{ "%{Host}>h|%{Accept}>h|%{X-None}>h|%{Cache-Control:max-age}>h|"
	  "%{Content-Type}<h|%{Content-Type:;charset}<h|%{Host}>ha",
	  "example.com:8080|a,%20b|-|5|text/html;%20charset=UTF-8|UTF-8|"
	  "example.com:8080" },
	{ "%{User-Agent}>h|%\"{User-Agent}>h|%[{User-Agent}>h|"
	  "%'{User-Agent}>h|%#ru",
	  "Mozilla%20%22q%22%20%5C%20x|Mozilla \\\"q\\\" \\\\ x|"
	  "Mozilla \"q\" \\\\ x|Mozilla \"q\" \\ x|"
	  "http://example.com:8080/%7Ea/b%2520c?d=e" },
	{ "\"%{User-Agent}>h\" [%{User-Agent}>h] %{User-Agent}>h",
	  "\"Mozilla \\\"q\\\" \\\\ x\" [Mozilla \"q\" \\\\ x] "
	  "Mozilla%20%22q%22%20%5C%20x" },
	{ "%[>h",
	  "Host: example.com:8080\\r\\nUser-Agent: Mozilla \"q\" \\\\ x\\r\\n"
	  "Cache-Control: no-cache, max-age=5\\r\\nAccept: a\\r\\n"
	  "Accept: b\\r\\n" },
	{ "%http::>a %http::Ss", "127.0.0.1 TCP_MISS" },
	/* Helpers' answers: an external acl's tag= (and user=, absent
	 * here), the store-id, as Squid's annotations. */
	{ "%et|%ue|%{tag}note|%{store-id}note|%{user}note|%{x}note",
	  "vip%20lane|-|vip%20lane|http://cdn.squid.internal/x.js|-|-" },
	{ "%note", "tag:%20vip%20lane%0D%0Astore-id:%20"
	  "http://cdn.squid.internal/x.js%0D%0A" },
	{ "%'note", "tag: vip lane\r\nstore-id: "
	  "http://cdn.squid.internal/x.js\r\n" },
};

/* The format as one quoted conf word: " and \ escaped. */
static void
conf_quote(char *out, size_t len, const char *s)
{
	size_t n = 0;

	out[n++] = '"';
	for (; *s != '\0' && n + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n++] = '"';
	out[n] = '\0';
}

START_TEST(logformat_codes_render_as_squid)
{
	char q[512], want[1024], name[32];
	struct sample s;
	struct lt t;
	size_t i;

	sample_init(&s);
	for (i = 0; i < ARRAY_LEN(code_cases); i++) {
		conf_quote(q, sizeof q, code_cases[i].fmt);
		snprintf(name, sizeof name, "c%zu.log", i);
		lt_open(&t, "logformat f %s\naccess_log %s f\n", q, path(name));
		ck_assert_msg(t.errors == 0, "%s: %s", code_cases[i].fmt,
		    log_captured());
		access_log_write(t.l, &s.e);
		lt_close(&t);
		snprintf(want, sizeof want, "%s\n", code_cases[i].want);
		ck_assert_str_eq(slurp(path(name)), want);
	}
	sample_fini(&s);
}
END_TEST

START_TEST(missing_values_are_dashes)
{
	struct access_entry e;
	struct lt t;

	lt_open(&t, "logformat f %%>a %%<a %%<p %%<A %%un %%mt %%<Hs %%<bs "
	    "%%<tt %%dt %%>rd %%rm %%ru %%Ss %%Sh %%>Hs %%tr %%>h %%{Host}>h "
	    "%%6<a|\n"
	    "access_log %s/a.log f\n", dir);
	ck_assert_int_eq(t.errors, 0);
	memset(&e, 0, sizeof e);
	e.end = T_END;
	access_log_write(t.l, &e);
	access_log_flush(t.l);
	ck_assert_str_eq(slurp(path("a.log")), "- - - - - - - - - - - - - "
	    "NONE_NONE HIER_NONE 0 0 - - -|\n");
	lt_close(&t);
}
END_TEST

START_TEST(quoted_groups_in_a_logformat_line_keep_their_quotes)
{
	struct sample s;
	struct lt t;

	sample_init(&s);
	lt_open(&t, "logformat q %%>a \"%%rm %%ru\" %%>Hs\n"
	    "logformat w \"%%>a \\\"%%rm\\\"\"\n"
	    "access_log %s/q.log q\n"
	    "access_log %s/w.log w\n", dir, dir);
	ck_assert_int_eq(t.errors, 0);
	access_log_write(t.l, &s.e);
	access_log_flush(t.l);
	ck_assert_str_eq(slurp(path("q.log")), "127.0.0.1 \"GET "
	    "http://example.com:8080/~a/b%20c?d=e\" 200\n");
	ck_assert_str_eq(slurp(path("w.log")), "127.0.0.1 \"GET\"\n");
	lt_close(&t);
	sample_fini(&s);
}
END_TEST

/* -- configuration --------------------------------------------------------- */

START_TEST(bad_lines_are_errors_with_file_and_line)
{
	const char *log;
	struct lt t;

	lt_open(&t, "logformat bad %%>a %%zz\n"
	    "logformat squid %%>a\n"
	    "logformat dup %%>a\n"
	    "logformat dup %%<a\n"
	    "logformat lonely\n"
	    "access_log %s/a.log bad\n"
	    "access_log syslog:daemon.info squid\n"
	    "access_log %s/b.log buffer-size=huge\n"
	    "access_log %s/c.log colour=red\n"
	    "access_log %s\n", dir, dir, dir, dir);
	log = log_captured();
	ck_assert_int_eq(t.errors, 9);
	ck_assert_ptr_nonnull(strstr(log, "t.conf:1: logformat: unknown "
	    "format code \"%zz\"\n"));
	ck_assert_ptr_nonnull(strstr(log, "    expected: logformat name "
	    "format-string\n"));
	ck_assert_ptr_nonnull(strstr(log, "t.conf:2: logformat: \"squid\" "
	    "is predefined and cannot be redefined\n"));
	ck_assert_ptr_nonnull(strstr(log, "t.conf:4: logformat: \"dup\" is "
	    "already defined\n"));
	ck_assert_ptr_nonnull(strstr(log, "t.conf:5: logformat: expected a "
	    "name and a format\n"));
	ck_assert_ptr_nonnull(strstr(log, "t.conf:6: access_log: unknown "
	    "logformat \"bad\"\n"));
	ck_assert_ptr_nonnull(strstr(log, "t.conf:7: access_log: the syslog: "
	    "module is not supported; give a file path\n"));
	ck_assert_ptr_nonnull(strstr(log, "t.conf:8: access_log: bad size "
	    "\"huge\"\n"));
	ck_assert_ptr_nonnull(strstr(log, "t.conf:9: access_log: unknown "
	    "option \"colour=red\"\n"));
	ck_assert_ptr_nonnull(strstr(log, "t.conf:10: access_log: cannot "
	    "open"));
	ck_assert_ptr_nonnull(strstr(log, ": Is a directory\n"));
	ck_assert_ptr_nonnull(strstr(log, "    expected: access_log "
	    "path|none [logformat-name [[!]aclname ...]]\n"));
	ck_assert(!access_log_active(t.l));
	lt_close(&t);
}
END_TEST

START_TEST(acls_are_ignored_with_a_warning)
{
	struct sample s;
	struct lt t;

	sample_init(&s);
	lt_open(&t, "access_log daemon:%s/a.log squid localnet !manager\n"
	    "access_log stdio:%s/b.log logformat=squid rotate=10 "
	    "buffer-size=8KB on-error=die\n", dir, dir);
	ck_assert_int_eq(t.errors, 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:1: access_log: ACLs "
	    "are not evaluated yet: this file gets every transaction\n"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:2: access_log: "
	    "rotate= is ignored"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:2: access_log: "
	    "on-error=die is ignored"));
	access_log_write(t.l, &s.e);
	access_log_flush(t.l);
	ck_assert_uint_gt(size_of(path("a.log")), 0);
	ck_assert_str_eq(slurp(path("a.log")), slurp(path("b.log")));
	lt_close(&t);
	sample_fini(&s);
}
END_TEST

START_TEST(none_logs_nothing_and_ends_the_list)
{
	struct sample s;
	struct lt t;

	sample_init(&s);
	lt_open(&t, "access_log none\n");
	ck_assert_int_eq(t.errors, 0);
	ck_assert(!access_log_active(t.l));
	access_log_write(t.l, &s.e);
	access_log_flush(t.l);
	ck_assert_int_eq(access_log_reopen(t.l), 0);
	lt_close(&t);

	lt_open(&t, "access_log %s/a.log\naccess_log none\n"
	    "access_log %s/b.log\n", dir, dir);
	ck_assert_int_eq(t.errors, 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:2: access_log: the "
	    "access_log lines after this one log nothing\n"));
	access_log_write(t.l, &s.e);
	access_log_flush(t.l);
	ck_assert_uint_gt(size_of(path("a.log")), 0);
	ck_assert_int_eq(size_of(path("b.log")), -1);
	lt_close(&t);
	sample_fini(&s);
}
END_TEST

START_TEST(several_files_get_their_own_formats)
{
	struct access_log_stats st;
	struct sample s;
	struct lt t;

	sample_init(&s);
	lt_open(&t, "logformat tiny %%Ss %%sn\n"
	    "access_log %s/a.log tiny\n"
	    "access_log %s/b.log tiny\n"
	    "access_log %s/c.log logformat=referrer\n", dir, dir, dir);
	ck_assert_int_eq(t.errors, 0);
	access_log_write(t.l, &s.e);
	access_log_write(t.l, &s.e);
	access_log_flush(t.l);
	ck_assert_str_eq(slurp(path("a.log")), "TCP_MISS 1\nTCP_MISS 2\n");
	ck_assert_str_eq(slurp(path("b.log")), "TCP_MISS 1\nTCP_MISS 2\n");
	ck_assert_str_eq(slurp(path("c.log")), "1700000000.123 127.0.0.1 - "
	    "http://example.com:8080/~a/b%20c?d=e\n"
	    "1700000000.123 127.0.0.1 - "
	    "http://example.com:8080/~a/b%20c?d=e\n");
	access_log_stats(t.l, &st);
	ck_assert_uint_eq(st.files, 3);
	ck_assert_uint_eq(st.lines, 6);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_eq(st.write_errors, 0);
	ck_assert_uint_eq(st.dropped, 0);
	lt_close(&t);
	sample_fini(&s);
}
END_TEST

/* -- buffering ------------------------------------------------------------- */

START_TEST(lines_wait_in_the_buffer_until_the_timer)
{
	struct access_log_stats st;
	struct sample s;
	double t0;
	struct lt t;

	sample_init(&s);
	lt_open(&t, "logformat f %%Ss\naccess_log %s/a.log f\n", dir);
	t0 = comm_now(t.loop);
	access_log_write(t.l, &s.e);
	access_log_write(t.l, &s.e);
	ck_assert_int_eq(size_of(path("a.log")), 0);
	access_log_stats(t.l, &st);
	ck_assert_uint_eq(st.pending, 18);
	while (size_of(path("a.log")) == 0 && comm_now(t.loop) - t0 < 5)
		comm_loop_run_once(t.loop);
	ck_assert_str_eq(slurp(path("a.log")), "TCP_MISS\nTCP_MISS\n");
	ck_assert(comm_now(t.loop) - t0 >= 0.9);
	access_log_stats(t.l, &st);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_eq(st.bytes, 18);
	lt_close(&t);
	sample_fini(&s);
}
END_TEST

START_TEST(a_full_buffer_is_written_at_once)
{
	struct access_log_stats st;
	struct sample s;
	unsigned i;
	struct lt t;

	sample_init(&s);
	lt_open(&t, "access_log %s/a.log squid buffer-size=4096\n", dir);
	for (i = 0; i < 60; i++)
		access_log_write(t.l, &s.e);
	access_log_stats(t.l, &st);
	ck_assert_uint_gt(size_of(path("a.log")), 0);
	ck_assert_uint_gt(st.pending, 0);
	ck_assert_uint_lt(st.pending, 4096);
	ck_assert_uint_eq((uint64_t)size_of(path("a.log")), st.bytes);
	access_log_flush(t.l);
	ck_assert_uint_eq(count(slurp(path("a.log")), "\n"), 60);
	lt_close(&t);
	sample_fini(&s);
}
END_TEST

START_TEST(a_line_longer_than_the_buffer_is_written_whole)
{
	static char url[6001];
	struct sample s;
	const char *got;
	struct lt t;

	sample_init(&s);
	memset(url, 'a', sizeof url - 1);
	memcpy(url, "http://x/", 9);
	lt_open(&t, "logformat f %%ru\n"
	    "access_log %s/a.log f buffer-size=4096\n", dir);
	ck_assert_int_eq(t.errors, 0);
	access_log_write(t.l, &s.e);
	s.e.url = url;
	access_log_write(t.l, &s.e);
	s.e.url = "http://y/";
	access_log_write(t.l, &s.e);
	access_log_flush(t.l);
	got = slurp(path("a.log"));
	ck_assert_uint_eq(strlen(got), 37 + 6001 + 10);
	ck_assert(strncmp(got + 37, url, 6000) == 0);
	ck_assert_str_eq(got + 37 + 6001, "http://y/\n");
	lt_close(&t);
	sample_fini(&s);
}
END_TEST

/* -- rotation and failures ------------------------------------------------- */

START_TEST(reopen_after_rename_starts_a_new_file)
{
	struct sample s;
	char old[256];
	struct lt t;

	sample_init(&s);
	lt_open(&t, "logformat f %%sn\naccess_log %s/a.log f\n", dir);
	access_log_write(t.l, &s.e);
	access_log_flush(t.l);
	snprintf(old, sizeof old, "%s", path("a.log.1"));
	ck_assert_int_eq(rename(path("a.log"), old), 0);
	access_log_write(t.l, &s.e);	/* buffered: still the old file's */
	ck_assert_int_eq(access_log_reopen(t.l), 0);
	access_log_write(t.l, &s.e);
	access_log_flush(t.l);
	ck_assert_str_eq(slurp(old), "1\n2\n");
	ck_assert_str_eq(slurp(path("a.log")), "3\n");
	lt_close(&t);
	sample_fini(&s);
}
END_TEST

START_TEST(reopen_failure_keeps_the_old_file)
{
	char sub[256], moved[256];
	struct sample s;
	struct lt t;

	sample_init(&s);
	snprintf(sub, sizeof sub, "%s", path("sub"));
	snprintf(moved, sizeof moved, "%s", path("moved"));
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	lt_open(&t, "logformat f %%sn\naccess_log %s/a.log f\n", sub);
	ck_assert_int_eq(t.errors, 0);
	access_log_write(t.l, &s.e);
	ck_assert_int_eq(rename(sub, moved), 0);
	ck_assert_int_eq(access_log_reopen(t.l), -ENOENT);
	ck_assert_ptr_nonnull(strstr(log_captured(), "cannot reopen"));
	access_log_write(t.l, &s.e);
	access_log_flush(t.l);
	ck_assert_str_eq(slurp(path("moved/a.log")), "1\n2\n");
	lt_close(&t);
	sample_fini(&s);
}
END_TEST

START_TEST(unopenable_path_is_an_error_not_a_crash)
{
	struct sample s;
	struct lt t;

	sample_init(&s);
	lt_open(&t, "access_log %s/no/such/dir/a.log\n", dir);
	ck_assert_int_eq(t.errors, 1);
	ck_assert_ptr_nonnull(strstr(log_captured(), "No such file or directory"));
	ck_assert(!access_log_active(t.l));
	access_log_write(t.l, &s.e);
	access_log_flush(t.l);
	ck_assert_int_eq(access_log_reopen(t.l), 0);
	lt_close(&t);
	sample_fini(&s);
}
END_TEST

START_TEST(write_errors_are_counted_and_reported_once)
{
	struct access_log_stats st;
	struct sample s;
	unsigned i;
	struct lt t;

	if (access("/dev/full", W_OK) != 0)
		return;
	sample_init(&s);
	lt_open(&t, "access_log /dev/full squid buffer-size=4096\n");
	ck_assert_int_eq(t.errors, 0);
	for (i = 0; i < 200; i++) {
		access_log_write(t.l, &s.e);
		if (i % 50 == 0)
			access_log_flush(t.l);
	}
	access_log_stats(t.l, &st);
	ck_assert_uint_ge(st.write_errors, 4);
	ck_assert_uint_gt(st.dropped, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_le(st.pending, 4096);
	ck_assert_uint_eq(count(log_captured(), "write failed"), 1);
	ck_assert_ptr_nonnull(strstr(log_captured(), "No space left on device"));
	lt_close(&t);
	sample_fini(&s);
}
END_TEST

/* A tcase with this file's fixture: a cache.log and a directory. */
static TCase *
log_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);
	return (tc);
}

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc;

	tc = log_tcase(s, "formats");
	tcase_add_test(tc, native_format_matches_squid_byte_for_byte);
	tcase_add_test(tc, predefined_formats_match_squid);
	tcase_add_test(tc, logformat_codes_render_as_squid);
	tcase_add_test(tc, missing_values_are_dashes);
	tcase_add_test(tc, quoted_groups_in_a_logformat_line_keep_their_quotes);

	tc = log_tcase(s, "conf");
	tcase_add_test(tc, bad_lines_are_errors_with_file_and_line);
	tcase_add_test(tc, acls_are_ignored_with_a_warning);
	tcase_add_test(tc, none_logs_nothing_and_ends_the_list);
	tcase_add_test(tc, several_files_get_their_own_formats);

	tc = log_tcase(s, "buffering");
	tcase_add_test(tc, lines_wait_in_the_buffer_until_the_timer);
	tcase_add_test(tc, a_full_buffer_is_written_at_once);
	tcase_add_test(tc, a_line_longer_than_the_buffer_is_written_whole);

	tc = log_tcase(s, "files");
	tcase_add_test(tc, reopen_after_rename_starts_a_new_file);
	tcase_add_test(tc, reopen_failure_keeps_the_old_file);
	tcase_add_test(tc, unopenable_path_is_an_error_not_a_crash);
	tcase_add_test(tc, write_errors_are_counted_and_reported_once);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
