/*
 * Unit tests of exclude_matches(): --exclude patterns are fnmatch(3)
 * globs on sonames, and on the library's path when they hold a '/', as
 * auditwheel reads them.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "worker/repair/exclude.h"

/* Whether the one pattern pat excludes soname found at path. */
static int match(const char *pat, const char *soname, const char *path)
{
	const char *const pats[] = {pat};

	return exclude_matches(pats, 1, soname, path);
}

static void test_soname_globs(void **state)
{
	(void)state;
	assert_true(match("libffi.so.*", "libffi.so.8", NULL));
	assert_false(match("libffi.so.*", "libffi.so", NULL));
	assert_true(match("libffi.so.[4,5]", "libffi.so.5", NULL));
	assert_true(match("libffi.so.[4,5]", "libffi.so.4", NULL));
	assert_false(match("libffi.so.[4,5]", "libffi.so.6", NULL));
	assert_true(match("*", "libanything.so.1", "/opt/x/libanything.so.1"));
	assert_true(match("lib?.so", "libz.so", NULL));
	/* Case-sensitive, as Python's fnmatch on POSIX. */
	assert_false(match("LIBFFI.so.*", "libffi.so.8", NULL));
}

static void test_exact_names(void **state)
{
	(void)state;
	assert_true(match("libfoo.so.1", "libfoo.so.1", "/x/libfoo.so.1"));
	assert_false(match("libfoo.so.1", "libfoo.so.10", NULL));
	assert_false(match("libfoo.so", "libfoo.so.1", NULL));
}

/* A pattern with '/' is about where the library was found, never its
 * soname; nothing found, nothing matched. */
static void test_path_globs(void **state)
{
	(void)state;
	assert_true(match("/usr/lib/x86_64-linux-gnu/libz*", "libz.so.1",
			  "/usr/lib/x86_64-linux-gnu/libz.so.1"));
	assert_false(match("/usr/lib/x86_64-linux-gnu/libz*", "libz.so.1",
			   "/opt/zlib/lib/libz.so.1"));
	assert_true(match("*/libfoo.so*", "libfoo.so.1",
			  "/home/u/build/deps/libfoo.so.1"));
	assert_false(match("*/libfoo.so*", "libfoo.so.1", NULL));
	assert_false(match("*/libfoo.so*", "libbar.so.1", "/x/libbar.so.1"));
}

static void test_several(void **state)
{
	const char *const pats[] = {"libbar.so.1", "libffi.so.*"};

	(void)state;
	assert_true(exclude_matches(pats, 2, "libffi.so.8", NULL));
	assert_true(exclude_matches(pats, 2, "libbar.so.1", NULL));
	assert_false(exclude_matches(pats, 2, "libbaz.so.1", NULL));
	assert_false(exclude_matches(NULL, 0, "libbaz.so.1", NULL));
}

/* The wheel's own names are matched as names: quoted, '[' and '*' mean
 * themselves. */
static void test_literal(void **state)
{
	char *q = exclude_literal("lib[1]*.so");

	(void)state;
	assert_non_null(q);
	assert_string_equal(q, "lib\\[1]\\*.so");
	assert_true(match(q, "lib[1]*.so", NULL));
	assert_false(match(q, "lib1x.so", NULL));
	free(q);
}

/* A path pattern relative to the current directory is made absolute, as
 * the paths libraries are found at are; others are kept as they are. */
static void test_absolute(void **state)
{
	static const struct {
		const char *pat, *cwd, *want;
	} cases[] = {
	    {"libs/*", "/home/u/w", "/home/u/w/libs/*"},
	    {"./libs/*", "/home/u/w", "/home/u/w/libs/*"},
	    {".//libs/lib?.so", "/home/u/w", "/home/u/w/libs/lib?.so"},
	    {"../deps/*", "/home/u/w", "/home/u/deps/*"},
	    {"../../x/*", "/home/u/w", "/home/x/*"},
	    {"../../../../x/*", "/home/u", "/x/*"},
	    {"libs/*", "/", "/libs/*"},
	    /* The directory's own glob characters mean themselves. */
	    {"libs/*", "/w[1]", "/w\\[1]/libs/*"},
	    {"/abs/*", "/home/u", "/abs/*"},
	    {"*/libfoo.so*", "/home/u", "*/libfoo.so*"},
	    {"?ib/x", "/home/u", "?ib/x"},
	    {"[l]ib/x", "/home/u", "[l]ib/x"},
	    {"libffi.so.*", "/home/u", "libffi.so.*"},
	    {"*", "/home/u", "*"},
	};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		s = exclude_absolute(cases[i].pat, cases[i].cwd);
		assert_non_null(s);
		if (strcmp(s, cases[i].want) != 0)
			fail_msg("'%s' in '%s': got '%s', wanted '%s'",
				 cases[i].pat, cases[i].cwd, s, cases[i].want);
		free(s);
	}
	s = exclude_absolute("libs/*", "/w[1]");
	assert_true(match(s, "libz.so", "/w[1]/libs/libz.so"));
	assert_false(match(s, "libz.so", "/w1/libs/libz.so"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_soname_globs),
	    cmocka_unit_test(test_exact_names),
	    cmocka_unit_test(test_path_globs),
	    cmocka_unit_test(test_several),
	    cmocka_unit_test(test_literal),
	    cmocka_unit_test(test_absolute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
