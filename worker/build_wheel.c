#define _GNU_SOURCE
#include "worker/build_wheel.h"

#include <elf.h>
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
#include "common/identjson.h"
#include "common/sha256.h"
#include "common/tmpfile.h"
#include "worker/elf/debugsplit.h"
#include "worker/elf/inspect.h"
#include "worker/elf/machine.h"
#include "worker/elf/pycheck.h"
#include "common/mapfile.h"
#include "common/path.h"
#include "common/pyname.h"
#include "worker/wheel/launcher.h"
#include "worker/wheel/metadata.h"
#include "worker/zip/pdeflate.h"
#include "worker/wheel/pyfiles.h"
#include "worker/wheel/record.h"
#include "worker/repair/repair.h"
#include "worker/zip/zip_write.h"

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
static int check_staged_ident(const struct wheel_job *j, int fd,
			      struct sp_err *e)
{
	struct stat st;

	if (!j->has_staged_ident)
		return 0;
	if (fstat(fd, &st) < 0)
		return sp_err_sys(e, "cannot stat '%s'", j->staged_path);
	if (j->staged_dev != (uint64_t)st.st_dev ||
	    j->staged_ino != (uint64_t)st.st_ino)
		return sp_err_set(e,
				  "'%s' is not the file spoke staged there "
				  "(a folder on its path was replaced "
				  "meanwhile); nothing was packaged from it",
				  j->staged_path);
	return 0;
}

/* Checks that the module can be imported as j->module: Python calls
 * PyInit_<last part of the name>. */
static int check_init(const struct mapfile *map, const struct wheel_job *j,
		      struct sp_err *e)
{
	const char *last = strrchr(j->module, '.');
	char sym[512];
	int rc;

	last = last ? last + 1 : j->module;
	if ((size_t)snprintf(sym, sizeof(sym), "PyInit_%s", last) >=
	    sizeof(sym))
		return sp_err_set(e, "module name '%s' is too long", j->module);
	rc = elf_exports_mem(map->p, map->len, j->staged_path, sym, e);
	if (rc == 0)
		return sp_err_set(e,
				  "'%s' does not export PyInit_%s: is it a "
				  "Python extension module? (module name '%s')",
				  j->staged_path, last, j->module);
	return rc < 0 ? -1 : 0;
}

/* Refuses a module that links libpython (pycheck.h), before anything is
 * written.  `spoke repair` removes such a DT_NEEDED from a wheel someone
 * else built; here the build that linked it is the thing to fix, and the
 * user can fix it. */
static int check_libpython(const struct wheel_job *j,
			   const struct elf_info *info, struct sp_err *e)
{
	size_t i;

	for (i = 0; i < info->nneeded; i++)
		if (pycheck_is_libpython(info->needed[i]))
			return sp_err_set(
			    e,
			    "'%s' links %s: an extension module must not "
			    "link libpython, whose symbols the interpreter "
			    "importing it provides (linked, it loads a second "
			    "copy of Python, or fails to load where no shared "
			    "libpython is installed, as on manylinux "
			    "systems); with pyo3, enable its "
			    "\"extension-module\" feature, or with pyo3 0.26 "
			    "and later set PYO3_BUILD_EXTENSION_MODULE=1 in "
			    "cargo's environment; otherwise drop the link to "
			    "python from the build script",
			    j->cargo_path ? j->cargo_path : j->staged_path,
			    info->needed[i]);
	return 0;
}

/* A program is an executable (ET_EXEC, or a PIE, as cargo links bins):
 * a library at that place would not run. */
static int check_program(const struct wheel_job *j, const struct elf_info *info,
			 struct sp_err *e)
{
	if (info->id.type == ET_EXEC || info->id.pie)
		return 0;
	return sp_err_set(e,
			  "'%s' is not an executable, so it cannot be the "
			  "program '%s'",
			  j->cargo_path ? j->cargo_path : j->staged_path,
			  j->program);
}

/* The architecture part of an extension suffix that names one, as
 * CPython and PyPy spell them (".cpython-311-x86_64-linux-gnu.so",
 * ".pypy39-pp73-aarch64-linux-gnu.so": the word before "-linux-"), into
 * buf; 0 when it names none (".abi3.so", ".so"). */
