/*
 * test_project_cargo_msg.c - the cargo message parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/project/cargo_msg.h"

#define PKG_A "path+file:///ws/a#0.1.0"
#define PKG_B "path+file:///ws/b#1.0.0"

static int parse(const char *line, json_t *state)
{
	struct sp_err e = {0};
	int r = cargo_parse_message(line, state, &e);

	if (r < 0)
		print_message("error: %s\n", e.msg);
	return r;
}

static void test_cdylib_artifact(void **unused)
{
	json_t *st = json_object(), *c;

	(void)unused;
	assert_int_equal(
	    parse("{\"reason\":\"compiler-artifact\",\"package_id\":\"" PKG_A
		  "\",\"target\":{\"kind\":[\"cdylib\",\"rlib\"],"
		  "\"crate_types\":[\"cdylib\",\"rlib\"],\"name\":\"my-lib\","
		  "\"src_path\":\"/ws/a/src/lib.rs\"},\"filenames\":["
		  "\"/t/release/libmy_lib.rlib\",\"/t/release/libmy_lib.so\"],"
		  "\"fresh\":false}",
		  st),
	    0);
	/* The same artifact twice (cargo may repeat it) is kept once. */
	assert_int_equal(
	    parse("{\"reason\":\"compiler-artifact\",\"package_id\":\"" PKG_A
		  "\",\"target\":{\"kind\":[\"cdylib\"],\"name\":\"my-lib\"},"
		  "\"filenames\":[\"/t/release/libmy_lib.so\"]}",
		  st),
	    0);
	c = json_object_get(st, "cdylibs");
	assert_int_equal(json_array_size(c), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(c, 0), "path")),
	    "/t/release/libmy_lib.so");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(c, 0), "name")),
	    "my_lib");
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(c, 0), "package_id")),
			    PKG_A);
	assert_true(
	    json_is_true(json_object_get(json_object_get(st, "built"), PKG_A)));
	json_decref(st);
}

static void test_other_artifacts(void **unused)
{
	json_t *st = json_object();

	(void)unused;
	assert_int_equal(
	    parse("{\"reason\":\"compiler-artifact\",\"package_id\":\"" PKG_B
		  "\",\"target\":{\"kind\":[\"lib\"],\"name\":\"b\"},"
		  "\"filenames\":[\"/t/release/libb.rlib\"]}",
		  st),
	    0);
	assert_null(json_object_get(st, "cdylibs"));
	assert_non_null(json_object_get(json_object_get(st, "built"), PKG_B));
	assert_int_equal(parse("{\"reason\":\"build-finished\",\"success\":"
			       "true}",
			       st),
			 0);
	assert_int_equal(parse("{\"reason\":\"compiler-message\"}", st), 0);
	json_decref(st);
}

static void test_cdylib_without_so(void **unused)
{
	json_t *st = json_object();
	struct sp_err e = {0};

	(void)unused;
	assert_int_equal(
	    cargo_parse_message(
		"{\"reason\":\"compiler-artifact\",\"package_id\":\"" PKG_A
		"\",\"target\":{\"kind\":[\"cdylib\"],\"name\":\"a\"},"
		"\"filenames\":[\"/t/release/a.dll\"]}",
		st, &e),
	    -1);
	assert_non_null(strstr(e.msg, "no .so file"));
	assert_int_equal(
	    cargo_parse_message("{\"reason\":\"compiler-artifact\"}", st, &e),
	    -1);
	assert_non_null(strstr(e.msg, "without a package_id"));
	json_decref(st);
}

