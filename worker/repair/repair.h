/*
 * repair.h - makes a module's wheel manylinux: finds the libraries it needs
 * (ldresolve.h), bundles those the policy (policy.h) does not promise into
 * <dist>.libs/ under hashed names, points the module at them, and picks
 * the platform tag.  The staged module and the system's libraries are
 * only read, through descriptors and never whole: each object to change
 * is patched into a scratch file of its own (elf_patch_fd, tmpfile_anon:
 * the unchanged bulk copied in the kernel), which the result hands to the
 * wheel writer, so memory does not grow with the objects' sizes.  With
 * split_debug a bundled library is the exception: it is read whole,
 * stripped and patched in memory (debugsplit.h), one at a time.
 *
 * What to do is a struct repair_opts, filled by the caller (the worker
 * from its job, worker/wheel_job.h; spoke repair from its command line): no
 * JSON is read here.  $ORIGIN of the module is in->origin.
 *
 * repair: every needed library, transitively, that the policy does not
 *   allow and the user did not exclude is bundled as
 *   <dist>.libs/<name>-<first 8 hex of its sha256>.<suffix> with that name
 *   as its DT_SONAME; DT_NEEDED entries of the module and of the bundled
 *   libraries are renamed to match; the module gets DT_RPATH
 *   $ORIGIN/<path to <dist>.libs>, each bundled library $ORIGIN.  The tag
 *   is the policy's rule (policy.h) on the module and what it bundles:
 *   the oldest fitting manylinux tag, musllinux_1_2, or --compat's.
 *   libpython (worker/elf/pycheck.h) is never bundled, looked into or
 *   asked of the system: a DT_NEEDED naming it is removed from the module
 *   and from every bundled library, and the report's "removed" lists
 *   each removal ({"soname", "from": the object's path in the wheel}),
 *   unless in->keep_libpython (a program that embeds Python) keeps it.
 *   A module that uses PyFPE_jbuf or Python 2's UCS2 functions
 *   (pycheck.h) fits no manylinux tag: repair and check fail, naming the
 *   symbol.
 * check: the same analysis; the wheel is written (unchanged, with the
 *   manylinux tag) only when nothing needs bundling, else the job fails
 *   saying what repair would bundle.
 * skip: nothing of this: a plain linux_<arch> wheel.  The policy, when
 *   one covers the module, is still read, to say whether the module
 *   would need a repair (the result's "patch", below).
 *
 * Events, given to in->emit: {"patch": "required"} as soon as bundling is
 * known to be needed, then {"event": "repair", "repair": <report>}.
 */
#ifndef SPOKE_WORKER_REPAIR_REPAIR_H
#define SPOKE_WORKER_REPAIR_REPAIR_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "worker/elf/debugsplit.h"
#include "worker/elf/inspect.h"
#include "worker/repair/repair_opts.h"

/* What the wheel writer knows about the module. */
struct repair_in {
	const struct repair_opts *opts; /* never NULL */
	const char *dist;	 /* distribution name as the job spells it */
	/* In the wheel: "pkg/_native.<ext>"; the RPATH leads from there.
	 * The object may be an executable (the PyFPE/UCS2 rule finds no
	 * init function in one), which spoke repair may move: then its new
	 * place. */
	const char *module_path;
	const char *name;	 /* for messages: cargo_path, else staged */
	const char *origin;	 /* $ORIGIN of the module: cargo_path's dir */
	const char *plat;	 /* the job's platform tag ("linux_x86_64") */
	const struct elf_info *info; /* of the module */
	/* 1 for a program (build_wheel.h) rather than a module: a DT_NEEDED
	 * on libpython is then kept, since a program that embeds Python
	 * has no interpreter to provide its symbols; it is still never
	 * bundled nor looked into. */
	int keep_libpython;
	/* The module, open for reading: read with pread, never written,
	 * its offset not moved.  Not used in skip mode. */
	int mod_fd;
	/* The folder the scratch files go to (tmpfile_anon), with its path
	 * for messages: on a disk, since they hold patched copies. */
	int tmp_dirfd;
	const char *tmp_label;
	/* With split_debug (both required then): the directory the
	 * bundled libraries' debug files go to, and the wheel's file name
	 * without ".whl", under which those of libraries without a build
	 * ID are named (<stem>/<wheel path>.debug). */
	const char *debug_dir;
	const char *wheel_stem;
	/* Receives each event (a new reference it must release), or NULL:
	 * the events are dropped.  Library code reports through this
	 * callback and never reaches up into the worker's channel. */
	void (*emit)(json_t *ev, void *arg);
	void *emit_arg;
};

