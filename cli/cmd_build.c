/*
 * cmd_build.c - spoke build: cargo, then the coordinator.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/artifacts.h"
#include "cli/cargo.h"
#include "cli/client.h"
#include "cli/jobserver.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/where.h"
#include "common/frame.h"
#include "common/fsx.h"
#include "common/version.h"
#include "worker/policy.h"

static const char build_help[] =
	"usage: spoke build [options]\n"
	"\n"
	"Runs 'cargo build --release' in the workspace, then writes a wheel for\n"
	"every cdylib that is a Python extension module: those of packages with\n"
	"a [package.metadata.spoke] table, or, when no package has one, every\n"
	"cdylib that exports PyInit_<lib name>.  Cargo's outputs are staged by\n"
	"hard link and given back before spoke returns, whatever happens.\n"
	"\n"
	"cargo options:\n"
	"  --manifest-path PATH   the workspace's Cargo.toml\n"
	"  -p, --package NAME     build only this package (repeatable)\n"
	"  --profile NAME         cargo profile (default: release)\n"
	"  --features LIST        cargo features\n"
	"  --target-dir DIR       cargo's target directory (also\n"
	"                         CARGO_TARGET_DIR)\n"
	"\n"
	"wheel options:\n"
	"  -o, --out-dir DIR      where wheels go (default <target>/wheels)\n"
	"  -i, --interpreter PY   target Python (default: python3 on PATH)\n"
	"  --compression LEVEL    store, fast, default or best\n"
	"\n"
	"repair options (manylinux):\n"
	"  --repair=MODE          repair (default): bundle the libraries no\n"
	"                         manylinux system provides into <dist>.libs/\n"
	"                         and tag the wheel manylinux_2_N; check:\n"
	"                         only say what repair would do, fail if it\n"
	"                         would bundle anything; skip: plain\n"
	"                         linux_<arch>\n"
	"  --compat TAG           the oldest system the wheel must run on\n"
	"                         (manylinux_2_28, manylinux2014): fail if an\n"
	"                         object needs newer symbol versions\n"
	"  --exclude LIB          never bundle this soname (repeatable)\n"
	"  --lib-path DIR         also look for needed libraries here\n"
	"                         (repeatable); LD_LIBRARY_PATH and the\n"
	"                         build scripts' link paths are searched too\n"
	"  --split-debug          strip DWARF from the modules into zstd-\n"
	"                         compressed <out-dir>/debug/.build-id/xx/\n"
	"                         rest.debug files, linked by .gnu_debuglink\n"
	"\n"
	"prebuilt artifacts (no cargo run):\n"
	"  --artifacts FILE.json  package the shared objects FILE lists:\n"
	"                         {\"artifacts\": [{\"path\", \"distribution\",\n"
	"                         \"version\", \"module\", optional \"metadata\"\n"
	"                         and \"linked_paths\"}]}; paths are relative to\n"
	"                         FILE, state goes to .spoke/ and wheels to\n"
	"                         wheels/ beside it\n"
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
	"\n"
	"SOURCE_DATE_EPOCH, when set, is the time stamp of every wheel entry.\n";

/* The repair options; getopt values above every other option's. */
enum { O_REPAIR = 512, O_COMPAT, O_EXCLUDE, O_LIB_PATH, O_SPLIT_DEBUG };

/* Checks a --compat tag against the policy the workers will use, so that
 * a typo fails before cargo runs. */
static int compat_valid(const char *tag, struct sp_err *e)
{
	struct policy p;
	struct utsname u;
	int rc;

	if (uname(&u) < 0)
		return sp_err_sys(e, "uname");
	if (policy_load_default(&p, u.machine, e) < 0)
		return -1;
	rc = policy_find(&p, tag, e) ? 0 : -1;
	policy_release(&p);
	return rc;
}

/* Adds one repair option to *opts, the request's "options" object. */
static int repair_option(json_t **opts, int c, const char *arg,
			 struct sp_err *e)
{
	const char *key = c == O_EXCLUDE ? "exclude" : "lib_path";
	json_t *list;
	char *abs;

	if (!*opts && !(*opts = json_object()))
		return sp_err_set(e, "out of memory");
	switch (c) {
	case O_REPAIR:
		if (strcmp(arg, "repair") && strcmp(arg, "check") &&
		    strcmp(arg, "skip"))
			return sp_err_set(e, "--repair must be repair, check "
					     "or skip");
		return json_object_set_new(*opts, "repair", json_string(arg));
	case O_COMPAT:
		if (compat_valid(arg, e) < 0)
			return -1;
		return json_object_set_new(*opts, "compat", json_string(arg));
	case O_SPLIT_DEBUG:
		return json_object_set_new(*opts, "split_debug", json_true());
	}
	list = json_object_get(*opts, key);
	if (!list) {
		list = json_array();
		json_object_set_new(*opts, key, list);
	}
	/* The coordinator's working directory is not ours. */
	abs = c == O_LIB_PATH ? where_absolute(arg, e) : strdup(arg);
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
		abs = where_absolute(*elem ? elem : ".", e);
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
	int check = mode && strcmp(mode, "check") == 0;
	size_t i;

