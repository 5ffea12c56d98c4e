/*
 * test_common_pyname.c - names that become file names (the wheel's, its
 * dist-info directory, the module's path inside the wheel) reject
 * anything that could leave the output directory or the archive: slashes,
 * "..", leading dots, backslashes, NUL, control and non-ASCII bytes.
 * The coordinator (job_from_request) and the worker both use these checks
 * before a name reaches the file system.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pyname.h"

static const char *const hostile[] = {
	"../x",	 "..",	   ".",	     "a/b",   "/abs", "a/../b", "a\\b",
	"a\nb",	 "a\tb",   "x/",     "./x",   "a b",  "a:b",    "a*b",
	"\xc3\xa9", "a\x7f", "",
};

static void test_dist_names(void **unused)
{
	size_t i;

	(void)unused;
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		if (dist_name_valid(hostile[i]))
			fail_msg("dist_name_valid accepted '%s'", hostile[i]);
	assert_false(dist_name_valid(".hidden"));
	assert_false(dist_name_valid("a-"));
	assert_true(dist_name_valid("spoke_counter"));
	assert_true(dist_name_valid("Spoke.Counter-2"));
}

static void test_module_names(void **unused)
{
	size_t i;

	(void)unused;
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		if (module_name_valid(hostile[i]))
			fail_msg("module_name_valid accepted '%s'",
				 hostile[i]);
	assert_false(module_name_valid("a..b"));
	assert_false(module_name_valid(".a"));
	assert_false(module_name_valid("a."));
	assert_false(module_name_valid("1a"));
	assert_false(module_name_valid("a-b"));
	assert_true(module_name_valid("pkg._native"));
}

static void test_versions_and_tags(void **unused)
{
	(void)unused;
	assert_false(version_valid("1/../2"));
	assert_false(version_valid("../1"));
	assert_false(version_valid(".1"));
	assert_false(version_valid("1 0"));
	assert_false(version_valid(""));
	assert_true(version_valid("0.1.0a1"));
	assert_true(version_valid("1.0+local.7"));
	assert_false(tag_valid("linux/x86_64"));
	assert_false(tag_valid(".."));
	assert_false(tag_valid("cp311."));
	assert_false(tag_valid(""));
	assert_true(tag_valid("cp311"));
	assert_true(tag_valid("manylinux_2_17_x86_64.manylinux2014_x86_64"));
}

/* What passes the checks makes a wheel name without a path separator,
 * normalized as wheel names are. */
static void test_wheel_name_is_one_component(void **unused)
{
	char *n;

	(void)unused;
	n = wheel_filename("My.Dist--Name", "1.0-1", "cp311", "cp311",
			   "linux_x86_64");
	assert_non_null(n);
	assert_null(strchr(n, '/'));
	assert_string_equal(n, "my_dist_name-1.0_1-cp311-cp311-linux_x86_64.whl");
	free(n);
	n = dist_info_dir("My.Dist", "1.0");
	assert_non_null(n);
	assert_string_equal(n, "my_dist-1.0.dist-info");
	free(n);
}

/* The one check of an artifact's names: each field named in the
 * message, unknown tags skipped. */
static void test_check_artifact(void **state)
{
	struct pyname_artifact a = {"spam-pkg",	    "1.0",
				    "spam._native", "cp311",
				    "cp311",	    "linux_x86_64",
				    ".cpython-311-x86_64-linux-gnu.so"};
	struct pyname_artifact b;
	struct sp_err e;

	(void)state;
	assert_int_equal(pyname_check_artifact(&a, &e), 0);
	b = a;
	b.python_tag = b.abi_tag = b.platform_tag = b.ext_suffix = NULL;
	assert_int_equal(pyname_check_artifact(&b, &e), 0);
	/* The suffix becomes part of a zip entry's name. */
	b = a;
	b.ext_suffix = "/../../x.so";
	assert_int_equal(pyname_check_artifact(&b, &e), -1);
	assert_non_null(strstr(e.msg, "invalid ext_suffix '/../../x.so'"));
	b.ext_suffix = "so";
	assert_int_equal(pyname_check_artifact(&b, &e), -1);
	b.ext_suffix = ".abi3.so";
	assert_int_equal(pyname_check_artifact(&b, &e), 0);
	b = a;
	b.distribution = "../evil";
	assert_int_equal(pyname_check_artifact(&b, &e), -1);
	assert_non_null(strstr(e.msg, "invalid distribution name '../evil'"));
	b = a;
	b.version = "one";
	assert_int_equal(pyname_check_artifact(&b, &e), -1);
	assert_non_null(strstr(e.msg, "is not a PEP 440 version"));
	b = a;
	b.module = "a/b";
	assert_int_equal(pyname_check_artifact(&b, &e), -1);
	assert_non_null(strstr(e.msg, "is not a Python module name"));
	b = a;
	b.abi_tag = "cp-311";
	assert_int_equal(pyname_check_artifact(&b, &e), -1);
	assert_non_null(strstr(e.msg, "invalid abi_tag 'cp-311'"));
	b = a;
	b.version = NULL;
	assert_int_equal(pyname_check_artifact(&b, &e), -1);
	assert_non_null(strstr(e.msg, "missing 'version'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dist_names),
		cmocka_unit_test(test_check_artifact),
		cmocka_unit_test(test_module_names),
		cmocka_unit_test(test_versions_and_tags),
		cmocka_unit_test(test_wheel_name_is_one_component),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
