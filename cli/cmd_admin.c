/*
 * cmd_admin.c - spoke recover, status, serve, stop and log: the commands
 * that look after a state directory rather than build.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/output.h"
#include "cli/where.h"
#include "common/esc.h"
#include "common/fault.h"
#include "common/frame.h"
#include "common/path.h"
#include "journal/journal.h"
#include "journal/prune.h"
#include "journal/replay.h"
#include "journal/statedir.h"
#include "server/server.h"

static const char where_help[] =
	"  --state-dir DIR        the state directory (default\n"
	"                         <target>/spoke)\n"
	"  --target-dir DIR       cargo's target directory (also\n"
	"                         CARGO_TARGET_DIR)\n"
	"  --manifest-path PATH   find the target directory of this "
	"workspace\n"
	"  --json                 print the result as one JSON object\n"
	"  -v, --verbose          say which socket folder is used, and why\n"
	"                         not XDG_RUNTIME_DIR\n";

struct admin_opts {
	struct where_opts where;
	json_t *forget; /* recover: absolute paths of --forget */
	int forget_lost;
	int json;
	int jobs;
	int idle;
	int keep_builds; /* serve: 0 when not given */
	int daemon;
};

/* Which command's own options admin_parse() accepts besides the shared
 * ones: serve's (-j, --idle-timeout, --daemon) or recover's (--forget,
 * --forget-lost). */
enum admin_cmd { ADMIN_SHARED, ADMIN_SERVE, ADMIN_RECOVER };

/* Parses the options every admin command shares, and those of cmd.
 * Returns -1 to go on, or the exit status to return now (help printed,
 * or a usage error). */
