#include "worker/wheel_job.h"

#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "common/pyname.h"
#include "worker/repair/ldresolve.h"
#include "worker/repair/policy.h"

/* Where the coordinator's job meets JSON: job_parse() reads the wire form
 * once, at receipt, and job_to_json() writes it once, at hand-over. */

/* What a parse requires: a worker's job has every path; a client's
 * request has none of them yet (the coordinator plans them). */
enum job_kind { JOB_WIRE, JOB_REQUEST };

static const char *const level_names[] = {"store", "fast", "default",
					  "best"};
static const int level_values[] = {0, 1, 6, 12};

void wheel_job_release(struct wheel_job *j)
{
	size_t i;

	free(j->cargo_path);
	free(j->staged_path);
	free(j->out_dir);
	free(j->out_dir_resolved);
	free(j->tmp_path);
	free(j->final_path);
	free(j->wheel_name);
	free(j->distribution);
	free(j->version);
	free(j->module);
	free(j->python_tag);
	free(j->abi_tag);
	free(j->platform_tag);
	free(j->ext_suffix);
	free(j->program);
	json_decref(j->metadata);
	for (i = 0; i < j->npython_files; i++) {
		free(j->python_files[i].src);
		free(j->python_files[i].dst);
		free(j->python_files[i].text);
	}
	free(j->python_files);
	for (i = 0; i < j->ndata_files; i++) {
		free(j->data_files[i].src);
		free(j->data_files[i].dst);
	}
	free(j->data_files);
	for (i = 0; i < j->nlicense_files; i++) {
		free(j->license_files[i].src);
		free(j->license_files[i].dst);
	}
	free(j->license_files);
	free(j->entry_points);
	free((void *)j->options.compat);
	free((void *)j->options.ld_library_path);
	for (i = 0; i < j->options.nexclude; i++)
		free((void *)j->options.exclude[i]);
	free((void *)j->options.exclude);
	for (i = 0; i < j->options.nlib; i++)
		free((void *)j->options.lib_path[i]);
	free((void *)j->options.lib_path);
	for (i = 0; i < j->options.nlinked; i++)
		free((void *)j->options.linked_paths[i]);
	free((void *)j->options.linked_paths);
	memset(j, 0, sizeof(*j));
}

/* A string member: *out is a copy, or NULL when the member is absent or
 * null and not required.  An empty string counts as missing. */
static int get_str(const json_t *o, const char *key, int required,
		   char **out, struct sp_err *e)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return sp_err_set(e, "job field '%s' is missing or "
					     "not a string",
					  key);
		return 0;
	}
	if (!json_is_string(v) || (required && !json_string_length(v)))
		return sp_err_set(e, "job field '%s' is missing or not a "
				     "string",
				  key);
	*out = strdup(json_string_value(v));
	return *out ? 0 : sp_err_set(e, "out of memory");
}

/* An array of non-empty strings, copied; absent or null: none. */
static int get_str_array(const json_t *v, const char *what,
			 const char *const **out, size_t *n, struct sp_err *e)
{
	const char **a;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return sp_err_set(e, "job field '%s' must be an array of "
				     "strings",
				  what);
	a = calloc(json_array_size(v) + 1, sizeof(*a));
	if (!a)
		return sp_err_set(e, "out of memory");
	*out = a;
	for (i = 0; i < json_array_size(v); i++) {
		const json_t *s = json_array_get(v, i);

		if (!json_is_string(s) || !json_string_length(s))
			return sp_err_set(e, "job field '%s' must be an array "
					     "of non-empty strings",
					  what);
		if (!(a[*n] = strdup(json_string_value(s))))
			return sp_err_set(e, "out of memory");
		(*n)++;
	}
	return 0;
}

/* [{"src", "dst"}], copied; what the paths may be is pyfiles.h's to
 * check, as it reads them.  With gen, an entry may be {"dst", "text"}
 * instead (a generated file). */
static int get_files(const json_t *o, const char *key, int gen,
		     struct pyfile_src **out, size_t *n, struct sp_err *e)
{
	const json_t *list = json_object_get(o, key), *x;
	size_t i;

	*out = NULL;
	*n = 0;
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
		const char *text =
		    gen ? json_string_value(json_object_get(x, "text")) : NULL;

