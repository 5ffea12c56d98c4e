/*
 * pathglob.c - glob patterns with "**" over relative paths.
 */
#define _GNU_SOURCE
#include "cli/project/pathglob.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* The most components spoke looks at; deeper paths never match. */
#define MAXPARTS 128

static size_t split(char *s, char **parts)
{
	size_t n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(s, "/", &save); t && n < MAXPARTS;
	     t = strtok_r(NULL, "/", &save))
		if (strcmp(t, ".") != 0)
			parts[n++] = t;
	return n;
}

/* Whether pat[0..np) matches a leading run of path[0..nq) that ends at a
 * component boundary (the whole path, or a folder on its way). */
static int match_from(char **pat, size_t np, char **path, size_t nq)
{
	size_t k;

	if (np == 0)
		return 1; /* the pattern named this folder or the file */
	if (strcmp(pat[0], "**") == 0) {
		for (k = 0; k <= nq; k++)
			if (match_from(pat + 1, np - 1, path + k, nq - k))
				return 1;
		return 0;
	}
	if (nq == 0 || fnmatch(pat[0], path[0], 0) != 0)
		return 0;
	return match_from(pat + 1, np - 1, path + 1, nq - 1);
}

int pathglob_match(const char *pattern, const char *path)
{
	char *pcopy = strdup(pattern), *qcopy = strdup(path);
	char *pat[MAXPARTS], *parts[MAXPARTS];
	size_t np, nq, k;
	int r = 0;

	if (!pcopy || !qcopy)
		goto out;
	np = split(pcopy, pat);
	nq = split(qcopy, parts);
	if (np == 0)
		goto out;
	if (!strchr(pattern, '/')) {
		/* No folder given: the name anywhere. */
		for (k = 0; k < nq && !r; k++)
			r = fnmatch(pat[0], parts[k], 0) == 0;
		goto out;
	}
	r = match_from(pat, np, parts, nq);
out:
	free(pcopy);
	free(qcopy);
	return r;
}
