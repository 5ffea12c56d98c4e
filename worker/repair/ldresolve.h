/*
 * ldresolve.h - finds the libraries a shared object needs, recursively, as
 * the dynamic loader would (like lddtree).
 *
 * For each DT_NEEDED name of an object N (a name with a '/' is a path and
 * is taken as it is), the directories are tried in this order:
 *
 *   1. DT_RPATH of N, then of the object that needed N, and so on up to
 *      the root; only when N has no DT_RUNPATH (an object's DT_RPATH is
 *      ignored when it has a DT_RUNPATH, as glibc ignores it);
 *   2. LD_LIBRARY_PATH (the build's, as the client saw it);
 *   3. DT_RUNPATH of N, for N's own needs only (not inherited);
 *   4. the search paths cargo build scripts printed ("linked_paths"): the
 *      linker found the library there, the loader would not;
 *   5. extra directories the user gave (--lib-path);
 *   6. the directories of /etc/ld.so.conf, following its include globs;
 *   7. the default directories: /lib/<multiarch>, /usr/lib/<multiarch>,
 *      /lib64, /usr/lib64, /lib, /usr/lib, with this machine's multiarch
 *      triplet; for a root object of another architecture, that
 *      architecture's triplet (worker/elf/machine.h) and, first, where
 *      Debian's cross toolchains install its libraries (ld_arch_dirs).
 *
 * 1-3 are the loader's own order.  $ORIGIN and ${ORIGIN} in DT_RPATH and
 * DT_RUNPATH expand to the directory of the object that carries them; for
 * the root the caller says which directory that is (a staged file's
 * origin is where cargo put it, not the staging directory).  A candidate
 * must be an ELF shared object of the needer's class, machine and byte
 * order; others are skipped, as the loader skips them (so ld.so.conf's
 * directories, which are the host's, are still tried for a foreign
 * object: its libraries are not found there unless they are its own).
 *
 * Every soname is resolved once, breadth first, by the first object that
 * needs it: the loader loads a soname once and reuses it.
 *
 * With declared_only, only what the caller declared is searched, in the
 * same order: the elements of 1 and 3 that start with $ORIGIN (or
 * ${ORIGIN}) and, once expanded and normalized, stay in the root's
 * folder, a linked path or a lib_paths folder, 4 and 5; never 2, 6, 7,
 * an $ORIGIN element that climbs out ("$ORIGIN/../../usr/lib"), an
 * absolute or relative RPATH
 * element, or a DT_NEEDED path, which would read the machine's own files
 * (a build system's action may read its declared inputs only).
 */
#ifndef SPOKE_WORKER_REPAIR_LDRESOLVE_H
#define SPOKE_WORKER_REPAIR_LDRESOLVE_H

#include <stddef.h>
#include <sys/stat.h>

#include "common/err.h"
#include "worker/elf/inspect.h"

/* The parent of a library needed by the root object. */
#define LD_ROOT ((size_t)-1)

/* Which search step found a library. */
enum ld_via {
	LD_VIA_NONE,		/* not found */
	LD_VIA_PATH,		/* the DT_NEEDED entry is a path */
	LD_VIA_RPATH,
	LD_VIA_LD_LIBRARY_PATH,
	LD_VIA_RUNPATH,
	LD_VIA_LINKED_PATH,
	LD_VIA_LIB_PATH,
	LD_VIA_LD_SO_CONF,
	LD_VIA_DEFAULT,
};

/* "rpath", "runpath", "LD_LIBRARY_PATH", "linked_paths", "lib_path",
 * "ld.so.conf", "default", "path" or "not found". */
const char *ld_via_name(enum ld_via via);

/* A folder searched before the one a library was found in, as it was
 * when searched: a name added there later would be found first
 * (server/reuse.c compares it to tell a wheel's bundled libraries are
 * still the ones the loader would pick). */
struct ld_dir {
	char *path;
	int err; /* errno of its stat(); 0 when st is valid */
	struct stat st;
};

struct ld_lib {
	char *soname;	      /* the DT_NEEDED name */
	char *path;	      /* where it was found; NULL when not found */
	enum ld_via via;
	size_t parent;	      /* index of its needer in libs, or LD_ROOT */
	int descended;	      /* its own needs were resolved */
	struct elf_info info; /* of path, when found */
	char **tried;	      /* when not found: each candidate, with the
			       * reason it was skipped when it exists */
	size_t ntried;
	struct ld_dir *dirs; /* when found: the folders searched before */
	size_t ndirs;
};

