/*
 * Unit tests of journal/replay: first replay_decide as a pure function, one
 * test per rule, then replay_artifact / replay_all on real files with the
 * real journal in a fresh mkdtemp() directory.  Each crash is simulated by
 * leaving the disk and the journal the way a process killed at that step
 * would leave them; each scenario runs in link and in move mode, and ends by
 * replaying a second time, which must change nothing (replay can itself be
 * killed and run again).
 */
#define _GNU_SOURCE /* asprintf */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
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

/* ------------------------------------------------------------------ */
/* replay_decide, pure                                                */
/* ------------------------------------------------------------------ */

static const struct fsx_ident orig = {
	.dev = 10, .ino = 100, .size = 4096, .mtime_ns = 1700000000000000001LL};

static struct journal_artifact art(const char *mode)
{
	struct journal_artifact a;

	memset(&a, 0, sizeof(a));
	a.id = 1;
	a.build_id = 1;
	snprintf(a.mode, sizeof(a.mode), "%s", mode);
	snprintf(a.state, sizeof(a.state), "staged");
	a.ident = orig;
	return a;
}

static const char *const all_modes[] = {"link", "move", "copy"};

static void test_decide_staged_absent_cargo_present_is_nothing(void **state)
{
	struct replay_disk d = {.cargo_exists = 1, .cargo = orig};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct journal_artifact a = art(all_modes[i]);

		assert_int_equal(replay_decide(&a, &d), REPLAY_NOTHING);
	}
	/* No staged name and a cargo output that is not the one staged:
	 * cargo wrote anew (a replay was killed after dropping the staged
	 * name); reported as kept, nothing to move. */
	d.cargo.ino = 555;
	d.cargo.size = 1;
	for (i = 0; i < 3; i++) {
		struct journal_artifact a = art(all_modes[i]);

		assert_int_equal(replay_decide(&a, &d), REPLAY_KEEP_CARGO);
	}
}

/* A replay killed after moving a changed staged file to quarantine/ and
 * before settling it: the next one must still say "quarantined". */
static void test_decide_already_quarantined(void **state)
{
	struct replay_disk d = {.cargo_exists = 1, .cargo = orig,
				.quarantined_exists = 1};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct journal_artifact a = art(all_modes[i]);

		assert_int_equal(replay_decide(&a, &d), REPLAY_QUARANTINE);
	}
}

static void test_decide_both_absent_is_lost(void **state)
{
	struct replay_disk d = {0};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct journal_artifact a = art(all_modes[i]);

		assert_int_equal(replay_decide(&a, &d), REPLAY_LOST);
	}
}

static void test_decide_staged_size_changed_quarantines(void **state)
{
	struct replay_disk d = {.cargo_exists = 0, .staged_exists = 1};
	size_t i;

	(void)state;
	d.staged = orig;
	d.staged.size++;
	for (i = 0; i < 3; i++) {
		struct journal_artifact a = art(all_modes[i]);

		assert_int_equal(replay_decide(&a, &d), REPLAY_QUARANTINE);
	}
	/* Also when cargo's file is there and untouched: a changed staged
	 * file is never dropped silently. */
	d.cargo_exists = 1;
	d.cargo = orig;
	for (i = 0; i < 3; i++) {
		struct journal_artifact a = art(all_modes[i]);

		assert_int_equal(replay_decide(&a, &d), REPLAY_QUARANTINE);
	}
}

static void test_decide_staged_mtime_changed_quarantines(void **state)
{
	struct replay_disk d = {.cargo_exists = 0, .staged_exists = 1};
	size_t i;

	(void)state;
	d.staged = orig;
	d.staged.mtime_ns += 1; /* one nanosecond is a change */
	for (i = 0; i < 3; i++) {
		struct journal_artifact a = art(all_modes[i]);

		assert_int_equal(replay_decide(&a, &d), REPLAY_QUARANTINE);
	}
}

static void test_decide_staged_inode_differs(void **state)
{
	struct replay_disk d = {.cargo_exists = 0, .staged_exists = 1};
	struct journal_artifact link = art("link"), move = art("move");
	struct journal_artifact copy = art("copy");

	(void)state;
	d.staged = orig;
	d.staged.ino = 101;
	/* A link or a move keeps cargo's inode: another inode at the staged
	 * name is someone else's file. */
	assert_int_equal(replay_decide(&link, &d), REPLAY_QUARANTINE);
	assert_int_equal(replay_decide(&move, &d), REPLAY_QUARANTINE);
	/* A copy has its own inode by construction. */
	assert_int_equal(replay_decide(&copy, &d), REPLAY_COPY_BACK);
	d.cargo_exists = 1;
	d.cargo = orig;
	assert_int_equal(replay_decide(&copy, &d), REPLAY_DROP);
	/* Another device counts like another inode. */
	d.cargo_exists = 0;
	d.staged = orig;
	d.staged.dev = 11;
	assert_int_equal(replay_decide(&move, &d), REPLAY_QUARANTINE);
}

