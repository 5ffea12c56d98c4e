/*
 * Unit tests of journal/prune: which rows pruning keeps (unsettled ones,
 * unreported losses, the last builds and what they point at), that it
 * never changes what replay and `spoke status` see, that `spoke log`
 * says a build was pruned, and that a journal built and pruned over and
 * over stops growing.  The real SQLite journal, in a scratch folder;
 * counts are read on a separate connection.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsx.h"
#include "common/path.h"
#include "journal/journal.h"
#include "journal/prune.h"

#define SCRATCH_NAME "jprune"
#include "tests/unit/scratch.h"

static struct journal *open_ok(void)
{
	struct sp_err e;
	struct journal *j = journal_open(tmpdir, &e);

	if (!j)
		fail_msg("journal_open: %s", e.msg);
	return j;
}

static int64_t sql_int(const char *sql)
{
	char *path = tpath("journal.db");
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(path);
	return v;
}

static int64_t count_of(const char *table, int64_t build)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE build_id = %lld",
		 table, (long long)build);
	return sql_int(sql);
}

static int64_t build_rows(int64_t build)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM builds WHERE id = %lld",
		 (long long)build);
	return sql_int(sql);
}

static int64_t begin_build(struct journal *j)
{
	struct sp_err e;
	int64_t id = 0;

	if (journal_build_begin(j, "test", &id, &e) < 0)
		fail_msg("build_begin: %s", e.msg);
	return id;
}

static void end_build(struct journal *j, int64_t id)
{
	struct sp_err e;

	if (journal_build_end(j, id, 1, NULL, &e) < 0)
		fail_msg("build_end: %s", e.msg);
}

/* An artifact of build staged, its wheel written (wheel_state "done",
 * "writing" or NULL for none), then settled as state (NULL: left
 * staged).  Returns its id. */
static int64_t artifact(struct journal *j, int64_t build, const char *cargo,
			const char *state, const char *wheel_state)
{
	static int serial;
	struct fsx_ident id = {.dev = 1, .ino = 2, .size = 3, .mtime_ns = 4};
	char staged[256], wheel[256];
	struct sp_err e;
	int64_t aid = 0, wid = 0;

	snprintf(staged, sizeof(staged), "%s/staged/%d-x", tmpdir, ++serial);
	snprintf(wheel, sizeof(wheel), "/w/%d.whl", serial);
	if (journal_artifact_intent(j, build, cargo, staged, "link", &id, &aid,
				    &e) < 0 ||
	    journal_artifact_staged(j, aid, &e) < 0)
		fail_msg("artifact: %s", e.msg);
	if (wheel_state) {
		if (journal_wheel_intent(j, build, aid, "/w/tmp", wheel, &wid,
					 &e) < 0)
			fail_msg("wheel: %s", e.msg);
		if (!strcmp(wheel_state, "done") &&
		    journal_wheel_done(j, wid, 10, "abc", 0, &e) < 0)
			fail_msg("wheel done: %s", e.msg);
	}
	if (state && (journal_artifact_restoring(j, aid, &e) < 0 ||
		      journal_artifact_settle(j, aid, state, NULL, &e) < 0))
		fail_msg("settle: %s", e.msg);
	return aid;
}

/* What replay and `spoke status` read, as one string to compare. */
static void seen(struct journal *j, char *buf, size_t n)
{
	struct journal_artifact *a;
	struct journal_wheel *w;
	struct journal_loss *l;
	size_t na, nw, nl, i, off = 0;
	struct sp_err e;

	if (journal_unsettled_artifacts(j, 0, &a, &na, &e) < 0 ||
	    journal_unsettled_wheels(j, 0, &w, &nw, &e) < 0 ||
	    journal_losses(j, &l, &nl, &e) < 0)
		fail_msg("read: %s", e.msg);
	buf[0] = '\0';
	for (i = 0; i < na; i++)
		off += (size_t)snprintf(buf + off, n - off, "a%lld:%s ",
					(long long)a[i].id, a[i].state);
	for (i = 0; i < nw; i++)
		off += (size_t)snprintf(buf + off, n - off, "w%lld:%s ",
					(long long)w[i].id, w[i].state);
	for (i = 0; i < nl; i++)
		off += (size_t)snprintf(buf + off, n - off, "l%lld:%s:%s ",
					(long long)l[i].id, l[i].cargo_path,
					l[i].state);
	journal_artifacts_free(a, na);
	journal_wheels_free(w, nw);
	journal_losses_free(l, nl);
}

