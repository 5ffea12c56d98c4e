/*
 * Unit tests of common/tmpfile and common/dirs: the one recipe by which
 * spoke writes a file, on real files in a fresh mkdtemp() directory.  What
 * another user may plant at a name (a symlink, a file) is planted here,
 * and must never be followed, truncated or removed.
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
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/dirs.h"
#include "common/fsx.h"
#include "common/path.h"
#include "common/tmpfile.h"

#define SCRATCH_NAME "tmpfile"
#include "tests/unit/scratch.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
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

/* The names in tmpdir, sorted and joined by spaces, into buf. */
static const char *listing(char *buf, size_t len)
{
	struct dirent **names;
	int i, n = scandir(tmpdir, &names, NULL, alphasort);
	size_t used = 0;

	assert_true(n >= 0);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") &&
		    strcmp(names[i]->d_name, ".."))
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 used ? " " : "",
						 names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return buf;
}

#define ASSERT_LISTING(expected)                                       \
	do {                                                           \
		char buf_[4096];                                       \
		assert_string_equal(listing(buf_, sizeof(buf_)),       \
				    (expected));                       \
	} while (0)

/* --- names --- */

static void test_name_is_random_and_fits(void **state)
{
	char a[NAME_MAX + 1], b[NAME_MAX + 1], longname[400];
	struct sp_err e;
	size_t n;

	(void)state;
	assert_int_equal(tmpfile_name(a, sizeof(a), "x-1.0.whl", &e), 0);
	assert_int_equal(tmpfile_name(b, sizeof(b), "x-1.0.whl", &e), 0);
	assert_string_not_equal(a, b);
	/* ".x-1.0.whl." + 24 hex digits + ".spoke-tmp" */
	n = strlen(".x-1.0.whl.");
	assert_int_equal(strlen(a), n + 24 + strlen(".spoke-tmp"));
	assert_memory_equal(a, ".x-1.0.whl.", n);
	assert_int_equal(strspn(a + n, "0123456789abcdef"), 24);
	assert_string_equal(a + n + 24, ".spoke-tmp");
	/* A final name near the limit is shortened, the random part kept. */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(tmpfile_name(a, sizeof(a), longname, &e), 0);
	assert_true(strlen(a) <= NAME_MAX);
	assert_string_equal(a + strlen(a) - strlen(".spoke-tmp"), ".spoke-tmp");
}

/* --- the recipe --- */

static void test_write_buf_puts_file_in_place(void **state)
{
	char *p = tpath("out.whl");
	struct sp_err e;
	struct stat st;

	(void)state;
	assert_int_equal(tmpfile_write_buf(tmpfd, tmpdir, "out.whl", "first", 5,
					   0600, &e),
			 0);
	assert_file_is(p, "first");
	assert_int_equal(tmpfile_write_buf(tmpfd, tmpdir, "out.whl", "second!",
					   7, 0600, &e),
			 0);
	assert_file_is(p, "second!");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	ASSERT_LISTING("out.whl");
	free(p);
}

/* Attack 1 of issue 15 in small: a symlink planted at the final name,
 * pointing at a file that must not change.  The rename replaces the
 * symlink itself; the file it pointed at keeps its bytes. */
static void test_symlink_at_final_is_replaced_not_followed(void **state)
{
	char *victim = tpath("victim"), *p = tpath("out.debug");
	struct sp_err e;
	struct stat st;

	(void)state;
	write_file(victim, "root's secret");
	assert_int_equal(symlink(victim, p), 0);
	assert_int_equal(tmpfile_write_buf(tmpfd, tmpdir, "out.debug", "DWARF",
					   5, 0644, &e),
			 0);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_file_is(p, "DWARF");
	assert_file_is(victim, "root's secret");
	ASSERT_LISTING("out.debug victim");
	free(victim);
	free(p);
}

/* A name chosen by someone else (the coordinator's, journaled) at which
 * a symlink or a file already stands: creation fails, nothing is written
 * through the symlink, and what stood there is not removed. */
