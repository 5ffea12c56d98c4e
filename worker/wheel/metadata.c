#include "worker/wheel/metadata.h"

#include "worker/zip/zipfmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef SPOKE_VERSION
#define SPOKE_VERSION "unknown"
#endif

/* The continuation indent of folded values, as setuptools writes it. */
#define FOLD "\n        "

/* A growing string; an allocation failure sticks and is reported once at
 * the end, so the render code reads as a list of fields. */
struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return;
	if (b->cap - b->len <= n) {
		cap = b->cap ? b->cap : 256;
		while (cap - b->len <= n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

/* Returns the string, or NULL with e filled. */
static char *sb_take(struct sbuf *b, struct sp_err *e)
{
	if (b->oom || !b->p) {
		free(b->p);
		sp_err_set(e, "out of memory");
		return NULL;
	}
	return b->p;
}

static const char *const known_fields[] = {
    "summary",
    "license",
    "license_expression",
    "author",
    "author_email",
    "maintainer",
    "maintainer_email",
    "keywords",
    "home_page",
    "requires_python",
    "description",
    "description_content_type",
    "requires_dist",
    "classifiers",
    "project_urls",
    "provides_extra",
    "license_files",
};

static int check_known(const json_t *meta, struct sp_err *e)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)meta, key, v)
	{
		for (i = 0; i < sizeof(known_fields) / sizeof(*known_fields);
		     i++)
			if (strcmp(key, known_fields[i]) == 0)
				break;
		if (i == sizeof(known_fields) / sizeof(*known_fields))
			return sp_err_set(e, "unknown metadata field '%s'",
					  key);
	}
	return 0;
}

/* Gets an optional string member: 0 with *out NULL when absent or null. */
static int opt_string(const json_t *obj, const char *key, const char **out,
		      struct sp_err *e)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return sp_err_set(e, "metadata field '%s' must be a string",
				  key);
	*out = json_string_value(v);
	return 0;
}

static int one_line(const char *field, const char *s, struct sp_err *e)
{
	if (strpbrk(s, "\r\n"))
		return sp_err_set(
		    e, "metadata field '%s' must be one line: '%s'", field, s);
	return 0;
}

/* Emits "Header: value" for a one-line field when present. */
static int field_line(struct sbuf *b, const json_t *meta, const char *key,
		      const char *header, struct sp_err *e)
{
	const char *v;

	if (opt_string(meta, key, &v, e) < 0)
		return -1;
	if (!v)
		return 0;
	if (one_line(key, v, e) < 0)
		return -1;
	sb_add(b, header);
	sb_add(b, ": ");
	sb_add(b, v);
	sb_add(b, "\n");
	return 0;
}

/* The summary is one line by definition; a multi-line docstring-style
 * summary is flattened rather than rejected. */
static int field_summary(struct sbuf *b, const json_t *meta, struct sp_err *e)
{
	const char *v, *p;
	int space = 0, any = 0;

	if (opt_string(meta, "summary", &v, e) < 0)
		return -1;
	if (!v)
		return 0;
	sb_add(b, "Summary: ");
	for (p = v; *p; p++) {
		if (strchr(" \t\r\n\v\f", *p)) {
			space = 1;
			continue;
		}
		if (space && any)
			sb_add(b, " ");
		sb_addn(b, p, 1);
		space = 0;
		any = 1;
	}
	sb_add(b, "\n");
	return 0;
}

/* Multi-line values are folded: each line after the first is indented, so
 * an RFC 822 parser reads them as one header. */
static int field_folded(struct sbuf *b, const json_t *meta, const char *key,
			const char *header, struct sp_err *e)
{
	const char *v, *p;
	size_t n;

	if (opt_string(meta, key, &v, e) < 0)
		return -1;
	if (!v)
		return 0;
	n = strlen(v);
	while (n && (v[n - 1] == '\n' || v[n - 1] == '\r'))
		n--;
	sb_add(b, header);
	sb_add(b, ": ");
	for (p = v; p < v + n; p++) {
		if (*p == '\r' && p + 1 < v + n && p[1] == '\n')
			continue;
		if (*p == '\n' || *p == '\r')
			sb_add(b, FOLD);
		else
			sb_addn(b, p, 1);
	}
	sb_add(b, "\n");
	return 0;
}

