/*
 * pyfile_src.h - a file a wheel job names (pyfiles.h reads them).
 *
 * A leaf header: it includes nothing, so the typed job
 * (worker/wheel_job.h), which the coordinator includes, lists its files
 * without bringing the wheel room's types along.
 */
#ifndef SPOKE_WORKER_WHEEL_PYFILE_SRC_H
#define SPOKE_WORKER_WHEEL_PYFILE_SRC_H

/* A file the job names: src is read read-only, dst is its path in the
 * wheel (python files), below the dist-info's licenses/ folder (license
 * files) or below the wheel's <dist>-<version>.data/ folder (data
 * files).  A python file the client generates (maturin's __init__.py of
 * a pure module, an empty py.typed) has no src and its content in text;
 * otherwise text is NULL. */
struct pyfile_src {
	char *src;
	char *dst;
	char *text;
};

#endif
