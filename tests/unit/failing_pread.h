/*
 * failing_pread.h - a disk that fails, for unit tests of code that reads
 * with pread() (libelf on a descriptor, the ELF patcher).  No disk here
 * can be made to return EIO, so this stands in for one: the test sets
 * eio_fd and eio_after, and from its eio_after-th call on, pread() of
 * eio_fd fails with EIO.  Every other read goes to the kernel.
 *
 * Include it in one file of a test executable only: it defines pread()
 * and pread64(), which take the place of libc's for the whole program,
 * libelf's calls included.
 */
#ifndef SPOKE_TESTS_FAILING_PREAD_H
#define SPOKE_TESTS_FAILING_PREAD_H

#include <errno.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static int eio_fd = -1, eio_after;

ssize_t pread64(int fd, void *buf, size_t n, off_t off);

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	if (fd == eio_fd && eio_after-- <= 0) {
		errno = EIO;
		return -1;
	}
	return syscall(SYS_pread64, fd, buf, n, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	return pread64(fd, buf, n, off);
}

#endif
