/*
 * sdistfiles.h - the entries of an sdist: each name in the archive with
 * the file it is read from (or the bytes spoke wrote), and the ways they
 * are gathered: the carried folders walked, the manifests, Cargo.lock,
 * the readme and license files manifests name, and [tool.maturin]
 * include patterns.
 *
 * Every name is below base/ (the archive's top folder,
 * <name>-<version>) at the file's place below the sdist root, so the
 * carried folders keep their relative places.  An entry added twice is
 * stored once, the first time: callers add what they wrote (manifests)
 * before walking the folders that hold the originals.
 */
#ifndef SPOKE_CLI_PROJECT_SDISTFILES_H
#define SPOKE_CLI_PROJECT_SDISTFILES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cli/project/carried.h"
#include "cli/project/sdistconf.h"
#include "common/err.h"

struct sdist_entry {
	char *name; /* path in the archive */
	char *src;  /* file to read, or NULL: data holds the content */
	char *data;
	size_t len;
	mode_t mode;
	int64_t mtime;
};

/* The entries, in the order added; the archive writer sorts them. */
struct sdist_files {
	struct sdist_entry *v;
	size_t n, cap;
};

/*
 * Adds an entry, taking name, src and data (malloc'd; any may be NULL
 * when allocating it failed, which is then the error).  A name already
 * present is not added again.  Returns 0, or -1 with e filled (out of
 * memory); what it took is freed either way.
 */
int sdist_files_add(struct sdist_files *l, char *name, char *src, char *data,
		    size_t len, mode_t mode, int64_t mtime, struct sp_err *e);

/* Frees every entry and zeroes l. */
void sdist_files_release(struct sdist_files *l);

/* The time of an entry: epoch (SOURCE_DATE_EPOCH) when >= 0, else the
 * file's own (st), else now. */
int64_t sdist_time(int64_t epoch, const struct stat *st);

/*
 * Adds the manifests sdist_manifests() made (list: {"name", "src" or
 * "text"}).  Returns 0 or -1 with e filled.
 */
int sdist_files_manifests(struct sdist_files *l, const json_t *list,
			  const char *base, int64_t epoch, struct sp_err *e);

/*
 * Adds ws_dir/Cargo.lock, when there is one, as base/Cargo.lock: the
 * sdist root is the workspace root of the unpacked sdist.  A lock that
 * is a link out of ws_dir is refused.  Returns 0 or -1 with e filled.
 */
int sdist_files_cargo_lock(struct sdist_files *l, const char *ws_dir,
			   const char *base, int64_t epoch, struct sp_err *e);

/*
 * Walks the folders the sdist carries: the pyproject's folder (whole),
 * python-source, and every crate's, each below root.  Left out: names
 * starting with '.', __pycache__, compiled files (.pyc, .pyo, .so),
 * target/ and dist/ at a walk's top, subfolders holding a Cargo.toml
 * (crates of their own: carried by their own walk or not at all), the
 * Cargo.toml and Cargo.lock at a walk's top (placed by the functions
 * above), and what conf's exclude patterns match (from the pyproject's
 * folder or from the archive's top).  A symbolic link may lead anywhere
 * inside the pyproject's folder or ws_dir; in a path dependency outside
 * both, only inside that dependency.  Returns 0 or -1 with e filled.
 */
int sdist_files_walks(struct sdist_files *l, const struct carried *set,
		      const struct sdistconf *conf, const char *ws_dir,
		      const char *base, const char *root, int64_t epoch,
		      struct sp_err *e);

/*
 * Adds the readme and license files the carried manifests (docs: as
 * sdist_manifests() takes them) and conf's [project] name, which may lie
 * outside the walked folders (a readme inherited from the workspace
 * root), each at its place below root.  Each must lie in the project
 * root (conf->root); a crate carried from outside it (a path dependency)
 * may name only files in its own folder, or, for a value it inherits,
 * in its own workspace root.  An error names the file and the folder it
 * had to lie in; a missing one is left for the tool that reads the
 * field to report.  Returns 0 or -1.
 */
int sdist_files_named(struct sdist_files *l, const struct carried *set,
		      const json_t *docs, const struct sdistconf *conf,
		      const char *base, const char *root, int64_t epoch,
		      struct sp_err *e);

/*
 * Adds the files conf's include patterns for sdists match, from the
 * pyproject's folder, as the wheel's are matched (layout_include_walk:
 * "**" stands for any number of folders, '*' matches a leading dot);
 * each must lie in the project root (conf->root), and goes at its
 * place below root.  Returns 0 or -1 with e filled (a link out of the
 * project root among them, a folder that cannot be read).
 */
int sdist_files_includes(struct sdist_files *l, const struct sdistconf *conf,
			 const char *base, const char *root, int64_t epoch,
			 struct sp_err *e);

#endif
