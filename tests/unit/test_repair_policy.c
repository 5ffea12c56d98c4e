/*
 * Unit tests of worker/repair/policy on the real data/policy.json (the
 * tags per libc and architecture, aliases, --compat spellings, the musl
 * soname, the tag rule by membership, libraries and the blacklist, the
 * reasons a tag fails) and on broken tables written here; and of the
 * naming helpers of worker/repair/repair.
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
#include <unistd.h>

#include "common/sha256.h"
#include "worker/repair/policy.h"
#include "worker/repair/repair.h"

#include "tests/unit/fake_symvers.h"

#define TABLE SPOKE_DATA_DIR "/policy.json"

static struct policy x86, arm, musl, musl32;

static int setup(void **state)
{
	struct sp_err e;

	(void)state;
	if (policy_load(&x86, TABLE, POLICY_GLIBC, "x86_64", &e) < 0 ||
	    policy_load(&arm, TABLE, POLICY_GLIBC, "aarch64", &e) < 0 ||
	    policy_load(&musl, TABLE, POLICY_MUSL, "x86_64", &e) < 0 ||
	    policy_load(&musl32, TABLE, POLICY_MUSL, "i686", &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	policy_release(&x86);
	policy_release(&arm);
	policy_release(&musl);
	policy_release(&musl32);
	return 0;
}

/* A made-up object (fake_symvers.h): what it requires, what it imports,
 * what it needs. */
struct fake {
	struct fake_symvers fs;
	const char *needed[4];
	struct policy_object obj;
};

static void fake_init(struct fake *f, const char *const *vers,
		      const char *const *imps, const char *const *needed)
{
	size_t i;

	fake_symvers_init(&f->fs, vers, imps);
	memset(f->needed, 0, sizeof(f->needed));
	memset(&f->obj, 0, sizeof(f->obj));
	for (i = 0; needed && needed[i]; i++)
		f->needed[i] = needed[i];
	f->obj.name = "x.so";
	f->obj.sv = &f->fs.sv;
	f->obj.needed = f->needed;
	f->obj.nneeded = i;
}

/* The name of the tag the rule gives, or "none". */
static const char *chosen(const struct policy *p, const char *const *vers,
			  const char *const *imps, const char *const *needed,
			  const char *const *sys, size_t nsys)
{
	const struct policy_tag *t;
	struct fake f;
	struct sp_err e;
	size_t first;

	fake_init(&f, vers, imps, needed);
	sp_err_clear(&e);
	t = policy_choose(p, &f.obj, 1, sys, nsys, &first, &e);
	assert_string_equal(e.msg, "");
	return t ? t->name : "none";
}

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_table(void **state)
{
	const struct policy_tag *t;
	size_t i;

	(void)state;
	assert_int_equal(x86.libc, POLICY_GLIBC);
	assert_true(x86.ntags >= 16);
	assert_string_equal(x86.tags[0].name, "manylinux_2_5");
	assert_int_equal(x86.tags[0].naliases, 1);
	assert_string_equal(x86.tags[0].aliases[0], "manylinux1");
	assert_string_equal(x86.tags[1].name, "manylinux_2_12");
	assert_string_equal(x86.tags[1].aliases[0], "manylinux2010");
	assert_string_equal(x86.tags[2].name, "manylinux_2_17");
	assert_string_equal(x86.tags[2].aliases[0], "manylinux2014");
	for (i = 3; i < x86.ntags; i++)
		assert_int_equal(x86.tags[i].naliases, 0);
	/* Neither 2_5 nor 2_12 exists for aarch64. */
	assert_string_equal(arm.tags[0].name, "manylinux_2_17");
	assert_string_equal(arm.tags[arm.ntags - 1].name,
			    x86.tags[x86.ntags - 1].name);

	t = &x86.tags[0];
	assert_true(policy_allows_lib(t, "libc.so.6"));
	assert_true(policy_allows_lib(t, "libz.so.1"));
	assert_false(policy_allows_lib(t, "libmvec.so.1"));
	assert_true(policy_allows_lib(&x86.tags[3], "libmvec.so.1"));
	assert_false(policy_allows_lib(t, "libssl.so.3"));
	assert_false(policy_allows_lib(t, "libcrypt.so.1"));
	/* The loader of every libc and machine. */
	assert_true(policy_allows_lib(t, "ld-linux-x86-64.so.2"));
	assert_true(policy_allows_lib(t, "ld64.so.1"));
	assert_true(policy_allows_lib(t, "ld64.so.2"));
	assert_true(policy_allows_lib(&musl.tags[0], "ld-musl-x86_64.so.1"));
	assert_false(policy_allows_lib(t, "ld.so"));
	/* ZLIB is judged on 2_5 with nothing listed. */
	assert_true(t->judged[SYMVERS_ZLIB]);
	assert_int_equal(t->nvers[SYMVERS_ZLIB], 0);

	/* musl: two tags, "libc.so" is the architecture's musl. */
	assert_int_equal(musl.libc, POLICY_MUSL);
	assert_int_equal(musl.ntags, 2);
	assert_string_equal(musl.tags[0].name, "musllinux_1_1");
	assert_string_equal(musl.tags[1].name, "musllinux_1_2");
	assert_true(policy_allows_lib(&musl.tags[1], "libc.musl-x86_64.so.1"));
	assert_false(policy_allows_lib(&musl.tags[1], "libc.so"));
	assert_false(policy_allows_lib(&musl.tags[1], "libc.so.6"));
	assert_true(policy_allows_lib(&musl32.tags[1], "libc.musl-x86.so.1"));
	for (i = 0; i < SYMVERS_NNS; i++)
		assert_false(musl.tags[1].judged[i]);
}

