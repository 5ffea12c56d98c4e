/*
 * cmd_plan.c - spoke plan: how `spoke build --shard K/N` divides the
 * workspace, and the weights file that balances it.
 *
 * The division comes from the same code as the build's (plan.h with
 * shard_k 0: cargo metadata and the pyproject files, no cargo build); the
 * weights from --shard-weights, else from the journal of the state
 * directory: each package's newest compile and wheel times
 * (journal_wheel_times),
 * matched by the file name its cdylib or program gets.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/output.h"
#include "cli/project/plan.h"
#include "cli/project/shard.h"
#include "cli/where.h"
#include "common/esc.h"
#include "common/path.h"
#include "journal/journal.h"

static const char plan_help[] =
    "usage: spoke plan --shards N [options]\n"
    "\n"
    "Shows how 'spoke build --shard K/N' divides the workspace: for each\n"
    "of the N shards, its packages and their total weight (seconds).\n"
    "The packages divided are the selected ones (-p, else the current\n"
    "package, else the default members) with a cdylib target, or with a\n"
    "bin target when shipped as programs; nothing is built.  Packages go\n"
    "heaviest first (ties by name) into the lightest shard (ties to the\n"
    "one with fewest packages, then the lowest number); without\n"
    "weights each weighs 1, which deals the sorted names round-robin.\n"
    "\n"
    "The weights are --shard-weights FILE's, else the journal's: the\n"
    "seconds cargo last spent compiling each package (estimated from\n"
    "its messages) plus how long its newest wheel took to write\n"
    "(spoke log's 'package' step).  A package with no weight weighs the\n"
    "median of the others (1 when there are none).\n"
    "\n"
    "options:\n"
    "  --shards N             the number of shards (CI jobs)\n"
    "  --shard-weights FILE   weights from FILE instead of the journal\n"
    "  --json                 print the weights file that\n"
    "                         'spoke build --shard-weights' takes:\n"
    "                         {\"version\": 1, \"weights\": {package:\n"
    "                         seconds}, \"shards\": [{\"packages\": [...],\n"
    "                         \"weight\": seconds}]}; only measured (or\n"
    "                         given) packages are in \"weights\"\n"
    "  -m, --manifest-path PATH  the workspace's Cargo.toml\n"
    "  -p, --package NAME     divide only these packages (repeatable)\n"
    "  -i, --interpreter PY   the Python that reads pyproject.toml\n"
    "                         (default: $PYO3_PYTHON, else python3)\n"
    "  --target-dir DIR       cargo's target directory (also\n"
    "                         CARGO_TARGET_DIR): its journal is read\n"
    "  --state-dir DIR        the state directory whose journal is read\n"
    "                         (default <target>/spoke)\n";

/*
 * The measured weights: each package's compile and newest wheel times from the
 * journal in state (if there is one), summed over its cdylibs or
 * programs, rounded to milliseconds.  files maps a cargo output's file
 * name to its package (plan.h's shard "files").  A new reference, or
 * NULL with e filled.
 */
static json_t *journal_weights(const char *state, const json_t *files,
			       char **source, struct sp_err *e)
{
	struct journal *j = NULL;
	json_t *times = NULL, *w = json_object(), *v;
	char *db = path_join(state, "journal.db"), *real = NULL;
	const char *path;

	if (!w || !db) {
		sp_err_set(e, "out of memory");
		goto fail;
	}
	/* No journal: nothing measured.  Opening would create one. */
	if (!path_exists(db))
		goto done;
	real = realpath(state, NULL);
	if (!real) {
		sp_err_sys(e, "cannot resolve '%s'", state);
		goto fail;
	}
	j = journal_open(real, e);
	times = j ? journal_wheel_times(j, e) : NULL;
	if (!times)
		goto fail;
	*source = strdup(journal_path(j));
	json_object_foreach(times, path, v)
	{
		const char *pkg = json_string_value(
		    json_object_get(files, path_basename(path)));
		double sum;

		if (!pkg)
			continue;
		sum = json_number_value(json_object_get(w, pkg)) +
		      json_number_value(v);
		if (json_object_set_new(w, pkg, json_real(sum)) < 0) {
			sp_err_set(e, "out of memory");
			goto fail;
		}
	}
	json_object_foreach(w, path, v) json_real_set(
	    v, (double)(long long)(json_real_value(v) * 1000 + 0.5) / 1000);
done:
	journal_close(j);
	json_decref(times);
	free(real);
	free(db);
	return w;
fail:
	journal_close(j);
	json_decref(times);
	json_decref(w);
	free(real);
	free(db);
	return NULL;
}

