#define _GNU_SOURCE
#include "cli/client.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/jobserver.h"
#include "common/frame.h"
#include "common/fsx.h"
#include "common/path.h"
#include "journal/statedir.h"
#include "server/sockpath.h"

static int verbose;

void client_set_verbose(int on)
{
	verbose = on;
}

/* Connects to the socket of sp, through its checked folder, and makes sure
 * a process of this user answers.  Returns the descriptor, -2 when nothing
 * listens there, -1 with e filled (a refusal included). */
static int try_connect(const struct sockpath *sp, struct sp_err *e)
{
	struct sockaddr_un sun;
	int fd;

	if (sp->dfd < 0)
		return -2;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sp->addr);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sp_err_sys(e, "cannot create socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		if (sockpath_check_peer(fd, sp->path, e) == 0)
			return fd;
		close(fd);
		return -1;
	}
	close(fd);
	if (errno == ENOENT || errno == ECONNREFUSED)
		return -2;
	return sp_err_sys(e, "cannot connect to '%s'", sp->path);
}

/* Nothing listens where this environment puts the socket: the coordinator
 * may run with another XDG_RUNTIME_DIR, and has recorded where it listens
 * in the state directory.  That path gets the checks of our own: its
 * folder ours and 0700, its peer of our uid.  Returns as try_connect. */
static int try_recorded(const char *state_dir, const char *computed,
			struct sp_err *e)
{
	struct sockpath sp;
	char *rec = sockpath_recorded(state_dir, e);
	int fd;

	if (!rec)
		return e->msg[0] ? -1 : -2;
	if (!strcmp(rec, computed)) {
		free(rec);
		return -2;
	}
	if (sockpath_open_path(rec, &sp, e) < 0) {
		sp_err_wrap(e, "the socket recorded in '%s/socket'", state_dir);
		free(rec);
		return -1;
	}
	fd = try_connect(&sp, e);
	if (fd >= 0 && verbose)
		fprintf(stderr,
			"spoke: the coordinator listens at '%s' (recorded in "
			"'%s/socket'), not at '%s'\n",
			rec, state_dir, computed);
	sockpath_release(&sp);
	free(rec);
	return fd;
}

/* Starts `spoke serve --daemon` detached from this process: its own
 * session, stdin and stdout on /dev/null, stderr on its log (it opens that
 * itself). */
static int spawn_coordinator(const char *state_dir, int idle_timeout,
			     pid_t *daemon_pid, struct sp_err *e)
{
	char self[4096], idle[32];
	ssize_t n;
	pid_t pid;
	int status, pfd[2];

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return sp_err_sys(e, "cannot find the spoke executable");
	self[n] = '\0';
	snprintf(idle, sizeof(idle), "%d", idle_timeout);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return sp_err_sys(e, "cannot create pipe");
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return sp_err_sys(e, "cannot fork");
	}
	if (pid == 0) {
		pid_t grandchild;
		int fd;

		setsid();
		grandchild = fork();
		if (grandchild != 0) {
			/* Tell the client which process to watch. */
			if (write(pfd[1], &grandchild, sizeof(grandchild)) < 0)
				_exit(1);
			_exit(0);
		}
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			if (fd > 2)
				close(fd);
		}
		close_range(3, ~0U, 0);
		execl(self, "spoke", "serve", "--daemon", "--state-dir",
		      state_dir, "--idle-timeout", idle, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	*daemon_pid = -1;
	while ((n = read(pfd[0], daemon_pid, sizeof(*daemon_pid))) < 0 &&
	       errno == EINTR)
		;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (*daemon_pid <= 0)
		return sp_err_set(e, "cannot start the coordinator");
	return 0;
}

/* The coordinator we started is gone without listening (its lock is
 * free): what it logged since it last started says why. */
