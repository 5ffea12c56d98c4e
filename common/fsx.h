/*
 * fsx.h - durable file operations: the one recipe for changing files.
 *
 * Every rename, link and unlink that spoke performs on a cargo output or a
 * staged file goes through these helpers (a new file it writes goes
 * through tmpfile.h), so that each one is followed by an fsync of the
 * directories it changed and is preceded by a crash point (fault.h).
 * Callers journal their intent before calling them.  Path strings are
 * common/path.h's, and whether a file is still the one read before is
 * common/stamp.h's.
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

/* fsx_read_all() of a regular file only: a FIFO, device or folder is
 * refused without waiting (opening a FIFO waits for a writer, and an
 * input named on a command line may be one). */
char *fsx_read_regular(const char *path, size_t *len, struct sp_err *e);

/* fsx_read_all(), and *mode (when not NULL) gets the st_mode of the file
 * read, through the same descriptor: a file swapped between a stat and
 * the read cannot lend the other its mode. */
char *fsx_read_all_mode(const char *path, size_t *len, mode_t *mode,
			struct sp_err *e);

#endif
