/*
 * Unit tests of worker/elf/patch: small shared objects built here with cc,
 * patched one edit at a time and all together, then checked three ways:
 * elf_inspect(), readelf, and the dynamic loader itself (dlopen in a forked
 * child).  The input must come out unchanged, byte for byte and mtime, and
 * the file and memory paths must give the same bytes.  Hostile input
 * (truncated, foreign, mutated) must give errors, never crashes.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsx.h"
#include "worker/elf/inspect.h"
#include "worker/elf/patch.h"

#include "tests/unit/failing_pread.h"

#if defined(__x86_64__)
#define LIBM "/lib/x86_64-linux-gnu/libm.so.6"
#else
#define LIBM "/lib/aarch64-linux-gnu/libm.so.6"
#endif

/* A name longer than any string in the test libraries, so that renaming to
 * it must grow the string table. */
#define LONG_LIBM "libm-renamed-by-spoke-with-a-long-name.so.6"

static char tmpdir[64];
static int have_cc;

static const char lib_src[] =
    "#include <math.h>\n"
    "volatile double in = 16.0;\n"
    "int a_value(void) { return (int)sqrt(in) + 38; }\n";

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
	strcpy(tmpdir, "/tmp/spoke-elfpatch-XXXXXX");
	if (!mkdtemp(tmpdir) || chdir(tmpdir) < 0)
		return -1;
	write_file("a.c", lib_src, strlen(lib_src));
	/* a.so: SONAME, no RPATH; r.so: DT_RPATH, no SONAME; n.so: RUNPATH.
	 * -fno-builtin keeps the call to sqrt, so libm is really needed. */
	have_cc =
	    run("cc -shared -fPIC -fno-builtin -o a.so a.c -Wl,--no-as-needed "
		"-lm -Wl,-soname,liba.so.1 2>/dev/null &&"
		" cc -shared -fPIC -fno-builtin -o r.so a.c -Wl,--no-as-needed "
		"-lm -Wl,--disable-new-dtags,-rpath,/opt/some/old/rpath/lib &&"
		" cc -shared -fPIC -fno-builtin -o n.so a.c -Wl,--no-as-needed "
		"-lm -Wl,--enable-new-dtags,-rpath,/opt/x") == 0;
	if (have_cc && symlink(LIBM, LONG_LIBM) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return run("rm -rf '%s'", tmpdir) == 0 ? 0 : -1;
}

static char *slurp(const char *path, size_t *len)
{
	struct sp_err e;
	char *b = fsx_read_all(path, len, &e);

	if (!b)
		fail_msg("%s", e.msg);
	return b;
}

/* Patches in to out through both paths (file and memory), checks that they
 * agree and that in did not change.  Returns 0 or -1 (e filled). */
static int patch(const char *in, const char *out, const struct elf_edit *ed,
		 struct sp_err *e)
{
	struct stat before, after, os;
	char *orig, *now, *img;
	void *mem = NULL;
	size_t len, nlen, mlen = 0;
	int ifd, ofd, rc, mrc;

	assert_int_equal(stat(in, &before), 0);
	orig = slurp(in, &len);
	unlink(out);
	ifd = open(in, O_RDONLY);
	assert_true(ifd >= 0);
	ofd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0755);
	assert_true(ofd >= 0);
	rc = elf_patch_fd(ifd, in, ed, ofd, out, e);
	close(ifd);
	close(ofd);
	mrc = elf_patch_mem(orig, len, in, ed, &mem, &mlen, NULL);
	assert_int_equal(rc, mrc);
	assert_int_equal(stat(in, &after), 0);
	assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	assert_int_equal(before.st_ino, after.st_ino);
	now = slurp(in, &nlen);
	assert_int_equal(nlen, len);
	assert_memory_equal(now, orig, len);
	if (rc == 0) {
		img = slurp(out, &nlen);
		assert_int_equal(stat(out, &os), 0);
		assert_int_equal(nlen, mlen);
		assert_memory_equal(img, mem, mlen);
		free(img);
	} else {
		assert_null(mem);
	}
	free(mem);
	free(now);
	free(orig);
	return rc;
}

