/*
 * check_conf.c - unit tests for src/conf: directives, defaults, errors.
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "conf/conf.h"
#include "log_capture.h"


static unsigned
port_of(const struct conf_port *p)
{
	if (p->addr.ss_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)
		    (const void *)&p->addr)->sin6_port));
	return (ntohs(((const struct sockaddr_in *)
	    (const void *)&p->addr)->sin_port));
}

START_TEST(defaults_listen_on_3128_everywhere)
{
	struct conf *c = conf_new();
	const struct sockaddr_in *sin;

	ck_assert_int_eq(conf_finish(c), 0);
	ck_assert_uint_eq(c->nports, 1);
	sin = (const struct sockaddr_in *)(const void *)&c->ports[0].addr;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(port_of(&c->ports[0]), 3128);
	ck_assert_uint_eq(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	ck_assert_str_eq(c->debug_options, "ALL,3");
	ck_assert_str_eq(c->hosts_file, "/etc/hosts");
	ck_assert_ptr_nonnull(c->visible_hostname);	/* the host name */
	conf_free(&c);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(http_port_forms_and_several_lines)
{
	struct conf *c = conf_new();
	char host[INET6_ADDRSTRLEN];

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "# comment\n"
	    "http_port 127.0.0.1:8080   # trailing comment\n"
	    "\n"
	    "  http_port [::1]:8081\n"
	    "http_port :8082\n"
	    "http_port 8083\n"
	    "visible_hostname proxy.example\n"), 0);
	ck_assert_int_eq(conf_finish(c), 0);
	ck_assert_uint_eq(c->nports, 4);	/* no default added */
	ck_assert_uint_eq(port_of(&c->ports[0]), 8080);
	inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)
	    &c->ports[0].addr)->sin_addr, host, sizeof host);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(c->ports[1].addr.ss_family, AF_INET6);
	ck_assert_uint_eq(port_of(&c->ports[1]), 8081);
	ck_assert_uint_eq(port_of(&c->ports[2]), 8082);
	ck_assert_uint_eq(port_of(&c->ports[3]), 8083);
	ck_assert_str_eq(c->visible_hostname, "proxy.example");
	conf_free(&c);
}
END_TEST

START_TEST(bad_values_are_errors_with_file_line_and_syntax)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} cases[] = {
		{ "http_port 99999\n", "t.conf:1: http_port: bad port \"99999\"" },
		{ "\nhttp_port abc\n", "t.conf:2: http_port: bad port \"abc\"" },
		{ "http_port 1.2.3:80\n",
		    "t.conf:1: http_port: bad IPv4 address \"1.2.3\"" },
		{ "http_port [::1:80\n", "t.conf:1: http_port: bad address" },
		{ "http_port [zz]:80\n",
		    "t.conf:1: http_port: bad IPv6 address \"zz\"" },
		{ "http_port 0\n", "t.conf:1: http_port: bad port \"0\"" },
		{ "http_port\n", "t.conf:1: http_port: missing value" },
		{ "visible_hostname a b\n",
		    "t.conf:1: visible_hostname: expected one value, got 2" },
		{ "cache_mem lots\n", "t.conf:1: cache_mem: bad size \"lots\"" },
		{ "cache_mem 12 parsecs\n",
		    "t.conf:1: cache_mem: bad size \"12 parsecs\"" },
		{ "cache_mem -1 MB\n",
		    "t.conf:1: cache_mem: bad size \"-1 MB\"" },
		{ "read_timeout 5 fortnights\n",
		    "t.conf:1: read_timeout: bad time \"5 fortnights\"" },
		{ "via maybe\n", "t.conf:1: via: bad value \"maybe\"" },
		{ "forwarded_for sometimes\n",
		    "t.conf:1: forwarded_for: bad value \"sometimes\"" },
		{ "memory_replacement_policy heap GDSF\n",
		    "t.conf:1: memory_replacement_policy: expected one value" },
		{ "max_filedescriptors many\n",
		    "t.conf:1: max_filedescriptors: bad number \"many\"" },
		{ "acl \"unterminated\n",
		    "t.conf:1: unterminated quote" },
		{ "debug_options ALL,1 comm,x\n",
		    "t.conf:1: debug_options: bad section,level \"comm,x\"" },
	};
	struct conf *c;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		log_capture_reset();
		c = conf_new();
		ck_assert_int_eq(conf_load_string(c, "t.conf", cases[i].text),
		    1);
		ck_assert_msg(strstr(log_captured(), cases[i].msg) != NULL,
		    "case %zu: want \"%s\" in:\n%s", i, cases[i].msg,
		    log_captured());
		ck_assert_msg(strstr(cases[i].msg, "quote") != NULL ||
		    strstr(log_captured(), "    expected: ") != NULL,
		    "case %zu: no syntax line", i);
		conf_free(&c);
	}
}
END_TEST

