/*
 * Unit tests of common/fsx: the durable file recipes, on real files in a
 * fresh mkdtemp() directory.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/path.h"

#define SCRATCH_NAME "fsx"
#include "tests/unit/scratch.h"

/* The file name in tmpdir as the *_at operations take it: the folder's
 * descriptor and the bare name, with path (from tpath) for messages. */
static struct fsx_at at(const char *name, const char *path)
{
	struct fsx_at f = {tmpfd, name, path};

	return f;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void assert_file_is(const char *path, const char *text)
{
	struct sp_err e;
	size_t len = 0;
	char *got = fsx_read_all(path, &len, &e);

	assert_non_null(got);
	assert_int_equal(len, strlen(text));
	assert_string_equal(got, text);
	free(got);
}

/* --- identity --- */

static void test_ident_of_reports_inode_size_mtime(void **state)
{
	char *p = tpath("f");
	struct fsx_ident id;
	struct sp_err e;
	struct stat st;

	(void)state;
	write_file(p, "12345");
	assert_int_equal(fsx_ident_of(p, &id, &e), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(id.ino, st.st_ino);
	assert_int_equal(id.dev, st.st_dev);
	assert_int_equal(id.size, 5);
	assert_int_equal(id.mtime_ns, (int64_t)st.st_mtim.tv_sec * 1000000000LL +
					      st.st_mtim.tv_nsec);
	free(p);
}

static void test_ident_of_missing_sets_enoent(void **state)
{
	char *p = tpath("nope");
	struct fsx_ident id;
	struct sp_err e;

	(void)state;
	errno = 0;
	assert_int_equal(fsx_ident_of(p, &id, &e), -1);
	/* Replay tells "absent" from "cannot look" by errno. */
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(e.msg, p));
	free(p);
}

static void test_ident_same_rules(void **state)
{
	struct fsx_ident a = {.dev = 1, .ino = 2, .size = 3, .mtime_ns = 4};
	struct fsx_ident b = a;

	(void)state;
	assert_true(fsx_ident_same(&a, &b, 1));
	b.ino = 99;
	assert_false(fsx_ident_same(&a, &b, 1));
	/* A copy has its own inode: without same_inode only size and mtime
	 * count. */
	assert_true(fsx_ident_same(&a, &b, 0));
	b = a;
	b.dev = 7;
	assert_false(fsx_ident_same(&a, &b, 1));
	b = a;
	b.size = 30;
	assert_false(fsx_ident_same(&a, &b, 0));
	b = a;
	b.mtime_ns = 5;
	assert_false(fsx_ident_same(&a, &b, 0));
}

/* --- renames, links, unlinks --- */

static void test_rename_noreplace_refuses_existing(void **state)
{
	char *from = tpath("from"), *to = tpath("to");
	struct fsx_at f = at("from", from), t = at("to", to);
	struct sp_err e;

	(void)state;
	write_file(from, "new");
	write_file(to, "cargo wrote this");
	errno = 0;
	assert_int_equal(fsx_rename_at(&f, &t, 1, 1, &e), -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(e.msg, to));
	/* Neither file was touched. */
	assert_file_is(from, "new");
	assert_file_is(to, "cargo wrote this");
	free(from);
	free(to);
}

static void test_rename_noreplace_moves_inode(void **state)
{
	char *from = tpath("from"), *to = tpath("to");
	struct fsx_at f = at("from", from), t = at("to", to);
	struct fsx_ident before, after;
	struct sp_err e;

	(void)state;
	write_file(from, "bytes");
	assert_int_equal(fsx_ident_of(from, &before, &e), 0);
	assert_int_equal(fsx_rename_at(&f, &t, 1, 1, &e), 0);
	assert_false(path_exists(from));
	assert_int_equal(fsx_ident_of(to, &after, &e), 0);
	assert_true(fsx_ident_same(&before, &after, 1));
	free(from);
	free(to);
}

static void test_rename_replaces(void **state)
{
	char *from = tpath("from"), *to = tpath("to");
	struct fsx_at f = at("from", from), t = at("to", to);
	struct sp_err e;

	(void)state;
	write_file(from, "new");
	write_file(to, "old");
	assert_int_equal(fsx_rename_at(&f, &t, 0, 1, &e), 0);
	assert_false(path_exists(from));
	assert_file_is(to, "new");
	/* Without sync, for batches that fsync the folder once at the end. */
	assert_int_equal(fsx_rename_at(&t, &f, 0, 0, &e), 0);
	assert_false(path_exists(to));
	assert_file_is(from, "new");
	free(from);
	free(to);
}

static void test_link_shares_inode(void **state)
{
	char *from = tpath("from"), *to = tpath("to");
	struct fsx_at f = at("from", from), t = at("to", to);
	struct sp_err e;
	struct stat a, b;

	(void)state;
	write_file(from, "x");
	assert_int_equal(fsx_link_at(&f, &t, 1, &e), 0);
	assert_int_equal(stat(from, &a), 0);
	assert_int_equal(stat(to, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_nlink, 2);
	/* A second link onto an existing name fails with EEXIST: staging
	 * relies on that. */
	errno = 0;
	assert_int_equal(fsx_link_at(&f, &t, 0, &e), -1);
	assert_int_equal(errno, EEXIST);
	free(from);
	free(to);
}

static void test_unlink_missing_ok(void **state)
{
	char *p = tpath("gone");
	struct fsx_at f = at("gone", p);
	struct sp_err e;

	(void)state;
	assert_int_equal(fsx_unlink_at(&f, 1, 1, &e), 0);
	errno = 0;
	assert_int_equal(fsx_unlink_at(&f, 0, 1, &e), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(e.msg, p));
	write_file(p, "x");
	assert_int_equal(fsx_unlink_at(&f, 0, 1, &e), 0);
	assert_false(path_exists(p));
	write_file(p, "x");
	assert_int_equal(fsx_unlink_at(&f, 0, 0, &e), 0);
	assert_false(path_exists(p));
	free(p);
}

/* --- copy --- */

static void test_copy_keeps_bytes_mode_mtime(void **state)
{
	char *from = tpath("from"), *to = tpath("to");
	struct fsx_at f = at("from", from), t = at("to", to);
	struct timespec times[2] = {{.tv_sec = 1000000000, .tv_nsec = 123456789},
				    {.tv_sec = 1234567890, .tv_nsec = 987654321}};
	struct sp_err e;
	struct stat a, b;
	char big[200000];
	size_t i;
	FILE *out;

	(void)state;
	/* Larger than one read buffer, with a pattern that shows an offset
	 * mistake. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 23);
	out = fopen(from, "w");
	assert_non_null(out);
	assert_int_equal(fwrite(big, 1, sizeof(big), out), sizeof(big));
	assert_int_equal(fclose(out), 0);
	assert_int_equal(chmod(from, 0751), 0);
	assert_int_equal(utimensat(AT_FDCWD, from, times, 0), 0);

	assert_int_equal(fsx_copy_at(&f, &t, &e), 0);
	assert_int_equal(stat(from, &a), 0);
	assert_int_equal(stat(to, &b), 0);
	assert_int_not_equal(a.st_ino, b.st_ino);
	assert_int_equal(b.st_size, sizeof(big));
	assert_int_equal(b.st_mode & 07777, 0751);
	/* Cargo judges freshness by mtime, to the nanosecond. */
	assert_int_equal(b.st_mtim.tv_sec, 1234567890);
	assert_int_equal(b.st_mtim.tv_nsec, 987654321);
	{
		size_t len = 0;
		char *got = fsx_read_all(to, &len, &e);

		assert_non_null(got);
		assert_int_equal(len, sizeof(big));
		assert_memory_equal(got, big, sizeof(big));
		free(got);
	}
	free(from);
	free(to);
}

/* fsx.h promises the copy keeps the mode.  open(2)'s mode is filtered by
 * the umask, so a mode with bits the umask clears must still come through
 * (a group-writable cargo output under umask 022, say). */
static void test_copy_keeps_mode_despite_umask(void **state)
{
	char *from = tpath("from"), *to = tpath("to");
	struct fsx_at f = at("from", from), t = at("to", to);
	struct sp_err e;
	mode_t old;
	struct stat b;
	int rc;

	(void)state;
	write_file(from, "x");
	assert_int_equal(chmod(from, 0775), 0);
	old = umask(022);
	rc = fsx_copy_at(&f, &t, &e);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(to, &b), 0);
	assert_int_equal(b.st_mode & 07777, 0775);
	free(from);
	free(to);
}

static void test_copy_refuses_existing_target(void **state)
{
	char *from = tpath("from"), *to = tpath("to");
	struct fsx_at f = at("from", from), t = at("to", to);
	struct sp_err e;

	(void)state;
	write_file(from, "new");
	write_file(to, "keep me");
	assert_int_equal(fsx_copy_at(&f, &t, &e), -1);
	assert_non_null(strstr(e.msg, to));
	/* The failed copy must not remove a file it did not create. */
	assert_file_is(to, "keep me");
	free(from);
	free(to);
}

static void test_copy_missing_source(void **state)
{
	char *from = tpath("nope"), *to = tpath("to");
	struct fsx_at f = at("nope", from), t = at("to", to);
	struct sp_err e;

	(void)state;
	assert_int_equal(fsx_copy_at(&f, &t, &e), -1);
	assert_non_null(strstr(e.msg, from));
	assert_false(path_exists(to));
	free(from);
	free(to);
}

/* --- directories --- */

static void test_mkdir_p_creates_chain(void **state)
{
	char *p = tpath("a/b/c"), *q = tpath("a/b/c/");
	struct sp_err e;
	struct stat st;

	(void)state;
	assert_int_equal(fsx_mkdir_p(p, 0700, &e), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Existing directories, with or without a trailing slash, are fine. */
	assert_int_equal(fsx_mkdir_p(p, 0700, &e), 0);
	assert_int_equal(fsx_mkdir_p(q, 0700, &e), 0);
	assert_int_equal(fsx_mkdir_p("", 0700, &e), -1);
	free(p);
	free(q);
}

/* Like mkdir -p: a regular file where the directory should be is an
 * error, not a success that makes the next open fail with ENOTDIR. */
static void test_mkdir_p_refuses_file(void **state)
{
	char *p = tpath("file");
	struct sp_err e;

	(void)state;
	write_file(p, "x");
	assert_int_equal(fsx_mkdir_p(p, 0700, &e), -1);
	assert_non_null(strstr(e.msg, p));
	free(p);
}

static void test_read_all_and_exists(void **state)
{
	char *p = tpath("r"), *missing = tpath("missing");
	struct sp_err e;
	size_t len = 99;
	char *got;

	(void)state;
	write_file(p, "");
	got = fsx_read_all(p, &len, &e);
	assert_non_null(got);
	assert_int_equal(len, 0);
	assert_string_equal(got, "");
	free(got);
	assert_true(path_exists(p));
	assert_false(path_exists(missing));
	assert_null(fsx_read_all(missing, NULL, &e));
	assert_non_null(strstr(e.msg, missing));
	free(p);
	free(missing);
}

/* A FIFO is refused at once (an alarm fails the test if open waits for
 * a writer); a folder too; a regular file, through a link, is read. */
static void test_read_regular(void **state)
{
	char *fifo = tpath("fifo"), *f = tpath("f"), *l = tpath("l");
	struct sp_err e;
	size_t len = 0;
	char *got;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	assert_null(fsx_read_regular(fifo, &len, &e));
	alarm(0);
	assert_non_null(strstr(e.msg, "is not a regular file"));
	assert_null(fsx_read_regular(tmpdir, &len, &e));
	write_file(f, "abc");
	assert_int_equal(symlink(f, l), 0);
	got = fsx_read_regular(l, &len, &e);
	assert_non_null(got);
	assert_int_equal(len, 3);
	assert_string_equal(got, "abc");
	free(got);
	free(fifo);
	free(f);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_ident_of_reports_inode_size_mtime, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_ident_of_missing_sets_enoent, setup_dir,
			teardown_dir),
		cmocka_unit_test(test_ident_same_rules),
		cmocka_unit_test_setup_teardown(
			test_rename_noreplace_refuses_existing, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_rename_noreplace_moves_inode, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(test_rename_replaces,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_link_shares_inode,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_unlink_missing_ok,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_copy_keeps_bytes_mode_mtime, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_copy_keeps_mode_despite_umask, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_copy_refuses_existing_target, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(test_copy_missing_source,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_mkdir_p_creates_chain,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_mkdir_p_refuses_file,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_regular, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_all_and_exists,
						setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
