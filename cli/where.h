/*
 * where.h - finding the state directory a command works on.
 *
 * --state-dir wins; else <target>/spoke, where <target> is --target-dir,
 * else $CARGO_TARGET_DIR, else the target_directory cargo metadata reports
 * for the workspace (--manifest-path, else cargo's search from the current
 * directory).
 */
#ifndef SPOKE_CLI_WHERE_H
#define SPOKE_CLI_WHERE_H

#include "common/err.h"

struct where_opts {
	const char *state_dir;
	const char *target_dir;
	const char *manifest_path;
};

/* Returns the malloc'd absolute state directory path.  When create is set
 * the directory is created (and checked) and the path is its real path;
 * otherwise *exists tells whether it exists. */
char *where_state_dir(const struct where_opts *w, int create, int *exists,
		      struct sp_err *e);

#endif
