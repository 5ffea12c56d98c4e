/*
 * Unit tests of cli/pyfind: the interpreters `spoke build -f` finds on
 * PATH, with stand-in interpreters (shell scripts) in a scratch folder.
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
#include <sys/stat.h>
#include <unistd.h>

#include "cli/pyfind.h"

static char dir[64];
static char *old_path;

/* Writes an executable script dir/name printing err to stderr and
 * exiting with code. */
static void script(const char *name, const char *err, int code)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s%s%s\nexit %d\n", err ? "echo '" : "",
		err ? err : "", err ? "' >&2" : "", code);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static int setup(void **state)
{
	const char *p = getenv("PATH");

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/spoke-unit-pyfind.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	old_path = strdup(p ? p : "/usr/bin:/bin");
	return setenv("PATH", dir, 1);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	setenv("PATH", old_path, 1);
	free(old_path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Versioned names in maturin's order; a pyenv shim for a version pyenv
 * lacks and a stub that fails silently are skipped; a name that is the
 * same file as one found already is dropped. */
static void test_versioned_names(void **state)
{
	char want[3][128], link[128], target[128];
	char **v;
	size_t n;
	struct sp_err e;

	(void)state;
	script("python3.11", NULL, 0);
	script("python3.8", NULL, 0);
	script("python3.9", "pyenv: python3.9: command not found", 127);
	script("python3.10", NULL, 1); /* silent stub */
	script("pypy3.10", NULL, 0);
	script("python3", NULL, 0); /* not looked at: versions exist */
	snprintf(target, sizeof(target), "%s/python3.11", dir);
	snprintf(link, sizeof(link), "%s/python3.12", dir);
	assert_int_equal(symlink(target, link), 0);

	assert_int_equal(pyfind_all(&v, &n, &e), 0);
	snprintf(want[0], sizeof(want[0]), "%s/python3.8", dir);
	snprintf(want[1], sizeof(want[1]), "%s/python3.11", dir);
	snprintf(want[2], sizeof(want[2]), "%s/pypy3.10", dir);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], want[0]);
	assert_string_equal(v[1], want[1]);
	assert_string_equal(v[2], want[2]);
	pyfind_free(v, n);
}

/* A broken interpreter that says why is kept: its query reports it. */
static void test_broken_is_kept(void **state)
{
	char **v;
	size_t n;
	struct sp_err e;

	(void)state;
	script("python3.13", "Fatal Python error: init_fs_encoding", 1);
	assert_int_equal(pyfind_all(&v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_non_null(strstr(v[0], "/python3.13"));
	pyfind_free(v, n);
}

/* No versioned name: python3, else python. */
static void test_fallback(void **state)
{
	char **v;
	size_t n;
	struct sp_err e;

	(void)state;
	script("python", NULL, 0);
	assert_int_equal(pyfind_all(&v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_non_null(strstr(v[0], "/python"));
	pyfind_free(v, n);
	script("python3", NULL, 0);
	assert_int_equal(pyfind_all(&v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_non_null(strstr(v[0], "/python3"));
	pyfind_free(v, n);
}

/* Nothing at all: an error that says what to do. */
static void test_none(void **state)
{
	char **v;
	size_t n;
	struct sp_err e;

	(void)state;
	script("python3", "pyenv: python3: command not found", 127);
	assert_int_equal(pyfind_all(&v, &n, &e), -1);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_non_null(strstr(e.msg, "give one with -i"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_versioned_names, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_broken_is_kept, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_fallback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_none, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
