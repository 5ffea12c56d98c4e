/*
 * cmd_build.c - spoke build: cargo, then the coordinator.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/project/artifacts.h"
#include "cli/project/plan.h"
#include "cli/project/rustc_target.h"
#include "cli/project/shard.h"
#include "cli/project/strutil.h"
#include "cli/pyfind.h"
#include "cli/client.h"
#include "cli/jobserver.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/output.h"
#include "cli/where.h"
#include "common/frame.h"
#include "common/epoch.h"
#include "common/esc.h"
#include "common/path.h"
#include "common/version.h"
#include "worker/repair/exclude.h"
#include "worker/repair/policy.h"

static const char build_help[] =
	"usage: spoke build [options]\n"
	"\n"
	"Runs 'cargo build --release' in the workspace, then writes a wheel for\n"
	"every cdylib that is a Python extension module: those of packages with\n"
	"a [package.metadata.spoke] table, or, when no package has one, every\n"
	"cdylib that exports PyInit_<lib name>.  Cargo's outputs are staged by\n"
	"hard link and given back before spoke returns, whatever happens.\n"
	"maturin's build flags are accepted with maturin's meaning.\n"
	"\n"
	"cargo options:\n"
	"  -m, --manifest-path PATH  the workspace's Cargo.toml\n"
	"  -p, --package NAME     build only this package (repeatable)\n"
	"  -r, --release          build with the release profile (the\n"
	"                         default; conflicts with --profile)\n"
	"  --profile NAME         cargo profile (default: release)\n"
	"  --editable[=PROFILE]   build for an editable install (the PEP 517\n"
	"                         backend's PEP 660 hook, spoke develop):\n"
	"                         [tool.maturin] editable-profile, else\n"
	"                         profile, else PROFILE (default release)\n"
	"                         is the profile when --profile is not given\n"
	"  -F, --features LIST    cargo features (repeatable: they add up)\n"
	"  --all-features         every feature of the selected packages\n"
	"  --no-default-features  not the 'default' feature\n"
	"  --locked               fail, as cargo does, when Cargo.lock would\n"
	"                         change\n"
	"  --frozen               --locked, and no network\n"
	"  --offline              no network (cargo's net.offline)\n"
	"  --config KEY=VALUE     a cargo configuration value (repeatable)\n"
	"  --target TRIPLE        build for this target: outputs go to\n"
	"                         <target>/TRIPLE/<profile>/; the wheel is\n"
	"                         still tagged for the interpreter, so TRIPLE\n"
	"                         must be one it runs (the host's); a triple\n"
	"                         without an installed standard library fails\n"
	"                         before cargo runs\n"
	"  --strip                strip the modules' symbols (cargo's\n"
	"                         profile.<profile>.strip = true)\n"
	"  --target-dir DIR       cargo's target directory (also\n"
	"                         CARGO_TARGET_DIR)\n"
	"\n"
	"CI sharding:\n"
	"  --shard K/N            build only the K-th of N shards of the\n"
	"                         selected packages that have a cdylib (or,\n"
	"                         shipped as programs, a bin) target: cargo\n"
	"                         builds those alone (-p) and only their\n"
	"                         wheels are written.  The shards depend\n"
	"                         only on the sorted package names, N and\n"
	"                         the weights, so N jobs with empty state\n"
	"                         build every wheel once; see spoke plan\n"
	"  --shard-weights FILE   balance the shards by the seconds FILE\n"
	"                         gives each package (spoke plan --shards N\n"
	"                         --json writes it): heaviest first into the\n"
	"                         lightest shard; a package FILE does not\n"
	"                         name weighs the median\n"
	"\n"
	"wheel options:\n"
	"  -o, --out DIR          where wheels go (default <target>/wheels);\n"
	"                         also spelled --out-dir\n"
	"  -i, --interpreter PY   target Python; repeatable: one cargo build\n"
	"                         and one set of wheels per interpreter, each\n"
	"                         with PYO3_PYTHON set to it (abi3 wheels, and\n"
	"                         interpreters with the same tags, are built\n"
	"                         once). Default: $PYO3_PYTHON, else python3\n"
	"                         on PATH\n"
	"  -f, --find-interpreter  build for every interpreter on PATH named\n"
	"                         python3.7 ... python3.14 or pypy3.8 ...\n"
	"                         pypy3.11 (else python3, else python), as\n"
	"                         maturin finds them; not with -i\n"
	"  --sdist                also write the source distribution, as\n"
	"                         'spoke sdist' does, into the wheels' folder\n"
	"                         (first: a failure stops the build)\n"
	"  --compression LEVEL    store, fast, default or best\n"
	"\n"
	"repair options (manylinux, musllinux):\n"
	"  --repair=MODE          repair (default): bundle the libraries no\n"
	"                         manylinux system provides into <dist>.libs/\n"
	"                         and tag the wheel manylinux_2_N; check:\n"
	"                         only say what repair would do, fail if it\n"
	"                         would bundle anything; warn: say what\n"
	"                         repair would bundle and, if anything, write\n"
	"                         the wheel unrepaired as linux_<arch>; skip:\n"
	"                         plain linux_<arch>.  Also spelled\n"
	"                         --auditwheel (two different modes are a\n"
	"                         usage error)\n"
	"  --compat TAG           tag the wheel exactly TAG (manylinux1,\n"
	"                         manylinux2010, manylinux2014,\n"
	"                         manylinux_2_X, musllinux_1_1, musllinux_1_2,\n"
	"                         with or without _<arch>) and its aliases,\n"
	"                         so the wheel's file name is known before\n"
	"                         the build; fail, naming the symbol\n"
	"                         versions, libraries or black-listed\n"
	"                         symbols, if an object needs more.  Without\n"
	"                         it (or with 'pypi'), a glibc wheel gets the\n"
	"                         oldest manylinux tag its objects fit, a\n"
	"                         musl wheel musllinux_1_2.  'linux' or 'off':\n"
	"                         no repair (--repair=skip).  Also spelled\n"
	"                         --compatibility and --manylinux\n"
	"  --exclude PATTERN      never bundle a library whose soname matches\n"
	"                         this shell-style glob (libffi.so.*); a\n"
	"                         PATTERN with '/' matches the library's path\n"
	"                         (relative ones, libs/*, from the current\n"
	"                         folder) (repeatable)\n"
	"  --lib-path DIR         also look for needed libraries here\n"
	"                         (repeatable); LD_LIBRARY_PATH and the\n"
	"                         build scripts' link paths are searched too\n"
	"  --split-debug          strip DWARF from the modules and the\n"
	"                         bundled libraries into zstd-compressed\n"
	"                         <out-dir>/debug/.build-id/xx/rest.debug\n"
	"                         files, linked by .gnu_debuglink\n"
	"\n"
	"prebuilt artifacts (no cargo run):\n"
	"  --artifacts FILE.json  package the shared objects FILE lists:\n"
	"                         {\"artifacts\": [{\"path\", \"distribution\",\n"
	"                         \"version\", \"module\", optional \"metadata\"\n"
	"                         and \"linked_paths\"}]}; paths are relative to\n"
	"                         FILE, state goes to .spoke/ and wheels to\n"
	"                         wheels/ beside it; with \"python_tag\",\n"
	"                         \"abi_tag\" and \"ext_suffix\" in every entry\n"
	"                         no interpreter is asked (see spoke wheel)\n"
	"\n"
	"spoke options:\n"
	"  -j, --jobs N           workers at once for this build (default:\n"
	"                         the coordinator's limit, the number of\n"
	"                         CPUs); under 'make -jN' (a '+' recipe) spoke\n"
	"                         also takes job slots from make's jobserver\n"
	"  --state-dir DIR        journal and staged files (default\n"
	"                         <target>/spoke)\n"
	"  --stage link|move      stage by hard link (default) or by rename\n"
	"  --idle-timeout SECS    a coordinator started now exits after this\n"
	"                         long without clients (default 300)\n"
	"  --json                 one JSON object per line: events, then the\n"
	"                         result\n"
	"  -q, --quiet            only errors\n"
	"  --force                write every wheel again, even one whose\n"
	"                         inputs are unchanged since it was written\n"
	"                         (docs/incremental.md)\n"
	"  -v, --verbose          say which socket folder is used, and why\n"
	"                         not XDG_RUNTIME_DIR\n"
	"\n"
	"SOURCE_DATE_EPOCH, when set, is the time stamp of every wheel entry.\n";

/* The repair options; getopt values above every other option's. */
enum { OPT_REPAIR = 512, OPT_COMPAT, OPT_EXCLUDE, OPT_LIB_PATH,
       OPT_SPLIT_DEBUG };

