/*
 * test_elf_arch.c - the ELF room on objects of every architecture: the
 * machine table, inspect and patch of 32- and 64-bit, little- and
 * big-endian objects that tests/tools/mkelf.h writes byte by byte (so
 * what spoke reads back is checked against a writer that shares no code
 * with libelf), each field read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker/elf/inspect.h"
#include "worker/elf/machine.h"
#include "worker/elf/patch.h"

#include "tests/tools/mkelf.h"

#ifndef EM_LOONGARCH
#define EM_LOONGARCH 258
#endif

struct arch_case {
	unsigned em;
	int cls, data;
	uint32_t flags;
	const char *arch, *triplet, *interp;
	uint64_t align;
};

static const struct arch_case cases[] = {
    {EM_X86_64, ELFCLASS64, ELFDATA2LSB, 0, "x86_64", "x86_64-linux-gnu",
     "/lib64/ld-linux-x86-64.so.2", 0x1000},
    {EM_386, ELFCLASS32, ELFDATA2LSB, 0, "i686", "i386-linux-gnu",
     "/lib/ld-linux.so.2", 0x1000},
    {EM_AARCH64, ELFCLASS64, ELFDATA2LSB, 0, "aarch64", "aarch64-linux-gnu",
     "/lib/ld-linux-aarch64.so.1", 0x10000},
    {EM_ARM, ELFCLASS32, ELFDATA2LSB, 0x5000400, "armv7l", "arm-linux-gnueabihf",
     "/lib/ld-linux-armhf.so.3", 0x10000},
    {EM_PPC64, ELFCLASS64, ELFDATA2LSB, 0, "ppc64le", "powerpc64le-linux-gnu",
     "/lib64/ld64.so.2", 0x10000},
    {EM_PPC64, ELFCLASS64, ELFDATA2MSB, 0, "ppc64", "powerpc64-linux-gnu",
     "/lib64/ld64.so.1", 0x10000},
    {EM_S390, ELFCLASS64, ELFDATA2MSB, 0, "s390x", "s390x-linux-gnu",
     "/lib/ld64.so.1", 0x1000},
    {EM_RISCV, ELFCLASS64, ELFDATA2LSB, 0, "riscv64", "riscv64-linux-gnu",
     "/lib/ld-linux-riscv64-lp64d.so.1", 0x1000},
    {EM_LOONGARCH, ELFCLASS64, ELFDATA2LSB, 0, "loongarch64",
     "loongarch64-linux-gnu", "/lib64/ld-linux-loongarch-lp64d.so.1", 0x4000},
    /* Known names without policies, 32-bit big-endian among them. */
    {EM_PPC, ELFCLASS32, ELFDATA2MSB, 0, "ppc", "powerpc-linux-gnu",
     "/lib/ld.so.1", 0x10000},
    {EM_MIPS, ELFCLASS64, ELFDATA2MSB, 0, "mips64", "mips64-linux-gnuabi64",
     "/lib64/ld.so.1", 0x10000},
};

#define NCASES (sizeof(cases) / sizeof(*cases))

