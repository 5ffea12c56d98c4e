/*
 * proc.c - child processes for cli/.
 */
#define _GNU_SOURCE
#include "cli/project/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* A growable byte buffer, always NUL-terminated once anything is in it. */
struct buf {
	char *p;
	size_t len, cap;
};

static int buf_reserve(struct buf *b, size_t more, struct sp_err *e)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *np;

	while (cap - b->len < more + 1)
		cap *= 2;
	if (cap == b->cap)
		return 0;
	np = realloc(b->p, cap);
	if (!np)
		return sp_err_sys(e,
				  "cannot read the output of a child process");
	b->p = np;
	b->cap = cap;
	return 0;
}

/* Reads once from fd into b.  Returns the count, 0 at end of file, -1 on
 * error (EINTR and EAGAIN read as "nothing yet": -2). */
static ssize_t buf_read(struct buf *b, int fd, struct sp_err *e)
{
	ssize_t n;

	if (buf_reserve(b, 65536, e) < 0)
		return -1;
	n = read(fd, b->p + b->len, b->cap - b->len - 1);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return -2;
		sp_err_sys(e, "cannot read the output of a child process");
		return -1;
	}
	b->len += (size_t)n;
	b->p[b->len] = '\0';
	return n;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* In the child: makes fd the descriptor target for the program to come.
 * dup2() onto itself would keep close-on-exec, so clear it instead. */
static int child_dup(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target);
}

/*
 * Returns a malloc'd environment: environ without the variables env sets,
 * then env.  The strings are borrowed.  NULL when out of memory.
 */
static char **env_merge(const char *const *env)
{
	size_t n = 0, m = 0, k = 0, i, j;
	char **out;

	while (environ[n])
		n++;
	while (env && env[m])
		m++;
	out = calloc(n + m + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len =
		    eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);

		for (j = 0; j < m; j++)
			if (strncmp(env[j], environ[i], len) == 0 &&
			    env[j][len] == '=')
				break;
		if (j == m)
			out[k++] = environ[i];
	}
	for (j = 0; j < m; j++)
		out[k++] = (char *)env[j];
	return out;
}

int proc_spawn(struct proc *p, const char *const *argv, const char *const *env,
	       unsigned flags, struct sp_err *e)
{
	char **envp = NULL;
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, execp[2] = {-1, -1};
	int devnull = -1, child_errno = 0, ret = -1;
	pid_t parent = getpid();
	ssize_t n;

	p->pid = -1;
	p->out_fd = p->err_fd = -1;

	/* Built before fork(): the child may only make async-signal-safe
	 * calls, and malloc is not one. */
	envp = env_merge(env);
	if (!envp) {
		sp_err_sys(e, "cannot run '%s'", argv[0]);
		goto out;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0) {
		sp_err_sys(e, "cannot open '/dev/null'");
		goto out;
	}
	if (((flags & PROC_PIPE_STDOUT) && pipe2(outp, O_CLOEXEC) < 0) ||
	    ((flags & PROC_PIPE_STDERR) && pipe2(errp, O_CLOEXEC) < 0) ||
	    pipe2(execp, O_CLOEXEC) < 0) {
		sp_err_sys(e, "cannot create a pipe to run '%s'", argv[0]);
		goto out;
	}

	p->pid = fork();
	if (p->pid < 0) {
		sp_err_sys(e, "cannot fork to run '%s'", argv[0]);
		goto out;
	}
	if (p->pid == 0) {
		sigset_t none;

		/* Only async-signal-safe calls from here: spoke may have
		 * threads.  Signal state is inherited across exec, so give
		 * the program the defaults it expects. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		/* Both sides set the group, so it exists before either
		 * goes on; a parent gone before prctl() is seen by getppid(). */
		if ((flags & PROC_OWN_GROUP) &&
		    (setpgid(0, 0) < 0 ||
		     prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
		     getppid() != parent))
			goto child_fail;
		if (child_dup(devnull, 0) < 0 ||
		    (outp[1] >= 0 && child_dup(outp[1], 1) < 0) ||
		    (errp[1] >= 0 && child_dup(errp[1], 2) < 0))
			goto child_fail;
		/* Descriptors spoke opened without O_CLOEXEC (a coordinator
		 * socket, a journal) must not leak into cargo's builds.
		 * Older kernels lack close_range(); then O_CLOEXEC it is. */
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		execvpe(argv[0], (char *const *)argv, envp);
	child_fail:
		child_errno = errno;
		while (write(execp[1], &child_errno, sizeof(child_errno)) < 0 &&
		       errno == EINTR)
			;
		_exit(127);
	}

	/* EACCES: the child has already exec'd, after its own setpgid. */
	if (flags & PROC_OWN_GROUP)
		(void)setpgid(p->pid, p->pid);
	/* The exec pipe closes without a byte when exec succeeds. */
	close_fd(&execp[1]);
	do
		n = read(execp[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(child_errno)) {
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		p->pid = -1;
		errno = child_errno;
		sp_err_sys(e, "cannot run '%s'", argv[0]);
		goto out;
	}
	p->out_fd = outp[0];
	p->err_fd = errp[0];
	outp[0] = errp[0] = -1;
	ret = 0;
out:
	child_errno = errno;
	close_fd(&devnull);
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&execp[0]);
	close_fd(&execp[1]);
	free(envp);
	errno = child_errno;
	return ret;
}

