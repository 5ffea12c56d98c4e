/*
 * manifest.h - a crate's Cargo.toml (parsed, tomldoc.h) rewritten so
 * that it reads the same without the workspace it came from: what an
 * sdist carries.
 *
 * An sdist holds the crates it needs and not the rest of their
 * workspace, under a root manifest of its own (cmd_sdist.c), so each
 * carried manifest must stand on its own:
 *   - every `x.workspace = true` of [package] takes its value from the
 *     workspace's [workspace.package] (readme and license-file, which are
 *     paths from the workspace root, made relative to the crate);
 *   - every dependency with `workspace = true`, in [dependencies],
 *     [dev-dependencies], [build-dependencies] and their [target.X]
 *     forms, becomes the [workspace.dependencies] entry it names, with
 *     the member's features added and its `optional` kept, as cargo
 *     merges them; a `path` there is made relative to the crate;
 *   - `[lints] workspace = true` becomes the workspace's [workspace.lints];
 *   - every `path` of a dependency is rewritten as the relative path from
 *     the crate's real folder to the dependency's real folder, so an
 *     absolute path or one through a symlink still holds once the sdist's
 *     layout (every folder at its place below a common ancestor) is
 *     unpacked elsewhere;
 *   - what belongs to a workspace root ([workspace], [profile], [patch],
 *     [replace], and package.workspace) is taken out: the sdist's root
 *     manifest holds the one workspace.
 */
#ifndef SPOKE_CLI_PROJECT_MANIFEST_H
#define SPOKE_CLI_PROJECT_MANIFEST_H

#include <jansson.h>

#include "common/err.h"

struct manifest_ctx {
	const char *path;      /* the Cargo.toml, for messages */
	const char *crate_dir; /* the crate's folder, a realpath(3) */
	const char *ws_dir;    /* its workspace's root folder, a realpath */
	const json_t *ws_doc;  /* that root's Cargo.toml, parsed; NULL when
				* the crate is not in a workspace */
};

/*
 * Rewrites doc, the parsed Cargo.toml of c->crate_dir, in place as above.
 * Returns 1 when anything changed, 0 when the manifest already stood on
 * its own (the caller may then carry the file as it is), or -1 with e
 * filled: an inherited key the workspace does not define (naming both
 * files), a path dependency that does not exist, or out of memory.
 */
int manifest_standalone(json_t *doc, const struct manifest_ctx *c,
			struct sp_err *e);

/*
 * The resolver the workspace rooted at the document ws_doc uses, as a
 * string cargo accepts for [workspace] resolver: its own `resolver`, else
 * what its root package's edition implies ("2" from 2021, "3" from 2024),
 * else "1".  Never NULL; points into ws_doc or at a constant.
 */
const char *manifest_resolver(const json_t *ws_doc);

#endif
