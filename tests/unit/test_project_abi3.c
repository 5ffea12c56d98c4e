/*
 * test_project_abi3.c - which modules are tagged cpXY-abi3, and when
 * abi3 is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/project/abi3.h"

static struct pyinfo cp311 = {.python_tag = "cp311",
			      .abi_tag = "cp311",
			      .ext_suffix = ".cpython-311-x86_64-linux-gnu.so"};
static struct pyinfo cp313t = {.python_tag = "cp313",
			       .abi_tag = "cp313t",
			       .ext_suffix =
				   ".cpython-313t-x86_64-linux-gnu.so"};
static struct pyinfo pp39 = {.python_tag = "pp39",
			     .abi_tag = "pypy39_pp73",
			     .ext_suffix = ".pypy39-pp73-x86_64-linux-gnu.so"};

/* A package of `cargo metadata`: deps is its "dependencies" array, spoke
 * its [package.metadata.spoke] table (either may be NULL). */
static json_t *package(const char *deps, const char *spoke)
{
	char buf[512];
	json_t *p;

	snprintf(buf, sizeof(buf),
		 "{\"name\": \"x\", \"dependencies\": %s, \"metadata\": "
		 "%s%s%s}",
		 deps ? deps : "[]", spoke ? "{\"spoke\": " : "null",
		 spoke ? spoke : "", spoke ? "}" : "");
	p = json_loads(buf, 0, NULL);
	assert_non_null(p);
	return p;
}

#define PYO3_DEP "[{\"name\": \"pyo3\", \"kind\": null}]"
#define FFI_DEP "[{\"name\": \"pyo3-ffi\", \"kind\": null}]"

/* Runs abi3_tags; on success checks the three tags, on failure that the
 * message holds every string of want (NULL-terminated). */
static void expect(const char *deps, const char *spoke, const char *features,
		   const struct pyinfo *py, const char *tags,
		   const char *const *want)
{
	json_t *pkg = package(deps, spoke);
	json_t *f = features ? json_loads(features, 0, NULL) : NULL;
	struct abi3_tags t;
	struct sp_err e = {0};
	char got[128];
	int r = abi3_tags(pkg, f, py, &t, &e);

	if (tags) {
		if (r < 0)
			print_message("error: %s\n", e.msg);
		assert_int_equal(r, 0);
		snprintf(got, sizeof(got), "%s-%s %s", t.py, t.abi, t.ext);
		assert_string_equal(got, tags);
	} else {
		assert_int_equal(r, -1);
		for (; *want; want++) {
			if (!strstr(e.msg, *want))
				print_message("'%s' not in: %s\n", *want,
					      e.msg);
			assert_non_null(strstr(e.msg, *want));
		}
	}
	json_decref(f);
	json_decref(pkg);
}

#define OK(deps, spoke, features, py, tags)                                    \
	expect(deps, spoke, features, py, tags, NULL)
#define FAILS(deps, spoke, features, py, ...)                                  \
	do {                                                                   \
		const char *const w_[] = {__VA_ARGS__, NULL};                  \
		expect(deps, spoke, features, py, NULL, w_);                   \
	} while (0)

static const char cp311_tags[] = "cp311-cp311 .cpython-311-x86_64-linux-gnu.so";

/* The lowest abi3-pyXY of pyo3 or pyo3-ffi is the floor. */
static void test_from_features(void **unused)
{
	const char *f = "[\"abi3\", \"abi3-py310\", \"abi3-py37\", "
			"\"abi3-py38\", \"abi3-py39\", \"extension-module\"]";

	(void)unused;
	OK(PYO3_DEP, NULL, f, &cp311, "cp37-abi3 .abi3.so");
	OK(FFI_DEP, NULL, f, &cp311, "cp37-abi3 .abi3.so");
	OK(PYO3_DEP, NULL, "[\"abi3\", \"abi3-py310\"]", &cp311,
	   "cp310-abi3 .abi3.so");
	/* abi3 alone: the interpreter's version, as pyo3 builds it. */
	OK(PYO3_DEP, NULL, "[\"abi3\", \"macros\"]", &cp311,
	   "cp311-abi3 .abi3.so");
	OK(PYO3_DEP, NULL, "[\"macros\", \"extension-module\"]", &cp311,
	   cp311_tags);
	OK(PYO3_DEP, NULL, "[]", &cp311, cp311_tags);
}

