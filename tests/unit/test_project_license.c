/*
 * test_project_license.c - SPDX license expressions and the license files
 * a wheel ships (PEP 639): named, globbed, and found by maturin's default
 * patterns.
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

#include "cli/project/license.h"

#define SCRATCH_NAME "license"
#include "scratch.h"

static void expr_ok(const char *in, const char *want)
{
	struct sp_err e = {0};
	char *out = license_expression_normalize(in, &e);

	if (!out)
		fail_msg("'%s' refused: %s", in, e.msg);
	assert_string_equal(out, want);
	free(out);
}

static void expr_bad(const char *in, const char *why)
{
	struct sp_err e = {0};
	char *out = license_expression_normalize(in, &e);

	if (out)
		fail_msg("'%s' accepted as '%s'", in, out);
	if (!strstr(e.msg, why))
		fail_msg("'%s' lacks '%s'", e.msg, why);
}

static void test_expressions(void **unused)
{
	(void)unused;
	expr_ok("MIT", "MIT");
	expr_ok("MIT OR Apache-2.0", "MIT OR Apache-2.0");
	expr_ok("mit or apache-2.0", "mit OR apache-2.0");
	expr_ok(" ( MIT OR Apache-2.0 )  AND BSD-3-Clause",
		"(MIT OR Apache-2.0) AND BSD-3-Clause");
	expr_ok("GPL-2.0-or-later WITH Classpath-exception-2.0",
		"GPL-2.0-or-later WITH Classpath-exception-2.0");
	expr_ok("Apache-2.0+", "Apache-2.0+");
	expr_ok("LicenseRef-Proprietary", "LicenseRef-Proprietary");
	expr_ok("DocumentRef-spdx:LicenseRef-X",
		"DocumentRef-spdx:LicenseRef-X");
	expr_ok("((MIT))", "((MIT))");
	expr_bad("", "empty");
	expr_bad("   ", "empty");
	expr_bad("MIT/Apache-2.0",
		 "a license id is expected at 'MIT/Apache-2.0'");
	expr_bad("MIT OR", "a license id is expected at its end");
	expr_bad("MIT Apache-2.0", "an operator is expected at 'Apache-2.0'");
	expr_bad("(MIT OR Apache-2.0", "a ')' is missing");
	expr_bad("MIT)", "an operator is expected at ')'");
	expr_bad("Or MIT", "an operator is expected at 'MIT'");
	expr_bad("AND", "a license id is expected at 'AND'");
	expr_bad("MIT WITH", "an exception id is expected");
	expr_bad("MIT WITH X+", "an exception id is expected");
	expr_bad("MIT, Apache-2.0", "a license id is expected at 'MIT,'");
}

static void put(const char *name)
{
	char *p = tpath(name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(name, f);
	fclose(f);
	free(p);
}

static int setup_tree(void **state)
{
	static const char *const dirs[] = {"ws", "ws/py", "ws/py/licenses",
					   "ws/py/licenses/sub",
					   "ws/py/COPYING.d"};
	static const char *const files[] = {
	    "outside",
	    "ws/LICENSE-WS",
	    "ws/py/LICENSE",
	    "ws/py/LICENCE.txt",
	    "ws/py/COPYING.md",
	    "ws/py/NOTICE",
	    "ws/py/AUTHORS.txt",
	    "ws/py/README.md",
	    "ws/py/licenses/a.txt",
	    "ws/py/licenses/b.md",
	    "ws/py/licenses/sub/c.txt",
	};
	size_t i;

	if (setup_dir(state) < 0)
		return -1;
	for (i = 0; i < sizeof(dirs) / sizeof(*dirs); i++)
		if (mkdirat(tmpfd, dirs[i], 0755) < 0)
			return -1;
	for (i = 0; i < sizeof(files) / sizeof(*files); i++)
		put(files[i]);
	return 0;
}

/*
 * license_plan() for the package in ws/py (cargo's license_file: lf, or
 * NULL) with the [project] table proj ("" for none); the places it lists
 * in METADATA joined by spaces into *got (malloc'd), or -1 with e.
 */
static int plan(const char *lf, const char *proj_json, char **got,
		struct sp_err *e)
{
	char *pkgdir = tpath("ws/py"), *ws = tpath("ws"), *pkg_s = NULL;
	json_t *job = json_object(), *meta = json_object(), *pkg, *proj = NULL;
	json_t *x, *files;
	size_t i;
	int r;

