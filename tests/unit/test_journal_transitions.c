/*
 * Unit tests of journal/journal: the real SQLite journal on disk in a fresh
 * mkdtemp() state directory.  What the journal says is checked both through
 * its own queries and, where it matters, by opening the database with
 * sqlite3 directly, so that a query bug cannot hide a write bug.
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/path.h"
#include "journal/journal.h"

#define SCRATCH_NAME "jtr"
#include "tests/unit/scratch.h"

static char *db_path(void)
{
	char *p = path_join(tmpdir, "journal.db");

	assert_non_null(p);
	return p;
}

static struct journal *open_ok(void)
{
	struct sp_err e;
	struct journal *j = journal_open(tmpdir, &e);

	if (!j)
		fail_msg("journal_open: %s", e.msg);
	return j;
}

/* Runs a query returning one integer on a separate, direct connection. */
static int64_t sql_int(const char *sql)
{
	char *path = db_path();
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

/* Same, one text value (NULL becomes "<null>"), into buf. */
static const char *sql_text(const char *sql, char *buf, size_t n)
{
	char *path = db_path();
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const unsigned char *s;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	s = sqlite3_column_text(st, 0);
	snprintf(buf, n, "%s", s ? (const char *)s : "<null>");
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(path);
	return buf;
}

static void write_bytes(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static int64_t begin_build(struct journal *j)
{
	struct sp_err e;
	int64_t id = 0;

	if (journal_build_begin(j, "test-client", &id, &e) < 0)
		fail_msg("build_begin: %s", e.msg);
	assert_true(id > 0);
	return id;
}

static int64_t intent(struct journal *j, int64_t build, const char *cargo,
		      const char *staged, const char *mode)
{
	/* Device and inode numbers above 2^63 must survive the signed
	 * INTEGER column. */
	struct fsx_ident id = {.dev = 0xfedcba9876543210ull,
			       .ino = 0x8000000000000001ull,
			       .size = 12345,
			       .mtime_ns = 1700000000123456789LL};
	struct sp_err e;
	int64_t aid = 0;

	if (journal_artifact_intent(j, build, cargo, staged, mode, &id, &aid,
				    &e) < 0)
		fail_msg("artifact_intent: %s", e.msg);
	assert_true(aid > 0);
	return aid;
}

static void list(struct journal *j, int64_t build, struct journal_artifact **a,
		 size_t *n)
{
	struct sp_err e;

	if (journal_unsettled_artifacts(j, build, a, n, &e) < 0)
		fail_msg("open_artifacts: %s", e.msg);
}

/* --- opening --- */

static void test_open_creates_schema_and_reopens(void **state)
{
	struct journal *j;
	char *path = db_path();
	char buf[64];

	(void)state;
	j = open_ok();
	assert_string_equal(journal_path(j), path);
	journal_close(j);
	assert_int_equal(sql_int("PRAGMA user_version"),
			 JOURNAL_SCHEMA_VERSION);
	assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master WHERE "
				 "type = 'table' AND name IN "
				 "('builds', 'artifacts', 'wheels')"),
			 3);
	/* Commits must be durable before the move they announce. */
	assert_string_equal(sql_text("PRAGMA journal_mode", buf, sizeof(buf)),
			    "wal");

	/* Reopening an up-to-date journal keeps its rows and version. */
	j = open_ok();
	begin_build(j);
	journal_close(j);
	j = open_ok();
	journal_close(j);
	assert_int_equal(sql_int("PRAGMA user_version"),
			 JOURNAL_SCHEMA_VERSION);
	assert_int_equal(sql_int("SELECT count(*) FROM builds"), 1);
	free(path);
}

static void test_open_garbage_is_refused_and_kept(void **state)
{
	char *path = db_path();
	char garbage[8192], *back;
	struct stat before, after;
	struct sp_err e;
	size_t i, len = 0;

	(void)state;
	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 7 + 3);
	write_bytes(path, garbage, sizeof(garbage));
	assert_int_equal(stat(path, &before), 0);

	assert_null(journal_open(tmpdir, &e));
	if (!strstr(e.msg, path) || !strstr(e.msg, "Move the journal aside"))
		fail_msg("unhelpful error: %s", e.msg);

	/* Nothing deleted or rewritten: the file may be all that is left to
	 * recover from. */
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(after.st_size, sizeof(garbage));
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	back = fsx_read_all(path, &len, &e);
	assert_non_null(back);
	assert_int_equal(len, sizeof(garbage));
	assert_memory_equal(back, garbage, sizeof(garbage));
	free(back);
	free(path);
}

