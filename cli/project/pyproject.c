/*
 * pyproject.c - a pyproject.toml, typed: [project], [build-system] and
 * [tool.maturin] checked once, key by key.
 *
 * A key is either taken with maturin's meaning, accepted because it has
 * no effect on a Linux wheel (it configures another system or a maturin
 * command spoke does not have; README "Coming from maturin" lists them),
 * or refused by name.  A key spoke has never heard of is refused too:
 * ignoring it would build a wheel other than the one its author asked
 * maturin for.
 */
#define _GNU_SOURCE
#include "cli/project/pyproject.h"

#include <stdlib.h>
#include <string.h>

#include "cli/project/strutil.h"
#include "common/path.h"

/* The keys accepted without effect, and why (the error for a refused
 * key names its own reason). */
static const char *const inert_keys[] = {
    "include-import-lib", /* a Windows import library */
    "pgo-command",	  /* used by maturin's --pgo only */
    "generate-ci",	  /* maturin generate-ci's settings */
    "use-base-python",	  /* spoke's backend always passes the base
			   * interpreter (python/spoke_build) */
    NULL,
};

/* Refused keys, with the reason a user reads. */
static const struct {
	const char *key, *why;
} refused_keys[] = {
    {"targets", "spoke packages the package's cdylib (or its programs "
		"with bindings = \"bin\"); choose other targets in "
		"Cargo.toml"},
    {"unstable-flags", "spoke runs cargo build without -Z flags; set "
		       "them in .cargo/config.toml [unstable]"},
    {"rustc-args", "spoke runs cargo build, not cargo rustc; use "
		   "RUSTFLAGS or a [profile] setting"},
    {"sbom", "spoke writes no SBOM into wheels yet"},
    {NULL, NULL},
};

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* The error prefix every message of this file starts with. */
#define WHERE "%s: [tool.maturin] "

/* A string member; *dst stays NULL when absent. */
static int take_string(const json_t *t, const char *key, char **dst,
		       const char *path, struct sp_err *e)
{
	const json_t *v = json_object_get(t, key);

	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return sp_err_set(e, WHERE "%s must be a non-empty string",
				  path, key);
	*dst = strdup(json_string_value(v));
	return *dst ? 0 : str_oom(e, "read pyproject.toml");
}

static int take_bool(const json_t *t, const char *key, enum pp_bool *dst,
		     const char *path, struct sp_err *e)
{
	const json_t *v = json_object_get(t, key);

	*dst = PP_UNSET;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return sp_err_set(e, WHERE "%s must be true or false", path,
				  key);
	*dst = json_is_true(v) ? PP_TRUE : PP_FALSE;
	return 0;
}

static void free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* An array of non-empty strings. */
static int take_strings(const json_t *t, const char *key, char ***dst,
			size_t *n, const char *path, struct sp_err *e)
{
	const json_t *v = json_object_get(t, key), *x;
	size_t i;

	*dst = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return sp_err_set(e, WHERE "%s must be an array of strings",
				  path, key);
	*dst = calloc(json_array_size(v) + 1, sizeof(**dst));
	if (!*dst)
		return str_oom(e, "read pyproject.toml");
	json_array_foreach(v, i, x)
	{
		if (!json_is_string(x) || json_string_length(x) == 0)
			return sp_err_set(e,
					  WHERE "%s[%zu] must be a non-empty "
						"string",
					  path, key, i);
		(*dst)[i] = strdup(json_string_value(x));
		if (!(*dst)[i])
			return str_oom(e, "read pyproject.toml");
		*n = i + 1;
	}
	return 0;
}

/* features: strings, or {feature, python-version,
 * python-implementation} tables; a table with a condition is refused, as
 * spoke does not evaluate version specifiers. */
