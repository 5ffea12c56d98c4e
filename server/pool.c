#define _GNU_SOURCE
#include "server/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "worker/job.h"

/* How long an idle worker may take to accept a job before it counts as
 * hung: it is blocked reading its channel, so anything near this means it
 * was stopped or the machine is thrashing. */
#define SEND_TIMEOUT_MS 30000

/* The largest job frame queued behind a busy worker's job: a small part
 * of the send buffer Linux gives a unix stream socket by default
 * (net.core.wmem_default, 208 KiB), so the send completes at once. */
#define QUEUE_MAX 4096

int pool_init(struct pool *p, size_t n, int lock_fd, struct sp_err *e)
{
	size_t i;

	p->w = calloc(n ? n : 1, sizeof(*p->w));
	if (!p->w)
		return sp_err_set(e, "out of memory");
	p->n = n;
	p->lock_fd = lock_fd;
	for (i = 0; i < n; i++)
		p->w[i].fd = -1;
	return 0;
}

/* The forked child: from here on a worker until its channel closes. */
static void __attribute__((noreturn))
worker_child(const struct pool *p, int chan, pid_t parent)
{
	int lock = fcntl(p->lock_fd, F_DUPFD, 5);

	/* A worker must never outlive its coordinator's replay: were the
	 * coordinator killed, an orphan could create its temporary wheel
	 * after `spoke recover` had settled the build, and nothing would
	 * remove it.  So the kernel kills the worker with its coordinator,
	 * and the worker holds the state directory's lock (the same open
	 * file, so the same flock) until it exits: whoever replays next
	 * waits for the last worker to be gone. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
	    lock < 0)
		_exit(1);
	/* The worker keeps only its channel (fd 3) and the lock (fd 4): not
	 * the journal, not the clients, not the other workers' channels
	 * (which would keep them open past their worker's death). */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (chan != 3)
		dup2(chan, 3);
	dup2(lock, 4);
	close_range(5, ~0U, 0);
	job_serve(3);
}

static struct worker *spawn(struct pool *p, struct worker *w, struct sp_err *e)
{
	int sv[2];
	pid_t pid, parent = getpid();

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		sp_err_sys(e, "cannot create a worker channel");
		return NULL;
	}
	fault_point("fork");
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		sp_err_sys(e, "cannot fork a worker");
		return NULL;
	}
	if (pid == 0) {
		close(sv[0]);
		worker_child(p, sv[1], parent);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	w->pid = pid;
	w->fd = sv[0];
	w->job = NULL;
	w->next = NULL;
	frame_reader_init(&w->rd);
	return w;
}

struct worker *pool_get(struct pool *p, struct sp_err *e)
{
	size_t i;

	sp_err_clear(e);
	for (i = 0; i < p->n; i++)
		if (p->w[i].pid > 0 && p->w[i].fd >= 0 && !p->w[i].job)
			return &p->w[i];
	for (i = 0; i < p->n; i++)
		if (p->w[i].pid == 0)
			return spawn(p, &p->w[i], e);
	return NULL;
}

/* Sends job to w as one MSG_JOB frame.  When queue is set, for a busy
 * worker: a frame larger than QUEUE_MAX, or one the channel takes no byte
 * of now, is not sent (returns 1), since the worker will not read before
 * its current job is done. */
static int send_job(struct worker *w, const json_t *job, int queue,
		    struct sp_err *e)
{
	struct timespec t0, now;
	uint8_t *buf;
	size_t len, off = 0;
	int rc = 0;

	if (frame_encode(MSG_JOB, job, &buf, &len, e) < 0)
		return -1;
	if (queue && len > QUEUE_MAX) {
		free(buf);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (off < len) {
		ssize_t n = send(w->fd, buf + off, len - off, MSG_NOSIGNAL);
		struct pollfd pfd = {.fd = w->fd, .events = POLLOUT};
		long left;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			sp_err_sys(e, "cannot hand the job to worker %ld",
				   (long)w->pid);
			rc = -2;
			break;
		}
		if (queue && off == 0) {
			rc = 1; /* no room: the job waits for a free worker */
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = SEND_TIMEOUT_MS - ((now.tv_sec - t0.tv_sec) * 1000 +
					  (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 ||
		    (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)) {
			sp_err_set(e, "worker %ld does not take its job",
				   (long)w->pid);
			rc = -2;
			break;
		}
	}
	free(buf);
	return rc;
}

int pool_send(struct worker *w, const json_t *job, struct sp_err *e)
{
	return send_job(w, job, 0, e);
}

int pool_queue(struct worker *w, const json_t *job, struct sp_err *e)
{
	return send_job(w, job, 1, e);
}

struct worker *pool_find(struct pool *p, pid_t pid)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->w[i].pid == pid)
			return &p->w[i];
	return NULL;
}

void pool_kill(struct worker *w)
{
	/* pid 0 would be our own process group. */
	if (w->pid > 0)
		kill(w->pid, SIGKILL);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

void pool_reaped(struct worker *w)
{
	if (w->fd >= 0)
		close(w->fd);
	frame_reader_release(&w->rd);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

size_t pool_live(const struct pool *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->w[i].pid > 0;
	return n;
}

void pool_shutdown(struct pool *p, int seconds)
{
	struct timespec nap = {0, 10 * 1000000};
	time_t end = time(NULL) + seconds;
	size_t i, left;

	for (i = 0; i < p->n; i++)
		if (p->w[i].fd >= 0) {
			close(p->w[i].fd);
			p->w[i].fd = -1;
		}
	for (;;) {
		left = 0;
		for (i = 0; i < p->n; i++) {
			struct worker *w = &p->w[i];

			if (w->pid > 0 && waitpid(w->pid, NULL, WNOHANG) != 0)
				pool_reaped(w);
			left += w->pid > 0;
		}
		if (!left)
			break;
		if (time(NULL) >= end) {
			for (i = 0; i < p->n; i++)
				if (p->w[i].pid > 0) {
					kill(p->w[i].pid, SIGKILL);
					waitpid(p->w[i].pid, NULL, 0);
					pool_reaped(&p->w[i]);
				}
			break;
		}
		nanosleep(&nap, NULL);
	}
	free(p->w);
	p->w = NULL;
	p->n = 0;
}