	printf("%s: %s\n", cargo ? fsx_basename(cargo) : "module",
	       json_string_value(json_object_get(r, "platform_tag")));
	json_array_foreach(json_object_get(r, "grafted"), i, g)
		printf("  %s %s ('%s') as %s\n",
		       check ? "would bundle" : "bundles",
		       json_string_value(json_object_get(g, "soname")),
		       json_string_value(json_object_get(g, "path")),
		       json_string_value(json_object_get(g, "wheel_path")));
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
		ui->current[0] ? ": " : "", ui->current);
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
			 fsx_basename(json_string_value(
				 json_object_get(ev, "cargo_path"))));
	if (!strcmp(kind, "wheel")) {
		const char *path =
			json_string_value(json_object_get(ev, "path"));

		ui->done++;
		ui->bytes += json_integer_value(json_object_get(ev, "size"));
		snprintf(ui->current, sizeof(ui->current), "%s",
			 fsx_basename(path));
		progress_clear(ui);
		printf("wrote %s\n", path);
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

int cmd_build(int argc, char **argv)
{
	enum { O_MANIFEST = 256, O_PROFILE, O_FEATURES, O_TARGET, O_STATE,
	       O_STAGE, O_JSON, O_COMPRESSION, O_IDLE, O_ARTIFACTS };
	static const struct option longopts[] = {
		{"manifest-path", required_argument, NULL, O_MANIFEST},
		{"package", required_argument, NULL, 'p'},
		{"profile", required_argument, NULL, O_PROFILE},
		{"features", required_argument, NULL, O_FEATURES},
		{"target-dir", required_argument, NULL, O_TARGET},
		{"out-dir", required_argument, NULL, 'o'},
		{"interpreter", required_argument, NULL, 'i'},
		{"compression", required_argument, NULL, O_COMPRESSION},
		{"state-dir", required_argument, NULL, O_STATE},
		{"stage", required_argument, NULL, O_STAGE},
		{"idle-timeout", required_argument, NULL, O_IDLE},
		{"json", no_argument, NULL, O_JSON},
		{"repair", required_argument, NULL, O_REPAIR},
		{"compat", required_argument, NULL, O_COMPAT},
		{"exclude", required_argument, NULL, O_EXCLUDE},
		{"lib-path", required_argument, NULL, O_LIB_PATH},
		{"split-debug", no_argument, NULL, O_SPLIT_DEBUG},
		{"jobs", required_argument, NULL, 'j'},
		{"artifacts", required_argument, NULL, O_ARTIFACTS},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cargo_opts co = {0};
	struct cargo_plan plan = {0};
	struct where_opts wo = {0};
	struct build_ui ui = {0};
	const char **pkgs = NULL, *out_dir = NULL, *stage = "link";
	const char *compression = NULL, *sde, *artifacts = NULL;
	struct jobserver js;
	int have_js = 0, jobs = 0, attempt;
	char *state = NULL, *out_abs = NULL, *state_default = NULL;
	json_t *req = NULL, *res = NULL;
	json_t *ropts = NULL;
	struct sp_err e;
	int c, rc = 1, fd = -1, idle = 300;

	pkgs = calloc((size_t)argc, sizeof(*pkgs));
	if (!pkgs)
		return 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:o:i:j:qh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case O_MANIFEST:
			co.manifest_path = optarg;
			break;
		case 'p':
			pkgs[co.npackages++] = optarg;
			break;
		case O_PROFILE:
			co.profile = optarg;
			break;
		case O_FEATURES:
			co.features = optarg;
			break;
		case O_TARGET:
			co.target_dir = optarg;
			break;
		case 'o':
			out_dir = optarg;
			break;
		case 'i':
			co.interpreter = optarg;
			break;
		case O_COMPRESSION:
			compression = optarg;
			if (strcmp(optarg, "store") && strcmp(optarg, "fast") &&
			    strcmp(optarg, "default") && strcmp(optarg, "best")) {
				fprintf(stderr, "spoke: --compression must be "
						"store, fast, default or best\n");
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case O_STATE:
			wo.state_dir = optarg;
			break;
		case O_STAGE:
			if (strcmp(optarg, "link") && strcmp(optarg, "move")) {
				fprintf(stderr,
					"spoke: --stage must be link or move\n");
				rc = EXIT_USAGE;
				goto out;
			}
			stage = optarg;
			break;
		case O_IDLE:
			idle = atoi(optarg);
			if (idle <= 0) {
				fprintf(stderr, "spoke: --idle-timeout must be "
						"a positive number of seconds\n");
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case O_JSON:
			ui.json = 1;
			break;
		case O_REPAIR:
		case O_COMPAT:
		case O_EXCLUDE:
		case O_LIB_PATH:
		case O_SPLIT_DEBUG:
			if (repair_option(&ropts, c, optarg, &e) < 0) {
				sp_err_print(&e);
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case 'j':
			jobs = atoi(optarg);
			if (jobs < 1) {
				fprintf(stderr, "spoke: --jobs must be a "
						"positive number\n");
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case O_ARTIFACTS:
			artifacts = optarg;
			break;
		case 'q':
			ui.quiet = 1;
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
	co.packages = pkgs;
	co.quiet = ui.quiet || ui.json;
	if (artifacts && (co.manifest_path || co.npackages || co.profile ||
			  co.features || co.target_dir)) {
		fprintf(stderr, "spoke: --artifacts takes no cargo options\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (artifacts) {
		if (artifacts_plan(artifacts, co.interpreter, &plan, &e) < 0)
			goto fail;
		if (!wo.state_dir) {
			state_default = fsx_join(plan.target_dir, ".spoke");
			wo.state_dir = state_default;
		}
	} else if (cargo_plan_build(&co, &plan, &e) < 0) {
		goto fail;
	}
	wo.target_dir = plan.target_dir;
	state = where_state_dir(&wo, 1, NULL, &e);
	if (!state)
		goto fail;
	if (out_dir)
		out_abs = where_absolute(out_dir, &e);
	else
		out_abs = fsx_join(plan.target_dir, "wheels");
	if (!out_abs)
		goto fail;
	req = json_pack("{s:O,s:s,s:s}", "artifacts", plan.jobs, "out_dir",
			out_abs, "stage", stage);
	if (compression)
		json_object_set_new(req, "compression",
				    json_string(compression));
	sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		long long v = strtoll(sde, &end, 10);

		if (*end || v < 0) {
			sp_err_set(&e, "SOURCE_DATE_EPOCH '%s' is not a number "
				       "of seconds",
				   sde);
			goto fail;
		}
		json_object_set_new(req, "source_date_epoch",
				    json_integer(v));
	}
	if (jobs)
		json_object_set_new(req, "jobs", json_integer(jobs));
	/* The coordinator's environment may differ from ours: the search
	 * path the loader would use here travels with the request. */
	if (add_ld_library_path(&ropts, &e) < 0)
		goto fail;
	if (ropts)
		json_object_set(req, "options", ropts);
	have_js = jobserver_open(&js, &e);
	if (have_js < 0)
		goto fail;
	if (have_js)
		json_object_set_new(req, "jobserver", json_true());
	json_object_set_new(req, "client_version",
			    json_string(spoke_version()));
	ui.live = !ui.json && !ui.quiet && isatty(2);
	for (attempt = 0;; attempt++) {
		fd = client_connect(state, 1, idle, &e);
		if (fd < 0)
			goto fail;
		res = client_build_call(fd, req, have_js ? &js : NULL,
					on_event, &ui, &e);
		progress_clear(&ui);
		if (!res)
			goto fail;
		if (!json_is_true(json_object_get(res, "restart")) ||
		    attempt > 0)
			break;
		/* A coordinator of another version runs: it exits when its
		 * builds are done; then start ours. */
		if (!ui.quiet && !ui.json)
			fprintf(stderr,
				"spoke: replacing coordinator %s with %s\n",
				json_string_value(json_object_get(
					res, "coordinator_version")),
				spoke_version());
		json_decref(res);
		res = NULL;
		if (client_wait_gone(fd, state, &e) < 0)
			goto fail;
		close(fd);
		fd = -1;
	}
	rc = json_is_true(json_object_get(res, "ok")) ? 0 : 1;
	if (ui.json) {
		output_json_line("result", res);
	} else {
		output_artifacts(json_object_get(res, "artifacts"), 0);
		if (rc) {
			fprintf(stderr, "spoke: build failed: %s\n",
				json_string_value(json_object_get(res, "error")));
		} else if (!ui.quiet) {
			printf("%zu wheel(s) in %s\n",
			       json_array_size(json_object_get(res, "wheels")),
			       out_abs);
		}
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
	if (fd >= 0)
		close(fd);
	json_decref(req);
	json_decref(res);
	json_decref(ropts);
	cargo_plan_release(&plan);
	free(state_default);
	free(state);
	free(out_abs);
	free(pkgs);
	return rc;
}
