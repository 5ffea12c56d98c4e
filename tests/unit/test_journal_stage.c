/*
 * Unit tests of journal/stage: staging real cargo outputs with the real
 * journal in a fresh mkdtemp() directory, in link, move and (across
 * filesystems) copy mode, and giving them back.
 */
#define _GNU_SOURCE /* asprintf */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
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

static char tmpdir[64], shmdir[64];
static char *state_dir, *target_dir;
static struct statedir sd = STATEDIR_INIT;
static struct journal *jr;
static int64_t build;

/* State directory under base (the temp dir, or /dev/shm for EXDEV). */
static int open_state(const char *base)
{
	struct sp_err e;

	state_dir = path_join(base, "state");
	if (!state_dir || statedir_prepare(state_dir, &e) < 0)
		return -1;
	jr = journal_open(state_dir, &e);
	if (!jr || journal_build_begin(jr, "test", &build, &e) < 0 ||
	    statedir_open(&sd, state_dir, 1, &e) < 0)
		return -1;
	return 0;
}

static int setup_disk(void **state)
{
	(void)state;
	shmdir[0] = '\0';
	strcpy(tmpdir, "/tmp/spoke-stage-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	target_dir = path_join(tmpdir, "target");
	if (!target_dir || mkdir(target_dir, 0755) < 0)
		return -1;
	return open_state(tmpdir);
}

static int rm_rf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown_disk(void **state)
{
	int rc;

	(void)state;
	journal_close(jr);
	jr = NULL;
	statedir_release(&sd);
	free(state_dir);
	free(target_dir);
	state_dir = target_dir = NULL;
	rc = rm_rf(tmpdir);
	if (shmdir[0] && rm_rf(shmdir) < 0)
		rc = -1;
	return rc;
}

static char *in_target(const char *name)
{
	char *p = path_join(target_dir, name);

	assert_non_null(p);
	return p;
}

static char *in_staged(const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/staged/%s", state_dir, name) > 0);
	return p;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void assert_bytes(const char *path, const char *text)
{
	struct sp_err e;
	size_t len = 0;
	char *got = fsx_read_all(path, &len, &e);

	if (!got)
		fail_msg("%s", e.msg);
	assert_int_equal(len, strlen(text));
	assert_string_equal(got, text);
	free(got);
}

static struct stat stat_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		fail_msg("cannot stat '%s'", path);
	return st;
}

/* The one unsettled artifact of the build, checked against what staging
 * should have journaled. */
static void assert_one_staged_row(int64_t id, const char *cargo,
				  const char *staged, const char *mode,
				  const struct stat *orig)
{
	struct journal_artifact *a = NULL;
	struct sp_err e;
	size_t n = 0;

	assert_int_equal(journal_unsettled_artifacts(jr, build, &a, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].id, id);
	assert_string_equal(a[0].cargo_path, cargo);
	assert_string_equal(a[0].staged_path, staged);
	assert_string_equal(a[0].mode, mode);
	assert_string_equal(a[0].state, "staged");
	assert_string_equal(a[0].patch, "none");
	/* The identity is that of cargo's file before staging. */
	assert_true(a[0].ident.ino == (uint64_t)orig->st_ino);
	assert_true(a[0].ident.dev == (uint64_t)orig->st_dev);
	assert_int_equal(a[0].ident.size, orig->st_size);
	journal_artifacts_free(a, n);
}

static size_t unsettled(void)
{
	struct journal_artifact *a = NULL;
	struct sp_err e;
	size_t n = 0;

	if (journal_unsettled_artifacts(jr, 0, &a, &n, &e) < 0)
		fail_msg("%s", e.msg);
	journal_artifacts_free(a, n);
	return n;
}

static int count_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *sub(const char *name)
{
	char *p = path_join(state_dir, name);

	assert_non_null(p);
	return p;
}

/* Gives back everything of the build; expects one report entry. */
static void give_back_expect(const char *cargo, const char *outcome)
{
	json_t *r = json_array();
	struct sp_err e;
	int bad = 0;

	if (stage_give_back(jr, &sd, build, r, &bad, &e) < 0)
		fail_msg("stage_give_back: %s", e.msg);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(r, 0),
						  "cargo_path")),
		cargo);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(r, 0), "outcome")),
			    outcome);
	assert_int_equal(bad, 0);
	assert_int_equal(unsettled(), 0);
	json_decref(r);
}

