/*
 * reuse.c - incremental packaging: a job's digest, and whether the wheel
 * recorded for it may be given again (reuse.h).
 */
#define _GNU_SOURCE
#include "server/reuse.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/identjson.h"
#include "common/sha256.h"
#include "common/version.h"

/* Members of the wire form that change from build to build without
 * changing the wheel.  The output folder's resolved path is one too: it
 * is known only once the folder is made, and the wheel's path as the
 * user gave it, with the wheel's identity checked there, already says
 * whether a symlink on the way leads elsewhere now. */
static const char *const per_build[] = {
    "id",	"build",   "staged_path", "staged_ident",
    "tmp_path", "threads", "progress",	  "out_dir_resolved",
};

json_t *reuse_form(const struct wheel_job *j, const json_t *inputs)
{
	json_t *o = job_to_json(j);
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < sizeof(per_build) / sizeof(*per_build); i++)
		json_object_del(o, per_build[i]);
	if (json_object_set(o, "inputs", (json_t *)inputs) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int reuse_form_digest(const json_t *form, char hex[65], struct sp_err *e)
{
	static const char head[] = REUSE_FORM_VERSION "\n";
	struct sha256 h;
	uint8_t d[32];
	char *text;

	text =
	    json_dumps(form, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		return sp_err_set(e, "out of memory");
	if (sha256_init(&h, e) < 0) {
		free(text);
		return -1;
	}
	sha256_update(&h, head, sizeof(head) - 1);
	sha256_update(&h, text, strlen(text));
	sha256_final(&h, d);
	hex_encode(d, sizeof(d), hex);
	free(text);
	return 0;
}

/* {"path", "ident"} of path (followed, as the worker opens it); "ident"
 * null when there is no file. */
static json_t *stamp_json(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return json_pack("{s:s,s:n,s:i}", "path", path, "ident",
				 "errno", errno);
	return json_pack("{s:s,s:o}", "path", path, "ident", ident_json(&st));
}

json_t *reuse_ambient(struct sp_err *e)
{
	/* The coordinator and its workers run one executable (the workers
	 * are forked from it), so its identity, read once, stands for the
	 * code that writes every wheel: a rebuilt spoke of the same version
	 * is another spoke. */
	static json_t *exe;
	json_t *o, *paths = NULL, *stamps, *v;
	char hex[65];
	int complete = 0;
	size_t i;

	if (!exe) {
		char path[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

		if (n <= 0) {
			sp_err_sys(e, "cannot read /proc/self/exe");
			return NULL;
		}
		path[n] = '\0';
		exe = stamp_json(path);
		if (!exe) {
			sp_err_set(e, "out of memory");
			return NULL;
		}
	}
	if (job_ambient_inputs(&paths, &complete, e) < 0)
		return NULL;
	if (!complete) {
		json_decref(paths);
		sp_err_set(e, "ld.so.conf includes a pattern in a folder name");
		return NULL;
	}
	stamps = json_array();
	json_array_foreach(paths, i, v)
	    json_array_append_new(stamps, stamp_json(json_string_value(v)));
	json_decref(paths);
	o = json_pack("{s:s,s:O,s:o}", "version", spoke_version(), "exe", exe,
		      "files", stamps);
	if (!o) {
		sp_err_set(e, "out of memory");
		return NULL;
	}
	/* Every job's form holds the same ambient: its digest, taken once
	 * here, stands for it, so each job hashes 64 characters of it and
	 * not its whole text (most of a small job's form). */
	if (reuse_form_digest(o, hex, e) < 0) {
		json_decref(o);
		return NULL;
	}
	json_decref(o);
	v = json_string(hex);
	if (!v)
		sp_err_set(e, "out of memory");
	return v;
}

/* The identity and sha256 of each file that has a source on disk; a
 * generated one is in the form already, as its text. */
static int files_inputs(json_t *arr, const struct pyfile_src *v, size_t n,
			struct sp_err *e)
{
	struct stat st;
	char hex[65];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!v[i].src)
			continue;
		/* Stat first: a change while it is read shows in the
		 * identity next time. */
		if (stat(v[i].src, &st) < 0)
			return sp_err_sys(e, "cannot stat '%s'", v[i].src);
		if (sha256_file_hex(v[i].src, hex, e) < 0)
			return -1;
		if (json_array_append_new(arr, json_pack("{s:s,s:o,s:s}", "src",
							 v[i].src, "ident",
							 ident_json(&st),
							 "sha256", hex)) < 0)
			return sp_err_set(e, "out of memory");
	}
	return 0;
}

int reuse_digest(const struct wheel_job *j, const json_t *ambient, char hex[65],
		 struct stat *art, struct sp_err *e)
{
	json_t *inputs = NULL, *files, *form = NULL;
	struct stat st;
	int rc = -1;

	if (j->options.split_debug)
		return sp_err_set(e, "--split-debug writes files beside the "
				     "wheel");
	if (!ambient)
		return sp_err_set(e, "no ambient inputs");
	if (!j->cargo_path || stat(j->cargo_path, &st) < 0)
		return sp_err_sys(e, "cannot stat '%s'",
				  j->cargo_path ? j->cargo_path : "");
	/* The artifact's ctime is not in the digest: staging changes it (a
	 * hard link's count, a rename).  It is compared on its own
	 * (reuse_lookup), with the ctime recorded once spoke gave the file
	 * back (reuse_art_ctime). */
	*art = st;
	files = json_array();
	inputs = json_pack("{s:{s:I,s:I,s:I,s:I},s:O,s:o}", "artifact", "dev",
			   (json_int_t)st.st_dev, "ino", (json_int_t)st.st_ino,
			   "size", (json_int_t)st.st_size, "mtime_ns",
			   (json_int_t)ident_ns(&st.st_mtim), "ambient",
			   ambient, "files", files);
	if (!inputs) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	if (files_inputs(files, j->python_files, j->npython_files, e) < 0 ||
	    files_inputs(files, j->license_files, j->nlicense_files, e) < 0 ||
	    files_inputs(files, j->data_files, j->ndata_files, e) < 0)
		goto out;
	if (!(form = reuse_form(j, inputs))) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	rc = reuse_form_digest(form, hex, e);
out:
	json_decref(form);
	json_decref(inputs);
	return rc;
}

static int ident_equal(const json_t *ident, const struct stat *st)
{
	json_t *now = ident_json(st);
	int same = now && json_equal((json_t *)ident, now);

	json_decref(now);
	return same;
}

int reuse_lookup(struct journal *jn, const char *digest,
		 const struct stat *art, int want_repair, json_t **result,
		 const char **why, struct sp_err *e)
{
	struct journal_reuse r;
	json_error_t jerr;
	json_t *found = NULL, *res = NULL, *f;
	struct stat st;
	size_t i;
	int rc;

	*result = NULL;
	*why = NULL;
	rc = journal_reuse_get(jn, digest, &r, e);
	if (rc <= 0)
		return rc;
	rc = 0;
	/* An in-place rewrite that kept size and mtime shows only here. */
	if (!r.has_art_ctime) {
		*why = "cargo's file was not given back when it was written";
		goto out;
	}
	if (ident_ns(&art->st_ctim) != r.art_ctime_ns) {
		*why = "cargo's file was changed in place";
		goto out;
	}
	if (lstat(r.final_path, &st) < 0) {
		*why = "the wheel is gone";
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_dev != r.ident.dev ||
	    (uint64_t)st.st_ino != r.ident.ino ||
	    (int64_t)st.st_size != r.ident.size ||
	    ident_ns(&st.st_mtim) != r.ident.mtime_ns ||
	    ident_ns(&st.st_ctim) != r.ctime_ns) {
		*why = "the wheel was changed or replaced";
		goto out;
	}
	found = json_loads(r.found, 0, &jerr);
	res = json_loads(r.result, 0, &jerr);
	if (!json_is_array(found) || !json_is_object(res) ||
	    strcmp(json_string_value(json_object_get(res, "wheel")) ?: "",
		   r.final_path) != 0) {
		*why = "the journal's record is unreadable";
		goto out;
	}
	json_array_foreach(found, i, f)
	{
		const char *p = json_string_value(json_object_get(f, "path"));
		json_t *id = json_object_get(f, "ident");

		/* A null identity: the folder could not be read when
		 * searched, and must still not be. */
		if (!p || (json_is_null(id) ? stat(p, &st) == 0
					     : (stat(p, &st) < 0 ||
						!ident_equal(id, &st)))) {
			*why = "a bundled library or a folder searched "
			       "before it changed";
			goto out;
		}
	}
	if (want_repair && r.repair) {
		json_t *rep = json_loads(r.repair, 0, &jerr);

		if (!json_is_object(rep) ||
		    json_object_set_new(res, "repair", rep) < 0) {
			*why = "the journal's record is unreadable";
			goto out;
		}
	}
	*result = res;
	res = NULL;
	rc = 1;
out:
	json_decref(found);
	json_decref(res);
	journal_reuse_release(&r);
	return rc;
}

/* Appends each {"path", "ident"} of list (a worker's "grafted" or
 * "searched") to found: ident an object, or null where null_ok (a folder
 * that could not be read).  Returns -1 with e set when one lacks them
 * (what names its kind) or out of memory: the wheel is then not
 * recorded, since a shorter list would let a changed library pass. */
static int found_add(json_t *found, json_t *list, int null_ok,
		     const char *what, struct sp_err *e)
{
	json_t *g;
	size_t i;

	json_array_foreach(list, i, g)
	{
		json_t *p = json_object_get(g, "path"),
		       *id = json_object_get(g, "ident");

		if (!json_is_string(p) ||
		    !(json_is_object(id) || (null_ok && json_is_null(id))))
			return sp_err_set(e,
					  "the result names %s without its "
					  "identity",
					  what);
		if (json_array_append_new(found, json_pack("{s:O,s:O}", "path",
							   p, "ident", id)) < 0)
			return sp_err_set(e, "out of memory");
	}
	return 0;
}

int reuse_record(struct journal *jn, const char *digest, int64_t build,
		 const char *path, const json_t *result, struct sp_err *e)
{
	struct journal_reuse r;
	json_t *found = json_array(), *res = NULL;
	struct stat st;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (!found)
		return sp_err_set(e, "out of memory");
	/* What the worker found on its own, with the identities it read
	 * them with (worker/repair: the fstat of what it bundled, the stat
	 * of each folder searched before one was found). */
	if (found_add(found, json_object_get(result, "grafted"), 0,
		      "a bundled library", e) < 0 ||
	    found_add(found, json_object_get(result, "searched"), 1,
		      "a searched folder", e) < 0) {
		rc = 0;
		goto out;
	}
	if (lstat(path, &st) < 0) {
		sp_err_sys(e, "cannot stat '%s'", path);
		rc = 0;
		goto out;
	}
	/* The wheel the worker wrote, or nothing: between its rename and
	 * this batched "done" another file may have taken the path.  The
	 * worker's identity of what it renamed settles which. */
	if (!S_ISREG(st.st_mode) ||
	    !json_is_object(json_object_get(result, "wheel_ident")) ||
	    !ident_equal(json_object_get(result, "wheel_ident"), &st)) {
		sp_err_set(e, "'%s' is not the wheel written", path);
		rc = 0;
		goto out;
	}
	res = json_deep_copy(result);
	if (!res || json_object_set_new(res, "wheel", json_string(path)) < 0)
		goto oom;
	json_object_del(res, "job");
	json_object_del(res, "ok");
	json_object_del(res, "wheel_ident");
	json_object_del(res, "searched");
	snprintf(r.digest, sizeof(r.digest), "%s", digest);
	r.final_path = (char *)path;
	r.ident.dev = (uint64_t)st.st_dev;
	r.ident.ino = (uint64_t)st.st_ino;
	r.ident.size = (int64_t)st.st_size;
	r.ident.mtime_ns = ident_ns(&st.st_mtim);
	r.ctime_ns = ident_ns(&st.st_ctim);
	snprintf(r.sha256, sizeof(r.sha256), "%s",
		 json_string_value(json_object_get(result, "sha256")) ?: "");
	if (json_object_get(res, "repair")) {
		r.repair = json_dumps(json_object_get(res, "repair"),
				      JSON_COMPACT);
		if (!r.repair)
			goto oom;
		json_object_del(res, "repair");
	}
	r.found = json_dumps(found, JSON_COMPACT);
	r.result = json_dumps(res, JSON_COMPACT);
	r.build_id = build;
	if (!r.found || !r.result)
		goto oom;
	rc = journal_reuse_put(jn, &r, e) < 0 ? -1 : 1;
	goto out;
oom:
	rc = sp_err_set(e, "out of memory");
out:
	free(r.found);
	free(r.result);
	free(r.repair);
	json_decref(res);
	json_decref(found);
	return rc;
}

int reuse_art_ctime(struct journal *jn, const char *digest, int64_t build,
		    const char *cargo_path, const struct stat *art,
		    struct sp_err *e)
{
	struct fsx_ident id;
	struct stat st;

	/* Only the file the digest was taken of: another one (cargo built
	 * again meanwhile) leaves the rows as they are, and they are not
	 * reused. */
	if (stat(cargo_path, &st) < 0 || st.st_dev != art->st_dev ||
	    st.st_ino != art->st_ino || st.st_size != art->st_size ||
	    ident_ns(&st.st_mtim) != ident_ns(&art->st_mtim))
		return 0;
	id.dev = (uint64_t)st.st_dev;
	id.ino = (uint64_t)st.st_ino;
	id.size = (int64_t)st.st_size;
	id.mtime_ns = ident_ns(&st.st_mtim);
	return journal_reuse_art_ctime(jn, digest, build, &id,
				       ident_ns(&art->st_ctim), ident_ns(&st.st_ctim),
				       e);
}
