#define _GNU_SOURCE
#include "cli/jobserver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The value of the last --jobserver-auth= (or make 4.1's
 * --jobserver-fds=) word in MAKEFLAGS, malloc'd; NULL when absent. */
static char *auth_value(const char *flags)
{
	static const char *const keys[] = {"--jobserver-auth=",
					   "--jobserver-fds="};
	const char *best = NULL, *p;
	size_t k;

	for (k = 0; k < 2; k++) {
		for (p = flags; (p = strstr(p, keys[k])); p++)
			if (p == flags || p[-1] == ' ')
				if (!best || p > best)
					best = p + strlen(keys[k]);
	}
	if (!best)
		return NULL;
	return strndup(best, strcspn(best, " "));
}

static int fd_is_fifo(int fd)
{
	struct stat st;

	return fcntl(fd, F_GETFD) >= 0 && fstat(fd, &st) == 0 &&
	       S_ISFIFO(st.st_mode);
}

int jobserver_open(struct jobserver *js, struct sp_err *e)
{
	const char *flags = getenv("MAKEFLAGS");
	char *val, path[64];
	int r = -1, w = -1;

	memset(js, 0, sizeof(*js));
	js->rfd = js->wfd = -1;
	if (!flags || !(val = auth_value(flags)))
		return 0;
	if (strncmp(val, "fifo:", 5) == 0) {
		/* Our own open of the fifo: non-blocking reads that do not
		 * change make's descriptors. */
		js->rfd = open(val + 5, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		js->wfd = open(val + 5, O_WRONLY | O_CLOEXEC);
		if (js->rfd < 0 || js->wfd < 0) {
			sp_err_sys(e, "cannot open the jobserver fifo '%s'",
				   val + 5);
			free(val);
			jobserver_close(js);
			return -1;
		}
		free(val);
		return 1;
	}
	if (sscanf(val, "%d,%d", &r, &w) != 2 || !fd_is_fifo(r) ||
	    !fd_is_fifo(w)) {
		/* make passes the descriptors only to recipes marked '+'
		 * (or running $(MAKE)); without them we run with -j1 of the
		 * jobserver, as make's own children do. */
		fprintf(stderr,
			"spoke: warning: jobserver '%s' unavailable (is the "
			"recipe marked '+'?); building with one slot\n",
			val);
		free(val);
		return 0;
	}
	free(val);
	/* Reopening the pipe through /proc gives a file description of our
	 * own, so it can be non-blocking without changing make's. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", r);
	js->rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	js->wfd = fcntl(w, F_DUPFD_CLOEXEC, 3);
	if (js->rfd < 0 || js->wfd < 0) {
		sp_err_sys(e, "cannot use the jobserver descriptors %d,%d", r,
			   w);
		jobserver_close(js);
		return -1;
	}
	return 1;
}

int jobserver_take(struct jobserver *js)
{
	unsigned char c;
	ssize_t n;

	if (js->rfd < 0)
		return 0;
	if (js->nheld == js->cap) {
		size_t ncap = js->cap ? js->cap * 2 : 16;
		unsigned char *nh = realloc(js->held, ncap);

		if (!nh)
			return 0;
		js->held = nh;
		js->cap = ncap;
	}
	do
		n = read(js->rfd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return 0;
	js->held[js->nheld++] = c;
	return 1;
}

void jobserver_give(struct jobserver *js, size_t n)
{
	while (n-- > 0 && js->nheld > 0) {
		unsigned char c = js->held[js->nheld - 1];
		ssize_t w;

		do
			w = write(js->wfd, &c, 1);
		while (w < 0 && errno == EINTR);
		if (w != 1) {
			fprintf(stderr,
				"spoke: warning: cannot give a token back to "
				"the jobserver: %s\n",
				strerror(errno));
			return;
		}
		js->nheld--;
	}
}

void jobserver_close(struct jobserver *js)
{
	if (js->wfd >= 0)
		jobserver_give(js, js->nheld);
	if (js->rfd >= 0)
		close(js->rfd);
	if (js->wfd >= 0)
		close(js->wfd);
	free(js->held);
	memset(js, 0, sizeof(*js));
	js->rfd = js->wfd = -1;
}