static void test_choose(void **state)
{
	const char *mvec[] = {"libc.so.6", "libmvec.so.1"};
	const char *ssl[] = {"libssl.so.3"};

	(void)state;
	assert_string_equal(chosen(&x86, NULL, NULL, NULL, NULL, 0),
			    "manylinux_2_5");
	/* x86_64's first glibc version is 2.2.5: manylinux_2_5 has it. */
	assert_string_equal(chosen(&x86, V("GLIBC_2.2.5@libc.so.6"), NULL,
				   NULL, NULL, 0),
			    "manylinux_2_5");
	/* crc32_z@ZLIB_1.2.9: zlib 1.2.9 is first listed by manylinux_2_27
	 * (CentOS 8's zlib 1.2.11; manylinux2014's is 1.2.7). */
	assert_string_equal(chosen(&x86,
				   V("GLIBC_2.2.5@libc.so.6",
				     "ZLIB_1.2.9@libz.so.1:crc32_z"),
				   NULL, NULL, NULL, 0),
			    "manylinux_2_27");
	/* Any ZLIB version fails 2_5, which lists none. */
	assert_string_equal(chosen(&x86, V("ZLIB_1.2.0@libz.so.1"), NULL,
				   NULL, NULL, 0),
			    "manylinux_2_12");
	assert_string_equal(chosen(&x86, V("GLIBC_2.14@libc.so.6"), NULL, NULL,
				   NULL, 0),
			    "manylinux_2_17");
	assert_string_equal(chosen(&x86, V("GLIBC_2.34@libc.so.6"), NULL, NULL,
				   NULL, 0),
			    "manylinux_2_34");
	/* Membership, not a ceiling: no glibc has GLIBC_2.37 on x86_64, so
	 * it fits nothing; GLIBC_PRIVATE is on no list. */
	assert_string_equal(chosen(&x86, V("GLIBC_2.37@libc.so.6"), NULL, NULL,
				   NULL, 0),
			    "none");
	assert_string_equal(chosen(&x86, V("GLIBC_PRIVATE@libc.so.6"), NULL,
				   NULL, NULL, 0),
			    "none");
	assert_string_equal(chosen(&x86, V("GLIBC_ABI_DT_RELR@libc.so.6"),
				   NULL, NULL, NULL, 0),
			    "manylinux_2_36");
	/* Any namespace can push the tag up. */
	assert_string_equal(chosen(&x86,
				   V("GLIBC_2.17@libc.so.6",
				     "GLIBCXX_3.4.30@libstdc++.so.6"),
				   NULL, NULL, NULL, 0),
			    "manylinux_2_35");
	assert_string_equal(chosen(&x86, V("CXXABI_1.3.11@libstdc++.so.6"),
				   NULL, NULL, NULL, 0),
			    "manylinux_2_27");
	/* So can a library left to the system. */
	assert_string_equal(chosen(&x86, NULL, NULL, NULL, mvec, 2),
			    "manylinux_2_24");
	assert_string_equal(chosen(&x86, NULL, NULL, NULL, ssl, 1), "none");
	/* aarch64's oldest tag has GLIBC_2.17. */
	assert_string_equal(chosen(&arm, V("GLIBC_2.17@libc.so.6"), NULL, NULL,
				   NULL, 0),
			    "manylinux_2_17");
	/* musl: the newest tag, whatever the objects. */
	assert_string_equal(chosen(&musl, NULL, NULL,
				   V("libc.musl-x86_64.so.1"), NULL, 0),
			    "musllinux_1_2");
}

