/*
 * job.h - the worker's loop: a forked worker (server/pool.h) receives
 * wheel jobs (wheel_job.h) from the coordinator, runs each one
 * (build_wheel.h) and answers with its events and its result, over the
 * socketpair it was started with.  This module owns that channel; the
 * code below it reports through the emit callback it passes down.
 */
#ifndef SPOKE_WORKER_JOB_H
#define SPOKE_WORKER_JOB_H

#include <jansson.h>

#include "worker/wheel_job.h"

/* Runs a job in the calling process and returns its result object (new
 * reference), with "job": j->id.  Never returns NULL except on
 * out-of-memory.  On failure the temporary wheel is removed.  Used
 * in-process and by job_serve(). */
json_t *job_run(const struct wheel_job *j);

/* Body of a worker process (server/pool.h): reads MSG_JOB frames from fd
 * one at a time, runs each, and answers with its events and one
 * MSG_JOB_RESULT frame, until fd reaches end of file; then _exit()s.
 * Never returns. */
void job_serve(int fd) __attribute__((noreturn));

#endif
