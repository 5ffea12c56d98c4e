/*
 * artifacts.h - `spoke build --artifacts FILE.json`: packaging shared
 * objects that were built already, with no cargo run.
 *
 * The file holds {"artifacts": [ENTRY, ...]}.  Each ENTRY is an object:
 *   path          (required) the shared object; relative to the file
 *   distribution  (required) distribution name (PEP 508 name)
 *   version       (required) PEP 440 version
 *   module        (required) Python module name, dotted allowed
 *   metadata      (optional) core metadata, as worker/wheel_job.h documents
 *   linked_paths  (optional) array of directories to search for its
 *                 libraries when repairing
 * Any other member is an error, so a typo never passes silently.  Errors
 * name the entry (by index and path) and the field.
 */
#ifndef SPOKE_CLI_PROJECT_ARTIFACTS_H
#define SPOKE_CLI_PROJECT_ARTIFACTS_H

#include "cli/project/plan.h"
#include "common/err.h"

/* Parses and validates the text of an artifacts file: len bytes at buf
 * (no NUL needed), as read from file (named in messages), with relative
 * paths taken from dir.  Every path must name a regular file, no two
 * entries the same file or distribution, and there are at most
 * BUILD_MAX_ARTIFACTS (common/frame.h) entries.  Returns a new array with
 * one job per entry (cargo_path: the path resolved, distribution,
 * version, module, metadata if given, linked_paths; no wheel tags yet),
 * or NULL with e set. */
json_t *artifacts_parse(const char *buf, size_t len, const char *file,
			const char *dir, struct sp_err *e);

/* Reads and validates file (artifacts_parse), asks the interpreter (NULL: python3) for the
 * wheel tags, and fills plan as cargo_plan_build() would: jobs, py, and
 * target_dir set to the file's directory (the default state directory is
 * then <that>/.spoke and wheels go to <that>/wheels). */
int artifacts_plan(const char *file, const char *interpreter,
		   struct cargo_plan *plan, struct sp_err *e);

#endif