/* Owned by the tree: ld_tree_release(). */
struct ld_tree {
	struct ld_lib *libs;
	size_t nlibs;
};

struct ld_opts {
	/* $ORIGIN of the root object; NULL: the directory of root_path. */
	const char *root_origin;
	const char *const *linked_paths;
	size_t nlinked;
	const char *const *lib_paths;
	size_t nlib;
	const char *ld_library_path; /* ':'-separated; NULL or "" for none */
	/* NULL: /etc/ld.so.conf.  "" reads none. */
	const char *ld_so_conf;
	/* NULL: the system's default directories (ld_default_dirs). */
	const char *const *default_dirs;
	size_t ndefault;
	/* Nonzero: search only the declared places (above); ld_so_conf,
	 * default_dirs and ld_library_path are then ignored. */
	int declared_only;
	/* When set and it returns 0 for a library, found at path, that
	 * library is looked up but not what it needs (system libraries the
	 * wheel will not bundle, libraries the user excluded). */
	int (*descend)(const char *soname, const char *path, void *arg);
	void *arg;
};

/*
 * Resolves everything root (inspected from root_path, never opened here)
 * needs, recursively, into out.  root_name names the root in messages.  A
 * library that is not found is recorded (path NULL, with what was tried),
 * not an error: the caller decides whether it matters.  Fails only when
 * out of memory or when ld.so.conf cannot be read for a reason other than
 * not existing.  On failure out holds nothing.
 */
int ld_resolve(const struct elf_info *root, const char *root_path,
	       const struct ld_opts *o, struct ld_tree *out, struct sp_err *e);

void ld_tree_release(struct ld_tree *t);

/* Index of soname in t, or LD_ROOT when absent. */
size_t ld_tree_find(const struct ld_tree *t, const char *soname);

/*
 * Reads the directories of an ld.so.conf file at path: one per line, '#'
 * starts a comment, "include PATTERN..." reads every file matching each
 * glob pattern (relative patterns are relative to the directory of the
 * file that includes them), "hwcap" lines are ignored, as are the
 * "=TYPE" suffixes of old formats.  Includes nest up to 16 deep.  A
 * missing file gives no directories.  *dirs (malloc'd, NULL-terminated,
 * each string malloc'd) gets them in order, duplicates removed.
 */
int ld_conf_dirs(const char *path, char ***dirs, size_t *n,
		 struct sp_err *e);

/* The files and folders reading the ld.so.conf at path reads (the file,
 * every file it includes, every folder an include pattern lists), as
 * the cache of ld_resolve() keeps them: whoever stamps them (common/
 * stamp.h) knows whether reading it again would give other directories.
 * *paths (malloc'd, NULL-terminated, each string malloc'd: ld_strv_free)
 * gets *n of them.  Returns 1 when the list is complete, 0 when an
 * include names a pattern in a folder's name (no list of files says
 * whether it changed), -1 with e set. */
int ld_conf_inputs(const char *path, char ***paths, size_t *n,
		   struct sp_err *e);

/* The system's default directories for this machine, with its multiarch
 * triplet ("x86_64-linux-gnu"); static storage. */
const char *const *ld_default_dirs(size_t *n);

/* The default directories for objects of another architecture, whose
 * Debian multiarch triplet is triplet ("i386-linux-gnu") and whose cross
 * toolchain's is cross ("i686-linux-gnu"): /usr/<cross>/lib (where Debian
 * installs a cross toolchain's libraries), /lib/<triplet>,
 * /usr/lib/<triplet>, then /lib64, /usr/lib64, /lib, /usr/lib.  Returns
 * them malloc'd and NULL-terminated, each string malloc'd (ld_strv_free),
 * *n of them; NULL when out of memory. */
char **ld_arch_dirs(const char *triplet, const char *cross, size_t *n);

/* Expands $ORIGIN and ${ORIGIN} in one search path element (malloc'd);
 * other text is kept.  NULL on out-of-memory. */
char *ld_expand_origin(const char *elem, const char *origin);

/* Frees a NULL-terminated array of strings and the array. */
void ld_strv_free(char **v);

#endif
