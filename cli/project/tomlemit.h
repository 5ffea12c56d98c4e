/*
 * tomlemit.h - a JSON document (as tomldoc.h reads one) written out as
 * TOML text.
 *
 * The text depends on the document alone (members in the document's
 * order, one spelling per value), so a rewritten Cargo.toml is the same
 * bytes on every run and the sdist stays reproducible.  Comments and the
 * original's formatting are not kept: only what a TOML reader sees.
 *
 * Layout: a table's plain values first, then its sub-tables as [a.b]
 * sections and arrays of tables as [[a.b]]; an array of tables inside an
 * array-of-tables element, and a table inside an array, are inline.  A
 * table whose members are all plain values and whose parent is a
 * dependency table ([dependencies], [target.X.dev-dependencies], ...) is
 * written inline, as people write `x = { path = "../x" }`.
 */
#ifndef SPOKE_CLI_PROJECT_TOMLEMIT_H
#define SPOKE_CLI_PROJECT_TOMLEMIT_H

#include <jansson.h>

#include "common/err.h"

/*
 * The TOML text of doc (an object), malloc'd, the caller frees it.
 * header, when not NULL, is written first (a comment line or more, each
 * starting with '#').  NULL with e filled: doc is not an object, holds a
 * null (TOML has none), or memory ran out.
 */
char *tomlemit(const json_t *doc, const char *header, struct sp_err *e);

#endif
