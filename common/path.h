/*
 * path.h - path strings.
 *
 * Splitting, joining and making absolute are string operations: nothing
 * here opens a file or resolves a symlink (a folder spoke uses is opened
 * by descriptor, common/dirs.h).  path_exists and path_same_file are the
 * questions asked of the file system, for messages, tests and comparing
 * paths configuration files name.
 */
#ifndef SPOKE_COMMON_PATH_H
#define SPOKE_COMMON_PATH_H

#include "common/err.h"

/* Returns a malloc'd copy of the directory part of path ("." when none). */
char *path_dirname(const char *path);

/* Returns a pointer into path at its last component. */
const char *path_basename(const char *path);

/* Returns a malloc'd "a/b" (exactly one slash between). */
char *path_join(const char *a, const char *b);

/* Makes path absolute against the current directory (malloc'd); no
 * symlinks are resolved.  NULL with e filled when the current directory
 * cannot be read, or on out-of-memory. */
char *path_absolute(const char *path, struct sp_err *e);

/* A malloc'd copy of path with "." components, repeated slashes and a
 * trailing slash removed and each ".." taking the component before it
 * away, as strings ("/a/b/../c/." is "/a/c"; ".." at the root stays the
 * root; a relative path keeps the ".." it cannot take away: "../x").  No
 * symlink is resolved, so "a/link/.." is "a" even where the kernel would
 * go elsewhere: for paths a user wrote in a configuration file, as tools
 * that read them (maturin, cargo) normalize them.  NULL when out of
 * memory. */
char *path_normalize(const char *path);

/* 1 when a and b name one file (equal strings, or stat gives the same
 * device and inode: the paths cargo reports and those a pyproject.toml
 * names may differ by a symbolic link on the way), else 0. */
int path_same_file(const char *a, const char *b);

/* 1 when real (a path with every link resolved, as realpath() gives it)
 * is root or lies below it, root's links resolved first; 0 when not, or
 * when root cannot be resolved.  "/" holds everything; "/ab" is not
 * below "/a".  The one "inside the project" test of build and sdist. */
int path_real_below(const char *real, const char *root);

/* 1 if path exists (lstat succeeds), 0 if not. */
int path_exists(const char *path);

#endif
