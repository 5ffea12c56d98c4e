/*
 * pathsearch.c - PATH lookup.
 */
#define _GNU_SOURCE
#include "cli/project/pathsearch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *pathsearch(const char *path, const char *name)
{
	const char *p, *colon;
	struct stat st;
	char *cand;

	if (!path || !*path)
		return NULL;
	for (p = path; p; p = colon ? colon + 1 : NULL) {
		size_t len;

		colon = strchr(p, ':');
		len = colon ? (size_t)(colon - p) : strlen(p);
		if (asprintf(&cand, "%.*s%s%s", (int)len, p, len ? "/" : "",
			     name) < 0)
			return NULL;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	return NULL;
}
