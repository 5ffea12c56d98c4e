#define _GNU_SOURCE
#include "cli/project/artifacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/project/pysrc.h"
#include "common/frame.h"
#include "common/fsx.h"
#include "common/path.h"
#include "common/pyname.h"
#include "worker/elf/inspect.h"
#include "worker/elf/machine.h"
#include "worker/wheel/record.h"

static const char *const known_fields[] = {
	"path", "distribution", "version", "module", "metadata",
	"linked_paths", "python_tag", "abi_tag", "ext_suffix",
};

/* The tags an entry may declare in place of the interpreter's: all three
 * or none. */
static const char *const tag_fields[] = {"python_tag", "abi_tag",
					 "ext_suffix"};
#define NTAGS (sizeof(tag_fields) / sizeof(*tag_fields))

/* How many of the tag fields entry a has. */
static size_t tags_given(const json_t *a)
{
	size_t k, n = 0;

	for (k = 0; k < NTAGS; k++)
		n += json_object_get(a, tag_fields[k]) != NULL;
	return n;
}

/* Checks an entry's tag fields: none, or all three non-empty strings.
 * label names the entry. */
static int check_tags(const json_t *a, const char *label, struct sp_err *e)
{
	size_t k, n = tags_given(a);
	const json_t *v;

	if (n == 0)
		return 0;
	for (k = 0; k < NTAGS; k++) {
		v = json_object_get(a, tag_fields[k]);
		if (!v)
			return sp_err_set(e,
					  "%s: missing field '%s' (python_tag, "
					  "abi_tag and ext_suffix go "
					  "together: all three, or none to ask "
					  "the interpreter)",
					  label, tag_fields[k]);
		if (!json_is_string(v) || json_string_length(v) == 0)
			return sp_err_set(e,
					  "%s: field '%s' must be a non-empty "
					  "string",
					  label, tag_fields[k]);
	}
	return 0;
}

/* metadata.license_files names License-File values, which are places in
 * the wheel's licenses/ folder (PEP 639): each is also a file relative to
 * the artifacts file's folder, copied to that place.  A name that is not
 * a plain relative path ("../../etc/passwd") is refused, so that METADATA
 * cannot point outside it; so is a file that is a link out of that
 * folder, unless the files are declared inputs (use): a build system's
 * sandbox gives them as links into its workspace. */
static int license_files(json_t *job, const json_t *meta, const char *dir,
			 enum artifacts_use use, const char *label,
			 struct sp_err *e)
{
	const json_t *lf = json_object_get(meta, "license_files"), *x;
	json_t *out;
	struct stat st;
	size_t k;

