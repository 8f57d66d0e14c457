/*
 * dec.h - unsigned integers in decimal without printf, for the paths that
 * run for every request (reply lines, cache keys, helper lines), where
 * vfprintf() shows in profiles.
 */
#ifndef CUTTLE_BASE_DEC_H
#define CUTTLE_BASE_DEC_H

#include <stdint.h>

/* Room for any uintmax_t in decimal (no NUL). */
#define DEC_MAX		20

/* dec_put() - v in decimal written backwards so that it ends just before
 * end (no NUL); returns where it starts.  The caller keeps DEC_MAX bytes
 * before end. */
static inline char *
dec_put(char *end, uintmax_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return (end);
}

#endif /* CUTTLE_BASE_DEC_H */