static void test_open_newer_schema_is_refused(void **state)
{
	char *path = db_path();
	sqlite3 *db = NULL;
	struct sp_err e;

	(void)state;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "CREATE TABLE future (x);"
				      "PRAGMA user_version = 99;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	assert_null(journal_open(tmpdir, &e));
	if (!strstr(e.msg, "newer") || !strstr(e.msg, path))
		fail_msg("unhelpful error: %s", e.msg);
	/* Not "migrated" down, nor touched. */
	assert_int_equal(sql_int("PRAGMA user_version"), 99);
	assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master WHERE "
				 "name = 'builds'"),
			 0);
	free(path);
}

static void test_open_missing_state_dir_fails(void **state)
{
	char *dir = path_join(tmpdir, "no/such/dir");
	struct sp_err e;

	(void)state;
	assert_null(journal_open(dir, &e));
	assert_non_null(strstr(e.msg, dir));
	free(dir);
}

/* --- builds --- */

static void test_build_begin_end(void **state)
{
	struct journal *j = open_ok();
	struct sp_err e;
	int64_t a, b;
	char buf[128], q[128];

	(void)state;
	a = begin_build(j);
	b = begin_build(j);
	assert_true(b != a);
	snprintf(q, sizeof(q), "SELECT state FROM builds WHERE id = %lld",
		 (long long)a);
	assert_string_equal(sql_text(q, buf, sizeof(buf)), "running");
	snprintf(q, sizeof(q), "SELECT client FROM builds WHERE id = %lld",
		 (long long)a);
	assert_string_equal(sql_text(q, buf, sizeof(buf)), "test-client");

	assert_int_equal(journal_build_end(j, a, 1, NULL, &e), 0);
	assert_int_equal(journal_build_end(j, b, 0, "cargo failed", &e), 0);
	snprintf(q, sizeof(q), "SELECT state FROM builds WHERE id = %lld",
		 (long long)a);
	assert_string_equal(sql_text(q, buf, sizeof(buf)), "succeeded");
	snprintf(q, sizeof(q),
		 "SELECT state || ':' || error FROM builds WHERE id = %lld",
		 (long long)b);
	assert_string_equal(sql_text(q, buf, sizeof(buf)),
			    "failed:cargo failed");
	assert_int_equal(sql_int("SELECT count(*) FROM builds WHERE "
				 "ended_ns >= started_ns"),
			 2);
	journal_close(j);
}

static void test_builds_interrupt_marks_only_running(void **state)
{
	struct journal *j = open_ok();
	struct sp_err e;
	int64_t done, r1, r2;
	char buf[64], q[128];

	(void)state;
	done = begin_build(j);
	r1 = begin_build(j);
	r2 = begin_build(j);
	assert_int_equal(journal_build_end(j, done, 1, NULL, &e), 0);
	assert_int_equal(journal_builds_interrupt(j, &e), 0);
	snprintf(q, sizeof(q), "SELECT state FROM builds WHERE id = %lld",
		 (long long)done);
	assert_string_equal(sql_text(q, buf, sizeof(buf)), "succeeded");
	snprintf(q, sizeof(q),
		 "SELECT count(*) FROM builds WHERE id IN (%lld, %lld) AND "
		 "state = 'interrupted' AND ended_ns IS NOT NULL",
		 (long long)r1, (long long)r2);
	assert_int_equal(sql_int(q), 2);
	journal_close(j);
}

/* --- artifacts --- */

static void test_artifact_full_lifecycle(void **state)
{
	struct journal *j = open_ok();
	struct journal_artifact *a = NULL;
	struct sp_err e;
	int64_t b, id;
	size_t n = 0;
	char buf[256], q[128];

	(void)state;
	b = begin_build(j);
	id = intent(j, b, "/t/debug/libfoo.so", "/s/staged/1-0-libfoo.so",
		    "link");

	list(j, b, &a, &n);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].id, id);
	assert_int_equal(a[0].build_id, b);
	assert_string_equal(a[0].cargo_path, "/t/debug/libfoo.so");
	assert_string_equal(a[0].staged_path, "/s/staged/1-0-libfoo.so");
	assert_string_equal(a[0].mode, "link");
	assert_string_equal(a[0].patch, "none");
	assert_string_equal(a[0].state, "staging");
	assert_true(a[0].ident.dev == 0xfedcba9876543210ull);
	assert_true(a[0].ident.ino == 0x8000000000000001ull);
	assert_int_equal(a[0].ident.size, 12345);
	assert_int_equal(a[0].ident.mtime_ns, 1700000000123456789LL);
	journal_artifacts_free(a, n);

	assert_int_equal(journal_artifact_staged(j, id, &e), 0);
	list(j, b, &a, &n);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].state, "staged");
	journal_artifacts_free(a, n);

	assert_int_equal(journal_artifact_patch(j, id, "required", &e), 0);
	assert_int_equal(journal_artifact_patch(j, id, "applied", &e), 0);
	list(j, b, &a, &n);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].patch, "applied");
	assert_string_equal(a[0].state, "staged");
	journal_artifacts_free(a, n);

	assert_int_equal(journal_artifact_restoring(j, id, &e), 0);
	list(j, 0, &a, &n);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].state, "restoring");
	journal_artifacts_free(a, n);

	assert_int_equal(journal_artifact_settle(j, id, "restored", "fine", &e),
			 0);
	list(j, b, &a, &n);
	assert_int_equal(n, 0);
	assert_null(a);
	list(j, 0, &a, &n);
	assert_int_equal(n, 0);
	snprintf(q, sizeof(q),
		 "SELECT state || ':' || note FROM artifacts WHERE id = %lld",
		 (long long)id);
	assert_string_equal(sql_text(q, buf, sizeof(buf)), "restored:fine");
	journal_close(j);
}