/* Checks a --compat tag against the policy the workers will use, so that
 * a typo fails before cargo runs.  Which libc the modules link is known
 * only once they are built: here the name must be a tag of either. */
static int compat_valid(const char *tag, struct sp_err *e)
{
	return policy_name_valid(tag, e);
}

/* Adds one repair option to *opts, the request's "options" object.  -1
 * with e filled for a usage error, -2 when the policy cannot be read. */
static int repair_option(json_t **opts, int c, const char *arg,
			 struct sp_err *e)
{
	const char *key = c == OPT_EXCLUDE ? "exclude" : "lib_path";
	json_t *list;
	char *abs;

	if (!*opts && !(*opts = json_object()))
		return sp_err_set(e, "out of memory");
	switch (c) {
	case OPT_REPAIR:
		if (strcmp(arg, "repair") && strcmp(arg, "check") &&
		    strcmp(arg, "skip") && strcmp(arg, "warn"))
			return sp_err_set(e, "--repair must be repair, check, "
					     "warn or skip");
		return json_object_set_new(*opts, "repair", json_string(arg));
	case OPT_COMPAT: {
		/* -2: the table cannot be read, no usage error. */
		int bad = compat_valid(arg, e);

		if (bad < 0)
			return bad;
		return json_object_set_new(*opts, "compat", json_string(arg));
	}
	case OPT_SPLIT_DEBUG:
		return json_object_set_new(*opts, "split_debug", json_true());
	}
	list = json_object_get(*opts, key);
	if (!list) {
		list = json_array();
		json_object_set_new(*opts, key, list);
	}
	/* The coordinator's working directory is not ours; a relative
	 * --exclude path pattern is made absolute here (exclude.h). */
	if (c == OPT_LIB_PATH) {
		if (!*arg)
			return sp_err_set(e, "--lib-path '' names no folder");
		abs = path_absolute(arg, e);
	} else {
		char *cwd = getcwd(NULL, 0);

		if (!cwd)
			return sp_err_sys(e, "cannot get the current directory");
		abs = exclude_absolute(arg, cwd);
		free(cwd);
		if (!abs)
			sp_err_set(e, "out of memory");
	}
	if (!abs)
		return -1;
	json_array_append_new(list, json_string(abs));
	free(abs);
	return 0;
}

/* The client's LD_LIBRARY_PATH with each element made absolute (an empty
 * one means the current directory), as the loader would read it here. */
static int add_ld_library_path(json_t **opts, struct sp_err *e)
{
	const char *env = getenv("LD_LIBRARY_PATH");
	char *copy, *elem, *next, *abs, *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc = -1;

	if (!env || !*env)
		return 0;
	if (!*opts && !(*opts = json_object()))
		return sp_err_set(e, "out of memory");
	copy = strdup(env);
	f = open_memstream(&buf, &len);
	if (!copy || !f) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	for (elem = copy; elem; elem = next) {
		next = strpbrk(elem, ":;");
		if (next)
			*next++ = '\0';
		abs = path_absolute(*elem ? elem : ".", e);
		if (!abs)
			goto out;
		fprintf(f, "%s%s", elem == copy ? "" : ":", abs);
		free(abs);
	}
	rc = fclose(f);
	f = NULL;
	if (rc == 0)
		rc = json_object_set_new(*opts, "ld_library_path",
					 json_string(buf));
	if (rc < 0)
		sp_err_set(e, "out of memory");
out:
	if (f)
		fclose(f);
	free(buf);
	free(copy);
	return rc;
}

