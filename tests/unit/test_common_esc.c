/*
 * Unit tests of common/esc: names from hostile input, made safe to print.
 */
#define _GNU_SOURCE
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/esc.h"

static void test_plain_text_unchanged(void **state)
{
	static const char *const same[] = {
	    "demo/__init__.py", "", "a,b.py", "back\\slash", "caf\xc3\xa9",
	    "\xe2\x82\xac", "\xf0\x9f\x90\x8d", "\xc2\xa0nbsp",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(same) / sizeof(*same); i++) {
		assert_false(esc_needed(same[i]));
		/* Nothing to escape: the very same pointer, no copy. */
		assert_ptr_equal(esc(same[i]), same[i]);
	}
	assert_string_equal(esc(NULL), "(null)");
}

static void test_escapes(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"evil\x1b[2Jname", "evil\\x1b[2Jname"},
	    {"line\nbreak\r", "line\\x0abreak\\x0d"},
	    {"tab\there", "tab\\x09here"},
	    {"del\x7f", "del\\x7f"},
	    /* C1 controls, which some terminals obey as CSI. */
	    {"csi\xc2\x9b" "31m", "csi\\u009b31m"},
	    /* Invalid UTF-8: a lone continuation byte, a truncated
	     * sequence, an overlong '/', a surrogate. */
	    {"x\x80y", "x\\x80y"},
	    {"end\xe2\x82", "end\\xe2\\x82"},
	    {"\xc0\xaf", "\\xc0\\xaf"},
	    {"\xed\xa0\x80", "\\xed\\xa0\\x80"},
	};
	size_t i;
	char *d;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_true(esc_needed(cases[i].in));
		assert_string_equal(esc(cases[i].in), cases[i].out);
		d = esc_dup(cases[i].in);
		assert_non_null(d);
		assert_string_equal(d, cases[i].out);
		free(d);
	}
}

/* Eight escaped copies stay valid at once: enough for one printf(). */
static void test_ring(void **state)
{
	const char *a[8];
	char in[8][8];
	int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		in[i][0] = 'a' + (char)i;
		in[i][1] = '\x1b';
		in[i][2] = '\0';
		a[i] = esc(in[i]);
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(a[i][0], 'a' + i);
		assert_string_equal(a[i] + 1, "\\x1b");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_text_unchanged),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
