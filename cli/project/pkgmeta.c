/*
 * pkgmeta.c - a package's core metadata, from cargo metadata's package
 * object and the pyproject.toml [project] table.
 */
#define _GNU_SOURCE
#include "cli/project/pkgmeta.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/project/license.h"
#include "cli/project/pep440.h"
#include "cli/project/strutil.h"
#include "common/fsx.h"
#include "common/path.h"

/* Where a package's metadata comes from. */
struct pkgsrc {
	const json_t *pkg;	    /* cargo metadata's package */
	const json_t *proj;	    /* [project], or NULL */
	const char *pkgdir;	    /* the package's folder */
	const char *project_dir;    /* the pyproject.toml's folder */
	const char *workspace_root; /* cargo's */
};

/* Sets o[key] to the string v; a NULL v sets nothing. */
static int set_str(json_t *o, const char *key, const char *v, struct sp_err *e)
{
	json_t *s;

	if (!v)
		return 0;
	s = json_string(v);
	if (!s)
		return sp_err_set(e, "%s '%.100s' is not valid UTF-8", key, v);
	if (json_object_set_new(o, key, s) < 0)
		return str_oom(e, "plan the build");
	return 0;
}

/* ---- core metadata ---- */

/* RFC 822 specials: a display name holding one must be quoted. */
static int needs_quotes(const char *name)
{
	return strpbrk(name, "()<>@,;:\\\".[]") != NULL;
}

/* Adds one person to the Author / Author-email pair of strings. */
static int person_add(const char *name, const char *email, char **names,
		      char **emails)
{
	char *q = NULL, *entry = NULL;
	size_t i, j;
	int r;

	if (!email)
		return name ? str_append(names, ", ", name) : 0;
	if (!name)
		return str_append(emails, ", ", email);
	if (needs_quotes(name)) {
		q = malloc(2 * strlen(name) + 3);
		if (!q)
			return -1;
		j = 0;
		q[j++] = '"';
		for (i = 0; name[i]; i++) {
			if (name[i] == '"' || name[i] == '\\')
				q[j++] = '\\';
			q[j++] = name[i];
		}
		q[j++] = '"';
		q[j] = '\0';
		name = q;
	}
	entry = str_printf("%s <%s>", name, email);
	r = entry ? str_append(emails, ", ", entry) : -1;
	free(entry);
	free(q);
	return r;
}

/* Copies s[0..n) without surrounding white space; NULL when that is empty
 * (and *oom is set when out of memory). */
static char *trimmed(const char *s, size_t n, int *nomem)
{
	char *r;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return NULL;
	r = strndup(s, n);
	if (!r)
		*nomem = 1;
	return r;
}

/* Splits a cargo author, "Name <email>", "<email>", "email" or "Name". */
static int cargo_person(const char *s, char **names, char **emails)
{
	const char *lt = strrchr(s, '<'), *gt = strrchr(s, '>');
	char *name = NULL, *email = NULL;
	int nomem = 0, r;

	if (lt && gt && gt > lt) {
		name = trimmed(s, (size_t)(lt - s), &nomem);
		email = trimmed(lt + 1, (size_t)(gt - lt - 1), &nomem);
	} else if (strchr(s, '@') && !strpbrk(s, " \t")) {
		email = trimmed(s, strlen(s), &nomem);
	} else {
		name = trimmed(s, strlen(s), &nomem);
	}
	r = nomem ? -1 : person_add(name, email, names, emails);
	free(name);
	free(email);
	return r;
}

/* Sets key_name / key_email in meta from an array of cargo author strings
 * or pyproject {name, email} tables. */
static int people_to_metadata(const json_t *people, const char *key_name,
			      const char *key_email, json_t *meta,
			      struct sp_err *e)
{
	char *names = NULL, *emails = NULL;
	json_t *x;
	size_t i;
	int ret = -1;

	json_array_foreach(people, i, x)
	{
		int r = 0;

		if (json_is_string(x))
			r = cargo_person(json_string_value(x), &names, &emails);
		else if (json_is_object(x))
			r = person_add(str_member(x, "name"),
				       str_member(x, "email"), &names, &emails);
		if (r < 0) {
			str_oom(e, "plan the build");
			goto out;
		}
	}
	if (set_str(meta, key_name, names, e) < 0 ||
	    set_str(meta, key_email, emails, e) < 0)
		goto out;
	ret = 0;
out:
	free(names);
	free(emails);
	return ret;
}

