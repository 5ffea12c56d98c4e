/*
 * sdistfiles.c - what goes into an sdist, and from where.
 */
#define _GNU_SOURCE
#include "cli/project/sdistfiles.h"
#include "cli/project/layout.h"
#include "cli/project/pathglob.h"
#include "cli/project/pysrc.h"
#include "cli/project/relpath.h"
#include "cli/project/strutil.h"
#include "common/path.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int sdist_files_add(struct sdist_files *l, char *name, char *src, char *data,
		    size_t len, mode_t mode, int64_t mtime, struct sp_err *e)
{
	size_t i;

	if (!name || (!src && !data)) {
		free(name);
		free(src);
		free(data);
		return str_oom(e, "make the sdist");
	}
	/* A file reached twice (Cargo.lock of a package at the root) is
	 * stored once. */
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0) {
			free(name);
			free(src);
			free(data);
			return 0;
		}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct sdist_entry *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv) {
			free(name);
			free(src);
			free(data);
			return str_oom(e, "make the sdist");
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = (struct sdist_entry){name, src, data, len, mode, mtime};
	return 0;
}

void sdist_files_release(struct sdist_files *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].src);
		free(l->v[i].data);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The time of every entry: SOURCE_DATE_EPOCH, else the file's own. */
int64_t sdist_time(int64_t epoch, const struct stat *st)
{
	if (epoch >= 0)
		return epoch;
	return st ? (int64_t)st->st_mtime : (int64_t)time(NULL);
}

/* What a source tree holds that is not source: build outputs, caches,
 * version control, and compiled copies (an editable install leaves the
 * extension in the Python tree). */
static int skip_name(const char *name, int top)
{
	size_t n = strlen(name);

	return name[0] == '.' || strcmp(name, "__pycache__") == 0 ||
	       (top &&
		(strcmp(name, "target") == 0 || strcmp(name, "dist") == 0)) ||
	       (n > 4 && (strcmp(name + n - 4, ".pyc") == 0 ||
			  strcmp(name + n - 4, ".pyo") == 0)) ||
	       (n > 3 && strcmp(name + n - 3, ".so") == 0);
}

/* What every walk of a carried folder shares. */
struct walkctx {
	struct sdist_files *l;
	int64_t epoch;
	const char *base;      /* the archive's top folder */
	const char *pdir;      /* the pyproject's folder, or NULL */
	const json_t *exclude; /* [tool.maturin] exclude patterns for sdists */
	const char *limit;     /* where symbolic links may lead */
};

/* Whether a file is left out by an exclude pattern, matched against its
 * path from the pyproject's folder and its path in the archive (below
 * base/), as maturin matches both; the last pattern that matches
 * decides, a '!' pattern taking the file back. */
static int excluded(const struct walkctx *w, const char *src, const char *arc)
{
	const char *in_p = w->pdir ? relpath_inside(src, w->pdir) : NULL;
	const char *in_arc = arc + strlen(w->base) + 1;
	const json_t *x;
	size_t i;
	int out = 0;

	json_array_foreach(w->exclude, i, x)
	{
		const char *pat = json_string_value(x);
		int neg = pat[0] == '!';

		if ((in_p && pathglob_ignore_below(pat + neg, in_p)) ||
		    pathglob_ignore_below(pat + neg, in_arc))
			out = !neg;
	}
	return out;
}

/* Adds the files under dir as arc/..., leaving out folders that are
 * packages of their own (they come in as members, or not at all), and,
 * at the top, the Cargo.toml and Cargo.lock (sdist_manifests() and
 * sdist_files_cargo_lock() place those). */
