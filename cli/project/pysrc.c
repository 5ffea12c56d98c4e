/*
 * pysrc.c - the Python side of a mixed Rust/Python package.
 */
#define _GNU_SOURCE
#include "cli/project/pysrc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/project/strutil.h"
#include "common/path.h"
#include "worker/wheel/record.h"

/* A relative path that stays below its base: no leading '/', no "..". */
static int rel_path_ok(const char *p)
{
	const char *c;

	if (!*p || p[0] == '/')
		return 0;
	for (c = p; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
		if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || !c[2]))
			return 0;
	return 1;
}

int pysrc_inside(const char *path, const char *project_root, const char *what,
		 struct sp_err *e)
{
	char *real = realpath(path, NULL), *root = realpath(project_root, NULL);
	size_t n;
	int ret = 0;

	if (!real || !root) {
		ret = sp_err_sys(e, "cannot resolve '%s'",
				 real ? project_root : path);
		goto out;
	}
	n = strlen(root);
	if (strcmp(root, "/") != 0 &&
	    (strncmp(real, root, n) != 0 || (real[n] && real[n] != '/')))
		ret = sp_err_set(e,
				 "%s '%s' is a symbolic link (or lies below "
				 "one) to '%s', outside the project root "
				 "'%s': refused, since it would put a file "
				 "from elsewhere on this machine in the "
				 "package",
				 what, path, real, root);
out:
	free(real);
	free(root);
	return ret;
}

static char *top_package(const char *module)
{
	const char *dot = strchr(module, '.');

	return dot ? strndup(module, (size_t)(dot - module)) : strdup(module);
}

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int pysrc_root(const json_t *pkg, const char *pkgdir, const char *module,
	       char **root, struct sp_err *e)
{
	const json_t *spoke =
	    json_object_get(json_object_get(pkg, "metadata"), "spoke");
	const json_t *ps = json_object_get(spoke, "python-source");
	char *top = top_package(module), *dir = NULL, *pdir = NULL;
	char *init = NULL;
	int ret = -1;

	*root = NULL;
	if (!top)
		return str_oom(e, "plan the Python files");
	if (ps) {
		if (!json_is_string(ps) ||
		    !rel_path_ok(json_string_value(ps))) {
			sp_err_set(e,
				   "[package.metadata.spoke] python-source "
				   "must be a relative path inside '%s'",
				   pkgdir);
			goto out;
		}
		dir = path_join(pkgdir, json_string_value(ps));
		pdir = dir ? path_join(dir, top) : NULL;
		if (!pdir) {
			str_oom(e, "plan the Python files");
			goto out;
		}
		if (!is_dir(dir)) {
			sp_err_set(e,
				   "[package.metadata.spoke] python-source "
				   "'%s': no such folder '%s'",
				   json_string_value(ps), dir);
			goto out;
		}
		if (!is_dir(pdir)) {
			sp_err_set(e,
				   "python-source '%s' has no folder '%s' "
				   "for module '%s'",
				   json_string_value(ps), top, module);
			goto out;
		}
		*root = dir;
		dir = NULL;
		ret = 0;
		goto out;
	}
	/* Without the setting, a folder that is a regular package named
	 * after the module is the convention; a mere folder of that name
	 * (a Rust module, say) is not taken. */
	pdir = path_join(pkgdir, top);
	init = pdir ? path_join(pdir, "__init__.py") : NULL;
	if (!init) {
		str_oom(e, "plan the Python files");
		goto out;
	}
	if (path_exists(init)) {
		*root = strdup(pkgdir);
		if (!*root) {
			str_oom(e, "plan the Python files");
			goto out;
		}
	}
	ret = 0;
out:
	free(top);
	free(dir);
	free(pdir);
	free(init);
	return ret;
}

static int skipped(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' || strcmp(name, "__pycache__") == 0 ||
	       (n > 4 && (strcmp(name + n - 4, ".pyc") == 0 ||
			  strcmp(name + n - 4, ".pyo") == 0)) ||
	       (n > 3 && strcmp(name + n - 3, ".so") == 0);
}

