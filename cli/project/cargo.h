/*
 * cargo.h - from a cargo workspace to a list of wheel jobs.
 *
 * cargo_plan_build() runs `cargo metadata`, asks the target interpreter
 * once for its tags and the pyproject.toml [project] tables, runs
 * `cargo build` with JSON messages, picks the cdylibs that are Python
 * extension modules, and describes each as a job object (worker/job.h)
 * without the paths the coordinator adds (staged_path, tmp_path,
 * final_path).  It never touches what cargo built.
 */
#ifndef SPOKE_CLI_PROJECT_CARGO_H
#define SPOKE_CLI_PROJECT_CARGO_H

#include <jansson.h>
#include <stddef.h>

#include "cli/project/pyinfo.h"
#include "common/err.h"

struct cargo_opts {
	const char *manifest_path;   /* NULL: cargo's own search from cwd */
	const char *const *packages; /* -p/--package, repeatable */
	size_t npackages;
	const char *profile;	 /* NULL: --release; else --profile NAME */
	const char *features;	 /* --features, NULL for none */
	const char *target_dir;	 /* --target-dir; NULL: cargo's choice
				  * (CARGO_TARGET_DIR, config, default) */
	const char *interpreter; /* NULL: "python3" on PATH */
	int quiet;		 /* pass -q to cargo */
};

/* Everything is owned by the plan; cargo_plan_release() frees it. */
struct cargo_plan {
	char *target_dir;     /* absolute: --target-dir, else cargo's */
	char *workspace_root; /* cargo metadata "workspace_root" */
	/*
	 * Array of job objects, in workspace member order, each with:
	 *   cargo_path     the .so cargo reported (under target_dir)
	 *   package        cargo package name
	 *   linked_paths   array: search paths from build scripts, this
	 *                  package's first, then every other's (deduplicated)
	 *   distribution, version, module, python_tag, abi_tag,
	 *   platform_tag, ext_suffix, metadata   as in worker/job.h
	 *                  (tags and suffix cp38-abi3 / ".abi3.so" for a
	 *                  package with [package.metadata.spoke] abi3)
	 *   python_files, entry_points, license_files   when the package
	 *                  has them (cli/project/pysrc.h)
	 */
	json_t *jobs;
	struct pyinfo py;
};

/*
 * Builds the workspace and fills out.  cargo's stderr goes to spoke's
 * stderr, so its progress and errors reach the user as they would without
 * spoke.
 *
 * Selection: if any package that was built has a [package.metadata.spoke]
 * table, every cdylib of those packages is packaged (module from its
 * "module" key, else the lib name), and each must export PyInit_<last
 * component of module>.  Otherwise every cdylib that exports
 * PyInit_<lib name> is packaged.  A pyproject.toml beside a package's
 * Cargo.toml with a [project] table wins for the distribution name, the
 * version and the metadata it states.
 *
 * Errors (e says which): no Cargo.toml; cargo not found; cargo metadata or
 * cargo build failed ("cargo build failed (exit N)": cargo printed why);
 * the interpreter query failed (pyinfo_query); no cdylib, or none that is a
 * Python module; a bad pyproject.toml, readme or version.  On failure out
 * holds nothing.
 */
int cargo_plan_build(const struct cargo_opts *o, struct cargo_plan *out,
		     struct sp_err *e);

/* The workspace's target directory as cargo metadata reports it
 * (malloc'd), without building anything.  manifest_path may be NULL. */
char *cargo_target_dir(const char *manifest_path, struct sp_err *e);

/* The output of `cargo metadata --no-deps` (new reference) for
 * manifest_path, NULL meaning cargo's search from the cwd, without
 * building anything. */
json_t *cargo_metadata_json(const char *manifest_path, struct sp_err *e);

/* {"distribution", "version", "metadata"} of a cargo package (an element
 * of cargo metadata's "packages") and its pyproject [project] table (proj,
 * may be NULL), as plan jobs have them; new reference, NULL with e
 * filled.  The readme must lie in the package's folder or in
 * workspace_root (a readme resolving elsewhere is an error). */
json_t *cargo_package_meta(const json_t *pkg, const json_t *proj,
			   const char *workspace_root, struct sp_err *e);

/* Frees everything in p and zeroes it; safe on a zeroed plan. */
void cargo_plan_release(struct cargo_plan *p);

/*
 * Parses one line of `cargo build --message-format=json*` output (without
 * its newline) and records in state (a JSON object the caller creates
 * empty and owns) what spoke needs:
 *
 *   "built":        {package_id: true} for every compiler-artifact
 *   "cdylibs":      [{"package_id", "name" (lib target name, '-' as '_'),
 *                     "path" (the element of "filenames" ending in ".so")}]
 *   "linked_paths": {package_id: [path, ...]} from build-script-executed,
 *                   "KIND=" prefixes (native=, dependency=, ...) removed
 *
 * Returns 0 for a message (used or not), 1 for a line that is not JSON
 * (the caller shows it to the user), -1 with e filled for a message spoke
 * needs that is malformed, such as a cdylib without a .so file.
 */
int cargo_parse_message(const char *line, json_t *state, struct sp_err *e);

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