		if (!(src || text) || (src && text) || !dst)
			return sp_err_set(e,
					  "job field '%s' entry %zu needs a "
					  "'src' %sand a 'dst' string",
					  key, i, gen ? "or a 'text' " : "");
		(*out)[*n].src = src ? strdup(src) : NULL;
		(*out)[*n].text = text ? strdup(text) : NULL;
		(*out)[*n].dst = strdup(dst);
		(*n)++;
		if ((src && !(*out)[*n - 1].src) ||
		    (text && !(*out)[*n - 1].text) || !(*out)[*n - 1].dst)
			return sp_err_set(e, "out of memory");
	}
	return 0;
}

/* The "options" object and "linked_paths" (repair.h). */
static int get_options(const json_t *o, struct repair_opts *r,
		       struct sp_err *e)
{
	const json_t *opt = json_object_get(o, "options"), *v;
	char *s = NULL;

	memset(r, 0, sizeof(*r));
	if (opt && !json_is_object(opt) && !json_is_null(opt))
		return sp_err_set(e, "job field 'options' must be an object");
	v = json_object_get(opt, "repair");
	if (v && !json_is_null(v) &&
	    (!json_is_string(v) ||
	     repair_mode_parse(json_string_value(v), &r->mode) < 0))
		return sp_err_set(e, "option 'repair' must be repair, check, "
				     "skip or warn");
	v = json_object_get(opt, "compat");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || !json_string_length(v))
			return sp_err_set(e, "option 'compat' must be a "
					     "manylinux tag");
		if (!(s = strdup(json_string_value(v))))
			return sp_err_set(e, "out of memory");
		r->compat = s;
	}
	v = json_object_get(opt, "ld_library_path");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return sp_err_set(e, "option 'ld_library_path' must "
					     "be a string");
		if (!(s = strdup(json_string_value(v))))
			return sp_err_set(e, "out of memory");
		r->ld_library_path = s;
	}
	v = json_object_get(opt, "search");
	if (v && !json_is_null(v) &&
	    (!json_is_string(v) ||
	     repair_search_parse(json_string_value(v), &r->search) < 0))
		return sp_err_set(e, "option 'search' must be system or "
				     "declared");
	r->split_debug = json_is_true(json_object_get(opt, "split_debug"));
	if (get_str_array(json_object_get(opt, "exclude"), "options.exclude",
			  &r->exclude, &r->nexclude, e) < 0 ||
	    get_str_array(json_object_get(opt, "lib_path"),
			  "options.lib_path", &r->lib_path, &r->nlib, e) < 0 ||
	    get_str_array(json_object_get(o, "linked_paths"), "linked_paths",
			  &r->linked_paths, &r->nlinked, e) < 0)
		return -1;
	return 0;
}

/* A program becomes a zip entry's last component and a file in the
 * environment's bin/: held to the characters cargo allows in target
 * names, and never "." or "..". */
static int program_name_valid(const char *s)
{
	if (!s[0] || s[0] == '.')
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-",
			    *s))
			return 0;
	return 1;
}

static int get_level(const json_t *o, int *level, struct sp_err *e)
{
	const json_t *v = json_object_get(o, "compression");
	size_t i;

	*level = 6;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return sp_err_set(e,
				  "job field 'compression' must be a string");
	for (i = 0; i < 4; i++)
		if (strcmp(json_string_value(v), level_names[i]) == 0) {
			*level = level_values[i];
			return 0;
		}
	return sp_err_set(e,
			  "unknown compression '%s' (expected store, fast, "
			  "default or best)",
			  json_string_value(v));
}

/* The fields a job shares with the artifact of a request. */
static int parse_fields(const json_t *o, enum job_kind kind,
			struct wheel_job *j, struct sp_err *e)
{
	const int wire = kind == JOB_WIRE;
	struct pyname_artifact a;
	const json_t *v;

