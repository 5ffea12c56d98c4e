/*
 * Unit tests of the pure helpers of worker/repair_wheel: the WHEEL file's
 * tags rewritten for a new platform tag, and the newer of two tags.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "worker/repair_wheel.h"

static void test_retag(void **state)
{
	const char *w = "Wheel-Version: 1.0\nGenerator: x\n"
			"Root-Is-Purelib: false\n"
			"Tag: cp311-cp311-linux_x86_64\n"
			"Tag: cp311-abi3-linux_x86_64\n";
	char *s;

	(void)state;
	s = repair_wheel_retag(w, strlen(w),
			       "manylinux_2_17_x86_64.manylinux2014_x86_64");
	assert_non_null(s);
	assert_string_equal(s, "Wheel-Version: 1.0\nGenerator: x\n"
			       "Root-Is-Purelib: false\n"
			       "Tag: cp311-cp311-manylinux_2_17_x86_64\n"
			       "Tag: cp311-cp311-manylinux2014_x86_64\n"
			       "Tag: cp311-abi3-manylinux_2_17_x86_64\n"
			       "Tag: cp311-abi3-manylinux2014_x86_64\n");
	free(s);
}

static void test_newer_tag(void **state)
{
	const char *a = "manylinux_2_17_x86_64.manylinux2014_x86_64";
	const char *b = "manylinux_2_34_x86_64";

	(void)state;
	assert_ptr_equal(repair_wheel_newer_tag(a, b), b);
	assert_ptr_equal(repair_wheel_newer_tag(b, a), b);
	assert_ptr_equal(repair_wheel_newer_tag("linux_x86_64", b),
			 "linux_x86_64");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retag),
	    cmocka_unit_test(test_newer_tag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
