/*
 * Unit tests of worker/wheel/record: RECORD written and read as the CSV that
 * Python's csv module writes and reads.
 */
#define _GNU_SOURCE
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/wheel/record.h"

/* Writes one row for name and parses it back. */
static void round_trip(const char *name, const char *want_line)
{
	struct record_row *rows;
	struct record r;
	struct sp_err e;
	size_t n;

	assert_int_equal(record_init(&r, &e), 0);
	assert_int_equal(record_add(&r, name, "abc", 12, &e), 0);
	assert_int_equal(record_finish(&r, "x/RECORD", &e), 0);
	assert_memory_equal(r.text, want_line, strlen(want_line));
	assert_int_equal(r.len, strlen(want_line) + strlen("x/RECORD,,\n"));
	assert_string_equal(r.text + strlen(want_line), "x/RECORD,,\n");
	assert_int_equal(record_parse(r.text, r.len, &rows, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].nf, 3);
	assert_string_equal(rows[0].f[0], name);
	assert_string_equal(rows[0].f[1], "sha256=abc");
	assert_string_equal(rows[0].f[2], "12");
	assert_string_equal(rows[1].f[0], "x/RECORD");
	assert_string_equal(rows[1].f[1], "");
	assert_string_equal(rows[1].f[2], "");
	assert_int_equal(rows[1].line, 2);
	free(rows);
	record_release(&r);
}

static void test_quoting(void **state)
{
	(void)state;
	round_trip("demo/a.py", "demo/a.py,sha256=abc,12\n");
	/* As Python's csv.writer(lineterminator="\n") writes them. */
	round_trip("demo/a,b.py", "\"demo/a,b.py\",sha256=abc,12\n");
	round_trip("demo/say \"hi\".py", "\"demo/say \"\"hi\"\".py\",sha256=abc,12\n");
}

static void test_parse(void **state)
{
	static const struct {
		const char *text;
		size_t rows;
		int nf0;
		const char *f0;
	} ok[] = {
	    {"", 0, 0, NULL},
	    {"\n\n", 0, 0, NULL},
	    {"a,b,c", 1, 3, "a"},
	    {"a,b,c\r\n", 1, 3, "a"},
	    {"\"a\nb\",h,1\n", 1, 3, "a\nb"},
	    {"a,b\n", 1, 2, "a"},
	    {"a,b,c,d\n", 1, 4, "a"},
	    {"x\n", 1, 1, "x"},
	    {"\"\",,\n", 1, 3, ""},
	};
	static const struct {
		const char *text;
		size_t len;
		const char *why;
	} bad[] = {
	    {"\"a,b,c\n", 7, "line 1 has a quote that is never closed"},
	    {"ok,1,2\n\"a\"x,b,c\n", 16, "line 2 has text after a closing quote"},
	    {"a\"b,c,d\n", 8, "quote inside a field that is not quoted"},
	    {"a\0b,c,d\n", 8, "line 1 holds a NUL byte"},
	};
	struct record_row *rows;
	struct sp_err e;
	size_t i, n;
	char *t;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		t = strdup(ok[i].text);
		assert_int_equal(record_parse(t, strlen(t), &rows, &n, &e), 0);
		assert_int_equal(n, ok[i].rows);
		if (n) {
			assert_int_equal(rows[0].nf, ok[i].nf0);
			assert_string_equal(rows[0].f[0], ok[i].f0);
		}
		free(rows);
		free(t);
	}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		t = malloc(bad[i].len + 1);
		memcpy(t, bad[i].text, bad[i].len + 1);
		assert_int_equal(record_parse(t, bad[i].len, &rows, &n, &e),
				 -1);
		assert_null(rows);
		if (!strstr(e.msg, bad[i].why))
			fail_msg("case %zu: '%s'", i, e.msg);
		free(t);
	}
}

static void test_name_ok(void **state)
{
	struct sp_err e;

	(void)state;
	assert_int_equal(record_name_ok("pkg/a,b.py", "python source", &e), 0);
	assert_int_equal(record_name_ok("pkg/bad\nname.py", "python source",
					&e),
			 -1);
	assert_non_null(strstr(e.msg, "control character"));
	assert_int_equal(record_name_ok("../../etc/passwd", "license file",
					&e),
			 -1);
	assert_non_null(strstr(e.msg, "'..' component"));
	assert_int_equal(record_name_ok("pkg/\xff.py", "python source", &e),
			 -1);
}

/* The writers' path: each entry into the zip and its row, with the digest
 * the zip writer computed, then RECORD's own row and RECORD as the last
 * entry, holding exactly the text written. */
static void test_zip(void **state)
{
	struct record r;
	struct zipw z;
	struct sp_err e;
	const char *rec = "x-1.dist-info/RECORD";
	const char *want = "pkg/hello.py,sha256=LPJNul-wow4m6DsqxbninhsWHlwf"
			   "p0JecwQzYpOLmCQ,5\n"
			   "\"pkg/a,b.py\",sha256=LPJNul-wow4m6DsqxbninhsWHlwf"
			   "p0JecwQzYpOLmCQ,5\n"
			   "x-1.dist-info/RECORD,,\n";
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	assert_int_equal(zipw_open(&z, fileno(f), "t.whl", 0, 6, &e), 0);
	assert_int_equal(record_init(&r, &e), 0);
	assert_int_equal(record_zip_add(&r, &z, "pkg/hello.py", "hello", 5,
					0644, &e),
			 0);
	assert_int_equal(record_zip_add(&r, &z, "pkg/a,b.py", "hello", 5,
					0644, &e),
			 0);
	assert_int_equal(record_zip_finish(&r, &z, rec, &e), 0);
	assert_int_equal(z.nents, 3);
	assert_int_equal(r.len, strlen(want));
	assert_memory_equal(r.text, want, r.len);
	assert_int_equal(zipw_finish(&z, NULL, NULL, &e), 0);
	record_release(&r);
	zipw_release(&z);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quoting),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_name_ok),
	    cmocka_unit_test(test_zip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
