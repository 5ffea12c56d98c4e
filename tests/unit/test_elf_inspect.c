/*
 * Unit tests of worker/elf/inspect: the system's libc, small objects built here with
 * cc, and hostile input (truncated and mutated copies) that must give errors,
 * never crashes.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/fsx.h"
#include "worker/elf/inspect.h"

#include "tests/unit/failing_pread.h"

#if defined(__x86_64__)
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define LOADER "ld-linux-x86-64.so.2"
#define OTHER_MACHINE EM_AARCH64
#define OTHER_NAME "aarch64"
#else
#define LIBC "/lib/aarch64-linux-gnu/libc.so.6"
#define LOADER "ld-linux-aarch64.so.1"
#define OTHER_MACHINE EM_X86_64
#define OTHER_NAME "x86_64"
#endif

static char tmpdir[64];
static int have_cc, have_static;

static const char module_src[] =
    "#include <math.h>\n"
    "void *PyInit_x(void);\n"
    "__attribute__((visibility(\"hidden\"))) int hidden_fn(void)"
    " { return 1; }\n"
    "int exported_data = 3;\n"
    "extern int printf(const char *, ...);\n"
    "void *PyInit_x(void) { printf(\"%d\", hidden_fn());"
    " return (void *)0; }\n"
    "double use_m(double v) { return sqrt(v) + exported_data; }\n";

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A plain write: these scratch files need no durability. */
static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/spoke-elf-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	if (chdir(tmpdir) < 0)
		return -1;
	write_file("m.c", module_src, strlen(module_src));
	write_file("main.c", "int main(void) { return 0; }\n", 29);
	/* Everything that needs a compiler is skipped without one. */
	have_cc =
	    run("cc -shared -fPIC -o m.so m.c -Wl,--no-as-needed -lm "
		"-Wl,-soname,libm_test.so.1 "
		"-Wl,--enable-new-dtags,-rpath,'$ORIGIN/lib' 2>/dev/null &&"
		" cc -shared -fPIC -o r.so m.c "
		"-Wl,--disable-new-dtags,-rpath,/opt/x &&"
		" cc -c -fPIC -o m.o m.c &&"
		" cc -pie -fPIE -o pie main.c -Wl,--no-as-needed -lm"
		" -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib' &&"
		" cc -no-pie -fno-PIE -o exec main.c -Wl,--no-as-needed -lm"
		" -Wl,--disable-new-dtags,-rpath,/opt/e") == 0;
	have_static =
	    have_cc && run("cc -static -o static main.c 2>/dev/null") == 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return run("rm -rf '%s'", tmpdir) == 0 ? 0 : -1;
}

static void expect_fail(const char *path, const char *needle)
{
	struct elf_info info;
	struct sp_err e;

	sp_err_clear(&e);
	if (elf_inspect(path, &info, &e) == 0)
		fail_msg("'%s' was accepted", path);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' lacks '%s'", e.msg, needle);
	/* A failed call leaves nothing to release. */
	assert_null(info.needed);
	assert_null(info.soname);
}

