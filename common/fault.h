/*
 * fault.h - crash points for the crash-test harness.
 *
 * Every durable step (rename, link, unlink, fsync, write of a wheel, fork,
 * journal commit) calls fault_point() just before it happens.  Normally this
 * costs one branch.  These environment variables, read once per process, turn
 * it into a harness:
 *
 *   SPOKE_FAULT_LOG=FILE     append "<role> <n> <name>" for every point hit,
 *                            so a test can enumerate the points of a run;
 *   SPOKE_CRASH_AT=ROLE:N    SIGKILL this process at its N-th point when its
 *                            role is ROLE ("server", "worker", "replay");
 *   SPOKE_FAULT_DELAY=ROLE:MS  sleep MS milliseconds at every point of ROLE,
 *                            to widen a race on purpose (a worker still
 *                            writing when its coordinator is killed);
 *   SPOKE_FAULT_FIXED_NAMES=1  temporary files (tmpfile.h) are named by a
 *                            count instead of random digits, so that the
 *                            I/O-fault matrix can name a wheel's temporary
 *                            to strace (-P) across runs.  O_EXCL and
 *                            O_NOFOLLOW still refuse whatever another user
 *                            plants at such a name; only tests set it.
 *   SPOKE_FAULT_WRONG_JOB=1  a worker answers for the job after its own
 *                            (fault_job_id), so that a test sees the
 *                            coordinator end that worker and fail its
 *                            build, and live on.
 *
 * The count restarts when a process changes role (a forked worker starts at
 * zero), so "worker:3" means the third point of every worker.
 */
#ifndef SPOKE_COMMON_FAULT_H
#define SPOKE_COMMON_FAULT_H

#include <stdint.h>

/* Sets the role of this process and restarts its point count. */
void fault_set_role(const char *role);

/* 1 when SPOKE_FAULT_FIXED_NAMES is set. */
int fault_fixed_names(void);

/* The job id a worker echoes for its job id: id, or id + 1 under
 * SPOKE_FAULT_WRONG_JOB. */
uint64_t fault_job_id(uint64_t id);

/* Marks a crash point; may not return (SIGKILL) under SPOKE_CRASH_AT. */
void fault_point(const char *name);

#endif
