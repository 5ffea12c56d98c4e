/*
 * license.h - a package's license as PEP 639 states it: the SPDX license
 * expression of License-Expression, and the license files a wheel ships
 * in its dist-info's licenses/ folder with a License-File line each.
 *
 * Which files (each a regular file; duplicates by place kept once):
 *   - cargo's license-file, relative to the package's folder;
 *   - [project] license = {file = "..."}, relative to the project root;
 *   - [project] license-files globs, relative to the project root, each
 *     of which must match (an empty list ships nothing more);
 *   - when a [project] table has no license-files key, the files of the
 *     project root that match LICEN[CS]E*, COPYING*, NOTICE* or AUTHORS*
 *     (maturin's discovery; none is fine).
 * Without a [project] table only cargo's license-file is shipped, as
 * before PEP 639.  A file's place below licenses/ is its path relative to
 * the folder it was named from; one named through ".." (a workspace's
 * license-file = "../LICENSE") goes by its file name, and must lie in the
 * workspace or the project root.  Nothing here writes a file.
 */
#ifndef SPOKE_CLI_PROJECT_LICENSE_H
#define SPOKE_CLI_PROJECT_LICENSE_H

#include <jansson.h>

#include "common/err.h"

/*
 * Checks s as an SPDX license expression (SPDX 2.3 annex D: license ids,
 * LicenseRef-/DocumentRef- references, "+", AND, OR, WITH and
 * parentheses; operators all upper or all lower case) and returns it
 * normalized: operators upper case, one space between tokens, none inside
 * parentheses (malloc'd; caller frees).  The ids are not checked against
 * SPDX's list, which spoke does not carry.  NULL with e saying what is
 * wrong, or out of memory.
 */
char *license_expression_normalize(const char *s, struct sp_err *e);

/*
 * Adds the package's license files to job as "license_files" ([{"src":
 * absolute path, "dst": place below licenses/}], sorted by dst) and their
 * places to meta's "license_files" (METADATA License-File); nothing when
 * there are none.  pkg is cargo metadata's package, pkgdir its folder,
 * proj the [project] table (NULL when none), project_root the folder of
 * the pyproject.toml (else the workspace root), workspace_root cargo's.
 * Errors: a glob that is not PEP 639's syntax or matches no file, a named
 * file that is missing, a link or ".." path leading out of the project
 * root and the workspace (pysrc_inside), a name a wheel cannot hold.
 */
int license_plan(json_t *job, json_t *meta, const json_t *pkg,
		 const char *pkgdir, const json_t *proj,
		 const char *project_root, const char *workspace_root,
		 struct sp_err *e);

#endif
