/*
 * Unit tests of worker/repair/policy on the real data/manylinux-policy.json (tag
 * choice, names, the --compat error) and on broken tables written here;
 * and of the naming helpers of worker/repair/repair.
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
#include <unistd.h>

#include "common/sha256.h"
#include "worker/repair/policy.h"
#include "worker/repair/repair.h"

#define TABLE SPOKE_DATA_DIR "/manylinux-policy.json"

static struct policy x86, arm;

static int setup(void **state)
{
	struct sp_err e;

	(void)state;
	if (policy_load(&x86, TABLE, "x86_64", &e) < 0 ||
	    policy_load(&arm, TABLE, "aarch64", &e) < 0) {
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
	return 0;
}

static struct symvers need(const char *glibc, const char *glibcxx,
			   const char *cxxabi, const char *gcc)
{
	struct symvers s;

	memset(&s, 0, sizeof(s));
	if (glibc)
		assert_int_equal(symver_parse(glibc, &s.glibc), 0);
	if (glibcxx)
		assert_int_equal(symver_parse(glibcxx, &s.glibcxx), 0);
	if (cxxabi)
		assert_int_equal(symver_parse(cxxabi, &s.cxxabi), 0);
	if (gcc)
		assert_int_equal(symver_parse(gcc, &s.gcc), 0);
	return s;
}

static const char *chosen(const struct policy *p, struct symvers s,
			  const char *const *libs, size_t n,
			  const char *limit)
{
	const struct policy_tag *lim = NULL, *t;
	struct sp_err e;

	if (limit) {
		lim = policy_find(p, limit, &e);
		assert_non_null(lim);
	}
	t = policy_choose(p, &s, libs, n, lim);
	return t ? t->name : "none";
}

static void test_table(void **state)
{
	size_t i;

	(void)state;
	assert_true(x86.ntags >= 10);
	assert_string_equal(x86.tags[0].name, "manylinux_2_17");
	assert_string_equal(x86.tags[0].alias, "manylinux2014");
	assert_string_equal(x86.tags[x86.ntags - 1].name, "manylinux_2_39");
	for (i = 1; i < x86.ntags; i++) {
		assert_true(x86.tags[i - 1].glibc_minor <
			    x86.tags[i].glibc_minor);
		assert_null(x86.tags[i].alias);
		/* Newer systems never take a ceiling back. */
		assert_true(symver_cmp(&x86.tags[i - 1].ceiling.glibc,
				       &x86.tags[i].ceiling.glibc) <= 0);
		assert_true(symver_cmp(&x86.tags[i - 1].ceiling.glibcxx,
				       &x86.tags[i].ceiling.glibcxx) <= 0);
	}
	assert_true(policy_allows_lib(&x86.tags[0], "libc.so.6"));
	assert_true(policy_allows_lib(&x86.tags[0], "libz.so.1"));
	assert_true(policy_allows_lib(&x86.tags[0], "ld-linux-x86-64.so.2"));
	assert_false(policy_allows_lib(&x86.tags[0], "libmvec.so.1"));
	assert_true(policy_allows_lib(&x86.tags[1], "libmvec.so.1"));
	assert_false(policy_allows_lib(&x86.tags[0], "libssl.so.3"));
	assert_false(policy_allows_lib(&x86.tags[0], "libcrypt.so.1"));
}

