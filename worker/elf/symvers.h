/*
 * symvers.h - the symbol versions an ELF object requires, per namespace,
 * with the symbols that use each one.
 *
 * A platform tag (repair/policy.h) lists, per namespace, the version names
 * every system of that tag provides; an object fits the tag when each
 * version it requires in such a namespace is on the list.  Six namespaces
 * are judged, the ones the public manylinux and musllinux policies define:
 * GLIBC, GLIBCXX, CXXABI, GCC, ZLIB and LIBATOMIC.  A version's namespace
 * is its name up to the first '_' ("GLIBC_2.17" is GLIBC's "2.17",
 * "CXXABI_TM_1" is CXXABI's "TM_1", "GLIBC_PRIVATE" GLIBC's "PRIVATE");
 * any other namespace (a library's own, "OPENSSL_3.0.0") is left out, as
 * the policies judge nothing there.  Versions required of the dynamic
 * loader (inspect.h's elf_is_loader) are left out too: the loader
 * is the libc's own half, and the tag's GLIBC list describes libc.so.6.
 *
 * The requirements come from .gnu.version_r (a version required with no
 * symbol using it still counts); the symbols that use each one, and every
 * undefined symbol with its binding (for the policies' blacklists), from
 * worker/elf/imports.h.  Objects of any machine, class and byte order are
 * read, through the room's reading layer (worker/elf/elffile.h); inputs
 * are hostile: a bad table is an error naming the file, never a crash.
 */
#ifndef SPOKE_WORKER_ELF_SYMVERS_H
#define SPOKE_WORKER_ELF_SYMVERS_H

#include <stddef.h>

#include "common/err.h"
#include "worker/elf/imports.h"

/* The judged namespaces, in the order messages and reports print them. */
enum symvers_ns {
	SYMVERS_GLIBC,
	SYMVERS_GLIBCXX,
	SYMVERS_CXXABI,
	SYMVERS_GCC,
	SYMVERS_ZLIB,
	SYMVERS_LIBATOMIC,
	SYMVERS_NNS
};

/* "GLIBC" for SYMVERS_GLIBC...; NULL out of range. */
const char *symvers_ns_name(int ns);

/* The namespace called name ("GLIBCXX"), or -1. */
int symvers_ns_find(const char *name);

/* One required version. */
struct symvers_need {
	int ns;		     /* enum symvers_ns */
	char *name;	     /* as the object writes it: "GLIBC_2.17" */
	const char *version; /* name past the namespace and '_': "2.17" */
	char *file;	     /* the library it is required of: "libc.so.6" */
	const char **syms;   /* the undefined symbols bound to it, in
			      * .dynsym order (pointing into imports) */
	size_t nsyms;
};

/* Owned by the struct: symvers_release(). */
struct symvers {
	struct symvers_need *needs; /* in .gnu.version_r order, each
				     * (file, name) once */
	size_t n;
	struct elf_imports imports; /* every undefined dynamic symbol */
};

/* Reads what the ELF image (in, len; only read) requires into out.  An
 * object without .gnu.version_r requires no version.  Returns 0, or -1
 * with e naming name: not ELF, truncated or corrupt, out of memory.  On
 * failure out holds nothing. */
int symvers_read_mem(const void *in, size_t len, const char *name,
		     struct symvers *out, struct sp_err *e);

/* The same on an open descriptor, read with pread (its offset is not
 * moved; the file is not read whole, so a big library costs its tables,
 * not its size). */
int symvers_read_fd(int fd, const char *name, struct symvers *out,
		    struct sp_err *e);

/* Frees everything s holds and zeroes it; safe on a zeroed struct and
 * twice. */
void symvers_release(struct symvers *s);

/* A dotted version as numbers, for "the highest per namespace": "2.17" is
 * {2, 17}, parts 2; ZLIB's "1.2.0.2" has four parts. */
struct symver {
	unsigned v[4];
	int parts;   /* how many numbers it was written with */
	int present; /* 0: nothing (no numeric version in the namespace) */
};

/* Parses a dotted version ("2.17", "3.4.29", "1.2.0.2") into v.  Returns
 * 0, or -1 when s is not 1 to 4 dot-separated decimal numbers below 65536
 * ("PRIVATE", "TM_1", "2.", "1.2.3.4.5"). */
int symver_parse(const char *s, struct symver *v);

/* Compares two versions by value (4.2 == 4.2.0); absent is lowest: <0,
 * 0, >0. */
int symver_cmp(const struct symver *a, const struct symver *b);

/* Formats v into buf as it was written: "2.17", "3.4.29", "1.2.0.2". */
void symver_format(const struct symver *v, char *buf, size_t n);

/* The highest numeric version s requires in each namespace, into
 * top[SYMVERS_NNS] (absent where it requires none; names that are not
 * numbers, "GLIBC_PRIVATE", are not ranked). */
void symvers_highest(const struct symvers *s, struct symver top[SYMVERS_NNS]);

/* Writes the highest version per namespace into buf as one line,
 * "GLIBC_2.17 GLIBCXX_3.4.29 ZLIB_1.2.9", or "" when s requires none
 * (truncated to n). */
void symvers_format_highest(const struct symvers *s, char *buf, size_t n);

#endif
