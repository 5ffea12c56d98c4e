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

#include "cli/project/pep440.h"
#include "cli/project/strutil.h"
#include "common/fsx.h"
#include "common/path.h"

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

/* 1 when real (a resolved path) is root or lies below it. */
static int below(const char *real, const char *root)
{
	char *r = root ? realpath(root, NULL) : NULL;
	size_t n = r ? strlen(r) : 0;
	int in = r && (strcmp(r, "/") == 0 ||
		       (strncmp(real, r, n) == 0 &&
			(real[n] == '\0' || real[n] == '/')));

	free(r);
	return in;
}

/*
 * A crate names its readme, and spoke reads the file into METADATA: a
 * crate spoke does not trust could name /etc/shadow, or a link to it, and
 * the wheel or sdist built by root would carry it.  So the readme must
 * resolve inside the cargo workspace or the package's own folder (a path
 * dependency may live outside the workspace), as cargo itself packages
 * only files of the package.
 */
static int readme_inside(const char *path, const char *pkgdir,
			 const char *workspace_root, struct sp_err *e)
{
	char *real = realpath(path, NULL);
	int ret = 0;

	if (!real)
		return sp_err_sys(e, "cannot read the readme '%s'", path);
	if (!below(real, pkgdir) && !below(real, workspace_root))
		ret = sp_err_set(e,
				 "the readme '%s' resolves to '%s', outside "
				 "the package and its workspace: refused, "
				 "since it would put a file from elsewhere on "
				 "this machine in the package's METADATA",
				 path, real);
	free(real);
	return ret;
}

/* Reads the readme at dir/file into description (and its content type:
 * ctype, else from the extension); it must lie inside dir or
 * workspace_root (readme_inside). */
static int set_readme_file(json_t *meta, const char *dir, const char *file,
			   const char *ctype, const char *workspace_root,
			   struct sp_err *e)
{
	char *path = file[0] == '/' ? strdup(file) : path_join(dir, file);
	char *text = NULL;
	size_t len;
	json_t *s;
	int ret = -1;

	if (!path)
		return str_oom(e, "plan the build");
	if (readme_inside(path, dir, workspace_root, e) < 0)
		goto out;
	text = fsx_read_all(path, &len, e);
	if (!text) {
		sp_err_wrap(e, "cannot read the readme");
		goto out;
	}
	s = json_stringn(text, len);
	if (!s) {
		sp_err_set(e, "readme '%s' is not UTF-8 text", path);
		goto out;
	}
	if (json_object_set_new(meta, "description", s) < 0) {
		str_oom(e, "plan the build");
		goto out;
	}
	ret = set_str(meta, "description_content_type",
		      ctype ? ctype : content_type_of(path), e);
out:
	free(text);
	free(path);
	return ret;
}

/* The readme: pyproject's "readme" (a path, or a table with "file" or
 * "text" and "content-type") wins over cargo's "readme" path. */
static int set_readme(json_t *meta, const json_t *pkg, const char *pkgdir,
		      const json_t *proj, const char *workspace_root,
		      struct sp_err *e)
{
	const json_t *r = json_object_get(proj, "readme");
	const char *ctype;

	if (json_is_string(r))
		return set_readme_file(meta, pkgdir, json_string_value(r), NULL,
				       workspace_root, e);
	if (json_is_object(r)) {
		ctype = str_member(r, "content-type");
		if (str_member(r, "file"))
			return set_readme_file(meta, pkgdir,
					       str_member(r, "file"), ctype,
					       workspace_root, e);
		if (!json_is_string(json_object_get(r, "text")))
			return 0;
		if (set_str(meta, "description",
			    json_string_value(json_object_get(r, "text")),
			    e) < 0)
			return -1;
		return set_str(meta, "description_content_type",
			       ctype ? ctype : "text/plain", e);
	}
	if (str_member(pkg, "readme"))
		return set_readme_file(meta, pkgdir, str_member(pkg, "readme"),
				       NULL, workspace_root, e);
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

/* project_urls: cargo's homepage, repository and documentation, then
 * pyproject's [project.urls] over them. */
static int set_urls(json_t *meta, const json_t *pkg, const json_t *proj,
		    struct sp_err *e)
{
	json_t *urls = json_object(), *v;
	const char *label;
	int ret = -1;

	if (!urls)
		return str_oom(e, "plan the build");
	if (set_str(urls, "Homepage", str_member(pkg, "homepage"), e) < 0 ||
	    set_str(urls, "Source Code", str_member(pkg, "repository"), e) <
		0 ||
	    set_str(urls, "Documentation", str_member(pkg, "documentation"),
		    e) < 0)
		goto out;
	json_object_foreach((json_t *)json_object_get(proj, "urls"), label, v)
	{
		if (json_is_string(v) && json_object_set(urls, label, v) < 0) {
			str_oom(e, "plan the build");
			goto out;
		}
	}
	ret = 0;
	if (json_object_size(urls) &&
	    json_object_set(meta, "project_urls", urls) < 0)
		ret = str_oom(e, "plan the build");
out:
	json_decref(urls);
	return ret;
}

/*
 * The job's "metadata" object, from the cargo package and the pyproject
 * [project] table (NULL when none); what pyproject states wins.
 */
static json_t *job_metadata(const json_t *pkg, const char *pkgdir,
			    const json_t *proj, const char *workspace_root,
			    struct sp_err *e)
{
	const json_t *lic = json_object_get(proj, "license");
	const json_t *authors = json_object_get(proj, "authors");
	const json_t *kw = json_object_get(proj, "keywords");
	json_t *meta = json_object(), *cls;
	const char *license = str_member(pkg, "license"), *summary;

	if (!meta) {
		str_oom(e, "plan the build");
		return NULL;
	}
	if (json_is_string(lic))
		license = json_string_value(lic);
	else if (str_member(lic, "text"))
		license = str_member(lic, "text");
	if (!json_array_size(authors))
		authors = json_object_get(pkg, "authors");
	if (!json_array_size(kw))
		kw = json_object_get(pkg, "keywords");

	summary = str_member(proj, "description");
	if (!summary)
		summary = str_member(pkg, "description");
	/* Each setter leaves out what neither source states. */
	if (set_summary(meta, summary, e) ||
	    set_str(meta, "license", license, e) ||
	    people_to_metadata(authors, "author", "author_email", meta, e) ||
	    people_to_metadata(json_object_get(proj, "maintainers"),
			       "maintainer", "maintainer_email", meta, e) ||
	    set_str(meta, "home_page", str_member(pkg, "homepage"), e) ||
	    set_urls(meta, pkg, proj, e) ||
	    set_joined(meta, "keywords", kw, ",", e) ||
	    set_readme(meta, pkg, pkgdir, proj, workspace_root, e) ||
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

json_t *cargo_package_meta(const json_t *pkg, const json_t *proj,
			   const char *workspace_root, struct sp_err *e)
{
	const char *name = str_member(proj, "name") ? str_member(proj, "name")
						    : str_member(pkg, "name");
	char *pkgdir = path_dirname(str_member(pkg, "manifest_path"));
	char *version = NULL;
	json_t *meta = NULL, *out = NULL;

	if (!pkgdir) {
		str_oom(e, "plan the build");
		goto out;
	}
	version = str_member(proj, "version")
		      ? strdup(str_member(proj, "version"))
		      : pep440_from_semver(str_member(pkg, "version"), e);
	if (!version) {
		if (str_member(proj, "version"))
			str_oom(e, "plan the build");
		goto out;
	}
	meta = job_metadata(pkg, pkgdir, proj, workspace_root, e);
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