static void test_choose(void **state)
{
	const char *mvec[] = {"libc.so.6", "libmvec.so.1"};
	const char *ssl[] = {"libssl.so.3"};

	(void)state;
	assert_string_equal(chosen(&x86, need(NULL, NULL, NULL, NULL), NULL,
				   0, NULL),
			    "manylinux_2_17");
	assert_string_equal(chosen(&x86, need("2.17", NULL, NULL, "3.0"),
				   NULL, 0, NULL),
			    "manylinux_2_17");
	assert_string_equal(chosen(&x86, need("2.18", NULL, NULL, NULL), NULL,
				   0, NULL),
			    "manylinux_2_24");
	assert_string_equal(chosen(&x86, need("2.34", NULL, NULL, NULL), NULL,
				   0, NULL),
			    "manylinux_2_34");
	/* glibc 2.37 added no symbol version on x86_64: GLIBC_2.37 can only
	 * be met by 2_38. */
	assert_string_equal(chosen(&x86, need("2.36", NULL, NULL, NULL), NULL,
				   0, NULL),
			    "manylinux_2_36");
	assert_string_equal(chosen(&x86, need("2.37", NULL, NULL, NULL), NULL,
				   0, NULL),
			    "manylinux_2_38");
	/* Any namespace can push the tag up. */
	assert_string_equal(chosen(&x86, need("2.17", "3.4.30", NULL, NULL),
				   NULL, 0, NULL),
			    "manylinux_2_35");
	assert_string_equal(chosen(&x86, need("2.17", NULL, "1.3.11", NULL),
				   NULL, 0, NULL),
			    "manylinux_2_27");
	assert_string_equal(chosen(&x86, need("2.17", NULL, NULL, "12.0.0"),
				   NULL, 0, NULL),
			    "manylinux_2_35");
	/* So can a library left to the system. */
	assert_string_equal(chosen(&x86, need("2.17", NULL, NULL, NULL), mvec,
				   2, NULL),
			    "manylinux_2_24");
	assert_string_equal(chosen(&x86, need("2.17", NULL, NULL, NULL), ssl,
				   1, NULL),
			    "none");
	/* Too new for anything, or for the limit. */
	assert_string_equal(chosen(&x86, need("2.99", NULL, NULL, NULL), NULL,
				   0, NULL),
			    "none");
	assert_string_equal(chosen(&x86, need("2.34", NULL, NULL, NULL), NULL,
				   0, "manylinux_2_28"),
			    "none");
	assert_string_equal(chosen(&x86, need("2.28", NULL, NULL, NULL), NULL,
				   0, "manylinux_2_28"),
			    "manylinux_2_28");
	assert_string_equal(chosen(&x86, need("2.3.4", NULL, NULL, NULL),
				   NULL, 0, "manylinux_2_28"),
			    "manylinux_2_17");
	/* aarch64's oldest tag has GLIBC_2.18. */
	assert_string_equal(chosen(&arm, need("2.18", NULL, NULL, NULL), NULL,
				   0, NULL),
			    "manylinux_2_17");
}

static void test_find(void **state)
{
	const struct policy_tag *t;
	struct sp_err e;

	(void)state;
	t = policy_find(&x86, "manylinux2014", &e);
	assert_non_null(t);
	assert_string_equal(t->name, "manylinux_2_17");
	t = policy_find(&x86, "manylinux2014_x86_64", &e);
	assert_non_null(t);
	t = policy_find(&x86, "manylinux_2_28_x86_64", &e);
	assert_non_null(t);
	assert_string_equal(t->name, "manylinux_2_28");
	assert_null(policy_find(&x86, "manylinux_2_28_aarch64", &e));
	assert_non_null(strstr(e.msg, "not for this machine"));
	assert_null(policy_find(&x86, "manylinux_2_2", &e));
	assert_non_null(strstr(e.msg, "unknown manylinux tag 'manylinux_2_2'"));
	assert_non_null(strstr(e.msg, "manylinux_2_17 or manylinux2014"));
	assert_null(policy_find(&x86, "manylinux_2_170", &e));
	assert_null(policy_find(&x86, "musllinux_1_2", &e));
}

static void test_check_message(void **state)
{
	const struct policy_tag *t;
	struct symvers s = need("2.34", "3.4.9", NULL, NULL);
	struct sp_err e;

	(void)state;
	t = policy_find(&x86, "manylinux_2_28", &e);
	assert_int_equal(policy_check(t, &s, "target/release/libx.so", &e), -1);
	assert_string_equal(e.msg, "'target/release/libx.so' needs GLIBC_2.34, "
				   "newer than manylinux_2_28 allows "
				   "(GLIBC_2.28)");
	s = need("2.17", "3.4.30", NULL, NULL);
	assert_int_equal(policy_check(t, &s, "x.so", &e), -1);
	assert_string_equal(e.msg, "'x.so' needs GLIBCXX_3.4.30, newer than "
				   "manylinux_2_28 allows (GLIBCXX_3.4.24)");
	s = need("2.28", NULL, NULL, NULL);
	assert_int_equal(policy_check(t, &s, "x.so", &e), 0);
}

