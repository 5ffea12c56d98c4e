#include "fault.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *role = "cli";
static unsigned long count;
static int inited;
static const char *log_path;
static char crash_role[32];
static unsigned long crash_at;

static void fault_init(void)
{
	const char *spec;
	const char *colon;

	inited = 1;
	log_path = getenv("SPOKE_FAULT_LOG");
	spec = getenv("SPOKE_CRASH_AT");
	if (spec && (colon = strchr(spec, ':')) &&
	    (size_t)(colon - spec) < sizeof(crash_role)) {
		memcpy(crash_role, spec, (size_t)(colon - spec));
		crash_role[colon - spec] = '\0';
		crash_at = strtoul(colon + 1, NULL, 10);
	}
}

void fault_set_role(const char *r)
{
	if (!inited)
		fault_init();
	role = r;
	count = 0;
}

void fault_point(const char *name)
{
	char line[256];
	int fd, n;

	if (!inited)
		fault_init();
	if (!log_path && !crash_at)
		return;
	count++;
	if (log_path) {
		/* O_APPEND writes of one short line are atomic between the
		 * coordinator and its workers. */
		n = snprintf(line, sizeof(line), "%s %lu %s %ld\n", role, count,
			     name, (long)getpid());
		fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			  0600);
		if (fd >= 0) {
			if (write(fd, line, (size_t)n) < 0) {
				/* nothing to do: the log is best effort */
			}
			close(fd);
		}
	}
	if (crash_at && count == crash_at && strcmp(role, crash_role) == 0)
		kill(getpid(), SIGKILL);
}
