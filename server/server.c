/*
 * server.c - the coordinator's start-up and loop: it takes the state
 * directory, replays the journal, starts listening and the worker pool,
 * then polls its signal pipe, its socket, its clients and its workers until
 * it is stopped or idle.  What happens on each event lives in the other
 * files of server/ (coord.h).
 */
#define _GNU_SOURCE
#include "server/server.h"

#include "server/coord.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/version.h"
#include "journal/journal.h"
#include "journal/prune.h"
#include "journal/replay.h"

/* A job is queued behind a busy worker's only while its build's jobs
 * took less than this on average (job_queue, sched.c).  The tests raise it with
 * SPOKE_QUEUE_JOB_MS, to see queued jobs while SPOKE_FAULT_DELAY slows
 * the workers down. */
#define QUEUE_JOB_MS 50

/* Free pages one idle turn gives back (journal_vacuum_step). */
#define VACUUM_STEP_PAGES 128

/* The self-pipe: on_signal writes each signal's number into it, so that
 * the loop's poll() wakes for SIGCHLD (reap at the top of the loop),
 * SIGTERM and SIGINT (stop).  A file-static global, the one in server/,
 * because a signal handler has no other way to reach it. */
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a wake-up is pending anyway */
	}
	errno = saved;
}

void slog(const char *fmt, ...)
{
	char line[4096];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;
	size_t n;

	/* One write per line: stderr is unbuffered, and the log is shared
	 * with the workers. */
	gmtime_r(&t, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "[%ld] ",
			      (long)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	if (write(2, line, n) < 0) {
		/* nowhere else to say it */
	}
}

/*
 * One bounded piece of the journal's upkeep, while no build runs: a
 * pruning step (at most s->prune_rows rows of each table, one
 * transaction), else a vacuum step, else, once in the coordinator's life,
 * the conversion of a journal made before spoke pruned.  A build that
 * arrives waits for one step only.  Returns 1 while there is more to do,
 * so that the loop polls without waiting.  A failure is logged and ends
 * the upkeep until the next build: the journal is whole either way (each
 * step is one transaction).
 */
static int idle_work(struct server *s)
{
	struct sp_err e;
	int rc;

	if (!s->prune_due || s->builds || s->stopping)
		return 0;
	rc = journal_prune_step(s->j, s->keep_builds, s->prune_rows, &e);
	if (rc == 0)
		rc = journal_vacuum_step(s->j, VACUUM_STEP_PAGES, &e);
	if (rc == 0 && !s->vacuum_tried) {
		s->vacuum_tried = 1;
		rc = journal_vacuum_convert(s->j, &e);
		if (rc > 0)
			slog("journal converted to incremental vacuum");
	}
	if (rc < 0)
		slog("journal upkeep stopped until the next build: %s", e.msg);
	if (rc <= 0)
		s->prune_due = 0;
	return rc > 0;
}

/* What a poll slot belongs to: lists change while events are handled, so
 * each slot remembers its owner rather than its position. */
struct slot {
	enum { SLOT_SIGNAL, SLOT_LISTEN, SLOT_CLIENT, SLOT_WORKER } kind;
	void *p;
};

/*
 * The coordinator's loop, until it is stopped (once no build is left) or
 * has been idle for o->idle_timeout with no client and no build.  Each
 * turn first settles what happened since the last: exited workers are
 * reaped and dead clients swept (their builds fail), each followed by
 * schedule(), which finishes the builds that are done and gives free
 * workers their jobs.  Then one poll() over the signal pipe, the socket,
 * the clients and the workers, whose events are handled in turn, and a
 * last schedule() before finish_ready() takes in the wheels that came.
 */
static void serve(struct server *s)
{
	struct pollfd *pfd = NULL;
	struct slot *slot = NULL;
	size_t cap = 0;

	s->last_active = time(NULL);
	s->prune_due = 1;
	for (;;) {
		struct client *c;
		size_t n = 0, i, k;
		int more;

		reap(s);
		schedule(s);
		clients_sweep(s);
		schedule(s);
		if (s->stopping && !s->builds) {
			for (c = s->clients; c; c = c->next)
				if (c->wants_stop)
					client_send(c, MSG_RESULT,
						    json_pack("{s:s,s:b}",
							      "command", "stop",
							      "ok", 1));
			break;
		}
		if (!s->clients && !s->builds &&
		    time(NULL) - s->last_active >= s->o->idle_timeout) {
			slog("idle for %d s: exiting", s->o->idle_timeout);
			break;
		}
		/* A build that ran leaves rows to prune once it is done. */
		if (s->builds)
			s->prune_due = 1;
		more = idle_work(s);
		k = 2;
		for (c = s->clients; c; c = c->next)
			k++;
		k += s->pool.n;
		if (k > cap) {
			struct pollfd *np = realloc(pfd, k * sizeof(*pfd));
			struct slot *ns;

			if (np)
				pfd = np;
			ns = np ? realloc(slot, k * sizeof(*slot)) : NULL;
			if (!ns) {
				slog("out of memory");
				sleep(1);
				continue;
			}
			slot = ns;
			cap = k;
		}
		pfd[n] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
		slot[n++] = (struct slot){SLOT_SIGNAL, NULL};
		pfd[n] = (struct pollfd){.fd = s->stopping ? -1 : s->listen_fd,
					 .events = POLLIN};
		slot[n++] = (struct slot){SLOT_LISTEN, NULL};
		for (c = s->clients; c; c = c->next) {
			pfd[n] = (struct pollfd){
				.fd = c->fd,
				.events = (short)(POLLIN | (client_pending(c)
								    ? POLLOUT
								    : 0))};
			slot[n++] = (struct slot){SLOT_CLIENT, c};
		}
		for (i = 0; i < s->pool.n; i++) {
			if (s->pool.w[i].fd < 0)
				continue;
			pfd[n] = (struct pollfd){.fd = s->pool.w[i].fd,
						 .events = POLLIN};
			slot[n++] = (struct slot){SLOT_WORKER, &s->pool.w[i]};
		}
		if (poll(pfd, (nfds_t)n, more ? 0 : 1000) < 0 &&
		    errno != EINTR) {
			slog("poll: %s", strerror(errno));
			continue;
		}
		/* Clients and builds are only freed at the top of the loop,
		 * so every owner below is still alive. */
		for (i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			switch (slot[i].kind) {
			case SLOT_SIGNAL: {
				unsigned char sigs[64];
				ssize_t r = read(sig_pipe[0], sigs,
						 sizeof(sigs));
				ssize_t x;

				for (x = 0; x < r; x++)
					if (sigs[x] == SIGTERM ||
					    sigs[x] == SIGINT)
						s->stopping = 1;
				break;
			}
			case SLOT_LISTEN:
				client_accept(s);
				break;
			case SLOT_CLIENT:
				c = slot[i].p;
				if (!c->dead && (pfd[i].revents & POLLOUT))
					client_flush(c);
				if (!c->dead && (pfd[i].revents & ~POLLOUT))
					client_input(s, c);
				break;
			case SLOT_WORKER: {
				struct worker *w = slot[i].p;

				/* Killed since poll() if its build failed. */
				if (w->fd >= 0)
					worker_input(s, w);
				break;
			}
			}
		}
		/* Idle workers get their next jobs before the wheels that just
		 * came in are taken in, so they work while the coordinator
		 * gives back moved artifacts and flushes "done". */
		schedule(s);
		finish_ready(s);
	}
	free(pfd);
	free(slot);
	/* Stop listening before letting the remaining clients go: a client
	 * that sees us close (one waiting to replace us) must not be able to
	 * connect to a socket nobody will accept on. */
	unlink(s->sock);
	close(s->listen_fd);
	s->listen_fd = -1;
	clients_drain(s, 5);
	/* No build runs, so every worker is idle: each exits when its
	 * channel closes, before the clients waiting for stop see us go. */
	pool_shutdown(&s->pool, 5);
	/* Every worker is gone: with the journal closed, nothing of ours
	 * writes any more, so the lock goes before the clients waiting for
	 * stop see us close.  Released after them, a `spoke serve` run the
	 * moment `spoke stop` returned found it still held. */
	journal_close(s->j);
	s->j = NULL;
	close(s->lock_fd);
	s->lock_fd = -1;
	/* The clients still connected (those waiting for stop) see the
	 * socket close now. */
	while (s->clients) {
		struct client *c = s->clients;

		s->clients = c->next;
		client_release(c);
		free(c);
	}
}

int server_run(const struct server_opts *o, struct sp_err *e)
{
	struct server s;
	json_t *report = NULL;
	char *real = NULL;
	int rc = -1, bad = 0, got;
	struct sigaction sa;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.lock_fd = s.listen_fd = s.sp.dfd = -1;
	s.queue_job_ms = getenv("SPOKE_QUEUE_JOB_MS")
				 ? atol(getenv("SPOKE_QUEUE_JOB_MS"))
				 : QUEUE_JOB_MS;
	/* The crash matrices prune as hard as they can (keep one build, a
	 * row a step), so that pruning races with every kill; a coordinator
	 * a client starts gets these from the test's environment, as it
	 * gets no --keep-builds. */
	s.keep_builds = o->keep_builds > 0 ? o->keep_builds
			: getenv("SPOKE_KEEP_BUILDS")
				? atoi(getenv("SPOKE_KEEP_BUILDS"))
				: PRUNE_KEEP_BUILDS;
	if (s.keep_builds < 1)
		s.keep_builds = PRUNE_KEEP_BUILDS;
	s.prune_rows = getenv("SPOKE_PRUNE_ROWS")
			       ? atoi(getenv("SPOKE_PRUNE_ROWS"))
			       : PRUNE_STEP_ROWS;
	if (s.prune_rows < 1)
		s.prune_rows = PRUNE_STEP_ROWS;
	fault_set_role("server");
	/* Checked and opened once: every stage, give-back and replay step
	 * of this coordinator's life goes through these descriptors. */
	if (statedir_open(&s.sd, o->state_dir, 1, e) < 0)
		return -1;
	real = s.sd.path;
	s.state_dir = real;
	got = statedir_lock_held(&s.sd, &s.lock_fd, e);
	if (got <= 0) {
		statedir_release(&s.sd);
		if (got == 0)
			sp_err_set(e, "a coordinator already runs for '%s'",
				   o->state_dir);
		return got == 0 ? 1 : -1;
	}
	if (o->daemon) {
		int fd;

		/* Relative to the held state directory, like every other
		 * file spoke opens there. */
		fd = openat(s.sd.fd, "log/coordinator.log",
			    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				    O_NOFOLLOW,
			    0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
	}
	slog("coordinator %s starting for '%s'", spoke_version(), real);
	/* SQLite names the journal's files by path; journal_hold_dir makes
	 * each of its opens go through the held directory instead, so a
	 * folder above swapped since the check (possible only under a
	 * folder listed in SPOKE_SAFE_DIRECTORIES) gives it no other file.
	 * statedir_check_journal then checks the result once more. */
	journal_hold_dir(s.sd.fd, real);
	s.j = journal_open(real, e);
	if (!s.j || statedir_check_journal(&s.sd, e) < 0)
		goto out;
	/* Replay before serving anything: a crashed build's cargo outputs go
	 * back first. */
	report = json_array();
	if (replay_all(s.j, &s.sd, 0, NULL, 0, report, &bad, e) < 0) {
		sp_err_wrap(e, "replay");
		goto out;
	}
	{
		size_t i;

		for (i = 0; i < json_array_size(report); i++) {
			char *line = json_dumps(json_array_get(report, i),
						JSON_COMPACT);

			slog("replay: %s", line ? line : "?");
			free(line);
		}
	}
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		sp_err_sys(e, "cannot create pipe");
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pool_init(&s.pool, (size_t)o->jobs, s.lock_fd, e) < 0 ||
	    listen_on(&s, e) < 0)
		goto out;
	slog("listening on '%s'", s.sp.path);
	serve(&s);
	rc = 0;
out:
	if (s.sock && s.listen_fd >= 0)
		unlink(s.sock);
	if (s.listen_fd >= 0)
		close(s.listen_fd);
	if (s.pool.w)
		pool_shutdown(&s.pool, 5);
	journal_close(s.j);
	journal_hold_dir(-1, NULL);
	free(s.done);
	json_decref(report);
	sockpath_release(&s.sp);
	statedir_release(&s.sd);
	if (s.lock_fd >= 0)
		close(s.lock_fd);
	return rc;
}