static void test_artifact_bad_patch_value_rejected(void **state)
{
	struct journal *j = open_ok();
	struct journal_artifact *a = NULL;
	struct sp_err e;
	int64_t id;
	size_t n = 0;

	(void)state;
	id = intent(j, begin_build(j), "/t/a.so", "/s/a.so", "move");
	/* The schema's CHECK keeps nonsense out of the journal. */
	assert_int_equal(journal_artifact_patch(j, id, "half", &e), -1);
	assert_non_null(strstr(e.msg, journal_path(j)));
	list(j, 0, &a, &n);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].patch, "none");
	journal_artifacts_free(a, n);
	journal_close(j);
}

static void test_artifact_mode_change(void **state)
{
	struct journal *j = open_ok();
	struct journal_artifact *a = NULL;
	struct sp_err e;
	int64_t id;
	size_t n = 0;

	(void)state;
	id = intent(j, begin_build(j), "/t/a.so", "/s/a.so", "link");
	assert_int_equal(journal_artifact_mode(j, id, "move", &e), 0);
	assert_int_equal(journal_artifact_mode(j, id, "copy", &e), 0);
	list(j, 0, &a, &n);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].mode, "copy");
	journal_artifacts_free(a, n);
	assert_int_equal(journal_artifact_mode(j, id, "teleport", &e), -1);
	journal_close(j);
}

/* Two artifacts can never share a staged name: one would give back the
 * other's file. */
static void test_artifact_staged_path_unique(void **state)
{
	struct journal *j = open_ok();
	struct fsx_ident id = {1, 2, 3, 4};
	struct sp_err e;
	int64_t b, aid;

	(void)state;
	b = begin_build(j);
	intent(j, b, "/t/a.so", "/s/x.so", "link");
	assert_int_equal(journal_artifact_intent(j, b, "/t/b.so", "/s/x.so",
						 "link", &id, &aid, &e),
			 -1);
	assert_non_null(strstr(e.msg, journal_path(j)));
	assert_int_equal(sql_int("SELECT count(*) FROM artifacts"), 1);
	journal_close(j);
}

static void test_open_artifacts_filters_build_and_settled(void **state)
{
	struct journal *j = open_ok();
	struct journal_artifact *a = NULL;
	static const char *const terminal[] = {"restored", "kept_cargo",
					       "quarantined", "lost"};
	struct sp_err e;
	int64_t b1, b2, a1, a2, a3, t[4];
	size_t n = 0, i;
	char name[64];

	(void)state;
	b1 = begin_build(j);
	b2 = begin_build(j);
	a1 = intent(j, b1, "/t/1.so", "/s/1.so", "link");
	a2 = intent(j, b2, "/t/2.so", "/s/2.so", "move");
	a3 = intent(j, b1, "/t/3.so", "/s/3.so", "link");
	assert_int_equal(journal_artifact_staged(j, a3, &e), 0);
	/* Every terminal state leaves the list. */
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "/s/t%zu.so", i);
		t[i] = intent(j, b1, "/t/t.so", name, "link");
		assert_int_equal(journal_artifact_settle(j, t[i], terminal[i],
							 NULL, &e),
				 0);
	}

	list(j, b1, &a, &n);
	assert_int_equal(n, 2);
	assert_int_equal(a[0].id, a1);
	assert_int_equal(a[1].id, a3);
	journal_artifacts_free(a, n);

	list(j, b2, &a, &n);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].id, a2);
	assert_string_equal(a[0].mode, "move");
	journal_artifacts_free(a, n);

	list(j, 0, &a, &n);
	assert_int_equal(n, 3);
	assert_int_equal(a[0].id, a1);
	assert_int_equal(a[1].id, a2);
	assert_int_equal(a[2].id, a3);
	journal_artifacts_free(a, n);

	/* A build with nothing staged. */
	list(j, b2 + 100, &a, &n);
	assert_int_equal(n, 0);
	journal_close(j);
}

