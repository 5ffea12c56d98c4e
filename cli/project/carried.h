/*
 * carried.h - the crates an sdist carries: the package and, transitively,
 * every path dependency it has, inside its workspace or not.
 *
 * Each crate is known by its real folder, with the package entry cargo
 * metadata gives for it and the root of the workspace it belongs to
 * (whose [workspace.package], [workspace.dependencies] and
 * [workspace.lints] it may inherit).  A dependency outside the package's
 * workspace is not in that workspace's `cargo metadata --no-deps`, so
 * cargo is asked once more, about the dependency's own workspace.
 */
#ifndef SPOKE_CLI_PROJECT_CARRIED_H
#define SPOKE_CLI_PROJECT_CARRIED_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

struct carried_crate {
	char *dir;	   /* the crate's folder, a realpath(3) */
	char *manifest;	   /* dir/Cargo.toml */
	char *ws_dir;	   /* the root of its workspace, a realpath */
	const json_t *pkg; /* its cargo metadata package (in metas) */
};

struct carried {
	struct carried_crate *v; /* v[0] is the package itself */
	size_t n, cap;
	json_t *metas; /* the cargo metadata documents pkg points into */
};

/*
 * Fills set (zeroed by the caller) with the package whose folder is
 * pkgdir, described by meta (`cargo metadata --no-deps` of its workspace,
 * whose root is ws_dir, both realpaths), and every crate it reaches
 * through `path` dependencies of any kind (cargo needs the folders of
 * dev- and build-dependencies too, to read the manifests).  Returns 0, or
 * -1 with e filled: a path dependency missing, cargo failing on one, or
 * out of memory.  carried_release() frees set either way.  meta is
 * held (a reference) in set->metas and gains a member, "spoke_ws_real".
 */
int carried_collect(struct carried *set, json_t *meta, const char *pkgdir,
		    const char *ws_dir, struct sp_err *e);

/* The crate whose folder is dir, or NULL. */
const struct carried_crate *carried_find(const struct carried *set,
					 const char *dir);

/* Frees everything set owns and zeroes it. */
void carried_release(struct carried *set);

/* The package of meta whose Cargo.toml is in the folder dir, or NULL. */
const json_t *carried_package_at(const json_t *meta, const char *dir);

#endif
