/*
 * license.c - a package's license expression and license files (PEP 639).
 */
#define _GNU_SOURCE
#include "cli/project/license.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/project/pysrc.h"
#include "cli/project/strutil.h"
#include "common/path.h"
#include "worker/wheel/record.h"

/* ---- SPDX license expressions ---- */

/* The tokens of an expression: "(", ")" and words. */
struct spdx {
	char **tok;
	size_t n, i;
	const char *src;
	struct sp_err *e;
};

static int spdx_tokenize(struct spdx *x)
{
	const char *p = x->src, *q;
	char **nt;

	while (*p) {
		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (*p == '(' || *p == ')')
			q = p + 1;
		else
			for (q = p; *q && !isspace((unsigned char)*q) &&
				    *q != '(' && *q != ')';
			     q++)
				;
		nt = realloc(x->tok, (x->n + 1) * sizeof(*nt));
		if (!nt)
			return -1;
		x->tok = nt;
		x->tok[x->n] = strndup(p, (size_t)(q - p));
		if (!x->tok[x->n])
			return -1;
		x->n++;
		p = q;
	}
	return 0;
}

/* An operator in either of the two cases SPDX allows; 0 for other words. */
static int spdx_op(const char *w, const char *upper)
{
	size_t i;
	int up = 1, low = 1;

	if (strlen(w) != strlen(upper))
		return 0;
	for (i = 0; w[i]; i++) {
		up &= w[i] == upper[i];
		low &= w[i] == tolower((unsigned char)upper[i]);
	}
	return up || low;
}

static int is_operator(const char *w)
{
	return spdx_op(w, "AND") || spdx_op(w, "OR") || spdx_op(w, "WITH");
}

/* idstring: letters, digits, '.' and '-', at least one. */
static int idstring(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

/* A license reference: "ID", "ID+", "LicenseRef-X" or
 * "DocumentRef-X:LicenseRef-Y". */
static int license_word(const char *w)
{
	const char *colon = strchr(w, ':');
	size_t n = strlen(w);

	if (is_operator(w))
		return 0;
	if (colon)
		return strncmp(w, "DocumentRef-", 12) == 0 &&
		       idstring(w + 12, (size_t)(colon - w - 12)) &&
		       strncmp(colon + 1, "LicenseRef-", 11) == 0 &&
		       idstring(colon + 12, strlen(colon + 12));
	if (n > 1 && w[n - 1] == '+')
		n--;
	return idstring(w, n);
}

static const char *spdx_peek(const struct spdx *x)
{
	return x->i < x->n ? x->tok[x->i] : NULL;
}

static int spdx_fail(struct spdx *x, const char *why)
{
	const char *at = spdx_peek(x);

	if (at)
		return sp_err_set(x->e,
				  "'%s' is not an SPDX license expression: %s "
				  "at '%s'",
				  x->src, why, at);
	return sp_err_set(x->e,
			  "'%s' is not an SPDX license expression: %s at its "
			  "end",
			  x->src, why);
}

static int spdx_compound(struct spdx *x);

/* term := "(" compound ")" | license ["WITH" exception] */
static int spdx_term(struct spdx *x)
{
	const char *t = spdx_peek(x);

	if (t && strcmp(t, "(") == 0) {
		x->i++;
		if (spdx_compound(x) < 0)
			return -1;
		t = spdx_peek(x);
		if (!t || strcmp(t, ")") != 0)
			return spdx_fail(x, "a ')' is missing");
		x->i++;
		return 0;
	}
	if (!t || !license_word(t))
		return spdx_fail(x, "a license id is expected");
	x->i++;
	t = spdx_peek(x);
	if (t && spdx_op(t, "WITH")) {
		x->i++;
		t = spdx_peek(x);
		if (!t || strchr(t, '+') || !license_word(t))
			return spdx_fail(x, "an exception id is expected");
		x->i++;
	}
	return 0;
}

/* compound := term (("AND" | "OR") term)* */
static int spdx_compound(struct spdx *x)
{
	const char *t;

	if (spdx_term(x) < 0)
		return -1;
	while ((t = spdx_peek(x)) && (spdx_op(t, "AND") || spdx_op(t, "OR"))) {
		x->i++;
		if (spdx_term(x) < 0)
			return -1;
	}
	return 0;
}

char *license_expression_normalize(const char *s, struct sp_err *e)
{
	struct spdx x = {.src = s, .e = e};
	char *out = NULL, *o;
	size_t i, len = 0;

	if (spdx_tokenize(&x) < 0) {
		str_oom(e, "read the license");
		goto out;
	}
	if (x.n == 0) {
		sp_err_set(e, "the license expression is empty");
		goto out;
	}
	if (spdx_compound(&x) < 0)
		goto out;
	if (x.i != x.n) {
		spdx_fail(&x, "an operator is expected");
		goto out;
	}
	for (i = 0; i < x.n; i++)
		len += strlen(x.tok[i]) + 1;
	out = o = malloc(len + 1);
	if (!out) {
		str_oom(e, "read the license");
		goto out;
	}
	for (i = 0; i < x.n; i++) {
		const char *t = x.tok[i];

		if (i > 0 && strcmp(t, ")") != 0 &&
		    strcmp(x.tok[i - 1], "(") != 0)
			*o++ = ' ';
		if (is_operator(t))
			for (; *t; t++)
				*o++ = (char)toupper((unsigned char)*t);
		else
			o = stpcpy(o, t);
	}
	*o = '\0';
out:
	for (i = 0; i < x.n; i++)
		free(x.tok[i]);
	free(x.tok);
	return out;
}

/* ---- license files ---- */

/* 1 when p has a ".." component. */
static int has_dotdot(const char *p)
{
	const char *c;

	for (c = p; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
		if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || !c[2]))
			return 1;
	return 0;
}

