/*
 * test_project_manifest.c - a member's Cargo.toml made to stand without
 * its workspace: inherited package keys, dependencies (features merged,
 * optional kept, paths rebased) and lints; path dependencies made
 * relative; root-only tables taken out; the errors that name what is
 * missing; and the resolver a workspace implies.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#define SCRATCH_NAME "manifest"
#include "scratch.h"

#include "cli/project/manifest.h"

static json_t *J(const char *s)
{
	json_error_t jerr;
	json_t *j = json_loads(s, 0, &jerr);

	assert_non_null(j);
	return j;
}

/* ws/, ws/py, ws/crates/ffi, ws/README.md and outside/dep. */
static char *ws, *py, *outside;

static int setup(void **state)
{
	char *p;

	if (setup_dir(state) < 0)
		return -1;
	ws = realpath(tmpdir, NULL);
	assert_non_null(ws);
	p = tpath("crates");
	mkdir(p, 0755);
	free(p);
	p = tpath("crates/ffi");
	mkdir(p, 0755);
	free(p);
	p = tpath("py");
	mkdir(p, 0755);
	py = realpath(p, NULL);
	free(p);
	p = tpath("outside");
	mkdir(p, 0755);
	outside = realpath(p, NULL);
	free(p);
	p = tpath("README.md");
	close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	free(p);
	return 0;
}

static int teardown(void **state)
{
	free(ws);
	free(py);
	free(outside);
	return teardown_dir(state);
}

static const char ws_toml[] =
    "{\"workspace\": {\"members\": [\"py\"], \"resolver\": \"2\","
    " \"package\": {\"version\": \"1.2.0\", \"edition\": \"2021\","
    "  \"authors\": [\"A\"], \"readme\": \"README.md\"},"
    " \"dependencies\": {\"pyffi\": {\"path\": \"crates/ffi\","
    "  \"features\": [\"a\"]}, \"libc\": \"0.2\"},"
    " \"lints\": {\"rust\": {\"unsafe_code\": \"deny\"}}},"
    " \"profile\": {\"release\": {\"strip\": false}}}";

static void test_inherits(void **unused)
{
	json_t *wsd = J(ws_toml);
	json_t *doc = J(
	    "{\"package\": {\"name\": \"x\", \"version\": {\"workspace\": "
	    "true},"
	    " \"edition\": {\"workspace\": true}, \"authors\": {\"workspace\":"
	    " true}, \"readme\": {\"workspace\": true}},"
	    " \"dependencies\": {\"pyffi\": {\"workspace\": true, \"features\":"
	    " [\"b\", \"a\"], \"optional\": true}},"
	    " \"target\": {\"cfg(unix)\": {\"build-dependencies\": {\"libc\":"
	    " {\"workspace\": true}}}},"
	    " \"lints\": {\"workspace\": true}}");
	struct manifest_ctx c = {"py/Cargo.toml", py, ws, wsd};
	json_t *want =
	    J("{\"package\": {\"name\": \"x\", \"version\": \"1.2.0\","
	      " \"edition\": \"2021\", \"authors\": [\"A\"], \"readme\":"
	      " \"../README.md\"},"
	      " \"dependencies\": {\"pyffi\": {\"path\": \"../crates/ffi\","
	      " \"features\": [\"a\", \"b\"], \"optional\": true}},"
	      " \"target\": {\"cfg(unix)\": {\"build-dependencies\": {\"libc\":"
	      " {\"version\": \"0.2\"}}}},"
	      " \"lints\": {\"rust\": {\"unsafe_code\": \"deny\"}}}");
	struct sp_err e;

	(void)unused;
	assert_int_equal(manifest_standalone(doc, &c, &e), 1);
	assert_true(json_equal(doc, want));
	/* Once standing alone, there is nothing more to do. */
	assert_int_equal(manifest_standalone(doc, &c, &e), 0);
	json_decref(doc);
	json_decref(want);
	json_decref(wsd);
}

static void test_paths_and_root_tables(void **unused)
{
	json_t *doc;
	char *abs;
	struct manifest_ctx c = {"py/Cargo.toml", py, ws, NULL};
	struct sp_err e;

	(void)unused;
	/* An absolute path becomes relative; one that is relative already
	 * is left alone; [workspace] and [profile] go. */
	assert_true(asprintf(&abs, "%s/outside", ws) > 0);
	doc = json_pack("{s:{s:{s:s}, s:{s:s}}, s:{}, s:{}}", "dependencies",
			"dep", "path", abs, "ffi", "path", "../crates/ffi",
			"workspace", "profile");
	assert_int_equal(manifest_standalone(doc, &c, &e), 1);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(doc, "dependencies"), "dep"),
		"path")),
	    "../outside");
	assert_null(json_object_get(doc, "workspace"));
	assert_null(json_object_get(doc, "profile"));
	json_decref(doc);
	free(abs);
	doc = J("{\"dependencies\": {\"ffi\": {\"path\": \"../crates/ffi\"}}}");
	assert_int_equal(manifest_standalone(doc, &c, &e), 0);
	json_decref(doc);
}

static void test_missing(void **unused)
{
	json_t *wsd = J("{\"workspace\": {\"package\": {}}}");
	json_t *doc = J("{\"package\": {\"license\": {\"workspace\": true}}}");
	struct manifest_ctx c = {"py/Cargo.toml", py, ws, wsd};
	struct sp_err e;

	(void)unused;
	assert_int_equal(manifest_standalone(doc, &c, &e), -1);
	assert_non_null(strstr(e.msg, "package.license"));
	assert_non_null(strstr(e.msg, "py/Cargo.toml"));
	json_decref(doc);
	doc = J("{\"dependencies\": {\"nope\": {\"workspace\": true}}}");
	assert_int_equal(manifest_standalone(doc, &c, &e), -1);
	assert_non_null(strstr(e.msg, "'nope'"));
	json_decref(doc);
	doc = J("{\"dependencies\": {\"gone\": {\"path\": \"../gone\"}}}");
	assert_int_equal(manifest_standalone(doc, &c, &e), -1);
	assert_non_null(strstr(e.msg, "gone"));
	json_decref(doc);
	json_decref(wsd);
}

static void test_resolver(void **unused)
{
	json_t *d;

	(void)unused;
	d = J("{\"workspace\": {\"resolver\": \"2\"}}");
	assert_string_equal(manifest_resolver(d), "2");
	json_decref(d);
	d = J("{\"package\": {\"edition\": \"2024\"}}");
	assert_string_equal(manifest_resolver(d), "3");
	json_decref(d);
	d = J("{\"package\": {\"edition\": {\"workspace\": true}},"
	      " \"workspace\": {\"package\": {\"edition\": \"2021\"}}}");
	assert_string_equal(manifest_resolver(d), "2");
	json_decref(d);
	d = J("{\"workspace\": {}}");
	assert_string_equal(manifest_resolver(d), "1");
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_inherits),
	    cmocka_unit_test(test_paths_and_root_tables),
	    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_resolver),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
