/*
 * pkgmeta.h - a package's core metadata: from cargo metadata's package
 * object and the pyproject.toml [project] table to the "metadata" object
 * of a job (worker/wheel_job.h), which the worker writes as METADATA.
 *
 * What pyproject's [project] states wins over Cargo.toml; each field
 * neither states is left out.  The only file read is the readme, and only
 * inside the package's folder or its workspace.
 */
#ifndef SPOKE_CLI_PROJECT_PKGMETA_H
#define SPOKE_CLI_PROJECT_PKGMETA_H

#include <jansson.h>

#include "common/err.h"

/* {"distribution", "version", "metadata"} of a cargo package (an element
 * of cargo metadata's "packages") and its pyproject [project] table (proj,
 * may be NULL), as plan jobs have them; new reference, NULL with e
 * filled.  The readme must lie in the package's folder or in
 * workspace_root (a readme resolving elsewhere is an error). */
json_t *cargo_package_meta(const json_t *pkg, const json_t *proj,
			   const char *workspace_root, struct sp_err *e);

/*
 * Sets "author" and "author_email" in meta (core metadata Author and
 * Author-email) from cargo's authors array: "Name <email>" and "<email>"
 * entries go to author_email ("Name <email>, ..."; names with RFC 822
 * specials quoted), bare names to author (comma-separated).  Members with
 * nothing to say are not set.  Returns 0, or -1 when out of memory.
 */
int cargo_authors_to_metadata(const json_t *authors, json_t *meta,
			      struct sp_err *e);

#endif