START_TEST(unknown_directive_warns_and_goes_on)
{
	struct conf *c = conf_new();

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "http_port 8080\nfrobnicate yes\nhttp_port 8081"), 0);
	ck_assert_uint_eq(c->nports, 2);
	ck_assert_ptr_nonnull(strstr(log_captured(),
	    "WARN conf: t.conf:2: unknown directive \"frobnicate\" ignored"));
	conf_free(&c);
}
END_TEST

START_TEST(http_port_options_warn_not_fail)
{
	struct conf *c = conf_new();

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "http_port 3129 intercept\n"), 0);
	ck_assert_uint_eq(c->nports, 1);
	ck_assert_ptr_nonnull(strstr(log_captured(),
	    "option \"intercept\" is not supported"));
	conf_free(&c);
}
END_TEST

START_TEST(load_reads_a_file_and_reports_a_missing_one)
{
	char path[] = "/tmp/check_conf_XXXXXX";
	struct conf *c = conf_new();
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("http_port 127.0.0.1:3999\nhttp_port nope\n", f);
	fclose(f);
	ck_assert_int_eq(conf_load(c, path), 1);
	ck_assert_uint_eq(c->nports, 1);
	ck_assert_ptr_nonnull(strstr(log_captured(), ":2: http_port: bad port"));
	unlink(path);
	ck_assert_int_lt(conf_load(c, path), 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "cannot open"));
	conf_free(&c);
}
END_TEST

START_TEST(docs_list_every_directive_with_default)
{
	static char buf[65536];
	FILE *f = tmpfile();
	size_t n;

	conf_print_docs(f);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "#  TAG: http_port\n"));
	ck_assert_ptr_nonnull(strstr(buf, "# http_port 3128\n"));
	ck_assert_ptr_nonnull(strstr(buf, "#  TAG: visible_hostname\n"));
	ck_assert_ptr_nonnull(strstr(buf, "#  TAG: debug_options\n"));
}
END_TEST

START_TEST(values_with_units_and_choices)
{
	struct conf *c = conf_new();

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "cache_mem 64 MB\n"
	    "maximum_object_size 1.5GB\n"
	    "maximum_object_size_in_memory 100 KB\n"
	    "minimum_object_size 10 bytes\n"
	    "request_header_max_size 2 kb\n"
	    "read_timeout 2 minutes\n"
	    "connect_timeout 1500 ms\n"
	    "client_lifetime 2 days\n"
	    "pconn_timeout 1 hour\n"
	    "dns_timeout 45\n"
	    "via off\n"
	    "forwarded_for truncate\n"
	    "memory_replacement_policy sieve\n"
	    "max_filedescriptors 65536\n"
	    "pid_filename none\n"
	    "hosts_file /etc/other-hosts\n"), 0);
	ck_assert_int_eq(conf_finish(c), 0);
	ck_assert_uint_eq(c->cache_mem, 64ULL << 20);
	ck_assert_uint_eq(c->maximum_object_size, 3ULL << 29);
	ck_assert_uint_eq(c->maximum_object_size_in_memory, 100 << 10);
	ck_assert_uint_eq(c->minimum_object_size, 10);
	ck_assert_uint_eq(c->request_header_max_size, 2048);
	ck_assert_uint_eq(c->reply_header_max_size, 64 << 10);	/* default */
	ck_assert(c->read_timeout == 120.0);
	ck_assert(c->connect_timeout == 1.5);
	ck_assert(c->client_lifetime == 172800.0);
	ck_assert(c->pconn_timeout == 3600.0);
	ck_assert(c->dns_timeout == 45.0);
	ck_assert(c->request_timeout == 300.0);			/* default */
	ck_assert(!c->via);
	ck_assert_int_eq(c->forwarded_for, CONF_FWD_TRUNCATE);
	ck_assert_int_eq(c->memory_replacement_policy, CONF_REPL_SIEVE);
	ck_assert_int_eq(c->max_filedescriptors, 65536);
	ck_assert_ptr_null(c->pid_filename);
	ck_assert_str_eq(c->hosts_file, "/etc/other-hosts");
	ck_assert_ptr_nonnull(strstr(log_captured(),
	    "t.conf:10: dns_timeout: no unit on \"45\", assuming seconds"));
	conf_free(&c);
}
END_TEST

