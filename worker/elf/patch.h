/*
 * patch.h - out-of-place editing of a shared object's dynamic section.
 *
 * spoke never writes the file it patches: it is cargo's own inode (see
 * DESIGN.md, "Never write to a staged file").  These functions read the
 * input, parse its headers with libelf, and write a patched copy elsewhere:
 * the unchanged bulk of the file is copied (copy_file_range, so in the
 * kernel and often as a reflink), and only the tables that change are
 * written by us.  The input is never mapped or read whole, so memory use is
 * bounded by the size of the dynamic string table, not of the file.  Its
 * headers and dynamic section are read through the room's reading layer
 * (worker/elf/elffile.h), as elf_inspect reads them.
 *
 * How the copy is laid out:
 *
 *  - When the edits fit, the copy has the input's layout: dynamic entries
 *    are rewritten in place (the table may shrink), new strings reuse equal
 *    strings already in .dynstr, or take the place of a string nothing else
 *    refers to any more (a replaced DT_NEEDED, an old RPATH).
 *  - Otherwise a new PT_LOAD segment (read-write, aligned like the others,
 *    above the highest one) is appended at the end of the file.  It holds
 *    the program header table (which grows by the new entry), a new .dynamic
 *    when the old one has too few slots, and a new .dynstr (the old table,
 *    followed by the new strings, so every existing string offset in
 *    .dynsym, .gnu.version_r and .gnu.version_d stays valid).  DT_STRTAB,
 *    DT_STRSZ, PT_DYNAMIC, PT_PHDR, e_phoff and the .dynstr and .dynamic
 *    section headers are pointed at the new copies.  The old tables stay
 *    where they were, unreferenced, so relocations, notes, symbol versions,
 *    GNU_RELRO and every other address in the file keep their values.
 *
 * Inputs are treated as hostile: every offset and size is checked against
 * the file before it is used; a bad file gives an error naming it, never a
 * crash.  Supported: ELF shared objects (ET_DYN) and executables
 * (ET_EXEC, and PIEs, which are ET_DYN) of every machine,
 * ELFCLASS64 and ELFCLASS32, little- and big-endian: every field goes
 * through libelf's translation in the file's own byte order.
 */
#ifndef SPOKE_WORKER_ELF_PATCH_H
#define SPOKE_WORKER_ELF_PATCH_H

#include <stddef.h>

#include "common/err.h"

/* The edits to apply; all of them are applied together.  Strings are the
 * caller's.  Order of application, as patchelf's: remove, replace, add. */
struct elf_edit {
	/* NULL: unchanged.  Otherwise sets DT_RUNPATH to this value (an
	 * existing DT_RPATH becomes DT_RUNPATH; there is exactly one entry
	 * afterwards), like patchelf --set-rpath. */
	const char *set_rpath;
	/* With set_rpath: set DT_RPATH instead, removing DT_RUNPATH. */
	int force_rpath;
	/* NULL: unchanged.  Otherwise sets DT_SONAME, adding it if absent. */
	const char *set_soname;
	/* DT_NEEDED renames: every entry equal to replace_old[i] becomes
	 * replace_new[i], and so does a version requirement (vn_file in
	 * .gnu.version_r) on that file.  A name that is not needed is
	 * ignored, as patchelf does. */
	const char *const *replace_old, *const *replace_new;
	size_t nreplace;
	/* New DT_NEEDED entries, placed before the existing ones as patchelf
	 * places them; a name already needed is not added twice. */
	const char *const *add_needed;
	size_t nadd;
	/* Every DT_NEEDED entry with one of these names is dropped.  Version
	 * requirements on the library are kept (as patchelf keeps them). */
	const char *const *remove_needed;
	size_t nremove;
};

/* Patches the ELF shared object or executable read from in_fd (never
 * written; read with pread, its offset is not moved) and writes the
 * result to out_fd, a new empty regular file (written with explicit
 * offsets; its size is set at the end).  Applies all edits of ed
 * together.  in_name and out_name are for messages.  Returns 0, or -1
 * with e naming the file and the reason: not an ELF shared object or
 * executable, an unknown class or byte order, truncated or corrupt, or an
 * I/O error on either file.  On failure out_fd holds unspecified bytes:
 * the caller removes it.  The caller fsyncs out_fd. */
int elf_patch_fd(int in_fd, const char *in_name, const struct elf_edit *ed,
		 int out_fd, const char *out_name, struct sp_err *e);

/* The same, from the memory image in/len (only read) to a new malloc'd
 * buffer: on success *out and *outlen hold the patched image, which the
 * caller frees.  On failure *out is NULL.  Used when the result goes
 * straight into a wheel. */
int elf_patch_mem(const void *in, size_t len, const char *name,
		  const struct elf_edit *ed, void **out, size_t *outlen,
		  struct sp_err *e);

#endif