/* Emits one "Header: item" line per element of an optional string array. */
static int field_list(struct sbuf *b, const json_t *meta, const char *key,
		      const char *header, struct sp_err *e)
{
	json_t *arr = json_object_get(meta, key), *v;
	struct sp_err why;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return sp_err_set(e, "metadata field '%s' must be an array",
				  key);
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return sp_err_set(
			    e, "metadata field '%s' must hold strings", key);
		if (one_line(key, json_string_value(v), e) < 0)
			return -1;
		/* A License-File is a place in the wheel's licenses/ folder,
		 * never a path that leads out of it. */
		if (!strcmp(key, "license_files") &&
		    zip_name_check(json_string_value(v),
				   strlen(json_string_value(v)), ZIP_NAME_DIR,
				   &why) < 0)
			return sp_err_set(e,
					  "License-File '%s' is not a path "
					  "inside the wheel's licenses/ "
					  "folder: %s",
					  json_string_value(v), why.msg);
		sb_add(b, header);
		sb_add(b, ": ");
		sb_add(b, json_string_value(v));
		sb_add(b, "\n");
	}
	return 0;
}

/* Project-URL values are "label, url"; readers split at the first comma, so
 * a label may not hold one. */
static int field_urls(struct sbuf *b, const json_t *meta, struct sp_err *e)
{
	json_t *obj = json_object_get(meta, "project_urls"), *v;
	const char *label;

	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return sp_err_set(
		    e, "metadata field 'project_urls' must be an object");
	json_object_foreach(obj, label, v)
	{
		if (!json_is_string(v))
			return sp_err_set(
			    e, "project URL '%s' must be a string", label);
		if (strchr(label, ','))
			return sp_err_set(
			    e,
			    "project URL label '%s' must not contain a comma",
			    label);
		if (one_line("project_urls", label, e) < 0 ||
		    one_line("project_urls", json_string_value(v), e) < 0)
			return -1;
		sb_add(b, "Project-URL: ");
		sb_add(b, label);
		sb_add(b, ", ");
		sb_add(b, json_string_value(v));
		sb_add(b, "\n");
	}
	return 0;
}

static const char *job_string(const json_t *job, const char *key,
			      struct sp_err *e)
{
	json_t *v = json_object_get(job, key);

	if (!json_is_string(v)) {
		sp_err_set(e, "job field '%s' is missing or not a string", key);
		return NULL;
	}
	return json_string_value(v);
}

char *metadata_render(const json_t *job, struct sp_err *e)
{
	const char *name, *version;

	if (!(name = job_string(job, "distribution", e)) ||
	    !(version = job_string(job, "version", e)))
		return NULL;
	return metadata_render_fields(name, version,
				      json_object_get(job, "metadata"), e);
}

char *metadata_render_fields(const char *name, const char *version,
			     const json_t *metadata, struct sp_err *e)
{
	struct sbuf b = {0};
	const json_t *meta = metadata;
	json_t *empty = NULL;
	const char *desc, *lic_expr = NULL, *lic_text = NULL;
	char *out = NULL;

	if (!dist_name_valid(name)) {
		sp_err_set(e, "invalid distribution name '%s'", name);
		return NULL;
	}
	if (!version_valid(version)) {
		sp_err_set(e, "invalid version '%s'", version);
		return NULL;
	}
	if (!meta || json_is_null(meta)) {
		/* No metadata is an empty object: every field is optional. */
		meta = empty = json_object();
		if (!meta) {
			sp_err_set(e, "out of memory");
			return NULL;
		}
	} else if (!json_is_object(meta)) {
		sp_err_set(e, "job field 'metadata' must be an object");
		return NULL;
	}
	if (check_known(meta, e) < 0)
		goto out;

	/* License-Expression and License-File are 2.4 fields (PEP 639);
	 * everything else spoke writes is 2.1, which every installer in use
	 * reads, so 2.4 is claimed only when one of them is written. */
	if (opt_string(meta, "license_expression", &lic_expr, e) < 0)
		goto out;
	if (lic_expr && opt_string(meta, "license", &lic_text, e) < 0)
		goto out;
	if (lic_expr && lic_text) {
		/* PEP 639: a tool writes one or the other, never both. */
		sp_err_set(e, "metadata fields 'license' and "
			      "'license_expression' exclude each other");
		goto out;
	}
	sb_add(&b, (lic_expr || json_array_size(json_object_get(
						 meta, "license_files")))
		       ? "Metadata-Version: 2.4\n"
		       : "Metadata-Version: 2.1\n");
	sb_add(&b, "Name: ");
	sb_add(&b, name);
	sb_add(&b, "\nVersion: ");
	sb_add(&b, version);
	sb_add(&b, "\n");
	if (field_summary(&b, meta, e) < 0 ||
	    field_line(&b, meta, "home_page", "Home-page", e) < 0 ||
	    field_line(&b, meta, "keywords", "Keywords", e) < 0 ||
	    field_line(&b, meta, "author", "Author", e) < 0 ||
	    field_line(&b, meta, "author_email", "Author-email", e) < 0 ||
	    field_line(&b, meta, "maintainer", "Maintainer", e) < 0 ||
	    field_line(&b, meta, "maintainer_email", "Maintainer-email", e) <
		0 ||
	    field_line(&b, meta, "license_expression", "License-Expression",
		       e) < 0 ||
	    field_folded(&b, meta, "license", "License", e) < 0 ||
	    field_list(&b, meta, "license_files", "License-File", e) < 0 ||
	    field_list(&b, meta, "classifiers", "Classifier", e) < 0 ||
	    field_line(&b, meta, "requires_python", "Requires-Python", e) < 0 ||
	    field_list(&b, meta, "requires_dist", "Requires-Dist", e) < 0 ||
	    field_list(&b, meta, "provides_extra", "Provides-Extra", e) < 0 ||
	    field_urls(&b, meta, e) < 0 ||
	    field_line(&b, meta, "description_content_type",
		       "Description-Content-Type", e) < 0 ||
	    opt_string(meta, "description", &desc, e) < 0) {
		free(b.p);
		goto out;
	}
	if (desc && *desc) {
		sb_add(&b, "\n");
		sb_add(&b, desc);
		if (desc[strlen(desc) - 1] != '\n')
			sb_add(&b, "\n");
	}
	out = sb_take(&b, e);
out:
	json_decref(empty);
	return out;
}

