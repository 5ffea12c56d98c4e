/*
 * coord.h - the coordinator's private types, shared by the files of
 * server/ and by nothing outside it (server.h is the public face).
 *
 * One header for the whole daemon, as OpenBSD's ntpd keeps ntpd.h: the
 * coordinator is one process with one state (struct server), and its
 * files are the parts of one loop:
 *
 *   server.c   start-up, the poll loop, signals, the log (slog)
 *   control.c  client connections: the listening socket, framed
 *              requests and their answers (status, recover, stop)
 *   build.c    a build's lifecycle: the request checked and turned into
 *              jobs, staging, giving artifacts back, failure, the result
 *   sched.c    jobs to workers, their progress and results, reaping
 *   done.c     finished wheels: checked, reported, and their "done"
 *              journaled in batches
 *   reuse.c    incremental packaging: a job's digest, and whether the
 *              wheel an earlier build wrote for it may be given again
 *   pool.c     the worker processes (pool.h)
 *   sockpath.c where the socket lives (sockpath.h)
 *
 * Everything runs on the loop's one thread; nothing here locks.  The
 * functions declared below are the ones another file of server/ calls;
 * each file keeps the rest static.
 */
#ifndef SPOKE_SERVER_COORD_H
#define SPOKE_SERVER_COORD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "common/err.h"
#include "common/frame.h"
#include "journal/stage.h"
#include "journal/statedir.h"
#include "server/pool.h"
#include "server/sockpath.h"
#include "worker/wheel_job.h"

/* server.h's public options; coord.h only points at them, so that the
 * public header and the private one do not include each other. */
struct server_opts;

struct done_wheel; /* done.c */

/* A job is one artifact of a build: staged, then packaged by a worker. */
struct job {
	struct build *b;
	/* What the worker is given (worker/wheel_job.h): filled from the request
	 * (client_build), then staged and planned (build_stage), and
	 * serialized once per hand-over (job_start, job_queue). */
	struct wheel_job spec;
	const char *cargo_path; /* spec.cargo_path */
	int64_t art_id, wheel_id;
	/* cargo's compile time of the package as the client estimated it
	 * (the artifact's "compile_s"), journaled with the wheel for spoke
	 * plan's weights; 0: none. */
	int64_t compile_ns;
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
	/* Incremental packaging (reuse.h): the digest of its inputs ("":
	 * none, so nothing is reused or recorded), and whether its wheel
	 * was reused (then it is neither staged nor started). */
	char digest[65];
	int reused;
	struct stat art_st; /* cargo's file when the digest was taken */
	/* Staged in the build's second turn (build_stage_later): cargo found
	 * its package fresh, so its wheel is likely reused. */
	int later;
};

/* A build request of one client, from the request to its result: on
 * s->builds until schedule() finishes and frees it. */
struct build {
	struct build *next;
	int64_t id;
	struct client *client; /* NULL once the client is gone */
	struct job *jobs;
	size_t njobs;
	enum stage_mode mode;
	int staged;   /* staging phase over (or skipped: failed first) */
	int later;    /* jobs wait for build_stage_later (struct job) */
	int failed;   /* build_fail(): its workers killed, nothing new starts */
	int give_back_pauses; /* ENOSPC pauses so far (give_back_again) */
	char error[2048]; /* why it failed: the first build_fail() message */
	json_t *report; /* give-back outcomes: the result's "artifacts" */
	json_t *wheels; /* wheels written: the result's "wheels" */
	int bad;	/* staged files that could not be given back */
	int running;	/* its jobs that hold a worker (struct job, w) */
	int max_jobs;	/* -j: most workers at once for this build */
	int jobserver;	/* the client holds make jobserver tokens */
	int quiet;	/* the client wants no events but "slots" */
	int brief;	/* the client shows no wheel's "repair" report */
	int force;	/* --force: write every wheel, reuse none */
	int granted;	/* tokens the client holds for us */
	int wanted;	/* extra slots last asked of the client */
	long job_ms;	/* the time its finished jobs took, summed */
	size_t jobs_timed; /* the jobs job_ms sums */
};

/* A connection on the coordinator's socket, on s->clients until
 * clients_sweep() frees it. */
struct client {
	struct client *next;
	int fd;
	struct frame_reader rd;
	struct build *build; /* its running build, or NULL */
	int wants_stop;	/* sent stop: answered once no build is left */
	int dead;	/* gone or dropped: clients_sweep() frees it */
	const char *gone; /* why a live peer was dropped, for its build */
	/* Frames not yet written to the client: out[out_off..out_len) of
	 * out_cap bytes; NULL while nothing waits. */
	uint8_t *out;
	size_t out_off, out_len, out_cap;
};

