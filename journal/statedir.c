#define _GNU_SOURCE
#include "journal/statedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"

static const char safe_hint[] =
    "use a state directory (--state-dir) under folders of yours, or, if "
    "you trust that folder, add it to SPOKE_SAFE_DIRECTORIES (a "
    "colon-separated list of folders; an entry covers the folders below "
    "it)";
static const char cargo_hint[] =
    "build in folders of yours, or, if you trust that folder, add it to "
    "SPOKE_SAFE_DIRECTORIES (a colon-separated list of folders; an entry "
    "covers the folders below it) in the environment of spoke and of its "
    "coordinator";

int statedir_safe_listed(const char *dir)
{
	const char *list = getenv("SPOKE_SAFE_DIRECTORIES"), *p, *end;

	if (!list)
		return 0;
	for (p = list; *p; p = *end ? end + 1 : end) {
		size_t n;

		end = strchrnul(p, ':');
		n = (size_t)(end - p);
		/* "/a/b/" is "/a/b"; "/" stays "/" and covers everything. */
		while (n > 1 && p[n - 1] == '/')
			n--;
		if (n == 0 || p[0] != '/')
			continue;
		if (n == 1 || (strncmp(dir, p, n) == 0 &&
			       (dir[n] == '\0' || dir[n] == '/')))
			return 1;
	}
	return 0;
}

/* A folder above the state directory: whoever may rename entries in it
 * can swap the path below for a symlink.  Root and the user are trusted;
 * a sticky folder owned by root (/tmp) lets others create their own
 * entries but not rename ours. */
static const char *hint_for(const char *what)
{
	return strcmp(what, "state directory") == 0 ? safe_hint : cargo_hint;
}

static int check_parent(const struct stat *st, const char *dir,
			const char *what, const char *subject,
			struct sp_err *e)
{
	uid_t me = geteuid();

	if (statedir_safe_listed(dir))
		return 0;
	if (st->st_uid != 0 && st->st_uid != me)
		return sp_err_set(e,
				  "%s '%s': its folder '%s' is owned by uid "
				  "%u, neither you (uid %u) nor root, who "
				  "could swap it for a symbolic link; %s",
				  what, subject, dir, (unsigned)st->st_uid,
				  (unsigned)me, hint_for(what));
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) &&
	    !((st->st_mode & S_ISVTX) && st->st_uid == 0))
		return sp_err_set(e,
				  "%s '%s': its folder '%s' is writable by "
				  "other users (mode %04o) and is not a "
				  "sticky folder of root's like /tmp; %s",
				  what, subject, dir,
				  (unsigned)(st->st_mode & 07777),
				  hint_for(what));
	return 0;
}

/* The state directory and its subdirectories: ours, and writable by
 * nobody else (who could plant a symlink or swap a staged file). */
static int check_own(const struct stat *st, const char *what, const char *path,
		     struct sp_err *e)
{
	if (!S_ISDIR(st->st_mode))
		return sp_err_set(e, "%s '%s' is not a directory", what, path);
	if (st->st_uid != geteuid())
		return sp_err_set(e,
				  "%s '%s' is owned by uid %u, not by you "
				  "(uid %u)",
				  what, path, (unsigned)st->st_uid,
				  (unsigned)geteuid());
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return sp_err_set(e,
				  "%s '%s' is writable by other users (mode "
				  "%04o); make it private: chmod 700 '%s'",
				  what, path, (unsigned)(st->st_mode & 07777),
				  path);
	return 0;
}

/* openat(dfd, name) as a directory, never through a symlink; with create,
 * a missing one is made first (mode 0700).  flags: O_RDONLY or O_PATH. */
static int open_dir_at(int dfd, const char *name, const char *shown,
		       const char *what, int flags, int create,
		       struct sp_err *e)
{
	int fd;

	flags |= O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	fd = openat(dfd, name, flags);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
			return sp_err_sys(e, "cannot create directory '%s'",
					  shown);
		fd = openat(dfd, name, flags);
	}
	if (fd >= 0)
		return fd;
	if (errno == ELOOP || errno == ENOTDIR) {
		struct stat st;

		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode)) {
			sp_err_set(e,
				   "%s '%s' is a symbolic link; spoke does "
				   "not follow links there: use the real "
				   "directory",
				   what, shown);
			errno = ELOOP;
			return -1;
		}
		sp_err_set(e, "%s '%s' is not a directory", what, shown);
		errno = ENOTDIR;
		return -1;
	}
	return sp_err_sys(e, "cannot open %s '%s'", what, shown);
}

/* The real path of path; with create, that of its deepest existing
 * ancestor followed by the components still to be made. */
