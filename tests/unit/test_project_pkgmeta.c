/*
 * test_project_pkgmeta.c - a package's core metadata: the author fields,
 * and which fields come from Cargo.toml under PEP 621's dynamic rule.
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

#include "cli/project/pkgmeta.h"

#define SCRATCH_NAME "pkgmeta"
#include "scratch.h"

static void check_authors(const char *json, const char *author,
			  const char *email)
{
	json_t *a = json_loads(json, 0, NULL), *m = json_object();
	struct sp_err e = {0};

	assert_non_null(a);
	assert_int_equal(cargo_authors_to_metadata(a, m, &e), 0);
	if (author)
		assert_string_equal(
		    json_string_value(json_object_get(m, "author")), author);
	else
		assert_null(json_object_get(m, "author"));
	if (email)
		assert_string_equal(
		    json_string_value(json_object_get(m, "author_email")),
		    email);
	else
		assert_null(json_object_get(m, "author_email"));
	json_decref(a);
	json_decref(m);
}

static void test_authors(void **unused)
{
	(void)unused;
	check_authors("[\"Jane Doe <jane@x.org>\", \"Bob <bob@y.org>\"]", NULL,
		      "Jane Doe <jane@x.org>, Bob <bob@y.org>");
	check_authors("[\"Jane Doe\", \"Team\"]", "Jane Doe, Team", NULL);
	check_authors("[\"Jane <j@x>\", \"Solo\", \"<e@x>\", \"b@y\"]", "Solo",
		      "Jane <j@x>, e@x, b@y");
	check_authors("[\"Doe, Jane <j@x>\"]", NULL, "\"Doe, Jane\" <j@x>");
	check_authors("[\"A \\\"Q\\\" B <q@x>\"]", NULL,
		      "\"A \\\"Q\\\" B\" <q@x>");
	check_authors("[{\"name\": \"P\", \"email\": \"p@x\"}, {\"name\": "
		      "\"N\"}, {\"email\": \"o@x\"}]",
		      "N", "P <p@x>, o@x");
	check_authors("[]", NULL, NULL);
	check_authors("[\"  \"]", NULL, NULL);
}

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void put(const char *name, const char *text)
{
	char *p = tpath(name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* A cargo package in <scratch>/ws/pkg stating every field PEP 621's
 * dynamic keys can take from it; extra is spliced into its JSON. */
static json_t *package(const char *extra)
{
	char *json = NULL;
	json_t *pkg;

	assert_true(asprintf(&json,
			     "{\"name\": \"pkg\", \"version\": \"1.2.0-rc.1\","
			     " \"manifest_path\": \"%s/ws/pkg/Cargo.toml\","
			     " \"description\": \"Cargo  summary\","
			     " \"authors\": [\"Ann <ann@x.org>\"],"
			     " \"keywords\": [\"k1\", \"k2\"],"
			     " \"homepage\": \"https://h.org\","
			     " \"repository\": \"https://r.org\","
			     " \"readme\": \"README.md\"%s}",
			     tmpdir, extra) > 0);
	pkg = json_loads(json, 0, NULL);
	assert_non_null(pkg);
	free(json);
	return pkg;
}

/* pkgmeta_of() for the package and a [project] given as JSON ("" for
 * none); NULL with e filled on error. */
static json_t *meta_of(const char *extra, const char *proj_json,
		       struct sp_err *e)
{
	json_t *pkg = package(extra), *proj = NULL, *m;
	char *ws = tpath("ws");

	if (*proj_json) {
		proj = json_loads(proj_json, 0, NULL);
		assert_non_null(proj);
	}
	m = pkgmeta_of(pkg, proj, NULL, ws, e);
	json_decref(pkg);
	json_decref(proj);
	free(ws);
	return m;
}

static const char *field(const json_t *m, const char *key)
{
	return json_string_value(
	    json_object_get(json_object_get(m, "metadata"), key));
}

static int setup_tree(void **state)
{
	if (setup_dir(state) < 0)
		return -1;
	assert_int_equal(mkdirat(tmpfd, "ws", 0755), 0);
	assert_int_equal(mkdirat(tmpfd, "ws/pkg", 0755), 0);
	put("ws/README.md", "workspace readme\n");
	put("ws/pkg/README.md", "# package readme\n");
	put("ws/pkg/LICENSE", "Permission is granted.\n");
	return 0;
}