/* A file the repair adds to the wheel. */
struct repair_file {
	char *path; /* in the wheel: "<dist>.libs/libfoo-0123abcd.so.1" */
	/* The patched library: an unlinked scratch file (owned; closed by
	 * repair_result_release), its bytes from offset 0. */
	int fd;
	uint64_t len;
	/* With split_debug, the library's debug file (debug.debug, for
	 * repair_write_debug() to write at debug_path); both NULL when the
	 * library has no .debug_* section: it is bundled as it is, and no
	 * debug file is written, as for a module. */
	struct debugsplit debug;
	char *debug_path;
};

/* Owned by the repair: repair_result_release().  Start it as
 * REPAIR_RESULT_INIT (repair_run does), so that a release before the
 * repair ran closes nothing. */
struct repair_result {
	char *plat;	/* the wheel's platform tag */
	/* The patched module, an unlinked scratch file read from offset 0
	 * (owned), or -1: write the original. */
	int mod_fd;
	uint64_t mod_len;
	struct repair_file *files;
	size_t nfiles;
	/* Members for the worker's result (new reference): "platform_tag",
	 * "repair" (the report), "patch", and in repair and check mode
	 * "grafted" ([{"soname", "path", "name", "wheel_path", "debug"?}]:
	 * "debug" is the debug file's path with split_debug), "searched"
	 * ([{"path", "ident"}]: the folders searched in vain before each
	 * bundled library was found, with their identity then) and "needed"
	 * (the module's DT_NEEDED as written).  "patch" is "applied" or
	 * "none" in repair and check mode; in skip mode "required" when one
	 * of the module's DT_NEEDED is a library the repair would bundle
	 * (not on the policy's list for --compat's tag, or the newest, and
	 * not excluded), else "none", and left out when no policy covers the
	 * module's machine or --compat's tag (skip still succeeds). */
	json_t *result;
};

#define REPAIR_RESULT_INIT {.mod_fd = -1}

/* Sets r to REPAIR_RESULT_INIT. */
void repair_result_init(struct repair_result *r);

/* Runs the repair in->opts asks for.  Returns 0 with out filled, or -1
 * with e saying what is wrong: an unknown --compat tag, split_debug
 * without debug_dir and wheel_stem, a needed library not
 * found (with every path tried) or unreadable, an object needing newer
 * symbol versions or libraries than --compat's tag has, or a black-listed
 * symbol (naming each), objects that fit no tag, a module check found not
 * compliant, a module using PyFPE_jbuf or UCS2 functions (naming the
 * symbol), a patch that failed, or a scratch file that could not be
 * created or written (a full disk).  On failure out holds nothing, and
 * no scratch file is left. */
int repair_run(const struct repair_in *in, struct repair_result *out,
	       struct sp_err *e);

/* Frees r and closes its scratch files (which removes them); leaves r
 * as REPAIR_RESULT_INIT. */
void repair_result_release(struct repair_result *r);

/* Writes the debug file of every library r bundled that has one, with
 * debugsplit_write_file (the temporary-file recipe; folders created, no
 * symlink followed).  Returns 0, or -1 with e naming the file. */
int repair_write_debug(const struct repair_result *r, struct sp_err *e);

/* The name a bundled library gets: "libfoo.so.1" with content digest
 * "0123abcd..." becomes "libfoo-0123abcd.so.1" (the hash goes before the
 * first ".so"; a name without ".so" gets it at the end).  malloc'd. */
char *repair_hashed_name(const char *soname, const void *data, size_t len);

/* The DT_RPATH that leads from the module at module_path (in the wheel)
 * to libs_dir (at the wheel's root): "$ORIGIN/../<libs_dir>" for
 * "pkg/_native.so".  malloc'd. */
char *repair_rpath(const char *module_path, const char *libs_dir);

#endif
