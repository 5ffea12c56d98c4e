/*
 * mkelf.h - writes a minimal valid ELF shared object for any machine,
 * class and byte order, for the tests of the ELF room on objects no
 * toolchain here builds (loongarch64; big-endian and 32-bit objects
 * without cross compilers).
 *
 * The object has one PT_LOAD holding everything the loader reads (file
 * offset = virtual address), a PT_DYNAMIC, optionally a PT_INTERP, and
 * section headers for .interp, .dynsym, .dynstr, .text, .dynamic and
 * .shstrtab.  The dynamic section holds DT_NEEDED entries, DT_SONAME, an
 * optional DT_RUNPATH, DT_STRTAB, DT_STRSZ, DT_SYMTAB, DT_SYMENT and
 * DT_NULL; .dynsym defines one global function, "mkelf_answer".  Every
 * field is written byte by byte in the asked byte order, sharing no code
 * with libelf or spoke, so that what spoke reads back is checked against
 * an independent writer.
 *
 * tests/tools/mkelf.c is the writer, a static library of the tests
 * (spoke_test_mkelf) that the unit tests and the mkelf command
 * (tests/tools/mkelf_main.c, which the integration tests run) link.
 */
#ifndef SPOKE_TESTS_TOOLS_MKELF_H
#define SPOKE_TESTS_TOOLS_MKELF_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

struct mkelf_spec {
	unsigned machine;	   /* EM_* */
	int elfclass;		   /* ELFCLASS32 or ELFCLASS64 */
	int data;		   /* ELFDATA2LSB or ELFDATA2MSB */
	uint32_t flags;		   /* e_flags */
	const char *soname;	   /* or NULL */
	const char *runpath;	   /* or NULL */
	const char *interp;	   /* PT_INTERP, or NULL */
	const char *const *needed; /* DT_NEEDED names */
	size_t nneeded;
	uint64_t align; /* PT_LOAD's p_align; 0: 0x1000 */
	unsigned spare; /* extra DT_NULL slots */
};

/* Builds the object; returns it (malloc'd, *len bytes; the caller frees
 * it) or NULL when out of memory or the spec is not a class/byte
 * order. */
unsigned char *mkelf_build(const struct mkelf_spec *sp, size_t *len);

#endif
