#define _GNU_SOURCE
/*
 * Unit tests of worker/repair/ldresolve: small libraries built here with cc and
 * laid out so that each search rule decides where one is found (RPATH and
 * its inheritance, RUNPATH and its lack of it, $ORIGIN, LD_LIBRARY_PATH,
 * cargo's linked paths), and ld.so.conf parsing on files written here.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "common/stamp.h"
#include "worker/elf/inspect.h"
#include "worker/repair/ldresolve.h"

#include "tests/tools/mkelf.h"

#if defined(__x86_64__)
#define LIBM "/lib/x86_64-linux-gnu/libm.so.6"
#define LOADER "ld-linux-x86-64.so.2"
#else
#define LIBM "/lib/aarch64-linux-gnu/libm.so.6"
#define LOADER "ld-linux-aarch64.so.1"
#endif

static char tmpdir[64];
static int have_cc;

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/*
 * lib1/libb.so        soname libb.so
 * lib2/liba.so        soname liba.so, needs libb.so, no search path
 * lib3/liba.so        another liba.so (for precedence)
 * bad/libb.so         not ELF: must be skipped
 * r/rpath.so          needs liba.so; DT_RPATH $ORIGIN/../lib2:${ORIGIN}/../lib1
 * r/runpath.so        needs liba.so; DT_RUNPATH $ORIGIN/../lib2:$ORIGIN/../lib1
 * r/plain.so          needs liba.so; no search path
 */
static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/spoke-ld-XXXXXX");
	if (!mkdtemp(tmpdir) || chdir(tmpdir) < 0)
		return -1;
	have_cc =
	    run("mkdir -p lib1 lib2 lib3 bad r &&"
		" echo 'int b(void) { return 2; }' > b.c &&"
		" echo 'int b(void); int a(void) { return b(); }' > a.c &&"
		" echo 'int a(void); int r(void) { return a(); }' > r.c &&"
		" echo 'not an ELF file' > bad/libb.so &&"
		" cc -shared -fPIC -Wl,-soname,libb.so -o lib1/libb.so b.c &&"
		" cc -shared -fPIC -Wl,-soname,liba.so -o lib2/liba.so a.c"
		"   -Llib1 -lb &&"
		" cp lib2/liba.so lib3/liba.so &&"
		" cc -shared -fPIC -o r/rpath.so r.c -Llib2 -la"
		"   -Wl,--allow-shlib-undefined -Wl,--disable-new-dtags"
		"   -Wl,-rpath,'$ORIGIN/../lib2:${ORIGIN}/../lib1' &&"
		" cc -shared -fPIC -o r/runpath.so r.c -Llib2 -la"
		"   -Wl,--allow-shlib-undefined -Wl,--enable-new-dtags"
		"   -Wl,-rpath,'$ORIGIN/../lib2:$ORIGIN/../lib1' &&"
		" cc -shared -fPIC -o r/plain.so r.c -Llib2 -la"
		"   -Wl,--allow-shlib-undefined") == 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (chdir("/") == 0)
		run("rm -rf '%s'", tmpdir);
	return 0;
}

/* Options that search nothing of the system's, so that only the files of
 * this test can be found. */
static void isolated(struct ld_opts *o)
{
	static const char *const none[] = {NULL};

	memset(o, 0, sizeof(*o));
	o->ld_so_conf = "";
	o->default_dirs = none;
	o->ndefault = 0;
}

static char *at(const char *rel)
{
	char *p = path_join(tmpdir, rel);

	assert_non_null(p);
	return p;
}

static void resolve(const char *root_rel, const struct ld_opts *o,
		    struct ld_tree *t)
{
	struct elf_info info;
	struct sp_err e;
	char *root = at(root_rel);

	if (elf_inspect(root, &info, &e) < 0)
		fail_msg("%s", e.msg);
	if (ld_resolve(&info, root, o, t, &e) < 0)
		fail_msg("%s", e.msg);
	elf_info_release(&info);
	free(root);
}