static int coordinator_died(const char *state_dir, struct sp_err *e)
{
	char *log = path_join(state_dir, "log/coordinator.log"), *text, *why;
	size_t len = 0;

	text = log ? fsx_read_all(log, &len, NULL) : NULL;
	while (text && len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	why = text;
	if (why) {
		char *p;

		while ((p = strstr(why, " starting for '")))
			why = p + 1;
		p = strchr(why, '\n');
		why = p ? p + 1 : why + strlen(why);
		if (strncmp(why, "spoke: ", 7) == 0)
			why += 7;
	}
	sp_err_set(e, "the coordinator for '%s' exited at start: %s",
		   state_dir, why && *why ? why : "see its log");
	free(text);
	free(log);
	return -1;
}

int client_connect(const char *state_dir, int spawn, int idle_timeout,
		   struct sp_err *e)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	struct sockpath sp;
	pid_t daemon;
	int fd, i, attempt;

	if (sockpath_open(state_dir, spawn, &sp, e) < 0)
		return -1;
	if (verbose && sp.note[0])
		fprintf(stderr, "spoke: %s\n", sp.note);
	fd = try_connect(&sp, e);
	if (fd == -2)
		fd = try_recorded(state_dir, sp.path, e);
	if (fd != -2 || !spawn)
		goto out;
	/* A coordinator we start can lose the race for the lock to one that
	 * is still exiting (replaced, or idle); then the lock frees with no
	 * one listening, and we start another.  Three deaths in a row with
	 * the lock free are a coordinator that cannot start. */
	for (attempt = 0; attempt < 3; attempt++) {
		if (spawn_coordinator(state_dir, idle_timeout, &daemon, e) < 0) {
			fd = -1;
			goto out;
		}
		/* Replay runs before the coordinator listens; give it
		 * time. */
		for (i = 0; i < 3000; i++) {
			int lock_fd, got;

			fd = try_connect(&sp, e);
			if (fd != -2)
				goto out;
			nanosleep(&ts, NULL);
			if (!(kill(daemon, 0) < 0 && errno == ESRCH))
				continue;
			/* Ours exited: it lost the race to another
			 * coordinator (which listens soon, or exits) or it
			 * failed. */
			got = statedir_lock(state_dir, &lock_fd, e);
			if (got < 0) {
				fd = -1;
				goto out;
			}
			if (got == 0) {
				/* Another coordinator holds it: perhaps one
				 * started with another XDG_RUNTIME_DIR. */
				fd = try_recorded(state_dir, sp.path, e);
				if (fd != -2)
					goto out;
				continue;
			}
			close(lock_fd);
			fd = try_connect(&sp, e);
			if (fd != -2)
				goto out;
			break;
		}
		if (i == 3000)
			break;
	}
	if (attempt == 3) {
		fd = coordinator_died(state_dir, e);
		goto out;
	}
	fd = sp_err_set(e,
			"the coordinator for '%s' did not start; see "
			"'%s/log/coordinator.log'",
			state_dir, state_dir);
out:
	sockpath_release(&sp);
	return fd;
}

/* The connection ended before the result: the coordinator died, or
 * dropped this client (a message it could not read); its log says which.
 * Either way the build may have left cargo outputs staged. */
static int no_answer(struct sp_err *e)
{
	return sp_err_set(e, "the coordinator closed the connection without "
			     "an answer (see its log); run 'spoke recover'");
}

json_t *client_call(int fd, unsigned type, const json_t *req,
		    void (*on_event)(const json_t *ev, void *arg), void *arg,
		    struct sp_err *e)
{
	uint32_t t;
	json_t *msg;
	int rc;

	if (frame_send(fd, type, req, e) < 0)
		return NULL;
	for (;;) {
		rc = frame_recv(fd, &t, &msg, e);
		if (rc == 0) {
			no_answer(e);
			return NULL;
		}
		if (rc < 0)
			return NULL;
		if (t == MSG_RESULT)
			return msg;
		if (t == MSG_EVENT && on_event)
			on_event(msg, arg);
		json_decref(msg);
	}
}

static int intr_pipe[2] = {-1, -1};

static void on_interrupt(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	if (write(intr_pipe[1], &c, 1) < 0) {
		/* already pending */
	}
	errno = saved;
}

/* Sends the coordinator the number of tokens we hold for it. */
static int grant(int fd, size_t held, struct sp_err *e)
{
	json_t *m = json_pack("{s:I}", "slots", (json_int_t)held);
	int rc = frame_send(fd, MSG_GRANT, m, e);

	json_decref(m);
	return rc;
}