	if (!json_is_object(o))
		return sp_err_set(e, "the job is not a JSON object");
	if (get_str(o, "cargo_path", !wire, &j->cargo_path, e) < 0 ||
	    get_str(o, "staged_path", wire, &j->staged_path, e) < 0 ||
	    get_str(o, "tmp_path", wire, &j->tmp_path, e) < 0 ||
	    get_str(o, "final_path", wire, &j->final_path, e) < 0 ||
	    get_str(o, "wheel_name", 0, &j->wheel_name, e) < 0 ||
	    get_str(o, "out_dir", 0, &j->out_dir, e) < 0 ||
	    get_str(o, "out_dir_resolved", 0, &j->out_dir_resolved, e) < 0 ||
	    get_str(o, "distribution", 1, &j->distribution, e) < 0 ||
	    get_str(o, "version", 1, &j->version, e) < 0 ||
	    get_str(o, "module", 1, &j->module, e) < 0 ||
	    get_str(o, "python_tag", 1, &j->python_tag, e) < 0 ||
	    get_str(o, "abi_tag", 1, &j->abi_tag, e) < 0 ||
	    get_str(o, "platform_tag", 1, &j->platform_tag, e) < 0 ||
	    get_str(o, "ext_suffix", 1, &j->ext_suffix, e) < 0)
		return -1;
	if (!wire && j->cargo_path[0] != '/')
		return sp_err_set(e, "cargo_path is not absolute");
	a.distribution = j->distribution;
	a.version = j->version;
	a.module = j->module;
	a.python_tag = j->python_tag;
	a.abi_tag = j->abi_tag;
	a.platform_tag = j->platform_tag;
	a.ext_suffix = NULL; /* checked below, with the job's wording */
	if (pyname_check_artifact(&a, e) < 0)
		return -1;
	if (!ext_suffix_valid(j->ext_suffix))
		return sp_err_set(e, "invalid extension suffix '%s'",
				  j->ext_suffix);
	v = json_object_get(o, "tags_declared");
	if (v && !json_is_boolean(v))
		return sp_err_set(e, "job field 'tags_declared' must be true "
				     "or false");
	j->tags_declared = json_is_true(v);
	if (get_str(o, "program", 0, &j->program, e) < 0)
		return -1;
	if (j->program && !program_name_valid(j->program))
		return sp_err_set(e,
				  "invalid program name '%s': it must be a "
				  "file name of letters, digits, '.', '_', "
				  "'+' and '-'",
				  j->program);

	v = json_object_get(o, "metadata");
	if (v && !json_is_null(v)) {
		if (!json_is_object(v))
			return sp_err_set(e, "job field 'metadata' must be an "
					     "object");
		j->metadata = json_incref((json_t *)v);
	}
	if (get_files(o, "python_files", 1, &j->python_files,
		      &j->npython_files, e) < 0 ||
	    get_files(o, "license_files", 0, &j->license_files,
		      &j->nlicense_files, e) < 0 ||
	    get_files(o, "data_files", 0, &j->data_files, &j->ndata_files,
		      e) < 0)
		return -1;
	v = json_object_get(o, "module_in_package");
	if (v && !json_is_boolean(v))
		return sp_err_set(e, "job field 'module_in_package' must be "
				     "a boolean");
	j->module_in_package = json_is_true(v);
	v = json_object_get(o, "entry_points");
	if (v && !json_is_null(v) && !json_is_string(v))
		return sp_err_set(e, "job field 'entry_points' must be a "
				     "string");
	if (get_str(o, "entry_points", 0, &j->entry_points, e) < 0)
		return -1;

	v = json_object_get(o, "source_date_epoch");
	j->source_date_epoch = -1;
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return sp_err_set(e, "job field 'source_date_epoch' "
					     "must be a non-negative integer");
		j->source_date_epoch = (int64_t)json_integer_value(v);
	}
	if (get_level(o, &j->level, e) < 0)
		return -1;
	v = json_object_get(o, "threads");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 ||
		  json_integer_value(v) > 4096))
		return sp_err_set(e, "job field 'threads' must be a number "
				     "from 1 to 4096");
	j->threads = v ? (unsigned)json_integer_value(v) : 0;
	j->build = (int64_t)json_integer_value(json_object_get(o, "build"));
	j->progress = !json_is_false(json_object_get(o, "progress"));
	return get_options(o, &j->options, e);
}

/* The coordinator names the wheel (common/pyname.h) and the worker
 * takes that name: it must be final_path's, and end in the platform tag
 * that a repair may replace (build_wheel.h). */
static int check_wheel_name(const struct wheel_job *j, struct sp_err *e)
{
	size_t n, t;

	if (!j->wheel_name || !*j->wheel_name)
		return sp_err_set(e, "job field 'wheel_name' is missing or not "
				     "a string");
	if (strcmp(path_basename(j->final_path), j->wheel_name) != 0)
		return sp_err_set(e, "wheel path '%s' does not end in '%s'",
				  j->final_path, j->wheel_name);
	n = strlen(j->wheel_name);
	t = strlen(j->platform_tag);
	if (n < t + 6 || j->wheel_name[n - t - 5] != '-' ||
	    strncmp(j->wheel_name + n - t - 4, j->platform_tag, t) != 0 ||
	    strcmp(j->wheel_name + n - 4, ".whl") != 0)
		return sp_err_set(e,
				  "wheel name '%s' does not end in its "
				  "platform tag '%s'",
				  j->wheel_name, j->platform_tag);
	return 0;
}

