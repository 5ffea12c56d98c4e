/*
 * pathsearch.h - a program found on a PATH list as execvp finds it.
 *
 * The interpreter and cargo caches (pycache.h, metakey.h) key on the file
 * a program name runs, so they must find the one exec would run.
 */
#ifndef SPOKE_CLI_PROJECT_PATHSEARCH_H
#define SPOKE_CLI_PROJECT_PATHSEARCH_H

/* The first executable regular file named name in the colon-separated
 * list path (NULL or "": none), malloc'd, or NULL.  An empty entry is the
 * current folder (the result is then relative). */
char *pathsearch(const char *path, const char *name);

#endif
