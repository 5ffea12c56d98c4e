/*
 * test_project_layout.c - maturin's wheel layout (cli/project/layout.h) on
 * small trees: mixed packages (the module inside its package, python-source,
 * python-packages), a pure module with a stub, include and exclude, the
 * data folder, and the project-root rule for links and python-source.
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

#define SCRATCH_NAME "layout"
#include "cli/project/layout.h"
#include "cli/project/strutil.h"
#include "scratch.h"

/* Makes the file tmpdir/rel (and its folders) holding text. */
static void put(const char *rel, const char *text)
{
	char cmd[1024];
	char *p = tpath(rel);
	FILE *f;

	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	assert_int_equal(system(cmd), 0);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* Runs the shell command cmd in tmpdir. */
static void sh(const char *cmd)
{
	char full[1024];

	snprintf(full, sizeof(full), "cd '%s' && %s", tmpdir, cmd);
	assert_int_equal(system(full), 0);
}

static int fresh(void **state)
{
	if (setup_dir(state) < 0)
		return -1;
	return 0;
}

/* A pyproject in tmpdir/<dir>, maturin's rules. */
static void pp_init(struct pyproject *pp, const char *dir)
{
	memset(pp, 0, sizeof(*pp));
	pp->dir = tpath(dir);
	pp->path = str_printf("%s/pyproject.toml", pp->dir);
	pp->maturin = 1;
	pp->has_maturin = 1;
}

/* The dsts of job[key], joined by spaces ("" for none). */
static char *dsts(const json_t *job, const char *key)
{
	static char buf[2048];
	const json_t *x;
	size_t i;

	buf[0] = '\0';
	json_array_foreach(json_object_get(job, key), i, x)
	{
		if (i)
			strcat(buf, " ");
		strcat(buf, json_string_value(json_object_get(x, "dst")));
	}
	return buf;
}

static const char *text_of(const json_t *job, const char *dst)
{
	const json_t *x;
	size_t i;

	json_array_foreach(json_object_get(job, "python_files"), i, x)
	{
		if (strcmp(json_string_value(json_object_get(x, "dst")), dst) ==
		    0)
			return json_string_value(json_object_get(x, "text"));
	}
	return NULL;
}

static void pp_done(struct pyproject *pp)
{
	free(pp->dir);
	free(pp->path);
	free(pp->m.python_source);
	free(pp->m.data);
}

/* pkg/pkg.<EXT>: a module name without a dot in a package of that name
 * goes inside it; python-packages beside it ship, a missing one is no
 * error; a folder of the module's name that is a Rust crate is no
 * Python package. */
static void test_mixed(void **state)
{
	static char *pkgs[] = {"tests", "missing", "pkg"};
	struct pyproject pp;
	struct sp_err e;
	json_t *job = json_object();
	int in;

	(void)state;
	put("p/pkg/__init__.py", "from .pkg import *\n");
	put("p/pkg/sub/x.py", "");
	put("p/pkg/__pycache__/x.pyc", "");
	put("p/tests/t.py", "");
	put("p/other/o.py", "");
	pp_init(&pp, "p");
	pp.m.python_packages = pkgs;
	pp.m.npython_packages = 3;
	if (layout_plan(job, &pp, "pkg", tmpdir, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(dsts(job, "python_files"),
			    "pkg/__init__.py pkg/sub/x.py tests/t.py");
	assert_true(json_is_true(json_object_get(job, "module_in_package")));
	assert_null(json_object_get(job, "data_files"));
	json_decref(job);

	/* Dotted: the extension goes where its dots say, as before. */
	job = json_object();
	pp.m.npython_packages = 0;
	assert_int_equal(
	    layout_plan(job, &pp, "pkg._native", tmpdir, NULL, NULL, &e), 0);
	assert_null(json_object_get(job, "module_in_package"));
	assert_string_equal(dsts(job, "python_files"),
			    "pkg/__init__.py pkg/sub/x.py");
	json_decref(job);
	pp_done(&pp);

	put("q/rs/Cargo.toml", "");
	put("q/rs/src/lib.rs", "");
	pp_init(&pp, "q");
	/* A crate's folder is not Python: "rs" is a pure module, made a
	 * package as maturin makes every pure pyo3 module. */
	assert_int_equal(layout_decide(pp.dir, "rs", &in),
			 LAYOUT_PURE_PACKAGE);
	assert_int_equal(in, 1);
	assert_int_equal(layout_decide(pp.dir, "a.rs", &in),
			 LAYOUT_PURE);
	assert_int_equal(in, 0);
	put("q/rs/__init__.py", "");
	assert_int_equal(layout_decide(pp.dir, "rs", &in),
			 LAYOUT_MIXED);
	assert_int_equal(in, 1);
	pp_done(&pp);
}

/* python-source: relative to the pyproject (the lead resolves it), may
 * leave the crate's folder, must hold the package, and may not leave the
 * project root. */
static void test_python_source(void **state)
{
	struct pyproject pp;
	struct sp_err e;
	json_t *job = json_object();

	(void)state;
	put("w/crate/pyproject.toml", "");
	put("w/src/pkg/__init__.py", "");
	put("w/src/pkg/.hidden", "h");
	put("w/crate/assets/extra.txt", "x");
	pp_init(&pp, "w/crate");
	pp.m.python_source = str_printf("%s/w/crate/../src", tmpdir);
	pp.m.python_source_set = 1;
	pp.m.include = (struct pp_glob[]){
	    {.path = "assets/extra.txt", .format = PP_FORMAT_BOTH},
	    {.path = "pkg/.hidden", .format = PP_FORMAT_WHEEL},
	    {.path = "missing", .format = PP_FORMAT_BOTH},
	    {.path = "sdist-only", .format = PP_FORMAT_SDIST}};
	pp.m.ninclude = 4;
	if (layout_plan(job, &pp, "pkg._native", tmpdir, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	/* assets/ from the pyproject's folder; pkg/.hidden (skipped by the
	 * package walk) from python-source, where its package goes. */
	assert_string_equal(dsts(job, "python_files"),
			    "assets/extra.txt pkg/.hidden pkg/__init__.py");
	json_decref(job);

	/* The project root bounds python-source. */
	job = json_object();
	{
		char *root = tpath("w/crate");

		assert_int_equal(
		    layout_plan(job, &pp, "pkg._native", root, NULL, NULL, &e),
		    -1);
		assert_non_null(strstr(e.msg, "outside the project root"));
		free(root);
	}
	json_decref(job);

	/* A python-source without the package is an error naming it. */
	job = json_object();
	assert_int_equal(
	    layout_plan(job, &pp, "nopkg._native", tmpdir, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "python-source"));
	assert_non_null(strstr(e.msg, "nopkg"));
	json_decref(job);
	pp.m.include = NULL;
	pp_done(&pp);
}

/* A pure module with a stub becomes a package of four files. */
static void test_pure_stub(void **state)
{
	struct pyproject pp;
	struct sp_err e;
	json_t *job = json_object();

	(void)state;
	put("s/m.pyi", "def f() -> int: ...\n");
	pp_init(&pp, "s");
	if (layout_plan(job, &pp, "m", tmpdir, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(dsts(job, "python_files"),
			    "m/__init__.py m/__init__.pyi m/py.typed");
	assert_non_null(
	    strstr(text_of(job, "m/__init__.py"), "from .m import *"));
	assert_string_equal(text_of(job, "m/py.typed"), "");
	assert_true(json_is_true(json_object_get(job, "module_in_package")));
	json_decref(job);

	/* No stub: still a package (maturin's pyo3 binding generator makes
	 * every pure module one), without __init__.pyi and py.typed. */
	job = json_object();
	assert_int_equal(layout_plan(job, &pp, "n", tmpdir, NULL, NULL, &e), 0);
	assert_string_equal(dsts(job, "python_files"), "n/__init__.py");
	assert_true(json_is_true(json_object_get(job, "module_in_package")));
	json_decref(job);

	/* A program's job has no extension: no package is made for it. */
	job = json_pack("{s:s}", "program", "n");
	assert_int_equal(layout_plan(job, &pp, "n", tmpdir, NULL, NULL, &e), 0);
	assert_string_equal(dsts(job, "python_files"), "");
	assert_null(json_object_get(job, "module_in_package"));
	json_decref(job);
	pp_done(&pp);
}

/* include and exclude as pyo3-mixed-include-exclude uses them. */
static void test_include_exclude(void **state)
{
	struct pyproject pp;
	struct sp_err e;
	json_t *job = json_object();

	(void)state;
	put("ie/README.md", "r");
	put("ie/pkg/__init__.py", "");
	put("ie/pkg/include_this_file", "");
	put("ie/pkg/exclude_this_file", "");
	put("ie/pkg/sub/keep.py", "");
	put("ie/pkg/sub/drop.tmp", "");
	put("ie/pkg/assets/a.txt", "");
	put("ie/pkg/assets/deep/b.txt", "");
	put("ie/tests/t.py", "");
	pp_init(&pp, "ie");
	pp.m.include =
	    (struct pp_glob[]){{.path = "pkg/include_this_file", .format = 0},
			       {.path = "missing", .format = 0},
			       {.path = "README.md", .format = PP_FORMAT_WHEEL},
			       {.path = "pkg/assets/*", .format = 0},
			       {.path = "**/t.py", .format = PP_FORMAT_SDIST}};
	pp.m.ninclude = 5;
	pp.m.exclude = (struct pp_glob[]){
	    {.path = "pkg/exclude_this_file", .format = 0},
	    {.path = "*.tmp", .format = PP_FORMAT_WHEEL},
	    {.path = "pkg/sub/keep.py", .format = PP_FORMAT_SDIST},
	    {.path = "tests/**/*", .format = 0},
	    {.path = "unused", .format = 0}};
	pp.m.nexclude = 5;
	if (layout_plan(job, &pp, "pkg", tmpdir, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(dsts(job, "python_files"),
			    "README.md pkg/__init__.py pkg/assets/a.txt "
			    "pkg/assets/deep/b.txt pkg/include_this_file "
			    "pkg/sub/keep.py");
	json_decref(job);

	/* A bad pattern is an error naming it. */
	job = json_object();
	pp.m.include =
	    (struct pp_glob[]){{.path = "../etc/passwd", .format = 0}};
	pp.m.ninclude = 1;
	pp.m.nexclude = 0;
	assert_int_equal(layout_plan(job, &pp, "pkg", tmpdir, NULL, NULL, &e),
			 -1);
	assert_non_null(strstr(e.msg, "../etc/passwd"));
	json_decref(job);
	pp.m.include = NULL;
	pp.m.exclude = NULL;
	pp_done(&pp);
}

/* <module>.data: five known folders, files below them, a script keeps
 * its place; links inside the project followed, out of it refused. */
static void test_data(void **state)
{
	struct pyproject pp;
	struct sp_err e;
	json_t *job = json_object();
	char *root;

	(void)state;
	put("d/with_data.data/data/sub/hello.txt", "hi");
	put("d/with_data.data/headers/empty.h", "");
	put("d/with_data.data/scripts/run", "#!/bin/sh\n");
	put("d/elsewhere.txt", "e");
	put("outside.txt", "o");
	pp_init(&pp, "d");
	sh("cd d/with_data.data/data && ln -s ../../elsewhere.txt e.txt");
	if (layout_plan(job, &pp, "with_data", tmpdir, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(dsts(job, "data_files"),
			    "data/e.txt data/sub/hello.txt headers/empty.h "
			    "scripts/run");
	json_decref(job);

	/* A link out of the project root is refused, naming it. */
	sh("cd d/with_data.data/data && ln -s ../../../outside.txt o.txt");
	root = tpath("d");
	job = json_object();
	assert_int_equal(
	    layout_plan(job, &pp, "with_data", root, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "o.txt"));
	assert_non_null(strstr(e.msg, "outside the project root"));
	json_decref(job);
	sh("rm d/with_data.data/data/o.txt");

	/* A link to a folder is refused; so is an unknown entry. */
	sh("ln -s ../headers d/with_data.data/data/linked");
	job = json_object();
	assert_int_equal(
	    layout_plan(job, &pp, "with_data", root, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "link to a folder"));
	json_decref(job);
	sh("rm d/with_data.data/data/linked && mkdir d/with_data.data/lib");
	job = json_object();
	assert_int_equal(
	    layout_plan(job, &pp, "with_data", root, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "scripts"));
	json_decref(job);

	/* data names another folder; a missing one is an error. */
	put("d/other/scripts/s", "");
	pp.m.data = tpath("d/other");
	job = json_object();
	if (layout_plan(job, &pp, "with_data", root, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(dsts(job, "data_files"), "scripts/s");
	json_decref(job);
	free(pp.m.data);
	pp.m.data = tpath("d/nothing");
	job = json_object();
	assert_int_equal(
	    layout_plan(job, &pp, "with_data", root, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "not a folder"));
	json_decref(job);
	free(root);
	pp_done(&pp);
}

/* include {from = "out-dir"}: a build script's OUT_DIR, found by
 * package id for the package itself and by crate name for another, in
 * cargo's new and old id forms. */
static void test_out_dir(void **state)
{
	struct pyproject pp;
	struct sp_err e;
	json_t *job = json_object(), *out_dirs;
	char *o1 = tpath("o1"), *o2 = tpath("o2"), *o3 = tpath("o3");

	(void)state;
	put("od/pkg/__init__.py", "");
	put("o1/generated_info.txt", "hello from build.rs");
	put("o1/other.txt", "");
	put("o2/dep.txt", "");
	put("o3/old.txt", "");
	out_dirs = json_pack("{s:s, s:s, s:s}", "path+file:///x/od#2.1.3", o1,
			     "path+file:///x/deps#my-dep@1.0.0", o2,
			     "old_dep 0.1.0 (path+file:///x/old)", o3);
	pp_init(&pp, "od");
	pp.m.include = (struct pp_glob[]){
	    {.path = "generated_info.txt", .to = "pkg/"},
	    {.path = "*.txt", .to = "/", .crate_name = "my_dep"},
	    {.path = "old.txt", .to = "pkg/sub", .crate_name = "old-dep"}};
	pp.m.ninclude = 3;
	if (layout_plan(job, &pp, "pkg", tmpdir, out_dirs,
			"path+file:///x/od#2.1.3", &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(dsts(job, "python_files"),
			    "dep.txt pkg/__init__.py pkg/generated_info.txt "
			    "pkg/sub/old.txt");
	json_decref(job);

	/* A crate without a build script: an error naming it. */
	pp.m.include = (struct pp_glob[]){
	    {.path = "x", .to = "pkg/", .crate_name = "nobuild"}};
	pp.m.ninclude = 1;
	job = json_object();
	assert_int_equal(layout_plan(job, &pp, "pkg", tmpdir, out_dirs,
				     "path+file:///x/od#2.1.3", &e),
			 -1);
	assert_non_null(strstr(e.msg, "'nobuild' has no OUT_DIR"));
	json_decref(job);
	json_decref(out_dirs);
	pp.m.include = NULL;
	pp_done(&pp);
	free(o1);
	free(o2);
	free(o3);
}

/* The project root: the workspace's when it holds the pyproject. */
static void test_project_root(void **state)
{
	static const char *const cases[][3] = {
	    {"/w/crate", "/w", "/w"},  {"/w", "/w", "/w"},
	    {"/w", "/w/rust", "/w"},   {"/wx/crate", "/w", "/wx/crate"},
	    {"/w/crate", "/w/", "/w"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *r = layout_project_root(cases[i][0], cases[i][1]);

		assert_string_equal(r, cases[i][2]);
		free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_project_root),
	    cmocka_unit_test_setup_teardown(test_out_dir, fresh, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_mixed, fresh, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_python_source, fresh,
					    teardown_dir),
	    cmocka_unit_test_setup_teardown(test_pure_stub, fresh,
					    teardown_dir),
	    cmocka_unit_test_setup_teardown(test_include_exclude, fresh,
					    teardown_dir),
	    cmocka_unit_test_setup_teardown(test_data, fresh, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
