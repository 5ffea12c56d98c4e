#include "common/mapfile.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The live mapping, for the signal handler.  Written only while no read
 * of the mapping can be in progress (before it is handed out, after the
 * readers are done). */
static volatile uintptr_t live_start, live_end;
static volatile sig_atomic_t live_hit;
static uintptr_t page_size;
/* The SIGBUS action before the mapping, put back when it is unmapped. */
static struct sigaction saved;
/* The buffer small files are read into (MAPFILE_READ_MAX bytes, kept
 * between files), and whether a mapfile holds it now. */
static uint8_t *kept;
static int kept_busy;

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t a = (uintptr_t)si->si_addr, page;
	int saved_errno = errno;

	(void)uctx;
	if (a >= live_start && a < live_end) {
		page = a & ~(page_size - 1);
		if (mmap((void *)page, page_size, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
			 0) != MAP_FAILED) {
			live_hit = 1;
			errno = saved_errno;
			return;
		}
	}
	/* Not ours, or no way to recover: the action from before, when the
	 * faulting instruction runs again. */
	sigaction(sig, &saved, NULL);
	errno = saved_errno;
}

/* Reads the m->len bytes of m's file into the kept buffer. */
static int read_small(struct mapfile *m, struct sp_err *e)
{
	size_t done = 0;

	/* The largest size at once, so the buffer is allocated and faulted
	 * in once per process. */
	if (!kept && !(kept = malloc(MAPFILE_READ_MAX)))
		return sp_err_set(e, "out of memory");
	while (done < m->len) {
		ssize_t n =
		    pread(m->fd, kept + done, m->len - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sp_err_sys(e, "cannot read '%s'", m->name);
		if (n == 0)
			return sp_err_set(e,
					  "'%s' changed while being read "
					  "(truncated by another process)",
					  m->name);
		done += (size_t)n;
	}
	m->p = kept;
	m->read = 1;
	kept_busy = 1;
	return 0;
}

int mapfile_open(struct mapfile *m, int fd, const char *name, struct sp_err *e)
{
	struct sigaction sa;
	struct stat st;
	void *p;

	memset(m, 0, sizeof(*m));
	m->fd = fd;
	m->name = name;
	if (live_end || kept_busy)
		return sp_err_set(e, "cannot map '%s': another file is mapped",
				  name);
	if (fstat(fd, &st) < 0)
		return sp_err_sys(e, "cannot stat '%s'", name);
	if (!S_ISREG(st.st_mode))
		return sp_err_set(e, "'%s' is not a regular file", name);
	if ((uint64_t)st.st_size > SIZE_MAX / 2)
		return sp_err_set(e, "'%s' is too large", name);
	m->len = (size_t)st.st_size;
	if (m->len == 0)
		return 0;
	if (m->len <= MAPFILE_READ_MAX)
		return read_small(m, e);
	if (!page_size)
		page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
	p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return sp_err_sys(e, "cannot map '%s'", name);
	live_hit = 0;
	live_start = (uintptr_t)p;
	live_end = (uintptr_t)p + m->len;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &saved) < 0) {
		sp_err_sys(e, "cannot map '%s': no SIGBUS handler", name);
		munmap(p, m->len);
		live_start = live_end = 0;
		return -1;
	}
	m->p = p;
	return 0;
}

int mapfile_check(const struct mapfile *m, struct sp_err *e)
{
	struct stat st;

	if ((m->p && !m->read && live_hit) || fstat(m->fd, &st) < 0 ||
	    (uint64_t)st.st_size != m->len)
		return sp_err_set(e,
				  "'%s' changed while being read (truncated "
				  "by another process, or an I/O error)",
				  m->name);
	return 0;
}

void mapfile_close(struct mapfile *m)
{
	if (m->p && m->read) {
		kept_busy = 0;
	} else if (m->p) {
		sigaction(SIGBUS, &saved, NULL);
		munmap((void *)m->p, m->len);
		live_start = live_end = 0;
		live_hit = 0;
	}
	m->p = NULL;
	m->len = 0;
	m->read = 0;
}