static int walk(const struct walkctx *w, const char *dir, const char *arc,
		int top, struct sp_err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = -1;

	if (!d)
		return sp_err_sys(e, "cannot read '%s'", dir);
	for (;;) {
		struct stat lst, st;
		char *s, *a, *sub = NULL;
		int r = 0;

		errno = 0;
		if (!(de = readdir(d))) {
			if (errno) {
				sp_err_sys(e, "cannot read '%s'", dir);
				goto out;
			}
			break;
		}
		if (skip_name(de->d_name, top) ||
		    (top && (strcmp(de->d_name, "Cargo.toml") == 0 ||
			     strcmp(de->d_name, "Cargo.lock") == 0)))
			continue;
		s = path_join(dir, de->d_name);
		a = s ? path_join(arc, de->d_name) : NULL;
		if (!a) {
			free(s);
			str_oom(e, "make the sdist");
			goto out;
		}
		if (lstat(s, &lst) < 0 || stat(s, &st) < 0) {
			r = sp_err_sys(e, "cannot stat '%s'", s);
		} else if (S_ISLNK(lst.st_mode) && S_ISREG(st.st_mode) &&
			   pysrc_inside(s, w->limit, "file", e) < 0) {
			r = -1;
		} else if (S_ISDIR(st.st_mode) && !S_ISLNK(lst.st_mode)) {
			sub = path_join(s, "Cargo.toml");
			if (!sub)
				r = str_oom(e, "make the sdist");
			else if (!path_exists(sub))
				r = walk(w, s, a, 0, e);
		} else if (S_ISREG(st.st_mode) && !excluded(w, s, a)) {
			r = sdist_files_add(w->l, a, s, NULL, 0,
					    (st.st_mode & 0111) ? 0755 : 0644,
					    sdist_time(w->epoch, &st), e);
			s = a = NULL;
		}
		free(sub);
		free(s);
		free(a);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	closedir(d);
	return ret;
}

/* Adds the workspace's Cargo.lock, when there is one, as base/Cargo.lock
 * (the sdist root is the workspace root of the unpacked sdist), so it
 * builds with the versions the workspace locked.  It must lie inside
 * ws_dir (pysrc_inside): a link out of the workspace is refused. */
int sdist_files_cargo_lock(struct sdist_files *l, const char *ws_dir,
			   const char *base, int64_t epoch, struct sp_err *e)
{
	char *lock = path_join(ws_dir, "Cargo.lock");

	if (!lock)
		return str_oom(e, "make the sdist");
	if (!path_exists(lock)) {
		free(lock);
		return 0;
	}
	if (pysrc_inside(lock, ws_dir, "file", e) < 0) {
		free(lock);
		return -1;
	}
	return sdist_files_add(l, path_join(base, "Cargo.lock"), lock, NULL, 0,
			       0644, sdist_time(epoch, NULL), e);
}

/* Adds the file dir/name (a readme or license a manifest names, an
 * include match) at its place below root.  It must lie in limit (the
 * project root, or a carried crate's own folder), whatever ".." or links
 * lead there: the sdist root may be far wider (an outside path
 * dependency widens it), and a file named through ".." anywhere below it
 * would otherwise be shipped.  Missing files are left to the tool that
 * reads the field. */
static int add_asset(struct sdist_files *l, const char *base, const char *root,
		     const char *limit, const char *dir, const char *name,
		     const char *what, int64_t epoch, struct sp_err *e)
{
	char *j = path_join(dir, name), *real, *arc;
	const char *rel;
	struct stat st;

	if (!j)
		return str_oom(e, "make the sdist");
	real = realpath(j, NULL);
	free(j);
	if (!real || stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		free(real);
		return 0;
	}
	rel = relpath_inside(real, limit) ? relpath_inside(real, root) : NULL;
	if (!rel) {
		sp_err_set(e,
			   "%s '%s' (named from '%s') lies outside '%s': an "
			   "sdist carries no file from outside the project, "
			   "nor a carried crate's from outside its folder",
			   what, real, dir, limit);
		free(real);
		return -1;
	}
	arc = path_join(base, rel);
	return sdist_files_add(l, arc, real, NULL, 0,
			       (st.st_mode & 0111) ? 0755 : 0644,
			       sdist_time(epoch, &st), e);
}

/* The readme and license files the carried manifests and [project]
 * name, which may lie outside the folders walked (a readme inherited from
 * the workspace root). */
int sdist_files_named(struct sdist_files *l, const struct carried *set,
		      const json_t *docs, const struct sdistconf *conf,
		      const char *base, const char *root, int64_t epoch,
		      struct sp_err *e)
{
	static const char *const keys[] = {"readme", "license-file", NULL};
	const json_t *proj = conf->project, *x;
	size_t i, k;

	for (i = 0; i < set->n; i++) {
		const json_t *doc = json_object_get(docs, set->v[i].manifest);
		const json_t *pkg = json_object_get(doc, "package");
		const char *dir = set->v[i].dir;
		const char *wsd = set->v[i].ws_dir;
		/* A crate in the project may name any file of it; one
		 * carried from outside (a path dependency) only its own, or
		 * what it inherits from its own workspace root. */
		const char *own =
		    relpath_inside(dir, conf->root) ? conf->root : dir;
		const char *inh =
		    relpath_inside(wsd, conf->root) ? conf->root : wsd;

		for (k = 0; keys[k]; k++) {
			const json_t *v = json_object_get(pkg, keys[k]);

			if (json_is_string(v) &&
			    add_asset(l, base, root, own, dir,
				      json_string_value(v), keys[k], epoch,
				      e) < 0)
				return -1;
			/* Inherited: a path from the workspace root. */
			if (json_is_object(v) &&
			    json_is_true(json_object_get(v, "workspace"))) {
				char *wm = path_join(wsd, "Cargo.toml");
				const json_t *wp = json_object_get(
				    json_object_get(
					json_object_get(docs, wm ? wm : ""),
					"workspace"),
				    "package");

				free(wm);
				v = json_object_get(wp, keys[k]);
				if (json_is_string(v) &&
				    add_asset(l, base, root, inh, wsd,
					      json_string_value(v), keys[k],
					      epoch, e) < 0)
					return -1;
			}
		}
	}
	if (!conf->dir)
		return 0;
	x = json_object_get(proj, "readme");
	if (json_is_object(x))
		x = json_object_get(x, "file");
	if (json_is_string(x) &&
	    add_asset(l, base, root, conf->root, conf->dir,
		      json_string_value(x), "readme", epoch, e) < 0)
		return -1;
	x = json_object_get(json_object_get(proj, "license"), "file");
	if (json_is_string(x) &&
	    add_asset(l, base, root, conf->root, conf->dir,
		      json_string_value(x), "license file", epoch, e) < 0)
		return -1;
	return 0;
}

/* What each include match is added with. */
struct include_ctx {
	struct sdist_files *l;
	const struct sdistconf *conf;
	const char *base, *root;
	int64_t epoch;
};

static int include_one(const char *abs, const char *rel, void *arg,
		       struct sp_err *e)
{
	const struct include_ctx *c = arg;

	(void)abs;
	return add_asset(c->l, c->base, c->root, c->conf->root, c->conf->dir,
			 rel, "include", c->epoch, e);
}

/* [tool.maturin] include patterns for sdists, expanded from the
 * pyproject's folder as the wheel's are (layout_include_walk), so that
 * the sdist carries every file the wheel of its tree takes. */
int sdist_files_includes(struct sdist_files *l, const struct sdistconf *conf,
			 const char *base, const char *root, int64_t epoch,
			 struct sp_err *e)
{
	struct include_ctx c = {l, conf, base, root, epoch};
	const json_t *x;
	size_t i;

	json_array_foreach(conf->include, i, x)
	{
		if (layout_include_walk(json_string_value(x), conf->dir,
					conf->root, include_one, &c, e) < 0)
			return -1;
	}
	return 0;
}

/* Adds the manifests sdist_manifests() makes. */
int sdist_files_manifests(struct sdist_files *l, const json_t *list,
			  const char *base, int64_t epoch, struct sp_err *e)
{
	const json_t *x;
	size_t i;

	json_array_foreach(list, i, x)
	{
		const char *text = str_member(x, "text");
		const char *src = str_member(x, "src");
		char *name = path_join(base, str_member(x, "name"));

		if (sdist_files_add(l, name, src ? strdup(src) : NULL,
				    text ? strdup(text) : NULL,
				    text ? strlen(text) : 0, 0644,
				    sdist_time(epoch, NULL), e) < 0)
			return -1;
	}
	return 0;
}

/* Walks the folders the sdist carries: each crate's, the pyproject's
 * (the project root, whole) and python-source when it lies elsewhere. */
int sdist_files_walks(struct sdist_files *l, const struct carried *set,
		      const struct sdistconf *conf, const char *ws_dir,
		      const char *base, const char *root, int64_t epoch,
		      struct sp_err *e)
{
	struct walkctx w = {
	    .l = l,
	    .epoch = epoch,
	    .base = base,
	    .pdir = conf->dir,
	    .exclude = conf->exclude,
	};
	const char *dirs[64];
	const size_t cap = sizeof(dirs) / sizeof(*dirs);
	size_t i, n = 0;

	if (conf->dir)
		dirs[n++] = conf->dir;
	if (conf->python_source)
		dirs[n++] = conf->python_source;
	/* The folders above share the array with the crates'. */
	if (set->n > cap - n)
		return sp_err_set(e,
				  "an sdist of more than %zu crates is not "
				  "supported (this one carries %zu)",
				  cap - n, set->n);
	for (i = 0; i < set->n; i++)
		dirs[n++] = set->v[i].dir;
	for (i = 0; i < n; i++) {
		const char *rel = relpath_inside(dirs[i], root);
		char *arc;
		int r;

		if (!rel)
			return sp_err_set(e, "'%s' is outside '%s'", dirs[i],
					  root);
		arc = *rel ? path_join(base, rel) : strdup(base);
		if (!arc)
			return str_oom(e, "make the sdist");
		/* Links may point anywhere inside the project root (the
		 * pyproject's folder, else the workspace root); a path
		 * dependency outside both keeps its links to itself. */
		w.limit = conf->dir && relpath_inside(dirs[i], conf->dir)
			      ? conf->dir
			  : relpath_inside(dirs[i], ws_dir) ? ws_dir
							    : dirs[i];
		r = walk(&w, dirs[i], arc, 1, e);
		free(arc);
		if (r < 0)
			return -1;
	}
	return 0;
}