static void test_named_refuses_planted_symlink_and_file(void **state)
{
	char *victim = tpath("victim"), *lnk = tpath(".w.spoke-tmp");
	char *file = tpath(".f.spoke-tmp");
	struct tmpfile t;
	struct sp_err e;
	struct stat st;

	(void)state;
	write_file(victim, "keep");
	assert_int_equal(symlink(victim, lnk), 0);
	assert_int_equal(tmpfile_create_named(&t, tmpfd, tmpdir, ".w.spoke-tmp",
					      0644, &e),
			 -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(e.msg, ".w.spoke-tmp"));
	assert_int_equal(t.fd, -1);
	tmpfile_discard(&t);
	assert_int_equal(lstat(lnk, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_file_is(victim, "keep");

	/* A dangling symlink: O_CREAT would follow it and create its target
	 * without O_NOFOLLOW and O_EXCL. */
	assert_int_equal(unlink(victim), 0);
	assert_int_equal(tmpfile_create_named(&t, tmpfd, tmpdir, ".w.spoke-tmp",
					      0644, &e),
			 -1);
	assert_false(path_exists(victim));

	write_file(file, "theirs");
	assert_int_equal(tmpfile_create_named(&t, tmpfd, tmpdir, ".f.spoke-tmp",
					      0644, &e),
			 -1);
	tmpfile_discard(&t);
	assert_file_is(file, "theirs");
	ASSERT_LISTING(".f.spoke-tmp .w.spoke-tmp");
	free(victim);
	free(lnk);
	free(file);
}

static void test_named_commit_without_dirsync(void **state)
{
	char *p = tpath("w.whl"), *tmp = tpath(".w.spoke-tmp");
	struct tmpfile t;
	struct sp_err e;

	(void)state;
	assert_int_equal(tmpfile_create_named(&t, tmpfd, tmpdir, ".w.spoke-tmp",
					      0644, &e),
			 0);
	assert_true(path_exists(tmp));
	free(tmp);
	assert_int_equal(tmpfile_write(&t, "zip", 3, &e), 0);
	assert_int_equal(tmpfile_commit(&t, "w.whl", TMPFILE_NO_DIRSYNC, &e),
			 0);
	assert_int_equal(t.fd, -1);
	assert_int_equal(t.slot, -1);
	assert_file_is(p, "zip");
	ASSERT_LISTING("w.whl");
	free(p);
}

/* A rename that fails (a folder holds the final name) leaves the folder
 * as it was: no temporary beside it. */
static void test_failed_rename_leaves_nothing(void **state)
{
	char *d = tpath("out.whl"), *inner = tpath("out.whl/x");
	struct tmpfile t;
	struct sp_err e;

	(void)state;
	assert_int_equal(mkdir(d, 0700), 0);
	write_file(inner, "x");
	assert_int_equal(tmpfile_create(&t, tmpfd, tmpdir, "out.whl", 0644, &e),
			 0);
	assert_int_equal(tmpfile_write(&t, "data", 4, &e), 0);
	assert_int_equal(tmpfile_commit(&t, "out.whl", 0, &e), -1);
	assert_non_null(strstr(e.msg, "cannot rename"));
	assert_non_null(strstr(e.msg, "out.whl"));
	ASSERT_LISTING("out.whl");
	free(d);
	free(inner);
}

static void test_noreplace_keeps_existing(void **state)
{
	char *p = tpath("bundle.tar.zst");
	struct tmpfile t;
	struct sp_err e;

	(void)state;
	write_file(p, "older");
	assert_int_equal(
		tmpfile_create(&t, tmpfd, tmpdir, "bundle.tar.zst", 0644, &e), 0);
	assert_int_equal(tmpfile_write(&t, "newer", 5, &e), 0);
	assert_int_equal(
		tmpfile_commit(&t, "bundle.tar.zst", TMPFILE_NOREPLACE, &e),
		-1);
	assert_non_null(strstr(e.msg, "File exists"));
	assert_file_is(p, "older");
	ASSERT_LISTING("bundle.tar.zst");
	free(p);
}

static void test_discard_removes(void **state)
{
	struct tmpfile t;
	struct sp_err e;

	(void)state;
	assert_int_equal(tmpfile_create(&t, tmpfd, tmpdir, "a.whl", 0644, &e),
			 0);
	assert_int_equal(tmpfile_write(&t, "half", 4, &e), 0);
	assert_true(t.name[0] == '.');
	tmpfile_discard(&t);
	tmpfile_discard(&t); /* twice is harmless */
	ASSERT_LISTING("");
}

/* A scratch file is readable and writable and never shows in the
 * folder, while open or after; a folder that cannot take it gives an
 * error naming the folder. */
static void test_anon_leaves_nothing(void **state)
{
	struct sp_err e;
	char buf[8];
	int fd, ro;

	(void)state;
	fd = tmpfile_anon(tmpfd, tmpdir, "lib.so", &e);
	assert_true(fd >= 0);
	ASSERT_LISTING("");
	assert_int_equal(pwrite(fd, "patched", 7, 0), 7);
	assert_int_equal(pread(fd, buf, 7, 0), 7);
	assert_memory_equal(buf, "patched", 7);
	close(fd);
	ASSERT_LISTING("");
	ro = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(ro >= 0);
	assert_int_equal(tmpfile_anon(ro, "/proc", "lib.so", &e), -1);
	assert_non_null(strstr(e.msg, "'/proc"));
	close(ro);
}

/* The errors of the descriptor are reported, naming the file, and the
 * temporary is removed: a write that fails (here: the descriptor is
 * read-only), an fsync that fails (here: a pipe). */
static void test_fd_errors_are_reported(void **state)
{
	struct tmpfile t;
	struct sp_err e;
	char label[PATH_MAX];
	int p[2];

	(void)state;
	assert_int_equal(tmpfile_create(&t, tmpfd, tmpdir, "a.whl", 0644, &e),
			 0);
	snprintf(label, sizeof(label), "%s/%s", tmpdir, t.name);
	close(t.fd);
	t.fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(tmpfile_write(&t, "x", 1, &e), -1);
	assert_non_null(strstr(e.msg, "cannot write"));
	assert_non_null(strstr(e.msg, label));
	tmpfile_discard(&t);
	ASSERT_LISTING("");

	assert_int_equal(tmpfile_create(&t, tmpfd, tmpdir, "a.whl", 0644, &e),
			 0);
	snprintf(label, sizeof(label), "%s/%s", tmpdir, t.name);
	assert_int_equal(pipe(p), 0);
	close(t.fd);
	t.fd = p[1];
	assert_int_equal(tmpfile_commit(&t, "a.whl", 0, &e), -1);
	assert_non_null(strstr(e.msg, "cannot fsync"));
	assert_non_null(strstr(e.msg, label));
	close(p[0]);
	ASSERT_LISTING("");
}

/* The folder's descriptor is the temporary's own: the caller may close
 * its copy, and a rename of the folder's path does not move the write. */
static void test_dirfd_is_held(void **state)
{
	struct tmpfile t;
	struct sp_err e;
	char *sub = tpath("sub"), *moved = tpath("moved");
	int fd;

	(void)state;
	assert_int_equal(mkdir(sub, 0700), 0);
	fd = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(tmpfile_create(&t, fd, sub, "f", 0644, &e), 0);
	close(fd);
	assert_int_equal(rename(sub, moved), 0);
	assert_int_equal(symlink("/", sub), 0);
	assert_int_equal(tmpfile_write(&t, "ok", 2, &e), 0);
	assert_int_equal(tmpfile_commit(&t, "f", 0, &e), 0);
	free(sub);
	sub = tpath("moved/f");
	assert_file_is(sub, "ok");
	free(sub);
	free(moved);
}

/* SIGTERM removes the temporaries of the process that made them, and a
 * forked child dying of SIGTERM never removes its parent's. */
static void test_signal_removes_own_only(void **state)
{
	struct tmpfile mine;
	struct sp_err e;
	char *parent_tmp;
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(tmpfile_create(&mine, tmpfd, tmpdir, "p.whl", 0644, &e),
			 0);
	parent_tmp = tpath(mine.name);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct tmpfile t;

		tmpfile_remove_on_signals();
		if (tmpfile_create(&t, tmpfd, tmpdir, "c.whl", 0644, &e) < 0)
			_exit(3);
		raise(SIGTERM);
		_exit(4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	/* The child's temporary is gone, the parent's is still there. */
	assert_true(path_exists(parent_tmp));
	ASSERT_LISTING(mine.name);
	tmpfile_discard(&mine);
	ASSERT_LISTING("");
	free(parent_tmp);
}

/* --- folders by descriptor --- */

static void test_dirs_create_chain_nofollow(void **state)
{
	char *p = tpath("debug/.build-id/ab"), *q = tpath("debug/.build-id");
	struct sp_err e;
	struct stat st;
	int fd;

	(void)state;
	fd = dirs_open(p, DIRS_CREATE, 0750, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Existing real folders are entered again. */
	fd = dirs_open(p, DIRS_CREATE, 0750, &e);
	assert_true(fd >= 0);
	close(fd);
	/* A symlink planted at a folder spoke makes is refused, by name. */
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(symlink("/etc", p), 0);
	assert_int_equal(dirs_open(p, DIRS_CREATE, 0750, &e), -1);
	assert_non_null(strstr(e.msg, "symbolic link"));
	assert_non_null(strstr(e.msg, p));
	/* Higher up too, with or without DIRS_CREATE. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rmdir(q), 0);
	assert_int_equal(symlink("/etc", q), 0);
	assert_int_equal(dirs_open(p, DIRS_CREATE, 0750, &e), -1);
	assert_non_null(strstr(e.msg, q));
	assert_int_equal(dirs_open(q, 0, 0, &e), -1);
	/* A dangling one is not followed to create its target. */
	assert_int_equal(unlink(q), 0);
	free(p);
	p = tpath("gone");
	assert_int_equal(symlink(p, q), 0);
	assert_int_equal(dirs_open(q, DIRS_CREATE | DIRS_FOLLOW, 0750, &e),
			 -1);
	assert_false(path_exists(p));
	free(p);
	free(q);
}

static void test_dirs_follow_user_path_and_resolve(void **state)
{
	char *real = tpath("real"), *lnk = tpath("link"), *sub;
	char *resolved = NULL, *want;
	struct sp_err e;
	int fd;

	(void)state;
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, lnk), 0);
	/* The user's path may hold symlinks: followed once, then held. */
	sub = tpath("link/wheelhouse");
	fd = dirs_resolve(sub, 1, 0755, &resolved, &e);
	assert_true(fd >= 0);
	close(fd);
	want = tpath("real/wheelhouse");
	/* tmpdir itself may sit under a symlink (/tmp on some systems). */
	assert_non_null(strstr(resolved, "/real/wheelhouse"));
	assert_true(path_exists(want));
	/* The resolved path opens again with none followed... */
	fd = dirs_open(resolved, 0, 0, &e);
	assert_true(fd >= 0);
	close(fd);
	/* ...while the user's path does not. */
	assert_int_equal(dirs_open(sub, 0, 0, &e), -1);
	assert_non_null(strstr(e.msg, lnk));
	/* ".." climbs only in a user's path. */
	free(sub);
	sub = tpath("real/../real");
	assert_int_equal(dirs_open(sub, 0, 0, &e), -1);
	fd = dirs_open(sub, DIRS_FOLLOW, 0, &e);
	assert_true(fd >= 0);
	close(fd);
	/* A file where a folder should be. */
	free(sub);
	sub = tpath("file");
	write_file(sub, "x");
	assert_int_equal(dirs_open(sub, DIRS_CREATE, 0755, &e), -1);
	assert_non_null(strstr(e.msg, "not a directory"));
	free(sub);
	free(real);
	free(lnk);
	free(want);
	free(resolved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_is_random_and_fits),
		cmocka_unit_test_setup_teardown(
			test_write_buf_puts_file_in_place, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_symlink_at_final_is_replaced_not_followed,
			setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_named_refuses_planted_symlink_and_file, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_named_commit_without_dirsync, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_failed_rename_leaves_nothing, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(test_noreplace_keeps_existing,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_anon_leaves_nothing,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_discard_removes,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_fd_errors_are_reported,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_dirfd_is_held, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_signal_removes_own_only,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_dirs_create_chain_nofollow, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_dirs_follow_user_path_and_resolve, setup_dir,
			teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
