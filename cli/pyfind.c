/*
 * pyfind.c - the interpreters on PATH, found as maturin's
 * --find-interpreter finds them.
 */
#define _GNU_SOURCE
#include "cli/pyfind.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/project/proc.h"

/* maturin's range of CPython and PyPy minor versions. */
#define CPYTHON_MIN 7
#define CPYTHON_MAX 14
#define PYPY_MIN 8
#define PYPY_MAX 11

/* The first executable called name in a PATH folder (malloc'd), or
 * NULL.  An empty PATH element is the current folder, as for execvp(). */
static char *on_path(const char *name)
{
	const char *p = getenv("PATH"), *colon;
	char *cand;

	for (p = p ? p : "/usr/bin:/bin"; p; p = colon ? colon + 1 : NULL) {
		size_t len;

		colon = strchr(p, ':');
		len = colon ? (size_t)(colon - p) : strlen(p);
		if (asprintf(&cand, "%.*s/%s", (int)(len ? len : 1),
			     len ? p : ".", name) < 0)
			return NULL;
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	return NULL;
}

/*
 * 0 when the interpreter at path runs, 1 when it is a stand-in that does
 * not (a pyenv shim for a version pyenv does not have, which says "pyenv:
 * NAME: command not found"; a stub that fails without a word, as WSL's
 * Windows Store python does): maturin skips those with a warning, and so
 * does spoke.  Any other failure is left for the interpreter query to
 * report, so a broken Python is an error, not a silent omission.
 */
static int stand_in(const char *path, const char *name)
{
	const char *argv[] = {path, "-c", "pass", NULL};
	struct proc p = {.pid = -1, .out_fd = -1, .err_fd = -1};
	char *err = NULL, prefix[64];
	size_t elen = 0;
	struct sp_err ignored;
	int code = 0, skip = 0;

	if (proc_spawn(&p, argv, NULL, PROC_PIPE_STDERR, &ignored) < 0)
		return 0;
	if (proc_collect(&p, NULL, NULL, &err, &elen, &ignored) == 0 &&
	    proc_wait(&p, &code, &ignored) == 0 && code != 0) {
		snprintf(prefix, sizeof(prefix), "pyenv: %s: command not found",
			 name);
		skip = elen == 0 || !strncmp(err, prefix, strlen(prefix));
	}
	proc_release(&p);
	free(err);
	if (skip)
		fprintf(stderr,
			"spoke: warning: skipping '%s': it is not an "
			"installed interpreter\n",
			path);
	return skip;
}

/* Appends path to v unless a path there resolves to the same file.
 * Takes path.  Returns 0, or -1 when out of memory. */
static int add_unique(char ***v, size_t *n, char *path)
{
	char real[PATH_MAX], other[PATH_MAX];
	char **nv;
	size_t i;

	if (realpath(path, real)) {
		for (i = 0; i < *n; i++)
			if (realpath((*v)[i], other) && !strcmp(real, other)) {
				free(path);
				return 0;
			}
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		free(path);
		return -1;
	}
	*v = nv;
	nv[(*n)++] = path;
	return 0;
}

int pyfind_all(char ***out, size_t *n, struct sp_err *e)
{
	static const char *const fallback[] = {"python3", "python"};
	char name[32], *path;
	size_t i;
	int minor;

	*out = NULL;
	*n = 0;
	for (i = 0; i < 2; i++) {
		int lo = i ? PYPY_MIN : CPYTHON_MIN;
		int hi = i ? PYPY_MAX : CPYTHON_MAX;

		for (minor = lo; minor <= hi; minor++) {
			snprintf(name, sizeof(name), "%s3.%d",
				 i ? "pypy" : "python", minor);
			path = on_path(name);
			if (path && stand_in(path, name)) {
				free(path);
				path = NULL;
			}
			if (path && add_unique(out, n, path) < 0)
				goto oom;
		}
	}
	for (i = 0; *n == 0 && i < 2; i++) {
		path = on_path(fallback[i]);
		if (path && stand_in(path, fallback[i])) {
			free(path);
			path = NULL;
		}
		if (path && add_unique(out, n, path) < 0)
			goto oom;
	}
	if (*n == 0)
		return sp_err_set(e, "--find-interpreter found no Python "
				     "interpreter on PATH (python3.7 ... "
				     "python3.14, pypy3.8 ... pypy3.11, "
				     "python3, python); give one with -i");
	return 0;
oom:
	pyfind_free(*out, *n);
	*out = NULL;
	*n = 0;
	return sp_err_set(e, "out of memory");
}

void pyfind_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
