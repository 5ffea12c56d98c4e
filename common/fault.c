#include "common/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *role = "cli";
static unsigned long count;
static int inited;
static const char *log_path;
static char crash_role[32];
static unsigned long crash_at;
static char delay_role[32];
static long delay_ms;
static int fixed_names;
static int wrong_job;

/* Parses "ROLE:N" into role (of size 32) and N; 0 when malformed. */
static long parse_spec(const char *spec, char *r)
{
	const char *colon;

	if (!spec || !(colon = strchr(spec, ':')) ||
	    (size_t)(colon - spec) >= 32)
		return 0;
	memcpy(r, spec, (size_t)(colon - spec));
	r[colon - spec] = '\0';
	return strtol(colon + 1, NULL, 10);
}

static void fault_init(void)
{
	long n;

	inited = 1;
	log_path = getenv("SPOKE_FAULT_LOG");
	n = parse_spec(getenv("SPOKE_CRASH_AT"), crash_role);
	crash_at = n > 0 ? (unsigned long)n : 0;
	n = parse_spec(getenv("SPOKE_FAULT_DELAY"), delay_role);
	delay_ms = n > 0 ? n : 0;
	fixed_names = getenv("SPOKE_FAULT_FIXED_NAMES") != NULL;
	wrong_job = getenv("SPOKE_FAULT_WRONG_JOB") != NULL;
}

uint64_t fault_job_id(uint64_t id)
{
	if (!inited)
		fault_init();
	return wrong_job ? id + 1 : id;
}

int fault_fixed_names(void)
{
	if (!inited)
		fault_init();
	return fixed_names;
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
	if (!log_path && !crash_at && !delay_ms)
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
	if (delay_ms && strcmp(role, delay_role) == 0) {
		struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000};

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}