static void test_cargo_path_busy(void **state)
{
	struct journal *j = open_ok();
	struct sp_err e;
	int64_t id;

	(void)state;
	assert_int_equal(journal_cargo_path_busy(j, "/t/a.so", &e), 0);
	id = intent(j, begin_build(j), "/t/a.so", "/s/a.so", "link");
	assert_int_equal(journal_cargo_path_busy(j, "/t/a.so", &e), 1);
	assert_int_equal(journal_cargo_path_busy(j, "/t/other.so", &e), 0);
	assert_int_equal(journal_artifact_staged(j, id, &e), 0);
	assert_int_equal(journal_cargo_path_busy(j, "/t/a.so", &e), 1);
	assert_int_equal(journal_artifact_restoring(j, id, &e), 0);
	assert_int_equal(journal_cargo_path_busy(j, "/t/a.so", &e), 1);
	assert_int_equal(journal_artifact_settle(j, id, "kept_cargo", NULL, &e),
			 0);
	assert_int_equal(journal_cargo_path_busy(j, "/t/a.so", &e), 0);
	journal_close(j);
}

/* --- wheels --- */

static void wheels(struct journal *j, int64_t build, struct journal_wheel **w,
		   size_t *n)
{
	struct sp_err e;

	if (journal_unsettled_wheels(j, build, w, n, &e) < 0)
		fail_msg("open_wheels: %s", e.msg);
}

static void test_wheel_lifecycle(void **state)
{
	struct journal *j = open_ok();
	struct journal_wheel *w = NULL;
	struct sp_err e;
	int64_t b1, b2, art, w1, w2, w3;
	size_t n = 0;
	char buf[128], q[128];

	(void)state;
	b1 = begin_build(j);
	b2 = begin_build(j);
	art = intent(j, b1, "/t/a.so", "/s/a.so", "link");
	assert_int_equal(journal_wheel_intent(j, b1, art, "/o/.a.whl.tmp",
					      "/o/a.whl", &w1, &e),
			 0);
	assert_int_equal(journal_wheel_intent(j, b1, art, "/o/.b.whl.tmp",
					      "/o/b.whl", &w2, &e),
			 0);
	assert_int_equal(journal_wheel_intent(j, b2, 0, "/o/.c.whl.tmp",
					      "/o/c.whl", &w3, &e),
			 -1); /* artifact 0 does not exist: foreign key */
	assert_int_equal(sql_int("SELECT count(*) FROM wheels"), 2);

	wheels(j, b1, &w, &n);
	assert_int_equal(n, 2);
	assert_int_equal(w[0].id, w1);
	assert_int_equal(w[0].build_id, b1);
	assert_string_equal(w[0].tmp_path, "/o/.a.whl.tmp");
	assert_string_equal(w[0].final_path, "/o/a.whl");
	assert_string_equal(w[0].state, "writing");
	journal_wheels_free(w, n);

	assert_int_equal(journal_wheel_renaming(j, w1, &e), 0);
	wheels(j, 0, &w, &n);
	assert_int_equal(n, 2);
	assert_string_equal(w[0].state, "renaming");
	assert_string_equal(w[1].state, "writing");
	journal_wheels_free(w, n);

	assert_int_equal(journal_wheel_done(j, w1, 4096, "abc123", 0, &e), 0);
	assert_int_equal(journal_wheel_abandon(j, w2, "worker died", &e), 0);
	wheels(j, 0, &w, &n);
	assert_int_equal(n, 0);
	assert_null(w);
	snprintf(q, sizeof(q),
		 "SELECT state || ':' || size || ':' || sha256 FROM wheels "
		 "WHERE id = %lld",
		 (long long)w1);
	assert_string_equal(sql_text(q, buf, sizeof(buf)), "done:4096:abc123");
	snprintf(q, sizeof(q),
		 "SELECT state || ':' || error FROM wheels WHERE id = %lld",
		 (long long)w2);
	assert_string_equal(sql_text(q, buf, sizeof(buf)),
			    "abandoned:worker died");

	/* The build filter. */
	assert_int_equal(journal_wheel_intent(j, b2, art, "/o/.d.whl.tmp",
					      "/o/d.whl", &w3, &e),
			 0);
	wheels(j, b1, &w, &n);
	assert_int_equal(n, 0);
	wheels(j, b2, &w, &n);
	assert_int_equal(n, 1);
	assert_int_equal(w[0].id, w3);
	journal_wheels_free(w, n);
	journal_close(j);
}

