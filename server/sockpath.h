/*
 * sockpath.h - where the coordinator of a state directory listens, and
 * how both ends make sure they talk to their own user.
 *
 * The socket is <folder>/<hash>.sock, where <hash> is the first 24 hex
 * digits of the SHA-256 of the state directory's real path (short enough
 * for sun_path whatever the CI path, outside the target tree), and
 * <folder> is $XDG_RUNTIME_DIR/spoke when this user owns XDG_RUNTIME_DIR
 * and nobody else may write it, else /tmp/spoke-<uid>.  `su` and `sudo -E`
 * leave root with the XDG_RUNTIME_DIR of the user it came from, a folder
 * that user could fill with a socket of their own: so it is not used.
 *
 * The folder must be a real directory (not a symlink), owned by this user,
 * of mode 0700.  It is checked on a descriptor opened O_DIRECTORY |
 * O_NOFOLLOW, and the socket is then bound or reached through that very
 * descriptor (/proc/self/fd/N/<hash>.sock), so swapping the folder after
 * the check changes nothing.  Once connected, the client also checks the
 * coordinator's SO_PEERCRED uid (the coordinator checks its clients'), so
 * even a socket no check foresaw cannot impersonate either end.
 *
 * A client whose environment differs from the coordinator's (another
 * XDG_RUNTIME_DIR) computes another folder: so the coordinator records its
 * socket's path in <state-dir>/socket, which the client reads when nothing
 * listens at the path it computed, and checks as above before connecting.
 */
#ifndef SPOKE_SERVER_SOCKPATH_H
#define SPOKE_SERVER_SOCKPATH_H

#include "common/err.h"

struct sockpath {
	char *path; /* <folder>/<hash>.sock: for messages and the record */
	char *addr; /* the socket reached through dfd, for bind and connect */
	int dfd;    /* the checked folder; -1 when it does not exist */
	/* Why XDG_RUNTIME_DIR was not used ("" when it was, or is unset):
	 * what `-v` prints. */
	char note[512];
};

/* Finds and checks the socket folder of state_dir (a real path), creating
 * it when create is set, and fills sp (release it with sockpath_release).
 * Without create, a folder that does not exist is no error: sp->dfd is -1
 * (nothing can listen there).  -1 with e filled when the folder is unsafe:
 * a symlink, another user's, or open to others. */
int sockpath_open(const char *state_dir, int create, struct sockpath *sp,
		  struct sp_err *e);

/* Like sockpath_open, for a socket path read from a record: its folder
 * gets the same checks.  -1 when the path is not one a coordinator of
 * this user could have written. */
int sockpath_open_path(const char *path, struct sockpath *sp, struct sp_err *e);

void sockpath_release(struct sockpath *sp);

/* Checks that the process at the other end of the connected unix socket fd
 * (reached at path, named in the message) runs as this user. */
int sockpath_check_peer(int fd, const char *path, struct sp_err *e);

/* Records path as the socket of the coordinator of the state directory
 * held open as state_fd (state_label names it in messages), in its file
 * "socket", through the temporary-file recipe (common/tmpfile.h). */
int sockpath_record(int state_fd, const char *state_label, const char *path,
		    struct sp_err *e);

/* The socket path recorded in state_dir (malloc'd), or NULL: with e->msg
 * empty when there is no record, else with e filled. */
char *sockpath_recorded(const char *state_dir, struct sp_err *e);

#endif
