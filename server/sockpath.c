#define _GNU_SOURCE
#include "server/sockpath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/sha256.h"
#include "common/tmpfile.h"

/* The record of the socket's path, in the state directory. */
#define RECORD "socket"

/* Opens name under the folder at parent (a descriptor, for the message
 * named parent_name) without following a symlink, creating it first when
 * create is set, and checks it is a directory of ours that nobody else may
 * enter: a socket folder someone else controls could hold a socket that
 * impersonates the coordinator.  Returns the descriptor, -2 when it does
 * not exist and create is not set, -1 with e filled. */
static int open_folder(int parent, const char *parent_name, const char *name,
		       int create, struct sp_err *e)
{
	struct stat st;
	int fd;

	if (create && mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
		return sp_err_sys(e, "cannot create the socket folder '%s/%s'",
				  parent_name, name);
	fd = openat(parent, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !create)
			return -2;
		if (errno == ELOOP || errno == ENOTDIR)
			return sp_err_set(e,
					  "refusing the socket folder '%s/%s': "
					  "it is a symlink or not a directory",
					  parent_name, name);
		return sp_err_sys(e, "cannot open the socket folder '%s/%s'",
				  parent_name, name);
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return sp_err_sys(e, "cannot stat the socket folder '%s/%s'",
				  parent_name, name);
	}
	if (st.st_uid != geteuid() || (st.st_mode & 0077)) {
		close(fd);
		return sp_err_set(e,
				  "refusing the socket folder '%s/%s': it is "
				  "owned by uid %u with mode %04o; it must be "
				  "owned by uid %u (this user) with mode 0700",
				  parent_name, name, (unsigned)st.st_uid,
				  (unsigned)(st.st_mode & 07777),
				  (unsigned)geteuid());
	}
	return fd;
}

/* Opens XDG_RUNTIME_DIR when it is usable: an absolute path to a folder
 * this user owns and nobody else may write.  Otherwise returns -1 and says
 * why in note (nothing when the variable is unset). */