/* What license_plan works with. */
struct lic {
	json_t *files; /* [{"src", "dst"}] */
	const char *project_root, *workspace_root;
	struct sp_err *e;
};

/*
 * Adds the file rel, named relative to base, at place dst.  A name
 * without ".." must stay inside the project root through any link
 * (pysrc_inside); one with ".." must resolve inside the project root or
 * the workspace, since cargo lets a member name its workspace's license.
 */
static int add_file(struct lic *l, const char *base, const char *rel,
		    const char *dst)
{
	char *src, *real = NULL;
	json_t *x, *f;
	size_t i;
	int ret = -1;

	json_array_foreach(l->files, i, x)
	{
		if (strcmp(str_member(x, "dst"), dst) == 0)
			return 0;
	}
	src = path_join(base, rel);
	if (!src)
		return str_oom(l->e, "plan the license files");
	if (!has_dotdot(rel)) {
		if (pysrc_inside(src, l->project_root, "license file", l->e) <
		    0)
			goto out;
	} else {
		real = realpath(src, NULL);
		if (!real) {
			sp_err_sys(l->e, "cannot resolve license file '%s'",
				   src);
			goto out;
		}
		if (!path_real_below(real, l->project_root) &&
		    !path_real_below(real, l->workspace_root)) {
			sp_err_set(l->e,
				   "license file '%s' resolves to '%s', "
				   "outside the project root and the "
				   "workspace: refused, since it would put a "
				   "file from elsewhere on this machine in "
				   "the package",
				   rel, real);
			goto out;
		}
	}
	if (record_name_ok(dst, "license file", l->e) < 0)
		goto out;
	f = json_pack("{s:s, s:s}", "src", src, "dst", dst);
	if (!f || json_array_append_new(l->files, f) < 0) {
		sp_err_set(l->e, "cannot list license file '%s'", rel);
		goto out;
	}
	ret = 0;
out:
	free(real);
	free(src);
	return ret;
}

/* A file a manifest names (cargo's license-file, [project] license.file):
 * it must exist; its place is rel, or its file name when rel has "..". */
static int add_named(struct lic *l, const char *base, const char *rel,
		     const char *what)
{
	struct stat st;
	char *full;
	int ok;

	if (!*rel || rel[0] == '/')
		return sp_err_set(l->e,
				  "%s '%s' must be a path relative to '%s'",
				  what, rel, base);
	full = path_join(base, rel);
	if (!full)
		return str_oom(l->e, "plan the license files");
	ok = stat(full, &st) == 0 && S_ISREG(st.st_mode);
	free(full);
	if (!ok)
		return sp_err_set(l->e, "%s '%s' not found in '%s'", what, rel,
				  base);
	return add_file(l, base, rel,
			has_dotdot(rel) ? path_basename(rel) : rel);
}

