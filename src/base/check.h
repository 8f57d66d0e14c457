/*
 * check.h - assertions that stay in release builds, and object magic.
 *
 * Bugs are asserted; peer misbehaviour and resource exhaustion are handled
 * and counted, never asserted (STYLE.md 2.5).  Every heap struct that
 * crosses a callback boundary starts with `unsigned magic;` and is checked
 * with CHECK_OBJ_NOTNULL() on entry; FREE_OBJ() poisons it so a use after
 * free trips the next check.
 */
#ifndef CUTTLE_BASE_CHECK_H
#define CUTTLE_BASE_CHECK_H

#include <stdlib.h>
#include <string.h>

void	check_fail(const char *file, int line, const char *func,
	    const char *cond) __attribute__((noreturn));

/* AN(x): x must be non-zero / non-NULL.  AZ(x): x must be zero. */
#define AN(x)	do {							\
	if (__builtin_expect(!(x), 0))					\
		check_fail(__FILE__, __LINE__, __func__, #x " != 0");	\
} while (0)
#define AZ(x)	do {							\
	if (__builtin_expect(!!(x), 0))					\
		check_fail(__FILE__, __LINE__, __func__, #x " == 0");	\
} while (0)
#define CHECK(cond)	do {						\
	if (__builtin_expect(!(cond), 0))				\
		check_fail(__FILE__, __LINE__, __func__, #cond);	\
} while (0)

/* WRONG(why): a place the code must never reach. */
#define WRONG(why)	check_fail(__FILE__, __LINE__, __func__, why)

#define CHECK_OBJ(ptr, type_magic)	CHECK((ptr)->magic == (type_magic))
#define CHECK_OBJ_NOTNULL(ptr, type_magic)	do {			\
	AN(ptr);							\
	CHECK_OBJ(ptr, type_magic);					\
} while (0)
#define CHECK_OBJ_ORNULL(ptr, type_magic)	do {			\
	if ((ptr) != NULL)						\
		CHECK_OBJ(ptr, type_magic);				\
} while (0)

/* ALLOC_OBJ(ptr, magic): zeroed allocation with magic set; ptr is NULL on
 * failure and the caller decides what that means. */
#define ALLOC_OBJ(ptr, type_magic)	do {				\
	(ptr) = calloc(1, sizeof *(ptr));				\
	if ((ptr) != NULL)						\
		(ptr)->magic = (type_magic);				\
} while (0)

/* FREE_OBJ(ptr): poison and free; the pointer is dead afterwards. */
#define FREE_OBJ(ptr)	do {						\
	memset(&(ptr)->magic, 0x5a, sizeof (ptr)->magic);		\
	free(ptr);							\
} while (0)

/* TAKE_OBJ_NOTNULL(to, pp, magic): move *pp into to, NULL the caller's
 * pointer; the idiom of every destructor that takes `**`. */
#define TAKE_OBJ_NOTNULL(to, pp, type_magic)	do {			\
	AN(pp);								\
	(to) = *(pp);							\
	*(pp) = NULL;							\
	CHECK_OBJ_NOTNULL(to, type_magic);				\
} while (0)

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member)					\
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif /* CUTTLE_BASE_CHECK_H */
