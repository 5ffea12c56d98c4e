/*
 * earlycargo.c - cargo started with the last build's command, kept only
 * when this build's turns out the same.
 */
#define _GNU_SOURCE
#include "cli/project/earlycargo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/project/cache.h"

#define KIND "cargo-early"

/* The entry's key: what it holds is compared before use, so the key only
 * names the form. */
static json_t *entry_key(void)
{
	return json_string("cargo build command 1");
}

static int debug(void)
{
	const char *d = getenv("SPOKE_CACHE_DEBUG");

	return d && *d && strcmp(d, "0") != 0;
}

void earlycargo_start(struct earlycargo *ec, const char *asked,
		      const char *interpreter)
{
	struct sp_err e;
	json_t *key;
	char *cwd;

	memset(ec, 0, sizeof(*ec));
	ec->run.p.pid = -1;
	ec->run.p.out_fd = ec->run.p.err_fd = -1;
	if (!asked || isatty(STDERR_FILENO))
		return;
	cwd = getcwd(NULL, 0);
	if (!cwd || asprintf(&ec->slot, "%s\n%s\n%s", cwd, asked,
			     interpreter ? interpreter : "python3") < 0)
		ec->slot = NULL;
	free(cwd);
	if (!ec->slot)
		return;
	key = entry_key();
	ec->cmd = key ? cache_get(KIND, ec->slot, key) : NULL;
	json_decref(key);
	if (!ec->cmd)
		return;
	if (cargo_run_start(&ec->run, ec->cmd, 1, &e) < 0) {
		json_decref(ec->cmd);
		ec->cmd = NULL;
		return;
	}
	ec->running = 1;
	if (debug())
		fprintf(stderr, "spoke: cargo started early\n");
}

int earlycargo_take(struct earlycargo *ec, const json_t *cmd,
		    struct cargo_run *run)
{
	int same = ec->cmd && json_equal(ec->cmd, cmd), taken = 0;
	json_t *key;

	if (ec->running && same) {
		*run = ec->run;
		ec->running = 0;
		taken = 1;
		if (debug())
			fprintf(stderr, "spoke: cargo's early start kept\n");
	} else if (ec->running) {
		cargo_run_cancel(&ec->run);
		ec->running = 0;
		if (debug())
			fprintf(stderr, "spoke: cargo's early start stopped: "
					"this build's command differs\n");
	}
	if (ec->slot && !same && (key = entry_key())) {
		cache_put(KIND, ec->slot, key, cmd);
		json_decref(key);
	}
	return taken;
}

void earlycargo_release(struct earlycargo *ec)
{
	if (ec->running) {
		cargo_run_cancel(&ec->run);
		ec->running = 0;
		if (debug())
			fprintf(stderr, "spoke: cargo's early start stopped\n");
	}
	json_decref(ec->cmd);
	ec->cmd = NULL;
	free(ec->slot);
	ec->slot = NULL;
}
