/*
 * test_project_shard.c - the partition of packages among CI jobs: every
 * package in exactly one shard, the same shards whatever the input order,
 * N = 1 takes all, weights balance; --shard's argument and the weights
 * file refused as they should be.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/project/shard.h"

static void test_parse(void **state)
{
	static const char *const bad[] = {
	    "0/2",  "3/2",  "1/0",  "x",    "1/2/3",	    "", "/2", "1/",
	    "-1/2", "1 /2", "1/2 ", "+1/2", "99999999999/1"};
	struct sp_err e = {0};
	unsigned k = 0, n = 0;
	size_t i;

	(void)state;
	assert_int_equal(shard_parse("1/1", &k, &n, &e), 0);
	assert_int_equal(k, 1);
	assert_int_equal(n, 1);
	assert_int_equal(shard_parse("3/7", &k, &n, &e), 0);
	assert_int_equal(k, 3);
	assert_int_equal(n, 7);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		sp_err_clear(&e);
		if (shard_parse(bad[i], &k, &n, &e) == 0)
			fail_msg("'%s' was taken as %u/%u", bad[i], k, n);
		assert_non_null(strstr(e.msg, "--shard '"));
	}
}

static const char *const names7[] = {"golf",  "alpha", "echo",	 "charlie",
				     "bravo", "delta", "foxtrot"};

/* Places names (with weights w, or 1 each) in n shards; *out[i] is the
 * shard of names[i]. */
static void place(const char *const *names, const double *w, size_t count,
		  unsigned n, unsigned *out)
{
	struct shard_pkg p[16];
	struct sp_err e = {0};
	size_t i;

	assert_true(count <= 16);
	for (i = 0; i < count; i++) {
		p[i].name = names[i];
		p[i].weight = w ? w[i] : 1;
		p[i].shard = 0;
	}
	assert_int_equal(shard_assign(p, count, n, &e), 0);
	for (i = 0; i < count; i++) {
		assert_string_equal(p[i].name, names[i]); /* order kept */
		assert_true(p[i].shard >= 1 && p[i].shard <= n);
		out[i] = p[i].shard;
	}
}

static void test_every_package_once(void **state)
{
	unsigned got[7], n, s;
	size_t i, total;

	(void)state;
	for (n = 1; n <= 9; n++) {
		place(names7, NULL, 7, n, got);
		/* Each is in exactly one shard (got[i] is one number in
		 * range), and the counts add up to all. */
		for (total = 0, s = 1; s <= n; s++)
			for (i = 0; i < 7; i++)
				total += got[i] == s;
		assert_int_equal(total, 7);
	}
}

