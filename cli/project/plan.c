/*
 * plan.c - the build plan: from a cargo workspace to a list of wheel jobs.
 *
 * It runs cargo (cargo.h), asks the interpreter once (pyinfo.h), picks
 * the cdylibs that are Python extension modules and describes each as a
 * job, with the package's metadata (pkgmeta.h) and Python files
 * (pysrc.h).
 */
#define _GNU_SOURCE
#include "cli/project/plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/project/abi3.h"
#include "cli/project/binplan.h"
#include "cli/project/earlycargo.h"
#include "cli/project/license.h"
#include "cli/project/layout.h"
#include "cli/project/pkgmeta.h"
#include "cli/project/projconf.h"
#include "cli/project/pyo3dep.h"
#include "cli/project/pysrc.h"
#include "cli/project/shardsel.h"
#include "cli/project/strutil.h"
#include "common/path.h"
#include "worker/elf/inspect.h"

/* ---- selection and jobs ---- */

/* A Python module name: dotted identifiers ("pkg._native"). */
static int valid_module(const char *m)
{
	const char *p = m;

	for (;;) {
		if (!(isalpha((unsigned char)*p) || *p == '_'))
			return 0;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (*p == '\0')
			return 1;
		if (*p++ != '.')
			return 0;
	}
}

