#define _GNU_SOURCE
#include "common/tmpfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/fsx.h"

#define SUFFIX ".spoke-tmp"
#define RANDOM_BYTES 12

/*
 * The registry of open temporaries.  A signal handler may run between any
 * two instructions of the code that fills or empties a slot, so a slot is
 * filled completely before its "used" flag is set, and the flag is cleared
 * before the slot's descriptor is closed; the flag is read and written
 * atomically.  Fixed size and static: the handler must not allocate, and a
 * process has only a few temporaries open at once (one per writer).
 */
static void release(struct tmpfile *t);

#define NSLOTS 64
static struct slot {
	int used;
	pid_t owner;
	int dirfd;
	char name[NAME_MAX + 1];
} slots[NSLOTS];

static int slot_take(int dirfd, const char *name)
{
	int i, expected;

	for (i = 0; i < NSLOTS; i++) {
		expected = 0;
		/* 2: being filled, invisible to the handler. */
		if (!__atomic_compare_exchange_n(&slots[i].used, &expected, 2,
						 0, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
			continue;
		slots[i].owner = getpid();
		slots[i].dirfd = dirfd;
		memcpy(slots[i].name, name, strlen(name) + 1);
		__atomic_store_n(&slots[i].used, 1, __ATOMIC_SEQ_CST);
		return i;
	}
	return -1;
}

static void slot_drop(int i)
{
	if (i >= 0)
		__atomic_store_n(&slots[i].used, 0, __ATOMIC_SEQ_CST);
}

/* Async-signal-safe: getpid and unlinkat only. */
static void remove_all_owned(void)
{
	pid_t me = getpid();
	int i;

	for (i = 0; i < NSLOTS; i++)
		if (__atomic_load_n(&slots[i].used, __ATOMIC_SEQ_CST) == 1 &&
		    slots[i].owner == me)
			unlinkat(slots[i].dirfd, slots[i].name, 0);
}

static void on_signal(int sig)
{
	int saved = errno;

	remove_all_owned();
	/* Die of the signal, as the caller expects: default action, then
	 * raise it again (it is blocked until this handler returns). */
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved;
}

static void at_exit(void)
{
	remove_all_owned();
}

void tmpfile_remove_on_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	static int installed;
	struct sigaction sa, old;
	size_t i;

	if (installed)
		return;
	installed = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* A signal the caller ignores (nohup, a background job of a
		 * script) stays ignored: it cannot interrupt a writer. */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
	atexit(at_exit);
}

void tmpfile_init(struct tmpfile *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->dirfd = -1;
	t->slot = -1;
}

int tmpfile_name(char *buf, size_t len, const char *final, struct sp_err *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[RANDOM_BYTES];
	char rnd[2 * RANDOM_BYTES + 1];
	size_t i, room, flen = strlen(final);
	ssize_t got;

	/* Fixed parts: the leading dot, the dot before the digits, the
	 * digits, the suffix and the NUL; the final name gets what is left
	 * of a file name's 255 bytes. */
	if (len > NAME_MAX + 1)
		len = NAME_MAX + 1;
	if (len < 2 + 2 * RANDOM_BYTES + sizeof(SUFFIX) + 1)
		return sp_err_set(e, "no room for a temporary name");
	room = len - (2 + 2 * RANDOM_BYTES + sizeof(SUFFIX));
	if (fault_fixed_names()) {
		/* The fault harness's names (fault.h): a count, big-endian. */
		static unsigned long long counter;

		counter++;
		memset(r, 0, sizeof(r));
		for (i = 0; i < sizeof(counter); i++)
			r[sizeof(r) - 1 - i] =
				(unsigned char)(counter >> (8 * i));
	} else {
		do
			got = getrandom(r, sizeof(r), 0);
		while (got < 0 && errno == EINTR);
		if (got != (ssize_t)sizeof(r))
			return sp_err_sys(e, "cannot draw a random temporary "
					     "name for '%s'",
					  final);
	}
	for (i = 0; i < sizeof(r); i++) {
		rnd[2 * i] = hex[r[i] >> 4];
		rnd[2 * i + 1] = hex[r[i] & 15];
	}
	rnd[2 * RANDOM_BYTES] = '\0';
	snprintf(buf, len, ".%.*s.%s%s", (int)(flen < room ? flen : room),
		 final, rnd, SUFFIX);
	return 0;
}

static int create_named(struct tmpfile *t, int dirfd, const char *dir_label,
			const char *name, mode_t mode, struct sp_err *e)
{
	int dup, fd;

	if (strlen(name) > NAME_MAX || strchr(name, '/'))
		return sp_err_set(e, "bad temporary file name '%s'", name);
	dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return sp_err_sys(e, "cannot duplicate the descriptor of '%s'",
				  dir_label);
	t->dir_label = strdup(dir_label);
	if (!t->dir_label) {
		close(dup);
		return sp_err_set(e, "out of memory");
	}
	/* Listed before it exists, so that a signal between the openat()
	 * and the return still removes it.  A signal before the openat()
	 * unlinks a name nobody else could have known (random, or chosen by
	 * the coordinator and kept in its private journal): nothing. */
	t->slot = slot_take(dup, name);
	if (t->slot < 0) {
		close(dup);
		free(t->dir_label);
		tmpfile_init(t);
		return sp_err_set(e, "too many temporary files open at once "
				     "(%d)",
				  NSLOTS);
	}
	fd = openat(dup, name,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		int saved = errno;

		/* Not ours: never remove it. */
		slot_drop(t->slot);
		close(dup);
		errno = saved;
		sp_err_sys(e, "cannot create '%s/%s'", dir_label, name);
		free(t->dir_label);
		tmpfile_init(t);
		errno = saved;
		return -1;
	}
	t->fd = fd;
	t->dirfd = dup;
	memcpy(t->name, name, strlen(name) + 1);
	return 0;
}

int tmpfile_create_named(struct tmpfile *t, int dirfd, const char *dir_label,
			 const char *name, mode_t mode, struct sp_err *e)
{
	tmpfile_init(t);
	return create_named(t, dirfd, dir_label, name, mode, e);
}

int tmpfile_create(struct tmpfile *t, int dirfd, const char *dir_label,
		   const char *final, mode_t mode, struct sp_err *e)
{
	char name[NAME_MAX + 1];
	int tries;

	tmpfile_init(t);
	/* 96 random bits: a name that exists was planted, not drawn. */
	for (tries = 0; tries < 4; tries++) {
		if (tmpfile_name(name, sizeof(name), final, e) < 0)
			return -1;
		if (create_named(t, dirfd, dir_label, name, mode, e) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int tmpfile_anon(int dirfd, const char *dir_label, const char *hint,
		 struct sp_err *e)
{
	struct tmpfile t;
	int fd;

	fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* Only a file system (or kernel) without O_TMPFILE falls back; any
	 * other error would hit the named file too. */
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return sp_err_sys(e, "cannot create a temporary file in '%s'",
				  dir_label);
	if (tmpfile_create(&t, dirfd, dir_label, hint, 0600, e) < 0)
		return -1;
	if (unlinkat(t.dirfd, t.name, 0) < 0) {
		sp_err_sys(e, "cannot remove '%s/%s'", dir_label, t.name);
		tmpfile_discard(&t);
		return -1;
	}
	/* Unlinked: the registry must not remove the name, which someone
	 * else may take from now on. */
	fd = t.fd;
	t.fd = -1;
	release(&t);
	return fd;
}

int tmpfile_write(struct tmpfile *t, const void *buf, size_t len,
		  struct sp_err *e)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(t->fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return sp_err_sys(e, "cannot write '%s/%s'",
					  t->dir_label, t->name);
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Releases t without touching the file system. */
static void release(struct tmpfile *t)
{
	slot_drop(t->slot);
	if (t->fd >= 0)
		close(t->fd);
	if (t->dirfd >= 0)
		close(t->dirfd);
	free(t->dir_label);
	tmpfile_init(t);
}

void tmpfile_discard(struct tmpfile *t)
{
	if (t->slot >= 0 && t->dirfd >= 0)
		unlinkat(t->dirfd, t->name, 0);
	release(t);
}

/* renameat2(RENAME_NOREPLACE), or where a file system lacks it, a hard
 * link (which never replaces either) and the removal of the temporary. */
static int rename_noreplace(int dirfd, const char *from, const char *to)
{
	if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(dirfd, from, dirfd, to, 0) < 0)
		return -1;
	unlinkat(dirfd, from, 0);
	return 0;
}

int tmpfile_commit(struct tmpfile *t, const char *final, int flags,
		   struct sp_err *e)
{
	char label[PATH_MAX];
	int rc;

	if (t->fd < 0 || t->dirfd < 0)
		SP_BUG("tmpfile_commit on a temporary that is not open");
	snprintf(label, sizeof(label), "%s/%s", t->dir_label, t->name);
	if (strchr(final, '/') || !*final) {
		sp_err_set(e, "bad file name '%s'", final);
		goto fail;
	}
	if (fsx_fsync_fd(t->fd, label, e) < 0)
		goto fail;
	rc = close(t->fd);
	t->fd = -1;
	if (rc < 0) {
		sp_err_sys(e, "cannot write '%s'", label);
		goto fail;
	}
	fault_point("rename");
	rc = (flags & TMPFILE_NOREPLACE)
		     ? rename_noreplace(t->dirfd, t->name, final)
		     : renameat(t->dirfd, t->name, t->dirfd, final);
	if (rc < 0) {
		sp_err_sys(e, "cannot rename '%s' to '%s/%s'", label,
			   t->dir_label, final);
		goto fail;
	}
	/* In place: nothing to remove any more, whatever follows. */
	slot_drop(t->slot);
	t->slot = -1;
	rc = 0;
	if (!(flags & TMPFILE_NO_DIRSYNC))
		rc = fsx_fsync_fd(t->dirfd, t->dir_label, e);
	release(t);
	return rc;
fail:
	tmpfile_discard(t);
	return -1;
}

int tmpfile_write_buf(int dirfd, const char *dir_label, const char *final,
		      const void *buf, size_t len, mode_t mode,
		      struct sp_err *e)
{
	struct tmpfile t;

	fault_point("write");
	if (tmpfile_create(&t, dirfd, dir_label, final, mode, e) < 0)
		return -1;
	if (tmpfile_write(&t, buf, len, e) < 0) {
		tmpfile_discard(&t);
		return -1;
	}
	return tmpfile_commit(&t, final, 0, e);
}
