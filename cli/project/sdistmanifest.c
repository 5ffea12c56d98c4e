/*
 * sdistmanifest.c - the carried manifests and the sdist's workspace root.
 */
#define _GNU_SOURCE
#include "cli/project/sdistmanifest.h"
#include "cli/project/manifest.h"
#include "cli/project/relpath.h"
#include "cli/project/strutil.h"
#include "cli/project/tomlemit.h"
#include "common/path.h"

#include <stdlib.h>
#include <string.h>

/* The first line of every manifest spoke writes: no path of the machine
 * that made the sdist, so it stays the same everywhere. */
static const char rewritten_header[] =
    "# Rewritten by spoke sdist: workspace inheritance resolved and paths\n"
    "# made relative, so this crate builds without its original workspace.\n";
static const char root_header[] =
    "# Written by spoke sdist: the workspace of the crates this source\n"
    "# distribution carries.\n";

static const json_t *doc_of(const json_t *docs, const char *dir)
{
	char *p = path_join(dir, "Cargo.toml");
	const json_t *d = p ? json_object_get(docs, p) : NULL;

	free(p);
	return d;
}

/* A [patch] or [replace] entry with a path names a crate the sdist does
 * not know it must carry: refused rather than left to fail when built. */
static int check_no_path(const json_t *t, const char *what, const char *ws_dir,
			 struct sp_err *e)
{
	const char *k, *k2;
	json_t *x, *y;

	json_object_foreach((json_t *)t, k, x)
	{
		if (json_object_get(x, "path"))
			return sp_err_set(e,
					  "'%s/Cargo.toml': [%s] '%s' has a "
					  "path; spoke sdist cannot carry it",
					  ws_dir, what, k);
		if (!json_is_object(x))
			continue;
		json_object_foreach(x, k2, y) if (
		    json_object_get(
			y, "path")) return sp_err_set(e,
						      "'%s/Cargo.toml': "
						      "[%s.%s] '%s' has a "
						      "path; spoke sdist "
						      "cannot carry it",
						      ws_dir, what, k, k2);
	}
	return 0;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

/* Adds to doc the [workspace] of the sdist and the original root's
 * profile (and patch / replace, which check_no_path allowed). */
static int add_workspace(json_t *doc, const struct carried *set,
			 const json_t *ws_doc, const char *ws_dir,
			 const char *root, struct sp_err *e)
{
	static const char *const keep[] = {"profile", "patch", "replace", NULL};
	json_t *ws = json_object(), *members = json_array();
	json_t **v = calloc(set->n + 1, sizeof(*v));
	size_t i, n = 0;
	int ret = -1;

	if (!ws || !members || !v)
		goto oom;
	for (i = 0; i < set->n; i++) {
		const char *rel = relpath_inside(set->v[i].dir, root);

		if (rel && *rel) {
			v[n] = json_string(rel);
			if (!v[n++])
				goto oom;
		}
	}
	qsort(v, n, sizeof(*v), by_string);
	for (i = 0; i < n; i++) {
		if (json_array_append(members, v[i]) < 0)
			goto oom;
	}
	if (json_object_set_new(ws, "resolver",
				json_string(manifest_resolver(ws_doc))) < 0 ||
	    json_object_set(ws, "members", members) < 0 ||
	    json_object_set(doc, "workspace", ws) < 0)
		goto oom;
	for (i = 0; keep[i]; i++) {
		const json_t *t = json_object_get(ws_doc, keep[i]);

		if (!t)
			continue;
		if (i > 0 && check_no_path(t, keep[i], ws_dir, e) < 0)
			goto out;
		if (json_object_set_new(doc, keep[i], json_deep_copy(t)) < 0)
			goto oom;
	}
	ret = 0;
	goto out;
oom:
	str_oom(e, "write the sdist's Cargo.toml");
out:
	for (i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
	json_decref(ws);
	json_decref(members);
	return ret;
}

static int add_entry(json_t *out, const char *name, const char *src,
		     const json_t *doc, const char *header, struct sp_err *e)
{
	json_t *o;
	char *text = NULL;

	if (doc && !(text = tomlemit(doc, header, e)))
		return -1;
	o = text ? json_pack("{s:s, s:s}", "name", name, "text", text)
		 : json_pack("{s:s, s:s}", "name", name, "src", src);
	free(text);
	if (!o || json_array_append_new(out, o) < 0)
		return str_oom(e, "write the sdist's manifests");
	return 0;
}

json_t *sdist_manifests(const struct carried *set, const json_t *docs,
			const char *ws_dir, const char *root, struct sp_err *e)
{
	const json_t *ws_doc = doc_of(docs, ws_dir);
	json_t *out = json_array(), *doc = NULL;
	int have_root = 0;
	size_t i;

	if (!out) {
		str_oom(e, "write the sdist's manifests");
		return NULL;
	}
	for (i = 0; i < set->n; i++) {
		const struct carried_crate *c = &set->v[i];
		const char *rel = relpath_inside(c->dir, root);
		struct manifest_ctx ctx = {
		    .path = c->manifest,
		    .crate_dir = c->dir,
		    .ws_dir = c->ws_dir,
		    .ws_doc = doc_of(docs, c->ws_dir),
		};
		char *name;
		int r, at_root = rel && !*rel;

		doc = json_deep_copy(json_object_get(docs, c->manifest));
		if (!doc || !rel) {
			if (doc)
				sp_err_set(e, "'%s' is outside '%s'", c->dir,
					   root);
			else
				sp_err_set(e, "'%s' was not read", c->manifest);
			goto fail;
		}
		if (at_root) {
			/* The root's own [profile] and the like come back
			 * from the workspace root below; they are no change. */
			json_object_del(doc, "profile");
			json_object_del(doc, "patch");
			json_object_del(doc, "replace");
		}
		r = manifest_standalone(doc, &ctx, e);
		if (r < 0)
			goto fail;
		name =
		    *rel ? path_join(rel, "Cargo.toml") : strdup("Cargo.toml");
		if (!name) {
			str_oom(e, "write the sdist's manifests");
			goto fail;
		}
		if (at_root) {
			have_root = 1;
			if (r == 0 && set->n == 1)
				r = add_entry(out, name, c->manifest, NULL,
					      NULL, e);
			else
				r = add_workspace(doc, set, ws_doc, ws_dir,
						  root, e) < 0
					? -1
					: add_entry(out, name, NULL, doc,
						    rewritten_header, e);
		} else {
			r = add_entry(out, name, c->manifest, r ? doc : NULL,
				      rewritten_header, e);
		}
		free(name);
		json_decref(doc);
		doc = NULL;
		if (r < 0)
			goto fail;
	}
	if (!have_root) {
		doc = json_object();
		if (!doc) {
			str_oom(e, "write the sdist's manifests");
			goto fail;
		}
		if (add_workspace(doc, set, ws_doc, ws_dir, root, e) < 0 ||
		    add_entry(out, "Cargo.toml", NULL, doc, root_header, e) < 0)
			goto fail;
		json_decref(doc);
	}
	return out;
fail:
	json_decref(doc);
	json_decref(out);
	return NULL;
}
