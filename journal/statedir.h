/*
 * statedir.h - the state directory and its lock.
 *
 * <state>/journal.db   the journal
 * <state>/lock         flock()ed by the one process that may write the
 *                      journal: a running coordinator, or `spoke recover`
 *                      when none runs
 * <state>/staged/      staged cargo outputs (hard links, or moved files)
 * <state>/quarantine/  staged files that someone else changed
 * <state>/log/         the coordinator's log
 */
#ifndef SPOKE_STATEDIR_H
#define SPOKE_STATEDIR_H

#include "common/err.h"

/* Creates the state directory and its subdirectories (mode 0700) and checks
 * that each is a real directory (not a symlink, which would redirect the
 * renames into it), owned by us and writable by no other user. */
int statedir_prepare(const char *path, struct sp_err *e);

/* Checks, without creating anything, what statedir_prepare() checks: the
 * state directory and those of its subdirectories that exist are real
 * directories, ours, and writable by no other user. */
int statedir_check(const char *path, struct sp_err *e);

/* Takes the lock without waiting (after statedir_check()).  Returns 1 with *fd set (keep it open to
 * hold the lock), 0 when another process holds it, -1 on error. */
int statedir_lock(const char *path, int *fd, struct sp_err *e);

#endif
