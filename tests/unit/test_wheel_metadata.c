/*
 * Unit tests of worker/wheel/metadata: golden METADATA and WHEEL texts and the
 * naming rules.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "worker/wheel/metadata.h"

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (!j)
		fail_msg("bad test JSON: %s", je.text);
	return j;
}

/* Renders METADATA for a job given as JSON text; NULL keeps e's message. */
static char *render(const char *text, struct sp_err *e)
{
	json_t *job = parse(text);
	char *out = metadata_render(job, e);

	json_decref(job);
	return out;
}

static void test_metadata_minimal(void **state)
{
	struct sp_err e;
	char *m;

	(void)state;
	m = render("{\"distribution\": \"My.Pkg\", \"version\": \"1.0\"}", &e);
	assert_non_null(m);
	assert_string_equal(m, "Metadata-Version: 2.1\n"
			       "Name: My.Pkg\n"
			       "Version: 1.0\n");
	free(m);
}

static void test_metadata_full(void **state)
{
	struct sp_err e;
	char *m;

	(void)state;
	m = render(
	    "{\"distribution\": \"spam\", \"version\": \"2.0.1\","
	    " \"metadata\": {"
	    "  \"description\": \"# Spam\\n\\nLong text.\","
	    "  \"summary\": \"  A  fast\\n spam\\tmaker \","
	    "  \"license\": \"MIT\\nsecond line\\r\\nthird\\n\","
	    "  \"author\": \"A. Person\","
	    "  \"author_email\": \"a@example.org\","
	    "  \"maintainer\": \"M\","
	    "  \"maintainer_email\": \"m@example.org\","
	    "  \"keywords\": \"spam,eggs\","
	    "  \"home_page\": \"https://example.org\","
	    "  \"requires_python\": \">=3.8\","
	    "  \"description_content_type\": \"text/markdown\","
	    "  \"requires_dist\": [\"numpy>=1.20\", \"rich; extra == 'cli'\"],"
	    "  \"classifiers\": [\"Programming Language :: Rust\","
	    "                    \"License :: OSI Approved :: MIT License\"],"
	    "  \"project_urls\": {\"Source\": \"https://example.org/src\","
	    "                     \"Bug Tracker\": \"https://example.org/b\"},"
	    "  \"provides_extra\": [\"cli\"]"
	    "}}",
	    &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(
	    m, "Metadata-Version: 2.1\n"
	       "Name: spam\n"
	       "Version: 2.0.1\n"
	       "Summary: A fast spam maker\n"
	       "Home-page: https://example.org\n"
	       "Keywords: spam,eggs\n"
	       "Author: A. Person\n"
	       "Author-email: a@example.org\n"
	       "Maintainer: M\n"
	       "Maintainer-email: m@example.org\n"
	       "License: MIT\n"
	       "        second line\n"
	       "        third\n"
	       "Classifier: Programming Language :: Rust\n"
	       "Classifier: License :: OSI Approved :: MIT License\n"
	       "Requires-Python: >=3.8\n"
	       "Requires-Dist: numpy>=1.20\n"
	       "Requires-Dist: rich; extra == 'cli'\n"
	       "Provides-Extra: cli\n"
	       "Project-URL: Source, https://example.org/src\n"
	       "Project-URL: Bug Tracker, https://example.org/b\n"
	       "Description-Content-Type: text/markdown\n"
	       "\n"
	       "# Spam\n"
	       "\n"
	       "Long text.\n");
	free(m);
}

/* PEP 639: License-Expression and License-File make the file 2.4; the
 * expression stands where License would, and the two exclude each other. */
static void test_metadata_pep639(void **state)
{
	struct sp_err e;
	char *m;

	(void)state;
	m = render("{\"distribution\": \"spam\", \"version\": \"1.0\","
		   " \"metadata\": {\"summary\": \"S\","
		   " \"license_expression\": \"MIT OR Apache-2.0\"}}",
		   &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(m, "Metadata-Version: 2.4\n"
			       "Name: spam\n"
			       "Version: 1.0\n"
			       "Summary: S\n"
			       "License-Expression: MIT OR Apache-2.0\n");
	free(m);
	m = render("{\"distribution\": \"spam\", \"version\": \"1.0\","
		   " \"metadata\": {\"license_expression\": \"MIT\","
		   " \"license_files\": [\"LICENSE\", \"sub/NOTICE\"]}}",
		   &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(m, "Metadata-Version: 2.4\n"
			       "Name: spam\n"
			       "Version: 1.0\n"
			       "License-Expression: MIT\n"
			       "License-File: LICENSE\n"
			       "License-File: sub/NOTICE\n");
	free(m);
	/* A legacy License alone stays 2.1. */
	m = render("{\"distribution\": \"spam\", \"version\": \"1.0\","
		   " \"metadata\": {\"license\": \"MIT/Apache-2.0\"}}",
		   &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(m, "Metadata-Version: 2.1\n"
			       "Name: spam\n"
			       "Version: 1.0\n"
			       "License: MIT/Apache-2.0\n");
	free(m);
}

static void expect_error(const char *job, const char *needle)
{
	struct sp_err e;
	char *m;

	sp_err_clear(&e);
	m = render(job, &e);
	if (m)
		fail_msg("rendered %s", job);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' lacks '%s'", e.msg, needle);
}

static void test_metadata_errors(void **state)
{
	(void)state;
	expect_error("{\"version\": \"1\"}", "'distribution'");
	expect_error("{\"distribution\": \"x\"}", "'version'");
	expect_error("{\"distribution\": \"-x\", \"version\": \"1\"}",
		     "invalid distribution name '-x'");
	expect_error("{\"distribution\": \"x\", \"version\": \"1 2\"}",
		     "invalid version");
	expect_error("{\"distribution\": \"x\", \"version\": \"1\","
		     " \"metadata\": {\"author\": \"a\\nb\"}}",
		     "'author' must be one line");
	expect_error("{\"distribution\": \"x\", \"version\": \"1\","
		     " \"metadata\": {\"classifiers\": [\"a\\rb\"]}}",
		     "'classifiers' must be one line");
	expect_error("{\"distribution\": \"x\", \"version\": \"1\","
		     " \"metadata\": {\"summary\": 3}}",
		     "'summary' must be a string");
	expect_error("{\"distribution\": \"x\", \"version\": \"1\","
		     " \"metadata\": {\"requires_dist\": \"a\"}}",
		     "must be an array");
	expect_error("{\"distribution\": \"x\", \"version\": \"1\","
		     " \"metadata\": {\"project_urls\": {\"a,b\": \"u\"}}}",
		     "comma");
	expect_error("{\"distribution\": \"x\", \"version\": \"1\","
		     " \"metadata\": {\"sumary\": \"typo\"}}",
		     "unknown metadata field 'sumary'");
	expect_error("{\"distribution\": \"x\", \"version\": \"1\","
		     " \"metadata\": []}",
		     "must be an object");
	expect_error("{\"distribution\": \"x\", \"version\": \"1\","
		     " \"metadata\": {\"license\": \"MIT\","
		     " \"license_expression\": \"MIT\"}}",
		     "exclude each other");
	expect_error("{\"distribution\": \"x\", \"version\": \"1\","
		     " \"metadata\": {\"license_expression\": \"MIT\\nX\"}}",
		     "'license_expression' must be one line");
}

static void test_wheel_file(void **state)
{
	struct sp_err e;
	char *w;

	(void)state;
	w = wheel_file_render("cp311", "cp311", "linux_x86_64", &e);
	assert_non_null(w);
	assert_string_equal(w, "Wheel-Version: 1.0\n"
			       "Generator: spoke " SPOKE_VERSION "\n"
			       "Root-Is-Purelib: false\n"
			       "Tag: cp311-cp311-linux_x86_64\n");
	free(w);

	w = wheel_file_render("cp38", "abi3",
			      "manylinux_2_17_x86_64.manylinux2014_x86_64",
			      &e);
	assert_non_null(w);
	assert_non_null(strstr(w, "Tag: cp38-abi3-manylinux_2_17_x86_64\n"
				  "Tag: cp38-abi3-manylinux2014_x86_64\n"));
	free(w);

	assert_null(wheel_file_render("cp3-11", "cp311", "linux_x86_64", &e));
	assert_non_null(strstr(e.msg, "invalid wheel tag 'cp3-11'"));
	assert_null(wheel_file_render("cp311", NULL, "linux_x86_64", &e));
	assert_non_null(strstr(e.msg, "'abi_tag'"));
}

static void check_norm(const char *in, const char *want)
{
	char *s = dist_normalize(in);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void test_names(void **state)
{
	char *s;

	(void)state;
	check_norm("Foo.Bar-baz__qux", "foo_bar_baz_qux");
	check_norm("a-_.-b", "a_b");
	check_norm("PyO3", "pyo3");

	assert_true(dist_name_valid("a"));
	assert_true(dist_name_valid("A1.b-c_d"));
	assert_false(dist_name_valid(""));
	assert_false(dist_name_valid("-a"));
	assert_false(dist_name_valid("a."));
	assert_false(dist_name_valid("a b"));
	assert_false(dist_name_valid("caf\xc3\xa9"));

	assert_true(module_name_valid("x"));
	assert_true(module_name_valid("pkg._native"));
	assert_true(module_name_valid("_a.b1.C"));
	assert_false(module_name_valid(""));
	assert_false(module_name_valid("1x"));
	assert_false(module_name_valid("a..b"));
	assert_false(module_name_valid(".a"));
	assert_false(module_name_valid("a."));
	assert_false(module_name_valid("a-b"));
	assert_false(module_name_valid("a/b"));

	assert_true(version_valid("1.0"));
	assert_true(version_valid("1.0.post1+local.2"));
	assert_true(version_valid("1!2.0rc1"));
	assert_false(version_valid(""));
	assert_false(version_valid("1.0 beta"));
	assert_false(version_valid("1/0"));
	assert_true(version_valid("0.1.0a1"));
	assert_true(version_valid("2.0rc1"));
	assert_true(version_valid("1.0.dev3"));
	assert_true(version_valid("v1.0-alpha.1"));
	assert_true(version_valid("1.0-1"));
	assert_true(version_valid("1.0+abc.5"));
	assert_false(version_valid("one"));
	assert_false(version_valid("1.0.x"));
	assert_false(version_valid("1..0"));
	assert_false(version_valid("1.0+"));
	assert_false(version_valid("1.0+a..b"));
	assert_false(version_valid("1.0foo"));

	assert_true(tag_valid("cp311"));
	assert_true(tag_valid("py2.py3"));
	assert_false(tag_valid("py2..py3"));
	assert_false(tag_valid(".py3"));
	assert_false(tag_valid("linux-x86_64"));
	assert_false(tag_valid(""));

	s = wheel_filename("My.Pkg", "1.0-1", "cp311", "cp311", "linux_x86_64");
	assert_string_equal(s, "my_pkg-1.0_1-cp311-cp311-linux_x86_64.whl");
	free(s);
	s = dist_info_dir("My.Pkg", "1.0");
	assert_string_equal(s, "my_pkg-1.0.dist-info");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metadata_minimal),
	    cmocka_unit_test(test_metadata_full),
	    cmocka_unit_test(test_metadata_pep639),
	    cmocka_unit_test(test_metadata_errors),
	    cmocka_unit_test(test_wheel_file),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