	if (!lf || json_is_null(lf))
		return 0;
	if (!json_is_array(lf))
		return sp_err_set(e,
				  "%s: metadata field 'license_files' must "
				  "be an array of strings",
				  label);
	out = json_array();
	if (!out || json_object_set_new(job, "license_files", out) < 0)
		return sp_err_set(e, "out of memory");
	json_array_foreach(lf, k, x)
	{
		const char *name = json_string_value(x);
		char *src;
		int r;

		if (!name)
			return sp_err_set(e,
					  "%s: metadata field 'license_files' "
					  "must hold strings",
					  label);
		if (record_name_ok(name, "license file", e) < 0)
			return sp_err_wrap(e,
					   "%s: a License-File is a path "
					   "inside the wheel's licenses/ "
					   "folder",
					   label);
		src = path_join(dir, name);
		if (!src)
			return sp_err_set(e, "out of memory");
		if (stat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
			sp_err_set(e,
				   "%s: license file '%s' is not a file beside "
				   "the artifacts file",
				   label, src);
			free(src);
			return -1;
		}
		r = use == ARTIFACTS_DECLARED
			? 0
			: pysrc_inside(src, dir, "license file", e);
		if (r == 0 && json_array_append_new(
				  out, json_pack("{s:s,s:s}", "src", src,
						 "dst", name)) < 0)
			r = sp_err_set(e, "out of memory");
		free(src);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* The entry's search paths, relative ones made relative to the file like
 * "path" is: the coordinator, which searches them, has another working
 * directory. */
static int linked_paths(json_t *job, const json_t *paths, const char *dir,
			struct sp_err *e)
{
	json_t *out = json_array(), *x;
	size_t k;

	if (!out || json_object_set_new(job, "linked_paths", out) < 0)
		return sp_err_set(e, "out of memory");
	json_array_foreach(paths, k, x)
	{
		const char *p = json_string_value(x);
		char *abs = p[0] == '/' ? strdup(p) : path_join(dir, p);

		if (!abs || json_array_append_new(out, json_string(abs)) < 0) {
			free(abs);
			return sp_err_set(e, "out of memory");
		}
		free(abs);
	}
	return 0;
}

static int check_entry(const json_t *a, size_t i, const char *dir,
		       enum artifacts_use use,
		       json_t *seen_paths, json_t *seen_dists, json_t **job,
		       struct sp_err *e)
{
	const char *key, *path, *dist, *version, *module;
	char *abs = NULL, *real = NULL, label[64];
	json_t *v;
	struct stat st;
	size_t k;

	snprintf(label, sizeof(label), "artifact %zu", i);
	if (!json_is_object(a))
		return sp_err_set(e, "%s: not an object", label);
	json_object_foreach((json_t *)a, key, v)
	{
		for (k = 0; k < sizeof(known_fields) / sizeof(*known_fields);
		     k++)
			if (!strcmp(key, known_fields[k]))
				break;
		if (k == sizeof(known_fields) / sizeof(*known_fields))
			return sp_err_set(e, "%s: unknown field '%s'", label,
					  key);
	}
	for (k = 0; k < 4; k++) {
		v = json_object_get(a, known_fields[k]);
		if (!v)
			return sp_err_set(e, "%s: missing field '%s'", label,
					  known_fields[k]);
		if (!json_is_string(v) || json_string_length(v) == 0)
			return sp_err_set(e,
					  "%s: field '%s' must be a non-empty "
					  "string",
					  label, known_fields[k]);
	}
	if (check_tags(a, label, e) < 0)
		return -1;
	path = json_string_value(json_object_get(a, "path"));
	dist = json_string_value(json_object_get(a, "distribution"));
	version = json_string_value(json_object_get(a, "version"));
	module = json_string_value(json_object_get(a, "module"));
	snprintf(label, sizeof(label), "artifact %zu ('%.40s')", i, path);
	/* The rules the coordinator and the worker apply too; the tags,
	 * when the entry does not declare them, are the interpreter's,
	 * checked once they are known. */
	{
		struct pyname_artifact pa = {
		    dist,
		    version,
		    module,
		    json_string_value(json_object_get(a, "python_tag")),
		    json_string_value(json_object_get(a, "abi_tag")),
		    NULL,
		    json_string_value(json_object_get(a, "ext_suffix"))};

		if (pyname_check_artifact(&pa, e) < 0)
			return sp_err_wrap(e, "%s", label);
	}
	v = json_object_get(a, "metadata");
	if (v && !json_is_object(v))
		return sp_err_set(e, "%s: field 'metadata' must be an object",
				  label);
	v = json_object_get(a, "linked_paths");
	if (v) {
		json_t *x;

		if (!json_is_array(v))
			return sp_err_set(e, "%s: field 'linked_paths' must "
					     "be an array of strings",
					  label);
		json_array_foreach(v, k, x)
		if (!json_is_string(x))
			return sp_err_set(e, "%s: field 'linked_paths' must "
					     "be an array of strings",
					  label);
	}
	abs = path[0] == '/' ? strdup(path) : path_join(dir, path);
	if (!abs)
		return sp_err_set(e, "out of memory");
	if (stat(abs, &st) < 0) {
		sp_err_sys(e, "%s: cannot use '%s'", label, abs);
		free(abs);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		sp_err_set(e, "%s: '%s' is not a regular file", label, abs);
		free(abs);
		return -1;
	}
	real = realpath(abs, NULL);
	free(abs);
	if (!real)
		return sp_err_sys(e, "%s: cannot resolve '%s'", label, path);
	{
		char *norm = dist_normalize(dist);
		json_t *prev_p = json_object_get(seen_paths, real);
		json_t *prev_d = norm ? json_object_get(seen_dists, norm) : NULL;

		if (prev_p || prev_d) {
			sp_err_set(e,
				   "%s: duplicate %s (also artifact %lld)",
				   label, prev_p ? "path" : "distribution",
				   (long long)json_integer_value(
					   prev_p ? prev_p : prev_d));
			free(norm);
			free(real);
			return -1;
		}
		json_object_set_new(seen_paths, real, json_integer((json_int_t)i));
		if (norm)
			json_object_set_new(seen_dists, norm,
					    json_integer((json_int_t)i));
		free(norm);
	}
	*job = json_pack("{s:s,s:s,s:s,s:s}", "cargo_path", real,
			 "distribution", dist, "version", version, "module",
			 module);
	free(real);
	if (!*job)
		return sp_err_set(e, "out of memory");
	if (json_object_get(a, "metadata"))
		json_object_set(*job, "metadata",
				json_object_get(a, "metadata"));
	for (k = 0; k < NTAGS; k++)
		if (json_object_get(a, tag_fields[k]))
			json_object_set(*job, tag_fields[k],
					json_object_get(a, tag_fields[k]));
	if (license_files(*job, json_object_get(a, "metadata"), dir, use,
			  label, e) < 0)
		return -1;
	return linked_paths(*job, json_object_get(a, "linked_paths"), dir,
			    e);
}

json_t *artifacts_parse(const char *buf, size_t len, const char *file,
			const char *dir, enum artifacts_use use,
			struct sp_err *e)
{
	json_t *seen_p = json_object(), *seen_d = json_object();
	json_t *root, *arts, *a, *jobs = NULL;
	json_error_t jerr;
	size_t i;
	int rc = -1;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		sp_err_set(e, "cannot read '%s': %s (line %d)", file, jerr.text,
			   jerr.line);
		goto out;
	}
	arts = json_object_get(root, "artifacts");
	if (!json_is_object(root) || !json_is_array(arts)) {
		sp_err_set(e, "'%s': expected {\"artifacts\": [...]}", file);
		goto out;
	}
	if (json_array_size(arts) == 0) {
		sp_err_set(e, "'%s': no artifacts", file);
		goto out;
	}
	/* The coordinator would refuse the build; say so before checking
	 * (and stat'ing) every entry. */
	if (json_array_size(arts) > BUILD_MAX_ARTIFACTS) {
		sp_err_set(e, "'%s': %zu artifacts, more than the limit of %u "
			      "per build",
			   file, json_array_size(arts), BUILD_MAX_ARTIFACTS);
		goto out;
	}
	jobs = json_array();
	if (!jobs || !seen_p || !seen_d) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	json_array_foreach(arts, i, a)
	{
		json_t *job = NULL;

		if (check_entry(a, i, dir, use, seen_p, seen_d, &job, e) < 0) {
			json_decref(job);
			sp_err_wrap(e, "'%s'", file);
			goto out;
		}
		/* One source of tags for the whole file: the interpreter is
		 * asked for every entry or for none. */
		if (i > 0 && !tags_given(a) !=
				 !tags_given(json_array_get(arts, 0))) {
			json_decref(job);
			sp_err_set(e,
				   "'%s': artifact %zu %s python_tag, abi_tag "
				   "and ext_suffix but artifact 0 %s: give "
				   "them in every entry or in none",
				   file, i, tags_given(a) ? "declares" : "lacks",
				   tags_given(a) ? "does not" : "does");
			goto out;
		}
		json_array_append_new(jobs, job);
	}
	rc = 0;
out:
	if (rc < 0) {
		json_decref(jobs);
		jobs = NULL;
	}
	json_decref(root);
	json_decref(seen_p);
	json_decref(seen_d);
	return jobs;
}

json_t *artifacts_load(const char *file, enum artifacts_use use,
		       char **dir, struct sp_err *e)
{
	char *abs = NULL, *text = NULL;
	json_t *jobs = NULL;
	size_t len = 0;

	*dir = NULL;
	abs = path_absolute(file, e);
	if (!abs)
		goto out;
	*dir = path_dirname(abs);
	if (!*dir) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	/* A FIFO would block the open until someone writes to it. */
	text = fsx_read_regular(abs, &len, e);
	if (text)
		jobs = artifacts_parse(text, len, abs, *dir, use, e);
out:
	if (!jobs) {
		free(*dir);
		*dir = NULL;
	}
	free(text);
	free(abs);
	return jobs;
}

int artifacts_plan(const json_t *jobs, const char *dir,
		   const char *interpreter, struct cargo_plan *plan,
		   struct sp_err *e)
{
	json_t *a;
	size_t i;
	int rc = -1;

