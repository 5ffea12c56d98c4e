/*
 * test_project_cache.c - the client's cache: entries kept and refused
 * (cache.h), files and folders as key parts (filekey.h), and what a
 * pyenv shim runs (pyenv.h).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/project/cache.h"
#include "cli/project/filekey.h"
#include "cli/project/pyenv.h"

#define SCRATCH_NAME "cache"
#include "scratch.h"

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The path of the one entry of kind in the cache folder. */
static char *entry_path(const char *kind)
{
	char *dir = cache_dir_path(), *cmd, *out = NULL;
	size_t n = 0;
	FILE *p;

	assert_non_null(dir);
	assert_true(asprintf(&cmd, "ls -d %s/%s-*.json", dir, kind) > 0);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_true(getline(&out, &n, p) > 0);
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
	free(cmd);
	free(dir);
	return out;
}

static json_t *key_of(const char *s)
{
	return json_pack("{s:s}", "k", s);
}

static void test_round_trip_and_key(void **unused)
{
	json_t *k = key_of("one"), *other = key_of("two"), *v, *got;

	(void)unused;
	v = json_pack("{s:s}", "tag", "cp311");
	assert_int_equal(cache_put("t1", "slot", k, v), 0);
	got = cache_get("t1", "slot", k);
	assert_non_null(got);
	assert_true(json_equal(got, v));
	json_decref(got);
	/* Another key, slot or kind: a miss. */
	assert_null(cache_get("t1", "slot", other));
	assert_null(cache_get("t1", "slot2", k));
	assert_null(cache_get("t2", "slot", k));
	json_decref(k);
	json_decref(other);
	json_decref(v);
}

/* Truncated, a byte changed, too open, hard-linked, a symlink: misses. */
static void test_damaged_entries(void **unused)
{
	json_t *k = key_of("d"), *v = json_string("answer"), *got;
	char *path, *other;
	struct stat st;
	FILE *f;

	(void)unused;
	assert_int_equal(cache_put("dmg", "s", k, v), 0);
	path = entry_path("dmg");
	got = cache_get("dmg", "s", k);
	assert_non_null(got);
	json_decref(got);

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 3), 0);
	assert_null(cache_get("dmg", "s", k));

	assert_int_equal(cache_put("dmg", "s", k, v), 0);
	f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, -4, SEEK_END);
	fputc('X', f);
	fclose(f);
	assert_null(cache_get("dmg", "s", k));

	assert_int_equal(cache_put("dmg", "s", k, v), 0);
	assert_int_equal(chmod(path, 0622), 0);
	assert_null(cache_get("dmg", "s", k));

	assert_int_equal(cache_put("dmg", "s", k, v), 0);
	other = tpath("hardlink");
	assert_int_equal(link(path, other), 0);
	assert_null(cache_get("dmg", "s", k));
	unlink(other);
	got = cache_get("dmg", "s", k);
	assert_non_null(got);
	json_decref(got);

	/* A symlink to a good entry is not followed. */
	assert_int_equal(rename(path, other), 0);
	assert_int_equal(symlink(other, path), 0);
	assert_null(cache_get("dmg", "s", k));
	assert_int_equal(cache_put("dmg", "s", k, v), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	unlink(other);
	free(other);
	free(path);
	json_decref(k);
	json_decref(v);
}

/* The folder stays bounded: past CACHE_MAX_ENTRIES the oldest go. */
static void test_bounded(void **unused)
{
	json_t *k = key_of("b"), *v = json_true(), *got;
	char slot[32], *dir = cache_dir_path(), *cmd;
	int i, n = 0;
	FILE *p;

	(void)unused;
	for (i = 0; i < CACHE_MAX_ENTRIES + 50; i++) {
		snprintf(slot, sizeof(slot), "s%d", i);
		assert_int_equal(cache_put("bnd", slot, k, v), 0);
	}
	assert_true(asprintf(&cmd, "ls %s | wc -l", dir) > 0);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	if (n > CACHE_MAX_ENTRIES)
		fail_msg("%d entries", n);
	assert_true(n > 0);
	/* The newest entry stays. */
	snprintf(slot, sizeof(slot), "s%d", CACHE_MAX_ENTRIES + 49);
	got = cache_get("bnd", slot, k);
	assert_non_null(got);
	json_decref(got);
	free(cmd);
	free(dir);
	json_decref(k);
	json_decref(v);
}

/* A same-size rewrite is seen through the hash; a folder's listing shows
 * a subfolder gaining a Cargo.toml. */