/* Asserts where soname was found (rel NULL: not found) and by which step. */
static void expect(const struct ld_tree *t, const char *soname,
		   const char *rel, enum ld_via via)
{
	size_t i = ld_tree_find(t, soname);
	char *want;

	assert_true(i != LD_ROOT);
	if (!rel) {
		assert_null(t->libs[i].path);
		assert_int_equal(t->libs[i].via, LD_VIA_NONE);
		return;
	}
	want = at(rel);
	assert_non_null(t->libs[i].path);
	assert_string_equal(t->libs[i].path, want);
	assert_int_equal(t->libs[i].via, via);
	free(want);
}

/* DT_RPATH serves the object's own needs and, inherited, those of the
 * libraries it loads. */
static void test_rpath_inherited(void **state)
{
	struct ld_opts o;
	struct ld_tree t;

	(void)state;
	if (!have_cc)
		skip();
	isolated(&o);
	resolve("r/rpath.so", &o, &t);
	assert_int_equal(t.nlibs, 2);
	expect(&t, "liba.so", "r/../lib2/liba.so", LD_VIA_RPATH);
	expect(&t, "libb.so", "r/../lib1/libb.so", LD_VIA_RPATH);
	assert_int_equal(t.libs[ld_tree_find(&t, "libb.so")].parent,
			 ld_tree_find(&t, "liba.so"));
	ld_tree_release(&t);
}

/* DT_RUNPATH serves only the object's own needs. */
static void test_runpath_not_inherited(void **state)
{
	struct ld_opts o;
	struct ld_tree t;
	size_t b;

	(void)state;
	if (!have_cc)
		skip();
	isolated(&o);
	resolve("r/runpath.so", &o, &t);
	expect(&t, "liba.so", "r/../lib2/liba.so", LD_VIA_RUNPATH);
	expect(&t, "libb.so", NULL, LD_VIA_NONE);
	b = ld_tree_find(&t, "libb.so");
	assert_int_equal(t.libs[b].ntried, 0);
	ld_tree_release(&t);
}

/* RPATH comes before LD_LIBRARY_PATH, which comes before RUNPATH. */
static void test_ld_library_path_order(void **state)
{
	struct ld_opts o;
	struct ld_tree t;
	char *lib3 = at("lib3");

	(void)state;
	if (!have_cc)
		skip();
	isolated(&o);
	o.ld_library_path = lib3;
	resolve("r/rpath.so", &o, &t);
	expect(&t, "liba.so", "r/../lib2/liba.so", LD_VIA_RPATH);
	ld_tree_release(&t);
	resolve("r/runpath.so", &o, &t);
	expect(&t, "liba.so", "lib3/liba.so", LD_VIA_LD_LIBRARY_PATH);
	ld_tree_release(&t);
	free(lib3);
}

/* Each folder searched in vain before a library's is kept once, stat'ed
 * (a missing one with its errno): a library of the same name put there
 * later would be the one loaded (server/reuse.h checks them). */
static void test_searched_dirs(void **state)
{
	struct ld_opts o;
	struct ld_tree t;
	char *empty = at("empty"), *missing = at("missing"), *list;
	size_t a;

	(void)state;
	if (!have_cc)
		skip();
	assert_int_equal(mkdir(empty, 0755), 0);
	assert_true(asprintf(&list, "%s:%s:%s", empty, missing, empty) > 0);
	isolated(&o);
	o.ld_library_path = list;
	resolve("r/runpath.so", &o, &t);
	expect(&t, "liba.so", "r/../lib2/liba.so", LD_VIA_RUNPATH);
	a = ld_tree_find(&t, "liba.so");
	assert_int_equal(t.libs[a].ndirs, 2);
	assert_string_equal(t.libs[a].dirs[0].path, empty);
	assert_int_equal(t.libs[a].dirs[0].err, 0);
	assert_true(S_ISDIR(t.libs[a].dirs[0].st.st_mode));
	assert_string_equal(t.libs[a].dirs[1].path, missing);
	assert_int_equal(t.libs[a].dirs[1].err, ENOENT);
	ld_tree_release(&t);
	rmdir(empty);
	free(list);
	free(empty);
	free(missing);
}

