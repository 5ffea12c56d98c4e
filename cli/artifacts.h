/*
 * artifacts.h - `spoke build --artifacts FILE.json`: packaging shared
 * objects that were built already, with no cargo run.
 *
 * The file holds {"artifacts": [ENTRY, ...]}.  Each ENTRY is an object:
 *   path          (required) the shared object; relative to the file
 *   distribution  (required) distribution name (PEP 508 name)
 *   version       (required) PEP 440 version
 *   module        (required) Python module name, dotted allowed
 *   metadata      (optional) core metadata, as worker/job.h documents
 *   linked_paths  (optional) array of directories to search for its
 *                 libraries when repairing
 * Any other member is an error, so a typo never passes silently.  Errors
 * name the entry (by index and path) and the field.
 */
#ifndef SPOKE_ARTIFACTS_H
#define SPOKE_ARTIFACTS_H

#include "cli/cargo.h"
#include "common/err.h"

/* Reads and validates file, asks the interpreter (NULL: python3) for the
 * wheel tags, and fills plan as cargo_plan_build() would: jobs, py, and
 * target_dir set to the file's directory (the default state directory is
 * then <that>/.spoke and wheels go to <that>/wheels). */
int artifacts_plan(const char *file, const char *interpreter,
		   struct cargo_plan *plan, struct sp_err *e);

#endif