static void test_blacklist(void **state)
{
	(void)state;
	/* _tr_init is black-listed for libz.so.1 by every tag. */
	assert_string_equal(chosen(&x86, NULL, V("_tr_init"), V("libz.so.1"),
				   NULL, 0),
			    "none");
	assert_string_equal(chosen(&musl, NULL, V("_tr_init"), V("libz.so.1"),
				   NULL, 0),
			    "none");
	/* A weak reference is optional (auditwheel issue 663). */
	assert_string_equal(chosen(&x86, NULL, V("~_tr_init"), V("libz.so.1"),
				   NULL, 0),
			    "manylinux_2_5");
	/* Only against the lists of libraries the object needs. */
	assert_string_equal(chosen(&x86, NULL, V("_tr_init"), V("libc.so.6"),
				   NULL, 0),
			    "manylinux_2_5");
	/* uncompress2 is black-listed up to manylinux_2_31. */
	assert_string_equal(chosen(&x86, NULL, V("uncompress2"),
				   V("libz.so.1"), NULL, 0),
			    "manylinux_2_34");
	/* __cxa_thread_atexit_impl only up to manylinux_2_17. */
	assert_string_equal(chosen(&x86, NULL, V("__cxa_thread_atexit_impl"),
				   V("libc.so.6"), NULL, 0),
			    "manylinux_2_24");
}

static void test_reasons(void **state)
{
	const char *sys[] = {"libmvec.so.1"};
	struct policy_misses why = {0};
	struct fake f;
	struct sp_err e;
	char buf[512], buf2[512], *dump;
	json_t *j, *older;

	(void)state;
	fake_init(&f,
		  V("GLIBC_2.2.5@libc.so.6:malloc",
		    "GLIBC_2.18@libc.so.6:__cxa_thread_atexit_impl",
		    "GLIBC_2.34@libc.so.6:pthread_create,dlopen"),
		  V("_tr_init", "inflate_fast", "~z_errmsg"), V("libz.so.1"));
	assert_int_equal(policy_judge(&x86.tags[2], &f.obj, 1, sys, 1, &why,
				      &e),
			 0);
	policy_misses_format(&why, buf, sizeof(buf));
	assert_string_equal(buf, "libmvec.so.1 is not on the tag's list of "
				 "system libraries; 'x.so' needs GLIBC_2.18 "
				 "(__cxa_thread_atexit_impl), GLIBC_2.34 "
				 "(pthread_create, dlopen); 'x.so' "
				 "depends on black-listed symbols: libz.so.1: "
				 "_tr_init, inflate_fast");
	j = policy_misses_json(&why);
	assert_non_null(j);
	dump = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
	    dump, "{\"blacklisted\":[{\"library\":\"libz.so.1\",\"object\":"
		  "\"x.so\",\"symbols\":[\"_tr_init\",\"inflate_fast\"]}],"
		  "\"libraries\":[{\"needed_by\":null,\"soname\":"
		  "\"libmvec.so.1\"}],\"symbol_versions\":[{\"library\":"
		  "\"libc.so.6\",\"object\":\"x.so\",\"symbols\":["
		  "\"__cxa_thread_atexit_impl\"],\"version\":\"GLIBC_2.18\"},"
		  "{\"library\":"
		  "\"libc.so.6\",\"object\":\"x.so\",\"symbols\":["
		  "\"pthread_create\",\"dlopen\"],\"version\":"
		  "\"GLIBC_2.34\"}]}");
	free(dump);
	/* The same line from the JSON, as a report carries it. */
	policy_reasons_format(j, buf2, sizeof(buf2));
	assert_string_equal(buf2, buf);
	older = json_pack("[{s:s,s:O},{s:s,s:{}}]", "tag", "manylinux_2_17",
			  "reasons", j, "tag", "musllinux_1_1", "reasons");
	assert_non_null(older);
	assert_string_equal(policy_nearest_miss(older, buf2, sizeof(buf2)),
			    "manylinux_2_17");
	assert_string_equal(buf2, buf);
	json_decref(older);
	older = json_pack("[{s:s,s:{}}]", "tag", "musllinux_1_1", "reasons");
	assert_null(policy_nearest_miss(older, buf2, sizeof(buf2)));
	json_decref(older);
	json_decref(j);
	policy_misses_release(&why);
	/* Without a list, only the verdict. */
	assert_int_equal(policy_judge(&x86.tags[2], &f.obj, 1, sys, 1, NULL,
				      &e),
			 0);
	fake_init(&f, V("GLIBC_2.2.5@libc.so.6:malloc"), NULL, NULL);
	assert_int_equal(policy_judge(&x86.tags[0], &f.obj, 1, NULL, 0, &why,
				      &e),
			 1);
	assert_int_equal(why.n, 0);
}

