/*
 * Unit tests of repair_run() in skip mode: it packages any module as a
 * plain linux_<arch> wheel.  It reads the platform policy only for its
 * "patch" verdict, so a module no policy covers (another machine, or a
 * --compat tag the policy lacks) is still packaged, without a verdict.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <elf.h>
#include <string.h>

#include "worker/repair/repair.h"

static char *needed[] = {"libc.so.6", "libfoo.so.1"};

/* The --exclude patterns run_skip() passes. */
static const char *const *exclude;
static size_t nexclude;

/* Runs skip on a module of machine that needs libc and libfoo; returns
 * the result's "patch", or "" when it has none. */
static const char *run_skip(uint16_t machine, const char *plat,
			    const char *compat, struct repair_result *out)
{
	static struct elf_info info;
	static struct repair_opts o;
	struct repair_in in = {0};
	struct sp_err e;
	json_t *patch;

	info.id.elfclass = ELFCLASS64;
	info.id.machine = machine;
	/* The architecture is what elf_inspect would say; the repair makes
	 * no guess from the machine alone. */
	info.id.arch = machine == EM_X86_64 ? "x86_64"
		    : machine == EM_PPC64 ? "ppc64le"
		    : machine == EM_S390  ? "s390x"
					  : NULL;
	info.needed = needed;
	info.nneeded = 2;
	o.mode = REPAIR_MODE_SKIP;
	o.compat = compat;
	o.exclude = exclude;
	o.nexclude = nexclude;
	in.opts = &o;
	in.dist = "spam";
	in.module_path = "spam/_native.so";
	in.name = "libspam.so";
	in.origin = ".";
	in.plat = plat;
	in.info = &info;
	if (repair_run(&in, out, &e) < 0)
		fail_msg("skip failed: %s", e.msg);
	assert_string_equal(out->plat, plat);
	assert_int_equal(out->mod_fd, -1);
	assert_int_equal(out->nfiles, 0);
	patch = json_object_get(out->result, "patch");
	return patch ? json_string_value(patch) : "";
}

/* x86_64 has a policy: libfoo is on no manylinux list, so the default
 * repair would bundle it. */
static void test_skip_with_policy(void **state)
{
	struct repair_result r;

	(void)state;
	assert_string_equal(run_skip(EM_X86_64, "linux_x86_64", NULL, &r),
			    "required");
	repair_result_release(&r);
}

/* An --exclude glob on libfoo's soname leaves nothing to bundle. */
static void test_skip_exclude_glob(void **state)
{
	static const char *const pats[] = {"libfoo.so.*"};
	struct repair_result r;

	(void)state;
	exclude = pats;
	nexclude = 1;
	assert_string_equal(run_skip(EM_X86_64, "linux_x86_64", NULL, &r),
			    "none");
	repair_result_release(&r);
	exclude = NULL;
	nexclude = 0;
}

/* Every Linux architecture auditwheel knows has a policy now: ppc64le
 * and s390x get the verdict too.  MIPS has none: skip still packages it,
 * as it did before it gave a verdict. */
static void test_skip_without_policy(void **state)
{
	struct repair_result r;

	(void)state;
	assert_string_equal(run_skip(EM_PPC64, "linux_ppc64le", NULL, &r),
			    "required");
	repair_result_release(&r);
	assert_string_equal(run_skip(EM_S390, "linux_s390x", NULL, &r),
			    "required");
	repair_result_release(&r);
	assert_string_equal(run_skip(EM_MIPS, "linux_mips64", NULL, &r), "");
	repair_result_release(&r);
}

/* A --compat tag the policy does not know does not stop skip either. */
static void test_skip_unknown_compat(void **state)
{
	struct repair_result r;

	(void)state;
	assert_string_equal(
	    run_skip(EM_X86_64, "linux_x86_64", "manylinux_9_99", &r), "");
	repair_result_release(&r);
	/* Nor one of the other libc. */
	assert_string_equal(
	    run_skip(EM_X86_64, "linux_x86_64", "musllinux_1_2", &r), "");
	repair_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_skip_with_policy),
	    cmocka_unit_test(test_skip_exclude_glob),
	    cmocka_unit_test(test_skip_without_policy),
	    cmocka_unit_test(test_skip_unknown_compat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
