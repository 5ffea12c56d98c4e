/*
 * manifest.c - a carried Cargo.toml made to stand on its own.
 */
#define _GNU_SOURCE
#include "cli/project/manifest.h"
#include "cli/project/relpath.h"
#include "cli/project/strutil.h"
#include "common/path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The dependency tables of a manifest, at the top and under [target.X]
 * (cargo takes the old underscored spellings too). */
static const char *const dep_tables[] = {
    "dependencies",	  "dev-dependencies",	"dev_dependencies",
    "build-dependencies", "build_dependencies", NULL,
};

/* What only a workspace's root manifest means anything in. */
static const char *const root_tables[] = {
    "workspace", "profile", "patch", "replace", NULL,
};

/* Whether v is `{ workspace = true, ... }`. */
static int inherits(const json_t *v)
{
	return json_is_object(v) &&
	       json_is_true(json_object_get(v, "workspace"));
}

static const json_t *ws_table(const struct manifest_ctx *c, const char *name)
{
	return json_object_get(json_object_get(c->ws_doc, "workspace"), name);
}

/* The path p (relative to the folder base, or absolute) as seen from the
 * crate's folder.  *out is malloc'd.  -1 with e filled when it does not
 * exist. */
static int rebase(const struct manifest_ctx *c, const char *base, const char *p,
		  const char *what, char **out, struct sp_err *e)
{
	char *abs = p[0] == '/' ? strdup(p) : path_join(base, p);
	char *real;

	if (!abs)
		return str_oom(e, "rewrite Cargo.toml");
	real = realpath(abs, NULL);
	if (!real) {
		sp_err_sys(e, "'%s': cannot find %s '%s'", c->path, what, abs);
		free(abs);
		return -1;
	}
	free(abs);
	*out = relpath(c->crate_dir, real);
	free(real);
	return *out ? 0 : str_oom(e, "rewrite Cargo.toml");
}

/* Sets the string member key of o to s (taking s), noting a change. */
static int set_taken(json_t *o, const char *key, char *s, int *changed,
		     struct sp_err *e)
{
	const char *old = json_string_value(json_object_get(o, key));

	if (old && strcmp(old, s) == 0) {
		free(s);
		return 0;
	}
	if (json_object_set_new(o, key, json_string(s)) < 0) {
		free(s);
		return str_oom(e, "rewrite Cargo.toml");
	}
	free(s);
	*changed = 1;
	return 0;
}

/* [package] keys inherited from [workspace.package]. */
static int resolve_package(json_t *doc, const struct manifest_ctx *c,
			   int *changed, struct sp_err *e)
{
	json_t *pkg = json_object_get(doc, "package"), *v;
	const json_t *wp = ws_table(c, "package");
	const char *k;
	void *tmp;

	if (!json_is_object(pkg))
		return 0;
	if (json_object_get(pkg, "workspace")) {
		json_object_del(pkg, "workspace");
		*changed = 1;
	}
	json_object_foreach_safe(pkg, tmp, k, v)
	{
		const json_t *val;
		char *s;

		if (!inherits(v))
			continue;
		val = json_object_get(wp, k);
		if (!val)
			return sp_err_set(e,
					  "'%s' inherits package.%s, but the "
					  "workspace '%s/Cargo.toml' has no "
					  "[workspace.package] %s",
					  c->path, k, c->ws_dir, k);
		*changed = 1;
		/* Paths in [workspace.package] are from the workspace root. */
		if ((strcmp(k, "readme") == 0 ||
		     strcmp(k, "license-file") == 0) &&
		    json_is_string(val)) {
			if (rebase(c, c->ws_dir, json_string_value(val), k, &s,
				   e) < 0 ||
			    set_taken(pkg, k, s, changed, e) < 0)
				return -1;
			continue;
		}
		if (json_object_set_new(pkg, k, json_deep_copy(val)) < 0)
			return str_oom(e, "rewrite Cargo.toml");
	}
	return 0;
}

/* Appends to the array dst (created when missing) the strings of src it
 * lacks. */
static int merge_features(json_t *dep, const json_t *src, struct sp_err *e)
{
	json_t *dst = json_object_get(dep, "features");
	const json_t *x;
	size_t i;

	if (!json_is_array(src) || json_array_size(src) == 0)
		return 0;
	if (!json_is_array(dst)) {
		dst = json_array();
		if (!dst || json_object_set_new(dep, "features", dst) < 0)
			return str_oom(e, "rewrite Cargo.toml");
	}
	json_array_foreach(
	    src, i, x) if (json_is_string(x) &&
			   str_array_add_unique(dst, json_string_value(x)) <
			       0) return str_oom(e, "rewrite Cargo.toml");
	return 0;
}

