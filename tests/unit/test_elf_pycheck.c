/*
 * Unit tests of worker/elf/pycheck: which sonames are libpython, the
 * module name of a file, and real objects (built here with cc) that are
 * or are not extension modules, with and without PyFPE_jbuf and
 * PyUnicodeUCS2_* imports; cut images give an error or a result, never a
 * crash.
 */
#define _GNU_SOURCE
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsx.h"
#include "worker/elf/pycheck.h"

#define SCRATCH_NAME "pycheck"
#include "tests/unit/scratch.h"

static int have_cc;

/*
 * fpe.so: a Python 3 module reading PyFPE_jbuf, as the fpectl macros did
 * (an undefined symbol of no type: nothing defines it at link time).
 * plain.so: a Python 3 module without it.  other.so: PyFPE_jbuf too, but
 * no init function for its name: not an extension module.  u2.so: a
 * Python 2 module calling PyUnicodeUCS2_AsUTF8String, linked against a
 * library defining it, so that the import is a function; u3.so: the same
 * call from a Python 3 module, which the UCS2 rule leaves alone.
 */
static const char script[] =
    "cd '%s' && "
    "printf 'extern char PyFPE_jbuf[];\\nint PyInit_fpe(void) "
    "{ return PyFPE_jbuf[0]; }\\n' >fpe.c && "
    "printf 'int PyInit_plain(void) { return 0; }\\n' >plain.c && "
    "printf 'extern char PyFPE_jbuf[];\\nint PyInit_x(void) "
    "{ return PyFPE_jbuf[0]; }\\n' >other.c && "
    "printf 'int PyUnicodeUCS2_AsUTF8String(void) { return 0; }\\n' "
    ">py.c && "
    "printf 'int PyUnicodeUCS2_AsUTF8String(void);\\nvoid initu2(void) "
    "{ PyUnicodeUCS2_AsUTF8String(); }\\n' >u2.c && "
    "printf 'int PyUnicodeUCS2_AsUTF8String(void);\\nint PyInit_u3(void) "
    "{ return PyUnicodeUCS2_AsUTF8String(); }\\n' >u3.c && "
    "cc -shared -fPIC -o libfakepy.so py.c && "
    "for m in fpe plain other; do cc -shared -fPIC -o $m.so $m.c "
    "-Wl,--allow-shlib-undefined || exit 1; done && "
    "for m in u2 u3; do cc -shared -fPIC -o $m.so $m.c -L. -lfakepy "
    "|| exit 1; done";

static int setup(void **state)
{
	char cmd[2048];

	if (setup_dir(state) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), script, tmpdir);
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

static void test_libpython(void **state)
{
	static const char *const yes[] = {
	    "libpython3.11.so.1.0",  "libpython2.7.so.1.0",
	    "libpython3.7m.so.1.0",  "libpython3.7dm.so.1.0",
	    "libpython3.13t.so.1.0", "libpython3.11.so",
	    "libpython3.so",	     "libpython3.10.so.1.0"};
	static const char *const no[] = {"libpython.so",
					 "libpython3.11.a",
					 "libpythonx.so",
					 "libpython3.11.so.1.x",
					 "libpython3.11.so.",
					 "libpython3.11",
					 "libpython3.11xyz.so",
					 "libpython3.11.so.1.0 ",
					 "libpython3.11.so1",
					 "libpython3..so",
					 "xlibpython3.11.so",
					 "libc.so.6",
					 ""};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		if (!pycheck_is_libpython(yes[i]))
			fail_msg("'%s' is libpython", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(*no); i++)
		if (pycheck_is_libpython(no[i]))
			fail_msg("'%s' is not libpython", no[i]);
}

static void test_modname(void **state)
{
	char *s;

	(void)state;
	s = pycheck_modname("pkg/_native.cpython-311-x86_64-linux-gnu.so");
	assert_string_equal(s, "_native");
	free(s);
	s = pycheck_modname("fpe.so");
	assert_string_equal(s, "fpe");
	free(s);
	s = pycheck_modname("noext");
	assert_string_equal(s, "noext");
	free(s);
}