START_TEST(defaults_make_a_safe_proxy)
{
	struct conf *c = conf_new();
	size_t i;
	bool localnet = false, deny_all_last;

	ck_assert_int_eq(conf_finish(c), 0);
	ck_assert_uint_eq(c->cache_mem, 256ULL << 20);
	ck_assert(c->via);
	ck_assert_int_eq(c->forwarded_for, CONF_FWD_ON);
	ck_assert_str_eq(c->pid_filename, "/run/cuttle.pid");
	for (i = 0; i < c->acl.n; i++)
		if (strcmp(c->acl.v[i].argv[0], "localnet") == 0 &&
		    strcmp(c->acl.v[i].argv[2], "192.168.0.0/16") == 0)
			localnet = true;
	ck_assert(localnet);
	ck_assert_uint_eq(c->http_access.n, 7);
	ck_assert_str_eq(c->http_access.v[0].argv[0], "deny");
	ck_assert_str_eq(c->http_access.v[0].argv[1], "!Safe_ports");
	deny_all_last = strcmp(c->http_access.v[6].argv[0], "deny") == 0 &&
	    strcmp(c->http_access.v[6].argv[1], "all") == 0;
	ck_assert(deny_all_last);
	ck_assert_str_eq(c->http_access.v[0].file, "(built-in default)");
	ck_assert_uint_eq(c->refresh_pattern.n, 8);	/* Debian's */
	ck_assert_str_eq(c->refresh_pattern.v[2].argv[0], "-i");
	conf_free(&c);
}
END_TEST

START_TEST(lines_keep_words_quotes_and_place)
{
	struct conf *c = conf_new();

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "acl blocked dstdomain .example.com \"/etc/cuttle/bad\"  "
	    "# comment\n"
	    "acl q url_regex -i \"a b\\\"c\" x#y\n"
	    "http_access deny blocked\n"
	    "http_access allow \\\n"
	    "    all\n"
	    "logformat squid %ts.%03tu %6tr %>a\n"), 0);
	ck_assert_int_eq(conf_finish(c), 0);
	ck_assert_uint_gt(c->acl.n, 2);	/* the default names are added */
	ck_assert_str_eq(c->acl.v[2].file, "(built-in default)");
	ck_assert_uint_eq(c->acl.v[0].argc, 4);
	ck_assert_str_eq(c->acl.v[0].argv[3], "/etc/cuttle/bad");
	ck_assert_ptr_null(c->acl.v[0].argv[4]);
	ck_assert_str_eq(c->acl.v[1].argv[3], "a b\"c");
	ck_assert_str_eq(c->acl.v[1].argv[4], "x#y");
	ck_assert_uint_eq(c->http_access.n, 2);
	ck_assert_uint_eq(c->http_access.v[1].line, 4);
	ck_assert_uint_eq(c->http_access.v[1].argc, 2);
	ck_assert_str_eq(c->http_access.v[1].argv[1], "all");
	ck_assert_str_eq(c->http_access.v[1].file, "t.conf");
	ck_assert_uint_eq(c->logformat.v[0].argc, 4);
	ck_assert_str_eq(c->logformat.v[0].argv[3], "%>a");
	conf_free(&c);
}
END_TEST

