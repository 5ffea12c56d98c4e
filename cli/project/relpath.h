/*
 * relpath.h - how one folder is reached from another: the relative paths
 * an sdist writes into the manifests it rewrites, and the common
 * ancestor of the folders it carries.
 *
 * Both work on absolute, normalized paths (realpath(3)'s answers): no
 * "." or ".." components, no doubled or trailing slashes.  They are
 * string operations; nothing here touches the file system.
 */
#ifndef SPOKE_CLI_PROJECT_RELPATH_H
#define SPOKE_CLI_PROJECT_RELPATH_H

/* The path of to relative to the folder from ("../x/y", "y", or "."
 * when they are the same), malloc'd; NULL when out of memory. */
char *relpath(const char *from, const char *to);

/* The deepest folder that holds both a and b ("/" at least), malloc'd;
 * NULL when out of memory. */
char *relpath_common(const char *a, const char *b);

/* to relative to the folder from when it lies inside it ("" for from
 * itself), pointing into to; NULL when it lies outside. */
const char *relpath_inside(const char *to, const char *from);

#endif