static void test_platform_tag(void **state)
{
	char *s;

	(void)state;
	s = policy_platform_tag(&x86, &x86.tags[0]);
	assert_string_equal(s, "manylinux_2_17_x86_64.manylinux2014_x86_64");
	free(s);
	s = policy_platform_tag(&arm, &arm.tags[arm.ntags - 1]);
	assert_string_equal(s, "manylinux_2_39_aarch64");
	free(s);
}

static void test_versions(void **state)
{
	struct symver v;

	(void)state;
	assert_int_equal(symver_parse("3.4.29", &v), 0);
	assert_int_equal(v.v[0], 3);
	assert_int_equal(v.v[1], 4);
	assert_int_equal(v.v[2], 29);
	assert_int_equal(symver_parse("11.0", &v), 0);
	assert_int_equal(v.v[0], 11);
	assert_int_equal(symver_parse("", &v), -1);
	assert_int_equal(symver_parse("2.", &v), -1);
	assert_int_equal(symver_parse("1.2.3.4", &v), -1);
	assert_int_equal(symver_parse("TM_1", &v), -1);
	assert_int_equal(symver_parse("99999999999", &v), -1);
	assert_int_equal(symver_parse("65536", &v), -1);
}

/* A version prints as it was written: GCC_4.2.0 is not GCC_4.2. */
static void test_version_format(void **state)
{
	static const char *const vs[] = {"4.2.0", "2.17", "3.4.29", "7",
					 "1.0", "2.3.4"};
	struct symver v, w;
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vs) / sizeof(*vs); i++) {
		assert_int_equal(symver_parse(vs[i], &v), 0);
		symver_format(&v, buf, sizeof(buf));
		assert_string_equal(buf, vs[i]);
	}
	/* By value, 4.2 and 4.2.0 are the same version. */
	assert_int_equal(symver_parse("4.2", &v), 0);
	assert_int_equal(symver_parse("4.2.0", &w), 0);
	assert_int_equal(symver_cmp(&v, &w), 0);
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
	assert_int_equal(policy_load(&p, path, arch, &e), -1);
	assert_non_null(strstr(e.msg, path));
	if (!strstr(e.msg, want))
		fail_msg("'%s' does not say '%s'", e.msg, want);
	unlink(path);
}

static void test_bad_tables(void **state)
{
	struct policy p;
	struct sp_err e;

	(void)state;
	load_bad("{", "x86_64", "cannot load");
	load_bad("{\"format\": 2, \"tags\": []}", "x86_64", "format 1");
	load_bad("{\"format\": 1, \"tags\": [{\"glibc\": \"2.x\"}]}", "x86_64",
		 "'glibc'");
	load_bad("{\"format\": 1, \"tags\": [{\"glibc\": \"2.17\", "
		 "\"aliases\": [], \"libs\": [], \"ceilings\": {\"x86_64\": "
		 "{\"GLIBC\": \"2.17\"}}}]}",
		 "x86_64", "'CXXABI'");
	load_bad("{\"format\": 1, \"tags\": [{\"glibc\": \"2.17\", "
		 "\"aliases\": [], \"libs\": [1], \"ceilings\": {\"x86_64\": "
		 "{\"GLIBC\": \"2.17\", \"CXXABI\": \"1.3\", \"GLIBCXX\": "
		 "\"3.4\", \"GCC\": \"3.0\"}}}]}",
		 "x86_64", "strings");
	load_bad("{\"format\": 1, \"tags\": []}", "x86_64", "no tag");
	assert_int_equal(policy_load(&p, TABLE, "riscv64", &e), -1);
	assert_non_null(strstr(e.msg, "no tag for riscv64"));
	assert_int_equal(policy_load(&p, "/nonexistent.json", "x86_64", &e),
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
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_check_message),
	    cmocka_unit_test(test_platform_tag),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_version_format),
	    cmocka_unit_test(test_bad_tables),
	    cmocka_unit_test(test_repair_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