int cargo_authors_to_metadata(const json_t *authors, json_t *meta,
			      struct sp_err *e)
{
	return people_to_metadata(authors, "author", "author_email", meta, e);
}

/* Summary is one line in METADATA; cargo descriptions often are not. */
static int set_summary(json_t *meta, const char *text, struct sp_err *e)
{
	char *s, *o;
	const char *p;
	int r;

	if (!text)
		return 0;
	s = malloc(strlen(text) + 1);
	if (!s)
		return str_oom(e, "plan the build");
	for (o = s, p = text; *p; p++) {
		if (isspace((unsigned char)*p)) {
			if (o > s && o[-1] != ' ')
				*o++ = ' ';
		} else {
			*o++ = *p;
		}
	}
	if (o > s && o[-1] == ' ')
		o--;
	*o = '\0';
	r = set_str(meta, "summary", *s ? s : NULL, e);
	free(s);
	return r;
}

/* Joins an array of strings with sep into meta[key]; empty sets nothing. */
static int set_joined(json_t *meta, const char *key, const json_t *a,
		      const char *sep, struct sp_err *e)
{
	char *s = NULL;
	json_t *x;
	size_t i;
	int r;

	json_array_foreach(a, i, x)
	{
		const char *v = json_string_value(x);

		if (v && *v && str_append(&s, sep, v) < 0) {
			free(s);
			return str_oom(e, "plan the build");
		}
	}
	r = set_str(meta, key, s, e);
	free(s);
	return r;
}

static const char *content_type_of(const char *path)
{
	const char *dot = strrchr(path_basename(path), '.');

	if (dot &&
	    (strcasecmp(dot, ".md") == 0 || strcasecmp(dot, ".markdown") == 0))
		return "text/markdown";
	if (dot && strcasecmp(dot, ".rst") == 0)
		return "text/x-rst";
	return "text/plain";
}

/*
 * A crate names its readme, and spoke reads the file into METADATA: a
 * crate spoke does not trust could name /etc/shadow, or a link to it, and
 * the wheel or sdist built by root would carry it.  So the readme (and a
 * [project] license file, whose text may go to License) must resolve
 * inside the cargo workspace, the package's own folder (a path dependency
 * may live outside the workspace) or the pyproject.toml's folder, as cargo
 * itself packages only files of the package.
 */
static int file_inside(const char *what, const char *path,
		       const struct pkgsrc *src, struct sp_err *e)
{
	char *real = realpath(path, NULL);
	int ret = 0;

	if (!real)
		return sp_err_sys(e, "cannot read the %s '%s'", what, path);
	if (!path_real_below(real, src->pkgdir) &&
	    !path_real_below(real, src->workspace_root) &&
	    !path_real_below(real, src->project_dir))
		ret = sp_err_set(e,
				 "the %s '%s' resolves to '%s', outside "
				 "the package and its workspace (and the "
				 "pyproject.toml's folder): refused, "
				 "since it would put a file from elsewhere on "
				 "this machine in the package's METADATA",
				 what, path, real);
	free(real);
	return ret;
}

/* Reads dir/file (what names it for messages: "readme") into *text (a
 * new JSON string: the file must be UTF-8) once file_inside() allows it;
 * *path_out gets the path (malloc'd) when not NULL. */
static int read_named(const char *what, const char *dir, const char *file,
		      const struct pkgsrc *src, json_t **text, char **path_out,
		      struct sp_err *e)
{
	char *path = file[0] == '/' ? strdup(file) : path_join(dir, file);
	char *raw = NULL;
	size_t len;
	int ret = -1;

	*text = NULL;
	if (!path)
		return str_oom(e, "plan the build");
	if (file_inside(what, path, src, e) < 0)
		goto out;
	raw = fsx_read_all(path, &len, e);
	if (!raw) {
		sp_err_wrap(e, "cannot read the %s", what);
		goto out;
	}
	*text = json_stringn(raw, len);
	if (!*text) {
		sp_err_set(e, "%s '%s' is not UTF-8 text", what, path);
		goto out;
	}
	ret = 0;
out:
	free(raw);
	if (ret == 0 && path_out)
		*path_out = path;
	else
		free(path);
	return ret;
}