/* PEP 639's glob syntax: letters, digits, "_-./", "*", "?", "**" as a
 * whole component and [...] of those characters; relative, no "..". */
static int glob_check(const char *pat, struct sp_err *e)
{
	const char *p, *why = NULL;
	int in_class = 0;

	if (!*pat || pat[0] == '/')
		why = "it must be a relative path";
	else if (has_dotdot(pat))
		why = "'..' is not allowed";
	for (p = pat; !why && *p; p++) {
		if (*p == '[') {
			if (in_class)
				why = "'[' inside [...]";
			in_class = 1;
		} else if (*p == ']') {
			if (!in_class)
				why = "']' without '['";
			in_class = 0;
		} else if (*p == '*' && p[1] == '*' &&
			   ((p > pat && p[-1] != '/') ||
			    (p[2] && p[2] != '/'))) {
			why = "'**' must be a whole path component";
		} else if (!isalnum((unsigned char)*p) &&
			   !strchr("_-./*?", *p)) {
			why = "a character PEP 639 does not allow";
		} else if (in_class && strchr("/*?", *p)) {
			why = "a character PEP 639 does not allow in [...]";
		}
	}
	if (!why && in_class)
		why = "a '[' is not closed";
	if (why)
		return sp_err_set(e,
				  "license-files pattern '%s' is not a "
				  "PEP 639 glob: %s",
				  pat, why);
	return 0;
}

/* Matches the components comp[i..n) of a pattern below dir (whose place
 * relative to the glob's root is rel, "" at the root), adding each regular
 * file found; *found counts them.  "**" matches any number of folders;
 * links to folders are not followed by it, so a loop cannot recur. */
static int glob_walk(struct lic *l, const char *root, const char *rel,
		     char **comp, size_t i, size_t n, size_t *found)
{
	char *dir = *rel ? path_join(root, rel) : strdup(root);
	struct dirent **ents = NULL;
	int k, cnt, ret = -1;

	if (!dir)
		return str_oom(l->e, "plan the license files");
	if (strcmp(comp[i], "**") == 0 && i + 1 < n &&
	    glob_walk(l, root, rel, comp, i + 1, n, found) < 0)
		goto out;
	cnt = scandir(dir, &ents, NULL, alphasort);
	if (cnt < 0) {
		ret = 0; /* not a folder, or unreadable: nothing matches */
		goto out;
	}
	for (k = 0; k < cnt; k++) {
		const char *name = ents[k]->d_name;
		char *sub = NULL, *full = NULL;
		struct stat st, lst;
		int r = 0, star2 = strcmp(comp[i], "**") == 0;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (!star2 && fnmatch(comp[i], name, 0) != 0)
			continue;
		sub = *rel ? str_printf("%s/%s", rel, name) : strdup(name);
		full = sub ? path_join(root, sub) : NULL;
		if (!full) {
			free(sub);
			str_oom(l->e, "plan the license files");
			goto out_ents;
		}
		if (stat(full, &st) == 0) {
			if (star2) {
				if (S_ISDIR(st.st_mode) &&
				    lstat(full, &lst) == 0 &&
				    !S_ISLNK(lst.st_mode))
					r = glob_walk(l, root, sub, comp, i, n,
						      found);
			} else if (i + 1 < n) {
				if (S_ISDIR(st.st_mode))
					r = glob_walk(l, root, sub, comp, i + 1,
						      n, found);
			} else if (S_ISREG(st.st_mode)) {
				r = add_file(l, root, sub, sub);
				(*found)++;
			}
		}
		free(sub);
		free(full);
		if (r < 0)
			goto out_ents;
	}
	ret = 0;
out_ents:
	for (k = 0; k < cnt; k++)
		free(ents[k]);
	free(ents);
out:
	free(dir);
	return ret;
}

