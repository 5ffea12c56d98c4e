/*
 * projconf.c - which pyproject.toml configures each package, which
 * packages cargo builds as roots, and what they add to its command.
 */
#define _GNU_SOURCE
#include "cli/project/projconf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/project/strutil.h"
#include "common/path.h"

int projconf_candidates(const json_t *meta, json_t *paths, struct sp_err *e)
{
	const char *root = str_member(meta, "workspace_root");
	const json_t *pkg;
	size_t i, j;

	json_array_foreach(json_object_get(meta, "packages"), i, pkg)
	{
		char *dir, **c;

		if (!root || !str_member(pkg, "manifest_path"))
			return sp_err_set(e, "cargo metadata reports no "
					     "workspace_root or manifest_path");
		dir = path_dirname(str_member(pkg, "manifest_path"));
		if (!dir)
			return str_oom(e, "plan the build");
		c = pyproject_candidates(dir, root, e);
		free(dir);
		if (!c)
			return -1;
		for (j = 0; c[j]; j++)
			if (str_array_add_unique(paths, c[j]) < 0) {
				pyproject_paths_free(c);
				return str_oom(e, "plan the build");
			}
		pyproject_paths_free(c);
	}
	return 0;
}

/* Whether -p spec names pkg: "name", "name@version" or a package id. */
static int spec_names(const char *spec, const json_t *pkg)
{
	const char *name = str_member(pkg, "name"), *id = str_member(pkg, "id");
	size_t n = strcspn(spec, "@");

	if (!name)
		return 0;
	if (strlen(name) == n && strncmp(spec, name, n) == 0)
		return 1;
	return id && strcmp(spec, id) == 0;
}

/* Marks the packages cargo builds as roots (see projconf.h). */
static void select_roots(struct projconf *pc, const json_t *meta,
			 const char *manifest, const struct cargo_opts *o)
{
	const json_t *packages = json_object_get(meta, "packages"), *pkg, *x;
	size_t i, j;
	int any = 0;

	json_array_foreach(packages, i, pkg)
	{
		for (j = 0; j < o->npackages; j++)
			if (spec_names(o->packages[j], pkg))
				pc->selected[i] = 1;
	}
	if (o->npackages)
		return;
	json_array_foreach(packages, i, pkg)
	{
		const char *m = str_member(pkg, "manifest_path");

		if (manifest && m && path_same_file(m, manifest)) {
			pc->selected[i] = 1;
			any = 1;
		}
	}
	if (any)
		return;
	/* A virtual manifest: its default members (all members unless
	 * default-members says otherwise; cargo reports them). */
	json_array_foreach(packages, i, pkg)
	{
		json_array_foreach(json_object_get(meta,
						   "workspace_default_members"),
				   j, x)
		{
			if (json_string_value(x) && str_member(pkg, "id") &&
			    strcmp(json_string_value(x),
				   str_member(pkg, "id")) == 0)
				pc->selected[i] = 1;
		}
	}
}

/* Finds package i's pyproject among its candidates (nearest first): the
 * first that configures it.  An unreadable file beside its Cargo.toml is
 * its error; an unreadable one above it is its error only when no other
 * candidate configures it. */