static char *resolve(const char *path, int create, struct sp_err *e)
{
	char *abs, *real, *out = NULL;
	size_t k;

	real = realpath(path, NULL);
	if (real)
		return real;
	if (errno != ENOENT || !create) {
		sp_err_sys(e, "cannot resolve state directory '%s'", path);
		return NULL;
	}
	if (path[0] == '/') {
		abs = strdup(path);
	} else {
		char *cwd = getcwd(NULL, 0);

		abs = cwd ? path_join(cwd, path) : NULL;
		free(cwd);
	}
	if (!abs) {
		sp_err_set(e, "out of memory");
		return NULL;
	}
	for (k = strlen(abs); k-- > 0;) {
		char *prefix;

		if (abs[k] != '/')
			continue;
		prefix = k ? strndup(abs, k) : strdup("/");
		if (!prefix)
			break;
		real = realpath(prefix, NULL);
		free(prefix);
		if (real) {
			out = path_join(real, abs + k + 1);
			free(real);
			break;
		}
		if (errno != ENOENT) {
			sp_err_sys(e, "cannot resolve state directory '%s'",
				   path);
			free(abs);
			return NULL;
		}
	}
	if (!out)
		sp_err_set(e, "out of memory");
	free(abs);
	return out;
}

/* Walks real from "/" one component at a time, each opened relative to
 * the one above without following a symlink and checked on that
 * descriptor: parents with check_parent(), the last with check_own() for
 * the state directory (what is NULL), else with check_parent() as well,
 * what naming it in messages.  Returns the last folder's descriptor
 * (O_RDONLY); a failed check sets errno to EACCES, so a caller that
 * tolerates a missing folder (ENOENT) never takes a refusal for one. */
static int walk(const char *real, int create, const char *what,
		struct sp_err *e)
{
	char *copy = strdup(real), *shown = malloc(strlen(real) + 2);
	char *comp, *save = NULL, *next;
	struct stat st;
	int fd = -1, nfd;

	if (!copy || !shown) {
		sp_err_set(e, "out of memory");
		goto fail;
	}
	strcpy(shown, "/");
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		sp_err_sys(e, "cannot open '/'");
		goto fail;
	}
	comp = strtok_r(copy, "/", &save);
	if (!comp) {
		sp_err_set(e, "'/' cannot be a state directory");
		goto fail;
	}
	for (; comp; comp = next) {
		next = strtok_r(NULL, "/", &save);
		if (fstat(fd, &st) < 0) {
			sp_err_sys(e, "cannot stat '%s'", shown);
			goto fail;
		}
		if (check_parent(&st, shown, what ? what : "state directory",
				 real, e) < 0) {
			errno = EACCES;
			goto fail;
		}
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			sp_err_set(e,
				   "cannot open %s '%s': '%s' in a path that "
				   "was not resolved",
				   what ? what : "state directory", real, comp);
			errno = EINVAL;
			goto fail;
		}
		if (strcmp(shown, "/") != 0)
			strcat(shown, "/");
		strcat(shown, comp);
		nfd = open_dir_at(fd, comp, shown,
				  next ? "folder"
				       : (what ? what : "state directory"),
				  next ? O_PATH : O_RDONLY, create, e);
		if (nfd < 0)
			goto fail;
		close(fd);
		fd = nfd;
	}
	if (fstat(fd, &st) < 0) {
		sp_err_sys(e, "cannot stat '%s'", real);
		goto fail;
	}
	if (what ? check_parent(&st, real, what, real, e) < 0
		 : check_own(&st, "state directory", real, e) < 0) {
		errno = EACCES;
		goto fail;
	}
	free(copy);
	free(shown);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	free(copy);
	free(shown);
	return -1;
}

/* Opens (and with create, makes) <state>/name and checks it. */
static int open_sub(const struct statedir *sd, const char *name, int create,
		    struct sp_err *e)
{
	char *shown = path_join(sd->path, name);
	struct stat st;
	int fd;

	if (!shown)
		return sp_err_set(e, "out of memory");
	fd = open_dir_at(sd->fd, name, shown, "state subdirectory", O_RDONLY,
			 create, e);
	if (fd < 0) {
		if (errno == ENOENT && !create)
			fd = -2;
		free(shown);
		return fd;
	}
	if (fstat(fd, &st) < 0) {
		sp_err_sys(e, "cannot stat '%s'", shown);
		close(fd);
		fd = -1;
	} else if (check_own(&st, "state subdirectory", shown, e) < 0) {
		close(fd);
		fd = -1;
	}
	free(shown);
	return fd;
}

void statedir_release(struct statedir *sd)
{
	if (sd->fd >= 0)
		close(sd->fd);
	if (sd->staged_fd >= 0)
		close(sd->staged_fd);
	if (sd->quarantine_fd >= 0)
		close(sd->quarantine_fd);
	free(sd->path);
	sd->path = NULL;
	sd->fd = sd->staged_fd = sd->quarantine_fd = -1;
}

int statedir_open(struct statedir *sd, const char *path, int create,
		  struct sp_err *e)
{
	int log_fd;

