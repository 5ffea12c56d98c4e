#include "worker/build_wheel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/dirs.h"
#include "common/fault.h"
#include "common/fsx.h"
#include "common/sha256.h"
#include "common/tmpfile.h"
#include "worker/elf/debugsplit.h"
#include "worker/elf/inspect.h"
#include "common/mapfile.h"
#include "worker/wheel/metadata.h"
#include "worker/zip/pdeflate.h"
#include "worker/wheel/pyfiles.h"
#include "worker/wheel/record.h"
#include "worker/repair/repair.h"
#include "worker/zip/zip_write.h"

/* The job's fields, borrowed from the job object. */
struct wheel_job {
	const char *staged, *tmp, *final;
	const char *dist, *version, *module;
	const char *py, *abi, *plat, *ext;
	int64_t epoch;
	int level;
	unsigned threads; /* "threads": the coordinator's budget, or 0 */
	/* The job's "options" and "linked_paths"; the strings are the
	 * job's, the arrays malloc'd (wheel_job_release). */
	struct repair_opts opts;
};

static void wheel_job_release(struct wheel_job *w)
{
	free((void *)w->opts.exclude);
	free((void *)w->opts.lib_path);
	free((void *)w->opts.linked_paths);
	memset(&w->opts, 0, sizeof(w->opts));
}

static int str_array(const json_t *v, const char *what,
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
		a[(*n)++] = json_string_value(s);
	}
	return 0;
}

/* The job's "options" object (worker/job.h) and its "linked_paths" as
 * the repair's options (repair.h). */
static int parse_repair_opts(const json_t *job, struct repair_opts *o,
			     struct sp_err *e)
{
	const json_t *opt = json_object_get(job, "options"), *v;

	memset(o, 0, sizeof(*o));
	if (opt && !json_is_object(opt) && !json_is_null(opt))
		return sp_err_set(e, "job field 'options' must be an object");
	v = json_object_get(opt, "repair");
	if (v && !json_is_null(v) &&
	    (!json_is_string(v) ||
	     repair_mode_parse(json_string_value(v), &o->mode) < 0))
		return sp_err_set(e, "option 'repair' must be repair, check or "
				     "skip");
	v = json_object_get(opt, "compat");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || !json_string_length(v))
			return sp_err_set(e, "option 'compat' must be a "
					     "manylinux tag");
		o->compat = json_string_value(v);
	}
	v = json_object_get(opt, "ld_library_path");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return sp_err_set(e, "option 'ld_library_path' must "
					     "be a string");
		o->ld_library_path = json_string_value(v);
	}
	o->split_debug = json_is_true(json_object_get(opt, "split_debug"));
	if (str_array(json_object_get(opt, "exclude"), "options.exclude",
		      &o->exclude, &o->nexclude, e) < 0 ||
	    str_array(json_object_get(opt, "lib_path"), "options.lib_path",
		      &o->lib_path, &o->nlib, e) < 0 ||
	    str_array(json_object_get(job, "linked_paths"), "linked_paths",
		      &o->linked_paths, &o->nlinked, e) < 0)
		return -1;
	return 0;
}

/* Libraries that every manylinux system has, so that needing them does not
 * call for a repair.  Deliberately small: anything else gets bundled later. */
static const char *const system_libs[] = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "libpthread.so.0",
    "librt.so.1",
    "libgcc_s.so.1",
    "libutil.so.1",
    "libstdc++.so.6",
    "libresolv.so.2",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
};

int wheel_lib_is_system(const char *soname)
{
	size_t i;

	for (i = 0; i < sizeof(system_libs) / sizeof(*system_libs); i++)
		if (strcmp(soname, system_libs[i]) == 0)
			return 1;
	return 0;
}

static const char *get_string(const json_t *job, const char *key,
			      struct sp_err *e)
{
	json_t *v = json_object_get(job, key);

	if (!json_is_string(v) || !*json_string_value(v)) {
		sp_err_set(e, "job field '%s' is missing or not a string", key);
		return NULL;
	}
	return json_string_value(v);
}

/* EXT_SUFFIX becomes part of a zip name and a RECORD line, so it is held to
 * the characters interpreters actually use. */
static int ext_suffix_valid(const char *s)
{
	if (s[0] != '.' || !s[1])
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    *s))
			return 0;
	return 1;
}

