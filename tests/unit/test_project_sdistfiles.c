/*
 * test_project_sdistfiles.c - what an sdist gathers (cli/project/
 * sdistfiles.h) on small trees: include patterns matched as the wheel
 * matches them, files named from outside the project refused, and the
 * limit on the crates one sdist carries.
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

#define SCRATCH_NAME "sdistfiles"
#include "cli/project/sdistfiles.h"
#include "scratch.h"

/* Makes the file tmpdir/rel (and its folders) holding text. */
static void put(const char *rel, const char *text)
{
	char cmd[1024];
	char *p = tpath(rel);
	FILE *f;

	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	assert_int_equal(system(cmd), 0);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* The entries' names, sorted and joined by spaces. */
static char *names(const struct sdist_files *l)
{
	static char buf[2048];
	size_t i, j;
	const char *v[64];

	assert_true(l->n <= 64);
	for (i = 0; i < l->n; i++)
		v[i] = l->v[i].name;
	for (i = 1; i < l->n; i++)
		for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	buf[0] = '\0';
	for (i = 0; i < l->n; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, v[i]);
	}
	return buf;
}

/* A conf for the pyproject in tmpdir/proj, the project root. */
static void conf_init(struct sdistconf *c, const char *include)
{
	memset(c, 0, sizeof(*c));
	c->dir = tpath("proj");
	c->root = tpath("proj");
	c->include = json_pack("[s]", include);
	c->exclude = json_array();
	assert_non_null(c->include);
}

/* "**" stands for any number of folders, none included, and '*' matches
 * a leading dot, as in the wheel (pathglob.h); glob(3) did neither. */
static void test_include_as_wheel(void **unused)
{
	struct sdistconf c;
	struct sdist_files l = {0};
	struct sp_err e = {0};

	(void)unused;
	put("proj/top.txt", "t");
	put("proj/a/one.txt", "1");
	put("proj/a/b/c/deep.txt", "d");
	put("proj/a/b/other.md", "o");
	put("proj/.hidden.txt", "h");
	conf_init(&c, "**/*.txt");
	assert_int_equal(sdist_files_includes(&l, &c, "p-1", c.root, -1, &e),
			 0);
	assert_string_equal(names(&l), "p-1/.hidden.txt p-1/a/b/c/deep.txt "
				       "p-1/a/one.txt p-1/top.txt");
	sdist_files_release(&l);
	sdistconf_release(&c);

	conf_init(&c, "a/*");
	put("proj/a/.env", "e");
	assert_int_equal(sdist_files_includes(&l, &c, "p-1", c.root, -1, &e),
			 0);
	assert_string_equal(names(&l), "p-1/a/.env p-1/a/one.txt");
	sdist_files_release(&l);
	sdistconf_release(&c);
}

/* Entries go at their place below the sdist root, which may be wider
 * than the project; a link out of the project is refused, naming it. */
static void test_include_root_and_links(void **unused)
{
	struct sdistconf c;
	struct sdist_files l = {0};
	struct sp_err e = {0};
	char *link = tpath("proj/data/key.txt");

	(void)unused;
	put("proj/data/ok.txt", "ok");
	put("secret/id_rsa", "PRIVATE");
	conf_init(&c, "data/*.txt");
	assert_int_equal(sdist_files_includes(&l, &c, "p-1", tmpdir, -1, &e),
			 0);
	assert_string_equal(names(&l), "p-1/proj/data/ok.txt");
	sdist_files_release(&l);

	assert_int_equal(symlink("../../secret/id_rsa", link), 0);
	assert_int_equal(sdist_files_includes(&l, &c, "p-1", tmpdir, -1, &e),
			 -1);
	assert_non_null(strstr(e.msg, "key.txt"));
	assert_non_null(strstr(e.msg, "id_rsa"));
	sdist_files_release(&l);
	sdistconf_release(&c);
	free(link);
}

/* A carried crate for tmpdir/<dir>, in the workspace rooted at
 * tmpdir/<ws>. */
static void crate(struct carried_crate *c, const char *dir, const char *ws)
{
	char rel[64];

	c->dir = tpath(dir);
	snprintf(rel, sizeof(rel), "%s/Cargo.toml", dir);
	c->manifest = tpath(rel);
	c->ws_dir = tpath(ws);
}

/* Readme and license files: each must lie in the project root, or a
 * crate carried from outside it in its own folder (or, inherited, its
 * own workspace root), though the sdist root (tmpdir) holds them all. */
