/*
 * log.c - cache.log writer and debug_options parsing.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/check.h"
#include "base/log.h"

unsigned char log_levels[SEC__COUNT] = {
#define LOG_SECTION(sym, num, name)	[SEC_##sym] = LG_NOTICE,
#include "base/log_sections.h"
#undef LOG_SECTION
};

static const struct {
	unsigned	num;
	const char	*name;
} log_section_tbl[SEC__COUNT] = {
#define LOG_SECTION(sym, num, name)	[SEC_##sym] = { num, name },
#include "base/log_sections.h"
#undef LOG_SECTION
};

static const char *const log_level_names[LG_MAX + 1] = {
	[LG_CRIT] = "CRIT", [LG_ERR] = "ERROR", [LG_WARN] = "WARN",
	[LG_NOTICE] = "NOTICE", [LG_INFO] = "INFO", [6] = "DEBUG",
	[7] = "DEBUG", [8] = "DEBUG", [LG_DEBUG] = "DEBUG", [LG_TRACE] = "TRACE",
};

static FILE *log_file;

void
check_fail(const char *file, int line, const char *func, const char *cond)
{
	log_emit(LG_CRIT, SEC_MAIN, "assertion failed: %s at %s:%d (%s)",
	    cond, file, line, func);
	abort();
}

const char *
log_section_name(enum log_section sec)
{
	CHECK(sec < SEC__COUNT);
	return (log_section_tbl[sec].name);
}

void
log_set_file(FILE *f)
{
	log_file = f;
}

void
log_set_level(enum log_section sec, unsigned lvl)
{
	if (lvl > LG_MAX)
		lvl = LG_MAX;
	if (sec == SEC__COUNT) {
		memset(log_levels, lvl, sizeof log_levels);
		return;
	}
	CHECK(sec < SEC__COUNT);
	log_levels[sec] = lvl;
}

/* A section is named by Squid's number or by cuttle's name. */
static int
log_find_section(const char *word, size_t len, enum log_section *out)
{
	char *end;
	unsigned long num;
	size_t i;

	if (len == 3 && strncasecmp(word, "ALL", 3) == 0) {
		*out = SEC__COUNT;
		return (0);
	}
	if (isdigit((unsigned char)word[0])) {
		num = strtoul(word, &end, 10);
		if ((size_t)(end - word) != len)
			return (-EINVAL);
		for (i = 0; i < SEC__COUNT; i++)
			if (log_section_tbl[i].num == num) {
				*out = (enum log_section)i;
				return (0);
			}
		return (-EINVAL);
	}
	for (i = 0; i < SEC__COUNT; i++)
		if (strlen(log_section_tbl[i].name) == len &&
		    strncasecmp(log_section_tbl[i].name, word, len) == 0) {
			*out = (enum log_section)i;
			return (0);
		}
	return (-EINVAL);
}

int
log_parse_options(const char *spec, bool apply, const char **bad)
{
	unsigned char levels[SEC__COUNT];
	const char *p, *word = spec, *comma;
	enum log_section sec;
	unsigned long lvl;
	char *end;

	memcpy(levels, log_levels, sizeof levels);
	p = spec;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		word = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		comma = memchr(word, ',', (size_t)(p - word));
		if (comma == NULL || comma == word ||
		    log_find_section(word, (size_t)(comma - word), &sec) != 0)
			goto fail;
		if (!isdigit((unsigned char)comma[1]))
			goto fail;
		lvl = strtoul(comma + 1, &end, 10);
		if (end != p || lvl > LG_MAX)
			goto fail;
		if (sec == SEC__COUNT)
			memset(levels, (int)lvl, sizeof levels);
		else
			levels[sec] = (unsigned char)lvl;
	}
	if (apply)
		memcpy(log_levels, levels, sizeof levels);
	return (0);
fail:
	if (bad != NULL)
		*bad = word;
	return (-EINVAL);
}

void
log_emit(enum log_level lvl, enum log_section sec, const char *fmt, ...)
{
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	FILE *f;

	f = log_file != NULL ? log_file : stderr;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", &tm);
	flockfile(f);
	fprintf(f, "%s.%03ld| %s %s: ", stamp, ts.tv_nsec / 1000000L,
	    log_level_names[lvl > LG_MAX ? LG_MAX : lvl],
	    log_section_name(sec));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	funlockfile(f);
	fflush(f);
}
