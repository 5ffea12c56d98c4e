/*
 * test_project_pyproject.c - [tool.maturin] read key by key, and which
 * pyproject.toml configures which package.
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

#include "cli/project/pyproject.h"

/* Parses the JSON text of a pyproject document found at path. */
static int parse(const char *json, const char *path, struct pyproject *pp,
		 struct sp_err *e)
{
	json_error_t jerr;
	json_t *doc = json_loads(json, 0, &jerr);
	int r;

	assert_non_null(doc);
	r = pyproject_parse(doc, path, pp, e);
	json_decref(doc);
	return r;
}

/* Every supported key, as maturin's test crates write them. */
static void test_keys(void **unused)
{
	struct pyproject pp;
	struct sp_err e = {0};

	(void)unused;
	assert_int_equal(
	    parse("{\"project\": {\"name\": \"p\"}, \"tool\": {\"maturin\": {"
		  "\"module-name\": \"p._p\", \"python-source\": \"python\","
		  "\"python-packages\": [\"extra\"],"
		  "\"manifest-path\": \"rust/../rust/Cargo.toml\","
		  "\"features\": [\"a\", {\"feature\": \"b\"}],"
		  "\"all-features\": false, \"no-default-features\": true,"
		  "\"profile\": \"dist\", \"locked\": true,"
		  "\"include\": [\"p/assets/*\", {\"path\": \"x\", \"format\":"
		  " \"sdist\"}, {\"path\": \"y\", \"format\": [\"sdist\","
		  " \"wheel\"]}, {\"path\": \"g.txt\", \"from\": \"out-dir\","
		  " \"to\": \"p/\"}],"
		  "\"exclude\": [{\"path\": \"t/**/*\", \"format\": \"wheel\"}],"
		  "\"data\": \"d\", \"bindings\": \"pyo3\", \"strip\": true,"
		  "\"manylinux\": \"2_28\", \"skip-auditwheel\": true,"
		  "\"config\": [\"k=1\"], \"editable-profile\": \"dev\","
		  "\"pgo-command\": \"x\","
		  "\"target\": {\"x86_64-apple-darwin\": "
		  "{\"macos-deployment-target\": \"10.12\"}}}}}",
		  "/w/p/pyproject.toml", &pp, &e),
	    0);
	assert_true(pp.maturin);
	assert_string_equal(pp.dir, "/w/p");
	assert_string_equal(pp.m.module_name, "p._p");
	assert_string_equal(pp.m.python_source, "/w/p/python");
	assert_true(pp.m.python_source_set);
	assert_int_equal(pp.m.npython_packages, 1);
	assert_string_equal(pp.m.manifest_path, "/w/p/rust/Cargo.toml");
	assert_int_equal(pp.m.nfeatures, 2);
	assert_string_equal(pp.m.features[1], "b");
	assert_int_equal(pp.m.all_features, PP_FALSE);
	assert_int_equal(pp.m.no_default_features, PP_TRUE);
	assert_int_equal(pp.m.frozen, PP_UNSET);
	assert_int_equal(pp.m.ninclude, 4);
	assert_int_equal(pp.m.include[0].format, PP_FORMAT_BOTH);
	assert_int_equal(pp.m.include[1].format, PP_FORMAT_SDIST);
	assert_int_equal(pp.m.include[2].format, PP_FORMAT_BOTH);
	assert_string_equal(pp.m.include[3].to, "p/");
	assert_int_equal(pp.m.include[3].format, PP_FORMAT_WHEEL);
	assert_int_equal(pp.m.exclude[0].format, PP_FORMAT_WHEEL);
	assert_string_equal(pp.m.data, "/w/p/d");
	assert_int_equal(pp.m.bindings, PP_BINDINGS_PYO3);
	assert_int_equal(pp.m.strip, PP_TRUE);
	/* manylinux is the older name of compatibility, skip-auditwheel of
	 * auditwheel = "skip". */
	assert_string_equal(pp.m.compatibility, "2_28");
	assert_string_equal(pp.m.auditwheel, "skip");
	assert_string_equal(pp.m.config[0], "k=1");
	pyproject_release(&pp);
}

/* The scope rule: [tool.maturin] or build-backend = "maturin". */
static void test_scope(void **unused)
{
	struct pyproject pp;
	struct sp_err e = {0};

	(void)unused;
	assert_int_equal(parse("{\"project\": {\"name\": \"p\"}}",
			       "/w/pyproject.toml", &pp, &e),
			 0);
	assert_false(pp.maturin);
	assert_non_null(pp.project);
	/* Without python-source (and no src layout): the project folder. */
	assert_string_equal(pp.m.python_source, "/w");
	assert_false(pp.m.python_source_set);
	pyproject_release(&pp);
	assert_int_equal(parse("{\"build-system\": {\"build-backend\": "
			       "\"maturin\"}}",
			       "/w/pyproject.toml", &pp, &e),
			 0);
	assert_true(pp.maturin);
	assert_false(pp.has_maturin);
	pyproject_release(&pp);
}

