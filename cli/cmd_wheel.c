/*
 * cmd_wheel.c - spoke wheel: the hermetic action a build system runs.
 *
 * One process: no coordinator, no socket, no journal, no state directory.
 * Its inputs are read-only files the build system declared (a shared
 * object, its metadata, --lib-path folders), so no cargo output is at
 * stake and nothing needs journaling: the worker's code runs here, as in
 * spoke repair.  Everything that decides the bytes comes from the command
 * line or the artifacts file: the tags (no interpreter runs), the
 * platform tag (--compat: the repair fits it or fails, so the wheel's
 * name is known before the action runs), the time (SOURCE_DATE_EPOCH, or
 * the zip epoch), and the folders searched for libraries (only those
 * declared: repair_opts.h, REPAIR_SEARCH_DECLARED).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/output.h"
#include "cli/project/artifacts.h"
#include "common/dirs.h"
#include "common/epoch.h"
#include "common/esc.h"
#include "common/fsx.h"
#include "common/path.h"
#include "common/pyname.h"
#include "common/tmpfile.h"
#include "worker/build_wheel.h"
#include "worker/elf/inspect.h"
#include "worker/repair/exclude.h"
#include "worker/repair/policy.h"
#include "worker/repair/verdict.h"
#include "worker/wheel_job.h"

/* 1980-01-01T00:00:00Z, the earliest time a zip entry can hold: the time
 * of every entry when SOURCE_DATE_EPOCH is not set, so that the bytes
 * depend on the inputs alone. */
#define ZIP_EPOCH 315532800

static const char wheel_help[] =
    "usage: spoke wheel --compat TAG\n"
    "         (--artifacts FILE | --module-file SO --distribution NAME\n"
    "          --version V --module M [--metadata FILE.json])\n"
    "         [--python-tag T --abi-tag T --ext-suffix S]\n"
    "         [--lib-path DIR]... [--exclude PATTERN]... [--compression L]\n"
    "         (--wheel-out FILE | --out-dir DIR) [--manifest-out FILE]\n"
    "\n"
    "Writes the wheel of a shared object that was built already, as one\n"
    "hermetic step of a build system (Bazel, a CI job): one process, no\n"
    "coordinator, no journal, no state directory, no interpreter.  The\n"
    "inputs are only read, so there is no cargo output to protect; the\n"
    "same inputs give the same bytes.\n"
    "\n"
    "what to package:\n"
    "  --artifacts FILE     the objects FILE lists, as 'spoke build\n"
    "                       --artifacts' reads it (paths relative to it)\n"
    "  --module-file SO     or one shared object, with:\n"
    "  --distribution NAME  its distribution name\n"
    "  --version V          its PEP 440 version\n"
    "  --module M           its Python module name (dotted allowed); SO\n"
    "                       must export PyInit_<last part>\n"
    "  --metadata FILE      core metadata as JSON (summary, license,\n"
    "                       requires_dist, ...: the artifacts file's\n"
    "                       \"metadata\"); license_files relative to it\n"
    "\n"
    "tags (no interpreter is asked):\n"
    "  --python-tag T       the wheel's Python tag (cp312)\n"
    "  --abi-tag T          its ABI tag (cp312, abi3)\n"
    "  --ext-suffix S       the module file's suffix\n"
    "                       (.cpython-312-x86_64-linux-gnu.so, .abi3.so)\n"
    "                       All three, or none when every entry of FILE\n"
    "                       has python_tag, abi_tag and ext_suffix.\n"
    "  --compat TAG         required: the platform tag, declared.\n"
    "                       manylinux_2_X (or an alias: manylinux2014),\n"
    "                       musllinux_1_X, with or without _<arch>: the\n"
    "                       objects are repaired for it and the wheel gets\n"
    "                       exactly it, or the command fails naming the\n"
    "                       object and the symbol versions or libraries\n"
    "                       that do not fit.  'linux': no repair, a plain\n"
    "                       linux_<arch> wheel.\n"
    "\n"
    "repair:\n"
    "  --lib-path DIR       where the libraries the object needs are\n"
    "                       (repeatable).  Only these folders and the\n"
    "                       object's RPATH/RUNPATH entries that start at\n"
    "                       $ORIGIN are searched: never LD_LIBRARY_PATH,\n"
    "                       ld.so.conf or the system's folders, which are\n"
    "                       no declared input.  A library found there is\n"
    "                       bundled into <dist>.libs/ under a hashed name,\n"
    "                       with RPATH $ORIGIN/...; one on TAG's list of\n"
    "                       system libraries (libc, libm, ...) is assumed\n"
    "                       present, as on the target system; any other\n"
    "                       library not found is an error naming it.\n"
    "  --exclude PATTERN    never bundle a library whose soname matches\n"
    "                       this shell-style glob (libfoo.so.*): every\n"
    "                       target system has it; a PATTERN with '/'\n"
    "                       matches the path it is found at (repeatable)\n"
    "\n"
    "output:\n"
    "  --wheel-out FILE     write the wheel at exactly FILE (one artifact);\n"
    "                       its name must be the one the tags give\n"
    "  --out-dir DIR        or write each wheel into DIR under its name,\n"
    "                       <dist>-<version>-<py>-<abi>-<TAG>_<arch>.whl\n"
    "  --manifest-out FILE  also write FILE, JSON listing what was written:\n"
    "                       {\"wheels\": [{\"file\", \"sha256\", \"size\",\n"
    "                       \"distribution\", \"version\", \"python_tag\",\n"
    "                       \"abi_tag\", \"platform_tag\"}]}, \"file\" the\n"
    "                       wheel's name (no folder), sha256 in hex\n"
    "  --compression LEVEL  store, fast, default (the default) or best\n"
    "  -q, --quiet          print nothing on success\n"
    "  --json               one JSON line per wheel on stdout: {\"type\":\n"
    "                       \"result\", \"ok\", \"wheel\", \"wheel_name\",\n"
    "                       \"sha256\", \"size\", \"platform_tag\",\n"
    "                       \"grafted\", ...} or {\"ok\": false, \"error\"}\n"
    "\n"
    "Every file is written under a temporary name in its folder, then\n"
    "renamed.  Every zip entry gets SOURCE_DATE_EPOCH's time, or\n"
    "1980-01-01 00:00:00 UTC when it is not set.  No absolute path, user or\n"
    "host name goes into the wheel.\n"
    "\n"
    "exit status: 0 every wheel was written; 1 an input is invalid, does\n"
    "not fit TAG, or a library is missing; 2 usage error.\n";