/* --- status --- */

static void test_status_lists_unsettled_artifacts(void **state)
{
	struct journal *j = open_ok();
	struct sp_err e;
	int64_t b, keep, gone;
	json_t *st, *o;

	(void)state;
	b = begin_build(j);
	keep = intent(j, b, "/t/keep.so", "/s/keep.so", "move");
	gone = intent(j, b, "/t/gone.so", "/s/gone.so", "link");
	assert_int_equal(journal_artifact_staged(j, keep, &e), 0);
	assert_int_equal(journal_artifact_patch(j, keep, "required", &e), 0);
	assert_int_equal(journal_artifact_settle(j, gone, "restored", NULL, &e),
			 0);

	st = journal_status(j, &e);
	assert_non_null(st);
	assert_true(json_is_array(st));
	assert_int_equal(json_array_size(st), 1);
	o = json_array_get(st, 0);
	assert_int_equal(json_integer_value(json_object_get(o, "artifact")),
			 keep);
	assert_int_equal(json_integer_value(json_object_get(o, "build")), b);
	assert_string_equal(json_string_value(json_object_get(o, "cargo_path")),
			    "/t/keep.so");
	assert_string_equal(
		json_string_value(json_object_get(o, "staged_path")),
		"/s/keep.so");
	assert_string_equal(json_string_value(json_object_get(o, "mode")),
			    "move");
	assert_string_equal(json_string_value(json_object_get(o, "state")),
			    "staged");
	assert_string_equal(json_string_value(json_object_get(o, "patch")),
			    "required");
	assert_string_equal(
		json_string_value(json_object_get(o, "build_state")),
		"running");
	json_decref(st);

	/* Nothing unsettled: an empty array, not NULL. */
	assert_int_equal(journal_artifact_settle(j, keep, "lost", NULL, &e), 0);
	st = journal_status(j, &e);
	assert_non_null(st);
	assert_int_equal(json_array_size(st), 0);
	json_decref(st);
	journal_close(j);
}

/* --- losses (schema 3) --- */

static void settle(struct journal *j, int64_t aid, const char *state)
{
	struct sp_err e;

	if (journal_artifact_settle(j, aid, state, "gone", &e) < 0)
		fail_msg("settle: %s", e.msg);
}

static size_t losses(struct journal *j, struct journal_loss **l)
{
	struct sp_err e;
	size_t n = 0;

	if (journal_losses(j, l, &n, &e) < 0)
		fail_msg("losses: %s", e.msg);
	return n;
}

/* The newest unresolved lost or quarantined row of each cargo output is a
 * loss; resolving one records how and when, with an event for the log. */
static void test_losses_listed_until_resolved(void **state)
{
	struct journal *j = open_ok();
	struct journal_loss *l = NULL;
	struct sp_err e;
	int64_t b = begin_build(j), a1, a2, a3, a4;
	char buf[64];

	(void)state;
	a1 = intent(j, b, "/t/release/liba.so", "/s/1-a", "move");
	a2 = intent(j, b, "/t/release/libb.so", "/s/1-b", "move");
	a3 = intent(j, b, "/t/release/libc.so", "/s/1-c", "link");
	settle(j, a1, "lost");
	settle(j, a2, "quarantined");
	settle(j, a3, "restored");
	/* libb was lost again in a later build: one loss, the newer. */
	a4 = intent(j, b, "/t/release/libb.so", "/s/2-b", "move");
	settle(j, a4, "lost");

	assert_int_equal(losses(j, &l), 2);
	assert_int_equal(l[0].id, a1);
	assert_string_equal(l[0].cargo_path, "/t/release/liba.so");
	assert_string_equal(l[0].state, "lost");
	assert_string_equal(l[0].note, "gone");
	assert_int_equal(l[1].id, a4);
	assert_string_equal(l[1].staged_path, "/s/2-b");
	journal_losses_free(l, 2);

	assert_int_equal(journal_loss_resolve(j, "/t/release/libb.so",
					      "forgotten", &e), 0);
	assert_int_equal(losses(j, &l), 1);
	assert_int_equal(l[0].id, a1);
	journal_losses_free(l, 1);
	/* Both rows of libb are resolved, not only the one listed. */
	assert_string_equal(sql_text("SELECT group_concat(resolution) FROM "
				     "artifacts WHERE cargo_path = "
				     "'/t/release/libb.so'",
				     buf, sizeof(buf)),
			    "forgotten,forgotten");
	assert_int_equal(journal_loss_resolve(j, "/t/release/liba.so",
					      "reappeared", &e), 0);
	assert_int_equal(losses(j, &l), 0);
	journal_losses_free(l, 0);
	/* Resolving what is resolved, or no loss at all, changes nothing. */
	assert_int_equal(journal_loss_resolve(j, "/t/release/libc.so",
					      "forgotten", &e), 0);
	journal_close(j);
	assert_int_equal(sql_int("SELECT count(*) FROM artifacts WHERE "
				 "resolution IS NOT NULL"),
			 3);
	assert_int_equal(sql_int("SELECT count(*) FROM artifacts WHERE "
				 "resolved_ns IS NOT NULL"),
			 3);
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE kind = "
				 "'loss forgotten'"),
			 2);
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE kind = "
				 "'loss reappeared'"),
			 1);
}

