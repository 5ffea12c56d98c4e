/*
 * cargo.h - running cargo: finding the workspace's Cargo.toml, `cargo
 * metadata` and `cargo build`.
 *
 * spoke never reads Cargo.toml itself: what it knows of the workspace
 * comes from cargo's own output, so it agrees with cargo on every
 * question (which packages, which target directory, which files were
 * built).  Nothing here touches what cargo built.  cargo is the program
 * in $CARGO, else "cargo" on PATH.
 */
#ifndef SPOKE_CLI_PROJECT_CARGO_H
#define SPOKE_CLI_PROJECT_CARGO_H

#include <jansson.h>
#include <stdint.h>
#include <stddef.h>

#include "cli/project/proc.h"
#include "common/err.h"

struct cargo_opts {
	const char *manifest_path;   /* NULL: cargo's own search from cwd */
	const char *const *packages; /* -p/--package, repeatable */
	size_t npackages;
	const char *profile;	 /* NULL: --release; else --profile NAME */
	const char *features;	 /* --features, NULL for none */
	int all_features;	 /* --all-features */
	int no_default_features; /* --no-default-features */
	int locked, frozen;	 /* --locked, --frozen */
	const char *target;	 /* --target TRIPLE; NULL: the host's */
	int strip;		 /* strip symbols (profile.<p>.strip) */
	/* An editable install's build (PEP 660, spoke develop): maturin's
	 * editable-profile is the profile when profile is NULL. */
	int editable;
	/* The profile when neither the command line nor [tool.maturin]
	 * names one: NULL for release ("dev" for spoke develop). */
	const char *default_profile;
	/* A program that embeds Python is built (binplan.h): pyo3 must
	 * link libpython, so PYO3_BUILD_EXTENSION_MODULE stays unset. */
	int embeds_python;
	/* --config KEY=VALUE (or a file), in order: [tool.maturin]
	 * config; owned by the caller. */
	const char *const *config;
	size_t nconfig;
	const char *target_dir;	 /* --target-dir; NULL: cargo's choice
				  * (CARGO_TARGET_DIR, config, default) */
	const char *interpreter; /* NULL: "python3" on PATH */
	int quiet;		 /* pass -q to cargo */
	/* The spoke command line that asked for this build, as one string:
	 * cargo may start with the last such build's command before this
	 * one's is known (earlycargo.h).  NULL: only once it is known. */
	const char *early;
	/* --shard K/N (plan.h, shardsel.h): shard_n 0 builds the whole
	 * selection; shard_k 0 with shard_n set divides it and builds
	 * nothing (spoke plan).  shard_weights: --shard-weights, name ->
	 * seconds (shard.h), or NULL. */
	unsigned shard_k, shard_n;
	const json_t *shard_weights;
};

/*
 * Checks that there is a Cargo.toml for cargo to find, so the user gets
 * spoke's hint rather than cargo's.  given is --manifest-path (a file, or
 * a directory meaning its Cargo.toml), or NULL for cargo's search from
 * the cwd upward.  *manifest gets what to pass to cargo as
 * --manifest-path (malloc'd, the caller frees it): given's, or the
 * Cargo.toml cargo's search would find (absolute), so the caller knows
 * which package is the current one.  Returns 0, or -1 with e filled ("could not find Cargo.toml
 * ... (use --manifest-path)").
 */
int cargo_find_manifest(const char *given, char **manifest, struct sp_err *e);

/*
 * Runs `cargo metadata --format-version 1 --no-deps` for manifest (as
 * cargo_find_manifest() gave it; NULL: cargo's search) and returns its
 * parsed output (new reference), checked to have "packages",
 * "target_directory" and "workspace_root".  NULL with e filled: cargo not
 * found, cargo failed (it printed why on stderr), or output spoke cannot
 * understand.
 */
json_t *cargo_metadata(const char *manifest, struct sp_err *e);

/*
 * `cargo build`, in three steps so that earlycargo.h can start cargo
 * before the command is known for sure.
 *
 * cargo_build_command() is `cargo build
 * --message-format=json-render-diagnostics` as o asks (manifest as
 * cargo_find_manifest() gave it), with PYO3_PYTHON=pyexe, so crates that
 * configure themselves for a Python get the one the wheel is tagged for,
 * and PYO3_BUILD_EXTENSION_MODULE=1 (unless o->embeds_python), so pyo3
 * builds modules that leave libpython to the interpreter:
 * {"argv": [...], "env": [...]} (env: the "NAME=value" strings added to
 * spoke's environment), a new reference, or NULL with e filled when out
 * of memory.  Two builds whose commands are equal (json_equal) run the
 * same cargo.
 */
json_t *cargo_build_command(const struct cargo_opts *o, const char *manifest,
			    const char *pyexe, struct sp_err *e);

/* A cargo build under way. */
struct cargo_run {
	struct proc p;
	int64_t started_ns; /* CLOCK_MONOTONIC at the start */
	/* Started early (earlycargo.h): in its own process group, its
	 * stderr piped and passed on by cargo_run_finish(), nothing of it
	 * shown until then. */
	int early;
};

/* Starts cmd (cargo_build_command()'s).  Returns 0, or -1 with e filled
 * (cargo not found, a malformed cmd). */
int cargo_run_start(struct cargo_run *r, const json_t *cmd, int early,
		    struct sp_err *e);

/* Called by cargo_run_finish() with each cdylib cargo reports (an entry of
 * state's "cdylibs", cargo_msg.h) as its message arrives, so that work on
 * it can go on while cargo compiles other crates.  It may add members to
 * art. */
struct cargo_watch {
	void (*cdylib)(json_t *art, void *arg);
	void *arg;
};

/* Parses r's messages into state (cargo_msg.h) as they arrive, to their
 * end, waits for cargo and releases r.  cargo's stderr reaches spoke's
 * (an early run's through the pipe), so its progress and errors reach
 * the user as they would without spoke; a stdout line that is not JSON
 * is shown on stderr.  Returns 0, or -1 with e filled: "cargo build
 * failed (exit N)" (cargo printed why), or the first message
 * cargo_parse_message() refused (the output is read to its end even
 * then, so cargo is never left blocked on the pipe).  watch may be NULL. */
int cargo_run_finish(struct cargo_run *r, json_t *state,
		     const struct cargo_watch *watch, struct sp_err *e);

/* Stops r if it still runs (an early run's whole group, with SIGINT as
 * at ^C; else cargo, with SIGTERM), drops its output and reaps it.  Safe
 * on a released run. */
void cargo_run_cancel(struct cargo_run *r);

/*
 * The packages and feature sets `cargo build` would compile as o asks
 * (its packages, features, target, config), without compiling: `cargo
 * tree -e normal,build`, one key "<package> [<features>]" per unit of an
 * object (new reference).  NULL with e filled: cargo not found or failed
 * (it printed why), out of memory.
 */
json_t *cargo_features(const struct cargo_opts *o, const char *manifest,
		       struct sp_err *e);

/* The workspace's target directory as cargo metadata reports it
 * (malloc'd), without building anything.  manifest_path may be NULL. */
char *cargo_target_dir(const char *manifest_path, struct sp_err *e);

/* The output of `cargo metadata --no-deps` (new reference) for
 * manifest_path, NULL meaning cargo's search from the cwd, without
 * building anything: cargo_find_manifest() then cargo_metadata(). */
json_t *cargo_metadata_json(const char *manifest_path, struct sp_err *e);

#endif
