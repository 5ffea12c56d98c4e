/*
 * control.c - the coordinator's client connections: the listening socket,
 * each client's framed requests and the queue of frames it has not read
 * yet, and the requests that are not builds (status, recover, stop).
 */
#define _GNU_SOURCE
#include "server/coord.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "journal/journal.h"
#include "journal/prune.h"
#include "journal/replay.h"

/* A client may leave this many bytes unread (beyond what its socket
 * holds) before it counts as gone: one that does not read must not hold up
 * the coordinator, nor grow its queue without end.  A queue under the
 * limit always takes one more frame, however large, so a result never
 * loses its client; only a peer that has stopped reading falls this far
 * behind. */
#define CLIENT_QUEUE_MAX (8u << 20)

int client_pending(const struct client *c)
{
	return c->out_off < c->out_len;
}

/* Writes as much of c's queue as its socket takes now, without waiting;
 * the rest goes when poll() finds the socket writable.  A client that
 * cannot be written to is dropped. */
void client_flush(struct client *c)
{
	while (client_pending(c)) {
		ssize_t w = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				if (!c->dead)
					slog("client %d: cannot send message: "
					     "%s",
					     c->fd, strerror(errno));
				c->dead = 1;
			}
			return;
		}
		c->out_off += (size_t)w;
	}
	free(c->out);
	c->out = NULL;
	c->out_off = c->out_len = c->out_cap = 0;
}

/* Queues a frame for a client and writes what its socket takes at once.
 * Never blocks: a client that stopped reading only grows its own queue,
 * and past CLIENT_QUEUE_MAX it is dropped, its build cancelled as if it
 * had gone away. */
void client_send(struct client *c, uint32_t type, json_t *obj)
{
	struct sp_err e;
	uint8_t *frame = NULL, *nb;
	size_t len;

	if (!c || c->dead || !obj)
		goto out;
	if (c->out_len - c->out_off > CLIENT_QUEUE_MAX) {
		slog("client %d dropped: it left more than %u bytes unread",
		     c->fd, CLIENT_QUEUE_MAX);
		c->gone = "client stopped reading its messages";
		c->dead = 1;
		goto out;
	}
	if (frame_encode(type, obj, &frame, &len, &e) < 0) {
		slog("client %d: %s", c->fd, e.msg);
		c->dead = 1;
		goto out;
	}
	/* Move the unwritten bytes to the front once the written ones are
	 * the larger part: each byte is moved O(1) times on average. */
	if (c->out_off > 0 && c->out_off >= c->out_len - c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_cap - c->out_len < len) {
		size_t ncap = c->out_cap ? 2 * c->out_cap : len;

		if (ncap < c->out_len + len)
			ncap = c->out_len + len;
		nb = realloc(c->out, ncap);
		if (!nb) {
			slog("client %d: out of memory", c->fd);
			c->dead = 1;
			goto out;
		}
		c->out = nb;
		c->out_cap = ncap;
	}
	memcpy(c->out + c->out_len, frame, len);
	c->out_len += len;
	client_flush(c);
out:
	free(frame);
	json_decref(obj);
}

/* Sends ev to b's client, if it is still there and wants it: a quiet
 * client (one that prints nothing but the result) gets only the "slots"
 * its jobserver needs, which spares both sides two messages per wheel. */
void client_event(struct build *b, json_t *ev)
{
	const char *kind = json_string_value(json_object_get(ev, "event"));

	if (b->client && (!b->quiet || (kind && !strcmp(kind, "slots"))))
		client_send(b->client, MSG_EVENT, ev);
	else
		json_decref(ev);
}

/* Replays what no running build holds, acknowledges the losses the
 * request names ("forget": [paths], "forget_lost": true), and answers with
 * the outcomes and the losses still reported. */
