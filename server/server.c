#define _GNU_SOURCE
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/frame.h"
#include "common/dirs.h"
#include "common/fsx.h"
#include "common/tmpfile.h"
#include "common/version.h"
#include "journal/journal.h"
#include "journal/replay.h"
#include "journal/stage.h"
#include "journal/statedir.h"
#include "server/pool.h"
#include "server/sockpath.h"
#include "worker/job.h"
#include "common/pyname.h"

/* A job is one artifact of a build: staged, then packaged by a worker. */
struct job {
	struct build *b;
	/* What the worker is given (worker/job.h): filled from the request
	 * (client_build), then staged and planned (build_stage), and
	 * serialized once per hand-over (job_start, job_queue). */
	struct wheel_job spec;
	const char *cargo_path; /* spec.cargo_path */
	int64_t art_id, wheel_id;
	int staged;	/* journaled and staged */
	int started;	/* handed to a worker */
	int settled;	/* result handled (success or failure) */
	int handoffs;	/* workers that failed to take it */
	int queued;	/* sent to w behind its current job (w->next) */
	long began_ms;	/* when its worker started it (now_ms()) */
	/* The worker running it (or about to: queued): from the hand-over to
	 * its result, or, when the worker died or was killed first, until
	 * the process is reaped (until then it might still write). */
	struct worker *w;
	json_t *result;	/* a successful result waiting for finish_ready() */
};

struct build {
	struct build *next;
	int64_t id;
	struct client *client; /* NULL once the client is gone */
	struct job *jobs;
	size_t njobs;
	enum stage_mode mode;
	int staged;   /* staging phase over */
	int failed;
	int give_back_pauses; /* ENOSPC pauses so far (give_back_again) */
	char error[2048];
	json_t *report; /* give-back outcomes */
	json_t *wheels;
	int bad;
	int running;	/* its jobs that hold a worker (struct job, w) */
	int max_jobs;	/* -j: most workers at once for this build */
	int jobserver;	/* the client holds make jobserver tokens */
	int quiet;	/* the client wants no events but "slots" */
	int granted;	/* tokens the client holds for us */
	int wanted;	/* extra slots last asked of the client */
	long job_ms;	/* the time its finished jobs took, summed */
	size_t jobs_timed;
};

struct client {
	struct client *next;
	int fd;
	struct frame_reader rd;
	struct build *build;
	int wants_stop;
	int dead;
	const char *gone; /* why a live peer was dropped, for its build */
	/* Frames not yet written to the client: out[out_off..out_len) of
	 * out_cap bytes; NULL while nothing waits. */
	uint8_t *out;
	size_t out_off, out_len, out_cap;
};

/* A client may leave this many bytes unread (beyond what its socket
 * holds) before it counts as gone: one that does not read must not hold up
 * the coordinator, nor grow its queue without end.  A queue under the
 * limit always takes one more frame, however large, so a result never
 * loses its client; only a peer that has stopped reading falls this far
 * behind. */
#define CLIENT_QUEUE_MAX (8u << 20)

/* A wheel its worker renamed into place whose "done" is not journaled
 * yet.  dir is the directory it was renamed in, which must be fsynced
 * first; final is its name when a repair changed the planned one, and
 * patch its artifact's patch status when not "none". */
struct done_wheel {
	int64_t id, art_id, size;
	int64_t renamed_ns; /* when its result came (CLOCK_REALTIME) */
	char sha256[65];
	char *dir, *final, *patch;
	struct build *b;
};

/* A job is queued behind a busy worker's only while its build's jobs
 * took less than this on average (job_queue).  The tests raise it with
 * SPOKE_QUEUE_JOB_MS, to see queued jobs while SPOKE_FAULT_DELAY slows
 * the workers down. */
#define QUEUE_JOB_MS 50

/* Pending "done" rows are flushed at the latest when this many have
 * gathered, so that a long build's log keeps up and replay has little to
 * decide. */
#define DONE_MAX 256

struct server {
	const struct server_opts *o;
	char *state_dir; /* sd.path */
	struct statedir sd; /* held for the coordinator's life */
	/* The socket's folder, checked and held (sockpath.h); sock is its
	 * address through that folder's descriptor, for bind and unlink. */
	struct sockpath sp;
	const char *sock;
	struct journal *j;
	int lock_fd, listen_fd;
	struct client *clients;
	struct build *builds;
	struct pool pool;
	int busy; /* workers holding a job */
	/* Wheels in place whose directory fsync and "done" wait
	 * (finish_ready, done_flush). */
	struct done_wheel *done;
	size_t ndone, done_cap;
	long queue_job_ms; /* QUEUE_JOB_MS, or SPOKE_QUEUE_JOB_MS */
	int stopping;
	time_t last_active;
};

static int sig_pipe[2] = {-1, -1};

/* A monotonic clock in milliseconds, never 0. */
static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000 + 1;
}

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a wake-up is pending anyway */
	}
	errno = saved;
}

static void slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void slog(const char *fmt, ...)
{
	char line[4096];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;
	size_t n;

	/* One write per line: stderr is unbuffered, and the log is shared
	 * with the workers. */
	gmtime_r(&t, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "[%ld] ",
			      (long)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	if (write(2, line, n) < 0) {
		/* nowhere else to say it */
	}
}

static int client_pending(const struct client *c)
{
	return c->out_off < c->out_len;
}

/* Writes as much of c's queue as its socket takes now, without waiting;
 * the rest goes when poll() finds the socket writable.  A client that
 * cannot be written to is dropped. */
static void client_flush(struct client *c)
{
	while (client_pending(c)) {
		ssize_t w = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				if (!c->dead)
					slog("client %d: cannot send message: "
					     "%s",
					     c->fd, strerror(errno));
				c->dead = 1;
			}
			return;
		}
		c->out_off += (size_t)w;
	}
	free(c->out);
	c->out = NULL;
	c->out_off = c->out_len = c->out_cap = 0;
}

