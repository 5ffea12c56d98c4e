/*
 * Unit tests of worker/elf/elffile (the room's reading layer) and
 * worker/elf/machine (its one machine table): opening from memory and
 * from a descriptor, the tables checked against the file, a cut image
 * refused rather than read as empty, and a read the disk failed reported
 * as EIO, not as a corrupt file.
 */
#define _GNU_SOURCE
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsx.h"
#include "worker/elf/elffile.h"
#include "worker/elf/machine.h"

#include "tests/unit/failing_pread.h"

/* This test program itself: an ELF file of the host's kind. */
#define SELF "/proc/self/exe"

static void test_machine_table(void **state)
{
	struct sp_err e;

	(void)state;
	assert_string_equal(elf_machine_name(EM_X86_64), "x86_64");
	assert_string_equal(elf_machine_name(EM_AARCH64), "aarch64");
	assert_string_equal(elf_machine_name(EM_PPC), "ppc");
	/* Without a byte order, the first of the table. */
	assert_string_equal(elf_machine_name(EM_PPC64), "ppc64le");
	assert_string_equal(elf_machine_name(EM_386), "i686");
	assert_null(elf_machine_name(0x1234));
	/* Every architecture auditwheel has policies for is named; the
	 * policy loader says when spoke has no policy for one. */
	assert_int_equal(elf_machine_host(ELFCLASSNONE), EM_NONE);
#if defined(__x86_64__)
	assert_int_equal(elf_machine_host(ELFCLASS64), EM_X86_64);
	assert_int_equal(elf_machine_host(ELFCLASS32), EM_386);
#elif defined(__aarch64__)
	assert_int_equal(elf_machine_host(ELFCLASS64), EM_AARCH64);
	assert_int_equal(elf_machine_host(ELFCLASS32), EM_ARM);
#endif
	assert_int_equal(elf_machine_check(EM_PPC, EM_S390, "a.so", &e), -1);
	assert_non_null(strstr(e.msg, "'a.so' is built for ppc, but this "
				      "machine is "));
	assert_int_equal(elf_machine_check(0x1234, EM_S390, "a.so", &e), -1);
	assert_non_null(strstr(e.msg, "ELF machine 4660"));
	assert_int_equal(elf_machine_check(EM_S390, EM_S390, "a.so", &e), 0);
}

static void test_not_elf(void **state)
{
	struct elf_file f;
	struct sp_err e;

	(void)state;
	assert_int_equal(elf_file_open_mem(&f, NULL, 0, "empty", &e), -1);
	assert_non_null(strstr(e.msg, "'empty' is not an ELF file"));
	assert_int_equal(elf_file_open_mem(&f, "hello", 5, "text", &e), -1);
	assert_non_null(strstr(e.msg, "'text' is not an ELF file"));
	assert_int_equal(elf_file_open_mem(&f, "!<arch>\n", 8, "lib.a", &e),
			 -1);
	assert_non_null(strstr(e.msg, "'lib.a' is a static archive"));
}

static void test_tables(void **state)
{
	struct elf_file f;
	struct sp_err e;
	GElf_Phdr *ph;
	GElf_Shdr *sh, s;
	Elf_Scn *scn = NULL;
	size_t len, nph, nsh;
	char *img;
	int n = 0, more;

	(void)state;
	img = fsx_read_all(SELF, &len, &e);
	assert_non_null(img);
	assert_int_equal(elf_file_open_mem(&f, img, len, "self", &e), 0);
	assert_int_equal(f.size, len);
	assert_int_equal(elf_file_check_ident(&f, &e), 0);
	assert_int_equal(elf_machine_check_host(f.ehdr.e_machine,
						f.ehdr.e_ident[EI_CLASS],
						f.ehdr.e_ident[EI_DATA], "self",
						&e),
			 0);
	assert_int_equal(elf_file_phdrs(&f, 1, &ph, &nph, &e), 0);
	assert_true(nph > 0);
	/* The spare entry is zeroed for the caller. */
	assert_int_equal(ph[nph].p_type, PT_NULL);
	assert_int_equal(elf_file_shdrs(&f, &sh, &nsh, &e), 0);
	assert_true(nsh > 0);
	while ((more = elf_file_next_section(&f, SHT_PROGBITS, &scn, &s, &e))) {
		assert_int_equal(more, 1);
		assert_int_equal(s.sh_type, SHT_PROGBITS);
		n++;
	}
	assert_true(n > 0);
	/* Outside the file, a chunk names what it was asked for. */
	assert_null(elf_file_chunk(&f, len, 1, ELF_T_BYTE, "thing", &e));
	assert_non_null(strstr(e.msg, "the thing lies outside the file"));
	free(ph);
	free(sh);
	elf_file_close(&f);
	elf_file_close(&f);

	/* Cut before the section header table (at the end of the file):
	 * the sections are missing, not absent. */
	assert_int_equal(elf_file_open_mem(&f, img, len - 64, "cut", &e), 0);
	scn = NULL;
	assert_int_equal(elf_file_next_section(&f, SHT_DYNSYM, &scn, &s, &e),
			 -1);
	assert_non_null(strstr(e.msg, "'cut' is truncated or corrupt: the "
				      "section headers lie outside the file"));
	/* The patcher's reading: what libelf could not find is no table
	 * (elffile.h says why). */
	assert_int_equal(elf_file_shdrs(&f, &sh, &nsh, &e), 0);
	assert_int_equal(nsh, 0);
	assert_null(sh);
	elf_file_close(&f);
	free(img);
}

/* A read the disk fails after the header is EIO, named as such, not a
 * corrupt file (elf_lib_fail). */
static void test_read_error(void **state)
{
	struct elf_file f;
	struct sp_err e;
	int fd;

	(void)state;
	fd = open(SELF, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(elf_file_open_fd(&f, fd, "self", &e), 0);
	eio_fd = fd;
	eio_after = 0;
	/* libelf reads a chunk from the descriptor when asked for it. */
	assert_null(elf_file_chunk(&f, 0, 64, ELF_T_BYTE, "start", &e));
	eio_fd = -1;
	assert_non_null(strstr(e.msg, "cannot read 'self': "));
	assert_non_null(strstr(e.msg, strerror(EIO)));
	elf_file_close(&f);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_machine_table),
	    cmocka_unit_test(test_not_elf),
	    cmocka_unit_test(test_tables),
	    cmocka_unit_test(test_read_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
