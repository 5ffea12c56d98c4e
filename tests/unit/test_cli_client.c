/*
 * Unit tests of cli/client: client_wait_gone, which `spoke stop` uses to
 * return only once the state lock is free, with a real lock held by a
 * real child process, and over a real socket.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/client.h"
#include "journal/statedir.h"

static char base[64];

static int setup(void **state)
{
	struct sp_err e;

	(void)state;
	snprintf(base, sizeof(base), "/tmp/spoke-unit-client.XXXXXX");
	if (!mkdtemp(base))
		return -1;
	strcat(base, "/state");
	return statedir_prepare(base, &e);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	*strrchr(base, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

/* A free lock: returns at once. */
static void test_lock_free(void **state)
{
	struct sp_err e;

	(void)state;
	assert_int_equal(client_wait_gone(-1, base, 0, 1, &e), 0);
}

/* A lock a process keeps: gives up after the bound and names it. */
static void test_lock_held(void **state)
{
	struct sp_err e;
	char want[32];
	int pfd[2], fd;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c = 1;

		if (statedir_lock(base, &fd, &e) != 1)
			_exit(1);
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	{
		char c;

		assert_int_equal(read(pfd[0], &c, 1), 1);
	}
	close(pfd[0]);
	assert_int_equal(client_wait_gone(-1, base, 0, 1, &e), -1);
	snprintf(want, sizeof(want), "held by pid %d (", (int)pid);
	assert_non_null(strstr(e.msg, want));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* Gone with its holder: free again. */
	assert_int_equal(client_wait_gone(-1, base, 0, 1, &e), 0);
}

/* The connection first: what the coordinator still sends is read past,
 * and its close (then the free lock) ends the wait. */
static void test_connection_closes(void **state)
{
	struct sp_err e;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "bye", 3), 3);
	close(sv[1]);
	assert_int_equal(client_wait_gone(sv[0], base, 1, 1, &e), 0);
	close(sv[0]);
}

/* A connection kept open: gives up after its bound, saying so. */
static void test_connection_kept(void **state)
{
	struct sp_err e;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(client_wait_gone(sv[0], base, 1, 1, &e), -1);
	assert_non_null(strstr(e.msg, "did not exit"));
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_free),
		cmocka_unit_test(test_lock_held),
		cmocka_unit_test(test_connection_closes),
		cmocka_unit_test(test_connection_kept),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