static void test_prune_keeps_what_is_needed(void **state)
{
	struct journal *j = open_ok();
	int64_t b[12], unsettled, loss, forgotten, old_loss, restaged,
		settled, last;
	char before[4096], after[4096];
	struct sp_err e;
	json_t *log;
	int i, rc, steps = 0;

	(void)state;
	/* 1: interrupted mid-build: a staged artifact, a wheel writing. */
	b[1] = begin_build(j);
	unsettled = artifact(j, b[1], "/c/unsettled.so", NULL, "writing");
	/* 2: a loss nobody acknowledged: status reports it. */
	b[2] = begin_build(j);
	loss = artifact(j, b[2], "/c/lost.so", "lost", "done");
	end_build(j, b[2]);
	/* 3: a loss acknowledged. */
	b[3] = begin_build(j);
	forgotten = artifact(j, b[3], "/c/forgotten.so", "lost", NULL);
	if (journal_loss_resolve(j, "/c/forgotten.so", "forgotten", &e) < 0)
		fail_msg("resolve: %s", e.msg);
	end_build(j, b[3]);
	/* 4 and 5: a loss that spoke staged again since: not reported while
	 * build 5's row is there.  Its wheel, left writing by a crash, holds
	 * it in the journal; so build 5's row must stay too. */
	b[4] = begin_build(j);
	old_loss = artifact(j, b[4], "/c/again.so", "quarantined", "writing");
	end_build(j, b[4]);
	b[5] = begin_build(j);
	restaged = artifact(j, b[5], "/c/again.so", "restored", "done");
	end_build(j, b[5]);
	/* 6: an ordinary build. */
	b[6] = begin_build(j);
	settled = artifact(j, b[6], "/c/ok.so", "restored", "done");
	artifact(j, b[6], "/c/ok2.so", "kept_cargo", "done");
	end_build(j, b[6]);
	/* 7..10: the builds kept. */
	for (i = 7; i <= 10; i++) {
		b[i] = begin_build(j);
		last = artifact(j, b[i], "/c/ok.so", "restored", "done");
		end_build(j, b[i]);
	}
	seen(j, before, sizeof(before));
	assert_non_null(strstr(before, "/c/lost.so"));
	assert_null(strstr(before, "/c/again.so"));

	/* A row a step: every intermediate journal must look the same to
	 * replay and status, as a crash may stop pruning after any step. */
	while ((rc = journal_prune_step(j, 4, 1, &e)) == 1) {
		steps++;
		seen(j, after, sizeof(after));
		assert_string_equal(before, after);
	}
	if (rc < 0)
		fail_msg("prune: %s", e.msg);
	assert_true(steps > 4);

	/* Unsettled rows and their build stay, whole. */
	assert_int_equal(build_rows(b[1]), 1);
	assert_int_equal(count_of("artifacts", b[1]), 1);
	assert_int_equal(count_of("wheels", b[1]), 1);
	/* The reported loss stays, with its build; its timeline and its
	 * settled wheel go. */
	assert_int_equal(build_rows(b[2]), 1);
	assert_int_equal(count_of("artifacts", b[2]), 1);
	assert_int_equal(count_of("wheels", b[2]), 0);
	assert_int_equal(count_of("events", b[2]), 0);
	/* The superseded loss, held by its wheel, and the row that
	 * supersedes it stay; build 5's settled wheel goes. */
	assert_int_equal(count_of("artifacts", b[4]), 1);
	assert_int_equal(count_of("wheels", b[4]), 1);
	assert_int_equal(count_of("artifacts", b[5]), 1);
	assert_int_equal(count_of("wheels", b[5]), 0);
	/* The rest of the old builds is gone. */
	for (i = 3; i <= 6; i += 3) {
		assert_int_equal(build_rows(b[i]), 0);
		assert_int_equal(count_of("artifacts", b[i]), 0);
		assert_int_equal(count_of("wheels", b[i]), 0);
		assert_int_equal(count_of("events", b[i]), 0);
	}
	/* The last four builds are untouched. */
	for (i = 7; i <= 10; i++) {
		assert_int_equal(build_rows(b[i]), 1);
		assert_int_equal(count_of("artifacts", b[i]), 1);
		assert_int_equal(count_of("wheels", b[i]), 1);
		assert_true(count_of("events", b[i]) >= 6);
	}
	(void)unsettled;
	(void)loss;
	(void)forgotten;
	(void)old_loss;
	(void)restaged;
	(void)settled;
	(void)last;
	assert_int_equal(sql_int("SELECT count(*) FROM pragma_foreign_key_check"),
			 0);

	/* spoke log: a deleted build was pruned; a kept build's row without
	 * its timeline says so. */
	log = journal_log(j, b[3], &e);
	assert_null(log);
	assert_non_null(strstr(e.msg, "pruned"));
	log = journal_log(j, b[2], &e);
	assert_non_null(log);
	assert_true(json_is_true(json_object_get(log, "pruned")));
	json_decref(log);
	log = journal_log(j, b[9], &e);
	assert_non_null(log);
	assert_null(json_object_get(log, "pruned"));
	json_decref(log);
	log = journal_log(j, b[10] + 5, &e);
	assert_null(log);
	assert_null(strstr(e.msg, "pruned"));

	/* Once the loss is acknowledged and the build settled, they go too. */
	if (journal_loss_resolve(j, "/c/lost.so", "forgotten", &e) < 0 ||
	    journal_artifact_restoring(j, unsettled, &e) < 0 ||
	    journal_artifact_settle(j, unsettled, "restored", NULL, &e) < 0)
		fail_msg("settle: %s", e.msg);
	while ((rc = journal_prune_step(j, 4, 1, &e)) == 1)
		;
	assert_int_equal(count_of("artifacts", b[2]), 0);
	assert_int_equal(build_rows(b[2]), 0);
	/* The wheel still writing holds its artifact and build. */
	assert_int_equal(count_of("artifacts", b[1]), 1);
	assert_int_equal(build_rows(b[1]), 1);
	journal_close(j);
}