/* A worker's repair report, for people: which tag, what gets bundled. */
static void print_repair(const json_t *ev)
{
	const json_t *r = json_object_get(ev, "repair"), *g;
	const char *cargo = json_string_value(json_object_get(ev, "cargo_path"));
	const char *mode = json_string_value(json_object_get(r, "mode"));
	int check = mode && (strcmp(mode, "check") == 0 ||
			     strcmp(mode, "warn") == 0);
	size_t i;

	/* Sonames and paths come from the ELF files: escaped. */
	printf("%s: %s\n", cargo ? esc(path_basename(cargo)) : "module",
	       esc(json_string_value(json_object_get(r, "platform_tag"))));
	json_array_foreach(json_object_get(r, "grafted"), i, g)
		printf("  %s %s ('%s') as %s\n",
		       check ? "would bundle" : "bundles",
		       esc(json_string_value(json_object_get(g, "soname"))),
		       esc(json_string_value(json_object_get(g, "path"))),
		       esc(json_string_value(
			       json_object_get(g, "wheel_path"))));
	json_array_foreach(json_object_get(r, "removed"), i, g)
		printf("  removes DT_NEEDED %s from %s\n",
		       esc(json_string_value(json_object_get(g, "soname"))),
		       esc(json_string_value(json_object_get(g, "from"))));
	output_nearest_miss(r, "  ");
	if (mode && !strcmp(mode, "warn") &&
	    json_array_size(json_object_get(r, "grafted")))
		fprintf(stderr,
			"spoke: warning: %s needs the libraries above, which "
			"were not bundled (--repair=warn): the wheel is %s; "
			"use --repair=repair to bundle them\n",
			cargo ? esc(path_basename(cargo)) : "the module",
			esc(json_string_value(
				json_object_get(r, "platform_tag"))));
}

struct build_ui {
	int json;
	int quiet;
	int live;	/* stderr is a terminal: redraw a progress line */
	long total, done;
	long long bytes;
	char current[128];
};

/* The live line: jobs done / total, bytes written, the artifact being
 * packaged.  Drawn on stderr, where cargo draws its own. */
static void progress_draw(const struct build_ui *ui)
{
	fprintf(stderr, "\r\033[K  packaging [%ld/%ld] %.1f MB written%s%s",
		ui->done, ui->total, (double)ui->bytes / 1e6,
		ui->current[0] ? ": " : "", esc(ui->current));
	fflush(stderr);
}

static void progress_clear(struct build_ui *ui)
{
	if (ui->live && ui->total) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}

static void on_event(const json_t *ev, void *arg)
{
	struct build_ui *ui = arg;
	const char *kind = json_string_value(json_object_get(ev, "event"));

	if (ui->json) {
		json_t *copy = json_deep_copy(ev);

		output_json_line("event", copy);
		json_decref(copy);
		return;
	}
	if (ui->quiet || !kind)
		return;
	if (!strcmp(kind, "build"))
		ui->total = (long)json_integer_value(
			json_object_get(ev, "artifacts"));
	if (!strcmp(kind, "staged"))
		snprintf(ui->current, sizeof(ui->current), "%s",
			 path_basename(json_string_value(
				 json_object_get(ev, "cargo_path"))));
	if (!strcmp(kind, "wheel")) {
		const char *path =
			json_string_value(json_object_get(ev, "path"));

		ui->done++;
		if (!json_is_true(json_object_get(ev, "reused")))
			ui->bytes += json_integer_value(
				json_object_get(ev, "size"));
		snprintf(ui->current, sizeof(ui->current), "%s",
			 path_basename(path));
		progress_clear(ui);
		output_wheel(ev);
		fflush(stdout);
	}
	if (!strcmp(kind, "repair")) {
		progress_clear(ui);
		print_repair(ev);
		fflush(stdout);
	}
	if (ui->live)
		progress_draw(ui);
}

/* What one `spoke build` asks of every per-interpreter build. */
struct build_args {
	struct cargo_opts co;
	const char *artifacts, *out_dir, *stage, *compression, *state_dir;
	const char *shard_spec; /* --shard K/N as given, or NULL */
	json_t *ropts; /* repair options, or NULL */
	/* --artifacts FILE read once (artifacts_load), and its folder. */
	json_t *art_jobs;
	char *art_dir;
	/* The command line named a repair mode (--repair, --auditwheel, or
	 * --compat linux/off), a tag (--compat, also pypi): [tool.maturin]
	 * auditwheel and compatibility then say nothing, as in maturin. */
	int cli_repair, cli_compat;
	long long sde; /* SOURCE_DATE_EPOCH, or -1 */
	int jobs, idle;
	int force; /* --force: reuse no wheel */
	struct jobserver *js; /* NULL without make's jobserver */
	struct build_ui *ui;
	/* A sharded build's division and packages (the first plan's), for
	 * the result; NULL until then. */
	json_t *shard;
};

/*
 * Sets req's "options": the command line's repair options, with what the
 * built packages' [tool.maturin] ask (plan->auditwheel, plan->compat)
 * where the command line says nothing.  compatibility "linux" or "off"
 * means no repair, "pypi" the default rule.  Returns 0, or -1 with e
 * filled.
 */
static int build_options(const struct build_args *a,
			 const struct cargo_plan *plan, json_t *req,
			 struct sp_err *e)
{
	const char *mode = a->cli_repair ? NULL : plan->auditwheel;
	const char *tag = a->cli_compat ? NULL : plan->compat;
	json_t *o;