static void test_build_script(void **unused)
{
	json_t *st = json_object(), *lp;

	(void)unused;
	assert_int_equal(
	    parse(
		"{\"reason\":\"build-script-executed\",\"package_id\":\"" PKG_B
		"\",\"linked_libs\":[\"foo\"],\"linked_paths\":["
		"\"native=/opt/foo/lib\",\"dependency=/t/deps\","
		"\"/plain\",\"all=/all\",\"framework=/fw\","
		"\"crate=/c\",\"/odd=name\",\"native=/opt/foo/lib\"],"
		"\"cfgs\":[],\"env\":[],\"out_dir\":\"/t/out\"}",
		st),
	    0);
	lp = json_object_get(json_object_get(st, "linked_paths"), PKG_B);
	assert_int_equal(json_array_size(lp), 7);
	assert_string_equal(json_string_value(json_array_get(lp, 0)),
			    "/opt/foo/lib");
	assert_string_equal(json_string_value(json_array_get(lp, 1)),
			    "/t/deps");
	assert_string_equal(json_string_value(json_array_get(lp, 2)), "/plain");
	assert_string_equal(json_string_value(json_array_get(lp, 3)), "/all");
	assert_string_equal(json_string_value(json_array_get(lp, 4)), "/fw");
	assert_string_equal(json_string_value(json_array_get(lp, 5)), "/c");
	assert_string_equal(json_string_value(json_array_get(lp, 6)),
			    "/odd=name");
	json_decref(st);
}

#define PYO3 "registry+https://github.com/rust-lang/crates.io-index#pyo3@0.17.3"
#define FFI                                                                    \
	"registry+https://github.com/rust-lang/"                               \
	"crates.io-index#pyo3-ffi@0.17.3"

/* The features of pyo3's and pyo3-ffi's lib units are kept, as one list;
 * their build scripts' units and other crates' are not. */
static void test_pyo3_features(void **unused)
{
	json_t *st = json_object(), *f;

	(void)unused;
	assert_int_equal(
	    parse("{\"reason\":\"compiler-artifact\",\"package_id\":\"" PKG_B
		  "\",\"target\":{\"kind\":[\"lib\"],\"name\":\"b\"},"
		  "\"features\":[\"abi3-py38\"],\"filenames\":[]}",
		  st),
	    0);
	assert_int_equal(
	    parse("{\"reason\":\"compiler-artifact\",\"package_id\":\"" PYO3
		  "\",\"target\":{\"kind\":[\"custom-build\"],\"name\":"
		  "\"build-script-build\"},\"features\":[\"abi3-py36\"],"
		  "\"filenames\":[]}",
		  st),
	    0);
	assert_null(json_object_get(st, "pyo3_features"));
	assert_int_equal(
	    parse("{\"reason\":\"compiler-artifact\",\"package_id\":\"" FFI
		  "\",\"target\":{\"kind\":[\"lib\"],\"name\":"
		  "\"pyo3_ffi\"},\"features\":[\"abi3\",\"abi3-py37\","
		  "\"extension-module\"],\"filenames\":[\"/t/a.rlib\"]}",
		  st),
	    0);
	assert_int_equal(
	    parse("{\"reason\":\"compiler-artifact\",\"package_id\":\"" PYO3
		  "\",\"target\":{\"kind\":[\"lib\"],\"name\":\"pyo3\"},"
		  "\"features\":[\"abi3\",\"macros\"],\"filenames\":[]}",
		  st),
	    0);
	f = json_object_get(st, "pyo3_features");
	assert_int_equal(json_array_size(f), 4);
	assert_string_equal(json_string_value(json_array_get(f, 0)), "abi3");
	assert_string_equal(json_string_value(json_array_get(f, 1)),
			    "abi3-py37");
	assert_string_equal(json_string_value(json_array_get(f, 3)), "macros");
	json_decref(st);
}

static void test_not_json(void **unused)
{
	json_t *st = json_object();

	(void)unused;
	assert_int_equal(parse("warning: something", st), 1);
	assert_int_equal(parse("{not json", st), 1);
	assert_int_equal(parse("", st), 0);
	assert_int_equal(parse("   ", st), 0);
	assert_int_equal(json_object_size(st), 0);
	json_decref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cdylib_artifact),
	    cmocka_unit_test(test_other_artifacts),
	    cmocka_unit_test(test_cdylib_without_so),
	    cmocka_unit_test(test_build_script),
	    cmocka_unit_test(test_pyo3_features),
	    cmocka_unit_test(test_not_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