/* $ORIGIN of the root is what the caller says (cargo's directory), not
 * where the file being read is. */
static void test_root_origin(void **state)
{
	struct ld_opts o;
	struct ld_tree t;
	struct elf_info info;
	struct sp_err e;
	char *root = at("r/rpath.so"), *origin = at("r");

	(void)state;
	if (!have_cc)
		skip();
	assert_int_equal(run("mkdir -p staged/deep &&"
			     " cp r/rpath.so staged/deep/x.so"),
			 0);
	isolated(&o);
	assert_int_equal(elf_inspect("staged/deep/x.so", &info, &e), 0);
	/* Without the origin, $ORIGIN is staged/deep: nothing there. */
	assert_int_equal(ld_resolve(&info, "staged/deep/x.so", &o, &t, &e), 0);
	expect(&t, "liba.so", NULL, LD_VIA_NONE);
	ld_tree_release(&t);
	o.root_origin = origin;
	assert_int_equal(ld_resolve(&info, "staged/deep/x.so", &o, &t, &e), 0);
	expect(&t, "liba.so", "r/../lib2/liba.so", LD_VIA_RPATH);
	ld_tree_release(&t);
	elf_info_release(&info);
	free(root);
	free(origin);
}

/* cargo's linked paths find what no loader rule finds; a file that is not
 * a usable library is skipped and the reason kept. */
static void test_linked_paths_and_skips(void **state)
{
	struct ld_opts o;
	struct ld_tree t;
	char *bad = at("bad"), *lib1 = at("lib1"), *lib2 = at("lib2");
	const char *linked[] = {bad, lib2, lib1};
	size_t b, k;
	int saw_bad = 0;

	(void)state;
	if (!have_cc)
		skip();
	isolated(&o);
	resolve("r/plain.so", &o, &t);
	expect(&t, "liba.so", NULL, LD_VIA_NONE);
	ld_tree_release(&t);

	o.linked_paths = linked;
	o.nlinked = 3;
	resolve("r/plain.so", &o, &t);
	expect(&t, "liba.so", "lib2/liba.so", LD_VIA_LINKED_PATH);
	expect(&t, "libb.so", "lib1/libb.so", LD_VIA_LINKED_PATH);
	ld_tree_release(&t);

	/* Only the bad candidate: not found, and the list says why. */
	o.nlinked = 1;
	o.lib_paths = (const char *[]){lib2};
	o.nlib = 1;
	resolve("r/plain.so", &o, &t);
	expect(&t, "liba.so", "lib2/liba.so", LD_VIA_LIB_PATH);
	b = ld_tree_find(&t, "libb.so");
	assert_null(t.libs[b].path);
	for (k = 0; k < t.libs[b].ntried; k++)
		saw_bad |= strstr(t.libs[b].tried[k], "bad/libb.so") != NULL &&
			   strstr(t.libs[b].tried[k], "not") != NULL;
	assert_true(saw_bad);
	ld_tree_release(&t);
	free(bad);
	free(lib1);
	free(lib2);
}

static int no_descend(const char *soname, const char *path, void *arg)
{
	(void)path;
	(void)arg;
	return strcmp(soname, "liba.so") != 0;
}

/* A library the caller will not bundle is found but not looked into. */
static void test_descend(void **state)
{
	struct ld_opts o;
	struct ld_tree t;

	(void)state;
	if (!have_cc)
		skip();
	isolated(&o);
	o.descend = no_descend;
	resolve("r/rpath.so", &o, &t);
	assert_int_equal(t.nlibs, 1);
	assert_false(t.libs[0].descended);
	ld_tree_release(&t);
}

/* The system's own libraries resolve with the real configuration: libm
 * needs libc and the loader, and libc needs the loader too, which is
 * resolved once, for its first needer. */
