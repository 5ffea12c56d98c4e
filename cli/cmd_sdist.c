/*
 * cmd_sdist.c - spoke sdist: a source distribution that builds on its own.
 *
 * The archive holds the package's crate, every path dependency it needs
 * from the workspace (at their places relative to the workspace root), a
 * generated top-level Cargo.toml naming just those as workspace members,
 * the workspace's Cargo.lock, pyproject.toml and PKG-INFO.  It is written
 * so that the same tree and SOURCE_DATE_EPOCH give the same bytes: entries
 * sorted by name, owner 0/0, no gzip time stamp.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "cli/project/pkgmeta.h"
#include "cli/project/pyinfo.h"
#include "cli/project/pysrc.h"
#include "cli/project/strutil.h"
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
    "crate with its Python sources, the path dependencies it needs from\n"
    "the workspace, a generated workspace Cargo.toml, Cargo.lock,\n"
    "pyproject.toml and PKG-INFO.  `spoke build` in the unpacked folder\n"
    "builds its wheel.  With SOURCE_DATE_EPOCH set, every entry has that\n"
    "time and the archive is reproducible.\n"
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

/* Adds the files under dir as arc/..., leaving out folders that are
 * packages of their own (they come in as members, or not at all). */
static int walk(const char *dir, const char *arc, int top, int64_t epoch,
		const char *limit, struct slist *l, struct sp_err *e)
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
		if (skip_name(de->d_name, top))
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
			   pysrc_inside(s, limit, "file", e) < 0) {
			r = -1;
		} else if (S_ISDIR(st.st_mode) && !S_ISLNK(lst.st_mode)) {
			sub = path_join(s, "Cargo.toml");
			if (!sub)
				r = str_oom(e, "make the sdist");
			else if (!path_exists(sub))
				r = walk(s, a, 0, epoch, limit, l, e);
		} else if (S_ISREG(st.st_mode)) {
			r = slist_add(l, a, s, NULL, 0,
				      (st.st_mode & 0111) ? 0755 : 0644,
				      entry_time(epoch, &st), e);
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

/* dir relative to root ("" for root itself), or NULL when outside. */
static const char *rel_to(const char *dir, const char *root)
{
	size_t n = strlen(root);

	if (strncmp(dir, root, n) != 0)
		return NULL;
	if (dir[n] == '\0')
		return "";
	return dir[n] == '/' ? dir + n + 1 : NULL;
}

static const json_t *package_at(const json_t *packages, const char *dir)
{
	const json_t *p;
	size_t i;

	json_array_foreach(packages, i, p)
	{
		char *d = path_dirname(str_member(p, "manifest_path"));
		int same = d && strcmp(d, dir) == 0;

		free(d);
		if (same)
			return p;
	}
	return NULL;
}

/* Adds pkgdir and, transitively, the folders of its path dependencies to
 * dirs (an array of absolute paths, no duplicates). */
static int add_members(const json_t *packages, const char *root,
		       const char *pkgdir, json_t *dirs, struct sp_err *e)
{
	const json_t *pkg, *dep;
	size_t i;

	if (str_array_has(dirs, pkgdir))
		return 0;
	if (!rel_to(pkgdir, root))
		return sp_err_set(e,
				  "path dependency '%s' is outside the "
				  "workspace '%s': an sdist cannot hold it",
				  pkgdir, root);
	if (json_array_append_new(dirs, json_string(pkgdir)) < 0)
		return str_oom(e, "make the sdist");
	pkg = package_at(packages, pkgdir);
	json_array_foreach(json_object_get(pkg, "dependencies"), i, dep)
	{
		const char *p = str_member(dep, "path");
		char *real;
		int r;

		if (!p)
			continue;
		real = realpath(p, NULL);
		if (!real)
			return sp_err_sys(e, "cannot find path dependency '%s'",
					  p);
		r = add_members(packages, root, real, dirs, e);
		free(real);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct sentry *)a)->name,
		      ((const struct sentry *)b)->name);
}

