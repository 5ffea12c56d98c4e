/*
 * Unit tests of worker/elf/symvers: an object built here with cc against
 * libraries whose version scripts define each judged namespace (GLIBC,
 * GLIBCXX, CXXABI, GCC, ZLIB, LIBATOMIC), one that is not judged and a
 * fake dynamic loader, whose versions are left out; the symbols per
 * version; reading from a descriptor equals reading from memory; the
 * highest version per namespace; and hostile images (cut, flipped) that
 * must give an error or a result, never a crash.
 */
#define _GNU_SOURCE
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsx.h"
#include "worker/elf/symvers.h"

#define SCRATCH_NAME "symvers"
#include "tests/unit/scratch.h"

static int have_cc;

/* Reads the object at path through a descriptor, as the repair does. */
static int read_file(const char *path, struct symvers *out, struct sp_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return sp_err_sys(e, "cannot open '%s'", path);
	rc = symvers_read_fd(fd, path, out, e);
	close(fd);
	return rc;
}

/* libfake.so.1 defines one version per namespace (two symbols in ZLIB's),
 * a non-numeric CXXABI_TM_1, and FOO_1.0, a namespace no policy judges;
 * ld-linux-fake.so.2 stands for the loader, whose GLIBC_2.99 is not
 * judged.  m.so uses all of them, and pthread_create from libc. */
static const char script[] =
    "GLIBCXX_3.4.30 { global: f_cxx; };\n"
    "CXXABI_1.3.13 { global: f_abi; };\n"
    "CXXABI_TM_1 { global: f_tm; };\n"
    "GCC_7.0.0 { global: f_gcc; };\n"
    "ZLIB_1.2.9 { global: f_z1; f_z2; };\n"
    "LIBATOMIC_1.0 { global: f_at; };\n"
    "FOO_1.0 { global: f_foo; local: *; };\n";

static const char fake[] =
    "void f_cxx(void) {} void f_abi(void) {} void f_tm(void) {}\n"
    "void f_gcc(void) {} void f_z1(void) {} void f_z2(void) {}\n"
    "void f_at(void) {} void f_foo(void) {}\n";

static const char mod[] =
    "#include <pthread.h>\n"
    "void f_cxx(void); void f_abi(void); void f_tm(void); void f_gcc(void);\n"
    "void f_z1(void); void f_z2(void); void f_at(void); void f_foo(void);\n"
    "void f_ld(void);\n"
    "static void *run(void *a) { return a; }\n"
    "void go(void) { pthread_t t; pthread_create(&t, 0, run, 0);\n"
    "  f_cxx(); f_abi(); f_tm(); f_gcc(); f_z1(); f_z2(); f_at();\n"
    "  f_foo(); f_ld(); }\n";

static int write_file(const char *name, const char *text)
{
	char *p = tpath(name);
	FILE *f = fopen(p, "w");
	int rc = f && fputs(text, f) >= 0 ? 0 : -1;

	if (f && fclose(f) != 0)
		rc = -1;
	free(p);
	return rc;
}

static int setup(void **state)
{
	char cmd[1024];

	if (setup_dir(state) < 0)
		return -1;
	if (write_file("v.map", script) < 0 || write_file("fake.c", fake) < 0 ||
	    write_file("m.c", mod) < 0 ||
	    write_file("ld.map", "GLIBC_2.99 { global: f_ld; local: *; };\n") <
		0 ||
	    write_file("ld.c", "void f_ld(void) {}\n") < 0)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && cc -shared -fPIC -o libfake.so.1 "
		 "-Wl,-soname,libfake.so.1 -Wl,--version-script=v.map fake.c "
		 "&& cc -shared -fPIC -o ld-linux-fake.so.2 "
		 "-Wl,-soname,ld-linux-fake.so.2 -Wl,--version-script=ld.map "
		 "ld.c && cc -shared -fPIC -o m.so m.c -Wl,--no-as-needed "
		 "./libfake.so.1 ./ld-linux-fake.so.2 -lpthread 2>/dev/null",
		 tmpdir);
	have_cc = system(cmd) == 0;
	return 0;
}

