/*
 * Unit tests of worker/zip/zipfmt: the entry-name rule the writer and the
 * reader share, UTF-8 validation, and the RECORD digest form; and of
 * worker/zip/zip_names, the set both use to find names and refuse
 * duplicates.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/zip/zip_names.h"
#include "worker/zip/zipfmt.h"

static void test_b64url(void **state)
{
	const uint8_t in[] = {0xfb, 0xff, 0xfe};
	char out[16];

	(void)state;
	b64url_nopad((const uint8_t *)"", 0, out);
	assert_string_equal(out, "");
	b64url_nopad((const uint8_t *)"f", 1, out);
	assert_string_equal(out, "Zg");
	b64url_nopad((const uint8_t *)"fo", 2, out);
	assert_string_equal(out, "Zm8");
	b64url_nopad((const uint8_t *)"foo", 3, out);
	assert_string_equal(out, "Zm9v");
	b64url_nopad((const uint8_t *)"foobar", 6, out);
	assert_string_equal(out, "Zm9vYmFy");
	b64url_nopad(in, 3, out);
	assert_string_equal(out, "-__-");
}

/* The writer's cases (no directory entries), once the only test of
 * zipw_name_check. */
static void test_name_check(void **state)
{
	static const char *const bad[] = {
	    "",	  "/abs", "../x",  "a/../b", "a/..", "a\\b",	 "a//b",
	    "a/", "./a",  "a/./b", "a\tb",   "\xff", "\xc0\xaf", "\xed\xa0\x80",
	};
	static const char *const good[] = {
	    "a",
	    "a/b.py",
	    "pkg/_native.cpython-311-x86_64-linux-gnu.so",
	    "x-1.0.dist-info/RECORD",
	    "caf\xc3\xa9/..a",
	    "...",
	};
	struct sp_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		sp_err_clear(&e);
		assert_int_equal(zip_name_check(bad[i], strlen(bad[i]), 0, &e),
				 -1);
		assert_true(e.msg[0] != '\0');
	}
	for (i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_int_equal(
		    zip_name_check(good[i], strlen(good[i]), 0, &e), 0);
}

/* The reasons, as the reader reports them after an entry's name
 * (tests/integration/t_show.sh and t_sec_input.sh look for them). */
static void test_name_reasons(void **state)
{
	static const struct {
		const char *name, *msg;
	} cases[] = {
	    {"", "the name is empty"},
	    {"../x", "the name has a '..' component"},
	    {"demo/../../x", "the name has a '..' component"},
	    {"/abs", "the name is an absolute path"},
	    {"demo\\x.py", "the name contains a backslash"},
	    {"demo/\xff\xfe.py", "the name is not valid UTF-8"},
	    {"demo/\xc0\xaf.py", "the name is not valid UTF-8"},
	    {"demo//x.py", "the name has an empty component"},
	    {"demo/./x.py", "the name has a '.' component"},
	    {"demo/\x01.py", "the name contains a control character"},
	    {"demo/\x7f.py", "the name contains a control character"},
	    {"demo//", "the name has an empty component"},
	};
	struct sp_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		sp_err_clear(&e);
		assert_int_equal(zip_name_check(cases[i].name,
						strlen(cases[i].name),
						ZIP_NAME_DIR, &e),
				 -1);
		assert_string_equal(e.msg, cases[i].msg);
	}
}

/* A directory entry's one trailing '/' is allowed with ZIP_NAME_DIR
 * only; a NUL inside the given length is never a name. */
static void test_name_dir(void **state)
{
	struct sp_err e;

	(void)state;
	assert_int_equal(zip_name_check("demo/", 5, ZIP_NAME_DIR, &e), 0);
	assert_int_equal(zip_name_check("demo/sub/", 9, ZIP_NAME_DIR, &e), 0);
	assert_int_equal(zip_name_check("demo/", 5, 0, &e), -1);
	assert_string_equal(e.msg, "the name has an empty component");
	assert_int_equal(zip_name_check("/", 1, ZIP_NAME_DIR, &e), -1);
	assert_int_equal(zip_name_check("a\0b", 3, ZIP_NAME_DIR, &e), -1);
	assert_string_equal(e.msg, "the name is not valid UTF-8");
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(zip_utf8_valid((const unsigned char *)"", 0));
	assert_true(zip_utf8_valid((const unsigned char *)"caf\xc3\xa9", 5));
	assert_true(
	    zip_utf8_valid((const unsigned char *)"\xf4\x8f\xbf\xbf", 4));
	/* Truncated, overlong, surrogate, past U+10FFFF, NUL. */
	assert_false(zip_utf8_valid((const unsigned char *)"caf\xc3", 4));
	assert_false(zip_utf8_valid((const unsigned char *)"\xc0\xaf", 2));
	assert_false(
	    zip_utf8_valid((const unsigned char *)"\xe0\x80\xaf", 3));
	assert_false(
	    zip_utf8_valid((const unsigned char *)"\xed\xa0\x80", 3));
	assert_false(
	    zip_utf8_valid((const unsigned char *)"\xf4\x90\x80\x80", 4));
	assert_false(zip_utf8_valid((const unsigned char *)"a\0b", 3));
	assert_false(zip_utf8_valid((const unsigned char *)"\x80", 1));
	assert_false(zip_utf8_valid((const unsigned char *)"\xf8\x88", 2));
}

static void test_names_set(void **state)
{
	struct zip_names s = {0};
	struct sp_err e;
	char (*names)[16];
	size_t i, had = 0;

	(void)state;
	assert_int_equal(zip_names_find(&s, "a"), -1);
	names = malloc(1000 * sizeof(*names));
	assert_non_null(names);
	for (i = 0; i < 1000; i++) {
		snprintf(names[i], sizeof(names[i]), "d/%zu.py", i);
		assert_int_equal(zip_names_add(&s, names[i], i, NULL, &e), 0);
	}
	for (i = 0; i < 1000; i++)
		assert_int_equal(zip_names_find(&s, names[i]), (long)i);
	assert_int_equal(zip_names_find(&s, "d/1000.py"), -1);
	/* A duplicate keeps the first entry's index. */
	assert_int_equal(zip_names_add(&s, "d/7.py", 5000, &had, &e), 1);
	assert_int_equal(had, 7);
	assert_int_equal(zip_names_find(&s, "d/7.py"), 7);
	assert_int_equal(s.n, 1000);
	zip_names_release(&s);
	zip_names_release(&s);
	assert_int_equal(zip_names_find(&s, "d/7.py"), -1);
	free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64url),     cmocka_unit_test(test_name_check),
	    cmocka_unit_test(test_name_reasons), cmocka_unit_test(test_name_dir),
	    cmocka_unit_test(test_utf8),       cmocka_unit_test(test_names_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