/* What the command line asks, as parsed. */
struct wheel_args {
	const char *compat; /* NULL for "linux": no repair */
	const char *artifacts, *module_file, *distribution, *version, *module;
	const char *metadata;
	const char *python_tag, *abi_tag, *ext_suffix;
	const char *compression;
	const char *wheel_out, *out_dir, *manifest_out;
	json_t *lib_path; /* absolute folders */
	json_t *exclude;  /* patterns, those with '/' made absolute */
	int64_t epoch;
	int quiet, json;
};

/* The artifacts of the command line as artifacts_parse() makes them, so
 * that --module-file and --artifacts get the same checks: one entry,
 * whose metadata's license_files are relative to the metadata file. */
static json_t *module_jobs(const struct wheel_args *a, struct sp_err *e)
{
	char *abs = NULL, *dir = NULL, *text = NULL, *meta_abs = NULL;
	json_t *doc = NULL, *entry, *meta = NULL, *jobs = NULL;
	json_error_t jerr;
	size_t len = 0;

	if (!(abs = path_absolute(a->module_file, e)))
		goto out;
	if (a->metadata) {
		if (!(meta_abs = path_absolute(a->metadata, e)) ||
		    !(text = fsx_read_regular(meta_abs, &len, e)))
			goto out;
		meta = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!meta) {
			sp_err_set(e, "cannot read '%s': %s (line %d)",
				   meta_abs, jerr.text, jerr.line);
			goto out;
		}
		if (!json_is_object(meta)) {
			sp_err_set(e,
				   "'%s': the metadata must be a JSON object",
				   meta_abs);
			goto out;
		}
		dir = path_dirname(meta_abs);
	} else {
		dir = path_absolute(".", e);
		if (!dir)
			goto out;
	}
	entry = json_pack("{s:s,s:s,s:s,s:s}", "path", abs, "distribution",
			  a->distribution, "version", a->version, "module",
			  a->module);
	doc = json_pack("{s:[o]}", "artifacts", entry);
	if (!dir || !doc ||
	    (meta && json_object_set(entry, "metadata", meta) < 0)) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	free(text);
	text = json_dumps(doc, JSON_COMPACT);
	if (!text) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	jobs = artifacts_parse(text, strlen(text), "the command line", dir,
			       ARTIFACTS_DECLARED, e);