static int parse_level(const json_t *job, int *level, struct sp_err *e)
{
	json_t *v = json_object_get(job, "compression");
	const char *s;

	*level = 6;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return sp_err_set(e,
				  "job field 'compression' must be a string");
	s = json_string_value(v);
	if (strcmp(s, "store") == 0)
		*level = 0;
	else if (strcmp(s, "fast") == 0)
		*level = 1;
	else if (strcmp(s, "default") == 0)
		*level = 6;
	else if (strcmp(s, "best") == 0)
		*level = 12;
	else
		return sp_err_set(e,
				  "unknown compression '%s' (expected store, "
				  "fast, default or best)",
				  s);
	return 0;
}

static int parse_epoch(const json_t *job, int64_t *epoch, struct sp_err *e)
{
	json_t *v = json_object_get(job, "source_date_epoch");

	if (!v || json_is_null(v)) {
		*epoch = (int64_t)time(NULL);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return sp_err_set(e, "job field 'source_date_epoch' must be a "
				     "non-negative integer");
	*epoch = (int64_t)json_integer_value(v);
	return 0;
}

/*
 * The coordinator stages through descriptors it holds (journal/statedir.h),
 * but a worker opens the staged file by its path, and a folder on that
 * path may be one the user listed in SPOKE_SAFE_DIRECTORIES, where
 * another user could swap a component for a symlink.  The job names the
 * inode the coordinator staged ("staged_ident", read through staged/'s
 * descriptor): anything else at the path is refused, so a swap can fail
 * the build but never put another file's bytes into the wheel.  A job
 * without it (the unit tests') is not checked.
 */
static int check_staged_ident(const json_t *job, int fd, const char *path,
			      struct sp_err *e)
{
	const json_t *id = json_object_get(job, "staged_ident");
	struct stat st;

	if (!id)
		return 0;
	if (fstat(fd, &st) < 0)
		return sp_err_sys(e, "cannot stat '%s'", path);
	if (!json_is_integer(json_object_get(id, "dev")) ||
	    !json_is_integer(json_object_get(id, "ino")) ||
	    (uint64_t)json_integer_value(json_object_get(id, "dev")) !=
		    (uint64_t)st.st_dev ||
	    (uint64_t)json_integer_value(json_object_get(id, "ino")) !=
		    (uint64_t)st.st_ino)
		return sp_err_set(e,
				  "'%s' is not the file spoke staged there "
				  "(a folder on its path was replaced "
				  "meanwhile); nothing was packaged from it",
				  path);
	return 0;
}

static int parse_job(const json_t *job, struct wheel_job *w, struct sp_err *e)
{
	const json_t *v;
	char *name;
	int same;

	if (!json_is_object(job))
		return sp_err_set(e, "the job is not a JSON object");
	if (!(w->staged = get_string(job, "staged_path", e)) ||
	    !(w->tmp = get_string(job, "tmp_path", e)) ||
	    !(w->final = get_string(job, "final_path", e)) ||
	    !(w->dist = get_string(job, "distribution", e)) ||
	    !(w->version = get_string(job, "version", e)) ||
	    !(w->module = get_string(job, "module", e)) ||
	    !(w->py = get_string(job, "python_tag", e)) ||
	    !(w->abi = get_string(job, "abi_tag", e)) ||
	    !(w->plat = get_string(job, "platform_tag", e)) ||
	    !(w->ext = get_string(job, "ext_suffix", e)))
		return -1;
	if (!dist_name_valid(w->dist))
		return sp_err_set(e, "invalid distribution name '%s'", w->dist);
	if (!version_valid(w->version))
		return sp_err_set(e, "invalid version '%s'", w->version);
	if (!module_name_valid(w->module))
		return sp_err_set(e, "invalid module name '%s'", w->module);
	if (!tag_valid(w->py) || !tag_valid(w->abi) || !tag_valid(w->plat))
		return sp_err_set(e, "invalid wheel tags '%s-%s-%s'", w->py,
				  w->abi, w->plat);
	if (!ext_suffix_valid(w->ext))
		return sp_err_set(e, "invalid extension suffix '%s'", w->ext);
	if (parse_level(job, &w->level, e) < 0 ||
	    parse_epoch(job, &w->epoch, e) < 0 ||
	    parse_repair_opts(job, &w->opts, e) < 0)
		return -1;
	v = json_object_get(job, "threads");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 ||
		  json_integer_value(v) > 4096))
		return sp_err_set(e, "job field 'threads' must be a number "
				     "from 1 to 4096");
	w->threads = v ? (unsigned)json_integer_value(v) : 0;
	/* The coordinator names the wheel; a mismatch would install under
	 * the wrong tags. */
	name = wheel_filename(w->dist, w->version, w->py, w->abi, w->plat);
	if (!name)
		return sp_err_set(e, "out of memory");
	same = strcmp(fsx_basename(w->final), name) == 0;
	if (!same)
		sp_err_set(e, "wheel path '%s' does not end in '%s'", w->final,
			   name);
	free(name);
	return same ? 0 : -1;
}

