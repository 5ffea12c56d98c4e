/*
 * tomldoc.h - TOML files (Cargo.toml, pyproject.toml) read whole into
 * JSON by the target interpreter's tomllib.
 *
 * spoke has no TOML parser of its own, and wants none: the interpreter
 * the wheel is built for already has a complete, well-tested one
 * (tomllib, or tomli before 3.11), which pyinfo.h uses for [project].
 * This module asks it for whole documents, so that `spoke sdist` can
 * rewrite a Cargo.toml (manifest.h) and emit it again (tomlemit.h).
 *
 * JSON cannot hold every TOML value, so two kinds arrive tagged, as a
 * one-member object {TOMLDOC_BARE: "<text>"} whose text is the value's
 * TOML spelling: dates and times (1979-05-27T07:32:00+00:00) and the
 * floats inf, -inf and nan.  tomlemit.h writes them back bare.  Key order
 * is the file's (Python's dict and jansson both keep insertion order), so
 * the same file always gives the same document.
 */
#ifndef SPOKE_CLI_PROJECT_TOMLDOC_H
#define SPOKE_CLI_PROJECT_TOMLDOC_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

/* The member name of a tagged value (see above). */
#define TOMLDOC_BARE "__spoke_toml_bare__"

/*
 * Reads the n files paths[] with `interpreter -c SCRIPT paths...`
 * (interpreter NULL: "python3" on PATH).  Returns a new JSON object
 * mapping each path, as given, to its document (an object).  NULL with e
 * filled: the interpreter cannot be run or has no TOML reader, or a file
 * cannot be read or is not valid TOML (the message names the file and
 * quotes the parser).
 */
json_t *tomldoc_read(const char *interpreter, const char *const *paths,
		     size_t n, struct sp_err *e);

/* The text of a tagged value v, or NULL when v is not one.  Only a date,
 * a time or inf/nan is taken: a table a file itself holds under the
 * reserved key is refused when it is read (tomldoc_read), and any other
 * text is no tag, so it is written quoted. */
const char *tomldoc_bare(const json_t *v);

#endif