	if (tag && (!strcmp(tag, "linux") || !strcmp(tag, "off"))) {
		if (mode && strcmp(mode, "skip"))
			return sp_err_set(e,
					  "[tool.maturin] compatibility = "
					  "\"%s\" means no repair; it "
					  "conflicts with auditwheel = \"%s\"",
					  tag, mode);
		if (!a->cli_repair)
			mode = "skip";
		tag = NULL;
	}
	if (tag && !strcmp(tag, "pypi"))
		tag = NULL;
	if (!mode && !tag) {
		if (a->ropts)
			json_object_set(req, "options", a->ropts);
		return 0;
	}
	o = a->ropts ? json_deep_copy(a->ropts) : json_object();
	if (!o || (mode && json_object_set_new(o, "repair",
					       json_string(mode)) < 0) ||
	    (tag && json_object_set_new(o, "compat", json_string(tag)) < 0) ||
	    json_object_set_new(req, "options", o) < 0)
		return sp_err_set(e, "out of memory");
	return 0;
}

/* The wheel a job writes, as one string "<distribution>|<python>-<abi>"
 * (dist NULL: "|<python>-<abi>", the tags of an interpreter): two jobs (or
 * an abi3 job built for an earlier interpreter) with the same key would
 * write the same wheel.  malloc'd; NULL when out of memory. */
static char *tag_key(const char *dist, const char *py, const char *abi)
{
	char *k;

	if (asprintf(&k, "%s|%s-%s", dist ? dist : "", py ? py : "",
		     abi ? abi : "") < 0)
		return NULL;
	return k;
}

/* Drops from jobs those whose wheel an earlier interpreter wrote already
 * (abi3 wheels serve every interpreter), and records the rest in done. */
static int drop_built(json_t *jobs, json_t *done, struct sp_err *e)
{
	size_t i = 0;

	while (i < json_array_size(jobs)) {
		json_t *j = json_array_get(jobs, i);
		char *k = tag_key(
			json_string_value(json_object_get(j, "distribution")),
			json_string_value(json_object_get(j, "python_tag")),
			json_string_value(json_object_get(j, "abi_tag")));

		if (!k)
			return sp_err_set(e, "out of memory");
		if (json_object_get(done, k)) {
			json_array_remove(jobs, i);
		} else {
			json_object_set_new(done, k, json_true());
			i++;
		}
		free(k);
	}
	return 0;
}

/*
 * Asks every interpreter for its tags (pyinfo_query), so a wrong -i fails
 * before any build, as does a --target (target, or NULL) of another
 * architecture than an interpreter's.  Two that carry the same tags would
 * write the same wheels: each later one is set to "" (skipped) and,
 * unless ui is quiet, named on stderr.  Returns 0, or -1 with e filled.
 */
static int check_interpreters(const char **interps, size_t n,
			      const char *target, const struct build_ui *ui,
			      struct sp_err *e)
{
	json_t *seen = json_object(); /* tag key -> first interpreter */
	size_t i;
	int rc = -1;

	if (!seen)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < n; i++) {
		struct pyinfo py;
		char *k;

		if (pyinfo_query(interps[i], NULL, 0, &py, e) < 0)
			goto out;
		if (target &&
		    rustc_target_fits(target, py.platform_tag, e) < 0) {
			pyinfo_release(&py);
			goto out;
		}
		k = tag_key(NULL, py.python_tag, py.abi_tag);
		if (k && json_object_get(seen, k)) {
			if (!ui->quiet && !ui->json)
				fprintf(stderr,
					"spoke: '%s' has the tags of '%s' "
					"(%s): built once\n",
					interps[i],
					json_string_value(
						json_object_get(seen, k)),
					k + 1);
			interps[i] = "";
		} else if (k) {
			json_object_set_new(seen, k, json_string(interps[i]));
		}
		pyinfo_release(&py);
		if (!k) {
			sp_err_set(e, "out of memory");
			goto out;
		}
		free(k);
	}
	rc = 0;
out:
	json_decref(seen);
	return rc;
}

/* Runs cargo (or reads --artifacts) for one interpreter and has the
 * coordinator write its wheels.  *res is the coordinator's answer, or NULL
 * when every job had been built for an earlier interpreter.  Returns -1
 * when the build could not run (e says why). */
static int build_for(struct build_args *a, const char *interp,
		     json_t *done, char **out_abs, json_t **res,
		     struct sp_err *e)
{
	struct cargo_opts co = a->co;
	struct cargo_plan plan = {0};
	struct where_opts wo = {0};
	char *state = NULL, *state_default = NULL;
	json_t *req = NULL;
	int fd = -1, attempt, rc = -1;