static void patch_ok(const char *in, const char *out, const struct elf_edit *ed)
{
	struct sp_err e;

	sp_err_clear(&e);
	if (patch(in, out, ed, &e) < 0)
		fail_msg("patching '%s': %s", in, e.msg);
}

/* readelf's output for path (stdout and stderr). */
static char *readelf(const char *opts, const char *path)
{
	char cmd[512], *buf;
	size_t n = 0, cap = 1 << 16;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "readelf %s '%s' 2>&1", opts, path);
	f = popen(cmd, "r");
	assert_non_null(f);
	buf = malloc(cap + 1);
	assert_non_null(buf);
	for (;;) {
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (n < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap + 1);
		assert_non_null(buf);
	}
	buf[n] = '\0';
	pclose(f);
	return buf;
}

static void readelf_has(const char *path, const char *needle)
{
	char *out = readelf("-dW", path);

	if (!strstr(out, needle))
		fail_msg("readelf -d '%s' lacks '%s':\n%s", path, needle, out);
	free(out);
}

static void readelf_lacks(const char *path, const char *needle)
{
	char *out = readelf("-dW", path);

	if (strstr(out, needle))
		fail_msg("readelf -d '%s' has '%s':\n%s", path, needle, out);
	free(out);
}

/* readelf -a reads every table; it must find nothing to complain of. */
static void readelf_clean(const char *path)
{
	char *out = readelf("-aW", path);

	if (strstr(out, "Error") || strstr(out, "Warning") ||
	    strstr(out, "warning"))
		fail_msg("readelf -a '%s' complains:\n%s", path, out);
	free(out);
}

