/*
 * cargo_msg.h - reading the JSON messages of `cargo build
 * --message-format=json*`, one line at a time.
 *
 * The parser is pure (no files, no processes), so a fuzz harness and the
 * unit tests drive it with any text; cargo.c feeds it cargo's stdout.
 */
#ifndef SPOKE_CLI_PROJECT_CARGO_MSG_H
#define SPOKE_CLI_PROJECT_CARGO_MSG_H

#include <jansson.h>

#include "common/err.h"

/*
 * Parses one line of `cargo build --message-format=json*` output (without
 * its newline) and records in state (a JSON object the caller creates
 * empty and owns) what spoke needs:
 *
 *   "built":        {package_id: true} for every compiler-artifact
 *   "cdylibs":      [{"package_id", "name" (lib target name, '-' as '_'),
 *                     "path" (the element of "filenames" ending in ".so")}]
 *   "bins":         [{"package_id", "name" (bin target name, as cargo
 *                     spells it), "path" (the message's "executable")}]
 *                   for every bin target with an executable
 *   "linked_paths": {package_id: [path, ...]} from build-script-executed,
 *                   "KIND=" prefixes (native=, dependency=, ...) removed
 *   "out_dirs":     {package_id: its build script's OUT_DIR}
 *   "pyo3_features": [feature, ...], every feature cargo built the lib
 *                   target of pyo3 or pyo3-ffi with (absent when it built
 *                   neither)
 *   "compile_s":    {package_id: seconds}, with "clock_ns" set (below):
 *                   for each unit cargo compiled (not "fresh"), the time
 *                   from the previous compiler-artifact message (or the
 *                   build's start) to its own, summed per package
 *
 * The compile time is an estimate from messages alone: cargo says when a
 * unit is done, not when it started.  With one job (-j1) units run one
 * after another, so the interval is the unit's time (and cargo's own
 * bookkeeping, small); with parallel jobs it is the wall time the build
 * moved on while that unit was the next to finish, so a crate compiled
 * beside others is undercounted, but the intervals still add up to the
 * build's wall time.  The caller sets state's "clock_ns" (an integer,
 * CLOCK_MONOTONIC nanoseconds) when cargo starts; without it nothing is
 * timed.  A dependency's units count for that dependency, not for the
 * packages that use it.
 *
 * Returns 0 for a message (used or not), 1 for a line that is not JSON
 * (the caller shows it to the user), -1 with e filled for a message spoke
 * needs that is malformed, such as a cdylib without a .so file.
 */
int cargo_parse_message(const char *line, json_t *state, struct sp_err *e);

#endif
