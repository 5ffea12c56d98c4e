/*
 * test_project_pyinfo.c - the child-process helpers and the interpreter query.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/project/pyinfo.h"
#include "cli/project/proc.h"

/* Both streams far larger than a pipe buffer: reading one at a time would
 * deadlock. */
static void test_collect_both_large(void **unused)
{
	const char *argv[] = {
	    "sh", "-c",
	    "i=0; while [ $i -lt 20000 ]; do "
	    "echo 'out line out line out line out line out line'; "
	    "echo 'err line err line err line err line err line' >&2; "
	    "i=$((i+1)); done; exit 3",
	    NULL};
	struct proc p;
	struct sp_err e = {0};
	char *out = NULL, *err = NULL;
	size_t olen = 0, elen = 0;
	int code = -1;

	(void)unused;
	assert_int_equal(
	    proc_spawn(&p, argv, NULL, PROC_PIPE_STDOUT | PROC_PIPE_STDERR, &e),
	    0);
	assert_int_equal(proc_collect(&p, &out, &olen, &err, &elen, &e), 0);
	assert_int_equal(proc_wait(&p, &code, &e), 0);
	assert_int_equal(code, 3);
	assert_int_equal(olen, 20000 * 45);
	assert_int_equal(elen, 20000 * 45);
	assert_int_equal(strlen(out), olen);
	free(out);
	free(err);
	proc_release(&p);
}

static void test_env_and_missing(void **unused)
{
	const char *argv[] = {"sh", "-c", "printf %s \"$SPOKE_T\"", NULL};
	const char *env[] = {"SPOKE_T=new", NULL};
	const char *nope[] = {"spoke-no-such-program", NULL};
	struct proc p;
	struct sp_err e = {0};
	char *out = NULL;
	int code;

	(void)unused;
	setenv("SPOKE_T", "old", 1);
	assert_int_equal(proc_spawn(&p, argv, env, PROC_PIPE_STDOUT, &e), 0);
	assert_int_equal(proc_collect(&p, &out, NULL, NULL, NULL, &e), 0);
	assert_int_equal(proc_wait(&p, &code, &e), 0);
	assert_int_equal(code, 0);
	assert_string_equal(out, "new");
	free(out);

	assert_int_equal(proc_spawn(&p, nope, NULL, PROC_PIPE_STDOUT, &e), -1);
	assert_non_null(strstr(e.msg, "spoke-no-such-program"));
	assert_int_equal(p.pid, -1);
}

static void test_query_missing_interpreter(void **unused)
{
	struct pyinfo py;
	struct sp_err e = {0};

	(void)unused;
	assert_int_equal(pyinfo_query("spoke-no-such-python", NULL, 0, &py, &e),
			 -1);
	assert_string_equal(e.msg, "python interpreter 'spoke-no-such-python' "
				   "not found (use --interpreter)");
	assert_null(py.python_tag);
}

static void test_query_failing_interpreter(void **unused)
{
	struct pyinfo py;
	struct sp_err e = {0};

	(void)unused;
	/* `false` exits 1 whatever its arguments. */
	assert_int_equal(pyinfo_query("false", NULL, 0, &py, &e), -1);
	assert_non_null(strstr(e.msg, "'false' does not look like a Python "
				      "interpreter: spoke's query failed (exit 1)"));
	/* `echo` answers, but not with JSON: its first line is quoted. */
	assert_int_equal(pyinfo_query("echo", NULL, 0, &py, &e), -1);
	assert_non_null(strstr(e.msg, "'echo' does not look like a Python "
				      "interpreter: spoke's query got no JSON "
				      "object back (exit 0): '-c import json"));
}

static void test_query_python3(void **unused)
{
	char dir[] = "/tmp/spoke-pyinfo-XXXXXX", path[64], bad[64];
	const char *paths[2] = {path, bad};
	struct pyinfo py;
	struct sp_err e = {0};
	const json_t *entry;
	FILE *f;

	(void)unused;
	if (pyinfo_query("python3", NULL, 0, &py, &e) < 0) {
		print_message("skipped: %s\n", e.msg);
		skip();
	}
	assert_memory_equal(py.python_tag, "cp3", 3);
	assert_non_null(strstr(py.ext_suffix, ".so"));
	assert_null(strchr(py.platform_tag, '-'));
	assert_int_equal(json_object_size(py.pyprojects), 0);
	pyinfo_release(&py);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pyproject.toml", dir);
	snprintf(bad, sizeof(bad), "%s/bad.toml", dir);
	f = fopen(path, "w");
	fputs("[project]\nname = \"x\"\nwhen = 1979-05-27\n", f);
	fclose(f);
	f = fopen(bad, "w");
	fputs("name = \n", f);
	fclose(f);
	if (pyinfo_query("python3", paths, 2, &py, &e) < 0) {
		/* Only an interpreter without tomllib or tomli may fail. */
		assert_non_null(strstr(e.msg, "neither tomllib nor tomli"));
		goto out;
	}
	entry = json_object_get(py.pyprojects, path);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(entry, "project"), "name")),
			    "x");
	/* A TOML date JSON cannot hold comes back as a string. */
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(entry, "project"), "when")),
			    "1979-05-27");
	assert_true(json_is_null(json_object_get(entry, "error")));
	entry = json_object_get(py.pyprojects, bad);
	assert_true(json_is_null(json_object_get(entry, "project")));
	assert_non_null(json_string_value(json_object_get(entry, "error")));
	pyinfo_release(&py);