/* Expands one glob below root; strict: it must match a file. */
static int add_glob(struct lic *l, const char *root, const char *pat,
		    int strict)
{
	char *copy = strdup(pat), **comp = NULL, *c, *save = NULL;
	size_t n = 0, found = 0;
	int ret = -1;

	if (!copy)
		return str_oom(l->e, "plan the license files");
	comp = calloc(strlen(pat) + 1, sizeof(*comp));
	if (!comp) {
		str_oom(l->e, "plan the license files");
		goto out;
	}
	for (c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
		if (strcmp(c, ".") != 0)
			comp[n++] = c;
	if (n == 0 || (strcmp(comp[n - 1], "**") == 0 && strict)) {
		sp_err_set(l->e,
			   "license-files pattern '%s' names no file (a "
			   "pattern ends in a file name or '*')",
			   pat);
		goto out;
	}
	if (glob_walk(l, root, "", comp, 0, n, &found) < 0)
		goto out;
	if (strict && !found) {
		sp_err_set(l->e, "license-files pattern '%s' matches no file",
			   pat);
		goto out;
	}
	ret = 0;
out:
	free(comp);
	free(copy);
	return ret;
}

/* The license files maturin ships when the project names none. */
static const char *const default_globs[] = {"LICEN[CS]E*", "COPYING*",
					    "NOTICE*", "AUTHORS*"};

static int by_dst(const void *a, const void *b)
{
	return strcmp(str_member(*(json_t *const *)a, "dst"),
		      str_member(*(json_t *const *)b, "dst"));
}

static int collect(struct lic *l, const json_t *pkg, const char *pkgdir,
		   const json_t *proj)
{
	const json_t *lf = json_object_get(proj, "license-files"), *x;
	const json_t *table = json_object_get(proj, "license");
	size_t i;

	if (str_member(pkg, "license_file") &&
	    add_named(l, pkgdir, str_member(pkg, "license_file"),
		      "license-file") < 0)
		return -1;
	if (json_is_object(table) && json_object_get(table, "file")) {
		if (!str_member(table, "file"))
			return sp_err_set(l->e, "[project] license.file must "
						"be a string");
		if (add_named(l, l->project_root, str_member(table, "file"),
			      "[project] license.file") < 0)
			return -1;
	}
	if (lf) {
		if (!json_is_array(lf))
			return sp_err_set(l->e, "[project] license-files must "
						"be an array of glob patterns");
		json_array_foreach(lf, i, x)
		{
			if (!json_is_string(x))
				return sp_err_set(l->e, "[project] "
							"license-files must "
							"hold strings");
			if (glob_check(json_string_value(x), l->e) < 0 ||
			    add_glob(l, l->project_root, json_string_value(x),
				     1) < 0)
				return -1;
		}
		return 0;
	}
	if (!proj)
		return 0;
	for (i = 0; i < sizeof(default_globs) / sizeof(*default_globs); i++)
		if (add_glob(l, l->project_root, default_globs[i], 0) < 0)
			return -1;
	return 0;
}

int license_plan(json_t *job, json_t *meta, const json_t *pkg,
		 const char *pkgdir, const json_t *proj,
		 const char *project_root, const char *workspace_root,
		 struct sp_err *e)
{
	struct lic l = {.project_root = project_root,
			.workspace_root = workspace_root,
			.e = e};
	json_t *names = json_array(), *x, **v = NULL;
	size_t i, n;
	int ret = -1;

	l.files = json_array();
	if (!l.files || !names) {
		str_oom(e, "plan the license files");
		goto out;
	}
	if (collect(&l, pkg, pkgdir, proj) < 0)
		goto out;
	n = json_array_size(l.files);
	if (n == 0) {
		ret = 0;
		goto out;
	}
	/* Sorted by place, so the wheel does not depend on the order in
	 * which the sources named the files. */
	v = calloc(n, sizeof(*v));
	if (!v) {
		str_oom(e, "plan the license files");
		goto out;
	}
	for (i = 0; i < n; i++)
		v[i] = json_array_get(l.files, i);
	qsort(v, n, sizeof(*v), by_dst);
	for (i = 0; i < n; i++)
		if (json_array_append(names, json_object_get(v[i], "dst")) <
		    0) {
			str_oom(e, "plan the license files");
			goto out;
		}
	x = json_array();
	for (i = 0; x && i < n; i++)
		if (json_array_append(x, v[i]) < 0) {
			json_decref(x);
			x = NULL;
		}
	if (!x || json_object_set_new(job, "license_files", x) < 0 ||
	    json_object_set(meta, "license_files", names) < 0) {
		str_oom(e, "plan the license files");
		goto out;
	}
	ret = 0;
out:
	free(v);
	json_decref(l.files);
	json_decref(names);
	return ret;
}