static void client_recover(struct server *s, struct client *c,
			   const json_t *req)
{
	int64_t *skip = NULL;
	size_t nskip = 0, n = 0;
	struct build *b;
	struct sp_err e;
	json_t *report = json_array(), *res, *losses = NULL;
	json_t *forget = json_object_get(req, "forget");
	int bad = 0, rc;

	/* Every running build is skipped, however many there are: a build
	 * left out would have its staged artifacts put back or dropped under
	 * its workers.  Without the list nothing is replayed. */
	for (b = s->builds; b; b = b->next)
		n++;
	if (n && !(skip = calloc(n, sizeof(*skip)))) {
		rc = sp_err_set(&e, "recover: out of memory for the list of "
				    "%zu running builds; nothing was replayed",
				n);
	} else {
		for (b = s->builds; b; b = b->next)
			skip[nskip++] = b->id;
		rc = replay_all(s->j, &s->sd, 0, skip, nskip, report, &bad,
				&e);
		free(skip);
	}
	if (rc == 0 &&
	    (json_array_size(forget) ||
	     json_is_true(json_object_get(req, "forget_lost"))) &&
	    replay_forget(s->j, forget, json_is_true(json_object_get(
						req, "forget_lost")),
			  &e) < 0)
		rc = -1;
	if (rc == 0 && !(losses = replay_losses(s->j, 1, &e)))
		rc = -1;
	res = json_pack("{s:s,s:b,s:o,s:o}", "command", "recover", "ok",
			rc == 0 && bad == 0 && json_array_size(losses) == 0,
			"artifacts", report, "losses",
			losses ? losses : json_array());
	if (rc < 0)
		json_object_set_new(res, "error", json_string(e.msg));
	client_send(c, MSG_RESULT, res);
}

static void client_status(struct server *s, struct client *c)
{
	json_t *builds = json_array(), *pending, *losses, *journal = NULL;
	struct build *b;
	struct sp_err e;

	size_t queued = 0;

	for (b = s->builds; b; b = b->next) {
		size_t i, running = 0, waiting = 0, done = 0;

		for (i = 0; i < b->njobs; i++) {
			running += b->jobs[i].w && !b->jobs[i].queued;
			waiting += b->jobs[i].queued;
			done += b->jobs[i].settled;
		}
		queued += waiting;
		json_array_append_new(
			builds,
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:b}", "build",
				  (json_int_t)b->id, "artifacts",
				  (json_int_t)b->njobs, "running",
				  (json_int_t)running, "queued",
				  (json_int_t)waiting, "done",
				  (json_int_t)done, "staged", b->staged));
	}
	pending = journal_status(s->j, &e);
	losses = pending ? replay_losses(s->j, 1, &e) : NULL;
	{
		struct journal_space sp;
		struct sp_err ignored;

		/* Four pragmas: cheap enough for every status. */
		if (journal_space(s->j, &sp, &ignored) == 0)
			journal = json_pack("{s:I,s:I,s:i}", "bytes",
					    (json_int_t)sp.bytes, "free_bytes",
					    (json_int_t)sp.free_bytes,
					    "keep_builds", s->keep_builds);
	}
	client_send(c, MSG_RESULT,
		    json_pack("{s:s,s:b,s:b,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o*}",
			      "command", "status", "ok", losses != NULL,
			      "coordinator", 1, "pid", (json_int_t)getpid(),
			      "workers", (json_int_t)s->busy, "queued",
			      (json_int_t)queued, "idle",
			      (json_int_t)(pool_live(&s->pool) -
					   (size_t)s->busy),
			      "builds", builds,
			      "unsettled", pending ? pending : json_array(),
			      "losses", losses ? losses : json_array(),
			      "journal", journal));
}