static int take_features(const json_t *t, struct pp_maturin *m,
			 const char *path, struct sp_err *e)
{
	const json_t *v = json_object_get(t, "features"), *x, *f;
	const char *k;
	json_t *val;
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return sp_err_set(e, WHERE "features must be an array", path);
	m->features = calloc(json_array_size(v) + 1, sizeof(*m->features));
	if (!m->features)
		return str_oom(e, "read pyproject.toml");
	json_array_foreach(v, i, x)
	{
		f = x;
		if (json_is_object(x)) {
			json_object_foreach((json_t *)x, k, val)
			{
				if (strcmp(k, "feature") == 0)
					continue;
				if (strcmp(k, "python-version") == 0 ||
				    strcmp(k, "python-implementation") == 0)
					return sp_err_set(
					    e,
					    WHERE "features[%zu] has a "
						  "condition (%s): spoke does "
						  "not evaluate conditional "
						  "features; list the feature "
						  "plainly or pass --features",
					    path, i, k);
				return sp_err_set(e,
						  WHERE "features[%zu] has an "
							"unknown key '%s'",
						  path, i, k);
			}
			f = json_object_get(x, "feature");
		}
		if (!json_is_string(f) || json_string_length(f) == 0)
			return sp_err_set(e,
					  WHERE "features[%zu] must be a "
						"feature name or {feature = "
						"\"...\"}",
					  path, i);
		m->features[i] = strdup(json_string_value(f));
		if (!m->features[i])
			return str_oom(e, "read pyproject.toml");
		m->nfeatures = i + 1;
	}
	return 0;
}

/* One include/exclude entry: "glob" or {path, format}; include also
 * takes {path, from = "out-dir", to, crate-name}. */
static int take_glob(const json_t *x, int include, struct pp_glob *g,
		     const char *key, size_t i, const char *path,
		     struct sp_err *e)
{
	const json_t *p = x, *fmt, *f;
	const char *k;
	json_t *val;
	size_t j;

	g->format = PP_FORMAT_BOTH;
	if (json_is_object(x)) {
		json_object_foreach((json_t *)x, k, val)
		{
			if (strcmp(k, "path") == 0 || strcmp(k, "format") == 0)
				continue;
			if (include && (strcmp(k, "from") == 0 ||
					strcmp(k, "to") == 0 ||
					strcmp(k, "crate-name") == 0))
				continue;
			return sp_err_set(e,
					  WHERE "%s[%zu] has an unknown key "
						"'%s'",
					  path, key, i, k);
		}
		p = json_object_get(x, "path");
		fmt = json_object_get(x, "format");
		if (json_object_get(x, "from")) {
			const char *from =
			    json_string_value(json_object_get(x, "from"));
			const char *to =
			    json_string_value(json_object_get(x, "to"));

			if (!from || strcmp(from, "out-dir") != 0)
				return sp_err_set(
				    e, WHERE "%s[%zu].from must be \"out-dir\"",
				    path, key, i);
			if (!to)
				return sp_err_set(
				    e, WHERE "%s[%zu] needs a \"to\" path",
				    path, key, i);
			g->to = strdup(to);
			if (!g->to)
				return str_oom(e, "read pyproject.toml");
			if (json_string_value(
				json_object_get(x, "crate-name"))) {
				g->crate_name = strdup(json_string_value(
				    json_object_get(x, "crate-name")));
				if (!g->crate_name)
					return str_oom(e,
						       "read pyproject.toml");
			}
			g->format = PP_FORMAT_WHEEL;
		} else if (fmt) {
			int sd = 0, wh = 0;

			if (json_is_string(fmt)) {
				sd = strcmp(json_string_value(fmt), "sdist") ==
				     0;
				wh = strcmp(json_string_value(fmt), "wheel") ==
				     0;
				if (!sd && !wh)
					goto badfmt;
			} else if (json_is_array(fmt)) {
				json_array_foreach(fmt, j, f)
				{
					const char *s = json_string_value(f);

					if (s && strcmp(s, "sdist") == 0)
						sd = 1;
					else if (s && strcmp(s, "wheel") == 0)
						wh = 1;
					else
						goto badfmt;
				}
			} else {
				goto badfmt;
			}
			g->format = sd && wh ? PP_FORMAT_BOTH
				    : sd     ? PP_FORMAT_SDIST
					     : PP_FORMAT_WHEEL;
		}
	}
	if (!json_is_string(p) || json_string_length(p) == 0)
		return sp_err_set(e,
				  WHERE "%s[%zu] must be a glob or a table "
					"with a \"path\" glob",
				  path, key, i);
	g->path = strdup(json_string_value(p));
	return g->path ? 0 : str_oom(e, "read pyproject.toml");
badfmt:
	return sp_err_set(e,
			  WHERE "%s[%zu].format must be \"sdist\", \"wheel\" "
				"or a list of them",
			  path, key, i);
}