int pysrc_walk(const struct pysrc_walk *w, const char *abs, const char *rel,
	       int depth, struct sp_err *e)
{
	DIR *d;
	struct dirent *de;
	int ret = -1;

	/* Links are not followed into folders, so this bounds a
	 * pathological tree rather than a loop. */
	if (depth > 64)
		return sp_err_set(e, "%s folder '%s' is nested too deep",
				  w->what, abs);
	d = opendir(abs);
	if (!d)
		return sp_err_sys(e, "cannot read %s folder '%s'", w->what,
				  abs);
	for (;;) {
		struct stat lst, st;
		char *s, *t;
		int r = 0;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				sp_err_sys(e, "cannot read '%s'", abs);
				goto out;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (w->skip && w->skip(de->d_name)))
			continue;
		s = path_join(abs, de->d_name);
		t = !s	   ? NULL
		    : *rel ? path_join(rel, de->d_name)
			   : strdup(de->d_name);
		if (!t) {
			free(s);
			str_oom(e, "list the files");
			goto out;
		}
		if (lstat(s, &lst) < 0 || stat(s, &st) < 0) {
			r = sp_err_sys(e, "cannot stat '%s'", s);
		} else if (S_ISLNK(lst.st_mode) &&
			   pysrc_inside(s, w->project_root, w->what, e) < 0) {
			r = -1;
		} else if (S_ISDIR(st.st_mode) && S_ISLNK(lst.st_mode)) {
			if (w->links_to_dirs)
				r = sp_err_set(e,
					       "%s '%s' is a symbolic link to "
					       "a folder: link the files "
					       "instead",
					       w->what, s);
		} else if (S_ISDIR(st.st_mode)) {
			if (depth + 1 < w->max_depth)
				r = pysrc_walk(w, s, t, depth + 1, e);
		} else if (S_ISREG(st.st_mode)) {
			r = w->fn(s, t, w->arg, e);
		}
		free(s);
		free(t);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	closedir(d);
	return ret;
}

/* A Python source file: its name must be one a wheel can hold. */
static int python_file(const char *abs, const char *rel, void *arg,
		       struct sp_err *e)
{
	json_t *f;

	if (record_name_ok(rel, "python source", e) < 0)
		return sp_err_wrap(e, "'%s'", abs);
	f = json_pack("{s:s, s:s}", "src", abs, "dst", rel);
	if (!f || json_array_append_new((json_t *)arg, f) < 0)
		return sp_err_set(e,
				  "cannot list '%s' (not UTF-8, or out of "
				  "memory)",
				  abs);
	return 0;
}

static int by_dst(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;

	return strcmp(str_member(x, "dst"), str_member(y, "dst"));
}

int pysrc_sort_by_dst(json_t *a, struct sp_err *e)
{
	size_t n = json_array_size(a), i;
	json_t **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return str_oom(e, "sort the files");
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof(*v), by_dst);
	json_array_clear(a);
	for (i = 0; i < n; i++)
		json_array_append_new(a, v[i]);
	free(v);
	return json_array_size(a) == n ? 0 : str_oom(e, "sort the files");
}

