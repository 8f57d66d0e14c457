/*
 * log_capture.h - unit tests read back what a module logged: the log goes
 * to a temporary file for the test, and log_captured() returns its text.
 * One capture at a time (check's fork mode gives each test its own).
 */
#ifndef CUTTLE_TEST_LOG_CAPTURE_H
#define CUTTLE_TEST_LOG_CAPTURE_H

#include <check.h>
#include <stdio.h>
#include <unistd.h>

#include "base/log.h"

static FILE *log_capture_fp;

static inline void
log_capture_start(void)
{
	log_capture_fp = tmpfile();
	ck_assert_ptr_nonnull(log_capture_fp);
	log_set_file(log_capture_fp);
	log_set_level(SEC__COUNT, LG_NOTICE);
}

static inline void
log_capture_stop(void)
{
	log_set_file(NULL);
	fclose(log_capture_fp);
	log_capture_fp = NULL;
}

/* log_capture_reset() - forget what was logged so far. */
static inline void
log_capture_reset(void)
{
	fflush(log_capture_fp);
	ck_assert_int_eq(ftruncate(fileno(log_capture_fp), 0), 0);
	rewind(log_capture_fp);
}

/* log_captured() - the text logged since the start or the last reset (its
 * first 64 KiB), valid until the next call. */
static inline const char *
log_captured(void)
{
	static char buf[65536];
	size_t n;

	fflush(log_capture_fp);
	rewind(log_capture_fp);
	n = fread(buf, 1, sizeof buf - 1, log_capture_fp);
	buf[n] = '\0';
	return (buf);
}

#endif /* CUTTLE_TEST_LOG_CAPTURE_H */
