/*
 * cmd_sdist.c - spoke sdist: a source distribution that builds on its own.
 *
 * The archive holds the package's crate, every crate it reaches through
 * path dependencies (inside its workspace or not, carried.h), the folder
 * of its pyproject.toml whole (the src layout keeps its Python sources
 * beside rust/), Cargo.lock, pyproject.toml and PKG-INFO.  Every folder
 * keeps its place below the deepest folder holding them all (the sdist
 * root), so relative paths between them still hold; the sdist root's
 * Cargo.toml is the one workspace, naming the carried crates as members,
 * and every carried manifest stands on its own (manifest.h: workspace
 * inheritance resolved, path dependencies relative).  The archive is
 * written so that the same tree and SOURCE_DATE_EPOCH give the same
 * bytes: entries sorted by name, owner 0/0, no gzip time stamp, and
 * rewritten manifests that depend on the parsed documents alone.
 *
 * How Cargo.toml is read and written: the target interpreter's tomllib
 * reads it (tomldoc.h), as it already reads pyproject.toml, and a small
 * emitter in C writes the rewritten document (tomlemit.h).  cargo's own
 * normalized manifest (`cargo package`) was the other candidate, but it
 * drops `path` from dependencies (an sdist needs them), insists that
 * every path dependency has a version, and verifies through the
 * registry; and a TOML parser of spoke's own would be a second parser to
 * disagree with cargo.  A manifest that needs no change is carried as it
 * is, comments and all; a rewritten one loses its comments.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/output.h"
#include "cli/project/cargo.h"
#include "cli/project/carried.h"
#include "cli/project/manifest.h"
#include "cli/project/pathglob.h"
#include "cli/project/pkgmeta.h"
#include "cli/project/pysrc.h"
#include "cli/project/relpath.h"
#include "cli/project/sdistconf.h"
#include "cli/project/sdistmanifest.h"
#include "cli/project/strutil.h"
#include "cli/project/tomldoc.h"
#include "cli/project/tomlemit.h"
#include "common/dirs.h"
#include "common/fsx.h"
#include "common/path.h"
#include "common/tmpfile.h"
#include "worker/wheel/metadata.h"

static const char sdist_help[] =
    "usage: spoke sdist [options]\n"
    "\n"
    "Writes <name>-<version>.tar.gz, a source distribution of the package\n"
    "whose Cargo.toml is in the current folder (or --manifest-path): the\n"
    "crate, the folder of its pyproject.toml, every crate it reaches by\n"
    "path dependencies (inside its workspace or not), a workspace\n"
    "Cargo.toml naming them, Cargo.lock, pyproject.toml and PKG-INFO.\n"
    "Workspace inheritance is resolved into the carried manifests, and\n"
    "[tool.maturin] exclude (and include) patterns for sdists apply.\n"
    "`spoke build` in the unpacked folder builds the same wheel.  With\n"
    "SOURCE_DATE_EPOCH set, every entry has that time and the archive is\n"
    "reproducible.\n"
    "\n"
    "options:\n"
    "  --manifest-path PATH   the package's Cargo.toml\n"
    "  -o, --out-dir DIR      where the sdist goes (default <target>/wheels)\n"
    "  -i, --interpreter PY   the Python that reads pyproject.toml\n"
    "                         (default: python3 on PATH)\n"
    "  --json                 print the result as one JSON object\n"
    "  -q, --quiet            print nothing on success\n"
    "\n"
    "Exit status: 0 written, 1 failed, 2 usage error.\n";

struct sentry {
	char *name; /* path in the archive */
	char *src;  /* file to read, or NULL: data holds the content */
	char *data;
	size_t len;
	mode_t mode;
	int64_t mtime;
};

struct slist {
	struct sentry *v;
	size_t n, cap;
};

static int slist_add(struct slist *l, char *name, char *src, char *data,
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
		struct sentry *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv) {
			free(name);
			free(src);
			free(data);
			return str_oom(e, "make the sdist");
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = (struct sentry){name, src, data, len, mode, mtime};
	return 0;
}

static void slist_release(struct slist *l)
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
static int64_t entry_time(int64_t epoch, const struct stat *st)
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
	struct slist *l;
	int64_t epoch;
	const char *base;      /* the archive's top folder */
	const char *pdir;      /* the pyproject's folder, or NULL */
	const json_t *exclude; /* [tool.maturin] exclude patterns for sdists */
	const char *limit;     /* where symbolic links may lead */
};

