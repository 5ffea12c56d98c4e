/*
 * test_project_pep440.c - every semver -> PEP 440 mapping, and every refusal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/project/pep440.h"

static void expect_ok(const char *semver, const char *want)
{
	struct sp_err e = {0};
	char *got = pep440_from_semver(semver, &e);

	if (!got)
		fail_msg("'%s': %s", semver, e.msg);
	assert_string_equal(got, want);
	free(got);
}

static void expect_fail(const char *semver, const char *why)
{
	struct sp_err e = {0};
	char *got = pep440_from_semver(semver, &e);
	char quoted[256];

	if (got)
		fail_msg("'%s' gave '%s', wanted an error", semver, got);
	snprintf(quoted, sizeof(quoted), "cannot express cargo version '%s'",
		 semver);
	assert_non_null(strstr(e.msg, quoted));
	assert_non_null(strstr(e.msg, why));
	assert_non_null(strstr(e.msg, "set [project] version in pyproject"));
}

static void test_release(void **state)
{
	(void)state;
	expect_ok("1.0.0", "1.0.0");
	expect_ok("0.1.0", "0.1.0");
	expect_ok("10.200.3000", "10.200.3000");
	expect_ok("01.002.0", "1.2.0");
	expect_ok("1", "1");
}

static void test_alpha_beta(void **state)
{
	(void)state;
	expect_ok("1.0.0-alpha.1", "1.0.0a1");
	expect_ok("0.1.0-alpha.1", "0.1.0a1");
	expect_ok("1.0.0-alpha", "1.0.0a0");
	expect_ok("1.0.0-alpha1", "1.0.0a1");
	expect_ok("1.0.0-a", "1.0.0a0");
	expect_ok("1.0.0-a.2", "1.0.0a2");
	expect_ok("1.0.0-a2", "1.0.0a2");
	expect_ok("1.0.0-beta.2", "1.0.0b2");
	expect_ok("1.0.0-b.2", "1.0.0b2");
	expect_ok("1.0.0-beta", "1.0.0b0");
	expect_ok("1.0.0-ALPHA.3", "1.0.0a3");
	expect_ok("1.0.0-alpha.007", "1.0.0a7");
}

static void test_rc(void **state)
{
	(void)state;
	expect_ok("1.0.0-rc.3", "1.0.0rc3");
	expect_ok("1.0.0-rc3", "1.0.0rc3");
	expect_ok("1.0.0-rc", "1.0.0rc0");
	expect_ok("1.0.0-c.1", "1.0.0rc1");
	expect_ok("1.0.0-pre.2", "1.0.0rc2");
	expect_ok("1.0.0-preview.4", "1.0.0rc4");
}

static void test_dev(void **state)
{
	(void)state;
	expect_ok("1.0.0-dev.4", "1.0.0.dev4");
	expect_ok("1.0.0-dev", "1.0.0.dev0");
	expect_ok("1.0.0-dev4", "1.0.0.dev4");
}

static void test_local(void **state)
{
	(void)state;
	expect_ok("1.0.0+build.5", "1.0.0+build.5");
	expect_ok("1.0.0-rc.1+build.5", "1.0.0rc1+build.5");
	expect_ok("1.0.0+Build-5", "1.0.0+build.5");
	expect_ok("1.0.0+git.abc-.def", "1.0.0+git.abc.def");
	expect_ok("1.0.0+-x-", "1.0.0+x");
	/* A '-' after '+' is build metadata, not a pre-release. */
	expect_ok("1.0.0+exp-sha.5114f85", "1.0.0+exp.sha.5114f85");
	expect_ok("1.0.0-dev+20240101", "1.0.0.dev0+20240101");
}

static void test_refused(void **state)
{
	(void)state;
	expect_fail("1.0.0-foo.1", "unknown pre-release label");
	expect_fail("1.0.0-post.1", "unknown pre-release label");
	expect_fail("1.0.0-alpha.1.2", "one label and at most one number");
	expect_fail("1.0.0-alpha1.2", "one label and at most one number");
	expect_fail("1.0.0-alpha.x", "a label and a number");
	expect_fail("1.0.0-rc3x", "a label and a number");
	expect_fail("1.0.0-1", "must start with alpha");
	expect_fail("1.0.0-", "empty pre-release");
	expect_fail("1.0.0+", "no letter or digit");
	expect_fail("1.0.0+--", "no letter or digit");
	expect_fail("1.x.0", "digits separated by dots");
	expect_fail("v1.0.0", "digits separated by dots");
	expect_fail("1..0", "digits separated by dots");
	expect_fail("1.0.", "digits separated by dots");
	expect_fail("", "no release number");
	expect_fail("-alpha", "no release number");
	expect_fail(" 1.0.0", "digits separated by dots");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_release), cmocka_unit_test(test_alpha_beta),
	    cmocka_unit_test(test_rc),	    cmocka_unit_test(test_dev),
	    cmocka_unit_test(test_local),   cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
