/*
 * fuzz_shard.c - libFuzzer harness for cli/project/shard: a weights file
 * (arbitrary text, read as `spoke build --shard-weights FILE` reads it)
 * through shard_weights_check(), and, when it is taken, the partition of
 * its package names.
 *
 * The first byte picks N (1 to 8); the rest is the file.  A file that is
 * taken must give a partition that holds every name it weighs exactly
 * once, sorted within each shard, with each shard's weight the sum of its
 * packages': the harness aborts otherwise, so the fuzzer reports it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/project/shard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every name of w is in exactly one shard of part, sorted, and the
 * weights add up. */
static void check_partition(const json_t *part, const json_t *w, unsigned n)
{
	const json_t *shards = json_object_get(part, "shards"), *sh, *p;
	double dflt =
	    json_number_value(json_object_get(part, "default_weight"));
	json_t *seen = json_object();
	size_t i, k, count = 0;

	if (!seen || json_array_size(shards) != n)
		abort();
	json_array_foreach(shards, k, sh)
	{
		const json_t *list = json_object_get(sh, "packages");
		const char *prev = NULL;
		double sum = 0;

		json_array_foreach(list, i, p)
		{
			const char *name = json_string_value(p);
			const json_t *x = json_object_get(w, name);

			if (!name || json_object_get(seen, name) ||
			    (prev && strcmp(prev, name) >= 0))
				abort();
			json_object_set_new(seen, name, json_true());
			sum += x ? json_number_value(x) : dflt;
			prev = name;
			count++;
		}
		if (sum != json_number_value(json_object_get(sh, "weight")))
			abort();
	}
	if (count != json_object_size(w))
		abort();
	json_decref(seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc, *w, *names, *part;
	struct sp_err e;
	const char *key;
	json_t *v;
	unsigned n;

	if (size < 1)
		return 0;
	n = (unsigned)(data[0] % 8) + 1;
	doc = json_loadb((const char *)data + 1, size - 1,
			 JSON_REJECT_DUPLICATES, NULL);
	if (!doc)
		return 0;
	w = shard_weights_check(doc, "fuzz.json", &e);
	json_decref(doc);
	if (!w)
		return 0;
	names = json_array();
	if (!names)
		abort();
	json_object_foreach(w, key, v)
	    json_array_append_new(names, json_string(key));
	part = shard_partition(names, n, w, &e);
	/* Names come from one object's keys: distinct strings, always
	 * taken. */
	if (!part)
		abort();
	check_partition(part, w, n);
	json_decref(part);
	json_decref(names);
	json_decref(w);
	return 0;
}
