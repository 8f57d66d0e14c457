/*
 * log.h - cache.log: leveled, sectioned, printf-checked messages.
 *
 * log_msg(LG_WARN, SEC_COMM, "accept: %s", strerror(errno)) writes
 *
 *	2026/11/22 18:40:01.123| WARN comm: accept: Too many open files
 *
 * when the section's level admits it.  A disabled call costs one load and
 * one compare: the arguments are not evaluated.  Levels are numbers as in
 * Squid's debug_options (0 critical, higher is chattier); every section
 * starts at LG_NOTICE, so "ALL,1" keeps errors only and "ALL,9" is all.
 *
 * The log state (levels per section, destination) is process-wide by
 * nature, like stderr; it is set at start-up and on reconfigure only.
 */
#ifndef CUTTLE_BASE_LOG_H
#define CUTTLE_BASE_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level {
	LG_CRIT = 0,
	LG_ERR = 1,
	LG_WARN = 2,
	LG_NOTICE = 3,
	LG_INFO = 4,
	LG_DEBUG = 5,
	LG_TRACE = 9,
	LG_MAX = 9
};

enum log_section {
#define LOG_SECTION(sym, num, name)	SEC_##sym,
#include "log_sections.h"
#undef LOG_SECTION
	SEC__COUNT
};

/* Level per section; written only by log_set_level() and log_parse(). */
extern unsigned char	log_levels[SEC__COUNT];

#define log_enabled(lvl, sec)	((unsigned)(lvl) <= log_levels[(sec)])

#define log_msg(lvl, sec, ...)	do {					\
	if (log_enabled(lvl, sec))					\
		log_emit((lvl), (sec), __VA_ARGS__);			\
} while (0)

void	log_emit(enum log_level lvl, enum log_section sec,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* log_set_level() - set every section (sec == SEC__COUNT) or one. */
void	log_set_level(enum log_section sec, unsigned lvl);

/* log_parse_options() - check a debug_options value ("ALL,1 5,3 comm,9")
 * and, when apply is true and it is good, put it in force.  Returns 0, or
 * -EINVAL with *bad (if not NULL) pointing at the offending word; nothing
 * changes then. */
int	log_parse_options(const char *spec, bool apply, const char **bad);

/* log_set_file() - where messages go (stderr at start-up).  The log does
 * not own f; the caller closes the old one after switching. */
void	log_set_file(FILE *f);

const char	*log_section_name(enum log_section sec);

#endif /* CUTTLE_BASE_LOG_H */