static const struct symvers_need *need(const struct symvers *s,
				       const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->needs[i].name, name) == 0)
			return &s->needs[i];
	return NULL;
}

static void test_namespaces(void **state)
{
	const struct symvers_need *n;
	struct symvers s, t;
	struct sp_err e;
	char *path, line[256];
	void *img;
	size_t len, i, k;
	int fd;

	(void)state;
	if (!have_cc)
		skip();
	path = tpath("m.so");
	assert_int_equal(read_file(path, &s, &e), 0);

	n = need(&s, "GLIBCXX_3.4.30");
	assert_non_null(n);
	assert_int_equal(n->ns, SYMVERS_GLIBCXX);
	assert_string_equal(n->version, "3.4.30");
	assert_string_equal(n->file, "libfake.so.1");
	assert_int_equal(n->nsyms, 1);
	assert_string_equal(n->syms[0], "f_cxx");
	assert_int_equal(need(&s, "CXXABI_1.3.13")->ns, SYMVERS_CXXABI);
	n = need(&s, "CXXABI_TM_1");
	assert_non_null(n);
	assert_string_equal(n->version, "TM_1");
	assert_int_equal(need(&s, "GCC_7.0.0")->ns, SYMVERS_GCC);
	assert_int_equal(need(&s, "LIBATOMIC_1.0")->ns, SYMVERS_LIBATOMIC);
	n = need(&s, "ZLIB_1.2.9");
	assert_non_null(n);
	assert_int_equal(n->ns, SYMVERS_ZLIB);
	assert_int_equal(n->nsyms, 2);
	/* In .dynsym order, which the linker chooses. */
	assert_true((!strcmp(n->syms[0], "f_z1") && !strcmp(n->syms[1], "f_z2")) ||
		    (!strcmp(n->syms[0], "f_z2") && !strcmp(n->syms[1], "f_z1")));
	/* glibc 2.34 gave pthread_create a version of its own. */
	n = need(&s, "GLIBC_2.34");
	assert_non_null(n);
	assert_int_equal(n->ns, SYMVERS_GLIBC);
	assert_string_equal(n->file, "libc.so.6");
	assert_int_equal(n->nsyms, 1);
	assert_string_equal(n->syms[0], "pthread_create");
	/* Not judged: another namespace, and the loader's versions. */
	assert_null(need(&s, "FOO_1.0"));
	assert_null(need(&s, "GLIBC_2.99"));
	/* Every undefined symbol is kept, for the blacklist. */
	assert_non_null(elf_imports_find(&s.imports, "f_foo"));

	symvers_format_highest(&s, line, sizeof(line));
	assert_non_null(strstr(line, "GLIBC_2.34"));
	assert_non_null(strstr(line, "GLIBCXX_3.4.30"));
	assert_non_null(strstr(line, "CXXABI_1.3.13 GCC_7.0.0 ZLIB_1.2.9 "
				     "LIBATOMIC_1.0"));
	assert_null(strstr(line, "TM_1"));

	/* From a descriptor, the same as from memory. */
	img = fsx_read_all(path, &len, &e);
	assert_non_null(img);
	assert_int_equal(symvers_read_mem(img, len, "m.so", &t, &e), 0);
	assert_int_equal(t.n, s.n);
	for (i = 0; i < s.n; i++) {
		assert_string_equal(t.needs[i].name, s.needs[i].name);
		assert_string_equal(t.needs[i].file, s.needs[i].file);
		assert_int_equal(t.needs[i].nsyms, s.needs[i].nsyms);
		for (k = 0; k < s.needs[i].nsyms; k++)
			assert_string_equal(t.needs[i].syms[k],
					    s.needs[i].syms[k]);
	}
	assert_int_equal(t.imports.n, s.imports.n);
	symvers_release(&t);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 5, SEEK_SET), 5);
	assert_int_equal(symvers_read_fd(fd, "m.so", &t, &e), 0);
	assert_int_equal(t.n, s.n);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 5);
	symvers_release(&t);
	close(fd);
	symvers_release(&s);
	symvers_release(&s);

	/* Every cut and a flip every few bytes: no crash. */
	for (i = 0; i < len; i += len / 211 + 1) {
		if (symvers_read_mem(img, i, "m.so", &t, &e) == 0)
			symvers_release(&t);
	}
	for (i = 0; i < len; i += len / 503 + 1) {
		((unsigned char *)img)[i] ^= 0xff;
		if (symvers_read_mem(img, len, "m.so", &t, &e) == 0)
			symvers_release(&t);
		((unsigned char *)img)[i] ^= 0xff;
	}
	free(img);
	free(path);
}

