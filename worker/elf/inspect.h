/*
 * inspect.h - read-only inspection of a shared object: what the loader
 * needs of it (DT_NEEDED, DT_SONAME, run paths) and what it exports.
 *
 * spoke never writes the files it inspects: they are cargo's own outputs.
 * Every function opens with O_RDONLY and reads through the room's reading
 * layer (worker/elf/elffile.h: libelf's pread-based ELF_C_READ mode, so a
 * file truncated under us gives an error, not SIGBUS), and treats its
 * input as hostile: every offset and size is checked against the file
 * before use.  A read the disk failed is reported as such (EIO), never as
 * a corrupt file.
 *
 * Objects of every machine, class and byte order are read (libelf
 * translates): `spoke show` and `spoke repair` read aarch64, s390x or
 * ppc64 wheels on any host.  Whether an object can load here is a separate
 * question, asked only where it matters (elf_info_check_host).
 */
#ifndef SPOKE_WORKER_ELF_INSPECT_H
#define SPOKE_WORKER_ELF_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* What the ELF header says of any ELF file, whatever its type. */
struct elf_ident {
	int elfclass;	  /* ELFCLASS32 or ELFCLASS64 */
	int data;	  /* ELFDATA2LSB or ELFDATA2MSB */
	uint16_t machine; /* EM_* */
	uint32_t flags;	  /* e_flags: the ARM float ABI, for one */
	uint16_t type;	  /* ET_DYN, ET_EXEC, ET_REL... */
	int pie;	  /* ET_DYN with DF_1_PIE: an executable */
	/* ET_DYN whose dynamic segment has no bytes in the file: a separate
	 * debug file (objcopy --only-keep-debug), which nothing loads. */
	int debug_only;
	/* The wheel architecture of (machine, class, data, flags),
	 * machine.h's elf_arch_name(): static, or NULL when spoke knows
	 * none. */
	const char *arch;
};

/* A shared object: its identity (for a library, type ET_DYN, neither pie
 * nor debug_only) and what the loader reads of it. */
struct elf_info {
	struct elf_ident id;
	char *interp;	  /* PT_INTERP's path, or NULL */
	char *soname;	  /* DT_SONAME, or NULL */
	char *rpath;	  /* DT_RPATH, or NULL */
	char *runpath;	  /* DT_RUNPATH, or NULL */
	char **needed;	  /* DT_NEEDED in file order */
	size_t nneeded;
};

/* Inspects the shared object at path into out (all strings owned by out;
 * free with elf_info_release).  Fails, naming the path, when the file is not
 * ELF, is truncated or corrupt, or is not a shared library (an executable,
 * including a PIE, or an object file).  An object of any machine, class and
 * byte order is read.  On failure out holds nothing. */
int elf_inspect(const char *path, struct elf_info *out, struct sp_err *e);

/* The same, on an open descriptor (read with pread: its offset is not
 * moved); name is for messages. */
int elf_inspect_fd(int fd, const char *name, struct elf_info *out,
		   struct sp_err *e);

/* The same for any object the loader maps, on an open descriptor (read
 * with pread; name is for messages): a shared library, or an executable
 * (ET_EXEC or a PIE, out->id.pie set), which spoke repair bundles
 * libraries for as it does for modules.  A static executable (no dynamic
 * section) needs nothing: out has no DT_NEEDED and no run paths.  Fails
 * as elf_inspect_fd does, for an object file, a core dump or a corrupt
 * file.  The places that need a library (spoke build's module) use
 * elf_inspect_fd. */
int elf_inspect_object_fd(int fd, const char *name, struct elf_info *out,
			  struct sp_err *e);

/* The same as elf_inspect_fd, on the file's len bytes in memory (a
 * mapfile's): no system call at all.  libelf only reads them. */
int elf_inspect_mem(const void *p, size_t len, const char *name,
		    struct elf_info *out, struct sp_err *e);

/* The architecture of id for messages and reports: its wheel name
 * (id->arch, static) or, when spoke knows none, "ELF machine <number>"
 * written into buf (len bytes, truncated to fit).  Returns one or the
 * other; never NULL. */
const char *elf_ident_label(const struct elf_ident *id, char *buf,
			    size_t len);

/* Reads the identity of the ELF file on fd (read with pread; name is for
 * messages) into out: for the files elf_inspect refuses by type
 * (executables, object files), whose architecture still counts.  Fails,
 * naming name, when the file is not ELF, has an unknown class or byte
 * order, or is truncated or corrupt where read. */
int elf_ident_fd(int fd, const char *name, struct elf_ident *out,
		 struct sp_err *e);

/* Returns 1 when soname (or a path's last component) names a dynamic
 * loader: ld-linux* (x86_64, i686, aarch64, armv7l, riscv64...),
 * ld64.so.2 (ppc64le), ld64.so.1 (s390x and big-endian ppc64) or
 * ld-musl-<arch>.so.1; else 0.  The loader is the libc's own half: no
 * policy judges its versions, and no repair bundles it. */
int elf_is_loader(const char *soname);

/* The C library an object was linked against, as its headers tell. */
enum elf_libc {
	ELF_LIBC_UNKNOWN, /* nothing names one (a library needing no libc) */
	ELF_LIBC_GLIBC,
	ELF_LIBC_MUSL,
};

/* The libc of info: musl when PT_INTERP is an ld-musl-* loader or a
 * DT_NEEDED is libc.musl-<arch>.so.1 or ld-musl-*; glibc when PT_INTERP
 * is another loader (elf_is_loader) or a DT_NEEDED is libc.so.6; else
 * unknown.  PT_INTERP, when present, decides.  A bare "libc.so" tells
 * nothing: it is the name Debian's musl-gcc -shared links against, and
 * the soname of Android's bionic. */
enum elf_libc elf_info_libc(const struct elf_info *info);

/* Checks that the object info describes can be imported by this host's
 * interpreter (its class, byte order and machine: machine.h's
 * elf_machine_check_host); name is for the message.  Returns 0 or -1. */
int elf_info_check_host(const struct elf_info *info, const char *name,
			struct sp_err *e);

/* Frees every string info holds and zeroes it; safe on a zeroed or
 * already released info. */
void elf_info_release(struct elf_info *info);

/* Returns 1 when a dynamic symbol table of path defines symbol as a
 * global, weak or unique function or object of default or protected
 * visibility, 0 when it does not, -1 with e naming path on error (not
 * ELF, no dynamic symbol table, truncated or corrupt, a read failed). */
int elf_exports(const char *path, const char *symbol, struct sp_err *e);

/* The same, on an open descriptor; name is for messages. */
int elf_exports_fd(int fd, const char *name, const char *symbol,
		   struct sp_err *e);

/* The same, on the file's len bytes in memory. */
int elf_exports_mem(const void *p, size_t len, const char *name,
		    const char *symbol, struct sp_err *e);

/* Which of the n symbols syms, in order of preference, a dynamic symbol
 * table of the object defines as elf_exports() counts them, in one pass
 * over its tables: returns 1 with *which the index of the first of syms
 * it defines, 0 when it defines none (*which n), -1 with e naming name
 * on error as elf_exports(). */
int elf_exports_which_fd(int fd, const char *name, const char *const *syms,
			 size_t n, size_t *which, struct sp_err *e);

/* The same, on the file's len bytes in memory. */
int elf_exports_which_mem(const void *p, size_t len, const char *name,
			  const char *const *syms, size_t n, size_t *which,
			  struct sp_err *e);

#endif
