/*
 * test_project_pathglob.c - [tool.maturin] include and exclude patterns,
 * matched as maturin matches them (its glob crate for include, .gitignore
 * rules for exclude), and the patterns refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cli/project/pathglob.h"

static void test_include_components(void **unused)
{
	(void)unused;
	assert_true(pathglob_match("README.md", "README.md"));
	assert_false(pathglob_match("README.md", "docs/README.md"));
	/* '*' stays within one component, and takes a leading dot. */
	assert_true(pathglob_match("pkg/assets/*", "pkg/assets/asset.txt"));
	assert_true(pathglob_match("pkg/assets/*", "pkg/assets/.hidden"));
	assert_false(pathglob_match("pkg/assets/*", "pkg/assets/sub/a.txt"));
	assert_false(pathglob_match("pkg/*", "pkg"));
	assert_true(pathglob_match("pkg/?.py", "pkg/a.py"));
	assert_false(pathglob_match("pkg/?.py", "pkg/ab.py"));
	assert_true(pathglob_match("*.t[xX]t", "a.tXt"));
	assert_false(pathglob_match("*.t[!xX]t", "a.txt"));
	assert_true(pathglob_match("*.t[!xX]t", "a.tyt"));
	assert_true(pathglob_match("[a-c]*", "bar"));
	assert_false(pathglob_match("[a-c]*", "dar"));
	assert_true(pathglob_match("a*b*c", "aXbYbZc"));
	assert_false(pathglob_match("a*b*c", "aXbYbZ"));
	assert_true(pathglob_match("a\\*", "a*"));
	assert_false(pathglob_match("a\\*", "ab"));
}

static void test_include_globstar(void **unused)
{
	(void)unused;
	/* "**" is any number of folders, none included. */
	assert_true(pathglob_match("**/*.txt", "a.txt"));
	assert_true(pathglob_match("**/*.txt", "x/y/a.txt"));
	assert_false(pathglob_match("**/*.txt", "x/y/a.py"));
	assert_true(pathglob_match("pkg/**/data.bin", "pkg/data.bin"));
	assert_true(pathglob_match("pkg/**/data.bin", "pkg/a/b/data.bin"));
	assert_false(pathglob_match("pkg/**/data.bin", "other/data.bin"));
	assert_true(pathglob_match("tests/**", "tests/a/b.py"));
}

static void test_literal_prefix(void **unused)
{
	(void)unused;
	assert_int_equal(pathglob_literal_prefix("README.md"), 0);
	assert_int_equal(pathglob_literal_prefix("*.txt"), 0);
	assert_int_equal(pathglob_literal_prefix("pkg/include_this_file"), 3);
	assert_int_equal(pathglob_literal_prefix("pkg/assets/*"), 10);
	assert_int_equal(pathglob_literal_prefix("pkg/a*/x/y"), 3);
	assert_int_equal(pathglob_literal_prefix("**/x"), 0);
}

static void test_exclude_gitignore(void **unused)
{
	(void)unused;
	/* No slash: any depth, last components. */
	assert_true(pathglob_ignore_match("*.pyc", "pkg/sub/a.pyc"));
	assert_true(pathglob_ignore_match("unused", "unused"));
	assert_true(pathglob_ignore_match("unused", "pkg/unused"));
	assert_false(pathglob_ignore_match("unused", "pkg/unused.py"));
	/* A slash anchors at the base folder; a leading one is dropped. */
	assert_true(pathglob_ignore_match("pkg/exclude_this_file",
					  "pkg/exclude_this_file"));
	assert_false(pathglob_ignore_match("pkg/exclude_this_file",
					   "other/pkg/exclude_this_file"));
	assert_true(pathglob_ignore_match("/pkg/x", "pkg/x"));
	/* '*' does not cross '/'; '**' does. */
	assert_false(pathglob_ignore_match("pkg/*.py", "pkg/sub/a.py"));
	assert_true(pathglob_ignore_match("tests/**/*", "tests/a/b.py"));
	assert_true(pathglob_ignore_match("tests/**/*", "tests/b.py"));
	assert_true(pathglob_ignore_match("**/secret", "a/b/secret"));
	/* A folder-only pattern never names a file. */
	assert_false(pathglob_ignore_match("pkg/", "pkg"));
	assert_false(pathglob_ignore_match("pkg/", "pkg/a.py"));
}

static void test_exclude_last_wins(void **unused)
{
	const char *pats[] = {"test*", "!test2"};
	const char *back[] = {"!test2", "test*"};

	(void)unused;
	assert_true(pathglob_excluded(pats, 2, "test1"));
	assert_false(pathglob_excluded(pats, 2, "test2"));
	assert_false(pathglob_excluded(pats, 2, "other"));
	assert_true(pathglob_excluded(back, 2, "test2"));
	assert_false(pathglob_excluded(NULL, 0, "x"));
}

static void test_check(void **unused)
{
	struct sp_err e = {0};

	(void)unused;
	assert_int_equal(pathglob_check("pkg/assets/*", "include", &e), 0);
	assert_int_equal(pathglob_check("**/*.html", "include", &e), 0);
	assert_int_equal(pathglob_check("/etc/passwd", "include", &e), -1);
	assert_non_null(strstr(e.msg, "relative"));
	assert_int_equal(pathglob_check("../x", "include", &e), -1);
	assert_int_equal(pathglob_check("a/../x", "include", &e), -1);
	assert_int_equal(pathglob_check("./x", "include", &e), -1);
	assert_int_equal(pathglob_check("a**/x", "include", &e), -1);
	assert_non_null(strstr(e.msg, "whole path component"));
	assert_int_equal(pathglob_check("a[bc", "include", &e), -1);
	assert_non_null(strstr(e.msg, "never closed"));
	assert_int_equal(pathglob_check("", "include", &e), -1);
	/* .gitignore forms are exclude's. */
	assert_int_equal(pathglob_check("/pkg/x", "exclude", &e), 0);
	assert_int_equal(pathglob_check("!keep", "exclude", &e), 0);
	assert_int_equal(pathglob_check("a**b", "exclude", &e), 0);
	assert_int_equal(pathglob_check("../x", "exclude", &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_include_components),
	    cmocka_unit_test(test_include_globstar),
	    cmocka_unit_test(test_literal_prefix),
	    cmocka_unit_test(test_exclude_gitignore),
	    cmocka_unit_test(test_exclude_last_wins),
	    cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
