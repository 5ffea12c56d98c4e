/*
 * shard.c - the partition of a build's packages among CI jobs, and the
 * weights file (see shard.h).
 */
#define _GNU_SOURCE
#include "cli/project/shard.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/project/strutil.h"

/* More shards than any CI matrix runs jobs; it keeps K and N far from
 * overflow. */
#define SHARD_MAX 65535
/* A weight above a year of seconds is a unit mistake, not a build. */
#define WEIGHT_MAX (365.0 * 24 * 3600)

/* A decimal number of digits only; *end gets the first byte after. */
static int parse_num(const char *s, const char **end, unsigned *out)
{
	unsigned long v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > SHARD_MAX)
			return -1;
	}
	*end = s;
	*out = (unsigned)v;
	return 0;
}

int shard_parse(const char *spec, unsigned *k, unsigned *n, struct sp_err *e)
{
	const char *p = spec;

	if (parse_num(p, &p, k) < 0 || *p++ != '/' || parse_num(p, &p, n) < 0 ||
	    *p)
		return sp_err_set(e,
				  "--shard '%s': expected K/N, the K-th of N "
				  "shards (1 <= K <= N <= %d)",
				  spec, SHARD_MAX);
	if (*n < 1)
		return sp_err_set(e, "--shard '%s': N must be at least 1",
				  spec);
	if (*k < 1 || *k > *n)
		return sp_err_set(e, "--shard '%s': K must be between 1 and %u",
				  spec, *n);
	return 0;
}

/* Heaviest first, then by name: the order packages are placed in. */
static int by_weight(const void *a, const void *b)
{
	const struct shard_pkg *x = *(const struct shard_pkg *const *)a;
	const struct shard_pkg *y = *(const struct shard_pkg *const *)b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->name, y->name);
}

int shard_assign(struct shard_pkg *pkgs, size_t n, unsigned nshards,
		 struct sp_err *e)
{
	struct shard_pkg **order = NULL;
	double *load = NULL;
	size_t i, *count = NULL;
	unsigned s, best;

	if (nshards < 1)
		SP_BUG("shard_assign: %u shards", nshards);
	order = calloc(n + 1, sizeof(*order));
	load = calloc(nshards, sizeof(*load));
	count = calloc(nshards, sizeof(*count));
	if (!order || !load || !count) {
		free(order);
		free(load);
		free(count);
		return str_oom(e, "divide the packages into shards");
	}
	for (i = 0; i < n; i++)
		order[i] = &pkgs[i];
	qsort(order, n, sizeof(*order), by_weight);
	for (i = 0; i < n; i++) {
		/* Equal loads (weights of 0 above all) go by package
		 * count, else zero weights would all pile into shard 1. */
		for (best = 0, s = 1; s < nshards; s++)
			if (load[s] < load[best] ||
			    (load[s] == load[best] && count[s] < count[best]))
				best = s;
		load[best] += order[i]->weight;
		count[best]++;
		order[i]->shard = best + 1;
	}
	free(order);
	free(load);
	free(count);
	return 0;
}

json_t *shard_weights_check(const json_t *doc, const char *file,
			    struct sp_err *e)
{
	const json_t *w, *v;
	const char *key;

	if (!json_is_object(doc)) {
		sp_err_set(e,
			   "weights file '%s': expected {\"version\": 1, "
			   "\"weights\": {...}}",
			   file);
		return NULL;
	}
	json_object_foreach((json_t *)doc, key, v)
	{
		if (strcmp(key, "version") && strcmp(key, "weights") &&
		    strcmp(key, "shards")) {
			sp_err_set(e,
				   "weights file '%s': unknown member '%s' "
				   "(known: version, weights, shards)",
				   file, key);
			return NULL;
		}
	}
	v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		sp_err_set(e, "weights file '%s': \"version\" must be 1", file);
		return NULL;
	}
	v = json_object_get(doc, "shards");
	if (v && !json_is_array(v)) {
		sp_err_set(e, "weights file '%s': \"shards\" must be an array",
			   file);
		return NULL;
	}
	w = json_object_get(doc, "weights");
	if (!json_is_object(w)) {
		sp_err_set(e,
			   "weights file '%s': \"weights\" must be an object "
			   "of package names to seconds",
			   file);
		return NULL;
	}
	json_object_foreach((json_t *)w, key, v)
	{
		double x = json_number_value(v);

		if (!*key) {
			sp_err_set(e,
				   "weights file '%s': an empty package "
				   "name",
				   file);
			return NULL;
		}
		if (!json_is_number(v) || !isfinite(x) || x < 0 ||
		    x > WEIGHT_MAX) {
			sp_err_set(e,
				   "weights file '%s': the weight of '%s' "
				   "must be a number of seconds from 0 to "
				   "%.0f",
				   file, key, WEIGHT_MAX);
			return NULL;
		}
	}
	return json_incref((json_t *)w);
}

