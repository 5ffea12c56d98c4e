/*
 * shardsel.c - the packages a sharded build divides, and one shard's
 * selection (see shardsel.h).
 */
#define _GNU_SOURCE
#include "cli/project/shardsel.h"

#include <stdlib.h>
#include <string.h>

#include "cli/project/binplan.h"
#include "cli/project/shard.h"
#include "cli/project/strutil.h"

/* Whether target t of cargo metadata is of kind k ("cdylib", "bin"). */
static int target_is(const json_t *t, const char *k)
{
	return str_array_has(json_object_get(t, "kind"), k);
}

/* Records the file each of pkg's targets of kind k becomes, as cargo
 * names it on Linux: lib<name, '-' as '_'>.so for a cdylib, the name for
 * a program. */
static int add_files(json_t *files, const json_t *pkg, const char *k)
{
	const json_t *t;
	size_t i;

	json_array_foreach(json_object_get(pkg, "targets"), i, t)
	{
		const char *name = str_member(t, "name");
		char *file, *p;
		int r;

		if (!name || !target_is(t, k))
			continue;
		file = strcmp(k, "bin") ? str_printf("lib%s.so", name)
					: strdup(name);
		if (!file)
			return -1;
		if (strcmp(k, "bin"))
			for (p = file; *p; p++)
				if (*p == '-')
					*p = '_';
		r = json_object_set_new(files, file,
					json_string(str_member(pkg, "name")));
		free(file);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

json_t *shardsel_packages(const struct projconf *pc, const json_t *meta,
			  struct sp_err *e)
{
	const json_t *packages = json_object_get(meta, "packages"), *pkg, *t;
	json_t *out = json_object(), *names = json_array();
	json_t *files = json_object();
	json_t **v = NULL;
	size_t i, j, n;

	if (!out || !names || !files ||
	    json_object_set(out, "packages", names) < 0 ||
	    json_object_set(out, "files", files) < 0)
		goto oom;
	json_array_foreach(packages, i, pkg)
	{
		const char *name = str_member(pkg, "name");
		int programs, cdylib = 0;

		if (i >= pc->n || !pc->selected[i] || !name)
			continue;
		programs = binplan_wants_programs(pkg, projconf_of(pc, i), e);
		if (programs < 0)
			goto fail;
		json_array_foreach(json_object_get(pkg, "targets"), j, t)
		    cdylib |= target_is(t, "cdylib");
		if (!programs && !cdylib)
			continue;
		if (str_array_add_unique(names, name) < 0 ||
		    add_files(files, pkg, programs ? "bin" : "cdylib") < 0)
			goto oom;
	}
	/* Sorted by name, whatever order cargo lists members in. */
	n = json_array_size(names);
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		goto oom;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(names, i));
	qsort(v, n, sizeof(*v), by_string);
	json_array_clear(names);
	for (i = 0; i < n; i++)
		if (json_array_append_new(names, v[i]) < 0) {
			for (j = i + 1; j < n; j++)
				json_decref(v[j]);
			goto oom;
		}
	free(v);
	json_decref(names);
	json_decref(files);
	return out;
oom:
	str_oom(e, "divide the packages into shards");
fail:
	free(v);
	json_decref(names);
	json_decref(files);
	json_decref(out);
	return NULL;
}

int shardsel_narrow(struct projconf *pc, const json_t *meta, const json_t *all,
		    const json_t *names, struct sp_err *e)
{
	const json_t *pkg;
	size_t i;

	free(pc->sharded);
	pc->sharded = calloc(pc->n + 1, sizeof(*pc->sharded));
	if (!pc->sharded)
		return str_oom(e, "divide the packages into shards");
	json_array_foreach(json_object_get(meta, "packages"), i, pkg)
	{
		const char *name = str_member(pkg, "name");

		if (i >= pc->n)
			break;
		pc->sharded[i] =
		    name &&
		    str_array_has(json_object_get(all, "packages"), name);
		pc->selected[i] = pc->sharded[i] && str_array_has(names, name);
	}
	return 0;
}

int shardsel_apply(struct projconf *pc, const json_t *meta, unsigned k,
		   unsigned n, const json_t *weights, json_t **division,
		   const char ***names, size_t *count, struct sp_err *e)
{
	json_t *all, *part = NULL, *mine;
	size_t i;

	*division = NULL;
	*names = NULL;
	*count = 0;
	all = shardsel_packages(pc, meta, e);
	if (!all)
		return -1;
	/* As the unsharded build fails with no cdylib: N jobs that all
	 * succeed with nothing would hide a wrong manifest or -p. */
	if (json_array_size(json_object_get(all, "packages")) == 0) {
		sp_err_set(e, "no selected package has a cdylib target (or, "
			      "shipped as programs, a bin target): nothing "
			      "to divide into shards");
		goto fail;
	}
	part = shard_partition(json_object_get(all, "packages"), n, weights, e);
	if (!part)
		goto fail;
	if (json_object_update(all, part) < 0 ||
	    json_object_set_new(all, "n", json_integer(n)) < 0 ||
	    json_object_set_new(all, "k", json_integer(k)) < 0) {
		str_oom(e, "divide the packages into shards");
		goto fail;
	}
	json_decref(part);
	part = NULL;
	if (k >= 1) {
		mine = json_object_get(
		    json_array_get(json_object_get(all, "shards"), k - 1),
		    "packages");
		*names = calloc(json_array_size(mine) + 1, sizeof(**names));
		if (!*names) {
			str_oom(e, "divide the packages into shards");
			goto fail;
		}
		for (i = 0; i < json_array_size(mine); i++)
			(*names)[i] =
			    json_string_value(json_array_get(mine, i));
		*count = json_array_size(mine);
		if (shardsel_narrow(pc, meta, all, mine, e) < 0)
			goto fail;
	}
	*division = all;
	return 0;
fail:
	free(*names);
	*names = NULL;
	*count = 0;
	json_decref(part);
	json_decref(all);
	return -1;
}
