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

int path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}