	memset(plan, 0, sizeof(*plan));
	plan->jobs = json_deep_copy(jobs);
	plan->target_dir = strdup(dir);
	if (!plan->jobs || !plan->target_dir) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	/* Declared tags replace the interpreter's: none is started. */
	if (artifacts_tagged(plan->jobs)) {
		json_array_foreach(plan->jobs, i, a)
		{
			char *plat = artifacts_linux_tag(
			    json_string_value(json_object_get(a, "cargo_path")),
			    e);

			if (!plat ||
			    json_object_set_new(a, "platform_tag",
						json_string(plat)) < 0 ||
			    json_object_set_new(a, "tags_declared",
						json_true()) < 0) {
				if (plat)
					sp_err_set(e, "out of memory");
				free(plat);
				goto out;
			}
			free(plat);
		}
		rc = 0;
		goto out;
	}
	if (pyinfo_query(interpreter, NULL, 0, &plan->py, e) < 0)
		goto out;
	json_array_foreach(plan->jobs, i, a)
	{
		json_object_set_new(a, "python_tag",
				    json_string(plan->py.python_tag));
		json_object_set_new(a, "abi_tag", json_string(plan->py.abi_tag));
		json_object_set_new(a, "platform_tag",
				    json_string(plan->py.platform_tag));
		json_object_set_new(a, "ext_suffix",
				    json_string(plan->py.ext_suffix));
	}
	rc = 0;
out:
	if (rc < 0)
		cargo_plan_release(plan);
	return rc;
}

int artifacts_tagged(const json_t *jobs)
{
	return json_object_get(json_array_get(jobs, 0), "python_tag") != NULL;
}

char *artifacts_linux_tag(const char *path, struct sp_err *e)
{
	struct elf_info info;
	const char *arch;
	char *tag = NULL;

	if (elf_inspect(path, &info, e) < 0)
		return NULL;
	arch = elf_arch_name(info.id.machine, info.id.elfclass, info.id.data,
			     info.id.flags);
	if (!arch)
		sp_err_set(e,
			   "'%s' is for a machine spoke knows no wheel "
			   "platform of (e_machine %u)",
			   path, (unsigned)info.id.machine);
	else if (!(tag = wheel_linux_tag(arch)))
		sp_err_set(e, "out of memory");
	elf_info_release(&info);
	return tag;
}