void client_input(struct server *s, struct client *c)
{
	struct sp_err e;
	uint32_t type;
	json_t *msg;
	long n;
	int rc = 0;

	n = frame_reader_fill(&c->rd, c->fd, &e);
	if (n == -2)
		return;
	if (n <= 0) {
		c->dead = 1;
		return;
	}
	/* A client dropped by a reply (one that stopped reading) gets no
	 * more of its requests handled. */
	while (!c->dead &&
	       (rc = frame_reader_next(&c->rd, &type, &msg, &e)) > 0) {
		s->last_active = time(NULL);
		switch (type) {
		case MSG_BUILD:
			client_build(s, c, msg);
			break;
		case MSG_RECOVER:
			client_recover(s, c, msg);
			break;
		case MSG_STATUS:
			client_status(s, c);
			break;
		case MSG_STOP:
			s->stopping = 1;
			c->wants_stop = 1;
			break;
		case MSG_GRANT: {
			json_int_t slots = json_integer_value(
				json_object_get(msg, "slots"));

			if (c->build && slots >= 0 && slots <= 4096)
				c->build->granted = (int)slots;
			break;
		}
		default:
			rc = sp_err_set(&e, "bad message: unexpected type %u",
					type);
			break;
		}
		json_decref(msg);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		/* A peer that breaks the protocol is dropped; the others
		 * carry on. */
		slog("client %d dropped: %s", c->fd, e.msg);
		client_send(c, MSG_RESULT,
			    json_pack("{s:b,s:s}", "ok", 0, "error", e.msg));
		c->dead = 1;
	}
}

void client_accept(struct server *s)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	int fd;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		slog("refused a connection whose peer cannot be read: %s",
		     strerror(errno));
		close(fd);
		return;
	}
	if (cred.uid != geteuid()) {
		slog("refused a connection from uid %u", (unsigned)cred.uid);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	frame_reader_init(&c->rd);
	c->next = s->clients;
	s->clients = c;
	s->last_active = time(NULL);
}

/* Closes c's connection and frees what it holds, not c itself. */
void client_release(struct client *c)
{
	close(c->fd);
	frame_reader_release(&c->rd);
	free(c->out);
}

void clients_sweep(struct server *s)
{
	struct client **pp, *c;

	for (pp = &s->clients; (c = *pp);) {
		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		if (c->build) {
			/* The client went away (Ctrl-C), or stopped reading:
			 * cancel its build and give its artifacts back now. */
			c->build->client = NULL;
			build_fail(s, c->build, "%s",
				   c->gone ? c->gone : "client disconnected");
		}
		/* What is left for a peer dropped for a bad frame (the
		 * error saying why) goes if its socket takes it now. */
		if (!c->gone)
			client_flush(c);
		*pp = c->next;
		client_release(c);
		free(c);
	}
}

int listen_on(struct server *s, struct sp_err *e)
{
	struct sockaddr_un sun;
	mode_t old;

	if (sockpath_open(s->state_dir, 1, &s->sp, e) < 0)
		return -1;
	if (s->sp.note[0])
		slog("%s", s->sp.note);
	s->sock = s->sp.addr;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s->sock);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
					       SOCK_NONBLOCK,
			      0);
	if (s->listen_fd < 0)
		return sp_err_sys(e, "cannot create socket");
	/* We hold the state directory's lock, so a socket file left at our
	 * path is a dead coordinator's. */
	unlink(s->sock);
	old = umask(0177);
	if (bind(s->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		return sp_err_sys(e, "cannot bind '%s'", s->sp.path);
	}
	umask(old);
	if (listen(s->listen_fd, 64) < 0)
		return sp_err_sys(e, "cannot listen on '%s'", s->sp.path);
	/* A client started with another XDG_RUNTIME_DIR computes another
	 * path: the state directory, which both agree on, says ours. */
	return sockpath_record(s->sd.fd, s->state_dir, s->sp.path, e);
}

/* Before exiting: gives the clients up to seconds to take what is queued
 * for them (the last results, the answer to stop), without waiting
 * longer on one that does not read. */
void clients_drain(struct server *s, int seconds)
{
	time_t end = time(NULL) + seconds;
	struct client *c;

	for (c = s->clients; c; c = c->next) {
		while (!c->dead && client_pending(c)) {
			struct pollfd p = {.fd = c->fd, .events = POLLOUT};
			time_t left = end - time(NULL);
			int rc;

			if (left <= 0)
				return;
			rc = poll(&p, 1, (int)left * 1000);
			if (rc < 0 && errno == EINTR)
				continue;
			if (rc <= 0)
				return;
			client_flush(c);
		}
	}
}