/* Loads path with the dynamic loader in a child and calls a_value(). */
static int loads(const char *path)
{
	char abs[1024];
	pid_t pid;
	int st;

	snprintf(abs, sizeof(abs), "%s/%s", tmpdir, path);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		void *h = dlopen(abs, RTLD_NOW | RTLD_LOCAL);
		int (*fn)(void);

		if (!h) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			_exit(2);
		}
		*(void **)&fn = dlsym(h, "a_value");
		_exit(fn && fn() == 42 ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void inspect(const char *path, struct elf_info *info)
{
	struct sp_err e;

	if (elf_inspect(path, info, &e) < 0)
		fail_msg("%s", e.msg);
}

static int needs(const struct elf_info *info, const char *name)
{
	size_t i;

	for (i = 0; i < info->nneeded; i++)
		if (strcmp(info->needed[i], name) == 0)
			return 1;
	return 0;
}

static off_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_no_edit(void **state)
{
	struct elf_edit ed = {0};
	char *a, *b;
	size_t na, nb;

	(void)state;
	if (!have_cc)
		skip();
	patch_ok("a.so", "same.so", &ed);
	a = slurp("a.so", &na);
	b = slurp("same.so", &nb);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	free(a);
	free(b);
	assert_int_equal(loads("same.so"), 0);
}

static void test_set_rpath(void **state)
{
	struct elf_edit ed = {.set_rpath = "$ORIGIN/../lib"};
	struct elf_info info;

	(void)state;
	if (!have_cc)
		skip();
	/* a.so has no RPATH: a new entry and a new string, a new segment. */
	patch_ok("a.so", "rp.so", &ed);
	inspect("rp.so", &info);
	assert_string_equal(info.runpath, "$ORIGIN/../lib");
	assert_null(info.rpath);
	assert_string_equal(info.soname, "liba.so.1");
	assert_int_equal(info.nneeded, 2);
	assert_string_equal(info.needed[0], "libm.so.6");
	assert_string_equal(info.needed[1], "libc.so.6");
	elf_info_release(&info);
	assert_true(size_of("rp.so") > size_of("a.so"));
	readelf_has("rp.so", "Library runpath: [$ORIGIN/../lib]");
	readelf_clean("rp.so");
	assert_int_equal(loads("rp.so"), 0);

	/* --force-rpath: DT_RPATH, and no DT_RUNPATH. */
	ed.force_rpath = 1;
	patch_ok("a.so", "frp.so", &ed);
	inspect("frp.so", &info);
	assert_string_equal(info.rpath, "$ORIGIN/../lib");
	assert_null(info.runpath);
	elf_info_release(&info);
	readelf_has("frp.so", "Library rpath: [$ORIGIN/../lib]");
	readelf_lacks("frp.so", "runpath");
	readelf_clean("frp.so");
	assert_int_equal(loads("frp.so"), 0);
}

/* An RPATH replaced by a shorter one takes the old string's place: the
 * file keeps its size and layout. */
static void test_rpath_in_place(void **state)
{
	struct elf_edit ed = {.set_rpath = "$ORIGIN"};
	struct elf_info info;

	(void)state;
	if (!have_cc)
		skip();
	patch_ok("r.so", "r1.so", &ed);
	inspect("r1.so", &info);
	assert_string_equal(info.runpath, "$ORIGIN");
	assert_null(info.rpath);
	elf_info_release(&info);
	assert_int_equal(size_of("r1.so"), size_of("r.so"));
	readelf_has("r1.so", "Library runpath: [$ORIGIN]");
	readelf_lacks("r1.so", "Library rpath");
	readelf_clean("r1.so");
	assert_int_equal(loads("r1.so"), 0);

	/* A longer one does not fit: the table moves. */
	ed.set_rpath = "/opt/some/much/longer/rpath/than/before/lib:$ORIGIN";
	patch_ok("r.so", "r2.so", &ed);
	inspect("r2.so", &info);
	assert_string_equal(info.runpath, ed.set_rpath);
	elf_info_release(&info);
	assert_true(size_of("r2.so") > size_of("r.so"));
	readelf_clean("r2.so");
	assert_int_equal(loads("r2.so"), 0);
}

static void test_replace_needed(void **state)
{
	static const char *const old[] = {"libm.so.6"};
	static const char *const new[] = {LONG_LIBM};
	struct elf_edit ed = {
	    .replace_old = old, .replace_new = new, .nreplace = 1};
	struct elf_info info;
	char *v;

	(void)state;
	if (!have_cc)
		skip();
	patch_ok("a.so", "rn.so", &ed);
	inspect("rn.so", &info);
	assert_int_equal(info.nneeded, 2);
	assert_string_equal(info.needed[0], LONG_LIBM);
	assert_string_equal(info.needed[1], "libc.so.6");
	assert_string_equal(info.soname, "liba.so.1");
	assert_null(info.runpath);
	elf_info_release(&info);
	readelf_has("rn.so", "Shared library: [" LONG_LIBM "]");
	readelf_clean("rn.so");
	/* The version requirement on libm follows the rename, as the loader
	 * matches it by file name. */
	v = readelf("-VW", "rn.so");
	if (!strstr(v, "File: " LONG_LIBM) && strstr(v, "File: libm.so.6"))
		fail_msg("version requirement not renamed:\n%s", v);
	free(v);
	/* The new name is not on the search path: the loader must say so,
	 * naming it (not crash). */
	assert_int_equal(loads("rn.so"), 2);

	/* Renaming to a name already in the table reuses it, in place. */
	{
		static const char *const o2[] = {"libm.so.6"};
		static const char *const n2[] = {"libc.so.6"};
		struct elf_edit ed2 = {
		    .replace_old = o2, .replace_new = n2, .nreplace = 1};

		patch_ok("a.so", "rn2.so", &ed2);
		assert_int_equal(size_of("rn2.so"), size_of("a.so"));
		inspect("rn2.so", &info);
		assert_string_equal(info.needed[0], "libc.so.6");
		elf_info_release(&info);
		readelf_clean("rn2.so");
	}
}

/* What repair does: set an RPATH and rename a DT_NEEDED to a library
 * that exists under the new name beside it; the result must load. */
static void test_rpath_and_replace(void **state)
{
	static const char *const old[] = {"libm.so.6"};
	static const char *const new[] = {LONG_LIBM};
	struct elf_edit ed = {.set_rpath = "$ORIGIN",
			      .replace_old = old,
			      .replace_new = new,
			      .nreplace = 1};
	struct elf_info info;

	(void)state;
	if (!have_cc)
		skip();
	patch_ok("a.so", "both.so", &ed);
	inspect("both.so", &info);
	assert_string_equal(info.runpath, "$ORIGIN");
	assert_string_equal(info.needed[0], LONG_LIBM);
	elf_info_release(&info);
	readelf_has("both.so", "Library runpath: [$ORIGIN]");
	readelf_has("both.so", "Shared library: [" LONG_LIBM "]");
	readelf_clean("both.so");
	assert_int_equal(loads("both.so"), 0);

	/* The same on a library that has an RPATH and no SONAME. */
	patch_ok("r.so", "rboth.so", &ed);
	inspect("rboth.so", &info);
	assert_string_equal(info.runpath, "$ORIGIN");
	assert_null(info.rpath);
	assert_null(info.soname);
	elf_info_release(&info);
	readelf_clean("rboth.so");
	assert_int_equal(loads("rboth.so"), 0);

	/* A patched file patched again: a second new segment. */
	ed.set_rpath = "$ORIGIN:/a/second/and/longer/search/path/here";
	ed.replace_old = new;
	ed.replace_new = old;
	patch_ok("both.so", "again.so", &ed);
	inspect("again.so", &info);
	assert_string_equal(info.runpath, ed.set_rpath);
	assert_string_equal(info.needed[0], "libm.so.6");
	elf_info_release(&info);
	readelf_clean("again.so");
	assert_int_equal(loads("again.so"), 0);
}

static void test_add_remove(void **state)
{
	static const char *const add[] = {"libdl.so.2", "libm.so.6"};
	static const char *const rm[] = {"libm.so.6"};
	struct elf_edit ed = {.add_needed = add, .nadd = 2};
	struct elf_info info;

	(void)state;
	if (!have_cc)
		skip();
	/* libm.so.6 is needed already: only libdl is added, first. */
	patch_ok("a.so", "add.so", &ed);
	inspect("add.so", &info);
	assert_int_equal(info.nneeded, 3);
	assert_string_equal(info.needed[0], "libdl.so.2");
	assert_string_equal(info.needed[1], "libm.so.6");
	assert_string_equal(info.needed[2], "libc.so.6");
	elf_info_release(&info);
	readelf_clean("add.so");
	assert_int_equal(loads("add.so"), 0);

	/* Removing shrinks the table in place. */
	memset(&ed, 0, sizeof(ed));
	ed.remove_needed = rm;
	ed.nremove = 1;
	patch_ok("a.so", "rm.so", &ed);
	assert_int_equal(size_of("rm.so"), size_of("a.so"));
	inspect("rm.so", &info);
	assert_int_equal(info.nneeded, 1);
	assert_string_equal(info.needed[0], "libc.so.6");
	elf_info_release(&info);
	readelf_lacks("rm.so", "libm.so.6");
	readelf_clean("rm.so");
}

static void test_soname(void **state)
{
	struct elf_edit ed = {.set_soname = "libspoke_renamed_soname.so.7"};
	struct elf_info info;

	(void)state;
	if (!have_cc)
		skip();
	patch_ok("a.so", "so1.so", &ed);
	inspect("so1.so", &info);
	assert_string_equal(info.soname, "libspoke_renamed_soname.so.7");
	elf_info_release(&info);
	readelf_clean("so1.so");
	assert_int_equal(loads("so1.so"), 0);
	/* n.so has none: it is added. */
	patch_ok("n.so", "so2.so", &ed);
	inspect("so2.so", &info);
	assert_string_equal(info.soname, "libspoke_renamed_soname.so.7");
	assert_string_equal(info.runpath, "/opt/x");
	elf_info_release(&info);
	readelf_has("so2.so", "Library soname: [libspoke_renamed_soname.so.7]");
	readelf_clean("so2.so");
	assert_int_equal(loads("so2.so"), 0);
}

/* Whichever read of the input fails, the error gives EIO and does not
 * call the input corrupt.  n grows until the n-th read is past the last
 * one the patch makes. */
static void test_read_error(void **state)
{
	struct elf_edit ed = {.set_soname = "libspoke_eio.so.1"};
	struct sp_err e;
	int ifd, ofd, n, rc = -1;

	(void)state;
	if (!have_cc)
		skip();
	ifd = open("a.so", O_RDONLY | O_CLOEXEC);
	assert_true(ifd >= 0);
	for (n = 0; n < 1000 && rc < 0; n++) {
		unlink("eio.so");
		ofd =
		    open("eio.so", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
		assert_true(ofd >= 0);
		eio_fd = ifd;
		eio_after = n;
		rc = elf_patch_fd(ifd, "a.so", &ed, ofd, "eio.so", &e);
		eio_fd = -1;
		close(ofd);
		if (rc < 0 &&
		    (!strstr(e.msg, "'a.so'") ||
		     !strstr(e.msg, strerror(EIO)) || strstr(e.msg, "corrupt")))
			fail_msg("read %d failed, and: %s", n, e.msg);
	}
	assert_int_equal(rc, 0);
	assert_true(n >= 3);
	close(ifd);
	unlink("eio.so");
}

static void test_all_together(void **state)
{
	static const char *const old[] = {"libm.so.6", "libnot-needed.so"};
	static const char *const new[] = {LONG_LIBM, "libunused.so"};
	static const char *const add[] = {"libdl.so.2"};
	static const char *const rm[] = {"libnot-needed-either.so"};
	struct elf_edit ed = {.set_rpath = "$ORIGIN/.",
			      .set_soname = "libx.so",
			      .replace_old = old,
			      .replace_new = new,
			      .nreplace = 2,
			      .add_needed = add,
			      .nadd = 1,
			      .remove_needed = rm,
			      .nremove = 1};
	struct elf_info info;

	(void)state;
	if (!have_cc)
		skip();
	patch_ok("n.so", "all.so", &ed);
	inspect("all.so", &info);
	assert_int_equal(info.nneeded, 3);
	assert_string_equal(info.needed[0], "libdl.so.2");
	assert_string_equal(info.needed[1], LONG_LIBM);
	assert_string_equal(info.needed[2], "libc.so.6");
	assert_false(needs(&info, "libunused.so"));
	assert_string_equal(info.runpath, "$ORIGIN/.");
	assert_string_equal(info.soname, "libx.so");
	elf_info_release(&info);
	readelf_clean("all.so");
	assert_int_equal(loads("all.so"), 0);
}

/* A spare PT_NULL entry takes the new PT_LOAD: the program header table
 * stays where it is, with as many entries. */
static void test_null_phdr_slot(void **state)
{
	struct elf_edit ed = {.set_rpath = "$ORIGIN/a/path/long/enough"};
	struct elf_info info;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	char *buf, *out;
	size_t len, olen, i;
	int found = 0;

	(void)state;
	if (!have_cc)
		skip();
	buf = slurp("a.so", &len);
	memcpy(&eh, buf, sizeof(eh));
	for (i = 0; i < eh.e_phnum; i++) {
		memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE)
			continue;
		/* Nothing needs the note at run time. */
		ph.p_type = PT_NULL;
		memcpy(buf + eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph));
		found = 1;
		break;
	}
	if (!found)
		skip();
	write_file("null.so", buf, len);
	free(buf);
	patch_ok("null.so", "null2.so", &ed);
	out = slurp("null2.so", &olen);
	memcpy(&eh, out, sizeof(eh));
	free(out);
	assert_int_equal(eh.e_phoff, sizeof(eh));
	inspect("null2.so", &info);
	assert_string_equal(info.runpath, ed.set_rpath);
	elf_info_release(&info);
	readelf_clean("null2.so");
	assert_int_equal(loads("null2.so"), 0);
}

