#include "statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"

int statedir_prepare(const char *path, struct sp_err *e)
{
	static const char *const subdirs[] = {"staged", "quarantine", "log"};
	struct stat st;
	size_t i;

	if (fsx_mkdir_p(path, 0700, e) < 0)
		return -1;
	if (lstat(path, &st) < 0)
		return sp_err_sys(e, "cannot stat state directory '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return sp_err_set(e, "state directory '%s' is not a directory",
				  path);
	if (st.st_uid != geteuid())
		return sp_err_set(e,
				  "state directory '%s' is owned by uid %u, "
				  "not by you (uid %u)",
				  path, (unsigned)st.st_uid,
				  (unsigned)geteuid());
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		char *sub = fsx_join(path, subdirs[i]);
		int rc;

		if (!sub)
			return sp_err_set(e, "out of memory");
		rc = 0;
		if (mkdir(sub, 0700) < 0 && errno != EEXIST)
			rc = sp_err_sys(e, "cannot create '%s'", sub);
		else if (lstat(sub, &st) < 0)
			rc = sp_err_sys(e, "cannot stat '%s'", sub);
		else if (!S_ISDIR(st.st_mode))
			rc = sp_err_set(e, "'%s' is not a directory", sub);
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