/* A default acl stays unless the configuration defines its name. */
START_TEST(default_acls_apply_per_name)
{
	struct conf *c = conf_new();
	size_t i, localnet = 0, ssl = 0;

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "acl localnet src 10.1.0.0/16\nacl mine dstdomain .example\n"), 0);
	ck_assert_int_eq(conf_finish(c), 0);
	for (i = 0; i < c->acl.n; i++) {
		if (strcmp(c->acl.v[i].argv[0], "localnet") == 0)
			localnet++;
		if (strcmp(c->acl.v[i].argv[0], "SSL_ports") == 0)
			ssl++;
	}
	ck_assert_uint_eq(localnet, 1);		/* only the conf's */
	ck_assert_uint_eq(ssl, 1);		/* the default */
	ck_assert_uint_eq(c->http_access.n, 7);	/* defaults: none given */
	conf_free(&c);
}
END_TEST

START_TEST(https_port_options_old_and_new_names)
{
	struct conf *c = conf_new();
	const struct conf_port_tls *t;

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "http_port 3128\n"
	    "https_port 127.0.0.1:3129 tls-cert=/c.pem tls-key=/k.pem "
	    "tls-min-version=1.3 cipher=HIGH options=NO_TICKET,ALL "
	    "clientca=/ca.pem\n"
	    "https_port [::1]:3130 cert=/c2.pem key=/k2.pem "
	    "tls-cafile=/ca2.pem intercept\n"), 0);
	ck_assert_uint_eq(c->nports, 3);
	ck_assert_ptr_null(c->ports[0].tls);
	t = c->ports[1].tls;
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(port_of(&c->ports[1]), 3129);
	ck_assert_str_eq(t->cert, "/c.pem");
	ck_assert_str_eq(t->key, "/k.pem");
	ck_assert_int_eq(t->min_version, 0x0304);
	ck_assert_str_eq(t->cipher, "HIGH");
	ck_assert_str_eq(t->options, "NO_TICKET,ALL");
	ck_assert_str_eq(t->cafile, "/ca.pem");
	ck_assert_str_eq(c->ports[1].file, "t.conf");
	ck_assert_uint_eq(c->ports[1].line, 2);
	t = c->ports[2].tls;
	ck_assert_int_eq(c->ports[2].addr.ss_family, AF_INET6);
	ck_assert_str_eq(t->cert, "/c2.pem");
	ck_assert_str_eq(t->key, "/k2.pem");
	ck_assert_str_eq(t->cafile, "/ca2.pem");
	ck_assert_int_eq(t->min_version, 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:3: https_port: "
	    "option \"intercept\" is not supported"));
	ck_assert_ptr_null(strstr(log_captured(), "not supported and is "
	    "ignored: cuttle"));
	conf_free(&c);
}
END_TEST

