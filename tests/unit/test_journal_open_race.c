/*
 * Regression test: processes opening a fresh journal at the same time.
 *
 * `spoke status` opens the journal without the state directory's lock
 * (readers need none), so it can create the schema while a coordinator
 * starting for the same state directory does too.  migrate() used to read
 * the schema version before taking the write lock, so the slower of the
 * two applied the first migration again and the coordinator refused to
 * start with "table builds already exists", calling the journal unusable.
 * Found by tests/integration/t_faults.sh, which polls `spoke status` while
 * a coordinator starts.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal/journal.h"

#define ROUNDS 20
#define OPENERS 6

static void test_concurrent_first_open(void **state)
{
	char dir[64], cmd[128];
	int round, i, failures = 0;

	(void)state;
	for (round = 0; round < ROUNDS; round++) {
		pid_t pids[OPENERS];

		strcpy(dir, "/tmp/spoke-jrace-XXXXXX");
		assert_non_null(mkdtemp(dir));
		for (i = 0; i < OPENERS; i++) {
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] == 0) {
				struct sp_err e;
				struct journal *j = journal_open(dir, &e);

				if (!j) {
					fprintf(stderr, "journal_open: %s\n",
						e.msg);
					_exit(1);
				}
				journal_close(j);
				_exit(0);
			}
		}
		for (i = 0; i < OPENERS; i++) {
			int status;

			assert_true(waitpid(pids[i], &status, 0) == pids[i]);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				failures++;
		}
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_first_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
