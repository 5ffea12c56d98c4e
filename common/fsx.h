/*
 * fsx.h - durable file operations: the one recipe for changing files.
 *
 * Every rename, link and unlink that spoke performs on a cargo output or a
 * staged file goes through these helpers (a new file it writes goes
 * through tmpfile.h), so that each one is followed by an fsync of the
 * directories it changed and is preceded by a crash point (fault.h).  Callers journal their intent before calling them.
 */
#ifndef SPOKE_COMMON_FSX_H
#define SPOKE_COMMON_FSX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/* The identity of a file as spoke records it: device, inode, size, mtime. */
struct fsx_ident {
	uint64_t dev;
	uint64_t ino;
	int64_t size;
	int64_t mtime_ns;
};

/* lstat()s path into id.  Returns 0, or -1 with errno set (ENOENT when the
 * path does not exist) and e filled. */
int fsx_ident_of(const char *path, struct fsx_ident *id, struct sp_err *e);

/* Same size and mtime, and same inode when same_inode is set. */
int fsx_ident_same(const struct fsx_ident *a, const struct fsx_ident *b,
		   int same_inode);

/* fsyncs the directory at dir. */
int fsx_fsync_dir(const char *dir, struct sp_err *e);

/* fsyncs an open file descriptor; name is for the error message. */
int fsx_fsync_fd(int fd, const char *name, struct sp_err *e);

/*
 * Renames, links, unlinks and copies, relative to directory descriptors,
 * for the state directory and cargo's folders (journal/stage,
 * journal/replay): each names a file by a descriptor of its folder,
 * opened once, and a plain name in it, so a symlink swapped into the
 * folder's path after it was opened cannot redirect the operation.
 * shown is the path messages name.  Each is preceded by its crash point
 * (fault.h); "sync" fsyncs the folder(s) it changed, and a batch passes 0
 * and fsyncs each folder once after the last.
 */
struct fsx_at {
	int dfd;
	const char *name;  /* one component: no slash */
	const char *shown; /* for messages */
};

/* fstatat(AT_SYMLINK_NOFOLLOW) into id; -1 with errno (ENOENT) and e. */
int fsx_ident_at(const struct fsx_at *f, struct fsx_ident *id,
		 struct sp_err *e);

/* fsyncs the folder f->dfd (the one f is in). */
int fsx_fsync_at(const struct fsx_at *f, struct sp_err *e);

/* linkat(from, to); with sync, then fsyncs to's folder. */
int fsx_link_at(const struct fsx_at *from, const struct fsx_at *to, int sync,
		struct sp_err *e);

/* renameat(from, to), or renameat2(RENAME_NOREPLACE) when noreplace is
 * set (EEXIST rather than replacing); with sync, then fsyncs to's folder
 * and, when it is another descriptor, from's. */
int fsx_rename_at(const struct fsx_at *from, const struct fsx_at *to,
		  int noreplace, int sync, struct sp_err *e);

/* unlinkat(f); with sync, then fsyncs its folder.  A missing file is not
 * an error when missing_ok is set. */
int fsx_unlink_at(const struct fsx_at *f, int missing_ok, int sync,
		  struct sp_err *e);

/* Copies the file from to a new file to, for a stage whose rename failed
 * with EXDEV: to is created O_CREAT|O_EXCL|O_NOFOLLOW (an existing to is
 * an error and left alone), filled through FICLONE, else copy_file_range,
 * else read/write, given from's mode and mtime (cargo judges freshness by
 * it), fsynced, and so is its folder; removed again on failure. */
int fsx_copy_at(const struct fsx_at *from, const struct fsx_at *to,
		struct sp_err *e);

/* mkdir -p with the given mode for directories it creates, following
 * symlinks: only inside a folder no one else can enter (the private
 * mkdtemp() scratch of worker/repair_wheel.c) and in tests.  Folders
 * spoke creates elsewhere are made with dirs_open (dirs.h), the state
 * directory's with statedir_open (journal/statedir.h). */
int fsx_mkdir_p(const char *path, mode_t mode, struct sp_err *e);

/* Reads a whole file into a NUL-terminated malloc'd buffer (caller frees);
 * *len gets its size when len is not NULL. */
char *fsx_read_all(const char *path, size_t *len, struct sp_err *e);

/*
 * What tells a process that a file it read is still the same, so that what
 * it made of the file may be kept (a worker's parsed manylinux policy and
 * ld.so.conf): the identity of the file a path leads to (following
 * symlinks, unlike fsx_ident_of) and its ctime, or that there was no file.
 * Timestamps are coarser than writes, so a file changed less than
 * FSX_STAMP_RACY_S seconds before its stamp was taken might change again
 * unseen; its stamp is "racy" and equals nothing, as git treats such index
 * entries.
 */
#define FSX_STAMP_RACY_S 2
struct fsx_stamp {
	struct fsx_ident id;
	int64_t ctime_ns;
	int exists, racy;
};

/* Stamps path (following symlinks) now. */
void fsx_stamp_take(const char *path, struct fsx_stamp *s);

/* 1 when a and b say the same unchanged file (or both no file), else 0;
 * always 0 when either is racy. */
int fsx_stamp_same(const struct fsx_stamp *a, const struct fsx_stamp *b);

/* The stamp epoch.  While it is not 0, a cache that checked its stamps
 * once in the epoch trusts them until the epoch changes, without a new
 * stat().  A worker sets it to its job's build, so every job of a build
 * sees the same policy and ld.so.conf, and a small wheel does not pay
 * ten stat()s for files that did not change.  0 (the default, and in
 * every process but a worker) checks on every use. */
void fsx_stamp_epoch_set(uint64_t epoch);
uint64_t fsx_stamp_epoch(void);

/* Returns a malloc'd copy of the directory part of path ("." when none). */
char *fsx_dirname(const char *path);

/* Returns a pointer into path at its last component. */
const char *fsx_basename(const char *path);

/* Returns a malloc'd "a/b" (exactly one slash between). */
char *fsx_join(const char *a, const char *b);

/* Makes path absolute against the current directory (malloc'd); no
 * symlinks are resolved.  NULL with e filled when the current directory
 * cannot be read, or on out-of-memory. */
char *fsx_absolute(const char *path, struct sp_err *e);

/* 1 if path exists (lstat succeeds), 0 if not. */
int fsx_exists(const char *path);

#endif
