/*
 * check_base.c - unit tests for src/base: lists, asserts, log levels.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/list.h"
#include "base/log.h"

struct item {
	int		v;
	struct list	link;
};

START_TEST(list_keeps_insertion_order_and_survives_removal)
{
	struct item it[4];
	struct list head, *n, *tmp;
	int i, seen[4], k = 0;

	list_init(&head);
	ck_assert(list_empty(&head));
	ck_assert_ptr_null(list_first(&head));
	for (i = 0; i < 4; i++) {
		it[i].v = i;
		list_init(&it[i].link);
		ck_assert(!list_linked(&it[i].link));
		list_insert_tail(&head, &it[i].link);
		ck_assert(list_linked(&it[i].link));
	}
	LIST_FOREACH_SAFE(n, tmp, &head) {
		struct item *p = container_of(n, struct item, link);
		if (p->v == 1)
			list_remove(n);
		else
			seen[k++] = p->v;
	}
	ck_assert_int_eq(k, 3);
	ck_assert_int_eq(seen[0], 0);
	ck_assert_int_eq(seen[1], 2);
	ck_assert_int_eq(seen[2], 3);
	list_remove(&it[1].link);	/* twice is harmless */
	ck_assert(!list_linked(&it[1].link));
	list_insert_head(&head, &it[1].link);
	ck_assert_ptr_eq(list_first(&head), &it[1].link);
}
END_TEST

START_TEST(list_move_appends_and_empties_source)
{
	struct item it[3];
	struct list a, b, *n;
	int i, k = 0;

	list_init(&a);
	list_init(&b);
	list_move(&a, &b);
	ck_assert(list_empty(&a));
	for (i = 0; i < 3; i++) {
		it[i].v = i;
		list_insert_tail(i == 0 ? &a : &b, &it[i].link);
	}
	list_move(&a, &b);
	ck_assert(list_empty(&b));
	LIST_FOREACH(n, &a)
		ck_assert_int_eq(container_of(n, struct item, link)->v, k++);
	ck_assert_int_eq(k, 3);
}
END_TEST

struct magic_thing {
	unsigned	magic;
#define MAGIC_THING_MAGIC	0x7e57f00dU
	int		x;
};

START_TEST(take_obj_nulls_the_callers_pointer)
{
	struct magic_thing *t, *got, **pp = &t;

	ALLOC_OBJ(t, MAGIC_THING_MAGIC);
	ck_assert_ptr_nonnull(t);
	TAKE_OBJ_NOTNULL(got, pp, MAGIC_THING_MAGIC);
	ck_assert_ptr_null(t);
	FREE_OBJ(got);
}
END_TEST

START_TEST(check_obj_aborts_on_wrong_magic)
{
	struct magic_thing t = { .magic = 0x12345678U }, *tp = &t;

	log_set_file(fopen("/dev/null", "w"));
	CHECK_OBJ_NOTNULL(tp, MAGIC_THING_MAGIC);
}
END_TEST

START_TEST(az_aborts_on_nonzero)
{
	log_set_file(fopen("/dev/null", "w"));
	AZ(_i + 1);
}
END_TEST

START_TEST(debug_options_set_levels_by_number_and_name)
{
	const char *bad = NULL;

	ck_assert_int_eq(log_parse_options("ALL,1", true, &bad), 0);
	ck_assert(log_enabled(LG_ERR, SEC_COMM));
	ck_assert(!log_enabled(LG_WARN, SEC_COMM));
	ck_assert_int_eq(log_parse_options("5,9 conf,2", true, &bad), 0);
	ck_assert(log_enabled(LG_TRACE, SEC_COMM));
	ck_assert(log_enabled(LG_WARN, SEC_CONF));
	ck_assert(!log_enabled(LG_NOTICE, SEC_CONF));
	ck_assert(!log_enabled(LG_WARN, SEC_MAIN));
}
END_TEST

START_TEST(debug_options_reject_bad_words_and_change_nothing)
{
	static const char *const bad_specs[] = {
		"ALL", "ALL,", "ALL,x", "ALL,10", "nosuch,1", "12345,1",
		",1", "ALL,1 comm", "5,1x",
	};
	const char *bad;
	size_t i;

	ck_assert_int_eq(log_parse_options("ALL,3", true, NULL), 0);
	for (i = 0; i < ARRAY_LEN(bad_specs); i++) {
		bad = NULL;
		ck_assert_msg(log_parse_options(bad_specs[i], true, &bad) ==
		    -EINVAL, "accepted \"%s\"", bad_specs[i]);
		ck_assert_ptr_nonnull(bad);
		ck_assert_int_eq(log_levels[SEC_MAIN], 3);
	}
	ck_assert_int_eq(log_parse_options("ALL,7", false, NULL), 0);
	ck_assert_int_eq(log_levels[SEC_MAIN], 3);
}
END_TEST

START_TEST(log_line_has_stamp_level_section_and_text)
{
	char line[256];
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	log_set_file(f);
	log_set_level(SEC__COUNT, LG_NOTICE);
	log_msg(LG_WARN, SEC_COMM, "accept: %s", "Too many open files");
	log_msg(LG_DEBUG, SEC_COMM, "never %d", 1);	/* level too high */
	rewind(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	ck_assert_msg(strstr(line, "| WARN comm: accept: Too many open "
	    "files\n") != NULL, "got %s", line);
	ck_assert(line[4] == '/' && line[7] == '/');
	ck_assert_ptr_null(fgets(line, sizeof line, f));
	log_set_file(NULL);
	fclose(f);
}
END_TEST

static Suite *
base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc;

	tc = tcase_create("list");
	tcase_add_test(tc, list_keeps_insertion_order_and_survives_removal);
	tcase_add_test(tc, list_move_appends_and_empties_source);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_test(tc, take_obj_nulls_the_callers_pointer);
	tcase_add_test_raise_signal(tc, check_obj_aborts_on_wrong_magic,
	    SIGABRT);
	tcase_add_test_raise_signal(tc, az_aborts_on_nonzero, SIGABRT);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_test(tc, debug_options_set_levels_by_number_and_name);
	tcase_add_test(tc, debug_options_reject_bad_words_and_change_nothing);
	tcase_add_test(tc, log_line_has_stamp_level_section_and_text);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(base_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
