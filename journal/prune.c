/*
 * prune.c - deleting what no one needs any more from the journal, and
 * giving the space back (prune.h).
 */
#include "journal/prune.h"

#include <stdio.h>

#include "journal/jdb.h"

/*
 * The deletes of one step, in this order: a row goes before the rows it
 * points at (events and wheels, then artifacts, then builds), so that
 * each step leaves a journal whose foreign keys hold.  Each takes ?1, the
 * oldest build kept, and ?2, the most rows it deletes.  A table whose
 * rows name the build that last needed them (reuse) is pruned by one
 * line of its own.
 *
 * A loss (lost or quarantined, no resolution) is reported while no later
 * row of its cargo output exists; such a later row is kept while the loss
 * is there, or deleting it would bring the loss back into `spoke status`.
 * The loss itself goes first (it is no longer reported), the later row in
 * a later step.
 */
static const char *const prune_deletes[] = {
	"DELETE FROM events WHERE id IN (SELECT id FROM events "
	"WHERE build_id < ?1 ORDER BY build_id, id LIMIT ?2)",

	"DELETE FROM wheels WHERE id IN (SELECT id FROM wheels "
	"WHERE build_id < ?1 AND state IN ('done', 'abandoned') "
	"AND id < (SELECT max(id) FROM wheels) ORDER BY build_id LIMIT ?2)",

	"DELETE FROM artifacts WHERE id IN (SELECT a.id FROM artifacts a "
	"WHERE a.build_id < ?1 "
	"AND a.state IN ('restored', 'kept_cargo', 'lost', 'quarantined') "
	"AND a.id < (SELECT max(id) FROM artifacts) "
	"AND NOT (a.state IN ('lost', 'quarantined') "
	"  AND a.resolution IS NULL AND NOT EXISTS (SELECT 1 FROM artifacts l "
	"  WHERE l.cargo_path = a.cargo_path AND l.id > a.id)) "
	"AND NOT EXISTS (SELECT 1 FROM artifacts o "
	"  WHERE o.cargo_path = a.cargo_path AND o.id < a.id "
	"  AND o.state IN ('lost', 'quarantined') AND o.resolution IS NULL) "
	"AND NOT EXISTS (SELECT 1 FROM wheels w WHERE w.artifact_id = a.id) "
	"ORDER BY a.build_id LIMIT ?2)",

	/* A wheel no kept build wrote or reused: its next build writes it
	 * once more (server/reuse.h). */
	"DELETE FROM reuse WHERE digest IN (SELECT digest FROM reuse "
	"WHERE build_id < ?1 ORDER BY build_id LIMIT ?2)",

	"DELETE FROM builds WHERE id IN (SELECT b.id FROM builds b "
	"WHERE b.id < ?1 AND b.state != 'running' "
	"AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.build_id = b.id) "
	"AND NOT EXISTS (SELECT 1 FROM wheels w WHERE w.build_id = b.id) "
	"ORDER BY b.id LIMIT ?2)",
};

/* One integer from sql with up to one bound integer (bind >= 0), into
 * *v; 0 and *v untouched when it gives no row. */
static int query_int(struct journal *j, const char *sql, int64_t bind,
		     int64_t *v, struct sp_err *e)
{
	sqlite3_stmt *st;
	int rc, slot;

	if (!(st = jdb_stmt_get(j, sql, &slot, e)))
		return -1;
	if (bind >= 0)
		sqlite3_bind_int64(st, 1, bind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	jdb_stmt_put(st, slot);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return jdb_fail(j, e, "cannot read the journal");
	return 0;
}

/*
 * Pruning and vacuum commit without the fsync every other commit makes
 * (synchronous=NORMAL, in WAL mode): a delete lost to a power cut is
 * only done again, and the WAL stays whole either way (its frames are
 * checksummed; an unsynced tail is dropped).  The next commit made with
 * synchronous=FULL, an intent, fsyncs the WAL with these frames in it.
 * The fsync was half of a step's time.
 */
static int relaxed(struct journal *j, int on, struct sp_err *e)
{
	return jdb_exec(j,
			on ? "PRAGMA synchronous = NORMAL"
			   : "PRAGMA synchronous = FULL",
			e);
}

static int prune_step(struct journal *j, int64_t cutoff, int rows,
		      struct sp_err *e)
{
	int64_t deleted = 0;
	size_t i;

	if (journal_begin(j, e) < 0)
		return -1;
	for (i = 0; i < sizeof(prune_deletes) / sizeof(*prune_deletes); i++) {
		sqlite3_stmt *st;
		int rc, slot;

		/* Parsed once: a step runs after every build. */
		if (!(st = jdb_stmt_get(j, prune_deletes[i], &slot, e)))
			goto fail;
		sqlite3_bind_int64(st, 1, cutoff);
		sqlite3_bind_int64(st, 2, rows);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE) {
			jdb_fail(j, e, "cannot prune");
			jdb_stmt_put(st, slot);
			goto fail;
		}
		jdb_stmt_put(st, slot);
		deleted += sqlite3_changes(jdb_handle(j));
	}
	if (journal_commit(j, e) < 0)
		return -1;
	return deleted > 0;
fail:
	journal_rollback(j);
	return -1;
}