/* A journal of schema 2 (before losses could be resolved) opens, is
 * migrated, and its lost rows are losses. */
/* What takes a journal of schema 4 back to schema 3 (migration 3 -> 4:
 * the reuse table and the wheels' reused mark, journal.c). */
#define DOWNGRADE_6_TO_5                                                       \
	"DROP TABLE reuse;"                                                    \
	"DROP TRIGGER ev_wheel_new;"                                           \
	"ALTER TABLE wheels DROP COLUMN reused;"                               \
	"CREATE TRIGGER ev_wheel_new AFTER INSERT ON wheels BEGIN"             \
	"  INSERT INTO events (build_id, artifact_id, wheel_id, t_ns, kind)"   \
	"  VALUES (NEW.build_id, NEW.artifact_id, NEW.id, NEW.updated_ns,"     \
	"          'wheel ' || NEW.state); END;"

/* What prune's (3 -> 4) and shardfix's (4 -> 5) migrations added. */
#define DOWNGRADE_5_TO_3                                                       \
	"ALTER TABLE wheels DROP COLUMN compile_ns;"                           \
	"DROP INDEX artifacts_build;"                                          \
	"DROP INDEX wheels_build;"                                             \
	"DROP INDEX wheels_artifact;"

static void test_schema2_journal_migrates(void **state)
{
	struct journal *j = open_ok();
	struct journal_loss *l = NULL;
	char *path = db_path();
	sqlite3 *db = NULL;
	struct sp_err e;
	int64_t b = begin_build(j), a1;

	(void)state;
	a1 = intent(j, b, "/t/release/liba.so", "/s/1-a", "move");
	settle(j, a1, "lost");
	journal_close(j);
	/* Take the journal back to what schema 2 made. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db,
			 DOWNGRADE_6_TO_5 DOWNGRADE_5_TO_3
			 "DROP TRIGGER ev_art_resolved;"
			 "DROP INDEX artifacts_losses;"
			 "DROP INDEX artifacts_cargo;"
			 "ALTER TABLE artifacts DROP COLUMN resolved_ns;"
			 "ALTER TABLE artifacts DROP COLUMN resolution;"
			 "PRAGMA user_version = 2;",
			 NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("downgrade: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
	assert_int_equal(sql_int("SELECT count(*) FROM pragma_table_info("
				 "'artifacts') WHERE name = 'resolution'"),
			 0);

	j = open_ok();
	assert_int_equal(sql_int("PRAGMA user_version"),
			 JOURNAL_SCHEMA_VERSION);
	assert_int_equal(losses(j, &l), 1);
	assert_int_equal(l[0].id, a1);
	journal_losses_free(l, 1);
	assert_int_equal(journal_loss_resolve(j, "/t/release/liba.so",
					      "forgotten", &e), 0);
	assert_int_equal(losses(j, &l), 0);
	journal_close(j);
	/* The CHECK holds on the migrated table. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db,
					  "UPDATE artifacts SET resolution = "
					  "'whatever'",
					  NULL, NULL, NULL),
			     SQLITE_OK);
	sqlite3_close(db);
	free(path);
}

/* --- incremental packaging: the reuse table --- */

static void reuse_row(struct journal_reuse *r, const char *digest,
		      const char *final, int64_t build)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->digest, sizeof(r->digest), "%s", digest);
	r->final_path = (char *)final;
	r->ident.dev = 0xfedcba9876543210ull;
	r->ident.ino = 0x8000000000000001ull;
	r->ident.size = 4242;
	r->ident.mtime_ns = 1700000000123456789LL;
	r->ctime_ns = 1700000000987654321LL;
	snprintf(r->sha256, sizeof(r->sha256), "%064d", 7);
	r->found = "[]";
	r->result = "{\"wheel\":\"x\"}";
	r->build_id = build;
}