/* One `name = { workspace = true, ... }` made into what it inherits. */
static json_t *resolve_dep(const char *name, const json_t *mine,
			   const struct manifest_ctx *c, struct sp_err *e)
{
	const json_t *base = json_object_get(ws_table(c, "dependencies"), name);
	const char *k;
	json_t *dep, *x;
	char *s;

	if (!base) {
		sp_err_set(e,
			   "'%s' inherits dependency '%s', but the workspace "
			   "'%s/Cargo.toml' has no [workspace.dependencies] %s",
			   c->path, name, c->ws_dir, name);
		return NULL;
	}
	dep = json_is_string(base) ? json_pack("{s:O}", "version", base)
				   : json_deep_copy(base);
	if (!json_is_object(dep)) {
		json_decref(dep);
		sp_err_set(e,
			   "'%s/Cargo.toml': [workspace.dependencies] %s is "
			   "neither a version nor a table",
			   c->ws_dir, name);
		return NULL;
	}
	if (json_string_value(json_object_get(dep, "path"))) {
		int changed = 0;

		if (rebase(c, c->ws_dir,
			   json_string_value(json_object_get(dep, "path")),
			   "path dependency", &s, e) < 0 ||
		    set_taken(dep, "path", s, &changed, e) < 0)
			goto fail;
	}
	/* cargo adds the member's features to the workspace's and takes its
	 * `optional`; default-features stays the workspace's (cargo ignores
	 * a member turning it off). */
	json_object_foreach((json_t *)mine, k, x)
	{
		if (strcmp(k, "workspace") == 0 ||
		    strcmp(k, "default-features") == 0 ||
		    strcmp(k, "default_features") == 0)
			continue;
		if (strcmp(k, "features") == 0) {
			if (merge_features(dep, x, e) < 0)
				goto fail;
			continue;
		}
		if (json_object_set(dep, k, x) < 0) {
			str_oom(e, "rewrite Cargo.toml");
			goto fail;
		}
	}
	return dep;
fail:
	json_decref(dep);
	return NULL;
}

static int resolve_deps(json_t *deps, const struct manifest_ctx *c,
			int *changed, struct sp_err *e)
{
	const char *k;
	json_t *v;
	void *tmp;

	if (!json_is_object(deps))
		return 0;
	json_object_foreach_safe(deps, tmp, k, v)
	{
		const char *p;
		char *s;

		if (inherits(v)) {
			json_t *dep = resolve_dep(k, v, c, e);

			if (!dep || json_object_set_new(deps, k, dep) < 0)
				return dep ? str_oom(e, "rewrite Cargo.toml")
					   : -1;
			*changed = 1;
			continue;
		}
		p = json_is_object(v)
			? json_string_value(json_object_get(v, "path"))
			: NULL;
		if (p &&
		    (rebase(c, c->crate_dir, p, "path dependency", &s, e) < 0 ||
		     set_taken(v, "path", s, changed, e) < 0))
			return -1;
	}
	return 0;
}

static int resolve_all_deps(json_t *doc, const struct manifest_ctx *c,
			    int *changed, struct sp_err *e)
{
	json_t *targets = json_object_get(doc, "target"), *t;
	const char *k;
	size_t i;

	for (i = 0; dep_tables[i]; i++)
		if (resolve_deps(json_object_get(doc, dep_tables[i]), c,
				 changed, e) < 0)
			return -1;
	if (!json_is_object(targets))
		return 0;
	json_object_foreach(
	    targets, k,
	    t) for (i = 0; dep_tables[i];
		    i++) if (resolve_deps(json_object_get(t, dep_tables[i]), c,
					  changed, e) < 0) return -1;
	return 0;
}

static int resolve_lints(json_t *doc, const struct manifest_ctx *c,
			 int *changed, struct sp_err *e)
{
	const json_t *lints = json_object_get(doc, "lints"), *mine;

	if (!inherits(lints))
		return 0;
	mine = ws_table(c, "lints");
	if (!mine)
		return sp_err_set(e,
				  "'%s' inherits [lints], but the workspace "
				  "'%s/Cargo.toml' has no [workspace.lints]",
				  c->path, c->ws_dir);
	*changed = 1;
	if (json_object_set_new(doc, "lints", json_deep_copy(mine)) < 0)
		return str_oom(e, "rewrite Cargo.toml");
	return 0;
}

int manifest_standalone(json_t *doc, const struct manifest_ctx *c,
			struct sp_err *e)
{
	int changed = 0;
	size_t i;

	if (resolve_package(doc, c, &changed, e) < 0 ||
	    resolve_all_deps(doc, c, &changed, e) < 0 ||
	    resolve_lints(doc, c, &changed, e) < 0)
		return -1;
	for (i = 0; root_tables[i]; i++)
		if (json_object_get(doc, root_tables[i])) {
			json_object_del(doc, root_tables[i]);
			changed = 1;
		}
	return changed;
}

const char *manifest_resolver(const json_t *ws_doc)
{
	const json_t *ws = json_object_get(ws_doc, "workspace");
	const json_t *ed =
	    json_object_get(json_object_get(ws_doc, "package"), "edition");
	const char *r = json_string_value(json_object_get(ws, "resolver"));

	if (r)
		return r;
	if (inherits(ed))
		ed = json_object_get(json_object_get(ws, "package"), "edition");
	r = json_string_value(ed);
	if (!r)
		return "1";
	if (strcmp(r, "2024") >= 0)
		return "3";
	return strcmp(r, "2021") >= 0 ? "2" : "1";
}
