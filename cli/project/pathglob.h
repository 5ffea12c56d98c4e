/*
 * pathglob.h - the two kinds of path patterns [tool.maturin] takes, matched
 * as maturin matches them.
 *
 * An include pattern (such as "README.md", or "pkg/assets/" followed by
 * "*.txt") names files below a folder, one path component at a time: '*', '?'
 * and '[...]' (with '!' to negate) stay within a component and match a leading
 * dot too; "**" must be a whole component and stands for any number of folders,
 * none included.
 *
 * An exclude pattern follows .gitignore: a pattern without a '/' (other
 * than a trailing one) matches the last components of a path at any
 * depth ("*.pyc", "unused"); one with a '/' is anchored at the base
 * folder (a leading '/' is dropped); a trailing '/' names folders only
 * and so never a file; a leading '!' re-includes, and the last pattern
 * that matches decides.  '\' escapes the next character in both kinds.
 *
 * Paths are relative, '/'-separated, without "." or ".." components.
 * Nothing here touches the file system.
 */
#ifndef SPOKE_CLI_PROJECT_PATHGLOB_H
#define SPOKE_CLI_PROJECT_PATHGLOB_H

#include <stddef.h>

#include "common/err.h"

/*
 * Checks an include or exclude pattern of [tool.maturin] (what names it
 * in messages: "include", "exclude"): it must be relative, without "."
 * or ".." components, and (include) use "**" only as a whole component;
 * a '[' must be closed.  Returns 0, or -1 with e naming the pattern.
 */
int pathglob_check(const char *pattern, const char *what, struct sp_err *e);

/* 1 when the relative path matches the include pattern, else 0. */
int pathglob_match(const char *pattern, const char *path);

/*
 * The literal folder an include pattern starts in: the length of its
 * leading components that hold no wildcard, up to (not including) the
 * '/' before the first one that does (10, "pkg/assets", for that folder
 * followed by "*.txt"; 0 for "*.txt" alone).  A walker need look no higher.
 */
size_t pathglob_literal_prefix(const char *pattern);

/* 1 when the relative path of a file matches the exclude pattern
 * (without its leading '!'), else 0. */
int pathglob_ignore_match(const char *pattern, const char *path);

/*
 * 1 when the exclude pattern (without its leading '!') leaves out the
 * file at path: the file itself (pathglob_ignore_match), or a folder on
 * its way ("tests" or "tests/" leaves out everything below tests/), for
 * a walk that meets files one by one, as the sdist's does.
 */
int pathglob_ignore_below(const char *pattern, const char *path);

/*
 * 1 when the file's relative path is excluded by the patterns
 * pats[0..n): the last one that matches decides, '!' patterns
 * re-including; 0 when none matches.
 */
int pathglob_excluded(const char *const *pats, size_t n, const char *path);

#endif
