/*
 * pep440.h - cargo (semver) versions as PEP 440 versions.
 *
 * A wheel's version must be PEP 440, a cargo package's is semver.  The two
 * agree on the release numbers and on a few pre-release spellings; for
 * anything else there is no faithful mapping (semver orders "1.0.0-post.1"
 * before 1.0.0, PEP 440 after it), so the conversion refuses rather than
 * guess, and tells the user to set the version in pyproject.toml.
 */
#ifndef SPOKE_CLI_PROJECT_PEP440_H
#define SPOKE_CLI_PROJECT_PEP440_H

#include "common/err.h"

/*
 * Converts a semver version to its normalized PEP 440 form and returns it
 * (malloc'd; the caller frees it), or NULL with e filled.
 *
 *   core           "1.0.0" -> "1.0.0" (leading zeros dropped)
 *   pre-release    "-alpha", "-a"          -> "a0"
 *                  "-alpha.1", "-a1"       -> "a1"
 *                  "-beta.2", "-b.2"       -> "b2"
 *                  "-rc.3", "-rc3", "-c3", "-pre.3", "-preview.3" -> "rc3"
 *                  "-dev.4", "-dev"        -> ".dev4", ".dev0"
 *                  (labels are case-insensitive; one label, at most one
 *                  number, as PEP 440 orders nothing else like semver does)
 *   build          "+build.5" -> "+build.5"; characters other than letters,
 *                  digits and '.' become '.', letters are lowercased, and
 *                  empty segments are dropped (a PEP 440 local version)
 *
 * Anything else fails with "cannot express cargo version '<v>' in PEP 440:
 * <why>; set [project] version in pyproject.toml".
 */
char *pep440_from_semver(const char *semver, struct sp_err *e);

#endif