static void test_system(void **state)
{
	struct ld_opts o = {0};
	struct ld_tree t;
	struct elf_info info;
	struct sp_err e;
	size_t i;

	(void)state;
	if (elf_inspect(LIBM, &info, &e) < 0)
		skip();
	assert_int_equal(ld_resolve(&info, LIBM, &o, &t, &e), 0);
	elf_info_release(&info);
	i = ld_tree_find(&t, "libc.so.6");
	assert_true(i != LD_ROOT);
	assert_non_null(t.libs[i].path);
	assert_true(t.libs[i].via == LD_VIA_LD_SO_CONF ||
		    t.libs[i].via == LD_VIA_DEFAULT);
	assert_string_equal(path_basename(t.libs[i].path), "libc.so.6");
	i = ld_tree_find(&t, LOADER);
	assert_true(i != LD_ROOT);
	assert_non_null(t.libs[i].path);
	assert_int_equal(t.libs[i].parent, LD_ROOT);
	assert_int_equal(t.nlibs, 2);
	ld_tree_release(&t);
}

/* A declared search (spoke wheel) reads only what the caller declared:
 * RPATH and RUNPATH elements that start at $ORIGIN and lib_paths; never
 * LD_LIBRARY_PATH, an absolute RPATH, ld.so.conf or the default
 * directories, however the options are otherwise set. */
static void test_declared_only(void **state)
{
	struct ld_opts o;
	struct ld_tree t;
	struct elf_info info;
	struct sp_err e;
	char *lib2 = at("lib2"), *lib3 = at("lib3");
	size_t i;

	(void)state;
	if (!have_cc)
		skip();
	assert_int_equal(run("cc -shared -fPIC -o r/abs.so r.c -Llib2 -la"
			     " -Wl,--allow-shlib-undefined"
			     " -Wl,--disable-new-dtags -Wl,-rpath,'%s'",
			     lib2),
			 0);
	isolated(&o);
	resolve("r/abs.so", &o, &t);
	expect(&t, "liba.so", "lib2/liba.so", LD_VIA_RPATH);
	ld_tree_release(&t);
	o.declared_only = 1;
	resolve("r/abs.so", &o, &t);
	expect(&t, "liba.so", NULL, LD_VIA_NONE);
	ld_tree_release(&t);
	o.lib_paths = (const char *[]){lib2};
	o.nlib = 1;
	resolve("r/abs.so", &o, &t);
	expect(&t, "liba.so", "lib2/liba.so", LD_VIA_LIB_PATH);
	ld_tree_release(&t);

	/* $ORIGIN elements still count; LD_LIBRARY_PATH, which would come
	 * before RUNPATH, does not. */
	o.ld_library_path = lib3;
	resolve("r/runpath.so", &o, &t);
	expect(&t, "liba.so", "r/../lib2/liba.so", LD_VIA_RUNPATH);
	ld_tree_release(&t);
	resolve("r/rpath.so", &o, &t);
	expect(&t, "liba.so", "r/../lib2/liba.so", LD_VIA_RPATH);
	/* $ORIGIN/../lib1 leaves the module's folder for one nobody
	 * declared. */
	expect(&t, "libb.so", NULL, LD_VIA_NONE);
	ld_tree_release(&t);
	o.nlib = 0;
	resolve("r/rpath.so", &o, &t);
	expect(&t, "liba.so", NULL, LD_VIA_NONE);
	ld_tree_release(&t);

	/* However many ".." lead from $ORIGIN to the system's folders, they
	 * are not searched; below $ORIGIN is. */
	assert_int_equal(
	    run("mkdir -p r/sub && cp lib2/liba.so r/sub/ &&"
		" cc -shared -fPIC -o r/escape.so r.c -Llib2 -la"
		" -Wl,--allow-shlib-undefined -Wl,--enable-new-dtags"
		" -Wl,-rpath,'$ORIGIN/../../../../../../../..%s'"
		" -Wl,-rpath,'$ORIGIN/sub/../../r/sub'",
		lib2),
	    0);
	resolve("r/escape.so", &o, &t);
	expect(&t, "liba.so", "r/sub/../../r/sub/liba.so", LD_VIA_RUNPATH);
	ld_tree_release(&t);
	assert_int_equal(run("rm -r r/sub"), 0);
	resolve("r/escape.so", &o, &t);
	expect(&t, "liba.so", NULL, LD_VIA_NONE);
	ld_tree_release(&t);
	/* The test is of the declared search: the loader's finds it. */
	o.declared_only = 0;
	o.ld_library_path = NULL;
	resolve("r/escape.so", &o, &t);
	i = ld_tree_find(&t, "liba.so");
	assert_true(i != LD_ROOT);
	assert_int_equal(t.libs[i].via, LD_VIA_RUNPATH);
	ld_tree_release(&t);
	o.declared_only = 1;

	/* The system's configuration, unset here, is not read either: libm's
	 * libc is not found, and nothing was tried. */
	memset(&o, 0, sizeof(o));
	o.declared_only = 1;
	if (elf_inspect(LIBM, &info, &e) == 0) {
		assert_int_equal(ld_resolve(&info, LIBM, &o, &t, &e), 0);
		i = ld_tree_find(&t, "libc.so.6");
		assert_true(i != LD_ROOT);
		assert_null(t.libs[i].path);
		assert_int_equal(t.libs[i].ntried, 0);
		ld_tree_release(&t);
		elf_info_release(&info);
	}
	free(lib2);
	free(lib3);
}