static void test_libc(void **state)
{
	struct elf_info info;
	struct sp_err e;
	size_t i;
	int found = 0;

	(void)state;
	if (access(LIBC, R_OK) < 0)
		skip();
	if (elf_inspect(LIBC, &info, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(info.id.elfclass, ELFCLASS64);
	assert_string_equal(info.soname, "libc.so.6");
	for (i = 0; i < info.nneeded; i++)
		found |= strcmp(info.needed[i], LOADER) == 0;
	assert_true(found);
	elf_info_release(&info);

	assert_int_equal(elf_exports(LIBC, "printf", &e), 1);
	assert_int_equal(elf_exports(LIBC, "environ", &e), 1);
	assert_int_equal(elf_exports(LIBC, "no_such_symbol", &e), 0);
}

static void test_not_libraries(void **state)
{
	(void)state;
	write_file("text", "hello, world\n", 13);
	write_file("empty", "", 0);
	expect_fail("text", "'text' is not an ELF file");
	expect_fail("empty", "'empty' is not an ELF file");
	expect_fail("no-such-file", "cannot open 'no-such-file'");
	expect_fail(".", "not a regular file");
	if (access("/bin/true", R_OK) == 0)
		expect_fail(
		    "/bin/true",
		    "'/bin/true' is an executable, not a shared library");
	if (!have_cc)
		skip();
	expect_fail("pie", "'pie' is an executable, not a shared library");
	expect_fail("m.o", "'m.o' is an object file");
}

/* Inspects path with elf_inspect_object_fd into info. */
static void inspect_object(const char *path, struct elf_info *info)
{
	struct sp_err e;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	if (elf_inspect_object_fd(fd, path, info, &e) < 0)
		fail_msg("%s", e.msg);
	close(fd);
}

/* The repair's entry point takes executables, PIE or not, and static
 * ones; a library reads as elf_inspect reads it; an object file is still
 * refused. */
static void test_objects(void **state)
{
	struct elf_info info;
	struct sp_err e;
	int fd;

	(void)state;
	if (!have_cc)
		skip();
	inspect_object("pie", &info);
	assert_int_equal(info.id.type, ET_DYN);
	assert_true(info.id.pie);
	assert_int_equal(info.nneeded, 2);
	assert_string_equal(info.needed[0], "libm.so.6");
	assert_string_equal(info.runpath, "$ORIGIN/../lib");
	assert_null(info.rpath);
	assert_non_null(info.interp);
	assert_int_equal(elf_info_libc(&info), ELF_LIBC_GLIBC);
	elf_info_release(&info);

	inspect_object("exec", &info);
	assert_int_equal(info.id.type, ET_EXEC);
	assert_false(info.id.pie);
	assert_string_equal(info.needed[0], "libm.so.6");
	assert_string_equal(info.rpath, "/opt/e");
	assert_null(info.soname);
	elf_info_release(&info);

	inspect_object("m.so", &info);
	assert_false(info.id.pie);
	assert_string_equal(info.soname, "libm_test.so.1");
	elf_info_release(&info);

	fd = open("m.o", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(elf_inspect_object_fd(fd, "m.o", &info, &e), -1);
	assert_non_null(strstr(e.msg, "'m.o' is an object file"));
	close(fd);

	if (!have_static)
		return;
	inspect_object("static", &info);
	assert_int_equal(info.nneeded, 0);
	assert_null(info.rpath);
	assert_null(info.runpath);
	elf_info_release(&info);
}

static void test_built_module(void **state)
{
	struct elf_info info;
	struct sp_err e;

	(void)state;
	if (!have_cc)
		skip();
	if (elf_inspect("m.so", &info, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(info.nneeded, 2);
	assert_string_equal(info.needed[0], "libm.so.6");
	assert_string_equal(info.needed[1], "libc.so.6");
	assert_string_equal(info.soname, "libm_test.so.1");
	assert_string_equal(info.runpath, "$ORIGIN/lib");
	assert_null(info.rpath);
	elf_info_release(&info);

	if (elf_inspect("r.so", &info, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(info.rpath, "/opt/x");
	assert_null(info.runpath);
	assert_null(info.soname);
	elf_info_release(&info);

	assert_int_equal(elf_exports("m.so", "PyInit_x", &e), 1);
	assert_int_equal(elf_exports("m.so", "exported_data", &e), 1);
	/* Hidden definitions and undefined references are not exports. */
	assert_int_equal(elf_exports("m.so", "hidden_fn", &e), 0);
	assert_int_equal(elf_exports("m.so", "printf", &e), 0);
	assert_int_equal(elf_exports("m.so", "PyInit_y", &e), 0);
	{
		/* One pass for several names: the first of them defined. */
		static const char *const syms[] = {"PyInit_y", "exported_data",
						   "PyInit_x"};
		size_t which = 9;
		int fd = open("m.so", O_RDONLY | O_CLOEXEC);

		assert_true(fd >= 0);
		assert_int_equal(
		    elf_exports_which_fd(fd, "m.so", syms, 3, &which, &e), 1);
		assert_int_equal(which, 1);
		assert_int_equal(
		    elf_exports_which_fd(fd, "m.so", syms, 1, &which, &e), 0);
		assert_int_equal(which, 1);
		close(fd);
	}
	assert_int_equal(elf_exports("text", "x", &e), -1);
	assert_non_null(strstr(e.msg, "not an ELF file"));
}

/* An object of another machine is read as it is (spoke show and repair
 * read aarch64 or s390x wheels on any host); only the host check, which
 * spoke build asks, refuses it.  An unknown byte order is refused
 * (libelf takes such a file for no ELF at all). */
static void test_foreign_machine(void **state)
{
	struct elf_info info;
	struct sp_err e;
	char *buf;
	size_t len;

	(void)state;
	if (!have_cc)
		skip();
	buf = fsx_read_all("m.so", &len, &e);
	assert_non_null(buf);
	buf[18] = (char)(OTHER_MACHINE & 0xff);
	buf[19] = (char)(OTHER_MACHINE >> 8);
	write_file("foreign.so", buf, len);
	if (elf_inspect("foreign.so", &info, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(info.id.machine, OTHER_MACHINE);
	assert_string_equal(info.id.arch, OTHER_NAME);
	assert_int_equal(info.nneeded > 0, 1);
	assert_int_equal(elf_info_check_host(&info, "foreign.so", &e), -1);
	assert_non_null(
	    strstr(e.msg, "'foreign.so' is built for " OTHER_NAME));
	elf_info_release(&info);
	buf[18] = (char)0x34;
	buf[19] = (char)0x12;
	write_file("foreign.so", buf, len);
	if (elf_inspect("foreign.so", &info, &e) < 0)
		fail_msg("%s", e.msg);
	assert_null(info.id.arch);
	assert_int_equal(elf_info_check_host(&info, "foreign.so", &e), -1);
	assert_non_null(strstr(e.msg, "ELF machine 4660"));
	elf_info_release(&info);
	buf[EI_DATA] = 7;
	write_file("foreign.so", buf, len);
	expect_fail("foreign.so", "'foreign.so' is not an ELF file");
	free(buf);
}

/* Program headers of another entry size than the class's are refused, as
 * the loader and the patcher refuse them: libelf would read them at its
 * own size and make up entries. */
static void test_phentsize(void **state)
{
	struct sp_err e;
	char *buf;
	size_t len;

	(void)state;
	if (!have_cc)
		skip();
	buf = fsx_read_all("m.so", &len, &e);
	assert_non_null(buf);
	/* e_phentsize of an ELFCLASS64 header: 56, here 64. */
	buf[54] = 64;
	buf[55] = 0;
	write_file("phent.so", buf, len);
	expect_fail("phent.so",
		    "'phent.so' is truncated or corrupt: the program headers "
		    "lie outside the file");
	free(buf);
}

/* Every prefix of a library must be refused or read, never crash; the ones
 * that cut into the dynamic segment must be refused. */
static void test_truncated(void **state)
{
	static const size_t cuts[] = {1, 4, 16, 52, 63, 64, 65, 100, 500, 4096};
	struct elf_info info;
	struct sp_err e;
	char *buf;
	size_t len, i;

	(void)state;
	if (access(LIBC, R_OK) < 0)
		skip();
	buf = fsx_read_all(LIBC, &len, &e);
	assert_non_null(buf);
	for (i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		write_file("cut.so", buf, cuts[i]);
		assert_int_equal(elf_inspect("cut.so", &info, &e), -1);
		assert_non_null(strstr(e.msg, "'cut.so'"));
		assert_int_equal(elf_exports("cut.so", "printf", &e), -1);
	}
	write_file("cut.so", buf, len / 2);
	assert_int_equal(elf_inspect("cut.so", &info, &e), -1);
	assert_non_null(strstr(e.msg, "truncated or corrupt"));
	assert_int_equal(elf_exports("cut.so", "printf", &e), -1);
	write_file("cut.so", buf, len - 1);
	if (elf_inspect("cut.so", &info, &e) == 0)
		elf_info_release(&info);
	free(buf);
}

/* A read the disk fails is not a corrupt file: whichever of libelf's
 * reads fails, the message gives EIO and does not blame the file.  n
 * grows until the n-th read is past the last one libelf makes. */
static void test_read_error(void **state)
{
	struct elf_info info;
	struct sp_err e;
	int fd, n, rc;

	(void)state;
	if (access(LIBC, R_OK) < 0)
		skip();
	fd = open(LIBC, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	eio_fd = fd;
	for (n = 0; n < 1000; n++) {
		eio_after = n;
		rc = elf_inspect_fd(fd, "eio.so", &info, &e);
		if (rc == 0)
			break;
		if (!strstr(e.msg, "'eio.so'") ||
		    !strstr(e.msg, strerror(EIO)) || strstr(e.msg, "corrupt"))
			fail_msg("read %d failed, and: %s", n, e.msg);
	}
	assert_true(n >= 2 && n < 1000);
	elf_info_release(&info);
	for (n = 0; n < 1000; n++) {
		eio_after = n;
		rc = elf_exports_fd(fd, "eio.so", "printf", &e);
		if (rc == 1)
			break;
		if (rc != -1 || !strstr(e.msg, strerror(EIO)) ||
		    strstr(e.msg, "corrupt"))
			fail_msg("read %d failed, and: %s", n, e.msg);
	}
	assert_true(n >= 2 && n < 1000);
	eio_fd = -1;
	close(fd);
}

/* Random byte changes in the headers, the dynamic segment and the symbol
 * tables: whatever comes back, nothing may crash or leak (run under ASan). */
static void test_mutated(void **state)
{
	struct elf_info info;
	struct sp_err e;
	char *orig, *buf;
	size_t len, i, k, pos;
	uint32_t seed = 12345;

	(void)state;
	if (!have_cc)
		skip();
	orig = fsx_read_all("m.so", &len, &e);
	assert_non_null(orig);
	buf = malloc(len);
	assert_non_null(buf);
	for (i = 0; i < 600; i++) {
		memcpy(buf, orig, len);
		for (k = 0; k < 1 + i % 8; k++) {
			seed = seed * 1103515245u + 12345u;
			/* Most changes hit the first pages, where the headers,
			 * the dynamic symbols and strings live; the rest hit
			 * anywhere (the section headers are at the end). */
			pos = (seed >> 8) % (i % 3 ? 1024 : len);
			seed = seed * 1103515245u + 12345u;
			buf[pos] = (char)(seed >> 16);
		}
		write_file("mut.so", buf, len);
		if (elf_inspect("mut.so", &info, &e) == 0)
			elf_info_release(&info);
		(void)elf_exports("mut.so", "PyInit_x", &e);
		/* The same bytes in memory, as a worker reads them. */
		if (elf_inspect_mem(buf, len, "mut.so", &info, &e) == 0)
			elf_info_release(&info);
		(void)elf_exports_mem(buf, len, "mut.so", "PyInit_x", &e);
	}
	free(buf);
	free(orig);
}

/* The file's bytes in memory give the same answers as the file, from a
 * read-only mapping too (libelf only reads them), and a prefix of them is
 * refused without a read past its end (ASan checks that: each prefix is a
 * heap block of its own size). */
static void test_memory(void **state)
{
	static const size_t cuts[] = {0, 1, 16, 64, 100, 4096};
	struct elf_info a, b;
	struct sp_err e;
	const uint8_t *map;
	char *buf, *cut;
	size_t len, i;
	int fd;

	(void)state;
	if (!have_cc)
		skip();
	fd = open("m.so", O_RDONLY);
	assert_true(fd >= 0);
	len = (size_t)lseek(fd, 0, SEEK_END);
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(map != MAP_FAILED);
	if (elf_inspect("m.so", &a, &e) < 0 ||
	    elf_inspect_mem(map, len, "m.so", &b, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(a.nneeded, b.nneeded);
	for (i = 0; i < a.nneeded; i++)
		assert_string_equal(a.needed[i], b.needed[i]);
	assert_string_equal(a.soname, b.soname);
	assert_string_equal(a.runpath, b.runpath);
	assert_int_equal(a.id.machine, b.id.machine);
	elf_info_release(&a);
	elf_info_release(&b);
	assert_int_equal(elf_exports_mem(map, len, "m.so", "PyInit_x", &e), 1);
	assert_int_equal(elf_exports_mem(map, len, "m.so", "hidden_fn", &e), 0);
	munmap((void *)map, len);
	close(fd);

	buf = fsx_read_all("m.so", &len, &e);
	assert_non_null(buf);
	for (i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		cut = malloc(cuts[i] ? cuts[i] : 1);
		assert_non_null(cut);
		memcpy(cut, buf, cuts[i]);
		assert_int_equal(elf_inspect_mem(cuts[i] ? cut : NULL, cuts[i],
						 "cut.so", &a, &e),
				 -1);
		assert_non_null(strstr(e.msg, "'cut.so'"));
		assert_int_equal(elf_exports_mem(cuts[i] ? cut : NULL, cuts[i],
						 "cut.so", "PyInit_x", &e),
				 -1);
		free(cut);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_libc),
	    cmocka_unit_test(test_not_libraries),
	    cmocka_unit_test(test_built_module),
	    cmocka_unit_test(test_objects),
	    cmocka_unit_test(test_foreign_machine),
	    cmocka_unit_test(test_phentsize),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_read_error),
	    cmocka_unit_test(test_mutated),
	    cmocka_unit_test(test_memory),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
