#define _GNU_SOURCE
#include "worker/repair/exclude.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int exclude_matches(const char *const *pats, size_t npat, const char *soname,
		    const char *path)
{
	size_t i;

	for (i = 0; i < npat; i++) {
		/* A '/' says the user means where the library lives, as
		 * auditwheel reads its patterns; a soname never holds one,
		 * so such a pattern could never match it anyway. */
		const char *subject = strchr(pats[i], '/') ? path : soname;

		if (subject && fnmatch(pats[i], subject, 0) == 0)
			return 1;
	}
	return 0;
}

char *exclude_literal(const char *name)
{
	char *s = malloc(2 * strlen(name) + 1), *p = s;

	if (!s)
		return NULL;
	for (; *name; name++) {
		if (strchr("*?[\\", *name))
			*p++ = '\\';
		*p++ = *name;
	}
	*p = '\0';
	return s;
}

char *exclude_absolute(const char *pat, const char *cwd)
{
	size_t keep = strlen(cwd);
	char *q, *s;

	if (!strchr(pat, '/') || strchr("/*?[", pat[0]))
		return strdup(pat);
	for (;;) {
		if (pat[0] == '.' && pat[1] == '/') {
			pat += 2;
		} else if (pat[0] == '.' && pat[1] == '.' && pat[2] == '/') {
			pat += 3;
			while (keep > 0 && cwd[keep - 1] == '/')
				keep--;
			while (keep > 0 && cwd[keep - 1] != '/')
				keep--;
		} else {
			break;
		}
		while (*pat == '/')
			pat++;
	}
	while (keep > 1 && cwd[keep - 1] == '/')
		keep--;
	if (!(s = strndup(cwd, keep)))
		return NULL;
	q = exclude_literal(s);
	free(s);
	if (!q || asprintf(&s, "%s%s%s", q,
			   keep && cwd[keep - 1] == '/' ? "" : "/", pat) < 0)
		s = NULL;
	free(q);
	return s;
}
