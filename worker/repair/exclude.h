/*
 * exclude.h - the user's --exclude patterns: which needed libraries a
 * repair never bundles.
 *
 * A pattern is a shell-style glob, matched by fnmatch(3) with no flags
 * (case-sensitive, '*' also matches '/', a backslash quotes the next
 * character), as auditwheel matches its --exclude: "libffi.so.*",
 * "libffi.so.[4,5]", "*".  A pattern without '/' matches a library's
 * soname (its DT_NEEDED name); a pattern with '/' matches the path the
 * library was found at ("/usr/lib/x86_64-linux-gnu/libz*", or "*"
 * followed by "/libfoo.so*" for a libfoo in any directory; a C comment
 * cannot hold the two together), and so matches nothing while the library
 * is not found or not looked up (skip looks nothing up).  An exact soname
 * is a glob matching only itself unless it holds one of "*?[\\":
 * exclude_literal() quotes those.
 */
#ifndef SPOKE_WORKER_REPAIR_EXCLUDE_H
#define SPOKE_WORKER_REPAIR_EXCLUDE_H

#include <stddef.h>

/* Returns 1 when one of the npat patterns matches the library named
 * soname found at path (NULL when it was not found or not looked up),
 * else 0.  Reads its arguments only; a malformed pattern (an unclosed
 * '[') matches what fnmatch(3) says it matches, here only itself. */
int exclude_matches(const char *const *pats, size_t npat, const char *soname,
		    const char *path);

/* Returns pat made absolute against cwd (an absolute path) when it is a
 * path pattern relative to the current directory: it holds a '/' and
 * starts with neither '/' nor one of "*?[" (a pattern such as "*" then
 * "/libfoo.so*" matches in any folder already).  The paths libraries are
 * found at are absolute, so a relative pattern would match none; and
 * `spoke build` matches in the coordinator, whose directory is not the
 * user's.  Leading "./" components of pat are dropped, and each leading
 * "../" drops the last component of cwd; cwd is quoted (exclude_literal),
 * so a '[' in a folder's name matches only itself.  Any other pattern is
 * copied as it is.  malloc'd; NULL when out of memory. */
char *exclude_absolute(const char *pat, const char *cwd);

/* Returns a pattern that matches exactly name: name with a backslash
 * before each glob character.  The caller frees it; NULL when out of
 * memory. */
char *exclude_literal(const char *name);

#endif
