/*
 * Unit tests of the file stamps: whether a file read before is still the
 * same, on real files in a fresh mkdtemp() directory.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "common/stamp.h"

#define SCRATCH_NAME "stamp"
#include "tests/unit/scratch.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_stamp_sees_changes(void **state)
{
	char *p = tpath("st"), *q = tpath("st2");
	struct stamp a, b;
	struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};

	(void)state;
	/* Just written: racy, so it equals nothing, not even itself. */
	write_file(p, "12345");
	stamp_take(p, &a);
	assert_true(a.exists);
	assert_true(a.racy);
	assert_false(stamp_same(&a, &a));
	/* Out of the racy window: the same until changed. */
	sleep(STAMP_RACY_S + 1);
	stamp_take(p, &a);
	stamp_take(p, &b);
	assert_false(a.racy);
	assert_true(stamp_same(&a, &b));
	/* Rewritten to the same size with an old mtime put back: only the
	 * ctime tells. */
	write_file(p, "54321");
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	stamp_take(p, &b);
	assert_false(stamp_same(&a, &b));
	/* Replaced by another file through a rename. */
	write_file(q, "12345");
	assert_int_equal(rename(q, p), 0);
	stamp_take(p, &b);
	assert_false(stamp_same(&a, &b));
	/* Gone, and absent twice. */
	assert_int_equal(unlink(p), 0);
	stamp_take(p, &b);
	assert_false(b.exists);
	assert_false(stamp_same(&a, &b));
	stamp_take(p, &a);
	assert_true(stamp_same(&a, &b));
	free(p);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stamp_sees_changes,
						setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
