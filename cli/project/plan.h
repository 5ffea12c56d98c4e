/*
 * plan.h - the build plan: from a cargo workspace to a list of wheel jobs.
 *
 * cargo_plan_build() runs `cargo metadata`, asks the target interpreter
 * once for its tags and the pyproject.toml [project] tables, runs
 * `cargo build` with JSON messages, picks the cdylibs that are Python
 * extension modules, and describes each as a job object (worker/wheel_job.h)
 * without the paths the coordinator adds (staged_path, tmp_path,
 * final_path).  It never touches what cargo built.
 */
#ifndef SPOKE_CLI_PROJECT_PLAN_H
#define SPOKE_CLI_PROJECT_PLAN_H

#include <jansson.h>

#include "cli/project/cargo.h"
#include "cli/project/pyinfo.h"
#include "common/err.h"

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
	 *   platform_tag, ext_suffix, metadata   as in worker/wheel_job.h
	 *                  (tags and suffix cpXY-abi3 / ".abi3.so" for an
	 *                  abi3 module: cli/project/abi3.h)
	 *   python_files, entry_points, license_files   when the package
	 *                  has them (cli/project/pysrc.h)
	 */
	json_t *jobs;
	struct pyinfo py;
	/* What the built packages' [tool.maturin] ask of the repair, for
	 * the command line to take when it says nothing: compatibility
	 * ("manylinux_2_28", "off", ...) and auditwheel ("repair", "check",
	 * "skip", "warn"); NULL where none asks. */
	char *compat, *auditwheel;
	/* A sharded build's division (o->shard_n set; else NULL):
	 * shardsel_packages()'s {"packages", "files"}, with "n", "k" and
	 * shard_partition()'s "shards" and "default_weight". */
	json_t *shard;
};

/*
 * Builds the workspace and fills out.  cargo's stderr goes to spoke's
 * stderr, so its progress and errors reach the user as they would without
 * spoke.
 *
 * Configuration: each package's pyproject.toml is found and typed by
 * projconf.h and pyproject.h (beside its Cargo.toml, or above it by
 * [tool.maturin] manifest-path or the src layout); without
 * --manifest-path, a pyproject.toml in the current folder may name the
 * Cargo.toml to build.  [tool.maturin] features, profile, locked and the
 * other cargo settings of the packages built are added to cargo's
 * command.  One interpreter run (two when the current folder's
 * pyproject.toml must be read first) answers the tags and reads every
 * pyproject.toml.
 *
 * Selection: if any package that was built declares its module (a
 * [package.metadata.spoke] table, or a pyproject.toml under maturin's
 * rules), every cdylib of those packages is packaged (module from
 * [tool.maturin] module-name, else [package.metadata.spoke] module, else
 * the lib name), and each must export PyInit_<last component of module>.
 * Otherwise every cdylib that exports PyInit_<lib name> is packaged.  A
 * pyproject.toml with a [project] table wins for the distribution name,
 * the version and the metadata it states (cli/project/pkgmeta.h).  A
 * package that ships programs (cli/project/binplan.h: maturin's bindings
 * = "bin") gets its program's job ("program": the executable's file
 * name; tags py3-none unless it depends on pyo3) instead of its cdylibs'.
 *
 * Sharding (o->shard_n): the selection's packages that can give a wheel
 * are divided (shardsel.h, shard.h), cargo builds shard o->shard_k's
 * alone (as -p) and only their wheels are planned; a shard with no
 * package runs no cargo and plans nothing, as does shard_k 0.  Whether a
 * module is declared is then decided over every shard's packages.
 *
 * Errors (e says which): no Cargo.toml; cargo not found; cargo metadata or
 * cargo build failed ("cargo build failed (exit N)": cargo printed why);
 * the interpreter query failed (pyinfo_query); no cdylib and no program,
 * or no cdylib that is a Python module; a program package whose bins
 * cargo did not link, or that has several (binplan.h); a bad pyproject.toml,
 * readme or version.  On failure out holds nothing.
 */
int cargo_plan_build(const struct cargo_opts *o, struct cargo_plan *out,
		     struct sp_err *e);

/* Frees everything in p and zeroes it; safe on a zeroed plan. */
void cargo_plan_release(struct cargo_plan *p);

#endif
