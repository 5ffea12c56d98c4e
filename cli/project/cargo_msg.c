/*
 * cargo_msg.c - what spoke reads from the JSON messages of `cargo build`.
 */
#include "cli/project/cargo_msg.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/project/strutil.h"

/* state[key], created with make() when missing.  NULL when out of memory. */
static json_t *member(json_t *state, const char *key, json_t *(*make)(void))
{
	json_t *m = json_object_get(state, key);

	if (m)
		return m;
	m = make();
	if (!m || json_object_set_new(state, key, m) < 0)
		return NULL;
	return m;
}

/* ---- cargo's messages ---- */

/* The kinds a build script may put before a linked path ("native=/x"). */
static const char *const link_kinds[] = {"dependency", "crate", "native",
					 "framework", "all"};

static const char *strip_link_kind(const char *p)
{
	size_t i;

	for (i = 0; i < sizeof(link_kinds) / sizeof(link_kinds[0]); i++) {
		size_t n = strlen(link_kinds[i]);

		if (strncmp(p, link_kinds[i], n) == 0 && p[n] == '=')
			return p + n + 1;
	}
	return p;
}

/*
 * A bin target's program, for packages shipped as programs (binplan.h).
 * cargo names the program it linked in "executable" (null for a bin it
 * only checked); a bin's other files (a .dwp, a .pdb) are not programs.
 */
static int on_bin(const json_t *msg, const char *pkg, json_t *state,
		  struct sp_err *e)
{
	const json_t *target = json_object_get(msg, "target");
	const char *name = str_member(target, "name");
	const char *exe = str_member(msg, "executable");
	json_t *bins, *x, *art;
	size_t i;

	if (!exe)
		return 0;
	if (!name)
		return sp_err_set(e,
				  "cargo built the program '%s' of '%s' "
				  "but named no target for it",
				  exe, pkg);
	bins = member(state, "bins", json_array);
	if (!bins)
		return str_oom(e, "plan the build");
	json_array_foreach(bins, i, x)
	{
		if (strcmp(str_member(x, "path"), exe) == 0)
			return 0;
	}
	art = json_pack("{s:s, s:s, s:s}", "package_id", pkg, "name", name,
			"path", exe);
	if (!art || json_array_append_new(bins, art) < 0)
		return str_oom(e, "plan the build");
	return 0;
}

/*
 * Keeps the features cargo resolved for pyo3 and pyo3-ffi (their lib
 * units), as one list: whether a module is abi3 is read from them
 * (cli/project/abi3.h).
 */
static int note_pyo3_features(const json_t *msg, json_t *state,
			      struct sp_err *e)
{
	const json_t *target = json_object_get(msg, "target"), *x;
	const char *name = str_member(target, "name");
	json_t *all;
	size_t i;

	if (!name ||
	    (strcmp(name, "pyo3") != 0 && strcmp(name, "pyo3_ffi") != 0) ||
	    str_array_has(json_object_get(target, "kind"), "custom-build"))
		return 0;
	all = member(state, "pyo3_features", json_array);
	if (!all)
		return str_oom(e, "plan the build");
	json_array_foreach(json_object_get(msg, "features"), i, x)
	{
		if (json_is_string(x) &&
		    str_array_add_unique(all, json_string_value(x)) < 0)
			return str_oom(e, "plan the build");
	}
	return 0;
}

/* Adds the time since the previous artifact to pkg's (cargo_msg.h). */
static int note_compile_time(const json_t *msg, const char *pkg, json_t *state,
			     struct sp_err *e)
{
	json_t *clock = json_object_get(state, "clock_ns"), *all, *v;
	struct timespec ts;
	json_int_t now, was;

	if (!json_is_integer(clock))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	was = json_integer_value(clock);
	if (json_integer_set(clock, now) < 0)
		return str_oom(e, "plan the build");
	/* A fresh unit cost nothing now; a build of fresh units leaves
	 * the package untimed rather than timed at 0. */
	if (json_is_true(json_object_get(msg, "fresh")))
		return 0;
	all = member(state, "compile_s", json_object);
	if (!all)
		return str_oom(e, "plan the build");
	v = json_object_get(all, pkg);
	if (json_object_set_new(
		all, pkg,
		json_real((v ? json_real_value(v) : 0) +
			  (now > was ? (double)(now - was) / 1e9 : 0))) < 0)
		return str_oom(e, "plan the build");
	return 0;
}

