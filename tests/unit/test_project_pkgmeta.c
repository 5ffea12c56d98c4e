/*
 * test_project_pkgmeta.c - the author fields of a package's core metadata.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/project/pkgmeta.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_authors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
