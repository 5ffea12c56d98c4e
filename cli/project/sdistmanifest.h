/*
 * sdistmanifest.h - the Cargo.toml files an sdist holds: one per carried
 * crate, each standing on its own (manifest.h), and the one at the sdist
 * root that makes them a workspace.
 *
 * The sdist root is the deepest folder holding every carried crate, the
 * package's workspace root and its project folder; it becomes the
 * workspace root of the unpacked sdist.  Its Cargo.toml holds [workspace]
 * with resolver (the original workspace's) and members (every other
 * carried crate, sorted), and the original root's [profile], so the
 * release build is made as in the tree.  When a carried crate sits at the
 * sdist root, that crate's rewritten manifest gets these tables; a lone
 * crate at the root that needed no rewriting is carried as it is.
 */
#ifndef SPOKE_CLI_PROJECT_SDISTMANIFEST_H
#define SPOKE_CLI_PROJECT_SDISTMANIFEST_H

#include <jansson.h>

#include "cli/project/carried.h"
#include "common/err.h"

/*
 * The manifests of set, as a new array of {"name": path below root,
 * "src": file to carry as it is} or {"name", "text": rewritten TOML}.
 * docs maps each crate's manifest path and each workspace root's
 * "<ws_dir>/Cargo.toml" to its parsed document (tomldoc.h); ws_dir is the
 * package's workspace root and root the sdist root (realpaths).  NULL
 * with e filled: an inherited key the workspace lacks, a [patch] or
 * [replace] with a path (the sdist would need to carry that crate too:
 * refused by name), or out of memory.
 */
json_t *sdist_manifests(const struct carried *set, const json_t *docs,
			const char *ws_dir, const char *root, struct sp_err *e);

#endif
