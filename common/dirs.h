/*
 * dirs.h - folders held by descriptor.
 *
 * spoke writes into folders that other local users may own or write (a
 * shared wheelhouse under /tmp).  A path is therefore looked up once, one
 * component at a time, and the folder is then used through its descriptor
 * (openat, renameat, unlinkat), so that a symlink swapped into the path
 * later cannot redirect a write.
 *
 * Two walks: a folder the user named (-o, -w, --target-dir) may hold
 * symlinks, which are followed once while it is resolved; a folder spoke
 * creates, or a path spoke resolved before, is walked with O_NOFOLLOW at
 * every component, and a symlink there is refused with a message naming
 * it.  Folders either walk creates are made one component at a time with
 * mkdirat() and entered with O_NOFOLLOW, never through a symlink.
 */
#ifndef SPOKE_COMMON_DIRS_H
#define SPOKE_COMMON_DIRS_H

#include <sys/types.h>

#include "common/err.h"

/* How dirs_open walks its path. */
enum {
	DIRS_CREATE = 1, /* make missing components (mkdirat, mode) */
	DIRS_FOLLOW = 2, /* existing components may be symlinks: a path
			  * the user gave */
};

/* Opens the folder at path (absolute, or relative to the working
 * directory) with O_RDONLY|O_DIRECTORY|O_CLOEXEC, walking it one
 * component at a time as how says.  Without DIRS_FOLLOW, a symlink at any
 * component, or a ".." component, is refused.  Returns the descriptor
 * (the caller's to close), or -1 with e naming the component that failed
 * and why. */
int dirs_open(const char *path, int how, mode_t mode, struct sp_err *e);

/* Returns the path, free of symlinks, of the open folder fd (malloc'd,
 * the caller's to free), or NULL with e filled.  label names the folder
 * in the message. */
char *dirs_path_of(int fd, const char *label, struct sp_err *e);

/* Resolves a folder the user gave: dirs_open with DIRS_FOLLOW (and
 * DIRS_CREATE when create is set), then dirs_path_of.  Returns the
 * descriptor and sets *resolved (malloc'd, the caller's) to a path that a
 * later dirs_open without DIRS_FOLLOW opens again; -1 with e filled and
 * *resolved NULL on failure. */
int dirs_resolve(const char *path, int create, mode_t mode, char **resolved,
		 struct sp_err *e);

#endif