static int take_globs(const json_t *t, const char *key, struct pp_glob **dst,
		      size_t *n, const char *path, struct sp_err *e)
{
	const json_t *v = json_object_get(t, key), *x;
	int include = strcmp(key, "include") == 0;
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return sp_err_set(e, WHERE "%s must be an array", path, key);
	*dst = calloc(json_array_size(v) + 1, sizeof(**dst));
	if (!*dst)
		return str_oom(e, "read pyproject.toml");
	json_array_foreach(v, i, x)
	{
		*n = i + 1;
		if (take_glob(x, include, &(*dst)[i], key, i, path, e) < 0)
			return -1;
	}
	return 0;
}

/* A path relative to the pyproject's folder, made absolute and
 * normalized lexically ("a/../b" is "b"), as maturin normalizes it. */
static int take_path(const json_t *t, const char *key, const char *dir,
		     char **dst, const char *path, struct sp_err *e)
{
	char *rel = NULL, *joined;

	if (take_string(t, key, &rel, path, e) < 0)
		return -1;
	if (!rel)
		return 0;
	joined = rel[0] == '/' ? strdup(rel) : path_join(dir, rel);
	free(rel);
	if (!joined)
		return str_oom(e, "read pyproject.toml");
	*dst = path_normalize(joined);
	free(joined);
	return *dst ? 0 : str_oom(e, "read pyproject.toml");
}

/* [tool.maturin.target.<triple>]: per-target settings.  Its one key,
 * macos-deployment-target, concerns macOS only; any other is refused. */
static int check_targets(const json_t *v, const char *path, struct sp_err *e)
{
	const char *triple, *k;
	json_t *cfg, *val;

	if (!json_is_object(v))
		return sp_err_set(e, WHERE "target must be a table of target "
					   "triples",
				  path);
	json_object_foreach((json_t *)v, triple, cfg)
	{
		if (!json_is_object(cfg))
			return sp_err_set(e, WHERE "target.\"%s\" must be a "
						   "table",
					  path, triple);
		json_object_foreach(cfg, k, val)
		{
			if (strcmp(k, "macos-deployment-target") == 0 ||
			    strcmp(k, "macosx-deployment-target") == 0)
				continue;
			return sp_err_set(e,
					  WHERE "target.\"%s\" has an unknown "
						"key '%s'",
					  path, triple, k);
		}
	}
	return 0;
}

static int one_of(const char *v, const char *const *allowed)
{
	return !v || in_list(allowed, v);
}

/* Reads [tool.maturin] t into m. */
static int parse_maturin(const json_t *t, const char *path, const char *dir,
			 struct pp_maturin *m, struct sp_err *e)
{
	static const char *const modes[] = {"repair", "check", "skip", "warn",
					    NULL};
	static const char *const generators[] = {"cargo", NULL};
	enum pp_bool skip;
	char *bindings = NULL, *manylinux = NULL;
	const char *k;
	json_t *val;
	size_t i;

