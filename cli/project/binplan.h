/*
 * binplan.h - packages shipped as programs: which package's bin targets
 * become a wheel's scripts (maturin's bindings = "bin", as ruff and uv
 * ship), and what their jobs say.
 *
 * The rule, maturin's (its bridge detection) within the scope of its
 * rules (pyproject.h: pp->maturin):
 *   - [tool.maturin] bindings = "bin": the package's programs, whatever
 *     else it builds;
 *   - bindings unset: the programs of the package the pyproject
 *     configures, when its targets hold a bin and no cdylib (a cdylib
 *     module wins, as with maturin);
 *   - never a package that no pyproject configures: a workspace's helper
 *     crates (an xtask bin beside the project) do not become wheels;
 *   - and only for a package cargo builds as a root (plan.c asks): one
 *     built as another's dependency has its lib compiled alone.
 * Every bin target the package has that cargo linked is one program.
 *
 * The functions are pure: they read cargo metadata's package, the
 * messages' state (cargo_msg.h) and the typed pyproject, and touch no
 * file.
 */
#ifndef SPOKE_CLI_PROJECT_BINPLAN_H
#define SPOKE_CLI_PROJECT_BINPLAN_H

#include <jansson.h>

#include "cli/project/pyproject.h"
#include "common/err.h"

/*
 * Whether pkg (a package of `cargo metadata`) ships programs under the
 * rule above; pp is the pyproject that configures it, or NULL.  Returns
 * 1 (programs), 0 (not: its cdylibs are planned as modules), or -1 with
 * e filled when bindings = "bin" names a package without a bin target.
 */
int binplan_wants_programs(const json_t *pkg, const struct pyproject *pp,
			   struct sp_err *e);

/*
 * The programs cargo linked for pkg, from state's "bins" (cargo_msg.h):
 * a new array of {"package_id", "name", "path"}, in cargo's order.
 * NULL with e filled when cargo linked none (the package's bins were not
 * built: --bin or a required-features gap), or when it linked more than
 * one: a wheel holds one program here (maturin puts every bin of the
 * package in one wheel; spoke's jobs stage one output each), and the
 * message names them all.
 */
json_t *binplan_programs(const json_t *pkg, const json_t *state,
			 struct sp_err *e);

/*
 * The Python package name of a program's project: pp's module-name, else
 * the package name with '-' as '_' (maturin's default), which the job's
 * "module" carries for its Python files.  malloc'd; NULL on
 * out-of-memory.
 */
char *binplan_module(const json_t *pkg, const struct pyproject *pp);

/*
 * Turns job (planned as for a module from the program's artifact) into a
 * program's job: "program" = the program's file name (the basename of
 * its path, which <dist>.data/scripts/ gets), and the tags.  A program
 * that does not depend on pyo3 or pyo3-ffi runs on any Python: it is
 * py3-none (maturin's tag); one that does embeds the interpreter it was
 * built for and keeps the job's tags.  Returns 0, or -1 with e filled on
 * out-of-memory.
 */
int binplan_job(json_t *job, const json_t *pkg, const json_t *prog,
		struct sp_err *e);

#endif
