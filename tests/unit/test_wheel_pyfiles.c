/*
 * Unit tests of worker/wheel/pyfiles (the python_files, license_files and
 * entry_points of a job) and of METADATA's License-File lines.
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
#include <unistd.h>

#include "worker/wheel/metadata.h"
#include "worker/wheel/pyfiles.h"

static char dir[64];
static char file_a[128], file_b[128];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	strcpy(dir, "/tmp/spoke-pyfiles.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(file_a, sizeof(file_a), "%s/a.py", dir);
	snprintf(file_b, sizeof(file_b), "%s/b.py", dir);
	f = fopen(file_a, "w");
	if (!f)
		return -1;
	fputs("A = 1\n", f);
	fclose(f);
	f = fopen(file_b, "w");
	if (!f)
		return -1;
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file_a);
	unlink(file_b);
	rmdir(dir);
	return 0;
}

static void test_sorted_and_read(void **state)
{
	struct pyfile_src py[] = {{file_b, "pkg/z.py", NULL},
				  {file_a, "pkg/a.py", NULL}};
	struct pyfile_src lic[] = {{file_a, "LICENSE", NULL}};
	struct pyfiles pf;
	struct sp_err e;

	(void)state;
	assert_int_equal(
	    pyfiles_load(py, 2, lic, 1, "[x]\n", "d-1.dist-info", &pf, &e), 0);
	assert_int_equal(pf.npy, 2);
	assert_string_equal(pf.py[0].dst, "pkg/a.py");
	assert_int_equal(pf.py[0].len, 6);
	assert_memory_equal(pf.py[0].data, "A = 1\n", 6);
	assert_string_equal(pf.py[1].dst, "pkg/z.py");
	assert_int_equal(pf.py[1].len, 0);
	assert_int_equal(pf.nlic, 1);
	assert_string_equal(pf.lic[0].dst, "d-1.dist-info/licenses/LICENSE");
	assert_string_equal(pf.entry_points, "[x]\n");
	pyfiles_release(&pf);
}

static void test_bad_dst(void **state)
{
	static const char *const bad[] = {
	    "../x.py", "/abs.py", "pkg/../x.py",     "pkg//x.py",   "./x.py",
	    "pkg/",    "",	  "d-1.dist-info/x", "d-1.data/x/y"};
	struct pyfiles pf;
	struct sp_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct pyfile_src f = {file_a, (char *)bad[i], NULL};

		assert_int_equal(pyfiles_load(&f, 1, NULL, 0, NULL,
					      "d-1.dist-info", &pf, &e),
				 -1);
	}
}

static void test_missing_file(void **state)
{
	struct pyfile_src f = {"/nonexistent/x.py", "x.py", NULL};
	struct pyfiles pf;
	struct sp_err e;

	(void)state;
	assert_int_equal(
	    pyfiles_load(&f, 1, NULL, 0, NULL, "d-1.dist-info", &pf, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent/x.py"));
}

/* A data file goes below <dist>-<version>.data/ and into one of the
 * folders installers map; a generated python file is its text. */
static void test_data_and_text(void **state)
{
	struct pyfile_src py[] = {
	    {NULL, "pkg/py.typed", ""},
	    {NULL, "pkg/__init__.py", "from .x import *\n"}};
	struct pyfile_src data[] = {{file_a, "scripts/a", NULL},
				    {file_b, "headers/b.h", NULL}};
	struct pyfile_src bad[] = {{file_a, "lib/a", NULL},
				   {file_a, "scripts", NULL}};
	struct pyfile_src nosrc = {NULL, "pkg/x.py", NULL};
	struct pyfiles pf;
	struct sp_err e;
	size_t i;

	(void)state;
	assert_int_equal(
	    pyfiles_load(py, 2, NULL, 0, NULL, "d-1.dist-info", &pf, &e), 0);
	assert_string_equal(pf.py[0].dst, "pkg/__init__.py");
	assert_int_equal(pf.py[0].len, 17);
	assert_memory_equal(pf.py[0].data, "from .x import *\n", 17);
	assert_int_equal(pf.py[1].len, 0);
	assert_int_equal(pf.py[1].mode, 0644);
	assert_int_equal(pyfiles_load_data(data, 2, "d-1.data", &pf, &e), 0);
	assert_int_equal(pf.ndata, 2);
	assert_string_equal(pf.data[0].dst, "d-1.data/headers/b.h");
	assert_string_equal(pf.data[1].dst, "d-1.data/scripts/a");
	pyfiles_release(&pf);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pyfiles_load(NULL, 0, NULL, 0, NULL,
					      "d-1.dist-info", &pf, &e),
				 0);
		assert_int_equal(
		    pyfiles_load_data(&bad[i], 1, "d-1.data", &pf, &e), -1);
		assert_non_null(strstr(e.msg, "scripts/"));
	}
	/* Neither a source nor a text: refused, not read as "". */
	assert_int_equal(
	    pyfiles_load(&nosrc, 1, NULL, 0, NULL, "d-1.dist-info", &pf, &e),
	    -1);
}

static void test_license_file_metadata(void **state)
{
	json_t *job =
	    json_pack("{s:s, s:s, s:{s:[s,s]}}", "distribution", "d", "version",
		      "1", "metadata", "license_files", "LICENSE", "NOTICE");
	json_t *plain =
	    json_pack("{s:s, s:s}", "distribution", "d", "version", "1");
	struct sp_err e;
	char *m;

	(void)state;
	m = metadata_render(job, &e);
	assert_non_null(m);
	assert_non_null(strstr(m, "Metadata-Version: 2.4\n"));
	assert_non_null(
	    strstr(m, "License-File: LICENSE\nLicense-File: NOTICE\n"));
	free(m);
	m = metadata_render(plain, &e);
	assert_non_null(m);
	assert_non_null(strstr(m, "Metadata-Version: 2.1\n"));
	assert_null(strstr(m, "License-File"));
	free(m);
	json_decref(job);
	json_decref(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sorted_and_read),
	    cmocka_unit_test(test_bad_dst),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_data_and_text),
	    cmocka_unit_test(test_license_file_metadata),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
