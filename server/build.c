/*
 * build.c - a build's lifecycle: the client's request checked and turned
 * into one job per artifact, the artifacts staged and the wheels' intents
 * journaled, the artifacts given back (at once when the build fails), and
 * the result sent when its last job has settled.
 */
#define _GNU_SOURCE
#include "server/coord.h"
#include "server/server.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/dirs.h"
#include "common/fsx.h"
#include "common/path.h"
#include "common/pyname.h"
#include "common/tmpfile.h"
#include "common/version.h"
#include "journal/journal.h"
#include "journal/replay.h"
#include "server/reuse.h"

static int str_field(const json_t *o, const char *k, const char **out)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_string(v) || json_string_length(v) == 0)
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* Checks a build request before anything is journaled: its out_dir and
 * the number of artifacts here, each artifact's fields as its job is
 * read from it (job_from_request: common/pyname.h's rules, the same the
 * worker and `spoke build --artifacts` apply); the message names the
 * artifact and field. */
static int build_validate(const json_t *req, struct job *jobs, size_t njobs,
			  struct sp_err *e)
{
	const json_t *arts = json_object_get(req, "artifacts");
	const char *v;
	size_t i;

	if (str_field(req, "out_dir", &v) < 0 || v[0] != '/')
		return sp_err_set(e, "bad build request: 'out_dir' must be an "
				     "absolute path");
	if (!json_is_array(arts) || json_array_size(arts) == 0)
		return sp_err_set(e, "bad build request: no artifacts");
	/* Checked first: the jobs, the journal rows and the result all grow
	 * with the count (see BUILD_MAX_ARTIFACTS). */
	if (json_array_size(arts) > BUILD_MAX_ARTIFACTS)
		return sp_err_set(e, "bad build request: %zu artifacts, more "
				     "than the limit of %u per build",
				  json_array_size(arts), BUILD_MAX_ARTIFACTS);
	if (!jobs)
		return 0;
	for (i = 0; i < njobs; i++) {
		const json_t *c =
		    json_object_get(json_array_get(arts, i), "compile_s");
		double x = json_number_value(c);

		if (job_from_request(req, i, &jobs[i].spec, e) < 0)
			return -1;
		/* A number of seconds below a year (a bigger one is a unit
		 * mistake), or absent. */
		if (c && (!json_is_number(c) || !(x >= 0 && x < 3.2e7)))
			return sp_err_set(e,
					  "bad build request: artifact %zu: "
					  "'compile_s' must be a number of "
					  "seconds from 0 to a year",
					  i);
		jobs[i].compile_ns = (int64_t)(x * 1e9);
	}
	return 0;
}

static void job_release(struct job *jb)
{
	wheel_job_release(&jb->spec);
	json_decref(jb->result);
}

void build_free(struct build *b)
{
	size_t i;

	for (i = 0; i < b->njobs; i++)
		job_release(&b->jobs[i]);
	free(b->jobs);
	json_decref(b->report);
	json_decref(b->wheels);
	free(b);
}

