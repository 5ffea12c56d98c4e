/*
 * Unit tests of server/reuse: the digest of a job's inputs.  What changes
 * from build to build (ids, staged and temporary paths, threads,
 * progress) must not change it; everything that goes into the wheel
 * must; its text is the documented canonical form (sorted keys, compact,
 * a version line first); and the inputs read from disk follow a Python
 * file's content and identity.  Recording and lookup, on a journal of
 * their own: only the wheel the worker renamed is recorded, a row without
 * cargo's ctime after the give-back is never reused, nor one whose
 * artifact, bundled library or folder searched before it changed.
 */
#define _GNU_SOURCE
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
#include <time.h>
#include <unistd.h>

#include "common/path.h"
#include "common/sha256.h"
#include "server/reuse.h"

/* A module's job as the coordinator fills it before staging.  The
 * strings are static: the job is never released. */
static void base_job(struct wheel_job *j)
{
	static struct pyfile_src py[] = {
	    {"/src/pkg/__init__.py", "pkg/__init__.py", NULL},
	    {NULL, "pkg/_gen.py", "X = 1\n"},
	};

	memset(j, 0, sizeof(*j));
	j->cargo_path = "/t/release/libpkg.so";
	j->out_dir = "/t/wheels";
	j->out_dir_resolved = "/real/t/wheels";
	j->final_path = "/t/wheels/pkg-1.0-cp311-cp311-linux_x86_64.whl";
	j->wheel_name = "pkg-1.0-cp311-cp311-linux_x86_64.whl";
	j->distribution = "pkg";
	j->version = "1.0";
	j->module = "pkg._native";
	j->python_tag = "cp311";
	j->abi_tag = "cp311";
	j->platform_tag = "linux_x86_64";
	j->ext_suffix = ".cpython-311-x86_64-linux-gnu.so";
	j->metadata =
	    json_pack("{s:s,s:s}", "summary", "a package", "license", "MIT");
	j->python_files = py;
	j->npython_files = 2;
	j->source_date_epoch = -1;
	j->level = 6;
}

static void digest_of(const struct wheel_job *j, const json_t *inputs,
		      char hex[65])
{
	struct sp_err e;
	json_t *form = reuse_form(j, inputs);

	assert_non_null(form);
	if (reuse_form_digest(form, hex, &e) < 0)
		fail_msg("digest: %s", e.msg);
	json_decref(form);
}

static json_t *some_inputs(void)
{
	return json_pack("{s:{s:i,s:i},s:[]}", "artifact", "dev", 1, "ino", 2,
			 "files");
}

static void test_per_build_members_do_not_count(void **state)
{
	struct wheel_job a, b;
	json_t *in = some_inputs();
	char ha[65], hb[65];

	(void)state;
	base_job(&a);
	base_job(&b);
	b.id = 77;
	b.build = 12;
	b.staged_path = "/state/staged/12-0-abcd-libpkg.so";
	b.has_staged_ident = 1;
	b.staged_dev = 5;
	b.staged_ino = 6;
	b.tmp_path = "/real/t/wheels/.pkg.whl.1234.spoke-tmp";
	b.threads = 2;
	b.progress = 1;
	b.out_dir_resolved = "/real/other";
	digest_of(&a, in, ha);
	digest_of(&b, in, hb);
	assert_string_equal(ha, hb);
	json_decref(a.metadata);
	json_decref(b.metadata);
	json_decref(in);
}