static void test_reuse_put_get_touch(void **state)
{
	struct journal *j = open_ok();
	struct journal_reuse r, got;
	struct sp_err e;
	int64_t b1 = begin_build(j), b2 = begin_build(j);

	(void)state;
	assert_int_equal(journal_reuse_get(j, "d1", &got, &e), 0);
	reuse_row(&r, "d1", "/w/a-1.0-cp311-cp311-linux_x86_64.whl", b1);
	assert_int_equal(journal_reuse_put(j, &r, &e), 0);
	assert_int_equal(journal_reuse_get(j, "d1", &got, &e), 1);
	assert_string_equal(got.final_path, r.final_path);
	assert_true(got.ident.dev == r.ident.dev);
	assert_true(got.ident.ino == r.ident.ino);
	assert_int_equal(got.ident.size, 4242);
	assert_int_equal(got.ident.mtime_ns, r.ident.mtime_ns);
	assert_int_equal(got.ctime_ns, r.ctime_ns);
	assert_string_equal(got.sha256, r.sha256);
	assert_string_equal(got.found, "[]");
	assert_string_equal(got.result, r.result);
	assert_int_equal(got.build_id, b1);
	journal_reuse_release(&got);

	/* A later build that reuses it keeps it (pruning goes by build). */
	assert_int_equal(journal_reuse_touch(j, "d1", b2, &e), 0);
	assert_int_equal(journal_reuse_get(j, "d1", &got, &e), 1);
	assert_int_equal(got.build_id, b2);
	journal_reuse_release(&got);

	/* Another digest's wheel at the same path replaces the row: the
	 * file it described is gone.  One at another path does not. */
	reuse_row(&r, "d3", "/other/a-1.0-cp311-cp311-linux_x86_64.whl", b2);
	assert_int_equal(journal_reuse_put(j, &r, &e), 0);
	reuse_row(&r, "d2", "/w/a-1.0-cp311-cp311-linux_x86_64.whl", b2);
	assert_int_equal(journal_reuse_put(j, &r, &e), 0);
	assert_int_equal(journal_reuse_get(j, "d1", &got, &e), 0);
	assert_int_equal(journal_reuse_get(j, "d2", &got, &e), 1);
	journal_reuse_release(&got);
	assert_int_equal(journal_reuse_get(j, "d3", &got, &e), 1);
	journal_reuse_release(&got);
	assert_int_equal(sql_int("SELECT count(*) FROM reuse"), 2);
	journal_close(j);
}

/* cargo's file given back: the row its build wrote gets its ctime (and
 * identity); rows of other digests made from the same file as it was
 * before get the new ctime too; a row whose build read another ctime
 * (the file changed in place) carries nothing, another build's row is
 * left without. */
static void test_reuse_art_ctime(void **state)
{
	struct journal *j = open_ok();
	struct journal_reuse r, got;
	struct fsx_ident art = {.dev = 3, .ino = 77, .size = 10,
				.mtime_ns = 1000};
	struct sp_err e;
	int64_t b1 = begin_build(j), b2 = begin_build(j);

	(void)state;
	reuse_row(&r, "a", "/w/a.whl", b1);
	assert_int_equal(journal_reuse_put(j, &r, &e), 0);
	reuse_row(&r, "other", "/w/o.whl", b1);
	assert_int_equal(journal_reuse_put(j, &r, &e), 0);
	assert_int_equal(journal_reuse_get(j, "a", &got, &e), 1);
	assert_false(got.has_art_ctime);
	journal_reuse_release(&got);
	/* Another build's give-back leaves b1's rows without. */
	assert_int_equal(journal_reuse_art_ctime(j, "a", b2, &art, 5, 6, &e),
			 0);
	assert_int_equal(journal_reuse_get(j, "a", &got, &e), 1);
	assert_false(got.has_art_ctime);
	journal_reuse_release(&got);
	assert_int_equal(journal_reuse_art_ctime(j, "a", b1, &art, 5, 6, &e),
			 0);
	assert_int_equal(journal_reuse_get(j, "a", &got, &e), 1);
	assert_true(got.has_art_ctime);
	assert_int_equal(got.art_ctime_ns, 6);
	journal_reuse_release(&got);
	/* b2 writes another digest from the same file, staged again. */
	reuse_row(&r, "b", "/x/a.whl", b2);
	assert_int_equal(journal_reuse_put(j, &r, &e), 0);
	assert_int_equal(journal_reuse_art_ctime(j, "b", b2, &art, 6, 9, &e),
			 0);
	assert_int_equal(journal_reuse_get(j, "a", &got, &e), 1);
	assert_int_equal(got.art_ctime_ns, 9);
	journal_reuse_release(&got);
	/* A build that read another ctime carries nothing forward. */
	reuse_row(&r, "c", "/y/a.whl", b2);
	assert_int_equal(journal_reuse_put(j, &r, &e), 0);
	assert_int_equal(journal_reuse_art_ctime(j, "c", b2, &art, 8, 12, &e),
			 0);
	assert_int_equal(journal_reuse_get(j, "a", &got, &e), 1);
	assert_int_equal(got.art_ctime_ns, 9);
	journal_reuse_release(&got);
	assert_int_equal(journal_reuse_get(j, "c", &got, &e), 1);
	assert_int_equal(got.art_ctime_ns, 12);
	journal_reuse_release(&got);
	assert_int_equal(journal_reuse_get(j, "other", &got, &e), 1);
	assert_false(got.has_art_ctime);
	journal_reuse_release(&got);
	journal_close(j);
}