static int open_xdg(char *note, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int fd;

	if (!xdg || !*xdg)
		return -1;
	if (xdg[0] != '/' || strlen(xdg) >= 200) {
		snprintf(note, cap,
			 "not using XDG_RUNTIME_DIR '%s': not an absolute "
			 "path of at most 199 bytes",
			 xdg);
		return -1;
	}
	/* XDG_RUNTIME_DIR may itself be a symlink the user made; what
	 * counts is the folder it leads to, held from here on. */
	fd = open(xdg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(note, cap, "not using XDG_RUNTIME_DIR '%s': %s", xdg,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
	    (st.st_mode & 0022)) {
		snprintf(note, cap,
			 "not using XDG_RUNTIME_DIR '%s': it is owned by "
			 "uid %u with mode %04o, and must be owned by uid %u "
			 "(this user) and writable by no one else",
			 xdg, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
		close(fd);
		return -1;
	}
	return fd;
}

/* Fills sp's names for the socket name in the folder held by sp->dfd,
 * which is folder (for messages). */
static int set_names(struct sockpath *sp, const char *folder, const char *name,
		     struct sp_err *e)
{
	struct sockaddr_un sun;
	char proc[64];

	if (asprintf(&sp->path, "%s/%s", folder, name) < 0) {
		sp->path = NULL;
		return sp_err_set(e, "out of memory");
	}
	/* Reached through the descriptor, the socket is the one in the
	 * folder we checked, whatever has since been renamed over its path.
	 * Without /proc, the path (and the peer's uid) must do. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", sp->dfd);
	if (sp->dfd >= 0 && access(proc, X_OK) == 0) {
		if (asprintf(&sp->addr, "%s/%s", proc, name) < 0)
			sp->addr = NULL;
	} else {
		sp->addr = strdup(sp->path);
	}
	if (!sp->addr)
		return sp_err_set(e, "out of memory");
	if (strlen(sp->addr) >= sizeof(sun.sun_path))
		return sp_err_set(e, "socket path '%s' is too long", sp->addr);
	return 0;
}

static void sockpath_init(struct sockpath *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->dfd = -1;
}

int sockpath_open(const char *state_dir, int create, struct sockpath *sp,
		  struct sp_err *e)
{
	char folder[256], name[64], hex[65];
	const char *parent_name;
	uint8_t md[32];
	int parent, fd;

	sockpath_init(sp);
	sha256_buf(state_dir, strlen(state_dir), md);
	hex_encode(md, 12, hex);
	snprintf(name, sizeof(name), "%s.sock", hex);
	parent_name = getenv("XDG_RUNTIME_DIR");
	parent = open_xdg(sp->note, sizeof(sp->note));
	if (parent >= 0) {
		fd = open_folder(parent, parent_name, "spoke", create, e);
		snprintf(folder, sizeof(folder), "%s/spoke", parent_name);
	} else {
		char sub[32];

		/* /tmp is sticky: nobody can rename or remove our folder in
		 * it, and one another user made first is refused below. */
		parent_name = "/tmp";
		parent = open(parent_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0)
			return sp_err_sys(e, "cannot open '/tmp'");
		snprintf(sub, sizeof(sub), "spoke-%u", (unsigned)geteuid());
		fd = open_folder(parent, parent_name, sub, create, e);
		snprintf(folder, sizeof(folder), "/tmp/%s", sub);
		if (sp->note[0]) {
			size_t len = strlen(sp->note);

			snprintf(sp->note + len, sizeof(sp->note) - len,
				 "; using '%s'", folder);
		}
	}
	close(parent);
	if (fd == -1)
		return -1;
	sp->dfd = fd < 0 ? -1 : fd;
	if (set_names(sp, folder, name, e) < 0) {
		sockpath_release(sp);
		return -1;
	}
	return 0;
}

int sockpath_open_path(const char *path, struct sockpath *sp, struct sp_err *e)
{
	const char *slash = strrchr(path, '/');
	size_t len = strlen(path);
	char *folder;
	int parent, fd;

	sockpath_init(sp);
	if (path[0] != '/' || !slash || slash == path || len < 6 ||
	    len >= 256 || strcmp(path + len - 5, ".sock") != 0)
		return sp_err_set(e, "'%s' is not a coordinator's socket path",
				  path);
	folder = strndup(path, (size_t)(slash - path));
	if (!folder)
		return sp_err_set(e, "out of memory");
	/* The folder's own parents may be symlinks (/tmp on some systems):
	 * the folder itself may not. */
	{
		char *up = strdup(folder), *cut = up ? strrchr(up, '/') : NULL;
		const char *leaf = strrchr(folder, '/') + 1;

		if (!up) {
			free(folder);
			return sp_err_set(e, "out of memory");
		}
		if (cut == up)
			cut[1] = '\0';
		else
			*cut = '\0';
		parent = open(up, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0) {
			int rc = errno == ENOENT
				     ? 0
				     : sp_err_sys(e, "cannot open '%s'", up);

			free(up);
			free(folder);
			return rc;
		}
		fd = open_folder(parent, up, leaf, 0, e);
		close(parent);
		free(up);
	}
	if (fd == -1) {
		free(folder);
		return -1;
	}
	sp->dfd = fd < 0 ? -1 : fd;
	if (set_names(sp, folder, slash + 1, e) < 0) {
		free(folder);
		sockpath_release(sp);
		return -1;
	}
	free(folder);
	return 0;
}

void sockpath_release(struct sockpath *sp)
{
	if (sp->dfd >= 0)
		close(sp->dfd);
	free(sp->path);
	free(sp->addr);
	sockpath_init(sp);
}

int sockpath_check_peer(int fd, const char *path, struct sp_err *e)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return sp_err_sys(e, "cannot ask who listens on '%s'", path);
	if (cred.uid != geteuid())
		return sp_err_set(e,
				  "refusing the coordinator socket '%s': the "
				  "process listening there (pid %d) runs as "
				  "uid %u, not as uid %u (this user)",
				  path, (int)cred.pid, (unsigned)cred.uid,
				  (unsigned)geteuid());
	return 0;
}

int sockpath_record(int state_fd, const char *state_label, const char *path,
		    struct sp_err *e)
{
	char *text = NULL;
	int rc;

	if (asprintf(&text, "%s\n", path) < 0)
		return sp_err_set(e, "out of memory");
	rc = tmpfile_write_buf(state_fd, state_label, RECORD, text,
			       strlen(text), 0600, e);
	free(text);
	return rc;
}

char *sockpath_recorded(const char *state_dir, struct sp_err *e)
{
	char buf[512], *nl;
	struct stat st;
	ssize_t n;
	int dfd, fd;

	sp_err_clear(e);
	dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if (errno != ENOENT)
			sp_err_sys(e, "cannot open '%s'", state_dir);
		return NULL;
	}
	fd = openat(dfd, RECORD, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (fd < 0) {
		if (errno != ENOENT)
			sp_err_sys(e, "cannot open '%s/%s'", state_dir, RECORD);
		return NULL;
	}
	/* The coordinator of this user wrote it: anything else is not a
	 * record to follow. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		close(fd);
		sp_err_set(e,
			   "refusing '%s/%s': not a regular file owned by "
			   "uid %u (this user)",
			   state_dir, RECORD, (unsigned)geteuid());
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		sp_err_sys(e, "cannot read '%s/%s'", state_dir, RECORD);
		return NULL;
	}
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (!nl || nl[1] != '\0' || memchr(buf, '\0', (size_t)n)) {
		sp_err_set(e, "'%s/%s' is not one line", state_dir, RECORD);
		return NULL;
	}
	*nl = '\0';
	nl = strdup(buf);
	if (!nl)
		sp_err_set(e, "out of memory");
	return nl;
}