int job_parse(const json_t *msg, struct wheel_job *j, struct sp_err *e)
{
	const json_t *id, *v;

	memset(j, 0, sizeof(*j));
	if (parse_fields(msg, JOB_WIRE, j, e) < 0 ||
	    check_wheel_name(j, e) < 0)
		goto fail;
	id = json_object_get(msg, "id");
	if (id && (!json_is_integer(id) || json_integer_value(id) < 0)) {
		sp_err_set(e, "job field 'id' must be a non-negative integer");
		goto fail;
	}
	j->id = (uint64_t)json_integer_value(id);
	v = json_object_get(msg, "staged_ident");
	if (v) {
		if (!json_is_integer(json_object_get(v, "dev")) ||
		    !json_is_integer(json_object_get(v, "ino"))) {
			sp_err_set(e, "job field 'staged_ident' must be "
				      "{\"dev\", \"ino\"}");
			goto fail;
		}
		j->has_staged_ident = 1;
		j->staged_dev = (uint64_t)json_integer_value(
			json_object_get(v, "dev"));
		j->staged_ino = (uint64_t)json_integer_value(
			json_object_get(v, "ino"));
	}
	return 0;
fail:
	wheel_job_release(j);
	return -1;
}

int job_from_request(const json_t *req, size_t i, struct wheel_job *j,
		     struct sp_err *e)
{
	const json_t *art = json_array_get(json_object_get(req, "artifacts"),
					   i);
	json_t *o;
	int rc;

	memset(j, 0, sizeof(*j));
	if (!json_is_object(art))
		return sp_err_set(e, "bad build request: artifact %zu is not "
				     "an object",
				  i);
	/* The request's settings are every job's: merged as the wire form
	 * carries them, then read by the one parser. */
	o = json_deep_copy(art);
	if (!o)
		return sp_err_set(e, "out of memory");
	json_object_del(o, "staged_path");
	json_object_del(o, "tmp_path");
	json_object_del(o, "final_path");
	json_object_del(o, "wheel_name");
	json_object_del(o, "out_dir_resolved");
	json_object_del(o, "staged_ident");
	json_object_del(o, "threads");
	json_object_del(o, "id");
	json_object_set(o, "out_dir", json_object_get(req, "out_dir"));
	json_object_set(o, "source_date_epoch",
			json_object_get(req, "source_date_epoch"));
	json_object_set(o, "compression", json_object_get(req, "compression"));
	/* Options for the repair (policy, search paths ...) are the
	 * request's; checked here, before anything is staged. */
	if (json_is_object(json_object_get(req, "options")))
		json_object_set(o, "options", json_object_get(req, "options"));
	json_object_set_new(o, "progress",
			    json_boolean(!json_is_true(
				    json_object_get(req, "quiet"))));
	json_object_del(o, "build");
	rc = parse_fields(o, JOB_REQUEST, j, e);
	json_decref(o);
	if (rc < 0) {
		wheel_job_release(j);
		return sp_err_wrap(e, "bad build request: artifact %zu", i);
	}
	return 0;
}

/* Appends name = s (a copy) to o when s is set. */
static int put_str(json_t *o, const char *name, const char *s)
{
	return s ? json_object_set_new(o, name, json_string(s)) : 0;
}