static unsigned char *build(const struct arch_case *c, const char *interp,
			    const char *const *needed, size_t nneeded,
			    unsigned spare, size_t *len)
{
	struct mkelf_spec sp = {0};
	unsigned char *img;

	sp.machine = c->em;
	sp.elfclass = c->cls;
	sp.data = c->data;
	sp.flags = c->flags;
	sp.soname = "libcase.so.1";
	sp.interp = interp;
	sp.needed = needed;
	sp.nneeded = nneeded;
	sp.align = c->align;
	sp.spare = spare;
	img = mkelf_build(&sp, len);
	assert_non_null(img);
	return img;
}

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		const struct arch_case *c = &cases[i];

		assert_string_equal(
		    elf_arch_name(c->em, c->cls, c->data, c->flags), c->arch);
		assert_string_equal(
		    elf_arch_find(c->em, c->cls, c->data, c->flags)->triplet,
		    c->triplet);
	}
	/* The byte order tells ppc64le from ppc64; the class s390x from
	 * s390. */
	assert_null(elf_arch_name(EM_X86_64, ELFCLASS64, ELFDATA2MSB, 0));
	assert_string_equal(elf_arch_name(EM_S390, ELFCLASS32, ELFDATA2MSB, 0),
			    "s390");
	assert_null(elf_arch_name(0x1234, ELFCLASS64, ELFDATA2LSB, 0));
	assert_null(elf_arch_find(0x1234, ELFCLASS64, ELFDATA2LSB, 0));
	/* ARM: armv7l is the hard-float EABI 5 (auditwheel's rule, and what
	 * arm-linux-gnueabihf-gcc writes: 0x5000400); a soft-float object
	 * (0x5000200, Debian's armel) or an older EABI is armv5l, which no
	 * policy covers.  Python tags mips64el as mips64, as uname -m
	 * does. */
	assert_string_equal(
	    elf_arch_name(EM_ARM, ELFCLASS32, ELFDATA2LSB, 0x5000400), "armv7l");
	assert_string_equal(
	    elf_arch_name(EM_ARM, ELFCLASS32, ELFDATA2LSB, 0x5000200), "armv5l");
	assert_string_equal(
	    elf_arch_name(EM_ARM, ELFCLASS32, ELFDATA2LSB, 0x4000400), "armv5l");
	assert_string_equal(
	    elf_arch_name(EM_MIPS, ELFCLASS64, ELFDATA2LSB, 0), "mips64");
}

/* An identity's label: its architecture, or its machine's number. */
static void test_label(void **state)
{
	struct elf_ident id = {.elfclass = ELFCLASS64, .data = ELFDATA2MSB,
			       .machine = EM_PPC64};
	char buf[32];

	(void)state;
	id.arch = elf_arch_name(id.machine, id.elfclass, id.data, 0);
	assert_string_equal(elf_ident_label(&id, buf, sizeof(buf)), "ppc64");
	id.machine = 0x1234;
	id.arch = elf_arch_name(id.machine, id.elfclass, id.data, 0);
	assert_string_equal(elf_ident_label(&id, buf, sizeof(buf)),
			    "ELF machine 4660");
}

static void check_info(const struct arch_case *c, const struct elf_info *in,
		       const char *soname, const char *const *needed,
		       size_t nneeded)
{
	size_t i;

	assert_int_equal(in->id.elfclass, c->cls);
	assert_int_equal(in->id.data, c->data);
	assert_int_equal(in->id.machine, c->em);
	assert_string_equal(in->id.arch, c->arch);
	assert_string_equal(in->soname, soname);
	assert_int_equal(in->nneeded, nneeded);
	for (i = 0; i < nneeded; i++)
		assert_string_equal(in->needed[i], needed[i]);
}

static void test_inspect(void **state)
{
	static const char *const needed[] = {"libc.so.6", "libfoo.so.1"};
	struct elf_info info;
	struct sp_err e;
	unsigned char *img;
	size_t i, len;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		const struct arch_case *c = &cases[i];

		img = build(c, c->interp, needed, 2, 0, &len);
		if (elf_inspect_mem(img, len, c->arch, &info, &e) < 0)
			fail_msg("%s: %s", c->arch, e.msg);
		check_info(c, &info, "libcase.so.1", needed, 2);
		assert_string_equal(info.interp, c->interp);
		assert_null(info.runpath);
		assert_int_equal(elf_info_libc(&info), ELF_LIBC_GLIBC);
		elf_info_release(&info);
		free(img);
	}
}

/* The object's new PT_LOAD, when the patch appended one, is aligned as
 * the object's own segments (64 KiB pages on ppc64 and aarch64). */