static void test_decide_cargo_same_is_drop(void **state)
{
	struct replay_disk d = {.cargo_exists = 1, .staged_exists = 1};
	struct journal_artifact a = art("link");

	(void)state;
	d.cargo = orig;
	d.staged = orig;
	assert_int_equal(replay_decide(&a, &d), REPLAY_DROP);
}

static void test_decide_cargo_newer_is_keep_cargo(void **state)
{
	struct replay_disk d = {.cargo_exists = 1, .staged_exists = 1};
	size_t i;

	(void)state;
	d.staged = orig;
	d.cargo = orig;
	d.cargo.ino = 200;
	d.cargo.size = 5000;
	d.cargo.mtime_ns += 1000000000LL;
	for (i = 0; i < 3; i++) {
		struct journal_artifact a = art(all_modes[i]);

		assert_int_equal(replay_decide(&a, &d), REPLAY_KEEP_CARGO);
	}
	/* A new inode with the same size and mtime is still cargo's new
	 * file, not ours. */
	d.cargo = orig;
	d.cargo.ino = 201;
	{
		struct journal_artifact a = art("move");

		assert_int_equal(replay_decide(&a, &d), REPLAY_KEEP_CARGO);
	}
}

static void test_decide_cargo_absent_puts_back(void **state)
{
	struct replay_disk d = {.cargo_exists = 0, .staged_exists = 1};
	struct journal_artifact link = art("link"), move = art("move");
	struct journal_artifact copy = art("copy");

	(void)state;
	d.staged = orig;
	assert_int_equal(replay_decide(&link, &d), REPLAY_PUT_BACK);
	assert_int_equal(replay_decide(&move, &d), REPLAY_PUT_BACK);
	d.staged.ino = 999; /* the copy's own inode */
	assert_int_equal(replay_decide(&copy, &d), REPLAY_COPY_BACK);
}

static void test_outcome_words(void **state)
{
	(void)state;
	assert_string_equal(replay_outcome(REPLAY_NOTHING), "restored");
	assert_string_equal(replay_outcome(REPLAY_DROP), "restored");
	assert_string_equal(replay_outcome(REPLAY_KEEP_CARGO), "kept_cargo");
	assert_string_equal(replay_outcome(REPLAY_PUT_BACK), "put_back");
	assert_string_equal(replay_outcome(REPLAY_COPY_BACK), "put_back");
	assert_string_equal(replay_outcome(REPLAY_QUARANTINE), "quarantined");
	assert_string_equal(replay_outcome(REPLAY_LOST), "lost");
}

/* ------------------------------------------------------------------ */
/* On disk                                                            */
/* ------------------------------------------------------------------ */

static char tmpdir[64];
static char *state_dir, *target_dir;
static struct statedir sd = STATEDIR_INIT;
static struct journal *jr;
static int64_t build;

static const enum stage_mode link_mode = STAGE_LINK, move_mode = STAGE_MOVE;

static int setup_disk(void **state)
{
	struct sp_err e;

	(void)state;
	strcpy(tmpdir, "/tmp/spoke-replay-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	state_dir = path_join(tmpdir, "state");
	target_dir = path_join(tmpdir, "target");
	if (!state_dir || !target_dir || statedir_prepare(state_dir, &e) < 0 ||
	    mkdir(target_dir, 0755) < 0)
		return -1;
	jr = journal_open(state_dir, &e);
	if (!jr || journal_build_begin(jr, "test", &build, &e) < 0 ||
	    statedir_open(&sd, state_dir, 1, &e) < 0)
		return -1;
	return 0;
}

static int teardown_disk(void **state)
{
	char cmd[128];

	(void)state;
	journal_close(jr);
	jr = NULL;
	statedir_release(&sd);
	free(state_dir);
	free(target_dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static enum stage_mode mode_of(void **state)
{
	return *(const enum stage_mode *)*state;
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

static char *quarantine_name(int64_t id, const char *staged)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/quarantine/%lld-%s", state_dir,
			     (long long)id, path_basename(staged)) > 0);
	return p;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void append_byte(const char *path)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	assert_int_equal(fputc('!', f), '!');
	assert_int_equal(fclose(f), 0);
}

/* The file at path as the *_at recipe of common/fsx.h names it: a
 * descriptor of its folder (the caller closes it) and its last name. */
static struct fsx_at open_at(const char *path)
{
	char *dir = path_dirname(path);
	struct fsx_at f;

	assert_non_null(dir);
	f.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f.dfd >= 0);
	f.name = path_basename(path);
	f.shown = path;
	free(dir);
	return f;
}

/* The steps a crash interrupted, or a user made by hand, made on disk
 * the way spoke makes them. */
static void remove_file(const char *path, int missing_ok)
{
	struct fsx_at f = open_at(path);
	struct sp_err e;

	if (fsx_unlink_at(&f, missing_ok, 1, &e) < 0)
		fail_msg("%s", e.msg);
	close(f.dfd);
}

