/*
 * filekey.h - the inputs a cached answer depends on, as parts of its key.
 *
 * cache.h hands an answer back only when its key equals the one computed
 * now, so each part here must change whenever the input does:
 *
 *   - a small text file (a manifest, a pyproject.toml, a config file) by
 *     its identity and the sha256 of its content: the content catches a
 *     rewrite that timestamps are too coarse to show, the identity costs
 *     nothing more;
 *   - a program or library by its identity alone (device, inode, size,
 *     mtime and ctime in ns: what cargo's own freshness rests on), and,
 *     like git's racily clean index entries, not at all while it changed
 *     less than STAMP_RACY_S seconds ago;
 *   - a folder by the names it holds (and, for each, whether it is a
 *     folder and holds a given file): a new member crate or source file
 *     shows there whatever the timestamps say.
 *
 * Each returns a new JSON value: JSON null for a path that does not exist
 * (absence is an input too), or C NULL when the path cannot be keyed
 * (unreadable, not the kind of file expected, too big, racy): the caller
 * then does not cache.
 */
#ifndef SPOKE_CLI_PROJECT_FILEKEY_H
#define SPOKE_CLI_PROJECT_FILEKEY_H

#include <jansson.h>

/* A regular file (symlinks followed) by identity and content sha256:
 * [dev, ino, size, mtime_ns, ctime_ns, "sha256"]. */
json_t *filekey_file(const char *path);

/* A file (symlinks followed) by identity alone: [dev, ino, size,
 * mtime_ns, ctime_ns]; NULL when racy. */
json_t *filekey_ident(const char *path);

/* A folder by the sha256 of its sorted names, each marked "/" when it is
 * a folder and, when inner is not NULL, "+" when it holds inner (a file
 * name): "crates" with inner "Cargo.toml" shows a new member crate. */
json_t *filekey_dir(const char *path, const char *inner);

/* Copies into env (an object: the environment's order is no input) each
 * variable of the environment whose "NAME=value" starts with one of
 * prefixes (NULL-terminated; "HOME=" names one variable, "CARGO" all that
 * start so), by its whole name.  Returns 0, -1 when out of memory. */
int filekey_env(json_t *env, const char *const *prefixes);

/* Sets key[label] to v (stolen).  v NULL (cannot be keyed) → -1. */
int filekey_set(json_t *key, const char *label, json_t *v);

#endif
