#define _GNU_SOURCE
#include "common/fsx.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"

int fsx_ident_of(const char *path, struct fsx_ident *id, struct sp_err *e)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return sp_err_sys(e, "cannot stat '%s'", path);
	id->dev = (uint64_t)st.st_dev;
	id->ino = (uint64_t)st.st_ino;
	id->size = (int64_t)st.st_size;
	id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL +
		       (int64_t)st.st_mtim.tv_nsec;
	return 0;
}

int fsx_ident_same(const struct fsx_ident *a, const struct fsx_ident *b,
		   int same_inode)
{
	if (a->size != b->size || a->mtime_ns != b->mtime_ns)
		return 0;
	if (same_inode && (a->dev != b->dev || a->ino != b->ino))
		return 0;
	return 1;
}

int fsx_fsync_fd(int fd, const char *name, struct sp_err *e)
{
	fault_point("fsync");
	if (fsync(fd) < 0) {
		sp_err_sys(e, "cannot fsync '%s'", name);
		/* Never to be retried: after a failed fsync the kernel may
		 * have dropped the dirty pages, so a second one could
		 * succeed without the data on disk (docs/failure-model.md). */
		if (e)
			e->sys_errno = 0;
		return -1;
	}
	return 0;
}

int fsx_fsync_dir(const char *dir, struct sp_err *e)
{
	int fd, rc;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sp_err_sys(e, "cannot open directory '%s'", dir);
	rc = fsx_fsync_fd(fd, dir, e);
	close(fd);
	return rc;
}

static int copy_bytes(int in, int out, const char *from, const char *to,
		      off_t size, struct sp_err *e)
{
	char buf[1 << 16];
	off_t done = 0;
	ssize_t n;

	/* FICLONE shares extents on btrfs and XFS: O(1), no bytes move. */
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	while (done < size) {
		n = copy_file_range(in, NULL, out, NULL, (size_t)(size - done),
				    0);
		if (n < 0) {
			if (errno == EXDEV || errno == ENOSYS ||
			    errno == EINVAL || errno == EOPNOTSUPP)
				break;
			return sp_err_sys(e, "cannot copy '%s' to '%s'", from,
					  to);
		}
		if (n == 0)
			break;
		done += n;
	}
	if (done == size)
		return 0;
	if (lseek(in, done, SEEK_SET) < 0 || lseek(out, done, SEEK_SET) < 0)
		return sp_err_sys(e, "cannot seek in '%s'", from);
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (n > 0) {
			ssize_t w = write(out, p, (size_t)n);

			if (w < 0)
				return sp_err_sys(e, "cannot write '%s'", to);
			p += w;
			n -= w;
		}
	}
	if (n < 0)
		return sp_err_sys(e, "cannot read '%s'", from);
	return 0;
}

int fsx_ident_at(const struct fsx_at *f, struct fsx_ident *id,
		 struct sp_err *e)
{
	struct stat st;

