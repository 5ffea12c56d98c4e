#include "statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"

/* A directory spoke renames cargo outputs into must be exactly what it
 * looks like: a real directory (lstat: a symlink planted there would
 * redirect every rename elsewhere), ours, and writable by nobody else (who
 * could plant such a symlink, or swap a staged file). */
static int check_dir(const char *path, const char *what, struct sp_err *e)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return sp_err_sys(e, "cannot stat %s '%s'", what, path);
	if (S_ISLNK(st.st_mode))
		return sp_err_set(e,
				  "%s '%s' is a symbolic link; spoke does "
				  "not follow links there: use the real "
				  "directory",
				  what, path);
	if (!S_ISDIR(st.st_mode))
		return sp_err_set(e, "%s '%s' is not a directory", what, path);
	if (st.st_uid != geteuid())
		return sp_err_set(e,
				  "%s '%s' is owned by uid %u, not by you "
				  "(uid %u)",
				  what, path, (unsigned)st.st_uid,
				  (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return sp_err_set(e,
				  "%s '%s' is writable by other users (mode "
				  "%04o); make it private: chmod 700 '%s'",
				  what, path, (unsigned)(st.st_mode & 07777),
				  path);
	return 0;
}

static const char *const subdirs[] = {"staged", "quarantine", "log"};

int statedir_check(const char *path, struct sp_err *e)
{
	size_t i;

	if (check_dir(path, "state directory", e) < 0)
		return -1;
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		char *sub = fsx_join(path, subdirs[i]);
		int rc = 0;

		if (!sub)
			return sp_err_set(e, "out of memory");
		if (fsx_exists(sub))
			rc = check_dir(sub, "state subdirectory", e);
		free(sub);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int statedir_prepare(const char *path, struct sp_err *e)
{
	struct stat st;
	size_t i;

	/* A symlink at the state directory itself is refused before
	 * mkdir -p would follow it. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return check_dir(path, "state directory", e);
	if (fsx_mkdir_p(path, 0700, e) < 0)
		return -1;
	if (check_dir(path, "state directory", e) < 0)
		return -1;
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		char *sub = fsx_join(path, subdirs[i]);
		int rc;

		if (!sub)
			return sp_err_set(e, "out of memory");
		rc = 0;
		if (mkdir(sub, 0700) < 0 && errno != EEXIST)
			rc = sp_err_sys(e, "cannot create '%s'", sub);
		else
			rc = check_dir(sub, "state subdirectory", e);
		free(sub);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int statedir_lock(const char *path, int *fd, struct sp_err *e)
{
	char *lock = fsx_join(path, "lock");
	int lfd;

	if (!lock)
		return sp_err_set(e, "out of memory");
	/* Whoever takes the lock is about to rename files into staged/ and
	 * quarantine/: the coordinator, or `spoke recover` replaying in its
	 * own process. */
	if (statedir_check(path, e) < 0) {
		free(lock);
		return -1;
	}
	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd < 0) {
		sp_err_sys(e, "cannot open lock file '%s'", lock);
		free(lock);
		return -1;
	}
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		int busy = errno == EWOULDBLOCK;

		if (!busy)
			sp_err_sys(e, "cannot lock '%s'", lock);
		close(lfd);
		free(lock);
		return busy ? 0 : -1;
	}
	free(lock);
	*fd = lfd;
	return 1;
}