	*res = NULL;
	co.interpreter = interp;
	wo.state_dir = a->state_dir;
	if (a->artifacts) {
		if (artifacts_plan(a->art_jobs, a->art_dir, interp, &plan, e) <
		    0)
			goto out;
		if (!wo.state_dir) {
			state_default = path_join(plan.target_dir, ".spoke");
			wo.state_dir = state_default;
		}
	} else if (cargo_plan_build(&co, &plan, e) < 0) {
		goto out;
	}
	if (drop_built(plan.jobs, done, e) < 0)
		goto out;
	wo.target_dir = plan.target_dir;
	state = where_state_dir(&wo, 1, NULL, e);
	if (!state)
		goto out;
	if (!*out_abs) {
		*out_abs = a->out_dir ? path_absolute(a->out_dir, e)
				      : path_join(plan.target_dir, "wheels");
		if (!*out_abs)
			goto out;
	}
	if (plan.shard && !a->shard) {
		size_t k = (size_t)co.shard_k;

		a->shard = json_pack(
		    "{s:s,s:O,s:I}", "shard", a->shard_spec, "packages",
		    json_object_get(json_array_get(json_object_get(plan.shard,
								   "shards"),
						   k - 1),
				    "packages"),
		    "of", (json_int_t)json_array_size(
			      json_object_get(plan.shard, "packages")));
		if (!a->shard) {
			sp_err_set(e, "out of memory");
			goto out;
		}
	}
	if (json_array_size(plan.jobs) == 0) {
		/* A shard of nothing is a success with no wheel: CI runs
		 * N jobs whatever the workspace holds. */
		if (plan.shard)
			*res = json_pack("{s:s,s:b,s:[],s:[]}", "command",
					 "build", "ok", 1, "wheels",
					 "artifacts");
		rc = 0;
		goto out;
	}
	req = json_pack("{s:O,s:s,s:s,s:s}", "artifacts", plan.jobs,
			"out_dir", *out_abs, "stage", a->stage,
			"client_version", spoke_version());
	if (!req) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	if (a->compression)
		json_object_set_new(req, "compression",
				    json_string(a->compression));
	if (a->sde >= 0)
		json_object_set_new(req, "source_date_epoch",
				    json_integer(a->sde));
	if (a->jobs)
		json_object_set_new(req, "jobs", json_integer(a->jobs));
	if (build_options(a, &plan, req, e) < 0)
		goto out;
	if (a->js)
		json_object_set_new(req, "jobserver", json_true());
	if (a->force)
		json_object_set_new(req, "force", json_true());
	/* -q without --json shows no event: the coordinator need not send
	 * them. */
	if (a->ui->quiet && !a->ui->json)
		json_object_set_new(req, "quiet", json_true());
	/* Only --json shows each wheel's whole repair report (its tag's
	 * reasons, every library): without it the answer is a tenth. */
	if (!a->ui->json)
		json_object_set_new(req, "brief", json_true());
	for (attempt = 0;; attempt++) {
		fd = client_connect(state, 1, a->idle, e);
		if (fd < 0)
			goto out;
		*res = client_build_call(fd, req, a->js, on_event, a->ui, e);
		progress_clear(a->ui);
		if (!*res)
			goto out;
		if (!json_is_true(json_object_get(*res, "restart")) ||
		    attempt > 0)
			break;
		/* A coordinator of another version runs: it exits when its
		 * builds are done; then start ours. */
		if (!a->ui->quiet && !a->ui->json)
			fprintf(stderr,
				"spoke: replacing coordinator %s with %s\n",
				json_string_value(json_object_get(
					*res, "coordinator_version")),
				spoke_version());
		json_decref(*res);
		*res = NULL;
		if (client_wait_gone(fd, state, 60, 10, e) < 0)
			goto out;
		close(fd);
		fd = -1;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	json_decref(req);
	cargo_plan_release(&plan);
	free(state_default);
	free(state);
	return rc;
}

/* Shows one build's answer as it arrives: its artifacts (for people; the
 * --json result carries them), and the losses of earlier builds it
 * reports, as a warning, not this build's failure (an event with --json).
 * state_dir is --state-dir, or NULL. */
static void show_build(const struct build_ui *ui, const json_t *res,
		       const char *state_dir)
{
	if (!ui->json)
		output_artifacts(json_object_get(res, "artifacts"), 0);
	if (json_array_size(json_object_get(res, "losses"))) {
		if (ui->json) {
			json_t *ev = json_pack("{s:s,s:O}", "event", "losses",
					       "losses",
					       json_object_get(res, "losses"));

			if (ev)
				output_json_line("event", ev);
			json_decref(ev);
		} else
			output_losses(json_object_get(res, "losses"),
				      state_dir);
	}
}

/* Appends the wheels and artifacts of one build's answer to the whole
 * command's result, which the first answer becomes. */
static int merge_result(json_t **all, json_t *res)
{
	static const char *const lists[] = {"wheels", "artifacts"};
	size_t i;

	/* The first answer itself, not a copy: its caller lets it go, and a
	 * hundred wheels' answer is a large tree to copy. */
	if (!*all) {
		*all = json_incref(res);
		return 0;
	}
	for (i = 0; i < sizeof(lists) / sizeof(*lists); i++)
		if (json_array_extend(json_object_get(*all, lists[i]),
				      json_object_get(res, lists[i])) < 0)
			return -1;
	if (!json_is_true(json_object_get(res, "ok"))) {
		json_object_set_new(*all, "ok", json_false());
		json_object_set(*all, "error", json_object_get(res, "error"));
	}
	return 0;
}

/*
 * --sdist: writes the source distribution as `spoke sdist` does, with the
 * first interpreter to be built for reading pyproject.toml, into the
 * wheels' folder: -o, else <--target-dir>/wheels, else the default of
 * `spoke sdist`, cargo's target directory's wheels/.  *path gets the
 * archive's path (malloc'd).  Returns 0, or -1 with e filled.
 */
static int write_sdist(const struct build_args *a, const char **interps,
		       size_t ninterps, char **path, struct sp_err *e)
{
	const char *py = NULL;
	char *out = NULL, *td = NULL;
	size_t i;
	int rc;

	for (i = 0; i < ninterps && !py; i++)
		if (!interps[i] || *interps[i])
			py = interps[i] ? interps[i] : "python3";
	if (a->out_dir) {
		if (!(out = path_absolute(a->out_dir, e)))
			return -1;
	} else if (a->co.target_dir) {
		if (!(td = path_absolute(a->co.target_dir, e)))
			return -1;
		out = path_join(td, "wheels");
		free(td);
		if (!out)
			return sp_err_set(e, "out of memory");
	}
	rc = sdist_write(a->co.manifest_path, out, py, path, e);
	if (rc < 0)
		sp_err_wrap(e, "--sdist");
	free(out);
	return rc;
}

int cmd_build(int argc, char **argv)
{
	enum { OPT_PROFILE = 256, OPT_FEATURES, OPT_TARGET_DIR,
	       OPT_STATE, OPT_STAGE, OPT_JSON, OPT_COMPRESSION, OPT_IDLE,
	       OPT_ARTIFACTS, OPT_ALL_FEATURES, OPT_NO_DEFAULT, OPT_LOCKED,
	       OPT_FROZEN, OPT_TRIPLE, OPT_CONFIG, OPT_STRIP, OPT_SDIST,
	       OPT_OFFLINE, OPT_EDITABLE, OPT_SHARD, OPT_SHARD_WEIGHTS,
	       OPT_FORCE };
	static const struct option longopts[] = {
		{"manifest-path", required_argument, NULL, 'm'},
		{"package", required_argument, NULL, 'p'},
		{"release", no_argument, NULL, 'r'},
		{"profile", required_argument, NULL, OPT_PROFILE},
		{"editable", optional_argument, NULL, OPT_EDITABLE},
		{"features", required_argument, NULL, OPT_FEATURES},
		{"all-features", no_argument, NULL, OPT_ALL_FEATURES},
		{"no-default-features", no_argument, NULL, OPT_NO_DEFAULT},
		{"locked", no_argument, NULL, OPT_LOCKED},
		{"frozen", no_argument, NULL, OPT_FROZEN},
		{"offline", no_argument, NULL, OPT_OFFLINE},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"target", required_argument, NULL, OPT_TRIPLE},
		{"strip", no_argument, NULL, OPT_STRIP},
		{"target-dir", required_argument, NULL, OPT_TARGET_DIR},
		{"out", required_argument, NULL, 'o'},
		{"out-dir", required_argument, NULL, 'o'},
		{"interpreter", required_argument, NULL, 'i'},
		{"find-interpreter", no_argument, NULL, 'f'},
		{"sdist", no_argument, NULL, OPT_SDIST},
		{"compression", required_argument, NULL, OPT_COMPRESSION},
		{"state-dir", required_argument, NULL, OPT_STATE},
		{"stage", required_argument, NULL, OPT_STAGE},
		{"idle-timeout", required_argument, NULL, OPT_IDLE},
		{"json", no_argument, NULL, OPT_JSON},
		{"repair", required_argument, NULL, OPT_REPAIR},
		{"auditwheel", required_argument, NULL, OPT_REPAIR},
		{"compat", required_argument, NULL, OPT_COMPAT},
		{"compatibility", required_argument, NULL, OPT_COMPAT},
		{"manylinux", required_argument, NULL, OPT_COMPAT},
		{"exclude", required_argument, NULL, OPT_EXCLUDE},
		{"lib-path", required_argument, NULL, OPT_LIB_PATH},
		{"split-debug", no_argument, NULL, OPT_SPLIT_DEBUG},
		{"jobs", required_argument, NULL, 'j'},
		{"artifacts", required_argument, NULL, OPT_ARTIFACTS},
		{"shard", required_argument, NULL, OPT_SHARD},
		{"shard-weights", required_argument, NULL, OPT_SHARD_WEIGHTS},
		{"quiet", no_argument, NULL, 'q'},
		{"force", no_argument, NULL, OPT_FORCE},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct build_args a = {.stage = "link", .sde = -1, .idle = 300};
	struct build_ui ui = {0};
	const char **pkgs = NULL, **interps = NULL, **config = NULL, *sde;
	const char *repair_mode = NULL, *no_repair = NULL, *compat_given = NULL;
	struct jobserver js;
	size_t ninterps = 0, nfound = 0, i;
	int have_js = 0, tagged = 0, release = 0, strip = 0, find = 0, sdist = 0;
	char *out_abs = NULL, *strip_cfg = NULL, *sdist_path = NULL;
	char *features = NULL, *asked = NULL;
	char **found = NULL;
	const char *weights_file = NULL;
	json_t *weights = NULL;
	json_t *all = NULL, *builds = NULL, *done = NULL;
	struct sp_err e;
	int c, rc = 1;

	pkgs = calloc((size_t)argc, sizeof(*pkgs));
	interps = calloc((size_t)argc + 1, sizeof(*interps));
	config = calloc((size_t)argc + 1, sizeof(*config));
	if (!pkgs || !interps || !config) {
		free(pkgs);
		free(interps);
		free(config);
		return 1;
	}
	a.ui = &ui;
	optind = 1;
	while ((c = opts_next(argc, argv, "m:p:rF:o:i:fj:qvh", longopts)) !=
	       -1) {
		switch (c) {
		case 'm':
			a.co.manifest_path = optarg;
			break;
		case 'p':
			pkgs[a.co.npackages++] = optarg;
			break;
		case 'r':
			release = 1;
			break;
		case OPT_PROFILE:
			a.co.profile = optarg;
			break;
		case OPT_EDITABLE:
			a.co.editable = 1;
			a.co.default_profile = optarg;
			break;
		case 'F':
		case OPT_FEATURES:
			/* Repeatable, as in cargo and maturin: the lists
			 * add up. */
			if (str_append(&features, ",", optarg) < 0) {
				sp_err_set(&e, "out of memory");
				goto fail;
			}
			a.co.features = features;
			break;
		case OPT_OFFLINE:
			config[a.co.nconfig++] = "net.offline=true";
			break;
		case OPT_ALL_FEATURES:
			a.co.all_features = 1;
			break;
		case OPT_NO_DEFAULT:
			a.co.no_default_features = 1;
			break;
		case OPT_LOCKED:
			a.co.locked = 1;
			break;
		case OPT_FROZEN:
			a.co.frozen = 1;
			break;
		case OPT_CONFIG:
			config[a.co.nconfig++] = optarg;
			break;
		case OPT_TRIPLE:
			a.co.target = optarg;
			break;
		case OPT_STRIP:
			strip = 1;
			break;
		case OPT_SDIST:
			sdist = 1;
			break;
		case 'f':
			find = 1;
			break;
		case OPT_TARGET_DIR:
			a.co.target_dir = optarg;
			break;
		case 'o':
			a.out_dir = optarg;
			break;
		case 'i':
			interps[ninterps++] = optarg;
			break;
		case OPT_COMPRESSION:
			a.compression = optarg;
			if (strcmp(optarg, "store") && strcmp(optarg, "fast") &&
			    strcmp(optarg, "default") && strcmp(optarg, "best")) {
				fprintf(stderr, "spoke: --compression must be "
						"store, fast, default or best\n");
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_STATE:
			a.state_dir = optarg;
			break;
		case OPT_STAGE:
			if (strcmp(optarg, "link") && strcmp(optarg, "move")) {
				fprintf(stderr,
					"spoke: --stage must be link or move\n");
				rc = EXIT_USAGE;
				goto out;
			}
			a.stage = optarg;
			break;
		case OPT_IDLE:
			a.idle = atoi(optarg);
			if (a.idle <= 0) {
				fprintf(stderr, "spoke: --idle-timeout must be "
						"a positive number of seconds\n");
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_JSON:
			ui.json = 1;
			break;
		case OPT_REPAIR:
			/* --repair and --auditwheel are one option: a
			 * second, different mode is a contradiction. */
			if (repair_mode && strcmp(repair_mode, optarg)) {
				fprintf(stderr,
					"spoke: --repair/--auditwheel given "
					"twice: '%s' and '%s'; give one\n",
					repair_mode, optarg);
				rc = EXIT_USAGE;
				goto out;
			}
			repair_mode = optarg;
			a.cli_repair = 1;
			if (repair_option(&a.ropts, c, optarg, &e) < 0) {
				sp_err_print(&e);
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_COMPAT:
			/* maturin's 'linux' (and the older 'off') ask for
			 * the native tag, i.e. no repair; 'pypi' asks for
			 * a tag PyPI takes, which the default rule gives. */
			/* One build has one tag: a second, different one
			 * would be silently dropped. */
			if (compat_given && strcmp(compat_given, optarg)) {
				fprintf(stderr,
					"spoke: --compat/--compatibility/"
					"--manylinux given twice: '%s' and "
					"'%s'; give one\n",
					compat_given, optarg);
				rc = EXIT_USAGE;
				goto out;
			}
			compat_given = optarg;
			a.cli_compat = 1;
			if (!strcmp(optarg, "linux") || !strcmp(optarg, "off")) {
				no_repair = optarg;
				a.cli_repair = 1;
				break;
			}
			if (!strcmp(optarg, "pypi"))
				break;
			/* fall through */
		case OPT_EXCLUDE:
		case OPT_LIB_PATH:
		case OPT_SPLIT_DEBUG:
			if ((c = repair_option(&a.ropts, c, optarg, &e)) < 0) {
				sp_err_print(&e);
				rc = c == -2 ? 1 : EXIT_USAGE;
				goto out;
			}
			break;
		case 'j':
			a.jobs = atoi(optarg);
			if (a.jobs < 1) {
				fprintf(stderr, "spoke: --jobs must be a "
						"positive number\n");
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_ARTIFACTS:
			a.artifacts = optarg;
			break;
		case OPT_SHARD:
			if (shard_parse(optarg, &a.co.shard_k, &a.co.shard_n,
					&e) < 0) {
				sp_err_print(&e);
				rc = EXIT_USAGE;
				goto out;
			}
			a.shard_spec = optarg;
			break;
		case OPT_SHARD_WEIGHTS:
			weights_file = optarg;
			break;
		case 'q':
			ui.quiet = 1;
			break;
		case OPT_FORCE:
			a.force = 1;
			break;
		case 'v':
			client_set_verbose(1);
			break;
		case 'h':
			fputs(build_help, stdout);
			rc = 0;
			goto out;
		default:
			fputs(build_help, stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "spoke: unexpected argument '%s'\n\n%s",
			argv[optind], build_help);
		rc = EXIT_USAGE;
		goto out;
	}
	a.co.packages = pkgs;
	a.co.config = config;
	a.co.quiet = ui.quiet || ui.json;
	/* The command line names the build for an early cargo start
	 * (earlycargo.h); a failed join only forgoes it. */
	for (i = 0; i < (size_t)argc; i++)
		if (str_append(&asked, "\n", argv[i]) < 0)
			break;
	a.co.early = i == (size_t)argc ? asked : NULL;
	if (a.artifacts &&
	    (a.co.manifest_path || a.co.npackages || a.co.profile ||
	     a.co.features || a.co.target_dir || a.co.all_features ||
	     a.co.no_default_features || a.co.locked || a.co.frozen ||
	     a.co.target || a.co.nconfig || release || strip || sdist)) {
		fprintf(stderr, "spoke: --artifacts takes no cargo options\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (a.shard_spec && a.artifacts) {
		fprintf(stderr, "spoke: --shard divides a cargo workspace; it "
				"conflicts with --artifacts\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (weights_file && !a.shard_spec) {
		fprintf(stderr, "spoke: --shard-weights needs --shard K/N\n");
		rc = EXIT_USAGE;
		goto out;
	}
	/* A bad weights file fails before any interpreter or cargo runs. */
	if (weights_file) {
		weights = shard_weights_load(weights_file, &e);
		if (!weights)
			goto fail;
		a.co.shard_weights = weights;
	}
	if (release && a.co.profile && strcmp(a.co.profile, "release")) {
		fprintf(stderr, "spoke: --release conflicts with --profile "
				"%s\n", a.co.profile);
		rc = EXIT_USAGE;
		goto out;
	}
	if (find && (ninterps || a.artifacts)) {
		fprintf(stderr, "spoke: --find-interpreter conflicts with "
				"%s\n", ninterps ? "--interpreter" : "--artifacts");
		rc = EXIT_USAGE;
		goto out;
	}
	if (no_repair) {
		if (repair_mode && strcmp(repair_mode, "skip")) {
			fprintf(stderr,
				"spoke: --compat %s means no repair; it "
				"conflicts with --repair=%s\n",
				no_repair, repair_mode);
			rc = EXIT_USAGE;
			goto out;
		}
		if (repair_option(&a.ropts, OPT_REPAIR, "skip", &e) < 0)
			goto fail;
	}
	/* maturin strips with rustc's -C strip=symbols; cargo's profile
	 * setting is the same flag, given the way cargo takes it. */
	if (strip) {
		strip_cfg = str_printf("profile.%s.strip=true",
				       a.co.profile ? a.co.profile : "release");
		if (!strip_cfg) {
			sp_err_set(&e, "out of memory");
			goto fail;
		}
		config[a.co.nconfig++] = strip_cfg;
	}
	if (find) {
		if (pyfind_all(&found, &nfound, &e) < 0)
			goto fail;
		for (i = 0; i < nfound; i++)
			interps[ninterps++] = found[i];
	}
	if (a.artifacts && ninterps > 1) {
		fprintf(stderr, "spoke: --artifacts were built for one "
				"interpreter: give -i once\n");
		rc = EXIT_USAGE;
		goto out;
	}
	/* Tags the artifacts file declares replace the interpreter's: none
	 * is asked, none is started. */
	if (a.artifacts &&
	    !(a.art_jobs = artifacts_load(a.artifacts, ARTIFACTS_BUILD,
					  &a.art_dir, &e)))
		goto fail;
	tagged = a.art_jobs ? artifacts_tagged(a.art_jobs) : 0;
	if (tagged && ninterps) {
		fprintf(stderr, "spoke: '%s' declares the tags: -i has no "
				"interpreter to ask\n", a.artifacts);
		rc = EXIT_USAGE;
		goto out;
	}
	/* Without -i the target is the Python that PyO3 would build for:
	 * $PYO3_PYTHON when set, else python3 on PATH (NULL). */
	if (ninterps == 0) {
		const char *pyo3 = getenv("PYO3_PYTHON");

		interps[ninterps++] = pyo3 && *pyo3 ? pyo3 : NULL;
	}
	sde = getenv("SOURCE_DATE_EPOCH");
	if (epoch_parse(sde, &a.sde, &e) < 0)
		goto fail;
	/* The coordinator's environment may differ from ours: the search
	 * path the loader would use here travels with the request. */
	if (add_ld_library_path(&a.ropts, &e) < 0)
		goto fail;
	done = json_object();
	builds = json_array();
	if (!done || !builds) {
		sp_err_set(&e, "out of memory");
		goto fail;
	}
	/* Every interpreter answers before anything is built: a wrong -i
	 * fails in a second, not after the first of several cargo builds. */
	if (!tagged &&
	    check_interpreters(interps, ninterps, a.co.target, &ui, &e) < 0)
		goto fail;
	if (a.co.target && rustc_target_check(a.co.target, &e) < 0)
		goto fail;
	/* The sdist first, as maturin writes it before its wheels: a
	 * package that cannot be distributed fails before cargo runs. */
	if (sdist && write_sdist(&a, interps, ninterps, &sdist_path, &e) < 0)
		goto fail;
	if (sdist_path && !ui.quiet && !ui.json)
		printf("wrote %s\n", esc(sdist_path));
	have_js = jobserver_open(&js, &e);
	if (have_js < 0)
		goto fail;
	a.js = have_js ? &js : NULL;
	ui.live = !ui.json && !ui.quiet && isatty(2);
	for (i = 0; i < ninterps; i++) {
		json_t *res = NULL;
		int ok;

		if (interps[i] && !*interps[i])
			continue;
		if (ninterps > 1 && !ui.quiet && !ui.json) {
			printf("== interpreter %s\n", interps[i]);
			fflush(stdout);
		}
		if (build_for(&a, interps[i], done, &out_abs, &res, &e) < 0) {
			if (ninterps > 1)
				sp_err_wrap(&e, "for interpreter '%s'",
					    interps[i]);
			goto fail;
		}
		if (!res) {
			if (!ui.quiet && !ui.json)
				printf("nothing new for %s: its wheels are "
				       "abi3 wheels built above\n",
				       interps[i]);
			continue;
		}
		ok = json_is_true(json_object_get(res, "ok"));
		if (!ok && ninterps > 1) {
			struct sp_err why;

			sp_err_set(&why, "for interpreter '%s': %s", interps[i],
				   json_string_value(
					   json_object_get(res, "error")));
			json_object_set_new(res, "error", json_string(why.msg));
		}
		json_array_append(builds, json_object_get(res, "build"));
		show_build(&ui, res, a.state_dir);
		if (merge_result(&all, res) < 0) {
			json_decref(res);
			sp_err_set(&e, "out of memory");
			goto fail;
		}
		json_decref(res);
		if (!ok)
			break;
	}
	if (!all) /* every interpreter's wheels were built by an earlier */
		all = json_pack("{s:s,s:b,s:[],s:[]}", "command", "build", "ok",
				1, "wheels", "artifacts");
	json_object_set(all, "builds", builds);
	if (a.shard)
		json_object_set(all, "shard", a.shard);
	rc = json_is_true(json_object_get(all, "ok")) ? 0 : 1;
	if (sdist_path)
		json_object_set_new(all, "sdist", json_string(sdist_path));
	if (ui.json) {
		output_json_line("result", all);
	} else if (rc) {
		fputs("spoke: build failed: ", stderr);
		esc_fputs(json_string_value(json_object_get(all, "error")),
			  stderr);
		fputc('\n', stderr);
	} else if (!ui.quiet) {
		if (a.shard && !json_array_size(json_object_get(a.shard,
								"packages")))
			printf("shard %s has no packages (of %lld): nothing "
			       "to build\n",
			       a.shard_spec,
			       (long long)json_integer_value(
				       json_object_get(a.shard, "of")));
		output_wheels_summary(json_object_get(all, "wheels"), out_abs);
	}
	goto out;
fail:
	if (ui.json) {
		json_t *r = json_pack("{s:s,s:b,s:s}", "command", "build", "ok",
				      0, "error", e.msg);

		output_json_line("result", r);
		json_decref(r);
	}
	sp_err_print(&e);
	rc = 1;
out:
	if (have_js > 0)
		jobserver_close(&js);
	json_decref(all);
	json_decref(builds);
	json_decref(done);
	json_decref(a.ropts);
	json_decref(a.art_jobs);
	free(a.art_dir);
	json_decref(a.shard);
	json_decref(weights);
	pyfind_free(found, nfound);
	free(sdist_path);
	free(strip_cfg);
	free(features);
	free(asked);
	free(out_abs);
	free(config);
	free(interps);
	free(pkgs);
	return rc;
}
