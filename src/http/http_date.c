/*
 * http_date.c - HTTP-date parsing (RFC 9110 5.6.7).
 *
 * Three forms, told apart by length and punctuation:
 *
 *	IMF-fixdate	Sun, 06 Nov 1994 08:49:37 GMT	(29 bytes)
 *	rfc850-date	Sunday, 06-Nov-94 08:49:37 GMT	(30-33 bytes)
 *	asctime-date	Sun Nov  6 08:49:37 1994	(24 bytes)
 *
 * The grammar is followed exactly ("GMT" is required, no extra
 * whitespace): a date that does not parse is worth nothing to a cache,
 * and the callers already treat -1 as "stale" or "ignore" as the RFC
 * asks.  One relaxation: the grammar's names are case-sensitive (RFC 9110
 * 5.6.7), but every caller here is a cache, and RFC 9111 4.2 asks a cache
 * recipient to match them case-insensitively ("THU, 01 JAN 2099 00:00:00
 * gmt" is a date).  The day name must be a real one, but is not
 * checked against the date: senders get it wrong and the RFC gives it no
 * meaning of its own.  No libc time function is used (timegm() is not
 * C11, and strptime() follows the locale).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "http/http_cache.h"

static const char date_days[7][4] = {
	"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
};
static const char *const date_days_long[7] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
	"Sunday"
};
static const char date_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};

static bool
date_is_day(const char *s)
{
	unsigned i;

	for (i = 0; i < 7; i++)
		if (strncasecmp(s, date_days[i], 3) == 0)
			return (true);
	return (false);
}

/* 1-12, or 0 when s is not a month name. */
static int
date_month(const char *s)
{
	int i;

	for (i = 0; i < 12; i++)
		if (strncasecmp(s, date_months[i], 3) == 0)
			return (i + 1);
	return (0);
}

/* n digits at s as a number, or -1. */
static int
date_digits(const char *s, unsigned n)
{
	int v = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v);
}

/* time-of-day = hour ":" minute ":" second (8 bytes); second 60 is a
 * leap second (RFC 9110 5.6.7) and counts as the next minute's 00. */
static int
date_time_of_day(const char *s, int *h, int *m, int *sec)
{
	if (s[2] != ':' || s[5] != ':')
		return (-1);
	*h = date_digits(s, 2);
	*m = date_digits(s + 3, 2);
	*sec = date_digits(s + 6, 2);
	if (*h < 0 || *h > 23 || *m < 0 || *m > 59 || *sec < 0 || *sec > 60)
		return (-1);
	return (0);
}

static bool
date_is_leap(int y)
{
	return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
}

/*
 * Seconds since the epoch of a checked civil date and time (days from
 * the civil calendar as in H. Hinnant's "chrono-compatible low-level date
 * algorithms").  Dates before 1970 come out as 0: they are "long ago"
 * to a cache, and -1 must stay the error.
 */
static time_t
date_make(int y, int mon, int d, int h, int m, int s)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int64_t era, yoe, doy, doe, days;

	if (mon < 1 || mon > 12 || d < 1 ||
	    d > mdays[mon - 1] + (mon == 2 && date_is_leap(y)))
		return (-1);
	if (y < 1970)
		return (0);
	y -= mon <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	return ((time_t)(days * 86400 + h * 3600 + m * 60 + s));
}

/* Sun, 06 Nov 1994 08:49:37 GMT */
static time_t
date_imf(const char *s)
{
	int d, mon, y, h, m, sec;

	if (!date_is_day(s) || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[25] != ' ' ||
	    strncasecmp(s + 26, "GMT", 3) != 0)
		return (-1);
	d = date_digits(s + 5, 2);
	mon = date_month(s + 8);
	y = date_digits(s + 12, 4);
	if (d < 0 || y < 0 || date_time_of_day(s + 17, &h, &m, &sec) != 0)
		return (-1);
	return (date_make(y, mon, d, h, m, sec));
}

/*
 * Sunday, 06-Nov-94 08:49:37 GMT.  The RFC reads a two-digit year as the
 * latest past year with those digits unless that is over 50 years ago;
 * with no clock here, 70-99 are 1970-1999 and 00-69 are 2000-2069, which
 * agrees with that rule for every "now" from 2020 to 2069.
 */
static time_t
date_rfc850(const char *s, size_t len)
{
	const char *p = memchr(s, ',', len);
	int d, mon, y, h, m, sec;
	unsigned i;

	if (p == NULL || len - (size_t)(p - s) != 24)
		return (-1);
	for (i = 0; i < 7; i++)
		if ((size_t)(p - s) == strlen(date_days_long[i]) &&
		    strncasecmp(s, date_days_long[i], (size_t)(p - s)) == 0)
			break;
	if (i == 7 || p[1] != ' ' || p[4] != '-' || p[8] != '-' ||
	    p[11] != ' ' || p[20] != ' ' || strncasecmp(p + 21, "GMT", 3) != 0)
		return (-1);
	d = date_digits(p + 2, 2);
	mon = date_month(p + 5);
	y = date_digits(p + 9, 2);
	if (d < 0 || y < 0 || date_time_of_day(p + 12, &h, &m, &sec) != 0)
		return (-1);
	return (date_make(y < 70 ? 2000 + y : 1900 + y, mon, d, h, m, sec));
}

/* Sun Nov  6 08:49:37 1994 (the day as 2DIGIT or SP DIGIT) */
static time_t
date_asctime(const char *s)
{
	int d, mon, y, h, m, sec;

	if (!date_is_day(s) || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' ||
	    s[19] != ' ')
		return (-1);
	mon = date_month(s + 4);
	d = s[8] == ' ' ? date_digits(s + 9, 1) : date_digits(s + 8, 2);
	y = date_digits(s + 20, 4);
	if (d < 0 || y < 0 || date_time_of_day(s + 11, &h, &m, &sec) != 0)
		return (-1);
	return (date_make(y, mon, d, h, m, sec));
}

time_t
http_date_parse(const char *s, size_t len)
{
	if (s == NULL)
		return (-1);
	if (len == 29 && s[3] == ',')
		return (date_imf(s));
	if (len == 24 && s[3] == ' ')
		return (date_asctime(s));
	if (len >= 30 && len <= 33)
		return (date_rfc850(s, len));
	return (-1);
}
