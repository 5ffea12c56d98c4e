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
 *   "linked_paths": {package_id: [path, ...]} from build-script-executed,
 *                   "KIND=" prefixes (native=, dependency=, ...) removed
 *   "pyo3_features": [feature, ...], every feature cargo built the lib
 *                   target of pyo3 or pyo3-ffi with (absent when it built
 *                   neither)
 *
 * Returns 0 for a message (used or not), 1 for a line that is not JSON
 * (the caller shows it to the user), -1 with e filled for a message spoke
 * needs that is malformed, such as a cdylib without a .so file.
 */
int cargo_parse_message(const char *line, json_t *state, struct sp_err *e);

#endif
