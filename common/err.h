/*
 * err.h - the one error convention of spoke.
 *
 * Every fallible function returns 0 (or a non-NULL pointer) on success and
 * -1 (or NULL) on failure, and on failure fills a caller-supplied struct
 * sp_err with a message a user can act on: what failed, on which path, and
 * why.  Messages are lowercase and quote their subject: "cannot open '%s':
 * No such file or directory".  Library code never exits.
 */
#ifndef SPOKE_COMMON_ERR_H
#define SPOKE_COMMON_ERR_H

#include <stddef.h>

struct sp_err {
	char msg[2048];
	/* The errno of the system call that failed, set by sp_err_sys(), and
	 * 0 after sp_err_set().  A caller may retry on it (ENOSPC in a
	 * give-back); code whose failure must never be retried (an fsync:
	 * the kernel may have dropped the dirty pages) sets it back to 0. */
	int sys_errno;
};

/* Formats the message into e (if e is not NULL) and returns -1. */
int sp_err_set(struct sp_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like sp_err_set, then appends ": <strerror(errno)>" and keeps errno in
 * sys_errno.  errno is preserved. */
int sp_err_sys(struct sp_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefixes the existing message with "<prefix>: ", returns -1. */
int sp_err_wrap(struct sp_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void sp_err_clear(struct sp_err *e);

/* Prints "spoke: <msg>" to stderr. */
void sp_err_print(const struct sp_err *e);

/* Aborts with a message: only for broken internal invariants (bugs). */
#define SP_BUG(...) sp_bug(__FILE__, __LINE__, __VA_ARGS__)
void sp_bug(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

#endif