/* Whether a file is left out by an exclude pattern, matched against its
 * path from the pyproject's folder and its path in the archive (below
 * base/), as maturin matches both. */
static int excluded(const struct walkctx *w, const char *src, const char *arc)
{
	const char *in_p = w->pdir ? relpath_inside(src, w->pdir) : NULL;
	const char *in_arc = arc + strlen(w->base) + 1;
	const json_t *x;
	size_t i;

	json_array_foreach(w->exclude, i, x)
	{
		const char *pat = json_string_value(x);

		if ((in_p && pathglob_match(pat, in_p)) ||
		    pathglob_match(pat, in_arc))
			return 1;
	}
	return 0;
}

/* Adds the files under dir as arc/..., leaving out folders that are
 * packages of their own (they come in as members, or not at all), and,
 * at the top, the Cargo.toml and Cargo.lock (sdist_manifests() and
 * add_cargo_lock() place those). */
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
			r = slist_add(w->l, a, s, NULL, 0,
				      (st.st_mode & 0111) ? 0755 : 0644,
				      entry_time(w->epoch, &st), e);
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

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct sentry *)a)->name,
		      ((const struct sentry *)b)->name);
}

/* Writes the sorted entries as a gzip'd pax archive to fd. */
static int write_archive(int fd, const char *path, struct slist *l,
			 struct sp_err *e)
{
	struct archive *a = archive_write_new();
	struct archive_entry *en = NULL;
	size_t i;
	int ret = -1;

	if (!a)
		return str_oom(e, "make the sdist");
	/* pax (restricted): ustar unless a name needs more; the gzip
	 * header's time stamp is left out, or no two runs would agree. */
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "gzip", "timestamp", NULL) !=
		ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		sp_err_set(e, "cannot write '%s': %s", path,
			   archive_error_string(a));
		goto out;
	}
	qsort(l->v, l->n, sizeof(*l->v), by_name);
	for (i = 0; i < l->n; i++) {
		struct sentry *s = &l->v[i];

		if (s->src) {
			s->data = fsx_read_all(s->src, &s->len, e);
			if (!s->data)
				goto out;
		}
		en = archive_entry_new();
		if (!en) {
			str_oom(e, "make the sdist");
			goto out;
		}
		archive_entry_set_pathname(en, s->name);
		archive_entry_set_filetype(en, AE_IFREG);
		archive_entry_set_perm(en, s->mode);
		archive_entry_set_size(en, (la_int64_t)s->len);
		archive_entry_set_mtime(en, (time_t)s->mtime, 0);
		archive_entry_set_uid(en, 0);
		archive_entry_set_gid(en, 0);
		if (archive_write_header(a, en) != ARCHIVE_OK ||
		    (s->len && archive_write_data(a, s->data, s->len) !=
				   (la_ssize_t)s->len)) {
			sp_err_set(e, "cannot add '%s' to '%s': %s", s->name,
				   path, archive_error_string(a));
			goto out;
		}
		archive_entry_free(en);
		en = NULL;
		/* Read one at a time: the sources may be large. */
		if (s->src) {
			free(s->data);
			s->data = NULL;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		sp_err_set(e, "cannot write '%s': %s", path,
			   archive_error_string(a));
		goto out;
	}
	ret = 0;
out:
	archive_entry_free(en);
	archive_write_free(a);
	return ret;
}

/* The package's Cargo.toml as a real path (malloc'd): given names it or
 * its folder, NULL meaning ./Cargo.toml.  NULL with e filled when there
 * is none. */
static char *package_manifest(const char *given_path, struct sp_err *e)
{
	char *given = strdup(given_path ? given_path : "Cargo.toml");
	char *manifest;
	struct stat st;

	if (given && stat(given, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *j = path_join(given, "Cargo.toml");

		free(given);
		given = j;
	}
	if (!given) {
		str_oom(e, "make the sdist");
		return NULL;
	}
	manifest = realpath(given, NULL);
	if (!manifest)
		sp_err_sys(e,
			   "cannot find the package's Cargo.toml '%s' (use "
			   "--manifest-path)",
			   given);
	free(given);
	return manifest;
}

/* Adds the workspace's Cargo.lock, when there is one, as base/Cargo.lock
 * (the sdist root is the workspace root of the unpacked sdist), so it
 * builds with the versions the workspace locked.  It must lie inside
 * ws_dir (pysrc_inside): a link out of the workspace is refused. */
static int add_cargo_lock(struct slist *l, const char *ws_dir, const char *base,
			  int64_t epoch, struct sp_err *e)
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
	return slist_add(l, path_join(base, "Cargo.lock"), lock, NULL, 0, 0644,
			 entry_time(epoch, NULL), e);
}

