/*
 * Unit tests of journal/statedir and of the descriptors it holds: the
 * check of every folder above a state directory (issue 15, finding 2),
 * SPOKE_SAFE_DIRECTORIES, and staging, giving back and replaying after a
 * folder on the state directory's path was swapped for a symlink between
 * two steps, as another local user could do.  Real folders in a fresh
 * mkdtemp() directory; the ownership cases need root (chown) and are
 * skipped without it.
 */
#define _GNU_SOURCE /* asprintf */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/path.h"
#include "journal/journal.h"
#include "journal/replay.h"
#include "journal/stage.h"
#include "journal/statedir.h"

/* Another uid than root and than us: nobody's, on Debian. */
#define OTHER_UID 65534

static char tmpdir[64];

static char *at(const char *rel)
{
	char *p = path_join(tmpdir, rel);

	assert_non_null(p);
	return p;
}

static void mkdir_mode(const char *rel, mode_t mode)
{
	char *p = at(rel);

	assert_int_equal(mkdir(p, mode), 0);
	/* mkdir() applied the umask. */
	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

static int rm_rf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int setup_tmp(void **state)
{
	(void)state;
	unsetenv("SPOKE_SAFE_DIRECTORIES");
	strcpy(tmpdir, "/tmp/spoke-statedir-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	(void)state;
	unsetenv("SPOKE_SAFE_DIRECTORIES");
	return rm_rf(tmpdir);
}

/* statedir_open(create) on <tmpdir>/rel: 0 or -1, with the message. */
static int open_rel(const char *rel, struct sp_err *e)
{
	struct statedir sd = STATEDIR_INIT;
	char *p = at(rel);
	int rc;

	memset(e, 0, sizeof(*e));
	rc = statedir_open(&sd, p, 1, e);
	if (rc == 0) {
		assert_true(sd.fd >= 0 && sd.staged_fd >= 0 &&
			    sd.quarantine_fd >= 0);
		statedir_release(&sd);
	}
	free(p);
	return rc;
}

static void assert_msg_has(const struct sp_err *e, const char *what)
{
	if (!strstr(e->msg, what))
		fail_msg("message '%s' lacks '%s'", e->msg, what);
}

static void assert_absent(const char *rel)
{
	char *p = at(rel);

	assert_false(path_exists(p));
	free(p);
}

/* ------------------------------------------------------------------ */
/* The check of the folders above                                     */
/* ------------------------------------------------------------------ */

static void test_private_path_accepted(void **state)
{
	struct sp_err e;

	(void)state;
	/* /tmp is sticky and root's; mkdtemp's folder is ours and 0700;
	 * the rest is made. */
	assert_int_equal(open_rel("a/b/state", &e), 0);
}

static void test_sticky_root_folder_accepted(void **state)
{
	struct sp_err e;

	(void)state;
	if (geteuid() != 0)
		skip();
	mkdir_mode("shared", 01777);
	assert_int_equal(open_rel("shared/state", &e), 0);
}

static void test_group_writable_parent_refused(void **state)
{
	struct sp_err e;

	(void)state;
	mkdir_mode("grp", 0770);
	assert_int_equal(open_rel("grp/state", &e), -1);
	assert_msg_has(&e, "grp'");
	assert_msg_has(&e, "writable by other users");
	assert_msg_has(&e, "SPOKE_SAFE_DIRECTORIES");
	/* Refused before anything was made below it. */
	assert_absent("grp/state");
}

static void test_other_writable_parent_refused(void **state)
{
	struct sp_err e;

	(void)state;
	mkdir_mode("open", 0777);
	mkdir_mode("open/deeper", 0700);
	assert_int_equal(open_rel("open/deeper/state", &e), -1);
	assert_msg_has(&e, "/open'");
	assert_absent("open/deeper/state");
}

static void test_sticky_not_root_refused(void **state)
{
	struct sp_err e;
	char *p = at("sticky");

	(void)state;
	if (geteuid() != 0)
		skip();
	mkdir_mode("sticky", 01777);
	assert_int_equal(chown(p, OTHER_UID, OTHER_UID), 0);
	assert_int_equal(open_rel("sticky/state", &e), -1);
	assert_msg_has(&e, "sticky'");
	free(p);
}

static void test_parent_of_other_user_refused(void **state)
{
	struct sp_err e;
	char *p = at("theirs");

	(void)state;
	if (geteuid() != 0)
		skip();
	mkdir_mode("theirs", 0755);
	assert_int_equal(chown(p, OTHER_UID, OTHER_UID), 0);
	assert_int_equal(open_rel("theirs/state", &e), -1);
	assert_msg_has(&e, "theirs' is owned by uid 65534");
	assert_msg_has(&e, "SPOKE_SAFE_DIRECTORIES");
	assert_absent("theirs/state");
	/* A folder further up counts as much as the nearest. */
	mkdir_mode("theirs/mine", 0700);
	assert_int_equal(open_rel("theirs/mine/state", &e), -1);
	assert_msg_has(&e, "theirs' is owned by uid 65534");
	free(p);
}

static void test_safe_directories_opt_in(void **state)
{
	struct sp_err e;
	char *p = at("theirs"), *list = NULL;

	(void)state;
	if (geteuid() != 0)
		skip();
	mkdir_mode("theirs", 0777);
	mkdir_mode("theirs/sub", 0755);
	assert_int_equal(chown(p, OTHER_UID, OTHER_UID), 0);
	/* An entry that only shares a prefix of the name covers nothing. */
	assert_true(asprintf(&list, "/nonexistent:%sx", p) > 0);
	setenv("SPOKE_SAFE_DIRECTORIES", list, 1);
	assert_int_equal(open_rel("theirs/sub/state", &e), -1);
	free(list);
	/* The folder itself, with a trailing slash: covers it and below. */
	assert_true(asprintf(&list, "/nonexistent:%s/", p) > 0);
	setenv("SPOKE_SAFE_DIRECTORIES", list, 1);
	assert_int_equal(open_rel("theirs/sub/state", &e), 0);
	assert_int_equal(open_rel("theirs/state2", &e), 0);
	free(list);
	/* A folder above it covers it too. */
	setenv("SPOKE_SAFE_DIRECTORIES", tmpdir, 1);
	assert_int_equal(open_rel("theirs/state3", &e), 0);
	/* Never the state directory itself: it must stay the user's. */
	mkdir_mode("theirs/foreign", 0700);
	free(p);
	p = at("theirs/foreign");
	assert_int_equal(chown(p, OTHER_UID, OTHER_UID), 0);
	assert_int_equal(open_rel("theirs/foreign", &e), -1);
	assert_msg_has(&e, "owned by uid 65534, not by you");
	free(p);
}

static void test_safe_listed(void **state)
{
	(void)state;
	setenv("SPOKE_SAFE_DIRECTORIES", "/a/b::relative:/c/", 1);
	assert_true(statedir_safe_listed("/a/b"));
	assert_true(statedir_safe_listed("/a/b/c"));
	assert_false(statedir_safe_listed("/a/bc"));
	assert_false(statedir_safe_listed("/a"));
	assert_true(statedir_safe_listed("/c"));
	assert_true(statedir_safe_listed("/c/d"));
	assert_false(statedir_safe_listed("relative"));
	setenv("SPOKE_SAFE_DIRECTORIES", "/", 1);
	assert_true(statedir_safe_listed("/anything"));
	unsetenv("SPOKE_SAFE_DIRECTORIES");
	assert_false(statedir_safe_listed("/a/b"));
}

static void test_symlinked_path_resolved(void **state)
{
	struct statedir sd = STATEDIR_INIT;
	struct sp_err e;
	char *link = at("link"), *real = at("real");

	(void)state;
	mkdir_mode("real", 0700);
	assert_int_equal(symlink(real, link), 0);
	free(link);
	link = at("link/state");
	assert_int_equal(statedir_open(&sd, link, 1, &e), 0);
	assert_true(strncmp(sd.path, real, strlen(real)) == 0);
	statedir_release(&sd);
	free(link);
	free(real);
}

static void test_planted_subdirectory_refused(void **state)
{
	struct sp_err e;
	char *elsewhere = at("elsewhere"), *staged = at("s/staged");

	(void)state;
	mkdir_mode("elsewhere", 0700);
	mkdir_mode("s", 0700);
	assert_int_equal(symlink(elsewhere, staged), 0);
	assert_int_equal(open_rel("s", &e), -1);
	assert_msg_has(&e, "/s/staged' is a symbolic link");
	free(elsewhere);
	free(staged);
}

/* ------------------------------------------------------------------ */
/* Swapped for a symlink between two steps                            */
/* ------------------------------------------------------------------ */

/*
 * <tmp>/parent/state is the state directory, held open; <tmp>/target the
 * cargo folder.  swap_parent() does what another user who could write
 * <tmp> would: renames parent/ away and puts a symlink to a folder of its
 * own (<tmp>/evil, with a state/staged/ and state/quarantine/ inside) in
 * its place, so that every path through <state> now leads there.
 */
static struct statedir sd = STATEDIR_INIT;
static struct journal *jr;
static int64_t build;
static char *state_path;

static int setup_swap(void **state)
{
	struct sp_err e;

	if (setup_tmp(state) < 0)
		return -1;
	state_path = at("parent/state");
	if (statedir_open(&sd, state_path, 1, &e) < 0)
		return -1;
	jr = journal_open(sd.path, &e);
	if (!jr || journal_build_begin(jr, "test", &build, &e) < 0)
		return -1;
	mkdir_mode("target", 0755);
	mkdir_mode("evil", 0755);
	mkdir_mode("evil/state", 0755);
	mkdir_mode("evil/state/staged", 0755);
	mkdir_mode("evil/state/quarantine", 0755);
	return 0;
}

static int teardown_swap(void **state)
{
	journal_close(jr);
	jr = NULL;
	statedir_release(&sd);
	free(state_path);
	state_path = NULL;
	return teardown_tmp(state);
}

static void swap_parent(void)
{
	char *parent = at("parent"), *moved = at("parent-moved"),
	     *evil = at("evil");

	assert_int_equal(rename(parent, moved), 0);
	assert_int_equal(symlink(evil, parent), 0);
	free(parent);
	free(moved);
	free(evil);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void assert_bytes(const char *path, const char *text)
{
	size_t len = 0;
	char *got = fsx_read_all(path, &len, NULL);

	assert_non_null(got);
	assert_string_equal(got, text);
	free(got);
}

/* Nothing of ours ever reached the other user's folders, and what it put
 * there is as it left it. */
static void assert_evil_untouched(const char *decoy)
{
	char *staged = at("evil/state/staged"),
	     *q = at("evil/state/quarantine");
	DIR *d;
	struct dirent *de;
	int n = 0;

	d = opendir(staged);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' &&
		    (!decoy || strcmp(de->d_name, path_basename(decoy)) != 0))
			fail_msg("'%s' appeared in the other user's folder",
				 de->d_name);
		else if (de->d_name[0] != '.')
			n++;
	closedir(d);
	assert_int_equal(n, decoy ? 1 : 0);
	if (decoy)
		assert_bytes(decoy, "the other user's bytes");
	d = opendir(q);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			fail_msg("'%s' appeared in the other user's "
				 "quarantine",
				 de->d_name);
	closedir(d);
	free(staged);
	free(q);
}

static char *staged_name(const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/staged/%s", sd.path, name) > 0);
	return p;
}

/* The same name under the state directory's original, moved, place. */
static char *moved_staged(const char *name)
{
	char *rel = NULL, *p;

	assert_true(asprintf(&rel, "parent-moved/state/staged/%s", name) > 0);
	p = at(rel);
	free(rel);
	return p;
}

static void give_back_all(int bad_want)
{
	json_t *r = json_array();
	struct sp_err e;
	int bad = 0;

	if (replay_all(jr, &sd, 0, NULL, 0, r, &bad, &e) < 0)
		fail_msg("replay_all: %s", e.msg);
	assert_int_equal(bad, bad_want);
	json_decref(r);
}

static void stage_one(const char *cargo, const char *staged,
		      enum stage_mode mode)
{
	const char *used = NULL;
	struct sp_err e;
	int64_t id = 0;

	if (stage_artifact(jr, &sd, build, cargo, staged, mode, &id, &used,
			   &e) < 0)
		fail_msg("stage_artifact: %s", e.msg);
}

/* The swap comes between opening the state directory and staging: the
 * link must go into the held staged/, not through the symlink. */
static void test_stage_link_after_swap(void **state)
{
	char *cargo = at("target/libfoo.so"), *staged = staged_name("1-foo"),
	     *real = moved_staged("1-foo");
	struct stat c, s;

	(void)state;
	write_file(cargo, "cargo bytes");
	swap_parent();
	stage_one(cargo, staged, STAGE_LINK);
	assert_int_equal(stat(cargo, &c), 0);
	assert_int_equal(stat(real, &s), 0);
	assert_int_equal(c.st_ino, s.st_ino);
	assert_evil_untouched(NULL);
	give_back_all(0);
	assert_false(path_exists(real));
	assert_bytes(cargo, "cargo bytes");
	assert_evil_untouched(NULL);
	free(cargo);
	free(staged);
	free(real);
}

/* Move mode: the output is renamed into the held staged/ and back. */
static void test_stage_move_after_swap(void **state)
{
	char *cargo = at("target/libfoo.so"), *staged = staged_name("1-foo"),
	     *real = moved_staged("1-foo");
	struct stat before, after;

	(void)state;
	write_file(cargo, "cargo bytes");
	assert_int_equal(stat(cargo, &before), 0);
	swap_parent();
	stage_one(cargo, staged, STAGE_MOVE);
	assert_false(path_exists(cargo));
	assert_bytes(real, "cargo bytes");
	assert_evil_untouched(NULL);
	give_back_all(0);
	assert_int_equal(stat(cargo, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_bytes(cargo, "cargo bytes");
	assert_false(path_exists(real));
	assert_evil_untouched(NULL);
	free(cargo);
	free(staged);
	free(real);
}

/* Staged in move mode, then the swap, with a decoy of the other user at
 * the staged name behind the symlink: replay puts cargo's own file back
 * from the held staged/, and never the decoy. */
static void test_replay_after_swap_ignores_decoy(void **state)
{
	char *cargo = at("target/libfoo.so"), *staged = staged_name("1-foo"),
	     *decoy = at("evil/state/staged/1-foo");
	struct stat before, after;

	(void)state;
	write_file(cargo, "cargo bytes");
	assert_int_equal(stat(cargo, &before), 0);
	stage_one(cargo, staged, STAGE_MOVE);
	swap_parent();
	write_file(decoy, "the other user's bytes");
	give_back_all(0);
	assert_int_equal(stat(cargo, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_bytes(cargo, "cargo bytes");
	assert_evil_untouched(decoy);
	free(cargo);
	free(staged);
	free(decoy);
}

/* A staged file changed by someone, then the swap: it goes to the held
 * quarantine/, not to the other user's. */
static void test_quarantine_after_swap(void **state)
{
	char *cargo = at("target/libfoo.so"), *staged = staged_name("1-foo"),
	     *real = moved_staged("1-foo");
	struct sp_err e;
	char *q;
	int64_t id;
	struct journal_artifact *a = NULL;
	size_t n = 0;

	(void)state;
	write_file(cargo, "cargo bytes");
	stage_one(cargo, staged, STAGE_MOVE);
	assert_int_equal(journal_unsettled_artifacts(jr, build, &a, &n, &e), 0);
	assert_int_equal(n, 1);
	id = a[0].id;
	journal_artifacts_free(a, n);
	write_file(staged, "changed by someone");
	swap_parent();
	give_back_all(1);
	assert_true(asprintf(&q, "%s/parent-moved/state/quarantine/%lld-1-foo",
			     tmpdir, (long long)id) > 0);
	assert_bytes(q, "changed by someone");
	assert_false(path_exists(real));
	assert_evil_untouched(NULL);
	free(q);
	free(cargo);
	free(staged);
	free(real);
}

/* A batch of link-mode stages, the swap between staging and giving back:
 * the batched give-back unlinks the names in the held staged/. */
static void test_batch_give_back_after_swap(void **state)
{
	char *c1 = at("target/liba.so"), *c2 = at("target/libb.so");
	char *s1 = staged_name("1-a"), *s2 = staged_name("1-b");
	char *r1 = moved_staged("1-a"), *r2 = moved_staged("1-b");
	struct stage_item items[2];
	struct sp_err e;

	(void)state;
	write_file(c1, "a");
	write_file(c2, "b");
	memset(items, 0, sizeof(items));
	items[0].cargo_path = c1;
	items[0].staged_path = s1;
	items[1].cargo_path = c2;
	items[1].staged_path = s2;
	if (stage_batch(jr, &sd, build, items, 2, STAGE_LINK, &e) < 0)
		fail_msg("stage_batch: %s", e.msg);
	swap_parent();
	/* The same names behind the symlink, as bait for an unlink. */
	free(s1);
	s1 = at("evil/state/staged/1-a");
	write_file(s1, "the other user's bytes");
	give_back_all(0);
	assert_false(path_exists(r1));
	assert_false(path_exists(r2));
	assert_bytes(c1, "a");
	assert_bytes(c2, "b");
	assert_evil_untouched(s1);
	free(c1);
	free(c2);
	free(s1);
	free(s2);
	free(r1);
	free(r2);
}

/* The journal opened through the held state directory.  SQLite already
 * refuses a path through a symlink (SQLITE_OPEN_NOFOLLOW), so the other
 * user swaps in a real folder of theirs, holding a copy of the journal,
 * in place of the folder above, between spoke's check and SQLite's open
 * (and could swap it back before any later check): everything SQLite
 * reads and writes must still be the held directory's journal. */
static void test_journal_opened_through_held_dir(void **state)
{
	struct statedir held = STATEDIR_INIT;
	struct sp_err e;
	struct journal *j;
	int64_t id;
	size_t before_len = 0, after_len = 0;
	char *path = at("parent/state"), *parent = at("parent"),
	     *moved = at("parent-moved"), *evil = at("evil"),
	     *decoy = at("evil/state/journal.db"),
	     *real = at("parent/state/journal.db"), *before, *after;

	(void)state;
	assert_int_equal(statedir_open(&held, path, 1, &e), 0);
	j = journal_open(held.path, &e);
	assert_non_null(j);
	journal_close(j);
	mkdir_mode("evil", 0755);
	mkdir_mode("evil/state", 0755);
	before = fsx_read_all(real, &before_len, &e);
	assert_non_null(before);
	{
		FILE *f = fopen(decoy, "w");

		assert_non_null(f);
		assert_int_equal(fwrite(before, 1, before_len, f), before_len);
		assert_int_equal(fclose(f), 0);
	}
	assert_int_equal(rename(parent, moved), 0);
	assert_int_equal(rename(evil, parent), 0);
	journal_hold_dir(held.fd, held.path);
	j = journal_open(held.path, &e);
	assert_non_null(j);
	assert_int_equal(journal_build_begin(j, "t", &id, &e), 0);
	journal_close(j);
	journal_hold_dir(-1, NULL);
	/* The copy, now at the path, is as it was. */
	after = fsx_read_all(real, &after_len, &e);
	assert_non_null(after);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	statedir_release(&held);
	free(before);
	free(after);
	free(path);
	free(parent);
	free(moved);
	free(evil);
	free(decoy);
	free(real);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)
#define S(f) cmocka_unit_test_setup_teardown(f, setup_swap, teardown_swap)
	const struct CMUnitTest tests[] = {
	    T(test_private_path_accepted),
	    T(test_sticky_root_folder_accepted),
	    T(test_group_writable_parent_refused),
	    T(test_other_writable_parent_refused),
	    T(test_sticky_not_root_refused),
	    T(test_parent_of_other_user_refused),
	    T(test_safe_directories_opt_in),
	    T(test_safe_listed),
	    T(test_symlinked_path_resolved),
	    T(test_planted_subdirectory_refused),
	    T(test_journal_opened_through_held_dir),
	    S(test_stage_link_after_swap),
	    S(test_stage_move_after_swap),
	    S(test_replay_after_swap_ignores_decoy),
	    S(test_quarantine_after_swap),
	    S(test_batch_give_back_after_swap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
