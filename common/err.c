#include "common/err.h"

#include "common/esc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sp_err_set(struct sp_err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->sys_errno = 0;
	return -1;
}

int sp_err_sys(struct sp_err *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(saved));
	e->sys_errno = saved;
	errno = saved;
	return -1;
}

int sp_err_wrap(struct sp_err *e, const char *fmt, ...)
{
	char prefix[512], old[sizeof(e->msg)];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old);
	return -1;
}

void sp_err_clear(struct sp_err *e)
{
	if (e) {
		e->msg[0] = '\0';
		e->sys_errno = 0;
	}
}

void sp_err_print(const struct sp_err *e)
{
	/* Messages quote names from files spoke does not trust; a message
	 * of several lines keeps its line breaks. */
	fputs("spoke: ", stderr);
	esc_fputs(e->msg[0] ? e->msg : "unknown error", stderr);
	fputc('\n', stderr);
}

void sp_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "spoke: BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