static void test_find(void **state)
{
	const struct policy_tag *t;
	struct sp_err e;

	(void)state;
	t = policy_find(&x86, "manylinux1", NULL, &e);
	assert_non_null(t);
	assert_string_equal(t->name, "manylinux_2_5");
	t = policy_find(&x86, "manylinux2010_x86_64", NULL, &e);
	assert_non_null(t);
	assert_string_equal(t->name, "manylinux_2_12");
	t = policy_find(&x86, "manylinux2014", NULL, &e);
	assert_non_null(t);
	assert_string_equal(t->name, "manylinux_2_17");
	t = policy_find(&x86, "manylinux_2_28_x86_64", NULL, &e);
	assert_non_null(t);
	assert_string_equal(t->name, "manylinux_2_28");
	t = policy_find(&x86, "manylinux_2_5", NULL, &e);
	assert_non_null(t);
	assert_string_equal(t->name, "manylinux_2_5");
	assert_null(policy_find(&x86, "manylinux_2_28_aarch64", NULL, &e));
	assert_non_null(strstr(e.msg, "not for this architecture (x86_64)"));
	assert_null(policy_find(&x86, "manylinux_2_2", NULL, &e));
	assert_non_null(strstr(e.msg, "unknown manylinux tag 'manylinux_2_2'"));
	assert_non_null(strstr(e.msg, "manylinux_2_17 (manylinux2014)"));
	assert_null(policy_find(&x86, "manylinux_2_170", NULL, &e));
	assert_null(policy_find(&x86, "manylinux1_2", NULL, &e));
	/* The other libc's tag. */
	assert_null(policy_find(&x86, "musllinux_1_2", "'m.so'", &e));
	assert_string_equal(e.msg, "'m.so' is built for glibc: --compat "
				   "musllinux_1_2 is a musl tag");
	assert_null(policy_find(&musl, "manylinux2014", "'m.so'", &e));
	assert_string_equal(e.msg, "'m.so' is built for musl: --compat "
				   "manylinux2014 is a glibc tag");
	t = policy_find(&musl, "musllinux_1_1_x86_64", NULL, &e);
	assert_non_null(t);
	assert_string_equal(t->name, "musllinux_1_1");
	t = policy_find(&musl, "musllinux_1_2", NULL, &e);
	assert_non_null(t);
	assert_string_equal(t->name, "musllinux_1_2");
}

static void test_name_valid(void **state)
{
	static const char *const good[] = {
	    "manylinux1",	   "manylinux2010",	  "manylinux2014",
	    "manylinux_2_5",	   "manylinux_2_28",	  "manylinux_2_17_aarch64",
	    "manylinux1_i686",	   "manylinux2014_x86_64", "musllinux_1_1",
	    "musllinux_1_2_x86_64", "musllinux_1_2_armv7l",
	};
	static const char *const bad[] = {
	    "manylinux_9_9", "manylinux1_aarch64", "musllinux_1_3", "linux",
	    "manylinux2014_sparc", "manylinux_2_5_", "",
	};
	struct sp_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (policy_name_valid(good[i], &e) < 0)
			fail_msg("'%s': %s", good[i], e.msg);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (policy_name_valid(bad[i], &e) == 0)
			fail_msg("'%s' was accepted", bad[i]);
	assert_non_null(strstr(e.msg, "manylinux1"));
	assert_non_null(strstr(e.msg, "musllinux_1_2"));
}

