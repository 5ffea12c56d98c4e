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
	free(pc->roots);
	pc->sharded = calloc(pc->n + 1, sizeof(*pc->sharded));
	pc->roots = calloc(pc->n + 1, sizeof(*pc->roots));
	if (!pc->sharded || !pc->roots)
		return str_oom(e, "divide the packages into shards");
	memcpy(pc->roots, pc->selected, pc->n * sizeof(*pc->roots));
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

/* Whether some package i with in[i] set is named pkg or depends on it
 * directly (under its name in the manifest, rename or not): cargo takes
 * "pkg/feature" on the command line only then. */
static int reaches(const struct projconf *pc, const json_t *meta, const int *in,
		   const char *pkg)
{
	const json_t *p, *d;
	size_t i, j;

	json_array_foreach(json_object_get(meta, "packages"), i, p)
	{
		const char *name = str_member(p, "name");

		if (i >= pc->n || !in[i] || !name)
			continue;
		if (strcmp(name, pkg) == 0)
			return 1;
		json_array_foreach(json_object_get(p, "dependencies"), j, d)
		{
			const char *as = str_member(d, "rename");

			if (!as)
				as = str_member(d, "name");
			if (as && strcmp(as, pkg) == 0)
				return 1;
		}
	}
	return 0;
}

/* Appends "<name>/f" for each package i with in[i] set that has feature
 * f; returns how many. */
static int own_feature(char **out, const struct projconf *pc,
		       const json_t *meta, const int *in, const char *f,
		       int write, struct sp_err *e)
{
	const json_t *p;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(meta, "packages"), i, p)
	{
		const char *name = str_member(p, "name");
		char *one;

		if (i >= pc->n || !in[i] || !name ||
		    !json_object_get(json_object_get(p, "features"), f))
			continue;
		n++;
		if (!write)
			continue;
		one = str_printf("%s/%s", name, f);
		if (!one || str_append(out, ",", one) < 0) {
			free(one);
			return str_oom(e, "plan the build");
		}
		free(one);
	}
	return n;
}

int shardsel_features(struct projconf *pc, const json_t *meta, struct sp_err *e)
{
	char *copy, *tok, *save = NULL, *out = NULL;
	const int *all = pc->roots;

	if (!pc->features || !all)
		return 0;
	copy = strdup(pc->features);
	if (!copy)
		return str_oom(e, "plan the build");
	/* cargo splits --features at commas and spaces. */
	for (tok = strtok_r(copy, ", \t\n", &save); tok;
	     tok = strtok_r(NULL, ", \t\n", &save)) {
		const char *slash = strchr(tok, '/');
		int keep;

		if (!slash) {
			/* Unsharded, a plain feature goes to each selected
			 * package that has it: here, to this shard's. */
			int n = own_feature(&out, pc, meta, pc->selected, tok,
					    1, e);

			if (n < 0)
				goto fail;
			/* None of the unsharded roots has it: cargo's own
			 * error, as unsharded. */
			keep = n == 0 &&
			       own_feature(NULL, pc, meta, all, tok, 0, e) == 0;
		} else {
			size_t len = (size_t)(slash - tok);
			char *pkg = strndup(tok, len);

			if (!pkg) {
				str_oom(e, "plan the build");
				goto fail;
			}
			if (len && pkg[len - 1] == '?')
				pkg[len - 1] = 0;
			/* Kept where this shard's packages are, or depend on,
			 * pkg; also where no root reaches it, for cargo's
			 * own error. */
			keep = reaches(pc, meta, pc->selected, pkg) ||
			       !reaches(pc, meta, all, pkg);
			free(pkg);
		}
		if (keep && str_append(&out, ",", tok) < 0) {
			str_oom(e, "plan the build");
			goto fail;
		}
	}
	free(copy);
	free(pc->features);
	pc->features = out;
	return 0;
fail:
	free(copy);
	free(out);
	return -1;
}
