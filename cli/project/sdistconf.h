/*
 * sdistconf.h - what `spoke sdist` needs from the package's
 * pyproject.toml: which file it is, its folder (the project root, carried
 * whole), its [project] table, [tool.maturin] python-source, and the
 * include/exclude patterns meant for sdists.
 *
 * struct pyproject (pyproject.h) answers all of it: which file
 * configures the package (pyproject_candidates, pyproject_configures),
 * python-source with its default, and the include/exclude globs with
 * their format.  This module keeps what an sdist needs from it, so the
 * sdist code reads no [tool.maturin] itself.
 */
#ifndef SPOKE_CLI_PROJECT_SDISTCONF_H
#define SPOKE_CLI_PROJECT_SDISTCONF_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

struct sdistconf {
	char *path;	       /* the pyproject.toml, or NULL when none */
	char *dir;	       /* its folder, a realpath(3) */
	char *root;	       /* the project root (layout_project_root: dir,
				* or the workspace root holding it), or the
				* workspace root when there is no file; every
				* file the sdist names must lie in it */
	json_t *doc;	       /* the whole document (new reference) */
	const json_t *project; /* its [project] table (in doc), or NULL */
	char *python_source;   /* [tool.maturin] python-source, a realpath,
				* or NULL when not given */
	json_t *include;       /* array of patterns for sdists */
	json_t *exclude;       /* array of patterns for sdists */
	int maturin;	       /* maturin's rules apply (pyproject.h) */
	int python_source_set; /* python-source was written, not maturin's
				* default (the folder, or src/ in the src
				* layout) */
};

/*
 * Fills c (zeroed by the caller) for the package whose Cargo.toml is
 * manifest in folder pkgdir, in the workspace rooted at ws_dir (all
 * realpaths), reading with interpreter (pyinfo.h).  No pyproject.toml
 * is not an error (c->path stays NULL, c->root is ws_dir).  -1 with e
 * filled: the package's own pyproject.toml cannot be read or is refused
 * (pyproject_parse says why), a python-source given that does not
 * exist, or a python-source (given, or its default through a link) that
 * lies outside the project root: the sdist would carry that folder
 * whole, as the wheel refuses to read it (layout.h).  A file above the
 * package that cannot be read is passed by: it may configure another.
 */
int sdistconf_load(struct sdistconf *c, const char *interpreter,
		   const char *manifest, const char *pkgdir, const char *ws_dir,
		   struct sp_err *e);

/*
 * The text of the pyproject.toml at the top of the sdist (root): *text
 * is NULL when the file goes there as it is, else (maturin's rules
 * apply) the document with, when c's file lies below root,
 * [tool.maturin] manifest-path set to the package's Cargo.toml (manifest)
 * relative to root, so that a build started at the top, as a PEP 517
 * frontend starts one, finds the package; and, when python-source was
 * maturin's src-layout default, python-source written out: the sdist's
 * one workspace Cargo.toml at the top takes the place of rust/Cargo.toml,
 * by which the default was found (malloc'd; its comments are lost).  The
 * file in its own folder, which the sdist also carries when it lies
 * below root, stays as it is and still configures the package.
 * Returns 0, or -1 with e filled (the file cannot be read again, out of
 * memory).
 */
/* 1 when the sdist must write its own top pyproject.toml for c at root
 * (sdistconf_top would give a text), else 0. */
int sdistconf_top_rewritten(const struct sdistconf *c, const char *root);

int sdistconf_top(const struct sdistconf *c, const char *interpreter,
		  const char *manifest, const char *root, char **text,
		  struct sp_err *e);

/* Frees what c owns and zeroes it. */
void sdistconf_release(struct sdistconf *c);

#endif
