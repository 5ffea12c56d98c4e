/*
 * statedir.h - the state directory, held by descriptor, and its lock.
 *
 * <state>/journal.db   the journal
 * <state>/lock         flock()ed by the one process that may write the
 *                      journal: a running coordinator, or `spoke recover`
 *                      when none runs
 * <state>/staged/      staged cargo outputs (hard links, or moved files)
 * <state>/quarantine/  staged files that someone else changed
 * <state>/log/         the coordinator's log
 *
 * The user's path is resolved once (realpath), then walked from "/" one
 * component at a time with openat(O_DIRECTORY|O_NOFOLLOW), each folder
 * checked on the descriptor it was opened as (fstat), so what is checked
 * is what is used.  Every parent must be owned by root or by the user and
 * writable by no one else, unless it is sticky and owned by root (as /tmp
 * is); the state directory, staged/, quarantine/ and log/ must be the
 * user's own and writable by no one else.  Another user who could rename
 * a parent could otherwise swap it for a symlink between a check and a
 * move and have spoke link or rename cargo outputs into their folder.
 *
 * SPOKE_SAFE_DIRECTORIES (a colon-separated list of absolute real paths,
 * like git's safe.directory) lifts the parent rule for each folder listed
 * and every folder below it: the user declares those folders trusted (root
 * building a checkout that uid 1000 owns).  It never lifts the rule for
 * the state directory itself and its subdirectories.  Even then, every
 * stage, give-back and replay step goes through the descriptors held here,
 * so a later swap of a parent redirects nothing.
 */
#ifndef SPOKE_JOURNAL_STATEDIR_H
#define SPOKE_JOURNAL_STATEDIR_H

#include "common/err.h"

/* An open state directory.  Every descriptor is O_DIRECTORY, opened
 * without following a symlink at any component of path. */
struct statedir {
	char *path;	   /* its real path, as checked (owned) */
	int fd;		   /* the state directory */
	int staged_fd;	   /* <state>/staged, -1 if absent (no create) */
	int quarantine_fd; /* <state>/quarantine, -1 likewise */
};

/* The value of a struct statedir that holds nothing. */
#define STATEDIR_INIT                                                          \
	{                                                                      \
		NULL, -1, -1, -1                                               \
	}

/* Resolves path, checks it and every parent up to "/" as above, and opens
 * the state directory and its staged/ and quarantine/.  With create set,
 * missing folders (the state directory, its parents, its subdirectories)
 * are made, mode 0700, one component at a time relative to their parent's
 * descriptor; without it, a missing subdirectory is left absent (its
 * descriptor -1) and a missing state directory is an error (ENOENT).  On
 * failure sd holds nothing and e names the folder and why, and, for a
 * parent, the opt-in. */
int statedir_open(struct statedir *sd, const char *path, int create,
		  struct sp_err *e);

/* Closes sd's descriptors and frees its path; sd then holds nothing. */
void statedir_release(struct statedir *sd);

/* 1 when SPOKE_SAFE_DIRECTORIES covers dir (an absolute real path): an
 * entry equal to dir or to a folder above it.  Exposed for the tests. */
int statedir_safe_listed(const char *dir);

/* statedir_open() with create set, then released: for callers that only
 * need the folders made and checked. */
int statedir_prepare(const char *path, struct sp_err *e);

/* Opens the folder that holds a cargo output (an absolute path, as the
 * client resolved it) the way the state directory is opened: from "/" one
 * component at a time, never through a symlink, and every folder on the
 * way, itself included, checked by the rule for the folders above the
 * state directory (owned by root or the user, writable by no one else
 * unless it is a sticky folder of root's, or listed in
 * SPOKE_SAFE_DIRECTORIES).  So whoever cannot write those folders cannot
 * swap one for a symlink between staging and giving back.  Sets *name to
 * the output's file name.  Returns the folder's descriptor (O_RDONLY), or
 * -1 with e filled and errno set: ENOENT when a folder is missing, EACCES
 * when one is refused. */
int statedir_open_cargo_dir(const char *cargo_path, const char **name,
			    struct sp_err *e);

/* statedir_open() without create, then released. */
int statedir_check(const char *path, struct sp_err *e);

/* Takes the lock of an open state directory without waiting: <state>/lock
 * is opened relative to sd->fd (O_NOFOLLOW).  Returns 1 with *fd set (keep
 * it open to hold the lock), 0 when another process holds it, -1 on
 * error.  Taking it removes the temporaries a killed holder left in the
 * state directory itself (".<name>.<random>.spoke-tmp"). */
int statedir_lock_held(const struct statedir *sd, int *fd, struct sp_err *e);

/* statedir_check() and statedir_lock_held() on path, for callers that only
 * ask whether a coordinator holds the lock. */
int statedir_lock(const char *path, int *fd, struct sp_err *e);

/* After the journal was opened by path (SQLite opens files by name):
 * checks that <sd->path>/journal.db is the file in the held directory, so
 * that a parent swapped between statedir_open() and that open is caught
 * rather than journaled into. */
int statedir_check_journal(const struct statedir *sd, struct sp_err *e);

#endif
