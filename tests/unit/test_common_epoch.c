/*
 * Unit tests of common/epoch: SOURCE_DATE_EPOCH's one parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "common/epoch.h"

static void test_unset(void **state)
{
	struct sp_err e;
	long long v = 7;

	(void)state;
	assert_int_equal(epoch_parse(NULL, &v, &e), 0);
	assert_int_equal(epoch_parse("", &v, &e), 0);
	assert_int_equal(v, 7);
}

static void test_numbers(void **state)
{
	struct sp_err e;
	long long v = -1;

	(void)state;
	assert_int_equal(epoch_parse("0", &v, &e), 1);
	assert_int_equal(v, 0);
	assert_int_equal(epoch_parse("1700000000", &v, &e), 1);
	assert_int_equal(v, 1700000000LL);
	assert_int_equal(epoch_parse("9223372036854775807", &v, &e), 1);
	assert_true(v == 9223372036854775807LL);
}

/* Out of range (strtoll's ERANGE, which a check of *end alone lets
 * through as LLONG_MAX), negative, signed, blank-led or trailing text. */
static void test_refused(void **state)
{
	static const char *const bad[] = {
	    "99999999999999999999", "9223372036854775808", "-1", "+5",
	    " 5", "5 ", "12x", "abc", "0x10"};
	struct sp_err e;
	long long v = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (epoch_parse(bad[i], &v, &e) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(strstr(e.msg, bad[i]));
		assert_non_null(strstr(e.msg, "SOURCE_DATE_EPOCH"));
		assert_int_equal(v, 42);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unset),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