int proc_collect(struct proc *p, char **out, size_t *outlen, char **err,
		 size_t *errlen, struct sp_err *e)
{
	struct buf b[2] = {{0}};
	int *fds[2] = {&p->out_fd, &p->err_fd};
	int ret = -1, i;

	for (;;) {
		struct pollfd pfd[2];
		int npfd = 0, idx[2];

		for (i = 0; i < 2; i++) {
			if (*fds[i] < 0)
				continue;
			pfd[npfd].fd = *fds[i];
			pfd[npfd].events = POLLIN;
			idx[npfd++] = i;
		}
		if (npfd == 0)
			break;
		if (poll(pfd, (nfds_t)npfd, -1) < 0) {
			if (errno == EINTR)
				continue;
			sp_err_sys(e, "cannot wait for a child process");
			goto out;
		}
		for (i = 0; i < npfd; i++) {
			ssize_t n;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = buf_read(&b[idx[i]], pfd[i].fd, e);
			if (n == -1)
				goto out;
			if (n == 0)
				close_fd(fds[idx[i]]);
			/* A stream nobody wants is drained, not kept. */
			else if (n > 0 && !(idx[i] == 0 ? out : err))
				b[idx[i]].len = 0;
		}
	}
	for (i = 0; i < 2; i++) {
		char **dst = i == 0 ? out : err;
		size_t *dlen = i == 0 ? outlen : errlen;

		if (!dst)
			continue;
		if (!b[i].p && buf_reserve(&b[i], 0, e) < 0)
			goto out;
		b[i].p[b[i].len] = '\0';
		*dst = b[i].p;
		if (dlen)
			*dlen = b[i].len;
		b[i].p = NULL;
	}
	ret = 0;
out:
	free(b[0].p);
	free(b[1].p);
	return ret;
}

int proc_wait(struct proc *p, int *code, struct sp_err *e)
{
	int status;

	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	if (p->pid < 0)
		SP_BUG("proc_wait() on a child already reaped");
	while (waitpid(p->pid, &status, 0) < 0) {
		if (errno != EINTR)
			return sp_err_sys(e, "cannot wait for child %ld",
					  (long)p->pid);
	}
	p->pid = -1;
	if (WIFEXITED(status))
		*code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		*code = 128 + WTERMSIG(status);
	else
		*code = 255;
	return 0;
}

void proc_release(struct proc *p)
{
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	p->pid = -1;
}
