/*
 * relpath.c - relative paths between normalized absolute paths.
 */
#define _GNU_SOURCE
#include "cli/project/relpath.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the longest common prefix of a and b that ends at a
 * component boundary of both ("/a/b" and "/a/bc" share "/a"). */
static size_t common_len(const char *a, const char *b)
{
	size_t i = 0, last = 0;

	for (;; i++) {
		int enda = a[i] == '\0' || a[i] == '/';
		int endb = b[i] == '\0' || b[i] == '/';

		if (enda && endb)
			last = i;
		if (a[i] != b[i] || a[i] == '\0')
			break;
	}
	return last;
}

const char *relpath_inside(const char *to, const char *from)
{
	size_t n = strlen(from);

	if (n == 1 && from[0] == '/')
		return to + 1;
	if (strncmp(to, from, n) != 0)
		return NULL;
	if (to[n] == '\0')
		return to + n;
	return to[n] == '/' ? to + n + 1 : NULL;
}

char *relpath_common(const char *a, const char *b)
{
	size_t n = common_len(a, b);

	return n == 0 ? strdup("/") : strndup(a, n);
}

char *relpath(const char *from, const char *to)
{
	size_t n, ups = 0, i;
	const char *rest, *p;
	char *out, *q;

	if (strcmp(from, "/") == 0) {
		n = 0;
		rest = to;
	} else {
		/* Each component of from below the common part is one "..". */
		n = common_len(from, to);
		for (p = from + n; *p; p++)
			if (*p == '/')
				ups++;
		rest = to + n;
	}
	while (*rest == '/')
		rest++;
	out = malloc(ups * 3 + strlen(rest) + 2);
	if (!out)
		return NULL;
	q = out;
	for (i = 0; i < ups; i++) {
		memcpy(q, "../", 3);
		q += 3;
	}
	strcpy(q, rest);
	q += strlen(rest);
	if (q > out && q[-1] == '/')
		*--q = '\0';
	if (q == out)
		strcpy(out, ".");
	return out;
}
