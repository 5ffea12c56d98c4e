/*
 * sdistconf.c - the pyproject.toml settings an sdist follows, taken from
 * struct pyproject (pyproject.h).
 */
#define _GNU_SOURCE
#include "cli/project/sdistconf.h"
#include "cli/project/layout.h"
#include "cli/project/pathglob.h"
#include "cli/project/pyinfo.h"
#include "cli/project/pyproject.h"
#include "cli/project/relpath.h"
#include "cli/project/strutil.h"
#include "cli/project/tomldoc.h"
#include "cli/project/tomlemit.h"
#include "common/path.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The patterns of globs the sdist applies, as a new array in *out: not
 * files taken from a crate's OUT_DIR (the build writes them), and, for
 * excludes, not wheel-only ones.  A wheel-only include is carried too:
 * it is an input of the wheel, and `spoke build` in the unpacked sdist
 * must give the same wheel as the tree.  Each must pass pathglob_check,
 * as the wheel's do (layout.c): a ".." or an absolute path would name
 * files outside the project.  path names the file in messages.
 */
static int patterns(const struct pp_glob *g, size_t n, int include,
		    const char *path, json_t **out, struct sp_err *e)
{
	size_t i;

	*out = json_array();
	if (!*out)
		return str_oom(e, "read pyproject.toml");
	for (i = 0; i < n; i++) {
		if ((!include && g[i].format == PP_FORMAT_WHEEL) || g[i].to)
			continue;
		if (pathglob_check(g[i].path, include ? "include" : "exclude",
				   e) < 0)
			return sp_err_wrap(e, "'%s'", path);
		if (json_array_append_new(*out, json_string(g[i].path)) < 0)
			return str_oom(e, "read pyproject.toml");
	}
	return 0;
}

/* Copies what the sdist needs from pp, whose document is doc, in the
 * workspace rooted at ws_dir. */
static int fill(struct sdistconf *c, const struct pyproject *pp,
		const json_t *doc, const char *ws_dir, struct sp_err *e)
{
	c->path = strdup(pp->path);
	c->dir = strdup(pp->dir);
	c->root = layout_project_root(pp->dir, ws_dir);
	c->doc = json_incref((json_t *)doc);
	if (!c->path || !c->dir || !c->root)
		return str_oom(e, "read pyproject.toml");
	c->project = json_object_get(c->doc, "project");
	c->maturin = pp->maturin;
	c->python_source_set = pp->m.python_source_set;
	/* The default (the folder itself, or its src/) lies inside the
	 * folder, which is carried whole; one given may lie elsewhere
	 * ("../src" in a workspace), but not outside the project: the sdist
	 * root would widen to hold it, and it would be walked whole. */
	if (pp->m.python_source) {
		c->python_source = realpath(pp->m.python_source, NULL);
		if (!c->python_source && pp->m.python_source_set)
			return sp_err_sys(e, "'%s': python-source '%s'",
					  pp->path, pp->m.python_source);
		if (c->python_source &&
		    !relpath_inside(c->python_source, c->root))
			return sp_err_set(
			    e,
			    "[tool.maturin] python-source '%s' (in '%s') "
			    "lies outside the project root '%s'%s%s: an "
			    "sdist carries nothing from outside it",
			    pp->m.python_source, pp->path, c->root,
			    strcmp(pp->m.python_source, c->python_source)
				? ", through a link to "
				: "",
			    strcmp(pp->m.python_source, c->python_source)
				? c->python_source
				: "");
	}
	if (patterns(pp->m.include, pp->m.ninclude, 1, pp->path, &c->include,
		     e) < 0 ||
	    patterns(pp->m.exclude, pp->m.nexclude, 0, pp->path, &c->exclude,
		     e) < 0)
		return -1;
	return 0;
}

int sdistconf_load(struct sdistconf *c, const char *interpreter,
		   const char *manifest, const char *pkgdir, const char *ws_dir,
		   struct sp_err *e)
{
	char **cands = pyproject_candidates(pkgdir, ws_dir, e);
	struct pyinfo py = {0};
	size_t i, n = 0;
	int ret = -1;