	sd->path = NULL;
	sd->fd = sd->staged_fd = sd->quarantine_fd = -1;
	sd->path = resolve(path, create, e);
	if (!sd->path)
		return -1;
	sd->fd = walk(sd->path, create, NULL, e);
	if (sd->fd < 0) {
		/* Say where the refused folder came from: a path that leads
		 * into another user's folder is the surprise. */
		if (strcmp(path, sd->path) != 0)
			sp_err_wrap(e, "'%s' leads to '%s'", path, sd->path);
		goto fail;
	}
	sd->staged_fd = open_sub(sd, "staged", create, e);
	if (sd->staged_fd == -1)
		goto fail;
	sd->quarantine_fd = open_sub(sd, "quarantine", create, e);
	if (sd->quarantine_fd == -1)
		goto fail;
	/* log/ is written by path later (the coordinator's log), and only
	 * checked here. */
	log_fd = open_sub(sd, "log", create, e);
	if (log_fd == -1)
		goto fail;
	if (log_fd >= 0)
		close(log_fd);
	if (sd->staged_fd == -2)
		sd->staged_fd = -1;
	if (sd->quarantine_fd == -2)
		sd->quarantine_fd = -1;
	return 0;
fail:
	if (sd->staged_fd == -2)
		sd->staged_fd = -1;
	if (sd->quarantine_fd == -2)
		sd->quarantine_fd = -1;
	statedir_release(sd);
	return -1;
}

int statedir_prepare(const char *path, struct sp_err *e)
{
	struct statedir sd = STATEDIR_INIT;

	if (statedir_open(&sd, path, 1, e) < 0)
		return -1;
	statedir_release(&sd);
	return 0;
}

int statedir_check(const char *path, struct sp_err *e)
{
	struct statedir sd = STATEDIR_INIT;

	if (statedir_open(&sd, path, 0, e) < 0)
		return -1;
	statedir_release(&sd);
	return 0;
}

/* Files in the state directory itself (the socket record) are written by
 * the lock's holder through the temporary-file recipe; one killed while
 * writing left ".<name>.<random>.spoke-tmp".  The new holder removes
 * them: no one else may write there while it holds the lock. */
static void remove_stale_tmp(int dfd)
{
	static const char suffix[] = ".spoke-tmp";
	struct dirent *d;
	DIR *dir;
	int fd = dup(dfd);

	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((d = readdir(dir))) {
		size_t n = strlen(d->d_name);

		if (d->d_name[0] == '.' && n > sizeof(suffix) &&
		    !strcmp(d->d_name + n - (sizeof(suffix) - 1), suffix))
			unlinkat(dfd, d->d_name, 0);
	}
	closedir(dir);
}

int statedir_lock_held(const struct statedir *sd, int *fd, struct sp_err *e)
{
	int lfd;

	/* Whoever takes the lock is about to rename files into staged/ and
	 * quarantine/: the coordinator, or `spoke recover` replaying in its
	 * own process. */
	lfd = openat(sd->fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		     0600);
	if (lfd < 0)
		return sp_err_sys(e, "cannot open lock file '%s/lock'",
				  sd->path);
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		int busy = errno == EWOULDBLOCK;

		if (!busy)
			sp_err_sys(e, "cannot lock '%s/lock'", sd->path);
		close(lfd);
		return busy ? 0 : -1;
	}
	remove_stale_tmp(sd->fd);
	*fd = lfd;
	return 1;
}

int statedir_lock(const char *path, int *fd, struct sp_err *e)
{
	struct statedir sd = STATEDIR_INIT;
	int rc;

	if (statedir_open(&sd, path, 0, e) < 0)
		return -1;
	rc = statedir_lock_held(&sd, fd, e);
	statedir_release(&sd);
	return rc;
}

int statedir_check_journal(const struct statedir *sd, struct sp_err *e)
{
	struct stat held, named;
	char *path = path_join(sd->path, "journal.db");
	int rc = 0;

	if (!path)
		return sp_err_set(e, "out of memory");
	if (fstatat(sd->fd, "journal.db", &held, AT_SYMLINK_NOFOLLOW) < 0 ||
	    stat(path, &named) < 0)
		rc = sp_err_sys(e, "cannot stat journal '%s'", path);
	else if (held.st_dev != named.st_dev || held.st_ino != named.st_ino)
		rc = sp_err_set(e,
				"journal '%s' is not the file in the state "
				"directory spoke checked: a folder above it "
				"was swapped while spoke opened it",
				path);
	free(path);
	return rc;
}

int statedir_open_cargo_dir(const char *cargo_path, const char **name,
			    struct sp_err *e)
{
	char *dir = path_dirname(cargo_path);
	int fd;

	if (!dir) {
		errno = ENOMEM;
		return sp_err_set(e, "out of memory");
	}
	*name = path_basename(cargo_path);
	fd = dir[0] == '/' ? walk(dir, 0, "cargo output folder", e)
			   : (errno = EINVAL,
			      sp_err_set(e,
					 "cargo output '%s' is not an "
					 "absolute path",
					 cargo_path));
	free(dir);
	return fd;
}
