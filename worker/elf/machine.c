#include "worker/elf/machine.h"

#include <elf.h>
#include <stddef.h>

/* The host: a module for any other machine cannot be imported by the
 * interpreter that asked for it.  The 32-bit companion is the machine
 * whose libraries the host also loads (the patcher accepts them). */
#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#define HOST_MACHINE32 EM_386
#define HOST_CLASS ELFCLASS64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#define HOST_MACHINE32 EM_ARM
#define HOST_CLASS ELFCLASS64
#else
#error "spoke supports x86_64 and aarch64 hosts only"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

static const struct elf_machine machines[] = {
    {EM_X86_64, "x86_64", "x86_64"}, {EM_AARCH64, "aarch64", "aarch64"},
    {EM_386, "i386", NULL},	     {EM_ARM, "arm", NULL},
    {EM_PPC64, "ppc64", NULL},	     {EM_PPC, "ppc", NULL},
    {EM_S390, "s390x", NULL},	     {EM_RISCV, "riscv", NULL},
    {EM_MIPS, "mips", NULL},
};

const struct elf_machine *elf_machine_find(unsigned em)
{
	size_t i;

	for (i = 0; i < sizeof(machines) / sizeof(*machines); i++)
		if (machines[i].em == em)
			return &machines[i];
	return NULL;
}

const char *elf_machine_name(unsigned em)
{
	const struct elf_machine *m = elf_machine_find(em);

	return m ? m->name : NULL;
}

const char *elf_machine_policy_arch(unsigned em)
{
	const struct elf_machine *m = elf_machine_find(em);

	return m ? m->policy_arch : NULL;
}

unsigned elf_machine_host(int elfclass)
{
	switch (elfclass) {
	case ELFCLASS64:
		return HOST_MACHINE;
	case ELFCLASS32:
		return HOST_MACHINE32;
	default:
		return EM_NONE;
	}
}

int elf_machine_host_class(void)
{
	return HOST_CLASS;
}

int elf_machine_host_data(void)
{
	return HOST_DATA;
}

int elf_machine_check(unsigned em, unsigned want, const char *name,
		      struct sp_err *e)
{
	const char *m, *host = elf_machine_name(HOST_MACHINE);

	if (em == want)
		return 0;
	m = elf_machine_name(em);
	if (m)
		return sp_err_set(
		    e, "'%s' is built for %s, but this machine is %s", name, m,
		    host);
	return sp_err_set(
	    e, "'%s' is built for ELF machine %u, but this machine is %s", name,
	    em, host);
}
