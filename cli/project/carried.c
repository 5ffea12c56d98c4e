/*
 * carried.c - the package and its path dependencies, transitively.
 */
#define _GNU_SOURCE
#include "cli/project/carried.h"
#include "cli/project/cargo.h"
#include "cli/project/relpath.h"
#include "cli/project/strutil.h"
#include "common/path.h"

#include <stdlib.h>
#include <string.h>

const json_t *carried_package_at(const json_t *meta, const char *dir)
{
	const json_t *p;
	size_t i;

	json_array_foreach(json_object_get(meta, "packages"), i, p)
	{
		char *d = path_dirname(str_member(p, "manifest_path"));
		char *real = d ? realpath(d, NULL) : NULL;
		int same = real && strcmp(real, dir) == 0;

		free(d);
		free(real);
		if (same)
			return p;
	}
	return NULL;
}

const struct carried_crate *carried_find(const struct carried *set,
					 const char *dir)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->v[i].dir, dir) == 0)
			return &set->v[i];
	return NULL;
}

static int push(struct carried *set, const char *dir, const char *ws_dir,
		const json_t *pkg, struct sp_err *e)
{
	struct carried_crate *c;

	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;
		struct carried_crate *nv = realloc(set->v, cap * sizeof(*nv));

		if (!nv)
			return str_oom(e, "make the sdist");
		set->v = nv;
		set->cap = cap;
	}
	c = &set->v[set->n];
	c->dir = strdup(dir);
	c->manifest = path_join(dir, "Cargo.toml");
	c->ws_dir = strdup(ws_dir);
	c->pkg = pkg;
	set->n++;
	if (!c->dir || !c->manifest || !c->ws_dir)
		return str_oom(e, "make the sdist");
	return 0;
}

/* The package at dir, with its workspace root: from a metadata already
 * asked for when one of them describes it, else from cargo. */
static int locate(struct carried *set, const char *dir, const json_t **pkg,
		  const char **ws_dir, struct sp_err *e)
{
	char *manifest, *root;
	json_t *meta;
	size_t i;

	for (i = 0; i < json_array_size(set->metas); i++) {
		meta = json_array_get(set->metas, i);
		*pkg = carried_package_at(meta, dir);
		if (*pkg) {
			*ws_dir = str_member(meta, "spoke_ws_real");
			return 0;
		}
	}
	manifest = path_join(dir, "Cargo.toml");
	if (!manifest)
		return str_oom(e, "make the sdist");
	meta = cargo_metadata(manifest, e);
	free(manifest);
	if (!meta)
		return -1;
	root = realpath(str_member(meta, "workspace_root"), NULL);
	if (!root ||
	    json_object_set_new(meta, "spoke_ws_real", json_string(root)) < 0 ||
	    json_array_append_new(set->metas, meta) < 0) {
		free(root);
		return sp_err_sys(
		    e, "cannot resolve the workspace root of '%s'", dir);
	}
	free(root);
	*pkg = carried_package_at(meta, dir);
	*ws_dir = str_member(meta, "spoke_ws_real");
	if (!*pkg)
		return sp_err_set(e,
				  "cargo metadata of '%s' does not list the "
				  "package in that folder",
				  dir);
	return 0;
}

int carried_collect(struct carried *set, json_t *meta, const char *pkgdir,
		    const char *ws_dir, struct sp_err *e)
{
	const json_t *pkg;
	size_t next;

	set->metas = json_array();
	if (!set->metas ||
	    json_object_set_new(meta, "spoke_ws_real", json_string(ws_dir)) <
		0 ||
	    json_array_append(set->metas, meta) < 0)
		return str_oom(e, "make the sdist");
	pkg = carried_package_at(meta, pkgdir);
	if (!pkg)
		return sp_err_set(e, "no package in '%s'", pkgdir);
	if (push(set, pkgdir, ws_dir, pkg, e) < 0)
		return -1;
	/* Breadth first; set->v may move as it grows, so index it. */
	for (next = 0; next < set->n; next++) {
		const json_t *dep;
		size_t i;

		json_array_foreach(
		    json_object_get(set->v[next].pkg, "dependencies"), i, dep)
		{
			const char *p = str_member(dep, "path"), *wd = NULL;
			const json_t *dpkg = NULL;
			char *real;
			int r;

			if (!p)
				continue;
			real = realpath(p, NULL);
			if (!real)
				return sp_err_sys(e,
						  "cannot find path dependency "
						  "'%s' of '%s'",
						  p, set->v[next].manifest);
			r = carried_find(set, real) ? 0
			    : locate(set, real, &dpkg, &wd, e) < 0
				? -1
				: push(set, real, wd, dpkg, e);
			free(real);
			if (r < 0)
				return -1;
		}
	}
	return 0;
}

void carried_release(struct carried *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		free(set->v[i].dir);
		free(set->v[i].manifest);
		free(set->v[i].ws_dir);
	}
	free(set->v);
	json_decref(set->metas);
	memset(set, 0, sizeof(*set));
}
