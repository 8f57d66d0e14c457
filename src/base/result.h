/*
 * result.h - how a transaction was answered: Squid's result codes (the
 * access.log's "TCP_MISS", "TCP_MEM_HIT" ...), as one table.
 *
 * A transaction holds an enum result_code; the access log prints its
 * name (with _ABORTED or _TIMEDOUT when the transfer was cut), and every
 * counter that asks "was it a hit?" reads the row's flags, never the
 * name.  A new code is a row here.
 *
 *	RESULT(sym, flags)	-> RESULT_<sym>, named "<sym>"
 */
#ifndef CUTTLE_RESULT_H
#define CUTTLE_RESULT_H

#include <stdint.h>

/* Row flags. */
#define RF_HIT		0x01u	/* answered from a stored entry */
#define RF_MEM		0x02u	/* ... the memory cache's (TCP_MEM_HIT) */
#define RF_NEAR		0x04u	/* ... after asking the origin (a refresh) */
#define RF_NOT_MOD	0x08u	/* a 304 the cache answered (IMS) */
#define RF_MISS		0x10u	/* the origin's reply, not stored before */
#define RF_DENIED	0x20u	/* refused by access rules */

#define RESULT_CODES							\
	RESULT(NONE,			0)				\
	RESULT(TAG_NONE,		0)				\
	RESULT(TCP_MISS,		RF_MISS)			\
	RESULT(TCP_CLIENT_REFRESH_MISS,	RF_MISS)			\
	RESULT(TCP_MEM_HIT,		RF_HIT | RF_MEM)		\
	RESULT(TCP_HIT,			RF_HIT)				\
	RESULT(TCP_SWAPFAIL_MISS,	RF_MISS)			\
	RESULT(TCP_CF_HIT,		RF_HIT)				\
	RESULT(TCP_IMS_HIT,		RF_HIT | RF_NOT_MOD)		\
	RESULT(TCP_STALE_HIT,		RF_HIT)				\
	RESULT(TCP_NEGATIVE_HIT,	RF_HIT)				\
	RESULT(TCP_REFRESH_UNMODIFIED,	RF_HIT | RF_NEAR)		\
	RESULT(TCP_REFRESH_MODIFIED,	RF_NEAR)			\
	RESULT(TCP_REFRESH_FAIL_OLD,	RF_HIT | RF_NEAR)		\
	RESULT(TCP_REFRESH_FAIL_ERR,	RF_NEAR)			\
	RESULT(TCP_DENIED,		RF_DENIED)			\
	RESULT(TCP_DENIED_REPLY,	RF_DENIED)			\
	RESULT(TCP_REDIRECT,		0)				\
	RESULT(TCP_TUNNEL,		0)

enum result_code {
#define RESULT(sym, flags)	RESULT_##sym,
	RESULT_CODES
#undef RESULT
	RESULT__COUNT
};

/* How a cut transfer is told apart (Squid's suffixes). */
enum result_end {
	RESULT_END_OK,
	RESULT_END_ABORTED,		/* _ABORTED: a side went away */
	RESULT_END_TIMEDOUT,		/* _TIMEDOUT: a side fell silent */
	RESULT_END__COUNT
};

static inline const char *
result_name(enum result_code c)
{
	static const char *const names[RESULT__COUNT] = {
#define RESULT(sym, flags)	[RESULT_##sym] = #sym,
		RESULT_CODES
#undef RESULT
	};

	return (c < RESULT__COUNT ? names[c] : "NONE");
}

static inline unsigned
result_flags(enum result_code c)
{
	static const uint8_t flags[RESULT__COUNT] = {
#define RESULT(sym, f)		[RESULT_##sym] = (uint8_t)(f),
		RESULT_CODES
#undef RESULT
	};

	return (c < RESULT__COUNT ? flags[c] : 0);
}

static inline const char *
result_end_suffix(enum result_end e)
{
	return (e == RESULT_END_ABORTED ? "_ABORTED" :
	    e == RESULT_END_TIMEDOUT ? "_TIMEDOUT" : "");
}

#endif /* CUTTLE_RESULT_H */