static void move_file(const char *from, const char *to, int noreplace)
{
	struct fsx_at f = open_at(from), t = open_at(to);
	struct sp_err e;

	if (fsx_rename_at(&f, &t, noreplace, 1, &e) < 0)
		fail_msg("%s", e.msg);
	close(f.dfd);
	close(t.dfd);
}

static void copy_file(const char *from, const char *to)
{
	struct fsx_at f = open_at(from), t = open_at(to);
	struct sp_err e;

	if (fsx_copy_at(&f, &t, &e) < 0)
		fail_msg("%s", e.msg);
	close(f.dfd);
	close(t.dfd);
}

static struct fsx_ident ident(const char *path)
{
	struct fsx_ident id;
	struct sp_err e;

	if (fsx_ident_of(path, &id, &e) < 0)
		fail_msg("%s", e.msg);
	return id;
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

static void assert_same_inode(const struct fsx_ident *a,
			      const struct fsx_ident *b)
{
	assert_true(a->dev == b->dev);
	assert_true(a->ino == b->ino);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->mtime_ns, b->mtime_ns);
}

static int64_t stage(const char *cargo, const char *staged,
		     enum stage_mode mode)
{
	const char *used = NULL;
	struct sp_err e;
	int64_t id = 0;

	if (stage_artifact(jr, &sd, build, cargo, staged, mode, &id,
			   &used, &e) < 0)
		fail_msg("stage_artifact: %s", e.msg);
	assert_string_equal(used, mode == STAGE_LINK ? "link" : "move");
	return id;
}

/* replay_all over everything; returns the report (caller decrefs). */
static json_t *replay(int *bad)
{
	json_t *report = json_array();
	struct sp_err e;

	assert_non_null(report);
	if (replay_all(jr, &sd, 0, NULL, 0, report, bad, &e) < 0)
		fail_msg("replay_all: %s", e.msg);
	return report;
}

static const char *report_str(json_t *report, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(report, i),
						 key));
}