START_TEST(http_port_ssl_bump_needs_a_ca)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} bad[] = {
		{ "http_port 3128 ssl-bump\n",
		    "t.conf:1: http_port: ssl-bump needs the CA" },
		{ "\nhttp_port 3128 ssl-bump tls-key=/ca.key "
		    "generate-host-certificates=on\n",
		    "t.conf:2: http_port: ssl-bump needs the CA" },
		{ "http_port 3128 ssl-bump cert=/ca.pem "
		    "generate-host-certificates=off\n",
		    "t.conf:1: http_port: ssl-bump needs "
		    "generate-host-certificates=on" },
		{ "http_port 3128 ssl-bump cert=/ca.pem "
		    "dynamic_cert_mem_cache_size=lots\n",
		    "t.conf:1: http_port: bad dynamic_cert_mem_cache_size" },
		{ "http_port 3128 ssl-bump cert=/ca.pem "
		    "dynamic_cert_key=rsa\n",
		    "t.conf:1: http_port: dynamic_cert_key= is p256 or "
		    "rsa2048" },
	};
	struct conf *c;
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		log_capture_reset();
		c = conf_new();
		ck_assert_int_eq(conf_load_string(c, "t.conf", bad[i].text), 1);
		ck_assert_uint_eq(c->nports, 0);
		ck_assert_msg(strstr(log_captured(), bad[i].msg) != NULL,
		    "%s: got %s", bad[i].msg, log_captured());
		conf_free(&c);
	}
	c = conf_new();
	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "http_port 3128\n"
	    "http_port 3129 ssl-bump tls-cert=/ca.pem tls-key=/ca.key "
	    "generate-host-certificates=on dynamic_cert_mem_cache_size=8MB\n"
	    "http_port 3130 ssl-bump cert=/ca2.pem dynamic_cert_key=rsa2048\n"
	    "ssl_bump peek all\n"
	    "sslproxy_cert_error deny all\n"
	    "sslcrtd_program /usr/lib/squid/security_file_certgen\n"), 0);
	ck_assert_uint_eq(c->nports, 3);
	ck_assert_ptr_null(c->ports[0].bump);
	ck_assert_ptr_null(c->ports[1].tls);
	ck_assert_str_eq(c->ports[1].bump->cert, "/ca.pem");
	ck_assert_str_eq(c->ports[1].bump->key, "/ca.key");
	ck_assert_uint_eq(c->ports[1].bump->cert_cache, 8u << 20);
	ck_assert_str_eq(c->ports[2].bump->cert, "/ca2.pem");
	ck_assert_ptr_null(c->ports[2].bump->key);
	ck_assert_uint_eq(c->ports[2].bump->cert_cache, 4u << 20);
	ck_assert(!c->ports[1].bump->leaf_rsa);
	ck_assert(c->ports[2].bump->leaf_rsa);
	ck_assert_uint_eq(c->ssl_bump.n, 1);
	ck_assert_uint_eq(c->sslproxy_cert_error.n, 1);
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:6: "
	    "sslcrtd_program is not supported and is ignored: cuttle mints "
	    "certificates itself"));
	conf_free(&c);
}
END_TEST

START_TEST(https_port_errors_and_no_default_http_port)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} bad[] = {
		{ "https_port 3129\n",
		    "t.conf:1: https_port: a certificate is required" },
		{ "https_port 3129 tls-key=/k.pem\n",
		    "t.conf:1: https_port: a certificate is required" },
		{ "\nhttps_port 3129 cert=/c.pem tls-min-version=1.4\n",
		    "t.conf:2: https_port: bad tls-min-version \"1.4\"" },
		{ "https_port 3129 cert=\n",
		    "t.conf:1: https_port: cert= needs a value" },
		{ "https_port nope cert=/c.pem\n",
		    "t.conf:1: https_port: bad port \"nope\"" },
	};
	struct conf *c;
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		log_capture_reset();
		c = conf_new();
		ck_assert_int_eq(conf_load_string(c, "t.conf", bad[i].text), 1);
		ck_assert_uint_eq(c->nports, 0);
		ck_assert_msg(strstr(log_captured(), bad[i].msg) != NULL,
		    "%s: got %s", bad[i].msg, log_captured());
		conf_free(&c);
	}
	/* An https_port alone: no http_port 3128 beside it. */
	c = conf_new();
	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "https_port 3129 cert=/c.pem\n"), 0);
	ck_assert_int_eq(conf_finish(c), 0);
	ck_assert_uint_eq(c->nports, 1);
	ck_assert_uint_eq(port_of(&c->ports[0]), 3129);
	ck_assert_ptr_nonnull(c->ports[0].tls);
	conf_free(&c);
}
END_TEST

START_TEST(unsupported_directives_say_what_cuttle_does)
{
	struct conf *c = conf_new();

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "cache_swap_low 90\n"
	    "icap_enable on\n"
	    "delay_pools 1\n"
	    "workers 4\n"), 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:1: cache_swap_low "
	    "is not supported and is ignored: the disk store fills"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:2: icap_enable is not "
	    "supported"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:3: delay_pools"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:4: workers"));
	ck_assert_ptr_null(strstr(log_captured(), "unknown directive"));
	conf_free(&c);
}
END_TEST