/* Queues a frame for a client and writes what its socket takes at once.
 * Never blocks: a client that stopped reading only grows its own queue,
 * and past CLIENT_QUEUE_MAX it is dropped, its build cancelled as if it
 * had gone away. */
static void client_send(struct client *c, uint32_t type, json_t *obj)
{
	struct sp_err e;
	uint8_t *frame = NULL, *nb;
	size_t len;

	if (!c || c->dead || !obj)
		goto out;
	if (c->out_len - c->out_off > CLIENT_QUEUE_MAX) {
		slog("client %d dropped: it left more than %u bytes unread",
		     c->fd, CLIENT_QUEUE_MAX);
		c->gone = "client stopped reading its messages";
		c->dead = 1;
		goto out;
	}
	if (frame_encode(type, obj, &frame, &len, &e) < 0) {
		slog("client %d: %s", c->fd, e.msg);
		c->dead = 1;
		goto out;
	}
	/* Move the unwritten bytes to the front once the written ones are
	 * the larger part: each byte is moved O(1) times on average. */
	if (c->out_off > 0 && c->out_off >= c->out_len - c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_cap - c->out_len < len) {
		size_t ncap = c->out_cap ? 2 * c->out_cap : len;

		if (ncap < c->out_len + len)
			ncap = c->out_len + len;
		nb = realloc(c->out, ncap);
		if (!nb) {
			slog("client %d: out of memory", c->fd);
			c->dead = 1;
			goto out;
		}
		c->out = nb;
		c->out_cap = ncap;
	}
	memcpy(c->out + c->out_len, frame, len);
	c->out_len += len;
	client_flush(c);
out:
	free(frame);
	json_decref(obj);
}

/* Sends ev to b's client, if it is still there and wants it: a quiet
 * client (one that prints nothing but the result) gets only the "slots"
 * its jobserver needs, which spares both sides two messages per wheel. */
static void client_event(struct build *b, json_t *ev)
{
	const char *kind = json_string_value(json_object_get(ev, "event"));

	if (b->client && (!b->quiet || (kind && !strcmp(kind, "slots"))))
		client_send(b->client, MSG_EVENT, ev);
	else
		json_decref(ev);
}