/* Reads the readme at dir/file into description (and its content type:
 * ctype, else from the extension). */
static int set_readme_file(json_t *meta, const char *dir, const char *file,
			   const char *ctype, const struct pkgsrc *src,
			   struct sp_err *e)
{
	char *path = NULL;
	json_t *text;
	int ret;

	if (read_named("readme", dir, file, src, &text, &path, e) < 0)
		return -1;
	if (json_object_set_new(meta, "description", text) < 0) {
		free(path);
		return str_oom(e, "plan the build");
	}
	ret = set_str(meta, "description_content_type",
		      ctype ? ctype : content_type_of(path), e);
	free(path);
	return ret;
}

/* The readme: pyproject's "readme" (a path, or a table with "file" or
 * "text" and "content-type"), else cargo's "readme" path when Cargo.toml
 * may fill it (cargo reports README.md and the like it found itself, and
 * a readme inherited from the workspace relative to the package). */
static int set_readme(json_t *meta, const struct pkgsrc *src, int from_cargo,
		      struct sp_err *e)
{
	const json_t *r = json_object_get(src->proj, "readme");
	const char *ctype;

	if (json_is_string(r))
		return set_readme_file(meta, src->project_dir,
				       json_string_value(r), NULL, src, e);
	if (json_is_object(r)) {
		ctype = str_member(r, "content-type");
		if (json_object_get(r, "file") && json_object_get(r, "text"))
			return sp_err_set(e, "[project] readme has both file "
					     "and text: give one of them");
		if (str_member(r, "file"))
			return set_readme_file(meta, src->project_dir,
					       str_member(r, "file"), ctype,
					       src, e);
		if (!json_is_string(json_object_get(r, "text")))
			return sp_err_set(e, "[project] readme must have a "
					     "string file or text");
		if (set_str(meta, "description",
			    json_string_value(json_object_get(r, "text")),
			    e) < 0)
			return -1;
		return set_str(meta, "description_content_type",
			       ctype ? ctype : "text/plain", e);
	}
	if (r)
		return sp_err_set(e, "[project] readme must be a path or a "
				     "table");
	if (from_cargo && str_member(src->pkg, "readme"))
		return set_readme_file(meta, src->pkgdir,
				       str_member(src->pkg, "readme"), NULL,
				       src, e);
	return 0;
}

/* PEP 685: extras compare by their normalized name. */
static char *extra_name(const char *s)
{
	char *n = malloc(strlen(s) + 1), *o = n;

	if (!n)
		return NULL;
	for (; *s; s++) {
		if (*s == '-' || *s == '_' || *s == '.') {
			if (o > n && o[-1] != '-')
				*o++ = '-';
		} else {
			*o++ = (char)tolower((unsigned char)*s);
		}
	}
	while (o > n && o[-1] == '-')
		o--;
	*o = '\0';
	return n;
}

/* One Requires-Dist of an extra: the requirement, its own marker (if any)
 * and'ed with the extra's. */
static char *extra_requirement(const char *req, const char *extra)
{
	const char *semi = strchr(req, ';');
	char *r, *name, *marker;
	int nomem = 0;

	if (!semi)
		return str_printf("%s; extra == \"%s\"", req, extra);
	name = trimmed(req, (size_t)(semi - req), &nomem);
	marker = trimmed(semi + 1, strlen(semi + 1), &nomem);
	r = nomem ? NULL
	    : marker
		? str_printf("%s; (%s) and extra == \"%s\"", name ? name : "",
			     marker, extra)
		: str_printf("%s; extra == \"%s\"", name ? name : "", extra);
	free(name);
	free(marker);
	return r;
}

/* requires_dist and provides_extra from [project] dependencies and
 * optional-dependencies. */