START_TEST(tls_outgoing_options_in_squid_syntax)
{
	struct conf *c = conf_new();
	const struct conf_tls *t = &c->tls_outgoing_options;

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "tls_outgoing_options cafile=/ca.pem capath=/certs "
	    "min-version=1.3 cipher=HIGH:!aNULL\n"
	    "tls_outgoing_options flags=DONT_VERIFY_PEER,DONT_VERIFY_DOMAIN "
	    "default-ca=off cert=/c.pem key=/k.pem frob=1\n"
	    "tls_outgoing_options options=NO_TLSv1:SINGLE_DH_USE:NO_WHAT\n"
	    "sslproxy_cafile /old.pem\n"), 0);
	ck_assert_str_eq(t->cafile, "/ca.pem");
	ck_assert_str_eq(t->capath, "/certs");
	ck_assert_str_eq(t->cipher, "HIGH:!aNULL");
	ck_assert_str_eq(t->cert, "/c.pem");
	ck_assert_str_eq(t->key, "/k.pem");
	ck_assert_uint_eq(t->min_version, 0x0304);	/* not lowered */
	ck_assert_uint_eq(t->flags, CONF_TLS_DONT_VERIFY_PEER |
	    CONF_TLS_DONT_VERIFY_DOMAIN);
	ck_assert(t->no_default_ca);
	ck_assert_str_eq(t->file, "t.conf");
	ck_assert_uint_eq(t->line, 3);
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:2: "
	    "tls_outgoing_options: unknown option \"frob=1\" ignored"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:3: "
	    "tls_outgoing_options: options=SINGLE_DH_USE has no effect"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:3: "
	    "tls_outgoing_options: unknown option \"NO_WHAT\" ignored"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:4: "
	    "sslproxy_cafile is not supported and is ignored: obsolete: use "
	    "tls_outgoing_options cafile="));
	conf_free(&c);

	/* Not given: verify against the system's CAs, TLS 1.2 at least. */
	c = conf_new();
	ck_assert_int_eq(conf_finish(c), 0);
	t = &c->tls_outgoing_options;
	ck_assert_ptr_null(t->file);
	ck_assert_uint_eq(t->flags, 0);
	ck_assert(!t->no_default_ca);
	ck_assert_uint_eq(t->min_version, 0);
	conf_free(&c);

	/* options=NO_TLSv1_2 raises the least version; bad values fail. */
	c = conf_new();
	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "tls_outgoing_options options=NO_TLSv1_2\n"), 0);
	ck_assert_uint_eq(c->tls_outgoing_options.min_version, 0x0304);
	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "tls_outgoing_options min-version=1.4\n"
	    "tls_outgoing_options flags=VERIFY_NOTHING\n"
	    "tls_outgoing_options cafile=\n"), 3);
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:1: "
	    "tls_outgoing_options: bad min-version \"1.4\""));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:2: "
	    "tls_outgoing_options: unknown flag \"VERIFY_NOTHING\""));
	ck_assert_ptr_nonnull(strstr(log_captured(), "t.conf:3: "
	    "tls_outgoing_options: cafile= needs a value"));
	conf_free(&c);
}
END_TEST