/* Checks that the module can be imported as w->module: Python calls
 * PyInit_<last part of the name>. */
static int check_init(const struct mapfile *map, const struct wheel_job *w,
		      struct sp_err *e)
{
	const char *last = strrchr(w->module, '.');
	char sym[512];
	int rc;

	last = last ? last + 1 : w->module;
	if ((size_t)snprintf(sym, sizeof(sym), "PyInit_%s", last) >=
	    sizeof(sym))
		return sp_err_set(e, "module name '%s' is too long", w->module);
	rc = elf_exports_mem(map->p, map->len, w->staged, sym, e);
	if (rc == 0)
		return sp_err_set(e,
				  "'%s' does not export PyInit_%s: is it a "
				  "Python extension module? (module name '%s')",
				  w->staged, last, w->module);
	return rc < 0 ? -1 : 0;
}

/* Reads the whole staged file through fd into a new buffer: only for
 * --split-debug, whose debugsplit_job() replaces a malloc'd module with the
 * stripped one.  Otherwise the module is read through its mapping. */
static void *read_staged(int fd, const char *name, size_t *len,
			 struct sp_err *e)
{
	struct stat st;
	uint8_t *buf, extra;
	size_t done = 0;
	ssize_t n;

	if (fstat(fd, &st) < 0) {
		sp_err_sys(e, "cannot stat '%s'", name);
		return NULL;
	}
	if ((uint64_t)st.st_size > SIZE_MAX - 1) {
		sp_err_set(e, "'%s' is too large", name);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		sp_err_set(e, "out of memory reading '%s'", name);
		return NULL;
	}
	while (done < (size_t)st.st_size) {
		n = pread(fd, buf + done, (size_t)st.st_size - done,
			  (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sp_err_sys(e, "cannot read '%s'", name);
			goto fail;
		}
		if (n == 0) {
			sp_err_set(e, "'%s' shrank while being read", name);
			goto fail;
		}
		done += (size_t)n;
	}
	if (pread(fd, &extra, 1, (off_t)done) != 0) {
		sp_err_set(e, "'%s' changed while being read", name);
		goto fail;
	}
	*len = done;
	return buf;
fail:
	free(buf);
	return NULL;
}

/* The RECORD: one "path,sha256=<digest>,<size>" row per entry and its own
 * row without a hash, written as CSV by record.h. */
struct record {
	char *text;
	size_t len;
	FILE *f;
};

static int record_add(struct record *r, const char *path, const char *b64,
		      size_t size)
{
	return record_put_row(r->f, path, b64, size);
}

/* Adds one entry to the zip and its line to the RECORD. */
static int add_entry(struct zipw *z, struct record *r, const char *path,
		     const void *data, size_t len, mode_t mode,
		     struct sp_err *e)
{
	char b64[ZIPW_B64_SHA256];