/* ELFCLASS32: built without a 32-bit libc (-nostdlib), so it is only
 * read back, not loaded. */
static void test_elfclass32(void **state)
{
	static const char *const old[] = {"libdummy32.so"};
	static const char *const new[] = {"libdummy32-renamed-long.so"};
	struct elf_edit ed = {.set_rpath = "$ORIGIN/../lib",
			      .replace_old = old,
			      .replace_new = new,
			      .nreplace = 1};
	char *d;

	(void)state;
	if (run("echo 'int d32(void) { return 1; }' > d32.c && "
		"echo 'int d32(void); int x32(void) { return d32(); }' > x32.c "
		"&&"
		" cc -m32 -shared -fPIC -nostdlib -o libdummy32.so d32.c "
		"-Wl,-soname,libdummy32.so 2>/dev/null &&"
		" cc -m32 -shared -fPIC -nostdlib -o x32.so x32.c -L. "
		"-ldummy32 -Wl,-soname,libx32.so 2>/dev/null") != 0)
		skip();
	patch_ok("x32.so", "x32p.so", &ed);
	readelf_has("x32p.so", "Library runpath: [$ORIGIN/../lib]");
	readelf_has("x32p.so", "Shared library: [libdummy32-renamed-long.so]");
	readelf_has("x32p.so", "Library soname: [libx32.so]");
	readelf_clean("x32p.so");
	d = readelf("-hW", "x32p.so");
	if (!strstr(d, "ELF32"))
		fail_msg("not ELFCLASS32:\n%s", d);
	free(d);
}