/* Each change of what goes into the wheel changes the digest. */
static void test_wheel_inputs_count(void **state)
{
	static const char *const excl[] = {"libfoo.so.*"};
	static struct pyfile_src lic[] = {{"/src/LICENSE", "LICENSE", NULL}};
	static struct pyfile_src py2[] = {
	    {"/src/pkg/__init__.py", "pkg/__init__.py", NULL},
	    {NULL, "pkg/_gen.py", "X = 2\n"},
	};
	json_t *in = some_inputs(), *in2;
	char h0[65], h[65];
	struct wheel_job j;
	int k;

	(void)state;
	base_job(&j);
	digest_of(&j, in, h0);
	json_decref(j.metadata);
	for (k = 0; k < 14; k++) {
		base_job(&j);
		in2 = NULL;
		switch (k) {
		case 0:
			j.out_dir = "/elsewhere";
			break;
		case 1:
			j.final_path =
			    "/elsewhere/pkg-1.0-cp311-cp311-linux_x86_64.whl";
			break;
		case 2:
			j.level = 1;
			break;
		case 3:
			j.source_date_epoch = 1700000000;
			break;
		case 4:
			json_object_set_new(j.metadata, "summary",
					    json_string("another"));
			break;
		case 5:
			j.python_files = py2;
			break;
		case 6:
			j.license_files = lic;
			j.nlicense_files = 1;
			break;
		case 7:
			j.options.mode = REPAIR_MODE_SKIP;
			break;
		case 8:
			j.options.compat = "manylinux_2_28";
			break;
		case 9:
			j.options.exclude = excl;
			j.options.nexclude = 1;
			break;
		case 10:
			j.module_in_package = 1;
			break;
		case 11:
			j.program = "pkg-tool";
			break;
		case 12:
			j.version = "1.1";
			break;
		case 13:
			in2 = json_pack("{s:{s:i,s:i},s:[]}", "artifact", "dev",
					1, "ino", 3, "files");
			break;
		}
		digest_of(&j, in2 ? in2 : in, h);
		if (strcmp(h, h0) == 0)
			fail_msg("change %d left the digest as it was", k);
		json_decref(j.metadata);
		json_decref(in2);
	}
	json_decref(in);
}

/* The digest is sha256 of the version line and the form with sorted
 * keys, compact: the order members were added in does not count. */
