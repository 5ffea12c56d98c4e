/*
 * sockpath.h - where the coordinator of a state directory listens.
 *
 * $XDG_RUNTIME_DIR/spoke/<hash>.sock, else /tmp/spoke-<uid>/<hash>.sock,
 * where <hash> is the first 24 hex digits of the SHA-256 of the state
 * directory's real path: short enough for sun_path whatever the CI path,
 * outside the target tree, in a directory of mode 0700 that we own.
 */
#ifndef SPOKE_SOCKPATH_H
#define SPOKE_SOCKPATH_H

#include "common/err.h"

/* Returns the malloc'd socket path for state_dir (a real path), creating
 * and checking its directory when create is set. */
char *sockpath_for(const char *state_dir, int create, struct sp_err *e);

#endif
