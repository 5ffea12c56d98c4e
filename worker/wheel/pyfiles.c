/*
 * pyfiles.c - the files of a wheel that do not come from cargo.
 */
#define _GNU_SOURCE
#include "worker/wheel/pyfiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsx.h"
#include "worker/wheel/record.h"

/* A path the wheel may hold: relative, every component a real name.  zipw
 * checks again; this gives the message naming the job field. */
static int dst_ok(const char *p)
{
	const char *c, *end;
	size_t n;

	if (!*p || p[0] == '/')
		return 0;
	for (c = p;; c = end + 1) {
		end = strchr(c, '/');
		n = end ? (size_t)(end - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (!end)
			return 1;
	}
}

/* Installers give .dist-info and .data folders meaning: python sources
 * must not smuggle files into them. */
static int in_special_dir(const char *p)
{
	const char *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);

	return (n > 10 && strncmp(p + n - 10, ".dist-info", 10) == 0) ||
	       (n > 5 && strncmp(p + n - 5, ".data", 5) == 0);
}

static int by_dst(const void *a, const void *b)
{
	return strcmp(((const struct pyfile *)a)->dst,
		      ((const struct pyfile *)b)->dst);
}

static int load_list(const json_t *job, const char *key, const char *prefix,
		     struct pyfile **out, size_t *nout, struct sp_err *e)
{
	const json_t *list = json_object_get(job, key), *x;
	size_t i;

	*out = NULL;
	*nout = 0;
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return sp_err_set(e, "job field '%s' must be an array", key);
	*out = calloc(json_array_size(list) + 1, sizeof(**out));
	if (!*out)
		return sp_err_set(e, "out of memory");
	json_array_foreach(list, i, x)
	{
		const char *src = json_string_value(json_object_get(x, "src"));
		const char *dst = json_string_value(json_object_get(x, "dst"));
		struct pyfile *f = &(*out)[*nout];

		if (!src || !dst || !dst_ok(dst))
			return sp_err_set(e,
					  "job field '%s' entry %zu needs a "
					  "'src' and a relative 'dst' without "
					  "'.' or '..' components",
					  key, i);
		/* The client refuses such names already; a job written by
		 * hand (spoke wheel) gets the same refusal here. */
		if (record_name_ok(dst, prefix ? "license file" : "python file",
				   e) < 0)
			return -1;
		if (!prefix && in_special_dir(dst))
			return sp_err_set(e,
					  "python file '%s' would land in a "
					  ".dist-info or .data folder",
					  dst);
		if (asprintf(&f->dst, "%s%s", prefix ? prefix : "", dst) < 0) {
			f->dst = NULL;
			return sp_err_set(e, "out of memory");
		}
		(*nout)++;
		f->data = fsx_read_all(src, &f->len, e);
		if (!f->data)
			return sp_err_wrap(e,
					   "cannot read a file for the wheel");
	}
	qsort(*out, *nout, sizeof(**out), by_dst);
	return 0;
}

int pyfiles_load(const json_t *job, const char *info_dir, struct pyfiles *pf,
		 struct sp_err *e)
{
	const json_t *ep = json_object_get(job, "entry_points");
	char *prefix = NULL;
	int rc = -1;

	memset(pf, 0, sizeof(*pf));
	if (ep && !json_is_null(ep) && !json_is_string(ep))
		return sp_err_set(e, "job field 'entry_points' must be a "
				     "string");
	pf->entry_points = json_string_value(ep);
	if (pf->entry_points && !*pf->entry_points)
		pf->entry_points = NULL;
	if (asprintf(&prefix, "%s/licenses/", info_dir) < 0)
		return sp_err_set(e, "out of memory");
	if (load_list(job, "python_files", NULL, &pf->py, &pf->npy, e) < 0 ||
	    load_list(job, "license_files", prefix, &pf->lic, &pf->nlic, e) < 0)
		goto out;
	rc = 0;
out:
	free(prefix);
	if (rc < 0)
		pyfiles_release(pf);
	return rc;
}

static void free_list(struct pyfile *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].dst);
		free(v[i].data);
	}
	free(v);
}

void pyfiles_release(struct pyfiles *pf)
{
	free_list(pf->py, pf->npy);
	free_list(pf->lic, pf->nlic);
	memset(pf, 0, sizeof(*pf));
}