out:
	unlink(path);
	unlink(bad);
	rmdir(dir);
}

/* An interpreter without tomllib or tomli (Python 3.10 and older without
 * tomli) still answers: each file's entry says why it was not read, so
 * only a file a package needs makes the build fail.  The stand-in hides
 * both modules from a real python3. */
static void test_query_notoml(void **unused)
{
	char dir[] = "/tmp/spoke-pyinfo-XXXXXX", py[64], toml[64];
	const char *paths[1] = {toml};
	struct pyinfo info;
	struct sp_err e = {0};
	const char *err;
	FILE *f;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	snprintf(py, sizeof(py), "%s/py", dir);
	snprintf(toml, sizeof(toml), "%s/pyproject.toml", dir);
	f = fopen(py, "w");
	fputs("#!/bin/sh\n"
	      "shift\n"
	      "exec python3 -c 'import sys\n"
	      "sys.modules[\"tomllib\"] = sys.modules[\"tomli\"] = None\n"
	      "src = sys.argv[1]; del sys.argv[1]\n"
	      "exec(compile(src, \"<query>\", \"exec\"))' \"$@\"\n",
	      f);
	fclose(f);
	chmod(py, 0755);
	f = fopen(toml, "w");
	fputs("[project]\nname = \"x\"\n", f);
	fclose(f);
	if (pyinfo_query(py, paths, 1, &info, &e) < 0)
		fail_msg("%s", e.msg);
	assert_memory_equal(info.python_tag, "cp3", 3);
	err = json_string_value(
	    json_object_get(json_object_get(info.pyprojects, toml), "error"));
	assert_non_null(err);
	assert_non_null(strstr(err, "neither tomllib nor tomli"));
	assert_non_null(strstr(err, py));
	pyinfo_release(&info);
	unlink(py);
	unlink(toml);
	rmdir(dir);
}

/* The same interpreter is started once for queries without pyprojects,
 * and again for one with them. */
static void test_query_once(void **unused)
{
	char dir[] = "/tmp/spoke-pyinfo-XXXXXX", py_path[64], log[64],
	     toml[64];
	const char *paths[1] = {toml};
	struct pyinfo py;
	struct sp_err e = {0};
	char line[64];
	FILE *f;
	int n = 0;

	(void)unused;
	if (pyinfo_query("python3", NULL, 0, &py, &e) < 0)
		skip();
	pyinfo_release(&py);
	assert_non_null(mkdtemp(dir));
	snprintf(py_path, sizeof(py_path), "%s/py", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(toml, sizeof(toml), "%s/pyproject.toml", dir);
	f = fopen(py_path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho run >>'%s'\nexec python3 \"$@\"\n",
		log);
	fclose(f);
	assert_int_equal(chmod(py_path, 0755), 0);
	f = fopen(toml, "w");
	assert_non_null(f);
	fputs("[project]\nname = \"x\"\n", f);
	fclose(f);
	assert_int_equal(pyinfo_query(py_path, NULL, 0, &py, &e), 0);
	pyinfo_release(&py);
	assert_int_equal(pyinfo_query(py_path, NULL, 0, &py, &e), 0);
	assert_memory_equal(py.python_tag, "cp3", 3);
	pyinfo_release(&py);
	if (pyinfo_query(py_path, paths, 1, &py, &e) == 0)
		pyinfo_release(&py);
	f = fopen(log, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	assert_int_equal(n, 2);
	unlink(py_path);
	unlink(log);
	unlink(toml);
	rmdir(dir);
}

int main(void)
{
	/* These tests are of the query itself (run counts included): the
	 * cache (test_project_cache.c) stays out of their way and out of
	 * the home folder. */
	setenv("SPOKE_NO_CACHE", "1", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_collect_both_large),
	    cmocka_unit_test(test_env_and_missing),
	    cmocka_unit_test(test_query_missing_interpreter),
	    cmocka_unit_test(test_query_failing_interpreter),
	    cmocka_unit_test(test_query_python3),
	    cmocka_unit_test(test_query_notoml),
	    cmocka_unit_test(test_query_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
