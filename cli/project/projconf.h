/*
 * projconf.h - the workspace's configuration: which pyproject.toml
 * configures each cargo package (pyproject.h's rules), which packages
 * cargo builds as roots, and what their [tool.maturin] settings add to
 * the cargo command.
 *
 * A pyproject that cannot be read is an error only for a package cargo
 * builds: a broken file beside a member nobody asked for does not stop
 * the build of another.
 */
#ifndef SPOKE_CLI_PROJECT_PROJCONF_H
#define SPOKE_CLI_PROJECT_PROJCONF_H

#include <jansson.h>
#include <stddef.h>

#include "cli/project/cargo.h"
#include "cli/project/pyinfo.h"
#include "cli/project/pyproject.h"
#include "common/err.h"

/* Indexed as cargo metadata's "packages".  Owned; projconf_release(). */
struct projconf {
	size_t n;
	struct pyproject *pp; /* pp[i].path NULL: package i has none */
	char **error;	      /* why package i's pyproject is unreadable */
	int *selected;	      /* cargo builds package i as a root */
	/* NULL, or a shard's build (shardsel.h): selected holds the
	 * shard's packages, sharded[i] is set for every package the shards
	 * divide, and only selected packages are packaged. */
	int *sharded;
	/* NULL, or in a shard's build the unsharded build's roots: its
	 * [tool.maturin] options apply to every shard, as they would to
	 * the one unsharded cargo run. */
	int *roots;
	/* Strings the merged cargo options point into. */
	char *features;
	char **config;
	size_t nconfig;
};

/*
 * Every pyproject.toml that may configure a package of meta (cargo
 * metadata's output): pyproject_candidates() of each, without
 * duplicates, added to the JSON array paths (strings).  0, or -1 with e
 * filled (out of memory).
 */
int projconf_candidates(const json_t *meta, json_t *paths, struct sp_err *e);

/*
 * Fills pc for meta: each package's pyproject from docs (path -> {"doc",
 * "error"}, as pyinfo.h's pyprojects), and the packages cargo builds as
 * roots: -p's (o->packages), else the package whose Cargo.toml is
 * manifest, else the workspace's default members.  Errors: a selected
 * package whose pyproject cannot be read or is refused (pyproject_parse
 * says why); out of memory.  pc is released on failure.
 */
int projconf_load(struct projconf *pc, const json_t *meta,
		  const char *manifest, const struct cargo_opts *o,
		  const json_t *docs, struct sp_err *e);

/*
 * The cargo options of the build: o, plus what the selected packages'
 * [tool.maturin] ask (features, all-features, no-default-features,
 * locked, frozen, profile or, for an editable build, editable-profile,
 * config, strip).  The command line wins for the profile (then
 * o->default_profile when nobody names one) and, as with maturin, its
 * features replace the pyproject's (which are prefixed "package/" when
 * more than one package is built, as cargo wants them in a workspace); a
 * flag is on when the command line or any package sets it.  Two packages asking
 * for different profiles is an error naming both.  *out's strings point
 * into o and pc.
 */
int projconf_cargo_opts(struct projconf *pc, const json_t *meta,
			const struct cargo_opts *o, struct cargo_opts *out,
			struct sp_err *e);

/*
 * The Cargo.toml the pyproject.toml in the current folder points at, as
 * maturin finds it there (pyproject_manifest: manifest-path, or the src
 * layout's rust/Cargo.toml): malloc'd in *manifest, NULL when there is no
 * such file or it names none.  For `spoke build` and `spoke sdist`
 * without --manifest-path.  The file is read with one interpreter run
 * whose answer (the tags too) fills py, which the caller releases (a
 * zeroed py is left so when there is no file).  Returns 0, or -1 with e
 * filled: the file cannot be read or is refused.
 */
int projconf_cwd_manifest(const char *interp, struct pyinfo *py,
			  char **manifest, struct sp_err *e);

/* Package i's pyproject, or NULL when it has none. */
const struct pyproject *projconf_of(const struct projconf *pc, size_t i);

/* Frees everything pc owns and zeroes it; safe on a zeroed struct. */
void projconf_release(struct projconf *pc);

#endif
