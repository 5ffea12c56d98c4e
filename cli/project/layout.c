/*
 * layout.c - a package's wheel under maturin's rules.
 */
#define _GNU_SOURCE
#include "cli/project/layout.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/project/pathglob.h"
#include "cli/project/pysrc.h"
#include "cli/project/strutil.h"
#include "common/path.h"
#include "worker/wheel/record.h"

/* Only links are not followed into folders, so this bounds a
 * pathological tree rather than a loop. */
#define MAX_DEPTH 64

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

enum layout_kind layout_decide(const char *python_root, const char *module,
			       int *in_package)
{
	const char *dot = strchr(module, '.');
	char *top =
	    dot ? strndup(module, (size_t)(dot - module)) : strdup(module);
	char *pkg = top ? path_join(python_root, top) : NULL;
	char *init = pkg ? path_join(pkg, "__init__.py") : NULL;
	char *cargo = pkg ? path_join(pkg, "Cargo.toml") : NULL;
	enum layout_kind k = LAYOUT_PURE;

	*in_package = 0;
	/* A folder named after the module that holds a Cargo.toml and no
	 * __init__.py is a Rust crate of that name, not Python. */
	if (init && cargo && is_dir(pkg) &&
	    (is_file(init) || !path_exists(cargo))) {
		k = LAYOUT_MIXED;
		*in_package = !dot;
	} else if (!dot) {
		k = LAYOUT_PURE_PACKAGE;
		*in_package = 1;
	}
	free(top);
	free(pkg);
	free(init);
	free(cargo);
	return k;
}

char *layout_init_py(const char *ext)
{
	/* The extension is the package's only content: the package takes
	 * its names, and its docstring and __all__ so that help() and
	 * star-imports read as they would from the extension itself. */
	return str_printf("# Written by spoke: the extension module '%s' "
			  "lives in this package.\n"
			  "from .%s import *\n"
			  "from . import %s as _ext\n"
			  "\n"
			  "__doc__ = _ext.__doc__\n"
			  "if hasattr(_ext, \"__all__\"):\n"
			  "    __all__ = _ext.__all__\n"
			  "del _ext\n",
			  ext, ext, ext);
}

/* ---- the file list ---- */

/* The files planned so far: {"dst", "src" or "text"}, one per dst. */
struct plan_files {
	json_t *py;   /* python_files */
	json_t *data; /* data_files */
};

/* Adds one file; a second file for the same place is an error unless it
 * is the same file found twice (an include naming a package file). */
