/*
 * build_wheel.h - writes the wheel of one job (wheel_job.h).
 *
 * The wheel holds, in this order: the Python files in the order of their
 * paths, with the extension module in its place among them; the
 * libraries the repair bundles (<dist>.libs/); then in <dist-info>/
 * METADATA, WHEEL, entry_points.txt when there are entry points, the
 * license files under licenses/, and RECORD last, as the wheel
 * specification asks.  The staged module is opened read-only and never
 * written.
 *
 * A program's job (wheel_job.h: program set) holds an executable in the
 * module's place: at <dist>-<version>.data/scripts/<program>, mode 0755,
 * which installers copy to the environment's bin/.  It is repaired as a
 * module is, but keeps a link to libpython (a program that embeds Python
 * needs it), is not split by split_debug, and needs no PyInit_.  When the
 * repair bundles libraries for it, bin/ has no fixed path to them: it
 * goes to <pkg>.scripts/<program> in platlib instead, with an RPATH to
 * <pkg>.libs, and a launcher (worker/wheel/launcher.h) takes its place
 * among the scripts.
 */
#ifndef SPOKE_WORKER_BUILD_WHEEL_H
#define SPOKE_WORKER_BUILD_WHEEL_H

#include <jansson.h>

#include "common/err.h"
#include "worker/wheel_job.h"

/* Checks that staged_path is the inode the coordinator staged, a shared
 * library for this machine that exports PyInit_<last part of module>;
 * writes the wheel to tmp_path
 * through the temporary-file recipe (tmpfile.h: created relative to its
 * folder, O_EXCL|O_NOFOLLOW, mode 0644, fsynced, closed) and renames it
 * to its name in the same folder (without fsyncing the folder: the caller
 * batches that).  The folder is out_dir_resolved when the job has it,
 * else final_path's, opened with no symlink followed (dirs.h).  j was
 * checked by job_parse() (wheel_job.h), its wheel name made by the
 * coordinator (common/pyname.h), and is only read.  On success *result is
 * a new reference to
 *   {"ok": true, "wheel": path, "wheel_name": name, "size": N,
 *    "sha256": hex, "needed": [DT_NEEDED...],
 *    "patch": "none" | "required" | "applied", ...what the repair adds}
 * ("patch" is the repair's verdict, repair.h: "required" only with
 * repair=skip, for a module the repair would have bundled for), and the
 * name is the planned one with the repair's platform tag (the repair's
 * output, struct repair_result's plat: the job is not changed).  On
 * failure returns -1 with e filled, *result NULL, and tmp_path removed if
 * this call created it.  The repair's events go to emit (with emit_arg),
 * which may be NULL (repair.h). */
int wheel_write(const struct wheel_job *j,
		void (*emit)(json_t *ev, void *arg), void *emit_arg,
		json_t **result, struct sp_err *e);

#endif