static void expect_fail(const char *in, const char *needle)
{
	struct elf_edit ed = {.set_rpath = "$ORIGIN"};
	struct sp_err e;

	sp_err_clear(&e);
	if (patch(in, "fail.out", &ed, &e) == 0)
		fail_msg("'%s' was accepted", in);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' lacks '%s'", e.msg, needle);
}

static void test_bad_input(void **state)
{
	static const size_t cuts[] = {0, 1, 16, 63, 64, 200, 1000, 4096};
	struct elf_edit ed = {.set_rpath = "$ORIGIN"};
	struct sp_err e;
	char *buf;
	size_t len, i;

	(void)state;
	write_file("text", "hello, world\n", 13);
	expect_fail("text", "'text' is not an ELF file");
	if (!have_cc)
		skip();
	buf = slurp("a.so", &len);
	for (i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		write_file("cut.so", buf, cuts[i]);
		expect_fail("cut.so", "'cut.so'");
	}
	/* Cut inside the tables the patch must read. */
	write_file("cut.so", buf, len / 3);
	expect_fail("cut.so", "'cut.so' is truncated or corrupt");
	/* Another machine is patched as it is; an unknown byte order is
	 * refused (libelf takes such a file for no ELF at all). */
	buf[EI_DATA] = 9;
	write_file("foreign.so", buf, len);
	expect_fail("foreign.so", "'foreign.so' is not an ELF file");
	buf[EI_DATA] = ELFDATA2LSB;
	/* The ELF type is named as elf_inspect names it. */
	buf[16] = (char)ET_CORE;
	write_file("core.so", buf, len);
	expect_fail("core.so", "'core.so' is a core dump, not a shared library");
	buf[16] = 0x77;
	write_file("odd.so", buf, len);
	expect_fail("odd.so", "'odd.so' has unknown ELF type 119");
	free(buf);
	/* The memory path names the image too. */
	{
		void *out = (void *)1;
		size_t olen = 1;

		assert_int_equal(
		    elf_patch_mem("xx", 2, "img", &ed, &out, &olen, &e), -1);
		assert_null(out);
		assert_non_null(strstr(e.msg, "'img'"));
	}
}