static void print_plan(const json_t *part, const json_t *names,
		       const json_t *weights, const char *source)
{
	const json_t *sh, *p;
	size_t i, k, measured = 0;

	json_array_foreach(names, i, p) measured +=
	    json_object_get(weights, json_string_value(p)) != NULL;
	printf("%zu package(s) in %zu shard(s); weights from %s (%zu "
	       "given; the others weigh %.3f)\n",
	       json_array_size(names),
	       json_array_size(json_object_get(part, "shards")),
	       source ? esc(source) : "nowhere", measured,
	       json_number_value(json_object_get(part, "default_weight")));
	json_array_foreach(json_object_get(part, "shards"), k, sh)
	{
		printf("shard %zu/%zu: weight %.3f:", k + 1,
		       json_array_size(json_object_get(part, "shards")),
		       json_number_value(json_object_get(sh, "weight")));
		json_array_foreach(json_object_get(sh, "packages"), i, p)
		    printf(" %s", esc(json_string_value(p)));
		printf("\n");
	}
}

int cmd_plan(int argc, char **argv)
{
	enum {
		OPT_SHARDS = 256,
		OPT_WEIGHTS,
		OPT_JSON,
		OPT_TARGET_DIR,
		OPT_STATE
	};
	static const struct option longopts[] = {
	    {"shards", required_argument, NULL, OPT_SHARDS},
	    {"shard-weights", required_argument, NULL, OPT_WEIGHTS},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"manifest-path", required_argument, NULL, 'm'},
	    {"package", required_argument, NULL, 'p'},
	    {"interpreter", required_argument, NULL, 'i'},
	    {"target-dir", required_argument, NULL, OPT_TARGET_DIR},
	    {"state-dir", required_argument, NULL, OPT_STATE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cargo_opts co = {0};
	struct cargo_plan plan = {0};
	struct where_opts wo = {0};
	const char **pkgs = calloc((size_t)argc + 1, sizeof(*pkgs));
	const char *weights_file = NULL, *pyo3;
	char *state = NULL, *source = NULL, *end;
	json_t *weights = NULL, *part = NULL, *doc = NULL;
	unsigned long shards = 0;
	struct sp_err e;
	int c, json = 0, rc = 1;

	if (!pkgs)
		return 1;
	optind = 1;
	while ((c = opts_next(argc, argv, "m:p:i:h", longopts)) != -1) {
		switch (c) {
		case OPT_SHARDS:
			shards = strtoul(optarg, &end, 10);
			if (!*optarg || *end || shards < 1 || shards > 65535) {
				fprintf(stderr,
					"spoke: --shards '%s': expected "
					"a number from 1 to 65535\n",
					optarg);
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_WEIGHTS:
			weights_file = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case 'm':
			co.manifest_path = optarg;
			break;
		case 'p':
			pkgs[co.npackages++] = optarg;
			break;
		case 'i':
			co.interpreter = optarg;
			break;
		case OPT_TARGET_DIR:
			co.target_dir = optarg;
			break;
		case OPT_STATE:
			wo.state_dir = optarg;
			break;
		case 'h':
			fputs(plan_help, stdout);
			rc = 0;
			goto out;
		default:
			fputs(plan_help, stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind < argc || !shards) {
		if (optind < argc)
			fprintf(stderr, "spoke: unexpected argument '%s'\n\n",
				argv[optind]);
		else
			fprintf(stderr, "spoke: --shards N is required\n\n");
		fputs(plan_help, stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	co.packages = pkgs;
	co.shard_n = (unsigned)shards;
	co.quiet = 1;
	pyo3 = getenv("PYO3_PYTHON");
	if (!co.interpreter && pyo3 && *pyo3)
		co.interpreter = pyo3;
	if (weights_file) {
		weights = shard_weights_load(weights_file, &e);
		if (!weights)
			goto fail;
		source = strdup(weights_file);
	}
	/* Shard 0: the division alone, nothing built. */
	if (cargo_plan_build(&co, &plan, &e) < 0)
		goto fail;
	if (!weights) {
		wo.target_dir = plan.target_dir;
		state = where_state_dir(&wo, 0, NULL, &e);
		if (!state)
			goto fail;
		weights = journal_weights(
		    state, json_object_get(plan.shard, "files"), &source, &e);
		if (!weights)
			goto fail;
	}
	part = shard_partition(json_object_get(plan.shard, "packages"),
			       (unsigned)shards, weights, &e);
	if (!part)
		goto fail;
	if (json) {
		doc =
		    json_pack("{s:i,s:O,s:O}", "version", 1, "weights", weights,
			      "shards", json_object_get(part, "shards"));
		if (!doc) {
			sp_err_set(&e, "out of memory");
			goto fail;
		}
		if (json_dumpf(doc, stdout,
			       JSON_INDENT(1) | JSON_SORT_KEYS |
				   JSON_REAL_PRECISION(12)) < 0 ||
		    putchar('\n') == EOF) {
			sp_err_set(&e, "cannot write the plan");
			goto fail;
		}
	} else {
		print_plan(part, json_object_get(plan.shard, "packages"),
			   weights, source);
	}
	rc = 0;
	goto out;
fail:
	sp_err_print(&e);
	rc = 1;
out:
	cargo_plan_release(&plan);
	json_decref(weights);
	json_decref(part);
	json_decref(doc);
	free(source);
	free(state);
	free(pkgs);
	return rc;
}
