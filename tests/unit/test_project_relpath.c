/*
 * test_project_relpath.c - relative paths and common ancestors of
 * normalized absolute paths, and the include/exclude glob matcher.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/project/pathglob.h"
#include "cli/project/relpath.h"

static void rel_is(const char *from, const char *to, const char *want)
{
	char *r = relpath(from, to);

	assert_non_null(r);
	assert_string_equal(r, want);
	free(r);
}

static void test_relpath(void **unused)
{
	(void)unused;
	rel_is("/a/b", "/a/b", ".");
	rel_is("/a/b", "/a/b/c/d", "c/d");
	rel_is("/a/b", "/a/c", "../c");
	rel_is("/a/b/c", "/a/x/y", "../../x/y");
	rel_is("/a/b", "/a", "..");
	/* A shared prefix that is not a whole component is no ancestor. */
	rel_is("/a/bc", "/a/b", "../b");
	rel_is("/", "/a/b", "a/b");
	rel_is("/a", "/", "..");
}

static void common_is(const char *a, const char *b, const char *want)
{
	char *r = relpath_common(a, b);

	assert_non_null(r);
	assert_string_equal(r, want);
	free(r);
}

static void test_common(void **unused)
{
	(void)unused;
	common_is("/t/ws", "/t/ws/py", "/t/ws");
	common_is("/t/ws/app", "/t/dep", "/t");
	common_is("/t/ab", "/t/a", "/t");
	common_is("/x", "/y", "/");
}

static void test_inside(void **unused)
{
	(void)unused;
	assert_string_equal(relpath_inside("/a/b/c", "/a"), "b/c");
	assert_string_equal(relpath_inside("/a", "/a"), "");
	assert_null(relpath_inside("/ab", "/a"));
	assert_null(relpath_inside("/b", "/a"));
	assert_string_equal(relpath_inside("/a", "/"), "a");
}

static void test_glob(void **unused)
{
	(void)unused;
	/* The sdist's exclude: the file, or a folder on its way. */
	assert_true(pathglob_ignore_below("pkg/exclude_this", "pkg/exclude_this"));
	assert_false(pathglob_ignore_below("pkg/exclude_this", "other/exclude_this"));
	/* '*' stays within a component; "**" crosses any number. */
	assert_true(pathglob_ignore_below("tests/*", "tests/a.py"));
	assert_true(pathglob_ignore_below("tests/*", "tests/sub/a.py"));
	assert_true(pathglob_ignore_below("tests/**/*", "tests/sub/deep/a.py"));
	assert_true(pathglob_ignore_below("**/*.tmp", "x.tmp"));
	assert_true(pathglob_ignore_below("**/*.tmp", "a/b/x.tmp"));
	assert_false(pathglob_ignore_below("src/*.py", "src/a/b.py"));
	/* A bare name matches in any folder, and a folder all below it. */
	assert_true(pathglob_ignore_below("unused", "a/unused/file"));
	assert_true(pathglob_ignore_below("unused/", "a/unused/file"));
	assert_false(pathglob_ignore_below("unused/", "a/b/unused"));
	assert_true(pathglob_ignore_below("*.pyc", "a/b/c.pyc"));
	assert_false(pathglob_ignore_below("*.pyc", "a/b/c.py"));
	assert_false(pathglob_ignore_below("", "a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_relpath),
	    cmocka_unit_test(test_common),
	    cmocka_unit_test(test_inside),
	    cmocka_unit_test(test_glob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