static void test_round_robin_without_weights(void **state)
{
	/* Sorted: alpha bravo charlie delta echo foxtrot golf. */
	static const char *const sorted[] = {
	    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"};
	unsigned got[7];
	size_t i, j;

	(void)state;
	place(names7, NULL, 7, 3, got);
	for (i = 0; i < 7; i++)
		for (j = 0; j < 7; j++)
			if (!strcmp(names7[i], sorted[j]))
				assert_int_equal(got[i], j % 3 + 1);
}

static void test_same_input_same_output(void **state)
{
	static const double w[] = {3, 1, 2, 2, 5, 1, 4};
	/* names7 and w reversed: the same packages given the other way. */
	const char *rev[7];
	double rw[7];
	unsigned a[7], b[7], c[7];
	size_t i;

	(void)state;
	for (i = 0; i < 7; i++) {
		rev[i] = names7[6 - i];
		rw[i] = w[6 - i];
	}
	place(names7, w, 7, 3, a);
	place(names7, w, 7, 3, b);
	place(rev, rw, 7, 3, c);
	for (i = 0; i < 7; i++) {
		assert_int_equal(a[i], b[i]);
		assert_int_equal(a[i], c[6 - i]);
	}
}

static void test_one_shard_takes_all(void **state)
{
	static const double w[] = {3, 1, 2, 2, 5, 1, 4};
	unsigned got[7];
	size_t i;

	(void)state;
	place(names7, w, 7, 1, got);
	for (i = 0; i < 7; i++)
		assert_int_equal(got[i], 1);
}

/* The heaviest shard minus the lightest is at most the heaviest
 * package: greedy placement into the lightest shard never does worse. */
static void check_balanced(const double *w, size_t count, unsigned n)
{
	static const char *const nm[] = {"a", "b", "c", "d", "e", "f",
					 "g", "h", "i", "j", "k", "l"};
	double load[8] = {0}, hi = 0, lo = 1e18, wmax = 0;
	unsigned got[12], s;
	size_t i;

	place(nm, w, count, n, got);
	for (i = 0; i < count; i++) {
		load[got[i] - 1] += w[i];
		if (w[i] > wmax)
			wmax = w[i];
	}
	for (s = 0; s < n; s++) {
		if (load[s] > hi)
			hi = load[s];
		if (load[s] < lo)
			lo = load[s];
	}
	if (hi - lo > wmax)
		fail_msg("shards weigh %.1f to %.1f", lo, hi);
}

static void test_weights_balance(void **state)
{
	/* One heavy package: it has a shard to itself, the rest share. */
	static const double heavy[] = {10, 1, 1, 1, 1, 1, 1};
	static const double mixed[] = {8, 7, 6, 5, 4, 3, 2, 2, 1, 1, 1, 1};
	unsigned got[7];
	size_t i;

	(void)state;
	place(names7, heavy, 7, 2, got);
	for (i = 1; i < 7; i++)
		assert_int_not_equal(got[i], got[0]);
	check_balanced(mixed, 12, 2);
	check_balanced(mixed, 12, 3);
	check_balanced(mixed, 12, 5);
	{
		static const double w[] = {8, 1, 7, 1, 6, 1};
		static const char *const nm[] = {"a", "b", "c", "d", "e", "f"};
		unsigned g[6];
		double load[3] = {0};

		place(nm, w, 6, 3, g);
		for (i = 0; i < 6; i++)
			load[g[i] - 1] += w[i];
		/* 8, 7, 6 each open a shard; the three 1s go to the
		 * lightest: 8+0, 7+1, 6+1+1. */
		assert_true(load[0] == 8 && load[1] == 8 && load[2] == 8);
	}
}

static void test_weights_file(void **state)
{
	static const struct {
		const char *doc, *want;
	} bad[] = {
	    {"[]", "expected {"},
	    {"{\"version\": 1}", "\"weights\" must be an object"},
	    {"{\"version\": 2, \"weights\": {}}", "\"version\" must be 1"},
	    {"{\"weights\": {}}", "\"version\" must be 1"},
	    {"{\"version\": 1, \"weights\": {}, \"extra\": 1}",
	     "unknown member 'extra'"},
	    {"{\"version\": 1, \"weights\": {\"a\": \"3\"}}",
	     "the weight of 'a'"},
	    {"{\"version\": 1, \"weights\": {\"b\": -1}}", "the weight of 'b'"},
	    {"{\"version\": 1, \"weights\": {\"c\": 1e12}}",
	     "the weight of 'c'"},
	    {"{\"version\": 1, \"weights\": {\"d\": null}}",
	     "the weight of 'd'"},
	    {"{\"version\": 1, \"weights\": {\"\": 1}}", "an empty package"},
	    {"{\"version\": 1, \"weights\": {}, \"shards\": {}}",
	     "\"shards\" must be an array"},
	};
	struct sp_err e = {0};
	json_t *doc, *w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		doc = json_loads(bad[i].doc, 0, NULL);
		assert_non_null(doc);
		sp_err_clear(&e);
		w = shard_weights_check(doc, "w.json", &e);
		if (w)
			fail_msg("'%s' was taken", bad[i].doc);
		if (!strstr(e.msg, bad[i].want) || !strstr(e.msg, "'w.json'"))
			fail_msg("'%s': '%s'", bad[i].doc, e.msg);
		json_decref(doc);
	}
	doc = json_loads("{\"version\": 1, \"weights\": {\"a\": 2, \"b\": "
			 "0.5, \"c\": 0}, \"shards\": []}",
			 0, NULL);
	w = shard_weights_check(doc, "w.json", &e);
	assert_non_null(w);
	assert_int_equal(json_object_size(w), 3);
	assert_true(shard_weights_default(w) == 0.5);
	json_object_set_new(w, "d", json_real(4));
	assert_true(shard_weights_default(w) == 1.25);
	json_decref(w);
	json_decref(doc);
	assert_true(shard_weights_default(NULL) == 1);
}