/* What is refused, and that the message names the key and the file. */
static void test_refused(void **unused)
{
	static const struct {
		const char *maturin, *want;
	} cases[] = {
	    {"{\"bindings\": \"cffi\"}", "bindings = \"cffi\" is not supported"},
	    {"{\"bindings\": \"uniffi\"}",
	     "bindings = \"uniffi\" is not supported"},
	    {"{\"bindings\": \"nope\"}", "bindings = \"nope\" is not one of"},
	    {"{\"targets\": []}", "targets is not supported"},
	    {"{\"rustc-args\": [\"-x\"]}", "rustc-args is not supported"},
	    {"{\"modul-name\": \"x\"}", "unknown key 'modul-name'"},
	    {"{\"module-name\": 3}", "module-name must be a non-empty string"},
	    {"{\"features\": [{\"feature\": \"f\", \"python-version\": "
	     "\">=3.9\"}]}",
	     "does not evaluate conditional features"},
	    {"{\"include\": [{\"path\": \"x\", \"format\": \"zip\"}]}",
	     "include[0].format must be"},
	    {"{\"include\": [{\"path\": \"x\", \"from\": \"src\", \"to\": "
	     "\"y\"}]}",
	     "include[0].from must be \"out-dir\""},
	    {"{\"exclude\": [{\"path\": \"x\", \"to\": \"y\"}]}",
	     "exclude[0] has an unknown key 'to'"},
	    {"{\"compatibility\": \"manylinux_2_17\", \"manylinux\": "
	     "\"manylinux_2_28\"}",
	     "disagree"},
	    {"{\"auditwheel\": \"fix\"}", "auditwheel must be"},
	    {"{\"auditwheel\": \"repair\", \"skip-auditwheel\": true}",
	     "disagree"},
	    {"{\"sdist-generator\": \"git\"}", "sdist-generator = \"git\""},
	    {"{\"locked\": \"yes\"}", "locked must be true or false"},
	    {"{\"target\": {\"x86_64-unknown-linux-gnu\": {\"zig\": true}}}",
	     "unknown key 'zig'"},
	};
	struct pyproject pp;
	struct sp_err e;
	char doc[512];
	size_t i;

	(void)unused;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		snprintf(doc, sizeof(doc), "{\"tool\": {\"maturin\": %s}}",
			 cases[i].maturin);
		assert_int_equal(parse(doc, "/w/pyproject.toml", &pp, &e), -1);
		if (!strstr(e.msg, cases[i].want) ||
		    !strstr(e.msg, "/w/pyproject.toml"))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, e.msg,
				 cases[i].want);
		/* Released on failure: parsing again needs nothing freed. */
		assert_null(pp.path);
	}
}

static void touch(const char *dir, const char *rel)
{
	char p[512], *slash;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	for (slash = strchr(p + strlen(dir) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(p, 0755);
		*slash = '/';
	}
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
}

/* maturin's src layout: pyproject.toml on top, the crate in rust/, the
 * Python package in src/; and which file configures which package. */
static void test_layouts(void **unused)
{
	char dir[] = "/tmp/spoke-pyproject-XXXXXX", path[256], want[256];
	char cmd[300], **c;
	struct pyproject pp;
	struct sp_err e = {0};
	int nomem;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	touch(dir, "rust/Cargo.toml");
	touch(dir, "src/my_proj/__init__.py");
	touch(dir, "ws/Cargo.toml");
	touch(dir, "ws/member/Cargo.toml");
	touch(dir, "ws/member/pyproject.toml");
	snprintf(path, sizeof(path), "%s/pyproject.toml", dir);
	touch(dir, "pyproject.toml");

	assert_int_equal(parse("{\"project\": {\"name\": \"my-proj\"}, "
			       "\"tool\": {\"maturin\": {}}}",
			       path, &pp, &e),
			 0);
	snprintf(want, sizeof(want), "%s/src", dir);
	assert_string_equal(pp.m.python_source, want);
	{
		char *m = pyproject_manifest(&pp, &nomem);

		snprintf(want, sizeof(want), "%s/rust/Cargo.toml", dir);
		assert_non_null(m);
		assert_string_equal(m, want);
		/* (c): the src layout's crate; not the workspace below. */
		assert_true(pyproject_configures(&pp, want));
		snprintf(want, sizeof(want), "%s/ws/member/Cargo.toml", dir);
		assert_false(pyproject_configures(&pp, want));
		free(m);
	}
	pyproject_release(&pp);

	/* (b): manifest-path names the package, wherever it lies. */
	assert_int_equal(parse("{\"tool\": {\"maturin\": {\"manifest-path\": "
			       "\"ws/member/Cargo.toml\"}}}",
			       path, &pp, &e),
			 0);
	snprintf(want, sizeof(want), "%s/ws/member/Cargo.toml", dir);
	assert_true(pyproject_configures(&pp, want));
	snprintf(want, sizeof(want), "%s/rust/Cargo.toml", dir);
	assert_false(pyproject_configures(&pp, want));
	pyproject_release(&pp);

	/* Candidates: nearest first, up to the workspace root's parent. */
	snprintf(want, sizeof(want), "%s/ws/member", dir);
	snprintf(path, sizeof(path), "%s/ws", dir);
	c = pyproject_candidates(want, path, &e);
	assert_non_null(c);
	snprintf(want, sizeof(want), "%s/ws/member/pyproject.toml", dir);
	assert_string_equal(c[0], want);
	snprintf(want, sizeof(want), "%s/pyproject.toml", dir);
	assert_non_null(c[1]);
	assert_string_equal(c[1], want);
	assert_null(c[2]);
	pyproject_paths_free(c);
	/* A workspace deeper down does not reach the top file. */
	snprintf(want, sizeof(want), "%s/ws/member", dir);
	c = pyproject_candidates(want, want, &e);
	assert_non_null(c);
	assert_non_null(c[0]);
	assert_null(c[1]);
	pyproject_paths_free(c);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_scope),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_layouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