static int set_requirements(json_t *meta, const json_t *proj, struct sp_err *e)
{
	json_t *deps = json_array(), *extras = json_array(), *x, *list;
	const json_t *opt = json_object_get(proj, "optional-dependencies");
	const char *key;
	size_t i;
	int ret = -1;

	if (!deps || !extras) {
		str_oom(e, "plan the build");
		goto out;
	}
	json_array_foreach(json_object_get(proj, "dependencies"), i, x)
	{
		if (json_is_string(x) && json_array_append(deps, x) < 0) {
			str_oom(e, "plan the build");
			goto out;
		}
	}
	json_object_foreach((json_t *)opt, key, list)
	{
		char *extra = extra_name(key);

		if (!extra ||
		    json_array_append_new(extras, json_string(extra)) < 0) {
			free(extra);
			str_oom(e, "plan the build");
			goto out;
		}
		json_array_foreach(list, i, x)
		{
			char *req;

			if (!json_is_string(x))
				continue;
			req = extra_requirement(json_string_value(x), extra);
			if (!req ||
			    json_array_append_new(deps, json_string(req)) < 0) {
				free(req);
				free(extra);
				str_oom(e, "plan the build");
				goto out;
			}
			free(req);
		}
		free(extra);
	}
	if ((json_array_size(deps) &&
	     json_object_set(meta, "requires_dist", deps) < 0) ||
	    (json_array_size(extras) &&
	     json_object_set(meta, "provides_extra", extras) < 0)) {
		str_oom(e, "plan the build");
		goto out;
	}
	ret = 0;
out:
	json_decref(deps);
	json_decref(extras);
	return ret;
}

/* project_urls: pyproject's [project.urls] when it states them, else
 * (from_cargo) cargo's homepage, repository and documentation. */
static int set_urls(json_t *meta, const json_t *pkg, const json_t *proj,
		    int from_cargo, struct sp_err *e)
{
	const json_t *purls = json_object_get(proj, "urls");
	json_t *urls = json_object(), *v;
	const char *label;
	int ret = -1;

	if (!urls)
		return str_oom(e, "plan the build");
	if (purls) {
		json_object_foreach((json_t *)purls, label, v)
		{
			if (json_is_string(v) &&
			    json_object_set(urls, label, v) < 0) {
				str_oom(e, "plan the build");
				goto out;
			}
		}
	} else if (from_cargo &&
		   (set_str(urls, "Homepage", str_member(pkg, "homepage"),
			    e) < 0 ||
		    set_str(urls, "Source Code", str_member(pkg, "repository"),
			    e) < 0 ||
		    set_str(urls, "Documentation",
			    str_member(pkg, "documentation"), e) < 0)) {
		goto out;
	}
	ret = 0;
	if (json_object_size(urls) &&
	    json_object_set(meta, "project_urls", urls) < 0)
		ret = str_oom(e, "plan the build");
out:
	json_decref(urls);
	return ret;
}

/* The [project] keys whose value Cargo.toml can give, as bits. */
enum {
	DYN_VERSION = 1 << 0,
	DYN_DESCRIPTION = 1 << 1,
	DYN_AUTHORS = 1 << 2,
	DYN_KEYWORDS = 1 << 3,
	DYN_URLS = 1 << 4,
	DYN_LICENSE = 1 << 5,
	DYN_README = 1 << 6,
	DYN_ALL = (1 << 7) - 1,
};

/* The keys PEP 621 lets [project] have, and which of them Cargo.toml
 * fills when dynamic lists them (0: none; the field is then left out,
 * which PEP 621 allows for a value the back-end cannot determine). */
static const struct {
	const char *key;
	unsigned bit;
} project_keys[] = {
    {"version", DYN_VERSION},
    {"description", DYN_DESCRIPTION},
    {"authors", DYN_AUTHORS},
    {"keywords", DYN_KEYWORDS},
    {"urls", DYN_URLS},
    {"license", DYN_LICENSE},
    {"readme", DYN_README},
    {"maintainers", 0},
    {"classifiers", 0},
    {"requires-python", 0},
    {"dependencies", 0},
    {"optional-dependencies", 0},
    {"scripts", 0},
    {"gui-scripts", 0},
    {"entry-points", 0},
    {"license-files", 0},
    {"import-names", 0},
    {"import-namespaces", 0},
};

/*
 * Which fields Cargo.toml may fill, into *from_cargo: every one without a
 * [project] table; with one, those dynamic lists (PEP 621: a back-end
 * fills in nothing the user did not opt into).  A key both given and
 * listed keeps its given value (maturin reads it so, and its test crates
 * write license = {file = ...} with dynamic = ["license"]; see
 * set_license).
 */