static int on_artifact(const json_t *msg, const char *pkg, json_t *state,
		       struct sp_err *e)
{
	const json_t *target = json_object_get(msg, "target");
	const json_t *files = json_object_get(msg, "filenames");
	json_t *built, *cdylibs, *x, *art;
	const char *name, *so = NULL;
	char *lib;
	size_t i;

	built = member(state, "built", json_object);
	if (!built || json_object_set_new(built, pkg, json_true()) < 0)
		return str_oom(e, "plan the build");
	if (note_pyo3_features(msg, state, e) < 0 ||
	    note_compile_time(msg, pkg, state, e) < 0)
		return -1;
	if (str_array_has(json_object_get(target, "kind"), "bin"))
		return on_bin(msg, pkg, state, e);
	if (!str_array_has(json_object_get(target, "kind"), "cdylib"))
		return 0;

	name = str_member(target, "name");
	json_array_foreach(files, i, x)
	{
		const char *f = json_string_value(x);
		size_t n = f ? strlen(f) : 0;

		if (n > 3 && strcmp(f + n - 3, ".so") == 0)
			so = f;
	}
	if (!name || !so)
		return sp_err_set(e,
				  "cargo built the cdylib '%s' of '%s' but "
				  "reported no .so file for it",
				  name ? name : "?", pkg);

	cdylibs = member(state, "cdylibs", json_array);
	if (!cdylibs)
		return str_oom(e, "plan the build");
	json_array_foreach(cdylibs, i, x)
	{
		if (strcmp(str_member(x, "path"), so) == 0)
			return 0;
	}
	/* The lib target's crate name; cargo already spells it with '_'
	 * in new versions, and the symbol PyInit_<name> needs that form. */
	lib = strdup(name);
	if (!lib)
		return str_oom(e, "plan the build");
	for (i = 0; lib[i]; i++)
		if (lib[i] == '-')
			lib[i] = '_';
	art = json_pack("{s:s, s:s, s:s}", "package_id", pkg, "name", lib,
			"path", so);
	free(lib);
	if (!art || json_array_append_new(cdylibs, art) < 0)
		return str_oom(e, "plan the build");
	return 0;
}

static int on_build_script(const json_t *msg, const char *pkg, json_t *state,
			   struct sp_err *e)
{
	json_t *all, *paths, *x;
	const char *out_dir = str_member(msg, "out_dir");
	size_t i;

	/* [tool.maturin] include {from = "out-dir"} reads it (layout.h). */
	if (out_dir) {
		all = member(state, "out_dirs", json_object);
		if (!all || json_object_set_new(all, pkg, json_string(out_dir)) < 0)
			return str_oom(e, "plan the build");
	}
	all = member(state, "linked_paths", json_object);
	if (!all)
		return str_oom(e, "plan the build");
	paths = json_object_get(all, pkg);
	if (!paths) {
		paths = json_array();
		if (!paths || json_object_set_new(all, pkg, paths) < 0)
			return str_oom(e, "plan the build");
	}
	json_array_foreach(json_object_get(msg, "linked_paths"), i, x)
	{
		const char *p = json_string_value(x);

		if (p && *strip_link_kind(p) &&
		    str_array_add_unique(paths, strip_link_kind(p)) < 0)
			return str_oom(e, "plan the build");
	}
	return 0;
}

int cargo_parse_message(const char *line, json_t *state, struct sp_err *e)
{
	const char *reason, *pkg;
	json_error_t jerr;
	json_t *msg;
	int ret = 0;

	while (isspace((unsigned char)*line))
		line++;
	if (!*line)
		return 0;
	if (*line != '{')
		return 1;
	msg = json_loads(line, 0, &jerr);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return 1;
	}
	reason = str_member(msg, "reason");
	pkg = str_member(msg, "package_id");
	if (reason &&
	    (strcmp(reason, "compiler-artifact") == 0 ||
	     strcmp(reason, "build-script-executed") == 0) &&
	    !pkg) {
		ret = sp_err_set(e,
				 "cargo sent a %s message without a "
				 "package_id",
				 reason);
	} else if (reason && strcmp(reason, "compiler-artifact") == 0) {
		ret = on_artifact(msg, pkg, state, e);
	} else if (reason && strcmp(reason, "build-script-executed") == 0) {
		ret = on_build_script(msg, pkg, state, e);
	}
	json_decref(msg);
	return ret;
}