int pysrc_list(const char *root, const char *module, const char *project_root,
	       json_t **files, struct sp_err *e)
{
	char *top = top_package(module), *dir;
	struct pysrc_walk w = {project_root, "python source", 0,
			       INT_MAX,	     python_file,     NULL,
			       skipped};
	int ret = -1;

	*files = json_array();
	w.arg = *files;
	dir = top ? path_join(root, top) : NULL;
	if (!*files || !dir) {
		str_oom(e, "plan the Python files");
		goto out;
	}
	/* The package folder itself may be the link (a symlinked top-level
	 * package once pulled all of /etc/ssl into a wheel). */
	if (pysrc_inside(dir, project_root, "python package folder", e) < 0 ||
	    pysrc_walk(&w, dir, top, 0, e) < 0 ||
	    pysrc_sort_by_dst(*files, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		json_decref(*files);
		*files = NULL;
	}
	free(top);
	free(dir);
	return ret;
}

/* ---- entry points ---- */

/* Names and groups are INI keys and section names; values are
 * "module:attr [extras]". */
static int name_ok(const char *s)
{
	return *s && !strpbrk(s, "\r\n[]=");
}

static int value_ok(const char *s)
{
	return *s && !strpbrk(s, "\r\n=");
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends "[group]\nname = value\n..." for the table t, names sorted. */
static int add_group(FILE *f, const char *group, const json_t *t,
		     struct sp_err *e)
{
	const char **keys;
	const char *k;
	json_t *v;
	size_t n = 0, i;

	if (!t)
		return 0;
	if (!json_is_object(t))
		return sp_err_set(e,
				  "pyproject entry points '%s' must be a "
				  "table",
				  group);
	if (!json_object_size(t))
		return 0;
	keys = calloc(json_object_size(t), sizeof(*keys));
	if (!keys)
		return str_oom(e, "plan the Python files");
	json_object_foreach((json_t *)t, k, v)
	{
		if (!json_is_string(v) || !name_ok(k) ||
		    !value_ok(json_string_value(v))) {
			free(keys);
			return sp_err_set(e,
					  "entry point '%s' in group '%s' "
					  "must be a one-line 'module:attr' "
					  "string",
					  k, group);
		}
		keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), by_string);
	fprintf(f, "[%s]\n", group);
	for (i = 0; i < n; i++)
		fprintf(f, "%s = %s\n", keys[i],
			json_string_value(json_object_get(t, keys[i])));
	fprintf(f, "\n");
	free(keys);
	return 0;
}

/* The entry_points.txt text (malloc'd), or NULL in *text when empty. */
static int entry_points(const json_t *proj, char **text, struct sp_err *e)
{
	const json_t *eps = json_object_get(proj, "entry-points");
	const char **groups = NULL;
	const char *g;
	size_t len = 0, n = 0, i;
	json_t *t;
	FILE *f;
	int ret = -1;

	*text = NULL;
	f = open_memstream(text, &len);
	if (!f)
		return str_oom(e, "plan the Python files");
	if (eps && !json_is_object(eps)) {
		sp_err_set(e, "[project.entry-points] must be a table");
		goto out;
	}
	if (add_group(f, "console_scripts", json_object_get(proj, "scripts"),
		      e) < 0 ||
	    add_group(f, "gui_scripts", json_object_get(proj, "gui-scripts"),
		      e) < 0)
		goto out;
	groups = calloc(json_object_size(eps) + 1, sizeof(*groups));
	if (!groups) {
		str_oom(e, "plan the Python files");
		goto out;
	}
	json_object_foreach((json_t *)eps, g, t)
	{
		/* PEP 621: these two groups have their own tables. */
		if (strcmp(g, "console_scripts") == 0 ||
		    strcmp(g, "gui_scripts") == 0 || !name_ok(g)) {
			sp_err_set(e,
				   "[project.entry-points] may not hold "
				   "group '%s'",
				   g);
			goto out;
		}
		groups[n++] = g;
	}
	qsort(groups, n, sizeof(*groups), by_string);
	for (i = 0; i < n; i++)
		if (add_group(f, groups[i], json_object_get(eps, groups[i]),
			      e) < 0)
			goto out;
	ret = 0;
out:
	free(groups);
	if (fclose(f) != 0 && ret == 0)
		ret = str_oom(e, "plan the Python files");
	if (ret < 0 || !len) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

int pysrc_plan(json_t *job, const json_t *pkg, const char *pkgdir,
	       const json_t *proj, const char *module, const char *project_root,
	       struct sp_err *e)
{
	char *root = NULL, *eps = NULL;
	json_t *files = NULL;
	int ret = -1;

	/* A package under maturin's rules has its Python side planned
	 * already (layout.h); spoke's own rules would look elsewhere. */
	if (!json_object_get(job, "python_files") &&
	    pysrc_root(pkg, pkgdir, module, &root, e) < 0)
		goto out;
	if (root && pysrc_list(root, module, project_root, &files, e) < 0)
		goto out;
	if (files && json_object_set(job, "python_files", files) < 0) {
		str_oom(e, "plan the Python files");
		goto out;
	}
	if (entry_points(proj, &eps, e) < 0)
		goto out;
	if (eps &&
	    json_object_set_new(job, "entry_points", json_string(eps)) < 0) {
		sp_err_set(e, "entry points are not UTF-8");
		goto out;
	}
	ret = 0;
out:
	free(root);
	free(eps);
	json_decref(files);
	return ret;
}