out:
	json_decref(doc);
	json_decref(meta);
	free(abs);
	free(dir);
	free(text);
	free(meta_abs);
	return jobs;
}

/* The platform tag the wheel of the module at path will have, known
 * before anything is written: "linux_<arch>" without --compat, else
 * --compat's tag for the module's libc and architecture with its aliases
 * (policy_platform_tag), exactly what the repair tags it, or fails.
 * wheel_path is the module's place in the wheel, whose suffix may tell
 * musl.  malloc'd; NULL with e filled. */
static char *declared_plat(const char *compat, const char *path,
			   const char *wheel_path, struct sp_err *e)
{
	struct verdict_opts vo = {0};
	struct verdict_object mod = {0};
	struct verdict v = {0};
	struct elf_info info;
	char what[300], *plat = NULL;

	if (!compat)
		return artifacts_linux_tag(path, e);
	if (elf_inspect(path, &info, e) < 0)
		return NULL;
	vo.compat = compat;
	mod.name = path;
	mod.path = wheel_path;
	mod.info = &info;
	snprintf(what, sizeof(what), "'%s'", path);
	if (verdict_policy(&v, &mod, 1, &vo, what, e) == 0 &&
	    !(plat = policy_platform_tag(v.pol, v.limit)))
		sp_err_set(e, "out of memory");
	verdict_release(&v);
	elf_info_release(&info);
	return plat;
}

/* 1 when the manifest path names the wheel name in folder res (resolved):
 * written last, the manifest would replace the wheel with JSON. */
static int manifest_is(const char *manifest, const char *res,
		       const char *name)
{
	char *dir;
	int same;

	if (strcmp(path_basename(manifest), name) != 0)
		return 0;
	dir = path_dirname(manifest);
	same = !dir || path_same_file(dir, res);
	free(dir);
	return same;
}

/* Completes an artifact (artifacts_parse's) into the wire form of a job
 * (worker/wheel_job.h) and parses it, as a worker would, into j: the
 * module is read where it is (it is never written), the wheel goes to
 * out_dir (resolved: out_res) under its name, or at exactly wheel_out. */
static int make_job(const struct wheel_args *a, json_t *art,
		    const char *out_dir, const char *out_res,
		    struct wheel_job *j, struct sp_err *e)
{
	const char *path =
	    json_string_value(json_object_get(art, "cargo_path"));
	const char *mod = json_string_value(json_object_get(art, "module"));
	const char *last = strrchr(mod, '.');
	char tmp[NAME_MAX + 1], *plat = NULL, *name = NULL, *final = NULL;
	char *tmp_path = NULL, *wheel_path = NULL;
	json_t *opts = NULL;
	int rc = -1;