static void test_platform_tag(void **state)
{
	char *s;

	(void)state;
	s = policy_platform_tag(&x86, &x86.tags[0]);
	assert_string_equal(s, "manylinux_2_5_x86_64.manylinux1_x86_64");
	free(s);
	s = policy_platform_tag(&x86, &x86.tags[2]);
	assert_string_equal(s, "manylinux_2_17_x86_64.manylinux2014_x86_64");
	free(s);
	s = policy_platform_tag(&arm, &arm.tags[1]);
	assert_string_equal(s, "manylinux_2_24_aarch64");
	free(s);
	s = policy_platform_tag(&musl, &musl.tags[1]);
	assert_string_equal(s, "musllinux_1_2_x86_64");
	free(s);
}

/* The libc of an object: its headers first (elf_info_libc); else its
 * file name's extension suffix as CPython names it (auditwheel's last
 * resort); else glibc.  Android's is refused: no policy covers it. */
static void test_libc_arch(void **state)
{
	char *musl_needed[] = {"libc.musl-x86_64.so.1"};
	char *bare[] = {"libz.so.1", "libc.so"};
	char *glibc[] = {"libm.so.6", "libc.so.6"};
	char *odd[] = {"libc.musl-.so.1", "libc.so.7"};
	struct elf_info info = {0};
	enum policy_libc l;
	struct sp_err e;

	(void)state;
	assert_int_equal(policy_libc_of(&info, "m.so", &l, &e), 0);
	assert_int_equal(l, POLICY_GLIBC);
	info.needed = musl_needed;
	info.nneeded = 1;
	assert_int_equal(policy_libc_of(&info, "m.so", &l, &e), 0);
	assert_int_equal(l, POLICY_MUSL);
	/* musl-gcc's "libc.so" says nothing: the name decides. */
	info.needed = bare;
	info.nneeded = 2;
	assert_int_equal(policy_libc_of(&info, "m.so", &l, &e), 0);
	assert_int_equal(l, POLICY_GLIBC);
	assert_int_equal(policy_libc_of(&info,
					"p/m.cpython-312-x86_64-linux-musl.so",
					&l, &e),
			 0);
	assert_int_equal(l, POLICY_MUSL);
	assert_int_equal(
	    policy_libc_of(&info, "m.cpython-312-arm-linux-musleabihf.so", &l,
			   &e),
	    0);
	assert_int_equal(l, POLICY_MUSL);
	assert_int_equal(
	    policy_libc_of(&info, "spam.cpython-313-aarch64-linux-android.so",
			   &l, &e),
	    -1);
	assert_non_null(strstr(e.msg, "Android"));
	/* The headers decide over the name. */
	info.needed = glibc;
	assert_int_equal(policy_libc_of(&info,
					"m.cpython-312-x86_64-linux-musl.so",
					&l, &e),
			 0);
	assert_int_equal(l, POLICY_GLIBC);
	info.needed = odd;
	assert_int_equal(policy_libc_of(&info, "m.so", &l, &e), 0);
	assert_int_equal(l, POLICY_GLIBC);
	assert_int_equal(policy_libc_of_tag("musllinux_1_1"), POLICY_MUSL);
	assert_int_equal(policy_libc_of_tag("manylinux1"), POLICY_GLIBC);
	assert_int_equal(policy_libc_of_tag("linux"), -1);
}

static void load_bad(const char *text, const char *arch, const char *want)
{
	char path[] = "/tmp/spoke-policy-XXXXXX";
	struct policy p;
	struct sp_err e;
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(policy_load(&p, path, POLICY_GLIBC, arch, &e), -1);
	assert_non_null(strstr(e.msg, path));
	if (!strstr(e.msg, want))
		fail_msg("'%s' does not say '%s'", e.msg, want);
	unlink(path);
}

#define HEAD "{\"format\": 2, \"musl_libc\": {}, \"policies\": "