	if (zipw_add(z, path, data, len, mode, b64, e) < 0)
		return -1;
	if (record_add(r, path, b64, len) < 0)
		return sp_err_set(e, "out of memory");
	return 0;
}

static char *join3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/* The wheel path of the module: "pkg/_native.cpython-311-....so". */
static char *module_path(const struct wheel_job *w)
{
	char *mod = strdup(w->module), *p, *s;

	if (!mod)
		return NULL;
	for (p = mod; *p; p++)
		if (*p == '.')
			*p = '/';
	s = join3(mod, w->ext, "");
	free(mod);
	return s;
}

/* Adds the files of v[from..to) as plain (0644) entries. */
static int add_files(struct zipw *z, struct record *r, const struct pyfile *v,
		     size_t from, size_t to, struct sp_err *e)
{
	for (; from < to; from++)
		if (add_entry(z, r, v[from].dst, v[from].data, v[from].len,
			      0644, e) < 0)
			return -1;
	return 0;
}

static json_t *make_result(const struct wheel_job *w,
			   const struct elf_info *info, uint64_t size,
			   const uint8_t digest[32])
{
	json_t *res, *needed;
	char hex[65];
	int patch = 0;
	size_t i;

	hex_encode(digest, 32, hex);
	needed = json_array();
	if (!needed)
		return NULL;
	for (i = 0; i < info->nneeded; i++) {
		if (json_array_append_new(needed,
					  json_string(info->needed[i])) < 0) {
			json_decref(needed);
			return NULL;
		}
		if (!wheel_lib_is_system(info->needed[i]))
			patch = 1;
	}
	res = json_pack("{s:b, s:s, s:I, s:s, s:o, s:s}", "ok", 1, "wheel",
			w->final, "size", (json_int_t)size, "sha256", hex,
			"needed", needed, "patch", patch ? "required" : "none");
	return res;
}

/* Writes the module, the libraries the repair bundles, the dist-info
 * files and the end records to out.  Python files (pyfiles.h) go in dst
 * order with the module in its place among them; in the dist-info,
 * entry_points.txt and licenses/ follow WHEEL, and RECORD is last. */
static int write_zip(const struct wheel_job *w, int out, const json_t *job,
		     const void *mod, size_t mod_len, const struct repair *rep,
		     uint8_t digest[32], uint64_t *size, struct sp_err *e)
{
	size_t i;
	struct zipw z;
	struct record r = {0};
	char *modpath = NULL, *info_dir = NULL, *meta = NULL, *wheel = NULL;
	char *p_meta = NULL, *p_wheel = NULL, *p_record = NULL, *p_ep = NULL;
	struct pyfiles pf = {0};
	size_t before = 0;
	int rc = -1;

	if (zipw_open(&z, out, w->tmp, w->epoch, w->level, e) < 0)
		return -1;
	z.threads = pdeflate_threads(w->threads);
	r.f = open_memstream(&r.text, &r.len);
	modpath = module_path(w);
	info_dir = dist_info_dir(w->dist, w->version);
	if (!r.f || !modpath || !info_dir) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	p_meta = join3(info_dir, "/", "METADATA");
	p_wheel = join3(info_dir, "/", "WHEEL");
	p_record = join3(info_dir, "/", "RECORD");
	if (!p_meta || !p_wheel || !p_record) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	if (!(meta = metadata_render(job, e)) ||
	    !(wheel = wheel_file_render(job, e)))
		goto out;
	if (pyfiles_load(job, info_dir, &pf, e) < 0)
		goto out;
	while (before < pf.npy && strcmp(pf.py[before].dst, modpath) < 0)
		before++;
	if (add_files(&z, &r, pf.py, 0, before, e) < 0 ||
	    add_entry(&z, &r, modpath, mod, mod_len, 0755, e) < 0 ||
	    add_files(&z, &r, pf.py, before, pf.npy, e) < 0)
		goto out;
	for (i = 0; i < rep->nfiles; i++)
		if (add_entry(&z, &r, rep->files[i].path, rep->files[i].data,
			      rep->files[i].len, 0755, e) < 0)
			goto out;
	if (add_entry(&z, &r, p_meta, meta, strlen(meta), 0644, e) < 0 ||
	    add_entry(&z, &r, p_wheel, wheel, strlen(wheel), 0644, e) < 0)
		goto out;
	if (pf.entry_points) {
		p_ep = join3(info_dir, "/", "entry_points.txt");
		if (!p_ep) {
			sp_err_set(e, "out of memory");
			goto out;
		}
		if (add_entry(&z, &r, p_ep, pf.entry_points,
			      strlen(pf.entry_points), 0644, e) < 0)
			goto out;
	}
	if (add_files(&z, &r, pf.lic, 0, pf.nlic, e) < 0)
		goto out;
	if (record_add(&r, p_record, NULL, 0) < 0 || fclose(r.f) != 0) {
		r.f = NULL;
		sp_err_set(e, "out of memory");
		goto out;
	}
	r.f = NULL;
	if (zipw_add(&z, p_record, r.text, r.len, 0644, NULL, e) < 0 ||
	    zipw_finish(&z, digest, size, e) < 0)
		goto out;
	rc = 0;
out:
	if (r.f)
		fclose(r.f);
	free(r.text);
	free(modpath);
	free(info_dir);
	free(meta);
	free(wheel);
	free(p_meta);
	free(p_wheel);
	free(p_record);
	free(p_ep);
	pyfiles_release(&pf);
	zipw_release(&z);
	return rc;
}

/* Runs the repair of the job's options (repair.h) on the module read from
 * the staged file.  $ORIGIN and messages use cargo's path: the staged
 * name is spoke's business. */
static int repair_module(const struct wheel_job *w, const json_t *job,
			 const struct elf_info *info, const void *mod,
			 size_t mod_len, void (*emit)(json_t *ev, void *arg),
			 void *emit_arg, struct repair *rep, struct sp_err *e)
{
	const char *cargo = json_string_value(json_object_get(job,
							      "cargo_path"));
	struct repair_in in = {0};
	char *modpath = module_path(w), *origin;
	char *debug_dir = NULL, *stem = NULL;
	int rc;

	in.name = cargo && *cargo ? cargo : w->staged;
	origin = fsx_dirname(in.name);
	if (!modpath || !origin) {
		free(modpath);
		free(origin);
		return sp_err_set(e, "out of memory");
	}
	/* The bundled libraries' debug files go where the module's do. */
	if (w->opts.split_debug &&
	    debugsplit_job_dirs(job, &debug_dir, &stem, e) < 0) {
		free(modpath);
		free(origin);
		return -1;
	}
	in.opts = &w->opts;
	in.debug_dir = debug_dir;
	in.wheel_stem = stem;
	in.dist = w->dist;
	in.module_path = modpath;
	in.origin = origin;
	in.plat = w->plat;
	in.info = info;
	in.mod = mod;
	in.mod_len = mod_len;
	in.emit = emit;
	in.emit_arg = emit_arg;
	rc = repair_run(&in, rep, e);
	free(modpath);
	free(origin);
	free(debug_dir);
	free(stem);
	return rc;
}

/* Adds what the repair found to the result, and the wheel's real name:
 * the coordinator planned the name with the job's platform tag, and the
 * wheel goes to this one, in the same directory. */
static int finish_result(const struct wheel_job *w, const struct repair *rep,
			 json_t *res, struct sp_err *e)
{
	char *name, *dir, *path = NULL;
	int rc = -1;

	name = wheel_filename(w->dist, w->version, w->py, w->abi, rep->plat);
	dir = fsx_dirname(w->final);
	if (name && dir)
		path = fsx_join(dir, name);
	if (path && json_object_update(res, rep->result) == 0 &&
	    json_object_set_new(res, "wheel_name", json_string(name)) == 0 &&
	    json_object_set_new(res, "wheel", json_string(path)) == 0)
		rc = 0;
	else
		sp_err_set(e, "out of memory");
	free(name);
	free(dir);
	free(path);
	return rc;
}

/* Opens the folder the wheel goes to: the coordinator's resolved output
 * folder (dirs.h), walked without following any symlink, so that a folder
 * swapped for a symlink since is refused rather than written through.
 * The temporary and the wheel share it. */
static int open_out_dir(const json_t *job, const struct wheel_job *w,
			int *dirfd, char **label, struct sp_err *e)
{
	const char *resolved = json_string_value(
		json_object_get(job, "out_dir_resolved"));
	char *tdir = fsx_dirname(w->tmp), *fdir = fsx_dirname(w->final);
	int rc = -1;

	if (!tdir || !fdir) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	if (strcmp(tdir, fdir) != 0) {
		sp_err_set(e, "bad job: the temporary '%s' is not in the "
			      "wheel's folder '%s'",
			   w->tmp, fdir);
		goto out;
	}
	*label = strdup(resolved ? resolved : fdir);
	if (!*label) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	*dirfd = dirs_open(*label, 0, 0, e);
	if (*dirfd >= 0)
		rc = 0;
out:
	free(tdir);
	free(fdir);
	return rc;
}

int wheel_write(const json_t *job, void (*emit)(json_t *ev, void *arg),
		void *emit_arg, json_t **result, struct sp_err *e)
{
	struct wheel_job w = {0};
	struct repair rep = {0};
	json_t *tagged = NULL;
	struct elf_info info = {0};
	struct tmpfile t = TMPFILE_INIT;
	uint8_t digest[32];
	uint64_t size = 0;
	struct mapfile map = {0};
	const void *data;
	void *mod = NULL;
	char *debug_path = NULL, *dir_label = NULL;
	size_t mod_len = 0, data_len;
	int in = -1, dirfd = -1, rc = -1;

	*result = NULL;
	if (parse_job(job, &w, e) < 0) {
		wheel_job_release(&w);
		return -1;
	}
	in = open(w.staged, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return sp_err_sys(e, "cannot open '%s'", w.staged);
	if (check_staged_ident(job, in, w.staged, e) < 0)
		goto out;
	/* One read-only mapping (or, for a small module, one read) serves
	 * the ELF checks, the repair's analysis and the zip writer's threads
	 * (mapfile.h: why a truncation is survivable). */
	if (mapfile_open(&map, in, w.staged, e) < 0 ||
	    elf_inspect_mem(map.p, map.len, w.staged, &info, e) < 0 ||
	    check_init(&map, &w, e) < 0)
		goto out;
	data = map.p;
	data_len = map.len;
	/* Stripped before the repair patches it (debugsplit.h); so are the
	 * libraries the repair bundles (repair.h). */
	if (w.opts.split_debug) {
		mod = read_staged(in, w.staged, &mod_len, e);
		if (!mod || debugsplit_job(job, w.staged, &mod, &mod_len,
					   &debug_path, e) < 0)
			goto out;
		data = mod;
		data_len = mod_len;
	}
	if (repair_module(&w, job, &info, data, data_len, emit, emit_arg,
			  &rep, e) < 0 ||
	    repair_write_debug(&rep, e) < 0)
		goto out;
	/* METADATA and WHEEL are rendered from the job: a new platform tag
	 * goes into a copy of it. */
	if (strcmp(rep.plat, w.plat) != 0) {
		tagged = json_deep_copy(job);
		if (!tagged || json_object_set_new(tagged, "platform_tag",
						   json_string(rep.plat)) < 0) {
			sp_err_set(e, "out of memory");
			goto out;
		}
	}

	if (open_out_dir(job, &w, &dirfd, &dir_label, e) < 0)
		goto out;
	fault_point("create");
	/* Read and write: zipw reads a large entry back to hash it (zip_write.h).
	 * The coordinator chose the name (unpredictable, tmpfile_name) and
	 * journaled it, so replay removes one left behind. */
	if (tmpfile_create_named(&t, dirfd, dir_label, fsx_basename(w.tmp),
				 0644, e) < 0)
		goto out;
	if (write_zip(&w, t.fd, tagged ? tagged : job,
		      rep.mod ? rep.mod : data,
		      rep.mod ? rep.mod_len : data_len, &rep, digest, &size,
		      e) < 0 ||
	    mapfile_check(&map, e) < 0)
		goto out;
	*result = make_result(&w, &info, size, digest);
	if (!*result) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	if (debug_path)
		json_object_set_new(*result, "debug", json_string(debug_path));
	/* Complete: it is fsynced, closed and takes its name now, here, so
	 * the coordinator's loop neither renames nor commits per wheel.  The
	 * directory fsync waits for the coordinator's batched "done"
	 * (failure-model.md). */
	if (finish_result(&w, &rep, *result, e) < 0 ||
	    tmpfile_commit(&t,
			   fsx_basename(json_string_value(
				   json_object_get(*result, "wheel"))),
			   TMPFILE_NO_DIRSYNC, e) < 0) {
		json_decref(*result);
		*result = NULL;
		goto out;
	}
	rc = 0;
out:
	/* A half-written wheel must not be left behind. */
	tmpfile_discard(&t);
	if (dirfd >= 0)
		close(dirfd);
	free(dir_label);
	mapfile_close(&map);
	if (in >= 0)
		close(in);
	free(mod);
	free(debug_path);
	elf_info_release(&info);
	repair_release(&rep);
	json_decref(tagged);
	wheel_job_release(&w);
	return rc;
}
