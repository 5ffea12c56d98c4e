/*
 * path.c - path strings: their folder, their last name, two joined, made
 * absolute; and whether a path names anything.
 */
#define _GNU_SOURCE
#include "common/path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

const char *path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	char *out;

	while (la > 1 && a[la - 1] == '/')
		la--;
	if (la == 1 && a[0] == '/')
		la = 0; /* "/" + "b" is "/b", not "//b" */
	while (*b == '/')
		b++;
	if (asprintf(&out, "%.*s/%s", (int)la, a, b) < 0)
		return NULL;
	return out;
}

char *path_absolute(const char *path, struct sp_err *e)
{
	char *cwd, *out;

	if (path[0] == '/') {
		out = strdup(path);
		if (!out)
			sp_err_set(e, "out of memory");
		return out;
	}
	cwd = getcwd(NULL, 0);
	if (!cwd) {
		sp_err_sys(e, "cannot get the current directory");
		return NULL;
	}
	out = path_join(cwd, path);
	free(cwd);
	if (!out)
		sp_err_set(e, "out of memory");
	return out;
}

char *path_normalize(const char *path)
{
	size_t len = strlen(path), n = 0, c, top = 0, i, ups = 0;
	int abs = path[0] == '/';
	char *out = malloc(len + 2);
	/* Where each kept component starts in out: a ".." removes the
	 * last one, unless only ".." are left (a relative path keeps them). */
	size_t *starts = malloc((len / 2 + 2) * sizeof(*starts));
	const char *s = path;

	if (!out || !starts) {
		free(out);
		free(starts);
		return NULL;
	}
	for (;;) {
		while (*s == '/')
			s++;
		c = strcspn(s, "/");
		if (c == 0)
			break;
		if (c == 1 && s[0] == '.') {
			/* "." adds nothing */
		} else if (c == 2 && s[0] == '.' && s[1] == '.') {
			if (top > ups)
				top--; /* takes the last name away */
			else if (!abs)
				starts[top++] = (size_t)-1, ups++;
			/* at the root, ".." stays the root */
		} else {
			starts[top++] = (size_t)(s - path);
		}
		s += c;
	}
	if (abs)
		out[n++] = '/';
	for (i = 0; i < top; i++) {
		const char *comp =
		    starts[i] == (size_t)-1 ? ".." : path + starts[i];

		c = starts[i] == (size_t)-1 ? 2 : strcspn(comp, "/");
		if (i > 0)
			out[n++] = '/';
		memcpy(out + n, comp, c);
		n += c;
	}
	if (n == 0)
		out[n++] = '.';
	out[n] = '\0';
	free(starts);
	return out;
}

int path_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return 1;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int path_real_below(const char *real, const char *root)
{
	char *r = root ? realpath(root, NULL) : NULL;
	size_t n = r ? strlen(r) : 0;
	int in =
	    r && (strcmp(r, "/") == 0 || (strncmp(real, r, n) == 0 &&
					  (real[n] == '\0' || real[n] == '/')));

	free(r);
	return in;
}

int path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}
