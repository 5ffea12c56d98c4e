/*
 * machine.h - the one table of ELF machines spoke knows by name, and the
 * machine spoke runs on.
 *
 * Every message that names a machine ("built for ppc64, but this machine
 * is x86_64") and every policy lookup by architecture (repair/policy.h)
 * reads this table, so that the inspector, the patcher and the repair
 * cannot disagree about a machine again.  A machine missing from the
 * table is still reported, by its number.
 */
#ifndef SPOKE_WORKER_ELF_MACHINE_H
#define SPOKE_WORKER_ELF_MACHINE_H

#include "common/err.h"

struct elf_machine {
	unsigned em;		 /* EM_* of e_machine */
	const char *name;	 /* in messages: "x86_64", "ppc" */
	const char *policy_arch; /* the manylinux policy's name for it, or
				  * NULL: spoke has no policy for it */
};

/* The entry for e_machine em, or NULL when spoke does not know it.  The
 * entry is static: never freed. */
const struct elf_machine *elf_machine_find(unsigned em);

/* The name of em for messages ("aarch64"), or NULL when unknown. */
const char *elf_machine_name(unsigned em);

/* The manylinux policy's architecture for em ("x86_64"), or NULL when
 * spoke has no policy for it (every machine but x86_64 and aarch64). */
const char *elf_machine_policy_arch(unsigned em);

/* The e_machine a shared object of class elfclass (ELFCLASS32 or
 * ELFCLASS64) must have to load on this host: x86_64 and i386 on an
 * x86_64 host, aarch64 and arm on an aarch64 host.  EM_NONE for any
 * other class. */
unsigned elf_machine_host(int elfclass);

/* This host's native class (ELFCLASS64) and byte order (ELFDATA2LSB or
 * ELFDATA2MSB): a Python module must have both. */
int elf_machine_host_class(void);
int elf_machine_host_data(void);

/* Returns 0 when em equals want (one of elf_machine_host()'s), else -1
 * with e saying "'name' is built for <em>, but this machine is <host>",
 * em by its name or, when unknown, its number. */
int elf_machine_check(unsigned em, unsigned want, const char *name,
		      struct sp_err *e);

#endif
