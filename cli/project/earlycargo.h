/*
 * earlycargo.h - cargo started before spoke has worked out its command.
 *
 * Before cargo can start, a build spends about 10 ms (100 crates) only
 * to work out cargo's command line: the `cargo metadata` answer read from
 * the cache and its key checked, the pyproject answers, the project's
 * configuration.  From the same folder and the same spoke command, that
 * line is nearly always the last build's.  So the cache (cache.h, kind
 * "cargo-early", slot: the folder, the spoke command line and the
 * interpreter asked for) holds the last build's command, cargo starts
 * with it at once, and spoke works the command out beside it.  Equal
 * (json_equal): the early run is the build.  Not equal, or spoke fails
 * first (a bad pyproject.toml): the early run is stopped as at ^C (its
 * process group gets SIGINT, so its rustc and build scripts stop too) and
 * shown nowhere, and the right command, if any, starts.  cargo reads its
 * manifests itself, so a changed Cargo.toml or .cargo/config.toml is no
 * reason to stop it; only what spoke adds to the command is compared
 * (features, profile, packages, --config, PYO3_PYTHON, ...).
 *
 * Shown nowhere: an early run's stderr is piped and passed on only once
 * the run is confirmed.  Hence no early start when spoke's stderr is a
 * terminal (cargo would lose its colours and progress bar to the pipe,
 * and a person does not see 10 ms), nor for a shard (its check runs
 * `cargo tree`, which could wait on the early build's lock), nor without
 * the cache (SPOKE_NO_CACHE=1).  While an early run lives in its own
 * process group, spoke passes on the signals sent to its own (cargo.h),
 * and the kernel kills it if spoke dies (PR_SET_PDEATHSIG).
 *
 * SPOKE_CACHE_DEBUG=1 says on stderr whether cargo started early and
 * whether the early run was kept.
 */
#ifndef SPOKE_CLI_PROJECT_EARLYCARGO_H
#define SPOKE_CLI_PROJECT_EARLYCARGO_H

#include <jansson.h>

#include "cli/project/cargo.h"

struct earlycargo {
	char *slot;	/* NULL: nothing started, nothing to remember */
	json_t *cmd;	/* the command the early run was started with */
	struct cargo_run run;
	int running;
};

/* Starts cargo with the command remembered for this folder, asked (the
 * spoke command line, as one string) and interpreter, when there is one
 * and the conditions above hold.  Never fails: a cargo that cannot start
 * early starts later, and says then why it cannot. */
void earlycargo_start(struct earlycargo *ec, const char *asked,
		      const char *interpreter);

/* This build's command is cmd.  Returns 1 and moves the early run into
 * *run (for cargo_run_finish()) when it was started with cmd; else stops
 * it (if any) and returns 0.  Remembers cmd for the next build when it
 * differs from what was remembered. */
int earlycargo_take(struct earlycargo *ec, const json_t *cmd,
		    struct cargo_run *run);

/* Stops an early run that was not taken and frees ec; safe on a zeroed
 * earlycargo and twice. */
void earlycargo_release(struct earlycargo *ec);

#endif