static int suffix_arch(const char *suffix, char *buf, size_t n)
{
	const char *linux_at = strstr(suffix, "-linux-"), *start;
	size_t len;

	if (!linux_at)
		return 0;
	for (start = linux_at; start > suffix && start[-1] != '-'; start--)
		;
	len = (size_t)(linux_at - start);
	if (start == suffix || !len || len >= n)
		return 0;
	memcpy(buf, start, len);
	buf[len] = '\0';
	return 1;
}

/* With declared tags no interpreter of this machine imports the module:
 * it must agree with the architecture its extension suffix names (the
 * first word of the multiarch triplet, "x86_64", "aarch64", "i386",
 * "arm", "powerpc64le"), whatever machine spoke runs on. */
static int check_suffix_arch(const struct wheel_job *j,
			     const struct elf_info *info, struct sp_err *e)
{
	const struct elf_arch *a =
	    elf_arch_find(info->id.machine, info->id.elfclass, info->id.data,
			  info->id.flags);
	char want[64];
	size_t n;

	if (!suffix_arch(j->ext_suffix, want, sizeof(want)))
		return 0;
	n = a ? strcspn(a->triplet, "-") : 0;
	if (a && strlen(want) == n && strncmp(a->triplet, want, n) == 0)
		return 0;
	return sp_err_set(e,
			  "'%s' is built for %s, but its extension suffix "
			  "'%s' is for %s",
			  j->cargo_path ? j->cargo_path : j->staged_path,
			  a ? a->name : "an architecture spoke does not know",
			  j->ext_suffix, want);
}

/* The object fits where the wheel is meant to run: this machine, whose
 * interpreter gave the tags, or, with declared tags, the architecture
 * the extension suffix names. */
static int check_machine(const struct wheel_job *j,
			 const struct elf_info *info, struct sp_err *e)
{
	if (!j->tags_declared)
		return elf_info_check_host(info, j->staged_path, e);
	return j->program ? 0 : check_suffix_arch(j, info, e);
}

/* Reads the staged file's ELF headers into info and checks them.  A
 * module is a shared library for this machine (or, with declared tags,
 * for the suffix's architecture) that exports its PyInit_ and links no
 * libpython.  A program is an executable for this machine, read through
 * fd (the mapping's reader takes libraries only); it exports nothing
 * Python calls, and one that embeds Python must link libpython. */
static int inspect_staged(const struct wheel_job *j, const struct mapfile *map,
			  int fd, struct elf_info *info, struct sp_err *e)
{
	if (j->program)
		return elf_inspect_object_fd(fd, j->staged_path, info, e) < 0 ||
			       check_program(j, info, e) < 0 ||
			       check_machine(j, info, e) < 0
			   ? -1
			   : 0;
	return elf_inspect_mem(map->p, map->len, j->staged_path, info, e) < 0 ||
		       check_machine(j, info, e) < 0 ||
		       check_init(map, j, e) < 0 ||
		       check_libpython(j, info, e) < 0
		   ? -1
		   : 0;
}

/* Reads the whole staged file through fd into a new buffer: only for
 * --split-debug, whose debugsplit_module() replaces a malloc'd module with the
 * stripped one.  Otherwise the module is read through fd a piece at a
 * time, and never held whole. */
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

/*
 * Where a program lies in the wheel: among the scripts,
 * "<dist>-<version>.data/scripts/<name>", which installers copy to the
 * environment's bin/ with mode 0755; or, moved (it needs libraries the
 * repair bundled, which bin/ has no fixed path to: launcher.h),
 * "<pkg>.scripts/<name>" in platlib, pkg named as the repair names
 * "<pkg>.libs".  malloc'd; NULL on out-of-memory.
 */
static char *program_path(const struct wheel_job *j, int moved)
{
	char *base, *s = NULL;
	size_t n;

	if (moved) {
		base = dist_normalize(j->distribution);
		if (base && asprintf(&s, "%s.scripts/%s", base, j->program) < 0)
			s = NULL;
		free(base);
		return s;
	}
	/* "<dist>-<version>.dist-info" less its suffix, escaped alike. */
	base = dist_info_dir(j->distribution, j->version);
	n = base ? strlen(base) : 0;
	if (n > 10 && asprintf(&s, "%.*s.data/scripts/%s", (int)(n - 10), base,
			       j->program) < 0)
		s = NULL;
	free(base);
	return s;
}

