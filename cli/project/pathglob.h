/*
 * pathglob.h - matching a relative file path against an include/exclude
 * pattern of [tool.maturin], as maturin documents them (glob patterns,
 * relative to the pyproject's folder).
 *
 * A pattern is split at '/' and matched component by component with
 * fnmatch(3) (so '*' never crosses a '/'); a "**" component matches any
 * number of components, none included.  A pattern without '/' matches a
 * file of that name in any folder, as in a .gitignore.  A pattern that
 * matches a folder on the way to the file matches the file too
 * ("tests" leaves out everything below tests/).
 */
#ifndef SPOKE_CLI_PROJECT_PATHGLOB_H
#define SPOKE_CLI_PROJECT_PATHGLOB_H

/* 1 when path (relative, '/'-separated) matches pattern, else 0. */
int pathglob_match(const char *pattern, const char *path);

#endif
