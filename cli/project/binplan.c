/*
 * binplan.c - packages shipped as programs (binplan.h).
 */
#include "cli/project/binplan.h"

#include <stdlib.h>
#include <string.h>

#include "cli/project/strutil.h"
#include "common/path.h"

/* The target kinds whose crate types say what a package is: maturin
 * leaves benches, build scripts, examples, proc macros and tests out. */
static int counts(const json_t *target)
{
	static const char *const skip[] = {"bench", "custom-build", "example",
					   "proc-macro", "test"};
	const json_t *kinds = json_object_get(target, "kind");
	size_t i;

	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (str_array_has(kinds, skip[i]))
			return 0;
	return 1;
}

/* 1 when one of pkg's targets that count has crate type type. */
static int has_crate_type(const json_t *pkg, const char *type)
{
	const json_t *t;
	size_t i;

	json_array_foreach(json_object_get(pkg, "targets"), i, t)
	{
		if (counts(t) &&
		    (str_array_has(json_object_get(t, "crate_types"), type) ||
		     str_array_has(json_object_get(t, "kind"), type)))
			return 1;
	}
	return 0;
}

int binplan_wants_programs(const json_t *pkg, const struct pyproject *pp,
			   struct sp_err *e)
{
	int bin = has_crate_type(pkg, "bin");

	if (!pp || !pp->maturin)
		return 0;
	if (pp->m.bindings == PP_BINDINGS_BIN) {
		if (!bin)
			return sp_err_set(
			    e,
			    "'%s' sets [tool.maturin] bindings = \"bin\", but "
			    "package '%s' has no bin target (add src/main.rs "
			    "or a [[bin]] table)",
			    pp->path, str_member(pkg, "name"));
		return 1;
	}
	return pp->m.bindings == PP_BINDINGS_AUTO && bin &&
	       !has_crate_type(pkg, "cdylib");
}

json_t *binplan_programs(const json_t *pkg, const json_t *state,
			 struct sp_err *e)
{
	const char *id = str_member(pkg, "id");
	const json_t *b;
	json_t *out = json_array();
	char *names = NULL;
	size_t i;

	if (!out) {
		str_oom(e, "plan the build");
		return NULL;
	}
	json_array_foreach(json_object_get(state, "bins"), i, b)
	{
		if (!id || !str_member(b, "package_id") ||
		    strcmp(str_member(b, "package_id"), id) != 0)
			continue;
		if (json_array_append(out, (json_t *)b) < 0 ||
		    str_append(&names, ", ", str_member(b, "name")) < 0) {
			str_oom(e, "plan the build");
			goto fail;
		}
	}
	if (json_array_size(out) == 0) {
		sp_err_set(e,
			   "package '%s' ships programs, but cargo linked none "
			   "of its bin targets (were they left out by --bin, "
			   "or by required-features?)",
			   str_member(pkg, "name"));
		goto fail;
	}
	/* One job stages one cargo output and writes one wheel, so two
	 * programs would make two wheels of the same name. */
	if (json_array_size(out) > 1) {
		sp_err_set(e,
			   "package '%s' has %zu programs (%s): spoke puts one "
			   "program in a wheel; keep one bin target in the "
			   "package, or move the others to a package of their "
			   "own",
			   str_member(pkg, "name"), json_array_size(out),
			   names);
		goto fail;
	}
	free(names);
	return out;
fail:
	free(names);
	json_decref(out);
	return NULL;
}

char *binplan_module(const json_t *pkg, const struct pyproject *pp)
{
	const char *name = str_member(pkg, "name");
	char *m, *p;

	if (pp && pp->m.module_name)
		return strdup(pp->m.module_name);
	m = strdup(name ? name : "");
	for (p = m; p && *p; p++)
		if (*p == '-')
			*p = '_';
	return m;
}

/* 1 when pkg depends on pyo3 or pyo3-ffi to build or run (not only for
 * its tests or build script): cargo metadata --no-deps lists the direct
 * dependencies alone, which is where a program that embeds Python names
 * them. */
static int uses_pyo3(const json_t *pkg)
{
	const json_t *d;
	size_t i;

	json_array_foreach(json_object_get(pkg, "dependencies"), i, d)
	{
		const char *name = str_member(d, "name");

		if (json_is_string(json_object_get(d, "kind")))
			continue;
		if (name && (strcmp(name, "pyo3") == 0 ||
			     strcmp(name, "pyo3-ffi") == 0))
			return 1;
	}
	return 0;
}

int binplan_job(json_t *job, const json_t *pkg, const json_t *prog,
		struct sp_err *e)
{
	const char *path = str_member(prog, "path");

	if (!path)
		return sp_err_set(e, "package '%s': a program without a path",
				  str_member(pkg, "name"));
	if (json_object_set_new(job, "program",
				json_string(path_basename(path))) < 0)
		return str_oom(e, "plan the build");
	if (uses_pyo3(pkg))
		return 0;
	if (json_object_set_new(job, "python_tag", json_string("py3")) < 0 ||
	    json_object_set_new(job, "abi_tag", json_string("none")) < 0)
		return str_oom(e, "plan the build");
	return 0;
}
