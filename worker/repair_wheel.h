/*
 * repair_wheel.h - repairs a finished wheel, whoever built it: the same
 * repair as `spoke build` (repair.h) applied to each shared object found in
 * the wheel, written to a new wheel.  The input wheel is only read.
 *
 * The input is verified first (wheel_read.h): a broken zip, a RECORD that
 * does not hold, or a bad WHEEL file is refused before anything is read
 * for the repair.  Each shared object of the wheel (not those already in
 * a "<name>.libs/" directory, which a previous repair bundled) is extracted
 * to a private temporary directory at its path in the wheel, so that
 * $ORIGIN in its RPATH/RUNPATH finds the wheel's own libraries as the
 * loader will after installation; those libraries (by file name and
 * DT_SONAME) are not bundled again.  Libraries are then searched as
 * ldresolve.h says (--lib-path, LD_LIBRARY_PATH, ld.so.conf, the default
 * directories), bundled into "<dist>.libs/", and the objects patched into
 * scratch files (repair.h).  The other entries are extracted to an
 * unlinked scratch file there; no entry is ever held whole in memory
 * (but with split_debug each object is, while it is stripped).
 *
 * The new wheel holds every entry of the input under the same name, in
 * the same order (directory entries excepted: zip directories mean
 * nothing to installers), with patched objects in place of the originals,
 * then the bundled libraries, then the .dist-info entries with WHEEL's Tag
 * lines rewritten for the new platform tag and RECORD regenerated last.
 * RECORD.jws and RECORD.p7s signatures are dropped: they no longer hold.
 *
 * ELF executables (ET_EXEC, PIEs, static ones) are repaired as modules
 * are (elf_inspect_object_fd reads them), and count for the tag; with
 * split_debug they are not stripped.  One at "<x>.data/scripts/<name>"
 * that needs libraries bundled cannot reach them by RPATH: installers copy
 * scripts to the environment's bin/, at no fixed path from platlib.  It
 * is written at "<pkg>.scripts/<name>" instead (pkg the normalized
 * distribution name, as in "<pkg>.libs"; mode 0755), with DT_RPATH
 * $ORIGIN/../<pkg>.libs, and its own entry becomes a "#!python" launcher
 * (mode 0755) that executes it from sysconfig's platlib with the same
 * argv.  One that needs nothing stays where it is, unchanged.
 *
 * Its name is the input's with the platform tag replaced.  It is written
 * through the temporary-file recipe (common/tmpfile.h) in the output
 * directory.
 */
#ifndef SPOKE_WORKER_REPAIR_WHEEL_H
#define SPOKE_WORKER_REPAIR_WHEEL_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

struct repair_wheel_opts {
	/* An existing folder, its path resolved (dirs_resolve): the repair
	 * opens it with no symlink followed, and so the debug_dir below,
	 * which lies beneath it. */
	const char *out_dir;
	const char *compat;	     /* the platform tag asked for, or NULL */
	const char *const *exclude;  /* globs: never bundled (exclude.h) */
	size_t nexclude;
	const char *const *lib_path; /* extra directories to search */
	size_t nlib;
	const char *ld_library_path; /* ':'-separated, or NULL */
	/* When set, the objects and the libraries bundled for them are
	 * stripped of their DWARF, which goes to
	 * <debug_dir>/.build-id/xx/rest.debug (debugsplit.h). */
	int split_debug;
	const char *debug_dir;
	long long epoch;	     /* zip timestamp (unix seconds) */
};

/*
 * Repairs the wheel at path.  On success returns 0 and *result (new
 * reference) is
 *   {"command": "repair", "ok": true, "input": path,
 *    "wheel": output path or null, "nothing_to_repair": bool,
 *    "platform_tag": tag or null, "modules": [{"entry", "repair": report,
 *    "grafted": [{..., "debug": path?}], "needed": [...], "debug": path?,
 *    "executable": true (an executable)?, "moved_to": path (a moved
 *    script's new entry)?}]}
 * "nothing_to_repair" is true (and nothing is written) when the wheel
 * holds no shared object.  Returns -1 with e naming the wheel and the
 * reason (an invalid wheel with its first problem, a library not found
 * with every path tried, a policy not met, an output that would be the
 * input, an I/O error); then nothing is left in out_dir.
 */
int repair_wheel(const char *path, const struct repair_wheel_opts *o,
		 json_t **result, struct sp_err *e);

/* The platform tag of newest glibc among a and b (for a wheel of several
 * modules, the tag all of them fit); tags that are not manylinux_2_X
 * count as newest.  Returns a or b. */
const char *repair_wheel_newer_tag(const char *a, const char *b);

/* The WHEEL file text with every Tag line replaced by one Tag line per
 * (python-abi pair of the old lines) x (dot-separated part of plat), in
 * the place of the first Tag line.  malloc'd; NULL on out-of-memory. */
char *repair_wheel_retag(const char *wheel, size_t len, const char *plat);

#endif