static int read_dynamic(const json_t *proj, unsigned *from_cargo,
			struct sp_err *e)
{
	const json_t *dyn = json_object_get(proj, "dynamic"), *x;
	size_t i, k;

	*from_cargo = proj ? 0 : DYN_ALL;
	if (!dyn)
		return 0;
	if (!json_is_array(dyn))
		return sp_err_set(e, "[project] dynamic must be an array of "
				     "[project] keys");
	json_array_foreach(dyn, i, x)
	{
		const char *key = json_string_value(x);

		if (!key)
			return sp_err_set(e, "[project] dynamic must hold "
					     "strings");
		if (strcmp(key, "name") == 0)
			return sp_err_set(e, "[project] dynamic may not list "
					     "name: the name must be given "
					     "in [project] (PEP 621)");
		for (k = 0; k < sizeof(project_keys) / sizeof(*project_keys);
		     k++)
			if (strcmp(key, project_keys[k].key) == 0)
				break;
		if (k == sizeof(project_keys) / sizeof(*project_keys))
			return sp_err_set(e,
					  "[project] dynamic lists '%s', "
					  "which is not a [project] key",
					  key);
		*from_cargo |= project_keys[k].bit;
	}
	return 0;
}

/*
 * License-Expression or License (PEP 639 lets METADATA hold one of them):
 *   - [project] license = "EXPR" is an SPDX expression, checked and
 *     normalized (license.h);
 *   - cargo's license, when Cargo.toml may fill it, is one too (cargo
 *     documents it as SPDX); an older "MIT/Apache-2.0" that is not goes to
 *     License as it is;
 *   - a [project] license table's text, or its file's content, is License,
 *     but only when no license came from the above: with dynamic =
 *     ["license"] the table names the file to ship (license.h) beside
 *     cargo's expression.  Its file is read from the project folder.
 */
static int set_license(json_t *meta, const struct pkgsrc *src, int from_cargo,
		       struct sp_err *e)
{
	const json_t *lic = json_object_get(src->proj, "license");
	const char *cargo = str_member(src->pkg, "license");
	struct sp_err ignored;
	char *expr = NULL;
	json_t *text = NULL;
	int ret = -1;

	if (json_is_string(lic)) {
		expr = license_expression_normalize(json_string_value(lic), e);
		if (!expr) {
			sp_err_wrap(e, "[project] license");
			return -1;
		}
	} else if (lic && !json_is_object(lic)) {
		return sp_err_set(e, "[project] license must be an SPDX "
				     "expression (a string) or a table");
	} else if (from_cargo && cargo) {
		expr = license_expression_normalize(cargo, &ignored);
		if (!expr && !(text = json_string(cargo)))
			return str_oom(e, "plan the build");
	}
	if (json_is_object(lic) && !expr && !text) {
		const json_t *t = json_object_get(lic, "text");

		if (t && json_object_get(lic, "file"))
			return sp_err_set(e, "[project] license has both file "
					     "and text: give one of them");
		if (json_is_string(t)) {
			text = json_incref((json_t *)t);
		} else if (str_member(lic, "file")) {
			if (read_named("license file", src->project_dir,
				       str_member(lic, "file"), src, &text,
				       NULL, e) < 0)
				return -1;
		} else {
			return sp_err_set(e, "[project] license table must "
					     "have a string file or text");
		}
	}
	if ((expr && set_str(meta, "license_expression", expr, e) < 0) ||
	    (text && json_object_set(meta, "license", text) < 0 &&
	     str_oom(e, "plan the build")))
		goto out;
	ret = 0;
out:
	free(expr);
	json_decref(text);
	return ret;
}

/*
 * The job's "metadata" object: pyproject's [project] fields as stated,
 * and Cargo.toml's for the fields read_dynamic() lets it fill.
 */
static json_t *job_metadata(const struct pkgsrc *src, unsigned from_cargo,
			    struct sp_err *e)
{
	const json_t *pkg = src->pkg, *proj = src->proj;
	const json_t *authors = json_object_get(proj, "authors");
	const json_t *kw = json_object_get(proj, "keywords");
	json_t *meta = json_object(), *cls;
	const char *summary = str_member(proj, "description");

