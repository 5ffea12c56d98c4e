/*
 * job.h - a wheel job: what a forked worker does for one artifact.
 *
 * A job is a JSON object (jansson).  The cli builds most of it from cargo and
 * the interpreter, the coordinator adds the paths, and the worker reads it.
 * Fields (all strings unless said):
 *
 *   staged_path     the staged cargo output to package; opened read-only and
 *                   never written (it is cargo's own inode)
 *   tmp_path        where to write the wheel, in final_path's folder, under
 *                   a name the coordinator drew at random (tmpfile_name)
 *                   and journaled; created O_EXCL|O_NOFOLLOW, fsynced,
 *                   then renamed to its final name (the result's "wheel")
 *   out_dir_resolved  optional: the output folder's path with every
 *                   symlink resolved once by the coordinator (dirs.h); the
 *                   worker opens it with none followed and writes the
 *                   wheel and its debug files beneath it
 *   final_path      the wheel's planned final path (its basename is the
 *                   wheel name; a repair may change its platform tag)
 *   distribution    distribution name as the project spells it
 *   version         PEP 440 version
 *   module          Python module name ("pkg._native" allowed)
 *   python_tag, abi_tag, platform_tag   wheel tags ("cp311", "cp311",
 *                   "linux_x86_64")
 *   ext_suffix      the interpreter's EXT_SUFFIX (".cpython-311-x86_64-linux-gnu.so")
 *   metadata        object, optional, every member optional:
 *                     summary, license, author, author_email, maintainer,
 *                     maintainer_email, keywords (string), home_page,
 *                     requires_python, description (long text),
 *                     description_content_type, requires_dist (array of
 *                     strings), classifiers (array), project_urls (object
 *                     label -> url), provides_extra (array)
 *                     license_files (array of names: License-File lines;
 *                     Metadata-Version becomes 2.4)
 *   python_files    array, optional: [{"src": absolute path read
 *                   read-only, "dst": path in the wheel}], the Python
 *                   sources of a mixed package (cli/project/pysrc.h)
 *   license_files   array, optional: [{"src", "dst"}], dst relative to the
 *                   dist-info's licenses/ folder
 *   entry_points    string, optional: the text of entry_points.txt
 *   source_date_epoch  integer, optional: timestamp of every zip entry
 *   compression     "store" | "fast" | "default" | "best"; default "default"
 *   build           integer, optional: the coordinator's build id; a worker
 *                   checks its cached policy and ld.so.conf once per build
 *                   (fsx_stamp_epoch_set)
 *   progress        false, optional: send no progress events (those with
 *                   an "event" member), only the ones the journal needs
 *
 * The result is a JSON object: wheel_write()'s (build_wheel.h) on success, else
 * {"ok": false, "error": "message a user can act on"}.
 */
#ifndef SPOKE_WORKER_JOB_H
#define SPOKE_WORKER_JOB_H

#include <jansson.h>

#include "common/err.h"

/* Runs a job in the calling process and returns its result object (new
 * reference).  Never returns NULL except on out-of-memory.  On failure the
 * temporary wheel is removed.  Used in-process and by job_serve(). */
json_t *job_run(const json_t *job);

/* Body of a worker process (server/pool.h): reads MSG_JOB frames from fd
 * one at a time, runs each, and answers with its events and one
 * MSG_JOB_RESULT frame, until fd reaches end of file; then _exit()s.
 * Never returns. */
void job_serve(int fd) __attribute__((noreturn));

#endif