/* Splits a compressed tag set ("cp311.cp312") into its parts, each a
 * malloc'd string in *parts; returns the count or -1 on out-of-memory. */
static long split_tag(const char *tag, char ***parts)
{
	const char *p, *dot;
	char **v = NULL, **nv;
	long n = 0;

	for (p = tag;; p = dot + 1) {
		dot = strchr(p, '.');
		nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
		if (!nv)
			goto fail;
		v = nv;
		v[n] = dot ? strndup(p, (size_t)(dot - p)) : strdup(p);
		if (!v[n])
			goto fail;
		n++;
		if (!dot)
			break;
	}
	*parts = v;
	return n;
fail:
	while (n--)
		free(v[n]);
	free(v);
	return -1;
}

static void free_parts(char **v, long n)
{
	while (n-- > 0)
		free(v[n]);
	free(v);
}

char *wheel_file_render(const char *python_tag, const char *abi_tag,
			const char *platform_tag, struct sp_err *e)
{
	static const char *const keys[3] = {"python_tag", "abi_tag",
					    "platform_tag"};
	const char *const tags[3] = {python_tag, abi_tag, platform_tag};
	char **parts[3] = {NULL, NULL, NULL};
	long n[3] = {0, 0, 0}, i, j, k;
	struct sbuf b = {0};
	const char *tag;
	char *out = NULL;
	int t;

	for (t = 0; t < 3; t++) {
		if (!(tag = tags[t])) {
			sp_err_set(e, "job field '%s' is missing or not a "
				      "string",
				   keys[t]);
			goto out;
		}
		if (!tag_valid(tag)) {
			sp_err_set(e, "invalid wheel tag '%s' in '%s'", tag,
				   keys[t]);
			goto out;
		}
		n[t] = split_tag(tag, &parts[t]);
		if (n[t] < 0) {
			sp_err_set(e, "out of memory");
			goto out;
		}
	}
	sb_add(&b, "Wheel-Version: 1.0\n"
		   "Generator: spoke " SPOKE_VERSION "\n"
		   "Root-Is-Purelib: false\n");
	for (i = 0; i < n[0]; i++)
		for (j = 0; j < n[1]; j++)
			for (k = 0; k < n[2]; k++) {
				sb_add(&b, "Tag: ");
				sb_add(&b, parts[0][i]);
				sb_add(&b, "-");
				sb_add(&b, parts[1][j]);
				sb_add(&b, "-");
				sb_add(&b, parts[2][k]);
				sb_add(&b, "\n");
			}
	out = sb_take(&b, e);
out:
	for (t = 0; t < 3; t++)
		free_parts(parts[t], n[t]);
	return out;
}