static int by_json_string(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

/* The generated workspace manifest naming the included members. */
static char *workspace_manifest(json_t *dirs, const char *root)
{
	size_t n = json_array_size(dirs), i;
	json_t **v = calloc(n + 1, sizeof(*v));
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!v)
		return NULL;
	for (i = 0; i < n; i++)
		v[i] = json_array_get(dirs, i);
	qsort(v, n, sizeof(*v), by_json_string);
	f = open_memstream(&text, &len);
	if (f) {
		fputs("# Generated by spoke sdist: the workspace members this "
		      "package needs.\n[workspace]\nresolver = \"2\"\n"
		      "members = [\n",
		      f);
		for (i = 0; i < n; i++)
			fprintf(f, "    \"%s\",\n",
				rel_to(json_string_value(v[i]), root));
		fputs("]\n", f);
		if (fclose(f) != 0) {
			free(text);
			text = NULL;
		}
	}
	free(v);
	return text;
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

/* Adds the files of every member folder in dirs (absolute, inside root)
 * as base/<its path from root>/... */
static int add_member_files(const json_t *dirs, const char *root,
			    const char *project_root, const char *base,
			    int64_t epoch, struct slist *l, struct sp_err *e)
{
	const char *rel, *limit;
	const json_t *x;
	size_t i;
	int ret;

	json_array_foreach(dirs, i, x)
	{
		char *arc;

		rel = rel_to(json_string_value(x), root);
		arc = *rel ? path_join(base, rel) : strdup(base);
		if (!arc)
			return str_oom(e, "make the sdist");
		/* Links may point anywhere inside the project root (the
		 * pyproject.toml's folder, else the workspace root); a path
		 * dependency outside it keeps its links to itself. */
		limit = rel_to(json_string_value(x), project_root)
			    ? project_root
			    : json_string_value(x);
		ret = walk(json_string_value(x), arc, 1, epoch, limit, l, e);
		free(arc);
		if (ret < 0)
			return -1;
	}
	return 0;
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

/* Adds the workspace's Cargo.lock, when there is one, as base/Cargo.lock,
 * so the sdist builds with the versions the workspace locked.  It must
 * lie inside root (pysrc_inside): a link out of the workspace is
 * refused. */
static int add_cargo_lock(struct slist *l, const char *root,
			  const char *base, int64_t epoch, struct sp_err *e)
{
	char *lock = path_join(root, "Cargo.lock");

	if (!lock)
		return str_oom(e, "make the sdist");
	if (!path_exists(lock)) {
		free(lock);
		return 0;
	}
	if (pysrc_inside(lock, root, "file", e) < 0) {
		free(lock);
		return -1;
	}
	return slist_add(l, path_join(base, "Cargo.lock"), lock, NULL, 0, 0644,
			 entry_time(epoch, NULL), e);
}

struct sdist_opts {
	const char *manifest, *out_dir, *interp;
};

static int sdist_run(const struct sdist_opts *o, char **result,
		     struct sp_err *e)
{
	char *manifest = NULL, *pkgdir = NULL, *pyproject = NULL;
	char *base = NULL, *pkginfo = NULL, *outdir = NULL, *final = NULL;
	char *root = NULL, *gen = NULL;
	struct tmpfile t = TMPFILE_INIT;
	const char *pyprojects[1];
	struct pyinfo py = {0};
	struct slist l = {0};
	json_t *cargo_meta = NULL, *pkg_meta = NULL, *dirs = NULL, *x;
	const json_t *pkg, *proj = NULL;
	const char *epoch_s = getenv("SOURCE_DATE_EPOCH"), *project_root;
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
	pkg = package_at(json_object_get(cargo_meta, "packages"), pkgdir);
	if (!pkg) {
		sp_err_set(e,
			   "'%s' is not a package's manifest (a virtual "
			   "workspace?): point --manifest-path at the "
			   "package to distribute",
			   manifest);
		goto out;
	}

	pyproject = path_join(pkgdir, "pyproject.toml");
	if (!pyproject) {
		str_oom(e, "make the sdist");
		goto out;
	}
	project_root = path_exists(pyproject) ? pkgdir : root;
	pyprojects[0] = pyproject;
	if (pyinfo_query(o->interp, pyprojects, path_exists(pyproject) ? 1 : 0,
			 &py, e) < 0)
		goto out;
	x = json_object_get(py.pyprojects, pyproject);
	if (str_member(x, "error")) {
		sp_err_set(e, "cannot read '%s': %s", pyproject,
			   str_member(x, "error"));
		goto out;
	}
	proj = json_object_get(x, "project");
	pkg_meta = cargo_package_meta(pkg, json_is_object(proj) ? proj : NULL,
				      root, e);
	if (!pkg_meta || !(pkginfo = metadata_render(pkg_meta, e)))
		goto out;
	base = dist_info_dir(str_member(pkg_meta, "distribution"),
			     str_member(pkg_meta, "version"));
	if (!base) {
		str_oom(e, "make the sdist");
		goto out;
	}
	base[strlen(base) - strlen(".dist-info")] = '\0';

	dirs = json_array();
	if (!dirs) {
		str_oom(e, "make the sdist");
		goto out;
	}
	if (add_members(json_object_get(cargo_meta, "packages"), root, pkgdir,
			dirs, e) < 0)
		goto out;
	if (add_member_files(dirs, root, project_root, base, epoch, &l, e) < 0)
		goto out;
	/* A package below the root gets a workspace of its own; one at the
	 * root keeps its manifest as it is. */
	if (*rel_to(pkgdir, root)) {
		gen = workspace_manifest(dirs, root);
		if (slist_add(&l, path_join(base, "Cargo.toml"), NULL, gen,
			      gen ? strlen(gen) : 0, 0644,
			      entry_time(epoch, NULL), e) < 0) {
			gen = NULL;
			goto out;
		}
		gen = NULL;
		if (path_exists(pyproject) &&
		    slist_add(&l, path_join(base, "pyproject.toml"),
			      strdup(pyproject), NULL, 0, 0644,
			      entry_time(epoch, NULL), e) < 0)
			goto out;
	}
	if (add_cargo_lock(&l, root, base, epoch, e) < 0)
		goto out;
	if (slist_add(&l, path_join(base, "PKG-INFO"), NULL, pkginfo,
		      strlen(pkginfo), 0644, entry_time(epoch, NULL), e) < 0) {
		pkginfo = NULL;
		goto out;
	}
	pkginfo = NULL;

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
	pyinfo_release(&py);
	json_decref(cargo_meta);
	json_decref(pkg_meta);
	json_decref(dirs);
	free(manifest);
	free(pkgdir);
	free(pyproject);
	free(base);
	free(pkginfo);
	free(outdir);
	free(final);
	free(root);
	free(gen);
	return ret;
}

int sdist_write(const char *manifest, const char *out_dir, const char *interp,
		char **path, struct sp_err *e)
{
	struct sdist_opts o = {manifest, out_dir, interp};

	sp_err_clear(e);
	return sdist_run(&o, path, e);
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
