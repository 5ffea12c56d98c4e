/*
 * done.c - finished wheels: each successful result checked against the
 * planned wheel and reported to the client, and the wheels' "done" rows
 * journaled in batches, after one fsync per directory.
 */
#include "server/coord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsx.h"
#include "common/path.h"
#include "journal/journal.h"
#include "server/reuse.h"

/* A wheel its worker renamed into place whose "done" is not journaled
 * yet.  dir is the directory it was renamed in, which must be fsynced
 * first; final is its name when a repair changed the planned one, and
 * patch its artifact's patch status when not "none". */
struct done_wheel {
	int64_t id, art_id, size;
	/* For the reuse record: its job's digest ("": none), the worker's
	 * result and the wheel's path. */
	char digest[65];
	json_t *result;
	char *path;
	int64_t renamed_ns; /* when its result came (CLOCK_REALTIME) */
	char sha256[65];
	char *dir, *final, *patch;
	struct build *b;
};

/* Pending "done" rows are flushed at the latest when this many have
 * gathered, so that a long build's log keeps up and replay has little to
 * decide. */
#define DONE_MAX 256

/* Where the wheel must be: the planned final path, or the name the worker
 * gave it in "wheel_name" (a repaired wheel's platform tag is known only
 * after analysis) in the same directory.  The worker's name is held to the
 * planned one: a plain file name ending in .whl with the same
 * "<dist>-<version>-<python>-<abi>-" prefix.  malloc'd. */
static char *wheel_dest(const char *final, const json_t *res,
			struct sp_err *e)
{
	const char *name =
		json_string_value(json_object_get(res, "wheel_name"));
	const char *planned = path_basename(final);
	size_t len, pre = 0, dashes = 0;
	char *dir, *path;

	if (!name)
		return strdup(final);
	while (planned[pre] && dashes < 4)
		dashes += planned[pre++] == '-';
	len = strlen(name);
	if (dashes < 4 || len < 5 || strchr(name, '/') || name[0] == '.' ||
	    strcmp(name + len - 4, ".whl") != 0 ||
	    strncmp(name, planned, pre) != 0 || strchr(name + pre, '-')) {
		sp_err_set(e, "worker named the wheel '%s', which does not "
			      "match '%s'",
			   name, planned);
		return NULL;
	}
	dir = path_dirname(final);
	path = dir ? path_join(dir, name) : NULL;
	free(dir);
	if (!path)
		sp_err_set(e, "out of memory");
	return path;
}

void done_report(struct build *b, struct job *jb, const char *dest,
		 int reused)
{
	static const char *const extra[] = {"platform_tag", "grafted",
					    "repair"};
	const json_t *res = jb->result;
	json_t *w;
	size_t i;

	w = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:O,s:O,s:O}", "path", dest,
		      "cargo_path", jb->cargo_path, "distribution",
		      jb->spec.distribution, "version", jb->spec.version,
		      "module", jb->spec.module, "size",
		      json_integer_value(json_object_get(res, "size")),
		      "sha256", json_object_get(res, "sha256"), "needed",
		      json_object_get(res, "needed"), "patch",
		      json_object_get(res, "patch"));
	for (i = 0; w && i < sizeof(extra) / sizeof(*extra); i++)
		if (json_object_get(res, extra[i]) &&
		    !(b->brief && !strcmp(extra[i], "repair")))
			json_object_set(w, extra[i],
					json_object_get(res, extra[i]));
	if (w && reused)
		json_object_set_new(w, "reused", json_true());
	if (w) {
		json_array_append(b->wheels, w);
		json_object_set_new(w, "event", json_string("wheel"));
		client_event(b, w);
	}
	/* A reused wheel is counted in one line for its turn
	 * (build_stage_later): one line each was 100 writes to the log, on
	 * the build's critical path, and most of a monorepo's log. */
	if (!reused)
		slog("build %lld: wrote '%s'", (long long)b->id, dest);
}

static void done_release(struct done_wheel *d)
{
	free(d->dir);
	free(d->final);
	free(d->patch);
	free(d->path);
	json_decref(d->result);
	memset(d, 0, sizeof(*d));
}

/* The builds of the wheels in s->done fail with msg; the list empties. */
static void done_fail(struct server *s, const char *msg)
{
	size_t k;

	for (k = 0; k < s->ndone; k++) {
		build_fail(s, s->done[k].b, "%s", msg);
		done_release(&s->done[k]);
	}
	s->ndone = 0;
}

/*
 * Makes every pending wheel's rename durable, then journals their "done"
 * (with the patch status and any new name) in one commit.  A directory is
 * fsynced once however many wheels it got.  A wheel whose directory
 * cannot be fsynced fails its build and stays "writing", which replay
 * settles from the disk.
 */