static void test_named_limits(void **unused)
{
	struct carried_crate v[2];
	struct carried set = {v, 2, 2, NULL};
	struct sdistconf c;
	struct sdist_files l = {0};
	struct sp_err e = {0};
	json_t *docs;
	char *proj, *dep, *libs;
	size_t i;

	(void)unused;
	put("proj/README.md", "r");
	put("dep/x.md", "x");
	put("secret/id_rsa", "PRIVATE");
	put("libs/README.md", "libs");
	crate(&v[0], "proj", "proj");
	crate(&v[1], "dep", "libs");
	conf_init(&c, "none");
	proj = tpath("proj/Cargo.toml");
	dep = tpath("dep/Cargo.toml");
	libs = tpath("libs/Cargo.toml");

	/* An outside crate naming a file beside it. */
	docs = json_pack("{s:{s:{s:s}}, s:{s:{s:s}}}", proj, "package",
			 "readme", "README.md", dep, "package", "readme",
			 "../secret/id_rsa");
	assert_int_equal(
	    sdist_files_named(&l, &set, docs, &c, "p-1", tmpdir, -1, &e), -1);
	assert_non_null(strstr(e.msg, "id_rsa"));
	assert_non_null(strstr(e.msg, v[1].dir));
	sdist_files_release(&l);
	json_decref(docs);

	/* The package naming a file of the outside crate's. */
	docs = json_pack("{s:{s:{s:s}}}", proj, "package", "license-file",
			 "../dep/x.md");
	assert_int_equal(
	    sdist_files_named(&l, &set, docs, &c, "p-1", tmpdir, -1, &e), -1);
	assert_non_null(strstr(e.msg, c.root));
	sdist_files_release(&l);
	json_decref(docs);

	/* [project] readme through "..". */
	c.project = json_pack("{s:s}", "readme", "../secret/id_rsa");
	docs = json_object();
	assert_int_equal(
	    sdist_files_named(&l, &set, docs, &c, "p-1", tmpdir, -1, &e), -1);
	sdist_files_release(&l);
	json_decref(docs);
	json_decref((json_t *)c.project);
	c.project = NULL;

	/* Inherited from the outside crate's own workspace root: kept. */
	docs = json_pack("{s:{s:{s:s}}, s:{s:{s:{s:b}}}, s:{s:{s:{s:s}}}}",
			 proj, "package", "readme", "README.md", dep, "package",
			 "readme", "workspace", 1, libs, "workspace", "package",
			 "readme", "README.md");
	assert_int_equal(
	    sdist_files_named(&l, &set, docs, &c, "p-1", tmpdir, -1, &e), 0);
	assert_string_equal(names(&l), "p-1/libs/README.md p-1/proj/README.md");
	sdist_files_release(&l);
	json_decref(docs);

	for (i = 0; i < 2; i++) {
		free(v[i].dir);
		free(v[i].manifest);
		free(v[i].ws_dir);
	}
	free(proj);
	free(dep);
	free(libs);
	sdistconf_release(&c);
}

/* The message gives the limit the folder array really leaves for
 * crates: 64 less the pyproject's folder and python-source. */
static void test_crate_limit(void **unused)
{
	struct sdistconf c = {0};
	struct carried set = {0};
	struct sdist_files l = {0};
	struct sp_err e = {0};
	char *dirs[63];
	size_t i;

	(void)unused;
	c.dir = strdup("/nowhere/proj");
	c.root = strdup("/nowhere/proj");
	c.python_source = strdup("/nowhere/proj/src");
	set.v = calloc(63, sizeof(*set.v));
	assert_non_null(set.v);
	for (i = 0; i < 63; i++) {
		dirs[i] = calloc(32, 1);
		snprintf(dirs[i], 32, "/nowhere/c%zu", i);
		set.v[i].dir = dirs[i];
	}
	set.n = 63;
	assert_int_equal(sdist_files_walks(&l, &set, &c, "/nowhere", "p-1",
					   "/nowhere", -1, &e),
			 -1);
	assert_non_null(strstr(e.msg, "more than 62 crates"));
	assert_non_null(strstr(e.msg, "carries 63"));
	for (i = 0; i < 63; i++)
		free(dirs[i]);
	free(set.v);
	sdistconf_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_include_as_wheel, setup_dir,
					    teardown_dir),
	    cmocka_unit_test_setup_teardown(test_include_root_and_links,
					    setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_named_limits, setup_dir,
					    teardown_dir),
	    cmocka_unit_test(test_crate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