/* The newest artifact and wheel stay even in a build pruned, so that
 * SQLite never gives a new row a deleted one's id (a kept build's events
 * would name it). */
static void test_prune_keeps_newest_ids(void **state)
{
	struct journal *j = open_ok();
	struct sp_err e;
	int64_t b1, a1;
	int i;

	(void)state;
	b1 = begin_build(j);
	a1 = artifact(j, b1, "/c/a.so", "restored", "done");
	end_build(j, b1);
	for (i = 0; i < 3; i++)
		end_build(j, begin_build(j)); /* builds with no artifact */
	while (journal_prune_step(j, 2, 10, &e) == 1)
		;
	assert_int_equal(sql_int("SELECT max(id) FROM artifacts"), a1);
	assert_int_equal(sql_int("SELECT count(*) FROM wheels"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM builds"), 3);
	journal_close(j);
}

static void test_prune_nothing_below_keep(void **state)
{
	struct journal *j = open_ok();
	struct sp_err e;
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		int64_t b = begin_build(j);

		artifact(j, b, "/c/a.so", "restored", "done");
		end_build(j, b);
	}
	assert_int_equal(journal_prune_step(j, 5, 100, &e), 0);
	assert_int_equal(journal_prune_step(j, 100, 100, &e), 0);
	assert_int_equal(journal_prune_step(j, 0, 100, &e), -1);
	assert_int_equal(sql_int("SELECT count(*) FROM builds"), 5);
	journal_close(j);
}

/* Builds of 20 artifacts, each followed by pruning (keep 10) and vacuum
 * as the coordinator's idle time does: after a warm-up the file stays
 * the size it had. */
static void test_file_stops_growing(void **state)
{
	struct journal *j = open_ok();
	struct journal_space sp;
	struct sp_err e;
	int64_t at50 = 0, max_after = 0;
	int i, k, rc;

	(void)state;
	assert_int_equal(journal_space(j, &sp, &e), 0);
	assert_true(sp.incremental);
	for (i = 1; i <= 300; i++) {
		int64_t b = begin_build(j);

		/* One commit (one fsync) for the build's rows. */
		assert_int_equal(journal_begin(j, &e), 0);
		for (k = 0; k < 20; k++) {
			char cargo[64];

			snprintf(cargo, sizeof(cargo), "/c/lib%d.so", k);
			artifact(j, b, cargo, "restored", "done");
		}
		assert_int_equal(journal_commit(j, &e), 0);
		end_build(j, b);
		while ((rc = journal_prune_step(j, 10, 200, &e)) == 1)
			;
		assert_int_equal(rc, 0);
		while ((rc = journal_vacuum_step(j, 128, &e)) == 1)
			;
		assert_int_equal(rc, 0);
		assert_int_equal(journal_space(j, &sp, &e), 0);
		if (i == 50)
			at50 = sp.bytes;
		if (i > 50 && sp.bytes > max_after)
			max_after = sp.bytes;
	}
	assert_int_equal(sql_int("SELECT count(*) FROM builds"), 10);
	assert_int_equal(sql_int("SELECT count(*) FROM artifacts"), 200);
	/* Without pruning the 300 builds would need about six times the
	 * size of 50. */
	if (max_after > at50 + at50 / 10)
		fail_msg("journal grew from %lld to %lld bytes",
			 (long long)at50, (long long)max_after);
	journal_close(j);
}

/* A journal made before spoke pruned (no auto_vacuum) is converted once,
 * keeping its rows; a pruned journal then gives its pages back. */
static void test_old_journal_converted(void **state)
{
	char *path = tpath("journal.db");
	struct journal_space sp;
	struct journal *j;
	struct sp_err e;
	sqlite3 *db = NULL;
	int64_t before;
	int i, rc;

	(void)state;
	/* WAL first, as every spoke before did: the file then exists
	 * without auto_vacuum. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	j = open_ok();
	assert_int_equal(journal_space(j, &sp, &e), 0);
	assert_false(sp.incremental);
	for (i = 0; i < 100; i++) {
		int64_t b = begin_build(j);
		int k;

		assert_int_equal(journal_begin(j, &e), 0);
		for (k = 0; k < 20; k++) {
			char cargo[64];

			snprintf(cargo, sizeof(cargo), "/c/lib%d.so", k);
			artifact(j, b, cargo, "restored", "done");
		}
		assert_int_equal(journal_commit(j, &e), 0);
		end_build(j, b);
	}
	/* Without incremental vacuum nothing is given back. */
	assert_int_equal(journal_vacuum_step(j, 1000, &e), 0);
	before = sql_int("SELECT count(*) FROM artifacts");
	assert_int_equal(journal_vacuum_convert(j, &e), 1);
	assert_int_equal(journal_vacuum_convert(j, &e), 0);
	assert_int_equal(journal_space(j, &sp, &e), 0);
	assert_true(sp.incremental);
	assert_int_equal(sql_int("SELECT count(*) FROM artifacts"), before);
	assert_int_equal(sql_int("PRAGMA user_version"),
			 JOURNAL_SCHEMA_VERSION);
	while ((rc = journal_prune_step(j, 2, 200, &e)) == 1)
		;
	assert_int_equal(rc, 0);
	assert_int_equal(journal_space(j, &sp, &e), 0);
	before = sp.bytes;
	while ((rc = journal_vacuum_step(j, 16, &e)) == 1)
		;
	assert_int_equal(rc, 0);
	assert_int_equal(journal_space(j, &sp, &e), 0);
	if (sp.bytes >= before / 2)
		fail_msg("vacuum left %lld of %lld bytes", (long long)sp.bytes,
			 (long long)before);
	journal_close(j);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
		T(test_prune_keeps_what_is_needed),
		T(test_prune_keeps_newest_ids),
		T(test_prune_nothing_below_keep),
		T(test_file_stops_growing),
		T(test_old_journal_converted),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