void client_build(struct server *s, struct client *c, json_t *req)
{
	const json_t *arts = json_object_get(req, "artifacts");
	const char *mode = json_string_value(json_object_get(req, "stage"));
	char client_desc[64];
	struct build *b;
	struct sp_err e;
	size_t i;

	if (c->build || s->stopping) {
		client_send(c, MSG_RESULT,
			    json_pack("{s:s,s:b,s:s}", "command", "build", "ok",
				      0, "error",
				      s->stopping ? "the coordinator is stopping"
						  : "a build is already running "
						    "on this connection"));
		return;
	}
	/* A peer that names no version gets no say in the coordinator's
	 * life: only a spoke client of another version replaces it. */
	if (json_is_string(json_object_get(req, "client_version")) &&
	    strcmp(json_string_value(json_object_get(req, "client_version")),
		   spoke_version()) != 0) {
		/* A client of another version: make way for a coordinator
		 * of its version once the running builds are done. */
		slog("client of version '%s': stopping to be replaced",
		     json_string_value(json_object_get(req, "client_version"))
			     ?: "?");
		s->stopping = 1;
		client_send(c, MSG_RESULT,
			    json_pack("{s:s,s:b,s:b,s:s,s:s}", "command",
				      "build", "ok", 0, "restart", 1,
				      "coordinator_version", spoke_version(),
				      "error",
				      "the coordinator is of another version"));
		return;
	}
	if (build_validate(req, NULL, 0, &e) < 0) {
		client_send(c, MSG_RESULT,
			    json_pack("{s:s,s:b,s:s}", "command", "build", "ok",
				      0, "error", e.msg));
		return;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return;
	b->njobs = json_array_size(arts);
	b->jobs = calloc(b->njobs, sizeof(*b->jobs));
	if (b->jobs && build_validate(req, b->jobs, b->njobs, &e) < 0) {
		client_send(c, MSG_RESULT,
			    json_pack("{s:s,s:b,s:s}", "command", "build", "ok",
				      0, "error", e.msg));
		build_free(b);
		return;
	}
	b->report = json_array();
	b->wheels = json_array();
	b->mode = STAGE_LINK;
	if (mode && stage_mode_parse(mode, &b->mode) < 0)
		b->mode = STAGE_LINK;
	b->max_jobs = (int)json_integer_value(json_object_get(req, "jobs"));
	if (b->max_jobs < 1 || b->max_jobs > 4096)
		b->max_jobs = s->o->jobs;
	b->jobserver = json_is_true(json_object_get(req, "jobserver"));
	b->quiet = json_is_true(json_object_get(req, "quiet"));
	b->brief = json_is_true(json_object_get(req, "brief"));
	b->force = json_is_true(json_object_get(req, "force"));
	snprintf(client_desc, sizeof(client_desc), "fd %d", c->fd);
	if (!b->jobs || journal_build_begin(s->j, client_desc, &b->id, &e) < 0) {
		client_send(c, MSG_RESULT,
			    json_pack("{s:s,s:b,s:s}", "command", "build", "ok",
				      0, "error",
				      b->jobs ? e.msg : "out of memory"));
		build_free(b);
		return;
	}
	for (i = 0; i < b->njobs; i++) {
		struct job *jb = &b->jobs[i];

		jb->b = b;
		/* The worker checks its cached policy and ld.so.conf once
		 * per build (stamp_epoch_set). */
		jb->spec.build = b->id;
		jb->cargo_path = jb->spec.cargo_path;
	}
	b->client = c;
	c->build = b;
	b->next = s->builds;
	s->builds = b;
	slog("build %lld: %zu artifact(s)", (long long)b->id, b->njobs);
	client_event(b, json_pack("{s:s,s:I,s:I}", "event", "build", "build",
				  (json_int_t)b->id, "artifacts",
				  (json_int_t)b->njobs));
}

static int cargo_path_held(struct server *s, struct build *self,
			   const char *path)
{
	struct build *b;
	size_t i;

	for (b = s->builds; b; b = b->next) {
		if (b == self || !b->staged)
			continue;
		for (i = 0; i < b->njobs; i++)
			if (b->jobs[i].staged &&
			    strcmp(b->jobs[i].cargo_path, path) == 0)
				return 1;
	}
	return 0;
}

/* Builds that touch a cargo output another build holds wait for it. */
int build_can_start(struct server *s, struct build *b)
{
	size_t i;

	for (i = 0; i < b->njobs; i++)
		if (cargo_path_held(s, b, b->jobs[i].cargo_path))
			return 0;
	return 1;
}

/* Makes the build's output folder (the user's path, symlinks in it
 * followed once; missing folders made one at a time, never through a
 * symlink) and gives every job its resolved path, "out_dir_resolved". */
static int resolve_out_dir(struct build *b, struct sp_err *e)
{
	char *resolved;
	size_t i;
	int fd;

	fd = dirs_resolve(b->jobs[0].spec.out_dir, 1, 0755, &resolved, e);
	if (fd < 0)
		return -1;
	close(fd);
	for (i = 0; i < b->njobs; i++) {
		free(b->jobs[i].spec.out_dir_resolved);
		if (!(b->jobs[i].spec.out_dir_resolved = strdup(resolved))) {
			free(resolved);
			return sp_err_set(e, "out of memory");
		}
	}
	free(resolved);
	return 0;
}

/* Names every job's wheel (common/pyname.h): the job carries the name
 * and its path in the user's output folder, so the worker names nothing
 * itself, and the reuse digest covers them. */
static int name_wheels(struct build *b, struct sp_err *e)
{
	size_t i;

	for (i = 0; i < b->njobs; i++) {
		struct job *jb = &b->jobs[i];
		char *name, *final = NULL;

		name = wheel_filename(jb->spec.distribution, jb->spec.version,
				      jb->spec.python_tag, jb->spec.abi_tag,
				      jb->spec.platform_tag);
		if (!name)
			return sp_err_set(e, "cannot name the wheel of '%s'",
					  jb->cargo_path);
		/* asprintf leaves its pointer undefined when it fails. */
		if (asprintf(&final, "%s/%s", jb->spec.out_dir, name) < 0) {
			free(name);
			return sp_err_set(e, "out of memory");
		}
		free(jb->spec.wheel_name);
		free(jb->spec.final_path);
		jb->spec.wheel_name = name;
		jb->spec.final_path = final;
	}
	return 0;
}

/*
 * Decides which jobs' wheels are reused (reuse.h): each job's digest is
 * taken now, before anything is staged, and a job whose wheel an earlier
 * build wrote for the same digest, still at its path as written, is
 * neither staged nor handed to a worker (docs/incremental.md says why no
 * staging is needed).  Under --force nothing is reused, but the digests
 * are taken so that the wheels written are recorded.  A digest that
 * cannot be taken only means that job is written and not recorded.
 */
static void decide_reuse(struct server *s, struct build *b, int later,
			 json_t **reused)
{
	struct sp_err e;
	json_t *ambient = reuse_ambient(&e);
	size_t i;

	if (!ambient)
		slog("build %lld: nothing reused or recorded: %s",
		     (long long)b->id, e.msg);
	for (i = 0; ambient && i < b->njobs; i++) {
		struct job *jb = &b->jobs[i];
		const char *why = NULL;
		int rc;

		if (jb->later != later)
			continue;
		if (reuse_digest(&jb->spec, ambient, jb->digest, &jb->art_st,
				 &e) < 0) {
			jb->digest[0] = '\0';
			slog("build %lld: '%s' is written: %s",
			     (long long)b->id, jb->cargo_path, e.msg);
			continue;
		}
		if (b->force)
			continue;
		/* A quiet, brief client is sent no repair report: its
		 * wheel's is not read. */
		rc = reuse_lookup(s->j, jb->digest, &jb->art_st,
				  !(b->quiet && b->brief), &reused[i], &why,
				  &e);
		if (rc < 0)
			slog("build %lld: %s", (long long)b->id, e.msg);
		/* Said of a wheel whose inputs are unchanged but whose file
		 * (or a library it bundles) is not as written: the user may
		 * wonder why it was written again. */
		if (rc == 0 && why)
			slog("build %lld: '%s' is written again: %s",
			     (long long)b->id, jb->spec.final_path, why);
		if (rc <= 0)
			continue;
		jb->reused = 1;
		jb->started = 1;
		jb->settled = 1;
	}
	json_decref(ambient);
}

/* Stages the jobs of b whose later is later (build_stage). */
static void stage_jobs(struct server *s, struct build *b, int later)
{
	struct stage_item *items;
	json_t **reused;
	struct sp_err e;
	size_t i, n = 0, k, nreused = 0;

	items = calloc(b->njobs, sizeof(*items));
	reused = calloc(b->njobs, sizeof(*reused));
	if (!items || !reused) {
		build_fail(s, b, "out of memory");
		goto out;
	}
	decide_reuse(s, b, later, reused);
	for (i = 0; i < b->njobs; i++) {
		struct job *jb = &b->jobs[i];
		char *staged = NULL;
		uint32_t token;

		if (jb->reused || jb->later != later)
			continue;
		/* Build ids start again at 1 in a new journal; the random
		 * part keeps a new build off names that a lost journal's
		 * staged files may still hold. */
		if (getrandom(&token, sizeof(token), 0) != sizeof(token))
			token = (uint32_t)time(NULL) ^ (uint32_t)getpid();
		if (asprintf(&staged, "%s/staged/%lld-%zu-%08x-%s",
			     s->state_dir, (long long)b->id, i, token,
			     path_basename(jb->cargo_path)) < 0) {
			build_fail(s, b, "out of memory");
			goto out;
		}
		free(jb->spec.staged_path);
		jb->spec.staged_path = staged;
		items[n].cargo_path = jb->cargo_path;
		items[n].staged_path = jb->spec.staged_path;
		n++;
	}
	/* The whole build in one batch: a fixed number of fsyncs however
	 * many artifacts it has. */
	if (n && stage_batch(s->j, &s->sd, b->id, items, n, b->mode, &e) < 0) {
		build_fail(s, b, "%s", e.msg);
		goto out;
	}
	for (i = 0, k = 0; i < b->njobs; i++) {
		struct job *jb = &b->jobs[i];

		if (jb->reused || jb->later != later)
			continue;
		jb->art_id = items[k].artifact_id;
		/* Echoed in every event and result of the job (worker/wheel_job.h). */
		jb->spec.id = (uint64_t)jb->art_id;
		jb->staged = 1;
		/* The worker reads the staged file by path: it checks that
		 * it finds this inode there, read through staged/'s held
		 * descriptor (worker/build_wheel.c, check_staged_ident). */
		{
			struct fsx_at at = {
				s->sd.staged_fd,
				path_basename(items[k].staged_path),
				items[k].staged_path,
			};
			struct fsx_ident id;

			if (fsx_ident_at(&at, &id, &e) < 0) {
				build_fail(s, b, "%s", e.msg);
				goto out;
			}
			jb->spec.has_staged_ident = 1;
			jb->spec.staged_dev = (uint64_t)id.dev;
			jb->spec.staged_ino = (uint64_t)id.ino;
		}
		client_event(b, json_pack("{s:s,s:s,s:s,s:s}", "event",
					  "staged", "cargo_path",
					  jb->cargo_path, "staged_path",
					  items[k].staged_path, "mode",
					  items[k].mode_used));
		k++;
	}
	/* Every job carries the request's one out_dir (client_build).  It
	 * may hold symlinks (the user's path): resolved once here, made one
	 * component at a time, and the workers open the resolved path with
	 * none followed (dirs.h).  Made only once the artifacts are staged:
	 * a build that fails first leaves no folder behind.  Once per
	 * build: the second turn's jobs go where the first's went, whatever
	 * the path leads to by then. */
	if ((!later && resolve_out_dir(b, &e) < 0) ||
	    journal_begin(s->j, &e) < 0) {
		build_fail(s, b, "%s", e.msg);
		goto out;
	}
	for (i = 0; i < b->njobs; i++) {
		struct job *jb = &b->jobs[i];
		/* The temporary is journaled where the worker writes it, in
		 * the resolved folder, so replay finds it even if the user's
		 * path leads elsewhere by then; the final name stays the
		 * user's, as results report it. */
		const char *od_res = jb->spec.out_dir_resolved;
		char *tmp = NULL, tname[NAME_MAX + 1];

		if (jb->later != later)
			continue;
		if (jb->reused) {
			/* Its row says so in the timeline, and the wheel
			 * stays recorded for as long as builds reuse it. */
			const json_t *r = reused[i];

			if (journal_wheel_reused(
				    s->j, b->id,
				    json_string_value(json_object_get(r, "wheel")),
				    (int64_t)json_integer_value(
					    json_object_get(r, "size")),
				    json_string_value(
					    json_object_get(r, "sha256")),
				    &e) < 0 ||
			    journal_reuse_touch(s->j, jb->digest, b->id, &e) < 0) {
				journal_rollback(s->j);
				build_fail(s, b, "%s", e.msg);
				goto out;
			}
			continue;
		}
		/* An unpredictable name (tmpfile.h), so that nobody else who
		 * may write the output folder can plant anything at it; it is
		 * journaled below, so replay removes one left behind. */
		if (tmpfile_name(tname, sizeof(tname), jb->spec.wheel_name,
				 &e) < 0) {
			journal_rollback(s->j);
			build_fail(s, b, "%s", e.msg);
			goto out;
		}
		if (asprintf(&tmp, "%s/%s", od_res, tname) < 0) {
			journal_rollback(s->j);
			build_fail(s, b, "out of memory");
			goto out;
		}
		/* The job carries its temporary: the worker names nothing
		 * itself. */
		free(jb->spec.tmp_path);
		jb->spec.tmp_path = tmp;
		if (journal_wheel_intent(s->j, b->id, jb->art_id, tmp,
					 jb->spec.final_path, &jb->wheel_id,
					 &e) < 0 ||
		    (jb->compile_ns > 0 &&
		     journal_wheel_compile(s->j, jb->wheel_id, jb->compile_ns,
					   &e) < 0)) {
			journal_rollback(s->j);
			build_fail(s, b, "%s", e.msg);
			goto out;
		}
	}
	/* Every wheel's intent in one commit, before any worker writes,
	 * with the reused wheels' rows. */
	if (journal_commit(s->j, &e) < 0) {
		build_fail(s, b, "%s", e.msg);
		goto out;
	}
	/* Answered from the record: nothing is read, moved or written. */
	for (i = 0; i < b->njobs; i++) {
		struct job *jb = &b->jobs[i];

		if (!jb->reused || jb->later != later)
			continue;
		nreused++;
		jb->result = reused[i];
		reused[i] = NULL;
		/* What the repair found, as its worker reported it then: a
		 * warning it gave is given again. */
		if (json_object_get(jb->result, "repair"))
			client_event(b, json_pack("{s:s,s:O,s:s}", "event",
						  "repair", "repair",
						  json_object_get(jb->result,
								  "repair"),
						  "cargo_path", jb->cargo_path));
		done_report(b, jb, json_string_value(json_object_get(
					   jb->result, "wheel")),
			    1);
		json_decref(jb->result);
		jb->result = NULL;
	}
	if (nreused)
		slog("build %lld: reused %zu wheel(s)%s", (long long)b->id,
		     nreused, later ? " of fresh packages" : "");
out:
	for (i = 0; reused && i < b->njobs; i++)
		json_decref(reused[i]);
	free(reused);
	free(items);
}

void build_stage(struct server *s, struct build *b)
{
	struct sp_err e;
	size_t i, compiled = 0;

	b->staged = 1;
	/* The names are part of the reuse digest, so they come first. */
	if (name_wheels(b, &e) < 0) {
		build_fail(s, b, "%s", e.msg);
		return;
	}
	/* A package cargo compiled in this run has a new artifact, so its
	 * wheel is written: staged first, so its worker starts before the
	 * other jobs' digests are taken.  Only an order: every job is
	 * checked for reuse all the same.  Without the hint (--artifacts,
	 * or a cargo run that compiled everything or nothing), one turn. */
	for (i = 0; i < b->njobs; i++)
		compiled += b->jobs[i].compile_ns > 0;
	if (compiled > 0 && compiled < b->njobs) {
		for (i = 0; i < b->njobs; i++)
			b->jobs[i].later = b->jobs[i].compile_ns == 0;
		b->later = 1;
	}
	stage_jobs(s, b, 0);
}

void build_stage_later(struct server *s, struct build *b)
{
	size_t i;

	b->later = 0;
	if (!b->failed)
		stage_jobs(s, b, 1);
	for (i = 0; i < b->njobs; i++)
		b->jobs[i].later = 0;
}

/* How often a build's give-backs are tried when the disk is full, all of
 * them together, and the first pause between tries (doubled each time:
 * 50, 100, 200, 400 ms; 0.75 s at most per build, however many
 * artifacts it has). */
#define GIVE_BACK_TRIES 5
#define GIVE_BACK_PAUSE_MS 50

/*
 * Whether to try a failed give-back again, after a pause.  Only when the
 * disk was full (ENOSPC) in a rename, an unlink or a journal commit: none
 * of them happened, or SQLite rolled the transaction back, and replay
 * decides each artifact from the disk again, so trying again is safe.  A
 * full disk is often brief (a wheel or a temporary being removed, another
 * process's file), and a cargo output left staged in move mode is missing
 * until someone runs `spoke recover`.  A failed fsync is never retried
 * (err.h, docs/failure-model.md), nor is any other error.  The pause
 * blocks the coordinator, which is why the tries are few and short.
 */
static int give_back_again(struct build *b, int attempt, const struct sp_err *e)
{
	struct timespec ts;
	long ms = (long)GIVE_BACK_PAUSE_MS << b->give_back_pauses;

	/* The budget is the build's: with the disk still full, a hundred
	 * artifacts must not each block the coordinator for their own
	 * round of pauses. */
	if (e->sys_errno != ENOSPC || attempt + 1 >= GIVE_BACK_TRIES ||
	    b->give_back_pauses + 1 >= GIVE_BACK_TRIES)
		return 0;
	b->give_back_pauses++;
	slog("build %lld: give back: %s; trying again in %ld ms",
	     (long long)b->id, e->msg, ms);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	return 1;
}

/* Gives back every artifact of b now, while its workers may still run:
 * they hold open descriptors of what they read, so they do not care. */
static void build_give_back_artifacts(struct server *s, struct build *b)
{
	struct journal_artifact *a = NULL;
	struct sp_err e;
	size_t n = 0, i;

	if (journal_unsettled_artifacts(s->j, b->id, &a, &n, &e) < 0) {
		slog("build %lld: %s", (long long)b->id, e.msg);
		return;
	}
	for (i = 0; i < n; i++) {
		if (replay_artifact(s->j, &s->sd, &a[i], b->report,
				    &b->bad, &e) < 0)
			slog("build %lld: give back: %s", (long long)b->id,
			     e.msg);
	}
	journal_artifacts_free(a, n);
}

void build_fail(struct server *s, struct build *b, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	if (!b->failed) {
		va_start(ap, fmt);
		vsnprintf(b->error, sizeof(b->error), fmt, ap);
		va_end(ap);
		b->failed = 1;
		slog("build %lld failed: %s", (long long)b->id, b->error);
	}
	for (i = 0; i < b->njobs; i++) {
		if (b->jobs[i].w)
			pool_kill(b->jobs[i].w);
	}
	build_give_back_artifacts(s, b);
}

/* Gives one artifact back now (move mode: its cargo output is missing
 * until then).  A full disk is retried (give_back_again). */
void give_back_one(struct server *s, struct job *jb)
{
	struct journal_artifact *a = NULL;
	struct sp_err e;
	int rc, attempt;

	for (attempt = 0;; attempt++) {
		if (journal_get_artifact(s->j, jb->art_id, &a, &e) < 0) {
			rc = -1;
		} else {
			rc = replay_artifact(s->j, &s->sd, a,
					     jb->b->report, &jb->b->bad, &e);
			journal_artifacts_free(a, 1);
		}
		if (rc == 0 || !give_back_again(jb->b, attempt, &e))
			break;
	}
	if (rc < 0)
		build_fail(s, jb->b, "%s", e.msg);
}

int build_done(const struct build *b)
{
	size_t i;

	if (!b->staged || (b->later && !b->failed))
		return 0;
	for (i = 0; i < b->njobs; i++) {
		const struct job *jb = &b->jobs[i];

		if (jb->w || jb->result)
			return 0;
		if (!b->failed && !jb->settled)
			return 0;
	}
	return 1;
}

/* Adds to a build's result the cargo outputs that earlier builds (or the
 * replay at start) lost and nobody acknowledged, for the client to warn
 * about; this build's own losses are in its "artifacts" and fail it.  A
 * build answers for its own work: losses change neither "ok" nor the
 * exit status. */
static void build_losses(struct server *s, struct build *b, json_t *res)
{
	struct sp_err e;
	json_t *losses = replay_losses(s->j, 1, &e), *l;
	size_t i;

	if (!losses) {
		slog("build %lld: cannot list losses: %s", (long long)b->id,
		     e.msg);
		return;
	}
	for (i = json_array_size(losses); i-- > 0;) {
		l = json_array_get(losses, i);
		if (json_integer_value(json_object_get(l, "build")) == b->id)
			json_array_remove(losses, i);
	}
	if (json_array_size(losses))
		json_object_set_new(res, "losses", losses);
	else
		json_decref(losses);
}

/* When artifacts of b are still staged, after every try: their cargo
 * outputs and staged names ("staged" in the result) and an error that
 * names them all and the command that puts them back.  The journal holds
 * them, so that command works once the cause is gone. */
static void build_still_staged(struct server *s, struct build *b, json_t *res)
{
	struct journal_artifact *a = NULL;
	json_t *staged;
	struct sp_err e;
	size_t n = 0, i, len = 0;
	char *msg = NULL;
	FILE *f;

	if (journal_unsettled_artifacts(s->j, b->id, &a, &n, &e) < 0) {
		slog("build %lld: %s", (long long)b->id, e.msg);
		return;
	}
	if (n == 0 || !(f = open_memstream(&msg, &len))) {
		journal_artifacts_free(a, n);
		return;
	}
	staged = json_array();
	fprintf(f, "%s\n  %zu cargo output(s) are still staged:", b->error, n);
	for (i = 0; i < n; i++) {
		fprintf(f, "\n    '%s' (as '%s')", a[i].cargo_path,
			a[i].staged_path);
		json_array_append_new(staged,
				      json_pack("{s:s,s:s}", "cargo_path",
						a[i].cargo_path, "staged_path",
						a[i].staged_path));
	}
	fprintf(f,
		"\n  Once the cause is gone (free space on a full disk), this "
		"puts them back: spoke recover --state-dir '%s'",
		s->state_dir);
	if (fclose(f) == 0 && msg)
		json_object_set_new(res, "error", json_string(msg));
	json_object_set_new(res, "staged", staged);
	free(msg);
	journal_artifacts_free(a, n);
}

/* Every artifact of b is given back: the ctime of each written wheel's
 * cargo file, as spoke leaves it, goes on its reuse row (reuse.h).  A
 * failure here only leaves rows that are not reused. */
static void reuse_given_back(struct server *s, struct build *b)
{
	struct sp_err e;
	size_t i;

	if (journal_begin(s->j, &e) < 0)
		goto fail;
	for (i = 0; i < b->njobs; i++) {
		const struct job *jb = &b->jobs[i];

		/* Every job staged, written or not: its staging changed
		 * the ctime other rows hold. */
		if (!jb->digest[0] || jb->reused || !jb->staged)
			continue;
		if (reuse_art_ctime(s->j, jb->digest, b->id, jb->cargo_path,
				    &jb->art_st, &e) < 0) {
			journal_rollback(s->j);
			goto fail;
		}
	}
	if (journal_commit(s->j, &e) == 0)
		return;
fail:
	slog("build %lld: not recorded for reuse: %s", (long long)b->id,
	     e.msg);
}

void build_finish(struct server *s, struct build *b)
{
	struct sp_err e;
	json_t *res;
	int ok, attempt, given_back = 0;

	/* Its wheels' "done" first: replay below would take a wheel still
	 * "writing" for one interrupted (and forget its size and digest). */
	done_flush(s);
	/* Everything the build left: artifacts not yet given back, wheels
	 * whose workers were killed. */
	for (attempt = 0;; attempt++) {
		if (replay_all(s->j, &s->sd, b->id, NULL, 0, b->report,
			       &b->bad, &e) == 0) {
			given_back = b->bad == 0;
			break;
		}
		if (!give_back_again(b, attempt, &e)) {
			if (!b->failed) {
				b->failed = 1;
				snprintf(b->error, sizeof(b->error), "%s",
					 e.msg);
			}
			break;
		}
	}
	ok = !b->failed && b->bad == 0;
	if (given_back)
		reuse_given_back(s, b);
	if (!b->failed && b->bad)
		snprintf(b->error, sizeof(b->error),
			 "%d staged file(s) could not be given back; see "
			 "'artifacts'",
			 b->bad);
	if (journal_build_end(s->j, b->id, ok, ok ? NULL : b->error, &e) < 0)
		slog("build %lld: %s", (long long)b->id, e.msg);
	res = json_pack("{s:s,s:b,s:I,s:O,s:O}", "command", "build", "ok", ok,
			"build", (json_int_t)b->id, "wheels", b->wheels,
			"artifacts", b->report);
	if (res && !ok) {
		json_object_set_new(res, "error", json_string(b->error));
		build_still_staged(s, b, res);
	}
	if (res)
		build_losses(s, b, res);
	slog("build %lld %s", (long long)b->id, ok ? "succeeded" : "failed");
	if (b->client) {
		b->client->build = NULL;
		client_send(b->client, MSG_RESULT, res);
	} else {
		json_decref(res);
	}
}
