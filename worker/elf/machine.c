#include "worker/elf/machine.h"

#include <elf.h>
#include <stddef.h>

/* glibc's elf.h has it since 2.36; the number is the psABI's. */
#ifndef EM_LOONGARCH
#define EM_LOONGARCH 258
#endif

/* The host: a module for any other machine cannot be imported by the
 * interpreter that asked for it.  The 32-bit companion is the machine
 * whose libraries the host also loads. */
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

/* The architectures auditwheel has policies for come first (which tags
 * cover which is data/policy.json's business); the others are named so
 * that a message or `spoke show` can say what an object is.  Entries with
 * data 0 take either byte order; the first entry that matches wins, so
 * armv7l's e_flags rule comes before armv5l's catch-all. */
static const struct elf_arch arches[] = {
    {EM_X86_64, ELFCLASS64, ELFDATA2LSB, 0, 0, "x86_64", "x86_64-linux-gnu",
     "x86_64-linux-gnu"},
    {EM_386, ELFCLASS32, ELFDATA2LSB, 0, 0, "i686", "i386-linux-gnu",
     "i686-linux-gnu"},
    {EM_AARCH64, ELFCLASS64, ELFDATA2LSB, 0, 0, "aarch64", "aarch64-linux-gnu",
     "aarch64-linux-gnu"},
    {EM_ARM, ELFCLASS32, ELFDATA2LSB, EF_ARM_EABIMASK | EF_ARM_ABI_FLOAT_HARD,
     EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_HARD, "armv7l", "arm-linux-gnueabihf",
     "arm-linux-gnueabihf"},
    {EM_PPC64, ELFCLASS64, ELFDATA2LSB, 0, 0, "ppc64le", "powerpc64le-linux-gnu",
     "powerpc64le-linux-gnu"},
    {EM_PPC64, ELFCLASS64, ELFDATA2MSB, 0, 0, "ppc64", "powerpc64-linux-gnu",
     "powerpc64-linux-gnu"},
    {EM_S390, ELFCLASS64, ELFDATA2MSB, 0, 0, "s390x", "s390x-linux-gnu",
     "s390x-linux-gnu"},
    {EM_RISCV, ELFCLASS64, ELFDATA2LSB, 0, 0, "riscv64", "riscv64-linux-gnu",
     "riscv64-linux-gnu"},
    {EM_LOONGARCH, ELFCLASS64, ELFDATA2LSB, 0, 0, "loongarch64",
     "loongarch64-linux-gnu", "loongarch64-linux-gnu"},
    /* Any other little-endian ARM object: soft-float (Debian's armel). */
    {EM_ARM, ELFCLASS32, ELFDATA2LSB, 0, 0, "armv5l", "arm-linux-gnueabi",
     "arm-linux-gnueabi"},
    {EM_X86_64, ELFCLASS32, ELFDATA2LSB, 0, 0, "x32", "x86_64-linux-gnux32",
     "x86_64-linux-gnux32"},
    {EM_AARCH64, ELFCLASS64, ELFDATA2MSB, 0, 0, "aarch64_be", "aarch64_be-linux-gnu",
     "aarch64_be-linux-gnu"},
    {EM_ARM, ELFCLASS32, ELFDATA2MSB, 0, 0, "armv7b", "armeb-linux-gnueabihf",
     "armeb-linux-gnueabihf"},
    {EM_PPC, ELFCLASS32, ELFDATA2MSB, 0, 0, "ppc", "powerpc-linux-gnu",
     "powerpc-linux-gnu"},
    {EM_S390, ELFCLASS32, ELFDATA2MSB, 0, 0, "s390", "s390-linux-gnu",
     "s390-linux-gnu"},
    {EM_RISCV, ELFCLASS32, ELFDATA2LSB, 0, 0, "riscv32", "riscv32-linux-gnu",
     "riscv32-linux-gnu"},
    {EM_MIPS, ELFCLASS64, ELFDATA2LSB, 0, 0, "mips64", "mips64el-linux-gnuabi64",
     "mips64el-linux-gnuabi64"},
    {EM_MIPS, ELFCLASS64, ELFDATA2MSB, 0, 0, "mips64", "mips64-linux-gnuabi64",
     "mips64-linux-gnuabi64"},
    {EM_MIPS, ELFCLASS32, ELFDATA2LSB, 0, 0, "mipsel", "mipsel-linux-gnu",
     "mipsel-linux-gnu"},
    {EM_MIPS, ELFCLASS32, ELFDATA2MSB, 0, 0, "mips", "mips-linux-gnu",
     "mips-linux-gnu"},
    {EM_SPARCV9, ELFCLASS64, ELFDATA2MSB, 0, 0, "sparc64", "sparc64-linux-gnu",
     "sparc64-linux-gnu"},
};

const char *elf_machine_name(unsigned em)
{
	size_t i;

	for (i = 0; i < sizeof(arches) / sizeof(*arches); i++)
		if (arches[i].em == em)
			return arches[i].name;
	return NULL;
}

const struct elf_arch *elf_arch_find(unsigned em, int elfclass, int data,
				     unsigned flags)
{
	size_t i;

	for (i = 0; i < sizeof(arches) / sizeof(*arches); i++)
		if (arches[i].em == em && arches[i].elfclass == elfclass &&
		    (!arches[i].data || arches[i].data == data) &&
		    (flags & arches[i].flags_mask) == arches[i].flags_want)
			return &arches[i];
	return NULL;
}

const char *elf_arch_name(unsigned em, int elfclass, int data,
			  unsigned flags)
{
	const struct elf_arch *a = elf_arch_find(em, elfclass, data, flags);

	return a ? a->name : NULL;
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

int elf_machine_check_host(unsigned em, int elfclass, int data,
			   const char *name, struct sp_err *e)
{
	if (elfclass != HOST_CLASS)
		return sp_err_set(
		    e, "'%s' is a %s ELF file; this machine needs %s", name,
		    elfclass == ELFCLASS32 ? "32-bit" : "64-bit",
		    HOST_CLASS == ELFCLASS64 ? "64-bit" : "32-bit");
	if (data != HOST_DATA)
		return sp_err_set(
		    e, "'%s' has the wrong byte order for this machine", name);
	return elf_machine_check(em, HOST_MACHINE, name, e);
}