	json_object_foreach((json_t *)t, k, val)
	{
		static const char *const known[] = {
		    "module-name",	   "include",
		    "exclude",		   "bindings",
		    "compatibility",	   "manylinux",
		    "auditwheel",	   "skip-auditwheel",
		    "strip",		   "sdist-generator",
		    "python-source",	   "python-packages",
		    "data",		   "target",
		    "profile",		   "editable-profile",
		    "features",		   "all-features",
		    "no-default-features", "manifest-path",
		    "frozen",		   "locked",
		    "config",		   NULL};

		if (in_list(known, k) || in_list(inert_keys, k))
			continue;
		for (i = 0; refused_keys[i].key; i++)
			if (strcmp(refused_keys[i].key, k) == 0)
				return sp_err_set(e,
						  WHERE "%s is not supported: "
							"%s",
						  path, k, refused_keys[i].why);
		return sp_err_set(e,
				  WHERE "has an unknown key '%s' (README "
					"\"Coming from maturin\" lists the "
					"keys spoke reads)",
				  path, k);
	}
	if (take_string(t, "module-name", &m->module_name, path, e) < 0 ||
	    take_path(t, "python-source", dir, &m->python_source, path, e) <
		0 ||
	    take_strings(t, "python-packages", &m->python_packages,
			 &m->npython_packages, path, e) < 0 ||
	    take_path(t, "manifest-path", dir, &m->manifest_path, path, e) <
		0 ||
	    take_features(t, m, path, e) < 0 ||
	    take_bool(t, "all-features", &m->all_features, path, e) < 0 ||
	    take_bool(t, "no-default-features", &m->no_default_features, path,
		      e) < 0 ||
	    take_bool(t, "locked", &m->locked, path, e) < 0 ||
	    take_bool(t, "frozen", &m->frozen, path, e) < 0 ||
	    take_string(t, "profile", &m->profile, path, e) < 0 ||
	    take_globs(t, "include", &m->include, &m->ninclude, path, e) < 0 ||
	    take_globs(t, "exclude", &m->exclude, &m->nexclude, path, e) < 0 ||
	    take_path(t, "data", dir, &m->data, path, e) < 0 ||
	    take_string(t, "bindings", &bindings, path, e) < 0 ||
	    take_bool(t, "strip", &m->strip, path, e) < 0 ||
	    take_string(t, "compatibility", &m->compatibility, path, e) < 0 ||
	    take_string(t, "manylinux", &manylinux, path, e) < 0 ||
	    take_string(t, "auditwheel", &m->auditwheel, path, e) < 0 ||
	    take_bool(t, "skip-auditwheel", &skip, path, e) < 0 ||
	    take_string(t, "sdist-generator", &m->sdist_generator, path, e) <
		0 ||
	    take_strings(t, "config", &m->config, &m->nconfig, path, e) < 0 ||
	    take_string(t, "editable-profile", &m->editable_profile, path, e) <
		0)
		goto fail;
	m->python_source_set = m->python_source != NULL;
	if (json_object_get(t, "target") &&
	    check_targets(json_object_get(t, "target"), path, e) < 0)
		goto fail;

	/* manylinux is maturin's older name of compatibility. */
	if (manylinux && m->compatibility &&
	    strcmp(manylinux, m->compatibility) != 0) {
		sp_err_set(e,
			   WHERE "compatibility = \"%s\" and manylinux = "
				 "\"%s\" disagree (manylinux is the older "
				 "name of the same setting)",
			   path, m->compatibility, manylinux);
		goto fail;
	}
	if (manylinux && !m->compatibility) {
		m->compatibility = manylinux;
		manylinux = NULL;
	}
	if (!one_of(m->auditwheel, modes)) {
		sp_err_set(e,
			   WHERE "auditwheel must be \"repair\", \"check\", "
				 "\"skip\" or \"warn\", not \"%s\"",
			   path, m->auditwheel);
		goto fail;
	}
	/* skip-auditwheel = true is maturin's older auditwheel = "skip". */
	if (skip == PP_TRUE) {
		if (m->auditwheel && strcmp(m->auditwheel, "skip") != 0) {
			sp_err_set(e,
				   WHERE "skip-auditwheel = true and "
					 "auditwheel = \"%s\" disagree",
				   path, m->auditwheel);
			goto fail;
		}
		if (!m->auditwheel && !(m->auditwheel = strdup("skip"))) {
			str_oom(e, "read pyproject.toml");
			goto fail;
		}
	}
	if (!one_of(m->sdist_generator, generators)) {
		sp_err_set(e,
			   WHERE "sdist-generator = \"%s\" is not supported: "
				 "spoke's sdist takes the files cargo "
				 "packages (\"cargo\", the default)",
			   path, m->sdist_generator);
		goto fail;
	}
	if (!bindings)
		m->bindings = PP_BINDINGS_AUTO;
	else if (strcmp(bindings, "pyo3") == 0 ||
		 strcmp(bindings, "pyo3-ffi") == 0)
		m->bindings = PP_BINDINGS_PYO3;
	else if (strcmp(bindings, "bin") == 0)
		m->bindings = PP_BINDINGS_BIN;
	else if (strcmp(bindings, "cffi") == 0 ||
		 strcmp(bindings, "uniffi") == 0) {
		sp_err_set(e,
			   WHERE "bindings = \"%s\" is not supported: spoke "
				 "packages PyO3 and raw-FFI extension "
				 "modules (\"pyo3\", \"pyo3-ffi\") and "
				 "programs (\"bin\")",
			   path, bindings);
		goto fail;
	} else {
		sp_err_set(e,
			   WHERE "bindings = \"%s\" is not one of \"pyo3\", "
				 "\"pyo3-ffi\", \"bin\"",
			   path, bindings);
		goto fail;
	}
	free(bindings);
	free(manylinux);
	return 0;
fail:
	free(bindings);
	free(manylinux);
	return -1;
}