static void check_segments(const struct arch_case *c, const void *img,
			   size_t len, int appended)
{
	Elf *elf;
	GElf_Phdr ph;
	size_t n, i, loads = 0;

	elf_version(EV_CURRENT);
	elf = elf_memory((char *)(uintptr_t)img, len);
	assert_non_null(elf);
	assert_int_equal(elf_getphdrnum(elf, &n), 0);
	for (i = 0; i < n; i++) {
		assert_non_null(gelf_getphdr(elf, (int)i, &ph));
		if (ph.p_type != PT_LOAD)
			continue;
		loads++;
		assert_int_equal(ph.p_align, c->align);
		assert_int_equal(ph.p_offset % c->align, ph.p_vaddr % c->align);
		assert_true(ph.p_offset + ph.p_filesz <= len);
	}
	assert_int_equal(loads, appended ? 2 : 1);
	elf_end(elf);
}

static void test_patch(void **state)
{
	static const char *const needed[] = {"libc.so.6", "libfoo.so.1",
					     "libgone.so"};
	static const char *const rold[] = {"libfoo.so.1"};
	static const char *const rnew[] = {
	    "libfoo-0123abcd.so.1.with.a.much.longer.name"};
	static const char *const add[] = {"libadded.so.2"};
	static const char *const rm[] = {"libgone.so"};
	static const char *const after[] = {
	    "libadded.so.2", "libc.so.6",
	    "libfoo-0123abcd.so.1.with.a.much.longer.name"};
	struct elf_edit ed = {0};
	struct elf_info info;
	struct sp_err e;
	unsigned char *img;
	void *out;
	size_t i, len, olen;

	(void)state;
	ed.set_rpath = "$ORIGIN/../case.libs:$ORIGIN";
	ed.set_soname = "libcase-0123abcd.so.1";
	ed.replace_old = rold;
	ed.replace_new = rnew;
	ed.nreplace = 1;
	ed.add_needed = add;
	ed.nadd = 1;
	ed.remove_needed = rm;
	ed.nremove = 1;
	for (i = 0; i < NCASES; i++) {
		const struct arch_case *c = &cases[i];

		img = build(c, NULL, needed, 3, 0, &len);
		if (elf_patch_mem(img, len, c->arch, &ed, &out, &olen, &e) < 0)
			fail_msg("%s: %s", c->arch, e.msg);
		if (elf_inspect_mem(out, olen, c->arch, &info, &e) < 0)
			fail_msg("%s: %s", c->arch, e.msg);
		check_info(c, &info, "libcase-0123abcd.so.1", after, 3);
		assert_string_equal(info.runpath,
				    "$ORIGIN/../case.libs:$ORIGIN");
		assert_null(info.rpath);
		assert_null(info.interp);
		check_segments(c, out, olen, 1);
		elf_info_release(&info);
		free(out);

		/* Forced DT_RPATH. */
		{
			struct elf_edit f = {.set_rpath = "$ORIGIN/x",
					     .force_rpath = 1};

			if (elf_patch_mem(img, len, c->arch, &f, &out, &olen,
					  &e) < 0)
				fail_msg("%s: %s", c->arch, e.msg);
			if (elf_inspect_mem(out, olen, c->arch, &info, &e) < 0)
				fail_msg("%s: %s", c->arch, e.msg);
			assert_string_equal(info.rpath, "$ORIGIN/x");
			assert_null(info.runpath);
			check_info(c, &info, "libcase.so.1", needed, 3);
			elf_info_release(&info);
			free(out);
		}
		free(img);

		/* Spare slots and strings that fit: edited in place, no
		 * segment added, the file's size unchanged. */
		img = build(c, NULL, needed, 3, 4, &len);
		{
			struct elf_edit f = {.remove_needed = rm,
					     .nremove = 1,
					     .set_soname = "libgone.so"};

			if (elf_patch_mem(img, len, c->arch, &f, &out, &olen,
					  &e) < 0)
				fail_msg("%s: %s", c->arch, e.msg);
			assert_int_equal(olen, len);
			if (elf_inspect_mem(out, olen, c->arch, &info, &e) < 0)
				fail_msg("%s: %s", c->arch, e.msg);
			check_info(c, &info, "libgone.so", needed, 2);
			check_segments(c, out, olen, 0);
			elf_info_release(&info);
			free(out);
		}
		free(img);
	}
}

