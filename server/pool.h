/*
 * pool.h - the coordinator's workers: forked processes that live as long as
 * the coordinator, one per job slot, each running one job at a time.
 *
 * Why a pool and not a fork per job: for a thousand small wheels the fork
 * was the coordinator's largest cost.  Copying its page tables, then the
 * copy-on-write faults of every page either side touched while they still
 * shared it (each with a TLB shoot-down on the other CPU), and tearing the
 * worker's address space down again cost about as much CPU as packaging
 * the wheel did; a second worker barely helped (bench/README.md).
 *
 * A worker is forked on demand into an empty slot and then takes jobs over
 * its channel (fd 3) as MSG_JOB frames, answering each with MSG_EVENT
 * frames and one MSG_JOB_RESULT (worker/job.h), until the channel closes.
 * What made a forked worker safe carries over unchanged: it dies with its
 * coordinator (PR_SET_PDEATHSIG) and holds the state directory's lock
 * (fd 4, the same open file) until it is gone, so nobody replays the
 * journal while it could still write.  A worker that dies, or is killed
 * because its build failed, leaves an empty slot until it is reaped.
 */
#ifndef SPOKE_SERVER_POOL_H
#define SPOKE_SERVER_POOL_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"
#include "common/frame.h"

struct worker {
	pid_t pid; /* 0: the slot is empty (never forked, or reaped) */
	int fd;	   /* the coordinator's end of the channel; -1 once closed */
	struct frame_reader rd;
	void *job;  /* the caller's job it runs; NULL while idle */
	void *next; /* a job queued behind job (pool_queue), or NULL */
};

struct pool {
	struct worker *w;
	size_t n;
	int lock_fd; /* the state directory's lock, handed to every worker */
};

int pool_init(struct pool *p, size_t n, int lock_fd, struct sp_err *e);

/* An idle worker: a live one without a job, else a new one forked into an
 * empty slot.  Returns NULL with e->msg empty when every slot is taken (by
 * a busy worker, or a dead one not yet reaped), or with e set when the
 * fork failed. */
struct worker *pool_get(struct pool *p, struct sp_err *e);

/* Hands job to an idle worker w as one MSG_JOB frame.  The worker waits
 * for it, so this blocks only briefly; a worker that takes no byte for
 * several seconds counts as hung.  Returns 0, -1 when the job cannot be
 * sent at all (too large), or -2 when the worker failed to take it (it
 * died, or hung): it never had the whole frame, so it will not run the
 * job, which may go to another worker.  On error the caller kills w. */
int pool_send(struct worker *w, const json_t *job, struct sp_err *e);

/* Like pool_send, to a busy worker: the job waits in the channel and the
 * worker starts it as soon as it has sent its current result, without
 * waiting for the coordinator to read that result.  Only a small frame
 * (4 KiB) is queued, and only when the channel takes it now, so this does
 * not wait for a busy worker.  Returns 1 when the job was not queued
 * (nothing was sent), else as pool_send. */
int pool_queue(struct worker *w, const json_t *job, struct sp_err *e);

/* The slot of worker pid, or NULL. */
struct worker *pool_find(struct pool *p, pid_t pid);

/* SIGKILLs w and closes its channel.  Its slot stays taken, with w->job
 * as it was, until pool_reaped(): until the process is gone it might
 * still write. */
void pool_kill(struct worker *w);

/* Empties the slot of a worker waitpid() has reaped. */
void pool_reaped(struct worker *w);

/* Live processes in the pool (busy, idle, or killed and not yet reaped). */
size_t pool_live(const struct pool *p);

/* At the coordinator's exit: closes every channel, so idle workers exit,
 * and waits up to seconds for them before killing what is left. */
void pool_shutdown(struct pool *p, int seconds);

#endif