static void test_canonical_text(void **state)
{
	struct wheel_job a, b;
	json_t *in = some_inputs(), *form;
	char ha[65], hb[65], want[65];
	uint8_t d[32];
	char *text, *buf;

	(void)state;
	base_job(&a);
	base_job(&b);
	json_decref(b.metadata);
	b.metadata =
	    json_pack("{s:s,s:s}", "license", "MIT", "summary", "a package");
	digest_of(&a, in, ha);
	digest_of(&b, in, hb);
	assert_string_equal(ha, hb);

	form = reuse_form(&a, in);
	assert_non_null(form);
	assert_null(json_object_get(form, "tmp_path"));
	assert_null(json_object_get(form, "progress"));
	assert_true(json_equal(json_object_get(form, "inputs"), in));
	text = json_dumps(form, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(text);
	assert_null(strchr(text, '\n'));
	assert_int_not_equal(asprintf(&buf, "%s\n%s", REUSE_FORM_VERSION, text),
			     -1);
	sha256_buf(buf, strlen(buf), d);
	hex_encode(d, sizeof(d), want);
	assert_string_equal(ha, want);
	free(buf);
	free(text);
	json_decref(form);
	json_decref(a.metadata);
	json_decref(b.metadata);
	json_decref(in);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* reuse_digest reads the artifact's identity and each file's identity
 * and content: the same files give the same digest, a file with other
 * content or written again (its ctime) another. */
static void test_disk_inputs(void **state)
{
	char dir[] = "/tmp/spoke-reuse-XXXXXX", so[64], py[64];
	struct pyfile_src src[1];
	struct wheel_job j;
	struct sp_err e;
	json_t *amb;
	char h1[65], h2[65], h3[65];
	struct timespec ts = {0, 20 * 1000 * 1000};
	struct stat art, st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(so, sizeof(so), "%s/libpkg.so", dir);
	snprintf(py, sizeof(py), "%s/__init__.py", dir);
	write_file(so, "\177ELF not really");
	write_file(py, "A = 1\n");
	amb = reuse_ambient(&e);
	if (!amb)
		fail_msg("ambient: %s", e.msg);
	/* The ambient stands in every form as its digest: 64 hex digits,
	 * the same while nothing it covers changes. */
	assert_true(json_is_string(amb));
	assert_int_equal(strlen(json_string_value(amb)), 64);
	assert_int_equal(strspn(json_string_value(amb), "0123456789abcdef"), 64);
	{
		json_t *again = reuse_ambient(&e);

		assert_non_null(again);
		assert_true(json_equal(amb, again));
		json_decref(again);
	}
	base_job(&j);
	j.cargo_path = so;
	src[0].src = py;
	src[0].dst = "pkg/__init__.py";
	src[0].text = NULL;
	j.python_files = src;
	j.npython_files = 1;
	assert_int_equal(reuse_digest(&j, amb, h1, &art, &e), 0);
	/* The artifact's stat is handed back, for its ctime (reuse.h). */
	assert_int_equal(stat(so, &st), 0);
	assert_int_equal(art.st_ino, st.st_ino);
	assert_int_equal(art.st_ctim.tv_nsec, st.st_ctim.tv_nsec);
	assert_int_equal(reuse_digest(&j, amb, h2, &art, &e), 0);
	assert_string_equal(h1, h2);
	nanosleep(&ts, NULL);
	write_file(py, "A = 2\n");
	assert_int_equal(reuse_digest(&j, amb, h2, &art, &e), 0);
	assert_string_not_equal(h1, h2);
	/* The same bytes written again: a new ctime. */
	nanosleep(&ts, NULL);
	write_file(py, "A = 2\n");
	assert_int_equal(reuse_digest(&j, amb, h3, &art, &e), 0);
	assert_string_not_equal(h2, h3);
	/* A missing file: no digest (the worker says what is wrong). */
	unlink(py);
	assert_int_equal(reuse_digest(&j, amb, h3, &art, &e), -1);
	/* --split-debug is never reused. */
	write_file(py, "A = 2\n");
	j.options.split_debug = 1;
	assert_int_equal(reuse_digest(&j, amb, h3, &art, &e), -1);
	unlink(py);
	unlink(so);
	rmdir(dir);
	json_decref(j.metadata);
	json_decref(amb);
}

static int64_t ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static json_t *ident_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return json_pack("{s:I,s:I,s:I,s:I,s:I}", "dev", (json_int_t)st.st_dev,
			 "ino", (json_int_t)st.st_ino, "size",
			 (json_int_t)st.st_size, "mtime_ns",
			 (json_int_t)ns(&st.st_mtim), "ctime_ns",
			 (json_int_t)ns(&st.st_ctim));
}

/* reuse_record and reuse_lookup on a journal of their own. */
static void test_record_and_lookup(void **state)
{
	char dir[] = "/tmp/spoke-reuse-XXXXXX";
	char *whl, *other, *art, *lib, *shadow, *planted;
	const char *digest =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	const char *why;
	struct journal *jn;
	struct stat ast;
	struct sp_err e;
	json_t *res, *got;

	(void)state;
	assert_non_null(mkdtemp(dir));
	whl = path_join(dir, "w.whl");
	other = path_join(dir, "other.whl");
	art = path_join(dir, "libart.so");
	lib = path_join(dir, "libdep.so.1");
	shadow = path_join(dir, "shadow");
	planted = path_join(shadow, "libdep.so.1");
	assert_non_null(planted);
	assert_int_equal(mkdir(shadow, 0755), 0);
	write_file(whl, "wheel bytes");
	write_file(other, "other bytes");
	write_file(art, "artifact");
	write_file(lib, "library");
	jn = journal_open(dir, &e);
	if (!jn)
		fail_msg("journal_open: %s", e.msg);
	res = json_pack("{s:b,s:s,s:i,s:s,s:[{s:s,s:o}],s:[{s:s,s:o}]}", "ok",
			1, "wheel", whl, "size", 11, "sha256", "ab", "grafted",
			"path", lib, "ident", ident_of(lib), "searched", "path",
			shadow, "ident", ident_of(shadow));
	assert_non_null(res);

	/* Another file of the same size at the path: not recorded. */
	json_object_set_new(res, "wheel_ident", ident_of(other));
	assert_int_equal(reuse_record(jn, digest, 7, whl, res, &e), 0);
	assert_int_equal(reuse_lookup(jn, digest, &ast, 1, &got, &why, &e), 0);
	assert_null(why);
	/* No identity from the worker: not recorded either. */
	json_object_del(res, "wheel_ident");
	assert_int_equal(reuse_record(jn, digest, 7, whl, res, &e), 0);
	json_object_set_new(res, "wheel_ident", ident_of(whl));
	/* A bundled library or a searched folder named without its
	 * identity: not recorded (a shorter list would let a change pass);
	 * a searched folder's may be null (it could not be read). */
	{
		json_t *g = json_array_get(json_object_get(res, "grafted"), 0),
		       *f = json_array_get(json_object_get(res, "searched"), 0),
		       *gid = json_incref(json_object_get(g, "ident")),
		       *fid = json_incref(json_object_get(f, "ident"));

		json_object_del(g, "ident");
		assert_int_equal(reuse_record(jn, digest, 7, whl, res, &e), 0);
		assert_string_equal(e.msg, "the result names a bundled library "
					   "without its identity");
		json_object_set_new(g, "ident", json_null());
		assert_int_equal(reuse_record(jn, digest, 7, whl, res, &e), 0);
		json_object_set_new(g, "ident", gid);
		json_object_set_new(f, "ident", json_string("x"));
		assert_int_equal(reuse_record(jn, digest, 7, whl, res, &e), 0);
		assert_string_equal(e.msg, "the result names a searched folder "
					   "without its identity");
		json_object_set_new(f, "ident", json_null());
		assert_int_equal(reuse_record(jn, digest, 7, whl, res, &e), 1);
		json_object_set_new(f, "ident", fid);
	}
	assert_int_equal(reuse_record(jn, digest, 7, whl, res, &e), 1);

	/* Recorded, but cargo's ctime after the give-back is not: never
	 * reused. */
	assert_int_equal(stat(art, &ast), 0);
	got = NULL;
	assert_int_equal(reuse_lookup(jn, digest, &ast, 1, &got, &why, &e), 0);
	assert_non_null(why);
	assert_null(got);
	/* Only the build that wrote the row sets it. */
	assert_int_equal(reuse_art_ctime(jn, digest, 8, art, &ast, &e), 0);
	assert_int_equal(reuse_lookup(jn, digest, &ast, 1, &got, &why, &e), 0);
	assert_int_equal(reuse_art_ctime(jn, digest, 7, art, &ast, &e), 0);
	assert_int_equal(reuse_lookup(jn, digest, &ast, 1, &got, &why, &e), 1);
	assert_string_equal(json_string_value(json_object_get(got, "wheel")),
			    whl);
	json_decref(got);

	/* cargo's file rewritten in place: size and mtime kept, a new
	 * ctime. */
	{
		struct stat now;
		struct timespec pause = {0, 20 * 1000 * 1000};

		nanosleep(&pause, NULL);
		assert_int_equal(chmod(art, 0600), 0);
		assert_int_equal(stat(art, &now), 0);
		assert_int_equal(reuse_lookup(jn, digest, &now, 1, &got, &why, &e),
				 0);
		assert_non_null(why);
	}

	/* A library with the bundled one's name put in a folder searched
	 * before it. */
	assert_int_equal(reuse_lookup(jn, digest, &ast, 1, &got, &why, &e), 1);
	json_decref(got);
	write_file(planted, "shadowing library");
	assert_int_equal(reuse_lookup(jn, digest, &ast, 1, &got, &why, &e), 0);
	assert_non_null(why);

	journal_close(jn);
	json_decref(res);
	unlink(planted);
	rmdir(shadow);
	unlink(whl);
	unlink(other);
	unlink(art);
	unlink(lib);
	{
		char *db = path_join(dir, "journal.db");
		char *wal = path_join(dir, "journal.db-wal");
		char *shm = path_join(dir, "journal.db-shm");

		unlink(db);
		unlink(wal);
		unlink(shm);
		free(db);
		free(wal);
		free(shm);
	}
	rmdir(dir);
	free(whl);
	free(other);
	free(art);
	free(lib);
	free(shadow);
	free(planted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_per_build_members_do_not_count),
	    cmocka_unit_test(test_wheel_inputs_count),
	    cmocka_unit_test(test_canonical_text),
	    cmocka_unit_test(test_disk_inputs),
	    cmocka_unit_test(test_record_and_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
