/*
 * test_project_strutil.c - the string helpers the cargo project code
 * shares: printf and append into malloc'd strings, JSON string members,
 * string arrays without duplicates, and the out-of-memory error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/project/strutil.h"

static void test_printf(void **unused)
{
	char *s;

	(void)unused;
	s = str_printf("%s-%d", "foo", 3);
	assert_non_null(s);
	assert_string_equal(s, "foo-3");
	free(s);
	/* An empty result is a string, not a failure. */
	s = str_printf("%s", "");
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void test_append(void **unused)
{
	char *s = NULL;

	(void)unused;
	/* The first item gets no separator. */
	assert_int_equal(str_append(&s, ", ", "a"), 0);
	assert_string_equal(s, "a");
	assert_int_equal(str_append(&s, ", ", "b"), 0);
	assert_string_equal(s, "a, b");
	/* An empty item is still an item: it gets its separator. */
	assert_int_equal(str_append(&s, ", ", ""), 0);
	assert_string_equal(s, "a, b, ");
	/* An empty separator joins. */
	assert_int_equal(str_append(&s, "", "c"), 0);
	assert_string_equal(s, "a, b, c");
	free(s);
}

static void test_append_to_empty_string(void **unused)
{
	char *s = strdup("");

	(void)unused;
	assert_non_null(s);
	/* "" is not NULL: it is a list of one empty item. */
	assert_int_equal(str_append(&s, "|", "x"), 0);
	assert_string_equal(s, "|x");
	free(s);
	s = NULL;
	assert_int_equal(str_append(&s, "|", ""), 0);
	assert_string_equal(s, "");
	free(s);
}

static void test_member(void **unused)
{
	json_t *o = json_pack("{s:s, s:s, s:i, s:n, s:[s]}", "name", "foo",
			      "empty", "", "num", 3, "null", "list", "x");

	(void)unused;
	assert_non_null(o);
	assert_string_equal(str_member(o, "name"), "foo");
	assert_null(str_member(o, "empty"));
	assert_null(str_member(o, "num"));
	assert_null(str_member(o, "null"));
	assert_null(str_member(o, "list"));
	assert_null(str_member(o, "missing"));
	/* Not an object, or no object at all. */
	assert_null(str_member(json_object_get(o, "list"), "name"));
	assert_null(str_member(NULL, "name"));
	json_decref(o);
}

static void test_array_add_unique(void **unused)
{
	json_t *a = json_array();

	(void)unused;
	assert_non_null(a);
	assert_int_equal(str_array_add_unique(a, "a"), 0);
	assert_int_equal(str_array_add_unique(a, "b"), 0);
	assert_int_equal(str_array_add_unique(a, "a"), 0);
	assert_int_equal(str_array_add_unique(a, "b"), 0);
	assert_int_equal(json_array_size(a), 2);
	/* The empty string is a value like any other, kept once. */
	assert_int_equal(str_array_add_unique(a, ""), 0);
	assert_int_equal(str_array_add_unique(a, ""), 0);
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(json_string_value(json_array_get(a, 0)), "a");
	assert_string_equal(json_string_value(json_array_get(a, 1)), "b");
	assert_string_equal(json_string_value(json_array_get(a, 2)), "");
	json_decref(a);
}

static void test_array_add_unique_odd_members(void **unused)
{
	json_t *a = json_pack("[i, n, s]", 1, "x");

	(void)unused;
	assert_non_null(a);
	/* Members that are not strings are passed over, not compared. */
	assert_int_equal(str_array_add_unique(a, "x"), 0);
	assert_int_equal(json_array_size(a), 3);
	assert_int_equal(str_array_add_unique(a, "y"), 0);
	assert_int_equal(json_array_size(a), 4);
	/* A value that is not UTF-8 cannot be a JSON string: -1, a as it
	 * was. */
	assert_int_equal(str_array_add_unique(a, "\xff"), -1);
	assert_int_equal(json_array_size(a), 4);
	json_decref(a);
}

static void test_array_has(void **unused)
{
	json_t *a = json_pack("[s, i, s]", "a", 1, "");
	json_t *o = json_pack("{s:s}", "a", "a");

	(void)unused;
	assert_non_null(a);
	assert_non_null(o);
	assert_int_equal(str_array_has(a, "a"), 1);
	assert_int_equal(str_array_has(a, ""), 1);
	assert_int_equal(str_array_has(a, "b"), 0);
	assert_int_equal(str_array_has(a, "1"), 0);
	/* Not an array, or none: holds nothing. */
	assert_int_equal(str_array_has(o, "a"), 0);
	assert_int_equal(str_array_has(NULL, "a"), 0);
	json_decref(a);
	json_decref(o);
}

static void test_oom(void **unused)
{
	struct sp_err e = {0};
	char want[256];

	(void)unused;
	errno = 0;
	assert_int_equal(str_oom(&e, "plan the build"), -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(e.sys_errno, ENOMEM);
	snprintf(want, sizeof(want), "cannot plan the build: %s",
		 strerror(ENOMEM));
	assert_string_equal(e.msg, want);
	/* A NULL error is allowed, as everywhere in sp_err. */
	assert_int_equal(str_oom(NULL, "plan the build"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_printf),
	    cmocka_unit_test(test_append),
	    cmocka_unit_test(test_append_to_empty_string),
	    cmocka_unit_test(test_member),
	    cmocka_unit_test(test_array_add_unique),
	    cmocka_unit_test(test_array_add_unique_odd_members),
	    cmocka_unit_test(test_array_has),
	    cmocka_unit_test(test_oom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