/* 1 when dir/src/<name>/__init__.py exists for the project's import
 * name (its name with '-' as '_') or one of python-packages: maturin's
 * sign of the src layout. */
static int src_layout_python(const struct pyproject *pp)
{
	const char *name = str_member(pp->project, "name");
	char *p, *q;
	size_t i;
	int found = 0;

	if (name) {
		p = str_printf("%s/src/%s/__init__.py", pp->dir, name);
		if (p) {
			for (q = p + strlen(pp->dir) + 5; *q; q++)
				if (*q == '-')
					*q = '_';
			found = path_exists(p);
		}
		free(p);
	}
	for (i = 0; !found && i < pp->m.npython_packages; i++) {
		p = str_printf("%s/src/%s/__init__.py", pp->dir,
			       pp->m.python_packages[i]);
		found = p && path_exists(p);
		free(p);
	}
	return found;
}

/* maturin's default python-source: src/ in the src layout (rust/Cargo.toml
 * and the Python package in src/), else the project's folder. */
static char *default_python_source(const struct pyproject *pp)
{
	char *rust = path_join(pp->dir, "rust/Cargo.toml");
	int src = rust && path_exists(rust) && src_layout_python(pp);

	free(rust);
	return src ? path_join(pp->dir, "src") : strdup(pp->dir);
}

char *pyproject_manifest(const struct pyproject *pp, int *nomem)
{
	char *rust;

	*nomem = 0;
	if (pp->m.manifest_path) {
		rust = strdup(pp->m.manifest_path);
		*nomem = !rust;
		return rust;
	}
	rust = path_join(pp->dir, "rust/Cargo.toml");
	if (!rust) {
		*nomem = 1;
		return NULL;
	}
	if (path_exists(rust) &&
	    (pp->m.python_source_set || src_layout_python(pp)))
		return rust;
	free(rust);
	return NULL;
}

char **pyproject_candidates(const char *pkgdir, const char *workspace_root,
			    struct sp_err *e)
{
	char *stop = path_dirname(workspace_root), *dir = strdup(pkgdir);
	char **out = NULL, *p, *up;
	size_t n = 0;

	if (!stop || !dir)
		goto oom;
	out = calloc(1, sizeof(*out));
	if (!out)
		goto oom;
	for (;;) {
		size_t sl = strlen(stop);

		p = path_join(dir, "pyproject.toml");
		if (!p)
			goto oom;
		if (path_exists(p)) {
			char **grown = realloc(out, (n + 2) * sizeof(*out));

			if (!grown) {
				free(p);
				goto oom;
			}
			out = grown;
			out[n++] = p;
			out[n] = NULL;
		} else {
			free(p);
		}
		/* Up one folder, while still below or at stop. */
		if (strcmp(dir, stop) == 0 || strcmp(dir, "/") == 0 ||
		    strncmp(dir, stop, sl) != 0 ||
		    (dir[sl] != '/' && strcmp(stop, "/") != 0))
			break;
		up = path_dirname(dir);
		if (!up)
			goto oom;
		free(dir);
		dir = up;
	}
	free(stop);
	free(dir);
	return out;
oom:
	free(stop);
	free(dir);
	pyproject_paths_free(out);
	str_oom(e, "look for pyproject.toml");
	return NULL;
}