/* The wheel path of the module: "pkg/_native.cpython-311-....so"; with
 * module_in_package (maturin's rule for a package named as its module),
 * "pkg/pkg.cpython-311-....so".  A program's is where it lies when
 * moved: the repair's RPATH leads from there. */
static char *module_path(const struct wheel_job *j)
{
	const char *last;
	char *mod, *p, *s;

	if (j->program)
		return program_path(j, 1);
	mod = strdup(j->module);
	if (!mod)
		return NULL;
	for (p = mod; *p; p++)
		if (*p == '.')
			*p = '/';
	last = strrchr(j->module, '.');
	last = last ? last + 1 : j->module;
	s = j->module_in_package ? join3(mod, "/", last) : mod;
	if (s != mod)
		free(mod);
	mod = s;
	s = mod ? join3(mod, j->ext_suffix, "") : NULL;
	free(mod);
	return s;
}

/* Adds the files of v[from..to), each with its mode (0644 or 0755). */
static int add_files(struct zipw *z, struct record *r, const struct pyfile *v,
		     size_t from, size_t to, struct sp_err *e)
{
	for (; from < to; from++)
		if (record_zip_add(r, z, v[from].dst, v[from].data,
				   v[from].len, v[from].mode, e) < 0)
			return -1;
	return 0;
}

static json_t *make_result(const struct wheel_job *j,
			   const struct elf_info *info, uint64_t size,
			   const uint8_t digest[32])
{
	json_t *res, *needed;
	char hex[65];
	size_t i;

	hex_encode(digest, 32, hex);
	needed = json_array();
	if (!needed)
		return NULL;
	for (i = 0; i < info->nneeded; i++)
		if (json_array_append_new(needed,
					  json_string(info->needed[i])) < 0) {
			json_decref(needed);
			return NULL;
		}
	/* "patch" is the repair's (finish_result): it knows the policy. */
	res = json_pack("{s:b, s:s, s:I, s:s, s:o}", "ok", 1, "wheel",
			j->final_path, "size", (json_int_t)size, "sha256", hex,
			"needed", needed);
	return res;
}

/* Adds "wheel_ident" to result: the identity of the wheel at its name
 * right after the rename, when it is still the inode written (st, its
 * fstat before the rename, which changes the ctime).  The coordinator
 * records a wheel for reuse only when the file at the path is this one
 * (server/reuse.h); without it the wheel is simply not recorded. */
