/*
 * sdistconf.h - what `spoke sdist` needs from the package's
 * pyproject.toml: which file it is, its folder (the project root, carried
 * whole), its [project] table, [tool.maturin] python-source, and the
 * include/exclude patterns meant for sdists.
 *
 * struct pyproject (pyproject.h) will answer all of this once it lands;
 * until then this module reads the same file the same way, through the
 * interpreter's tomllib (tomldoc.h), and is the one place to switch.
 *
 * Which pyproject.toml configures the package with Cargo.toml M in folder
 * D (pyproject.h's rule): D/pyproject.toml; else the nearest one above D,
 * no higher than the workspace root's parent, whose [tool.maturin]
 * manifest-path names M; else, as before, one without manifest-path whose
 * folder holds rust/Cargo.toml = M (the src layout).
 */
#ifndef SPOKE_CLI_PROJECT_SDISTCONF_H
#define SPOKE_CLI_PROJECT_SDISTCONF_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

struct sdistconf {
	char *path;	       /* the pyproject.toml, or NULL when none */
	char *dir;	       /* its folder, a realpath(3) */
	json_t *doc;	       /* the whole document (new reference) */
	const json_t *project; /* its [project] table (in doc), or NULL */
	char *python_source;   /* [tool.maturin] python-source, a realpath,
				* or NULL when not given */
	json_t *include;       /* array of patterns for sdists */
	json_t *exclude;       /* array of patterns for sdists */
};

/*
 * Fills c (zeroed by the caller) for the package whose Cargo.toml is
 * manifest in folder pkgdir, in the workspace rooted at ws_dir (all
 * realpaths), reading with interpreter.  No pyproject.toml is not an
 * error (c->path stays NULL).  -1 with e filled: a file that is not valid
 * TOML, a [tool.maturin] include/exclude or python-source of the wrong
 * type, or a python-source folder that does not exist.
 */
int sdistconf_load(struct sdistconf *c, const char *interpreter,
		   const char *manifest, const char *pkgdir, const char *ws_dir,
		   struct sp_err *e);

/* Frees what c owns and zeroes it. */
void sdistconf_release(struct sdistconf *c);

#endif
