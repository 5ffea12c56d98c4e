/*
 * sched.c - jobs to workers: which waiting job goes to which worker and
 * when (the coordinator's -j, each build's -j and jobserver slots, jobs
 * queued behind busy workers), what the workers send back, and the reaping
 * of workers that exited.
 */
#include "server/coord.h"
#include "server/server.h"

#include <errno.h>
#include <sys/wait.h>
#include <time.h>

#include "common/fault.h"
#include "journal/journal.h"

/* A monotonic clock in milliseconds, never 0. */
static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000 + 1;
}

/* How many jobs of b wait for a worker (not yet handed over); *first,
 * when not NULL, gets the index of the first of them (b->njobs: none). */
static size_t jobs_waiting(const struct build *b, size_t *first)
{
	size_t i, n = 0;

	if (first)
		*first = b->njobs;
	for (i = 0; i < b->njobs; i++)
		if (!b->jobs[i].started && !b->jobs[i].later) {
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
	/* Serialized once per hand-over (worker/wheel_job.h). */
	msg = job_to_json(&jb->spec);
	rc = msg ? pool_send(w, msg, &e) : sp_err_set(&e, "out of memory");
	json_decref(msg);
	return job_sent(s, jb, rc, &e);
}

/*
 * Queues the next waiting job of the build that busy worker w works for
 * behind its current job, so that the worker goes on as soon as it has
 * sent its result instead of waiting for the coordinator's loop (serve,
 * server.c) to read it: the coordinator spends much of each turn in the
 * batch's commit (done_flush), and small wheels would otherwise leave
 * their workers idle meanwhile.  Only a job of the same build: a build
 * that fails kills its workers, which must not take another build's job
 * along.  Only while the build's jobs are short (QUEUE_JOB_MS on average
 * so far): for long ones the coordinator's turn costs nothing, and a
 * queued job would wait for its worker even when another one came free
 * first.  The queued job does not count as running (it waits for the slot
 * its build already has).
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
void worker_input(struct server *s, struct worker *w)
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

void reap(struct server *s)
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

/* How many threads the job may deflate a large entry on
 * (worker/zip/pdeflate.h): one, while other jobs of its build wait for
 * slots; the last job to start gets the slots its build may still use (its
 * -j or jobserver limit, and the coordinator's), since no other job of this
 * build will take them.  So one big module uses every core it is given, and
 * -j 1 or a jobserver without spare tokens means one thread. */
static void job_threads(const struct server *s, const struct build *b,
			struct job *jb)
{
	int free = build_limit(b) - b->running, global = s->o->jobs - s->busy;
	size_t waiting = jobs_waiting(b, NULL);

	if (global < free)
		free = global;
	jb->spec.threads = (unsigned)(waiting > 1 || free < 1 ? 1 : free);
}

/* Hands b's waiting jobs to workers, as many as the limits allow. */
static void start_jobs(struct server *s, struct build *b)
{
	size_t i;

	for (i = 0; i < b->njobs && s->busy < s->o->jobs &&
		    b->running < build_limit(b) && !b->failed;
	     i++)
		if (!b->jobs[i].started && !b->jobs[i].later) {
			job_threads(s, b, &b->jobs[i]);
			if (!job_start(s, &b->jobs[i]))
				break;
		}
}

void schedule(struct server *s)
{
	struct build *b, **pp;
	size_t i;

	for (b = s->builds; b; b = b->next) {
		if (!b->staged && !b->failed && build_can_start(s, b))
			build_stage(s, b);
		if (!b->staged || b->failed)
			continue;
		start_jobs(s, b);
		/* The jobs of fresh packages: staged once the others run. */
		if (b->later) {
			build_stage_later(s, b);
			start_jobs(s, b);
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