/* Linked paths for a job: its package's first, then every other's. */
static json_t *job_linked_paths(const json_t *state, const char *pkgid)
{
	const json_t *all = json_object_get(state, "linked_paths");
	json_t *out = json_array(), *paths, *x;
	const char *id;
	size_t i;

	if (!out)
		return NULL;
	json_array_foreach(json_object_get(all, pkgid), i, x)
	{
		if (str_array_add_unique(out, json_string_value(x)) < 0)
			goto fail;
	}
	json_object_foreach((json_t *)all, id, paths)
	{
		json_array_foreach(paths, i, x)
		{
			if (str_array_add_unique(out, json_string_value(x)) < 0)
				goto fail;
		}
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* layout_plan() within the project root maturin's packages have. */
static int maturin_layout(json_t *job, const struct pyproject *pp,
			  const char *module, const struct cargo_plan *plan,
			  const json_t *pkg, const json_t *state,
			  struct sp_err *e)
{
	char *root = layout_project_root(pp->dir, plan->workspace_root);
	int r = root ? layout_plan(job, pp, module, root,
				   json_object_get(state, "out_dirs"),
				   str_member(pkg, "id"), e)
		     : str_oom(e, "plan the build");

	free(root);
	return r;
}

/* Whether jobs holds one of package name's already (a package's
 * programs are one job each). */
static int job_of_package(const json_t *jobs, const char *name)
{
	const json_t *j;
	size_t i;

	json_array_foreach(jobs, i, j)
	{
		if (strcmp(str_member(j, "package") ?: "", name) == 0)
			return 1;
	}
	return 0;
}

/*
 * Builds the job for one cdylib of pkg, configured by pp (NULL: no
 * pyproject.toml), or for one of its programs (program set: art is the
 * program, binplan.h), and appends it to plan->jobs.
 */
static int plan_job(struct cargo_plan *plan, const json_t *pkg,
		    const struct pyproject *pp, const json_t *art,
		    const json_t *state, const char *module, int program,
		    struct sp_err *e)
{
	const char *cargo_name = str_member(pkg, "name");
	const json_t *proj = pp ? pp->project : NULL;
	struct abi3_tags tags;
	char *pkgdir = NULL;
	json_t *job = NULL, *pm = NULL, *linked = NULL, *meta;
	json_t *compile;
	int ret = -1;

	/* Distribution, version and metadata as `spoke sdist` states them,
	 * so a wheel and its sdist never disagree; errors name the package
	 * already. */
	pm = pkgmeta_of(pkg, proj, pp ? pp->dir : NULL, plan->workspace_root,
			e);
	if (!pm)
		goto out;
	meta = json_object_get(pm, "metadata");
	pkgdir = path_dirname(str_member(pkg, "manifest_path"));
	if (!pkgdir) {
		str_oom(e, "plan the build");
		goto out;
	}
	if (abi3_tags(pkg, json_object_get(state, "pyo3_features"), &plan->py,
		      &tags, e) < 0) {
		sp_err_wrap(e, "package '%s'", cargo_name);
		goto out;
	}
	linked = job_linked_paths(state, str_member(art, "package_id"));
	job = json_pack(
	    "{s:s, s:s, s:O, s:O, s:O, s:s, s:s, s:s, s:s, s:s, s:O}",
	    "cargo_path", str_member(art, "path"), "package", cargo_name,
	    "linked_paths", linked, "distribution",
	    json_object_get(pm, "distribution"), "version",
	    json_object_get(pm, "version"), "module", module, "python_tag",
	    tags.py, "abi_tag", tags.abi, "platform_tag", plan->py.platform_tag,
	    "ext_suffix", tags.ext, "metadata", meta);
	if (!job) {
		sp_err_set(e,
			   "cannot describe the job for package '%s' (out "
			   "of memory or not UTF-8)",
			   cargo_name);
		goto out;
	}
	/* cargo's compile time of the package, when it compiled it: the
	 * coordinator journals it for spoke plan's shard weights, which sum
	 * a package's wheels, so only its first job carries it. */
	compile = json_object_get(json_object_get(state, "compile_s"),
				  str_member(art, "package_id"));
	if (json_is_number(compile) &&
	    !job_of_package(plan->jobs, cargo_name) &&
	    json_object_set(job, "compile_s", compile) < 0) {
		str_oom(e, "plan the build");
		goto out;
	}
	/* A program's job says so before its Python side is planned: it
	 * has no extension to make a package of (layout.h). */
	if (program && binplan_job(job, pkg, art, e) < 0)
		goto out;
	/* maturin's rules place the Python side of a [tool.maturin]
	 * package (layout.h); pysrc_plan keeps what they planned. */
	if (pp && pp->maturin &&
	    maturin_layout(job, pp, module, plan, pkg, state, e) < 0) {
		sp_err_wrap(e, "package '%s'", cargo_name);
		goto out;
	}
	/* The job holds meta itself, so License-File names reach it. */
	/* The project root: the pyproject.toml's folder, else the
	 * workspace's; links out of it are refused. */
	if (pysrc_plan(job, pkg, pkgdir, proj, module,
		       pp ? pp->dir : plan->workspace_root, e) < 0 ||
	    license_plan(job, meta, pkg, pkgdir, proj,
			 pp ? pp->dir : plan->workspace_root,
			 plan->workspace_root, e) < 0) {
		sp_err_wrap(e, "package '%s'", cargo_name);
		goto out;
	}
	if (json_array_append(plan->jobs, job) < 0) {
		str_oom(e, "plan the build");
		goto out;
	}
	ret = 0;
out:
	json_decref(job);
	json_decref(linked);
	json_decref(pm);
	free(pkgdir);
	return ret;
}

/*
 * Whether pkg declares its module: a [package.metadata.spoke] table, or
 * a pyproject.toml under maturin's rules.
 */
static int declared(const json_t *pkg, const struct pyproject *pp)
{
	return json_is_object(
		   json_object_get(json_object_get(pkg, "metadata"), "spoke")) ||
	       (pp && pp->maturin);
}

/*
 * The module of a cdylib art of pkg: [tool.maturin] module-name, else
 * [package.metadata.spoke] module, else the lib's name (maturin's order
 * continues with [project] name and the package name, but cargo always
 * reports a lib name).  Both settings given differently is an error
 * naming both.
 */
static const char *module_of(const json_t *pkg, const struct pyproject *pp,
			     const json_t *art, struct sp_err *e)
{
	const json_t *spoke =
	    json_object_get(json_object_get(pkg, "metadata"), "spoke");
	const char *sm = str_member(spoke, "module");
	const char *mm = pp && pp->maturin ? pp->m.module_name : NULL;

	if (sm && mm && strcmp(sm, mm) != 0) {
		sp_err_set(e,
			   "package '%s': [tool.maturin] module-name = \"%s\" "
			   "in %s and [package.metadata.spoke] module = "
			   "\"%s\" disagree: keep one",
			   str_member(pkg, "name"), mm, pp->path, sm);
		return NULL;
	}
	return mm ? mm : sm ? sm : str_member(art, "name");
}

/* The symbol art, a cdylib of pkg, must export: PyInit_ and its module's
 * last part; NULL when the module is in doubt (plan_jobs says why). */
static char *init_symbol(const json_t *pkg, const struct pyproject *pp,
			 const json_t *art)
{
	struct sp_err e;
	const char *module = module_of(pkg, pp, art, &e), *last;

	if (!module)
		return NULL;
	last = strrchr(module, '.');
	return str_printf("PyInit_%s", last ? last + 1 : module);
}

/* What the export check of plan_jobs needs, for each cdylib as cargo
 * reports it: the checks of the crates cargo found fresh (reported
 * first) then run while it compiles the changed ones.  A cdylib reported
 * when cargo has written it is not written again in this build, so the
 * answer holds at the end; "exports" is kept with the symbol it answers
 * for.  A file absent (a --stage=move build holds it) or unreadable is
 * left to plan_jobs. */
struct early_exports {
	const json_t *packages;
	const struct projconf *pc;
};

static void check_exports(json_t *art, void *arg)
{
	const struct early_exports *x = arg;
	const char *id = str_member(art, "package_id");
	const json_t *pkg;
	struct sp_err e;
	char *sym = NULL;
	size_t i;
	int r;

	json_array_foreach(x->packages, i, pkg)
	{
		if (!id || strcmp(str_member(pkg, "id") ?: "", id) != 0)
			continue;
		sym = x->pc->error[i] ? NULL
				      : init_symbol(pkg, projconf_of(x->pc, i),
						    art);
		break;
	}
	if (sym && path_exists(str_member(art, "path")) &&
	    (r = elf_exports(str_member(art, "path"), sym, &e)) >= 0)
		json_object_set_new(art, "exports",
				    json_pack("{s:s,s:b}", "symbol", sym,
					      "defined", r));
	free(sym);
}

/* elf_exports() of art's file, from check_exports() when it answered
 * for sym. */
static int art_exports(const json_t *art, const char *sym, struct sp_err *e)
{
	const json_t *x = json_object_get(art, "exports");

	if (x && !strcmp(str_member(x, "symbol") ?: "", sym))
		return json_is_true(json_object_get(x, "defined"));
	return elf_exports(str_member(art, "path"), sym, e);
}

/*
 * [package.metadata.spoke] python-source and [tool.maturin]
 * python-source name one folder, or are an error naming both.
 */
static int same_python_source(const json_t *pkg, const struct pyproject *pp,
			      struct sp_err *e)
{
	const char *sps = str_member(
	    json_object_get(json_object_get(pkg, "metadata"), "spoke"),
	    "python-source");
	char *dir, *joined, *norm;
	int same;

	if (!sps || !pp || !pp->maturin || !pp->m.python_source_set)
		return 0;
	dir = path_dirname(str_member(pkg, "manifest_path"));
	joined = dir ? (sps[0] == '/' ? strdup(sps) : path_join(dir, sps))
		     : NULL;
	norm = joined ? path_normalize(joined) : NULL;
	free(dir);
	free(joined);
	if (!norm)
		return str_oom(e, "plan the build");
	same = strcmp(norm, pp->m.python_source) == 0;
	free(norm);
	if (same)
		return 0;
	return sp_err_set(e,
			  "package '%s': [tool.maturin] python-source (%s, "
			  "in %s) and [package.metadata.spoke] "
			  "python-source = \"%s\" name different folders: "
			  "keep one",
			  str_member(pkg, "name"), pp->m.python_source,
			  pp->path, sps);
}

/* Plans the job of the program of pkg, a package shipped as programs
 * (binplan.h): a module's job for the executable, made a program's. */
static int plan_programs(struct cargo_plan *plan, const json_t *pkg,
			 const struct pyproject *pp, const json_t *state,
			 struct sp_err *e)
{
	json_t *progs = binplan_programs(pkg, state, e), *prog;
	char *module = binplan_module(pkg, pp);
	size_t i;
	int ret = -1;

	if (!progs)
		goto out;
	if (!module) {
		str_oom(e, "plan the build");
		goto out;
	}
	/* module-name names the program's Python package: a folder and
	 * file names are made of it. */
	if (!valid_module(module)) {
		sp_err_set(e,
			   "package '%s': '%s' is not a Python module name "
			   "(set [tool.maturin] module-name)",
			   str_member(pkg, "name"), module);
		goto out;
	}
	json_array_foreach(progs, i, prog)
	{
		if (plan_job(plan, pkg, pp, prog, state, module, 1, e) < 0)
			goto out;
	}
	ret = 0;
out:
	free(module);
	json_decref(progs);
	return ret;
}

/*
 * Picks the cdylibs to package (see plan.h) and plans a job for each, in
 * workspace member order; a package shipped as programs (binplan.h)
 * gets its program's job instead.
 */
static int plan_jobs(struct cargo_plan *plan, const json_t *packages,
		     const struct projconf *pc, const json_t *state,
		     struct sp_err *e)
{
	const json_t *built = json_object_get(state, "built");
	const json_t *pkg, *art;
	json_t *by_pkg = json_object(), *cdylibs, *list;
	char *rejected = NULL, *sym = NULL;
	size_t i, j, ncdylib = 0;
	int spoke_mode = 0, ret = -1;

	/* Each package's cdylibs in cargo's order, found by its id: a
	 * search of every cdylib for each package was 10,000 comparisons
	 * in a workspace of 100. */
	if (!by_pkg) {
		str_oom(e, "plan the build");
		goto out;
	}
	json_array_foreach(json_object_get(state, "cdylibs"), j, art)
	{
		const char *id = str_member(art, "package_id");

		if (!id)
			continue;
		list = json_object_get(by_pkg, id);
		/* set_new refuses a NULL list: out of memory either way. */
		if (!list &&
		    json_object_set_new(by_pkg, id, list = json_array()) < 0) {
			str_oom(e, "plan the build");
			goto out;
		}
		if (json_array_append(list, (json_t *)art) < 0) {
			str_oom(e, "plan the build");
			goto out;
		}
	}

	/* A shard decides over every shard's packages, as the unsharded
	 * build would over what it built. */
	json_array_foreach(packages, i, pkg)
	{
		if ((pc->sharded ? pc->sharded[i]
				 : json_object_get(built,
						   str_member(pkg, "id")) != NULL) &&
		    declared(pkg, projconf_of(pc, i)))
			spoke_mode = 1;
	}

	json_array_foreach(packages, i, pkg)
	{
		const char *id = str_member(pkg, "id");
		const struct pyproject *pp = projconf_of(pc, i);
		int programs;

		/* Another shard's package, built here as a dependency. */
		if (pc->sharded && !pc->selected[i])
			continue;
		/* A package shipped as programs has no module (binplan.h).
		 * Only a package cargo builds as a root has its bins linked:
		 * one built as another's dependency gives its lib alone. */
		programs = pc->selected[i] ? binplan_wants_programs(pkg, pp, e)
					   : 0;
		if (programs < 0)
			goto out;
		if (programs > 0) {
			if (plan_programs(plan, pkg, pp, state, e) < 0)
				goto out;
			continue;
		}

		cdylibs = id ? json_object_get(by_pkg, id) : NULL;
		json_array_foreach(cdylibs, j, art)
		{
			const char *module, *last;
			int r;

			ncdylib++;
			if (spoke_mode && !declared(pkg, pp))
				continue;
			if (pc->error[i]) {
				sp_err_set(e, "package '%s': %s",
					   str_member(pkg, "name"),
					   pc->error[i]);
				goto out;
			}
			module = module_of(pkg, pp, art, e);
			if (!module || same_python_source(pkg, pp, e) < 0)
				goto out;
			if (!valid_module(module)) {
				sp_err_set(e,
					   "package '%s': '%s' is not a "
					   "Python module name (set "
					   "[tool.maturin] module-name)",
					   str_member(pkg, "name"), module);
				goto out;
			}
			last = strrchr(module, '.');
			last = last ? last + 1 : module;
			free(sym);
			sym = str_printf("PyInit_%s", last);
			if (!sym) {
				str_oom(e, "plan the build");
				goto out;
			}
			/* A concurrent --stage=move build may hold the output
			 * in its state directory right now.  A declared
			 * module needs no look here: the worker checks the
			 * export on the staged file, once the coordinator has
			 * serialized the builds. */
			if (spoke_mode && !path_exists(str_member(art, "path")))
				r = 1;
			else
				r = art_exports(art, sym, e);
			if (r < 0)
				goto out;
			if (r == 0 && spoke_mode) {
				/* Where maturin would choose cffi bindings
				 * (no PyInit, no pyo3), say so: that is
				 * what a maturin user needs to read here. */
				int cffi = pp && pp->maturin &&
					   pp->m.bindings ==
					       PP_BINDINGS_AUTO &&
					   !pkg_uses_pyo3(pkg);

				sp_err_set(e,
					   "package '%s': '%s' does not "
					   "export %s, so Python cannot "
					   "import it as module '%s' (check "
					   "[tool.maturin] module-name or "
					   "[package.metadata.spoke] module)%s",
					   str_member(pkg, "name"),
					   str_member(art, "path"), sym,
					   module,
					   cffi ? "; maturin would build cffi "
						  "bindings for it (no pyo3 "
						  "or pyo3-ffi dependency), "
						  "which spoke does not "
						  "support"
						: "");
				goto out;
			}
			if (r == 0) {
				char *why =
				    str_printf("'%s' (no %s)",
					       str_member(art, "path"), sym);

				if (!why || str_append(&rejected, ", ", why)) {
					free(why);
					str_oom(e, "plan the build");
					goto out;
				}
				free(why);
				continue;
			}
			if (plan_job(plan, pkg, pp, art, state, module, 0, e) <
			    0)
				goto out;
		}
	}
	/* A shard's cdylibs may all be other things than modules: the
	 * other shards have them. */
	if (pc->sharded && json_array_size(plan->jobs) == 0) {
		ret = 0;
		goto out;
	}
	if (ncdylib == 0 && json_array_size(plan->jobs) == 0) {
		sp_err_set(e, "no cdylib in the workspace: spoke packages "
			      "crates with crate-type = [\"cdylib\"]");
		goto out;
	}
	if (json_array_size(plan->jobs) == 0) {
		sp_err_set(e,
			   "no cdylib in the workspace is a Python extension "
			   "module: %s; export PyInit_<module>, or name the "
			   "module in [tool.maturin] module-name or "
			   "[package.metadata.spoke] module",
			   rejected ? rejected : "(none selected)");
		goto out;
	}
	ret = 0;
out:
	json_decref(by_pkg);
	free(rejected);
	free(sym);
	return ret;
}

/* --target-dir as cargo resolves it: relative to the cwd. */
static char *absolute_dir(const char *dir, struct sp_err *e)
{
	char *cwd, *r;

	if (dir[0] == '/')
		r = strdup(dir);
	else {
		cwd = getcwd(NULL, 0);
		if (!cwd) {
			sp_err_sys(e, "cannot get the current directory");
			return NULL;
		}
		r = path_join(cwd, dir);
		free(cwd);
	}
	if (!r)
		str_oom(e, "plan the build");
	return r;
}

/*
 * Finds the interpreter as execvp() would (malloc'd path, or NULL), so a
 * wrong --interpreter fails before a long build rather than after it.
 */
static char *find_interpreter(const char *name, struct sp_err *e)
{
	const char *p = getenv("PATH"), *colon;
	char *cand;

	if (strchr(name, '/')) {
		if (access(name, X_OK) == 0) {
			cand = strdup(name);
			if (!cand)
				str_oom(e, "plan the build");
			return cand;
		}
		goto missing;
	}
	for (p = p ? p : "/usr/bin:/bin"; p; p = colon ? colon + 1 : NULL) {
		size_t len;

		colon = strchr(p, ':');
		len = colon ? (size_t)(colon - p) : strlen(p);
		/* An empty PATH entry means the current directory. */
		cand = len ? str_printf("%.*s/%s", (int)len, p, name)
			   : str_printf("./%s", name);
		if (!cand) {
			str_oom(e, "plan the build");
			return NULL;
		}
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
missing:
	sp_err_set(e, "python interpreter '%s' not found (use --interpreter)",
		   name);
	return NULL;
}

/*
 * Asks the interpreter for its tags (unless py has them already) and
 * reads every pyproject.toml in paths that py does not hold yet: one
 * interpreter run at most.
 */
static int read_pyprojects(const char *interp, const json_t *paths,
			   struct pyinfo *py, struct sp_err *e)
{
	const char **want = calloc(json_array_size(paths) + 1, sizeof(*want));
	struct pyinfo more;
	const json_t *x;
	const char *k;
	json_t *v;
	size_t i, n = 0;
	int ret = -1;

	if (!want)
		return str_oom(e, "plan the build");
	json_array_foreach(paths, i, x)
	{
		if (!py->pyprojects ||
		    !json_object_get(py->pyprojects, json_string_value(x)))
			want[n++] = json_string_value(x);
	}
	if (!py->python_tag) {
		ret = pyinfo_query(interp, want, n, py, e);
		goto out;
	}
	if (n == 0) {
		ret = 0;
		goto out;
	}
	if (pyinfo_query(interp, want, n, &more, e) < 0)
		goto out;
	json_object_foreach(more.pyprojects, k, v)
	{
		if (json_object_set(py->pyprojects, k, v) < 0) {
			pyinfo_release(&more);
			str_oom(e, "plan the build");
			goto out;
		}
	}
	pyinfo_release(&more);
	ret = 0;
out:
	free(want);
	return ret;
}

/* Sets *out when a package cargo builds as a root ships a program that
 * uses pyo3 (binplan.h). */
static int embeds_python(const struct projconf *pc, const json_t *packages,
			 int *out, struct sp_err *e)
{
	size_t i;
	int r;

	for (i = 0; i < pc->n; i++) {
		const json_t *pkg = json_array_get(packages, i);

		if (!pc->selected[i] || !pkg_uses_pyo3(pkg))
			continue;
		r = binplan_wants_programs(pkg, projconf_of(pc, i), e);
		if (r < 0)
			return -1;
		if (r)
			*out = 1;
	}
	return 0;
}

/*
 * One repair setting of the packages cargo builds (get picks it from a
 * [tool.maturin]): *dst gets the value they agree on, or stays NULL; two
 * packages asking differently is an error naming both files.
 */
static int repair_setting(const struct projconf *pc, const char *key,
			  const char *(*get)(const struct pp_maturin *),
			  char **dst, struct sp_err *e)
{
	const char *from = NULL, *v;
	size_t i;

	for (i = 0; i < pc->n; i++) {
		const struct pyproject *pp = projconf_of(pc, i);

		if (!pc->selected[i] || !pp || !pp->has_maturin ||
		    !(v = get(&pp->m)))
			continue;
		if (*dst && strcmp(*dst, v) != 0)
			return sp_err_set(e,
					  "%s asks for %s = \"%s\" and %s for "
					  "\"%s\": one build has one repair; "
					  "build them separately (-p) or pass "
					  "the option on the command line",
					  pp->path, key, v, from, *dst);
		if (!*dst && !(*dst = strdup(v)))
			return str_oom(e, "plan the build");
		from = pp->path;
	}
	return 0;
}

static const char *get_compat(const struct pp_maturin *m)
{
	return m->compatibility;
}

static const char *get_auditwheel(const struct pp_maturin *m)
{
	return m->auditwheel;
}

/*
 * cargo unifies a dependency's features over the packages it builds (its
 * -p), so a shard may compile a dependency with fewer features than the
 * unsharded build, and its wheels would differ.  cargo 1.95 has no stable
 * way to unify over a chosen set (resolver.feature-unification is behind
 * -Zfeature-unification, and its "workspace" would unify over every
 * member, not over the selection), so such a shard is refused rather than
 * built different: every unit it compiles must be one the unsharded build
 * compiles, as cargo tree tells without compiling.
 */
static int shard_same_features(const struct cargo_opts *full,
			       const struct cargo_opts *mine,
			       const char *manifest, struct sp_err *e)
{
	json_t *a = NULL, *b = NULL, *v, *w;
	const char *key, *k2;
	char *names = NULL;
	size_t i;
	int ret = -1;

	if (!(a = cargo_features(full, manifest, e)) ||
	    !(b = cargo_features(mine, manifest, e)))
		goto out;
	json_object_foreach(b, key, v)
	{
		const char *br = strstr(key, " [");
		int plen = br ? (int)(br - key) : (int)strlen(key);
		const char *other = "none";

		if (json_object_get(a, key))
			continue;
		for (i = 0; i < mine->npackages; i++)
			if (str_append(&names, ", ", mine->packages[i]) < 0) {
				str_oom(e, "plan the build");
				goto out;
			}
		json_object_foreach(a, k2, w)
		{
			if (strncmp(k2, key, (size_t)plen) == 0 &&
			    k2[plen] == ' ')
				other = k2 + plen + 1;
		}
		sp_err_set(e,
			   "this shard (%s) compiles %.*s with features %s, "
			   "the unsharded build with %s: cargo unifies a "
			   "dependency's features over the packages it "
			   "builds, and this shard's wheels would differ from "
			   "the unsharded build's. Ask for those features in "
			   "the manifest of each of these packages that "
			   "depends on it (then every selection agrees), or "
			   "build unsharded",
			   names, plen, key, br ? br + 1 : "[]", other);
		goto out;
	}
	ret = 0;
out:
	free(names);
	json_decref(a);
	json_decref(b);
	return ret;
}

int cargo_plan_build(const struct cargo_opts *o, struct cargo_plan *out,
		     struct sp_err *e)
{
	const char *interp = o->interpreter ? o->interpreter : "python3";
	char *manifest = NULL, *interp_path = NULL, *pp_manifest = NULL;
	json_t *meta = NULL, *state = NULL, *paths = NULL, *packages;
	struct projconf pc = {0};
	struct cargo_opts co;
	const char **shard_pkgs = NULL;
	size_t shard_npkgs = 0;
	char *full_features = NULL;
	struct cargo_opts full;
	struct earlycargo early = {0};
	struct cargo_run run;
	struct early_exports ex = {0};
	struct cargo_watch watch = {check_exports, &ex};
	json_t *cmd = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	/* A shard's check runs `cargo tree`, which an early build's locks
	 * could hold up. */
	if (o->early && !o->shard_n)
		earlycargo_start(&early, o->early, interp);
	interp_path = find_interpreter(interp, e);
	if (!interp_path)
		goto out;
	/* maturin's order: --manifest-path, else the pyproject.toml here
	 * (its manifest-path, or the src layout's rust/Cargo.toml), else
	 * cargo's search. */
	if (!o->manifest_path &&
	    projconf_cwd_manifest(interp, &out->py, &pp_manifest, e) < 0)
		goto out;
	if (cargo_find_manifest(pp_manifest ? pp_manifest : o->manifest_path,
				&manifest, e) < 0)
		goto out;
	meta = cargo_metadata(manifest, e);
	if (!meta)
		goto out;
	packages = json_object_get(meta, "packages");

	out->workspace_root = strdup(str_member(meta, "workspace_root"));
	out->target_dir = o->target_dir
			      ? absolute_dir(o->target_dir, e)
			      : strdup(str_member(meta, "target_directory"));
	out->jobs = json_array();
	state = json_object();
	paths = json_array();
	if (!out->target_dir) {
		if (!o->target_dir)
			str_oom(e, "plan the build");
		goto out;
	}
	if (!out->workspace_root || !out->jobs || !state || !paths) {
		str_oom(e, "plan the build");
		goto out;
	}

	/* One interpreter run for the tags and every pyproject.toml that
	 * may configure a package: [tool.maturin] says how cargo builds. */
	if (projconf_candidates(meta, paths, e) < 0 ||
	    read_pyprojects(interp, paths, &out->py, e) < 0 ||
	    projconf_load(&pc, meta, manifest, o, out->py.pyprojects, e) < 0 ||
	    (o->shard_n &&
	     shardsel_apply(&pc, meta, o->shard_k, o->shard_n,
			    o->shard_weights, &out->shard, &shard_pkgs,
			    &shard_npkgs, e) < 0) ||
	    projconf_cargo_opts(&pc, meta, o, &co, e) < 0 ||
	    repair_setting(&pc, "compatibility", get_compat, &out->compat,
			   e) < 0 ||
	    repair_setting(&pc, "auditwheel", get_auditwheel,
			   &out->auditwheel, e) < 0)
		goto out;

	/* maturin leaves PYO3_BUILD_EXTENSION_MODULE unset for a program:
	 * one that embeds Python (pyo3 0.26 and later) must link libpython.
	 * One cargo run builds everything, so a workspace that builds such a
	 * program beside modules gets the variable for neither; its modules
	 * keep pyo3's extension-module feature, which every pyo3 reads. */
	if (embeds_python(&pc, packages, &co.embeds_python, e) < 0)
		goto out;
	/* A shard: cargo compiles its packages alone; none, nothing. */
	if (o->shard_n) {
		if (shard_npkgs == 0) {
			ret = 0;
			goto out;
		}
		full = co;
		if (pc.features &&
		    !(full.features = full_features = strdup(pc.features))) {
			str_oom(e, "plan the build");
			goto out;
		}
		if (shardsel_features(&pc, meta, e) < 0)
			goto out;
		co.features = pc.features;
		co.packages = shard_pkgs;
		co.npackages = shard_npkgs;
		if (shard_same_features(&full, &co, manifest, e) < 0)
			goto out;
	}
	ex.packages = packages;
	ex.pc = &pc;
	cmd = cargo_build_command(&co, manifest, interp_path, e);
	if (!cmd)
		goto out;
	if (!earlycargo_take(&early, cmd, &run) &&
	    cargo_run_start(&run, cmd, 0, e) < 0)
		goto out;
	if (cargo_run_finish(&run, state, &watch, e) < 0 ||
	    plan_jobs(out, packages, &pc, state, e) < 0)
		goto out;
	ret = 0;
out:
	earlycargo_release(&early);
	json_decref(cmd);
	if (ret < 0)
		cargo_plan_release(out);
	projconf_release(&pc);
	free(shard_pkgs);
	free(full_features);
	json_decref(paths);
	json_decref(state);
	json_decref(meta);
	free(pp_manifest);
	free(interp_path);
	free(manifest);
	return ret;
}

void cargo_plan_release(struct cargo_plan *p)
{
	free(p->target_dir);
	free(p->workspace_root);
	json_decref(p->jobs);
	pyinfo_release(&p->py);
	free(p->compat);
	free(p->auditwheel);
	json_decref(p->shard);
	memset(p, 0, sizeof(*p));
}