static void build_fail(struct server *s, struct build *b, const char *fmt,
		       ...) __attribute__((format(printf, 3, 4)));

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

	if (journal_open_artifacts(s->j, b->id, &a, &n, &e) < 0) {
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

/* Gives back every artifact of b now, while its workers may still run:
 * they hold open descriptors of what they read, so they do not care. */
static void build_give_back_artifacts(struct server *s, struct build *b)
{
	struct journal_artifact *a = NULL;
	struct sp_err e;
	size_t n = 0, i;

	if (journal_open_artifacts(s->j, b->id, &a, &n, &e) < 0) {
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

static void build_fail(struct server *s, struct build *b, const char *fmt, ...)
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
	for (i = 0; i < njobs; i++)
		if (job_from_request(req, i, &jobs[i].spec, e) < 0)
			return -1;
	return 0;
}

static void job_release(struct job *jb)
{
	wheel_job_release(&jb->spec);
	json_decref(jb->result);
}

static void build_free(struct build *b)
{
	size_t i;

	for (i = 0; i < b->njobs; i++)
		job_release(&b->jobs[i]);
	free(b->jobs);
	json_decref(b->report);
	json_decref(b->wheels);
	free(b);
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
static int build_can_start(struct server *s, struct build *b)
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

static void build_stage(struct server *s, struct build *b)
{
	struct stage_item *items;
	struct sp_err e;
	size_t i;

	b->staged = 1;
	items = calloc(b->njobs, sizeof(*items));
	if (!items) {
		build_fail(s, b, "out of memory");
		return;
	}
	for (i = 0; i < b->njobs; i++) {
		struct job *jb = &b->jobs[i];
		char *staged = NULL;
		uint32_t token;

		/* Build ids start again at 1 in a new journal; the random
		 * part keeps a new build off names that a lost journal's
		 * staged files may still hold. */
		if (getrandom(&token, sizeof(token), 0) != sizeof(token))
			token = (uint32_t)time(NULL) ^ (uint32_t)getpid();
		if (asprintf(&staged, "%s/staged/%lld-%zu-%08x-%s",
			     s->state_dir, (long long)b->id, i, token,
			     fsx_basename(jb->cargo_path)) < 0) {
			build_fail(s, b, "out of memory");
			goto out;
		}
		free(jb->spec.staged_path);
		jb->spec.staged_path = staged;
		items[i].cargo_path = jb->cargo_path;
		items[i].staged_path = jb->spec.staged_path;
	}
	/* The whole build in one batch: a fixed number of fsyncs however
	 * many artifacts it has. */
	if (stage_batch(s->j, &s->sd, b->id, items, b->njobs, b->mode,
			&e) < 0) {
		build_fail(s, b, "%s", e.msg);
		goto out;
	}
	for (i = 0; i < b->njobs; i++) {
		struct job *jb = &b->jobs[i];

		jb->art_id = items[i].artifact_id;
		/* Echoed in every event and result of the job (job.h). */
		jb->spec.id = (uint64_t)jb->art_id;
		jb->staged = 1;
		/* The worker reads the staged file by path: it checks that
		 * it finds this inode there, read through staged/'s held
		 * descriptor (worker/build_wheel.c, check_staged_ident). */
		{
			struct fsx_at at = {
				s->sd.staged_fd,
				fsx_basename(items[i].staged_path),
				items[i].staged_path,
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
					  items[i].staged_path, "mode",
					  items[i].mode_used));
	}
out:
	free(items);
	if (b->failed)
		return;
	/* Every job carries the request's one out_dir (client_build).  It
	 * may hold symlinks (the user's path): resolved once here, made one
	 * component at a time, and the workers open the resolved path with
	 * none followed (dirs.h). */
	if (resolve_out_dir(b, &e) < 0 || journal_begin(s->j, &e) < 0) {
		build_fail(s, b, "%s", e.msg);
		return;
	}
	for (i = 0; i < b->njobs; i++) {
		struct job *jb = &b->jobs[i];
		const char *od = jb->spec.out_dir;
		/* The temporary is journaled where the worker writes it, in
		 * the resolved folder, so replay finds it even if the user's
		 * path leads elsewhere by then; the final name stays the
		 * user's, as results report it. */
		const char *od_res = jb->spec.out_dir_resolved;
		char *name, *final = NULL, *tmp = NULL, tname[NAME_MAX + 1];

		name = wheel_filename(jb->spec.distribution, jb->spec.version,
				      jb->spec.python_tag, jb->spec.abi_tag,
				      jb->spec.platform_tag);
		if (!name) {
			journal_rollback(s->j);
			build_fail(s, b, "cannot name the wheel of '%s'",
				   jb->cargo_path);
			return;
		}
		/* An unpredictable name (tmpfile.h), so that nobody else who
		 * may write the output folder can plant anything at it; it is
		 * journaled below, so replay removes one left behind. */
		if (tmpfile_name(tname, sizeof(tname), name, &e) < 0) {
			free(name);
			journal_rollback(s->j);
			build_fail(s, b, "%s", e.msg);
			return;
		}
		if (asprintf(&final, "%s/%s", od, name) < 0 ||
		    asprintf(&tmp, "%s/%s", od_res, tname) < 0) {
			free(name);
			free(final);
			journal_rollback(s->j);
			build_fail(s, b, "out of memory");
			return;
		}
		/* The job carries the name, its path and its temporary:
		 * the worker names nothing itself. */
		free(jb->spec.wheel_name);
		free(jb->spec.final_path);
		free(jb->spec.tmp_path);
		jb->spec.wheel_name = name;
		jb->spec.final_path = final;
		jb->spec.tmp_path = tmp;
		if (journal_wheel_intent(s->j, b->id, jb->art_id, tmp, final,
					 &jb->wheel_id, &e) < 0) {
			journal_rollback(s->j);
			build_fail(s, b, "%s", e.msg);
			return;
		}
	}
	/* Every wheel's intent in one commit, before any worker writes. */
	if (journal_commit(s->j, &e) < 0)
		build_fail(s, b, "%s", e.msg);
}

/* How many jobs of b wait for a worker (not yet handed over); *first,
 * when not NULL, gets the index of the first of them (b->njobs: none). */
static size_t jobs_waiting(const struct build *b, size_t *first)
{
	size_t i, n = 0;

	if (first)
		*first = b->njobs;
	for (i = 0; i < b->njobs; i++)
		if (!b->jobs[i].started) {
			if (first && !n)
				*first = i;
			n++;
		}
	return n;
}

/* Parts jb from its worker: after its result (the worker takes the next
 * job), or when the worker never had the whole job. */
static void job_detach(struct server *s, struct job *jb)
{
	if (jb->queued) {
		jb->w->next = NULL;
		jb->queued = 0;
	} else {
		jb->w->job = NULL;
		s->busy--;
		jb->b->running--;
	}
	jb->w = NULL;
}

/* The worker sent its current job's result, so it runs its queued job
 * now. */
static void job_promote(struct server *s, struct worker *w)
{
	struct job *jb = w->next;

	if (!jb || w->job)
		return;
	w->next = NULL;
	w->job = jb;
	jb->queued = 0;
	jb->began_ms = now_ms();
	s->busy++;
	jb->b->running++;
}

/* What became of a hand-over (pool_send's or pool_queue's rc < 1).
 * Returns 1 when the job is the worker's or failed its build, 0 when it
 * is back among the waiting jobs. */
static int job_sent(struct server *s, struct job *jb, int rc,
		    struct sp_err *e)
{
	if (rc < 0)
		pool_kill(jb->w);
	if (rc == -2 && ++jb->handoffs < 3) {
		/* A worker that died, just before its poll slot said so: it
		 * never had the whole job, so another may run it. */
		slog("%s: the job goes to another worker", e->msg);
		job_detach(s, jb);
		jb->started = 0;
		return 0;
	}
	if (rc < 0) {
		/* The job stays with the killed worker until it is reaped. */
		jb->settled = 1;
		build_fail(s, jb->b, "%s", e->msg);
	}
	return 1;
}

/* Hands jb to an idle worker.  Returns 0 when no worker is free yet (the
 * job waits for one), 1 when the job was handed over or failed. */
static int job_start(struct server *s, struct job *jb)
{
	struct worker *w;
	struct sp_err e;
	json_t *msg;
	int rc;

	w = pool_get(&s->pool, &e);
	if (!w && !e.msg[0])
		return 0;
	jb->started = 1;
	if (!w) {
		build_fail(s, jb->b, "%s", e.msg);
		jb->settled = 1;
		return 1;
	}
	w->job = jb;
	jb->w = w;
	jb->began_ms = now_ms();
	s->busy++;
	jb->b->running++;
	fault_point("job");
	/* Serialized once per hand-over (worker/job.h). */
	msg = job_to_json(&jb->spec);
	rc = msg ? pool_send(w, msg, &e) : sp_err_set(&e, "out of memory");
	json_decref(msg);
	return job_sent(s, jb, rc, &e);
}

/*
 * Queues the next waiting job of the build that busy worker w works for
 * behind its current job, so that the worker goes on as soon as it has
 * sent its result instead of waiting for this loop to read it: the
 * coordinator spends much of each turn in the batch's commit, and small
 * wheels would otherwise leave their workers idle meanwhile.  Only a job
 * of the same build: a build that fails kills its workers, which must
 * not take another build's job along.  Only while the build's jobs are
 * short (QUEUE_JOB_MS on average so far): for long ones the coordinator's
 * turn costs nothing, and a queued job would wait for its worker even
 * when another one came free first.  The queued job does not count as
 * running (it waits for the slot its build already has).
 */
static void job_queue(struct server *s, struct worker *w)
{
	struct job *cur = w->job, *jb;
	struct build *b;
	struct sp_err e;
	json_t *msg;
	size_t first, waiting;
	int rc, could;

	if (!cur || w->next || w->fd < 0 || cur->b->failed)
		return;
	b = cur->b;
	if (!b->jobs_timed ||
	    b->job_ms / (long)b->jobs_timed >= s->queue_job_ms)
		return;
	waiting = jobs_waiting(b, &first);
	/* Never a job that a slot the build may still get (its -j, a
	 * jobserver token, a worker another build frees) could start
	 * sooner: the last jobs of a build, and large modules under a
	 * jobserver, would run one after the other. */
	could = (b->max_jobs < s->o->jobs ? b->max_jobs : s->o->jobs) -
		b->running;
	if (!waiting || waiting <= (size_t)(could > 0 ? could : 0))
		return;
	jb = &b->jobs[first];
	jb->spec.threads = 1;
	fault_point("job");
	msg = job_to_json(&jb->spec);
	if (!msg)
		return; /* it waits for a free worker */
	rc = pool_queue(w, msg, &e);
	json_decref(msg);
	if (rc == 1)
		return; /* not queued (too large, or no room now): it waits */
	jb->started = 1;
	jb->queued = 1;
	jb->w = w;
	w->next = jb;
	job_sent(s, jb, rc, &e);
}

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
	const char *planned = fsx_basename(final);
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
	dir = fsx_dirname(final);
	path = dir ? fsx_join(dir, name) : NULL;
	free(dir);
	if (!path)
		sp_err_set(e, "out of memory");
	return path;
}

/* Gives one artifact back now (move mode: its cargo output is missing
 * until then).  A full disk is retried (give_back_again). */
static void give_back_one(struct server *s, struct job *jb)
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

/* Tells the client of b about a finished wheel. */
static void wheel_written(struct build *b, struct job *jb, const char *dest)
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
		if (json_object_get(res, extra[i]))
			json_object_set(w, extra[i],
					json_object_get(res, extra[i]));
	if (w) {
		json_array_append(b->wheels, w);
		json_object_set_new(w, "event", json_string("wheel"));
		client_event(b, w);
	}
	slog("build %lld: wrote '%s'", (long long)b->id, dest);
}

static void done_release(struct done_wheel *d)
{
	free(d->dir);
	free(d->final);
	free(d->patch);
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
static void done_flush(struct server *s)
{
	struct sp_err e;
	size_t k, i, n = 0;

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
	clock_gettime(CLOCK_REALTIME, &t);
	d->renamed_ns = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
	/* The folder the worker wrote into: the resolved one. */
	d->dir = strdup(jb->spec.out_dir_resolved ?: ".");
	if (renamed)
		d->final = strdup(dest);
	if (patched)
		d->patch = strdup(patch);
	if (!d->dir || (renamed && !d->final) || (patched && !d->patch)) {
		done_release(d);
		s->ndone--;
		return -1;
	}
	return 0;
}

/*
 * Takes in the wheels of every job that finished since the last turn of
 * the loop.  Each worker renamed its wheel itself, after fsyncing it
 * (worker/build_wheel.h), so nothing is journaled or renamed here, per wheel or
 * per batch: the journal named each temporary before its job was sent,
 * and replay removes one that was not renamed.  The wheels' "done" waits
 * (done_flush): until the build answers, until no job runs, or until
 * DONE_MAX wheels wait.  Then each directory is fsynced once and all of
 * them are journaled in one commit, with their patch status and any name
 * a repair gave them.  Nothing depends on it sooner: a wheel at its name
 * is complete, whatever the journal says of it; one whose rename did not
 * survive a power loss still has its temporary, which replay removes
 * (journal/replay.c).
 *
 * A link-mode artifact stays staged until its build ends (a hard link
 * costs cargo nothing) and goes back then in one batch; a moved one goes
 * back now, since cargo's output is missing meanwhile.
 */
static void finish_ready(struct server *s)
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
			wheel_written(b, jb, dest);
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

/* A worker's progress event: a patch status to journal ("required" once
 * analysis finds the artifact needs repair), passed on to the client. */
static void job_progress(struct server *s, struct job *jb, json_t *ev)
{
	const char *patch = json_string_value(json_object_get(ev, "patch"));
	struct sp_err e;

	if (patch && journal_artifact_patch(s->j, jb->art_id, patch, &e) < 0)
		build_fail(s, jb->b, "%s", e.msg);
	/* The job id is between the coordinator and its worker. */
	json_object_del(ev, "job");
	json_object_set_new(ev, "cargo_path", json_string(jb->cargo_path));
	client_event(jb->b, json_incref(ev));
}

/* A worker's result for its current job jb: a successful one waits for
 * finish_ready(), a failed one fails the build. */
static void job_result(struct server *s, struct job *jb, json_t *res)
{
	/* The worker has closed and fsynced the temporary wheel. */
	job_detach(s, jb);
	jb->b->job_ms += now_ms() - jb->began_ms;
	jb->b->jobs_timed++;
	if (jb->settled)
		return;
	jb->settled = 1;
	if (jb->b->failed)
		return;
	if (json_is_true(json_object_get(res, "ok"))) {
		jb->result = json_incref(res);
	} else {
		const char *msg =
			json_string_value(json_object_get(res, "error"));

		build_fail(s, jb->b, "%s", msg ? msg : "worker failed");
	}
}

/* The channel of w broke or carried nonsense: w is killed.  Its jobs stay
 * with it until the process is reaped: until then it might still
 * write. */
static void worker_lost(struct server *s, struct worker *w, const char *msg)
{
	struct job *jb = w->job;

	pool_kill(w);
	if (!jb) {
		slog("worker %ld: %s", (long)w->pid, msg);
	} else if (!jb->settled) {
		jb->settled = 1;
		build_fail(s, jb->b, "worker for '%s': %s", jb->cargo_path,
			   msg);
	}
}

/* Handles frames, end of file or an error on a worker's channel.  For each
 * job a worker sends any number of MSG_EVENT frames, then one
 * MSG_JOB_RESULT, and goes on with its queued job, if any; an idle worker
 * sends nothing.  Every complete frame read is handled now: the next
 * job's may follow a result in the same read. */
static void worker_input(struct server *s, struct worker *w)
{
	struct sp_err e;
	uint32_t type;
	json_t *res = NULL;
	long n;
	int rc;

	n = frame_reader_fill(&w->rd, w->fd, &e);
	if (n == -2)
		return;
	if (n <= 0) {
		/* A worker that dies with a queued job unread resets the
		 * channel instead of closing it. */
		worker_lost(s, w,
			    n == 0 || errno == ECONNRESET
				    ? "worker exited without a result"
				    : e.msg);
		return;
	}
	while ((rc = frame_reader_next(&w->rd, &type, &res, &e)) > 0) {
		struct job *jb = w->job;

		if (!jb || (type != MSG_EVENT && type != MSG_JOB_RESULT)) {
			json_decref(res);
			sp_err_set(&e, "bad message: type %u from %s", type,
				   jb ? "worker" : "idle worker");
			worker_lost(s, w, e.msg);
			return;
		}
		/* Every frame names its job: one for another job (a worker
		 * out of step with its channel) ends that worker and fails
		 * the job's build, never the coordinator. */
		if (job_reply_check(res, jb->spec.id, &e) < 0) {
			json_decref(res);
			worker_lost(s, w, e.msg);
			return;
		}
		if (type == MSG_EVENT) {
			if (!jb->settled)
				job_progress(s, jb, res);
		} else {
			job_result(s, jb, res);
			job_promote(s, w);
		}
		json_decref(res);
		res = NULL;
		/* Killed meanwhile, because its build failed. */
		if (w->fd < 0)
			return;
	}
	if (rc < 0)
		worker_lost(s, w, e.msg);
}

static void reap(struct server *s)
{
	struct worker *w;
	struct job *jobs[2];
	int status;
	pid_t pid;
	size_t k;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		w = pool_find(&s->pool, pid);
		if (!w)
			continue;
		/* Both jobs leave the worker before build_fail() kills the
		 * workers of their build: this pid is free for reuse now. */
		jobs[0] = w->job;
		jobs[1] = w->next;
		for (k = 0; k < 2; k++)
			if (jobs[k])
				job_detach(s, jobs[k]);
		pool_reaped(w);
		if (jobs[0] && WIFSIGNALED(status) && !jobs[0]->b->failed)
			slog("worker %ld killed by signal %d", (long)pid,
			     WTERMSIG(status));
		for (k = 0; k < 2; k++)
			if (jobs[k] && !jobs[k]->settled) {
				jobs[k]->settled = 1;
				build_fail(s, jobs[k]->b,
					   "worker for '%s' died",
					   jobs[k]->cargo_path);
			}
	}
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

static void build_finish(struct server *s, struct build *b)
{
	struct sp_err e;
	json_t *res;
	int ok, attempt;

	/* Its wheels' "done" first: replay below would take a wheel still
	 * "writing" for one interrupted (and forget its size and digest). */
	done_flush(s);
	/* Everything the build left: artifacts not yet given back, wheels
	 * whose workers were killed. */
	for (attempt = 0;; attempt++) {
		if (replay_all(s->j, &s->sd, b->id, NULL, 0, b->report,
			       &b->bad, &e) == 0)
			break;
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

static int build_done(const struct build *b)
{
	size_t i;

	if (!b->staged)
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

/* Workers this build may run at once: its -j, and under a make jobserver
 * the one implicit slot plus the tokens its client holds. */
static int build_limit(const struct build *b)
{
	int limit = b->max_jobs;

	if (b->jobserver && 1 + b->granted < limit)
		limit = 1 + b->granted;
	return limit;
}

/* Tells a jobserver client how many tokens the build could use now (its
 * running and waiting jobs, less the implicit slot), whenever that
 * changes: the client acquires or returns tokens to match. */
static void ask_slots(struct build *b)
{
	int want = b->running + (int)jobs_waiting(b, NULL) - 1;

	if (want > b->max_jobs - 1)
		want = b->max_jobs - 1;
	if (want < 0 || b->failed)
		want = 0;
	if (want == b->wanted)
		return;
	b->wanted = want;
	client_event(b, json_pack("{s:s,s:i}", "event", "slots", "want",
				  want));
}

/* How many threads the job may deflate a large entry on (pdeflate.h): one,
 * while other jobs of its build wait for slots; the last job to start gets
 * the slots its build may still use (its -j or jobserver limit, and the
 * coordinator's), since no other job of this build will take them.  So
 * one big module uses every core it is given, and -j 1 or a jobserver
 * without spare tokens means one thread. */
static void job_threads(const struct server *s, const struct build *b,
			struct job *jb)
{
	int free = build_limit(b) - b->running, global = s->o->jobs - s->busy;
	size_t waiting = jobs_waiting(b, NULL);

	if (global < free)
		free = global;
	jb->spec.threads = (unsigned)(waiting > 1 || free < 1 ? 1 : free);
}

static void schedule(struct server *s)
{
	struct build *b, **pp;
	size_t i;

	for (b = s->builds; b; b = b->next) {
		if (!b->staged && !b->failed && build_can_start(s, b))
			build_stage(s, b);
		if (!b->staged || b->failed)
			continue;
		for (i = 0; i < b->njobs && s->busy < s->o->jobs &&
			    b->running < build_limit(b) && !b->failed;
		     i++)
			if (!b->jobs[i].started) {
				job_threads(s, b, &b->jobs[i]);
				if (!job_start(s, &b->jobs[i]))
					break;
			}
		if (b->jobserver)
			ask_slots(b);
	}
	for (i = 0; i < s->pool.n; i++)
		job_queue(s, &s->pool.w[i]);
	for (pp = &s->builds; (b = *pp);) {
		if (b->failed && !b->staged)
			b->staged = 1;
		if (build_done(b)) {
			build_finish(s, b);
			*pp = b->next;
			build_free(b);
			continue;
		}
		pp = &b->next;
	}
}

static void client_build(struct server *s, struct client *c, json_t *req)
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
		 * per build (fsx_stamp_epoch_set). */
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

/* Replays what no running build holds, acknowledges the losses the
 * request names ("forget": [paths], "forget_lost": true), and answers with
 * the outcomes and the losses still reported. */
static void client_recover(struct server *s, struct client *c,
			   const json_t *req)
{
	int64_t skip[64];
	size_t nskip = 0;
	struct build *b;
	struct sp_err e;
	json_t *report = json_array(), *res, *losses = NULL;
	json_t *forget = json_object_get(req, "forget");
	int bad = 0, rc;

	for (b = s->builds; b && nskip < 64; b = b->next)
		skip[nskip++] = b->id;
	rc = replay_all(s->j, &s->sd, 0, skip, nskip, report, &bad, &e);
	if (rc == 0 &&
	    (json_array_size(forget) ||
	     json_is_true(json_object_get(req, "forget_lost"))) &&
	    replay_forget(s->j, forget, json_is_true(json_object_get(
						req, "forget_lost")),
			  &e) < 0)
		rc = -1;
	if (rc == 0 && !(losses = replay_losses(s->j, 1, &e)))
		rc = -1;
	res = json_pack("{s:s,s:b,s:o,s:o}", "command", "recover", "ok",
			rc == 0 && bad == 0 && json_array_size(losses) == 0,
			"artifacts", report, "losses",
			losses ? losses : json_array());
	if (rc < 0)
		json_object_set_new(res, "error", json_string(e.msg));
	client_send(c, MSG_RESULT, res);
}

static void client_status(struct server *s, struct client *c)
{
	json_t *builds = json_array(), *pending, *losses;
	struct build *b;
	struct sp_err e;

	size_t queued = 0;

	for (b = s->builds; b; b = b->next) {
		size_t i, running = 0, waiting = 0, done = 0;

		for (i = 0; i < b->njobs; i++) {
			running += b->jobs[i].w && !b->jobs[i].queued;
			waiting += b->jobs[i].queued;
			done += b->jobs[i].settled;
		}
		queued += waiting;
		json_array_append_new(
			builds,
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:b}", "build",
				  (json_int_t)b->id, "artifacts",
				  (json_int_t)b->njobs, "running",
				  (json_int_t)running, "queued",
				  (json_int_t)waiting, "done",
				  (json_int_t)done, "staged", b->staged));
	}
	pending = journal_status(s->j, &e);
	losses = pending ? replay_losses(s->j, 1, &e) : NULL;
	client_send(c, MSG_RESULT,
		    json_pack("{s:s,s:b,s:b,s:I,s:I,s:I,s:I,s:o,s:o,s:o}",
			      "command", "status", "ok", losses != NULL,
			      "coordinator", 1, "pid", (json_int_t)getpid(),
			      "workers", (json_int_t)s->busy, "queued",
			      (json_int_t)queued, "idle",
			      (json_int_t)(pool_live(&s->pool) -
					   (size_t)s->busy),
			      "builds", builds,
			      "unsettled", pending ? pending : json_array(),
			      "losses", losses ? losses : json_array()));
}

static void client_input(struct server *s, struct client *c)
{
	struct sp_err e;
	uint32_t type;
	json_t *msg;
	long n;
	int rc = 0;

	n = frame_reader_fill(&c->rd, c->fd, &e);
	if (n == -2)
		return;
	if (n <= 0) {
		c->dead = 1;
		return;
	}
	/* A client dropped by a reply (one that stopped reading) gets no
	 * more of its requests handled. */
	while (!c->dead &&
	       (rc = frame_reader_next(&c->rd, &type, &msg, &e)) > 0) {
		s->last_active = time(NULL);
		switch (type) {
		case MSG_BUILD:
			client_build(s, c, msg);
			break;
		case MSG_RECOVER:
			client_recover(s, c, msg);
			break;
		case MSG_STATUS:
			client_status(s, c);
			break;
		case MSG_STOP:
			s->stopping = 1;
			c->wants_stop = 1;
			break;
		case MSG_GRANT: {
			json_int_t slots = json_integer_value(
				json_object_get(msg, "slots"));

			if (c->build && slots >= 0 && slots <= 4096)
				c->build->granted = (int)slots;
			break;
		}
		default:
			rc = sp_err_set(&e, "bad message: unexpected type %u",
					type);
			break;
		}
		json_decref(msg);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		/* A peer that breaks the protocol is dropped; the others
		 * carry on. */
		slog("client %d dropped: %s", c->fd, e.msg);
		client_send(c, MSG_RESULT,
			    json_pack("{s:b,s:s}", "ok", 0, "error", e.msg));
		c->dead = 1;
	}
}

static void client_accept(struct server *s)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	int fd;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.uid != geteuid()) {
		slog("refused a connection from uid %u", (unsigned)cred.uid);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	frame_reader_init(&c->rd);
	c->next = s->clients;
	s->clients = c;
	s->last_active = time(NULL);
}

/* Closes c's connection and frees what it holds, not c itself. */
static void client_release(struct client *c)
{
	close(c->fd);
	frame_reader_release(&c->rd);
	free(c->out);
}

static void clients_sweep(struct server *s)
{
	struct client **pp, *c;

	for (pp = &s->clients; (c = *pp);) {
		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		if (c->build) {
			/* The client went away (Ctrl-C), or stopped reading:
			 * cancel its build and give its artifacts back now. */
			c->build->client = NULL;
			build_fail(s, c->build, "%s",
				   c->gone ? c->gone : "client disconnected");
		}
		/* What is left for a peer dropped for a bad frame (the
		 * error saying why) goes if its socket takes it now. */
		if (!c->gone)
			client_flush(c);
		*pp = c->next;
		client_release(c);
		free(c);
	}
}

static int listen_on(struct server *s, struct sp_err *e)
{
	struct sockaddr_un sun;
	mode_t old;

	if (sockpath_open(s->state_dir, 1, &s->sp, e) < 0)
		return -1;
	if (s->sp.note[0])
		slog("%s", s->sp.note);
	s->sock = s->sp.addr;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s->sock);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
					       SOCK_NONBLOCK,
			      0);
	if (s->listen_fd < 0)
		return sp_err_sys(e, "cannot create socket");
	/* We hold the state directory's lock, so a socket file left at our
	 * path is a dead coordinator's. */
	unlink(s->sock);
	old = umask(0177);
	if (bind(s->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		return sp_err_sys(e, "cannot bind '%s'", s->sp.path);
	}
	umask(old);
	if (listen(s->listen_fd, 64) < 0)
		return sp_err_sys(e, "cannot listen on '%s'", s->sp.path);
	/* A client started with another XDG_RUNTIME_DIR computes another
	 * path: the state directory, which both agree on, says ours. */
	return sockpath_record(s->sd.fd, s->state_dir, s->sp.path, e);
}

/* Before exiting: gives the clients up to seconds to take what is queued
 * for them (the last results, the answer to stop), without waiting
 * longer on one that does not read. */
static void clients_drain(struct server *s, int seconds)
{
	time_t end = time(NULL) + seconds;
	struct client *c;

	for (c = s->clients; c; c = c->next) {
		while (!c->dead && client_pending(c)) {
			struct pollfd p = {.fd = c->fd, .events = POLLOUT};
			time_t left = end - time(NULL);
			int rc;

			if (left <= 0)
				return;
			rc = poll(&p, 1, (int)left * 1000);
			if (rc < 0 && errno == EINTR)
				continue;
			if (rc <= 0)
				return;
			client_flush(c);
		}
	}
}

/* What a poll slot belongs to: lists change while events are handled, so
 * each slot remembers its owner rather than its position. */
struct slot {
	enum { SLOT_SIGNAL, SLOT_LISTEN, SLOT_CLIENT, SLOT_WORKER } kind;
	void *p;
};

static void serve(struct server *s)
{
	struct pollfd *pfd = NULL;
	struct slot *slot = NULL;
	size_t cap = 0;

	s->last_active = time(NULL);
	for (;;) {
		struct client *c;
		size_t n = 0, i, k;

		reap(s);
		schedule(s);
		clients_sweep(s);
		schedule(s);
		if (s->stopping && !s->builds) {
			for (c = s->clients; c; c = c->next)
				if (c->wants_stop)
					client_send(c, MSG_RESULT,
						    json_pack("{s:s,s:b}",
							      "command", "stop",
							      "ok", 1));
			break;
		}
		if (!s->clients && !s->builds &&
		    time(NULL) - s->last_active >= s->o->idle_timeout) {
			slog("idle for %d s: exiting", s->o->idle_timeout);
			break;
		}
		k = 2;
		for (c = s->clients; c; c = c->next)
			k++;
		k += s->pool.n;
		if (k > cap) {
			struct pollfd *np = realloc(pfd, k * sizeof(*pfd));
			struct slot *ns;

			if (np)
				pfd = np;
			ns = np ? realloc(slot, k * sizeof(*slot)) : NULL;
			if (!ns) {
				slog("out of memory");
				sleep(1);
				continue;
			}
			slot = ns;
			cap = k;
		}
		pfd[n] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
		slot[n++] = (struct slot){SLOT_SIGNAL, NULL};
		pfd[n] = (struct pollfd){.fd = s->stopping ? -1 : s->listen_fd,
					 .events = POLLIN};
		slot[n++] = (struct slot){SLOT_LISTEN, NULL};
		for (c = s->clients; c; c = c->next) {
			pfd[n] = (struct pollfd){
				.fd = c->fd,
				.events = (short)(POLLIN | (client_pending(c)
								    ? POLLOUT
								    : 0))};
			slot[n++] = (struct slot){SLOT_CLIENT, c};
		}
		for (i = 0; i < s->pool.n; i++) {
			if (s->pool.w[i].fd < 0)
				continue;
			pfd[n] = (struct pollfd){.fd = s->pool.w[i].fd,
						 .events = POLLIN};
			slot[n++] = (struct slot){SLOT_WORKER, &s->pool.w[i]};
		}
		if (poll(pfd, (nfds_t)n, 1000) < 0 && errno != EINTR) {
			slog("poll: %s", strerror(errno));
			continue;
		}
		/* Clients and builds are only freed at the top of the loop,
		 * so every owner below is still alive. */
		for (i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			switch (slot[i].kind) {
			case SLOT_SIGNAL: {
				unsigned char sigs[64];
				ssize_t r = read(sig_pipe[0], sigs,
						 sizeof(sigs));
				ssize_t x;

				for (x = 0; x < r; x++)
					if (sigs[x] == SIGTERM ||
					    sigs[x] == SIGINT)
						s->stopping = 1;
				break;
			}
			case SLOT_LISTEN:
				client_accept(s);
				break;
			case SLOT_CLIENT:
				c = slot[i].p;
				if (!c->dead && (pfd[i].revents & POLLOUT))
					client_flush(c);
				if (!c->dead && (pfd[i].revents & ~POLLOUT))
					client_input(s, c);
				break;
			case SLOT_WORKER: {
				struct worker *w = slot[i].p;

				/* Killed since poll() if its build failed. */
				if (w->fd >= 0)
					worker_input(s, w);
				break;
			}
			}
		}
		/* Idle workers get their next jobs before the wheels that just
		 * came in are taken in, so they work while the coordinator
		 * gives back moved artifacts and flushes "done". */
		schedule(s);
		finish_ready(s);
	}
	free(pfd);
	free(slot);
	/* Stop listening before letting the remaining clients go: a client
	 * that sees us close (one waiting to replace us) must not be able to
	 * connect to a socket nobody will accept on. */
	unlink(s->sock);
	close(s->listen_fd);
	s->listen_fd = -1;
	clients_drain(s, 5);
	/* No build runs, so every worker is idle: each exits when its
	 * channel closes, before the clients waiting for stop see us go. */
	pool_shutdown(&s->pool, 5);
	/* Every worker is gone: with the journal closed, nothing of ours
	 * writes any more, so the lock goes before the clients waiting for
	 * stop see us close.  Released after them, a `spoke serve` run the
	 * moment `spoke stop` returned found it still held. */
	journal_close(s->j);
	s->j = NULL;
	close(s->lock_fd);
	s->lock_fd = -1;
	/* The clients still connected (those waiting for stop) see the
	 * socket close now. */
	while (s->clients) {
		struct client *c = s->clients;

		s->clients = c->next;
		client_release(c);
		free(c);
	}
}

int server_run(const struct server_opts *o, struct sp_err *e)
{
	struct server s;
	json_t *report = NULL;
	char *real = NULL;
	int rc = -1, bad = 0, got;
	struct sigaction sa;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.lock_fd = s.listen_fd = s.sp.dfd = -1;
	s.queue_job_ms = getenv("SPOKE_QUEUE_JOB_MS")
				 ? atol(getenv("SPOKE_QUEUE_JOB_MS"))
				 : QUEUE_JOB_MS;
	fault_set_role("server");
	/* Checked and opened once: every stage, give-back and replay step
	 * of this coordinator's life goes through these descriptors. */
	if (statedir_open(&s.sd, o->state_dir, 1, e) < 0)
		return -1;
	real = s.sd.path;
	s.state_dir = real;
	got = statedir_lock_held(&s.sd, &s.lock_fd, e);
	if (got <= 0) {
		statedir_release(&s.sd);
		if (got == 0)
			sp_err_set(e, "a coordinator already runs for '%s'",
				   o->state_dir);
		return got == 0 ? 1 : -1;
	}
	if (o->daemon) {
		int fd;

		/* Relative to the held state directory, like every other
		 * file spoke opens there. */
		fd = openat(s.sd.fd, "log/coordinator.log",
			    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				    O_NOFOLLOW,
			    0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
	}
	slog("coordinator %s starting for '%s'", spoke_version(), real);
	/* SQLite names the journal's files by path; journal_hold_dir makes
	 * each of its opens go through the held directory instead, so a
	 * folder above swapped since the check (possible only under a
	 * folder listed in SPOKE_SAFE_DIRECTORIES) gives it no other file.
	 * statedir_check_journal then checks the result once more. */
	journal_hold_dir(s.sd.fd, real);
	s.j = journal_open(real, e);
	if (!s.j || statedir_check_journal(&s.sd, e) < 0)
		goto out;
	/* Replay before serving anything: a crashed build's cargo outputs go
	 * back first. */
	report = json_array();
	if (replay_all(s.j, &s.sd, 0, NULL, 0, report, &bad, e) < 0) {
		sp_err_wrap(e, "replay");
		goto out;
	}
	{
		size_t i;

		for (i = 0; i < json_array_size(report); i++) {
			char *line = json_dumps(json_array_get(report, i),
						JSON_COMPACT);

			slog("replay: %s", line ? line : "?");
			free(line);
		}
	}
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		sp_err_sys(e, "cannot create pipe");
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pool_init(&s.pool, (size_t)o->jobs, s.lock_fd, e) < 0 ||
	    listen_on(&s, e) < 0)
		goto out;
	slog("listening on '%s'", s.sp.path);
	serve(&s);
	rc = 0;
out:
	if (s.sock && s.listen_fd >= 0)
		unlink(s.sock);
	if (s.listen_fd >= 0)
		close(s.listen_fd);
	if (s.pool.w)
		pool_shutdown(&s.pool, 5);
	journal_close(s.j);
	journal_hold_dir(-1, NULL);
	free(s.done);
	json_decref(report);
	sockpath_release(&s.sp);
	statedir_release(&s.sd);
	if (s.lock_fd >= 0)
		close(s.lock_fd);
	return rc;
}