/* pyo3's features say nothing of a package that does not use pyo3. */
static void test_not_pyo3(void **unused)
{
	const char *f = "[\"abi3\", \"abi3-py37\"]";

	(void)unused;
	/* A raw-FFI module beside a pyo3 one. */
	OK("[{\"name\": \"pyffi\", \"kind\": null}]", NULL, f, &cp311,
	   cp311_tags);
	OK(NULL, NULL, f, &cp311, cp311_tags);
	/* pyo3 only for its tests or its build script. */
	OK("[{\"name\": \"pyo3\", \"kind\": \"dev\"}, {\"name\": \"pyo3\", "
	   "\"kind\": \"build\"}]",
	   NULL, f, &cp311, cp311_tags);
	/* cargo built no pyo3 (an optional dependency left off). */
	OK(PYO3_DEP, NULL, NULL, &cp311, cp311_tags);
	/* pyo3 builds a version-specific module for PyPy. */
	OK(PYO3_DEP, NULL, f, &pp39,
	   "pp39-pypy39_pp73 .pypy39-pp73-x86_64-linux-gnu.so");
}

static void test_setting(void **unused)
{
	(void)unused;
	OK(NULL, "{\"abi3\": \"cp38\"}", NULL, &cp311, "cp38-abi3 .abi3.so");
	OK(NULL, "{\"module\": \"m\"}", NULL, &cp311, cp311_tags);
	/* The same floor both ways agrees. */
	OK(PYO3_DEP, "{\"abi3\": \"cp37\"}", "[\"abi3\", \"abi3-py37\"]",
	   &cp311, "cp37-abi3 .abi3.so");
	OK(PYO3_DEP, "{\"abi3\": \"cp311\"}", "[\"abi3\"]", &cp311,
	   "cp311-abi3 .abi3.so");
	FAILS(NULL, "{\"abi3\": \"py3\"}", NULL, &cp311,
	      "must be a CPython tag");
	FAILS(NULL, "{\"abi3\": 38}", NULL, &cp311, "must be a CPython tag");
	FAILS(NULL, "{\"abi3\": \"cp3x\"}", NULL, &cp311,
	      "'cp3x' is not a tag");
	FAILS(NULL, "{\"abi3\": \"cp399\"}", NULL, &cp311,
	      "abi3 = \"cp399\" needs Python 3.99 or newer", "cp311");
	FAILS(PYO3_DEP, NULL, "[\"abi3-py312\"]", &cp311,
	      "abi3-py312 needs Python 3.12 or newer");
	FAILS(NULL, "{\"abi3\": \"cp38\"}", NULL, &pp39,
	      "need a CPython interpreter", "pp39");
}

/* A setting and pyo3's features that disagree: an error naming both. */
static void test_disagree(void **unused)
{
	(void)unused;
	FAILS(PYO3_DEP, "{\"abi3\": \"cp38\"}", "[\"abi3\", \"abi3-py37\"]",
	      &cp311, "[package.metadata.spoke] abi3 = \"cp38\"",
	      "pyo3's feature abi3-py37");
	FAILS(PYO3_DEP, "{\"abi3\": \"cp38\"}", "[\"abi3\"]", &cp311,
	      "abi3 = \"cp38\"", "pyo3's feature abi3 ");
	FAILS(FFI_DEP, "{\"abi3\": \"cp38\"}", "[\"extension-module\"]", &cp311,
	      "abi3 = \"cp38\"", "without its abi3 features");
}

/* A free-threaded CPython has no stable ABI. */
static void test_free_threaded(void **unused)
{
	(void)unused;
	FAILS(PYO3_DEP, NULL, "[\"abi3\", \"abi3-py37\"]", &cp313t,
	      "free-threaded interpreter cp313t", "abi3-py37");
	FAILS(NULL, "{\"abi3\": \"cp38\"}", NULL, &cp313t,
	      "free-threaded interpreter cp313t", "abi3 = \"cp38\"");
	/* Without abi3 it builds for the interpreter. */
	OK(PYO3_DEP, NULL, "[\"macros\"]", &cp313t,
	   "cp313-cp313t .cpython-313t-x86_64-linux-gnu.so");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_features),
	    cmocka_unit_test(test_not_pyo3),
	    cmocka_unit_test(test_setting),
	    cmocka_unit_test(test_disagree),
	    cmocka_unit_test(test_free_threaded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