static int find_one(struct projconf *pc, size_t i, const json_t *pkg,
		    const char *root, const json_t *docs, struct sp_err *e)
{
	const char *manifest = str_member(pkg, "manifest_path");
	char *dir = manifest ? path_dirname(manifest) : NULL, **c = NULL;
	char *above_err = NULL;
	struct sp_err pe;
	size_t j;
	int ret = -1;

	if (!dir) {
		if (!manifest)
			return 0;
		return str_oom(e, "plan the build");
	}
	c = pyproject_candidates(dir, root, e);
	if (!c)
		goto out;
	for (j = 0; c[j]; j++) {
		const json_t *entry = json_object_get(docs, c[j]);
		char *cdir = path_dirname(c[j]);
		int own = cdir && strcmp(cdir, dir) == 0;
		const char *why = str_member(entry, "error");
		struct pyproject pp;

		free(cdir);
		sp_err_clear(&pe);
		if (!entry)
			why = "not read (spoke's interpreter query skipped "
			      "it)";
		if (!why && pyproject_parse(json_object_get(entry, "doc"),
					    c[j], &pp, &pe) < 0)
			why = pe.msg;
		if (why) {
			char *msg = why == pe.msg
					? strdup(pe.msg)
					: str_printf("cannot read '%s': %s",
						     c[j], why);

			if (!msg) {
				str_oom(e, "plan the build");
				goto out;
			}
			if (own) {
				pc->error[i] = msg;
				break;
			}
			if (!above_err)
				above_err = msg;
			else
				free(msg);
			continue;
		}
		if (pyproject_configures(&pp, manifest)) {
			pc->pp[i] = pp;
			break;
		}
		pyproject_release(&pp);
	}
	if (!pc->pp[i].path && !pc->error[i] && above_err) {
		pc->error[i] = above_err;
		above_err = NULL;
	}
	ret = 0;
out:
	free(above_err);
	pyproject_paths_free(c);
	free(dir);
	return ret;
}

int projconf_load(struct projconf *pc, const json_t *meta,
		  const char *manifest, const struct cargo_opts *o,
		  const json_t *docs, struct sp_err *e)
{
	const json_t *packages = json_object_get(meta, "packages"), *pkg;
	const char *root = str_member(meta, "workspace_root");
	size_t i;

	memset(pc, 0, sizeof(*pc));
	pc->n = json_array_size(packages);
	pc->pp = calloc(pc->n + 1, sizeof(*pc->pp));
	pc->error = calloc(pc->n + 1, sizeof(*pc->error));
	pc->selected = calloc(pc->n + 1, sizeof(*pc->selected));
	if (!pc->pp || !pc->error || !pc->selected) {
		str_oom(e, "plan the build");
		goto fail;
	}
	if (!root) {
		sp_err_set(e, "cargo metadata reports no workspace_root");
		goto fail;
	}
	select_roots(pc, meta, manifest, o);
	json_array_foreach(packages, i, pkg)
	{
		if (find_one(pc, i, pkg, root, docs, e) < 0)
			goto fail;
		if (pc->selected[i] && pc->error[i]) {
			sp_err_set(e, "package '%s': %s",
				   str_member(pkg, "name"), pc->error[i]);
			goto fail;
		}
	}
	return 0;
fail:
	projconf_release(pc);
	return -1;
}

int projconf_cwd_manifest(const char *interp, struct pyinfo *py,
			  char **manifest, struct sp_err *e)
{
	char *cwd = getcwd(NULL, 0), *path = NULL;
	const char *one[1];
	const json_t *entry;
	struct pyproject pp;
	int nomem = 0, ret = -1;

	*manifest = NULL;
	if (!cwd)
		return sp_err_sys(e, "cannot get the current directory");
	path = path_join(cwd, "pyproject.toml");
	free(cwd);
	if (!path)
		return str_oom(e, "plan the build");
	if (!path_exists(path)) {
		free(path);
		return 0;
	}
	one[0] = path;
	if (pyinfo_query(interp, one, 1, py, e) < 0)
		goto out;
	entry = json_object_get(py->pyprojects, path);
	if (str_member(entry, "error")) {
		sp_err_set(e, "cannot read '%s': %s", path,
			   str_member(entry, "error"));
		goto out;
	}
	if (pyproject_parse(json_object_get(entry, "doc"), path, &pp, e) < 0)
		goto out;
	*manifest = pyproject_manifest(&pp, &nomem);
	pyproject_release(&pp);
	if (nomem) {
		str_oom(e, "plan the build");
		goto out;
	}
	ret = 0;
out:
	free(path);
	return ret;
}

