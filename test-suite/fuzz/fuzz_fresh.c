/*
 * fuzz_fresh.c - the freshness calculator: http_cache_meta_init(),
 * http_cache_age(), http_cache_use(), http_cache_stale_on_error() and
 * http_cache_storable(), with fuzzer-chosen times.  Input lines:
 *
 *	request_time response_time now later status url
 *	reply fields ("name: value"), then an empty line
 *	request fields
 *
 * Times are seconds, each capped at 2^40 (year 36812): they come from
 * the clock, so only the headers' values may be anything.  The refresh
 * rules are Squid's defaults plus one with every option.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "fuzz.h"
#include "http/http_cache.h"

#define TIME_MAX	(INT64_C(1) << 40)

static struct http_refresh *rules;

static const char *const rule_text[] = {
	"^ftp: 1440 20% 10080",
	"-i (/cgi-bin/|\\?) 0 0% 0",
	"-i \\.jpg$ 60 50% 1440 override-expire override-lastmod "
	    "ignore-reload reload-into-ims",
	"\\.gif$ 0 100000% 35791394 refresh-ims ignore-no-store "
	    "ignore-private max-stale=600",
	". 0 20% 4320",
};
#define NRULES	(sizeof rule_text / sizeof rule_text[0])

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct conf_line v[NRULES];
	static char *words[NRULES][12];
	struct conf_lines lines = { v, NRULES };
	char err[512], *s, *w;
	unsigned i, n;

	fuzz_quiet();
	for (i = 0; i < NRULES; i++) {
		s = strdup(rule_text[i]);
		if (s == NULL)
			abort();
		for (n = 0; n < 11 && (w = strsep(&s, " ")) != NULL; n++)
			words[i][n] = w;
		v[i].file = "fuzz.conf";
		v[i].line = i + 1;
		v[i].argc = n;
		v[i].argv = words[i];
	}
	rules = http_refresh_new(&lines, err, sizeof err);
	if (rules == NULL)
		fuzz_fail(__FILE__, __LINE__, err);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_cache_meta meta;
	struct http_cc repcc, reqcc;
	struct http_msg rep, req;
	enum http_cache_use use, use2;
	int64_t t_req, t_rep, now, later, status, age, age2;
	const char *line;
	char *url;
	size_t len, used;

	if (!fuzz_line(&data, &size, &line, &len))
		return (0);
	t_req = fuzz_number(&line, &len, TIME_MAX);
	t_rep = fuzz_number(&line, &len, TIME_MAX);
	now = fuzz_number(&line, &len, TIME_MAX);
	later = fuzz_number(&line, &len, TIME_MAX);
	status = fuzz_number(&line, &len, 999);
	if (status < 100)
		status = 200;
	while (len > 0 && *line == ' ') {
		line++;
		len--;
	}
	/* NUL-terminated although http_cache.c passes the length on to
	 * regexec() with REG_STARTEND: ASan's regexec() interceptor (LLVM
	 * 14) checks strlen(string) + 1 bytes whatever the flags say. */
	url = malloc(len + 1);
	if (url == NULL)
		abort();
	memcpy(url, line, len);
	url[len] = '\0';
	if (later < now) {
		int64_t t = later;

		later = now;
		now = t;
	}

	http_msg_init(&rep, HTTP_MSG_RESPONSE);
	if (http_msg_set_status(&rep, (unsigned)status, "X", 1) != 0)
		abort();
	fuzz_fields(&rep, data, size, &used);
	http_msg_init(&req, HTTP_MSG_REQUEST);
	req.method = HTTP_M_GET;
	fuzz_fields(&req, data + used, size - used, NULL);
	http_cc_parse(&rep, &repcc);
	http_cc_parse(&req, &reqcc);

	(void)http_cache_storable(&req, &reqcc, &rep, &repcc, rules, url,
	    len);
	(void)http_cache_storable(&req, &reqcc, &rep, &repcc, NULL, url,
	    len);
	http_cache_meta_init(&meta, &rep, &repcc, rules, url, len, t_req,
	    t_rep);
	FUZZ_ASSERT(meta.lifetime >= 0);
	FUZZ_ASSERT(meta.corrected_initial_age <= UINT32_C(2147483648));
	FUZZ_ASSERT(meta.stale_while_revalidate >= -1);
	FUZZ_ASSERT(meta.stale_if_error >= -1);
	age = http_cache_age(&meta, now);
	age2 = http_cache_age(&meta, later);
	FUZZ_ASSERT(age >= 0 && age2 >= age);
	use = http_cache_use(&meta, &reqcc, now);
	use2 = http_cache_use(&meta, &reqcc, later);
	FUZZ_ASSERT(use <= HCU_REVALIDATE && use2 <= HCU_REVALIDATE);
	/* 4.2: fresh means younger than the lifetime; and what is fresh
	 * later was fresh before. */
	if (use == HCU_FRESH)
		FUZZ_ASSERT(meta.lifetime > age);
	if (use2 == HCU_FRESH)
		FUZZ_ASSERT(use == HCU_FRESH);
	/* 4.2.4: never stale against must-revalidate and its kin. */
	if (meta.flags & HCM_MUST_REVALIDATE)
		FUZZ_ASSERT(use != HCU_STALE_OK &&
		    use != HCU_STALE_REVALIDATE);
	/* ... nor served stale on an error, whatever max_stale allows;
	 * and a stale answer within max_stale is never a no-cache
	 * request's, nor for negative_ttl's errors. */
	if (http_cache_stale_on_error(&meta, &reqcc, now, later - now))
		FUZZ_ASSERT((meta.flags & (HCM_MUST_REVALIDATE |
		    HCM_NO_CACHE | HCM_NEGATIVE)) == 0);
	if (http_cache_stale_on_error(&meta, &reqcc, now, later - now) &&
	    !http_cache_stale_on_error(&meta, &reqcc, now, 0))
		FUZZ_ASSERT((reqcc.flags & HCC_NO_CACHE) == 0);
	http_cache_meta_init(&meta, &rep, &repcc, NULL, url, len, t_req,
	    t_rep);
	FUZZ_ASSERT(meta.lifetime >= 0 && (meta.flags & HCM_HEURISTIC) == 0);
	http_msg_fini(&rep);
	http_msg_fini(&req);
	free(url);
	return (0);
}