	if (!meta) {
		str_oom(e, "plan the build");
		return NULL;
	}
	if (!authors && (from_cargo & DYN_AUTHORS))
		authors = json_object_get(pkg, "authors");
	if (!kw && (from_cargo & DYN_KEYWORDS))
		kw = json_object_get(pkg, "keywords");
	if (!json_object_get(proj, "description") &&
	    (from_cargo & DYN_DESCRIPTION))
		summary = str_member(pkg, "description");
	/* Each setter leaves out what neither source states. */
	if (set_summary(meta, summary, e) ||
	    set_license(meta, src, from_cargo & DYN_LICENSE, e) ||
	    people_to_metadata(authors, "author", "author_email", meta, e) ||
	    people_to_metadata(json_object_get(proj, "maintainers"),
			       "maintainer", "maintainer_email", meta, e) ||
	    ((from_cargo & DYN_URLS) && !json_object_get(proj, "urls") &&
	     set_str(meta, "home_page", str_member(pkg, "homepage"), e)) ||
	    set_urls(meta, pkg, proj, from_cargo & DYN_URLS, e) ||
	    set_joined(meta, "keywords", kw, ",", e) ||
	    set_readme(meta, src, from_cargo & DYN_README, e) ||
	    set_requirements(meta, proj, e) ||
	    set_str(meta, "requires_python",
		    str_member(proj, "requires-python"), e))
		goto fail;
	cls = json_object_get(proj, "classifiers");
	if (json_array_size(cls) &&
	    json_object_set(meta, "classifiers", cls) < 0) {
		str_oom(e, "plan the build");
		goto fail;
	}
	return meta;
fail:
	json_decref(meta);
	return NULL;
}

/* The version: [project]'s, else cargo's (as PEP 440) when Cargo.toml may
 * fill it; PEP 621 requires one of the two. */
static char *package_version(const struct pkgsrc *src, unsigned from_cargo,
			     struct sp_err *e)
{
	const json_t *v = json_object_get(src->proj, "version");
	char *s;

	if (v) {
		if (!json_is_string(v)) {
			sp_err_set(e, "[project] version must be a string");
			return NULL;
		}
		s = strdup(json_string_value(v));
		if (!s)
			str_oom(e, "plan the build");
		return s;
	}
	if (!(from_cargo & DYN_VERSION)) {
		sp_err_set(e,
			   "[project] has no version and does not list it in "
			   "dynamic: set version, or add dynamic = "
			   "[\"version\"] to take Cargo.toml's (PEP 621)");
		return NULL;
	}
	return pep440_from_semver(str_member(src->pkg, "version"), e);
}

json_t *pkgmeta_of(const json_t *pkg, const json_t *proj,
		   const char *project_dir, const char *workspace_root,
		   struct sp_err *e)
{
	struct pkgsrc src = {.pkg = pkg, .proj = proj,
			     .workspace_root = workspace_root};
	const json_t *pname = json_object_get(proj, "name");
	const char *name = str_member(pkg, "name");
	char *pkgdir = path_dirname(str_member(pkg, "manifest_path"));
	char *version = NULL;
	json_t *meta = NULL, *out = NULL;
	unsigned from_cargo;

	if (!pkgdir) {
		str_oom(e, "plan the build");
		goto out;
	}
	src.pkgdir = pkgdir;
	src.project_dir = project_dir ? project_dir : pkgdir;
	if (proj && !json_is_string(pname)) {
		sp_err_set(e, "[project] has no name: PEP 621 requires it");
		goto out;
	}
	if (proj)
		name = json_string_value(pname);
	if (read_dynamic(proj, &from_cargo, e) < 0)
		goto out;
	version = package_version(&src, from_cargo, e);
	if (!version)
		goto out;
	meta = job_metadata(&src, from_cargo, e);
	if (!meta)
		goto out;
	out = json_pack("{s:s, s:s, s:O}", "distribution", name, "version",
			version, "metadata", meta);
	if (!out)
		sp_err_set(e, "cannot describe package '%s' (not UTF-8?)",
			   name);
out:
	if (!out) {
		const char *cname = str_member(pkg, "name");

		sp_err_wrap(e, "package '%s'", cname ? cname : "?");
	}
	json_decref(meta);
	free(version);
	free(pkgdir);
	return out;
}