/* Adds the file dir/name (a readme or license a manifest names, an
 * include match) at its place below root; what it names must lie there.
 * Missing files are left to the tool that reads the field. */
static int add_asset(struct slist *l, const char *base, const char *root,
		     const char *dir, const char *name, const char *what,
		     int64_t epoch, struct sp_err *e)
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
	rel = relpath_inside(real, root);
	if (!rel) {
		sp_err_set(e,
			   "%s '%s' (from '%s') lies outside '%s', the folder "
			   "the sdist is made of",
			   what, real, dir, root);
		free(real);
		return -1;
	}
	arc = path_join(base, rel);
	return slist_add(l, arc, real, NULL, 0,
			 (st.st_mode & 0111) ? 0755 : 0644,
			 entry_time(epoch, &st), e);
}

/* The readme and license files the carried manifests and [project]
 * name, which may lie outside the folders walked (a readme inherited from
 * the workspace root). */
static int add_named_files(struct slist *l, const struct carried *set,
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

		for (k = 0; keys[k]; k++) {
			const json_t *v = json_object_get(pkg, keys[k]);
			if (json_is_string(v) &&
			    add_asset(l, base, root, dir, json_string_value(v),
				      keys[k], epoch, e) < 0)
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
				    add_asset(l, base, root, wsd,
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
	    add_asset(l, base, root, conf->dir, json_string_value(x), "readme",
		      epoch, e) < 0)
		return -1;
	x = json_object_get(json_object_get(proj, "license"), "file");
	if (json_is_string(x) &&
	    add_asset(l, base, root, conf->dir, json_string_value(x),
		      "license file", epoch, e) < 0)
		return -1;
	return 0;
}

/* [tool.maturin] include patterns for sdists, matched from the
 * pyproject's folder (glob(3): "**" stands for one folder there). */
static int add_includes(struct slist *l, const struct sdistconf *conf,
			const char *base, const char *root, int64_t epoch,
			struct sp_err *e)
{
	const json_t *x;
	size_t i, k;

	json_array_foreach(conf->include, i, x)
	{
		char *pat = path_join(conf->dir, json_string_value(x));
		glob_t g;
		int r;

		if (!pat)
			return str_oom(e, "make the sdist");
		r = glob(pat, 0, NULL, &g);
		free(pat);
		if (r == GLOB_NOMATCH)
			continue;
		if (r != 0)
			return sp_err_set(e, "cannot expand include '%s'",
					  json_string_value(x));
		for (k = 0; k < g.gl_pathc; k++)
			if (add_asset(l, base, root, "/", g.gl_pathv[k] + 1,
				      "include", epoch, e) < 0) {
				globfree(&g);
				return -1;
			}
		globfree(&g);
	}
	return 0;
}

/* The sdist root: the deepest folder holding the workspace root, the
 * pyproject's folder, its python-source and every carried crate. */
static char *sdist_root(const struct carried *set, const char *ws_dir,
			const struct sdistconf *conf)
{
	char *r = strdup(ws_dir), *n;
	const char *more[2] = {conf->dir, conf->python_source};
	size_t i;

	for (i = 0; r && i < set->n; i++) {
		n = relpath_common(r, set->v[i].dir);
		free(r);
		r = n;
	}
	for (i = 0; r && i < 2; i++) {
		if (!more[i])
			continue;
		n = relpath_common(r, more[i]);
		free(r);
		r = n;
	}
	return r;
}

/* Reads every carried manifest and every workspace root's Cargo.toml. */
static json_t *read_manifests(const struct carried *set, const char *interp,
			      struct sp_err *e)
{
	const char **paths = calloc(set->n * 2 + 1, sizeof(*paths));
	char **owned = calloc(set->n + 1, sizeof(*owned));
	json_t *docs = NULL;
	size_t i, n = 0;

	if (!paths || !owned) {
		str_oom(e, "make the sdist");
		goto out;
	}
	for (i = 0; i < set->n; i++) {
		owned[i] = path_join(set->v[i].ws_dir, "Cargo.toml");
		if (!owned[i]) {
			str_oom(e, "make the sdist");
			goto out;
		}
		paths[n++] = set->v[i].manifest;
		if (strcmp(owned[i], set->v[i].manifest) != 0)
			paths[n++] = owned[i];
	}
	docs = tomldoc_read(interp, paths, n, e);
out:
	for (i = 0; owned && i < set->n; i++)
		free(owned[i]);
	free(owned);
	free(paths);
	return docs;
}

/* Adds the manifests sdist_manifests() makes. */
static int add_manifests(struct slist *l, const json_t *list, const char *base,
			 int64_t epoch, struct sp_err *e)
{
	const json_t *x;
	size_t i;

	json_array_foreach(list, i, x)
	{
		const char *text = str_member(x, "text");
		const char *src = str_member(x, "src");
		char *name = path_join(base, str_member(x, "name"));

		if (slist_add(l, name, src ? strdup(src) : NULL,
			      text ? strdup(text) : NULL,
			      text ? strlen(text) : 0, 0644,
			      entry_time(epoch, NULL), e) < 0)
			return -1;
	}
	return 0;
}

struct sdist_opts {
	const char *manifest, *out_dir, *interp;
};

/* Walks the folders the sdist carries: each crate's, the pyproject's
 * (the project root, whole) and python-source when it lies elsewhere. */
static int add_walks(struct slist *l, const struct carried *set,
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
	size_t i, n = 0;

	if (conf->dir)
		dirs[n++] = conf->dir;
	if (conf->python_source)
		dirs[n++] = conf->python_source;
	for (i = 0; i < set->n && n < 64; i++)
		dirs[n++] = set->v[i].dir;
	if (i < set->n)
		return sp_err_set(e, "an sdist of more than 60 crates is not "
				     "supported");
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

static int sdist_run(const struct sdist_opts *o, char **result,
		     struct sp_err *e)
{
	char *manifest = NULL, *pkgdir = NULL, *sroot = NULL;
	char *base = NULL, *pkginfo = NULL, *outdir = NULL, *final = NULL;
	char *root = NULL;
	struct tmpfile t = TMPFILE_INIT;
	struct sdistconf conf = {0};
	struct carried set = {0};
	struct slist l = {0};
	json_t *cargo_meta = NULL, *pkg_meta = NULL, *docs = NULL;
	json_t *manifests = NULL;
	const json_t *pkg;
	const char *epoch_s = getenv("SOURCE_DATE_EPOCH");
	int64_t epoch = -1;
	int dirfd = -1, ret = -1;

	if (epoch_s && *epoch_s) {
		char *end;

		errno = 0;
		epoch = strtoll(epoch_s, &end, 10);
		if (errno || *end || epoch < 0)
			return sp_err_set(e,
					  "SOURCE_DATE_EPOCH '%s' is not a "
					  "non-negative number of seconds",
					  epoch_s);
	}
	manifest = package_manifest(o->manifest, e);
	if (!manifest)
		return -1;
	cargo_meta = cargo_metadata_json(manifest, e);
	if (!cargo_meta)
		goto out;
	pkgdir = path_dirname(manifest);
	root = realpath(str_member(cargo_meta, "workspace_root"), NULL);
	if (!pkgdir || !root) {
		sp_err_sys(e, "cannot resolve the workspace root");
		goto out;
	}
	pkg = carried_package_at(cargo_meta, pkgdir);
	if (!pkg) {
		sp_err_set(e,
			   "'%s' is not a package's manifest (a virtual "
			   "workspace?): point --manifest-path at the "
			   "package to distribute",
			   manifest);
		goto out;
	}
	if (sdistconf_load(&conf, o->interp, manifest, pkgdir, root, e) < 0)
		goto out;
	pkg_meta = cargo_package_meta(pkg, conf.project, root, e);
	if (!pkg_meta || !(pkginfo = metadata_render(pkg_meta, e)))
		goto out;
	base = dist_info_dir(str_member(pkg_meta, "distribution"),
			     str_member(pkg_meta, "version"));
	if (!base) {
		str_oom(e, "make the sdist");
		goto out;
	}
	base[strlen(base) - strlen(".dist-info")] = '\0';

	if (carried_collect(&set, cargo_meta, pkgdir, root, e) < 0 ||
	    !(docs = read_manifests(&set, o->interp, e)))
		goto out;
	sroot = sdist_root(&set, root, &conf);
	if (!sroot) {
		str_oom(e, "make the sdist");
		goto out;
	}
	manifests = sdist_manifests(&set, docs, root, sroot, e);
	/* What is added first wins over a walk's copy of the same name. */
	if (!manifests || add_manifests(&l, manifests, base, epoch, e) < 0 ||
	    add_cargo_lock(&l, root, base, epoch, e) < 0)
		goto out;
	if (conf.path && strcmp(conf.dir, sroot) != 0 &&
	    slist_add(&l, path_join(base, "pyproject.toml"), strdup(conf.path),
		      NULL, 0, 0644, entry_time(epoch, NULL), e) < 0)
		goto out;
	if (slist_add(&l, path_join(base, "PKG-INFO"), NULL, pkginfo,
		      strlen(pkginfo), 0644, entry_time(epoch, NULL), e) < 0) {
		pkginfo = NULL;
		goto out;
	}
	pkginfo = NULL;
	if (add_walks(&l, &set, &conf, root, base, sroot, epoch, e) < 0 ||
	    add_named_files(&l, &set, docs, &conf, base, sroot, epoch, e) < 0 ||
	    (conf.dir && add_includes(&l, &conf, base, sroot, epoch, e) < 0))
		goto out;

	outdir = o->out_dir
		     ? strdup(o->out_dir)
		     : path_join(str_member(cargo_meta, "target_directory"),
				 "wheels");
	if (!outdir) {
		str_oom(e, "make the sdist");
		goto out;
	}
	/* The folder the user named (or target/wheels): opened once,
	 * symlinks in it followed, missing folders made one at a time; the
	 * archive goes in through the temporary-file recipe (tmpfile.h). */
	dirfd = dirs_open(outdir, DIRS_FOLLOW | DIRS_CREATE, 0755, e);
	if (dirfd < 0)
		goto out;
	if (asprintf(&final, "%s/%s.tar.gz", outdir, base) < 0) {
		final = NULL;
		str_oom(e, "make the sdist");
		goto out;
	}
	if (tmpfile_create(&t, dirfd, outdir, path_basename(final), 0644, e) <
		0 ||
	    write_archive(t.fd, final, &l, e) < 0 ||
	    tmpfile_commit(&t, path_basename(final), 0, e) < 0)
		goto out;
	*result = final;
	final = NULL;
	ret = 0;
out:
	tmpfile_discard(&t);
	if (dirfd >= 0)
		close(dirfd);
	slist_release(&l);
	sdistconf_release(&conf);
	carried_release(&set);
	json_decref(cargo_meta);
	json_decref(pkg_meta);
	json_decref(docs);
	json_decref(manifests);
	free(manifest);
	free(pkgdir);
	free(sroot);
	free(base);
	free(pkginfo);
	free(outdir);
	free(final);
	free(root);
	return ret;
}

int cmd_sdist(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_MANIFEST };
	static const struct option longopts[] = {
	    {"manifest-path", required_argument, NULL, OPT_MANIFEST},
	    {"out-dir", required_argument, NULL, 'o'},
	    {"interpreter", required_argument, NULL, 'i'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sdist_opts o = {0};
	struct sp_err e;
	char *path = NULL;
	json_t *res;
	int c, json = 0, quiet = 0;

	optind = 1;
	while ((c = opts_next(argc, argv, "o:i:qh", longopts)) != -1) {
		switch (c) {
		case OPT_MANIFEST:
			o.manifest = optarg;
			break;
		case 'o':
			o.out_dir = optarg;
			break;
		case 'i':
			o.interp = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(sdist_help, stdout);
			return 0;
		default:
			fputs(sdist_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "spoke: sdist takes no arguments\n\n%s",
			sdist_help);
		return EXIT_USAGE;
	}
	sp_err_clear(&e);
	tmpfile_remove_on_signals();
	if (sdist_run(&o, &path, &e) < 0) {
		if (json) {
			res = json_pack("{s:s, s:b, s:s}", "command", "sdist",
					"ok", 0, "error", e.msg);
			if (res)
				output_json_line("result", res);
			json_decref(res);
		}
		sp_err_print(&e);
		return 1;
	}
	if (json) {
		res = json_pack("{s:s, s:b, s:s}", "command", "sdist", "ok", 1,
				"sdist", path);
		if (res)
			output_json_line("result", res);
		json_decref(res);
	} else if (!quiet) {
		printf("%s\n", path);
	}
	free(path);
	return 0;
}
