#define _GNU_SOURCE
#include "common/dirs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
/* The folders on the way are only passed through: O_PATH needs search
 * permission on them, as a path lookup does, not read permission (a 0711
 * /home). */
#define PASS_FLAGS (O_PATH | O_DIRECTORY | O_CLOEXEC)

/* Explains why the component at label (in folder at) could not be opened:
 * a symlink gets a message of its own, since it is a refusal, not an
 * accident. */
static int open_failed(int at, const char *comp, const char *label,
		       struct sp_err *e)
{
	struct stat st;
	int saved = errno;

	if ((saved == ELOOP || saved == ENOTDIR || saved == EEXIST) &&
	    fstatat(at, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return sp_err_set(e,
					  "refusing to use '%s': it is a "
					  "symbolic link, and spoke enters the "
					  "folders it creates or resolved "
					  "only through real directories",
					  label);
		if (!S_ISDIR(st.st_mode))
			return sp_err_set(e, "cannot use '%s': it is not a "
					     "directory",
					  label);
	}
	errno = saved;
	return sp_err_sys(e, "cannot open directory '%s'", label);
}

int dirs_open(const char *path, int how, mode_t mode, struct sp_err *e)
{
	char label[PATH_MAX];
	const char *p = path, *end;
	size_t len = strlen(path), n;
	int cur, next, last, flags, opened = 0;

	if (len == 0 || len >= sizeof(label))
		return sp_err_set(e, "bad directory path '%s'", path);
	cur = open(path[0] == '/' ? "/" : ".", PASS_FLAGS);
	if (cur < 0)
		return sp_err_sys(e, "cannot open directory '%s'",
				  path[0] == '/' ? "/" : ".");
	for (; *p; p = end) {
		char comp[NAME_MAX + 1];

		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		n = (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			continue;
		/* The path up to and including this component, for messages. */
		snprintf(label, sizeof(label), "%.*s", (int)(end - path), path);
		if (n > NAME_MAX) {
			close(cur);
			return sp_err_set(e, "bad directory path '%s': a "
					     "component is too long",
					  path);
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (!(how & DIRS_FOLLOW) && n == 2 && p[0] == '.' &&
		    p[1] == '.') {
			close(cur);
			return sp_err_set(e, "refusing to use '%s': it climbs "
					     "with '..'",
					  path);
		}
		last = end[strspn(end, "/")] == '\0';
		flags = last ? DIR_FLAGS : PASS_FLAGS;
		next = openat(cur, comp,
			      flags | ((how & DIRS_FOLLOW) ? 0 : O_NOFOLLOW));
		if (next < 0 && errno == ENOENT && (how & DIRS_CREATE)) {
			/* A folder spoke makes is entered without following:
			 * whatever stands at the name after mkdirat(), if not
			 * the folder just made, is refused below. */
			if (mkdirat(cur, comp, mode) < 0 && errno != EEXIST) {
				sp_err_sys(e, "cannot create directory '%s'",
					   label);
				close(cur);
				return -1;
			}
			next = openat(cur, comp, flags | O_NOFOLLOW);
		}
		if (next < 0) {
			open_failed(cur, comp, label, e);
			close(cur);
			return -1;
		}
		close(cur);
		cur = next;
		opened = 1;
	}
	if (!opened) {
		/* "/" or "." alone: the starting folder is the one to use,
		 * opened for use rather than passed through. */
		close(cur);
		cur = open(path[0] == '/' ? "/" : ".", DIR_FLAGS);
		if (cur < 0)
			return sp_err_sys(e, "cannot open directory '%s'", path);
	}
	return cur;
}

char *dirs_path_of(int fd, const char *label, struct sp_err *e)
{
	char link[64], buf[PATH_MAX], *s;
	struct stat named, held;
	ssize_t n;

	/* The kernel's name for the folder the descriptor holds: every
	 * symlink that led there is already resolved. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0) {
		sp_err_sys(e, "cannot resolve the directory '%s' (is /proc "
			      "mounted?)",
			   label);
		return NULL;
	}
	if ((size_t)n >= sizeof(buf) - 1) {
		sp_err_set(e, "cannot resolve the directory '%s': its path is "
			      "too long",
			   label);
		return NULL;
	}
	buf[n] = '\0';
	/* A removed folder reads "/x (deleted)"; a name that leads elsewhere
	 * now is no name of this folder either. */
	if (buf[0] != '/' || stat(buf, &named) < 0 || fstat(fd, &held) < 0 ||
	    named.st_dev != held.st_dev || named.st_ino != held.st_ino) {
		sp_err_set(e, "cannot resolve the directory '%s': it was "
			      "removed",
			   label);
		return NULL;
	}
	s = strdup(buf);
	if (!s)
		sp_err_set(e, "out of memory");
	return s;
}

int dirs_resolve(const char *path, int create, mode_t mode, char **resolved,
		 struct sp_err *e)
{
	int fd;

	*resolved = NULL;
	fd = dirs_open(path, DIRS_FOLLOW | (create ? DIRS_CREATE : 0), mode,
		       e);
	if (fd < 0)
		return -1;
	*resolved = dirs_path_of(fd, path, e);
	if (!*resolved) {
		close(fd);
		return -1;
	}
	return fd;
}