static int find_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
	char **out = arg;

	(void)size;
	if (info->dlpi_name && strstr(info->dlpi_name, "libc.so")) {
		*out = strdup(info->dlpi_name);
		return 1;
	}
	return 0;
}

static void test_libc(void **state)
{
	struct symvers s, t;
	struct sp_err e;
	char *lib = NULL;
	void *img;
	size_t len;

	(void)state;
	dl_iterate_phdr(find_libc, &lib);
	assert_non_null(lib);
	/* libc requires only versions of the loader: none is judged. */
	assert_int_equal(read_file(lib, &s, &e), 0);
	img = fsx_read_all(lib, &len, &e);
	assert_non_null(img);
	assert_int_equal(symvers_read_mem(img, len, lib, &t, &e), 0);
	assert_int_equal(s.n, t.n);
	symvers_release(&s);
	symvers_release(&t);
	assert_int_equal(symvers_read_mem("not elf", 7, "x", &t, &e), -1);
	/* Without its section header table (at the end of the file) the
	 * object is corrupt: it must not read as requiring nothing. */
	assert_int_equal(symvers_read_mem(img, len - 64, lib, &t, &e), -1);
	assert_non_null(strstr(e.msg, "truncated or corrupt"));
	free(img);
	free(lib);
}

static void test_versions(void **state)
{
	static const char *const vs[] = {"4.2.0", "2.17",    "3.4.29", "7",
					 "1.0",	  "1.2.0.2", "2.2.5"};
	struct symver v, w;
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vs) / sizeof(*vs); i++) {
		assert_int_equal(symver_parse(vs[i], &v), 0);
		symver_format(&v, buf, sizeof(buf));
		assert_string_equal(buf, vs[i]);
	}
	assert_int_equal(symver_parse("", &v), -1);
	assert_int_equal(symver_parse("2.", &v), -1);
	assert_int_equal(symver_parse("1.2.3.4.5", &v), -1);
	assert_int_equal(symver_parse("TM_1", &v), -1);
	assert_int_equal(symver_parse("PRIVATE", &v), -1);
	assert_int_equal(symver_parse("65536", &v), -1);
	/* By value: 4.2 and 4.2.0 are the same version; 1.2.0.2 is after
	 * 1.2.0 and before 1.2.2. */
	assert_int_equal(symver_parse("4.2", &v), 0);
	assert_int_equal(symver_parse("4.2.0", &w), 0);
	assert_int_equal(symver_cmp(&v, &w), 0);
	assert_int_equal(symver_parse("1.2.0.2", &v), 0);
	assert_int_equal(symver_parse("1.2.0", &w), 0);
	assert_true(symver_cmp(&v, &w) > 0);
	assert_int_equal(symver_parse("1.2.2", &w), 0);
	assert_true(symver_cmp(&v, &w) < 0);
	assert_int_equal(symvers_ns_find("LIBATOMIC"), SYMVERS_LIBATOMIC);
	assert_int_equal(symvers_ns_find("OPENSSL"), -1);
	assert_string_equal(symvers_ns_name(SYMVERS_ZLIB), "ZLIB");
	assert_null(symvers_ns_name(SYMVERS_NNS));
}

static int teardown(void **state)
{
	return teardown_dir(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_namespaces),
	    cmocka_unit_test(test_libc),
	    cmocka_unit_test(test_versions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
