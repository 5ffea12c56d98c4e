/*
 * test_project_tomlemit.c - TOML text from parsed documents: the layout
 * of sections, inline dependency tables, arrays of tables, key quoting,
 * string escapes, tagged dates, floats, and the values TOML has no
 * spelling for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/project/tomldoc.h"
#include "cli/project/tomlemit.h"

static char *emit(const char *json, const char *header)
{
	json_error_t jerr;
	json_t *doc = json_loads(json, 0, &jerr);
	struct sp_err e;
	char *text;

	assert_non_null(doc);
	text = tomlemit(doc, header, &e);
	json_decref(doc);
	return text;
}

static void test_manifest_layout(void **unused)
{
	char *t;

	(void)unused;
	t = emit("{\"package\": {\"name\": \"x\", \"version\": \"1.0\","
		 " \"metadata\": {\"spoke\": {\"module\": \"x\"}}},"
		 " \"dependencies\": {\"a\": \"1\", \"b\": {\"path\": \"../b\","
		 " \"features\": [\"f\", \"g\"]}},"
		 " \"lib\": {\"crate-type\": [\"cdylib\"]}}",
		 "# head\n");
	assert_non_null(t);
	assert_string_equal(
	    t, "# head\n"
	       "\n[package]\nname = \"x\"\nversion = \"1.0\"\n"
	       "\n[package.metadata.spoke]\nmodule = \"x\"\n"
	       "\n[dependencies]\na = \"1\"\n"
	       "b = { path = \"../b\", features = [\"f\", \"g\"] }\n"
	       "\n[lib]\ncrate-type = [\"cdylib\"]\n");
	free(t);
}

/* [target] alone holds nothing but sections: no header of its own. */
static void test_target_tables(void **unused)
{
	char *t;

	(void)unused;
	t = emit("{\"target\": {\"cfg(unix)\": {\"dependencies\": "
		 "{\"x\": {\"version\": \"1\"}}}}, \"workspace\": {}}",
		 NULL);
	assert_non_null(t);
	assert_string_equal(t, "\n[target.\"cfg(unix)\".dependencies]\n"
			       "x = { version = \"1\" }\n"
			       "\n[workspace]\n");
	free(t);
}

static void test_array_of_tables(void **unused)
{
	char *t;

	(void)unused;
	t = emit("{\"bin\": [{\"name\": \"a\", \"required-features\": [\"x\"]},"
		 " {\"name\": \"b\", \"meta\": {\"k\": 1}}]}",
		 NULL);
	assert_non_null(t);
	assert_string_equal(t, "\n[[bin]]\nname = \"a\"\n"
			       "required-features = [\"x\"]\n"
			       "\n[[bin]]\nname = \"b\"\nmeta = { k = 1 }\n");
	free(t);
}

static void test_scalars(void **unused)
{
	char *t;

	(void)unused;
	t = emit("{\"a b\": \"q\\\"\\\\\\n\\t\\u0001\", \"\": 1.5, \"i\": -3,"
		 " \"f\": 2.0, \"t\": true, \"d\": {\"" TOMLDOC_BARE
		 "\": \"1979-05-27\"}, \"n\": {\"" TOMLDOC_BARE "\": \"nan\"}}",
		 NULL);
	assert_non_null(t);
	assert_string_equal(t, "\"a b\" = \"q\\\"\\\\\\n\\t\\u0001\"\n"
			       "\"\" = 1.5\ni = -3\nf = 2.0\nt = true\n"
			       "d = 1979-05-27\nn = nan\n");
	free(t);
}

static void test_refused(void **unused)
{
	json_t *doc = json_pack("{s:n}", "x");
	json_t *arr = json_array();
	struct sp_err e;

	(void)unused;
	assert_null(tomlemit(doc, NULL, &e));
	assert_non_null(strstr(e.msg, "'x'"));
	assert_null(tomlemit(arr, NULL, &e));
	json_decref(doc);
	json_decref(arr);
}

/* A tag whose text is no date, time or inf/nan is no tag: written as
 * the table it is, its text quoted, it cannot add a section (a
 * reviewer's forged `{ __spoke_toml_bare__ = "..." }` in a Cargo.toml
 * came back as a new [dependencies] table). */
static void test_forged_tag(void **unused)
{
	char *t;

	(void)unused;
	t = emit("{\"d\": {\"" TOMLDOC_BARE "\": \"\\\"ok\\\"\\n[dependencies]"
		 "\\nevil = 1\"}}",
		 NULL);
	assert_non_null(t);
	assert_null(strstr(t, "\n[dependencies]"));
	assert_non_null(strstr(t, "\\n[dependencies]"));
	free(t);
}

/* Sections nested deeper than the emitter's path are refused, never
 * dropped. */
static void test_too_deep(void **unused)
{
	json_t *doc = json_object(), *t = doc;
	struct sp_err e;
	char *text;
	int i;

	(void)unused;
	for (i = 0; i < 70; i++) {
		json_t *n = json_pack("{s:i}", "v", i);

		json_object_set_new(t, "k", n);
		t = n;
	}
	text = tomlemit(doc, NULL, &e);
	assert_null(text);
	json_decref(doc);
}

/* The same document gives the same bytes. */
static void test_stable(void **unused)
{
	const char *j = "{\"package\": {\"name\": \"x\"}, \"z\": {\"a\": 1}}";
	char *a = emit(j, NULL), *b = emit(j, NULL);

	(void)unused;
	assert_string_equal(a, b);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_manifest_layout),
	    cmocka_unit_test(test_target_tables),
	    cmocka_unit_test(test_array_of_tables),
	    cmocka_unit_test(test_scalars),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_stable),
	    cmocka_unit_test(test_forged_tag),
	    cmocka_unit_test(test_too_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
