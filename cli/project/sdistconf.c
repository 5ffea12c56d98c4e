/*
 * sdistconf.c - the pyproject.toml settings an sdist follows.
 */
#define _GNU_SOURCE
#include "cli/project/sdistconf.h"
#include "cli/project/relpath.h"
#include "cli/project/strutil.h"
#include "cli/project/tomldoc.h"
#include "common/path.h"

#include <stdlib.h>
#include <string.h>

/* Whether dir/rel is the file target (both resolved). */
static int names(const char *dir, const char *rel, const char *target)
{
	char *j = path_join(dir, rel), *real = j ? realpath(j, NULL) : NULL;
	int same = real && strcmp(real, target) == 0;

	free(j);
	free(real);
	return same;
}

static const json_t *maturin_table(const json_t *doc)
{
	return json_object_get(json_object_get(doc, "tool"), "maturin");
}

/* Whether the pattern entry x ([tool.maturin] include/exclude) is meant
 * for sdists: a bare string is for both; {path, format} names "sdist"
 * (a string, or one of an array). */
static int for_sdist(const json_t *x)
{
	const json_t *f = json_object_get(x, "format"), *y;
	size_t i;

	if (json_is_string(x) || !f)
		return 1;
	if (json_is_string(f))
		return strcmp(json_string_value(f), "sdist") == 0;
	json_array_foreach(f, i, y) if (json_is_string(y) &&
					strcmp(json_string_value(y), "sdist") ==
					    0) return 1;
	return 0;
}

static int patterns(const json_t *m, const char *key, const char *path,
		    json_t **out, struct sp_err *e)
{
	const json_t *arr = json_object_get(m, key), *x;
	size_t i;

	*out = json_array();
	if (!*out)
		return str_oom(e, "read pyproject.toml");
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return sp_err_set(e,
				  "'%s': [tool.maturin] %s is not an array of "
				  "patterns",
				  path, key);
	json_array_foreach(arr, i, x)
	{
		const char *p =
		    json_is_string(x)
			? json_string_value(x)
			: json_string_value(json_object_get(x, "path"));

		if (!p)
			return sp_err_set(
			    e,
			    "'%s': [tool.maturin] %s holds an entry "
			    "that is neither a pattern nor "
			    "{path = ..., format = ...}",
			    path, key);
		/* Files taken from cargo's OUT_DIR go to wheels only. */
		if (json_object_get(x, "from"))
			continue;
		if (for_sdist(x) &&
		    json_array_append_new(*out, json_string(p)) < 0)
			return str_oom(e, "read pyproject.toml");
	}
	return 0;
}

/* The candidates above pkgdir, nearest first, that exist. */
static int candidates(const char *pkgdir, const char *ws_dir, json_t *out,
		      struct sp_err *e)
{
	char *stop = path_dirname(ws_dir), *d = path_dirname(pkgdir);
	int ret = -1;

	while (d && stop && relpath_inside(d, stop)) {
		char *p = path_join(d, "pyproject.toml"), *up;

		if (!p || (path_exists(p) &&
			   json_array_append_new(out, json_string(p)) < 0)) {
			free(p);
			goto out;
		}
		free(p);
		if (strcmp(d, "/") == 0 || strcmp(d, stop) == 0)
			break;
		up = path_dirname(d);
		free(d);
		d = up;
	}
	if (d && stop)
		ret = 0;
out:
	free(d);
	free(stop);
	return ret < 0 ? str_oom(e, "find pyproject.toml") : 0;
}

/* Picks c->path among the files in found (docs: their documents). */
static int choose(struct sdistconf *c, const json_t *found, const json_t *docs,
		  const char *manifest)
{
	const json_t *x;
	size_t i;
	int pass;

	for (pass = 0; pass < 2 && !c->path; pass++)
		json_array_foreach(found, i, x)
		{
			const char *p = json_string_value(x);
			const json_t *doc = json_object_get(docs, p);
			const char *mp = json_string_value(json_object_get(
			    maturin_table(doc), "manifest-path"));
			char *dir = path_dirname(p);
			int hit;

			if (!dir)
				return -1;
			hit = pass == 0 ? mp && names(dir, mp, manifest)
					: !mp && names(dir, "rust/Cargo.toml",
						       manifest);
			free(dir);
			if (hit) {
				c->path = strdup(p);
				c->doc = json_incref(json_object_get(docs, p));
				return c->path ? 0 : -1;
			}
		}
	return 0;
}

int sdistconf_load(struct sdistconf *c, const char *interpreter,
		   const char *manifest, const char *pkgdir, const char *ws_dir,
		   struct sp_err *e)
{
	json_t *found = json_array(), *docs = NULL;
	const char **paths;
	const json_t *m, *ps;
	char *own = path_join(pkgdir, "pyproject.toml");
	size_t i, n;
	int ret = -1;

	if (!found || !own) {
		str_oom(e, "find pyproject.toml");
		goto out;
	}
	if (path_exists(own)) {
		if (json_array_append_new(found, json_string(own)) < 0) {
			str_oom(e, "find pyproject.toml");
			goto out;
		}
	} else if (candidates(pkgdir, ws_dir, found, e) < 0) {
		goto out;
	}
	n = json_array_size(found);
	if (n == 0) {
		ret = 0;
		goto out;
	}
	paths = calloc(n, sizeof(*paths));
	if (!paths) {
		str_oom(e, "read pyproject.toml");
		goto out;
	}
	for (i = 0; i < n; i++)
		paths[i] = json_string_value(json_array_get(found, i));
	docs = tomldoc_read(interpreter, paths, n, e);
	free(paths);
	if (!docs)
		goto out;
	if (path_exists(own)) {
		c->path = strdup(own);
		c->doc = json_incref(json_object_get(docs, own));
	} else if (choose(c, found, docs, manifest) < 0) {
		str_oom(e, "find pyproject.toml");
		goto out;
	}
	if (!c->path) {
		ret = 0;
		goto out;
	}
	c->dir = path_dirname(c->path);
	if (!c->dir) {
		str_oom(e, "read pyproject.toml");
		goto out;
	}
	c->project = json_object_get(c->doc, "project");
	if (c->project && !json_is_object(c->project)) {
		sp_err_set(e, "'%s': [project] is not a table", c->path);
		goto out;
	}
	m = maturin_table(c->doc);
	ps = json_object_get(m, "python-source");
	if (ps && !json_is_string(ps)) {
		sp_err_set(e,
			   "'%s': [tool.maturin] python-source is not a "
			   "string",
			   c->path);
		goto out;
	}
	if (ps) {
		char *j = path_join(c->dir, json_string_value(ps));

		c->python_source = j ? realpath(j, NULL) : NULL;
		if (!c->python_source) {
			sp_err_sys(e, "'%s': python-source '%s'", c->path,
				   j ? j : json_string_value(ps));
			free(j);
			goto out;
		}
		free(j);
	}
	if (patterns(m, "include", c->path, &c->include, e) < 0 ||
	    patterns(m, "exclude", c->path, &c->exclude, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		sdistconf_release(c);
	json_decref(found);
	json_decref(docs);
	free(own);
	return ret;
}

void sdistconf_release(struct sdistconf *c)
{
	free(c->path);
	free(c->dir);
	json_decref(c->doc);
	free(c->python_source);
	json_decref(c->include);
	json_decref(c->exclude);
	memset(c, 0, sizeof(*c));
}