static json_t *str_array_json(const char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *files_json(const struct pyfile_src *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (json_array_append_new(
			a, json_pack("{s:s,s:s}", v[i].src ? "src" : "text",
				     v[i].src ? v[i].src : v[i].text, "dst",
				     v[i].dst)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *options_json(const struct repair_opts *r)
{
	json_t *o = json_pack("{s:s,s:s,s:b,s:o,s:o}", "repair",
			      repair_mode_name(r->mode), "search",
			      repair_search_name(r->search), "split_debug",
			      r->split_debug, "exclude",
			      str_array_json(r->exclude, r->nexclude),
			      "lib_path", str_array_json(r->lib_path, r->nlib));

	if (o && (put_str(o, "compat", r->compat) < 0 ||
		  put_str(o, "ld_library_path", r->ld_library_path) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *job_to_json(const struct wheel_job *j)
{
	const char *level = "default";
	json_t *o = json_object();
	size_t i;
	int bad = !o;

	for (i = 0; i < 4; i++)
		if (j->level == level_values[i])
			level = level_names[i];
	bad = bad || json_object_set_new(o, "id", json_integer(
						       (json_int_t)j->id)) < 0;
	bad = bad || put_str(o, "cargo_path", j->cargo_path) < 0 ||
	      put_str(o, "staged_path", j->staged_path) < 0 ||
	      put_str(o, "out_dir", j->out_dir) < 0 ||
	      put_str(o, "out_dir_resolved", j->out_dir_resolved) < 0 ||
	      put_str(o, "tmp_path", j->tmp_path) < 0 ||
	      put_str(o, "final_path", j->final_path) < 0 ||
	      put_str(o, "wheel_name", j->wheel_name) < 0 ||
	      put_str(o, "distribution", j->distribution) < 0 ||
	      put_str(o, "version", j->version) < 0 ||
	      put_str(o, "module", j->module) < 0 ||
	      put_str(o, "python_tag", j->python_tag) < 0 ||
	      put_str(o, "abi_tag", j->abi_tag) < 0 ||
	      put_str(o, "platform_tag", j->platform_tag) < 0 ||
	      put_str(o, "ext_suffix", j->ext_suffix) < 0 ||
	      (j->tags_declared &&
	       json_object_set_new(o, "tags_declared", json_true()) < 0) ||
	      put_str(o, "program", j->program) < 0 ||
	      put_str(o, "entry_points", j->entry_points) < 0;
	if (!bad && j->has_staged_ident)
		bad = json_object_set_new(
			      o, "staged_ident",
			      json_pack("{s:I,s:I}", "dev",
					(json_int_t)j->staged_dev, "ino",
					(json_int_t)j->staged_ino)) < 0;
	if (!bad && j->metadata)
		bad = json_object_set(o, "metadata", j->metadata) < 0;
	if (!bad && j->npython_files)
		bad = json_object_set_new(o, "python_files",
					  files_json(j->python_files,
						     j->npython_files)) < 0;
	if (!bad && j->nlicense_files)
		bad = json_object_set_new(o, "license_files",
					  files_json(j->license_files,
						     j->nlicense_files)) < 0;
	if (!bad && j->ndata_files)
		bad = json_object_set_new(o, "data_files",
					  files_json(j->data_files,
						     j->ndata_files)) < 0;
	if (!bad && j->module_in_package)
		bad = json_object_set_new(o, "module_in_package",
					  json_true()) < 0;
	if (!bad && j->source_date_epoch >= 0)
		bad = json_object_set_new(o, "source_date_epoch",
					  json_integer(j->source_date_epoch)) <
		      0;
	if (!bad && j->threads)
		bad = json_object_set_new(o, "threads",
					  json_integer(j->threads)) < 0;
	if (!bad && j->build)
		bad = json_object_set_new(o, "build",
					  json_integer(j->build)) < 0;
	if (!bad && j->options.nlinked)
		bad = json_object_set_new(
			      o, "linked_paths",
			      str_array_json(j->options.linked_paths,
					     j->options.nlinked)) < 0;
	bad = bad ||
	      json_object_set_new(o, "compression", json_string(level)) < 0 ||
	      json_object_set_new(o, "progress",
				  json_boolean(j->progress)) < 0 ||
	      json_object_set_new(o, "options", options_json(&j->options)) <
		      0;
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int job_reply_check(const json_t *msg, uint64_t id, struct sp_err *e)
{
	const json_t *v = json_object_get(msg, "job");

	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    (uint64_t)json_integer_value(v) == id)
		return 0;
	if (!json_is_integer(v))
		return sp_err_set(e, "its message names no job (it runs job "
				     "%llu)",
				  (unsigned long long)id);
	return sp_err_set(e, "it answered for job %lld, not for its job %llu",
			  (long long)json_integer_value(v),
			  (unsigned long long)id);
}

int job_ambient_inputs(json_t **out, int *complete, struct sp_err *e)
{
	char **conf = NULL;
	json_t *a;
	size_t n = 0, i;
	int rc;

	*out = NULL;
	/* The repair's default (ldresolve.h): a job names no other. */
	rc = ld_conf_inputs("/etc/ld.so.conf", &conf, &n, e);
	if (rc < 0)
		return -1;
	*complete = rc;
	a = json_array();
	for (i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(conf[i])) < 0) {
			json_decref(a);
			a = NULL;
		}
	ld_strv_free(conf);
	if (!a)
		return sp_err_set(e, "out of memory");
	*out = a;
	return 0;
}
