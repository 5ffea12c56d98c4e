/*
 * Unit tests of worker/elf/debugsplit on this test's own executable (built
 * with debug info), and truncated and corrupted copies of it.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsx.h"
#include "worker/elf/debugsplit.h"

static void *self(size_t *len)
{
	struct sp_err e;
	void *p = fsx_read_all("/proc/self/exe", len, &e);

	assert_non_null(p);
	return p;
}

/* Section names of an image, through its own headers. */
static int has_section(const uint8_t *p, const char *want)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, str;
	size_t i;

	memcpy(&eh, p, sizeof(eh));
	memcpy(&str, p + eh.e_shoff + eh.e_shstrndx * sizeof(sh), sizeof(sh));
	for (i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, p + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (!strcmp((const char *)p + str.sh_offset + sh.sh_name, want))
			return 1;
	}
	return 0;
}

static void test_split_self(void **state)
{
	struct debugsplit d;
	struct sp_err e;
	size_t len;
	void *p = self(&len);
	char *rel;

	(void)state;
	if (!has_section(p, ".debug_info")) {
		free(p);
		skip();
	}
	assert_int_equal(debugsplit_mem(p, len, "self", "self.debug", 3, &d,
					&e),
			 0);
	assert_non_null(d.debug);
	assert_non_null(d.stripped);
	assert_true(d.stripped_len < len);
	assert_true(d.debug_len < d.dwarf_len);
	assert_false(has_section(d.stripped, ".debug_info"));
	assert_true(has_section(d.stripped, ".gnu_debuglink"));
	assert_true(has_section(d.debug, ".debug_info"));
	/* The loaded bytes after the ELF header are untouched. */
	assert_memory_equal((uint8_t *)d.stripped + sizeof(Elf64_Ehdr),
			    (uint8_t *)p + sizeof(Elf64_Ehdr),
			    4096 - sizeof(Elf64_Ehdr));
	rel = debugsplit_rel_path(&d);
	if (d.build_id) {
		assert_non_null(rel);
		assert_memory_equal(rel, ".build-id/", 10);
	}
	free(rel);
	debugsplit_release(&d);
	free(p);
}

/* Every truncation and many corruptions fail cleanly or succeed: never a
 * crash (run under valgrind or ASan to see reads out of bounds). */
static void test_hostile(void **state)
{
	struct debugsplit d;
	struct sp_err e;
	size_t len, cut, i;
	uint8_t *p = self(&len), *q = malloc(len);
	Elf64_Ehdr eh;

	(void)state;
	assert_non_null(q);
	for (cut = 0; cut < len; cut += cut < 256 ? 1 : len / 97)
		if (debugsplit_mem(p, cut, "cut", "x.debug", 1, &d, &e) == 0)
			debugsplit_release(&d);
	memcpy(&eh, p, sizeof(eh));
	srand(1);
	for (i = 0; i < 300; i++) {
		size_t k, off;

		memcpy(q, p, len);
		for (k = 0; k < 8; k++) {
			/* The headers and the section header table are what
			 * is parsed. */
			off = (size_t)rand() % 2 ? (size_t)rand() % 64
				: eh.e_shoff + (size_t)rand() %
					(eh.e_shnum * sizeof(Elf64_Shdr));
			if (off < len)
				q[off] = (uint8_t)rand();
		}
		if (debugsplit_mem(q, len, "bad", "x.debug", 1, &d, &e) == 0)
			debugsplit_release(&d);
	}
	assert_int_equal(debugsplit_mem("garbage", 7, "g", "x", 1, &d, &e),
			 -1);
	assert_non_null(strstr(e.msg, "'g'"));
	free(p);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_self),
	    cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