	assert_true(asprintf(&pkg_s, "{\"name\": \"py\"%s%s%s}",
			     lf ? ", \"license_file\": \"" : "", lf ? lf : "",
			     lf ? "\"" : "") > 0);
	pkg = json_loads(pkg_s, 0, NULL);
	assert_non_null(pkg);
	if (*proj_json) {
		proj = json_loads(proj_json, 0, NULL);
		assert_non_null(proj);
	}
	*got = strdup("");
	r = license_plan(job, meta, pkg, pkgdir, proj, pkgdir, ws, e);
	files = json_object_get(job, "license_files");
	json_array_foreach(json_object_get(meta, "license_files"), i, x)
	{
		char *n = NULL;

		/* The job's files and METADATA's places agree. */
		assert_string_equal(json_string_value(json_object_get(
					json_array_get(files, i), "dst")),
				    json_string_value(x));
		assert_true(asprintf(&n, "%s%s%s", *got, i ? " " : "",
				     json_string_value(x)) > 0);
		free(*got);
		*got = n;
	}
	json_decref(job);
	json_decref(meta);
	json_decref(pkg);
	json_decref(proj);
	free(pkg_s);
	free(pkgdir);
	free(ws);
	return r;
}

static void plan_ok(const char *lf, const char *proj, const char *want)
{
	struct sp_err e = {0};
	char *got;

	if (plan(lf, proj, &got, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(got, want);
	free(got);
}

static void plan_bad(const char *lf, const char *proj, const char *why)
{
	struct sp_err e = {0};
	char *got;

	if (plan(lf, proj, &got, &e) == 0)
		fail_msg("accepted %s: %s", proj, got);
	if (!strstr(e.msg, why))
		fail_msg("'%s' lacks '%s'", e.msg, why);
	free(got);
}

static void test_files(void **unused)
{
	(void)unused;
	/* No [project]: cargo's license-file only, as before PEP 639. */
	plan_ok(NULL, "", "");
	plan_ok("LICENSE", "", "LICENSE");
	/* A workspace's license, named through "..", goes by its name. */
	plan_ok("../LICENSE-WS", "", "LICENSE-WS");
	plan_bad("../../outside", "",
		 "outside the project root and the "
		 "workspace");
	plan_bad("NOPE", "", "license-file 'NOPE' not found");
	/* [project] without license-files: maturin's default patterns, in
	 * the project root only (COPYING.d is a folder). */
	plan_ok(NULL, "{}",
		"AUTHORS.txt COPYING.md LICENCE.txt LICENSE NOTICE");
	plan_ok("../LICENSE-WS", "{}",
		"AUTHORS.txt COPYING.md LICENCE.txt LICENSE LICENSE-WS "
		"NOTICE");
	/* license-files: exactly what it matches; [] ships nothing. */
	plan_ok(NULL, "{\"license-files\": []}", "");
	plan_ok(NULL, "{\"license-files\": [\"LICENSE\", \"licenses/*\"]}",
		"LICENSE licenses/a.txt licenses/b.md");
	plan_ok(NULL, "{\"license-files\": [\"licenses/**/*.txt\"]}",
		"licenses/a.txt licenses/sub/c.txt");
	plan_ok(NULL, "{\"license-files\": [\"**/c.txt\", \"LICEN[CS]E\"]}",
		"LICENSE licenses/sub/c.txt");
	plan_ok(NULL, "{\"license-files\": [\"NOTICE\", \"./NOTICE\"]}",
		"NOTICE");
	/* license = {file}: shipped, beside the patterns. */
	plan_ok(NULL,
		"{\"license\": {\"file\": \"README.md\"}, \"license-files\": "
		"[\"NOTICE\"]}",
		"NOTICE README.md");
	plan_bad(NULL, "{\"license-files\": [\"nothing*\"]}",
		 "license-files pattern 'nothing*' matches no file");
	plan_bad(NULL, "{\"license-files\": [\"../LICENSE-WS\"]}",
		 "'..' is not allowed");
	plan_bad(NULL, "{\"license-files\": [\"/etc/passwd\"]}",
		 "must be a relative path");
	plan_bad(NULL, "{\"license-files\": [\"LICENSE{,.txt}\"]}",
		 "a character PEP 639 does not allow");
	plan_bad(NULL, "{\"license-files\": [\"a**\"]}",
		 "'**' must be a whole path component");
	plan_bad(NULL, "{\"license-files\": [\"[ab\"]}", "not closed");
	plan_bad(NULL, "{\"license-files\": \"LICENSE\"}", "must be an array");
	plan_bad(NULL, "{\"license\": {\"file\": \"NOPE\"}}",
		 "[project] license.file 'NOPE' not found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expressions),
	    cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, setup_tree, teardown_dir);
}