static int admin_parse(int argc, char **argv, const char *help,
		       struct admin_opts *o, enum admin_cmd cmd)
{
	enum { OPT_STATE = 256, OPT_TARGET, OPT_MANIFEST, OPT_JSON, OPT_IDLE,
	       OPT_DAEMON, OPT_FORGET, OPT_FORGET_LOST, OPT_KEEP };
	static const struct option longopts[] = {
		{"state-dir", required_argument, NULL, OPT_STATE},
		{"target-dir", required_argument, NULL, OPT_TARGET},
		{"manifest-path", required_argument, NULL, OPT_MANIFEST},
		{"json", no_argument, NULL, OPT_JSON},
		{"jobs", required_argument, NULL, 'j'},
		{"idle-timeout", required_argument, NULL, OPT_IDLE},
		{"keep-builds", required_argument, NULL, OPT_KEEP},
		{"daemon", no_argument, NULL, OPT_DAEMON},
		{"forget", required_argument, NULL, OPT_FORGET},
		{"forget-lost", no_argument, NULL, OPT_FORGET_LOST},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct sp_err e;
	char *abs;
	int c;

	memset(o, 0, sizeof(*o));
	o->idle = 300;
	o->jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (o->jobs < 1)
		o->jobs = 1;
	optind = 1;
	while ((c = opts_next(argc, argv, cmd == ADMIN_SERVE ? "j:vh" : "vh",
			      longopts)) != -1) {
		switch (c) {
		case OPT_STATE:
			o->where.state_dir = optarg;
			break;
		case OPT_TARGET:
			o->where.target_dir = optarg;
			break;
		case OPT_MANIFEST:
			o->where.manifest_path = optarg;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case 'j':
			/* "jobs" is in longopts for every command, "j:" in
			 * shortopts only for serve. */
			o->jobs = atoi(optarg);
			if (cmd != ADMIN_SERVE || o->jobs < 1)
				goto usage;
			break;
		case OPT_IDLE:
			o->idle = atoi(optarg);
			if (cmd != ADMIN_SERVE || o->idle < 1)
				goto usage;
			break;
		case OPT_KEEP:
			o->keep_builds = atoi(optarg);
			if (cmd != ADMIN_SERVE || o->keep_builds < 1)
				goto usage;
			break;
		case OPT_DAEMON:
			if (cmd != ADMIN_SERVE)
				goto usage;
			o->daemon = 1;
			break;
		case OPT_FORGET:
			if (cmd != ADMIN_RECOVER)
				goto usage;
			/* The coordinator may run in another directory. */
			abs = path_absolute(optarg, &e);
			if (!abs) {
				sp_err_print(&e);
				return 1;
			}
			if (!o->forget)
				o->forget = json_array();
			json_array_append_new(o->forget, json_string(abs));
			free(abs);
			break;
		case OPT_FORGET_LOST:
			if (cmd != ADMIN_RECOVER)
				goto usage;
			o->forget_lost = 1;
			break;
		case 'v':
			client_set_verbose(1);
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind == argc)
		return -1;
usage:
	fputs(help, stderr);
	return EXIT_USAGE;
}

static void print_result(const struct admin_opts *o, json_t *res)
{
	if (o->json)
		output_json_line("result", res);
}

static int fail(const struct admin_opts *o, const char *command,
		struct sp_err *e)
{
	if (o->json) {
		json_t *r = json_pack("{s:s,s:b,s:s}", "command", command, "ok",
				      0, "error", e->msg);

		output_json_line("result", r);
		json_decref(r);
	}
	sp_err_print(e);
	return 1;
}

/* Replays the journal in this process; the caller holds the state
 * directory's lock (so no coordinator runs) until this returns.  Returns
 * the result object (new reference), or NULL with e filled. */
static json_t *recover_here(const struct statedir *sd, const json_t *req,
			    struct sp_err *e)
{
	struct journal *j;
	json_t *report = json_array(), *res, *losses = NULL;
	json_t *forget = json_object_get(req, "forget");
	int bad = 0, rc, all = json_is_true(json_object_get(req, "forget_lost"));

	fault_set_role("replay");
	/* Through the held directory, as the coordinator opens it. */
	journal_hold_dir(sd->fd, sd->path);
	j = journal_open(sd->path, e);
	if (!j || statedir_check_journal(sd, e) < 0) {
		journal_close(j);
		journal_hold_dir(-1, NULL);
		json_decref(report);
		return NULL;
	}
	rc = replay_all(j, sd, 0, NULL, 0, report, &bad, e);
	if (rc == 0 && (json_array_size(forget) || all))
		rc = replay_forget(j, forget, all, e);
	if (rc == 0 && !(losses = replay_losses(j, 1, e)))
		rc = -1;
	journal_close(j);
	journal_hold_dir(-1, NULL);
	if (rc < 0) {
		json_decref(report);
		return NULL;
	}
	res = json_pack("{s:s,s:b,s:o,s:o,s:b}", "command", "recover", "ok",
			bad == 0 && json_array_size(losses) == 0, "artifacts",
			report, "losses", losses, "coordinator", 0);
	return res;
}

/* The outcomes worth a line, without the losses that the list of losses
 * prints with what to do (a new reference). */
static json_t *outcomes_but_losses(const json_t *arts, const json_t *losses)
{
	json_t *out = json_array(), *a, *l;
	size_t i, k;

	json_array_foreach(arts, i, a)
	{
		const char *p =
			json_string_value(json_object_get(a, "cargo_path"));
		int dup = 0;

		json_array_foreach(losses, k, l)
			dup |= p && !strcmp(p, json_string_value(json_object_get(
						       l, "cargo_path")));
		if (!dup)
			json_array_append(out, a);
	}
	return out;
}

/*
 * Has the journal of the state directory real replayed as req asks: by
 * its coordinator when one answers, else here (recover_here), holding the
 * directory's lock from the check to the last move of the replay.
 * Returns the result object (new reference), or NULL with e filled.
 */
static json_t *recover_run(const char *real, const json_t *req,
			   struct sp_err *e)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	struct statedir sd = STATEDIR_INIT;
	json_t *res = NULL;
	int fd, lock_fd = -1, tries;

	/* A coordinator holds the lock from before its replay until it
	 * exits, so "no socket and the lock is busy" means one is starting
	 * or stopping: wait (30 s) for it to answer or to be gone. */
	for (tries = 0; tries < 1500; tries++) {
		fd = client_connect(real, 0, 0, e);
		if (fd == -1)
			goto out;
		if (fd >= 0) {
			res = client_call(fd, MSG_RECOVER, req, NULL, NULL, e);
			close(fd);
			if (res)
				goto out;
		} else {
			int got = statedir_open(&sd, real, 1, e) < 0
					  ? -1
					  : statedir_lock_held(&sd, &lock_fd,
							       e);

			if (got < 0)
				goto out;
			if (got > 0) {
				res = recover_here(&sd, req, e);
				goto out;
			}
			statedir_release(&sd);
		}
		nanosleep(&ts, NULL);
	}
	sp_err_set(e,
		   "the coordinator for '%s' neither answers nor exits; see "
		   "'%s/log/coordinator.log'",
		   real, real);
out:
	if (lock_fd >= 0)
		close(lock_fd);
	statedir_release(&sd);
	return res;
}

static const char recover_help[] =
	"usage: spoke recover [options]\n"
	"\n"
	"Settles every artifact a build left staged: puts back cargo outputs\n"
	"that are missing, drops staged copies of outputs cargo rebuilt, moves\n"
	"staged files that someone changed to <state>/quarantine/, and removes\n"
	"half-written wheels.  Asks the running coordinator to do it, or, when\n"
	"none runs, does it here.  Exits 0 when every cargo output is at its\n"
	"path, 1 when something could not be settled or an output spoke lost\n"
	"is still missing: such a loss stays listed, here and in 'spoke\n"
	"status', until cargo rebuilds the output or you acknowledge it.\n"
	"\n"
	"options:\n";

static const char forget_help[] =
	"  --forget PATH          acknowledge that the cargo output PATH is\n"
	"                         lost, so it is no longer reported\n"
	"                         (repeatable)\n"
	"  --forget-lost          acknowledge every lost output\n";

int cmd_recover(int argc, char **argv)
{
	struct admin_opts o;
	char help[2048], *state = NULL, *real = NULL;
	json_t *res = NULL, *req = json_object();
	struct sp_err e;
	int rc, exists = 0;

	snprintf(help, sizeof(help), "%s%s%s", recover_help, forget_help,
		 where_help);
	rc = admin_parse(argc, argv, help, &o, ADMIN_RECOVER);
	if (rc >= 0)
		goto out;
	if (o.forget)
		json_object_set(req, "forget", o.forget);
	if (o.forget_lost)
		json_object_set_new(req, "forget_lost", json_true());
	state = where_state_dir(&o.where, 0, &exists, &e);
	if (!state) {
		rc = fail(&o, "recover", &e);
		goto out;
	}
	if (!exists && (o.forget || o.forget_lost)) {
		sp_err_set(&e, "no state directory '%s': spoke lost nothing "
			       "there",
			   state);
		rc = fail(&o, "recover", &e);
		goto out;
	}
	if (!exists) {
		res = json_pack("{s:s,s:b,s:[],s:[]}", "command", "recover",
				"ok", 1, "artifacts", "losses");
		if (!o.json)
			printf("nothing to recover: no state directory '%s'\n",
			       state);
		print_result(&o, res);
		rc = 0;
		goto out;
	}
	real = realpath(state, NULL);
	if (!real) {
		sp_err_sys(&e, "cannot resolve '%s'", state);
		rc = fail(&o, "recover", &e);
		goto out;
	}
	res = recover_run(real, req, &e);
	if (!res) {
		rc = fail(&o, "recover", &e);
		goto out;
	}
	rc = json_is_true(json_object_get(res, "ok")) ? 0 : 1;
	if (o.json) {
		print_result(&o, res);
	} else {
		const char *err =
			json_string_value(json_object_get(res, "error"));

		json_t *losses = json_object_get(res, "losses");
		json_t *arts = outcomes_but_losses(
			json_object_get(res, "artifacts"), losses);

		output_artifacts(arts, 0);
		json_decref(arts);
		if (err)
			fprintf(stderr, "spoke: recover: %s\n", esc(err));
		output_losses(losses, o.where.state_dir ? real : NULL);
		if (!err && rc == 0)
			printf("every cargo output is at its path\n");
	}
out:
	json_decref(o.forget);
	json_decref(req);
	json_decref(res);
	free(state);
	free(real);
	return rc;
}

/* The common start of status and stop: parses the options, finds the
 * state directory (*real stays NULL when there is none) and connects to its
 * coordinator without starting one (*fd stays -2 when none runs).  Returns
 * -1 to go on, else the exit code: --help, a usage error, or an error
 * already reported. */
static int admin_connect(int argc, char **argv, const char *usage,
			 const char *command, struct admin_opts *o,
			 char **real, int *fd)
{
	char help[2048], *state;
	struct sp_err e;
	int rc, exists = 0;

	*real = NULL;
	*fd = -2;
	snprintf(help, sizeof(help), "%s%s", usage, where_help);
	rc = admin_parse(argc, argv, help, o, ADMIN_SHARED);
	if (rc >= 0)
		return rc;
	state = where_state_dir(&o->where, 0, &exists, &e);
	if (!state)
		return fail(o, command, &e);
	*real = exists ? realpath(state, NULL) : NULL;
	free(state);
	if (*real)
		*fd = client_connect(*real, 0, 0, &e);
	return *fd == -1 ? fail(o, command, &e) : -1;
}

/* status for people: the coordinator, its builds, what is not given back
 * and what was lost.  losses_dir is the state directory to name in the
 * losses' hints, or NULL for the default one. */
static void print_status(const json_t *res, const char *losses_dir)
{
	const json_t *u = json_object_get(res, "unsettled"), *x;
	long long queued = json_integer_value(json_object_get(res, "queued"));
	char more[64] = "";
	size_t i;

	if (queued)
		snprintf(more, sizeof(more),
			 ", %lld job(s) queued behind them", queued);
	if (json_is_true(json_object_get(res, "coordinator")))
		printf("coordinator: running (pid %lld, %lld "
		       "worker(s) busy, %lld idle%s)\n",
		       (long long)json_integer_value(
			       json_object_get(res, "pid")),
		       (long long)json_integer_value(
			       json_object_get(res, "workers")),
		       (long long)json_integer_value(
			       json_object_get(res, "idle")),
		       more);
	else
		printf("coordinator: not running\n");
	json_array_foreach(json_object_get(res, "builds"), i, x)
		printf("build %lld: %lld artifact(s), %lld done, "
		       "%lld running\n",
		       (long long)json_integer_value(
			       json_object_get(x, "build")),
		       (long long)json_integer_value(
			       json_object_get(x, "artifacts")),
		       (long long)json_integer_value(
			       json_object_get(x, "done")),
		       (long long)json_integer_value(
			       json_object_get(x, "running")));
	if ((x = json_object_get(res, "journal"))) {
		json_int_t keep = json_integer_value(
			json_object_get(x, "keep_builds"));

		printf("journal: %.1f KB (%.1f KB of it free)",
		       (double)json_integer_value(json_object_get(x, "bytes")) /
			       1024,
		       (double)json_integer_value(
			       json_object_get(x, "free_bytes")) / 1024);
		if (keep)
			printf(", keeps the last %lld builds",
			       (long long)keep);
		printf("\n");
	}
	if (json_array_size(u) == 0)
		printf("no artifact is waiting to be given back\n");
	json_array_foreach(u, i, x)
		printf("%s %s (build %lld, %s, staged as %s)\n",
		       json_string_value(json_object_get(x, "state")),
		       esc(json_string_value(
			       json_object_get(x, "cargo_path"))),
		       (long long)json_integer_value(
			       json_object_get(x, "build")),
		       json_string_value(json_object_get(x, "mode")),
		       esc(json_string_value(
			       json_object_get(x, "staged_path"))));
	output_losses(json_object_get(res, "losses"), losses_dir);
}

static const char status_help[] =
	"usage: spoke status [options]\n"
	"\n"
	"Shows whether a coordinator runs, its builds, every artifact not yet\n"
	"given back, and every cargo output spoke lost that is still missing\n"
	"(exit 1 while there is one; 'spoke recover --forget PATH'\n"
	"acknowledges it).  Never starts a coordinator.\n"
	"\n"
	"options:\n";

int cmd_status(int argc, char **argv)
{
	struct admin_opts o;
	char *real = NULL;
	json_t *res = NULL, *req = json_object();
	struct sp_err e;
	int rc, fd = -2;

	/* No state directory: no coordinator and nothing unsettled, which is
	 * an answer, not an error. */
	rc = admin_connect(argc, argv, status_help, "status", &o, &real, &fd);
	if (rc >= 0)
		goto out;
	if (fd >= 0) {
		res = client_call(fd, MSG_STATUS, req, NULL, NULL, &e);
		if (!res) {
			rc = fail(&o, "status", &e);
			goto out;
		}
	} else if (real) {
		/* No coordinator: read the journal.  Reading needs no lock:
		 * SQLite isolates readers. */
		struct journal *j = journal_open(real, &e);
		json_t *pending = j ? journal_status(j, &e) : NULL;
		/* Without the lock, a loss whose output reappeared is left
		 * out but not recorded: only the lock holder writes. */
		json_t *losses = pending ? replay_losses(j, 0, &e) : NULL;
		struct journal_space sp;
		struct sp_err ignored;
		json_t *space = losses && journal_space(j, &sp, &ignored) == 0
					? json_pack("{s:I,s:I}", "bytes",
						    (json_int_t)sp.bytes,
						    "free_bytes",
						    (json_int_t)sp.free_bytes)
					: NULL;

		journal_close(j);
		if (!losses) {
			json_decref(pending);
			rc = fail(&o, "status", &e);
			goto out;
		}
		res = json_pack("{s:s,s:b,s:b,s:[],s:o,s:o,s:o*}", "command",
				"status", "ok", 1, "coordinator", 0, "builds",
				"unsettled", pending, "losses", losses,
				"journal", space);
	} else {
		res = json_pack("{s:s,s:b,s:b,s:[],s:[],s:[]}", "command",
				"status", "ok", 1, "coordinator", 0, "builds",
				"unsettled", "losses");
	}
	rc = 0;
	/* A missing cargo output is what status exists to show: it fails
	 * until the output is back or the loss is acknowledged. */
	if (json_array_size(json_object_get(res, "losses"))) {
		char msg[160];

		snprintf(msg, sizeof(msg),
			 "%zu cargo output(s) that spoke lost are missing; "
			 "see 'losses'",
			 json_array_size(json_object_get(res, "losses")));
		json_object_set_new(res, "ok", json_false());
		json_object_set_new(res, "error", json_string(msg));
		rc = 1;
	}
	if (o.json)
		print_result(&o, res);
	else
		print_status(res, o.where.state_dir ? real : NULL);
out:
	if (fd >= 0)
		close(fd);
	json_decref(req);
	json_decref(res);
	free(real);
	return rc;
}

static const char serve_help[] =
	"usage: spoke serve [options]\n"
	"\n"
	"Runs the coordinator for a state directory in the foreground.  spoke\n"
	"build starts one by itself when none runs; this is for debugging and\n"
	"for supervisors.\n"
	"\n"
	"options:\n"
	"  -j, --jobs N           workers at once (default: number of CPUs)\n"
	"  --idle-timeout SECS    exit after this long without clients\n"
	"                         (default 300)\n"
	"  --keep-builds N        keep the last N builds in the journal (for\n"
	"                         spoke log; default 100); older ones are\n"
	"                         deleted while no build runs, except what\n"
	"                         recovery and spoke status still need\n";

int cmd_serve(int argc, char **argv)
{
	struct admin_opts o;
	struct server_opts so;
	char help[2048], *state;
	struct sp_err e;
	int rc;

	snprintf(help, sizeof(help), "%s%s", serve_help, where_help);
	rc = admin_parse(argc, argv, help, &o, ADMIN_SERVE);
	if (rc >= 0)
		return rc;
	state = where_state_dir(&o.where, 1, NULL, &e);
	if (!state) {
		sp_err_print(&e);
		return 1;
	}
	so.state_dir = state;
	so.daemon = o.daemon;
	so.idle_timeout = o.idle;
	so.jobs = o.jobs;
	so.keep_builds = o.keep_builds;
	rc = server_run(&so, &e);
	free(state);
	if (rc == 1) {
		/* Another coordinator won the race to start: that is what
		 * the client that started us wanted. */
		if (!o.daemon)
			sp_err_print(&e);
		return o.daemon ? 0 : 1;
	}
	if (rc < 0) {
		sp_err_print(&e);
		return 1;
	}
	return 0;
}

static const char stop_help[] =
	"usage: spoke stop [options]\n"
	"\n"
	"Stops the coordinator after its running builds have given their\n"
	"artifacts back.  Exits 0 when none runs; never starts one.\n"
	"\n"
	"options:\n";

int cmd_stop(int argc, char **argv)
{
	struct admin_opts o;
	char *real = NULL;
	json_t *res = NULL, *req = json_object();
	struct sp_err e;
	int rc, fd = -2;

	rc = admin_connect(argc, argv, stop_help, "stop", &o, &real, &fd);
	if (rc >= 0)
		goto out;
	if (fd >= 0) {
		res = client_call(fd, MSG_STOP, req, NULL, NULL, &e);
		if (!res) {
			rc = fail(&o, "stop", &e);
			goto out;
		}
		/* It closes the connection once its builds have given
		 * their artifacts back, however long they take; then it
		 * and its workers must let go of the lock soon. */
		if (client_wait_gone(fd, real, -1, 10, &e) < 0) {
			rc = fail(&o, "stop", &e);
			goto out;
		}
	} else {
		res = json_pack("{s:s,s:b,s:b}", "command", "stop", "ok", 1,
				"was_running", 0);
	}
	rc = 0;
	if (o.json)
		print_result(&o, res);
	else
		printf(fd >= 0 ? "coordinator stopped\n"
			       : "no coordinator running\n");
out:
	if (fd >= 0)
		close(fd);
	json_decref(req);
	json_decref(res);
	free(real);
	return rc;
}

static const char log_help[] =
	"usage: spoke log [BUILD] [options]\n"
	"\n"
	"Shows a build from the journal (the newest finished one when BUILD is\n"
	"not given): every state change with its time, and per artifact how\n"
	"long staging, packaging and giving back took.  Reads the journal\n"
	"only; needs no coordinator.\n"
	"\n"
	"options:\n";

/* Time of the first event of kind for artifact (or of the build when
 * artifact is 0), or -1. */
static int64_t event_time(const json_t *events, json_int_t artifact,
			  const char *kind)
{
	const json_t *ev;
	size_t i;

	json_array_foreach(events, i, ev)
	{
		json_int_t a = json_integer_value(
			json_object_get(ev, "artifact"));

		if (a == artifact &&
		    !strcmp(json_string_value(json_object_get(ev, "kind")),
			    kind))
			return (int64_t)json_integer_value(
				json_object_get(ev, "t_ns"));
	}
	return -1;
}

static void print_step(const char *what, int64_t from, int64_t to)
{
	if (from >= 0 && to >= from)
		printf("  %s %.1f ms", what, (double)(to - from) / 1e6);
}

/* Per artifact, in the order of its first event, how long staging,
 * packaging, the wheel's rename and giving back took. */
static void print_durations(const json_t *events)
{
	const json_t *ev;
	json_t *seen = json_object();
	size_t i;

	json_array_foreach(events, i, ev)
	{
		json_t *aid = json_object_get(ev, "artifact");
		json_int_t a = json_integer_value(aid);
		int64_t renaming;
		char key[32];

		if (!aid)
			continue;
		snprintf(key, sizeof(key), "%lld", (long long)a);
		if (json_object_get(seen, key))
			continue;
		json_object_set_new(seen, key, json_true());
		printf("%s:", esc(json_string_value(
				      json_object_get(ev, "cargo_path"))));
		print_step("stage", event_time(events, a, "staging"),
			   event_time(events, a, "staged"));
		/* A worker renames its own wheel; only a journal of an older
		 * spoke has a "renaming" between. */
		renaming = event_time(events, a, "wheel renaming");
		print_step("package", event_time(events, a, "wheel writing"),
			   renaming >= 0 ? renaming
					 : event_time(events, a, "wheel done"));
		print_step("rename", renaming,
			   event_time(events, a, "wheel done"));
		print_step("give back", event_time(events, a, "restoring"),
			   event_time(events, a, "restored"));
		printf("\n");
	}
	json_decref(seen);
}

/* spoke log for people: the build, every event with its time from the
 * build's start, then the durations per artifact. */
static void print_log(const json_t *log)
{
	const json_t *events = json_object_get(log, "events"), *ev;
	int64_t t0 = json_integer_value(json_object_get(log, "started_ns"));
	json_t *end = json_object_get(log, "ended_ns");
	time_t secs = (time_t)(t0 / 1000000000);
	char when[64];
	struct tm tm;
	size_t i;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("build %lld: %s, started %s",
	       (long long)json_integer_value(json_object_get(log, "build")),
	       json_string_value(json_object_get(log, "state")), when);
	if (end)
		printf(", took %.3f s",
		       (double)(json_integer_value(end) - t0) / 1e9);
	printf("\n");
	if (json_object_get(log, "error"))
		printf("error: %s\n",
		       esc(json_string_value(json_object_get(log, "error"))));
	if (json_is_true(json_object_get(log, "pruned")))
		printf("its timeline was pruned from the journal (spoke keeps "
		       "the last builds: spoke serve --keep-builds N); the "
		       "build stays for what it still holds (spoke status)\n");
	json_array_foreach(events, i, ev)
	{
		const char *path =
			json_string_value(json_object_get(ev, "cargo_path"));

		/* A reused wheel has no artifact: its wheel names it. */
		if (!path)
			path = json_string_value(json_object_get(ev, "wheel"));
		printf("  %+10.3f ms  %-16s %s\n",
		       (double)(json_integer_value(json_object_get(ev, "t_ns")) -
				t0) / 1e6,
		       json_string_value(json_object_get(ev, "kind")),
		       path ? esc(path) : "");
	}
	print_durations(events);
}

int cmd_log(int argc, char **argv)
{
	struct admin_opts o;
	char help[2048], *state = NULL, *real = NULL, *end;
	long long build = 0;
	json_t *log = NULL;
	struct journal *j = NULL;
	struct sp_err e;
	int rc, exists = 0;

	snprintf(help, sizeof(help), "%s%s", log_help, where_help);
	/* One optional positional BUILD, before or after the options. */
	if (argc > 1 && argv[1][0] != '-') {
		build = strtoll(argv[1], &end, 10);
		if (*end || build <= 0) {
			fputs(help, stderr);
			return EXIT_USAGE;
		}
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	rc = admin_parse(argc, argv, help, &o, ADMIN_SHARED);
	if (rc >= 0)
		return rc;
	state = where_state_dir(&o.where, 0, &exists, &e);
	if (!state)
		return fail(&o, "log", &e);
	if (!exists) {
		sp_err_set(&e, "no state directory '%s': nothing was built "
			       "there",
			   state);
		rc = fail(&o, "log", &e);
		goto out;
	}
	real = realpath(state, NULL);
	j = real ? journal_open(real, &e) : NULL;
	log = j ? journal_log(j, build, &e) : NULL;
	if (!log) {
		if (!real)
			sp_err_sys(&e, "cannot resolve '%s'", state);
		rc = fail(&o, "log", &e);
		goto out;
	}
	json_object_set_new(log, "command", json_string("log"));
	json_object_set_new(log, "ok", json_true());
	if (o.json)
		print_result(&o, log);
	else
		print_log(log);
	rc = 0;
out:
	journal_close(j);
	json_decref(log);
	free(state);
	free(real);
	return rc;
}
