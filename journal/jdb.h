/*
 * jdb.h - the journal's SQLite handle, for the other files of journal/
 * that keep their own statements (prune.c).  Not for anything outside
 * journal/: no SQL lives there.
 */
#ifndef SPOKE_JOURNAL_JDB_H
#define SPOKE_JOURNAL_JDB_H

#include <sqlite3.h>

#include "common/err.h"

/* journal.h's; not included, as journal.c includes this. */
struct journal;

sqlite3 *jdb_handle(struct journal *j);

/* Fills e with "journal '<path>': <what>: <SQLite's message>" (and the
 * errno behind it, when the disk failed); returns -1. */
int jdb_fail(struct journal *j, struct sp_err *e, const char *what);

/* The prepared statement of sql, a string literal (its address is the
 * key), parsed once per journal handle; NULL with e when it cannot be
 * prepared.  Give it back with jdb_stmt_put(st, *slot) after each use. */
sqlite3_stmt *jdb_stmt_get(struct journal *j, const char *sql, int *slot,
			   struct sp_err *e);
void jdb_stmt_put(sqlite3_stmt *st, int slot);

/* Runs sql (no parameters, no rows wanted); -1 with e on failure. */
int jdb_exec(struct journal *j, const char *sql, struct sp_err *e);

#endif
