/*
 * debugsplit.h - moves a shared object's DWARF to a separate file, as
 * `objcopy --only-keep-debug --compress-debug-sections=zstd` followed by
 * `strip --strip-debug` and `objcopy --add-gnu-debuglink` would, in memory
 * and without running either.
 *
 * The debug file is the object with the same section headers (same
 * indices, names and addresses, so debuggers match it section by section),
 * no program headers, every allocated section except notes turned into
 * SHT_NOBITS (the code lives in the object), and each .debug_* section
 * compressed with zstd: SHF_COMPRESSED, an Elf64_Chdr with ch_type
 * ELFCOMPRESS_ZSTD (2), then one zstd frame.  Notes are kept so that the
 * NT_GNU_BUILD_ID of the two files match.
 *
 * The stripped object keeps every byte its program headers load, at the
 * same offsets; its .debug_* sections are dropped, the section header
 * table and .shstrtab are rewritten after the non-allocated sections that
 * remain (.comment, .symtab, .strtab...), and a .gnu_debuglink section
 * names the debug file and holds its CRC-32.
 *
 * Debuggers find the debug file by build ID first:
 * <debug-file-directory>/.build-id/<first 2 hex>/<rest>.debug, the path
 * debugsplit_rel_path() gives.  Objects without a build ID are named by
 * the caller (worker/repair_wheel.h: after the wheel and the entry).
 * The libraries a repair bundles are split like the modules
 * (worker/repair/repair.h).
 *
 * The input is read through the room's reading layer
 * (worker/elf/elffile.h); the two outputs are written here.
 *
 * Objects of every machine, 32- and 64-bit, little- and big-endian, are
 * supported (the outputs are written in the input's class and byte order
 * through libelf's translation), whose .debug_* sections all lie after
 * every loaded segment and after every allocated section (what linkers
 * produce); anything else is refused, naming the object.
 */
#ifndef SPOKE_WORKER_ELF_DEBUGSPLIT_H
#define SPOKE_WORKER_ELF_DEBUGSPLIT_H

#include <stddef.h>

#include "common/err.h"

/* ELF's number for zstd in Elf32_Chdr/Elf64_Chdr.ch_type; glibc before 2.37 and
 * elfutils before 0.189 do not define it. */
#define SP_ELFCOMPRESS_ZSTD 2

/* Everything malloc'd, owned by the split: debugsplit_release(). */
struct debugsplit {
	void *stripped; /* the object without DWARF, with .gnu_debuglink */
	size_t stripped_len;
	void *debug;	/* the debug file, or NULL: no .debug_* section */
	size_t debug_len;
	char *build_id; /* lowercase hex of NT_GNU_BUILD_ID, or NULL */
	size_t dwarf_len; /* the .debug_* sections' size, uncompressed */
};

/*
 * Splits the object in/len (only read).  link_name is the file name
 * written in .gnu_debuglink ("<module>.debug").  level is the zstd level
 * (1..19).  Returns 0 with out filled; an object without .debug_* sections
 * gives out->debug NULL and out->stripped NULL (use the input as it is).
 * Returns -1 with e naming the object (name) and the reason: not ELF, an
 * unknown class or byte order, truncated or corrupt headers, debug sections
 * among loaded ones, or out of memory.
 */
int debugsplit_mem(const void *in, size_t len, const char *name,
		   const char *link_name, int level, struct debugsplit *out,
		   struct sp_err *e);

/* Frees everything d holds and zeroes it; safe on a zeroed or already
 * released d. */
void debugsplit_release(struct debugsplit *d);

/* ".build-id/ab/cdef....debug" for d's build ID (malloc'd), or NULL when
 * it has none or out of memory. */
char *debugsplit_rel_path(const struct debugsplit *d);

/*
 * Splits an object that sits at wheel_path in the wheel (as
 * debugsplit_mem, at zstd level 12; its .gnu_debuglink names "<file name
 * of wheel_path>.debug") and says where its debug file goes under the
 * debug folder: *rel is ".build-id/xx/rest.debug", or without a build ID
 * "<stem>/<wheel_path>.debug" (malloc'd).  One naming rule for the module
 * of `spoke build`, and the modules and bundled libraries of `spoke
 * repair`.  An object without .debug_* sections gives out->debug NULL and
 * *rel NULL.  Returns 0, or -1 with e filled and *rel NULL.
 */
int debugsplit_for_wheel(const void *in, size_t len, const char *name,
			 const char *wheel_path, const char *stem,
			 struct debugsplit *out, char **rel, struct sp_err *e);

/* Writes buf to path through the temporary-file recipe (tmpfile.h),
 * creating the folders of path that are missing one at a time.  path must
 * be free of symlinks (beneath a folder resolved with dirs_resolve): a
 * symlink at any component is refused, with a message naming it, never
 * followed.  Returns 0, or -1 with e naming the file or folder. */
int debugsplit_write_file(const char *path, const void *buf, size_t len,
			  struct sp_err *e);

/* Writes d's debug file to <dir>/<rel> with debugsplit_write_file. */
int debugsplit_write(const struct debugsplit *d, const char *dir,
		     const char *rel, struct sp_err *e);

/*
 * For `spoke build`: splits the module *mod of *len bytes (malloc'd;
 * replaced by the stripped object, the old buffer freed), writes the debug
 * file under dir (.build-id/xx/rest.debug, or <stem>/<file>.debug without
 * a build ID; file is the module's file name, "_native.cpython-...so")
 * and sets *debug_path (malloc'd).  *debug_path stays NULL when the module
 * has no debug sections.  name is for messages.  Returns 0, or -1 with e
 * filled; *mod is then unchanged.
 */
int debugsplit_module(const char *file, const char *dir, const char *stem,
		      const char *name, void **mod, size_t *len,
		      char **debug_path, struct sp_err *e);

/*
 * For `spoke build`: where a wheel's debug files go, <out_dir_resolved,
 * else the directory of final_path>/debug, and the wheel's file name
 * (final_path's) without ".whl", under which objects without a build ID
 * are named.  Sets *dir and *stem (malloc'd) and returns 0, or -1 with e
 * filled (out of memory) and both NULL.
 */
int debugsplit_dirs(const char *final_path, const char *out_dir_resolved,
		    char **dir, char **stem, struct sp_err *e);

#endif