static void test_filekeys(void **unused)
{
	char *f = tpath("f.toml"), *d = tpath("crates"), *sub, *m;
	json_t *a, *b;

	(void)unused;
	a = filekey_file(f);
	assert_true(json_is_null(a));
	json_decref(a);
	write_file(f, "version = 1\n", 0644);
	a = filekey_file(f);
	write_file(f, "version = 2\n", 0644);
	b = filekey_file(f);
	assert_non_null(a);
	assert_non_null(b);
	assert_false(json_equal(json_array_get(a, 5), json_array_get(b, 5)));
	json_decref(a);
	json_decref(b);

	assert_int_equal(mkdir(d, 0755), 0);
	assert_true(asprintf(&sub, "%s/x", d) > 0);
	assert_true(asprintf(&m, "%s/x/Cargo.toml", d) > 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	a = filekey_dir(d, "Cargo.toml");
	write_file(m, "[package]\n", 0644);
	b = filekey_dir(d, "Cargo.toml");
	assert_non_null(a);
	assert_non_null(b);
	assert_false(json_equal(a, b));
	json_decref(a);
	a = filekey_dir(d, "Cargo.toml");
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	free(sub);
	free(m);
	free(f);
	free(d);
}

/* A pyenv root in the scratch folder: shims/python3 as pyenv rehash
 * writes it, versions a and b, each with bin/python3. */
static char root[256];

static void make_root(void)
{
	char p[512], text[2048];
	const char *v[] = {"a", "b"};
	int i;

	snprintf(root, sizeof(root), "%s/pyenv", tmpdir);
	snprintf(p, sizeof(p), "mkdir -p %s/shims %s/libexec", root, root);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/libexec/pyenv", root);
	write_file(p, "#!/bin/sh\n", 0755);
	for (i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "mkdir -p %s/versions/%s/bin", root,
			 v[i]);
		assert_int_equal(system(p), 0);
		snprintf(p, sizeof(p), "%s/versions/%s/bin/python3", root,
			 v[i]);
		write_file(p, "\177ELF", 0755);
	}
	snprintf(text, sizeof(text),
		 "#!/usr/bin/env bash\nset -e\n[ -n \"$PYENV_DEBUG\" ] && set "
		 "-x\n\nprogram=\"${0##*/}\"\n\nexport PYENV_ROOT=\"%s\"\n"
		 "SHIM_PATH=${0%%/*}\nif [[ $SHIM_PATH != \"%s/shims\" ]]; "
		 "then\n  export _PYENV_SHIM_PATH=\"$SHIM_PATH\"\nfi\nexec "
		 "\"%s/libexec/pyenv\" exec \"$program\" \"$@\"\n",
		 root, root, root);
	snprintf(p, sizeof(p), "%s/shims/python3", root);
	write_file(p, text, 0755);
}

/* Resolves the shim; returns the target's version folder name ("a"),
 * "" when unresolved. */