/* The final state of an artifact row, read with sqlite3 directly. */
static void assert_row_state(int64_t id, const char *want)
{
	char *db = path_join(state_dir, "journal.db"), q[128];
	sqlite3 *s = NULL;
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	snprintf(q, sizeof(q), "SELECT state FROM artifacts WHERE id = %lld",
		 (long long)id);
	assert_int_equal(sqlite3_prepare_v2(s, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
	sqlite3_finalize(st);
	sqlite3_close(s);
	free(db);
}

static size_t unsettled(int64_t build_id)
{
	struct journal_artifact *a = NULL;
	struct sp_err e;
	size_t n = 0;

	if (journal_unsettled_artifacts(jr, build_id, &a, &n, &e) < 0)
		fail_msg("%s", e.msg);
	journal_artifacts_free(a, n);
	return n;
}

/* Runs one replay report-checking the single outcome. */
static void replay_expect(const char *cargo, const char *outcome, int bad_want)
{
	int bad = 0;
	json_t *r = replay(&bad);

	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(report_str(r, 0, "cargo_path"), cargo);
	assert_string_equal(report_str(r, 0, "outcome"), outcome);
	assert_int_equal(bad, bad_want);
	assert_int_equal(unsettled(0), 0);
	json_decref(r);
}

/* A second replay settles nothing, reports nothing and leaves the cargo
 * path as it is (or absent). */
static void assert_replay_again_is_noop(const char *cargo)
{
	int had = path_exists(cargo), bad = 0;
	struct fsx_ident before = {0}, after;
	json_t *r;

	if (had)
		before = ident(cargo);
	r = replay(&bad);
	assert_int_equal(json_array_size(r), 0);
	assert_int_equal(bad, 0);
	json_decref(r);
	assert_int_equal(path_exists(cargo), had);
	if (had) {
		after = ident(cargo);
		assert_same_inode(&before, &after);
	}
}

/* Killed after the intent was committed, before the link or rename: the
 * staged name never existed. */
static void test_replay_crash_after_intent(void **state)
{
	enum stage_mode mode = mode_of(state);
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	struct fsx_ident id0, now;
	struct sp_err e;
	int64_t aid;

	write_file(cargo, "cargo bytes");
	id0 = ident(cargo);
	assert_int_equal(journal_artifact_intent(jr, build, cargo, staged,
						 mode == STAGE_LINK ? "link"
								    : "move",
						 &id0, &aid, &e),
			 0);
	replay_expect(cargo, "restored", 0);
	now = ident(cargo);
	assert_same_inode(&now, &id0);
	assert_bytes(cargo, "cargo bytes");
	assert_false(path_exists(staged));
	assert_row_state(aid, "restored");
	assert_replay_again_is_noop(cargo);
	free(cargo);
	free(staged);
}

/* The ordinary end of a build: link mode drops the extra name, move mode
 * renames the file home. */
static void test_replay_gives_back_clean_stage(void **state)
{
	enum stage_mode mode = mode_of(state);
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	struct fsx_ident id0, now;
	struct stat st;
	int64_t aid;

	write_file(cargo, "cargo bytes");
	id0 = ident(cargo);
	aid = stage(cargo, staged, mode);
	replay_expect(cargo, mode == STAGE_LINK ? "restored" : "put_back", 0);
	now = ident(cargo);
	assert_same_inode(&now, &id0);
	assert_int_equal(stat(cargo, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	assert_bytes(cargo, "cargo bytes");
	assert_false(path_exists(staged));
	assert_row_state(aid, "restored");
	assert_replay_again_is_noop(cargo);
	free(cargo);
	free(staged);
}

/* Cargo rebuilt the output meanwhile (rustc writes a new file): cargo's
 * file stays and the staged name goes. */
static void test_replay_cargo_rebuilt_keeps_cargo(void **state)
{
	enum stage_mode mode = mode_of(state);
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	const char *detail;
	struct fsx_ident fresh, now;
	int64_t aid;
	int bad = 0;
	json_t *r;

	write_file(cargo, "old build");
	aid = stage(cargo, staged, mode);
	remove_file(cargo, 1);
	write_file(cargo, "new build, longer");
	fresh = ident(cargo);

	r = replay(&bad);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(report_str(r, 0, "outcome"), "kept_cargo");
	detail = report_str(r, 0, "detail");
	assert_non_null(detail);
	assert_non_null(strstr(detail, cargo));
	assert_int_equal(bad, 0);
	json_decref(r);

	now = ident(cargo);
	assert_same_inode(&now, &fresh);
	assert_bytes(cargo, "new build, longer");
	assert_false(path_exists(staged));
	assert_row_state(aid, "kept_cargo");
	assert_replay_again_is_noop(cargo);
	free(cargo);
	free(staged);
}

/* Someone wrote to the staged file in place.  It must never be renamed
 * back into cargo's cache: it goes to quarantine/, reported. */
static void test_replay_staged_modified_is_quarantined(void **state)
{
	enum stage_mode mode = mode_of(state);
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	char *q;
	const char *detail;
	int64_t aid;
	int bad = 0;
	json_t *r;

	write_file(cargo, "cargo bytes");
	aid = stage(cargo, staged, mode);
	/* In link mode this also changes the file at the cargo path: it is
	 * the same inode. */
	append_byte(staged);
	q = quarantine_name(aid, staged);

	r = replay(&bad);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(report_str(r, 0, "outcome"), "quarantined");
	detail = report_str(r, 0, "detail");
	assert_non_null(detail);
	assert_non_null(strstr(detail, q));
	if (mode == STAGE_LINK)
		assert_non_null(strstr(detail, "cargo rebuilds it"));
	assert_int_equal(bad, 1);
	json_decref(r);

	assert_bytes(q, "cargo bytes!");
	assert_false(path_exists(staged));
	assert_row_state(aid, "quarantined");
	/* Not put back (move mode), and in link mode the cargo output,
	 * which was the same changed inode, is removed: either way cargo
	 * finds no output and rebuilds it. */
	assert_false(path_exists(cargo));
	assert_replay_again_is_noop(cargo);
	assert_bytes(q, "cargo bytes!");
	free(q);
	free(cargo);
	free(staged);
}

/* The cargo output is gone and the staged file is intact: a move-mode
 * crash after the rename, or (link mode) the cargo path removed while
 * staged.  The same inode goes back. */
static void test_replay_cargo_missing_puts_back(void **state)
{
	enum stage_mode mode = mode_of(state);
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	struct fsx_ident id0, now;
	int64_t aid;

	write_file(cargo, "cargo bytes");
	id0 = ident(cargo);
	aid = stage(cargo, staged, mode);
	if (mode == STAGE_LINK)
		remove_file(cargo, 0);
	assert_false(path_exists(cargo));

	replay_expect(cargo, "put_back", 0);
	now = ident(cargo);
	assert_same_inode(&now, &id0);
	assert_bytes(cargo, "cargo bytes");
	assert_false(path_exists(staged));
	assert_row_state(aid, "restored");
	assert_replay_again_is_noop(cargo);
	free(cargo);
	free(staged);
}

static void test_replay_both_missing_is_lost(void **state)
{
	enum stage_mode mode = mode_of(state);
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	const char *detail;
	int64_t aid;
	int bad = 0;
	json_t *r;

	write_file(cargo, "cargo bytes");
	aid = stage(cargo, staged, mode);
	remove_file(staged, 0);
	remove_file(cargo, 1);

	r = replay(&bad);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(report_str(r, 0, "outcome"), "lost");
	detail = report_str(r, 0, "detail");
	assert_non_null(detail);
	assert_non_null(strstr(detail, cargo));
	assert_non_null(strstr(detail, staged));
	assert_int_equal(bad, 1);
	json_decref(r);
	assert_row_state(aid, "lost");
	assert_false(path_exists(cargo));
	assert_replay_again_is_noop(cargo);
	free(cargo);
	free(staged);
}

/* Killed after the give-back rename, before the row was settled: the
 * next replay finds the file home and settles it without moving
 * anything. */
static void test_replay_crash_after_put_back_rename(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	struct fsx_ident id0, now;
	struct sp_err e;
	const char *out;
	int64_t aid;
	int bad = 0;
	json_t *r;

	(void)state;
	write_file(cargo, "cargo bytes");
	id0 = ident(cargo);
	aid = stage(cargo, staged, STAGE_MOVE);
	assert_int_equal(journal_artifact_restoring(jr, aid, &e), 0);
	move_file(staged, cargo, 1);

	r = replay(&bad);
	assert_int_equal(json_array_size(r), 1);
	out = report_str(r, 0, "outcome");
	assert_true(strcmp(out, "restored") == 0 ||
		    strcmp(out, "put_back") == 0);
	assert_int_equal(bad, 0);
	json_decref(r);
	now = ident(cargo);
	assert_same_inode(&now, &id0);
	assert_row_state(aid, "restored");
	assert_replay_again_is_noop(cargo);
	free(cargo);
	free(staged);
}

/* Killed after the staged file was renamed into quarantine/, before the
 * row was settled.  The next replay must still report it quarantined:
 * "restored" would hide from the user that a changed file was found (in
 * link mode the changed inode is still at the cargo path). */
static void test_replay_crash_after_quarantine_rename(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	char *q;
	struct sp_err e;
	int64_t aid;
	int bad = 0;
	json_t *r;

	(void)state;
	write_file(cargo, "cargo bytes");
	aid = stage(cargo, staged, STAGE_LINK);
	append_byte(staged);
	q = quarantine_name(aid, staged);
	assert_int_equal(journal_artifact_restoring(jr, aid, &e), 0);
	move_file(staged, q, 0);

	r = replay(&bad);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(report_str(r, 0, "outcome"), "quarantined");
	assert_int_equal(bad, 1);
	json_decref(r);
	assert_row_state(aid, "quarantined");
	assert_bytes(q, "cargo bytes!");
	free(q);
	free(cargo);
	free(staged);
}

/* An artifact staged by copy (EXDEV) whose cargo output then vanished:
 * it is copied back, keeping bytes and mtime, and the leftover of an
 * interrupted copy ("<staged>.tmp") is cleaned up. */
static void test_replay_copy_mode_copies_back(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	char *tmp = NULL;
	struct fsx_ident id0, now;
	struct sp_err e;
	int64_t aid;

	(void)state;
	write_file(cargo, "cargo bytes");
	id0 = ident(cargo);
	assert_int_equal(journal_artifact_intent(jr, build, cargo, staged,
						 "copy", &id0, &aid, &e),
			 0);
	copy_file(cargo, staged);
	assert_int_equal(journal_artifact_staged(jr, aid, &e), 0);
	assert_true(asprintf(&tmp, "%s.tmp", staged) > 0);
	write_file(tmp, "half a copy");
	remove_file(cargo, 0);

	replay_expect(cargo, "put_back", 0);
	now = ident(cargo);
	assert_int_equal(now.size, id0.size);
	assert_int_equal(now.mtime_ns, id0.mtime_ns);
	assert_bytes(cargo, "cargo bytes");
	assert_false(path_exists(staged));
	assert_false(path_exists(tmp));
	{
		char *ctmp = NULL;

		assert_true(asprintf(&ctmp, "%s.spoke-tmp", cargo) > 0);
		assert_false(path_exists(ctmp));
		free(ctmp);
	}
	assert_row_state(aid, "restored");
	assert_replay_again_is_noop(cargo);
	free(tmp);
	free(cargo);
	free(staged);
}

/* A copy whose cargo output is still there: only the copy goes. */
static void test_replay_copy_mode_drops_copy(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	struct fsx_ident id0, now;
	struct sp_err e;
	int64_t aid;

	(void)state;
	write_file(cargo, "cargo bytes");
	id0 = ident(cargo);
	assert_int_equal(journal_artifact_intent(jr, build, cargo, staged,
						 "copy", &id0, &aid, &e),
			 0);
	copy_file(cargo, staged);
	replay_expect(cargo, "restored", 0);
	now = ident(cargo);
	assert_same_inode(&now, &id0);
	assert_false(path_exists(staged));
	assert_replay_again_is_noop(cargo);
	free(cargo);
	free(staged);
}

/* replay_artifact alone, with a NULL report. */
static void test_replay_artifact_without_report(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	struct journal_artifact *a = NULL;
	struct sp_err e;
	size_t n = 0;
	int bad = 0;

	(void)state;
	write_file(cargo, "cargo bytes");
	stage(cargo, staged, STAGE_MOVE);
	assert_int_equal(journal_unsettled_artifacts(jr, build, &a, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(replay_artifact(jr, &sd, &a[0], NULL, &bad, &e),
			 0);
	journal_artifacts_free(a, n);
	assert_int_equal(bad, 0);
	assert_bytes(cargo, "cargo bytes");
	assert_false(path_exists(staged));
	assert_int_equal(unsettled(0), 0);
	free(cargo);
	free(staged);
}

/* --- wheels --- */

static char *wheel_state(int64_t id)
{
	char *db = path_join(state_dir, "journal.db"), q[128], *out;
	sqlite3 *s = NULL;
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	snprintf(q, sizeof(q), "SELECT state FROM wheels WHERE id = %lld",
		 (long long)id);
	assert_int_equal(sqlite3_prepare_v2(s, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(s);
	free(db);
	return out;
}

static void assert_wheel_state(int64_t id, const char *want)
{
	char *got = wheel_state(id);

	assert_string_equal(got, want);
	free(got);
}

static int64_t some_artifact(void)
{
	char *cargo = in_target("w.so"), *staged = in_staged("w.so");
	struct fsx_ident id = {1, 2, 3, 4};
	struct sp_err e;
	int64_t aid;

	assert_int_equal(journal_artifact_intent(jr, build, cargo, staged,
						 "link", &id, &aid, &e),
			 0);
	assert_int_equal(journal_artifact_settle(jr, aid, "restored", NULL, &e),
			 0);
	free(cargo);
	free(staged);
	return aid;
}

static void test_replay_wheel_writing_is_abandoned(void **state)
{
	char *tmp = in_target(".foo.whl.tmp"), *fin = in_target("foo.whl");
	struct sp_err e;
	int64_t wid;
	int bad = 0;
	json_t *r;

	(void)state;
	assert_int_equal(journal_wheel_intent(jr, build, some_artifact(), tmp,
					      fin, &wid, &e),
			 0);
	write_file(tmp, "PK half a wheel");
	r = replay(&bad);
	json_decref(r);
	assert_false(path_exists(tmp));
	assert_false(path_exists(fin));
	assert_wheel_state(wid, "abandoned");
	assert_int_equal(bad, 0);
	free(tmp);
	free(fin);
}

static void test_replay_wheel_renamed_is_done(void **state)
{
	char *tmp = in_target(".foo.whl.tmp"), *fin = in_target("foo.whl");
	struct sp_err e;
	int64_t wid;
	int bad = 0;

	(void)state;
	assert_int_equal(journal_wheel_intent(jr, build, some_artifact(), tmp,
					      fin, &wid, &e),
			 0);
	assert_int_equal(journal_wheel_renaming(jr, wid, &e), 0);
	/* Killed after the rename, before "done" was committed. */
	write_file(fin, "PK a whole wheel");
	json_decref(replay(&bad));
	assert_wheel_state(wid, "done");
	assert_bytes(fin, "PK a whole wheel");
	free(tmp);
	free(fin);
}

static void test_replay_wheel_renaming_not_renamed_is_abandoned(void **state)
{
	char *tmp = in_target(".foo.whl.tmp"), *fin = in_target("foo.whl");
	struct sp_err e;
	int64_t wid;
	int bad = 0;

	(void)state;
	assert_int_equal(journal_wheel_intent(jr, build, some_artifact(), tmp,
					      fin, &wid, &e),
			 0);
	assert_int_equal(journal_wheel_renaming(jr, wid, &e), 0);
	/* Killed before the rename: the temporary is still there. */
	write_file(tmp, "PK a whole wheel");
	json_decref(replay(&bad));
	assert_wheel_state(wid, "abandoned");
	assert_false(path_exists(tmp));
	assert_false(path_exists(fin));
	free(tmp);
	free(fin);
}

/* --- replay_all: skip list and build filter --- */

static char *build_state(int64_t id)
{
	char *db = path_join(state_dir, "journal.db"), q[128], *out;
	sqlite3 *s = NULL;
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	snprintf(q, sizeof(q), "SELECT state FROM builds WHERE id = %lld",
		 (long long)id);
	assert_int_equal(sqlite3_prepare_v2(s, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(s);
	free(db);
	return out;
}

static void assert_build_state(int64_t id, const char *want)
{
	char *got = build_state(id);

	assert_string_equal(got, want);
	free(got);
}

static void test_replay_all_skips_running_builds(void **state)
{
	char *c1 = in_target("one.so"), *s1 = in_staged("b1-one.so");
	char *c2 = in_target("two.so"), *s2 = in_staged("b2-two.so");
	char *wtmp = in_target(".one.whl.tmp"), *wfin = in_target("one.whl");
	int64_t b1 = build, b2, a1, wid;
	struct sp_err e;
	int bad = 0;
	json_t *r;

	(void)state;
	assert_int_equal(journal_build_begin(jr, "other", &b2, &e), 0);
	write_file(c1, "one");
	write_file(c2, "two");
	/* Move mode: while staged, the cargo paths are empty, so a wrong
	 * replay shows. */
	a1 = stage(c1, s1, STAGE_MOVE);
	build = b2;
	stage(c2, s2, STAGE_MOVE);
	build = b1;
	assert_int_equal(journal_wheel_intent(jr, b1, a1, wtmp, wfin, &wid, &e),
			 0);
	write_file(wtmp, "PK being written");

	r = json_array();
	assert_int_equal(replay_all(jr, &sd, 0, &b1, 1, r, &bad, &e), 0);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(report_str(r, 0, "cargo_path"), c2);
	assert_string_equal(report_str(r, 0, "outcome"), "put_back");
	json_decref(r);
	assert_bytes(c2, "two");
	/* Build 1 is untouched: still staged, its wheel still being
	 * written, and no build marked interrupted while one runs. */
	assert_false(path_exists(c1));
	assert_bytes(s1, "one");
	assert_int_equal(unsettled(b1), 1);
	assert_bytes(wtmp, "PK being written");
	assert_wheel_state(wid, "writing");
	assert_build_state(b1, "running");
	assert_build_state(b2, "running");

	/* Nothing skipped: everything settles and running builds are
	 * marked interrupted. */
	r = replay(&bad);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(report_str(r, 0, "cargo_path"), c1);
	json_decref(r);
	assert_bytes(c1, "one");
	assert_false(path_exists(s1));
	assert_false(path_exists(wtmp));
	assert_wheel_state(wid, "abandoned");
	assert_build_state(b1, "interrupted");
	assert_build_state(b2, "interrupted");
	assert_int_equal(bad, 0);
	free(c1);
	free(s1);
	free(c2);
	free(s2);
	free(wtmp);
	free(wfin);
}

static void test_replay_all_one_build_only(void **state)
{
	char *c1 = in_target("one.so"), *s1 = in_staged("b1-one.so");
	char *c2 = in_target("two.so"), *s2 = in_staged("b2-two.so");
	int64_t b1 = build, b2;
	struct sp_err e;
	int bad = 0;
	json_t *r;

	(void)state;
	assert_int_equal(journal_build_begin(jr, "other", &b2, &e), 0);
	write_file(c1, "one");
	write_file(c2, "two");
	stage(c1, s1, STAGE_MOVE);
	build = b2;
	stage(c2, s2, STAGE_MOVE);
	build = b1;

	r = json_array();
	assert_int_equal(replay_all(jr, &sd, b2, NULL, 0, r, &bad, &e), 0);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(report_str(r, 0, "cargo_path"), c2);
	json_decref(r);
	assert_bytes(c2, "two");
	assert_false(path_exists(c1));
	assert_int_equal(unsettled(b1), 1);
	assert_build_state(b1, "running");
	free(c1);
	free(s1);
	free(c2);
	free(s2);
}

/* --- losses (issue 15, finding 5) --- */

/* The cargo paths replay_losses() reports now (record: as the lock
 * holder), joined by spaces, into buf. */
static const char *losses(int record, char *buf, size_t n)
{
	struct sp_err e;
	json_t *l = replay_losses(jr, record, &e), *x;
	size_t i, off = 0;

	if (!l)
		fail_msg("replay_losses: %s", e.msg);
	buf[0] = 0;
	json_array_foreach(l, i, x)
	{
		off += (size_t)snprintf(
			buf + off, n - off, "%s%s", off ? " " : "",
			json_string_value(json_object_get(x, "cargo_path")));
		assert_non_null(json_object_get(x, "todo"));
		assert_true(off < n);
	}
	json_decref(l);
	return buf;
}

static void forget(const char *path, int all, int want_rc)
{
	json_t *paths = json_array();
	struct sp_err e;

	if (path)
		json_array_append_new(paths, json_string(path));
	assert_int_equal(replay_forget(jr, paths, all, &e), want_rc);
	json_decref(paths);
}

/* A lost output is reported by every replay_losses() until forgotten,
 * however often replay runs; a wrong path forgets nothing. */
static void test_lost_stays_reported_until_forgotten(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	char *other = in_target("libbar.so"), buf[4096];
	int bad = 0;

	write_file(cargo, "cargo bytes");
	stage(cargo, staged, mode_of(state));
	remove_file(staged, 0);
	remove_file(cargo, 1);
	json_decref(replay(&bad));
	assert_int_equal(bad, 1);
	assert_string_equal(losses(1, buf, sizeof(buf)), cargo);
	json_decref(replay(&bad));
	assert_string_equal(losses(1, buf, sizeof(buf)), cargo);
	assert_string_equal(losses(0, buf, sizeof(buf)), cargo);

	forget(other, 0, -1);
	assert_string_equal(losses(1, buf, sizeof(buf)), cargo);
	forget(cargo, 0, 0);
	assert_string_equal(losses(1, buf, sizeof(buf)), "");
	assert_row_state(1, "lost");
	free(cargo);
	free(staged);
	free(other);
}

/* A staged copy someone changed goes to quarantine/; in move mode the
 * cargo output is then missing, and that is a loss too. */
static void test_quarantined_missing_output_is_reported(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	char buf[4096];
	int bad = 0;

	(void)state;
	write_file(cargo, "cargo bytes");
	stage(cargo, staged, STAGE_MOVE);
	append_byte(staged);
	json_decref(replay(&bad));
	assert_int_equal(bad, 1);
	assert_row_state(1, "quarantined");
	assert_false(path_exists(cargo));
	assert_string_equal(losses(1, buf, sizeof(buf)), cargo);
	json_decref(replay(&bad));
	assert_string_equal(losses(1, buf, sizeof(buf)), cargo);
	forget(NULL, 1, 0);
	assert_string_equal(losses(1, buf, sizeof(buf)), "");
	free(cargo);
	free(staged);
}

/* An output back at its path is no loss: without the lock it is only
 * left out; the lock holder records it, and it stays resolved when the
 * output goes again. */
static void test_reappeared_output_resolves_itself(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	char buf[4096];
	int bad = 0;

	write_file(cargo, "cargo bytes");
	stage(cargo, staged, mode_of(state));
	remove_file(staged, 0);
	remove_file(cargo, 1);
	json_decref(replay(&bad));
	write_file(cargo, "rebuilt");
	assert_string_equal(losses(0, buf, sizeof(buf)), "");
	remove_file(cargo, 0);
	assert_string_equal(losses(0, buf, sizeof(buf)), cargo);
	write_file(cargo, "rebuilt");
	assert_string_equal(losses(1, buf, sizeof(buf)), "");
	remove_file(cargo, 0);
	assert_string_equal(losses(1, buf, sizeof(buf)), "");
	free(cargo);
	free(staged);
}

/* Staged again by a later build: the output was at its path then. */
static void test_restaged_output_is_no_loss(void **state)
{
	char *cargo = in_target("libfoo.so"), *staged = in_staged("1-0-libfoo.so");
	char *staged2 = in_staged("2-0-libfoo.so"), buf[4096];
	int bad = 0;

	(void)state;
	write_file(cargo, "cargo bytes");
	stage(cargo, staged, STAGE_MOVE);
	remove_file(staged, 0);
	json_decref(replay(&bad));
	assert_string_equal(losses(1, buf, sizeof(buf)), cargo);
	write_file(cargo, "rebuilt");
	stage(cargo, staged2, STAGE_MOVE);
	/* Staged (moved) by the running build: missing, but no loss. */
	assert_false(path_exists(cargo));
	assert_string_equal(losses(0, buf, sizeof(buf)), "");
	free(cargo);
	free(staged);
	free(staged2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_decide_staged_absent_cargo_present_is_nothing),
		cmocka_unit_test(test_decide_both_absent_is_lost),
		cmocka_unit_test(test_decide_already_quarantined),
		cmocka_unit_test(test_decide_staged_size_changed_quarantines),
		cmocka_unit_test(test_decide_staged_mtime_changed_quarantines),
		cmocka_unit_test(test_decide_staged_inode_differs),
		cmocka_unit_test(test_decide_cargo_same_is_drop),
		cmocka_unit_test(test_decide_cargo_newer_is_keep_cargo),
		cmocka_unit_test(test_decide_cargo_absent_puts_back),
		cmocka_unit_test(test_outcome_words),
#define BOTH(f)                                                               \
	cmocka_unit_test_prestate_setup_teardown(f, setup_disk, teardown_disk, \
						 (void *)&link_mode),          \
		cmocka_unit_test_prestate_setup_teardown(                     \
			f, setup_disk, teardown_disk, (void *)&move_mode)
#define T(f) cmocka_unit_test_setup_teardown(f, setup_disk, teardown_disk)
		BOTH(test_replay_crash_after_intent),
		BOTH(test_replay_gives_back_clean_stage),
		BOTH(test_replay_cargo_rebuilt_keeps_cargo),
		BOTH(test_replay_staged_modified_is_quarantined),
		BOTH(test_replay_cargo_missing_puts_back),
		BOTH(test_replay_both_missing_is_lost),
		T(test_replay_crash_after_put_back_rename),
		T(test_replay_crash_after_quarantine_rename),
		T(test_replay_copy_mode_copies_back),
		T(test_replay_copy_mode_drops_copy),
		T(test_replay_artifact_without_report),
		T(test_replay_wheel_writing_is_abandoned),
		T(test_replay_wheel_renamed_is_done),
		T(test_replay_wheel_renaming_not_renamed_is_abandoned),
		T(test_replay_all_skips_running_builds),
		T(test_replay_all_one_build_only),
		BOTH(test_lost_stays_reported_until_forgotten),
		T(test_quarantined_missing_output_is_reported),
		BOTH(test_reappeared_output_resolves_itself),
		T(test_restaged_output_is_no_loss),
#undef T
#undef BOTH
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
