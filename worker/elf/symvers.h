/*
 * symvers.h - the symbol versions an ELF object requires (.gnu.version_r).
 *
 * The manylinux policy is a ceiling per version namespace: a wheel runs on
 * a system whose glibc, libstdc++ and libgcc provide at least the highest
 * GLIBC_x.y, GLIBCXX_x.y.z, CXXABI_x.y.z and GCC_x.y.z its objects need.
 *
 * Objects of any machine, class and byte order are read, through the
 * room's reading layer (worker/elf/elffile.h).
 */
#ifndef SPOKE_WORKER_ELF_SYMVERS_H
#define SPOKE_WORKER_ELF_SYMVERS_H

#include <stddef.h>

#include "common/err.h"

/* A dotted version as numbers: "2.17" -> {2, 17, 0}, parts 2. */
struct symver {
	unsigned v[3];
	int parts;   /* how many numbers it was written with, so that
		      * GCC_4.2.0 prints as 4.2.0 and GLIBC_2.17 as 2.17 */
	int present; /* 0: the object requires nothing in this namespace */
};

struct symvers {
	struct symver glibc;   /* GLIBC_x.y */
	struct symver glibcxx; /* GLIBCXX_x.y.z */
	struct symver cxxabi;  /* CXXABI_x.y.z */
	struct symver gcc;     /* GCC_x.y.z */
};

/* Reads the highest required version per namespace from the ELF image
 * (in, len; only read) into out.  An object without .gnu.version_r
 * requires nothing (all absent).  Returns 0, or -1 with e naming name:
 * not ELF, truncated or corrupt.  Hostile input gives an error, never a
 * crash. */
int symvers_read_mem(const void *in, size_t len, const char *name,
		     struct symvers *out, struct sp_err *e);

/* Same for the file open on fd, read through libelf with pread (the
 * section headers and the version tables only: a library is never read
 * whole for this).  fd's offset is not moved. */
int symvers_read_fd(int fd, const char *name, struct symvers *out,
		    struct sp_err *e);

/* Same for the file at path, read whole into memory and freed. */
int symvers_read_file(const char *path, struct symvers *out,
		      struct sp_err *e);

/* Folds b into a: the per-namespace maximum. */
void symvers_merge(struct symvers *a, const struct symvers *b);

/* Parses a dotted version ("2.17", "3.4.29", "11.0") into v.  Returns 0,
 * or -1 when s is not 1 to 3 dot-separated decimal numbers below 65536
 * ("PRIVATE", "TM_1", "2.", "1.2.3.4"). */
int symver_parse(const char *s, struct symver *v);

/* Compares two versions by value (4.2 == 4.2.0): <0, 0, >0. */
int symver_cmp(const struct symver *a, const struct symver *b);

/* Formats v into buf as it was written: "2.17", "3.4.29", "4.2.0". */
void symver_format(const struct symver *v, char *buf, size_t n);

#endif