int journal_prune_step(struct journal *j, int keep_builds, int rows,
		       struct sp_err *e)
{
	int64_t cutoff = 0;
	int rc;

	if (keep_builds < 1 || rows < 1)
		return sp_err_set(e, "pruning keeps at least one build and "
				     "deletes at least one row a step");
	/* The oldest of the builds kept; none while there are fewer. */
	if (query_int(j,
		      "SELECT id FROM builds ORDER BY id DESC LIMIT 1 OFFSET ?",
		      keep_builds - 1, &cutoff, e) < 0)
		return -1;
	if (cutoff == 0)
		return 0;
	if (relaxed(j, 1, e) < 0)
		return -1;
	rc = prune_step(j, cutoff, rows, e);
	/* FULL again whatever happened: every other commit needs it. */
	if (relaxed(j, 0, rc < 0 ? NULL : e) < 0)
		return -1;
	return rc;
}

int journal_space(struct journal *j, struct journal_space *out,
		  struct sp_err *e)
{
	int64_t size = 0, count = 0, free_pages = 0, av = 0;

	if (query_int(j, "PRAGMA page_size", -1, &size, e) < 0 ||
	    query_int(j, "PRAGMA page_count", -1, &count, e) < 0 ||
	    query_int(j, "PRAGMA freelist_count", -1, &free_pages, e) < 0 ||
	    query_int(j, "PRAGMA auto_vacuum", -1, &av, e) < 0)
		return -1;
	out->bytes = size * count;
	out->free_bytes = size * free_pages;
	out->incremental = av == 2;
	return 0;
}

int journal_vacuum_step(struct journal *j, int pages, struct sp_err *e)
{
	int64_t count = 0, free_pages = 0, av = 0, slack, n;
	char sql[64];
	int rc;

	if (query_int(j, "PRAGMA auto_vacuum", -1, &av, e) < 0 ||
	    query_int(j, "PRAGMA page_count", -1, &count, e) < 0 ||
	    query_int(j, "PRAGMA freelist_count", -1, &free_pages, e) < 0)
		return -1;
	/* Some free pages stay: the next build fills them instead of
	 * growing the file again, and a steady journal (a build added, the
	 * oldest pruned) does not shrink and grow with every build. */
	slack = count / 16 > 64 ? count / 16 : 64;
	if (av != 2 || free_pages <= slack)
		return 0;
	n = free_pages - slack < pages ? free_pages - slack : pages;
	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%lld)",
		 (long long)n);
	if (relaxed(j, 1, e) < 0)
		return -1;
	rc = jdb_exec(j, sql, e);
	if (relaxed(j, 0, rc < 0 ? NULL : e) < 0)
		return -1;
	return rc < 0 ? -1 : 1;
}

int journal_vacuum_convert(struct journal *j, struct sp_err *e)
{
	int64_t av = 0;

	if (query_int(j, "PRAGMA auto_vacuum", -1, &av, e) < 0)
		return -1;
	if (av == 2)
		return 0;
	/* The mode asked for takes effect in the VACUUM, which writes the
	 * whole new file through the WAL and commits it at once. */
	if (jdb_exec(j, "PRAGMA auto_vacuum = INCREMENTAL", e) < 0 ||
	    jdb_exec(j, "VACUUM", e) < 0)
		return -1;
	return 1;
}
