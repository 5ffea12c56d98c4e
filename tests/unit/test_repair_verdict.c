/*
 * Unit tests of worker/repair/verdict on hand-built objects and the real
 * data/policy.json: the libc and architecture (no guess without one,
 * glibc and musl in one wheel refused, Android refused), what becomes of
 * each library (libpython removed, never bundled; the wheel's own
 * libraries not handed over), executables counting, --compat, the
 * linux_<arch> tag of a module CPython's ABI limits and of objects no tag
 * fits, the older tags' reasons, and the highest versions as JSON.
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

#include "worker/repair/verdict.h"

#include "tests/unit/fake_symvers.h"

/* A made-up object (fake_symvers.h): its versions, imports and
 * DT_NEEDED; info NULL (an executable) when as_object's exe is set. */
struct fake {
	struct fake_symvers fs;
	char *needed[4];
	struct elf_info info;
	struct elf_ident ident;
};

static void fake_init(struct fake *f, const char *const *vers,
		      const char *const *imps, const char *const *needed)
{
	size_t i;

	fake_symvers_init(&f->fs, vers, imps);
	memset(f->needed, 0, sizeof(f->needed));
	memset(&f->info, 0, sizeof(f->info));
	memset(&f->ident, 0, sizeof(f->ident));
	for (i = 0; needed && needed[i]; i++)
		f->needed[i] = (char *)needed[i];
	f->info.id.elfclass = f->ident.elfclass = ELFCLASS64;
	f->info.id.machine = f->ident.machine = EM_X86_64;
	f->info.id.arch = f->ident.arch = "x86_64";
	f->info.needed = f->needed;
	f->info.nneeded = i;
}

static void as_object(struct fake *f, const char *name, int exe,
		      struct verdict_object *o)
{
	memset(o, 0, sizeof(*o));
	o->name = name;
	o->info = exe ? NULL : &f->info;
	o->ident = &f->ident;
	o->sv = &f->fs.sv;
}

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

static int listed(const struct verdict *v, enum verdict_action a,
		  const char *soname)
{
	size_t i;

	for (i = 0; i < v->nlibs[a]; i++)
		if (!strcmp(v->libs[a][i], soname))
			return 1;
	return 0;
}

/* A module needing GLIBC_2.17 beside an executable (no elf_info) needing
 * GLIBC_2.34: the wheel is manylinux_2_34, and manylinux_2_31 misses it
 * for the executable's sake. */