void pyproject_paths_free(char **paths)
{
	size_t i;

	for (i = 0; paths && paths[i]; i++)
		free(paths[i]);
	free(paths);
}

int pyproject_configures(const struct pyproject *pp, const char *manifest)
{
	char *dir = path_dirname(manifest), *rust;
	int r;

	if (!dir)
		return 0;
	r = path_same_file(dir, pp->dir);
	free(dir);
	if (r)
		return 1; /* (a) beside the Cargo.toml */
	if (pp->m.manifest_path)
		return path_same_file(pp->m.manifest_path, manifest); /* (b) */
	rust = path_join(pp->dir, "rust/Cargo.toml");
	r = rust && path_same_file(rust, manifest); /* (c) */
	free(rust);
	return r;
}

int pyproject_parse(const json_t *doc, const char *path, struct pyproject *pp,
		    struct sp_err *e)
{
	const json_t *project = json_object_get(doc, "project");
	const json_t *tool = json_object_get(doc, "tool");
	const json_t *bs = json_object_get(doc, "build-system");
	const json_t *maturin = json_object_get(tool, "maturin");
	const json_t *backend = json_object_get(bs, "build-backend");

	memset(pp, 0, sizeof(*pp));
	pp->m.all_features = pp->m.no_default_features = PP_UNSET;
	pp->m.locked = pp->m.frozen = pp->m.strip = PP_UNSET;
	if (!json_is_object(doc))
		return sp_err_set(e, "%s: not a TOML document", path);
	pp->path = strdup(path);
	pp->dir = path_dirname(path);
	if (!pp->path || !pp->dir) {
		str_oom(e, "read pyproject.toml");
		goto fail;
	}
	if (project && !json_is_object(project)) {
		sp_err_set(e, "%s: [project] is not a table", path);
		goto fail;
	}
	if (tool && !json_is_object(tool)) {
		sp_err_set(e, "%s: [tool] is not a table", path);
		goto fail;
	}
	if (maturin && !json_is_object(maturin)) {
		sp_err_set(e, "%s: [tool.maturin] is not a table", path);
		goto fail;
	}
	if (backend && !json_is_string(backend)) {
		sp_err_set(e, "%s: [build-system] build-backend is not a string",
			   path);
		goto fail;
	}
	pp->project = json_incref((json_t *)project);
	if (backend && !(pp->backend = strdup(json_string_value(backend)))) {
		str_oom(e, "read pyproject.toml");
		goto fail;
	}
	pp->has_maturin = maturin != NULL;
	pp->maturin = pp->has_maturin ||
		      (pp->backend && strcmp(pp->backend, "maturin") == 0);
	if (maturin && parse_maturin(maturin, path, pp->dir, &pp->m, e) < 0)
		goto fail;
	if (!pp->m.python_source &&
	    !(pp->m.python_source = default_python_source(pp))) {
		str_oom(e, "read pyproject.toml");
		goto fail;
	}
	return 0;
fail:
	pyproject_release(pp);
	return -1;
}

static void free_globs(struct pp_glob *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(g[i].path);
		free(g[i].to);
		free(g[i].crate_name);
	}
	free(g);
}

void pyproject_release(struct pyproject *pp)
{
	struct pp_maturin *m = &pp->m;

	free(pp->path);
	free(pp->dir);
	json_decref(pp->project);
	free(pp->backend);
	free(m->module_name);
	free(m->python_source);
	free_strings(m->python_packages, m->npython_packages);
	free(m->manifest_path);
	free_strings(m->features, m->nfeatures);
	free(m->profile);
	free_globs(m->include, m->ninclude);
	free_globs(m->exclude, m->nexclude);
	free(m->data);
	free(m->compatibility);
	free(m->auditwheel);
	free(m->sdist_generator);
	free_strings(m->config, m->nconfig);
	free(m->editable_profile);
	memset(pp, 0, sizeof(*pp));
}