	/* Tags from the command line go to every entry (artifacts_parse
	 * made sure the file declares none then). */
	if (a->python_tag &&
	    (json_object_set_new(art, "python_tag",
				 json_string(a->python_tag)) < 0 ||
	     json_object_set_new(art, "abi_tag", json_string(a->abi_tag)) < 0 ||
	     json_object_set_new(art, "ext_suffix",
				 json_string(a->ext_suffix)) < 0))
		return sp_err_set(e, "out of memory");
	if (asprintf(&wheel_path, "%s%s", last ? last + 1 : mod,
		     json_string_value(json_object_get(art, "ext_suffix"))) <
	    0) {
		wheel_path = NULL;
		sp_err_set(e, "out of memory");
		goto out;
	}
	if (!(plat = declared_plat(a->compat, path, wheel_path, e)))
		goto out;
	name = wheel_filename(
	    json_string_value(json_object_get(art, "distribution")),
	    json_string_value(json_object_get(art, "version")),
	    json_string_value(json_object_get(art, "python_tag")),
	    json_string_value(json_object_get(art, "abi_tag")), plat);
	final = name ? path_join(out_dir, name) : NULL;
	if (!final) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	/* The name is the tags': a file named otherwise says other tags
	 * than its WHEEL, or is no wheel name pip installs ("x.whl"). */
	if (a->wheel_out && strcmp(path_basename(a->wheel_out), name) != 0) {
		sp_err_set(e,
			   "--wheel-out '%s': the wheel of these tags is named "
			   "'%s'; name the file so",
			   a->wheel_out, name);
		goto out;
	}
	if (a->manifest_out && manifest_is(a->manifest_out, out_res, name)) {
		sp_err_set(e,
			   "--manifest-out '%s' is the wheel '%s' itself; "
			   "write the manifest elsewhere",
			   a->manifest_out, name);
		goto out;
	}
	if (tmpfile_name(tmp, sizeof(tmp),
			 a->wheel_out ? path_basename(a->wheel_out) : name,
			 e) < 0)
		goto out;
	tmp_path = path_join(out_res, tmp);
	opts = json_pack("{s:s,s:s,s:O,s:O}", "repair",
			 a->compat ? "repair" : "skip", "search", "declared",
			 "lib_path", a->lib_path, "exclude", a->exclude);
	if (!tmp_path || !opts ||
	    (a->compat &&
	     json_object_set_new(opts, "compat", json_string(a->compat)) < 0)) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	/* json_object_set_new takes opts even when it fails. */
	rc = json_object_set_new(art, "options", opts);
	opts = NULL;
	if (rc < 0) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	rc = -1;
	if (json_object_set_new(art, "staged_path", json_string(path)) < 0 ||
	    json_object_set_new(art, "tags_declared", json_true()) < 0 ||
	    json_object_set_new(art, "platform_tag", json_string(plat)) < 0 ||
	    json_object_set_new(art, "wheel_name", json_string(name)) < 0 ||
	    json_object_set_new(art, "final_path", json_string(final)) < 0 ||
	    json_object_set_new(art, "tmp_path", json_string(tmp_path)) < 0 ||
	    json_object_set_new(art, "out_dir", json_string(out_dir)) < 0 ||
	    json_object_set_new(art, "out_dir_resolved", json_string(out_res)) <
		0 ||
	    json_object_set_new(art, "source_date_epoch",
				json_integer(a->epoch)) < 0 ||
	    json_object_set_new(art, "progress", json_false()) < 0 ||
	    (a->compression &&
	     json_object_set_new(art, "compression",
				 json_string(a->compression)) < 0)) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	if (job_parse(art, j, e) < 0)
		goto out;
	rc = 0;
out:
	json_decref(opts);
	free(plat);
	free(name);
	free(final);
	free(tmp_path);
	free(wheel_path);
	return rc;
}

/* Prints what the repair bundled, for people. */
static void print_people(const json_t *res)
{
	const json_t *g;
	size_t k;

	printf("wrote %s\n",
	       esc(json_string_value(json_object_get(res, "wheel"))));
	json_array_foreach(json_object_get(res, "grafted"), k, g)
	{
		printf(
		    "  bundled %s (%s) as %s\n",
		    esc(json_string_value(json_object_get(g, "soname"))),
		    esc(json_string_value(json_object_get(g, "path"))),
		    esc(json_string_value(json_object_get(g, "wheel_path"))));
	}
}

/* The manifest's entry of one wheel written for job j (result res). */
static json_t *manifest_entry(const struct wheel_job *j, const json_t *res)
{
	const char *plat =
	    json_string_value(json_object_get(res, "platform_tag"));

	return json_pack("{s:s,s:O,s:O,s:s,s:s,s:s,s:s,s:s}", "file",
			 json_string_value(json_object_get(res, "wheel_name")),
			 "sha256", json_object_get(res, "sha256"), "size",
			 json_object_get(res, "size"), "distribution",
			 j->distribution, "version", j->version, "python_tag",
			 j->python_tag, "abi_tag", j->abi_tag, "platform_tag",
			 plat ? plat : j->platform_tag);
}

