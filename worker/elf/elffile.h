/*
 * elffile.h - the one reading layer over libelf that inspect, patch,
 * symvers and debugsplit stand on.
 *
 * An elf_file is an ELF image opened through libelf, from a descriptor
 * (read with pread in ELF_C_READ mode: a file truncated under us gives an
 * error, not SIGBUS) or from memory (only read).  Everything read through
 * it goes through gelf_* and libelf's translation, so the callers see the
 * same GElf_* structures for either class and either byte order, of any
 * machine.  Whether an object loads on the machine spoke runs on is asked
 * apart, where it matters (machine.h's elf_machine_check_host).
 *
 * Inputs are hostile: every table is checked against the file's size
 * before use.  Errors name the file: "'x.so' is truncated or corrupt:
 * <why>", or, when the disk failed a read, "cannot read 'x.so': <errno>"
 * (see elf_lib_fail: a read error must never call a good file corrupt).
 */
#ifndef SPOKE_WORKER_ELF_ELFFILE_H
#define SPOKE_WORKER_ELF_ELFFILE_H

#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* An open ELF image.  The descriptor or the memory stays the caller's and
 * must outlive the elf_file; the Elf handle is the elf_file's. */
struct elf_file {
	Elf *elf;
	const char *name; /* for messages; the caller's */
	uint64_t size;	  /* of the file or image */
	int on_fd;	  /* read with pread(): see elf_lib_fail */
	GElf_Ehdr ehdr;
};

/* Opens the ELF file on fd (a regular file, read with pread; its offset is
 * not moved) into f.  Fails, naming name, when fd is not a regular file or
 * not ELF (a static archive is named as one), or the header cannot be
 * read.  On failure f holds nothing to close. */
int elf_file_open_fd(struct elf_file *f, int fd, const char *name,
		     struct sp_err *e);

/* The same on the len bytes at p (p may be NULL when len is 0: an empty
 * image, which is not ELF).  libelf only reads them; nothing is copied
 * unless libelf must translate a table to this host's byte order or
 * alignment. */
int elf_file_open_mem(struct elf_file *f, const void *p, size_t len,
		      const char *name, struct sp_err *e);

/* Ends f's libelf handle and every table libelf read for it; data and
 * chunks obtained through f become invalid.  Safe on a closed f. */
void elf_file_close(struct elf_file *f);

/* Reports a libelf call on name that failed.  libelf keeps no errno: on
 * a descriptor it reads with pread(), and a read the disk failed (EIO)
 * comes back as "invalid file descriptor" or "cannot read data from
 * file", which would call a good file corrupt.  So whoever hands libelf a
 * descriptor zeroes errno first (on_fd), and an errno set since is the
 * cause; otherwise the file is truncated or corrupt, for libelf's reason.
 * Returns -1. */
int elf_lib_fail(const char *name, int on_fd, struct sp_err *e);

/* elf_lib_fail for f.  Returns -1. */
int elf_file_fail(const struct elf_file *f, struct sp_err *e);

/* Sets e to "'<name>' is truncated or corrupt: <why>".  Returns -1. */
int elf_file_corrupt(const struct elf_file *f, const char *why,
		     struct sp_err *e);

/* 1 when [off, off + len) lies inside the file, without overflow. */
int elf_file_contains(const struct elf_file *f, uint64_t off, uint64_t len);

/* Checks that f is a shared object (ET_DYN): an executable, an object
 * file, a core dump or an unknown type is refused, naming f.  (A PIE is
 * ET_DYN too: only its DF_1_PIE flag, in the dynamic section, tells.)
 * Returns 0 or -1. */
int elf_file_check_type(const struct elf_file *f, struct sp_err *e);

/* Translates one structure of n bytes (at most 64: an Elf64_Ehdr) and
 * type t between f's file representation, in f's byte order and class,
 * and this host's memory representation: to memory when tom is 1 (src is
 * file bytes, dst an Elf32_* or Elf64_* structure of f's class, or a
 * uint16_t/uint32_t for ELF_T_HALF/ELF_T_WORD), else to the file.  Either
 * side may be unaligned.  This is how the writers (patch, debugsplit) put
 * every field in the file's byte order, through libelf's translation.  A
 * failure is a programming error (the byte order was checked at open):
 * it ends the process (SP_BUG). */
void elf_file_xlate(const struct elf_file *f, void *dst, const void *src,
		    size_t n, Elf_Type t, int tom);

/* Checks that f's class is ELFCLASS32 or ELFCLASS64 and its byte order
 * ELFDATA2LSB or ELFDATA2MSB (any machine): anything else is corrupt.
 * Returns 0 or -1. */
int elf_file_check_ident(const struct elf_file *f, struct sp_err *e);

/* Reads every program header into *ph (malloc'd, *n entries plus spare
 * zeroed ones at the end for the caller to fill; the caller frees).
 * Fails, as corrupt, when there is none or the table, of the class's
 * entry size, does not lie inside the file.  *ph is NULL on failure. */
int elf_file_phdrs(const struct elf_file *f, size_t spare, GElf_Phdr **ph,
		   size_t *n, struct sp_err *e);

/* Reads every section header into *sh (malloc'd, *n entries; the caller
 * frees).  A file without sections gives *n 0 and *sh NULL, and so does a
 * table that libelf could not find inside the file: the patcher, the one
 * caller, edits what the loader reads (the segments) and copies the rest,
 * and has always patched such a file.  Fails, as corrupt, when the table
 * libelf gives, of the class's entry size, does not lie inside the
 * file. */
int elf_file_shdrs(const struct elf_file *f, GElf_Shdr **sh, size_t *n,
		   struct sp_err *e);

/* Steps to the next section of type in f's section table, in file
 * order: *scn NULL starts at the beginning, else the search continues
 * after *scn.  Fills *scn and *sh and returns 1, returns 0 when there is
 * no further one, or -1 when the table cannot be read (e filled: a
 * corrupt or cut-off table must not read as "no such section", so the
 * header's section count is checked against the file too). */
int elf_file_next_section(const struct elf_file *f, GElf_Word type,
			  Elf_Scn **scn, GElf_Shdr *sh, struct sp_err *e);

/* Maps the virtual addresses [vaddr, vaddr + len) to a file offset
 * through the PT_LOAD segment of ph (n entries) whose file bytes hold all
 * of them, inside the file.  Returns 0, or -1 (no such segment; e is not
 * touched: the caller names the table). */
int elf_file_vaddr_to_off(const struct elf_file *f, const GElf_Phdr *ph,
			  size_t n, uint64_t vaddr, uint64_t len,
			  uint64_t *off);

/* The len bytes at off of the file as libelf data of type (ELF_T_BYTE,
 * ELF_T_DYN...: translated to this host), or NULL with e filled: outside
 * the file (corrupt, saying what as "the <what> lies outside the file"),
 * or a read or translation failed.  Owned by f: valid until
 * elf_file_close. */
Elf_Data *elf_file_chunk(const struct elf_file *f, uint64_t off, uint64_t len,
			 Elf_Type type, const char *what, struct sp_err *e);

/* The dynamic section that program header dph (PT_DYNAMIC) gives.  All of
 * its slots are read into *dyn (malloc'd, *cap entries: the segment's
 * size; the caller frees); *n is the index of the first DT_NULL, or *cap
 * when there is none (the caller decides whether that is corrupt).
 * Fails, as corrupt, when the segment lies outside the file or holds no
 * entry. */
int elf_file_dynamic(const struct elf_file *f, const GElf_Phdr *dph,
		     GElf_Dyn **dyn, size_t *n, size_t *cap, struct sp_err *e);

#endif