const struct pyproject *projconf_of(const struct projconf *pc, size_t i)
{
	return i < pc->n && pc->pp[i].path ? &pc->pp[i] : NULL;
}

/* A maturin flag of package i: on when set true. */
static int flag(enum pp_bool b)
{
	return b == PP_TRUE;
}

int projconf_cargo_opts(struct projconf *pc, const json_t *meta,
			const struct cargo_opts *o, struct cargo_opts *out,
			struct sp_err *e)
{
	const json_t *packages = json_object_get(meta, "packages");
	const char *profile_from = NULL;
	size_t i, j, nsel = 0;
	const int *sel = pc->roots ? pc->roots : pc->selected;

	*out = *o;
	for (i = 0; i < pc->n; i++)
		nsel += sel[i] != 0;
	free(pc->features);
	pc->features = o->features ? strdup(o->features) : NULL;
	if (o->features && !pc->features)
		return str_oom(e, "plan the build");
	for (i = 0; i < pc->n; i++) {
		const struct pyproject *pp = projconf_of(pc, i);
		const char *name =
		    str_member(json_array_get(packages, i), "name");
		const struct pp_maturin *m;
		const char *want;

		if (!sel[i] || !pp || !pp->has_maturin)
			continue;
		m = &pp->m;
		/* As maturin: the command line's features replace the
		 * pyproject's. */
		for (j = 0; !o->features && j < m->nfeatures; j++) {
			/* In a build of several packages, cargo takes a
			 * member's feature as "member/feature". */
			char *f = nsel > 1 && !strchr(m->features[j], '/')
				      ? str_printf("%s/%s", name,
						   m->features[j])
				      : strdup(m->features[j]);

			if (!f || str_append(&pc->features, ",", f) < 0) {
				free(f);
				return str_oom(e, "plan the build");
			}
			free(f);
		}
		out->all_features |= flag(m->all_features);
		out->no_default_features |= flag(m->no_default_features);
		out->locked |= flag(m->locked);
		out->frozen |= flag(m->frozen);
		out->strip |= flag(m->strip);
		/* An editable build takes editable-profile, else profile,
		 * as maturin does. */
		want = o->editable && m->editable_profile ? m->editable_profile
							  : m->profile;
		if (want && !o->profile) {
			if (out->profile && strcmp(out->profile, want))
				return sp_err_set(
				    e,
				    "%s asks for cargo profile '%s' and %s "
				    "for '%s': build them separately (-p) or "
				    "pass --profile",
				    pp->path, want, profile_from,
				    out->profile);
			out->profile = want;
			profile_from = pp->path;
		}
		if (m->nconfig) {
			char **grown = realloc(pc->config,
					       (pc->nconfig + m->nconfig +
						o->nconfig + 1) *
						   sizeof(*grown));

			if (!grown)
				return str_oom(e, "plan the build");
			pc->config = grown;
			for (j = 0; j < m->nconfig; j++)
				pc->config[pc->nconfig++] = m->config[j];
		}
	}
	if (pc->nconfig) {
		/* The command line's --config come last: cargo lets a
		 * later value win. */
		for (j = 0; j < o->nconfig; j++)
			pc->config[pc->nconfig++] = (char *)o->config[j];
		out->config = (const char *const *)pc->config;
		out->nconfig = pc->nconfig;
	}
	out->features = pc->features;
	if (!out->profile)
		out->profile = o->default_profile;
	return 0;
}

void projconf_release(struct projconf *pc)
{
	size_t i;

	for (i = 0; i < pc->n; i++) {
		if (pc->pp)
			pyproject_release(&pc->pp[i]);
		if (pc->error)
			free(pc->error[i]);
	}
	free(pc->pp);
	free(pc->error);
	free(pc->selected);
	free(pc->sharded);
	free(pc->roots);
	free(pc->features);
	free(pc->config);
	memset(pc, 0, sizeof(*pc));
}
