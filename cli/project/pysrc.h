/*
 * pysrc.h - the Python side of a mixed Rust/Python package.
 *
 * A package may ship pure Python beside its extension module: a folder
 * holding the top-level Python package (with its .py files, .pyi stubs
 * and py.typed) and console scripts from pyproject's [project.scripts].
 * This module finds them and describes them in the job
 * (worker/wheel_job.h: python_files, entry_points); the worker reads the
 * files.  Nothing here writes a file.
 */
#ifndef SPOKE_CLI_PROJECT_PYSRC_H
#define SPOKE_CLI_PROJECT_PYSRC_H

#include <jansson.h>

#include "common/err.h"

/*
 * The folder that holds the top-level package of module (the part before
 * the first '.'), as an absolute path in *root (malloc'd), or NULL when the
 * package has none:
 *   - [package.metadata.spoke] python-source, relative to pkgdir; it must
 *     hold a folder named after the top-level package;
 *   - else pkgdir itself, when pkgdir/<top>/__init__.py exists.
 * Errors: python-source is not a string, escapes pkgdir, or has no folder
 * for the package.
 */
int pysrc_root(const json_t *pkg, const char *pkgdir, const char *module,
	       char **root, struct sp_err *e);

/*
 * Lists every file under root/<top> as {"src": absolute path, "dst": path
 * in the wheel}, sorted by dst, into a new array *files.  Skipped: names
 * starting with '.', __pycache__ folders, compiled files (.pyc, .pyo) and
 * native libraries (.so: the extension comes from cargo, and an editable
 * install may have left a copy in the tree), and symbolic links to folders.
 * Errors: a link that leads outside project_root (pysrc_inside), a name a
 * wheel cannot hold (record_name_ok).
 */
int pysrc_list(const char *root, const char *module,
	       const char *project_root, json_t **files, struct sp_err *e);

/*
 * Adds to job what the Python side of pkg needs: "python_files" (when
 * there is a python source folder, and job has none yet: layout_plan()
 * plans them for a package under maturin's rules) and "entry_points" (the
 * text of
 * entry_points.txt from [project] scripts, gui-scripts and entry-points,
 * groups and names sorted).  proj may be NULL.  Every python source must
 * pass pysrc_inside(project_root), and every name record_name_ok()
 * (worker/wheel/record.h).  License files are license.h's.
 */
int pysrc_plan(json_t *job, const json_t *pkg, const char *pkgdir,
	       const json_t *proj, const char *module, const char *project_root,
	       struct sp_err *e);

/* Called by pysrc_walk() with each file's absolute path and its path
 * below the walk's base; returns 0, or -1 with e filled to stop. */
typedef int (*pysrc_file_fn)(const char *abs, const char *rel, void *arg,
			     struct sp_err *e);

/* How pysrc_walk() walks. */
struct pysrc_walk {
	const char *project_root; /* a link leading out of it is refused
				   * (pysrc_inside) */
	const char *what;	  /* names the files in messages */
	int links_to_dirs; /* 1: a link to a folder is an error; 0: skipped */
	int max_depth;	   /* folders below this depth are not entered */
	pysrc_file_fn fn;
	void *arg;
	/* NULL, or 1 for a name to leave out (file or folder). */
	int (*skip)(const char *name);
};

/*
 * Calls w->fn for every regular file under the folder abs, whose path
 * below the walk's base is rel ("" at the base) and which lies depth
 * folders down, in readdir order.  Links to files are followed when they
 * stay inside w->project_root; links to folders are never followed.
 * The one walk of Python sources, includes, data and OUT_DIR files.
 * Errors: a folder that cannot be read or is nested more than 64 deep, a
 * link out of the project root, a link to a folder when
 * links_to_dirs, and whatever w->fn says.
 */
int pysrc_walk(const struct pysrc_walk *w, const char *abs, const char *rel,
	       int depth, struct sp_err *e);

/* Sorts an array of {"dst", ...} objects by dst, in place: a wheel's
 * files in one order whatever readdir gave.  0, or -1 on out-of-memory. */
int pysrc_sort_by_dst(json_t *a, struct sp_err *e);

/*
 * Refuses a path that leads outside the project: when path (or a folder on
 * the way to it) is a symbolic link, whatever it resolves to must lie in
 * project_root (the folder of the pyproject.toml that configures the
 * package, else the cargo workspace root).  A link to a root-only file
 * elsewhere would otherwise be read with the builder's rights and shipped
 * with the permissions of a package file.  what names the file for the
 * message ("python source", "license file").  Returns 0, or -1 with e
 * naming the link, its target and the root.
 */
int pysrc_inside(const char *path, const char *project_root, const char *what,
		 struct sp_err *e);

#endif
