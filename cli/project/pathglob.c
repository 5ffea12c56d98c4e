/*
 * pathglob.c - include and exclude patterns, matched as maturin does.
 */
#define _GNU_SOURCE
#include "cli/project/pathglob.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The length of the component that starts at x. */
static size_t comp_len(const char *x)
{
	const char *slash = strchr(x, '/');

	return slash ? (size_t)(slash - x) : strlen(x);
}

/* The start of the component after the one of length n at x. */
static const char *comp_next(const char *x, size_t n)
{
	return x[n] == '/' ? x + n + 1 : x + n;
}

static int is_globstar(const char *p, size_t n)
{
	return n == 2 && p[0] == '*' && p[1] == '*';
}

/*
 * Matches the class that starts at p[0] == '[' against c.  *used is the
 * length of the class with its brackets, or 0 when it is not closed
 * within pn (then '[' is taken literally).
 */
static int match_class(const char *p, size_t pn, char c, size_t *used)
{
	size_t i = 1;
	int neg = 0, hit = 0;

	*used = 0;
	if (i < pn && (p[i] == '!' || p[i] == '^')) {
		neg = 1;
		i++;
	}
	/* A ']' first in the class is a member, not its end. */
	if (i < pn && p[i] == ']') {
		hit = c == ']';
		i++;
	}
	while (i < pn && p[i] != ']') {
		char lo = p[i], hi = p[i];

		if (lo == '\\' && i + 1 < pn)
			lo = hi = p[++i];
		if (i + 2 < pn && p[i + 1] == '-' && p[i + 2] != ']') {
			hi = p[i + 2];
			if (hi == '\\' && i + 3 < pn) {
				hi = p[i + 3];
				i++;
			}
			i += 2;
		}
		if ((unsigned char)c >= (unsigned char)lo &&
		    (unsigned char)c <= (unsigned char)hi)
			hit = 1;
		i++;
	}
	if (i >= pn)
		return 0;
	*used = i + 1;
	return hit != neg;
}

/*
 * Matches one pattern component p[0..pn) against one path component
 * s[0..sn).  A run of stars is one star: within a component "**" is
 * "*".  The star backtracks to the last one seen only, which suffices
 * since everything before it matched already.
 */
static int match_comp(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			while (pi < pn && p[pi] == '*')
				pi++;
			star_p = pi;
			star_s = si;
			continue;
		}
		if (pi < pn && p[pi] == '?') {
			pi++;
			si++;
			continue;
		}
		if (pi < pn && p[pi] == '[') {
			size_t used;

			if (match_class(p + pi, pn - pi, s[si], &used)) {
				pi += used;
				si++;
				continue;
			}
			if (used == 0 && s[si] == '[') {
				pi++;
				si++;
				continue;
			}
		} else if (pi < pn) {
			size_t lit = pi;

			if (p[lit] == '\\' && lit + 1 < pn)
				lit++;
			if (p[lit] == s[si]) {
				pi = lit + 1;
				si++;
				continue;
			}
		}
		if (star_p == (size_t)-1)
			return 0;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

/* Matches the components from p on against those from s on; "**" as a
 * whole component takes any number of them. */
static int match_path(const char *p, const char *s)
{
	size_t pn, sn;

	if (!*p)
		return !*s;
	pn = comp_len(p);
	if (is_globstar(p, pn)) {
		const char *rest = comp_next(p, pn);

		for (;;) {
			if (match_path(rest, s))
				return 1;
			if (!*s)
				return 0;
			s = comp_next(s, comp_len(s));
		}
	}
	if (!*s)
		return 0;
	sn = comp_len(s);
	return match_comp(p, pn, s, sn) &&
	       match_path(comp_next(p, pn), comp_next(s, sn));
}

int pathglob_match(const char *pattern, const char *path)
{
	return match_path(pattern, path);
}

size_t pathglob_literal_prefix(const char *pattern)
{
	const char *c = pattern;
	size_t n, i, end = 0;

	/* The last component is a file's name, never part of the folder. */
	for (;;) {
		n = comp_len(c);
		if (c[n] != '/')
			return end;
		for (i = 0; i < n; i++)
			if (strchr("*?[\\", c[i]))
				return end;
		end = (size_t)(c + n - pattern);
		c += n + 1;
	}
}

int pathglob_ignore_match(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);
	const char *s;

	/* A folder-only pattern: matching is done per file, and maturin
	 * never asks about the folders themselves. */
	if (!n || pattern[n - 1] == '/')
		return 0;
	if (strchr(pattern, '/'))
		return match_path(pattern[0] == '/' ? pattern + 1 : pattern,
				  path);
	for (s = path; s; s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL)
		if (match_path(pattern, s))
			return 1;
	return 0;
}

int pathglob_ignore_below(const char *pat, const char *rel)
{
	/* On the stack: a failed allocation must not read as "not
	 * excluded" and ship a file the user left out. */
	char dir[PATH_MAX], folder[PATH_MAX], *slash;
	size_t n = strlen(pat), len = strlen(rel);

	if (n && pat[n - 1] == '/')
		n--;
	if (n >= sizeof(folder) || len >= sizeof(dir))
		return 1; /* longer than any path: left out, never shipped */
	if (pathglob_ignore_match(pat, rel))
		return 1;
	memcpy(folder, pat, n);
	folder[n] = '\0';
	memcpy(dir, rel, len + 1);
	while (n && (slash = strrchr(dir, '/'))) {
		*slash = '\0';
		if (pathglob_ignore_match(folder, dir))
			return 1;
	}
	return 0;
}

int pathglob_excluded(const char *const *pats, size_t n, const char *path)
{
	size_t i;
	int out = 0;

	for (i = 0; i < n; i++) {
		const char *p = pats[i];
		int neg = p[0] == '!';

		if (pathglob_ignore_match(neg ? p + 1 : p, path))
			out = !neg;
	}
	return out;
}

int pathglob_check(const char *pattern, const char *what, struct sp_err *e)
{
	const int include = strcmp(what, "include") == 0;
	const char *c, *body = pattern;
	size_t n, i;

	if (!include && body[0] == '!')
		body++;
	if (!include && body[0] == '/')
		body++;
	if (!*body || (include && pattern[0] == '/'))
		return sp_err_set(e,
				  "[tool.maturin] %s pattern '%s' must be a "
				  "relative path",
				  what, pattern);
	for (c = body; *c; c = comp_next(c, n)) {
		n = comp_len(c);
		if ((n == 2 && c[0] == '.' && c[1] == '.') ||
		    (include && n == 1 && c[0] == '.'))
			return sp_err_set(e,
					  "[tool.maturin] %s pattern '%s' "
					  "must not hold a '%.*s' component: "
					  "name files from the project root "
					  "or python-source",
					  what, pattern, (int)n, c);
		if (include && !is_globstar(c, n) && memmem(c, n, "**", 2))
			return sp_err_set(e,
					  "[tool.maturin] include pattern "
					  "'%s': '**' must be a whole path "
					  "component",
					  pattern);
		for (i = 0; i < n; i++) {
			size_t used;

			if (c[i] == '\\') {
				i++;
				continue;
			}
			if (c[i] != '[')
				continue;
			match_class(c + i, n - i, 'x', &used);
			if (!used)
				return sp_err_set(e,
						  "[tool.maturin] %s pattern "
						  "'%s' has a '[' that is "
						  "never closed",
						  what, pattern);
			i += used - 1;
		}
		if (!c[n])
			break;
	}
	return 0;
}
