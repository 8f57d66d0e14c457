/*
 * bench_acl.c - dstdomain with many entries: build time, memory, and the
 * cost of one http_access check, against a linear scan of the same list.
 *
 * The list has N names (default 100,000): half "hI.zoneJ.example" (that
 * name only), half ".hI.zoneJ.example" (the domain and its subdomains),
 * compiled from an acl line as an administrator's file would give them.
 * Lookups are hits on a name, hits on a subdomain, and misses, each timed
 * through acl_rules_check() with one "http_access deny big" rule, so the
 * figure includes the rule walk.  The linear scan does what a list
 * without an index does: compare the host with each entry.
 *
 *	usage: bench_acl [N]
 */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/check.h"
#include "conf/conf.h"
#include "http/http_hdr.h"
#include "acl/acl.h"

#define BENCH_LOOKUPS	1000000u
#define BENCH_SCANS	200u		/* linear scans are slow */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (mi.uordblks + mi.hblkhd);
}

/* The name of entry i, with or without the leading dot. */
static int
entry(char *buf, size_t size, unsigned i, bool dot)
{
	return (snprintf(buf, size, "%sh%u.zone%u.example",
	    dot && i % 2 ? "." : "", i, i % 997));
}

/* Host of lookup k: 0 a listed name, 1 a subdomain of an odd (dotted)
 * entry, 2 a name in no entry. */
static int
host(char *buf, size_t size, unsigned k, unsigned n)
{
	unsigned i = (unsigned)(((uint64_t)k * 2654435761u) % n);

	switch (k % 3) {
	case 0:
		return (entry(buf, size, i, false));
	case 1:
		i |= 1;
		if (i >= n)
			i -= 2;
		return (snprintf(buf, size, "www.h%u.zone%u.example", i,
		    i % 997));
	default:
		return (snprintf(buf, size, "h%u.zone%u.example", i,
		    (i + 1) % 997));
	}
}

/* What an index-less list does: compare with every entry. */
static bool
linear_match(char **names, unsigned n, const char *h, size_t len)
{
	size_t l;
	unsigned i;

	for (i = 0; i < n; i++) {
		const char *e = names[i];

		if (*e == '.') {
			e++;
			l = strlen(e);
			if (len == l && strncasecmp(h, e, l) == 0)
				return (true);
			if (len > l && h[len - l - 1] == '.' &&
			    strncasecmp(h + len - l, e, l) == 0)
				return (true);
		} else if (strlen(e) == len && strncasecmp(h, e, len) == 0)
			return (true);
	}
	return (false);
}

int
main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	struct conf_line rule_line, acl_line;
	struct conf_lines acls, rules;
	struct acl_request req;
	struct acl_rules *r;
	struct acl_set *s;
	char **names, buf[128], *rule_argv[3];
	double t0, t_build, t_lookup, t_scan;
	size_t heap0, heap1, bytes, total = 0;
	unsigned i, k, hits = 0, scan_hits = 0;
	int errors = 0, len;

	if (n < 2)
		n = 2;
	names = calloc((size_t)n + 3, sizeof *names);
	AN(names);
	names[0] = (char *)(uintptr_t)"big";
	names[1] = (char *)(uintptr_t)"dstdomain";
	for (i = 0; i < n; i++) {
		len = entry(buf, sizeof buf, i, true);
		names[i + 2] = strdup(buf);
		AN(names[i + 2]);
		total += (size_t)len;
	}
	acl_line = (struct conf_line){ "bench.conf", 1, n + 2, names };
	acls = (struct conf_lines){ &acl_line, 1 };
	rule_argv[0] = (char *)(uintptr_t)"deny";
	rule_argv[1] = (char *)(uintptr_t)"big";
	rule_argv[2] = NULL;
	rule_line = (struct conf_line){ "bench.conf", 2, 2, rule_argv };
	rules = (struct conf_lines){ &rule_line, 1 };

	heap0 = heap_in_use();
	t0 = now();
	s = acl_set_compile(&acls, &errors);
	t_build = now() - t0;
	heap1 = heap_in_use();
	AN(s);
	AZ(errors);
	bytes = acl_set_bytes(s);
	r = acl_rules_compile(s, &rules, "http_access", &errors);
	AN(r);
	AZ(errors);

	memset(&req, 0, sizeof req);
	req.method = HTTP_M_GET;
	req.port = 80;
	req.host = buf;
	t0 = now();
	for (k = 0; k < BENCH_LOOKUPS; k++) {
		req.host_len = (size_t)host(buf, sizeof buf, k, n);
		if (acl_rules_check(r, &req, ACL_ALLOW) == ACL_DENY)
			hits++;
	}
	t_lookup = now() - t0;
	/* The snprintf() that makes each host, timed alone. */
	t0 = now();
	for (k = 0; k < BENCH_LOOKUPS; k++)
		len = host(buf, sizeof buf, k, n);
	t_lookup -= now() - t0;

	t0 = now();
	for (k = 0; k < BENCH_SCANS; k++) {
		len = host(buf, sizeof buf, k, n);
		if (linear_match(names + 2, n, buf, (size_t)len))
			scan_hits++;
	}
	t_scan = now() - t0;

	printf("## dstdomain, %u entries (%zu bytes of names)\n\n", n, total);
	printf("| figure | value |\n|---|---|\n");
	printf("| build (acl_set_compile) | %.1f ms |\n", t_build * 1e3);
	printf("| heap held by the set (malloc's count) | %.2f MiB "
	    "(%.1f bytes/entry) |\n", (double)(heap1 - heap0) / 1048576,
	    (double)(heap1 - heap0) / n);
	printf("| acl_set_bytes() | %.2f MiB |\n", (double)bytes / 1048576);
	printf("| one http_access check (1/3 name hit, 1/3 subdomain hit, "
	    "1/3 miss) | %.0f ns |\n", t_lookup * 1e9 / BENCH_LOOKUPS);
	printf("| hits | %u of %u (expect %u) |\n", hits, BENCH_LOOKUPS,
	    BENCH_LOOKUPS - BENCH_LOOKUPS / 3);
	printf("| linear scan of the same list, for comparison | %.0f ns "
	    "(%u of %u hit) |\n", t_scan * 1e9 / BENCH_SCANS, scan_hits,
	    BENCH_SCANS);

	acl_rules_free(&r);
	acl_set_free(&s);
	for (i = 0; i < n; i++)
		free(names[i + 2]);
	free(names);
	return (0);
}
