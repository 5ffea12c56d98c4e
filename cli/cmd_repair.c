/*
 * cmd_repair.c - spoke repair: makes finished wheels manylinux.
 *
 * Runs in-process on any wheel, whoever built it: no coordinator, no
 * journal, no cargo.  worker/repair_wheel.h does the work; this file
 * parses options and prints.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/output.h"
#include "common/esc.h"
#include "common/dirs.h"
#include "common/epoch.h"
#include "common/path.h"
#include "common/tmpfile.h"
#include "worker/repair/policy.h"
#include "worker/repair/exclude.h"
#include "worker/repair_wheel.h"

static const char repair_help[] =
	"usage: spoke repair [options] WHEEL...\n"
	"\n"
	"Checks each wheel (as 'spoke show' does), then repairs every shared\n"
	"object in it as 'spoke build' would: the libraries it needs that\n"
	"manylinux systems do not promise are bundled into <dist>.libs/ under\n"
	"hashed names, the objects are pointed at them, and the wheel gets the\n"
	"oldest manylinux tag all its objects fit.  Libraries are looked for\n"
	"through the objects' RPATH/RUNPATH ($ORIGIN is their place in the\n"
	"wheel), LD_LIBRARY_PATH, --lib-path, ld.so.conf and the default\n"
	"directories.  The repaired wheel is written to the output directory\n"
	"under the new platform tag; the input is never modified.  A wheel\n"
	"without shared objects is left alone: nothing to repair.\n"
	"\n"
	"ELF executables in the wheel are repaired as its modules are, and\n"
	"count for the tag.  An executable in <dist>.data/scripts/ that needs\n"
	"bundled libraries moves to <dist>.scripts/ (in site-packages, where\n"
	"its RPATH $ORIGIN/../<dist>.libs holds), and a Python launcher that\n"
	"runs it takes its place.  One that needs nothing is left as it is.\n"
	"\n"
	"options:\n"
	"  -w, --out-dir DIR  where repaired wheels go (default: wheelhouse)\n"
	"  --compat TAG       tag the wheel exactly TAG (manylinux1,\n"
	"                     manylinux2010, manylinux2014, manylinux_2_X,\n"
	"                     musllinux_1_1, musllinux_1_2, with or without\n"
	"                     _<arch>) and its aliases; fail, naming the\n"
	"                     symbol versions, libraries or black-listed\n"
	"                     symbols, if an object needs more.  Without it,\n"
	"                     a glibc wheel gets the oldest manylinux tag its\n"
	"                     objects fit (manylinux_2_5_x86_64 with\n"
	"                     manylinux1_x86_64), a musl wheel\n"
	"                     musllinux_1_2.  Also spelled --compatibility\n"
	"                     and --manylinux\n"
	"  --exclude PATTERN  never bundle a library whose soname matches\n"
	"                     this shell-style glob (libffi.so.*); a\n"
	"                     PATTERN with '/' matches the library's path\n"
	"                     (relative ones, libs/*, from the current\n"
	"                     folder) (repeatable)\n"
	"  --lib-path DIR     also search DIR for libraries (repeatable)\n"
	"  --split-debug      strip DWARF from the objects, writing it to\n"
	"                     DIR/debug/.build-id/xx/rest.debug\n"
	"  --json             one JSON result per wheel, one per line\n"
	"\n"
	"SOURCE_DATE_EPOCH, when set, is the timestamp of every zip entry.\n"
	"\n"
	"exit status: 0 every wheel was repaired (or had nothing to repair);\n"
	"1 a wheel is invalid or cannot be repaired (nothing is written for\n"
	"it); 2 usage error.\n";

static int push(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv)
		return -1;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

/* A string member of o, escaped for a terminal: names come from the
 * wheel, which spoke does not trust. */
static const char *str(const json_t *o, const char *key)
{
	return esc(json_string_value(json_object_get(o, key)));
}

static void print_people(const json_t *r)
{
	const json_t *mods = json_object_get(r, "modules"), *m, *g;
	size_t i, k;

	if (json_is_true(json_object_get(r, "nothing_to_repair"))) {
		printf("%s: no shared object: nothing to repair\n",
		       str(r, "input"));
		return;
	}
	printf("%s -> %s\n", str(r, "input"),
	       str(r, "wheel"));
	json_array_foreach(mods, i, m) {
		printf("  %s\n", str(m, "entry"));
		json_array_foreach(json_object_get(json_object_get(m, "repair"),
						   "removed"), k, g)
			printf("    removed DT_NEEDED %s from %s: an "
			       "extension module must not link libpython\n",
			       str(g, "soname"), str(g, "from"));
		json_array_foreach(json_object_get(m, "grafted"), k, g)
			printf("    bundled %s (%s) as %s\n",
			       str(g, "soname"),
			       str(g, "path"),
			       str(g, "wheel_path"));
		if (json_object_get(m, "debug"))
			printf("    debug info: %s\n",
			       str(m, "debug"));
		output_nearest_miss(json_object_get(m, "repair"), "    ");
	}
	printf("  platform tag: %s\n",
	       str(r, "platform_tag"));
}

/* Makes the first n of v absolute against cwd, in place: --lib-path
 * folders (dirs: common/path.h's path_absolute, as `spoke build` does),
 * so that the libraries found there have absolute paths, and relative
 * --exclude path patterns, which are matched against those (exclude.h).
 * Each v[i] becomes malloc'd and *done counts them, for the caller to
 * free, also after a failure (-1 with e filled). */
