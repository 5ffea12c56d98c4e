/*
 * tmpfile.h - the one way spoke writes a file.
 *
 * Every file spoke puts in place (a wheel, a repaired wheel, a debug file,
 * an sdist, a bundle, a patch-elf output) is written as a temporary file
 * beside its final name and renamed there:
 *
 *   1. created relative to the descriptor of its folder (dirs.h) with
 *      openat(O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC) under a name no other
 *      user can predict (random bytes from getrandom), so a symlink or a
 *      file planted in the folder is never followed, truncated or reused;
 *   2. written, fsynced, and closed with the close's error checked (NFS
 *      and quotas report there);
 *   3. renamed into place with renameat() in the same folder, which
 *      replaces whatever name stands there (a planted symlink included)
 *      and never writes through it; optionally never replacing;
 *   4. the folder fsynced, so the new name survives a power cut.
 *
 * On every error path the temporary is removed.  While a temporary is
 * open it is listed in a registry that a signal handler can walk without
 * allocating or locking; tmpfile_remove_on_signals() makes SIGINT, SIGTERM
 * and SIGHUP remove the temporaries of the process that created them (a
 * forked child never removes its parent's), then die of the signal.
 *
 * Crash points (fault.h): "fsync" before the file's and the folder's
 * fsync, "rename" before the rename, as fsx.h's helpers have them, so the
 * crash and kill matrices see the same steps.  tmpfile_write_buf also has
 * "write" before it creates the file.
 */
#ifndef SPOKE_COMMON_TMPFILE_H
#define SPOKE_COMMON_TMPFILE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/* A temporary file being written.  Zero-initialise it or call
 * tmpfile_init; fd is the caller's to write (never to close). */
struct tmpfile {
	int fd;		       /* the open file, -1 when none */
	int dirfd;	       /* owned duplicate of its folder's descriptor */
	int slot;	       /* its place in the signal registry, or -1 */
	char name[NAME_MAX + 1]; /* its name in the folder */
	char *dir_label;       /* the folder's path, for messages (owned) */
};

/* An empty temporary, for declarations. */
#define TMPFILE_INIT {.fd = -1, .dirfd = -1, .slot = -1}

/* Flags of tmpfile_commit. */
enum {
	TMPFILE_NOREPLACE = 1, /* fail with EEXIST rather than replace */
	TMPFILE_NO_DIRSYNC = 2, /* the caller fsyncs the folder later, once
				 * for a batch */
};

void tmpfile_init(struct tmpfile *t);

/* Writes into buf (of size len) a temporary name for final: "." + final
 * (shortened to fit) + "." + 24 random hex digits + ".spoke-tmp".  The
 * suffix is not ".whl": a temporary left behind never looks like a wheel.
 * Returns 0, or -1 with e filled (getrandom failed). */
int tmpfile_name(char *buf, size_t len, const char *final, struct sp_err *e);

/* Creates a temporary for the file final in the folder dirfd (whose path
 * dir_label names it in messages), opened read-write with mode (less the
 * umask).  The folder's descriptor is duplicated: the caller may close
 * its own.  A name that exists (never by chance) is drawn again a few
 * times.  Returns 0, or -1 with e filled and t left empty. */
int tmpfile_create(struct tmpfile *t, int dirfd, const char *dir_label,
		   const char *final, mode_t mode, struct sp_err *e);

/* Like tmpfile_create, with the exact name given (one the coordinator
 * chose with tmpfile_name and journaled, so that replay removes it).
 * Fails with EEXIST, removing nothing, when the name exists. */
int tmpfile_create_named(struct tmpfile *t, int dirfd, const char *dir_label,
			 const char *name, mode_t mode, struct sp_err *e);

/* Writes len bytes of buf at the file's current offset (retrying short
 * writes and EINTR).  Returns 0, or -1 with e filled; the temporary stays
 * until tmpfile_discard. */
int tmpfile_write(struct tmpfile *t, const void *buf, size_t len,
		  struct sp_err *e);

/* Steps 2 to 4 above: fsync, close, renameat to final in the same folder,
 * fsync of the folder (unless TMPFILE_NO_DIRSYNC).  Whatever happens, t is
 * released afterwards: on failure before the rename the temporary is
 * removed; a failed folder fsync leaves the file at its final name and
 * returns -1. */
int tmpfile_commit(struct tmpfile *t, const char *final, int flags,
		   struct sp_err *e);

/* Closes and removes the temporary if it is still there, and releases t.
 * Safe on an empty or committed t. */
void tmpfile_discard(struct tmpfile *t);

/* The whole recipe for a buffer: creates a temporary for final in dirfd,
 * writes buf, commits it (replacing final).  Returns 0 or -1 with e
 * filled, leaving no temporary. */
int tmpfile_write_buf(int dirfd, const char *dir_label, const char *final,
		      const void *buf, size_t len, mode_t mode,
		      struct sp_err *e);

/* A scratch file that never has a name anyone could find: opened
 * read-write in the folder dirfd (dir_label for messages) with O_TMPFILE,
 * or, where the file system lacks it, created as tmpfile_create does (hint
 * in its name) and unlinked at once, while the signal registry still
 * lists it.  Either way nothing is left behind once the descriptor is
 * closed, whatever ends the process.  For data too large to hold in
 * memory between two steps (a patched library on its way into a wheel).
 * Returns the descriptor (the caller closes it), or -1 with e filled. */
int tmpfile_anon(int dirfd, const char *dir_label, const char *hint,
		 struct sp_err *e);

/* Installs handlers for SIGINT, SIGTERM and SIGHUP (those not ignored)
 * that remove this process's open temporaries and then let the signal
 * kill the process; also removes them at exit().  For the spoke command, whose writers run
 * in its own process; the coordinator handles its signals itself. */
void tmpfile_remove_on_signals(void);

#endif