static const char *resolve(void)
{
	static char got[64];
	char shim[512], text[4096], *target = NULL;
	const char *why = NULL;
	FILE *f;
	size_t n;
	int r;

	snprintf(shim, sizeof(shim), "%s/shims/python3", root);
	f = fopen(shim, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	r = pyenv_shim_target(shim, text, &target, &why);
	assert_true(r >= 0);
	got[0] = '\0';
	if (r == 1) {
		size_t l = strlen(root) + strlen("/versions/");

		assert_int_equal(strncmp(target, root, strlen(root)), 0);
		snprintf(got, sizeof(got), "%.*s", (int)strcspn(target + l, "/"),
			 target + l);
	}
	free(target);
	return got;
}

static void test_pyenv(void **unused)
{
	char p[512], dir[512];

	(void)unused;
	make_root();
	unsetenv("PYENV_VERSION");
	unsetenv("PYENV_DIR");
	setenv("PYENV_HOOK_PATH", "", 1);
	setenv("PATH", "/usr/bin:/bin", 1);

	setenv("PYENV_VERSION", "a", 1);
	assert_string_equal(resolve(), "a");
	setenv("PYENV_VERSION", "b", 1);
	assert_string_equal(resolve(), "b");
	setenv("PYENV_VERSION", "python-b", 1);
	assert_string_equal(resolve(), "b");
	setenv("PYENV_VERSION", "nosuch:b", 1);
	assert_string_equal(resolve(), ""); /* pyenv's prefix rules */
	setenv("PYENV_VERSION", "b/../a", 1);
	assert_string_equal(resolve(), "");
	unsetenv("PYENV_VERSION");

	/* $PYENV_ROOT/version, then a .python-version from PYENV_DIR up. */
	snprintf(p, sizeof(p), "%s/version", root);
	write_file(p, "# comment\n\nb\n", 0644);
	snprintf(dir, sizeof(dir), "%s/proj/deep", tmpdir);
	snprintf(p, sizeof(p), "mkdir -p %s", dir);
	assert_int_equal(system(p), 0);
	setenv("PYENV_DIR", dir, 1);
	assert_string_equal(resolve(), "b");
	snprintf(p, sizeof(p), "%s/proj/.python-version", tmpdir);
	write_file(p, "a\n", 0644);
	assert_string_equal(resolve(), "a");
	setenv("PYENV_DIR", "relative/dir", 1);
	assert_string_equal(resolve(), "");
	setenv("PYENV_DIR", dir, 1);

	/* One word per line counts; the first version that has the
	 * command wins, so a later one pyenv would not resolve is never
	 * looked at. */
	write_file(p, "b a\nnosuch\n", 0644);
	assert_string_equal(resolve(), "b");
	write_file(p, "nosuch\nb\n", 0644);
	assert_string_equal(resolve(), "");
	write_file(p, "a\nb\n", 0644);
	snprintf(p, sizeof(p), "%s/versions/a/bin/python3", root);
	assert_int_equal(chmod(p, 0644), 0);
	assert_string_equal(resolve(), "b");
	assert_int_equal(chmod(p, 0755), 0);
	assert_string_equal(resolve(), "a");

	/* An unknown hook script, a shim of another text: unresolved. */
	snprintf(p, sizeof(p), "mkdir -p %s/pyenv.d/which", root);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/pyenv.d/which/mine.bash", root);
	write_file(p, "PYENV_COMMAND_PATH=/bin/true\n", 0644);
	assert_string_equal(resolve(), "");
	snprintf(p, sizeof(p), "%s/pyenv.d/which/conda.bash", root);
	snprintf(dir, sizeof(dir), "%s/pyenv.d/which/mine.bash", root);
	assert_int_equal(rename(dir, p), 0);
	assert_string_equal(resolve(), "a");
	snprintf(p, sizeof(p), "%s/shims/python3", root);
	{
		FILE *f = fopen(p, "a");

		assert_non_null(f);
		fputs("export PYENV_VERSION=b\n", f);
		fclose(f);
	}
	assert_string_equal(resolve(), "");
	unsetenv("PYENV_DIR");
	unsetenv("PYENV_HOOK_PATH");
}

/* filekey_env: every variable a prefix matches, by its whole name, a
 * long one too (a fixed buffer once skipped names of 256+ characters). */
static void test_filekey_env(void **unused)
{
	static const char *const prefixes[] = {"SPOKETEST_", "SPOKEONE=",
					       NULL};
	char name[301];
	json_t *env = json_object();

	(void)unused;
	memset(name, 'X', sizeof(name) - 1);
	memcpy(name, "SPOKETEST_", 10);
	name[sizeof(name) - 1] = '\0';
	setenv(name, "long", 1);
	setenv("SPOKETEST_A", "a", 1);
	setenv("SPOKEONE", "one", 1);
	setenv("SPOKEONEMORE", "no", 1);
	assert_non_null(env);
	assert_int_equal(filekey_env(env, prefixes), 0);
	assert_string_equal(json_string_value(json_object_get(env, name)),
			    "long");
	assert_string_equal(
	    json_string_value(json_object_get(env, "SPOKETEST_A")), "a");
	assert_string_equal(json_string_value(json_object_get(env, "SPOKEONE")),
			    "one");
	assert_null(json_object_get(env, "SPOKEONEMORE"));
	assert_int_equal(json_object_size(env), 3);
	unsetenv(name);
	unsetenv("SPOKETEST_A");
	unsetenv("SPOKEONE");
	unsetenv("SPOKEONEMORE");
	json_decref(env);
}

static int setup(void **state)
{
	char *cache;

	if (setup_dir(state) < 0)
		return -1;
	cache = tpath("xdg");
	/* The folder above the cache is the user's to make (cache.h). */
	if (mkdir(cache, 0700) < 0)
		return -1;
	setenv("XDG_CACHE_HOME", cache, 1);
	unsetenv("SPOKE_NO_CACHE");
	free(cache);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_and_key),
	    cmocka_unit_test(test_damaged_entries),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_filekeys),
	    cmocka_unit_test(test_filekey_env),
	    cmocka_unit_test(test_pyenv),
	};

	return cmocka_run_group_tests(tests, setup, teardown_dir);
}