static void test_mode_parse(void **state)
{
	enum stage_mode m = STAGE_MOVE;

	(void)state;
	assert_int_equal(stage_mode_parse("link", &m), 0);
	assert_int_equal(m, STAGE_LINK);
	assert_int_equal(stage_mode_parse("move", &m), 0);
	assert_int_equal(m, STAGE_MOVE);
	assert_int_equal(stage_mode_parse("copy", &m), -1);
	assert_int_equal(stage_mode_parse("", &m), -1);
	assert_int_equal(stage_mode_parse("LINK", &m), -1);
}

static void test_link_mode_leaves_cargo_output(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	const char *used = NULL;
	struct stat orig, c, s;
	struct sp_err e;
	int64_t id = 0;

	(void)state;
	write_file(cargo, "cargo bytes");
	orig = stat_of(cargo);
	assert_int_equal(stage_artifact(jr, &sd, build, cargo, staged,
					STAGE_LINK, &id, &used, &e),
			 0);
	assert_string_equal(used, "link");
	c = stat_of(cargo);
	s = stat_of(staged);
	/* Cargo's output never left its path: same inode, now two names. */
	assert_int_equal(c.st_ino, orig.st_ino);
	assert_int_equal(s.st_ino, orig.st_ino);
	assert_int_equal(c.st_nlink, 2);
	assert_int_equal(c.st_mtim.tv_nsec, orig.st_mtim.tv_nsec);
	assert_int_equal(c.st_mtim.tv_sec, orig.st_mtim.tv_sec);
	assert_one_staged_row(id, cargo, staged, "link", &orig);

	give_back_expect(cargo, "restored");
	c = stat_of(cargo);
	assert_int_equal(c.st_ino, orig.st_ino);
	assert_int_equal(c.st_nlink, 1);
	assert_false(path_exists(staged));
	assert_bytes(cargo, "cargo bytes");
	free(cargo);
	free(staged);
}

static void test_move_mode_moves_and_gives_back(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	const char *used = NULL;
	struct stat orig, c, s;
	struct sp_err e;
	int64_t id = 0;

	(void)state;
	write_file(cargo, "cargo bytes");
	orig = stat_of(cargo);
	assert_int_equal(stage_artifact(jr, &sd, build, cargo, staged,
					STAGE_MOVE, &id, &used, &e),
			 0);
	assert_string_equal(used, "move");
	assert_false(path_exists(cargo));
	s = stat_of(staged);
	assert_int_equal(s.st_ino, orig.st_ino);
	assert_int_equal(s.st_nlink, 1);
	assert_one_staged_row(id, cargo, staged, "move", &orig);

	/* A patched artifact is given back the same way: the staged file
	 * itself was never written. */
	assert_int_equal(journal_artifact_patch(jr, id, "applied", &e), 0);
	give_back_expect(cargo, "put_back");
	c = stat_of(cargo);
	assert_int_equal(c.st_ino, orig.st_ino);
	assert_int_equal(c.st_mtim.tv_sec, orig.st_mtim.tv_sec);
	assert_int_equal(c.st_mtim.tv_nsec, orig.st_mtim.tv_nsec);
	assert_false(path_exists(staged));
	assert_bytes(cargo, "cargo bytes");
	free(cargo);
	free(staged);
}