	if (!cands)
		return -1;
	while (cands[n])
		n++;
	if (n == 0) {
		ret = 0;
		goto out;
	}
	if (pyinfo_query(interpreter, (const char *const *)cands, n, &py, e) <
	    0)
		goto out;
	for (i = 0; i < n; i++) {
		const json_t *x = json_object_get(py.pyprojects, cands[i]);
		const json_t *doc = json_object_get(x, "doc");
		struct pyproject pp = {0};
		char *dir = path_dirname(cands[i]);
		int own = dir && strcmp(dir, pkgdir) == 0, hit;

		free(dir);
		/* A file that cannot be read, or is refused, is the
		 * package's error when it is the package's own; one above it
		 * may configure another package, and is passed by. */
		if (str_member(x, "error") || !json_is_object(doc)) {
			if (!own)
				continue;
			sp_err_set(e, "cannot read '%s': %s", cands[i],
				   str_member(x, "error")
				       ? str_member(x, "error")
				       : "not a TOML document");
			goto out;
		}
		if (pyproject_parse(doc, cands[i], &pp, e) < 0) {
			if (!own)
				continue;
			goto out;
		}
		hit = pyproject_configures(&pp, manifest);
		if (hit && fill(c, &pp, doc, ws_dir, e) < 0) {
			pyproject_release(&pp);
			goto out;
		}
		pyproject_release(&pp);
		if (hit)
			break;
	}
	ret = 0;
out:
	/* Without a pyproject.toml, the workspace is the project. */
	if (ret == 0 && !c->root && !(c->root = strdup(ws_dir)))
		ret = str_oom(e, "read pyproject.toml");
	if (ret < 0)
		sdistconf_release(c);
	pyinfo_release(&py);
	pyproject_paths_free(cands);
	return ret;
}

/* The table key of t, made when missing; NULL when it is not a table or
 * out of memory. */
static json_t *table(json_t *t, const char *key)
{
	json_t *x = json_object_get(t, key);

	if (x)
		return json_is_object(x) ? x : NULL;
	x = json_object();
	if (!x || json_object_set_new(t, key, x) < 0)
		return NULL;
	return x;
}

/* python-source is maturin's src-layout default (src/, not the
 * pyproject's own folder). */
static int src_default(const struct sdistconf *c)
{
	return c->maturin && !c->python_source_set && c->python_source &&
	       strcmp(c->python_source, c->dir) != 0;
}

int sdistconf_top_rewritten(const struct sdistconf *c, const char *root)
{
	return c->path && c->maturin &&
	       (strcmp(c->dir, root) != 0 || src_default(c));
}

int sdistconf_top(const struct sdistconf *c, const char *interpreter,
		  const char *manifest, const char *root, char **text,
		  struct sp_err *e)
{
	const char *paths[1] = {c->path};
	json_t *docs, *doc, *m;
	char *rel = NULL, *src = NULL;
	int ret = -1;

	*text = NULL;
	if (!sdistconf_top_rewritten(c, root))
		return 0;
	/* Read again through tomldoc, which keeps dates as dates. */
	docs = tomldoc_read(interpreter, paths, 1, e);
	if (!docs)
		return -1;
	doc = json_object_get(docs, c->path);
	m = table(table(doc, "tool"), "maturin");
	/* table() makes [tool.maturin] for a project that has only
	 * build-backend = "maturin". */
	if (!m) {
		sp_err_set(e,
			   "'%s': [tool] or [tool.maturin] is not a table (or "
			   "out of memory)",
			   c->path);
		goto out;
	}
	if (strcmp(c->dir, root) != 0) {
		rel = relpath(root, manifest);
		if (!rel || json_object_set_new(m, "manifest-path",
						json_string(rel)) < 0) {
			str_oom(e, "write the sdist's pyproject.toml");
			goto out;
		}
	}
	if (src_default(c)) {
		src = relpath(root, c->python_source);
		if (!src || json_object_set_new(m, "python-source",
						json_string(src)) < 0) {
			str_oom(e, "write the sdist's pyproject.toml");
			goto out;
		}
	}
	*text = tomlemit(doc,
			 "# The project's pyproject.toml, with the paths "
			 "maturin would find from this folder (spoke sdist).\n",
			 e);
	ret = *text ? 0 : -1;
out:
	free(rel);
	free(src);
	json_decref(docs);
	return ret;
}

void sdistconf_release(struct sdistconf *c)
{
	free(c->path);
	free(c->dir);
	free(c->root);
	json_decref(c->doc);
	free(c->python_source);
	json_decref(c->include);
	json_decref(c->exclude);
	memset(c, 0, sizeof(*c));
}
