/*
 * pyfiles.c - the files of a wheel that do not come from cargo.
 */
#define _GNU_SOURCE
#include "worker/wheel/pyfiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* The folders of a wheel's .data an installer maps to a scheme path. */
static int data_scheme_ok(const char *dst)
{
	static const char *const schemes[] = {"data", "scripts", "headers",
					      "purelib", "platlib"};
	size_t i, n;

	for (i = 0; i < sizeof(schemes) / sizeof(*schemes); i++) {
		n = strlen(schemes[i]);
		if (strncmp(dst, schemes[i], n) == 0 && dst[n] == '/')
			return 1;
	}
	return 0;
}

enum list_kind { LIST_PY, LIST_LICENSE, LIST_DATA };

static int load_list(const struct pyfile_src *v, size_t n, const char *key,
		     enum list_kind kind, const char *prefix,
		     struct pyfile **out, size_t *nout, struct sp_err *e)
{
	static const char *const what[] = {"python file", "license file",
					   "data file"};
	size_t i;

	*out = NULL;
	*nout = 0;
	if (!n)
		return 0;
	*out = calloc(n + 1, sizeof(**out));
	if (!*out)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < n; i++) {
		const char *src = v[i].src, *dst = v[i].dst;
		struct pyfile *f = &(*out)[*nout];
		mode_t mode = 0;
		/* Only a python file may be generated text. */
		const int gen = kind == LIST_PY && !src && v[i].text;

		if (gen)
			src = "";
		if (!src || !dst || !dst_ok(dst))
			return sp_err_set(e,
					  "job field '%s' entry %zu needs a "
					  "'src' and a relative 'dst' without "
					  "'.' or '..' components",
					  key, i);
		/* The client refuses such names already; a job written by
		 * hand (the unit tests') gets the same refusal here. */
		if (record_name_ok(dst, what[kind], e) < 0)
			return -1;
		if (kind == LIST_PY && in_special_dir(dst))
			return sp_err_set(e,
					  "python file '%s' would land in a "
					  ".dist-info or .data folder",
					  dst);
		if (kind == LIST_DATA && !data_scheme_ok(dst))
			return sp_err_set(e,
					  "data file '%s' must lie in one of "
					  "data/, scripts/, headers/, "
					  "purelib/ or platlib/",
					  dst);
		if (asprintf(&f->dst, "%s%s", prefix ? prefix : "", dst) < 0) {
			f->dst = NULL;
			return sp_err_set(e, "out of memory");
		}
		(*nout)++;
		f->mode = 0644;
		if (gen) {
			f->len = strlen(v[i].text);
			f->data = strdup(v[i].text);
			if (!f->data)
				return sp_err_set(e, "out of memory");
			continue;
		}
		f->data = fsx_read_all_mode(src, &f->len, &mode, e);
		if (!f->data)
			return sp_err_wrap(e,
					   "cannot read a file for the wheel");
		/* maturin keeps a script's executable bit; the installer
		 * gives it to the installed file. */
		if (mode & 0111)
			f->mode = 0755;
	}
	qsort(*out, *nout, sizeof(**out), by_dst);
	return 0;
}

int pyfiles_load(const struct pyfile_src *py, size_t npy,
		 const struct pyfile_src *lic, size_t nlic,
		 const char *entry_points, const char *info_dir,
		 struct pyfiles *pf, struct sp_err *e)
{
	char *prefix = NULL;
	int rc = -1;

	memset(pf, 0, sizeof(*pf));
	pf->entry_points = entry_points && *entry_points ? entry_points : NULL;
	if (asprintf(&prefix, "%s/licenses/", info_dir) < 0)
		return sp_err_set(e, "out of memory");
	if (load_list(py, npy, "python_files", LIST_PY, NULL, &pf->py, &pf->npy,
		      e) < 0 ||
	    load_list(lic, nlic, "license_files", LIST_LICENSE, prefix,
		      &pf->lic, &pf->nlic, e) < 0)
		goto out;
	rc = 0;
out:
	free(prefix);
	if (rc < 0)
		pyfiles_release(pf);
	return rc;
}

int pyfiles_load_data(const struct pyfile_src *data, size_t ndata,
		      const char *data_dir, struct pyfiles *pf,
		      struct sp_err *e)
{
	char *prefix = NULL;
	int rc;

	if (asprintf(&prefix, "%s/", data_dir) < 0) {
		pyfiles_release(pf);
		return sp_err_set(e, "out of memory");
	}
	rc = load_list(data, ndata, "data_files", LIST_DATA, prefix, &pf->data,
		       &pf->ndata, e);
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
	free_list(pf->data, pf->ndata);
	memset(pf, 0, sizeof(*pf));
}