static int add_file(json_t *list, const char *src, const char *text,
		    const char *dst, const char *what, struct sp_err *e)
{
	json_t *x, *f;
	size_t i;

	json_array_foreach(list, i, x)
	{
		const char *other = str_member(x, "src");
		struct stat a, b;

		if (strcmp(str_member(x, "dst"), dst) != 0)
			continue;
		if (src && other && stat(src, &a) == 0 &&
		    stat(other, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return 0;
		return sp_err_set(e,
				  "%s '%s' and '%s' would both be '%s' in the "
				  "wheel",
				  what, src ? src : "(generated)",
				  other ? other : "(generated)", dst);
	}
	if (record_name_ok(dst, what, e) < 0)
		return -1;
	f = src ? json_pack("{s:s, s:s}", "src", src, "dst", dst)
		: json_pack("{s:s, s:s}", "text", text, "dst", dst);
	if (!f || json_array_append_new(list, f) < 0)
		return sp_err_set(e,
				  "cannot list '%s' (not UTF-8, or out of "
				  "memory)",
				  src ? src : dst);
	return 0;
}

/* Appends pysrc_list()'s files of package top under root. */
static int add_package(json_t *list, const char *root, const char *top,
		       const char *project_root, struct sp_err *e)
{
	json_t *files = NULL, *x;
	size_t i;
	int ret = 0;

	if (pysrc_list(root, top, project_root, &files, e) < 0)
		return -1;
	json_array_foreach(files, i, x)
	{
		if (add_file(list, str_member(x, "src"), NULL,
			     str_member(x, "dst"), "python source", e) < 0) {
			ret = -1;
			break;
		}
	}
	json_decref(files);
	return ret;
}

/* ---- include ---- */

/* What layout_include_walk() hands the walker: the pattern, and whom to
 * tell of each file it matches. */
struct match_walk {
	const char *pattern;
	pysrc_file_fn fn;
	void *arg;
};

static int match_file(const char *abs, const char *rel, void *arg,
		      struct sp_err *e)
{
	struct match_walk *mw = arg;

	return pathglob_match(mw->pattern, rel) ? mw->fn(abs, rel, mw->arg, e)
						: 0;
}

int layout_include_walk(const char *pattern, const char *base,
			const char *project_root, pysrc_file_fn fn, void *arg,
			struct sp_err *e)
{
	size_t pre = pathglob_literal_prefix(pattern), ncomp = 1;
	char *start = NULL, *rel = strndup(pattern, pre);
	const char *c;
	struct match_walk mw = {pattern, fn, arg};
	struct pysrc_walk w = {project_root, "included file", 0, MAX_DEPTH,
			       match_file,   &mw,	      NULL};
	int ret = -1;

	/* Without "**" a pattern of n components needs no deeper walk. */
	for (c = pattern; (c = strchr(c, '/')); c++)
		ncomp++;
	if (!strstr(pattern, "**"))
		w.max_depth = (int)ncomp;
	start = rel && pre ? path_join(base, rel) : strdup(base);
	if (!rel || !start) {
		str_oom(e, "expand an include pattern");
		goto out;
	}
	/* A literal folder the pattern names that does not exist is a
	 * pattern that matches nothing. */
	if (!is_dir(start)) {
		ret = 0;
		goto out;
	}
	if (pysrc_inside(start, project_root, "included folder", e) < 0)
		goto out;
	{
		int depth = 0;

		for (c = rel; pre && c; c = strchr(c, '/'), c = c ? c + 1 : c)
			depth++;
		ret = pysrc_walk(&w, start, rel, depth, e);
	}
out:
	free(start);
	free(rel);
	return ret;
}

struct include_walk {
	const char *py_root; /* python-source, real path */
	const char *pp_dir;  /* the pyproject's folder, real path */
	json_t *list;
	size_t found;
};

static int include_file(const char *abs, const char *rel, void *arg,
			struct sp_err *e)
{
	struct include_walk *iw = arg;
	size_t n = strlen(iw->py_root);
	const char *dst = rel;

	iw->found++;
	/* A file in python-source goes where its package goes, whichever
	 * folder the pattern matched it from. */
	if (strcmp(iw->py_root, iw->pp_dir) != 0 &&
	    strncmp(abs, iw->py_root, n) == 0 && abs[n] == '/')
		dst = abs + n + 1;
	return add_file(iw->list, abs, NULL, dst, "included file", e);
}

/* ---- include from a build script's OUT_DIR ---- */

/* The package name in a cargo package id: "path+file:///p/name#1.0",
 * "registry+...#name@1.0", or the older "name 1.0 (source)" (malloc'd;
 * NULL when out of memory). */
static char *pkgid_name(const char *id)
{
	const char *hash = strchr(id, '#'), *at, *start;

	if (!hash) {
		const char *sp = strchr(id, ' ');

		return sp ? strndup(id, (size_t)(sp - id)) : strdup(id);
	}
	at = strchr(hash, '@');
	if (at)
		return strndup(hash + 1, (size_t)(at - hash - 1));
	for (start = hash; start > id && start[-1] != '/'; start--)
		;
	return strndup(start, (size_t)(hash - start));
}

/* Cargo package names compare with '-' and '_' alike, as crate names. */
static int same_crate(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !(strchr("-_", *a) && strchr("-_", *b)))
			return 0;
	return *a == *b;
}

/* The OUT_DIR of crate (NULL: the package pkg_id itself), or NULL. */
static const char *find_out_dir(const json_t *out_dirs, const char *pkg_id,
				const char *crate, int *nomem)
{
	const char *id, *found = NULL;
	json_t *v;

	*nomem = 0;
	if (!crate)
		return pkg_id ? str_member(out_dirs, pkg_id) : NULL;
	json_object_foreach((json_t *)out_dirs, id, v)
	{
		char *name = pkgid_name(id);

		if (!name) {
			*nomem = 1;
			return NULL;
		}
		if (same_crate(name, crate))
			found = json_string_value(v);
		free(name);
		if (found)
			break;
	}
	return found;
}

struct out_dir_walk {
	const char *pattern;
	const char *to; /* the wheel folder, "" for the root */
	json_t *list;
};

static int out_dir_file(const char *abs, const char *rel, void *arg,
			struct sp_err *e)
{
	struct out_dir_walk *ow = arg;
	size_t n = strlen(ow->to);
	char *dst;
	int r;

	if (!pathglob_match(ow->pattern, rel))
		return 0;
	dst = str_printf("%s%s%s", ow->to, n && ow->to[n - 1] != '/' ? "/" : "",
			 rel);
	if (!dst)
		return str_oom(e, "plan the wheel's files");
	r = add_file(ow->list, abs, NULL, dst, "OUT_DIR file", e);
	free(dst);
	return r;
}

/* include = [{path, from = "out-dir", to}]: files a build script wrote
 * to its OUT_DIR, put in the wheel folder to.  Links out of that OUT_DIR
 * are refused. */
static int include_out_dir(const struct pp_glob *g, const json_t *out_dirs,
			   const char *pkg_id, json_t *list, struct sp_err *e)
{
	struct out_dir_walk ow = {g->path, g->to, list};
	struct pysrc_walk w = {
	    NULL, "OUT_DIR file", 0, MAX_DEPTH, out_dir_file, &ow, NULL};
	const char *dir;
	int nomem;

	if (strcmp(g->to, "/") == 0)
		ow.to = "";
	if (pathglob_check(g->path, "include", e) < 0 ||
	    (*ow.to && pathglob_check(ow.to, "include", e) < 0))
		return -1;
	dir = find_out_dir(out_dirs, pkg_id, g->crate_name, &nomem);
	if (nomem)
		return str_oom(e, "plan the wheel's files");
	if (!dir)
		return sp_err_set(
		    e,
		    "[tool.maturin] include '%s' from out-dir: "
		    "crate '%s' has no OUT_DIR (it needs a "
		    "build script, build.rs)",
		    g->path, g->crate_name ? g->crate_name : "of the package");
	w.project_root = dir;
	return pysrc_walk(&w, dir, "", 0, e);
}

static int plan_includes(const struct pyproject *pp, const char *pp_dir,
			 const char *py_root, const char *project_root,
			 const json_t *out_dirs, const char *pkg_id,
			 json_t *list, struct sp_err *e)
{
	size_t i;

	for (i = 0; i < pp->m.ninclude; i++) {
		const struct pp_glob *g = &pp->m.include[i];
		struct include_walk iw = {py_root, pp_dir, list, 0};

		if (g->to) {
			if (include_out_dir(g, out_dirs, pkg_id, list, e) < 0)
				return -1;
			continue;
		}
		if (g->format == PP_FORMAT_SDIST)
			continue;

		if (pathglob_check(g->path, "include", e) < 0)
			return -1;
		if (layout_include_walk(g->path, pp_dir, project_root,
					include_file, &iw, e) < 0)
			return -1;
		/* maturin tries python-source when the pyproject's folder
		 * gave nothing, so that one pattern serves the sdist and
		 * the wheel. */
		if (!iw.found && strcmp(py_root, pp_dir) != 0 &&
		    layout_include_walk(g->path, py_root, project_root,
					include_file, &iw, e) < 0)
			return -1;
	}
	return 0;
}

/* ---- exclude ---- */

/* Drops from list every file an exclude pattern names, by its path below
 * the pyproject's folder or by its place in the wheel (prefix: the
 * folder of the list's dst in the wheel, "" or ".data/"). */
static int apply_excludes(json_t *list, const char *const *pats, size_t n,
			  const char *pp_dir, const char *prefix,
			  struct sp_err *e)
{
	size_t i = 0, len = strlen(pp_dir);

	while (i < json_array_size(list)) {
		const json_t *x = json_array_get(list, i);
		const char *src = str_member(x, "src");
		char *dst = str_printf("%s%s", prefix, str_member(x, "dst"));
		int out;

		if (!dst)
			return str_oom(e, "plan the wheel's files");
		out =
		    pathglob_excluded(pats, n, dst) ||
		    (src && strncmp(src, pp_dir, len) == 0 && src[len] == '/' &&
		     pathglob_excluded(pats, n, src + len + 1));
		free(dst);
		/* A generated file is the tool's, not the project's. */
		if (out && src)
			json_array_remove(list, i);
		else
			i++;
	}
	return 0;
}

/* ---- data ---- */

static int data_file(const char *abs, const char *rel, void *arg,
		     struct sp_err *e)
{
	return add_file(arg, abs, NULL, rel, "data file", e);
}

static int plan_data(const char *data, const char *project_root, json_t *list,
		     struct sp_err *e)
{
	static const char *const schemes[] = {"data", "scripts", "headers",
					      "purelib", "platlib"};
	struct pysrc_walk w = {project_root, "data file", 1,   MAX_DEPTH,
			       data_file,    list,	  NULL};
	DIR *d;
	struct dirent *de;
	int ret = -1;

	if (pysrc_inside(data, project_root, "data folder", e) < 0)
		return -1;
	d = opendir(data);
	if (!d)
		return sp_err_sys(e, "cannot read data folder '%s'", data);
	for (;;) {
		char *s;
		size_t i;
		int known = 0, r;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				sp_err_sys(e, "cannot read '%s'", data);
				goto out;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		for (i = 0; i < sizeof(schemes) / sizeof(*schemes); i++)
			known |= strcmp(de->d_name, schemes[i]) == 0;
		s = path_join(data, de->d_name);
		if (!s) {
			str_oom(e, "plan the wheel's files");
			goto out;
		}
		if (!known || !is_dir(s)) {
			sp_err_set(e,
				   "data folder entry '%s' is not one of the "
				   "folders data, scripts, headers, purelib "
				   "and platlib",
				   s);
			free(s);
			goto out;
		}
		r = pysrc_inside(s, project_root, "data folder", e);
		if (r == 0)
			r = pysrc_walk(&w, s, de->d_name, 1, e);
		free(s);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	closedir(d);
	return ret;
}

/* ---- the plan ---- */

/* A python-packages name: one folder name below python-source. */
static int package_name_ok(const char *p)
{
	return *p && !strchr(p, '/') && strcmp(p, ".") != 0 &&
	       strcmp(p, "..") != 0;
}

/* Adds "<module>/<name>" from src, or with text. */
static int add_generated(json_t *list, const char *module, const char *name,
			 const char *src, const char *text, struct sp_err *e)
{
	char *dst = str_printf("%s/%s", module, name);
	int r;

	if (!dst)
		return str_oom(e, "plan the wheel's files");
	r = add_file(list, src, text, dst, src ? "type stub" : "python file",
		     e);
	free(dst);
	return r;
}

static int plan_python(const struct pyproject *pp, const char *module,
		       const char *pp_dir, const char *py_root,
		       const char *project_root, int program, json_t *list,
		       int *in_package, struct sp_err *e)
{
	const char *dot = strchr(module, '.');
	char *top =
	    dot ? strndup(module, (size_t)(dot - module)) : strdup(module);
	char *stub = NULL, *init = NULL;
	enum layout_kind k;
	size_t i;
	int ret = -1;

	if (!top)
		return str_oom(e, "plan the wheel's files");
	k = layout_decide(py_root, module, in_package);
	/* A program's wheel (binplan.h) holds no extension: without Python
	 * sources there is no package to make. */
	if (k == LAYOUT_PURE_PACKAGE && program) {
		k = LAYOUT_PURE;
		*in_package = 0;
	}
	if (k != LAYOUT_MIXED && pp->m.python_source_set) {
		sp_err_set(e,
			   "[tool.maturin] python-source '%s' has no Python "
			   "package '%s' for module '%s' (in '%s')",
			   pp->m.python_source, top, module, pp->path);
		goto out;
	}
	if (k == LAYOUT_MIXED) {
		if (add_package(list, py_root, top, project_root, e) < 0)
			goto out;
		for (i = 0; i < pp->m.npython_packages; i++) {
			const char *p = pp->m.python_packages[i];
			char *dir;
			int there;

			if (!package_name_ok(p)) {
				sp_err_set(e,
					   "[tool.maturin] python-packages "
					   "entry '%s' must be a folder name "
					   "in python-source (in '%s')",
					   p, pp->path);
				goto out;
			}
			if (strcmp(p, top) == 0)
				continue;
			dir = path_join(py_root, p);
			there = dir && is_dir(dir);
			free(dir);
			/* maturin ships what exists and says nothing of
			 * a name without a folder. */
			if (there &&
			    add_package(list, py_root, p, project_root, e) < 0)
				goto out;
		}
	} else if (k == LAYOUT_PURE_PACKAGE) {
		stub = str_printf("%s/%s.pyi", pp_dir, module);
		init = layout_init_py(module);
		if (!stub || !init) {
			str_oom(e, "plan the wheel's files");
			goto out;
		}
		if (add_generated(list, module, "__init__.py", NULL, init, e) <
		    0)
			goto out;
		/* A stub beside pyproject.toml types the package. */
		if (path_exists(stub) &&
		    (pysrc_inside(stub, project_root, "type stub", e) < 0 ||
		     add_generated(list, module, "__init__.pyi", stub, NULL,
				   e) < 0 ||
		     add_generated(list, module, "py.typed", NULL, "", e) < 0))
			goto out;
	}
	ret = 0;
out:
	free(top);
	free(stub);
	free(init);
	return ret;
}

char *layout_project_root(const char *pp_dir, const char *workspace_root)
{
	size_t n = strlen(workspace_root);

	while (n > 1 && workspace_root[n - 1] == '/')
		n--;
	if (strncmp(pp_dir, workspace_root, n) == 0 &&
	    (pp_dir[n] == '/' || pp_dir[n] == '\0'))
		return strndup(workspace_root, n);
	return strdup(pp_dir);
}

int layout_plan(json_t *job, const struct pyproject *pp, const char *module,
		const char *project_root, const json_t *out_dirs,
		const char *pkg_id, struct sp_err *e)
{
	json_t *py = json_array(), *data = json_array();
	const char **pats = NULL;
	char *pp_dir = NULL, *py_root = NULL, *data_dir = NULL;
	const char *src_root =
	    pp->m.python_source ? pp->m.python_source : pp->dir;
	size_t i, npats = 0;
	int in_package = 0, ret = -1;

	if (!py || !data) {
		str_oom(e, "plan the wheel's files");
		goto out;
	}
	if (!is_dir(src_root)) {
		sp_err_set(e,
			   "[tool.maturin] python-source '%s' is not a folder "
			   "(in '%s')",
			   src_root, pp->path);
		goto out;
	}
	/* python-source may lead out of the crate's folder ("../src", the
	 * src layout), but not out of the project. */
	if (pysrc_inside(pp->dir, project_root, "pyproject folder", e) < 0 ||
	    pysrc_inside(src_root, project_root, "python-source folder", e) < 0)
		goto out;
	pp_dir = realpath(pp->dir, NULL);
	py_root = realpath(src_root, NULL);
	if (!pp_dir || !py_root) {
		sp_err_sys(e, "cannot resolve '%s'",
			   pp_dir ? src_root : pp->dir);
		goto out;
	}
	if (plan_python(pp, module, pp_dir, py_root, project_root,
			json_object_get(job, "program") != NULL, py,
			&in_package, e) < 0 ||
	    plan_includes(pp, pp_dir, py_root, project_root, out_dirs, pkg_id,
			  py, e) < 0)
		goto out;

	if (pp->m.data) {
		if (!is_dir(pp->m.data)) {
			sp_err_set(e,
				   "[tool.maturin] data '%s' is not a folder "
				   "(in '%s')",
				   pp->m.data, pp->path);
			goto out;
		}
		data_dir = strdup(pp->m.data);
	} else {
		data_dir = str_printf("%s/%s.data", pp_dir, module);
		if (data_dir && !is_dir(data_dir)) {
			free(data_dir);
			data_dir = strdup("");
		}
	}
	if (!data_dir) {
		str_oom(e, "plan the wheel's files");
		goto out;
	}
	if (*data_dir && plan_data(data_dir, project_root, data, e) < 0)
		goto out;

	pats = calloc(pp->m.nexclude + 1, sizeof(*pats));
	if (!pats) {
		str_oom(e, "plan the wheel's files");
		goto out;
	}
	for (i = 0; i < pp->m.nexclude; i++) {
		if (pp->m.exclude[i].format == PP_FORMAT_SDIST)
			continue;
		if (pathglob_check(pp->m.exclude[i].path, "exclude", e) < 0)
			goto out;
		pats[npats++] = pp->m.exclude[i].path;
	}
	if (apply_excludes(py, pats, npats, pp_dir, "", e) < 0 ||
	    apply_excludes(data, pats, npats, pp_dir, "", e) < 0 ||
	    pysrc_sort_by_dst(py, e) < 0 || pysrc_sort_by_dst(data, e) < 0)
		goto out;
	if (json_object_set(job, "python_files", py) < 0 ||
	    (json_array_size(data) &&
	     json_object_set(job, "data_files", data) < 0) ||
	    (in_package &&
	     json_object_set_new(job, "module_in_package", json_true()) < 0)) {
		str_oom(e, "plan the wheel's files");
		goto out;
	}
	ret = 0;
out:
	json_decref(py);
	json_decref(data);
	free(pats);
	free(pp_dir);
	free(py_root);
	free(data_dir);
	return ret;
}
