/*
 * fuzz_artifacts.c - libFuzzer harness for cli/project/artifacts: artifacts_parse()
 * on arbitrary text, as `spoke build --artifacts FILE.json` parses the file
 * it has read.
 *
 * The parser stats and resolves every path, so the harness gives it a
 * directory of its own with a few entries for the inputs to name (a.so,
 * b.so, lib/c.so, link.so -> a.so, and dir.so, a directory): entries that
 * pass the field checks then reach the path, duplicate and symlink checks
 * too, exactly as a user's file does.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/project/artifacts.h"
#include "common/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void remove_dir(void)
{
	static const char *const names[] = {"link.so", "lib/c.so", "lib",
					    "dir.so", "b.so", "a.so"};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) < 0)
			rmdir(path);
	}
	rmdir(dir);
}

static void touch(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	close(fd);
}

/* Made once per process: replay_main.c calls no LLVMFuzzerInitialize. */
static void make_dir(void)
{
	char path[128];

	snprintf(dir, sizeof(dir), "%s", "/tmp/spoke-fuzz-artifacts.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(remove_dir);
	touch("a.so");
	touch("b.so");
	snprintf(path, sizeof(path), "%s/lib", dir);
	if (mkdir(path, 0755) < 0)
		abort();
	touch("lib/c.so");
	snprintf(path, sizeof(path), "%s/dir.so", dir);
	if (mkdir(path, 0755) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/link.so", dir);
	if (symlink("a.so", path) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_err e;
	json_t *jobs, *job;
	size_t i;

	if (!dir[0])
		make_dir();
	sp_err_clear(&e);
	jobs = artifacts_parse((const char *)data, size, "fuzz.json", dir,
			       size % 2 ? ARTIFACTS_DECLARED : ARTIFACTS_BUILD,
			       &e);
	if (!jobs) {
		/* Every refusal says why. */
		if (!e.msg[0])
			abort();
		return 0;
	}
	/* What the parser accepts is what the coordinator is sent: each job
	 * names an absolute, resolved path and the fields it checked. */
	if (json_array_size(jobs) == 0 ||
	    json_array_size(jobs) > BUILD_MAX_ARTIFACTS)
		abort();
	json_array_foreach(jobs, i, job)
	{
		const char *p =
		    json_string_value(json_object_get(job, "cargo_path"));

		if (!p || p[0] != '/' ||
		    !json_is_string(json_object_get(job, "distribution")) ||
		    !json_is_string(json_object_get(job, "version")) ||
		    !json_is_string(json_object_get(job, "module")) ||
		    !json_is_array(json_object_get(job, "linked_paths")))
			abort();
	}
	json_decref(jobs);
	return 0;
}
