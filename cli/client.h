/*
 * client.h - reaching the coordinator of a state directory.
 *
 * Like sccache and bazel, the first client starts the coordinator: it
 * double-forks `spoke serve --daemon` for the state directory and waits for
 * its socket.  Two clients racing to do so are settled by the state
 * directory's lock: the loser exits and both connect to the winner.
 */
#ifndef SPOKE_CLI_CLIENT_H
#define SPOKE_CLI_CLIENT_H

#include <jansson.h>

#include "common/err.h"

/* Connects to the coordinator for state_dir (a real path).  Returns the
 * connected descriptor; 0 is never returned.  When none runs: starts one if
 * spawn is set, else returns -2 (no error).  -1 on error. */
int client_connect(const char *state_dir, int spawn, int idle_timeout,
		   struct sp_err *e);

/* Sends a request and reads frames until the result.  Each event is passed
 * to on_event (may be NULL).  Returns the result object (new reference), or
 * NULL with e filled when the coordinator went away without answering. */
json_t *client_call(int fd, unsigned type, const json_t *req,
		    void (*on_event)(const json_t *ev, void *arg), void *arg,
		    struct sp_err *e);

/*
 * Waits until the coordinator has exited and let go of state_dir, so that
 * what runs next (a coordinator of this version, or `spoke serve`) does
 * not find the state directory still held.  First, when fd >= 0 (the
 * connection to it), until it closes its end of fd, for up to
 * close_seconds (< 0: no limit); what it still sends is discarded.  Then
 * up to lock_seconds until the lock of state_dir can be taken: the
 * coordinator and every worker (which share its lock) are gone.  Returns
 * 0, or -1 with e filled on either timeout; for the lock, e names the
 * processes that still hold it.
 */
int client_wait_gone(int fd, const char *state_dir, int close_seconds,
		     int lock_seconds, struct sp_err *e);

/* With on set, client_connect says on stderr why it did not use
 * XDG_RUNTIME_DIR, and where it found a coordinator other than at the
 * path it computed (what `-v` asks for). */
void client_set_verbose(int on);

struct jobserver;

/* client_call for a build: also keeps the build's jobserver tokens (js,
 * may be NULL) in step with the "slots" events of the coordinator, and on
 * SIGINT, SIGTERM or SIGHUP gives every token back and exits with 128 +
 * the signal (closing the socket, which cancels the build). */
json_t *client_build_call(int fd, const json_t *req, struct jobserver *js,
			  void (*on_event)(const json_t *ev, void *arg),
			  void *arg, struct sp_err *e);

#endif