json_t *shard_weights_load(const char *path, struct sp_err *e)
{
	json_error_t jerr;
	json_t *doc, *w;

	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		sp_err_set(e, "cannot read weights file '%s': %s (line %d)",
			   path, jerr.text, jerr.line);
		return NULL;
	}
	w = shard_weights_check(doc, path, e);
	json_decref(doc);
	return w;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double shard_weights_default(const json_t *weights)
{
	size_t n = json_object_size(weights), i = 0;
	const char *key;
	json_t *v;
	double *w, m;

	if (n == 0)
		return 1;
	w = calloc(n, sizeof(*w));
	/* Out of memory here is no reason to fail a build: any default
	 * gives a valid partition, and the same one in every job only if
	 * memory suffices there too, which it then did. */
	if (!w)
		return 1;
	json_object_foreach((json_t *)weights, key, v) w[i++] =
	    json_number_value(v);
	qsort(w, n, sizeof(*w), by_value);
	m = n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
	free(w);
	return m;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct shard_pkg *)a)->name,
		      ((const struct shard_pkg *)b)->name);
}

json_t *shard_partition(const json_t *names, unsigned n, const json_t *weights,
			struct sp_err *e)
{
	size_t count = json_array_size(names), i;
	struct shard_pkg *pkgs = calloc(count + 1, sizeof(*pkgs));
	double dflt = shard_weights_default(weights);
	json_t *out = NULL, *shards = NULL;
	unsigned s;

	if (!pkgs) {
		str_oom(e, "divide the packages into shards");
		return NULL;
	}
	for (i = 0; i < count; i++) {
		const json_t *w;

		pkgs[i].name = json_string_value(json_array_get(names, i));
		if (!pkgs[i].name) {
			sp_err_set(e, "a package name that is not a string");
			goto out;
		}
		w = json_object_get(weights, pkgs[i].name);
		pkgs[i].weight = w ? json_number_value(w) : dflt;
	}
	/* Sorted by name, each shard's list comes out sorted too. */
	qsort(pkgs, count, sizeof(*pkgs), by_name);
	for (i = 1; i < count; i++)
		if (strcmp(pkgs[i - 1].name, pkgs[i].name) == 0) {
			sp_err_set(e, "package '%s' is listed twice",
				   pkgs[i].name);
			goto out;
		}
	if (shard_assign(pkgs, count, n, e) < 0)
		goto out;
	out = json_object();
	shards = json_array();
	if (!out || !shards) {
		json_decref(shards);
		goto oom;
	}
	if (json_object_set_new(out, "shards", shards) < 0 ||
	    json_object_set_new(out, "default_weight", json_real(dflt)) < 0)
		goto oom;
	for (s = 1; s <= n; s++) {
		json_t *list = json_array(), *one = json_object();
		double total = 0;

		if (!list || !one) {
			json_decref(list);
			json_decref(one);
			goto oom;
		}
		if (json_array_append_new(shards, one) < 0 ||
		    json_object_set_new(one, "packages", list) < 0)
			goto oom;
		for (i = 0; i < count; i++) {
			if (pkgs[i].shard != s)
				continue;
			total += pkgs[i].weight;
			if (json_array_append_new(
				list, json_string(pkgs[i].name)) < 0)
				goto oom;
		}
		if (json_object_set_new(one, "weight", json_real(total)) < 0)
			goto oom;
	}
	free(pkgs);
	return out;
oom:
	str_oom(e, "divide the packages into shards");
out:
	json_decref(out);
	free(pkgs);
	return NULL;
}