static void test_executable_counts(void **state)
{
	struct fake mod, exe;
	struct verdict_object o[2];
	struct verdict v;
	struct sp_err e;
	char why[512];

	(void)state;
	fake_init(&mod, V("GLIBC_2.17@libc.so.6:clock_gettime"), NULL,
		  V("libc.so.6"));
	fake_init(&exe, V("GLIBC_2.34@libc.so.6:pthread_create"), NULL, NULL);
	as_object(&mod, "pkg/m.cpython-311-x86_64-linux-gnu.so", 0, &o[0]);
	as_object(&exe, "pkg-1.data/scripts/tool", 1, &o[1]);
	if (verdict_wheel(&v, o, 2, NULL, 0, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(v.tag->name, "manylinux_2_34");
	assert_string_equal(v.plat, "manylinux_2_34_x86_64");
	assert_true(listed(&v, VERDICT_SYSTEM, "libc.so.6"));
	assert_true(v.nolder > 0);
	assert_string_equal(v.older[v.nolder - 1].tag->name, "manylinux_2_31");
	policy_misses_format(&v.older[v.nolder - 1].why, why, sizeof(why));
	assert_string_equal(why, "'pkg-1.data/scripts/tool' needs GLIBC_2.34 "
				 "(pthread_create)");
	assert_int_equal(verdict_misfit(&v, "x", &e), 0);
	verdict_release(&v);
	verdict_release(&v);
}

/* libpython is removed, never bundled nor asked of the system; a library
 * the wheel provides is not handed over; another is bundled. */
static void test_libs(void **state)
{
	static const char *const prov[] = {"libmine.so.1"};
	struct fake mod;
	struct verdict_object o;
	struct verdict v;
	struct sp_err e;

	(void)state;
	fake_init(&mod, V("GLIBC_2.2.5@libc.so.6:malloc"), NULL,
		  V("libpython3.11.so.1.0", "libmine.so.1", "libfoo.so.1",
		    "libc.so.6"));
	as_object(&mod, "m.so", 0, &o);
	if (verdict_wheel(&v, &o, 1, prov, 1, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(v.nlibs[VERDICT_REMOVED], 1);
	assert_string_equal(v.libs[VERDICT_REMOVED][0], "libpython3.11.so.1.0");
	assert_int_equal(v.nlibs[VERDICT_BUNDLE], 1);
	assert_string_equal(v.libs[VERDICT_BUNDLE][0], "libfoo.so.1");
	assert_int_equal(v.nlibs[VERDICT_SYSTEM], 1);
	assert_string_equal(v.tag->name, "manylinux_2_5");
	assert_string_equal(v.libs_tag->name,
			    v.pol->tags[v.pol->ntags - 1].name);
	assert_string_equal(verdict_action_name(verdict_lib_action(
				&v, "libpython3.so", NULL)),
			    "removed");
	verdict_release(&v);
}

/* An --exclude pattern leaves a library out. */
static void test_exclude(void **state)
{
	static const char *const pats[] = {"libfoo.so.*"};
	struct verdict_opts opts = {NULL, pats, 1};
	struct fake mod;
	struct verdict_object o;
	struct verdict v;
	struct sp_err e;

	(void)state;
	fake_init(&mod, NULL, NULL, V("libfoo.so.1", "libbar.so.2"));
	as_object(&mod, "m.so", 0, &o);
	if (verdict_wheel(&v, &o, 1, NULL, 0, &opts, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(listed(&v, VERDICT_EXCLUDED, "libfoo.so.1"));
	assert_true(listed(&v, VERDICT_BUNDLE, "libbar.so.2"));
	verdict_release(&v);
}

/* No architecture: no verdict, and no guess from the machine. */
static void test_no_arch(void **state)
{
	struct fake mod;
	struct verdict_object o;
	struct verdict v;
	struct sp_err e;

	(void)state;
	fake_init(&mod, NULL, NULL, NULL);
	mod.info.id.arch = mod.ident.arch = NULL;
	as_object(&mod, "m.so", 0, &o);
	assert_int_equal(verdict_wheel(&v, &o, 1, NULL, 0, NULL, &e), -1);
	assert_string_equal(e.msg, "'m.so': no platform policy covers its "
				   "architecture");
	verdict_release(&v);
}

/* One wheel for glibc and musl, or for Android: no verdict. */
static void test_libc(void **state)
{
	struct fake g, m;
	struct verdict_object o[2];
	struct verdict v;
	struct sp_err e;

	(void)state;
	fake_init(&g, NULL, NULL, V("libc.so.6"));
	fake_init(&m, NULL, NULL, V("libc.musl-x86_64.so.1"));
	as_object(&g, "g.so", 0, &o[0]);
	as_object(&m, "m.so", 0, &o[1]);
	assert_int_equal(verdict_wheel(&v, o, 2, NULL, 0, NULL, &e), -1);
	assert_string_equal(e.msg, "'g.so' is built for glibc, but 'm.so' for "
				   "musl: one wheel cannot run on both");
	verdict_release(&v);
	fake_init(&g, NULL, NULL, NULL);
	as_object(&g, "a.cpython-313-x86_64-linux-android.so", 0, &o[0]);
	assert_int_equal(verdict_wheel(&v, o, 1, NULL, 0, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "Android"));
	verdict_release(&v);
	/* musl: the newest tag, and the older one fits too. */
	as_object(&m, "m.so", 0, &o[0]);
	if (verdict_wheel(&v, o, 1, NULL, 0, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(v.libc, POLICY_MUSL);
	assert_string_equal(v.plat, "musllinux_1_2_x86_64");
	assert_int_equal(v.nolder, 1);
	assert_string_equal(v.older[0].tag->name, "musllinux_1_1");
	assert_int_equal(v.older[0].why.n, 0);
	verdict_release(&v);
}

/* --compat: exactly its tag, or the misfit naming it; every tag up to
 * it is judged. */
static void test_compat(void **state)
{
	struct verdict_opts opts = {"manylinux2014", NULL, 0};
	struct fake mod;
	struct verdict_object o;
	struct verdict v;
	struct sp_err e;

	(void)state;
	fake_init(&mod, V("GLIBC_2.34@libc.so.6:dlopen"), NULL, NULL);
	as_object(&mod, "m.so", 0, &o);
	if (verdict_wheel(&v, &o, 1, NULL, 0, &opts, &e) < 0)
		fail_msg("%s", e.msg);
	assert_null(v.tag);
	assert_string_equal(v.libs_tag->name, "manylinux_2_17");
	assert_string_equal(v.older[v.nolder - 1].tag->name, "manylinux_2_17");
	assert_int_equal(verdict_misfit(&v, "m", &e), -1);
	assert_string_equal(e.msg, "'m' does not fit --compat manylinux_2_17: "
				   "'m.so' needs GLIBC_2.34 (dlopen)");
	verdict_release(&v);
	/* A tag it fits. */
	opts.compat = "manylinux_2_35";
	if (verdict_wheel(&v, &o, 1, NULL, 0, &opts, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(v.tag->name, "manylinux_2_35");
	assert_string_equal(v.older[v.nolder - 1].tag->name, "manylinux_2_34");
	assert_int_equal(v.older[v.nolder - 1].why.n, 0);
	verdict_release(&v);
}

/* A module using PyFPE_jbuf, and objects no tag fits: linux_x86_64, with
 * the policy's opinion kept. */
static void test_linux_only(void **state)
{
	struct pycheck py = {3, "PyInit_m", "PyFPE_jbuf", NULL};
	struct fake mod;
	struct verdict_object o;
	struct verdict v;
	struct sp_err e;
	char *dump;
	json_t *j;

	(void)state;
	fake_init(&mod, V("GLIBC_2.2.5@libc.so.6:malloc"), NULL, NULL);
	as_object(&mod, "m.so", 0, &o);
	o.py = &py;
	if (verdict_wheel(&v, &o, 1, NULL, 0, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(v.plat, "linux_x86_64");
	assert_string_equal(v.linux_only, "m.so");
	assert_non_null(strstr(v.linux_only_why, "PyFPE_jbuf"));
	assert_string_equal(v.tag->name, "manylinux_2_5");
	verdict_release(&v);
	/* A symbol every tag black-lists. */
	fake_init(&mod, V("GLIBC_2.2.5@libc.so.6:malloc"), V("_tr_init"),
		  V("libz.so.1"));
	as_object(&mod, "m.so", 0, &o);
	if (verdict_wheel(&v, &o, 1, NULL, 0, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	assert_null(v.tag);
	assert_null(v.linux_only);
	assert_string_equal(v.plat, "linux_x86_64");
	assert_int_equal(v.nolder, v.pol->ntags);
	assert_int_equal(verdict_misfit(&v, "m", &e), -1);
	assert_non_null(strstr(e.msg, "fits no platform tag; for the newest"));
	assert_non_null(
	    strstr(e.msg, "depends on black-listed symbols: libz.so.1: "
			  "_tr_init"));
	j = verdict_older_json(&v);
	assert_non_null(j);
	dump = json_dumps(json_array_get(j, 0), JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
	    dump, "{\"fits\":false,\"reasons\":{\"blacklisted\":[{\"library\":"
		  "\"libz.so.1\",\"object\":\"m.so\",\"symbols\":["
		  "\"_tr_init\"]}],\"libraries\":[],\"symbol_versions\":[]},"
		  "\"tag\":\"manylinux_2_5\"}");
	free(dump);
	json_decref(j);
	verdict_release(&v);
}

static void test_symvers_json(void **state)
{
	struct fake a, b;
	const struct symvers *svs[2] = {&a.fs.sv, &b.fs.sv};
	char *dump;
	json_t *j;

	(void)state;
	fake_init(&a, V("GLIBC_2.17@libc.so.6", "GLIBC_2.2.5@libc.so.6"),
		  NULL, NULL);
	fake_init(&b, V("GLIBC_2.14@libc.so.6", "ZLIB_1.2.9@libz.so.1"), NULL,
		  NULL);
	j = verdict_symvers_json(svs, 2);
	dump = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(dump, "{\"GLIBC\":\"2.17\",\"ZLIB\":\"1.2.9\"}");
	free(dump);
	json_decref(j);
	j = verdict_symvers_json(svs, 0);
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_executable_counts),
	    cmocka_unit_test(test_libs),
	    cmocka_unit_test(test_exclude),
	    cmocka_unit_test(test_no_arch),
	    cmocka_unit_test(test_libc),
	    cmocka_unit_test(test_compat),
	    cmocka_unit_test(test_linux_only),
	    cmocka_unit_test(test_symvers_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