json_t *client_build_call(int fd, const json_t *req, struct jobserver *js,
			  void (*on_event)(const json_t *ev, void *arg),
			  void *arg, struct sp_err *e)
{
	struct sigaction sa, old[3];
	static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	json_t *res = NULL, *msg;
	size_t want = 0;
	uint32_t t;
	int i, rc;

	if (pipe2(intr_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		sp_err_sys(e, "cannot create pipe");
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	if (frame_send(fd, MSG_BUILD, req, e) < 0)
		goto out;
	for (;;) {
		struct pollfd p[3] = {
			{.fd = fd, .events = POLLIN},
			{.fd = intr_pipe[0], .events = POLLIN},
			{.fd = -1, .events = POLLIN},
		};

		if (js && js->nheld < want)
			p[2].fd = js->rfd;
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			sp_err_sys(e, "poll");
			goto out;
		}
		if (p[1].revents) {
			unsigned char sig = SIGINT;

			if (read(intr_pipe[0], &sig, 1) < 0) {
				/* use SIGINT */
			}
			/* Tokens go back before we go: make counts on them.
			 * Our socket closes with us, which cancels the
			 * build and gives its artifacts back. */
			if (js)
				jobserver_close(js);
			fprintf(stderr, "spoke: interrupted\n");
			_exit(128 + sig);
		}
		if (p[2].revents && js) {
			size_t before = js->nheld;

			while (js->nheld < want && jobserver_take(js))
				;
			if (js->nheld != before && grant(fd, js->nheld, e) < 0)
				goto out;
		}
		if (!p[0].revents)
			continue;
		rc = frame_recv(fd, &t, &msg, e);
		if (rc == 0) {
			no_answer(e);
			goto out;
		}
		if (rc < 0)
			goto out;
		if (t == MSG_RESULT) {
			res = msg;
			break;
		}
		if (t == MSG_EVENT && js &&
		    !strcmp(json_string_value(json_object_get(msg, "event"))
				    ?: "",
			    "slots")) {
			json_int_t w = json_integer_value(
				json_object_get(msg, "want"));

			want = w > 0 ? (size_t)w : 0;
			if (js->nheld > want) {
				/* Tell the coordinator first, then give
				 * back, so it never counts a token we no
				 * longer hold. */
				if (grant(fd, want, e) < 0) {
					json_decref(msg);
					goto out;
				}
				jobserver_give(js, js->nheld - want);
			}
		}
		if (t == MSG_EVENT && on_event)
			on_event(msg, arg);
		json_decref(msg);
	}
out:
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	close(intr_pipe[0]);
	close(intr_pipe[1]);
	intr_pipe[0] = intr_pipe[1] = -1;
	return res;
}

/* Names the processes this user may see that hold the file lock open, as
 * "pid N (command line)", into out. */
static void lock_holders(const char *lock, char *out, size_t cap)
{
	struct stat want, st;
	struct dirent *p, *f;
	DIR *procs, *fds;
	size_t len = 0;

	out[0] = '\0';
	if (stat(lock, &want) < 0 || !(procs = opendir("/proc")))
		return;
	while ((p = readdir(procs)) && len + 1 < cap) {
		char dir[300], link[600], cmd[80] = "";
		int found = 0, fd;

		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(dir, sizeof(dir), "/proc/%s/fd", p->d_name);
		if (!(fds = opendir(dir)))
			continue;
		while (!found && (f = readdir(fds))) {
			snprintf(link, sizeof(link), "%s/%s", dir, f->d_name);
			found = f->d_name[0] != '.' && stat(link, &st) == 0 &&
				st.st_dev == want.st_dev &&
				st.st_ino == want.st_ino;
		}
		closedir(fds);
		if (!found)
			continue;
		snprintf(link, sizeof(link), "/proc/%s/cmdline", p->d_name);
		fd = open(link, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, cmd, sizeof(cmd) - 1), i;

			for (i = 0; i < n - 1; i++)
				if (cmd[i] == '\0')
					cmd[i] = ' ';
			cmd[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		len += (size_t)snprintf(out + len, cap - len, "%spid %s (%s)",
					len ? ", " : "", p->d_name, cmd);
		if (len >= cap)
			len = cap - 1;
	}
	closedir(procs);
}

/* Reads and discards what the coordinator still sends on fd until it
 * closes its end, for up to seconds (< 0: no limit).  1 once closed, 0
 * on timeout. */
static int wait_closed(int fd, int seconds)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[256];
	int i;

	for (i = 0; seconds < 0 || i < seconds * 10; i++) {
		if (poll(&p, 1, seconds < 0 ? -1 : 100) > 0) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n == 0 ||
			    (n < 0 && errno != EINTR && errno != EAGAIN))
				return 1;
		}
	}
	return 0;
}

/* Waits up to seconds until the lock of state_dir can be taken; on
 * timeout, the error names the processes that still hold it. */
static int wait_unlocked(const char *state_dir, int seconds,
			 struct sp_err *e)
{
	char holders[1024], *lock;
	int i, got, lock_fd;

	for (i = 0; i < seconds * 50; i++) {
		got = statedir_lock(state_dir, &lock_fd, e);
		if (got < 0)
			return -1;
		if (got > 0) {
			close(lock_fd);
			return 0;
		}
		poll(NULL, 0, 20);
	}
	lock = path_join(state_dir, "lock");
	if (lock)
		lock_holders(lock, holders, sizeof(holders));
	sp_err_set(e,
		   "the coordinator for '%s' has let its clients go, but after "
		   "%d s its state lock '%s' is still held by %s",
		   state_dir, seconds, lock ? lock : "lock",
		   lock && holders[0] ? holders
				      : "a process this user cannot see");
	free(lock);
	return -1;
}

int client_wait_gone(int fd, const char *state_dir, int close_seconds,
		     int lock_seconds, struct sp_err *e)
{
	if (fd >= 0 && !wait_closed(fd, close_seconds))
		return sp_err_set(e,
				  "the coordinator for '%s' did not exit: it "
				  "kept its connection open for %d s",
				  state_dir, close_seconds);
	return wait_unlocked(state_dir, lock_seconds, e);
}