void done_flush(struct server *s)
{
	struct sp_err e;
	size_t k, i, n = 0;
	int rc;

	for (k = 0; k < s->ndone; k++) {
		const char *dir = s->done[k].dir;

		for (i = 0; dir && i < k; i++)
			if (s->done[i].dir && strcmp(s->done[i].dir, dir) == 0)
				dir = NULL; /* fsynced already */
		if (!dir || fsx_fsync_dir(dir, &e) == 0)
			continue;
		/* Drop every wheel of that directory, this one last. */
		for (i = s->ndone; i-- > k;) {
			struct done_wheel *d = &s->done[i];

			if (d->dir && strcmp(d->dir, dir) == 0) {
				build_fail(s, d->b, "%s", e.msg);
				done_release(d);
			}
		}
	}
	/* Keep the wheels whose directory is durable. */
	for (k = 0; k < s->ndone; k++)
		if (s->done[k].dir)
			s->done[n++] = s->done[k];
	s->ndone = n;
	if (!s->ndone)
		return;
	if (journal_begin(s->j, &e) < 0) {
		done_fail(s, e.msg);
		return;
	}
	for (k = 0; k < s->ndone; k++) {
		const struct done_wheel *d = &s->done[k];

		if ((d->patch && journal_artifact_patch(s->j, d->art_id,
							d->patch, &e) < 0) ||
		    (d->final &&
		     journal_wheel_final(s->j, d->id, d->final, &e) < 0) ||
		    journal_wheel_done(s->j, d->id, d->size, d->sha256,
				       d->renamed_ns, &e) < 0) {
			journal_rollback(s->j);
			done_fail(s, e.msg);
			return;
		}
		/* Recorded with its "done": a wheel is reused only once it
		 * is durable.  A wheel that cannot be recorded is only not
		 * reused next time. */
		rc = d->digest[0] ? reuse_record(s->j, d->digest, d->b->id,
						 d->path, d->result, &e)
				  : 1;
		if (rc == 0)
			slog("build %lld: not recorded for reuse: %s",
			     (long long)d->b->id, e.msg);
		if (rc < 0) {
			journal_rollback(s->j);
			done_fail(s, e.msg);
			return;
		}
	}
	if (journal_commit(s->j, &e) < 0) {
		done_fail(s, e.msg);
		return;
	}
	for (k = 0; k < s->ndone; k++)
		done_release(&s->done[k]);
	s->ndone = 0;
}

/* Adds jb's wheel, which its worker renamed to dest, to the pending
 * "done"s. */
static int done_add(struct server *s, struct job *jb, const char *dest)
{
	const char *final = jb->spec.final_path;
	const char *patch = json_string_value(
		json_object_get(jb->result, "patch"));
	int renamed = final && strcmp(dest, final) != 0;
	int patched = patch && strcmp(patch, "none") != 0;
	struct done_wheel *d;
	struct timespec t;

	if (s->ndone == s->done_cap) {
		size_t ncap = s->done_cap ? 2 * s->done_cap : 16;

		d = realloc(s->done, ncap * sizeof(*d));
		if (!d)
			return -1;
		s->done = d;
		s->done_cap = ncap;
	}
	d = &s->done[s->ndone++];
	memset(d, 0, sizeof(*d));
	d->id = jb->wheel_id;
	d->art_id = jb->art_id;
	d->size = (int64_t)json_integer_value(
		json_object_get(jb->result, "size"));
	snprintf(d->sha256, sizeof(d->sha256), "%s",
		 json_string_value(json_object_get(jb->result, "sha256"))
			 ?: "");
	d->b = jb->b;
	memcpy(d->digest, jb->digest, sizeof(d->digest));
	d->result = json_incref(jb->result);
	d->path = strdup(dest);
	clock_gettime(CLOCK_REALTIME, &t);
	d->renamed_ns = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
	/* The folder the worker wrote into: the resolved one. */
	d->dir = strdup(jb->spec.out_dir_resolved ?: ".");
	if (renamed)
		d->final = strdup(dest);
	if (patched)
		d->patch = strdup(patch);
	if (!d->dir || !d->path || (renamed && !d->final) ||
	    (patched && !d->patch)) {
		done_release(d);
		s->ndone--;
		return -1;
	}
	return 0;
}

/*
 * Takes in the wheels of every job that finished since the last turn of
 * the loop.  Each worker renamed its wheel itself, after fsyncing it
 * (worker/build_wheel.h), so nothing is journaled or renamed here, per
 * wheel or per batch: the journal named each temporary before its job was
 * sent, and replay removes one that was not renamed.  The wheels' "done"
 * waits (done_flush): until the build answers, until no job runs, or until
 * DONE_MAX wheels wait.  Then each directory is fsynced once and all of
 * them are journaled in one commit, with their patch status and any name a
 * repair gave them.  Nothing depends on it sooner: a wheel at its name is
 * complete, whatever the journal says of it; one whose rename did not
 * survive a power loss still has its temporary, which replay removes
 * (journal/replay.c).
 *
 * A link-mode artifact stays staged until its build ends (a hard link
 * costs cargo nothing) and goes back then in one batch; a moved one goes
 * back now, since cargo's output is missing meanwhile.
 */
void finish_ready(struct server *s)
{
	struct build *b;
	struct sp_err e;
	size_t i;

	for (b = s->builds; b; b = b->next) {
		for (i = 0; i < b->njobs; i++) {
			struct job *jb = &b->jobs[i];
			const char *final, *wheel;
			char *dest = NULL;

			if (!jb->result)
				continue;
			if (b->failed)
				goto next;
			final = jb->spec.final_path;
			wheel = json_string_value(
				json_object_get(jb->result, "wheel"));
			/* The worker's name is held to the planned one. */
			dest = wheel_dest(final, jb->result, &e);
			if (dest && (!wheel || strcmp(wheel, dest))) {
				sp_err_set(&e,
					   "worker put the wheel at '%s', not "
					   "'%s'",
					   wheel ? wheel : "", dest);
				free(dest);
				dest = NULL;
			}
			if (!dest) {
				build_fail(s, b, "%s", e.msg);
				goto next;
			}
			if (done_add(s, jb, dest) < 0) {
				build_fail(s, b, "out of memory");
				goto next;
			}
			done_report(b, jb, dest, 0);
			if (b->mode != STAGE_LINK)
				give_back_one(s, jb);
next:
			json_decref(jb->result);
			jb->result = NULL;
			free(dest);
		}
	}
	if (!s->busy || s->ndone >= DONE_MAX)
		done_flush(s);
}