static void test_missing_cargo_output_fails(void **state)
{
	char *cargo = in_target("libnope.so"), *staged = in_staged("1-0-libnope.so");
	char *sdir = sub("staged");
	const char *used = NULL;
	struct sp_err e;
	int64_t id = 0;

	(void)state;
	assert_int_equal(stage_artifact(jr, &sd, build, cargo, staged,
					STAGE_LINK, &id, &used, &e),
			 -1);
	if (!strstr(e.msg, cargo))
		fail_msg("error does not name the path: %s", e.msg);
	assert_int_equal(unsettled(), 0);
	assert_int_equal(count_in(sdir), 0);
	assert_false(path_exists(cargo));
	free(sdir);
	free(cargo);
	free(staged);
}

/* The stray's bytes are still somewhere under the state directory: at
 * its name, or in quarantine/.  Staging must never destroy a file it did
 * not create (it may be what a moved-aside journal's README recovery
 * needs). */
static void assert_stray_survives(const char *staged, const char *text)
{
	char *qdir = sub("quarantine");
	DIR *d;
	struct dirent *de;
	int found = 0;

	{
		struct sp_err e;
		char *got = fsx_read_all(staged, NULL, &e);

		found = got && strcmp(got, text) == 0;
		free(got);
	}
	d = opendir(qdir);
	assert_non_null(d);
	while ((de = readdir(d)) && !found) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = path_join(qdir, de->d_name);
		assert_non_null(p);
		{
			struct sp_err e;
			char *got = fsx_read_all(p, NULL, &e);

			found = got && strcmp(got, text) == 0;
			free(got);
		}
		free(p);
	}
	closedir(d);
	free(qdir);
	if (!found)
		fail_msg("the file that was at '%s' is gone", staged);
}

static void test_link_onto_existing_staged_name_fails(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	const char *used = NULL;
	struct stat orig, c;
	struct sp_err e;
	int64_t id = 0;

	(void)state;
	write_file(cargo, "cargo bytes");
	write_file(staged, "someone else's file");
	orig = stat_of(cargo);
	assert_int_equal(stage_artifact(jr, &sd, build, cargo, staged,
					STAGE_LINK, &id, &used, &e),
			 -1);
	if (!strstr(e.msg, staged))
		fail_msg("error does not name the staged path: %s", e.msg);
	c = stat_of(cargo);
	assert_int_equal(c.st_ino, orig.st_ino);
	assert_int_equal(c.st_nlink, 1);
	assert_bytes(cargo, "cargo bytes");
	assert_int_equal(unsettled(), 0);
	assert_stray_survives(staged, "someone else's file");
	free(cargo);
	free(staged);
}

/* Move mode must not replace an existing staged name either (rename(2)
 * would, silently): same outcome as link mode's EEXIST. */
static void test_move_onto_existing_staged_name_fails(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	const char *used = NULL;
	struct stat orig, c;
	struct sp_err e;
	int64_t id = 0;
	int rc;

	(void)state;
	write_file(cargo, "cargo bytes");
	write_file(staged, "someone else's file");
	orig = stat_of(cargo);
	rc = stage_artifact(jr, &sd, build, cargo, staged, STAGE_MOVE,
			    &id, &used, &e);
	assert_stray_survives(staged, "someone else's file");
	assert_int_equal(rc, -1);
	c = stat_of(cargo);
	assert_int_equal(c.st_ino, orig.st_ino);
	assert_bytes(cargo, "cargo bytes");
	assert_int_equal(unsettled(), 0);
	free(cargo);
	free(staged);
}

/* Only the given build's artifacts go back. */
static void test_give_back_is_per_build(void **state)
{
	char *c1 = in_target("one.so"), *s1 = in_staged("1-one.so");
	char *c2 = in_target("two.so"), *s2 = in_staged("2-two.so");
	const char *used = NULL;
	int64_t b1 = build, b2, id;
	struct sp_err e;
	int bad = 0;
	json_t *r = json_array();

	(void)state;
	assert_int_equal(journal_build_begin(jr, "other", &b2, &e), 0);
	write_file(c1, "one");
	write_file(c2, "two");
	assert_int_equal(stage_artifact(jr, &sd, b1, c1, s1, STAGE_MOVE,
					&id, &used, &e),
			 0);
	assert_int_equal(stage_artifact(jr, &sd, b2, c2, s2, STAGE_MOVE,
					&id, &used, &e),
			 0);
	assert_int_equal(stage_give_back(jr, &sd, b2, r, &bad, &e), 0);
	assert_int_equal(json_array_size(r), 1);
	json_decref(r);
	assert_bytes(c2, "two");
	assert_false(path_exists(s2));
	assert_false(path_exists(c1));
	assert_bytes(s1, "one");
	assert_int_equal(unsettled(), 1);
	free(c1);
	free(s1);
	free(c2);
	free(s2);
}