static int same_list(const json_t *got, const char *x, const char *y)
{
	json_t *want = json_pack("[s,s]", x, y);
	int same = json_equal(got, want);

	json_decref(want);
	return same;
}

/* Weights of 0 (a package the journal timed at nothing) tie every load:
 * the tie goes to the shard with fewer packages, so N zero weights still
 * give N shards one package each. */
static void test_zero_weights_spread(void **state)
{
	static const char *const two[] = {"ffi-a", "ffi-b"};
	static const double zero2[] = {0, 0};
	static const double zero7[] = {0, 0, 0, 0, 0, 0, 0};
	static const double mixed[] = {5, 0, 0, 5};
	static const char *const four[] = {"a", "b", "c", "d"};
	unsigned out[16], count[4] = {0};
	size_t i;

	(void)state;
	place(two, zero2, 2, 2, out);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	/* Seven at 0 over 3 shards: 3, 2, 2 packages, as round-robin. */
	place(names7, zero7, 7, 3, out);
	for (i = 0; i < 7; i++)
		count[out[i] - 1]++;
	assert_int_equal(count[0], 3);
	assert_int_equal(count[1], 2);
	assert_int_equal(count[2], 2);
	/* a, d weigh 5 and land in shards 1 and 2; b and c weigh 0 and
	 * tie both loads at 5: one each, not both in shard 1. */
	place(four, mixed, 4, 2, out);
	assert_int_not_equal(out[0], out[3]);
	assert_int_not_equal(out[1], out[2]);
}

static void test_partition_json(void **state)
{
	json_t *names = json_pack("[s,s,s,s]", "d", "b", "c", "a");
	json_t *w = json_pack("{s:f,s:f,s:f}", "a", 5.0, "b", 1.0, "z", 3.0);
	json_t *p, *s1, *s2;
	struct sp_err e = {0};

	(void)state;
	/* c and d weigh the median of 5, 1, 3: 3.  Order: a 5, c 3, d 3,
	 * b 1: a -> 1, c -> 2, d -> 2 (3 < 5), b -> 1 (5 < 6). */
	p = shard_partition(names, 2, w, &e);
	assert_non_null(p);
	s1 = json_array_get(json_object_get(p, "shards"), 0);
	s2 = json_array_get(json_object_get(p, "shards"), 1);
	assert_true(same_list(json_object_get(s1, "packages"), "a", "b"));
	assert_true(same_list(json_object_get(s2, "packages"), "c", "d"));
	assert_true(json_number_value(json_object_get(s1, "weight")) == 6);
	assert_true(json_number_value(json_object_get(s2, "weight")) == 6);
	assert_true(json_number_value(json_object_get(p, "default_weight")) ==
		    3);
	json_decref(p);
	/* More shards than packages: the extra ones are empty. */
	p = shard_partition(names, 6, NULL, &e);
	assert_non_null(p);
	assert_int_equal(json_array_size(json_object_get(p, "shards")), 6);
	assert_int_equal(
	    json_array_size(json_object_get(
		json_array_get(json_object_get(p, "shards"), 5), "packages")),
	    0);
	json_decref(p);
	json_array_append_new(names, json_string("b"));
	p = shard_partition(names, 2, NULL, &e);
	assert_null(p);
	assert_non_null(strstr(e.msg, "'b' is listed twice"));
	json_decref(names);
	json_decref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_every_package_once),
	    cmocka_unit_test(test_round_robin_without_weights),
	    cmocka_unit_test(test_same_input_same_output),
	    cmocka_unit_test(test_one_shard_takes_all),
	    cmocka_unit_test(test_weights_balance),
	    cmocka_unit_test(test_weights_file),
	    cmocka_unit_test(test_zero_weights_spread),
	    cmocka_unit_test(test_partition_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