/* Checks name (a file in the scratch folder) as module mod. */
static void check(const char *name, const char *mod, struct pycheck *pc)
{
	struct sp_err e;
	size_t len;
	void *img = slurp(name, &len);

	struct elf_imports im;
	struct pycheck fd_pc;
	char *path = tpath(name);
	int fd;

	if (pycheck_mem(img, len, name, mod, pc, &e) < 0)
		fail_msg("%s", e.msg);
	free(img);
	/* From imports read before, on a descriptor: the same verdict. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	free(path);
	if (elf_imports_fd(fd, name, &im, &e) < 0 ||
	    pycheck_imports_fd(&im, fd, name, mod, &fd_pc, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(fd_pc.python, pc->python);
	assert_true(!fd_pc.init == !pc->init);
	if (pc->init)
		assert_string_equal(fd_pc.init, pc->init);
	assert_true(!fd_pc.fpe == !pc->fpe);
	assert_true(!fd_pc.ucs2 == !pc->ucs2);
	pycheck_release(&fd_pc);
	elf_imports_release(&im);
	/* And from the descriptor alone, as the repair reads it. */
	if (pycheck_fd(fd, name, mod, &fd_pc, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(fd_pc.python, pc->python);
	assert_true(!fd_pc.fpe == !pc->fpe);
	assert_true(!fd_pc.ucs2 == !pc->ucs2);
	pycheck_release(&fd_pc);
	close(fd);
}

static void test_fpe(void **state)
{
	struct pycheck pc;
	char buf[256];

	(void)state;
	if (!have_cc)
		skip();
	check("fpe.so", "fpe", &pc);
	assert_int_equal(pc.python, 3);
	assert_string_equal(pc.init, "PyInit_fpe");
	assert_string_equal(pc.fpe, "PyFPE_jbuf");
	assert_null(pc.ucs2);
	assert_int_equal(pycheck_reason(&pc, buf, sizeof(buf)), 1);
	assert_non_null(strstr(buf, "PyFPE_jbuf"));
	assert_non_null(strstr(buf, "--with-fpectl"));
	pycheck_release(&pc);
	pycheck_release(&pc); /* safe twice */

	/* Not the module's name: not an extension, no verdict. */
	check("other.so", "other", &pc);
	assert_int_equal(pc.python, 0);
	assert_null(pc.init);
	assert_null(pc.fpe);
	assert_int_equal(pycheck_reason(&pc, buf, sizeof(buf)), 0);
	pycheck_release(&pc);

	check("plain.so", "plain", &pc);
	assert_int_equal(pc.python, 3);
	assert_null(pc.fpe);
	assert_int_equal(pycheck_reason(&pc, buf, sizeof(buf)), 0);
	pycheck_release(&pc);
}

static void test_ucs2(void **state)
{
	struct pycheck pc;
	char buf[256];

	(void)state;
	if (!have_cc)
		skip();
	check("u2.so", "u2", &pc);
	assert_int_equal(pc.python, 2);
	assert_string_equal(pc.init, "initu2");
	assert_string_equal(pc.ucs2, "PyUnicodeUCS2_AsUTF8String");
	assert_int_equal(pycheck_reason(&pc, buf, sizeof(buf)), 1);
	assert_non_null(strstr(buf, "PyUnicodeUCS2_AsUTF8String"));
	pycheck_release(&pc);

	/* The rule is Python 2's. */
	check("u3.so", "u3", &pc);
	assert_int_equal(pc.python, 3);
	assert_null(pc.ucs2);
	assert_int_equal(pycheck_reason(&pc, buf, sizeof(buf)), 0);
	pycheck_release(&pc);
}

static void test_hostile(void **state)
{
	struct pycheck pc;
	struct sp_err e;
	size_t len, i;
	void *img;

	(void)state;
	assert_int_equal(pycheck_mem("not elf", 7, "x.so", "x", &pc, &e), -1);
	assert_non_null(strstr(e.msg, "x.so"));
	if (!have_cc)
		skip();
	img = slurp("fpe.so", &len);
	for (i = 0; i < len; i += len / 199 + 1)
		if (pycheck_mem(img, i, "fpe.so", "fpe", &pc, &e) == 0)
			pycheck_release(&pc);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_libpython), cmocka_unit_test(test_modname),
	    cmocka_unit_test(test_fpe),	      cmocka_unit_test(test_ucs2),
	    cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, setup, teardown_dir);
}
