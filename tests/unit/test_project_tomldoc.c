/*
 * test_project_tomldoc.c - TOML read through python3's tomllib and
 * written back by tomlemit: the text tomlemit writes reads back as the
 * same document, tagged dates and non-finite floats included, and a
 * file that is not TOML is an error naming it.  Skipped without a
 * python3 that has tomllib or tomli.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SCRATCH_NAME "tomldoc"
#include "scratch.h"

#include "cli/project/tomldoc.h"
#include "cli/project/tomlemit.h"

static const char manifest[] = "# a comment that does not survive\n"
			       "[package]\n"
			       "name = \"x\"\n"
			       "version.workspace = true\n"
			       "authors = [\"A <a@example.org>\", 'B \"q\"']\n"
			       "released = 1979-05-27T07:32:00Z\n"
			       "big = inf\n"
			       "ratio = 0.5\n"
			       "\n"
			       "[package.metadata.spoke]\n"
			       "module = \"x._native\"\n"
			       "\n"
			       "[dependencies]\n"
			       "a = \"1\"\n"
			       "b = { path = \"../b\", features = [\"f\"] }\n"
			       "\n"
			       "[dependencies.c]\n"
			       "workspace = true\n"
			       "optional = true\n"
			       "\n"
			       "[target.'cfg(unix)'.dependencies]\n"
			       "libc = \"0.2\"\n"
			       "\n"
			       "[[bin]]\n"
			       "name = \"tool\"\n"
			       "\n"
			       "[[bin]]\n"
			       "name = \"other\"\n"
			       "required-features = [\"cli\"]\n"
			       "\n"
			       "[\"odd key\"]\n"
			       "\"x.y\" = \"tab\\there\"\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_round_trip(void **unused)
{
	char *in = tpath("in.toml"), *out = tpath("out.toml"), *text;
	const char *paths[1];
	json_t *a, *b;
	struct sp_err e = {0};

	(void)unused;
	write_file(in, manifest);
	paths[0] = in;
	a = tomldoc_read("python3", paths, 1, &e);
	if (!a) {
		print_message("skipped: %s\n", e.msg);
		free(in);
		free(out);
		skip();
	}
	assert_string_equal(
	    tomldoc_bare(json_object_get(
		json_object_get(json_object_get(a, in), "package"),
		"released")),
	    "1979-05-27T07:32:00+00:00");
	text = tomlemit(json_object_get(a, in), "# again\n", &e);
	assert_non_null(text);
	write_file(out, text);
	paths[0] = out;
	b = tomldoc_read("python3", paths, 1, &e);
	assert_non_null(b);
	assert_true(
	    json_equal(json_object_get(a, in), json_object_get(b, out)));
	free(text);
	json_decref(a);
	json_decref(b);
	free(in);
	free(out);
}

static void test_not_toml(void **unused)
{
	char *bad = tpath("bad.toml");
	const char *paths[1] = {bad};
	struct sp_err e = {0};
	json_t *d;

	(void)unused;
	write_file(bad, "[package\nname = \n");
	d = tomldoc_read("python3", paths, 1, &e);
	assert_null(d);
	assert_non_null(strstr(e.msg, "bad.toml"));
	free(bad);
}

/* A table under the reserved tag key is refused where it is read. */
static void test_reserved_key(void **unused)
{
	char *f = tpath("tag.toml");
	const char *paths[1] = {f};
	struct sp_err e = {0};

	(void)unused;
	write_file(f, "[package]\nd = { " TOMLDOC_BARE " = \"x\" }\n");
	assert_null(tomldoc_read("python3", paths, 1, &e));
	assert_non_null(strstr(e.msg, "reserved"));
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_not_toml),
	    cmocka_unit_test(test_reserved_key),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
