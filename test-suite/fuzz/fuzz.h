/*
 * fuzz.h - what the libFuzzer targets of test-suite/fuzz/ share.
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput() for one parser.
 * A target crashes (abort()) on a broken invariant as well as on what the
 * sanitizers catch, so that `make fuzz` fails and the input is kept.
 * README.md gives each target's input format.
 */
#ifndef CUTTLE_FUZZ_H
#define CUTTLE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http_msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

/* FUZZ_ASSERT(cond): an invariant of the code under test; a failure is
 * reported like a crash (libFuzzer keeps the input). */
#define FUZZ_ASSERT(cond)	do {					\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond);			\
} while (0)

void	fuzz_fail(const char *file, int line, const char *cond)
	    __attribute__((noreturn));

/* fuzz_alloc() - exactly n bytes (one for 0), so that ASan sees a byte
 * past them; aborts when there is no memory. */
void	*fuzz_alloc(size_t n);
/* fuzz_copy() - p[0..n) in a buffer of exactly n bytes, or n + 1 with a
 * NUL after them (nul). */
char	*fuzz_copy(const void *p, size_t n, bool nul);

/* fuzz_quiet() - cuttle's log off: the parsers log what they refuse. */
void	fuzz_quiet(void);

/* fuzz_line() - the next LF-terminated line of *data (CR before the LF
 * dropped), advancing *data and *size past it; false when none is left. */
int	fuzz_line(const uint8_t **data, size_t *size, const char **line,
	    size_t *len);

/* fuzz_fields() - each "name: value" line of data (up to an empty line,
 * or all of it) added to m with http_msg_add_field(), which refuses what
 * the parser would; *used is how many bytes were read (empty line
 * included). */
void	fuzz_fields(struct http_msg *m, const uint8_t *data, size_t size,
	    size_t *used);

/* fuzz_number() - a decimal number at the start of s, at most max;
 * 0 when there is none. */
int64_t	fuzz_number(const char **s, size_t *len, int64_t max);

/*
 * The message-parser driver shared by fuzz_request, fuzz_response and
 * fuzz_chunked: parse up to FUZZ_MAX_MSGS messages from in (pipelined, or
 * a 1xx before the final reply), once with all of it at once and once
 * fed in pieces of the sizes in splits[] (used in turn; each piece in a
 * buffer of its own, exactly its size, so that ASan sees any read past
 * it), and check that both runs agree.
 */
#define FUZZ_MAX_MSGS	8

struct fuzz_msg_opts {
	enum http_msg_kind	kind;
	size_t			max_header;
	int			no_body;	/* reply to HEAD */
	int			eof;		/* peer closes after in */
	const uint8_t		*splits;
	size_t			nsplits;
};

void	fuzz_parse(const struct fuzz_msg_opts *o, const uint8_t *in,
	    size_t len);

/* fuzz_parse_input() - fuzz_parse() with options from the first bytes:
 *	byte 0	flags: 0x01 no_body (replies only), 0x02 eof,
 *		0x0c max_header (64 KiB, 4 KiB, 256 B, 64 B)
 *	byte 1	n: the low 4 bits are how many split sizes follow
 *	n bytes	piece sizes (0 is taken as 1)
 * then the bytes of the messages. */
void	fuzz_parse_input(enum http_msg_kind kind, const uint8_t *data,
	    size_t size);

#endif /* CUTTLE_FUZZ_H */