static void test_libc(void **state)
{
	static const char *const musl[] = {"libc.musl-x86_64.so.1"};
	static const char *const debian_musl[] = {"libc.so"};
	static const char *const glibc[] = {"libm.so.6", "libc.so.6"};
	static const char *const none[] = {"libfoo.so"};
	static const char *const near[] = {"libc.musl-x86_64.so.2",
					   "libc.so.7"};
	static const struct {
		const char *interp;
		const char *const *needed;
		size_t n;
		enum elf_libc want;
	} t[] = {
	    {NULL, musl, 1, ELF_LIBC_MUSL},
	    /* "libc.so" is both musl-gcc's link name and the soname of
	     * Android's bionic: it tells nothing. */
	    {NULL, debian_musl, 1, ELF_LIBC_UNKNOWN},
	    {NULL, glibc, 2, ELF_LIBC_GLIBC},
	    {NULL, none, 1, ELF_LIBC_UNKNOWN},
	    {NULL, near, 2, ELF_LIBC_UNKNOWN},
	    {"/lib/ld-musl-aarch64.so.1", none, 1, ELF_LIBC_MUSL},
	    {"/lib64/ld-linux-x86-64.so.2", none, 1, ELF_LIBC_GLIBC},
	    {"/lib64/ld64.so.2", none, 1, ELF_LIBC_GLIBC},
	    {"/lib/ld64.so.1", none, 1, ELF_LIBC_GLIBC},
	    /* No loader of any architecture: the DT_NEEDED decide. */
	    {"/lib/ld64.so.3", none, 1, ELF_LIBC_UNKNOWN},
	    /* The loader decides over a misleading DT_NEEDED. */
	    {"/lib/ld-musl-x86_64.so.1", glibc, 2, ELF_LIBC_MUSL},
	};
	struct elf_info info;
	struct sp_err e;
	unsigned char *img;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		img =
		    build(&cases[0], t[i].interp, t[i].needed, t[i].n, 0, &len);
		if (elf_inspect_mem(img, len, "libc", &info, &e) < 0)
			fail_msg("%s", e.msg);
		if (elf_info_libc(&info) != t[i].want)
			fail_msg("case %zu: libc %d", i,
				 (int)elf_info_libc(&info));
		elf_info_release(&info);
		free(img);
	}
}

/* The loaders of every architecture with policies, by soname or path;
 * their look-alikes are not loaders. */
static void test_loader(void **state)
{
	static const char *const yes[] = {
	    "ld-linux-x86-64.so.2", "ld-linux.so.2", "ld-linux-aarch64.so.1",
	    "ld-linux-armhf.so.3", "ld-linux-riscv64-lp64d.so.1",
	    "ld-linux-loongarch-lp64d.so.1", "ld64.so.2", "ld64.so.1",
	    "/lib/ld64.so.1", "ld-musl-x86_64.so.1", "/lib/ld-musl-armhf.so.1"};
	static const char *const no[] = {"ld64.so.3", "libld-linux.so",
					 "ld.so", "libc.so.6", "ld-musl.so",
					 "/ld-linux/libfoo.so", ""};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		if (!elf_is_loader(yes[i]))
			fail_msg("'%s' is a loader", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(*no); i++)
		if (elf_is_loader(no[i]))
			fail_msg("'%s' is no loader", no[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_inspect),
	    cmocka_unit_test(test_patch),
	    cmocka_unit_test(test_libc),
	    cmocka_unit_test(test_loader),
	    cmocka_unit_test(test_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
