/*
 * prune.h - a journal that does not grow forever.
 *
 * Every build adds rows (its build, artifacts, wheels and their events,
 * about 2 KB per artifact).  Pruning deletes the rows of builds older than
 * the last keep_builds, except what recovery and the reports still need:
 *
 *   - every unsettled row: an artifact staging, staged or restoring, a
 *     wheel writing or renaming, a build running (replay settles them);
 *   - every unresolved loss that `spoke status` reports (a lost or
 *     quarantined artifact with no resolution and no later row of the
 *     same cargo output), and the later rows that keep an older loss from
 *     being reported, for as long as that older loss is there;
 *   - what the rows kept point at (their build, the artifact of a wheel);
 *   - the newest artifact and wheel, so that SQLite never hands out a
 *     deleted row's id again.
 *
 * A build whose timeline (events) is gone but whose row stays is shown by
 * `spoke log` as pruned.  Pruning runs in small transactions, in the
 * coordinator's idle time; freed pages go back to the file system through
 * incremental vacuum.  docs/failure-model.md, "Pruning", says why replay
 * needs nothing that is deleted.
 */
#ifndef SPOKE_JOURNAL_PRUNE_H
#define SPOKE_JOURNAL_PRUNE_H

#include <stdint.h>

#include "common/err.h"
#include "journal/journal.h"

/* The builds `spoke serve` keeps by default (--keep-builds). */
#define PRUNE_KEEP_BUILDS 100

/* The most rows of each table one step deletes: about 2 ms here, so a
 * build arriving meanwhile hardly waits. */
#define PRUNE_STEP_ROWS 64

/* One step: one transaction deleting at most rows rows of each table.
 * Returns 1 when it deleted something (call again), 0 when nothing is
 * left to prune, -1 with e on error (nothing of the step is deleted). */
int journal_prune_step(struct journal *j, int keep_builds, int rows,
		       struct sp_err *e);

/* Gives at most pages free pages back to the file system (PRAGMA
 * incremental_vacuum), leaving some free for the next builds.  Returns 1
 * when it gave some back, 0 when there is nothing to give, -1 with e. */
int journal_vacuum_step(struct journal *j, int pages, struct sp_err *e);

/* A journal made before spoke pruned has no incremental vacuum: one
 * VACUUM (a transaction of its own: a crash leaves the old file whole)
 * rewrites it with it.  For the lock holder only, with no transaction
 * open; it takes as long as copying the journal.  Returns 1 when it
 * converted, 0 when there was nothing to do, -1 with e. */
int journal_vacuum_convert(struct journal *j, struct sp_err *e);

/* The journal's size: the database file's pages and those of them free,
 * in bytes, and whether it can give pages back (incremental vacuum). */
struct journal_space {
	int64_t bytes, free_bytes;
	int incremental;
};
int journal_space(struct journal *j, struct journal_space *out,
		  struct sp_err *e);

#endif