static int make_absolute(const char **v, size_t n, int dirs,
			 const char *cwd, size_t *done, struct sp_err *e)
{
	char *s;

	for (*done = 0; *done < n; (*done)++) {
		if (dirs)
			s = path_absolute(v[*done], e);
		else if (!(s = exclude_absolute(v[*done], cwd)))
			sp_err_set(e, "out of memory");
		if (!s)
			return -1;
		v[*done] = s;
	}
	return 0;
}

static int repair_one(const char *path, const struct repair_wheel_opts *o,
		      int json)
{
	struct sp_err e;
	json_t *r = NULL;

	sp_err_clear(&e);
	if (repair_wheel(path, o, &r, &e) < 0) {
		if (json) {
			r = json_pack("{s:s,s:b,s:s,s:s}", "command", "repair",
				      "ok", 0, "input", path, "error", e.msg);
			if (r)
				output_json_line("result", r);
			json_decref(r);
		}
		sp_err_print(&e);
		return 1;
	}
	if (json)
		output_json_line("result", r);
	else
		print_people(r);
	fflush(stdout);
	json_decref(r);
	return 0;
}

int cmd_repair(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_COMPAT, OPT_EXCLUDE, OPT_LIBPATH,
	       OPT_SPLIT };
	static const struct option longopts[] = {
		{"out-dir", required_argument, NULL, 'w'},
		{"compat", required_argument, NULL, OPT_COMPAT},
		{"compatibility", required_argument, NULL, OPT_COMPAT},
		{"manylinux", required_argument, NULL, OPT_COMPAT},
		{"exclude", required_argument, NULL, OPT_EXCLUDE},
		{"lib-path", required_argument, NULL, OPT_LIBPATH},
		{"split-debug", no_argument, NULL, OPT_SPLIT},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct repair_wheel_opts o = {0};
	const char **exclude = NULL, **lib_path = NULL;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *debug_dir = NULL, *out_dir = NULL, *cwd = NULL;
	size_t i, nex_abs = 0, nlib_abs = 0;
	struct sp_err e;
	int c, dirfd, json = 0, rc = 0;

	o.out_dir = "wheelhouse";
	optind = 1;
	while ((c = opts_next(argc, argv, "w:h", longopts)) != -1) {
		switch (c) {
		case 'w':
			o.out_dir = optarg;
			break;
		case OPT_COMPAT:
			/* A typo is a usage error before any wheel is
			 * read, as in spoke build. */
			if ((c = policy_name_valid(optarg, &e)) < 0) {
				sp_err_print(&e);
				rc = c == -2 ? 1 : EXIT_USAGE;
				goto out;
			}
			o.compat = optarg;
			break;
		case OPT_EXCLUDE:
			if (push(&exclude, &o.nexclude, optarg) < 0)
				goto oom;
			break;
		case OPT_LIBPATH:
			if (!*optarg) {
				fprintf(stderr, "spoke: repair: --lib-path '' "
						"names no folder\n");
				rc = EXIT_USAGE;
				goto out;
			}
			if (push(&lib_path, &o.nlib, optarg) < 0)
				goto oom;
			break;
		case OPT_SPLIT:
			o.split_debug = 1;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case 'h':
			fputs(repair_help, stdout);
			goto out;
		default:
			fputs(repair_help, stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "spoke: repair needs at least one wheel\n\n%s",
			repair_help);
		rc = EXIT_USAGE;
		goto out;
	}
	if (o.nexclude && !(cwd = getcwd(NULL, 0))) {
		perror("spoke: cannot get the current directory");
		rc = 1;
		goto out;
	}
	if (make_absolute(exclude, o.nexclude, 0, cwd, &nex_abs, &e) < 0 ||
	    make_absolute(lib_path, o.nlib, 1, cwd, &nlib_abs, &e) < 0) {
		sp_err_print(&e);
		rc = 1;
		goto out;
	}
	o.exclude = exclude;
	o.lib_path = lib_path;
	o.ld_library_path = getenv("LD_LIBRARY_PATH");
	o.epoch = (long long)time(NULL);
	if (epoch_parse(sde, &o.epoch, &e) < 0) {
		sp_err_print(&e);
		rc = 1;
		goto out;
	}
	/* Temporaries still open when the user interrupts are removed. */
	tmpfile_remove_on_signals();
	/* The folder the user named may hold symlinks: resolved once (and
	 * made when missing, one component at a time); every wheel and debug
	 * file then goes beneath the resolved path, with none followed. */
	dirfd = dirs_resolve(o.out_dir, 1, 0755, &out_dir, &e);
	if (dirfd < 0) {
		sp_err_print(&e);
		rc = 1;
		goto out;
	}
	close(dirfd);
	o.out_dir = out_dir;
	if (asprintf(&debug_dir, "%s/debug", o.out_dir) < 0) {
		debug_dir = NULL;
		goto oom;
	}
	o.debug_dir = debug_dir;
	for (; optind < argc; optind++)
		if (repair_one(argv[optind], &o, json))
			rc = 1;
	goto out;
oom:
	fprintf(stderr, "spoke: out of memory\n");
	rc = 1;
out:
	for (i = 0; i < nex_abs; i++)
		free((char *)exclude[i]);
	for (i = 0; i < nlib_abs; i++)
		free((char *)lib_path[i]);
	free(exclude);
	free(lib_path);
	free(cwd);
	free(debug_dir);
	free(out_dir);
	return rc;
}