static void test_bad_tables(void **state)
{
	struct policy p;
	struct sp_err e;

	(void)state;
	load_bad("{", "x86_64", "cannot load");
	load_bad("{\"format\": 1, \"tags\": []}", "x86_64", "format 2");
	load_bad(HEAD "[{\"libc\": \"glibc\"}]}", "x86_64", "no 'name'");
	load_bad(HEAD "[{\"name\": \"manylinux_2_5\", \"libc\": \"glibc\", "
		      "\"symbol_versions\": [], \"blacklist\": {}}]}",
		 "x86_64", "must be objects");
	load_bad(HEAD "[{\"name\": \"manylinux_2_5\", \"libc\": \"glibc\", "
		      "\"aliases\": [], \"libs\": [1], \"symbol_versions\": "
		      "{\"x86_64\": {}}, \"blacklist\": {}}]}",
		 "x86_64", "'libs'");
	load_bad(HEAD "[{\"name\": \"manylinux_2_5\", \"libc\": \"glibc\", "
		      "\"aliases\": [], \"libs\": [], \"symbol_versions\": "
		      "{\"x86_64\": {\"GLIBC\": \"2.5\"}}, \"blacklist\": "
		      "{}}]}",
		 "x86_64", "'symbol_versions'");
	load_bad(HEAD "[{\"name\": \"manylinux_2_5\", \"libc\": \"glibc\", "
		      "\"aliases\": [], \"libs\": [], \"symbol_versions\": "
		      "{\"x86_64\": {}}, \"blacklist\": {\"libz.so.1\": "
		      "[2]}}]}",
		 "x86_64", "'blacklist'");
	load_bad(HEAD "[]}", "x86_64",
		 "no manylinux policy covers x86_64 objects");
	/* The message names the architectures there are policies for. */
	assert_int_equal(policy_load(&p, TABLE, POLICY_GLIBC, "mips", &e), -1);
	assert_non_null(strstr(e.msg, "no manylinux policy covers mips "
				      "objects"));
	assert_non_null(strstr(e.msg, "cover i686, x86_64, aarch64, "));
	assert_non_null(strstr(e.msg, "ppc64,"));
	assert_int_equal(policy_load(&p, TABLE, POLICY_MUSL, "ppc64", &e), -1);
	assert_non_null(strstr(e.msg, "no musllinux policy covers ppc64 "
				      "objects"));
	assert_null(strstr(e.msg, "ppc64,"));
	assert_int_equal(policy_load(&p, "/nonexistent.json", POLICY_GLIBC,
				     "x86_64", &e),
			 -1);
	assert_non_null(strstr(e.msg, "/nonexistent.json"));
}

static void test_repair_names(void **state)
{
	static const char data[] = "library bytes";
	uint8_t d[32];
	char hex[65], want[128], *s;

	(void)state;
	sha256_buf(data, sizeof(data), d);
	hex_encode(d, 32, hex);
	s = repair_hashed_name("libfoo.so.1", data, sizeof(data));
	snprintf(want, sizeof(want), "libfoo-%.8s.so.1", hex);
	assert_string_equal(s, want);
	free(s);
	s = repair_hashed_name("libbar.so", data, sizeof(data));
	snprintf(want, sizeof(want), "libbar-%.8s.so", hex);
	assert_string_equal(s, want);
	free(s);
	s = repair_hashed_name("weird", data, sizeof(data));
	snprintf(want, sizeof(want), "weird-%.8s", hex);
	assert_string_equal(s, want);
	free(s);

	s = repair_rpath("native.cpython-311-x86_64-linux-gnu.so", "d.libs");
	assert_string_equal(s, "$ORIGIN/d.libs");
	free(s);
	s = repair_rpath("pkg/_native.so", "d.libs");
	assert_string_equal(s, "$ORIGIN/../d.libs");
	free(s);
	s = repair_rpath("a/b/c.so", "d.libs");
	assert_string_equal(s, "$ORIGIN/../../d.libs");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_choose),
	    cmocka_unit_test(test_blacklist),
	    cmocka_unit_test(test_reasons),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_name_valid),
	    cmocka_unit_test(test_platform_tag),
	    cmocka_unit_test(test_libc_arch),
	    cmocka_unit_test(test_bad_tables),
	    cmocka_unit_test(test_repair_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
