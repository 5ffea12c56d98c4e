/*
 * machine.h - the one table of ELF machines spoke knows by name, and the
 * machine spoke runs on.
 *
 * Every message that names a machine ("built for ppc64, but this machine
 * is x86_64"), every wheel architecture ("aarch64", "ppc64le"), every
 * library search directory of a foreign object ("/usr/lib/s390x-linux-gnu")
 * and every policy lookup by architecture (repair/policy.h) reads this
 * table, so that the inspector, the patcher, the resolver and the repair
 * cannot disagree about a machine again.  A machine missing from the table
 * is still reported, by its number.
 *
 * An architecture is not a machine number alone: EM_PPC64 is ppc64le or
 * ppc64 by its byte order, EM_S390 is s390x only in 64-bit, EM_MIPS is
 * four architectures, and EM_ARM is armv7l only with the hard-float EABI
 * 5 that armv7l's policies (and auditwheel) require: a soft-float object
 * is armv5l's, which has none.  So the architecture is looked up by
 * (machine, class, byte order, e_flags): elf_arch_find().
 */
#ifndef SPOKE_WORKER_ELF_MACHINE_H
#define SPOKE_WORKER_ELF_MACHINE_H

#include "common/err.h"

/* One Linux architecture: what a wheel's platform tag calls the objects of
 * one (machine, class, byte order). */
struct elf_arch {
	unsigned em;	     /* EM_* */
	int elfclass;	     /* ELFCLASS32 or ELFCLASS64 */
	int data;	     /* ELFDATA2LSB, ELFDATA2MSB, or 0: either */
	unsigned flags_mask; /* e_flags & flags_mask must be flags_want */
	unsigned flags_want;
	const char *name;    /* as wheel tags spell it: "ppc64le" */
	const char *triplet; /* Debian's multiarch triplet */
	const char *cross;   /* the GNU triplet of Debian's cross
			      * toolchain (/usr/<cross>/lib): the
			      * multiarch one but for i686 */
};

/* The architecture of objects of machine em, class elfclass, byte order
 * data and e_flags flags, or NULL when spoke does not know one (static:
 * never freed). */
const struct elf_arch *elf_arch_find(unsigned em, int elfclass, int data,
				     unsigned flags);

/* The wheel platform architecture of such objects as auditwheel and wheel
 * tags spell it ("x86_64", "i686", "aarch64", "armv7l", "ppc64le",
 * "ppc64", "s390x", "riscv64", "loongarch64", and names without policies
 * such as "mips64" and "armv5l"), or NULL when unknown.  Static storage. */
const char *elf_arch_name(unsigned em, int elfclass, int data,
			  unsigned flags);

/* The name of machine em alone, for messages that know no class or byte
 * order: the table's first architecture of em ("x86_64", "i686",
 * "ppc64le" for EM_PPC64, "s390x" for EM_S390), or NULL when spoke knows
 * none.  Static storage.  Prefer elf_arch_name(), which is exact. */
const char *elf_machine_name(unsigned em);

/* The e_machine a shared object of class elfclass (ELFCLASS32 or
 * ELFCLASS64) must have to load on this host: x86_64 and i386 on an
 * x86_64 host, aarch64 and arm on an aarch64 host.  EM_NONE for any
 * other class. */
unsigned elf_machine_host(int elfclass);

/* Returns 0 when em equals want (one of elf_machine_host()'s), else -1
 * with e saying "'name' is built for <em>, but this machine is <host>",
 * em by its name or, when unknown, its number. */
int elf_machine_check(unsigned em, unsigned want, const char *name,
		      struct sp_err *e);

/* Checks that an object of machine em, class elfclass and byte order data
 * is one the interpreter of this host imports (its class, byte order and
 * machine: what `spoke build` packages must be).  Returns 0, or -1 with e
 * naming name and what differs. */
int elf_machine_check_host(unsigned em, int elfclass, int data,
			   const char *name, struct sp_err *e);

#endif
