/*
 * test_project_binplan.c - which packages ship programs, and their jobs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/project/binplan.h"

#define ID_A "path+file:///ws/a#0.1.0"
#define ID_X "path+file:///ws/xtask#0.1.0"

/* A cargo metadata package named name with the given targets JSON and
 * dependencies JSON. */
static json_t *package(const char *id, const char *name, const char *targets,
		       const char *deps)
{
	char buf[2048];
	json_t *p;

	snprintf(buf, sizeof(buf),
		 "{\"id\":\"%s\",\"name\":\"%s\",\"targets\":%s,"
		 "\"dependencies\":%s}",
		 id, name, targets, deps);
	p = json_loads(buf, 0, NULL);
	assert_non_null(p);
	return p;
}

#define BIN "{\"kind\":[\"bin\"],\"crate_types\":[\"bin\"],\"name\":\"a\"}"
#define CDYLIB                                                                 \
	"{\"kind\":[\"cdylib\"],\"crate_types\":[\"cdylib\"],\"name\":\"a\"}"
#define LIB "{\"kind\":[\"lib\"],\"crate_types\":[\"lib\"],\"name\":\"a\"}"
#define BUILD                                                                  \
	"{\"kind\":[\"custom-build\"],\"crate_types\":[\"bin\"],"              \
	"\"name\":\"build-script-build\"}"
#define EXAMPLE                                                                \
	"{\"kind\":[\"example\"],\"crate_types\":[\"bin\"],\"name\":\"e\"}"

static void maturin_pp(struct pyproject *pp, enum pp_bindings b)
{
	memset(pp, 0, sizeof(*pp));
	pp->path = "/ws/a/pyproject.toml";
	pp->has_maturin = 1;
	pp->maturin = 1;
	pp->m.bindings = b;
}

static void test_wants_programs(void **unused)
{
	json_t *bin = package(ID_A, "a", "[" BIN "," BUILD "]", "[]");
	json_t *both = package(ID_A, "a", "[" CDYLIB "," BIN "]", "[]");
	json_t *lib = package(ID_A, "a", "[" LIB "," EXAMPLE "]", "[]");
	struct pyproject pp;
	struct sp_err e = {0};

	(void)unused;
	/* Found for the package a maturin pyproject configures, with a bin
	 * and no cdylib. */
	maturin_pp(&pp, PP_BINDINGS_AUTO);
	assert_int_equal(binplan_wants_programs(bin, &pp, &e), 1);
	/* A cdylib module wins when bindings is unset, as with maturin. */
	assert_int_equal(binplan_wants_programs(both, &pp, &e), 0);
	/* An example or a build script is no bin. */
	assert_int_equal(binplan_wants_programs(lib, &pp, &e), 0);
	/* Never for a package no pyproject configures (an xtask), nor
	 * outside maturin's rules. */
	assert_int_equal(binplan_wants_programs(bin, NULL, &e), 0);
	pp.maturin = 0;
	assert_int_equal(binplan_wants_programs(bin, &pp, &e), 0);
	/* bindings = "pyo3" keeps the modules. */
	maturin_pp(&pp, PP_BINDINGS_PYO3);
	assert_int_equal(binplan_wants_programs(bin, &pp, &e), 0);
	/* bindings = "bin" says so even beside a cdylib, and is an error
	 * for a package without a bin. */
	maturin_pp(&pp, PP_BINDINGS_BIN);
	assert_int_equal(binplan_wants_programs(both, &pp, &e), 1);
	assert_int_equal(binplan_wants_programs(lib, &pp, &e), -1);
	assert_non_null(strstr(e.msg, "no bin target"));
	assert_non_null(strstr(e.msg, "/ws/a/pyproject.toml"));
	json_decref(bin);
	json_decref(both);
	json_decref(lib);
}

static void test_programs(void **unused)
{
	json_t *a = package(ID_A, "a", "[" BIN "]", "[]");
	json_t *x = package(ID_X, "xtask", "[" BIN "]", "[]");
	json_t *st = json_loads(
	    "{\"bins\":[{\"package_id\":\"" ID_X "\",\"name\":\"xtask\","
	    "\"path\":\"/t/release/xtask\"},{\"package_id\":\"" ID_A
	    "\",\"name\":\"a\",\"path\":\"/t/release/a\"}]}",
	    0, NULL);
	json_t *p;
	struct sp_err e = {0};

	(void)unused;
	p = binplan_programs(a, st, &e);
	assert_non_null(p);
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(p, 0), "path")),
	    "/t/release/a");
	json_decref(p);
	/* Two programs of one package would be two wheels of one name. */
	json_array_append_new(json_object_get(st, "bins"),
			      json_pack("{s:s,s:s,s:s}", "package_id", ID_A,
					"name", "foo", "path",
					"/t/release/foo"));
	assert_null(binplan_programs(a, st, &e));
	assert_non_null(strstr(e.msg, "2 programs (a, foo)"));
	json_decref(a);
	a = package("path+file:///ws/b#0.1.0", "b", "[" BIN "]", "[]");
	assert_null(binplan_programs(a, st, &e));
	assert_non_null(strstr(e.msg, "linked none"));
	json_decref(a);
	json_decref(x);
	json_decref(st);
}

static void test_module(void **unused)
{
	json_t *a = package(ID_A, "hello-world", "[" BIN "]", "[]");
	struct pyproject pp;
	char *m;

	(void)unused;
	m = binplan_module(a, NULL);
	assert_string_equal(m, "hello_world");
	free(m);
	maturin_pp(&pp, PP_BINDINGS_BIN);
	pp.m.module_name = "pkg.sub";
	m = binplan_module(a, &pp);
	assert_string_equal(m, "pkg.sub");
	free(m);
	json_decref(a);
}

static void test_job_tags(void **unused)
{
	json_t *plain = package(ID_A, "a", "[" BIN "]",
				"[{\"name\":\"pyo3\",\"kind\":\"dev\"}]");
	json_t *py = package(ID_A, "a", "[" BIN "]",
			     "[{\"name\":\"pyo3\",\"kind\":null}]");
	json_t *prog = json_pack("{s:s,s:s}", "name", "a", "path",
				 "/t/release/hello-world");
	json_t *job =
	    json_pack("{s:s,s:s}", "python_tag", "cp311", "abi_tag", "cp311");
	struct sp_err e = {0};

	(void)unused;
	/* A program that needs no Python runs under any: py3-none. */
	assert_int_equal(binplan_job(job, plain, prog, &e), 0);
	assert_string_equal(json_string_value(json_object_get(job, "program")),
			    "hello-world");
	assert_string_equal(
	    json_string_value(json_object_get(job, "python_tag")), "py3");
	assert_string_equal(json_string_value(json_object_get(job, "abi_tag")),
			    "none");
	json_decref(job);
	/* One that embeds Python keeps the interpreter's tags. */
	job = json_pack("{s:s,s:s}", "python_tag", "cp311", "abi_tag", "cp311");
	assert_int_equal(binplan_job(job, py, prog, &e), 0);
	assert_string_equal(
	    json_string_value(json_object_get(job, "python_tag")), "cp311");
	json_decref(job);
	json_decref(prog);
	json_decref(plain);
	json_decref(py);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wants_programs),
	    cmocka_unit_test(test_programs),
	    cmocka_unit_test(test_module),
	    cmocka_unit_test(test_job_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