/* Without [project], Cargo.toml fills every field it states. */
static void test_no_project(void **unused)
{
	struct sp_err e = {0};
	json_t *m;

	(void)unused;
	m = meta_of(", \"license\": \"MIT OR Apache-2.0\"", "", &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(str_of(m, "distribution"), "pkg");
	assert_string_equal(str_of(m, "version"), "1.2.0rc1");
	assert_string_equal(field(m, "summary"), "Cargo summary");
	assert_string_equal(field(m, "author_email"), "Ann <ann@x.org>");
	assert_string_equal(field(m, "keywords"), "k1,k2");
	assert_string_equal(field(m, "home_page"), "https://h.org");
	assert_string_equal(field(m, "license_expression"),
			    "MIT OR Apache-2.0");
	assert_null(field(m, "license"));
	assert_string_equal(field(m, "description"), "# package readme\n");
	assert_string_equal(field(m, "description_content_type"),
			    "text/markdown");
	assert_int_equal(json_object_size(json_object_get(
			     json_object_get(m, "metadata"), "project_urls")),
			 2);
	json_decref(m);

	/* cargo's older "A/B" is no SPDX expression: License, as it is. */
	m = meta_of(", \"license\": \"MIT/Apache-2.0\"", "", &e);
	assert_non_null(m);
	assert_string_equal(field(m, "license"), "MIT/Apache-2.0");
	assert_null(field(m, "license_expression"));
	json_decref(m);
}

/* With [project], a field not listed in dynamic is left out. */
static void test_static_only(void **unused)
{
	static const char *const absent[] = {
	    "summary", "author",      "author_email", "keywords",
	    "home_page", "license",   "license_expression",
	    "description", "project_urls",
	};
	struct sp_err e = {0};
	json_t *m;
	size_t i;

	(void)unused;
	m = meta_of(", \"license\": \"MIT\"",
		    "{\"name\": \"py-pkg\", \"version\": \"2.0\"}", &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(str_of(m, "distribution"), "py-pkg");
	assert_string_equal(str_of(m, "version"), "2.0");
	for (i = 0; i < sizeof(absent) / sizeof(*absent); i++)
		if (json_object_get(json_object_get(m, "metadata"), absent[i]))
			fail_msg("'%s' came from Cargo.toml", absent[i]);
	json_decref(m);
}

/* Each dynamic key takes its Cargo.toml field. */
static void test_dynamic(void **unused)
{
	struct sp_err e = {0};
	json_t *m;

	(void)unused;
	m = meta_of(", \"license\": \"MIT\"",
		    "{\"name\": \"py-pkg\", \"dynamic\": [\"version\", "
		    "\"description\", \"authors\", \"keywords\", \"urls\", "
		    "\"license\", \"readme\", \"classifiers\"]}",
		    &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(str_of(m, "version"), "1.2.0rc1");
	assert_string_equal(field(m, "summary"), "Cargo summary");
	assert_string_equal(field(m, "author_email"), "Ann <ann@x.org>");
	assert_string_equal(field(m, "keywords"), "k1,k2");
	assert_string_equal(field(m, "home_page"), "https://h.org");
	assert_string_equal(field(m, "license_expression"), "MIT");
	assert_string_equal(field(m, "description"), "# package readme\n");
	json_decref(m);

	/* Only what is listed: description, not the readme. */
	m = meta_of("", "{\"name\": \"p\", \"dynamic\": [\"version\", "
			"\"description\"]}",
		    &e);
	assert_non_null(m);
	assert_string_equal(field(m, "summary"), "Cargo summary");
	assert_null(field(m, "description"));
	assert_null(field(m, "author_email"));
	json_decref(m);
}

/* A readme inherited from the workspace: cargo reports it relative to
 * the package. */
static void test_workspace_readme(void **unused)
{
	struct sp_err e = {0};
	json_t *m;

	(void)unused;
	m = meta_of(", \"readme\": \"../README.md\"", "", &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(field(m, "description"), "workspace readme\n");
	json_decref(m);
}

/* A pyproject above Cargo.toml (maturin's src layout): its readme and
 * license file are read from its own folder. */
static void test_project_dir(void **unused)
{
	struct sp_err e = {0};
	json_t *pkg = package(""), *proj, *m;
	char *ws = tpath("ws");

	(void)unused;
	proj = json_loads("{\"name\": \"p\", \"version\": \"1\", \"readme\": "
			  "\"README.md\", \"license\": {\"file\": "
			  "\"pkg/LICENSE\"}}",
			  0, NULL);
	assert_non_null(proj);
	m = pkgmeta_of(pkg, proj, ws, ws, &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(field(m, "description"), "workspace readme\n");
	assert_string_equal(field(m, "license"), "Permission is granted.\n");
	json_decref(m);
	json_decref(proj);
	json_decref(pkg);
	free(ws);
}

/* PEP 639 in [project], and the legacy tables. */
static void test_project_license(void **unused)
{
	struct sp_err e = {0};
	json_t *m;

	(void)unused;
	m = meta_of(", \"license\": \"Apache-2.0\"",
		    "{\"name\": \"p\", \"version\": \"1\", \"license\": "
		    "\"mit or  (Apache-2.0 AND BSD-3-Clause)\"}",
		    &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(field(m, "license_expression"),
			    "mit OR (Apache-2.0 AND BSD-3-Clause)");
	json_decref(m);

	/* {file}: its text is License. */
	m = meta_of("", "{\"name\": \"p\", \"version\": \"1\", \"license\": "
			"{\"file\": \"LICENSE\"}}",
		    &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(field(m, "license"), "Permission is granted.\n");
	assert_null(field(m, "license_expression"));
	json_decref(m);

	/* {file} with dynamic license (maturin's pyo3-pure): cargo's
	 * expression, the file only shipped. */
	m = meta_of(", \"license\": \"MIT\"",
		    "{\"name\": \"p\", \"version\": \"1\", \"license\": "
		    "{\"file\": \"LICENSE\"}, \"dynamic\": [\"license\"]}",
		    &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_string_equal(field(m, "license_expression"), "MIT");
	assert_null(field(m, "license"));
	json_decref(m);

	m = meta_of("", "{\"name\": \"p\", \"version\": \"1\", \"license\": "
			"{\"text\": \"Custom terms\"}}",
		    &e);
	assert_non_null(m);
	assert_string_equal(field(m, "license"), "Custom terms");
	json_decref(m);
}

static void expect_fail(const char *extra, const char *proj,
			const char *needle)
{
	struct sp_err e = {0};
	json_t *m = meta_of(extra, proj, &e);

	if (m)
		fail_msg("accepted %s", proj);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' lacks '%s'", e.msg, needle);
}

static void test_errors(void **unused)
{
	(void)unused;
	expect_fail("", "{\"name\": \"p\"}",
		    "[project] has no version and does not list it in "
		    "dynamic");
	expect_fail("", "{\"version\": \"1\"}", "[project] has no name");
	expect_fail("", "{\"name\": \"p\", \"dynamic\": [\"name\", "
			"\"version\"]}",
		    "dynamic may not list name");
	expect_fail("", "{\"name\": \"p\", \"dynamic\": [\"versoin\"]}",
		    "dynamic lists 'versoin', which is not a [project] key");
	expect_fail("", "{\"name\": \"p\", \"version\": \"1\", \"license\": "
			"\"MIT/Apache-2.0\"}",
		    "'MIT/Apache-2.0' is not an SPDX license expression");
	expect_fail("", "{\"name\": \"p\", \"version\": \"1\", \"license\": "
			"{\"file\": \"NOPE\"}}",
		    "cannot read the license file");
	expect_fail("", "{\"name\": \"p\", \"version\": \"1\", \"readme\": "
			"{\"file\": \"README.md\", \"text\": \"x\"}}",
		    "readme has both file and text");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_authors),
	    cmocka_unit_test(test_no_project),
	    cmocka_unit_test(test_static_only),
	    cmocka_unit_test(test_dynamic),
	    cmocka_unit_test(test_workspace_readme),
	    cmocka_unit_test(test_project_dir),
	    cmocka_unit_test(test_project_license),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup_tree, teardown_dir);
}
