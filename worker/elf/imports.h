/*
 * imports.h - what a shared object takes from other objects: the dynamic
 * symbols it leaves undefined, each with the symbol version and the
 * library that version belongs to, as the loader will bind them.
 *
 * The repair's checks stand on this one reading: the policy's symbol
 * blacklist (a symbol a system library exports but must not be used), the
 * PyFPE_jbuf and UCS2 checks, and the reasons `spoke show` gives for a tag
 * the wheel misses ("GLIBC_2.34: pthread_create, dlopen").
 *
 * A symbol's version comes from .gnu.version (one entry per .dynsym
 * symbol): index 0 and 1 mean "no version"; any other index is the
 * vna_other of a .gnu.version_r entry, which names the version and its
 * library (vn_file).  Objects of any machine, class and byte order are
 * read, through the room's reading layer (worker/elf/elffile.h); inputs
 * are hostile: a bad index is an error naming the file, never a crash.
 */
#ifndef SPOKE_WORKER_ELF_IMPORTS_H
#define SPOKE_WORKER_ELF_IMPORTS_H

#include <stddef.h>

#include "common/err.h"

struct elf_import {
	const char *name;    /* the symbol's name */
	unsigned char type;  /* STT_FUNC, STT_OBJECT, STT_NOTYPE ... */
	unsigned char bind;  /* STB_GLOBAL, STB_WEAK ... */
	const char *version; /* "GLIBC_2.17", or NULL: unversioned */
	const char *file;    /* the library of version: "libc.so.6", or
			      * NULL when version is NULL */
};

/* Owned by the list: elf_imports_release().  The strings point into
 * memory the list owns. */
struct elf_imports {
	struct elf_import *syms; /* in .dynsym order */
	size_t n;
	char *strings;		 /* every name, version and file */
};

/* Reads the undefined symbols of the object's dynamic symbol table
 * (SHN_UNDEF, except the null symbol at index 0) into out, from the len
 * bytes at p (only read).  An object without .dynsym has none.  Returns
 * 0, or -1 with e naming name: not ELF, truncated or corrupt (a symbol
 * name outside its string table, a version index no .gnu.version_r entry
 * defines).  On failure out holds nothing. */
int elf_imports_mem(const void *p, size_t len, const char *name,
		    struct elf_imports *out, struct sp_err *e);

/* The same on an open descriptor (read with pread: its offset is not
 * moved, and the file is not read whole). */
int elf_imports_fd(int fd, const char *name, struct elf_imports *out,
		   struct sp_err *e);

/* Frees everything out holds and zeroes it; safe on a zeroed list. */
void elf_imports_release(struct elf_imports *out);

/* The first import named sym, or NULL. */
const struct elf_import *elf_imports_find(const struct elf_imports *l,
					  const char *sym);

#endif
