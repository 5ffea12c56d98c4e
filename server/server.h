/*
 * server.h - the coordinator.
 *
 * One per state directory (flock on <state>/lock), the only writer of the
 * journal while it runs.  At start it replays the journal, then serves
 * requests on its unix socket (sockpath.h): builds, recover, status, stop.
 * Builds stage their artifacts and journal each wheel's temporary and final
 * names, then hand one wheel job per artifact to a worker of the pool
 * (pool.h: forked processes that live as long as the coordinator, one per
 * job slot) over its socketpair.  The worker writes the wheel, fsyncs it
 * and renames it into place itself; the coordinator fsyncs the wheels'
 * folders and journals them "done" in batches, and gives every artifact
 * back before the client gets its answer.  A worker that dies or sends a
 * bad frame fails its job and its build, whose artifacts are given back at
 * once.
 *
 * This is the coordinator's only public header; its files share their
 * private types through server/coord.h.
 */
#ifndef SPOKE_SERVER_SERVER_H
#define SPOKE_SERVER_SERVER_H

#include "common/err.h"

struct server_opts {
	const char *state_dir; /* created if missing */
	int daemon;	       /* started by a client: log to the log file */
	int idle_timeout;      /* seconds without clients before exiting */
	int jobs;	       /* workers at once, all builds together */
	int keep_builds;       /* builds the journal keeps (prune.h); 0: the
				* default */
};

/* Runs the coordinator until it is stopped or idle.  Returns 0 on a clean
 * exit, 1 when another coordinator already holds the state directory, -1 on
 * error. */
int server_run(const struct server_opts *o, struct sp_err *e);

#endif