/* An executable, PIE or not, is patched as a library is (spoke repair
 * points one at the libraries it bundles): renamed DT_NEEDED and a new
 * DT_RPATH, which grow the string table into a new segment, and the
 * patched program runs, finding libm under its new name through $ORIGIN.
 * An object file is still refused. */
static void test_executables(void **state)
{
	static const char main_src[] =
	    "#include <math.h>\n"
	    "volatile double in = 16.0;\n"
	    "int main(void) { return (int)sqrt(in) - 4; }\n";
	static const char *const olds[] = {"libm.so.6"};
	static const char *const news[] = {LONG_LIBM};
	struct elf_edit ed = {.set_rpath = "$ORIGIN",
			      .force_rpath = 1,
			      .replace_old = olds,
			      .replace_new = news,
			      .nreplace = 1};
	static const char *const kinds[] = {"-pie -fPIE", "-no-pie -fno-PIE"};
	struct sp_err e;
	size_t i;
	int ifd, ofd;

	(void)state;
	if (!have_cc)
		skip();
	write_file("main.c", main_src, strlen(main_src));
	for (i = 0; i < 2; i++) {
		assert_int_equal(run("cc %s -fno-builtin -o exe main.c "
				     "-Wl,--no-as-needed -lm",
				     kinds[i]),
				 0);
		patch_ok("exe", "exe.out", &ed);
		readelf_has("exe.out", "Library rpath: [$ORIGIN]");
		readelf_has("exe.out", "Shared library: [" LONG_LIBM "]");
		readelf_clean("exe.out");
		assert_int_equal(run("env -u LD_LIBRARY_PATH ./exe.out"), 0);
	}
	assert_int_equal(run("cc -c -fPIC -o main.o main.c"), 0);
	ifd = open("main.o", O_RDONLY);
	assert_true(ifd >= 0);
	unlink("main.o.out");
	ofd = open("main.o.out", O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(ofd >= 0);
	assert_int_equal(
	    elf_patch_fd(ifd, "main.o", &ed, ofd, "main.o.out", &e), -1);
	assert_non_null(strstr(e.msg, "'main.o' is an object file"));
	close(ifd);
	close(ofd);
}

/* Random byte changes: whatever comes back, nothing may crash or leak
 * (run under ASan), and a success must give a file elf_inspect reads. */
static void test_mutated(void **state)
{
	static const char *const old[] = {"libm.so.6"};
	static const char *const new[] = {LONG_LIBM};
	struct elf_edit ed = {.set_rpath = "$ORIGIN",
			      .replace_old = old,
			      .replace_new = new,
			      .nreplace = 1};
	struct sp_err e;
	char *orig, *buf;
	void *out;
	size_t len, olen, i, k, pos;
	uint32_t seed = 4242;

	(void)state;
	if (!have_cc)
		skip();
	orig = slurp("r.so", &len);
	buf = malloc(len);
	assert_non_null(buf);
	for (i = 0; i < 3000; i++) {
		memcpy(buf, orig, len);
		for (k = 0; k < 1 + i % 6; k++) {
			seed = seed * 1103515245u + 12345u;
			/* Mostly the first pages (headers, dynamic tables);
			 * sometimes anywhere, where the section headers and
			 * .dynamic are. */
			pos = (seed >> 8) % (i % 3 ? 2048 : len);
			seed = seed * 1103515245u + 12345u;
			buf[pos] = (char)(seed >> 16);
		}
		if (elf_patch_mem(buf, len, "mut.so", &ed, &out, &olen, &e) ==
		    0)
			free(out);
	}
	free(buf);
	free(orig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_edit),
	    cmocka_unit_test(test_set_rpath),
	    cmocka_unit_test(test_rpath_in_place),
	    cmocka_unit_test(test_replace_needed),
	    cmocka_unit_test(test_rpath_and_replace),
	    cmocka_unit_test(test_add_remove),
	    cmocka_unit_test(test_soname),
	    cmocka_unit_test(test_read_error),
	    cmocka_unit_test(test_all_together),
	    cmocka_unit_test(test_null_phdr_slot),
	    cmocka_unit_test(test_elfclass32),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_executables),
	    cmocka_unit_test(test_mutated),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
