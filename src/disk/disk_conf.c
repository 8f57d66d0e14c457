/*
 * disk_conf.c - a cache_dir line, checked and read into a disk_dir_conf.
 *
 *	cache_dir rock PATH SIZE-MB [max-size=N] [min-size=N] [swap-timeout=N]
 *	    [max-swap-rate=N] [slot-size=N]
 *	cache_dir ufs|aufs|diskd PATH SIZE-MB L1 L2 [options]
 *
 * Squid's types all name cuttle's store (PATH/cuttle.store); the options
 * Squid's rock has that cuttle does not act on (slot-size, no-store,
 * read-only) are accepted with a warning, so that existing files work.
 * No I/O here: the store is opened or made where the daemon starts
 * (src/disks.c).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "conf/conf.h"
#include "disk/disk.h"

#define DIR_FORM	"cache_dir rock PATH SIZE-MB [max-size=bytes] " \
			"[min-size=bytes] [swap-timeout=ms] " \
			"[max-swap-rate=writes/s] [slot-size=bytes]"

/* "file:line: cache_dir: <text>[; expected: <form>]". */
#define dir_msg(out, outlen, l, expected, ...)				\
	conf_line_error(out, outlen, l, "cache_dir", expected, __VA_ARGS__)

/* A whole decimal number, at most max. */
static int
dir_number(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return (-EINVAL);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) /
		    10)
			return (-EINVAL);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return (0);
}

static int
dir_option(struct disk_dir_conf *d, const struct conf_line *l,
    const char *opt, char *err, size_t errlen, char *warn, size_t warnlen)
{
	static const char *const later[] = { "no-store", "read-only" };
	const char *eq = strchr(opt, '=');
	uint64_t *to = NULL;
	bool no_unit;
	size_t i;

	if (strncmp(opt, "swap-timeout=", 13) == 0 ||
	    strncmp(opt, "max-swap-rate=", 14) == 0) {
		if (dir_number(eq + 1, 1000000000, opt[1] == 'w' ?
		    &d->swap_timeout_ms : &d->max_swap_rate) != 0) {
			dir_msg(err, errlen, l, DIR_FORM, "\"%s\" is not a "
			    "whole number", opt);
			return (-EINVAL);
		}
		return (0);
	}
	if (strncmp(opt, "slot-size=", 10) == 0) {
		/* Squid rock's fixed slots: cuttle packs its records in
		 * 16-byte units whatever their size. */
		if (warn != NULL && warn[0] == '\0')
			dir_msg(warn, warnlen, l, NULL, "slot-size: accepted "
			    "and ignored: cuttle's records are packed, not in "
			    "fixed slots");
		return (0);
	}
	if (strncmp(opt, "max-size=", 9) == 0)
		to = &d->max_size;
	else if (strncmp(opt, "min-size=", 9) == 0)
		to = &d->min_size;
	if (to != NULL) {
		if (conf_parse_size_value(eq + 1, NULL, to, &no_unit) != 0) {
			dir_msg(err, errlen, l, DIR_FORM, "bad size in \"%s\"",
			    opt);
			return (-EINVAL);
		}
		return (0);
	}
	for (i = 0; i < ARRAY_LEN(later); i++)
		if (strncmp(opt, later[i], strlen(later[i])) == 0) {
			if (warn != NULL && warn[0] == '\0')
				dir_msg(warn, warnlen, l, NULL, "%.*s: "
				    "accepted, but cuttle does not act on it "
				    "yet", (int)(eq != NULL ? eq - opt :
				    (long)strlen(opt)), opt);
			return (0);
		}
	dir_msg(err, errlen, l, DIR_FORM, "unknown option \"%s\"", opt);
	return (-EINVAL);
}

int
disk_dir_parse(const struct conf_line *l, struct disk_dir_conf *d,
    char *err, size_t errlen, char *warn, size_t warnlen)
{
	unsigned i = 3;
	uint64_t mb, n;

	AN(l);
	AN(d);
	memset(d, 0, sizeof *d);
	if (warn != NULL && warnlen > 0)
		warn[0] = '\0';
	if (l->argc < 3) {
		dir_msg(err, errlen, l, DIR_FORM, "too few words");
		return (-EINVAL);
	}
	if (strcmp(l->argv[0], "ufs") == 0 || strcmp(l->argv[0], "aufs") ==
	    0 || strcmp(l->argv[0], "diskd") == 0) {
		/* Squid's L1 L2: directory fan-out, meaningless here. */
		if (l->argc < 5 || dir_number(l->argv[3], 65535, &n) != 0 ||
		    dir_number(l->argv[4], 65535, &n) != 0) {
			dir_msg(err, errlen, l, "cache_dir ufs PATH SIZE-MB L1 "
			    "L2", "L1 and L2 must be numbers");
			return (-EINVAL);
		}
		i = 5;
		d->squid_type = true;
		dir_msg(warn, warnlen, l, NULL, "%s is read as cuttle's own "
		    "store (rock): PATH/cuttle.store; Squid's files in %s are "
		    "not imported", l->argv[0], l->argv[1]);
	} else if (strcmp(l->argv[0], "rock") != 0) {
		dir_msg(err, errlen, l, DIR_FORM, "unknown store type \"%s\"",
		    l->argv[0]);
		return (-EINVAL);
	}
	if (l->argv[1][0] != '/') {
		dir_msg(err, errlen, l, DIR_FORM, "PATH \"%s\" is not "
		    "absolute", l->argv[1]);
		return (-EINVAL);
	}
	/* A store of at least two of the smallest regions, at most what
	 * the format can address (2^24 regions of 16 MiB). */
	if (dir_number(l->argv[2], (uint64_t)1 << 28, &mb) != 0 || mb < 1) {
		dir_msg(err, errlen, l, DIR_FORM, "SIZE-MB \"%s\" is not a "
		    "number of megabytes from 1", l->argv[2]);
		return (-EINVAL);
	}
	d->size = mb << 20;
	for (; i < l->argc; i++)
		if (dir_option(d, l, l->argv[i], err, errlen,
		    d->squid_type ? NULL : warn, warnlen) != 0)
			return (-EINVAL);
	if (d->max_size > 0 && d->min_size > d->max_size) {
		dir_msg(err, errlen, l, DIR_FORM, "min-size is above "
		    "max-size");
		return (-EINVAL);
	}
	d->path = strdup(l->argv[1]);
	if (d->path == NULL) {
		dir_msg(err, errlen, l, NULL, "out of memory");
		return (-ENOMEM);
	}
	return (0);
}

void
disk_dir_conf_fini(struct disk_dir_conf *d)
{
	if (d == NULL)
		return;
	free(d->path);
	memset(d, 0, sizeof *d);
}

uint32_t
disk_dir_region_size(uint64_t size)
{
	uint64_t r = size / 16;

	/* Sixteen regions at least, so that a wrap reclaims a small share;
	 * then as large as the format allows. */
	r -= r % DISK_REGION_MIN;
	if (r < DISK_REGION_MIN)
		r = DISK_REGION_MIN;
	if (r > DISK_REGION_MAX)
		r = DISK_REGION_MAX;
	return ((uint32_t)r);
}