/* Writes the manifest with the temporary-file recipe. */
static int write_manifest(const char *path, const json_t *wheels,
			  struct sp_err *e)
{
	json_t *doc = json_pack("{s:O}", "wheels", wheels);
	char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	char *dir = path_dirname(path), *res = NULL, *withnl = NULL;
	int fd = -1, rc = -1;

	if (!text || !dir || asprintf(&withnl, "%s\n", text) < 0) {
		withnl = NULL;
		sp_err_set(e, "out of memory");
		goto out;
	}
	fd = dirs_resolve(dir, 1, 0755, &res, e);
	if (fd < 0)
		goto out;
	rc = tmpfile_write_buf(fd, res, path_basename(path), withnl,
			       strlen(withnl), 0644, e);
out:
	if (fd >= 0)
		close(fd);
	json_decref(doc);
	free(text);
	free(withnl);
	free(dir);
	free(res);
	return rc;
}

/* Writes the wheel of every artifact; then the folder's fsync, once, and
 * the manifest.  Returns 0, or -1 with e filled. */
static int write_all(const struct wheel_args *a, json_t *jobs, struct sp_err *e)
{
	const char *out_dir = a->out_dir;
	char *wdir = NULL, *res_dir = NULL;
	json_t *manifest = json_array(), *art;
	size_t i;
	int fd = -1, rc = -1;

	if (a->wheel_out) {
		wdir = path_dirname(a->wheel_out);
		out_dir = wdir;
	}
	if (!manifest || !out_dir) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	/* The folder the user named may hold symlinks (a build system's
	 * output tree does): resolved once, made when missing; the wheel
	 * goes beneath the resolved path with none followed. */
	fd = dirs_resolve(out_dir, 1, 0755, &res_dir, e);
	if (fd < 0)
		goto out;
	json_array_foreach(jobs, i, art)
	{
		struct wheel_job j;
		json_t *res = NULL;

		if (make_job(a, art, out_dir, res_dir, &j, e) < 0)
			goto out;
		if (wheel_write(&j, NULL, NULL, &res, e) < 0) {
			wheel_job_release(&j);
			goto out;
		}
		if (a->json) {
			json_object_set_new(res, "command",
					    json_string("wheel"));
			output_json_line("result", res);
		} else if (!a->quiet) {
			print_people(res);
		}
		if (json_array_append_new(manifest, manifest_entry(&j, res)) <
		    0) {
			json_decref(res);
			wheel_job_release(&j);
			sp_err_set(e, "out of memory");
			goto out;
		}
		json_decref(res);
		wheel_job_release(&j);
	}
	/* wheel_write leaves the folder's fsync to its caller. */
	if (fsx_fsync_fd(fd, res_dir, e) < 0)
		goto out;
	if (a->manifest_out && write_manifest(a->manifest_out, manifest, e) < 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	json_decref(manifest);
	free(wdir);
	free(res_dir);
	return rc;
}

/* Checks the combination of options; prints the usage error. */
static int check_args(const struct wheel_args *a, int linux_only)
{
	const char *why = NULL;
	int ntags = !!a->python_tag + !!a->abi_tag + !!a->ext_suffix;
	int nmod =
	    !!a->module_file + !!a->distribution + !!a->version + !!a->module;

	if (!a->compat && !linux_only)
		why = "--compat TAG is required (manylinux_2_28, "
		      "musllinux_1_2, ..., or linux for no repair)";
	else if (!a->artifacts == !a->module_file)
		why = "give --artifacts FILE or --module-file SO, one of them";
	else if (a->artifacts && nmod)
		why = "--artifacts takes no --distribution, --version or "
		      "--module: they are the file's";
	else if (a->artifacts && a->metadata)
		why = "--artifacts takes no --metadata: each entry has its own";
	else if (a->module_file && nmod != 4)
		why = "--module-file needs --distribution, --version and "
		      "--module";
	else if (ntags && ntags != 3)
		why = "--python-tag, --abi-tag and --ext-suffix go together";
	else if (a->module_file && !ntags)
		why = "--module-file needs --python-tag, --abi-tag and "
		      "--ext-suffix (no interpreter is asked)";
	else if (!a->wheel_out == !a->out_dir)
		why = "give --wheel-out FILE or --out-dir DIR, one of them";
	else if (a->wheel_out && (!*path_basename(a->wheel_out) ||
				  !strcmp(path_basename(a->wheel_out), ".") ||
				  !strcmp(path_basename(a->wheel_out), "..")))
		why = "--wheel-out names a file, not a folder";
	if (why) {
		fprintf(stderr, "spoke: wheel: %s\n", why);
		return -1;
	}
	return 0;
}

int cmd_wheel(int argc, char **argv)
{
	enum {
		OPT_COMPAT = 256,
		OPT_ARTIFACTS,
		OPT_MODULE_FILE,
		OPT_DIST,
		OPT_VERSION,
		OPT_MODULE,
		OPT_METADATA,
		OPT_PY,
		OPT_ABI,
		OPT_EXT,
		OPT_LIBPATH,
		OPT_COMPRESSION,
		OPT_WHEEL_OUT,
		OPT_OUT_DIR,
		OPT_MANIFEST,
		OPT_JSON,
		OPT_EXCLUDE
	};
	static const struct option longopts[] = {
	    {"compat", required_argument, NULL, OPT_COMPAT},
	    {"artifacts", required_argument, NULL, OPT_ARTIFACTS},
	    {"module-file", required_argument, NULL, OPT_MODULE_FILE},
	    {"distribution", required_argument, NULL, OPT_DIST},
	    {"version", required_argument, NULL, OPT_VERSION},
	    {"module", required_argument, NULL, OPT_MODULE},
	    {"metadata", required_argument, NULL, OPT_METADATA},
	    {"python-tag", required_argument, NULL, OPT_PY},
	    {"abi-tag", required_argument, NULL, OPT_ABI},
	    {"ext-suffix", required_argument, NULL, OPT_EXT},
	    {"lib-path", required_argument, NULL, OPT_LIBPATH},
	    {"exclude", required_argument, NULL, OPT_EXCLUDE},
	    {"compression", required_argument, NULL, OPT_COMPRESSION},
	    {"wheel-out", required_argument, NULL, OPT_WHEEL_OUT},
	    {"out-dir", required_argument, NULL, OPT_OUT_DIR},
	    {"manifest-out", required_argument, NULL, OPT_MANIFEST},
	    {"quiet", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct wheel_args a = {0};
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	json_t *jobs = NULL;
	struct sp_err e;
	char *abs, *cwd = NULL;
	int c, linux_only = 0, rc = 1;

	sp_err_clear(&e);
	a.lib_path = json_array();
	a.exclude = json_array();
	if (!a.lib_path || !a.exclude) {
		fprintf(stderr, "spoke: out of memory\n");
		goto out;
	}
	if (!(cwd = getcwd(NULL, 0))) {
		perror("spoke: cannot get the current directory");
		goto out;
	}
	optind = 1;
	while ((c = opts_next(argc, argv, "qh", longopts)) != -1) {
		switch (c) {
		case OPT_COMPAT:
			if (!strcmp(optarg, "linux")) {
				linux_only = 1;
				a.compat = NULL;
				break;
			}
			/* A typo is a usage error before anything is read;
			 * a table that cannot be read is not the user's. */
			if ((c = policy_name_valid(optarg, &e)) < 0) {
				sp_err_print(&e);
				rc = c == -2 ? 1 : EXIT_USAGE;
				goto out;
			}
			a.compat = optarg;
			break;
		case OPT_ARTIFACTS:
			a.artifacts = optarg;
			break;
		case OPT_MODULE_FILE:
			a.module_file = optarg;
			break;
		case OPT_DIST:
			a.distribution = optarg;
			break;
		case OPT_VERSION:
			a.version = optarg;
			break;
		case OPT_MODULE:
			a.module = optarg;
			break;
		case OPT_METADATA:
			a.metadata = optarg;
			break;
		case OPT_PY:
			a.python_tag = optarg;
			break;
		case OPT_ABI:
			a.abi_tag = optarg;
			break;
		case OPT_EXT:
			a.ext_suffix = optarg;
			break;
		case OPT_COMPRESSION:
			a.compression = optarg;
			break;
		case OPT_WHEEL_OUT:
			a.wheel_out = optarg;
			break;
		case OPT_OUT_DIR:
			a.out_dir = optarg;
			break;
		case OPT_MANIFEST:
			a.manifest_out = optarg;
			break;
		case OPT_LIBPATH:
			/* "" would be the working directory, which no build
			 * system declares. */
			if (!*optarg) {
				fprintf(stderr, "spoke: wheel: --lib-path '' "
						"names no folder\n");
				rc = EXIT_USAGE;
				goto out;
			}
			/* Absolute: libraries are opened by the paths found. */
			abs = path_absolute(optarg, &e);
			if (!abs) {
				sp_err_print(&e);
				goto out;
			}
			if (json_array_append_new(a.lib_path,
						  json_string(abs)) < 0) {
				free(abs);
				fprintf(stderr, "spoke: out of memory\n");
				goto out;
			}
			free(abs);
			break;
		case OPT_EXCLUDE:
			/* Paths are matched as found, absolute (exclude.h). */
			abs = exclude_absolute(optarg, cwd);
			if (!abs || json_array_append_new(
					a.exclude, json_string(abs)) < 0) {
				free(abs);
				fprintf(stderr, "spoke: out of memory\n");
				goto out;
			}
			free(abs);
			break;
		case 'q':
			a.quiet = 1;
			break;
		case OPT_JSON:
			a.json = 1;
			break;
		case 'h':
			fputs(wheel_help, stdout);
			rc = 0;
			goto out;
		default:
			fputs(wheel_help, stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "spoke: wheel: unexpected argument '%s'\n",
			argv[optind]);
		rc = EXIT_USAGE;
		goto out;
	}
	if (check_args(&a, linux_only) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (a.compression && strcmp(a.compression, "store") &&
	    strcmp(a.compression, "fast") && strcmp(a.compression, "default") &&
	    strcmp(a.compression, "best")) {
		fprintf(stderr, "spoke: wheel: --compression is store, fast, "
				"default or best\n");
		rc = EXIT_USAGE;
		goto out;
	}
	{
		long long epoch = ZIP_EPOCH;

		if (epoch_parse(sde, &epoch, &e) < 0) {
			sp_err_print(&e);
			goto out;
		}
		a.epoch = epoch;
	}
	if (a.python_tag) {
		struct pyname_artifact pa = {
		    "x", "0", "x", a.python_tag, a.abi_tag, NULL, a.ext_suffix};

		if (pyname_check_artifact(&pa, &e) < 0) {
			sp_err_print(&e);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	/* Temporaries still open when the build system interrupts the
	 * action are removed. */
	tmpfile_remove_on_signals();
	if (a.artifacts) {
		char *dir = NULL;

		jobs = artifacts_load(a.artifacts, ARTIFACTS_DECLARED, &dir,
				      &e);
		free(dir);
	} else {
		jobs = module_jobs(&a, &e);
	}
	if (!jobs)
		goto fail;
	if (a.python_tag && artifacts_tagged(jobs)) {
		fprintf(stderr,
			"spoke: wheel: '%s' declares the tags: give "
			"no --python-tag, --abi-tag or --ext-suffix\n",
			a.artifacts);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!a.python_tag && !artifacts_tagged(jobs)) {
		fprintf(stderr,
			"spoke: wheel: '%s' declares no tags: give "
			"--python-tag, --abi-tag and --ext-suffix, or "
			"python_tag, abi_tag and ext_suffix in each "
			"entry (no interpreter is asked)\n",
			a.artifacts);
		rc = EXIT_USAGE;
		goto out;
	}
	if (a.wheel_out && json_array_size(jobs) != 1) {
		fprintf(stderr,
			"spoke: wheel: --wheel-out writes one wheel, "
			"and '%s' lists %zu artifacts: use --out-dir\n",
			a.artifacts, json_array_size(jobs));
		rc = EXIT_USAGE;
		goto out;
	}
	if (write_all(&a, jobs, &e) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	if (a.json) {
		json_t *r = json_pack("{s:s,s:b,s:s}", "command", "wheel", "ok",
				      0, "error", e.msg);

		if (r)
			output_json_line("result", r);
		json_decref(r);
	}
	sp_err_print(&e);
	rc = 1;
out:
	json_decref(jobs);
	json_decref(a.lib_path);
	json_decref(a.exclude);
	free(cwd);
	return rc;
}