/* A state directory on another filesystem: the rename fails with EXDEV
 * and the output is copied, cargo's file staying where it is. */
static void check_exdev_copy(enum stage_mode mode)
{
	char *cargo = in_target("libfoo.so"), *staged;
	const char *used = NULL;
	struct stat orig, c, s, shm;
	struct sp_err e;
	int64_t id = 0;

	/* Swap the state directory from the temp dir to /dev/shm. */
	journal_close(jr);
	jr = NULL;
	statedir_release(&sd);
	free(state_dir);
	state_dir = NULL;
	strcpy(shmdir, "/dev/shm/spoke-stage-XXXXXX");
	if (!mkdtemp(shmdir)) {
		shmdir[0] = '\0';
		free(cargo);
		skip();
	}
	assert_int_equal(stat(shmdir, &shm), 0);
	if (shm.st_dev == stat_of(tmpdir).st_dev) {
		free(cargo);
		fprintf(stderr, "skip: /dev/shm and %s are one filesystem\n",
			tmpdir);
		skip();
	}
	assert_int_equal(open_state(shmdir), 0);
	staged = in_staged("1-0-libfoo.so");

	write_file(cargo, "cargo bytes, to be copied");
	orig = stat_of(cargo);
	assert_int_equal(stage_artifact(jr, &sd, build, cargo, staged,
					mode, &id, &used, &e),
			 0);
	assert_string_equal(used, "copy");
	c = stat_of(cargo);
	s = stat_of(staged);
	assert_int_equal(c.st_ino, orig.st_ino);
	assert_int_equal(c.st_nlink, 1);
	assert_true(s.st_dev != orig.st_dev);
	assert_int_equal(s.st_size, orig.st_size);
	assert_int_equal(s.st_mtim.tv_sec, orig.st_mtim.tv_sec);
	assert_int_equal(s.st_mtim.tv_nsec, orig.st_mtim.tv_nsec);
	assert_bytes(staged, "cargo bytes, to be copied");
	assert_bytes(cargo, "cargo bytes, to be copied");
	assert_one_staged_row(id, cargo, staged, "copy", &orig);
	{
		char *tmp = NULL;

		assert_true(asprintf(&tmp, "%s.tmp", staged) > 0);
		assert_false(path_exists(tmp));
		free(tmp);
	}

	give_back_expect(cargo, "restored");
	assert_false(path_exists(staged));
	c = stat_of(cargo);
	assert_int_equal(c.st_ino, orig.st_ino);
	assert_bytes(cargo, "cargo bytes, to be copied");
	free(cargo);
	free(staged);
}

static void test_exdev_move_mode_copies(void **state)
{
	(void)state;
	check_exdev_copy(STAGE_MOVE);
}

static void test_exdev_link_mode_copies(void **state)
{
	(void)state;
	check_exdev_copy(STAGE_LINK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_disk, teardown_disk)
		cmocka_unit_test(test_mode_parse),
		T(test_link_mode_leaves_cargo_output),
		T(test_move_mode_moves_and_gives_back),
		T(test_missing_cargo_output_fails),
		T(test_link_onto_existing_staged_name_fails),
		T(test_move_onto_existing_staged_name_fails),
		T(test_give_back_is_per_build),
		T(test_exdev_move_mode_copies),
		T(test_exdev_link_mode_copies),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