static void test_wheel_reused_is_done_and_logged(void **state)

{
	struct journal *j = open_ok();
	struct journal_wheel *w = NULL;
	struct sp_err e;
	size_t n = 9;
	json_t *log, *ev;
	int64_t b = begin_build(j);
	char buf[128];

	(void)state;
	assert_int_equal(journal_wheel_reused(j, b, "/w/a.whl", 4242,
					      "abc", &e),
			 0);
	/* Nothing for replay to settle. */
	assert_int_equal(journal_unsettled_wheels(j, 0, &w, &n, &e), 0);
	assert_int_equal(n, 0);
	journal_wheels_free(w, n);
	assert_string_equal(sql_text("SELECT state || ' ' || reused FROM "
				     "wheels",
				     buf, sizeof(buf)),
			    "done 1");
	assert_int_equal(journal_build_end(j, b, 1, NULL, &e), 0);
	log = journal_log(j, b, &e);
	assert_non_null(log);
	ev = json_array_get(json_object_get(log, "events"), 1);
	assert_string_equal(json_string_value(json_object_get(ev, "kind")),
			    "wheel reused");
	assert_string_equal(json_string_value(json_object_get(ev, "wheel")),
			    "/w/a.whl");
	json_decref(log);
	journal_close(j);
}

static void test_schema3_journal_migrates(void **state)
{
	struct journal *j = open_ok();
	char *path = db_path();
	sqlite3 *db = NULL;
	struct sp_err e;
	int64_t b = begin_build(j), a1, w1 = 0;
	char buf[64];

	(void)state;
	a1 = intent(j, b, "/t/release/liba.so", "/s/1-a", "link");
	assert_int_equal(journal_wheel_intent(j, b, a1, "/w/.a.tmp", "/w/a.whl",
					      &w1, &e),
			 0);
	journal_close(j);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, DOWNGRADE_6_TO_5 DOWNGRADE_5_TO_3
			 "PRAGMA user_version = 3;", NULL,
			 NULL, NULL) != SQLITE_OK)
		fail_msg("downgrade: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
	assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master WHERE "
				 "name = 'reuse'"),
			 0);

	j = open_ok();
	assert_int_equal(sql_int("PRAGMA user_version"),
			 JOURNAL_SCHEMA_VERSION);
	/* The wheel written before is no reused one. */
	assert_int_equal(sql_int("SELECT reused FROM wheels"), 0);
	assert_int_equal(journal_wheel_reused(j, b, "/w/b.whl", 1, "abc", &e),
			 0);
	assert_string_equal(sql_text("SELECT kind FROM events ORDER BY id "
				     "DESC LIMIT 1",
				     buf, sizeof(buf)),
			    "wheel reused");
	journal_close(j);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
		T(test_open_creates_schema_and_reopens),
		T(test_open_garbage_is_refused_and_kept),
		T(test_open_newer_schema_is_refused),
		T(test_open_missing_state_dir_fails),
		T(test_build_begin_end),
		T(test_builds_interrupt_marks_only_running),
		T(test_artifact_full_lifecycle),
		T(test_artifact_bad_patch_value_rejected),
		T(test_artifact_mode_change),
		T(test_artifact_staged_path_unique),
		T(test_open_artifacts_filters_build_and_settled),
		T(test_cargo_path_busy),
		T(test_wheel_lifecycle),
		T(test_status_lists_unsettled_artifacts),
		T(test_losses_listed_until_resolved),
		T(test_schema2_journal_migrates),
		T(test_reuse_put_get_touch),
		T(test_reuse_art_ctime),
		T(test_wheel_reused_is_done_and_logged),
		T(test_schema3_journal_migrates),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
