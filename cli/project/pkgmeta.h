/*
 * pkgmeta.h - a package's core metadata: from cargo metadata's package
 * object and the pyproject.toml [project] table to the "metadata" object
 * of a job (worker/wheel_job.h), which the worker writes as METADATA.
 *
 * PEP 621's rule: with a [project] table, a field comes from [project]
 * as stated, or from Cargo.toml when [project] lists its key in dynamic,
 * else it is left out.  Without one, every field Cargo.toml states is
 * used.  What Cargo.toml fills, by [project] key:
 *   version      version (semver as PEP 440; required: given or dynamic)
 *   description  Summary <- description
 *   authors      Author / Author-email <- authors
 *   keywords     Keywords <- keywords
 *   urls         Home-page <- homepage; Project-URL Homepage, Source Code,
 *                Documentation <- homepage, repository, documentation
 *   license      License-Expression <- license (an SPDX expression; one
 *                that is not goes to License); license-file is shipped
 *                (license.h)
 *   readme       Description <- readme (as cargo reports it: found by
 *                cargo, or inherited from the workspace)
 * The other keys have no Cargo.toml counterpart.  The only files read are
 * the readme and a [project] license file, and only inside the package's
 * folder, its workspace or the pyproject's folder.
 */
#ifndef SPOKE_CLI_PROJECT_PKGMETA_H
#define SPOKE_CLI_PROJECT_PKGMETA_H

#include <jansson.h>

#include "common/err.h"

/*
 * {"distribution", "version", "metadata"} of a cargo package (an element
 * of cargo metadata's "packages") and its pyproject [project] table (proj,
 * may be NULL), as plan jobs have them; new reference, NULL with e
 * filled.  project_dir is the pyproject.toml's folder, against which
 * [project] readme and license files are read (NULL: the package's
 * folder).  Errors: [project] without name, or without version when
 * dynamic does not list it; dynamic listing name or a key [project] does
 * not have; a license string that is not an SPDX expression; a readme or
 * license file that cannot be read or resolves outside the package, the
 * workspace (workspace_root) and project_dir.
 */
json_t *pkgmeta_of(const json_t *pkg, const json_t *proj,
		   const char *project_dir, const char *workspace_root,
		   struct sp_err *e);

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