static void test_expand_origin(void **state)
{
	char *s;

	(void)state;
	s = ld_expand_origin("$ORIGIN/../lib:${ORIGIN}:$ORIGINAL:x", "/o");
	assert_string_equal(s, "/o/../lib:/o:$ORIGINAL:x");
	free(s);
	s = ld_expand_origin("", "/o");
	assert_string_equal(s, "");
	free(s);
}

static void test_conf(void **state)
{
	struct sp_err e;
	char **dirs, *conf = at("ld.so.conf");
	size_t n;

	(void)state;
	assert_int_equal(run("mkdir -p conf.d/sub"), 0);
	write_file("ld.so.conf", "# comment\n"
				 "/first/dir   # trailing comment\n"
				 "include conf.d/*.conf\n"
				 "\n"
				 "hwcap 1 nosegneg\n"
				 "/old/format=libc6\n"
				 "/first/dir/\n"
				 "include /nonexistent/*.conf\n");
	write_file("conf.d/b.conf", "/from/b\ninclude sub/*.conf\n");
	write_file("conf.d/a.conf", "  /from/a  \n");
	write_file("conf.d/ignored.txt", "/not/read\n");
	write_file("conf.d/sub/c.conf", "/from/c\n");
	assert_int_equal(ld_conf_dirs(conf, &dirs, &n, &e), 0);
	assert_int_equal(n, 5);
	assert_string_equal(dirs[0], "/first/dir");
	assert_string_equal(dirs[1], "/from/a");
	assert_string_equal(dirs[2], "/from/b");
	assert_string_equal(dirs[3], "/from/c");
	assert_string_equal(dirs[4], "/old/format");
	assert_null(dirs[5]);
	ld_strv_free(dirs);

	/* A missing file has no directories; endless includes are refused. */
	assert_int_equal(ld_conf_dirs("/nonexistent.conf", &dirs, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_null(dirs[0]);
	ld_strv_free(dirs);
	write_file("loop.conf", "include loop.conf\n");
	free(conf);
	conf = at("loop.conf");
	assert_int_equal(ld_conf_dirs(conf, &dirs, &n, &e), -1);
	assert_non_null(strstr(e.msg, "nest"));
	free(conf);
}

/* Writes "<tmpdir>/<rel>\n" to the file at path. */
static void conf_listing(const char *path, const char *rel)
{
	char *dir = at(rel), *text;

	assert_true(asprintf(&text, "%s\n", dir) > 0);
	write_file(path, text);
	free(text);
	free(dir);
}

static void expect_liba_in(const struct ld_opts *o, const char *rel)
{
	struct ld_tree t;

	resolve("r/plain.so", o, &t);
	expect(&t, "liba.so", rel, LD_VIA_LD_SO_CONF);
	ld_tree_release(&t);
}

/* ld_resolve keeps what it read of ld.so.conf for the next call (a
 * worker's next job), and must still see every change: a file edited in
 * place to the same size, a file added to an included directory.  The
 * sleeps put the files out of the racy window (common/stamp.h), so that the
 * cache is really used; without them every call would read anew and this
 * test could not fail. */
static void test_conf_cached(void **state)
{
	struct ld_opts o;
	char *conf = at("cache.conf");

	(void)state;
	if (!have_cc)
		skip();
	assert_int_equal(run("mkdir -p cache.d"), 0);
	write_file("cache.conf", "include cache.d/*.conf\n");
	conf_listing("cache.d/m.conf", "lib2");
	isolated(&o);
	o.ld_so_conf = conf;
	sleep(STAMP_RACY_S + 1);
	expect_liba_in(&o, "lib2/liba.so");
	expect_liba_in(&o, "lib2/liba.so");

	conf_listing("cache.d/m.conf", "lib3");
	expect_liba_in(&o, "lib3/liba.so");

	sleep(STAMP_RACY_S + 1);
	expect_liba_in(&o, "lib3/liba.so");
	conf_listing("cache.d/a.conf", "lib2");
	expect_liba_in(&o, "lib2/liba.so");
	free(conf);
}

/* In a stamp epoch (a worker's build) the configuration is checked once:
 * an edit shows only in the next epoch.  Epoch 0 checks every time. */
static void test_conf_epoch(void **state)
{
	struct ld_opts o;
	char *conf = at("epoch.conf");

	(void)state;
	if (!have_cc)
		skip();
	assert_int_equal(run("mkdir -p epoch.d"), 0);
	write_file("epoch.conf", "include epoch.d/*.conf\n");
	conf_listing("epoch.d/m.conf", "lib2");
	isolated(&o);
	o.ld_so_conf = conf;
	sleep(STAMP_RACY_S + 1);
	stamp_epoch_set(7);
	expect_liba_in(&o, "lib2/liba.so");
	conf_listing("epoch.d/m.conf", "lib3");
	expect_liba_in(&o, "lib2/liba.so"); /* same build, same view */
	stamp_epoch_set(8);
	expect_liba_in(&o, "lib3/liba.so");
	conf_listing("epoch.d/m.conf", "lib2");
	stamp_epoch_set(0);
	expect_liba_in(&o, "lib2/liba.so");
	free(conf);
}

static void test_default_dirs(void **state)
{
	const char *const *d;
	size_t n;

	(void)state;
	d = ld_default_dirs(&n);
	assert_int_equal(n, 6);
#if defined(__x86_64__)
	assert_string_equal(d[0], "/lib/x86_64-linux-gnu");
	assert_string_equal(d[1], "/usr/lib/x86_64-linux-gnu");
#endif
	assert_string_equal(d[5], "/usr/lib");
}

/* Writes tmpdir/rel, an object mkelf.h makes for (em, cls, data). */
static void put_obj(const char *rel, unsigned em, int cls, int data,
		    const char *soname, const char *needed)
{
	struct mkelf_spec sp = {0};
	const char *nv[1] = {needed};
	unsigned char *img;
	char *path = at(rel);
	size_t len;
	FILE *f;

	sp.machine = em;
	sp.elfclass = cls;
	sp.data = data;
	sp.soname = soname;
	sp.needed = nv;
	sp.nneeded = needed ? 1 : 0;
	img = mkelf_build(&sp, &len);
	assert_non_null(img);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(img);
	free(path);
}

/* A foreign object's library must match its class, machine and byte
 * order: an aarch64 root skips the x86_64 and the big-endian aarch64
 * candidates, and the reason is kept. */
static void test_foreign_candidates(void **state)
{
	struct ld_opts o;
	struct ld_tree t;
	char *a = at("fa"), *b = at("fb"), *c = at("fc");
	const char *dirs[] = {a, b, c};
	size_t i, k;
	int saw = 0;

	(void)state;
	assert_int_equal(run("mkdir -p '%s' '%s' '%s' '%s/fr'", a, b, c,
			     tmpdir),
			 0);
	put_obj("fr/root.so", EM_AARCH64, ELFCLASS64, ELFDATA2LSB, "root.so",
		"libx.so.1");
	put_obj("fa/libx.so.1", EM_X86_64, ELFCLASS64, ELFDATA2LSB,
		"libx.so.1", NULL);
	put_obj("fb/libx.so.1", EM_AARCH64, ELFCLASS64, ELFDATA2MSB,
		"libx.so.1", NULL);
	put_obj("fc/libx.so.1", EM_AARCH64, ELFCLASS64, ELFDATA2LSB,
		"libx.so.1", NULL);
	isolated(&o);
	o.lib_paths = dirs;
	o.nlib = 2;
	resolve("fr/root.so", &o, &t);
	i = ld_tree_find(&t, "libx.so.1");
	assert_true(i != LD_ROOT);
	assert_null(t.libs[i].path);
	for (k = 0; k < t.libs[i].ntried; k++)
		saw += strstr(t.libs[i].tried[k], "another machine, class or "
						  "byte order") != NULL;
	assert_int_equal(saw, 2);
	ld_tree_release(&t);
	o.nlib = 3;
	resolve("fr/root.so", &o, &t);
	expect(&t, "libx.so.1", "fc/libx.so.1", LD_VIA_LIB_PATH);
	ld_tree_release(&t);
	free(a);
	free(b);
	free(c);
}

/* A foreign architecture's default directories: the cross toolchain's,
 * then Debian's multiarch ones, then the plain ones. */
static void test_arch_dirs(void **state)
{
	static const char *const want[] = {
	    "/usr/s390x-linux-gnu/lib", "/lib/s390x-linux-gnu",
	    "/usr/lib/s390x-linux-gnu", "/lib64", "/usr/lib64", "/lib",
	    "/usr/lib"};
	char **d;
	size_t n, i;

	(void)state;
	d = ld_arch_dirs("s390x-linux-gnu", "s390x-linux-gnu", &n);
	assert_non_null(d);
	assert_int_equal(n, sizeof(want) / sizeof(*want));
	for (i = 0; i < n; i++)
		assert_string_equal(d[i], want[i]);
	assert_null(d[n]);
	ld_strv_free(d);
	/* i686's cross toolchain is not named as its multiarch folders. */
	d = ld_arch_dirs("i386-linux-gnu", "i686-linux-gnu", &n);
	assert_non_null(d);
	assert_string_equal(d[0], "/usr/i686-linux-gnu/lib");
	assert_string_equal(d[1], "/lib/i386-linux-gnu");
	ld_strv_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rpath_inherited),
	    cmocka_unit_test(test_runpath_not_inherited),
	    cmocka_unit_test(test_ld_library_path_order),
	    cmocka_unit_test(test_searched_dirs),
	    cmocka_unit_test(test_root_origin),
	    cmocka_unit_test(test_linked_paths_and_skips),
	    cmocka_unit_test(test_descend),
	    cmocka_unit_test(test_system),
	    cmocka_unit_test(test_declared_only),
	    cmocka_unit_test(test_expand_origin),
	    cmocka_unit_test(test_conf),
	    cmocka_unit_test(test_conf_cached),
	    cmocka_unit_test(test_conf_epoch),
	    cmocka_unit_test(test_default_dirs),
	    cmocka_unit_test(test_foreign_candidates),
	    cmocka_unit_test(test_arch_dirs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