static void wheel_ident(json_t *result, int dirfd, const struct stat *st)
{
	const char *w = json_string_value(json_object_get(result, "wheel"));
	struct stat now;

	if (!w || fstatat(dirfd, path_basename(w), &now,
			  AT_SYMLINK_NOFOLLOW) < 0 ||
	    now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return;
	json_object_set_new(result, "wheel_ident", ident_json(&now));
}

/* Adds the len bytes of the file open on fd (name for messages) as the
 * entry path, read in pieces (zipw_add_fd), with its RECORD row. */
static int add_fd(struct record *r, struct zipw *z, const char *path, int fd,
		  uint64_t len, const char *name, struct sp_err *e)
{
	char b64[ZIPW_B64_SHA256];

	if (zipw_add_fd(z, path, fd, 0, len, name, 0755, b64, e) < 0)
		return -1;
	return record_add(r, path, b64, (size_t)len, e);
}

/* Writes the module (mod_len bytes of the file open on mod_fd, named
 * mod_name in messages), the libraries the repair bundles, the dist-info
 * files and the end records to out.  Python files (pyfiles.h) go in dst
 * order with the module in its place among them, then the .data folder's
 * files; in the dist-info, entry_points.txt and licenses/ follow WHEEL,
 * and RECORD is last. */
static int write_zip(const struct wheel_job *j, int out, int64_t epoch,
		     int mod_fd, uint64_t mod_len, const char *mod_name,
		     const struct repair_result *rep, uint8_t digest[32],
		     uint64_t *size, struct sp_err *e)
{
	size_t i;
	struct zipw z;
	struct record r = {0};
	char *modpath = NULL, *info_dir = NULL, *meta = NULL, *wheel = NULL;
	char *data_dir = NULL;
	char *p_meta = NULL, *p_wheel = NULL, *p_record = NULL, *p_ep = NULL;
	char *launcher = NULL, *script = NULL;
	struct pyfiles pf = {0};
	size_t before = 0;
	int rc = -1;

	if (zipw_open(&z, out, j->tmp_path, epoch, j->level, e) < 0)
		return -1;
	z.threads = pdeflate_threads(j->threads);
	if (record_init(&r, e) < 0)
		goto out;
	/* A program the repair patched has an RPATH into <pkg>.libs: it
	 * moves, and a launcher takes its place among the scripts. */
	modpath =
	    j->program ? program_path(j, rep->mod_fd >= 0) : module_path(j);
	if (j->program && rep->mod_fd >= 0 &&
	    (!(script = program_path(j, 0)) ||
	     !(launcher = launcher_text(modpath)))) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	info_dir = dist_info_dir(j->distribution, j->version);
	if (!modpath || !info_dir) {
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
	/* WHEEL carries the repair's platform tag, which may differ from
	 * the job's. */
	if (!(meta = metadata_render_fields(j->distribution, j->version,
					    j->metadata, e)) ||
	    !(wheel = wheel_file_render(j->python_tag, j->abi_tag, rep->plat,
					e)))
		goto out;
	if (pyfiles_load(j->python_files, j->npython_files, j->license_files,
			 j->nlicense_files, j->entry_points, info_dir, &pf,
			 e) < 0)
		goto out;
	if (j->ndata_files) {
		/* "<dist>-<version>.data", named as the dist-info is. */
		data_dir = strdup(info_dir);
		if (!data_dir) {
			sp_err_set(e, "out of memory");
			goto out;
		}
		strcpy(data_dir + strlen(data_dir) - strlen(".dist-info"),
		       ".data");
		if (pyfiles_load_data(j->data_files, j->ndata_files, data_dir,
				      &pf, e) < 0)
			goto out;
	}
	while (before < pf.npy && strcmp(pf.py[before].dst, modpath) < 0)
		before++;
	if (add_files(&z, &r, pf.py, 0, before, e) < 0 ||
	    add_fd(&r, &z, modpath, mod_fd, mod_len, mod_name, e) < 0 ||
	    add_files(&z, &r, pf.py, before, pf.npy, e) < 0 ||
	    add_files(&z, &r, pf.data, 0, pf.ndata, e) < 0)
		goto out;
	if (launcher && record_zip_add(&r, &z, script, launcher,
				       strlen(launcher), 0755, e) < 0)
		goto out;
	for (i = 0; i < rep->nfiles; i++)
		if (add_fd(&r, &z, rep->files[i].path, rep->files[i].fd,
			   rep->files[i].len, rep->files[i].path, e) < 0)
			goto out;
	if (record_zip_add(&r, &z, p_meta, meta, strlen(meta), 0644, e) < 0 ||
	    record_zip_add(&r, &z, p_wheel, wheel, strlen(wheel), 0644, e) < 0)
		goto out;
	if (pf.entry_points) {
		p_ep = join3(info_dir, "/", "entry_points.txt");
		if (!p_ep) {
			sp_err_set(e, "out of memory");
			goto out;
		}
		if (record_zip_add(&r, &z, p_ep, pf.entry_points,
				   strlen(pf.entry_points), 0644, e) < 0)
			goto out;
	}
	if (add_files(&z, &r, pf.lic, 0, pf.nlic, e) < 0)
		goto out;
	if (record_zip_finish(&r, &z, p_record, e) < 0 ||
	    zipw_finish(&z, digest, size, e) < 0)
		goto out;
	rc = 0;
out:
	record_release(&r);
	free(modpath);
	free(info_dir);
	free(data_dir);
	free(meta);
	free(wheel);
	free(p_meta);
	free(p_wheel);
	free(p_record);
	free(p_ep);
	free(launcher);
	free(script);
	pyfiles_release(&pf);
	zipw_release(&z);
	return rc;
}

/* Runs the repair of the job's options (repair.h) on the module read from
 * the staged file.  $ORIGIN and messages use cargo's path: the staged
 * name is spoke's business. */
static int repair_module(const struct wheel_job *j,
			 const struct elf_info *info, int mod_fd, int dirfd,
			 const char *dir_label,
			 void (*emit)(json_t *ev, void *arg), void *emit_arg,
			 struct repair_result *rep, struct sp_err *e)
{
	const char *cargo = j->cargo_path;
	struct repair_in in = {0};
	char *modpath = module_path(j), *origin;
	char *debug_dir = NULL, *stem = NULL;
	int rc;

	in.name = cargo && *cargo ? cargo : j->staged_path;
	origin = path_dirname(in.name);
	if (!modpath || !origin) {
		free(modpath);
		free(origin);
		return sp_err_set(e, "out of memory");
	}
	/* The bundled libraries' debug files go where the module's do. */
	if (j->options.split_debug &&
	    debugsplit_dirs(j->final_path, j->out_dir_resolved, &debug_dir,
			    &stem, e) < 0) {
		free(modpath);
		free(origin);
		return -1;
	}
	in.opts = &j->options;
	in.debug_dir = debug_dir;
	in.wheel_stem = stem;
	in.dist = j->distribution;
	in.module_path = modpath;
	in.origin = origin;
	in.plat = j->platform_tag;
	in.info = info;
	in.keep_libpython = j->program != NULL;
	in.mod_fd = mod_fd;
	in.tmp_dirfd = dirfd;
	in.tmp_label = dir_label;
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
static int finish_result(const struct wheel_job *j,
			 const struct repair_result *rep, json_t *res,
			 struct sp_err *e)
{
	char *name, *dir, *path = NULL;
	int rc = -1;

	/* The coordinator's name with the repair's platform tag in place of
	 * the job's (job_parse checked that it ends in it); the very name
	 * when the tag is the job's (spoke wheel --wheel-out names its
	 * file, whose tag the job declared). */
	if (!strcmp(rep->plat, j->platform_tag))
		name = strdup(j->wheel_name);
	else if (asprintf(&name, "%.*s%s.whl",
		     (int)(strlen(j->wheel_name) - strlen(j->platform_tag) - 4),
		     j->wheel_name, rep->plat) < 0)
		name = NULL;
	dir = path_dirname(j->final_path);
	if (name && dir)
		path = path_join(dir, name);
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
static int open_out_dir(const struct wheel_job *j, int *dirfd, char **label,
			struct sp_err *e)
{
	char *tdir = path_dirname(j->tmp_path);
	char *fdir = path_dirname(j->final_path);
	const char *folder;
	int rc = -1;

	if (!tdir || !fdir) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	/* The coordinator journals the temporary in the resolved folder and
	 * plans the final path in the user's, which differ when the user's
	 * path holds a symlink: the temporary must be in the folder written. */
	folder = j->out_dir_resolved ? j->out_dir_resolved : fdir;
	if (strcmp(tdir, folder) != 0) {
		sp_err_set(e, "bad job: the temporary '%s' is not in the "
			      "wheel's folder '%s'",
			   j->tmp_path, folder);
		goto out;
	}
	*label = strdup(folder);
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

/* The split itself: *mod (malloc'd) becomes the stripped module. */
static int split_stripped(const struct wheel_job *j, void **mod, size_t *len,
			  char **debug_path, struct sp_err *e)
{
	const char *last = strrchr(j->module, '.');
	char *file = NULL, *dir = NULL, *stem = NULL;
	int rc;

	last = last ? last + 1 : j->module;
	file = join3(last, j->ext_suffix, "");
	if (!file)
		return sp_err_set(e, "out of memory");
	rc = debugsplit_dirs(j->final_path, j->out_dir_resolved, &dir, &stem,
			     e);
	if (rc == 0)
		rc = debugsplit_module(file, dir, stem, j->staged_path, mod,
				       len, debug_path, e);
	free(file);
	free(dir);
	free(stem);
	return rc;
}

/* Splits the module's DWARF into its debug file (debugsplit.h), named by
 * the module's file name alone ("<stem>/<file>.debug" without a build
 * ID), under the output folder's debug/.  The stripped module goes to a
 * scratch file in dirfd (tmpfile_anon), *fd, which the repair and the zip
 * writer read as they read the staged file otherwise. */
static int split_module(const struct wheel_job *j, int in, int dirfd,
			const char *dir_label, int *fd, uint64_t *fd_len,
			char **debug_path, struct sp_err *e)
{
	void *mod = NULL;
	size_t len = 0, done = 0;
	ssize_t n;
	int rc = -1;

	mod = read_staged(in, j->staged_path, &len, e);
	if (!mod || split_stripped(j, &mod, &len, debug_path, e) < 0)
		goto out;
	if ((*fd = tmpfile_anon(dirfd, dir_label, path_basename(j->staged_path),
				e)) < 0)
		goto out;
	while (done < len) {
		n = pwrite(*fd, (char *)mod + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			sp_err_sys(e, "cannot write a temporary file in '%s'",
				   dir_label);
			goto out;
		}
		done += (size_t)n;
	}
	*fd_len = len;
	rc = 0;
out:
	free(mod);
	return rc;
}

int wheel_write(const struct wheel_job *j,
		void (*emit)(json_t *ev, void *arg), void *emit_arg,
		json_t **result, struct sp_err *e)
{
	struct repair_result rep = REPAIR_RESULT_INIT;
	struct elf_info info = {0};
	struct tmpfile t = TMPFILE_INIT;
	struct stat wst;
	uint8_t digest[32];
	uint64_t size = 0, data_len;
	struct mapfile map = {0};
	char *debug_path = NULL, *dir_label = NULL;
	int64_t epoch = j->source_date_epoch;
	int in = -1, dirfd = -1, stripped = -1, data, rc = -1;

	*result = NULL;
	if (epoch < 0)
		epoch = (int64_t)time(NULL);
	in = open(j->staged_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return sp_err_sys(e, "cannot open '%s'", j->staged_path);
	if (check_staged_ident(j, in, e) < 0)
		goto out;
	/* One read-only mapping (or, for a small module, one read) serves
	 * the ELF checks, which touch its headers and tables only
	 * (mapfile.h: why a truncation is survivable).  The repair and the
	 * zip writer read the file through its descriptor, a piece at a
	 * time: the module is never held whole. */
	if (mapfile_open(&map, in, j->staged_path, e) < 0)
		goto out;
	if (inspect_staged(j, &map, in, &info, e) < 0)
		goto out;
	data = in;
	data_len = map.len;
	/* The scratch files (a stripped module, the repair's patched
	 * copies) go where the wheel goes. */
	if (open_out_dir(j, &dirfd, &dir_label, e) < 0)
		goto out;
	/* Stripped before the repair patches it (debugsplit.h); so are the
	 * libraries the repair bundles (repair.h).  A program is not, as
	 * spoke repair leaves executables (repair_wheel.h). */
	if (j->options.split_debug && !j->program) {
		if (split_module(j, in, dirfd, dir_label, &stripped, &data_len,
				 &debug_path, e) < 0)
			goto out;
		data = stripped;
	}
	if (repair_module(j, &info, data, dirfd, dir_label, emit, emit_arg,
			  &rep, e) < 0 ||
	    repair_write_debug(&rep, e) < 0)
		goto out;

	fault_point("create");
	/* Read and write: zipw reads a large entry back to hash it (zip_write.h).
	 * The coordinator chose the name (unpredictable, tmpfile_name) and
	 * journaled it, so replay removes one left behind. */
	if (tmpfile_create_named(&t, dirfd, dir_label, path_basename(j->tmp_path),
				 0644, e) < 0)
		goto out;
	if (write_zip(j, t.fd, epoch, rep.mod_fd >= 0 ? rep.mod_fd : data,
		      rep.mod_fd >= 0 ? rep.mod_len : data_len,
		      rep.mod_fd >= 0 || stripped >= 0 ? dir_label
						       : j->staged_path,
		      &rep, digest, &size, e) < 0 ||
	    mapfile_check(&map, e) < 0)
		goto out;
	*result = make_result(j, &info, size, digest);
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
	if (fstat(t.fd, &wst) < 0) {
		sp_err_sys(e, "cannot stat the wheel written");
		json_decref(*result);
		*result = NULL;
		goto out;
	}
	if (finish_result(j, &rep, *result, e) < 0 ||
	    tmpfile_commit(&t,
			   path_basename(json_string_value(
				   json_object_get(*result, "wheel"))),
			   TMPFILE_NO_DIRSYNC, e) < 0) {
		json_decref(*result);
		*result = NULL;
		goto out;
	}
	wheel_ident(*result, dirfd, &wst);
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
	if (stripped >= 0)
		close(stripped);
	free(debug_path);
	elf_info_release(&info);
	repair_result_release(&rep);
	return rc;
}
