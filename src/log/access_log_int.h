/*
 * access_log_int.h - logformat compilation and rendering, shared by
 * access_log.c (files, buffers) and access_log_format.c (the %-codes).
 *
 * A compiled format is an array of tokens: literal text, or one %-code
 * with Squid's modifiers, parsed once at configuration time:
 *
 *	%["'#]? -? 0? width? (.max)? ({argument})? (http::)? code
 *	   |     |  |                  |
 *	   |     |  |                  `- header name (Name, Name:member,
 *	   |     |  |                     Name:;member) or strftime format
 *	   |     |  `- zero-pad numbers
 *	   |     `- left-align in width
 *	   `- quoting: "  quoted string, [  MIME blob, #  URL, '  raw
 *
 * Outside %-codes a literal '"' toggles quoted-string escaping for the
 * codes that follow, and '[' ... ']' MIME-blob escaping, as in Squid.
 */
#ifndef CUTTLE_LOG_ACCESS_LOG_INT_H
#define CUTTLE_LOG_ACCESS_LOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct access_entry;

enum lf_code {
	LF_STRING = 0,		/* literal text */
#define LF_CODE(sym, tag, esc)	LF_##sym,
#include "log/access_log_code_tbl.h"
#undef LF_CODE
	LF__COUNT
};

enum lf_quote {
	LFQ_NONE,		/* only the esc codes are escaped */
	LFQ_QUOTES,		/* \" \\ \r \n \t */
	LFQ_MIMEBLOB,		/* %xx for controls, '%', '[', ']' */
	LFQ_URL,		/* RFC 1738: unsafe characters, '%' */
	LFQ_RAW			/* nothing */
};

struct lf_token {
	uint8_t		code;		/* enum lf_code */
	uint8_t		quote;		/* enum lf_quote */
	bool		left;
	bool		zero;
	char		sep;		/* list separator for a member */
	int		wmin;		/* -1: none */
	int		wmax;		/* -1: none */
	char		*arg;		/* the text, or {argument}; owned */
	size_t		len;		/* of arg */
	const char	*member;	/* {Name:member}: inside arg */
};

struct logformat {
	unsigned		magic;
#define LOGFORMAT_MAGIC		0x109f0a77U
	char			*name;
	struct lf_token		*tok;
	size_t			ntok;
};

/* Growable text; oom is set (and sticks) when an append failed. */
struct lf_text {
	char		*p;
	size_t		len;
	size_t		cap;
	bool		oom;
};

void	lf_text_add(struct lf_text *t, const void *p, size_t n);
void	lf_text_fini(struct lf_text *t);

/* Scratch space rendering reuses from line to line. */
struct lf_scratch {
	struct lf_text	val;		/* a value being put together */
	struct lf_text	part;		/* a part picked out of val */
	struct lf_text	esc;		/* a value being escaped */
};

/* logformat_builtin() - the definition of a format Squid predefines
 * (squid, common, combined, referrer, useragent), or NULL. */
const char	*logformat_builtin(const char *name);

/*
 * logformat_compile() - parse def.  0 with *out set; -EINVAL with a
 * message in err (an unknown code, an unterminated {); -ENOMEM.
 */
int	logformat_compile(const char *name, const char *def,
	    struct logformat **out, char *err, size_t errlen);
void	logformat_free(struct logformat **fp);

/*
 * logformat_render() - append one line for e (no newline) to line.  now
 * stands in for e->end when that is 0; seq is %sn.  Failures show as
 * line->oom.
 */
void	logformat_render(const struct logformat *f,
	    const struct access_entry *e, double now, uint64_t seq,
	    struct lf_scratch *s, struct lf_text *line);

#endif /* CUTTLE_LOG_ACCESS_LOG_INT_H */
