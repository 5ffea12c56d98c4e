/*
 * Unit tests of worker/elf/imports: a real object's undefined symbols with
 * their versions and libraries (built here with cc, against glibc and
 * libm), weak and unversioned imports, an object without imports, and
 * hostile images (cut, flipped) that must give an error or a result,
 * never a crash.
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
#include "worker/elf/imports.h"

#define SCRATCH_NAME "imports"
#include "tests/unit/scratch.h"

static int have_cc;

/* pthread_create has a version of its own since glibc 2.34 (GLIBC_2.34
 * on x86_64), sqrt comes from libm, weak_one is a weak undefined
 * reference, and plain_one an unversioned import a later library would
 * define. */
static const char src[] =
    "#include <math.h>\n"
    "#include <pthread.h>\n"
    "extern void weak_one(void) __attribute__((weak));\n"
    "extern int plain_one(void);\n"
    "volatile double in = 16.0;\n"
    "static void *run(void *a) { return a; }\n"
    "int go(void) { pthread_t t; if (weak_one) weak_one();\n"
    "  pthread_create(&t, 0, run, 0);\n"
    "  return (int)sqrt(in) + plain_one(); }\n";

static int setup(void **state)
{
	char cmd[512];
	FILE *f;

	if (setup_dir(state) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/m.c", tmpdir);
	if (!(f = fopen(cmd, "w")) || fputs(src, f) < 0 || fclose(f) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && cc -shared -fPIC -fno-builtin -o m.so m.c "
		 "-Wl,--no-as-needed -lm -lpthread -Wl,--allow-shlib-undefined "
		 "2>/dev/null && printf 'int x = 1;\\n' > n.c && "
		 "cc -shared -fPIC -nostdlib -o n.so n.c 2>/dev/null",
		 tmpdir);
	have_cc = system(cmd) == 0;
	return 0;
}

static void *slurp(const char *name, size_t *len)
{
	struct sp_err e;
	char *p = tpath(name);
	void *b = fsx_read_all(p, len, &e);

	free(p);
	if (!b)
		fail_msg("%s", e.msg);
	return b;
}

static void test_real(void **state)
{
	const struct elf_import *im;
	struct elf_imports l, m;
	struct sp_err e;
	size_t len, i;
	char *path;
	void *img;
	int fd;

	(void)state;
	if (!have_cc)
		skip();
	img = slurp("m.so", &len);
	assert_int_equal(elf_imports_mem(img, len, "m.so", &l, &e), 0);

	im = elf_imports_find(&l, "sqrt");
	assert_non_null(im);
	assert_int_equal(im->type, STT_FUNC);
	assert_int_equal(im->bind, STB_GLOBAL);
	assert_non_null(im->version);
	assert_true(strncmp(im->version, "GLIBC_2.", 8) == 0);
	assert_string_equal(im->file, "libm.so.6");

	im = elf_imports_find(&l, "pthread_create");
	assert_non_null(im);
	assert_non_null(im->version);
	assert_true(strncmp(im->version, "GLIBC_2.", 8) == 0);
	assert_non_null(im->file);

	im = elf_imports_find(&l, "weak_one");
	assert_non_null(im);
	assert_int_equal(im->bind, STB_WEAK);
	assert_null(im->version);
	assert_null(im->file);

	im = elf_imports_find(&l, "plain_one");
	assert_non_null(im);
	assert_null(im->version);
	/* Definitions are not imports. */
	assert_null(elf_imports_find(&l, "go"));
	assert_null(elf_imports_find(&l, "in"));

	/* The descriptor gives the same list. */
	path = tpath("m.so");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(elf_imports_fd(fd, "m.so", &m, &e), 0);
	close(fd);
	free(path);
	assert_int_equal(m.n, l.n);
	for (i = 0; i < l.n; i++) {
		assert_string_equal(m.syms[i].name, l.syms[i].name);
		assert_true((m.syms[i].version == NULL) ==
			    (l.syms[i].version == NULL));
	}
	elf_imports_release(&m);
	elf_imports_release(&l);
	elf_imports_release(&l); /* safe twice */

	/* Every cut and a flip every few bytes: an error or a list, never a
	 * crash (the sanitizer build checks the reads). */
	for (i = 0; i < len; i += len / 199 + 1)
		if (elf_imports_mem(img, i, "m.so", &l, &e) == 0)
			elf_imports_release(&l);
	for (i = 0; i < len; i += len / 499 + 1) {
		((unsigned char *)img)[i] ^= 0xff;
		if (elf_imports_mem(img, len, "m.so", &l, &e) == 0)
			elf_imports_release(&l);
		((unsigned char *)img)[i] ^= 0xff;
	}
	assert_int_equal(elf_imports_mem("not elf", 7, "x", &l, &e), -1);
	assert_non_null(strstr(e.msg, "x"));
	free(img);
}

static void test_none(void **state)
{
	struct elf_imports l;
	struct sp_err e;
	size_t len;
	void *img;

	(void)state;
	if (!have_cc)
		skip();
	img = slurp("n.so", &len);
	assert_int_equal(elf_imports_mem(img, len, "n.so", &l, &e), 0);
	assert_int_equal(l.n, 0);
	elf_imports_release(&l);
	free(img);
}

/* A symbol whose .gnu.version index no .gnu.version_r entry defines is a
 * corrupt table, said so, not an unversioned import. */
static void test_bad_version_index(void **state)
{
	struct elf_imports l;
	struct sp_err e;
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;
	size_t len, i, k;
	void *img;
	uint16_t *vs;
	int hit = 0;

	(void)state;
	if (!have_cc)
		skip();
	img = slurp("m.so", &len);
	eh = img;
	assert_int_equal(eh->e_ident[EI_CLASS], ELFCLASS64);
	sh = (Elf64_Shdr *)((char *)img + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_GNU_versym)
			continue;
		vs = (uint16_t *)((char *)img + sh[i].sh_offset);
		for (k = 1; k < sh[i].sh_size / 2; k++)
			if (vs[k] >= 2) {
				vs[k] = 0x7ffe;
				hit = 1;
				break;
			}
	}
	assert_true(hit);
	assert_int_equal(elf_imports_mem(img, len, "m.so", &l, &e), -1);
	assert_non_null(strstr(e.msg, "truncated or corrupt"));
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real),
	    cmocka_unit_test(test_none),
	    cmocka_unit_test(test_bad_version_index),
	};

	return cmocka_run_group_tests(tests, setup, teardown_dir);
}
