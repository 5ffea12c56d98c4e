/*
 * Unit tests of worker/build_wheel and worker/job: a wheel written from a small
 * shared object built here with cc, checked by unzip -t, Python's zipfile
 * and "python3 -m wheel unpack" (which verifies RECORD), plus the error
 * paths that must leave no temporary wheel behind.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "common/sha256.h"
#include "worker/job.h"
#include "worker/build_wheel.h"

#define PYTHON "/usr/bin/python3"
#define WHEEL_NAME "spam_pkg-1.0_1-cp311-cp311-linux_x86_64.whl"
#define EXT ".cpython-311-x86_64-linux-gnu.so"

static char tmpdir[64];
static int have_cc;

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

static int have(const char *path)
{
	return access(path, X_OK) == 0;
}

static int setup(void **state)
{
	static const char src[] =
	    "void *PyInit__native(void);\n"
	    "void *PyInit__native(void) { return (void *)0; }\n";
	static const char tool[] =
	    "#include <stdio.h>\n"
	    "int main(void) { puts(\"hello\"); return 0; }\n";
	FILE *f;

	(void)state;
	strcpy(tmpdir, "/tmp/spoke-wheel-XXXXXX");
	if (!mkdtemp(tmpdir) || chdir(tmpdir) < 0 || mkdir("out", 0755) < 0)
		return -1;
	f = fopen("m.c", "w");
	if (!f || fputs(src, f) < 0 || fclose(f) != 0)
		return -1;
	f = fopen("tool.c", "w");
	if (!f || fputs(tool, f) < 0 || fclose(f) != 0)
		return -1;
	have_cc = run("cc -shared -fPIC -o m.so m.c -Wl,--no-as-needed "
		      "2>/dev/null && "
		      "cc -shared -fPIC -o dep.so m.c -Wl,--no-as-needed "
		      "-ldeflate 2>/dev/null && "
		      "cc -shared -fPIC -o libz.so.1 -Wl,-soname,libz.so.1 "
		      "m.c 2>/dev/null && "
		      "cc -shared -fPIC -o z.so m.c -Wl,--no-as-needed "
		      "./libz.so.1 2>/dev/null && "
		      "cc -o tool tool.c 2>/dev/null && "
		      "cc -o tool_dep tool.c -Wl,--no-as-needed -ldeflate "
		      "2>/dev/null && "
		      "cc -shared -fPIC -o libpython3.11.so.1.0 "
		      "-Wl,-soname,libpython3.11.so.1.0 m.c 2>/dev/null && "
		      "cc -o tool_py tool.c -Wl,--no-as-needed "
		      "./libpython3.11.so.1.0 2>/dev/null") == 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return run("rm -rf '%s'", tmpdir) == 0 ? 0 : -1;
}

/* A job for the staged file at staged, writing tmp. */
static json_t *make_job(const char *staged, const char *tmp)
{
	json_t *job = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s,"
	    " s:{s:s, s:s, s:[s]}}",
	    "staged_path", staged, "tmp_path", tmp, "final_path",
	    "out/" WHEEL_NAME, "distribution", "Spam.Pkg", "version", "1.0-1",
	    "module", "spam._native", "python_tag", "cp311", "abi_tag", "cp311",
	    "platform_tag", "linux_x86_64", "ext_suffix", EXT,
	    "source_date_epoch", (json_int_t)1700000000, "compression", "best",
	    "metadata", "summary", "Spam, fast.", "license", "MIT",
	    "requires_dist", "numpy");

	assert_non_null(job);
	json_object_set_new(job, "wheel_name", json_string(WHEEL_NAME));
	/* Plain linux wheels here; test_repair covers the manylinux path. */
	json_object_set_new(job, "options",
			    json_pack("{s:s}", "repair", "skip"));
	return job;
}

/* The worker's way: the job parsed once (job_parse), then written. */
static int write_job(const json_t *job, void (*emit)(json_t *, void *),
		     void *arg, json_t **res, struct sp_err *e)
{
	struct wheel_job j;
	struct sp_err local;
	int rc;

	if (!e)
		e = &local;
	*res = NULL;
	if (job_parse(job, &j, e) < 0)
		return -1;
	rc = wheel_write(&j, emit, arg, res, e);
	wheel_job_release(&j);
	return rc;
}

