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
 *   python_tag, abi_tag, ext_suffix
 *                 (optional, all three or none, in every entry or in
 *                 none) the wheel's tags and the module's file name
 *                 suffix ("cp312", "cp312",
 *                 ".cpython-312-x86_64-linux-gnu.so"): with them no
 *                 interpreter is asked, and the platform is the object's
 *                 own, linux_<arch> before any repair
 * Any other member is an error, so a typo never passes silently.  Errors
 * name the entry (by index and path) and the field.
 */
#ifndef SPOKE_CLI_PROJECT_ARTIFACTS_H
#define SPOKE_CLI_PROJECT_ARTIFACTS_H

#include "cli/project/plan.h"
#include "common/err.h"

/* What the files an artifacts file names are: in spoke build, files of
 * the machine, a license file that is a link out of the file's folder
 * refused (it would put a file from elsewhere in the wheel); in spoke
 * wheel, a build system's declared inputs, which its sandbox gives as
 * links into its workspace, followed. */
enum artifacts_use { ARTIFACTS_BUILD, ARTIFACTS_DECLARED };

/* Parses and validates the text of an artifacts file: len bytes at buf
 * (no NUL needed), as read from file (named in messages), with relative
 * paths taken from dir.  Every path must name a regular file, no two
 * entries the same file or distribution, and there are at most
 * BUILD_MAX_ARTIFACTS (common/frame.h) entries.  Returns a new array with
 * one job per entry (cargo_path: the path resolved, distribution,
 * version, module, metadata if given, license_files, linked_paths;
 * python_tag, abi_tag and ext_suffix when the file declares them, no
 * platform tag), or NULL with e set. */
json_t *artifacts_parse(const char *buf, size_t len, const char *file,
			const char *dir, enum artifacts_use use,
			struct sp_err *e);

/* Reads file (a regular file: a FIFO is refused, not waited on) and
 * parses it (artifacts_parse), relative paths taken from its folder,
 * which *dir gets (absolute, malloc'd).  The one reader of artifacts
 * files.  NULL with e set (and *dir NULL). */
json_t *artifacts_load(const char *file, enum artifacts_use use,
		       char **dir, struct sp_err *e);

/* Fills plan from jobs (artifacts_load's, copied) as cargo_plan_build()
 * would: jobs, py, and target_dir set to dir, the file's folder (the
 * default state directory is then <that>/.spoke and wheels go to
 * <that>/wheels).  The interpreter (NULL: python3) is asked for the
 * wheel tags unless the jobs declare them; then the platform tag is each
 * object's linux_<arch>, the jobs are marked tags_declared and plan->py
 * stays empty. */
int artifacts_plan(const json_t *jobs, const char *dir,
		   const char *interpreter, struct cargo_plan *plan,
		   struct sp_err *e);

/* 1 when the jobs of artifacts_parse() declare their tags, else 0. */
int artifacts_tagged(const json_t *jobs);

/* "linux_<arch>" for the shared object at path (worker/elf/machine.h's
 * name of its architecture), malloc'd; NULL with e filled when it is not
 * a shared object or its machine is one spoke knows no name for. */
char *artifacts_linux_tag(const char *path, struct sp_err *e);

#endif
