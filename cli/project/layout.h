/*
 * layout.h - where the files of a package go in its wheel under maturin's
 * rules (a package whose pyproject.toml has [tool.maturin]: pyproject.h).
 *
 * maturin decides, from the module name and the folders it finds:
 *   - mixed: python-source (default: the pyproject's folder, or its src/
 *     in the src layout) holds a folder named after the module's
 *     top-level package (one with __init__.py, or any folder without a
 *     Cargo.toml, which would be a Rust crate of that name).  That
 *     package and every python-packages folder beside it are shipped;
 *     the extension goes into the package, and a module name without a
 *     dot ("pkg") becomes "pkg/pkg.<EXT>", not "pkg.<EXT>" beside the
 *     folder, where the folder would hide it;
 *   - pure, a module name without a dot: the module becomes a package,
 *     "m/__init__.py" (generated: it imports the extension's names) +
 *     "m/m.<EXT>", as maturin writes every pyo3 module without Python
 *     sources; with a stub <module>.pyi beside pyproject.toml, also
 *     "m/__init__.pyi" + "m/py.typed";
 *   - pure with a dotted name: "a/b.<EXT>" alone, as spoke always did.
 * Then include patterns (format "wheel" or both) add files, relative to
 * the pyproject's folder or, failing that, to python-source; exclude
 * patterns drop files by their path below the pyproject's folder or by
 * their path in the wheel (never the extension nor a generated file);
 * the data folder (data, default "<module>.data" beside pyproject.toml)
 * has the subfolders data, scripts, headers, purelib and platlib, whose
 * files go to "<dist>-<version>.data/" in the wheel.  Patterns that match
 * nothing are no error, as in maturin.
 *
 * Every file read must lie within project_root, whatever symbolic links
 * lead there (pysrc_inside, docs/security.md).
 */
#ifndef SPOKE_CLI_PROJECT_LAYOUT_H
#define SPOKE_CLI_PROJECT_LAYOUT_H

#include <jansson.h>

#include "cli/project/pyproject.h"
#include "cli/project/pysrc.h"
#include "common/err.h"

/* What maturin's rules make of a package (layout_decide). */
enum layout_kind {
	LAYOUT_PURE = 0,     /* the extension alone, "a/b.<EXT>" */
	LAYOUT_PURE_PACKAGE, /* m/__init__.py, m/m.<EXT> (and m/__init__.pyi,
			      * m/py.typed with a stub) */
	LAYOUT_MIXED,	  /* a python package holds the extension */
};

/*
 * Decides the layout of module from what exists: python_root/<top> a
 * folder (mixed, unless it has a Cargo.toml and no __init__.py), else a
 * module without a dot (a pure package), else pure.  *in_package is 1
 * when the extension goes to "<module path>/<last>.<EXT>" (a module
 * without a dot).  Never fails.
 */
enum layout_kind layout_decide(const char *python_root, const char *module,
			       int *in_package);

/*
 * The text of the __init__.py that makes a pure module named ext a
 * package: it imports the extension's public names, its docstring and
 * its __all__.  malloc'd; NULL when out of memory.
 */
char *layout_init_py(const char *ext);

/*
 * The project root of a package under maturin's rules (malloc'd; NULL
 * when out of memory): the pyproject's folder pp_dir, or the cargo
 * workspace root when that holds pp_dir (a pyproject.toml inside a
 * workspace whose python-source is "../src").  Compared as written:
 * both are absolute paths as cargo and pyproject.h give them.  Links
 * out of it are refused (docs/security.md).
 */
char *layout_project_root(const char *pp_dir, const char *workspace_root);

/*
 * Expands an include pattern (pathglob.h; the caller has passed it
 * through pathglob_check) as maturin does, and as the wheel's and the
 * sdist's includes both must: calls fn(abs, rel, arg, e) (pysrc.h) for
 * every file below the folder base whose path relative to base matches
 * it; fn returns 0, or -1 with e filled to stop the walk.  The
 * walk starts at the pattern's literal folder (one that does not exist
 * matches nothing) and goes no deeper than the pattern needs; names
 * starting with '.' are walked like any other; links to folders are not
 * followed, and a link to a file must lead inside project_root
 * (pysrc_inside).  Returns 0, or -1 with e filled: fn's error, a link
 * out of project_root, a folder that cannot be read or is nested too
 * deep.
 */
int layout_include_walk(const char *pattern, const char *base,
			const char *project_root, pysrc_file_fn fn, void *arg,
			struct sp_err *e);

/*
 * Adds to job what maturin's rules put in the wheel of the package that
 * pp configures, for the extension module named module:
 * "python_files" (always, maybe empty: pysrc_plan then leaves the Python
 * side to this module), "module_in_package" and "data_files".  A job
 * for a program (with "program", binplan.h) has no extension: a pure
 * package gets no generated package.
 * project_root bounds what may be read (see above).  An include with
 * from = "out-dir" reads the OUT_DIR of its crate from out_dirs
 * ({package_id: folder}, cargo_msg.h's; may be NULL), the package's own
 * being pkg_id's; links out of that folder are refused.  Errors: python-
 * source or data given and not a folder, a python-source without the
 * module's package, a folder or link outside project_root, a bad
 * pattern, an entry of the data folder that is not one of its five
 * subfolders, a link to a folder in it, an out-dir include whose crate
 * has no OUT_DIR, two files for one place in the wheel; each names the
 * file and the setting.
 */
int layout_plan(json_t *job, const struct pyproject *pp, const char *module,
		const char *project_root, const json_t *out_dirs,
		const char *pkg_id, struct sp_err *e);

#endif