	if (fstatat(f->dfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sp_err_sys(e, "cannot stat '%s'", f->shown);
	id->dev = (uint64_t)st.st_dev;
	id->ino = (uint64_t)st.st_ino;
	id->size = (int64_t)st.st_size;
	id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL +
		       (int64_t)st.st_mtim.tv_nsec;
	return 0;
}

int fsx_fsync_at(const struct fsx_at *f, struct sp_err *e)
{
	fault_point("fsync");
	if (fsync(f->dfd) < 0) {
		sp_err_sys(e, "cannot fsync the folder of '%s'", f->shown);
		/* Never retried, as in fsx_fsync_fd(). */
		if (e)
			e->sys_errno = 0;
		return -1;
	}
	return 0;
}

int fsx_link_at(const struct fsx_at *from, const struct fsx_at *to, int sync,
		struct sp_err *e)
{
	fault_point("link");
	if (linkat(from->dfd, from->name, to->dfd, to->name, 0) < 0)
		return sp_err_sys(e, "cannot link '%s' to '%s'", from->shown,
				  to->shown);
	return sync ? fsx_fsync_at(to, e) : 0;
}

int fsx_rename_at(const struct fsx_at *from, const struct fsx_at *to,
		  int noreplace, int sync, struct sp_err *e)
{
	fault_point("rename");
	if (!noreplace) {
		if (renameat(from->dfd, from->name, to->dfd, to->name) < 0)
			return sp_err_sys(e, "cannot rename '%s' to '%s'",
					  from->shown, to->shown);
	} else if (renameat2(from->dfd, from->name, to->dfd, to->name,
			     RENAME_NOREPLACE) < 0) {
		struct stat st;

		/* A filesystem without RENAME_NOREPLACE: check, then
		 * rename.  The window between the two is what such a
		 * filesystem allows; spoke's own names never race there. */
		if (errno != EINVAL && errno != ENOSYS)
			return sp_err_sys(e, "cannot rename '%s' to '%s'",
					  from->shown, to->shown);
		if (fstatat(to->dfd, to->name, &st, AT_SYMLINK_NOFOLLOW) ==
		    0) {
			errno = EEXIST;
			return sp_err_sys(e, "cannot rename '%s' to '%s'",
					  from->shown, to->shown);
		}
		if (renameat(from->dfd, from->name, to->dfd, to->name) < 0)
			return sp_err_sys(e, "cannot rename '%s' to '%s'",
					  from->shown, to->shown);
	}
	if (!sync)
		return 0;
	if (fsx_fsync_at(to, e) < 0)
		return -1;
	return from->dfd != to->dfd ? fsx_fsync_at(from, e) : 0;
}

int fsx_unlink_at(const struct fsx_at *f, int missing_ok, int sync,
		  struct sp_err *e)
{
	fault_point("unlink");
	if (unlinkat(f->dfd, f->name, 0) < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return sp_err_sys(e, "cannot remove '%s'", f->shown);
	}
	return sync ? fsx_fsync_at(f, e) : 0;
}

int fsx_copy_at(const struct fsx_at *from, const struct fsx_at *to,
		struct sp_err *e)
{
	struct stat st;
	struct timespec times[2];
	int in = -1, out = -1, rc = -1;

	in = openat(from->dfd, from->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return sp_err_sys(e, "cannot open '%s'", from->shown);
	if (fstat(in, &st) < 0) {
		sp_err_sys(e, "cannot stat '%s'", from->shown);
		goto out;
	}
	fault_point("write");
	out = openat(to->dfd, to->name,
		     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     st.st_mode & 07777);
	if (out < 0) {
		sp_err_sys(e, "cannot create '%s'", to->shown);
		goto out;
	}
	/* openat() applied the umask; the copy keeps the original's mode. */
	if (fchmod(out, st.st_mode & 07777) < 0) {
		sp_err_sys(e, "cannot set the mode of '%s'", to->shown);
		goto out;
	}
	if (copy_bytes(in, out, from->shown, to->shown, st.st_size, e) < 0)
		goto out;
	/* Cargo judges freshness by mtime: the copy keeps the original's. */
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	if (futimens(out, times) < 0) {
		sp_err_sys(e, "cannot set times of '%s'", to->shown);
		goto out;
	}
	if (fsx_fsync_fd(out, to->shown, e) < 0 || fsx_fsync_at(to, e) < 0)
		goto out;
	rc = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (rc < 0 && out >= 0)
		unlinkat(to->dfd, to->name, 0);
	return rc;
}

int fsx_mkdir_p(const char *path, mode_t mode, struct sp_err *e)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	char *p;

	if (len == 0 || len >= sizeof(buf))
		return sp_err_set(e, "bad directory path '%s'", path);
	memcpy(buf, path, len + 1);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return sp_err_sys(e, "cannot create directory '%s'",
					  buf);
		*p = '/';
	}
	if (mkdir(buf, mode) < 0) {
		struct stat st;

		if (errno != EEXIST)
			return sp_err_sys(e, "cannot create directory '%s'",
					  buf);
		if (stat(buf, &st) < 0)
			return sp_err_sys(e, "cannot stat '%s'", buf);
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return sp_err_sys(e, "cannot create directory '%s'",
					  buf);
		}
	}
	return 0;
}

static char *read_all(const char *path, size_t *len, mode_t *mode,
		      int regular, struct sp_err *e);

char *fsx_read_all(const char *path, size_t *len, struct sp_err *e)
{
	return read_all(path, len, NULL, 0, e);
}

char *fsx_read_all_mode(const char *path, size_t *len, mode_t *mode,
			struct sp_err *e)
{
	return read_all(path, len, mode, 0, e);
}

char *fsx_read_regular(const char *path, size_t *len, struct sp_err *e)
{
	return read_all(path, len, NULL, 1, e);
}

/* With regular, opened without waiting (a FIFO's open waits for a
 * writer) and refused unless a regular file. */
static char *read_all(const char *path, size_t *len, mode_t *mode,
		      int regular, struct sp_err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t cap, n = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | (regular ? O_NONBLOCK : 0));
	if (fd < 0) {
		sp_err_sys(e, "cannot open '%s'", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		sp_err_sys(e, "cannot stat '%s'", path);
		close(fd);
		return NULL;
	}
	if (regular && !S_ISREG(st.st_mode)) {
		sp_err_set(e, "'%s' is not a regular file", path);
		close(fd);
		return NULL;
	}
	if (mode)
		*mode = st.st_mode;
	cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	buf = malloc(cap);
	if (!buf) {
		sp_err_set(e, "out of memory reading '%s'", path);
		goto fail;
	}
	for (;;) {
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				sp_err_set(e, "out of memory reading '%s'",
					   path);
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			sp_err_sys(e, "cannot read '%s'", path);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

