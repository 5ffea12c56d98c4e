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
#include "cli/project/carried.h"
#include "cli/project/pkgmeta.h"
#include "cli/project/projconf.h"
#include "cli/project/relpath.h"
#include "cli/project/sdistconf.h"
#include "cli/project/sdistfiles.h"
#include "cli/project/sdistmanifest.h"
#include "cli/project/strutil.h"
#include "cli/project/tomldoc.h"
#include "common/dirs.h"
#include "common/epoch.h"
#include "common/fsx.h"
#include "common/path.h"
#include "common/tmpfile.h"
#include "worker/wheel/metadata.h"

static const char sdist_help[] =
    "usage: spoke sdist [options]\n"
    "\n"
    "Writes <name>-<version>.tar.gz, a source distribution of the package\n"
    "whose Cargo.toml is in the current folder (or --manifest-path, or\n"
    "the one the pyproject.toml here names by manifest-path): the\n"
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

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct sdist_entry *)a)->name,
		      ((const struct sdist_entry *)b)->name);
}

/* Writes the sorted entries as a gzip'd pax archive to fd. */
static int write_archive(int fd, const char *path, struct sdist_files *l,
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
		struct sdist_entry *s = &l->v[i];

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

struct sdist_opts {
	const char *manifest, *out_dir, *interp;
};

static int sdist_run(const struct sdist_opts *o, char **result,
		     struct sp_err *e)
{
	char *manifest = NULL, *pkgdir = NULL, *sroot = NULL;
	char *base = NULL, *pkginfo = NULL, *outdir = NULL, *final = NULL;
	char *root = NULL, *pp_manifest = NULL;
	struct tmpfile t = TMPFILE_INIT;
	struct sdistconf conf = {0};
	struct carried set = {0};
	struct sdist_files l = {0};
	json_t *cargo_meta = NULL, *pkg_meta = NULL, *docs = NULL;
	json_t *manifests = NULL;
	const json_t *pkg;
	const char *epoch_s = getenv("SOURCE_DATE_EPOCH");
	int64_t epoch = -1;
	long long epoch_ll = -1;
	int dirfd = -1, ret = -1;

	if (epoch_parse(epoch_s, &epoch_ll, e) < 0)
		return -1;
	epoch = epoch_ll;
	/* Without --manifest-path, a pyproject.toml here may name the
	 * crate (manifest-path, the src layout), as for spoke build. */
	if (!o->manifest) {
		struct pyinfo py = {0};
		int r = projconf_cwd_manifest(o->interp, &py, &pp_manifest, e);

		pyinfo_release(&py);
		if (r < 0)
			return -1;
	}
	manifest = package_manifest(pp_manifest ? pp_manifest : o->manifest, e);
	free(pp_manifest);
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
	/* The [project] readme and license files are read from the
	 * pyproject.toml's folder, as spoke build reads them (plan.c): it
	 * may lie above the crate (the src layout). */
	pkg_meta = pkgmeta_of(pkg, conf.project, conf.path ? conf.dir : NULL,
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
	if (!manifests ||
	    sdist_files_manifests(&l, manifests, base, epoch, e) < 0 ||
	    sdist_files_cargo_lock(&l, root, base, epoch, e) < 0)
		goto out;
	/* A PEP 517 frontend reads the pyproject.toml at the top. */
	if (conf.path && (strcmp(conf.dir, sroot) != 0 ||
			  sdistconf_top_rewritten(&conf, sroot))) {
		char *top = NULL;
		int r =
		    sdistconf_top(&conf, o->interp, manifest, sroot, &top, e);

		/* sdist_files_add takes top, and frees it on failure. */
		if (r < 0 ||
		    sdist_files_add(&l, path_join(base, "pyproject.toml"),
				    top ? NULL : strdup(conf.path), top,
				    top ? strlen(top) : 0, 0644,
				    sdist_time(epoch, NULL), e) < 0)
			goto out;
	}
	if (sdist_files_add(&l, path_join(base, "PKG-INFO"), NULL, pkginfo,
			    strlen(pkginfo), 0644, sdist_time(epoch, NULL),
			    e) < 0) {
		pkginfo = NULL;
		goto out;
	}
	pkginfo = NULL;
	if (sdist_files_walks(&l, &set, &conf, root, base, sroot, epoch, e) <
		0 ||
	    sdist_files_named(&l, &set, docs, &conf, base, sroot, epoch, e) <
		0 ||
	    (conf.dir &&
	     sdist_files_includes(&l, &conf, base, sroot, epoch, e) < 0))
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
	sdist_files_release(&l);
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