/* The coordinator: everything its files share, one per process. */
struct server {
	const struct server_opts *o;
	char *state_dir; /* sd.path */
	struct statedir sd; /* held for the coordinator's life */
	/* The socket's folder, checked and held (sockpath.h); sock is its
	 * address through that folder's descriptor, for bind and unlink. */
	struct sockpath sp;
	const char *sock;
	struct journal *j; /* the coordinator is its only writer */
	int lock_fd, listen_fd;
	struct client *clients;
	struct build *builds;
	struct pool pool;
	int busy; /* workers holding a current job (w->job; not w->next) */
	/* Wheels in place whose directory fsync and "done" wait
	 * (finish_ready, done_flush). */
	struct done_wheel *done;
	size_t ndone, done_cap;
	long queue_job_ms; /* QUEUE_JOB_MS, or SPOKE_QUEUE_JOB_MS */
	/* Stop asked (spoke stop, SIGTERM, SIGINT, a client of another
	 * version): no new builds; the loop ends once the builds are done. */
	int stopping;
	time_t last_active; /* the last request or connection, for idle exit */
	/* Pruning (journal/prune.h): the builds kept, the rows a step
	 * deletes, and what is left to do in idle time. */
	int keep_builds, prune_rows;
	int prune_due;	 /* a build ran since pruning last ran out */
	int vacuum_tried; /* this coordinator converted the journal, or failed */
};

/* server.c */

/* Writes one line to the coordinator's log (stderr, the log file when it
 * runs as a daemon), stamped with the UTC time and the pid, in a single
 * write(2). */
void slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* control.c: client connections */

/* Creates the coordinator's socket (sockpath.h) in s->sp, binds it (mode
 * 0600), listens on it into s->listen_fd and records its path in the
 * state directory.  Returns 0, or -1 with e set. */
int listen_on(struct server *s, struct sp_err *e);

/* Accepts one pending connection on s->listen_fd into s->clients; one from
 * another user is refused and closed. */
void client_accept(struct server *s);

/* Reads what c's socket holds and handles every complete request in it
 * (build, recover, status, stop, grant).  A peer that breaks the protocol
 * gets an error and is marked dead; clients_sweep frees it. */
void client_input(struct server *s, struct client *c);

/* Whether frames wait in c's queue for its socket. */
int client_pending(const struct client *c);

/* Writes as much of c's queue as its socket takes without waiting. */
void client_flush(struct client *c);

/* Queues obj (owned: always released) as one frame of type for c and
 * writes what the socket takes now; never blocks.  c may be NULL or dead,
 * and then nothing is sent. */
void client_send(struct client *c, uint32_t type, json_t *obj);

/* Sends the event ev (owned) to b's client if it is there and wants it (a
 * quiet client gets only "slots"). */
void client_event(struct build *b, json_t *ev);

/* Frees the clients marked dead, failing the build each one had. */
void clients_sweep(struct server *s);

/* Gives every client up to seconds to read its queue, at exit. */
void clients_drain(struct server *s, int seconds);

/* Closes c's connection and frees what it holds, not c itself. */
void client_release(struct client *c);

/* build.c: a build's lifecycle */

/* Handles a build request: checks it, journals the build and adds it,
 * with one job per artifact, to s->builds; or answers c with the error.
 * req stays the caller's. */
void client_build(struct server *s, struct client *c, json_t *req);

/* Whether no cargo output of b is held by another staged build. */
int build_can_start(struct server *s, struct build *b);

/* Stages b's artifacts and journals its wheels' intents, filling each
 * job's spec with the paths its worker needs.  Failure fails b.  When the
 * client said which packages cargo compiled in this run ("compile_s"),
 * only their jobs are staged now, and the others, whose wheels are likely
 * reused, wait for build_stage_later: the wheels to write go to workers
 * first, and the reuse checks run beside them. */
void build_stage(struct server *s, struct build *b);

/* Stages the jobs build_stage left for later (b->later), the same way. */
void build_stage_later(struct server *s, struct build *b);

/* Fails b with the message (the first one counts), kills its workers and
 * gives its artifacts back now.  May be called again. */
void build_fail(struct server *s, struct build *b, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Gives jb's artifact back now (its wheel is done, its mode is move);
 * a failure fails its build. */
void give_back_one(struct server *s, struct job *jb);

/* Whether b has nothing left running or waiting: it may finish. */
int build_done(const struct build *b);

/* Ends b: its "done"s flushed, everything it left given back, the build
 * journaled as ended and its result sent to its client.  b is not freed. */
void build_finish(struct server *s, struct build *b);

/* Frees b and its jobs (b is already out of s->builds). */
void build_free(struct build *b);

/* sched.c: jobs to workers */

/* One turn of scheduling: stages builds that may start, hands waiting jobs
 * to idle workers within the limits, queues jobs behind busy workers,
 * asks jobserver clients for slots, and finishes (and frees) the builds
 * that are done. */
void schedule(struct server *s);

/* Handles what w's channel holds: progress events, results, or the end of
 * the channel (the worker is lost and its job fails). */
void worker_input(struct server *s, struct worker *w);

/* Reaps the workers that exited, failing the jobs they still held. */
void reap(struct server *s);

/* done.c: finished wheels */

/* Takes in every successful result since the last turn (checks where its
 * wheel is, tells the client, gives back a moved artifact) and flushes the
 * pending "done"s when no job runs or enough have gathered. */
void finish_ready(struct server *s);

/* Fsyncs the pending wheels' directories and journals their "done" in one
 * commit, with what reuse.h records of each; a wheel that cannot be made
 * durable fails its build. */
void done_flush(struct server *s);

/* Tells b's client about jb's wheel at dest, from jb->result: "wheel"
 * events and the result's "wheels", marked "reused" when it was. */
void done_report(struct build *b, struct job *jb, const char *dest,
		 int reused);

#endif
