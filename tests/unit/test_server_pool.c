/*
 * Unit tests of server/pool: pool_queue, the hand-over of a job to a busy
 * worker, over a real socketpair standing in for the worker's channel.  A
 * busy worker reads nothing until its current job is done, so a queued
 * job must be sent whole at once or not at all, and never wait.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/frame.h"
#include "server/pool.h"

struct chan {
	struct worker w;
	int peer; /* the worker's end */
};

static int setup_chan(void **state)
{
	struct chan *c = calloc(1, sizeof(*c));
	int sv[2];

	if (!c || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		free(c);
		return -1;
	}
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	c->w.fd = sv[0];
	c->w.pid = 0;
	c->peer = sv[1];
	*state = c;
	return 0;
}

static int teardown_chan(void **state)
{
	struct chan *c = *state;

	close(c->w.fd);
	close(c->peer);
	free(c);
	return 0;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A small job goes into the channel whole, as one MSG_JOB frame. */
static void test_queue_small_job(void **state)
{
	struct chan *c = *state;
	json_t *job = json_pack("{s:s}", "tmp_path", "/x/.w.spoke-tmp"), *got;
	struct sp_err e;
	uint32_t type;

	assert_int_equal(pool_queue(&c->w, job, &e), 0);
	assert_int_equal(frame_recv(c->peer, &type, &got, &e), 1);
	assert_int_equal(type, MSG_JOB);
	assert_true(json_equal(got, job));
	json_decref(got);
	json_decref(job);
}

/* A large one is not queued: nothing is sent, and it waits for a free
 * worker. */
static void test_queue_refuses_large_job(void **state)
{
	struct chan *c = *state;
	char *big = malloc(8192);
	json_t *job;
	struct sp_err e;
	char byte;

	memset(big, 'a', 8191);
	big[8191] = '\0';
	job = json_pack("{s:s}", "metadata", big);
	assert_int_equal(pool_queue(&c->w, job, &e), 1);
	assert_int_equal(recv(c->peer, &byte, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	/* pool_send, for an idle worker, sends it. */
	assert_int_equal(pool_send(&c->w, job, &e), 0);
	json_decref(job);
	free(big);
}

/* A channel that takes no byte now (the worker is busy and its buffer is
 * full): pool_queue returns at once, having sent nothing, where pool_send
 * would wait for the worker. */
static void test_queue_does_not_wait(void **state)
{
	struct chan *c = *state;
	json_t *job = json_pack("{s:s}", "tmp_path", "/x/.w.spoke-tmp");
	char fill[4096];
	struct sp_err e;
	size_t filled = 0;
	ssize_t n;
	double t0;

	memset(fill, 'f', sizeof(fill));
	while ((n = send(c->w.fd, fill, sizeof(fill), MSG_DONTWAIT)) > 0)
		filled += (size_t)n;
	assert_int_equal(errno, EAGAIN);
	while ((n = send(c->w.fd, fill, 1, MSG_DONTWAIT)) > 0)
		filled += (size_t)n;
	t0 = now_s();
	assert_int_equal(pool_queue(&c->w, job, &e), 1);
	assert_true(now_s() - t0 < 1.0);
	/* Only the filler is in the channel: no partial frame. */
	while ((n = recv(c->peer, fill, sizeof(fill), MSG_DONTWAIT)) > 0) {
		ssize_t i;

		assert_true((size_t)n <= filled);
		for (i = 0; i < n; i++)
			assert_int_equal(fill[i], 'f');
		filled -= (size_t)n;
	}
	assert_int_equal(filled, 0);
	json_decref(job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_queue_small_job, setup_chan,
					    teardown_chan),
	    cmocka_unit_test_setup_teardown(test_queue_refuses_large_job,
					    setup_chan, teardown_chan),
	    cmocka_unit_test_setup_teardown(test_queue_does_not_wait,
					    setup_chan, teardown_chan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