static json_t *run_job(const json_t *job)
{
	struct wheel_job j;
	struct sp_err e;
	json_t *res;

	if (job_parse(job, &j, &e) < 0)
		return json_pack("{s:b,s:s}", "ok", 0, "error", e.msg);
	res = job_run(&j);
	wheel_job_release(&j);
	return res;
}

static void test_wheel_ok(void **state)
{
	json_t *job, *res, *res2;
	struct sp_err e;
	char hex[65], before[65];
	struct stat st;

	(void)state;
	if (!have_cc)
		skip();
	assert_int_equal(sha256_file_hex("m.so", before, &e), 0);
	job = make_job("m.so", "out/w.tmp");
	if (write_job(job, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(json_is_true(json_object_get(res, "ok")));
	assert_string_equal(json_string_value(json_object_get(res, "wheel")),
			    "out/" WHEEL_NAME);
	assert_string_equal(json_string_value(json_object_get(res, "patch")),
			    "none");
	assert_int_equal(json_array_size(json_object_get(res, "needed")), 1);
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(res, "needed"), 0)),
			    "libc.so.6");
	/* Renamed to its name: no temporary is left. */
	assert_false(path_exists("out/w.tmp"));
	assert_int_equal(stat("out/" WHEEL_NAME, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(json_integer_value(json_object_get(res, "size")),
			 st.st_size);
	assert_int_equal(sha256_file_hex("out/" WHEEL_NAME, hex, &e), 0);
	assert_string_equal(json_string_value(json_object_get(res, "sha256")),
			    hex);
	/* The staged module is read, never written. */
	assert_int_equal(sha256_file_hex("m.so", hex, &e), 0);
	assert_string_equal(hex, before);

	/* Same job, same bytes. */
	json_object_set_new(job, "tmp_path", json_string("out/w2.tmp"));
	if (write_job(job, NULL, NULL, &res2, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(json_equal(json_object_get(res, "sha256"),
			       json_object_get(res2, "sha256")));
	json_decref(res2);
	json_decref(res);
	json_decref(job);

	if (have("/usr/bin/unzip"))
		assert_int_equal(
		    run("/usr/bin/unzip -tqq out/" WHEEL_NAME " >/dev/null"),
		    0);
	if (!have(PYTHON))
		return;
	/* Entry order: module, METADATA, WHEEL, RECORD last. */
	assert_int_equal(run(PYTHON
			     " -c 'import zipfile,sys\n"
			     "n = zipfile.ZipFile(sys.argv[1]).namelist()\n"
			     "d = \"spam_pkg-1.0_1.dist-info/\"\n"
			     "sys.exit(n != [\"spam/_native" EXT "\", d + "
			     "\"METADATA\", d + \"WHEEL\", d + \"RECORD\"])' "
			     "out/" WHEEL_NAME),
			 0);
	if (run(PYTHON " -c 'import wheel' 2>/dev/null") != 0)
		return;
	assert_int_equal(run(PYTHON
			     " -m wheel unpack -d unpacked out/" WHEEL_NAME
			     " >/dev/null"),
			 0);
	assert_int_equal(
	    run("cmp -s m.so unpacked/spam_pkg-1.0_1/spam/_native" EXT), 0);
}

static void test_patch_required(void **state)
{
	json_t *job, *res;
	struct sp_err e;

	(void)state;
	if (!have_cc)
		skip();
	job = make_job("dep.so", "out/dep.tmp");
	if (write_job(job, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(json_string_value(json_object_get(res, "patch")),
			    "required");
	json_decref(res);
	json_decref(job);
}

/* Without a repair, "patch" still says whether the module needs one, by
 * the manylinux policy's rule: libz.so.1 is on every manylinux system's
 * list (data/policy.json), so a module needing it (a stand-in
 * built here) needs no repair, as the default repair would say; a library
 * the user excludes needs none either. */
static void test_patch_by_policy(void **state)
{
	json_t *job, *res;
	struct sp_err e;

	(void)state;
	if (!have_cc)
		skip();
	job = make_job("z.so", "out/z.tmp");
	if (write_job(job, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(res, "needed"), 0)),
			    "libz.so.1");
	assert_string_equal(json_string_value(json_object_get(res, "patch")),
			    "none");
	json_decref(res);
	json_decref(job);

	job = make_job("dep.so", "out/dep2.tmp");
	json_object_set_new(json_object_get(job, "options"), "exclude",
			    json_pack("[s]", "libdeflate.so.0"));
	if (write_job(job, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(json_string_value(json_object_get(res, "patch")),
			    "none");
	json_decref(res);
	json_decref(job);
}

/* Runs a job that must fail with needle in its message, and checks that
 * no temporary wheel is left. */
static void expect_fail(json_t *job, const char *needle)
{
	const char *tmp = json_string_value(json_object_get(job, "tmp_path"));
	struct sp_err e;
	json_t *res = (json_t *)1;

	sp_err_clear(&e);
	if (write_job(job, NULL, NULL, &res, &e) == 0)
		fail_msg("job succeeded");
	assert_null(res);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' lacks '%s'", e.msg, needle);
	assert_false(path_exists(tmp));
	json_decref(job);
}

/* The default repair bundles libdeflate (no manylinux system promises it)
 * and renames the wheel; check mode refuses; the staged file is only
 * read. */
static void test_repair(void **state)
{
	json_t *job, *res, *g;
	struct sp_err e;
	char before[65], after[65];
	const char *name, *plat;

	(void)state;
	if (!have_cc)
		skip();
	assert_int_equal(sha256_file_hex("dep.so", before, &e), 0);
	job = make_job("dep.so", "out/rep.tmp");
	json_object_del(job, "options");
	if (write_job(job, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(json_string_value(json_object_get(res, "patch")),
			    "applied");
	plat = json_string_value(json_object_get(res, "platform_tag"));
	assert_non_null(plat);
	assert_true(strncmp(plat, "manylinux_2_", 12) == 0);
	name = json_string_value(json_object_get(res, "wheel_name"));
	assert_non_null(name);
	assert_non_null(strstr(name, plat));
	g = json_array_get(json_object_get(res, "grafted"), 0);
	assert_string_equal(json_string_value(json_object_get(g, "soname")),
			    "libdeflate.so.0");
	assert_true(strncmp(json_string_value(json_object_get(g, "wheel_path")),
			    "spam_pkg.libs/libdeflate-", 25) == 0);
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(res, "needed"), 0)),
			    json_string_value(json_object_get(g, "name")));
	assert_int_equal(sha256_file_hex("dep.so", after, &e), 0);
	assert_string_equal(before, after);
	if (have("/usr/bin/unzip"))
		assert_int_equal(run("/usr/bin/unzip -l '%s' | grep -q "
				     "' spam_pkg.libs/libdeflate-'",
				     json_string_value(
					 json_object_get(res, "wheel"))),
				 0);
	assert_false(path_exists("out/rep.tmp"));
	assert_true(path_exists(json_string_value(json_object_get(res, "wheel"))));
	json_decref(res);

	json_object_set_new(job, "tmp_path", json_string("out/chk.tmp"));
	json_object_set_new(job, "options",
			    json_pack("{s:s}", "repair", "check"));
	expect_fail(job, "not manylinux-compliant");
}

/* The names of the wheel at path, one per line, each with its mode
 * ("name 755"), as Python's zipfile reads them. */
static char *wheel_listing(const char *path)
{
	static char buf[4096];
	FILE *f;
	size_t n;
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 PYTHON " -c 'import zipfile,sys\n"
			"for i in zipfile.ZipFile(sys.argv[1]).infolist():\n"
			"    print(i.filename, oct(i.external_attr >> 16 & "
			"0o777)[2:])' '%s'",
		 path);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	assert_int_equal(pclose(f), 0);
	return buf;
}

/* A program (bindings = "bin") goes to <dist>.data/scripts/ with mode
 * 0755, unchanged when it needs nothing bundled; one the repair bundles
 * for moves to <pkg>.scripts/ and a launcher takes its place. */
static void test_program(void **state)
{
	json_t *job, *res;
	struct sp_err e;
	const char *l;

	(void)state;
	if (!have_cc || !have(PYTHON))
		skip();
	job = make_job("tool", "out/prog.tmp");
	json_object_set_new(job, "program", json_string("hello-world"));
	json_object_set_new(job, "options",
			    json_pack("{s:s}", "repair", "repair"));
	if (write_job(job, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	l = wheel_listing(json_string_value(json_object_get(res, "wheel")));
	assert_non_null(
	    strstr(l, "spam_pkg-1.0_1.data/scripts/hello-world 755\n"));
	assert_null(strstr(l, ".scripts/hello-world"));
	assert_null(strstr(l, "_native"));
	assert_string_equal(json_string_value(json_object_get(res, "patch")),
			    "none");
	assert_int_equal(run("rm -rf unp && mkdir unp && cd unp && unzip -qq "
			     "'../%s' && cmp -s ../tool "
			     "spam_pkg-1.0_1.data/scripts/hello-world",
			     json_string_value(json_object_get(res, "wheel"))),
			 0);
	json_decref(res);
	json_decref(job);

	job = make_job("tool_dep", "out/prog2.tmp");
	json_object_set_new(job, "program", json_string("hello-world"));
	json_object_set_new(job, "options",
			    json_pack("{s:s}", "repair", "repair"));
	if (write_job(job, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	l = wheel_listing(json_string_value(json_object_get(res, "wheel")));
	assert_non_null(strstr(l, "spam_pkg.scripts/hello-world 755\n"));
	assert_non_null(
	    strstr(l, "spam_pkg-1.0_1.data/scripts/hello-world 755\n"));
	assert_non_null(strstr(l, "spam_pkg.libs/libdeflate-"));
	assert_int_equal(
	    run("rm -rf unp && mkdir unp && cd unp && unzip -qq "
		"'../%s' && head -1 "
		"spam_pkg-1.0_1.data/scripts/hello-world | grep -qx "
		"'#!python' && grep -q 'spam_pkg.scripts/hello-world' "
		"spam_pkg-1.0_1.data/scripts/hello-world && "
		"readelf -d spam_pkg.scripts/hello-world | grep -q "
		"'$ORIGIN/../spam_pkg.libs'",
		json_string_value(json_object_get(res, "wheel"))),
	    0);
	json_decref(res);
	json_decref(job);

	/* A program that embeds Python keeps its link to libpython (a
	 * stand-in here), which a module would lose. */
	job = make_job("tool_py", "out/prog4.tmp");
	json_object_set_new(job, "program", json_string("hello-world"));
	json_object_set_new(job, "options",
			    json_pack("{s:s}", "repair", "repair"));
	if (write_job(job, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(res, "needed"), 0)),
			    "libpython3.11.so.1.0");
	assert_string_equal(json_string_value(json_object_get(res, "patch")),
			    "none");
	json_decref(res);
	json_decref(job);

	/* A library is no program. */
	job = make_job("m.so", "out/prog3.tmp");
	json_object_set_new(job, "program", json_string("hello-world"));
	expect_fail(job, "is not an executable");
}

static void test_wheel_errors(void **state)
{
	json_t *job;
	FILE *f;

	(void)state;
	if (!have_cc)
		skip();
	job = make_job("m.so", "out/e.tmp");
	json_object_set_new(job, "module", json_string("spam.other"));
	json_object_set_new(job, "final_path", json_string(WHEEL_NAME));
	expect_fail(job, "'m.so' does not export PyInit_other: is it a Python "
			 "extension module? (module name 'spam.other')");

	job = make_job("m.c", "out/e.tmp");
	expect_fail(job, "'m.c' is not an ELF file");

	job = make_job("m.so", "out/e.tmp");
	json_object_set_new(job, "final_path", json_string("x-1.0-a-b-c.whl"));
	expect_fail(job, "does not end in '" WHEEL_NAME "'");

	/* The coordinator names the inode it staged: another file at the
	 * staged path (a folder on it swapped) is refused, and so is a
	 * symlink there. */
	{
		struct stat st;

		assert_int_equal(stat("m.so", &st), 0);
		job = make_job("dep.so", "out/e.tmp");
		json_object_set_new(job, "staged_ident",
				    json_pack("{s:I,s:I}", "dev",
					      (json_int_t)st.st_dev, "ino",
					      (json_int_t)st.st_ino));
		expect_fail(job, "'dep.so' is not the file spoke staged there");
		assert_int_equal(symlink("m.so", "m-link.so"), 0);
		job = make_job("m-link.so", "out/e.tmp");
		expect_fail(job, "cannot open 'm-link.so'");
		unlink("m-link.so");
	}

	job = make_job("m.so", "out/e.tmp");
	json_object_set_new(job, "compression", json_string("zip"));
	expect_fail(job, "unknown compression 'zip'");

	job = make_job("m.so", "out/e.tmp");
	json_object_del(job, "ext_suffix");
	expect_fail(job, "'ext_suffix'");

	job = make_job("m.so", "out/e.tmp");
	json_object_set_new(job, "ext_suffix", json_string(".so,x"));
	expect_fail(job, "invalid extension suffix");

	job = make_job("m.so", "out/e.tmp");
	json_object_set_new(job, "options",
			    json_pack("{s:s}", "search", "everywhere"));
	expect_fail(job, "option 'search' must be system or declared");

	job = make_job("m.so", "out/e.tmp");
	json_object_set_new(json_object_get(job, "metadata"), "author",
			    json_string("a\nb"));
	expect_fail(job, "must be one line");

	/* An existing temporary file is refused and left alone: it is not
	 * ours to remove. */
	f = fopen("out/busy.tmp", "w");
	assert_non_null(f);
	fclose(f);
	job = make_job("m.so", "out/busy.tmp");
	assert_int_equal(write_job(job, NULL, NULL, &(json_t *){NULL}, NULL), -1);
	assert_true(path_exists("out/busy.tmp"));
	json_decref(job);
}

static void test_job_run(void **state)
{
	json_t *job, *res;

	(void)state;
	job = make_job("nope.so", "out/j.tmp");
	res = run_job(job);
	assert_non_null(res);
	assert_true(json_is_false(json_object_get(res, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(res, "error")),
			       "cannot open 'nope.so'"));
	json_decref(res);
	json_decref(job);
	if (!have_cc)
		return;
	job = make_job("m.so", "out/j.tmp");
	res = run_job(job);
	assert_true(json_is_true(json_object_get(res, "ok")));
	json_decref(res);
	json_decref(job);
}

/* An output folder named through a symlink: the coordinator journals the
 * temporary in the resolved folder and plans the final path in the
 * user's; the worker writes in the resolved one and reports the user's
 * path. */
static void test_wheel_out_dir_link(void **state)
{
	char real[128], link[128], tmp[160], final[256], made[256];
	json_t *job, *res;
	struct sp_err e;

	(void)state;
	if (!have_cc)
		skip();
	snprintf(real, sizeof(real), "%s/out", tmpdir);
	snprintf(link, sizeof(link), "%s/outlink", tmpdir);
	snprintf(tmp, sizeof(tmp), "%s/l.tmp", real);
	snprintf(final, sizeof(final), "%s/" WHEEL_NAME, link);
	snprintf(made, sizeof(made), "%s/" WHEEL_NAME, real);
	unlink(made);
	assert_int_equal(symlink(real, link), 0);
	job = make_job("m.so", tmp);
	json_object_set_new(job, "final_path", json_string(final));
	json_object_set_new(job, "out_dir_resolved", json_string(real));
	if (write_job(job, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(json_string_value(json_object_get(res, "wheel")),
			    final);
	assert_true(path_exists(made));
	assert_false(path_exists(tmp));
	json_decref(res);
	json_decref(job);
	unlink(made);
	unlink(link);
}

/* What the worker refuses at receipt, before anything is opened. */
static void test_job_parse_errors(void **state)
{
	static const struct {
		const char *key, *json, *needle;
	} bad[] = {
	    {"python_files", "\"x\"", "'python_files' must be an array"},
	    {"license_files", "[{\"src\": 1}]", "'license_files' entry 0"},
	    {"entry_points", "1", "'entry_points' must be a string"},
	    {"metadata", "[]", "'metadata' must be an object"},
	    {"options", "{\"repair\": \"fix\"}", "option 'repair' must be"},
	    {"options", "{\"exclude\": [\"\"]}", "options.exclude"},
	    {"linked_paths", "\"/x\"", "'linked_paths' must be an array"},
	    {"threads", "0", "'threads' must be a number"},
	    {"distribution", "\"../x\"", "invalid distribution name"},
	    {"version", "\"one\"", "not a PEP 440 version"},
	    {"platform_tag", "\"linux-x\"", "invalid platform_tag"},
	    {"staged_ident", "{\"dev\": 1}", "'staged_ident'"},
	    {"program", "\"../x\"", "invalid program name"},
	    {"program", "\".\"", "invalid program name"},
	    {"program", "\"a/b\"", "invalid program name"},
	};
	struct wheel_job j;
	struct sp_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		json_t *job = make_job("m.so", "out/p.tmp");

		json_object_set_new(job, bad[i].key,
				    json_loads(bad[i].json, JSON_DECODE_ANY,
					       NULL));
		if (job_parse(job, &j, &e) == 0)
			fail_msg("%s = %s was taken", bad[i].key, bad[i].json);
		if (!strstr(e.msg, bad[i].needle))
			fail_msg("'%s' lacks '%s'", e.msg, bad[i].needle);
		json_decref(job);
	}
}

/* maturin's layout: a module named as its package goes inside it
 * ("_native/_native<EXT>"), generated files come from the job's text, and
 * data files land in <dist>-<version>.data/ with a script's executable
 * bit kept. */
static void test_wheel_module_in_package(void **state)
{
	json_t *job, *res;
	struct sp_err e;

	(void)state;
	if (!have_cc)
		skip();
	assert_int_equal(run("printf '#!/bin/sh\\necho hi\\n' > run.sh && "
			     "chmod 755 run.sh && : > h.h"),
			 0);
	job = make_job("m.so", "out/p.tmp");
	json_object_set_new(job, "module", json_string("_native"));
	json_object_set_new(job, "module_in_package", json_true());
	json_object_set_new(
	    job, "python_files",
	    json_pack("[{s:s,s:s},{s:s,s:s}]", "dst", "_native/__init__.py",
		      "text", "from ._native import *\n", "dst",
		      "_native/py.typed", "text", ""));
	json_object_set_new(job, "data_files",
			    json_pack("[{s:s,s:s},{s:s,s:s}]", "src", "run.sh",
				      "dst", "scripts/run.sh", "src", "h.h",
				      "dst", "headers/h.h"));
	if (write_job(job, NULL, NULL, &res, &e) < 0)
		fail_msg("%s", e.msg);
	json_decref(res);
	json_decref(job);
	if (!have(PYTHON))
		return;
	assert_int_equal(
	    run(PYTHON " -c 'import zipfile,sys\n"
		       "z = zipfile.ZipFile(sys.argv[1])\n"
		       "n = z.namelist()\n"
		       "d = \"spam_pkg-1.0_1.data/\"\n"
		       "i = \"spam_pkg-1.0_1.dist-info/\"\n"
		       "want = [\"_native/__init__.py\", \"_native/_native" EXT
		       "\", \"_native/py.typed\", d + \"headers/h.h\", "
		       "d + \"scripts/run.sh\", i + \"METADATA\", "
		       "i + \"WHEEL\", i + \"RECORD\"]\n"
		       "assert n == want, n\n"
		       "assert z.read(\"_native/__init__.py\") == "
		       "b\"from ._native import *\\n\"\n"
		       "m = lambda x: z.getinfo(x).external_attr >> 16 & 0o777\n"
		       "assert m(d + \"scripts/run.sh\") == 0o755\n"
		       "assert m(d + \"headers/h.h\") == 0o644\n"
		       "' out/" WHEEL_NAME),
	    0);
}

/* The coordinator serializes a job once and the worker parses it once:
 * what the worker reads is what the coordinator meant. */
static void test_job_round_trip(void **state)
{
	json_t *job = make_job("m.so", "out/r.tmp"), *wire;
	struct wheel_job a, b;
	struct sp_err e;

	(void)state;
	json_object_set_new(job, "id", json_integer(42));
	json_object_set_new(job, "options",
			    json_pack("{s:s,s:s,s:[s,s],s:[s],s:b,s:s,s:s}",
				      "repair", "check", "compat",
				      "manylinux_2_28", "exclude", "liba.so.1",
				      "libb.so.2", "lib_path", "/opt/lib",
				      "split_debug", 1, "ld_library_path",
				      "/x:/y", "search", "declared"));
	json_object_set_new(job, "linked_paths", json_pack("[s]", "/l"));
	json_object_set_new(job, "python_files",
			    json_pack("[{s:s,s:s},{s:s,s:s}]", "src", "/a.py",
				      "dst", "spam/a.py", "text", "x = 1\n",
				      "dst", "spam/b.py"));
	json_object_set_new(job, "data_files",
			    json_pack("[{s:s,s:s}]", "src", "/d", "dst",
				      "data/d"));
	json_object_set_new(job, "module_in_package", json_true());
	json_object_set_new(job, "progress", json_false());
	json_object_set_new(job, "program", json_string("hello-world"));
	json_object_set_new(job, "staged_ident",
			    json_pack("{s:I,s:I}", "dev", (json_int_t)7, "ino",
				      (json_int_t)9));
	if (job_parse(job, &a, &e) < 0)
		fail_msg("%s", e.msg);
	wire = job_to_json(&a);
	assert_non_null(wire);
	if (job_parse(wire, &b, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(b.id, 42);
	assert_string_equal(b.distribution, "Spam.Pkg");
	assert_string_equal(b.final_path, "out/" WHEEL_NAME);
	assert_int_equal(b.level, 12);
	assert_int_equal(b.source_date_epoch, 1700000000);
	assert_int_equal(b.progress, 0);
	assert_int_equal(b.has_staged_ident, 1);
	assert_int_equal(b.staged_ino, 9);
	assert_int_equal(b.options.mode, REPAIR_MODE_CHECK);
	assert_string_equal(b.options.compat, "manylinux_2_28");
	assert_int_equal(b.options.nexclude, 2);
	assert_string_equal(b.options.exclude[1], "libb.so.2");
	assert_int_equal(b.options.nlib, 1);
	assert_int_equal(b.options.nlinked, 1);
	assert_string_equal(b.options.ld_library_path, "/x:/y");
	assert_int_equal(b.options.split_debug, 1);
	assert_int_equal(b.options.search, REPAIR_SEARCH_DECLARED);
	assert_int_equal(b.npython_files, 2);
	assert_string_equal(b.python_files[0].dst, "spam/a.py");
	assert_null(b.python_files[0].text);
	assert_null(b.python_files[1].src);
	assert_string_equal(b.python_files[1].text, "x = 1\n");
	assert_int_equal(b.ndata_files, 1);
	assert_string_equal(b.data_files[0].dst, "data/d");
	assert_int_equal(b.module_in_package, 1);
	assert_string_equal(b.program, "hello-world");
	assert_string_equal(json_string_value(json_object_get(b.metadata,
							      "license")),
			    "MIT");
	wheel_job_release(&a);
	wheel_job_release(&b);
	json_decref(wire);
	json_decref(job);
}

/* A worker's every answer names its job; the coordinator holds it to the
 * job it gave that worker. */
static void test_job_reply(void **state)
{
	json_t *job = make_job("nope.so", "out/q.tmp"), *res;
	struct wheel_job j;
	struct sp_err e;

	(void)state;
	json_object_set_new(job, "id", json_integer(5));
	assert_int_equal(job_parse(job, &j, &e), 0);
	res = job_run(&j);
	assert_non_null(res);
	assert_int_equal(json_integer_value(json_object_get(res, "job")), 5);
	assert_int_equal(job_reply_check(res, 5, &e), 0);
	assert_int_equal(job_reply_check(res, 6, &e), -1);
	assert_non_null(strstr(e.msg, "job 5, not for its job 6"));
	json_object_del(res, "job");
	assert_int_equal(job_reply_check(res, 5, &e), -1);
	json_decref(res);
	wheel_job_release(&j);
	json_decref(job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wheel_ok),
	    cmocka_unit_test(test_wheel_module_in_package),
	    cmocka_unit_test(test_wheel_out_dir_link),
	    cmocka_unit_test(test_job_parse_errors),
	    cmocka_unit_test(test_job_round_trip),
	    cmocka_unit_test(test_job_reply),
	    cmocka_unit_test(test_patch_required),
	    cmocka_unit_test(test_patch_by_policy),
	    cmocka_unit_test(test_repair),
	    cmocka_unit_test(test_program),
	    cmocka_unit_test(test_wheel_errors),
	    cmocka_unit_test(test_job_run),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