START_TEST(pending_directives_warn_once)
{
	struct conf *c = conf_new();
	const char *log, *first;

	ck_assert_int_eq(conf_load_string(c, "t.conf",
	    "coredump_dir /a\ncoredump_dir /b\n"
	    "http_port 3129\ncache_mem 10 MB\n"), 0);
	log = log_captured();
	first = strstr(log, "t.conf:1: coredump_dir: accepted, but cuttle "
	    "does not act on it yet");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_null(strstr(first + 30, "coredump_dir: accepted"));
	ck_assert_ptr_null(strstr(log, "http_port: accepted"));
	ck_assert_ptr_null(strstr(log, "cache_mem: accepted"));
	ck_assert_str_eq(c->coredump_dir, "/b");	/* last one wins */
	conf_free(&c);
}
END_TEST

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(include_globs_relative_to_the_including_file)
{
	char dir[] = "/tmp/check_conf_inc_XXXXXX", path[512];
	struct conf *c = conf_new();

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/conf.d", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/conf.d/10-a.conf", dir);
	write_file(path, "http_port 8001\n");
	snprintf(path, sizeof path, "%s/conf.d/20-b.conf", dir);
	write_file(path, "http_port 8002\ncache_mem oops\n");
	snprintf(path, sizeof path, "%s/conf.d/README", dir);
	write_file(path, "not a conf\n");
	snprintf(path, sizeof path, "%s/main.conf", dir);
	write_file(path, "http_port 8000\ninclude conf.d/*.conf\n"
	    "include nothing-*.conf\nhttp_port 8003\n");
	ck_assert_int_eq(conf_load(c, path), 2);
	ck_assert_uint_eq(c->nports, 4);
	ck_assert_uint_eq(port_of(&c->ports[1]), 8001);
	ck_assert_uint_eq(port_of(&c->ports[2]), 8002);
	ck_assert_uint_eq(port_of(&c->ports[3]), 8003);
	ck_assert_ptr_nonnull(strstr(log_captured(), "conf.d/20-b.conf:2: "
	    "cache_mem: bad size"));
	ck_assert_ptr_nonnull(strstr(log_captured(), "main.conf:3: include: no "
	    "file matches"));
	conf_free(&c);

	/* A file that includes itself stops at the nesting limit. */
	c = conf_new();
	write_file(path, "include main.conf\n");
	ck_assert_int_gt(conf_load(c, path), 0);
	ck_assert_ptr_nonnull(strstr(log_captured(), "nested more than 16 deep"));
	conf_free(&c);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	ck_assert_int_eq(system(path), 0);
}
END_TEST

START_TEST(size_and_time_values_for_other_layers)
{
	uint64_t sz;
	double t;
	bool no_unit;

	ck_assert_int_eq(conf_parse_size_value("64", "KB", &sz, &no_unit), 0);
	ck_assert_uint_eq(sz, 65536);
	ck_assert(!no_unit);
	ck_assert_int_eq(conf_parse_size_value("2GB", NULL, &sz, &no_unit), 0);
	ck_assert_uint_eq(sz, 2ULL << 30);
	ck_assert_int_eq(conf_parse_size_value("7", NULL, &sz, &no_unit), 0);
	ck_assert(no_unit);
	ck_assert_int_eq(conf_parse_size_value("x", NULL, &sz, &no_unit),
	    -EINVAL);
	ck_assert_int_eq(conf_parse_size_value("99999999999", "GB", &sz,
	    &no_unit), -EINVAL);
	ck_assert_int_eq(conf_parse_time_value("3", "weeks", &t, &no_unit), 0);
	ck_assert(t == 1814400.0);
	ck_assert_int_eq(conf_parse_time_value("1", "eon", &t, &no_unit),
	    -EINVAL);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("directives");

	tcase_add_checked_fixture(tc, log_capture_start, log_capture_stop);
	tcase_add_test(tc, defaults_listen_on_3128_everywhere);
	tcase_add_test(tc, http_port_forms_and_several_lines);
	tcase_add_test(tc, bad_values_are_errors_with_file_line_and_syntax);
	tcase_add_test(tc, unknown_directive_warns_and_goes_on);
	tcase_add_test(tc, http_port_options_warn_not_fail);
	tcase_add_test(tc, https_port_options_old_and_new_names);
	tcase_add_test(tc, https_port_errors_and_no_default_http_port);
	tcase_add_test(tc, http_port_ssl_bump_needs_a_ca);
	tcase_add_test(tc, load_reads_a_file_and_reports_a_missing_one);
	tcase_add_test(tc, docs_list_every_directive_with_default);
	tcase_add_test(tc, values_with_units_and_choices);
	tcase_add_test(tc, defaults_make_a_safe_proxy);
	tcase_add_test(tc, lines_keep_words_quotes_and_place);
	tcase_add_test(tc, unsupported_directives_say_what_cuttle_does);
	tcase_add_test(tc, tls_outgoing_options_in_squid_syntax);
	tcase_add_test(tc, default_acls_apply_per_name);
	tcase_add_test(tc, pending_directives_warn_once);
	tcase_add_test(tc, include_globs_relative_to_the_including_file);
	tcase_add_test(tc, size_and_time_values_for_other_layers);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
