/*
 * Unit tests of the path-string helpers: a path's folder and last name,
 * and two paths joined.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "common/path.h"

static void check_dirname(const char *path, const char *want)
{
	char *d = path_dirname(path);

	assert_non_null(d);
	assert_string_equal(d, want);
	free(d);
}

static void check_join(const char *a, const char *b, const char *want)
{
	char *j = path_join(a, b);

	assert_non_null(j);
	assert_string_equal(j, want);
	free(j);
}

static void test_dirname_edges(void **state)
{
	(void)state;
	check_dirname("/", "/");
	check_dirname("a", ".");
	check_dirname("/a", "/");
	check_dirname("a/b", "a");
	check_dirname("/x/y/z.so", "/x/y");
	/* A trailing slash is an empty last component here (not POSIX):
	 * dirname and basename stay a consistent split of the string. */
	check_dirname("a/", "a");
}

static void test_basename_edges(void **state)
{
	const char *p = "/x/y/z.so";

	(void)state;
	assert_string_equal(path_basename("/"), "");
	assert_string_equal(path_basename("a"), "a");
	assert_string_equal(path_basename("/a"), "a");
	assert_string_equal(path_basename("a/"), "");
	/* It points into its argument, no copy. */
	assert_ptr_equal(path_basename(p), p + 5);
}

static void test_join_edges(void **state)
{
	(void)state;
	check_join("a", "b", "a/b");
	check_join("a/", "b", "a/b");
	check_join("a//", "/b", "a/b");
	check_join("/a", "b/c", "/a/b/c");
}

/* "Exactly one slash between" (the header says).  The root is what cli/where.c and
 * cli/project/cargo.c pass when the working directory is "/". */
static void test_join_root(void **state)
{
	(void)state;
	check_join("/", "b", "/b");
	check_join("/", "/b", "/b");
}

static void check_norm(const char *in, const char *want)
{
	char *got = path_normalize(in);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* maturin's manifest-path = "rust/../rust/Cargo.toml" and python-source
 * = "../src" are normalized as strings before they are compared with
 * what cargo reports. */
static void test_normalize(void **state)
{
	(void)state;
	check_norm("/a/b/../c/.", "/a/c");
	check_norm("/a//b/", "/a/b");
	check_norm("/..", "/");
	check_norm("/../x", "/x");
	check_norm("/", "/");
	check_norm("a/../..", "..");
	check_norm("../x/../../y", "../../y");
	check_norm("a/./b/../../c", "c");
	check_norm(".", ".");
	check_norm("a/..", ".");
	check_norm("", ".");
	check_norm("/p/rust/../src", "/p/src");
}

/* The one "inside the project" test: a root's links resolved, "/ab"
 * not below "/a", "/" holding everything. */
static void test_real_below(void **state)
{
	(void)state;
	assert_true(path_real_below("/usr/lib/x", "/usr"));
	assert_true(path_real_below("/usr", "/usr"));
	assert_false(path_real_below("/usrx/lib", "/usr"));
	assert_false(path_real_below("/etc/passwd", "/usr"));
	assert_true(path_real_below("/etc/passwd", "/"));
	assert_false(path_real_below("/x", "/no/such/root"));
	assert_false(path_real_below("/x", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirname_edges),
		cmocka_unit_test(test_basename_edges),
		cmocka_unit_test(test_join_edges),
		cmocka_unit_test(test_join_root),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_real_below),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
