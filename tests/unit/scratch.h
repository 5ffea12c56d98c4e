/*
 * scratch.h - the scratch folder of a unit test that touches files.
 *
 * Define SCRATCH_NAME ("fsx", "stamp", ...) before including it.  The
 * test group's setup_dir() makes /tmp/spoke-<SCRATCH_NAME>-XXXXXX and
 * holds it open as tmpfd, for the *_at operations; teardown_dir() closes
 * it and removes the tree; tpath() joins a name to it (malloc'd).  Header
 * only, like failing_pread.h: each test is its own program.
 */
#ifndef SPOKE_TESTS_UNIT_SCRATCH_H
#define SPOKE_TESTS_UNIT_SCRATCH_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/path.h"

#ifndef SCRATCH_NAME
#error "define SCRATCH_NAME before including scratch.h"
#endif

static char tmpdir[64];
static int tmpfd = -1;

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/spoke-%s-XXXXXX",
		 SCRATCH_NAME);
	if (!mkdtemp(tmpdir))
		return -1;
	tmpfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return tmpfd < 0 ? -1 : 0;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	close(tmpfd);
	tmpfd = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static __attribute__((unused)) char *tpath(const char *name)
{
	char *p = path_join(tmpdir, name);

	assert_non_null(p);
	return p;
}

#endif
